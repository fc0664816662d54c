"""Cross-checks of the gdl.linalg namespace against torch.linalg (skipped when torch is not
installed): values and gradients (float64, batched, random well-conditioned matrices).

Eigenvectors and singular vectors are defined up to sign, so their checks go through
sign-free functions of them (squares, ``u_k v_kᵀ``, ``Q_jk R_kl``); both libraries call
LAPACK, but nothing here relies on the two picking the same signs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl.linalg as LA  # noqa: E402

TOL = dict(rtol=1e-7, atol=1e-9)


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + 13 * len(shape) + sum(shape)).standard_normal(shape)


def well(*shape, seed=0):
    return rnd(*shape, seed=seed) + 3.0 * np.eye(shape[-1])


def spd(*shape, seed=0):
    a = rnd(*shape, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def check(fg, ft, *arrays, msg=""):
    """Values of ``fg`` (gdl) and ``ft`` (torch) and the gradient of a random weighting of
    them with respect to every input (a missing torch gradient counts as zeros)."""
    gs = [g64(a, grad=True) for a in arrays]
    ts = [t64(a, grad=True) for a in arrays]
    y, yt = fg(*gs), ft(*ts)
    close(y, yt, msg, **TOL)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (y * g64(w)).sum().backward()
    (yt * t64(w)).sum().backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        want = t.grad if t.grad is not None else np.zeros(t.shape)
        got = g.grad if g.grad is not None else np.zeros(g.shape)
        close(got, want, f"{msg}: grad of input {i}", **TOL)


def sym(x):
    return x + x.mT


def u1v1(r):
    """``u_0 v_0ᵀ``, scaled by the largest singular value: free of the sign choice."""
    return r[0][..., :, :1] * r[2][..., :1, :] * r[1][..., :1, None]


CASES = {
    "inv": (LA.inv, torch.linalg.inv, [well(2, 3, 3)]),
    "det": (LA.det, torch.linalg.det, [well(2, 3, 3)]),
    "det singular": (LA.det, torch.linalg.det, [np.outer([1.0, 2.0, 0.5], [3.0, -1.0, 2.0]) + np.outer(
        [0.0, 1.0, 1.0], [1.0, 1.0, 0.0])]),
    "slogdet logabsdet": (lambda a: LA.slogdet(a).logabsdet, lambda a: torch.linalg.slogdet(a).logabsdet,
                          [rnd(2, 3, 3)]),
    "slogdet sign": (lambda a: LA.slogdet(a)[0], lambda a: torch.linalg.slogdet(a)[0], [rnd(2, 3, 3)]),
    "solve": (LA.solve, torch.linalg.solve, [well(2, 3, 3), rnd(2, 3, 2)]),
    "solve vectors": (LA.solve, torch.linalg.solve, [well(2, 3, 3), rnd(2, 3)]),
    "solve one vector": (LA.solve, torch.linalg.solve, [well(2, 3, 3), rnd(3)]),
    "solve broadcast": (LA.solve, torch.linalg.solve, [well(2, 1, 3, 3), rnd(4, 3, 2)]),
    "solve left=False": (lambda a, b: LA.solve(a, b, left=False), lambda a, b: torch.linalg.solve(a, b, left=False),
                         [well(2, 3, 3), rnd(2, 4, 3)]),
    "cholesky": (LA.cholesky, torch.linalg.cholesky, [spd(2, 3, 3)]),
    "cholesky upper": (lambda a: LA.cholesky(a, upper=True), lambda a: torch.linalg.cholesky(a, upper=True),
                       [spd(2, 3, 3)]),
    "cholesky reads the lower triangle": (LA.cholesky, torch.linalg.cholesky,
                                          [spd(3, 3) + np.triu(np.ones((3, 3)), 1)]),
    "eigh eigenvalues": (lambda a: LA.eigh(a)[0], lambda a: torch.linalg.eigh(a)[0], [rnd(2, 3, 3)]),
    "eigh eigenvectors": (lambda a: LA.eigh(a)[1] ** 2, lambda a: torch.linalg.eigh(a)[1] ** 2, [rnd(2, 3, 3)]),
    "eigh both, UPLO=U": (lambda a: (lambda r: r[1] ** 2 * r[0][..., None, :])(LA.eigh(a, UPLO="U")),
                          lambda a: (lambda r: r[1] ** 2 * r[0][..., None, :])(torch.linalg.eigh(a, UPLO="U")),
                          [rnd(2, 4, 4)]),
    "eigvalsh": (LA.eigvalsh, torch.linalg.eigvalsh, [rnd(2, 3, 3)]),
    "svdvals": (LA.svdvals, torch.linalg.svdvals, [rnd(2, 3, 4)]),
    "pinv hermitian": (lambda a: LA.pinv(a, hermitian=True), lambda a: torch.linalg.pinv(a, hermitian=True),
                       [spd(2, 3, 3)]),
    "multi_dot": (lambda *m: LA.multi_dot(m), lambda *m: torch.linalg.multi_dot(m),
                  [rnd(3), rnd(3, 5), rnd(5, 2), rnd(2, 4), rnd(4)]),
    "multi_dot matrices": (lambda *m: LA.multi_dot(m), lambda *m: torch.linalg.multi_dot(m),
                           [rnd(6, 2), rnd(2, 5), rnd(5, 1)]),
    "vecdot": (LA.vecdot, torch.linalg.vecdot, [rnd(2, 3), rnd(3)]),
    "vecdot dim 0": (lambda a, b: LA.vecdot(a, b, dim=0), lambda a, b: torch.linalg.vecdot(a, b, dim=0),
                     [rnd(3, 2), rnd(3, 1)]),
    "diagonal": (lambda a: LA.diagonal(a, offset=1), lambda a: torch.linalg.diagonal(a, offset=1), [rnd(2, 3, 4)]),
    "cross": (LA.cross, torch.linalg.cross, [rnd(2, 3), rnd(1, 3)]),
    "norm": (LA.norm, torch.linalg.norm, [rnd(2, 3, 4)]),
    "norm dim": (lambda a: LA.norm(a, 3, dim=1), lambda a: torch.linalg.norm(a, 3, dim=1), [rnd(2, 3, 4)]),
    "norm 2-D nuc": (lambda a: LA.norm(a, "nuc"), lambda a: torch.linalg.norm(a, "nuc"), [rnd(3, 4)]),
    "norm 1-D inf": (lambda a: LA.norm(a, math.inf), lambda a: torch.linalg.norm(a, math.inf), [rnd(5)]),
    "norm keepdim": (lambda a: LA.norm(a, -1, dim=(2, 0), keepdim=True),
                     lambda a: torch.linalg.norm(a, -1, dim=(2, 0), keepdim=True), [rnd(2, 3, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_functions(name):
    fg, ft, arrays = CASES[name]
    check(fg, ft, *arrays, msg=name)


SHAPES = [(2, 4, 3), (3, 3), (2, 3, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full):
    a = rnd(*shape)
    k = min(shape[-2:])  # (full_matrices: the other columns of U, rows of Vh are any basis of the rest)
    check(lambda x: LA.svd(x, full)[1], lambda x: torch.linalg.svd(x, full)[1], a, msg="S")
    check(lambda x: LA.svd(x, full)[0][..., :k] ** 2, lambda x: torch.linalg.svd(x, full)[0][..., :k] ** 2, a,
          msg="U²")
    check(lambda x: LA.svd(x, full)[2][..., :k, :] ** 2, lambda x: torch.linalg.svd(x, full)[2][..., :k, :] ** 2,
          a, msg="Vh²")
    if full:
        assert LA.svd(g64(a))[0].shape == tuple(torch.linalg.svd(t64(a))[0].shape)
        assert LA.svd(g64(a))[2].shape == tuple(torch.linalg.svd(t64(a))[2].shape)
    check(lambda x: u1v1(LA.svd(x, full)), lambda x: u1v1(torch.linalg.svd(x, full)), a, msg="u v S")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr(shape, mode):
    if mode == "complete" and shape[-2] > shape[-1]:
        pytest.skip("not differentiable (in torch either)")
    a = rnd(*shape)

    def both(r):  # Q_jk R_kl for the first k: free of the sign choice
        return r[0][..., :, :1] * r[1][..., :1, :1] + r[1][..., :1, -1:] * r[0][..., :, :1]

    check(lambda x: LA.qr(x, mode)[0] ** 2, lambda x: torch.linalg.qr(x, mode)[0] ** 2, a, msg="Q²")
    check(lambda x: LA.qr(x, mode)[1] ** 2, lambda x: torch.linalg.qr(x, mode)[1] ** 2, a, msg="R²")
    check(lambda x: both(LA.qr(x, mode)), lambda x: both(torch.linalg.qr(x, mode)), a, msg="Q R")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_pinv_lstsq_cond(shape):
    a = rnd(*shape)
    check(LA.pinv, torch.linalg.pinv, a, msg="pinv")
    check(LA.cond, torch.linalg.cond, a, msg="cond")
    check(lambda x: LA.cond(x, -2), lambda x: torch.linalg.cond(x, -2), a, msg="cond -2")
    b = rnd(*shape[:-1], 2, seed=1)
    check(lambda x, y: LA.lstsq(x, y).solution, lambda x, y: torch.linalg.lstsq(x, y).solution, a, b, msg="lstsq")
    got, want = LA.lstsq(g64(a), g64(b)), torch.linalg.lstsq(t64(a), t64(b))
    close(got.rank, want.rank, "rank")
    assert got.residuals.shape == want.residuals.shape == (0,)
    close(LA.matrix_rank(g64(a)), torch.linalg.matrix_rank(t64(a)), "matrix_rank")


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # cond 2 of a singular matrix: s_max / 0
@pytest.mark.parametrize("ord_", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf], ids=str)
def test_matrix_norm_and_cond(ord_):
    a = rnd(2, 3, 4)
    check(lambda x: LA.matrix_norm(x, ord_), lambda x: torch.linalg.matrix_norm(x, ord_), a, msg="matrix_norm")
    check(lambda x: LA.matrix_norm(x, ord_, dim=(2, 0), keepdim=True),
          lambda x: torch.linalg.matrix_norm(x, ord_, dim=(2, 0), keepdim=True), a, msg="matrix_norm dim")
    if ord_ not in (2, -2):
        # torch's backward of cond for these orders fails (an in-place change of inv's output
        # in torch 2.13), so the gradient is checked against cond's definition instead
        w = well(2, 3, 3)
        close(LA.cond(g64(w), ord_), torch.linalg.cond(t64(w), ord_), "cond", **TOL)
        check(lambda x: LA.cond(x, ord_),
              lambda x: torch.linalg.matrix_norm(x, ord_) * torch.linalg.matrix_norm(torch.linalg.inv(x), ord_),
              w, msg="cond gradient")
    singular = np.stack([np.eye(3), np.diag([1.0, 0.0, 2.0])])
    close(LA.cond(g64(singular), ord_), torch.linalg.cond(t64(singular), ord_), "cond of a singular matrix",
          rtol=1e-6)


# gdl.functional.linalg's p-norm computes |0| ** -1.5 = inf (the norm is then 0, as torch's) with
# NumPy's divide-by-zero warning
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("ord_", [2, 1, math.inf, -math.inf, 0, 3, 0.5, -1.5], ids=str)
def test_vector_norm(ord_):
    x = rnd(3, 4)
    x[0, 0] = 0.0
    check(lambda t: LA.vector_norm(t, ord_), lambda t: torch.linalg.vector_norm(t, ord_), x, msg="all")
    if ord_ > 0:  # torch's gradient where |x|**ord is inf (a zero element, ord < 0) is NaN-prone
        check(lambda t: LA.vector_norm(t, ord_, dim=1, keepdim=True),
              lambda t: torch.linalg.vector_norm(t, ord_, dim=1, keepdim=True), x, msg="dim")
    check(lambda t: LA.vector_norm(t, ord_, dim=(0, 1)), lambda t: torch.linalg.vector_norm(t, ord_, dim=(0, 1)),
          rnd(2, 3, 2), msg="dims")


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5])
def test_matrix_power(n):
    check(lambda a: LA.matrix_power(a, n), lambda a: torch.linalg.matrix_power(a, n), well(2, 3, 3), msg=str(n))


def test_svd_full_matrices_gradient_ignores_the_extra_columns_as_torch():
    a = rnd(4, 2)
    check(lambda x: LA.svd(x)[0][:, 2:].sum(), lambda x: torch.linalg.svd(x)[0][:, 2:].sum(), a)


# -- drawn shapes ----------------------------------------------------------------------------------

batch = st.lists(st.integers(1, 3), max_size=2).map(tuple)


@SETTINGS(10)
@given(batch, st.integers(1, 4), st.integers(0, 1000))
def test_square_functions_for_drawn_shapes(b, n, seed):
    a, s = well(*b, n, n, seed=seed), spd(*b, n, n, seed=seed)
    check(LA.inv, torch.linalg.inv, a, msg="inv")
    check(LA.det, torch.linalg.det, a, msg="det")
    check(lambda x: LA.slogdet(x)[1], lambda x: torch.linalg.slogdet(x)[1], a, msg="slogdet")
    check(LA.solve, torch.linalg.solve, a, rnd(*b, n, 2, seed=seed), msg="solve")
    check(LA.cholesky, torch.linalg.cholesky, s, msg="cholesky")
    check(lambda x: LA.eigh(x)[0], lambda x: torch.linalg.eigh(x)[0], s, msg="eigh values")
    check(lambda x: LA.eigh(x)[1] ** 2, lambda x: torch.linalg.eigh(x)[1] ** 2, s, msg="eigh vectors")


@SETTINGS(10)
@given(batch, st.integers(1, 4), st.integers(1, 4), st.integers(0, 1000))
def test_rectangular_functions_for_drawn_shapes(b, m, n, seed):
    a = rnd(*b, m, n, seed=seed)
    check(LA.svdvals, torch.linalg.svdvals, a, msg="svdvals")
    check(lambda x: u1v1(LA.svd(x, False)), lambda x: u1v1(torch.linalg.svd(x, False)), a, msg="svd")
    check(LA.pinv, torch.linalg.pinv, a, msg="pinv")
    check(lambda x: LA.qr(x)[1] ** 2, lambda x: torch.linalg.qr(x)[1] ** 2, a, msg="qr R²")
    check(lambda x: LA.matrix_norm(x, "nuc"), lambda x: torch.linalg.matrix_norm(x, "nuc"), a, msg="nuc")
    check(LA.cond, torch.linalg.cond, a, msg="cond")
