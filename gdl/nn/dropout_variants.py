"""Dropout variants and small channel layers, as ``torch.nn``'s: Dropout1d/2d/3d (whole
channels), AlphaDropout and FeatureAlphaDropout (for SELU networks), RReLU, Softmax2d and
ChannelShuffle. Thin wrappers around :mod:`gdl.nn.functional.dropout_variants`; the random
ones draw only in ``train()`` mode and are the identity (RReLU: a fixed slope) in ``eval()``.
``inplace=`` is accepted and shown in the repr, but the input is never written.

>>> import gdl
>>> from gdl import nn
>>> nn.Sequential(nn.Conv2d(3, 8, 3), nn.Dropout2d(0.2), nn.ChannelShuffle(2), nn.RReLU())
Sequential(
  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))
  (1): Dropout2d(p=0.2, inplace=False)
  (2): ChannelShuffle(groups=2)
  (3): RReLU(lower=0.125, upper=0.3333333333333333)
)
>>> nn.Dropout2d(0.5).eval()(gdl.ones(1, 2, 1, 1)).flatten()
tensor([1., 1.], backend='numpy')
"""

from __future__ import annotations

from gdl import functional as ops
from gdl.nn.functional import dropout_variants as F
from gdl.nn.functional.dropout_variants import _check_p
from gdl.nn.module import Module
from gdl.tensor import Tensor


class _DropoutNd(Module):
    """``p`` (checked) and the accepted-but-ignored ``inplace`` flag."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_p(type(self).__name__, p)
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` inputs with probability ``p`` in
    training, scaling the rest by ``1/(1-p)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` inputs with probability ``p`` in training,
    scaling the rest by ``1/(1-p)``. A 3-D input is read as ``(N, C, L)`` (with a warning), as PyTorch's."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs with probability
    ``p`` in training, scaling the rest by ``1/(1-p)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks: dropped elements take SELU's saturation value and an
    affine map keeps zero mean and unit variance (see :func:`~gdl.nn.functional.alpha_dropout`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (one draw per sample and channel)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)


class RReLU(Module):
    """Randomized leaky ReLU: slopes ``U(lower, upper)`` per element in training, the fixed
    ``(lower + upper)/2`` in eval. The bounds are checked when it runs, as PyTorch's."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of ``(N, C, H, W)`` or ``(C, H, W)`` inputs, at each location."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        return ops.softmax(input, axis=-3)


class ChannelShuffle(Module):
    """Interleave ``groups`` groups of channels (see :func:`~gdl.nn.functional.channel_shuffle`)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


__all__ = [
    "AlphaDropout",
    "ChannelShuffle",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
    "RReLU",
    "Softmax2d",
]
