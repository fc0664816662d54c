import math
import os
import subprocess
import sys

import numpy as np
import pytest

import gdl


def test_unknown_backend_lists_names():
    with pytest.raises(ValueError, match="numpy.*cupy.*array_api_strict"):
        gdl.set_backend("tensorflow")


def test_use_backend_restores_previous():
    before = gdl.get_backend()
    with gdl.use_backend("array_api_strict"):
        assert gdl.get_backend() == "array_api_strict"
        assert gdl.zeros(2).backend == "array_api_strict"
    assert gdl.get_backend() == before


def test_env_var_selects_backend():
    code = "import gdl; print(gdl.get_backend(), gdl.zeros(1).backend)"
    env = dict(os.environ, GDL_BACKEND="array_api_strict")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["array_api_strict", "array_api_strict"]


def test_env_var_unknown_name_is_clear_error():
    env = dict(os.environ, GDL_BACKEND="nope")
    code = "import gdl; gdl.zeros(1)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "unknown backend 'nope'" in out.stderr


@pytest.mark.skipif(gdl.is_usable("cupy"), reason="CuPy works here; the error path needs a machine without it")
def test_cupy_missing_is_clear_error_and_import_still_works():
    code = "import gdl\ntry:\n    gdl.set_backend('cupy')\nexcept RuntimeError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "cupy" in out.stdout and "install" in out.stdout


def test_manual_seed_repeats_numbers(backend):
    gdl.manual_seed(123)
    a = gdl.randn(5).numpy()
    r = gdl.rand(3).numpy()
    gdl.manual_seed(123)
    assert (gdl.randn(5).numpy() == a).all()
    assert (gdl.rand(3).numpy() == r).all()
    gdl.manual_seed(124)
    assert not (gdl.randn(5).numpy() == a).all()


@pytest.mark.parametrize("with_duplicates", [False, True])
def test_scatter_add_accumulates_duplicates(backend, with_duplicates):
    be = gdl.get_backend_object(backend)
    idx = [0, 2, 2, 1, 2] if with_duplicates else [3, 0, 1]
    index = be.from_host(__import__("numpy").asarray(idx, dtype="int64"))
    vals_host = __import__("numpy").arange(len(idx) * 2, dtype="float64").reshape(len(idx), 2)
    out = be.to_host(be.scatter_add((4, 2), index, be.from_host(vals_host)))
    expected = __import__("numpy").zeros((4, 2))
    for i, v in zip(idx, vals_host):
        expected[i] += v
    assert (out == expected).all()


def test_portable_scatter_add_matches_numpy():
    import numpy as np

    from gdl.backends.base import Backend

    strict = gdl.get_backend_object("array_api_strict")
    portable = Backend.scatter_add
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, size=40)
    vals = rng.normal(size=(40, 3))
    got = strict.to_host(portable(strict, (7, 3), strict.from_host(idx), strict.from_host(vals)))
    want = np.zeros((7, 3))
    np.add.at(want, idx, vals)
    assert np.allclose(got, want)


def test_host_round_trip(backend):
    import numpy as np

    be = gdl.get_backend_object(backend)
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = be.to_host(be.from_host(arr))
    assert isinstance(back, np.ndarray) and (back == arr).all()
    be.synchronize()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_malloc_tuning_applies_and_can_be_disabled():
    code = "from gdl.backends.numpy_backend import keep_freed_memory_for_reuse as k; print(k())"
    on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    off = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=dict(os.environ, GDL_MALLOC_TUNING="0"),
    )
    assert on.stdout.strip() == "True" and off.stdout.strip() == "False"


@pytest.mark.parametrize("rows, n", [(7, 40), (100_000, 60)])  # one-hot path, then sort + reduceat
def test_numpy_scatter_add_paths_match_add_at(rows, n):
    import numpy as np

    be = gdl.get_backend_object("numpy")
    rng = np.random.default_rng(rows)
    idx = rng.integers(0, min(rows, 9), size=n)  # many duplicates
    vals = rng.normal(size=(n, 3, 2))
    want = np.zeros((rows, 3, 2))
    np.add.at(want, idx, vals)
    np.testing.assert_allclose(be.scatter_add((rows, 3, 2), idx, vals), want, rtol=1e-12, atol=1e-12)


def test_numpy_tensors_are_row_major_whatever_the_source_layout():
    """A weight built from a transposed array (the book's ``W.T``) must not stay column-major:
    ``w -= lr * g`` between layouts runs several times slower."""
    import numpy as np

    host = np.arange(12.0).reshape(3, 4).T  # a column-major view
    for t in (gdl.tensor(host, backend="numpy"), gdl.tensor(gdl.tensor(host, backend="numpy"), backend="numpy")):
        assert t.data.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(t.numpy(), host)


def test_numpy_matmul_products_match_the_plain_ones_bit_for_bit():
    import numpy as np

    be = gdl.get_backend_object("numpy")
    rng = np.random.default_rng(0)
    for k, m, n in ((1, 100, 784), (1, 3, 4), (2, 100, 784), (7, 5, 9)):
        a, b = rng.standard_normal((k, m)), rng.standard_normal((k, n))
        a[0, 0], b[0, 1] = np.inf, -np.inf  # the padding row must not turn these into NaN
        with np.errstate(invalid="ignore"):  # inf - inf in the plain products of k > 1
            np.testing.assert_array_equal(be.matmul_tn(a, b), a.T @ b)
            np.testing.assert_array_equal(be.matmul_tn(a.astype(np.float32), b.astype(np.float32)),
                                          a.astype(np.float32).T @ b.astype(np.float32))


@pytest.mark.parametrize("p", [0.5, 0.1, 0.8])
def test_bernoulli_frequency_shape_and_dtype(backend, p):
    be = gdl.get_backend_object(backend)
    draws = gdl.Tensor._wrap(be.bernoulli(p, (301, 333)), be)  # an odd element count
    assert draws.shape == (301, 333) and draws.dtype == gdl.float32
    values = draws.numpy()
    assert set(np.unique(values)) <= {0.0, 1.0}
    n = values.size
    assert abs(values.mean() - p) < 5 * (p * (1 - p) / n) ** 0.5  # within 5 standard errors
    # the rows are not copies of one another (each element is its own draw)
    assert not np.array_equal(values[0], values[1])


def test_bernoulli_edges(backend):
    be = gdl.get_backend_object(backend)
    for p, expected in ((0.0, 0.0), (1.0, 1.0)):
        assert np.all(gdl.Tensor._wrap(be.bernoulli(p, (4, 5)), be).numpy() == expected)
    assert gdl.Tensor._wrap(be.bernoulli(0.5, (0, 3)), be).shape == (0, 3)
    assert gdl.Tensor._wrap(be.bernoulli(0.5, (), dtype=be.xp.float64), be).dtype == gdl.float64


def test_scatter_add_keeps_an_inf_in_its_own_row(backend):
    """A one-hot product would give 0·inf = NaN in every other row; each row must hold only its own sum."""
    be = gdl.get_backend_object()
    values = gdl.tensor([[1.0, 2.0], [float("inf"), 3.0], [4.0, 5.0], [float("nan"), 1.0]]).data
    index = gdl.tensor([0, 2, 0, 3]).data
    out = gdl.Tensor._wrap(be.scatter_add((5, 2), index, values), be).tolist()
    assert out[0] == [5.0, 7.0] and out[1] == [0.0, 0.0] and out[2] == [float("inf"), 3.0] and out[4] == [0.0, 0.0]
    assert math.isnan(out[3][0]) and out[3][1] == 1.0


def test_put_rows_replaces_exactly_the_rows_given(backend):
    be = gdl.get_backend_object()
    target = gdl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).data
    rows = gdl.tensor([[float("inf"), -0.5], [7.0, 8.0]]).data
    out = gdl.Tensor._wrap(be.put_rows(target, gdl.tensor([2, 0]).data, rows), be).tolist()
    assert out == [[7.0, 8.0], [3.0, 4.0], [float("inf"), -0.5]]
