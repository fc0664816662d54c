"""Cross-checks of gdl's LU family, the _ex forms, householder_product and the legacy
top-level functions against torch (skipped without torch): values, pivots, namedtuple
field names, first- and second-order gradients in float64, batched shapes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.linalg as LA  # noqa: E402

TOL = dict(rtol=1e-7, atol=1e-9)
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def well(*shape, seed=0):
    return rnd(*shape, seed=seed) + 3.0 * np.eye(shape[-1])


def spd(*shape):
    a = rnd(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def first_and_second(fg, ft, *arrays):
    """Values, gradients of a random weighting, and a Hessian-vector product."""
    rng = np.random.default_rng(3)
    gs, ts = [g64(a, grad=True) for a in arrays], [t64(a, grad=True) for a in arrays]
    y, yt = fg(*gs), ft(*ts)
    close(y, yt, "value", **TOL)
    w = rng.standard_normal(tuple(yt.shape))
    g1 = gdl.autograd.grad((y * g64(w)).sum(), gs, create_graph=True)
    t1 = torch.autograd.grad((yt * t64(w)).sum(), ts, create_graph=True)
    for a, b in zip(g1, t1):
        close(a.detach(), b, "grad", **TOL)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    h = gdl.autograd.grad(sum((a * g64(v)).sum() for a, v in zip(g1, vs)), gs)
    ht = torch.autograd.grad(sum((b * t64(v)).sum() for b, v in zip(t1, vs)), ts)
    for a, b in zip(h, ht):
        close(a, b, "hvp", rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (2, 3, 5)])
def test_lu_factor_and_lu_match_torch(shape):
    a = rnd(*shape)
    ours, theirs = LA.lu_factor_ex(g64(a)), torch.linalg.lu_factor_ex(t64(a))
    assert type(ours).__name__ == "LUFactorExResult" and ours._fields == ("LU", "pivots", "info")
    assert LA.lu_factor(g64(a))._fields == ("LU", "pivots") and LA.lu(g64(a))._fields == ("P", "L", "U")
    close(ours.LU, theirs.LU, **TOL)
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    assert ours.pivots.numpy().dtype == np.int32 and ours.info.numpy().dtype == np.int32
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    for x, y in zip(LA.lu(g64(a)), torch.linalg.lu(t64(a))):
        close(x, y, **TOL)
    first_and_second(lambda x: LA.lu_factor(x).LU, lambda x: torch.linalg.lu_factor(x).LU, a)
    first_and_second(lambda x: LA.lu(x).L, lambda x: torch.linalg.lu(x).L, a)
    first_and_second(lambda x: LA.lu(x).U, lambda x: torch.linalg.lu(x).U, a)
    first_and_second(lambda x: LA.lu(x).L.sum() * LA.lu(x).U.sum(),
                     lambda x: torch.linalg.lu(x).L.sum() * torch.linalg.lu(x).U.sum(), a)


def test_lu_singular_info_matches_torch():
    a = np.stack([np.ones((3, 3)), np.diag([1.0, 0.0, 2.0]), np.zeros((3, 3))])
    ours, theirs = LA.lu_factor_ex(g64(a)), torch.linalg.lu_factor_ex(t64(a))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    close(ours.LU, theirs.LU, **TOL)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_matches_torch(left, adjoint):
    a, b = well(2, 3, 3), rnd(2, 3, 2) if left else rnd(2, 2, 3)
    first_and_second(lambda x, y: LA.lu_solve(*LA.lu_factor(x), y, left=left, adjoint=adjoint),
                     lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, left=left, adjoint=adjoint),
                     a, b)
    piv = torch.linalg.lu_factor(t64(a)).pivots.numpy()
    first_and_second(lambda x, y: LA.lu_solve(x, gdl.tensor(piv), y, left=left, adjoint=adjoint),
                     lambda x, y: torch.linalg.lu_solve(x, torch.tensor(piv), y, left=left, adjoint=adjoint),
                     a, b)


def test_lu_solve_broadcasts_like_torch():
    a, b = well(2, 1, 3, 3), rnd(4, 3, 2)
    ours = LA.lu_solve(*LA.lu_factor(g64(a)), g64(b))
    close(ours, torch.linalg.lu_solve(*torch.linalg.lu_factor(t64(a)), t64(b)), **TOL)


def test_ex_forms_match_torch():
    a = np.stack([well(3, 3), np.ones((3, 3))])
    ours, theirs = LA.inv_ex(g64(a)), torch.linalg.inv_ex(t64(a))
    assert ours._fields == ("inverse", "info")
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    close(ours.inverse[0], theirs.inverse[0], **TOL)
    assert LA.solve_ex(g64(a[0]), g64(rnd(3)))._fields == ("result", "info")
    np.testing.assert_array_equal(LA.solve_ex(g64(a), g64(rnd(2, 3))).info.numpy(),
                                  torch.linalg.solve_ex(t64(a), t64(rnd(2, 3))).info.numpy())
    s = np.stack([spd(3, 3), np.diag([1.0, -1.0, 2.0]), -spd(3, 3)])
    ours, theirs = LA.cholesky_ex(g64(s)), torch.linalg.cholesky_ex(t64(s))
    assert ours._fields == ("L", "info")
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    first_and_second(lambda x: LA.inv_ex(x).inverse, lambda x: torch.linalg.inv_ex(x).inverse, well(2, 3, 3))
    first_and_second(lambda x, y: LA.solve_ex(x, y).result, lambda x, y: torch.linalg.solve_ex(x, y).result,
                     well(2, 3, 3), rnd(2, 3))
    first_and_second(lambda x: LA.cholesky_ex(x, upper=True).L, lambda x: torch.linalg.cholesky_ex(x, upper=True).L,
                     spd(2, 3, 3))


def test_householder_product_matches_torch():
    first_and_second(LA.householder_product, torch.linalg.householder_product, rnd(2, 4, 3), rnd(2, 2))
    first_and_second(gdl.orgqr, torch.orgqr, rnd(4, 4), rnd(3))


def test_legacy_functions_match_torch():
    a, sq, b = rnd(4, 3), well(2, 3, 3), rnd(2, 3, 2)
    r, rt = gdl.svd(g64(a)), torch.svd(t64(a))
    assert r._fields == ("U", "S", "V")
    close(r.S, rt.S, **TOL)
    close(np.abs(r.V.numpy()), np.abs(rt.V.detach().numpy()), **TOL)
    assert gdl.qr(g64(a))._fields == ("Q", "R")
    close(np.abs(gdl.qr(g64(a), some=False).R.numpy()), np.abs(torch.qr(t64(a), some=False).R.numpy()), **TOL)
    res = gdl.triangular_solve(g64(b), g64(sq), upper=False, transpose=True, unitriangular=True)
    want = torch.triangular_solve(t64(b), t64(sq), upper=False, transpose=True, unitriangular=True)
    assert res._fields == ("solution", "cloned_coefficient") and want.cloned_coefficient is not None
    close(res.solution, want.solution, **TOL)
    close(res.cloned_coefficient, want.cloned_coefficient, **TOL)
    LU, piv = gdl.lu(g64(sq))
    LUt, pivt = torch.lu(t64(sq))
    close(LU, LUt, **TOL)
    np.testing.assert_array_equal(piv.numpy(), pivt.numpy())
    unp, unpt = gdl.lu_unpack(LU, piv), torch.lu_unpack(LUt, pivt)
    assert unp._fields == ("P", "L", "U") and unpt.P is not None
    for x, y in zip(unp, unpt):
        close(x, y, **TOL)
    close(gdl.lu_solve(g64(b), LU, piv), torch.lu_solve(t64(b), LUt, pivt), **TOL)
    close(g64(a).pinverse(), t64(a).pinverse(), **TOL)
    close(gdl.matrix_rank(g64(np.ones((3, 3)))), torch.linalg.matrix_rank(t64(np.ones((3, 3)))))
    close(gdl.ger(g64(rnd(3)), g64(rnd(2))), torch.ger(t64(rnd(3)), t64(rnd(2))), **TOL)
    s = spd(2, 3, 3)
    for upper in (False, True):
        f = np.linalg.cholesky(s)
        f = np.swapaxes(f, -1, -2) if upper else f
        first_and_second(lambda x, y, u=upper: gdl.cholesky_solve(y, x, upper=u),
                         lambda x, y, u=upper: torch.cholesky_solve(y, x, upper=u), f, b)
        first_and_second(lambda x, u=upper: x.cholesky_inverse(u), lambda x, u=upper: x.cholesky_inverse(u), f)
        close(gdl.cholesky(g64(s), upper=upper), torch.cholesky(t64(s), upper=upper), **TOL)
    first_and_second(lambda x: gdl.lu_unpack(x, piv).L ** 3, lambda x: torch.lu_unpack(x, pivt).L ** 3, sq)
    first_and_second(lambda x: gdl.svd(x).S, lambda x: torch.svd(x).S, a)
