"""GroupNorm, RMSNorm, InstanceNorm, LayerNorm(bias=False), Embedding's max_norm and
scale_grad_by_freq, adaptive pooling, AvgPool2d's divisor_override, ParameterList and
ParameterDict: values against NumPy formulas and hand-computed numbers, float64
gradient checks, parameter/buffer names and shapes, modes, and errors. No PyTorch here
(``test_torch_crosscheck_norm_pool.py`` compares with it)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.testing import gradcheck

F64 = gdl.float64
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _t(a, requires_grad=False, dtype=F64):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=requires_grad)


def _close(ours, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol)


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


# -- NumPy references ------------------------------------------------------------------------------


def _group_norm_ref(a, groups, w=None, b=None, eps=1e-5):
    n, c = a.shape[:2]
    g = a.reshape(n, groups, -1)
    out = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(a.shape)
    bshape = (1, c) + (1,) * (a.ndim - 2)
    if w is not None:
        out = out * w.reshape(bshape)
    if b is not None:
        out = out + b.reshape(bshape)
    return out


def _rms_ref(a, k, w=None, eps=None):
    eps = np.finfo(a.dtype).eps if eps is None else eps
    axes = tuple(range(a.ndim - k, a.ndim))
    out = a / np.sqrt((a * a).mean(axis=axes, keepdims=True) + eps)
    return out if w is None else out * w


def _instance_ref(a, w=None, b=None, eps=1e-5):
    return _group_norm_ref(a, a.shape[1], w, b, eps)


def _adaptive_ref(a, out_sizes, reduce):
    """Loops over PyTorch's windows: floor(i·L/out) .. ceil((i+1)·L/out)."""
    h, w = a.shape[-2:]
    oh, ow = out_sizes
    res = np.zeros(a.shape[:-2] + (oh, ow))
    for i in range(oh):
        h0, h1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
        for j in range(ow):
            w0, w1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            res[..., i, j] = reduce(a[..., h0:h1, w0:w1], axis=(-2, -1))
    return res


# -- GroupNorm -----------------------------------------------------------------------------------------


def test_group_norm_hand_computed(backend):
    # one sample, one group over [1, 3, 2, 6]: mean 3, variance 3.5
    x = _t([[[1.0, 3.0], [2.0, 6.0]]])
    expected = (np.array([[[1.0, 3.0], [2.0, 6.0]]]) - 3.0) / math.sqrt(3.5 + 1e-5)
    _close(F.group_norm(x, 1), expected)
    # two groups: each channel alone, [1, 3] -> ∓1, [2, 6] -> ∓1 (up to eps)
    _close(F.group_norm(x, 2, eps=0.0), [[[-1.0, 1.0], [-1.0, 1.0]]])


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((2, 4), 4), ((2, 6, 2, 2), 1)])
def test_group_norm_matches_numpy_and_module(backend, shape, groups):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape) * 3 + 1
    c = shape[1]
    layer = nn.GroupNorm(groups, c, eps=1e-3, dtype=F64)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    layer.load_state_dict({"weight": w, "bias": b})
    _close(layer(_t(a)), _group_norm_ref(a, groups, w, b, 1e-3))
    _close(F.group_norm(_t(a), groups), _group_norm_ref(a, groups))
    layer.eval()  # no running statistics: the same in eval
    _close(layer(_t(a)), _group_norm_ref(a, groups, w, b, 1e-3))


@SETTINGS
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per=st.integers(1, 2), length=st.integers(1, 3),
       affine=st.booleans(), seed=st.integers(0, 99))
def test_group_norm_gradcheck(backend, n, groups, per, length, affine, seed):
    if per * length == 1:
        length = 2  # one element per group: variance 0, the output is constant (gradient 0/0-free but flat)
    gdl.manual_seed(seed)
    layer = nn.GroupNorm(groups, groups * per, affine=affine, dtype=F64)
    if affine:
        layer.load_state_dict({"weight": np.random.default_rng(seed).standard_normal(groups * per) + 1,
                               "bias": np.random.default_rng(seed + 1).standard_normal(groups * per)})
    x = gdl.randn(n, groups * per, length, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t, *ps: layer(t), [x, *layer.parameters()])


def test_group_norm_params_and_repr():
    layer = nn.GroupNorm(3, 6)
    assert _shapes(layer) == {"weight": (6,), "bias": (6,)}
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones(6))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(6))
    assert repr(layer) == "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)"
    assert _shapes(nn.GroupNorm(3, 6, bias=False)) == {"weight": (6,)}
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels must be divisible by num_groups.*5.*2"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"group_norm: .*divisible by num_groups.*\(2, 5, 3\).*num_groups=2"):
        F.group_norm(gdl.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"GroupNorm: expected an input of shape \(N, 4, \*\), got \(2, 6\)"):
        nn.GroupNorm(2, 4)(gdl.zeros(2, 6))
    with pytest.raises(ValueError, match="group_norm: expected weight of shape"):
        F.group_norm(gdl.zeros(2, 4), 2, gdl.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        F.group_norm(gdl.tensor([[1, 2]]), 1)


# -- RMSNorm ------------------------------------------------------------------------------------------------


def test_rms_norm_hand_computed(backend):
    # [3, 4]: mean square 12.5
    _close(F.rms_norm(_t([[3.0, 4.0]]), 2, eps=0.0), [[3 / math.sqrt(12.5), 4 / math.sqrt(12.5)]])
    w = _t([2.0, -1.0])
    _close(F.rms_norm(_t([[3.0, 4.0]]), (2,), w, eps=0.5), [[6 / math.sqrt(13.0), -4 / math.sqrt(13.0)]])


def test_rms_norm_default_eps_is_the_dtypes_epsilon(backend):
    a = np.zeros((2, 3))
    a[1] = [1e-9, -1e-9, 2e-9]
    # eps decides the output of tiny inputs: float64's machine epsilon, 2.22e-16
    _close(F.rms_norm(_t(a), 3), _rms_ref(a, 1), rtol=1e-12)
    out32 = F.rms_norm(_t(a, dtype=gdl.float32), 3).numpy()
    np.testing.assert_allclose(out32, _rms_ref(a.astype(np.float32), 1), rtol=1e-5)
    assert np.abs(out32[1]).max() < 1e-3  # eps 1.19e-7 swamps 1e-18
    assert nn.RMSNorm(3).eps is None


@pytest.mark.parametrize("shape,norm", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((6,), 6)])
def test_rms_norm_matches_numpy(backend, shape, norm):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    k = 1 if isinstance(norm, int) else len(norm)
    layer = nn.RMSNorm(norm, eps=1e-4, dtype=F64)
    w = rng.standard_normal(layer.weight.shape)
    layer.load_state_dict({"weight": w})
    _close(layer(_t(a)), _rms_ref(a, k, w, 1e-4))
    _close(nn.RMSNorm(norm, elementwise_affine=False, dtype=F64)(_t(a)), _rms_ref(a, k))


@SETTINGS
@given(lead=st.integers(1, 3), feat=st.integers(1, 4), two=st.booleans(), affine=st.booleans(),
       seed=st.integers(0, 99))
def test_rms_norm_gradcheck(backend, lead, feat, two, affine, seed):
    gdl.manual_seed(seed)
    norm = (2, feat) if two else (feat,)
    layer = nn.RMSNorm(norm, eps=1e-3, elementwise_affine=affine, dtype=F64)
    if affine:
        layer.load_state_dict({"weight": np.random.default_rng(seed).standard_normal(norm)})
    x = gdl.randn(lead, *norm, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t, *ps: layer(t), [x, *layer.parameters()])


def test_rms_norm_params_repr_and_errors():
    layer = nn.RMSNorm((3, 4))
    assert _shapes(layer) == {"weight": (3, 4)}
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((3, 4)))
    assert repr(layer) == "RMSNorm((3, 4), eps=None, elementwise_affine=True)"
    assert list(nn.RMSNorm(3, elementwise_affine=False).parameters()) == []
    with pytest.raises(ValueError, match=r"rms_norm: input of shape \(2, 5\) does not end with normalized_shape \(4,\)"):
        layer = nn.RMSNorm(4)(gdl.zeros(2, 5))
    with pytest.raises(ValueError, match="rms_norm: expected weight of shape"):
        F.rms_norm(gdl.zeros(2, 4), 4, gdl.ones(3))


# -- InstanceNorm ---------------------------------------------------------------------------------------------


def test_instance_norm_hand_computed(backend):
    x = _t([[[1.0, 3.0], [2.0, 6.0]]])  # each channel alone: [1, 3] and [2, 6] -> ∓1
    _close(nn.InstanceNorm1d(2, eps=0.0)(x), [[[-1.0, 1.0], [-1.0, 1.0]]])


@pytest.mark.parametrize("cls,shape", [(nn.InstanceNorm1d, (3, 4, 5)), (nn.InstanceNorm2d, (2, 3, 4, 3)),
                                       (nn.InstanceNorm1d, (4, 5)), (nn.InstanceNorm2d, (3, 2, 4))])
def test_instance_norm_matches_numpy(backend, cls, shape, ):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape) * 2 + 1
    batched = a if len(shape) == (3 if cls is nn.InstanceNorm1d else 4) else a[None]
    c = batched.shape[1]
    out = cls(c, dtype=F64)(_t(a))
    _close(out, _instance_ref(batched).reshape(a.shape))
    layer = cls(c, affine=True, dtype=F64)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    layer.load_state_dict({"weight": w, "bias": b})
    _close(layer(_t(a)), _instance_ref(batched, w, b).reshape(a.shape))


@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 3), length=st.integers(2, 4), affine=st.booleans(),
       seed=st.integers(0, 99))
def test_instance_norm_gradcheck(backend, n, c, length, affine, seed):
    gdl.manual_seed(seed)
    layer = nn.InstanceNorm2d(c, affine=affine, dtype=F64)
    if affine:
        layer.load_state_dict({"weight": np.random.default_rng(seed).standard_normal(c) + 1,
                               "bias": np.random.default_rng(seed + 1).standard_normal(c)})
    x = gdl.randn(n, c, length, 2, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t, *ps: layer(t), [x, *layer.parameters()])


def test_instance_norm_eval_with_running_stats_gradcheck(backend):
    layer = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, dtype=F64)
    state = {"weight": [1.0, 2.0, -1.0], "bias": [0.0, 0.5, 1.0], "running_mean": [0.1, -0.2, 0.3],
             "running_var": [1.5, 0.5, 2.0]}
    layer.load_state_dict({k: np.array(v) for k, v in state.items()}, strict=False)
    layer.eval()
    x = gdl.randn(2, 3, 4, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t, *ps: layer(t), [x, *layer.parameters()])


def test_instance_norm_running_stats_train_and_eval(backend):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 3, 6)) * 2 + 1
    layer = nn.InstanceNorm1d(3, momentum=0.25, track_running_stats=True, dtype=F64)
    assert _shapes(layer) == {"running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()}
    assert list(layer.parameters()) == []
    out = layer(_t(a))  # training: the input's own statistics, running ones updated
    _close(out, _instance_ref(a))
    mean = a.mean(axis=2).mean(axis=0)
    var = a.var(axis=2, ddof=1).mean(axis=0)
    _close(layer.running_mean, 0.75 * 0 + 0.25 * mean)
    _close(layer.running_var, 0.75 * 1 + 0.25 * var)
    assert layer.num_batches_tracked.item() == 0  # PyTorch's InstanceNorm never counts batches
    layer.eval()  # the running statistics normalise every sample
    rm, rv = layer.running_mean.numpy(), layer.running_var.numpy()
    _close(layer(_t(a)), (a - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5))
    _close(layer.running_mean, rm)  # unchanged in eval
    # without running statistics, eval still uses the input's own
    plain = nn.InstanceNorm1d(3, dtype=F64).eval()
    _close(plain(_t(a)), _instance_ref(a))


def test_instance_norm_params_repr_and_errors():
    layer = nn.InstanceNorm2d(4, affine=True)
    assert _shapes(layer) == {"weight": (4,), "bias": (4,)}
    assert repr(layer) == ("InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                           "track_running_stats=False)")
    assert _shapes(nn.InstanceNorm1d(4, affine=True, bias=False)) == {"weight": (4,)}
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected 2D \(unbatched\) or 3D input, got shape \(2, 3, 4, 5\)"):
        nn.InstanceNorm1d(3)(gdl.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected the input's size at dim=1 to match num_features \(4\), got 3"):
        layer(gdl.zeros(2, 3, 4, 4))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(gdl.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(gdl.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="instance_norm: expected an input of shape"):
        F.instance_norm(gdl.zeros(2, 3))


# -- LayerNorm(bias=False) ------------------------------------------------------------------------------------


def test_layer_norm_without_bias(backend):
    layer = nn.LayerNorm((2, 3), bias=False, dtype=F64)
    assert _shapes(layer) == {"weight": (2, 3)} and layer.bias is None
    rng = np.random.default_rng(5)
    a, w = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3))
    layer.load_state_dict({"weight": w})
    mu, var = a.mean(axis=(1, 2), keepdims=True), a.var(axis=(1, 2), keepdims=True)
    _close(layer(_t(a)), (a - mu) / np.sqrt(var + 1e-5) * w)
    x = gdl.randn(2, 2, 3, dtype=F64, requires_grad=True)
    assert gradcheck(lambda t, ww: layer(t), [x, layer.weight])
    assert list(nn.LayerNorm(3, elementwise_affine=False, bias=False).parameters()) == []


# -- Embedding: max_norm and scale_grad_by_freq -------------------------------------------------------------------


def test_embedding_max_norm_renormalises_only_the_rows_used(backend):
    layer = nn.Embedding(5, 2, max_norm=1.0, dtype=F64)
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [0.0, 2.0], [1.0, 0.0]])
    layer.load_state_dict({"weight": table})
    out = layer(gdl.tensor([[0, 1], [0, 4]]))
    scaled0 = table[0] * (1.0 / (5.0 + 1e-7))
    _close(out, [[scaled0, table[1]], [scaled0, table[4]]], rtol=1e-14)
    after = layer.weight.numpy()
    _close(layer.weight, np.stack([scaled0, table[1], table[2], table[3], table[4]]), rtol=1e-14)
    np.testing.assert_array_equal(after[1:], table[1:])  # rows 2 and 3 (norm > 1, unused) untouched, bit for bit
    # the renormalisation is outside the graph: the gradient is the plain lookup's
    layer(gdl.tensor([0, 0, 3])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[2, 2], [0, 0], [0, 0], [1, 1], [0, 0]])
    _close(layer.weight[3], [0.0, 2.0 / (2.0 + 1e-7)], rtol=1e-14)


@pytest.mark.parametrize("norm_type,norm", [(1.0, 7.0), (float("inf"), 4.0), (3.0, (27 + 64) ** (1 / 3))])
def test_embedding_max_norm_norm_types(backend, norm_type, norm):
    w = _t([[3.0, -4.0]])
    F.embedding(gdl.tensor([0]), w, max_norm=2.0, norm_type=norm_type)
    _close(w, [[3.0 * 2 / (norm + 1e-7), -4.0 * 2 / (norm + 1e-7)]], rtol=1e-13)


def test_embedding_scale_grad_by_freq(backend):
    layer = nn.Embedding(4, 2, scale_grad_by_freq=True, dtype=F64)
    idx = gdl.tensor([[1, 1, 2], [1, 3, 2]])
    upstream = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    layer(idx).backward(_t(upstream))
    flat, rows = idx.numpy().reshape(-1), upstream.reshape(-1, 2)
    expected = np.zeros((4, 2))
    counts = np.bincount(flat, minlength=4)
    for i, r in zip(flat, rows):
        expected[i] += r / counts[i]
    _close(layer.weight.grad, expected)
    # (not a gradcheck: the scaled gradient is deliberately not the derivative of the lookup)
    w = _t(np.ones((4, 2)), True)
    F.embedding(idx, w, padding_idx=3, scale_grad_by_freq=True).backward(_t(upstream))
    _close(w.grad, expected * np.array([[1], [1], [1], [0]]))
    sparse = nn.Embedding(4, 2, scale_grad_by_freq=True, sparse=True, dtype=F64)
    sparse(idx).backward(_t(upstream))
    _close(sparse.weight.grad.to_dense(), expected)


def test_embedding_repr_with_options():
    layer = nn.Embedding(10, 3, padding_idx=0, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True)
    assert repr(layer) == "Embedding(10, 3, padding_idx=0, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True)"


# -- adaptive pooling ---------------------------------------------------------------------------------------------


def test_adaptive_pool_hand_computed(backend):
    x = _t(np.arange(5.0).reshape(1, 1, 5))
    _close(F.adaptive_avg_pool1d(x, 3), [[[0.5, 2.0, 3.5]]])  # windows [0,2), [1,4), [3,5)
    _close(F.adaptive_max_pool1d(x, 3), [[[1.0, 3.0, 4.0]]])
    _close(F.adaptive_avg_pool1d(x, 1), [[[2.0]]])
    # more outputs than inputs: windows repeat elements
    _close(F.adaptive_avg_pool1d(_t([[[1.0, 3.0]]]), 3), [[[1.0, 2.0, 3.0]]])


@pytest.mark.parametrize("shape,out", [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), 5), ((2, 1, 4, 6), (None, 4)),
                                       ((3, 5, 5), (7, 2)), ((2, 2, 6, 3), 1)])
def test_adaptive_pool2d_matches_numpy(backend, shape, out):
    a = np.random.default_rng(6).standard_normal(shape)
    sizes = out if isinstance(out, tuple) else (out, out)
    sizes = tuple(s if s is not None else shape[-2 + i] for i, s in enumerate(sizes))
    _close(nn.AdaptiveAvgPool2d(out)(_t(a)), _adaptive_ref(a, sizes, np.mean))
    _close(nn.AdaptiveMaxPool2d(out)(_t(a)), _adaptive_ref(a, sizes, np.max))


@pytest.mark.parametrize("shape,out", [((2, 3, 10), 4), ((3, 7), 7), ((1, 1, 3), 5)])
def test_adaptive_pool1d_matches_numpy(backend, shape, out):
    a = np.random.default_rng(7).standard_normal(shape)
    a4 = a[..., None, :]
    _close(nn.AdaptiveAvgPool1d(out)(_t(a)), _adaptive_ref(a4, (1, out), np.mean)[..., 0, :])
    _close(nn.AdaptiveMaxPool1d(out)(_t(a)), _adaptive_ref(a4, (1, out), np.max)[..., 0, :])


def test_adaptive_max_pool_indices(backend):
    a = np.array([[[[1.0, 9.0, 2.0], [3.0, 4.0, 8.0], [7.0, 5.0, 6.0]]]])
    out, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(_t(a))
    # windows rows [0,2),[1,3) × cols [0,2),[1,3)
    _close(out, [[[[9.0, 9.0], [7.0, 8.0]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[1, 1], [6, 5]]]])
    assert idx.dtype == gdl.int64
    ties = _t([[[2.0, 2.0, 2.0, 1.0]]])
    np.testing.assert_array_equal(F.adaptive_max_pool1d(ties, 2, return_indices=True)[1].numpy(), [[[0, 2]]])


@SETTINGS
@given(h=st.integers(1, 5), w=st.integers(1, 5), oh=st.integers(1, 4), ow=st.integers(1, 4), seed=st.integers(0, 99))
def test_adaptive_pool2d_gradcheck(backend, h, w, oh, ow, seed):
    rng = np.random.default_rng(seed)
    # distinct values spaced apart: finite differences do not cross a tie in max pooling
    a = rng.permutation(2 * h * w).reshape(2, h, w)[:, :, :] * 0.1
    x = _t(a[None], requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (oh, ow)), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (oh, ow)), [x])


def test_adaptive_pool1d_gradcheck(backend):
    x = _t(np.random.default_rng(8).permutation(14).reshape(2, 7) * 0.1, requires_grad=True)
    for out in (1, 3, 7, 9):
        assert gradcheck(lambda t, out=out: F.adaptive_avg_pool1d(t, out), [x])
        assert gradcheck(lambda t, out=out: F.adaptive_max_pool1d(t, out), [x])


def test_adaptive_max_pool_gradient_goes_to_the_first_maximum(backend):
    x = _t([[[2.0, 2.0, 1.0]]], requires_grad=True)
    F.adaptive_max_pool1d(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[1.0, 0.0, 0.0]]])


def test_adaptive_pool_repr_and_errors():
    assert repr(nn.AdaptiveAvgPool2d((None, 7))) == "AdaptiveAvgPool2d(output_size=(None, 7))"
    assert repr(nn.AdaptiveMaxPool1d(3)) == "AdaptiveMaxPool1d(output_size=3)"
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected a 3-D .* input, got shape \(5, 5\)"):
        nn.AdaptiveAvgPool2d(2)(gdl.zeros(5, 5))
    with pytest.raises(ValueError, match=r"adaptive_max_pool1d: expected a 2-D .* got shape \(1, 2, 3, 4\)"):
        nn.AdaptiveMaxPool1d(2)(gdl.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="output_size must be non-negative, got -1"):
        F.adaptive_avg_pool1d(gdl.zeros(1, 2, 3), -1)
    # an output size of 0 gives an empty output, as PyTorch's
    assert F.adaptive_max_pool2d(gdl.zeros(1, 2, 3, 3), (0, 2)).shape == (1, 2, 0, 2)
    assert F.adaptive_avg_pool1d(gdl.zeros(1, 2, 3), 0).shape == (1, 2, 0)
    with pytest.raises(ValueError, match=r"output_size must be an int or a tuple of 2, got \(1, 2, 3\)"):
        F.adaptive_max_pool2d(gdl.zeros(1, 2, 3, 3), (1, 2, 3))
    with pytest.raises(ValueError, match="non-zero sizes"):
        F.adaptive_avg_pool2d(gdl.zeros(1, 2, 0, 3), 1)


# -- AvgPool2d(divisor_override) --------------------------------------------------------------------------------------


def test_avg_pool2d_divisor_override(backend):
    a = np.arange(16.0).reshape(1, 1, 4, 4)
    sums = a.reshape(1, 1, 2, 2, 2, 2).sum(axis=(3, 5))
    _close(nn.AvgPool2d(2, divisor_override=3)(_t(a)), sums / 3)
    # with padding: the override replaces whatever count_include_pad would count
    out = F.avg_pool2d(_t(a), 3, stride=2, padding=1, count_include_pad=False, divisor_override=2)
    padded = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[padded[0, 0, i:i + 3, j:j + 3].sum() / 2 for j in (0, 2)] for i in (0, 2)])
    _close(out, expected[None, None])
    x = _t(a, requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False, divisor_override=5), [x])
    with pytest.raises(ValueError, match="divisor_override must be a non-zero int, got 0"):
        F.avg_pool2d(_t(a), 2, divisor_override=0)


# -- ParameterList and ParameterDict ----------------------------------------------------------------------------------


def test_parameter_list_registration():
    ps = nn.ParameterList([nn.Parameter(gdl.zeros(2, 3)), gdl.ones(4)])
    assert all(isinstance(p, nn.Parameter) for p in ps)
    ps.append(gdl.zeros(1)).extend([gdl.zeros(5)])
    ps += [gdl.zeros(6)]
    assert len(ps) == 5
    assert [k for k, _ in ps.named_parameters()] == ["0", "1", "2", "3", "4"]
    assert {k: v.shape for k, v in ps.state_dict().items()} == {
        "0": (2, 3), "1": (4,), "2": (1,), "3": (5,), "4": (6,)}
    assert ps[-1].shape == (6,) and ps[1].shape == (4,)
    assert [p.shape for p in ps[1:3]] == [(4,), (1,)]
    ps[0] = gdl.ones(7)
    assert ps.state_dict()["0"].shape == (7,) and list(ps.state_dict())[0] == "0"
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ps[5]
    with pytest.raises(TypeError, match="expected a Parameter or a Tensor, got int"):
        ps.append(3)
    with pytest.raises(TypeError, match="iterable"):
        ps.extend(gdl.zeros(2))


def test_parameter_list_in_a_model_trains(backend):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([gdl.ones(3, dtype=F64) * 2, gdl.ones(3, dtype=F64)])
            self.extra = nn.ParameterDict({"b": gdl.zeros(3, dtype=F64)})

        def forward(self, x):
            return (x * self.ws[0] + self.ws[1] + self.extra["b"]).sum()

    net = Net()
    assert list(net.state_dict()) == ["ws.0", "ws.1", "extra.b"]
    assert len(list(net.parameters())) == 3
    net(_t([1.0, 2.0, 3.0])).backward()
    _close(net.ws[0].grad, [1.0, 2.0, 3.0])
    _close(net.extra["b"].grad, [1.0, 1.0, 1.0])
    net.load_state_dict({"ws.0": np.full(3, 5.0), "ws.1": np.zeros(3), "extra.b": np.ones(3)})
    _close(net.ws[0], [5.0, 5.0, 5.0])


def test_parameter_dict_registration():
    pd = nn.ParameterDict({"scale": gdl.ones(3)})
    pd["shift"] = nn.Parameter(gdl.zeros(3))
    pd.update([("z", gdl.zeros(2))])
    assert list(pd) == ["scale", "shift", "z"] and list(pd.keys()) == ["scale", "shift", "z"]
    assert [k for k, _ in pd.named_parameters()] == ["scale", "shift", "z"]
    assert isinstance(pd["scale"], nn.Parameter) and "shift" in pd and len(pd) == 3
    popped = pd.pop("shift")
    assert popped.shape == (3,) and "shift" not in pd and list(pd.state_dict()) == ["scale", "z"]
    assert not hasattr(pd, "shift")
    assert pd.get("nope") is None
    pd.setdefault("w", gdl.ones(1))
    assert list(pd) == ["scale", "z", "w"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(KeyError, match="contain no '.'"):
        pd["a.b"] = gdl.ones(1)
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        pd["keys"] = gdl.ones(1)
    with pytest.raises(TypeError, match="keys must be str"):
        pd[1] = gdl.ones(1)
    with pytest.raises(TypeError, match="expected a Parameter or a Tensor"):
        pd["a"] = "x"
    # PyTorch's order: a plain dict sorted by key, an OrderedDict or pairs as given
    assert list(nn.ParameterDict({"z": gdl.ones(1), "a": gdl.ones(1)})) == ["a", "z"]
    assert list(nn.ParameterDict(OrderedDict([("z", gdl.ones(1)), ("a", gdl.ones(1))]))) == ["z", "a"]
    assert list(nn.ParameterDict([("z", gdl.ones(1)), ("a", gdl.ones(1))])) == ["z", "a"]


def test_parameter_containers_repr():
    ps = nn.ParameterList([gdl.zeros(2, 3), gdl.zeros(2)])
    assert repr(ps) == ("ParameterList(\n    (0): Parameter containing: [gdl.float32 of size 2x3]\n"
                        "    (1): Parameter containing: [gdl.float32 of size 2]\n)")
    # one entry: on the head line, as PyTorch prints it
    assert repr(nn.ParameterList([gdl.zeros(2)])) == "ParameterList(  (0): Parameter containing: [gdl.float32 of size 2])"
    assert repr(nn.ParameterDict()) == "ParameterDict()"
    model = nn.Sequential(nn.Linear(2, 2))
    model.append(nn.Module())
    model.add_module("ps", ps)
    assert "(ps): ParameterList(\n      (0): Parameter containing: [gdl.float32 of size 2x3]\n" in repr(model)
