"""More of PyTorch's linear algebra at top level: ``inner``, ``vdot``, ``vander``, ``cov``,
``corrcoef``, ``dist``, ``renorm``, ``matrix_power``, ``matrix_exp``, ``addbmm``, ``addr``
and ``chain_matmul``.

Most are built from other gdl ops (``tensordot``, ``addmm``, norms, ``matmul``), whose
backward gives the gradient; ``matrix_exp`` computes its forward by scaling and squaring
and its backward as the exponential of a block matrix, as PyTorch.

>>> import gdl
>>> gdl.inner(gdl.tensor([1.0, 2.0]), gdl.tensor([[1.0, 0.0], [0.0, 1.0]]))
tensor([1., 2.], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.functional import elementwise as E
from gdl.functional import linalg as FL
from gdl.functional import reduction as R
from gdl.functional import shape as S
from gdl.functional._util import check_axis, check_same_backend
from gdl.tensor import Tensor, result


def _need(op: str, t, what: str = "input") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a tensor, got {type(t).__name__}")
    return t


def _linalg():
    from gdl import linalg  # (gdl.linalg imports gdl.functional: import it when first called)

    return linalg


# -- products ------------------------------------------------------------------------------------------


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sums of products over the last dimensions of ``input`` and ``other`` (shape
    ``input.shape[:-1] + other.shape[:-1]``), as ``torch.inner``; a 0-d operand multiplies.

    >>> import gdl
    >>> gdl.inner(gdl.tensor([1.0, 2.0, 3.0]), gdl.tensor([1.0, 1.0, 1.0]))
    tensor(6., backend='numpy')
    """
    a, b = FL._tensors("inner", input, other)
    if a.ndim == 0 or b.ndim == 0:
        return E.mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last dimensions must match, got shapes {a.shape} and {b.shape}")
    return FL.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 1]))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-d tensors of one length and dtype, as ``torch.vdot`` (real:
    no conjugation, so the same as :func:`gdl.dot`).

    >>> import gdl
    >>> gdl.vdot(gdl.tensor([1.0, 2.0]), gdl.tensor([3.0, 4.0]))
    tensor(11., backend='numpy')
    """
    a, b = FL._tensors("vdot", input, other)
    FL._need_ndim("vdot", (1, 1), a, b)
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"vdot: both vectors must have one dtype, got {a.dtype.name} and {b.dtype.name}")
    return FL.dot(a, b)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` for ``(B, n, k)`` and ``(B, k, p)``
    batches, as ``torch.addbmm`` (one ``(n, B*k) @ (B*k, p)`` product: backward as :func:`gdl.addmm`).

    >>> import gdl
    >>> gdl.addbmm(gdl.zeros(2, 2), gdl.ones(3, 2, 4), gdl.ones(3, 4, 2), beta=0.5)
    tensor([[12., 12.],
            [12., 12.]], backend='numpy')
    """
    input, b1, b2 = FL._tensors("addbmm", input, batch1, batch2)
    FL._need_ndim("addbmm", (3, 3), b1, b2)
    if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
        raise ValueError(f"addbmm: batches of shapes {b1.shape} and {b2.shape} do not fit (need (B, n, k) and (B, k, p))")
    bsz, n, k = b1.shape
    m1 = S.reshape(S.permute(b1, (1, 0, 2)), (n, bsz * k))
    m2 = S.reshape(b2, (bsz * k, b2.shape[2]))
    return FL._add_product("addbmm", input, m1, m2, beta, alpha, (2, 2))


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``, as ``torch.addr`` (backward as :func:`gdl.addmm`).

    >>> import gdl
    >>> gdl.addr(gdl.ones(2, 2), gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 0.0]), alpha=2)
    tensor([[3., 1.],
            [5., 1.]], backend='numpy')
    """
    input, v1, v2 = FL._tensors("addr", input, vec1, vec2)
    FL._need_ndim("addr", (1, 1), v1, v2)
    return FL._add_product("addr", input, S.unsqueeze(v1, 1), S.unsqueeze(v2, 0), beta, alpha, (2, 2))


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-d matrices in the cheapest order, as ``torch.chain_matmul`` (deprecated
    there in favour of :func:`gdl.linalg.multi_dot`, which this calls).

    >>> import gdl
    >>> gdl.chain_matmul(gdl.ones(2, 3), gdl.ones(3, 4), gdl.ones(4, 1))
    tensor([[12.],
            [12.]], backend='numpy')
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise ValueError("chain_matmul: expected at least one matrix")
    for i, m in enumerate(matrices):
        if _need("chain_matmul", m, f"matrix {i}").ndim != 2:
            raise ValueError(f"chain_matmul: every matrix must be 2-d, got shape {m.shape} for matrix {i}")
    if len(matrices) == 1:
        return E.clone(matrices[0])
    return _linalg().multi_dot(list(matrices))


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` (a square matrix or a batch of them) to the integer power ``n``, as
    ``torch.matrix_power``: :func:`gdl.linalg.matrix_power` (``x.matrix_power(n)`` too).

    >>> import gdl
    >>> gdl.matrix_power(gdl.tensor([[2.0, 0.0], [0.0, 3.0]]), 2)
    tensor([[4., 0.],
            [0., 9.]], backend='numpy')
    """
    return _linalg().matrix_power(input, n)


# -- the matrix exponential ------------------------------------------------------------------------------

_TAYLOR_TERMS = 18  # for a scaled matrix of 1-norm <= 1/2 the error is below 2**-19 / 19!, far under float64's


def _expm(be, a):
    """``exp(a)`` for a batch of square float matrices: the Taylor series of ``a / 2**s``
    (1-norm at most 1/2), squared ``s`` times."""
    xp = be.xp
    n = a.shape[-1]
    norm = float(xp.max(xp.sum(xp.abs(a), axis=-2))) if math.prod(a.shape) else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if math.isfinite(norm) and norm > 0.5 else 0
    if s:
        a = a / float(2**s)
    eye = xp.broadcast_to(xp.eye(n, dtype=a.dtype, device=be.device), a.shape)
    out = eye
    for k in range(_TAYLOR_TERMS, 0, -1):
        out = eye + be.matmul(a, out) / float(k)
    for _ in range(s):
        out = be.matmul(out, out)
    return out


def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential ``sum_k A**k / k!`` of a square float matrix (or a batch), as
    ``torch.matrix_exp``: scaling and squaring of an 18-term Taylor series. Backward:
    the upper-right block of ``exp([[Aᵀ, G], [0, Aᵀ]])``, as PyTorch.

    >>> import gdl
    >>> gdl.matrix_exp(gdl.tensor([[0.0, 1.0], [0.0, 0.0]]))
    tensor([[1., 1.],
            [0., 1.]], backend='numpy')
    """
    x = _need("matrix_exp", input)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"matrix_exp: expects a square matrix or a batch of them, got shape {x.shape}")
    if not dtypes.is_floating(x.data.dtype):
        raise TypeError(f"matrix_exp: expects a floating tensor, got dtype {x.dtype.name}")
    be = x._backend
    xp = be.xp
    a = x.data
    n = a.shape[-1]

    def backward(g):
        at = xp.permute_dims(a, tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2))
        lower = xp.concat([xp.zeros_like(at), at], axis=-1)
        block = xp.concat([xp.concat([at, g], axis=-1), lower], axis=-2)
        return (_expm(be, block)[..., :n, n:],)

    def graph(g):  # the same block exponential, with Tensor ops (differentiable in A and G)
        at = S.transpose(x, -2, -1)
        zero = Tensor._wrap(xp.zeros_like(a), be)
        block = S.concat([S.concat([at, g], axis=-1), S.concat([zero, at], axis=-1)], axis=-2)
        return (_expm_graph(block)[..., :n, n:],)

    return result(_expm(be, a), be, (x,), backward, "MatrixExp", graph)


def _expm_graph(m: Tensor) -> Tensor:
    """:func:`_expm` with gdl ops (the scaling ``2**s`` chosen from the values, a constant)."""
    be = m._backend
    xp = be.xp
    a = m.data
    n = a.shape[-1]
    norm = float(xp.max(xp.sum(xp.abs(a), axis=-2))) if math.prod(a.shape) else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if math.isfinite(norm) and norm > 0.5 else 0
    if s:
        m = m / float(2**s)
    eye = Tensor._wrap(xp.broadcast_to(xp.eye(n, dtype=a.dtype, device=be.device), a.shape), be)
    out = eye
    for k in range(_TAYLOR_TERMS, 0, -1):
        out = eye + FL.matmul(m, out) / float(k)
    for _ in range(s):
        out = FL.matmul(out, out)
    return out


# -- statistics ------------------------------------------------------------------------------------------


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns; a 1-d tensor is one variable), as ``torch.cov``: ``correction=1`` divides by
    ``N - 1`` (Bessel), 0 by ``N``; ``fweights`` (integer repeat counts) and ``aweights``
    (float importance weights), each 1-d of length ``N``, weight the observations. Size-1
    dimensions of the result are dropped (one variable gives a 0-d tensor).

    >>> import gdl
    >>> gdl.cov(gdl.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]], backend='numpy')
    """
    op = "cov"
    x = _need(op, input)
    if x.ndim > 2:
        raise ValueError(f"{op}: expects a tensor with at most 2 dimensions, got shape {x.shape}")
    if not dtypes.is_floating(x.data.dtype):
        x = E.astype(x, dtypes.get_default_dtype())
    if x.ndim < 2:
        x = S.reshape(x, (1, -1))
    if isinstance(correction, bool) or not isinstance(correction, (int, float)):
        raise TypeError(f"{op}: correction must be a number, got {correction!r}")
    xp = x._backend.xp
    nobs = x.shape[1]
    w = None
    for name, wt, floating in (("fweights", fweights, False), ("aweights", aweights, True)):
        if wt is None:
            continue
        wt = _need(op, wt, name)
        check_same_backend(op, x, wt)
        if wt.ndim > 1 or wt.numel() != nobs:
            raise ValueError(f"{op}: {name} must be 1-d with {nobs} elements (one per observation), "
                             f"got shape {wt.shape}")
        if dtypes.is_floating(wt.data.dtype) != floating:
            kind = "a floating" if floating else "an integer"
            raise TypeError(f"{op}: {name} must be {kind} tensor, got dtype {wt.dtype.name}")
        if wt.numel() and float(xp.min(wt.data)) < 0:
            raise ValueError(f"{op}: {name} must not be negative")
        wt = S.reshape(wt if floating else E.astype(wt, x.dtype), (-1,))
        w = wt if w is None else E.mul(w, wt)
    if w is None:
        avg = R.mean(x, axis=1, keepdims=True)
        norm = nobs - correction
    else:
        w_sum = R.sum(w)
        avg = E.div(R.sum(E.mul(x, w), axis=1, keepdims=True), w_sum)
        if correction and aweights is not None:
            norm = E.sub(w_sum, E.div(E.mul(R.sum(E.mul(w, S.reshape(aweights, (-1,)))), correction), w_sum))
        else:
            norm = E.sub(w_sum, correction)
    if (float(norm.data) if isinstance(norm, Tensor) else norm) <= 0:
        norm = 0.0  # as torch: the result is inf or nan
    xm = E.sub(x, avg)
    c = FL.matmul(xm, S.transpose(E.mul(xm, w) if w is not None else xm, 0, 1))
    return S.squeeze(E.div(c, norm))


def corrcoef(input: Tensor) -> Tensor:
    """The Pearson correlation coefficients of the variables in the rows of ``input``, as
    ``torch.corrcoef``: :func:`cov` divided by the outer product of the standard
    deviations, clipped to ``[-1, 1]``.

    >>> import gdl
    >>> gdl.corrcoef(gdl.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]))
    tensor([[1., 1.],
            [1., 1.]], backend='numpy')
    """
    c = cov(input)
    if c.ndim == 0:
        return E.div(c, c)
    std = E.sqrt(FL.diagonal(c))
    c = E.div(E.div(c, S.unsqueeze(std, 1)), S.unsqueeze(std, 0))
    return E.clip(c, -1.0, 1.0)


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), as ``torch.dist``: ``p`` is any number,
    ``inf`` or ``-inf``; 0 counts the differing elements.

    >>> import gdl
    >>> gdl.dist(gdl.tensor([0.0, 0.0]), gdl.tensor([3.0, 4.0]))
    tensor(5., backend='numpy')
    """
    a, b = FL._tensors("dist", input, other)
    return _linalg().vector_norm(E.sub(a, b), ord=p)


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """``input`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to
    norm ``maxnorm`` (times ``1 / (1 + 1e-7 / norm)``, as torch), as ``torch.renorm``.
    The gradient flows through the norms too.

    >>> import gdl
    >>> gdl.renorm(gdl.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6, 0.8],
            [0.3, 0.4]], backend='numpy')
    """
    x = _need("renorm", input)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 0:
        raise ValueError(f"renorm: p must be a positive number, got {p!r}")
    if isinstance(maxnorm, bool) or not isinstance(maxnorm, (int, float)) or maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be a non-negative number, got {maxnorm!r}")
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"renorm: dim must be an int, got {dim!r}")
    if x.ndim == 0:
        raise ValueError("renorm: expects a tensor with at least 1 dimension, got a 0-d tensor")
    if not dtypes.is_floating(x.data.dtype):
        raise TypeError(f"renorm: expects a floating tensor, got dtype {x.dtype.name}")
    d = check_axis(dim, x.ndim, "renorm")
    others = tuple(a for a in range(x.ndim) if a != d)
    if not others:  # each slice is one element
        norms = E.abs(x)
    else:
        norms = _linalg().vector_norm(x, ord=p, dim=others, keepdim=True)
    factor = E.where(norms.data > maxnorm, E.div(float(maxnorm), E.add(norms, 1e-7)), 1.0)
    return E.mul(x, factor)


# -- Vandermonde -----------------------------------------------------------------------------------------


def vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-d ``x``: columns ``x**(N-1), ..., x, 1`` (the other way
    round with ``increasing=True``; ``N`` defaults to ``len(x)``), as ``torch.vander``.
    Built by repeated multiplication, whose backward gives the gradient.

    >>> import gdl
    >>> gdl.vander(gdl.tensor([1, 2, 3]), N=3)
    tensor([[1, 1, 1],
            [4, 2, 1],
            [9, 3, 1]], backend='numpy')
    """
    x = _need("vander", x, "x")
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-d, got shape {x.shape}")
    if N is None:
        N = x.shape[0]
    if isinstance(N, bool) or not isinstance(N, int) or N < 0:
        raise ValueError(f"vander: N must be a non-negative int, got {N!r}")
    be = x._backend
    xp = be.xp
    if x.data.dtype == xp.bool or (not dtypes.is_floating(x.data.dtype) and x.data.dtype != xp.int64):
        x = E.astype(x, dtypes.int64)  # integers (and bools) give int64, as torch
    if N == 0:
        return Tensor._wrap(xp.zeros((x.shape[0], 0), dtype=x.data.dtype, device=be.device), be)
    cols = [Tensor._wrap(xp.ones_like(x.data), be)]
    for _ in range(N - 1):
        cols.append(x if len(cols) == 1 else E.mul(cols[-1], x))
    if not increasing:
        cols.reverse()
    return S.stack(cols, 1)


__all__ = [
    "addbmm",
    "addr",
    "chain_matmul",
    "corrcoef",
    "cov",
    "dist",
    "inner",
    "matrix_exp",
    "matrix_power",
    "renorm",
    "vander",
    "vdot",
]

# Tensor methods (``matrix_power`` is one already, from gdl.linalg).
TENSOR_METHODS: dict = {
    name: globals()[name]
    for name in ("addbmm", "addr", "corrcoef", "cov", "dist", "inner", "matrix_exp", "renorm", "vdot")
}
