"""Python operators and methods of Tensor, each one a call to a functional op."""

from __future__ import annotations

from gdl.functional import elementwise as E
from gdl.functional import linalg as L
from gdl.functional import reduction as R
from gdl.functional import shape as S
from gdl.tensor import Tensor


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
    "maximum": E.maximum, "minimum": E.minimum, "matmul": L.matmul, "mm": L.matmul,
    "sum": R.sum, "mean": R.mean, "var": R.var, "max": R.max, "min": R.min,
    "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    "argmax": R.argmax, "argmin": R.argmin, "all": R.all, "any": R.any,
    "reshape": S.reshape, "view": S.reshape, "permute": S.permute, "transpose": S.transpose,
    "broadcast_to": S.broadcast_to, "expand": S.broadcast_to, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "flatten": S.flatten, "take": S.take, "astype": E.astype,
}

for _name, _fn in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _fn)

Tensor.__hash__ = object.__hash__
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
