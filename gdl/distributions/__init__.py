"""Probability distributions, as ``torch.distributions`` (a small part of it).

Every distribution is built from gdl tensor ops, so gradients flow through
``log_prob``, ``rsample``, ``entropy`` and ``kl_divergence``; draws come from the
backend's seeded generator (``gdl.manual_seed``). Parameters are gdl tensors or Python
numbers, broadcast together as PyTorch does.

- :class:`Normal`, :class:`Uniform`, :class:`Exponential`, :class:`Laplace` (``rsample``);
- :class:`Bernoulli`, :class:`Categorical`, :class:`OneHotCategorical` (``probs=`` or ``logits=``);
- :class:`MultivariateNormal` (``covariance_matrix=``, ``precision_matrix=`` or ``scale_tril=``);
- :class:`Independent` (batch axes made event axes);
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

from gdl.distributions import constraints
from gdl.distributions.continuous import Exponential, Laplace, Normal, Uniform
from gdl.distributions.discrete import Bernoulli, Categorical, OneHotCategorical
from gdl.distributions.distribution import Distribution
from gdl.distributions.independent import Independent
from gdl.distributions.kl import kl_divergence, register_kl
from gdl.distributions.multivariate_normal import MultivariateNormal

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace", "MultivariateNormal",
    "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl",
]
