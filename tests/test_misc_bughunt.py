"""Regression tests for bugs found by a bug hunt over the new optimizers, schedulers, data,
init/utils, autograd and in-place pieces (torch-free: they run in CI on every backend)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl.nn.utils import rnn


def _t(values, grad=True, shape=None):
    a = np.asarray(values, dtype=np.float64)
    if shape is not None:
        a = a.reshape(shape)
    return gdl.tensor(a, dtype=gdl.float64, requires_grad=grad)


# -- .grad arrays never share memory ------------------------------------------------------------


def test_grads_that_are_views_of_one_array_do_not_share_memory(backend):
    # add's backward hands the same array to both inputs; reshape's backward makes a view of
    # it, so x1.grad and x2.grad were two views of one buffer: zeroing one zeroed the other
    x1 = _t([1.0, 1.0, 1.0], shape=(1, 3))
    x2 = _t([1.0, 1.0, 1.0])
    (x1.reshape(3) + x2).backward(_t([1.0, 2.0, 3.0], grad=False))
    x1.grad.zero_()
    assert x2.grad.tolist() == [1.0, 2.0, 3.0]
    assert x1.grad.tolist() == [[0.0, 0.0, 0.0]]


def test_retained_grad_and_leaf_grad_do_not_share_memory(backend):
    x = _t([1.0, 1.0, 1.0, 1.0], shape=(2, 2))
    y = x.reshape(4)
    y.retain_grad()
    (y * _t([0.0, 1.0, 2.0, 3.0], grad=False)).sum().backward()
    x.grad.zero_()
    assert y.grad.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_function_backward_returning_views_of_one_gradient(backend):
    class AddFlat(gdl.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b.reshape(2)

        @staticmethod
        def backward(ctx, g):
            return g, g.reshape(1, 2)

    a = _t([1.0, 2.0])
    b = _t([1.0, 1.0], shape=(1, 2))
    AddFlat.apply(a, b).backward(_t([1.0, 1.0], grad=False))
    a.grad.zero_()
    assert b.grad.tolist() == [[1.0, 1.0]]


def test_leaf_grad_is_not_the_callers_gradient(backend):
    # x.backward(g) on a leaf put g's own array into x.grad: x.grad.mul_(5) changed g
    x = _t([1.0, 2.0])
    g = _t([1.0, 1.0], grad=False)
    x.backward(g)
    x.grad.mul_(5)
    assert g.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [5.0, 5.0]
    y = _t([1.0, 2.0])
    g2 = _t([1.0, 1.0], grad=False)
    y.reshape(2).backward(g2)  # the leaf gets a view of the caller's array
    y.grad.mul_(5)
    assert g2.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("how", ["function", "method"])
def test_backward_with_inputs_gives_each_input_its_own_grad(backend, how):
    a = _t([1.0, 1.0])
    b = _t([1.0, 1.0])
    if how == "function":
        gdl.autograd.backward([a + b], [_t([1.0, 1.0], grad=False)], inputs=[a, b])
    else:
        (a + b).backward(_t([1.0, 1.0], grad=False), inputs=[a, b])
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]


# -- autograd.grad and tensor hooks -----------------------------------------------------------------


def test_grad_of_a_hooked_non_leaf_alone_applies_its_hooks(backend):
    # PyTorch: a non-leaf whose node does not need to run (nothing below it is asked for)
    # gives its gradient after its hooks; before them only when its node must still run
    x = _t([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: g * 3.0)
    z = (y * y).sum()
    (gy,) = gdl.autograd.grad(z, y, retain_graph=True)
    assert gy.tolist() == [12.0, 24.0]
    gx, gy2 = gdl.autograd.grad(z, [x, y])
    assert gy2.tolist() == [4.0, 8.0]
    assert gx.tolist() == [24.0, 48.0]


# -- nn.utils.rnn ---------------------------------------------------------------------------------


def test_pad_packed_sequence_takes_a_numpy_int_total_length(backend):
    seqs = [_t([1.0, 2.0, 3.0], grad=False), _t([4.0], grad=False)]
    packed = rnn.pack_sequence(seqs)
    lengths = np.array([3, 1])
    padded, out_lengths = rnn.pad_packed_sequence(packed, batch_first=True, total_length=lengths.max() + 1)
    assert padded.shape == (2, 4)
    assert padded.tolist() == [[1.0, 2.0, 3.0, 0.0], [4.0, 0.0, 0.0, 0.0]]
    assert out_lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="total_length"):
        rnn.pad_packed_sequence(packed, total_length=np.int64(2))
