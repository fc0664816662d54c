"""Adaptive pooling layers (AdaptiveAvgPool1d/2d and AdaptiveMaxPool1d/2d), max-unpooling
(MaxUnpool1d/2d) and power-average pooling (LPPool1d/2d).

The adaptive pools give a fixed output size whatever the input size (PyTorch's windows; see
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
from gdl.nn.functional.conv import _pair, _single
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


class _MaxUnpool(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        if self._dims == 2:
            self.kernel_size = _pair(name, "kernel_size", kernel_size, 1)
            self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, 1)
            self.padding = _pair(name, "padding", padding, 0)
        else:
            self.kernel_size = (_single(name, "kernel_size", kernel_size, 1),)
            self.stride = self.kernel_size if stride is None else (_single(name, "stride", stride, 1),)
            self.padding = (_single(name, "padding", padding, 0),)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of ``MaxPool2d(..., return_indices=True)``:
    ``forward(input, indices, output_size=None)`` puts each value back at its index in zeros."""

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpool):
    """:class:`MaxUnpool2d` for ``(N, C, L)`` input and ``MaxPool1d``'s indices."""

    _dims = 1

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:
        return F.max_unpool1d(input, indices, self.kernel_size[0], self.stride[0], self.padding[0], output_size)


class _LPPool(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool2d(_LPPool):
    """Power-average pooling ``(Σ_window xᵖ)^(1/p)`` of ``(N, C, H, W)`` input
    (:func:`~gdl.nn.functional.lp_pool2d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPool):
    """Power-average pooling of ``(N, C, L)`` input (:func:`~gdl.nn.functional.lp_pool1d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "LPPool1d",
    "LPPool2d",
]
