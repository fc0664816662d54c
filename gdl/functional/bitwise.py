"""Bitwise ops on bool and integer tensors, as PyTorch: ``bitwise_and``/``or``/``xor``/``not``,
``bitwise_left_shift``/``bitwise_right_shift``, the operators ``&``, ``|``, ``^``, ``<<``,
``>>`` (reflected and in place: ``x &= y``) and the in-place methods (``x.bitwise_and_(y)``).

Dtypes follow PyTorch: two bool tensors give bool; a bool tensor beside an integer one (or a
Python int) counts as integers; integer tensors promote as in the Array API (``uint8`` with
``int8`` gives ``int16``); a Python int takes the tensor's dtype, wrapping around as a C cast
does. Floating tensors and Python floats are refused with a TypeError naming the op (PyTorch
raises NotImplementedError). Shifts by a negative amount or by at least the bit width give 0
(left) or the sign (right), as PyTorch does; the Array API leaves those undefined. The
results are integers, so nothing here records a gradient.

>>> import gdl
>>> gdl.tensor([12, 10]) & 6
tensor([4, 2], backend='numpy')
>>> gdl.tensor([True, False]) ^ gdl.tensor([True, True])
tensor([False,  True], backend='numpy')
>>> 1 << gdl.tensor([0, 3])
tensor([1, 8], backend='numpy')
"""

from __future__ import annotations

from gdl import dtypes
from gdl.functional._util import check_same_backend
from gdl.functional.inplace import _apply
from gdl.tensor import Tensor


def _is_int_scalar(v) -> bool:
    return isinstance(v, (bool, int))


def _check_operand(op: str, v) -> None:
    if isinstance(v, Tensor):
        if dtypes.is_floating(v.data.dtype):
            raise TypeError(f"{op}: not defined for floating tensors ({v.dtype.name}); use bool or integer tensors")
    elif isinstance(v, float):
        raise TypeError(f"{op}: not defined for a float operand ({v!r}); use a bool or an int")
    elif not _is_int_scalar(v):
        raise TypeError(f"{op}: expected a Tensor, a bool or an int, got {type(v).__name__}")


def _result_dtype(xp, a, b):
    """PyTorch's result dtype of a bitwise op (``a``, ``b``: Tensors or Python bools/ints)."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a.data.dtype, b.data.dtype
        if da == xp.bool:
            return db
        if db == xp.bool:
            return da
        # as PyTorch (and gdl's arithmetic): a 0-d tensor takes the dtype of one with dimensions
        a0, b0 = a.data.ndim == 0, b.data.ndim == 0
        if a0 != b0:
            return db if a0 else da
        return xp.result_type(da, db)
    t, s = (a, b) if ta else (b, a)
    if t.data.dtype == xp.bool and not isinstance(s, bool):
        return xp.int64
    return t.data.dtype


def _wrapped(xp, value: int, dtype) -> int:
    """A Python int cast to an integer ``dtype`` as C does (two's complement wrap-around)."""
    info = xp.iinfo(dtype)
    span = info.max - info.min + 1
    return (int(value) - info.min) % span + info.min


def _as_array(xp, be, v, dtype):
    if isinstance(v, Tensor):
        return v.data if v.data.dtype == dtype else xp.astype(v.data, dtype)
    if dtype != xp.bool:
        v = _wrapped(xp, v, dtype)
    return xp.asarray(v, dtype=dtype, device=be.device)


def _operands(op: str, a, b):
    """``a``, ``b`` checked, as arrays of the result dtype, and the backend."""
    _check_operand(op, a)
    _check_operand(op, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        check_same_backend(op, a, b)
    be = (a if isinstance(a, Tensor) else b)._backend
    xp = be.xp
    dtype = _result_dtype(xp, a, b)
    return xp, be, _as_array(xp, be, a, dtype), _as_array(xp, be, b, dtype)


def _logic(op: str, xp_name: str):
    def fn(input, other) -> Tensor:
        xp, be, a, b = _operands(op, input, other)
        return Tensor._wrap(getattr(xp, xp_name)(a, b), be)

    fn.__name__ = fn.__qualname__ = op
    return fn


bitwise_and = _logic("bitwise_and", "bitwise_and")
bitwise_and.__doc__ = "Elementwise AND of bool/integer tensors or Python ints (``input & other``)."
bitwise_or = _logic("bitwise_or", "bitwise_or")
bitwise_or.__doc__ = "Elementwise OR of bool/integer tensors or Python ints (``input | other``)."
bitwise_xor = _logic("bitwise_xor", "bitwise_xor")
bitwise_xor.__doc__ = "Elementwise XOR of bool/integer tensors or Python ints (``input ^ other``)."


def bitwise_not(input: Tensor) -> Tensor:
    """``~input``: logical NOT of a bool tensor, bitwise NOT (``-x - 1``) of an integer one."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not: expected a Tensor, got {type(input).__name__}")
    _check_operand("bitwise_not", input)
    be = input._backend
    return Tensor._wrap(be.xp.bitwise_invert(input.data), be)


def _shift(op: str, input, other, left: bool) -> Tensor:
    xp, be, a, s = _operands(op, input, other)
    if a.dtype == xp.bool:
        raise TypeError(f"{op}: not defined for two bool operands; convert one to an integer dtype")
    bits = xp.iinfo(a.dtype).bits
    bad = (s < 0) | (s >= bits)
    safe = xp.where(bad, xp.zeros_like(s), s)
    if left:
        out = xp.bitwise_left_shift(a, safe)
        return Tensor._wrap(xp.where(bad, xp.zeros_like(out), out), be)
    out = xp.bitwise_right_shift(a, safe)
    sign = xp.where(a < 0, xp.full_like(out, -1) if xp.iinfo(a.dtype).min < 0 else out, xp.zeros_like(out))
    return Tensor._wrap(xp.where(bad, sign, out), be)


def bitwise_left_shift(input, other) -> Tensor:
    """``input << other``: shifted left by ``other`` bits (0 where ``other`` is negative or at
    least the bit width, as PyTorch)."""
    return _shift("bitwise_left_shift", input, other, True)


def bitwise_right_shift(input, other) -> Tensor:
    """``input >> other``: arithmetic shift right by ``other`` bits (the sign, 0 or -1, where
    ``other`` is negative or at least the bit width, as PyTorch)."""
    return _shift("bitwise_right_shift", input, other, False)


def _in_place(name: str, fn):
    op = name + "_"

    def method(self: Tensor, *args) -> Tensor:
        _check_operand(op, self)
        return _apply(op, self, lambda: fn(self, *args), *args)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"``{name}`` in place; returns ``self`` (a bool tensor refuses an integer result)."
    return method


def _swap(fn):
    return lambda self, other: fn(other, self)


_FUNCTIONS = {
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
    "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift,
}
_INPLACE = {name + "_": _in_place(name, fn) for name, fn in _FUNCTIONS.items()}

__all__ = sorted(_FUNCTIONS)

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {
    **_FUNCTIONS, **_INPLACE,
    "__and__": bitwise_and, "__rand__": _swap(bitwise_and), "__iand__": _INPLACE["bitwise_and_"],
    "__or__": bitwise_or, "__ror__": _swap(bitwise_or), "__ior__": _INPLACE["bitwise_or_"],
    "__xor__": bitwise_xor, "__rxor__": _swap(bitwise_xor), "__ixor__": _INPLACE["bitwise_xor_"],
    "__lshift__": bitwise_left_shift, "__rlshift__": _swap(bitwise_left_shift),
    "__ilshift__": _INPLACE["bitwise_left_shift_"],
    "__rshift__": bitwise_right_shift, "__rrshift__": _swap(bitwise_right_shift),
    "__irshift__": _INPLACE["bitwise_right_shift_"],
}
