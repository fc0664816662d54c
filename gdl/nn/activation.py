"""Activation modules: thin wrappers around the functional forms."""

from __future__ import annotations

from gdl import functional as ops
from gdl.nn import functional as F
from gdl.nn.module import Module


class ReLU(Module):
    """``max(x, 0)`` (the book's ch6 ``relu``)."""

    def forward(self, x):
        return ops.relu(x)


class Tanh(Module):
    """``tanh(x)``; its derivative is ``1 - tanh(x)²`` (book ch9)."""

    def forward(self, x):
        return ops.tanh(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``; its derivative is ``s·(1 - s)``."""

    def forward(self, x):
        return ops.sigmoid(x)


class Softmax(Module):
    """``exp(x) / Σ exp(x)`` along ``dim`` (max-shifted)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.log_softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """``x·Φ(x)``; ``approximate="tanh"`` for the tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


__all__ = [
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "GELU",
    "LeakyReLU",
]
