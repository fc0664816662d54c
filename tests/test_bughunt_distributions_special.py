"""Bug hunt in the session's distributions, special functions and windows: property-based
cross-checks against PyTorch 2.13 and mpmath, at the edges of the supports, plus the
regression examples of the bugs it found (``GDL_CROSSCHECK_EXAMPLES`` for a longer search)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mpmath = pytest.importorskip("mpmath")
import torch.distributions as TD  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import gdl  # noqa: E402
import gdl.distributions as GD  # noqa: E402
from gdl import special as S  # noqa: E402
from tests.torch_support import SETTINGS  # noqa: E402

mpmath.mp.dps = 40
F64 = gdl.float64


def g(a, dtype=F64, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=grad)


def t(a, dtype=torch.float64, grad=False):
    out = torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    return out.requires_grad_(True) if grad else out


def quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


# -- regressions ---------------------------------------------------------------------------------


def test_bessel_y_and_k_at_the_smallest_subnormal():
    """``log(0.5 * x)`` underflowed to ``log(0)`` at x = 5e-324: Y₀ was −inf (PyTorch and mpmath:
    −473.999), Y₁ NaN (PyTorch: −inf), K₀ inf (mpmath: 744.556), K₁ NaN."""
    x = g([5e-324, 1e-323])
    y0 = quiet(S.bessel_y0, x).numpy()
    np.testing.assert_allclose(y0, [float(mpmath.bessely(0, 5e-324)), float(mpmath.bessely(0, 1e-323))], rtol=1e-14)
    assert quiet(S.bessel_y1, x).numpy().tolist() == [-np.inf, -np.inf]
    k0 = quiet(S.modified_bessel_k0, x).numpy()
    np.testing.assert_allclose(k0, [float(mpmath.besselk(0, 5e-324)), float(mpmath.besselk(0, 1e-323))], rtol=1e-14)
    np.testing.assert_allclose(quiet(S.scaled_modified_bessel_k0, x).numpy(), k0, rtol=1e-14)
    assert quiet(S.modified_bessel_k1, x).numpy().tolist() == [np.inf, np.inf]
    assert quiet(S.scaled_modified_bessel_k1, x).numpy().tolist() == [np.inf, np.inf]


def test_gammainc_relative_accuracy_for_x_much_below_a():
    """For a >= 10 the prefactor used ``log1p(x/a − 1)``, which for x << a has lost the digits of
    x/a: P(55.87, 2.1e-4) = 5.04e-281 had relative error 8e-10 (documented: about 2e-13)."""
    for a, x in [(55.87497231642183, 0.00020854867385455361), (20.0, 1e-3), (1000.0, 1.0), (12.0, 1e-250)]:
        ours = S.gammainc(g(a), g(x)).item()
        exact = float(mpmath.gammainc(a, 0, x, regularized=True))
        assert abs(ours - exact) <= 2e-13 * abs(exact), (a, x, ours, exact)
        dq = S.gammaincc(g(a), g(x)).item()
        assert dq == 1.0


def test_geometric_with_very_negative_logits_matches_torch():
    """gdl.sigmoid was 0.5·(1 + tanh(x/2)), 0 at -40: this log_prob was -inf (torch: -40)."""
    ours = GD.Geometric(logits=g(-40.0)).log_prob(g(0.0)).item()
    theirs = TD.Geometric(logits=t(-40.0)).log_prob(t(0.0)).item()
    assert ours == pytest.approx(theirs, rel=1e-12)


# -- special functions against mpmath --------------------------------------------------------------

_BESSEL = {
    "bessel_j0": lambda x: mpmath.besselj(0, x), "bessel_j1": lambda x: mpmath.besselj(1, x),
    "bessel_y0": lambda x: mpmath.bessely(0, x), "bessel_y1": lambda x: mpmath.bessely(1, x),
    "modified_bessel_i0": lambda x: mpmath.besseli(0, x), "modified_bessel_i1": lambda x: mpmath.besseli(1, x),
    "modified_bessel_k0": lambda x: mpmath.besselk(0, x), "modified_bessel_k1": lambda x: mpmath.besselk(1, x),
    "scaled_modified_bessel_k0": lambda x: mpmath.besselk(0, x) * mpmath.exp(x),
    "scaled_modified_bessel_k1": lambda x: mpmath.besselk(1, x) * mpmath.exp(x),
    "spherical_bessel_j0": lambda x: mpmath.sin(x) / x, "airy_ai": mpmath.airyai,
}
_OSCILLATING = {"bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0", "airy_ai"}
_POSITIVE_ONLY = {"bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                  "scaled_modified_bessel_k1"}


@SETTINGS(6)
@given(name=st.sampled_from(sorted(_BESSEL)), exponent=st.floats(-300, 3), negative=st.booleans(),
       single=st.booleans())
def test_bessel_and_airy_against_mpmath(name, exponent, negative, single):
    x = 10.0 ** exponent * (-1 if negative and name not in _POSITIVE_ONLY else 1)
    if name == "airy_ai" and x < -2:
        x = max(x, -300.0)
    if single:
        x = float(np.float32(x))
        if x == 0 or not np.isfinite(x):
            return
    ours = quiet(getattr(S, name), g([x], dtype=gdl.float32 if single else F64)).numpy().astype(float)[0]
    exact = float(_BESSEL[name](mpmath.mpf(x)))
    eps = 6e-8 if single else 1e-16
    if single and (abs(exact) > 3e38 or abs(exact) < 1e-37):
        return
    if not np.isfinite(exact):
        assert ours == exact
        return
    # oscillating functions: relative error away from zeros, absolute error (scaled by the envelope) near them
    envelope = 1.0 if name not in _OSCILLATING else max(1e-300, min(1.0, abs(x) ** -0.5))
    scale = abs(exact) if name not in _OSCILLATING else max(abs(exact), envelope)
    tol = 2000 * eps if name == "airy_ai" and x < -2 else 50 * eps
    if name == "airy_ai" and x < -2:
        tol = max(tol, 3 * eps * abs(x) ** 1.5)
    assert abs(ours - exact) <= tol * scale, (name, x, ours, exact)


@SETTINGS(8)
@given(a_exp=st.floats(-3, 4), ratio_exp=st.floats(-4, 1.3))
def test_gammainc_against_mpmath(a_exp, ratio_exp):
    a = 10.0 ** a_exp
    x = a * 10.0 ** ratio_exp
    p, q = S.gammainc(g(a), g(x)).item(), S.gammaincc(g(a), g(x)).item()
    with mpmath.workdps(40):
        try:
            ep = float(mpmath.gammainc(a, 0, x, regularized=True))
            eq = float(mpmath.gammainc(a, x, mpmath.inf, regularized=True))
        except mpmath.libmp.NoConvergence:
            return
    assert abs(p - ep) <= 1e-12 * abs(ep) + 1e-300, (a, x, p, ep)
    tol_q = 1e-12 * abs(eq) + (1e-16 if x < a + 1 else 1e-300)  # documented: Q = 1 − P there (absolute)
    assert abs(q - eq) <= tol_q, (a, x, q, eq)
    # against torch too (both float64; torch's is good to about 2e-9 relative, gdl's to 1e-12 above)
    tp = torch.special.gammainc(t(a), t(x)).item()
    assert abs(p - tp) <= 1e-8 * abs(tp) + 1e-300


_POLYS = sorted(n for n in dir(S) if n.endswith("_polynomial_t") or "polynomial" in n)


@SETTINGS(8)
@given(name=st.sampled_from(_POLYS), n=st.lists(st.integers(-4, 12), min_size=1, max_size=4),
       x=st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=3), float_n=st.booleans(), single=st.booleans())
def test_orthogonal_polynomials_broadcast_against_torch(name, n, x, float_n, single):
    xs = np.array(x)[:, None]
    ns = np.array(n, dtype=np.float64 if float_n else np.int64)[None, :]
    gd, td = (gdl.float32, torch.float32) if single else (F64, torch.float64)
    gn = gdl.tensor(ns, dtype=gdl.float64 if float_n else gdl.int64)
    ours = getattr(S, name)(gdl.tensor(xs, dtype=gd), gn)
    theirs = getattr(torch.special, name)(torch.tensor(xs, dtype=td), torch.tensor(ns))
    assert ours.shape == tuple(theirs.shape)
    tol = dict(rtol=2e-4, atol=2e-3) if single else dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), **tol)


@SETTINGS(6)
@given(name=st.sampled_from(["bessel_j0", "bessel_y1", "modified_bessel_k1", "modified_bessel_i1", "airy_ai",
                             "spherical_bessel_j0", "scaled_modified_bessel_k0"]), x=st.floats(0.05, 40))
def test_special_gradients_against_finite_differences(name, x):
    xt = g([x], grad=True)
    getattr(S, name)(xt).sum().backward()
    h = 1e-6 * max(1.0, x)
    f = getattr(S, name)
    fd = (f(g([x + h])).item() - f(g([x - h])).item()) / (2 * h)
    assert abs(xt.grad.numpy()[0] - fd) <= 1e-6 * max(1.0, abs(fd)), (name, x)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, n, periodic):
    for gd, td in [(F64, torch.float64), (gdl.float32, torch.float32)]:
        ours, theirs = getattr(gdl, name)(n, periodic, dtype=gd), getattr(torch, name)(n, periodic, dtype=td)
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype).endswith(str(theirs.dtype).split(".")[-1])
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


# -- distributions ---------------------------------------------------------------------------------

_POS = st.sampled_from([1e-6, 1e-3, 0.3, 1.0, 2.5, 1e3, 1e6])
_PROB = st.sampled_from([0.0, 1e-12, 0.3, 0.5, 1 - 1e-9, 1.0])
_LOGIT = st.sampled_from([-30.0, -10.0, -3.0, 0.0, 3.0, 10.0, 30.0])


def _family(draw):
    kind = draw(st.sampled_from(["gamma", "beta", "chi2", "student", "poisson", "binomial", "binomial_logits",
                                 "negbin_probs", "weibull", "pareto", "gumbel", "lognormal", "halfcauchy"]))
    a, b = draw(_POS), draw(_POS)
    n = float(draw(st.integers(0, 20)))
    p, lg = draw(_PROB), draw(_LOGIT)
    builds = {
        "gamma": (lambda D, c: D.Gamma(c([a, b]), c([[b], [a]])), [0.0, 1e-3, 1.0, 50.0]),
        "beta": (lambda D, c: D.Beta(c([a, b]), c(b)), [0.0, 1e-9, 0.5, 1.0]),
        "chi2": (lambda D, c: D.Chi2(c([a, b])), [0.0, 1e-3, 1.0, 50.0]),
        "student": (lambda D, c: D.StudentT(c([a, b]), c(0.5), c([[1.0], [b]])), [-3.0, 0.0, 1e4]),
        "poisson": (lambda D, c: D.Poisson(c([a, 0.0])), [0.0, 1.0, 7.0]),
        "binomial": (lambda D, c: D.Binomial(c([n, 3.0]), probs=c(p)), [0.0, 1.0, 3.0]),
        "binomial_logits": (lambda D, c: D.Binomial(c([n, 0.0]), logits=c([[lg], [0.5]])), [0.0, 2.0]),
        "negbin_probs": (lambda D, c: D.NegativeBinomial(c([a, 3.0]), probs=c(min(p, 0.9))), [0.0, 4.0]),
        "weibull": (lambda D, c: D.Weibull(c([a, 1.0]), c(min(b, 100.0))), [1e-3, 1.0, 30.0]),
        "pareto": (lambda D, c: D.Pareto(c(min(a, 10.0)), c([b, 0.5, 2.0])), [10.0, 1e3]),
        "gumbel": (lambda D, c: D.Gumbel(c([0.0, 3.0]), c(a)), [-5.0, 0.0, 5.0]),
        "lognormal": (lambda D, c: D.LogNormal(c([0.0, -2.0]), c(min(a, 10.0))), [1e-3, 1.0, 30.0]),
        "halfcauchy": (lambda D, c: D.HalfCauchy(c([a, b])), [0.0, 1.0, 1e5]),
    }
    return kind, builds[kind]


def _compare(ours_fn, theirs_fn, msg, rtol=1e-8, atol=1e-10):
    try:
        ours = quiet(ours_fn)
    except (ValueError, NotImplementedError) as e:
        ours = e
    try:
        theirs = theirs_fn()
    except (ValueError, NotImplementedError, RuntimeError) as e:
        theirs = e
    if isinstance(theirs, Exception) or isinstance(ours, Exception):
        assert isinstance(ours, Exception) == isinstance(theirs, Exception), (msg, ours, theirs)
        return
    theirs = theirs.detach().numpy()
    assert ours.shape == tuple(theirs.shape), msg
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=rtol, atol=atol, err_msg=msg)


@SETTINGS(12)
@given(data=st.data(), validate=st.booleans())
def test_edge_parameters_match_torch(data, validate):
    kind, (build, values) = _family(data.draw)
    def make(D, c):
        wrap = type("W", (), {name: staticmethod(lambda *a, _n=name, **k: getattr(D, _n)(*a, validate_args=validate,
                                                                                           **k))
                              for name in ["Gamma", "Beta", "Chi2", "StudentT", "Poisson", "Binomial",
                                           "NegativeBinomial", "Weibull", "Pareto", "Gumbel", "LogNormal",
                                           "HalfCauchy"]})
        return build(wrap, c)

    try:
        theirs = make(TD, t)
    except ValueError:
        with pytest.raises(ValueError):
            make(GD, g)
        return
    ours = make(GD, g)
    assert ours.batch_shape == tuple(theirs.batch_shape)
    for attr in ["mean", "variance", "mode", "stddev"]:
        _compare(lambda a=attr: getattr(ours, a), lambda a=attr: getattr(theirs, a), f"{kind}.{attr}", rtol=1e-7)
    if kind != "negbin_probs":
        _compare(ours.entropy, theirs.entropy, f"{kind}.entropy", rtol=1e-7, atol=1e-8)
    for v in values:
        _compare(lambda v=v: ours.log_prob(g(v)), lambda v=v: theirs.log_prob(t(v)), f"{kind}.log_prob({v})", rtol=1e-7)
    ex = ours.expand((2,) + ours.batch_shape)
    assert ex.batch_shape == tuple(theirs.expand((2,) + tuple(theirs.batch_shape)).batch_shape)
    assert ex.sample((3,)).shape == (3, 2) + ours.batch_shape


@SETTINGS(10)
@given(kind=st.sampled_from(["gamma", "weibull", "pareto", "gumbel", "lognormal", "halfcauchy", "cauchy",
                             "halfnormal"]), a=_POS, b=_POS, u=st.floats(1e-6, 1 - 1e-6))
def test_cdf_icdf_round_trip(kind, a, b, u):
    build = {
        "gamma": None, "weibull": lambda D, c: D.Weibull(c(a), c(min(b, 20.0))),
        "pareto": lambda D, c: D.Pareto(c(a), c(b)), "gumbel": lambda D, c: D.Gumbel(c(a), c(b)),
        "lognormal": lambda D, c: D.LogNormal(c(0.0), c(min(a, 5.0))), "halfcauchy": lambda D, c: D.HalfCauchy(c(a)),
        "cauchy": lambda D, c: D.Cauchy(c(b), c(a)), "halfnormal": lambda D, c: D.HalfNormal(c(a)),
    }[kind]
    if build is None:
        return
    ours, theirs = build(GD, g), build(TD, t)
    x = ours.icdf(g(u))
    np.testing.assert_allclose(x.numpy(), theirs.icdf(t(u)).numpy(), rtol=1e-8, atol=1e-300)
    if np.isfinite(x.item()) and x.item() > 0 or kind in ("gumbel", "cauchy"):
        np.testing.assert_allclose(ours.cdf(x).numpy(), u, rtol=1e-6, atol=1e-12)


_KL = {
    "gamma": lambda D, c, p: (D.Gamma(c(0), c(1)), D.Gamma(c(2), c(3))),
    "beta": lambda D, c, p: (D.Beta(c(0), c(1)), D.Beta(c(2), c(3))),
    "dirichlet": lambda D, c, p: (D.Dirichlet(c([0, 1])), D.Dirichlet(c([2, 3]))),
    "pareto": lambda D, c, p: (D.Pareto(c(0), c(1)), D.Pareto(c(2), c(3))),
    "gumbel": lambda D, c, p: (D.Gumbel(c(0), c(1)), D.Gumbel(c(2), c(3))),
    "halfnormal": lambda D, c, p: (D.HalfNormal(c(0)), D.HalfNormal(c(1))),
    "cauchy": lambda D, c, p: (D.Cauchy(c(0), c(1)), D.Cauchy(c(2), c(3))),
    "poisson": lambda D, c, p: (D.Poisson(c(0)), D.Poisson(c(1))),
    "exp_gamma": lambda D, c, p: (D.Exponential(c(0)), D.Gamma(c(1), c(2))),
    "gamma_gumbel": lambda D, c, p: (D.Gamma(c(0), c(1)), D.Gumbel(c(2), c(3))),
    "beta_normal": lambda D, c, p: (D.Beta(c(0), c(1)), D.Normal(c(2), c(3))),
    "beta_gamma": lambda D, c, p: (D.Beta(c(0), c(1)), D.Gamma(c(2), c(3))),
    "pareto_gamma": lambda D, c, p: (D.Pareto(c(0), c(1)), D.Gamma(c(2), c(3))),
    "pareto_normal": lambda D, c, p: (D.Pareto(c(0), c(1)), D.Normal(c(2), c(3))),
    "uniform_beta": lambda D, c, p: (D.Uniform(c(0) * 0.0, c(0).clamp(max=1.0)), D.Beta(c(1), c(2))),
    "uniform_gamma": lambda D, c, p: (D.Uniform(c(0), c(0) + c(1)), D.Gamma(c(2), c(3))),
    "uniform_pareto": lambda D, c, p: (D.Uniform(c(0), c(0) + c(1)), D.Pareto(c(2), c(3))),
    "laplace_normal": lambda D, c, p: (D.Laplace(c(0), c(1)), D.Normal(c(2), c(3))),
    "normal_laplace": lambda D, c, p: (D.Normal(c(0), c(1)), D.Laplace(c(2), c(3))),
    "binomial": lambda D, c, p: (D.Binomial(5, probs=c(0) / (1 + c(0))), D.Binomial(5, probs=c(1) / (1 + c(1)))),
    "geometric": lambda D, c, p: (D.Geometric(probs=c(0) / (1 + c(0))), D.Geometric(probs=c(1) / (1 + c(1)))),
}


@SETTINGS(10)
@given(name=st.sampled_from(sorted(k for k in _KL if not k.startswith("_"))), p=st.lists(st.floats(0.05, 20), min_size=4, max_size=4))
def test_kl_random_parameters_and_gradients_match_torch(name, p):
    gp = [g(v, grad=True) for v in p]
    tp = [t(v, grad=True) for v in p]
    gpair = _KL[name](GD, lambda i: gdl.stack([gp[j] for j in i]) if isinstance(i, list) else gp[i], p)
    tpair = _KL[name](TD, lambda i: torch.stack([tp[j] for j in i]) if isinstance(i, list) else tp[i], p)
    ours, theirs = GD.kl_divergence(*gpair), TD.kl_divergence(*tpair)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-7, atol=1e-9, err_msg=name)
    if not np.isfinite(theirs.detach().numpy()).all():
        return
    ours.sum().backward()
    theirs.sum().backward()
    for a, b in zip(gp, tp):
        ga = 0.0 if a.grad is None else a.grad.item()
        gb = 0.0 if b.grad is None else b.grad.item()
        assert (np.isnan(ga) and np.isnan(gb)) or abs(ga - gb) <= 2e-6 * max(1.0, abs(gb)), (name, p, ga, gb)


@SETTINGS(6)
@given(alpha=st.sampled_from([0.01, 0.2, 1.0, 3.7, 50.0, 2000.0]), seed=st.integers(0, 100))
def test_gamma_rsample_gradient_against_finite_differences_of_the_cdf(alpha, seed):
    """The implicit gradient dx/dα = −(∂P/∂α)/f at the drawn x, by central differences of P in α."""
    gdl.manual_seed(seed)
    a = g([alpha], grad=True)
    x = GD.Gamma(a, g(1.0)).rsample()
    x.sum().backward()
    xv = x.detach().item()
    if xv < 1e-250:
        return
    with mpmath.workdps(40):
        dp = mpmath.diff(lambda s: mpmath.gammainc(s, 0, xv, regularized=True), alpha)
        dens = mpmath.exp((alpha - 1) * mpmath.log(xv) - xv - mpmath.loggamma(alpha))
        expected = float(-dp / dens)
    assert abs(a.grad.item() - expected) <= 1e-9 * max(abs(expected), 1e-300) + 1e-300, (alpha, xv)


@SETTINGS(6)
@given(k=st.integers(1, 4), batch=st.sampled_from([(), (3,), (2, 1)]), x=st.floats(-5, 5))
def test_mixture_log_prob_is_a_logsumexp(k, batch, x):
    rng = np.random.default_rng(k)
    logits = rng.normal(size=batch + (k,))
    loc, scale = rng.normal(size=batch + (k,)), rng.uniform(0.2, 2, batch + (k,))
    value = np.full(batch, x) if batch else np.array(x)
    mix = GD.MixtureSameFamily(GD.Categorical(logits=g(logits)), GD.Normal(g(loc), g(scale)))
    tmix = TD.MixtureSameFamily(TD.Categorical(logits=t(logits)), TD.Normal(t(loc), t(scale)))
    manual = torch.logsumexp(torch.log_softmax(t(logits), -1) + TD.Normal(t(loc), t(scale)).log_prob(
        t(value)[..., None]), -1)
    np.testing.assert_allclose(mix.log_prob(g(value)).numpy(), manual.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mix.mean.numpy(), tmix.mean.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mix.variance.numpy(), tmix.variance.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mix.cdf(g(value)).numpy(), tmix.cdf(t(value)).numpy(), rtol=1e-12)


@SETTINGS(6)
@given(loc=st.floats(-2, 2), scale=st.floats(0.2, 3), x=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_transformed_composed_with_event_dim(loc, scale, x):
    from torch.distributions import transforms as TT

    from gdl.distributions import transforms as GT

    def build(D, T, c):
        base = D.Independent(D.Normal(c([0.0, 0.0, 0.0]), c(1.0)), 1)
        # a full-shape scale: with a 0-d scale and event_dim=1 torch sums log|scale| once, not per element
        ts = [T.AffineTransform(c(loc), c([scale] * 3), event_dim=1), T.ExpTransform(), T.PowerTransform(c(2.0))]
        return D.TransformedDistribution(base, ts), T.ComposeTransform(ts)

    (od, ot), (td, tt) = build(GD, GT, g), build(TD, TT, t)
    y = tt(t(x))
    np.testing.assert_allclose(od.log_prob(g(y.numpy())).numpy(), td.log_prob(y).numpy(), rtol=1e-10)
    np.testing.assert_allclose(ot.inv(g(y.numpy())).numpy(), x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ot.log_abs_det_jacobian(g(x), g(y.numpy())).numpy(),
                               tt.log_abs_det_jacobian(t(x), y).numpy(), rtol=1e-10)
    assert od.event_shape == tuple(td.event_shape) and od.batch_shape == tuple(td.batch_shape)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_keeps_relative_accuracy_for_negative_inputs(backend, dtype):
    """The backend's sigmoid (and the portable one) against mpmath, far into both tails."""
    pytest.importorskip(backend)
    xs = [-700.0, -100.0, -80.0, -40.0, -30.0, -10.0, -1.0, 0.0, 1.0, 10.0, 40.0]
    if dtype == "float32":
        xs = [v for v in xs if v > -87.0]  # below, the true value is under float32's normal range
    x = gdl.tensor(xs, dtype=getattr(gdl, dtype), backend=backend)
    got = gdl.sigmoid(x).numpy().astype(float)
    rtol = 1e-6 if dtype == "float32" else 1e-14
    for v, y in zip(xs, got):
        want = float(1 / (1 + mpmath.exp(-mpmath.mpf(v))))
        assert y == pytest.approx(want, rel=rtol), v


@pytest.mark.parametrize("p", [0.5, 0.4])
def test_geometric_and_bernoulli_entropy_gradient_at_even_odds(p):
    """At probs 0.5 (logits exactly 0) the entropy's gradient came out of max(x, 0)'s kink:
    +1.227 for Geometric where torch (and the derivative) give -2.773."""
    ours = g(p, grad=True)
    theirs = t(p, grad=True)
    for D, x in ((GD, ours), (TD, theirs)):
        (D.Geometric(probs=x).entropy() + D.Bernoulli(probs=x).entropy()).backward()
    assert ours.grad.item() == pytest.approx(theirs.grad.item(), rel=1e-12)
