"""gdl.testing.assert_close and make_tensor, on every test backend (PyTorch's behaviour in
test_torch_crosscheck_testing_helpers.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gdl
from gdl.testing import assert_close, make_tensor


def test_close_values_pass_and_far_ones_say_where(backend):
    assert_close(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 2.0 + 1e-6]))
    with pytest.raises(AssertionError) as err:
        assert_close(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]), gdl.tensor([[1.0, 2.0], [3.5, 4.0]]))
    text = str(err.value)
    assert "Mismatched elements: 1 / 4 (25.0%)" in text
    assert "Greatest absolute difference: 0.5 at index (1, 0) (up to 1e-05 allowed)" in text
    assert "Greatest relative difference: 0.14285714285714285 at index (1, 0)" in text


def test_tolerances_follow_the_dtype(backend):
    a = gdl.tensor([1.0], dtype=gdl.float32)
    assert_close(a, gdl.tensor([1.0 + 1e-6], dtype=gdl.float32))
    with pytest.raises(AssertionError):
        assert_close(gdl.tensor([1.0], dtype=gdl.float64), gdl.tensor([1.0 + 1e-6], dtype=gdl.float64))
    with pytest.raises(AssertionError, match="not equal"):
        assert_close(gdl.tensor([1, 2]), gdl.tensor([1, 3]))
    assert_close(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 2.1]), rtol=0.1, atol=0.0)
    with pytest.raises(ValueError, match="both 'rtol' and 'atol'"):
        assert_close(a, a, rtol=0.1)


def test_shape_dtype_and_backend_checks(backend):
    with pytest.raises(AssertionError, match="'shape' do not match"):
        assert_close(gdl.zeros(2, 3), gdl.zeros(3, 2))
    with pytest.raises(AssertionError, match="'dtype' do not match: float32 != float64"):
        assert_close(gdl.zeros(2), gdl.zeros(2, dtype=gdl.float64))
    assert_close(gdl.zeros(2), gdl.zeros(2, dtype=gdl.float64), check_dtype=False)
    other = "numpy" if backend != "numpy" else "array_api_strict"
    with pytest.raises(AssertionError, match="'backend' do not match"):
        assert_close(gdl.zeros(2), gdl.zeros(2, backend=other))
    assert_close(gdl.zeros(2), gdl.zeros(2, backend=other), check_device=False)


def test_nan_and_infinity(backend):
    nan, inf = math.nan, math.inf
    with pytest.raises(AssertionError, match="Greatest absolute difference: nan at index \\(1,\\)"):
        assert_close(gdl.tensor([1.0, nan]), gdl.tensor([1.0, nan]))
    assert_close(gdl.tensor([1.0, nan]), gdl.tensor([1.0, nan]), equal_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no inf − inf or division warnings
        assert_close(gdl.tensor([inf, -inf]), gdl.tensor([inf, -inf]))
        with pytest.raises(AssertionError, match="Mismatched elements: 2 / 3"):
            assert_close(gdl.tensor([inf, 0.0, 1.0]), gdl.tensor([-inf, 1.0, 1.0]))


def test_containers_and_scalars(backend):
    assert_close([gdl.ones(2), (1, 2.0)], [gdl.ones(2), (1, 2.0)])
    with pytest.raises(AssertionError, match=r"The failure occurred for item \['b'\]\[1\]"):
        assert_close({"a": gdl.ones(1), "b": [1, 2]}, {"a": gdl.ones(1), "b": [1, 3]})
    with pytest.raises(AssertionError, match="keys of the mappings"):
        assert_close({"a": 1}, {"b": 1})
    with pytest.raises(AssertionError, match="length of the sequences"):
        assert_close([1, 2], [1])
    assert_close(1.0, 1.0 + 1e-9)
    with pytest.raises(AssertionError, match="Scalars are not equal"):
        assert_close(2, 3)
    with pytest.raises(TypeError, match="cannot compare Tensor with list"):
        assert_close(gdl.ones(2), [1.0, 1.0])
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(gdl.ones(1), gdl.zeros(1), msg="custom")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_make_tensor_ranges_and_dtypes(backend, dtype):
    gdl.manual_seed(0)
    t = make_tensor(50, 4, dtype=getattr(gdl, dtype))
    assert t.shape == (50, 4) and t.dtype == getattr(gdl, dtype) and t.backend == backend
    a = t.numpy().astype(np.float64)
    if dtype.startswith("float"):
        assert a.min() >= -9 and a.max() < 9 and len(np.unique(a)) > 150
    elif dtype == "bool":
        assert set(np.unique(a)) == {0.0, 1.0}
    else:
        assert a.min() >= (0 if dtype == "uint8" else -9) and a.max() <= 9 and np.all(a == np.round(a))
    b = make_tensor((3,), dtype=getattr(gdl, dtype), low=0, high=2)
    assert b.shape == (3,) and b.numpy().astype(np.float64).min() >= 0 and b.numpy().astype(np.float64).max() <= 2


def test_make_tensor_options(backend):
    gdl.manual_seed(1)
    z = make_tensor(200, dtype=gdl.int64, low=-1, high=1, exclude_zero=True).numpy()
    assert 0 not in z and set(np.unique(z)) <= {-1, 1}
    g = make_tensor(3, dtype=gdl.float64, requires_grad=True)
    assert g.requires_grad and g.grad_fn is None
    with pytest.raises(ValueError, match="low must be less than or equal to high"):
        make_tensor(2, dtype=gdl.float32, low=3, high=1)
    gdl.manual_seed(5)
    a = make_tensor(4, dtype=gdl.float32).numpy()
    gdl.manual_seed(5)
    np.testing.assert_array_equal(make_tensor(4, dtype=gdl.float32).numpy(), a)
