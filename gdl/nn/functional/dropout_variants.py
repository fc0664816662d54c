"""Dropout variants and two small channel ops, as ``torch.nn.functional``'s: channel dropout
(``dropout1d``/``2d``/``3d``), SELU-preserving dropout (``alpha_dropout``,
``feature_alpha_dropout``), the randomized leaky ReLU ``rrelu`` and ``channel_shuffle``.

Masks and slopes come from the backend's seeded generator (``gdl.manual_seed``), so the
same seed gives the same draws; PyTorch's generator differs, so the numbers do too.
``inplace=`` is accepted where PyTorch has it, but, as gdl's activations, these ops never
write into their input: use the returned tensor. ``p`` must be a real number in [0, 1]
(a bool is refused: ``F.dropout2d(x, training)`` forgets ``p``).

>>> import gdl
>>> import gdl.nn.functional as F
>>> _ = gdl.manual_seed(0)
>>> y = F.dropout2d(gdl.ones(1, 6, 2, 2), p=0.5)      # whole 2x2 channels are 0 or 2
>>> sorted(set(y.numpy().reshape(6, 4).std(axis=1).tolist()))
[0.0]
>>> F.channel_shuffle(gdl.arange(6.0).reshape(1, 6, 1), 3).flatten()
tensor([0., 2., 4., 1., 3., 5.], backend='numpy')
>>> F.rrelu(gdl.tensor([-4.0, 2.0]))                   # eval: slope (1/8 + 1/3)/2
tensor([-0.9166667,  2.       ], backend='numpy')
"""

from __future__ import annotations

import math
import numbers
import warnings

from gdl import functional as ops
from gdl.nn.functional._arguments import _check_tensor, _real
from gdl.nn.functional.activation import _float, leaky_relu
from gdl.tensor import Tensor, result

# SELU's negative saturation is -λα; alpha dropout sets dropped units to it (PyTorch's constant)
_SELU_NEG_SAT = 1.7580993408473766


def _check_p(op: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a real number in [0, 1], got {p!r}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return p


def _drop(op: str, x: Tensor, p: float, training: bool, feature: bool, alpha: bool, batched: bool = True) -> Tensor:
    """The one node behind all five dropouts: ``x·m`` (plus ``b`` for alpha dropout) with
    ``m`` drawn per element or, with ``feature``, per channel (dim 1 of a ``batched`` input,
    dim 0 of an unbatched one) and broadcast over the rest. PyTorch's order of checks:
    eval mode, ``p == 0`` and empty inputs pass ``x`` through; ``p == 1`` gives ``x·0``."""
    if not training or p == 0.0 or x.numel() == 0:
        return x
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input in training mode, got {x.dtype.name}")
    if p == 1.0:
        return x * 0.0
    shape = tuple(x.shape)
    if feature:
        lead = 2 if batched else 1
        if len(shape) < lead:
            raise ValueError(f"{op}: feature (channel) dropout requires at least 2 dimensions in the input "
                             f"(counting the batch), got shape {shape}")
        mask_shape = shape[:lead] + (1,) * (len(shape) - lead)
    else:
        mask_shape = shape
    be = x._backend
    keep = be.bernoulli(1.0 - p, mask_shape, dtype=x.data.dtype)
    if alpha:  # kept: a·x + λα·a·p; dropped: λα·a·(p - 1); zero mean and unit variance stay
        a = 1.0 / math.sqrt((_SELU_NEG_SAT * _SELU_NEG_SAT * p + 1.0) * (1.0 - p))
        scale = keep * a
        out = x.data * scale + (keep * (_SELU_NEG_SAT * a) + _SELU_NEG_SAT * a * (p - 1.0))
    else:
        scale = keep * (1.0 / (1.0 - p))
        out = x.data * scale

    def backward(g):
        return (g * scale,)

    def graph(g):  # the mask (and so ``scale``) is a constant of the forward
        return (g * Tensor._wrap(scale, be),)

    return result(out, be, (x,), backward, "AlphaDropout" if alpha else "FeatureDropout", graph)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, L)`` or unbatched ``(C, L)`` input, each with
    probability ``p``, and scale the rest by ``1/(1-p)``; the identity unless ``training``.
    Backward: ``g·m`` with the same per-channel mask ``m``."""
    op = "dropout1d"
    p = _check_p(op, p)
    _check_tensor(op, "input", input, floating=False)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)} "
                         f"({input.ndim}-D); dropout1d drops channels of inputs with one spatial dimension")
    return _drop(op, input, p, training, feature=True, alpha=False, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1) of an ``(N, C, H, W)`` input, each with probability ``p``,
    and scale the rest by ``1/(1-p)``; the identity unless ``training``.

    As PyTorch's: a 3-D input is read as ``(N, C, L)`` (channel dropout of dim 1, as
    ``dropout1d``, with a warning), not as an unbatched ``(C, H, W)``; other ranks warn
    and drop along dim 1 too (a 2-D ``(N, C)`` input: element-wise); 0-D and 1-D inputs
    are refused in training."""
    op = "dropout2d"
    p = _check_p(op, p)
    _check_tensor(op, "input", input, floating=False)
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(f"{op}: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      f"error in a future release. dropout2d drops channels of 3-D or 4-D inputs; use dropout "
                      f"for element-wise dropout.", stacklevel=2)
    if nd == 3:
        warnings.warn(f"{op}: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      f"is desired - input is interpreted as shape (N, C, L), where C is the channel dim. Use "
                      f"dropout1d for that, or add a batch dimension for an unbatched (C, H, W) input.",
                      stacklevel=2)
    return _drop(op, input, p, training, feature=True, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` input,
    each with probability ``p``, and scale the rest by ``1/(1-p)``; the identity unless
    ``training``. As PyTorch's: other ranks warn and are read as unbatched (dim 0 is the
    channel dimension)."""
    op = "dropout3d"
    p = _check_p(op, p)
    _check_tensor(op, "input", input, floating=False)
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(f"{op}: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
                      f"error in a future release. dropout3d drops channels of 4-D or 5-D inputs; use dropout "
                      f"for element-wise dropout.", stacklevel=2)
    return _drop(op, input, p, training, feature=True, alpha=False, batched=nd == 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout (for SELU networks): in training, set each element with probability
    ``p`` to SELU's saturation ``-λα`` and apply the affine map ``a·(.) + b`` that keeps a
    zero-mean unit-variance input so: kept ``a·x + λα·a·p``, dropped ``λα·a·(p-1)`` with
    ``a = ((λ²α²p + 1)(1-p))^(-1/2)``. The identity unless ``training`` (default False, as
    PyTorch's); ``p == 1`` gives zeros. Backward: ``g·a·m``."""
    op = "alpha_dropout"
    p = _check_p(op, p)
    _check_tensor(op, "input", input, floating=False)
    return _drop(op, input, p, training, feature=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """:func:`alpha_dropout` of whole channels: one draw per ``(sample, channel)`` (dims 0
    and 1; at least 2-D in training), broadcast over the rest. The identity unless ``training``."""
    op = "feature_alpha_dropout"
    p = _check_p(op, p)
    _check_tensor(op, "input", input, floating=False)
    return _drop(op, input, p, training, feature=True, alpha=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: ``x`` for ``x > 0``, else ``r·x``. In training each element
    gets its own slope ``r ~ U(lower, upper)`` from the backend's generator and the gradient
    is ``g·r`` with those slopes (1 where ``x > 0``); otherwise ``r = (lower + upper)/2``
    (``leaky_relu``). Integer inputs give the default float dtype."""
    op = "rrelu"
    _check_tensor(op, "input", input, floating=False)
    lower, upper = _real(op, "lower", lower), _real(op, "upper", upper)
    if lower > upper:
        raise ValueError(f"{op}: lower bound should be less than or equal to the upper bound, "
                         f"got lower={lower} and upper={upper}")
    x = _float(input)
    if not training:
        return leaky_relu(x, (lower + upper) / 2.0)
    be = x._backend
    xp = be.xp
    slopes = be.uniform(tuple(x.shape), lower, upper, dtype=x.data.dtype)
    r = xp.where(x.data <= 0, slopes, xp.ones_like(slopes))
    out = x.data * r
    return result(out, be, (x,), lambda g: (g * r,), "Rrelu", lambda g: (g * Tensor._wrap(r, be),))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Split the ``C`` channels (dim 1) of an ``(N, C, *)`` input into ``groups`` groups and
    interleave them: view as ``(N, groups, C/groups, *)``, swap those two dims, flatten back.
    Backward applies the inverse permutation.

    >>> import gdl
    >>> gdl.nn.functional.channel_shuffle(gdl.arange(4.0).reshape(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.], backend='numpy')
    """
    op = "channel_shuffle"
    _check_tensor(op, "input", input, floating=False)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{op}: groups must be an int, got {type(groups).__name__} {groups!r}")
    groups = int(groups)
    shape = tuple(input.shape)
    if len(shape) <= 2:
        raise ValueError(f"{op}: expects an input with more than 2 dimensions (N, C, *), got shape {shape}")
    if groups <= 0:
        raise ValueError(f"{op}: the number of groups to divide channels in must be positive, got groups={groups}")
    c = shape[1]
    if c % groups:
        raise ValueError(f"{op}: the number of channels must be divisible by groups, got {c} channels "
                         f"(input shape {shape}) and groups={groups}")
    xp = input._backend.xp
    rest = shape[2:]
    swap = (0, 2, 1) + tuple(range(3, 3 + len(rest)))  # its own inverse
    out = xp.reshape(xp.permute_dims(xp.reshape(input.data, (shape[0], groups, c // groups) + rest), swap), shape)

    def backward(g):
        return (xp.reshape(xp.permute_dims(xp.reshape(g, (shape[0], c // groups, groups) + rest), swap), shape),)

    def graph(g):
        gv = ops.reshape(g, (shape[0], c // groups, groups) + rest)
        return (ops.reshape(ops.permute(gv, *swap), shape),)

    return result(out, input._backend, (input,), backward, "ChannelShuffle", graph)


__all__ = [
    "alpha_dropout",
    "channel_shuffle",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "feature_alpha_dropout",
    "rrelu",
]
