"""Shape ops, joining, indexing and backend transfer, forward and backward together."""

from __future__ import annotations

from gdl.backends import get_backend_object, host
from gdl.functional._util import (
    FIRST,
    axis_alias,
    check_axis,
    check_same_backend,
    dim_alias,
    normalize_axes,
    unbroadcast,
)
from gdl.higher_order import unbroadcast as _unbroadcast_graph
from gdl.slice_grad import SliceGrad
from gdl.tensor import Tensor, result


def _identity_graph(g):
    return (g,)


def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    xp = x._backend.xp
    old = x.data.shape
    try:
        out = xp.reshape(x.data, shape)
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(old)} into {shape}") from None
    return result(out, x._backend, (x,), lambda g: (xp.reshape(g, old),), "Reshape",
                  lambda g: (reshape(g, tuple(old)),))


def permute(x: Tensor, *axes) -> Tensor:
    """Reorder the dimensions: ``x.permute(2, 0, 1)``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if len(axes) != x.ndim or any(not -x.ndim <= a < x.ndim for a in axes) or sorted(
        a % x.ndim for a in axes
    ) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} dimensions of shape {x.shape}")
    xp = x._backend.xp
    inverse = [0] * len(axes)
    axes = tuple(a % x.ndim for a in axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    out = xp.permute_dims(x.data, axes)
    return result(out, x._backend, (x,), lambda g: (xp.permute_dims(g, tuple(inverse)),), "Permute",
                  lambda g: (permute(g, tuple(inverse)),))


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dimensions (default: the last two, as a matrix transpose)."""
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    d0, d1 = check_axis(dim0, x.ndim, "transpose"), check_axis(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, tuple(axes))


def broadcast_to(x: Tensor, *shape) -> Tensor:
    """``x`` repeated along dimensions of size 1: ``x.expand(3, 4)`` or ``broadcast_to(x, (3, 4))``."""
    xp = x._backend.xp
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    old = x.data.shape
    if -1 in shape:  # PyTorch's expand: -1 keeps that (trailing-aligned) dimension's size
        lead = len(shape) - len(old)
        shape = tuple(old[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    try:
        out = xp.broadcast_to(x.data, shape)
    except (ValueError, TypeError):
        raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(old)} to {shape}") from None
    return result(out, x._backend, (x,), lambda g: (unbroadcast(xp, g, old),), "Expand",
                  lambda g: (_unbroadcast_graph(g, tuple(old)),))


def squeeze(x: Tensor, axis=None, *, dim=None) -> Tensor:
    """Drop dimensions of size 1 (all of them, or ``axis``/``dim``)."""
    if dim is not None:
        axis = dim_alias("squeeze", axis, dim)
    if axis is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: dimension {a} of shape {x.shape} has size {x.shape[a]}, not 1")
        shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return reshape(x, shape)


def unsqueeze(x: Tensor, axis: int = None, *, dim=None) -> Tensor:
    """Insert a dimension of size 1 at ``axis`` (or ``dim``)."""
    if dim is not None:
        axis = dim_alias("unsqueeze", axis, dim)
    elif axis is None:
        raise TypeError("unsqueeze: missing the position of the new dimension (axis=... or dim=...)")
    ndim = x.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}")
    shape = list(x.shape)
    shape.insert(axis % ndim, 1)
    return reshape(x, tuple(shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = check_axis(start_dim, x.ndim, "flatten"), check_axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    n = 1
    for d in x.shape[s : e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1 :])


def repeat(x: Tensor, *sizes) -> Tensor:
    """``x`` tiled ``sizes[i]`` times along dimension ``i``, as ``torch.Tensor.repeat``
    (the Array API's ``tile``; not its ``repeat``, which repeats each element).

    Extra leading sizes add dimensions: ``x.repeat(2, 1, 1)`` of a (3, 4) tensor is (2, 3, 4).
    Backward sums the gradient over the copies.
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim or any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in sizes):
        raise ValueError(
            f"repeat: sizes {tuple(sizes)} must be non-negative ints, at least one per dimension "
            f"of the tensor's shape {x.shape}"
        )
    xp = x._backend.xp
    old = x.data.shape
    shape = (1,) * (len(sizes) - x.ndim) + tuple(old)
    split = tuple(v for r, s in zip(sizes, shape) for v in (r, s))  # (r0, s0, r1, s1, ...)
    out = xp.broadcast_to(xp.reshape(x.data, tuple(v for s in shape for v in (1, s))), split)
    out = xp.reshape(out, tuple(r * s for r, s in zip(sizes, shape)))

    def backward(g):
        g = xp.sum(xp.reshape(g, split), axis=tuple(range(0, len(split), 2)))
        return (xp.reshape(g, old),)

    def graph(g):
        g = reshape(g, split).sum(axis=tuple(range(0, len(split), 2)))
        return (reshape(g, tuple(old)),)

    return result(out, x._backend, (x,), backward, "Repeat", graph)


def concat(tensors, axis: int = FIRST, *, dim=None) -> Tensor:
    """Join tensors along an existing ``axis`` (or ``dim``); ``gdl.cat`` is the same op."""
    if dim is not None:
        axis = dim_alias("concat", axis, dim, FIRST)
    tensors = _same_backend_list("concat", tensors)
    xp = tensors[0]._backend.xp
    axis = check_axis(axis, tensors[0].ndim, "concat")
    try:
        out = xp.concat([t.data for t in tensors], axis=axis)
    except (ValueError, TypeError):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"concat: shapes {shapes} do not match outside axis {axis}") from None
    sizes = [t.shape[axis] for t in tensors]
    ax = axis % out.ndim

    def backward(g):
        grads, start = [], 0
        for n in sizes:
            idx = (slice(None),) * ax + (slice(start, start + n), Ellipsis)
            grads.append(g[idx])
            start += n
        return tuple(grads)

    def graph(g):
        grads, start = [], 0
        for n in sizes:
            grads.append(_basic_index(g, (slice(None),) * ax + (slice(start, start + n), Ellipsis)))
            start += n
        return tuple(grads)

    return result(out, tensors[0]._backend, tuple(tensors), backward, "Cat", graph)


def stack(tensors, axis: int = FIRST, *, dim=None) -> Tensor:
    """Join same-shaped tensors along a new ``axis`` (or ``dim``)."""
    if dim is not None:
        axis = dim_alias("stack", axis, dim, FIRST)
    tensors = _same_backend_list("stack", tensors)
    xp = tensors[0]._backend.xp
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {', '.join(map(str, shapes))}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for stacking tensors of shape {tensors[0].shape}")
    axis %= ndim
    out = xp.stack([t.data for t in tensors], axis=axis)
    ax = axis % out.ndim

    def backward(g):
        return tuple(g[(slice(None),) * ax + (i, Ellipsis)] for i in range(len(tensors)))

    def graph(g):
        return tuple(_basic_index(g, (slice(None),) * ax + (i, Ellipsis)) for i in range(len(tensors)))

    return result(out, tensors[0]._backend, tuple(tensors), backward, "Stack", graph)


def _same_backend_list(op, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got an element of type {type(t).__name__}")
    for t in tensors[1:]:
        check_same_backend(op, tensors[0], t)
    return tensors


def to_backend(x: Tensor, backend) -> Tensor:
    """``x`` copied to another backend; the gradient is copied back."""
    target = get_backend_object(backend)
    src = x._backend
    if target is src:
        return x
    out = target.from_host(src.to_host(x.data))
    return result(out, target, (x,), lambda g: (src.from_host(target.to_host(g)),), "ToBackend",
                  lambda g: (to_backend(g, src),))


# -- indexing ----------------------------------------------------------------------------


def getitem(x: Tensor, key) -> Tensor:
    """``x[key]``: ints, slices, None, Ellipsis, and integer arrays.

    Integer-array indices (tensors or lists) gather with ``take``; their backward
    scatter-adds, so repeated indices accumulate their gradients.
    """
    key = key if isinstance(key, tuple) else (key,)
    be = x._backend
    xp = be.xp
    converted, array_pos = [], []
    for i, k in enumerate(key):
        if isinstance(k, Tensor):
            check_same_backend("index", x, k)
            k = k.data
        elif isinstance(k, list):
            k = be.from_host(host.as_index_array(k))
        if be.is_array(k):
            if k.dtype == xp.bool:
                raise TypeError("index: boolean-mask indexing is not supported; use gdl.where")
            array_pos.append(i)
        converted.append(k)
    if not array_pos:
        return _basic_index(x, tuple(converted))
    return _array_index(x, converted, array_pos)


def _in_bounds(key, shape):
    """``key`` with each slice's start and stop clamped to its axis, as Python and PyTorch
    clamp them (``x[:, -32:]`` of 9 columns is all 9; the Array API leaves bounds outside
    the axis unspecified, and array_api_strict refuses them)."""
    if not any(isinstance(k, slice) for k in key):
        return key
    dots = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    after = sum(k is not None for k in key[dots + 1:])
    out, axis = [], 0
    for i, k in enumerate(key):
        if i == dots:
            axis = len(shape) - after
        elif isinstance(k, slice) and axis < len(shape):
            start, stop, step = k.indices(shape[axis])
            if step < 0:  # indices() writes "before the first element" as -1
                k = slice(start, None if stop < 0 else stop, step) if start >= 0 else slice(0, 0)
            else:
                k = slice(start, stop, step)
        if k is not None and k is not Ellipsis:
            axis += 1
        out.append(k)
    return tuple(out)


def _basic_index(x, key):
    xp = x._backend.xp
    shape, dtype = x.data.shape, x.data.dtype
    key = _in_bounds(key, shape)
    if not any(k is Ellipsis for k in key):
        key = key + (Ellipsis,)  # the Array API needs every axis indexed, or an Ellipsis
    try:
        out = x.data[key]
    except IndexError as exc:
        raise IndexError(f"index {key} is invalid for a tensor of shape {tuple(shape)}: {exc}") from None
    inner = tuple(k for k in key if k is not None)  # the Array API allows no None in setitem
    inner_shape = tuple(x.data[inner].shape) if len(inner) < len(key) else None
    be = x._backend

    def backward(g):
        # not padded to x's shape here: the engine adds the slice into one buffer for x
        if g.dtype != dtype:
            g = xp.astype(g, dtype)
        return (SliceGrad(inner, g if inner_shape is None else xp.reshape(g, inner_shape), shape, be),)

    def graph(g):
        if g.dtype != x.dtype:
            g = g.to(dtype=x.dtype)
        return (_slice_put(g if inner_shape is None else reshape(g, inner_shape), inner, shape),)

    return result(out, x._backend, (x,), backward, "Index", graph)


def _slice_put(t: Tensor, key, shape) -> Tensor:
    """Zeros of ``shape`` with ``t`` written at the basic index ``key`` (no ``None``; ``t``
    has the shape of ``zeros(shape)[key]``): the gradient of ``x[key]`` as a differentiable
    op, for ``create_graph=True``. Its own backward is the slice again."""
    be = t._backend
    xp = be.xp
    out = xp.zeros(tuple(shape), dtype=t.data.dtype, device=be.device)
    out[key] = t.data
    return result(out, be, (t,), lambda g: (g[key],), "SlicePut", lambda g: (_basic_index(g, key),))


def _take_rows(x: Tensor, rows) -> Tensor:
    """The rows of ``x`` (along axis 0) at the 1-d integer array ``rows``, as a differentiable
    op whose graph backward is :func:`_put_rows` (the gradient path of integer indexing)."""
    be = x._backend
    shape = tuple(x.data.shape)
    out = be.xp.take(x.data, rows, axis=0)
    return result(out, be, (x,), lambda g: (be.scatter_add(shape, rows, g),), "TakeRows",
                  lambda g: (_put_rows(g, rows, shape[0]),))


def _put_rows(t: Tensor, rows, n: int) -> Tensor:
    """Zeros of shape ``(n, *t.shape[1:])`` with the rows of ``t`` added at the 1-d integer
    array ``rows`` (repeated rows accumulate): the gradient of :func:`_take_rows` (and of the
    other integer-index gathers) as a differentiable op, for ``create_graph=True``."""
    be = t._backend
    xp = be.xp
    out = be.scatter_add((n,) + tuple(t.data.shape[1:]), rows, t.data)
    if out.dtype != t.data.dtype:  # the portable version may sum small ints as int64
        out = xp.astype(out, t.data.dtype)
    return result(out, be, (t,), lambda g: (xp.take(g, rows, axis=0),), "PutRows",
                  lambda g: (_take_rows(g, rows),))


def _array_index(x, key, array_pos):
    """Integer arrays on consecutive axes, every other entry a full slice."""
    be = x._backend
    xp = be.xp
    key = list(key)
    ellipses = [i for i, k in enumerate(key) if k is Ellipsis]
    if ellipses:
        e = ellipses[0]
        key[e : e + 1] = [slice(None)] * (x.ndim - len(key) + 1)
        array_pos = [i for i, k in enumerate(key) if be.is_array(k)]
    first, count = array_pos[0], len(array_pos)
    if array_pos != list(range(first, first + count)) or any(
        not (isinstance(k, slice) and k == slice(None)) for i, k in enumerate(key) if i not in array_pos
    ):
        raise NotImplementedError(
            "index: integer-array indices must sit on consecutive axes with full slices (:) "
            "elsewhere, e.g. x[idx], x[rows, cols] or x[:, idx]"
        )
    shape = x.data.shape
    if first + count > len(shape):
        raise IndexError(f"index: too many indices for a tensor of shape {tuple(shape)}")
    idx = [key[i] for i in array_pos]
    bshape = tuple(xp.broadcast_arrays(*idx)[0].shape) if count > 1 else tuple(idx[0].shape)
    # Linear index over the indexed axes, wrapping negative indices.
    linear = None
    for axis, k in zip(range(first, first + count), idx):
        n = shape[axis]
        if k.size and (int(xp.min(k)) < -n or int(xp.max(k)) >= n):
            # checked here: some libraries (CuPy) wrap out-of-range indices silently
            raise IndexError(
                f"index out of range for dimension {axis} of size {n} in a tensor of shape {tuple(shape)}"
            )
        k = xp.where(k < 0, k + n, k)
        linear = k if linear is None else linear * n + k
    linear = xp.reshape(xp.broadcast_to(linear, bshape), (-1,))
    moved = tuple(range(first, first + count)) + tuple(i for i in range(len(shape)) if not first <= i < first + count)
    rest = tuple(shape[i] for i in moved[count:])
    indexed = 1
    for a in range(first, first + count):
        indexed *= shape[a]
    src = xp.reshape(xp.permute_dims(x.data, moved), (indexed,) + rest)
    try:
        taken = xp.take(src, linear, axis=0)
    except IndexError as exc:
        raise IndexError(f"index out of range for a tensor of shape {tuple(shape)}: {exc}") from None
    out = xp.reshape(taken, bshape + rest)
    # Put the broadcast index dimensions where NumPy puts them: at ``first``.
    nb = len(bshape)
    order = tuple(range(nb, nb + first)) + tuple(range(nb)) + tuple(range(nb + first, nb + len(rest)))
    out = xp.permute_dims(out, order)
    inverse_moved = [0] * len(moved)
    for i, a in enumerate(moved):
        inverse_moved[a] = i

    def backward(g):
        inv = [0] * len(order)
        for i, a in enumerate(order):
            inv[a] = i
        gt = xp.reshape(xp.permute_dims(g, tuple(inv)), (-1,) + rest)
        summed = be.scatter_add((indexed,) + rest, linear, gt)
        full = xp.reshape(summed, tuple(shape[i] for i in moved))
        return (xp.permute_dims(full, tuple(inverse_moved)),)

    def graph(g):
        inv = [0] * len(order)
        for i, a in enumerate(order):
            inv[a] = i
        gt = reshape(permute(g, tuple(inv)), (-1,) + rest)
        full = reshape(_put_rows(gt, linear, indexed), tuple(shape[i] for i in moved))
        return (permute(full, tuple(inverse_moved)),)

    return result(out, be, (x,), backward, "IndexArray", graph)


def take(x: Tensor, indices, axis: int = FIRST, *, dim=None) -> Tensor:
    """Rows (or slices along ``axis``/``dim``) of ``x`` at integer ``indices``
    (PyTorch's ``index_select``, not its flat ``torch.take``)."""
    if dim is not None:
        axis = dim_alias("take", axis, dim, FIRST)
    key = (slice(None),) * (axis % x.ndim) + (indices,)
    return getitem(x, key)


# -- splitting -----------------------------------------------------------------------------


def _slice_along(x: Tensor, d: int, key) -> Tensor:
    return _basic_index(x, (slice(None),) * d + (key,))


def _split_dim(op: str, x: Tensor, dim, axis) -> int:
    if axis is not None:
        dim = axis_alias(op, dim, axis, FIRST)
    if x.ndim == 0:
        raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return check_axis(dim, x.ndim, op)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def split(x: Tensor, split_size_or_sections, dim: int = FIRST, *, axis=None) -> tuple:
    """``x`` cut along ``dim`` (or ``axis``) into pieces, as ``torch.split``: an int gives
    pieces of that size (the last one smaller if the size does not divide), a list
    gives the size of each piece (they must add up to the dimension's size).

    Returns a tuple of tensors; each piece's gradient flows back into its part of ``x``.

    >>> import gdl
    >>> [p.tolist() for p in gdl.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    >>> [p.shape for p in gdl.zeros(2, 5).split([1, 4], dim=1)]
    [(2, 1), (2, 4)]
    """
    d = _split_dim("split", x, dim, axis)
    n = x.shape[d]
    if _is_int(split_size_or_sections):
        size = split_size_or_sections
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split: split size must be a positive int, got {size} (dimension {d} has size {n})")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if any(not _is_int(s) or s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(
                f"split: sizes {tuple(sizes)} must be non-negative ints adding up to {n}, "
                f"the size of dimension {d} of shape {x.shape}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(_slice_along(x, d, slice(start, start + s)))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = FIRST, *, axis=None) -> tuple:
    """``x`` cut along ``dim`` (or ``axis``) into at most ``chunks`` pieces of equal size
    (``ceil(n / chunks)``, the last one smaller), as ``torch.chunk``: like torch, this can
    give fewer than ``chunks`` pieces (6 into 4 gives 3 of size 2).

    >>> import gdl
    >>> [p.tolist() for p in gdl.arange(5).chunk(3)]
    [[0, 1], [2, 3], [4]]
    """
    d = _split_dim("chunk", x, dim, axis)
    if not _is_int(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = x.shape[d]
    if n == 0:  # as PyTorch: ``chunks`` empty pieces
        return tuple(_slice_along(x, d, slice(0, 0)) for _ in range(chunks))
    return split(x, -(-n // chunks), d)


def unbind(x: Tensor, dim: int = FIRST, *, axis=None) -> tuple:
    """The slices of ``x`` along ``dim`` (or ``axis``), that dimension removed, as ``torch.unbind``.

    Back-propagating through the slices (all ``n`` or some) costs about ``x``'s size once,
    not ``n`` times: the engine adds each slice's gradient into one buffer for ``x``.

    >>> import gdl
    >>> a, b = gdl.tensor([[1, 2], [3, 4]]).unbind(1)
    >>> a
    tensor([1, 3], backend='numpy')
    """
    d = _split_dim("unbind", x, dim, axis)
    return tuple(_slice_along(x, d, i) for i in range(x.shape[d]))


# -- reordering ----------------------------------------------------------------------------


def _dims_arg(op: str, dims, more, x: Tensor):
    """``dims`` given as an int, a sequence, or several ints: a tuple of distinct axes."""
    if more:
        dims = (dims,) + tuple(more)
    if _is_int(dims):
        dims = (dims,)
    dims = tuple(dims)
    if any(not _is_int(a) for a in dims):
        raise TypeError(f"{op}: dims must be ints, got {dims!r}")
    axes = tuple(check_axis(a, x.ndim, op) for a in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dims {dims} repeat a dimension of shape {x.shape}")
    return axes


def flip(x: Tensor, dims=None, *more, axis=None) -> Tensor:
    """``x`` with the order of its elements reversed along ``dims`` (an int, a sequence,
    or several ints: ``x.flip(0, 1)``), as ``torch.flip``; ``axis`` is the Array API's
    name, and with neither every dimension is reversed. Backward flips the gradient back.
    The result is a copy, as PyTorch's (writing into it leaves ``x`` unchanged).

    >>> import gdl
    >>> gdl.tensor([[1, 2], [3, 4]]).flip(1)
    tensor([[2, 1],
            [4, 3]], backend='numpy')
    """
    if axis is not None:
        dims = axis_alias("flip", dims, axis)
    xp = x._backend.xp
    axes = tuple(range(x.ndim)) if dims is None and not more else _dims_arg("flip", dims, more, x)
    if x.ndim == 0 or not axes:
        return result(xp.asarray(x.data, copy=True), x._backend, (x,), lambda g: (g,), "Flip", _identity_graph)
    out = xp.asarray(xp.flip(x.data, axis=axes), copy=True)  # NumPy's flip is a view
    return result(out, x._backend, (x,), lambda g: (xp.flip(g, axis=axes),), "Flip", lambda g: (flip(g, axes),))


def roll(x: Tensor, shifts, dims=None, *, axis=None) -> Tensor:
    """``x`` shifted circularly by ``shifts`` along ``dims`` (ints or equal-length sequences),
    as ``torch.roll``; with ``dims=None`` the flattened tensor is rolled and the shape
    restored. Backward rolls the gradient back.

    >>> import gdl
    >>> gdl.tensor([1, 2, 3, 4]).roll(1)
    tensor([4, 1, 2, 3], backend='numpy')
    """
    if axis is not None:
        dims = axis_alias("roll", dims, axis)
    xp = x._backend.xp
    if not _is_int(shifts) and not isinstance(shifts, (tuple, list)):
        raise TypeError(f"roll: shifts must be an int or a sequence of ints, got {shifts!r}")
    shifts = (shifts,) if _is_int(shifts) else tuple(shifts)
    if any(not _is_int(s) for s in shifts):
        raise TypeError(f"roll: shifts must be ints, got {shifts!r}")
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
        axes = None
        shift, back = shifts[0], -shifts[0]
    else:
        dims = (dims,) if _is_int(dims) else tuple(dims)
        if len(dims) != len(shifts):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        axes = tuple(check_axis(a, x.ndim, "roll") for a in dims)
        shift, back = shifts, tuple(-s for s in shifts)
    if x.ndim == 0:
        return result(x.data, x._backend, (x,), lambda g: (g,), "Roll", _identity_graph)
    out = xp.roll(x.data, shift=shift, axis=axes)
    return result(out, x._backend, (x,), lambda g: (xp.roll(g, shift=back, axis=axes),), "Roll",
                  lambda g: (roll(g, back, axes),))


def tile(x: Tensor, dims, *more) -> Tensor:
    """``x`` repeated ``dims[i]`` times along dimension ``i``, as ``torch.tile``: unlike
    :func:`repeat`, fewer sizes than dimensions are allowed (ones are put in front).

    >>> import gdl
    >>> gdl.tensor([[1, 2]]).tile(2)
    tensor([[1, 2, 1, 2]], backend='numpy')
    """
    dims = (dims,) + tuple(more) if more or _is_int(dims) else tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def movedim(x: Tensor, source, destination) -> Tensor:
    """``x`` with dimension(s) ``source`` moved to position(s) ``destination``, the others
    keeping their order, as ``torch.movedim`` (``moveaxis`` is the same op).

    >>> import gdl
    >>> gdl.zeros(2, 3, 4).movedim(0, -1).shape
    (3, 4, 2)
    """
    src = (source,) if _is_int(source) else tuple(source)
    dst = (destination,) if _is_int(destination) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} must have the same length")
    src = tuple(check_axis(a, x.ndim, "movedim") for a in src)
    dst = tuple(check_axis(a, x.ndim, "movedim") for a in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dimension in source {source} or destination {destination}")
    if x.ndim == 0:
        return x
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, tuple(order))


moveaxis = movedim


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """``x`` with two dimensions exchanged, as ``torch.swapaxes`` (``swapdims`` and
    ``transpose(x, dim0, dim1)`` are the same op)."""
    a0, a1 = check_axis(axis0, x.ndim, "swapaxes"), check_axis(axis1, x.ndim, "swapaxes")
    return transpose(x, a0, a1) if x.ndim >= 2 else x


def swapdims(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """``x`` with two dimensions exchanged, as ``torch.swapdims``."""
    return swapaxes(x, dim0, dim1)


def _shape_of(op: str, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expects a tensor, got {type(other).__name__}")
    return other.shape


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` broadcast to ``other``'s shape, as ``torch.Tensor.expand_as``."""
    return broadcast_to(x, _shape_of("expand_as", other))


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` reshaped to ``other``'s shape, as ``torch.Tensor.reshape_as`` (``view_as`` is the same)."""
    return reshape(x, _shape_of("reshape_as", other))


view_as = reshape_as


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Dimension ``dim`` of ``x`` split into several of ``sizes`` (one may be -1), as
    ``torch.unflatten``; the inverse of :func:`flatten`.

    >>> import gdl
    >>> gdl.zeros(2, 12).unflatten(1, (3, -1)).shape
    (2, 3, 4)
    """
    d = _split_dim("unflatten", x, dim, None)
    sizes = tuple(sizes)
    n = x.shape[d]
    known = 1
    for s in sizes:
        if not _is_int(s) or s < -1:
            raise ValueError(f"unflatten: sizes {sizes} must be non-negative ints (one may be -1)")
        known *= s if s != -1 else 1
    if not sizes or sizes.count(-1) > 1 or (
        known != n if -1 not in sizes else (known == 0 or n % known)
    ):
        raise ValueError(f"unflatten: sizes {sizes} do not split dimension {d} of size {n} (shape {x.shape})")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])


# -- triangles ------------------------------------------------------------------------------


def _triangle(op: str, x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: expects a tensor with at least 2 dimensions, got shape {x.shape}")
    if not _is_int(diagonal):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    be = x._backend
    xp = be.xp
    m, n = x.shape[-2], x.shape[-1]
    offset = xp.arange(n, device=be.device)[None, :] - xp.arange(m, device=be.device)[:, None]
    keep = offset <= diagonal if lower else offset >= diagonal
    out = xp.where(keep, x.data, xp.zeros_like(x.data))

    def graph(g):
        from gdl.functional.elementwise import where

        return (where(keep, g, 0.0),)

    return result(out, be, (x,), lambda g: (xp.where(keep, g, xp.zeros_like(g)),), "Tril" if lower else "Triu",
                  graph)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions of ``x`` (zeros above diagonal
    ``diagonal``: 0 the main one, > 0 above it, < 0 below), as ``torch.tril``.
    Backward masks the gradient the same way.

    >>> import gdl
    >>> gdl.ones(3, 3).tril()
    tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]], backend='numpy')
    """
    return _triangle("tril", x, diagonal, True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions of ``x`` (zeros below diagonal
    ``diagonal``), as ``torch.triu``. Backward masks the gradient the same way.

    >>> import gdl
    >>> gdl.ones(2, 3).triu(1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]], backend='numpy')
    """
    return _triangle("triu", x, diagonal, False)


# -- grids and stacking ----------------------------------------------------------------------


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-d (or 0-d) tensors, as ``torch.meshgrid``: with ``indexing="ij"``
    (the default, as torch's) output ``i`` varies along dimension ``i``; with ``"xy"`` the
    first two dimensions are swapped (NumPy's and the Array API's default). Gradients sum
    back over the grid.

    >>> import gdl
    >>> rows, cols = gdl.meshgrid(gdl.tensor([1, 2]), gdl.tensor([3, 4, 5]))
    >>> cols
    tensor([[3, 4, 5],
            [3, 4, 5]], backend='numpy')
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = _same_backend_list("meshgrid", tensors)
    for t in tensors:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-d tensors, got shape {t.shape}")
    k = len(tensors)
    pos = list(range(k))
    if indexing == "xy" and k >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * k
    for i, t in enumerate(tensors):
        shape[pos[i]] = t.numel()
    out = []
    for i, t in enumerate(tensors):
        view = [1] * k
        view[pos[i]] = -1
        out.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return tuple(out)


def _atleast(t: Tensor, ndim: int) -> Tensor:
    if t.ndim >= ndim:
        return t
    return reshape(t, (1,) * (ndim - t.ndim) + t.shape)


def hstack(tensors) -> Tensor:
    """Tensors joined column-wise, as ``torch.hstack``: along dimension 0 when they are
    1-d (0-d ones count as 1-d), else along dimension 1.

    >>> import gdl
    >>> gdl.hstack([gdl.tensor([1, 2]), gdl.tensor([3])])
    tensor([1, 2, 3], backend='numpy')
    """
    tensors = [_atleast(t, 1) for t in _same_backend_list("hstack", tensors)]
    return concat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Tensors joined row-wise, as ``torch.vstack``: 0-d and 1-d ones first become rows
    (shape ``(1, n)``), then all are joined along dimension 0.

    >>> import gdl
    >>> gdl.vstack([gdl.tensor([1, 2]), gdl.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]], backend='numpy')
    """
    tensors = [_atleast(t, 2) for t in _same_backend_list("vstack", tensors)]
    return concat(tensors, 0)


__all__ = [
    "broadcast_to",
    "chunk",
    "concat",
    "expand_as",
    "flatten",
    "flip",
    "getitem",
    "hstack",
    "meshgrid",
    "moveaxis",
    "movedim",
    "permute",
    "repeat",
    "reshape",
    "reshape_as",
    "roll",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "swapdims",
    "take",
    "tile",
    "to_backend",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "unsqueeze",
    "view_as",
    "vstack",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {
    name: globals()[name]
    for name in (
        "chunk", "expand_as", "flip", "movedim", "moveaxis", "reshape_as", "roll", "split", "swapaxes",
        "swapdims", "tile", "tril", "triu", "unbind", "unflatten", "view_as",
    )
}
