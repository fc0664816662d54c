"""Transformer encoder and decoder layers and stacks, as PyTorch's nn.Transformer* classes.

Submodule names, parameter shapes and initialisation are PyTorch's, so a PyTorch
``state_dict`` loads key for key (``self_attn``, ``linear1``, ``dropout``, ``linear2``,
``norm1``, ``norm2``, ``dropout1``, ``dropout2``; decoder layers add ``multihead_attn``,
``norm3``, ``dropout3``; stacks hold ``layers.0``, ``layers.1``, ... and ``norm``).
There is no separate inference "fast path": evaluation runs the same code as training,
with dropout off.
"""

from __future__ import annotations

import copy
import math

from gdl import functional as ops
from gdl.nn.attention import MultiheadAttention
from gdl.nn.functional.activation import gelu
from gdl.nn.init import xavier_uniform_
from gdl.nn.layers import Dropout, LayerNorm, Linear
from gdl.nn.module import Module, ModuleList
from gdl.tensor import Tensor, zeros


def _generate_square_subsequent_mask(sz: int, dtype=None, backend=None) -> Tensor:
    if isinstance(sz, bool) or not isinstance(sz, int) or sz < 0:
        raise ValueError(f"generate_square_subsequent_mask: sz must be an int >= 0, got {sz!r}")
    base = zeros((sz, sz), dtype=dtype, backend=backend)
    be = base._backend
    xp = be.xp
    rows = xp.arange(sz, device=be.device)
    above = rows[None, :] > rows[:, None]
    return Tensor._wrap(xp.where(above, base.data - math.inf, base.data), be)


def _causal_like(mask: Tensor, size: int):
    """The causal mask of ``size`` in ``mask``'s dtype, as an array (bool: True above the diagonal)."""
    be = mask._backend
    xp = be.xp
    rows = xp.arange(size, device=be.device)
    above = rows[None, :] > rows[:, None]
    if xp.isdtype(mask.data.dtype, "bool"):
        return above
    zero = xp.zeros((size, size), dtype=mask.data.dtype, device=be.device)
    return xp.where(above, zero - math.inf, zero)


def _detect_is_causal_mask(mask, is_causal=None, size=None) -> bool:
    """PyTorch's rule: ``is_causal`` if given, else whether ``mask`` is exactly the causal mask."""
    make_causal = is_causal is True
    if is_causal is None and isinstance(mask, Tensor):
        sz = size if size is not None else mask.shape[-2]
        if tuple(mask.shape) == (sz, sz):
            make_causal = bool(mask._backend.xp.all(mask.data == _causal_like(mask, sz)))
        else:
            make_causal = False
    return make_causal


def _seq_len(src: Tensor, batch_first: bool) -> int:
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _get_activation_fn(owner: str, activation):
    if isinstance(activation, str):
        if activation == "relu":
            return ops.relu
        if activation == "gelu":
            return gelu
        raise ValueError(f"{owner}: activation should be 'relu' or 'gelu' (or a callable), got {activation!r}")
    if not callable(activation):
        raise TypeError(f"{owner}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _check_heads(owner: str, d_model: int, nhead: int) -> None:
    if d_model <= 0 or nhead <= 0 or d_model % nhead:
        raise ValueError(f"{owner}: d_model {d_model} must be a positive multiple of nhead {nhead}")


def _get_clones(module: Module, n: int) -> ModuleList:
    """``n`` deep copies of ``module``; the copies start with no gradients (as PyTorch's)."""
    clones = [copy.deepcopy(module) for _ in range(n)]
    for clone in clones:
        for p in clone.parameters():
            p.grad = None
    return ModuleList(clones)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and layer norm.

    ``norm_first=False`` (post-norm, the original Transformer):
    ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``. ``norm_first=True`` (pre-norm):
    ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``, with
    ``ff(x) = linear2(dropout(activation(linear1(x))))``. ``activation`` is ``"relu"``,
    ``"gelu"`` or any callable. Inputs are ``(S, N, E)``, ``(N, S, E)`` with
    ``batch_first=True``, or unbatched ``(S, E)``.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: masks as
    :class:`~gdl.nn.MultiheadAttention`'s (bool True = leave out, or float added).

    >>> import gdl
    >>> layer = gdl.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> layer(gdl.randn(3, 5, 8)).shape
    (3, 5, 8)
    >>> [name for name, _ in layer.named_children()]
    ['self_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'dropout1', 'dropout2']
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, backend=None):
        super().__init__()
        _check_heads("TransformerEncoderLayer", d_model, nhead)
        kw = dict(dtype=dtype, backend=backend)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _get_activation_fn("TransformerEncoderLayer", activation)
        self.activation_relu_or_gelu = 1 if activation is ops.relu else 2 if activation is gelu else 0
        self.activation = activation

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory``, then a feed-forward block,
    each with a residual connection and layer norm (``norm1``, ``norm2``, ``norm3``;
    ``norm_first`` as in :class:`TransformerEncoderLayer`).

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.

    >>> import gdl
    >>> layer = gdl.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> tgt, memory = gdl.randn(4, 2, 8), gdl.randn(6, 2, 8)
    >>> mask = gdl.nn.Transformer.generate_square_subsequent_mask(4)
    >>> layer(tgt, memory, tgt_mask=mask).shape
    (4, 2, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, backend=None):
        super().__init__()
        _check_heads("TransformerDecoderLayer", d_model, nhead)
        kw = dict(dtype=dtype, backend=backend)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                                 **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn("TransformerDecoderLayer", activation)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn (``layers.0``, ...),
    then ``norm`` if given. ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``;
    ``is_causal=None`` detects an exactly causal ``mask``, as PyTorch's.
    ``enable_nested_tensor``/``mask_check`` are accepted for PyTorch compatibility; gdl has
    no nested tensors, so they change nothing.

    >>> import gdl
    >>> layer = gdl.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> encoder = gdl.nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(gdl.randn(5, 3, 8)).shape
    (5, 3, 8)
    >>> sorted({name.split(".")[1] for name in encoder.state_dict()})
    ['0', '1']
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None, is_causal: bool | None = None) -> Tensor:
        output = src
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then ``norm`` if given.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module, got {type(decoder_layer).__name__}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        output = tgt
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as PyTorch's
    ``nn.Transformer``: an encoder stack and a decoder stack, each ending in a LayerNorm;
    every weight matrix re-initialised xavier-uniform (as PyTorch's ``_reset_parameters``).

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``.

    >>> import gdl
    >>> model = gdl.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                            dim_feedforward=16, batch_first=True)
    >>> src, tgt = gdl.randn(2, 6, 8), gdl.randn(2, 4, 8)
    >>> model(src, tgt, tgt_mask=model.generate_square_subsequent_mask(4)).shape
    (2, 4, 8)
    >>> gdl.nn.Transformer.generate_square_subsequent_mask(3)
    tensor([[  0., -inf, -inf],
            [  0.,   0., -inf],
            [  0.,   0.,   0.]], backend='numpy')
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, backend=None):
        super().__init__()
        kw = dict(dtype=dtype, backend=backend)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        if src.ndim == 3:
            b = 0 if self.batch_first else 1
            if src.shape[b] != tgt.shape[b]:
                raise ValueError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have the same batch size "
                                 f"(dimension {b})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have d_model={self.d_model} "
                             "features (the last dimension)")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype=None, backend=None) -> Tensor:
        """A ``(sz, sz)`` float mask: ``-inf`` above the diagonal, 0 elsewhere (position
        ``i`` sees ``0..i``). PyTorch's ``(sz, device, dtype)`` becomes ``(sz, dtype, backend)``."""
        return _generate_square_subsequent_mask(sz, dtype=dtype, backend=backend)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                xavier_uniform_(p)


__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]
