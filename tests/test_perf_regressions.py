"""Performance regressions caught without timing: each test checks the structure that
made an op slow (a sort where none is needed, a slow power) is gone, or runs the op at
a size where the old code was far slower, and checks the numbers against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.backends import get_backend_object


@pytest.fixture(autouse=True)
def numpy_backend():
    """These checks are about the NumPy backend's kernels (the portable versions behind
    array_api_strict build one-hot matrices: fine for tests, not at these sizes)."""
    with gdl.use_backend("numpy"):
        yield


@pytest.fixture
def no_sort(monkeypatch):
    """The NumPy backend refuses to coalesce (sort) indices: a flat scatter must not need it
    (the sort took 11 of 12 ms of gather's backward at 512 × 512)."""
    be = get_backend_object("numpy")

    def refuse(index, values):
        raise AssertionError("coalesce_rows (an argsort of every index) called for one-value rows")

    monkeypatch.setattr(be, "coalesce_rows", refuse)
    return be


def _reference_scatter(size, index, values):
    out = np.zeros(size, dtype=values.dtype)
    np.add.at(out, index, values)
    return out


def test_gather_backward_scatters_without_sorting(no_sort):
    rng = np.random.default_rng(0)
    n = 512  # above the one-hot product's limit (rows · n > 2**22)
    idx = rng.integers(0, n, (n, n))
    x = gdl.tensor(rng.standard_normal((n, n)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((n, n)).astype(np.float32)
    (gdl.gather(x, 1, gdl.tensor(idx)) * gdl.tensor(g)).sum().backward()
    want = np.zeros((n, n), np.float32)
    for r in range(0, n, 97):
        want[r] = _reference_scatter(n, idx[r], g[r])
        np.testing.assert_allclose(x.grad.numpy()[r], want[r], rtol=1e-5, atol=1e-5)


def test_scatter_add_and_index_add_of_one_column_rows_do_not_sort(no_sort):
    rng = np.random.default_rng(1)
    n = 100_000
    idx = rng.integers(0, n, n)
    src = rng.standard_normal(n)
    x = gdl.zeros(n, dtype=gdl.float64)
    want = _reference_scatter(n, idx, src)
    np.testing.assert_allclose(gdl.scatter_add(x, 0, gdl.tensor(idx), gdl.tensor(src)).numpy(), want, atol=1e-12)
    np.testing.assert_allclose(gdl.index_add(x, 0, gdl.tensor(idx), gdl.tensor(src)).numpy(), want, atol=1e-12)


def test_scatter_of_one_value_rows_keeps_duplicate_sums_and_infinities():
    be = get_backend_object("numpy")
    index = np.array([3, 0, 3, 3, 7] * 1000)
    values = np.ones(5000, dtype=np.float32)
    values[4] = np.inf
    out = be.scatter_add((5000,), index, values)
    assert out[3] == 3000 and out[0] == 1000 and out[7] == np.inf
    assert not np.isnan(out).any() and out[1] == 0


def test_gelu_tanh_cubes_by_products_as_pytorch():
    """``x**3`` went through ``pow`` (15 ms for 512 × 512 float32, 100x ``x*x*x``)."""
    x = np.random.default_rng(2).standard_normal(10_000).astype(np.float32)
    out = F.gelu(gdl.tensor(x), approximate="tanh").numpy()
    c = np.float32(np.sqrt(2.0 / np.pi))
    want = np.float32(0.5) * x * (np.float32(1.0) + np.tanh(c * (x + np.float32(0.044715) * (x * x * x))))
    np.testing.assert_allclose(out, want, rtol=2e-7, atol=1e-7)


def test_adaptive_avg_pool1d_backward_of_a_broadcast_gradient():
    """``sum().backward()`` hands a broadcast gradient; stacked products with it ran a slow
    non-BLAS loop (44 ms for 32 × 64 rows of 37 into 1,000)."""
    rng = np.random.default_rng(3)
    x = gdl.tensor(rng.standard_normal((64, 64, 1000)).astype(np.float32), requires_grad=True)
    F.adaptive_avg_pool1d(x, 37).sum().backward()
    # each input position's gradient is the sum of 1/len over the windows holding it
    ranges = [((i * 1000) // 37, -((-(i + 1) * 1000) // 37)) for i in range(37)]
    want = np.zeros(1000)
    for a, b in ranges:
        want[a:b] += 1.0 / (b - a)
    np.testing.assert_allclose(x.grad.numpy()[5, 7], want, rtol=1e-5)
    assert x.grad.numpy().shape == (64, 64, 1000)
