"""Weight initialisation, in place, from the backend's seeded generator.

``gdl.manual_seed(s)`` before building a model makes its weights repeatable.

>>> import gdl
>>> w = gdl.nn.Parameter(gdl.zeros(100, 784))
>>> _ = gdl.nn.init.kaiming_uniform_(w, nonlinearity="relu")
"""

from __future__ import annotations

import math

from gdl.tensor import Tensor


def _fill(t: Tensor, data) -> Tensor:
    t.data = data
    return t


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale for an activation (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(t: Tensor) -> tuple[int, int]:
    """Fans of a weight laid out as PyTorch's: ``(out, in, *kernel)``."""
    if t.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got shape {t.shape}")
    receptive = 1
    for s in t.shape[2:]:
        receptive *= s
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(t, mode):
    fan_in, fan_out = fan_in_and_fan_out(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def _no_elements(t: Tensor) -> bool:
    """Nothing to fill (and fans of 0): the fan-based inits leave it alone, as PyTorch's."""
    return 0 in t.shape


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill(t, t._backend.uniform(t.shape, a, b, dtype=t.data.dtype))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples from N(mean, std²)."""
    return _fill(t, t._backend.normal(t.shape, mean, std, dtype=t.data.dtype))


def constant_(t: Tensor, value: float) -> Tensor:
    xp = t._backend.xp
    return _fill(t, xp.full(t.shape, value, dtype=t.data.dtype, device=t._backend.device))


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain·sqrt(6 / (fan_in + fan_out))."""
    if _no_elements(t):
        return t
    fan_in, fan_out = fan_in_and_fan_out(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out))."""
    if _no_elements(t):
        return t
    fan_in, fan_out = fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He uniform: U(-b, b) with b = gain·sqrt(3 / fan)."""
    if _no_elements(t):
        return t
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(t, mode))
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He normal: N(0, std²) with std = gain / sqrt(fan) (the book's ch13 Linear)."""
    if _no_elements(t):
        return t
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    return normal_(t, 0.0, std)
