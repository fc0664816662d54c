"""gdl.functional.special_more and gdl.functional.windows against mpmath and NumPy: the
incomplete gamma functions, Hurwitz zeta, Bessel functions, Airy Ai, orthogonal polynomials,
window functions; edges, dtypes, broadcasting, gradients. Runs on every test backend; no torch
(see test_torch_crosscheck_special_session9.py)."""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import pytest

import gdl
from gdl import special
from gdl.testing import gradcheck

mp = pytest.importorskip("mpmath")

EPS = 2.0 ** -52


def _f64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def _ref(fn, *columns, dps=40):
    with mp.workdps(dps):
        return np.array([float(fn(*(mp.mpf(float(v)) for v in args))) for args in zip(*columns)])


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


# -- Bessel functions -------------------------------------------------------------------------

JY_GRID = np.concatenate([np.linspace(-40, 40, 321), np.logspace(-9, 3, 60), [0.49, 0.5, 0.51, 24.99, 25.0, 25.01]])
JY_GRID = JY_GRID[JY_GRID != 0]
POSITIVE = np.concatenate([np.logspace(-10, 2.85, 120), [1.999, 2.0, 2.001, 24.99, 25.0, 25.01]])


@lru_cache(maxsize=None)
def _jy_refs():
    pos = JY_GRID[JY_GRID > 0]
    return {
        "bessel_j0": (JY_GRID, _ref(lambda v: mp.besselj(0, v), JY_GRID)),
        "bessel_j1": (JY_GRID, _ref(lambda v: mp.besselj(1, v), JY_GRID)),
        "bessel_y0": (pos, _ref(lambda v: mp.bessely(0, v), pos)),
        "bessel_y1": (pos, _ref(lambda v: mp.bessely(1, v), pos)),
    }


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"])
def test_bessel_j_and_y_against_mpmath(backend, name):
    x, want = _jy_refs()[name]
    ours = getattr(special, name)(_f64(x)).numpy()
    # relative 1e-14, absolute 1e-15 (near the zeros, where no method keeps relative accuracy)
    np.testing.assert_allclose(ours, want, rtol=1e-14, atol=1e-15)


@lru_cache(maxsize=None)
def _k_i_refs():
    e = mp.exp
    return {
        "modified_bessel_k0": _ref(lambda v: mp.besselk(0, v), POSITIVE),
        "modified_bessel_k1": _ref(lambda v: mp.besselk(1, v), POSITIVE),
        "scaled_modified_bessel_k0": _ref(lambda v: e(v) * mp.besselk(0, v), POSITIVE),
        "scaled_modified_bessel_k1": _ref(lambda v: e(v) * mp.besselk(1, v), POSITIVE),
        "modified_bessel_i0": _ref(lambda v: mp.besseli(0, v), POSITIVE),
        "modified_bessel_i1": _ref(lambda v: mp.besseli(1, v), POSITIVE),
        "spherical_bessel_j0": _ref(lambda v: mp.sin(v) / v, POSITIVE),
    }


@pytest.mark.parametrize("name", ["modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                                  "scaled_modified_bessel_k1", "modified_bessel_i0", "modified_bessel_i1",
                                  "spherical_bessel_j0"])
def test_modified_and_spherical_bessel_against_mpmath(backend, name):
    want = _k_i_refs()[name]
    ours = getattr(special, name)(_f64(POSITIVE)).numpy()
    keep = want != 0  # K underflows past x ≈ 705 in both
    rtol = 5e-15 if name != "spherical_bessel_j0" else 1e-15  # (sin x)/x: near the zeros of sin, ~1e-16 absolute
    np.testing.assert_allclose(ours[keep], want[keep], rtol=rtol, atol=1e-300 if "spher" not in name else 1e-17)


def test_symmetry_and_edges():
    x = _f64([0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, -2.0])
    j0, j1 = special.bessel_j0(x).numpy(), special.bessel_j1(x).numpy()
    assert j0[0] == 1.0 and j1[0] == 0.0 and j0[1] == j0[2] and j1[1] == -j1[2]
    assert (j0[3:5] == 0).all() and np.isnan(j0[5])
    for name in ("bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1"):
        out = _quiet(getattr(special, name), x).numpy()
        assert np.isnan(out[2]) and np.isnan(out[4]) and np.isnan(out[5]) and np.isnan(out[6])
        assert out[0] == (-np.inf if "y" in name else np.inf) and out[3] == 0.0
    i0, i1 = special.modified_bessel_i0(x).numpy(), special.modified_bessel_i1(x).numpy()
    assert i0[1] == i0[2] and i1[1] == -i1[2] and i0[0] == 1.0 and i1[0] == 0.0
    sj = special.spherical_bessel_j0(x).numpy()
    assert sj[0] == 1.0 and sj[1] == sj[2] and (sj[3:5] == 0).all()


AIRY_GRID = np.concatenate([np.linspace(-40, 12, 261), [-9.7, -9.71, -2.0, -2.01, 1.0, 1.01, 30.0, 100.0, -300.0]])


@lru_cache(maxsize=None)
def _airy_refs():
    return _ref(mp.airyai, AIRY_GRID), _ref(lambda v: mp.airyai(v, derivative=1), AIRY_GRID)


def test_airy_ai_against_mpmath(backend):
    want, _ = _airy_refs()
    ours = special.airy_ai(_f64(AIRY_GRID)).numpy()
    zeta = 2.0 / 3.0 * np.abs(AIRY_GRID) ** 1.5
    right = AIRY_GRID >= -2
    # x >= −2: relative, growing as e^{−ζ}'s condition number ζ; below: absolute, the phase ζ's rounding
    assert np.all(np.abs(ours - want)[right] <= 4e-16 * (10 + zeta[right]) * np.abs(want[right]))
    assert np.all(np.abs(ours - want)[~right] <= 2e-16 * (10 + zeta[~right]))
    edge = special.airy_ai(_f64([0.0, np.inf, -np.inf, np.nan])).numpy()
    assert edge[0] == pytest.approx(float(1 / (mp.mpf(3) ** (mp.mpf(2) / 3) * mp.gamma(mp.mpf(2) / 3))), rel=1e-15)
    assert (edge[1:3] == 0).all() and np.isnan(edge[3])


# -- incomplete gamma and zeta -------------------------------------------------------------------


@lru_cache(maxsize=None)
def _gamma_cases():
    rng = np.random.default_rng(9)
    a = np.concatenate([10 ** rng.uniform(-3, 3, 160), 10 ** rng.uniform(1, 3, 40)])
    x = a * 10 ** rng.uniform(-1.2, 1.0, a.size)
    x[-40:] = np.abs(a[-40:] + rng.normal(size=40) * np.sqrt(a[-40:]))  # x near a: the slow region
    p = _ref(lambda s, t: mp.gammainc(s, 0, t, regularized=True), a, x)
    q = _ref(lambda s, t: mp.gammainc(s, t, mp.inf, regularized=True), a, x)
    return a, x, p, q


def test_gammainc_and_gammaincc_against_mpmath(backend):
    a, x, p, q = _gamma_cases()
    ours_p = special.gammainc(_f64(a), _f64(x)).numpy()
    ours_q = special.gammaincc(_f64(a), _f64(x)).numpy()
    keep = (p > 1e-290) & (q > 1e-290)
    np.testing.assert_allclose(ours_p[keep], p[keep], rtol=2e-13)
    # Q = 1 − P where the series is used with a < 1: absolute accuracy there
    atol = np.where(a < 1, 4e-16, 0.0)
    assert np.all((np.abs(ours_q - q) <= 2e-13 * q + atol)[keep])
    np.testing.assert_allclose(ours_p + ours_q, 1.0, rtol=0, atol=4e-15)


def test_gammainc_edges_and_torch_names():
    a = _f64([0, 0, 1, 1, -1, 2, np.inf, 2, np.nan, 1, np.inf])
    x = _f64([0, 1, 0, -1, 1, np.inf, 2, np.inf, 1, np.nan, np.inf])
    p, q = special.gammainc(a, x).numpy(), special.gammaincc(a, x).numpy()
    nan = [0, 3, 4, 8, 9, 10]
    assert np.isnan(p[nan]).all() and np.isnan(q[nan]).all()
    np.testing.assert_array_equal(p[[1, 2, 5, 6, 7]], [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(q[[1, 2, 5, 6, 7]], [0, 1, 0, 1, 0])
    assert gdl.igamma is special.gammainc and gdl.igammac is special.gammaincc
    t = _f64([1.0, 2.0])
    np.testing.assert_allclose(t.igamma(_f64([1.0, 1.0])).numpy(), [1 - math.exp(-1), 1 - 2 * math.exp(-1)])
    np.testing.assert_allclose(t.igammac(1.0).numpy(), [math.exp(-1), 2 * math.exp(-1)], rtol=1e-15)
    u = _f64([1.0, 2.0])
    assert u.igamma_(_f64([1.0, 1.0])) is u
    np.testing.assert_allclose(u.numpy(), [1 - math.exp(-1), 1 - 2 * math.exp(-1)], rtol=1e-15)
    u.igammac_(1.0)
    assert u.dtype == gdl.float64


@lru_cache(maxsize=None)
def _zeta_cases():
    rng = np.random.default_rng(5)
    s = np.concatenate([1 + 10 ** rng.uniform(-6, 0, 40), rng.uniform(1, 60, 70), [2.0, 3.0, 4.0]])
    q = np.concatenate([10 ** rng.uniform(-3, 3, 110), [1.0, 1.0, 0.5]])
    return s, q, _ref(mp.zeta, s, q, dps=220)  # mpmath needs the digits for large q (checked)


def test_zeta_against_mpmath(backend):
    s, q, want = _zeta_cases()
    ours = special.zeta(_f64(s), _f64(q)).numpy()
    keep = np.isfinite(want) & (want > 1e-300)
    np.testing.assert_allclose(ours[keep], want[keep], rtol=2e-14)
    # integer x, negative non-integer q: ζ(s, q) = ζ(s, q + m) + Σ (q + k)^−s
    got = special.zeta(_f64([2.0, 3.0, 4.0]), _f64([-1.5, -7.25, -0.5])).numpy()
    want_neg = [float(mp.zeta(s_, q_ + m) + sum((mp.mpf(q_) + k) ** -s_ for k in range(m)))
                for s_, q_, m in ((2, -1.5, 2), (3, -7.25, 8), (4, -0.5, 1))]
    np.testing.assert_allclose(got, want_neg, rtol=1e-14)


def test_zeta_edges():
    out = _quiet(special.zeta, _f64([1.0, 0.5, 2.0, 2.0, 1.5, np.inf, 2.0]),
                 _f64([1.0, 1.0, 0.0, -3.0, -1.5, 2.0, np.nan])).numpy()
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == np.inf and out[3] == np.inf
    assert np.isnan(out[4:]).all()
    assert special.zeta(_f64([2.0]), 1.0).numpy()[0] == pytest.approx(math.pi ** 2 / 6, rel=1e-15)
    assert special.zeta(4.0, _f64([1.0])).numpy()[0] == pytest.approx(math.pi ** 4 / 90, rel=1e-15)


# -- orthogonal polynomials --------------------------------------------------------------------------


def _mp_poly(name, x, n):
    if n < 0:
        return mp.mpf(0)
    shifted = name.startswith("shifted_")
    base = name.replace("shifted_", "")
    y = 2 * x - 1 if shifted else x

    def u(k):  # explicit sums (not the recurrence gdl uses)
        return sum((-1) ** j * mp.binomial(k - j, j) * (2 * y) ** (k - 2 * j) for j in range(k // 2 + 1))

    return {
        "chebyshev_polynomial_t": lambda: mp.chebyt(n, y),
        "chebyshev_polynomial_u": lambda: u(n),
        "chebyshev_polynomial_v": lambda: u(n) - u(n - 1),
        "chebyshev_polynomial_w": lambda: u(n) + u(n - 1),
        "hermite_polynomial_h": lambda: mp.hermite(n, y),
        "hermite_polynomial_he": lambda: mp.hermite(n, y / mp.sqrt(2)) / mp.mpf(2) ** (mp.mpf(n) / 2),
        "laguerre_polynomial_l": lambda: sum(mp.binomial(n, k) * (-y) ** k / mp.factorial(k) for k in range(n + 1)),
        "legendre_polynomial_p": lambda: mp.legendre(n, y),
    }[base]()


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
               "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]
POLY_X = np.array([-3.0, -1.0, -0.7, -0.2, 0.0, 0.1, 0.45, 0.5, 0.9, 1.0, 1.3, 4.0])
POLY_N = np.array([-2, 0, 1, 2, 3, 5, 8, 13, 20, 31])


@lru_cache(maxsize=None)
def _poly_refs(name):
    with mp.workdps(40):
        return np.array([[float(_mp_poly(name, mp.mpf(float(x)), int(n))) for x in POLY_X] for n in POLY_N])


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_against_mpmath(backend, name):
    want = _poly_refs(name)
    n = gdl.tensor(POLY_N[:, None])  # int64, broadcast against x
    ours = getattr(special, name)(_f64(POLY_X), n).numpy()
    assert ours.shape == want.shape
    # the recurrences lose about n ulps, relative to the size of the polynomial near x (its
    # zeros are close together: relative to the larger of |p_n(x)| and its neighbours' sizes)
    scale = np.maximum(np.abs(want), np.max(np.abs(want), axis=1, keepdims=True) * 1e-3)
    assert np.all(np.abs(ours - want) <= 4 * EPS * (POLY_N[:, None] + 1) * scale), name


def test_polynomial_arguments_and_dtypes(backend):
    x = gdl.tensor([0.25, -0.5])
    assert special.chebyshev_polynomial_t(x, 3).dtype == gdl.float32
    if backend != "array_api_strict":
        assert special.legendre_polynomial_p(x, gdl.tensor([2], dtype=gdl.float64)).dtype == gdl.float64
    assert special.hermite_polynomial_h(gdl.tensor([1, 2]), gdl.tensor([2])).dtype == gdl.get_default_dtype()
    out = special.hermite_polynomial_h(_f64([0.5, 0.5, 0.5]), _f64([2.7, -0.5, -3.0])).numpy()
    np.testing.assert_array_equal(out, [-1.0, 1.0, 0.0])  # n truncated toward zero; 0 for n < 0
    assert special.chebyshev_polynomial_t(0.5, gdl.tensor([[2], [3]])).shape == (2, 1)
    assert np.isnan(special.legendre_polynomial_p(_f64([np.nan]), 2).numpy()).all()
    with pytest.raises(ValueError, match="legendre_polynomial_p: n must be at most"):
        special.legendre_polynomial_p(_f64([0.5]), 10 ** 7)
    assert gdl.chebyshev_polynomial_t is special.chebyshev_polynomial_t


# -- gradients -----------------------------------------------------------------------------------------

UNARY = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
         "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
         "spherical_bessel_j0", "airy_ai"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradients_by_finite_differences(backend, name):
    rng = np.random.default_rng(2)
    positive = "y" in name or "k" in name
    values = rng.uniform(0.2, 30, (2, 3)) if positive else rng.uniform(-15, 15, (2, 3))
    x = _f64(values, grad=True)
    assert gradcheck(getattr(special, name), [x], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "modified_bessel_k1", "scaled_modified_bessel_k1",
                                  "spherical_bessel_j0", "legendre_polynomial_p"])
def test_second_derivatives_against_mpmath(name):
    xs = [0.3, 1.7, 6.0]
    x = _f64(xs, grad=True)
    fn = getattr(special, name)
    y = fn(x, 4) if "polynomial" in name else fn(x)
    (g,) = gdl.autograd.grad(y.sum(), [x], create_graph=True)
    (h,) = gdl.autograd.grad(g.sum(), [x])
    ref = {
        "bessel_j0": lambda v: mp.besselj(0, v), "bessel_j1": lambda v: mp.besselj(1, v),
        "modified_bessel_k1": lambda v: mp.besselk(1, v),
        "scaled_modified_bessel_k1": lambda v: mp.exp(v) * mp.besselk(1, v),
        "spherical_bessel_j0": lambda v: mp.sin(v) / v, "legendre_polynomial_p": lambda v: mp.legendre(4, v),
    }[name]
    with mp.workdps(30):
        d1 = [float(mp.diff(ref, v, 1)) for v in xs]
        d2 = [float(mp.diff(ref, v, 2)) for v in xs]
    np.testing.assert_allclose(g.numpy(), d1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h.numpy(), d2, rtol=1e-12, atol=1e-14)


def test_binary_gradients(backend):
    rng = np.random.default_rng(4)
    a = _f64(rng.uniform(0.3, 6, (3, 1)))
    x = _f64(rng.uniform(0.1, 9, (1, 4)), grad=True)
    assert gradcheck(lambda t: special.gammainc(a, t), [x])
    assert gradcheck(lambda t: special.gammaincc(a, t), [x])
    s = _f64(rng.uniform(1.5, 6, (3, 1)))
    q = _f64(rng.uniform(0.2, 8, (1, 4)), grad=True)
    assert gradcheck(lambda t: special.zeta(s, t), [q])
    n = gdl.tensor([[0], [1], [4], [9]])
    for fn in (getattr(special, name) for name in POLYNOMIALS):
        xx = _f64(rng.uniform(-1, 1, (1, 3)), grad=True)
        assert gradcheck(lambda t, fn=fn: fn(t, n), [xx]), fn.__name__


def test_missing_derivatives_are_clear_errors():
    a = _f64([1.5], grad=True)
    with pytest.raises(NotImplementedError, match="gammainc: the derivative with respect to input"):
        special.gammainc(a, _f64([2.0])).sum().backward()
    s = _f64([2.5], grad=True)
    with pytest.raises(NotImplementedError, match="zeta: the derivative with respect to input"):
        special.zeta(s, _f64([2.0])).sum().backward()
    n = _f64([3.0], grad=True)
    x = _f64([0.3], grad=True)
    special.chebyshev_polynomial_t(x, n).sum().backward()
    assert n.grad.numpy()[0] == 0.0 and x.grad.numpy()[0] == pytest.approx(3 * (4 * 0.09 - 1))  # T₃' = 3U₂


def test_float32_rounds_the_float64_result(backend):
    x = np.linspace(0.1, 20, 50).astype(np.float32)
    for name in ("bessel_j0", "modified_bessel_k1", "airy_ai"):
        out = getattr(special, name)(gdl.tensor(x))
        assert out.dtype == gdl.float32
        want = getattr(special, name)(_f64(x.astype(np.float64))).numpy().astype(np.float32)
        np.testing.assert_array_equal(out.numpy(), want)
    assert special.gammainc(gdl.tensor([1.0]), gdl.tensor([2.0])).dtype == gdl.float32


def test_not_a_tensor_is_a_clear_error():
    with pytest.raises(TypeError, match="bessel_j0: expected a Tensor"):
        special.bessel_j0([0.5])
    with pytest.raises(TypeError, match="gammainc: expected at least one Tensor"):
        special.gammainc(1.0, 2.0)


# -- windows ------------------------------------------------------------------------------------------


def _numpy_window(name, length, periodic, **kw):
    if length <= 1:
        return np.ones(length)  # PyTorch's convention for length 1
    m = length + 1 if periodic else length
    if name == "kaiser_window":
        w = np.kaiser(m, kw.get("beta", 12.0))
    elif name == "hamming_window" and kw:
        k = np.arange(m)
        w = kw["alpha"] - kw["beta"] * np.cos(2 * np.pi * k / (m - 1)) if m > 1 else np.ones(1)
    else:
        w = {"hann_window": np.hanning, "hamming_window": np.hamming, "blackman_window": np.blackman,
             "bartlett_window": np.bartlett}[name](m)
    return w[:length]


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_against_numpy(backend, name):
    fn = getattr(gdl, name)
    for length in (0, 1, 2, 3, 8, 11, 64):
        for periodic in (True, False):
            out = fn(length, periodic, dtype=gdl.float64)
            assert out.dtype == gdl.float64 and out.shape == (length,) and out.backend == backend
            rtol = 4e-15 if name == "kaiser_window" else 0.0  # (NumPy's i0 is its own approximation)
            np.testing.assert_allclose(out.numpy(), _numpy_window(name, length, periodic), rtol=rtol, atol=4e-16)
    assert fn(10).dtype == gdl.get_default_dtype()
    assert fn(5, requires_grad=True).requires_grad


def test_window_arguments():
    np.testing.assert_allclose(gdl.hamming_window(9, False, 0.5, 0.5, dtype=gdl.float64).numpy(),
                               _numpy_window("hamming_window", 9, False, alpha=0.5, beta=0.5), atol=4e-16)
    np.testing.assert_allclose(gdl.kaiser_window(9, False, 5.0, dtype=gdl.float64).numpy(), np.kaiser(9, 5.0),
                               rtol=1e-14)
    with pytest.raises(ValueError, match="hann_window: window_length must be non-negative"):
        gdl.hann_window(-1)
    with pytest.raises(TypeError, match="blackman_window: expects a floating-point dtype"):
        gdl.blackman_window(4, dtype=gdl.int64)
    with pytest.raises(TypeError, match="bartlett_window: window_length must be an int"):
        gdl.bartlett_window(4.0)
