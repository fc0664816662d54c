"""Scaled dot-product attention and multi-head attention forward, as torch.nn.functional.

``scaled_dot_product_attention`` is one graph node: ``softmax(q·kᵀ·scale + mask)·v``
forward, and its backward written out (``dS = P ⊙ (dP - Σ dP ⊙ P)``), so a call costs
two batched matmuls each way and keeps only the attention probabilities for backward.
``multi_head_attention_forward`` is the body of :class:`gdl.nn.MultiheadAttention`.
"""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import unbroadcast
from gdl.higher_order import by_recomputation
from gdl.nn.functional.layers import dropout, linear
from gdl.tensor import Tensor, result

_SDPA = "scaled_dot_product_attention"


def _is_bool(xp, a) -> bool:
    return xp.isdtype(a.dtype, "bool")


def _is_float(xp, a) -> bool:
    return xp.isdtype(a.dtype, "real floating")


def _as_tensor(op: str, name: str, x, like: Tensor) -> Tensor:
    """``x`` as a Tensor on ``like``'s backend (a raw backend array is wrapped)."""
    if isinstance(x, Tensor):
        if x._backend is not like._backend:
            raise ValueError(f"{op}: {name} is on backend {x.backend!r} but the query is on {like.backend!r}; "
                             f"move it first, e.g. {name}.to({like.backend!r})")
        return x
    if like._backend.is_array(x):
        return Tensor._wrap(x, like._backend)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _broadcast_shapes(op: str, what: str, *shapes) -> tuple:
    """The broadcast of ``shapes`` (NumPy's rules), or a ValueError naming them."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{op}: the {what} of shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ keyᵀ · scale + mask) @ value`` over the last two dimensions, as PyTorch's.

    Shapes: ``query (..., L, E)``, ``key (..., S, E)``, ``value (..., S, Ev)`` → ``(..., L, Ev)``;
    the leading (batch, head) dimensions broadcast. ``scale`` defaults to ``1/sqrt(E)``.

    ``attn_mask`` broadcasts to ``(..., L, S)``: a **bool** mask marks with True the
    positions that take part (False ones are left out); a **float** mask is added to the
    scores (``-inf`` leaves a position out; it gets a gradient if it requires one).
    ``is_causal=True`` lets query ``i`` see keys ``j <= i`` (top-left aligned when
    ``L != S``, as PyTorch's ``tril(ones(L, S))``); it cannot be combined with ``attn_mask``
    (a ValueError, as PyTorch's documented behaviour: fold the causal mask into ``attn_mask``).
    ``dropout_p`` drops attention probabilities whenever it is > 0 (the functional form
    has no training flag: pass ``0.0`` in evaluation, as in PyTorch).
    ``enable_gqa=True``: grouped-query attention, ``key``/``value`` with ``Hk`` heads
    (dimension -3) serve ``query``'s ``Hq`` heads, each key head ``Hq/Hk`` query heads
    in a row (PyTorch's ``repeat_interleave``).

    A query row whose positions are all masked out gives **zeros** (and zero gradients),
    as PyTorch 2.13's SDPA does; the explicit ``softmax`` in
    ``MultiheadAttention(need_weights=True)`` gives NaN there, as PyTorch's does too.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> q = gdl.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> F.scaled_dot_product_attention(q, q, gdl.tensor([[[1.0], [3.0]]]), is_causal=True)
    tensor([[[1.       ],
             [2.3395228]]], backend='numpy')
    >>> F.scaled_dot_product_attention(q, q, q, attn_mask=gdl.tensor([[False, True], [False, False]]))
    tensor([[[0., 1.],
             [0., 0.]]], backend='numpy')
    """
    if _AMP[0]:
        query, key, value, attn_mask = _amp_cast("low", query, key, value, attn_mask)
    op = _SDPA
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    key = _as_tensor(op, "key", key, query)
    value = _as_tensor(op, "value", value, query)
    be = query._backend
    xp = be.xp
    qd, kd, vd = query.data, key.data, value.data
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise ValueError(f"{op}: query, key and value need at least 2 dimensions (..., seq, features), "
                         f"got shapes {query.shape}, {key.shape}, {value.shape}")
    if not (_is_float(xp, qd) and qd.dtype == kd.dtype == vd.dtype):
        raise TypeError(f"{op}: query, key and value must share one floating dtype, "
                        f"got {query.dtype}, {key.dtype}, {value.dtype}")
    if qd.shape[-1] != kd.shape[-1]:
        raise ValueError(f"{op}: query {query.shape} and key {key.shape} must have the same last dimension")
    if kd.shape[-2] != vd.shape[-2]:
        raise ValueError(f"{op}: key {key.shape} and value {value.shape} must have the same sequence length "
                         "(dimension -2)")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give either attn_mask or is_causal=True, not both "
                         "(AND the causal mask into attn_mask instead)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    L, S, E = qd.shape[-2], kd.shape[-2], qd.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)

    # grouped-query attention: (..., Hk, G, L, E) queries against (..., Hk, 1, S, E) keys
    q_shape, k_shape, v_shape = tuple(qd.shape), tuple(kd.shape), tuple(vd.shape)
    groups = 1
    if enable_gqa:
        if qd.ndim < 3 or kd.ndim < 3 or vd.ndim < 3:
            raise ValueError(f"{op}: enable_gqa needs a heads dimension (-3) in query, key and value, "
                             f"got shapes {query.shape}, {key.shape}, {value.shape}")
        hq, hk, hv = qd.shape[-3], kd.shape[-3], vd.shape[-3]
        if hk != hv or hq % hk:
            raise ValueError(f"{op}: with enable_gqa the query heads ({hq}) must be a multiple of the key heads "
                             f"({hk}), and key and value heads must agree ({hk} and {hv})")
        groups = hq // hk
    if groups > 1:
        qd = xp.reshape(qd, q_shape[:-3] + (q_shape[-3] // groups, groups, L, E))
        kd = kd[..., None, :, :]
        vd = vd[..., None, :, :]
    batch = _broadcast_shapes(op, "batch dimensions (all but the last two)", qd.shape[:-2], kd.shape[:-2],
                              vd.shape[:-2])
    scores_shape = batch + (L, S)

    mask_t = None  # a float mask Tensor (the node's 4th input)
    keep = None  # a bool array: True where a position takes part
    if attn_mask is not None:
        mask_t = _as_tensor(op, "attn_mask", attn_mask, query)
        md = mask_t.data
        if not (_is_bool(xp, md) or _is_float(xp, md)):
            raise TypeError(f"{op}: attn_mask must be bool or floating, got {mask_t.dtype}")
        full_batch = batch if groups == 1 else batch[:-2] + (q_shape[-3],)
        try:
            ok = _broadcast_shapes(op, "", tuple(md.shape), full_batch + (L, S)) == full_batch + (L, S)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{op}: attn_mask of shape {mask_t.shape} does not broadcast to the attention "
                             f"scores' shape {full_batch + (L, S)} (query {query.shape}, key {key.shape})")
        if groups > 1:  # lay the mask out as the grouped scores
            md = xp.broadcast_to(md, full_batch + (L, S))
            md = xp.reshape(md, scores_shape)
        if _is_bool(xp, md):
            keep, mask_t = md, None
        else:
            if md.dtype != qd.dtype:
                md = xp.astype(md, qd.dtype)
            mask_data = md
    if is_causal:
        causal = xp.tril(xp.ones((L, S), dtype=xp.bool, device=be.device))
        keep = causal if keep is None else xp.logical_and(keep, causal)

    s = be.matmul(qd, xp.matrix_transpose(kd)) * scale
    if mask_t is not None:
        s = s + mask_data
    if keep is not None:
        s = xp.where(keep, s, xp.asarray(-math.inf, dtype=s.dtype, device=be.device))
    m = xp.max(s, axis=-1, keepdims=True)
    zero = xp.zeros((), dtype=s.dtype, device=be.device)
    m = xp.where(m == -math.inf, zero, m)  # a fully masked row: all exp() are 0, not NaN
    e = xp.exp(s - m)
    den = xp.sum(e, axis=-1, keepdims=True)
    p = e / xp.where(den == 0.0, zero + 1.0, den)
    drop = None
    if dropout_p > 0.0:
        if dropout_p == 1.0:
            drop = xp.zeros(p.shape, dtype=p.dtype, device=be.device)
        else:
            drop = be.bernoulli(1.0 - dropout_p, p.shape, dtype=p.dtype) * (1.0 / (1.0 - dropout_p))
        pd = p * drop
    else:
        pd = p
    out = be.matmul(pd, vd)
    out_shape = tuple(out.shape)
    if groups > 1:
        out = xp.reshape(out, out_shape[:-4] + (out_shape[-4] * groups, L, out_shape[-1]))
    need = (query.requires_grad, key.requires_grad, value.requires_grad)

    def backward(g):
        if groups > 1:
            g = xp.reshape(g, out_shape)
        gp = be.matmul(g, xp.matrix_transpose(vd))
        gv = None
        if need[2]:
            gv = xp.reshape(unbroadcast(xp, be.matmul(xp.matrix_transpose(pd), g), vd.shape), v_shape)
        if drop is not None:
            gp = gp * drop
        gs = p * (gp - xp.sum(gp * p, axis=-1, keepdims=True))
        gq = gk = None
        if need[0]:
            gq = xp.reshape(unbroadcast(xp, be.matmul(gs, kd) * scale, qd.shape), q_shape)
        if need[1]:
            gk = xp.reshape(unbroadcast(xp, be.matmul(xp.matrix_transpose(gs), qd) * scale, kd.shape), k_shape)
        if mask_t is None:
            return (gq, gk, gv)
        gm = gs
        if groups > 1:
            gm = xp.reshape(gm, full_batch + (L, S))
        gm = unbroadcast(xp, gm, mask_t.shape)
        if gm.dtype != mask_t.data.dtype:
            gm = xp.astype(gm, mask_t.data.dtype)
        return (gq, gk, gv, gm)

    inputs = (query, key, value) if mask_t is None else (query, key, value, mask_t)

    def recompute(q, k, v, m=None):  # the same attention with differentiable ops (create_graph=True)
        if groups > 1:
            q = ops.reshape(q, q_shape[:-3] + (q_shape[-3] // groups, groups, L, E))
            k, v = ops.unsqueeze(k, -3), ops.unsqueeze(v, -3)
        scores = ops.matmul(q, ops.transpose(k, -2, -1)) * scale
        if m is not None:
            if groups > 1:
                m = ops.reshape(ops.broadcast_to(m, full_batch + (L, S)), scores_shape)
            scores = scores + (m if m.dtype == q.dtype else m.to(dtype=q.dtype))
        if keep is not None:
            dead = Tensor._wrap(xp.logical_not(xp.any(keep, axis=-1, keepdims=True)), be)  # rows with no key
            scores = ops.where(keep, scores, -math.inf)
            probs = ops.where(dead, 0.0, ops.softmax(ops.where(dead, 0.0, scores), axis=-1))
        else:
            probs = ops.softmax(scores, axis=-1)
        if drop is not None:
            probs = probs * Tensor._wrap(drop, be)
        result_ = ops.matmul(probs, v)
        if groups > 1:
            result_ = ops.reshape(result_, out_shape[:-4] + (out_shape[-4] * groups, L, out_shape[-1]))
        return result_

    return result(out, be, inputs, backward, "ScaledDotProductAttention", by_recomputation(recompute, inputs))


def _attention_weights(q: Tensor, k: Tensor, mask: Tensor | None, scale: float) -> Tensor:
    """``softmax(q @ kᵀ·scale + mask)`` as one node, for 3-D ``(B, L, E)``/``(B, S, E)`` and a float
    mask broadcasting to ``(B, L, S)``. A plain softmax, as PyTorch's ``need_weights=True`` path:
    a row with every score ``-inf`` gives NaN there too."""
    be = q._backend
    xp = be.xp
    qd, kd = q.data, k.data
    s = be.matmul(qd * scale, xp.matrix_transpose(kd))
    if mask is not None:
        s = mask.data + s
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    p = e / xp.sum(e, axis=-1, keepdims=True)

    def backward(g):
        gs = p * (g - xp.sum(g * p, axis=-1, keepdims=True))
        gq = be.matmul(gs, kd) * scale if q.requires_grad else None
        gk = be.matmul(xp.matrix_transpose(gs), qd) * scale if k.requires_grad else None
        if mask is None:
            return (gq, gk)
        return (gq, gk, unbroadcast(xp, gs, mask.shape))

    inputs = (q, k) if mask is None else (q, k, mask)

    def recompute(q_, k_, m=None):
        scores = ops.matmul(q_ * scale, ops.transpose(k_, -2, -1))
        return ops.softmax(scores if m is None else m + scores, axis=-1)

    return result(p, be, inputs, backward, "AttentionWeights", by_recomputation(recompute, inputs))


def _bmm(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 3-D operands of one shape family (the backend lays transposed operands out)."""
    be = a._backend
    xp = be.xp
    ad, bd = a.data, b.data

    def backward(g):
        ga = be.matmul(g, xp.matrix_transpose(bd)) if a.requires_grad else None
        return (ga, be.matmul(xp.matrix_transpose(ad), g) if b.requires_grad else None)

    def graph(g):
        return (ops.matmul(g, ops.transpose(b, -2, -1)) if a.requires_grad else None,
                ops.matmul(ops.transpose(a, -2, -1), g) if b.requires_grad else None)

    return result(be.matmul(ad, bd), be, (a, b), backward, "Bmm", graph)


# -- multi-head attention ------------------------------------------------------------------------------------------


def _canonical_mask(op: str, name: str, mask, like: Tensor):
    """A bool mask (True = leave out) as a float mask of ``like``'s dtype with ``-inf`` there;
    a float mask as it is (cast to ``like``'s dtype); PyTorch's ``_canonical_mask``."""
    if mask is None:
        return None
    mask = _as_tensor(op, name, mask, like)
    xp = like._backend.xp
    md = mask.data
    if _is_bool(xp, md):
        zero = xp.zeros(md.shape, dtype=like.data.dtype, device=like._backend.device)
        return Tensor._wrap(xp.where(md, zero - math.inf, zero), like._backend)
    if not _is_float(xp, md):
        raise TypeError(f"{op}: only bool and floating {name} are supported, got {mask.dtype}")
    return ops.astype(mask, like.dtype) if md.dtype != like.data.dtype else mask


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Append a zero column (a position that takes part) to a float mask."""
    if mask is None:
        return None
    xp = mask._backend.xp
    zero = Tensor._wrap(xp.zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.data.dtype,
                                 device=mask._backend.device), mask._backend)
    return ops.concat([mask, zero], axis=-1)


def _mha_shape_check(op, query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the input is batched; a ValueError for inconsistent ranks (PyTorch's rules)."""
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ValueError(f"{op}: for a batched (3-D) query, key and value must be 3-D too; got {shapes}")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise ValueError(f"{op}: for a batched (3-D) query, key_padding_mask must be 2-D (batch, source), "
                             f"got shape {key_padding_mask.shape}")
    elif query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ValueError(f"{op}: for an unbatched (2-D) query, key and value must be 2-D too; got {shapes}")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise ValueError(f"{op}: for an unbatched (2-D) query, key_padding_mask must be 1-D (source,), "
                             f"got shape {key_padding_mask.shape}")
        if attn_mask is not None and attn_mask.ndim == 3:
            want = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != want:
                raise ValueError(f"{op}: a 3-D attn_mask for an unbatched query must have shape {want} "
                                 f"(heads, target, source), got {attn_mask.shape}")
    else:
        raise ValueError(f"{op}: query must be 2-D (unbatched) or 3-D (batched), got shape {query.shape}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ValueError(f"{op}: attn_mask must be 2-D (target, source) or 3-D (batch·heads, target, source), "
                         f"got shape {attn_mask.shape}")
    return query.ndim == 3


def _project(op, query, key, value, embed_dim, in_proj_weight, in_proj_bias, use_separate, q_w, k_w, v_w):
    """The q, k, v projections: one matmul for self-attention (the packed weight), two when
    key is value, three otherwise (PyTorch's ``_in_projection_packed``/``_in_projection``)."""
    E = embed_dim
    if use_separate:
        for name, w in (("q_proj_weight", q_w), ("k_proj_weight", k_w), ("v_proj_weight", v_w)):
            if w is None:
                raise ValueError(f"{op}: use_separate_proj_weight=True needs {name}")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"{op}: key {key.shape} and value {value.shape} must agree in sequence and batch")
        for name, x, w in (("query", query, q_w), ("key", key, k_w), ("value", value, v_w)):
            if x.shape[-1] != w.shape[1]:
                raise ValueError(f"{op}: {name} of shape {x.shape} does not match {name[0]}_proj_weight of shape "
                                 f"{w.shape} (expected {w.shape[1]} features)")
        b = (None,) * 3 if in_proj_bias is None else (in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:])
        return linear(query, q_w, b[0]), linear(key, k_w, b[1]), linear(value, v_w, b[2])
    if in_proj_weight is None:
        raise ValueError(f"{op}: in_proj_weight is None (pass use_separate_proj_weight=True with q/k/v weights)")
    if key.shape != value.shape:
        raise ValueError(f"{op}: key {key.shape} and value {value.shape} must have the same shape")
    if key.shape[-1] != E:
        raise ValueError(f"{op}: key of shape {key.shape} has {key.shape[-1]} features, expected {E} "
                         "(set kdim/vdim for other sizes)")
    w, b = in_proj_weight, in_proj_bias
    if key is value:
        if query is key:  # self-attention: one (…, 3E) matmul, then three slices
            qkv = linear(query, w, b)
            return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        kv = linear(key, w[E:], None if b is None else b[E:])
        return linear(query, w[:E], None if b is None else b[:E]), kv[..., :E], kv[..., E:]
    parts = [(w[i * E:(i + 1) * E], None if b is None else b[i * E:(i + 1) * E]) for i in range(3)]
    return tuple(linear(x, wi, bi) for x, (wi, bi) in zip((query, key, value), parts))


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None, use_separate_proj_weight: bool = False,
                                 q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True, is_causal: bool = False,
                                 _op: str = "multi_head_attention_forward"):
    """PyTorch's ``F.multi_head_attention_forward``: sequence-first ``(L, N, E)`` or unbatched
    ``(L, E)`` inputs; returns ``(attn_output, attn_weights or None)``.

    Masks: ``key_padding_mask`` ``(N, S)`` / ``(S,)`` and ``attn_mask`` ``(L, S)`` /
    ``(N·num_heads, L, S)``: a bool mask marks with **True** the positions to leave out
    (the opposite of :func:`scaled_dot_product_attention`'s bool masks, as in PyTorch);
    a float mask is added to the scores. ``static_k``/``static_v`` are not supported.
    With ``need_weights=True`` the scores go through an explicit softmax (a fully masked
    row gives NaN, as PyTorch's); otherwise through :func:`scaled_dot_product_attention`
    (zeros there).
    """
    op = _op
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{op}: static_k/static_v are not supported")
    if not isinstance(query, Tensor):
        raise TypeError(f"{op}: query must be a Tensor, got {type(query).__name__}")
    key = _as_tensor(op, "key", key, query)
    value = _as_tensor(op, "value", value, query)
    if key_padding_mask is not None:
        key_padding_mask = _as_tensor(op, "key_padding_mask", key_padding_mask, query)
    if attn_mask is not None:
        attn_mask = _as_tensor(op, "attn_mask", attn_mask, query)
    is_batched = _mha_shape_check(op, query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        same_kv = key is value
        same_qk = query is key
        query = ops.unsqueeze(query, 1)
        key = query if same_qk else ops.unsqueeze(key, 1)
        value = key if same_kv else ops.unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = ops.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(op, "key_padding_mask", key_padding_mask, query)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True is a hint that attn_mask is the causal mask and needs that mask; "
                         "build it with gdl.nn.Transformer.generate_square_subsequent_mask(L)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention applies the causal mask itself
    else:
        attn_mask = _canonical_mask(op, "attn_mask", attn_mask, query)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"{op}: expected query with {embed_dim_to_check} features (embed_dim), "
                         f"got shape {query.shape}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
    if key.shape[1] != bsz or value.shape[1] != bsz:
        raise ValueError(f"{op}: query {query.shape}, key {key.shape} and value {value.shape} must have the same "
                         "batch size")
    q, k, v = _project(op, query, key, value, embed_dim, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                       q_proj_weight, k_proj_weight, v_proj_weight)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"{op}: a 2-D attn_mask must have shape {(tgt_len, src_len)} (target, source), "
                                 f"got {attn_mask.shape}")
            attn_mask = ops.unsqueeze(attn_mask, 0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ValueError(f"{op}: a 3-D attn_mask must have shape {(bsz * num_heads, tgt_len, src_len)} "
                             f"(batch·heads, target, source), got {attn_mask.shape}")

    if bias_k is not None and bias_v is not None:
        k = ops.concat([k, ops.repeat(bias_k, 1, bsz, 1)], axis=0)
        v = ops.concat([v, ops.repeat(bias_v, 1, bsz, 1)], axis=0)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise ValueError(f"{op}: bias_k and bias_v must be given together")

    q = ops.transpose(ops.reshape(q, (tgt_len, bsz * num_heads, head_dim)), 0, 1)
    k = ops.transpose(ops.reshape(k, (k.shape[0], bsz * num_heads, head_dim)), 0, 1)
    v = ops.transpose(ops.reshape(v, (v.shape[0], bsz * num_heads, head_dim)), 0, 1)

    if add_zero_attn:
        be = q._backend
        zeros = Tensor._wrap(be.xp.zeros((bsz * num_heads, 1, head_dim), dtype=k.data.dtype, device=be.device), be)
        k = ops.concat([k, zeros], axis=1)
        v = ops.concat([v, zeros], axis=1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"{op}: key_padding_mask must have shape {(bsz, key.shape[0])} (batch, source), "
                             f"got {key_padding_mask.shape}")
        kpm = ops.broadcast_to(ops.reshape(key_padding_mask, (bsz, 1, 1, src_len)), (bsz, num_heads, 1, src_len))
        kpm = ops.reshape(kpm, (bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        weights = _attention_weights(q, k, attn_mask, math.sqrt(1.0 / float(head_dim)))
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p, True)
        out = _bmm(weights, v)
        out = ops.reshape(ops.transpose(out, 0, 1), (tgt_len * bsz, embed_dim))
        out = ops.reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
        weights = ops.reshape(weights, (bsz, num_heads, tgt_len, src_len))
        if average_attn_weights:
            weights = ops.mean(weights, axis=1)
        if not is_batched:
            out = ops.squeeze(out, 1)
            weights = ops.squeeze(weights, 0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1:
            attn_mask = ops.unsqueeze(attn_mask, 0)
        else:
            attn_mask = ops.reshape(attn_mask, (bsz, num_heads, -1, src_len))
    q = ops.reshape(q, (bsz, num_heads, tgt_len, head_dim))
    k = ops.reshape(k, (bsz, num_heads, src_len, head_dim))
    v = ops.reshape(v, (bsz, num_heads, src_len, head_dim))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = ops.reshape(ops.permute(out, 2, 0, 1, 3), (bsz * tgt_len, embed_dim))
    out = ops.reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
    if not is_batched:
        out = ops.squeeze(out, 1)
    return out, None


__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
