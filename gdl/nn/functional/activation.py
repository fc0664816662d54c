"""Activations beyond the core ops (relu, tanh, sigmoid, softmax live in gdl.functional)."""

from __future__ import annotations

import math

from gdl.tensor import Tensor, result

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erf(xp, x):
    """erf(x) to about 1e-7 (Abramowitz & Stegun 7.1.26); the Array API has no erf."""
    sign = xp.sign(x)
    a = xp.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * xp.exp(-a * a))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``x·Φ(x)``; ``approximate="tanh"`` uses the tanh formula.

    Backward: ``Φ(x) + x·φ(x)`` (exact), or the derivative of the tanh form.
    """
    xp = x._backend.xp
    data = x.data
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (data + 0.044715 * data**3)
        th = xp.tanh(inner)
        out = 0.5 * data * (1.0 + th)

        def backward(g):
            dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * data * data)
            return (g * (0.5 * (1.0 + th) + 0.5 * data * (1.0 - th * th) * dinner),)

    elif approximate == "none":
        cdf = 0.5 * (1.0 + _erf(xp, data * (1.0 / math.sqrt(2.0))))
        out = data * cdf

        def backward(g):
            return (g * (cdf + data * _INV_SQRT_2PI * xp.exp(-0.5 * data * data)),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return result(out, x._backend, (x,), backward, "Gelu")


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    xp = x._backend.xp
    pos = x.data > 0
    out = xp.where(pos, x.data, x.data * negative_slope)
    return result(out, x._backend, (x,), lambda g: (xp.where(pos, g, g * negative_slope),), "LeakyRelu")


__all__ = [
    "gelu",
    "leaky_relu",
]
