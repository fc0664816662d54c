"""Adaptive pooling layers: AdaptiveAvgPool1d/2d and AdaptiveMaxPool1d/2d.

A fixed output size whatever the input size (PyTorch's windows; see
:mod:`gdl.nn.functional.pooling`). The window pools (``MaxPool2d``, ``AvgPool2d``, ...)
live in :mod:`gdl.nn.conv`.

>>> import gdl
>>> from gdl import nn
>>> pool = nn.AdaptiveAvgPool2d((1, 1))       # global average pooling
>>> pool
AdaptiveAvgPool2d(output_size=(1, 1))
>>> pool(gdl.zeros(8, 16, 7, 9)).shape
(8, 16, 1, 1)
>>> nn.AdaptiveMaxPool2d((None, 2))(gdl.zeros(8, 16, 7, 9)).shape
(8, 16, 7, 2)
"""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.module import Module
from gdl.tensor import Tensor


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """The mean of each adaptive window of ``(N, C, H, W)`` input
    (:func:`gdl.nn.functional.adaptive_avg_pool2d`); ``output_size`` is an int or
    ``(oH, oW)``, a ``None`` entry keeping that input size."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """The mean of each adaptive window of ``(N, C, L)`` input."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """The maximum of each adaptive window of ``(N, C, H, W)`` input
    (:func:`gdl.nn.functional.adaptive_max_pool2d`); ``return_indices=True`` returns
    ``(output, indices)``, the indices flat in each channel's ``H × W``."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = bool(return_indices)

    def forward(self, x: Tensor):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """The maximum of each adaptive window of ``(N, C, L)`` input."""

    def forward(self, x: Tensor):
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
]
