"""Second derivatives through the recurrent layers and cells (recomputed with differentiable
ops under create_graph=True) against PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn

torch = pytest.importorskip("torch")


def _pair(kind, *args, **kw):
    gdl.manual_seed(0)
    ours = getattr(nn, kind)(*args, **kw, dtype=gdl.float64)
    theirs = getattr(torch.nn, kind)(*args, **kw).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _penalty_grads(ours_out, theirs_out, xg, xt, ours, theirs):
    (gg,) = gdl.autograd.grad((ours_out * ours_out).sum(), xg, create_graph=True)
    (gt,) = torch.autograd.grad((theirs_out * theirs_out).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gg.detach().numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    a = gdl.autograd.grad((gg * gg).sum(), list(ours.parameters()) + [xg])
    b = torch.autograd.grad((gt * gt).sum(), list(theirs.parameters()) + [xt])
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_second_order_matches_torch(kind, bidirectional):
    ours, theirs = _pair(kind, 3, 4, num_layers=2, bidirectional=bidirectional)
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    xg, xt = gdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _penalty_grads(ours(xg)[0], theirs(xt)[0], xg, xt, ours, theirs)


def test_lstm_with_a_given_state_and_no_bias():
    ours, theirs = _pair("LSTM", 3, 4, bias=False, batch_first=True)
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.normal(size=(2, 4, 3)), rng.normal(size=(1, 2, 4)), rng.normal(size=(1, 2, 4))
    xg, xt = gdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    og, (hg, cg) = ours(xg, (gdl.tensor(h0), gdl.tensor(c0)))
    ot, (ht, ct) = theirs(xt, (torch.tensor(h0), torch.tensor(c0)))
    _penalty_grads(og + cg.sum(), ot + ct.sum(), xg, xt, ours, theirs)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_second_order_matches_torch(kind):
    ours, theirs = _pair(kind, 3, 4)
    x = np.random.default_rng(3).normal(size=(2, 3))
    xg, xt = gdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    og, ot = ours(xg), theirs(xt)
    if kind == "LSTMCell":
        og, ot = og[0] * og[1], ot[0] * ot[1]
    _penalty_grads(og, ot, xg, xt, ours, theirs)


def test_the_graph_path_first_gradient_equals_the_fused_one():
    gdl.manual_seed(4)
    lstm = nn.LSTM(3, 5, dtype=gdl.float64)
    x = gdl.randn(6, 2, 3, dtype=gdl.float64, requires_grad=True)
    lstm(x)[0].pow(2).sum().backward()
    fused = [p.grad.numpy() for p in lstm.parameters()] + [x.grad.numpy()]
    graph = gdl.autograd.grad(lstm(x)[0].pow(2).sum(), list(lstm.parameters()) + [x], create_graph=True)
    for a, b in zip(graph, fused):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-14)
