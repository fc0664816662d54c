"""Reductions and the softmax family, forward and backward side by side (sorting and
order statistics are in :mod:`gdl.functional.order`).

Every op takes the Array API's ``axis=``/``keepdims=`` and, for PyTorch habits,
``dim=``/``keepdim=`` as keyword aliases (passing both spellings is a TypeError).
"""

from __future__ import annotations

from typing import NamedTuple

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
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


def _expand(g: Tensor, shape, axes, keepdims) -> Tensor:
    """``expand_reduced`` on Tensors, as a graph op (a reduction's ``graph`` backward): ``g``
    broadcast back to the input's ``shape``; its own backward is the sum over ``axes``."""
    be = g._backend
    xp = be.xp
    out = expand_reduced(xp, g.data, shape, axes, keepdims)
    return result(out, be, (g,), lambda gg: (xp.sum(gg, axis=axes, keepdims=keepdims),), "Expand",
                  lambda gg: (sum(gg, axis=axes, keepdims=keepdims),))


def _const(x: Tensor, data) -> Tensor:
    """A raw array (a mask, a count: a constant of the forward) as a Tensor beside ``x``."""
    return Tensor._wrap(data, x._backend)


def sum(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Sum over ``axis`` (all axes when None); ``dim``/``keepdim`` are PyTorch's spellings."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
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

    return result(out, x._backend, (x,), backward, "Sum", lambda g: (_expand(g, shape, axes, keepdims),))


def mean(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None, dtype=None) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes when None); ``dim``/``keepdim`` also work.

    ``dtype=`` casts the input first. Integer and bool tensors give the default float
    dtype (float32), as gdl's other float-valued ops on integers do (PyTorch refuses them).
    """
    if dim is not None:
        axis = dim_alias("mean", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("mean", keepdims, keepdim)
    if dtype is not None and not dtypes.is_floating(dtypes.backend_dtype(x._backend, dtype)):
        raise TypeError(f"mean: dtype must be a floating-point dtype, got {dtype!r} (a mean is not an integer)")
    x = _float_data(_cast("mean", x, dtype))
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= shape[a]
    out = xp.mean(x.data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (expand_reduced(xp, g / count, shape, axes, keepdims),)

    return result(out, x._backend, (x,), backward, "Mean", lambda g: (_expand(g / count, shape, axes, keepdims),))


def _cast(op, x, dtype):
    """``x`` as ``dtype`` (a graph op, so gradients flow), or ``x`` when ``dtype`` is None."""
    if dtype is None:
        return x
    from gdl.functional.elementwise import astype

    return astype(x, dtype)


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
    return _sqrt_of_var(x, _var("std", x, axis, keepdims, correction, dim, keepdim, unbiased))


def _sqrt_of_var(x, v):
    xp = x._backend.xp
    out = xp.sqrt(v.data)

    def backward(g):
        zero = out == 0
        return (xp.where(zero, xp.zeros_like(g), g / (2.0 * xp.where(zero, xp.ones_like(out), out))),)

    def graph(g):
        from gdl.functional.elementwise import sqrt, where

        zero = out == 0
        return (where(zero, 0.0, g / (2.0 * sqrt(where(zero, 1.0, v)))),)

    return result(out, x._backend, (v,), backward, "Std", graph)


def _var(op, x, axis, keepdims, correction, dim, keepdim, unbiased, with_mean=False):
    """The variance as one node: ``v = Σ(x − μ)² / (n − correction)``, backward
    ``dx = g · 2(x − μ) / (n − correction)`` (the mean's own gradient term sums to 0).
    Integer and bool tensors give the default float dtype, as :func:`mean`."""
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
    x = _float_data(x)
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, op)
    mu = mean(x, axis=axes, keepdims=True)  # a node of its own: var_mean returns it
    d = x.data - mu.data
    n = 1
    for a in axes:
        n *= shape[a]
    # n - correction <= 0 (one element with correction=1, an empty axis) divides by 0: NaN
    # (or inf), as PyTorch and the Array API say; never the silent 0 of dividing by 1.
    denom = n - correction if n - correction > 0 else 0.0
    if d.dtype == getattr(xp, "float16", None):  # squares summed in float32, as PyTorch does
        d32 = xp.astype(d, xp.float32)
        out = xp.astype(xp.sum(d32 * d32, axis=axes, keepdims=keepdims) / denom, xp.float16)
    else:
        out = xp.sum(d * d, axis=axes, keepdims=keepdims) / denom

    def backward(g):
        scale = 2.0 / denom if denom else float("nan")
        return (expand_reduced(xp, g, shape, axes, keepdims) * (d * scale),)

    def graph(g):
        scale = 2.0 / denom if denom else float("nan")
        return (_expand(g, shape, axes, keepdims) * ((x - mean(x, axis=axes, keepdims=True)) * scale),)

    v = result(out, x._backend, (x,), backward, "Var", graph)
    if with_mean:  # (var, mean) from one mean
        from gdl.functional.shape import reshape

        return v, (mu if keepdims else reshape(mu, v.shape))
    return v


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

    def graph(g):
        from gdl.functional.elementwise import where

        position = xp.reshape(xp.arange(shape[a], device=be.device), (shape[a],) + (1,) * (len(shape) - 1 - a))
        return (where(position == idx_keep, _expand(g, shape, (a,), keepdim), 0.0),)

    out = result(values, be, (x,), backward, op.capitalize(), graph)
    return ValuesIndices(out, Tensor._wrap(idx, be))


def _scalar_pair(x, name):
    """``(x, 0)`` for a 0-d tensor: what max/min/sort/topk along its one "dimension" give."""
    be = x._backend
    zero = be.xp.zeros((), dtype=be.xp.int64, device=be.device)
    return ValuesIndices(result(x.data, be, (x,), lambda g: (g,), name, lambda g: (g,)), Tensor._wrap(zero, be))


def _extreme(x, axis, keepdims, is_max, op=None):
    xp = x._backend.xp
    shape = x.data.shape
    op = op or ("max" if is_max else "min")
    axes = normalize_axes(axis, x.ndim, op)
    if 0 in [shape[a] for a in axes]:
        raise ValueError(f"{op}: cannot reduce an empty axis of shape {tuple(shape)}")
    if x.data.dtype == xp.bool:  # any/all: the Array API's max/min refuse bools (PyTorch takes them)
        fn = xp.any if is_max else xp.all
    else:
        fn = xp.max if is_max else xp.min
    out_keep = fn(x.data, axis=axes, keepdims=True)
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))
    data = x.data

    def backward(g):
        hit = xp.astype(data == out_keep, g.dtype)
        count = xp.sum(hit, axis=axes, keepdims=True)
        return (expand_reduced(xp, g, shape, axes, keepdims) * hit / count,)

    def graph(g):  # the share of each tied extreme is a constant of the forward
        hit = xp.astype(data == out_keep, g.data.dtype)
        return (_expand(g, shape, axes, keepdims) * _const(x, hit / xp.sum(hit, axis=axes, keepdims=True)),)

    return result(out, x._backend, (x,), backward, "Max" if is_max else "Min", graph)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the maximum for stability."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
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

    def graph(g):
        from gdl.functional.elementwise import exp

        return (_expand(g, shape, axes, keepdims) * exp(x - logsumexp(x, axis=axes, keepdims=True)),)

    return result(out, x._backend, (x,), backward, "Logsumexp", graph)


def softmax(x: Tensor, axis: int = LAST, *, dim=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (or ``dim``), max-shifted, so no overflow."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
    if dim is not None:
        axis = dim_alias("softmax", axis, dim, LAST)
    axis = check_axis(axis, x.ndim, "softmax")
    xp = x._backend.xp
    e = xp.exp(x.data - xp.max(x.data, axis=axis, keepdims=True))
    out = e / xp.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (out * (g - xp.sum(g * out, axis=axis, keepdims=True)),)

    def graph(g):
        y = softmax(x, axis)
        return (y * (g - sum(g * y, axis=axis, keepdims=True)),)

    return result(out, x._backend, (x,), backward, "Softmax", graph)


def log_softmax(x: Tensor, axis: int = LAST, *, dim=None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (or ``dim``): log-probabilities without overflow."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
    if dim is not None:
        axis = dim_alias("log_softmax", axis, dim, LAST)
    axis = check_axis(axis, x.ndim, "log_softmax")
    xp = x._backend.xp
    shifted = x.data - xp.max(x.data, axis=axis, keepdims=True)
    out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(g):
        return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)

    def graph(g):
        return (g - softmax(x, axis) * sum(g, axis=axis, keepdims=True),)

    return result(out, x._backend, (x,), backward, "LogSoftmax", graph)


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


# -- more reductions: products, extremes without indices, order statistics, NaN-aware ---------


class MinMax(NamedTuple):
    """``(min, max)`` from :func:`aminmax`, as PyTorch's ``torch.return_types.aminmax``."""

    min: Tensor
    max: Tensor


def _dims(op, dim, keepdim, axis, keepdims, unset=None):
    """``dim``/``keepdim`` (PyTorch's names) or ``axis``/``keepdims`` (the Array API's)."""
    if axis is not None:
        dim = axis_alias(op, dim, axis, unset)
    if keepdims is not None:
        keepdim = _keepdims_for_keepdim(op, keepdim, keepdims)
    return dim, bool(keepdim)


def _float_data(x):
    """``x``, integer and bool tensors as the default float dtype (float32)."""
    if dtypes.is_floating(x.data.dtype):
        return x
    be = x._backend
    return Tensor._wrap(be.xp.astype(x.data, dtypes.backend_dtype(be, dtypes.get_default_dtype())), be)


def _reduced_shape(shape, axes, keepdim):
    return tuple(1 if i in axes else s for i, s in enumerate(shape) if keepdim or i not in axes)


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Product over ``dim`` (an int or a tuple; all axes when None); the product of nothing is 1.

    Integer and bool tensors give int64, as PyTorch; ``dtype=`` casts the input first.
    Backward: ``grad[i] = g * prod(x[j] for j != i)``, the product of the entries before
    ``i`` times the product of those after it (no division, so exact where ``x`` has zeros).

    >>> import gdl
    >>> gdl.prod(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    tensor([ 2., 12.], backend='numpy')
    """
    if _AMP[0] and dtype is None:
        x = _amp_cast("fp32", x)[0]
    from gdl.functional.scan import _exclusive_cumprod, _int_to_int64

    dim, keepdim = _dims("prod", dim, keepdim, axis, keepdims)
    x = _int_to_int64(x, dtype)
    be = x._backend
    xp = be.xp
    data = x.data
    shape = data.shape
    axes = normalize_axes(dim, x.ndim, "prod")
    out = xp.prod(data, axis=axes, keepdims=keepdim, dtype=data.dtype)

    def backward(g):
        # the reduced axes moved last and flattened: (kept..., n)
        order = tuple(i for i in range(len(shape)) if i not in axes) + axes
        moved = xp.permute_dims(data, order) if order != tuple(range(len(shape))) else data
        kept = moved.shape[: len(shape) - len(axes)]
        size = 1
        for a in axes:
            size *= shape[a]
        flat = xp.reshape(moved, kept + (size,))  # (not -1: a kept axis of size 0 leaves it unknown)
        last = flat.ndim - 1
        before = _exclusive_cumprod(xp, flat, last, be.device)
        after = xp.flip(_exclusive_cumprod(xp, xp.flip(flat, axis=last), last, be.device), axis=last)
        others = xp.reshape(before * after, moved.shape)
        inverse = [0] * len(order)
        for i, a in enumerate(order):
            inverse[a] = i
        others = xp.permute_dims(others, tuple(inverse)) if order != tuple(range(len(shape))) else others
        return (expand_reduced(xp, g, shape, axes, keepdim) * others,)

    def graph(g):  # others[i] = the product of row i of x tiled n times, with a 1 on the diagonal
        from gdl.functional.elementwise import where
        from gdl.functional.shape import permute, reshape

        order = tuple(i for i in range(len(shape)) if i not in axes) + axes
        moved = permute(x, order)
        kept, size = moved.shape[: len(shape) - len(axes)], 1
        for a in axes:
            size *= shape[a]
        eye = xp.eye(size, device=be.device) == 1
        others = prod(where(eye, 1.0, reshape(moved, kept + (1, size))), dim=-1)
        inverse = sorted(range(len(order)), key=order.__getitem__)
        return (_expand(g, shape, axes, keepdim) * permute(reshape(others, moved.shape), inverse),)

    return result(out, be, (x,), backward, "Prod", graph)


def amax(x: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Largest value over ``dim`` (an int or a tuple; ``()`` or None: all axes), as ``torch.amax``.

    Tied maxima share the gradient equally (``g / count`` each), as PyTorch's ``amax``;
    NaN propagates. For the index of the maximum use ``max(x, dim)`` or ``argmax``.

    >>> import gdl
    >>> gdl.amax(gdl.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=0)
    tensor([4., 5.], backend='numpy')
    """
    dim, keepdim = _dims("amax", dim, keepdim, axis, keepdims, ())
    return _extreme(x, None if dim == () or dim == [] else dim, keepdim, True, "amax")


def amin(x: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Smallest value over ``dim`` (all axes for ``()``), ties sharing the gradient; see :func:`amax`."""
    dim, keepdim = _dims("amin", dim, keepdim, axis, keepdims, ())
    return _extreme(x, None if dim == () or dim == [] else dim, keepdim, False, "amin")


def aminmax(x: Tensor, *, dim=None, keepdim: bool = False, axis=None, keepdims=None) -> MinMax:
    """``(min, max)`` over one ``dim`` (or all axes), as ``torch.aminmax``: :func:`amin` and
    :func:`amax` together, with their gradients (ties share them equally).

    >>> import gdl
    >>> gdl.aminmax(gdl.tensor([3.0, 1.0, 4.0]))
    MinMax(min=tensor(1., backend='numpy'), max=tensor(4., backend='numpy'))
    """
    dim, keepdim = _dims("aminmax", dim, keepdim, axis, keepdims)
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise TypeError(f"aminmax: dim must be one int or None, got {dim!r}")
    return MinMax(_extreme(x, dim, keepdim, False, "aminmax"), _extreme(x, dim, keepdim, True, "aminmax"))


def count_nonzero(x: Tensor, dim=None, *, axis=None) -> Tensor:
    """The number (int64) of nonzero entries over ``dim`` (an int or a tuple; all when None),
    as ``torch.count_nonzero`` (NaN counts as nonzero); no gradient.

    >>> import gdl
    >>> gdl.count_nonzero(gdl.tensor([[0.0, 1.0], [2.0, 0.0]]), dim=0)
    tensor([1, 1], backend='numpy')
    """
    if axis is not None:
        dim = axis_alias("count_nonzero", dim, axis)
    xp = x._backend.xp
    axes = normalize_axes(dim, x.ndim, "count_nonzero")
    nonzero = x.data if x.data.dtype == xp.bool else x.data != 0
    return Tensor._wrap(xp.sum(xp.astype(nonzero, xp.int64), axis=axes), x._backend)


def var_mean(
    x: Tensor, axis=None, keepdims: bool = False, correction: int = 0, *, dim=None, keepdim=None, unbiased=None
) -> tuple:
    """``(var, mean)`` from one pass over the mean, with :func:`var`'s arguments and defaults:
    like gdl's ``var`` (and the Array API) ``correction=0`` divides by ``n``, where
    ``torch.var_mean`` defaults to ``n - 1`` (pass ``correction=1`` for that)."""
    return _var("var_mean", x, axis, keepdims, correction, dim, keepdim, unbiased, True)


def std_mean(
    x: Tensor, axis=None, keepdims: bool = False, correction: int = 0, *, dim=None, keepdim=None, unbiased=None
) -> tuple:
    """``(std, mean)``, with :func:`std`'s arguments and defaults (``correction=0``: divide by
    ``n``; ``torch.std_mean`` defaults to ``n - 1``, pass ``correction=1`` for that).

    >>> import gdl
    >>> gdl.std_mean(gdl.tensor([1.0, 3.0]))
    (tensor(1., backend='numpy'), tensor(2., backend='numpy'))
    """
    v, mu = _var("std_mean", x, axis, keepdims, correction, dim, keepdim, unbiased, True)
    return _sqrt_of_var(x, v), mu


def nansum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Sum over ``dim`` counting NaN as 0, as ``torch.nansum`` (integer/bool tensors give
    int64). Backward: ``g`` where ``x`` is not NaN, 0 where it is.

    >>> import gdl
    >>> gdl.nansum(gdl.tensor([1.0, float("nan"), 2.0]))
    tensor(3., backend='numpy')
    """
    from gdl.functional.scan import _int_to_int64

    dim, keepdim = _dims("nansum", dim, keepdim, axis, keepdims)
    x = _int_to_int64(x, dtype)
    xp = x._backend.xp
    data = x.data
    shape = data.shape
    axes = normalize_axes(dim, x.ndim, "nansum")
    if x.data.dtype == xp.int64:
        return Tensor._wrap(xp.sum(data, axis=axes, keepdims=keepdim), x._backend)
    nan = xp.isnan(data)
    out = xp.sum(xp.where(nan, xp.zeros_like(data), data), axis=axes, keepdims=keepdim)

    def backward(g):
        g = expand_reduced(xp, g, shape, axes, keepdim)
        return (xp.where(nan, xp.zeros_like(g), g),)

    def graph(g):
        from gdl.functional.elementwise import where

        return (where(nan, 0.0, _expand(g, shape, axes, keepdim)),)

    return result(out, x._backend, (x,), backward, "Nansum", graph)


def nanmean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Mean of the entries that are not NaN over ``dim``, as ``torch.nanmean`` (NaN where
    all are NaN). Integer tensors give the default float dtype (PyTorch refuses them).
    Backward: ``g / count`` where ``x`` is not NaN, 0 where it is (NaN for an all-NaN slice).

    >>> import gdl
    >>> gdl.nanmean(gdl.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5, backend='numpy')
    """
    dim, keepdim = _dims("nanmean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        from gdl.functional.elementwise import astype

        x = astype(x, dtype)
    x = _float_data(x)
    xp = x._backend.xp
    data = x.data
    shape = data.shape
    axes = normalize_axes(dim, x.ndim, "nanmean")
    nan = xp.isnan(data)
    count = xp.sum(xp.astype(~nan, data.dtype), axis=axes, keepdims=True)
    total = xp.sum(xp.where(nan, xp.zeros_like(data), data), axis=axes, keepdims=True)
    out_keep = total / count
    out = out_keep if keepdim else xp.reshape(out_keep, _reduced_shape(shape, axes, False))

    def backward(g):  # (an all-NaN slice: g / 0 * 0 = NaN, as PyTorch)
        return (expand_reduced(xp, g, shape, axes, keepdim) / count * xp.astype(~nan, g.dtype),)

    def graph(g):
        return (_expand(g, shape, axes, keepdim) * _const(x, xp.astype(~nan, g.data.dtype) / count),)

    return result(out, x._backend, (x,), backward, "Nanmean", graph)


__all__ = [
    "MinMax",
    "ValuesIndices",
    "all",
    "amax",
    "amin",
    "aminmax",
    "any",
    "argmax",
    "argmin",
    "count_nonzero",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "nanmean",
    "nansum",
    "prod",
    "softmax",
    "std",
    "std_mean",
    "sum",
    "var",
    "var_mean",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {
    "prod": prod,
    "amax": amax,
    "amin": amin,
    "aminmax": aminmax,
    "count_nonzero": count_nonzero,
    "nansum": nansum,
    "nanmean": nanmean,
}
