"""Reductions, the softmax family, and sorting, forward and backward side by side.

Every op takes the Array API's ``axis=``/``keepdims=`` and, for PyTorch habits,
``dim=``/``keepdim=`` as keyword aliases (passing both spellings is a TypeError).
"""

from __future__ import annotations

from typing import NamedTuple

from gdl.functional._util import (
    LAST,
    axis_alias,
    check_axis,
    dim_alias,
    expand_reduced,
    keepdim_alias,
    normalize_axes,
)
from gdl.tensor import Tensor, result


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``torch.return_types``: from ``max``/``min``
    with ``dim``, ``sort`` and ``topk``. Unpack it or use ``.values``/``.indices``."""

    values: Tensor
    indices: Tensor


def sum(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Sum over ``axis`` (all axes when None); ``dim``/``keepdim`` are PyTorch's spellings."""
    if dim is not None:
        axis = dim_alias("sum", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("sum", keepdims, keepdim)
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "sum")
    data = x.data
    if data.dtype == xp.bool:  # count the True values (int64), as PyTorch does
        return Tensor._wrap(xp.sum(xp.astype(data, xp.int64), axis=axes, keepdims=keepdims), x._backend)
    out = xp.sum(data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (expand_reduced(xp, g, shape, axes, keepdims),)

    return result(out, x._backend, (x,), backward, "Sum")


def mean(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes when None); ``dim``/``keepdim`` also work."""
    if dim is not None:
        axis = dim_alias("mean", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("mean", keepdims, keepdim)
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= shape[a]
    out = xp.mean(x.data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (expand_reduced(xp, g / count, shape, axes, keepdims),)

    return result(out, x._backend, (x,), backward, "Mean")


def var(
    x: Tensor, axis=None, keepdims: bool = False, correction: int = 0, *, dim=None, keepdim=None, unbiased=None
) -> Tensor:
    """Variance over ``axis``: ``sum((x - mean)²) / (n - correction)``.

    The default ``correction=0`` (the Array API's) divides by ``n``; PyTorch's
    ``var`` defaults to the unbiased ``n - 1``: pass ``correction=1`` or
    ``unbiased=True`` for that. ``dim``/``keepdim`` are PyTorch's spellings.
    """
    return _var("var", x, axis, keepdims, correction, dim, keepdim, unbiased)


def std(
    x: Tensor, axis=None, keepdims: bool = False, correction: int = 0, *, dim=None, keepdim=None, unbiased=None
) -> Tensor:
    """Standard deviation, ``sqrt(var(x, ...))``, with ``var``'s arguments and defaults.

    Like gdl's ``var`` (and the Array API), the default ``correction=0`` divides by
    ``n``; PyTorch's ``std`` defaults to ``n - 1``: pass ``correction=1`` or
    ``unbiased=True`` to match it. Where the deviation is 0 its gradient is taken as
    0 (not the 0/0 of ``sqrt``'s), as PyTorch does.
    """
    v = _var("std", x, axis, keepdims, correction, dim, keepdim, unbiased)
    xp = x._backend.xp
    out = xp.sqrt(v.data)

    def backward(g):
        zero = out == 0
        return (xp.where(zero, xp.zeros_like(g), g / (2.0 * xp.where(zero, xp.ones_like(out), out))),)

    return result(out, x._backend, (v,), backward, "Std")


def _var(op, x, axis, keepdims, correction, dim, keepdim, unbiased):
    if dim is not None:
        axis = dim_alias(op, axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias(op, keepdims, keepdim)
    if unbiased is not None:
        if correction != 0:
            raise TypeError(
                f"{op}: got both correction={correction!r} and unbiased={unbiased!r}; "
                f"unbiased=True means correction=1, pass only one"
            )
        correction = 1 if unbiased else 0
    axes = normalize_axes(axis, x.ndim, op)
    mu = mean(x, axis=axes, keepdims=True)
    d = x - mu
    n = 1
    for a in axes:
        n *= x.shape[a]
    # n - correction <= 0 (one element with correction=1, an empty axis) divides by 0: NaN
    # (or inf), as PyTorch and the Array API say; never the silent 0 of dividing by 1.
    denom = n - correction if n - correction > 0 else 0.0  # (gdl's max shadows the builtin)
    return sum(d * d, axis=axes, keepdims=keepdims) / denom


def max(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Largest value; two conventions, chosen by how the axis is spelled.

    - ``max(x)``, ``x.max(axis=1, keepdims=...)`` (the Array API): the values only;
      tied maxima share the gradient equally.
    - ``x.max(1)``, ``x.max(dim=1, keepdim=...)`` (PyTorch): a :class:`ValuesIndices`
      ``(values, indices)``; the values' gradient goes to the element at ``indices``
      (the first maximum).

    A positional axis follows PyTorch because the Array API takes ``axis`` by keyword
    only, so ``x.max(1)`` can only be a PyTorch habit. ``x.max(other_tensor)`` is
    ``gdl.maximum(x, other_tensor)``, as ``torch.max(input, other)``.
    """
    if keepdims is not None:
        keepdim = _keepdims_for_keepdim("max", keepdim, keepdims)
    if dim is None:
        return _extreme(x, axis, keepdim, True)
    return _with_indices("max", x, dim, keepdim, axis, True)


def min(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Smallest value: ``min(x)``/``x.min(axis=...)`` give the values (ties share the
    gradient), ``x.min(1)``/``x.min(dim=1)`` give ``(values, indices)``; see :func:`max`."""
    if keepdims is not None:
        keepdim = _keepdims_for_keepdim("min", keepdim, keepdims)
    if dim is None:
        return _extreme(x, axis, keepdim, False)
    return _with_indices("min", x, dim, keepdim, axis, False)


def _keepdims_for_keepdim(op, keepdim, keepdims):
    if keepdim:
        raise TypeError(
            f"{op}: got both keepdim={keepdim!r} and keepdims={keepdims!r}; they are the same "
            f"argument (keepdims is the Array API's name, keepdim PyTorch's), pass only one"
        )
    return bool(keepdims)


def _with_indices(op, x, dim, keepdim, axis, is_max):
    """``max``/``min`` along one ``dim``: values (gradient to the index) and indices."""
    if axis is not None:
        dim_alias(op, axis, dim)  # raises: both given
    if isinstance(dim, Tensor):
        from gdl.functional.elementwise import maximum, minimum

        return (maximum if is_max else minimum)(x, dim)
    if not isinstance(dim, int):
        raise TypeError(
            f"{op}: dim must be one int to return (values, indices), got {dim!r}; "
            f"for the values over several axes use axis={dim!r}"
        )
    be = x._backend
    xp = be.xp
    shape = x.data.shape
    a = check_axis(dim, x.ndim, op)
    if x.ndim == 0:
        return _scalar_pair(x, op.capitalize())
    if shape[a] == 0:
        raise ValueError(f"{op}: cannot reduce the empty dimension {a} of shape {tuple(shape)}")
    idx_keep = (xp.argmax if is_max else xp.argmin)(x.data, axis=a, keepdims=True)
    values = xp.take_along_axis(x.data, idx_keep, axis=a)
    idx = idx_keep
    if not keepdim:
        values, idx = xp.squeeze(values, axis=a), xp.squeeze(idx_keep, axis=a)

    def backward(g):
        g = g if keepdim else xp.expand_dims(g, axis=a)
        position = xp.reshape(xp.arange(shape[a], device=be.device), (shape[a],) + (1,) * (len(shape) - 1 - a))
        return (xp.where(position == idx_keep, g, xp.zeros_like(g)),)

    out = result(values, be, (x,), backward, op.capitalize())
    return ValuesIndices(out, Tensor._wrap(idx, be))


def _scalar_pair(x, name):
    """``(x, 0)`` for a 0-d tensor: what max/min/sort/topk along its one "dimension" give."""
    be = x._backend
    zero = be.xp.zeros((), dtype=be.xp.int64, device=be.device)
    return ValuesIndices(result(x.data, be, (x,), lambda g: (g,), name), Tensor._wrap(zero, be))


def _extreme(x, axis, keepdims, is_max):
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "max" if is_max else "min")
    if 0 in [shape[a] for a in axes]:
        raise ValueError(f"{'max' if is_max else 'min'}: cannot reduce an empty axis of shape {tuple(shape)}")
    fn = xp.max if is_max else xp.min
    out_keep = fn(x.data, axis=axes, keepdims=True)
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))
    data = x.data

    def backward(g):
        hit = xp.astype(data == out_keep, g.dtype)
        count = xp.sum(hit, axis=axes, keepdims=True)
        return (expand_reduced(xp, g, shape, axes, keepdims) * hit / count,)

    return result(out, x._backend, (x,), backward, "Max" if is_max else "Min")


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the maximum for stability."""
    if dim is not None:
        axis = dim_alias("logsumexp", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("logsumexp", keepdims, keepdim)
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    if 0 in [shape[a] for a in axes]:  # log(0) = -inf, as PyTorch (xp.max has no identity)
        m = xp.zeros(tuple(1 if i in axes else s for i, s in enumerate(shape)), dtype=x.data.dtype,
                     device=x._backend.device)
    else:
        m = xp.max(x.data, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out_keep = xp.log(xp.sum(xp.exp(x.data - m), axis=axes, keepdims=True)) + m
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))
    data = x.data

    def backward(g):
        return (expand_reduced(xp, g, shape, axes, keepdims) * xp.exp(data - out_keep),)

    return result(out, x._backend, (x,), backward, "Logsumexp")


def softmax(x: Tensor, axis: int = LAST, *, dim=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (or ``dim``), max-shifted, so no overflow."""
    if dim is not None:
        axis = dim_alias("softmax", axis, dim, LAST)
    axis = check_axis(axis, x.ndim, "softmax")
    xp = x._backend.xp
    e = xp.exp(x.data - xp.max(x.data, axis=axis, keepdims=True))
    out = e / xp.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (out * (g - xp.sum(g * out, axis=axis, keepdims=True)),)

    return result(out, x._backend, (x,), backward, "Softmax")


def log_softmax(x: Tensor, axis: int = LAST, *, dim=None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (or ``dim``): log-probabilities without overflow."""
    if dim is not None:
        axis = dim_alias("log_softmax", axis, dim, LAST)
    axis = check_axis(axis, x.ndim, "log_softmax")
    xp = x._backend.xp
    shifted = x.data - xp.max(x.data, axis=axis, keepdims=True)
    out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(g):
        return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)

    return result(out, x._backend, (x,), backward, "LogSoftmax")


def argmax(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Index of the largest value (no gradient); over the flattened tensor when ``axis`` is None."""
    if dim is not None:
        axis = dim_alias("argmax", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("argmax", keepdims, keepdim)
    xp = x._backend.xp
    return Tensor._wrap(_arg_extreme(xp.argmax, x, axis, keepdims), x._backend)


def argmin(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Index of the smallest value (no gradient); over the flattened tensor when ``axis`` is None."""
    if dim is not None:
        axis = dim_alias("argmin", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("argmin", keepdims, keepdim)
    xp = x._backend.xp
    return Tensor._wrap(_arg_extreme(xp.argmin, x, axis, keepdims), x._backend)


def _arg_extreme(fn, x, axis, keepdims):
    """``fn`` (argmax/argmin) over ``axis``, or the flattened tensor when None; with
    ``keepdims`` the result keeps every axis as size 1 (shape (1, 1) for a 2-D tensor)."""
    xp = x._backend.xp
    if axis is not None:
        return fn(x.data, axis=axis, keepdims=keepdims)
    out = fn(xp.reshape(x.data, (-1,)), axis=0)
    return xp.reshape(out, (1,) * x.ndim) if keepdims else out


def all(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """True where every element along ``axis`` is nonzero (no gradient)."""
    if dim is not None:
        axis = dim_alias("all", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("all", keepdims, keepdim)
    xp = x._backend.xp
    return Tensor._wrap(xp.all(x.data, axis=axis, keepdims=keepdims), x._backend)


def any(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """True where some element along ``axis`` is nonzero (no gradient)."""
    if dim is not None:
        axis = dim_alias("any", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("any", keepdims, keepdim)
    xp = x._backend.xp
    return Tensor._wrap(xp.any(x.data, axis=axis, keepdims=keepdims), x._backend)


# -- sorting ---------------------------------------------------------------------------------


def sort(x: Tensor, dim: int = LAST, descending: bool = False, *, axis=None, stable: bool = False) -> ValuesIndices:
    """``(values, indices)`` of ``x`` sorted along ``dim`` (or ``axis``), as ``torch.sort``.

    Ties keep their original order (the sort is always stable; ``stable`` is
    accepted for PyTorch's signature). The values' gradient goes back to where each
    value came from.
    """
    if axis is not None:
        dim = axis_alias("sort", dim, axis, LAST)
    a = check_axis(dim, x.ndim, "sort")
    if x.ndim == 0:
        return _scalar_pair(x, "Sort")
    order = x._backend.xp.argsort(x.data, axis=a, descending=bool(descending), stable=True)
    return _gather_sorted(x, order, order, a, "Sort")


def topk(
    x: Tensor, k: int, dim: int = LAST, largest: bool = True, sorted: bool = True, *, axis=None
) -> ValuesIndices:
    """``(values, indices)`` of the ``k`` largest (or, ``largest=False``, smallest) entries
    along ``dim`` (or ``axis``), as ``torch.topk``; always in sorted order.

    Differentiable in the values: their gradient goes back to where they came from.
    """
    if axis is not None:
        dim = axis_alias("topk", dim, axis, LAST)
    a = check_axis(dim, x.ndim, "topk")
    n = x.shape[a] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError(f"topk: k={k!r} is out of range for dimension {a} of size {n} in a tensor of shape {x.shape}")
    if x.ndim == 0:
        return _scalar_pair(x, "Topk")
    xp = x._backend.xp
    order = xp.argsort(x.data, axis=a, descending=bool(largest), stable=True)
    first_k = order[(slice(None),) * a + (slice(0, k), Ellipsis)]
    return _gather_sorted(x, first_k, order, a, "Topk")


def _gather_sorted(x, idx, order, a, name):
    """Values of ``x`` at ``idx`` along axis ``a``; ``idx`` is the first entries of the
    permutation ``order``, so the backward puts ``g`` back through its inverse."""
    be = x._backend
    xp = be.xp
    values = xp.take_along_axis(x.data, idx, axis=a)
    shape, k, n = x.data.shape, idx.shape[a], order.shape[a]

    def backward(g):
        if k < n:  # entries past the top k get no gradient
            pad = shape[:a] + (n - k,) + shape[a + 1 :]
            g = xp.concat([g, xp.zeros(pad, dtype=g.dtype, device=be.device)], axis=a)
        inverse = xp.argsort(order, axis=a)
        return (xp.take_along_axis(g, inverse, axis=a),)

    return ValuesIndices(result(values, be, (x,), backward, name), Tensor._wrap(idx, be))


__all__ = [
    "ValuesIndices",
    "all",
    "any",
    "argmax",
    "argmin",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "softmax",
    "sort",
    "std",
    "sum",
    "topk",
    "var",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {}
