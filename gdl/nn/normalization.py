"""Normalization layers beyond batch and layer norm: GroupNorm, RMSNorm, InstanceNorm1d/2d
and LocalResponseNorm.

Parameter and buffer names, shapes, initial values and defaults are PyTorch's, so
state dicts load either way.

>>> import gdl
>>> from gdl import nn
>>> nn.GroupNorm(2, 4)
GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
>>> nn.GroupNorm(2, 4)(gdl.zeros(8, 4, 5, 5)).shape
(8, 4, 5, 5)
>>> nn.RMSNorm(16)
RMSNorm((16,), eps=None, elementwise_affine=True)
>>> sorted(nn.InstanceNorm2d(3, track_running_stats=True).state_dict())
['num_batches_tracked', 'running_mean', 'running_var']
"""

from __future__ import annotations

import warnings

from gdl.nn import functional as F
from gdl.nn.layers import register_running_stats
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, ones, zeros


def _affine_params(module, size, affine, bias, dtype, backend):
    """``weight`` (ones) and, unless ``bias=False``, ``bias`` (zeros) of shape ``(size,)``."""
    if affine:
        module.weight = Parameter(ones(size, dtype=dtype, backend=backend))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(zeros(size, dtype=dtype, backend=backend))
    else:
        module.register_parameter("bias", None)


class GroupNorm(Module):
    """Normalise ``(N, C, *)`` input over groups of ``num_channels/num_groups`` channels,
    per sample (:func:`gdl.nn.functional.group_norm`); ``weight``/``bias`` are ``(C,)``,
    ones and zeros. ``GroupNorm(1, C)`` normalises each whole sample, ``GroupNorm(C, C)``
    each channel (instance norm with affine parameters). ``bias=False`` (keyword-only,
    PyTorch ≥ 2.13) keeps only the weight.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype=None, backend=None, *, bias: bool = True):
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
            raise ValueError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups, got num_channels={num_channels} "
                f"and num_groups={num_groups}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.use_bias = affine and bias  # as PyTorch's repr: no bias without affine
        _affine_params(self, num_channels, affine, bias, dtype, backend)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected an input of shape (N, {self.num_channels}, *), got {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.use_bias}"


class RMSNorm(Module):
    """``x / √(mean(x²) + eps) · weight`` over the trailing ``normalized_shape`` dimensions
    (:func:`gdl.nn.functional.rms_norm`): layer norm without centring and without a bias.
    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch's.
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 dtype=None, backend=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class _InstanceNorm(Module):
    _batched_dims = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, dtype=None, backend=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self.use_bias = affine, track_running_stats, affine and bias
        _affine_params(self, num_features, affine, bias, dtype, backend)
        # num_batches_tracked is never incremented here, as in PyTorch's InstanceNorm
        register_running_stats(self, num_features, track_running_stats, dtype, backend)

    def forward(self, x: Tensor) -> Tensor:
        name, full = type(self).__name__, self._batched_dims
        if x.ndim not in (full - 1, full):
            raise ValueError(f"{name}: expected {full - 1}D (unbatched) or {full}D input, got shape {x.shape}")
        dim = x.ndim - (full - 1)  # the channel dimension
        if x.shape[dim] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(
                    f"{name}: expected the input's size at dim={dim} to match num_features "
                    f"({self.num_features}), got {x.shape[dim]} (input shape {x.shape})"
                )
            warnings.warn(
                f"{name}: input's size at dim={dim} ({x.shape[dim]}) does not match num_features "
                f"({self.num_features}); without affine parameters or running statistics it is ignored",
                stacklevel=2,
            )
        unbatched = x.ndim == full - 1
        if unbatched:
            x = x.reshape((1,) + tuple(x.shape))
        momentum = self.momentum if self.momentum is not None else 0.0  # as PyTorch's InstanceNorm
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats, momentum, self.eps)
        return out.reshape(tuple(out.shape[1:])) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.use_bias}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, L)`` (or unbatched ``(C, L)``)
    input over its length (:func:`gdl.nn.functional.instance_norm`).

    PyTorch's defaults: no affine parameters and no running statistics. With
    ``track_running_stats=True`` training updates ``running_mean``/``running_var`` and
    ``eval()`` normalises by them. ``bias=False`` (keyword-only, as PyTorch 2.13's) drops
    the affine bias.
    """

    _batched_dims = 3


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``)
    input over its positions; see :class:`InstanceNorm1d`."""

    _batched_dims = 4


class LocalResponseNorm(Module):
    """Normalisation across neighbouring channels (AlexNet), as PyTorch's
    (:func:`~gdl.nn.functional.local_response_norm`)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ = [
    "GroupNorm",
    "RMSNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "LocalResponseNorm",
]
