"""Continuous distributions on the real line: ``Normal``, ``Uniform``, ``Exponential``
and ``Laplace``, as ``torch.distributions``' (all reparameterisable: ``rsample`` is
differentiable in the parameters).

>>> import gdl
>>> from gdl.distributions import Normal, Uniform
>>> loc = gdl.tensor(1.0, requires_grad=True)
>>> x = Normal(loc, 2.0).rsample((4,))
>>> x.sum().backward()
>>> loc.grad
tensor(4., backend='numpy')
>>> Uniform(0.0, 4.0).log_prob(gdl.tensor([1.0, 5.0]))
Traceback (most recent call last):
...
ValueError: Expected value argument (Tensor of shape (2,)) to be within the support (Interval(lower_bound=0.0, upper_bound=4.0)) of the distribution Uniform(low: 0.0, high: 4.0), but found invalid values:
tensor([1., 5.], backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import Distribution, broadcast_all, finfo
from gdl.tensor import Tensor

__all__ = ["Exponential", "Laplace", "Normal", "Uniform"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _noise(fn, shape, like: Tensor) -> Tensor:
    """Standard draws (``gdl.randn`` or ``gdl.rand``) of ``shape`` in ``like``'s dtype and backend."""
    return fn(shape, dtype=like.dtype, backend=like.backend)


class Normal(Distribution):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``.

    >>> import gdl
    >>> from gdl.distributions import Normal
    >>> d = Normal(gdl.tensor([0.0, 1.0]), 1.0)
    >>> d.log_prob(gdl.tensor([0.0, 1.0]))
    tensor([-0.9189385, -0.9189385], backend='numpy')
    >>> d.entropy()
    tensor([1.4189385, 1.4189385], backend='numpy')
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Normal", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape=()):
        eps = _noise(gdl.randn, self._extended_shape(sample_shape), self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale.pow(2)) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + gdl.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * gdl.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)`` (``low < high``).

    >>> import gdl
    >>> from gdl.distributions import Uniform
    >>> d = Uniform(0.0, 4.0)
    >>> d.mean, d.variance, d.entropy()
    (tensor(2., backend='numpy'), tensor(1.3333334, backend='numpy'), tensor(1.3862944, backend='numpy'))
    >>> d.log_prob(gdl.tensor([1.0, 4.0]))
    tensor([-1.3862944,       -inf], backend='numpy')
    """

    has_rsample = True
    _expand_params = {"low": 0, "high": 0}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all("Uniform", low=low, high=high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.high * math.nan

    @property
    def stddev(self):
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        u = _noise(gdl.rand, self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = gdl.logical_and(value >= self.low, value < self.high)
        return gdl.where(inside, -(self.high - self.low).log(), -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()


class Exponential(Distribution):
    """The exponential distribution with ``rate`` (mean ``1 / rate``).

    >>> import gdl
    >>> from gdl.distributions import Exponential
    >>> d = Exponential(gdl.tensor([1.0, 2.0]))
    >>> d.mean, d.log_prob(gdl.tensor([0.0, 0.5]))
    (tensor([1. , 0.5], backend='numpy'), tensor([ 0.        , -0.30685282], backend='numpy'))
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _expand_params = {"rate": 0}

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all("Exponential", rate=rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return gdl.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        u = _noise(gdl.rand, self._extended_shape(sample_shape), self.rate)
        return -(-u).log1p() / self.rate  # -log(1 - u): u in [0, 1), so finite

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(Distribution):
    """The Laplace distribution with location ``loc`` and scale ``scale``.

    >>> import gdl
    >>> from gdl.distributions import Laplace
    >>> d = Laplace(0.0, 2.0)
    >>> d.variance, d.log_prob(gdl.tensor(2.0))
    (tensor(8., backend='numpy'), tensor(-2.3862944, backend='numpy'))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Laplace", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape=()):
        low = float(finfo(self.loc).eps) - 1  # uniform on [eps - 1, 1): log1p(-|u|) stays finite
        u = low + _noise(gdl.rand, self._extended_shape(sample_shape), self.loc) * (1 - low)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
