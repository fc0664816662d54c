"""``MultivariateNormal``, as ``torch.distributions.MultivariateNormal``: a normal
distribution over vectors, given by its mean ``loc`` and exactly one of
``covariance_matrix``, ``precision_matrix`` or ``scale_tril`` (the lower Cholesky factor
``L`` of the covariance, ``Σ = L Lᵀ``). Everything is computed from ``L`` with
``gdl.linalg.cholesky`` and ``gdl.linalg.solve_triangular``, so gradients flow to each parameter.

>>> import gdl
>>> from gdl.distributions import MultivariateNormal
>>> d = MultivariateNormal(gdl.zeros(2), covariance_matrix=gdl.tensor([[4.0, 0.0], [0.0, 1.0]]))
>>> d.batch_shape, d.event_shape, d.variance
((), (2,), tensor([4., 1.], backend='numpy'))
>>> d.log_prob(gdl.zeros(2))
tensor(-2.5310242, backend='numpy')
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import Distribution, broadcast_shapes, lazy_property
from gdl.tensor import Tensor

__all__ = ["MultivariateNormal"]


def _batch_mv(mat: Tensor, vec: Tensor) -> Tensor:
    """``mat @ vec`` over broadcast batch axes (``vec`` a batch of vectors)."""
    return (mat @ vec.unsqueeze(-1)).squeeze(-1)


def _tril_solve(L: Tensor, b: Tensor) -> Tensor:
    """``L⁻¹ b`` for a batch of matrices ``b`` (``L`` and ``b`` broadcast over batch axes). Only
    ``L``'s lower triangle is read (its upper one gets no gradient): a triangular solve."""
    return gdl.linalg.solve_triangular(L, b, upper=False)


def _batch_mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """``xᵀ (L Lᵀ)⁻¹ x`` over broadcast batch axes: the squared norm of ``L⁻¹ x``."""
    return _tril_solve(L, x.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def _half_log_det(L: Tensor) -> Tensor:
    """``log det(L)`` = half the log-determinant of ``L Lᵀ``."""
    return L.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _matrix(name: str, v) -> Tensor:
    if not isinstance(v, Tensor):
        raise TypeError(f"MultivariateNormal: {name} must be a Tensor, got {type(v).__name__}")
    if not v.dtype.is_floating_point:
        raise TypeError(f"MultivariateNormal: {name} must be a floating tensor, got dtype {v.dtype.name}")
    if v.ndim < 2 or v.shape[-1] != v.shape[-2]:
        raise ValueError(f"{name} matrix must be at least two-dimensional, with optional leading batch "
                         f"dimensions (and square: got shape {v.shape})")
    return v


class MultivariateNormal(Distribution):
    """A normal distribution over vectors of length ``n`` (``event_shape == (n,)``).

    >>> import gdl
    >>> from gdl.distributions import MultivariateNormal
    >>> L = gdl.tensor([[1.0, 0.0], [0.5, 2.0]])
    >>> d = MultivariateNormal(gdl.zeros(3, 2), scale_tril=L)
    >>> d.batch_shape, d.rsample((4,)).shape, d.covariance_matrix[0]
    ((3,), (4, 3, 2), tensor([[1.  , 0.5 ],
            [0.5 , 4.25]], backend='numpy'))
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True
    _expand_params = {"loc": 1, "covariance_matrix": 2, "precision_matrix": 2, "scale_tril": 2}

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a Tensor, got {type(loc).__name__}")
        if not loc.dtype.is_floating_point:
            raise TypeError(f"MultivariateNormal: loc must be a floating tensor, got dtype {loc.dtype.name}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(k, v) for k, v in (("covariance_matrix", covariance_matrix), ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        matrix = _matrix(name, matrix)
        if matrix.backend != loc.backend:
            raise ValueError(f"MultivariateNormal: loc is on {loc.backend} and {name} on {matrix.backend}; "
                             f"move them to one backend with .to(backend)")
        n = loc.shape[-1]
        if matrix.shape[-1] != n:
            raise ValueError(f"MultivariateNormal: loc of shape {loc.shape} has {n} components but {name} has "
                             f"shape {matrix.shape}")
        try:
            batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        except ValueError:
            raise ValueError(f"MultivariateNormal: the batch shapes of loc {loc.shape} and {name} {matrix.shape} "
                             f"do not broadcast") from None
        self.__dict__[name] = gdl.broadcast_to(matrix, batch_shape + (n, n))
        self.loc = gdl.broadcast_to(loc, batch_shape + (n,))
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = gdl.linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = gdl.linalg.cholesky(gdl.linalg.inv(matrix))

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _full(self, matrix: Tensor) -> Tensor:
        return gdl.broadcast_to(matrix, self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        eye = gdl.eye(L.shape[-1], dtype=L.dtype, backend=L.backend)
        L_inv = _tril_solve(L, eye)
        return self._full(L_inv.mT @ L_inv)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return gdl.broadcast_to(self._unbroadcasted_scale_tril.pow(2).sum(-1), self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        eps = gdl.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype, backend=self.loc.backend)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - _half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + _half_log_det(self._unbroadcasted_scale_tril)
        return h if h.shape == self._batch_shape else gdl.broadcast_to(h, self._batch_shape)
