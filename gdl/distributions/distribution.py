"""The ``Distribution`` base class and the helpers the distributions share, as
``torch.distributions.Distribution``.

A distribution has a ``batch_shape`` (independent, differently-parameterised copies)
and an ``event_shape`` (the shape of one draw). ``sample(sample_shape)`` returns
``sample_shape + batch_shape + event_shape`` without a graph; ``rsample`` (where
``has_rsample``) returns a draw that gradients flow through (the reparameterisation
trick). ``log_prob(value)`` has shape ``sample_shape + batch_shape``.

With ``validate_args`` (on by default, as PyTorch's under ``__debug__``), the
parameters are checked against ``arg_constraints`` and ``log_prob``'s value against
``support``; a violation is a ValueError naming the parameter, the constraint and the
distribution.

>>> import gdl
>>> from gdl.distributions import Normal
>>> d = Normal(gdl.zeros(3), 1.0)
>>> d.batch_shape, d.event_shape, d.sample((2,)).shape
((3,), (), (2, 3))
>>> Normal(0.0, -1.0)
Traceback (most recent call last):
...
ValueError: Expected parameter scale (Tensor of shape ()) of distribution Normal(loc: 0.0, scale: -1.0) to satisfy the constraint GreaterThan(lower_bound=0.0), but found invalid values:
-1.0
"""

from __future__ import annotations

from functools import cached_property

import gdl
from gdl.distributions import constraints
from gdl.tensor import Tensor

__all__ = ["Distribution", "lazy_property"]


# -- helpers ---------------------------------------------------------------------------------


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def broadcast_shapes(*shapes) -> tuple:
    """The broadcast of ``shapes`` (ValueError naming them when they do not broadcast)."""
    out = []
    for i in range(max((len(s) for s in shapes), default=0)):
        sizes = {s[len(s) - 1 - i] for s in shapes if i < len(s)} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


def broadcast_all(owner: str, **values) -> list:
    """The parameters ``values`` (floating tensors or Python numbers) as tensors broadcast
    to one shape, as ``torch.distributions.utils.broadcast_all``: numbers take the first
    tensor's dtype and backend (the default float and backend when all are numbers)."""
    tensors = [v for v in values.values() if isinstance(v, Tensor)]
    for name, v in values.items():
        if isinstance(v, Tensor):
            if not v.dtype.is_floating_point:
                raise TypeError(f"{owner}: {name} must be a floating tensor or a Python number, got dtype "
                                f"{v.dtype.name} (convert it, e.g. x.float())")
        elif not _is_number(v):
            raise TypeError(f"{owner}: {name} must be a Tensor or a Python number, got {type(v).__name__}")
    backends = {t.backend for t in tensors}
    if len(backends) > 1:
        raise ValueError(f"{owner}: the parameters live on different backends ({', '.join(sorted(backends))}); "
                         f"move them to one with .to(backend)")
    like = tensors[0] if tensors else None
    dtype, backend = (like.dtype, like.backend) if like is not None else (None, None)
    out = [v if isinstance(v, Tensor) else gdl.tensor(float(v), dtype=dtype, backend=backend)
           for v in values.values()]
    try:
        shape = broadcast_shapes(*(t.shape for t in out))
    except ValueError:
        shapes = ", ".join(f"{n} of shape {t.shape}" for n, t in zip(values, out))
        raise ValueError(f"{owner}: the parameters do not broadcast ({shapes})") from None
    return [t if t.shape == shape else gdl.broadcast_to(t, shape) for t in out]


def sum_rightmost(x: Tensor, n: int) -> Tensor:
    """``x`` summed over its last ``n`` axes."""
    return x.sum(dim=tuple(range(-n, 0))) if n > 0 else x


def as_shape(sample_shape, what: str = "sample_shape") -> tuple:
    """``sample_shape`` (a tuple, list or int) as a tuple of non-negative ints."""
    shape = (sample_shape,) if isinstance(sample_shape, int) and not isinstance(sample_shape, bool) else sample_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{what} must be a tuple of ints, got {sample_shape!r}") from None
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shape):
        raise ValueError(f"{what} must be a tuple of non-negative ints, got {sample_shape!r}")
    return shape


def finfo(t: Tensor):
    """The floating-point limits (``eps``, ``min``, ``tiny``) of ``t``'s dtype."""
    return t._backend.xp.finfo(t.data.dtype)


def tiny(t: Tensor) -> float:
    """The smallest positive normal number of ``t``'s dtype (``finfo.tiny``, the Array API's
    ``smallest_normal``)."""
    f = finfo(t)
    return float(getattr(f, "smallest_normal", None) or f.tiny)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped into ``[eps, 1 - eps]`` (so their logarithms are finite)."""
    eps = float(finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (``is_binary``) or log-probabilities of ``probs``, as PyTorch's."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """``sigmoid(logits)`` (``is_binary``) or ``softmax(logits, -1)``, as PyTorch's."""
    return logits.sigmoid() if is_binary else gdl.softmax(logits, dim=-1)


class lazy_property(cached_property):
    """A parameter computed from another on first use and then kept (``Bernoulli.logits``
    from ``probs``, ...), as PyTorch's: it is computed with gradients on, so a first use
    under ``no_grad`` (in ``sample``) does not keep a value cut from the graph."""

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with gdl.enable_grad():
            return super().__get__(instance, owner)


# -- the base class --------------------------------------------------------------------------


class Distribution:
    """The base class: subclasses set ``arg_constraints`` and ``support`` and define
    ``log_prob`` (and ``rsample``, ``entropy``, ``mean``, ... where they exist)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints: dict = {}
    #: parameter name -> its number of event axes (what ``expand`` broadcasts)
    _expand_params: dict = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for distributions made afterwards."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = as_shape(batch_shape, "batch_shape")
        self._event_shape = as_shape(event_shape, "event_shape")
        if validate_args is not None:
            self._validate_args = bool(validate_args)
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None), cached_property):
                continue  # a lazily computed parameter that was not given
            value = getattr(self, param)
            with gdl.no_grad():
                valid = constraint.check(value.detach())
                ok = bool(valid.all().item())
            if not ok:
                raise ValueError(
                    f"Expected parameter {param} (Tensor of shape {value.shape}) of distribution {self!r} to "
                    f"satisfy the constraint {constraint!r}, but found invalid values:\n{_values(value)}"
                )

    # -- shapes ---------------------------------------------------------------------------
    @property
    def batch_shape(self) -> tuple:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        """The shape of a single draw."""
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return as_shape(sample_shape) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None):
        """A new distribution with its parameters broadcast to ``batch_shape``."""
        batch_shape = as_shape(batch_shape, "batch_shape")
        new = _instance if _instance is not None else type(self).__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if not isinstance(v, Tensor)})
        n = len(self._batch_shape)
        for name in self._expand_params:
            if name in self.__dict__:
                v = self.__dict__[name]
                new.__dict__[name] = gdl.broadcast_to(v, batch_shape + v.shape[n:])
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    # -- sampling -------------------------------------------------------------------------
    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, without a graph."""
        with gdl.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterised draw (gradients flow to the parameters)."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False); use sample")

    # -- densities and moments ------------------------------------------------------------
    def log_prob(self, value: Tensor) -> Tensor:
        """The log of the density (or mass) at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self) -> Tensor:
        """The entropy, one value per batch element (shape ``batch_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self) -> Tensor:
        """``exp(entropy())``."""
        return self.entropy().exp()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    @property
    def support(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement support")

    # -- validation -----------------------------------------------------------------------
    def _validate_sample(self, value) -> None:
        """ValueError unless ``value`` is a Tensor that broadcasts with ``batch_shape +
        event_shape`` and lies in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape = value.shape
        start = len(shape) - len(self._event_shape)
        if start < 0 or shape[start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {shape} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {shape} vs {expected}.")
        support = self.support
        with gdl.no_grad():
            ok = bool(support.check(value.detach()).all().item())
        if not ok:
            raise ValueError(
                f"Expected value argument (Tensor of shape {shape}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{_values(value)}"
            )

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {_brief(self.__dict__[k])}" for k in names)
        return f"{type(self).__name__}({args})"


def _brief(t: Tensor) -> str:
    return repr(t.item()) if t.numel() == 1 else str(t.shape)


def _values(t: Tensor) -> str:
    return repr(t.item()) if t.ndim == 0 else repr(t.detach())
