"""Channel dropout (dropout1d/2d/3d), alpha dropout, rrelu, channel_shuffle, Softmax2d and
nn.Buffer on every backend: mask structure and statistics, eval mode, gradients (gradcheck
in float64 with the mask or slopes fixed by re-seeding), seeds, and error messages."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.testing import gradcheck

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALPHA_NEG_SAT = 1.7580993408473766  # SELU's λα


def t64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def rand(shape, seed=0, low=0.5, high=2.0):
    """Values away from 0 with random signs (no element of ``x`` is 0, so ``out/x`` is the mask)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def seeded(fn, seed=7):
    """``fn`` with the generator re-seeded before every call: the same mask/slopes each time."""
    def call(*args):
        gdl.manual_seed(seed)
        return fn(*args)
    return call


# channel dropouts: (function, shape, the dims that share one draw = the mask is constant along them)
CHANNEL_CASES = [
    (F.dropout1d, (30, 20, 5), (2,)),        # (N, C, L)
    (F.dropout1d, (40, 6), (1,)),            # unbatched (C, L)
    (F.dropout2d, (12, 25, 3, 2), (2, 3)),   # (N, C, H, W)
    (F.dropout2d, (30, 20, 4), (2,)),        # 3-D read as (N, C, L), as PyTorch's (with a warning)
    (F.dropout3d, (8, 30, 2, 2, 2), (2, 3, 4)),
    (F.dropout3d, (60, 2, 3, 2), (1, 2, 3)),  # unbatched (C, D, H, W)
]


def _call(fn, x, p, training=True):
    with pytest.warns(UserWarning) if (fn is F.dropout2d and x.ndim == 3) else _nothing():
        return fn(x, p, training)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("fn, shape, shared", CHANNEL_CASES)
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(backend, fn, shape, shared):
    p = 0.3
    a = rand(shape)
    out = _call(fn, t64(a), p).numpy()
    ratio = out / a
    assert set(np.unique(np.round(ratio, 12)).tolist()) <= {0.0, round(1 / (1 - p), 12)}
    kept = ratio != 0
    # one draw per channel: constant along the shared dims, and varying across channels
    assert np.all(kept == kept.take([0], axis=shared[0])), "mask differs inside a channel"
    for ax in shared[1:]:
        assert np.all(kept == kept.take([0], axis=ax))
    per_channel = kept.min(axis=shared)
    assert 0 < per_channel.mean() < 1
    # a per-sample draw would be constant along the channel axis (this catches it)
    free = [ax for ax in range(len(shape)) if ax not in shared]
    for ax in free:
        assert not np.all(kept == kept.take([0], axis=ax)), f"mask constant along axis {ax}"
    n = per_channel.size
    assert abs((1 - per_channel.mean()) - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_channel_dropout_rate_matches_p_over_many_channels(backend):
    for p in (0.1, 0.5, 0.8):
        out = F.dropout2d(gdl.ones(100, 100, 1, 1), p).numpy()
        dropped = (out == 0).mean()
        assert abs(dropped - p) < 0.03, (p, dropped)
        np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)


@pytest.mark.parametrize("fn, shape, shared", CHANNEL_CASES)
def test_channel_dropout_eval_p0_p1(backend, fn, shape, shared):
    a = rand(shape)
    x = t64(a)
    np.testing.assert_array_equal(_call(fn, x, 0.5, training=False).numpy(), a)
    np.testing.assert_array_equal(_call(fn, x, 0.0).numpy(), a)
    np.testing.assert_array_equal(_call(fn, x, 1.0).numpy(), np.zeros(shape))


@pytest.mark.parametrize("fn, shape, shared", CHANNEL_CASES)
def test_channel_dropout_gradient_is_the_mask(backend, fn, shape, shared):
    x = t64(rand(shape), grad=True)
    gdl.manual_seed(3)
    out = _call(fn, x, 0.4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy() / x.numpy(), rtol=1e-12)


@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 4), rest=st.lists(st.integers(1, 3), min_size=1, max_size=1),
       p=st.sampled_from([0.2, 0.5, 0.9]))
def test_dropout_variants_gradcheck(backend, n, c, rest, p):
    for fn, shape in ((F.dropout1d, (n, c) + tuple(rest)), (F.dropout2d, (n, c) + tuple(rest) * 2),
                      (F.dropout3d, (n, c) + tuple(rest) * 3), (F.feature_alpha_dropout, (n, c) + tuple(rest)),
                      (F.alpha_dropout, (n, c) + tuple(rest))):
        x = t64(rand(shape), grad=True)
        assert gradcheck(seeded(lambda x, fn=fn: fn(x, p, True)), [x])


def test_same_seed_same_mask_other_seed_other_mask(backend):
    x = gdl.ones(20, 30, 2)
    outs = {}
    for fn in (F.dropout1d, F.feature_alpha_dropout, F.alpha_dropout):
        for seed in (1, 1, 2):
            gdl.manual_seed(seed)
            outs.setdefault(fn.__name__, []).append(fn(x, 0.5, True).numpy())
        first, again, other = outs[fn.__name__]
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, other)
    gdl.manual_seed(5)
    a = F.rrelu(gdl.full((50,), -1.0), training=True).numpy()
    gdl.manual_seed(5)
    np.testing.assert_array_equal(F.rrelu(gdl.full((50,), -1.0), training=True).numpy(), a)


def test_draws_do_not_touch_numpys_global_generator(backend):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    F.dropout2d(gdl.ones(4, 4, 2, 2), 0.5)
    F.alpha_dropout(gdl.ones(8), 0.5, True)
    F.feature_alpha_dropout(gdl.ones(4, 4, 2), 0.5, True)
    F.rrelu(-gdl.ones(8), training=True)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_float32_stays_float32(backend):
    x = gdl.randn(4, 6, 3)
    for y in (F.dropout1d(x, 0.5), F.alpha_dropout(x, 0.5, True), F.feature_alpha_dropout(x, 0.5, True),
              F.rrelu(x, training=True), F.rrelu(x), F.channel_shuffle(x, 2), nn.Softmax2d()(x)):
        assert y.dtype == gdl.float32


# -- alpha dropout --------------------------------------------------------------------------------


def _selu_input(shape, seed=0):
    """SELU of standard normals: mean ≈ 0, variance ≈ 1 (SELU's fixed point)."""
    return F.selu(t64(np.random.default_rng(seed).standard_normal(shape)))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_alpha_dropout_keeps_mean_0_and_variance_1(backend, p):
    x = _selu_input((200_000,))
    xn = x.numpy()
    assert abs(xn.mean()) < 0.01 and abs(xn.var() - 1) < 0.02
    y = F.alpha_dropout(x, p, True).numpy()
    assert abs(y.mean()) < 0.02, y.mean()
    assert abs(y.var() - 1) < 0.03, y.var()
    # structure: dropped entries all take one value, kept ones are an affine map of x
    a = 1 / math.sqrt((ALPHA_NEG_SAT ** 2 * p + 1) * (1 - p))
    dropped_value = ALPHA_NEG_SAT * a * (p - 1)
    kept = ~np.isclose(y, dropped_value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y[kept], a * xn[kept] + ALPHA_NEG_SAT * a * p, rtol=1e-12, atol=1e-14)
    assert abs((1 - kept.mean()) - p) < 0.01


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_feature_alpha_dropout_keeps_mean_and_variance_and_drops_channels(backend, p):
    x = _selu_input((4000, 25, 2))
    y = F.feature_alpha_dropout(x, p, True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03, (y.mean(), y.var())
    a = 1 / math.sqrt((ALPHA_NEG_SAT ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(y, ALPHA_NEG_SAT * a * (p - 1), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(dropped[:, :, 0], dropped[:, :, 1])  # whole channels
    assert abs(dropped.mean() - p) < 0.01


def test_alpha_dropouts_eval_p0_p1_and_gradients(backend):
    a = rand((3, 4, 2))
    x = t64(a, grad=True)
    for fn in (F.alpha_dropout, F.feature_alpha_dropout):
        np.testing.assert_array_equal(fn(x, 0.5).numpy(), a)  # training defaults to False, as PyTorch's
        np.testing.assert_array_equal(fn(x, 0.5, False).numpy(), a)
        np.testing.assert_array_equal(fn(x, 0.0, True).numpy(), a)
        np.testing.assert_array_equal(fn(x, 1.0, True).numpy(), np.zeros(a.shape))  # p=1: zeros, as PyTorch's
        x.grad = None
        gdl.manual_seed(2)
        y = fn(x, 0.5, True)
        y.sum().backward()
        p = 0.5
        scale = 1 / math.sqrt((ALPHA_NEG_SAT ** 2 * p + 1) * (1 - p))
        kept = ~np.isclose(y.numpy(), ALPHA_NEG_SAT * scale * (p - 1), rtol=0, atol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), np.where(kept, scale, 0.0), rtol=1e-12)


# -- rrelu ---------------------------------------------------------------------------------------


def test_rrelu_training_draws_one_slope_per_negative_element(backend):
    lower, upper = 0.1, 0.4
    a = rand((4000,), seed=3)
    x = t64(a, grad=True)
    y = F.rrelu(x, lower, upper, training=True)
    y.sum().backward()
    out = y.numpy()
    neg = a < 0
    np.testing.assert_array_equal(out[~neg], a[~neg])
    slopes = out[neg] / a[neg]
    assert slopes.min() >= lower and slopes.max() <= upper
    assert len(np.unique(slopes)) > 0.9 * slopes.size  # a slope per element, not one for all
    assert abs(slopes.mean() - (lower + upper) / 2) < 0.01
    assert abs(slopes.var() - (upper - lower) ** 2 / 12) < 0.002  # uniform
    np.testing.assert_allclose(x.grad.numpy(), np.where(neg, out / a, 1.0), rtol=1e-12)


def test_rrelu_eval_uses_the_mean_slope(backend):
    a = np.array([-4.0, -1.0, 0.0, 2.0])
    x = t64(a, grad=True)
    y = F.rrelu(x, 0.1, 0.3)
    slope = 0.2
    np.testing.assert_allclose(y.numpy(), np.where(a > 0, a, slope * a), rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(a > 0, 1.0, slope), rtol=1e-15)
    m = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_array_equal(m(x).numpy(), y.numpy())


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), training=st.booleans(), seed=st.integers(0, 99))
def test_rrelu_gradcheck(backend, shape, training, seed):
    x = t64(rand(tuple(shape), seed=seed), grad=True)  # |x| >= 0.5: no kink inside the finite difference
    assert gradcheck(seeded(lambda x: F.rrelu(x, 0.05, 0.6, training)), [x])


def test_rrelu_module_switches_with_train_and_eval(backend):
    m = nn.RReLU()
    x = gdl.full((1000,), -1.0)
    train_out = m(x).numpy()
    assert len(np.unique(train_out)) > 100
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)


# -- channel_shuffle and Softmax2d ---------------------------------------------------------------------


def _np_shuffle(a, g):
    n, c = a.shape[:2]
    return a.reshape((n, g, c // g) + a.shape[2:]).swapaxes(1, 2).reshape(a.shape)


@SETTINGS
@given(n=st.integers(0, 3), cg=st.integers(1, 4), g=st.integers(1, 4),
       rest=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_channel_shuffle_matches_numpy_and_gradcheck(backend, n, cg, g, rest):
    shape = (n, cg * g) + tuple(rest)
    a = rand(shape)
    x = t64(a, grad=True)
    np.testing.assert_array_equal(F.channel_shuffle(x, g).numpy(), _np_shuffle(a, g))
    np.testing.assert_array_equal(nn.ChannelShuffle(g)(x).numpy(), _np_shuffle(a, g))
    if x.numel():
        assert gradcheck(lambda x: F.channel_shuffle(x, g), [x])


def test_channel_shuffle_example_and_integers(backend):
    x = gdl.tensor(np.arange(12).reshape(1, 6, 2))
    out = F.channel_shuffle(x, 3)
    assert out.dtype == gdl.int64
    np.testing.assert_array_equal(out.numpy()[0, :, 0], [0, 4, 8, 2, 6, 10])


@pytest.mark.parametrize("shape", [(3, 2, 2), (2, 4, 3, 2)])
def test_softmax2d_sums_to_one_over_channels_and_gradcheck(backend, shape):
    a = rand(shape)
    x = t64(a, grad=True)
    y = nn.Softmax2d()(x).numpy()
    e = np.exp(a - a.max(axis=-3, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=-3, keepdims=True), rtol=1e-12)
    assert gradcheck(lambda x: nn.Softmax2d()(x), [x])


# -- modules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, shape", [(nn.Dropout1d, (6, 8, 3)), (nn.Dropout2d, (6, 8, 3, 3)),
                                        (nn.Dropout3d, (6, 8, 2, 2, 2)), (nn.AlphaDropout, (6, 8)),
                                        (nn.FeatureAlphaDropout, (6, 8, 3))])
def test_dropout_modules_train_and_eval(backend, cls, shape):
    m = cls(0.5)
    assert repr(m) == f"{cls.__name__}(p=0.5, inplace=False)"
    x = gdl.tensor(rand(shape), dtype=gdl.float32)
    assert not np.array_equal(m(x).numpy(), x.numpy())
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())
    assert cls(0.2, inplace=True).inplace is True


@pytest.mark.parametrize("fn", [F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout])
def test_inplace_is_accepted_and_never_writes_the_input(backend, fn):
    a = rand((4, 6, 2) if fn is F.dropout1d else (4, 6, 2, 2))
    x = t64(a)
    y = fn(x, 0.5, True, inplace=True)
    assert y is not x and not np.array_equal(y.numpy(), a)
    np.testing.assert_array_equal(x.numpy(), a)


def test_module_reprs():
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.RReLU(0.1, 0.3, True)) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    assert repr(nn.Softmax2d()) == "Softmax2d()"
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"


# -- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout])
def test_bad_p(backend, fn):
    x = gdl.ones(2, 3, 4)
    for p in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: dropout probability has to be between 0 and 1"):
            fn(x, p, False)
    with pytest.raises(TypeError, match=rf"{fn.__name__}: p must be a real number"):
        fn(x, True)  # the training flag passed as p
    with pytest.raises(TypeError, match=fn.__name__):
        fn([1.0, 2.0], 0.5)


@pytest.mark.parametrize("cls", [nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout])
def test_modules_check_p(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: .*but got 1.5"):
        cls(1.5)
    with pytest.raises(ValueError, match=cls.__name__):
        cls(-0.5)


def test_shape_errors(backend):
    for shape in [(), (4,), (2, 3, 4, 5)]:
        for training in (True, False):
            with pytest.raises(ValueError, match=rf"dropout1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, "
                                                 rf"got shape {re_shape(shape)}"):
                F.dropout1d(gdl.ones(*shape), 0.5, training)
    with pytest.warns(UserWarning, match="dropout2d"), pytest.raises(ValueError, match=r"dropout2d: .*shape \(4,\)"):
        F.dropout2d(gdl.ones(4), 0.5)
    with pytest.warns(UserWarning, match="dropout3d"), pytest.raises(ValueError, match=r"dropout3d: .*shape \(\)"):
        F.dropout3d(gdl.ones(()), 0.5)
    with pytest.raises(ValueError, match=r"feature_alpha_dropout: .*shape \(4,\)"):
        F.feature_alpha_dropout(gdl.ones(4), 0.5, True)
    # PyTorch's order: eval mode, p == 0, p == 1 and empty inputs pass before the rank is checked
    with pytest.warns(UserWarning):
        assert F.dropout2d(gdl.ones(4), 0.5, False).shape == (4,)
    assert F.feature_alpha_dropout(gdl.ones(4), 1.0, True).numpy().tolist() == [0.0] * 4
    assert F.feature_alpha_dropout(gdl.ones(0), 0.5, True).shape == (0,)
    with pytest.warns(UserWarning, match="dropout3d"):
        assert F.dropout3d(gdl.ones(5), 0.5).shape == (5,)  # 1-D reads as an unbatched (C,)


def re_shape(shape):
    import re

    return re.escape(str(tuple(shape)))


def test_dropout2d_warnings(backend):
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(gdl.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        F.dropout2d(gdl.ones(2, 3, 2, 2, 2), 0.5)
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(gdl.ones(2, 3, 4), 0.5)


def test_integer_inputs_in_training_are_refused(backend):
    x = gdl.tensor(np.ones((2, 3, 4), dtype=np.int64))
    for fn in (F.dropout1d, F.dropout2d, F.alpha_dropout):
        with pytest.raises(TypeError, match=rf"{fn.__name__}: expected a floating-point input.*int64"), \
                pytest.warns(UserWarning) if fn is F.dropout2d else _nothing():
            fn(x, 0.5, True)
    np.testing.assert_array_equal(F.dropout1d(x, 0.5, False).numpy(), x.numpy())


def test_rrelu_errors(backend):
    with pytest.raises(ValueError, match=r"rrelu: lower bound should be less than or equal to the upper bound, "
                                         r"got lower=0.5 and upper=0.1"):
        F.rrelu(gdl.ones(3), 0.5, 0.1)
    m = nn.RReLU(0.5, 0.1)  # PyTorch checks when it runs
    with pytest.raises(ValueError, match="rrelu: lower bound"):
        m(gdl.ones(3))
    with pytest.raises(TypeError, match="rrelu: lower must be a real number"):
        F.rrelu(gdl.ones(3), "a")
    with pytest.raises(TypeError, match="rrelu"):
        F.rrelu(np.ones(3))


def test_channel_shuffle_errors(backend):
    with pytest.raises(ValueError, match=r"channel_shuffle: expects an input with more than 2 dimensions .*\(2, 4\)"):
        F.channel_shuffle(gdl.ones(2, 4), 2)
    with pytest.raises(ValueError, match="channel_shuffle: the number of groups .* positive, got groups=0"):
        F.channel_shuffle(gdl.ones(1, 4, 2), 0)
    with pytest.raises(ValueError, match="channel_shuffle: .*divisible by groups, got 4 channels .*groups=3"):
        nn.ChannelShuffle(3)(gdl.ones(1, 4, 2))
    with pytest.raises(TypeError, match="channel_shuffle: groups must be an int, got float"):
        F.channel_shuffle(gdl.ones(1, 4, 2), 2.0)


def test_softmax2d_errors(backend):
    for shape in [(4,), (2, 3), (1, 2, 3, 4, 5)]:
        with pytest.raises(ValueError, match=rf"Softmax2d: expected input to be 3D or 4D, got {len(shape)}D"):
            nn.Softmax2d()(gdl.ones(*shape))


# -- nn.Buffer ---------------------------------------------------------------------------------------------


class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.count = nn.Buffer(gdl.zeros(1))
        self.cache = nn.Buffer(gdl.ones(3), persistent=False)


def test_buffer_registers_itself(backend):
    m = _WithBuffers()
    assert [n for n, _ in m.named_buffers()] == ["count", "cache"]
    assert list(m.state_dict()) == ["count", "lin.weight", "lin.bias"]  # own entries first, as torch
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    assert isinstance(m.count, nn.Buffer) and isinstance(m.count, gdl.Tensor)
    m.load_state_dict({"lin.weight": gdl.ones(2, 2), "lin.bias": gdl.zeros(2), "count": gdl.tensor([5.0])})
    assert m.count.numpy().tolist() == [5.0]
    # plain tensors assigned to a buffer's name stay buffers; a new Buffer can change persistence
    m.count = gdl.tensor([1.0])
    assert "count" in m.state_dict()
    m.cache = nn.Buffer(gdl.ones(3), persistent=True)
    assert list(m.state_dict()) == ["count", "cache", "lin.weight", "lin.bias"]
    m.count = nn.Buffer(gdl.zeros(1), persistent=False)
    assert "count" not in m.state_dict() and [n for n, _ in m.named_buffers()] == ["count", "cache"]


def test_buffer_shares_data_and_keeps_requires_grad(backend):
    t = gdl.zeros(3)
    b = nn.Buffer(t)
    assert b.data is t.data and b.requires_grad is False and b.persistent is True
    assert nn.Buffer(gdl.zeros(2, requires_grad=True)).requires_grad is True
    assert nn.Buffer().shape == (0,)
    with pytest.raises(TypeError, match="Buffer: expected a Tensor"):
        nn.Buffer([1.0, 2.0])


def test_buffer_copies_moves_and_refuses_parameter_names(backend):
    m = _WithBuffers()
    c = copy.deepcopy(m)
    assert c.cache.persistent is False and list(c.state_dict()) == list(m.state_dict())
    assert c.count.data is not m.count.data
    m.to(gdl.float64)
    assert m.count.dtype == gdl.float64 and isinstance(m.count, nn.Buffer)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.lin.weight = nn.Buffer(gdl.zeros(2, 2))
    with pytest.raises(TypeError, match="child module 'lin'"):
        m.lin = nn.Buffer(gdl.zeros(2, 2))
    m.register_buffer("count", gdl.zeros(1), persistent=True)  # register_buffer can switch it back too
    assert "count" in m.state_dict()
