"""Constraints: where a distribution's parameters and values may lie, as
``torch.distributions.constraints``.

``constraint.check(value)`` is a boolean tensor, one element per event (the last
``event_dim`` axes are reduced). Distributions list them in ``arg_constraints`` (their
parameters) and ``support`` (their values); ``validate_args`` checks them.

>>> import gdl
>>> from gdl.distributions import constraints
>>> constraints.positive.check(gdl.tensor([1.0, 0.0, -2.0]))
tensor([ True, False, False], backend='numpy')
>>> constraints.simplex.check(gdl.tensor([[0.25, 0.75], [0.5, 0.6]]))
tensor([ True, False], backend='numpy')
>>> constraints.interval(0.0, 1.0)
Interval(lower_bound=0.0, upper_bound=1.0)
"""

from __future__ import annotations

import gdl

__all__ = [
    "Constraint", "MixtureSameFamilyConstraint", "boolean", "dependent", "dependent_property", "greater_than", "greater_than_eq",
    "half_open_interval", "independent", "integer_greater_than", "integer_interval", "interval", "is_dependent",
    "less_than", "lower_cholesky", "multinomial", "nonnegative", "nonnegative_integer", "one_hot", "positive",
    "positive_definite", "positive_integer", "real", "real_vector", "simplex", "unit_interval",
]


def _fmt(bound) -> str:
    """A bound as text: a number, a one-element tensor's value, else the tensor's shape."""
    if isinstance(bound, gdl.Tensor):
        return repr(bound.item()) if bound.numel() == 1 else f"<tensor of shape {bound.shape}>"
    return repr(bound)


def _all_last(b, n: int):
    """``b`` reduced with ``all`` over its last ``n`` axes."""
    return b.all(dim=tuple(range(-n, 0))) if n else b


class Constraint:
    """A region of values. ``check(value)`` is True where ``value`` lies in it (one
    element per event: ``event_dim`` trailing axes form one event)."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (never checked)."""

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    """True for a :data:`dependent` constraint (one that validation skips)."""
    return isinstance(constraint, _Dependent)


class dependent_property(property):
    """A property that is also a dependent constraint (``Uniform.support``, ...)."""

    def __init__(self, fn=None, *, is_discrete: bool = False, event_dim: int = 0):
        super().__init__(fn)
        self.is_discrete, self.event_dim = is_discrete, event_dim


class _Real(Constraint):
    def check(self, value):
        return value == value  # False only for NaN


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return gdl.logical_or(value == 0, value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        is_boolean = gdl.logical_or(value == 0, value == 1).all(dim=-1)
        return gdl.logical_and(is_boolean, value.sum(-1) == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return value > self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={_fmt(self.lower_bound)})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return value >= self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={_fmt(self.lower_bound)})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={_fmt(self.upper_bound)})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return gdl.logical_and(value >= self.lower_bound, value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Interval(lower_bound={_fmt(self.lower_bound)}, upper_bound={_fmt(self.upper_bound)})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return gdl.logical_and(_is_whole(value), super().check(value))

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={_fmt(self.lower_bound)}, upper_bound={_fmt(self.upper_bound)})"


def _is_whole(value):
    return value == value.floor() if value.dtype.is_floating_point else value == value


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return gdl.logical_and(_is_whole(value), value >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={_fmt(self.lower_bound)})"


class _HalfOpenInterval(_Interval):
    def check(self, value):
        return gdl.logical_and(value >= self.lower_bound, value < self.upper_bound)

    def __repr__(self) -> str:
        return f"HalfOpenInterval(lower_bound={_fmt(self.lower_bound)}, upper_bound={_fmt(self.upper_bound)})"


class _Multinomial(Constraint):
    """Non-negative counts over the last axis summing to at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return gdl.logical_and((value >= 0).all(dim=-1), value.sum(-1) <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Multinomial(upper_bound={_fmt(self.upper_bound)})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return gdl.logical_and((value >= 0).all(dim=-1), (value.sum(-1) - 1).abs() < 1e-6)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        lower = (value.tril() == value).all(dim=(-2, -1))
        return gdl.logical_and(lower, (value.diagonal(dim1=-2, dim2=-1) > 0).all(dim=-1))


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value):
        symmetric = gdl.isclose(value, value.mT, atol=1e-6).all(dim=(-2, -1))
        return gdl.logical_and(symmetric, gdl.linalg.eigvalsh(value).amin(-1) > 0)


class _IndependentConstraint(Constraint):
    """``base`` with ``reinterpreted_batch_ndims`` more axes counted as one event."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int):
        self.base_constraint, self.reinterpreted_batch_ndims = base_constraint, reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        return _all_last(self.base_constraint.check(value), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """The support of a :class:`~gdl.distributions.MixtureSameFamily`: ``base_constraint``
    (the components') checked with the component axis added back, then reduced over it."""

    def __init__(self, base_constraint: Constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        if value.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.ndim}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        keep = value.ndim - self.event_dim
        return result.reshape(result.shape[:keep] + (-1,)).all(dim=-1)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _RealVector(_IndependentConstraint):
    def __init__(self):
        super().__init__(_Real(), 1)

    def __repr__(self) -> str:
        return "IndependentConstraint(Real(), 1)"


dependent = _Dependent()
real = _Real()
real_vector = _RealVector()
boolean = _Boolean()
one_hot = _OneHot()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _IndependentConstraint
integer_greater_than = _IntegerGreaterThan
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
half_open_interval = _HalfOpenInterval
multinomial = _Multinomial
