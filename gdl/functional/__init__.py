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
    masked_fill,
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
from gdl.functional.linalg import matmul, norm
from gdl.functional.reduction import (
    ValuesIndices,
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
    sort,
    std,
    sum,
    topk,
    var,
)
from gdl.functional.shape import (
    broadcast_to,
    concat,
    flatten,
    getitem,
    permute,
    repeat,
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
    "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "norm",
    "permute", "pow", "relu", "repeat", "reshape", "sigmoid", "softmax", "sort", "sqrt", "squeeze", "stack",
    "std", "sub", "sum", "take", "tanh", "to_backend", "topk", "transpose", "unsqueeze", "var", "where",
    "ValuesIndices",
]
