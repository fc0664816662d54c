"""Layers and activation modules: gradients (float64 finite differences on every
backend), forward values against NumPy references, Dropout, Embedding, the
normalisation layers' statistics, Linear's layout, and initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
from gdl import nn
from gdl.testing import gradcheck

F64 = gdl.float64
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _t(array, dtype=F64, requires_grad=False):
    return gdl.tensor(np.asarray(array), dtype=dtype, requires_grad=requires_grad)


def _away_from_zero(a, gap=0.05):
    """Keep finite differences off the kinks of ReLU-like functions."""
    return np.where(a >= 0, a + gap, a - gap)


def _check_module(layer, x, *, extra=()):
    """Gradcheck a module's output with respect to its input and all its parameters."""
    params = [p for p in layer.parameters()]
    assert all(p.dtype == F64 for p in params)
    inputs = [x, *params, *extra]
    assert gradcheck(lambda *ts: layer(ts[0]), inputs)


# -- gradient checks: every layer and activation module ------------------------------------


@SETTINGS
@given(n=st.integers(1, 3), fin=st.integers(1, 4), fout=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 999))
def test_linear_gradcheck(backend, n, fin, fout, bias, seed):
    gdl.manual_seed(seed)
    layer = nn.Linear(fin, fout, bias=bias, dtype=F64)
    x = gdl.randn(n, fin, dtype=F64, requires_grad=True)
    _check_module(layer, x)


def test_linear_gradcheck_1d_and_3d_inputs(backend):
    layer = nn.Linear(3, 2).to(dtype=F64)
    _check_module(layer, gdl.randn(3, dtype=F64, requires_grad=True))
    _check_module(layer, gdl.randn(2, 2, 3, dtype=F64, requires_grad=True))


@SETTINGS
@given(num=st.integers(2, 6), dim=st.integers(1, 3), idx_len=st.integers(1, 6), seed=st.integers(0, 999))
def test_embedding_gradcheck(backend, num, dim, idx_len, seed):
    gdl.manual_seed(seed)
    layer = nn.Embedding(num, dim, dtype=F64)
    rng = np.random.default_rng(seed)
    idx = gdl.tensor(rng.integers(0, num, size=(2, idx_len)))
    assert gradcheck(lambda w: layer(idx), [layer.weight])


def test_dropout_gradcheck_with_fixed_mask(backend):
    layer = nn.Dropout(0.4)
    x = gdl.randn(4, 5, dtype=F64, requires_grad=True)

    def fn(t):
        gdl.manual_seed(123)  # the same mask at every evaluation
        return layer(t)

    assert gradcheck(fn, [x])


@pytest.mark.parametrize("shape,start,end", [((2, 3, 4), 1, -1), ((2, 3, 2, 2), 0, 2), ((3, 4), 0, -1)])
def test_flatten_and_identity_gradcheck(backend, shape, start, end):
    x = gdl.randn(*shape, dtype=F64, requires_grad=True)
    flat = nn.Flatten(start, end)
    out = flat(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy().reshape(out.shape))
    expected = shape[: start % len(shape)] + (-1,) + shape[end % len(shape) + 1 :]
    assert out.shape == x.numpy().reshape(expected).shape
    assert gradcheck(flat, [x])
    assert nn.Identity()(x) is x


@pytest.mark.parametrize("shape,dim,sizes,out", [
    ((2, 12), 1, (3, 4), (2, 3, 4)),
    ((2, 12), -1, [2, -1, 3], (2, 2, 2, 3)),
    ((6, 5), 0, (6,), (6, 5)),
    ((4, 6, 2), -2, (-1, 1, 3), (4, 2, 1, 3, 2)),
    ((0, 4), 0, (0, 7), (0, 7, 4)),
])
def test_unflatten(backend, shape, dim, sizes, out):
    x = gdl.randn(*shape, dtype=F64, requires_grad=True)
    layer = nn.Unflatten(dim, sizes)
    y = layer(x)
    assert y.shape == out
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(out))
    if x.size:
        assert gradcheck(layer, [x])
    flat = nn.Flatten(dim % len(shape), dim % len(shape) + len(sizes) - 1)
    np.testing.assert_array_equal(flat(y).numpy(), x.numpy())  # Flatten undoes it
    assert repr(layer) == f"Unflatten(dim={dim}, unflattened_size={tuple(sizes)})"


def test_unflatten_errors(backend):
    with pytest.raises(TypeError, match="unflattened_size must be a tuple or list of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="unflattened_size must be a tuple or list of ints"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(TypeError, match="dim must be an int"):
        nn.Unflatten(1.0, (2, 3))
    with pytest.raises(ValueError, match="at most one of them -1"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match="non-empty"):
        nn.Unflatten(1, ())
    with pytest.raises(ValueError, match=r"Unflatten: sizes \(4, 4\) do not multiply to 12, the size of dimension 1"):
        nn.Unflatten(1, (4, 4))(gdl.zeros(2, 12))
    with pytest.raises(ValueError, match=r"sizes \(5, -1\) do not multiply to 12"):
        nn.Unflatten(1, (5, -1))(gdl.zeros(2, 12))
    with pytest.raises(ValueError, match=r"sizes \(0, -1\) do not multiply to 0"):
        nn.Unflatten(0, (0, -1))(gdl.zeros(0, 3))
    with pytest.raises(ValueError, match=r"dim 2 is out of range for an input of shape \(2, 12\)"):
        nn.Unflatten(2, (3, 4))(gdl.zeros(2, 12))
    with pytest.raises(ValueError, match="out of range"):
        nn.Unflatten(0, (1,))(gdl.zeros(()))


@SETTINGS
@given(n=st.integers(1, 3), feats=st.lists(st.integers(2, 3), min_size=1, max_size=2), seed=st.integers(0, 999))
def test_layernorm_gradcheck(backend, n, feats, seed):
    gdl.manual_seed(seed)
    layer = nn.LayerNorm(tuple(feats), dtype=F64)
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    x = gdl.randn(n, *feats, dtype=F64, requires_grad=True)
    _check_module(layer, x)


@SETTINGS
@given(n=st.integers(2, 4), c=st.integers(1, 3), length=st.sampled_from([None, 2]), seed=st.integers(0, 999))
def test_batchnorm1d_gradcheck_train_and_eval(backend, n, c, length, seed):
    gdl.manual_seed(seed)
    layer = nn.BatchNorm1d(c, dtype=F64)
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    shape = (n, c) if length is None else (n, c, length)
    x = gdl.randn(*shape, dtype=F64, requires_grad=True)
    _check_module(layer, x)  # training: gradients flow through the batch statistics
    layer.eval()
    _check_module(layer, x)  # eval: a fixed affine map


def test_batchnorm2d_gradcheck(backend):
    layer = nn.BatchNorm2d(2, dtype=F64)
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    x = gdl.randn(2, 2, 2, 3, dtype=F64, requires_grad=True)
    _check_module(layer, x)
    layer.eval()
    _check_module(layer, x)


ACTIVATIONS = [
    ("relu", lambda: nn.ReLU(), True),
    ("tanh", lambda: nn.Tanh(), False),
    ("sigmoid", lambda: nn.Sigmoid(), False),
    ("softmax0", lambda: nn.Softmax(dim=0), False),
    ("softmax-1", lambda: nn.Softmax(dim=-1), False),
    ("logsoftmax", lambda: nn.LogSoftmax(dim=1), False),
    ("gelu", lambda: nn.GELU(), False),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), False),
    ("leaky_relu", lambda: nn.LeakyReLU(0.1), True),
]


@pytest.mark.parametrize("name,make,kinked", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@SETTINGS
@given(shape=st.sampled_from([(3,), (2, 3), (2, 2, 3)]), seed=st.integers(0, 999))
def test_activation_gradcheck(backend, name, make, kinked, shape, seed):
    if name == "logsoftmax" and len(shape) < 2:
        shape = (2, 3)
    a = np.random.default_rng(seed).standard_normal(shape) * 2
    if kinked:
        a = _away_from_zero(a)
    x = _t(a, requires_grad=True)
    assert gradcheck(make(), [x])


# -- activations: forward values --------------------------------------------------------


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_activation_values_match_numpy(backend):
    a = np.random.default_rng(0).standard_normal((4, 5)) * 3
    x = _t(a)
    erf = np.vectorize(math.erf)
    cases = [
        (nn.ReLU(), np.maximum(a, 0)),
        (nn.Tanh(), np.tanh(a)),
        (nn.Sigmoid(), 1 / (1 + np.exp(-a))),
        (nn.Softmax(dim=1), _softmax(a, 1)),
        (nn.Softmax(dim=0), _softmax(a, 0)),
        (nn.LogSoftmax(dim=1), np.log(_softmax(a, 1))),
        (nn.GELU(), 0.5 * a * (1 + erf(a / math.sqrt(2)))),
        (nn.GELU("tanh"), 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))),
        (nn.LeakyReLU(0.2), np.where(a > 0, a, 0.2 * a)),
        (nn.LeakyReLU(), np.where(a > 0, a, 0.01 * a)),
    ]
    for module, expected in cases:
        np.testing.assert_allclose(module(x).numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=repr(module))


def test_log_softmax_is_stable_for_huge_logits(backend):
    x = _t([[1e4, 0.0, -1e4]], dtype=gdl.float32)
    out = nn.LogSoftmax(dim=1)(x).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [[0.0, -1e4, -2e4]], rtol=1e-6)


def test_gelu_rejects_unknown_approximation(backend):
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")(gdl.zeros(2))


# -- Dropout -------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_is_inverted_dropout(backend, p):
    layer = nn.Dropout(p)
    x = gdl.ones(200, 500)
    out = layer(x).numpy()
    kept = out != 0
    # survivors are scaled by 1/(1-p) so the expected value is unchanged
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - p), rtol=1e-6)
    assert abs((1 - kept.mean()) - p) < 0.01  # 100,000 draws: 4 standard errors is ~0.006
    assert abs(out.mean() - 1.0) < 0.03


def test_dropout_gradient_is_the_scaled_mask(backend):
    layer = nn.Dropout(0.5)
    x = gdl.randn(50, 40, dtype=F64, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    mask = out.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-12)
    assert set(np.unique(np.round(mask, 12))) == {0.0, 2.0}


def test_dropout_inactive_in_eval_and_at_p0(backend):
    x = gdl.randn(30, 30)
    layer = nn.Dropout(0.9).eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not np.any(nn.Dropout(1.0)(x).numpy())
    layer.train()
    assert np.mean(layer(x).numpy() == 0) > 0.8


def test_dropout_mask_repeats_after_manual_seed(backend):
    layer = nn.Dropout(0.5)
    x = gdl.ones(64, 64)
    gdl.manual_seed(7)
    first = layer(x).numpy()
    second = layer(x).numpy()
    gdl.manual_seed(7)
    again = layer(x).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)  # a fresh mask each call


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="p must be in"):
        nn.functional.dropout(gdl.ones(2), p)


# -- Embedding -----------------------------------------------------------------------------


def test_embedding_forward_picks_rows(backend):
    layer = nn.Embedding(6, 3)
    assert layer.weight.shape == (6, 3)
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    out = layer(gdl.tensor(idx))
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy(), layer.weight.numpy()[idx])
    np.testing.assert_array_equal(layer([4, 1]).numpy(), layer.weight.numpy()[[4, 1]])


@SETTINGS
@given(num=st.integers(1, 8), n=st.integers(1, 30), seed=st.integers(0, 999))
def test_embedding_backward_accumulates_repeated_indices(backend, num, n, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Embedding(num, 4, dtype=F64)
    idx = rng.integers(0, num, size=(n,))
    upstream = rng.standard_normal((n, 4))
    layer(gdl.tensor(idx)).backward(gdl.tensor(upstream, dtype=F64))
    expected = np.zeros((num, 4))
    np.add.at(expected, idx, upstream)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_embedding_repeated_index_counts(backend):
    layer = nn.Embedding(5, 2)
    layer(gdl.tensor([[1, 1], [1, 3]])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1], [0, 0]])


def test_embedding_padding_idx(backend):
    layer = nn.Embedding(4, 3, padding_idx=-1)
    assert layer.padding_idx == 3
    assert not np.any(layer.weight.numpy()[3])
    assert np.all(layer.weight.numpy()[:3] != 0)
    layer(gdl.tensor([3, 0, 3])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[3], [0, 0, 0])
    np.testing.assert_array_equal(layer.weight.grad.numpy()[0], [1, 1, 1])


def test_embedding_rejects_float_indices(backend):
    with pytest.raises(TypeError, match="integers"):
        nn.Embedding(4, 2)(gdl.tensor([0.0, 1.0]))


def test_embedding_default_init_is_standard_normal(backend):
    w = nn.Embedding(400, 250).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01


# -- LayerNorm and BatchNorm against NumPy ---------------------------------------------------


def test_layernorm_matches_numpy(backend):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 5)) * 4 + 2
    for shape, axes in [((5,), (-1,)), ((4, 5), (-2, -1))]:
        layer = nn.LayerNorm(shape, eps=1e-3, dtype=F64)
        w, b = rng.standard_normal(shape), rng.standard_normal(shape)
        layer.load_state_dict({"weight": w, "bias": b})
        mu = a.mean(axis=axes, keepdims=True)
        var = a.var(axis=axes, keepdims=True)
        expected = (a - mu) / np.sqrt(var + 1e-3) * w + b
        np.testing.assert_allclose(layer(_t(a)).numpy(), expected, rtol=1e-10, atol=1e-12)
    plain = nn.LayerNorm(5, elementwise_affine=False, dtype=F64)
    assert list(plain.parameters()) == []
    out = plain(_t(a)).numpy()
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-4)
    with pytest.raises(ValueError, match="does not end with"):
        nn.LayerNorm(4)(gdl.zeros(2, 5))


def _bn_reference(a, axes, running_mean, running_var, momentum, eps, w, b):
    shape = [1] * a.ndim
    shape[1] = a.shape[1]
    mu = a.mean(axis=axes)
    var = a.var(axis=axes)
    n = a.size // a.shape[1]
    out = (a - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return out, new_mean, new_var


@pytest.mark.parametrize("layer_cls,shape,axes", [
    (nn.BatchNorm1d, (8, 3), (0,)),
    (nn.BatchNorm1d, (4, 3, 5), (0, 2)),
    (nn.BatchNorm2d, (3, 3, 4, 2), (0, 2, 3)),
])
def test_batchnorm_train_and_running_statistics_match_numpy(backend, layer_cls, shape, axes):
    rng = np.random.default_rng(2)
    layer = layer_cls(3, momentum=0.3, eps=1e-4, dtype=F64)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    layer.load_state_dict({"weight": w, "bias": b}, strict=False)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(3):
        a = rng.standard_normal(shape) * (step + 1) + step
        expected, rm, rv = _bn_reference(a, axes, rm, rv, 0.3, 1e-4, w, b)
        np.testing.assert_allclose(layer(_t(a)).numpy(), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.running_mean.numpy(), rm, rtol=1e-12)
        np.testing.assert_allclose(layer.running_var.numpy(), rv, rtol=1e-12)
        assert int(layer.num_batches_tracked.item()) == step + 1
    # eval: the running statistics, not the batch's; the running statistics stay put
    layer.eval()
    a = rng.standard_normal(shape) * 5
    bshape = [1] * len(shape)
    bshape[1] = 3
    expected = (a - rm.reshape(bshape)) / np.sqrt(rv.reshape(bshape) + 1e-4) * w.reshape(bshape) + b.reshape(bshape)
    np.testing.assert_allclose(layer(_t(a)).numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean.numpy(), rm, rtol=1e-12)
    assert int(layer.num_batches_tracked.item()) == 3
    # the same single example gives the same output in eval whatever the batch
    one = layer(_t(a[:1])).numpy()
    np.testing.assert_allclose(one, expected[:1], rtol=1e-10, atol=1e-12)


def test_batchnorm_train_output_is_normalised(backend):
    layer = nn.BatchNorm1d(4)
    out = layer(gdl.randn(256, 4) * 10.0 + 3.0).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-3)


def test_batchnorm_without_running_stats_uses_batch_in_eval(backend):
    layer = nn.BatchNorm1d(2, track_running_stats=False, affine=False, dtype=F64).eval()
    assert list(layer.state_dict()) == []
    a = np.random.default_rng(3).standard_normal((6, 2)) * 3 + 1
    expected = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
    np.testing.assert_allclose(layer(_t(a)).numpy(), expected, rtol=1e-10)


def test_batchnorm_rejects_wrong_shapes(backend):
    with pytest.raises(ValueError, match=r"BatchNorm1d.*3 channels.*\(4, 5\)"):
        nn.BatchNorm1d(3)(gdl.zeros(4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d.*4-D"):
        nn.BatchNorm2d(3)(gdl.zeros(4, 3))


# -- Linear ----------------------------------------------------------------------------------


def test_linear_layout_and_forward_match_numpy(backend):
    layer = nn.Linear(5, 3, dtype=F64)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    a = np.random.default_rng(4).standard_normal((7, 5))
    w, b = layer.weight.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(layer(_t(a)).numpy(), a @ w.T + b, rtol=1e-12)
    a3 = np.random.default_rng(5).standard_normal((2, 4, 5))
    np.testing.assert_allclose(layer(_t(a3)).numpy(), a3 @ w.T + b, rtol=1e-12)
    # gradients have the parameters' layouts
    layer(_t(a)).sum().backward()
    assert layer.weight.grad.shape == (3, 5)
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((7, 3)).T @ a, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(3, 7.0))


def test_linear_rejects_wrong_input_width(backend):
    with pytest.raises(ValueError, match=r"linear.*\(2, 4\).*\(3, 5\)"):
        nn.Linear(5, 3)(gdl.zeros(2, 4))


def test_linear_default_init_bounds(backend):
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(b).max() <= bound * (1 + 1e-6)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has std a/sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    assert w.dtype == np.float32


def test_layers_take_backend_and_dtype_arguments(backend):
    other = "array_api_strict" if backend == "numpy" else "numpy"
    layer = nn.Linear(2, 2, dtype=F64, backend=other)
    assert layer.weight.backend == other and layer.weight.dtype == F64
    norm = nn.BatchNorm1d(2, backend=other)
    assert norm.running_mean.backend == other


# -- init ------------------------------------------------------------------------------------


def _param(*shape, dtype=gdl.float32):
    return nn.Parameter(gdl.zeros(*shape, dtype=dtype))


def test_init_uniform_and_normal_statistics(backend):
    w = nn.init.uniform_(_param(400, 300), -2.0, 3.0).numpy()
    assert w.min() >= -2.0 and w.max() <= 3.0
    assert abs(w.mean() - 0.5) < 0.03 and abs(w.std() - 5 / math.sqrt(12)) < 0.02
    w = nn.init.normal_(_param(400, 300), 1.5, 0.5).numpy()
    assert abs(w.mean() - 1.5) < 0.01 and abs(w.std() - 0.5) < 0.01
    assert np.all(nn.init.zeros_(_param(3, 3)).numpy() == 0)
    assert np.all(nn.init.ones_(_param(3, 3)).numpy() == 1)
    assert np.all(nn.init.constant_(_param(3), 0.25).numpy() == 0.25)


@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3, 3)])
def test_init_xavier_and_kaiming(backend, shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    assert nn.init.fan_in_and_fan_out(_param(*shape)) == (fan_in, fan_out)

    a = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    w = nn.init.xavier_uniform_(_param(*shape), gain=2.0).numpy()
    assert np.abs(w).max() <= a * (1 + 1e-6) and np.abs(w).max() > 0.99 * a
    assert abs(w.std() - a / math.sqrt(3)) < 0.03 * a

    std = math.sqrt(2 / (fan_in + fan_out))
    w = nn.init.xavier_normal_(_param(*shape)).numpy()
    assert abs(w.std() - std) < 0.03 * std and abs(w.mean()) < 0.03 * std

    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    w = nn.init.kaiming_uniform_(_param(*shape), nonlinearity="relu").numpy()
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound

    bound_out = math.sqrt(2) * math.sqrt(3 / fan_out)
    w = nn.init.kaiming_uniform_(_param(*shape), mode="fan_out", nonlinearity="relu").numpy()
    assert np.abs(w).max() <= bound_out * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound_out

    std = math.sqrt(2 / fan_in)  # He et al.: the book's ch13 randn·sqrt(2/in)
    w = nn.init.kaiming_normal_(_param(*shape), nonlinearity="relu").numpy()
    assert abs(w.std() - std) < 0.03 * std and abs(w.mean()) < 0.03 * std


def test_init_gains_and_errors():
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("sigmoid") == 1.0
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    # PyTorch's Linear default: kaiming_uniform_(a=sqrt(5)) is U(±1/sqrt(fan_in))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / 9) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(_param(5))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(_param(3, 3), mode="fan_avg")


def test_init_keeps_dtype_and_backend(backend):
    p = _param(20, 10, dtype=F64)
    for fn in (nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.normal_, nn.init.zeros_):
        out = fn(p)
        assert out is p and p.dtype == F64 and p.backend == backend and p.requires_grad


def _build():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Embedding(5, 3), nn.Linear(3, 2))


def test_manual_seed_makes_model_creation_repeatable(backend):
    gdl.manual_seed(42)
    a = _build().state_dict()
    gdl.manual_seed(42)
    b = _build().state_dict()
    c = _build().state_dict()  # the generator moved on
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
    assert not np.array_equal(a["0.weight"].numpy(), c["0.weight"].numpy())
    gdl.manual_seed(43)
    d = _build().state_dict()
    assert not np.array_equal(a["0.weight"].numpy(), d["0.weight"].numpy())
