"""Tensor creation, attributes, conversions, gradient modes and backward semantics."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gdl

OTHER = {"numpy": "array_api_strict", "array_api_strict": "numpy", "cupy": "numpy"}


@pytest.fixture
def default_dtype_restored():
    before = gdl.get_default_dtype()
    yield
    gdl.set_default_dtype(before)


# -- creation and dtypes ------------------------------------------------------------------------


def test_float32_is_the_default(backend):
    assert gdl.get_default_dtype() == gdl.float32
    for t in (
        gdl.tensor([1.0, 2.0]),
        gdl.tensor(3.5),
        gdl.zeros(2, 3),
        gdl.ones(4),
        gdl.full((2,), 1.5),
        gdl.arange(0.0, 1.0, 0.25),
        gdl.eye(3),
        gdl.rand(2),
        gdl.randn(2),
    ):
        assert t.dtype == gdl.float32, t
        assert t.dtype == "float32"
        assert t.backend == backend


def test_integer_and_bool_defaults(backend):
    assert gdl.tensor([1, 2, 3]).dtype == gdl.int64
    assert gdl.tensor(7).dtype == gdl.int64
    assert gdl.tensor([True, False]).dtype == gdl.bool
    assert gdl.arange(5).dtype == gdl.int64
    assert gdl.full((2,), 3).dtype == gdl.int64
    assert gdl.full((2,), True).dtype == gdl.bool
    np.testing.assert_array_equal(gdl.arange(5).numpy(), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(gdl.arange(2, 9, 3).numpy(), [2, 5, 8])


@pytest.mark.parametrize(
    "np_dtype, gdl_dtype",
    [
        ("float64", gdl.float64),
        ("float32", gdl.float32),
        ("int32", gdl.int32),
        ("int64", gdl.int64),
        ("bool", gdl.bool),
        ("float16", gdl.float16),
    ],
)
def test_tensor_keeps_numpy_dtype(backend, np_dtype, gdl_dtype):
    if np_dtype == "float16" and backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    t = gdl.tensor(a)
    assert t.dtype == gdl_dtype
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.numpy().dtype == np.dtype(np_dtype)


def test_explicit_dtype_wins(backend):
    assert gdl.tensor(np.ones(3), dtype=gdl.float32).dtype == gdl.float32
    assert gdl.tensor([1, 2], dtype=gdl.float64).dtype == gdl.float64
    assert gdl.tensor([1.0, 2.0], dtype="float64").dtype == gdl.float64
    assert gdl.zeros(2, dtype=gdl.int64).dtype == gdl.int64
    assert gdl.ones(2, dtype=gdl.float64).dtype == gdl.float64
    assert gdl.arange(3, dtype=gdl.float64).dtype == gdl.float64
    assert gdl.eye(2, dtype=gdl.float64).dtype == gdl.float64
    assert gdl.rand(3, dtype=gdl.float64).dtype == gdl.float64
    assert gdl.randn(3, dtype=gdl.float64).dtype == gdl.float64
    np.testing.assert_array_equal(gdl.tensor([1.7, -2.2], dtype=gdl.int64).numpy(), [1, -2])


def test_set_default_dtype(backend, default_dtype_restored):
    gdl.set_default_dtype(gdl.float64)
    assert gdl.get_default_dtype() == gdl.float64
    for t in (
        gdl.tensor([1.0]),
        gdl.zeros(2),
        gdl.ones(1),
        gdl.eye(2),
        gdl.rand(2),
        gdl.randn(2),
        gdl.arange(0.0, 1.0, 0.5),
        gdl.full((1,), 0.5),
    ):
        assert t.dtype == gdl.float64, t
    assert gdl.tensor([1, 2]).dtype == gdl.int64  # integers unaffected
    assert gdl.tensor(np.ones(2, dtype=np.float32)).dtype == gdl.float32  # arrays keep theirs
    assert gdl.tensor([1, 2]).float().dtype == gdl.float64
    gdl.set_default_dtype("float32")
    assert gdl.tensor([1.0]).dtype == gdl.float32


def test_dtype_objects():
    assert gdl.float32 == "float32" and gdl.float32 != gdl.float64
    assert gdl.float32 == np.float32 and gdl.float64 == np.dtype("float64")
    assert gdl.bool == np.bool_ and gdl.int64 == np.int64
    assert (
        gdl.float32.is_floating_point and not gdl.int64.is_floating_point and not gdl.bool.is_floating_point
    )
    assert repr(gdl.float64) == "gdl.float64"
    assert len({gdl.float32, gdl.float32, gdl.float64}) == 2


def test_shape_arguments_and_values(backend):
    assert gdl.zeros(2, 3).shape == gdl.zeros((2, 3)).shape == gdl.zeros([2, 3]).shape == (2, 3)
    np.testing.assert_array_equal(gdl.zeros(2, 3).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(gdl.ones((3,)).numpy(), np.ones(3))
    np.testing.assert_array_equal(gdl.full((2, 2), -1.5).numpy(), np.full((2, 2), -1.5))
    np.testing.assert_array_equal(gdl.full(3, 2.0).numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(gdl.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(gdl.eye(2, 3).numpy(), np.eye(2, 3))
    assert gdl.zeros(()).shape == () and gdl.zeros(0, 3).shape == (0, 3)
    like = gdl.tensor(np.arange(6.0).reshape(2, 3))
    z, o = gdl.zeros_like(like), gdl.ones_like(like)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == gdl.float64 and z.backend == backend
    np.testing.assert_array_equal(z.numpy(), 0)
    np.testing.assert_array_equal(o.numpy(), 1)
    assert gdl.zeros_like(like, dtype=gdl.int64).dtype == gdl.int64
    assert gdl.ones_like(like, requires_grad=True).requires_grad


def test_random_creation(backend):
    gdl.manual_seed(0)
    u = gdl.rand(2000).numpy()
    assert u.shape == (2000,) and (u >= 0).all() and (u < 1).all()
    assert 0.45 < u.mean() < 0.55
    n = gdl.randn(50, 40).numpy()
    assert n.shape == (50, 40)
    assert abs(n.mean()) < 0.1 and 0.9 < n.std() < 1.1
    gdl.manual_seed(0)
    np.testing.assert_array_equal(gdl.rand(2000).numpy(), u)


def test_tensor_from_other_sources(backend):
    nested = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert nested.shape == (2, 2)
    np.testing.assert_array_equal(nested.numpy(), [[1, 2], [3, 4]])
    copy = gdl.tensor(nested)
    assert copy.shape == (2, 2) and copy.backend == backend and copy is not nested
    other = gdl.tensor([1.0, 2.0], backend=OTHER[backend])
    assert other.backend == OTHER[backend]
    moved = gdl.tensor(other)
    assert moved.backend == backend
    np.testing.assert_array_equal(moved.numpy(), [1.0, 2.0])
    assert gdl.tensor(2.5).shape == () and gdl.tensor(2.5).ndim == 0


def test_tensor_copies_its_input(backend):
    a = np.array([1.0, 2.0, 3.0])
    t = gdl.tensor(a)
    a[0] = 100.0
    assert t.numpy()[0] == 1.0
    u = gdl.tensor(t)
    t2 = t * 1.0  # noqa: F841  (t unchanged)
    h = t.numpy()
    h[1] = -5.0  # .numpy() is a copy
    assert t.numpy()[1] == 2.0 and u.numpy()[1] == 2.0


def test_requires_grad_at_creation(backend):
    for t in (
        gdl.tensor([1.0], requires_grad=True),
        gdl.zeros(2, requires_grad=True),
        gdl.ones(2, requires_grad=True),
        gdl.randn(2, requires_grad=True),
        gdl.rand(2, requires_grad=True),
        gdl.full((2,), 1.0, requires_grad=True),
        gdl.eye(2, requires_grad=True),
        gdl.arange(0.0, 2.0, requires_grad=True),
    ):
        assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


# -- attributes and conversions --------------------------------------------------------------------


def test_attributes(backend):
    t = gdl.tensor(np.zeros((2, 3, 4)))
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.size == 24 and t.numel() == 24 and len(t) == 2
    assert t.backend == backend
    assert t._backend.device is gdl.get_backend_object(backend).device
    assert t.device == gdl.device("cuda:0" if backend == "cupy" else "cpu")
    assert t.requires_grad is False and t.grad is None and t.grad_fn is None and t.is_leaf
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert y.grad_fn.name == "Mul" and y.grad_fn.inputs[0] is x
    assert "Mul" in repr(y.grad_fn)


def test_numpy_and_item(backend):
    t = gdl.tensor([[1.5, 2.5]])
    h = t.numpy()
    assert isinstance(h, np.ndarray) and h.dtype == np.float32
    np.testing.assert_array_equal(h, [[1.5, 2.5]])
    assert t.tolist() == [[1.5, 2.5]]
    s = gdl.tensor([[4.25]])
    assert s.item() == 4.25 and isinstance(s.item(), float)
    i = gdl.tensor(7)
    assert i.item() == 7 and isinstance(i.item(), int)
    assert gdl.tensor(True).item() is True
    assert float(gdl.tensor(0.5)) == 0.5 and int(gdl.tensor(3)) == 3
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance((x * x).sum().item(), float)
    np.testing.assert_array_equal((x * 3.0).numpy(), [3.0, 6.0])  # works on graph tensors


def test_to_backend_and_dtype(backend):
    x = gdl.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x.to(OTHER[backend])
    assert y.backend == OTHER[backend] and y.dtype == gdl.float64
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0, 3.0])
    assert x.to(backend) is x
    (y * y).sum().backward()  # the transfer is differentiable
    assert x.grad.backend == backend
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])

    z = x.to(dtype=gdl.float32)
    assert z.dtype == gdl.float32 and z.backend == backend and z.requires_grad
    x.grad = None
    (z * 2.0).sum().backward()
    assert x.grad.dtype == gdl.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert x.double().dtype == gdl.float64 and x.float().dtype == gdl.float32
    n = x.long()
    assert n.dtype == gdl.int64 and not n.requires_grad


def test_detach(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [3.0, 6.0])
    (y * d).sum().backward()  # d is a constant: dy/dx * d only
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 18.0])


def test_repr(backend):
    plain = repr(gdl.tensor([1.0, 2.5]))
    assert plain.startswith("tensor([1. , 2.5]") and f"backend={backend!r}" in plain
    assert "grad_fn" not in plain and "requires_grad" not in plain and "dtype" not in plain
    leaf = repr(gdl.tensor([1.0], requires_grad=True))
    assert "requires_grad=True" in leaf
    y = gdl.tensor([1.0, 2.0], requires_grad=True) * 2.0
    r = repr(y)
    assert "2." in r and "4." in r and "grad_fn=<MulBackward>" in r
    assert "dtype=gdl.float64" in repr(gdl.tensor(np.ones(2)))
    assert "..." in repr(gdl.zeros(1000))  # long tensors are summarised


# -- gradient modes ----------------------------------------------------------------------------------


def test_no_grad_context(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    assert gdl.is_grad_enabled()
    with gdl.no_grad():
        assert not gdl.is_grad_enabled()
        y = x * 2.0 + 1.0
        assert not y.requires_grad and y.grad_fn is None
        with gdl.enable_grad():
            assert gdl.is_grad_enabled()
            z = x * 2.0
            assert z.requires_grad and z.grad_fn is not None
        assert not gdl.is_grad_enabled()
    assert gdl.is_grad_enabled()
    assert (x * 2.0).requires_grad


def test_no_grad_restores_after_exception(backend):
    with pytest.raises(KeyError):
        with gdl.no_grad():
            raise KeyError("boom")
    assert gdl.is_grad_enabled()


def test_no_grad_and_enable_grad_decorators(backend):
    x = gdl.tensor([1.0], requires_grad=True)

    @gdl.no_grad()
    def frozen(t):
        """docstring kept"""
        return t * 2.0

    @gdl.enable_grad()
    def live(t):
        return t * 2.0

    out = frozen(x)
    assert not out.requires_grad and gdl.is_grad_enabled()
    assert frozen.__name__ == "frozen" and frozen.__doc__ == "docstring kept"
    with gdl.no_grad():
        assert live(x).requires_grad
        assert not gdl.is_grad_enabled()
    with pytest.raises(ValueError):
        gdl.no_grad()(lambda: (_ for _ in ()).throw(ValueError()))()
    assert gdl.is_grad_enabled()


# -- backward semantics --------------------------------------------------------------------------------


def test_simple_backward(backend):
    x = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, gdl.Tensor)
    assert x.grad.backend == backend and x.grad.dtype == gdl.float32 and x.grad.shape == (3,)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_fan_out_accumulates(backend):
    x = gdl.tensor([1.0, -2.0], requires_grad=True)
    y = x * x + x * 3.0 + x  # x used three times
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.array([1.0, -2.0]) + 4.0)
    # a diamond: a feeds b and c, both feed d
    w = gdl.tensor(np.array([0.5, 1.5]), requires_grad=True)
    a = w * 2.0
    b = a.exp()
    c = a * a
    (b + c).sum().backward()
    av = 2 * np.array([0.5, 1.5])
    np.testing.assert_allclose(w.grad.numpy(), 2 * (np.exp(av) + 2 * av))


def test_same_tensor_twice_in_one_op(backend):
    x = gdl.tensor([3.0], requires_grad=True)
    (x * x).backward(gdl.tensor([1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])
    y = gdl.tensor([2.0], requires_grad=True)
    (y + y + y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0])


def test_grad_accumulates_across_backward_calls(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 + 2.0, 3.0 + 4.0])
    x.grad = None  # what zero_grad does
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_unbroadcast_gradients(backend):
    a = gdl.tensor(np.ones((3, 1)), requires_grad=True)
    b = gdl.tensor(np.arange(4.0), requires_grad=True)
    c = gdl.tensor(np.ones((2, 1, 1)), requires_grad=True)
    s = gdl.tensor(2.0, requires_grad=True)
    out = a * b + c - s  # broadcasts to (2, 3, 4)
    assert out.shape == (2, 3, 4)
    out.sum().backward()
    assert (
        a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == (2, 1, 1) and s.grad.shape == ()
    )
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 2 * 6.0))  # 2 batches x sum(b)
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 2 * 3.0))
    np.testing.assert_array_equal(c.grad.numpy(), np.full((2, 1, 1), 12.0))
    assert s.grad.item() == -24.0


def test_backward_with_explicit_gradient(backend):
    x = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gdl.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])
    z = gdl.tensor([1.0, 1.0], requires_grad=True)
    (z * 4.0).backward(np.array([0.5, 2.0], dtype=np.float32))  # a host array is accepted
    np.testing.assert_array_equal(z.grad.numpy(), [2.0, 8.0])


def test_backward_on_a_leaf(backend):
    x = gdl.tensor(5.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_retain_graph(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    y.backward()  # last use frees the graph
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 12.0])


def test_graph_is_freed_after_backward(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    # a new graph over a freed intermediate cannot reach x either
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 3.0).sum().backward()


def test_long_chain_does_not_recurse(backend):
    limit = sys.getrecursionlimit()
    x = gdl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000] * 2, rtol=1e-9)
    assert sys.getrecursionlimit() == limit
    del y  # dropping the whole chain must not overflow the C stack either


def test_long_chain_with_fan_out(backend):
    # an RNN-like unroll: every step reads the same weight
    w = gdl.tensor(np.array([0.5]), requires_grad=True)
    h = gdl.tensor(np.array([1.0]))
    for _ in range(3000):
        h = (h * w).tanh() + 0.1
    h.sum().backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()


def test_retain_grad(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    u = x * 2.0  # not retained
    y = (h * h + u).sum()
    y.backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    assert u.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [18.0 + 2.0, 36.0 + 2.0])


def test_gradients_do_not_flow_into_non_grad_inputs(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    c = gdl.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    y = c * 2.0
    assert not y.requires_grad and y.grad_fn is None


def test_float32_stays_float32(backend):
    """Python constants must not promote float32 work to float64 (forward or backward)."""
    x = gdl.randn(3, 4, requires_grad=True)
    w = gdl.randn(4, 2, requires_grad=True)
    y = ((x * 0.5 + 1.0) / 3.0 - 2.0) ** 2
    z = (y @ w).sigmoid().tanh().relu().clip(0.0, 1.0).log_softmax(axis=-1)
    loss = (z.exp().sqrt() + z.abs()).mean() + y.logsumexp(axis=1).max() + z.softmax(axis=0).sum()
    assert y.dtype == z.dtype == loss.dtype == gdl.float32
    loss.backward()
    assert x.grad.dtype == w.grad.dtype == gdl.float32


def test_integer_tensor_with_python_float_gives_default_float(backend):
    # As PyTorch: uint8 images / 255 are float32, not float64 (NumPy's promotion).
    x = gdl.tensor([0, 128, 255], dtype=gdl.uint8)
    assert (x / 255).dtype == gdl.float32
    assert (x * 0.5).dtype == gdl.float32 and (0.5 * x).dtype == gdl.float32
    assert (x - 1.0).dtype == gdl.float32 and (1.0 + x).dtype == gdl.float32
    assert (x + 1).dtype == gdl.uint8  # integer scalars keep the integer dtype
    assert abs((x / 255).numpy()[2] - 1.0) < 1e-7


def test_sum_of_a_bool_tensor_counts_true_values(backend):
    x = gdl.tensor([1.0, -2.0, 3.0, 0.5])
    count = (x > 0).sum()
    assert count.dtype == gdl.int64 and count.item() == 3
    assert (x > 0).sum(axis=0).item() == 3


# -- regressions found by the PyTorch cross-check of the core (test_torch_crosscheck_core.py) --


def test_integer_tensors_with_python_floats_give_the_default_float(backend):
    i = gdl.tensor([1, 2, 3])
    for name, out in {"i / i": i / i, "2 / i": 2 / i, "i ** 0.5": i**0.5, "2.0 ** i": 2.0**i,
                      "0.5 - i": 0.5 - i}.items():
        assert out.dtype == gdl.float32, name  # were float64 on NumPy
    assert (i**2).dtype == gdl.int64 and (i / 2).dtype == gdl.float32
    np.testing.assert_allclose((0.5 - i).numpy(), [-0.5, -1.5, -2.5])


def test_float_scalars_are_not_truncated_to_an_int_tensor(backend):
    i = gdl.tensor([1, 2, 3])
    # these cast 0.5 to the int dtype: 0 (where, maximum) or clipped to ints (clip)
    np.testing.assert_allclose(gdl.where(i > 1, i, 0.5).numpy(), [0.5, 2.0, 3.0])
    np.testing.assert_allclose(gdl.maximum(i, 1.5).numpy(), [1.5, 2.0, 3.0])
    np.testing.assert_allclose(gdl.minimum(0.5, i).numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(i.clip(0.5, 1.5).numpy(), [1.0, 1.5, 1.5])
    assert gdl.where(i > 1, i, 0.5).dtype == gdl.float32
    kept = i.masked_fill(i > 1, 0.5)  # masked_fill keeps the tensor's dtype, as PyTorch
    assert kept.dtype == gdl.int64 and kept.numpy().tolist() == [1, 0, 0]


def test_iterating_a_0d_tensor_is_an_error(backend):
    with pytest.raises(TypeError, match="0-d"):
        list(gdl.tensor(1.0))  # was an empty list
    rows = list(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.numpy().tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


def test_requires_grad_false_on_a_non_leaf_is_refused(backend):
    x = gdl.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)  # silently cut the graph
    assert y.requires_grad_(True) is y and x.requires_grad_(False) is x


def test_to_with_a_dtype_in_first_place(backend):
    x = gdl.tensor([1.5])
    assert x.to(gdl.float64).dtype == gdl.float64  # was "unknown backend gdl.float64"
    assert x.to("int32").dtype == gdl.int32
    assert x.to(backend).backend == backend
