"""Margin, ranking and embedding losses (hinge, soft margin, triplet, cosine embedding,
multi-class margin), as ``torch.nn.functional``; the shared argument checks are in
:mod:`gdl.nn.functional.loss`."""

from __future__ import annotations

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional import sum
from gdl.functional._util import check_same_backend
from gdl.nn.functional.loss import (
    _as_target,
    _broadcast_shape,
    _check_class_weight,
    _check_elementwise_weight,
    _check_input,
    _check_margin,
    _check_plus_minus_one,
    _check_reduction_of,
    _check_same_shape,
    _clamp_min0,
    _const,
    _reduce,
    _softplus_sigmoid,
)
from gdl.tensor import Tensor, is_grad_enabled, result


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    ``input1``/``input2`` are (N, D) with target (N,), or (D,) with a 0-d target. As PyTorch,
    ``cos = Σ x1·x2 / sqrt((Σ x1² + 1e-12)·(Σ x2² + 1e-12))``. Unlike PyTorch (which gives
    other target values a silent loss of 0), a target other than 1 or -1 is an error.

    >>> import gdl
    >>> x1 = gdl.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> x2 = gdl.tensor([[0.0, 1.0], [1.0, 1.0]])
    >>> gdl.nn.functional.cosine_embedding_loss(x1, x2, gdl.tensor([1.0, -1.0]), reduction="none")
    tensor([1.        , 0.70710677], backend='numpy')
    """
    if _AMP[0]:
        input1, input2, target = _amp_cast("fp32", input1, input2, target)
    op = "cosine_embedding_loss"
    _check_reduction_of(op, reduction)
    _check_margin(op, margin)
    x1, x2 = _check_input(op, "input1", input1), _check_input(op, "input2", input2)
    check_same_backend(op, x1, x2)
    target = _as_target(op, target, x1)
    if target.ndim not in (0, 1) or x1.ndim != target.ndim + 1 or x1.shape != x2.shape or (
        target.ndim == 1 and target.shape[0] != x1.shape[0]
    ):
        raise ValueError(
            f"{op}: expected inputs (N, D) with target (N,), or inputs (D,) with a 0-d target, "
            f"got {x1.shape}, {x2.shape} and {target.shape}"
        )
    _check_plus_minus_one(op, target)
    prod = sum(x1 * x2, axis=-1)
    mag1 = sum(x1 * x1, axis=-1) + 1e-12
    mag2 = sum(x2 * x2, axis=-1) + 1e-12
    cos = prod / ops.sqrt(mag1 * mag2)
    loss = ops.where(target.data == 1, 1.0 - cos, _clamp_min0(cos - margin))
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """``max(0, -target·(input1 - input2) + margin)``: ``target = 1`` asks for ``input1`` to rank
    higher than ``input2`` (by ``margin``), ``-1`` for the reverse.

    The three tensors must have the same number of dimensions (as PyTorch) and broadcast.
    Gradients flow to all three, ``target`` included, as in PyTorch.

    >>> import gdl
    >>> x1, x2 = gdl.tensor([1.0, 2.0]), gdl.tensor([2.0, 0.0])
    >>> gdl.nn.functional.margin_ranking_loss(x1, x2, gdl.tensor([1.0, 1.0]), margin=0.5, reduction="none")
    tensor([1.5, 0. ], backend='numpy')
    """
    if _AMP[0]:
        input1, input2, target = _amp_cast("fp32", input1, input2, target)
    op = "margin_ranking_loss"
    _check_reduction_of(op, reduction)
    _check_margin(op, margin)
    x1, x2 = _check_input(op, "input1", input1), _check_input(op, "input2", input2)
    check_same_backend(op, x1, x2)
    target = _as_target(op, target, x1)
    if not x1.ndim == x2.ndim == target.ndim:
        raise ValueError(
            f"{op}: input1, input2 and target must have the same number of dimensions, "
            f"got shapes {x1.shape}, {x2.shape} and {target.shape}"
        )
    _broadcast_shape(op, x1.shape, x2.shape, target.shape)
    return _reduce(_clamp_min0(-target * (x1 - x2) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``
    (``input`` is usually a distance, e.g. an L1 pairwise distance).

    ``target`` has ``input``'s shape; values other than 1 or -1 are an error (PyTorch mixes
    both branches for them). No gradient reaches ``target`` (PyTorch gives none either).

    >>> import gdl
    >>> gdl.nn.functional.hinge_embedding_loss(gdl.tensor([0.3, 0.3, 2.0]), gdl.tensor([1.0, -1.0, -1.0]), reduction="none")
    tensor([0.3, 0.7, 0. ], backend='numpy')
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    op = "hinge_embedding_loss"
    _check_reduction_of(op, reduction)
    _check_margin(op, margin)
    x = _check_input(op, "input", input)
    target = _as_target(op, target, x)
    _check_same_shape(op, x, target)
    _check_plus_minus_one(op, target)
    be = x._backend
    xp = be.xp
    d = x.data
    pos = target.data == 1
    m = margin - d
    out = xp.where(pos, d, xp.where(m < 0.0, 0.0, m))

    def backward(g):
        return (xp.where(pos, g, xp.where(m >= 0.0, -g, 0.0)),)

    def graph(g):  # piecewise linear: the slopes are constants
        return (ops.where(pos, g, ops.where(m >= 0.0, -g, 0.0)),)

    return _reduce(result(out, be, (x,), backward, "HingeEmbeddingLoss", graph), reduction)


def soft_margin_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target·input))`` for targets ±1.

    Computed without overflow (PyTorch's ``exp`` overflows to ``inf`` for ``-target·input``
    above ~88 in float32 / ~709 in float64; gdl gives the finite value there). As PyTorch,
    no gradient reaches ``target``.

    >>> import gdl
    >>> round(gdl.nn.functional.soft_margin_loss(gdl.tensor([0.0]), gdl.tensor([1.0])).item(), 4)  # log 2
    0.6931
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    op = "soft_margin_loss"
    _check_reduction_of(op, reduction)
    x = _check_input(op, "input", input)
    target = _as_target(op, target, x)
    _check_same_shape(op, x, target)
    be = x._backend
    xp = be.xp
    t = target.data
    sp, sig = _softplus_sigmoid(xp, -t * x.data)
    dgrad = -t * sig
    def graph(g):
        tc = _const(t, be)
        return (g * (-tc * ops.sigmoid(-tc * x)),)

    return _reduce(result(sp, be, (x,), lambda g: (g * dgrad,), "SoftMarginLoss", graph), reduction)


def multilabel_soft_margin_loss(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """One-vs-all logistic loss for multi-label targets (0/1 per class, classes on the last axis):
    ``-mean over classes of w·(t·log σ(x) + (1 - t)·log(1 - σ(x)))``, one value per sample.

    ``weight`` (e.g. per class, shape (C,)) must broadcast to ``input``'s shape. Gradients flow
    to ``input``, ``target`` and ``weight``, as in PyTorch.

    >>> import gdl
    >>> x = gdl.tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> loss = gdl.nn.functional.multilabel_soft_margin_loss(x, gdl.tensor([[1.0, 0.0], [0.0, 0.0]]))
    >>> round(loss.item(), 4)   # log 2
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    _check_reduction_of(op, reduction)
    x = _check_input(op, "input", input)
    target = _as_target(op, target, x)
    _check_same_shape(op, x, target)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis (C,) or (N, C), got shape {x.shape}")
    be = x._backend
    xp = be.xp
    t = target.data
    sp, sig = _softplus_sigmoid(xp, -x.data)
    losses = (1.0 - t) * x.data + sp  # = -(t·log σ(x) + (1 - t)·log σ(-x))
    need_t = target.requires_grad

    def backward(g):
        return (g * (1.0 - sig - t), (-g * x.data) if need_t else None)

    def graph(g):
        return (g * (ops.sigmoid(x) - target), (-g * x) if need_t else None)

    loss = result(losses, be, (x, target), backward, "MultiLabelSoftMarginLoss", graph)
    if weight is not None:
        _check_elementwise_weight(op, "weight", weight, x.shape)
        loss = loss * weight
    return _reduce(sum(loss, axis=-1) / x.shape[-1], reduction)


def _check_triplet(op, anchor, positive, negative):
    a = _check_input(op, "anchor", anchor)
    p = _check_input(op, "positive", positive)
    n = _check_input(op, "negative", negative)
    check_same_backend(op, a, p)
    check_same_backend(op, a, n)
    if not a.ndim == p.ndim == n.ndim:
        raise ValueError(
            f"{op}: anchor, positive and negative must have the same number of dimensions, got "
            f"{a.ndim}-d, {p.ndim}-d and {n.ndim}-d inputs (shapes {a.shape}, {p.shape}, {n.shape})"
        )
    _broadcast_shape(op, a.shape, p.shape, n.shape)
    return a, p, n


def _triplet(dist, a, p, n, margin, swap, reduction):
    d_pos = dist(a, p)
    d_neg = dist(a, n)
    if swap:
        d_neg = ops.minimum(d_neg, dist(p, n))
    return _reduce(_clamp_min0(d_pos - d_neg + margin), reduction)


def triplet_margin_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
    eps: float = 1e-6, swap: bool = False, reduction: str = "mean",
) -> Tensor:
    """``max(0, d(a, p) - d(a, n) + margin)`` with ``d`` the ``p``-norm distance
    :func:`pairwise_distance` (``‖x - y + eps‖_p`` along the last axis), as PyTorch.

    ``swap=True`` uses ``min(d(a, n), d(p, n))`` as the negative distance (the distance swap
    of Balntas et al.). Inputs are (N, D) or (D,).

    >>> import gdl
    >>> a, p, n = gdl.tensor([[0.0, 0.0]]), gdl.tensor([[3.0, 4.0]]), gdl.tensor([[0.0, 1.0]])
    >>> round(gdl.nn.functional.triplet_margin_loss(a, p, n, eps=0.0).item(), 4)   # 5 - 1 + 1
    5.0
    """
    if _AMP[0]:
        anchor, positive, negative = _amp_cast("fp32", anchor, positive, negative)
    op = "triplet_margin_loss"
    _check_reduction_of(op, reduction)
    _check_margin(op, margin, positive=True)
    a, pos, neg = _check_triplet(op, anchor, positive, negative)
    from gdl.nn.functional.distance import pairwise_distance

    return _triplet(lambda x, y: pairwise_distance(x, y, p, eps), a, pos, neg, margin, swap, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, *, distance_function=None,
    margin: float = 1.0, swap: bool = False, reduction: str = "mean",
) -> Tensor:
    """:func:`triplet_margin_loss` with any ``distance_function(x, y) -> tensor`` (default:
    :func:`pairwise_distance`), e.g. ``lambda x, y: 1 - F.cosine_similarity(x, y)``."""
    op = "triplet_margin_with_distance_loss"
    _check_reduction_of(op, reduction)
    _check_margin(op, margin, positive=True)
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{op}: distance_function must be callable or None, got {type(distance_function).__name__}")
    a, pos, neg = _check_triplet(op, anchor, positive, negative)
    if distance_function is None:
        from gdl.nn.functional.distance import pairwise_distance as distance_function
    return _triplet(distance_function, a, pos, neg, margin, swap, reduction)


# -- multi-class margin losses --------------------------------------------------------------------


def _check_index_target(op, input, target, expected, low):
    target = _as_target(op, target, input, floating=False)
    if target.dtype.is_floating_point or target.dtype.name == "bool":
        raise TypeError(f"{op}: target must hold integer class indices, got {target.dtype.name}")
    if target.shape != expected:
        raise ValueError(f"{op}: input of shape {input.shape} needs a target of shape {expected}, got {target.shape}")
    xp = input._backend.xp
    classes = input.shape[-1]
    t = target.data
    if target.numel() and bool(xp.any((t < low) | (t >= classes))):
        raise ValueError(
            f"{op}: target values must be in [{low}, {classes}), got values from {int(xp.min(t))} to {int(xp.max(t))}"
        )
    return target


def multi_margin_loss(
    input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
) -> Tensor:
    """Multi-class hinge loss: for each sample, ``Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C``
    with ``y`` its class index (``p`` is 1 or 2).

    ``input`` is (N, C) with target (N,), or (C,) with a 0-d target. One graph node; as PyTorch,
    no gradient at the kink (``margin - x[y] + x[i] == 0``) and none to ``weight``.

    >>> import gdl
    >>> x = gdl.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> round(gdl.nn.functional.multi_margin_loss(x, gdl.tensor([3])).item(), 4)   # (0.3+0.4+0.6)/4
    0.325
    """
    if _AMP[0]:
        input, target, weight = _amp_cast("fp32", input, target, weight)
    op = "multi_margin_loss"
    _check_reduction_of(op, reduction)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{op}: only p = 1 and p = 2 are supported, got {p!r}")
    _check_margin(op, margin)
    x_t = _check_input(op, "input", input)
    shape = x_t.shape
    if x_t.ndim not in (1, 2) or shape[-1] == 0:
        raise ValueError(f"{op}: input must be (C,) or (N, C) with C > 0, got shape {shape}")
    target = _check_index_target(op, x_t, target, () if x_t.ndim == 1 else shape[:1], 0)
    classes = shape[-1]
    be = x_t._backend
    xp = be.xp
    if weight is not None:
        if not isinstance(weight, Tensor):
            raise TypeError(f"{op}: weight must be a gdl Tensor or None, got {type(weight).__name__}")
        check_same_backend(op, x_t, weight)
        _check_class_weight(op, weight, classes)
    x = xp.reshape(x_t.data, (-1, classes))
    t = xp.reshape(target.data, (-1,))
    hit = xp.arange(classes, device=be.device)[None, :] == t[:, None]
    x_y = xp.sum(xp.where(hit, x, 0.0), axis=1, keepdims=True)
    z = margin - x_y + x
    active = (z > 0.0) & ~hit
    h = xp.where(active, z if p == 1 else z * z, 0.0)
    scale = 1.0 / classes
    if weight is not None:
        scale = xp.astype(xp.take(weight.data, t)[:, None], x.dtype) / classes
    losses = xp.sum(h * scale, axis=1)
    rows = losses.shape[0]
    if reduction == "mean":
        out = xp.sum(losses) / rows
    elif reduction == "sum":
        out = xp.sum(losses)
    else:
        out = xp.reshape(losses, target.shape)

    def backward(g):
        gl = xp.reshape(g, (-1, 1)) if reduction == "none" else (g / rows if reduction == "mean" else g)
        dz = (xp.astype(active, x.dtype) if p == 1 else xp.where(active, 2.0 * z, 0.0)) * scale * gl
        grad = dz - xp.where(hit, xp.sum(dz, axis=1, keepdims=True), 0.0)
        return (xp.reshape(grad, shape),)

    def graph(g):  # the same formula on Tensors; z (for p = 2) recomputed from the input
        gl = ops.reshape(g, (-1, 1)) if reduction == "none" else (g / rows if reduction == "mean" else g)
        if p == 1:
            slope = _const(xp.astype(active, x.dtype), be)
        else:
            xt = ops.reshape(x_t, (-1, classes))
            zt = margin - sum(ops.where(hit, xt, 0.0), axis=1, keepdims=True) + xt
            slope = ops.where(active, 2.0 * zt, 0.0)
        dz = slope * _const(scale, be) * gl
        grad = dz - ops.where(hit, sum(dz, axis=1, keepdims=True), 0.0)
        return (ops.reshape(grad, shape),)

    return result(out, be, (x_t,), backward, "MultiMarginLoss", graph)


def multilabel_margin_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``Σ_{j target, i not} max(0, 1 - (x[j] - x[i])) / C`` per sample.

    ``target`` has ``input``'s shape ((C,) or (N, C)) and lists each sample's target classes
    first, ended by -1 (the rest is ignored): ``[3, 0, -1, 1]`` means classes 3 and 0 (a class
    listed twice counts twice). Time is N·L·C for lists of up to L classes, as PyTorch's;
    memory N·C, plus blocks of at most 2**22 (target, class) pairs at a time; the gradient
    is summed in the same pass. No gradient at the kink.

    >>> import gdl
    >>> x = gdl.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> round(gdl.nn.functional.multilabel_margin_loss(x, gdl.tensor([[3, 0, -1, 1]])).item(), 4)
    0.85
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    op = "multilabel_margin_loss"
    _check_reduction_of(op, reduction)
    x_t = _check_input(op, "input", input)
    shape = x_t.shape
    if x_t.ndim not in (1, 2) or shape[-1] == 0:
        raise ValueError(f"{op}: input must be (C,) or (N, C) with C > 0, got shape {shape}")
    target = _check_index_target(op, x_t, target, shape, -1)
    classes = shape[-1]
    be = x_t._backend
    xp = be.xp
    x = xp.reshape(x_t.data, (-1, classes))
    t = xp.reshape(target.data, (-1, classes))
    rows = x.shape[0]
    listed = xp.cumulative_sum(xp.astype(t < 0, xp.int64), axis=1) == 0  # before the first -1
    width = int(xp.max(xp.sum(xp.astype(listed, xp.int64), axis=1))) if rows else 0  # the longest list
    listed = listed[:, :width]
    safe = xp.where(listed, t[:, :width], xp.zeros_like(t[:, :width]))
    x_listed = xp.take_along_axis(x, safe, axis=1)  # (rows, width): the inputs of the listed classes
    step = max(1, (1 << 22) // (rows * classes or 1))
    blocks = [(m, min(m + step, width)) for m in range(0, width, step)]
    class_ids = xp.arange(classes, device=be.device)

    def onehot(m0, m1):  # (rows, m1 - m0, classes): where each listed class is
        return (safe[:, m0:m1, None] == class_ids) & listed[:, m0:m1, None]

    other = xp.ones((rows, classes), dtype=xp.bool, device=be.device)  # classes not listed
    for m0, m1 in blocks:
        other = other & ~xp.any(onehot(m0, m1), axis=1)
    need_grad = x_t.requires_grad and is_grad_enabled()
    losses = xp.zeros((rows,), dtype=x.dtype, device=be.device)
    slope = xp.zeros((rows, classes), dtype=x.dtype, device=be.device)  # d(row's pair sum)/dx
    for m0, m1 in blocks:
        z = 1.0 - x_listed[:, m0:m1, None] + x[:, None, :]  # z[n, m, i] = 1 - x[t[n, m]] + x[i]
        active = listed[:, m0:m1, None] & other[:, None, :] & (z > 0.0)
        losses = losses + xp.sum(xp.where(active, z, xp.zeros_like(z)), axis=(1, 2))
        if need_grad:  # dz/dx[i] = 1, dz/dx[t[n, m]] = -1, for the active pairs
            hits = xp.astype(active, x.dtype)
            per_listed = xp.sum(hits, axis=2)[:, :, None]
            slope = slope + xp.sum(hits, axis=1) - xp.sum(xp.where(onehot(m0, m1), per_listed, 0.0), axis=1)
    losses = losses / classes
    if reduction == "mean":
        out = xp.sum(losses) / rows
    elif reduction == "sum":
        out = xp.sum(losses)
    else:
        out = xp.reshape(losses, shape[:-1])

    def backward(g):
        gl = xp.reshape(g, (-1, 1)) if reduction == "none" else (g / rows if reduction == "mean" else g)
        return (xp.reshape(slope * (gl / classes), shape),)

    def graph(g):  # piecewise linear: ``slope`` is a constant
        gl = ops.reshape(g, (-1, 1)) if reduction == "none" else (g / rows if reduction == "mean" else g)
        return (ops.reshape(_const(slope, be) * (gl / classes), shape),)

    return result(out, be, (x_t,), backward, "MultiLabelMarginLoss", graph)


__all__ = [
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
]
