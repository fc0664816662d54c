"""Bags of embeddings: :func:`embedding_bag`, the sum, mean or max of the rows of an
embedding table at each bag of indices (``torch.nn.functional.embedding_bag``), one graph
node that never materialises the per-index embeddings as a graph tensor.

>>> import gdl
>>> import gdl.nn.functional as F
>>> w = gdl.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 4.0]])
>>> F.embedding_bag(gdl.tensor([[0, 1], [2, 2]]), w)          # a 2-D input: one bag per row
tensor([[1.5, 0.5],
        [0. , 4. ]], backend='numpy')
"""

from __future__ import annotations

import math

from gdl.functional.shape import _put_rows, _take_rows
from gdl.nn.functional._arguments import (
    _check_tensor,
    _host_ints,
    _index_array,
    _same_backend,
    _same_dtype,
    _zero,
)
from gdl.nn.functional.layers import _renorm_rows
from gdl.sparse_grad import RowSparseGrad
from gdl.tensor import Tensor, result

__all__ = ["embedding_bag"]


def _bags(op, idx, offsets, include_last_offset, be):
    """``(flat, bag, starts, ends, n_bags, width)``: the flat indices, each one's bag number,
    each bag's ``[start, end)`` in ``flat`` and, for 2-D input, the fixed bag width (else None)."""
    xp = be.xp
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: with a 2-D input (each row a bag) offsets must be None, got {offsets!r}")
        n_bags, width = idx.shape
        flat = xp.reshape(idx, (-1,))
        starts = xp.arange(n_bags, dtype=xp.int64, device=be.device) * width
        bag = xp.arange(n_bags * width, dtype=xp.int64, device=be.device) // max(width, 1)
        return flat, bag, starts, starts + width, n_bags, width
    if idx.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D (bags of equal length), got shape "
                         f"{tuple(idx.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: a 1-D input needs offsets (a 1-D tensor of bag starts), got None")
    off = _index_array(op, "offsets", offsets, be)
    if off.ndim != 1:
        raise ValueError(f"{op}: offsets must be 1-D, got shape {tuple(off.shape)}")
    m = idx.shape[0]
    host_off = _host_ints(be, off)
    if include_last_offset and not host_off:
        raise ValueError(f"{op}: include_last_offset=True needs at least one offset (the end of the input)")
    if host_off:
        if host_off[0] != 0:
            raise ValueError(f"{op}: offsets[0] must be 0 (the first bag starts at the first index), "
                             f"got {host_off[0]}")
        if any(b < a for a, b in zip(host_off, host_off[1:])):
            raise ValueError(f"{op}: offsets must be non-decreasing, got {host_off}")
        if host_off[-1] > m:
            raise ValueError(f"{op}: offsets[-1] = {host_off[-1]} is past the end of the input of length {m}")
        if include_last_offset and host_off[-1] != m:
            raise ValueError(f"{op}: with include_last_offset=True the last offset must be the input's length "
                             f"{m}, got {host_off[-1]}")
    if not host_off:  # no bags
        starts = ends = off
    elif include_last_offset:
        starts, ends = off[:-1], off[1:]
    else:
        starts = off
        ends = xp.concat([off[1:], xp.full((1,), m, dtype=xp.int64, device=be.device)])
    n_bags = starts.shape[0]
    pos = xp.arange(m, dtype=xp.int64, device=be.device)
    bag = xp.searchsorted(starts, pos, side="right") - 1 if n_bags else pos
    return idx, xp.astype(bag, xp.int64), starts, ends, n_bags, None


def embedding_bag(input, weight: Tensor, offsets=None, max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max (``mode``) of the rows of ``weight`` in each bag of indices, as
    ``torch.nn.functional.embedding_bag``; output ``(bags, embedding_dim)``.

    Bags: a 2-D ``input`` is one bag per row (``offsets`` must be None); a 1-D ``input``
    is cut at ``offsets`` (bag ``i`` is ``input[offsets[i]:offsets[i+1]]``, the last one
    running to the end; with ``include_last_offset=True`` ``offsets`` holds one more entry,
    the input's length). ``offsets`` must start at 0 and not decrease. An empty bag gives zeros.

    ``per_sample_weights`` (``mode="sum"`` only, ``input``'s shape) scales each index's row,
    and gets a gradient. Indices equal to ``padding_idx`` are left out of their bag (not
    counted in a mean, never a max) and their row gets no gradient. ``max_norm`` renormalises
    the rows used in place first, as :func:`gdl.nn.functional.embedding`;
    ``scale_grad_by_freq`` divides each row's gradient by its index's count in ``input``;
    ``sparse=True`` makes ``weight.grad`` a :class:`~gdl.sparse_grad.RowSparseGrad`
    (sum and mean). Max mode sends each output element's gradient to the first bag member
    holding the maximum.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> w = gdl.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 4.0]])
    >>> F.embedding_bag(gdl.tensor([0, 1, 2, 2]), w, gdl.tensor([0, 2]), mode="sum")
    tensor([[3., 1.],
            [0., 8.]], backend='numpy')
    """
    op = "embedding_bag"
    _check_tensor(op, "weight", weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D weight (num_embeddings, embedding_dim), got shape {weight.shape}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(f"{op}: mode='max' does not support scale_grad_by_freq=True")
    if mode == "max" and sparse:
        raise ValueError(f"{op}: mode='max' does not support sparse=True")
    be = weight._backend
    xp = be.xp
    idx = _index_array(op, "input", input, be)
    if per_sample_weights is not None:
        _check_tensor(op, "per_sample_weights", per_sample_weights)
        _same_backend(op, ("weight", weight), ("per_sample_weights", per_sample_weights))
        _same_dtype(op, ("weight", weight), ("per_sample_weights", per_sample_weights))
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights is only supported with mode='sum', got mode={mode!r}")
        if per_sample_weights.shape != tuple(idx.shape):
            raise ValueError(f"{op}: per_sample_weights of shape {per_sample_weights.shape} must have the "
                             f"input's shape {tuple(idx.shape)}")
    flat, bag, starts, ends, n_bags, width = _bags(op, idx, offsets, include_last_offset, be)
    num, dim = weight.shape
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, int) or not -num <= padding_idx < num:
            raise ValueError(f"{op}: padding_idx must be an int in [-{num}, {num}) for a table of {num} rows, "
                             f"got {padding_idx!r}")
        padding_idx %= num
    m = flat.shape[0]
    if m and (int(xp.min(flat)) < 0 or int(xp.max(flat)) >= num):
        raise IndexError(f"{op}: indices must be in [0, {num}) for a table of {num} rows, got values in "
                         f"[{int(xp.min(flat))}, {int(xp.max(flat))}]")
    if max_norm is not None and m:
        _renorm_rows(weight, flat, float(max_norm), float(norm_type))
    dt = weight.data.dtype
    inputs = (weight,) if per_sample_weights is None else (weight, per_sample_weights)
    if m == 0 or n_bags == 0:  # nothing to look up: zeros, and zero gradients
        out = xp.zeros((n_bags, dim), dtype=dt, device=be.device)

        def backward_empty(g):
            gw = xp.zeros((num, dim), dtype=dt, device=be.device)
            return (gw,) if per_sample_weights is None else (gw, xp.zeros_like(per_sample_weights.data))

        def graph_empty(g):
            gw = Tensor._wrap(xp.zeros((num, dim), dtype=dt, device=be.device), be)
            return (gw,) if per_sample_weights is None else (gw, Tensor._wrap(xp.zeros_like(per_sample_weights.data),
                                                                              be))

        return result(out, be, inputs, backward_empty, "EmbeddingBag", graph_empty)
    valid = None if padding_idx is None else flat != padding_idx
    rows = xp.take(weight.data, flat, axis=0)  # (m, dim)
    if mode == "max":
        return _bag_max(be, weight, flat, bag, starts, ends, n_bags, width, valid, rows)
    zero = _zero(xp, dt, be)
    coef = xp.ones((m,), dtype=dt, device=be.device)
    if per_sample_weights is not None:
        coef = xp.reshape(per_sample_weights.data, (-1,))
    if valid is not None:
        coef = xp.where(valid, coef, zero)
    if mode == "mean":
        if valid is None:
            count = xp.astype(ends - starts, dt)
        else:
            count = be.scatter_add((n_bags,), bag, xp.astype(valid, dt))
        inv = 1.0 / xp.where(count > 0, count, xp.ones_like(count))
        coef = coef * xp.take(inv, bag)
    vals = rows * coef[:, None]
    if width is not None:
        out = xp.sum(xp.reshape(vals, (n_bags, width, dim)), axis=1)
    else:
        out = be.scatter_add((n_bags, dim), bag, vals)
    need_w = weight.requires_grad
    need_psw = per_sample_weights is not None and per_sample_weights.requires_grad

    def backward(g):
        ge = xp.take(g, bag, axis=0)  # each index's bag gradient, (m, dim)
        gw = gpsw = None
        if need_w:
            grows = ge * coef[:, None]
            if scale_grad_by_freq:
                ones = xp.ones((m, 1), dtype=dt, device=be.device)
                freq = be.scatter_add((num, 1), flat, ones)
                grows = grows / xp.take(freq, flat, axis=0)
            gw = RowSparseGrad(flat, grows, (num, dim), be) if sparse else be.scatter_add((num, dim), flat, grows)
        if need_psw:
            gpsw = xp.sum(ge * rows, axis=1)
            if valid is not None:
                gpsw = xp.where(valid, gpsw, zero)
            gpsw = xp.reshape(gpsw, per_sample_weights.shape)
        return (gw,) if per_sample_weights is None else (gw, gpsw)

    def graph(g):  # the same with Tensor ops (create_graph; weight's gradient dense even with sparse=True)
        ge = _take_rows(g, bag)
        gw = gpsw = None
        if need_w:
            if per_sample_weights is None:
                scale = coef
            else:  # coef without the per-sample weights (their Tensor takes their place)
                scale = xp.ones((m,), dtype=dt, device=be.device) if valid is None else xp.astype(valid, dt)
            if scale_grad_by_freq:
                freq = be.scatter_add((num, 1), flat, xp.ones((m, 1), dtype=dt, device=be.device))
                scale = scale / xp.take(freq, flat, axis=0)[:, 0]
            factor = Tensor._wrap(scale[:, None], be)
            if per_sample_weights is not None:
                factor = factor * per_sample_weights.reshape((m, 1))
            gw = _put_rows(ge * factor, flat, num)
        if need_psw:
            gpsw = (ge * _take_rows(weight, flat)).sum(1)
            if valid is not None:
                gpsw = gpsw * Tensor._wrap(xp.astype(valid, dt), be)
            gpsw = gpsw.reshape(per_sample_weights.shape)
        return (gw,) if per_sample_weights is None else (gw, gpsw)

    return result(out, be, inputs, backward, "EmbeddingBag", graph)


def _bag_max(be, weight, flat, bag, starts, ends, n_bags, width, valid, rows):
    """Max mode: each bag's members laid out in a padded ``(bags, longest, dim)`` block."""
    xp = be.xp
    num, dim = weight.shape
    dt = rows.dtype
    if width is not None:
        longest = width
        member = xp.reshape(xp.arange(n_bags * width, dtype=xp.int64, device=be.device), (n_bags, width))
        inside = xp.ones((n_bags, width), dtype=xp.bool, device=be.device)
    else:
        longest = int(xp.max(ends - starts))
        r = xp.arange(longest, dtype=xp.int64, device=be.device)
        member = starts[:, None] + r[None, :]
        inside = member < ends[:, None]
        member = xp.where(inside, member, xp.zeros_like(member))
    if valid is not None:
        inside = inside & xp.reshape(xp.take(valid, xp.reshape(member, (-1,))), member.shape)
    block = xp.reshape(xp.take(rows, xp.reshape(member, (-1,)), axis=0), (n_bags, longest, dim))
    block = xp.where(inside[:, :, None], block, xp.full((), -math.inf, dtype=dt, device=be.device))
    any_member = xp.any(inside, axis=1)[:, None]
    zero = _zero(xp, dt, be)
    out = xp.where(any_member, xp.max(block, axis=1), zero) if longest else xp.zeros((n_bags, dim), dtype=dt,
                                                                                        device=be.device)

    def backward(g):
        if not longest:
            return (xp.zeros((num, dim), dtype=dt, device=be.device),)
        first = xp.argmax(block, axis=1)  # (bags, dim): the first member holding the maximum
        winner = xp.take_along_axis(member, first, axis=1)
        row = xp.take(flat, xp.reshape(winner, (-1,)))
        col = xp.reshape(xp.broadcast_to(xp.arange(dim, dtype=xp.int64, device=be.device)[None, :],
                                          (n_bags, dim)), (-1,))
        contrib = xp.reshape(xp.where(any_member, g, zero), (-1,))
        return (xp.reshape(be.scatter_add((num * dim,), row * dim + col, contrib), (num, dim)),)

    def graph(g):  # g sent to the winning (row, column) entries, with Tensor ops
        if not longest:
            return (Tensor._wrap(xp.zeros((num, dim), dtype=dt, device=be.device), be),)
        first = xp.argmax(block, axis=1)
        row = xp.take(flat, xp.reshape(xp.take_along_axis(member, first, axis=1), (-1,)))
        col = xp.reshape(xp.broadcast_to(xp.arange(dim, dtype=xp.int64, device=be.device)[None, :],
                                          (n_bags, dim)), (-1,))
        contrib = (g * Tensor._wrap(xp.astype(any_member, dt), be)).reshape((-1,))
        return (_put_rows(contrib, row * dim + col, num * dim).reshape((num, dim)),)

    return result(out, be, (weight,), backward, "EmbeddingBag", graph)
