"""Distributions defined, as in PyTorch, as transforms of a simpler one: ``LogNormal``
(exp of a Normal), ``HalfNormal`` (abs of a Normal), ``Gumbel`` (double log of a
Uniform), ``Weibull`` (a power of an Exponential) and ``Pareto`` (exp of an Exponential).
All are reparameterisable; ``cdf``/``icdf`` go through the transforms.

>>> import gdl
>>> from gdl.distributions import LogNormal, Gumbel
>>> LogNormal(0.0, 1.0).log_prob(gdl.tensor(1.0))
tensor(-0.9189385, backend='numpy')
>>> Gumbel(0.0, 1.0).mode
tensor(0., backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.continuous import Exponential, Normal, Uniform
from gdl.distributions.distribution import broadcast_all, finfo, tiny
from gdl.distributions.transformed import FoldedAtZero, TransformedDistribution
from gdl.distributions.transforms import AffineTransform, ExpTransform, PowerTransform

__all__ = ["Gumbel", "HalfNormal", "LogNormal", "Pareto", "Weibull"]

_EULER = 0.57721566490153286061


class LogNormal(TransformedDistribution):
    """``exp(X)`` for ``X ~ Normal(loc, scale)``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(), validate_args=validate_args)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self):
        s2 = self.scale.pow(2)
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


class HalfNormal(FoldedAtZero):
    """``|X|`` for ``X ~ Normal(0, scale)``."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Normal(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)


class Gumbel(TransformedDistribution):
    """The Gumbel (type-I extreme value) distribution with ``loc`` and ``scale``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Gumbel", loc=loc, scale=scale)
        f = finfo(self.loc)
        base = Uniform(gdl.full_like(self.loc, tiny(self.loc)), gdl.full_like(self.loc, 1 - float(f.eps)),
                       validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(0, -gdl.ones_like(self.scale)), ExpTransform().inv,
                      AffineTransform(self.loc, -self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    @property
    def mean(self):
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + _EULER)


class Weibull(TransformedDistribution):
    """The Weibull distribution with ``scale`` and ``concentration`` (shape)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _expand_params = {"scale": 0, "concentration": 0, "concentration_reciprocal": 0}

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all("Weibull", scale=scale, concentration=concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(gdl.ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(self.concentration_reciprocal), AffineTransform(0, self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * gdl.lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        c = self.concentration
        return self.scale * ((c - 1) / c).pow(c.reciprocal())

    @property
    def variance(self):
        cr = self.concentration_reciprocal
        return self.scale.pow(2) * (gdl.lgamma(1 + 2 * cr).exp() - (2 * gdl.lgamma(1 + cr)).exp())

    def entropy(self):
        cr = self.concentration_reciprocal
        return _EULER * (1 - cr) + (self.scale * cr).log() + 1


class Pareto(TransformedDistribution):
    """The Pareto (type I) distribution with ``scale`` (minimum) and tail index ``alpha``."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True
    _expand_params = {"scale": 0, "alpha": 0}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all("Pareto", scale=scale, alpha=alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(0, self.scale)], validate_args=validate_args)

    @constraints.dependent_property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
