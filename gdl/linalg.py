"""Linear algebra as ``torch.linalg``: norms, inverses and solves, determinants, the
Cholesky, eigen-, singular-value and QR decompositions, and what is built on them.

Every function takes a matrix or a batch of matrices (``(*, m, n)``: leading axes are
batch axes, broadcast where two operands meet, as in PyTorch) and is differentiable.
The factorizations compute their forward with the Array API's ``xp.linalg`` and define
their backward beside it, with PyTorch's formulas, so gradients match
``torch.linalg``'s; the rest (``matrix_norm``, ``matrix_power``, ``multi_dot``,
``lstsq``, ``cond``, ...) are built from those and other gdl ops and get their
backward from them.

Errors are PyTorch's: integer tensors are refused (a ``TypeError`` naming the
function and the dtype), non-square or too-flat inputs get a ``ValueError``, and a
singular matrix in :func:`inv` or :func:`solve`, or one that is not positive-definite
in :func:`cholesky`, raises :class:`LinAlgError`.

>>> import gdl, gdl.linalg
>>> A = gdl.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
>>> gdl.linalg.det(A)
tensor(8., backend='numpy', grad_fn=<LinalgDetBackward>)
>>> gdl.linalg.inv(A)
tensor([[0.5 , 0.  ],
        [0.  , 0.25]], backend='numpy', grad_fn=<LinalgInvBackward>)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from gdl import dtypes
from gdl.autograd import _OutputGrads
from gdl.functional import elementwise as E
from gdl.functional import linalg as FL
from gdl.functional import reduction as R
from gdl.functional import shape as S
from gdl.functional._util import check_axis, check_same_backend, unbroadcast
from gdl.tensor import Node, Tensor, is_grad_enabled, no_grad, result

inf = math.inf


class LinAlgError(RuntimeError, ValueError):
    """A matrix is singular or not positive-definite. A ``RuntimeError`` as
    ``torch.linalg.LinAlgError`` is, and a ``ValueError`` as NumPy's ``LinAlgError``."""


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` of :func:`slogdet`."""

    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)`` of :func:`eigh`."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """``(U, S, Vh)`` of :func:`svd`."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    """``(Q, R)`` of :func:`qr`."""

    Q: Tensor
    R: Tensor


class LstsqResult(NamedTuple):
    """``(solution, residuals, rank, singular_values)`` of :func:`lstsq`."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


# -- checks and plumbing ---------------------------------------------------------------------


def _float(op, x, name="A"):
    """``x`` if it is a float32 or float64 tensor, else a TypeError naming ``op``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{op}: expected a tensor for {name}, got {type(x).__name__}")
    if x.data.dtype not in x._backend.float_dtypes:
        if x.dtype.is_floating_point:
            raise TypeError(f"linalg.{op}: {x.dtype.name} is not supported, use float32 or float64")
        raise TypeError(
            f"linalg.{op}: expected a floating-point tensor, got {x.dtype.name} (PyTorch refuses integer "
            f"linear algebra too; convert with .float() or .double())"
        )
    return x


def _matrix(op, A, square=False, name="A"):
    """``A`` checked: float32/float64, at least 2-D, square if ``square``."""
    _float(op, A, name)
    if A.ndim < 2:
        raise ValueError(f"linalg.{op}: {name} must be a matrix or a batch of matrices (at least 2 "
                         f"dimensions), got shape {A.shape}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"linalg.{op}: {name} must be a square matrix or a batch of them, got shape "
                         f"{A.shape} ({A.shape[-2]} by {A.shape[-1]} matrices)")
    return A


def _same_dtype(op, A, B):
    if A.data.dtype != B.data.dtype:
        raise TypeError(f"linalg.{op}: A and B must have one dtype, got {A.dtype.name} and {B.dtype.name}")
    if A._backend is not B._backend:
        check_same_backend(f"linalg.{op}", A, B)


def _lapack(op, problem, fn, *args, **kwargs):
    """``fn(*args)``; a library's ``LinAlgError`` (NumPy's and CuPy's are named so) becomes
    gdl's :class:`LinAlgError`, naming ``op`` and ``problem``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if any(cls.__name__ == "LinAlgError" for cls in type(exc).__mro__):
            raise LinAlgError(f"linalg.{op}: {problem} ({exc})") from None
        raise


def _all(xp, cond) -> bool:
    return bool(xp.all(cond))


def _check_finite(op, problem, xp, out, *inputs):
    """Libraries that do not raise for a singular matrix (CuPy) give inf or NaN: raise
    here too, unless the input already held them."""
    if not _all(xp, xp.isfinite(out)) and all(_all(xp, xp.isfinite(x)) for x in inputs):
        raise LinAlgError(f"linalg.{op}: {problem}")


def _eye(be, n, dtype):
    return be.xp.eye(n, dtype=dtype, device=be.device)


def _diag_embed(be, v):
    """The batch of diagonal matrices with the last axis of ``v`` on their diagonals."""
    return v[..., :, None] * _eye(be, v.shape[-1], v.dtype)


def _symmetric(xp, a, upper=False):
    """The symmetric matrix that the lower (or upper) triangle of ``a`` stands for: what
    PyTorch's ``eigh``, ``cholesky`` read (the Array API leaves the other triangle
    unspecified, so gdl does not rely on any library reading one)."""
    if upper:
        return xp.triu(a) + xp.triu(a, k=1).mT
    return xp.tril(a) + xp.tril(a, k=-1).mT


def _results(arrays, be, inputs, backward, name, graph=None):
    """Tensors of the outputs ``arrays`` of one op, and one node behind them all:
    ``backward(grads)`` gets one gradient array (or None) per output and returns one per
    input. A hidden tensor made first collects the outputs' gradients, so its node runs
    (once) after all of them, as in ``gdl.autograd.Function``. ``graph(grads)``: the same
    on Tensors (:mod:`gdl.higher_order`), or None where there is none."""
    n = len(arrays)
    if not (is_grad_enabled() and any(t.requires_grad for t in inputs)):
        return [Tensor._wrap(a, be) for a in arrays]
    hub = Tensor._wrap(arrays[0], be)
    hub.requires_grad = True
    hub.grad_fn = Node(name, tuple(inputs), lambda collected: backward(collected.grads),
                       None if graph is None else lambda collected: graph(collected.grads))
    outs = []
    for i, a in enumerate(arrays):
        one = lambda g, i=i: (_OutputGrads.one(i, g, n),)  # noqa: E731
        outs.append(result(a, be, (hub,), one, name, one if graph is not None else None))
    return outs


# -- graph backwards (create_graph=True, gdl.higher_order): the backwards below on Tensors,
# written with the gdl.linalg functions themselves so that they differentiate again


def _t(x):
    return S.transpose(x, -2, -1)


def _mm(a, b):
    return FL.matmul(a, b)


def _const(be, array):
    return Tensor._wrap(array, be)


def _unb(g, shape):
    from gdl.higher_order import unbroadcast as _unbroadcast

    return _unbroadcast(g, shape)


def _diag_embed_t(v):
    from gdl.functional.misc import diag_embed

    return diag_embed(v)


def _needs_grad(*ts) -> bool:
    return is_grad_enabled() and any(t.requires_grad for t in ts)


def _cast(op, x, dtype):
    if dtype is None:
        return x
    if not dtypes.as_dtype(dtype).is_floating_point:
        raise TypeError(f"linalg.{op}: dtype must be a floating-point dtype, got {dtype!r}")
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{op}: expected a tensor, got {type(x).__name__}")
    return E.astype(x, dtype)


def _broadcastable(a, b) -> bool:
    return all(x == y or 1 in (x, y) for x, y in zip(reversed(a), reversed(b)))


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# -- norms -------------------------------------------------------------------------------------


def _norm_input(op, x, name):
    """``(x, half)`` for a norm: a float32/float64 ``x`` as it is; a float16 one (which the
    factorizations refuse, but PyTorch's norms take) as float32, so that sums of squares
    do not overflow, with ``half`` True to bring the result back to float16."""
    if isinstance(x, Tensor) and x.dtype == dtypes.float16:
        return E.astype(x, dtypes.float32), True
    return _float(op, x, name), False


def _narrowed(out, half):
    return E.astype(out, dtypes.float16) if half else out


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (an int, a tuple, or None for all
    elements), as ``torch.linalg.vector_norm``: ``ord`` is 2, 1, ``inf`` (largest
    ``|x|``), ``-inf``, 0 (the count of nonzeros, zero gradient) or any other number
    (``sum(|x|**ord) ** (1/ord)``). ``dim=()`` (or ``[]``) is every dimension, as None.
    ``dtype`` casts ``x`` first. float16 is computed in float32 and returned in float16
    (as PyTorch accumulates it). Where the norm is 0 the gradient is 0 (PyTorch's
    subgradient), tied largest ``|x|`` share it for ``inf``.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.vector_norm(gdl.tensor([3.0, -4.0]))
    tensor(5., backend='numpy')
    """
    x, half = _norm_input("vector_norm", _cast("vector_norm", x, dtype), "x")
    if not _is_number(ord):
        raise ValueError(f"linalg.vector_norm: ord must be a number or ±inf, got {ord!r}")
    if dim is not None and not isinstance(dim, int) and len(tuple(dim)) == 0:
        dim = None  # dim=() or [] is every dimension, as in PyTorch (not none of them)
    return _narrowed(FL.norm(x, ord, axis=dim, keepdims=bool(keepdim)), half)


def _two_dims(op, dim, ndim):
    try:
        d0, d1 = dim
    except (TypeError, ValueError):
        raise ValueError(f"linalg.{op}: dim must be a pair of dimensions, got {dim!r}") from None
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in (d0, d1)):
        raise TypeError(f"linalg.{op}: dim must be a pair of ints, got {dim!r}")
    d0, d1 = check_axis(d0, ndim, f"linalg.{op}"), check_axis(d1, ndim, f"linalg.{op}")
    if d0 == d1:
        raise ValueError(f"linalg.{op}: dim names one dimension twice: {dim!r}")
    return d0, d1


_MATRIX_ORDS = "'fro', 'nuc', 1, -1, 2, -2, inf or -inf"


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm over the two axes ``dim``, as ``torch.linalg.matrix_norm``:
    ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular values), 2 / -2 (largest /
    smallest singular value), 1 / -1 (largest / smallest column sum of ``|A|``), ``inf``
    / ``-inf`` (row sums). Built from :func:`svdvals`, sums and maxima, whose backwards
    give its gradient (ties share it, as in PyTorch). Matrices with no elements have norm
    0 (a ``ValueError`` for the orders PyTorch refuses there: -1, -2, -inf where the
    minimum is over nothing). float16 is taken (computed in float32, returned in float16)
    except for ``'nuc'``, 2 and -2, which need singular values (a ``TypeError``, as in
    PyTorch).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.matrix_norm(gdl.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6., backend='numpy')
    """
    A, half = _norm_input("matrix_norm", _cast("matrix_norm", A, dtype), "A")
    _matrix("matrix_norm", A)
    d0, d1 = _two_dims("matrix_norm", dim, A.ndim)
    keepdim = bool(keepdim)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise ValueError(f"linalg.matrix_norm: ord must be {_MATRIX_ORDS}, got {ord!r}")
    elif not _is_number(ord) or ord not in (1, -1, 2, -2, inf, -inf):
        raise ValueError(f"linalg.matrix_norm: ord must be {_MATRIX_ORDS}, got {ord!r}")
    if half and ord in ("nuc", 2, -2):
        raise TypeError(f"linalg.matrix_norm: float16 is not supported for ord={ord!r}, which needs singular "
                        f"values (as in PyTorch); use float32 or float64")
    return _narrowed(_matrix_norm(A, ord, d0, d1, keepdim), half)


def _matrix_norm(A, ord, d0, d1, keepdim):
    kept = tuple(1 if i in (d0, d1) else s for i, s in enumerate(A.shape))
    reduced = tuple(s for i, s in enumerate(A.shape) if i not in (d0, d1))
    if ord == "fro":
        return FL.norm(A, 2, axis=(d0, d1), keepdims=keepdim)
    if ord in ("nuc", 2, -2):
        if ord != "nuc" and min(A.shape[d0], A.shape[d1]) == 0:
            return _no_elements(A, ord, "singular values", kept if keepdim else reduced)
        moved = A if (d0, d1) == (A.ndim - 2, A.ndim - 1) else S.movedim(A, (d0, d1), (-2, -1))
        s = svdvals(moved)
        out = R.sum(s, axis=-1) if ord == "nuc" else R.max(s, axis=-1) if ord == 2 else R.min(s, axis=-1)
        return S.reshape(out, kept) if keepdim else out
    summed, picked = (d0, d1) if ord in (1, -1) else (d1, d0)
    if A.shape[picked] == 0:
        what = "columns" if ord in (1, -1) else "rows"
        return _no_elements(A, ord, f"{what} (the matrices are {A.shape[d0]} by {A.shape[d1]})",
                            kept if keepdim else reduced)
    sums = R.sum(E.abs(A), axis=summed, keepdims=True)
    out = (R.max if ord > 0 else R.min)(sums, axis=picked, keepdims=True)
    return out if keepdim else S.reshape(out, reduced)


def _no_elements(A, ord, what, shape):
    """The largest of no values is 0 for a norm (PyTorch's zeros, outside the graph as
    there); the smallest of none has no value: ``ValueError``, where PyTorch raises too."""
    if ord < 0:
        raise ValueError(f"linalg.matrix_norm: ord={ord} is the smallest over the matrices' {what}, and "
                         f"there are none (shape {A.shape})")
    be = A._backend
    return Tensor._wrap(be.xp.zeros(shape, dtype=A.data.dtype, device=be.device), be)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, chosen as ``torch.linalg.norm`` chooses: an int ``dim``
    (or one of one) is :func:`vector_norm`, two is :func:`matrix_norm`; without ``dim``,
    ``ord=None`` is the 2-norm of all elements, and another ``ord`` needs a 1-D
    (vector norm) or 2-D (matrix norm) ``A``.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.norm(gdl.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(5., backend='numpy')
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm, but dim names one dimension")
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise ValueError(f"linalg.norm: dim must name 1 or 2 dimensions, got {dim!r}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.norm: expected a tensor, got {type(A).__name__}")
    if A.ndim == 1:
        if isinstance(ord, str):
            raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm, but A is 1-D")
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: with ord and no dim, A must be 1-D or 2-D, got shape {A.shape} "
                     f"(pass dim to choose the dimensions)")


# -- inverses and solves ------------------------------------------------------------------------


def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch), as ``torch.linalg.inv``;
    a singular one raises :class:`LinAlgError`. Backward: ``-A⁻ᵀ g A⁻ᵀ``.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.inv(gdl.tensor([[2.0, 1.0], [0.0, 1.0]]))
    tensor([[ 0.5, -0.5],
            [ 0. ,  1. ]], backend='numpy')
    """
    _matrix("inv", A, square=True)
    be = A._backend
    xp = be.xp
    problem = "the matrix is singular, it has no inverse"
    out = _lapack("inv", problem, xp.linalg.inv, A.data)
    _check_finite("inv", problem, xp, out, A.data)

    def backward(g):
        t = out.mT
        return (-be.matmul(be.matmul(t, g), t),)

    def graph(g):
        t = _t(inv(A))
        return (-_mm(_mm(t, g), t),)

    return result(out, be, (A,), backward, "LinalgInv", graph)


def _vector_rhs(A, B) -> bool:
    """PyTorch's rule: ``B`` is a (batch of) vector(s) if 1-D or of shape ``A.shape[:-1]``."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``), as
    ``torch.linalg.solve``: ``B`` is ``(*, n, k)`` or a batch of vectors ``(*, n)`` (1-D,
    or of shape ``A.shape[:-1]``); batch axes broadcast. A singular ``A`` raises
    :class:`LinAlgError`. Backward: ``grad_B = A⁻ᵀ g``, ``grad_A = -grad_B Xᵀ``.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.solve(gdl.tensor([[2.0, 0.0], [0.0, 4.0]]), gdl.tensor([2.0, 2.0]))
    tensor([1. , 0.5], backend='numpy')
    """
    A, B = FL._tensors("linalg.solve", A, B)
    _matrix("solve", A, square=True)
    _float("solve", B, "B")
    _same_dtype("solve", A, B)
    n = A.shape[-1]
    if not left:
        if _vector_rhs(A, B) or B.ndim < 2:
            raise ValueError(f"linalg.solve: left=False needs B to be a matrix or a batch of them, got shape "
                             f"{B.shape} (solve X A = B for a vector with left=True and A.mT)")
        if B.shape[-1] != n:
            raise ValueError(f"linalg.solve: shapes {A.shape} and {B.shape} do not fit X A = B")
        return S.transpose(solve(S.transpose(A, -2, -1), S.transpose(B, -2, -1)), -2, -1)
    be = A._backend
    xp = be.xp
    vector = _vector_rhs(A, B)
    xb = B.data[..., None] if vector else B.data
    if xb.shape[-2] != n:
        raise ValueError(f"linalg.solve: shapes {A.shape} and {B.shape} do not fit A X = B (A is {n} by {n}, "
                         f"B has {xb.shape[-2]} rows)")
    if not _broadcastable(A.shape[:-2], tuple(xb.shape[:-2])):
        raise ValueError(f"linalg.solve: cannot broadcast the batch dimensions of {A.shape} and {B.shape}")
    problem = "A is singular, the system has no unique solution"
    x = _lapack("solve", problem, _solve, xp, A.data, xb)
    _check_finite("solve", problem, xp, x, A.data, xb)
    out = x[..., 0] if vector else x
    need_a, need_b = A.requires_grad, B.requires_grad

    def backward(g):
        g2 = g[..., None] if vector else g
        gb = _solve(xp, A.data.mT, g2)  # (the broadcast batch, n, k)
        ga = unbroadcast(xp, -be.matmul(gb, x.mT), A.shape) if need_a else None
        if need_b:
            gb = unbroadcast(xp, gb, xb.shape)
            gb = gb[..., 0] if vector else gb
        return (ga, gb if need_b else None)

    def graph(g):
        g2 = S.unsqueeze(g, -1) if vector else g
        gb = solve(_t(A), g2)  # (the broadcast batch, n, k): never read as a vector
        ga = None
        if need_a:
            xt = solve(A, B)
            xt = S.unsqueeze(xt, -1) if vector else xt
            ga = _unb(-_mm(gb, _t(xt)), A.shape)
        if need_b:
            gb = _unb(gb, tuple(xb.shape))
            gb = S.squeeze(gb, -1) if vector else gb
        return (ga, gb if need_b else None)

    return result(out, be, (A, B), backward, "LinalgSolve", graph)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``) for a triangular
    ``A``, as ``torch.linalg.solve_triangular``: only the upper (``upper=True``) or lower
    triangle of ``A`` is read, and with ``unitriangular`` its diagonal is taken as ones.
    ``B`` is a matrix or a batch ``(*, n, k)`` (``(*, k, n)`` with ``left=False``); batch
    axes broadcast. Backward: ``grad_B = A⁻ᵀ g`` and ``grad_A = -grad_B Xᵀ`` on the triangle read.

    >>> import gdl, gdl.linalg
    >>> A = gdl.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> gdl.linalg.solve_triangular(A, gdl.tensor([[3.0], [4.0]]), upper=True)
    tensor([[1.],
            [1.]], backend='numpy')
    """
    A, B = FL._tensors("linalg.solve_triangular", A, B)
    _matrix("solve_triangular", A, square=True)
    _float("solve_triangular", B, "B")
    _same_dtype("solve_triangular", A, B)
    n = A.shape[-1]
    if B.ndim < 2:
        raise ValueError(f"linalg.solve_triangular: B must be a matrix or a batch of them, got shape {B.shape} "
                         f"(for a vector b use b.unsqueeze(-1))")
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "A X = B" if left else "X A = B"
        raise ValueError(f"linalg.solve_triangular: shapes {A.shape} and {B.shape} do not fit {eq}")
    if not _broadcastable(A.shape[:-2], B.shape[:-2]):
        raise ValueError(f"linalg.solve_triangular: cannot broadcast the batch dimensions of {A.shape} and {B.shape}")
    be = A._backend
    xp = be.xp
    t = xp.triu(A.data) if upper else xp.tril(A.data)
    if unitriangular:
        eye = _eye(be, n, A.data.dtype)
        t = t * (1.0 - eye) + eye
    problem = "A is singular (a zero on its diagonal), the system has no unique solution"
    if left:
        x = _lapack("solve_triangular", problem, _solve, xp, t, B.data)
    else:
        x = _lapack("solve_triangular", problem, _solve, xp, t.mT, B.data.mT).mT
    _check_finite("solve_triangular", problem, xp, x, t, B.data)
    need_a, need_b = A.requires_grad, B.requires_grad

    def backward(g):
        gb = _solve(xp, t.mT, g) if left else _solve(xp, t, g.mT).mT
        ga = None
        if need_a:
            full = -be.matmul(gb, x.mT) if left else -be.matmul(x.mT, gb)
            k = 1 if unitriangular else 0  # a unit diagonal is not read: no gradient there
            ga = unbroadcast(xp, xp.triu(full, k=k) if upper else xp.tril(full, k=-k), A.shape)
        return (ga, unbroadcast(xp, gb, B.shape) if need_b else None)

    def graph(g):
        # A⁻ᵀ g (g A⁻ᵀ): the transpose of A's triangle is a triangle of the other kind
        gb = solve_triangular(_t(A), g, upper=not upper, left=left, unitriangular=unitriangular)
        ga = None
        if need_a:
            xt = solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular)
            full = -_mm(gb, _t(xt)) if left else -_mm(_t(xt), gb)
            k = 1 if unitriangular else 0
            ga = _unb(S.triu(full, k) if upper else S.tril(full, -k), A.shape)
        return (ga, _unb(gb, B.shape) if need_b else None)

    return result(x, be, (A, B), backward, "LinalgSolveTriangular", graph)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` read as a linear map from its last ``ndim − ind`` axes to its
    first ``ind`` ones, as ``torch.linalg.tensorinv``: the result has shape
    ``A.shape[ind:] + A.shape[:ind]``, and ``tensordot(tensorinv(A), A, ind)`` is the identity."""
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: expected a strictly positive integer for ind, got {ind!r}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ValueError(f"linalg.tensorinv: the product of the first {ind} dimensions of A {A.shape} ({rows}) "
                         f"must equal the product of the rest ({cols})")
    return S.reshape(inv(S.reshape(A, (rows, cols))), tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``, as ``torch.linalg.tensorsolve``: ``X``
    has shape ``A.shape[B.ndim:]``; ``dims`` first moves those axes of ``A`` to the end."""
    A, B = FL._tensors("linalg.tensorsolve", A, B)
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        rest = [d for d in range(A.ndim) if d not in {d % A.ndim for d in dims}]
        A = S.permute(A, tuple(rest) + tuple(d % A.ndim for d in dims))
    if tuple(A.shape[:B.ndim]) != tuple(B.shape):
        raise ValueError(f"linalg.tensorsolve: the leading dimensions of A {A.shape} must be B's shape {B.shape}")
    x_shape = tuple(A.shape[B.ndim:])
    rows, cols = math.prod(B.shape), math.prod(x_shape)
    if rows != cols:
        raise ValueError(f"linalg.tensorsolve: A {A.shape} does not make a square system for B {B.shape} "
                         f"({rows} equations, {cols} unknowns)")
    return S.reshape(solve(S.reshape(A, (rows, cols)), S.reshape(B, (rows,))), x_shape)


def vander(x: Tensor, N: int | None = None) -> Tensor:
    """The Vandermonde matrix with increasing powers ``x**0, x**1, ..., x**(N-1)`` along a
    new last axis (batches of vectors too), as ``torch.linalg.vander``; ``N`` defaults to
    ``x.shape[-1]``. Built by repeated multiplication, so the gradient at ``x = 0`` is finite.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.vander(gdl.tensor([2.0, 3.0]), N=3)
    tensor([[1., 2., 4.],
            [1., 3., 9.]], backend='numpy')
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vander: expected a Tensor, got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"linalg.vander: N must be a non-negative int, got {N!r}")
    if n == 0:
        return S.reshape(x[..., :0], tuple(x.shape) + (0,)) * 1
    columns = [E.mul(x, 0) + 1]
    for _ in range(n - 1):
        columns.append(columns[-1] * x)
    return S.stack(columns, axis=-1)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential, as ``torch.linalg.matrix_exp`` (the same as ``gdl.matrix_exp``)."""
    from gdl.functional.linalg_extra import matrix_exp as _matrix_exp

    return _matrix_exp(A)


def _solve(xp, a, b):
    """``xp.linalg.solve`` with the batch axes broadcast first (not every library does it)."""
    if a.shape[:-2] != b.shape[:-2]:
        batch = _broadcast_shape(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        a = xp.broadcast_to(a, batch + tuple(a.shape[-2:]))
        b = xp.broadcast_to(b, batch + tuple(b.shape[-2:]))
    return xp.linalg.solve(a, b)


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(x if y == 1 else y for x, y in zip(a, b))


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv``, from the SVD (the
    eigendecomposition of the lower triangle with ``hermitian=True``): singular values
    at most ``max(atol, rtol * largest)`` count as 0 (defaults: ``atol=0``,
    ``rtol = eps * max(m, n)``, or 0 when ``atol > 0``). Backward: PyTorch's formula
    for a matrix of constant rank.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.pinv(gdl.tensor([[1.0, 0.0], [0.0, 0.0]]))
    tensor([[1., 0.],
            [0., 0.]], backend='numpy')
    """
    _matrix("pinv", A, square=hermitian)
    be = A._backend
    xp = be.xp
    a = A.data
    m, n = a.shape[-2], a.shape[-1]
    if hermitian:
        w, v = xp.linalg.eigh(_symmetric(xp, a))
        keep = xp.abs(w) > _tolerance(xp, xp.abs(w), a, atol, rtol)
        winv = xp.where(keep, 1.0 / xp.where(keep, w, xp.ones_like(w)), xp.zeros_like(w))
        out = be.matmul(v * winv[..., None, :], v.mT)
    elif min(m, n) == 0:
        out = xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype, device=be.device)
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        keep = s > _tolerance(xp, s, a, atol, rtol)
        sinv = xp.where(keep, 1.0 / xp.where(keep, s, xp.ones_like(s)), xp.zeros_like(s))
        out = be.matmul(vh.mT * sinv[..., None, :], u.mT)

    def backward(g):
        p, ph, gh = out, out.mT, g.mT
        mm = be.matmul
        if m <= n:
            k = mm(gh, p)
            kph = mm(k, ph)
            return (-mm(p, k).mT + kph - mm(mm(a, p), kph) + mm(mm(ph, p), gh - mm(k, a)),)
        k = mm(p, gh)
        phk = mm(ph, k)
        return (-mm(k, p).mT + mm(mm(gh - mm(a, k), p), ph) + phk - mm(mm(phk, p), a),)

    def graph(g):
        p = pinv(A, atol=atol, rtol=rtol, hermitian=hermitian)
        ph, gh, ta = _t(p), _t(g), A
        if m <= n:
            k = _mm(gh, p)
            kph = _mm(k, ph)
            return (-_t(_mm(p, k)) + kph - _mm(_mm(ta, p), kph) + _mm(_mm(ph, p), gh - _mm(k, ta)),)
        k = _mm(p, gh)
        phk = _mm(ph, k)
        return (-_t(_mm(k, p)) + _mm(_mm(gh - _mm(ta, k), p), ph) + phk - _mm(_mm(phk, p), ta),)

    return result(out, be, (A,), backward, "LinalgPinv", graph)


def _tolerance(xp, s, a, atol, rtol):
    """PyTorch's cut-off for ``pinv``/``matrix_rank``: ``max(atol, rtol * max(s))`` per matrix
    (kept as ``(*, 1)`` against the singular values ``s`` of shape ``(*, k)``)."""
    m, n = a.shape[-2], a.shape[-1]
    if isinstance(atol, Tensor):
        atol = atol.data
    if isinstance(rtol, Tensor):
        rtol = rtol.data
    if rtol is None:
        positive = atol is not None and (_all(xp, atol > 0) if not _is_number(atol) else atol > 0)
        rtol = 0.0 if positive else float(xp.finfo(a.dtype).eps) * max(m, n)
    top = xp.max(s, axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    tol = top * rtol if _is_number(rtol) else top * xp.astype(rtol, s.dtype)[..., None]
    if atol is not None:
        floor = xp.full_like(tol, atol) if _is_number(atol) else xp.astype(atol, s.dtype)[..., None]
        tol = xp.maximum(tol, floor)
    return tol


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> LstsqResult:
    """The least-squares solution of ``A X ≈ B`` (the minimum-norm one when ``A`` has more
    columns than rows), as ``torch.linalg.lstsq``, computed as ``pinv(A) @ B`` with
    ``rcond`` as pinv's ``rtol``; differentiable for full-rank ``A`` (through
    :func:`pinv` and ``matmul``). ``B`` may be ``(*, m)`` when ``A`` is ``(*, m, n)``.
    Like PyTorch's CPU default (``driver='gelsy'``) it returns the rank of ``A`` and
    empty ``residuals`` and ``singular_values``; ``driver`` is accepted and ignored.

    >>> import gdl, gdl.linalg
    >>> A = gdl.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> gdl.linalg.lstsq(A, gdl.tensor([1.0, 1.0, 2.0])).solution
    tensor([1., 1.], backend='numpy')
    """
    A, B = FL._tensors("linalg.lstsq", A, B)
    _matrix("lstsq", A)
    _float("lstsq", B, "B")
    _same_dtype("lstsq", A, B)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise ValueError(f"linalg.lstsq: driver must be None, 'gels', 'gelsy', 'gelsd' or 'gelss', got {driver!r}")
    vector = B.ndim == A.ndim - 1
    rows = B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else None)
    if rows != A.shape[-2]:
        raise ValueError(f"linalg.lstsq: A of shape {A.shape} and B of shape {B.shape} do not fit A X = B "
                         f"(A has {A.shape[-2]} rows)")
    p = pinv(A, rtol=rcond)
    x = FL.matmul(p, S.unsqueeze(B, -1)) if vector else FL.matmul(p, B)
    solution = S.squeeze(x, -1) if vector else x
    xp = A._backend.xp
    empty = Tensor._wrap(xp.zeros((0,), dtype=A.data.dtype, device=A._backend.device), A._backend)
    return LstsqResult(solution, empty, matrix_rank(A, rtol=rcond), empty)


# -- determinants -------------------------------------------------------------------------------


def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch), as ``torch.linalg.det``.
    Backward: ``g`` times the cofactor matrix, ``det(A) A⁻ᵀ`` for an invertible ``A`` and
    from the SVD otherwise (so a singular matrix gets its true, finite gradient).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.det(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2., backend='numpy')
    """
    _matrix("det", A, square=True)
    be = A._backend
    xp = be.xp
    a = A.data
    out = xp.linalg.det(a)

    def backward(g):
        return (g[..., None, None] * _cofactor(be, a, out),)

    def graph(g):
        if not _all(xp, out != 0):
            raise NotImplementedError("create_graph=True: linalg.det at a singular matrix (its gradient, the "
                                      "cofactor matrix, is computed from the SVD there and has no graph backward)")
        return (S.unsqueeze(S.unsqueeze(g * det(A), -1), -1) * _t(inv(A)),)

    return result(out, be, (A,), backward, "LinalgDet", graph)


def _cofactor(be, a, d):
    """The cofactor matrix ``∂det(a)/∂a`` (``det · a⁻ᵀ`` when every ``d = det(a)`` is nonzero).

    Singular matrices: with ``a = U diag(s) Vh``, ``det(a) = det(U) det(Vh) ∏ s``, so its
    gradient is ``det(U) det(Vh) · U diag(∏_{j≠i} s_j) Vh`` (no division by a zero ``s``)."""
    xp = be.xp
    if _all(xp, d != 0):
        try:
            return d[..., None, None] * xp.linalg.inv(a).mT
        except Exception as exc:  # a determinant that underflowed to nonzero: use the SVD
            if not any(cls.__name__ == "LinAlgError" for cls in type(exc).__mro__):
                raise
    u, s, vh = xp.linalg.svd(a)
    n = s.shape[-1]
    eye = _eye(be, n, s.dtype)
    others = xp.prod(s[..., None, :] * (1.0 - eye) + eye, axis=-1)  # ∏_{j≠i} s_j
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    return sign[..., None, None] * be.matmul(u * others[..., None, :], vh)


def slogdet(A: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)``: the sign of the determinant (1, -1, or 0 for a singular
    matrix) and the log of its absolute value, as ``torch.linalg.slogdet`` (a NamedTuple).
    ``sign``'s gradient is 0 (it is piecewise constant), ``logabsdet``'s is ``A⁻ᵀ`` (a
    singular matrix, where it is ``-inf``, raises :class:`LinAlgError` in backward).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.slogdet(gdl.tensor([[0.0, 2.0], [1.0, 0.0]]))
    SlogdetResult(sign=tensor(-1., backend='numpy'), logabsdet=tensor(0.6931472, backend='numpy'))
    """
    _matrix("slogdet", A, square=True)
    be = A._backend
    xp = be.xp
    sign, logabs = xp.linalg.slogdet(A.data)

    def backward(grads):
        g = grads[1]
        if g is None:  # only the sign was used: its gradient is 0
            return (xp.zeros_like(A.data),)
        problem = "backward at a singular matrix: logabsdet is -inf there and has no gradient"
        a_inv = _lapack("slogdet", problem, xp.linalg.inv, A.data)
        _check_finite("slogdet", problem, xp, a_inv, A.data)
        return (g[..., None, None] * a_inv.mT,)

    def graph(grads):
        g = grads[1]
        if g is None:
            return (_const(be, xp.zeros_like(A.data)),)
        try:
            a_inv = inv(A)
        except LinAlgError:
            raise LinAlgError("linalg.slogdet: backward at a singular matrix: logabsdet is -inf there and has "
                              "no gradient") from None
        return (S.unsqueeze(S.unsqueeze(g, -1), -1) * _t(a_inv),)

    return SlogdetResult(*_results((sign, logabs), be, (A,), backward, "LinalgSlogdet", graph))


def logdet(A: Tensor) -> Tensor:
    """``log(det(A))``, as ``torch.logdet``: NaN where the determinant is negative, ``-inf``
    where it is 0; the gradient is ``A⁻ᵀ`` where the determinant is positive.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.logdet(gdl.tensor([[2.0, 0.0], [0.0, 3.0]]))   # log 6
    tensor(1.7917595, backend='numpy')
    """
    from gdl.functional.elementwise import where
    from gdl.tensor import full_like

    sign, logabs = slogdet(A)
    sign = sign.detach()
    other = where(sign == 0, full_like(logabs, float("-inf")), full_like(logabs, float("nan")))
    return where(sign > 0, logabs, other)


# -- decompositions -----------------------------------------------------------------------------


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower triangular, ``A = L Lᵀ``) of a symmetric
    positive-definite matrix, or ``U = Lᵀ`` with ``upper=True``, as
    ``torch.linalg.cholesky``: only the lower (``upper``: the upper) triangle of ``A`` is
    read. A matrix that is not positive-definite raises :class:`LinAlgError`. Backward:
    ``L⁻ᵀ Φ L⁻¹`` with ``Φ`` the symmetric matrix of ``tril(Lᵀ g)`` (diagonal halved),
    PyTorch's (symmetric) gradient.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.cholesky(gdl.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]], backend='numpy')
    """
    _matrix("cholesky", A, square=True)
    be = A._backend
    xp = be.xp
    problem = "the input is not positive-definite, the factorization could not be completed"
    low = _lapack("cholesky", problem, xp.linalg.cholesky, _symmetric(xp, A.data, upper))
    if not _all(xp, xp.linalg.diagonal(low) > 0):  # a library that does not raise leaves a pivot <= 0 or NaN
        raise LinAlgError(f"linalg.cholesky: {problem}")
    out = low.mT if upper else low

    def backward(g):
        gl = g.mT if upper else g
        p = xp.tril(be.matmul(low.mT, gl))
        phi = 0.5 * (p + xp.tril(p, k=-1).mT)
        l_inv = xp.linalg.inv(low)
        return (be.matmul(be.matmul(l_inv.mT, phi), l_inv),)

    def graph(g):
        factor = cholesky(A, upper=upper)
        lt = factor if upper else _t(factor)  # Lᵀ
        low_t = _t(lt)
        p = S.tril(_mm(lt, _t(g) if upper else g))
        phi = 0.5 * (p + _t(S.tril(p, -1)))
        left_part = solve_triangular(lt, phi, upper=True)  # L⁻ᵀ Φ
        return (solve_triangular(low_t, left_part, upper=False, left=False),)  # L⁻ᵀ Φ L⁻¹

    return result(out, be, (A,), backward, "LinalgCholesky", graph)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803 (PyTorch's name)
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric
    matrix, as ``torch.linalg.eigh``; only the lower (``UPLO='U'``: upper) triangle is
    read. Backward (PyTorch's): ``V (diag(gL) + skew(Vᵀ gV) / E) Vᵀ`` with ``E_ij = λ_j -
    λ_i``, so repeated eigenvalues give inf/NaN gradients for the eigenvectors, as there.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.eigh(gdl.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    tensor([1., 2.], backend='numpy')
    """
    _matrix("eigh", A, square=True)
    upper = _uplo("eigh", UPLO)
    be = A._backend
    xp = be.xp
    w, v = xp.linalg.eigh(_symmetric(xp, A.data, upper))

    def backward(grads):
        gw, gv = grads
        return (_eigh_backward(be, w, v, gw, gv),)

    def graph(grads):
        gw, gv = grads
        tw, tv = eigh(A, UPLO)
        return (_eigh_graph(be, tw, tv, gw, gv),)

    return EighResult(*_results((w, v), be, (A,), backward, "LinalgEigh", graph))


def _uplo(op, UPLO) -> bool:  # noqa: N803
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "U"


def _eigh_backward(be, w, v, gw, gv):
    vt = v.mT
    if gv is None:
        return be.matmul(v * gw[..., None, :], vt)
    vgv = be.matmul(vt, gv)
    vgv = 0.5 * (vgv - vgv.mT)
    eye = _eye(be, w.shape[-1], w.dtype)
    e = w[..., None, :] - w[..., :, None] + eye  # E_ij = λ_j - λ_i, ones on the diagonal
    inner = vgv / e
    if gw is not None:
        inner = inner + _diag_embed(be, gw)
    return be.matmul(be.matmul(v, inner), vt)


def _eigh_graph(be, w, v, gw, gv):
    """:func:`_eigh_backward` on Tensors (``w``, ``v`` recomputed by :func:`eigh`)."""
    vt = _t(v)
    if gv is None:
        return _mm(v * S.unsqueeze(gw, -2), vt)
    vgv = _mm(vt, gv)
    vgv = 0.5 * (vgv - _t(vgv))
    eye = _const(be, _eye(be, w.shape[-1], w.data.dtype))
    e = S.unsqueeze(w, -2) - S.unsqueeze(w, -1) + eye
    inner = vgv / e
    if gw is not None:
        inner = inner + _diag_embed_t(gw)
    return _mm(_mm(v, inner), vt)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues (ascending) of a symmetric matrix, as ``torch.linalg.eigvalsh``.
    Backward: ``V diag(g) Vᵀ`` (the eigenvectors are computed when a gradient is needed).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.eigvalsh(gdl.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.], backend='numpy')
    """
    _matrix("eigvalsh", A, square=True)
    upper = _uplo("eigvalsh", UPLO)
    be = A._backend
    xp = be.xp
    a = _symmetric(xp, A.data, upper)
    if not _needs_grad(A):
        return Tensor._wrap(xp.linalg.eigvalsh(a), be)
    w, v = xp.linalg.eigh(a)
    def graph(g):
        return (_eigh_graph(be, None, eigh(A, UPLO)[1], g, None),)

    return result(w, be, (A,), lambda g: (_eigh_backward(be, w, v, g, None),), "LinalgEigvalsh", graph)


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition ``A = U diag(S) Vh`` (``S`` descending), as
    ``torch.linalg.svd``; ``full_matrices=False`` gives the reduced one (``U`` is
    ``(*, m, k)``, ``Vh`` ``(*, k, n)``, ``k = min(m, n)``). Backward: PyTorch's formula;
    with ``full_matrices=True`` the gradients of the extra columns of ``U`` and rows of
    ``Vh`` (an arbitrary basis) are ignored, as PyTorch does. Repeated singular values
    give inf/NaN gradients for ``U`` and ``Vh``, as there.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.svd(gdl.tensor([[3.0, 0.0], [0.0, -4.0]])).S
    tensor([4., 3.], backend='numpy')
    """
    _matrix("svd", A)
    be = A._backend
    xp = be.xp
    u, s, vh = xp.linalg.svd(A.data, full_matrices=bool(full_matrices))
    k = s.shape[-1]

    def backward(grads):
        gu, gs, gvh = grads
        uk, vhk = u, vh
        if full_matrices:
            uk, vhk = u[..., :, :k], vh[..., :k, :]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        return (_svd_backward(be, uk, s, vhk, gu, gs, gvh),)

    def graph(grads):
        gu, gs, gvh = grads
        tu, ts, tvh = svd(A, full_matrices=full_matrices)
        if full_matrices:
            tu, tvh = tu[..., :, :k], tvh[..., :k, :]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        return (_svd_graph(be, tu, ts, tvh, gu, gs, gvh),)

    return SVDResult(*_results((u, s, vh), be, (A,), backward, "LinalgSvd", graph))


def _svd_graph(be, u, s, vh, gu, gs, gvh):
    """:func:`_svd_backward` on Tensors (``u``, ``s``, ``vh`` recomputed by :func:`svd`)."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return _mm(u * S.unsqueeze(gs, -2), vh)
    eye = _const(be, _eye(be, s.shape[-1], s.data.dtype))
    s2 = s * s
    e = S.unsqueeze(s2, -2) - S.unsqueeze(s2, -1) + eye
    inner = None
    if gu is not None:
        uhgu = _mm(_t(u), gu)
        inner = (uhgu - _t(uhgu)) * S.unsqueeze(s, -2)
    if gvh is not None:
        vhgv = _mm(vh, _t(gvh))
        part = S.unsqueeze(s, -1) * (vhgv - _t(vhgv))
        inner = part if inner is None else inner + part
    inner = inner / e
    if gs is not None:
        inner = inner + _diag_embed_t(gs)
    if m > n and gu is not None:
        ga = _mm(u, inner)
        gus = gu / S.unsqueeze(s, -2)
        ga = ga + gus - _mm(u, _mm(_t(u), gus))
        return _mm(ga, vh)
    if m < n and gvh is not None:
        ga = _mm(inner, vh)
        sgvh = gvh / S.unsqueeze(s, -1)
        ga = ga + sgvh - _mm(_mm(sgvh, _t(vh)), vh)
        return _mm(u, ga)
    return _mm(u, _mm(inner, vh))


def _svd_backward(be, u, s, vh, gu, gs, gvh):
    """PyTorch's ``svd_backward`` for the reduced SVD (real matrices)."""
    mm = be.matmul
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return mm(u * gs[..., None, :], vh)
    eye = _eye(be, s.shape[-1], s.dtype)
    s2 = s * s
    e = s2[..., None, :] - s2[..., :, None] + eye  # E_ij = s_j² - s_i², ones on the diagonal
    inner = 0.0
    if gu is not None:
        uhgu = mm(u.mT, gu)
        inner = (uhgu - uhgu.mT) * s[..., None, :]
    if gvh is not None:
        vhgv = mm(vh, gvh.mT)
        inner = inner + s[..., :, None] * (vhgv - vhgv.mT)
    inner = inner / e
    if gs is not None:
        inner = inner + _diag_embed(be, gs)
    if m > n and gu is not None:  # the part of gU outside U's columns
        ga = mm(u, inner)
        gus = gu / s[..., None, :]
        ga = ga + gus - mm(u, mm(u.mT, gus))
        return mm(ga, vh)
    if m < n and gvh is not None:  # the part of gVh outside Vh's rows
        ga = mm(inner, vh)
        sgvh = gvh / s[..., :, None]
        ga = ga + sgvh - mm(mm(sgvh, vh.mT), vh)
        return mm(u, ga)
    return mm(u, mm(inner, vh))


def svdvals(A: Tensor) -> Tensor:
    """The singular values of ``A`` (descending), as ``torch.linalg.svdvals``. Backward:
    ``U diag(g) Vh`` (the singular vectors are computed when a gradient is needed).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.svdvals(gdl.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.], backend='numpy')
    """
    _matrix("svdvals", A)
    be = A._backend
    xp = be.xp
    if not _needs_grad(A):
        return Tensor._wrap(xp.linalg.svdvals(A.data), be)
    u, s, vh = xp.linalg.svd(A.data, full_matrices=False)
    def graph(g):
        tu, _, tvh = svd(A, full_matrices=False)
        return (_mm(tu * S.unsqueeze(g, -2), tvh),)

    return result(s, be, (A,), lambda g: (be.matmul(u * g[..., None, :], vh),), "LinalgSvdvals", graph)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """The QR decomposition ``A = Q R`` (``Q`` with orthonormal columns, ``R`` upper
    triangular), as ``torch.linalg.qr``: ``mode='reduced'`` (``Q`` is ``(*, m, k)``),
    ``'complete'`` (``Q`` is ``(*, m, m)``) or ``'r'`` (``R`` only; ``Q`` is empty).
    Backward: PyTorch's formula; as there, ``mode='r'``, and ``'complete'`` with more rows
    than columns, raise in backward (``Q`` is missing, or not determined by ``A``).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.qr(gdl.tensor([[3.0, 1.0], [4.0, 2.0]])).R.abs()
    tensor([[5. , 2.2],
            [0. , 0.4]], backend='numpy')
    """
    _matrix("qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    be = A._backend
    xp = be.xp
    q, r = xp.linalg.qr(A.data, mode="complete" if mode == "complete" else "reduced")
    m, n = A.shape[-2], A.shape[-1]

    def backward(grads):
        if mode == "r":
            raise RuntimeError("linalg.qr: the derivative depends on Q, which is not computed with mode='r'; "
                               "use mode='reduced' to differentiate through qr")
        if mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: not differentiable with mode='complete' and more rows than columns "
                               "(the extra columns of Q are not determined by A); use mode='reduced'")
        return (_qr_backward(be, q, r, *grads),)

    def graph(grads):
        if mode == "r" or (mode == "complete" and m > n):
            backward(grads)  # raises, as the first-order backward does
        tq, tr = qr(A, mode=mode)
        return (_qr_graph(be, tq, tr, *grads),)

    if mode == "r":
        empty = xp.zeros((0,), dtype=q.dtype, device=be.device)
        return QRResult(Tensor._wrap(empty, be), _results((r,), be, (A,), lambda gs: backward((None, gs[0])),
                                                          "LinalgQr", lambda gs: graph((None, gs[0])))[0])
    return QRResult(*_results((q, r), be, (A,), backward, "LinalgQr", graph))


def _qr_backward(be, q, r, gq, gr):
    """PyTorch's ``linalg_qr_backward`` (real matrices); triangular solves are general ones."""
    xp = be.xp
    mm = be.matmul
    m, n = q.shape[-2], r.shape[-1]
    if gq is None:
        M = mm(gr, r.mT)  # noqa: N806
    else:
        M = -mm(q.mT, gq) if gr is None else mm(gr, r.mT) - mm(q.mT, gq)  # noqa: N806
    if m >= n:
        sym = xp.triu(M) + xp.triu(M, k=1).mT
        b = mm(q, sym)
        if gq is not None:
            b = b + gq
        return xp.linalg.solve(r, b.mT).mT  # b R⁻ᵀ
    skew = xp.tril(M.mT - M)
    b = xp.linalg.solve(r[..., :, :m], mm(q, skew).mT).mT  # (Q skew) R₁⁻ᵀ
    ga = xp.concat([b, xp.zeros(b.shape[:-1] + (n - m,), dtype=b.dtype, device=be.device)], axis=-1)
    return ga if gr is None else ga + mm(q, gr)


def _qr_graph(be, q, r, gq, gr):
    """:func:`_qr_backward` on Tensors (``q``, ``r`` recomputed by :func:`qr`); the
    triangular solves are :func:`solve_triangular` on ``R``."""
    m, n = q.shape[-2], r.shape[-1]
    if gq is None:
        M = _mm(gr, _t(r))  # noqa: N806
    else:
        M = -_mm(_t(q), gq) if gr is None else _mm(gr, _t(r)) - _mm(_t(q), gq)  # noqa: N806
    if m >= n:
        sym = S.triu(M) + _t(S.triu(M, 1))
        b = _mm(q, sym)
        if gq is not None:
            b = b + gq
        return solve_triangular(_t(r), b, upper=False, left=False)  # b R⁻ᵀ
    skew = S.tril(_t(M) - M)
    b = solve_triangular(_t(r[..., :, :m]), _mm(q, skew), upper=False, left=False)  # (Q skew) R₁⁻ᵀ
    zeros = _const(be, be.xp.zeros(tuple(b.shape[:-1]) + (n - m,), dtype=b.data.dtype, device=be.device))
    ga = S.concat([b, zeros], axis=-1)
    return ga if gr is None else ga + _mm(q, gr)


# -- built from the above -----------------------------------------------------------------------


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times (``n = 0``: the identity; ``n < 0``: powers of
    :func:`inv` of ``A``), as ``torch.linalg.matrix_power``, by repeated squaring with
    ``matmul``, whose backward gives the gradient.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.matrix_power(gdl.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]], backend='numpy')
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    _matrix("matrix_power", A, square=True)
    be = A._backend
    xp = be.xp
    if n == 0:
        eye = xp.broadcast_to(_eye(be, A.shape[-1], A.data.dtype), A.shape)
        return result(xp.asarray(eye, copy=True), be, (A,), lambda g: (xp.zeros_like(g),), "LinalgMatrixPower",
                      lambda g: (_const(be, xp.zeros_like(g.data)),))
    if n < 0:
        A, n = inv(A), -n
    out, base = None, A
    while True:
        if n & 1:
            out = base if out is None else FL.matmul(out, base)
        n >>= 1
        if not n:
            break
        base = FL.matmul(base, base)
    return E.clone(out) if out is A else out


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above ``max(atol, rtol * largest)`` (int64, one per
    matrix; no gradient), as ``torch.linalg.matrix_rank``; defaults as :func:`pinv`.
    ``hermitian=True`` uses the eigenvalues of the lower triangle.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.matrix_rank(gdl.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1, backend='numpy')
    """
    _matrix("matrix_rank", A, square=hermitian)
    be = A._backend
    xp = be.xp
    a = A.data
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(_symmetric(xp, a)))
    elif min(a.shape[-2:]) == 0:
        return Tensor._wrap(xp.zeros(a.shape[:-2], dtype=xp.int64, device=be.device), be)
    else:
        s = xp.linalg.svdvals(a)
    above = s > _tolerance(xp, s, a, atol, rtol)
    return Tensor._wrap(xp.sum(xp.astype(above, xp.int64), axis=-1), be)


def multi_dot(tensors) -> Tensor:
    """The product of two or more matrices in the cheapest order, as
    ``torch.linalg.multi_dot``: the first may be 1-D (a row), the last 1-D (a column),
    the others must be 2-D. Backward: ``matmul``'s.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.multi_dot([gdl.ones(2), gdl.ones(2, 3), gdl.ones(3)])
    tensor(6., backend='numpy')
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    tensors = FL._tensors("linalg.multi_dot", *tensors)
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            raise ValueError(f"linalg.multi_dot: tensor {i} must be {' or '.join(f'{d}-D' for d in allowed)}, "
                             f"got shape {t.shape}")
        _float("multi_dot", t, f"tensor {i}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vec:
        tensors[0] = S.unsqueeze(tensors[0], 0)
    if last_vec:
        tensors[-1] = S.unsqueeze(tensors[-1], -1)
    for i in range(len(tensors) - 1):
        if tensors[i].shape[1] != tensors[i + 1].shape[0]:
            raise ValueError(f"linalg.multi_dot: tensors {i} and {i + 1} do not fit: shapes "
                             f"{tensors[i].shape} and {tensors[i + 1].shape}")
        if tensors[i].data.dtype != tensors[i + 1].data.dtype:
            raise TypeError(f"linalg.multi_dot: all tensors must have one dtype, got "
                            f"{tensors[i].dtype.name} and {tensors[i + 1].dtype.name}")
    split = _chain_order([t.shape[0] for t in tensors] + [tensors[-1].shape[1]])

    def product(i, j):
        if i == j:
            return tensors[i]
        k = split[i][j]
        return FL.matmul(product(i, k), product(k + 1, j))

    out = product(0, len(tensors) - 1)
    if first_vec and last_vec:
        return S.reshape(out, ())
    if first_vec:
        return S.squeeze(out, 0)
    return S.squeeze(out, -1) if last_vec else out


def _chain_order(dims):
    """The matrix-chain split points: ``split[i][j]`` is where the cheapest product of
    matrices ``i..j`` (matrix ``t`` is ``dims[t] × dims[t+1]``) splits."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number ``norm(A, p) * norm(inv(A), p)``, as ``torch.linalg.cond``:
    ``p=None`` or 2 is the ratio of the largest to the smallest singular value (any
    shape), -2 its inverse; ``'fro'``, ``'nuc'``, 1, -1, ``inf``, ``-inf`` use
    :func:`matrix_norm` and :func:`inv` (square matrices; a singular one gives ``inf``,
    without gradient). Matrices with no elements give 0, as in PyTorch. Backward:
    through :func:`svdvals` (or the norms and ``inv``).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.cond(gdl.tensor([[4.0, 0.0], [0.0, 0.5]]))
    tensor(8., backend='numpy')
    """
    if p is None or (_is_number(p) and p in (2, -2)):
        _matrix("cond", A)
        if A.numel() == 0:
            return _no_condition(A)
        s = svdvals(A)
        hi, lo = s[..., 0], s[..., -1]
        return hi / lo if p != -2 else lo / hi
    if p not in ("fro", "nuc") and not (_is_number(p) and p in (1, -1, inf, -inf)):
        raise ValueError(f"linalg.cond: p must be None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {p!r}")
    _matrix("cond", A, square=p in ("fro", "nuc"))
    if A.numel() == 0:
        return _no_condition(A)
    _matrix("cond", A, square=True)
    try:
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    except LinAlgError:  # some matrix of the batch is singular: inf for those, no gradient
        pass
    be = A._backend
    with no_grad():
        flat = S.reshape(A, (-1,) + A.shape[-2:])
        values = []
        for i in range(flat.shape[0]):
            try:
                values.append(float((matrix_norm(flat[i], p) * matrix_norm(inv(flat[i]), p)).item()))
            except LinAlgError:
                values.append(inf)
    out = be.xp.asarray(values, dtype=A.data.dtype, device=be.device)
    return Tensor._wrap(be.xp.reshape(out, A.shape[:-2]), be)


def _no_condition(A):
    """PyTorch's (and gdl's) condition number of matrices with no elements: 0, no gradient
    (NumPy leaves it undefined)."""
    be = A._backend
    return Tensor._wrap(be.xp.zeros(A.shape[:-2], dtype=A.data.dtype, device=be.device), be)


# -- LU and the error-code (``_ex``) forms ------------------------------------------------------


class LUFactorResult(NamedTuple):
    """``(LU, pivots)`` of :func:`lu_factor`."""

    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    """``(LU, pivots, info)`` of :func:`lu_factor_ex`."""

    LU: Tensor
    pivots: Tensor
    info: Tensor


class LUResult(NamedTuple):
    """``(P, L, U)`` of :func:`lu` (``A = P L U``)."""

    P: Tensor
    L: Tensor
    U: Tensor


class SolveExResult(NamedTuple):
    """``(result, info)`` of :func:`solve_ex`."""

    result: Tensor
    info: Tensor


class InvExResult(NamedTuple):
    """``(inverse, info)`` of :func:`inv_ex`."""

    inverse: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    """``(L, info)`` of :func:`cholesky_ex`."""

    L: Tensor
    info: Tensor


def _lu_raw(op, be, a, pivot=True):
    """Gaussian elimination with partial pivoting (LAPACK's ``getrf``, unblocked) on a raw
    ``(*, m, n)`` array, one column at a time over the whole batch. Returns ``(lu, perm,
    pivots, info)``: the packed factors, the row permutation (``(P^T A)[i] = A[perm[i]]``),
    LAPACK's 1-based int32 pivots and int32 ``info`` (the 1-based column of the first zero
    pivot, 0 if none). Without ``pivot`` a zero pivot above nonzeros raises."""
    xp = be.xp
    m, n = a.shape[-2], a.shape[-1]
    batch = tuple(a.shape[:-2])
    rows = xp.arange(m, dtype=xp.int64, device=be.device)
    cols = xp.arange(n, dtype=xp.int64, device=be.device)
    perm = xp.broadcast_to(rows, batch + (m,))
    info = xp.zeros(batch, dtype=xp.int32, device=be.device)
    pivots = []
    for j in range(min(m, n)):
        if pivot:
            p = xp.argmax(xp.abs(a[..., j:, j]), axis=-1) + j  # the first largest |a|, as idamax
            swap = xp.where(rows == j, p[..., None], xp.where(rows == p[..., None], xp.asarray(
                j, dtype=xp.int64, device=be.device), rows))
            a = xp.take_along_axis(a, xp.broadcast_to(swap[..., None], a.shape), axis=-2)
            perm = xp.take_along_axis(perm, swap, axis=-1)
            pivots.append(xp.astype(p + 1, xp.int32))
        d = a[..., j, j]
        zero = d == 0
        below = rows > j
        if not pivot and bool(xp.any(zero[..., None] & (a[..., :, j] != 0) & below)):
            raise LinAlgError(f"linalg.{op}: a zero pivot in column {j + 1} with nonzeros below it: the LU "
                              f"decomposition without pivoting does not exist (use pivot=True)")
        info = xp.where(xp.logical_and(info == 0, zero), xp.asarray(j + 1, dtype=xp.int32, device=be.device),
                        info)
        lcol = a[..., :, j] / xp.where(zero, xp.ones_like(d), d)[..., None]
        lcol = xp.where(below, lcol, xp.zeros_like(lcol))
        urow = xp.where(cols > j, a[..., j, :], xp.zeros_like(a[..., j, :]))
        a = a - lcol[..., :, None] * urow[..., None, :]
        a = xp.where(below[:, None] & (cols == j)[None, :], lcol[..., :, None], a)
    if not pivot:
        pivots = [xp.full(batch, j + 1, dtype=xp.int32, device=be.device) for j in range(min(m, n))]
    piv = xp.stack(pivots, axis=-1) if pivots else xp.zeros(batch + (0,), dtype=xp.int32, device=be.device)
    return a, perm, piv, info


def _perm_from_pivots(be, pivots, m):
    """The row permutation ``perm`` (``(P^T A)[i] = A[perm[i]]``) that LAPACK pivots stand for."""
    xp = be.xp
    rows = xp.arange(m, dtype=xp.int64, device=be.device)
    perm = xp.broadcast_to(rows, tuple(pivots.shape[:-1]) + (m,))
    for j in range(pivots.shape[-1]):
        p = xp.astype(pivots[..., j], xp.int64)[..., None] - 1
        swap = xp.where(rows == j, p, xp.where(rows == p, xp.asarray(j, dtype=xp.int64, device=be.device), rows))
        perm = xp.take_along_axis(perm, swap, axis=-1)
    return perm


def _perm_matrix(be, perm, dtype):
    """The permutation matrix ``P`` with ``P[perm[i], i] = 1``."""
    xp = be.xp
    rows = xp.arange(perm.shape[-1], dtype=perm.dtype, device=be.device)
    return xp.astype(perm[..., None, :] == rows[:, None], dtype)


def _unpack(LU, k):  # noqa: N803
    """``(L, U)`` from the packed factors (Tensors: differentiable in ``LU``)."""
    be = LU._backend
    m = LU.shape[-2]
    eye = _const(be, be.xp.eye(m, k, dtype=LU.data.dtype, device=be.device))
    return S.tril(LU[..., :, :k], -1) + eye, S.triu(LU[..., :k, :])


def _lu_grad(P, L, U, gL, gU):  # noqa: N803
    """PyTorch's ``linalg_lu_backward`` (real matrices), on Tensors: the gradient of ``A =
    P L U`` from those of ``L`` and ``U`` (either may be None)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        ga = S.tril(_mm(_t(L), gL), -1) if gL is not None else None
        if gU is not None:
            part = S.triu(_mm(gU, _t(U)))
            ga = part if ga is None else ga + part
        ga = solve_triangular(_t(U), ga, upper=False, left=False)
        ga = solve_triangular(_t(L), ga, upper=True, unitriangular=True)
    elif m < n:
        u1 = U[..., :, :k]
        ga = _mm(_t(L), gL) if gL is not None else None
        if gU is not None:
            part = -_mm(S.triu(gU), _t(U))
            ga = part if ga is None else ga + part
        ga = solve_triangular(_t(u1), S.tril(ga, -1), upper=False, left=False)
        if gU is not None:
            ga = S.concat([ga + S.triu(gU[..., :, :k]), gU[..., :, k:]], axis=-1)
        ga = solve_triangular(_t(L), ga, upper=True, unitriangular=True)
        if gU is None:
            ga = S.concat([ga, U[..., :, k:].detach() * 0], axis=-1)
    else:
        l1 = L[..., :k, :]
        ga = _mm(gU, _t(U)) if gU is not None else None
        if gL is not None:
            part = -_mm(_t(L), S.tril(gL, -1))
            ga = part if ga is None else ga + part
        ga = solve_triangular(_t(l1), S.triu(ga), upper=True, unitriangular=True)
        if gL is not None:
            ga = S.concat([ga + S.tril(gL[..., :k, :], -1), gL[..., k:, :]], axis=-2)
        ga = solve_triangular(_t(U), ga, upper=False, left=False)
        if gL is None:
            ga = S.concat([ga, L[..., k:, :].detach() * 0], axis=-2)
    return _mm(P, ga)


def _lu_node(A, pivot, arrays, pick, name):
    """Tensors of ``arrays`` (raw outputs), with one node whose gradient goes through
    :func:`_lu_grad`: ``pick(grads, k)`` gives ``(gL, gU)`` (Tensors or None) from the
    outputs' gradients."""
    be = A._backend
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    lu_arr, perm = arrays[0], arrays[1]
    p = _perm_matrix(be, perm, A.data.dtype)

    def backward(grads):
        with no_grad():
            gl, gu = pick([None if g is None else _const(be, g) for g in grads], k)
            low, up = _unpack(_const(be, lu_arr), k)
            return (_lu_grad(_const(be, p), low, up, gl, gu).data,)

    def graph(grads):
        _, low, up = lu(A, pivot=pivot)
        gl, gu = pick(list(grads), k)
        return (_lu_grad(_const(be, p), low, up, gl, gu),)

    return backward, graph


def _packed_grads(grads, k):
    g = grads[0]
    return (None, None) if g is None else (S.tril(g[..., :, :k], -1), S.triu(g[..., :k, :]))


def _lu_checked(op, A, pivot):
    _matrix(op, A)
    return _lu_raw(op, A._backend, A.data, bool(pivot))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """``(LU, pivots, info)``, as ``torch.linalg.lu_factor_ex``: the LU decomposition with
    partial pivoting packed in one matrix (``L``'s strict lower triangle, unit diagonal
    implied, and ``U``), LAPACK's 1-based int32 ``pivots`` (row ``i`` was swapped with row
    ``pivots[i] - 1``) and int32 ``info`` per matrix (``j`` when ``U[j-1, j-1]`` is
    exactly zero, 0 otherwise). ``check_errors=True`` raises :class:`LinAlgError` where
    ``info > 0``. Computed with array-API ops (unblocked Gaussian elimination). Backward:
    PyTorch's LU formula.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.lu_factor_ex(gdl.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
    tensor([2, 2], backend='numpy', dtype=gdl.int32)
    """
    lu_arr, perm, piv, info = _lu_checked("lu_factor_ex", A, pivot)
    be = A._backend
    if check_errors:
        _raise_info("lu_factor_ex", be, info, "U[{j},{j}] is zero: the matrix is singular")
    backward, graph = _lu_node(A, pivot, (lu_arr, perm), _packed_grads, "LinalgLuFactorEx")
    out = result(lu_arr, be, (A,), lambda g: backward((g,)), "LinalgLuFactorEx", lambda g: graph((g,)))
    return LUFactorExResult(out, Tensor._wrap(piv, be), Tensor._wrap(info, be))


def _raise_info(op, be, info, problem):
    """LinAlgError for the first matrix of the batch with ``info > 0``."""
    xp = be.xp
    if _all(xp, info == 0):
        return
    flat = xp.reshape(info, (-1,))
    where = int(xp.argmax(xp.astype(flat > 0, xp.int32)))
    j = int(flat[where])
    batch = f" (batch element {where})" if info.ndim else ""
    raise LinAlgError(f"linalg.{op}: {problem.format(j=j)}{batch}")


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """``(LU, pivots)`` of :func:`lu_factor_ex`, as ``torch.linalg.lu_factor``: a singular
    matrix (an exactly zero pivot, which :func:`lu_solve` would divide by) raises
    :class:`LinAlgError`; use :func:`lu` or :func:`lu_factor_ex` to factor it anyway.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.lu_factor(gdl.tensor([[1.0, 2.0], [4.0, 4.0]])).LU
    tensor([[4.  , 4.  ],
            [0.25, 1.  ]], backend='numpy')
    """
    lu_arr, piv, info = lu_factor_ex(A, pivot=pivot)
    _raise_info("lu_factor", A._backend, info.data,
                "U[{j},{j}] is zero and using it on lu_solve would divide by zero; call linalg.lu or "
                "linalg.lu_factor_ex to factor a singular matrix")
    return LUFactorResult(lu_arr, piv)


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """``(P, L, U)`` with ``A = P L U``, as ``torch.linalg.lu``: ``P`` a permutation matrix
    (``(*, m, m)``), ``L`` unit lower triangular (``(*, m, k)``), ``U`` upper triangular
    (``(*, k, n)``), ``k = min(m, n)``; singular matrices are fine. ``pivot=False`` gives
    ``P = I`` (and raises :class:`LinAlgError` where that factorization does not exist).
    Backward: PyTorch's formula (``P`` gets no gradient).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.lu(gdl.tensor([[0.0, 1.0], [2.0, 0.0]])).P
    tensor([[0., 1.],
            [1., 0.]], backend='numpy')
    """
    lu_arr, perm, _, _ = _lu_checked("lu", A, pivot)
    be = A._backend
    xp = be.xp
    k = min(A.shape[-2:])
    m = A.shape[-2]
    eye = xp.eye(m, k, dtype=lu_arr.dtype, device=be.device)
    low = xp.tril(lu_arr[..., :, :k], k=-1) + eye
    up = xp.triu(lu_arr[..., :k, :])
    p = _perm_matrix(be, perm, lu_arr.dtype)
    backward, graph = _lu_node(A, pivot, (lu_arr, perm), lambda gs, k: (gs[1], gs[2]), "LinalgLu")
    return LUResult(*_results((p, low, up), be, (A,), backward, "LinalgLu", graph))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:  # noqa: N803
    """The solution of ``A X = B`` from :func:`lu_factor`'s ``(LU, pivots)`` of ``A``, as
    ``torch.linalg.lu_solve``: ``adjoint=True`` solves ``Aᵀ X = B``, ``left=False`` ``X A =
    B`` (``X Aᵀ = B`` with both). ``B`` is ``(*, n, k)`` (``(*, k, n)`` with
    ``left=False``); batch axes broadcast. Built from :func:`solve_triangular` on the two
    triangles of ``LU`` and a permutation, whose backwards give the gradients (of every
    order) with respect to ``LU`` and ``B``.

    >>> import gdl, gdl.linalg
    >>> A = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> gdl.linalg.lu_solve(*gdl.linalg.lu_factor(A), gdl.tensor([[5.0], [11.0]]))
    tensor([[1.],
            [2.]], backend='numpy')
    """
    LU, B = FL._tensors("linalg.lu_solve", LU, B)  # noqa: N806
    _matrix("lu_solve", LU, square=True, name="LU")
    _float("lu_solve", B, "B")
    _same_dtype("lu_solve", LU, B)
    n = LU.shape[-1]
    if not isinstance(pivots, Tensor) or pivots.dtype.is_floating_point or pivots.dtype == dtypes.bool_:
        raise TypeError(f"linalg.lu_solve: pivots must be an integer tensor (lu_factor's), got {pivots!r}")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise ValueError(f"linalg.lu_solve: pivots must have shape {tuple(LU.shape[:-1])} for LU of shape "
                         f"{LU.shape}, got {pivots.shape}")
    if B.ndim < 2 or (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "A X = B" if left else "X A = B"
        raise ValueError(f"linalg.lu_solve: shapes {LU.shape} and {B.shape} do not fit {eq}")
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        return _t(lu_solve(LU, pivots, _t(B), adjoint=not adjoint))
    be = LU._backend
    p = _const(be, _perm_matrix(be, _perm_from_pivots(be, pivots.data, n), LU.data.dtype))
    if adjoint:  # Aᵀ = Uᵀ Lᵀ Pᵀ
        y = solve_triangular(_t(LU), B, upper=False)
        return _mm(p, solve_triangular(_t(LU), y, upper=True, unitriangular=True))
    y = solve_triangular(LU, _mm(_t(p), B), upper=False, unitriangular=True)
    return solve_triangular(LU, y, upper=True)


def _info_of(op, A, kind):
    """Raw int32 ``info`` per matrix: LAPACK ``getrf``'s (``kind='lu'``) or ``potrf``'s
    (``'cholesky'``: the order of the first leading minor that is not positive-definite)."""
    be = A._backend
    xp = be.xp
    if kind == "lu":
        return _lu_raw(op, be, A.data)[3]
    a = _symmetric(xp, A.data)
    n = a.shape[-1]
    rows = xp.arange(n, dtype=xp.int64, device=be.device)
    info = xp.zeros(a.shape[:-2], dtype=xp.int32, device=be.device)
    for j in range(n):
        d = a[..., j, j]
        bad = xp.logical_not(d > 0)
        info = xp.where(xp.logical_and(info == 0, bad), xp.asarray(j + 1, dtype=xp.int32, device=be.device), info)
        col = xp.where(rows > j, a[..., :, j] / xp.where(bad, xp.ones_like(d), d)[..., None], xp.zeros_like(d)[..., None])
        row = xp.where(rows > j, a[..., j, :], xp.zeros_like(d)[..., None])
        a = a - col[..., :, None] * row[..., None, :]
    return info


def _ex(op, fn, A, others, check_errors, kind, problem):
    """``(fn(A, *others), info)``: where a matrix of ``A`` fails (``info > 0``), its result
    is NaN (computed on the identity instead) and gets no gradient."""
    try:
        out = fn(A, *others)
        be = A._backend
        return out, Tensor._wrap(be.xp.zeros(A.shape[:-2], dtype=be.xp.int32, device=be.device), be)
    except LinAlgError:
        info = _info_of(op, A, kind)
    be = A._backend
    xp = be.xp
    if check_errors:
        _raise_info(op, be, info, problem)
    bad = _const(be, (info > 0)[..., None, None])
    eye = _const(be, xp.broadcast_to(_eye(be, A.shape[-1], A.data.dtype), A.shape))
    out = fn(E.where(bad, eye, A), *others)
    if out.ndim < A.ndim:  # solve with vector right-hand sides
        bad = S.squeeze(bad, -1)
    nan = _const(be, xp.full(tuple(out.shape), math.nan, dtype=out.data.dtype, device=be.device))
    return E.where(bad, nan, out), Tensor._wrap(info, be)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``(inverse, info)``, as ``torch.linalg.inv_ex``: ``info`` (int32, one per matrix) is
    LAPACK's (``j`` when the LU pivot ``U[j-1, j-1]`` is zero, 0 for an invertible matrix);
    a singular matrix's inverse is NaN (PyTorch returns what LAPACK left) unless
    ``check_errors=True`` raises :class:`LinAlgError`. Backward: :func:`inv`'s.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.inv_ex(gdl.tensor([[1.0, 2.0], [2.0, 4.0]])).info
    tensor(2, backend='numpy', dtype=gdl.int32)
    """
    _matrix("inv_ex", A, square=True)
    return InvExResult(*_ex("inv_ex", inv, A, (), check_errors, "lu",
                            "the diagonal element {j} is zero, the matrix is singular"))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """``(result, info)``, as ``torch.linalg.solve_ex``: :func:`solve` with ``info`` as in
    :func:`inv_ex` (the result is NaN for singular matrices unless ``check_errors=True``
    raises).

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.solve_ex(gdl.tensor([[2.0, 0.0], [0.0, 4.0]]), gdl.tensor([2.0, 2.0])).result
    tensor([1. , 0.5], backend='numpy')
    """
    A, B = FL._tensors("linalg.solve_ex", A, B)
    _matrix("solve_ex", A, square=True)
    return SolveExResult(*_ex("solve_ex", lambda a, b: solve(a, b, left=left), A, (B,), check_errors, "lu",
                              "the diagonal element {j} is zero, the system has no unique solution"))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``(L, info)``, as ``torch.linalg.cholesky_ex``: ``info`` (int32, one per matrix) is
    the order of the first leading minor that is not positive-definite (0 if ``A`` is); such
    a matrix's factor is NaN (PyTorch returns a partial one) unless ``check_errors=True``
    raises. Backward: :func:`cholesky`'s.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.cholesky_ex(gdl.tensor([[1.0, 0.0], [0.0, -1.0]])).info
    tensor(2, backend='numpy', dtype=gdl.int32)
    """
    _matrix("cholesky_ex", A, square=True)
    if upper:  # only the upper triangle is read: factor its transpose
        low, info = cholesky_ex(_t(A), check_errors=check_errors)
        return CholeskyExResult(_t(low), info)
    return CholeskyExResult(*_ex("cholesky_ex", cholesky, A, (), check_errors, "cholesky",
                                 "the leading minor of order {j} is not positive-definite"))


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of ``H_1 ⋯ H_k`` with ``H_i = I - tau_i v_i v_iᵀ`` (``v_i`` is
    column ``i`` of ``A`` below the diagonal, with a 1 on it), as
    ``torch.linalg.householder_product`` (LAPACK's ``orgqr``). ``A`` is ``(*, m, n)`` with
    ``m >= n``, ``tau`` ``(*, k)`` with ``k <= n``. Built from differentiable gdl ops.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.householder_product(gdl.tensor([[1.0], [1.0]]), gdl.tensor([1.0]))
    tensor([[ 0.],
            [-1.]], backend='numpy')
    """
    A, tau = FL._tensors("linalg.householder_product", A, tau)
    _matrix("householder_product", A)
    _float("householder_product", tau, "tau")
    _same_dtype("householder_product", A, tau)
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1] if tau.ndim else -1
    if m < n or tau.ndim != A.ndim - 1 or k > n or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ValueError(f"linalg.householder_product: needs A (*, m, n) with m >= n and tau (*, k) with k <= n "
                         f"and the same batch, got {A.shape} and {tau.shape}")
    be = A._backend
    xp = be.xp
    rows = xp.arange(m, dtype=xp.int64, device=be.device)
    q = _const(be, xp.broadcast_to(xp.eye(m, n, dtype=A.data.dtype, device=be.device), A.shape))
    for i in reversed(range(k)):
        below = _const(be, xp.astype(rows > i, A.data.dtype))
        one = _const(be, xp.astype(rows == i, A.data.dtype))
        v = A[..., :, i] * below + one
        vq = _mm(S.unsqueeze(v, -2), q)  # (*, 1, n)
        q = q - S.unsqueeze(S.unsqueeze(tau[..., i], -1) * v, -1) * vq
    if k == 0 and _needs_grad(A, tau):  # the identity's columns, in the graph (zero gradients), as torch
        q = E.where(_const(be, xp.zeros(A.shape, dtype=xp.bool, device=be.device)), A, q)
        q = q + S.unsqueeze(S.unsqueeze(R.sum(tau, -1), -1), -1)
    return q


# -- the ops gdl already has, under torch.linalg's (and the Array API's) names ------------------


matmul = FL.matmul
cross = FL.cross
outer = FL.outer


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the last two axes (``dim1``, ``dim2``), as ``torch.linalg.diagonal``:
    ``gdl.diagonal`` with the batch-friendly default axes.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.diagonal(gdl.eye(2).reshape(1, 2, 2))
    tensor([[1., 1.]], backend='numpy')
    """
    return FL.diagonal(A, offset, dim1, dim2)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot products of the vectors along ``dim`` (other axes broadcast), as
    ``torch.linalg.vecdot`` for real tensors: ``sum(x * y, dim)``.

    >>> import gdl, gdl.linalg
    >>> gdl.linalg.vecdot(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]), gdl.tensor([1.0, 1.0]))
    tensor([3., 7.], backend='numpy')
    """
    return R.sum(E.mul(x, y), axis=dim)


__all__ = [
    "CholeskyExResult",
    "EighResult",
    "InvExResult",
    "LUFactorExResult",
    "LUFactorResult",
    "LUResult",
    "LinAlgError",
    "LstsqResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "SolveExResult",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_norm",
    "matrix_exp",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve_triangular",
    "tensorinv",
    "tensorsolve",
    "vander",
    "logdet",
    "solve",
    "solve_ex",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]

# Tensor methods (PyTorch's names) for gdl.functional._methods to attach; ``norm`` is there already.
TENSOR_METHODS: dict = {
    "det": det,
    "inverse": inv,
    "slogdet": slogdet,
    "logdet": logdet,
    "matrix_power": matrix_power,
}
