"""Probability distributions, as ``torch.distributions`` (most of its common ones).

Every distribution is built from gdl tensor ops, so gradients flow through
``log_prob``, ``rsample``, ``entropy`` and ``kl_divergence``; draws come from the
backend's seeded generator (``gdl.manual_seed``). Parameters are gdl tensors or Python
numbers, broadcast together as PyTorch does.

- :class:`Normal`, :class:`Uniform`, :class:`Exponential`, :class:`Laplace` (``rsample``);
- :class:`Bernoulli`, :class:`Categorical`, :class:`OneHotCategorical` (``probs=`` or ``logits=``);
- :class:`MultivariateNormal` (``covariance_matrix=``, ``precision_matrix=`` or ``scale_tril=``);
- :class:`Cauchy`, :class:`HalfCauchy`, :class:`LogNormal`, :class:`HalfNormal`, :class:`Gumbel`,
  :class:`Weibull`, :class:`Pareto` (``rsample``);
- :class:`Gamma`, :class:`Chi2`, :class:`Beta`, :class:`Dirichlet`, :class:`StudentT` (``rsample``
  through the implicit gradient of the gamma draws, :mod:`gamma_grad`);
- :class:`Poisson`, :class:`Binomial`, :class:`Geometric`, :class:`NegativeBinomial`, :class:`Multinomial`;
- :class:`Independent` (batch axes made event axes), :class:`TransformedDistribution` with
  :mod:`transforms`, :class:`MixtureSameFamily`;
- :func:`kl_divergence` and :func:`register_kl`; :mod:`constraints`.

>>> import gdl
>>> from gdl.distributions import Normal, kl_divergence
>>> gdl.manual_seed(0)
>>> loc = gdl.tensor([0.0, 1.0], requires_grad=True)
>>> p = Normal(loc, 1.0)
>>> p.sample((3,)).shape, p.log_prob(gdl.zeros(2)).shape
((3, 2), (2,))
>>> kl_divergence(p, Normal(0.0, 1.0)).sum().backward()
>>> loc.grad
tensor([0., 1.], backend='numpy')
"""

from gdl.distributions import constraints, transforms
from gdl.distributions.continuous import Exponential, Laplace, Normal, Uniform
from gdl.distributions.counts import Binomial, Geometric, Multinomial, NegativeBinomial, Poisson
from gdl.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from gdl.distributions.distribution import Distribution
from gdl.distributions.gamma_family import Beta, Chi2, Dirichlet, Gamma, StudentT
from gdl.distributions.heavy_tailed import Cauchy, HalfCauchy
from gdl.distributions.independent import Independent
from gdl.distributions.kl import kl_divergence, register_kl
from gdl.distributions.mixture import MixtureSameFamily
from gdl.distributions.multivariate_normal import MultivariateNormal
from gdl.distributions.transformed import TransformedDistribution
from gdl.distributions.transformed_family import Gumbel, HalfNormal, LogNormal, Pareto, Weibull

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution", "Exponential",
    "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "Laplace", "LogNormal",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
    "Pareto", "Poisson", "StudentT", "TransformedDistribution", "Uniform", "Weibull", "constraints",
    "kl_divergence", "register_kl", "transforms",
]
