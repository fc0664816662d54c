"""Adaptive softmax (Grave et al., 2016): a cheap log-softmax over many classes, frequent ones first."""

from __future__ import annotations

import math
from collections import namedtuple

import gdl
from gdl.nn import functional as F
from gdl.nn import init
from gdl.nn.layers import Linear
from gdl.nn.module import Module, ModuleList, Sequential

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveSoftmaxError(ValueError, RuntimeError):
    """Bad input to :class:`AdaptiveLogSoftmaxWithLoss` (a ``RuntimeError`` in PyTorch)."""


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation, as ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

    Classes ``[0, cutoffs[0])`` (the shortlist) are scored by ``head`` directly, together with
    one logit per cluster ``[cutoffs[i], cutoffs[i+1])`` (the last ending at ``n_classes``);
    cluster ``i`` has its own ``tail[i]``: ``Linear(in_features, in_features // div_value**(i+1))``
    then ``Linear(that, cluster size)``, both without bias. A class's log-probability is its
    log-softmax in the head, or its cluster's head log-probability plus its log-softmax in the tail.

    Args:
        in_features: size of each input vector.
        n_classes: number of classes.
        cutoffs: increasing, unique ints in ``[1, n_classes - 1]``.
        div_value: divisor of the tails' hidden sizes, default 4.0.
        head_bias: give ``head`` a bias, default False.

    ``forward(input, target)`` (``input`` ``(N, in_features)`` and ``target`` ``(N,)``, or
    ``(in_features,)`` and ``()``) returns ``(output, loss)``: each target's log-probability and
    their negative mean. ``log_prob(input)`` gives all ``(N, n_classes)`` log-probabilities and
    ``predict(input)`` the most likely class of each row.

    >>> import gdl
    >>> asm = gdl.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
    >>> out, loss = asm(gdl.randn(3, 8), gdl.tensor([0, 5, 9]))
    >>> out.shape, asm.log_prob(gdl.randn(3, 8)).shape
    ((3,), (3, 10))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0, head_bias: bool = False,
                 dtype=None, backend=None):
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype, backend=backend)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, dtype=dtype, backend=backend),
                                        Linear(hidden, size, bias=False, dtype=dtype, backend=backend)))

    def reset_parameters(self) -> None:
        """Re-initialise ``head`` and every tail layer as at construction."""
        for m in self.modules():
            if isinstance(m, Linear):
                init.kaiming_uniform_(m.weight, a=math.sqrt(5))
                if m.bias is not None:
                    bound = 1.0 / math.sqrt(m.in_features) if m.in_features > 0 else 0.0
                    init.uniform_(m.bias, -bound, bound)

    def forward(self, input, target):
        batched = _check_forward(input, target)
        x = input if batched else input.unsqueeze(0)
        t = target if batched else target.unsqueeze(0)
        labels = [int(v) for v in t.tolist()]
        bad = [v for v in labels if not 0 <= v < self.n_classes]
        if bad:
            raise AdaptiveSoftmaxError(
                f"AdaptiveLogSoftmaxWithLoss: target values should be in [0, {self.n_classes - 1}], "
                f"but values in range [{min(labels)}, {max(labels)}] were found"
            )
        head_index = [self._head_index(v) for v in labels]
        head_logprob = F.log_softmax(self.head(x), dim=1)
        output = gdl.gather(head_logprob, 1, self._ints(head_index, t).unsqueeze(1)).squeeze(1)
        tail = self._tail_logprob(x, labels, t)
        if tail is not None:
            output = output + tail
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _head_index(self, label: int) -> int:
        if label < self.shortlist_size:
            return label
        return self.shortlist_size + self._cluster(label)

    def _cluster(self, label: int) -> int:
        return next(i for i in range(self.n_clusters) if label < self.cutoffs[i + 1])

    @staticmethod
    def _ints(values, like):
        return gdl.tensor(values, dtype=gdl.int64, backend=like._backend)

    def _tail_logprob(self, x, labels, like):
        """Each row's log-probability within its cluster (0 for shortlist rows), or None if all are."""
        parts, order = [], []
        for i in range(self.n_clusters):
            rows = [r for r, v in enumerate(labels) if v >= self.shortlist_size and self._cluster(v) == i]
            if not rows:
                continue
            sub = gdl.index_select(x, 0, self._ints(rows, like))
            logprob = F.log_softmax(self.tail[i](sub), dim=1)
            relative = self._ints([labels[r] - self.cutoffs[i] for r in rows], like)
            parts.append(gdl.gather(logprob, 1, relative.unsqueeze(1)).squeeze(1))
            order.extend(rows)
        if not parts:
            return None
        short = [r for r, v in enumerate(labels) if v < self.shortlist_size]
        if short:
            parts.append(gdl.zeros(len(short), dtype=x.dtype, backend=x._backend))
            order.extend(short)
        inverse = [0] * len(order)
        for pos, r in enumerate(order):
            inverse[r] = pos
        return gdl.index_select(gdl.cat(parts, dim=0), 0, self._ints(inverse, like))

    def _full_log_prob(self, x, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        columns = [head_logprob[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](x), dim=1)
            columns.append(cluster + head_logprob[:, self.shortlist_size + i: self.shortlist_size + i + 1])
        return gdl.cat(columns, dim=1)

    def log_prob(self, input):
        """The log-probabilities ``(N, n_classes)`` of every class for each row of ``input``."""
        _check_rows(input, "log_prob")
        return self._full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row of ``input`` (``log_prob(input).argmax(dim=1)``)."""
        _check_rows(input, "predict")
        head_output = self.head(input)
        best = gdl.argmax(head_output, dim=1)
        if all(v < self.shortlist_size for v in best.tolist()):
            return best
        full = gdl.argmax(self._full_log_prob(input, head_output), dim=1)
        return gdl.where(best < self.shortlist_size, best, full)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, cutoffs={self.cutoffs[:-1]}, "
                f"div_value={self.div_value}, head_bias={self.head_bias}")


def _check_cutoffs(cutoffs, n_classes) -> None:
    if not cutoffs:
        raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of length larger than 0")
    if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
        raise ValueError(
            f"AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of unique, positive integers sorted in an "
            f"increasing order, where each value is between 1 and n_classes-1 ({n_classes - 1}); got {cutoffs}"
        )


def _check_forward(input, target) -> bool:
    if target.ndim == 1:
        if input.ndim != 2:
            raise AdaptiveSoftmaxError(
                f"AdaptiveLogSoftmaxWithLoss: 1D target tensor expects 2D input tensors, "
                f"but found inputs with size {tuple(input.shape)}"
            )
        if input.shape[0] != target.shape[0]:
            raise AdaptiveSoftmaxError(
                f"AdaptiveLogSoftmaxWithLoss: input and target should have the same size in the batch "
                f"dimension, got {input.shape[0]} and {target.shape[0]}"
            )
        return True
    if target.ndim == 0:
        if input.ndim != 1:
            raise AdaptiveSoftmaxError(
                f"AdaptiveLogSoftmaxWithLoss: 0D target tensor expects 1D input tensors, "
                f"but found inputs with size {tuple(input.shape)}"
            )
        return False
    raise AdaptiveSoftmaxError(
        f"AdaptiveLogSoftmaxWithLoss: 0D or 1D target tensor expected, multi-target not supported "
        f"(got shape {tuple(target.shape)})"
    )


def _check_rows(input, what) -> None:
    if input.ndim != 2:
        raise AdaptiveSoftmaxError(
            f"AdaptiveLogSoftmaxWithLoss.{what}: expected a 2D input (N, in_features), got {tuple(input.shape)}"
        )
