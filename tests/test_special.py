"""erf, erfc and erfinv (gdl.functional.special): values against Python's ``math`` and
high-precision references, edges, dtypes, gradients by finite differences, autocast.
Runs on every test backend; no torch (see test_torch_crosscheck_special.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.testing import gradcheck

GRID = np.concatenate([np.linspace(-7.0, 7.0, 2801), [1.5, 2.5, -1.5, -2.5, 1e-300, -1e-300, 0.0, 1e-8, 30.0]])


def _math(fn, xs):
    return np.array([fn(float(v)) for v in xs])


def test_erf_and_erfc_to_float64_rounding():
    x = gdl.tensor(GRID, dtype=gdl.float64)
    erf, erfc = gdl.erf(x).numpy(), gdl.erfc(x).numpy()
    ref_erf, ref_erfc = _math(math.erf, GRID), _math(math.erfc, GRID)
    np.testing.assert_allclose(erf, ref_erf, rtol=5e-15, atol=1e-300)
    np.testing.assert_allclose(erfc, ref_erfc, rtol=5e-14, atol=1e-300)  # relative, down to erfc(7) ~ 4e-23
    assert gdl.erfc(gdl.tensor([10.0, 26.0], dtype=gdl.float64)).numpy()[0] == pytest.approx(math.erfc(10.0), rel=1e-13)


@pytest.mark.parametrize("width", ["float32", "float16"])
def test_float32_and_float16_round_the_float64_result(backend, width):
    if width == "float16" and backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")
    dtype, np_dtype = getattr(gdl, width), getattr(np, width)
    xs = np.linspace(-4, 4, 801).astype(np_dtype)
    out = gdl.erf(gdl.tensor(xs, dtype=dtype))
    assert out.dtype == dtype
    want = _math(math.erf, xs.astype(np.float64)).astype(np_dtype)
    np.testing.assert_array_equal(out.numpy(), want)


def test_edges_and_integer_input():
    x = gdl.tensor([math.inf, -math.inf, math.nan], dtype=gdl.float64)
    np.testing.assert_array_equal(gdl.erf(x).numpy()[:2], [1.0, -1.0])
    np.testing.assert_array_equal(gdl.erfc(x).numpy()[:2], [0.0, 2.0])
    assert np.isnan(gdl.erf(x).numpy()[2]) and np.isnan(gdl.erfc(x).numpy()[2])
    y = gdl.tensor([1.0, -1.0, 1.5, -2.0, math.nan, 0.0], dtype=gdl.float64)
    inv = gdl.erfinv(y).numpy()
    assert inv[0] == math.inf and inv[1] == -math.inf and np.isnan(inv[2:5]).all() and inv[5] == 0.0
    ints = gdl.erf(gdl.tensor([0, 1, 2]))
    assert ints.dtype == gdl.get_default_dtype()
    np.testing.assert_allclose(ints.numpy(), [0.0, math.erf(1.0), math.erf(2.0)], rtol=1e-7)


def test_erfinv_inverts_erf():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-15, -1 + 1e-12, 1e-300, 0.5]])
    x = gdl.erfinv(gdl.tensor(y, dtype=gdl.float64)).numpy()
    np.testing.assert_allclose(_math(math.erf, x), y, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(gdl.erfinv(gdl.tensor([0.5], dtype=gdl.float64)).numpy(), [0.4769362762044699],
                               rtol=1e-15)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
def test_gradients_by_finite_differences(backend, name):
    rng = np.random.default_rng(1)
    values = rng.uniform(-0.95, 0.95, (3, 4)) if name == "erfinv" else rng.uniform(-3, 3, (3, 4))
    x = gdl.tensor(values, dtype=gdl.float64, requires_grad=True)
    assert gradcheck(getattr(gdl, name), [x])
    getattr(x, name)().sum().backward()  # also a Tensor method
    assert x.grad.shape == x.shape


def test_every_backend_gives_the_same_values(backend):
    x = gdl.tensor([-2.0, -0.3, 0.0, 0.7, 1.9, 3.2], dtype=gdl.float64)
    np.testing.assert_allclose(gdl.erf(x).numpy(), _math(math.erf, x.numpy()), rtol=5e-15, atol=1e-300)
    np.testing.assert_allclose(gdl.erfc(x).numpy(), _math(math.erfc, x.numpy()), rtol=5e-14)


def test_erfinv_runs_in_float32_under_autocast():
    h = gdl.tensor([0.25, -0.5], dtype=gdl.float16, backend="numpy")
    with gdl.autocast("cpu"):
        assert gdl.erfinv(h).dtype == gdl.float32
    assert gdl.erfinv(h).dtype == gdl.float16


def test_not_a_tensor_is_a_clear_error():
    with pytest.raises(TypeError, match="erf: expected a Tensor"):
        gdl.erf([0.5])
