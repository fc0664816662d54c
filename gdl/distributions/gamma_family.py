"""The gamma family: ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet`` and ``StudentT``, as
``torch.distributions``'.

Draws use the Marsaglia-Tsang method on the backend's seeded normal and uniform draws
(vectorised: the rejection loop runs over the whole batch until every element is
accepted; ``alpha < 1`` is boosted to ``alpha + 1`` and scaled by ``U ** (1 / alpha)``).

``rsample`` differentiates a gamma draw through the implicit-function gradient
(:mod:`~gdl.distributions.gamma_grad`, accurate to about 1e-12 relative); ``Chi2``,
``StudentT``, ``Beta`` (``X / (X + Y)``) and ``Dirichlet`` (``G / sum(G)``) build on it.
Unlike PyTorch's Beta / Dirichlet (a dedicated Dirichlet gradient), their draws are
differentiated through the gamma draws they are made of: the same distribution and the
same expected gradients, but other per-draw derivatives.

>>> import gdl
>>> from gdl.distributions import Gamma, Beta
>>> gdl.manual_seed(0)
>>> d = Gamma(gdl.tensor([2.0, 0.5]), 1.0)
>>> d.mean, d.variance, d.sample((3,)).shape
(tensor([2. , 0.5], backend='numpy'), tensor([2. , 0.5], backend='numpy'), (3, 2))
>>> Beta(2.0, 2.0).log_prob(gdl.tensor(0.5)).exp()
tensor(1.5, backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import Distribution, broadcast_all, finfo, tiny
from gdl.distributions.gamma_grad import StandardGamma
from gdl.nn.functional import one_hot
from gdl.tensor import Tensor

__all__ = ["Beta", "Chi2", "Dirichlet", "Gamma", "StudentT"]


def _gamma_rsample(alpha: Tensor, shape) -> Tensor:
    """Reparameterised Gamma(``alpha``, 1) draws of ``shape``."""
    return StandardGamma.apply(gdl.broadcast_to(alpha, tuple(shape)))


def _clamp_keep_grad(x: Tensor, low: float, high: float | None = None) -> Tensor:
    """``x`` clamped, with the gradient of the unclamped ``x`` (as PyTorch's in-place clamp of the data)."""
    return x + (x.clamp(min=low, max=high) - x).detach()


def standard_gamma(alpha: Tensor, shape) -> Tensor:
    """Draws of Gamma(``alpha``, 1) of ``shape`` (``alpha`` broadcast to it), without a graph."""
    with gdl.no_grad():
        a = gdl.broadcast_to(alpha.detach(), tuple(shape))
        boost = a < 1
        a1 = gdl.where(boost, a + 1, a)
        d = a1 - 1.0 / 3.0
        c = (9 * d).rsqrt()
        out = gdl.zeros_like(a)
        done = a != a  # all False (NaN parameters are caught by validation)
        while not bool(done.all().item()):
            x = gdl.randn(a.shape, dtype=a.dtype, backend=a.backend)
            u = gdl.rand(a.shape, dtype=a.dtype, backend=a.backend)
            v = (1 + c * x).pow(3)
            pos = v > 0
            safe_v = gdl.where(pos, v, 1.0)
            ok = gdl.logical_and(pos, u.log() < 0.5 * x * x + d - d * safe_v + d * safe_v.log())
            out = gdl.where(gdl.logical_and(ok, gdl.logical_not(done)), d * safe_v, out)
            done = gdl.logical_or(done, ok)
        u = gdl.rand(a.shape, dtype=a.dtype, backend=a.backend)
        out = gdl.where(boost, out * u.pow(1 / a), out)
        return out.clamp(min=tiny(out))


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` and ``rate`` (mean
    ``concentration / rate``)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _expand_params = {"concentration": 0, "rate": 0}

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(type(self).__name__, concentration=concentration, rate=rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        x = _gamma_rsample(self.concentration, self._extended_shape(sample_shape)) / self.rate
        return _clamp_keep_grad(x, tiny(x))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, r = self.concentration, self.rate
        return gdl.xlogy(a, r) + gdl.xlogy(a - 1, value) - r * value - gdl.lgamma(a)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gdl.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + gdl.lgamma(a) + (1.0 - a) * gdl.digamma(a)


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom (``Gamma(df / 2, 1 / 2)``)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all("Chi2", df=df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2


class Dirichlet(Distribution):
    """The Dirichlet distribution on the simplex with ``concentration`` (last axis: the event)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True
    _expand_params = {"concentration": 1}

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor) or not concentration.dtype.is_floating_point:
            raise TypeError(f"Dirichlet: concentration must be a floating Tensor, got {concentration!r}")
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        return _dirichlet_mode(self.concentration)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def rsample(self, sample_shape=()):
        g = _gamma_rsample(self.concentration, self._extended_shape(sample_shape))
        return _clamp_keep_grad(g / g.sum(-1, keepdim=True), tiny(g), 1 - float(finfo(g).eps))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return gdl.xlogy(c - 1.0, value).sum(-1) + gdl.lgamma(c.sum(-1)) - gdl.lgamma(c).sum(-1)

    def entropy(self):
        return _dirichlet_entropy(self.concentration)


def _dirichlet_mode(c: Tensor) -> Tensor:
    cm1 = (c - 1).clamp(min=0.0)
    total = cm1.sum(-1, keepdim=True)
    mode = gdl.where(total == 0, math.nan, cm1 / gdl.where(total == 0, 1.0, total))  # 0 / 0 as PyTorch's
    first = one_hot(gdl.zeros(c.shape[:-1], dtype=gdl.int64, backend=c.backend), c.shape[-1]).to(dtype=c.dtype)
    return gdl.where((c < 1).all(dim=-1, keepdim=True), first, mode)  # PyTorch's choice when all are < 1


def _dirichlet_entropy(c: Tensor) -> Tensor:
    k = c.shape[-1]
    a0 = c.sum(-1)
    return (gdl.lgamma(c).sum(-1) - gdl.lgamma(a0) - (k - a0) * gdl.digamma(a0)
            - ((c - 1.0) * gdl.digamma(c)).sum(-1))


class Beta(Distribution):
    """The beta distribution on ``[0, 1]`` with ``concentration1`` (alpha) and
    ``concentration0`` (beta)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _expand_params = {"concentration1": 0, "concentration0": 0}

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    def _stacked(self) -> Tensor:
        return gdl.stack([self.concentration1, self.concentration0], dim=-1)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return _dirichlet_mode(self._stacked())[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _gamma_rsample(self.concentration1, shape)
        y = _gamma_rsample(self.concentration0, shape)
        return _clamp_keep_grad(x / (x + y), tiny(x), 1 - float(finfo(x).eps))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (gdl.xlogy(a - 1, value) + gdl.special.xlog1py(b - 1, -value)
                + gdl.lgamma(a + b) - gdl.lgamma(a) - gdl.lgamma(b))

    def entropy(self):
        return _dirichlet_entropy(self._stacked())


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, ``loc`` and ``scale``
    (``rsample``: a normal draw over the square root of a reparameterised chi-squared one)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_params = {"df": 0, "loc": 0, "scale": 0}

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all("StudentT", df=df, loc=loc, scale=scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self):
        return gdl.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        v = self.scale.pow(2) * df / (df - 2).clamp(min=tiny(df))
        return gdl.where(df <= 1, math.nan, gdl.where(df <= 2, math.inf, v))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = gdl.randn(shape, dtype=self.df.dtype, backend=self.df.backend)
        z = 2 * _gamma_rsample(0.5 * self.df, shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi) + gdl.lgamma(0.5 * df)
             - gdl.lgamma(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * (y.pow(2) / df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = gdl.lgamma(0.5 * df) + math.lgamma(0.5) - gdl.lgamma(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1) * (gdl.digamma(0.5 * (df + 1)) - gdl.digamma(0.5 * df))
                + 0.5 * df.log() + lbeta)
