"""Discrete distributions: ``Bernoulli``, ``Categorical`` and ``OneHotCategorical``, as
``torch.distributions``'. Each takes exactly one of ``probs=`` or ``logits=`` and computes
the other on first use; ``Categorical`` normalises its parameter over the last axis.

>>> import gdl
>>> from gdl.distributions import Bernoulli, Categorical
>>> Bernoulli(logits=gdl.tensor([0.0])).probs
tensor([0.5], backend='numpy')
>>> Categorical(probs=gdl.tensor([1.0, 3.0])).probs
tensor([0.25, 0.75], backend='numpy')
>>> Bernoulli(probs=0.5, logits=0.0)
Traceback (most recent call last):
...
ValueError: Either `probs` or `logits` must be specified, but not both.
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import (
    Distribution,
    as_shape,
    broadcast_all,
    broadcast_shapes,
    finfo,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from gdl.nn.functional import one_hot
from gdl.tensor import Tensor

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical"]


def _one_of(probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """``-(target * log(sigmoid(logits)) + (1 - target) * log(1 - sigmoid(logits)))``, stably:
    ``log(1 + exp(logits)) - logits * target``, the first term as ``logaddexp(0, logits)``,
    whose gradient is ``sigmoid(logits)`` everywhere (``max(x, 0) + log1p(exp(-|x|))`` has
    the right value but two kinks at 0, where its gradient came out 1 instead of 1/2)."""
    return gdl.logaddexp(gdl.zeros_like(logits), logits) - logits * target


class _ProbsOrLogits(Distribution):
    """Shared ``probs`` / ``logits`` handling of the distributions with one success probability
    (Bernoulli and the count distributions): either is given, the other derived when asked."""

    @property
    def _param(self) -> Tensor:
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @property
    def param_shape(self) -> tuple:
        return self._param.shape

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)


class Bernoulli(_ProbsOrLogits):
    """Draws of 1 (with probability ``probs``, or ``sigmoid(logits)``) or 0.

    >>> import gdl
    >>> from gdl.distributions import Bernoulli
    >>> d = Bernoulli(probs=gdl.tensor([0.25, 0.5]))
    >>> d.log_prob(gdl.tensor([1.0, 0.0])).exp(), d.variance
    (tensor([0.25, 0.5 ], backend='numpy'), tensor([0.1875, 0.25  ], backend='numpy'))
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _expand_params = {"probs": 0, "logits": 0}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all("Bernoulli", probs=probs)
        else:
            (self.logits,) = broadcast_all("Bernoulli", logits=logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs
        return gdl.where(p == 0.5, math.nan, (p > 0.5).to(dtype=p.dtype))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            return gdl.bernoulli(gdl.broadcast_to(self.probs, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        shape = broadcast_shapes(self.logits.shape, value.shape)
        return -_bce_with_logits(gdl.broadcast_to(self.logits, shape), value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The values 0 and 1, shaped ``(2,) + (1,) * len(batch_shape)`` (expanded to ``(2,) +
        batch_shape`` with ``expand``)."""
        values = gdl.arange(2, dtype=self._param.dtype, backend=self._param.backend)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return gdl.broadcast_to(values, (2,) + self._batch_shape) if expand else values


def _at_least_1d(name: str, v, owner: str) -> Tensor:
    if not isinstance(v, Tensor):
        raise TypeError(f"{owner}: {name} must be a Tensor, got {type(v).__name__}")
    if not v.dtype.is_floating_point:
        raise TypeError(f"{owner}: {name} must be a floating tensor, got dtype {v.dtype.name}")
    if v.ndim < 1:
        raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
    return v


class Categorical(Distribution):
    """Draws of an index ``0 .. K-1`` with probabilities ``probs`` (or ``softmax(logits)``)
    over the last axis; ``batch_shape`` is the rest, ``event_shape`` is ``()``.

    >>> import gdl
    >>> from gdl.distributions import Categorical
    >>> d = Categorical(logits=gdl.zeros(2, 4))
    >>> d.batch_shape, d.sample((5,)).shape, d.entropy()
    ((2,), (5, 2), tensor([1.3862944, 1.3862944], backend='numpy'))
    >>> d.log_prob(gdl.tensor([0, 3]))
    tensor([-1.3862944, -1.3862944], backend='numpy')
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True
    _expand_params = {"probs": 1, "logits": 1}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            probs = _at_least_1d("probs", probs, type(self).__name__)
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = _at_least_1d("logits", logits, type(self).__name__)
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @property
    def _param(self) -> Tensor:
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @property
    def _num_events(self) -> int:
        return self._param.shape[-1]

    @property
    def param_shape(self) -> tuple:
        return self._param.shape

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    def _nans(self) -> Tensor:
        p = self._param
        return gdl.full(self._extended_shape(), math.nan, dtype=p.dtype, backend=p.backend)

    @property
    def mean(self):
        return self._nans()

    @property
    def variance(self):
        return self._nans()

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    def sample(self, sample_shape=()):
        shape = as_shape(sample_shape)
        n = math.prod(shape)
        with gdl.no_grad():
            probs = self.probs.detach().reshape(-1, self._num_events)
            if n == 0 or probs.shape[0] == 0:
                return gdl.zeros(shape + self._batch_shape, dtype=gdl.int64, backend=probs.backend)
            draws = gdl.multinomial(probs, n, replacement=True)  # (batch, n)
            return draws.T.reshape(shape + self._batch_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        shape = broadcast_shapes(index.shape[:-1], self.logits.shape[:-1])
        index = gdl.broadcast_to(index, shape + (1,))
        logits = gdl.broadcast_to(self.logits, shape + (self._num_events,))
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The indices ``0 .. K-1`` shaped ``(K,) + (1,) * len(batch_shape)`` (expanded to
        ``(K,) + batch_shape`` with ``expand``)."""
        k = self._num_events
        values = gdl.arange(k, backend=self._param.backend).reshape((-1,) + (1,) * len(self._batch_shape))
        return gdl.broadcast_to(values, (k,) + self._batch_shape) if expand else values


class _OverCategorical(Distribution):
    """A distribution over ``K`` classes built on an inner :class:`Categorical`
    (``self._categorical``, which checks the parameters): its ``probs``, ``logits``, shapes
    and ``expand``. ``_copied`` names further attributes ``expand`` carries over."""

    _copied: tuple = ()

    def _over(self, probs, logits, validate_args):
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        Distribution.__init__(self, self._categorical.batch_shape, self._categorical.param_shape[-1:], validate_args)

    def _check_parameters(self) -> None:
        pass  # the inner Categorical checked them

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        for name in self._copied:
            setattr(new, name, getattr(self, name))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, new._categorical.batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape


class OneHotCategorical(_OverCategorical):
    """A :class:`Categorical` whose draws are one-hot vectors of length ``K``
    (``event_shape`` is ``(K,)``).

    >>> import gdl
    >>> from gdl.distributions import OneHotCategorical
    >>> d = OneHotCategorical(probs=gdl.tensor([0.0, 1.0, 0.0]))
    >>> d.sample(), d.mode
    (tensor([0., 1., 0.], backend='numpy'), tensor([0., 1., 0.], backend='numpy'))
    >>> OneHotCategorical(logits=gdl.zeros(4)).log_prob(gdl.tensor([0.0, 0.0, 1.0, 0.0])).exp()
    tensor(0.25, backend='numpy')
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._over(probs, logits, validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs
        return one_hot(p.argmax(dim=-1), p.shape[-1]).to(dtype=p.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        p = self.probs
        return one_hot(self._categorical.sample(sample_shape), p.shape[-1]).to(dtype=p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(dim=-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The ``K`` one-hot vectors, shaped ``(K,) + (1,) * len(batch_shape) + (K,)``
        (expanded over ``batch_shape`` with ``expand``)."""
        k = self._event_shape[0]
        values = gdl.eye(k, dtype=self.probs.dtype, backend=self.probs.backend)
        values = values.reshape((k,) + (1,) * len(self._batch_shape) + (k,))
        return gdl.broadcast_to(values, (k,) + self._batch_shape + (k,)) if expand else values
