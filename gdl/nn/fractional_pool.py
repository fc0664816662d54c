"""Fractional max-pooling layers (FractionalMaxPool2d/3d; :mod:`gdl.nn.functional.fractional_pool`).

>>> import gdl
>>> pool = gdl.nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))
>>> pool(gdl.randn(2, 4, 10, 12)).shape
(2, 4, 5, 6)
"""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.module import Module
from gdl.tensor import Tensor

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


class _FractionalMaxPool(Module):
    _d = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices: bool = False,
                 _random_samples=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = self._ntuple(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = self._ntuple(output_size) if output_size is not None else None
        self.output_ratio = self._ntuple(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got {output_ratio})")

    def _ntuple(self, value) -> tuple:
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * self._d

    def extra_repr(self) -> str:
        size = f"output_size={self.output_size}" if self.output_size is not None else f"output_ratio={self.output_ratio}"
        return f"kernel_size={self.kernel_size}, {size}, return_indices={self.return_indices}"


class FractionalMaxPool2d(_FractionalMaxPool):
    """Fractional max-pooling of ``(N, C, H, W)`` or ``(C, H, W)`` input, as ``torch.nn.FractionalMaxPool2d``.

    ``kernel_size`` (int or pair) and exactly one of ``output_size`` and ``output_ratio`` (each in
    (0, 1)); ``return_indices=True`` returns ``(output, indices)``. ``_random_samples``
    ``(N, C, 2)`` in [0, 1), a buffer, fixes the windows; when None each call draws new ones.
    """

    _d = 2

    def forward(self, input: Tensor):
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size, self.output_ratio,
                                       self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPool):
    """:class:`FractionalMaxPool2d` for ``(N, C, T, H, W)`` or ``(C, T, H, W)`` input; samples ``(N, C, 3)``."""

    _d = 3

    def forward(self, input: Tensor):
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size, self.output_ratio,
                                       self.return_indices, _random_samples=self._random_samples)
