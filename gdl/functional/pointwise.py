"""Elementwise math beyond arithmetic: trigonometry, rounding, logs and exponentials, tests for NaN/inf, logical ops, and comparisons with tolerance.

PyTorch's names, arguments and dtypes: a float-valued op (``sin``, ``log1p``,
``reciprocal``, ...) turns an integer or bool tensor into the default float dtype
(float32, not NumPy's float64); ``floor``, ``ceil``, ``round``, ``trunc``, ``sign``
and ``square`` keep an integer dtype. Each backward is written beside its forward,
with the formula in the docstring (``g`` is the incoming gradient).

>>> import gdl
>>> x = gdl.tensor([0.0, 0.5, 1.0], requires_grad=True)
>>> y = gdl.sin(x) + x.log1p()
>>> y.sum().backward()
>>> x.grad
tensor([2.       , 1.5442493, 1.0403023], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_same_backend, unbroadcast
from gdl.functional.elementwise import (
    _as_float,
    _binary,
    _float_with_scalar,
    _graph,
    _inputs,
    _pack,
    clip,
    exp,
    sqrt,
    where,
)
from gdl.higher_order import unbroadcast as _unb
from gdl.tensor import Tensor, result

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _check(op: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _float_unary(op, name, x, forward, backward, graph=None):
    """``forward(xp, data)`` on ``x`` as a floating tensor (integers become the default float);
    ``backward(xp, g, data, out)`` is the input's gradient; ``graph(x, g)``, the same on
    Tensors (:mod:`gdl.higher_order`), or None for an op without one."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    x = _as_float(x)
    be = x._backend
    xp = be.xp
    data = x.data
    out = forward(xp, data)
    return result(out, be, (x,), lambda g: (backward(xp, g, data, out),), name,
                  None if graph is None else lambda g: (graph(x, g),))


def _tan_graph(x, g):
    y = tan(x)
    return g * (1.0 + y * y)


def _zero_graph(g):
    """The zero gradient of a piecewise-constant op, as a constant Tensor."""
    return (Tensor._wrap(g._backend.xp.zeros_like(g.data), g._backend),)


def _is_bool(x: Tensor) -> bool:
    return x.data.dtype == x._backend.xp.bool


# -- trigonometric and hyperbolic ---------------------------------------------------------


def sin(input: Tensor) -> Tensor:
    """Sine; backward ``g·cos(x)``.

    >>> import gdl
    >>> gdl.sin(gdl.tensor([0.0, 1.5707964]))
    tensor([0., 1.], backend='numpy')
    """
    return _float_unary("sin", "Sin", input, lambda xp, x: xp.sin(x), lambda xp, g, x, y: g * xp.cos(x),
                        lambda x, g: g * cos(x))


def cos(input: Tensor) -> Tensor:
    """Cosine; backward ``-g·sin(x)``.

    >>> import gdl
    >>> gdl.cos(gdl.tensor([0, 1]))  # an integer tensor gives float32, as PyTorch
    tensor([1.       , 0.5403023], backend='numpy')
    """
    return _float_unary("cos", "Cos", input, lambda xp, x: xp.cos(x), lambda xp, g, x, y: -g * xp.sin(x),
                        lambda x, g: -g * sin(x))


def tan(input: Tensor) -> Tensor:
    """Tangent; backward ``g·(1 + tan²(x))``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("tan", "Tan", input, lambda xp, x: xp.tan(x), lambda xp, g, x, y: g * (1.0 + y * y),
                        _tan_graph)


def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine; backward ``g·cosh(x)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("sinh", "Sinh", input, lambda xp, x: xp.sinh(x), lambda xp, g, x, y: g * xp.cosh(x),
                        lambda x, g: g * cosh(x))


def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine; backward ``g·sinh(x)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("cosh", "Cosh", input, lambda xp, x: xp.cosh(x), lambda xp, g, x, y: g * xp.sinh(x),
                        lambda x, g: g * sinh(x))


def asin(input: Tensor) -> Tensor:
    """Inverse sine (NaN outside [-1, 1]); backward ``g / sqrt(1 - x²)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("asin", "Asin", input, lambda xp, x: xp.asin(x),
                        lambda xp, g, x, y: g / xp.sqrt(1.0 - x * x),
                        lambda x, g: g / sqrt(1.0 - x * x))


def acos(input: Tensor) -> Tensor:
    """Inverse cosine (NaN outside [-1, 1]); backward ``-g / sqrt(1 - x²)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("acos", "Acos", input, lambda xp, x: xp.acos(x),
                        lambda xp, g, x, y: -g / xp.sqrt(1.0 - x * x),
                        lambda x, g: -g / sqrt(1.0 - x * x))


def atan(input: Tensor) -> Tensor:
    """Inverse tangent; backward ``g / (1 + x²)``."""
    return _float_unary("atan", "Atan", input, lambda xp, x: xp.atan(x), lambda xp, g, x, y: g / (1.0 + x * x),
                        lambda x, g: g / (1.0 + x * x))


def asinh(input: Tensor) -> Tensor:
    """Inverse hyperbolic sine; backward ``g / sqrt(x² + 1)``."""
    return _float_unary("asinh", "Asinh", input, lambda xp, x: xp.asinh(x),
                        lambda xp, g, x, y: g / xp.sqrt(x * x + 1.0),
                        lambda x, g: g / sqrt(x * x + 1.0))


def acosh(input: Tensor) -> Tensor:
    """Inverse hyperbolic cosine (NaN below 1); backward ``g / sqrt(x² - 1)``."""
    return _float_unary("acosh", "Acosh", input, lambda xp, x: xp.acosh(x),
                        lambda xp, g, x, y: g / xp.sqrt(x * x - 1.0),
                        lambda x, g: g / sqrt(x * x - 1.0))


def atanh(input: Tensor) -> Tensor:
    """Inverse hyperbolic tangent (±inf at ±1); backward ``g / (1 - x²)``."""
    return _float_unary("atanh", "Atanh", input, lambda xp, x: xp.atanh(x),
                        lambda xp, g, x, y: g / (1.0 - x * x),
                        lambda x, g: g / (1.0 - x * x))


def atan2(input, other) -> Tensor:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right
    quadrant, in ``[-π, π]``. ``other`` may be a tensor or a number (PyTorch wants a tensor).
    Backward: ``g·other / r²`` for ``input``, ``-g·input / r²`` for ``other`` (``r² = input² + other²``).

    >>> import gdl
    >>> gdl.atan2(gdl.tensor([1.0, 1.0, -1.0]), gdl.tensor([1.0, -1.0, -1.0]))
    tensor([ 0.7853981,  2.3561945, -2.3561945], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("atan2", input, other, floating=True)
    xp = be.xp
    out = _run("atan2", xp.atan2, xa, xb)

    def recip():  # 1 / r², 0 at the origin (as PyTorch: the gradient there is 0, not NaN)
        r2 = xa * xa + xb * xb
        return xp.where(r2 == 0, xp.zeros_like(r2), 1.0 / r2)

    a, b = _tensor_pair(ta, tb, xa, xb, be)

    def graph_recip():
        origin = (xa * xa + xb * xb) == 0
        return origin, where(origin, 1.0, a * a + b * b)

    def graph_a(g):
        origin, r2 = graph_recip()
        return where(origin, 0.0, g * b / r2)

    def graph_b(g):
        origin, r2 = graph_recip()
        return where(origin, 0.0, -g * a / r2)

    return _binary_result("Atan2", out, be, ta, tb, xa, xb,
                          lambda g: g * xb * recip(), lambda g: -g * xa * recip(), graph_a, graph_b)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2


# -- rounding (zero gradient, as PyTorch) -----------------------------------------------


def _rounding(op, name, x, fn):
    _check(op, x)
    if _is_bool(x):
        raise TypeError(f"{op}: not defined for bool tensors (PyTorch refuses them too); convert with .long() first")
    be = x._backend
    if not dtypes.is_floating(x.data.dtype):
        return Tensor._wrap(be.xp.asarray(x.data, copy=True), be)  # integers are already whole
    xp = be.xp
    return result(fn(xp, x.data), be, (x,), lambda g: (xp.zeros_like(g),), name, _zero_graph)


def floor(input: Tensor) -> Tensor:
    """The largest whole number ``<= x``; an integer tensor keeps its dtype. Gradient 0.

    >>> import gdl
    >>> gdl.floor(gdl.tensor([-1.5, 0.5, 2.0]))
    tensor([-2.,  0.,  2.], backend='numpy')
    """
    return _rounding("floor", "Floor", input, lambda xp, x: xp.floor(x))


def ceil(input: Tensor) -> Tensor:
    """The smallest whole number ``>= x``; an integer tensor keeps its dtype. Gradient 0."""
    return _rounding("ceil", "Ceil", input, lambda xp, x: xp.ceil(x))


def trunc(input: Tensor) -> Tensor:
    """``x`` rounded toward zero; an integer tensor keeps its dtype. Gradient 0."""
    return _rounding("trunc", "Trunc", input, lambda xp, x: xp.trunc(x))


fix = trunc  # PyTorch's other name


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """``x`` rounded to ``decimals`` decimal places, halves to even (``round(2.5) == 2``),
    as ``torch.round``: ``round(x·10^d) / 10^d`` (``round(x / 10^-d)·10^-d`` for ``d < 0``),
    so ``0.125`` to 2 places is ``0.12``. Gradient 0. An integer tensor keeps its dtype
    (``decimals`` must then be 0, as PyTorch).

    >>> import gdl
    >>> gdl.round(gdl.tensor([0.5, 1.5, 2.5, -0.5]))
    tensor([ 0.,  2.,  2., -0.], backend='numpy')
    >>> gdl.tensor([1.2345, 15.0]).round(decimals=2)
    tensor([ 1.23, 15.  ], backend='numpy')
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if decimals == 0:
        return _rounding("round", "Round", input, lambda xp, x: xp.round(x))
    _check("round", input)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(f"round: decimals={decimals} needs a floating tensor, got {input.dtype.name} (as PyTorch)")
    scale = 10.0 ** abs(decimals)
    if decimals > 0:
        return _rounding("round", "Round", input, lambda xp, x: xp.round(x * scale) / scale)
    return _rounding("round", "Round", input, lambda xp, x: xp.round(x / scale) * scale)


def frac(input: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (sign of ``x``); backward ``g``.
    Floating tensors only, as PyTorch."""
    _check("frac", input)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(f"frac: expects a floating tensor, got {input.dtype.name} (as PyTorch)")
    xp = input._backend.xp
    data = input.data
    return result(data - xp.trunc(data), input._backend, (input,), lambda g: (g,), "Frac", lambda g: (g,))


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of ``x``; 0 for NaN, as PyTorch (the Array API gives NaN).
    Keeps the dtype (a bool tensor stays bool). Gradient 0.

    >>> import gdl
    >>> gdl.sign(gdl.tensor([-2.0, 0.0, 3.0, float("nan")]))
    tensor([-1.,  0.,  1.,  0.], backend='numpy')
    """
    _check("sign", input)
    be = input._backend
    xp = be.xp
    data = input.data
    if _is_bool(input):
        return Tensor._wrap(xp.asarray(data, copy=True), be)
    out = xp.sign(data)
    if dtypes.is_floating(data.dtype):
        out = xp.where(xp.isnan(data), xp.zeros_like(out), out)
    return result(out, be, (input,), lambda g: (xp.zeros_like(g),), "Sign", _zero_graph)


# -- logs, exponentials, powers ---------------------------------------------------------


def log1p(input: Tensor) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``; backward ``g / (1 + x)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("log1p", "Log1p", input, lambda xp, x: xp.log1p(x), lambda xp, g, x, y: g / (1.0 + x),
                        lambda x, g: g / (1.0 + x))


def expm1(input: Tensor) -> Tensor:
    """``exp(x) - 1``, accurate for small ``x``; backward ``g·(out + 1)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("expm1", "Expm1", input, lambda xp, x: xp.expm1(x), lambda xp, g, x, y: g * (y + 1.0),
                        lambda x, g: g * exp(x))


def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm; backward ``g / (x·ln 2)``.

    >>> import gdl
    >>> gdl.log2(gdl.tensor([1, 8]))
    tensor([0., 3.], backend='numpy')
    """
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("log2", "Log2", input, lambda xp, x: xp.log2(x), lambda xp, g, x, y: g / (x * _LN2),
                        lambda x, g: g / (x * _LN2))


def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm; backward ``g / (x·ln 10)``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("log10", "Log10", input, lambda xp, x: xp.log10(x), lambda xp, g, x, y: g / (x * _LN10),
                        lambda x, g: g / (x * _LN10))


def exp2(input: Tensor) -> Tensor:
    """``2 ** x``; backward ``g·out·ln 2``."""
    return _float_unary("exp2", "Exp2", input, lambda xp, x: 2.0**x, lambda xp, g, x, y: g * y * _LN2,
                        lambda x, g: g * exp2(x) * _LN2)


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(x)``; backward ``-g·out³ / 2``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("rsqrt", "Rsqrt", input, lambda xp, x: 1.0 / xp.sqrt(x),
                        lambda xp, g, x, y: -0.5 * g * y * y * y,
                        lambda x, g: -0.5 * g * rsqrt(x) / x)


def reciprocal(input: Tensor) -> Tensor:
    """``1 / x`` (an integer tensor gives the default float); backward ``-g·out²``."""
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary("reciprocal", "Reciprocal", input, lambda xp, x: 1.0 / x, lambda xp, g, x, y: -g * y * y,
                        lambda x, g: -g / (x * x))


def square(input: Tensor) -> Tensor:
    """``x * x``; an integer tensor keeps its dtype, a bool one gives int64 (as PyTorch).
    Backward ``2·g·x``.

    >>> import gdl
    >>> gdl.tensor([-3, 2]).square()
    tensor([9, 4], backend='numpy')
    """
    _check("square", input)
    be = input._backend
    if _is_bool(input):
        input = Tensor._wrap(be.xp.astype(input.data, be.xp.int64), be)
    data = input.data
    return result(data * data, be, (input,), lambda g: (2.0 * g * data,), "Square", lambda g: (2.0 * g * input,))


def logit(input: Tensor, eps=None) -> Tensor:
    """``log(x / (1 - x))``, the inverse of ``sigmoid``. With ``eps``, ``x`` is first clamped
    to ``[eps, 1 - eps]``. Backward ``g / (x·(1 - x))``: 0 where ``eps`` clamped, NaN
    outside ``[0, 1]`` without ``eps`` (as PyTorch).

    >>> import gdl
    >>> gdl.logit(gdl.tensor([0.5, 0.75]))
    tensor([0.       , 1.0986123], backend='numpy')
    """
    _check("logit", input)
    if eps is not None and (isinstance(eps, bool) or not isinstance(eps, (int, float))):
        raise TypeError(f"logit: eps must be a number or None, got {type(eps).__name__}")
    x = _as_float(input)
    be = x._backend
    xp = be.xp
    data = x.data
    if eps is None:
        out = xp.log(data / (1.0 - data))

        def backward(g):
            d = g / (data * (1.0 - data))
            return (xp.where((data < 0.0) | (data > 1.0), xp.full_like(d, math.nan), d),)

        def graph(g):
            return (where((data < 0.0) | (data > 1.0), math.nan, g / (x * (1.0 - x))),)
    else:
        lo, hi = float(eps), 1.0 - float(eps)
        z = xp.clip(data, lo, hi)
        out = xp.log(z / (1.0 - z))

        def backward(g):
            d = g / (data * (1.0 - data))
            return (xp.where((data < lo) | (data > hi), xp.zeros_like(d), d),)

        def graph(g):
            return (where((data < lo) | (data > hi), 0.0, g / (x * (1.0 - x))),)

    return result(out, be, (x,), backward, "Logit", graph)


# -- NaN and infinity ------------------------------------------------------------------


def _predicate(op, fn, for_integers):
    def predicate(input: Tensor) -> Tensor:
        _check(op, input)
        be = input._backend
        xp = be.xp
        data = input.data
        if not dtypes.is_floating(data.dtype):  # integers and bools: finite, never NaN
            return Tensor._wrap(xp.full(data.shape, for_integers, dtype=xp.bool, device=be.device), be)
        return Tensor._wrap(fn(xp, data), be)

    predicate.__name__ = predicate.__qualname__ = op
    return predicate


isnan = _predicate("isnan", lambda xp, x: xp.isnan(x), False)
isnan.__doc__ = """Where ``x`` is NaN; a bool tensor without gradient.

    >>> import gdl
    >>> gdl.isnan(gdl.tensor([1.0, float("nan"), float("inf")]))
    tensor([False,  True, False], backend='numpy')
    """
isinf = _predicate("isinf", lambda xp, x: xp.isinf(x), False)
isinf.__doc__ = "Where ``x`` is +inf or -inf; a bool tensor without gradient."
isfinite = _predicate("isfinite", lambda xp, x: xp.isfinite(x), True)
isfinite.__doc__ = "Where ``x`` is neither NaN nor infinite; a bool tensor without gradient."
isposinf = _predicate("isposinf", lambda xp, x: xp.isinf(x) & (x > 0), False)
isposinf.__doc__ = "Where ``x`` is +inf; a bool tensor without gradient."
isneginf = _predicate("isneginf", lambda xp, x: xp.isinf(x) & (x < 0), False)
isneginf.__doc__ = "Where ``x`` is -inf; a bool tensor without gradient."


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """``x`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf``
    (by default the largest and the lowest finite value of the dtype). Integer tensors
    come back unchanged. Backward: ``g`` where ``x`` is finite, 0 where a value was replaced.

    >>> import gdl
    >>> gdl.nan_to_num(gdl.tensor([float("nan"), 1.0, float("-inf")]), neginf=-9.0)
    tensor([ 0.,  1., -9.], backend='numpy')
    """
    _check("nan_to_num", input)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(f"nan_to_num: {name} must be a number, got {type(value).__name__}")
    be = input._backend
    xp = be.xp
    data = input.data
    if not dtypes.is_floating(data.dtype):
        return Tensor._wrap(xp.asarray(data, copy=True), be)
    info = xp.finfo(data.dtype)
    dt = data.dtype

    def const(v):
        return xp.asarray(v, dtype=dt, device=be.device)

    out = xp.where(xp.isnan(data), const(float(nan) if nan is not None else 0.0), data)
    out = xp.where(xp.isinf(data) & (data > 0), const(float(info.max) if posinf is None else float(posinf)), out)
    out = xp.where(xp.isinf(data) & (data < 0), const(float(info.min) if neginf is None else float(neginf)), out)
    return result(out, be, (input,), lambda g: (xp.where(xp.isfinite(data), g, xp.zeros_like(g)),), "NanToNum",
                  lambda g: (where(xp.isfinite(data), g, 0.0),))


# -- logical ops (bool results, no gradient) ------------------------------------------


def _truth(xp, x):
    """A bool array of the truth values of ``x`` (non-zero is True, NaN too)."""
    return x if x.dtype == xp.bool else x != 0


def _logical(op, fn):
    def logical(input: Tensor, other) -> Tensor:
        _check(op, input)
        ta, tb, xa, xb = _binary(op, input, other)
        be = ta._backend
        xp = be.xp
        if tb is None:  # a number
            xb = xp.asarray(bool(xb), dtype=xp.bool, device=be.device)
        return Tensor._wrap(_run(op, lambda a, b: fn(xp, _truth(xp, a), _truth(xp, b)), xa, xb), be)

    logical.__name__ = logical.__qualname__ = op
    return logical


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_and.__doc__ = """Elementwise AND of the truth values (non-zero is True); a bool tensor.

    >>> import gdl
    >>> gdl.logical_and(gdl.tensor([0, 1, 2]), gdl.tensor([True, True, False]))
    tensor([False,  True, False], backend='numpy')
    """
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_or.__doc__ = "Elementwise OR of the truth values (non-zero is True); a bool tensor."
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))
logical_xor.__doc__ = "Elementwise XOR of the truth values (non-zero is True); a bool tensor."


def logical_not(input: Tensor) -> Tensor:
    """Elementwise NOT of the truth values (zero is True, NaN is False); a bool tensor."""
    _check("logical_not", input)
    be = input._backend
    xp = be.xp
    return Tensor._wrap(xp.logical_not(_truth(xp, input.data)), be)


# -- binary math -----------------------------------------------------------------------


def _operands(op, a, b, floating):
    """Both operands of a binary op as arrays of one dtype family, by PyTorch's promotion
    (see ``elementwise._promote``); a number becomes a 0-d array of the tensor's dtype.
    ``floating``: integer and bool tensors become the default float dtype. Otherwise a bool
    tensor is taken as int64 (the integer ops are not defined on bools)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    a, b = _float_with_scalar(a, b)
    ta, tb, xa, xb = _binary(op, a, b)
    t = ta if ta is not None else tb
    be = t._backend
    xp = be.xp
    if not dtypes.is_floating(t.data.dtype):
        if floating:
            ta = _as_float(ta) if ta is not None else None
            tb = _as_float(tb) if tb is not None else None
        elif t.data.dtype == xp.bool:
            ta = Tensor._wrap(xp.astype(ta.data, xp.int64), be) if ta is not None else None
            tb = Tensor._wrap(xp.astype(tb.data, xp.int64), be) if tb is not None else None
        t = ta if ta is not None else tb
        xa = ta.data if ta is not None else xa
        xb = tb.data if tb is not None else xb
    if ta is None:
        xa = xp.asarray(xa, dtype=t.data.dtype, device=be.device)
    elif tb is None:
        xb = xp.asarray(xb, dtype=t.data.dtype, device=be.device)
    return ta, tb, xa, xb, be


def _binary_result(name, out, be, ta, tb, xa, xb, grad_a, grad_b, graph_a=None, graph_b=None):
    """Record a binary op: ``grad_a(g)`` / ``grad_b(g)`` are the full-shape gradients,
    summed back to each input's shape; ``graph_a``/``graph_b`` the same on Tensors
    (:mod:`gdl.higher_order`; both None: the op has no graph backward)."""
    xp = be.xp

    def backward(g):
        ga = unbroadcast(xp, grad_a(g), xa.shape) if ta is not None else None
        gb = unbroadcast(xp, grad_b(g), xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    graph = None if graph_a is None else _graph(ta, tb, graph_a, graph_b)
    return result(out, be, _inputs(ta, tb), backward, name, graph)


def _tensor_pair(ta, tb, xa, xb, be):
    """Both operands as Tensors: a number operand (a 0-d array here) as a constant Tensor."""
    return (ta if ta is not None else Tensor._wrap(xa, be)), (tb if tb is not None else Tensor._wrap(xb, be))


def _run(op, fn, xa, xb):
    try:
        return fn(xa, xb)
    except (ValueError, TypeError) as exc:
        if "broadcast" in str(exc) or "shape" in str(exc):
            raise ValueError(f"{op}: incompatible shapes {tuple(xa.shape)} and {tuple(xb.shape)}") from None
        raise TypeError(f"{op}: {exc}") from None


def _no_zero_divisor(op, xp, xb):
    if not dtypes.is_floating(xb.dtype) and bool(xp.any(xb == 0)):
        raise ZeroDivisionError(f"{op}: integer division by zero")


def logaddexp(input, other) -> Tensor:
    """``log(exp(a) + exp(b))`` without overflow; backward ``g / (1 + exp(b - a))`` for ``a``
    and ``g / (1 + exp(a - b))`` for ``b``.

    >>> import gdl
    >>> gdl.logaddexp(gdl.tensor([0.0, 1000.0]), gdl.tensor([0.0, 1000.0]))  # exp(1000) overflows
    tensor([6.9314718e-01, 1.0006932e+03], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("logaddexp", input, other, floating=True)
    xp = be.xp
    out = _run("logaddexp", xp.logaddexp, xa, xb)
    a, b = _tensor_pair(ta, tb, xa, xb, be)
    return _binary_result("Logaddexp", out, be, ta, tb, xa, xb,
                          lambda g: g / (1.0 + xp.exp(xb - xa)), lambda g: g / (1.0 + xp.exp(xa - xb)),
                          lambda g: g / (1.0 + exp(b - a)), lambda g: g / (1.0 + exp(a - b)))


def hypot(input, other) -> Tensor:
    """``sqrt(a² + b²)`` without overflow; backward ``g·a / out`` and ``g·b / out``.

    >>> import gdl
    >>> gdl.hypot(gdl.tensor([3.0, 5.0]), gdl.tensor([4.0, 12.0]))
    tensor([ 5., 13.], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("hypot", input, other, floating=True)
    out = _run("hypot", be.xp.hypot, xa, xb)
    a, b = _tensor_pair(ta, tb, xa, xb, be)
    return _binary_result("Hypot", out, be, ta, tb, xa, xb, lambda g: g * xa / out, lambda g: g * xb / out,
                          lambda g: g * a / hypot(a, b), lambda g: g * b / hypot(a, b))


def _remainder(be, a, b):
    """Python's ``a % b`` (the sign of ``b``). For floats, PyTorch's and NumPy's algorithm on the
    backend's exact ``fmod``: ``m = fmod(a, b)``, plus ``b`` where ``m`` and ``b`` differ in sign
    (CuPy's own ``remainder``, ``a - b·floor(a / b)``, loses ``a`` when ``|b|`` is huge or infinite)."""
    xp = be.xp
    if not (dtypes.is_floating(a.dtype) or dtypes.is_floating(b.dtype)):
        return xp.remainder(a, b)
    m = be.fmod(a, b)
    return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


def _floor_divide(be, a, b):
    """Python's ``a // b``; for floats PyTorch's ``div_floor``: ``(a - fmod(a, b)) / b``, one less
    where the remainder and ``b`` differ in sign, rounded to the nearest integer, and ``a / b``
    for a zero ``b``."""
    xp = be.xp
    if not (dtypes.is_floating(a.dtype) or dtypes.is_floating(b.dtype)):
        return xp.floor_divide(a, b)
    m = be.fmod(a, b)
    div = (a - m) / b
    div = xp.where((m != 0) & ((b < 0) != (m < 0)), div - 1.0, div)
    floor = xp.floor(div)
    floor = xp.where(div - floor > 0.5, floor + 1.0, floor)
    quotient = a / b
    floor = xp.where(div == 0, xp.copysign(xp.zeros_like(floor), quotient), floor)
    return xp.where(b == 0, quotient, floor)


def fmod(input, other) -> Tensor:
    """The remainder of ``a / b`` with the sign of ``a`` (C's ``fmod``); ``remainder`` takes
    the sign of ``b``. Integers stay integers (a zero divisor raises ZeroDivisionError).
    Backward ``g`` for ``a``, ``-g·trunc(a / b)`` for ``b``.

    >>> import gdl
    >>> gdl.fmod(gdl.tensor([-3.0, 3.0]), 2)
    tensor([-1.,  1.], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("fmod", input, other, floating=False)
    xp = be.xp
    _no_zero_divisor("fmod", xp, xb)
    if dtypes.is_floating(xa.dtype):
        out = _run("fmod", be.fmod, xa, xb)
    else:
        out = _run("fmod", lambda a, b: xp.sign(a) * xp.remainder(xp.abs(a), xp.abs(b)), xa, xb)
    return _binary_result("Fmod", out, be, ta, tb, xa, xb, lambda g: g, lambda g: -g * xp.trunc(xa / xb),
                          lambda g: g, lambda g: -g * Tensor._wrap(xp.trunc(xa / xb), be))


def remainder(input, other) -> Tensor:
    """The remainder of ``a / b`` with the sign of ``b`` (Python's ``%``, as ``torch.remainder``
    and ``a % b``). Integers stay integers (a zero divisor raises ZeroDivisionError).
    Backward ``g`` for ``a``, ``-g·floor(a / b)`` for ``b``.

    >>> import gdl
    >>> gdl.remainder(gdl.tensor([-3, 3]), 2)
    tensor([1, 1], backend='numpy')
    >>> gdl.tensor([-3.0, 3.0]) % -2
    tensor([-1., -1.], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("remainder", input, other, floating=False)
    xp = be.xp
    _no_zero_divisor("remainder", xp, xb)
    out = _run("remainder", lambda a, b: _remainder(be, a, b), xa, xb)
    return _binary_result("Remainder", out, be, ta, tb, xa, xb,
                          lambda g: g, lambda g: -g * _floor_divide(be, xa, xb),
                          lambda g: g, lambda g: -g * Tensor._wrap(_floor_divide(be, xa, xb), be))


def floor_divide(input, other) -> Tensor:
    """``floor(a / b)`` (Python's ``//``); integers stay integers (a zero divisor raises
    ZeroDivisionError). No gradient: the result does not require grad (PyTorch raises
    in backward).

    >>> import gdl
    >>> gdl.tensor([-3, 3]) // 2
    tensor([-2,  1], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("floor_divide", input, other, floating=False)
    xp = be.xp
    _no_zero_divisor("floor_divide", xp, xb)
    return Tensor._wrap(_run("floor_divide", lambda a, b: _floor_divide(be, a, b), xa, xb), be)


def xlogy(input, other) -> Tensor:
    """``x·log(y)``, 0 where ``x == 0`` (even where ``y`` is 0), NaN where ``y`` is NaN, as
    ``torch.xlogy``; either argument may be a number. Backward (PyTorch's) ``xlogy(g, y)``
    for ``x``, except 0 where ``x == 0`` and ``y <= 0``, and ``g·x / y`` for ``y``.

    >>> import gdl
    >>> gdl.xlogy(gdl.tensor([0.0, 2.0]), gdl.tensor([0.0, 1.0]))
    tensor([0., 0.], backend='numpy')
    """
    ta, tb, xa, xb, be = _operands("xlogy", input, other, floating=True)
    xp = be.xp

    def fn(x, y):
        zero = x == 0
        out = xp.where(zero, xp.zeros_like(x * y), x * xp.log(xp.where(zero, xp.ones_like(y), y)))
        return xp.where(xp.isnan(y), y * x, out)  # NaN in y stays NaN (y * x broadcasts)

    out = _run("xlogy", fn, xa, xb)

    def grad_x(g):  # PyTorch's: xlogy(g, y), 0 where x == 0 and y <= 0
        d = fn(g, xb)
        return xp.where((xa == 0) & (xb <= 0), xp.zeros_like(d), d)

    x, y = _tensor_pair(ta, tb, xa, xb, be)
    return _binary_result("Xlogy", out, be, ta, tb, xa, xb, grad_x, lambda g: g * xa / xb,
                          lambda g: where((xa == 0) & (xb <= 0), 0.0, xlogy(g, y)), lambda g: g * x / y)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight·(end - input)``, computed as ``torch.lerp`` (from ``end`` when
    ``|weight| >= 0.5``); ``weight`` is a number or a tensor. Floating tensors only.
    Backward ``g·(1 - w)`` for ``input``, ``g·w`` for ``end``, ``g·(end - input)`` for ``weight``.

    >>> import gdl
    >>> gdl.lerp(gdl.tensor([0.0, 10.0]), gdl.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5, 12.5], backend='numpy')
    """
    _check("lerp", input)
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a Tensor, got {type(end).__name__}")
    ta, tb, xs, xe = _binary("lerp", input, end)
    if not dtypes.is_floating(xs.dtype) or not dtypes.is_floating(xe.dtype):
        raise TypeError(f"lerp: expects floating tensors, got {input.dtype.name} and {end.dtype.name} (as PyTorch)")
    be = ta._backend
    xp = be.xp
    if isinstance(weight, Tensor):
        check_same_backend("lerp", input, weight)
    try:
        diff = xe - xs
        if isinstance(weight, Tensor):
            tw = weight
            xw = weight.data
            if xw.dtype != diff.dtype:
                raise TypeError(f"lerp: weight must have the dtype of input ({input.dtype.name}), got {weight.dtype.name}")
            out = xp.where(xp.abs(xw) < 0.5, xs + xw * diff, xe - diff * (1.0 - xw))
        elif isinstance(weight, (int, float)) and not isinstance(weight, bool):
            tw = None
            small = abs(weight) < 0.5
            xw = xp.asarray(float(weight), dtype=diff.dtype, device=be.device)  # in the tensors' dtype, as PyTorch
            out = xs + xw * diff if small else xe - diff * (1.0 - xw)
        else:
            raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")
    except ValueError:
        shapes = [tuple(xs.shape), tuple(xe.shape)] + ([tuple(weight.shape)] if isinstance(weight, Tensor) else [])
        raise ValueError(f"lerp: incompatible shapes {' and '.join(map(str, shapes))}") from None

    def backward(g):
        grads = [unbroadcast(xp, g * (1.0 - xw), xs.shape), unbroadcast(xp, g * xw, xe.shape)]
        if tw is not None:
            grads.append(unbroadcast(xp, g * diff, xw.shape))
        return tuple(grads)

    def graph(g):
        w = tw if tw is not None else Tensor._wrap(xw, be)
        grads = (_unb(g * (1.0 - w), xs.shape), _unb(g * w, xe.shape))
        return grads if tw is None else grads + (_unb(g * (tb - ta), xw.shape),)

    return result(out, be, (ta, tb) if tw is None else (ta, tb, tw), backward, "Lerp", graph)


# -- clamping to one side ----------------------------------------------------------------


def _clamp_side(op, name, input, bound, is_min):
    _check(op, input)
    if isinstance(bound, Tensor):
        ta, tb, xa, xb = _binary(op, input, bound)
        be = ta._backend
        xp = be.xp
        if xa.dtype == xp.bool:  # (the Array API's maximum/minimum refuse bools)
            out = _run(op, xp.logical_or if is_min else xp.logical_and, xa, xb)
            return Tensor._wrap(out, be)
        out = _run(op, xp.maximum if is_min else xp.minimum, xa, xb)
        # as PyTorch: x gets g where x >= min, the bound where x < min, neither at a NaN
        keep = (lambda: xa >= xb) if is_min else (lambda: xa <= xb)
        passed = (lambda: xa < xb) if is_min else (lambda: xa > xb)
        return _binary_result(name, out, be, ta, tb, xa, xb,
                              lambda g: xp.where(keep(), g, xp.zeros_like(g)),
                              lambda g: xp.where(passed(), g, xp.zeros_like(g)),
                              lambda g: where(keep(), g, 0.0), lambda g: where(passed(), g, 0.0))
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise TypeError(f"{op}: the bound must be a number or a Tensor, got {type(bound).__name__}")
    if _is_bool(input) and type(bound) is int:  # a bool tensor with an int is int64, as PyTorch
        be = input._backend
        input = Tensor._wrap(be.xp.astype(input.data, be.xp.int64), be)
    return clip(input, min=bound) if is_min else clip(input, max=bound)


def clamp_min(input: Tensor, min) -> Tensor:
    """``max(x, min)``; ``min`` is a number or a tensor. Backward: ``g`` to ``x`` where
    ``x >= min``, else to a tensor ``min`` (as PyTorch: no split on ties).

    >>> import gdl
    >>> gdl.tensor([-1.0, 0.5, 2.0]).clamp_min(0.0)
    tensor([0. , 0.5, 2. ], backend='numpy')
    """
    return _clamp_side("clamp_min", "ClampMin", input, min, True)


def clamp_max(input: Tensor, max) -> Tensor:
    """``min(x, max)``; ``max`` is a number or a tensor. Backward: ``g`` to ``x`` where
    ``x <= max``, else to a tensor ``max``."""
    return _clamp_side("clamp_max", "ClampMax", input, max, False)


# -- comparisons with tolerance ----------------------------------------------------------


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Where ``|a - b| <= atol + rtol·|b|`` (or ``a == b``, infinities included); NaNs are
    equal only with ``equal_nan``. Both tensors must have one dtype, as PyTorch. A bool tensor.

    >>> import gdl
    >>> gdl.isclose(gdl.tensor([1.0, 1.0, float("nan")]), gdl.tensor([1.000001, 1.1, float("nan")]))
    tensor([ True, False, False], backend='numpy')
    """
    _check("isclose", input)
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose: other must be a Tensor, got {type(other).__name__}")
    check_same_backend("isclose", input, other)
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"isclose: {name} must be a number, got {type(v).__name__}")
        if v < 0:
            raise ValueError(f"isclose: {name} must be >= 0, got {v}")
    if input.data.dtype != other.data.dtype:
        raise TypeError(
            f"isclose: both tensors must have the same dtype, got {input.dtype.name} and {other.dtype.name} "
            f"(as PyTorch; convert one with .to(...))"
        )
    be = input._backend
    xp = be.xp
    xa, xb = input.data, other.data
    close = _run("isclose", lambda a, b: a == b, xa, xb)
    if xa.dtype == xp.bool:
        return Tensor._wrap(close, be)
    if dtypes.is_floating(xa.dtype):
        if equal_nan:
            close = close | (xp.isnan(xa) & xp.isnan(xb))
    else:  # integers: the tolerance in the default float dtype, as PyTorch
        fdt = dtypes.backend_dtype(be, dtypes.get_default_dtype())
        xa, xb = xp.astype(xa, fdt), xp.astype(xb, fdt)
    if rtol == 0 and atol == 0:
        return Tensor._wrap(close, be)
    allowed = atol + xp.abs(rtol * xb)
    actual = xp.abs(xa - xb)
    return Tensor._wrap(close | (xp.isfinite(actual) & (actual <= allowed)), be)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere (a Python bool).

    >>> import gdl
    >>> gdl.allclose(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 2.0000001]))
    True
    """
    close = isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return bool(close._backend.xp.all(close.data))


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values (a Python bool;
    NaN equals nothing). Dtypes may differ, as ``torch.equal``.

    >>> import gdl
    >>> gdl.equal(gdl.tensor([1, 2]), gdl.tensor([1.0, 2.0]))
    True
    """
    _check("equal", input)
    if not isinstance(other, Tensor):
        raise TypeError(f"equal: other must be a Tensor, got {type(other).__name__}")
    if input.shape != other.shape:
        check_same_backend("equal", input, other)
        return False
    _, _, xa, xb = _binary("equal", input, other)
    return bool(input._backend.xp.all(xa == xb))


def _swap(fn):
    return lambda self, other: fn(other, self)


def _invert(input: Tensor) -> Tensor:
    """``~x``: logical NOT of a bool tensor, bitwise NOT of an integer one (as PyTorch)."""
    be = input._backend
    if dtypes.is_floating(input.data.dtype):
        raise TypeError(f"~ (bitwise_not): not defined for floating tensors ({input.dtype.name})")
    return Tensor._wrap(be.xp.bitwise_invert(input.data), be)


__all__ = [
    "acos", "acosh", "allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "ceil", "clamp_max", "clamp_min", "cos", "cosh", "equal",
    "exp2", "expm1", "fix", "floor", "floor_divide", "fmod", "frac", "hypot", "isclose", "isfinite", "isinf",
    "isnan", "isneginf", "isposinf", "lerp", "log10", "log1p", "log2", "logaddexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logit", "nan_to_num", "reciprocal", "remainder", "round",
    "rsqrt", "sign", "sin", "sinh", "square", "tan", "trunc", "xlogy",
]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {name: globals()[name] for name in __all__}
TENSOR_METHODS.update({
    "__mod__": remainder,
    "__rmod__": _swap(remainder),
    "__floordiv__": floor_divide,
    "__rfloordiv__": _swap(floor_divide),
    "__invert__": _invert,
})
