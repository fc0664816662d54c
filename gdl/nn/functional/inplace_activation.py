"""In-place functional activations (``F.relu_``, ``F.elu_``, ...), as PyTorch's.

Each runs its out-of-place activation and writes the result into ``input`` (gdl's in-place
rule, :mod:`gdl.functional.inplace`), returning ``input``. As every gdl in-place op, it refuses
a tensor that requires grad while grad mode is on (PyTorch refuses a leaf that requires grad;
gdl refuses non-leaves too: use the out-of-place function inside a graph).

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.tensor([-1.0, 0.5])
>>> F.leaky_relu_(x, 0.1) is x, x.tolist()
(True, [-0.10000000149011612, 0.5])
"""

from __future__ import annotations

from gdl.functional.inplace import _apply, relu_
from gdl.nn.functional.activation import celu, elu, hardtanh, leaky_relu, selu
from gdl.nn.functional.activation import threshold as _threshold
from gdl.nn.functional.dropout_variants import rrelu
from gdl.tensor import Tensor

__all__ = ["relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "rrelu_", "threshold_"]


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`~gdl.nn.functional.elu` in place; returns ``input``."""
    return _apply("elu_", input, lambda: elu(input, alpha))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`~gdl.nn.functional.celu` in place; returns ``input``."""
    return _apply("celu_", input, lambda: celu(input, alpha))


def selu_(input: Tensor) -> Tensor:
    """:func:`~gdl.nn.functional.selu` in place; returns ``input``."""
    return _apply("selu_", input, lambda: selu(input))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """:func:`~gdl.nn.functional.leaky_relu` in place; returns ``input``."""
    return _apply("leaky_relu_", input, lambda: leaky_relu(input, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """:func:`~gdl.nn.functional.hardtanh` in place; returns ``input``."""
    return _apply("hardtanh_", input, lambda: hardtanh(input, min_val, max_val))


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """:func:`~gdl.nn.functional.rrelu` in place (random slopes when ``training``); returns ``input``."""
    return _apply("rrelu_", input, lambda: rrelu(input, lower, upper, training))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """:func:`~gdl.nn.functional.threshold` in place (``value`` where ``input <= threshold``); returns ``input``."""
    return _apply("threshold_", input, lambda: _threshold(input, threshold, value))
