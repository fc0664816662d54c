"""interpolate (nearest, linear, bilinear), pixel_shuffle, pixel_unshuffle, unfold and fold, forward and backward together.

``interpolate`` resamples one spatial axis at a time: along each axis an output
element is a gather of one input element (nearest) or a weighted sum of two
(linear), with PyTorch's index rules. Its backward is the adjoint of each gather:
the output positions that read input ``j`` form one contiguous run (the indices
are sorted), so each input's gradient is a masked sum over a small gathered block,
with no scatter. ``unfold``/``fold`` are the backend's ``im2col``/``col2im`` in
PyTorch's ``(N, C·kH·kW, L)`` layout.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.tensor([[[1.0, 2.0, 4.0]]])
>>> F.interpolate(x, scale_factor=2)
tensor([[[1., 1., 2., 2., 4., 4.]]], backend='numpy')
>>> F.interpolate(x, size=5, mode="linear", align_corners=True)
tensor([[[1. , 1.5, 2. , 3. , 4. ]]], backend='numpy')
>>> F.pixel_shuffle(gdl.zeros(1, 8, 3, 3), 2).shape
(1, 2, 6, 6)
"""

from __future__ import annotations

import math

from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.nn.functional.conv import _linear_node, _out_size, _pair
from gdl.tensor import Tensor, result

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")
_LINEAR_NDIM = {"linear": 3, "bilinear": 4, "trilinear": 5}


# -- interpolate ---------------------------------------------------------------------------


def _check_tensor(op: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a gdl Tensor input, got {type(x).__name__}")


def _per_axis(op, name, value, dims, spatial, cast):
    """``value`` (a number or a sequence of ``dims`` numbers) as a list of ``dims`` values."""
    if isinstance(value, (tuple, list)):
        if len(value) != dims:
            raise ValueError(
                f"{op}: input and output must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(spatial)} and {name} {tuple(value)!r}; give one value per spatial "
                f"dimension of an (N, C, d1, ..., dK) input"
            )
        values = list(value)
    else:
        values = [value] * dims
    try:
        return [cast(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number or a sequence of numbers, got {value!r}") from None


def _output_sizes(op, x, size, scale_factor, recompute_scale_factor):
    """``(sizes, scales)``: the output size per spatial axis and the scale PyTorch passes to its
    kernel (``None``: use input/output size)."""
    spatial = x.shape[2:]
    dims = len(spatial)
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined (got size={size!r} and "
                         f"scale_factor={scale_factor!r})")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        sizes = _per_axis(op, "output size", size, dims, spatial, _as_int)
        scales = [None] * dims
    else:
        factors = _per_axis(op, "scale_factor", scale_factor, dims, spatial, float)
        for f in factors:
            if not math.isfinite(f) or f <= 0:
                raise ValueError(f"{op}: scale_factor must be positive and finite, got {scale_factor!r}")
        sizes = [math.floor(float(s) * f) for s, f in zip(spatial, factors)]
        scales = [None] * dims if recompute_scale_factor else factors
    if min(sizes) <= 0 or min(spatial) <= 0:
        raise ValueError(f"{op}: input and output sizes should be greater than 0, but got input "
                         f"{tuple(spatial)} and output {tuple(sizes)}")
    return sizes, scales


def _as_int(v) -> int:
    if isinstance(v, bool) or int(v) != v:
        raise TypeError(f"expected an int, got {v!r}")
    return int(v)


def _axis_taps(be, mode, in_size, out_size, scale, align_corners, dtype, legacy):
    """The gathers of one axis: a list of ``(index, weight)``, ``index`` an int64 array of
    ``out_size`` sorted source positions, ``weight`` an array of ``dtype`` or None (1).
    An empty list is the identity. Computed as PyTorch 2.x's CPU kernels compute them: the
    scale and source position in ``dtype`` (float32 for non-float input), the floor in
    float32 (its ``floorf``). ``legacy`` (nearest modes of 4-D input): PyTorch's other
    nearest kernel, all in float32, where an unchanged size copies and a doubled size
    reads ``dst // 2`` whatever ``scale_factor`` says."""
    xp = be.xp
    dev = be.device
    fdtype = dtype if dtype in (xp.float32, xp.float64) else xp.float32
    linear = mode not in ("nearest", "nearest-exact")
    if out_size == in_size and (linear or (legacy and mode == "nearest")):
        return []  # PyTorch copies when the size does not change (whatever scale_factor says)
    if legacy and not linear:
        dst = xp.arange(out_size, dtype=xp.int64, device=dev)
        if mode == "nearest" and out_size == 2 * in_size:
            return [(dst // 2, None)]
        f32 = xp.float32
        ratio = (xp.asarray(1.0 / scale, dtype=f32, device=dev) if scale is not None
                 else xp.asarray(in_size, dtype=f32, device=dev) / xp.asarray(out_size, dtype=f32, device=dev))
        src = xp.astype(dst, f32) + (0.5 if mode == "nearest-exact" else 0.0)
        return [(xp.clip(xp.astype(xp.floor(src * ratio), xp.int64), max=in_size - 1), None)]
    if linear and align_corners:
        ratio = (xp.asarray(in_size - 1, dtype=fdtype, device=dev) / xp.asarray(out_size - 1, dtype=fdtype, device=dev)
                 if out_size > 1 else xp.asarray(0.0, dtype=fdtype, device=dev))
    elif scale is not None:
        ratio = xp.asarray(1.0 / scale, dtype=fdtype, device=dev)
    else:
        ratio = xp.asarray(in_size, dtype=fdtype, device=dev) / xp.asarray(out_size, dtype=fdtype, device=dev)
    dst = xp.arange(out_size, dtype=fdtype, device=dev)
    if mode == "nearest":
        src = ratio * dst
    elif mode == "nearest-exact":
        src = xp.clip(ratio * (dst + 0.5) - 0.5, min=0.0) + 0.5
    elif align_corners:
        src = ratio * dst
    else:
        src = xp.clip(ratio * (dst + 0.5) - 0.5, min=0.0)
    i0 = xp.clip(xp.astype(xp.floor(xp.astype(src, xp.float32)), xp.int64), max=in_size - 1)
    if not linear:
        return [(i0, None)]
    lam1 = xp.clip(src - xp.astype(i0, fdtype), min=0.0, max=1.0)
    i1 = xp.clip(i0 + 1, max=in_size - 1)
    return [(i0, xp.astype(1.0 - lam1, dtype)), (i1, xp.astype(lam1, dtype))]


def _along(xp, w, axis, ndim):
    """A 1-D weight shaped to broadcast along ``axis`` of an ``ndim``-D array."""
    shape = [1] * ndim
    shape[axis] = w.shape[0]
    return xp.reshape(w, tuple(shape))


def _gather_axis(xp, a, axis, taps):
    out = None
    for idx, w in taps:
        term = xp.take(a, idx, axis=axis)
        if w is not None:
            term = term * _along(xp, w, axis, a.ndim)
        out = term if out is None else out + term
    return out


def _take_adjoint(be, g, axis, idx, in_size):
    """The adjoint of ``take(·, idx, axis)`` for a sorted ``idx``: input ``j`` sums the run of
    output positions that read it. With runs of ``runs`` elements or fewer: one gather of
    ``in_size`` positions per run offset, masked where a run is shorter, added up (no
    reduction over a small middle axis, which NumPy runs slowly)."""
    xp = be.xp
    j = xp.arange(in_size, dtype=idx.dtype, device=be.device)
    start = xp.searchsorted(idx, j, side="left")
    count = xp.searchsorted(idx, j, side="right") - start
    runs = int(xp.max(count))
    shape = tuple(g.shape)
    if runs == 0:
        return xp.zeros(shape[:axis] + (in_size,) + shape[axis + 1:], dtype=g.dtype, device=be.device)
    lead = (slice(None),) * axis
    if runs * in_size == idx.shape[0] and bool(xp.all(count == runs)):  # j reads runs·j ... runs·j + runs − 1
        g = xp.reshape(g, shape[:axis] + (in_size, runs) + shape[axis + 1:])
        if runs > 8:
            return xp.sum(g, axis=axis + 1)
        out = g[lead + (slice(None), 0, ...)]
        for r in range(1, runs):
            out = out + g[lead + (slice(None), r, ...)]
        return out
    r = xp.arange(runs, dtype=start.dtype, device=be.device)
    inside = r[None, :] < count[:, None]
    pos = xp.where(inside, start[:, None] + r[None, :], xp.zeros_like(start)[:, None])
    zero = xp.zeros((), dtype=g.dtype, device=be.device)
    if runs > 8:  # one gather of the whole block, one reduction
        picked = xp.take(g, xp.reshape(pos, (-1,)), axis=axis)
        picked = xp.reshape(picked, shape[:axis] + (in_size, runs) + shape[axis + 1:])
        mask = xp.reshape(inside, (1,) * axis + (in_size, runs) + (1,) * (g.ndim - axis - 1))
        return xp.sum(xp.where(mask, picked, zero), axis=axis + 1)
    full = xp.all(inside, axis=0)
    out = None
    for k in range(runs):
        term = xp.take(g, pos[:, k], axis=axis)
        if not bool(full[k]):
            term = xp.where(_along(xp, inside[:, k], axis, g.ndim), term, zero)
        out = term if out is None else out + term
    return out


def _scatter_axis(be, g, axis, taps, in_size):
    xp = be.xp
    out = None
    for idx, w in taps:
        term = g if w is None else g * _along(xp, w, axis, g.ndim)
        term = _take_adjoint(be, term, axis, idx, in_size)
        out = term if out is None else out + term
    return out


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize the spatial axes of ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` input.

    Give exactly one of ``size`` (an int or one per spatial axis) or ``scale_factor``
    (output size ``floor(size·scale_factor)``). Modes, with PyTorch's index rules:

    - ``'nearest'``: source ``floor(dst·scale)``, ``scale`` = ``1/scale_factor`` when
      that is given, else ``in/out`` (not symmetric: it leans to the start; for 4-D
      input, as PyTorch's 2-D kernel, an unchanged size copies and a doubled size
      reads ``dst // 2`` whatever ``scale_factor`` says);
    - ``'nearest-exact'``: source ``floor((dst + 0.5)·scale)`` (centres aligned);
    - ``'linear'`` (3-D), ``'bilinear'`` (4-D), ``'trilinear'`` (5-D): two taps per
      axis; ``align_corners=True`` maps the corner pixels onto each other
      (``scale = (in − 1)/(out − 1)``), False (the default) the pixel edges.

    ``recompute_scale_factor=True`` uses ``in/out`` as the scale even when
    ``scale_factor`` is given. ``antialias`` must be False.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> x = gdl.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    tensor([[[[1. , 1.5, 2. ],
              [2. , 2.5, 3. ],
              [3. , 3.5, 4. ]]]], backend='numpy')
    >>> F.interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 0]
    tensor([1.  , 1.25, 1.75, 2.  ], backend='numpy')
    >>> F.interpolate(gdl.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0]]]), size=3)   # floor(dst·5/3): 0, 1, 3
    tensor([[[0., 1., 3.]]], backend='numpy')
    """
    op = "interpolate"
    _check_tensor(op, input)
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    if mode not in _MODES and mode not in ("bicubic", "area"):
        raise ValueError(f"{op}: unknown mode {mode!r}; supported: {', '.join(map(repr, _MODES))}")
    if mode in ("bicubic", "area"):
        raise ValueError(f"{op}: mode {mode!r} is not implemented in gdl; supported: {', '.join(map(repr, _MODES))}")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported")
    if mode in ("nearest", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                             f"linear | bilinear | trilinear (got mode {mode!r} and align_corners={align_corners!r})")
        if input.ndim not in (3, 4, 5):
            raise ValueError(f"{op}: only 3-D, 4-D and 5-D inputs (N, C, d1, ...) are supported, got shape "
                             f"{input.shape} for mode {mode!r}")
    else:
        want = _LINEAR_NDIM[mode]
        if input.ndim != want:
            raise ValueError(f"{op}: got a {input.ndim}-D input (shape {input.shape}), but {mode} mode needs "
                             f"{want}-D input")
        if not input.dtype.is_floating_point:
            raise TypeError(f"{op}: {mode} mode needs a floating-point input, got {input.dtype.name}")
        align_corners = bool(align_corners)
    sizes, scales = _output_sizes(op, input, size, scale_factor, recompute_scale_factor)
    be = input._backend
    xp = be.xp
    spatial = input.shape[2:]
    axes = []
    for d, (n_in, n_out, scale) in enumerate(zip(spatial, sizes, scales)):
        taps = _axis_taps(be, mode, n_in, n_out, scale, align_corners, input.data.dtype, input.ndim == 4)
        if taps:
            axes.append((2 + d, taps, n_in))
    out = input.data
    for axis, taps, _ in axes:
        out = _gather_axis(xp, out, axis, taps)
    if not axes:
        out = xp.asarray(out, copy=True)

    def backward(g):
        for axis, taps, n_in in reversed(axes):
            g = _scatter_axis(be, g, axis, taps, n_in)
        return (g,)

    def resample(a):  # the forward on a raw array of the input's shape: the adjoint of ``backward``
        for axis, taps, _ in axes:
            a = _gather_axis(xp, a, axis, taps)
        return a if axes else xp.asarray(a, copy=True)

    def graph(g):  # the scatter as a node whose own backward is the resampling again
        return (_linear_node(g, lambda a: backward(a)[0], resample, "InterpolateBackward"),)

    return result(out, be, (input,), backward, "Interpolate", graph)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """:func:`interpolate` (PyTorch's older name)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` with ``mode='nearest'``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """:func:`interpolate` with ``mode='bilinear', align_corners=True`` (as PyTorch's)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- pixel shuffle ------------------------------------------------------------------------------


def _shuffle(op, x, factor, up):
    _check_tensor(op, x)
    name = "upscale_factor" if up else "downscale_factor"
    if isinstance(factor, bool) or not isinstance(factor, int) or factor <= 0:
        raise ValueError(f"{op} expects a positive {name}, but got {factor!r}")
    if x.ndim < 3:
        raise ValueError(f"{op} expects its input to have at least 3 dimensions (..., C, H, W), but got input with "
                         f"{x.ndim} dimension(s) (shape {x.shape})")
    be = x._backend
    xp = be.xp
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    r = factor
    nl = len(lead)
    if up:
        if c % (r * r):
            raise ValueError(f"{op} expects its input's 'channel' dimension to be divisible by the square of "
                             f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
        # (.., C, r, r, H, W) -> (.., C, H, r, W, r)
        split = lead + (c // (r * r), r, r, h, w)
        perm = tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2))
        out_shape = lead + (c // (r * r), h * r, w * r)
    else:
        for dim, size in (("height", h), ("width", w)):
            if size % r:
                i = -2 if dim == "height" else -1
                raise ValueError(f"{op} expects {dim} to be divisible by downscale_factor, but input.size({i})={size} "
                                 f"is not divisible by {r}")
        # (.., C, H/r, r, W/r, r) -> (.., C, r, r, H/r, W/r)
        split = lead + (c, h // r, r, w // r, r)
        perm = tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3))
        out_shape = lead + (c * r * r, h // r, w // r)
    inverse = tuple(perm.index(i) for i in range(len(perm)))
    moved = xp.permute_dims(xp.reshape(x.data, split), perm)
    moved_shape = tuple(moved.shape)
    out = xp.reshape(moved, out_shape, copy=True)  # a new array: with r = 1 or 1×1 images it would be a view of x

    def backward(g):
        g = xp.permute_dims(xp.reshape(g, moved_shape), inverse)
        return (xp.reshape(g, tuple(x.shape)),)

    def shuffle(a):  # the forward on a raw array of x's shape: the adjoint of ``backward``
        return xp.reshape(xp.permute_dims(xp.reshape(a, split), perm), out_shape, copy=True)

    def graph(g):  # the inverse shuffle as a node whose own backward shuffles again
        name = "PixelShuffleBackward" if up else "PixelUnshuffleBackward"
        return (_linear_node(g, lambda a: backward(a)[0], shuffle, name),)

    return result(out, be, (x,), backward, "PixelShuffle" if up else "PixelUnshuffle", graph)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C·r², H, W)`` to ``(*, C, H·r, W·r)``: each group of ``r²`` channels becomes an
    ``r × r`` block of pixels (sub-pixel convolution, Shi et al. 2016), as PyTorch's.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.pixel_shuffle(gdl.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]], backend='numpy')
    """
    return _shuffle("pixel_shuffle", input, upscale_factor, True)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H·r, W·r)`` to ``(*, C·r², H, W)``.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.pixel_unshuffle(gdl.arange(16.0).reshape(1, 1, 4, 4), 2)[0, :, 0, 0]
    tensor([0., 1., 4., 5.], backend='numpy')
    """
    return _shuffle("pixel_unshuffle", input, downscale_factor, False)


# -- unfold / fold ------------------------------------------------------------------------------


def _window_args(op, kernel_size, dilation, padding, stride):
    return (_pair(op, "kernel_size", kernel_size, 1), _pair(op, "dilation", dilation, 1),
            _pair(op, "padding", padding, 0), _pair(op, "stride", stride, 1))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding ``kernel_size`` blocks of ``(N, C, H, W)`` input as columns ``(N, C·kH·kW, L)``
    (``(C, H, W)`` gives ``(C·kH·kW, L)``), ``L`` the number of blocks; row index
    ``c·kH·kW + u·kW + v``, column ``i·oW + j``: PyTorch's im2col layout. Zero padding.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.unfold(gdl.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]], backend='numpy')
    """
    op = "unfold"
    _check_tensor(op, input)
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    kernel, dilation, padding, stride = _window_args(op, kernel_size, dilation, padding, stride)
    be = input._backend
    xp = be.xp
    x4 = input.data if input.ndim == 4 else xp.reshape(input.data, (1,) + tuple(input.shape))
    n, c, h, w = x4.shape
    oh = _out_size(op, h, kernel[0], stride[0], padding[0], dilation[0], "height", input.shape)
    ow = _out_size(op, w, kernel[1], stride[1], padding[1], dilation[1], "width", input.shape)
    cols = be.im2col(x4, kernel, stride, padding, dilation, 0.0)
    rows = c * kernel[0] * kernel[1]
    # copy=True: im2col may be a (read-only) strided view of the input, and the reshape keeps
    # it one where the blocks do not overlap (a 1x1 kernel, or one block)
    out = xp.reshape(cols, (n, rows, oh * ow) if input.ndim == 4 else (rows, oh * ow), copy=True)

    def backward(g):
        g6 = xp.reshape(g, (n, c, kernel[0], kernel[1], oh, ow))
        return (xp.reshape(be.col2im(g6, (n, c, h, w), kernel, stride, padding, dilation), tuple(input.shape)),)

    def graph(g):  # the adjoint, fold, as a node (whose own graph backward is unfold again)
        return (fold(g, (h, w), kernel, dilation, padding, stride),)

    return result(out, be, (input,), backward, "Unfold", graph)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of :func:`unfold`: columns ``(N, C·kH·kW, L)`` summed back into
    ``(N, C, *output_size)`` (overlapping blocks add up); ``(C·kH·kW, L)`` gives ``(C, H, W)``.
    ``fold(unfold(x))`` is ``x`` times how many blocks cover each pixel.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.fold(F.unfold(gdl.ones(1, 1, 3, 3), 2), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]], backend='numpy')
    """
    op = "fold"
    _check_tensor(op, input)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C·kH·kW, L) or 3-D (N, C·kH·kW, L) input, got shape {input.shape}")
    size = _pair(op, "output_size", output_size, 1)
    kernel, dilation, padding, stride = _window_args(op, kernel_size, dilation, padding, stride)
    be = input._backend
    xp = be.xp
    x3 = input.data if input.ndim == 3 else xp.reshape(input.data, (1,) + tuple(input.shape))
    n, rows, length = x3.shape
    kk = kernel[0] * kernel[1]
    if rows % kk:
        raise ValueError(f"{op}: expected size of input's dimension {input.ndim - 2} to be divisible by the product "
                         f"of kernel_size, but got input.size({input.ndim - 2})={rows} and kernel_size={kernel}")
    oh = _out_size(op, size[0], kernel[0], stride[0], padding[0], dilation[0], "height", size)
    ow = _out_size(op, size[1], kernel[1], stride[1], padding[1], dilation[1], "width", size)
    if oh * ow != length:
        raise ValueError(
            f"{op}: given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension {input.ndim - 1} to match the calculated number "
            f"of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size({input.ndim - 1})={length}"
        )
    c = rows // kk
    cols = xp.reshape(x3, (n, c, kernel[0], kernel[1], oh, ow))
    out = be.col2im(cols, (n, c) + size, kernel, stride, padding, dilation)
    out = xp.reshape(out, (n, c) + size if input.ndim == 3 else (c,) + size)

    def backward(g):
        g4 = xp.reshape(g, (n, c) + size)
        gcols = be.im2col(g4, kernel, stride, padding, dilation, 0.0)
        return (xp.reshape(gcols, tuple(input.shape)),)

    def graph(g):  # the adjoint, unfold, as a node (whose own graph backward is fold again)
        return (unfold(g, kernel, dilation, padding, stride),)

    return result(out, be, (input,), backward, "Fold", graph)


__all__ = [
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "fold",
]
