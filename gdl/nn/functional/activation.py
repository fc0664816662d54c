"""Activations beyond the core ops (relu, tanh, sigmoid, softmax live in gdl.functional).

Each function computes its forward once from the raw array, keeps what its backward
needs, and defines that backward right beside it, twice: on raw arrays (the fast path)
and, as ``graph``, with Tensor ops recomputed from the input (so ``create_graph=True``
can differentiate the gradient again; see :mod:`gdl.higher_order`). ``inplace=`` is accepted where
PyTorch has it, but gdl never writes into its input: the result is always a new
tensor. Integer (and bool) inputs give the default float dtype (``gdl.get_default_dtype()``).
``gumbel_softmax`` draws its noise from the backend's seeded generator (``gdl.manual_seed``).

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.tensor([-100.0, 0.0, 3.0])
>>> F.elu(x)
tensor([-1.,  0.,  3.], backend='numpy')
>>> F.hardtanh(x, -1.0, 1.0)
tensor([-1.,  0.,  1.], backend='numpy')
>>> F.softplus(gdl.tensor([-1000.0, 1000.0]))  # no overflow either way
tensor([   0., 1000.], backend='numpy')
"""

from __future__ import annotations

import math
import warnings

from gdl import dtypes
from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_axis, check_same_backend
from gdl.functional.elementwise import _as_float
from gdl.nn.functional._arguments import _check_tensor, _real
from gdl.tensor import Tensor, result

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float(x: Tensor) -> Tensor:
    """``x`` as a floating tensor: integer and bool inputs become the default float dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a gdl Tensor, got {type(x).__name__}")
    return x if dtypes.is_floating(x.data.dtype) else _as_float(x)


def _sigmoid(be, data):
    """``1 / (1 + exp(-x))`` of a raw array, without overflow (the fused kernel on CuPy)."""
    fused = be.fused.get("sigmoid")
    return fused(data) if fused is not None else be.sigmoid(data)


def _erf(xp, x):
    """erf(x) to about 1e-7 (Abramowitz & Stegun 7.1.26); the Array API has no erf."""
    sign = xp.sign(x)
    a = xp.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * xp.exp(-a * a))


def _normal_cdf(x: Tensor, cdf) -> Tensor:
    """``Φ(x)`` as a graph node: the forward's own array ``cdf``, derivative ``φ(x)`` (exact,
    not that of the erf approximation), so the GELU gradient can be differentiated again."""
    xp = x._backend.xp
    return result(cdf, x._backend, (x,), lambda g: (g * (_INV_SQRT_2PI * xp.exp(-0.5 * x.data * x.data)),),
                  "NormalCdf", lambda g: (g * (_INV_SQRT_2PI * ops.exp(-0.5 * x * x)),))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``x·Φ(x)``; ``approximate="tanh"`` uses the tanh formula.

    Backward: ``Φ(x) + x·φ(x)`` (exact), or the derivative of the tanh form.
    """
    x = _float(x)
    xp = x._backend.xp
    data = x.data
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (data + 0.044715 * (data * data * data))  # as PyTorch; data**3 is 100x slower
        th = xp.tanh(inner)
        out = 0.5 * data * (1.0 + th)

        def backward(g):
            dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * data * data)
            return (g * (0.5 * (1.0 + th) + 0.5 * data * (1.0 - th * th) * dinner),)

        def graph(g):
            t = ops.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
            dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner),)

    elif approximate == "none":
        cdf = 0.5 * (1.0 + _erf(xp, data * (1.0 / math.sqrt(2.0))))
        out = data * cdf

        def backward(g):
            return (g * (cdf + data * _INV_SQRT_2PI * xp.exp(-0.5 * data * data)),)

        def graph(g):
            return (g * (_normal_cdf(x, cdf) + x * _INV_SQRT_2PI * ops.exp(-0.5 * x * x)),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return result(out, x._backend, (x,), backward, "Gelu", graph)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope·x`` (a new tensor even with ``inplace=True``)."""
    x = _float(x)
    xp = x._backend.xp
    pos = x.data > 0
    out = xp.where(pos, x.data, x.data * negative_slope)
    return result(out, x._backend, (x,), lambda g: (xp.where(pos, g, g * negative_slope),), "LeakyRelu",
                  lambda g: (ops.where(pos, g, g * negative_slope),))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish): ``x·σ(x)``; backward ``σ(x)·(1 + x·(1 - σ(x)))``."""
    x = _float(input)
    be = x._backend
    d = x.data
    s = _sigmoid(be, d)
    out = d * s

    def graph(g):
        st = ops.sigmoid(x)
        return (g * (st * (1.0 + x * (1.0 - st))),)

    return result(out, be, (x,), lambda g: (g * (s * (1.0 + d * (1.0 - s))),), "Silu", graph)


def _elu(op, input, alpha, scale=1.0, input_scale=1.0):
    """``scale·x`` for ``x > 0``, else ``scale·alpha·(exp(x·input_scale) - 1)`` (ELU, SELU, CELU)."""
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    pos = d > 0
    m = xp.minimum(d, 0.0)  # exp of the non-positive part only: no overflow for large x
    if input_scale != 1.0:
        m = m * input_scale
    coef = alpha * scale
    neg = coef * xp.expm1(m)
    out = xp.where(pos, d * scale if scale != 1.0 else d, neg)

    def backward(g):  # d/dx of the negative branch is scale·alpha·input_scale·exp(...) = (neg + coef)·input_scale
        dneg = (neg + coef) * input_scale if input_scale != 1.0 else neg + coef
        return (xp.where(pos, g * scale if scale != 1.0 else g, g * dneg),)

    def graph(g):  # exp of the non-positive part only, as the forward
        e = ops.exp(ops.where(pos, 0.0, x) * input_scale if input_scale != 1.0 else ops.where(pos, 0.0, x))
        return (ops.where(pos, g * scale, g * (e * (coef * input_scale))),)

    return result(out, x._backend, (x,), backward, op, graph)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU: ``x`` for ``x > 0``, else ``alpha·(exp(x) - 1)``."""
    return _elu("Elu", input, alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU: ``scale·elu(x, alpha)`` with ``alpha ≈ 1.6733`` and ``scale ≈ 1.0507``."""
    return _elu("Selu", input, _SELU_ALPHA, _SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU: ``max(0, x) + min(0, alpha·(exp(x/alpha) - 1))``; ``alpha`` must not be 0."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the formula divides by it)")
    return _elu("Celu", input, alpha, 1.0, 1.0 / alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta·x)) / beta``, and ``x`` itself where ``beta·x > threshold``.

    Computed as ``max(bx, 0) + log1p(exp(-|bx|))``, so no input overflows; backward
    ``σ(beta·x)`` (1 above the threshold).
    """
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    bx = d * beta if beta != 1.0 else d
    e = xp.exp(-xp.abs(bx))
    sp = xp.maximum(bx, 0.0) + xp.log1p(e)
    if beta != 1.0:
        sp = sp / beta
    over = bx > threshold
    out = xp.where(over, d, sp)

    def backward(g):
        r = 1.0 / (1.0 + e)
        return (xp.where(over, g, g * xp.where(bx >= 0, r, e * r)),)

    def graph(g):
        return (ops.where(over, g, g * ops.sigmoid(x * beta if beta != 1.0 else x)),)

    return result(out, x._backend, (x,), backward, "Softplus", graph)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish: ``x·tanh(softplus(x))``; backward ``t + x·σ(x)·(1 - t²)`` with ``t = tanh(softplus(x))``."""
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    e = xp.exp(-xp.abs(d))
    t = xp.tanh(xp.maximum(d, 0.0) + xp.log1p(e))
    out = d * t

    def backward(g):
        r = 1.0 / (1.0 + e)
        sig = xp.where(d >= 0, r, e * r)
        return (g * (t + d * sig * (1.0 - t * t)),)

    def graph(g):
        tt = ops.tanh(softplus(x, threshold=math.inf))
        return (g * (tt + x * ops.sigmoid(x) * (1.0 - tt * tt)),)

    return result(out, x._backend, (x,), backward, "Mish", graph)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; the gradient is 0 outside and at both bounds (PyTorch's)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, max_val={max_val}")
    return _hardtanh("Hardtanh", input, min_val, max_val)


def _hardtanh(op, input, lo, hi):
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    out = xp.clip(d, lo, hi)
    return result(out, x._backend, (x,), lambda g: (xp.where((d > lo) & (d < hi), g, 0.0),), op,
                  lambda g: (ops.where((d > lo) & (d < hi), g, 0.0),))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at 0 and 6, as PyTorch's."""
    return _hardtanh("Relu6", input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between (gradient 1/6 strictly inside)."""
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    out = xp.clip(d + 3.0, 0.0, 6.0) / 6.0
    return result(out, x._backend, (x,), lambda g: (xp.where((d > -3.0) & (d < 3.0), g / 6.0, 0.0),), "Hardsigmoid",
                  lambda g: (ops.where((d > -3.0) & (d < 3.0), g / 6.0, 0.0),))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x·relu6(x + 3) / 6``; gradient 0 for ``x <= -3``, ``x/3 + 1/2`` for ``-3 < x < 3``, 1 above."""
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    out = d * xp.clip(d + 3.0, 0.0, 6.0) / 6.0

    def backward(g):
        inner = xp.where(d < 3.0, g * (d / 3.0 + 0.5), g)
        return (xp.where(d <= -3.0, 0.0, inner),)

    def graph(g):
        return (ops.where(d <= -3.0, 0.0, ops.where(d < 3.0, g * (x / 3.0 + 0.5), g)),)

    return result(out, x._backend, (x,), backward, "Hardswish", graph)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(σ(x)) = min(x, 0) - log1p(exp(-|x|))``: finite for every ``x``; backward ``σ(-x)``."""
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    e = xp.exp(-xp.abs(d))
    out = xp.minimum(d, 0.0) - xp.log1p(e)

    def backward(g):
        return (g * (xp.where(d < 0, 1.0, e) / (1.0 + e)),)

    return result(out, x._backend, (x,), backward, "LogSigmoid", lambda g: (g * ops.sigmoid(-x),))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``; backward ``1 / (1 + |x|)²``."""
    x = _float(input)
    xp = x._backend.xp
    a = 1.0 + xp.abs(x.data)
    out = x.data / a

    def graph(g):
        at = 1.0 + ops.abs(x)
        return (g / (at * at),)

    return result(out, x._backend, (x,), lambda g: (g / (a * a),), "Softsign", graph)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``; backward ``tanh(x)²``."""
    x = _float(input)
    t = x._backend.xp.tanh(x.data)

    def graph(g):
        tt = ops.tanh(x)
        return (g * (tt * tt),)

    return result(x.data - t, x._backend, (x,), lambda g: (g * (t * t),), "Tanhshrink", graph)


def _check_lambd(op, lambd):
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be >= 0, got {lambd}")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0 (``lambd >= 0``)."""
    _check_lambd("softshrink", lambd)
    x = _float(input)
    xp = x._backend.xp
    d = x.data
    out = d - xp.clip(d, -lambd, lambd)
    return result(out, x._backend, (x,), lambda g: (xp.where(xp.abs(d) > lambd, g, 0.0),), "Softshrink",
                  lambda g: (ops.where(xp.abs(d) > lambd, g, 0.0),))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    x = _float(input)
    xp = x._backend.xp
    keep = xp.abs(x.data) > lambd
    out = xp.where(keep, x.data, 0.0)
    return result(out, x._backend, (x,), lambda g: (xp.where(keep, g, 0.0),), "Hardshrink",
                  lambda g: (ops.where(keep, g, 0.0),))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``; the gradient is 0 where replaced."""
    x = _float(input)
    xp = x._backend.xp
    keep = x.data > threshold
    out = xp.where(keep, x.data, value)
    return result(out, x._backend, (x,), lambda g: (xp.where(keep, g, 0.0),), "Threshold",
                  lambda g: (ops.where(keep, g, 0.0),))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` in halves ``a, b``; ``a·σ(b)``.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.glu(gdl.tensor([[1.0, 2.0, 0.0, 100.0]]))
    tensor([[0.5, 2. ]], backend='numpy')
    """
    x = _float(input)
    if x.ndim == 0:
        raise ValueError("glu: does not support 0-d tensors (the halved dimension must be even)")
    axis = check_axis(dim, x.ndim, "glu")
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size {n}")
    be = x._backend
    xp = be.xp
    lead = (slice(None),) * axis
    a = x.data[lead + (slice(0, n // 2), ...)]
    s = _sigmoid(be, x.data[lead + (slice(n // 2, n), ...)])
    out = a * s

    def backward(g):
        ga = g * s
        return (xp.concat([ga, ga * a * (1.0 - s)], axis=axis),)

    def graph(g):
        at, st = ops.narrow(x, axis, 0, n // 2), ops.sigmoid(ops.narrow(x, axis, n // 2, n // 2))
        ga = g * st
        return (ops.cat([ga, ga * at * (1.0 - st)], dim=axis),)

    return result(out, be, (x,), backward, "Glu", graph)


def _implicit_softmax_dim(op, ndim):
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``: the smallest entries get the largest weights.

    ``dim=None`` picks PyTorch's deprecated implicit dimension (0 for 0-, 1- and 3-D
    inputs, else 1) with a warning. ``dtype`` converts the input first.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.softmin(gdl.tensor([0.0, 0.0, 1000.0]), dim=0)
    tensor([0.5, 0.5, 0. ], backend='numpy')
    """
    if dtype is not None:
        from gdl.functional.elementwise import astype

        input = astype(input, dtype)
    x = _float(input)
    if dim is None:
        dim = _implicit_softmax_dim("softmin", x.ndim)
    axis = check_axis(dim, x.ndim, "softmin")
    xp = x._backend.xp
    e = xp.exp(xp.min(x.data, axis=axis, keepdims=True) - x.data)
    out = e / xp.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (out * (xp.sum(g * out, axis=axis, keepdims=True) - g),)

    def graph(g):
        o = ops.softmax(-x, dim=axis)
        return (o * (ops.sum(g * o, axis=axis, keepdims=True) - g),)

    return result(out, x._backend, (x,), backward, "Softmin", graph)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight·x``; ``weight`` has 1 element or one per channel (dim 1).

    Differentiable in both; the weight's gradient sums ``g·x`` over the non-positive
    entries of every other dimension.
    """
    if _AMP[0]:
        input, weight = _amp_cast("low", input, weight)
    x = _float(input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a gdl Tensor, got {type(weight).__name__}")
    check_same_backend("prelu", x, weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    nw = weight.numel()
    if nw != 1 and nw != channels:
        raise ValueError(
            f"prelu: mismatch of parameter numbers and input channel size: found {nw} parameters "
            f"(weight shape {weight.shape}) and channel size {channels} (input shape {x.shape})"
        )
    xp = x._backend.xp
    d = x.data
    if nw == 1:
        w = xp.reshape(weight.data, ())
        axes = tuple(range(x.ndim))
    else:
        w = xp.reshape(weight.data, (1, channels) + (1,) * (x.ndim - 2))
        axes = (0,) + tuple(range(2, x.ndim))
    pos = d > 0
    out = xp.where(pos, d, w * d)
    wshape = tuple(weight.data.shape)

    def backward(g):
        gx = xp.where(pos, g, g * w) if x.requires_grad else None
        gw = None
        if weight.requires_grad:
            gw = xp.reshape(xp.sum(xp.where(pos, 0.0, g * d), axis=axes), wshape)
        return (gx, gw)

    def graph(g):
        gx = gw = None
        if x.requires_grad:
            gx = ops.where(pos, g, g * ops.reshape(weight, tuple(w.shape)))
        if weight.requires_grad:
            gw = ops.reshape(ops.sum(ops.where(pos, 0.0, g * x), axis=axes), wshape)
        return (gx, gw)

    return result(out, x._backend, (x, weight), backward, "Prelu", graph)


def _gumbel_noise(be, shape, dtype):
    """Standard Gumbel samples ``-log(E)``, ``E ~ Exp(1)``, from the backend's seeded generator
    (``E = -log(1 - U)``, kept above the smallest normal number so the noise stays finite)."""
    xp = be.xp
    u = be.uniform(tuple(shape), dtype=dtype)
    e = -xp.log1p(-u)
    e = xp.maximum(e, xp.full((), xp.finfo(dtype).smallest_normal, dtype=dtype, device=be.device))
    return -xp.log(e)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + G)/tau, dim)`` with
    ``G`` standard Gumbel noise drawn from the backend's generator (``gdl.manual_seed`` makes
    it repeat), as ``torch.nn.functional.gumbel_softmax``. ``hard=True`` returns the one-hot
    of each sample's arg-max whose gradient is the soft sample's (straight-through:
    ``y_hard - y_soft.detach() + y_soft``). ``eps`` is unused (deprecated in PyTorch too).

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> y = F.gumbel_softmax(gdl.zeros(2, 5), hard=True)
    >>> y.sum(dim=-1)
    tensor([1., 1.], backend='numpy')
    """
    op = "gumbel_softmax"
    _check_tensor(op, "logits", logits)
    tau = _real(op, "tau", tau)
    if tau <= 0:
        raise ValueError(f"{op}: tau must be > 0, got {tau}")
    if logits.ndim == 0:
        raise ValueError(f"{op}: expected logits with at least one dimension, got a 0-d tensor")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -logits.ndim <= dim < logits.ndim:
        raise ValueError(f"{op}: dim {dim!r} is out of range for logits of shape {logits.shape}")
    be = logits._backend
    xp = be.xp
    noise = Tensor._wrap(_gumbel_noise(be, logits.shape, logits.data.dtype), be)
    y_soft = ops.softmax((logits + noise) / tau, dim=dim)
    if not hard:
        return y_soft
    axis = dim % logits.ndim
    first = xp.argmax(y_soft.data, axis=axis, keepdims=True)
    shape = [1] * logits.ndim
    shape[axis] = logits.shape[axis]
    positions = xp.reshape(xp.arange(logits.shape[axis], dtype=first.dtype, device=be.device), tuple(shape))
    y_hard = Tensor._wrap(xp.astype(positions == first, y_soft.data.dtype), be)
    return y_hard - y_soft.detach() + y_soft


__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "logsigmoid",
    "mish",
    "prelu",
    "relu6",
    "selu",
    "silu",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
]
