"""Convolution and pooling as single graph nodes, built on the backend's im2col.

Every op here follows one recipe (the book's ch10 "patches" idea, done in a
layout that keeps NCHW):

1. ``cols = backend.im2col(x)``: every sliding window of the (padded) input as an
   array of shape ``(N, C, kH, kW, oH, oW)``. On NumPy this is a strided *view*
   (no copy); on other backends one strided slice per kernel offset.
2. The forward reduces over the window axes: a matrix product with the weights
   (convolution), a max (max-pooling) or a mean (average pooling).
3. The backward produces the gradient of ``cols`` and sums it back onto the input
   with ``backend.col2im`` (the adjoint of im2col: overlapping windows add up).

For convolution with ``groups=G`` the patches are laid out as
``(N, G, C/G·kH·kW, oH·oW)`` and the weight as ``(G, O/G, C/G·kH·kW)``, so

- forward:  ``out[n, g] = W[g] @ cols[n, g]`` (one batched matmul, result already NCHW),
- weight gradient: ``dW[g] = Σ_n grad[n, g] @ cols[n, g]ᵀ``,
- input gradient: ``dcols[n, g] = W[g]ᵀ @ grad[n, g]``, then ``col2im`` (both in the
  backend's ``col2im_matmul``, which on NumPy never makes the whole ``dcols``).

Weights are ``(out_channels, in_channels/groups, kH, kW)`` as in PyTorch, so state
dicts move between the two unchanged.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.randn(2, 1, 28, 28)
>>> w = gdl.randn(16, 1, 3, 3)
>>> F.conv2d(x, w).shape
(2, 16, 26, 26)
>>> F.max_pool2d(F.conv2d(x, w, padding=1), 2).shape
(2, 16, 14, 14)
"""

from __future__ import annotations

from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_same_backend
from gdl.tensor import Tensor, is_grad_enabled, result

# -- argument handling ---------------------------------------------------------------


def _pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair, each at least ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    else:
        try:
            pair = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
        if len(pair) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _single(op: str, name: str, value, minimum: int) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return value


def _check_input(op: str, x: Tensor, ndim: int, layout: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{op}: expected a {ndim}-D input {layout}, got shape {x.shape}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")


def _out_size(op, size, kernel, stride, padding, dilation, axis_name, in_shape):
    """Output length along one axis; a clear error if the kernel does not fit."""
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"{op}: the kernel (size {kernel}, dilation {dilation}, so it spans {span}) is larger "
            f"than the padded input along {axis_name} ({size} + 2·{padding} = {size + 2 * padding}); "
            f"input shape {in_shape}"
        )
    return (size + 2 * padding - span) // stride + 1


def _same_padding(op, kernel, dilation):
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        if total % 2:
            raise ValueError(
                f"{op}: padding='same' needs an odd effective kernel size here (kernel {kernel}, "
                f"dilation {dilation}); pass explicit padding instead"
            )
        pads.append(total // 2)
    return tuple(pads)


# -- convolution ---------------------------------------------------------------------


def _conv_node(op, x, weight, bias, kernel, stride, padding, dilation, groups, out_shape, x4, w4):
    """The shared conv2d/conv1d node on raw 4-D arrays ``x4`` (N,C,H,W), ``w4`` (O,C/G,kH,kW)."""
    be = x._backend
    xp = be.xp
    n, c, h, w = x4.shape
    o = w4.shape[0]
    kh, kw = kernel
    oh = _out_size(op, h, kh, stride[0], padding[0], dilation[0], "height" if op == "conv2d" else "length", x.shape)
    ow = _out_size(op, w, kw, stride[1], padding[1], dilation[1], "width" if op == "conv2d" else "length", x.shape)
    cg, og = c // groups, o // groups
    k = cg * kh * kw
    cols6 = be.im2col(x4, kernel, stride, padding, dilation, 0.0)
    cols = xp.reshape(cols6, (n, groups, k, oh * ow))  # copies the NumPy view once
    wmat = xp.reshape(w4, (groups, og, k))
    out = wmat @ cols  # (N, G, O/G, oH·oW): already channel-major
    out = xp.reshape(out, (n, o, oh, ow))
    if bias is not None:
        out = out + xp.reshape(bias.data, (1, o, 1, 1))
    need_x = x.requires_grad and is_grad_enabled()
    need_w = weight.requires_grad

    def backward(g):
        g4 = xp.reshape(g, (n, groups, og, oh * ow))
        gw = None
        if need_w:
            gw = xp.sum(g4 @ xp.permute_dims(cols, (0, 1, 3, 2)), axis=0)  # (G, O/G, K)
            gw = xp.reshape(gw, tuple(weight.shape))
        gx = None
        if need_x:
            g5 = xp.reshape(g4, (n, groups, og, oh, ow))
            gx = be.col2im_matmul(xp.permute_dims(wmat, (0, 2, 1)), g5, (n, c, h, w), kernel, stride, padding, dilation)
            gx = xp.reshape(gx, tuple(x.shape))
        if bias is None:
            return (gx, gw)
        return (gx, gw, xp.reshape(xp.sum(g4, axis=(0, 3)), (o,)))

    inputs = (x, weight) if bias is None else (x, weight, bias)
    return result(xp.reshape(out, out_shape(oh, ow)), be, inputs, backward, "Conv",
                  _conv_graph(x, weight, bias, kernel, stride, padding, dilation, groups, (n, c, h, w), (oh, ow)))


def _conv_graph(x, weight, bias, kernel, stride, padding, dilation, groups, shape4, out_hw):
    """:func:`_conv_node`'s backward on Tensors (``create_graph=True``), on the 4-D views:
    ``dx = conv_transpose2d(g, W)`` (same stride, padding, dilation and groups, the
    ``output_padding`` that gives back x's size), ``dW[g] = Σ_n g[n, g] @ unfold(x)[n, g]ᵀ``,
    ``db = Σ g`` over the batch and the positions. Each is a node with its own graph backward
    (the transposed convolution's is this convolution again, ``unfold``'s is ``fold``)."""
    n, c, h, w = shape4
    oh, ow = out_hw
    o = weight.shape[0]
    cg, og = c // groups, o // groups

    def graph(g):
        from gdl import functional as ops
        from gdl.nn.functional.upsampling import unfold

        g4 = ops.reshape(g, (n, o, oh, ow))
        gx = gw = gb = None
        if x.requires_grad:
            w4 = weight if weight.ndim == 4 else ops.reshape(weight, (o, cg) + tuple(kernel))
            # output_padding: the rows/columns of x past the last window (always < stride)
            extra = tuple(size - ((m - 1) * s - 2 * p + d * (k - 1) + 1)
                          for size, m, k, s, p, d in zip((h, w), (oh, ow), kernel, stride, padding, dilation))
            gx = _conv_transpose_node("conv_transpose2d", g4, w4, None, kernel, stride, padding, extra, dilation,
                                      groups, lambda a, b: (n, c, a, b), g4.data, w4.data)
            gx = ops.reshape(gx, tuple(x.shape))
        if weight.requires_grad:
            x4 = x if x.ndim == 4 else ops.reshape(x, (n, c, h, w))
            cols = ops.reshape(unfold(x4, kernel, dilation, padding, stride),
                               (n, groups, cg * kernel[0] * kernel[1], oh * ow))
            gw = ops.matmul(ops.reshape(g4, (n, groups, og, oh * ow)), ops.transpose(cols, -2, -1))
            gw = ops.reshape(ops.sum(gw, axis=0), tuple(weight.shape))
        if bias is not None and bias.requires_grad:
            gb = ops.sum(g4, axis=(0, 2, 3))
        return (gx, gw) if bias is None else (gx, gw, gb)

    return graph


def _check_conv_args(op, x, weight, bias, groups, spatial):
    check_same_backend(op, x, weight)
    if weight.ndim != 2 + spatial:
        layout = "(out_channels, in_channels/groups, kH, kW)" if spatial == 2 else "(out_channels, in_channels/groups, kL)"
        raise ValueError(f"{op}: expected a {2 + spatial}-D weight {layout}, got shape {weight.shape}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], weight.shape[0]
    if c % groups or o % groups:
        raise ValueError(
            f"{op}: in_channels ({c}) and out_channels ({o}) must both be divisible by groups ({groups})"
        )
    if weight.shape[1] * groups != c:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {c} channels, but the weight of shape {weight.shape} "
            f"with groups={groups} expects {weight.shape[1] * groups} (weight.shape[1]·groups)"
        )
    if bias is not None:
        check_same_backend(op, x, bias)
        if bias.shape != (o,):
            raise ValueError(f"{op}: expected a bias of shape ({o},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: input is {x.dtype.name} but weight is {weight.dtype.name}; convert one")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation of NCHW ``x`` with ``weight`` ``(O, C/groups, kH, kW)``, plus ``bias``.

    ``out[n, o, i, j] = bias[o] + Σ_{c,u,v} x_pad[n, c, i·sH + u·dH, j·sW + v·dW] · weight[o, c, u, v]``
    with channels split into ``groups`` independent blocks. ``stride``, ``padding``
    (zeros; also ``'valid'`` or ``'same'``) and ``dilation`` are ints or pairs.
    Output size along each axis: ``(size + 2·pad − dil·(k − 1) − 1) // stride + 1``.
    The book's ch10 conv is ``conv2d(images, kernels)`` with 16 3×3 kernels.
    """
    if _AMP[0]:
        x, weight, bias = _amp_cast("low", x, weight, bias)
    op = "conv2d"
    _check_input(op, x, 4, "(N, C, H, W)")
    _check_conv_args(op, x, weight, bias, groups, 2)
    kernel = tuple(weight.shape[2:])
    stride = _pair(op, "stride", stride, 1)
    dilation = _pair(op, "dilation", dilation, 1)
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        padding = _same_padding(op, kernel, dilation)
    else:
        padding = _pair(op, "padding", padding, 0)
    n, o = x.shape[0], weight.shape[0]
    return _conv_node(op, x, weight, bias, kernel, stride, padding, dilation, groups,
                      lambda oh, ow: (n, o, oh, ow), x.data, weight.data)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation of ``(N, C, L)`` input with ``weight`` ``(O, C/groups, k)``.

    Computed as :func:`conv2d` on a height-1 image (one graph node).
    """
    if _AMP[0]:
        x, weight, bias = _amp_cast("low", x, weight, bias)
    op = "conv1d"
    _check_input(op, x, 3, "(N, C, L)")
    _check_conv_args(op, x, weight, bias, groups, 1)
    xp = x._backend.xp
    k = weight.shape[2]
    stride = _single(op, "stride", stride, 1)
    dilation = _single(op, "dilation", dilation, 1)
    if padding == "valid":
        padding = 0
    elif padding == "same":
        if stride != 1:
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        padding = _same_padding(op, (k,), (dilation,))[0]
    else:
        padding = _single(op, "padding", padding, 0)
    n, c, length = x.shape
    o = weight.shape[0]
    x4 = xp.reshape(x.data, (n, c, 1, length))
    w4 = xp.reshape(weight.data, (o, weight.shape[1], 1, k))
    return _conv_node(op, x, weight, bias, (1, k), (1, stride), (0, padding), (1, dilation), groups,
                      lambda oh, ow: (n, o, ow), x4, w4)


# -- transposed convolution -------------------------------------------------------------


def _check_conv_transpose_args(op, x, weight, bias, groups, spatial):
    check_same_backend(op, x, weight)
    if weight.ndim != 2 + spatial:
        layout = "(in_channels, out_channels/groups, kH, kW)" if spatial == 2 else "(in_channels, out_channels/groups, kL)"
        raise ValueError(f"{op}: expected a {2 + spatial}-D weight {layout}, got shape {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c = x.shape[1]
    if weight.shape[0] != c:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {c} channels, but the weight of shape {weight.shape} "
            f"expects {weight.shape[0]} (weight.shape[0] = in_channels)"
        )
    if c % groups:
        raise ValueError(f"{op}: in_channels ({c}) must be divisible by groups ({groups})")
    o = weight.shape[1] * groups
    if bias is not None:
        check_same_backend(op, x, bias)
        if bias.shape != (o,):
            raise ValueError(f"{op}: expected a bias of shape ({o},) (out_channels), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: input is {x.dtype.name} but weight is {weight.dtype.name}; convert one")


def _transpose_out_size(op, size, kernel, stride, padding, output_padding, dilation, axis_name, in_shape):
    """``(size − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1``, checked."""
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding {output_padding} with stride {stride} and dilation {dilation} along {axis_name}"
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:  # PyTorch: "Output size is too small" (its no-bias path returns an empty tensor for 0)
        raise ValueError(
            f"{op}: output size is too small: it would have size {out} along {axis_name} (input shape {in_shape}, kernel {kernel}, "
            f"stride {stride}, padding {padding}, dilation {dilation}, output_padding {output_padding})"
        )
    return out


def _conv_transpose_node(op, x, weight, bias, kernel, stride, padding, output_padding, dilation, groups,
                         out_shape, x4, w4):
    """The shared conv_transpose2d/1d node on raw 4-D arrays ``x4`` (N,C,H,W), ``w4`` (C,O/G,kH,kW).

    Forward is conv2d's input gradient: ``cols[n, g] = W[g]ᵀ @ x[n, g]`` then ``col2im``
    (the backend's ``col2im_matmul``).
    Backward is conv2d's forward: ``gcols = im2col(g)``, ``gx[n, g] = W[g] @ gcols[n, g]``,
    ``gW[g] = Σ_n x[n, g] @ gcols[n, g]ᵀ``.
    """
    be = x._backend
    xp = be.xp
    n, c, h, w = x4.shape
    og, kh, kw = w4.shape[1], w4.shape[2], w4.shape[3]
    o = og * groups
    names = ("height", "width") if op == "conv_transpose2d" else ("height", "length")
    oh, ow = (_transpose_out_size(op, *a, x.shape) for a in zip((h, w), kernel, stride, padding, output_padding,
                                                                    dilation, names))
    cg = c // groups
    k = og * kh * kw
    xg = xp.reshape(x4, (n, groups, cg, h * w))
    wmat = xp.reshape(w4, (groups, cg, k))
    x5 = xp.reshape(x4, (n, groups, cg, h, w))
    out = be.col2im_matmul(xp.permute_dims(wmat, (0, 2, 1)), x5, (n, o, oh, ow), kernel, stride, padding, dilation)
    if bias is not None:
        out = out + xp.reshape(bias.data, (1, o, 1, 1))
    need_x = x.requires_grad and is_grad_enabled()
    need_w = weight.requires_grad

    def backward(g):
        g4 = xp.reshape(g, (n, o, oh, ow))
        gcols = be.im2col(g4, kernel, stride, padding, dilation, 0.0)
        if gcols.shape[4] != h or gcols.shape[5] != w:  # output_padding >= stride: windows past the input
            gcols = gcols[:, :, :, :, :h, :w]
        gcols = xp.reshape(gcols, (n, groups, k, h * w))
        gx = gw = None
        if need_x:
            gx = xp.reshape(wmat @ gcols, tuple(x.shape))
        if need_w:
            gw = xp.sum(xg @ xp.permute_dims(gcols, (0, 1, 3, 2)), axis=0)  # (G, C/G, K)
            gw = xp.reshape(gw, tuple(weight.shape))
        if bias is None:
            return (gx, gw)
        return (gx, gw, xp.sum(g4, axis=(0, 2, 3)))

    inputs = (x, weight) if bias is None else (x, weight, bias)
    return result(xp.reshape(out, out_shape(oh, ow)), be, inputs, backward, "ConvTranspose",
                  _conv_transpose_graph(x, weight, bias, kernel, stride, padding, dilation, groups, (n, c, h, w),
                                        (oh, ow)))


def _conv_transpose_graph(x, weight, bias, kernel, stride, padding, dilation, groups, shape4, out_hw):
    """:func:`_conv_transpose_node`'s backward on Tensors (``create_graph=True``), on the 4-D
    views: ``dx = conv2d(g, W)`` (same stride, padding, dilation and groups; cropped to x's
    size where ``output_padding`` left windows past it), ``dW[g] = Σ_n x[n, g] @ unfold(g)[n, g]ᵀ``,
    ``db = Σ g`` over the batch and the positions."""
    n, c, h, w = shape4
    oh, ow = out_hw
    og = weight.shape[1]
    o, cg = og * groups, c // groups
    kk = kernel[0] * kernel[1]

    def graph(g):
        from gdl import functional as ops
        from gdl.nn.functional.upsampling import unfold

        # the windows of g: as many as conv2d of g gives, at least x's size
        gh, gw_ = ((m + 2 * p - d * (k - 1) - 1) // s + 1
                   for m, k, s, p, d in zip((oh, ow), kernel, stride, padding, dilation))
        g4 = ops.reshape(g, (n, o, oh, ow))
        gx = gw = gb = None
        if x.requires_grad:
            w4 = weight if weight.ndim == 4 else ops.reshape(weight, (c, og) + tuple(kernel))
            gx = _conv_node("conv2d", g4, w4, None, kernel, stride, padding, dilation, groups,
                            lambda a, b: (n, c, a, b), g4.data, w4.data)
            if (gh, gw_) != (h, w):
                gx = gx[:, :, :h, :w]
            gx = ops.reshape(gx, tuple(x.shape))
        if weight.requires_grad:
            cols = unfold(g4, kernel, dilation, padding, stride)  # (N, O·kH·kW, gh·gw)
            if (gh, gw_) != (h, w):
                cols = ops.reshape(ops.reshape(cols, (n, o * kk, gh, gw_))[:, :, :h, :w], (n, o * kk, h * w))
            cols = ops.reshape(cols, (n, groups, og * kk, h * w))
            xg = ops.reshape(x, (n, groups, cg, h * w))
            gw = ops.reshape(ops.sum(ops.matmul(xg, ops.transpose(cols, -2, -1)), axis=0), tuple(weight.shape))
        if bias is not None and bias.requires_grad:
            gb = ops.sum(g4, axis=(0, 2, 3))
        return (gx, gw) if bias is None else (gx, gw, gb)

    return graph


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution ("deconvolution") of NCHW ``input`` with ``weight`` ``(C, O/groups, kH, kW)``.

    The adjoint of :func:`conv2d` with the same weight, stride, padding and dilation:
    each input pixel scatters ``x[n, c, i, j] · weight[c]`` onto the output at
    ``(i·sH − pH, j·sW − pW)`` (overlaps add up), then ``bias`` is added. Output size
    along each axis: ``(size − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1``;
    ``output_padding`` (smaller than stride or dilation) picks among the sizes a strided
    conv2d maps to the same input size. Arguments in PyTorch's order.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> x = gdl.ones(1, 1, 2, 2)
    >>> F.conv_transpose2d(x, gdl.ones(1, 1, 2, 2))        # overlapping 2x2 stamps
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]], backend='numpy')
    >>> F.conv_transpose2d(x, gdl.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    >>> F.conv_transpose2d(gdl.randn(1, 4, 5, 5), gdl.randn(4, 3, 3, 3), stride=2, padding=1, output_padding=1).shape
    (1, 3, 10, 10)
    """
    if _AMP[0]:
        input, weight, bias = _amp_cast("low", input, weight, bias)
    op = "conv_transpose2d"
    _check_input(op, input, 4, "(N, C, H, W)")
    _check_conv_transpose_args(op, input, weight, bias, groups, 2)
    kernel = tuple(weight.shape[2:])
    stride = _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    output_padding = _pair(op, "output_padding", output_padding, 0)
    dilation = _pair(op, "dilation", dilation, 1)
    n, o = input.shape[0], weight.shape[1] * groups
    return _conv_transpose_node(op, input, weight, bias, kernel, stride, padding, output_padding, dilation, groups,
                                lambda oh, ow: (n, o, oh, ow), input.data, weight.data)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution of ``(N, C, L)`` input with ``weight`` ``(C, O/groups, k)``.

    Computed as :func:`conv_transpose2d` on a height-1 image (one graph node).

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.conv_transpose1d(gdl.tensor([[[1.0, 2.0]]]), gdl.tensor([[[1.0, 10.0, 100.0]]]), stride=2)
    tensor([[[  1.,  10., 102.,  20., 200.]]], backend='numpy')
    """
    if _AMP[0]:
        input, weight, bias = _amp_cast("low", input, weight, bias)
    op = "conv_transpose1d"
    _check_input(op, input, 3, "(N, C, L)")
    _check_conv_transpose_args(op, input, weight, bias, groups, 1)
    xp = input._backend.xp
    k = weight.shape[2]
    stride = _single(op, "stride", stride, 1)
    padding = _single(op, "padding", padding, 0)
    output_padding = _single(op, "output_padding", output_padding, 0)
    dilation = _single(op, "dilation", dilation, 1)
    n, c, length = input.shape
    o = weight.shape[1] * groups
    x4 = xp.reshape(input.data, (n, c, 1, length))
    w4 = xp.reshape(weight.data, (c, weight.shape[1], 1, k))
    return _conv_transpose_node(op, input, weight, bias, (1, k), (1, stride), (0, padding), (0, output_padding),
                                (1, dilation), groups, lambda oh, ow: (n, o, ow), x4, w4)


# -- pooling -----------------------------------------------------------------------------


def _pool_args(op, kernel_size, stride, padding, dilation, two_d):
    conv = _pair if two_d else _single
    kernel = conv(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else conv(op, "stride", stride, 1)
    padding = conv(op, "padding", padding, 0)
    dilation = conv(op, "dilation", dilation, 1)
    if not two_d:
        kernel, stride, padding, dilation = (1, kernel), (1, stride), (0, padding), (1, dilation)
    for p, k, d in zip(padding, kernel, dilation):
        if 2 * p > d * (k - 1) + 1:
            raise ValueError(
                f"{op}: padding {padding if two_d else padding[1]} must be at most half the "
                f"kernel size {kernel if two_d else kernel[1]} (every window needs a real element)"
            )
    return kernel, stride, padding, dilation


def _ceil_extra(size, kernel, stride, padding, dilation):
    """How many elements ``ceil_mode`` adds past the end of one padded axis.

    As PyTorch: the output length rounds up, ``ceil((L + 2p − span)/s) + 1``, except
    that the last window must start inside the input or its left padding.
    """
    span = dilation * (kernel - 1) + 1
    out = -(-(size + 2 * padding - span) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return max(0, (out - 1) * stride + span - (size + 2 * padding))


def _pad_end(be, x4, extra, value):
    """``x4`` with ``extra = (rows, cols)`` elements of ``value`` appended at the bottom and right."""
    xp = be.xp
    n, c, h, w = x4.shape
    if extra[0]:
        x4 = xp.concat([x4, xp.full((n, c, extra[0], w), value, dtype=x4.dtype, device=be.device)], axis=2)
    if extra[1]:
        fill = xp.full((n, c, h + extra[0], extra[1]), value, dtype=x4.dtype, device=be.device)
        x4 = xp.concat([x4, fill], axis=3)
    return x4


def _pool_windows(op, x, kernel, stride, padding, dilation, pad_value, two_d, ceil_mode=False):
    """``cols`` (N, C, kH, kW, oH, oW), the (padded) input's 4-D shape (1-D pools get
    H = 1) and ``extra``, the elements ``ceil_mode`` appended at the end of each axis."""
    be = x._backend
    xp = be.xp
    x4 = x.data if two_d else xp.reshape(x.data, (x.shape[0], x.shape[1], 1, x.shape[2]))
    n, c, h, w = x4.shape
    names = ("height", "width") if two_d else ("height", "length")
    for size, k, s, p, d, name in zip((h, w), kernel, stride, padding, dilation, names):
        _out_size(op, size, k, s, p, d, name, x.shape)
    extra = (0, 0)
    if ceil_mode:
        extra = tuple(_ceil_extra(*a) for a in zip((h, w), kernel, stride, padding, dilation))
        x4 = _pad_end(be, x4, extra, pad_value)
    cols = be.im2col(x4, kernel, stride, padding, dilation, pad_value)
    return cols, tuple(x4.shape), extra


def _crop_end(gx, extra):
    """Undo :func:`_pad_end` on a gradient."""
    h, w = gx.shape[2] - extra[0], gx.shape[3] - extra[1]
    return gx[:, :, :h, :w] if extra != (0, 0) else gx


def _linear_node(t: Tensor, apply, adjoint, name: str) -> Tensor:
    """``apply(t.data)`` as a graph node, for a map ``apply`` linear in its input with the
    adjoint ``adjoint`` (both on raw arrays): backward ``adjoint(g)``, graph backward the
    same node with the two swapped. A linear op's backward (an average pool's spreading,
    a max pool's scatter to its arg-max) wrapped so can be differentiated any number of
    times (``create_graph=True``)."""
    return result(apply(t.data), t._backend, (t,), lambda g: (adjoint(g),), name,
                  lambda g: (_linear_node(g, adjoint, apply, name),))


def _gather_flat(xp, flat_idx, spatial: int):
    """The gather ``h → h[..., flat_idx]`` over the last ``spatial`` axes of ``h`` flattened
    (``flat_idx`` int, the output's shape: a max pool's ``return_indices``): the adjoint of
    its scatter-add to the arg-max positions, on raw arrays."""
    shape = tuple(flat_idx.shape)
    lead = shape[: len(shape) - spatial]
    b = 1
    for s in lead:
        b *= s
    fi = xp.reshape(flat_idx, (b, -1))
    return lambda h: xp.reshape(xp.take_along_axis(xp.reshape(h, (b, -1)), fi, axis=1), shape)


def _max_pool(op, x, kernel_size, stride, padding, dilation, two_d, ceil_mode=False, return_indices=False):
    _check_input(op, x, 4 if two_d else 3, "(N, C, H, W)" if two_d else "(N, C, L)")
    kernel, stride, padding, dilation = _pool_args(op, kernel_size, stride, padding, dilation, two_d)
    be = x._backend
    xp = be.xp
    cols, shape4, extra = _pool_windows(op, x, kernel, stride, padding, dilation, -float("inf"), two_d, ceil_mode)
    n, c, kh, kw, oh, ow = cols.shape
    flat = xp.reshape(cols, (n, c, kh * kw, oh, ow))
    out = xp.max(flat, axis=2)
    out_shape = (n, c, oh, ow) if two_d else (n, c, ow)
    need_grad = x.requires_grad and is_grad_enabled()
    if not (need_grad or return_indices):
        return result(xp.reshape(out, out_shape), be, (x,), None, "MaxPool")
    # First maximum in window order (row-major over kH, kW): the Array API's argmax
    # returns the first occurrence, so ties always go to the same element.
    idx = xp.argmax(flat, axis=2)
    indices = _flat_indices(be, idx, shape4[3] - extra[1], kernel, stride, padding, dilation) if return_indices else None
    if not need_grad:
        return result(xp.reshape(out, out_shape), be, (x,), None, "MaxPool"), _index_tensor(be, indices, out_shape)

    def backward(g):
        g4 = xp.reshape(g, (n, c, 1, oh, ow))
        positions = xp.reshape(xp.arange(kh * kw, dtype=idx.dtype, device=be.device), (1, 1, kh * kw, 1, 1))
        onehot = positions == xp.reshape(idx, (n, c, 1, oh, ow))
        gcols = xp.where(onehot, g4, xp.zeros_like(g4))
        gcols = xp.reshape(gcols, (n, c, kh, kw, oh, ow))
        gx = _crop_end(be.col2im(gcols, shape4, kernel, stride, padding, dilation), extra)
        return (xp.reshape(gx, tuple(x.shape)),)

    def graph(g):  # the scatter to the arg-max as a node whose own backward gathers there again
        at = _flat_indices(be, idx, shape4[3] - extra[1], kernel, stride, padding, dilation)
        gather = _gather_flat(xp, xp.reshape(at, out_shape), 2 if two_d else 1)
        return (_linear_node(g, lambda a: backward(a)[0], gather, "MaxPoolBackward"),)

    out = result(xp.reshape(out, out_shape), be, (x,), backward, "MaxPool", graph)
    return (out, _index_tensor(be, indices, out_shape)) if return_indices else out


def _flat_indices(be, idx, width, kernel, stride, padding, dilation):
    """PyTorch's ``return_indices``: each maximum's position in its channel's
    flattened ``H × W`` input (``L`` for 1-D), from its index in the window."""
    xp = be.xp
    n, c, oh, ow = idx.shape
    kw = kernel[1]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    rows = xp.reshape(xp.arange(oh, dtype=idx.dtype, device=be.device), (1, 1, oh, 1)) * sh - ph
    cols = xp.reshape(xp.arange(ow, dtype=idx.dtype, device=be.device), (1, 1, 1, ow)) * sw - pw
    rows = rows + (idx // kw) * dh
    cols = cols + (idx % kw) * dw
    return rows * width + cols


def _index_tensor(be, indices, shape):
    return Tensor._wrap(be.xp.astype(be.xp.reshape(indices, shape), be.xp.int64), be)


def _avg_pool(op, x, kernel_size, stride, padding, count_include_pad, two_d, ceil_mode=False,
              divisor_override=None):
    _check_input(op, x, 4 if two_d else 3, "(N, C, H, W)" if two_d else "(N, C, L)")
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    kernel, stride, padding, dilation = _pool_args(op, kernel_size, stride, padding, 1, two_d)
    be = x._backend
    xp = be.xp
    cols, shape4, extra = _pool_windows(op, x, kernel, stride, padding, dilation, 0.0, two_d, ceil_mode)
    n, c, kh, kw, oh, ow = cols.shape
    if divisor_override is not None:
        divisor = float(divisor_override)
    elif (count_include_pad or padding == (0, 0)) and extra == (0, 0):
        divisor = float(kh * kw)
    else:  # count each window's elements: real ones, and the padding if it counts (never the ceil overhang)
        h, w = shape4[2] - extra[0], shape4[3] - extra[1]
        # ones where an element counts: the input, plus the padding when it counts
        pad = padding if count_include_pad else (0, 0)
        inside = xp.ones((1, 1, h + 2 * pad[0], w + 2 * pad[1]), dtype=x.data.dtype, device=be.device)
        padding_in = (0, 0) if count_include_pad else padding
        counted = _pad_end(be, inside, extra, 0.0)
        divisor = xp.sum(be.im2col(counted, kernel, stride, padding_in, dilation, 0.0), axis=(2, 3))
    out = xp.sum(cols, axis=(2, 3)) / divisor
    out_shape = (n, c, oh, ow) if two_d else (n, c, ow)

    def backward(g):
        div = divisor if isinstance(divisor, float) else xp.reshape(divisor, (1, 1, 1, 1, oh, ow))
        g4 = xp.reshape(g, (n, c, 1, 1, oh, ow)) / div
        gcols = xp.broadcast_to(g4, (n, c, kh, kw, oh, ow))
        gx = _crop_end(be.col2im(gcols, shape4, kernel, stride, padding, dilation), extra)
        return (xp.reshape(gx, tuple(x.shape)),)

    def pool(a):  # the forward on a raw array of x's shape: the adjoint of ``backward``
        a4 = xp.reshape(a, (n, c, shape4[2] - extra[0], shape4[3] - extra[1]))
        a6 = be.im2col(_pad_end(be, a4, extra, 0.0), kernel, stride, padding, dilation, 0.0)
        return xp.reshape(xp.sum(a6, axis=(2, 3)) / divisor, out_shape)

    def graph(g):  # backward as a node whose own backward is the average pool again
        return (_linear_node(g, lambda a: backward(a)[0], pool, "AvgPoolBackward"),)

    return result(xp.reshape(out, out_shape), be, (x,), backward, "AvgPool", graph)


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each ``kernel_size`` window of NCHW ``x`` (stride defaults to the kernel).

    Padding is ``-inf`` (never chosen) and at most half the kernel. The gradient
    goes only to the arg-max of each window; on ties, to the first maximum in
    window order (row by row), so results are deterministic. ``ceil_mode`` rounds
    the output size up (a last, partial window), as PyTorch. ``return_indices``
    also returns each maximum's flat index in its channel's ``H × W`` input.
    """
    return _max_pool("max_pool2d", x, kernel_size, stride, padding, dilation, True, ceil_mode, return_indices)


def max_pool1d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """:func:`max_pool2d` for ``(N, C, L)`` input."""
    return _max_pool("max_pool1d", x, kernel_size, stride, padding, dilation, False, ceil_mode, return_indices)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each ``kernel_size`` window of NCHW ``x`` (stride defaults to the kernel).

    Padding is zeros; with ``count_include_pad=True`` (PyTorch's default) they count
    in the divisor, otherwise only the real elements of each window do. With
    ``ceil_mode`` a last, partial window averages over what it covers (PyTorch's rule).
    ``divisor_override`` divides every window's sum by that number instead.

    >>> import gdl
    >>> x = gdl.ones(1, 1, 4, 4)
    >>> gdl.nn.functional.avg_pool2d(x, 2, divisor_override=1)   # window sums
    tensor([[[[4., 4.],
              [4., 4.]]]], backend='numpy')
    """
    return _avg_pool("avg_pool2d", x, kernel_size, stride, padding, count_include_pad, True, ceil_mode,
                     divisor_override)


def avg_pool1d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """:func:`avg_pool2d` for ``(N, C, L)`` input."""
    return _avg_pool("avg_pool1d", x, kernel_size, stride, padding, count_include_pad, False, ceil_mode)


__all__ = [
    "conv2d",
    "conv1d",
    "conv_transpose2d",
    "conv_transpose1d",
    "max_pool2d",
    "max_pool1d",
    "avg_pool2d",
    "avg_pool1d",
]
