"""Shape ops, joining, indexing and backend transfer, forward and backward together."""

from __future__ import annotations

from gdl.backends import get_backend_object, host
from gdl.functional._util import FIRST, check_axis, check_same_backend, dim_alias, normalize_axes, unbroadcast
from gdl.tensor import Tensor, result


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
    return result(out, x._backend, (x,), lambda g: (xp.reshape(g, old),), "Reshape")


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
    return result(out, x._backend, (x,), lambda g: (xp.permute_dims(g, tuple(inverse)),), "Permute")


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
    return result(out, x._backend, (x,), lambda g: (unbroadcast(xp, g, old),), "Expand")


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

    return result(out, x._backend, (x,), backward, "Repeat")


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

    return result(out, tensors[0]._backend, tuple(tensors), backward, "Cat")


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

    return result(out, tensors[0]._backend, tuple(tensors), backward, "Stack")


def _same_backend_list(op, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
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
    return result(out, target, (x,), lambda g: (src.from_host(target.to_host(g)),), "ToBackend")


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


def _basic_index(x, key):
    xp = x._backend.xp
    shape, dtype = x.data.shape, x.data.dtype
    if not any(k is Ellipsis for k in key):
        key = key + (Ellipsis,)  # the Array API needs every axis indexed, or an Ellipsis
    try:
        out = x.data[key]
    except IndexError as exc:
        raise IndexError(f"index {key} is invalid for a tensor of shape {tuple(shape)}: {exc}") from None
    inner = tuple(k for k in key if k is not None)  # the Array API allows no None in setitem

    def backward(g):
        grad = xp.zeros(shape, dtype=dtype, device=x._backend.device)
        grad[inner] = xp.reshape(g, tuple(grad[inner].shape))
        return (grad,)

    return result(out, x._backend, (x,), backward, "Index")


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

    return result(out, be, (x,), backward, "IndexArray")


def take(x: Tensor, indices, axis: int = FIRST, *, dim=None) -> Tensor:
    """Rows (or slices along ``axis``/``dim``) of ``x`` at integer ``indices``
    (PyTorch's ``index_select``, not its flat ``torch.take``)."""
    if dim is not None:
        axis = dim_alias("take", axis, dim, FIRST)
    key = (slice(None),) * (axis % x.ndim) + (indices,)
    return getitem(x, key)


__all__ = [
    "broadcast_to",
    "concat",
    "flatten",
    "getitem",
    "permute",
    "repeat",
    "reshape",
    "squeeze",
    "stack",
    "take",
    "to_backend",
    "transpose",
    "unsqueeze",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {}
