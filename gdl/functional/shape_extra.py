"""More of PyTorch's shape ops (``atleast_*d``, ``*stack``, ``*split``, ``ravel``, ``fliplr``,
``unravel_index``, ...) and its tensor utilities (``is_tensor``, ``promote_types``,
``result_type``, ``as_tensor``, ...).

The shape ops are built from :mod:`gdl.functional.shape`'s (``reshape``, ``concat``,
``flip``, slicing), which carry the gradients.

>>> import gdl
>>> gdl.column_stack([gdl.tensor([1, 2]), gdl.tensor([3, 4])])
tensor([[1, 3],
        [2, 4]], backend='numpy')
"""

from __future__ import annotations

from gdl import dtypes
from gdl.functional import indexing as I
from gdl.functional import misc as MI
from gdl.functional import order as O
from gdl.functional import shape as S
from gdl.tensor import Tensor, tensor

# -- at least n dimensions --------------------------------------------------------------------


def _tensor_args(op: str, tensors):
    """``(t,)``, ``(t1, t2, ...)`` or ``([t1, t2],)``: the tensors, and whether one came bare."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected tensors, got an argument of type {type(t).__name__}")
    return tensors, single


def _atleast(op: str, tensors, fn):
    tensors, single = _tensor_args(op, tensors)
    out = tuple(fn(t) for t in tensors)
    return out[0] if single else out


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape ``(1,)``), as
    ``torch.atleast_1d``: one tensor gives a tensor, several (or a list) a tuple.

    >>> import gdl
    >>> gdl.atleast_1d(gdl.tensor(3.0))
    tensor([3.], backend='numpy')
    """
    return _atleast("atleast_1d", tensors, lambda t: S.reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions (``(n,)`` becomes ``(1, n)``), as ``torch.atleast_2d``.

    >>> import gdl
    >>> gdl.atleast_2d(gdl.tensor([1, 2])).shape
    (1, 2)
    """
    return _atleast("atleast_2d", tensors, lambda t: S.reshape(t, (1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t)


def _3d(t: Tensor) -> Tensor:
    if t.ndim == 0:
        return S.reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return S.reshape(t, (1, t.shape[0], 1))
    return S.reshape(t, t.shape + (1,)) if t.ndim == 2 else t


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions, as ``torch.atleast_3d``: ``()`` becomes
    ``(1, 1, 1)``, ``(n,)`` ``(1, n, 1)`` and ``(m, n)`` ``(m, n, 1)``.

    >>> import gdl
    >>> gdl.atleast_3d(gdl.zeros(2, 3)).shape
    (2, 3, 1)
    """
    return _atleast("atleast_3d", tensors, _3d)


# -- broadcasting -----------------------------------------------------------------------------


def broadcast_shapes(*shapes) -> tuple:
    """The shape that ``shapes`` (tuples, or ints for 1-d shapes) broadcast to, as
    ``torch.broadcast_shapes`` (a plain tuple here); a ValueError when they do not.

    >>> import gdl
    >>> gdl.broadcast_shapes((2, 1), (3,), 1)
    (2, 3)
    """
    out: list = []
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shape):
            raise ValueError(f"broadcast_shapes: shape {i} {shape} must hold non-negative ints")
        full = [1] * (len(shape) - len(out)) + out
        for j, s in enumerate(shape[::-1]):
            k = len(full) - 1 - j
            if full[k] == 1:
                full[k] = s
            elif s not in (1, full[k]):
                raise ValueError(
                    f"broadcast_shapes: shape {i} {shape} does not broadcast with {tuple(full)} "
                    f"(size {s} against {full[k]} at dimension {-1 - j})"
                )
        out = full
    return tuple(out)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to one shape, as ``torch.broadcast_tensors``; each gradient
    is summed back to its tensor's shape.

    >>> import gdl
    >>> a, b = gdl.broadcast_tensors(gdl.zeros(2, 1), gdl.zeros(3))
    >>> a.shape, b.shape
    ((2, 3), (2, 3))
    """
    tensors, _ = _tensor_args("broadcast_tensors", tensors)
    try:
        shape = broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise ValueError(
            "broadcast_tensors: shapes " + ", ".join(str(t.shape) for t in tensors) + " do not broadcast"
        ) from None
    return tuple(t if t.shape == shape else S.broadcast_to(t, shape) for t in tensors)


# -- stacking -----------------------------------------------------------------------------------


def column_stack(tensors) -> Tensor:
    """Tensors joined as columns, as ``torch.column_stack``: 0-d and 1-d ones become
    columns (shape ``(n, 1)``), then all are joined along dimension 1.

    >>> import gdl
    >>> gdl.column_stack([gdl.zeros(3), gdl.zeros(3, 2)]).shape
    (3, 3)
    """
    tensors = S._same_backend_list("column_stack", tensors)
    cols = [S.reshape(t, (t.numel(), 1)) if t.ndim < 2 else t for t in tensors]
    return S.concat(cols, 1)


def row_stack(tensors) -> Tensor:
    """Tensors joined row-wise: ``torch.row_stack``, the same as :func:`gdl.vstack`."""
    return S.vstack(tensors)


def dstack(tensors) -> Tensor:
    """Tensors joined depth-wise (along dimension 2) after :func:`atleast_3d`, as ``torch.dstack``.

    >>> import gdl
    >>> gdl.dstack([gdl.tensor([1, 2]), gdl.tensor([3, 4])])
    tensor([[[1, 3],
             [2, 4]]], backend='numpy')
    """
    tensors = S._same_backend_list("dstack", tensors)
    return S.concat([_3d(t) for t in tensors], 2)


# -- splitting ----------------------------------------------------------------------------------


def _split_along(op: str, x: Tensor, spec, dim: int, need: int) -> tuple:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if x.ndim < need:
        raise ValueError(f"{op}: expects a tensor with at least {need} dimension(s), got shape {x.shape}")
    if S._is_int(spec):
        n = x.shape[dim]
        if spec <= 0 or n % spec:
            raise ValueError(
                f"{op}: cannot split dimension {dim} of size {n} (shape {x.shape}) into {spec} equal parts"
            )
    return MI.tensor_split(x, spec, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``input`` split column-wise (dimension 1; 0 for a 1-d tensor), as ``torch.hsplit``:
    an int must divide the size evenly, a list gives the cut positions (as :func:`gdl.tensor_split`).

    >>> import gdl
    >>> [p.shape for p in gdl.hsplit(gdl.zeros(2, 4), 2)]
    [(2, 2), (2, 2)]
    """
    d = 1 if isinstance(input, Tensor) and input.ndim > 1 else 0
    return _split_along("hsplit", input, indices_or_sections, d, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``input`` split row-wise (dimension 0 of a tensor with at least 2), as ``torch.vsplit``.

    >>> import gdl
    >>> [p.tolist() for p in gdl.arange(4).reshape(4, 1).vsplit([1])]
    [[[0]], [[1], [2], [3]]]
    """
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``input`` split depth-wise (dimension 2 of a tensor with at least 3), as ``torch.dsplit``."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``input`` cut along ``dim`` into pieces of ``split_sizes`` (which must add up to the
    dimension's size), as ``torch.split_with_sizes``.

    >>> import gdl
    >>> [p.tolist() for p in gdl.arange(5).split_with_sizes([2, 3])]
    [[0, 1], [2, 3, 4]]
    """
    if S._is_int(split_sizes) or not isinstance(split_sizes, (list, tuple)):
        raise TypeError(f"split_with_sizes: split_sizes must be a list of ints, got {split_sizes!r}")
    return S.split(input, list(split_sizes), dim)


# -- reordering and views ------------------------------------------------------------------------


def ravel(input: Tensor) -> Tensor:
    """``input`` flattened to 1-d, as ``torch.ravel``.

    >>> import gdl
    >>> gdl.ravel(gdl.tensor([[1, 2], [3, 4]]))
    tensor([1, 2, 3, 4], backend='numpy')
    """
    return S.reshape(input, (-1,))


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along dimension 0 (the values only), as ``torch.msort``; the
    gradient goes back to where each value came from.

    >>> import gdl
    >>> gdl.msort(gdl.tensor([[3, 1], [2, 4]]))
    tensor([[2, 1],
            [3, 4]], backend='numpy')
    """
    return O.sort(input, 0).values


def fliplr(input: Tensor) -> Tensor:
    """``input`` reversed along dimension 1 (left to right), as ``torch.fliplr``.

    >>> import gdl
    >>> gdl.fliplr(gdl.tensor([[1, 2, 3]]))
    tensor([[3, 2, 1]], backend='numpy')
    """
    if input.ndim < 2:
        raise ValueError(f"fliplr: expects a tensor with at least 2 dimensions, got shape {input.shape}")
    return S.flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """``input`` reversed along dimension 0 (up to down), as ``torch.flipud``.

    >>> import gdl
    >>> gdl.flipud(gdl.tensor([1, 2, 3]))
    tensor([3, 2, 1], backend='numpy')
    """
    if input.ndim < 1:
        raise ValueError("flipud: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return S.flip(input, 0)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (the transpose: gdl is real), as
    ``torch.adjoint``; tensors with fewer than 2 dimensions are refused.

    >>> import gdl
    >>> gdl.zeros(4, 2, 3).adjoint().shape
    (4, 3, 2)
    """
    if input.ndim < 2:
        raise ValueError(f"adjoint: expects a matrix or a batch of matrices, got shape {input.shape}")
    return S.transpose(input, -2, -1)


def argwhere(input: Tensor) -> Tensor:
    """The positions of the nonzero elements, an int64 tensor of shape ``(count, ndim)``, as
    ``torch.argwhere`` (the same as ``nonzero``).

    >>> import gdl
    >>> gdl.argwhere(gdl.tensor([0, 3, 0, 5]))
    tensor([[1],
            [3]], backend='numpy')
    """
    return I.nonzero(input)


def numel(input: Tensor) -> int:
    """The number of elements of ``input`` (a Python int), as ``torch.numel``.

    >>> import gdl
    >>> gdl.numel(gdl.zeros(2, 3))
    6
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"numel: expected a tensor, got {type(input).__name__}")
    return input.numel()


def unravel_index(indices, shape) -> tuple:
    """The coordinates in a tensor of ``shape`` of the flat (row-major) ``indices``, one int64
    tensor per dimension, as ``torch.unravel_index``; negative indices count from the end.
    Unlike torch (which wraps them silently), an index outside ``[-numel, numel)`` is an IndexError.

    >>> import gdl
    >>> gdl.unravel_index(gdl.tensor([4, -1]), (2, 3))
    (tensor([1, 1], backend='numpy'), tensor([1, 2], backend='numpy'))
    """
    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    be = indices._backend
    xp = be.xp
    if not xp.isdtype(indices.data.dtype, "integral"):
        raise TypeError(f"unravel_index: indices must be an integer tensor, got dtype {indices.dtype.name}")
    shape = (shape,) if S._is_int(shape) else tuple(shape)
    if any(not S._is_int(s) or s < 0 for s in shape):
        raise ValueError(f"unravel_index: shape {shape} must hold non-negative ints")
    total = 1
    for s in shape:
        total *= s
    idx = xp.astype(indices.data, xp.int64)
    if indices.numel():
        lo, hi = int(xp.min(idx)), int(xp.max(idx))
        if lo < -total or hi >= total:
            bad = lo if lo < -total else hi
            raise IndexError(f"unravel_index: index {bad} is out of range for shape {shape} ({total} elements)")
    idx = xp.where(idx < 0, idx + total, idx)
    out = []
    for s in reversed(shape):
        out.append(idx % s if s else idx)
        idx = idx // s if s else idx
    return tuple(Tensor._wrap(c, be) for c in reversed(out))


# -- utilities ------------------------------------------------------------------------------------


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a gdl Tensor, as ``torch.is_tensor``.

    >>> import gdl
    >>> gdl.is_tensor(gdl.zeros(1)), gdl.is_tensor([1.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def _need_tensor(op: str, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    return x


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input``'s dtype is a floating one, as ``torch.is_floating_point``.

    >>> import gdl
    >>> gdl.is_floating_point(gdl.zeros(1)), gdl.tensor([1]).is_floating_point()
    (True, False)
    """
    return _need_tensor("is_floating_point", input).dtype.is_floating_point


def is_complex(input: Tensor) -> bool:
    """Whether ``input``'s dtype is complex, as ``torch.is_complex``: always False (gdl has
    no complex dtypes)."""
    _need_tensor("is_complex", input)
    return False


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is nonzero (True), as ``torch.is_nonzero``; any other
    number of elements is a ValueError.

    >>> import gdl
    >>> gdl.is_nonzero(gdl.tensor([0.5])), gdl.is_nonzero(gdl.tensor(0))
    (True, False)
    """
    n = _need_tensor("is_nonzero", input).numel()
    if n != 1:
        what = "no values" if n == 0 else f"{n} values (shape {input.shape})"
        raise ValueError(f"is_nonzero: the truth value of a tensor with {what} is ambiguous")
    return bool(input.item())


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape, as ``torch.is_same_size``."""
    return _need_tensor("is_same_size", input).shape == _need_tensor("is_same_size", other).shape


# dtype promotion: PyTorch's table for gdl's dtypes
_KIND = {"bool": 0, "uint8": 1, "int8": 1, "int16": 1, "int32": 1, "int64": 1, "float16": 2, "float32": 2, "float64": 2}
_BITS = {"bool": 1, "uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64, "float16": 16, "float32": 32,
         "float64": 64}


def _dtype(op: str, d) -> dtypes.DType:
    try:
        return dtypes.as_dtype(d)
    except (KeyError, TypeError, ValueError):
        raise TypeError(f"{op}: {d!r} is not a gdl dtype") from None


def promote_types(type1, type2) -> dtypes.DType:
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing kind or
    range, as ``torch.promote_types``: bool < integers < floats; ``uint8`` with ``int8`` gives ``int16``.

    >>> import gdl
    >>> gdl.promote_types(gdl.int32, gdl.float16), gdl.promote_types(gdl.uint8, gdl.int8)
    (gdl.float16, gdl.int16)
    """
    a, b = _dtype("promote_types", type1), _dtype("promote_types", type2)
    if a == b:
        return a
    ka, kb = _KIND[a.name], _KIND[b.name]
    if ka != kb:
        return a if ka > kb else b
    if "uint8" in (a.name, b.name):  # the other is a signed int: it must also hold 0..255
        other = b if a.name == "uint8" else a
        return dtypes.int16 if other.name == "int8" else other
    return a if _BITS[a.name] >= _BITS[b.name] else b


def _operand_dtype(op: str, x):
    """(priority, dtype): 2 for a tensor with dimensions, 1 for a 0-d one, 0 for a Python number."""
    if isinstance(x, Tensor):
        return (2 if x.ndim else 1), x.dtype
    if isinstance(x, bool):
        return 0, dtypes.bool_
    if isinstance(x, int):
        return 0, dtypes.int64
    if isinstance(x, float):
        return 0, dtypes.get_default_dtype()
    raise TypeError(f"{op}: expected a tensor or a Python number, got {type(x).__name__}")


def result_type(tensor1, tensor2) -> dtypes.DType:
    """The dtype of an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or Python
    numbers), as ``torch.result_type``: a 0-d tensor or a number changes a tensor's dtype
    only when it is of a higher kind (bool < integer < float); a Python float gives the
    default float dtype.

    >>> import gdl
    >>> gdl.result_type(gdl.tensor([1, 2]), 1.0), gdl.result_type(gdl.zeros(2, dtype=gdl.float16), gdl.tensor(1.0))
    (gdl.float32, gdl.float16)
    """
    (pa, a), (pb, b) = _operand_dtype("result_type", tensor1), _operand_dtype("result_type", tensor2)
    if pa == pb:
        return promote_types(a, b)
    (hi, lo) = (a, b) if pa > pb else (b, a)
    if _KIND[lo.name] <= _KIND[hi.name]:
        return hi
    if min(pa, pb) == 0 and _KIND[lo.name] == 2:  # a Python float: the default float dtype
        return dtypes.get_default_dtype()
    return lo


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to become ``to`` (no step down in
    kind: float to integer or to bool, integer to bool), as ``torch.can_cast``.

    >>> import gdl
    >>> gdl.can_cast(gdl.float64, gdl.float16), gdl.can_cast(gdl.float32, gdl.int64)
    (True, False)
    """
    a, b = _dtype("can_cast", from_), _dtype("can_cast", to)
    return _KIND[a.name] <= _KIND[b.name]


def as_tensor(data, dtype=None, device=None, *, backend=None) -> Tensor:
    """``data`` as a tensor without copying where it can, as ``torch.as_tensor``: a Tensor of
    that dtype and backend comes back as it is (a different dtype or backend is a
    differentiable conversion), an array of the backend is wrapped (sharing memory), and
    anything else is copied as by :func:`gdl.tensor`.

    >>> import gdl
    >>> x = gdl.zeros(2)
    >>> gdl.as_tensor(x) is x
    True
    """
    from gdl.functional import elementwise as E
    from gdl.tensor import _backend_of

    if isinstance(data, Tensor):
        out = data
        if backend is not None or device is not None:
            out = S.to_backend(out, _backend_of("as_tensor", backend, device))
        if dtype is not None and out.dtype != dtypes.as_dtype(dtype):
            out = E.astype(out, dtype)
        return out
    be = _backend_of("as_tensor", backend, device)
    if be.is_array(data):
        want = dtypes.backend_dtype(be, dtype)
        return Tensor._wrap(data if want is None or data.dtype == want else be.xp.astype(data, want), be)
    return tensor(data, dtype=dtype, backend=be)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False, backend=None) -> Tensor:
    """``obj`` as a tensor, as ``torch.asarray``: shared with ``obj`` where it can be (a Tensor or
    an array of the backend), ``copy=True`` always copies, ``copy=False`` refuses to copy
    (a ValueError when a copy or conversion is needed); ``requires_grad`` marks a new leaf.

    >>> import gdl
    >>> gdl.asarray([1.0, 2.0], dtype=gdl.float64)
    tensor([1., 2.], backend='numpy', dtype=gdl.float64)
    """
    from gdl.tensor import _backend_of

    if copy:
        out = tensor(obj, dtype=dtype, backend=_backend_of("asarray", backend, device,
                                                           obj if isinstance(obj, Tensor) else None))
        out = out.detach() if isinstance(obj, Tensor) else out
    else:
        shares = isinstance(obj, Tensor) or _backend_of("asarray", backend, device).is_array(obj)
        out = as_tensor(obj, dtype=dtype, device=device, backend=backend)
        same = out is obj or (not isinstance(obj, Tensor) and out.data is obj)
        if copy is False and not (shares and same):
            raise ValueError(
                f"asarray: copy=False, but {type(obj).__name__} cannot become a tensor of the requested "
                f"dtype and backend without a copy"
            )
    if requires_grad:
        if out.grad_fn is not None or out is obj:
            out = out.detach()
        out.requires_grad_(True)
    return out


__all__ = [
    "adjoint",
    "argwhere",
    "as_tensor",
    "asarray",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "can_cast",
    "column_stack",
    "dsplit",
    "dstack",
    "fliplr",
    "flipud",
    "hsplit",
    "is_complex",
    "is_floating_point",
    "is_nonzero",
    "is_same_size",
    "is_tensor",
    "msort",
    "numel",
    "promote_types",
    "ravel",
    "result_type",
    "row_stack",
    "split_with_sizes",
    "unravel_index",
    "vsplit",
]

# Tensor methods (those torch.Tensor has; ``numel``, ``is_floating_point`` and ``is_complex`` are methods already).
TENSOR_METHODS: dict = {
    name: globals()[name]
    for name in (
        "adjoint", "argwhere", "dsplit", "fliplr", "flipud", "hsplit",
        "is_nonzero", "is_same_size", "msort", "ravel", "split_with_sizes", "vsplit",
    )
}
