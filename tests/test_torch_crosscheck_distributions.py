"""gdl.distributions against torch.distributions (PyTorch 2.13) in float64: log_prob,
entropy, mean, mode, variance, stddev, cdf, kl_divergence, their gradients with respect to
the parameters, batch_shape / event_shape, sample shapes, and the errors PyTorch raises."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributions as TD  # noqa: E402

import gdl  # noqa: E402
import gdl.distributions as GD  # noqa: E402

RNG = np.random.default_rng(7)
TOL = dict(rtol=1e-10, atol=1e-12)


def _spd(n, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _onehot(idx, k):
    return np.eye(k)[idx]


# name -> (builder(D, params), {param: array}, value array, has cdf)
CASES = {
    "normal": (lambda D, p: D.Normal(p["loc"], p["scale"]),
               {"loc": RNG.normal(size=(3, 1)), "scale": RNG.uniform(0.5, 2, (4,))}, RNG.normal(size=(2, 3, 4)), True),
    "normal_scalar_scale": (lambda D, p: D.Normal(p["loc"], 1.5),
                            {"loc": RNG.normal(size=(3,))}, RNG.normal(size=(3,)), True),
    "uniform": (lambda D, p: D.Uniform(p["low"], p["high"]),
                {"low": RNG.uniform(-2, -1, (3, 1)), "high": RNG.uniform(1, 2, (4,))},
                RNG.uniform(-0.9, 0.9, (2, 3, 4)), True),
    "exponential": (lambda D, p: D.Exponential(p["rate"]),
                    {"rate": RNG.uniform(0.5, 3, (3,))}, RNG.uniform(0.1, 3, (2, 3)), True),
    "laplace": (lambda D, p: D.Laplace(p["loc"], p["scale"]),
                {"loc": RNG.normal(size=(3, 1)), "scale": RNG.uniform(0.5, 2, (4,))}, RNG.normal(size=(2, 3, 4)), True),
    "bernoulli_probs": (lambda D, p: D.Bernoulli(probs=p["probs"]),
                        {"probs": RNG.uniform(0.1, 0.9, (3,))}, RNG.integers(0, 2, (2, 3)).astype(float), False),
    "bernoulli_logits": (lambda D, p: D.Bernoulli(logits=p["logits"]),
                         {"logits": RNG.normal(size=(3,)) * 3}, RNG.integers(0, 2, (2, 3)).astype(float), False),
    "categorical_probs": (lambda D, p: D.Categorical(probs=p["probs"]),
                          {"probs": RNG.uniform(0.1, 2, (3, 4))}, RNG.integers(0, 4, (2, 3)), False),
    "categorical_logits": (lambda D, p: D.Categorical(logits=p["logits"]),
                           {"logits": RNG.normal(size=(3, 4))}, RNG.integers(0, 4, (5, 1)), False),
    "onehot_probs": (lambda D, p: D.OneHotCategorical(probs=p["probs"]),
                     {"probs": RNG.uniform(0.1, 2, (3, 4))}, _onehot(RNG.integers(0, 4, (2, 3)), 4), False),
    "onehot_logits": (lambda D, p: D.OneHotCategorical(logits=p["logits"]),
                      {"logits": RNG.normal(size=(3, 4))}, _onehot(RNG.integers(0, 4, (2, 3)), 4), False),
    "mvn_cov": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                {"loc": RNG.normal(size=(3, 2)), "cov": _spd(2)}, RNG.normal(size=(4, 3, 2)), False),
    "mvn_batched_cov": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                        {"loc": RNG.normal(size=(3,)), "cov": _spd(3, (2,))}, RNG.normal(size=(4, 2, 3)), False),
    "mvn_precision": (lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
                      {"loc": RNG.normal(size=(3,)), "prec": _spd(3)}, RNG.normal(size=(4, 3)), False),
    "mvn_scale_tril": (lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["L"]),
                       {"loc": RNG.normal(size=(3,)), "L": np.linalg.cholesky(_spd(3))}, RNG.normal(size=(4, 3)), False),
    "independent_normal": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
                           {"loc": RNG.normal(size=(3, 2)), "scale": RNG.uniform(0.5, 2, (3, 2))},
                           RNG.normal(size=(4, 3, 2)), False),
    "independent_bernoulli_2": (lambda D, p: D.Independent(D.Bernoulli(logits=p["logits"]), 2),
                                {"logits": RNG.normal(size=(3, 2))}, RNG.integers(0, 2, (4, 3, 2)).astype(float), False),
}


def _both(params):
    """The parameters as gdl and torch float64 leaves requiring grad."""
    ours = {k: gdl.tensor(v, dtype=gdl.float64, requires_grad=True) for k, v in params.items()}
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    return ours, theirs


def _value(a, lib):
    if np.issubdtype(np.asarray(a).dtype, np.integer):
        return gdl.tensor(a, dtype=gdl.int64) if lib is gdl else torch.tensor(a, dtype=torch.int64)
    return gdl.tensor(a, dtype=gdl.float64) if lib is gdl else torch.tensor(a, dtype=torch.float64)


def _close(ours, theirs, msg):
    theirs = theirs.detach().numpy()
    ours = ours.detach().numpy()
    assert ours.shape == theirs.shape, f"{msg}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, err_msg=msg, **TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    build, params, value, has_cdf = CASES[name]
    ours_p, theirs_p = _both(params)
    d, t = build(GD, ours_p), build(TD, theirs_p)
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    assert d.has_rsample == t.has_rsample
    assert d.sample((5,)).shape == tuple(t.sample((5,)).shape)
    lp, lpt = d.log_prob(_value(value, gdl)), t.log_prob(_value(value, torch))
    _close(lp, lpt, f"{name} log_prob")
    ent, entt = d.entropy(), t.entropy()
    _close(ent, entt, f"{name} entropy")
    for prop in ("mean", "mode", "variance", "stddev"):
        _close(getattr(d, prop), getattr(t, prop), f"{name} {prop}")
    total = [lp, ent, d.mean, d.variance]
    total_t = [lpt, entt, t.mean, t.variance]
    if has_cdf:
        c, ct = d.cdf(_value(value, gdl)), t.cdf(_value(value, torch))
        _close(c, ct, f"{name} cdf")
        total.append(c)
        total_t.append(ct)
    w = [RNG.normal(size=x.shape) for x in total]
    ok = [np.isfinite(x.detach().numpy()) for x in total_t]
    s = sum((gdl.where(gdl.tensor(m), x, 0.0) * gdl.tensor(wi)).sum() for x, wi, m in zip(total, w, ok))
    st = sum((torch.where(torch.tensor(m), x, 0.0) * torch.tensor(wi)).sum() for x, wi, m in zip(total_t, w, ok))
    s.backward()
    st.backward()
    for k in params:
        assert ours_p[k].grad is not None, f"{name}: no gradient reached {k}"
        _close(ours_p[k].grad, theirs_p[k].grad, f"{name} d/d{k}")


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "laplace", "mvn_cov", "mvn_scale_tril",
                                  "independent_normal"])
def test_rsample_gradients_match_torch_for_the_same_noise(name):
    """rsample is ``loc + scale * noise`` (or its analogue): with the sample pulled back to
    its noise, the derivative of a sample with respect to each parameter is torch's."""
    build, params, _, _ = CASES[name]
    ours_p, theirs_p = _both(params)
    gdl.manual_seed(3)
    x = build(GD, ours_p).rsample((2,))
    w = RNG.normal(size=x.shape)
    (x * gdl.tensor(w)).sum().backward()
    # torch's rsample draws other numbers: rebuild gdl's sample in torch from its noise
    t = build(TD, theirs_p)
    xs = torch.tensor(x.detach().numpy())
    if name in ("normal", "laplace", "independent_normal"):
        base = t.base_dist if name == "independent_normal" else t
        noise = ((xs - base.loc) / base.scale).detach()
        xt = base.loc + base.scale * noise
    elif name == "uniform":
        xt = t.low + ((xs - t.low) / (t.high - t.low)).detach() * (t.high - t.low)
    elif name == "exponential":
        xt = (xs * t.rate).detach() / t.rate
    else:
        L = t._unbroadcasted_scale_tril
        noise = torch.linalg.solve_triangular(L, (xs - t.loc).unsqueeze(-1), upper=False).detach()
        xt = t.loc + (L @ noise).squeeze(-1)
    np.testing.assert_allclose(xt.detach().numpy(), x.numpy(), rtol=1e-10, atol=1e-12)
    (xt * torch.tensor(w)).sum().backward()
    for k in params:
        _close(ours_p[k].grad, theirs_p[k].grad, f"{name} rsample d/d{k}")


KL_PAIRS = {
    "normal": (lambda D, p: (D.Normal(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
               {"a": RNG.normal(size=(3,)), "b": RNG.uniform(0.5, 2, (3,)), "c": RNG.normal(size=(2, 1)),
                "d": RNG.uniform(0.5, 2, (3,))}),
    "bernoulli": (lambda D, p: (D.Bernoulli(probs=p["a"]), D.Bernoulli(logits=p["b"])),
                  {"a": RNG.uniform(0.1, 0.9, (4,)), "b": RNG.normal(size=(4,))}),
    "categorical": (lambda D, p: (D.Categorical(probs=p["a"]), D.Categorical(logits=p["b"])),
                    {"a": RNG.uniform(0.1, 1, (3, 5)), "b": RNG.normal(size=(5,))}),
    "onehot": (lambda D, p: (D.OneHotCategorical(logits=p["a"]), D.OneHotCategorical(probs=p["b"])),
               {"a": RNG.normal(size=(3, 5)), "b": RNG.uniform(0.1, 1, (3, 5))}),
    "uniform": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Uniform(p["c"], p["d"])),
                {"a": RNG.uniform(-1, 0, (3,)), "b": RNG.uniform(1, 2, (3,)), "c": RNG.uniform(-3, -2, (3,)),
                 "d": RNG.uniform(2, 3, (3,))}),
    "exponential": (lambda D, p: (D.Exponential(p["a"]), D.Exponential(p["b"])),
                    {"a": RNG.uniform(0.5, 2, (3,)), "b": RNG.uniform(0.5, 2, (3,))}),
    "laplace": (lambda D, p: (D.Laplace(p["a"], p["b"]), D.Laplace(p["c"], p["d"])),
                {"a": RNG.normal(size=(3,)), "b": RNG.uniform(0.5, 2, (3,)), "c": RNG.normal(size=(3,)),
                 "d": RNG.uniform(0.5, 2, (3,))}),
    "mvn": (lambda D, p: (D.MultivariateNormal(p["a"], covariance_matrix=p["b"]),
                          D.MultivariateNormal(p["c"], scale_tril=p["d"])),
            {"a": RNG.normal(size=(2, 3)), "b": _spd(3), "c": RNG.normal(size=(3,)),
             "d": np.linalg.cholesky(_spd(3, (2,)))}),
    "mvn_precision": (lambda D, p: (D.MultivariateNormal(p["a"], precision_matrix=p["b"]),
                                    D.MultivariateNormal(p["c"], covariance_matrix=p["d"])),
                      {"a": RNG.normal(size=(3,)), "b": _spd(3), "c": RNG.normal(size=(3,)), "d": _spd(3)}),
    "independent": (lambda D, p: (D.Independent(D.Normal(p["a"], p["b"]), 2),
                                  D.Independent(D.Normal(p["c"], p["d"]), 2)),
                    {"a": RNG.normal(size=(2, 3, 4)), "b": RNG.uniform(0.5, 2, (2, 3, 4)),
                     "c": RNG.normal(size=(2, 3, 4)), "d": RNG.uniform(0.5, 2, (2, 3, 4))}),
}


@pytest.mark.parametrize("name", sorted(KL_PAIRS))
def test_kl_divergence_and_its_gradients_match_torch(name):
    build, params = KL_PAIRS[name]
    ours_p, theirs_p = _both(params)
    kl, klt = GD.kl_divergence(*build(GD, ours_p)), TD.kl_divergence(*build(TD, theirs_p))
    _close(kl, klt, f"KL {name}")
    w = RNG.normal(size=kl.shape)
    (kl * gdl.tensor(w)).sum().backward()
    (klt * torch.tensor(w)).sum().backward()
    for k in params:
        _close(ours_p[k].grad, theirs_p[k].grad, f"KL {name} d/d{k}")


def test_kl_edge_values_match_torch():
    """Zero probabilities and non-nested supports give torch's 0 and inf."""
    for build in (lambda D, T: (D.Bernoulli(T([0.0, 1.0, 0.3, 0.3])), D.Bernoulli(T([0.5, 0.5, 0.0, 1.0]))),
                  lambda D, T: (D.Categorical(T([[0.0, 1.0], [0.5, 0.5]])), D.Categorical(T([[0.5, 0.5], [1.0, 0.0]]))),
                  lambda D, T: (D.Uniform(T([0.0, 0.0, -1.0]), T([1.0, 2.0, 0.5])),
                                D.Uniform(T([-1.0, 0.5, -1.0]), T([2.0, 3.0, 0.0])))):
        ours = GD.kl_divergence(*build(GD, lambda a: gdl.tensor(a, dtype=gdl.float64)))
        theirs = TD.kl_divergence(*build(TD, lambda a: torch.tensor(a, dtype=torch.float64)))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **TOL)


def _raises_like_torch(fn, match=None):
    """``fn(D, T)`` raises the same exception type on gdl and torch (and, with ``match``,
    gdl's message contains it)."""
    with pytest.raises(Exception) as theirs:
        fn(TD, lambda a: torch.tensor(a, dtype=torch.float64))
    with pytest.raises(theirs.type) as ours:
        fn(GD, lambda a: gdl.tensor(a, dtype=gdl.float64))
    if match:
        assert match in str(ours.value), str(ours.value)


@pytest.mark.parametrize("fn,match", [
    (lambda D, T: D.Normal(T(0.0), T(-1.0)), "Expected parameter scale"),
    (lambda D, T: D.Normal(T([0.0, float("nan")]), T(1.0)), "Expected parameter loc"),
    (lambda D, T: D.Uniform(T(1.0), T(0.0)), "Expected parameter low"),
    (lambda D, T: D.Exponential(T([1.0, 0.0])), "Expected parameter rate"),
    (lambda D, T: D.Laplace(T(0.0), T(0.0)), "Expected parameter scale"),
    (lambda D, T: D.Bernoulli(probs=T(1.5)), "Expected parameter probs"),
    (lambda D, T: D.Bernoulli(), "Either `probs` or `logits`"),
    (lambda D, T: D.Bernoulli(probs=T(0.5), logits=T(0.0)), "Either `probs` or `logits`"),
    (lambda D, T: D.Categorical(probs=T(0.5)), "at least one-dimensional"),
    (lambda D, T: D.Categorical(probs=T([-1.0, 2.0])), "Expected parameter probs"),
    (lambda D, T: D.MultivariateNormal(T([0.0, 0.0])), "Exactly one of"),
    (lambda D, T: D.MultivariateNormal(T(0.0), T([[1.0, 0.0], [0.0, 1.0]])), "loc must be at least one-dimensional"),
    (lambda D, T: D.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 2.0], [2.0, 1.0]])), "covariance_matrix"),
    (lambda D, T: D.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 2.0], [0.0, 1.0]])), "scale_tril"),
    (lambda D, T: D.Independent(D.Normal(T(0.0), T(1.0)), 1), "reinterpreted_batch_ndims"),
    (lambda D, T: D.Normal(T(0.0), T(1.0)).log_prob(1.0), "must be a Tensor"),
    (lambda D, T: D.Normal(T([0.0, 0.0]), T(1.0)).log_prob(T([0.0, 0.0, 0.0])), "not broadcastable"),
    (lambda D, T: D.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 0.0], [0.0, 1.0]])).log_prob(T([0.0, 0.0, 0.0])),
     "right-most size"),
    (lambda D, T: D.Bernoulli(T(0.3)).log_prob(T(0.5)), "within the support"),
    (lambda D, T: D.Uniform(T(0.0), T(1.0)).log_prob(T(2.0)), "within the support"),
    (lambda D, T: D.Exponential(T(1.0)).log_prob(T(-1.0)), "within the support"),
    (lambda D, T: D.Categorical(T([0.5, 0.5])).log_prob(torch.tensor(2) if D is TD else gdl.tensor(2)),
     "within the support"),
    (lambda D, T: D.OneHotCategorical(T([0.5, 0.5])).log_prob(T([0.0, 0.0])), "within the support"),
    (lambda D, T: D.Bernoulli(T(0.3)).rsample(), None),
    (lambda D, T: D.kl_divergence(D.Bernoulli(T(0.3)), D.Normal(T(0.0), T(1.0))), "No KL(p || q)"),
    (lambda D, T: D.kl_divergence(D.MultivariateNormal(T([0.0, 0.0]), T(np.eye(2))),
                                  D.MultivariateNormal(T([0.0, 0.0, 0.0]), T(np.eye(3)))), "different event shapes"),
    (lambda D, T: D.kl_divergence(D.Independent(D.Normal(T(np.zeros((2, 2))), T(1.0)), 1),
                                  D.Independent(D.Normal(T(np.zeros((2, 2))), T(1.0)), 2)), None),
])
def test_errors_match_torch(fn, match):
    _raises_like_torch(fn, match)


def test_validate_args_false_skips_checks_as_torch():
    for D, T in ((GD, lambda a: gdl.tensor(a, dtype=gdl.float64)), (TD, lambda a: torch.tensor(a, dtype=torch.float64))):
        d = D.Uniform(T(0.0), T(1.0), validate_args=False)
        assert float(d.log_prob(T(2.0))) == -np.inf
        D.Normal(T(0.0), T(-1.0), validate_args=False)  # no error


def test_repr_and_support_match_torch():
    pairs = [
        (GD.Normal(0.0, 1.0), TD.Normal(0.0, 1.0)),
        (GD.Uniform(0.0, 1.0), TD.Uniform(0.0, 1.0)),
        (GD.Bernoulli(0.25), TD.Bernoulli(0.25)),
        (GD.Exponential(2.0), TD.Exponential(2.0)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert repr(ours.support) == repr(theirs.support)
    ours, theirs = GD.Categorical(gdl.tensor([0.5, 0.5])), TD.Categorical(torch.tensor([0.5, 0.5]))
    assert repr(ours.support) == repr(theirs.support)
    assert repr(GD.Normal(gdl.zeros(2), 1.0)) == "Normal(loc: (2,), scale: (2,))"


def test_enumerate_support_and_expand_match_torch():
    g = GD.Categorical(probs=gdl.tensor(np.full((2, 3), 1 / 3)))
    t = TD.Categorical(probs=torch.tensor(np.full((2, 3), 1 / 3)))
    np.testing.assert_array_equal(g.enumerate_support().numpy(), t.enumerate_support().numpy())
    np.testing.assert_array_equal(g.enumerate_support(expand=False).numpy(), t.enumerate_support(expand=False).numpy())
    gb, tb = GD.Bernoulli(gdl.tensor([0.2, 0.7])), TD.Bernoulli(torch.tensor([0.2, 0.7]))
    np.testing.assert_array_equal(gb.enumerate_support().numpy(), tb.enumerate_support().numpy())
    go = GD.OneHotCategorical(gdl.tensor([[0.2, 0.8]]))
    to = TD.OneHotCategorical(torch.tensor([[0.2, 0.8]]))
    np.testing.assert_array_equal(go.enumerate_support().numpy(), to.enumerate_support().numpy())
    for build in (lambda D, T: D.Normal(T([0.0, 1.0]), T(2.0)),
                  lambda D, T: D.Categorical(logits=T([[0.0, 1.0, 2.0]])),
                  lambda D, T: D.MultivariateNormal(T([0.0, 1.0]), T([[2.0, 0.5], [0.5, 1.0]])),
                  lambda D, T: D.Independent(D.Normal(T([0.0, 1.0]), T(2.0)), 1),
                  lambda D, T: D.OneHotCategorical(T([0.2, 0.8]))):
        g = build(GD, lambda a: gdl.tensor(a, dtype=gdl.float64))
        t = build(TD, lambda a: torch.tensor(a, dtype=torch.float64))
        shape = (4,) + tuple(t.batch_shape) if t.batch_shape else (4,)
        ge, te = g.expand(shape), t.expand(shape)
        assert ge.batch_shape == tuple(te.batch_shape) and ge.event_shape == tuple(te.event_shape)
        x = te.sample((3,))
        gx = gdl.tensor(x.numpy())
        np.testing.assert_allclose(ge.log_prob(gx).numpy(), te.log_prob(x).numpy(), **TOL)
        np.testing.assert_allclose(ge.entropy().numpy(), te.entropy().numpy(), **TOL)
