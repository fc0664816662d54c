"""gdl.linalg LU (lu_factor, lu_factor_ex, lu, lu_solve), the _ex forms, householder_product,
and the legacy top-level functions (gdl.svd, gdl.lu, gdl.cholesky_solve, ...), on every test
backend (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.linalg as L
from gdl.testing import gradcheck


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def well(*shape, seed=0):
    return rnd(*shape, seed=seed) + 3.0 * np.eye(shape[-1])


def t(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def ref_perm(pivots, m):
    """Row order that 1-based LAPACK pivots stand for (pure Python)."""
    perm = list(range(m))
    for j, p in enumerate(pivots):
        perm[j], perm[p - 1] = perm[p - 1], perm[j]
    return perm


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (2, 3, 5), (1, 1)])
def test_lu_reconstructs_and_pivots(backend, shape):
    a = rnd(*shape, seed=sum(shape))
    P, Lo, U = L.lu(t(a))
    k = min(shape[-2:])
    assert P.shape == shape[:-2] + (shape[-2], shape[-2])
    assert Lo.shape == shape[:-1] + (k,) and U.shape == shape[:-2] + (k, shape[-1])
    p, lo, u = P.numpy(), Lo.numpy(), U.numpy()
    np.testing.assert_allclose(p @ lo @ u, a, atol=1e-12)
    np.testing.assert_array_equal(np.triu(lo, 1), 0)
    np.testing.assert_array_equal(np.diagonal(lo, axis1=-2, axis2=-1), 1)
    np.testing.assert_array_equal(np.tril(u, -1), 0)
    assert np.all(np.abs(lo) <= 1 + 1e-12)  # partial pivoting: |L| <= 1
    LU, piv = L.lu_factor(t(a))
    assert piv.dtype == gdl.int32 and piv.shape == shape[:-2] + (k,)
    pv = piv.numpy().reshape(-1, k)
    assert np.all(pv >= np.arange(1, k + 1)) and np.all(pv <= shape[-2])
    lu = LU.numpy().reshape((-1,) + shape[-2:])
    for i, (rows, packed) in enumerate(zip(pv, lu)):
        perm = ref_perm(rows, shape[-2])
        lo_i = np.tril(packed[:, :k], -1) + np.eye(shape[-2], k)
        np.testing.assert_allclose(lo_i @ np.triu(packed[:k]), a.reshape((-1,) + shape[-2:])[i][perm], atol=1e-12)


def test_lu_pivot_conventions(backend):
    LU, piv = L.lu_factor(t([[1.0, 2.0], [3.0, 4.0]]))
    assert piv.numpy().tolist() == [2, 2]
    np.testing.assert_allclose(LU.numpy(), [[3.0, 4.0], [1 / 3, 2 / 3]])
    _, piv0, info0 = L.lu_factor_ex(t(np.zeros((2, 2))))
    assert piv0.numpy().tolist() == [1, 2] and int(info0.item()) == 1  # no swap on a zero column, as LAPACK
    P, _, _ = L.lu(t([[0.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(P.numpy(), [[0.0, 1.0], [1.0, 0.0]])
    P, Lo, U = L.lu(t([[2.0, 1.0], [4.0, 3.0]]), pivot=False)
    np.testing.assert_array_equal(P.numpy(), np.eye(2))
    np.testing.assert_allclose(Lo.numpy(), [[1.0, 0.0], [2.0, 1.0]])


def test_lu_errors_and_info(backend):
    sing = np.stack([well(3, 3), np.ones((3, 3)), np.diag([1.0, 0.0, 2.0])])
    _, _, info = L.lu_factor_ex(t(sing))
    assert info.dtype == gdl.int32 and info.numpy().tolist() == [0, 2, 2]
    with pytest.raises(L.LinAlgError, match="lu_factor.*U\\[2,2\\] is zero.*batch element 1"):
        L.lu_factor(t(sing))
    with pytest.raises(L.LinAlgError, match="lu_factor_ex"):
        L.lu_factor_ex(t(sing), check_errors=True)
    P, Lo, U = L.lu(t(sing))  # singular matrices factor fine
    np.testing.assert_allclose(P.numpy() @ Lo.numpy() @ U.numpy(), sing, atol=1e-12)
    with pytest.raises(L.LinAlgError, match="without pivoting does not exist"):
        L.lu(t([[0.0, 1.0], [1.0, 0.0]]), pivot=False)
    with pytest.raises(ValueError, match="at least 2"):
        L.lu(t([1.0, 2.0]))
    with pytest.raises(TypeError, match="floating-point"):
        L.lu_factor(gdl.tensor([[1, 2], [3, 4]]))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_residuals(backend, left, adjoint):
    a, b = well(2, 4, 4, seed=1), rnd(2, 4, 3, seed=2)
    if not left:
        b = np.swapaxes(b, -1, -2)
    X = L.lu_solve(*L.lu_factor(t(a)), t(b), left=left, adjoint=adjoint).numpy()
    op = np.swapaxes(a, -1, -2) if adjoint else a
    np.testing.assert_allclose(op @ X if left else X @ op, b, atol=1e-10)


def test_lu_solve_broadcasts_and_checks(backend):
    LU, piv = L.lu_factor(t(well(3, 3)))
    assert L.lu_solve(LU, piv, t(rnd(5, 3, 2))).shape == (5, 3, 2)
    with pytest.raises(ValueError, match="do not fit A X = B"):
        L.lu_solve(LU, piv, t(rnd(4, 2)))
    with pytest.raises(ValueError, match="pivots must have shape"):
        L.lu_solve(LU, piv[:2], t(rnd(3, 2)))
    with pytest.raises(TypeError, match="integer tensor"):
        L.lu_solve(LU, LU[:, 0], t(rnd(3, 2)))


def test_lu_gradchecks(backend):
    for shape in [(3, 3), (2, 4, 2), (2, 5)]:
        A = t(rnd(*shape, seed=7), grad=True)
        assert gradcheck(lambda a: L.lu_factor(a).LU, (A,))
        assert gradcheck(lambda a: L.lu(a).L, (A,))
        assert gradcheck(lambda a: L.lu(a).U, (A,))
    A, B = t(well(2, 3, 3, seed=3), grad=True), t(rnd(2, 3, 2, seed=4), grad=True)
    assert gradcheck(lambda a, b: L.lu_solve(*L.lu_factor(a), b), (A, B))
    piv = L.lu_factor(A.detach()).pivots
    assert gradcheck(lambda lu, b: L.lu_solve(lu, piv, b, adjoint=True), (A, B))


def _hvp_matches_differences(f, a, seed=0):
    """grad(grad(f)·v) (Hessian-vector product through create_graph) against central
    differences of the gradient along v."""
    v = rnd(*a.shape, seed=seed)

    def grad_at(x, graph=False):
        X = t(x, grad=True)
        (g,) = gdl.autograd.grad(f(X), X, create_graph=graph)
        return X, g

    X, g = grad_at(a, graph=True)
    (h,) = gdl.autograd.grad((g * t(v)).sum(), X)
    eps = 1e-5
    want = (grad_at(a + eps * v)[1].numpy() - grad_at(a - eps * v)[1].numpy()) / (2 * eps)
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-5, atol=1e-6)


def test_lu_second_order(backend):
    a = well(3, 3, seed=5)
    b = t(rnd(3, 2, seed=6))
    _hvp_matches_differences(lambda x: (L.lu(x).U ** 2).sum() + (L.lu(x).L ** 3).sum(), a)
    _hvp_matches_differences(lambda x: (L.lu_factor(x).LU ** 3).sum(), rnd(3, 4, seed=2))
    _hvp_matches_differences(lambda x: (L.lu_solve(*L.lu_factor(x), b) ** 2).sum(), a)


def test_ex_forms(backend):
    good, sing = well(3, 3), np.ones((3, 3))
    inv, info = L.inv_ex(t(np.stack([good, sing])))
    assert info.dtype == gdl.int32 and info.numpy().tolist() == [0, 2]
    np.testing.assert_allclose(inv.numpy()[0] @ good, np.eye(3), atol=1e-12)
    assert np.isnan(inv.numpy()[1]).all()
    with pytest.raises(L.LinAlgError, match="inv_ex"):
        L.inv_ex(t(sing), check_errors=True)
    res, info = L.solve_ex(t(good), t(np.ones(3)))
    assert int(info.item()) == 0
    np.testing.assert_allclose(good @ res.numpy(), np.ones(3), atol=1e-12)
    spd = good @ good.T
    notpd = np.diag([1.0, 2.0, -1.0])
    low, info = L.cholesky_ex(t(np.stack([spd, notpd])))
    assert info.numpy().tolist() == [0, 3]
    np.testing.assert_allclose(low.numpy()[0] @ low.numpy()[0].T, spd, atol=1e-10)
    with pytest.raises(L.LinAlgError, match="order 3"):
        L.cholesky_ex(t(notpd), check_errors=True)
    A = t(np.stack([good, good + 1]), grad=True)
    assert gradcheck(lambda a: L.inv_ex(a).inverse, (A,))
    assert gradcheck(lambda a: L.solve_ex(a, gdl.ones(2, 3, dtype=gdl.float64)).result, (A,))
    S = t(spd, grad=True)
    assert gradcheck(lambda s: L.cholesky_ex((s + s.mT) / 2, upper=True).L, (S,))  # symmetric gradient


def test_householder_product(backend):
    a, tau = rnd(2, 4, 3, seed=8), rnd(2, 2, seed=9)
    Q = L.householder_product(t(a), t(tau)).numpy()
    for i in range(2):
        want = np.eye(4)
        for j in range(2):
            v = np.concatenate([np.zeros(j), [1.0], a[i, j + 1:, j]])
            want = want @ (np.eye(4) - tau[i, j] * np.outer(v, v))
        np.testing.assert_allclose(Q[i], want[:, :3], atol=1e-12)
    assert gradcheck(L.householder_product, (t(a, grad=True), t(tau, grad=True)))
    with pytest.raises(ValueError, match="householder_product"):
        L.householder_product(t(rnd(2, 3)), t(rnd(1)))


def test_legacy_functions(backend):
    a = rnd(4, 3, seed=10)
    U, S, V = gdl.svd(t(a))
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, a, atol=1e-12)
    assert gdl.svd(t(a), some=False).U.shape == (4, 4)
    U0, S0, V0 = gdl.svd(t(a), compute_uv=False)
    assert U0.shape == (4, 4) and V0.shape == (3, 3) and not U0.numpy().any()
    Q, R = t(a).qr()
    np.testing.assert_allclose(Q.numpy() @ R.numpy(), a, atol=1e-12)
    assert gdl.qr(t(a), some=False).Q.shape == (4, 4)
    spd = well(3, 3) @ well(3, 3).T
    for upper in (False, True):
        f = gdl.cholesky(t(spd), upper=upper)
        b = rnd(3, 2, seed=11)
        np.testing.assert_allclose(spd @ gdl.cholesky_solve(t(b), f, upper=upper).numpy(), b, atol=1e-10)
        np.testing.assert_allclose(f.cholesky_inverse(upper).numpy() @ spd, np.eye(3), atol=1e-10)
    tri = np.triu(well(3, 3))
    b = rnd(3, 2, seed=12)
    sol, coeff = gdl.triangular_solve(t(b), t(tri))
    np.testing.assert_allclose(tri @ sol.numpy(), b, atol=1e-12)
    np.testing.assert_array_equal(coeff.numpy(), tri)
    sol = t(b).triangular_solve(t(tri.T), upper=False, transpose=True).solution
    np.testing.assert_allclose(tri @ sol.numpy(), b, atol=1e-12)
    sq = well(3, 3)
    LU, piv = t(sq).lu()
    assert len(gdl.lu(t(sq), get_infos=True)) == 3
    np.testing.assert_allclose(sq @ t(b).lu_solve(LU, piv).numpy(), b, atol=1e-12)
    P, Lo, Up = gdl.lu_unpack(LU, piv)
    np.testing.assert_allclose(P.numpy() @ Lo.numpy() @ Up.numpy(), sq, atol=1e-12)
    assert gdl.lu_unpack(LU, piv, unpack_data=False).L.shape == (0,)
    np.testing.assert_allclose(t(a).pinverse().numpy() @ a, np.eye(3), atol=1e-10)
    assert int(gdl.matrix_rank(t(np.outer([1.0, 2.0], [3.0, 4.0]))).item()) == 1
    np.testing.assert_allclose(t([1.0, 2.0]).ger(t([3.0, 4.0])).numpy(), [[3.0, 4.0], [6.0, 8.0]])
    A = t(a, grad=True)
    assert gradcheck(lambda x: gdl.svd(x).S, (A,))
    assert gradcheck(lambda lu, bb: gdl.lu_solve(bb, lu, piv), (t(sq, grad=True), t(b, grad=True)))
    assert gradcheck(lambda lu: gdl.lu_unpack(lu, piv).L, (t(sq, grad=True),))
