"""Module, Parameter, Sequential and ModuleList: registration, traversal, modes,
backends, state dicts and printing. Names and layouts follow PyTorch's."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
from gdl import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 2)
        self.scale = 3.0  # plain attribute: not registered
        self.note = gdl.zeros(2)  # plain tensor: neither parameter nor buffer
        self.helpers = [nn.Linear(2, 2)]  # a plain list is not registered (as in PyTorch)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


class WithOwnParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(gdl.ones(3))
        self.block = nn.Sequential(nn.Linear(3, 3), nn.Tanh())

    def forward(self, x):
        return self.block(x * self.alpha)


def _model():
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 4), nn.Tanh()), nn.Linear(4, 2))


# -- registration and names --------------------------------------------------------------


def test_attribute_assignment_registers_parameters_and_submodules(backend):
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    assert net.scale == 3.0 and net.note.shape == (2,)
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert all(p.requires_grad for p in net.parameters())
    # the parameters are the layers' own objects
    assert net.hidden.weight is dict(net.named_parameters())["hidden.weight"]


def test_own_parameter_and_nested_sequential_keys(backend):
    m = WithOwnParameter()
    assert [n for n, _ in m.named_parameters()] == ["alpha", "block.0.weight", "block.0.bias"]
    assert list(m.state_dict()) == ["alpha", "block.0.weight", "block.0.bias"]


def test_nested_sequential_uses_pytorch_keys(backend):
    model = _model()
    keys = ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight", "3.bias"]
    assert [n for n, _ in model.named_parameters()] == keys
    assert list(model.state_dict()) == keys
    assert model.state_dict()["0.weight"].shape == (5, 3)  # (out_features, in_features)
    assert model.state_dict()["2.0.bias"].shape == (4,)


def test_reassigning_and_deleting_attributes(backend):
    net = Net()
    net.out = nn.Linear(8, 3)  # replacing a submodule keeps its place
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    net.hidden.weight = nn.Parameter(gdl.zeros(8, 4))  # so does replacing a parameter
    assert list(net.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert net.out.out_features == 3
    assert dict(net.named_parameters())["out.weight"].shape == (3, 8)
    net.out = None  # replaced by a plain value: no longer a submodule
    assert [n for n, _ in net.named_children()] == ["hidden"]
    assert net.out is None
    del net.hidden
    assert list(net.named_parameters()) == []
    with pytest.raises(AttributeError, match="hidden"):
        _ = net.hidden


def test_attributes_always_read_what_is_registered(backend):
    """Registered entries are mirrored in ``__dict__`` (fast reads); every change keeps them in step."""
    net = Net()
    first = net.hidden.weight
    assert net.hidden.weight is net.hidden._parameters["weight"] and net.out is net._modules["out"]
    replacement = nn.Parameter(gdl.zeros(8, 4))
    net.hidden.weight = replacement
    assert net.hidden.weight is replacement is net.hidden._parameters["weight"] and first is not replacement
    with pytest.raises(TypeError, match="cannot assign a Tensor as parameter 'weight'"):
        net.hidden.weight = gdl.ones(2)  # a plain tensor on a parameter's name: refused, as in PyTorch
    assert net.hidden.weight is replacement is net.hidden._parameters["weight"]
    del net.hidden.weight
    net.hidden.weight = gdl.ones(2)  # after del, a plain attribute
    assert "weight" not in net.hidden._parameters and float(net.hidden.weight.sum().item()) == 2.0
    net.add_module("extra", nn.Tanh())
    assert net.extra is net._modules["extra"]
    del net.extra
    assert "extra" not in net._modules and not hasattr(net, "extra")
    net.register_buffer("count", gdl.zeros(1))
    net.count = net.count + 1.0
    assert net.count is net._buffers["count"] and float(net.count.item()) == 1.0
    # a name the class defines (here a method) keeps meaning the method
    net.add_module("train", nn.Tanh())
    assert callable(net.train) and net.train(False) is net and not net.training
    assert net._modules["train"].__class__ is nn.Tanh


def test_bias_false_registers_no_bias(backend):
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]


def test_assigning_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(gdl.zeros(1))


def test_missing_attribute_error_names_it():
    with pytest.raises(AttributeError, match="nothing_here"):
        _ = nn.Linear(2, 2).nothing_here


def test_parameter_is_a_trainable_leaf(backend):
    p = nn.Parameter(gdl.zeros(3, 2))
    assert isinstance(p, gdl.Tensor) and p.requires_grad and p.is_leaf
    assert p.backend == backend
    assert repr(p).startswith("Parameter containing:\n")
    frozen = nn.Parameter(gdl.zeros(2), requires_grad=False)
    assert not frozen.requires_grad


# -- shared parameters and modules ---------------------------------------------------------


def test_shared_parameter_counted_once(backend):
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight  # tie the weights
    model = nn.Sequential(a, nn.Tanh(), b)
    params = list(model.parameters())
    assert len(params) == 3  # weight once, two biases
    assert sum(p.numel() for p in params) == 16 + 4 + 4
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]


def test_shared_module_counted_once_and_gradients_accumulate(backend):
    layer = nn.Linear(3, 3, dtype=gdl.float64)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3  # Sequential, Linear, Tanh
    x = gdl.randn(2, 3, dtype=gdl.float64)
    model(x).sum().backward()
    w, bvec = layer.weight.numpy(), layer.bias.numpy()
    xn = x.numpy()
    h = np.tanh(xn @ w.T + bvec)
    # d/dW of sum(W h + b) (second use) + first use through tanh
    g2 = np.ones((2, 3))
    gw2 = g2.T @ h
    gh = (g2 @ w) * (1 - h**2)
    gw1 = gh.T @ xn
    np.testing.assert_allclose(layer.weight.grad.numpy(), gw1 + gw2, rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g2.sum(0) + gh.sum(0), rtol=1e-10)


# -- traversal ------------------------------------------------------------------------------


def test_children_and_modules(backend):
    model = _model()
    children = list(model.children())
    assert [type(c).__name__ for c in children] == ["Linear", "ReLU", "Sequential", "Linear"]
    mods = list(model.named_modules())
    assert [n for n, _ in mods] == ["", "0", "1", "2", "2.0", "2.1", "3"]
    assert mods[0][1] is model
    assert list(model.modules())[4] is model[2][0]


def test_apply_visits_every_module(backend):
    model = _model()
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert sorted(seen) == sorted(["Sequential", "Linear", "ReLU", "Sequential", "Linear", "Tanh", "Linear"])

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(zero_linear)
    assert all(float(abs(m.weight).sum().item()) == 0.0 for m in model.modules() if isinstance(m, nn.Linear))


def test_sequential_container_behaviour(backend):
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    assert list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    x = gdl.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), c(b(a(x))).numpy(), rtol=1e-6)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]


def test_module_list_registers_its_items(backend):
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 3))
    layers.extend([nn.Tanh()])
    assert len(layers) == 4 and isinstance(layers[3], nn.Tanh)
    assert [n for n, _ in layers.named_parameters()] == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias",
    ]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 3

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    s = Stack()
    assert list(s.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert s(gdl.zeros(1, 2)).shape == (1, 2)


def test_module_dict_behaves_like_a_dict(backend):
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    d = nn.ModuleDict({"fc": a, "act": b})
    assert len(d) == 2 and list(d) == ["fc", "act"] and d["fc"] is a and d.act is b
    assert "fc" in d and "out" not in d and 0 not in d
    assert list(d.keys()) == ["fc", "act"] and list(d.values()) == [a, b] and list(d.items()) == [("fc", a), ("act", b)]
    d["out"] = c
    d.update([("act", nn.Tanh()), ["extra", nn.Identity()]])  # overwrites keep their place
    assert list(d) == ["fc", "act", "out", "extra"] and isinstance(d["act"], nn.Tanh)
    d.update(nn.ModuleDict({"z": nn.ReLU()}))
    assert d.pop("extra").__class__ is nn.Identity and "extra" not in d
    del d["z"]
    assert list(d) == ["fc", "act", "out"]
    with pytest.raises(KeyError):
        d["missing"]
    with pytest.raises(KeyError):
        d.pop("missing")
    assert not hasattr(d, "z")  # a deleted entry is gone as an attribute too
    assert [n for n, _ in d.named_parameters()] == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == [] and list(d.state_dict()) == []
    assert not hasattr(d, "fc")
    with pytest.raises(NotImplementedError):
        d(gdl.zeros(1, 2))


def test_module_dict_state_dict_keys_and_round_trip(backend):
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Linear(3, 4)
            self.heads = nn.ModuleDict([("cls", nn.Linear(4, 2)), ("box", nn.Sequential(nn.Linear(4, 4)))])

        def forward(self, x, head):
            return self.heads[head](self.trunk(x))

    m = Heads()
    assert list(m.state_dict()) == [
        "trunk.weight", "trunk.bias", "heads.cls.weight", "heads.cls.bias", "heads.box.0.weight", "heads.box.0.bias",
    ]
    assert m(gdl.zeros(5, 3), "cls").shape == (5, 2)
    m2 = Heads()
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m2.heads["box"][0].weight.numpy(), m.heads["box"][0].weight.numpy())
    m.eval()
    assert not m.heads["cls"].training


def test_module_dict_keys_are_checked_as_pytorch_does(backend):
    d = nn.ModuleDict()
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        d["training"] = nn.ReLU()  # would otherwise clobber the mode flag
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        d["keys"] = nn.ReLU()
    with pytest.raises(KeyError, match=r"contain no '\.'"):
        d["a.b"] = nn.ReLU()
    with pytest.raises(KeyError, match="non-empty"):
        d[""] = nn.ReLU()
    with pytest.raises(TypeError, match="name must be a str, got int"):
        d[1] = nn.ReLU()
    with pytest.raises(TypeError, match="child 'x' must be a Module or None, got int"):
        d["x"] = 3
    with pytest.raises(TypeError, match="ModuleDict.update: expected a mapping"):
        nn.ModuleDict(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="element #0 must be a \\(name, module\\) pair"):
        nn.ModuleDict([nn.ReLU()])
    with pytest.raises(ValueError, match="element #1 has length 3"):
        nn.ModuleDict([("a", nn.ReLU()), ("b", nn.ReLU(), 3)])
    with pytest.raises(KeyError, match="non-empty"):
        nn.Sequential(OrderedDict([("", nn.ReLU())]))
    assert len(d) == 0


# -- modes and gradients ----------------------------------------------------------------


def test_train_eval_propagate_to_every_submodule(backend):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model[1][0].training


def test_eval_changes_behaviour_of_nested_dropout(backend):
    model = nn.Sequential(nn.Sequential(nn.Dropout(0.5)))
    x = gdl.ones(1000)
    assert (model(x).numpy() == 0).sum() > 300
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), np.ones(1000, dtype=np.float32))


def test_zero_grad(backend):
    model = _model()
    model(gdl.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert any(float(abs(p.grad).sum().item()) > 0 for p in model.parameters())
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad is not None and p.grad.shape == p.shape
        assert not np.any(p.grad.numpy())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_until_zero_grad(backend):
    layer = nn.Linear(3, 2, dtype=gdl.float64)
    x = gdl.randn(5, 3, dtype=gdl.float64)
    layer(x).sum().backward()
    once = layer.weight.grad.numpy()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * once)
    layer.zero_grad()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), once)


def test_requires_grad_false_freezes(backend):
    model = _model()
    model[0].requires_grad_(False)
    model(gdl.randn(2, 3)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[3].weight.grad is not None


# -- backends and dtypes -------------------------------------------------------------------


@pytest.mark.parametrize("src,dst", [("numpy", "array_api_strict"), ("array_api_strict", "numpy")])
def test_to_backend_moves_every_parameter_and_buffer_in_place(src, dst):
    if not (gdl.is_usable(src) and gdl.is_usable(dst)):
        pytest.skip("backend not usable")
    with gdl.use_backend(src):
        gdl.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))
        x_np = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
        model(gdl.tensor(x_np)).sum().backward()  # also updates running stats
        model.eval()
        before = model(gdl.tensor(x_np)).numpy()
        params_before = list(model.parameters())
        grads_before = [p.grad.numpy() for p in params_before]
        state_before = {k: v.numpy() for k, v in model.state_dict().items()}
    assert model.to(dst) is model
    assert list(model.parameters()) == params_before  # the same objects (optimizers keep them)
    for p, g in zip(model.parameters(), grads_before):
        assert p.backend == dst and p.grad.backend == dst
        np.testing.assert_array_equal(p.grad.numpy(), g)
    assert all(b.backend == dst for b in model.buffers())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state_before[k])
    after = model(gdl.tensor(x_np, backend=dst))
    assert after.backend == dst
    np.testing.assert_allclose(after.numpy(), before, rtol=1e-5, atol=1e-6)
    # the model's old backend is now an error, naming both backends
    with pytest.raises(ValueError, match=f"{src}.*{dst}|{dst}.*{src}"):
        model(gdl.tensor(x_np, backend=src))


def test_to_dtype_casts_floating_state_only(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model.to(dtype=gdl.float64)
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            assert t.dtype == gdl.int64
        else:
            assert t.dtype == gdl.float64, name
    out = model(gdl.randn(4, 2, dtype=gdl.float64))
    assert out.dtype == gdl.float64
    model.to(dtype=gdl.float32)
    assert model[0].weight.dtype == gdl.float32


# -- state dicts ------------------------------------------------------------------------


def test_state_dict_values_are_detached_tensors(backend):
    model = _model()
    sd = model.state_dict()
    for k, v in sd.items():
        assert isinstance(v, gdl.Tensor) and not v.requires_grad, k
    np.testing.assert_array_equal(sd["3.weight"].numpy(), model[3].weight.numpy())


def test_load_state_dict_round_trip(backend):
    gdl.manual_seed(1)
    src = _model()
    gdl.manual_seed(2)
    dst = _model()
    x = gdl.randn(5, 3)
    assert not np.allclose(src(x).numpy(), dst(x).numpy())
    missing, unexpected = dst.load_state_dict(src.state_dict())
    assert list(missing) == [] and list(unexpected) == []
    np.testing.assert_array_equal(dst(x).numpy(), src(x).numpy())
    # values were copied: changing the source does not change the destination
    nn.init.zeros_(src[0].weight)
    assert np.any(dst[0].weight.numpy())
    # and parameters are still trainable Parameters
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in dst.parameters())


def test_load_state_dict_from_numpy_arrays_and_other_backend(backend):
    model = _model()
    arrays = {k: np.full(v.shape, 0.5, dtype=np.float64) for k, v in model.state_dict().items()}
    model.load_state_dict(arrays)  # host (NumPy) arrays load onto any backend
    for k, v in model.state_dict().items():
        assert v.dtype == gdl.float32 and v.backend == backend  # cast to the parameter's own dtype
        np.testing.assert_array_equal(v.numpy(), arrays[k].astype(np.float32))
    other = "array_api_strict" if backend == "numpy" else "numpy"
    if not gdl.is_usable(other):
        return
    with gdl.use_backend(other):
        gdl.manual_seed(5)
        foreign = _model()
    model.load_state_dict(foreign.state_dict())
    for (_, v), (_, f) in zip(model.state_dict().items(), foreign.state_dict().items()):
        assert v.backend == backend
        np.testing.assert_array_equal(v.numpy(), f.numpy())


def test_load_state_dict_strict_lists_missing_and_unexpected_keys(backend):
    model = _model()
    sd = model.state_dict()
    del sd["2.0.bias"]
    sd["9.weight"] = gdl.zeros(2, 2)
    with pytest.raises(KeyError) as info:
        model.load_state_dict(sd)
    msg = str(info.value)
    assert "missing" in msg and "2.0.bias" in msg
    assert "unexpected" in msg and "9.weight" in msg
    only_missing = model.state_dict()
    del only_missing["0.weight"]
    with pytest.raises(KeyError, match="0.weight"):
        model.load_state_dict(only_missing)
    # a failed strict load changes nothing
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    changed = {k: v * 0.0 for k, v in model.state_dict().items()}
    changed["extra"] = gdl.zeros(1)
    with pytest.raises(KeyError, match="extra"):
        model.load_state_dict(changed)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_loads_what_matches(backend):
    model = _model()
    sd = {k: v * 0.0 for k, v in model.state_dict().items()}
    del sd["3.bias"]
    sd["head.weight"] = gdl.zeros(1)
    keep = model[3].bias.numpy().copy()
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert list(missing) == ["3.bias"] and list(unexpected) == ["head.weight"]
    assert not np.any(model[0].weight.numpy())
    np.testing.assert_array_equal(model[3].bias.numpy(), keep)


def test_load_state_dict_wrong_shape_lists_key_and_shapes(backend):
    model = _model()
    sd = model.state_dict()
    sd["0.weight"] = gdl.zeros(3, 5)  # transposed layout
    with pytest.raises(ValueError) as info:
        model.load_state_dict(sd)
    msg = str(info.value)
    assert "0.weight" in msg and "(5, 3)" in msg and "(3, 5)" in msg
    with pytest.raises(ValueError, match="0.weight"):
        model.load_state_dict(sd, strict=False)


def test_batchnorm_buffers_in_state_dict_and_restored(backend):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias",
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    for _ in range(3):
        model(gdl.randn(8, 3) * 2.0 + 1.0)
    sd = model.state_dict()
    assert int(sd["1.num_batches_tracked"].item()) == 3
    assert not np.allclose(sd["1.running_mean"].numpy(), 0.0)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(sd)
    model.eval()
    fresh.eval()
    x = gdl.randn(5, 3)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
    np.testing.assert_array_equal(fresh[1].running_var.numpy(), model[1].running_var.numpy())


def test_register_buffer_and_non_persistent_buffers(backend):
    class WithBuffers(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", gdl.zeros(1))
            self.register_buffer("cache", gdl.ones(2), persistent=False)
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x) * self.cache

    m = WithBuffers()
    m.steps = m.steps + 1.0  # reassigning keeps it a buffer
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    assert list(m.state_dict()) == ["steps", "lin.weight", "lin.bias"]
    assert float(m.state_dict()["steps"].item()) == 1.0
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    m.to(dtype=gdl.float64)
    assert m.steps.dtype == gdl.float64 and m.cache.dtype == gdl.float64


def _mlp(widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=5), seed=st.integers(0, 2**16))
def test_random_mlps_count_parameters_and_round_trip(backend, widths, seed):
    gdl.manual_seed(seed)
    model = _mlp(widths)
    expected = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    assert sum(p.numel() for p in model.parameters()) == expected
    assert list(model.state_dict()) == [f"{2 * i}.{k}" for i in range(len(widths) - 1) for k in ("weight", "bias")]
    gdl.manual_seed(seed + 1)
    copy = _mlp(widths)
    copy.load_state_dict(model.state_dict())
    x = gdl.randn(3, widths[0])
    np.testing.assert_array_equal(copy(x).numpy(), model(x).numpy())


# -- printing -------------------------------------------------------------------------------


def test_repr_prints_the_module_tree(backend):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 4, bias=False), nn.Dropout(0.25)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=5, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=5, out_features=4, bias=False)\n"
        "    (1): Dropout(p=0.25)\n"
        "  )\n"
        ")"
    )
    text = repr(Net())
    assert text.startswith("Net(\n  (hidden): Linear(in_features=4, out_features=8, bias=True)")
    assert "(out): Linear(in_features=8, out_features=2, bias=True)" in text
    for layer, shown in [
        (nn.Embedding(10, 3), "Embedding(10, 3)"),
        (nn.LayerNorm(6), "LayerNorm((6,), eps=1e-05)"),
        (nn.BatchNorm1d(4), "BatchNorm1d(4, eps=1e-05, momentum=0.1)"),
        (nn.Softmax(dim=1), "Softmax(dim=1)"),
        (nn.Identity(), "Identity()"),
    ]:
        assert repr(layer) == shown


def test_deepcopy_gives_an_independent_model(backend):
    """``copy.deepcopy(model)`` (federated learning, snapshots): same values, separate storage."""
    import copy

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))
    x = gdl.randn(5, 3)
    model(x).sum().backward()
    clone = copy.deepcopy(model)
    assert type(clone[0].weight) is nn.Parameter and clone[0].weight.requires_grad
    assert clone[0].weight is clone[0]._parameters["weight"] and clone[0].weight is not model[0].weight
    for (name, a), (_, b) in zip(model.state_dict().items(), clone.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert np.array_equal(clone[0].weight.grad.numpy(), model[0].weight.grad.numpy())
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = gdl.optim.SGD(clone.parameters(), lr=0.5)
    clone(x).sum().backward()
    opt.step()
    assert not np.array_equal(clone[0].weight.numpy(), before["0.weight"])
    for k, v in model.state_dict().items():  # the original is untouched
        assert np.array_equal(v.numpy(), before[k]), k


def test_deepcopy_refuses_a_tensor_made_by_an_op(backend):
    import copy

    w = gdl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        copy.deepcopy(w * 2)
    assert np.array_equal(copy.deepcopy((w * 2).detach()).numpy(), [2.0, 2.0, 2.0])


def test_pickle_round_trip_of_a_module():
    import pickle

    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    back = pickle.loads(pickle.dumps(model))
    assert back[0].weight._backend is model[0].weight._backend  # the process's own backend object
    x = gdl.randn(2, 3)
    assert np.array_equal(back(x).detach().numpy(), model(x).detach().numpy())


def test_load_state_dict_hooks(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    seen = []

    def rename(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        seen.append((type(module).__name__, prefix, strict))
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    handle = model[1].register_load_state_dict_pre_hook(rename)
    after = []
    model[1].register_load_state_dict_post_hook(lambda m, keys: after.append((keys.missing_keys, keys.unexpected_keys)))
    state = {k: v + 1 for k, v in model.state_dict().items()}
    state["1.w"] = state.pop("1.weight")
    assert model.load_state_dict(state) == ([], [])
    assert seen == [("Linear", "1.", True)] and after == [([], [])]
    np.testing.assert_array_equal(model[1].weight.numpy(), state["1.w"].numpy())  # the caller's dict is unchanged
    handle.remove()
    with pytest.raises(KeyError, match=r"missing keys \['1.weight'\], unexpected keys \['1.w'\]"):
        model.load_state_dict(state)
    model[0].register_load_state_dict_pre_hook(lambda m, sd, prefix, *rest: rest[-1].append(f"{prefix}: refused"))
    with pytest.raises(RuntimeError, match="0.: refused"):
        model.load_state_dict(model.state_dict())
    assert not model[0]._has_hooks  # load hooks leave the forward call's fast path alone
