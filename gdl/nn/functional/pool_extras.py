"""``pdist`` and PyTorch's ``*_with_indices`` spellings of the max pools.

:func:`pdist` is composed of differentiable gdl ops (row gathers and a vector norm), so it has
gradients of any order; the aliases call the pools with ``return_indices=True``.

>>> import gdl
>>> import gdl.nn.functional as F
>>> F.pdist(gdl.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
tensor([ 5., 10.,  5.], backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.nn.functional._arguments import _check_tensor
from gdl.nn.functional.conv import max_pool1d, max_pool2d
from gdl.nn.functional.pooling import adaptive_max_pool1d, adaptive_max_pool2d
from gdl.nn.functional.pooling3d import adaptive_max_pool3d, max_pool3d
from gdl.tensor import Tensor

__all__ = [
    "pdist",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
]


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between every pair of rows of the ``(N, M)`` input, as PyTorch's.

    Returns the ``N·(N-1)/2`` distances ``‖input[i] - input[j]‖_p`` for ``i < j``, row by row
    (``(0,1), (0,2), ..., (1,2), ...``): the upper triangle of ``cdist(input, input)``. ``p`` is
    >= 0 (``inf`` allowed); the gradient of a zero distance is 0.
    """
    _check_tensor("pdist", "input", input)
    if input.ndim != 2:
        raise ValueError(f"pdist: only supports 2D tensors, got: {input.ndim}D (shape {tuple(input.shape)})")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p) or p < 0:
        raise ValueError(f"pdist: only supports non-negative p values, got {p!r}")
    n = input.shape[0]
    rows = [i for i in range(n) for _ in range(i + 1, n)]
    cols = [j for i in range(n) for j in range(i + 1, n)]
    be = input._backend
    first = gdl.index_select(input, 0, gdl.tensor(rows, dtype=gdl.int64, backend=be))
    second = gdl.index_select(input, 0, gdl.tensor(cols, dtype=gdl.int64, backend=be))
    return gdl.linalg.vector_norm(first - second, ord=float(p), dim=1)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool1d(..., return_indices=True)``: ``(output, indices)``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool2d(..., return_indices=True)``: ``(output, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool3d(..., return_indices=True)``: ``(output, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool1d(..., return_indices=True)``: ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool2d(..., return_indices=True)``: ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool3d(..., return_indices=True)``: ``(output, indices)``."""
    return adaptive_max_pool3d(input, output_size, return_indices=True)
