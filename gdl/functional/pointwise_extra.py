"""More of PyTorch's elementwise math: fused multiply/divide-adds (``addcmul``, ``addcdiv``),
sign and NaN-aware ops (``copysign``, ``signbit``, ``sgn``, ``fmax``, ``fmin``), float
decomposition (``frexp``, ``ldexp``, ``nextafter``), integer ``gcd``/``lcm``, ``heaviside``,
``sinc``, ``float_power``, ``logaddexp2``, angle conversions, and PyTorch's aliases
(``multiply``, ``divide(rounding_mode=)``, ``subtract(alpha=)``, ``greater``, ...).

Names, arguments, dtypes and gradients as PyTorch's; a Python number is accepted where PyTorch
wants a tensor for ``other`` (it takes the tensor's dtype). Ops without a gradient in PyTorch
(``heaviside``, ``nextafter``, ``signbit``, ``gcd``, ``lcm``) give tensors that do not require grad.

>>> import gdl
>>> x = gdl.tensor([1.0, 2.0], requires_grad=True)
>>> y = gdl.addcmul(x, x, gdl.tensor([3.0, 4.0]), value=0.5)  # x + 0.5·x·[3, 4]
>>> y.sum().backward()
>>> y, x.grad
(tensor([2.5, 6. ], backend='numpy', grad_fn=<AddcmulBackward>), tensor([2.5, 3. ], backend='numpy'))
"""

from __future__ import annotations

import math
from typing import NamedTuple

from gdl import dtypes
from gdl.functional import elementwise as E
from gdl.functional import pointwise as _P
from gdl.functional._util import check_same_backend, unbroadcast
from gdl.functional.pointwise import (
    _binary_result,
    _check,
    _float_unary,
    _is_bool,
    _no_zero_divisor,
    _operands,
    _run,
    _tensor_pair,
    sign,
)
from gdl.higher_order import unbroadcast as _unb
from gdl.tensor import Tensor, result

_LN2 = math.log(2.0)
_180_OVER_PI = 180.0 / math.pi
_PI_OVER_180 = math.pi / 180.0


def _detached(out, be) -> Tensor:
    return Tensor._wrap(out, be)


def _tensor_operand(op: str, name: str, value, like: Tensor) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    check_same_backend(op, like, value)
    return value


# -- addcmul, addcdiv -----------------------------------------------------------------------


def _result_dtype(tensors):
    """PyTorch's result type of several tensors: the highest category (bool < integer <
    floating) wins; within it, tensors with dimensions decide over 0-d ones."""
    be = tensors[0]._backend
    xp = be.xp

    def category(dt):
        return E._category(dt)

    def promote(group):  # the backend's promotion among the group's highest category
        top = max(category(t.data.dtype) for t in group)
        kept = [t.data.dtype for t in group if category(t.data.dtype) == top]
        dt = kept[0]
        for other in kept[1:]:
            dt = xp.result_type(dt, other)
        return dt

    dims = [t for t in tensors if t.ndim > 0]
    zeros = [t for t in tensors if t.ndim == 0]
    dim_dt = promote(dims) if dims else None
    zero_dt = promote(zeros) if zeros else None
    if dim_dt is None:
        return zero_dt
    if zero_dt is None or category(zero_dt) <= category(dim_dt):
        return dim_dt
    if category(zero_dt) == 2 or category(dim_dt) == 0:
        return zero_dt  # a higher-category 0-d tensor decides (int tensor with a 0-d float)
    return dim_dt


def _addc(op, name, input, tensor1, tensor2, value, divide):
    _check(op, input)
    tensor1 = _tensor_operand(op, "tensor1", tensor1, input)
    tensor2 = _tensor_operand(op, "tensor2", tensor2, input)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"{op}: value must be a number or a 0-d tensor, got shape {value.shape}")
        value = value.item()
    if not isinstance(value, (int, float)):
        raise TypeError(f"{op}: value must be a number, got {type(value).__name__}")
    if divide and not (dtypes.is_floating(tensor1.data.dtype) or dtypes.is_floating(tensor2.data.dtype)):
        raise TypeError(
            f"{op}: integer division of tensor1 ({tensor1.dtype.name}) by tensor2 ({tensor2.dtype.name}) is "
            f"not supported, as in PyTorch; convert one of them to a floating dtype"
        )
    want = _result_dtype([input, tensor1, tensor2])
    category = E._category(want)
    if category == 0:
        raise TypeError(f"{op}: not defined for bool tensors (as PyTorch)")
    v = float(value) if category == 2 else int(value)  # PyTorch truncates a float value for integers
    wanted = dtypes.as_dtype(want)
    a, b, c = (E.astype(t, wanted) for t in (input, tensor1, tensor2))
    be = input._backend
    xp = be.xp
    xa, xb, xc = a.data, b.data, c.data
    try:
        out = xa + (v * xb) / xc if divide else xa + (v * xb) * xc
    except (ValueError, TypeError):
        raise ValueError(
            f"{op}: incompatible shapes {input.shape}, {tensor1.shape} and {tensor2.shape}"
        ) from None

    def backward(g):
        if divide:
            g1 = g * v / xc
            g2 = -g * v * xb / (xc * xc)
        else:
            g1 = g * v * xc
            g2 = g * v * xb
        return unbroadcast(xp, g, xa.shape), unbroadcast(xp, g1, xb.shape), unbroadcast(xp, g2, xc.shape)

    def graph(g):
        if divide:
            g1 = g * v / c
            g2 = -(g * v) * b / (c * c)
        else:
            g1 = g * v * c
            g2 = g * v * b
        return _unb(g, a.shape), _unb(g1, b.shape), _unb(g2, c.shape)

    return result(out, be, (a, b, c), backward, name, graph)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value·tensor1·tensor2``, broadcast and promoted over all three (as
    ``torch.addcmul``; a float ``value`` is truncated for integer tensors, as PyTorch does).
    Backward ``g``, ``g·value·tensor2`` and ``g·value·tensor1``.

    >>> import gdl
    >>> gdl.addcmul(gdl.tensor([1.0, 1.0]), gdl.tensor([2.0, 3.0]), gdl.tensor([4.0, 5.0]), value=2)
    tensor([17., 31.], backend='numpy')
    """
    return _addc("addcmul", "Addcmul", input, tensor1, tensor2, value, divide=False)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value·tensor1/tensor2``, as ``torch.addcdiv`` (two integer ``tensor1`` and
    ``tensor2`` are refused, as PyTorch). Backward ``g``, ``g·value/tensor2`` and
    ``−g·value·tensor1/tensor2²``.

    >>> import gdl
    >>> gdl.addcdiv(gdl.tensor([1.0, 1.0]), gdl.tensor([2.0, 3.0]), gdl.tensor([4.0, 6.0]), value=2)
    tensor([2., 2.], backend='numpy')
    """
    return _addc("addcdiv", "Addcdiv", input, tensor1, tensor2, value, divide=True)


# -- signs and NaN-aware extremes ------------------------------------------------------------


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (the sign bit: −0.0 and −NaN count as negative);
    a float result (integers become the default float dtype), as ``torch.copysign``.
    Backward ``g·out/input`` (0 where ``input`` is 0) for ``input``, 0 for ``other``.

    >>> import gdl
    >>> gdl.copysign(gdl.tensor([1.0, -2.0, 3.0]), gdl.tensor([-1.0, 1.0, -0.0]))
    tensor([-1.,  2., -3.], backend='numpy')
    """
    _check("copysign", input)
    ta, tb, xa, xb, be = _operands("copysign", input, other, floating=True)
    xp = be.xp
    out = _run("copysign", xp.copysign, xa, xb)

    def grad_input(g):
        ratio = out / xp.where(xa == 0, 1.0, xa)
        return g * xp.where(xa == 0, 0.0, ratio)

    def graph_input(g):  # out/input is ±1 (0 at 0): piecewise constant, a constant here
        ratio = xp.where(xa == 0, 0.0, out / xp.where(xa == 0, 1.0, xa))
        return g * Tensor._wrap(ratio, be)

    return _binary_result("Copysign", out, be, ta, tb, xa, xb, grad_input, lambda g: xp.zeros_like(g),
                          graph_input, _zeros_like)


def _zeros_like(g):
    """A zero gradient (of a piecewise-constant dependence), as a constant Tensor."""
    return Tensor._wrap(g._backend.xp.zeros_like(g.data), g._backend)


def signbit(input) -> Tensor:
    """Where the sign bit is set (negative numbers, −0.0, −inf, a negative NaN); a bool
    tensor without gradient, as ``torch.signbit`` (False for bool tensors).

    >>> import gdl
    >>> gdl.signbit(gdl.tensor([-1.0, -0.0, 0.0, 2.0]))
    tensor([ True,  True, False, False], backend='numpy')
    """
    _check("signbit", input)
    be = input._backend
    xp = be.xp
    data = input.data
    if dtypes.is_floating(data.dtype):
        return _detached(xp.signbit(data), be)
    if _is_bool(input):
        return _detached(xp.zeros(data.shape, dtype=xp.bool, device=be.device), be)
    return _detached(data < 0, be)


def sgn(input) -> Tensor:
    """The sign (−1, 0 or 1; 0 at NaN), as ``torch.sgn``: for real tensors the same as
    :func:`gdl.sign` (for complex numbers PyTorch gives ``x/|x|``; gdl has none). Gradient 0.

    >>> import gdl
    >>> gdl.sgn(gdl.tensor([-3, 0, 5]))
    tensor([-1,  0,  1], backend='numpy')
    """
    _check("sgn", input)
    return sign(input)


def _nan_extreme(op, name, input, other, is_max):
    if _is_bool(input) and (isinstance(other, bool) or (isinstance(other, Tensor) and _is_bool(other))):
        be = input._backend
        xb = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor):
            check_same_backend(op, input, other)
        fn = be.xp.logical_or if is_max else be.xp.logical_and
        return _detached(_run(op, fn, input.data, xb), be)
    ta, tb, xa, xb, be = _operands(op, input, other, floating=False)
    xp = be.xp
    if dtypes.is_floating(xa.dtype):
        def fn(a, b):
            pick = xp.maximum(a, b) if is_max else xp.minimum(a, b)
            return xp.where(xp.isnan(a), b, xp.where(xp.isnan(b), a, pick))
    else:
        fn = xp.maximum if is_max else xp.minimum
    out = _run(op, fn, xa, xb)

    def to_input():  # PyTorch's: input gets g where it wins or ties, or where other is NaN
        wins = (xa >= xb) if is_max else (xa <= xb)
        return wins | xp.isnan(xb) if dtypes.is_floating(xb.dtype) else wins

    return _binary_result(name, out, be, ta, tb, xa, xb,
                          lambda g: xp.where(to_input(), g, 0.0), lambda g: xp.where(to_input(), 0.0, g),
                          lambda g: E.where(to_input(), g, 0.0), lambda g: E.where(to_input(), 0.0, g))


def fmax(input, other) -> Tensor:
    """The elementwise maximum, ignoring NaN (NaN only where both are NaN), as ``torch.fmax``
    (:func:`gdl.maximum` propagates NaN). Backward: ``g`` to ``input`` where ``input >= other``
    or ``other`` is NaN, else to ``other`` (ties go to ``input``, as PyTorch).

    >>> import gdl
    >>> nan = float("nan")
    >>> gdl.fmax(gdl.tensor([1.0, nan, nan]), gdl.tensor([nan, 2.0, nan]))
    tensor([ 1.,  2., nan], backend='numpy')
    """
    _check("fmax", input)
    return _nan_extreme("fmax", "Fmax", input, other, True)


def fmin(input, other) -> Tensor:
    """The elementwise minimum, ignoring NaN (NaN only where both are NaN), as ``torch.fmin``.
    Backward: ``g`` to ``input`` where ``input <= other`` or ``other`` is NaN, else to ``other``.

    >>> import gdl
    >>> gdl.fmin(gdl.tensor([1.0, float("nan")]), gdl.tensor([0.5, 2.0]))
    tensor([0.5, 2. ], backend='numpy')
    """
    _check("fmin", input)
    return _nan_extreme("fmin", "Fmin", input, other, False)


# -- powers, exponents and float decomposition ------------------------------------------------


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 whatever the dtypes (integers and float32
    too), as ``torch.float_power``; either may be a number. Gradients as :func:`gdl.pow`,
    given back in each input's own dtype.

    >>> import gdl
    >>> gdl.float_power(gdl.tensor([2, 3]), 2)
    tensor([4., 9.], backend='numpy', dtype=gdl.float64)
    """
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            f"float_power: expected at least one Tensor, got {type(input).__name__} and {type(exponent).__name__}"
        )

    def wide(v):
        if isinstance(v, Tensor):
            return E.astype(v, dtypes.float64)
        if isinstance(v, (int, float)):
            return float(v)
        raise TypeError(f"float_power: expected a Tensor or a number, got {type(v).__name__}")

    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        check_same_backend("float_power", input, exponent)
    return E.pow(wide(input), wide(exponent))


def ldexp(input, other) -> Tensor:
    """``input · 2**other``, as ``torch.ldexp`` (integers give the default float dtype;
    ``other`` may be a number). Backward ``g·2**other`` for ``input`` and
    ``g·out·ln 2`` for a floating ``other``.

    >>> import gdl
    >>> gdl.ldexp(gdl.tensor([1.0, 3.0]), gdl.tensor([3, -1]))
    tensor([8. , 1.5], backend='numpy')
    """
    _check("ldexp", input)
    if isinstance(other, Tensor):
        check_same_backend("ldexp", input, other)
        if not dtypes.is_floating(other.data.dtype):
            # an integer exponent takes the input's float dtype (PyTorch: float16 stays float16)
            float_input = E._as_float(input)
            be = input._backend
            xp = be.xp
            scale = 2.0 ** xp.astype(other.data, float_input.data.dtype)
            return E.mul(float_input, Tensor._wrap(scale, be))
    elif not isinstance(other, (int, float)) or isinstance(other, bool):
        raise TypeError(f"ldexp: other must be a Tensor or a number, got {type(other).__name__}")
    else:
        other = float(other)
    return E.mul(E._as_float(input), E.pow(2.0, other) if isinstance(other, Tensor) else 2.0**other)


class FrexpResult(NamedTuple):
    """``(mantissa, exponent)`` from :func:`frexp`, as ``torch.return_types.frexp``."""

    mantissa: Tensor
    exponent: Tensor


def _frexp64(xp, w):
    """``(mantissa, exponent)`` of float64 ``w``, both float64: ``w = m·2**e``, ``0.5 <= |m| < 1``;
    ``m = w`` and ``e = 0`` at 0, ±inf and NaN (as C's frexp)."""
    ok = xp.isfinite(w) & (w != 0.0)
    a = xp.where(ok, xp.abs(w), 1.0)
    e = xp.floor(xp.log2(a)) + 1.0
    k1 = xp.floor(-e / 2.0)  # 2**-e in two exact steps (2**1074 and 2**1024 overflow)
    m = (xp.where(ok, w, 1.0) * 2.0**k1) * 2.0 ** (-e - k1)
    big = xp.abs(m) >= 1.0  # log2 rounded up to the next power of two
    m, e = xp.where(big, m * 0.5, m), xp.where(big, e + 1.0, e)
    small = xp.abs(m) < 0.5
    m, e = xp.where(small, m * 2.0, m), xp.where(small, e - 1.0, e)
    return xp.where(ok, m, w), xp.where(ok, e, 0.0)


def frexp(input) -> FrexpResult:
    """``(mantissa, exponent)`` with ``input = mantissa · 2**exponent`` and
    ``0.5 <= |mantissa| < 1`` (0, ±inf and NaN give themselves and 0), as ``torch.frexp``:
    the mantissa in ``input``'s dtype, the exponent int32. Floating tensors only.
    Backward ``g / 2**exponent`` for the mantissa; the exponent has no gradient.

    >>> import gdl
    >>> m, e = gdl.frexp(gdl.tensor([8.0, -3.0, 0.0]))
    >>> m, e
    (tensor([ 0.5 , -0.75,  0.  ], backend='numpy'), tensor([4, 2, 0], backend='numpy', dtype=gdl.int32))
    """
    _check("frexp", input)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(f"frexp: only supports floating-point dtypes, got {input.dtype.name} (as PyTorch)")
    be = input._backend
    xp = be.xp
    data = input.data
    m64, e64 = _frexp64(xp, xp.astype(data, xp.float64))
    mantissa = m64 if data.dtype == xp.float64 else xp.astype(m64, data.dtype)
    exponent = xp.astype(e64, xp.int32)

    def backward(g):
        return (xp.astype(xp.astype(g, xp.float64) * 2.0 ** -e64, g.dtype),)

    def graph(g):  # a constant scale: 2**-exponent (as backward, in float64)
        if g.data.dtype == xp.float64:
            return (g * Tensor._wrap(2.0 ** -e64, be),)
        return (E.astype(E.astype(g, dtypes.float64) * Tensor._wrap(2.0 ** -e64, be), dtypes.as_dtype(g.data.dtype)),)

    return FrexpResult(result(mantissa, be, (input,), backward, "Frexp", graph), _detached(exponent, be))


def nextafter(input, other) -> Tensor:
    """The next float after ``input`` toward ``other`` (in the promoted floating dtype), as
    ``torch.nextafter``; floating tensors only, ``other`` may be a number. No gradient.

    >>> import gdl
    >>> gdl.nextafter(gdl.tensor([1.0], dtype=gdl.float64), 2.0).item() - 1.0
    2.220446049250313e-16
    """
    _check("nextafter", input)
    ta, tb, xa, xb, be = _operands("nextafter", input, other, floating=False)
    if not dtypes.is_floating(xa.dtype):
        raise TypeError(f"nextafter: only supports floating-point dtypes, got {input.dtype.name} (as PyTorch)")
    return _detached(_run("nextafter", be.xp.nextafter, xa, xb), be)


# -- integers: gcd, lcm ---------------------------------------------------------------------


def _integer_operands(op, input, other):
    _check(op, input)
    for v in (input, other):
        if isinstance(v, bool) or (isinstance(v, Tensor) and _is_bool(v)):
            raise TypeError(f"{op}: not defined for bool tensors (as PyTorch)")
        if isinstance(v, float) or (isinstance(v, Tensor) and dtypes.is_floating(v.data.dtype)):
            raise TypeError(f"{op}: only defined for integer tensors, got {dtypes.as_dtype(v.data.dtype).name if isinstance(v, Tensor) else 'a float'}")
    ta, tb, xa, xb, be = _operands(op, input, other, floating=False)
    return xa, xb, be


def _gcd(xp, a, b):
    """Euclid's algorithm on whole arrays, until every remainder is 0."""
    a, b = xp.abs(a), xp.abs(b)
    a, b = xp.broadcast_arrays(a, b)
    while bool(xp.any(b != 0)):
        nonzero = b != 0
        safe = xp.where(nonzero, b, xp.ones_like(b))
        a, b = xp.where(nonzero, b, a), xp.where(nonzero, xp.remainder(a, safe), b)
    return a


def gcd(input, other) -> Tensor:
    """The greatest common divisor (non-negative; ``gcd(0, 0) = 0``) of integer tensors, as
    ``torch.gcd``; ``other`` may be an int. No gradient.

    >>> import gdl
    >>> gdl.gcd(gdl.tensor([12, -18, 0, 7]), gdl.tensor([8, 12, 5, 0]))
    tensor([4, 6, 5, 7], backend='numpy')
    """
    xa, xb, be = _integer_operands("gcd", input, other)
    return _detached(_run("gcd", lambda a, b: _gcd(be.xp, a, b), xa, xb), be)


def lcm(input, other) -> Tensor:
    """The least common multiple (non-negative; 0 where either is 0) of integer tensors, as
    ``torch.lcm``; ``other`` may be an int. No gradient.

    >>> import gdl
    >>> gdl.lcm(gdl.tensor([4, -6, 0]), gdl.tensor([6, 4, 5]))
    tensor([12, 12,  0], backend='numpy')
    """
    xa, xb, be = _integer_operands("lcm", input, other)
    xp = be.xp

    def fn(a, b):
        g = _gcd(xp, a, b)
        return xp.abs(xp.where(g == 0, xp.zeros_like(g), (a // xp.where(g == 0, xp.ones_like(g), g)) * b))

    return _detached(_run("lcm", fn, xa, xb), be)


# -- heaviside, sinc, angles, logaddexp2, positive ---------------------------------------------


def heaviside(input, values) -> Tensor:
    """The Heaviside step: 0 where ``input < 0``, ``values`` where ``input == 0``, 1 where
    ``input > 0`` (0 at NaN), as ``torch.heaviside``; ``values`` is a tensor of ``input``'s
    dtype that broadcasts with it. No gradient (PyTorch has none).

    >>> import gdl
    >>> gdl.heaviside(gdl.tensor([-1.5, 0.0, 2.0]), gdl.tensor([0.5]))
    tensor([0. , 0.5, 1. ], backend='numpy')
    """
    _check("heaviside", input)
    values = _tensor_operand("heaviside", "values", values, input)
    if input.data.dtype != values.data.dtype:
        raise TypeError(
            f"heaviside: input and values must have the same dtype, got {input.dtype.name} and "
            f"{values.dtype.name} (as PyTorch)"
        )
    be = input._backend
    xp = be.xp
    if _is_bool(input):
        return _detached(_run("heaviside", xp.logical_or, input.data, values.data), be)

    def fn(x, v):
        one, zero = xp.ones_like(x), xp.zeros_like(x)
        return xp.where(x == 0, v, xp.where(x > 0, one, zero))

    return _detached(_run("heaviside", fn, input.data, values.data), be)


def _sinc64(xp, x):
    """``(sinc(x), sinc'(x))`` of float64 ``x``, with ``πx`` reduced exactly (``x − round(x)``)."""
    finite = xp.isfinite(x)
    x = xp.where(finite, x, 0.5)
    n = xp.round(x)
    r = x - n
    odd = (n - 2.0 * xp.floor(n / 2.0)) != 0
    s = xp.sin(math.pi * r)
    c = xp.cos(math.pi * r)
    s, c = xp.where(odd, -s, s), xp.where(odd, -c, c)  # sin(πx), cos(πx)
    zero = x == 0
    safe = xp.where(zero, 1.0, x)
    value = xp.where(zero, 1.0, s / (math.pi * safe))
    slope = (c - value) / safe
    # near 0, the Taylor series of sinc' (the difference above cancels)
    t = xp.where(xp.abs(x) < 0.1, math.pi * x, 0.0)
    t2 = t * t
    series = xp.zeros_like(t)
    for k in range(10, 0, -1):  # Σ (−1)^k 2k t^{2k−1} / (2k+1)!, times π
        series = series + ((-1) ** k * 2 * k / math.factorial(2 * k + 1))
        series = series * (t2 if k > 1 else t)
    slope = xp.where(xp.abs(x) < 0.1, math.pi * series, slope)
    return xp.where(finite, value, math.nan), xp.where(finite, slope, math.nan)


def sinc(input) -> Tensor:
    """The normalized sinc ``sin(πx)/(πx)`` (1 at 0), as ``torch.sinc``, computed in float64
    with ``πx`` reduced exactly (so ``sinc`` of a large integer is 0). Backward
    ``g·(cos(πx) − sinc(x))/x`` (0 at 0).

    >>> import gdl
    >>> gdl.sinc(gdl.tensor([0.0, 0.5, 1.0, -1.5]))
    tensor([ 1.        ,  0.63661975, -0.        , -0.21220659], backend='numpy')
    """
    from gdl.functional.special import _in_float64

    return _float_unary(
        "sinc", "Sinc", input,
        lambda xp, x: _in_float64(xp, lambda w: _sinc64(xp, w)[0], x),
        lambda xp, g, x, out: g * _in_float64(xp, lambda w: _sinc64(xp, w)[1], x),
        _sinc_graph,
    )


def _sinc_graph(x, g):
    """``g·sinc'(x)`` with Tensor ops: ``(cos(πx) − sinc(x))/x`` with ``πx`` reduced by the
    constant ``round(x)`` (a sign flip where it is odd), and near 0 the Taylor series of
    ``sinc'`` (so its own derivative at 0 is ``sinc''(0) = −π²/3``)."""
    be = x._backend
    xp = be.xp
    data = x.data
    finite = xp.isfinite(data)
    n = xp.round(xp.where(finite, data, 0.5))
    odd = (n - 2.0 * xp.floor(n / 2.0)) != 0
    flip = Tensor._wrap(xp.where(odd, xp.full_like(data, -1.0), xp.ones_like(data)), be)
    small = xp.abs(data) < 0.1
    zero = data == 0
    xs = E.where(small | ~finite, 1.0, x)  # away from 0 (|x| >= 0.1) and finite
    r = xs - Tensor._wrap(xp.round(xp.where(small | ~finite, 1.0, data)), be)
    pr = math.pi * r
    s, c = flip * _P.sin(pr), flip * _P.cos(pr)
    value = E.where(zero, 1.0, s / (math.pi * xs))
    slope = (c - value) / xs
    t = math.pi * E.where(small, x, 0.0)
    t2 = t * t
    series = None
    for k in range(10, 0, -1):  # Σ (−1)^k 2k t^{2k−1} / (2k+1)!, times π
        coefficient = (-1) ** k * 2 * k / math.factorial(2 * k + 1)
        series = coefficient if series is None else series + coefficient
        series = series * (t2 if k > 1 else t)
    slope = E.where(small, math.pi * series, slope)
    return g * E.where(finite, slope, math.nan)


def rad2deg(input) -> Tensor:
    """Radians to degrees, ``x·180/π`` (integers give the default float dtype), as
    ``torch.rad2deg``; backward ``g·180/π``.

    >>> import gdl
    >>> gdl.rad2deg(gdl.tensor([3.141592653589793, -1.5707963267948966], dtype=gdl.float64))
    tensor([180., -90.], backend='numpy', dtype=gdl.float64)
    """
    return _float_unary("rad2deg", "Rad2deg", input, lambda xp, x: x * _180_OVER_PI,
                        lambda xp, g, x, out: g * _180_OVER_PI, lambda x, g: g * _180_OVER_PI)


def deg2rad(input) -> Tensor:
    """Degrees to radians, ``x·π/180``, as ``torch.deg2rad``; backward ``g·π/180``.

    >>> import gdl
    >>> gdl.deg2rad(gdl.tensor([180, 90]))
    tensor([3.1415927, 1.5707964], backend='numpy')
    """
    return _float_unary("deg2rad", "Deg2rad", input, lambda xp, x: x * _PI_OVER_180,
                        lambda xp, g, x, out: g * _PI_OVER_180, lambda x, g: g * _PI_OVER_180)


def logaddexp2(input, other) -> Tensor:
    """``log2(2**a + 2**b)`` without overflow, as ``torch.logaddexp2`` (integers give the
    default float dtype; ``other`` may be a number). Backward ``g / (1 + 2**(b − a))`` for
    ``a`` and ``g / (1 + 2**(a − b))`` for ``b``.

    >>> import gdl
    >>> gdl.logaddexp2(gdl.tensor([0.0, 1000.0]), gdl.tensor([0.0, 1000.0]))
    tensor([1.000e+00, 1.001e+03], backend='numpy')
    """
    _check("logaddexp2", input)
    ta, tb, xa, xb, be = _operands("logaddexp2", input, other, floating=True)
    xp = be.xp

    def fn(a, b):
        same_inf = xp.isinf(a) & (a == b)  # inf − inf would be NaN: the answer is a
        a_safe, b_safe = xp.where(same_inf, 0.0, a), xp.where(same_inf, 0.0, b)
        top = xp.maximum(a_safe, b_safe)
        out = top + xp.log1p(2.0 ** -xp.abs(a_safe - b_safe)) * (1.0 / _LN2)
        return xp.where(same_inf, a, out)

    out = _run("logaddexp2", fn, xa, xb)
    a, b = _tensor_pair(ta, tb, xa, xb, be)
    return _binary_result("Logaddexp2", out, be, ta, tb, xa, xb,
                          lambda g: g / (1.0 + 2.0 ** (xb - xa)), lambda g: g / (1.0 + 2.0 ** (xa - xb)),
                          lambda g: g / (1.0 + E.pow(2.0, b - a)), lambda g: g / (1.0 + E.pow(2.0, a - b)))


def positive(input) -> Tensor:
    """``input`` itself (``+x``), as ``torch.positive``; bool tensors are refused, as PyTorch.

    >>> import gdl
    >>> x = gdl.tensor([-1.0, 2.0])
    >>> gdl.positive(x) is x
    True
    """
    _check("positive", input)
    if _is_bool(input):
        raise TypeError("positive: the `+` operator on a bool tensor is not supported (as PyTorch)")
    return input


# -- PyTorch's aliases ------------------------------------------------------------------------


def _scaled(op, input, other, alpha):
    """``alpha·other`` with PyTorch's checks on ``alpha`` (``input`` decides the kind)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if type(alpha) is int and alpha == 1:
        return other
    kinds = [v for v in (input, other) if isinstance(v, Tensor)]
    if isinstance(alpha, float) and not any(dtypes.is_floating(t.data.dtype) for t in kinds) and not isinstance(
        other, float
    ) and not isinstance(input, float):
        raise TypeError(f"{op}: for integer tensors, alpha must not be a floating-point number (got {alpha!r})")
    return E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def _no_bools(op, *values):
    for v in values:
        if isinstance(v, bool) or (isinstance(v, Tensor) and _is_bool(v)):
            raise TypeError(f"{op}: subtraction with bool tensors is not supported (as PyTorch); use logical_xor")


def subtract(input, other, *, alpha=1) -> Tensor:
    """``input − alpha·other``, as ``torch.subtract`` / ``torch.sub`` with ``alpha=``.

    >>> import gdl
    >>> gdl.subtract(gdl.tensor([5.0, 6.0]), gdl.tensor([1.0, 2.0]), alpha=2)
    tensor([3., 2.], backend='numpy')
    """
    _check("subtract", input)
    _no_bools("subtract", input, other)
    return E.sub(input, _scaled("subtract", input, other, alpha))


def rsub(input, other, alpha=1) -> Tensor:
    """``other − alpha·input`` (the reversed :func:`subtract`), as ``torch.rsub``.

    >>> import gdl
    >>> gdl.rsub(gdl.tensor([1.0, 2.0]), 5)
    tensor([4., 3.], backend='numpy')
    """
    _check("rsub", input)
    _no_bools("rsub", input, other)
    return E.sub(other, _scaled("rsub", other, input, alpha))


def divide(input, other, *, rounding_mode=None) -> Tensor:
    """``input / other``, as ``torch.divide``: true division (integers give the default float)
    by default; ``rounding_mode="trunc"`` rounds toward zero and ``"floor"`` down (integers
    then stay integers; an integer zero divisor raises ZeroDivisionError). The rounded
    quotients have a zero gradient, as PyTorch.

    >>> import gdl
    >>> a, b = gdl.tensor([-7, 7]), gdl.tensor([2, 2])
    >>> gdl.divide(a, b), gdl.divide(a, b, rounding_mode="trunc"), gdl.divide(a, b, rounding_mode="floor")
    (tensor([-3.5,  3.5], backend='numpy'), tensor([-3,  3], backend='numpy'), tensor([-4,  3], backend='numpy'))
    """
    if rounding_mode is None:
        return E.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"divide: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    _check("divide", input)
    ta, tb, xa, xb, be = _operands("divide", input, other, floating=False)
    xp = be.xp
    _no_zero_divisor("divide", xp, xb)
    from gdl.functional.pointwise import _floor_divide

    if rounding_mode == "floor":
        fn = lambda a, b: _floor_divide(be, a, b)  # noqa: E731
    elif dtypes.is_floating(xa.dtype):
        fn = lambda a, b: xp.trunc(a / b)  # noqa: E731
    else:
        def fn(a, b):
            q = xp.floor_divide(a, b)
            inexact = (a - q * b) != 0
            return xp.where(inexact & ((a < 0) != (b < 0)), q + 1, q)
    out = _run("divide", fn, xa, xb)
    if not dtypes.is_floating(out.dtype):
        return _detached(out, be)
    return _binary_result("Div", out, be, ta, tb, xa, xb, lambda g: xp.zeros_like(g), lambda g: xp.zeros_like(g),
                          _zeros_like, _zeros_like)


def _alias(fn, name, torch_name):
    def alias(*args, **kwargs):
        return fn(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"The same op as :func:`gdl.{torch_name}` (PyTorch's other name, ``torch.{name}``)."
    return alias


absolute = _alias(E.abs, "absolute", "abs")
multiply = _alias(E.mul, "multiply", "mul")
negative = _alias(E.neg, "negative", "neg")
true_divide = _alias(E.div, "true_divide", "div")
greater = _alias(E.gt, "greater", "gt")
greater_equal = _alias(E.ge, "greater_equal", "ge")
less = _alias(E.lt, "less", "lt")
less_equal = _alias(E.le, "less_equal", "le")
not_equal = _alias(E.ne, "not_equal", "ne")


__all__ = [
    "absolute", "addcdiv", "addcmul", "copysign", "deg2rad", "divide", "float_power", "fmax", "fmin",
    "frexp", "gcd", "greater", "greater_equal", "heaviside", "lcm", "ldexp", "less", "less_equal",
    "logaddexp2", "multiply", "negative", "nextafter", "not_equal", "positive", "rad2deg", "rsub",
    "sgn", "signbit", "sinc", "subtract", "true_divide",
]

# Tensor methods this module adds (torch.Tensor has all but rsub).
TENSOR_METHODS: dict = {name: globals()[name] for name in __all__ if name != "rsub"}
