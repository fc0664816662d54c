"""Matrix products."""

from __future__ import annotations

from gdl.functional._util import check_same_backend, unbroadcast
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
