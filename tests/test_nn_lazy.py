"""Lazy layers (gdl.nn.lazy): they read their input size from the first input and become the
ordinary layer, initialised as that layer is. On every test backend; torch where installed."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn

CASES = [
    ("LazyLinear", "Linear", (3,), {}, (4, 6), 6),
    ("LazyConv1d", "Conv1d", (4, 3), {"padding": 1}, (2, 5, 9), 5),
    ("LazyConv2d", "Conv2d", (4, 3), {"stride": 2}, (2, 3, 8, 8), 3),
    ("LazyConv3d", "Conv3d", (2, 2), {}, (1, 3, 4, 4, 4), 3),
    ("LazyConvTranspose1d", "ConvTranspose1d", (4, 3), {}, (2, 5, 6), 5),
    ("LazyConvTranspose2d", "ConvTranspose2d", (2, 3), {"groups": 1}, (1, 3, 4, 4), 3),
    ("LazyConvTranspose3d", "ConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3), 3),
    ("LazyBatchNorm1d", "BatchNorm1d", (), {"momentum": 0.2}, (8, 5), 5),
    ("LazyBatchNorm2d", "BatchNorm2d", (), {}, (4, 3, 2, 2), 3),
    ("LazyBatchNorm3d", "BatchNorm3d", (), {}, (2, 3, 2, 2, 2), 3),
    ("LazyInstanceNorm1d", "InstanceNorm1d", (), {"affine": True, "track_running_stats": True}, (2, 4, 6), 4),
    ("LazyInstanceNorm2d", "InstanceNorm2d", (), {"affine": True, "track_running_stats": True}, (4, 5, 5), 4),  # unbatched (C, H, W)
    ("LazyInstanceNorm3d", "InstanceNorm3d", (), {"affine": True, "track_running_stats": True}, (2, 3, 2, 2, 2), 3),
]


@pytest.mark.parametrize("lazy_name,real_name,args,kwargs,shape,size", CASES)
def test_lazy_layer_becomes_the_real_one_with_the_same_initial_values(backend, lazy_name, real_name, args, kwargs,
                                                                     shape, size):
    x = gdl.randn(*shape, dtype=gdl.float64)
    gdl.manual_seed(11)
    lazy = getattr(nn, lazy_name)(*args, dtype=gdl.float64, **kwargs)
    assert list(lazy.parameters()) == [] and lazy.has_uninitialized_params()
    out = lazy(x)
    gdl.manual_seed(11)
    real = getattr(nn, real_name)(size, *args, dtype=gdl.float64, **kwargs)
    np.testing.assert_allclose(out.numpy(), real(x).numpy(), rtol=1e-12)
    assert type(lazy) is type(real) and repr(lazy) == repr(real)
    assert not hasattr(lazy, "has_uninitialized_params")
    ours, theirs = lazy.state_dict(), real.state_dict()  # both after one forward (running statistics too)
    assert list(ours) == list(theirs)
    for k in ours:
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())
    assert all(p.backend == backend and p.dtype == gdl.float64 for p in lazy.parameters())


def test_parameters_train_and_an_optimizer_after_the_first_batch(backend):
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    x, y = gdl.randn(16, 5), gdl.randn(16, 2)
    model(x)
    opt = gdl.optim.SGD(model.parameters(), lr=0.1)
    first = None
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first
    assert [tuple(p.shape) for p in model.parameters()] == [(8, 5), (8,), (2, 8), (2,)]


def test_hooks_and_mode_survive_the_change(backend):
    layer = nn.LazyLinear(2)
    layer.eval()
    calls = []
    layer.register_forward_hook(lambda m, args, out: calls.append(out.shape))
    layer(gdl.ones(3, 4))
    layer(gdl.ones(1, 4))
    assert calls == [(3, 2), (1, 2)] and layer.training is False
    bn = nn.LazyBatchNorm1d()
    bn.eval()
    bn(gdl.ones(2, 3))
    assert not bn.training and bn.running_mean.tolist() == [0.0, 0.0, 0.0]  # eval: no statistics update


def test_repr_and_errors(backend):
    assert repr(nn.LazyLinear(3, bias=False)) == "LazyLinear(in_features=0, out_features=3, bias=False)"
    assert repr(nn.LazyConv2d(4, 3)) == "LazyConv2d(0, 4, 3)"
    with pytest.raises(ValueError, match="cannot infer the input size"):
        nn.LazyLinear(3)(gdl.tensor(1.0))
    with pytest.raises(ValueError):
        nn.LazyLinear(3)(gdl.ones(2, 4)).sum()
        nn.Linear(4, 3)(gdl.ones(2, 5))


def test_same_state_dict_keys_and_shapes_as_torch():
    torch = pytest.importorskip("torch")
    for lazy_name, _, args, kwargs, shape, _ in CASES:
        if lazy_name == "LazyInstanceNorm2d":
            continue  # unbatched input: torch 2.13 reads the size from dim 1 there and then refuses it
        ours = getattr(nn, lazy_name)(*args, **kwargs)
        theirs = getattr(torch.nn, lazy_name)(*args, **kwargs)
        x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        ours(gdl.tensor(x))
        theirs(torch.tensor(x))
        a, b = ours.state_dict(), theirs.state_dict()
        assert list(a) == list(b), lazy_name
        assert [tuple(v.shape) for v in a.values()] == [tuple(v.shape) for v in b.values()], lazy_name
        assert type(ours).__name__ == type(theirs).__name__, lazy_name


def test_lazy_instance_norms_default_to_affine_and_running_stats_as_torch(backend):
    layer = nn.LazyInstanceNorm1d()
    layer(gdl.randn(2, 3, 4))
    assert layer.affine and layer.track_running_stats
    plain = nn.LazyInstanceNorm2d(1e-5, 0.1, False)  # positional affine=False wins
    plain(gdl.randn(2, 3, 4, 4))
    assert not plain.affine and plain.track_running_stats
