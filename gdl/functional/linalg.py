"""Matrix products and vector norms."""

from __future__ import annotations

import math

from gdl.functional._util import (
    check_same_backend,
    dim_alias,
    expand_reduced,
    keepdim_alias,
    normalize_axes,
    unbroadcast,
)
from gdl.tensor import Tensor, result


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 1-D, 2-D and batched (broadcast) operands, as ``numpy.matmul``."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        from gdl.functional._util import as_operand

        a, b = (as_operand("matmul", a, b), b) if not isinstance(a, Tensor) else (a, as_operand("matmul", b, a))
    elif a._backend is not b._backend:
        check_same_backend("matmul", a, b)
    xa, xb = a.data, b.data
    if xa.ndim == 0 or xb.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = xa.shape[-1]
    kb = xb.shape[0] if xb.ndim == 1 else xb.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not match "
            f"(inner dimensions {ka} and {kb})"
        )
    be = a._backend
    xp = be.xp
    try:
        out = xa @ xb
    except (ValueError, TypeError):
        raise ValueError(f"matmul: cannot broadcast the batch dimensions of {a.shape} and {b.shape}") from None

    need_a, need_b = a.requires_grad, b.requires_grad
    if xa.ndim == 2 and xb.ndim == 2:

        def backward(g):
            return (g @ xb.mT if need_a else None, xa.mT @ g if need_b else None)

    else:

        def backward(g):
            a2 = xa if xa.ndim > 1 else xa[None, :]
            b2 = xb if xb.ndim > 1 else xb[:, None]
            g2 = g
            if xb.ndim == 1:  # (before xa's: 1-D @ 1-D gives a 0-d g)
                g2 = xp.expand_dims(g2, axis=-1)
            if xa.ndim == 1:
                g2 = xp.expand_dims(g2, axis=-2)
            ga = gb = None
            if need_a:
                ga = xp.reshape(unbroadcast(xp, g2 @ b2.mT, a2.shape), xa.shape)
            if need_b:
                gb = xp.reshape(unbroadcast(xp, a2.mT @ g2, b2.shape), xb.shape)
            return (ga, gb)

    return result(out, be, (a, b), backward, "Matmul")


def norm(x: Tensor, p=2, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Vector ``p``-norm over ``axis`` (all elements when None), as ``torch.Tensor.norm``
    and the Array API's ``linalg.vector_norm``; ``dim``/``keepdim`` are PyTorch's spellings.

    ``p`` is 2 (or ``"fro"``), 1, ``inf`` (largest ``|x|``), ``-inf``, 0 (count of
    nonzeros, zero gradient) or any other number (``sum(|x|**p) ** (1/p)``). The
    2-norm's gradient ``x / norm`` is taken as 0 where the norm is 0, as PyTorch does.
    """
    from gdl.functional.elementwise import abs, astype, ne
    from gdl.functional.reduction import max, min, sum

    if dim is not None:
        axis = dim_alias("norm", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("norm", keepdims, keepdim)
    if p == "fro":
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"norm: needs a floating-point tensor, got {x.dtype.name} (convert with .float())")
    if p == 2:
        return _norm2(x, axis, keepdims)
    if p == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if p == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if p == 0:
        count = sum(astype(ne(x, 0.0), x.dtype), axis=axis, keepdims=keepdims)
        return result(count.data, x._backend, (x,), lambda g: (x._backend.xp.zeros_like(x.data),), "Norm")
    return _normp(x, p, axis, keepdims)


def _normp(x, p, axis, keepdims):
    """``sum(|x|**p) ** (1/p)``; the gradient ``sign(x) * (|x| / norm) ** (p - 1)`` is taken
    as 0 where ``x`` or the norm is 0, as PyTorch does (not the NaN of the chain rule)."""
    xp = x._backend.xp
    data, shape = x.data, x.data.shape
    axes = normalize_axes(axis, x.ndim, "norm")
    a = xp.abs(data)
    out_keep = xp.sum(a**p, axis=axes, keepdims=True) ** (1.0 / p)
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))

    def backward(g):
        live = (a != 0) & (out_keep != 0)
        one = xp.ones_like(a)
        ratio = xp.where(live, a, one) / xp.where(out_keep == 0, xp.ones_like(out_keep), out_keep)
        scale = xp.where(live, xp.sign(data) * ratio ** (p - 1), xp.zeros_like(a))
        return (expand_reduced(xp, g, shape, axes, keepdims) * scale,)

    return result(out, x._backend, (x,), backward, "Norm")


def _norm2(x, axis, keepdims):
    xp = x._backend.xp
    data, shape = x.data, x.data.shape
    axes = normalize_axes(axis, x.ndim, "norm")
    out_keep = xp.sqrt(xp.sum(data * data, axis=axes, keepdims=True))
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))

    def backward(g):
        safe = xp.where(out_keep == 0, xp.ones_like(out_keep), out_keep)  # x is 0 there too
        return (expand_reduced(xp, g, shape, axes, keepdims) * (data / safe),)

    return result(out, x._backend, (x,), backward, "Norm")


__all__ = [
    "matmul",
    "norm",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function).
TENSOR_METHODS: dict = {}
