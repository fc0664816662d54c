"""3-D pooling: max, average, adaptive average/max, power-average and max-unpooling,
for ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` input, as PyTorch's.

The window pools fold depth into the batch as :mod:`gdl.nn.functional.convolution3d` does
(``(N·oD, C·kD, H, W)``, then the backend's 2-D ``im2col``): the ``kD·kH·kW`` values of
each window sit on one axis, reduced by a max or a sum; the backward is the backend's
``col2im`` followed by the adjoint of the depth gather. The adaptive pools are
separable, as the 2-D ones (:mod:`gdl.nn.functional.pooling`): averaging matrices or
window gathers along each axis. One graph node per call (``lp_pool3d`` is composed of
differentiable gdl ops, as ``lp_pool2d``).

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.arange(8, dtype=gdl.float32).reshape(1, 1, 2, 2, 2)
>>> F.max_pool3d(x, 2, return_indices=True)
(tensor([[[[[7.]]]]], backend='numpy'), tensor([[[[[7]]]]], backend='numpy'))
>>> F.avg_pool3d(x, 2)
tensor([[[[[3.5]]]]], backend='numpy')
>>> F.adaptive_avg_pool3d(gdl.zeros(2, 3, 5, 6, 7), (1, 2, None)).shape
(2, 3, 1, 2, 7)
"""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.nn.functional._arguments import _check_tensor, _real
from gdl.nn.functional.conv import _ceil_extra, _crop_end, _gather_flat, _linear_node, _pad_end
from gdl.nn.functional.convolution3d import (
    _AXES,
    _as5,
    _check_input5,
    _depth_index,
    _fit,
    _fold_depth,
    _triple,
    _unfold_depth,
)
from gdl.nn.functional.pooling import _avg_plan, _empty, _gather_adjoint, _gather_plan, _sizes, _unpool_node
from gdl.tensor import Tensor, is_grad_enabled, result

# -- window pools --------------------------------------------------------------------------------


def _pool3d_args(op, kernel_size, stride, padding, dilation):
    kernel = _triple(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () or stride == [] else _triple(op, "stride", stride, 1)
    padding = _triple(op, "padding", padding, 0)
    dilation = _triple(op, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    return kernel, stride, padding, dilation


class _Windows:
    """Every window of a 3-D pool: ``cols`` ``(N·oD, C·kD, kH, kW, oH, oW)`` and the geometry
    that the backward and the indices need."""

    def __init__(self, op, x, kernel, stride, padding, dilation, pad_value, ceil_mode):
        be = x._backend
        x5 = _as5(x)
        self.n, self.c, self.d, self.h, self.w = x5.shape
        sizes = (self.d, self.h, self.w)
        for a in zip(sizes, kernel, stride, padding, padding, dilation, _AXES):
            _fit(op, *a, x.shape)
        extra = (0, 0, 0)
        if ceil_mode:
            extra = tuple(_ceil_extra(*a) for a in zip(sizes, kernel, stride, padding, dilation))
        self.out = tuple((s + 2 * p + e - dl * (k - 1) - 1) // st + 1
                         for s, k, st, p, e, dl in zip(sizes, kernel, stride, padding, extra, dilation))
        self.kernel, self.stride, self.padding, self.dilation, self.extra = kernel, stride, padding, dilation, extra
        pd = padding[0]
        self.idx = _depth_index(self.out[0], kernel[0], stride[0], dilation[0])
        self.depth = (pd, self.d + 2 * pd + extra[0])  # front padding, padded size
        x4 = _fold_depth(be, x5, self.idx, self.out[0], kernel[0], pd, pd + extra[0], pad_value)
        x4 = _pad_end(be, x4, extra[1:], pad_value)
        self.shape4 = tuple(x4.shape)
        self.cols = be.im2col(x4, kernel[1:], stride[1:], padding[1:], dilation[1:], pad_value)

    def flat(self, xp):
        """``cols`` as ``(N, oD, C, kD·kH·kW, oH, oW)``."""
        od, oh, ow = self.out
        return xp.reshape(self.cols, (self.n, od, self.c, math.prod(self.kernel), oh, ow))

    def to_output(self, xp, a, x):
        """``(N, oD, C, oH, oW)`` → the output's shape ``(N, C, oD, oH, oW)`` (or unbatched)."""
        a = xp.permute_dims(a, (0, 2, 1, 3, 4))
        return xp.reshape(a, tuple(x.shape[:-3]) + self.out)

    def grad_input(self, be, gflat, x):
        """``(N, oD, C, kD·kH·kW, oH, oW)`` window gradients summed back onto ``x``'s shape."""
        xp = be.xp
        kd, kh, kw = self.kernel
        od, oh, ow = self.out
        gcols = xp.reshape(gflat, (self.n * od, self.c * kd, kh, kw, oh, ow))
        g4 = _crop_end(be.col2im(gcols, self.shape4, self.kernel[1:], self.stride[1:], self.padding[1:],
                                 self.dilation[1:]), self.extra[1:])
        gx = _unfold_depth(be, g4, self.n, self.c, od, kd, self.idx, self.depth[0], self.depth[1], self.d)
        return xp.reshape(gx, tuple(x.shape))

    def grad_windows(self, xp, g, x):
        """The output gradient as ``(N, oD, C, 1, oH, oW)``."""
        od, oh, ow = self.out
        g5 = xp.permute_dims(xp.reshape(g, (self.n, self.c, od, oh, ow)), (0, 2, 1, 3, 4))
        return xp.reshape(g5, (self.n, od, self.c, 1, oh, ow))


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each ``kernel_size`` window of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``)
    input; stride defaults to the kernel, padding (``-inf``, at most half the kernel) and
    dilation are ints or triples, ``ceil_mode`` rounds the output size up as PyTorch.
    The gradient goes to the first maximum of each window (depth, row, column order);
    ``return_indices`` also returns its flat index in the channel's ``D × H × W`` input.
    """
    op = "max_pool3d"
    _check_input5(op, input)
    kernel, stride, padding, dilation = _pool3d_args(op, kernel_size, stride, padding, dilation)
    be = input._backend
    xp = be.xp
    win = _Windows(op, input, kernel, stride, padding, dilation, -float("inf"), ceil_mode)
    flat = win.flat(xp)
    out = win.to_output(xp, xp.max(flat, axis=3), input)
    need_grad = input.requires_grad and is_grad_enabled()
    if not (need_grad or return_indices):
        return result(out, be, (input,), None, "MaxPool3d")
    arg = xp.argmax(flat, axis=3)  # (N, oD, C, oH, oW): the first maximum in window order
    backward = None
    if need_grad:
        def backward(g):
            positions = xp.reshape(xp.arange(math.prod(kernel), dtype=arg.dtype, device=be.device),
                                   (1, 1, 1, -1, 1, 1))
            g6 = win.grad_windows(xp, g, input)
            gflat = xp.where(positions == arg[:, :, :, None, ...], g6, xp.zeros_like(g6))
            return (win.grad_input(be, gflat, input),)

    def flat_indices():
        kd, kh, kw = kernel
        (sd, sh, sw), (pd, ph, pw), (dd, dh, dw) = stride, padding, dilation
        od, oh, ow = win.out
        steps = [xp.reshape(xp.arange(m, dtype=arg.dtype, device=be.device), shape)
                 for m, shape in ((od, (1, od, 1, 1, 1)), (oh, (1, 1, 1, oh, 1)), (ow, (1, 1, 1, 1, ow)))]
        dpos = steps[0] * sd - pd + (arg // (kh * kw)) * dd
        hpos = steps[1] * sh - ph + ((arg // kw) % kh) * dh
        wpos = steps[2] * sw - pw + (arg % kw) * dw
        flat_idx = (dpos * win.h + hpos) * win.w + wpos
        return xp.astype(win.to_output(xp, flat_idx, input), xp.int64)

    def graph(g):  # the scatter to the arg-max as a node whose own backward gathers there again
        return (_linear_node(g, lambda a: backward(a)[0], _gather_flat(xp, flat_indices(), 3), "MaxPool3dBackward"),)

    out = result(out, be, (input,), backward, "MaxPool3d", graph if need_grad else None)
    if not return_indices:
        return out
    return out, Tensor._wrap(flat_indices(), be)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each ``kernel_size`` window of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input.

    Zero padding (at most half the kernel) counts in the divisor with
    ``count_include_pad=True`` (PyTorch's default); a ``ceil_mode`` window past the end
    divides by what it covers (PyTorch's rule); ``divisor_override`` divides every
    window's sum by that number instead.
    """
    op = "avg_pool3d"
    _check_input5(op, input)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    kernel, stride, padding, dilation = _pool3d_args(op, kernel_size, stride, padding, 1)
    be = input._backend
    xp = be.xp
    win = _Windows(op, input, kernel, stride, padding, dilation, 0.0, ceil_mode)
    od, oh, ow = win.out
    if divisor_override is not None:
        divisor = float(divisor_override)
    elif (count_include_pad or padding == (0, 0, 0)) and win.extra == (0, 0, 0):
        divisor = float(math.prod(kernel))
    else:  # PyTorch's count per axis: the window clipped to the padded input, then (if pads don't count) to the input
        counts = []
        for size, k, s, p, out in zip((win.d, win.h, win.w), kernel, stride, padding, win.out):
            starts = [o * s - p for o in range(out)]
            ends = [min(a + k, size + p) for a in starts]
            if not count_include_pad:
                starts, ends = [max(a, 0) for a in starts], [min(b, size) for b in ends]
            counts.append([float(b - a) for a, b in zip(starts, ends)])
        cd, ch, cw = (xp.asarray(v, dtype=input.data.dtype, device=be.device) for v in counts)
        divisor = (xp.reshape(cd, (1, od, 1, 1, 1)) * xp.reshape(ch, (1, 1, 1, oh, 1))
                   * xp.reshape(cw, (1, 1, 1, 1, ow)))
    out = win.to_output(xp, xp.sum(win.flat(xp), axis=3) / divisor, input)

    def backward(g):
        div = divisor if isinstance(divisor, float) else xp.reshape(divisor, (1, od, 1, 1, oh, ow))
        g6 = win.grad_windows(xp, g, input) / div
        gflat = xp.broadcast_to(g6, (win.n, od, win.c, math.prod(kernel), oh, ow))
        return (win.grad_input(be, gflat, input),)

    def pool(a):  # the forward on a raw array of the input's shape: the adjoint of ``backward``
        w = _Windows(op, Tensor._wrap(a, be), kernel, stride, padding, dilation, 0.0, ceil_mode)
        return w.to_output(xp, xp.sum(w.flat(xp), axis=3) / divisor, input)

    def graph(g):  # backward as a node whose own backward is the average pool again
        return (_linear_node(g, lambda a: backward(a)[0], pool, "AvgPool3dBackward"),)

    return result(out, be, (input,), backward, "AvgPool3d", graph)


# -- adaptive pools -------------------------------------------------------------------------------


def _prepare3d(op, x, output_size):
    _check_input5(op, x)
    if any(s == 0 for s in x.shape[-4:]):
        raise ValueError(f"{op}: expected an input with non-zero sizes in every non-batch dimension, "
                         f"got shape {x.shape}")
    return _sizes(op, output_size, x.shape[-3:])


def _along(xp, p, a, axis):
    """``p`` (``(m, size)``) applied along ``axis`` (``-3``, ``-2`` or ``-1``) of ``a``."""
    if axis == -1:
        return a @ p.mT
    if axis == -2:
        return p @ a
    return xp.moveaxis(p @ xp.moveaxis(a, axis, -2), -2, axis)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """The mean of each adaptive window of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input.

    ``output_size`` is an int or ``(oD, oH, oW)``, a ``None`` entry keeping that input
    size; window ``i`` of an axis covers ``[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)``, as PyTorch.
    """
    op = "adaptive_avg_pool3d"
    sizes = _prepare3d(op, input, output_size)
    be = input._backend
    xp = be.xp
    out_shape = tuple(input.shape[:-3]) + sizes
    if math.prod(sizes) == 0:
        return _empty(input, out_shape, "AdaptiveAvgPool3d")
    plans = [(axis, size, n_out, _avg_plan(be, axis, size, n_out, input.data.dtype))
             for axis, size, n_out in zip((-3, -2, -1), input.shape[-3:], sizes) if n_out != size]
    def pool(a):  # the forward on a raw array of the input's shape (also the adjoint of ``backward``)
        for axis, _, n_out, (p, idx, k, weights) in plans:
            if p is not None:
                a = _along(xp, p, a, axis)
                continue
            shape = tuple(a.shape)
            pos = len(shape) + axis
            win = xp.take(a, xp.asarray(idx, dtype=xp.int64, device=be.device), axis=axis)
            a = xp.sum(xp.reshape(win, shape[:pos] + (n_out, k) + shape[pos + 1:]) * weights, axis=axis)
        return a if plans else be.copy(a)  # a new array, never a view of the input

    out = pool(input.data)

    def backward(g):
        gx = g
        for axis, size, n_out, (p, idx, k, weights) in reversed(plans):
            if p is not None:
                gx = _along(xp, p.mT, gx, axis)
                continue
            shape = tuple(gx.shape)
            pos = len(shape) + axis
            spread = xp.reshape(xp.expand_dims(gx, axis=pos + 1) * weights, shape[:pos] + (n_out * k,) + shape[pos + 1:])
            gx = _gather_adjoint(be, spread, pos, idx, size)
        return (xp.reshape(gx, tuple(input.shape)),)

    def graph(g):  # backward as a node whose own backward is the pool again
        return (_linear_node(g, lambda a: backward(a)[0], pool, "AdaptiveAvgPool3dBackward"),)

    return result(out, be, (input,), backward, "AdaptiveAvgPool3d", graph)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of each adaptive window of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input
    (windows as :func:`adaptive_avg_pool3d`). ``return_indices=True`` also returns each
    maximum's flat index in its channel's ``D × H × W`` input (int64), as PyTorch's; the
    gradient goes to that element only.
    """
    op = "adaptive_max_pool3d"
    sizes = _prepare3d(op, input, output_size)
    be = input._backend
    xp = be.xp
    out_shape = tuple(input.shape[:-3]) + sizes
    if math.prod(sizes) == 0:
        out = _empty(input, out_shape, "AdaptiveMaxPool3d")
        return (out, Tensor._wrap(xp.zeros(out_shape, dtype=xp.int64, device=be.device), be)) if return_indices else out
    lead = tuple(input.shape[:-3])
    nd = len(lead)
    plans = [_gather_plan(size, n_out) for size, n_out in zip(input.shape[-3:], sizes)]  # (positions, starts, k)
    kd, kh, kw = (k for _, _, k in plans)
    win = input.data
    for axis, (positions, _, _) in zip((-3, -2, -1), plans):
        win = xp.take(win, xp.asarray(positions, dtype=xp.int64, device=be.device), axis=axis)
    od, oh, ow = sizes
    order = tuple(range(nd)) + tuple(nd + a for a in (0, 2, 4, 1, 3, 5))  # (..., oD, oH, oW, kD, kH, kW)
    win = xp.reshape(xp.permute_dims(xp.reshape(win, lead + (od, kd, oh, kh, ow, kw)), order), out_shape + (-1,))
    out = xp.max(win, axis=-1)
    need_grad = input.requires_grad and is_grad_enabled()
    if not (need_grad or return_indices):
        return result(out, be, (input,), None, "AdaptiveMaxPool3d")
    arg = xp.argmax(win, axis=-1)  # the first maximum; padding repeats an earlier element, so never chosen
    backward = None
    if need_grad:
        def backward(g):
            positions = xp.arange(kd * kh * kw, dtype=arg.dtype, device=be.device)
            g1 = xp.reshape(g, out_shape + (1,))
            gwin = xp.where(positions == arg[..., None], g1, xp.zeros_like(g1))
            back = tuple(range(nd)) + tuple(nd + a for a in (0, 3, 1, 4, 2, 5))
            gwin = xp.permute_dims(xp.reshape(gwin, lead + (od, oh, ow, kd, kh, kw)), back)
            gx = xp.reshape(gwin, lead + (od * kd, oh * kh, ow * kw))
            for axis, size, (pos, _, _) in zip(range(nd, nd + 3), input.shape[-3:], plans):
                gx = _gather_adjoint(be, gx, axis, pos, size)
            return (gx,)

    def flat_indices():
        sd, sh, sw = (xp.asarray(starts, dtype=arg.dtype, device=be.device) for _, starts, _ in plans)
        d_ = xp.reshape(sd, (od, 1, 1)) + arg // (kh * kw)
        h_ = xp.reshape(sh, (oh, 1)) + (arg // kw) % kh
        w_ = sw + arg % kw
        h, w = input.shape[-2:]
        return xp.astype((d_ * h + h_) * w + w_, xp.int64)

    def graph(g):  # the scatter to the arg-max as a node whose own backward gathers there again
        gather = _gather_flat(xp, flat_indices(), 3)
        return (_linear_node(g, lambda a: backward(a)[0], gather, "AdaptiveMaxPool3dBackward"),)

    out_t = result(out, be, (input,), backward, "AdaptiveMaxPool3d", graph if need_grad else None)
    if not return_indices:
        return out_t
    return out_t, Tensor._wrap(flat_indices(), be)


# -- unpooling and power-average pooling ---------------------------------------------------------


def max_unpool3d(input: Tensor, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool3d`: zeros of the pooled-from size with each value
    of ``input`` ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) put back at its index
    (``max_pool3d(..., return_indices=True)``'s, flat in each channel's ``D × H × W``). The
    size is ``(D − 1)·stride − 2·padding + kernel`` per axis unless ``output_size`` (3 or 5
    sizes, within a stride of it) says otherwise. The later of two values at one index wins.
    """
    op = "max_unpool3d"
    _check_tensor(op, "input", input)
    kernel = _triple(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _triple(op, "stride", stride, 1)
    padding = _triple(op, "padding", padding, 0)
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected input of shape (N, C, D, H, W) or (C, D, H, W), got {input.shape}")
    return _unpool_node(op, input, indices, kernel, stride, padding, output_size, "MaxUnpool3d")


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling ``(Σ_window xᵖ)^(1/p)`` over ``kernel_size`` windows of
    ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input, as ``torch.nn.functional.lp_pool3d``
    (see :func:`~gdl.nn.functional.lp_pool2d`; ``p = ∞`` is max-pooling of ``|x|``).
    """
    op = "lp_pool3d"
    _check_tensor(op, "input", input)
    p = _real(op, "norm_type", norm_type)
    if p == 0:
        raise ValueError(f"{op}: norm_type must be non-zero, got {norm_type!r}")
    _check_input5(op, input)
    kernel = _triple(op, "kernel_size", kernel_size, 1)
    if p == math.inf:
        return max_pool3d(ops.abs(input), kernel, stride, 0, 1, ceil_mode)
    if p == -math.inf:
        return -max_pool3d(-ops.abs(input), kernel, stride, 0, 1, ceil_mode)
    out = avg_pool3d(input ** p, kernel, stride, 0, ceil_mode)
    return (ops.sign(out) * ops.relu(ops.abs(out)) * float(math.prod(kernel))) ** (1.0 / p)


__all__ = [
    "max_pool3d",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "max_unpool3d",
    "lp_pool3d",
]
