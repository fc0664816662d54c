"""Mixed precision: gdl.autocast (which ops run in float16, which in float32, nesting,
threads, the decorator, the cast cache) and gdl.amp.GradScaler (scaling, skipped steps,
the scale's growth and backoff, checkpoints, errors). Torch-free; the comparisons with
PyTorch are in test_torch_crosscheck_amp.py."""

from __future__ import annotations

import copy
import math
import threading
import warnings

import numpy as np
import pytest

import gdl
import gdl.nn as nn
import gdl.nn.functional as F
from gdl.amp import GradScaler, autocast
from gdl.amp import autocast_mode as _mode

# overflow to inf is what several tests here provoke on purpose
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                        "ignore:invalid value encountered:RuntimeWarning")


def _dev():
    """The autocast device type of the current backend's tensors."""
    return "cuda" if gdl.get_backend() == "cupy" else "cpu"


def _needs_half(backend):
    if backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")


def _t(a, **kw):
    return gdl.tensor(np.asarray(a, dtype=np.float32), **kw)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- which ops run in which dtype -------------------------------------------------------------------------------


def _lower_cases(rng):
    x = _t(rng.standard_normal((4, 6)))
    w = _t(rng.standard_normal((5, 6)), requires_grad=True)
    b = _t(rng.standard_normal(5), requires_grad=True)
    x3 = _t(rng.standard_normal((2, 2, 6)))
    w3 = _t(rng.standard_normal((2, 6, 5)))
    return {
        "linear": lambda: F.linear(x, w, b),
        "matmul @": lambda: x @ w.T,
        "mm": lambda: gdl.mm(x, w.T),
        "bmm": lambda: gdl.bmm(x3, w3),
        "mv": lambda: gdl.mv(x, w[0]),
        "addmm": lambda: gdl.addmm(b, x, w.T),
        "baddbmm": lambda: gdl.baddbmm(gdl.zeros(2, 2, 5), x3, w3),
        "addmv": lambda: gdl.addmv(_t(np.ones(4)), x, w[0]),
        "einsum": lambda: gdl.einsum("ij,kj->ik", x, w),
        "conv1d": lambda: F.conv1d(_t(rng.standard_normal((2, 3, 8))), _t(rng.standard_normal((4, 3, 3))),
                                   _t(np.zeros(4))),
        "conv2d": lambda: F.conv2d(_t(rng.standard_normal((2, 3, 6, 6))), _t(rng.standard_normal((4, 3, 3, 3)))),
        "conv_transpose1d": lambda: F.conv_transpose1d(_t(rng.standard_normal((2, 3, 5))),
                                                       _t(rng.standard_normal((3, 4, 3)))),
        "conv_transpose2d": lambda: F.conv_transpose2d(_t(rng.standard_normal((2, 3, 4, 4))),
                                                       _t(rng.standard_normal((3, 4, 3, 3)))),
        "prelu": lambda: F.prelu(x, _t([0.25])),
        "sdpa": lambda: F.scaled_dot_product_attention(x3, x3, x3, attn_mask=gdl.zeros(2, 2)),
        "rnn_cell": lambda: F.rnn_cell(x, None, _t(rng.standard_normal((5, 6))), _t(rng.standard_normal((5, 5)))),
        "lstm_cell": lambda: F.lstm_cell(x, None, None, _t(rng.standard_normal((20, 6))),
                                         _t(rng.standard_normal((20, 5))))[1],
        "gru_cell": lambda: F.gru_cell(x, _t(np.zeros((4, 5))), _t(rng.standard_normal((15, 6))),
                                       _t(rng.standard_normal((15, 5)))),
        "nn.LSTM": lambda: nn.LSTM(6, 5, num_layers=2)(x3)[0],
        "nn.GRU bidirectional": lambda: nn.GRU(6, 5, bidirectional=True, batch_first=True)(x3)[1],
        "nn.MultiheadAttention": lambda: nn.MultiheadAttention(6, 2)(x3, x3, x3, need_weights=False)[0],
    }


def _fp32_cases(rng):
    h = gdl.tensor(rng.standard_normal((4, 6)), dtype=gdl.float16)
    pos = gdl.tensor(rng.uniform(0.1, 0.9, (4, 6)), dtype=gdl.float16)
    t32 = _t(rng.standard_normal((4, 6)))
    labels = gdl.tensor([0, 1, 2, 3])
    ones = _t(np.ones((4, 6)))
    return {
        "softmax": lambda: gdl.softmax(h, dim=-1),
        "log_softmax": lambda: F.log_softmax(h, dim=-1),
        "logsumexp": lambda: gdl.logsumexp(h, dim=1),
        "sum": lambda: h.sum(),
        "prod": lambda: gdl.prod(h, dim=1),
        "cumsum": lambda: gdl.cumsum(h, dim=1),
        "cumprod": lambda: gdl.cumprod(h, dim=1),
        "norm": lambda: gdl.norm(h),
        "layer_norm": lambda: F.layer_norm(h, (6,)),
        "group_norm": lambda: F.group_norm(h.reshape(4, 6, 1), 2),
        "softplus": lambda: F.softplus(h),
        "tan": lambda: gdl.tan(h), "sinh": lambda: gdl.sinh(h), "cosh": lambda: gdl.cosh(h),
        "asin": lambda: gdl.asin(pos), "acos": lambda: gdl.acos(pos), "expm1": lambda: gdl.expm1(h),
        "log1p": lambda: gdl.log1p(pos), "log2": lambda: gdl.log2(pos), "log10": lambda: gdl.log10(pos),
        "rsqrt": lambda: gdl.rsqrt(pos), "reciprocal": lambda: gdl.reciprocal(pos),
        "exp": lambda: gdl.exp(h), "log": lambda: gdl.log(pos), "pow": lambda: gdl.pow(h, 2),
        "**": lambda: h**2, "rpow": lambda: 2.0**h, "pow tensor": lambda: gdl.pow(pos, h),
        "cosine_similarity": lambda: F.cosine_similarity(h, pos), "normalize": lambda: F.normalize(h),
        "cdist": lambda: gdl.cdist(h, pos), "interpolate": lambda: F.interpolate(h.reshape(1, 4, 6), scale_factor=2),
        "Upsample": lambda: nn.Upsample(scale_factor=2, mode="bilinear")(h.reshape(1, 1, 4, 6)),
        "mse_loss": lambda: F.mse_loss(h, t32),
        "l1_loss": lambda: F.l1_loss(h, h),
        "smooth_l1_loss": lambda: F.smooth_l1_loss(h, t32),
        "huber_loss": lambda: F.huber_loss(h, t32),
        "kl_div": lambda: F.kl_div(h, pos, reduction="batchmean"),
        "cross_entropy": lambda: F.cross_entropy(h, labels),
        "nll_loss": lambda: F.nll_loss(h, labels),
        "binary_cross_entropy": lambda: F.binary_cross_entropy(pos, ones),
        "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(h, ones),
        "poisson_nll_loss": lambda: F.poisson_nll_loss(h, ones),
        "cosine_embedding_loss": lambda: F.cosine_embedding_loss(h, pos, _t(np.ones(4))),
        "margin_ranking_loss": lambda: F.margin_ranking_loss(h[:, 0], h[:, 1], _t(np.ones(4))),
        "hinge_embedding_loss": lambda: F.hinge_embedding_loss(h, ones),
        "soft_margin_loss": lambda: F.soft_margin_loss(h, ones),
        "triplet_margin_loss": lambda: F.triplet_margin_loss(h, pos, h),
        "multi_margin_loss": lambda: F.multi_margin_loss(h, labels),
        "multilabel_margin_loss": lambda: F.multilabel_margin_loss(h, gdl.tensor([[0, 1, -1, 0, 0, 0]] * 4)),
    }


with gdl.use_backend("numpy"):  # only the names are needed here (array_api_strict has no float16)
    LOWER_NAMES = list(_lower_cases(np.random.default_rng(0)))
    FP32_NAMES = list(_fp32_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", LOWER_NAMES)
def test_float16_list_ops_run_in_float16_inside_autocast(backend, rng, name):
    _needs_half(backend)
    fn = _lower_cases(rng)[name]
    assert fn().dtype == gdl.float32
    with autocast(_dev()):
        assert fn().dtype == gdl.float16
    assert fn().dtype == gdl.float32


@pytest.mark.parametrize("name", FP32_NAMES)
def test_float32_list_ops_run_in_float32_inside_autocast(backend, rng, name):
    _needs_half(backend)
    fn = _fp32_cases(rng)[name]
    with autocast(_dev()):
        assert fn().dtype == gdl.float32


def test_float32_list_ops_keep_float16_outside_autocast(backend, rng):
    _needs_half(backend)
    cases = _fp32_cases(rng)
    for name in ("softmax", "sum", "layer_norm", "cross_entropy", "log1p", "cumsum"):
        assert cases[name]().dtype == gdl.float16, name


def test_other_ops_run_in_the_widest_input_dtype(backend, rng):
    _needs_half(backend)
    h = gdl.tensor(rng.standard_normal((4, 6)), dtype=gdl.float16)
    x = _t(rng.standard_normal((4, 6)))
    with autocast(_dev()):
        assert gdl.relu(h).dtype == gdl.float16
        assert F.gelu(h).dtype == gdl.float16
        assert (h + x).dtype == gdl.float32
        assert h.mean().dtype == gdl.float16
        assert nn.BatchNorm1d(6)(h).dtype == gdl.float16
        y = nn.Bilinear(6, 6, 3)(h, h)  # PyTorch's "promote" list: the widest dtype
        assert y.dtype == gdl.float32


def test_float64_and_integer_tensors_are_never_cast(backend, rng):
    _needs_half(backend)
    x64 = gdl.tensor(rng.standard_normal((3, 4)), dtype=gdl.float64)
    w64 = gdl.tensor(rng.standard_normal((2, 4)), dtype=gdl.float64)
    ints = gdl.tensor([[1, 2], [3, 4]])
    with autocast(_dev()):
        assert F.linear(x64, w64).dtype == gdl.float64
        assert gdl.softmax(x64, dim=-1).dtype == gdl.float64
        assert (ints @ ints).dtype == gdl.int64
        assert ints.sum().dtype == gdl.int64


def test_an_explicit_dtype_is_obeyed(backend, rng):
    _needs_half(backend)
    h = gdl.tensor(rng.standard_normal((3, 4)), dtype=gdl.float16)
    with autocast(_dev()):
        assert gdl.cumsum(h, dim=1, dtype=gdl.float16).dtype == gdl.float16
        assert gdl.cumprod(h, dim=1, dtype=gdl.float16).dtype == gdl.float16
        assert gdl.prod(h, dim=1, dtype=gdl.float16).dtype == gdl.float16
        assert gdl.cumsum(h, dim=1).dtype == gdl.float32


def test_values_match_the_float32_computation_to_float16_accuracy(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((8, 16)))
    w = _t(rng.standard_normal((4, 16)) / 4)
    ref = F.linear(x, w).numpy()
    with autocast(_dev()):
        y = F.linear(x, w)
        p = gdl.softmax(y, dim=-1)
    np.testing.assert_allclose(y.numpy().astype(np.float32), ref, rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(p.numpy(), gdl.softmax(_t(ref), dim=-1).numpy(), rtol=1e-2, atol=1e-3)


# -- regions: nesting, decorator, device types, threads ----------------------------------------------------------


def test_nested_regions_and_enabled_false(backend, rng):
    _needs_half(backend)
    x, w = _t(rng.standard_normal((2, 3))), _t(rng.standard_normal((3, 3)))
    assert not gdl.is_autocast_enabled(_dev())
    with autocast(_dev()):
        other = "cpu" if _dev() == "cuda" else "cuda"
        assert gdl.is_autocast_enabled(_dev()) and not gdl.is_autocast_enabled(other)
        assert (x @ w).dtype == gdl.float16
        with autocast(_dev(), enabled=False):
            assert not gdl.is_autocast_enabled(_dev())
            assert (x @ w).dtype == gdl.float32
            with autocast(_dev()):
                assert (x @ w).dtype == gdl.float16
            assert (x @ w).dtype == gdl.float32
        assert (x @ w).dtype == gdl.float16
        assert gdl.get_autocast_dtype(_dev()) == gdl.float16
    assert (x @ w).dtype == gdl.float32
    assert _mode.ACTIVE[0] == 0


def test_the_region_is_left_on_an_exception(backend):
    with pytest.raises(ZeroDivisionError):
        with autocast(_dev()):
            raise ZeroDivisionError("inside the region")
    assert not gdl.is_autocast_enabled(_dev())
    assert _mode.ACTIVE[0] == 0


def test_decorator_form(backend, rng):
    _needs_half(backend)
    x, w = _t(rng.standard_normal((2, 3))), _t(rng.standard_normal((3, 3)))

    @gdl.autocast(_dev())
    def forward(a, b, depth=0):
        """doc"""
        out = a @ b
        return forward(a, b, depth - 1) if depth > 0 else out

    assert forward.__name__ == "forward" and forward.__doc__ == "doc"
    assert forward(x, w).dtype == gdl.float16
    assert forward(x, w, depth=2).dtype == gdl.float16  # re-entered while active
    assert (x @ w).dtype == gdl.float32
    assert _mode.ACTIVE[0] == 0

    off = autocast(_dev(), enabled=False)(lambda: x @ w)
    with autocast(_dev()):
        assert off().dtype == gdl.float32


def test_one_object_can_be_entered_twice(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((2, 2)))
    region = autocast(_dev())
    with region:
        with region:
            assert (x @ x).dtype == gdl.float16
        assert (x @ x).dtype == gdl.float16
    assert (x @ x).dtype == gdl.float32


def test_a_region_acts_only_on_its_device_type(backend, rng):
    x = gdl.tensor(rng.standard_normal((2, 2)), dtype=gdl.float32, backend="numpy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        region = autocast("cuda")
    if not gdl.cuda.is_available():
        assert any("CUDA is not available" in str(w.message) for w in caught)
        assert not region._enabled
    with region:
        assert (x @ x).dtype == gdl.float32  # CPU tensors: a "cuda" region leaves them alone
        assert not gdl.is_autocast_enabled("cpu")


def test_threads_have_their_own_state(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((2, 2)))
    results = {}
    inside, checked = threading.Event(), threading.Event()

    def worker_outside():
        inside.wait(5)
        results["worker outside"] = (x @ x).dtype
        checked.set()

    def worker_inside():
        with autocast(_dev()):
            results["worker inside"] = (x @ x).dtype

    t = threading.Thread(target=worker_outside)
    t.start()
    with autocast(_dev()):
        inside.set()
        checked.wait(5)
        results["main inside"] = (x @ x).dtype
    t.join()
    t2 = threading.Thread(target=worker_inside)
    t2.start()
    t2.join()
    results["main after"] = (x @ x).dtype
    assert results == {"worker outside": gdl.float32, "main inside": gdl.float16,
                       "worker inside": gdl.float16, "main after": gdl.float32}
    assert _mode.ACTIVE[0] == 0


def test_bad_arguments(backend):
    with pytest.raises(TypeError, match="bfloat16"):
        autocast(_dev(), dtype="bfloat16")
    with pytest.raises(ValueError, match="device_type"):
        autocast("tpu")
    with pytest.raises(TypeError, match="device_type"):
        autocast(None)
    with pytest.warns(UserWarning, match="not supported"):
        region = autocast(_dev(), dtype=gdl.float32)
    with region:
        assert not gdl.is_autocast_enabled(_dev())
    assert autocast(_dev(), dtype=gdl.float16).fast_dtype == gdl.float16
    assert gdl.amp.is_autocast_available("cpu") and gdl.amp.is_autocast_available("cuda")
    assert not gdl.amp.is_autocast_available("mps")


def test_a_backend_without_float16_warns_and_runs_in_float32(backend, rng):
    if backend != "array_api_strict":
        pytest.skip("only array_api_strict lacks float16")
    x = _t(rng.standard_normal((2, 3)))
    w = _t(rng.standard_normal((4, 3)), requires_grad=True)
    _mode._warned.discard("array_api_strict")
    with autocast(_dev()):
        with pytest.warns(UserWarning, match="no float16"):
            y = F.linear(x, w)
        z = gdl.softmax(y, dim=-1)
    assert y.dtype == z.dtype == gdl.float32
    z.sum().backward()
    assert w.grad.dtype == gdl.float32


# -- gradients and the cast cache ---------------------------------------------------------------------------------


def test_parameter_gradients_come_back_in_float32(backend, rng):
    _needs_half(backend)
    lin, conv, lstm = nn.Linear(6, 4), nn.Conv2d(3, 2, 3), nn.LSTM(6, 4)
    ln = nn.LayerNorm(4)
    x = _t(rng.standard_normal((5, 6)))
    img = _t(rng.standard_normal((2, 3, 5, 5)))
    seq = _t(rng.standard_normal((3, 2, 6)))
    with autocast(_dev()):
        y = ln(lin(x))
        loss = F.mse_loss(y, gdl.zeros(5, 4)) + conv(img).float().mean() + lstm(seq)[0].float().sum()
    assert loss.dtype == gdl.float32
    loss.backward()
    for p in [*lin.parameters(), *conv.parameters(), *lstm.parameters(), *ln.parameters()]:
        assert p.grad is not None and p.grad.dtype == gdl.float32 and p.grad.shape == p.shape
        assert np.isfinite(p.grad.numpy()).all()


def test_gradients_match_float32_to_float16_accuracy(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((8, 5)))
    w = _t(rng.standard_normal((3, 5)) / 2, requires_grad=True)
    F.cross_entropy(F.linear(x, w), gdl.tensor([0, 1, 2, 0, 1, 2, 0, 1])).backward()
    ref = w.grad.numpy().copy()
    w.grad = None
    with autocast(_dev()):
        loss = F.cross_entropy(F.linear(x, w), gdl.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), ref, rtol=2e-2, atol=2e-3)


def test_a_parameter_is_cast_once_per_region(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((2, 3)))
    w = _t(rng.standard_normal((4, 3)), requires_grad=True)
    with autocast(_dev()):
        a, b = F.linear(x, w), F.linear(x, w)
        assert a.grad_fn.inputs[1] is b.grad_fn.inputs[1]  # the cached float16 copy
        (a.float().sum() + b.float().sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.tile(x.numpy().sum(0), (4, 1)), rtol=1e-2)
    with autocast(_dev(), cache_enabled=False):
        a, b = F.linear(x, w), F.linear(x, w)
        assert a.grad_fn.inputs[1] is not b.grad_fn.inputs[1]
    assert not _mode._state.cache


def test_the_cache_follows_optimizer_steps_and_freed_graphs(backend, rng):
    """Even with the whole loop inside one region (not the recommended use), each
    iteration sees the current weights and backward() does not hit a freed node."""
    _needs_half(backend)
    x = _t(rng.standard_normal((16, 3)))
    target = _t(rng.standard_normal((16, 1)))
    model = nn.Linear(3, 1)
    opt = gdl.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with autocast(_dev()):
        for _ in range(5):
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert len(set(losses)) == 5


def test_custom_fwd_and_custom_bwd(backend, rng):
    _needs_half(backend)
    seen = {}

    class Square(gdl.autograd.Function):
        @staticmethod
        @gdl.amp.custom_fwd(device_type=_dev(), cast_inputs=gdl.float32)
        def forward(ctx, x):
            seen["forward"] = (x.dtype, gdl.is_autocast_enabled(_dev()))
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @gdl.amp.custom_bwd(device_type=_dev())
        def backward(ctx, g):
            seen["backward"] = gdl.is_autocast_enabled(_dev())
            (x,) = ctx.saved_tensors
            return 2 * x * g

    h = gdl.tensor(rng.standard_normal(3), dtype=gdl.float16, requires_grad=True)
    with autocast(_dev()):
        y = Square.apply(h)
    assert y.dtype == gdl.float32 and seen["forward"] == (gdl.float32, False)
    y.sum().backward()
    assert seen["backward"] is False and h.grad.dtype == gdl.float16


# -- GradScaler ----------------------------------------------------------------------------------------------------


def _one_param_setup(init_scale=8.0, **kw):
    w = nn.Parameter(_t([1.0, 2.0]))
    opt = gdl.optim.SGD([w], lr=0.5)
    return w, opt, GradScaler(_dev(), init_scale=init_scale, **kw)


def _iteration(w, opt, scaler, inject=None):
    opt.zero_grad()
    scaler.scale((w * _t([3.0, 4.0])).sum()).backward()
    if inject is not None:
        w.grad.data = w.grad.data * _t([inject, 1.0]).data
    before = w.numpy().copy()
    scaler.step(opt)
    scaler.update()
    return not np.array_equal(before, w.numpy())


def test_scale_multiplies_and_unscale_divides(backend):
    w, opt, scaler = _one_param_setup(init_scale=1024.0)
    assert scaler.get_scale() == 1024.0 and scaler.is_enabled()
    loss = (w * _t([3.0, 4.0])).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == 11.0 * 1024
    scaled.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3072.0, 4096.0])
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])
    scaler.step(opt)  # does not unscale a second time
    np.testing.assert_array_equal(w.numpy(), [1.0 - 1.5, 2.0 - 2.0])
    scaler.update()
    assert scaler.get_scale() == 1024.0 and scaler._get_growth_tracker() == 1


def test_scale_takes_nested_lists_and_tuples(backend):
    scaler = GradScaler(_dev(), init_scale=4.0)
    a, b, c = _t([1.0]), _t([2.0]), _t([3.0])
    out = scaler.scale([a, (b, [c])])
    assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
    assert [out[0].item(), out[1][0].item(), out[1][1][0].item()] == [4.0, 8.0, 12.0]
    assert [t.item() for t in scaler.scale(iter([a, b]))] == [4.0, 8.0]
    with pytest.raises(ValueError, match="iterable of Tensors"):
        scaler.scale([a, 3.0])


def test_a_0d_float16_loss_is_scaled_in_float32(backend):
    _needs_half(backend)
    scaler = GradScaler(_dev())
    loss = gdl.tensor(2.0, dtype=gdl.float16)
    scaled = scaler.scale(loss)
    assert scaled.dtype == gdl.float32 and scaled.item() == 2.0 * 65536  # float16 would overflow
    assert scaler.scale(gdl.ones(2, dtype=gdl.float16)).dtype == gdl.float16  # as PyTorch


def test_a_step_with_inf_or_nan_is_skipped_and_the_scale_backs_off(backend):
    w, opt, scaler = _one_param_setup(init_scale=8.0, growth_interval=100)
    assert _iteration(w, opt, scaler)
    assert scaler._get_growth_tracker() == 1
    for bad in (math.inf, math.nan, -math.inf):
        before = w.numpy().copy()
        assert not _iteration(w, opt, scaler, inject=bad)
        np.testing.assert_array_equal(w.numpy(), before)
        assert scaler._get_growth_tracker() == 0
    assert scaler.get_scale() == 1.0  # 8 · 0.5³
    assert _iteration(w, opt, scaler)


def test_growth_and_backoff_sequence(backend):
    w, opt, scaler = _one_param_setup(init_scale=16.0, growth_factor=2.0, backoff_factor=0.25, growth_interval=3)
    pattern = [False, False, False, False, True, False, False, False, True, True, False, False, False]
    scales, trackers, stepped = [], [], []
    for bad in pattern:
        stepped.append(_iteration(w, opt, scaler, inject=math.inf if bad else None))
        scales.append(scaler.get_scale())
        trackers.append(scaler._get_growth_tracker())
    assert stepped == [not b for b in pattern]
    assert scales == [16, 16, 32, 32, 8, 8, 8, 16, 4, 1, 1, 1, 2]
    assert trackers == [1, 2, 0, 1, 0, 1, 2, 0, 0, 0, 1, 2, 0]


def test_growth_stops_at_float32s_largest_scale(backend):
    w, opt, scaler = _one_param_setup(init_scale=2.0**127, growth_interval=1)
    scaler.scale((w * 2.0**-20).sum()).backward()  # gradients 2**107: finite
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0**127  # 2**128 is inf in float32: the scale stays
    assert scaler._get_growth_tracker() == 0


def test_update_with_new_scale(backend):
    w, opt, scaler = _one_param_setup()
    _iteration(w, opt, scaler)
    scaler.scale(_t([1.0]))
    scaler.update(3.0)
    assert scaler.get_scale() == 3.0
    scaler.update(_t([0.1]))
    assert scaler.get_scale() == float(np.float32(0.1))
    with pytest.raises(ValueError):
        scaler.update(_t([1.0, 2.0]))


def test_unscale_twice_and_other_misuse_raise(backend):
    w, opt, scaler = _one_param_setup()
    with pytest.raises(AssertionError, match="scale"):
        scaler.step(opt)  # no scale() yet this run
    with pytest.raises(AssertionError, match="scale"):
        scaler.unscale_(opt)
    scaler.scale((w * 2.0).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: 0.0)
    for bad in ({"growth_factor": 1.0}, {"backoff_factor": 1.0}):
        with pytest.raises(ValueError):
            GradScaler(_dev(), **bad)


def test_float16_gradients_are_refused(backend):
    _needs_half(backend)
    w = nn.Parameter(gdl.ones(2, dtype=gdl.float16))
    opt = gdl.optim.SGD([w], lr=0.1)
    scaler = GradScaler(_dev())
    scaler.scale((w * 2.0).sum()).backward()
    with pytest.raises(ValueError, match="FP16 gradients"):
        scaler.step(opt)


def test_parameters_without_gradients_and_several_optimizers(backend):
    a, b, unused = (nn.Parameter(_t([1.0])) for _ in range(3))
    opt_a, opt_b = gdl.optim.SGD([a, unused], lr=1.0), gdl.optim.SGD([b], lr=1.0)
    scaler = GradScaler(_dev(), init_scale=4.0, growth_interval=1)
    scaler.scale((a * 2.0 + b * 3.0).sum()).backward()
    b.grad.data = b.grad.data * math.inf
    scaler.step(opt_a)
    scaler.step(opt_b)
    scaler.update()
    assert a.item() == -1.0 and b.item() == 1.0  # a stepped, b skipped
    assert unused.grad is None and unused.item() == 1.0
    assert scaler.get_scale() == 2.0  # any inf backs off the shared scale


def test_row_sparse_gradients_are_checked_and_unscaled(backend):
    emb = nn.Embedding(5, 2, sparse=True)
    opt = gdl.optim.SGD(emb.parameters(), lr=1.0)
    scaler = GradScaler(_dev(), init_scale=8.0)
    start = emb.weight.numpy().copy()
    scaler.scale(emb(gdl.tensor([1, 3])).sum()).backward()
    scaler.unscale_(opt)
    np.testing.assert_array_equal(emb.weight.grad.to_dense().numpy()[[1, 3]], np.ones((2, 2)))
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(emb.weight.numpy()[[1, 3]], start[[1, 3]] - 1.0, rtol=1e-6)
    opt.zero_grad()
    scaler.scale(emb(gdl.tensor([2])).sum() * math.inf).backward()
    before = emb.weight.numpy().copy()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(emb.weight.numpy(), before)
    assert scaler.get_scale() == 4.0


def test_state_dict_round_trip(backend, tmp_path):
    w, opt, scaler = _one_param_setup(init_scale=64.0, growth_factor=4.0, backoff_factor=0.125,
                                      growth_interval=5)
    for bad in (False, True, False, False):
        _iteration(w, opt, scaler, inject=math.inf if bad else None)
    state = scaler.state_dict()
    assert state == {"scale": 8.0, "growth_factor": 4.0, "backoff_factor": 0.125, "growth_interval": 5,
                     "_growth_tracker": 2}
    gdl.save(state, tmp_path / "scaler.gdl")
    other = GradScaler(_dev())
    other.load_state_dict(gdl.load(tmp_path / "scaler.gdl"))
    assert other.state_dict() == state
    w2, opt2 = nn.Parameter(_t(w.numpy())), None
    opt2 = gdl.optim.SGD([w2], lr=0.5)
    for bad in (False, False, False, True, False):
        _iteration(w, opt, scaler, inject=math.inf if bad else None)
        _iteration(w2, opt2, other, inject=math.inf if bad else None)
        assert other.state_dict() == scaler.state_dict()
    np.testing.assert_array_equal(w2.numpy(), w.numpy())
    with pytest.raises(RuntimeError, match="empty"):
        GradScaler(_dev()).load_state_dict({})


def test_copy_at_an_iteration_boundary_only(backend):
    w, opt, scaler = _one_param_setup()
    _iteration(w, opt, scaler)
    twin = copy.deepcopy(scaler)
    assert twin.state_dict() == scaler.state_dict()
    scaler.scale((w * 1.0).sum()).backward()
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="pickled"):
        copy.deepcopy(scaler)


def test_a_disabled_scaler_passes_everything_through(backend):
    w, opt, _ = _one_param_setup()
    scaler = GradScaler(_dev(), enabled=False)
    loss = (w * 2.0).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(w.numpy(), [0.0, 1.0])
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {} and not scaler.is_enabled()


def test_cuda_scaler_without_a_gpu_disables_itself(backend):
    if gdl.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = GradScaler()
    assert not scaler.is_enabled()


def test_getters_and_setters(backend):
    scaler = GradScaler(_dev(), init_scale=2.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=7)
    assert (scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()) == (3.0, 0.25, 7)
    scaler.set_growth_factor(5.0)
    scaler.set_backoff_factor(0.5)
    scaler.set_growth_interval(1)
    assert (scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()) == (5.0, 0.5, 1)


def test_cuda_amp_aliases(backend):
    import gdl.cuda.amp as cuda_amp
    from gdl.cuda.amp import GradScaler as CudaGradScaler

    assert gdl.cuda.amp is cuda_amp and issubclass(CudaGradScaler, GradScaler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        region = gdl.cuda.amp.autocast()
        scaler = gdl.cuda.amp.GradScaler(init_scale=4.0)
    assert any(issubclass(w.category, FutureWarning) for w in caught)
    assert isinstance(region, autocast) and region.device == "cuda"
    assert scaler.is_enabled() == gdl.cuda.is_available()


# -- the whole loop ------------------------------------------------------------------------------------------------


def test_an_mlp_trains_under_autocast_and_grad_scaler(backend, rng):
    _needs_half(backend)
    x = _t(rng.standard_normal((64, 8)))
    w_true = rng.standard_normal((8, 1))
    y = _t(np.tanh(x.numpy() @ w_true))
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = gdl.optim.Adam(model.parameters(), lr=1e-2)
    scaler = GradScaler(_dev(), init_scale=2.0**20, growth_interval=10)  # too large at first: backs off
    losses, scales = [], []
    for _ in range(60):
        opt.zero_grad()
        with gdl.autocast(_dev()):
            out = model(x)
            loss = F.mse_loss(out, y)
        assert out.dtype == gdl.float16 and loss.dtype == gdl.float32
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
        scales.append(scaler.get_scale())
    assert all(p.dtype == gdl.float32 for p in model.parameters())
    assert losses[-1] < 0.2 * losses[0]
    assert min(scales) < 2.0**20  # some steps overflowed and were skipped
    assert all(math.isfinite(v) for v in losses)
