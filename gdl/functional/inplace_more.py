"""The rest of PyTorch's in-place Tensor methods for real dtypes (``x.addcmul_(a, b)``,
``x.index_add_(0, i, s)``, ``x.scatter_(1, i, src)``, ``x.lgamma_()``, ``x.greater_(y)``, ...),
the out-of-place ``index_reduce``, and PyTorch's top-level in-place functions that gdl lacked
(``gdl.sin_(x)`` is ``x.sin_()``, ``gdl.index_put_(x, idx, v)``, ``gdl.celu_(x)``, ...).

Each in-place method runs the existing out-of-place op and writes its result into the tensor
by the rules of :mod:`gdl.functional.inplace`: the result is cast to the tensor's dtype
(float to integer or bool is refused), the shape cannot change, and a tensor in the autograd
graph (or an operand that requires grad) is refused while grad mode is on.
``float_power_`` needs a float64 tensor, as PyTorch. Left out: the sparse, quantized,
complex and storage methods (``resize_``, ``set_``, ``as_strided_``, ``conj_physical_``,
``map_``, ``apply_``, ...), and ``igamma_``/``igammac_`` (gdl has no ``igamma``).

>>> import gdl
>>> x = gdl.zeros(3)
>>> x.index_add_(0, gdl.tensor([0, 2, 0]), gdl.tensor([1.0, 2.0, 3.0]))
tensor([4., 0., 2.], backend='numpy')
>>> gdl.tensor([1.0, 2.0, 3.0]).addcmul_(gdl.ones(3), gdl.tensor([2.0, 2.0, 2.0]), value=0.5)
tensor([2., 3., 4.], backend='numpy')
"""

from __future__ import annotations

from gdl import dtypes
from gdl.functional import indexing as I
from gdl.functional import indexing_extra as IX
from gdl.functional import inplace as IP
from gdl.functional import inplace_extra as IPX
from gdl.functional import shape as S
from gdl.functional.inplace import InplaceCastError, InplaceValueError, _apply
from gdl.tensor import Tensor

# -- in-place methods from the out-of-place methods ---------------------------------------------


def _from_method(name: str, what: str):
    """``x.name_(*args)``: ``x.name(*args)`` written into ``x`` (every argument is an operand)."""
    op = name + "_"

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        operands = (*args, *kwargs.values())
        return _apply(op, self, lambda: getattr(Tensor, name)(self, *args, **kwargs), *operands)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"``self.{name}(...)`` ({what}) in place; returns ``self``."
    return method


_PLAIN = {
    "addbmm": "beta·self + alpha·Σ batch1 @ batch2", "addcdiv": "self + value·t1/t2",
    "addcmul": "self + value·t1·t2", "addmm": "beta·self + alpha·mat1 @ mat2",
    "addmv": "beta·self + alpha·mat @ vec", "addr": "beta·self + alpha·outer(vec1, vec2)",
    "baddbmm": "beta·self + alpha·batch1 @ batch2", "copysign": "|self| with other's sign",
    "digamma": "ψ(self)", "lgamma": "log|Γ(self)|", "polygamma": "ψ⁽ⁿ⁾(self), called as x.polygamma_(n)",
    "mvlgamma": "the multivariate log-gamma of order p", "i0": "the modified Bessel function I₀",
    "sinc": "sin(πx)/(πx)", "heaviside": "the Heaviside step, ``values`` at 0",
    "nextafter": "the next float toward other", "gcd": "the greatest common divisor",
    "lcm": "the least common multiple", "ldexp": "self·2**other", "deg2rad": "degrees to radians",
    "rad2deg": "radians to degrees", "sgn": "the sign", "index_add": "source added at index along dim",
    "index_copy": "source copied at index along dim", "index_fill": "value at index along dim",
    "index_put": "values put at the index tuple", "masked_scatter": "source's values where mask holds",
    "put": "source at flat indices", "renorm": "sub-tensors along dim rescaled to norm <= maxnorm",
    "scatter_add": "src added at index along dim", "scatter_reduce": "src reduced at index along dim",
}


def float_power_(self: Tensor, exponent) -> Tensor:
    """``self ** exponent`` in float64, in place; returns ``self``. As PyTorch, the tensor must
    be float64 (the op's result always is)."""
    if isinstance(self, Tensor) and self.dtype != dtypes.float64:
        raise InplaceCastError(
            f"float_power_: the base has dtype {self.dtype.name} but the result is float64; "
            f"float_power_ needs a float64 tensor (use x.double() or x.pow_)"
        )
    return _apply("float_power_", self, lambda: Tensor.float_power(self, exponent), exponent)


def _same(fn, name: str):
    """A PyTorch alias of an existing in-place method."""

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return fn(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"PyTorch's alias of ``{fn.__name__}``."
    return method


_ALIASES = {
    "absolute_": IP.abs_, "negative_": IP.neg_, "multiply_": IP.mul_, "divide_": IP.div_,
    "subtract_": IP.sub_, "true_divide_": IP.div_,
    "greater_": IPX.TENSOR_METHODS["gt_"], "greater_equal_": IPX.TENSOR_METHODS["ge_"],
    "less_": IPX.TENSOR_METHODS["lt_"], "less_equal_": IPX.TENSOR_METHODS["le_"],
    "not_equal_": IPX.TENSOR_METHODS["ne_"],
}


# -- scatter_ and index_reduce ------------------------------------------------------------------

_SCATTER_REDUCE = {"add": "sum", "multiply": "prod"}


def scatter_(self: Tensor, dim: int, index, src=None, value=None, *, reduce=None) -> Tensor:
    """``src`` (a tensor or a number; or ``value=``) written at ``index`` along ``dim``, in place,
    as ``torch.Tensor.scatter_``; ``reduce="add"`` or ``"multiply"`` combines instead of
    overwriting. Returns ``self``."""
    if (src is None) == (value is None):
        raise TypeError("scatter_: pass exactly one of src and value")
    src = value if src is None else src
    if reduce is not None and reduce not in _SCATTER_REDUCE:
        raise InplaceValueError(f"scatter_: reduce must be 'add' or 'multiply', got {reduce!r}")

    def scattered():
        if reduce is None:
            return I.scatter(self, dim, index, src)
        full = src if isinstance(src, Tensor) else Tensor.new_full(self, tuple(index.shape), src)
        return IX.scatter_reduce(self, dim, index, full, _SCATTER_REDUCE[reduce])

    return _apply("scatter_", self, scattered, index, src)


_INDEX_REDUCE = ("prod", "mean", "amax", "amin")


def index_reduce(input: Tensor, dim: int, index, source: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """``source``'s slices along ``dim`` reduced into ``input`` at ``index`` (``reduce``: ``"prod"``,
    ``"mean"``, ``"amax"`` or ``"amin"``; ``include_self=False`` leaves ``input``'s own values out
    where an index lands), as ``torch.index_reduce``. Differentiable as ``scatter_reduce``.

    >>> import gdl
    >>> gdl.ones(3).index_reduce(0, gdl.tensor([0, 0, 2]), gdl.tensor([2.0, 3.0, 4.0]), "prod")
    tensor([6., 1., 4.], backend='numpy')
    """
    if not isinstance(input, Tensor) or not isinstance(source, Tensor):
        raise TypeError("index_reduce: input and source must be Tensors")
    if reduce not in _INDEX_REDUCE:
        raise ValueError(f"index_reduce: reduce must be one of {', '.join(_INDEX_REDUCE)}, got {reduce!r}")
    index = index if isinstance(index, Tensor) else Tensor.new_tensor(input, index, dtype=dtypes.int64)
    if index.ndim != 1:
        raise ValueError(f"index_reduce: index must be 1-D, got shape {index.shape}")
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise ValueError(f"index_reduce: dim {dim} is out of range for a tensor of shape {input.shape}")
    dim %= nd
    if source.ndim != input.ndim or (input.ndim and source.shape[dim] != index.shape[0]):
        raise ValueError(
            f"index_reduce: source of shape {source.shape} must have input's rank ({input.shape}) and "
            f"{index.shape[0]} slices (the index's length) along dim {dim}"
        )
    if input.ndim == 0:
        return IX.scatter_reduce(input.reshape(1), 0, index, source.reshape(1), reduce,
                                 include_self=include_self).reshape(())
    shape = [1] * input.ndim
    shape[dim] = index.shape[0]
    full = S.broadcast_to(index.reshape(tuple(shape)), source.shape)
    return IX.scatter_reduce(input, dim, full, source, reduce, include_self=include_self)


def index_reduce_(self: Tensor, dim: int, index, source: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """:func:`index_reduce` in place; returns ``self``."""
    return _apply("index_reduce_", self,
                  lambda: index_reduce(self, dim, index, source, reduce, include_self=include_self), index, source)


# -- top-level in-place functions -------------------------------------------------------------

_TOP_LEVEL = (
    "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_max_", "clamp_min_", "cos_", "cosh_", "deg2rad_",
    "detach_", "erf_", "erfc_", "exp2_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_",
    "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "logit_", "nan_to_num_", "negative_", "rad2deg_",
    "reciprocal_", "round_", "rsqrt_", "sin_", "sinc_", "sinh_", "square_", "tan_", "trunc_", "xlogy_",
)


def _top_level(name: str):
    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        return getattr(Tensor, name)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: the method as a function, as ``torch.{name}``; returns ``input``."
    return fn


def _activation(name: str, call):
    """``torch.name(input, ...)``: the activation of ``gdl.nn.functional`` written into ``input``."""

    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        from gdl.nn import functional as F

        return _apply(name, input, lambda: call(F, input, *args, **kwargs))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``gdl.nn.functional.{name[:-1]}`` written into ``input`` (as ``torch.{name}``); returns ``input``."
    return fn


_ACTIVATIONS = {
    "celu_": lambda F, x, alpha=1.0: F.celu(x, alpha),
    "selu_": lambda F, x: F.selu(x),
    "threshold_": lambda F, x, threshold, value: F.threshold(x, threshold, value),
    "rrelu_": lambda F, x, lower=0.125, upper=1 / 3, training=False: F.rrelu(x, lower, upper, training),
    "dropout_": lambda F, x, p=0.5, train=True: F.dropout(x, p, train),
    "alpha_dropout_": lambda F, x, p=0.5, train=False: F.alpha_dropout(x, p, train),
    "feature_alpha_dropout_": lambda F, x, p=0.5, train=False: F.feature_alpha_dropout(x, p, train),
}

_METHODS = {
    **{name + "_": _from_method(name, what) for name, what in _PLAIN.items()},
    **{name: _same(fn, name) for name, fn in _ALIASES.items()},
    "float_power_": float_power_, "scatter_": scatter_, "index_reduce_": index_reduce_,
    "index_reduce": index_reduce,
}

_FUNCTIONS = {
    **{name: _top_level(name) for name in _TOP_LEVEL},
    **{name: _activation(name, call) for name, call in _ACTIVATIONS.items()},
    "index_reduce": index_reduce,
}
globals().update({name: fn for name, fn in _FUNCTIONS.items() if name not in globals()})

__all__ = sorted(_FUNCTIONS)

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = _METHODS
