"""Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout, RReLU, Softmax2d, ChannelShuffle and
nn.Buffer against PyTorch 2.13 (float64). Deterministic paths (eval mode, p = 0 and 1,
RReLU in eval, Softmax2d, channel_shuffle) are compared value for value, gradients too; the
random training paths draw from different generators, so their structure is compared
instead: which axes share one draw, the scale 1/(1-p), alpha dropout's a and b, the range
and gradient of RReLU's slopes. Accepted and refused shapes (and warnings) must agree."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.nn.functional as F  # noqa: E402
from gdl import nn  # noqa: E402

TF = torch.nn.functional
DROPOUTS = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _grads(x_ours, x_theirs, out, ref, seed=0):
    w = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(ref.shape))
    (out * g64(w)).sum().backward()
    (ref * t64(w)).sum().backward()
    close(x_ours.grad, x_theirs.grad, "grad")


def _run(fn, *args, **kw):
    """(exception type or None, result, warning messages) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, err = fn(*args, **kw), None
        except (ValueError, TypeError, RuntimeError) as e:
            out, err = None, type(e)
    return err, out, [str(w.message) for w in caught]


def _rand(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# -- which shapes are accepted, refused, or warned about -------------------------------------------


@pytest.mark.parametrize("name", DROPOUTS)
@pytest.mark.parametrize("ndim", range(7))
@pytest.mark.parametrize("p, training", [(0.5, True), (0.5, False), (0.0, True), (1.0, True)])
def test_accepted_and_refused_ranks_match_torch(name, ndim, p, training):
    shape = (3,) * ndim
    a = _rand(shape)
    err_t, ref, warn_t = _run(getattr(TF, name), t64(a), p, training)
    err_g, got, warn_g = _run(getattr(F, name), g64(a), p, training)
    assert (err_t is None) == (err_g is None), f"{name} {shape}: torch {err_t}, gdl {err_g}"
    assert len(warn_t) == len(warn_g), f"{name} {shape}: warnings {warn_t} vs {warn_g}"
    if got is not None:
        assert got.shape == tuple(ref.shape)
        if not training or p in (0.0, 1.0):
            close(got, ref, f"{name} {shape} p={p} training={training}")


@pytest.mark.parametrize("name", DROPOUTS)
def test_empty_inputs_pass_as_in_torch(name):
    for shape in [(0,), (0, 3, 2), (2, 0, 3, 2)]:
        err_t, ref, _ = _run(getattr(TF, name), t64(np.zeros(shape)), 0.5, True)
        err_g, got, _ = _run(getattr(F, name), g64(np.zeros(shape)), 0.5, True)
        assert (err_t is None) == (err_g is None), (name, shape, err_t, err_g)


@pytest.mark.parametrize("name", DROPOUTS)
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_p_is_refused_like_torch(name, p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(TF, name)(t64(np.ones((2, 3, 4))), p)
    with pytest.raises(ValueError, match=f"{name}: dropout probability has to be between 0 and 1, but got {p}"):
        getattr(F, name)(g64(np.ones((2, 3, 4))), p)


@pytest.mark.parametrize("cls", ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_module_constructors_and_reprs_match_torch(cls):
    for args in [(), (0.2,), (0.3, True)]:
        assert repr(getattr(nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))
    for p in (-0.5, 1.5):
        with pytest.raises(ValueError):
            getattr(torch.nn, cls)(p)
        with pytest.raises(ValueError):
            getattr(nn, cls)(p)


def test_other_module_reprs_match_torch():
    for ours, theirs in [(nn.RReLU(), torch.nn.RReLU()), (nn.RReLU(0.1, 0.2, True), torch.nn.RReLU(0.1, 0.2, True)),
                         (nn.Softmax2d(), torch.nn.Softmax2d()), (nn.ChannelShuffle(4), torch.nn.ChannelShuffle(4))]:
        assert repr(ours) == repr(theirs)


# -- random training modes: structure -----------------------------------------------------------------


def _constant_axes(mask):
    """For each axis, whether the mask is the same all along it (one draw shared along the axis)."""
    return tuple(bool(np.all(mask == mask.take([0], axis=ax))) for ax in range(mask.ndim))


CHANNEL_SHAPES = [
    ("dropout1d", (10, 12, 4)), ("dropout1d", (12, 5)),
    ("dropout2d", (10, 12, 3, 2)), ("dropout2d", (10, 12, 4)), ("dropout2d", (10, 12)), ("dropout2d", (6, 8, 2, 2, 2)),
    ("dropout3d", (6, 8, 2, 2, 2)), ("dropout3d", (12, 2, 3, 2)), ("dropout3d", (12, 3, 2)), ("dropout3d", (12,)),
    ("dropout3d", (4, 6, 2, 2, 2, 2)),
    ("feature_alpha_dropout", (10, 12, 3)), ("feature_alpha_dropout", (10, 12)), ("alpha_dropout", (10, 12, 3)),
]


@pytest.mark.parametrize("name, shape", CHANNEL_SHAPES)
def test_training_masks_share_draws_along_the_same_axes_as_torch(name, shape):
    p = 0.5
    a = np.ones(shape)
    torch.manual_seed(0)
    gdl.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(TF, name)(t64(a), p, True).numpy()
        got = getattr(F, name)(g64(a), p, True).numpy()
    # the most common value is the one kept (ones in, so kept entries are all equal)
    dropped_t, dropped_g = ref == ref.min(), got == got.min()
    assert 0 < dropped_t.mean() < 1 and 0 < dropped_g.mean() < 1
    assert _constant_axes(dropped_g) == _constant_axes(dropped_t), name
    # the kept and dropped values agree (the scale 1/(1-p), or alpha dropout's a·1 + b and its saturation)
    np.testing.assert_allclose(np.unique(got), np.unique(ref), rtol=1e-12)


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d"])
@pytest.mark.parametrize("p", [0.2, 0.75])
def test_channel_dropout_scale_matches_torch(name, p):
    shape = {"dropout1d": (8, 10, 3), "dropout2d": (8, 10, 2, 2), "dropout3d": (8, 10, 2, 2, 2)}[name]
    a = _rand(shape)
    ref = np.unique(np.round(getattr(TF, name)(t64(a), p, True).numpy() / a, 12))
    got = np.unique(np.round(getattr(F, name)(g64(a), p, True).numpy() / a, 12))
    np.testing.assert_allclose(ref, [0.0, 1 / (1 - p)], rtol=1e-12)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_alpha_dropout_constants_match_torch(name, p):
    """Zeros in give {b, saturation}; twos in give {2a + b, saturation}: a, b and the dropped value."""
    shape = (20, 30, 2)
    vals = {}
    for lib, fn, make in (("torch", getattr(TF, name), t64), ("gdl", getattr(F, name), g64)):
        lo = np.unique(np.asarray(fn(make(np.zeros(shape)), p, True).numpy()))
        hi = np.unique(np.asarray(fn(make(np.full(shape, 2.0)), p, True).numpy()))
        assert lo.size == 2 and hi.size == 2, (lib, lo, hi)
        sat, b = lo
        a = (hi[hi != sat][0] - b) / 2
        vals[lib] = (a, b, sat)
    np.testing.assert_allclose(vals["gdl"], vals["torch"], rtol=1e-12)
    a = 1 / math.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    np.testing.assert_allclose(vals["torch"][0], a, rtol=1e-12)


@pytest.mark.parametrize("name", DROPOUTS)
def test_training_gradient_is_the_mask_scale_in_both(name):
    """d out/d x = the scale the element got (0 where dropped), in gdl as in torch."""
    shape = {"dropout2d": (6, 8, 2, 2), "dropout3d": (6, 8, 2, 2, 2)}.get(name, (6, 8, 3))
    a = _rand(shape)
    for make, fn in ((t64, getattr(TF, name)), (g64, getattr(F, name))):
        x = make(a, grad=True)
        out = fn(x, 0.5, True)
        out.sum().backward()
        g = x.grad.numpy()
        vals = np.unique(np.round(g, 12))
        assert vals.size == 2 and vals[0] == 0.0, (name, vals)
        if "alpha" in name:
            b = (out.detach().numpy() if hasattr(out, "detach") else out.numpy()) - g * a
            assert np.unique(np.round(b[g != 0], 10)).size == 1  # kept: a·x + one b


@pytest.mark.parametrize("name", DROPOUTS)
def test_p1_gradient_is_zero_like_torch(name):
    a = _rand((3, 4, 2, 2, 2) if name == "dropout3d" else (3, 4, 2))
    x_t, x_g = t64(a, grad=True), g64(a, grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, got = getattr(TF, name)(x_t, 1.0, True), getattr(F, name)(x_g, 1.0, True)
    close(got, ref, name)
    _grads(x_g, x_t, got, ref)


# -- RReLU ---------------------------------------------------------------------------------------


@SETTINGS(15)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
       bounds=st.sampled_from([(1 / 8, 1 / 3), (0.0, 0.5), (0.2, 0.2), (-0.5, 0.25), (1.0, 2.0)]),
       seed=st.integers(0, 999))
def test_rrelu_eval_values_and_gradients(shape, bounds, seed):
    a = np.random.default_rng(seed).standard_normal(tuple(shape))
    if a.size:
        a.flat[0] = 0.0  # the kink: both give the slope (x > 0 is false)
    x_g, x_t = g64(a, grad=True), t64(a, grad=True)
    got, ref = F.rrelu(x_g, *bounds), TF.rrelu(x_t, *bounds)
    close(got, ref, "rrelu eval")
    close(nn.RReLU(*bounds).eval()(g64(a)), torch.nn.RReLU(*bounds).eval()(t64(a)), "RReLU eval")
    if a.size:
        _grads(x_g, x_t, got, ref, seed)


def test_rrelu_training_structure_matches_torch():
    lower, upper = 0.1, 0.3
    a = _rand((2000,), seed=4)
    a[:3] = 0.0
    for make, fn in ((t64, TF.rrelu), (g64, F.rrelu)):
        x = make(a, grad=True)
        out = fn(x, lower, upper, True)
        out.sum().backward()
        o, g = out.detach().numpy() if hasattr(out, "detach") else out.numpy(), x.grad.numpy()
        pos, neg = a > 0, a < 0
        np.testing.assert_array_equal(o[pos], a[pos])
        np.testing.assert_array_equal(g[pos], 1.0)
        slopes = o[neg] / a[neg]
        assert lower <= slopes.min() and slopes.max() <= upper and slopes.std() > 0.03
        np.testing.assert_allclose(g[neg], slopes, rtol=1e-12)  # the gradient uses the drawn slopes
        assert np.all((lower <= g[:3]) & (g[:3] <= upper))  # x = 0 draws a slope too (x <= 0)


def test_rrelu_bad_bounds_refused_like_torch():
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        TF.rrelu(t64(np.ones(3)), 0.5, 0.1)
    with pytest.raises(ValueError, match="rrelu: lower bound should be less than or equal to the upper bound"):
        F.rrelu(g64(np.ones(3)), 0.5, 0.1)
    torch.nn.RReLU(0.5, 0.1)
    nn.RReLU(0.5, 0.1)  # neither checks at construction


# -- Softmax2d and channel_shuffle -------------------------------------------------------------------


@SETTINGS(15)
@given(shape=st.lists(st.integers(1, 4), min_size=3, max_size=4), seed=st.integers(0, 999))
def test_softmax2d_values_and_gradients(shape, seed):
    a = np.random.default_rng(seed).standard_normal(tuple(shape)) * 3
    x_g, x_t = g64(a, grad=True), t64(a, grad=True)
    got, ref = nn.Softmax2d()(x_g), torch.nn.Softmax2d()(x_t)
    close(got, ref, "Softmax2d")
    _grads(x_g, x_t, got, ref, seed)


@pytest.mark.parametrize("ndim", [0, 1, 2, 5])
def test_softmax2d_refuses_the_same_ranks(ndim):
    a = np.ones((2,) * ndim)
    with pytest.raises(ValueError, match=f"Softmax2d: expected input to be 3D or 4D, got {ndim}D"):
        torch.nn.Softmax2d()(t64(a))
    with pytest.raises(ValueError, match=f"Softmax2d: expected input to be 3D or 4D, got {ndim}D"):
        nn.Softmax2d()(g64(a))


@SETTINGS(25)
@given(n=st.integers(0, 3), cg=st.integers(1, 4), groups=st.integers(1, 4),
       rest=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=st.integers(0, 999))
def test_channel_shuffle_values_and_gradients(n, cg, groups, rest, seed):
    shape = (n, cg * groups) + tuple(rest)
    a = np.random.default_rng(seed).standard_normal(shape)
    x_g, x_t = g64(a, grad=True), t64(a, grad=True)
    got, ref = F.channel_shuffle(x_g, groups), TF.channel_shuffle(x_t, groups)
    close(got, ref, "channel_shuffle")
    close(nn.ChannelShuffle(groups)(g64(a)), torch.nn.ChannelShuffle(groups)(t64(a)), "ChannelShuffle")
    if n:
        _grads(x_g, x_t, got, ref, seed)


@pytest.mark.parametrize("shape, groups", [((4,), 2), ((2, 4), 2), ((1, 4, 2), 0), ((1, 4, 2), -1),
                                           ((1, 4, 2), 3), ((1, 6, 2, 2), 4), ((1, 4, 2), 2.0)])
def test_channel_shuffle_refuses_what_torch_refuses(shape, groups):
    a = np.ones(shape)
    err_t, _, _ = _run(TF.channel_shuffle, t64(a), groups)
    err_g, _, _ = _run(F.channel_shuffle, g64(a), groups)
    assert err_t is not None and err_g is not None
    assert (err_t is TypeError) == (err_g is TypeError)


def test_channel_shuffle_integers_like_torch():
    a = np.arange(24).reshape(2, 6, 2)
    got = F.channel_shuffle(gdl.tensor(a), 3).numpy()
    np.testing.assert_array_equal(got, TF.channel_shuffle(torch.tensor(a), 3).numpy())


# -- nn.Buffer -------------------------------------------------------------------------------------------


def _buffer_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Buffer(lib.zeros(2))
            self.lin = lib.nn.Linear(2, 1)
            self.b = lib.nn.Buffer(lib.ones(1), persistent=False)
            self.c = lib.nn.Buffer(lib.ones(3))

    return Net()


def test_buffer_state_dict_keys_match_torch():
    ours, theirs = _buffer_net(gdl), _buffer_net(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for m in (ours, theirs):
        m.b = m.b  # re-assigning a plain buffer keeps it non-persistent ...
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.b = gdl.nn.Buffer(gdl.ones(1))  # ... a new Buffer makes it persistent again
    theirs.b = torch.nn.Buffer(torch.ones(1))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.c = gdl.nn.Buffer(gdl.ones(3), persistent=False)
    theirs.c = torch.nn.Buffer(torch.ones(3), persistent=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for lib, m in ((gdl, ours), (torch, theirs)):
        with pytest.raises(TypeError):
            m.lin.weight = lib.nn.Buffer(lib.zeros(1, 2))
