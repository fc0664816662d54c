"""PyTorch's in-place Tensor methods (``x.zero_()``, ``x.add_(y)``, ``w.uniform_(-a, a)``, ...)
and its small conveniences that make new tensors (``x.new_zeros(2, 3)``, ``x.type_as(y)``,
``x.half()``, ``x.nbytes``, ...).

**What "in place" means in gdl.** An in-place method computes its result with the
ordinary op, casts it to the tensor's dtype and writes it into ``x.data`` with
``x.data[...] = result``, then returns ``x`` itself. Where the backend lets arrays share
memory (NumPy, CuPy, array_api_strict), tensors that share it with ``x`` see the change,
as in PyTorch: ``x.detach()``, and the views a backend makes (``x.reshape(...)``,
``x.T``, basic slices). Where the array cannot be written (a read-only broadcast view
from ``x.expand(...)``, a 0-d NumPy scalar left by a reduction, or a library whose arrays
are immutable), gdl rebinds ``x.data`` to a new array holding the result: ``x`` changes,
other tensors do not (PyTorch refuses in-place writes into expanded tensors instead).

**Autograd.** As ``x[i] = v``, an in-place method refuses a tensor that requires grad
while grad mode is on: gdl does no in-place changes to tensors in the autograd graph
(their saved values would make backward wrong). Under ``gdl.no_grad()`` it is allowed,
e.g. to initialise a parameter. An operand that requires grad is refused as well (the
result would have to join the graph; PyTorch records it, gdl asks for the out-of-place op).
gdl keeps no version counters: writing into a tensor that an op has already saved for
its backward (an input ``x`` of ``y = w * x``) changes that backward, silently.

**Dtypes** follow PyTorch: the result of the op (promoted as the out-of-place op does)
must be castable to the tensor's dtype without changing kind: float to integer or bool,
and integer to bool, are refused (``int_tensor.add_(1.5)``, ``int_tensor.sqrt_()``,
``bool_tensor.add_(1)``) with an :class:`InplaceCastError`, which is both a ``TypeError``
(gdl's habit) and a ``RuntimeError`` (PyTorch's). ``fill_``, ``masked_fill_`` and
``copy_`` convert their value as PyTorch does (``int_tensor.fill_(1.7)`` writes 1).
An operand whose shape would grow the tensor (``x.add_(y)`` with ``x`` of shape (3,)
and ``y`` of shape (2, 3)) raises :class:`InplaceValueError`, a ``ValueError`` and a
``RuntimeError`` (as do bad argument values: ``clamp_()`` without bounds, ``normal_(0, -1)``).

>>> import gdl
>>> x = gdl.zeros(2, 3)
>>> x.add_(gdl.tensor([1.0, 2.0, 3.0]), alpha=2) is x
True
>>> x
tensor([[2., 4., 6.],
        [2., 4., 6.]], backend='numpy')
>>> w = gdl.nn.Parameter(gdl.zeros(3))
>>> with gdl.no_grad():
...     _ = w.fill_(0.5)
>>> w
Parameter containing:
tensor([0.5, 0.5, 0.5], backend='numpy', requires_grad=True)
"""

from __future__ import annotations

from gdl import dtypes
from gdl.functional._util import as_operand
from gdl.tensor import Tensor, is_grad_enabled, no_grad
from gdl.tensor import empty as _empty
from gdl.tensor import full as _full
from gdl.tensor import ones as _ones
from gdl.tensor import tensor as _tensor
from gdl.tensor import zeros as _zeros


class InplaceCastError(TypeError, RuntimeError):
    """An in-place op whose result cannot be cast to the tensor's dtype (PyTorch raises a
    RuntimeError, gdl's dtype errors are TypeErrors: this is both)."""


class InplaceValueError(ValueError, RuntimeError):
    """An in-place op whose result would not have the tensor's shape, or a bad argument value
    (``clamp_()`` without bounds, ``uniform_(1, 0)``): a ValueError in gdl's habit, a
    RuntimeError in PyTorch's; this is both."""


# -- the shared steps: check, compute, cast, store --------------------------------------------


def _kind(dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating dtypes."""
    d = dtypes.as_dtype(dtype)
    return 2 if d.is_floating_point else 0 if d.name == "bool" else 1


def _check_writable(op: str, self: Tensor, *operands) -> None:
    if not isinstance(self, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(self).__name__}")
    if not is_grad_enabled():
        return
    if self.requires_grad:
        raise RuntimeError(
            f"{op}: cannot change in place a tensor that requires grad (shape {self.shape}); "
            f"gdl refuses in-place changes to tensors in the autograd graph. Run it under "
            f"`with gdl.no_grad():` (e.g. to initialise a parameter), or use the out-of-place "
            f"op, which builds a new tensor (y = x.{op.rstrip('_')}(...))"
        )
    for other in operands:
        if isinstance(other, Tensor) and other.requires_grad:
            raise RuntimeError(
                f"{op}: an operand requires grad, so the result would have to join the autograd "
                f"graph; gdl refuses in-place changes there. Use the out-of-place op "
                f"(y = x.{op.rstrip('_')}(...)), or run it under `with gdl.no_grad():` if no "
                f"gradient should flow"
            )


def _same_backend(op: str, self: Tensor, other: Tensor) -> None:
    if other._backend is not self._backend:
        raise ValueError(
            f"{op}: tensors are on different backends ({self.backend!r} and {other.backend!r}); "
            f"gdl moves nothing implicitly: pass other.to({self.backend!r})"
        )


def _cast_result(op: str, self: Tensor, data):
    """``data`` (an op's result) as ``self``'s dtype, by PyTorch's in-place casting rule."""
    want = self.data.dtype
    if data.dtype == want:
        return data
    if _kind(data.dtype) > _kind(want):
        raise InplaceCastError(
            f"{op}: result type {dtypes.as_dtype(data.dtype).name} can't be cast to the tensor's "
            f"dtype {dtypes.as_dtype(want).name}; an in-place op keeps the dtype. Use the "
            f"out-of-place op (y = x.{op.rstrip('_')}(...)), or convert first (x = x.float())"
        )
    return self._backend.xp.astype(data, want)


def _store(op: str, self: Tensor, data) -> Tensor:
    """Write ``data`` (an array of ``self``'s dtype, or a Python scalar) into ``self``."""
    if not isinstance(data, (bool, int, float)) and tuple(data.shape) != self.shape:
        raise InplaceValueError(
            f"{op}: the result has shape {tuple(data.shape)}, but an in-place op cannot change the "
            f"tensor's shape {self.shape} (the operand must broadcast to it)"
        )
    try:
        self.data[...] = data
    except (TypeError, ValueError):  # a read-only or immutable array: rebind to a new one
        be = self._backend
        xp = be.xp
        if isinstance(data, (bool, int, float)):
            self.data = xp.full(self.shape, data, dtype=self.data.dtype, device=be.device)
        else:
            self.data = xp.asarray(data, copy=True)
    return self


def _scalar_as(dtype, value):
    """A Python number converted as PyTorch converts a fill value: truncated toward zero
    for integer dtypes, nonzero-is-True for bool."""
    if isinstance(value, Tensor):
        value = value.item()
    kind = _kind(dtype)
    if kind == 2:
        return float(value)
    if kind == 1:
        return int(value)
    return bool(value)


def _apply(op: str, self: Tensor, fn, *operands) -> Tensor:
    """The shared body: refuse if needed, run ``fn`` without a graph, cast, store."""
    _check_writable(op, self, *operands)
    for other in operands:
        if isinstance(other, Tensor):
            _same_backend(op, self, other)
    with no_grad():
        out = fn()
    return _store(op, self, _cast_result(op, self, out.data))


def _is_bool(x) -> bool:
    return isinstance(x, bool) or (isinstance(x, Tensor) and _kind(x.data.dtype) == 0)


def _arith(op: str, self: Tensor, other, fn, bool_fn=None) -> Tensor:
    """An arithmetic in-place op, with PyTorch's rules for bools that the Array API lacks: a
    Python bool beside a number tensor counts as 0/1; on a bool tensor, ``add_``/``mul_`` with
    a bool are ``logical_or``/``logical_and`` and any other operand is refused (the result
    would be a number)."""
    if isinstance(self, Tensor) and _kind(self.data.dtype) == 0:
        if bool_fn is None or not _is_bool(other):
            kind = "float32" if op == "div_" or isinstance(other, float) else "a number dtype"
            raise InplaceCastError(f"{op}: result type {kind} can't be cast to the tensor's dtype bool")
        _check_writable(op, self, other)
        if isinstance(other, Tensor):
            _same_backend(op, self, other)
            other = other.data
        xp = self._backend.xp
        out = getattr(xp, bool_fn)(self.data, other)
        return _store(op, self, out)
    if isinstance(other, bool):
        other = int(other)
    return _apply(op, self, lambda: fn(other), other)


# -- in-place arithmetic ------------------------------------------------------------------


def _scaled(op, self, other, alpha):
    """``other * alpha`` with PyTorch's checks on ``alpha``."""
    if alpha is None or (type(alpha) is int and alpha == 1):
        return other
    if isinstance(alpha, bool):
        if _kind(self.data.dtype) != 0:
            raise InplaceCastError(f"{op}: a bool alpha is only supported for bool tensors, got {self.dtype.name}")
        return other
    if isinstance(alpha, float) and _kind(self.data.dtype) != 2:
        raise InplaceCastError(
            f"{op}: for integer tensors, alpha must not be a floating-point number (got {alpha!r})"
        )
    if not isinstance(alpha, (int, float)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    return as_operand(op, other, self) * alpha  # a list times 2 must not repeat the list


def add_(self: Tensor, other, alpha=1) -> Tensor:
    """``self += alpha * other`` in place (``other`` broadcasts to ``self``'s shape); returns ``self``.

    >>> import gdl
    >>> x = gdl.tensor([1, 2, 3])
    >>> x.add_(10)
    tensor([11, 12, 13], backend='numpy')
    >>> x.add_(0.5)
    Traceback (most recent call last):
        ...
    gdl.functional.inplace.InplaceCastError: add_: result type float32 can't be cast to the tensor's dtype int64; an in-place op keeps the dtype. Use the out-of-place op (y = x.add(...)), or convert first (x = x.float())
    """
    return _arith("add_", self, other, lambda o: self + _scaled("add_", self, o, alpha), "logical_or")


def sub_(self: Tensor, other, alpha=1) -> Tensor:
    """``self -= alpha * other`` in place; returns ``self``. Bools refuse subtraction (as
    PyTorch: use ``logical_xor`` or ``logical_not``)."""
    if (isinstance(self, Tensor) and _kind(self.data.dtype) == 0) or isinstance(other, bool) or (
        isinstance(other, Tensor) and _kind(other.data.dtype) == 0
    ):
        raise InplaceCastError("sub_: subtraction with a bool tensor or value is not supported; use logical_xor or logical_not")
    return _arith("sub_", self, other, lambda o: self - _scaled("sub_", self, o, alpha))


def mul_(self: Tensor, other) -> Tensor:
    """``self *= other`` in place; returns ``self``."""
    return _arith("mul_", self, other, lambda o: self * o, "logical_and")


def div_(self: Tensor, other, *, rounding_mode=None) -> Tensor:
    """``self /= other`` in place; returns ``self``. True division gives floats, so an integer
    tensor needs ``rounding_mode="floor"`` or ``"trunc"`` (as PyTorch)."""
    if rounding_mode is None:
        return _arith("div_", self, other, lambda o: self / o)
    if rounding_mode not in ("floor", "trunc"):
        raise InplaceValueError(f"div_: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")

    def rounded():
        if rounding_mode == "floor":
            return self.floor_divide(other)
        q = (self / other).trunc()
        ints = _kind(self.data.dtype) < 2 and not isinstance(other, float) and not (
            isinstance(other, Tensor) and other.dtype.is_floating_point
        )
        return q.to(dtype=self.dtype) if ints else q  # integer operands: an integer quotient

    return _apply("div_", self, rounded, other)


def pow_(self: Tensor, exponent) -> Tensor:
    """``self **= exponent`` in place; returns ``self``."""
    if (isinstance(self, Tensor) and _kind(self.data.dtype) == 1 and type(exponent) is int and exponent < 0):
        raise InplaceValueError(f"pow_: integers to negative integer powers are not allowed (got {exponent})")
    return _arith("pow_", self, exponent, lambda o: self**o)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    """Values limited to ``[min, max]`` in place (numbers or tensors); returns ``self``.
    At least one bound is needed; gdl's ``clamp`` refuses ``min > max`` (PyTorch gives ``max``)."""
    if min is None and max is None:
        raise InplaceValueError("clamp_: at least one of min and max must be given")

    def clamped():
        if not isinstance(min, Tensor) and not isinstance(max, Tensor):
            return self.clip(min, max)
        out = self
        if min is not None:
            out = out.maximum(min) if isinstance(min, Tensor) else out.clip(min, None)
        if max is not None:
            out = out.minimum(max) if isinstance(max, Tensor) else out.clip(None, max)
        return out

    return _apply("clamp_", self, clamped, min, max)


def clip_(self: Tensor, min=None, max=None) -> Tensor:
    """The same as :func:`clamp_` (PyTorch's alias)."""
    return clamp_(self, min, max)


def clamp_min_(self: Tensor, min) -> Tensor:
    """``clamp_(min=min)``."""
    return clamp_(self, min, None)


def clamp_max_(self: Tensor, max) -> Tensor:
    """``clamp_(max=max)``."""
    return clamp_(self, None, max)


def abs_(self: Tensor) -> Tensor:
    """``|self|`` in place; returns ``self`` (a bool tensor stays as it is: ``|b| = b``)."""
    _check_writable("abs_", self)
    if _kind(self.data.dtype) == 0:
        return self
    return _abs_(self)


def _unary(name: str, doc: str):
    op = name + "_"

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return _apply(op, self, lambda: getattr(Tensor, name)(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"{doc} in place; returns ``self`` (an integer tensor refuses a float result)."
    return method


_neg_ = _unary("neg", "``-self``")


def neg_(self: Tensor) -> Tensor:
    """``-self`` in place; returns ``self``. A bool tensor refuses (invert a mask with ``logical_not``)."""
    if isinstance(self, Tensor) and _kind(self.data.dtype) == 0:
        raise InplaceCastError("neg_: negation of a bool tensor is not supported; invert a mask with logical_not()")
    return _neg_(self)


exp_ = _unary("exp", "``e ** self``")
log_ = _unary("log", "The natural logarithm")
sqrt_ = _unary("sqrt", "The square root")
_abs_ = _unary("abs", "``|self|``")
tanh_ = _unary("tanh", "The hyperbolic tangent")
sigmoid_ = _unary("sigmoid", "The logistic sigmoid")
floor_ = _unary("floor", "Rounded down")
ceil_ = _unary("ceil", "Rounded up")
trunc_ = _unary("trunc", "Rounded toward zero")
round_ = _unary("round", "Rounded half to even (``decimals=`` as ``round``)")
sin_ = _unary("sin", "The sine")
cos_ = _unary("cos", "The cosine")
reciprocal_ = _unary("reciprocal", "``1 / self``")
rsqrt_ = _unary("rsqrt", "``1 / sqrt(self)``")
square_ = _unary("square", "``self ** 2``")
sign_ = _unary("sign", "The sign (-1, 0 or 1)")
log1p_ = _unary("log1p", "``log(1 + self)``")
expm1_ = _unary("expm1", "``exp(self) - 1``")


def relu_(self: Tensor) -> Tensor:
    """``max(self, 0)`` in place (NaN stays NaN, integer tensors stay integers); returns ``self``."""
    _check_writable("relu_", self)
    if _kind(self.data.dtype) == 0:
        raise InplaceCastError("relu_: bool tensors are not supported")
    xp = self._backend.xp
    data = self.data
    return _store("relu_", self, xp.where(data < 0, xp.zeros_like(data), data))


# -- fills -------------------------------------------------------------------------------------


def fill_(self: Tensor, value) -> Tensor:
    """Every element set to ``value`` (a number or a 0-d tensor), converted to the tensor's
    dtype as PyTorch does (``int_tensor.fill_(1.7)`` writes 1); returns ``self``.

    >>> import gdl
    >>> gdl.zeros(2, dtype=gdl.int64).fill_(-1.7)
    tensor([-1, -1], backend='numpy')
    """
    _check_writable("fill_", self, value)
    if isinstance(value, Tensor):
        _same_backend("fill_", self, value)
        if value.ndim != 0:
            raise InplaceValueError(f"fill_: value must be a number or a 0-d tensor, got shape {value.shape}")
    elif not isinstance(value, (bool, int, float)):
        raise TypeError(f"fill_: value must be a number or a 0-d tensor, got {type(value).__name__}")
    return _store("fill_", self, _scalar_as(self.data.dtype, value))


def zero_(self: Tensor) -> Tensor:
    """Every element set to 0; returns ``self``."""
    return fill_(self, 0)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` written where the bool ``mask`` (broadcast to ``self``'s shape) is True;
    returns ``self``. ``value`` is a number or a 0-d tensor, converted to the tensor's dtype."""
    _check_writable("masked_fill_", self, mask, value)
    if isinstance(value, Tensor):
        _same_backend("masked_fill_", self, value)
        if value.ndim != 0:
            raise InplaceValueError(f"masked_fill_: value must be a number or a 0-d tensor, got shape {value.shape}")
    elif not isinstance(value, (bool, int, float)):
        raise TypeError(f"masked_fill_: value must be a number or a 0-d tensor, got {type(value).__name__}")
    if isinstance(mask, Tensor) and _kind(mask.data.dtype) != 0:
        raise InplaceCastError(f"masked_fill_: mask must be a bool tensor, got {mask.dtype.name} (compare first, e.g. m > 0)")
    value = _scalar_as(self.data.dtype, value)
    with no_grad():
        try:
            out = self.masked_fill(mask, value)
        except ValueError as exc:
            raise InplaceValueError(str(exc).replace("masked_fill:", "masked_fill_:", 1)) from None
    return _store("masked_fill_", self, _cast_result("masked_fill_", self, out.data))


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """``src``'s values written into ``self``, broadcast to ``self``'s shape and converted to
    its dtype (any conversion: floats to integers truncate toward zero); returns ``self``.
    ``src`` must be a tensor on the same backend (gdl moves nothing implicitly;
    ``non_blocking`` is accepted and ignored)."""
    _check_writable("copy_", self, src)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    _same_backend("copy_", self, src)
    xp = self._backend.xp
    data = src.data
    if tuple(data.shape) != self.shape:
        try:
            data = xp.broadcast_to(data, self.shape)
        except (ValueError, TypeError, RuntimeError):
            raise InplaceValueError(
                f"copy_: src of shape {src.shape} does not broadcast to the tensor's shape {self.shape}"
            ) from None
    if data.dtype != self.data.dtype:
        data = xp.astype(data, self.data.dtype)
    return _store("copy_", self, data)


def _random_dtype(op: str, self: Tensor):
    if not self.dtype.is_floating_point:
        raise InplaceCastError(f"{op}: needs a floating-point tensor, got {self.dtype.name} (convert with .float())")
    be = self._backend
    return self.data.dtype if self.data.dtype in be.float_dtypes else be.xp.float32


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, **kwargs) -> Tensor:
    """Samples from U(from, to) in place, from the backend's seeded generator (so
    ``gdl.manual_seed`` repeats them); returns ``self``. PyTorch's keyword ``from`` is
    spelled ``from_`` here (``from`` is a Python keyword; ``**{"from": a}`` works too).

    >>> import gdl
    >>> gdl.manual_seed(0)
    >>> w = gdl.zeros(1000).uniform_(-0.1, 0.1)
    >>> bool((w.abs() <= 0.1).all())
    True
    """
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"uniform_: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    _check_writable("uniform_", self)
    if from_ > to:
        raise InplaceValueError(f"uniform_: expects from <= to, got from={from_} > to={to}")
    be = self._backend
    draw = be.uniform(self.shape, float(from_), float(to), dtype=_random_dtype("uniform_", self))
    return _store("uniform_", self, _cast_result("uniform_", self, draw))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Samples from N(mean, std²) in place, from the backend's seeded generator; returns ``self``."""
    _check_writable("normal_", self)
    if std < 0:
        raise InplaceValueError(f"normal_: expects std >= 0, got std={std}")
    be = self._backend
    draw = be.normal(self.shape, float(mean), float(std), dtype=_random_dtype("normal_", self))
    return _store("normal_", self, _cast_result("normal_", self, draw))


def detach_(self: Tensor) -> Tensor:
    """Cut this tensor from the graph in place (no ``grad_fn``, no longer requires grad);
    returns ``self``. The data is untouched, so this is allowed in grad mode."""
    self.grad_fn = None
    self.requires_grad = False
    return self


# -- new tensors ----------------------------------------------------------------------------


def _like_dtype(self, dtype):
    return self.dtype if dtype is None else dtype


def new_zeros(self: Tensor, *size, dtype=None, requires_grad=False) -> Tensor:
    """Zeros of ``size`` (``x.new_zeros(2, 3)`` or ``x.new_zeros((2, 3))``) with ``self``'s
    dtype (unless ``dtype``) and backend.

    >>> import gdl
    >>> gdl.tensor([1, 2]).new_zeros(2, 3)
    tensor([[0, 0, 0],
            [0, 0, 0]], backend='numpy')
    """
    return _zeros(*size, dtype=_like_dtype(self, dtype), requires_grad=requires_grad, backend=self._backend)


def new_ones(self: Tensor, *size, dtype=None, requires_grad=False) -> Tensor:
    """Ones of ``size`` with ``self``'s dtype (unless ``dtype``) and backend."""
    return _ones(*size, dtype=_like_dtype(self, dtype), requires_grad=requires_grad, backend=self._backend)


def new_empty(self: Tensor, *size, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` with ``self``'s dtype and backend; zeros in gdl (see ``gdl.empty``)."""
    return _empty(*size, dtype=_like_dtype(self, dtype), requires_grad=requires_grad, backend=self._backend)


def new_full(self: Tensor, size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere in a tensor of ``size`` with ``self``'s dtype (unless
    ``dtype``; the value is converted as ``fill_`` converts it) and backend."""
    dtype = _like_dtype(self, dtype)
    value = _scalar_as(dtype, fill_value)
    return _full(size, value, dtype=dtype, requires_grad=requires_grad, backend=self._backend)


def new_tensor(self: Tensor, data, dtype=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data``, with ``self``'s dtype (unless ``dtype``) and
    backend, as ``torch.Tensor.new_tensor``."""
    return _tensor(data, dtype=_like_dtype(self, dtype), requires_grad=requires_grad, backend=self._backend)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` converted to ``other``'s dtype (differentiable between floating dtypes).
    Only the dtype: unlike PyTorch, which also moves to ``other``'s device, the backend stays
    (gdl moves between backends only when asked, with ``x.to(backend)``)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as: expected a Tensor, got {type(other).__name__}")
    return self.to(dtype=other.dtype)


def contiguous(self: Tensor, memory_format=None) -> Tensor:
    """``self``: gdl's arrays have no layout to fix (the Array API has no strides), so every
    tensor counts as contiguous, as an already contiguous PyTorch tensor returns itself."""
    return self


def is_contiguous(self: Tensor, memory_format=None) -> bool:
    """Always True (see :func:`contiguous`)."""
    return True


def _converter(name: str, dtype: dtypes.DType):
    def method(self: Tensor) -> Tensor:
        if not hasattr(self._backend.xp, dtype.name):
            raise TypeError(
                f"{name}: the {self.backend!r} backend has no {dtype.name} (the Array API standard "
                f"requires float32 and float64 only); use .float(), or a backend that has it (numpy, cupy)"
            )
        return self.to(dtype=dtype)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``self`` as {dtype.name} (PyTorch's ``x.{name}()``; ``x.to(gdl.{dtype.name})``)."
    return method


_int = _converter("int", dtypes.int32)
_bool = _converter("bool", dtypes.bool_)
_half = _converter("half", dtypes.float16)
_short = _converter("short", dtypes.int16)
_char = _converter("char", dtypes.int8)
_byte = _converter("byte", dtypes.uint8)


def element_size(self: Tensor) -> int:
    """Bytes per element (4 for float32, 1 for bool)."""
    xp = self._backend.xp
    dt = self.data.dtype
    kind = _kind(dt)
    if kind == 0:
        return 1
    return (xp.finfo(dt) if kind == 2 else xp.iinfo(dt)).bits // 8


def _itemsize(self: Tensor) -> int:
    """Bytes per element (``element_size()``), as ``torch.Tensor.itemsize``."""
    return element_size(self)


def _nbytes(self: Tensor) -> int:
    """Bytes held by the elements (``numel() * itemsize``), as ``torch.Tensor.nbytes``."""
    return self.numel() * element_size(self)


# Functional forms that PyTorch also has at the top level (``torch.zero_(x)``).
__all__ = [
    "abs_",
    "clamp_",
    "clip_",
    "exp_",
    "fill_",
    "log_",
    "neg_",
    "relu_",
    "sigmoid_",
    "sqrt_",
    "tanh_",
    "zero_",
]

# Tensor methods added by this module (name -> function; properties for nbytes/itemsize).
TENSOR_METHODS: dict = {
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "masked_fill_": masked_fill_,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_,
    "clamp_": clamp_, "clip_": clip_, "clamp_min_": clamp_min_, "clamp_max_": clamp_max_,
    "neg_": neg_, "exp_": exp_, "log_": log_, "sqrt_": sqrt_, "abs_": abs_, "tanh_": tanh_,
    "sigmoid_": sigmoid_, "relu_": relu_, "floor_": floor_, "ceil_": ceil_, "trunc_": trunc_,
    "round_": round_, "sin_": sin_, "cos_": cos_, "reciprocal_": reciprocal_, "rsqrt_": rsqrt_,
    "square_": square_, "sign_": sign_, "log1p_": log1p_, "expm1_": expm1_,
    "uniform_": uniform_, "normal_": normal_, "detach_": detach_,
    "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty, "new_full": new_full,
    "new_tensor": new_tensor, "type_as": type_as, "contiguous": contiguous, "is_contiguous": is_contiguous,
    "int": _int, "bool": _bool, "half": _half, "short": _short, "char": _char, "byte": _byte,
    "element_size": element_size, "itemsize": property(_itemsize), "nbytes": property(_nbytes),
}
