"""Bijections for :class:`~gdl.distributions.TransformedDistribution`, as
``torch.distributions.transforms``: ``t(x)``, ``t.inv(y)``, ``t.log_abs_det_jacobian(x, y)``,
``t.sign`` and the ``domain`` / ``codomain`` constraints.

>>> import gdl
>>> from gdl.distributions.transforms import AffineTransform, ExpTransform, ComposeTransform
>>> t = ComposeTransform([AffineTransform(1.0, 2.0), ExpTransform()])
>>> x = gdl.tensor([0.0, 1.0])
>>> t.log_abs_det_jacobian(x, t(x))
tensor([1.6931472, 3.6931472], backend='numpy')
>>> t.sign, t.codomain
(1, GreaterThan(lower_bound=0.0))
"""

from __future__ import annotations

import math

import gdl
from gdl.distributions import constraints
from gdl.distributions.distribution import broadcast_shapes, clamp_probs, finfo, sum_rightmost
from gdl.tensor import Tensor

__all__ = [
    "AbsTransform", "AffineTransform", "ComposeTransform", "ExpTransform", "PowerTransform", "SigmoidTransform",
    "SoftmaxTransform", "TanhTransform", "Transform", "identity_transform",
]


def _softplus(x: Tensor) -> Tensor:
    return gdl.nn.functional.softplus(x)


def _same(a, b) -> bool:
    """Whether two transform parameters (numbers or tensors) are equal everywhere."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        try:
            with gdl.no_grad():
                return bool((a == b).all().item())
        except (ValueError, TypeError):
            return False
    return a == b


class _TypeEq:
    """Equality by type (for the transforms without parameters)."""

    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = object.__hash__


class Transform:
    """An invertible (where ``bijective``) map ``y = t(x)`` from ``domain`` to ``codomain``."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    @property
    def event_dim(self) -> int:
        return max(self.domain.event_dim, self.codomain.event_dim)

    @property
    def inv(self) -> Transform:
        """The inverse transform (``t.inv.inv is t``)."""
        return _InverseTransform(self)

    @property
    def sign(self):
        """+1 or -1: whether the (univariate, bijective) map increases or decreases."""
        raise NotImplementedError(f"{type(self).__name__} has no sign")

    def __call__(self, x: Tensor) -> Tensor:
        return self._call(x)

    def _call(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} does not implement inverse")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``log |dy/dx|`` (summed over the event axes)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_abs_det_jacobian")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def forward_shape(self, shape) -> tuple:
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        return tuple(shape)

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform: Transform):
        self._inv = transform

    bijective = property(lambda self: self._inv.bijective)
    domain = property(lambda self: self._inv.codomain)
    codomain = property(lambda self: self._inv.domain)
    sign = property(lambda self: self._inv.sign)

    @property
    def inv(self):
        return self._inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def _call(self, x):
        return self._inv._inverse(x)

    def _inverse(self, y):
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def __repr__(self) -> str:
        return f"{self._inv!r}.inv"


class ComposeTransform(Transform):
    """``parts`` applied in order (``parts[0]`` first)."""

    def __init__(self, parts):
        parts = list(parts)
        for p in parts:
            if not isinstance(p, Transform):
                raise TypeError(f"ComposeTransform: parts must be Transforms, got {type(p).__name__}")
        self.parts = parts

    @property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
        return constraints.independent(domain, event_dim - domain.event_dim) if event_dim > domain.event_dim else domain

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            return constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def inv(self):
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return gdl.zeros_like(x)
        xs = [x]
        for p in self.parts[:-1]:
            xs.append(p(xs[-1]))
        xs.append(y)
        total, event_dim = 0.0, self.domain.event_dim
        for p, a, b in zip(self.parts, xs[:-1], xs[1:]):
            total = total + sum_rightmost(p.log_abs_det_jacobian(a, b), event_dim - p.domain.event_dim)
            event_dim += p.codomain.event_dim - p.domain.event_dim
        return total

    def __repr__(self) -> str:
        return f"ComposeTransform([{', '.join(repr(p) for p in self.parts)}])"


identity_transform = ComposeTransform([])


class ExpTransform(_TypeEq, Transform):
    """``y = exp(x)``."""

    bijective, sign = True, 1
    domain, codomain = constraints.real, constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """``y = loc + scale * x`` (``event_dim`` trailing axes form one event)."""

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0):
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def domain(self):
        return constraints.real if self._event_dim == 0 else constraints.independent(constraints.real, self._event_dim)

    codomain = domain

    @property
    def sign(self):
        if isinstance(self.scale, (int, float)):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def __eq__(self, other):
        return (isinstance(other, AffineTransform) and _same(self.loc, other.loc) and _same(self.scale, other.scale)
                and self._event_dim == other._event_dim)

    __hash__ = object.__hash__

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        if isinstance(self.scale, (int, float)):
            result = gdl.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
            result = gdl.broadcast_to(result, broadcast_shapes(result.shape, x.shape))
        return sum_rightmost(result, self._event_dim)

    def __repr__(self) -> str:
        return "AffineTransform()"


class SigmoidTransform(_TypeEq, Transform):
    """``y = sigmoid(x)`` (clamped into ``[eps, 1 - eps]``)."""

    bijective, sign = True, 1
    domain, codomain = constraints.real, constraints.unit_interval

    def _call(self, x):
        return clamp_probs(x.sigmoid())

    def _inverse(self, y):
        eps = float(finfo(y).eps)
        y = y.clamp(min=eps, max=1 - eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x) - _softplus(x)


class TanhTransform(_TypeEq, Transform):
    """``y = tanh(x)``."""

    bijective, sign = True, 1
    domain, codomain = constraints.real, constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * (y.log1p() - (-y).log1p())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - _softplus(-2.0 * x))


class SoftmaxTransform(_TypeEq, Transform):
    """``y = softmax(x)`` over the last axis (not bijective: ``inv`` is ``log``)."""

    domain, codomain = constraints.real_vector, constraints.simplex

    def _call(self, x):
        probs = (x - x.amax(dim=-1, keepdim=True)).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()


class PowerTransform(Transform):
    """``y = x ** exponent`` on the positive reals."""

    bijective = True
    domain, codomain = constraints.positive, constraints.positive

    def __init__(self, exponent):
        self.exponent = exponent

    @property
    def sign(self):
        e = self.exponent
        return (1 if e > 0 else -1 if e < 0 else 0) if isinstance(e, (int, float)) else e.sign()

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and _same(self.exponent, other.exponent)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()


class AbsTransform(_TypeEq, Transform):
    """``y = |x|`` (not bijective: ``inv`` is the identity on the positive half)."""

    domain, codomain = constraints.real, constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y
