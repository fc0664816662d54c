"""``pad``: constant, reflect, replicate and circular padding, forward and backward together.

``pad`` lists (before, after) amounts for the last dimension first, as PyTorch:
``(left, right)`` pads the last dimension, ``(left, right, top, bottom)`` the last two.
Negative amounts crop.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.tensor([[[0.0, 1.0, 2.0, 3.0]]])
>>> F.pad(x, (2, 1))
tensor([[[0., 0., 0., 1., 2., 3., 0.]]], backend='numpy')
>>> F.pad(x, (2, 1), mode="reflect")
tensor([[[2., 1., 0., 1., 2., 3., 2.]]], backend='numpy')
>>> F.pad(x, (2, 1), mode="replicate")
tensor([[[0., 0., 0., 1., 2., 3., 3.]]], backend='numpy')
>>> F.pad(x, (2, 1), mode="circular")
tensor([[[2., 3., 0., 1., 2., 3., 0.]]], backend='numpy')
"""

from __future__ import annotations

from gdl import dtypes
from gdl.nn.functional.conv import _linear_node
from gdl.tensor import Tensor, result

_MODES = ("constant", "reflect", "replicate", "circular")


def _check_pad(input, pad, mode, value):
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected a gdl Tensor, got {type(input).__name__}")
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: the padding must be a tuple of ints, got {type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, int):
            raise TypeError(f"pad: the padding must be a tuple of ints, got {p!r} at position {i} of {tuple(pad)}")
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pad)} ({tuple(pad)})")
    if len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: padding length {len(pad)} pads {len(pad) // 2} dimensions, but the input has only "
            f"{input.ndim} (shape {input.shape})"
        )
    if mode not in _MODES:
        raise ValueError(f"pad: unknown padding mode {mode!r}; expected one of {', '.join(map(repr, _MODES))}")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"pad: padding mode {mode!r} does not take a value (got value={value!r})")
        k = len(pad) // 2
        if len(pad) not in (2, 4, 6) or input.ndim not in (k + 1, k + 2):
            raise ValueError(
                f"pad: mode {mode!r} with padding length {len(pad)} is not supported for a {input.ndim}-D input "
                f"(shape {input.shape}); supported: padding length 2 for 2-D or 3-D input (pads the last "
                f"dimension), 4 for 3-D or 4-D (the last two), 6 for 4-D or 5-D (the last three)"
            )


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """``input`` padded by ``pad`` = (before, after) per dimension, last dimension first.

    ``mode``: ``"constant"`` (``value``, default 0; any number of dimensions;
    negative amounts crop), ``"reflect"`` (mirror without repeating the edge; each
    amount below the dimension's size), ``"replicate"`` (repeat the edge) or
    ``"circular"`` (wrap around, at most once). The non-constant modes pad the last
    1, 2 or 3 dimensions of a (batched) input, as PyTorch. Backward: a slice for
    constant padding; the padded borders' gradients added back onto the entries they copy.
    """
    _check_pad(input, pad, mode, value)
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]  # pairs[i] pads axis ndim-1-i
    if mode == "constant":
        return _pad_constant(input, pairs, 0 if value is None else value)
    return _pad_copy(input, pairs, mode)


def _pad_constant(x, pairs, value):
    be = x._backend
    xp = be.xp
    d = x.data
    shape = tuple(d.shape)
    out_shape = list(shape)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    crops = False
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - 1 - i
        n = shape[axis]
        m = n + lo + hi
        kept = n + min(lo, 0) + min(hi, 0)
        if m < 0 or kept < 0:
            raise ValueError(
                f"pad: the input size {n}, plus negative padding {lo} and {hi}, gives a negative size at "
                f"dimension {axis} of the input (shape {shape})"
            )
        out_shape[axis] = m
        src[axis] = slice(max(-lo, 0), max(-lo, 0) + kept)
        dst[axis] = slice(max(lo, 0), max(lo, 0) + kept)
        crops = crops or lo < 0 or hi < 0
    if dtypes.is_floating(d.dtype):
        value = float(value)
    elif d.dtype == xp.bool:
        value = bool(value)
    else:
        value = int(value)  # the input's dtype is kept, as PyTorch (0.7 pads an int tensor with 0)
    src, dst = tuple(src), tuple(dst)
    out = xp.full(tuple(out_shape), value, dtype=d.dtype, device=be.device)
    out[dst] = d[src] if crops else d

    if crops:

        def backward(g):
            gx = xp.zeros(shape, dtype=g.dtype, device=be.device)
            gx[src] = g[dst]
            return (gx,)

    else:

        def backward(g):
            return (g[dst],)

    def graph(g):  # the slice as a node whose own backward pads with zeros again
        def zero_pad(a):
            return _pad_constant(Tensor._wrap(a, be), pairs, 0).data

        return (_linear_node(g, lambda a: backward(a)[0], zero_pad, "ConstantPadBackward"),)

    return result(out, be, (x,), backward, "ConstantPad", graph)


def _axis_plan(mode, n, lo, hi, axis, shape):
    """How one axis is padded: ``(crop_start, kept, pad_before, border_runs)``.

    Negative amounts crop first (``kept`` entries from ``crop_start``); the mode then
    fills ``pad_before`` entries before and the rest after them. A border run
    ``(out_start, length, src, step)`` copies the kept entries from ``src`` (0-based in
    the kept range) moving by ``step``: 1, -1 (mirrored) or 0 (a repeated edge).
    """
    c = max(-lo, 0)
    kept = n + min(lo, 0) + min(hi, 0)
    if kept < 1:
        raise ValueError(
            f"pad: negative padding ({lo}, {hi}) removes all {n} entries of dimension {axis} of the input "
            f"(shape {shape}); mode {mode!r} needs at least one"
        )
    plo, phi = max(lo, 0), max(hi, 0)
    if mode == "reflect" and (plo >= kept or phi >= kept):
        raise ValueError(
            f"pad: reflect padding must be less than the size of the dimension it pads, but got padding "
            f"({lo}, {hi}) at dimension {axis} of size {kept} (input shape {shape})"
        )
    if mode == "circular" and (plo > kept or phi > kept):
        raise ValueError(
            f"pad: circular padding ({lo}, {hi}) at dimension {axis} of size {kept} (input shape {shape}) "
            f"would wrap around more than once"
        )

    def source(j):  # the kept entry that output position j copies
        k = j - plo
        if mode == "reflect":
            return (kept - 1) - abs((kept - 1) - abs(k))
        if mode == "replicate":
            return min(max(k, 0), kept - 1)
        return k % kept

    runs = []
    for first, stop in ((0, plo), (plo + kept, plo + kept + phi)):
        j = first
        while j < stop:
            step = source(j + 1) - source(j) if j + 1 < stop else 1
            step = step if step in (-1, 0, 1) else 1
            end = j + 1
            while end < stop and source(end) - source(end - 1) == step:
                end += 1
            runs.append((j, end - j, source(j), step))
            j = end
    return c, kept, plo, runs


def _pad_copy(x, pairs, mode):
    """Reflect / replicate / circular: the kept input is copied once into the output, then
    each padded axis fills its borders from the output itself (so corners come out right)."""
    be = x._backend
    xp = be.xp
    d = x.data
    shape = tuple(d.shape)
    out_shape = list(shape)
    src = [slice(None)] * x.ndim
    inner = [slice(None)] * x.ndim
    plan = []  # (axis, pad_before, runs), in the order the borders are filled
    crops = False
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - 1 - i
        c, kept, plo, runs = _axis_plan(mode, shape[axis], lo, hi, axis, shape)
        out_shape[axis] = shape[axis] + lo + hi
        src[axis] = slice(c, c + kept)
        inner[axis] = slice(plo, plo + kept)
        crops = crops or lo < 0 or hi < 0
        if runs:
            plan.append((axis, plo, runs))
    src, inner = tuple(src), tuple(inner)
    out = xp.empty(tuple(out_shape), dtype=d.dtype, device=be.device)
    out[inner] = d[src] if crops else d
    for axis, plo, runs in plan:
        lead = (slice(None),) * axis  # keys end with "...": the Array API wants every axis named
        for o, length, k, step in runs:
            s = plo + k  # where the source entry sits in the output
            if step == 1:
                piece = out[lead + (slice(s, s + length), ...)]
            elif step == -1:
                piece = xp.flip(out[lead + (slice(s - length + 1, s + 1), ...)], axis=axis)
            else:
                piece = out[lead + (slice(s, s + 1), ...)]  # broadcasts over the run
            out[lead + (slice(o, o + length), ...)] = piece

    def backward(g):
        g = xp.asarray(g, copy=True)  # the borders are added onto the entries they copy, in place
        for axis, plo, runs in reversed(plan):
            lead = (slice(None),) * axis
            for o, length, k, step in runs:
                s = plo + k
                part = g[lead + (slice(o, o + length), ...)]
                if step == 1:
                    g[lead + (slice(s, s + length), ...)] += part
                elif step == -1:
                    g[lead + (slice(s - length + 1, s + 1), ...)] += xp.flip(part, axis=axis)
                else:
                    g[lead + (slice(s, s + 1), ...)] += xp.sum(part, axis=axis, keepdims=True)
        if not crops:
            return (g[inner],)
        gx = xp.zeros(shape, dtype=g.dtype, device=be.device)
        gx[src] = g[inner]
        return (gx,)

    name = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}[mode]

    def graph(g):  # the border sums as a node whose own backward pads again
        def repad(a):
            return _pad_copy(Tensor._wrap(a, be), pairs, mode).data

        return (_linear_node(g, lambda a: backward(a)[0], repad, name + "Backward"),)

    return result(out, be, (x,), backward, name, graph)


__all__ = [
    "pad",
]
