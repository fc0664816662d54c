"""Functional forms of PyTorch's less common layers: bilinear, bags of embeddings, CTC loss,
Gumbel-softmax, local response normalisation, affine grids and grid sampling, max-unpooling
and power-average pooling.

Each is one graph node with its backward beside it, or a composition of differentiable gdl
ops where that costs no more (``gumbel_softmax``, ``lp_pool1d``/``lp_pool2d``).

- :func:`bilinear`: ``y_o = x1ᵀ W_o x2 + b_o``.
- :func:`embedding_bag`: the sum, mean or max of the embeddings of each bag of indices,
  without materialising the per-index embeddings as a graph tensor.
- :func:`ctc_loss`: Connectionist Temporal Classification, the alpha recursion in log space
  forward (vectorised over the batch, one step per time step) and the beta recursion backward.
- :func:`gumbel_softmax`: samples from the Gumbel-softmax distribution (straight-through
  one-hot with ``hard=True``), drawing from the backend's seeded generator.
- :func:`local_response_norm`: AlexNet's normalisation across neighbouring channels.
- :func:`affine_grid` and :func:`grid_sample`: spatial transformers (2-D).
- :func:`max_unpool1d`/:func:`max_unpool2d`: the partial inverse of max-pooling, from the
  indices that ``max_pool1d/2d(..., return_indices=True)`` give.
- :func:`lp_pool1d`/:func:`lp_pool2d`: ``(Σ_window xᵖ)^(1/p)``.

>>> import gdl
>>> from gdl.nn.functional import extra_layers as XF
>>> x = gdl.tensor([[1.0, 2.0, 3.0, 4.0]]).reshape(1, 1, 4)
>>> XF.lp_pool1d(x, 1, 2)                  # p = 1: window sums
tensor([[[3., 7.]]], backend='numpy')
>>> out, idx = gdl.nn.functional.max_pool1d(x, 2, return_indices=True)
>>> XF.max_unpool1d(out, idx, 2)
tensor([[[0., 2., 0., 4.]]], backend='numpy')
"""

from __future__ import annotations

import math
import numbers

from gdl import functional as ops
from gdl.nn.functional.conv import _pair, _single, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from gdl.nn.functional.layers import _renorm_rows
from gdl.sparse_grad import RowSparseGrad
from gdl.tensor import Tensor, result

__all__ = [
    "bilinear",
    "embedding_bag",
    "ctc_loss",
    "gumbel_softmax",
    "local_response_norm",
    "affine_grid",
    "grid_sample",
    "max_unpool1d",
    "max_unpool2d",
    "lp_pool1d",
    "lp_pool2d",
]

_REDUCTIONS = ("mean", "sum", "none")


# -- argument helpers -------------------------------------------------------------------------------


def _check_tensor(op: str, name: str, x, floating: bool = True) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    if floating and not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point {name}, got {x.dtype.name}")


def _same_backend(op: str, *named) -> None:
    """All the tensors among ``(name, tensor)`` pairs on one backend (None entries skipped)."""
    first = None
    for name, t in named:
        if t is None:
            continue
        if first is None:
            first = (name, t)
        elif t._backend is not first[1]._backend:
            raise ValueError(
                f"{op}: {first[0]} is on backend {first[1].backend!r} but {name} is on {t.backend!r}; "
                f"move one first, e.g. {name}.to({first[1].backend!r})"
            )


def _same_dtype(op: str, *named) -> None:
    first = None
    for name, t in named:
        if t is None:
            continue
        if first is None:
            first = (name, t)
        elif t.dtype != first[1].dtype:
            raise TypeError(
                f"{op}: {first[0]} is {first[1].dtype.name} but {name} is {t.dtype.name}; "
                f"convert one first, e.g. {name}.to({first[1].dtype.name!r})"
            )


def _index_array(op: str, name: str, value, be):
    """``value`` (a Tensor, a backend array, an int, nested lists of ints, a NumPy array)
    as an int64 array of backend ``be``."""
    xp = be.xp
    if isinstance(value, Tensor):
        if value._backend is not be:
            raise ValueError(
                f"{op}: {name} is on backend {value.backend!r}, the data on {be.name!r}; "
                f"move it first with {name}.to({be.name!r})"
            )
        arr = value.data
    elif be.is_array(value):
        arr = value
    else:
        from gdl.backends import host

        if isinstance(value, (list, tuple)) and len(value) == 0:
            arr = xp.zeros((0,), dtype=xp.int64, device=be.device)
        else:
            try:
                arr = be.from_host(host.as_index_array(value))
            except TypeError:
                raise TypeError(f"{op}: {name} must hold integers, got {value!r}") from None
    if not xp.isdtype(arr.dtype, "integral"):
        raise TypeError(f"{op}: {name} must hold integers, got dtype {arr.dtype}")
    return arr if arr.dtype == xp.int64 else xp.astype(arr, xp.int64)


def _host_ints(be, arr) -> list:
    """A small integer array as a list of Python ints (for checks and loop bounds)."""
    return [int(v) for v in be.to_host(arr).reshape(-1).tolist()]


def _real(op: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    return float(value)


def _zero(xp, dtype, be):
    return xp.zeros((), dtype=dtype, device=be.device)


# -- bilinear ------------------------------------------------------------------------------------------


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = Σ_ij input1[..., i] · weight[o, i, j] · input2[..., j] + bias[o]``, as
    ``torch.nn.functional.bilinear``: ``weight`` is ``(out, in1, in2)``, the inputs
    ``(..., in1)`` and ``(..., in2)`` with the same leading dimensions. One graph node:
    forward ``z = x1 · W`` (read as ``(B, out, in2)``), then ``y = Σ_j z · x2``; backward
    ``dx2 = gᵀz``, ``dx1 = W · (g ⊗ x2)``, ``dW = x1ᵀ (g ⊗ x2)``, ``db = Σ g``.

    >>> import gdl
    >>> from gdl.nn.functional import extra_layers as XF
    >>> w = gdl.tensor([[[1.0, 0.0], [0.0, 2.0]]])        # one output: x1₀x2₀ + 2·x1₁x2₁
    >>> XF.bilinear(gdl.tensor([[1.0, 2.0]]), gdl.tensor([[3.0, 4.0]]), w)
    tensor([[19.]], backend='numpy')
    """
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor(op, name, t)
    if bias is not None:
        _check_tensor(op, "bias", bias)
    _same_backend(op, ("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    _same_dtype(op, ("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    if weight.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D weight (out_features, in1_features, in2_features), "
                         f"got shape {weight.shape}")
    n_out, n1, n2 = weight.shape
    for name, t, n in (("input1", input1, n1), ("input2", input2, n2)):
        if t.ndim == 0 or t.shape[-1] != n:
            raise ValueError(f"{op}: {name} of shape {t.shape} does not match weight of shape {weight.shape} "
                             f"(expected the last dimension to be {n})")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"{op}: input1 and input2 must have the same leading (batch) dimensions, got shapes "
                         f"{input1.shape} and {input2.shape}")
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"{op}: expected a bias of shape ({n_out},), got {bias.shape}")
    be = weight._backend
    xp = be.xp
    lead = tuple(input1.shape[:-1])
    b = math.prod(lead)
    x1 = xp.reshape(input1.data, (b, n1))
    x2 = xp.reshape(input2.data, (b, n2))
    wp = xp.reshape(xp.permute_dims(weight.data, (1, 0, 2)), (n1, n_out * n2))  # (in1, out·in2)
    z = xp.reshape(x1 @ wp, (b, n_out, n2))
    out = (z @ x2[:, :, None])[:, :, 0]
    if bias is not None:
        out = out + bias.data
    need1, need2, needw = input1.requires_grad, input2.requires_grad, weight.requires_grad

    def backward(g):
        g2 = xp.reshape(g, (b, n_out))
        gx1 = gx2 = gw = None
        if need2:
            gx2 = xp.reshape((g2[:, None, :] @ z)[:, 0, :], input2.shape)
        if need1 or needw:
            gz = xp.reshape(g2[:, :, None] * x2[:, None, :], (b, n_out * n2))
            if need1:
                gx1 = xp.reshape(gz @ wp.mT, input1.shape)
            if needw:
                gw = xp.permute_dims(xp.reshape(x1.mT @ gz, (n1, n_out, n2)), (1, 0, 2))
        if bias is None:
            return gx1, gx2, gw
        return gx1, gx2, gw, xp.sum(g2, axis=0)

    inputs = (input1, input2, weight) if bias is None else (input1, input2, weight, bias)
    return result(xp.reshape(out, lead + (n_out,)), be, inputs, backward, "Bilinear")


# -- embedding_bag ----------------------------------------------------------------------------------


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
    >>> from gdl.nn.functional import extra_layers as XF
    >>> w = gdl.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 4.0]])
    >>> XF.embedding_bag(gdl.tensor([0, 1, 2, 2]), w, gdl.tensor([0, 2]), mode="sum")
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

        return result(out, be, inputs, backward_empty, "EmbeddingBag")
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

    return result(out, be, inputs, backward, "EmbeddingBag")


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

    return result(out, be, (weight,), backward, "EmbeddingBag")


# -- ctc_loss ---------------------------------------------------------------------------------------


def _lengths(op, name, value, n, be, unbatched):
    """Input or target lengths as a list of ``n`` Python ints."""
    if isinstance(value, Tensor):
        if value.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must hold integers, got {value.dtype.name}")
        vals = _host_ints(value._backend, value.data)
        shape = value.shape
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        vals, shape = [int(value)], ()
    elif isinstance(value, (list, tuple)):
        if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in value):
            raise TypeError(f"{op}: {name} must hold integers, got {value!r}")
        vals, shape = [int(v) for v in value], (len(value),)
    elif be.is_array(value):
        vals, shape = _host_ints(be, value), tuple(value.shape)
    else:
        raise TypeError(f"{op}: {name} must be a tensor, a list or tuple of ints, got {type(value).__name__}")
    if len(shape) > 1 or len(vals) != n or (not unbatched and shape == () and n != 1):
        raise ValueError(f"{op}: {name} must hold one length per batch element ({n}), got shape {shape}")
    return vals


def _shift(xp, a, k, fill, be):
    """The 2-D ``a`` moved ``k`` columns right (``k < 0``: left), ``fill`` coming in."""
    n, w = a.shape
    pad = xp.full((n, min(abs(k), w)), fill, dtype=a.dtype, device=be.device)
    if abs(k) >= w:
        return pad
    return xp.concat([pad, a[:, :w - k]], axis=1) if k > 0 else xp.concat([a[:, -k:], pad], axis=1)


def _lse3(xp, a, b, c):
    """``log(exp a + exp b + exp c)`` elementwise; -inf where all three are -inf (no warnings)."""
    m = xp.maximum(xp.maximum(a, b), c)
    dead = m == -math.inf
    m0 = xp.where(dead, xp.zeros_like(m), m)
    s = xp.exp(a - m0) + xp.exp(b - m0) + xp.exp(c - m0)
    return xp.where(dead, m, m0 + xp.log(xp.where(dead, xp.ones_like(s), s)))


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss, as ``torch.nn.functional.ctc_loss``.

    ``log_probs``: ``(T, N, C)`` log-probabilities (e.g. ``log_softmax`` over ``C``), or
    ``(T, C)`` for one sequence. ``targets``: ``(N, S)`` padded class indices, or 1-D, the
    ``N`` targets concatenated (``(S,)`` unbatched). ``input_lengths``/``target_lengths``:
    ``N`` ints each (tensors, lists or tuples; ints unbatched). ``blank``: the blank class.
    ``reduction``: ``"none"`` gives one loss per sequence, ``"sum"`` their sum, ``"mean"``
    the batch mean of each loss divided by its target length (at least 1), as PyTorch.
    ``zero_infinity=True`` turns infinite losses (a target that no alignment fits) and their
    gradients into zeros.

    Forward: the alpha recursion over the extended target (blanks between and around the
    labels) in log space, one vectorised step per time step; backward: the beta recursion,
    the gradient ``-Σ_{s: l'_s = c} α_t(s)β_t(s) / (P·y_t(c))`` (the occupation of each class).
    This is the exact gradient with respect to ``log_probs``. PyTorch's own kernel returns
    ``exp(log_probs)`` plus that, which equals it after a ``log_softmax`` (the extra term's
    softmax backward is zero): gradients with respect to the logits agree.

    >>> import gdl
    >>> from gdl.nn.functional import extra_layers as XF
    >>> lp = gdl.full((2, 1, 2), 0.5).log()           # two steps, classes {blank, a} at 1/2 each
    >>> round(XF.ctc_loss(lp, gdl.tensor([[1]]), [2], [1], reduction="sum").exp().item(), 4)  # 1/P
    1.3333
    """
    op = "ctc_loss"
    _check_tensor(op, "log_probs", log_probs)
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{op}: expected log_probs of shape (T, N, C) or (T, C), got {log_probs.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    unbatched = log_probs.ndim == 2
    be = log_probs._backend
    xp = be.xp
    lp = xp.reshape(log_probs.data, (log_probs.shape[0], 1, log_probs.shape[1])) if unbatched else log_probs.data
    t_max, n, c = lp.shape
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < c:
        raise ValueError(f"{op}: blank must be a class index in [0, {c}), got {blank!r}")
    il = _lengths(op, "input_lengths", input_lengths, n, be, unbatched)
    tl = _lengths(op, "target_lengths", target_lengths, n, be, unbatched)
    for i, (a, b) in enumerate(zip(il, tl)):
        if not 0 <= a <= t_max:
            raise ValueError(f"{op}: input_lengths[{i}] = {a} is outside [0, {t_max}] (T = {t_max})")
        if b < 0:
            raise ValueError(f"{op}: target_lengths[{i}] = {b} is negative")
    tg = _index_array(op, "targets", targets, be)
    s_max = max(tl) if tl else 0
    if unbatched and tg.ndim != 1:
        raise ValueError(f"{op}: unbatched log_probs (T, C) need 1-D targets (S,), got shape {tuple(tg.shape)}")
    if tg.ndim == 2 or unbatched:
        tg = tg[None, :] if unbatched else tg
        if tg.shape[0] != n:
            raise ValueError(f"{op}: targets of shape {tuple(tg.shape)} do not hold {n} sequences (N = {n})")
        if s_max > tg.shape[1]:
            raise ValueError(f"{op}: a target length {s_max} exceeds the {tg.shape[1]} columns of targets")
        tg = tg[:, :s_max]
    elif tg.ndim == 1:
        if sum(tl) > tg.shape[0]:
            raise ValueError(f"{op}: target_lengths sum to {sum(tl)} but the concatenated targets hold "
                             f"{tg.shape[0]}")
        starts = [sum(tl[:i]) for i in range(n)]
        last = tg.shape[0] - 1  # (the positions past a target's end are read, then never used)
        pos = [min(starts[i] + min(j, max(tl[i] - 1, 0)), last) for i in range(n) for j in range(s_max)]
        if tg.shape[0]:
            tg = xp.reshape(xp.take(tg, xp.asarray(pos, dtype=xp.int64, device=be.device)), (n, s_max))
        else:  # every target is empty
            tg = xp.zeros((n, s_max), dtype=xp.int64, device=be.device)
    else:
        raise ValueError(f"{op}: targets must be 2-D (N, S) padded or 1-D concatenated, got shape "
                         f"{tuple(tg.shape)}")
    col = xp.arange(s_max, dtype=xp.int64, device=be.device)[None, :]
    used = col < xp.asarray(tl, dtype=xp.int64, device=be.device)[:, None]
    if s_max and bool(xp.any(used & ((tg < 0) | (tg >= c)))):
        raise ValueError(f"{op}: target values must be class indices in [0, {c})")
    tg = xp.where(used, tg, xp.full_like(tg, blank))  # the padding: never read as labels
    width = 2 * s_max + 1
    blanks = xp.full((n, s_max), blank, dtype=xp.int64, device=be.device)
    lab = xp.concat([xp.reshape(xp.stack([blanks, tg], axis=2), (n, 2 * s_max)),
                     xp.full((n, 1), blank, dtype=xp.int64, device=be.device)], axis=1)  # (N, 2S+1)
    s_idx = xp.arange(width, dtype=xp.int64, device=be.device)[None, :]
    lab_2 = _shift(xp, lab, 2, blank, be)
    skip = (s_idx >= 2) & (lab != blank) & (lab != lab_2)  # s may come from s - 2
    lpe = xp.take_along_axis(lp, xp.broadcast_to(lab[None, :, :], (t_max, n, width)), axis=2)  # (T, N, 2S+1)
    dt = lp.dtype
    ninf = xp.full((), -math.inf, dtype=dt, device=be.device)
    tl_a = xp.asarray(tl, dtype=xp.int64, device=be.device)[:, None]
    il_a = xp.asarray(il, dtype=xp.int64, device=be.device)[:, None]
    if t_max:
        start = (s_idx == 0) | ((s_idx == 1) & (tl_a > 0))
        alpha = [xp.where(start, lpe[0, ...], ninf)]
    else:
        alpha = [xp.full((n, width), -math.inf, dtype=dt, device=be.device)]
    for t in range(1, t_max):
        prev = alpha[-1]
        a1 = _shift(xp, prev, 1, -math.inf, be)
        a2 = xp.where(skip, _shift(xp, prev, 2, -math.inf, be), ninf)
        alpha.append(xp.where(t < il_a, _lse3(xp, prev, a1, a2) + lpe[t, ...], prev))
    last = alpha[-1]
    end = xp.take_along_axis(last, 2 * tl_a, axis=1)[:, 0]
    end1 = xp.where(tl_a[:, 0] > 0, xp.take_along_axis(last, xp.maximum(2 * tl_a - 1, 0 * tl_a), axis=1)[:, 0],
                    ninf)
    m = xp.maximum(end, end1)
    m0 = xp.where(m == -math.inf, xp.zeros_like(m), m)
    total = xp.exp(end - m0) + xp.exp(end1 - m0)
    logp = xp.where(m == -math.inf, m, m0 + xp.log(xp.where(m == -math.inf, xp.ones_like(total), total)))
    no_input = il_a[:, 0] == 0  # an empty input fits only an empty target
    logp = xp.where(no_input, xp.where(tl_a[:, 0] == 0, xp.zeros_like(logp), ninf), logp)
    nll = 0.0 - logp  # (not -logp: an empty target on an empty input gives 0, not -0)
    infinite = nll == math.inf
    if zero_infinity:
        nll = xp.where(infinite, xp.zeros_like(nll), nll)

    def backward(g):
        g = xp.reshape(g, (n,))
        if not t_max:
            return (xp.zeros_like(log_probs.data),)
        beta = [None] * t_max
        cur = xp.full((n, width), -math.inf, dtype=dt, device=be.device)
        init_mask = (s_idx == 2 * tl_a) | ((s_idx == 2 * tl_a - 1) & (tl_a > 0))
        skip_next = _shift(xp, skip, -2, False, be)
        for t in range(t_max - 1, -1, -1):
            b1 = _shift(xp, cur, -1, -math.inf, be)
            b2 = xp.where(skip_next, _shift(xp, cur, -2, -math.inf, be), ninf)
            rec = _lse3(xp, cur, b1, b2) + lpe[t, ...]
            init = xp.where(init_mask, lpe[t, ...], ninf)
            cur = xp.where(t == il_a - 1, init, xp.where(t < il_a - 1, rec, ninf))
            beta[t] = cur
        ab = xp.stack(alpha) + xp.stack(beta)  # (T, N, 2S+1): log(α·β), -inf past each input's end
        dead = ab == -math.inf
        finite_nll = xp.where(infinite, xp.zeros_like(nll), nll)
        expo = xp.where(dead, xp.zeros_like(ab), ab - lpe + finite_nll[None, :, None])
        occ = xp.where(dead, xp.zeros_like(ab), xp.exp(expo))  # P(at s at t | target)
        onehot = xp.astype(lab[:, :, None] == xp.arange(c, dtype=xp.int64, device=be.device)[None, None, :], dt)
        grad = -(xp.permute_dims(occ, (1, 0, 2)) @ onehot)  # (N, T, C)
        # an impossible target: NaN as PyTorch (no gradient exists), or 0 with zero_infinity
        scale = xp.where(infinite, xp.full_like(g, 0.0 if zero_infinity else math.nan), g)
        grad = xp.permute_dims(grad * scale[:, None, None], (1, 0, 2))
        return (xp.reshape(grad, log_probs.shape),)

    losses = result(nll, be, (log_probs,), backward, "CTCLoss")
    if reduction == "none":
        return ops.reshape(losses, ()) if unbatched else losses
    if reduction == "sum":
        return ops.sum(losses)
    per_len = [1.0 / max(v, 1) for v in tl]
    return ops.mean(losses * Tensor._wrap(xp.asarray(per_len, dtype=dt, device=be.device), be))


# -- gumbel_softmax ---------------------------------------------------------------------------------


def _gumbel_noise(be, shape, dtype):
    """Standard Gumbel samples ``-log(E)``, ``E ~ Exp(1)``, from the backend's seeded generator
    (``E = -log(1 - U)``, kept above the smallest normal number so the noise stays finite)."""
    xp = be.xp
    u = be.uniform(tuple(shape), dtype=dtype)
    e = -xp.log1p(-u)
    e = xp.maximum(e, xp.full((), xp.finfo(dtype).smallest_normal, dtype=dtype, device=be.device))
    return -xp.log(e)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + G)/tau, dim)`` with
    ``G`` standard Gumbel noise drawn from the backend's generator (``gdl.manual_seed`` makes
    it repeat), as ``torch.nn.functional.gumbel_softmax``. ``hard=True`` returns the one-hot
    of each sample's arg-max whose gradient is the soft sample's (straight-through:
    ``y_hard - y_soft.detach() + y_soft``). ``eps`` is unused (deprecated in PyTorch too).

    >>> import gdl
    >>> from gdl.nn.functional import extra_layers as XF
    >>> y = XF.gumbel_softmax(gdl.zeros(2, 5), hard=True)
    >>> y.sum(dim=-1)
    tensor([1., 1.], backend='numpy')
    """
    op = "gumbel_softmax"
    _check_tensor(op, "logits", logits)
    tau = _real(op, "tau", tau)
    if tau <= 0:
        raise ValueError(f"{op}: tau must be > 0, got {tau}")
    if logits.ndim == 0:
        raise ValueError(f"{op}: expected logits with at least one dimension, got a 0-d tensor")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -logits.ndim <= dim < logits.ndim:
        raise ValueError(f"{op}: dim {dim!r} is out of range for logits of shape {logits.shape}")
    be = logits._backend
    xp = be.xp
    noise = Tensor._wrap(_gumbel_noise(be, logits.shape, logits.data.dtype), be)
    y_soft = ops.softmax((logits + noise) / tau, dim=dim)
    if not hard:
        return y_soft
    axis = dim % logits.ndim
    first = xp.argmax(y_soft.data, axis=axis, keepdims=True)
    shape = [1] * logits.ndim
    shape[axis] = logits.shape[axis]
    positions = xp.reshape(xp.arange(logits.shape[axis], dtype=first.dtype, device=be.device), tuple(shape))
    y_hard = Tensor._wrap(xp.astype(positions == first, y_soft.data.dtype), be)
    return y_hard - y_soft.detach() + y_soft


# -- local_response_norm --------------------------------------------------------------------------------


def _window_sum(xp, a, before: int, after: int, be):
    """``out[:, c] = Σ a[:, c - before .. c + after]`` along axis 1 (zeros outside)."""
    n, c, r = a.shape
    parts = []
    if before:
        parts.append(xp.zeros((n, before, r), dtype=a.dtype, device=be.device))
    parts.append(a)
    if after:
        parts.append(xp.zeros((n, after, r), dtype=a.dtype, device=be.device))
    padded = xp.concat(parts, axis=1) if len(parts) > 1 else a
    out = padded[:, 0:c, :]
    for j in range(1, before + after + 1):
        out = out + padded[:, j:j + c, :]
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Normalise each channel by its neighbours (AlexNet), as ``torch.nn.functional.local_response_norm``:
    ``y_c = x_c / (k + alpha/size · Σ_{c'} x_{c'}²)^beta`` over channels ``c - size//2 ..
    c + (size-1)//2`` (zeros past the ends). Input ``(N, C, *)`` with at least 3 dimensions.
    One graph node; backward ``g·d^(-beta) - (2·alpha·beta/size)·x·Σ_window(g·y/d)``.

    >>> import gdl
    >>> from gdl.nn.functional import extra_layers as XF
    >>> XF.local_response_norm(gdl.ones(1, 2, 1), 1, alpha=1.0, beta=1.0, k=1.0)
    tensor([[[0.5],
             [0.5]]], backend='numpy')
    """
    op = "local_response_norm"
    _check_tensor(op, "input", input)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of 3 or more dimensions (N, C, *), got shape {input.shape}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    alpha, beta, k = (_real(op, name, v) for name, v in (("alpha", alpha), ("beta", beta), ("k", k)))
    be = input._backend
    xp = be.xp
    n, c = input.shape[:2]
    x3 = xp.reshape(input.data, (n, c, math.prod(input.shape[2:])))
    before, after = size // 2, (size - 1) // 2
    d = k + (alpha / size) * _window_sum(xp, x3 * x3, before, after, be)
    scale = d ** (-beta)
    y = x3 * scale

    def backward(g):
        g3 = xp.reshape(g, x3.shape)
        q = g3 * y / d
        gx = g3 * scale - (2.0 * alpha * beta / size) * x3 * _window_sum(xp, q, after, before, be)
        return (xp.reshape(gx, input.shape),)

    return result(xp.reshape(y, input.shape), be, (input,), backward, "LocalResponseNorm")


# -- affine_grid and grid_sample ---------------------------------------------------------------------


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
    >>> from gdl.nn.functional import extra_layers as XF
    >>> identity = gdl.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> XF.affine_grid(identity, (1, 1, 1, 2), align_corners=True)
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

    return result(xp.reshape(out, (n, h, w, 2)), be, (theta,), backward, "AffineGrid")


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
    >>> from gdl.nn.functional import extra_layers as XF
    >>> img = gdl.tensor([[[[0.0, 10.0]]]])                      # one row, two pixels
    >>> XF.grid_sample(img, gdl.tensor([[[[0.0, 0.0]]]]), align_corners=True)   # the middle
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

    return result(out, be, (input, grid), backward, "GridSampler2D")


# -- max_unpool ---------------------------------------------------------------------------------------


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

    return result(xp.reshape(out, lead + tuple(sizes)), be, (input,), backward, "MaxUnpool")


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


# -- lp_pool ----------------------------------------------------------------------------------------------


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
