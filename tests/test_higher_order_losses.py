"""Second-order gradients (``create_graph=True``) through the margin and likelihood losses,
``normalize``, ``local_response_norm`` and the dropout variants of ``gdl.nn.functional``,
against PyTorch in float64: for each op a Hessian-vector product (``g = grad(loss, params,
create_graph=True)``, then ``grad(Σ g_i·v_i, params)``; loss = ``Σ tanh(op)`` or ``Σ op²``),
and ``gdl.testing.gradcheck`` of the graph path's first gradient. Where PyTorch has no
double backward (multi_margin_loss, multilabel_margin_loss) the reference is the same
formula in plain torch ops; the random ops are compared with their mask applied by hand."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL, ATOL = 1e-7, 1e-9
REDUCTIONS = ["none", "mean", "sum"]


def _np(t, shape):
    if t is None:
        return np.zeros(shape)
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _derivatives(lib, fn, arrays, vs, outer, seed=None):
    """First gradients and the Hessian-vector product with ``vs``, as numpy arrays."""
    if lib is gdl:
        mk = lambda a, r=True: gdl.tensor(np.array(a, dtype=np.float64), requires_grad=r)  # noqa: E731
        grad = gdl.autograd.grad
        if seed is not None:
            gdl.manual_seed(seed)
    else:
        mk = lambda a, r=True: torch.tensor(np.array(a, dtype=np.float64), requires_grad=r)  # noqa: E731
        grad = torch.autograd.grad
    params = [mk(a) for a in arrays]
    y = fn(*params)
    loss = (lib.tanh(y) if outer == "tanh" else y * y).sum()
    gs = grad(loss, params, create_graph=True, allow_unused=True)
    if lib is gdl:
        assert any(g is not None and g.requires_grad for g in gs), "create_graph gradients must carry a graph"
    s = sum((g * mk(v, False)).sum() for g, v in zip(gs, vs) if g is not None)
    hs = grad(s, params, allow_unused=True)
    return [[_np(g, a.shape) for g, a in zip(gs, arrays)], [_np(h, a.shape) for h, a in zip(hs, arrays)]]


def _check(gdl_fn, torch_fn, arrays, outer="tanh", seed=0, gdl_seed=None):
    rng = np.random.default_rng(seed + 1000)
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    mine = _derivatives(gdl, gdl_fn, arrays, vs, outer, gdl_seed)
    ref = _derivatives(torch, torch_fn, arrays, vs, outer)
    assert max(np.abs(h).max() for h in ref[1]) > 1e-6, "a test whose Hessian-vector product is 0 proves nothing"
    for order, (a_list, b_list) in enumerate(zip(mine, ref), start=1):
        for i, (a, b) in enumerate(zip(a_list, b_list)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"order {order}, input {i}")


def _rand(seed, *shapes, positive=False):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(s) for s in shapes]
    return [np.abs(a) + 0.3 for a in out] if positive else out


def _signs(seed, shape):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


def _gradcheck_first(fn, arrays):
    """gradcheck of ``x -> grad(Σ tanh(fn(x)), x, create_graph=True)`` (the graph path)."""
    ts = [gdl.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]

    def first(*xs):  # the numeric pass hands in copies that need no gradient
        with gdl.enable_grad():
            xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
            gs = gdl.autograd.grad(gdl.tanh(fn(*xs)).sum(), xs, create_graph=True)
            return gdl.cat([g.reshape(-1) for g in gs])

    assert gradcheck(first, ts)


# -- margin losses --------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(reduction):
    a, b = _rand(1, (6,), (6,))
    t = _signs(2, (6,))
    _check(lambda x, y: F.margin_ranking_loss(x, y, gdl.tensor(t), margin=0.3, reduction=reduction),
           lambda x, y: TF.margin_ranking_loss(x, y, torch.tensor(t), margin=0.3, reduction=reduction),
           [a, b], outer="square")


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(reduction, swap):
    arrays = _rand(3, (5, 4), (5, 4), (5, 4))
    _check(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=swap, reduction=reduction),
           lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0, swap=swap, reduction=reduction), arrays,
           outer="square")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(reduction):
    arrays = _rand(4, (6, 3), (6, 3))
    t = _signs(5, (6,))
    _check(lambda x, y: F.cosine_embedding_loss(x, y, gdl.tensor(t), margin=-0.2, reduction=reduction),
           lambda x, y: TF.cosine_embedding_loss(x, y, torch.tensor(t), margin=-0.2, reduction=reduction), arrays)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(reduction):
    (x,) = _rand(6, (3, 5))
    t = _signs(7, (3, 5))
    _check(lambda x: F.hinge_embedding_loss(x, gdl.tensor(t), margin=0.8, reduction=reduction),
           lambda x: TF.hinge_embedding_loss(x, torch.tensor(t), margin=0.8, reduction=reduction), [x], outer="square")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction):
    (x,) = _rand(8, (4, 3))
    t = _signs(9, (4, 3))
    _check(lambda x: F.soft_margin_loss(x, gdl.tensor(t), reduction=reduction),
           lambda x: TF.soft_margin_loss(x, torch.tensor(t), reduction=reduction), [x],
           outer="square" if reduction == "sum" else "tanh")
    _gradcheck_first(lambda x: F.soft_margin_loss(x, gdl.tensor(t), reduction=reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss(reduction):
    x, w = _rand(10, (4, 5), (5,))
    t = (np.random.default_rng(11).random((4, 5)) < 0.5).astype(np.float64)
    # the target (as PyTorch's composite) gets a gradient too: the Hessian's x-target block
    _check(lambda x, tt: F.multilabel_soft_margin_loss(x, tt, weight=gdl.tensor(w), reduction=reduction),
           lambda x, tt: TF.multilabel_soft_margin_loss(x, tt, weight=torch.tensor(w), reduction=reduction), [x, t])


def _torch_multi_margin(x, y, p, margin, w, reduction):
    n, c = x.shape
    hit = TF.one_hot(torch.tensor(y), c).bool()
    xy = (x * hit).sum(1, keepdim=True)
    h = torch.clamp(margin - xy + x, min=0.0) ** p
    h = torch.where(hit, torch.zeros_like(h), h)
    scale = (torch.tensor(w)[torch.tensor(y)][:, None] if w is not None else 1.0) / c
    losses = (h * scale).sum(1)
    return losses if reduction == "none" else losses.mean() if reduction == "mean" else losses.sum()


@pytest.mark.parametrize("p, weighted", [(1, False), (2, False), (2, True)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss(reduction, p, weighted):
    x, w = _rand(12, (5, 4), (4,), positive=False)
    w = np.abs(w) + 0.5 if weighted else None
    y = np.array([0, 3, 1, 1, 2])
    wt = gdl.tensor(w) if weighted else None
    fn = lambda x: F.multi_margin_loss(x, gdl.tensor(y), p=p, margin=0.9, weight=wt, reduction=reduction)  # noqa: E731
    # the reference formula agrees with PyTorch's own op at first order
    xt = torch.tensor(x, requires_grad=True)
    np.testing.assert_allclose(
        _torch_multi_margin(xt, y, p, 0.9, w, reduction).detach().numpy(),
        TF.multi_margin_loss(xt, torch.tensor(y), p=p, margin=0.9, weight=None if w is None else torch.tensor(w),
                             reduction=reduction).detach().numpy(), rtol=1e-12)
    _check(fn, lambda x: _torch_multi_margin(x, y, p, 0.9, w, reduction), [x], outer="square")
    if p == 2 and reduction == "sum":
        _gradcheck_first(fn, [x])


def _torch_multilabel_margin(x, target, reduction):
    n, c = x.shape
    losses = []
    for i in range(n):
        listed = []
        for j in target[i]:
            if j < 0:
                break
            listed.append(int(j))
        others = [k for k in range(c) if k not in listed]
        row = x.new_zeros(())
        for j in listed:
            for k in others:
                row = row + torch.clamp(1.0 - (x[i, j] - x[i, k]), min=0.0)
        losses.append(row / c)
    out = torch.stack(losses)
    return out if reduction == "none" else out.mean() if reduction == "mean" else out.sum()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    (x,) = _rand(13, (3, 5))
    target = np.array([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [4, 2, 2, 0, -1]])
    _check(lambda x: F.multilabel_margin_loss(x, gdl.tensor(target), reduction=reduction),
           lambda x: _torch_multilabel_margin(x, target, reduction), [x], outer="square")


# -- likelihood losses ----------------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(reduction, full):
    x, t, v = _rand(14, (4, 3), (4, 3), (4, 3))
    v = np.abs(v) + 0.05  # some below eps = 0.3: the straight-through clamp
    _check(lambda x, v: F.gaussian_nll_loss(x, gdl.tensor(t), v, full=full, eps=0.3, reduction=reduction),
           lambda x, v: TF.gaussian_nll_loss(x, torch.tensor(t), v, full=full, eps=0.3, reduction=reduction), [x, v],
           outer="square" if reduction == "sum" else "tanh")


def test_gaussian_nll_loss_shared_var_gradcheck():
    x, t, v = _rand(15, (4, 3), (4, 3), (4,))
    v = np.abs(v) + 0.5
    _check(lambda x, v: F.gaussian_nll_loss(x, gdl.tensor(t), v),
           lambda x, v: TF.gaussian_nll_loss(x, torch.tensor(t), v), [x, v])
    _gradcheck_first(lambda x, v: F.gaussian_nll_loss(x, gdl.tensor(t), v, reduction="sum"), [x, v])


# -- normalize, local_response_norm ---------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, -1, 0])
def test_normalize(dim):
    (x,) = _rand(16, (3, 4))
    _check(lambda x: F.normalize(x, dim=dim), lambda x: TF.normalize(x, dim=dim), [x])
    _gradcheck_first(lambda x: F.normalize(x, dim=dim), [x])


def test_normalize_below_eps():
    (x,) = _rand(17, (4, 3))
    x[1] *= 0.01  # its norm is below eps: divided by the constant eps, no gradient through the norm
    _check(lambda x: F.normalize(x, eps=0.5), lambda x: TF.normalize(x, eps=0.5), [x], outer="tanh")
    _gradcheck_first(lambda x: F.normalize(x, eps=0.5), [x])


@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((2, 4, 3, 2), 2), ((1, 3, 4), 1), ((1, 6, 2, 1, 2), 4)])
def test_local_response_norm(shape, size):
    (x,) = _rand(18, shape)
    _check(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.5),
           lambda x: TF.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.5), [x])
    if size == 3:
        _gradcheck_first(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.5), [x])


# -- dropout variants and channel ops (random draws: the same mask applied by hand) ---------------


_SAT = 1.7580993408473766


def _drawn(fn, x, seed):
    """The forward's output for the fixed seed (to read its mask off)."""
    gdl.manual_seed(seed)
    with gdl.no_grad():
        return fn(gdl.tensor(x)).numpy()


@pytest.mark.parametrize("name, shape", [("dropout1d", (2, 4, 3)), ("dropout2d", (2, 5, 2, 2)),
                                         ("dropout3d", (2, 4, 2, 1, 2))])
def test_channel_dropout(name, shape):
    (x,) = _rand(19, shape)
    fn = lambda x: getattr(F, name)(x, p=0.4, training=True)  # noqa: E731
    scale = (_drawn(fn, x, 7) != 0) / 0.6
    assert 0 < scale.sum() < scale.size / 0.6, "a mask that keeps all or nothing proves little"
    _check(fn, lambda x: x * torch.tensor(scale), [x], gdl_seed=7)


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout(name):
    p = 0.3
    (x,) = _rand(20, (3, 4, 2))
    fn = lambda x: getattr(F, name)(x, p=p, training=True)  # noqa: E731
    a = 1.0 / np.sqrt((_SAT * _SAT * p + 1.0) * (1.0 - p))
    dropped = _SAT * a * (p - 1.0)
    keep = (np.abs(_drawn(fn, x, 8) - dropped) > 1e-12).astype(np.float64)
    assert 0 < keep.sum() < keep.size
    _check(fn, lambda x: x * torch.tensor(keep * a) + torch.tensor(keep * _SAT * a + dropped), [x], gdl_seed=8)


def test_rrelu_training():
    (x,) = _rand(21, (4, 5))
    fn = lambda x: F.rrelu(x, 0.1, 0.4, training=True)  # noqa: E731
    slopes = np.where(x > 0, 1.0, _drawn(fn, x, 9) / x)
    assert np.all((slopes == 1.0) | ((slopes >= 0.1) & (slopes <= 0.4)))
    _check(fn, lambda x: x * torch.tensor(slopes), [x], gdl_seed=9)


def test_rrelu_eval():
    (x,) = _rand(22, (4, 5))
    _check(lambda x: F.rrelu(x, 0.1, 0.4), lambda x: TF.rrelu(x, 0.1, 0.4), [x])


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 4, 2, 3), 2)])
def test_channel_shuffle(shape, groups):
    (x,) = _rand(23, shape)
    n, c = shape[:2]

    def ref(x):
        return x.reshape((n, groups, c // groups) + shape[2:]).transpose(1, 2).reshape(shape)

    _check(lambda x: F.channel_shuffle(x, groups), ref, [x], outer="square")
    # the weight makes the output's order matter to the Hessian
    w = np.random.default_rng(24).standard_normal(shape)
    _check(lambda x: F.channel_shuffle(x, groups) * gdl.tensor(w), lambda x: ref(x) * torch.tensor(w), [x])
