"""gdl.func: functional_call, grad, grad_and_value, vjp and jacrev, on every test backend
(tests/test_torch_crosscheck_func.py compares with torch.func)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.func import functional_call, grad, grad_and_value, jacrev, vjp


def _net():
    gdl.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_functional_call_uses_the_given_tensors_and_restores_the_module(backend):
    net = _net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    x = gdl.randn(5, 3)
    zeros = {name: gdl.zeros_like(p.detach()) for name, p in net.named_parameters()}
    out = functional_call(net, zeros, (x,))
    assert out.shape == (5, 2) and np.all(out.numpy() == 0)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    np.testing.assert_allclose(functional_call(net, {}, x).numpy(), net(x).numpy())


def test_functional_call_gradients_reach_the_given_tensors_only(backend):
    net = _net()
    params = {name: p.detach().requires_grad_(True) for name, p in net.named_parameters()}
    functional_call(net, params, gdl.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in params.values())
    assert all(p.grad is None for p in net.parameters())


def test_functional_call_split_dicts_strict_and_errors(backend):
    lin = nn.Linear(2, 2)
    x = gdl.ones(1, 2)
    out = functional_call(lin, ({"weight": gdl.zeros(2, 2)}, {"bias": gdl.ones(2)}), x)
    assert out.tolist() == [[1.0, 1.0]]
    with pytest.raises(ValueError, match="multiple dictionaries"):
        functional_call(lin, ({"weight": gdl.zeros(2, 2)}, {"weight": gdl.ones(2, 2)}), x)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        functional_call(lin, {"weight": gdl.zeros(2, 2)}, x, strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'foo'"):
        functional_call(lin, {"weight": gdl.zeros(2, 2), "bias": gdl.ones(2), "foo": gdl.ones(1)}, x, strict=True)
    functional_call(lin, {"foo": gdl.ones(1)}, x)  # not strict: unknown names are ignored
    with pytest.raises(TypeError, match="must be a Tensor"):
        functional_call(lin, {"weight": [[0.0, 0.0], [0.0, 0.0]]}, x)
    with pytest.raises(TypeError, match="dict or a tuple of dicts"):
        functional_call(lin, [1, 2], x)


def test_functional_call_restores_after_an_error(backend):
    lin = nn.Linear(2, 2)
    w = lin.weight
    with pytest.raises(ValueError):
        functional_call(lin, {"weight": gdl.zeros(3, 3)}, gdl.ones(1, 2))
    assert lin.weight is w


def test_functional_call_ties_shared_weights(backend):
    emb = nn.Embedding(5, 3)
    head = nn.Linear(3, 5, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, head)
    new = gdl.ones(5, 3)
    out = functional_call(model, {"0.weight": new}, gdl.tensor([1, 2]))
    np.testing.assert_allclose(out.numpy(), np.full((2, 5), 3.0))  # the head used the new weight too
    out = functional_call(model, {"0.weight": new}, gdl.tensor([1, 2]), tie_weights=False)
    np.testing.assert_allclose(out.numpy(), np.ones((2, 3)) @ emb.weight.numpy().T, rtol=1e-6)


def test_functional_call_with_buffers_and_kwargs(backend):
    bn = nn.BatchNorm1d(2)
    bn.eval()
    x = gdl.tensor([[1.0, 2.0]])
    out = functional_call(bn, {"running_mean": gdl.tensor([1.0, 2.0])}, args=(x,))
    np.testing.assert_allclose(out.numpy(), [[0.0, 0.0]], atol=1e-6)

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(gdl.ones(1))

        def forward(self, x, *, times=1):
            return x * self.s * times

    assert functional_call(Scale(), {"s": gdl.tensor([2.0])}, (gdl.ones(1),), {"times": 3}).tolist() == [6.0]


def test_grad_of_a_loss_with_respect_to_a_dict_of_parameters(backend):
    net = _net()
    x, y = gdl.randn(6, 3), gdl.randn(6, 2)
    params = {name: p.detach() for name, p in net.named_parameters()}

    def loss(p):
        return ((functional_call(net, p, (x,)) - y) ** 2).mean()

    grads, value = grad_and_value(loss)(params)
    net.zero_grad()
    ref = ((net(x) - y) ** 2).mean()
    ref.backward()
    assert set(grads) == set(params)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(grads[name].numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert value.item() == pytest.approx(ref.item())
    assert not value.requires_grad and all(p.grad is None for p in params.values())


def test_grad_argnums_has_aux_and_structures(backend):
    f = lambda a, b: (a * b).sum() + (a ** 2).sum()  # noqa: E731
    a, b = gdl.tensor([1.0, 2.0]), gdl.tensor([3.0, 4.0])
    assert grad(f)(a, b).tolist() == [5.0, 8.0]
    ga, gb = grad(f, argnums=(0, 1))(a, b)
    assert ga.tolist() == [5.0, 8.0] and gb.tolist() == [1.0, 2.0]
    assert grad(f, argnums=-1)(a, b).tolist() == [1.0, 2.0]
    g, aux = grad(lambda t: ((t ** 2).sum(), "note"), has_aux=True)(a)
    assert g.tolist() == [2.0, 4.0] and aux == "note"
    tree = grad(lambda p: p["w"][0].sum() * p["w"][1].sum())({"w": (a, b)})
    assert isinstance(tree["w"], tuple) and tree["w"][0].tolist() == [7.0, 7.0] and tree["w"][1].tolist() == [3.0, 3.0]
    assert grad(lambda t, u: u.sum())(a, b).tolist() == [0.0, 0.0]  # unused: zeros


def test_grad_errors(backend):
    a = gdl.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="single element"):
        grad(lambda t: t * 2)(a)
    with pytest.raises(TypeError, match="floating-point"):
        grad(lambda t: t.sum())(gdl.tensor([1, 2]))
    with pytest.raises(ValueError, match="out of range"):
        grad(lambda t: t.sum(), argnums=2)(a)
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda t: t.sum(), argnums=())(a)
    with pytest.raises(TypeError, match="has_aux=True"):
        grad(lambda t: t.sum(), has_aux=True)(a)
    with pytest.raises(TypeError, match="dicts, lists or tuples"):
        grad(lambda t: t.sum())(3.0)


def test_vjp_and_jacrev(backend):
    x = gdl.tensor([1.0, 2.0, 3.0], dtype=gdl.float64)
    out, vjp_fn = vjp(lambda t: t ** 3, x)
    assert out.tolist() == [1.0, 8.0, 27.0] and not out.requires_grad
    (g,) = vjp_fn(gdl.tensor([1.0, 0.0, 2.0], dtype=gdl.float64))
    assert g.tolist() == [3.0, 0.0, 54.0]
    (g2,) = vjp_fn(gdl.ones(3, dtype=gdl.float64))  # callable again
    assert g2.tolist() == [3.0, 12.0, 27.0]
    with pytest.raises(ValueError, match="cotangents"):
        vjp_fn(gdl.ones(2, dtype=gdl.float64))
    W = gdl.tensor(np.arange(6.0).reshape(2, 3))
    J = jacrev(lambda t: W @ t.tanh())(x)
    want = W.numpy() * (1 - np.tanh(x.numpy()) ** 2)[None, :]
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J.numpy(), want, rtol=1e-12)
    Jx, Jw = jacrev(lambda t, w: w @ t, argnums=(0, 1))(x, W)
    assert Jx.shape == (2, 3) and Jw.shape == (2, 2, 3)
    np.testing.assert_allclose(Jx.numpy(), W.numpy())
    np.testing.assert_allclose(Jw.numpy()[1, 1], x.numpy())
    np.testing.assert_allclose(Jw.numpy()[1, 0], 0.0)


def test_transforms_nest_for_second_derivatives(backend):
    x = gdl.tensor([0.5, -1.0, 2.0], dtype=gdl.float64)
    f = lambda t: (t ** 3).sum() + (t[0] * t[1])  # noqa: E731
    second = grad(lambda t: grad(f)(t).sum())(x)  # Σ_j ∂²f/∂x_i∂x_j
    H = np.diag(6 * x.numpy())
    H[0, 1] = H[1, 0] = 1.0
    np.testing.assert_allclose(second.numpy(), H.sum(axis=1), rtol=1e-12)
    from gdl.func import hessian

    np.testing.assert_allclose(hessian(f)(x).numpy(), H, rtol=1e-12)
    np.testing.assert_allclose(jacrev(grad(f))(x).numpy(), H, rtol=1e-12)
    assert not x.requires_grad  # the transforms leave their inputs alone
