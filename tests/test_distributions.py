"""gdl.distributions on every backend: densities, entropies and moments against closed
forms, sample shapes and statistics, rsample and log_prob gradients, KL against Monte
Carlo, parameter broadcasting, register_kl dispatch, and the validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.distributions as D
from gdl.testing import gradcheck

F64 = gdl.float64


def t64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def close(ours, expected, rtol=1e-10, atol=1e-12):
    got = ours.detach().numpy() if isinstance(ours, gdl.Tensor) else np.asarray(ours)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


RNG = np.random.default_rng(11)


# -- closed forms -------------------------------------------------------------------------------


def test_normal_closed_forms(backend):
    loc, scale = RNG.normal(size=(3, 1)), RNG.uniform(0.5, 2, (4,))
    x = RNG.normal(size=(2, 3, 4))
    d = D.Normal(t64(loc), t64(scale))
    assert d.batch_shape == (3, 4) and d.event_shape == ()
    close(d.log_prob(t64(x)), -((x - loc) ** 2) / (2 * scale**2) - np.log(scale) - 0.5 * np.log(2 * np.pi))
    close(d.entropy(), np.broadcast_to(0.5 * np.log(2 * np.pi * np.e * scale**2), (3, 4)))
    close(d.mean, np.broadcast_to(loc, (3, 4)))
    close(d.mode, np.broadcast_to(loc, (3, 4)))
    close(d.variance, np.broadcast_to(scale**2, (3, 4)))
    close(d.stddev, np.broadcast_to(scale, (3, 4)))
    cdf = np.vectorize(lambda v, m, s: 0.5 * (1 + math.erf((v - m) / (s * math.sqrt(2)))))(x, loc, scale)
    close(d.cdf(t64(x)), cdf, rtol=1e-9)
    close(d.icdf(d.cdf(t64(x))), x, rtol=1e-7, atol=1e-7)


def test_uniform_closed_forms(backend):
    low, high = RNG.uniform(-2, -1, (3,)), RNG.uniform(1, 2, (3,))
    d = D.Uniform(t64(low), t64(high))
    x = np.array([low[0], 0.0, high[2]])  # high itself has density 0 (the interval is half-open)
    close(d.log_prob(t64(x)), [-np.log(high[0] - low[0]), -np.log(high[1] - low[1]), -np.inf])
    close(d.entropy(), np.log(high - low))
    close(d.mean, (low + high) / 2)
    close(d.variance, (high - low) ** 2 / 12)
    close(d.stddev, (high - low) / np.sqrt(12))
    assert np.isnan(d.mode.numpy()).all()
    close(d.cdf(t64(x)), (x - low) / (high - low))
    close(d.icdf(t64([0.0, 0.5, 1.0])), low + np.array([0.0, 0.5, 1.0]) * (high - low))


def test_exponential_closed_forms(backend):
    rate, x = RNG.uniform(0.5, 3, (3,)), RNG.uniform(0, 3, (2, 3))
    d = D.Exponential(t64(rate))
    close(d.log_prob(t64(x)), np.log(rate) - rate * x)
    close(d.entropy(), 1 - np.log(rate))
    close(d.mean, 1 / rate)
    close(d.variance, 1 / rate**2)
    close(d.mode, np.zeros(3))
    close(d.cdf(t64(x)), 1 - np.exp(-rate * x))
    close(d.icdf(d.cdf(t64(x))), x, rtol=1e-9, atol=1e-12)


def test_laplace_closed_forms(backend):
    loc, scale, x = RNG.normal(size=(3,)), RNG.uniform(0.5, 2, (3,)), RNG.normal(size=(5, 3))
    d = D.Laplace(t64(loc), t64(scale))
    close(d.log_prob(t64(x)), -np.log(2 * scale) - np.abs(x - loc) / scale)
    close(d.entropy(), 1 + np.log(2 * scale))
    close(d.variance, 2 * scale**2)
    close(d.stddev, np.sqrt(2) * scale)
    cdf = np.where(x < loc, 0.5 * np.exp((x - loc) / scale), 1 - 0.5 * np.exp(-(x - loc) / scale))
    close(d.cdf(t64(x)), cdf)
    close(d.icdf(t64(cdf)), x, rtol=1e-9, atol=1e-12)


def test_bernoulli_closed_forms_from_probs_and_logits(backend):
    p = np.array([0.1, 0.5, 0.8])
    for d in (D.Bernoulli(probs=t64(p)), D.Bernoulli(logits=t64(np.log(p / (1 - p))))):
        x = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        close(d.log_prob(t64(x)), x * np.log(p) + (1 - x) * np.log(1 - p), rtol=1e-9)
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-9)
        close(d.mean, p, rtol=1e-12)
        close(d.variance, p * (1 - p), rtol=1e-12)
        close(d.probs, p, rtol=1e-12)
        close(d.logits, np.log(p / (1 - p)), rtol=1e-9)
    mode = D.Bernoulli(probs=t64(p)).mode.numpy()
    assert mode[0] == 0 and np.isnan(mode[1]) and mode[2] == 1


def test_categorical_closed_forms(backend):
    w = RNG.uniform(0.1, 2, (3, 4))
    p = w / w.sum(-1, keepdims=True)
    for d in (D.Categorical(probs=t64(w)), D.Categorical(logits=t64(np.log(w)))):
        assert d.batch_shape == (3,) and d.event_shape == ()
        close(d.probs, p, rtol=1e-12)
        idx = np.array([[0, 1, 3], [2, 2, 0]])
        close(d.log_prob(gdl.tensor(idx)), np.log(p[np.arange(3), idx]), rtol=1e-12)
        close(d.entropy(), -(p * np.log(p)).sum(-1), rtol=1e-12)
        np.testing.assert_array_equal(d.mode.numpy(), p.argmax(-1))
        assert np.isnan(d.mean.numpy()).all() and d.mean.shape == (3,)
        # a value of shape (5, 1) broadcasts against the batch (3,)
        v = np.arange(5).reshape(5, 1) % 4
        close(d.log_prob(gdl.tensor(v)), np.log(p[np.arange(3), np.broadcast_to(v, (5, 3))]), rtol=1e-12)


def test_one_hot_categorical_closed_forms(backend):
    w = RNG.uniform(0.1, 2, (2, 3))
    p = w / w.sum(-1, keepdims=True)
    d = D.OneHotCategorical(probs=t64(w))
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    x = np.eye(3)[[[2, 0], [1, 1]]]
    close(d.log_prob(t64(x)), np.log(p[np.arange(2), [[2, 0], [1, 1]]]), rtol=1e-12)
    close(d.entropy(), -(p * np.log(p)).sum(-1), rtol=1e-12)
    close(d.mean, p, rtol=1e-12)
    close(d.variance, p * (1 - p), rtol=1e-12)
    close(d.mode, np.eye(3)[p.argmax(-1)])


def _mvn_logpdf(x, mu, cov):
    n = mu.shape[-1]
    diff = x - mu
    sol = np.linalg.solve(cov, diff[..., None])[..., 0]
    return -0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + (diff * sol).sum(-1))


def _spd(n):
    a = RNG.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


@pytest.mark.parametrize("how", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_closed_forms(backend, how):
    mu, cov = RNG.normal(size=(2, 3)), _spd(3)
    arg = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov), "scale_tril": np.linalg.cholesky(cov)}[how]
    d = D.MultivariateNormal(t64(mu), **{how: t64(arg)})
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    x = RNG.normal(size=(4, 2, 3))
    close(d.log_prob(t64(x)), _mvn_logpdf(x, mu, cov), rtol=1e-9)
    close(d.entropy(), np.full(2, 0.5 * (3 * (1 + np.log(2 * np.pi)) + np.linalg.slogdet(cov)[1])), rtol=1e-9)
    close(d.mean, mu)
    close(d.variance, np.broadcast_to(np.diag(cov), (2, 3)), rtol=1e-9)
    close(d.covariance_matrix, np.broadcast_to(cov, (2, 3, 3)), rtol=1e-9)
    close(d.precision_matrix, np.broadcast_to(np.linalg.inv(cov), (2, 3, 3)), rtol=1e-8, atol=1e-12)
    close(d.scale_tril, np.broadcast_to(np.linalg.cholesky(cov), (2, 3, 3)), rtol=1e-9, atol=1e-12)


def test_independent_sums_over_reinterpreted_axes(backend):
    loc, scale = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 2, (2, 3))
    base = D.Normal(t64(loc), t64(scale))
    d = D.Independent(base, 1)
    assert d.batch_shape == (2,) and d.event_shape == (3,) and d.has_rsample
    x = RNG.normal(size=(4, 2, 3))
    close(d.log_prob(t64(x)), base.log_prob(t64(x)).numpy().sum(-1))
    close(d.entropy(), base.entropy().numpy().sum(-1))
    close(d.mean, loc)
    d2 = D.Independent(base, 2)
    assert d2.batch_shape == () and d2.event_shape == (2, 3)
    close(d2.log_prob(t64(x)), base.log_prob(t64(x)).numpy().sum((-2, -1)))
    assert D.Independent(D.Bernoulli(t64([0.5])), 1).has_rsample is False


# -- parameters ---------------------------------------------------------------------------------


def test_parameters_broadcast_and_take_the_tensor_dtype(backend):
    d = D.Normal(t64(np.zeros((3, 1))), gdl.ones(4, dtype=F64))
    assert d.batch_shape == (3, 4) and d.loc.shape == (3, 4) and d.scale.shape == (3, 4)
    d = D.Normal(t64([0.0, 1.0]), 2.0)
    assert d.scale.dtype == F64 and d.scale.backend == backend and d.scale.shape == (2,)
    d = D.Normal(0.0, 1.0)
    assert d.batch_shape == () and d.loc.dtype == gdl.float32 and d.loc.backend == backend
    assert D.Bernoulli(0.3).probs.dtype == gdl.float32
    with pytest.raises(ValueError, match="do not broadcast"):
        D.Normal(gdl.zeros(2), gdl.ones(3))
    with pytest.raises(TypeError, match="floating"):
        D.Normal(gdl.tensor([0, 1]), 1.0)
    with pytest.raises(TypeError, match="Tensor or a Python number"):
        D.Normal("0", 1.0)
    with pytest.raises(TypeError, match="must be a Tensor"):
        D.Categorical(probs=[0.5, 0.5])


def test_float32_parameters_give_float32_results(backend):
    d = D.Normal(gdl.zeros(3), gdl.ones(3))
    assert d.rsample((2,)).dtype == gdl.float32
    assert d.log_prob(gdl.zeros(3)).dtype == gdl.float32
    assert D.Laplace(gdl.zeros(3), 1.0).rsample().dtype == gdl.float32
    assert D.Exponential(gdl.ones(3)).sample().dtype == gdl.float32


# -- sampling ----------------------------------------------------------------------------------


def _dists():
    w = t64([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    return {
        "normal": D.Normal(t64([0.5, -1.0]), t64([1.0, 2.0])),
        "uniform": D.Uniform(t64([0.0, -1.0]), t64([1.0, 3.0])),
        "exponential": D.Exponential(t64([0.5, 2.0])),
        "laplace": D.Laplace(t64([1.0, -2.0]), t64([0.5, 1.5])),
        "bernoulli": D.Bernoulli(t64([0.2, 0.9])),
        "categorical": D.Categorical(w),
        "onehot": D.OneHotCategorical(w),
        "mvn": D.MultivariateNormal(t64([[0.0, 1.0], [2.0, -1.0]]), t64([[2.0, 0.6], [0.6, 1.0]])),
        "independent": D.Independent(D.Normal(t64([0.5, -1.0]), t64([1.0, 2.0])), 1),
    }


@pytest.mark.parametrize("name", sorted(_dists()))
def test_sample_shapes_and_no_graph(backend, name):
    d = _dists()[name]
    for shape in ((), (5,), (4, 3)):
        x = d.sample(shape)
        assert x.shape == shape + d.batch_shape + d.event_shape
        assert not x.requires_grad
    assert d.sample(3).shape == (3,) + d.batch_shape + d.event_shape  # an int is one axis
    assert d.sample((0,)).shape == (0,) + d.batch_shape + d.event_shape
    if d.has_rsample:
        assert d.rsample((2,)).shape == (2,) + d.batch_shape + d.event_shape
    else:
        with pytest.raises(NotImplementedError):
            d.rsample()
    assert d.sample().dtype == (gdl.int64 if name == "categorical" else F64)


_NO_RSAMPLE = ("bernoulli", "categorical", "onehot")


@pytest.mark.parametrize("name,method", [(n, "sample") for n in sorted(_dists())] +
                         [(n, "rsample") for n in sorted(_dists()) if n not in _NO_RSAMPLE])
def test_sample_statistics_match_mean_and_variance(backend, name, method):
    """Over 40,000 draws (fixed seed), the sample mean and variance lie within 5 standard
    errors of the distribution's mean and variance."""
    d = _dists()[name]
    assert d.has_rsample == (name not in _NO_RSAMPLE)
    n = 40_000
    x = getattr(d, method)((n,)).detach().numpy().astype(np.float64)
    if name == "categorical":  # check the frequencies of each category
        freq = np.stack([(x == k).mean(0) for k in range(3)], -1)
        p = d.probs.numpy()
        assert (np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n)).all(), (freq, p)
        return
    mean, var = d.mean.numpy(), d.variance.numpy()
    m, v = x.mean(0), x.var(0)
    assert (np.abs(m - mean) < 5 * np.sqrt(var / n)).all(), (m, mean)
    m4 = ((x - m) ** 4).mean(0)
    assert (np.abs(v - var) < 5 * np.sqrt((m4 - v**2) / n) + 1e-12).all(), (v, var)
    if name == "mvn":  # and the off-diagonal covariance
        c = ((x[:, :, 0] - m[:, 0]) * (x[:, :, 1] - m[:, 1])).mean(0)
        assert (np.abs(c - 0.6) < 0.05).all(), c


def test_sampling_repeats_with_the_seed(backend):
    d = D.Normal(gdl.zeros(3), 1.0)
    gdl.manual_seed(5)
    a = d.sample((4,)).numpy()
    gdl.manual_seed(5)
    np.testing.assert_array_equal(a, d.sample((4,)).numpy())
    c = D.Categorical(logits=gdl.zeros(3, 5))
    gdl.manual_seed(5)
    a = c.sample((4,)).numpy()
    gdl.manual_seed(5)
    np.testing.assert_array_equal(a, c.sample((4,)).numpy())


def test_categorical_samples_only_categories_with_mass(backend):
    d = D.Categorical(probs=t64([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]))
    x = d.sample((200,)).numpy()
    assert (x[:, 0] == 1).all() and set(np.unique(x[:, 1])) == {0, 2}
    assert set(np.unique(D.Bernoulli(t64([0.0, 1.0])).sample((50,)).numpy()[:, 1])) == {1.0}


# -- gradients ---------------------------------------------------------------------------------


def test_rsample_gradients_are_the_reparameterisation(backend):
    """d sample / d loc = 1 and d sample / d scale = the noise, for each reparameterised draw."""
    loc, scale = t64([0.5, -1.0], grad=True), t64([1.0, 2.0], grad=True)
    x = D.Normal(loc, scale).rsample((3,))
    x.sum().backward()
    close(loc.grad, [3.0, 3.0])
    close(scale.grad, ((x.detach().numpy() - [0.5, -1.0]) / [1.0, 2.0]).sum(0))

    loc, scale = t64([0.5, -1.0], grad=True), t64([1.0, 2.0], grad=True)
    x = D.Laplace(loc, scale).rsample((3,))
    x.sum().backward()
    close(loc.grad, [3.0, 3.0])
    close(scale.grad, ((x.detach().numpy() - [0.5, -1.0]) / [1.0, 2.0]).sum(0))

    low, high = t64([0.0, -1.0], grad=True), t64([1.0, 3.0], grad=True)
    x = D.Uniform(low, high).rsample((3,))
    x.sum().backward()
    u = (x.detach().numpy() - [0.0, -1.0]) / [1.0, 4.0]
    close(low.grad, (1 - u).sum(0))
    close(high.grad, u.sum(0))

    rate = t64([0.5, 2.0], grad=True)
    x = D.Exponential(rate).rsample((3,))
    x.sum().backward()
    close(rate.grad, (-x.detach().numpy() / [0.5, 2.0]).sum(0))

    loc, L = t64([0.0, 1.0], grad=True), t64([[1.0, 0.0], [0.5, 2.0]], grad=True)
    x = D.MultivariateNormal(loc, scale_tril=L).rsample((3,))
    x[:, 1].sum().backward()  # x1 = loc1 + L10 e0 + L11 e1
    close(loc.grad, [0.0, 3.0])
    e = np.linalg.solve(np.array([[1.0, 0.0], [0.5, 2.0]]), (x.detach().numpy() - [0.0, 1.0]).T).T
    close(L.grad, [[0.0, 0.0], e.sum(0)], rtol=1e-9)


def test_sample_carries_no_gradient(backend):
    loc = t64([0.0, 1.0], grad=True)
    d = D.Normal(loc, 1.0)
    assert not d.sample().requires_grad
    assert d.rsample().requires_grad


GRADCHECKS = {
    "normal": (lambda p: D.Normal(p[0], p[1]), [[0.3, -0.5], [1.2, 0.7]], [[0.1, 0.4], [-1.0, 2.0]]),
    "uniform": (lambda p: D.Uniform(p[0], p[1]), [[-1.0, -0.5], [1.2, 0.7]], [[0.1, 0.4], [-0.2, 0.5]]),
    "exponential": (lambda p: D.Exponential(p[0]), [[0.5, 2.0]], [[0.1, 0.4], [1.0, 2.0]]),
    "laplace": (lambda p: D.Laplace(p[0], p[1]), [[0.3, -0.5], [1.2, 0.7]], [[0.1, 0.4], [-1.0, 2.0]]),
    "bernoulli_probs": (lambda p: D.Bernoulli(probs=p[0]), [[0.3, 0.8]], [[1.0, 0.0], [0.0, 0.0]]),
    "bernoulli_logits": (lambda p: D.Bernoulli(logits=p[0]), [[0.3, -2.0]], [[1.0, 0.0], [0.0, 1.0]]),
    "categorical_probs": (lambda p: D.Categorical(probs=p[0]), [[[0.3, 0.5, 1.0], [0.2, 0.2, 0.6]]], [[0, 2], [1, 1]]),
    "categorical_logits": (lambda p: D.Categorical(logits=p[0]), [[[0.3, -0.5, 1.0], [0.2, 2.0, 0.6]]], [[0, 2], [1, 1]]),
    "onehot": (lambda p: D.OneHotCategorical(logits=p[0]), [[0.3, -0.5, 1.0]], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "mvn_cov": (lambda p: D.MultivariateNormal(p[0], covariance_matrix=p[1]), [[0.3, -0.5], [[2.0, 0.3], [0.3, 1.0]]],
                [[0.1, 0.4], [-1.0, 2.0]]),
    "mvn_precision": (lambda p: D.MultivariateNormal(p[0], precision_matrix=p[1]),
                      [[0.3, -0.5], [[2.0, 0.3], [0.3, 1.0]]], [[0.1, 0.4], [-1.0, 2.0]]),
    "mvn_tril": (lambda p: D.MultivariateNormal(p[0], scale_tril=p[1].tril()), [[0.3, -0.5], [[2.0, 0.0], [0.3, 1.0]]],
                 [[0.1, 0.4], [-1.0, 2.0]]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_log_prob_and_entropy_gradients_by_finite_differences(backend, name):
    build, params, value = GRADCHECKS[name]
    v = gdl.tensor(value) if name.startswith("categorical") else t64(value)
    ps = [t64(p, grad=True) for p in params]
    if name == "mvn_cov" or name == "mvn_precision":  # perturb a symmetric matrix symmetrically
        def fn(*a):
            m = a[1]
            return build([a[0], (m + m.mT) / 2]).log_prob(v)
    else:
        def fn(*a):
            return build(list(a)).log_prob(v)
    assert gradcheck(fn, ps)
    if name == "mvn_cov" or name == "mvn_precision":
        return
    assert gradcheck(lambda *a: build(list(a)).entropy(), ps)


# -- KL divergence ---------------------------------------------------------------------------------

def _kl_pairs():
    return {
        "normal": (D.Normal(t64([0.5, 0.0]), t64([1.2, 0.5])), D.Normal(t64([-0.3, 1.0]), t64([0.8, 1.0]))),
        "uniform": (D.Uniform(t64([0.0, -0.5]), t64([1.0, 0.5])), D.Uniform(t64([-1.0, -2.0]), t64([1.5, 1.0]))),
        "exponential": (D.Exponential(t64([0.5, 2.0])), D.Exponential(t64([1.5, 1.0]))),
        "laplace": (D.Laplace(t64([0.5, 0.0]), t64([1.2, 0.5])), D.Laplace(t64([-0.3, 1.0]), t64([0.8, 1.0]))),
        "bernoulli": (D.Bernoulli(t64([0.2, 0.7])), D.Bernoulli(logits=t64([0.5, -1.0]))),
        "categorical": (D.Categorical(t64([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])), D.Categorical(logits=t64([0.0, 1.0, -1.0]))),
        "onehot": (D.OneHotCategorical(t64([0.2, 0.3, 0.5])), D.OneHotCategorical(t64([0.4, 0.4, 0.2]))),
        "mvn": (D.MultivariateNormal(t64([[0.0, 1.0], [0.5, -0.5]]), t64([[2.0, 0.6], [0.6, 1.0]])),
                D.MultivariateNormal(t64([[1.0, 0.0], [0.0, 0.0]]), scale_tril=t64([[1.5, 0.0], [-0.3, 0.7]]))),
        "independent": (D.Independent(D.Normal(t64([0.5, 0.0]), t64([1.2, 0.5])), 1),
                        D.Independent(D.Normal(t64([-0.3, 1.0]), t64([0.8, 1.0])), 1)),
    }


@pytest.mark.parametrize("name", sorted(_kl_pairs()))
def test_kl_matches_a_monte_carlo_estimate(backend, name):
    p, q = _kl_pairs()[name]
    kl = D.kl_divergence(p, q)
    n = 40_000
    x = p.sample((n,))
    diff = (p.log_prob(x) - q.log_prob(x)).numpy()
    assert kl.shape == diff.shape[1:]
    se = diff.std(0) / np.sqrt(n)
    assert (np.abs(diff.mean(0) - kl.numpy()) < 5 * se + 1e-12).all(), (diff.mean(0), kl.numpy())
    assert (kl.numpy() > 0).all()


def test_kl_is_zero_for_equal_distributions_and_infinite_off_support(backend):
    for p in (D.Normal(t64([0.5]), t64([2.0])), D.Exponential(t64([0.7])), D.Laplace(t64([1.0]), t64([0.3])),
              D.Bernoulli(t64([0.3])), D.Categorical(t64([[0.2, 0.8]])), D.Uniform(t64([0.0]), t64([2.0])),
              D.MultivariateNormal(t64([[0.0, 1.0]]), t64([[2.0, 0.6], [0.6, 1.0]]))):
        close(D.kl_divergence(p, p), np.zeros(1), atol=1e-12)
    kl = D.kl_divergence(D.Uniform(t64([0.0]), t64([2.0])), D.Uniform(t64([0.5]), t64([3.0])))
    assert np.isinf(kl.numpy()).all()
    kl = D.kl_divergence(D.Bernoulli(t64([0.5, 0.0])), D.Bernoulli(t64([0.0, 0.0])))
    assert np.isinf(kl.numpy()[0]) and kl.numpy()[1] == 0


def test_kl_gradients_by_finite_differences(backend):
    def normal(a, b, c, d):
        return D.kl_divergence(D.Normal(a, b), D.Normal(c, d))

    args = [t64([0.5, 0.0], True), t64([1.2, 0.5], True), t64([-0.3, 1.0], True), t64([0.8, 1.0], True)]
    assert gradcheck(normal, args)

    def mvn(a, b, c, d):
        return D.kl_divergence(D.MultivariateNormal(a, scale_tril=b.tril()), D.MultivariateNormal(c, scale_tril=d.tril()))

    args = [t64([0.5, 0.0], True), t64([[1.2, 0.0], [0.4, 0.9]], True), t64([-0.3, 1.0], True),
            t64([[0.8, 0.0], [-0.2, 1.1]], True)]
    assert gradcheck(mvn, args)

    def cat(a, b):
        return D.kl_divergence(D.Categorical(logits=a), D.Categorical(probs=b))

    assert gradcheck(cat, [t64([[0.5, 0.0, -1.0]], True), t64([[0.2, 0.3, 0.5]], True)])


def test_register_kl_dispatches_to_the_most_specific_pair(backend):
    class MyNormal(D.Normal):
        pass

    class MyOtherNormal(MyNormal):
        pass

    p, q = MyOtherNormal(0.0, 1.0), MyOtherNormal(1.0, 1.0)
    close(D.kl_divergence(p, q), 0.5)  # Normal-Normal applies to subclasses

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return gdl.full_like(p.loc, 42.0)

    assert D.kl_divergence(p, q).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), q).item() == 0.5
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Bernoulli"):
        D.kl_divergence(D.Bernoulli(0.3), D.Normal(0.0, 1.0))
    from gdl.distributions import kl

    kl._KL_REGISTRY.pop((MyNormal, D.Normal))


# -- validation ----------------------------------------------------------------------------------


def test_parameter_validation_errors_name_the_parameter_and_constraint(backend):
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(loc: \(2,\), scale: \(2,\)\) to satisfy the constraint "
                                         r"GreaterThan\(lower_bound=0.0\)"):
        D.Normal(t64([0.0, 0.0]), t64([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected parameter low"):
        D.Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="Expected parameter rate"):
        D.Exponential(t64([1.0, 0.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Bernoulli(t64([1.5]))
    with pytest.raises(ValueError, match="Expected parameter logits"):
        D.Bernoulli(logits=t64([float("nan")]))
    with pytest.raises(ValueError, match="Expected parameter probs .* Simplex"):
        D.Categorical(t64([-1.0, 2.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(logits=t64(0.0))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(t64([0.0, 0.0]), t64([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(t64([0.0, 0.0]), precision_matrix=t64([[1.0, 0.5], [0.0, 1.0]]))  # not symmetric
    with pytest.raises(ValueError, match="LowerCholesky"):
        D.MultivariateNormal(t64([0.0, 0.0]), scale_tril=t64([[1.0, 0.0], [0.5, -1.0]]))
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(t64([0.0, 0.0]), t64(np.eye(2)), scale_tril=t64(np.eye(2)))
    with pytest.raises(ValueError, match="has 2 components"):
        D.MultivariateNormal(t64([0.0, 0.0]), t64(np.eye(3)))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(t64([0.0]), 1.0), 2)


def test_value_validation_errors(backend):
    d = D.Normal(t64([0.0, 1.0]), 1.0)
    with pytest.raises(ValueError, match="must be a Tensor"):
        d.log_prob([0.0, 1.0])
    with pytest.raises(ValueError, match="not broadcastable"):
        d.log_prob(t64([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
        D.MultivariateNormal(t64([0.0, 1.0]), t64(np.eye(2))).log_prob(t64([0.0]))
    with pytest.raises(ValueError, match=r"within the support \(Boolean\(\)\)"):
        D.Bernoulli(t64([0.3])).log_prob(t64([0.5]))
    with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0, upper_bound=2\)"):
        D.Categorical(t64([0.2, 0.3, 0.5])).log_prob(gdl.tensor(3))
    with pytest.raises(ValueError, match="OneHot"):
        D.OneHotCategorical(t64([0.2, 0.8])).log_prob(t64([1.0, 1.0]))
    with pytest.raises(ValueError, match="GreaterThanEq"):
        D.Exponential(t64([1.0])).log_prob(t64([-0.5]))
    with pytest.raises(ValueError, match="within the support"):
        D.Uniform(0.0, 1.0).log_prob(gdl.tensor(1.5))


def test_validate_args_off(backend):
    d = D.Uniform(0.0, 1.0, validate_args=False)
    assert d.log_prob(gdl.tensor(1.5)).item() == -math.inf
    D.Normal(0.0, -1.0, validate_args=False)
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="True or False"):
        D.Distribution.set_default_validate_args("yes")


def test_base_class_raises_not_implemented(backend):
    d = D.Distribution(batch_shape=(2,))
    assert d.batch_shape == (2,) and d.event_shape == ()
    for attr in ("mean", "mode", "variance", "support"):
        with pytest.raises(NotImplementedError):
            getattr(d, attr)
    for method in (d.entropy, d.sample, d.rsample):
        with pytest.raises(NotImplementedError):
            method()
    with pytest.raises(NotImplementedError):
        d.log_prob(gdl.zeros(2))
    assert repr(D.Independent(D.Normal(gdl.zeros(2), 1.0), 1)) == "Independent(Normal(loc: (2,), scale: (2,)), 1)"
    assert repr(D.Bernoulli(logits=gdl.zeros(3))) == "Bernoulli(logits: (3,))"


def test_expand(backend):
    d = D.Normal(t64([0.0, 1.0]), 2.0).expand((3, 2))
    assert d.batch_shape == (3, 2) and d.loc.shape == (3, 2) and d.sample().shape == (3, 2)
    c = D.Categorical(logits=t64([0.0, 1.0, 2.0])).expand((4,))
    assert c.batch_shape == (4,) and c.sample((2,)).shape == (2, 4)
    m = D.MultivariateNormal(t64([0.0, 1.0]), t64([[2.0, 0.5], [0.5, 1.0]])).expand((3,))
    assert m.batch_shape == (3,) and m.covariance_matrix.shape == (3, 2, 2) and m.rsample().shape == (3, 2)
    with pytest.raises(ValueError):
        D.Normal(t64([0.0, 1.0]), 2.0).expand((3,))
