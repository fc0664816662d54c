"""Second-order gradients (create_graph=True) through gdl.linalg: the factorizations' and
solves' graph backwards (inv, solve, solve_triangular, det, slogdet, cholesky, eigh,
eigvalsh, svd, svdvals, qr, pinv) and the functions built on them.

Hessian-vector products are compared with PyTorch's in float64 (skipped without torch);
the graph path's first gradient is also checked against the raw (first-order) one and
against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.linalg as GL
from gdl.autograd import grad
from gdl.testing import gradcheck

# -- inputs ------------------------------------------------------------------------------


def _general(rng, *shape):
    """Well-conditioned square matrices (a shifted diagonal) or any rectangular ones."""
    a = rng.standard_normal(shape)
    if shape[-1] == shape[-2]:
        a = a + 3.0 * np.eye(shape[-1])
    return a


def _spd(rng, *shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def sq(*shape):
    return lambda rng: _general(rng, *shape)


def spd(*shape):
    return lambda rng: _spd(rng, *shape)


def rect(*shape):
    return lambda rng: rng.standard_normal(shape)


def _sign_free(v):
    """Squares: eigen- and singular vectors are defined up to sign."""
    return v * v


# (id, gdl function of gdl.linalg-like module m, input makers); the same function runs on
# torch with m = torch.linalg (plus a few names mapped below)
CASES = [
    ("inv", lambda m, a: m.inv(a), [sq(3, 3)]),
    ("inv_batch", lambda m, a: m.inv(a), [sq(2, 3, 3)]),
    ("solve", lambda m, a, b: m.solve(a, b), [sq(3, 3), rect(3, 2)]),
    ("solve_batch_broadcast", lambda m, a, b: m.solve(a, b), [sq(2, 3, 3), rect(3, 2)]),
    ("solve_vector", lambda m, a, b: m.solve(a, b), [sq(3, 3), rect(3)]),
    ("solve_batch_vector", lambda m, a, b: m.solve(a, b), [sq(2, 3, 3), rect(2, 3)]),
    ("solve_right", lambda m, a, b: m.solve(a, b, left=False), [sq(3, 3), rect(2, 3)]),
    ("solve_right_batch", lambda m, a, b: m.solve(a, b, left=False), [sq(3, 3), rect(2, 4, 3)]),
    ("solve_triangular_upper", lambda m, a, b: m.solve_triangular(a, b, upper=True), [sq(3, 3), rect(3, 2)]),
    ("solve_triangular_lower_right", lambda m, a, b: m.solve_triangular(a, b, upper=False, left=False),
     [sq(2, 3, 3), rect(4, 3)]),
    ("solve_triangular_unit", lambda m, a, b: m.solve_triangular(a, b, upper=False, unitriangular=True),
     [sq(3, 3), rect(2, 3, 2)]),
    ("det", lambda m, a: m.det(a), [sq(3, 3)]),
    ("det_batch", lambda m, a: m.det(a), [sq(2, 3, 3)]),
    ("slogdet", lambda m, a: m.slogdet(a)[1], [sq(2, 3, 3)]),
    ("slogdet_both", lambda m, a: m.slogdet(a)[1] * m.slogdet(a)[0], [sq(3, 3)]),
    ("logdet", lambda m, a: m.logdet(a), [spd(2, 3, 3)]),
    ("cholesky", lambda m, a: m.cholesky(a), [spd(3, 3)]),
    ("cholesky_batch_upper", lambda m, a: m.cholesky(a, upper=True), [spd(2, 4, 4)]),
    ("eigvalsh", lambda m, a: m.eigvalsh(a), [spd(3, 3)]),
    ("eigvalsh_batch_upper", lambda m, a: m.eigvalsh(a, UPLO="U"), [spd(2, 3, 3)]),
    ("eigh_values", lambda m, a: m.eigh(a)[0], [spd(3, 3)]),
    ("eigh_vectors", lambda m, a: _sign_free(m.eigh(a)[1]), [spd(3, 3)]),
    ("eigh_both_batch_upper", lambda m, a: _sign_free(m.eigh(a, UPLO="U")[1]) * m.eigh(a, UPLO="U")[0][..., None, :],
     [spd(2, 3, 3)]),
    ("svdvals", lambda m, a: m.svdvals(a), [rect(4, 3)]),
    ("svdvals_batch_wide", lambda m, a: m.svdvals(a), [rect(2, 3, 4)]),
    ("svd_U_tall", lambda m, a: _sign_free(m.svd(a, full_matrices=False)[0]), [rect(4, 3)]),
    ("svd_Vh_wide", lambda m, a: _sign_free(m.svd(a, full_matrices=False)[2]), [rect(2, 3, 4)]),
    ("svd_full_square", lambda m, a: (lambda r: r[0] * r[2].mT * r[1][..., None, :])(m.svd(a)), [rect(3, 3)]),
    ("qr_tall", lambda m, a: m.qr(a)[0] * m.qr(a)[1].sum(), [rect(4, 3)]),
    ("qr_R_square_batch", lambda m, a: m.qr(a)[1], [rect(2, 3, 3)]),
    ("qr_wide", lambda m, a: m.qr(a)[0].sum() * m.qr(a)[1], [rect(3, 4)]),
    ("qr_complete_square", lambda m, a: m.qr(a, mode="complete")[0], [rect(3, 3)]),
    # built from the above
    ("pinv_tall", lambda m, a: m.pinv(a), [rect(4, 3)]),
    ("pinv_wide_batch", lambda m, a: m.pinv(a), [rect(2, 3, 4)]),
    ("pinv_hermitian", lambda m, a: m.pinv(a, hermitian=True), [spd(3, 3)]),
    ("lstsq", lambda m, a, b: m.lstsq(a, b).solution, [rect(4, 3), rect(4, 2)]),
    ("matrix_norm_fro", lambda m, a: m.matrix_norm(a), [rect(3, 4)]),
    ("matrix_norm_nuc", lambda m, a: m.matrix_norm(a, "nuc"), [rect(2, 3, 4)]),
    ("matrix_norm_2", lambda m, a: m.matrix_norm(a, 2), [rect(4, 3)]),
    ("matrix_norm_-2", lambda m, a: m.matrix_norm(a, -2), [rect(4, 3)]),
    ("matrix_norm_1_of_sin", lambda m, a: m.matrix_norm(a.sin(), 1), [rect(4, 3)]),
    ("matrix_norm_inf_of_sin", lambda m, a: m.matrix_norm(a.sin(), float("inf")), [rect(4, 3)]),
    ("cond", lambda m, a: m.cond(a), [rect(4, 3)]),
    ("cond_-2", lambda m, a: m.cond(a, -2), [sq(2, 3, 3)]),
    ("cond_fro", lambda m, a: m.cond(a, "fro"), [sq(3, 3)]),
    ("cond_1", lambda m, a: m.cond(a, 1), [sq(3, 3)]),
    ("matrix_power_3", lambda m, a: m.matrix_power(a, 3), [sq(3, 3)]),
    ("matrix_power_-2", lambda m, a: m.matrix_power(a, -2), [sq(2, 3, 3)]),
    ("multi_dot", lambda m, a, b, c: m.multi_dot([a, b, c]), [rect(3), sq(3, 3), rect(3, 4)]),
    ("tensorinv", lambda m, a: m.tensorinv(a, 2), [lambda rng: _general(rng, 6, 6).reshape(2, 3, 6)]),
    ("tensorsolve", lambda m, a, b: m.tensorsolve(a, b),
     [lambda rng: _general(rng, 6, 6).reshape(2, 3, 2, 3), rect(2, 3)]),
    ("vander", lambda m, x: m.vander(x, N=4), [rect(2, 3)]),
]
IDS = [c[0] for c in CASES]


class _TorchLinalg:
    """torch.linalg with the names gdl.linalg has and torch.linalg lacks (logdet), and
    cond for the p that torch.linalg.cond cannot differentiate twice (its inv is saved and
    then written over in place), written as the same product of norms."""

    def __init__(self, torch):
        self._t = torch

    def __getattr__(self, name):
        return getattr(self._t.linalg, name)

    def logdet(self, a):
        return self._t.logdet(a)

    def cond(self, a, p=None):
        if p in (None, 2, -2):
            return self._t.linalg.cond(a, p)
        return self._t.linalg.matrix_norm(a, p) * self._t.linalg.matrix_norm(self._t.linalg.inv(a), p)


def _arrays(makers, seed):
    rng = np.random.default_rng(seed)
    return [mk(rng) for mk in makers]


def _g(a):
    return gdl.tensor(a, requires_grad=True)


def _hvp_gdl(f, arrays, w, vs):
    ts = [_g(a) for a in arrays]
    out = f(GL, *ts)
    firsts = grad((out * gdl.tensor(w)).sum(), ts, create_graph=True)
    assert all(g.grad_fn is not None for g in firsts)
    s = sum((g * gdl.tensor(v)).sum() for g, v in zip(firsts, vs))
    return [g.numpy() for g in firsts], [h.numpy() for h in grad(s, ts, allow_unused=True)]


def _hvp_torch(torch, f, arrays, w, vs):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(_TorchLinalg(torch), *ts)
    firsts = torch.autograd.grad((out * torch.tensor(w)).sum(), ts, create_graph=True)
    s = sum((g * torch.tensor(v)).sum() for g, v in zip(firsts, vs))
    return [g.detach().numpy() for g in firsts], [h.numpy() for h in torch.autograd.grad(s, ts, allow_unused=True)]


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_hessian_vector_product_matches_torch(index):
    torch = pytest.importorskip("torch")
    _, f, makers = CASES[index]
    arrays = _arrays(makers, seed=index)
    out_shape = f(GL, *[gdl.tensor(a) for a in arrays]).shape
    rng = np.random.default_rng(1000 + index)
    w = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    firsts, hvps = _hvp_gdl(f, arrays, w, vs)
    t_firsts, t_hvps = _hvp_torch(torch, f, arrays, w, vs)
    for a, b in zip(firsts, t_firsts):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    for a, b in zip(hvps, t_hvps):
        assert a is not None and b is not None
        assert np.abs(b).max() > 1e-6  # the second derivative is not trivially zero
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["inv", "det"])
def test_third_derivative_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    a = _general(rng, 2, 3, 3)
    u, v, w = (rng.standard_normal(a.shape) for _ in range(3))
    out_w = rng.standard_normal(a.shape if name == "inv" else a.shape[:-2])

    def third(lib, fn, x, wrap, g):
        o = fn(x)
        g1 = g((o * wrap(out_w)).sum(), x)
        g2 = g((g1 * wrap(u)).sum(), x)
        g3 = g((g2 * wrap(v)).sum(), x)
        return (g3 * wrap(w)).sum(), g3

    x = _g(a)
    s, g3 = third(GL, getattr(GL, name), x, gdl.tensor,
                  lambda o, t: grad(o, t, create_graph=True)[0])
    (g4,) = grad(s, x)  # a fourth derivative, for good measure
    tx = torch.tensor(a, requires_grad=True)
    ts, tg3 = third(torch, getattr(torch.linalg, name), tx, torch.tensor,
                    lambda o, t: torch.autograd.grad(o, t, create_graph=True)[0])
    (tg4,) = torch.autograd.grad(ts, tx)
    np.testing.assert_allclose(g3.numpy(), tg3.detach().numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(g4.numpy(), tg4.numpy(), rtol=1e-7, atol=1e-9)
    assert np.abs(tg3.detach().numpy()).max() > 1e-3


GRADCHECK = ["inv", "solve_batch_vector", "solve_triangular_lower_right", "det_batch", "slogdet", "cholesky",
             "eigh_both_batch_upper", "svd_U_tall", "qr_wide", "pinv_tall"]
SYMMETRIC = {"cholesky", "eigh_both_batch_upper"}


@pytest.mark.parametrize("name", GRADCHECK)
def test_graph_first_gradient_matches_finite_differences(name):
    index = IDS.index(name)
    _, f, makers = CASES[index]
    if name in SYMMETRIC:  # they read one triangle but give PyTorch's symmetric gradient: symmetrize first
        f = lambda m, a, f=f: f(m, (a + a.mT) * 0.5)  # noqa: E731
    ts = [_g(a) for a in _arrays(makers, seed=index)]
    w = gdl.tensor(np.random.default_rng(5).standard_normal(f(GL, *ts).shape))
    for i in range(len(ts)):
        def fn(*args, i=i):
            with gdl.enable_grad():  # (gradcheck's finite differences run under no_grad)
                return grad((f(GL, *args) * w).sum(), list(args), create_graph=True)[i]

        assert gradcheck(fn, ts, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_graph_first_gradient_equals_the_raw_one(index):
    _, f, makers = CASES[index]
    arrays = _arrays(makers, seed=index + 50)
    w = gdl.tensor(np.random.default_rng(index).standard_normal(f(GL, *[gdl.tensor(a) for a in arrays]).shape))
    fast_ts, graph_ts = [_g(a) for a in arrays], [_g(a) for a in arrays]
    fast = grad((f(GL, *fast_ts) * w).sum(), fast_ts)
    graphed = grad((f(GL, *graph_ts) * w).sum(), graph_ts, create_graph=True)
    for a, b in zip(fast, graphed):
        assert a.grad_fn is None and b.grad_fn is not None
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-9, atol=1e-11)


# -- edges ---------------------------------------------------------------------------------


def test_det_at_a_singular_matrix_has_no_graph_backward():
    x = _g(np.array([[1.0, 2.0], [2.0, 4.0]]))
    (g,) = grad(GL.det(x), x)  # the first-order path takes the SVD there
    np.testing.assert_allclose(g.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    with pytest.raises(NotImplementedError, match="det at a singular matrix"):
        grad(GL.det(x), x, create_graph=True)


def test_slogdet_sign_only_gives_a_zero_gradient():
    x = _g(_general(np.random.default_rng(3), 3, 3))
    (g,) = grad(GL.slogdet(x).sign * 2.0, x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), np.zeros((3, 3)))


def test_qr_mode_r_refuses_create_graph_as_backward():
    x = _g(np.random.default_rng(4).standard_normal((3, 3)))
    with pytest.raises(RuntimeError, match="mode='r'"):
        grad(GL.qr(x, mode="r").R.sum(), x, create_graph=True)


def test_matrix_power_zero_gives_a_zero_gradient_under_create_graph():
    x = _g(_general(np.random.default_rng(6), 3, 3))
    (g,) = grad((GL.matrix_power(x, 0) * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), np.eye(3))
    assert g.grad_fn is not None


def test_second_backward_into_leaf_grad():
    """The ``backward(create_graph=True)`` form (a gradient penalty) through inv and cholesky."""
    rng = np.random.default_rng(8)
    a = _general(rng, 3, 3)
    s = _spd(rng, 3, 3)
    x, y = _g(a), _g(s)
    loss = GL.inv(x).sum() + GL.cholesky(y).sum()
    loss.backward(create_graph=True)
    penalty = (x.grad ** 2).sum() + (y.grad ** 2).sum()
    gx, gy = grad(penalty, [x, y])
    torch = pytest.importorskip("torch")
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    tl = torch.linalg.inv(tx).sum() + torch.linalg.cholesky(ty).sum()
    tgx, tgy = torch.autograd.grad(tl, [tx, ty], create_graph=True)
    tpx, tpy = torch.autograd.grad((tgx ** 2).sum() + (tgy ** 2).sum(), [tx, ty])
    np.testing.assert_allclose(gx.numpy(), tpx.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gy.numpy(), tpy.numpy(), rtol=1e-8, atol=1e-10)
