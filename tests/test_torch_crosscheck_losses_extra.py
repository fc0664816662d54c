"""The margin, ranking, embedding and likelihood losses against PyTorch 2.13 (float64): values
and the gradient of every differentiable input, across reductions and settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.nn.functional as F  # noqa: E402
from gdl import nn  # noqa: E402

TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
TOL = dict(rtol=1e-9, atol=1e-11)


def _both(gdl_fn, torch_fn, arrays, grads, ints=(), seed=0, tol=TOL):
    """Run both on the same float64 numbers (``ints``: positions holding int64 arrays); compare the
    outputs and, through a random upstream gradient, the gradients of the ``grads`` positions."""
    ours, theirs = [], []
    for i, a in enumerate(arrays):
        if i in ints:
            ours.append(gdl.tensor(np.asarray(a, dtype=np.int64)))
            theirs.append(torch.tensor(np.asarray(a, dtype=np.int64)))
        else:
            ours.append(g64(a, grad=i in grads))
            theirs.append(t64(a, grad=i in grads))
    out, ref = gdl_fn(*ours), torch_fn(*theirs)
    close(out, ref, "value", **tol)
    w = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(ref.shape))
    (out * g64(w)).sum().backward()
    (ref * t64(w)).sum().backward()
    for i in grads:
        assert theirs[i].grad is not None, f"torch gave input {i} no gradient"
        close(ours[i].grad, theirs[i].grad, f"grad of input {i}", **tol)
    return out


def _pm1(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


# -- embedding and ranking losses ------------------------------------------------------------------


@SETTINGS(20)
@given(n=st.integers(1, 5), d=st.integers(1, 4), unbatched=st.booleans(), margin=st.sampled_from([0.0, 0.3, -0.2]),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_cosine_embedding_loss(n, d, unbatched, margin, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (d,) if unbatched else (n, d)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = _pm1(rng, () if unbatched else (n,))
    kw = dict(margin=margin, reduction=reduction)
    _both(lambda a, b, t: F.cosine_embedding_loss(a, b, t, **kw),
          lambda a, b, t: TF.cosine_embedding_loss(a, b, t, **kw), [x1, x2, y], grads=(0, 1), seed=seed)
    module = nn.CosineEmbeddingLoss(**kw)(g64(x1), g64(x2), g64(y))
    close(module, torch.nn.CosineEmbeddingLoss(**kw)(t64(x1), t64(x2), t64(y)), "module")


def test_cosine_embedding_loss_zero_vector():
    """A zero vector: the 1e-12 in each squared norm keeps cos at 0, as in PyTorch (the gradient is
    then ~1e6 times the other vector, so only its last few digits may round differently)."""
    x1, x2 = np.zeros((2, 3)), np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    _both(lambda a, b, t: F.cosine_embedding_loss(a, b, t, reduction="none"),
          lambda a, b, t: TF.cosine_embedding_loss(a, b, t, reduction="none"), [x1, x2, [1.0, -1.0]], grads=(0, 1),
          tol=dict(rtol=1e-7, atol=1e-11))


@SETTINGS(20)
@given(shape=st.sampled_from([(), (4,), (3, 2)]), margin=st.sampled_from([0.0, 0.5]),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_margin_ranking_loss(shape, margin, reduction, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = _pm1(rng, shape) * rng.uniform(0.5, 1.5, size=shape)  # PyTorch differentiates target too
    kw = dict(margin=margin, reduction=reduction)
    _both(lambda a, b, t: F.margin_ranking_loss(a, b, t, **kw),
          lambda a, b, t: TF.margin_ranking_loss(a, b, t, **kw), [x1, x2, y], grads=(0, 1, 2), seed=seed)


def test_margin_ranking_loss_broadcasts_and_kink():
    x1, x2 = np.array([[1.0, 2.0, 0.0]]), np.array([[1.0], [3.0]])  # (1, 3) with (2, 1)
    _both(lambda a, b, t: F.margin_ranking_loss(a, b, t, reduction="none"),
          lambda a, b, t: TF.margin_ranking_loss(a, b, t, reduction="none"), [x1, x2, [[1.0, -1.0, 1.0]]],
          grads=(0, 1, 2))


@SETTINGS(20)
@given(shape=st.sampled_from([(5,), (2, 3), (2, 2, 2)]), margin=st.sampled_from([1.0, 0.5, 2.0]),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_hinge_embedding_loss(shape, margin, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 2.5, size=shape)
    x.reshape(-1)[0] = margin  # at the kink: PyTorch's clamp_min passes the gradient there
    y = _pm1(rng, shape)
    kw = dict(margin=margin, reduction=reduction)
    _both(lambda a, t: F.hinge_embedding_loss(a, t, **kw),
          lambda a, t: TF.hinge_embedding_loss(a, t, **kw), [x, y], grads=(0,), seed=seed)
    close(nn.HingeEmbeddingLoss(**kw)(g64(x), g64(y)), torch.nn.HingeEmbeddingLoss(**kw)(t64(x), t64(y)))


@SETTINGS(20)
@given(shape=st.sampled_from([(), (5,), (2, 3)]), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_soft_margin_loss(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 4
    _both(lambda a, t: F.soft_margin_loss(a, t, reduction=reduction),
          lambda a, t: TF.soft_margin_loss(a, t, reduction=reduction), [x, _pm1(rng, shape)], grads=(0,), seed=seed)


def test_soft_margin_loss_does_not_overflow_where_torch_does():
    """gdl computes log(1 + exp(z)) stably; PyTorch's exp overflows at z = 1000 (deliberate difference)."""
    x, y = np.array([-1000.0, 1000.0]), np.array([1.0, 1.0])
    ref = TF.soft_margin_loss(t64(x), t64(y), reduction="none")
    assert math.isinf(ref[0].item())
    xt = g64(x, grad=True)
    out = F.soft_margin_loss(xt, g64(y), reduction="none")
    close(out, [1000.0, 0.0])
    out.sum().backward()
    close(xt.grad, [-1.0, 0.0])


@SETTINGS(20)
@given(shape=st.sampled_from([(4,), (3, 4), (2, 3, 2)]), weighted=st.sampled_from([None, "class", "full"]),
       soft=st.booleans(), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_multilabel_soft_margin_loss(shape, weighted, soft, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    y = rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape).astype(float)
    arrays, grads = [x, y], (0, 1)
    if weighted:
        arrays.append(rng.uniform(0.5, 2.0, size=shape[-1:] if weighted == "class" else shape))
        grads = (0, 1, 2)
    _both(lambda a, t, *w: F.multilabel_soft_margin_loss(a, t, *w, reduction=reduction),
          lambda a, t, *w: TF.multilabel_soft_margin_loss(a, t, *w, reduction=reduction), arrays, grads, seed=seed)


# -- triplet losses -------------------------------------------------------------------------------


@SETTINGS(25)
@given(n=st.integers(1, 4), d=st.integers(1, 4), unbatched=st.booleans(), margin=st.sampled_from([1.0, 0.1, 3.0]),
       p=st.sampled_from([1.0, 2.0, 3.0]), eps=st.sampled_from([1e-6, 0.0, 0.1]), swap=st.booleans(),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_triplet_margin_loss(n, d, unbatched, margin, p, eps, swap, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (d,) if unbatched else (n, d)
    a, pos, neg = (rng.standard_normal(shape) for _ in range(3))
    kw = dict(margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)
    _both(lambda *t: F.triplet_margin_loss(*t, **kw), lambda *t: TF.triplet_margin_loss(*t, **kw),
          [a, pos, neg], grads=(0, 1, 2), seed=seed)
    close(nn.TripletMarginLoss(**kw)(g64(a), g64(pos), g64(neg)),
          torch.nn.TripletMarginLoss(**kw)(t64(a), t64(pos), t64(neg)), "module")


@SETTINGS(15)
@given(n=st.integers(1, 4), d=st.integers(2, 4), kind=st.sampled_from(["default", "cosine", "l1"]),
       margin=st.sampled_from([1.0, 0.3]), swap=st.booleans(), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 9999))
def test_triplet_margin_with_distance_loss(n, d, kind, margin, swap, reduction, seed):
    rng = np.random.default_rng(seed)
    a, pos, neg = (rng.standard_normal((n, d)) for _ in range(3))
    dist = {
        "default": (None, None),
        "cosine": (lambda x, y: 1.0 - F.cosine_similarity(x, y), lambda x, y: 1.0 - TF.cosine_similarity(x, y)),
        "l1": (lambda x, y: (x - y).abs().sum(-1), lambda x, y: (x - y).abs().sum(-1)),
    }[kind]
    kw = dict(margin=margin, swap=swap, reduction=reduction)
    _both(lambda *t: F.triplet_margin_with_distance_loss(*t, distance_function=dist[0], **kw),
          lambda *t: TF.triplet_margin_with_distance_loss(*t, distance_function=dist[1], **kw),
          [a, pos, neg], grads=(0, 1, 2), seed=seed)
    close(nn.TripletMarginWithDistanceLoss(distance_function=dist[0], **kw)(g64(a), g64(pos), g64(neg)),
          torch.nn.TripletMarginWithDistanceLoss(distance_function=dist[1], **kw)(t64(a), t64(pos), t64(neg)))


# -- likelihood losses ----------------------------------------------------------------------------


@SETTINGS(25)
@given(shape=st.sampled_from([(5,), (2, 3)]), log_input=st.booleans(), full=st.booleans(),
       eps=st.sampled_from([1e-8, 0.1]), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_poisson_nll_loss(shape, log_input, full, eps, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) if log_input else rng.uniform(0.1, 3.0, size=shape)
    y = rng.uniform(1.2, 6.0, size=shape)  # above 1: the Stirling term's gradient is PyTorch's there
    kw = dict(log_input=log_input, full=full, eps=eps, reduction=reduction)
    _both(lambda a, t: F.poisson_nll_loss(a, t, **kw), lambda a, t: TF.poisson_nll_loss(a, t, **kw),
          [x, y], grads=(0, 1), seed=seed)
    close(nn.PoissonNLLLoss(**kw)(g64(x), g64(y)), torch.nn.PoissonNLLLoss(**kw)(t64(x), t64(y)), "module")


def test_poisson_nll_loss_counts_at_and_below_one():
    """Integer counts 0 and 1 (no Stirling term): values and the input's gradient as PyTorch. The
    target's gradient differs: PyTorch's is NaN at target 0 (0·log 0 inside the masked term), gdl's is
    that of the unmasked part (-input), since the masked term is 0 for every target <= 1."""
    x, y = np.array([0.5, -0.3, 1.0, 0.2]), np.array([0.0, 1.0, 3.0, 0.0])
    for full in (False, True):
        _both(lambda a, t, f=full: F.poisson_nll_loss(a, t, full=f, reduction="none"),
              lambda a, t, f=full: TF.poisson_nll_loss(a, t, full=f, reduction="none"), [x, y], grads=(0,))
    yt = g64(y, grad=True)
    F.poisson_nll_loss(g64(x), yt, full=True).backward()
    assert np.isfinite(yt.grad.numpy()).all()
    close(yt.grad.numpy()[[0, 1, 3]], -x[[0, 1, 3]] / 4)


@SETTINGS(30)
@given(case=st.sampled_from(["same", "last_dropped", "last_one", "middle_one", "float"]),
       full=st.booleans(), eps=st.sampled_from([1e-6, 0.5]), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 9999))
def test_gaussian_nll_loss(case, full, eps, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (3, 4, 2)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    vshape = {"same": shape, "last_dropped": (3, 4), "last_one": (3, 4, 1), "middle_one": (3, 1, 2), "float": ()}[case]
    var = rng.uniform(0.05, 2.0, size=vshape)
    var.reshape(-1)[0] = 0.4 * eps  # below eps: clamped, and still gets PyTorch's gradient
    kw = dict(full=full, eps=eps, reduction=reduction)
    if case == "float":
        v = float(var)
        _both(lambda a, t: F.gaussian_nll_loss(a, t, v, **kw), lambda a, t: TF.gaussian_nll_loss(a, t, v, **kw),
              [x, y], grads=(0, 1), seed=seed)
        return
    _both(lambda a, t, s: F.gaussian_nll_loss(a, t, s, **kw), lambda a, t, s: TF.gaussian_nll_loss(a, t, s, **kw),
          [x, y, var], grads=(0, 1, 2), seed=seed)
    close(nn.GaussianNLLLoss(**kw)(g64(x), g64(y), g64(var)),
          torch.nn.GaussianNLLLoss(**kw)(t64(x), t64(y), t64(var)), "module")


def test_gaussian_nll_loss_rejects_what_torch_rejects():
    x = np.zeros((3, 4))
    for vshape in [(4,), (4, 1), (3, 2), (1, 1), (3, 4, 1)]:
        with pytest.raises(ValueError, match="var is of incorrect size"):
            TF.gaussian_nll_loss(t64(x), t64(x), t64(np.ones(vshape)))
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape"):
            F.gaussian_nll_loss(g64(x), g64(x), g64(np.ones(vshape)))


# -- multi-class margin losses --------------------------------------------------------------------


@SETTINGS(30)
@given(n=st.integers(1, 5), c=st.integers(1, 5), unbatched=st.booleans(), p=st.sampled_from([1, 2]),
       margin=st.sampled_from([1.0, 0.3, 0.0]), weighted=st.booleans(), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 9999))
def test_multi_margin_loss(n, c, unbatched, p, margin, weighted, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c,) if unbatched else (n, c))
    y = rng.integers(0, c, size=() if unbatched else (n,))
    arrays = [x, y] + ([rng.uniform(0.5, 2.0, size=c)] if weighted else [])
    kw = dict(p=p, margin=margin, reduction=reduction)
    _both(lambda a, t, *w: F.multi_margin_loss(a, t, weight=w[0] if w else None, **kw),
          lambda a, t, *w: TF.multi_margin_loss(a, t, weight=w[0] if w else None, **kw),
          arrays, grads=(0,), ints=(1,), seed=seed)


def test_multi_margin_loss_kink_has_no_gradient():
    x = np.array([[1.0, 2.0, 2.0, 0.0]])  # margin 0: classes 1 and 2 tie, z = 0 exactly
    _both(lambda a, t: F.multi_margin_loss(a, t, margin=0.0), lambda a, t: TF.multi_margin_loss(a, t, margin=0.0),
          [x, [1]], grads=(0,), ints=(1,))


@SETTINGS(30)
@given(n=st.integers(1, 4), c=st.integers(1, 6), unbatched=st.booleans(), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 9999))
def test_multilabel_margin_loss(n, c, unbatched, reduction, seed):
    rng = np.random.default_rng(seed)
    rows = 1 if unbatched else n
    x = rng.standard_normal((rows, c))
    y = np.full((rows, c), -1)
    for r in range(rows):  # some listed classes (a repeat now and then), a -1, then leftovers
        k = rng.integers(0, c + 1)
        y[r, :k] = rng.integers(0, c, size=k)
        if k + 1 < c:
            y[r, k + 1:] = rng.integers(-1, c, size=c - k - 1)
    if unbatched:
        x, y = x[0], y[0]
    _both(lambda a, t: F.multilabel_margin_loss(a, t, reduction=reduction),
          lambda a, t: TF.multilabel_margin_loss(a, t, reduction=reduction), [x, y], grads=(0,), ints=(1,), seed=seed)
    close(nn.MultiLabelMarginLoss(reduction=reduction)(g64(x), gdl.tensor(y)),
          torch.nn.MultiLabelMarginLoss(reduction=reduction)(t64(x), torch.tensor(y)))


# -- cross_entropy with probability targets (soft labels) --------------------------------------


@SETTINGS(25)
@given(n=st.integers(1, 4), c=st.integers(2, 5), extra=st.sampled_from([(), (3,)]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 9999))
def test_cross_entropy_probability_targets(n, c, extra, weighted, smoothing, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + extra) * 2
    probs = np.moveaxis(rng.dirichlet(np.ones(c), size=(n,) + extra), -1, 1)
    w = rng.uniform(0.5, 2.0, size=c) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    _both(lambda a, t: F.cross_entropy(a, t, weight=None if w is None else g64(w), **kw),
          lambda a, t: TF.cross_entropy(a, t, weight=None if w is None else t64(w), **kw),
          [x, probs], grads=(0,), seed=seed)
