"""Heavy-tailed distributions: ``Cauchy`` and ``HalfCauchy``, as ``torch.distributions``'
(reparameterisable; the mean and variance are undefined / infinite as PyTorch reports).

>>> import gdl
>>> from gdl.distributions import Cauchy, HalfCauchy
>>> Cauchy(0.0, 1.0).cdf(gdl.tensor(1.0)), HalfCauchy(1.0).icdf(gdl.tensor(0.5))
(tensor(0.75, backend='numpy'), tensor(1., backend='numpy'))
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import Distribution, broadcast_all
from gdl.distributions.transformed import FoldedAtZero

__all__ = ["Cauchy", "HalfCauchy"]


class Cauchy(Distribution):
    """The Cauchy (Lorentz) distribution with median ``loc`` and half-width ``scale``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Cauchy", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return gdl.full_like(self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return gdl.full_like(self.loc, math.inf)

    def rsample(self, sample_shape=()):
        u = gdl.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, backend=self.loc.backend)
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - ((value - self.loc) / self.scale).pow(2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class HalfCauchy(FoldedAtZero):
    """``|X|`` for ``X ~ Cauchy(0, scale)``."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self):
        return gdl.full_like(self.scale, math.inf)

    @property
    def variance(self):
        return gdl.full_like(self.scale, math.inf)
