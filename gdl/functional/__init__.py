"""Differentiable ops on tensors (the building blocks of every layer).

Each op lives beside its backward in one of: ``elementwise``, ``reduction``,
``shape`` and ``linalg``. ``gdl.sum(x)`` and ``x.sum()`` are the same op.
"""

from gdl.functional.elementwise import (
    abs,
    add,
    astype,
    clip,
    clone,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from gdl.functional.linalg import matmul
from gdl.functional.reduction import (
    all,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    sum,
    var,
)
from gdl.functional.shape import (
    broadcast_to,
    concat,
    flatten,
    getitem,
    permute,
    reshape,
    squeeze,
    stack,
    take,
    to_backend,
    transpose,
    unsqueeze,
)
from gdl.functional import _methods  # noqa: F401  (attaches Tensor methods)

cat = concat

__all__ = [
    "abs", "add", "all", "any", "argmax", "argmin", "astype", "broadcast_to", "cat", "clip", "clone", "concat",
    "div", "eq", "exp", "flatten", "ge", "getitem", "gt", "le", "log", "log_softmax", "logsumexp",
    "lt", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "permute",
    "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub", "sum",
    "take", "tanh", "to_backend", "transpose", "unsqueeze", "var", "where",
]
