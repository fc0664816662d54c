"""Fractional max-pooling (Graham, 2014): max over pseudo-random windows that shrink an axis by a
non-integer factor, as ``torch.nn.functional.fractional_max_pool2d``/``3d``.

Along an axis of length ``L`` pooled to ``out`` with kernel ``k`` and a sample ``u`` in [0, 1)
per (batch, channel, axis), output cell ``i < out - 1`` starts at
``int((i + u) * alpha) - int(u * alpha)`` with ``alpha = (L - k) / (out - 1)``, and the last at
``L - k`` (PyTorch's documented rule, in the input's dtype). The samples' last axis is ``(W, H)``
for 2-D pooling and ``(T, H, W)`` for 3-D, as PyTorch's ``_random_samples``.

The windows are found on raw arrays (no gradient); the output is then ``gather(input, indices)``
of differentiable gdl ops, so gradients of any order flow to each window's first maximum.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.arange(25, dtype=gdl.float32).reshape(1, 1, 5, 5)
>>> F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=gdl.zeros(1, 1, 2))
tensor([[[[ 6.,  7.,  9.],
          [11., 12., 14.],
          [21., 22., 24.]]]], backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.nn.functional._arguments import _check_tensor
from gdl.tensor import Tensor

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]


def _tuple(op, name, value, d) -> tuple:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    if len(items) != d:
        raise ValueError(f"{op}: {name} must be a number or {d} numbers, got {value!r}")
    return items


def _output_size(op, x, d, output_size, output_ratio) -> tuple:
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = _tuple(op, "output_ratio", output_ratio, d)
        return tuple(int(n * r) for n, r in zip(x.shape[-d:], ratio))
    sizes = _tuple(op, "output_size", output_size, d)
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in sizes):
        raise ValueError(f"{op}: output_size must be non-negative ints, got {output_size!r}")
    return sizes


def _check_sizes(op, x, d, kernel, outs) -> None:
    if x.ndim not in (d + 1, d + 2) or any(n == 0 for n in x.shape[-d - 1:]):
        raise ValueError(
            f"{op}(): expected a {d + 1}D or {d + 2}D input with non-zero channel and spatial sizes, "
            f"got shape {tuple(x.shape)}"
        )
    if any(isinstance(k, bool) or not isinstance(k, int) or k <= 0 for k in kernel):
        raise ValueError(f"{op}: kernel_size must be positive ints, got {kernel!r}")
    names = ("time", "height", "width")[-d:]
    for name, n, k, o in zip(names, x.shape[-d:], kernel, outs):
        # PyTorch's rule: the last window must fit (3-D pooling also needs one element to spare)
        if o + k - 1 > n or (d == 3 and o + k - 1 == n):
            raise ValueError(f"{op}(): pool {name} {k} too large relative to input {name} {n} and output {name} {o}")


def _samples(op, x, d, random_samples, batch, channels):
    be = x._backend
    if random_samples is None:
        return gdl.rand(batch, channels, d, dtype=x.dtype, backend=be).data
    if not isinstance(random_samples, Tensor):
        raise TypeError(f"{op}: _random_samples must be a Tensor, got {type(random_samples).__name__}")
    if tuple(random_samples.shape) != (batch, channels, d):
        raise ValueError(
            f"{op}: _random_samples must have shape (N, C, {d}) = {(batch, channels, d)}, "
            f"got {tuple(random_samples.shape)}"
        )
    if random_samples._backend is not be:
        raise ValueError(f"{op}: _random_samples is on backend {random_samples._backend.name!r}, "
                         f"the input on {be.name!r}")
    return be.xp.astype(random_samples.data, x.data.dtype)


def _starts(xp, u, size, out, k, device):
    """``(B, C, out)`` int64 window starts along one axis from samples ``u`` ``(B, C)``."""
    last = xp.full(tuple(u.shape) + (min(out, 1),), size - k, dtype=xp.int64, device=device)
    if out <= 1:
        return last
    alpha = (size - k) / (out - 1)
    i = xp.arange(out - 1, dtype=u.dtype, device=device)
    seq = xp.astype(xp.floor((i + u[..., None]) * alpha), xp.int64)
    seq = seq - xp.astype(xp.floor(u * alpha), xp.int64)[..., None]
    return xp.concat([seq, last], axis=-1)


def _window_indices(xp, u, spatial, outs, kernel, sample_axis, device):
    """``(B, C, *outs, prod(kernel))``: the flat input positions each output cell pools."""
    d = len(spatial)
    strides = [math.prod(spatial[a + 1:]) for a in range(d)]
    flat = None
    for a in range(d):
        starts = _starts(xp, u[..., sample_axis[a]], spatial[a], outs[a], kernel[a], device)
        pos = starts[..., None] + xp.arange(kernel[a], dtype=xp.int64, device=device)  # (B, C, out_a, k_a)
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = outs[a], kernel[a]
        term = xp.reshape(pos * strides[a], tuple(u.shape[:2]) + tuple(shape))
        flat = term if flat is None else flat + term
    return xp.reshape(flat, tuple(u.shape[:2]) + tuple(outs) + (math.prod(kernel),))


def _fractional(op, d, x, kernel_size, output_size, output_ratio, random_samples):
    _check_tensor(op, "input", x)
    kernel = _tuple(op, "kernel_size", kernel_size, d)
    outs = _output_size(op, x, d, output_size, output_ratio)
    _check_sizes(op, x, d, kernel, outs)
    batched = x.ndim == d + 2
    xb = x if batched else x.unsqueeze(0)
    b, c = xb.shape[0], xb.shape[1]
    spatial = tuple(xb.shape[2:])
    be = x._backend
    xp = be.xp
    u = _samples(op, x, d, random_samples, b, c)
    sample_axis = (1, 0) if d == 2 else (0, 1, 2)  # PyTorch's samples: (W, H) and (T, H, W)
    windows = _window_indices(xp, u, spatial, outs, kernel, sample_axis, be.device)
    flat_x = xp.reshape(xb.data, (b, c, math.prod(spatial)))
    values = xp.take_along_axis(flat_x, xp.reshape(windows, (b, c, -1)), axis=-1)
    values = xp.reshape(values, tuple(windows.shape))
    arg = xp.argmax(values, axis=-1, keepdims=True)  # the first maximum in window order
    indices = xp.take_along_axis(windows, arg, axis=-1)[..., 0]
    index_t = Tensor._wrap(xp.reshape(indices, (b, c, -1)), be)
    out = gdl.gather(xb.reshape(b, c, math.prod(spatial)), 2, index_t).reshape((b, c) + outs)
    index_t = Tensor._wrap(indices, be)
    if not batched:
        return out.squeeze(0), index_t.squeeze(0)
    return out, index_t


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    """:func:`fractional_max_pool2d` returning ``(output, indices)`` (indices flat in each ``H × W``)."""
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Fractional max-pooling of ``(N, C, H, W)`` or ``(C, H, W)`` input, as PyTorch's.

    ``kernel_size``: an int or ``(kH, kW)``; exactly one of ``output_size`` (``(oH, oW)`` or an
    int) and ``output_ratio`` (output = ``int(input size * ratio)``) is needed. ``_random_samples``
    ``(N, C, 2)`` in [0, 1) fix the windows (drawn from gdl's RNG when None).
    ``return_indices=True`` also returns each maximum's flat index in its ``H × W`` plane.
    """
    out, idx = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  _random_samples=_random_samples)
    return (out, idx) if return_indices else out


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    """:func:`fractional_max_pool3d` returning ``(output, indices)`` (indices flat in each ``T × H × W``)."""
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """:func:`fractional_max_pool2d` for ``(N, C, T, H, W)`` or ``(C, T, H, W)`` input; samples ``(N, C, 3)``."""
    out, idx = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  _random_samples=_random_samples)
    return (out, idx) if return_indices else out
