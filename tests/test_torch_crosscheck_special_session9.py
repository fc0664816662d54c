"""gdl.special's incomplete gamma, zeta, Bessel, Airy and orthogonal-polynomial functions and
gdl's window functions against PyTorch 2.13: values (float64 and float32), result dtypes,
broadcasting of ``n``, edges, and the gradients PyTorch has (``gammainc``/``gammaincc`` in x).

Tolerances are PyTorch's accuracy, not gdl's (gdl's is checked against mpmath in
test_special_session9.py): in float64 PyTorch's J/Y are good to about 1e-6 absolute, ``airy_ai``
to about 1e-6, ``gammainc`` to about 2e-9 relative; its float32 results are computed in float32."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402
from gdl import special  # noqa: E402

# name -> (float64 rtol, float64 atol) against PyTorch
UNARY = {
    "bessel_j0": (0.0, 1e-6), "bessel_j1": (0.0, 1e-6), "bessel_y0": (0.0, 1e-6), "bessel_y1": (0.0, 1e-6),
    "modified_bessel_i0": (5e-15, 0.0), "modified_bessel_i1": (5e-15, 0.0), "modified_bessel_k0": (5e-15, 0.0),
    "modified_bessel_k1": (5e-15, 0.0), "scaled_modified_bessel_k0": (5e-15, 0.0),
    "scaled_modified_bessel_k1": (5e-15, 0.0), "spherical_bessel_j0": (1e-15, 1e-17), "airy_ai": (0.0, 3e-6),
}


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _points(name):
    rng = np.random.default_rng(3)
    if name == "airy_ai":
        return np.concatenate([rng.uniform(-30, 15, 200), [0.0, 1.0, -2.0, -9.7]])
    return np.concatenate([rng.uniform(-40, 40, 200), 10 ** rng.uniform(-6, 2.5, 80), [0.0, 0.5, 2.0, 25.0]])


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_values_match_torch(name, dtype):
    a = _points(name).astype(dtype)
    ours = _quiet(getattr(special, name), gdl.tensor(a))
    theirs = getattr(torch.special, name)(torch.tensor(a))
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    ours, theirs = ours.numpy(), theirs.numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    both = np.isfinite(ours) & np.isfinite(theirs)
    np.testing.assert_array_equal(ours[~both & ~np.isnan(ours)], theirs[~both & ~np.isnan(theirs)])
    rtol, atol = UNARY[name]
    if dtype == "float32":
        rtol, atol = max(rtol, 2e-6), max(atol, 2e-6 if atol else 0.0)
    np.testing.assert_allclose(ours[both], theirs[both], rtol=rtol, atol=atol)


def test_unary_edges_match_torch():
    a = np.array([0.0, -0.0, -1.0, -2.5, np.nan, 1e-300])
    for name in UNARY:
        ours = _quiet(getattr(special, name), gdl.tensor(a)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(a)).numpy()
        rtol, atol = UNARY[name]  # NaN and inf where PyTorch's are
        np.testing.assert_allclose(ours, theirs, rtol=max(rtol, 1e-15), atol=atol, err_msg=name)
    # deliberate difference: the limits at ±inf (PyTorch gives NaN for J, Y, I, Ai)
    inf = gdl.tensor([np.inf, -np.inf], dtype=gdl.float64)
    assert (special.bessel_j0(inf).numpy() == 0).all() and (special.airy_ai(inf).numpy() == 0).all()
    assert np.isnan(torch.special.bessel_j0(torch.tensor([np.inf]))).all()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gammainc_values_and_gradients_match_torch(dtype):
    rng = np.random.default_rng(7)
    a = (10 ** rng.uniform(-2, 2.5, 300)).astype(dtype)
    x = (a * 10 ** rng.uniform(-1, 1, 300)).astype(dtype)
    rtol = 5e-9 if dtype == "float64" else 2e-4  # PyTorch's accuracy (float32: computed in float32)
    for name in ("gammainc", "gammaincc"):
        xg = gdl.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ours, theirs = getattr(special, name)(gdl.tensor(a), xg), getattr(torch.special, name)(torch.tensor(a), xt)
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        keep = theirs.detach().numpy() > (1e-290 if dtype == "float64" else 1e-30)
        np.testing.assert_allclose(ours.numpy()[keep], theirs.detach().numpy()[keep], rtol=rtol)
        w = rng.normal(size=a.shape).astype(dtype)
        (ours * gdl.tensor(w)).sum().backward()
        (theirs * torch.tensor(w)).sum().backward()
        g, gt = xg.grad.numpy(), xt.grad.numpy()
        keep = np.abs(gt) > (1e-290 if dtype == "float64" else 1e-30)
        np.testing.assert_allclose(g[keep], gt[keep], rtol=1e-12 if dtype == "float64" else 2e-4)


def test_gammainc_edges_and_names_match_torch():
    # (not a = 1e-300, x = 1: Q = a·E₁(1) = 2.19e-301, PyTorch gives 7.97e-301)
    a = np.array([0, 0, 1, 1, -1, 2, np.inf, 2, np.nan, 1, 0.5, np.inf])
    x = np.array([0, 1, 0, -1, 1, np.inf, 2, np.inf, 1, np.nan, 1e-300, np.inf])
    for name in ("gammainc", "gammaincc"):
        ours = getattr(special, name)(gdl.tensor(a), gdl.tensor(x)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, err_msg=name)
    t = np.array([0.5, 3.0])
    np.testing.assert_allclose(gdl.igamma(gdl.tensor(t), gdl.tensor(t)).numpy(),
                               torch.igamma(torch.tensor(t), torch.tensor(t)).numpy(), rtol=1e-13)
    np.testing.assert_allclose(gdl.tensor(t).igammac(gdl.tensor(t)).numpy(),
                               torch.tensor(t).igammac(torch.tensor(t)).numpy(), rtol=1e-13)
    u, v = gdl.tensor(t), torch.tensor(t)
    u.igamma_(gdl.tensor([1.0, 1.0], dtype=gdl.float64))
    v.igamma_(torch.tensor([1.0, 1.0], dtype=torch.float64))
    np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-13)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zeta_matches_torch(dtype):
    rng = np.random.default_rng(8)
    s = rng.uniform(1.01, 30, 300).astype(dtype)
    q = (10 ** rng.uniform(-2, 2, 300)).astype(dtype)
    ours, theirs = special.zeta(gdl.tensor(s), gdl.tensor(q)), torch.special.zeta(torch.tensor(s), torch.tensor(q))
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    keep = np.isfinite(theirs.numpy()) & (theirs.numpy() > 1e-300)
    np.testing.assert_allclose(ours.numpy()[keep], theirs.numpy()[keep], rtol=2e-15 if dtype == "float64" else 2e-5)
    edge_s = np.array([1.0, 0.5, 2.0, 2.0, 2.0, 3.0, 1.5, 2.0, 4.0])
    edge_q = np.array([1.0, 1.0, 0.0, -1.0, -1.5, -1.5, -1.5, 1e-300, -7.25])
    ours = _quiet(special.zeta, gdl.tensor(edge_s), gdl.tensor(edge_q)).numpy()
    np.testing.assert_allclose(ours, torch.special.zeta(torch.tensor(edge_s), torch.tensor(edge_q)).numpy(),
                               rtol=1e-14)
    assert special.zeta(gdl.tensor([2.0]), 2.0).dtype == torch.special.zeta(torch.tensor([2.0]), 2.0).dtype


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
               "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLYNOMIALS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polynomials_match_torch(name, dtype):
    x = np.concatenate([np.linspace(-1.2, 1.2, 25), [-3.0, 0.0, 2.5]]).astype(dtype)
    n = np.array([-3, -1, 0, 1, 2, 3, 4, 6, 7, 9, 12, 20, 30])[:, None]  # broadcast: (13, 1) with (28,)
    ours = getattr(special, name)(gdl.tensor(x), gdl.tensor(n))
    theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "") and ours.shape == tuple(theirs.shape)
    ours, theirs = ours.numpy(), theirs.numpy()
    # relative to the polynomial's size near x (the recurrence and PyTorch's cos(n·acos x) differ by ulps)
    scale = np.maximum(np.abs(theirs), np.max(np.abs(theirs), axis=1, keepdims=True) * 1e-3)
    tol = 2e-14 if dtype == "float64" else 2e-5
    assert np.all(np.abs(ours - theirs) <= tol * scale)
    # n as a Python int, and as a float tensor (truncated toward zero)
    for m in (5, torch.tensor([2.7, -0.5])):
        mg = m if isinstance(m, int) else gdl.tensor(m.numpy())
        ours = getattr(special, name)(gdl.tensor(x[:4]), mg if isinstance(m, int) else mg[:, None])
        theirs = getattr(torch.special, name)(torch.tensor(x[:4]), m if isinstance(m, int) else m[:, None])
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol, atol=tol)


def test_polynomial_dtypes_match_torch():
    cases = [(np.float32, np.int64), (np.float32, np.float64), (np.int64, np.int64), (np.float64, np.int32)]
    for xd, nd in cases:
        x, n = np.array([0.5, 2.0]).astype(xd), np.array([2, 3]).astype(nd)
        ours = special.legendre_polynomial_p(gdl.tensor(x), gdl.tensor(n))
        theirs = torch.special.legendre_polynomial_p(torch.tensor(x), torch.tensor(n))
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), (xd, nd)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert special.hermite_polynomial_h(0.5, gdl.tensor([2])).dtype.name == \
        str(torch.special.hermite_polynomial_h(0.5, torch.tensor([2])).dtype).replace("torch.", "")


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_match_torch(name):
    for length in (0, 1, 2, 5, 16, 17, 100):
        for periodic in (True, False):
            for dtype in ("float64", "float32"):
                ours = getattr(gdl, name)(length, periodic, dtype=getattr(gdl, dtype))
                theirs = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
                assert ours.dtype.name == dtype and ours.shape == tuple(theirs.shape)
                # float32: PyTorch computes in float32, gdl rounds the float64 values
                atol = 2e-15 if dtype == "float64" else 6e-7
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=atol)
    assert getattr(gdl, name)(8).dtype.name == str(getattr(torch, name)(8).dtype).replace("torch.", "")
    np.testing.assert_allclose(gdl.hamming_window(12, False, 0.6, 0.4, dtype=gdl.float64).numpy(),
                               torch.hamming_window(12, False, 0.6, 0.4, dtype=torch.float64).numpy(), atol=2e-15)
    np.testing.assert_allclose(gdl.kaiser_window(12, True, 3.5, dtype=gdl.float64).numpy(),
                               torch.kaiser_window(12, True, 3.5, dtype=torch.float64).numpy(), atol=2e-15)
