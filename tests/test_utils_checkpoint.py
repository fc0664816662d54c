"""Activation checkpointing (gdl.utils.checkpoint): the same values and gradients as
running the function plainly, with the inner activations freed after the forward
pass and the random draws replayed in the recomputation."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.utils.checkpoint import checkpoint, checkpoint_sequential


def _block():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 4))


def _grads(block, x):
    return [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in block.parameters()]


@pytest.mark.parametrize("use_reentrant", [None, True, False])
def test_same_values_and_gradients_as_a_plain_call_with_dropout(backend, use_reentrant):
    gdl.manual_seed(0)
    block = _block()
    x = gdl.randn(3, 4, dtype=gdl.float32, requires_grad=True)
    gdl.manual_seed(7)
    y = checkpoint(block, x, use_reentrant=use_reentrant)
    (y * y).sum().backward()
    after_ckpt = gdl.rand(1).item()  # the recomputation must not move the random stream
    ours = _grads(block, x)
    x.grad = None
    block.zero_grad()
    gdl.manual_seed(7)
    plain = block(x)
    (plain * plain).sum().backward()
    assert gdl.rand(1).item() == after_ckpt
    np.testing.assert_array_equal(y.numpy(), plain.numpy())
    for a, b in zip(ours, _grads(block, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_function_runs_again_in_backward_and_inner_activations_are_freed(backend):
    calls, inner = [], []

    def fn(x, w):
        calls.append(1)
        h = (x @ w).tanh()
        inner.append(weakref.ref(h))
        return h * 2.0

    x = gdl.randn(2, 3, requires_grad=True)
    w = gdl.randn(3, 3, requires_grad=True)
    y = checkpoint(fn, x, w)
    gc.collect()
    assert len(calls) == 1
    assert inner[0]() is None  # the activation made inside fn is not kept by the graph
    y.sum().backward()
    assert len(calls) == 2
    expected_w = (x.detach().T @ (2.0 * (1.0 - (x.detach() @ w.detach()).tanh() ** 2)))
    np.testing.assert_allclose(w.grad.numpy(), expected_w.numpy(), rtol=1e-5, atol=1e-6)


def test_parameters_get_gradients_when_the_input_needs_none(backend):
    lin = nn.Linear(3, 2)
    checkpoint(lin, gdl.ones(4, 3)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.full((2, 3), 4.0))
    np.testing.assert_allclose(lin.bias.grad.numpy(), np.full((2,), 4.0))


def test_tuple_outputs_kwargs_and_non_tensor_values(backend):
    def fn(a, b, *, scale):
        return a * scale, b.sum(), "label"

    a = gdl.tensor([1.0, 2.0], requires_grad=True)
    b = gdl.tensor([3.0, 4.0], requires_grad=True)
    p, s, label = checkpoint(fn, a, b, scale=3.0)
    assert label == "label"
    (p.sum() + 2 * s).backward()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [2.0, 2.0]


def test_an_unused_output_gets_no_gradient(backend):
    a = gdl.tensor([1.0, 2.0], requires_grad=True)
    first, _second = checkpoint(lambda t: (t * 2.0, t * 5.0), a)
    first.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_without_grad_it_is_the_plain_call(backend):
    x = gdl.randn(2, 4, requires_grad=True)
    block = _block().eval()
    with gdl.no_grad():
        y = checkpoint(block, x)
    assert y.grad_fn is None and not y.requires_grad


def test_outputs_that_need_no_gradient_add_no_node(backend):
    out = checkpoint(lambda t: t * 2.0, gdl.ones(3))
    assert out.grad_fn is None


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_checkpoint_sequential_matches_the_plain_sequence(backend, segments):
    gdl.manual_seed(2)
    seq = nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(5)])
    x = gdl.randn(3, 4, requires_grad=True)
    checkpoint_sequential(seq, segments, x, use_reentrant=False).sum().backward()
    ours = _grads(seq, x)
    x.grad = None
    seq.zero_grad()
    seq(x).sum().backward()
    for a, b in zip(ours, _grads(seq, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_bad_arguments_name_the_problem():
    with pytest.raises(TypeError, match="callable"):
        checkpoint(3, gdl.ones(2))
    with pytest.raises(TypeError, match="use_reentrant"):
        checkpoint(lambda t: t, gdl.ones(2), use_reentrant="yes")
    with pytest.raises(TypeError, match="returned a str"):
        checkpoint(lambda t: "no", gdl.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential([nn.Tanh()], 0, gdl.ones(2))


def test_torch_names_for_the_utilities():
    import gdl.utils.data as data

    assert data.DataLoader is gdl.data.DataLoader and data.TensorDataset is gdl.data.TensorDataset
    assert gdl.utils.checkpoint.checkpoint is checkpoint


def test_autograd_grad_sees_parameters_inside_a_checkpoint(backend):
    gdl.manual_seed(4)
    lin = nn.Linear(3, 3)
    x = gdl.randn(2, 3, requires_grad=True)

    def loss_of(y):
        return (y * y).sum() + (lin.weight * 2.0).sum()  # the weight is also used outside

    y = checkpoint(lin, x, use_reentrant=False)
    gw, gx = gdl.autograd.grad(loss_of(y), (lin.weight, x))
    assert lin.weight.grad is None and x.grad is None  # nothing accumulated
    ew, ex = gdl.autograd.grad(loss_of(lin(x)), (lin.weight, x))
    np.testing.assert_allclose(gw.numpy(), ew.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gx.numpy(), ex.numpy(), rtol=1e-6, atol=1e-6)
