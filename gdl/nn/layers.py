"""Layers: Linear, Bilinear, Embedding, EmbeddingBag, Dropout, Flatten, Unflatten, Identity and
normalisation."""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.dtypes import int64
from gdl.nn import functional as F
from gdl.nn import init
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, empty_like_shape, ones, zeros


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``.

    Initialised as PyTorch does: weight and bias from U(-1/sqrt(in), 1/sqrt(in))
    (``kaiming_uniform_`` with a = sqrt(5)). The book's ch13 Linear uses
    ``randn·sqrt(2/in)``: ``nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")``.

    >>> import gdl
    >>> layer = gdl.nn.Linear(784, 100)
    >>> layer(gdl.zeros(32, 784)).shape
    (32, 100)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, backend=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty_like_shape((out_features, in_features), dtype, backend))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            self.bias = Parameter(empty_like_shape((out_features,), dtype, backend))
            bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y = x1ᵀ · weight · x2 + bias`` for each output feature (:func:`~gdl.nn.functional.bilinear`).

    ``weight`` is ``(out_features, in1_features, in2_features)`` and ``bias``
    ``(out_features,)``, both from U(-1/√in1, 1/√in1) as PyTorch's.

    >>> import gdl
    >>> layer = gdl.nn.Bilinear(3, 4, 5)
    >>> layer.weight.shape, layer.bias.shape
    ((5, 3, 4), (5,))
    >>> layer(gdl.zeros(2, 3), gdl.zeros(2, 4)).shape
    (2, 5)
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
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (``num_embeddings × embedding_dim``) for index ``i``.

    Initialised from N(0, 1) as in PyTorch (the book's ch13 uses ``(rand - 0.5)/dim``).
    The backward pass scatter-adds into the rows used, so repeated words accumulate.
    With ``sparse=True``, ``weight.grad`` is a :class:`~gdl.sparse_grad.RowSparseGrad`
    of only those rows (for large vocabularies; plain ``SGD`` applies it row by row).
    ``max_norm`` rescales, in place, each looked-up row whose ``norm_type``-norm exceeds
    it (before the lookup, as PyTorch's); ``scale_grad_by_freq`` divides each row's
    gradient by how often its index occurs in the batch.

    >>> import gdl
    >>> emb = gdl.nn.Embedding(10, 3)
    >>> emb(gdl.tensor([[1, 2], [1, 9]])).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, dtype=None, backend=None):
        super().__init__()
        self.sparse = bool(sparse)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx %= num_embeddings  # a negative index counts from the end
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.weight = Parameter(empty_like_shape((num_embeddings, embedding_dim), dtype, backend))
        init.normal_(self.weight)
        if padding_idx is not None:
            xp = self.weight._backend.xp
            keep = xp.arange(num_embeddings, device=self.weight._backend.device)[:, None] != padding_idx
            self.weight.data = xp.where(keep, self.weight.data, xp.zeros_like(self.weight.data))

    def forward(self, indices) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        s += f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        s += f", max_norm={self.max_norm}" if self.max_norm is not None else ""
        s += f", norm_type={self.norm_type}" if self.norm_type != 2 else ""
        s += ", scale_grad_by_freq=True" if self.scale_grad_by_freq else ""
        return s + (", sparse=True" if self.sparse else "")


class EmbeddingBag(Module):
    """The sum, mean or max of the embeddings of each bag of indices, without the
    per-index embeddings in between (:func:`~gdl.nn.functional.embedding_bag`).

    ``weight`` ``(num_embeddings, embedding_dim)`` from N(0, 1), the ``padding_idx`` row
    zero, as PyTorch's. ``forward(input, offsets=None, per_sample_weights=None)``: a 2-D
    ``input`` is one bag per row; a 1-D one is cut into bags at ``offsets``.

    >>> import gdl
    >>> bag = gdl.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(gdl.tensor([1, 2, 4, 5, 4]), gdl.tensor([0, 2])).shape
    (2, 3)
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
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
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


class Dropout(Module):
    """Inverted dropout: in training, zero elements with probability ``p`` and
    scale the rest by ``1/(1-p)``; in ``eval()`` mode, pass the input through."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return ops.flatten(x, self.start_dim, self.end_dim)


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`);
    one size may be -1, inferred from the others.

    >>> import gdl
    >>> gdl.nn.Unflatten(1, (2, 5))(gdl.zeros(3, 10)).shape
    (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        sizes = unflattened_size
        if not isinstance(sizes, (tuple, list)) or any(isinstance(n, bool) or not isinstance(n, int) for n in sizes):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got {sizes!r}")
        if not sizes or any(n < -1 for n in sizes) or list(sizes).count(-1) > 1:
            raise ValueError(
                f"Unflatten: unflattened_size must be non-empty sizes >= 0, at most one of them -1, got {sizes!r}"
            )
        self.dim, self.unflattened_size = dim, tuple(sizes)

    def forward(self, x: Tensor) -> Tensor:
        shape, sizes = tuple(x.shape), self.unflattened_size
        if not -len(shape) <= self.dim < len(shape):
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of shape {shape}")
        d = self.dim % len(shape)
        known = math.prod(n for n in sizes if n != -1)
        if -1 in sizes and known and shape[d] % known == 0:
            sizes = tuple(shape[d] // known if n == -1 else n for n in sizes)
        if math.prod(sizes) != shape[d] or -1 in sizes:
            raise ValueError(
                f"Unflatten: sizes {self.unflattened_size} do not multiply to {shape[d]}, the size of "
                f"dimension {self.dim} of the input of shape {shape}"
            )
        return ops.reshape(x, shape[:d] + sizes + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dimensions, then ``·weight + bias``.

    ``bias=False`` (PyTorch ≥ 2.1) keeps the weight but no bias.

    >>> import gdl
    >>> [name for name, _ in gdl.nn.LayerNorm(8, bias=False).named_parameters()]
    ['weight']
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None, backend=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, backend=backend))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, backend=backend))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


def register_running_stats(module, num_features, track, dtype, backend):
    """The buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` of batch and instance norm, or None each when not tracking;
    the third is PyTorch's, so state dicts carry the same keys both ways."""
    if not track:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            module.register_buffer(name, None)
        return
    module.register_buffer("running_mean", zeros(num_features, dtype=dtype, backend=backend))
    module.register_buffer("running_var", ones(num_features, dtype=dtype, backend=backend))
    module.register_buffer("num_batches_tracked", zeros((), dtype=int64, backend=backend))


class _BatchNorm(Module):
    """``running = (1 - momentum)·running + momentum·batch`` in training; ``momentum=None``
    makes it the cumulative average over all batches so far (as PyTorch's)."""

    _expected_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, backend=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, backend=backend))
            self.bias = Parameter(zeros(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        register_running_stats(self, num_features, track_running_stats, dtype, backend)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._expected_dims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-D" for d in self._expected_dims)
            raise ValueError(
                f"{type(self).__name__}: expected {dims} input with {self.num_features} channels "
                f"in dimension 1, got shape {x.shape}"
            )
        use_batch = self.training or self.running_mean is None
        momentum = self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:  # a cumulative moving average: the plain mean over all batches
                momentum = 1.0 / self.num_batches_tracked.item()
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs; running statistics for eval."""

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel."""

    _expected_dims = (4,)


__all__ = [
    "Linear",
    "Bilinear",
    "Embedding",
    "EmbeddingBag",
    "Dropout",
    "Flatten",
    "Unflatten",
    "Identity",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
]
