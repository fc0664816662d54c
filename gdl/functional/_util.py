"""Shared helpers for ops: operand checks and gradient un-broadcasting."""

from __future__ import annotations

from gdl.tensor import Tensor

SCALARS = (int, float, bool)


def check_same_backend(op: str, a: Tensor, b: Tensor) -> None:
    if a._backend is not b._backend:
        raise ValueError(
            f"{op}: tensors are on different backends ({a.backend!r} and {b.backend!r}); "
            f"move one first, e.g. other.to({a.backend!r})"
        )


def as_operand(op: str, other, like: Tensor):
    """``other`` as a Tensor on ``like``'s backend, or a Python scalar unchanged."""
    if isinstance(other, Tensor):
        if other._backend is not like._backend:
            check_same_backend(op, like, other)
        return other
    if isinstance(other, SCALARS):
        return other
    be = like._backend
    if be.is_array(other):
        return Tensor._wrap(other, be)
    from gdl.backends import host

    if host.is_host_array(other) or isinstance(other, (list, tuple)):
        if be.name != "numpy" and not isinstance(other, (list, tuple)):
            raise TypeError(
                f"{op}: cannot combine a NumPy array with a {be.name!r} tensor; "
                f"convert it with gdl.tensor(array, backend={be.name!r})"
            )
        from gdl.tensor import tensor

        return tensor(other, dtype=None if not isinstance(other, (list, tuple)) else like.dtype, backend=be)
    raise TypeError(f"{op}: unsupported operand of type {type(other).__name__}")


def shape_error(op: str, *shapes) -> ValueError:
    joined = " and ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"{op}: incompatible shapes {joined}")


def unbroadcast(xp, grad, shape):
    """Sum ``grad`` down to ``shape`` (the inverse of broadcasting)."""
    gshape = grad.shape
    if tuple(gshape) == tuple(shape):
        return grad
    extra = len(gshape) - len(shape)
    if extra > 0:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    if axes:
        grad = xp.sum(grad, axis=axes, keepdims=True)
    return grad


def normalize_axes(axis, ndim: int, op: str = "reduce") -> tuple:
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    axes = tuple(sorted(check_axis(a, ndim, op) for a in axis))
    return axes if ndim else ()  # a 0-d tensor's axis 0 / -1 (PyTorch allows them) reduces nothing


def check_axis(axis: int, ndim: int, op: str) -> int:
    """``axis`` as a non-negative int, or a ValueError naming ``op`` and the rank."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim if ndim else 0


def expand_reduced(xp, grad, shape, axes, keepdims):
    """Broadcast a reduction's gradient back to the input ``shape``."""
    if not keepdims:
        full = list(shape)
        for a in axes:
            full[a] = 1
        grad = xp.reshape(grad, tuple(full))
    return xp.broadcast_to(grad, tuple(shape))


# -- PyTorch's spellings: ``dim=``/``keepdim=`` beside the Array API's ``axis=``/``keepdims=`` --


class DefaultAxis(int):
    """An int default for an axis (``LAST`` = -1, ``FIRST`` = 0) that ``dim=`` can tell
    apart from the same value passed explicitly (``axis=-1, dim=0`` is an error)."""


LAST = DefaultAxis(-1)
FIRST = DefaultAxis(0)


def dim_alias(op: str, axis, dim, unset=None):
    """``dim`` (PyTorch's name) for ``axis``, or a TypeError naming both when both were given.

    Call it only when ``dim is not None`` so that ops pay one comparison otherwise;
    ``unset`` is the op's default for ``axis`` (None, ``LAST`` or ``FIRST``).
    """
    if axis is not unset:
        raise TypeError(
            f"{op}: got both axis={axis!r} and dim={dim!r}; they are the same argument "
            f"(axis is the Array API's name, dim PyTorch's), pass only one"
        )
    return dim


def axis_alias(op: str, dim, axis, unset=None):
    """``axis`` for an op whose own name is ``dim`` (``sort``, ``topk``): the mirror of
    :func:`dim_alias`, called only when ``axis is not None``."""
    if dim is not unset:
        raise TypeError(
            f"{op}: got both dim={dim!r} and axis={axis!r}; they are the same argument "
            f"(axis is the Array API's name, dim PyTorch's), pass only one"
        )
    return axis


def keepdim_alias(op: str, keepdims, keepdim):
    """``keepdim`` (PyTorch's name) for ``keepdims``; a TypeError naming both when ``keepdims``
    was also set to True (call it only when ``keepdim is not None``)."""
    if keepdims:
        raise TypeError(
            f"{op}: got both keepdims={keepdims!r} and keepdim={keepdim!r}; they are the same "
            f"argument (keepdims is the Array API's name, keepdim PyTorch's), pass only one"
        )
    return bool(keepdim)
