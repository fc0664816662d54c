"""Convolution and pooling layers: Conv2d, Conv1d, ConvTranspose2d, ConvTranspose1d, MaxPool2d, AvgPool2d, MaxPool1d, AvgPool1d.

(``BatchNorm2d`` lives with the other normalisation layers in ``gdl.nn.layers``.)

>>> import gdl
>>> from gdl import nn
>>> net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
>>> net(gdl.zeros(8, 1, 28, 28)).shape
(8, 16, 14, 14)
"""

from __future__ import annotations

import math

from gdl.nn import functional as F
from gdl.nn import init
from gdl.nn.functional.conv import _pair, _single
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, empty_like_shape


def _init_channels(module, in_channels, out_channels, kernel_size, stride, groups, padding_mode):
    """The checks and attributes every convolution shares (channels, groups, kernel size,
    stride); returns the layer's name and its tuple converter (``_pair`` or ``_single``)."""
    name = type(module).__name__
    if padding_mode != "zeros":
        raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or in_channels % groups \
            or out_channels % groups:
        raise ValueError(
            f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
            f"divisible by groups ({groups})"
        )
    tup = _pair if module._dims == 2 else _single
    module.in_channels, module.out_channels, module.groups = in_channels, out_channels, groups
    module.kernel_size = tup(name, "kernel_size", kernel_size, 1)
    module.stride = tup(name, "stride", stride, 1)
    return name, tup


class _ConvNd(Module):
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, dtype, backend):
        super().__init__()
        name, tup = _init_channels(self, in_channels, out_channels, kernel_size, stride, groups, padding_mode)
        self.padding = padding if isinstance(padding, str) else tup(name, "padding", padding, 0)
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        self.dilation = tup(name, "dilation", dilation, 1)
        kernel = self.kernel_size if self._dims == 2 else (self.kernel_size,)
        shape = (out_channels, in_channels // groups) + tuple(kernel)
        self.weight = Parameter(empty_like_shape(shape, dtype, backend))
        if bias:
            self.bias = Parameter(empty_like_shape((out_channels,), dtype, backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's init: weight by ``kaiming_uniform_(a=√5)``, bias U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        zero = (0, 0) if self._dims == 2 else 0
        one = (1, 1) if self._dims == 2 else 1
        if self.padding != zero:
            s += f", padding={self.padding}"
        if self.dilation != one:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over NCHW input (:func:`gdl.nn.functional.conv2d`).

    ``weight`` is ``(out_channels, in_channels/groups, kH, kW)`` and ``bias``
    ``(out_channels,)``, as in PyTorch. The book's ch10 network is
    ``Conv2d(1, 16, 3, bias=False)`` (its "kernels", 9×16, are ``weight`` reshaped).
    """

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, backend=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype, backend)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C, L)`` input; ``weight`` is ``(out, in/groups, k)``."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, backend=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype, backend)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """Shared by ConvTranspose2d/1d: weight ``(in, out/groups, *kernel)``, PyTorch's init and repr."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", dtype=None,
                 backend=None):
        Module.__init__(self)
        name, tup = _init_channels(self, in_channels, out_channels, kernel_size, stride, groups, padding_mode)
        self.padding = tup(name, "padding", padding, 0)
        self.output_padding = tup(name, "output_padding", output_padding, 0)
        self.dilation = tup(name, "dilation", dilation, 1)
        kernel = self.kernel_size if self._dims == 2 else (self.kernel_size,)
        shape = (in_channels, out_channels // groups) + tuple(kernel)
        self.weight = Parameter(empty_like_shape(shape, dtype, backend))
        if bias:
            self.bias = Parameter(empty_like_shape((out_channels,), dtype, backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()  # PyTorch's: fan_in is weight.shape[1]·kernel = out/groups·kernel

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        if isinstance(x, Tensor) and x.ndim != self._dims + 2:
            raise ValueError(f"{type(self).__name__}: expected a {self._dims + 2}-D input {self._layout}, "
                             f"got shape {x.shape}")
        return self._conv(x, self.weight, self.bias, self.stride, self.padding,
                          self._output_padding(x, output_size), self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size):
        """``output_padding`` that gives ``output_size`` (PyTorch's rule), or the module's own."""
        if output_size is None:
            return self.output_padding
        name = type(self).__name__
        as_tuple = lambda v: (v,) if self._dims == 1 else v  # noqa: E731
        size = [int(s) for s in ([output_size] if isinstance(output_size, int) else output_size)]
        if len(size) == self._dims + 2:
            size = size[2:]
        if len(size) != self._dims:
            raise ValueError(
                f"{name}: output_size must have {self._dims} or {self._dims + 2} elements (got {len(size)}: "
                f"{output_size!r})"
            )
        spatial = x.shape[2:]
        mins, maxs = [], []
        for d in range(self._dims):
            k, s = as_tuple(self.kernel_size)[d], as_tuple(self.stride)[d]
            p, dil = as_tuple(self.padding)[d], as_tuple(self.dilation)[d]
            mins.append((spatial[d] - 1) * s - 2 * p + dil * (k - 1) + 1)
            maxs.append(mins[-1] + s - 1)
        for d in range(self._dims):
            if not mins[d] <= size[d] <= maxs[d]:
                raise ValueError(
                    f"{name}: requested an output size of {tuple(size)}, but valid sizes range from {tuple(mins)} "
                    f"to {tuple(maxs)} (for an input of {tuple(spatial)})"
                )
        pad = tuple(size[d] - mins[d] for d in range(self._dims))
        return pad if self._dims == 2 else pad[0]

    def extra_repr(self) -> str:
        s = super().extra_repr()
        zero = (0, 0) if self._dims == 2 else 0
        if self.output_padding != zero:
            head, sep, tail = s.partition(", groups=") if self.groups != 1 else s.partition(", bias=False")
            s = head + f", output_padding={self.output_padding}" + sep + tail
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over NCHW input (:func:`gdl.nn.functional.conv_transpose2d`).

    ``weight`` is ``(in_channels, out_channels/groups, kH, kW)`` and ``bias``
    ``(out_channels,)``, initialised as PyTorch's, so its state dicts load unchanged.
    ``forward(x, output_size=None)``: ``output_size`` (``(H, W)``, or with N and C in
    front) picks the output padding, as PyTorch's.

    >>> import gdl
    >>> from gdl import nn
    >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
    >>> up
    ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))
    >>> up.weight.shape
    (16, 8, 3, 3)
    >>> up(gdl.zeros(2, 16, 7, 7)).shape
    (2, 8, 14, 14)
    >>> nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)(gdl.zeros(2, 16, 7, 7), output_size=(14, 14)).shape
    (2, 8, 14, 14)
    """

    _dims = 2

    _layout = "(N, C, H, W)"
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over ``(N, C, L)`` input; ``weight`` is ``(in, out/groups, k)``.

    >>> import gdl
    >>> from gdl import nn
    >>> nn.ConvTranspose1d(4, 2, 5, stride=2)(gdl.zeros(3, 4, 10)).shape
    (3, 2, 23)
    """

    _dims = 1

    _layout = "(N, C, L)"
    _conv = staticmethod(F.conv_transpose1d)


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return s + (", ceil_mode=True" if self.ceil_mode else "")


class MaxPool2d(_Pool):
    """The maximum of each window (:func:`gdl.nn.functional.max_pool2d`); stride defaults to the kernel.

    ``return_indices=True`` makes the layer return ``(output, indices)``, as PyTorch's.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = dilation
        self.return_indices = bool(return_indices)

    def forward(self, x: Tensor):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class MaxPool1d(MaxPool2d):
    """The maximum of each window of ``(N, C, L)`` input."""

    def forward(self, x: Tensor):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(_Pool):
    """The mean of each window (:func:`gdl.nn.functional.avg_pool2d`); zero padding counts by default.

    ``divisor_override`` divides each window's sum by that number instead of its size.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AvgPool1d(_Pool):
    """The mean of each window of ``(N, C, L)`` input (no ``divisor_override``, as PyTorch's)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


__all__ = [
    "Conv2d",
    "Conv1d",
    "ConvTranspose2d",
    "ConvTranspose1d",
    "MaxPool2d",
    "MaxPool1d",
    "AvgPool2d",
    "AvgPool1d",
]
