"""Loss modules (``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``)."""

from __future__ import annotations

from gdl.nn import functional as F
from gdl.nn.functional.loss import _check_margin, _check_width
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


def _settings(module, **defaults):
    """``extra_repr`` text: the reduction and every setting that differs from its default."""
    parts = [_Loss.extra_repr(module)]
    parts += [f"{k}={getattr(module, k)!r}" for k, d in defaults.items() if getattr(module, k) != d]
    return ", ".join(filter(None, parts))


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` for similar pairs (target 1), ``max(0, cos - margin)`` for
    dissimilar ones (target -1); see :func:`F.cosine_embedding_loss`.

    >>> import gdl
    >>> loss = gdl.nn.CosineEmbeddingLoss(margin=0.5)
    >>> loss
    CosineEmbeddingLoss(margin=0.5)
    >>> loss(gdl.tensor([[1.0, 0.0]]), gdl.tensor([[1.0, 0.0]]), gdl.tensor([-1.0])).item()
    0.5
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        _check_margin(type(self).__name__, margin)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)

    def extra_repr(self):
        return _settings(self, margin=0.0)


class MarginRankingLoss(_Loss):
    """``max(0, -target·(x1 - x2) + margin)``: rank ``x1`` above ``x2`` where target is 1
    (see :func:`F.margin_ranking_loss`)."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        _check_margin(type(self).__name__, margin)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)

    def extra_repr(self):
        return _settings(self, margin=0.0)


class HingeEmbeddingLoss(_Loss):
    """``x`` where target is 1, ``max(0, margin - x)`` where it is -1 (see :func:`F.hinge_embedding_loss`)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        _check_margin(type(self).__name__, margin)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)

    def extra_repr(self):
        return _settings(self, margin=1.0)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y·x))`` for targets ±1 (see :func:`F.soft_margin_loss`)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """One-vs-all logistic loss over the classes of multi-label 0/1 targets, averaged over
    classes (see :func:`F.multilabel_soft_margin_loss`); ``weight`` is a buffer."""

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        _keep(self, "weight", weight)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, ‖a - p‖ - ‖a - n‖ + margin)`` with ``p``-norm distances (see :func:`F.triplet_margin_loss`).

    >>> import gdl
    >>> gdl.nn.TripletMarginLoss(margin=0.5, swap=True)
    TripletMarginLoss(margin=0.5, swap=True)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, reduction: str = "mean"):
        super().__init__(reduction)
        _check_margin(type(self).__name__, margin, positive=True)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction)

    def extra_repr(self):
        return _settings(self, margin=1.0, p=2.0, eps=1e-6, swap=False)


class TripletMarginWithDistanceLoss(_Loss):
    """:class:`TripletMarginLoss` with any ``distance_function(x, y)`` (default: the Euclidean
    :func:`F.pairwise_distance`); see :func:`F.triplet_margin_with_distance_loss`."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
        super().__init__(reduction)
        _check_margin(type(self).__name__, margin, positive=True)
        if distance_function is not None and not callable(distance_function):
            raise TypeError(
                f"TripletMarginWithDistanceLoss: distance_function must be callable or None, "
                f"got {type(distance_function).__name__}"
            )
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
        )

    def extra_repr(self):
        fn = self.distance_function
        name = "" if fn is None else f"distance_function={getattr(fn, '__name__', type(fn).__name__)}"
        return ", ".join(filter(None, [name, _settings(self, margin=1.0, swap=False)]))


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts (see :func:`F.poisson_nll_loss`).

    >>> import gdl
    >>> gdl.nn.PoissonNLLLoss(log_input=False, full=True)
    PoissonNLLLoss(log_input=False, full=True)
    """

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8, reduction: str = "mean"):
        super().__init__(reduction)
        _check_width("PoissonNLLLoss", "eps", eps, positive=False)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps, self.reduction)

    def extra_repr(self):
        return _settings(self, log_input=True, full=False, eps=1e-8)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with predicted variances: ``loss(input, target, var)``
    (see :func:`F.gaussian_nll_loss`)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        _check_width("GaussianNLLLoss", "eps", eps, positive=False)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self):
        return _settings(self, full=False, eps=1e-6)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss on class indices (see :func:`F.multi_margin_loss`); ``weight`` is a buffer.

    >>> import gdl
    >>> gdl.nn.MultiMarginLoss(p=2, reduction="sum")
    MultiMarginLoss(reduction='sum', p=2)
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 and p = 2 are supported, got {p!r}")
        _check_margin(type(self).__name__, margin)
        self.p, self.margin = p, margin
        _keep(self, "weight", weight)

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)

    def extra_repr(self):
        return _settings(self, p=1, margin=1.0)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; targets list class indices ended by -1 (see :func:`F.multilabel_margin_loss`)."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, self.reduction)


class CTCLoss(_Loss):
    """Connectionist Temporal Classification loss (:func:`~gdl.nn.functional.ctc_loss`):
    ``forward(log_probs, targets, input_lengths, target_lengths)``."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction)
        if isinstance(blank, bool) or not isinstance(blank, int) or blank < 0:
            raise ValueError(f"CTCLoss: blank must be a non-negative int, got {blank!r}")
        self.blank, self.zero_infinity = blank, bool(zero_infinity)

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)

    def extra_repr(self) -> str:
        parts = [f"blank={self.blank}"] if self.blank else []
        parts += [super().extra_repr()] if self.reduction != "mean" else []
        parts += ["zero_infinity=True"] if self.zero_infinity else []
        return ", ".join(parts)


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
    "CosineEmbeddingLoss",
    "MarginRankingLoss",
    "HingeEmbeddingLoss",
    "SoftMarginLoss",
    "MultiLabelSoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "MultiMarginLoss",
    "MultiLabelMarginLoss",
    "CTCLoss",
]
