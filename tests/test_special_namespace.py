"""gdl.special (torch.special's names): the functions defined there (ndtr, log_ndtr, ndtri,
i1, i0e, i1e, erfcx, entr, xlog1py) against mpmath and torch, gradients, and the aliases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gdl
from gdl import special
from gdl.testing import gradcheck

mp = pytest.importorskip("mpmath")
mp.mp.dps = 50


def _f64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def _rel(ours, ref, floor=1e-300):
    return np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), floor))


def test_ndtr_and_log_ndtr_against_mpmath():
    x = np.concatenate([np.linspace(-37, 9, 461), [-20.0, -19.999, -20.001, 0.0, 1e-8]])
    want = np.array([float(mp.ncdf(v)) for v in x])
    assert _rel(special.ndtr(_f64(x)).numpy(), want) < 5e-13  # Φ's own condition number is ~x² here
    x2 = np.concatenate([x, np.linspace(-1000, -38, 50), [8.5, 30.0]])
    want_log = np.array([float(mp.log(mp.ncdf(v)) if v <= 0 else mp.log1p(-mp.ncdf(-v))) for v in x2])
    assert _rel(special.log_ndtr(_f64(x2)).numpy(), want_log) < 2e-13  # at 30: −Q(30), condition number ~900


def test_ndtri_inverts_to_float64_accuracy():
    p = np.concatenate([np.logspace(-300, -1, 120), np.linspace(0.02, 0.98, 49), 1 - np.logspace(-15, -2, 20)])
    ours = special.ndtri(_f64(p)).numpy()

    def root(v, guess):
        if 1e-5 < v < 1 - 1e-5:
            return float(mp.findroot(lambda t: mp.ncdf(t) - mp.mpf(v), guess))
        if v < 0.5:
            return float(mp.findroot(lambda t: mp.log(mp.ncdf(t)) - mp.log(mp.mpf(v)), guess))
        return -float(mp.findroot(lambda t: mp.log(mp.ncdf(t)) - mp.log(1 - mp.mpf(v)), -guess))

    want = np.array([root(v, g) for v, g in zip(p, ours)])
    assert _rel(ours, want) < 1e-13
    edge = special.ndtri(_f64([0.0, 1.0, -0.5, 1.5, 0.5, np.nan])).numpy()
    assert edge[0] == -np.inf and edge[1] == np.inf and np.isnan(edge[2:4]).all() and edge[4] == 0 and np.isnan(edge[5])


def test_bessel_and_erfcx_against_mpmath():
    x = np.concatenate([np.linspace(-60, 60, 241), [1e-5, 24.9, 25.1, 700.0, 5000.0]])
    want_i1 = np.array([float(mp.besseli(1, v)) for v in x[np.abs(x) < 700]])
    assert _rel(special.i1(_f64(x[np.abs(x) < 700])).numpy(), want_i1) < 1e-14
    want_i0e = np.array([float(mp.exp(-abs(mp.mpf(v))) * mp.besseli(0, v)) for v in x])
    want_i1e = np.array([float(mp.exp(-abs(mp.mpf(v))) * mp.besseli(1, v)) for v in x])
    assert _rel(special.i0e(_f64(x)).numpy(), want_i0e) < 1e-14
    assert _rel(special.i1e(_f64(x)).numpy(), want_i1e) < 1e-14
    assert special.i0e(_f64([np.inf])).item() == 0.0
    y = np.concatenate([np.linspace(-20, 30, 201), [1.4999, 1.5, 1e3, 1e6]])
    want = np.array([float(mp.exp(mp.mpf(v) ** 2) * mp.erfc(v)) for v in y])
    assert _rel(special.erfcx(_f64(y)).numpy(), want) < 1e-14


@pytest.mark.parametrize("name,low,high", [("ndtr", -8, 8), ("log_ndtr", -40, 8), ("ndtri", 0.001, 0.999),
                                           ("i1", -12, 12), ("i0e", -40, 40), ("i1e", -40, 40),
                                           ("erfcx", 0.5, 40), ("entr", 0.05, 5)])
def test_gradients(backend, name, low, high):
    # (ranges where the finite differences of the weighted sum are accurate to the tolerance)
    x = _f64(low + (high - low) * (np.arange(9) + 0.37) / 9.2, grad=True)
    assert gradcheck(getattr(special, name), (x,), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_entr_and_xlog1py_edges(backend):
    out = special.entr(gdl.tensor([0.0, 1.0, 0.5, -1.0])).numpy()
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5 * np.log(2), -np.inf], rtol=1e-6)
    a, b = _f64([0.0, 2.0, 0.0, 3.0], grad=True), _f64([-1.0, 1e-20, np.nan, 1.0], grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = special.xlog1py(a, b)
    np.testing.assert_array_equal(out.numpy()[:2], [0.0, 2e-20])
    assert np.isnan(out.numpy()[2]) and out.numpy()[3] == pytest.approx(3 * np.log(2))
    special.xlog1py(a[[0, 1, 3]], b[[0, 1, 3]]).sum().backward()
    np.testing.assert_allclose(a.grad.numpy()[[0, 1, 3]], [0.0, 1e-20, np.log(2)])
    assert special.xlog1py(2.0, _f64([1.0])).item() == pytest.approx(2 * np.log(2))


def test_float32_is_the_rounded_float64_value(backend):
    x = np.linspace(-9, 10, 101).astype(np.float32)  # (erfcx(-10) overflows float32)
    for name in ("ndtr", "log_ndtr", "i0e", "i1e", "erfcx"):
        ours = getattr(special, name)(gdl.tensor(x)).numpy()
        want = getattr(special, name)(_f64(x.astype(np.float64))).numpy().astype(np.float32)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours, want)


def test_aliases_are_gdl_ops():
    assert special.expit is gdl.sigmoid and special.gammaln is gdl.lgamma and special.psi is gdl.digamma
    assert special.multigammaln is gdl.mvlgamma and special.logsumexp is gdl.logsumexp
    assert special.xlogy is gdl.xlogy and special.sinc is gdl.sinc and special.erfinv is gdl.erfinv
    assert set(special.__all__) <= set(dir(special))


def test_against_torch_special():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    cases = {"i1": rng.uniform(-30, 30, 200), "i0e": rng.uniform(-80, 80, 200), "i1e": rng.uniform(-80, 80, 200),
             "erfcx": rng.uniform(-5, 50, 200), "entr": rng.uniform(0.01, 5, 200),
             "log_ndtr": rng.uniform(-30, 8, 200), "ndtri": rng.uniform(0.01, 0.99, 200),
             "ndtr": rng.uniform(-2, 5, 200)}  # (torch's ndtr is 1 + erf: it loses digits further left)
    for name, a in cases.items():
        x, t = _f64(a, grad=True), torch.tensor(a, requires_grad=True)
        y, yt = getattr(special, name)(x), getattr(torch.special, name)(t)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=0, err_msg=name)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-300, err_msg=name)
    a, b = rng.uniform(0, 2, 50), rng.uniform(-0.9, 3, 50)
    np.testing.assert_allclose(special.xlog1py(_f64(a), _f64(b)).numpy(),
                               torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-14)
