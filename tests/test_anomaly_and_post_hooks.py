"""gdl.autograd.detect_anomaly / set_detect_anomaly and
Tensor.register_post_accumulate_grad_hook, on every test backend."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def _nan_graph():
    x = gdl.tensor([0.0, 1.0], requires_grad=True)
    return x, (x.sqrt() * 0.0).sum()  # sqrt's derivative at 0 is inf, times 0: NaN


def test_detect_anomaly_names_the_op_and_where_it_ran(backend):
    with gdl.autograd.detect_anomaly():
        assert gdl.autograd.is_anomaly_enabled()
        x, loss = _nan_graph()
        with pytest.raises(RuntimeError, match=r"'SqrtBackward' returned nan values in its 0th output") as err:
            loss.backward()
    assert "_nan_graph" in str(err.value)  # the forward's place, from the recorded stack
    assert not gdl.autograd.is_anomaly_enabled()


def test_without_anomaly_detection_the_nan_flows_into_grad(backend):
    x, loss = _nan_graph()
    loss.backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.0


def test_a_finite_backward_passes_and_the_decorator_form(backend):
    @gdl.autograd.detect_anomaly()
    def step():
        model = nn.Linear(3, 2)
        loss = model(gdl.randn(4, 3)).tanh().sum()
        loss.backward()
        assert gdl.autograd.is_anomaly_enabled()
        return model.weight.grad

    assert np.isfinite(step().numpy()).all()
    assert not gdl.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_as_a_call_and_as_a_context(backend):
    try:
        gdl.autograd.set_detect_anomaly(True)
        assert gdl.autograd.is_anomaly_enabled()
        with gdl.autograd.set_detect_anomaly(False):
            assert not gdl.autograd.is_anomaly_enabled()
            x, loss = _nan_graph()
            loss.backward()  # off inside: no error
        assert gdl.autograd.is_anomaly_enabled()
        with gdl.autograd.set_detect_anomaly(True, check_nan=False):
            x, loss = _nan_graph()
            loss.backward()
    finally:
        gdl.autograd.set_detect_anomaly(False)
    assert not gdl.autograd.is_anomaly_enabled()


def test_a_node_made_before_turning_it_on_is_still_checked(backend):
    x, loss = _nan_graph()
    with gdl.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="before anomaly detection"):
        loss.backward()


def test_custom_function_backward_is_checked(backend):
    class Bad(gdl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = gdl.ones(3, requires_grad=True)
    with gdl.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="BadBackward"):
        Bad.apply(x).sum().backward()


def test_post_accumulate_hook_sees_the_complete_gradient(backend):
    w = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (w * w).sum().backward()  # grad 2w
    (w * 3).sum().backward()  # accumulates: 2w + 3
    np.testing.assert_array_equal(seen[0], [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(seen[1], [5.0, 7.0, 9.0])
    handle.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2


def test_an_optimizer_step_per_parameter_during_backward(backend):
    gdl.manual_seed(0)
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    x, y = gdl.randn(8, 4), gdl.randn(8, 3)
    opt = gdl.optim.SGD(a.parameters(), lr=0.1)
    opt.zero_grad()
    ((a(x) - y) ** 2).mean().backward()
    opt.step()
    per_param = {id(p): gdl.optim.SGD([p], lr=0.1) for p in b.parameters()}

    def step_now(p):
        per_param[id(p)].step()
        per_param[id(p)].zero_grad()

    for p in b.parameters():
        p.register_post_accumulate_grad_hook(step_now)
    ((b(x) - y) ** 2).mean().backward()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6)
        assert q.grad is None


def test_post_accumulate_hook_refuses_non_leaves_and_constants(backend):
    x = gdl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gdl.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(TypeError, match="callable"):
        x.register_post_accumulate_grad_hook(3)


def test_post_accumulate_hook_is_not_run_by_autograd_grad(backend):
    x = gdl.ones(2, requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    (g,) = gdl.autograd.grad((x * 2).sum(), [x])
    assert calls == [] and x.grad is None and g.tolist() == [2.0, 2.0]
