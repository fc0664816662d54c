"""gdl.linalg (torch.linalg's namespace): values against hand-checked cases and
identities (A @ inv(A) = I, det(AB) = det(A) det(B), A = U diag(S) Vh, ...), gradients
by finite differences (gdl.autograd.gradcheck, float64, batched inputs), and errors,
on every selected backend (the ``backend`` fixture). No torch here: see
test_torch_crosscheck_linalg_ns.py for that."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.linalg as LA
from gdl.autograd import gradcheck

F64 = gdl.float64


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + 11 * len(shape) + sum(shape)).standard_normal(shape)


def well(*shape, seed=0):
    """Square matrices far from singular: random plus 3·I."""
    return rnd(*shape, seed=seed) + 3.0 * np.eye(shape[-1])


def spd(*shape, seed=0):
    a = rnd(*shape, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def t64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def close(got, want, rtol=1e-9, atol=1e-11):
    got = got.numpy() if isinstance(got, gdl.Tensor) else np.asarray(got)
    want = want.numpy() if isinstance(want, gdl.Tensor) else np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def sym(x):
    """A symmetric matrix made from ``x`` (so that finite differences of every entry of
    ``x`` are differences of a symmetric input, what eigh and cholesky assume)."""
    return x + x.mT


# -- values ------------------------------------------------------------------------------------


def test_inv_solve_det_by_hand(backend):
    a = gdl.tensor([[2.0, 1.0], [0.0, 1.0]], dtype=F64)
    close(LA.inv(a), [[0.5, -0.5], [0.0, 1.0]])
    close(LA.det(gdl.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64)), -2.0)
    close(LA.solve(a, gdl.tensor([3.0, 1.0], dtype=F64)), [1.0, 1.0])
    sign, logabs = LA.slogdet(gdl.tensor([[0.0, 2.0], [1.0, 0.0]], dtype=F64))
    close(sign, -1.0)
    close(logabs, math.log(2.0))
    sign, logabs = LA.slogdet(gdl.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=F64))
    assert sign.item() == 0.0 and logabs.item() == -math.inf


def test_inverse_and_determinant_identities(backend):
    a, b = t64(well(2, 3, 3), False), t64(well(2, 3, 3, seed=1), False)
    eye = np.broadcast_to(np.eye(3), (2, 3, 3))
    close(a @ LA.inv(a), eye, atol=1e-12)
    close(LA.det(a @ b), (LA.det(a) * LA.det(b)).numpy())
    close(LA.det(LA.inv(a)), 1.0 / LA.det(a).numpy())
    sign, logabs = LA.slogdet(a)
    close(sign * gdl.exp(logabs), LA.det(a))
    assert LA.inv(gdl.eye(2)).dtype == gdl.float32  # float32 stays float32


def test_solve_shapes(backend):
    a = t64(well(2, 3, 3), False)
    for b in (rnd(2, 3, 4), rnd(2, 3), rnd(3), rnd(5, 1, 3, 2)):
        x = LA.solve(a, t64(b, False))
        vector = b.ndim == 1 or b.shape == (2, 3)
        back = (a @ x[..., None])[..., 0] if vector else a @ x
        close(back, np.broadcast_to(b, back.shape), atol=1e-12)
    b = t64(rnd(2, 4, 3), False)
    x = LA.solve(a, b, left=False)  # X A = B
    close(x @ a, b, atol=1e-12)


def test_cholesky_values(backend):
    a = gdl.tensor([[4.0, 2.0], [2.0, 2.0]], dtype=F64)
    close(LA.cholesky(a), [[2.0, 0.0], [1.0, 1.0]])
    close(LA.cholesky(a, upper=True), [[2.0, 1.0], [0.0, 1.0]])
    s = t64(spd(3, 4, 4), False)
    low = LA.cholesky(s)
    close(low @ low.mT, s)
    close(low, np.tril(low.numpy()))
    junk_above = t64(np.tril(spd(4, 4)) + np.triu(np.ones((4, 4)), 1) * 9.0, False)
    close(LA.cholesky(junk_above), np.linalg.cholesky(spd(4, 4)))  # only the lower triangle is read


def test_eigh_values(backend):
    w, v = LA.eigh(gdl.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=F64))
    close(w, [1.0, 3.0])
    close(abs(v.numpy()), np.full((2, 2), 1 / math.sqrt(2)))
    s = t64(spd(2, 4, 4), False)
    w, v = LA.eigh(s)
    assert np.all(np.diff(w.numpy(), axis=-1) > 0)  # ascending
    close((v * w[..., None, :]) @ v.mT, s)
    close(v.mT @ v, np.broadcast_to(np.eye(4), (2, 4, 4)), atol=1e-12)
    close(LA.eigvalsh(s), w)
    lower = np.array([[1.0, 99.0], [2.0, 5.0]])  # 'L' reads 2, 'U' reads 99 off the diagonal
    close(LA.eigvalsh(t64(lower, False)), np.linalg.eigvalsh(np.array([[1.0, 2.0], [2.0, 5.0]])))
    close(LA.eigvalsh(t64(lower, False), UPLO="U"), np.linalg.eigvalsh(np.array([[1.0, 99.0], [99.0, 5.0]])))


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 3), (2, 3, 5)])
def test_svd_and_qr_reconstruct(backend, shape):
    a = t64(rnd(*shape), False)
    m, n = shape[-2:]
    k = min(m, n)
    u, s, vh = LA.svd(a, full_matrices=False)
    assert u.shape[-2:] == (m, k) and vh.shape[-2:] == (k, n)
    close((u * s[..., None, :]) @ vh, a)
    u, s, vh = LA.svd(a)
    assert u.shape[-2:] == (m, m) and vh.shape[-2:] == (n, n)
    close(s, LA.svdvals(a))
    assert np.all(np.diff(s.numpy(), axis=-1) <= 0)  # descending
    q, r = LA.qr(a)
    assert q.shape[-2:] == (m, k) and r.shape[-2:] == (k, n)
    close(q @ r, a)
    close(q.mT @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), atol=1e-12)
    close(r, np.triu(r.numpy()))
    q, r = LA.qr(a, mode="complete")
    assert q.shape[-2:] == (m, m) and r.shape[-2:] == (m, n)
    close(q @ r, a)
    q, r = LA.qr(a, mode="r")
    assert q.shape == (0,) and r.shape[-2:] == (k, n)


def test_pinv_rank_power_lstsq(backend):
    a = t64(rnd(2, 5, 3), False)
    p = LA.pinv(a)
    close(a @ p @ a, a)
    close(p @ a, np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    sq = t64(well(3, 3), False)
    close(LA.pinv(sq), LA.inv(sq))
    close(LA.pinv(t64(spd(3, 3), False), hermitian=True), np.linalg.inv(spd(3, 3)))
    close(LA.pinv(gdl.tensor([[1.0, 0.0], [0.0, 1e-3]], dtype=F64), atol=1e-2), [[1.0, 0.0], [0.0, 0.0]])
    rank1 = gdl.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=F64)
    assert LA.matrix_rank(rank1).item() == 1 and LA.matrix_rank(rank1).dtype == gdl.int64
    assert LA.matrix_rank(gdl.stack([gdl.eye(3), gdl.zeros(3, 3)])).tolist() == [3, 0]
    assert LA.matrix_rank(gdl.tensor([[1.0, 0.0], [0.0, 0.1]]), atol=0.5).item() == 1
    assert LA.matrix_rank(rank1, hermitian=True).item() == 1
    j = gdl.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=F64)
    close(LA.matrix_power(j, 3), [[1.0, 3.0], [0.0, 1.0]])
    close(LA.matrix_power(j, 0), np.eye(2))
    close(LA.matrix_power(j, -2), [[1.0, -2.0], [0.0, 1.0]])
    b = t64(well(2, 3, 3), False)
    close(LA.matrix_power(b, 5), b @ b @ b @ b @ b)
    # lstsq: a consistent overdetermined system, a vector right-hand side, the minimum-norm solution
    x = t64(rnd(2, 3, 2), False)
    close(LA.lstsq(a, a @ x).solution, x)
    res = LA.lstsq(a[0], (a[0] @ x[0])[:, 0])
    close(res.solution, x[0][:, 0])
    assert res.rank.item() == 3 and res.residuals.shape == (0,)
    wide = t64(rnd(2, 4), False)
    close(LA.lstsq(wide, t64([1.0, 2.0], False)).solution, np.linalg.pinv(wide.numpy()) @ np.array([1.0, 2.0]))


def test_norms_by_hand(backend):
    x = gdl.tensor([3.0, -4.0, 0.0], dtype=F64)
    for ord_, want in [(2, 5.0), (1, 7.0), (math.inf, 4.0), (-math.inf, 0.0), (0, 2.0), (3, 91 ** (1 / 3))]:
        close(LA.vector_norm(x, ord_), want)
    a = gdl.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=F64)
    s = np.sqrt([15 + math.sqrt(125), 15 - math.sqrt(125)])  # AᵀA = [[10, 10], [10, 20]]
    for ord_, want in [("fro", math.sqrt(30)), ("nuc", s.sum()), (2, s[0]), (-2, s[1]), (1, 6.0), (-1, 4.0),
                       (math.inf, 7.0), (-math.inf, 3.0)]:
        close(LA.matrix_norm(a, ord_), want)
        close(LA.norm(a, ord_), want)
    close(LA.cond(a), s[0] / s[1])
    close(LA.cond(gdl.tensor([[4.0, 0.0], [0.0, 0.5]], dtype=F64)), 8.0)
    close(LA.cond(a, "fro"), math.sqrt(30) * math.sqrt(30) / 10)
    close(LA.cond(gdl.stack([gdl.eye(2, dtype=F64), gdl.zeros(2, 2, dtype=F64)]), 1), [1.0, math.inf])
    b = t64(rnd(2, 3, 4), False)
    close(LA.norm(b), np.linalg.norm(b.numpy().ravel()))
    close(LA.norm(b, dim=1), np.linalg.norm(b.numpy(), axis=1))
    close(LA.norm(b, 1, dim=(0, 2), keepdim=True), np.abs(b.numpy()).sum(axis=0).max(axis=1).reshape(1, 3, 1))
    close(LA.matrix_norm(b, "nuc", dim=(2, 0)), np.linalg.norm(np.moveaxis(b.numpy(), (2, 0), (0, 1)), "nuc", axis=(0, 1)))
    close(LA.vector_norm(b, dim=(0, 2), keepdim=True), np.sqrt((b.numpy() ** 2).sum(axis=(0, 2), keepdims=True)))
    close(LA.vector_norm(gdl.tensor([3, 4]), dtype=F64), 5.0)


def test_multi_dot_and_aliases(backend):
    a, b, c, d = rnd(3), rnd(3, 5), rnd(5, 2), rnd(2)
    ta, tb, tc, td = (t64(x, False) for x in (a, b, c, d))
    close(LA.multi_dot([ta, tb, tc, td]), a @ b @ c @ d)
    close(LA.multi_dot([tb, tc]), b @ c)
    close(LA.multi_dot([t64(rnd(4, 3), False), tb, tc, t64(rnd(2, 6), False)]), rnd(4, 3) @ b @ c @ rnd(2, 6))
    close(LA.multi_dot([ta, tb, tc]), a @ b @ c)
    close(LA.vecdot(t64(rnd(2, 3), False), t64(a, False)), rnd(2, 3) @ a)
    close(LA.diagonal(t64(rnd(2, 3, 3), False)), np.diagonal(rnd(2, 3, 3), axis1=-2, axis2=-1))
    assert LA.cross is gdl.cross and LA.matmul is gdl.matmul and LA.outer is gdl.outer
    assert set(LA.TENSOR_METHODS) == {"det", "inverse", "slogdet", "logdet", "matrix_power"}


# -- gradients (float64 finite differences) ----------------------------------------------------


def _cases():
    return {
        "inv": (LA.inv, [well(2, 3, 3)]),
        "det": (LA.det, [well(2, 3, 3)]),
        "det singular": (LA.det, [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])]),
        "det rank 1": (LA.det, [np.outer([1.0, 2.0, 0.5], [3.0, -1.0, 2.0])]),
        "slogdet": (LA.slogdet, [well(2, 3, 3)]),
        "solve": (LA.solve, [well(2, 3, 3), rnd(2, 3, 2)]),
        "solve vector": (LA.solve, [well(2, 3, 3), rnd(2, 3)]),
        "solve broadcast": (LA.solve, [well(3, 3), rnd(2, 3, 2)]),
        "solve left=False": (lambda a, b: LA.solve(a, b, left=False), [well(2, 3, 3), rnd(1, 2, 3)]),
        "cholesky": (lambda x: LA.cholesky(sym(x) + 6 * gdl.eye(3, dtype=F64)), [rnd(2, 3, 3)]),
        "cholesky upper": (lambda x: LA.cholesky(sym(x) + 6 * gdl.eye(3, dtype=F64), upper=True), [rnd(3, 3)]),
        "eigh": (lambda x: LA.eigh(sym(x)), [rnd(2, 3, 3)]),
        "eigh upper": (lambda x: LA.eigh(sym(x), UPLO="U"), [rnd(3, 3)]),
        "eigh both outputs": (lambda x: (lambda r: r[1] * r[0][..., None, :])(LA.eigh(sym(x))), [rnd(3, 3)]),
        "eigvalsh": (lambda x: LA.eigvalsh(sym(x)), [rnd(2, 3, 3)]),
        "svd tall": (lambda a: LA.svd(a, full_matrices=False), [rnd(2, 4, 3)]),
        "svd wide": (lambda a: LA.svd(a, full_matrices=False), [rnd(3, 5)]),
        "svd square full": (LA.svd, [rnd(2, 3, 3)]),
        "svd all outputs": (lambda a: (lambda r: r[0] @ (r[1][..., None] * r[2]))(LA.svd(a, False)), [rnd(4, 3)]),
        "svdvals": (LA.svdvals, [rnd(2, 3, 4)]),
        "qr tall": (LA.qr, [rnd(2, 4, 3)]),
        "qr wide": (LA.qr, [rnd(3, 5)]),
        "qr complete square": (lambda a: LA.qr(a, mode="complete"), [rnd(3, 3)]),
        "pinv tall": (LA.pinv, [rnd(2, 4, 3)]),
        "pinv wide": (LA.pinv, [rnd(3, 5)]),
        "pinv hermitian": (lambda x: LA.pinv(sym(x) + 6 * gdl.eye(3, dtype=F64), hermitian=True), [rnd(3, 3)]),
        "matrix_power 3": (lambda a: LA.matrix_power(a, 3), [well(2, 3, 3)]),
        "matrix_power -2": (lambda a: LA.matrix_power(a, -2), [well(3, 3)]),
        "matrix_power 0": (lambda a: LA.matrix_power(a, 0), [well(3, 3)]),
        "lstsq": (lambda a, b: LA.lstsq(a, b).solution, [rnd(2, 5, 3), rnd(2, 5, 2)]),
        "lstsq wide vector": (lambda a, b: LA.lstsq(a, b).solution, [rnd(3, 5), rnd(3)]),
        "multi_dot": (lambda a, b, c: LA.multi_dot([a, b, c]), [rnd(3), rnd(3, 4), rnd(4, 2)]),
        "vecdot": (LA.vecdot, [rnd(2, 3), rnd(3)]),
        "cond": (LA.cond, [rnd(2, 4, 3)]),
        "cond fro": (lambda a: LA.cond(a, "fro"), [well(3, 3)]),
        "matrix_norm fro": (LA.matrix_norm, [rnd(2, 3, 4)]),
        "matrix_norm nuc": (lambda a: LA.matrix_norm(a, "nuc"), [rnd(2, 3, 4)]),
        "matrix_norm 2": (lambda a: LA.matrix_norm(a, 2, dim=(0, 2), keepdim=True), [rnd(3, 2, 4)]),
        "matrix_norm -2": (lambda a: LA.matrix_norm(a, -2), [rnd(2, 4, 3)]),
        "matrix_norm 1": (lambda a: LA.matrix_norm(a, 1), [rnd(2, 3, 4)]),
        "matrix_norm -inf": (lambda a: LA.matrix_norm(a, -math.inf), [rnd(2, 3, 4)]),
        "vector_norm 2": (lambda x: LA.vector_norm(x, dim=-1), [rnd(2, 5)]),
        "vector_norm 3": (lambda x: LA.vector_norm(x, 3, dim=(0, 1), keepdim=True), [rnd(2, 3, 2)]),
        "vector_norm 1": (lambda x: LA.vector_norm(x, 1), [rnd(4, 2)]),
        "vector_norm inf": (lambda x: LA.vector_norm(x, math.inf, dim=0), [rnd(4, 3)]),
        "norm": (LA.norm, [rnd(3, 3)]),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_gradients(backend, name):
    fn, arrays = CASES[name]
    assert gradcheck(fn, tuple(t64(a) for a in arrays), atol=1e-6, rtol=1e-5)


def test_zero_gradients(backend):
    x = t64([0.0, 0.0, 0.0])
    LA.vector_norm(x).backward()
    close(x.grad, [0.0, 0.0, 0.0])  # the subgradient 0 at 0, as PyTorch
    x = t64([3.0, 0.0, -4.0])
    LA.vector_norm(x, 0).backward()
    close(x.grad, [0.0, 0.0, 0.0])
    a = t64(well(3, 3))
    sign, logabs = LA.slogdet(a)
    assert sign.requires_grad and logabs.requires_grad  # as PyTorch: the sign's gradient is 0
    (sign * 2.0).sum().backward()
    close(a.grad, np.zeros((3, 3)))
    assert LA.matrix_rank(a).requires_grad is False


def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix(backend):
    a = t64([[1.0, 2.0], [2.0, 4.0]])
    LA.det(a).backward()
    close(a.grad, [[4.0, -2.0], [-2.0, 1.0]])


def test_svd_full_matrices_ignores_the_extra_columns(backend):
    a = t64(rnd(4, 2))
    u, s, vh = LA.svd(a)
    u[:, 2:].sum().backward()  # the arbitrary basis of the complement: no gradient, as PyTorch
    close(a.grad, np.zeros((4, 2)))


def test_no_graph_under_no_grad(backend):
    a = t64(well(2, 3, 3))
    with gdl.no_grad():
        outs = [LA.inv(a), LA.det(a), *LA.eigh(sym(a)), *LA.svd(a), *LA.qr(a), LA.svdvals(a), LA.eigvalsh(a)]
    assert not any(o.requires_grad for o in outs)


# -- errors ------------------------------------------------------------------------------------


def test_singular_and_not_positive_definite(backend):
    singular = gdl.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=F64)
    with pytest.raises(LA.LinAlgError, match="linalg.inv: .*singular"):
        LA.inv(singular)
    with pytest.raises(LA.LinAlgError, match="linalg.solve: .*singular"):
        LA.solve(gdl.stack([gdl.eye(2, dtype=F64), singular]), gdl.ones(2, 2, dtype=F64))
    with pytest.raises(LA.LinAlgError, match="linalg.cholesky: .*positive-definite"):
        LA.cholesky(-gdl.eye(3, dtype=F64))
    with pytest.raises(RuntimeError):  # LinAlgError is a RuntimeError (PyTorch) and a ValueError (NumPy)
        LA.inv(singular)
    with pytest.raises(ValueError):
        LA.inv(singular)
    a = t64([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(LA.LinAlgError, match="slogdet"):
        LA.slogdet(a).logabsdet.backward()
    b = t64(rnd(4, 3))
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(b, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="complete"):
        LA.qr(b, mode="complete").Q.sum().backward()


@pytest.mark.parametrize("fn", [LA.inv, LA.det, LA.slogdet, LA.cholesky, LA.eigh, LA.eigvalsh, LA.svd,
                                LA.svdvals, LA.qr, LA.pinv, LA.matrix_rank, lambda a: LA.matrix_norm(a, "nuc"), LA.cond,
                                lambda a: LA.matrix_power(a, 2), lambda a: LA.solve(a, a)])
def test_integer_and_half_tensors_are_refused(backend, fn):
    with pytest.raises(TypeError, match=r"linalg\.\w+: expected a floating-point tensor, got int64"):
        fn(gdl.tensor([[1, 2], [3, 4]]))
    if backend != "array_api_strict":  # array_api_strict has no float16
        with pytest.raises(TypeError, match="float16 is not supported"):
            fn(gdl.ones(2, 2, dtype=gdl.float16))


def test_shape_and_argument_errors(backend):
    m = gdl.ones(2, 3)
    for fn in (LA.inv, LA.det, LA.slogdet, LA.cholesky, LA.eigh, LA.eigvalsh, lambda a: LA.matrix_power(a, 2)):
        with pytest.raises(ValueError, match=r"square .*\(2 by 3 matrices\)"):
            fn(m)
    for fn in (LA.det, LA.svd, LA.qr, LA.matrix_norm, LA.inv):
        with pytest.raises(ValueError, match="at least 2 dimensions"):
            fn(gdl.ones(3))
    with pytest.raises(TypeError, match="expected a tensor"):
        LA.det([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="do not fit"):
        LA.solve(gdl.eye(3), gdl.ones(2, 2))
    with pytest.raises(ValueError, match="broadcast"):
        LA.solve(gdl.ones(2, 3, 3), gdl.ones(3, 3, 2))
    with pytest.raises(TypeError, match="one dtype"):
        LA.solve(gdl.eye(2), gdl.ones(2, dtype=F64))
    with pytest.raises(ValueError, match="left=False"):
        LA.solve(gdl.eye(2), gdl.ones(2), left=False)
    with pytest.raises(ValueError, match="ord"):
        LA.matrix_norm(gdl.eye(2), 3)
    with pytest.raises(ValueError, match="ord"):
        LA.vector_norm(gdl.eye(2), "fro")
    with pytest.raises(ValueError, match="twice"):
        LA.matrix_norm(gdl.eye(2), dim=(1, -1))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        LA.norm(gdl.ones(2, 2, 2), 2)
    with pytest.raises(ValueError, match="matrix norm"):
        LA.norm(gdl.ones(3), "fro")
    with pytest.raises(ValueError, match="mode"):
        LA.qr(gdl.eye(2), mode="full")
    with pytest.raises(ValueError, match="UPLO"):
        LA.eigh(gdl.eye(2), UPLO="X")
    with pytest.raises(TypeError, match="n must be an int"):
        LA.matrix_power(gdl.eye(2), 2.0)
    with pytest.raises(ValueError, match="at least 2 tensors"):
        LA.multi_dot([gdl.eye(2)])
    with pytest.raises(ValueError, match="tensor 1 must be 2-D"):
        LA.multi_dot([gdl.eye(2), gdl.ones(2), gdl.eye(2)])
    with pytest.raises(ValueError, match="do not fit"):
        LA.multi_dot([gdl.ones(2, 3), gdl.ones(2, 3)])
    with pytest.raises(ValueError, match="do not fit"):
        LA.lstsq(gdl.ones(4, 3), gdl.ones(3, 2))
    with pytest.raises(ValueError, match="driver"):
        LA.lstsq(gdl.ones(3, 2), gdl.ones(3), driver="magic")
    with pytest.raises(ValueError, match="p must be"):
        LA.cond(gdl.eye(2), 3)
