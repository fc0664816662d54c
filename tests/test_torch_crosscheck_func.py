"""gdl.func against torch.func: functional_call + grad on the same weights, vjp and jacrev."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.func as tf  # noqa: E402

import gdl  # noqa: E402
import gdl.func as gf  # noqa: E402


def _pair():
    gdl.manual_seed(0)
    ours = gdl.nn.Sequential(gdl.nn.Linear(3, 5), gdl.nn.Tanh(), gdl.nn.Linear(5, 2)).to(dtype=gdl.float64)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_grad_of_functional_call_matches_torch_func():
    ours, theirs = _pair()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    new = {k: rng.normal(size=tuple(v.shape)) for k, v in ours.state_dict().items()}

    def loss_ours(p):
        return ((gf.functional_call(ours, p, (gdl.tensor(x),)) - gdl.tensor(y)) ** 2).mean()

    def loss_theirs(p):
        return ((tf.functional_call(theirs, p, (torch.tensor(x),)) - torch.tensor(y)) ** 2).mean()

    g_ours, v_ours = gf.grad_and_value(loss_ours)({k: gdl.tensor(v) for k, v in new.items()})
    g_theirs, v_theirs = tf.grad_and_value(loss_theirs)({k: torch.tensor(v) for k, v in new.items()})
    assert v_ours.item() == pytest.approx(v_theirs.item(), rel=1e-13)
    for k in new:
        np.testing.assert_allclose(g_ours[k].numpy(), g_theirs[k].numpy(), rtol=1e-12, atol=1e-14)


def test_vjp_and_jacrev_match_torch_func():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def f_ours(x, w):
        return (x @ w).sin() * x.sum()

    def f_theirs(x, w):
        return (x @ w).sin() * x.sum()

    out_o, fn_o = gf.vjp(f_ours, gdl.tensor(a), gdl.tensor(b))
    out_t, fn_t = tf.vjp(f_theirs, torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(out_o.numpy(), out_t.numpy(), rtol=1e-14)
    v = rng.normal(size=(3,))
    for g_o, g_t in zip(fn_o(gdl.tensor(v)), fn_t(torch.tensor(v))):
        np.testing.assert_allclose(g_o.numpy(), g_t.numpy(), rtol=1e-12, atol=1e-14)
    j_o = gf.jacrev(f_ours, argnums=(0, 1))(gdl.tensor(a), gdl.tensor(b))
    j_t = tf.jacrev(f_theirs, argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    for x, y in zip(j_o, j_t):
        assert x.shape == tuple(y.shape)
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-14)
