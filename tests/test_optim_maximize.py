"""``maximize=True`` and PyTorch's other optimizer keywords (``foreach``, ``fused``,
``capturable``, ``differentiable``), on every optimizer, against a run on the negated
gradient; and, where PyTorch is installed, against PyTorch itself."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.optim as optim
from gdl.nn.parameter import Parameter

CONFIGS = {
    "SGD": dict(lr=0.1),
    "SGD-momentum": dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "Adam": dict(lr=0.01, weight_decay=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adadelta": dict(lr=1.0, weight_decay=0.01),
    "Adamax": dict(lr=0.01),
    "NAdam": dict(lr=0.01),
    "RAdam": dict(lr=0.01),
    "Rprop": dict(lr=0.01),
    "ASGD": dict(lr=0.01, t0=2),
}


def _make(name, params, **extra):
    cls = getattr(optim, name.split("-")[0])
    return cls(params, **CONFIGS[name], **extra)


def _gradients(steps, shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def _run(name, grads, sign, sparse=False, **extra):
    """Weights after one step per gradient in ``grads``, each multiplied by ``sign``."""
    w = Parameter(gdl.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), dtype=gdl.float64))
    opt = _make(name, [w], **extra)
    for g in grads:
        w.grad = gdl.tensor(sign * g, dtype=gdl.float64)
        opt.step()
    return w.detach().numpy()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_maximize_steps_along_the_gradient(backend, name):
    grads = _gradients(5, (2, 3))
    ascended = _run(name, grads, 1.0, maximize=True)
    descended_on_negation = _run(name, grads, -1.0)
    np.testing.assert_array_equal(ascended, descended_on_negation)
    assert not np.array_equal(ascended, _run(name, grads, 1.0))  # it does change the update


@pytest.mark.parametrize("name", list(CONFIGS))
def test_torch_hints_are_accepted_and_change_nothing(backend, name):
    grads = _gradients(3, (2, 3))
    plain = _run(name, grads, 1.0)
    hinted = _run(name, grads, 1.0, foreach=True, fused=None, capturable=False, differentiable=False)
    np.testing.assert_array_equal(plain, hinted)


@pytest.mark.parametrize("key", ["capturable", "differentiable"])
def test_unsupported_torch_options_are_refused(key):
    with pytest.raises(NotImplementedError, match=key):
        optim.Adam([Parameter(gdl.zeros(2))], **{key: True})


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'momentum_typo'"):
        optim.SGD([Parameter(gdl.zeros(2))], lr=0.1, momentum_typo=0.9)
    with pytest.raises(TypeError, match="foreach"):
        optim.SGD([Parameter(gdl.zeros(2))], lr=0.1, foreach="yes")
    with pytest.raises(TypeError, match="maximize must be a bool"):
        optim.SGD([Parameter(gdl.zeros(2))], lr=0.1, maximize=1)


def test_maximize_is_a_group_setting_saved_and_loaded():
    a, b = Parameter(gdl.ones(2)), Parameter(gdl.ones(2))
    opt = optim.SGD([{"params": [a], "maximize": True}, {"params": [b]}], lr=0.5)
    a.grad = gdl.ones(2)
    b.grad = gdl.ones(2)
    opt.step()
    assert a.tolist() == [1.5, 1.5] and b.tolist() == [0.5, 0.5]
    state = opt.state_dict()
    assert [g["maximize"] for g in state["param_groups"]] == [True, False]
    fresh = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.5)
    fresh.load_state_dict(state)
    assert [g["maximize"] for g in fresh.param_groups] == [True, False]


def test_maximize_with_a_sparse_gradient():
    emb = gdl.nn.Embedding(4, 2, sparse=True)
    start = emb.weight.detach().numpy().copy()
    opt = optim.SGD(emb.parameters(), lr=0.5, maximize=True)
    emb(gdl.tensor([1, 3])).sum().backward()
    opt.step()
    moved = emb.weight.detach().numpy() - start
    np.testing.assert_allclose(moved[[1, 3]], 0.5, rtol=1e-6)  # float32: w + 0.5 - w rounds
    np.testing.assert_array_equal(moved[[0, 2]], 0.0)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_maximize_matches_torch(name):
    torch = pytest.importorskip("torch")
    grads = _gradients(6, (2, 3), seed=1)
    ours = _run(name, grads, 1.0, maximize=True)
    tw = torch.nn.Parameter(torch.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3)))
    cls = getattr(torch.optim, name.split("-")[0])
    # PyTorch keeps NAdam's and ASGD's scalar state in its default dtype: make that float64
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        opt = cls([tw], **CONFIGS[name], maximize=True)
        for g in grads:
            tw.grad = torch.tensor(g)
            opt.step()
    finally:
        torch.set_default_dtype(old)
    np.testing.assert_allclose(ours, tw.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_a_torch_state_dict_with_maximize_and_its_switches_loads_as_is():
    torch = pytest.importorskip("torch")
    grads = _gradients(6, (2, 3), seed=2)
    start = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    tw = torch.nn.Parameter(torch.tensor(start))
    topt = torch.optim.Adam([tw], lr=0.01, maximize=True)
    for g in grads[:3]:
        tw.grad = torch.tensor(g)
        topt.step()
    sd = topt.state_dict()
    state = {i: {k: v.item() if k == "step" else v.numpy() for k, v in s.items()} for i, s in sd["state"].items()}
    w = Parameter(gdl.tensor(tw.detach().numpy()))
    opt = optim.Adam([w], lr=0.5)  # every setting comes from the state dict, foreach and all
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    assert opt.param_groups[0]["maximize"] is True and opt.param_groups[0]["lr"] == 0.01
    for g in grads[3:]:
        tw.grad = torch.tensor(g)
        topt.step()
        w.grad = gdl.tensor(g)
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
