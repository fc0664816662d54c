"""More of PyTorch's Tensor methods: the rest of its in-place math (``x.tan_()``,
``x.atan2_(y)``, ``x.cumsum_(0)``, ``x.eq_(y)``, ...), the comparison methods
(``pred.eq(target)``), ``x.where(cond, y)``, ``x.unfold(dim, size, step)``, its random
fills (``bernoulli_``, ``exponential_``, ``cauchy_``, ``log_normal_``, ``geometric_``,
``random_``), the in-place shape changes (``squeeze_``, ``unsqueeze_``, ``t_``, ...),
``fill_diagonal_`` and small queries (``nelement()``, ``is_floating_point()``, ...).

Every in-place method follows the rules of :mod:`gdl.functional.inplace`: the result of
the out-of-place op is cast to the tensor's dtype by PyTorch's rule and written into it,
and tensors in the autograd graph are refused while grad mode is on.

>>> import gdl
>>> pred, target = gdl.tensor([1, 2, 3]), gdl.tensor([1, 0, 3])
>>> pred.eq(target).sum().item()
2
>>> gdl.arange(5.0).unfold(0, 2, 2)
tensor([[0., 1.],
        [2., 3.]], backend='numpy')
"""

from __future__ import annotations

import math

from gdl.functional import elementwise as E
from gdl.functional import indexing as I
from gdl.functional import reduction as R
from gdl.functional import shape as S
from gdl.functional.inplace import (
    InplaceValueError,
    _apply,
    _cast_result,
    _check_writable,
    _kind,
    _random_dtype,
    _same_backend,
    _scalar_as,
    _store,
    _unary,
)
from gdl.tensor import Tensor, no_grad

# -- in-place math from the out-of-place methods ----------------------------------------------

_UNARY = {
    "acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh", "atan": "arctan",
    "atanh": "arctanh", "arccos": "arccos", "arccosh": "arccosh", "arcsin": "arcsin",
    "arcsinh": "arcsinh", "arctan": "arctan", "arctanh": "arctanh", "cosh": "cosh", "sinh": "sinh",
    "tan": "tan", "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "exp2": "2**self", "log2": "log2",
    "log10": "log10", "frac": "the fractional part", "fix": "trunc", "logit": "logit",
    "nan_to_num": "nan_to_num", "cumsum": "the cumulative sum along ``dim``",
    "cumprod": "the cumulative product along ``dim``", "tril": "the lower triangle",
    "triu": "the upper triangle", "logical_not": "logical_not",
}


def _binary(name: str, doc: str):
    """``x.name_(other, ...)``: ``x.name(other, ...)`` written into ``x``."""
    op = name + "_"

    def method(self: Tensor, other, *args, **kwargs) -> Tensor:
        return _apply(op, self, lambda: getattr(Tensor, name)(self, other, *args, **kwargs), other, *args)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"``self.{name}(other)`` ({doc}) in place; returns ``self``."
    return method


_BINARY = {
    "atan2": "the angle of (other, self)", "arctan2": "the angle of (other, self)", "hypot": "sqrt(self² + other²)",
    "fmod": "the C remainder", "remainder": "the Python remainder", "floor_divide": "floor(self / other)",
    "lerp": "self + weight·(end − self)", "xlogy": "self·log(other)", "logical_and": "logical_and",
    "logical_or": "logical_or", "logical_xor": "logical_xor", "eq": "self == other (1 or 0)",
    "ne": "self != other (1 or 0)", "lt": "self < other (1 or 0)", "le": "self <= other (1 or 0)",
    "gt": "self > other (1 or 0)", "ge": "self >= other (1 or 0)",
}


# -- comparisons and where as methods -----------------------------------------------------------


def _where(self: Tensor, condition, y) -> Tensor:
    """``self`` where ``condition`` holds, else ``y``: ``gdl.where(condition, self, y)``."""
    return E.where(condition, self, y)


# -- unfold -------------------------------------------------------------------------------------


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last
    axis (PyTorch's ``Tensor.unfold``): ``dimension`` becomes the window count
    ``(n − size) // step + 1``. Gradients add up where windows overlap.

    >>> import gdl
    >>> gdl.arange(6.0).reshape(2, 3).unfold(1, 2, 1).shape
    (2, 2, 2)
    """
    if not isinstance(self, Tensor):
        raise TypeError(f"unfold: expected a Tensor, got {type(self).__name__}")
    ndim = max(self.ndim, 1)
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not -ndim <= dimension < ndim:
        raise ValueError(f"unfold: dimension {dimension!r} is out of range for a tensor of shape {self.shape}")
    for name, value in (("size", size), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"unfold: {name} must be an int, got {value!r}")
    if step < 1:
        raise ValueError(f"unfold: step must be positive, got {step}")
    x = self.reshape(1) if self.ndim == 0 else self
    dim = dimension % ndim
    length = x.shape[dim]
    if not 0 <= size <= length:
        raise ValueError(
            f"unfold: size {size} does not fit in dimension {dimension} of length {length} (shape {self.shape})"
        )
    if self.ndim == 0:  # PyTorch: the one window of a 0-d tensor, as shape (size,)
        return x[:size]
    count = (length - size) // step + 1
    be = x._backend
    xp = be.xp
    starts = xp.arange(0, count * step, step, dtype=xp.int64, device=be.device)
    offsets = xp.arange(size, dtype=xp.int64, device=be.device)
    index = xp.reshape(starts[:, None] + offsets[None, :], (-1,))
    picked = I.index_select(x, dim, Tensor._wrap(index, be))  # (..., count·size, ...)
    shape = x.shape[:dim] + (count, size) + x.shape[dim + 1 :]
    return S.movedim(picked.reshape(shape), dim + 1, -1)


# -- random fills ---------------------------------------------------------------------------------


def _draw_uniform(op: str, self: Tensor):
    """U(0, 1) draws of ``self``'s shape in its float dtype (float64 for other dtypes), seeded."""
    be = self._backend
    dtype = self.data.dtype if self.dtype.is_floating_point and self.data.dtype in be.float_dtypes else be.xp.float64
    return be.uniform(self.shape, 0.0, 1.0, dtype=dtype)


def _fill(op: str, self: Tensor, data) -> Tensor:
    return _store(op, self, _cast_result(op, self, data))


def bernoulli_(self: Tensor, p=0.5) -> Tensor:
    """Each element set to 1 with probability ``p`` (a number or a tensor that broadcasts to
    ``self``), else 0; returns ``self``."""
    _check_writable("bernoulli_", self, p)
    be = self._backend
    xp = be.xp
    if isinstance(p, Tensor):
        _same_backend("bernoulli_", self, p)
        probs = p.data
        if not bool(xp.all((probs >= 0) & (probs <= 1))):
            raise InplaceValueError("bernoulli_: every probability in p must be in [0, 1]")
    else:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise InplaceValueError(f"bernoulli_: p must be a number in [0, 1] or a tensor, got {p!r}")
        probs = float(p)
    u = be.uniform(self.shape, 0.0, 1.0, dtype=xp.float64)
    hits = u < (xp.astype(probs, xp.float64) if isinstance(p, Tensor) else probs)
    return _store("bernoulli_", self, xp.astype(xp.broadcast_to(hits, self.shape), self.data.dtype))


def exponential_(self: Tensor, lambd: float = 1.0) -> Tensor:
    """Samples of the exponential distribution with rate ``lambd`` in place; returns ``self``."""
    _check_writable("exponential_", self)
    _random_dtype("exponential_", self)
    if not lambd > 0:
        raise InplaceValueError(f"exponential_: expects lambd > 0, got {lambd}")
    xp = self._backend.xp
    u = _draw_uniform("exponential_", self)
    return _fill("exponential_", self, -xp.log1p(-u) / float(lambd))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0) -> Tensor:
    """Samples of the Cauchy distribution ``median + sigma·tan(π(u − ½))`` in place; returns ``self``."""
    _check_writable("cauchy_", self)
    _random_dtype("cauchy_", self)
    if not sigma > 0:
        raise InplaceValueError(f"cauchy_: expects sigma > 0, got {sigma}")
    xp = self._backend.xp
    u = _draw_uniform("cauchy_", self)
    return _fill("cauchy_", self, float(median) + float(sigma) * xp.tan(math.pi * (u - 0.5)))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0) -> Tensor:
    """Samples of ``exp(N(mean, std²))`` in place (``mean``/``std`` of the underlying normal,
    PyTorch's defaults 1 and 2); returns ``self``."""
    _check_writable("log_normal_", self)
    dtype = _random_dtype("log_normal_", self)
    if not std > 0:
        raise InplaceValueError(f"log_normal_: expects std > 0, got {std}")
    be = self._backend
    return _fill("log_normal_", self, be.xp.exp(be.normal(self.shape, float(mean), float(std), dtype=dtype)))


def geometric_(self: Tensor, p: float) -> Tensor:
    """Samples of the geometric distribution (trials up to the first success, so 1, 2, ...)
    with success probability ``p`` in place; returns ``self``."""
    _check_writable("geometric_", self)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
        raise InplaceValueError(f"geometric_: expects 0 < p < 1, got {p!r}")
    xp = self._backend.xp
    u = _draw_uniform("geometric_", self)
    draws = xp.ceil(xp.log1p(-u) / math.log1p(-p))
    draws = xp.where(draws < 1, xp.ones_like(draws), draws)  # u = 0 exactly
    return _fill("geometric_", self, xp.astype(draws, self.data.dtype) if _kind(self.data.dtype) == 1 else draws)


_RANDOM_TOP = {"float16": 2**11, "float32": 2**24, "float64": 2**53, "int8": 2**7 - 1, "int16": 2**15 - 1,
               "int32": 2**31 - 1, "int64": 2**62 - 1, "uint8": 2**8 - 1, "bool": 1}


def random_(self: Tensor, from_=0, to=None, **kwargs) -> Tensor:
    """Integers drawn uniformly from ``[from, to − 1]`` in place; returns ``self``.
    ``random_(to)`` draws from ``[0, to − 1]``; ``random_()`` from ``[0, top]`` with the
    top PyTorch uses for the dtype (2**24 for float32, 2**53 for float64, the largest value
    for integers except int64, whose top here is 2**62 − 1: the backends draw from at most
    2**62 values). PyTorch's keyword ``from`` is spelled ``from_`` (``**{"from": a}`` works)."""
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"random_: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    for arg, value in (("from", from_), ("to", to)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"random_: {arg} must be an int, got {value!r}")
    _check_writable("random_", self)
    name = self.dtype.name
    if to is None and from_ != 0:  # random_(to)
        from_, to = 0, from_
    top = to - 1 if to is not None else _RANDOM_TOP[name]
    if from_ > top:
        raise InplaceValueError(f"random_: expects from < to, got from={from_}, to={to}")
    if _kind(self.data.dtype) < 2 and (top > _RANDOM_TOP[name] or (name == "uint8" and from_ < 0)):
        raise InplaceValueError(f"random_: the range [{from_}, {top}] does not fit in {name}")
    if top - from_ >= 2**62:
        raise InplaceValueError(f"random_: the range [{from_}, {top}] is too wide (at most 2**62 values)")
    be = self._backend
    xp = be.xp
    draws = be.integers(int(from_), int(top) + 1, self.shape, dtype=xp.int64)
    return _store("random_", self, xp.astype(draws, self.data.dtype))


# -- shape changes in place -------------------------------------------------------------------------


def _reshaping(name: str, doc: str):
    """``x.name_(...)``: ``x`` takes the shape (and strides) of ``x.name(...)``; the data stays."""
    op = name + "_"

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        _check_writable(op, self)
        with no_grad():
            new = getattr(Tensor, name)(self, *args, **kwargs)
        self.data = new.data
        return self

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"{doc} in place (the tensor's shape changes); returns ``self``."
    return method


# -- fill_diagonal_ ----------------------------------------------------------------------------------


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """The main diagonal set to ``fill_value`` in place; returns ``self``. A tensor of more
    than 2 dimensions must have them all equal (its diagonal is ``x[i, i, ..., i]``). For a
    tall matrix, ``wrap=True`` starts the diagonal again every ``cols + 1`` rows, as PyTorch.

    >>> import gdl
    >>> gdl.zeros(3, 3).fill_diagonal_(5.0)
    tensor([[5., 0., 0.],
            [0., 5., 0.],
            [0., 0., 5.]], backend='numpy')
    """
    _check_writable("fill_diagonal_", self)
    shape = self.shape
    if len(shape) < 2:
        raise InplaceValueError(f"fill_diagonal_: needs a tensor of at least 2 dimensions, got shape {shape}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise InplaceValueError(f"fill_diagonal_: all dimensions of a tensor beyond 2-D must be equal, got shape {shape}")
    be = self._backend
    xp = be.xp
    rows, cols = shape[0], shape[-1]
    total = math.prod(shape)
    if len(shape) == 2:
        step = cols + 1
        end = total if wrap else min(rows, cols) * cols
    else:
        step = sum(cols**k for k in range(len(shape)))
        end = total
    flat = xp.arange(total, dtype=xp.int64, device=be.device)
    on = xp.reshape((flat % step == 0) & (flat < end), shape)
    value = _scalar_as(self.data.dtype, fill_value)
    filled = xp.where(on, xp.asarray(value, dtype=self.data.dtype, device=be.device), self.data)
    return _store("fill_diagonal_", self, filled)


# -- queries --------------------------------------------------------------------------------------


def nelement(self: Tensor) -> int:
    """The number of elements (PyTorch's older name of ``numel()``)."""
    return math.prod(self.shape)


def ndimension(self: Tensor) -> int:
    """The number of dimensions (PyTorch's older name of ``dim()``)."""
    return self.ndim


def is_floating_point(self: Tensor) -> bool:
    """Whether the dtype is a floating-point one."""
    return self.dtype.is_floating_point


def is_complex(self: Tensor) -> bool:
    """Whether the dtype is complex: never in gdl, which has no complex dtypes."""
    return False


def is_signed(self: Tensor) -> bool:
    """Whether the dtype can hold negative values (False for bool and uint8)."""
    return self.dtype.name not in ("bool", "uint8")


def sum_to_size(self: Tensor, *size) -> Tensor:
    """The sum of ``self`` down to ``size``, a shape it broadcasts from (as PyTorch's
    ``sum_to_size``): what an op's backward does to un-broadcast a gradient.

    >>> import gdl
    >>> gdl.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]], backend='numpy')
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(size)
    shape = self.shape
    lead = len(shape) - len(size)
    ok = lead >= 0 and all(s in (1, n) for s, n in zip(size, shape[lead:]))
    if not ok:
        raise ValueError(f"sum_to_size: size {size} is not expandable to the tensor's shape {shape}")
    out = R.sum(self, axis=tuple(range(lead))) if lead else self
    axes = tuple(i for i, (s, n) in enumerate(zip(size, out.shape)) if s == 1 and n != 1)
    return R.sum(out, axis=axes, keepdims=True) if axes else out


def _conj_transpose(self: Tensor) -> Tensor:
    return S.transpose(self, -2, -1)


def _adjoint_2d(self: Tensor) -> Tensor:
    if self.ndim not in (0, 2):
        raise ValueError(f"H: expects a matrix or a 0-d tensor, got shape {self.shape}; use mH for batches")
    return self if self.ndim == 0 else S.transpose(self, 0, 1)


def _is_cpu(self: Tensor) -> bool:
    return self.device.type == "cpu"


TENSOR_METHODS: dict = {
    **{name + "_": _unary(name, f"``{what}``") for name, what in _UNARY.items()},
    **{name + "_": _binary(name, what) for name, what in _BINARY.items()},
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge, "where": _where,
    "unfold": unfold,
    "bernoulli_": bernoulli_, "exponential_": exponential_, "cauchy_": cauchy_, "log_normal_": log_normal_,
    "geometric_": geometric_, "random_": random_,
    "squeeze_": _reshaping("squeeze", "``squeeze``"), "unsqueeze_": _reshaping("unsqueeze", "``unsqueeze``"),
    "transpose_": _reshaping("transpose", "``transpose``"), "swapaxes_": _reshaping("swapaxes", "``swapaxes``"),
    "swapdims_": _reshaping("swapdims", "``swapdims``"), "t_": _reshaping("t", "``t``"),
    "fill_diagonal_": fill_diagonal_,
    "nelement": nelement, "ndimension": ndimension, "is_floating_point": is_floating_point,
    "is_complex": is_complex, "is_signed": is_signed, "sum_to_size": sum_to_size,
    "mH": property(_conj_transpose), "H": property(_adjoint_2d), "is_cpu": property(_is_cpu),
}

__all__: list = []  # methods only; the functions are gdl's existing ops
