"""Distances and encodings: normalize, cosine_similarity, pairwise_distance, one_hot.

>>> import gdl
>>> import gdl.nn.functional as F
>>> F.normalize(gdl.tensor([[3.0, 4.0]]))
tensor([[0.6, 0.8]], backend='numpy')
>>> F.cosine_similarity(gdl.tensor([[1.0, 0.0]]), gdl.tensor([[2.0, 2.0]]))
tensor([0.70710677], backend='numpy')
>>> F.one_hot(gdl.tensor([0, 2]), 3)
tensor([[1, 0, 0],
        [0, 0, 1]], backend='numpy')
"""

from __future__ import annotations

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_axis, check_same_backend, unbroadcast
from gdl.functional.elementwise import _as_float, add, clip, div, sub
from gdl.functional.linalg import norm
from gdl.tensor import Tensor, result


def _float(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a gdl Tensor, got {type(x).__name__}")
    return x if dtypes.is_floating(x.data.dtype) else _as_float(x)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(‖x‖_p, eps)`` along ``dim``: unit vectors (zero vectors stay zero).

    As PyTorch, no gradient flows through the norm where it is below ``eps``.
    ``out=`` is not supported (gdl never writes into a given tensor).
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    x = _float("normalize", input)
    if p != 2 and p != 2.0:
        return div(x, clip(norm(x, p, axis=dim, keepdims=True), min=eps))
    axis = check_axis(dim, x.ndim, "normalize")
    if x.ndim == 0:  # dim 0 or -1 of a 0-d tensor: the one element
        axis = None
    xp = x._backend.xp
    d = x.data
    n = xp.sqrt(xp.sum(d * d, axis=axis, keepdims=True))
    live = n >= eps  # where the norm itself divides (and so gets a gradient)
    nc = xp.maximum(n, eps)
    y = d / nc

    def backward(g):
        s = xp.where(live, xp.sum(g * y, axis=axis, keepdims=True), 0.0)
        return ((g - y * s) / nc,)

    def graph(g):  # the same formula on Tensors; where the norm is below eps, ``nc = eps`` is a constant
        from gdl import functional as ops

        sq = ops.sum(x * x, axis=axis, keepdims=True)
        nt = ops.where(live, ops.sqrt(ops.where(live, sq, 1.0)), eps)  # no sqrt(0) in the derivative
        yt = x / nt
        st = ops.where(live, ops.sum(g * yt, axis=axis, keepdims=True), 0.0)
        return ((g - yt * st) / nt,)

    return result(y, x._backend, (x,), backward, "Normalize", graph)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps))`` along ``dim`` (inputs broadcast).

    PyTorch's formula: each input is divided by its own clamped norm before the
    product (so the result stays in [-1, 1]), and the clamp is outside autograd: the
    gradient flows through the norm even where it was clamped.
    """
    if _AMP[0]:
        x1, x2 = _amp_cast("fp32", x1, x2)
    a_t, b_t = _float("cosine_similarity", x1), _float("cosine_similarity", x2)
    check_same_backend("cosine_similarity", a_t, b_t)
    be = a_t._backend
    xp = be.xp
    try:
        a, b = xp.broadcast_arrays(a_t.data, b_t.data)
    except (ValueError, TypeError):
        raise ValueError(f"cosine_similarity: shapes {a_t.shape} and {b_t.shape} do not broadcast") from None
    axis = check_axis(dim, a.ndim, "cosine_similarity")
    n1 = xp.sqrt(xp.sum(a * a, axis=axis, keepdims=True))
    n2 = xp.sqrt(xp.sum(b * b, axis=axis, keepdims=True))
    c1 = xp.maximum(n1, eps)
    c2 = xp.maximum(n2, eps)
    u1 = a / c1
    u2 = b / c2
    out = xp.sum(u1 * u2, axis=axis)
    shape1, shape2 = tuple(a_t.data.shape), tuple(b_t.data.shape)

    def backward(g):
        gk = xp.expand_dims(g, axis=axis)
        ok = xp.expand_dims(out, axis=axis)
        g1 = g2 = None
        if a_t.requires_grad:  # d/da = (u2 - out·a/‖a‖) / c1, with a/‖a‖ = 0 where a = 0
            g1 = unbroadcast(xp, gk / c1 * (u2 - ok * (a / xp.where(n1 == 0, 1.0, n1))), shape1)
        if b_t.requires_grad:
            g2 = unbroadcast(xp, gk / c2 * (u1 - ok * (b / xp.where(n2 == 0, 1.0, n2))), shape2)
        return (g1, g2)

    bshape = tuple(a.shape)
    # For create_graph: the output recomputed with Tensor ops. Each norm is sqrt(Σx² + z) with
    # z = 1 on a zero vector (so x/‖x‖ = 0 there, as above) plus the clamp as a constant
    # offset (the gradient flows through the norm even where it was clamped, as above).
    off1, off2 = (xp.astype(n == 0, a.dtype) for n in (n1, n2))
    shift1, shift2 = c1 - xp.sqrt(xp.sum(a * a, axis=axis, keepdims=True) + off1), c2 - xp.sqrt(
        xp.sum(b * b, axis=axis, keepdims=True) + off2)

    def recompute(t1, t2):
        u = []
        for t, off, shift in ((t1, off1, shift1), (t2, off2, shift2)):
            t = t.broadcast_to(bshape) if t.shape != bshape else t
            clamped = (t * t).sum(axis, keepdims=True) + Tensor._wrap(off, be)
            u.append(t / (clamped.sqrt() + Tensor._wrap(shift, be)))
        return (u[0] * u[1]).sum(axis)

    from gdl.higher_order import by_recomputation

    return result(out, be, (a_t, b_t), backward, "CosineSimilarity", by_recomputation(recompute, (a_t, b_t)))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``‖x1 - x2 + eps‖_p`` along the last dimension (PyTorch's formula, ``eps`` added to every entry)."""
    a, b = _float("pairwise_distance", x1), _float("pairwise_distance", x2)
    check_same_backend("pairwise_distance", a, b)
    diff = add(sub(a, b), eps)
    return norm(diff, p, axis=-1 if diff.ndim else None, keepdims=keepdim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with one more dimension of size ``num_classes``: 1 at each class index.

    ``num_classes=-1`` takes the largest value + 1. Negative values and values
    ``>= num_classes`` are errors (this looks at the values, so on a GPU it waits for them).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: expected a gdl Tensor of class indices, got {type(tensor).__name__}")
    be = tensor._backend
    xp = be.xp
    data = tensor.data
    if dtypes.is_floating(data.dtype) or data.dtype == xp.bool:
        raise TypeError(f"one_hot: needs an integer tensor of class indices, got {tensor.dtype.name}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 or a non-negative int, got {num_classes!r}")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
    else:
        lo = int(xp.min(data))
        if lo < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {lo}")
        hi = int(xp.max(data))
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {hi}")
    classes = xp.arange(num_classes, dtype=data.dtype, device=be.device)
    return Tensor._wrap(xp.astype(xp.expand_dims(data, axis=-1) == classes, xp.int64), be)


__all__ = [
    "cosine_similarity",
    "normalize",
    "one_hot",
    "pairwise_distance",
]
