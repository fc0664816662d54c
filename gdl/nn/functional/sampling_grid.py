"""Sampling grids (spatial transformers, 2-D): :func:`affine_grid` builds the grid of
normalised source locations of affine maps, :func:`grid_sample` reads an image at a grid's
locations (bilinear or nearest, zeros, border or reflection padding), as
``torch.nn.functional.affine_grid`` and ``grid_sample``. Each is one graph node with its
backward beside it.

>>> import gdl
>>> import gdl.nn.functional as F
>>> img = gdl.tensor([[[[0.0, 10.0], [20.0, 30.0]]]])
>>> identity = gdl.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
>>> F.grid_sample(img, F.affine_grid(identity, (1, 1, 2, 2)))     # the identity map: img again
tensor([[[[ 0., 10.],
          [20., 30.]]]], backend='numpy')
"""

from __future__ import annotations

from gdl.functional.shape import _take_rows
from gdl.nn.functional._arguments import _check_tensor, _same_backend, _same_dtype, _zero
from gdl.tensor import Tensor, result

__all__ = ["affine_grid", "grid_sample"]


def _align(op: str, align_corners) -> bool:
    if align_corners is None:
        return False
    if not isinstance(align_corners, bool):
        raise TypeError(f"{op}: align_corners must be True, False or None, got {align_corners!r}")
    return align_corners


def _base_coords(size: int, align_corners: bool) -> list:
    """``linspace(-1, 1, size)`` (scaled by ``(size-1)/size`` without ``align_corners``)."""
    if size <= 1:
        return [0.0] * size
    step = [-1.0 + 2.0 * i / (size - 1) for i in range(size)]
    return step if align_corners else [v * (size - 1) / size for v in step]


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The sampling grid ``(N, H, W, 2)`` of the affine maps ``theta`` ``(N, 2, 3)`` for an
    output of ``size = (N, C, H, W)``, as ``torch.nn.functional.affine_grid`` (2-D only).
    Each output pixel's normalised ``(x, y, 1)`` (``x`` across the width, in [-1, 1]; pixel
    centres when ``align_corners`` is False, the default) times ``thetaᵀ``. Differentiable
    in ``theta``. Feed the grid to :func:`grid_sample`.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> identity = gdl.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> F.affine_grid(identity, (1, 1, 1, 2), align_corners=True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]], backend='numpy')
    """
    op = "affine_grid"
    _check_tensor(op, "theta", theta)
    align_corners = _align(op, align_corners)
    try:
        size = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}: size must be a sequence of ints (N, C, H, W), got {size!r}") from None
    if len(size) == 5:
        raise NotImplementedError(f"{op}: 3-D (volumetric) grids are not implemented in gdl; size {size}")
    if len(size) != 4:
        raise ValueError(f"{op}: size must be (N, C, H, W), got {size}")
    if min(size) <= 0:
        raise ValueError(f"{op}: expected positive sizes, got {size}")
    n, _, h, w = size
    if theta.shape != (n, 2, 3):
        raise ValueError(f"{op}: expected theta of shape (N, 2, 3) = ({n}, 2, 3) for size {size}, got {theta.shape}")
    be = theta._backend
    xp = be.xp
    xs, ys = _base_coords(w, align_corners), _base_coords(h, align_corners)
    base = xp.asarray([[x, y, 1.0] for y in ys for x in xs], dtype=theta.data.dtype, device=be.device)  # (H·W, 3)
    out = base @ theta.data.mT  # (N, H·W, 2)

    def backward(g):
        return (xp.reshape(g, (n, h * w, 2)).mT @ base,)

    def graph(g):  # linear in theta: the same product with Tensor ops
        return (g.reshape((n, h * w, 2)).mT @ Tensor._wrap(base, be),)

    return result(xp.reshape(out, (n, h, w, 2)), be, (theta,), backward, "AffineGrid", graph)


def _clip_with_grad(xp, x, size):
    """PyTorch's ``clip_coordinates_set_grad``: ``x`` clipped to ``[0, size-1]``; slope 1
    strictly inside, 0 on and beyond the borders."""
    hi = float(size - 1)
    inside = (x > 0) & (x < hi)
    return xp.clip(x, 0.0, hi), xp.astype(inside, x.dtype)


def _reflect_with_grad(xp, x, twice_low: int, twice_high: int):
    """PyTorch's ``reflect_coordinates_set_grad``: ``x`` reflected into ``[low, high]``."""
    if twice_low == twice_high:
        return xp.zeros_like(x), xp.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = x - low
    sign = xp.where(x < 0, xp.full_like(x, -1.0), xp.ones_like(x))
    x = xp.abs(x)
    extra = xp.remainder(x, span)
    flips = xp.floor(x / span)
    even = xp.remainder(flips, 2.0) == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def _source(xp, coord, size, padding_mode, align_corners):
    """Pixel coordinates of normalised grid values along one axis, and their derivative."""
    if align_corners:
        scale = (size - 1) / 2
        x = (coord + 1.0) * scale
    else:
        scale = size / 2
        x = ((coord + 1.0) * size - 1.0) / 2
    d = None
    if padding_mode == "border":
        x, d = _clip_with_grad(xp, x, size)
    elif padding_mode == "reflection":
        x, d = _reflect_with_grad(xp, x, 0, 2 * (size - 1)) if align_corners else _reflect_with_grad(
            xp, x, -1, 2 * size - 1)
        x, d2 = _clip_with_grad(xp, x, size)
        d = d * d2
    # far outside the input every tap is outside too: keep the integer conversion in range
    x = xp.clip(x, -2.0, float(size + 1))
    return x, (d * scale if d is not None else scale)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None) -> Tensor:
    """Sample ``input`` ``(N, C, H, W)`` at the normalised locations ``grid`` ``(N, Ho, Wo, 2)``
    (``grid[..., 0]`` is x across the width, ``grid[..., 1]`` y down the height, both in
    [-1, 1]), as ``torch.nn.functional.grid_sample`` (2-D only). Output ``(N, C, Ho, Wo)``.

    ``mode``: ``"bilinear"`` (differentiable in ``input`` and ``grid``) or ``"nearest"``
    (rounds half to even; differentiable in ``input``, gradient 0 in ``grid``).
    ``padding_mode``: ``"zeros"`` (taps outside read 0), ``"border"`` (coordinates clipped
    to the edge) or ``"reflection"`` (reflected at the edges). ``align_corners``: whether -1
    and 1 are the centres of the corner pixels (True) or their outer edges (False, the default).

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> img = gdl.tensor([[[[0.0, 10.0]]]])                      # one row, two pixels
    >>> F.grid_sample(img, gdl.tensor([[[[0.0, 0.0]]]]), align_corners=True)   # the middle
    tensor([[[[5.]]]], backend='numpy')
    """
    op = "grid_sample"
    _check_tensor(op, "input", input)
    _check_tensor(op, "grid", grid)
    _same_backend(op, ("input", input), ("grid", grid))
    _same_dtype(op, ("input", input), ("grid", grid))
    if mode == "bicubic":
        raise NotImplementedError(f"{op}: mode='bicubic' is not implemented in gdl; use 'bilinear' or 'nearest'")
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"{op}: mode must be 'bilinear' or 'nearest', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    align_corners = _align(op, align_corners)
    if input.ndim == 5:
        raise NotImplementedError(f"{op}: 3-D (volumetric) sampling is not implemented in gdl; input {input.shape}")
    if input.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected grid of shape (N, H_out, W_out, 2) with N = {input.shape[0]}, "
                         f"got {grid.shape}")
    if input.shape[2] == 0 or input.shape[3] == 0:
        raise ValueError(f"{op}: the input's spatial sizes must be non-zero, got shape {input.shape}")
    be = input._backend
    xp = be.xp
    n, c, h, w = input.shape
    _, ho, wo, _ = grid.shape
    cnt = n * ho * wo
    dt = input.data.dtype
    x, dx = _source(xp, xp.reshape(grid.data[..., 0], (-1,)), w, padding_mode, align_corners)
    y, dy = _source(xp, xp.reshape(grid.data[..., 1], (-1,)), h, padding_mode, align_corners)
    batch = xp.reshape(xp.broadcast_to(xp.arange(n, dtype=xp.int64, device=be.device)[:, None], (n, ho * wo)),
                       (-1,)) * (h * w)
    src = xp.reshape(xp.permute_dims(input.data, (0, 2, 3, 1)), (n * h * w, c))
    zero = _zero(xp, dt, be)

    def tap(iy, ix):
        """The flat source rows of integer positions ``(iy, ix)`` and whether they are inside."""
        inb = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        rows = batch + xp.clip(iy, 0, h - 1) * w + xp.clip(ix, 0, w - 1)
        return rows, inb

    if mode == "nearest":
        ix, iy = xp.astype(xp.round(x), xp.int64), xp.astype(xp.round(y), xp.int64)
        taps = [tap(iy, ix)]
        weights = [xp.ones((cnt,), dtype=dt, device=be.device)]
    else:
        x0, y0 = xp.floor(x), xp.floor(y)
        wx, wy = x - x0, y - y0
        ix, iy = xp.astype(x0, xp.int64), xp.astype(y0, xp.int64)
        taps = [tap(iy, ix), tap(iy, ix + 1), tap(iy + 1, ix), tap(iy + 1, ix + 1)]
        weights = [(1 - wx) * (1 - wy), wx * (1 - wy), (1 - wx) * wy, wx * wy]
    values = [xp.where(inb[:, None], xp.take(src, rows, axis=0), zero) for rows, inb in taps]
    out = weights[0][:, None] * values[0]
    for wk, vk in zip(weights[1:], values[1:]):
        out = out + wk[:, None] * vk
    out = xp.permute_dims(xp.reshape(out, (n, ho, wo, c)), (0, 3, 1, 2))
    need_in, need_grid = input.requires_grad, grid.requires_grad

    def backward(g):
        g2 = xp.reshape(xp.permute_dims(g, (0, 2, 3, 1)), (cnt, c))
        gin = ggrid = None
        if need_in:
            idx = xp.concat([rows for rows, _ in taps])
            vals = xp.concat([g2 * xp.where(inb, wk, zero)[:, None] for (_, inb), wk in zip(taps, weights)], axis=0)
            gsrc = be.scatter_add((n * h * w, c), idx, vals)
            gin = xp.permute_dims(xp.reshape(gsrc, (n, h, w, c)), (0, 3, 1, 2))
        if need_grid:
            if mode == "nearest":
                ggrid = xp.zeros(grid.shape, dtype=dt, device=be.device)
            else:
                v00, v01, v10, v11 = (xp.sum(g2 * v, axis=1) for v in values)
                gx = ((1 - wy) * (v01 - v00) + wy * (v11 - v10)) * dx
                gy = ((1 - wx) * (v10 - v00) + wx * (v11 - v01)) * dy
                ggrid = xp.reshape(xp.stack([gx, gy], axis=1), grid.shape)
        return gin, ggrid

    def recompute(t_in, t_grid):
        """The output again with Tensor ops (create_graph): the taps' rows and masks are
        constants; the pixel coordinates are linear in the grid with slope ``dx``/``dy``."""
        t_src = t_in.permute((0, 2, 3, 1)).reshape((n * h * w, c))
        if mode == "nearest":
            t_weights = [Tensor._wrap(wk, be) for wk in weights]
        else:
            coords = []
            for k, pos, slope in ((0, x, dx), (1, y, dy)):
                flat = t_grid[..., k].reshape((-1,))
                coords.append((flat - Tensor._wrap(flat.data, be)) * Tensor._wrap(xp.asarray(slope, dtype=dt, device=be.device), be)
                              + Tensor._wrap(pos - xp.floor(pos), be))
            twx, twy = coords
            t_weights = [(1 - twx) * (1 - twy), twx * (1 - twy), (1 - twx) * twy, twx * twy]
        total = None
        for (rows, inb), wk in zip(taps, t_weights):
            picked = _take_rows(t_src, rows) * Tensor._wrap(xp.astype(inb, dt)[:, None], be)
            term = wk.reshape((cnt, 1)) * picked
            total = term if total is None else total + term
        return total.reshape((n, ho, wo, c)).permute((0, 3, 1, 2))

    from gdl.higher_order import by_recomputation

    def graph(g):  # nearest: the grid's gradient is zeros (as the first-order backward's), not None
        gin, ggrid = by_recomputation(recompute, (input, grid))(g)
        if ggrid is None and need_grid:
            ggrid = Tensor._wrap(xp.zeros(grid.shape, dtype=dt, device=be.device), be)
        return gin, ggrid

    return result(out, be, (input, grid), backward, "GridSampler2D", graph)
