"""3-D layers over ``(N, C, D, H, W)`` (volumes, video): Conv3d, ConvTranspose3d, the 3-D pools,
BatchNorm3d and InstanceNorm3d, with PyTorch's names, arguments, parameters and buffers
(state dicts load either way).

>>> import gdl
>>> from gdl import nn
>>> net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d(2))
>>> net(gdl.zeros(2, 1, 8, 8, 8)).shape
(2, 4, 4, 4, 4)
>>> nn.Conv3d(1, 4, 3, padding=1)
Conv3d(1, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1))
>>> nn.ConvTranspose3d(4, 2, 2, stride=2)(gdl.zeros(2, 4, 3, 3, 3)).shape
(2, 2, 6, 6, 6)
"""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.conv import AvgPool2d, MaxPool2d, _ConvNd, _ConvTransposeNd
from gdl.nn.functional.convolution3d import _triple
from gdl.nn.layers import _BatchNorm
from gdl.nn.module import Module
from gdl.nn.normalization import _InstanceNorm
from gdl.nn.parameter import Parameter
from gdl.nn.pooling import AdaptiveMaxPool2d, _AdaptivePool, _LPPool, _MaxUnpool
from gdl.tensor import Tensor, empty_like_shape


def _init3d(module, in_channels, out_channels, kernel_size, stride, dilation, groups, bias, padding_mode, dtype,
            backend, transposed):
    """The attributes and parameters both 3-D convolutions share; PyTorch's init."""
    name = type(module).__name__
    if padding_mode != "zeros":
        raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or in_channels % groups \
            or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                         f"divisible by groups ({groups})")
    module.in_channels, module.out_channels, module.groups = in_channels, out_channels, groups
    module.padding_mode = padding_mode
    module.kernel_size = _triple(name, "kernel_size", kernel_size, 1)
    module.stride = _triple(name, "stride", stride, 1)
    module.dilation = _triple(name, "dilation", dilation, 1)
    shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
    module.weight = Parameter(empty_like_shape(shape + module.kernel_size, dtype, backend))
    if bias:
        module.bias = Parameter(empty_like_shape((out_channels,), dtype, backend))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


def _repr3d(module, extra=()) -> str:
    s = f"{module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}, stride={module.stride}"
    if module.padding != (0, 0, 0):
        s += f", padding={module.padding}"
    if module.dilation != (1, 1, 1):
        s += f", dilation={module.dilation}"
    for name, value, default in extra:
        if value != default:
            s += f", {name}={value}"
    if module.groups != 1:
        s += f", groups={module.groups}"
    if module.bias is None:
        s += ", bias=False"
    return s


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input
    (:func:`gdl.nn.functional.conv3d`). ``weight`` is ``(out_channels, in_channels/groups,
    kD, kH, kW)`` and ``bias`` ``(out_channels,)``, initialised as PyTorch's. ``padding`` is
    an int, a triple, ``'valid'`` or ``'same'`` (stride 1); only ``padding_mode='zeros'``.
    """

    _dims = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, backend=None):
        Module.__init__(self)
        name = type(self).__name__
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
            if padding == "same" and _triple(name, "stride", stride, 1) != (1, 1, 1):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _triple(name, "padding", padding, 0)
        _init3d(self, in_channels, out_channels, kernel_size, stride, dilation, groups, bias, padding_mode, dtype,
                backend, False)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return _repr3d(self)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input
    (:func:`gdl.nn.functional.conv_transpose3d`). ``weight`` is ``(in_channels,
    out_channels/groups, kD, kH, kW)``, initialised as PyTorch's. ``forward(x,
    output_size=None)``: ``output_size`` (``(D, H, W)``, or with the batch and channel
    sizes in front) picks the output padding, as PyTorch's.
    """

    _dims = 3
    _layout = "(N, C, D, H, W)"

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", dtype=None,
                 backend=None):
        Module.__init__(self)
        name = type(self).__name__
        self.padding = _triple(name, "padding", padding, 0)
        self.output_padding = _triple(name, "output_padding", output_padding, 0)
        _init3d(self, in_channels, out_channels, kernel_size, stride, dilation, groups, bias, padding_mode, dtype,
                backend, True)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        if isinstance(x, Tensor) and x.ndim not in (4, 5):
            raise ValueError(f"ConvTranspose3d: expected a 5-D input (N, C, D, H, W) or a 4-D unbatched one, "
                             f"got shape {x.shape}")
        return F.conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size):
        """``output_padding`` that gives ``output_size`` (PyTorch's rule), or the module's own."""
        if output_size is None:
            return self.output_padding
        name = type(self).__name__
        size = [int(s) for s in ([output_size] if isinstance(output_size, int) else output_size)]
        lead = x.ndim - 3
        if len(size) == 3 + lead:
            size = size[lead:]
        if len(size) != 3:
            raise ValueError(f"{name}: output_size must have 3 or {3 + lead} elements (got {len(size)}: "
                             f"{output_size!r})")
        spatial = x.shape[-3:]
        mins = tuple((i - 1) * s - 2 * p + dil * (k - 1) + 1 for i, k, s, p, dil in
                     zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation))
        maxs = tuple(m + s - 1 for m, s in zip(mins, self.stride))
        if not all(lo <= v <= hi for v, lo, hi in zip(size, mins, maxs)):
            raise ValueError(f"{name}: requested an output size of {tuple(size)}, but valid sizes range from {mins} "
                             f"to {maxs} (for an input of {tuple(spatial)})")
        return tuple(v - m for v, m in zip(size, mins))

    def extra_repr(self) -> str:
        return _repr3d(self, (("output_padding", self.output_padding, (0, 0, 0)),))


class MaxPool3d(MaxPool2d):
    """The maximum of each window of ``(N, C, D, H, W)`` input (:func:`gdl.nn.functional.max_pool3d`);
    stride defaults to the kernel; ``return_indices=True`` returns ``(output, indices)``."""

    def forward(self, x: Tensor):
        return F.max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean of each window of ``(N, C, D, H, W)`` input (:func:`gdl.nn.functional.avg_pool3d`);
    zero padding counts by default; ``divisor_override`` divides each sum by that number."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AdaptiveAvgPool3d(_AdaptivePool):
    """The mean of each adaptive window of ``(N, C, D, H, W)`` input
    (:func:`gdl.nn.functional.adaptive_avg_pool3d`); ``output_size`` is an int or
    ``(oD, oH, oW)``, a ``None`` entry keeping that input size."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """The maximum of each adaptive window of ``(N, C, D, H, W)`` input
    (:func:`gdl.nn.functional.adaptive_max_pool3d`); ``return_indices=True`` returns
    ``(output, indices)``, the indices flat in each channel's ``D × H × W``."""

    def forward(self, x: Tensor):
        return F.adaptive_max_pool3d(x, self.output_size, self.return_indices)


class MaxUnpool3d(_MaxUnpool):
    """The partial inverse of ``MaxPool3d(..., return_indices=True)``:
    ``forward(input, indices, output_size=None)`` puts each value back at its index in zeros."""

    _dims = 3

    def __init__(self, kernel_size, stride=None, padding=0):
        Module.__init__(self)
        name = type(self).__name__
        self.kernel_size = _triple(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _triple(name, "stride", stride, 1)
        self.padding = _triple(name, "padding", padding, 0)

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class LPPool3d(_LPPool):
    """Power-average pooling ``(Σ_window xᵖ)^(1/p)`` of ``(N, C, D, H, W)`` input
    (:func:`~gdl.nn.functional.lp_pool3d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` inputs, per channel (as BatchNorm2d)."""

    _expected_dims = (5,)


class InstanceNorm3d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, D, H, W)`` (or unbatched
    ``(C, D, H, W)``) input over its positions; see :class:`~gdl.nn.InstanceNorm1d`."""

    _batched_dims = 5


__all__ = [
    "Conv3d",
    "ConvTranspose3d",
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "MaxUnpool3d",
    "LPPool3d",
    "BatchNorm3d",
    "InstanceNorm3d",
]
