"""Modules for PyTorch's less common layers: Bilinear, EmbeddingBag, CTCLoss,
LocalResponseNorm, MaxUnpool1d/2d and LPPool1d/2d (functional forms in
:mod:`gdl.nn.functional.extra_layers`).

Parameter names, shapes and initialisation are PyTorch's, so ``load_state_dict`` takes a
torch model's state dict unchanged.

>>> import gdl
>>> from gdl.nn import extra_layers
>>> layer = extra_layers.Bilinear(3, 4, 5)
>>> layer.weight.shape, layer.bias.shape
((5, 3, 4), (5,))
>>> layer(gdl.zeros(2, 3), gdl.zeros(2, 4)).shape
(2, 5)
>>> bag = extra_layers.EmbeddingBag(10, 3, mode="sum")
>>> bag(gdl.tensor([1, 2, 4, 5, 4]), gdl.tensor([0, 2])).shape
(2, 3)
"""

from __future__ import annotations

import math

from gdl.nn import init
from gdl.nn.functional import extra_layers as XF
from gdl.nn.functional.conv import _pair, _single
from gdl.nn.loss import _Loss
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, empty_like_shape

__all__ = [
    "Bilinear",
    "EmbeddingBag",
    "CTCLoss",
    "LocalResponseNorm",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "LPPool1d",
    "LPPool2d",
]


class Bilinear(Module):
    """``y = x1ᵀ · weight · x2 + bias`` for each output feature (:func:`~gdl.nn.functional.extra_layers.bilinear`).

    ``weight`` is ``(out_features, in1_features, in2_features)`` and ``bias``
    ``(out_features,)``, both from U(-1/√in1, 1/√in1) as PyTorch's.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, dtype=None,
                 backend=None):
        super().__init__()
        for name, v in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"Bilinear: {name} must be a non-negative int, got {v!r}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(empty_like_shape((out_features, in1_features, in2_features), dtype, backend))
        if bias:
            self.bias = Parameter(empty_like_shape((out_features,), dtype, backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return XF.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class EmbeddingBag(Module):
    """The sum, mean or max of the embeddings of each bag of indices, without the
    per-index embeddings in between (:func:`~gdl.nn.functional.extra_layers.embedding_bag`).

    ``weight`` ``(num_embeddings, embedding_dim)`` from N(0, 1), the ``padding_idx`` row
    zero, as PyTorch's. ``forward(input, offsets=None, per_sample_weights=None)``: a 2-D
    ``input`` is one bag per row; a 1-D one is cut into bags at ``offsets``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight=None, include_last_offset: bool = False, padding_idx: int | None = None, dtype=None,
                 backend=None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, int) or not (
                    -num_embeddings <= padding_idx < num_embeddings):
                raise ValueError(f"EmbeddingBag: padding_idx must be in [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx!r}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = bool(scale_grad_by_freq), mode, bool(sparse)
        self.include_last_offset, self.padding_idx = bool(include_last_offset), padding_idx
        if _weight is None:
            self.weight = Parameter(empty_like_shape((num_embeddings, embedding_dim), dtype, backend))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            be = self.weight._backend
            xp = be.xp
            keep = xp.arange(self.num_embeddings, device=be.device)[:, None] != self.padding_idx
            self.weight.data = xp.where(keep, self.weight.data, xp.zeros_like(self.weight.data))

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag holding (a copy of) the 2-D ``embeddings``; ``freeze=True`` leaves
        its weight out of training (``requires_grad=False``), as PyTorch's."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("EmbeddingBag.from_pretrained: embeddings must be a 2-D Tensor, got "
                             f"{getattr(embeddings, 'shape', type(embeddings).__name__)}")
        rows, dim = embeddings.shape
        bag = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings.detach().clone(),
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None) -> Tensor:
        return XF.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                                self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                                self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        s += f", max_norm={self.max_norm}" if self.max_norm is not None else ""
        s += f", norm_type={self.norm_type}" if self.norm_type != 2 else ""
        s += ", scale_grad_by_freq=True" if self.scale_grad_by_freq else ""
        s += f", mode={self.mode!r}"
        s += f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return s


class CTCLoss(_Loss):
    """Connectionist Temporal Classification loss (:func:`~gdl.nn.functional.extra_layers.ctc_loss`):
    ``forward(log_probs, targets, input_lengths, target_lengths)``."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction)
        if isinstance(blank, bool) or not isinstance(blank, int) or blank < 0:
            raise ValueError(f"CTCLoss: blank must be a non-negative int, got {blank!r}")
        self.blank, self.zero_infinity = blank, bool(zero_infinity)

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return XF.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                           self.zero_infinity)

    def extra_repr(self) -> str:
        parts = [f"blank={self.blank}"] if self.blank else []
        parts += [super().extra_repr()] if self.reduction != "mean" else []
        parts += ["zero_infinity=True"] if self.zero_infinity else []
        return ", ".join(parts)


class LocalResponseNorm(Module):
    """Normalisation across neighbouring channels (AlexNet), as PyTorch's
    (:func:`~gdl.nn.functional.extra_layers.local_response_norm`)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return XF.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _MaxUnpool(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        if self._dims == 2:
            self.kernel_size = _pair(name, "kernel_size", kernel_size, 1)
            self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, 1)
            self.padding = _pair(name, "padding", padding, 0)
        else:
            self.kernel_size = (_single(name, "kernel_size", kernel_size, 1),)
            self.stride = self.kernel_size if stride is None else (_single(name, "stride", stride, 1),)
            self.padding = (_single(name, "padding", padding, 0),)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of ``MaxPool2d(..., return_indices=True)``:
    ``forward(input, indices, output_size=None)`` puts each value back at its index in zeros."""

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:
        return XF.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpool):
    """:class:`MaxUnpool2d` for ``(N, C, L)`` input and ``MaxPool1d``'s indices."""

    _dims = 1

    def forward(self, input: Tensor, indices, output_size=None) -> Tensor:
        return XF.max_unpool1d(input, indices, self.kernel_size[0], self.stride[0], self.padding[0], output_size)


class _LPPool(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool2d(_LPPool):
    """Power-average pooling ``(Σ_window xᵖ)^(1/p)`` of ``(N, C, H, W)`` input
    (:func:`~gdl.nn.functional.extra_layers.lp_pool2d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return XF.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPool):
    """Power-average pooling of ``(N, C, L)`` input (:func:`~gdl.nn.functional.extra_layers.lp_pool1d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return XF.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
