"""Padding layers (constant, zero, reflection, replication, circular): modules around ``F.pad``.

``padding`` is an int (the same on every side) or a tuple with PyTorch's order,
last dimension first: ``(left, right)`` for 1d, ``(left, right, top, bottom)`` for 2d,
``(left, right, top, bottom, front, back)`` for 3d.

>>> import gdl
>>> from gdl import nn
>>> nn.ReflectionPad2d((1, 1, 0, 0))(gdl.tensor([[[[1.0, 2.0, 3.0]]]]))
tensor([[[[2., 1., 2., 3., 2.]]]], backend='numpy')
>>> nn.ZeroPad2d(1)
ZeroPad2d((1, 1, 1, 1))
"""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.module import Module


def _padding_tuple(name, padding, nd):
    want = 2 * nd
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * want
    if isinstance(padding, (tuple, list)) and len(padding) == want and all(
        isinstance(p, int) and not isinstance(p, bool) for p in padding
    ):
        return tuple(padding)
    raise ValueError(f"{name}: padding must be an int or a tuple of {want} ints, got {padding!r}")


class _PadNd(Module):
    """Pads the last ``_nd`` dimensions with ``F.pad(x, padding, _mode)``."""

    _mode = "constant"
    _nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding_tuple(type(self).__name__, padding, self._nd)

    def forward(self, x):
        return F.pad(x, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with ``value``: ``padding`` = int or ``(left, right)``."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dimensions with ``value``: ``padding`` = int or ``(left, right, top, bottom)``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dimensions with ``value``: ``padding`` = int or a 6-tuple."""

    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dimension with zeros: ``padding`` = int or ``(left, right)``."""


class ZeroPad2d(_ZeroPadNd):
    """Pads the last two dimensions with zeros: ``padding`` = int or ``(left, right, top, bottom)``."""

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last three dimensions with zeros: ``padding`` = int or a 6-tuple."""

    _nd = 3


class ReflectionPad1d(_PadNd):
    """Mirrors the last dimension at its edges (edge not repeated); each amount < the size."""

    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Mirrors the last two dimensions at their edges (edge not repeated)."""

    _mode = "reflect"
    _nd = 2


class ReflectionPad3d(_PadNd):
    """Mirrors the last three dimensions at their edges (edge not repeated)."""

    _mode = "reflect"
    _nd = 3


class ReplicationPad1d(_PadNd):
    """Repeats the edge values of the last dimension."""

    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Repeats the edge values of the last two dimensions."""

    _mode = "replicate"
    _nd = 2


class ReplicationPad3d(_PadNd):
    """Repeats the edge values of the last three dimensions."""

    _mode = "replicate"
    _nd = 3


class CircularPad1d(_PadNd):
    """Wraps the last dimension around (the left pad copies the right end, and the other way)."""

    _mode = "circular"


class CircularPad2d(_PadNd):
    """Wraps the last two dimensions around."""

    _mode = "circular"
    _nd = 2


class CircularPad3d(_PadNd):
    """Wraps the last three dimensions around."""

    _mode = "circular"
    _nd = 3


__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]
