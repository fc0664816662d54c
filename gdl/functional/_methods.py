"""Python operators and methods of Tensor, each one a call to a functional op,
plus the few PyTorch-shaped conveniences that are not ops (``dim()``, ``t()``,
``x[i] = v``; ``size()`` is in :mod:`gdl.tensor`)."""

from __future__ import annotations

from gdl.functional import bitwise as BW
from gdl.functional import elementwise as E
from gdl.functional import indexing as I
from gdl.functional import indexing_extra as IX
from gdl.functional import inplace as IP
from gdl.functional import inplace_extra as IPX
from gdl.functional import inplace_more as IPM
from gdl.functional import linalg as L
from gdl.functional import linalg_extra as LX
from gdl.functional import linalg_legacy as LL
from gdl.functional import misc as MI
from gdl.functional import misc_more as MM
from gdl.functional import order as O
from gdl.functional import pointwise as P
from gdl.functional import pointwise_extra as PX
from gdl.functional import reduction as R
from gdl.functional import sampling as SA
from gdl.functional import scan as SC
from gdl.functional import shape as S
from gdl.functional import shape_extra as SX
from gdl.functional import special as SP
from gdl.functional import special_more as SPM
from gdl.functional import windows as W
from gdl.functional._util import as_operand, check_same_backend
from gdl.tensor import Tensor, is_grad_enabled


def _swap(fn):
    return lambda self, other: fn(other, self)


_OPERATORS = {
    "__add__": E.add,
    "__radd__": _swap(E.add),
    "__sub__": E.sub,
    "__rsub__": _swap(E.sub),
    "__mul__": E.mul,
    "__rmul__": _swap(E.mul),
    "__truediv__": E.div,
    "__rtruediv__": _swap(E.div),
    "__pow__": E.pow,
    "__rpow__": _swap(E.pow),
    "__matmul__": L.matmul,
    "__rmatmul__": _swap(L.matmul),
    "__neg__": E.neg,
    "__abs__": E.abs,
    "__eq__": E.eq,
    "__ne__": E.ne,
    "__lt__": E.lt,
    "__le__": E.le,
    "__gt__": E.gt,
    "__ge__": E.ge,
    "__getitem__": S.getitem,
}

_METHODS = {
    "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "neg": E.neg,
    "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "tanh": E.tanh,
    "sigmoid": E.sigmoid, "relu": E.relu, "clip": E.clip, "clamp": E.clip,
    "maximum": E.maximum, "minimum": E.minimum, "matmul": L.matmul, "mm": L.mm,
    "sum": R.sum, "mean": R.mean, "var": R.var, "max": R.max, "min": R.min,
    "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    "argmax": R.argmax, "argmin": R.argmin, "all": R.all, "any": R.any,
    "reshape": S.reshape, "view": S.reshape, "permute": S.permute, "transpose": S.transpose,
    "broadcast_to": S.broadcast_to, "expand": S.broadcast_to, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "flatten": S.flatten, "take": S.take, "astype": E.astype,
    "std": R.std, "sort": O.sort, "topk": O.topk, "norm": L.norm, "masked_fill": E.masked_fill,
    "repeat": S.repeat,
}

_ADDED = {}


def attach_methods(module) -> None:
    """Make ``module.TENSOR_METHODS`` Tensor methods (a name defined twice is an error)."""
    for name, fn in module.TENSOR_METHODS.items():
        if name in _ADDED or name in _METHODS or name in _OPERATORS:
            raise RuntimeError(f"Tensor method {name!r} is defined twice ({module.__name__})")
        _ADDED[name] = fn
        setattr(Tensor, name, fn)


for _name, _fn in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _fn)
for _module in (E, P, R, O, SC, S, I, L, IP, MI, SA, SP, IPX, SX, IX, LX, PX, BW, IPM, LL, MM, SPM, W):
    attach_methods(_module)

Tensor.__hash__ = object.__hash__
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))


# -- PyTorch conveniences that are not ops ----------------------------------------------------


def _dim(self) -> int:
    """The number of dimensions (PyTorch's ``x.dim()``; ``x.ndim`` is the same)."""
    return self.data.ndim


def _t(self) -> Tensor:
    """The transpose of a 2-D tensor (0-D and 1-D tensors come back as they are), as ``torch.Tensor.t``."""
    if self.ndim > 2:
        raise ValueError(
            f"t: expects a tensor with at most 2 dimensions, got shape {self.shape}; "
            f"use x.transpose(d0, d1), x.permute(...) or x.mT"
        )
    return S.transpose(self, 0, 1) if self.ndim == 2 else self


def _setitem(self, key, value) -> None:
    """``x[key] = value``, written into ``x.data`` in place.

    Refused for a tensor that requires grad while grad mode is on: gdl does no
    in-place changes to tensors in the autograd graph (their saved values would be
    wrong in backward). Under ``gdl.no_grad()`` (say, to initialise a parameter) it
    is allowed. Build new tensors with ``gdl.where`` or ``masked_fill`` instead.
    Caution: writing into a tensor that an op has already saved for its backward
    (an input of ``y = w * x``, say) changes that backward, as gdl keeps no version counters.
    """
    if self.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"setitem: cannot assign in place into a tensor that requires grad (shape {self.shape}); "
            f"gdl refuses in-place changes to tensors in the autograd graph. Assign under "
            f"`with gdl.no_grad():` (e.g. to initialise a parameter), or build a new tensor "
            f"with gdl.where(...) or x.masked_fill(mask, value)"
        )
    be = self._backend
    parts = key if isinstance(key, tuple) else (key,)
    converted = []
    for k in parts:
        if isinstance(k, Tensor):
            check_same_backend("setitem", self, k)
            k = k.data
        elif isinstance(k, list):
            k = as_operand("setitem", k, self).data
        converted.append(k)
    if not any(k is Ellipsis or be.is_array(k) for k in converted):
        converted.append(Ellipsis)  # the Array API needs every axis indexed, or an Ellipsis
    if isinstance(value, (int, float, bool)):
        data = value
    else:
        value = as_operand("setitem", value, self)
        data = value.data
        if data.dtype != self.data.dtype:
            data = be.xp.astype(data, self.data.dtype)
    try:
        self.data[tuple(converted)] = data
    except (IndexError, TypeError, ValueError) as exc:
        raise type(exc)(f"setitem: cannot assign to index {key!r} of a tensor of shape {self.shape}: {exc}") from None


Tensor.dim = _dim
Tensor.t = _t
Tensor.__setitem__ = _setitem
