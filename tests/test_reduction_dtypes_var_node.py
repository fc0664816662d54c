"""mean/var/std of integer tensors (the default float dtype, on every backend), mean's
``dtype=``, and the variance as one graph node with an analytic backward."""

from __future__ import annotations

import pytest

import gdl


@pytest.mark.parametrize("op", ["mean", "var", "std"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_and_bool_inputs_give_the_default_float_dtype(backend, op, dtype):
    x = gdl.tensor([[1, 0, 1], [1, 1, 0]]).to(getattr(gdl, dtype))
    out = getattr(gdl, op)(x, dim=1)
    assert out.dtype == gdl.float32
    rows = [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    expect = getattr(gdl, op)(gdl.tensor(rows), dim=1)
    assert gdl.allclose(out, expect)


def test_mean_of_ints_follows_the_default_dtype(backend):
    with _default(gdl.float64):
        assert gdl.mean(gdl.tensor([1, 2, 4])).dtype == gdl.float64


class _default:
    def __init__(self, dtype):
        self.dtype = dtype

    def __enter__(self):
        self.old = gdl.get_default_dtype()
        gdl.set_default_dtype(self.dtype)

    def __exit__(self, *exc):
        gdl.set_default_dtype(self.old)


def test_mean_dtype_argument_casts_first_and_keeps_the_gradient(backend):
    x = gdl.tensor([1.0, 2.0, 4.0], requires_grad=True)
    m = gdl.mean(x, dtype=gdl.float64)
    assert m.dtype == gdl.float64
    assert m.item() == pytest.approx(7 / 3)
    m.backward()
    assert x.grad.dtype == gdl.float32
    assert gdl.allclose(x.grad, gdl.full((3,), 1 / 3))
    assert x.mean(dtype=gdl.float64).dtype == gdl.float64


@pytest.mark.parametrize("dim, keepdim, correction", [
    (None, False, 0), (1, False, 1), ((0, 2), True, 0), (-1, True, 1), (0, False, 2),
])
def test_var_is_one_node_with_the_gradient_of_the_formula(backend, dim, keepdim, correction):
    gdl.manual_seed(3)
    data = gdl.randn(3, 4, 5, dtype=gdl.float64)
    x = data.clone().requires_grad_()
    v = gdl.var(x, dim=dim, keepdim=keepdim, correction=correction)
    assert [id(t) for t in v.grad_fn.inputs] == [id(x)]  # one node, not a chain of ops
    g = gdl.randn(*v.shape, dtype=gdl.float64)
    (v * g).sum().backward()

    # the same variance written with elementary ops, and its gradient
    y = data.clone().requires_grad_()
    axes = tuple(range(3)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    n = 1
    for a in axes:
        n *= y.shape[a]
    d = y - y.mean(dim=axes, keepdim=True)
    ref = (d * d).sum(dim=axes, keepdim=keepdim) / (n - correction)
    (ref * g).sum().backward()
    assert gdl.allclose(v, ref, atol=1e-12)
    assert gdl.allclose(x.grad, y.grad, atol=1e-12)


def test_std_and_var_mean_share_the_var_node(backend):
    x = gdl.tensor([[1.0, 3.0], [2.0, 6.0]], requires_grad=True)
    s, mu = gdl.std_mean(x, dim=1, correction=1)
    (s.sum() + mu.sum()).backward()
    # d std/dx = (x - mean) / ((n - 1) std); d mean/dx = 1/n
    expect = [[-1 / 2 ** 0.5 + 0.5, 1 / 2 ** 0.5 + 0.5], [-1 / 2 ** 0.5 + 0.5, 1 / 2 ** 0.5 + 0.5]]
    assert gdl.allclose(x.grad, gdl.tensor(expect), atol=1e-6)


def test_var_with_no_degrees_of_freedom_is_nan(backend):
    x = gdl.tensor([2.0], requires_grad=True)
    v = gdl.var(x, correction=1)
    v.backward()
    assert gdl.isnan(v).item()
    assert gdl.isnan(x.grad).all().item()
