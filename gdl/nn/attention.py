"""Attention layers: MultiheadAttention."""

from __future__ import annotations

from gdl import functional as ops
from gdl.nn import init
from gdl.nn.functional.attention import multi_head_attention_forward
from gdl.nn.layers import Linear
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, empty_like_shape


class MultiheadAttention(Module):
    """Multi-head attention, ``concat(head_1..head_h) @ out_projᵀ`` with
    ``head_i = softmax(q_i k_iᵀ/√d + mask) v_i``, as PyTorch's ``nn.MultiheadAttention``.

    Parameters have PyTorch's names, shapes and initialisation, so a PyTorch
    ``state_dict`` loads as it is: ``in_proj_weight`` ``(3E, E)`` (the q, k, v projections
    stacked; xavier-uniform) and ``in_proj_bias`` ``(3E,)`` (zeros), or
    ``q_proj_weight`` ``(E, E)``, ``k_proj_weight`` ``(E, kdim)``, ``v_proj_weight``
    ``(E, vdim)`` when ``kdim``/``vdim`` differ from ``embed_dim``; ``out_proj`` a
    :class:`~gdl.nn.Linear` ``(E, E)`` with a zero bias; ``bias_k``/``bias_v`` ``(1, 1, E)``
    (xavier-normal) with ``add_bias_kv=True``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` takes ``(L, N, E)`` inputs (``(N, L, E)``
    with ``batch_first=True``) or unbatched ``(L, E)`` ones and returns ``(output, weights)``;
    ``weights`` is ``(N, L, S)`` averaged over heads, ``(N, heads, L, S)`` with
    ``average_attn_weights=False``, or None with ``need_weights=False`` (faster: that path
    runs :func:`~gdl.nn.functional.scaled_dot_product_attention`). Bool masks mark with
    **True** what to leave out (PyTorch's convention here); float masks are added.
    ``attn_mask`` is ``(L, S)`` or ``(N·heads, L, S)``; ``key_padding_mask`` ``(N, S)``.
    ``is_causal=True`` is only a hint that ``attn_mask`` is the causal mask (which must
    still be given). A query row with every key masked gives NaN with
    ``need_weights=True`` and zeros otherwise, as PyTorch's.

    >>> import gdl
    >>> mha = gdl.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> [(name, p.shape) for name, p in mha.named_parameters()]
    [('in_proj_weight', (24, 8)), ('in_proj_bias', (24,)), ('out_proj.weight', (8, 8)), ('out_proj.bias', (8,))]
    >>> x = gdl.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype=None, backend=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be > 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def param(*shape):
            return Parameter(empty_like_shape(shape, dtype, backend))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, backend=backend)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        is_batched = isinstance(query, Tensor) and query.ndim == 3
        if self.batch_first and is_batched:  # keep "key is value" / "query is key" (self-attention) true
            if key is value:
                if query is key:
                    query = key = value = ops.transpose(query, 0, 1)
                else:
                    query, key = ops.transpose(query, 0, 1), ops.transpose(key, 0, 1)
                    value = key
            else:
                query, key, value = (ops.transpose(x, 0, 1) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, _op="MultiheadAttention")
        if self.batch_first and is_batched:
            out = ops.transpose(out, 0, 1)
        return out, weights

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        s += f", dropout={self.dropout}" if self.dropout else ""
        s += f", kdim={self.kdim}, vdim={self.vdim}" if not self._qkv_same_embed_dim else ""
        return s + (", batch_first=True" if self.batch_first else "")


__all__ = ["MultiheadAttention"]
