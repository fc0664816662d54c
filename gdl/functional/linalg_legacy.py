"""PyTorch's older top-level linear algebra (``torch.svd``, ``torch.qr``, ``torch.lu``,
``torch.cholesky_solve``, ``torch.triangular_solve``, ...) and their Tensor methods, built
from :mod:`gdl.linalg`, whose ops carry the gradients. Argument names, order and results
(namedtuples with PyTorch's field names) are PyTorch's; so are the old conventions where
they differ from ``torch.linalg`` (``svd`` returns ``V``, not ``Vh``; ``triangular_solve``
takes ``(b, A)``).

>>> import gdl
>>> gdl.svd(gdl.tensor([[3.0, 0.0], [0.0, -4.0]])).S
tensor([4., 3.], backend='numpy')
"""

from __future__ import annotations

from typing import NamedTuple

from gdl.tensor import Tensor


def _la():
    import gdl.linalg as la  # imported late: gdl.linalg imports gdl.functional

    return la


def _t(x):
    return x.transpose(-2, -1)


def _zeros(like, shape):
    be = like._backend
    return Tensor._wrap(be.xp.zeros(shape, dtype=like.data.dtype, device=be.device), be)


class SVD(NamedTuple):
    """``(U, S, V)`` of :func:`svd` (``A = U diag(S) Vᵀ``)."""

    U: Tensor
    S: Tensor
    V: Tensor


class QR(NamedTuple):
    """``(Q, R)`` of :func:`qr`."""

    Q: Tensor
    R: Tensor


class TriangularSolve(NamedTuple):
    """``(solution, cloned_coefficient)`` of :func:`triangular_solve`."""

    solution: Tensor
    cloned_coefficient: Tensor


class LUUnpack(NamedTuple):
    """``(P, L, U)`` of :func:`lu_unpack`."""

    P: Tensor
    L: Tensor
    U: Tensor


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVD:  # noqa: A002 (PyTorch's name)
    """``(U, S, V)`` with ``input = U diag(S) Vᵀ``, as ``torch.svd``: ``V`` (not ``Vh`` as
    in :func:`gdl.linalg.svd`); ``some=False`` gives square ``U`` and ``V``;
    ``compute_uv=False`` gives zero ``U`` ``(*, m, m)`` and ``V`` ``(*, n, n)``."""
    la = _la()
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        s = la.svdvals(input)
        batch = tuple(input.shape[:-2])
        return SVD(_zeros(input, batch + (m, m)), s, _zeros(input, batch + (n, n)))
    u, s, vh = la.svd(input, full_matrices=not some)
    return SVD(u, s, _t(vh))


def qr(input: Tensor, some: bool = True) -> QR:  # noqa: A002
    """``(Q, R)``, as ``torch.qr``: :func:`gdl.linalg.qr` with ``mode='reduced'``
    (``some=True``) or ``'complete'``."""
    return QR(*_la().qr(input, mode="reduced" if some else "complete"))


def cholesky(input: Tensor, upper: bool = False) -> Tensor:  # noqa: A002
    """The Cholesky factor, as ``torch.cholesky``: :func:`gdl.linalg.cholesky`."""
    return _la().cholesky(input, upper=bool(upper))


def _chol_check(op, L):  # noqa: N803
    if not isinstance(L, Tensor) or L.ndim < 2 or L.shape[-1] != L.shape[-2]:
        raise ValueError(f"{op}: the Cholesky factor must be a square matrix or a batch of them, got "
                         f"{getattr(L, 'shape', type(L).__name__)}")


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """The solution of ``A X = B`` with ``A = L Lᵀ`` (``Uᵀ U`` with ``upper=True``) given the
    factor, as ``torch.cholesky_solve``: only the factor's triangle is read, and the gradient
    is PyTorch's, ``-(gB Xᵀ + X gBᵀ) L`` on the whole factor."""
    _chol_check("cholesky_solve", L)
    tri = L.triu() if upper else L.tril()
    f = tri.detach() + (L - L.detach())  # the triangle's values, PyTorch's gradient on all of L
    return _la().solve(_t(f) @ f if upper else f @ _t(f), B)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """``(L Lᵀ)⁻¹`` (``(Uᵀ U)⁻¹`` with ``upper=True``) from the Cholesky factor, as
    ``torch.cholesky_inverse``."""
    _chol_check("cholesky_inverse", L)
    be = L._backend
    n = L.shape[-1]
    eye = Tensor._wrap(be.xp.broadcast_to(be.xp.eye(n, dtype=L.data.dtype, device=be.device), L.shape), be)
    return cholesky_solve(eye, L, upper)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False) -> TriangularSolve:
    """``(solution, cloned_coefficient)``, as ``torch.triangular_solve``: the solution of
    ``A X = b`` (``Aᵀ X = b`` with ``transpose``) for triangular ``A`` (upper by default),
    and a copy of ``A``."""
    la = _la()
    coeff = _t(A) if transpose else A
    x = la.solve_triangular(coeff, b, upper=bool(upper) != bool(transpose), unitriangular=unitriangular)
    return TriangularSolve(x, A.clone())


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):  # noqa: N803
    """``(A_LU, pivots)`` (``(A_LU, pivots, infos)`` with ``get_infos``), as ``torch.lu``:
    :func:`gdl.linalg.lu_factor_ex`; a singular matrix is factored (no error), as ``torch.lu``
    does with or without ``get_infos``."""
    la = _la()
    LU, pivots, infos = la.lu_factor_ex(A, pivot=pivot)  # noqa: N806
    return (LU, pivots, infos) if get_infos else (LU, pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """The solution of ``A X = b`` from ``torch.lu``'s factors, as ``torch.lu_solve``."""
    return _la().lu_solve(LU_data, LU_pivots, b)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True) -> LUUnpack:
    """``(P, L, U)`` from packed LU factors and LAPACK pivots, as ``torch.lu_unpack``
    (differentiable in ``LU_data``); what is not unpacked is an empty tensor."""
    la = _la()
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise ValueError(f"lu_unpack: LU_pivots must have shape {tuple(LU_data.shape[:-2]) + (k,)} for LU_data "
                         f"of shape {LU_data.shape}, got {LU_pivots.shape}")
    be = LU_data._backend
    empty = _zeros(LU_data, (0,))
    low, up = la._unpack(LU_data, k) if unpack_data else (empty, empty)
    p = empty
    if unpack_pivots:
        perm = la._perm_from_pivots(be, LU_pivots.data, m)
        p = Tensor._wrap(la._perm_matrix(be, perm, LU_data.data.dtype), be)
    return LUUnpack(p, low, up)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """The pseudo-inverse, as ``torch.pinverse``: :func:`gdl.linalg.pinv` with ``rtol=rcond``."""
    return _la().pinv(input, rtol=rcond)


def matrix_rank(input: Tensor, tol=None, symmetric: bool = False, *, atol=None, rtol=None,  # noqa: A002
                hermitian: bool = False) -> Tensor:
    """The rank, as ``torch.matrix_rank``: :func:`gdl.linalg.matrix_rank` (``tol`` is
    ``atol``, ``symmetric`` is ``hermitian``)."""
    return _la().matrix_rank(input, atol=tol if atol is None else atol, rtol=rtol,
                             hermitian=bool(symmetric or hermitian))


def ger(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product, as ``torch.ger`` (an alias of ``outer``)."""
    return _la().outer(input, vec2)


def orgqr(input: Tensor, tau: Tensor) -> Tensor:  # noqa: A002
    """As ``torch.orgqr``: :func:`gdl.linalg.householder_product`."""
    return _la().householder_product(input, tau)


__all__ = ["cholesky", "cholesky_inverse", "cholesky_solve", "ger", "lu", "lu_solve", "lu_unpack",
           "matrix_rank", "orgqr", "pinverse", "qr", "svd", "triangular_solve"]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {
    name: globals()[name]
    for name in ("cholesky", "cholesky_inverse", "cholesky_solve", "ger", "lu", "lu_solve", "orgqr",
                 "pinverse", "qr", "svd", "triangular_solve")
}
