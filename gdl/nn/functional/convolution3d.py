"""3-D convolution and transposed convolution, one graph node each, on the backend's 2-D im2col.

No new backend code: the depth axis is folded into the batch. For output slice ``d``
and depth tap ``t`` the input slice read is ``d·sD + t·dD`` of the depth-padded input;
one ``take`` gathers all of them as ``(N·oD, C·kD, H, W)`` (channels tap-minor), and the
backend's 2-D ``im2col`` of that is ``(N·oD, C·kD, kH, kW, oH, oW)``: exactly the
``(C, kD, kH, kW)`` columns of the weight, so

- forward: ``out[n, d, g] = W[g] @ cols[n, d, g]`` (one batched matmul),
- weight gradient: ``dW[g] = Σ_{n,d} grad[n, d, g] @ cols[n, d, g]ᵀ``,
- input gradient: the backend's ``col2im_matmul`` (``Wᵀ @ grad``, summed back onto
  ``(N·oD, C·kD, H, W)``), then the adjoint of the depth gather (slices added back).

The transposed convolution is the same pair read the other way round (its forward is
conv3d's input gradient, its backward conv3d's forward). The 3-D pools
(:mod:`gdl.nn.functional.pooling3d`) use the same depth folding.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.randn(2, 3, 8, 9, 10)
>>> F.conv3d(x, gdl.randn(4, 3, 3, 3, 3), padding=1).shape
(2, 4, 8, 9, 10)
>>> F.conv_transpose3d(x, gdl.randn(3, 2, 2, 2, 2), stride=2).shape
(2, 2, 16, 18, 20)
"""

from __future__ import annotations

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_same_backend
from gdl.functional.shape import _slice_put
from gdl.nn.functional.conv import _crop_end, _pad_end, _transpose_out_size
from gdl.nn.functional.pooling import _gather_adjoint
from gdl.tensor import Tensor, is_grad_enabled, result

_AXES = ("depth", "height", "width")

# -- arguments -----------------------------------------------------------------------


def _triple(op: str, name: str, value, minimum: int) -> tuple[int, int, int]:
    """``value`` (an int, a 1-tuple or a 3-tuple of ints) as a triple, each at least ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        triple = (value,) * 3
    else:
        try:
            triple = tuple(value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a tuple of 3 ints, got {value!r}") from None
        if any(isinstance(v, bool) or not isinstance(v, int) for v in triple):
            raise TypeError(f"{op}: {name} must be an int or a tuple of 3 ints, got {value!r}")
        if len(triple) == 1:
            triple = triple * 3
        if len(triple) != 3:
            raise ValueError(f"{op}: {name} must be an int or a tuple of 3 ints, got {value!r}")
    if min(triple) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return triple


def _check_input5(op: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 5-D input (N, C, D, H, W) or a 4-D unbatched one (C, D, H, W), "
                         f"got shape {x.shape}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")


def _as5(x: Tensor):
    """``x``'s array as ``(N, C, D, H, W)`` (an unbatched input gets ``N = 1``)."""
    return x.data if x.ndim == 5 else x._backend.xp.reshape(x.data, (1,) + tuple(x.shape))


def _fit(op, size, kernel, stride, lo, hi, dilation, axis, in_shape):
    """Output length along one axis padded by ``lo`` in front and ``hi`` behind; a clear
    error if the kernel does not fit."""
    span = dilation * (kernel - 1) + 1
    if size + lo + hi < span:
        raise ValueError(
            f"{op}: the kernel (size {kernel}, dilation {dilation}, so it spans {span}) is larger than the "
            f"padded input along {axis} ({size} + {lo} + {hi} = {size + lo + hi}); input shape {in_shape}"
        )
    return (size + lo + hi - span) // stride + 1


# -- the depth axis folded into the batch ----------------------------------------------------------------


def _depth_index(out: int, kernel: int, stride: int, dilation: int) -> list[int]:
    """The padded-depth slice read by each (output slice, tap), output-major."""
    return [o * stride + t * dilation for o in range(out) for t in range(kernel)]


def _fold_depth(be, x5, idx, out, kd, front, back, pad_value):
    """``(N, C, D, H, W)`` → ``(N·oD, C·kD, H, W)``: slice ``idx[o·kD + t]`` of the input padded
    by ``front``/``back`` slices of ``pad_value``, as batch ``n·oD + o``, channel ``c·kD + t``."""
    xp = be.xp
    n, c, d, h, w = x5.shape
    parts = [x5]
    if front:
        parts.insert(0, xp.full((n, c, front, h, w), pad_value, dtype=x5.dtype, device=be.device))
    if back:
        parts.append(xp.full((n, c, back, h, w), pad_value, dtype=x5.dtype, device=be.device))
    xpad = xp.concat(parts, axis=2) if len(parts) > 1 else x5
    if idx != list(range(xpad.shape[2])):  # else (kD = 1, stride 1, no padding) every slice once, in order
        xpad = xp.take(xpad, xp.asarray(idx, dtype=xp.int64, device=be.device), axis=2)
    win = xp.permute_dims(xp.reshape(xpad, (n, c, out, kd, h, w)), (0, 2, 1, 3, 4, 5))
    return xp.reshape(win, (n * out, c * kd, h, w))


def _unfold_depth(be, t4, n, c, out, kd, idx, front, size, d):
    """The adjoint of :func:`_fold_depth`: ``(N·oD, C·kD, H, W)`` summed back onto the
    ``size`` padded slices, then the ``d`` real ones from ``front`` on: ``(N, C, D, H, W)``."""
    xp = be.xp
    h, w = t4.shape[2], t4.shape[3]
    t = xp.permute_dims(xp.reshape(t4, (n, out, c, kd, h, w)), (0, 2, 1, 3, 4, 5))
    t = xp.reshape(t, (n, c, out * kd, h, w))
    if idx != list(range(size)):
        t = _gather_adjoint(be, t, 2, idx, size)
    return t[:, :, front:front + d, ...] if (front or size != d) else t


# -- convolution ----------------------------------------------------------------------


def _check_conv3d_args(op, x, weight, bias, groups, transposed):
    check_same_backend(op, x, weight)
    if not isinstance(weight, Tensor) or weight.ndim != 5:
        layout = "(in_channels, out_channels/groups, kD, kH, kW)" if transposed else \
            "(out_channels, in_channels/groups, kD, kH, kW)"
        raise ValueError(f"{op}: expected a 5-D weight {layout}, got shape {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c = x.shape[-4]
    if transposed:
        if weight.shape[0] != c:
            raise ValueError(f"{op}: input of shape {x.shape} has {c} channels, but the weight of shape "
                             f"{weight.shape} expects {weight.shape[0]} (weight.shape[0] = in_channels)")
        if c % groups:
            raise ValueError(f"{op}: in_channels ({c}) must be divisible by groups ({groups})")
        o = weight.shape[1] * groups
    else:
        o = weight.shape[0]
        if c % groups or o % groups:
            raise ValueError(f"{op}: in_channels ({c}) and out_channels ({o}) must both be divisible by "
                             f"groups ({groups})")
        if weight.shape[1] * groups != c:
            raise ValueError(f"{op}: input of shape {x.shape} has {c} channels, but the weight of shape "
                             f"{weight.shape} with groups={groups} expects {weight.shape[1] * groups} "
                             f"(weight.shape[1]·groups)")
    if bias is not None:
        check_same_backend(op, x, bias)
        if tuple(bias.shape) != (o,):
            raise ValueError(f"{op}: expected a bias of shape ({o},) (out_channels), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: input is {x.dtype.name} but weight is {weight.dtype.name}; convert one")


def _conv3d_padding(op, padding, kernel, stride, dilation):
    """``((front, back), ...)`` per axis. ``'same'`` as PyTorch: ``dil·(k − 1)`` split with
    the odd one out behind (even kernels pad one more at the end)."""
    if padding == "valid":
        return ((0, 0),) * 3
    if padding == "same":
        if stride != (1, 1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a tuple of 3 ints, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in _triple(op, "padding", padding, 0))


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``) ``input``
    with ``weight`` ``(O, C/groups, kD, kH, kW)``, plus ``bias`` ``(O,)``, as PyTorch's.

    ``stride``, ``padding`` (zeros; also ``'valid'``, or ``'same'`` with stride 1, which
    pads an even kernel one more at the end, as PyTorch) and ``dilation`` are ints or
    triples. Output size per axis: ``(size + 2·pad − dil·(k − 1) − 1) // stride + 1``.
    """
    if _AMP[0]:
        input, weight, bias = _amp_cast("low", input, weight, bias)
    op = "conv3d"
    _check_input5(op, input)
    _check_conv3d_args(op, input, weight, bias, groups, False)
    kernel = tuple(weight.shape[2:])
    stride = _triple(op, "stride", stride, 1)
    dilation = _triple(op, "dilation", dilation, 1)
    pads = _conv3d_padding(op, padding, kernel, stride, dilation)
    be = input._backend
    xp = be.xp
    x5 = _as5(input)
    n, c, d, h, w = x5.shape
    o, cg, kd, kh, kw = weight.shape
    og = o // groups
    od, oh, ow = (_fit(op, *a, input.shape) for a in zip((d, h, w), kernel, stride, *zip(*pads), dilation, _AXES))
    (fd, bd), (ph, ph2), (pw, pw2) = pads
    extra = (ph2 - ph, pw2 - pw)  # 'same' with an even kernel: one more row/column at the end
    idx = _depth_index(od, kd, stride[0], dilation[0])
    x4 = _pad_end(be, _fold_depth(be, x5, idx, od, kd, fd, bd, 0.0), extra, 0.0)  # (N·oD, C·kD, H', W')
    k = cg * kd * kh * kw
    cols = xp.reshape(be.im2col(x4, (kh, kw), stride[1:], (ph, pw), dilation[1:], 0.0), (n * od, groups, k, oh * ow))
    wmat = xp.reshape(weight.data, (groups, og, k))
    out = xp.reshape(wmat @ cols, (n, od, o, oh * ow))  # (N·oD, G, O/G, oH·oW)
    out = xp.reshape(xp.permute_dims(out, (0, 2, 1, 3)), (n, o, od, oh, ow))
    if bias is not None:
        out = out + xp.reshape(bias.data, (1, o, 1, 1, 1))
    need_x = input.requires_grad and is_grad_enabled()
    need_w = weight.requires_grad
    shape4 = tuple(x4.shape)

    def backward(g):
        g3 = xp.reshape(g, (n, o, od, oh * ow))
        g4 = xp.reshape(xp.permute_dims(g3, (0, 2, 1, 3)), (n * od, groups, og, oh * ow))
        gx = gw = None
        if need_w:
            gw = xp.reshape(xp.sum(g4 @ xp.permute_dims(cols, (0, 1, 3, 2)), axis=0), tuple(weight.shape))
        if need_x:
            g5 = xp.reshape(g4, (n * od, groups, og, oh, ow))
            gx4 = be.col2im_matmul(xp.permute_dims(wmat, (0, 2, 1)), g5, shape4, (kh, kw), stride[1:], (ph, pw),
                                   dilation[1:])
            gx = _unfold_depth(be, _crop_end(gx4, extra), n, c, od, kd, idx, fd, fd + d + bd, d)
            gx = xp.reshape(gx, tuple(input.shape))
        if bias is None:
            return (gx, gw)
        return (gx, gw, xp.sum(g3, axis=(0, 2, 3)))

    inputs = (input, weight) if bias is None else (input, weight, bias)
    out_shape = (n, o, od, oh, ow) if input.ndim == 5 else (o, od, oh, ow)
    return result(xp.reshape(out, out_shape), be, inputs, backward, "Conv3d",
                  _conv3d_graph(input, weight, bias, stride, pads, dilation, groups, (n, c, d, h, w), (od, oh, ow)))


def _conv3d_graph(input, weight, bias, stride, pads, dilation, groups, shape5, out_dhw):
    """:func:`conv3d`'s backward on Tensors (``create_graph=True``), with ``x`` padded at the end
    where the padding is uneven (``'same'`` with an even kernel), so the rest is padded evenly:

    - ``dx = conv_transpose3d(g, W)`` (same stride, front padding, dilation and groups, the
      ``output_padding`` that gives back the padded size), cropped to x's size;
    - ``dW``: the correlation of ``x`` with ``g``, itself a :func:`conv3d` with the roles of
      batch and channels swapped (input ``x`` as ``(C/G, G·N, ...)``, weight ``g`` as
      ``(O, N, oD, oH, oW)``, ``groups`` groups, stride and dilation exchanged), cropped to the kernel;
    - ``db = Σ g`` over the batch and the positions.
    """
    n, c, d, h, w = shape5
    od, oh, ow = out_dhw
    o, cg = weight.shape[0], weight.shape[1]
    kernel = tuple(weight.shape[2:])
    front = tuple(p[0] for p in pads)
    sizes = tuple(size + p[1] - p[0] for size, p in zip((d, h, w), pads))  # x with the uneven part padded

    def graph(g):
        g5 = ops.reshape(g, (n, o, od, oh, ow))
        gx = gw = gb = None
        if input.requires_grad:
            outpad = tuple(size - ((m - 1) * s - 2 * p + dl * (k - 1) + 1)
                           for size, m, k, s, p, dl in zip(sizes, (od, oh, ow), kernel, stride, front, dilation))
            gx = conv_transpose3d(g5, weight, None, stride, front, outpad, groups, dilation)
            if sizes != (d, h, w):
                gx = gx[:, :, :d, :h, :w]
            gx = ops.reshape(gx, tuple(input.shape))
        if weight.requires_grad:
            x5 = ops.reshape(input, shape5)
            if sizes != (d, h, w):
                x5 = _slice_put(x5, (slice(None), slice(None), slice(0, d), slice(0, h), slice(0, w)), (n, c) + sizes)
            xt = ops.reshape(ops.permute(ops.reshape(x5, (n, groups, cg) + sizes), (2, 1, 0, 3, 4, 5)),
                             (cg, groups * n) + sizes)
            y = conv3d(xt, ops.permute(g5, (1, 0, 2, 3, 4)), None, dilation, front, stride, groups)  # (C/G, O, k'...)
            if tuple(y.shape[2:]) != kernel:
                y = y[:, :, :kernel[0], :kernel[1], :kernel[2]]
            gw = ops.permute(y, (1, 0, 2, 3, 4))
        if bias is not None and bias.requires_grad:
            gb = ops.sum(g5, axis=(0, 2, 3, 4))
        return (gx, gw) if bias is None else (gx, gw, gb)

    return graph


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``)
    ``input`` with ``weight`` ``(C, O/groups, kD, kH, kW)``, as PyTorch's.

    The adjoint of :func:`conv3d` with the same weight, stride, padding and dilation, plus
    ``bias``. Output size per axis: ``(size − 1)·stride − 2·padding + dilation·(k − 1) +
    output_padding + 1`` (``output_padding`` smaller than stride or dilation).
    Arguments in PyTorch's order.
    """
    if _AMP[0]:
        input, weight, bias = _amp_cast("low", input, weight, bias)
    op = "conv_transpose3d"
    _check_input5(op, input)
    _check_conv3d_args(op, input, weight, bias, groups, True)
    kernel = tuple(weight.shape[2:])
    stride = _triple(op, "stride", stride, 1)
    padding = _triple(op, "padding", padding, 0)
    output_padding = _triple(op, "output_padding", output_padding, 0)
    dilation = _triple(op, "dilation", dilation, 1)
    be = input._backend
    xp = be.xp
    x5 = _as5(input)
    n, c, d, h, w = x5.shape
    _, og, kd, kh, kw = weight.shape
    o, cg = og * groups, c // groups
    od, oh, ow = (_transpose_out_size(op, *a, input.shape)
                  for a in zip((d, h, w), kernel, stride, padding, output_padding, dilation, _AXES))
    pd = padding[0]
    idx = _depth_index(d, kd, stride[0], dilation[0])  # input slice i, tap t → padded output slice
    size = od + 2 * pd
    k = og * kd * kh * kw
    wmat = xp.reshape(weight.data, (groups, cg, k))
    xin = xp.reshape(xp.permute_dims(x5, (0, 2, 1, 3, 4)), (n * d, groups, cg, h, w))
    out4 = be.col2im_matmul(xp.permute_dims(wmat, (0, 2, 1)), xin, (n * d, o * kd, oh, ow), (kh, kw), stride[1:],
                            padding[1:], dilation[1:])  # (N·D, O·kD, oH, oW)
    out = _unfold_depth(be, out4, n, o, d, kd, idx, pd, size, od)
    if bias is not None:
        out = out + xp.reshape(bias.data, (1, o, 1, 1, 1))
    need_x = input.requires_grad and is_grad_enabled()
    need_w = weight.requires_grad

    def backward(g):
        g5 = xp.reshape(g, (n, o, od, oh, ow))
        g4 = _fold_depth(be, g5, idx, d, kd, pd, size - pd - od, 0.0)  # (N·D, O·kD, oH, oW)
        gcols = be.im2col(g4, (kh, kw), stride[1:], padding[1:], dilation[1:], 0.0)
        if gcols.shape[4] != h or gcols.shape[5] != w:  # output_padding >= stride: windows past the input
            gcols = gcols[:, :, :, :, :h, :w]
        gcols = xp.reshape(gcols, (n * d, groups, k, h * w))
        gx = gw = None
        if need_x:
            gx = xp.reshape(wmat @ gcols, (n, d, c, h, w))
            gx = xp.reshape(xp.permute_dims(gx, (0, 2, 1, 3, 4)), tuple(input.shape))
        if need_w:
            xg = xp.reshape(xin, (n * d, groups, cg, h * w))
            gw = xp.reshape(xp.sum(xg @ xp.permute_dims(gcols, (0, 1, 3, 2)), axis=0), tuple(weight.shape))
        if bias is None:
            return (gx, gw)
        return (gx, gw, xp.sum(g5, axis=(0, 2, 3, 4)))

    inputs = (input, weight) if bias is None else (input, weight, bias)
    out_shape = (n, o, od, oh, ow) if input.ndim == 5 else (o, od, oh, ow)
    return result(xp.reshape(out, out_shape), be, inputs, backward, "ConvTranspose3d",
                  _conv_transpose3d_graph(input, weight, bias, stride, padding, dilation, groups, (n, c, d, h, w),
                                          (od, oh, ow)))


def _conv_transpose3d_graph(input, weight, bias, stride, padding, dilation, groups, shape5, out_dhw):
    """:func:`conv_transpose3d`'s backward on Tensors (``create_graph=True``):

    - ``dx = conv3d(g, W)`` (same stride, padding, dilation and groups), cropped to x's size
      where ``output_padding`` left windows past it;
    - ``dW``: the correlation of ``g`` with ``x``, a :func:`conv3d` with the roles of batch and
      channels swapped (input ``g`` as ``(O/G, G·N, ...)``, weight ``x`` as ``(C, N, D, H, W)``,
      ``groups`` groups, stride and dilation exchanged), cropped to the kernel;
    - ``db = Σ g`` over the batch and the positions.
    """
    n, c, d, h, w = shape5
    od, oh, ow = out_dhw
    og = weight.shape[1]
    o = og * groups
    kernel = tuple(weight.shape[2:])

    def graph(g):
        g5 = ops.reshape(g, (n, o, od, oh, ow))
        gx = gw = gb = None
        if input.requires_grad:
            gx = conv3d(g5, weight, None, stride, padding, dilation, groups)
            if tuple(gx.shape[2:]) != (d, h, w):
                gx = gx[:, :, :d, :h, :w]
            gx = ops.reshape(gx, tuple(input.shape))
        if weight.requires_grad:
            gt = ops.reshape(ops.permute(ops.reshape(g5, (n, groups, og, od, oh, ow)), (2, 1, 0, 3, 4, 5)),
                             (og, groups * n, od, oh, ow))
            xw = ops.permute(ops.reshape(input, shape5), (1, 0, 2, 3, 4))  # (C, N, D, H, W)
            y = conv3d(gt, xw, None, dilation, padding, stride, groups)  # (O/G, C, k'...)
            if tuple(y.shape[2:]) != kernel:
                y = y[:, :, :kernel[0], :kernel[1], :kernel[2]]
            gw = ops.permute(y, (1, 0, 2, 3, 4))
        if bias is not None and bias.requires_grad:
            gb = ops.sum(g5, axis=(0, 2, 3, 4))
        return (gx, gw) if bias is None else (gx, gw, gb)

    return graph


__all__ = ["conv3d", "conv_transpose3d"]
