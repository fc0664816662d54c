"""Elementwise ops. Each op computes its forward from raw arrays and defines its
backward right beside it: ``backward(g)`` returns one gradient per input tensor.
"""

from __future__ import annotations

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import as_operand, check_same_backend, shape_error, unbroadcast
from gdl.higher_order import unbroadcast as _unb
from gdl.tensor import Tensor, result

# -- binary arithmetic ----------------------------------------------------------------


_SCALAR_TYPES = (int, float)


def _pass_through(g):
    return (g,)


def _as_float(t: Tensor) -> Tensor:
    """An integer or bool tensor as the default float dtype (PyTorch's promotion with a
    Python float, and for true division); float tensors pass unchanged."""
    if dtypes.is_floating(t.data.dtype):
        return t
    be = t._backend
    return Tensor._wrap(be.xp.astype(t.data, dtypes.backend_dtype(be, dtypes.get_default_dtype())), be)


def _binary(op, a, b):
    """Both operands as (tensor-or-None, raw value); at least one is a Tensor.

    Two tensors of different dtypes are promoted first, by PyTorch's rules (:func:`_promote`);
    the common case, two tensors of one dtype, costs one identity check.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._backend is not b._backend:
                check_same_backend(op, a, b)
            xa, xb = a.data, b.data
            if xa.dtype is not xb.dtype and xa.dtype != xb.dtype:
                a, b = _promote(a, b)
                xa, xb = a.data, b.data
            return a, b, xa, xb
        b = as_operand(op, b, a)
        if isinstance(b, Tensor):  # a list or an array, now a tensor
            return _binary(op, a, b)
        return a, None, a.data, b
    a = as_operand(op, a, b)
    if isinstance(a, Tensor):
        return _binary(op, a, b)
    return None, b, a, b.data


_CATEGORY: dict = {}  # backend dtype -> 0 (bool), 1 (integer) or 2 (floating)


def _category(dtype) -> int:
    key = (type(dtype), dtype)
    try:
        return _CATEGORY[key]
    except KeyError:
        d = dtypes.as_dtype(dtype)
        found = _CATEGORY[key] = 2 if d.is_floating_point else 0 if d.name == "bool" else 1
        return found


def _promote(ta: Tensor, tb: Tensor):
    """Two tensors of different dtypes, cast by PyTorch's promotion rules (NumPy's differ).

    - Categories bool < integer < floating: the operand of the lower category takes the
      other's dtype (int64 + float32 is float32; bool * float16 is float16).
    - Within a category, a 0-d tensor takes the dtype of a tensor with dimensions
      (float32 + a 0-d float64 tensor is float32, as a Python number would be).
    - Otherwise (float32 + float64, int8 + int64, both with dimensions) the backend's
      own promotion applies, which is PyTorch's within a category.

    A floating 0-d tensor that requires grad is cast differentiably.
    """
    da, db = ta.data.dtype, tb.data.dtype
    ca, cb = _category(da), _category(db)
    if ca != cb:
        if ca < cb:
            return astype(ta, dtypes.as_dtype(db)), tb
        return ta, astype(tb, dtypes.as_dtype(da))
    a0, b0 = ta.data.ndim == 0, tb.data.ndim == 0
    if a0 and not b0:
        return astype(ta, dtypes.as_dtype(db)), tb
    if b0 and not a0:
        return ta, astype(tb, dtypes.as_dtype(da))
    return ta, tb


def _apply(op, fn, xa, xb, ta, tb):
    try:
        return fn(xa, xb)
    except (ValueError, TypeError) as exc:
        sa = ta.shape if ta is not None else ()
        sb = tb.shape if tb is not None else ()
        if "broadcast" in str(exc) or "shape" in str(exc):
            raise shape_error(op, sa, sb) from None
        raise TypeError(f"{op}: {exc}") from None


def _inputs(ta, tb):
    if ta is None:
        return (tb,)
    if tb is None:
        return (ta,)
    return (ta, tb)


def _pack(ta, tb, ga, gb):
    if ta is None:
        return (gb,)
    if tb is None:
        return (ga,)
    return (ga, gb)


def _graph(ta, tb, fa, fb):
    """A ``graph`` backward (Tensors in, Tensors out: :mod:`gdl.higher_order`) from the two
    gradient formulas ``fa(g)``, ``fb(g)``, each summed down to its input's shape."""
    def graph(g):
        ga = _unb(fa(g), ta.shape) if ta is not None else None
        gb = _unb(fb(g), tb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    return graph


def _same(g):
    return (g,)


def add(a, b) -> Tensor:
    """``a + b`` with broadcasting."""
    if type(b) in _SCALAR_TYPES and isinstance(a, Tensor):  # fast path: tensor + number
        if type(b) is float:
            a = _as_float(a)
        return result(a.data + b, a._backend, (a,), _pass_through, "Add", _same)
    if type(a) in _SCALAR_TYPES and isinstance(b, Tensor):
        if type(a) is float:
            b = _as_float(b)
        return result(a + b.data, b._backend, (b,), _pass_through, "Add", _same)
    ta, tb, xa, xb = _binary("add", a, b)
    out = _apply("add", lambda x, y: x + y, xa, xb, ta, tb)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp

    def backward(g):
        ga = unbroadcast(xp, g, xa.shape) if ta is not None else None
        gb = unbroadcast(xp, g, xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    return result(out, be, _inputs(ta, tb), backward, "Add", _graph(ta, tb, lambda g: g, lambda g: g))


def sub(a, b) -> Tensor:
    """``a - b`` with broadcasting."""
    if type(b) in _SCALAR_TYPES and isinstance(a, Tensor):  # fast path: tensor - number
        if type(b) is float:
            a = _as_float(a)
        return result(a.data - b, a._backend, (a,), _pass_through, "Sub", _same)
    if type(a) in _SCALAR_TYPES and isinstance(b, Tensor):  # number - tensor
        if type(a) is float:
            b = _as_float(b)
        return result(a - b.data, b._backend, (b,), lambda g: (-g,), "Sub", lambda g: (-g,))
    ta, tb, xa, xb = _binary("sub", a, b)
    out = _apply("sub", lambda x, y: x - y, xa, xb, ta, tb)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp

    def backward(g):
        ga = unbroadcast(xp, g, xa.shape) if ta is not None else None
        gb = unbroadcast(xp, -g, xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    return result(out, be, _inputs(ta, tb), backward, "Sub", _graph(ta, tb, lambda g: g, lambda g: -g))


def mul(a, b) -> Tensor:
    """``a * b`` elementwise, with broadcasting."""
    if type(b) in _SCALAR_TYPES and isinstance(a, Tensor):  # fast path: tensor * number
        if type(b) is float:
            a = _as_float(a)
        return result(a.data * b, a._backend, (a,), lambda g: (g * b,), "Mul", lambda g: (g * b,))
    if type(a) in _SCALAR_TYPES and isinstance(b, Tensor):
        if type(a) is float:
            b = _as_float(b)
        return result(a * b.data, b._backend, (b,), lambda g: (g * a,), "Mul", lambda g: (g * a,))
    ta, tb, xa, xb = _binary("mul", a, b)
    out = _apply("mul", lambda x, y: x * y, xa, xb, ta, tb)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp

    def backward(g):
        ga = unbroadcast(xp, g * xb, xa.shape) if ta is not None else None
        gb = unbroadcast(xp, g * xa, xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    graph = _graph(ta, tb, lambda g: g * (tb if tb is not None else xb), lambda g: g * (ta if ta is not None else xa))
    return result(out, be, _inputs(ta, tb), backward, "Mul", graph)


def div(a, b) -> Tensor:
    """``a / b`` elementwise, with broadcasting."""
    if type(b) in _SCALAR_TYPES and isinstance(a, Tensor):  # fast path: tensor / number
        a = _as_float(a)  # true division gives floats, in the default dtype
        return result(a.data / b, a._backend, (a,), lambda g: (g / b,), "Div", lambda g: (g / b,))
    if isinstance(a, Tensor):
        a = _as_float(a)  # int / int is a float too: the default dtype, as PyTorch (not float64)
    if isinstance(b, Tensor):
        b = _as_float(b)
    ta, tb, xa, xb = _binary("div", a, b)
    out = _apply("div", lambda x, y: x / y, xa, xb, ta, tb)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp

    def backward(g):
        ga = unbroadcast(xp, g / xb, xa.shape) if ta is not None else None
        gb = unbroadcast(xp, -g * out / xb, xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    num = ta if ta is not None else xa
    den = tb if tb is not None else xb
    graph = _graph(ta, tb, lambda g: g / den, lambda g: -g * num / (den * den))
    return result(out, be, _inputs(ta, tb), backward, "Div", graph)


def pow(a, b) -> Tensor:
    """``a ** b``; the exponent may be a number or a tensor (then ``a`` > 0).

    The gradients follow PyTorch's at the edges: ``x ** 0`` has gradient 0 in ``x``
    (also at ``x = 0``), and the exponent's gradient is 0 where the base is 0.
    An integer tensor with a Python float gives the default float dtype.
    """
    if _AMP[0]:
        a, b = _amp_cast("fp32", a, b)
    if type(b) is float and isinstance(a, Tensor):
        a = _as_float(a)
    elif type(a) is float and isinstance(b, Tensor):
        b = _as_float(b)
    ta, tb, xa, xb = _binary("pow", a, b)
    out = _apply("pow", lambda x, y: x**y, xa, xb, ta, tb)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp

    def backward(g):
        ga = gb = None
        if ta is not None:
            if tb is None and xb == 0:
                ga = xp.zeros_like(g)
            else:
                ga = g * xb * xa ** (xb - 1)
                if tb is not None:  # 0 where the exponent is 0 (not 0 * 0**-1 = nan)
                    ga = xp.where(xb == 0, xp.zeros_like(ga), ga)
                ga = unbroadcast(xp, ga, xa.shape)
        if tb is not None:
            base = xp.asarray(xa, dtype=out.dtype, device=be.device)
            safe = xp.where(base == 0, xp.ones_like(base), base)  # d/db 0**b = 0 (b > 0), as PyTorch
            gb = unbroadcast(xp, xp.where(base == 0, xp.zeros_like(out), g * out * xp.log(safe)), xb.shape)
        return _pack(ta, tb, ga, gb)

    return result(out, be, _inputs(ta, tb), backward, "Pow", _pow_graph(ta, tb, xa, xb, be))


def _pow_graph(ta, tb, xa, xb, be):
    """``pow``'s backward on Tensors, with the same edge rules."""
    import math

    base = ta if ta is not None else xa
    expo = tb if tb is not None else xb

    def grad_base(g):
        if tb is None:
            return g * 0.0 if xb == 0 else g * xb * ta ** (xb - 1)
        return where(xb == 0, 0.0, g * tb * ta ** (tb - 1))

    def grad_exponent(g):
        if ta is None:
            return g * 0.0 if xa == 0 else g * (xa ** tb) * math.log(xa)
        safe = where(xa == 0, 1.0, ta)
        return where(xa == 0, 0.0, g * base ** expo * log(safe))

    return _graph(ta, tb, grad_base, grad_exponent)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; on ties the gradient is split evenly."""
    return _minmax("maximum", a, b, True)


def minimum(a, b) -> Tensor:
    """Elementwise minimum; on ties the gradient is split evenly."""
    return _minmax("minimum", a, b, False)


def _float_with_scalar(a, b):
    """A Python float beside an integer tensor promotes it to the default float (PyTorch's rule),
    instead of the float being cast to the tensor's integer dtype."""
    if type(b) is float and isinstance(a, Tensor):
        return _as_float(a), b
    if type(a) is float and isinstance(b, Tensor):
        return a, _as_float(b)
    return a, b


def _minmax(op, a, b, is_max):
    a, b = _float_with_scalar(a, b)
    ta, tb, xa, xb = _binary(op, a, b)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp
    fn = xp.maximum if is_max else xp.minimum
    if (ta if ta is not None else tb).data.dtype == xp.bool:  # the Array API's maximum refuses bools
        fn = xp.logical_or if is_max else xp.logical_and
    if ta is None:
        xa = xp.asarray(xa, dtype=xb.dtype, device=be.device)
    if tb is None:
        xb = xp.asarray(xb, dtype=xa.dtype, device=be.device)
    out = _apply(op, fn, xa, xb, ta, tb)

    def backward(g):  # PyTorch's: g/2 each on a tie, g to the winner; with a NaN, g to both
        shared = xp.where(xa == xb, 0.5 * g, g)
        zero = xp.zeros_like(shared)
        ga = gb = None
        if ta is not None:
            ga = unbroadcast(xp, xp.where((xa < xb) if is_max else (xa > xb), zero, shared), xa.shape)
        if tb is not None:
            gb = unbroadcast(xp, xp.where((xa > xb) if is_max else (xa < xb), zero, shared), xb.shape)
        return _pack(ta, tb, ga, gb)

    def share(g, loses):  # (the masks made only here: bools, which need no gradient, have no order)
        return where(loses(), 0.0, where(xa == xb, 0.5 * g, g))

    a_loses = (lambda: xa < xb) if is_max else (lambda: xa > xb)
    b_loses = (lambda: xa > xb) if is_max else (lambda: xa < xb)
    graph = _graph(ta, tb, lambda g: share(g, a_loses), lambda g: share(g, b_loses))
    return result(out, be, _inputs(ta, tb), backward, op.capitalize(), graph)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (gradients flow to both)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _float_with_scalar(a, b)
    ta, tb, xa, xb = _binary("where", a, b)
    be = (ta if ta is not None else tb)._backend
    xp = be.xp
    if ta is None:
        xa = xp.asarray(xa, dtype=xb.dtype, device=be.device)
    if tb is None:
        xb = xp.asarray(xb, dtype=xa.dtype, device=be.device)
    try:
        out = xp.where(cond, xa, xb)
    except (ValueError, TypeError):
        raise shape_error("where", tuple(cond.shape), tuple(xa.shape), tuple(xb.shape)) from None

    def backward(g):
        zero = xp.zeros_like(g)
        ga = unbroadcast(xp, xp.where(cond, g, zero), xa.shape) if ta is not None else None
        gb = unbroadcast(xp, xp.where(cond, zero, g), xb.shape) if tb is not None else None
        return _pack(ta, tb, ga, gb)

    graph = _graph(ta, tb, lambda g: where(cond, g, 0.0), lambda g: where(cond, 0.0, g))
    return result(out, be, _inputs(ta, tb), backward, "Where", graph)


# -- unary ops --------------------------------------------------------------------------


def neg(x: Tensor) -> Tensor:
    return result(-x.data, x._backend, (x,), lambda g: (-g,), "Neg", lambda g: (-g,))


def exp(x: Tensor) -> Tensor:
    """``e ** x``; an integer tensor gives the default float dtype (as all float-valued ops)."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
    x = _as_float(x)
    out = x._backend.xp.exp(x.data)
    return result(out, x._backend, (x,), lambda g: (g * out,), "Exp", lambda g: (g * exp(x),))


def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
    x = _as_float(x)
    data = x.data
    return result(x._backend.xp.log(data), x._backend, (x,), lambda g: (g / data,), "Log", lambda g: (g / x,))


def sqrt(x: Tensor) -> Tensor:
    x = _as_float(x)
    out = x._backend.xp.sqrt(x.data)
    return result(out, x._backend, (x,), lambda g: (g / (2.0 * out),), "Sqrt", lambda g: (g / (2.0 * sqrt(x)),))


def abs(x: Tensor) -> Tensor:
    """``|x|``; backward ``g·sign(x)`` (0 at 0 and at NaN, as PyTorch)."""
    xp = x._backend.xp
    data = x.data

    def sign():
        s = xp.sign(data)
        return xp.where(s == s, s, xp.zeros_like(s))  # sign(NaN) is NaN: 0 instead

    return result(xp.abs(data), x._backend, (x,), lambda g: (g * sign(),), "Abs",
                  lambda g: (g * Tensor._wrap(sign(), x._backend),))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent; backward ``g·(1 - tanh²)`` (one fused kernel on CuPy)."""
    x = _as_float(x)
    be = x._backend
    out = be.xp.tanh(x.data)
    fused = be.fused.get("tanh_backward")
    graph = _tanh_graph(x)
    if fused is not None:
        return result(out, be, (x,), lambda g: (fused(g, out),), "Tanh", graph)
    return result(out, be, (x,), lambda g: (g * (1.0 - out * out),), "Tanh", graph)


def _tanh_graph(x):
    def graph(g):
        y = tanh(x)
        return (g * (1.0 - y * y),)

    return graph


def _sigmoid_graph(x):
    def graph(g):
        s = sigmoid(x)
        return (g * s * (1.0 - s),)

    return graph


def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, without overflow and to full relative accuracy for negative
    ``x`` too (the backend's ``sigmoid``)."""
    x = _as_float(x)
    be = x._backend
    fused = be.fused.get("sigmoid")
    if fused is not None:
        out = fused(x.data)
        back = be.fused["sigmoid_backward"]
        return result(out, be, (x,), lambda g: (back(g, out),), "Sigmoid", _sigmoid_graph(x))
    out = be.sigmoid(x.data)
    return result(out, be, (x,), lambda g: (g * out * (1.0 - out),), "Sigmoid", _sigmoid_graph(x))


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0."""
    be = x._backend
    fused = be.fused.get("relu")
    if fused is not None:
        out = fused(x.data)
        back = be.fused["relu_backward"]
        return result(out, be, (x,), lambda g: (back(g, out),), "Relu", lambda g: (where(out > 0, g, 0.0),))
    xp = be.xp
    out = xp.maximum(x.data, 0)  # a Python int keeps an integer tensor's dtype, as PyTorch
    return result(out, be, (x,), lambda g: (xp.where(out > 0, g, 0.0),), "Relu", lambda g: (where(out > 0, g, 0.0),))


def clip(x: Tensor, min=None, max=None) -> Tensor:
    """Values limited to ``[min, max]``; the gradient is 0 where clipping acted."""
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) is larger than max ({max})")
    if type(min) is float or type(max) is float:
        x = _as_float(x)  # an int tensor clipped to float bounds is a float tensor, as PyTorch
    xp = x._backend.xp
    data = x.data
    out = xp.clip(data, min, max)
    inside = out == data

    def backward(g):
        return (xp.where(inside, g, xp.zeros_like(g)),)

    return result(out, x._backend, (x,), backward, "Clip", lambda g: (where(inside, g, 0.0),))


clamp = clip  # PyTorch's name (``torch.clamp``); the method ``x.clamp`` is the same op


def astype(x: Tensor, dtype) -> Tensor:
    """A copy as ``dtype`` (differentiable between floating dtypes)."""
    xp = x._backend.xp
    want = dtypes.backend_dtype(x._backend, dtype)
    src = x.data.dtype
    if want == src:
        return x
    out = xp.astype(x.data, want)
    if not dtypes.as_dtype(dtype).is_floating_point:
        return Tensor._wrap(out, x._backend)
    return result(out, x._backend, (x,), lambda g: (xp.astype(g, src),), "ToCopy",
                  lambda g: (astype(g, dtypes.as_dtype(src)),))


def clone(x: Tensor) -> Tensor:
    xp = x._backend.xp
    return result(xp.asarray(x.data, copy=True), x._backend, (x,), lambda g: (g,), "Clone", _same)


# -- comparisons (no gradients) -------------------------------------------------------


def _compare(op, fn):
    def compare(a, b):
        ta, tb, xa, xb = _binary(op, a, b)
        return Tensor._wrap(_apply(op, fn, xa, xb, ta, tb), (ta if ta is not None else tb)._backend)

    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` comparison; a bool tensor without gradient."
    return compare


eq = _compare("eq", lambda x, y: x == y)
ne = _compare("ne", lambda x, y: x != y)
lt = _compare("lt", lambda x, y: x < y)
le = _compare("le", lambda x, y: x <= y)
gt = _compare("gt", lambda x, y: x > y)
ge = _compare("ge", lambda x, y: x >= y)


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with ``value`` where the bool ``mask`` is True, as ``torch.Tensor.masked_fill``.

    ``mask`` broadcasts to ``x``'s shape; ``value`` is a number or a 0-d tensor.
    Differentiable in ``x`` (0 where filled) and in a tensor ``value``.
    """
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {type(mask).__name__}")
    check_same_backend("masked_fill", x, mask)
    if mask.data.dtype != x._backend.xp.bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype.name} (compare first, e.g. m > 0)")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        value = astype(value, x.dtype)
    elif not isinstance(value, (int, float, bool)):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    elif type(value) is float and not dtypes.is_floating(x.data.dtype):
        value = int(value)  # the result keeps x's dtype, as PyTorch (where() would promote)
    out = where(mask, value, x)
    if out.shape != x.shape:
        raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast to the tensor's shape {x.shape}")
    return out


__all__ = [
    "abs",
    "add",
    "astype",
    "clamp",
    "clip",
    "clone",
    "div",
    "eq",
    "exp",
    "ge",
    "gt",
    "le",
    "log",
    "lt",
    "masked_fill",
    "maximum",
    "minimum",
    "mul",
    "ne",
    "neg",
    "pow",
    "relu",
    "sigmoid",
    "sqrt",
    "sub",
    "tanh",
    "where",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {}
