"""Sorting and order statistics (sort, topk, argsort, median, kthvalue, mode, quantile),
forward and backward side by side. Like the reductions, they take ``dim=``/``keepdim=``
and the Array API's ``axis=``/``keepdims=``.
"""

from __future__ import annotations

import builtins

from gdl import dtypes
from gdl.functional._util import LAST, axis_alias, check_axis
from gdl.functional.indexing import _gather, _scatter_graph
from gdl.functional.reduction import ValuesIndices, _dims, _float_data, _scalar_pair
from gdl.tensor import Tensor, result


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
    order = x._backend.xp.argsort(_sortable(x), axis=a, descending=bool(descending), stable=True)
    return _gather_sorted(x, order, a, "Sort")


def topk(
    x: Tensor, k: int, dim: int = LAST, largest: bool = True, sorted: bool = True, *, axis=None
) -> ValuesIndices:
    """``(values, indices)`` of the ``k`` largest (or, ``largest=False``, smallest) entries
    along ``dim`` (or ``axis``), as ``torch.topk``; always in sorted order, equal values
    in index order, NaN as the largest value. Found by the backend's ``topk_indices``
    (NumPy: a partial selection, not a full sort).

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
    idx = x._backend.topk_indices(_sortable(x), k, a, bool(largest))
    return ValuesIndices(_gather(x, a, idx, "Topk"), Tensor._wrap(idx, x._backend))


def _sortable(x):
    """``x``'s data as an array the Array API's ``argsort`` takes: bools as int8 (False < True)."""
    xp = x._backend.xp
    return xp.astype(x.data, xp.int8) if x.data.dtype == xp.bool else x.data


def _gather_sorted(x, order, a, name):
    """Values of ``x`` in the permutation ``order`` along axis ``a``; the backward puts ``g``
    back through its inverse."""
    be = x._backend
    xp = be.xp
    values = xp.take_along_axis(x.data, order, axis=a)

    def backward(g):
        return (xp.take_along_axis(g, xp.argsort(order, axis=a), axis=a),)

    shape = tuple(x.data.shape)
    return ValuesIndices(result(values, be, (x,), backward, name, lambda g: (_scatter_graph(g, shape, a, order),)),
                         Tensor._wrap(order, be))


def argsort(x: Tensor, dim: int = LAST, descending: bool = False, stable: bool = False, *, axis=None) -> Tensor:
    """Indices (int64) that sort ``x`` along ``dim``, as ``torch.argsort``; no gradient.

    Always stable (equal values keep their order; ``stable`` is accepted for PyTorch's
    signature); NaN sorts as the largest value, as in PyTorch.

    >>> import gdl
    >>> gdl.argsort(gdl.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0], backend='numpy')
    """
    if axis is not None:
        dim = axis_alias("argsort", dim, axis, LAST)
    a = check_axis(dim, x.ndim, "argsort")
    be = x._backend
    xp = be.xp
    if x.ndim == 0:
        return Tensor._wrap(xp.zeros((), dtype=xp.int64, device=be.device), be)
    out = xp.argsort(_sortable(x), axis=a, descending=bool(descending), stable=True)
    return Tensor._wrap(out if out.dtype == xp.int64 else xp.astype(out, xp.int64), be)



# -- order statistics: median, kthvalue, mode, quantile ------------------------------------------


def _pick_sorted(op, x, a, keepdim, position):
    """``(values, indices)`` of the entries at sorted ``position`` along axis ``a`` (stable
    ascending sort, NaN last); ``position(sorted_values) -> int array`` (keepdims shape).
    The values' gradient goes to the element at the index, as PyTorch."""
    be = x._backend
    xp = be.xp
    data = x.data
    shape = data.shape
    if x.ndim == 0:
        return _scalar_pair(x, op.capitalize())
    if shape[a] == 0:
        raise ValueError(f"{op}: cannot reduce the empty dimension {a} of shape {tuple(shape)}")
    order = xp.argsort(_sortable(x), axis=a, stable=True)
    ordered = xp.take_along_axis(data, order, axis=a)
    idx_keep = xp.take_along_axis(order, position(ordered), axis=a)
    if idx_keep.dtype != xp.int64:
        idx_keep = xp.astype(idx_keep, xp.int64)
    values = xp.take_along_axis(data, idx_keep, axis=a)
    idx = idx_keep
    if not keepdim:
        values, idx = xp.squeeze(values, axis=a), xp.squeeze(idx_keep, axis=a)

    def backward(g):
        g = g if keepdim else xp.expand_dims(g, axis=a)
        pos = xp.reshape(xp.arange(shape[a], device=be.device), (shape[a],) + (1,) * (len(shape) - 1 - a))
        return (xp.where(pos == idx_keep, g, xp.zeros_like(g)),)

    def graph(g):  # g scattered to the index: a scatter whose own graph is the gather
        from gdl.functional.shape import unsqueeze

        return (_scatter_graph(g if keepdim else unsqueeze(g, a), tuple(shape), a, idx_keep),)

    return ValuesIndices(result(values, be, (x,), backward, op.capitalize(), graph), Tensor._wrap(idx, be))


def _nan_count(xp, ordered, a):
    """The number of non-NaN entries along ``a`` (keepdims)."""
    if not dtypes.is_floating(ordered.dtype):
        n = ordered.shape[a]
        return xp.full(ordered.shape[:a] + (1,) + ordered.shape[a + 1 :], n, dtype=xp.int64)
    return xp.sum(xp.astype(~xp.isnan(ordered), xp.int64), axis=a, keepdims=True)


def median(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """The median; for an even count the LOWER of the two middle values, as ``torch.median``.

    - ``median(x)``: over all entries, a 0-d tensor (NaN if any entry is NaN, or if ``x``
      is empty); tied entries share the gradient equally, as PyTorch.
    - ``median(x, dim)``: a :class:`ValuesIndices` ``(values, indices)`` along ``dim``;
      NaN wins (its first occurrence); the gradient goes to the element at ``indices``.

    >>> import gdl
    >>> gdl.median(gdl.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2., backend='numpy')
    >>> gdl.median(gdl.tensor([[4.0, 1.0, 3.0], [0.0, 5.0, 6.0]]), dim=1)
    ValuesIndices(values=tensor([3., 5.], backend='numpy'), indices=tensor([2, 1], backend='numpy'))
    """
    def position(xp, ordered, a):
        n = ordered.shape[a]
        count = _nan_count(xp, ordered, a)
        return xp.where(count < n, count, xp.full_like(count, (n - 1) // 2))  # a NaN: the first one

    return _median("median", x, dim, keepdim, axis, keepdims, position)


def nanmedian(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """:func:`median` of the entries that are not NaN (NaN only where all are NaN), as
    ``torch.nanmedian``: lower middle value; ``(values, indices)`` with ``dim``.

    >>> import gdl
    >>> gdl.nanmedian(gdl.tensor([float("nan"), 3.0, 1.0, 2.0]))
    tensor(2., backend='numpy')
    """
    def position(xp, ordered, a):
        count = _nan_count(xp, ordered, a)
        return xp.where(count > 0, (count - 1) // 2, xp.zeros_like(count))

    return _median("nanmedian", x, dim, keepdim, axis, keepdims, position)


def _median(op, x, dim, keepdim, axis, keepdims, position):
    """median/nanmedian: over everything, or ``(values, indices)`` along ``dim`` at the sorted
    ``position(xp, ordered, a)`` of each slice."""
    dim, keepdim = _dims(op, dim, keepdim, axis, keepdims)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim needs a dim ({op}(x) reduces every axis to a 0-d tensor)")
        return _median_all(x, op, nan_aware=op == "nanmedian")
    a = _one_dim(op, dim, x.ndim)
    xp = x._backend.xp
    return _pick_sorted(op, x, a, keepdim, lambda ordered: position(xp, ordered, a))


def _one_dim(op, dim, ndim):
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be one int, got {dim!r}")
    return check_axis(dim, ndim, op)


def _median_all(x, op, nan_aware):
    be = x._backend
    xp = be.xp
    data = x.data
    flat = xp.reshape(data, (-1,))
    n = flat.shape[0]
    if n == 0:
        out = xp.full((), float("nan"), dtype=_float_data(x).data.dtype, device=be.device)
        return result(out, be, (x,), lambda g: (xp.zeros_like(data),), op.capitalize(),  # NaN, in the graph
                      lambda g: (Tensor._wrap(xp.zeros_like(data), be),))
    ordered = xp.sort(flat, stable=True)
    count = int(_nan_count(xp, xp.reshape(ordered, (1, n)), 1)[0, 0])
    if nan_aware:
        k = (count - 1) // 2 if count else 0
    else:
        k = (n - 1) // 2 if count == n else count  # any NaN: NaN (sorted last)
    out = ordered[k]

    def backward(g):  # shared equally among the entries equal to the median (NaN: among the NaNs)
        hit = data == out
        if dtypes.is_floating(data.dtype):
            hit = hit | (xp.isnan(data) & xp.isnan(out))
        hit = xp.astype(hit, g.dtype)
        return (g * hit / xp.sum(hit),)

    def graph(g):  # g times a constant share (the ties are a property of the forward)
        hit = data == out
        if dtypes.is_floating(data.dtype):
            hit = hit | (xp.isnan(data) & xp.isnan(out))
        hit = xp.astype(hit, g.data.dtype)
        return (g * Tensor._wrap(hit / xp.sum(hit), be),)

    return result(out, be, (x,), backward, op.capitalize(), graph)


def kthvalue(x: Tensor, k: int, dim: int = LAST, keepdim: bool = False, *, axis=None, keepdims=None) -> ValuesIndices:
    """``(values, indices)`` of the ``k``-th smallest entry (``k`` from 1) along ``dim``, as
    ``torch.kthvalue`` (NaN counts as the largest); the gradient goes to the index.

    >>> import gdl
    >>> gdl.kthvalue(gdl.tensor([5.0, 1.0, 4.0, 2.0]), 2)
    ValuesIndices(values=tensor(2., backend='numpy'), indices=tensor(3, backend='numpy'))
    """
    dim, keepdim = _dims("kthvalue", dim, keepdim, axis, keepdims, LAST)
    a = _one_dim("kthvalue", dim, x.ndim)
    n = x.shape[a] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k!r} is out of range for dimension {a} of size {n} in a tensor of shape {x.shape}")
    xp = x._backend.xp

    def position(ordered):
        return xp.full(ordered.shape[:a] + (1,) + ordered.shape[a + 1 :], k - 1, dtype=xp.int64,
                       device=x._backend.device)

    return _pick_sorted("kthvalue", x, a, keepdim, position)


def mode(x: Tensor, dim: int = LAST, keepdim: bool = False, *, axis=None, keepdims=None) -> ValuesIndices:
    """``(values, indices)`` of the most frequent value along ``dim``, as ``torch.mode``: the
    smallest of equally frequent values, and the index of its last occurrence. The
    gradient goes to the index. (NaN entries each count once here; PyTorch counts them
    together.)

    >>> import gdl
    >>> gdl.mode(gdl.tensor([3.0, 1.0, 1.0, 3.0, 2.0]))
    ValuesIndices(values=tensor(1., backend='numpy'), indices=tensor(2, backend='numpy'))
    """
    from gdl.functional.scan import _doubling_scan

    dim, keepdim = _dims("mode", dim, keepdim, axis, keepdims, LAST)
    a = _one_dim("mode", dim, x.ndim)
    be = x._backend
    xp = be.xp

    def position(ordered):
        n = ordered.shape[a]
        pos = xp.reshape(xp.arange(n, dtype=xp.int64, device=be.device), (n,) + (1,) * (ordered.ndim - 1 - a))
        pos = xp.broadcast_to(pos, ordered.shape)
        first = xp.ones(ordered.shape[:a] + (1,) + ordered.shape[a + 1 :], dtype=xp.bool, device=be.device)
        later, earlier = ordered[(slice(None),) * a + (slice(1, None), Ellipsis)], ordered[
            (slice(None),) * a + (slice(0, n - 1), Ellipsis)]
        starts = xp.concat([first, later != earlier], axis=a)
        run_start = _doubling_scan(xp, xp.where(starts, pos, xp.zeros_like(pos)), a, xp.maximum)
        run_length = pos - run_start + 1  # the first maximum ends the smallest longest run
        return xp.argmax(run_length, axis=a, keepdims=True)

    return _pick_sorted("mode", x, a, keepdim, position)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",
             axis=None, keepdims=None) -> Tensor:
    """The ``q``-quantiles of ``x`` along ``dim`` (of all entries when None), as ``torch.quantile``.

    ``q`` is a number in [0, 1] or a 1-D list/tensor of them (their axis comes first in
    the result). Between the sorted values at ``floor(r)`` and ``ceil(r)``, with
    ``r = q * (n - 1)``, ``interpolation`` picks ``linear`` (the default), ``lower``,
    ``higher``, ``midpoint`` or ``nearest``. NaN in a slice gives NaN. Integer tensors
    give the default float dtype (PyTorch refuses them). Backward: through the sort and
    the interpolation, ``(1 - w) * g`` and ``w * g`` to the two values that were mixed.

    >>> import gdl
    >>> gdl.quantile(gdl.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5, backend='numpy')
    """
    import math

    from gdl.functional.elementwise import where
    from gdl.functional.shape import getitem, reshape, stack, unsqueeze

    dim, keepdim = _dims("quantile", dim, keepdim, axis, keepdims)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"quantile: interpolation must be one of {', '.join(_INTERPOLATIONS)}, got {interpolation!r}")
    qs = q.tolist() if isinstance(q, Tensor) else q
    scalar_q = not isinstance(qs, (list, tuple))
    qs = [qs] if scalar_q else list(qs)
    if builtins.any(isinstance(v, (list, tuple)) for v in qs):
        raise ValueError("quantile: q must be a number or a 1-D sequence of numbers")
    for v in qs:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"quantile: q must be in [0, 1], got {v!r}")
    x = _float_data(x)
    ndim = x.ndim
    if dim is None:
        src, a = reshape(x, (-1,)), 0
    else:
        a = _one_dim("quantile", dim, ndim)
        src = reshape(x, (1,)) if ndim == 0 else x
    n = src.shape[a]
    if n == 0:
        raise ValueError(f"quantile: cannot take quantiles of an empty {'tensor' if dim is None else 'dimension'} "
                         f"(shape {x.shape})")
    ordered = sort(src, a).values
    last = getitem(ordered, (slice(None),) * a + (n - 1, Ellipsis))  # NaN if the slice has one
    nan_any = Tensor._wrap(x._backend.xp.isnan(last.data), x._backend)

    outs = []
    for v in qs:
        rank = v * (n - 1)
        if interpolation == "nearest":
            rank = float(round(rank))  # halves to even, as PyTorch
        lo, hi = math.floor(rank), math.ceil(rank)
        w = rank - lo
        if interpolation == "lower":
            hi, w = lo, 0.0
        elif interpolation == "higher":
            lo, w = hi, 0.0
        elif interpolation == "midpoint":
            w = 0.0 if lo == hi else 0.5
        v_lo = getitem(ordered, (slice(None),) * a + (lo, Ellipsis))
        if hi == lo or w == 0.0:
            out = v_lo
        else:
            v_hi = getitem(ordered, (slice(None),) * a + (hi, Ellipsis))
            out = v_lo + (v_hi - v_lo) * w if w < 0.5 else v_hi - (v_hi - v_lo) * (1.0 - w)  # torch.lerp
        out = where(nan_any, last, out)
        if dim is not None and ndim == 0:  # a 0-d input stays 0-d, keepdim or not (as PyTorch)
            out = reshape(out, ())
        elif keepdim:
            out = unsqueeze(out, a) if dim is not None else reshape(out, (1,) * ndim)
        outs.append(out)
    return outs[0] if scalar_q else stack(outs, 0)


__all__ = [
    "argsort",
    "kthvalue",
    "median",
    "mode",
    "nanmedian",
    "quantile",
    "sort",
    "topk",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {
    "argsort": argsort,
    "median": median,
    "nanmedian": nanmedian,
    "kthvalue": kthvalue,
    "mode": mode,
    "quantile": quantile,
}
