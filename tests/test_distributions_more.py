"""The gamma-family, heavy-tailed, count, transformed and mixture distributions on every
backend, without torch: sample moments against the analytic mean / variance (tolerances
from the standard error), log_prob normalisation and analytic means by numerical
integration or summing over the support, cdf / icdf, KL against exact sums or Monte
Carlo, the transforms' Jacobians against finite differences, gradients through rsample,
shapes (sample, batch, event, expand) and the validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.distributions as D
from gdl.distributions import transforms as T

F64 = gdl.float64
N = 20_000


def t64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def npy(t):
    return t.detach().numpy().astype(np.float64)


def _dists():
    w = t64([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    return {
        "gamma": D.Gamma(t64([0.4, 3.0]), t64([1.0, 2.0])),
        "chi2": D.Chi2(t64([1.0, 5.0])),
        "beta": D.Beta(t64([0.5, 3.0]), t64([2.0, 1.5])),
        "dirichlet": D.Dirichlet(t64([[0.5, 1.0, 2.0], [3.0, 3.0, 1.0]])),
        "student_t": D.StudentT(t64([6.0, 9.0]), t64([1.0, -1.0]), t64([1.0, 0.5])),
        "log_normal": D.LogNormal(t64([0.0, 1.0]), t64([0.3, 0.5])),
        "half_normal": D.HalfNormal(t64([1.0, 2.0])),
        "gumbel": D.Gumbel(t64([0.0, 2.0]), t64([1.0, 0.5])),
        "weibull": D.Weibull(t64([1.0, 2.0]), t64([0.8, 3.0])),
        "pareto": D.Pareto(t64([1.0, 0.5]), t64([5.0, 6.0])),
        "poisson": D.Poisson(t64([0.5, 7.0])),
        "binomial": D.Binomial(t64([4.0, 10.0]), probs=t64([0.3, 0.8])),
        "geometric": D.Geometric(logits=t64([-1.0, 1.0])),
        "negative_binomial": D.NegativeBinomial(t64([2.0, 0.5]), probs=t64([0.3, 0.6])),
        "multinomial": D.Multinomial(5, probs=w),
        "mixture": D.MixtureSameFamily(D.Categorical(probs=w), D.Normal(t64([[-2.0, 0.0, 3.0], [1.0, 0.0, -1.0]]),
                                                                         t64([0.5, 1.0, 2.0]))),
        "transformed": D.TransformedDistribution(D.Normal(t64([0.0, 1.0]), t64([1.0, 0.5])),
                                                 [T.AffineTransform(1.0, 0.5), T.TanhTransform()]),
        "cauchy": D.Cauchy(t64([0.0, 2.0]), t64([1.0, 0.5])),
        "half_cauchy": D.HalfCauchy(t64([1.0, 3.0])),
    }


_HEAVY = ("cauchy", "half_cauchy")  # no mean: checked through quantiles instead
_MOMENTS = sorted(set(_dists()) - set(_HEAVY) - {"transformed"})


@pytest.mark.parametrize("name", _MOMENTS)
def test_sample_mean_and_variance_within_standard_errors(backend, name):
    d = _dists()[name]
    x = npy(d.sample((N,)))
    mean, var = npy(d.mean), npy(d.variance)
    m, v = x.mean(0), x.var(0)
    assert (np.abs(m - mean) < 5 * np.sqrt(var / N)).all(), (name, m, mean)
    m4 = ((x - m) ** 4).mean(0)
    assert (np.abs(v - var) < 6 * np.sqrt(np.maximum(m4 - v**2, 1e-12) / N)).all(), (name, v, var)


@pytest.mark.parametrize("name", ["cauchy", "half_cauchy", "transformed", "gumbel", "weibull", "log_normal"])
def test_sample_quantiles_match_cdf(backend, name):
    d = _dists()[name]
    x = npy(d.sample((N,)))
    for q in (0.1, 0.5, 0.9):
        edge = npy(d.icdf(gdl.full(d.batch_shape, q, dtype=F64)))
        frac = (x <= edge).mean(0)
        assert (np.abs(frac - q) < 5 * math.sqrt(q * (1 - q) / N)).all(), (name, q, frac)


def test_gamma_draws_are_seeded_positive_and_cover_small_shapes(backend):
    d = D.Gamma(t64([1e-3, 0.05, 0.9, 1.0, 40.0]), 1.0)
    gdl.manual_seed(4)
    a = npy(d.sample((200,)))
    gdl.manual_seed(4)
    b = npy(d.sample((200,)))
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all() and (a > 0).all()
    assert D.Gamma(t64(np.full(3, 2.0)), 1.0).sample((0,)).shape == (0, 3)
    assert D.Dirichlet(t64([0.01, 0.01])).sample((50,)).numpy().sum(-1) == pytest.approx(np.ones(50))


# -- densities against integrals and sums over the support -------------------------------------------

# name -> (distribution, grid): density integrated on the grid (trapezoid) must give 1 and the mean
_CONT = {
    "gamma": (lambda: D.Gamma(t64(2.5), t64(1.5)), np.linspace(0, 40, 200001)),
    "chi2": (lambda: D.Chi2(t64(4.0)), np.linspace(0, 120, 200001)),
    "beta": (lambda: D.Beta(t64(2.0), t64(3.5)), np.linspace(0, 1, 100001)),
    "student_t": (lambda: D.StudentT(t64(7.0), t64(0.5), t64(2.0)), np.linspace(-4000, 4000, 800001)),
    "log_normal": (lambda: D.LogNormal(t64(0.2), t64(0.4)), np.linspace(1e-9, 30, 200001)),
    "half_normal": (lambda: D.HalfNormal(t64(1.5)), np.linspace(0, 20, 100001)),
    "gumbel": (lambda: D.Gumbel(t64(1.0), t64(2.0)), np.linspace(-20, 80, 200001)),
    "weibull": (lambda: D.Weibull(t64(2.0), t64(1.7)), np.linspace(1e-12, 30, 200001)),
    "pareto": (lambda: D.Pareto(t64(1.5), t64(4.0)), np.concatenate([np.linspace(1.5, 50, 400001),
                                                                     np.linspace(50.01, 5000, 100000)])),
    "cauchy": (lambda: D.Cauchy(t64(0.5), t64(1.5)), np.linspace(-1e5, 1e5, 2000001)),
    "half_cauchy": (lambda: D.HalfCauchy(t64(1.5)), np.linspace(0, 2e5, 2000001)),
    "mixture": (lambda: D.MixtureSameFamily(D.Categorical(logits=t64([0.0, 1.0])), D.Gumbel(t64([0.0, 3.0]), 1.0)),
                np.linspace(-20, 60, 200001)),
    "tanh_normal": (lambda: D.TransformedDistribution(D.Normal(t64(0.3), t64(0.7)), T.TanhTransform()),
                    np.linspace(-1 + 1e-12, 1 - 1e-12, 400001)),
}


@pytest.mark.parametrize("name", sorted(_CONT))
def test_density_integrates_to_one_and_to_the_mean(name):
    d, grid = _CONT[name][0](), _CONT[name][1]
    p = np.exp(npy(d.log_prob(t64(grid))))
    tol = 2e-3 if "cauchy" in name else 1e-4  # the Cauchy tails beyond the grid hold ~1e-5
    assert np.trapezoid(p, grid) == pytest.approx(1.0, abs=tol)
    if name not in ("cauchy", "half_cauchy", "tanh_normal"):
        mean = float(npy(d.mean))
        assert np.trapezoid(grid * p, grid) == pytest.approx(mean, rel=1e-3, abs=1e-4)
    if name in ("gamma", "chi2", "log_normal", "gumbel", "weibull", "half_normal", "cauchy", "tanh_normal"):
        cum = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) / 2 * np.diff(grid))])
        idx = np.flatnonzero((cum > 0.02) & (cum < 0.98))
        idx = idx[np.linspace(0, len(idx) - 1, 7).astype(int)]
        got = npy(d.cdf(t64(grid[idx])))
        np.testing.assert_allclose(got - got[0], cum[idx] - cum[idx[0]], atol=2e-6)
        if name not in ("gamma", "chi2"):  # PyTorch's Gamma has no icdf
            np.testing.assert_allclose(npy(d.icdf(d.cdf(t64(grid[idx])))), grid[idx], rtol=1e-7, atol=1e-7)


def test_entropy_is_minus_the_expected_log_density():
    for name in ("gamma", "beta", "student_t", "log_normal", "gumbel", "weibull", "pareto", "half_normal"):
        d, grid = _CONT[name][0](), _CONT[name][1]
        lp = npy(d.log_prob(t64(grid)))
        p = np.exp(lp)
        h = -np.trapezoid(np.where(p > 0, p * lp, 0.0), grid)
        assert float(npy(d.entropy())) == pytest.approx(h, abs=2e-4), name


def test_dirichlet_matches_beta_and_integrates_on_the_simplex():
    x = np.linspace(0.01, 0.99, 9)
    beta = D.Beta(t64(1.5), t64(2.5))
    dirichlet = D.Dirichlet(t64([1.5, 2.5]))
    np.testing.assert_allclose(npy(dirichlet.log_prob(t64(np.stack([x, 1 - x], -1)))), npy(beta.log_prob(t64(x))),
                               rtol=1e-12)
    np.testing.assert_allclose(npy(dirichlet.entropy()), npy(beta.entropy()), rtol=1e-12)
    np.testing.assert_allclose(npy(dirichlet.mode)[0], npy(beta.mode), rtol=1e-12)
    # a 3-simplex: integrate over (x, y) with z = 1 - x - y (the density is w.r.t. dx dy)
    h = 1 / 800
    g = (np.arange(800) + 0.5) * h
    xx, yy = np.meshgrid(g, g, indexing="ij")
    inside = xx + yy < 1
    pts = np.stack([xx[inside], yy[inside], 1 - xx[inside] - yy[inside]], -1)
    p = np.exp(npy(D.Dirichlet(t64([2.0, 3.0, 1.5])).log_prob(t64(pts))))
    assert (p * h * h).sum() == pytest.approx(1.0, abs=5e-3)


_DISCRETE = {
    "poisson": (lambda: D.Poisson(t64([0.3, 4.3, 25.5])), 200),
    "binomial": (lambda: D.Binomial(12, logits=t64([-2.0, 0.0, 3.0])), 12),
    "geometric": (lambda: D.Geometric(probs=t64([0.05, 0.5, 0.9])), 2000),
    "negative_binomial": (lambda: D.NegativeBinomial(t64([0.5, 3.0, 10.0]), logits=t64([-1.0, 0.5, 1.0])), 3000),
}


@pytest.mark.parametrize("name", sorted(_DISCRETE))
def test_mass_sums_to_one_with_the_analytic_moments(name):
    d, top = _DISCRETE[name][0](), _DISCRETE[name][1]
    k = np.arange(top + 1, dtype=np.float64)[:, None] * np.ones(3)
    p = np.exp(npy(d.log_prob(t64(k))))
    np.testing.assert_allclose(p.sum(0), 1.0, rtol=1e-9)
    mean = (k * p).sum(0)
    np.testing.assert_allclose(mean, npy(d.mean), rtol=1e-8)
    np.testing.assert_allclose(((k - mean) ** 2 * p).sum(0), npy(d.variance), rtol=1e-7)
    assert (npy(d.mode) == k[p.argmax(0), 0]).all()
    if name in ("binomial", "geometric"):  # PyTorch's Poisson and NegativeBinomial have no entropy
        np.testing.assert_allclose(npy(d.entropy()), -(np.where(p > 0, p * np.log(p), 0.0)).sum(0), rtol=1e-8)
    assert np.exp(npy(d.log_prob(t64(np.full(3, 0.0))))) == pytest.approx(p[0])


def test_binomial_enumerate_support_and_multinomial_sums_to_one():
    d = D.Binomial(t64([3.0, 3.0]), probs=t64([0.2, 0.7]))
    s = d.enumerate_support()
    assert s.shape == (4, 2) and d.enumerate_support(expand=False).shape == (4, 1)
    np.testing.assert_allclose(np.exp(npy(d.log_prob(s))).sum(0), 1.0, rtol=1e-12)
    m = D.Multinomial(4, logits=t64([0.2, -0.5, 1.0]))
    vals = np.array([[a, b, 4 - a - b] for a in range(5) for b in range(5 - a)], dtype=np.float64)
    p = np.exp(npy(m.log_prob(t64(vals))))
    assert p.sum() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose((vals * p[:, None]).sum(0), npy(m.mean), rtol=1e-12)
    assert float(npy(m.entropy())) == pytest.approx(-(p * np.log(p)).sum(), rel=1e-10)


# -- KL ----------------------------------------------------------------------------------------------


def test_discrete_kl_equals_the_sum_over_the_support():
    k = np.arange(400, dtype=np.float64)
    for p, q in ((D.Poisson(t64(3.0)), D.Poisson(t64(5.5))), (D.Geometric(probs=t64(0.3)), D.Geometric(probs=t64(0.6))),
                 (D.Binomial(8, probs=t64(0.3)), D.Binomial(8, probs=t64(0.55)))):
        kk = t64(k[: 9]) if isinstance(p, D.Binomial) else t64(k)
        lp, lq = npy(p.log_prob(kk)), npy(q.log_prob(kk))
        exact = (np.exp(lp) * (lp - lq)).sum()
        assert float(npy(D.kl_divergence(p, q))) == pytest.approx(exact, rel=1e-9), type(p).__name__


@pytest.mark.parametrize("pair", ["gamma", "beta", "dirichlet", "cauchy", "gumbel", "half_normal", "log_normal",
                                  "pareto", "exponential_gamma", "gamma_normal"])
def test_continuous_kl_against_monte_carlo(backend, pair):
    p, q = {
        "gamma": (D.Gamma(t64(2.0), t64(1.5)), D.Gamma(t64(3.0), t64(1.0))),
        "beta": (D.Beta(t64(2.0), t64(3.0)), D.Beta(t64(1.5), t64(1.5))),
        "dirichlet": (D.Dirichlet(t64([2.0, 3.0, 1.0])), D.Dirichlet(t64([1.0, 1.0, 2.0]))),
        "cauchy": (D.Cauchy(t64(0.0), t64(1.0)), D.Cauchy(t64(1.0), t64(2.0))),
        "gumbel": (D.Gumbel(t64(0.0), t64(1.0)), D.Gumbel(t64(0.5), t64(1.5))),
        "half_normal": (D.HalfNormal(t64(1.0)), D.HalfNormal(t64(2.0))),
        "log_normal": (D.LogNormal(t64(0.0), t64(1.0)), D.LogNormal(t64(0.5), t64(0.7))),
        "pareto": (D.Pareto(t64(1.0), t64(3.0)), D.Pareto(t64(0.5), t64(2.0))),
        "exponential_gamma": (D.Exponential(t64(1.5)), D.Gamma(t64(2.0), t64(1.0))),
        "gamma_normal": (D.Gamma(t64(3.0), t64(2.0)), D.Normal(t64(1.0), t64(1.5))),
    }[pair]
    x = p.sample((N,))
    r = npy(p.log_prob(x)) - npy(q.log_prob(x))
    kl = float(npy(D.kl_divergence(p, q)))
    assert abs(r.mean() - kl) < 5 * r.std() / math.sqrt(N) + 1e-12, (pair, r.mean(), kl)


# -- transforms ----------------------------------------------------------------------------------------


_TRANSFORMS = {
    "exp": (T.ExpTransform(), np.linspace(-2, 2, 7)),
    "affine": (T.AffineTransform(1.0, -2.5), np.linspace(-2, 2, 7)),
    "sigmoid": (T.SigmoidTransform(), np.linspace(-4, 4, 7)),
    "tanh": (T.TanhTransform(), np.linspace(-2, 2, 7)),
    "power": (T.PowerTransform(2.5), np.linspace(0.2, 3, 7)),
    "power_negative": (T.PowerTransform(-0.5), np.linspace(0.2, 3, 7)),
    "compose": (T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform(), T.PowerTransform(0.5)]),
                np.linspace(-1, 1, 7)),
    "exp_inv": (T.ExpTransform().inv, np.linspace(0.2, 3, 7)),
}


@pytest.mark.parametrize("name", sorted(_TRANSFORMS))
def test_transform_inverse_jacobian_and_sign(backend, name):
    t, xs = _TRANSFORMS[name]
    x = t64(xs)
    y = t(x)
    np.testing.assert_allclose(npy(t.inv(y)), xs, rtol=1e-9, atol=1e-12)
    h = 1e-6
    slope = (npy(t(t64(xs + h))) - npy(t(t64(xs - h)))) / (2 * h)
    np.testing.assert_allclose(npy(t.log_abs_det_jacobian(x, y)), np.log(np.abs(slope)), rtol=1e-6, atol=1e-7)
    assert np.all(np.sign(slope) == t.sign)
    assert t.bijective and t.inv.inv == t
    assert bool(t.codomain.check(y).all().item()) and bool(t.domain.check(x).all().item())


def test_transform_equality_softmax_abs_and_compose_event_dims(backend):
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.TanhTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    x = t64([[0.5, -1.0, 2.0]])
    s = T.SoftmaxTransform()
    y = s(x)
    assert bool(s.codomain.check(y).all().item()) and not s.bijective
    np.testing.assert_allclose(npy(s(s.inv(y))), npy(y), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="SoftmaxTransform"):
        s.log_abs_det_jacobian(x, y)
    a = T.AbsTransform()
    assert npy(a(t64([-2.0, 3.0]))).tolist() == [2.0, 3.0] and npy(a.inv(t64([2.0]))).tolist() == [2.0]
    c = T.ComposeTransform([T.AffineTransform(0.0, 2.0), T.SoftmaxTransform()])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1
    event = T.AffineTransform(t64([1.0, 2.0]), t64([2.0, 3.0]), event_dim=1)
    assert event.log_abs_det_jacobian(t64([[0.0, 0.0]]), None).shape == (1,)
    np.testing.assert_allclose(npy(event.log_abs_det_jacobian(t64([[0.0, 0.0]]), None)), [math.log(6.0)])


def test_transformed_distribution_shapes_support_and_log_prob(backend):
    base = D.Normal(t64(np.zeros((3, 2))), 1.0)
    d = D.TransformedDistribution(base, T.AffineTransform(t64([1.0, 2.0]), t64([2.0, 3.0]), event_dim=1))
    assert d.batch_shape == (3,) and d.event_shape == (2,)
    assert d.support.event_dim == 1
    x = d.sample((4,))
    assert x.shape == (4, 3, 2)
    lp = npy(d.log_prob(x))
    z = (npy(x) - [1.0, 2.0]) / [2.0, 3.0]
    np.testing.assert_allclose(lp, (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1) - math.log(6.0), rtol=1e-12)
    assert d.expand((5, 3)).sample().shape == (5, 3, 2)
    with pytest.raises(ValueError, match="transforms must be a Transform"):
        D.TransformedDistribution(base, [1.0])


# -- rsample gradients -------------------------------------------------------------------------------

_RS = {
    "cauchy": (lambda p: D.Cauchy(p[0], p[1]), [[0.3, -1.0], [1.0, 2.0]]),
    "half_cauchy": (lambda p: D.HalfCauchy(p[0]), [[1.0, 2.5]]),
    "log_normal": (lambda p: D.LogNormal(p[0], p[1]), [[0.3, -1.0], [0.5, 1.2]]),
    "half_normal": (lambda p: D.HalfNormal(p[0]), [[0.7, 2.0]]),
    "gumbel": (lambda p: D.Gumbel(p[0], p[1]), [[0.3, -1.0], [1.0, 2.0]]),
    "weibull": (lambda p: D.Weibull(p[0], p[1]), [[1.0, 2.0], [0.8, 3.0]]),
    "pareto": (lambda p: D.Pareto(p[0], p[1]), [[1.0, 2.0], [2.5, 4.0]]),
    "transformed": (lambda p: D.TransformedDistribution(D.Normal(p[0], p[1]), [T.SigmoidTransform()]),
                    [[0.3, -1.0], [1.0, 0.4]]),
}


@pytest.mark.parametrize("name", sorted(_RS))
def test_rsample_gradients_equal_finite_differences_at_fixed_noise(backend, name):
    build, values = _RS[name]
    params = [t64(v, grad=True) for v in values]
    d = build(params)
    assert d.has_rsample

    def draw(ps):
        gdl.manual_seed(9)
        return build(ps).rsample((3,))

    w = np.random.default_rng(0).normal(size=(3, 2))
    (draw(params) * t64(w)).sum().backward()
    h = 1e-6
    for i, v in enumerate(values):
        for j in range(len(v)):
            up = [np.array(x, dtype=np.float64) for x in values]
            dn = [np.array(x, dtype=np.float64) for x in values]
            up[i][j] += h
            dn[i][j] -= h
            with gdl.no_grad():
                fd = ((npy(draw([t64(x) for x in up])) - npy(draw([t64(x) for x in dn]))) * w).sum() / (2 * h)
            assert float(npy(params[i].grad)[j]) == pytest.approx(fd, rel=1e-5, abs=1e-6), (name, i, j)


def test_gamma_implicit_gradient_matches_mpmath():
    """dx/dalpha = -(dP/dalpha)(alpha, x) / f(x; alpha) against mpmath (30 digits, numerical
    derivative of the regularised incomplete gamma function), over both the series and the
    tail-quadrature regions."""
    mpmath = pytest.importorskip("mpmath")
    from gdl.distributions.gamma_grad import standard_gamma_grad

    mpmath.mp.dps = 30

    def ref(a, x):
        a, x = mpmath.mpf(a), mpmath.mpf(x)
        dp = mpmath.diff(lambda b: mpmath.gammainc(b, 0, x, regularized=True), a)
        return float(-dp / (x ** (a - 1) * mpmath.exp(-x) / mpmath.gamma(a)))

    pts = [(0.01, 1e-30), (0.01, 0.5), (0.01, 6.0), (0.3, 0.01), (0.3, 5.5), (0.3, 30.0), (1.0, 0.5), (1.0, 20.0),
           (2.0, 6.2), (2.0, 6.3), (7.0, 3.0), (7.0, 14.9), (7.0, 40.0), (50.0, 50.0), (50.0, 72.5), (400.0, 460.0)]
    a, x = np.array(pts).T
    got = npy(standard_gamma_grad(t64(x), t64(a)))
    np.testing.assert_allclose(got, [ref(*p) for p in pts], rtol=1e-11)


@pytest.mark.parametrize("case", ["gamma_small", "gamma", "chi2", "beta", "dirichlet", "student_t"])
def test_gamma_family_rsample_gradients_are_unbiased(backend, case):
    """Per-draw derivatives of rsample average (within 5 standard errors) to the derivative
    of the analytic expectation: d E[g(x)] / d theta = E[d g(x) / d theta]."""
    n = 8000
    if case in ("gamma_small", "gamma"):
        a0, r0 = (0.3, 2.0) if case == "gamma_small" else (2.5, 0.7)
        a, r = t64(np.full(n, a0), grad=True), t64(np.full(n, r0), grad=True)
        D.Gamma(a, r).rsample().sum().backward()
        checks = [(npy(a.grad), 1 / r0), (npy(r.grad), -a0 / r0**2)]
    elif case == "chi2":
        df = t64(np.full(n, 3.0), grad=True)
        D.Chi2(df).rsample().sum().backward()
        checks = [(npy(df.grad), 1.0)]
    elif case == "beta":
        a, b = t64(np.full(n, 0.7), grad=True), t64(np.full(n, 2.0), grad=True)
        D.Beta(a, b).rsample().sum().backward()
        checks = [(npy(a.grad), 2.0 / 2.7**2), (npy(b.grad), -0.7 / 2.7**2)]
    elif case == "dirichlet":
        c = t64(np.tile([1.5, 0.5, 2.0], (n, 1)), grad=True)
        D.Dirichlet(c).rsample()[:, 0].sum().backward()
        checks = [(npy(c.grad)[:, 0], 2.5 / 16), (npy(c.grad)[:, 1], -1.5 / 16)]
    else:
        df, s = t64(np.full(n, 9.0), grad=True), t64(np.full(n, 1.5), grad=True)
        D.StudentT(df, 0.0, s).rsample().pow(2).sum().backward()  # E[x^2] = s^2 df / (df - 2)
        checks = [(npy(df.grad), -2 * 1.5**2 / 7**2), (npy(s.grad), 2 * 1.5 * 9 / 7)]
    for g, expected in checks:
        assert np.isfinite(g).all()
        assert abs(g.mean() - expected) < 5 * g.std() / math.sqrt(n), (case, g.mean(), expected)


def test_log_prob_entropy_and_kl_gradients_by_finite_differences(backend):
    from gdl.testing import gradcheck

    x = t64([0.3, 1.7])
    assert gradcheck(lambda a, b: D.Gamma(a, b).log_prob(x) + D.Gamma(a, b).entropy(),
                     [t64([0.8, 2.5], grad=True), t64([1.5, 0.5], grad=True)])
    assert gradcheck(lambda a, b: D.Beta(a, b).log_prob(t64([0.2, 0.9])) + D.Beta(a, b).entropy(),
                     [t64([0.8, 2.5], grad=True), t64([1.5, 0.5], grad=True)])
    assert gradcheck(lambda a, b: D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b)),
                     [t64([[0.8, 2.5, 1.0]], grad=True), t64([1.5, 0.5, 2.0], grad=True)])
    assert gradcheck(lambda df, s: D.StudentT(df, 0.5, s).log_prob(x) + D.StudentT(df, 0.5, s).entropy(),
                     [t64([2.5, 7.0], grad=True), t64([1.5, 0.5], grad=True)])
    assert gradcheck(lambda n, p: D.NegativeBinomial(n, logits=p).log_prob(t64([0.0, 4.0])),
                     [t64([2.5, 7.0], grad=True), t64([-0.5, 0.5], grad=True)])


# -- shapes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_dists()))
def test_sample_log_prob_and_expand_shapes(backend, name):
    d = _dists()[name]
    for shape in ((), (5,), (4, 3)):
        x = d.sample(shape)
        assert x.shape == shape + d.batch_shape + d.event_shape
        assert not x.requires_grad
        assert d.log_prob(x).shape == shape + d.batch_shape
    assert d.sample((0,)).shape == (0,) + d.batch_shape + d.event_shape
    if d.has_rsample:
        assert d.rsample((2,)).shape == (2,) + d.batch_shape + d.event_shape
    else:
        with pytest.raises(NotImplementedError):
            d.rsample()
    e = d.expand((3,) + d.batch_shape)
    assert e.batch_shape == (3,) + d.batch_shape and e.event_shape == d.event_shape
    x = e.sample((2,))
    assert x.shape == (2, 3) + d.batch_shape + d.event_shape
    np.testing.assert_allclose(npy(e.log_prob(x))[:, 0], npy(d.log_prob(x[:, 0])), rtol=1e-12)
    assert bool(d.support.check(x).all().item())


# -- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("build,match", [
    (lambda: D.Gamma(t64(-1.0), 1.0), r"parameter concentration .* Gamma\(concentration: -1.0, rate: 1.0\) .*"
                                      r"GreaterThan\(lower_bound=0.0\)"),
    (lambda: D.Chi2(t64(0.0)), r"parameter df .* Chi2\(\)"),
    (lambda: D.Beta(t64(1.0), t64(-2.0)), r"parameter concentration0"),
    (lambda: D.Dirichlet(t64([1.0, 0.0])), r"parameter concentration .*IndependentConstraint"),
    (lambda: D.Dirichlet(t64(1.0)), r"at least one-dimensional"),
    (lambda: D.StudentT(t64(1.0), 0.0, t64(-1.0)), r"parameter scale"),
    (lambda: D.Cauchy(0.0, t64(0.0)), r"parameter scale"),
    (lambda: D.Pareto(t64(-1.0), 1.0), r"parameter scale"),
    (lambda: D.Weibull(1.0, t64(-1.0)), r"parameter concentration"),
    (lambda: D.LogNormal(0.0, t64(-1.0)), r"Normal\(loc: 0.0, scale: -1.0\)"),
    (lambda: D.Poisson(t64(-0.5)), r"parameter rate .* GreaterThanEq"),
    (lambda: D.Binomial(t64(2.5), probs=t64(0.5)), r"parameter total_count .* IntegerGreaterThan\(lower_bound=0\)"),
    (lambda: D.Binomial(3, probs=t64(1.5)), r"parameter probs"),
    (lambda: D.Binomial(3, probs=t64(0.5), logits=t64(0.0)), r"Either `probs` or `logits`"),
    (lambda: D.Geometric(probs=t64(0.0)), r"probs .* to be positive"),
    (lambda: D.NegativeBinomial(t64(1.0), probs=t64(1.0)), r"HalfOpenInterval"),
    (lambda: D.Multinomial(3, probs=t64([0.5, -0.5])), r"parameter probs .* Simplex"),
    (lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(t64([0.0]), 1.0)), r"Categorical"),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=t64(np.zeros((2, 3)))), D.Normal(t64(np.zeros((4, 3))), 1.0)),
     r"not compatible"),
])
def test_invalid_parameters_raise(backend, build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_values_outside_the_support_raise_and_validation_can_be_off(backend):
    for d, bad in ((D.Gamma(t64(1.0), 1.0), -1.0), (D.Beta(t64(1.0), 2.0), 1.5), (D.Poisson(t64(1.0)), 1.5),
                   (D.Binomial(3, probs=t64(0.5)), 4.0), (D.Pareto(t64(1.0), 2.0), 0.5),
                   (D.HalfNormal(t64(1.0)), -0.5), (D.LogNormal(0.0, t64(1.0)), -1.0)):
        with pytest.raises(ValueError, match="to be within the support"):
            d.log_prob(t64(bad))
    d = D.Gamma(t64(-1.0), 1.0, validate_args=False)  # no error when switched off
    assert d.batch_shape == ()
    assert np.isneginf(npy(D.HalfNormal(t64(1.0), validate_args=False).log_prob(t64(-1.0))))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(t64([2.0, 3.0]), probs=t64([0.5, 0.5])).enumerate_support()
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(t64(3.0), probs=t64([0.5, 0.5]))
