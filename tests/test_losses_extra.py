"""Margin, ranking, embedding and likelihood losses: values against NumPy formulas written here,
float64 gradient checks on every backend, every reduction, module reprs, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.nn import functional as F
from gdl.testing import gradcheck

F64 = gdl.float64
REDUCTIONS = ["mean", "sum", "none"]


def _t(a, requires_grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def _idx(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def _reduce(losses, reduction):
    losses = np.asarray(losses, dtype=np.float64)
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


def _close(tensor, expected, rtol=1e-10, atol=1e-12):
    out = tensor.numpy()
    assert out.shape == np.shape(expected), f"shape {out.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pm1(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


# -- CosineEmbeddingLoss -----------------------------------------------------------------------


def cosine_embedding_ref(x1, x2, y, margin):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0.0))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_cosine_embedding_loss(backend, reduction, margin):
    rng = _rng(1)
    x1, x2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
    expected = _reduce(cosine_embedding_ref(x1, x2, y, margin), reduction)
    _close(F.cosine_embedding_loss(_t(x1), _t(x2), _t(y), margin, reduction), expected)
    _close(nn.CosineEmbeddingLoss(margin=margin, reduction=reduction)(_t(x1), _t(x2), _t(y)), expected)
    a, b = _t(x1, True), _t(x2, True)
    assert gradcheck(lambda p, q: F.cosine_embedding_loss(p, q, _t(y), margin, reduction), [a, b])


def test_cosine_embedding_loss_by_hand_and_unbatched(backend):
    x1, x2 = _t([[1.0, 0.0], [1.0, 0.0]]), _t([[0.0, 1.0], [1.0, 1.0]])
    _close(F.cosine_embedding_loss(x1, x2, _t([1.0, -1.0]), reduction="none"), [1.0, math.sqrt(0.5)], rtol=1e-9)
    out = F.cosine_embedding_loss(_t([3.0, 4.0]), _t([3.0, 4.0]), _t(1.0), reduction="none")
    assert out.shape == ()
    assert abs(out.item()) < 1e-12
    _close(F.cosine_embedding_loss(_t([3.0, 4.0]), _t([3.0, 4.0]), -1, margin=0.5), 0.5, rtol=1e-9)  # a plain -1


def test_cosine_embedding_loss_errors(backend):
    x = _t(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: target values must be 1 or -1, got 0\.0"):
        F.cosine_embedding_loss(x, x, _t([1.0, 0.0, -1.0]))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected inputs .*\(3, 2\), \(3, 2\) and \(2,\)"):
        F.cosine_embedding_loss(x, x, _t([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected inputs"):
        F.cosine_embedding_loss(x, _t(np.ones((3, 3))), _t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: reduction must be one of .*got 'avg'"):
        F.cosine_embedding_loss(x, x, _t([1.0, 1.0, 1.0]), reduction="avg")
    with pytest.raises(ValueError, match=r"CosineEmbeddingLoss: reduction"):
        nn.CosineEmbeddingLoss(reduction="avg")


# -- MarginRankingLoss ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(backend, reduction, margin):
    rng = _rng(2)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = _pm1(rng, (3, 4)) * rng.uniform(0.5, 1.5, (3, 4))
    expected = _reduce(np.maximum(-y * (x1 - x2) + margin, 0.0), reduction)
    _close(nn.MarginRankingLoss(margin, reduction)(_t(x1), _t(x2), _t(y)), expected)
    ts = [_t(x1, True), _t(x2, True), _t(y, True)]
    assert gradcheck(lambda a, b, t: F.margin_ranking_loss(a, b, t, margin, reduction), ts)  # target too


def test_margin_ranking_loss_by_hand_kink_and_errors(backend):
    x1, x2 = _t([1.0, 2.0], True), _t([2.0, 0.0], True)
    loss = F.margin_ranking_loss(x1, x2, _t([1.0, 1.0]), margin=1.0, reduction="none")
    _close(loss, [2.0, 0.0])
    x1, x2 = _t([1.0, 2.0], True), _t([1.0, 2.0], True)
    F.margin_ranking_loss(x1, x2, _t([1.0, -1.0])).backward()  # exactly at the kink: the gradient passes
    _close(x1.grad, [-0.5, 0.5])
    _close(x2.grad, [0.5, -0.5])
    with pytest.raises(ValueError, match=r"margin_ranking_loss: .*same number of dimensions.*\(2,\), \(2,\) and \(\)"):
        F.margin_ranking_loss(x1, x2, _t(1.0))
    with pytest.raises(ValueError, match=r"margin_ranking_loss: shapes \(2,\) and \(3,\) .* do not broadcast"):
        F.margin_ranking_loss(x1, _t([1.0, 2.0, 3.0]), _t([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"MarginRankingLoss: margin must be a real number, got 'big'"):
        nn.MarginRankingLoss(margin="big")


# -- HingeEmbeddingLoss and SoftMarginLoss ------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 2.0])
def test_hinge_embedding_loss(backend, reduction, margin):
    rng = _rng(3)
    x = rng.uniform(0.0, 3.0, (4, 5))
    y = _pm1(rng, (4, 5))
    expected = _reduce(np.where(y == 1, x, np.maximum(margin - x, 0.0)), reduction)
    _close(nn.HingeEmbeddingLoss(margin, reduction)(_t(x), _t(y)), expected)
    x = x[np.abs(x - margin) > 1e-3]  # away from the kink
    y = _pm1(rng, x.shape)
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, _t(y), margin, reduction), [_t(x, True)])


def test_hinge_embedding_loss_by_hand_kink_and_errors(backend):
    _close(F.hinge_embedding_loss(_t([0.3, 0.3, 2.0]), _t([1.0, -1.0, -1.0]), reduction="none"), [0.3, 0.7, 0.0])
    x = _t([1.0, 1.0, 0.5], True)
    F.hinge_embedding_loss(x, _idx([-1, 1, -1]), reduction="sum").backward()  # int targets are fine
    _close(x.grad, [-1.0, 1.0, -1.0])  # at margin - x = 0 the gradient passes, as PyTorch's clamp_min
    with pytest.raises(ValueError, match=r"hinge_embedding_loss: target values must be 1 or -1, got 0\.0"):
        F.hinge_embedding_loss(x, _t([1.0, 0.0, -1.0]))
    with pytest.raises(ValueError, match=r"hinge_embedding_loss: input shape \(3,\) and target shape \(1, 3\) differ"):
        F.hinge_embedding_loss(x, _t([[1.0, 1.0, -1.0]]))
    with pytest.raises(TypeError, match=r"hinge_embedding_loss: input must be a gdl Tensor, got list"):
        F.hinge_embedding_loss([1.0], _t([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(backend, reduction):
    rng = _rng(4)
    x, y = rng.standard_normal((3, 4)) * 3, _pm1(rng, (3, 4))
    expected = _reduce(np.logaddexp(0.0, -y * x), reduction)
    _close(nn.SoftMarginLoss(reduction)(_t(x), _t(y)), expected)
    assert gradcheck(lambda a: F.soft_margin_loss(a, _t(y), reduction), [_t(x, True)])


def test_soft_margin_loss_by_hand_and_large_values(backend):
    _close(F.soft_margin_loss(_t([0.0]), _t([1.0])), math.log(2.0))
    x = _t([-1000.0, 1000.0, 0.0], True)
    loss = F.soft_margin_loss(x, _t([1.0, 1.0, -1.0]), "none")
    _close(loss, [1000.0, 0.0, math.log(2.0)])
    loss.sum().backward()
    _close(x.grad, [-1.0, 0.0, 0.5])
    xf = gdl.tensor([200.0, -200.0], requires_grad=True)  # float32: exp(200) overflows, the loss does not
    lf = F.soft_margin_loss(xf, gdl.tensor([-1.0, 1.0]), "none")
    np.testing.assert_allclose(lf.numpy(), [200.0, 200.0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"soft_margin_loss: input shape \(2,\) and target shape \(3,\) differ"):
        F.soft_margin_loss(xf, gdl.tensor([1.0, 1.0, 1.0]))


def multilabel_soft_margin_ref(x, y, w=None):
    log_sig = -np.logaddexp(0.0, -x)
    log_one_minus = -np.logaddexp(0.0, x)
    losses = -(y * log_sig + (1 - y) * log_one_minus)
    if w is not None:
        losses = losses * w
    return losses.mean(-1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(backend, reduction, weighted):
    rng = _rng(5)
    x = rng.standard_normal((3, 4)) * 2
    y = rng.integers(0, 2, (3, 4)).astype(float)
    y[0] = [0.2, 0.9, 0.5, 0.0]  # soft labels work too
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    expected = _reduce(multilabel_soft_margin_ref(x, y, w), reduction)
    module = nn.MultiLabelSoftMarginLoss(None if w is None else _t(w), reduction)
    _close(module(_t(x), _t(y)), expected)
    ts = [_t(x, True), _t(y, True)] + ([_t(w, True)] if weighted else [])
    assert gradcheck(lambda a, t, *wt: F.multilabel_soft_margin_loss(a, t, wt[0] if wt else None, reduction), ts)


def test_multilabel_soft_margin_loss_by_hand_and_errors(backend):
    _close(F.multilabel_soft_margin_loss(_t(np.zeros((2, 2))), _t([[1.0, 0.0], [0.0, 0.0]])), math.log(2.0))
    out = F.multilabel_soft_margin_loss(_t([0.0, 0.0, 0.0]), _t([1.0, 0.0, 1.0]), reduction="none")
    assert out.shape == ()
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: weight of shape \(3,\) does not broadcast"):
        F.multilabel_soft_margin_loss(_t(np.zeros((2, 2))), _t(np.zeros((2, 2))), _t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: input shape \(2, 2\) and target shape"):
        F.multilabel_soft_margin_loss(_t(np.zeros((2, 2))), _t(np.zeros((2, 3))))
    module = nn.MultiLabelSoftMarginLoss(weight=_t([1.0, 2.0]))
    assert "weight" in module.state_dict()


# -- TripletMarginLoss ------------------------------------------------------------------------------


def triplet_ref(a, p, n, margin, norm_p, eps, swap):
    def dist(x, y):
        return (np.abs(x - y + eps) ** norm_p).sum(-1) ** (1.0 / norm_p)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return np.maximum(dist(a, p) - d_neg + margin, 0.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("norm_p, swap, margin", [(2.0, False, 1.0), (1.0, True, 2.0), (3.0, True, 0.5)])
def test_triplet_margin_loss(backend, reduction, norm_p, swap, margin):
    rng = _rng(6)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    expected = _reduce(triplet_ref(a, p, n, margin, norm_p, 1e-6, swap), reduction)
    module = nn.TripletMarginLoss(margin=margin, p=norm_p, swap=swap, reduction=reduction)
    _close(module(_t(a), _t(p), _t(n)), expected)
    ts = [_t(a, True), _t(p, True), _t(n, True)]
    kw = dict(margin=margin, p=norm_p, swap=swap, reduction=reduction)
    assert gradcheck(lambda *x: F.triplet_margin_loss(*x, **kw), ts)


def test_triplet_margin_loss_by_hand_and_errors(backend):
    a, p, n = _t([[0.0, 0.0]]), _t([[3.0, 4.0]]), _t([[0.0, 1.0]])
    _close(F.triplet_margin_loss(a, p, n, eps=0.0), 5.0)
    _close(F.triplet_margin_loss(a[0], p[0], n[0], eps=0.0, reduction="none"), 5.0)  # unbatched: 0-d
    n2 = _t([[3.0, 3.0]])  # nearer to p than to a: the swap takes d(p, n) = 1
    _close(F.triplet_margin_loss(a, p, n2, eps=0.0), 6.0 - math.sqrt(18.0))
    _close(F.triplet_margin_loss(a, p, n2, eps=0.0, swap=True), 5.0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: margin must be a real number > 0, got 0"):
        F.triplet_margin_loss(a, p, n, margin=0)
    with pytest.raises(ValueError, match=r"TripletMarginLoss: margin must be a real number > 0, got -1.0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: .*same number of dimensions, got 2-d, 1-d and 2-d"):
        F.triplet_margin_loss(a, p[0], n)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: shapes .* do not broadcast"):
        F.triplet_margin_loss(a, _t([[1.0, 2.0, 3.0]]), n)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(backend, reduction, swap):
    rng = _rng(7)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))

    def l1(x, y):
        return (x - y).abs().sum(-1)

    def l1_ref(x, y):
        return np.abs(x - y).sum(-1)

    d_neg = np.minimum(l1_ref(a, n), l1_ref(p, n)) if swap else l1_ref(a, n)
    expected = _reduce(np.maximum(l1_ref(a, p) - d_neg + 1.5, 0.0), reduction)
    module = nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=1.5, swap=swap, reduction=reduction)
    _close(module(_t(a), _t(p), _t(n)), expected)
    default = F.triplet_margin_with_distance_loss(_t(a), _t(p), _t(n), swap=swap, reduction=reduction)
    _close(default, _reduce(triplet_ref(a, p, n, 1.0, 2.0, 1e-6, swap), reduction))
    ts = [_t(a, True), _t(p, True), _t(n, True)]
    assert gradcheck(lambda *x: F.triplet_margin_with_distance_loss(*x, swap=swap, reduction=reduction), ts)
    with pytest.raises(TypeError, match="distance_function must be callable"):
        nn.TripletMarginWithDistanceLoss(distance_function=2)
    with pytest.raises(ValueError, match=r"triplet_margin_with_distance_loss: margin must be a real number > 0"):
        F.triplet_margin_with_distance_loss(ts[0], ts[1], ts[2], margin=0.0)


# -- PoissonNLLLoss and GaussianNLLLoss -----------------------------------------------------------------


def poisson_ref(x, y, log_input, full, eps):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        safe = np.where(y > 1, y, 2.0)
        loss = loss + np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
    return loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input, full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_loss(backend, reduction, log_input, full):
    rng = _rng(8)
    x = rng.standard_normal((3, 4)) if log_input else rng.uniform(0.2, 3.0, (3, 4))
    y = rng.integers(0, 6, (3, 4)).astype(float)
    expected = _reduce(poisson_ref(x, y, log_input, full, 1e-8), reduction)
    module = nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=reduction)
    _close(module(_t(x), _t(y)), expected)
    y = rng.uniform(1.5, 6.0, (3, 4))  # the target's gradient, away from the Stirling term's cut at 1
    kw = dict(log_input=log_input, full=full, reduction=reduction)
    assert gradcheck(lambda a, t: F.poisson_nll_loss(a, t, **kw), [_t(x, True), _t(y, True)])


def test_poisson_nll_loss_by_hand_and_errors(backend):
    _close(F.poisson_nll_loss(_t([0.0, 1.0]), _t([1.0, 2.0]), reduction="none"), [1.0, math.e - 2.0])
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi)  # Stirling's log(3!) at target 3
    _close(F.poisson_nll_loss(_t([0.0]), _t([3.0]), full=True), 1.0 + stirling)
    _close(F.poisson_nll_loss(_t([2.0]), _t([1.0]), log_input=False, eps=0.0), 2.0 - math.log(2.0))
    with pytest.raises(ValueError, match=r"poisson_nll_loss: input shape \(1,\) and target shape \(2,\) differ"):
        F.poisson_nll_loss(_t([0.0]), _t([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"poisson_nll_loss: eps must be a real number >= 0, got -1"):
        F.poisson_nll_loss(_t([0.0]), _t([1.0]), eps=-1)
    with pytest.raises(ValueError, match=r"PoissonNLLLoss: reduction must be one of"):
        nn.PoissonNLLLoss(reduction="batchmean")


def gaussian_ref(x, y, var, full, eps):
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (x - y) ** 2 / var)
    return loss + (0.5 * math.log(2 * math.pi) if full else 0.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("vshape", [(3, 4), (3,), (3, 1), (1, 4)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(backend, reduction, vshape, full):
    rng = _rng(9)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    var = rng.uniform(0.1, 2.0, vshape)
    var.reshape(-1)[0] = 1e-7  # clamped to eps
    vb = var[:, None] if vshape == (3,) else var
    expected = _reduce(np.broadcast_to(gaussian_ref(x, y, vb, full, 1e-6), (3, 4)), reduction)
    module = nn.GaussianNLLLoss(full=full, reduction=reduction)
    _close(module(_t(x), _t(y), _t(var)), expected)
    var.reshape(-1)[0] = 0.05  # away from the clamp for the gradient check
    kw = dict(full=full, reduction=reduction)
    assert gradcheck(lambda a, t, v: F.gaussian_nll_loss(a, t, v, **kw), [_t(x, True), _t(y, True), _t(var, True)])


def test_gaussian_nll_loss_by_hand_clamp_and_errors(backend):
    ones = _t([1.0, 1.0])
    _close(F.gaussian_nll_loss(_t([0.0, 1.0]), ones, ones, reduction="none"), [0.5, 0.0])
    _close(F.gaussian_nll_loss(_t([0.0, 1.0]), ones, 4.0, reduction="none"), [0.5 * math.log(4) + 0.125, math.log(2)])
    var = _t([0.0, 1e-8], True)  # both clamped to eps = 1e-6: the gradient is that of the clamped value
    F.gaussian_nll_loss(_t([0.0, 0.0]), _t([1e-3, 0.0]), var, reduction="sum").backward()
    _close(var.grad, [0.5 * (1e6 - 1e-6 * 1e12), 0.5 * 1e6], rtol=1e-9)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has negative entries"):
        F.gaussian_nll_loss(ones, ones, _t([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must be >= 0, got -2.0"):
        F.gaussian_nll_loss(ones, ones, -2.0)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(3,\) does not fit input of shape \(2,\)"):
        F.gaussian_nll_loss(ones, ones, _t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(1, 1\) does not fit .*\(2, 3\)"):
        F.gaussian_nll_loss(_t(np.zeros((2, 3))), _t(np.zeros((2, 3))), _t([[1.0]]))


# -- MultiMarginLoss and MultiLabelMarginLoss ----------------------------------------------------------


def multi_margin_ref(x, y, p, margin, w):
    x = np.atleast_2d(x)
    y = np.atleast_1d(y)
    out = np.zeros(len(y))
    for n, t in enumerate(y):
        for i in range(x.shape[1]):
            if i != t:
                out[n] += (1.0 if w is None else w[t]) * max(0.0, margin - x[n, t] + x[n, i]) ** p
    return out / x.shape[1]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin, weighted", [(1, 1.0, False), (2, 1.0, True), (1, 0.5, True), (2, 2.0, False)])
def test_multi_margin_loss(backend, reduction, p, margin, weighted):
    rng = _rng(10)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    expected = _reduce(multi_margin_ref(x, y, p, margin, w), reduction)
    module = nn.MultiMarginLoss(p=p, margin=margin, weight=None if w is None else _t(w), reduction=reduction)
    _close(module(_t(x), _idx(y)), expected)
    kw = dict(p=p, margin=margin, weight=None if w is None else _t(w), reduction=reduction)
    assert gradcheck(lambda a: F.multi_margin_loss(a, _idx(y), **kw), [_t(x, True)])


def test_multi_margin_loss_by_hand_unbatched_and_errors(backend):
    x = _t([[0.1, 0.2, 0.4, 0.8]])
    _close(F.multi_margin_loss(x, _idx([3])), 0.325)
    _close(F.multi_margin_loss(x, [0], p=2, reduction="sum"), (1.1**2 + 1.3**2 + 1.7**2) / 4)  # a list target
    out = F.multi_margin_loss(x[0], _idx(3), reduction="none")
    assert out.shape == ()
    with pytest.raises(ValueError, match=r"multi_margin_loss: only p = 1 and p = 2 are supported, got 3"):
        F.multi_margin_loss(x, _idx([3]), p=3)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: only p = 1 and p = 2"):
        nn.MultiMarginLoss(p=0)
    with pytest.raises(ValueError, match=r"multi_margin_loss: target values must be in \[0, 4\), got values from 4 to 4"):
        F.multi_margin_loss(x, _idx([4]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target values must be in \[0, 4\), got values from -1"):
        F.multi_margin_loss(x[0], _idx(-1))  # unbatched: a 0-d target is checked too
    with pytest.raises(ValueError, match=r"multi_margin_loss: input of shape \(1, 4\) needs a target of shape \(1,\)"):
        F.multi_margin_loss(x, _idx([1, 2]))
    with pytest.raises(TypeError, match=r"multi_margin_loss: target must hold integer class indices, got float64"):
        F.multi_margin_loss(x, _t([1.0]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: weight must have one entry per class, shape \(4,\)"):
        F.multi_margin_loss(x, _idx([1]), weight=_t([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: input must be \(C,\) or \(N, C\)"):
        F.multi_margin_loss(_t(np.zeros((2, 2, 2))), _idx([1, 1]))


def multilabel_margin_ref(x, y):
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    c = x.shape[1]
    out = np.zeros(len(x))
    for n in range(len(x)):
        listed = []
        for v in y[n]:
            if v < 0:
                break
            listed.append(v)
        for j in listed:
            for i in range(c):
                if i not in listed:
                    out[n] += max(0.0, 1.0 - (x[n, j] - x[n, i]))
    return out / c


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(backend, reduction):
    rng = _rng(11)
    x = rng.standard_normal((4, 5))
    y = np.array([[3, 0, -1, 1, 2], [4, 4, 1, -1, -1], [-1, 2, 2, 2, 2], [0, 1, 2, 3, 4]])  # a repeat counts twice
    expected = _reduce(multilabel_margin_ref(x, y), reduction)
    _close(nn.MultiLabelMarginLoss(reduction)(_t(x), _idx(y)), expected)
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, _idx(y), reduction), [_t(x, True)])


def test_multilabel_margin_loss_by_hand_unbatched_and_errors(backend):
    x = _t([[0.1, 0.2, 0.4, 0.8]])
    # targets 3, 0 against classes 1, 2: (1-(0.8-0.2)) + (1-(0.8-0.4)) + (1-(0.1-0.2)) + (1-(0.1-0.4)), / 4
    _close(F.multilabel_margin_loss(x, _idx([[3, 0, -1, 1]])), 0.85)
    out = F.multilabel_margin_loss(x[0], _idx([3, 0, -1, 1]), reduction="none")
    assert out.shape == ()
    _close(out, 0.85)
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target values must be in \[-1, 4\), got values from"):
        F.multilabel_margin_loss(x, _idx([[3, -1, 5, 0]]))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: input of shape \(1, 4\) needs a target of shape"):
        F.multilabel_margin_loss(x, _idx([3, 0, -1, 1]))


# -- modules ----------------------------------------------------------------------------------


def test_new_loss_module_reprs(backend):
    assert repr(nn.CosineEmbeddingLoss()) == "CosineEmbeddingLoss()"
    assert repr(nn.CosineEmbeddingLoss(margin=0.5, reduction="sum")) == "CosineEmbeddingLoss(reduction='sum', margin=0.5)"
    assert repr(nn.MarginRankingLoss(0.2)) == "MarginRankingLoss(margin=0.2)"
    assert repr(nn.HingeEmbeddingLoss()) == "HingeEmbeddingLoss()"
    assert repr(nn.SoftMarginLoss("none")) == "SoftMarginLoss(reduction='none')"
    assert repr(nn.MultiLabelSoftMarginLoss()) == "MultiLabelSoftMarginLoss()"
    assert repr(nn.TripletMarginLoss(p=1.0, eps=0.0)) == "TripletMarginLoss(p=1.0, eps=0.0)"

    def cosine_distance(x, y):
        return 1.0 - F.cosine_similarity(x, y)

    assert repr(nn.TripletMarginWithDistanceLoss(distance_function=cosine_distance, swap=True)) == (
        "TripletMarginWithDistanceLoss(distance_function=cosine_distance, swap=True)"
    )
    assert repr(nn.PoissonNLLLoss(eps=1e-6)) == "PoissonNLLLoss(eps=1e-06)"
    assert repr(nn.GaussianNLLLoss(full=True)) == "GaussianNLLLoss(full=True)"
    assert repr(nn.MultiMarginLoss(margin=2.0)) == "MultiMarginLoss(margin=2.0)"
    assert repr(nn.MultiLabelMarginLoss()) == "MultiLabelMarginLoss()"


def test_multi_margin_loss_weight_is_a_buffer(backend):
    module = nn.MultiMarginLoss(weight=_t([1.0, 2.0, 3.0]))
    assert list(module.state_dict()) == ["weight"]
    assert list(module.parameters()) == []
    assert module(_t([[0.0, 0.0, 0.0]]), _idx([2])).item() == pytest.approx(3.0 * 2 / 3)
