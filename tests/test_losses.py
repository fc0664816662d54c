"""Losses: values against NumPy references, float64 gradient checks on every
backend, every reduction and option, and numerical stability at huge logits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
from gdl import nn
from gdl.nn import functional as F
from gdl.testing import gradcheck

F64 = gdl.float64
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
REDUCTIONS = ["mean", "sum", "none"]


def _t(a, dtype=F64, requires_grad=False):
    return gdl.tensor(np.asarray(a), dtype=dtype, requires_grad=requires_grad)


def _idx(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


# -- NumPy references ------------------------------------------------------------------------


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _classes_last(a):
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1]) if a.ndim > 1 else a[None, :]


def _reduce(losses, reduction, shape, denom=None):
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.sum() / (losses.size if denom is None else denom)
    return losses.reshape(shape)


def ce_ref(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's cross_entropy, written out in NumPy (float64)."""
    x = np.asarray(x, dtype=np.float64)
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    logp = _log_softmax(_classes_last(x), 1)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    out_shape = ((x.shape[0],) + x.shape[2:]) if x.ndim > 1 else ()
    if np.issubdtype(np.asarray(target).dtype, np.floating):
        dist = _classes_last(np.asarray(target, dtype=np.float64))
        dist = dist * (1 - label_smoothing) + label_smoothing / c
        losses = -(dist * w * logp).sum(1)
        return _reduce(losses, reduction, out_shape)
    t = np.asarray(target).reshape(-1)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    nll = -logp[np.arange(len(t)), safe] * w[safe] * valid
    smooth = -(logp * w).sum(1) * valid / c
    losses = (1 - label_smoothing) * nll + label_smoothing * smooth
    return _reduce(losses, reduction, out_shape, denom=(w[safe] * valid).sum())


def nll_ref(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    n, c = logp.shape
    w = np.ones(c) if weight is None else weight
    t = np.asarray(target)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    losses = -logp[np.arange(n), safe] * w[safe] * valid
    return _reduce(losses, reduction, (n,), denom=(w[safe] * valid).sum())


def bce_ref(p, t, weight=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_q = np.maximum(np.log(1 - p), -100.0)
    losses = -(t * log_p + (1 - t) * log_q)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, losses.shape)


def bce_logits_ref(x, t, weight=None, pos_weight=None, reduction="mean"):
    x = np.asarray(x, dtype=np.float64)
    log_sig = -np.logaddexp(0.0, -x)  # log sigmoid(x)
    log_one_minus = -np.logaddexp(0.0, x)  # log (1 - sigmoid(x))
    pw = 1.0 if pos_weight is None else pos_weight
    losses = -(pw * t * log_sig + (1 - t) * log_one_minus)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, losses.shape)


def mse_ref(x, y, reduction="mean"):
    d = (x - y) ** 2
    return _reduce(d, reduction, d.shape)


def _close(tensor, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=rtol, atol=atol)


# -- CrossEntropyLoss ------------------------------------------------------------------------


def test_cross_entropy_doc_example(backend):
    loss = nn.CrossEntropyLoss()(gdl.zeros(4, 10), gdl.tensor([1, 2, 3, 4]))
    assert loss.item() == pytest.approx(np.log(10), rel=1e-6)


@SETTINGS
@given(
    n=st.integers(1, 4), c=st.integers(2, 5), extra=st.sampled_from([(), (3,), (2, 2)]),
    reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), ignore=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.2]), seed=st.integers(0, 9999),
)
def test_cross_entropy_class_indices(backend, n, c, extra, reduction, weighted, ignore, smoothing, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + extra) * 3
    target = rng.integers(0, c, size=(n,) + extra)
    ignore_index = -100
    if ignore:
        ignore_index = int(target.reshape(-1)[0])  # ignore one class (PyTorch allows any value)
        target.reshape(-1)[-1] = ignore_index  # and make sure something else is kept too
        target.reshape(-1)[0] = (ignore_index + 1) % c
    w = rng.uniform(0.5, 2.0, size=c) if weighted else None
    kwargs = dict(weight=None if w is None else _t(w), ignore_index=ignore_index,
                  reduction=reduction, label_smoothing=smoothing)
    expected = ce_ref(x, target, w, ignore_index, reduction, smoothing)
    xt = _t(x, requires_grad=True)
    out = nn.CrossEntropyLoss(**kwargs)(xt, _idx(target))
    assert out.shape == np.shape(expected)
    _close(out, expected)
    assert gradcheck(lambda t: F.cross_entropy(t, _idx(target), **kwargs), [xt])


@SETTINGS
@given(
    n=st.integers(1, 4), c=st.integers(2, 5), extra=st.sampled_from([(), (3,)]),
    reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), seed=st.integers(0, 9999),
)
def test_cross_entropy_probability_targets(backend, n, c, extra, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + extra) * 3
    probs = rng.dirichlet(np.ones(c), size=(n,) + extra)
    probs = np.moveaxis(probs, -1, 1)
    w = rng.uniform(0.5, 2.0, size=c) if weighted else None
    kwargs = dict(weight=None if w is None else _t(w), reduction=reduction)
    xt = _t(x, requires_grad=True)
    out = F.cross_entropy(xt, _t(probs), **kwargs)
    _close(out, ce_ref(x, probs, w, reduction=reduction))
    assert gradcheck(lambda t: F.cross_entropy(t, _t(probs), **kwargs), [xt])


def test_cross_entropy_one_hot_probabilities_equal_class_indices(backend):
    x = gdl.randn(6, 4, dtype=F64)
    idx = np.array([0, 3, 1, 1, 2, 0])
    one_hot = np.eye(4)[idx]
    for reduction in REDUCTIONS:
        a = F.cross_entropy(x, _idx(idx), reduction=reduction).numpy()
        b = F.cross_entropy(x, _t(one_hot), reduction=reduction).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_cross_entropy_unbatched_input(backend):
    x = np.array([0.5, -1.0, 2.0])
    out = F.cross_entropy(_t(x), _idx(2))
    assert out.shape == ()
    _close(out, -_log_softmax(x, 0)[2])


def test_cross_entropy_gradient_is_softmax_minus_target(backend):
    """The book's ch9 output delta: (softmax - one_hot) / batch."""
    a = np.random.default_rng(0).standard_normal((5, 3))
    x = _t(a, requires_grad=True)
    y = np.array([0, 2, 1, 1, 0])
    F.cross_entropy(x, _idx(y)).backward()
    sm = np.exp(_log_softmax(a, 1))
    _close(x.grad, (sm - np.eye(3)[y]) / 5)


@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_cross_entropy_stable_for_huge_logits(backend, scale):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((8, 5)) * scale).astype(np.float32)
    a[0] = [scale, -scale, scale, 0, -scale]  # ties at the maximum
    y = rng.integers(0, 5, size=8)
    probs = rng.dirichlet(np.ones(5), size=8)
    for target, ref_target in [(_idx(y), y), (_t(probs, dtype=gdl.float32), probs)]:
        for reduction in REDUCTIONS:
            x = gdl.tensor(a, requires_grad=True)
            loss = F.cross_entropy(x, target, reduction=reduction)
            (loss if reduction != "none" else loss.sum()).backward()
            out, grad = loss.numpy(), x.grad.numpy()
            assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
            np.testing.assert_allclose(out, ce_ref(a.astype(np.float64), ref_target, reduction=reduction), rtol=1e-5)
            # each row of the gradient sums to zero (softmax and target both sum to one)
            np.testing.assert_allclose(grad.sum(1), 0, atol=1e-5)


def test_cross_entropy_all_mean_weighting_rules(backend):
    """mean = Σ w[y]·nll / Σ w[y] over kept targets: check a case by hand."""
    x = np.zeros((3, 2))  # every nll is log 2
    y = np.array([0, 1, 1])
    w = np.array([1.0, 3.0])
    out = F.cross_entropy(_t(x), _idx(y), weight=_t(w))
    assert out.item() == pytest.approx(np.log(2))  # (1+3+3)·log2 / 7
    out = F.cross_entropy(_t(x), _idx(y), weight=_t(w), reduction="sum")
    assert out.item() == pytest.approx(7 * np.log(2))
    out = F.cross_entropy(_t(x), _idx([0, -100, 1]), weight=_t(w), reduction="none")
    _close(out, [np.log(2), 0.0, 3 * np.log(2)])


def test_cross_entropy_ignored_targets_get_no_gradient(backend):
    x = gdl.randn(4, 3, dtype=F64, requires_grad=True)
    nn.CrossEntropyLoss(ignore_index=-1)(x, _idx([2, -1, 0, -1])).backward()
    g = x.grad.numpy()
    assert not np.any(g[[1, 3]]) and np.all(g[[0, 2]] != 0)
    one = nn.CrossEntropyLoss()(x[0:1], _idx([2])).item()
    two = nn.CrossEntropyLoss()(x[2:3], _idx([0])).item()
    assert nn.CrossEntropyLoss(ignore_index=-1)(x, _idx([2, -1, 0, -1])).item() == pytest.approx((one + two) / 2)


def test_cross_entropy_bad_targets_are_clear_errors(backend):
    x = gdl.zeros(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy.*\(4, 3\).*\(4,\).*\(2,\)"):
        F.cross_entropy(x, _idx([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.cross_entropy(x, _idx([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="probability targets"):
        F.cross_entropy(x, gdl.zeros(4, 2))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, _idx([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


# -- NLLLoss ---------------------------------------------------------------------------------


@SETTINGS
@given(
    n=st.integers(1, 5), c=st.integers(2, 5), reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(), ignore=st.booleans(), seed=st.integers(0, 9999),
)
def test_nll_loss(backend, n, c, reduction, weighted, ignore, seed):
    rng = np.random.default_rng(seed)
    logp = _log_softmax(rng.standard_normal((n, c)), 1)
    y = rng.integers(0, c, size=n)
    if ignore and n > 1:
        y[0] = -100
    w = rng.uniform(0.5, 2.0, size=c) if weighted else None
    kwargs = dict(weight=None if w is None else _t(w), reduction=reduction)
    x = _t(logp, requires_grad=True)
    out = nn.NLLLoss(**kwargs)(x, _idx(y))
    _close(out, nll_ref(logp, y, w, reduction=reduction))
    assert gradcheck(lambda t: F.nll_loss(t, _idx(y), **kwargs), [x])


def test_log_softmax_then_nll_equals_cross_entropy(backend):
    x = gdl.randn(6, 4, dtype=F64, requires_grad=True)
    y = _idx([0, 1, 2, 3, 3, 1])
    w = _t([1.0, 2.0, 0.5, 1.5])
    a = nn.NLLLoss(weight=w)(nn.LogSoftmax(dim=1)(x), y)
    a.backward()
    ga = x.grad.numpy()
    x.grad = None
    b = nn.CrossEntropyLoss(weight=w)(x, y)
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(ga, x.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_nll_loss_shape_errors(backend):
    with pytest.raises(ValueError, match="nll_loss"):
        F.nll_loss(gdl.zeros(3, 2), _idx([0, 1]))


# -- BCELoss ---------------------------------------------------------------------------------


@SETTINGS
@given(
    shape=st.sampled_from([(4,), (2, 3)]), reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(), soft=st.booleans(), seed=st.integers(0, 9999),
)
def test_bce_loss(backend, shape, reduction, weighted, soft, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, size=shape)
    t = rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)
    w = rng.uniform(0.5, 2.0, size=shape) if weighted else None
    kwargs = dict(weight=None if w is None else _t(w), reduction=reduction)
    x = _t(p, requires_grad=True)
    out = nn.BCELoss(**kwargs)(x, _t(t))
    _close(out, bce_ref(p, t, w, reduction))
    assert gradcheck(lambda q: F.binary_cross_entropy(q, _t(t), **kwargs), [x], eps=1e-7)


def test_bce_loss_at_exact_zero_and_one_is_finite(backend):
    """A saturated float32 sigmoid gives exactly 0 or 1: loss clamps at 100 and the
    gradient stays finite (PyTorch: (p - t) / max(p(1-p), 1e-12))."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    x = _t(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, _t(t), reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(200.0 + np.log(2))
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.0, -1e12, 1e12, -2.0])
    # through a saturated float32 sigmoid, as the book's networks do
    logits = gdl.tensor([[40.0, -40.0]], requires_grad=True)
    probs = logits.sigmoid()
    assert probs.numpy()[0, 0] == 1.0
    nn.BCELoss()(probs, gdl.tensor([[1.0, 0.0]])).backward()
    assert np.all(np.isfinite(logits.grad.numpy()))


def test_bce_loss_shape_mismatch(backend):
    with pytest.raises(ValueError, match="binary_cross_entropy"):
        F.binary_cross_entropy(gdl.ones(3) * 0.5, gdl.ones(2, 3))


# -- BCEWithLogitsLoss ---------------------------------------------------------------------


@SETTINGS
@given(
    shape=st.sampled_from([(5,), (2, 3)]), reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(),
    pos=st.booleans(), soft=st.booleans(), seed=st.integers(0, 9999),
)
def test_bce_with_logits(backend, shape, reduction, weighted, pos, soft, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 4
    t = rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape).astype(np.float64)
    w = rng.uniform(0.5, 2.0, size=shape) if weighted else None
    pw = rng.uniform(0.5, 3.0, size=shape[-1:]) if pos else None
    kwargs = dict(weight=None if w is None else _t(w), pos_weight=None if pw is None else _t(pw), reduction=reduction)
    x = _t(a, requires_grad=True)
    out = nn.BCEWithLogitsLoss(**kwargs)(x, _t(t))
    _close(out, bce_logits_ref(a, t, w, pw, reduction))
    assert gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, _t(t), **kwargs), [x])


def test_bce_with_logits_equals_sigmoid_then_bce(backend):
    a = np.random.default_rng(2).standard_normal((4, 3))
    t = _t(np.random.default_rng(3).integers(0, 2, size=(4, 3)))
    x1 = _t(a, requires_grad=True)
    x2 = _t(a, requires_grad=True)
    l1 = F.binary_cross_entropy_with_logits(x1, t)
    l2 = F.binary_cross_entropy(x2.sigmoid(), t)
    l1.backward()
    l2.backward()
    assert l1.item() == pytest.approx(l2.item(), rel=1e-10)
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("dtype", [gdl.float32, gdl.float64])
def test_bce_with_logits_stable_at_large_logits(backend, dtype):
    a = np.array([1e4, -1e4, 100.0, -100.0, 40.0, -40.0, 0.0, 1e4])
    t = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    x = gdl.tensor(a, dtype=dtype, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, gdl.tensor(t, dtype=dtype), reduction="none")
    loss.sum().backward()
    out, g = loss.numpy(), x.grad.numpy()
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(out, bce_logits_ref(a, t, reduction="none"), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-np.clip(a, -700, 700))) - t, atol=1e-6)


def test_bce_with_logits_shape_mismatch(backend):
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(gdl.zeros(3), gdl.zeros(3, 1))


# -- MSELoss ---------------------------------------------------------------------------------


@SETTINGS
@given(shape=st.sampled_from([(3,), (2, 4), (2, 2, 2)]), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_mse_loss(backend, shape, reduction, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    x, y = _t(a, requires_grad=True), _t(b, requires_grad=True)
    out = nn.MSELoss(reduction=reduction)(x, y)
    _close(out, mse_ref(a, b, reduction))
    assert gradcheck(lambda p, q: F.mse_loss(p, q, reduction), [x, y])


def test_mse_loss_book_sum_and_shape_check(backend):
    x, y = _t([1.0, 2.0, 4.0]), _t([1.0, 0.0, 1.0])
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(13.0)
    assert nn.MSELoss()(x, y).item() == pytest.approx(13.0 / 3)
    with pytest.raises(ValueError, match=r"mse_loss.*\(3,\).*\(3, 1\)"):
        F.mse_loss(x, _t([[1.0], [2.0], [3.0]]))


def test_loss_modules_repr(backend):
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"
    assert list(nn.CrossEntropyLoss(weight=gdl.ones(3)).parameters()) == []


# -- L1Loss, SmoothL1Loss, HuberLoss ----------------------------------------------------------


def smooth_l1_ref(x, y, beta, reduction="mean"):
    ad = np.abs(x - y)
    losses = ad if beta == 0 else np.where(ad < beta, 0.5 * (x - y) ** 2 / beta, ad - 0.5 * beta)
    return _reduce(losses, reduction, losses.shape)


def huber_ref(x, y, delta, reduction="mean"):
    ad = np.abs(x - y)
    losses = np.where(ad < delta, 0.5 * (x - y) ** 2, delta * (ad - 0.5 * delta))
    return _reduce(losses, reduction, losses.shape)


def _away_from(d, kinks, gap=1e-3):
    """Move differences within ``gap`` of a kink off it (finite differences straddle no kink)."""
    for k in kinks:
        for s in (-1.0, 1.0):
            near = np.abs(d - s * k) < gap
            d = np.where(near, s * k + 2 * gap, d)
    return d


@SETTINGS
@given(
    shape=st.sampled_from([(), (4,), (2, 3), (2, 1, 3)]), reduction=st.sampled_from(REDUCTIONS),
    width=st.sampled_from([0.0, 0.3, 1.0, 2.5]), kind=st.sampled_from(["l1", "smooth_l1", "huber"]),
    module=st.booleans(), seed=st.integers(0, 9999),
)
def test_l1_smooth_l1_huber_match_numpy(backend, shape, reduction, width, kind, module, seed):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(shape) * 2
    a = b + _away_from(rng.standard_normal(shape) * 2, [0.0, width])
    if kind == "huber":
        width = width or 0.5  # delta must be > 0
    x, y = _t(a, requires_grad=True), _t(b, requires_grad=True)
    if kind == "l1":
        fn, mod, want = F.l1_loss, nn.L1Loss(reduction), _reduce(np.abs(a - b), reduction, np.shape(a))
    elif kind == "smooth_l1":
        fn = lambda p, q, r: F.smooth_l1_loss(p, q, r, beta=width)  # noqa: E731
        mod, want = nn.SmoothL1Loss(reduction, beta=width), smooth_l1_ref(a, b, width, reduction)
    else:
        fn = lambda p, q, r: F.huber_loss(p, q, r, delta=width)  # noqa: E731
        mod, want = nn.HuberLoss(reduction, delta=width), huber_ref(a, b, width, reduction)
    _close(mod(x, y) if module else fn(x, y, reduction), want)
    assert gradcheck(lambda p, q: fn(p, q, reduction), [x, y])


@pytest.mark.parametrize("kind,width", [("l1", 0.0), ("smooth_l1", 0.5), ("smooth_l1", 0.0), ("huber", 0.5)])
def test_regression_losses_at_their_kinks(backend, kind, width):
    """d = x - y at 0 and at ±width: the gradient PyTorch gives (0 at d = 0, ±1 or ±delta at the
    edge of the quadratic part), by hand; the target's gradient is the opposite."""
    y = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    d = np.array([0.0, width, -width, 3.0, -0.25])
    x = _t(y + d, requires_grad=True)
    t = _t(y, requires_grad=True)
    if kind == "l1" or width == 0.0:
        fn = F.l1_loss if kind == "l1" else (lambda p, q, r: F.smooth_l1_loss(p, q, r, beta=0.0))
        want = np.abs(d)
        grad = np.sign(d)
    elif kind == "smooth_l1":
        fn = lambda p, q, r: F.smooth_l1_loss(p, q, r, beta=width)  # noqa: E731
        want = np.array([0.0, 0.25, 0.25, 2.75, 0.0625])  # 0.5·d²/beta below beta, |d| - beta/2 above
        grad = np.array([0.0, 1.0, -1.0, 1.0, -0.5])
    else:
        fn = lambda p, q, r: F.huber_loss(p, q, r, delta=width)  # noqa: E731
        want = np.array([0.0, 0.125, 0.125, 1.375, 0.03125])  # 0.5·d² below delta, delta·(|d| - delta/2) above
        grad = np.array([0.0, 0.5, -0.5, 0.5, -0.25])
    out = fn(x, t, "none")
    _close(out, want)
    out.sum().backward()
    _close(x.grad, grad)
    _close(t.grad, -grad)


def test_regression_loss_arguments_are_checked(backend):
    x = gdl.zeros(3)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be a real number >= 0, got -1"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be a real number > 0, got 0"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"HuberLoss: delta"):
        nn.HuberLoss(delta=float("nan"))
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta"):
        nn.SmoothL1Loss(beta=-0.5)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: input shape \(3,\) and target shape \(3, 1\) differ"):
            fn(x, gdl.zeros(3, 1))
        with pytest.raises(ValueError, match="reduction"):
            fn(x, x, reduction="avg")
    with pytest.raises(ValueError, match="L1Loss: reduction"):
        nn.L1Loss(reduction="batchmean")


# -- KLDivLoss ------------------------------------------------------------------------------------


def kl_ref(logq, target, reduction, log_target):
    if log_target:
        losses = np.exp(target) * (target - logq)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            losses = np.where(target > 0, target * np.log(np.where(target > 0, target, 1.0)), 0.0) - target * logq
    if reduction == "batchmean":
        return losses.sum() / (logq.shape[0] if logq.ndim else 1)
    return _reduce(losses, reduction, losses.shape)


@SETTINGS
@given(
    shape=st.sampled_from([(), (4,), (2, 3), (3, 2, 2)]), reduction=st.sampled_from(REDUCTIONS + ["batchmean"]),
    log_target=st.booleans(), module=st.booleans(), seed=st.integers(0, 9999),
)
def test_kl_div_matches_numpy(backend, shape, reduction, log_target, module, seed):
    rng = np.random.default_rng(seed)
    logq = rng.standard_normal(shape)
    p = rng.uniform(0.05, 1.0, size=shape)
    target = np.log(p) if log_target else p
    x, t = _t(logq, requires_grad=True), _t(target, requires_grad=True)
    out = (nn.KLDivLoss(reduction, log_target=log_target)(x, t) if module
           else F.kl_div(x, t, reduction, log_target=log_target))
    _close(out, kl_ref(logq, target, reduction, log_target))
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction, log_target), [x, t])


def test_kl_div_zero_target_contributes_nothing(backend):
    """0·log 0 = 0: a zero target adds no loss and sends no gradient to the input. Its own
    gradient (log t + 1 - input, -inf at t = 0) is NaN there, as PyTorch gives."""
    logq = np.log(np.array([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]))
    p = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    x, t = _t(logq, requires_grad=True), _t(p, requires_grad=True)
    out = F.kl_div(x, t, reduction="batchmean")
    assert out.item() == pytest.approx((0.5 * np.log(2) + 0.0 + np.log(2)) / 2, rel=1e-12)  # (log 2·1/2 + log 2) / 2
    out.backward()
    _close(x.grad, -p / 2)
    g = t.grad.numpy()
    assert np.isnan(g[p == 0]).all()
    _close(gdl.tensor(g[p > 0]), (np.log(p[p > 0]) + 1 - logq[p > 0]) / 2)
    # a -inf log-probability where the target is 0: 0·(-inf) is NaN, in PyTorch too
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.kl_div(_t([-np.inf, 0.0]), _t([0.0, 1.0]), "none").numpy()[0])


def test_kl_div_reductions_and_errors(backend):
    x, t = _t(np.zeros((2, 4))), _t(np.full((2, 4), 0.25))
    per = 0.25 * np.log(0.25)
    assert F.kl_div(x, t, "sum").item() == pytest.approx(8 * per)
    assert F.kl_div(x, t, "batchmean").item() == pytest.approx(4 * per)
    assert F.kl_div(x, t).item() == pytest.approx(per)  # "mean": over every element
    assert F.kl_div(x, t, "none").shape == (2, 4)
    assert F.kl_div(_t(0.5), _t(0.25), "batchmean").item() == pytest.approx(0.25 * (np.log(0.25) - 0.5))
    with pytest.raises(ValueError, match=r"kl_div: target probabilities must be >= 0"):
        F.kl_div(x, _t(np.full((2, 4), -0.25)))
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of"):
        F.kl_div(x, t, "avg")
    with pytest.raises(ValueError, match=r"kl_div: input shape \(2, 4\) and target shape \(4,\) differ"):
        F.kl_div(x, _t(np.full(4, 0.25)))
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")
    assert repr(nn.KLDivLoss("batchmean", log_target=True)) == "KLDivLoss(reduction='batchmean', log_target=True)"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(nn.SmoothL1Loss("sum")) == "SmoothL1Loss(reduction='sum')"


# -- NLLLoss beyond (N, C) --------------------------------------------------------------------------


@SETTINGS
@given(
    shape=st.sampled_from([(3,), (2, 3, 4), (2, 4, 2, 3), (1, 2, 1)]), reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(), seed=st.integers(0, 9999),
)
def test_nll_loss_unbatched_and_k_dimensional(backend, shape, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    c = shape[0] if len(shape) == 1 else shape[1]
    logp = _log_softmax(rng.standard_normal(shape), 0 if len(shape) == 1 else 1)
    y = rng.integers(0, c, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    if y.size > 1:
        y.flat[0] = -100  # ignored
    w = rng.uniform(0.5, 2.0, size=c) if weighted else None
    kwargs = dict(weight=None if w is None else _t(w), reduction=reduction)
    x = _t(logp, requires_grad=True)
    out = nn.NLLLoss(**kwargs)(x, _idx(y))
    flat = nll_ref(_classes_last(logp), y.reshape(-1), w, reduction=reduction)
    _close(out, flat.reshape(y.shape) if reduction == "none" else flat)
    assert gradcheck(lambda a: F.nll_loss(a, _idx(y), **kwargs), [x])


def test_nll_loss_unbatched_by_hand(backend):
    x = _t([-1.0, -2.0, -0.5], requires_grad=True)
    out = F.nll_loss(x, _idx(1), reduction="none")
    assert out.shape == () and out.item() == 2.0
    out.backward()
    _close(x.grad, [0.0, -1.0, 0.0])
    assert F.nll_loss(x, _idx(2), weight=_t([1.0, 1.0, 4.0])).item() == 0.5  # mean: weighted / weight
    with pytest.raises(ValueError, match=r"nll_loss: .*got \(3,\) and \(1,\)"):
        F.nll_loss(x, _idx([1]))
    with pytest.raises(ValueError, match=r"nll_loss: .*got \(2, 3, 4\) and \(2, 3\)"):
        F.nll_loss(gdl.zeros(2, 3, 4), _idx([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices"):
        F.nll_loss(gdl.zeros(2, 3), _t([0.0, 1.0]))
