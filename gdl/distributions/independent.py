"""``Independent``, as ``torch.distributions.Independent``: reinterprets the rightmost
``reinterpreted_batch_ndims`` batch axes of a distribution as event axes, so
``log_prob`` and ``entropy`` sum over them (a diagonal normal over vectors, say).

>>> import gdl
>>> from gdl.distributions import Independent, Normal
>>> d = Independent(Normal(gdl.zeros(3, 2), 1.0), 1)
>>> d.batch_shape, d.event_shape, d.log_prob(gdl.zeros(3, 2)).shape
((3,), (2,), (3,))
"""

from __future__ import annotations

from gdl.distributions import constraints
from gdl.distributions.distribution import Distribution, sum_rightmost

__all__ = ["Independent"]


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch axes made
    event axes."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        r = reinterpreted_batch_ndims
        if isinstance(r, bool) or not isinstance(r, int) or r < 0:
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be an int >= 0, got {r!r}")
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = r + len(base_distribution.event_shape)
        if r > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                             f"actual {r} vs {len(base_distribution.batch_shape)}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = r
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        from gdl.distributions.distribution import as_shape

        batch_shape = as_shape(batch_shape, "batch_shape")
        new = type(self).__new__(type(self))
        r = self.reinterpreted_batch_ndims
        new.base_dist = self.base_dist.expand(batch_shape + self._event_shape[:r])
        new.reinterpreted_batch_ndims = r
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:
        return False if self.reinterpreted_batch_ndims > 0 else self.base_dist.has_enumerate_support

    @property
    def support(self):
        s = self.base_dist.support
        return constraints.independent(s, self.reinterpreted_batch_ndims) if self.reinterpreted_batch_ndims else s

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
