"""The create_graph engine (gdl.higher_order): gradients of gradients through backward(),
autograd.grad and autograd.backward, with hooks, inputs=, grad_outputs that require grad,
accumulation, retain_graph and clear errors. On every test backend."""

from __future__ import annotations

import numpy as np
import pytest

import gdl


def _x(values, backend_dtype=gdl.float64):
    return gdl.tensor(values, dtype=backend_dtype, requires_grad=True)


def test_grad_of_grad_and_a_third_derivative(backend):
    x = _x([1.0, -2.0, 0.5])
    (g,) = gdl.autograd.grad((x ** 4).sum(), x, create_graph=True)  # 4x³
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.numpy(), 4 * x.numpy() ** 3)
    (h,) = gdl.autograd.grad(g.sum(), x, create_graph=True)  # 12x²
    np.testing.assert_allclose(h.numpy(), 12 * x.numpy() ** 2)
    (t,) = gdl.autograd.grad(h.sum(), x)  # 24x
    np.testing.assert_allclose(t.numpy(), 24 * x.numpy())
    assert not t.requires_grad


def test_backward_with_create_graph_leaves_a_differentiable_grad(backend):
    x = _x([1.0, 2.0])
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    gx = x.grad
    x.grad = None
    gx.sum().backward()  # d/dx Σ3x² = 6x
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_create_graph_accumulates_into_grad(backend):
    x = _x([1.0, 3.0])
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 12.0])
    assert x.grad.requires_grad


def test_the_graph_is_kept_by_default_and_freed_on_request(backend):
    x = _x([2.0])
    y = (x ** 3).sum()
    gdl.autograd.grad(y, x, create_graph=True)
    gdl.autograd.grad(y, x, create_graph=True)  # kept: retain_graph defaults to create_graph
    gdl.autograd.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="second time"):
        gdl.autograd.grad(y, x, create_graph=True)


def test_grad_outputs_that_require_grad(backend):
    x = _x([1.0, 2.0])
    v = _x([3.0, -1.0])
    (g,) = gdl.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)  # 2x·v
    gv, gx = gdl.autograd.grad(g.sum(), [v, x])
    np.testing.assert_allclose(gv.numpy(), 2 * x.numpy())
    np.testing.assert_allclose(gx.numpy(), 2 * v.numpy())


def test_hooks_and_retain_grad_see_tensors(backend):
    x = _x([1.0, 2.0])
    y = x * x
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
    (g,) = gdl.autograd.grad((y * x).sum(), x, create_graph=True)  # d/dx x³, with y's part doubled: 2x·x·2 + x²
    np.testing.assert_allclose(g.numpy(), 5 * x.numpy() ** 2)
    assert seen == [True]


def test_backward_inputs_with_create_graph(backend):
    x, w = _x([1.0, 2.0]), _x([3.0])
    (x * x * w).sum().backward(create_graph=True, inputs=[x])
    assert w.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    (gw,) = gdl.autograd.grad(x.grad.sum(), w)
    np.testing.assert_allclose(gw.numpy(), [6.0])  # d/dw Σ2xw = Σ2x


def _no_graph_op(x):
    """An op whose node has only the raw first-order backward (``2x`` for ``x²``)."""
    from gdl.tensor import result

    return result(x.data * x.data, x._backend, (x,), lambda g: (2.0 * g * x.data,), "NoGraphSquare")


def test_an_op_without_a_graph_backward_is_named(backend):
    x = _x([1.0, 2.0, 3.0])
    with pytest.raises(NotImplementedError, match="the op NoGraphSquare has no differentiable backward"):
        gdl.autograd.grad(_no_graph_op(x).sum(), x, create_graph=True)
    _no_graph_op(x).sum().backward()  # the first-order path still works
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_cumsum_second_derivative(backend):
    x = _x([0.5, -1.0, 2.0])
    (g,) = gdl.autograd.grad((x.cumsum(0) ** 3).sum(), x, create_graph=True)
    (h,) = gdl.autograd.grad(g.sum(), x)
    c = np.cumsum(x.numpy())
    # g_j = Σ_{i≥j} 3c_i², h_k = Σ_j Σ_{i≥max(j,k)} 6c_i
    want = [sum(6 * c[i] for j in range(3) for i in range(max(j, k), 3)) for k in range(3)]
    np.testing.assert_allclose(h.numpy(), want)


def test_first_order_results_are_unchanged_by_the_graph_path(backend):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    x1, y1 = _x(a), _x(b)
    ((x1 * y1).tanh() / (y1 * y1 + 1) - x1.exp()).sum().backward()
    x2, y2 = _x(a), _x(b)
    gx, gy = gdl.autograd.grad(((x2 * y2).tanh() / (y2 * y2 + 1) - x2.exp()).sum(), [x2, y2], create_graph=True)
    np.testing.assert_allclose(gx.numpy(), x1.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(gy.numpy(), y1.grad.numpy(), rtol=1e-14)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")
def test_anomaly_detection_in_the_graph_path(backend):
    x = _x([0.0, 1.0])
    with gdl.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="returned nan"):
        gdl.autograd.grad((x.sqrt() * 0.0).sum(), x, create_graph=True)
