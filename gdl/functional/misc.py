"""PyTorch's assorted tensor ops: searching sorted sequences (``searchsorted``, ``bucketize``),
distinct values and counting (``unique``, ``unique_consecutive``, ``bincount``, ``histc``),
building tensors (``repeat_interleave``, ``diag_embed``, ``block_diag``, ``rot90``,
``cartesian_prod``, ``combinations``, ``tensor_split``), pairwise distances (``cdist``) and
integration (``trapezoid``, ``trapz``), with PyTorch's signatures and dtypes.

All are written with the Array API (``xp``); the counts use the backend's duplicate-safe
``scatter_add``. Gradients flow where PyTorch has them: ``repeat_interleave``, ``cdist``,
``diag_embed``, ``block_diag``, ``rot90``, ``cartesian_prod``, ``combinations``,
``tensor_split`` and ``trapezoid``. Searching and counting give integer tensors (or,
for ``histc`` and weighted ``bincount``, float counts) and no gradient.

>>> import gdl
>>> from gdl.functional.misc import bucketize, unique
>>> bucketize(gdl.tensor([0.5, 1.0, 2.5]), gdl.tensor([1.0, 2.0]))
tensor([0, 0, 2], backend='numpy')
>>> unique(gdl.tensor([3, 1, 3, 2]), return_counts=True)
(tensor([1, 2, 3], backend='numpy'), tensor([1, 1, 2], backend='numpy'))
"""

from __future__ import annotations

import itertools
import math

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.backends import get_backend_object
from gdl.functional import elementwise as E
from gdl.functional import indexing as I
from gdl.functional import reduction as R
from gdl.functional import shape as S
from gdl.functional._util import check_axis, check_same_backend, unbroadcast
from gdl.tensor import Tensor, result

# -- helpers ---------------------------------------------------------------------------------


def _tensor(op: str, x, what: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    return x


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _kind(xp, dtype) -> str:
    if dtype == xp.bool:
        return "bool"
    return "float" if dtypes.is_floating(dtype) else "int"


def _int_array(op: str, x: Tensor, v, what: str):
    """``v`` (an integer Tensor on ``x``'s backend) as its array, or a TypeError."""
    v = _tensor(op, v, what)
    check_same_backend(op, x, v)
    if _kind(x._backend.xp, v.data.dtype) != "int":
        raise TypeError(f"{op}: {what} must be an integer tensor, got dtype {v.dtype.name}")
    return v.data


def _comparable(xp, a, b):
    """``a`` and ``b`` in one dtype that compares them exactly (bools as int8; mixed kinds
    or widths as float64 if either is floating, else int64), as PyTorch compares them."""
    if a.dtype == b.dtype:
        return (xp.astype(a, xp.int8), xp.astype(b, xp.int8)) if a.dtype == xp.bool else (a, b)
    common = xp.float64 if "float" in (_kind(xp, a.dtype), _kind(xp, b.dtype)) else xp.int64
    return xp.astype(a, common), xp.astype(b, common)


def _index_dtype(xp, out_int32: bool):
    return xp.int32 if out_int32 else xp.int64


def _as_index(xp, a, out_int32=False):
    want = _index_dtype(xp, out_int32)
    return a if a.dtype == want else xp.astype(a, want)


# -- searching sorted sequences ----------------------------------------------------------------


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Where each of ``values`` would go in ``sorted_sequence`` to keep it sorted, as
    ``torch.searchsorted``: the number of entries ``< v`` (``side="left"``, the default)
    or ``<= v`` (``right=True`` or ``side="right"``).

    ``sorted_sequence`` is 1-d (searched for every value), or N-d with ``values`` of the
    same leading dimensions (row ``i`` of ``values`` searched in row ``i`` of the
    sequence); sorted along its last dimension, or put in order by the integer
    ``sorter`` (as ``argsort`` gives it). ``values`` may be a tensor or a Python number
    (a 0-d result). Mixed dtypes compare exactly, as PyTorch. int64 (int32 with
    ``out_int32``); no gradient.

    >>> import gdl
    >>> from gdl.functional.misc import searchsorted
    >>> searchsorted(gdl.tensor([1, 3, 5, 7]), gdl.tensor([3, 6]))
    tensor([1, 3], backend='numpy')
    >>> searchsorted(gdl.tensor([1, 3, 5, 7]), gdl.tensor([3, 6]), right=True)
    tensor([2, 3], backend='numpy')
    """
    op = "searchsorted"
    seq = _tensor(op, sorted_sequence, "sorted_sequence")
    be = seq._backend
    xp = be.xp
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError(f"{op}: side='left' and right=True ask for opposite sides; pass only one")
    else:
        side = "right" if right else "left"
    if seq.ndim == 0:
        raise ValueError(f"{op}: sorted_sequence must have at least 1 dimension, got a 0-d tensor")
    if isinstance(values, Tensor):
        check_same_backend(op, seq, values)
        v = values.data
    elif isinstance(values, (int, float, bool)):
        v = xp.asarray(values, dtype=xp.float64 if isinstance(values, float) else xp.int64, device=be.device)
    else:
        raise TypeError(f"{op}: values must be a Tensor or a Python number, got {type(values).__name__}")
    s = seq.data
    if sorter is not None:
        order = _int_array(op, seq, sorter, "sorter")
        if tuple(order.shape) != seq.shape:
            raise ValueError(f"{op}: sorter of shape {tuple(order.shape)} must have the sequence's shape {seq.shape}")
        s = xp.take_along_axis(s, order, axis=-1)
    s, v = _comparable(xp, s, v)
    if seq.ndim == 1:
        out = xp.searchsorted(s, v, side=side)
    else:
        if v.ndim != s.ndim or tuple(v.shape[:-1]) != tuple(s.shape[:-1]):
            raise ValueError(
                f"{op}: a sorted_sequence of shape {seq.shape} needs values with the same leading "
                f"dimensions {seq.shape[:-1]}, got shape {tuple(v.shape)} (or use a 1-d sequence)"
            )
        rows, n, k = math.prod(s.shape[:-1]), s.shape[-1], v.shape[-1]
        s2 = xp.reshape(s, (rows, n))
        v2 = xp.reshape(v, (rows, k))
        if not (rows and k):
            out = xp.zeros(tuple(v.shape), dtype=xp.int64, device=be.device)
        elif rows > 1 and (n * k <= _ROW_COMPARE_MAX or n <= 16):
            out = xp.reshape(_searchsorted_rows(xp, s2, v2, side, be.device), tuple(v.shape))
        else:
            found = [xp.searchsorted(s2[i, :], v2[i, :], side=side) for i in range(rows)]
            out = xp.reshape(xp.stack(found), tuple(v.shape))
    return Tensor._wrap(_as_index(xp, out, out_int32), be)


_ROW_COMPARE_MAX = 1024  # rows of n entries, k values: compared all at once while n * k is at most this
_COMPARE_BLOCK = 2**22  # the most comparisons held at once


def _searchsorted_rows(xp, s, v, side, device):
    """Row ``i`` of ``v`` searched in row ``i`` of ``s`` (2-D, one dtype) for short rows:
    every value compared with every entry of its row, a block of rows at a time, and the
    hits counted; the per-row ``searchsorted`` loop it replaces costs a Python call per
    row. NumPy's order, which ``searchsorted`` follows: NaN is above every number and
    equal to NaN."""
    rows, n = s.shape
    k = v.shape[1]
    step = max(1, _COMPARE_BLOCK // max(n * k, 1))
    floating = dtypes.is_floating(s.dtype)
    found = []
    for i in range(0, rows, step):
        j = min(i + step, rows)
        a, b = s[i:j, None, :], v[i:j, :, None]
        if side == "left":
            hit = a < b
            if floating:
                hit = hit | (xp.isnan(b) & ~xp.isnan(a))
        else:
            hit = a <= b
            if floating:
                hit = hit | xp.isnan(b)
        found.append(xp.astype(xp.count_nonzero(hit, axis=-1), xp.int64))
    return found[0] if len(found) == 1 else xp.concat(found, axis=0)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` between the sorted 1-d ``boundaries``, as
    ``torch.bucketize``: ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (with
    ``right=True``: ``boundaries[i-1] <= x < boundaries[i]``), from 0 to ``len(boundaries)``.
    ``input`` may be a Python number. int64 (int32 with ``out_int32``); no gradient.

    >>> import gdl
    >>> from gdl.functional.misc import bucketize
    >>> bucketize(gdl.tensor([1.0, 2.5, 3.0]), gdl.tensor([1.0, 2.0, 3.0]), right=True)
    tensor([1, 2, 3], backend='numpy')
    """
    b = _tensor("bucketize", boundaries, "boundaries")
    if b.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-d, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, side="right" if right else "left")


# -- distinct values and counts ----------------------------------------------------------------


def _sort_key(xp, a):
    return xp.astype(a, xp.int8) if a.dtype == xp.bool else a


def _slices_as_rows(op, xp, data, dim):
    """``data`` with axis ``dim`` first and the rest flattened: one row per slice along ``dim``,
    and the permutation that put ``dim`` first."""
    if data.ndim == 0:
        raise ValueError(f"{op}: dim={dim} given for a 0-d tensor, which has no dimensions")
    axis = check_axis(dim, data.ndim, op)
    if any(size == 0 for i, size in enumerate(data.shape) if i != axis):
        raise ValueError(f"{op}: the slices along dim {dim} of a tensor of shape {tuple(data.shape)} are empty")
    perm = (axis,) + tuple(i for i in range(data.ndim) if i != axis)
    moved = xp.permute_dims(data, perm)
    rest = tuple(moved.shape[1:])
    return xp.reshape(moved, (moved.shape[0], math.prod(rest))), perm, rest


def _lexicographic_order(xp, rows):
    """The stable order that sorts the rows of a 2-d array lexicographically (first column first)."""
    order = xp.arange(rows.shape[0], device=rows.device)
    for col in range(rows.shape[1] - 1, -1, -1):  # last key first: each stable pass keeps the later ones
        key = xp.take(_sort_key(xp, rows[:, col]), order)
        order = xp.take(order, xp.argsort(key, stable=True))
    return order


def _runs(op, x: Tensor, sort: bool, return_inverse: bool, return_counts: bool, dim):
    """The runs of equal values of ``x`` flattened, or of equal slices along ``dim`` (after a
    stable sort with ``sort``, lexicographic for slices): ``(values, inverse, counts)`` as
    requested. NaN equals nothing, as in PyTorch."""
    x = _tensor(op, x)
    be = x._backend
    xp = be.xp
    if dim is None:
        flat = xp.reshape(x.data, (-1, 1))
    else:
        flat, perm, rest = _slices_as_rows(op, xp, x.data, dim)
    n = flat.shape[0]
    order = None
    if sort and n:
        order = _lexicographic_order(xp, flat) if dim is not None else xp.argsort(_sort_key(xp, flat[:, 0]), stable=True)
        flat = xp.take(flat, order, axis=0)
    one = xp.ones((min(n, 1),), dtype=xp.bool, device=be.device)
    starts = xp.concat([one, xp.any(flat[1:, ...] != flat[:-1, ...], axis=1)]) if n else one
    pos = xp.nonzero(starts)[0]
    values = xp.take(flat, pos, axis=0)
    if dim is None:
        values = values[:, 0]
    else:  # back to the input's layout, with the distinct slices along dim
        values = xp.reshape(values, (values.shape[0],) + rest)
        values = xp.permute_dims(values, tuple(perm.index(i) for i in range(len(perm))))
    outs = [Tensor._wrap(values, be)]
    if return_inverse:
        group = xp.cumulative_sum(xp.astype(starts, xp.int64)) - 1
        if order is not None:
            group = xp.take(group, xp.argsort(order))  # back to the input's order
        outs.append(Tensor._wrap(xp.reshape(group, x.shape) if dim is None else group, be))
    if return_counts:
        if n:
            ends = xp.concat([pos[1:], xp.asarray([n], dtype=pos.dtype, device=be.device)])
            counts = xp.astype(ends - pos, xp.int64)
        else:
            counts = xp.zeros((0,), dtype=xp.int64, device=be.device)
        outs.append(Tensor._wrap(counts, be))
    return outs[0] if len(outs) == 1 else tuple(outs)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim=None):
    """The distinct elements of ``input`` (1-d, ascending), as ``torch.unique``; with
    ``return_inverse`` also where each element went (int64, ``input``'s shape: ``values[inverse]``
    rebuilds ``input``), with ``return_counts`` how often each occurs (int64). The results
    come as a tuple in that order when either flag is set.

    With ``dim``, the distinct slices along that axis, sorted lexicographically (the
    inverse and counts are then per slice). Always sorted (``sorted=False`` is accepted:
    PyTorch leaves the order open then). NaNs are each distinct, as in PyTorch. No gradient.

    >>> import gdl
    >>> from gdl.functional.misc import unique
    >>> values, inverse = unique(gdl.tensor([[3, 1], [3, 2]]), return_inverse=True)
    >>> values, inverse
    (tensor([1, 2, 3], backend='numpy'), tensor([[2, 0],
            [2, 1]], backend='numpy'))
    >>> unique(gdl.tensor([[1, 2], [1, 2], [0, 5]]), dim=0, return_counts=True)
    (tensor([[0, 5],
            [1, 2]], backend='numpy'), tensor([1, 2], backend='numpy'))
    """
    return _runs("unique", input, True, return_inverse, return_counts, dim)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The first element of each run of equal consecutive elements of ``input`` (flattened), as
    ``torch.unique_consecutive``; ``return_inverse`` and ``return_counts`` as in :func:`unique`;
    with ``dim``, runs of equal slices along that axis. No gradient.

    >>> import gdl
    >>> from gdl.functional.misc import unique_consecutive
    >>> unique_consecutive(gdl.tensor([1, 1, 2, 2, 3, 1, 1]), return_counts=True)
    (tensor([1, 2, 3, 1], backend='numpy'), tensor([2, 2, 1, 2], backend='numpy'))
    """
    return _runs("unique_consecutive", input, False, return_inverse, return_counts, dim)


def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """How often each value ``0 .. max(input)`` occurs in the 1-d non-negative integer
    ``input`` (at least ``minlength`` bins), as ``torch.bincount``: int64 counts, or with
    ``weights`` (1-d, ``input``'s length) the sum of the weights at each value, in the
    weights' dtype (float64 for integer weights, as PyTorch; for an empty ``input`` too,
    where PyTorch gives int64 zeros). No gradient.

    >>> import gdl
    >>> from gdl.functional.misc import bincount
    >>> bincount(gdl.tensor([0, 1, 1, 3]), minlength=6)
    tensor([1, 2, 0, 1, 0, 0], backend='numpy')
    >>> bincount(gdl.tensor([0, 1, 1]), weights=gdl.tensor([0.5, 1.0, 2.0]))
    tensor([0.5, 3. ], backend='numpy')
    """
    x = _tensor("bincount", input)
    be = x._backend
    xp = be.xp
    if x.ndim != 1 or _kind(xp, x.data.dtype) != "int":
        raise TypeError(
            f"bincount: input must be a 1-d tensor of non-negative integers, got shape {x.shape} dtype {x.dtype.name}"
        )
    if not _is_int(minlength) or minlength < 0:
        raise ValueError(f"bincount: minlength must be an int >= 0, got {minlength!r}")
    n = x.shape[0]
    if n and int(xp.min(x.data)) < 0:
        raise ValueError(f"bincount: input must be non-negative, got the value {int(xp.min(x.data))}")
    length = max(int(xp.max(x.data)) + 1 if n else 0, minlength)
    if weights is None:
        values = xp.ones((n,), dtype=xp.int64, device=be.device)
    else:
        w = _tensor("bincount", weights, "weights")
        check_same_backend("bincount", x, w)
        if w.shape != (n,):
            raise ValueError(f"bincount: weights of shape {w.shape} must be 1-d with the input's length {n}")
        values = w.data if dtypes.is_floating(w.data.dtype) else xp.astype(w.data, xp.float64)
    idx = x.data if x.data.dtype == xp.int64 else xp.astype(x.data, xp.int64)
    out = be.scatter_add((length,), idx, values)
    return Tensor._wrap(out if out.dtype == values.dtype else xp.astype(out, values.dtype), be)


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """A histogram of the elements of the floating ``input``: ``bins`` equal bins between
    ``min`` and ``max``, as ``torch.histc``. Where ``min == max`` (both 0 by default) the
    data's smallest and largest elements are used (widened by 1 each way if equal).
    Elements outside ``[min, max]`` and NaN are ignored; ``max`` itself counts in the
    last bin. Counts in ``input``'s dtype; no gradient.

    The bin of ``x`` is ``int((x - min) * bins / (max - min))`` in ``input``'s dtype,
    PyTorch's formula (so elements on a bin edge land where PyTorch puts them).

    >>> import gdl
    >>> from gdl.functional.misc import histc
    >>> histc(gdl.tensor([1.0, 2.0, 1.0, 5.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.], backend='numpy')
    """
    x = _tensor("histc", input)
    be = x._backend
    xp = be.xp
    dt = x.data.dtype
    if not dtypes.is_floating(dt):
        raise TypeError(f"histc: input must be a floating tensor, got dtype {x.dtype.name} (convert it, e.g. x.float())")
    if not _is_int(bins) or bins <= 0:
        raise ValueError(f"histc: bins must be an int > 0, got {bins!r}")
    for name, v in (("min", min), ("max", max)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"histc: {name} must be a Python number, got {type(v).__name__}")
    if min > max:
        raise ValueError(f"histc: max must be larger than min, got min={min} and max={max}")
    flat = xp.reshape(x.data, (-1,))
    lo = xp.asarray(min, dtype=dt, device=be.device)
    hi = xp.asarray(max, dtype=dt, device=be.device)
    if float(lo) == float(hi) and flat.shape[0]:
        lo, hi = xp.min(flat), xp.max(flat)
    if float(lo) == float(hi):
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        raise ValueError(f"histc: the range [{float(lo)}, {float(hi)}] is not finite (NaN or inf in the input?)")
    inside = (flat >= lo) & (flat <= hi)  # False for NaN
    pos = xp.floor((flat - lo) * bins / (hi - lo))
    pos = xp.where(inside, pos, xp.zeros_like(pos))
    pos = xp.clip(xp.astype(pos, xp.int64), 0, bins - 1)  # max itself: the last bin
    ones = xp.astype(inside, dt)
    out = be.scatter_add((bins,), pos, ones)
    return Tensor._wrap(out if out.dtype == dt else xp.astype(out, dt), be)


# -- building tensors --------------------------------------------------------------------------


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each slice of ``input`` along ``dim`` repeated ``repeats`` times in place, as
    ``torch.repeat_interleave`` (``x.repeat_interleave(2)`` of ``[1, 2]`` is ``[1, 1, 2, 2]``;
    :func:`gdl.repeat` tiles the whole tensor instead). ``repeats`` is an int, or an integer
    tensor with one count per slice (or one for all); ``dim=None`` works on ``input``
    flattened. ``output_size``, if given, must be the result's length along ``dim``.

    ``repeat_interleave(counts)`` with one integer tensor is ``repeat_interleave(arange(len(counts)),
    counts)``, as PyTorch. Backward sums the gradient of each slice's copies.

    >>> import gdl
    >>> from gdl.functional.misc import repeat_interleave
    >>> repeat_interleave(gdl.tensor([[1, 2], [3, 4]]), gdl.tensor([1, 2]), dim=0)
    tensor([[1, 2],
            [3, 4],
            [3, 4]], backend='numpy')
    """
    op = "repeat_interleave"
    x = _tensor(op, input)
    be = x._backend
    xp = be.xp
    if repeats is None:  # repeat_interleave(counts): the indices 0.. each repeated
        _int_array(op, x, x, "input (alone, the repeat counts)")
        if x.ndim != 1:
            raise ValueError(f"{op}: repeat counts must be 1-d, got shape {x.shape}")
        x, repeats, dim = Tensor._wrap(xp.arange(x.shape[0], dtype=xp.int64, device=be.device), be), x, 0
    if dim is None:
        x = S.reshape(x, (-1,))
        d = 0
    else:
        if not _is_int(dim):
            raise TypeError(f"{op}: dim must be an int or None, got {dim!r}")
        if x.ndim == 0:
            raise ValueError(f"{op}: dim={dim} needs a tensor with dimensions, got a 0-d tensor (pass dim=None)")
        d = check_axis(dim, x.ndim, op)
    n = x.shape[d]
    if _is_int(repeats):
        if repeats < 0:
            raise ValueError(f"{op}: repeats must be non-negative, got {repeats}")
        idx = xp.arange(n * repeats, dtype=xp.int64, device=be.device) // max(repeats, 1)
    else:
        reps = _int_array(op, x, repeats, "repeats")
        if reps.ndim > 1:
            raise ValueError(f"{op}: repeats must be a 0-d or 1-d tensor, got shape {tuple(reps.shape)}")
        reps = xp.astype(xp.reshape(reps, (-1,)), xp.int64)
        if reps.shape[0] == 1:
            reps = xp.broadcast_to(reps, (n,))
        if reps.shape[0] != n:
            raise ValueError(
                f"{op}: repeats must have the same size as input along dim {d}, got {reps.shape[0]} "
                f"repeats for size {n} (input of shape {x.shape})"
            )
        if n and int(xp.min(reps)) < 0:
            raise ValueError(f"{op}: repeats must be non-negative, got {int(xp.min(reps))}")
        ends = xp.cumulative_sum(reps)
        total = int(ends[-1]) if n else 0
        # slice j fills positions [ends[j-1], ends[j]): position p belongs to the first j with ends[j] > p
        idx = xp.searchsorted(ends, xp.arange(total, dtype=xp.int64, device=be.device), side="right")
        idx = xp.astype(idx, xp.int64)
    if output_size is not None and output_size != idx.shape[0]:
        raise ValueError(f"{op}: output_size={output_size} but the result has {idx.shape[0]} slices along dim {d}")
    return I.index_select(x, d, idx)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose diagonals (in the planes of ``dim1`` and ``dim2``, ``offset`` above the
    main one, below for a negative offset) hold the last dimension of ``input``, zeros
    elsewhere, as ``torch.diag_embed``: one more dimension than ``input``, the two new ones
    of size ``n + |offset|``. Backward takes the gradient's diagonals.

    >>> import gdl
    >>> from gdl.functional.misc import diag_embed
    >>> diag_embed(gdl.tensor([1, 2]), offset=1)
    tensor([[0, 1, 0],
            [0, 0, 2],
            [0, 0, 0]], backend='numpy')
    """
    op = "diag_embed"
    x = _tensor(op, input)
    if not _is_int(offset):
        raise TypeError(f"{op}: offset must be an int, got {offset!r}")
    for name, v in (("dim1", dim1), ("dim2", dim2)):
        if not _is_int(v):
            raise TypeError(f"{op}: {name} must be an int, got {v!r}")
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension, got a 0-d tensor")
    be = x._backend
    xp = be.xp
    nd = x.ndim + 1
    d1, d2 = check_axis(dim1, nd, op), check_axis(dim2, nd, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 name the same dimension ({dim1}, {dim2}) of the {nd}-d result")
    n = x.shape[-1]
    m = n + abs(offset)
    c0 = max(offset, 0)
    rows = xp.reshape(xp.arange(m, dtype=xp.int64, device=be.device), (m, 1))
    cols = xp.reshape(xp.arange(m, dtype=xp.int64, device=be.device), (1, m))
    on = (cols - rows) == offset  # (m, m): the diagonal
    lead = x.shape[:-1]
    parts = [z for z in (c0, m - n - c0) if z]
    data = x.data
    if parts:  # column j of the diagonal holds x[j - c0]
        zeros = [xp.zeros(lead + (z,), dtype=data.dtype, device=be.device) for z in (c0, m - n - c0)]
        data = xp.concat([zeros[0], data, zeros[1]], axis=-1)
    zero = xp.zeros((), dtype=data.dtype, device=be.device)
    full = xp.where(on, data[..., None, :], zero)  # (..., m, m): rows dim1, columns dim2
    perm = _plane_perm(nd, d1, d2)
    out = xp.permute_dims(full, perm)
    inverse = tuple(perm.index(a) for a in range(nd))

    def backward(g):
        gp = xp.permute_dims(g, inverse)
        cols_sum = xp.sum(xp.where(on, gp, xp.zeros((), dtype=gp.dtype, device=be.device)), axis=-2)
        return (cols_sum[..., c0 : c0 + n],)

    def graph(g):  # the same diagonals, with Tensor ops
        on_t = Tensor._wrap(xp.astype(on, g.data.dtype), be)
        cols_sum = (g.permute(inverse) * on_t).sum(-2)
        return (S._slice_along(cols_sum, cols_sum.ndim - 1, slice(c0, c0 + n)),)

    return result(out, be, (x,), backward, "DiagEmbed", graph)


def _plane_perm(nd, d1, d2):
    """The permutation moving an array's last two axes to ``d1`` and ``d2`` (the others keep
    their order in the remaining places)."""
    others = iter(range(nd - 2))
    return tuple(nd - 2 if a == d1 else nd - 1 if a == d2 else next(others) for a in range(nd))


def block_diag(*tensors) -> Tensor:
    """The tensors (each 0-, 1- or 2-d; a 0-d one is ``1 × 1``, a 1-d one a row) placed along
    the diagonal of a zero matrix, as ``torch.block_diag``; the dtype is the promoted one
    (bool < integer < floating). Backward gives each tensor its block of the gradient.

    >>> import gdl
    >>> from gdl.functional.misc import block_diag
    >>> block_diag(gdl.tensor([[1, 2]]), gdl.tensor(3))
    tensor([[1, 2, 0],
            [0, 0, 3]], backend='numpy')
    """
    op = "block_diag"
    if not tensors:
        be = get_backend_object()
        return Tensor._wrap(be.xp.zeros((1, 0), dtype=dtypes.backend_dtype(be, dtypes.get_default_dtype()),
                                        device=be.device), be)
    for i, t in enumerate(tensors):
        _tensor(op, t, f"tensor {i}")
        check_same_backend(op, tensors[0], t)
        if t.ndim > 2:
            raise ValueError(f"{op}: tensors must have 2 or fewer dimensions; tensor {i} has shape {t.shape}")
    be = tensors[0]._backend
    xp = be.xp
    dt = _promoted(xp, [t.data.dtype for t in tensors])
    mats = [xp.reshape(t.data, (1, -1) if t.ndim < 2 else t.shape) for t in tensors]
    mats = [a if a.dtype == dt else xp.astype(a, dt) for a in mats]
    width = sum(a.shape[1] for a in mats)
    rows, col = [], 0
    for a in mats:
        h, w = a.shape
        pieces = [xp.zeros((h, col), dtype=dt, device=be.device), a,
                  xp.zeros((h, width - col - w), dtype=dt, device=be.device)]
        rows.append(xp.concat(pieces, axis=1))
        col += w
    out = xp.concat(rows, axis=0)
    boxes, r, c = [], 0, 0
    for t, a in zip(tensors, mats):
        boxes.append((r, c, a.shape, t.shape, t.data.dtype))
        r, c = r + a.shape[0], c + a.shape[1]

    def backward(g):
        grads = []
        for r0, c0, (h, w), shape, src in boxes:
            block = xp.reshape(g[r0 : r0 + h, c0 : c0 + w], shape)
            grads.append(block if block.dtype == src or not dtypes.is_floating(src) else xp.astype(block, src))
        return tuple(grads)

    def graph(g):  # each tensor's block, with Tensor ops (a non-float block needs no gradient)
        blocks = [g[r0 : r0 + h, c0 : c0 + w].reshape(shape) for r0, c0, (h, w), shape, _ in boxes]
        return tuple(E.astype(k, t.dtype) if t.requires_grad else None for k, t in zip(blocks, tensors))

    return result(out, be, tuple(tensors), backward, "BlockDiag", graph)


def _promoted(xp, dts):
    """PyTorch's promotion of several dtypes: the highest kind wins (bool < int < float),
    the backend's own promotion within it."""
    rank = {"bool": 0, "int": 1, "float": 2}
    top = max(rank[_kind(xp, d)] for d in dts)
    same = [d for d in dts if rank[_kind(xp, d)] == top]
    return xp.result_type(*same) if len(same) > 1 else same[0]


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """``input`` rotated by ``k`` quarter turns in the plane of ``dims``, from the first
    dimension towards the second, as ``torch.rot90`` (a negative ``k`` turns the other way).
    A flip and a transpose, so it is differentiable.

    >>> import gdl
    >>> from gdl.functional.misc import rot90
    >>> rot90(gdl.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]], backend='numpy')
    """
    op = "rot90"
    x = _tensor(op, input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"{op}: dims must name exactly 2 dimensions, got dims={dims}")
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions, got shape {x.shape}")
    if not all(_is_int(d) for d in dims) or not _is_int(k):
        raise TypeError(f"{op}: k and dims must be ints, got k={k!r}, dims={dims!r}")
    a, b = (check_axis(d, x.ndim, op) for d in dims)
    if a == b:
        raise ValueError(f"{op}: the rotation dims must differ, got dims={dims}")
    k %= 4
    if k == 0:
        return E.clone(x)
    if k == 2:
        return S.flip(x, (a, b))
    if k == 1:
        return S.transpose(S.flip(x, b), a, b)
    return S.flip(S.transpose(x, a, b), b)


def cartesian_prod(*tensors) -> Tensor:
    """All tuples with one element from each 1-d tensor, in row-major order, as
    ``torch.cartesian_prod``: shape ``(prod of lengths, len(tensors))``; one tensor comes
    back as it is. The tensors must share a dtype. Differentiable (a grid and a stack).

    >>> import gdl
    >>> from gdl.functional.misc import cartesian_prod
    >>> cartesian_prod(gdl.tensor([1, 2]), gdl.tensor([3, 4, 5]))
    tensor([[1, 3],
            [1, 4],
            [1, 5],
            [2, 3],
            [2, 4],
            [2, 5]], backend='numpy')
    """
    op = "cartesian_prod"
    if not tensors:
        raise ValueError(f"{op}: expects at least one tensor")
    for i, t in enumerate(tensors):
        _tensor(op, t, f"tensor {i}")
        check_same_backend(op, tensors[0], t)
        if t.ndim != 1:
            raise ValueError(f"{op}: expects 1-d tensors, tensor {i} has shape {t.shape}")
        if t.data.dtype != tensors[0].data.dtype:
            raise TypeError(f"{op}: the tensors must share a dtype, got {tensors[0].dtype.name} and {t.dtype.name}")
    if len(tensors) == 1:
        return tensors[0]
    grids = S.meshgrid(*tensors, indexing="ij")
    return S.stack([S.reshape(g, (-1,)) for g in grids], axis=1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of the 1-d ``input``, in
    ``itertools.combinations`` order (``itertools.combinations_with_replacement`` with
    ``with_replacement``), as ``torch.combinations``: shape ``(count, r)``; ``r = 0`` gives an
    empty 1-d tensor. Differentiable (a gather of ``input``).

    >>> import gdl
    >>> from gdl.functional.misc import combinations
    >>> combinations(gdl.tensor([1, 2, 3]))
    tensor([[1, 2],
            [1, 3],
            [2, 3]], backend='numpy')
    """
    op = "combinations"
    x = _tensor(op, input)
    if x.ndim != 1:
        raise ValueError(f"{op}: expects a 1-d tensor, got shape {x.shape}")
    if not _is_int(r) or r < 0:
        raise ValueError(f"{op}: r must be an int >= 0, got {r!r}")
    be = x._backend
    xp = be.xp
    if r == 0:
        return Tensor._wrap(xp.zeros((0,), dtype=x.data.dtype, device=be.device), be)  # no graph, as PyTorch
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    flat = [i for combo in pick(range(x.shape[0]), r) for i in combo]
    idx = be.from_host(flat) if flat else xp.zeros((0,), dtype=xp.int64, device=be.device)
    if idx.dtype != xp.int64:
        idx = xp.astype(idx, xp.int64)
    return S.reshape(I.index_select(x, 0, idx), (-1, r))


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """``input`` cut along ``dim`` into views, as ``torch.tensor_split``: an int ``n`` gives
    ``n`` pieces as equal as can be (the first ``size % n`` one longer); a list (or 1-d
    integer tensor) of indices cuts before each index (negative ones count from the end;
    out-of-range or decreasing ones give empty pieces). Each piece's gradient flows back.

    >>> import gdl
    >>> from gdl.functional.misc import tensor_split
    >>> [p.tolist() for p in tensor_split(gdl.arange(7), 3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    >>> [p.tolist() for p in tensor_split(gdl.arange(7), [1, 5])]
    [[0], [1, 2, 3, 4], [5, 6]]
    """
    op = "tensor_split"
    x = _tensor(op, input)
    if x.ndim == 0:
        raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d tensor")
    if not _is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    d = check_axis(dim, x.ndim, op)
    n = x.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        arr = _int_array(op, x, spec, "indices_or_sections")
        if spec.ndim > 1:
            raise ValueError(f"{op}: a tensor of indices_or_sections must be 0-d or 1-d, got shape {spec.shape}")
        spec = int(arr) if spec.ndim == 0 else [int(v) for v in x._backend.to_host(arr).tolist()]
    if _is_int(spec):
        if spec <= 0:
            raise ValueError(f"{op}: the number of sections must be > 0, got {spec}")
        size, extra = divmod(n, spec)
        bounds, at = [], 0
        for i in range(spec):
            at += size + (1 if i < extra else 0)
            bounds.append(at)
        bounds = bounds[:-1]
    else:
        bounds = list(spec)
        if not all(_is_int(b) for b in bounds):
            raise TypeError(f"{op}: indices must be ints, got {indices_or_sections!r}")
        bounds = [min(b + n if b < 0 else b, n) for b in bounds]
        bounds = [b if b >= 0 else 0 for b in bounds]
    starts = [0] + bounds
    ends = bounds + [n]
    return tuple(S._slice_along(x, d, slice(s, max(s, e))) for s, e in zip(starts, ends))


# -- distances -----------------------------------------------------------------------------------


_CDIST_MODES = {
    "use_mm_for_euclid_dist_if_necessary": "if_necessary",
    None: "if_necessary",  # gdl's former default
    "use_mm_for_euclid_dist": "mm",
    "donot_use_mm_for_euclid_dist": "direct",
}
_CDIST_BLOCK = 2**22  # the most elements of one block of differences (32 MiB in float64)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode="use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` ``(..., P, M)`` and each row of ``x2``
    ``(..., R, M)``, as ``torch.cdist``: shape ``(..., P, R)``, batch dimensions broadcast.
    ``p`` is any number >= 0 or ``inf`` (``p = 0`` counts the differing coordinates).

    ``compute_mode`` is PyTorch's: for ``p = 2``, ``'use_mm_for_euclid_dist_if_necessary'``
    (the default; None too) computes ``sqrt(max(|x|² + |y|² - 2 x·y, 0))`` with a matrix
    product when ``P > 25`` or ``R > 25``, ``'use_mm_for_euclid_dist'`` always,
    ``'donot_use_mm_for_euclid_dist'`` never. The product is fast but loses precision for
    points much closer to each other than to the origin (as PyTorch's: a zero distance
    may come out as about ``sqrt(eps) * |x|``); gdl first moves both sets by the mean of
    ``x2``'s rows, which leaves the distances as they are and removes a common offset.
    Otherwise (and for other ``p``) the differences are taken directly, a block of rows
    at a time (at most 2²² differences held at once, forward and backward).

    Backward as PyTorch's: zero where a distance is 0 (and, for ``p < 1``, where a
    coordinate's difference is 0); for ``p = inf`` every coordinate that attains the
    maximum gets the gradient. The matrix-product path has its own backward, with matrix
    products too: ``G = g / d``, ``grad_x1 = x1 * G.sum(-1) - G @ x2``, ``grad_x2 = x2 *
    G.sum(-2) - Gᵀ @ x1``. float16 is computed in float32.

    >>> import gdl
    >>> from gdl.functional.misc import cdist
    >>> cdist(gdl.tensor([[0.0, 0.0], [1.0, 1.0]]), gdl.tensor([[3.0, 4.0]]))
    tensor([[5.       ],
            [3.6055512]], backend='numpy')
    """
    op = "cdist"
    if _AMP[0]:
        x1, x2 = _amp_cast("fp32", x1, x2)
    a, b = _tensor(op, x1, "x1"), _tensor(op, x2, "x2")
    check_same_backend(op, a, b)
    for name, t in (("x1", a), ("x2", b)):
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions, got shape {t.shape}")
        if not dtypes.is_floating(t.data.dtype):
            raise TypeError(f"{op}: {name} must be floating, got dtype {t.dtype.name}")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"{op}: x1 and x2 must share a dtype, got {a.dtype.name} and {b.dtype.name}")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"{op}: x1 {a.shape} and x2 {b.shape} must have the same number of columns")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise ValueError(f"{op}: p must be a number >= 0, got {p!r}")
    if not isinstance(compute_mode, (str, type(None))) or compute_mode not in _CDIST_MODES:
        raise ValueError(
            f"{op}: {compute_mode!r} is not a valid value for compute_mode (use 'use_mm_for_euclid_dist_if_necessary', "
            f"'use_mm_for_euclid_dist' or 'donot_use_mm_for_euclid_dist')"
        )
    mode = _CDIST_MODES[compute_mode]
    p = float(p)
    batch = _batch_shape(a.shape[:-2], b.shape[:-2])
    if batch is None:
        raise ValueError(f"{op}: the batch dimensions of x1 {a.shape} and x2 {b.shape} do not broadcast")
    be = a._backend
    xp = be.xp
    P, R = a.shape[-2], b.shape[-2]
    use_mm = p == 2 and (mode == "mm" or (mode == "if_necessary" and (P > 25 or R > 25)))
    src = a.data.dtype
    u, v = a.data, b.data
    if src == getattr(xp, "float16", None):  # as PyTorch's half kernels: float32 inside
        u, v = xp.astype(u, xp.float32), xp.astype(v, xp.float32)
    dist, grads = (_euclid_mm(be, u, v) if use_mm else _cdist_direct(be, u, v, p, batch))
    sa, sb = a.shape, b.shape

    def backward(g):
        ga, gb = grads(g if g.dtype == u.dtype else xp.astype(g, u.dtype))
        ga, gb = unbroadcast(xp, ga, sa), unbroadcast(xp, gb, sb)
        if ga.dtype != src:
            ga, gb = xp.astype(ga, src), xp.astype(gb, src)
        return ga, gb

    out = dist if dist.dtype == src else xp.astype(dist, src)
    return result(out, be, (a, b), backward, "Cdist", lambda g: _cdist_graph(a, b, out, g, p))


def _cdist_graph(a: Tensor, b: Tensor, dist, g: Tensor, p: float):
    """``cdist``'s backward with Tensor ops (create_graph): the gradient of each distance
    with respect to each difference, as :func:`_cdist_grad` (its masks and signs constants
    of the forward), from the differences taken directly (``(..., P, R, M)`` at once)."""
    from gdl.higher_order import unbroadcast as unb

    be = a._backend
    xp = be.xp
    if p == 0:
        return tuple(Tensor._wrap(xp.zeros(t.data.shape, dtype=t.data.dtype, device=be.device), be) for t in (a, b))

    def const(v):
        return Tensor._wrap(v if v.dtype == a.data.dtype else xp.astype(v, a.data.dtype), be)

    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    raw = diff.data
    sign = const(xp.sign(raw))
    gd = g.unsqueeze(-1)
    dd = dist[..., None]
    if p == 1:
        per = sign * gd
    elif p == 2:
        zero = xp.astype(dist == 0, raw.dtype)
        safe = ((diff * diff).sum(-1) + const(zero)).sqrt()  # 1 where the distance is 0
        per = diff * (g * const(1 - zero) / safe).unsqueeze(-1)
    elif math.isinf(p):
        per = sign * const(xp.abs(raw) == dd) * gd
    else:
        flat = xp.astype(raw == 0, raw.dtype)
        zd = xp.astype(dist == 0, raw.dtype)
        safe_ad = diff.abs() + const(flat)  # 1 where a difference is 0
        dsafe = ((safe_ad ** p * const(1 - flat)).sum(-1) + const(zd)) ** (1.0 / p)
        live = const((1 - flat) * (1 - zd)[..., None])
        per = sign * safe_ad ** (p - 1) / dsafe.unsqueeze(-1) ** (p - 1) * gd * live
    return unb(per.sum(-2), a.shape), unb(-per.sum(-3), b.shape)


def _batch_shape(sa, sb):
    """The broadcast of batch shapes ``sa`` and ``sb``, or None."""
    out = []
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def _euclid_mm(be, x1, x2):
    """``cdist`` for ``p = 2`` with matrix products: ``(dist, grads)``, ``grads(g)`` the
    gradients of ``x1`` and ``x2`` (of the broadcast batch shape); nothing of shape
    ``(P, R, M)`` is made, forward or backward."""
    xp = be.xp
    M = x1.shape[-1]
    rows2 = math.prod(x2.shape[:-1])
    if M and rows2:  # distances do not move with both sets; the cancellation shrinks with the offset
        centre = xp.mean(xp.reshape(x2, (rows2, M)), axis=0)
        x1, x2 = x1 - centre, x2 - centre
    n1 = xp.sum(x1 * x1, axis=-1)
    n2 = xp.sum(x2 * x2, axis=-1)
    x2t = xp.matrix_transpose(x2)
    d2 = n1[..., :, None] - 2.0 * be.matmul(x1, x2t) + n2[..., None, :]
    dist = xp.sqrt(xp.clip(d2, min=0.0))
    del d2

    def grads(g):
        zero = dist == 0
        G = xp.where(zero, xp.zeros_like(g), g / xp.where(zero, xp.ones_like(dist), dist))  # noqa: N806
        ga = x1 * xp.sum(G, axis=-1)[..., None] - be.matmul(G, x2)
        gb = x2 * xp.sum(G, axis=-2)[..., None] - be.matmul(xp.matrix_transpose(G), x1)
        return ga, gb

    return dist, grads


def _blocks(n, size):
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _cdist_direct(be, x1, x2, p, batch):
    """``cdist`` from the differences, a block of rows (and, for long rows, of columns)
    at a time so that at most about ``_CDIST_BLOCK`` differences exist at once:
    ``(dist, grads)`` as :func:`_euclid_mm`'s."""
    xp = be.xp
    P, R, M = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    dt = x1.dtype
    nb = math.prod(batch)
    per_row = nb * R * M
    if per_row <= _CDIST_BLOCK:
        rb, cb = max(1, _CDIST_BLOCK // max(per_row, 1)), max(R, 1)
    else:
        rb, cb = 1, max(1, _CDIST_BLOCK // max(nb * M, 1))
    rows, cols = _blocks(P, rb), _blocks(R, cb)
    full1, full2 = batch + (P, M), batch + (R, M)

    def diff(r, c):
        return x1[..., r[0] : r[1], None, :] - x2[..., None, c[0] : c[1], :]

    if not (rows and cols):
        dist = xp.zeros(batch + (P, R), dtype=dt, device=be.device)
    else:
        dist = xp.concat(
            [xp.concat([_distances(xp, diff(r, c), p, be.device) for c in cols], axis=-1) for r in rows], axis=-2
        )

    def grads(g):
        if p == 0 or not (rows and cols):
            return (xp.zeros(full1, dtype=dt, device=be.device), xp.zeros(full2, dtype=dt, device=be.device))
        ga_rows, gb_cols = [], [None] * len(cols)
        for r in rows:
            acc = None
            for j, c in enumerate(cols):
                block = (..., slice(*r), slice(*c))
                per = _cdist_grad(xp, diff(r, c), dist[block], g[block], p, be.device)
                part, back = xp.sum(per, axis=-2), xp.sum(per, axis=-3)
                acc = part if acc is None else acc + part
                gb_cols[j] = back if gb_cols[j] is None else gb_cols[j] + back
            ga_rows.append(acc)
        return xp.concat(ga_rows, axis=-2), -xp.concat(gb_cols, axis=-2)

    return dist, grads


def _distances(xp, diff, p, device):
    """The ``p``-norms of ``diff`` over its last axis."""
    if p == 0:
        return xp.sum(xp.astype(diff != 0, diff.dtype), axis=-1)
    if p == 2:
        return xp.sqrt(xp.sum(diff * diff, axis=-1))
    ad = xp.abs(diff)
    if p == 1:
        return xp.sum(ad, axis=-1)
    if math.isinf(p):
        if not diff.shape[-1]:
            return xp.zeros(diff.shape[:-1], dtype=diff.dtype, device=device)
        return xp.max(ad, axis=-1)
    return xp.sum(ad**p, axis=-1) ** (1.0 / p)


def _cdist_grad(xp, diff, dist, g, p, device):
    """PyTorch's gradient of each distance with respect to each difference, times ``g``."""
    zero = xp.zeros((), dtype=diff.dtype, device=device)
    gd = g[..., None]
    dd = dist[..., None]
    if p == 1:
        return xp.sign(diff) * gd
    if p == 2:
        safe = xp.where(dd == 0, xp.ones_like(dd), dd)
        return xp.where(dd == 0, zero, diff / safe * gd)
    ad = xp.abs(diff)
    if math.isinf(p):
        return xp.where(ad == dd, xp.sign(diff) * gd, zero)
    safe = xp.where(dd == 0, xp.ones_like(dd), dd)
    safe_ad = xp.where(ad == 0, xp.ones_like(ad), ad)
    per = xp.sign(diff) * safe_ad ** (p - 1) / safe ** (p - 1) * gd
    return xp.where((dd == 0) | (ad == 0), zero, per)


# -- integration -----------------------------------------------------------------------------------


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``, as ``torch.trapezoid``: with sample points ``x``
    (a tensor: 1-d along ``dim``, or broadcasting with ``y``; one of fewer dimensions than
    ``y`` is padded on the left, so ``dim`` is ``y``'s dimension) the sum of
    ``(x[i+1] - x[i]) * (y[i] + y[i+1]) / 2``; else points spaced ``dx`` apart (1 unless
    given). An integer ``y`` gives the default float; fewer than 2 points give 0.
    Differentiable in ``y`` and ``x`` (built from differentiable ops).

    >>> import gdl
    >>> from gdl.functional.misc import trapezoid
    >>> trapezoid(gdl.tensor([1.0, 2.0, 3.0]), gdl.tensor([0.0, 1.0, 3.0]))
    tensor(6.5, backend='numpy')
    """
    op = "trapezoid"
    y = _tensor(op, y, "y")
    if y.ndim == 0:
        raise ValueError(f"{op}: y must have at least 1 dimension, got a 0-d tensor")
    if not _is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    d = check_axis(dim, y.ndim, op)
    if not dtypes.is_floating(y.data.dtype):
        y = E._as_float(y)
    n = y.shape[d]
    if x is not None and dx is not None:
        raise TypeError(f"{op}: pass either x or dx, not both")
    if x is None:
        step = 1.0 if dx is None else dx
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            raise TypeError(f"{op}: dx must be a Python number, got {type(step).__name__}")
        if n == 0:
            return _empty_integral(y, d)
        ends = I.select(y, d, 0) + I.select(y, d, -1)
        return (R.sum(y, axis=d) - ends * 0.5) * step
    x = _tensor(op, x, "x")
    check_same_backend(op, y, x)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ValueError(f"{op}: x of shape {x.shape} needs one point per sample: {n} along dim {d} of y {y.shape}")
        x = S.reshape(x, tuple(n if a == d else 1 for a in range(y.ndim)))
        dx_ = _diff_along(x, d)
    else:
        if 0 < x.ndim < y.ndim:  # PyTorch pads x on the left to y's rank: dim is y's dimension
            x = S.reshape(x, (1,) * (y.ndim - x.ndim) + x.shape)
        xd = check_axis(dim, x.ndim, op) if x.ndim else 0
        if x.ndim == 0 or x.shape[xd] != n:
            raise ValueError(f"{op}: x of shape {x.shape} needs one point per sample: {n} along dim {dim} of y {y.shape}")
        dx_ = _diff_along(x, xd)
    if n == 0:
        return _empty_integral(y, d)
    pair = _diff_along(y, d, add=True)
    try:
        return R.sum(dx_ * pair, axis=d) / 2.0
    except ValueError:
        raise ValueError(f"{op}: x of shape {x.shape} does not broadcast with y of shape {y.shape}") from None


def _empty_integral(y: Tensor, d: int) -> Tensor:
    """Zeros for an integral over no points (outside the graph, as PyTorch's)."""
    be = y._backend
    shape = y.shape[:d] + y.shape[d + 1 :]
    return Tensor._wrap(be.xp.zeros(shape, dtype=y.data.dtype, device=be.device), be)


def _diff_along(t: Tensor, d: int, add: bool = False) -> Tensor:
    """``t[1:] - t[:-1]`` (``+`` with ``add``) along axis ``d``."""
    n = t.shape[d]
    hi = S._slice_along(t, d, slice(1, n))
    lo = S._slice_along(t, d, slice(0, max(n - 1, 0)))
    return hi + lo if add else hi - lo


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """:func:`trapezoid` under its older name, as ``torch.trapz`` (``dx`` defaults to 1)."""
    return trapezoid(y, x, dx=dx, dim=dim)


__all__ = [
    "block_diag",
    "bincount",
    "bucketize",
    "cartesian_prod",
    "cdist",
    "combinations",
    "diag_embed",
    "histc",
    "repeat_interleave",
    "rot90",
    "searchsorted",
    "tensor_split",
    "trapezoid",
    "trapz",
    "unique",
    "unique_consecutive",
]

# Tensor methods this module adds (name -> function), those PyTorch's Tensor has;
# gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {
    name: globals()[name]
    for name in (
        "bincount", "diag_embed", "histc", "repeat_interleave", "rot90", "tensor_split", "unique",
        "unique_consecutive",
    )
}
