"""gdl.linalg.solve_triangular, tensorinv, tensorsolve, vander and matrix_exp, on every test
backend, and against torch.linalg where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.linalg as L
from gdl.testing import gradcheck


def _tri(rng, n, upper, batch=()):
    a = rng.normal(size=batch + (n, n)) + 3 * np.eye(n)
    return a  # the other triangle is noise that must not be read


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular_values_and_gradients(backend, upper, left, unit):
    rng = np.random.default_rng(0)
    a = _tri(rng, 4, upper, (2,))
    b = rng.normal(size=(2, 4, 3) if left else (2, 3, 4))
    A, B = gdl.tensor(a, requires_grad=True), gdl.tensor(b, requires_grad=True)
    X = L.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        t = t - np.eye(4) * np.diagonal(t, axis1=-2, axis2=-1)[..., None] + np.eye(4)
    want = np.linalg.solve(t, b) if left else np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    np.testing.assert_allclose(X.numpy(), want, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda p, q: L.solve_triangular(p, q, upper=upper, left=left, unitriangular=unit), (A, B))
    A.grad = None
    L.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit).sum().backward()
    g = A.grad.numpy()
    unread = np.tril(g, -1) if upper else np.triu(g, 1)
    assert np.all(unread == 0)  # the other triangle is not read, so it gets no gradient
    if unit:
        assert np.all(np.diagonal(g, axis1=-2, axis2=-1) == 0)


def test_solve_triangular_broadcasts_and_checks(backend):
    rng = np.random.default_rng(1)
    A = gdl.tensor(np.triu(rng.normal(size=(3, 3)) + 3 * np.eye(3)))
    B = gdl.tensor(rng.normal(size=(5, 3, 2)))
    assert L.solve_triangular(A, B, upper=True).shape == (5, 3, 2)
    f64 = dict(dtype=gdl.float64)
    with pytest.raises(ValueError, match="matrix or a batch"):
        L.solve_triangular(A, gdl.ones(3, **f64), upper=True)
    with pytest.raises(ValueError, match="do not fit A X = B"):
        L.solve_triangular(A, gdl.ones(4, 2, **f64), upper=True)
    with pytest.raises(ValueError, match="do not fit X A = B"):
        L.solve_triangular(A, gdl.ones(4, 2, **f64), upper=True, left=False)
    with pytest.raises(TypeError, match="one dtype"):
        L.solve_triangular(A, gdl.ones(3, 2), upper=True)
    with pytest.raises(L.LinAlgError, match="singular"):
        L.solve_triangular(gdl.tensor([[1.0, 2.0], [0.0, 0.0]]), gdl.ones(2, 1), upper=True)
    with pytest.raises(TypeError):
        L.solve_triangular(A, B, True)  # upper is keyword-only, as torch


def test_tensorinv_and_tensorsolve(backend):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 6, 8, 3)) + 0.0
    A = gdl.tensor(a, requires_grad=True)
    Ainv = L.tensorinv(A, ind=2)
    assert Ainv.shape == (8, 3, 4, 6)
    np.testing.assert_allclose(np.tensordot(Ainv.numpy(), a, 2), np.eye(24).reshape(8, 3, 8, 3), atol=1e-9)
    assert gradcheck(lambda t: L.tensorinv(t[:2, :3, :2, :3], ind=2), (A,))
    with pytest.raises(ValueError, match="must equal the product"):
        L.tensorinv(gdl.zeros(2, 3, 4), ind=1)
    with pytest.raises(ValueError, match="strictly positive"):
        L.tensorinv(A, ind=0)
    m = rng.normal(size=(2, 3, 6))
    x = rng.normal(size=(6,))
    X = L.tensorsolve(gdl.tensor(m), gdl.tensor(np.tensordot(m, x, 1)))
    np.testing.assert_allclose(X.numpy(), x, rtol=1e-9)
    m2 = rng.normal(size=(6, 2, 3))
    X2 = L.tensorsolve(gdl.tensor(m2), gdl.tensor(np.tensordot(np.moveaxis(m2, 0, -1), x, 1)), dims=(0,))
    np.testing.assert_allclose(X2.numpy(), x, rtol=1e-9)
    with pytest.raises(ValueError, match="leading dimensions"):
        L.tensorsolve(gdl.tensor(m), gdl.ones(3, 2))


def test_vander_and_matrix_exp(backend):
    x = gdl.tensor([[0.0, 2.0], [1.0, -1.0]], dtype=gdl.float64, requires_grad=True)
    v = L.vander(x, N=3)
    np.testing.assert_array_equal(v.numpy(), [[[1, 0, 0], [1, 2, 4]], [[1, 1, 1], [1, -1, 1]]])
    assert gradcheck(lambda t: L.vander(t, N=4), (x,))
    assert L.vander(gdl.tensor([1.0, 2.0]), N=0).shape == (2, 0)
    with pytest.raises(ValueError, match="at least one dimension"):
        L.vander(gdl.tensor(1.0))
    a = gdl.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=gdl.float64)
    np.testing.assert_allclose(L.matrix_exp(a).numpy(), [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]], rtol=1e-12)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for upper, left, unit in [(True, True, False), (False, False, True), (False, True, False), (True, False, True)]:
        a = rng.normal(size=(2, 1, 4, 4)) + 3 * np.eye(4)
        b = rng.normal(size=(3, 4, 2) if left else (3, 2, 4))
        A, B = gdl.tensor(a, requires_grad=True), gdl.tensor(b, requires_grad=True)
        tA, tB = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        X = L.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
        tX = torch.linalg.solve_triangular(tA, tB, upper=upper, left=left, unitriangular=unit)
        np.testing.assert_allclose(X.detach().numpy(), tX.detach().numpy(), rtol=1e-12, atol=1e-13)
        w = rng.normal(size=tuple(tX.shape))
        (X * gdl.tensor(w)).sum().backward()
        (tX * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(B.grad.numpy(), tB.grad.numpy(), rtol=1e-11, atol=1e-12)
    a = rng.normal(size=(3, 4, 12))
    np.testing.assert_allclose(L.tensorinv(gdl.tensor(a.reshape(12, 3, 4)), ind=1).numpy(),
                               torch.linalg.tensorinv(torch.tensor(a.reshape(12, 3, 4)), ind=1).numpy(), rtol=1e-9)
    x = rng.normal(size=(2, 5))
    np.testing.assert_allclose(L.vander(gdl.tensor(x)).numpy(), torch.linalg.vander(torch.tensor(x)).numpy(), rtol=1e-14)
