"""Behaviour and errors of the session-9 additions, without PyTorch (every backend, strict included):
Adafactor, Muon, AdaptiveLogSoftmaxWithLoss, pdist, the fractional max pools and their modules, the
``*_with_indices`` aliases, the in-place functional activations, SyncBatchNorm, RNNBase/RNNCellBase."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.nn
import gdl.nn.functional as F
import gdl.optim
from gdl.nn.parameter import Parameter


def _f64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


# -- Adafactor ------------------------------------------------------------------------------------------------

def _reference_adafactor_matrix(p, grads, lr=1e-2, beta2_decay=-0.8, eps2=1e-3, d=1.0):
    """Adafactor on one 2-D parameter, written out in NumPy from the documented algorithm."""
    eps1 = np.finfo(p.dtype).eps
    row, col = np.zeros((p.shape[0], 1)), np.zeros((1, p.shape[1]))
    for t, g in enumerate(grads, start=1):
        w = t**beta2_decay
        alpha = max(eps2, np.sqrt(np.mean(p * p))) * min(lr, 1 / np.sqrt(t))
        row = row + w * ((g * g).mean(axis=1, keepdims=True) - row)
        col = col + w * ((g * g).mean(axis=0, keepdims=True) - col)
        v = row @ col / max(row.mean(), eps1)
        u = g / np.sqrt(np.maximum(v, eps1 * eps1))
        p = p - alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u
    return p, row, col


def test_adafactor_follows_its_algorithm():
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(5)]
    p = Parameter(_f64(start))
    opt = gdl.optim.Adafactor([p], lr=0.05, d=1.2)
    for g in grads:
        p.grad = _f64(g)
        opt.step()
    want, row, col = _reference_adafactor_matrix(start, grads, lr=0.05, d=1.2)
    np.testing.assert_allclose(p.numpy(), want, rtol=1e-10)
    st = opt.state[p]
    assert st["step"] == 5 and st["row_var"].shape == (4, 1) and st["col_var"].shape == (1, 3)
    np.testing.assert_allclose(st["row_var"].numpy(), row, rtol=1e-10)
    assert "variance" not in st


def test_adafactor_vector_state_and_round_trip():
    w, b = Parameter(gdl.randn(3, 2)), Parameter(gdl.randn(2))
    opt = gdl.optim.Adafactor([w, b])
    for _ in range(2):
        w.grad, b.grad = gdl.ones(3, 2), gdl.ones(2)
        opt.step()
    assert set(opt.state[b]) == {"step", "variance"}
    sd = opt.state_dict()
    fresh = gdl.optim.Adafactor([w, b])
    fresh.load_state_dict(sd)
    assert fresh.state[w]["row_var"].shape == (3, 1) and fresh.state[b]["step"] == 2
    bad = {"state": {0: dict(sd["state"][0], row_var=np.zeros((3, 2)))}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="row_var"):
        fresh.load_state_dict(bad)


@pytest.mark.parametrize("kw,match", [
    (dict(lr=-1.0), "lr"), (dict(beta2_decay=0.5), "beta2_decay"), (dict(eps=(-1.0, 1e-3)), "eps1"),
    (dict(eps=(None, -1.0)), "eps2"), (dict(eps=1e-3), "pair"), (dict(d=0.5), "clipping threshold"),
    (dict(weight_decay=-0.1), "weight_decay"),
])
def test_adafactor_rejects_bad_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        gdl.optim.Adafactor([Parameter(gdl.zeros(2))], **kw)


def test_adafactor_maximize_ascends():
    p = Parameter(gdl.tensor([1.0, 2.0]))
    opt = gdl.optim.Adafactor([p], maximize=True)
    p.grad = gdl.tensor([1.0, 1.0])
    opt.step()
    assert all(v > w for v, w in zip(p.tolist(), [1.0, 2.0]))


# -- Muon -----------------------------------------------------------------------------------------------------

def test_muon_step_is_near_orthogonal_and_scaled():
    rng = np.random.default_rng(1)
    start = rng.standard_normal((6, 3))
    p = Parameter(_f64(start))
    opt = gdl.optim.Muon([p], lr=0.1, weight_decay=0.0, ns_steps=8)
    p.grad = _f64(rng.standard_normal((6, 3)))
    opt.step()
    step = (start - p.numpy()) / (0.1 * math.sqrt(6 / 3))  # "original" lr adjustment: sqrt(max(1, A/B))
    s = np.linalg.svd(step, compute_uv=False)
    assert np.all((s > 0.5) & (s < 1.5))  # Newton-Schulz: singular values near 1
    assert set(opt.state[p]) == {"momentum_buffer"}


def test_muon_rejects_non_matrices_and_bad_arguments():
    with pytest.raises(ValueError, match="2-D"):
        gdl.optim.Muon([Parameter(gdl.zeros(3))])
    with pytest.raises(ValueError, match="2-D"):
        gdl.optim.Muon([Parameter(gdl.zeros(2, 2, 2))])
    w = [Parameter(gdl.zeros(2, 2))]
    for kw, match in [(dict(lr=-1), "lr"), (dict(momentum=-0.1), "momentum"), (dict(weight_decay=-1), "weight_decay"),
                      (dict(adjust_lr_fn="other"), "adjust_lr_fn"), (dict(ns_coefficients=(1.0, 2.0)), "ns_coeff"),
                      (dict(ns_steps=100), "ns_steps")]:
        with pytest.raises(ValueError, match=match):
            gdl.optim.Muon(w, **kw)
    with pytest.raises(TypeError):
        gdl.optim.Muon(w, maximize=True)


def test_muon_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    a, b = Parameter(_f64(np.ones((3, 4)))), Parameter(_f64(np.ones((3, 4))))
    oa = gdl.optim.Muon([a], lr=0.02)
    ob = gdl.optim.Muon([b], lr=0.02)
    for i, g in enumerate(grads):
        if i == 2:
            ob = gdl.optim.Muon([b], lr=0.02)
            ob.load_state_dict(oa.state_dict())
        a.grad, b.grad = _f64(g), _f64(g)
        oa.step()
        ob.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- AdaptiveLogSoftmaxWithLoss -------------------------------------------------------------------------------

def test_adaptive_log_softmax_shapes_and_consistency():
    gdl.manual_seed(0)
    asm = gdl.nn.AdaptiveLogSoftmaxWithLoss(8, 13, cutoffs=[3, 7], div_value=2.0)
    assert [tuple(p.shape) for p in asm.parameters()] == [(5, 8), (4, 8), (4, 4), (2, 8), (6, 2)]
    x = gdl.randn(6, 8, dtype=gdl.float64)
    target = gdl.tensor([0, 2, 3, 6, 7, 12])
    out, loss = asm(x, target)
    full = asm.log_prob(x)
    assert full.shape == (6, 13)
    np.testing.assert_allclose(np.exp(full.numpy()).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), full.numpy()[np.arange(6), target.numpy()], rtol=1e-12)
    np.testing.assert_allclose(loss.item(), -out.numpy().mean(), rtol=1e-12)
    np.testing.assert_array_equal(asm.predict(x).numpy(), full.numpy().argmax(axis=1))
    loss.backward()
    assert all(p.grad is not None for p in asm.parameters())


def test_adaptive_log_softmax_errors():
    with pytest.raises(ValueError, match="cutoffs"):
        gdl.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 10])
    asm = gdl.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    with pytest.raises(RuntimeError, match=r"\[0, 9\]"):
        asm(gdl.zeros(2, 4), gdl.tensor([1, -1]))
    with pytest.raises(ValueError, match="batch"):
        asm(gdl.zeros(3, 4), gdl.tensor([1, 2]))
    with pytest.raises(ValueError, match="multi-target"):
        asm(gdl.zeros(3, 4), gdl.tensor([[1, 2]]))


# -- pdist ----------------------------------------------------------------------------------------------------

def test_pdist_order_values_and_errors():
    a = np.random.default_rng(0).standard_normal((5, 3))
    out = F.pdist(_f64(a), 3.0).numpy()
    want = [np.sum(np.abs(a[i] - a[j]) ** 3) ** (1 / 3) for i in range(5) for j in range(i + 1, 5)]
    np.testing.assert_allclose(out, want, rtol=1e-12)
    assert F.pdist(gdl.zeros(1, 3)).shape == (0,)
    with pytest.raises(ValueError, match="2D"):
        F.pdist(gdl.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="non-negative"):
        F.pdist(gdl.zeros(2, 2), -1.0)


def test_pdist_gradient_matches_finite_differences():
    a = np.random.default_rng(1).standard_normal((4, 2))
    assert gdl.testing.gradcheck(lambda x: F.pdist(x, 2.0), [_f64(a, grad=True)])
    assert gdl.testing.gradcheck(lambda x: F.pdist(x, 1.5), [_f64(a, grad=True)])


# -- fractional max pooling -----------------------------------------------------------------------------------

def _reference_fractional_2d(a, k, out, u):
    """Loops over PyTorch's documented windows (samples (W, H))."""
    def starts(sample, size, n):
        alpha = (size - k) / (n - 1) if n > 1 else 0.0
        return [int((i + sample) * alpha) - int(sample * alpha) for i in range(n - 1)] + [size - k]
    n, c, h, w = a.shape
    res = np.zeros((n, c, out, out))
    for b in range(n):
        for ch in range(c):
            rows, cols = starts(u[b, ch, 1], h, out), starts(u[b, ch, 0], w, out)
            for i, r in enumerate(rows):
                for j, s in enumerate(cols):
                    res[b, ch, i, j] = a[b, ch, r:r + k, s:s + k].max()
    return res


def test_fractional_max_pool2d_follows_the_documented_windows():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 9, 11))
    u = rng.random((2, 3, 2))
    out, idx = F.fractional_max_pool2d(_f64(a), 2, (4, 4), return_indices=True, _random_samples=_f64(u))
    want = _reference_fractional_2d(a, 2, 4, u)
    np.testing.assert_allclose(out.numpy(), want)
    np.testing.assert_allclose(np.take_along_axis(a.reshape(2, 3, -1), idx.numpy().reshape(2, 3, -1), -1),
                               want.reshape(2, 3, -1))


def test_fractional_max_pool_gradient_and_random_samples():
    a = np.random.default_rng(3).standard_normal((1, 2, 6, 6))
    u = _f64(np.random.default_rng(4).random((1, 2, 2)))
    assert gdl.testing.gradcheck(lambda x: F.fractional_max_pool2d(x, 2, 3, _random_samples=u), [_f64(a, grad=True)])
    gdl.manual_seed(5)
    first = F.fractional_max_pool3d(_f64(np.ones((2, 7, 7, 7))), 2, output_ratio=0.5)
    assert first.shape == (2, 3, 3, 3)


@pytest.mark.parametrize("call,match", [
    (lambda x: F.fractional_max_pool2d(x, 2), "output_size or an output_ratio"),
    (lambda x: F.fractional_max_pool2d(x, 4, output_size=4), "too large"),
    (lambda x: F.fractional_max_pool2d(x[0, 0], 2, output_size=2), "3D or 4D"),
    (lambda x: F.fractional_max_pool2d(x, 2, 2, _random_samples=gdl.zeros(1, 3, 2)), "_random_samples"),
    (lambda x: F.fractional_max_pool2d(x, 0, 2), "kernel_size"),
    (lambda x: F.fractional_max_pool3d(x[0], 2, 2), "4D or 5D"),
])
def test_fractional_max_pool_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(gdl.zeros(1, 2, 6, 6))


def test_fractional_modules_arguments():
    with pytest.raises(ValueError, match="either"):
        gdl.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one"):
        gdl.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        gdl.nn.FractionalMaxPool3d(2, output_ratio=1.0)
    u = gdl.rand(1, 2, 2)
    m = gdl.nn.FractionalMaxPool2d(2, output_size=(3, 4), return_indices=True, _random_samples=u)
    out, idx = m(gdl.randn(2, 6, 7))  # unbatched (C, H, W)
    assert out.shape == idx.shape == (2, 3, 4)
    assert "_random_samples" in m.state_dict()
    assert gdl.nn.FractionalMaxPool2d(2, output_size=3).state_dict() == {}


# -- the aliases, in-place activations, SyncBatchNorm, recurrent bases -----------------------------------------

def test_with_indices_aliases_return_pairs():
    x = gdl.randn(1, 2, 6, 6)
    out, idx = F.max_pool2d_with_indices(x, 2)
    ref, ref_idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    assert len(F.adaptive_max_pool1d_with_indices(gdl.randn(1, 2, 7), 3)) == 2
    assert len(F.adaptive_max_pool3d_with_indices(gdl.randn(1, 2, 4, 4, 4), 2)) == 2
    assert len(F.max_pool1d_with_indices(gdl.randn(1, 2, 6), 2)) == 2
    assert len(F.max_pool3d_with_indices(gdl.randn(1, 1, 4, 4, 4), 2)) == 2
    assert len(F.adaptive_max_pool2d_with_indices(gdl.randn(1, 2, 5, 5), 2)) == 2


@pytest.mark.parametrize("name,args,out_of_place", [
    ("relu_", (), F.relu), ("elu_", (0.5,), F.elu), ("celu_", (2.0,), F.celu), ("selu_", (), F.selu),
    ("leaky_relu_", (0.3,), F.leaky_relu), ("hardtanh_", (-0.2, 0.4), F.hardtanh), ("rrelu_", (), F.rrelu),
    ("threshold_", (0.0, 5.0), F.threshold),
])
def test_inplace_activations(name, args, out_of_place):
    a = np.linspace(-2, 2, 9)
    x = _f64(a)
    view = x.reshape(3, 3)
    assert getattr(F, name)(x, *args) is x
    np.testing.assert_allclose(x.numpy(), out_of_place(_f64(a), *args).numpy())
    np.testing.assert_allclose(view.numpy().ravel(), x.numpy())
    with pytest.raises(RuntimeError, match="requires grad"):
        getattr(F, name)(_f64(a, grad=True), *args)
    y = _f64(a, grad=True)
    with gdl.no_grad():
        getattr(F, name)(y, *args)
    np.testing.assert_allclose(y.numpy(), x.numpy())


def test_rrelu_inplace_training_slopes_in_range():
    x = _f64(-np.ones(50))
    F.rrelu_(x, 0.1, 0.3, training=True)
    assert np.all((x.numpy() <= -0.1) & (x.numpy() >= -0.3))


def test_sync_batch_norm_is_batch_norm_of_any_rank():
    x = gdl.randn(4, 3, 2, 2, 2, 2, dtype=gdl.float64)
    m = gdl.nn.SyncBatchNorm(3, dtype=gdl.float64)
    out = m(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3, 4, 5)), 0.0, atol=1e-12)
    ref = gdl.nn.BatchNorm2d(3, dtype=gdl.float64)
    x4 = gdl.randn(2, 3, 4, 4, dtype=gdl.float64)
    np.testing.assert_allclose(gdl.nn.SyncBatchNorm(3, dtype=gdl.float64)(x4).numpy(), ref(x4).numpy())
    with pytest.raises(ValueError, match="at least 2D"):
        m(gdl.randn(3))
    with pytest.raises(ValueError, match="channels"):
        m(gdl.randn(2, 4))
    with pytest.raises(NotImplementedError, match="process"):
        gdl.nn.SyncBatchNorm(3, process_group=object())


def test_convert_sync_batchnorm_shares_parameters():
    net = gdl.nn.Sequential(gdl.nn.Linear(2, 3), gdl.nn.BatchNorm1d(3), gdl.nn.Sequential(gdl.nn.BatchNorm1d(3)))
    conv = gdl.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(conv[1], gdl.nn.SyncBatchNorm) and isinstance(conv[2][0], gdl.nn.SyncBatchNorm)
    assert conv[1].weight is net[1].weight and conv[1].running_mean is net[1].running_mean
    assert isinstance(gdl.nn.SyncBatchNorm.convert_sync_batchnorm(gdl.nn.BatchNorm2d(2)), gdl.nn.SyncBatchNorm)


def test_recurrent_base_classes():
    assert isinstance(gdl.nn.LSTM(2, 3), gdl.nn.RNNBase) and isinstance(gdl.nn.GRU(2, 3), gdl.nn.RNNBase)
    assert isinstance(gdl.nn.RNNCell(2, 3), gdl.nn.RNNCellBase)
    assert not isinstance(gdl.nn.LSTMCell(2, 3), gdl.nn.RNNBase)
