"""Adaptive pooling (a fixed output size, whatever the input size; one graph node each),
max-unpooling and power-average pooling. The window pools (``max_pool2d``, ``avg_pool2d``,
...) live in :mod:`gdl.nn.functional.conv`.

Output cell ``i`` of an axis of length ``L`` pooled to ``out`` covers input positions
``floor(i·L/out)`` up to (not including) ``ceil((i+1)·L/out)``: PyTorch's windows, which
overlap when ``out`` does not divide ``L``.

Both gather every window along each axis (padded to the longest window ``k`` by
repeating its last element), so a call costs about what the input costs, whatever the
sizes; where the ``out × size`` matrices of those gathers are small, matrix products
with them do the same faster:

- Average pooling is separable: along each axis, the gathered windows times the
  weights ``1/len_i`` (0 on the padding), summed (or ``P · x`` with ``P[i, h] = 1/len_i``
  inside window ``i``); the backward is the adjoint of each gather (or ``Pᵀ · g``).
- Max pooling takes the max of each ``kH × kW`` window (a repeated last element cannot
  change a maximum) and its first arg-max (ties: the first element in row-major window
  order), and sends the gradient back through the adjoints of the two gathers.

:func:`max_unpool1d`/:func:`max_unpool2d` are the partial inverse of max-pooling, from the
indices that ``max_pool1d/2d(..., return_indices=True)`` give (one graph node each);
:func:`lp_pool1d`/:func:`lp_pool2d` compute ``(Σ_window xᵖ)^(1/p)``, composed of
differentiable gdl ops.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.arange(5, dtype=gdl.float32).reshape(1, 1, 5)
>>> F.adaptive_avg_pool1d(x, 3)          # windows [0, 2), [1, 4), [3, 5)
tensor([[[0.5, 2. , 3.5]]], backend='numpy')
>>> F.adaptive_max_pool1d(x, 2, return_indices=True)[1]
tensor([[[2, 4]]], backend='numpy')
>>> x = gdl.tensor([[1.0, 2.0, 3.0, 4.0]]).reshape(1, 1, 4)
>>> F.lp_pool1d(x, 1, 2)                  # p = 1: window sums
tensor([[[3., 7.]]], backend='numpy')
>>> out, idx = F.max_pool1d(x, 2, return_indices=True)
>>> F.max_unpool1d(out, idx, 2)
tensor([[[0., 2., 0., 4.]]], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.nn.functional._arguments import _check_tensor, _index_array, _real, _zero
from gdl.nn.functional.conv import (
    _gather_flat,
    _linear_node,
    _pair,
    _single,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from gdl.nn.functional.upsampling import _take_adjoint
from gdl.tensor import Tensor, is_grad_enabled, result


def _ranges(size: int, out: int):
    """The ``[start, end)`` of each of the ``out`` windows over ``size`` positions."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _sizes(op: str, output_size, in_sizes) -> tuple:
    """``output_size`` (an int or a tuple; ``None`` keeps the input's size) as a tuple."""
    n = len(in_sizes)
    if isinstance(output_size, (tuple, list)):
        sizes = tuple(output_size)
        if len(sizes) != n:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {n}, got {output_size!r}")
    else:
        sizes = (output_size,) * n
    out = []
    for s, size in zip(sizes, in_sizes):
        if s is None:
            s = size
        if isinstance(s, bool) or not isinstance(s, int):
            raise TypeError(f"{op}: output_size must hold ints or None, got {output_size!r}")
        if s < 0:
            raise ValueError(f"{op}: output_size must be non-negative, got {output_size!r}")
        out.append(s)
    return tuple(out)


def _prepare(op: str, x, output_size, two_d: bool):
    """Checks; returns ``x``'s data viewed as ``(..., H, W)`` (1-D: ``H = 1``) and the output sizes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    dims = (3, 4) if two_d else (2, 3)
    if x.ndim not in dims:
        layout = "(C, H, W) or 4-D (N, C, H, W)" if two_d else "(C, L) or 3-D (N, C, L)"
        raise ValueError(f"{op}: expected a {dims[0]}-D {layout} input, got shape {x.shape}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")
    if any(s == 0 for s in x.shape[1:]):
        raise ValueError(f"{op}: expected an input with non-zero sizes in every non-batch dimension, "
                         f"got shape {x.shape}")
    xp = x._backend.xp
    if two_d:
        oh, ow = _sizes(op, output_size, x.shape[-2:])
        return x.data, oh, ow
    (ow,) = _sizes(op, output_size, x.shape[-1:])
    return xp.reshape(x.data, tuple(x.shape[:-1]) + (1, x.shape[-1])), 1, ow


# -- average -------------------------------------------------------------------------------------


def _empty(x, out_shape, name):
    """An output with no elements (an output size of 0, as PyTorch allows); gradient zeros."""
    be = x._backend
    xp = be.xp
    out = xp.zeros(out_shape, dtype=x.data.dtype, device=be.device)
    return result(out, be, (x,), lambda g: (xp.zeros_like(x.data),), name,
                  lambda g: (Tensor._wrap(xp.zeros_like(x.data), be),))


_MATRIX_ENTRIES = 1 << 16  # an averaging matrix up to this size is faster than gathers


def _avg_plan(be, axis, size, out, dtype):
    """How one axis is averaged: ``(matrix, None, None, None)`` with ``matrix[i, h] = 1/len_i``
    inside window ``i`` when ``out·size`` is small, else ``(None, positions, k, weights)``:
    the windows gathered (see :func:`_gather_plan`) and weighted ``1/len_i`` (0 on the
    repeated padding), ``weights`` shaped ``(out, k, 1...)`` to broadcast along ``axis``."""
    xp = be.xp
    ranges = _ranges(size, out)
    if out * size <= _MATRIX_ENTRIES:
        starts = xp.asarray([[a] for a, _ in ranges], dtype=xp.int64, device=be.device)
        ends = xp.asarray([[b] for _, b in ranges], dtype=xp.int64, device=be.device)
        inv = xp.asarray([[1.0 / (b - a)] for a, b in ranges], dtype=dtype, device=be.device)
        h = xp.arange(size, dtype=xp.int64, device=be.device)[None, :]
        return xp.where((h >= starts) & (h < ends), inv, xp.zeros((), dtype=dtype, device=be.device)), None, None, None
    idx, _, k = _gather_plan(size, out)
    rows = [[1.0 / (b - a) if j < b - a else 0.0 for j in range(k)] for a, b in ranges]
    weights = xp.reshape(xp.asarray(rows, dtype=dtype, device=be.device), (out, k) + (1,) * (-1 - axis))
    return None, idx, k, weights


def _gather_adjoint(be, g, axis, positions, size):
    """The adjoint of ``take(·, positions, axis)`` (``positions`` a host list, any order):
    input ``j`` sums the entries of ``g`` that read it (no one-hot matrix)."""
    xp = be.xp
    order = sorted(range(len(positions)), key=positions.__getitem__)
    g = xp.take(g, xp.asarray(order, dtype=xp.int64, device=be.device), axis=axis)
    idx = xp.asarray([positions[i] for i in order], dtype=xp.int64, device=be.device)
    return _take_adjoint(be, g, axis, idx, size)


def _adaptive_avg(op, x, output_size, two_d):
    x4, oh, ow = _prepare(op, x, output_size, two_d)
    be = x._backend
    xp = be.xp
    if oh * ow == 0:
        return _empty(x, tuple(x.shape[:-2 if two_d else -1]) + ((oh, ow) if two_d else (ow,)), "AdaptiveAvgPool")
    h, w = x4.shape[-2], x4.shape[-1]
    lead = tuple(x4.shape[:-2])
    plans = []  # per axis whose size changes (an unchanged one is the identity): (axis, size, out, how)
    for axis, size, n_out in ((-2, h, oh), (-1, w, ow)):
        if n_out != size:
            plans.append((axis, size, n_out, _avg_plan(be, axis, size, n_out, x4.dtype)))
    out_shape = tuple(x.shape[:-2]) + (oh, ow) if two_d else tuple(x.shape[:-1]) + (ow,)

    def pool(a):  # the forward on a raw array of x's shape (also the adjoint of ``backward``)
        a = xp.reshape(a, tuple(x4.shape))
        for axis, _, n_out, (p, idx, k, weights) in plans:
            if p is not None:  # a small (out, size) averaging matrix: one matrix product
                a = p @ a if axis == -2 else a @ p.mT
                continue
            shape = tuple(a.shape)
            pos = len(shape) + axis
            win = xp.take(a, xp.asarray(idx, dtype=xp.int64, device=be.device), axis=axis)
            a = xp.sum(xp.reshape(win, shape[:pos] + (n_out, k) + shape[pos + 1:]) * weights, axis=axis)
        return xp.reshape(a if plans else be.copy(a), out_shape)  # a new array, never a view of x

    out = pool(x4)

    def backward(g):
        # a row-major copy: a broadcast g (that of a sum) made each stacked product a
        # slow non-BLAS loop (44 ms for 2,048 rows of 37 into 1,000, 1 ms copied)
        gx = be.copy(xp.reshape(g, lead + (oh, ow)))
        for axis, size, n_out, (p, idx, k, weights) in reversed(plans):
            if p is not None:
                gx = p.mT @ gx if axis == -2 else gx @ p
                continue
            shape = tuple(gx.shape)
            pos = len(shape) + axis
            spread = xp.expand_dims(gx, axis=pos + 1) * weights
            spread = xp.reshape(spread, shape[:pos] + (n_out * k,) + shape[pos + 1:])
            gx = _gather_adjoint(be, spread, pos, idx, size)
        return (xp.reshape(gx, tuple(x.shape)),)

    def graph(g):  # backward as a node whose own backward is the pool again
        return (_linear_node(g, lambda a: backward(a)[0], pool, "AdaptiveAvgPoolBackward"),)

    return result(out, be, (x,), backward, "AdaptiveAvgPool", graph)


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """The mean of each adaptive window of ``(N, C, H, W)`` (or ``(C, H, W)``) input.

    ``output_size`` is an int or ``(oH, oW)``; a ``None`` entry keeps that input size.
    ``adaptive_avg_pool2d(x, 1)`` is global average pooling.
    """
    return _adaptive_avg("adaptive_avg_pool2d", x, output_size, True)


def adaptive_avg_pool1d(x: Tensor, output_size) -> Tensor:
    """:func:`adaptive_avg_pool2d` for ``(N, C, L)`` (or ``(C, L)``) input."""
    return _adaptive_avg("adaptive_avg_pool1d", x, output_size, False)


# -- max ----------------------------------------------------------------------------------------------


def _gather_plan(size, out):
    """Window ``i``'s positions, padded to the longest window ``k`` by repeating its
    last one: a flat list of ``out·k`` input positions, the starts, and ``k``."""
    ranges = _ranges(size, out)
    k = max(end - start for start, end in ranges)
    idx = [start + min(j, end - start - 1) for start, end in ranges for j in range(k)]
    return idx, [start for start, _ in ranges], k


def _one_hot(be, positions, size, dtype):
    """``(len(positions), size)``: row ``i`` is 1 at ``positions[i]`` (a gather as a matrix)."""
    xp = be.xp
    pos = xp.asarray(positions, dtype=xp.int64, device=be.device)
    return xp.astype(pos[:, None] == xp.arange(size, dtype=xp.int64, device=be.device)[None, :], dtype)


def _adaptive_max(op, x, output_size, two_d, return_indices):
    x4, oh, ow = _prepare(op, x, output_size, two_d)
    be = x._backend
    xp = be.xp
    if oh * ow == 0:
        shape = tuple(x.shape[:-2 if two_d else -1]) + ((oh, ow) if two_d else (ow,))
        out = _empty(x, shape, "AdaptiveMaxPool")
        return (out, Tensor._wrap(xp.zeros(shape, dtype=xp.int64, device=be.device), be)) if return_indices else out
    h, w = x4.shape[-2], x4.shape[-1]
    lead = tuple(x4.shape[:-2])
    idx_h, starts_h, kh = _gather_plan(h, oh)
    idx_w, starts_w, kw = _gather_plan(w, ow)
    win = xp.take(x4, xp.asarray(idx_h, dtype=xp.int64, device=be.device), axis=-2)
    win = xp.take(win, xp.asarray(idx_w, dtype=xp.int64, device=be.device), axis=-1)
    nd = len(lead)
    win = xp.reshape(win, lead + (oh, kh, ow, kw))
    win = xp.permute_dims(win, tuple(range(nd)) + (nd, nd + 2, nd + 1, nd + 3))  # (..., oh, ow, kh, kw)
    win = xp.reshape(win, lead + (oh, ow, kh * kw))
    out = xp.max(win, axis=-1)
    out_shape = tuple(x.shape[:-2]) + (oh, ow) if two_d else tuple(x.shape[:-1]) + (ow,)
    need_grad = x.requires_grad and is_grad_enabled()
    if not (need_grad or return_indices):
        return result(xp.reshape(out, out_shape), be, (x,), None, "AdaptiveMaxPool")
    arg = xp.argmax(win, axis=-1)  # the first maximum; padding repeats come last, so never chosen

    backward = None
    if need_grad:
        small = len(idx_h) * h + len(idx_w) * w <= _MATRIX_ENTRIES

        def backward(g):
            g4 = xp.reshape(g, lead + (oh, ow, 1))
            positions = xp.arange(kh * kw, dtype=arg.dtype, device=be.device)
            gwin = xp.where(positions == arg[..., None], g4, xp.zeros_like(g4))
            gwin = xp.reshape(gwin, lead + (oh, ow, kh, kw))
            gwin = xp.permute_dims(gwin, tuple(range(nd)) + (nd, nd + 2, nd + 1, nd + 3))
            gwin = xp.reshape(gwin, lead + (oh * kh, ow * kw))
            if small:  # the gathers as small one-hot matrices: two matrix products
                gx = _one_hot(be, idx_h, h, x4.dtype).mT @ gwin @ _one_hot(be, idx_w, w, x4.dtype)
            else:
                gx = _gather_adjoint(be, gwin, nd, idx_h, h)  # (..., H, ow·kw)
                gx = _gather_adjoint(be, gx, nd + 1, idx_w, w)
            return (xp.reshape(gx, tuple(x.shape)),)

    def flat_indices():
        rows = xp.reshape(xp.asarray(starts_h, dtype=arg.dtype, device=be.device), (oh, 1)) + arg // kw
        cols = xp.reshape(xp.asarray(starts_w, dtype=arg.dtype, device=be.device), (1, ow)) + arg % kw
        return xp.astype(xp.reshape(rows * w + cols, out_shape), xp.int64)

    def graph(g):  # the scatter to the arg-max as a node whose own backward gathers there again
        gather = _gather_flat(xp, flat_indices(), 2 if two_d else 1)
        return (_linear_node(g, lambda a: backward(a)[0], gather, "AdaptiveMaxPoolBackward"),)

    out_t = result(xp.reshape(out, out_shape), be, (x,), backward, "AdaptiveMaxPool", graph if need_grad else None)
    if not return_indices:
        return out_t
    return out_t, Tensor._wrap(flat_indices(), be)


def adaptive_max_pool2d(x: Tensor, output_size, return_indices: bool = False):
    """The maximum of each adaptive window of ``(N, C, H, W)`` (or ``(C, H, W)``) input.

    ``return_indices=True`` also returns each maximum's flat index in its channel's
    ``H × W`` input (int64), as PyTorch's. The gradient goes to that element only.
    """
    return _adaptive_max("adaptive_max_pool2d", x, output_size, True, return_indices)


def adaptive_max_pool1d(x: Tensor, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool2d` for ``(N, C, L)`` (or ``(C, L)``) input."""
    return _adaptive_max("adaptive_max_pool1d", x, output_size, False, return_indices)


def _unpool_size(op, spatial, kernel, stride, padding, output_size):
    default = [(s - 1) * st - 2 * p + k for s, k, st, p in zip(spatial, kernel, stride, padding)]
    nd = len(kernel)
    if output_size is None:
        sizes = default
    else:
        if isinstance(output_size, int) and not isinstance(output_size, bool):
            output_size = (output_size,)
        try:
            sizes = [int(v) for v in output_size]
        except TypeError:
            raise TypeError(f"{op}: output_size must be a sequence of ints, got {output_size!r}") from None
        if len(sizes) == nd + 2:
            sizes = sizes[2:]
        if len(sizes) != nd:
            raise ValueError(f"{op}: output_size must hold {nd} or {nd + 2} sizes, got {output_size!r}")
        for d, (v, dflt, st) in enumerate(zip(sizes, default, stride)):
            if not dflt - st < v < dflt + st:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)}: dimension {d} must be strictly "
                                 f"between {dflt - st} and {dflt + st}")
    if min(sizes) <= 0:
        raise ValueError(f"{op}: the output sizes {tuple(sizes)} must be positive")
    return sizes


def _max_unpool(op, input, indices, kernel_size, stride, padding, output_size, two_d):
    _check_tensor(op, "input", input)
    conv = _pair if two_d else _single
    kernel = conv(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else conv(op, "stride", stride, 1)
    padding = conv(op, "padding", padding, 0)
    if not two_d:
        kernel, stride, padding = (kernel,), (stride,), (padding,)
    nd = len(kernel)
    if input.ndim not in (nd + 1, nd + 2):
        layout = "(N, C, H, W) or (C, H, W)" if two_d else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: expected input of shape {layout}, got {input.shape}")
    return _unpool_node(op, input, indices, kernel, stride, padding, output_size, "MaxUnpool")


def _unpool_node(op, input, indices, kernel, stride, padding, output_size, name):
    """Max-unpooling over the last ``len(kernel)`` axes as one node (any dimension count)."""
    nd = len(kernel)
    be = input._backend
    xp = be.xp
    idx = _index_array(op, "indices", indices, be)
    if tuple(idx.shape) != input.shape:
        raise ValueError(f"{op}: indices of shape {tuple(idx.shape)} must have the input's shape {input.shape}")
    spatial = input.shape[-nd:]
    sizes = _unpool_size(op, spatial, kernel, stride, padding, output_size)
    lead = tuple(input.shape[:-nd])
    b, p, q = math.prod(lead), math.prod(spatial), math.prod(sizes)
    idx2 = xp.reshape(idx, (b, p))
    if idx2.size and (int(xp.min(idx2)) < 0 or int(xp.max(idx2)) >= q):
        raise ValueError(f"{op}: indices must be in [0, {q}) for an output of spatial size {tuple(sizes)}, got "
                         f"values in [{int(xp.min(idx2))}, {int(xp.max(idx2))}]")
    keys = xp.reshape(xp.arange(b, dtype=xp.int64, device=be.device)[:, None] * q + idx2, (-1,))
    writer = be.last_writers(b * q, keys)  # which input element lands on each output position (last wins)
    has = writer >= 0
    src = xp.reshape(input.data, (-1,))
    out = xp.where(has, xp.take(src, xp.where(has, writer, xp.zeros_like(writer))), _zero(xp, src.dtype, be))

    def backward(g):
        return (xp.reshape(xp.take_along_axis(xp.reshape(g, (b, q)), idx2, axis=1), input.shape),)

    def scatter(a):  # the adjoint of ``backward``: each value added at its index
        return xp.reshape(be.scatter_add((b * q,), keys, xp.reshape(a, (-1,))), lead + tuple(sizes))

    def graph(g):  # the gather as a node whose own backward is the scatter-add
        return (_linear_node(g, lambda a: backward(a)[0], scatter, name + "Backward"),)

    return result(xp.reshape(out, lead + tuple(sizes)), be, (input,), backward, name, graph)


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of :func:`gdl.nn.functional.max_pool2d`: zeros of the pooled-from
    size with each value of ``input`` ``(N, C, H, W)`` (or ``(C, H, W)``) put back at its
    index (``max_pool2d(..., return_indices=True)``'s, flat in each channel's ``H × W``), as
    ``torch.nn.functional.max_unpool2d``. The size is ``(H - 1)·stride - 2·padding + kernel``
    unless ``output_size`` (``(H, W)`` or ``(N, C, H, W)``, within a stride of it) says
    otherwise. Where two values share an index the later one wins; the gradient of each value
    is the output gradient at its index.
    """
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, True)


def max_unpool1d(input: Tensor, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """:func:`max_unpool2d` for ``(N, C, L)`` (or ``(C, L)``) input and ``max_pool1d``'s indices."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, False)


def _lp_pool(op, input, norm_type, kernel_size, stride, ceil_mode, two_d):
    _check_tensor(op, "input", input)
    p = _real(op, "norm_type", norm_type)
    if p == 0:
        raise ValueError(f"{op}: norm_type must be non-zero, got {norm_type!r}")
    nd = 2 if two_d else 1
    if input.ndim not in (nd + 1, nd + 2):
        layout = "(N, C, H, W) or (C, H, W)" if two_d else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: expected input of shape {layout}, got {input.shape}")
    kernel = _pair(op, "kernel_size", kernel_size, 1) if two_d else _single(op, "kernel_size", kernel_size, 1)
    unbatched = input.ndim == nd + 1
    x = ops.unsqueeze(input, 0) if unbatched else input
    max_pool, avg_pool = (max_pool2d, avg_pool2d) if two_d else (max_pool1d, avg_pool1d)
    if p == math.inf:
        out = max_pool(ops.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    elif p == -math.inf:
        out = -max_pool(-ops.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    else:
        window = float(math.prod(kernel) if two_d else kernel)
        out = avg_pool(x ** p, kernel_size, stride, 0, ceil_mode)
        out = (ops.sign(out) * ops.relu(ops.abs(out)) * window) ** (1.0 / p)
    return ops.squeeze(out, 0) if unbatched else out


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling ``(Σ_window xᵖ)^(1/p)`` over ``kernel_size`` windows of
    ``(N, C, H, W)`` (or ``(C, H, W)``) input, as ``torch.nn.functional.lp_pool2d``: an
    average pool of ``xᵖ`` times the window size, to the power ``1/p`` (``p = 1`` sums,
    ``p = ∞`` is max-pooling of ``|x|``). Stride defaults to the kernel, no padding. Composed
    of differentiable gdl ops.
    """
    return _lp_pool("lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode, True)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """:func:`lp_pool2d` for ``(N, C, L)`` (or ``(C, L)``) input."""
    return _lp_pool("lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode, False)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "lp_pool1d",
    "lp_pool2d",
]
