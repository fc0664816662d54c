"""``MixtureSameFamily``, as ``torch.distributions``': a :class:`Categorical` choice among
``K`` components of one distribution family batched over its last batch axis.

>>> import gdl
>>> from gdl.distributions import Categorical, MixtureSameFamily, Normal
>>> mix = MixtureSameFamily(Categorical(probs=gdl.tensor([0.5, 0.5])), Normal(gdl.tensor([-1.0, 1.0]), 1.0))
>>> mix.mean, mix.variance, mix.batch_shape
(tensor(0., backend='numpy'), tensor(2., backend='numpy'), ())
"""

from __future__ import annotations

import gdl
from gdl.distributions import constraints
from gdl.distributions.discrete import Categorical
from gdl.distributions.distribution import Distribution, as_shape
from gdl.nn.functional import one_hot

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """The mixture with weights ``mixture_distribution`` (a Categorical over ``K``) of the
    components ``component_distribution`` (batch shape ``batch_shape + (K,)``). No rsample."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of torch.distributions.Distribution")
        mdbs = mixture_distribution.batch_shape
        if len(component_distribution.batch_shape) < 1:
            raise ValueError("`component_distribution.batch_shape` must have at least one axis (the components)")
        cdbs = component_distribution.batch_shape[:-1]
        for a, b in zip(reversed(mdbs), reversed(cdbs)):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible with "
                                 f"`component_distribution.batch_shape`({cdbs})")
        km, kc = mixture_distribution.param_shape[-1], component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = as_shape(batch_shape, "batch_shape")
        return MixtureSameFamily(self._mixture_distribution.expand(batch_shape),
                                 self._component_distribution.expand(batch_shape + (self._num_component,)),
                                 validate_args=False)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        pad = max(0, len(self._batch_shape) - len(self._mixture_distribution.batch_shape))
        return x.reshape(x.shape[:-1] + (1,) * pad + x.shape[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        dim = -1 - self._event_ndims
        comp = self._component_distribution
        mean_cond_var = (probs * comp.variance).sum(dim)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)).pow(2)).sum(dim)
        return mean_cond_var + var_cond_mean

    def cdf(self, x):
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix = gdl.log_softmax(self._mixture_distribution.logits, dim=-1)
        return (log_prob_x + log_mix).logsumexp(dim=-1)

    def sample(self, sample_shape=()):
        with gdl.no_grad():
            sample_shape = as_shape(sample_shape)
            gather_dim = len(sample_shape) + len(self._batch_shape)
            mix = self._mixture_distribution.sample(sample_shape)  # sample_shape + mixture batch
            comp = self._component_distribution.sample(sample_shape)  # sample_shape + batch + (K,) + event
            mask = one_hot(mix, self._num_component) == 1  # sample_shape + mixture batch + (K,)
            pad = len(self._batch_shape) - len(self._mixture_distribution.batch_shape)
            n = len(sample_shape)
            mask = mask.reshape(mask.shape[:n] + (1,) * pad + mask.shape[n:] + (1,) * self._event_ndims)
            return gdl.where(mask, comp, 0.0).sum(gather_dim)

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  {self._component_distribution!r})")
