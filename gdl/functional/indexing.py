"""Gathering and scattering along an axis, index selection and nonzero, forward and backward together.

Index arguments are integer tensors (or nested lists of ints) on the input's backend;
a float or bool index is a TypeError, an index out of range an IndexError naming the
op, the dimension and its size. As in PyTorch, ``gather``, ``scatter``,
``scatter_add``, ``index_select`` and ``index_add`` refuse negative indices, while
``take_along_dim``, ``select`` and ``narrow`` count them from the end.
Scatters are built on the backend's duplicate-safe ``scatter_add``.

>>> import gdl
>>> x = gdl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
>>> y = gdl.gather(x, 1, gdl.tensor([[2, 2], [0, 1]]))
>>> y
tensor([[3., 3.],
        [4., 5.]], backend='numpy', grad_fn=<GatherBackward>)
>>> y.sum().backward()
>>> x.grad
tensor([[0., 0., 2.],
        [1., 1., 0.]], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.backends import host
from gdl.functional import shape as S
from gdl.functional._util import check_axis, check_same_backend
from gdl.tensor import Tensor, result

# -- helpers ---------------------------------------------------------------------------------


def _index(op: str, x: Tensor, index, what: str = "index"):
    """``index`` as an integer array on ``x``'s backend (a TypeError for anything else)."""
    be = x._backend
    if isinstance(index, Tensor):
        check_same_backend(op, x, index)
        idx = index.data
    elif be.is_array(index):
        idx = index
    elif isinstance(index, (list, tuple)) or (isinstance(index, int) and not isinstance(index, bool)):
        try:
            idx = be.from_host(host.as_index_array(index))
        except TypeError:
            raise TypeError(f"{op}: {what} must hold integers, got {index!r}") from None
    else:
        raise TypeError(f"{op}: {what} must be an integer tensor, got {type(index).__name__}")
    if not be.xp.isdtype(idx.dtype, "integral"):
        try:
            name = dtypes.as_dtype(idx.dtype).name
        except (KeyError, TypeError, ValueError):
            name = str(idx.dtype)
        raise TypeError(f"{op}: {what} must be an integer tensor, got dtype {name}")
    return idx


def _dim(op: str, x: Tensor, dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if x.ndim == 0:
        raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return check_axis(dim, x.ndim, op)


def _check_range(op: str, xp, idx, n: int, dim: int, negative: bool = False):
    """An IndexError unless every index lies in ``[0, n)`` (``[-n, n)`` with ``negative``)."""
    if not math.prod(idx.shape):
        return
    lo, hi = int(xp.min(idx)), int(xp.max(idx))
    low = -n if negative else 0
    if lo < low or hi >= n:
        bad = lo if lo < low else hi
        allowed = f"[{low}, {n})" if n else "none (the dimension is empty)"
        raise IndexError(f"{op}: index {bad} is out of range for dimension {dim} of size {n} (allowed: {allowed})")


def _wrap_negative(xp, idx, n: int):
    return xp.where(idx < 0, idx + n, idx)


def _check_index_shape(op: str, shape, ishape, d: int, what: str = "input", whole: bool = False):
    """``ishape`` has ``shape``'s rank and is no larger outside ``d`` (anywhere, with ``whole``)."""
    if len(ishape) != len(shape):
        raise ValueError(
            f"{op}: index of shape {tuple(ishape)} needs as many dimensions as the {what} of shape {tuple(shape)}"
        )
    for a, (i, s) in enumerate(zip(ishape, shape)):
        if i > s and (whole or a != d):
            where = "" if whole else f" apart from dimension {d}"
            raise ValueError(
                f"{op}: index of shape {tuple(ishape)} is larger than the {what} of shape {tuple(shape)}{where}"
            )


def _cut(a, shape, skip=None):
    """``a``'s leading corner of ``shape`` (axis ``skip`` kept whole)."""
    if all(s == n or ax == skip for ax, (s, n) in enumerate(zip(shape, a.shape))):
        return a
    return a[tuple(slice(None) if ax == skip else slice(0, s) for ax, s in enumerate(shape))]


def _pad_to(xp, a, shape, device):
    """``a`` extended with zeros at the end of each axis up to ``shape``."""
    for ax, want in enumerate(shape):
        have = a.shape[ax]
        if have < want:
            zshape = tuple(a.shape[:ax]) + (want - have,) + tuple(a.shape[ax + 1 :])
            a = xp.concat([a, xp.zeros(zshape, dtype=a.dtype, device=device)], axis=ax)
    return a


def _linear_index(be, shape, d: int, idx):
    """The row-major position in a tensor of ``shape`` that each element of ``idx`` addresses:
    ``idx``'s value on axis ``d``, the element's own coordinate on the others."""
    xp = be.xp
    strides = [1] * len(shape)
    for a in range(len(shape) - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    linear = xp.astype(idx, xp.int64) * strides[d]
    for a, n in enumerate(idx.shape):
        if a != d and n > 1:
            offsets = xp.arange(n, dtype=xp.int64, device=be.device) * strides[a]
            linear = linear + xp.reshape(offsets, tuple(n if b == a else 1 for b in range(idx.ndim)))
    return xp.reshape(linear, (-1,))


def _scatter_sum(be, shape, d: int, idx, values):
    """Zeros of ``shape`` with ``values`` added at ``idx`` along axis ``d`` (see :func:`_linear_index`);
    duplicates accumulate (one call to the backend's ``scatter_add`` on flat positions)."""
    xp = be.xp
    flat = be.scatter_add((math.prod(shape),), _linear_index(be, shape, d, idx), xp.reshape(values, (-1,)))
    if flat.dtype != values.dtype:  # the portable version sums small ints as int64 (the Array API's rule)
        flat = xp.astype(flat, values.dtype)
    return xp.reshape(flat, tuple(shape))


def _gather_back(xp, g, d, idx, src_shape, device):
    """The gradient of the elements a scatter read from its source: ``g`` at ``idx``, zeros elsewhere."""
    picked = xp.take_along_axis(_cut(g, idx.shape, skip=d), idx, axis=d)
    return _pad_to(xp, picked, tuple(src_shape), device)


def _pad_graph(t: Tensor, shape) -> Tensor:
    """:func:`_pad_to` on a Tensor, differentiably (zeros joined at the end of each axis)."""
    be = t._backend
    xp = be.xp
    for ax, want in enumerate(shape):
        have = t.shape[ax]
        if have < want:
            zshape = t.shape[:ax] + (want - have,) + t.shape[ax + 1 :]
            t = S.concat([t, Tensor._wrap(xp.zeros(zshape, dtype=t.data.dtype, device=be.device), be)], ax)
    return t


def _gather_graph(g: Tensor, shape, d: int, idx) -> Tensor:
    """``g``'s values at ``idx`` along axis ``d`` (``g`` has ``shape``), as a differentiable op
    (the graph backward of the scatters, and the graph backward of :func:`_scatter_graph`)."""
    picked = S._take_rows(S.reshape(g, (-1,)), _linear_index(g._backend, shape, d, idx))
    return S.reshape(picked, tuple(idx.shape))


def _scatter_graph(g: Tensor, shape, d: int, idx) -> Tensor:
    """:func:`_scatter_sum` on a Tensor ``g`` of ``idx``'s shape, differentiably."""
    flat = S._put_rows(S.reshape(g, (-1,)), _linear_index(g._backend, shape, d, idx), math.prod(shape))
    return S.reshape(flat, tuple(shape))


def _where(cond, a, b):
    from gdl.functional.elementwise import where

    return where(cond, a, b)


def _same_dtype(op, x, src, what="src"):
    if src.data.dtype != x.data.dtype:
        raise TypeError(
            f"{op}: {what} has dtype {src.dtype.name} but the tensor has {x.dtype.name}; "
            f"convert one first, e.g. {what}.astype({x.dtype!r})"
        )


# -- gather and scatter along an axis ----------------------------------------------------------


def _gather(x: Tensor, d: int, idx, name: str = "Gather") -> Tensor:
    """``gather`` after the checks (``idx`` non-negative, in range, fitting ``x``)."""
    be = x._backend
    xp = be.xp
    shape = tuple(x.data.shape)
    out = xp.take_along_axis(_cut(x.data, idx.shape, skip=d), idx, axis=d)
    return result(out, be, (x,), lambda g: (_scatter_sum(be, shape, d, idx, g),), name,
                  lambda g: (_scatter_graph(g, shape, d, idx),))


def gather(x: Tensor, dim: int, index) -> Tensor:
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for ``dim=0`` (and so on), as ``torch.gather``.

    ``index`` has ``x``'s rank, is no larger than ``x`` outside ``dim``, and gives the
    output's shape. Backward scatter-adds the gradient to where each value came
    from; repeated indices accumulate.

    >>> import gdl
    >>> gdl.tensor([[1, 2], [3, 4]]).gather(1, gdl.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]], backend='numpy')
    """
    idx = _index("gather", x, index)
    d = _dim("gather", x, dim)
    _check_index_shape("gather", x.shape, idx.shape, d)
    _check_range("gather", x._backend.xp, idx, x.shape[d], d)
    return _gather(x, d, idx)


def take_along_dim(x: Tensor, indices, dim=None) -> Tensor:
    """Values of ``x`` at ``indices`` along ``dim``, as ``torch.take_along_dim``: ``x`` and
    ``indices`` broadcast against each other outside ``dim``; negative indices count
    from the end; ``dim=None`` works on both flattened. Backward as :func:`gather`.

    >>> import gdl
    >>> x = gdl.tensor([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
    >>> gdl.take_along_dim(x, x.argmax(dim=1, keepdim=True), dim=1)
    tensor([[30.],
            [60.]], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    idx = _index("take_along_dim", x, indices, "indices")
    if dim is None:
        x = S.reshape(x, (-1,))
        idx = xp.reshape(idx, (-1,))
        d = 0
    else:
        d = _dim("take_along_dim", x, dim)
        if idx.ndim != x.ndim:
            raise ValueError(
                f"take_along_dim: indices of shape {tuple(idx.shape)} need as many dimensions "
                f"as the tensor of shape {x.shape}"
            )
        shape = []
        for a, (s, i) in enumerate(zip(x.shape, idx.shape)):
            if a == d or s == i or i == 1:
                shape.append(s)
            elif s == 1:
                shape.append(i)
            else:
                raise ValueError(
                    f"take_along_dim: indices of shape {tuple(idx.shape)} do not broadcast with the tensor's "
                    f"shape {x.shape} outside dimension {d}"
                )
        if tuple(shape) != x.shape:
            x = S.broadcast_to(x, tuple(shape))
        ishape = tuple(idx.shape[d] if a == d else s for a, s in enumerate(shape))
        if tuple(idx.shape) != ishape:
            idx = xp.broadcast_to(idx, ishape)
    n = x.shape[d]
    _check_range("take_along_dim", xp, idx, n, d, negative=True)
    return _gather(x, d, _wrap_negative(xp, idx, n), "TakeAlongDim")


def scatter_add(x: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src[i][j][k]`` added at ``[index[i][j][k]][j][k]`` for ``dim=0``
    (and so on), as ``torch.scatter_add`` (out of place); repeated indices accumulate.

    ``index`` has ``x``'s rank, is no larger than ``src`` anywhere nor than ``x``
    outside ``dim``; only ``src``'s leading corner of ``index``'s shape is used.
    Backward: ``x`` gets the gradient unchanged, ``src`` the gradient gathered at
    ``index`` (zero where unused).

    >>> import gdl
    >>> gdl.zeros(3).scatter_add(0, gdl.tensor([0, 2, 0]), gdl.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    idx = _index("scatter_add", x, index)
    d = _dim("scatter_add", x, dim)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
    check_same_backend("scatter_add", x, src)
    _same_dtype("scatter_add", x, src)
    _check_index_shape("scatter_add", x.shape, idx.shape, d)
    _check_index_shape("scatter_add", src.shape, idx.shape, d, "src", whole=True)
    _check_range("scatter_add", xp, idx, x.shape[d], d)
    values = _cut(src.data, idx.shape)
    if values.dtype == xp.bool:
        added = _scatter_sum(be, x.shape, d, idx, xp.astype(values, xp.int32)) > 0
        out = xp.logical_or(x.data, added)
    else:
        out = x.data + _scatter_sum(be, x.shape, d, idx, values)
    src_shape = src.shape

    def backward(g):
        return g, _gather_back(xp, g, d, idx, src_shape, be.device)

    def graph(g):
        return g, _pad_graph(_gather_graph(g, x.shape, d, idx), src_shape)

    return result(out, be, (x, src), backward, "ScatterAdd", graph)


def scatter(x: Tensor, dim: int, index, src) -> Tensor:
    """A copy of ``x`` with ``src[i][j][k]`` written at ``[index[i][j][k]][j][k]`` for ``dim=0``
    (and so on), as ``torch.scatter`` (out of place). ``src`` is a tensor (same rules
    as :func:`scatter_add`) or a Python number written at every index.

    Backward: ``x``'s gradient is zero where something was written, the gradient
    elsewhere; ``src`` gets the gradient gathered at ``index``. When ``index``
    sends several values to one place PyTorch leaves the result undefined; gdl
    writes the last of them (in row-major order of ``index``, as PyTorch's CPU
    kernel happens to) and only that one gets the gradient. Do not rely on it:
    use :func:`scatter_add` when you mean the sum.

    >>> import gdl
    >>> labels = gdl.tensor([[2], [0]])
    >>> gdl.zeros(2, 3).scatter(1, labels, 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    idx = _index("scatter", x, index)
    d = _dim("scatter", x, dim)
    _check_index_shape("scatter", x.shape, idx.shape, d)
    is_number = isinstance(src, (int, float, bool))
    if not is_number:
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter: src must be a tensor or a Python number, got {type(src).__name__}")
        check_same_backend("scatter", x, src)
        _same_dtype("scatter", x, src)
        _check_index_shape("scatter", src.shape, idx.shape, d, "src", whole=True)
    _check_range("scatter", xp, idx, x.shape[d], d)
    if not math.prod(idx.shape):
        return result(xp.asarray(x.data, copy=True), be, (x,), lambda g: (g,), "Scatter", lambda g: (g,))
    keys = _linear_index(be, x.shape, d, idx)
    source = be.last_writers(math.prod(x.shape), keys)  # the element written at each place, or -1
    written = xp.reshape(source >= 0, x.shape)
    zero_where_written = lambda g: xp.where(written, xp.zeros_like(g), g)  # noqa: E731
    if is_number:
        dtype = x.data.dtype
        if dtype == xp.bool:
            value = bool(src)
        elif xp.isdtype(dtype, "integral"):
            value = int(src)  # the result keeps x's dtype, as PyTorch
        else:
            value = float(src)
        out = xp.where(written, xp.asarray(value, dtype=dtype, device=be.device), x.data)
        return result(out, be, (x,), lambda g: (zero_where_written(g),), "Scatter",
                      lambda g: (_where(written, 0.0, g),))
    used = xp.reshape(_cut(src.data, idx.shape), (-1,))
    placed = xp.take(used, xp.where(source >= 0, source, xp.zeros_like(source)), axis=0)
    out = xp.where(written, xp.reshape(placed, x.shape), x.data)
    src_shape = src.shape

    def backward(g):
        # each element gets the gradient of its place if it won that place
        won = xp.take(source, keys, axis=0) == xp.arange(keys.shape[0], dtype=xp.int64, device=be.device)
        picked = xp.take(xp.reshape(g, (-1,)), keys, axis=0)
        g_src = xp.reshape(xp.where(won, picked, xp.zeros_like(picked)), tuple(idx.shape))
        return zero_where_written(g), _pad_to(xp, g_src, src_shape, be.device)

    def graph(g):
        won = xp.take(source, keys, axis=0) == xp.arange(keys.shape[0], dtype=xp.int64, device=be.device)
        picked = S._take_rows(S.reshape(g, (-1,)), keys)
        g_src = S.reshape(_where(won, picked, 0.0), tuple(idx.shape))
        return _where(written, 0.0, g), _pad_graph(g_src, src_shape)

    return result(out, be, (x, src), backward, "Scatter", graph)


# -- whole slices along an axis ----------------------------------------------------------------


def _vector_index(op: str, x: Tensor, index, d: int):
    idx = _index(op, x, index)
    if idx.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-d, got shape {tuple(idx.shape)}")
    idx = x._backend.xp.reshape(idx, (-1,))
    _check_range(op, x._backend.xp, idx, x.shape[d], d)
    return idx


def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The slices of ``x`` along ``dim`` at the 1-d integer ``index``, as ``torch.index_select``.

    Backward scatter-adds the gradient's slices back; repeated indices accumulate.
    (:func:`gdl.take` is the same selection with the Array API's argument order.)

    >>> import gdl
    >>> gdl.tensor([[1, 2, 3], [4, 5, 6]]).index_select(1, gdl.tensor([2, 0, 2]))
    tensor([[3, 1, 3],
            [6, 4, 6]], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    d = _dim("index_select", x, dim)
    idx = _vector_index("index_select", x, index, d)
    out = xp.take(x.data, idx, axis=d)
    moved = (x.shape[d],) + x.shape[:d] + x.shape[d + 1 :]

    def backward(g):
        summed = be.scatter_add(moved, idx, xp.moveaxis(g, d, 0))
        return (xp.moveaxis(summed, 0, d),)

    n = x.shape[d]

    def graph(g):
        return (S.movedim(S._put_rows(S.movedim(g, d, 0), idx, n), 0, d),)

    return result(out, be, (x,), backward, "IndexSelect", graph)


def index_add(x: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``x`` with ``alpha * source[j]`` added to slice ``index[j]`` along ``dim``, as
    ``torch.index_add`` (out of place); repeated indices accumulate.

    ``source`` has ``x``'s shape except ``len(index)`` along ``dim``. Backward: ``x``
    gets the gradient unchanged, ``source`` ``alpha`` times the gradient's slices at ``index``.

    >>> import gdl
    >>> gdl.zeros(3, 2).index_add(0, gdl.tensor([2, 0, 2]), gdl.ones(3, 2), alpha=2)
    tensor([[2., 2.],
            [0., 0.],
            [4., 4.]], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    d = _dim("index_add", x, dim)
    idx = _vector_index("index_add", x, index, d)
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add: source must be a tensor, got {type(source).__name__}")
    check_same_backend("index_add", x, source)
    _same_dtype("index_add", x, source, "source")
    want = x.shape[:d] + (idx.shape[0],) + x.shape[d + 1 :]
    if source.shape != want:
        raise ValueError(
            f"index_add: source of shape {source.shape} should have shape {want} "
            f"(the tensor's shape {x.shape} with {idx.shape[0]} index entries along dimension {d})"
        )
    values = source.data
    if alpha != 1:
        values = values * alpha
    n, rest = x.shape[d], x.shape[:d] + x.shape[d + 1 :]
    target = xp.reshape(xp.moveaxis(x.data, d, 0), (n, math.prod(rest)))
    rows = xp.reshape(xp.moveaxis(values, d, 0), (idx.shape[0], math.prod(rest)))
    out = be.index_add(target, idx, rows, in_place=False)
    if out.dtype != x.data.dtype:  # the portable version sums small ints as int64 (the Array API's rule)
        out = xp.astype(out, x.data.dtype)
    out = xp.moveaxis(xp.reshape(out, (n,) + rest), 0, d)
    src_shape = source.shape

    def backward(g):
        picked = xp.take(g, idx, axis=d)
        if alpha != 1:
            picked = picked * alpha
        return g, xp.reshape(picked, src_shape)

    def graph(g):
        picked = S.movedim(S._take_rows(S.movedim(g, d, 0), idx), 0, d)
        if alpha != 1:
            picked = picked * alpha
        return g, S.reshape(picked, src_shape)

    return result(out, be, (x, source), backward, "IndexAdd", graph)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` slices of ``x`` from ``start`` along ``dim``, as ``torch.narrow``
    (a negative ``start`` counts from the end). Backward pads the gradient with zeros.

    >>> import gdl
    >>> gdl.arange(6).narrow(0, 1, 3)
    tensor([1, 2, 3], backend='numpy')
    """
    d = _dim("narrow", x, dim)
    if isinstance(start, Tensor):
        start = int(start.item())
    n = x.shape[d]
    for name, v in (("start", start), ("length", length)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"narrow: {name} must be an int, got {v!r}")
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size {n}")
    if start < 0:  # (not ``start % n``: that sends start == n to 0)
        start += n
    if length < 0 or start + length > n:
        raise IndexError(
            f"narrow: start {start} + length {length} does not fit dimension {d} of size {n} "
            f"in a tensor of shape {x.shape}"
        )
    return S._basic_index(x, (slice(None),) * d + (slice(start, start + length),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The slice of ``x`` at ``index`` along ``dim``, without that dimension, as ``torch.select``
    (``x.select(1, i)`` is ``x[:, i]``). Backward pads the gradient with zeros.

    >>> import gdl
    >>> gdl.tensor([[1, 2, 3], [4, 5, 6]]).select(1, -1)
    tensor([3, 6], backend='numpy')
    """
    d = _dim("select", x, dim)
    if isinstance(index, Tensor):
        if index.numel() != 1 or index.data.dtype == x._backend.xp.bool or index.dtype.is_floating_point:
            raise TypeError(f"select: index must be an int or a one-element integer tensor, got {index!r}")
        index = int(index.item())
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"select: index must be an int, got {index!r}")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dimension {d} of size {n}")
    return S._basic_index(x, (slice(None),) * d + (index % n,))


# -- masks and nonzero -------------------------------------------------------------------------


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """A 1-d tensor of the elements of ``x`` where the bool ``mask`` is True (the two
    broadcast against each other), in row-major order, as ``torch.masked_select``.
    Backward puts the gradient back at those places (zeros elsewhere).

    >>> import gdl
    >>> x = gdl.tensor([[1.0, -2.0], [-3.0, 4.0]])
    >>> x.masked_select(x > 0)
    tensor([1., 4.], backend='numpy')
    """
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_select: mask must be a bool tensor, got {type(mask).__name__}")
    check_same_backend("masked_select", x, mask)
    be = x._backend
    xp = be.xp
    if mask.data.dtype != xp.bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {mask.dtype.name} (compare first, e.g. m > 0)")
    shape = _broadcast_shape("masked_select", x.shape, mask.shape)
    if shape != x.shape:
        x = S.broadcast_to(x, shape)
    m = mask.data if mask.shape == shape else xp.broadcast_to(mask.data, shape)
    flat = S.reshape(x, (-1,))
    positions = xp.nonzero(xp.reshape(m, (-1,)))[0]
    out = xp.take(flat.data, positions, axis=0)
    size = flat.shape[0]
    return result(out, be, (flat,), lambda g: (be.scatter_add((size,), positions, g),), "MaskedSelect",
                  lambda g: (S._put_rows(g, positions, size),))


def _broadcast_shape(op, a, b):
    out = []
    for i in range(max(len(a), len(b))):
        x = a[len(a) - 1 - i] if i < len(a) else 1
        y = b[len(b) - 1 - i] if i < len(b) else 1
        if x != y and 1 not in (x, y):
            raise ValueError(f"{op}: shapes {tuple(a)} and {tuple(b)} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The positions of the nonzero (True) elements of ``x``, in row-major order, as ``torch.nonzero``:
    an int64 tensor of shape ``(count, x.ndim)``, or with ``as_tuple=True`` one 1-d int64
    tensor per dimension (usable as an index). No gradient.

    >>> import gdl
    >>> gdl.tensor([[0.0, 2.0], [3.0, 0.0]]).nonzero()
    tensor([[0, 1],
            [1, 0]], backend='numpy')
    """
    be = x._backend
    xp = be.xp
    if x.ndim == 0:  # as PyTorch: a 0-d tensor is one element with no coordinates
        hit = bool(xp.astype(x.data, xp.bool))
        if as_tuple:
            return (Tensor._wrap(xp.zeros((int(hit),), dtype=xp.int64, device=be.device), be),)
        return Tensor._wrap(xp.zeros((int(hit), 0), dtype=xp.int64, device=be.device), be)
    coords = [xp.astype(c, xp.int64) for c in xp.nonzero(x.data)]
    if as_tuple:
        return tuple(Tensor._wrap(c, be) for c in coords)
    return Tensor._wrap(xp.stack(coords, axis=1), be)


__all__ = [
    "gather",
    "index_add",
    "index_select",
    "masked_select",
    "narrow",
    "nonzero",
    "scatter",
    "scatter_add",
    "select",
    "take_along_dim",
]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {name: globals()[name] for name in __all__}
