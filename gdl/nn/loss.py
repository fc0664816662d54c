"""Loss modules (``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``)."""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.functional.loss import _check_width
from gdl.nn.module import Module
from gdl.tensor import Tensor


def _keep(module, name, value):
    """A weight tensor is a buffer, as in PyTorch: it is in ``state_dict`` and moves with ``.to(...)``
    (anything else, e.g. a Python number as ``pos_weight``, stays a plain attribute)."""
    if value is None or isinstance(value, Tensor):
        module.register_buffer(name, value)
    else:
        setattr(module, name, value)


class _Loss(Module):
    _reductions = ("mean", "sum", "none")

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in self._reductions:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {self._reductions}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """Mean squared error. The book's ch13 MSELoss sums instead: ``MSELoss(reduction="sum")``."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood on logits; class-index or probability targets.

    >>> import gdl
    >>> loss = gdl.nn.CrossEntropyLoss()(gdl.zeros(4, 10), gdl.tensor([1, 2, 3, 4]))
    >>> round(loss.item(), 4)   # log(10)
    2.3026
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        _keep(self, "weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (use after ``LogSoftmax``)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        _keep(self, "weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (after a ``Sigmoid``)."""

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        _keep(self, "weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one numerically stable step."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        _keep(self, "weight", weight)
        _keep(self, "pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.pos_weight, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it (see :func:`F.smooth_l1_loss`).

    >>> import gdl
    >>> gdl.nn.SmoothL1Loss(beta=1.0)(gdl.tensor([0.5, 3.0]), gdl.tensor([0.0, 0.0])).item()
    1.3125
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        _check_width("SmoothL1Loss", "beta", beta, positive=False)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self):
        return ", ".join(filter(None, [super().extra_repr(), f"beta={self.beta}" if self.beta != 1.0 else ""]))


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above it (see :func:`F.huber_loss`)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        _check_width("HuberLoss", "delta", delta, positive=True)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self):
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}" if self.delta != 1.0 else ""]))


class KLDivLoss(_Loss):
    """KL divergence of ``target`` from log-probabilities ``input`` (see :func:`F.kl_div`);
    ``reduction="batchmean"`` gives the divergence per sample.

    >>> import gdl
    >>> loss = gdl.nn.KLDivLoss(reduction="batchmean")
    >>> loss(gdl.full((2, 4), 0.25).log(), gdl.full((2, 4), 0.25)).item()
    0.0
    """

    _reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)

    def extra_repr(self):
        return ", ".join(filter(None, [super().extra_repr(), "log_target=True" if self.log_target else ""]))


__all__ = [
    "MSELoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
]
