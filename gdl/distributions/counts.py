"""Count distributions: ``Poisson``, ``Binomial``, ``Geometric``, ``NegativeBinomial`` and
``Multinomial``, as ``torch.distributions``' (``probs=`` or ``logits=`` where PyTorch takes
either). Draws are floating tensors of counts, as PyTorch's.

>>> import gdl
>>> from gdl.distributions import Binomial, Poisson
>>> Binomial(4, probs=gdl.tensor(0.5)).log_prob(gdl.tensor(2.0)).exp()
tensor(0.375, backend='numpy')
>>> Poisson(gdl.tensor([1.0, 2.0])).mean
tensor([1., 2.], backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.discrete import (
    _bce_with_logits,
    _one_of,
    _OverCategorical,
    _ProbsOrLogits,
)
from gdl.distributions.distribution import (
    Distribution,
    as_shape,
    broadcast_all,
    broadcast_shapes,
    tiny,
)
from gdl.distributions.gamma_family import standard_gamma
from gdl.nn.functional import logsigmoid, one_hot
from gdl.tensor import Tensor

__all__ = ["Binomial", "Geometric", "Multinomial", "NegativeBinomial", "Poisson"]


def _float_count(total_count, like):
    """``total_count`` (a number or tensor) as a floating tensor in ``like``'s dtype when it is an integer tensor."""
    if isinstance(total_count, Tensor) and not total_count.dtype.is_floating_point:
        dtype = like.dtype if isinstance(like, Tensor) else None
        return total_count.to(dtype=dtype) if dtype is not None else total_count.float()
    return total_count


def _counts_init(dist, name, total_count, probs, logits, validate_args):
    """``total_count`` and ``probs`` or ``logits`` broadcast together (a Binomial, a NegativeBinomial)."""
    _one_of(probs, logits)
    total_count = _float_count(total_count, probs if probs is not None else logits)
    if probs is not None:
        dist.total_count, dist.probs = broadcast_all(name, total_count=total_count, probs=probs)
    else:
        dist.total_count, dist.logits = broadcast_all(name, total_count=total_count, logits=logits)
    Distribution.__init__(dist, dist._param.shape, validate_args=validate_args)


class Poisson(Distribution):
    """The Poisson distribution with ``rate`` (no entropy, as PyTorch's)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _expand_params = {"rate": 0}

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all("Poisson", rate=rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            return gdl.poisson(gdl.broadcast_to(self.rate.detach(), self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gdl.xlogy(value, self.rate) - self.rate - gdl.lgamma(value + 1)


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success, success probability ``probs``
    (or ``sigmoid(logits)``); ``probs`` must be positive."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer
    _expand_params = {"probs": 0, "logits": 0}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all("Geometric", probs=probs)
        else:
            (self.logits,) = broadcast_all("Geometric", logits=logits)
        super().__init__(self._param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            with gdl.no_grad():
                ok = bool((self.probs.detach() > 0).all().item())
            if not ok:
                raise ValueError(f"Expected parameter probs (Tensor of shape {self.probs.shape}) of distribution "
                                 f"{self!r} to be positive but found invalid values:\n{self.probs.detach()!r}")

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return gdl.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            p = self.probs.detach()
            u = gdl.rand(self._extended_shape(sample_shape), dtype=p.dtype, backend=p.backend)
            u = u.clamp(min=tiny(p))
            return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        shape = broadcast_shapes(value.shape, self.probs.shape)
        value, probs = gdl.broadcast_to(value, shape), gdl.broadcast_to(self.probs, shape)
        probs = gdl.where(gdl.logical_and(probs == 1, value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs


class Binomial(_ProbsOrLogits):
    """The number of successes in ``total_count`` trials of success probability ``probs``
    (or ``sigmoid(logits)``). Draws sum Bernoulli trials (time and memory grow with
    ``total_count``)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True
    _expand_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _counts_init(self, "Binomial", total_count, probs, logits, validate_args)

    @constraints.dependent_property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        mode = ((self.total_count + 1) * self.probs).floor()
        return gdl.where(mode > self.total_count, self.total_count, mode)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            shape = self._extended_shape(sample_shape)
            n = gdl.broadcast_to(self.total_count.detach(), shape)
            p = gdl.broadcast_to(self.probs.detach(), shape)
            n_max = int(n.amax().item()) if n.numel() else 0
            count = gdl.zeros_like(p)
            chunk = max(1, (1 << 22) // max(1, p.numel()))
            for start in range(0, n_max, chunk):
                k = min(chunk, n_max - start)
                u = gdl.rand((k,) + shape, dtype=p.dtype, backend=p.backend)
                trial = gdl.arange(start, start + k, dtype=p.dtype, backend=p.backend).reshape((k,) + (1,) * len(shape))
                count = count + gdl.logical_and(u < p, trial < n).to(dtype=p.dtype).sum(0)
            return count

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_fact = gdl.lgamma(n + 1) - gdl.lgamma(value + 1) - gdl.lgamma(n - value + 1)
        normalize = n * logits.clamp(min=0) + n * (-logits.abs()).exp().log1p()
        return log_fact + value * logits - normalize

    def _homogeneous_count(self, what: str) -> int:
        n = int(self.total_count.amax().item())
        if int(self.total_count.amin().item()) != n:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return n

    def entropy(self):
        n = self._homogeneous_count("entropy")
        lp = self.log_prob(self._support(n, expand=False))
        return -(lp.exp() * lp).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The values ``0 .. total_count`` (a single count over the batch), shaped ``(n + 1,) +
        (1,) * len(batch_shape)`` (expanded over ``batch_shape`` with ``expand``)."""
        return self._support(self._homogeneous_count("enumerate_support"), expand)

    def _support(self, n: int, expand: bool) -> Tensor:
        values = gdl.arange(n + 1, dtype=self._param.dtype, backend=self._param.backend)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return gdl.broadcast_to(values, (n + 1,) + self._batch_shape) if expand else values


class NegativeBinomial(_ProbsOrLogits):
    """The number of successes before ``total_count`` failures, success probability
    ``probs`` (or ``sigmoid(logits)``)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer
    _expand_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _counts_init(self, "NegativeBinomial", total_count, probs, logits, validate_args)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            shape = self._extended_shape(sample_shape)
            rate = standard_gamma(self.total_count, shape) * self.logits.detach().exp()
            return gdl.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        norm = -gdl.lgamma(n + value) + gdl.lgamma(1.0 + value) + gdl.lgamma(n)
        return unnormalized - gdl.where(n + value == 0.0, 0.0, norm)


class Multinomial(_OverCategorical):
    """Counts over ``K`` categories in ``total_count`` (a Python int) draws of a
    :class:`Categorical` with ``probs`` (or ``logits``); ``event_shape`` is ``(K,)``. Draws
    add up one-hot categorical draws (time and memory grow with ``total_count``)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}

    _copied = ("total_count",)

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        if total_count < 0:
            raise ValueError(f"Multinomial: total_count must be >= 0, got {total_count}")
        self.total_count = total_count
        self._over(probs, logits, validate_args)

    @constraints.dependent_property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = as_shape(sample_shape)
        with gdl.no_grad():
            p = self.probs
            k = self._event_shape[0]
            if self.total_count == 0:
                return gdl.zeros(self._extended_shape(shape), dtype=p.dtype, backend=p.backend)
            draws = self._categorical.sample((self.total_count,) + shape)
            return one_hot(draws, k).to(dtype=p.dtype).sum(0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        shape = broadcast_shapes(self.logits.shape, value.shape)
        logits, value = gdl.broadcast_to(self.logits, shape), gdl.broadcast_to(value, shape)
        logits = gdl.where(gdl.logical_and(value == 0, logits == -math.inf), 0.0, logits)
        return gdl.lgamma(value.sum(-1) + 1) - gdl.lgamma(value + 1).sum(-1) + (logits * value).sum(-1)

    def entropy(self):
        p = self.probs
        n = gdl.tensor(float(self.total_count), dtype=p.dtype, backend=p.backend)
        term1 = n * self._categorical.entropy() - gdl.lgamma(n + 1)
        binomial = Binomial(self.total_count, probs=p, validate_args=False)
        support = binomial._support(self.total_count, expand=False)[1:]
        weights = gdl.lgamma(support + 1)
        return term1 + (binomial.log_prob(support).exp() * weights).sum(dim=(0, -1))
