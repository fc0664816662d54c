"""More of PyTorch's indexing ops: ``diag``, ``diagflat``, ``isin``, the out-of-place
``index_copy``/``index_fill``/``index_put``/``put``/``masked_scatter``, ``scatter_reduce``
and the ``*_scatter`` ops that write one diagonal, slice or selection.

As in :mod:`gdl.functional.indexing`, index arguments are integer tensors (or lists of
ints) on the input's backend; writes that may hit one place twice go through the
backend's duplicate-safe ``scatter_add`` or ``last_writers`` (the last write wins, as
PyTorch's CPU kernels do; PyTorch calls that case undefined).

>>> import gdl
>>> x = gdl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
>>> y = x.scatter_reduce(0, gdl.tensor([0, 0, 3]), gdl.tensor([5.0, 0.5, 2.0]), "amax")
>>> y
tensor([5., 2., 3., 4.], backend='numpy', grad_fn=<ScatterReduceBackward>)
"""

from __future__ import annotations

import math

from gdl.functional import elementwise as E
from gdl.functional import linalg as FL
from gdl.functional import misc as MI
from gdl.functional import shape as S
from gdl.functional._util import check_axis, check_same_backend, unbroadcast
from gdl.functional.indexing import (
    _broadcast_shape,
    _check_index_shape,
    _check_range,
    _cut,
    _dim,
    _index,
    _linear_index,
    _pad_to,
    _same_dtype,
    _wrap_negative,
)
from gdl.higher_order import by_recomputation
from gdl.higher_order import unbroadcast as _unb
from gdl.tensor import Tensor, result

# -- graph backwards (create_graph=True): the same gradients with Tensor ops ---------------------------


def _zeroed(g: Tensor, mask) -> Tensor:
    """``g`` with zeros where the raw bool ``mask`` holds (a differentiable ``where``)."""
    return E.where(mask, 0.0, g)


def _slices_at(g: Tensor, d: int, positions) -> Tensor:
    """``g``'s slices along ``d`` at the raw integer array ``positions`` (their gradient
    scatter-adds back: the pair of the scatter ops' gradients)."""
    moved = S.movedim(g, d, 0) if d else g
    taken = S._take_rows(moved, positions)
    return S.movedim(taken, 0, d) if d else taken


def _padded(t: Tensor, shape) -> Tensor:
    """``t`` extended with zeros at the end of each axis up to ``shape`` (``_pad_to`` on Tensors)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return S._slice_put(t, tuple(slice(0, n) for n in t.shape), shape)


def _need(op: str, t, what: str = "input") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a tensor, got {type(t).__name__}")
    return t


def _along(shape_len: int, d: int, v, xp):
    """The 1-d ``v`` shaped to broadcast along axis ``d`` of a ``shape_len``-d array."""
    return xp.reshape(v, tuple(-1 if a == d else 1 for a in range(shape_len)))


def _fill_value(op: str, x: Tensor, value):
    """A Python number as x's kind, or a 0-d tensor's array in x's dtype."""
    xp = x._backend.xp
    dtype = x.data.dtype
    if isinstance(value, Tensor):
        check_same_backend(op, x, value)
        if value.ndim:
            raise ValueError(f"{op}: value must be a number or a 0-d tensor, got shape {value.shape}")
        return value.data if value.data.dtype == dtype else xp.astype(value.data, dtype)
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"{op}: value must be a number or a 0-d tensor, got {type(value).__name__}")
    if dtype == xp.bool:
        value = bool(value)
    elif xp.isdtype(dtype, "integral"):
        value = int(value)
    else:
        value = float(value)
    return xp.asarray(value, dtype=dtype, device=x._backend.device)


# -- diagonals ------------------------------------------------------------------------------------


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """For a 1-d ``input``, the square matrix with ``input`` on diagonal ``diagonal`` (zeros
    elsewhere); for a 2-d one, that diagonal as a 1-d tensor, as ``torch.diag``.

    >>> import gdl
    >>> gdl.diag(gdl.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]], backend='numpy')
    >>> gdl.diag(gdl.tensor([[1, 2], [3, 4]]), 1)
    tensor([2], backend='numpy')
    """
    _need("diag", input)
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise TypeError(f"diag: diagonal must be an int, got {diagonal!r}")
    if input.ndim == 1:
        return MI.diag_embed(input, offset=diagonal)
    if input.ndim == 2:
        return FL.diagonal(input, offset=diagonal)
    raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {input.shape}")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened ``input`` on diagonal ``offset``, as ``torch.diagflat``.

    >>> import gdl
    >>> gdl.diagflat(gdl.tensor([[1, 2]])).shape
    (2, 2)
    """
    _need("diagflat", input)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"diagflat: offset must be an int, got {offset!r}")
    return MI.diag_embed(S.reshape(input, (-1,)), offset=offset)


def _diag_plane(op, x: Tensor, offset, dim1, dim2):
    """The permutation moving ``dim1``, ``dim2`` last, and the diagonal's length."""
    if x.ndim < 2:
        raise ValueError(f"{op}: expects a tensor with at least 2 dimensions, got shape {x.shape}")
    for name, v in (("offset", offset), ("dim1", dim1), ("dim2", dim2)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{op}: {name} must be an int, got {v!r}")
    d1, d2 = check_axis(dim1, x.ndim, op), check_axis(dim2, x.ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 are the same dimension ({dim1} and {dim2})")
    perm = tuple(a for a in range(x.ndim) if a not in (d1, d2)) + (d1, d2)
    n, m = x.shape[d1], x.shape[d2]
    length = max(0, min(n, m - offset)) if offset >= 0 else max(0, min(n + offset, m))
    return perm, n, m, length


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with its diagonal (as :func:`gdl.diagonal` takes it) replaced by
    ``src``, as ``torch.diagonal_scatter``. Backward: ``input`` gets the gradient off
    that diagonal, ``src`` the gradient's diagonal.

    >>> import gdl
    >>> gdl.diagonal_scatter(gdl.zeros(2, 3), gdl.tensor([1.0, 2.0]), 1)
    tensor([[0., 1., 0.],
            [0., 0., 2.]], backend='numpy')
    """
    op = "diagonal_scatter"
    x, src = _need(op, input), _need(op, src, "src")
    check_same_backend(op, x, src)
    perm, n, m, length = _diag_plane(op, x, offset, dim1, dim2)
    want = tuple(x.shape[a] for a in perm[:-2]) + (length,)
    if src.shape != want:
        raise ValueError(f"{op}: src of shape {src.shape} should have the diagonal's shape {want} "
                         f"(input of shape {x.shape}, offset {offset}, dims {dim1} and {dim2})")
    _same_dtype(op, x, src)
    be = x._backend
    xp = be.xp
    inverse = tuple(perm.index(a) for a in range(x.ndim))
    mask = xp.eye(n, m, k=offset, dtype=xp.bool, device=be.device)
    # column c (row r) of the diagonal holds src[..., c - max(offset, 0)] (src[..., r - max(-offset, 0)])
    width = m if offset >= 0 else n
    at = max(offset, 0) if offset >= 0 else max(-offset, 0)
    lead = want[:-1]
    s = src.data
    moved = xp.permute_dims(x.data, perm)
    if length == 0:
        out = xp.asarray(x.data, copy=True)
    else:
        before = xp.zeros(lead + (at,), dtype=s.dtype, device=be.device)
        after = xp.zeros(lead + (width - at - length,), dtype=s.dtype, device=be.device)
        s = xp.concat([before, s, after], axis=-1)
        spread = s[..., None, :] if offset >= 0 else s[..., :, None]
        out = xp.permute_dims(xp.where(mask, spread, moved), inverse)

    def backward(g):
        gm = xp.permute_dims(g, perm)
        gx = xp.permute_dims(xp.where(mask, xp.zeros_like(gm), gm), inverse)
        return gx, xp.linalg.diagonal(gm, offset=offset)

    def graph(g):
        gm = S.permute(g, perm)
        gx = S.permute(_zeroed(gm, mask), inverse)
        return gx, FL.diagonal(gm, offset=offset, dim1=-2, dim2=-1)

    return result(out, be, (x, src), backward, "DiagonalScatter", graph)


# -- one selection or slice -------------------------------------------------------------------------


def _write_along(op, x: Tensor, src: Tensor, d: int, hit, source_pos, name, read=None):
    """``x`` with the places of the bool ``hit`` (one per position along ``d``) taken from ``src``
    (position ``source_pos[i]`` along ``d``); ``src``'s gradient is the gradient's slices at
    ``read`` (default: the places of ``hit``, in order)."""
    be = x._backend
    xp = be.xp
    mask = _along(x.ndim, d, hit, xp)
    if src.shape[d] == 0:
        out = xp.asarray(x.data, copy=True)
    else:
        out = xp.where(mask, xp.take(src.data, source_pos, axis=d), x.data)
    used = xp.nonzero(hit)[0] if read is None else read

    def backward(g):
        return xp.where(mask, xp.zeros_like(g), g), xp.take(g, used, axis=d)

    def graph(g):
        return _zeroed(g, mask), _slices_at(g, d, used)

    return result(out, be, (x, src), backward, name, graph)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with the slice ``input.select(dim, index)`` replaced by ``src``, as
    ``torch.select_scatter`` (negative ``dim`` and ``index`` count from the end).

    >>> import gdl
    >>> gdl.select_scatter(gdl.zeros(2, 2), gdl.tensor([1.0, 2.0]), 0, -1)
    tensor([[0., 0.],
            [1., 2.]], backend='numpy')
    """
    op = "select_scatter"
    x, src = _need(op, input), _need(op, src, "src")
    check_same_backend(op, x, src)
    d = _dim(op, x, dim)
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"{op}: index must be an int, got {index!r}")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"{op}: index {index} is out of range for dimension {d} of size {n}")
    want = x.shape[:d] + x.shape[d + 1 :]
    if src.shape != want:
        raise ValueError(f"{op}: src of shape {src.shape} should have shape {want} (input {x.shape} without dimension {d})")
    _same_dtype(op, x, src)
    xp = x._backend.xp
    dev = x._backend.device
    hit = xp.arange(n, device=dev) == index % n
    return _write_along(op, x, S.unsqueeze(src, d), d, hit, xp.zeros((n,), dtype=xp.int64, device=dev),
                        "SelectScatter")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src``,
    as ``torch.slice_scatter`` (bounds clamped as Python's; ``step`` positive).

    >>> import gdl
    >>> gdl.slice_scatter(gdl.zeros(5), gdl.ones(2), start=1, step=3)
    tensor([0., 1., 0., 0., 1.], backend='numpy')
    """
    op = "slice_scatter"
    x, src = _need(op, input), _need(op, src, "src")
    check_same_backend(op, x, src)
    d = _dim(op, x, dim)
    for name, v in (("start", start), ("end", end), ("step", step)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise TypeError(f"{op}: {name} must be an int or None, got {v!r}")
    if step is None or step < 1:
        raise ValueError(f"{op}: step must be a positive int, got {step!r}")
    n = x.shape[d]
    positions = list(range(n))[slice(start, end, step)]
    want = x.shape[:d] + (len(positions),) + x.shape[d + 1 :]
    if src.shape != want:
        raise ValueError(f"{op}: src of shape {src.shape} should have shape {want} (the slice "
                         f"{start}:{end}:{step} of dimension {d} of input {x.shape})")
    _same_dtype(op, x, src)
    be = x._backend
    xp = be.xp
    lo = positions[0] if positions else 0
    pos = xp.arange(n, dtype=xp.int64, device=be.device)
    hit = (pos >= lo) & (pos < lo + len(positions) * step) & ((pos - lo) % step == 0)
    source = xp.where(hit, (pos - lo) // step, xp.zeros_like(pos))
    return _write_along(op, x, src, d, hit, source, "SliceScatter")


# -- membership ---------------------------------------------------------------------------------------


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """A bool tensor of ``elements``' shape: whether each element is among ``test_elements``
    (either may be a Python number), as ``torch.isin``; ``invert=True`` gives the opposite.
    Sorts ``test_elements`` and binary-searches it. No gradient.

    >>> import gdl
    >>> gdl.isin(gdl.tensor([1, 2, 3, 4]), gdl.tensor([4, 2]))
    tensor([False,  True, False,  True], backend='numpy')
    """
    op = "isin"
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"{op}: elements or test_elements must be a tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    like = elements if isinstance(elements, Tensor) else test_elements
    be = like._backend
    xp = be.xp
    arrays = []
    for v in (elements, test_elements):
        if isinstance(v, Tensor):
            check_same_backend(op, like, v)
            arrays.append(v.data)
        elif isinstance(v, (int, float, bool)):
            arrays.append(xp.asarray(v, device=be.device))
        else:
            raise TypeError(f"{op}: expected a tensor or a number, got {type(v).__name__}")
    e, t = MI._comparable(xp, arrays[0], arrays[1])
    flat = xp.reshape(e, (-1,))
    tests = xp.sort(xp.reshape(t, (-1,)))
    m = tests.shape[0]
    if m == 0 or flat.shape[0] == 0:
        found = xp.zeros(flat.shape, dtype=xp.bool, device=be.device)
    else:
        pos = xp.searchsorted(tests, flat)
        pos = xp.where(pos >= m, xp.zeros_like(pos), pos)
        found = xp.take(tests, pos) == flat
    if invert:
        found = xp.logical_not(found)
    return Tensor._wrap(xp.reshape(found, tuple(e.shape)), be)


# -- whole slices at an index ---------------------------------------------------------------------------


def _slice_index(op, x: Tensor, dim, index, negative=False):
    d = _dim(op, x, dim)
    idx = _index(op, x, index)
    if idx.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-d, got shape {tuple(idx.shape)}")
    xp = x._backend.xp
    idx = xp.reshape(idx, (-1,))
    n = x.shape[d]
    _check_range(op, xp, idx, n, d, negative=negative)
    return d, (_wrap_negative(xp, idx, n) if negative else xp.astype(idx, xp.int64))


def index_copy(input: Tensor, dim: int, index, source: Tensor) -> Tensor:
    """A copy of ``input`` with slice ``index[j]`` along ``dim`` replaced by ``source``'s slice
    ``j``, as ``torch.index_copy`` (out of place). A repeated index keeps the last of its
    slices. Backward: ``input`` gets the gradient outside the written slices, ``source``
    the gradient's slices at ``index``.

    >>> import gdl
    >>> gdl.zeros(3, 2).index_copy(0, gdl.tensor([2, 0]), gdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[3., 4.],
            [0., 0.],
            [1., 2.]], backend='numpy')
    """
    op = "index_copy"
    x, source = _need(op, input), _need(op, source, "source")
    check_same_backend(op, x, source)
    d, idx = _slice_index(op, x, dim, index)
    want = x.shape[:d] + (idx.shape[0],) + x.shape[d + 1 :]
    if source.shape != want:
        raise ValueError(f"{op}: source of shape {source.shape} should have shape {want} (input {x.shape} with "
                         f"{idx.shape[0]} index entries along dimension {d})")
    _same_dtype(op, x, source, "source")
    be = x._backend
    xp = be.xp
    n = x.shape[d]
    last = be.last_writers(n, idx)
    hit = last >= 0
    # source's gradient: the gradient's slice at each index, repeated ones too (as torch)
    return _write_along(op, x, source, d, hit, xp.where(hit, last, xp.zeros_like(last)), "IndexCopy", idx)


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number
    or a 0-d tensor), as ``torch.index_fill`` (out of place; negative indices count from the
    end). Backward: zero gradient in the filled slices; a tensor ``value`` gets their sum.

    >>> import gdl
    >>> gdl.zeros(2, 3).index_fill(1, gdl.tensor([0, -1]), 7.0)
    tensor([[7., 0., 7.],
            [7., 0., 7.]], backend='numpy')
    """
    op = "index_fill"
    x = _need(op, input)
    d, idx = _slice_index(op, x, dim, index, negative=True)
    be = x._backend
    xp = be.xp
    n = x.shape[d]
    hit = be.scatter_add((n,), idx, xp.ones(idx.shape, dtype=xp.int64, device=be.device)) > 0
    mask = _along(x.ndim, d, hit, xp)
    fill = _fill_value(op, x, value)
    out = xp.where(mask, fill, x.data)
    inputs = (x, value) if isinstance(value, Tensor) else (x,)

    def backward(g):
        zero = xp.zeros_like(g)
        gx = xp.where(mask, zero, g)
        if len(inputs) == 1:
            return (gx,)
        return gx, xp.astype(xp.sum(xp.where(mask, g, zero)), value.data.dtype)

    def graph(g):
        gx = _zeroed(g, mask)
        if len(inputs) == 1:
            return (gx,)
        return gx, E.astype(E.where(mask, g, 0.0).sum(), value.dtype)

    return result(out, be, inputs, backward, "IndexFill", graph)


# -- writes at element positions ------------------------------------------------------------------------


def _put_rows(op, x: Tensor, lin, values: Tensor, bshape, k: int, accumulate: bool, name: str):
    """``x`` seen as ``(prod(shape[:k]), rest)`` rows, with ``values`` (broadcast to
    ``bshape + shape[k:]``) written (added with ``accumulate``) at the rows ``lin``."""
    be = x._backend
    xp = be.xp
    rest = x.shape[k:]
    rows_n = math.prod(x.shape[:k])
    width = math.prod(rest)
    full = tuple(bshape) + tuple(rest)
    vshape = values.shape
    if len(vshape) > len(full) or any(v not in (1, f) for v, f in zip(vshape[::-1], full[::-1])):
        raise ValueError(f"{op}: values of shape {vshape} do not broadcast to the indexed shape {full}")
    _same_dtype(op, x, values, "values")
    nb = lin.shape[0]
    target = xp.reshape(x.data, (rows_n, width))
    rows = xp.reshape(xp.broadcast_to(values.data, full), (nb, width))
    if nb == 0:
        out = xp.asarray(target, copy=True)
        written = xp.zeros((rows_n,), dtype=xp.bool, device=be.device)
    elif accumulate:
        if x.data.dtype == xp.bool:
            raise TypeError(f"{op}: accumulate=True is not supported for bool tensors")
        out = be.index_add(target, lin, rows, in_place=False)
        out = out if out.dtype == x.data.dtype else xp.astype(out, x.data.dtype)
    else:
        last = be.last_writers(rows_n, lin)
        written = last >= 0
        placed = xp.take(rows, xp.where(written, last, xp.zeros_like(last)), axis=0)
        out = xp.where(written[:, None], placed, target)
    out = xp.reshape(out, x.shape)

    def backward(g):
        gf = xp.reshape(g, (rows_n, width))
        gx = g if accumulate else xp.reshape(xp.where(written[:, None], xp.zeros_like(gf), gf), x.shape)
        gv = xp.reshape(xp.take(gf, lin, axis=0), full)
        return gx, unbroadcast(xp, gv, vshape)

    def graph(g):
        gf = S.reshape(g, (rows_n, width))
        gx = g if accumulate else S.reshape(_zeroed(gf, written[:, None]), x.shape)
        gv = S.reshape(S._take_rows(gf, lin), full)
        return gx, _unb(gv, vshape)

    return result(out, be, (x, values), backward, name, graph)


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written at ``input[indices]``, as ``torch.index_put``
    (out of place): ``indices`` is a tuple of integer tensors (broadcast together; negative
    ones count from the end) or bool masks, one per leading dimension; ``values`` broadcasts
    to the indexed shape. ``accumulate=True`` adds instead, repeated indices accumulating;
    without it a repeated index keeps the last value. Backward: ``input`` gets the gradient
    (outside the written places without ``accumulate``), ``values`` the gradient at ``indices``.

    >>> import gdl
    >>> gdl.zeros(3).index_put((gdl.tensor([0, 0, 2]),), gdl.tensor(1.0), accumulate=True)
    tensor([2., 0., 1.], backend='numpy')
    """
    op = "index_put"
    x, values = _need(op, input), _need(op, values, "values")
    check_same_backend(op, x, values)
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of tensors, got {type(indices).__name__}")
    be = x._backend
    xp = be.xp
    arrays = []
    for i, t in enumerate(indices):
        if isinstance(t, Tensor) and t.data.dtype == xp.bool:
            check_same_backend(op, x, t)
            at = len(arrays)
            if x.shape[at : at + t.ndim] != t.shape:
                raise IndexError(f"{op}: the bool mask of shape {t.shape} (index {i}) does not match the shape "
                                 f"{x.shape[at : at + t.ndim]} of dimensions {at}.. of input {x.shape}")
            if not t.ndim:
                raise IndexError(f"{op}: a 0-d bool index (indices[{i}]) is not supported")
            arrays.extend(xp.nonzero(t.data))
        else:
            arrays.append(_index(op, x, t, f"indices[{i}]"))
    k = len(arrays)
    if not k or k > x.ndim:
        raise IndexError(f"{op}: {k} index tensors for input of shape {x.shape} (need 1 to {x.ndim})")
    try:
        arrays = xp.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError(f"{op}: index shapes {', '.join(str(tuple(a.shape)) for a in arrays)} do not broadcast") from None
    bshape = tuple(arrays[0].shape)
    lin = None
    stride = 1
    for a in range(k - 1, -1, -1):
        n = x.shape[a]
        ia = xp.reshape(arrays[a], (-1,))
        _check_range(op, xp, ia, n, a, negative=True)
        ia = xp.astype(_wrap_negative(xp, ia, n), xp.int64)
        lin = ia * stride if lin is None else lin + ia * stride
        stride *= n
    return _put_rows(op, x, lin, values, bshape, k, bool(accumulate), "IndexPut")


def put(input: Tensor, index, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s elements written at the flat (row-major) positions
    ``index`` (negative ones count from the end), as ``torch.put`` (out of place);
    ``accumulate=True`` adds them instead. ``index`` and ``source`` have as many elements.

    >>> import gdl
    >>> gdl.zeros(2, 2).put(gdl.tensor([3, -4]), gdl.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 1.]], backend='numpy')
    """
    op = "put"
    x, source = _need(op, input), _need(op, source, "source")
    check_same_backend(op, x, source)
    idx = _index(op, x, index)
    if math.prod(idx.shape) != source.numel():
        raise ValueError(f"{op}: index of shape {tuple(idx.shape)} and source of shape {source.shape} must "
                         f"have the same number of elements")
    xp = x._backend.xp
    flat = S.reshape(x, (-1,))
    out = index_put(flat, (Tensor._wrap(xp.reshape(idx, (-1,)), x._backend),), S.reshape(source, (-1,)),
                    accumulate)
    return S.reshape(out, x.shape)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` (broadcast with the bool ``mask``) with ``source``'s first elements
    written, in row-major order, where ``mask`` is True, as ``torch.masked_scatter``.
    Backward: ``input`` gets the gradient where ``mask`` is False, ``source`` the gradient of
    the places its elements went to (zero for unused ones).

    >>> import gdl
    >>> gdl.zeros(4).masked_scatter(gdl.tensor([True, False, True, False]), gdl.tensor([5.0, 6.0, 7.0]))
    tensor([5., 0., 6., 0.], backend='numpy')
    """
    op = "masked_scatter"
    x, mask, source = _need(op, input), _need(op, mask, "mask"), _need(op, source, "source")
    check_same_backend(op, x, mask)
    check_same_backend(op, x, source)
    be = x._backend
    xp = be.xp
    if mask.data.dtype != xp.bool:
        raise TypeError(f"{op}: mask must be a bool tensor, got {mask.dtype.name}")
    _same_dtype(op, x, source, "source")
    shape = _broadcast_shape(op, x.shape, mask.shape)
    if shape != x.shape:
        x = S.broadcast_to(x, shape)
    m = xp.reshape(mask.data if mask.shape == shape else xp.broadcast_to(mask.data, shape), (-1,))
    count = int(xp.sum(xp.astype(m, xp.int64)))
    total = source.numel()
    if total < count:
        raise ValueError(f"{op}: source of shape {source.shape} has {total} elements, fewer than the "
                         f"{count} True elements of the mask")
    xf = xp.reshape(x.data, (-1,))
    sf = xp.reshape(source.data, (-1,))
    if count:
        k = xp.cumulative_sum(xp.astype(m, xp.int64)) - 1
        placed = xp.take(sf, xp.where(m, k, xp.zeros_like(k)))
        out = xp.reshape(xp.where(m, placed, xf), shape)
    else:
        out = xp.reshape(xp.asarray(xf, copy=True), shape)
    positions = xp.nonzero(m)[0]
    sshape = source.shape

    def backward(g):
        gf = xp.reshape(g, (-1,))
        gx = xp.reshape(xp.where(m, xp.zeros_like(gf), gf), shape)
        gs = xp.take(gf, positions)
        gs = xp.concat([gs, xp.zeros((total - count,), dtype=gf.dtype, device=be.device)])
        return gx, xp.reshape(gs, sshape)

    def graph(g):
        gf = S.reshape(g, (-1,))
        gx = S.reshape(_zeroed(gf, m), shape)
        gs = _padded(S._take_rows(gf, positions), (total,))
        return gx, S.reshape(gs, sshape)

    return result(out, be, (x, source), backward, "MaskedScatter", graph)


# -- scatter with a reduction ----------------------------------------------------------------------------

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _segments(be, size, keys, vals, reduce, start, scattered_only):
    """The ``reduce`` of ``vals`` at each of ``size`` flat places ``keys``, folded into ``start``
    (where ``scattered_only`` is None) or replacing it where something is scattered.

    Works in rounds: the ``r``-th value of each place (in a stable order) lands on distinct
    places, so each round is one duplicate-free ``scatter_add``; as many rounds as the
    most values any place gets.
    """
    xp = be.xp
    count = be.scatter_add((size,), keys, xp.ones(keys.shape, dtype=xp.int64, device=be.device))
    count = xp.astype(count, xp.int64)
    order = xp.argsort(keys, stable=True)
    sk, sv = xp.take(keys, order), xp.take(vals, order)
    first = xp.cumulative_sum(count) - count  # where each place's run starts in sorted order
    rank = xp.arange(keys.shape[0], dtype=xp.int64, device=be.device) - xp.take(first, sk)
    combine = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
    out = start
    for r in range(int(xp.max(count)) if keys.shape[0] else 0):
        sel = xp.nonzero(rank == r)[0]
        placed = be.scatter_add((size,), xp.take(sk, sel), xp.take(sv, sel))
        placed = placed if placed.dtype == vals.dtype else xp.astype(placed, vals.dtype)
        here = count > r
        if r == 0 and scattered_only:
            out = xp.where(here, placed, out)
        else:
            out = xp.where(here, combine(out, placed), out)
    return out


def scatter_reduce(input: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """A copy of ``input`` with the values of ``src`` reduced into the places ``index`` sends them
    to along ``dim`` (as :func:`gdl.scatter_add` sends them), as ``torch.scatter_reduce``:
    ``reduce`` is ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``; with
    ``include_self=False`` a place's old value is left out of its reduction (places nothing
    is sent to keep it). Integer ``"mean"`` rounds down, as torch.

    Gradients are torch's: ``amax``/``amin`` share a place's gradient evenly among the
    values equal to its result (the old value counted among them even with
    ``include_self=False``, as torch, though it then gets none); ``prod`` divides the result by each value, taking zeros
    apart (a single zero gets the product of the others; with two, all get zero).

    >>> import gdl
    >>> gdl.ones(3).scatter_reduce(0, gdl.tensor([0, 0, 2]), gdl.tensor([2.0, 3.0, 4.0]), "prod")
    tensor([6., 1., 4.], backend='numpy')
    """
    op = "scatter_reduce"
    x, src = _need(op, input), _need(op, src, "src")
    check_same_backend(op, x, src)
    if reduce not in _REDUCES:
        raise ValueError(f"{op}: reduce must be one of {', '.join(map(repr, _REDUCES))}, got {reduce!r}")
    be = x._backend
    xp = be.xp
    idx = _index(op, x, index)
    d = _dim(op, x, dim)
    _same_dtype(op, x, src)
    _check_index_shape(op, x.shape, idx.shape, d)
    _check_index_shape(op, src.shape, idx.shape, d, "src", whole=True)
    _check_range(op, xp, idx, x.shape[d], d)
    if x.data.dtype == xp.bool:
        raise TypeError(f"{op}: bool tensors are not supported; convert to an integer dtype first")
    size = math.prod(x.shape)
    keys = _linear_index(be, x.shape, d, idx)
    vals = xp.reshape(_cut(src.data, idx.shape), (-1,))
    xf = xp.reshape(x.data, (-1,))
    floating = xp.isdtype(xf.dtype, "real floating")
    count = xp.astype(be.scatter_add((size,), keys, xp.ones(keys.shape, dtype=xp.int64, device=be.device)), xp.int64)
    hit = count > 0
    zero = xp.zeros((), dtype=xf.dtype, device=be.device)
    base = xf if include_self else xp.where(hit, zero, xf)

    def total(v):
        s = be.scatter_add((size,), keys, v)
        return base + (s if s.dtype == v.dtype else xp.astype(s, v.dtype))

    if reduce == "sum":
        out = total(vals)
    elif reduce == "mean":
        n = count + 1 if include_self else xp.where(hit, count, xp.ones_like(count))
        t = total(vals)
        if floating:
            n = xp.astype(n, xf.dtype)
            out = xp.where(hit, t / n, xf)
        else:
            out = xp.where(hit, xp.floor_divide(t, xp.astype(n, xf.dtype)), xf)
    else:
        out = _segments(be, size, keys, vals, reduce, xf, not include_self)
    shape, ishape, sshape = x.shape, tuple(idx.shape), src.shape

    def to_src(gflat):
        """Per-value gradients (flat, one per index element) as src's gradient."""
        return _pad_to(xp, xp.reshape(gflat, ishape), sshape, be.device)

    def backward(g):
        gf = xp.reshape(g, (-1,))
        fzero = xp.zeros_like(gf)
        gx = gf if include_self else xp.where(hit, fzero, gf)
        if reduce == "sum":
            gs = xp.take(gf, keys)
        elif reduce == "mean":
            per = gf / n
            gx = xp.where(hit, per, gf) if include_self else gx
            gs = xp.take(per, keys)
        elif reduce in ("amax", "amin"):
            # as torch: the old value counts among the ties even with include_self=False
            on_src = xp.astype(vals == xp.take(out, keys), gf.dtype)
            on_self = xp.astype(xf == out, gf.dtype)
            ties = be.scatter_add((size,), keys, on_src) + on_self
            share = gf / xp.where(ties > 0, ties, xp.ones_like(ties))
            gx = share * on_self if include_self else gx
            gs = xp.take(share, keys) * on_src
        else:  # prod
            one = xp.ones_like(xf)
            if include_self:
                masked_self = xp.where(xf == 0, one, xf)
                gx = gf * _segments(be, size, keys, vals, "prod", masked_self, False) / masked_self
            src_zero = vals == 0
            zeros_at = be.scatter_add((size,), keys, xp.astype(src_zero, gf.dtype))
            single = src_zero & (xp.take(zeros_at, keys) == 1)
            others = _segments(be, size, keys, xp.where(single, xp.ones_like(vals), vals), "prod", xf,
                               not include_self)
            gs = xp.where(single, xp.take(gf * others, keys),
                          xp.take(gf * out, keys) / xp.where(src_zero, xp.ones_like(vals), vals))
        return xp.reshape(gx, shape), to_src(gs)

    def src_graph(per_place):
        """``src``'s gradient from a flat per-place Tensor: each value's place, padded to src."""
        return _padded(S.reshape(S._take_rows(per_place, keys), ishape), sshape)

    def graph(g):
        gf = S.reshape(g, (-1,))
        gx = gf if include_self else _zeroed(gf, hit)
        if reduce == "sum":
            gs = src_graph(gf)
        elif reduce == "mean":
            per = gf / Tensor._wrap(n, be)
            gx = E.where(hit, per, gf) if include_self else gx
            gs = src_graph(per)
        else:  # amax, amin: the ties are constants (the gradient is piecewise linear in g)
            on_src = xp.astype(vals == xp.take(out, keys), xf.dtype)
            on_self = xp.astype(xf == out, xf.dtype)
            ties = be.scatter_add((size,), keys, on_src) + on_self
            share = gf / Tensor._wrap(xp.where(ties > 0, ties, xp.ones_like(ties)), be)
            gx = share * Tensor._wrap(on_self, be) if include_self else gx
            gs = _padded(S.reshape(S._take_rows(share, keys) * Tensor._wrap(on_src, be), ishape), sshape)
        return S.reshape(gx, shape), gs

    if reduce == "prod":
        graph = by_recomputation(_prod_recompute(be, size, keys, hit, ishape, shape, include_self), (x, src))

    return result(xp.reshape(out, shape), be, (x, src), backward, "ScatterReduce", graph)


def _prod_recompute(be, size, keys, hit, ishape, shape, include_self):
    """``scatter_reduce(..., "prod")`` with Tensor ops (for its graph backward): the rounds of
    :func:`_segments`, each a duplicate-free ``_put_rows`` multiplied in."""
    xp = be.xp
    count = xp.astype(be.scatter_add((size,), keys, xp.ones(keys.shape, dtype=xp.int64, device=be.device)),
                      xp.int64)
    order = xp.argsort(keys, stable=True)
    sk = xp.take(keys, order)
    first = xp.cumulative_sum(count) - count
    rank = xp.arange(keys.shape[0], dtype=xp.int64, device=be.device) - xp.take(first, sk)
    rounds = []
    for r in range(int(xp.max(count)) if keys.shape[0] else 0):
        sel = xp.nonzero(rank == r)[0]
        rounds.append((xp.take(order, sel), xp.take(sk, sel), count > r))

    def recompute(x, src):
        out = S.reshape(x, (-1,))
        if not include_self:
            out = E.where(hit, 1.0, out)
        vals = S.reshape(src[tuple(slice(0, k) for k in ishape)], (-1,))
        for at, where_to, here in rounds:
            placed = S._put_rows(S._take_rows(vals, at), where_to, size)
            out = out * E.where(here, placed, 1.0)
        return S.reshape(out, shape)

    return recompute


__all__ = [
    "diag",
    "diagflat",
    "diagonal_scatter",
    "index_copy",
    "index_fill",
    "index_put",
    "isin",
    "masked_scatter",
    "put",
    "scatter_reduce",
    "select_scatter",
    "slice_scatter",
]

# Tensor methods (torch.Tensor has all of these but isin).
TENSOR_METHODS: dict = {name: globals()[name] for name in __all__ if name != "isin"}
