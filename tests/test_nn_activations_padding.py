"""Activations (SiLU ... PReLU), padding (F.pad and the pad modules) and distances
(normalize, cosine_similarity, pairwise_distance, one_hot): values against NumPy
formulas and hand-computed numbers, float64 gradient checks away from kinks, module
reprs, PReLU's parameter, and the errors. Runs on every test backend; needs no torch."""

from __future__ import annotations

import math

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
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _t(array, dtype=F64, requires_grad=False):
    return gdl.tensor(np.asarray(array, dtype=np.float64), dtype=dtype, requires_grad=requires_grad)


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _softplus(a):
    return np.logaddexp(0.0, a)


# name -> (gdl function, NumPy reference, kinks to stay away from)
REFS = {
    "silu": (F.silu, lambda a: a * _sig(a), ()),
    "elu": (F.elu, lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0))), (0.0,)),
    "elu_0.3": (lambda x: F.elu(x, 0.3), lambda a: np.where(a > 0, a, 0.3 * np.expm1(np.minimum(a, 0))), (0.0,)),
    "selu": (F.selu, lambda a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * np.expm1(np.minimum(a, 0))), (0.0,)),
    "celu_2": (lambda x: F.celu(x, 2.0), lambda a: np.maximum(a, 0) + np.minimum(0, 2 * np.expm1(np.minimum(a, 0) / 2)),
               (0.0,)),
    "softplus": (F.softplus, lambda a: np.where(a > 20, a, _softplus(a)), (20.0,)),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 3.0), lambda a: np.where(2 * a > 3, a, _softplus(2 * a) / 2), (1.5,)),
    "mish": (F.mish, lambda a: a * np.tanh(_softplus(a)), ()),
    "hardtanh": (F.hardtanh, lambda a: np.clip(a, -1, 1), (-1.0, 1.0)),
    "hardtanh_2": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda a: np.clip(a, -2, 0.5), (-2.0, 0.5)),
    "relu6": (F.relu6, lambda a: np.clip(a, 0, 6), (0.0, 6.0)),
    "hardsigmoid": (F.hardsigmoid, lambda a: np.clip(a + 3, 0, 6) / 6, (-3.0, 3.0)),
    "hardswish": (F.hardswish, lambda a: a * np.clip(a + 3, 0, 6) / 6, (-3.0, 3.0)),
    "logsigmoid": (F.logsigmoid, lambda a: -_softplus(-a), ()),
    "softsign": (F.softsign, lambda a: a / (1 + np.abs(a)), ()),
    "tanhshrink": (F.tanhshrink, lambda a: a - np.tanh(a), ()),
    "softshrink": (F.softshrink, lambda a: np.where(a > 0.5, a - 0.5, np.where(a < -0.5, a + 0.5, 0.0)),
                   (-0.5, 0.5)),
    "hardshrink": (lambda x: F.hardshrink(x, 1.0), lambda a: np.where(np.abs(a) > 1.0, a, 0.0), (-1.0, 1.0)),
    "threshold": (lambda x: F.threshold(x, 0.5, -3.0), lambda a: np.where(a > 0.5, a, -3.0), (0.5,)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), (0.0,)),
}


def _away_from(a, kinks, gap=0.05):
    for k in kinks:
        near = np.abs(a - k) < gap
        a = np.where(near, k + np.where(a >= k, gap, -gap) * 2, a)
    return a


@pytest.mark.parametrize("name", sorted(REFS))
def test_activation_values_match_numpy(backend, name):
    fn, ref, _ = REFS[name]
    a = np.concatenate([np.random.default_rng(0).standard_normal(20) * 4,
                        [-50.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 50.0]])
    np.testing.assert_allclose(fn(_t(a)).numpy(), ref(a), rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("name", sorted(REFS))
@SETTINGS
@given(shape=st.sampled_from([(3,), (2, 3), (2, 2, 3)]), seed=st.integers(0, 999))
def test_activation_gradcheck(backend, name, shape, seed):
    fn, _, kinks = REFS[name]
    a = _away_from(np.random.default_rng(seed).standard_normal(shape) * 3, kinks)
    assert gradcheck(fn, [_t(a, requires_grad=True)])


def test_activation_gradients_by_hand(backend):
    a = [-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 4.0, 6.0, 7.0]
    cases = {  # at the kinks: PyTorch's choices (0 at both bounds of hardtanh, relu6, hardsigmoid)
        "relu6": (F.relu6, [0, 0, 0, 0, 1, 1, 1, 0, 0]),
        "hardtanh": (F.hardtanh, [0, 0, 0, 1, 0, 0, 0, 0, 0]),
        "hardsigmoid": (F.hardsigmoid, [0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0, 0, 0]),
        "hardswish": (F.hardswish, [0, 0, 1 / 6, 0.5, 5 / 6, 1, 1, 1, 1]),
        "softshrink": (lambda x: F.softshrink(x, 1.0), [1, 1, 0, 0, 0, 1, 1, 1, 1]),
        "hardshrink": (lambda x: F.hardshrink(x, 1.0), [1, 1, 0, 0, 0, 1, 1, 1, 1]),
        "threshold": (lambda x: F.threshold(x, 3.0, 0.0), [0, 0, 0, 0, 0, 0, 1, 1, 1]),
        "elu": (lambda x: F.elu(x, 0.5), [0.5 * math.exp(-4), 0.5 * math.exp(-3), 0.5 * math.exp(-1), 0.5, 1, 1, 1,
                                         1, 1]),
    }
    for name, (fn, expected) in cases.items():
        x = _t(a, requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_large_inputs_stay_finite_and_exact(backend):
    a = np.array([-1e4, -800.0, -100.0, -40.0, 40.0, 100.0, 800.0, 1e4])
    for dtype in (F64, gdl.float32):
        x = _t(a, dtype=dtype, requires_grad=True)
        out = {
            "softplus": F.softplus(x), "logsigmoid": F.logsigmoid(x), "mish": F.mish(x), "selu": F.selu(x),
            "elu": F.elu(x), "celu": F.celu(x), "silu": F.silu(x), "softplus_beta": F.softplus(x, 0.01, 100.0),
        }
        for name, y in out.items():
            assert y.dtype == dtype, name
            assert np.all(np.isfinite(y.numpy())), name
            y.sum().backward()
            assert np.all(np.isfinite(x.grad.numpy())), name
            x.grad = None
    np.testing.assert_allclose(F.logsigmoid(_t(a)).numpy(), np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))))
    np.testing.assert_allclose(F.logsigmoid(_t([-1e4, 1e4])).numpy(), [-1e4, 0.0])
    np.testing.assert_allclose(F.softplus(_t([-1e4, 1e4])).numpy(), [0.0, 1e4])
    np.testing.assert_allclose(F.softplus(_t([-100.0])).numpy(), [math.exp(-100)], rtol=1e-12)
    np.testing.assert_allclose(F.selu(_t([-1e4])).numpy(), [-SELU_SCALE * SELU_ALPHA])


def test_float32_stays_float32_and_integers_become_the_default_float(backend):
    for name, (fn, _, _) in REFS.items():
        assert fn(gdl.tensor([-1.0, 2.0], dtype=gdl.float32)).dtype == gdl.float32, name
        assert fn(gdl.tensor([-2, 0, 3])).dtype == gdl.get_default_dtype(), name
    old = gdl.get_default_dtype()
    gdl.set_default_dtype(F64)
    try:
        assert F.silu(gdl.tensor([1, 2])).dtype == F64
    finally:
        gdl.set_default_dtype(old)


def test_inplace_flag_returns_a_new_tensor(backend):
    x = _t([-1.0, 2.0, 7.0])
    for fn in (lambda t: F.elu(t, inplace=True), lambda t: F.relu6(t, inplace=True),
               lambda t: F.hardtanh(t, inplace=True), lambda t: F.threshold(t, 0.0, 5.0, inplace=True),
               lambda t: F.silu(t, inplace=True), nn.ReLU6(inplace=True), nn.ELU(inplace=True),
               nn.LeakyReLU(inplace=True)):
        y = fn(x)
        assert y is not x
        np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0, 7.0])


# -- glu, softmin, prelu --------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_values_and_gradcheck(backend, dim):
    a = np.random.default_rng(1).standard_normal((4, 2, 6))
    half = a.shape[dim] // 2
    first, second = np.split(a, [half], axis=dim)
    np.testing.assert_allclose(F.glu(_t(a), dim).numpy(), first * _sig(second), rtol=1e-12)
    assert gradcheck(lambda t: F.glu(t, dim), [_t(a, requires_grad=True)])
    assert nn.GLU(dim)(_t(a)).shape == F.glu(_t(a), dim).shape


def test_glu_errors(backend):
    with pytest.raises(ValueError, match=r"glu: halving dimension must be even.*size 3"):
        F.glu(gdl.zeros(2, 3))
    with pytest.raises(ValueError, match="glu"):
        F.glu(gdl.zeros(2, 4), dim=2)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_values_and_gradcheck(backend, dim):
    a = np.random.default_rng(2).standard_normal((3, 4)) * 5
    e = np.exp(-a - (-a).max(axis=dim, keepdims=True))
    np.testing.assert_allclose(F.softmin(_t(a), dim).numpy(), e / e.sum(axis=dim, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.Softmin(dim)(_t(a)).numpy(), F.softmin(_t(a), dim).numpy())
    assert gradcheck(lambda t: F.softmin(t, dim), [_t(a, requires_grad=True)])
    big = F.softmin(_t([[1e4, 0.0, -1e4]]), 1).numpy()
    np.testing.assert_allclose(big, [[0.0, 0.0, 1.0]])


def test_softmin_implicit_dim_warns(backend):
    # PyTorch's legacy rule: dim 0 for 0-, 1- and 3-D inputs, else dim 1
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    for shape, dim in (((2, 4), 1), ((2, 3, 4), 0), ((2, 3, 2, 2), 1), ((5,), 0)):
        x = _t(a.ravel()[: math.prod(shape)].reshape(shape))
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            y = F.softmin(x)
        np.testing.assert_allclose(y.numpy(), F.softmin(x, dim).numpy())


def test_prelu_module_parameter_state_dict_and_gradient(backend):
    m = nn.PReLU(3, init=0.1, dtype=F64)
    assert repr(m) == "PReLU(num_parameters=3)"
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    assert list(m.parameters())[0] is m.weight
    assert list(m.state_dict()) == ["weight"]
    np.testing.assert_array_equal(m.weight.numpy(), [0.1, 0.1, 0.1])
    a = np.array([[[-1.0, 2.0], [-3.0, 4.0], [5.0, -6.0]], [[1.0, -2.0], [3.0, 4.0], [-5.0, -6.0]]])  # (2, 3, 2)
    x = _t(a, requires_grad=True)
    y = m(x)
    np.testing.assert_allclose(y.numpy(), np.where(a > 0, a, 0.1 * a))
    y.sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.where(a > 0, 0.0, a).sum(axis=(0, 2)))
    np.testing.assert_allclose(x.grad.numpy(), np.where(a > 0, 1.0, 0.1))
    assert gradcheck(lambda t, w: F.prelu(t, w), [_t(a + 0.1, requires_grad=True), m.weight])
    shared = nn.PReLU(dtype=F64)
    np.testing.assert_array_equal(shared.weight.numpy(), [0.25])
    assert gradcheck(lambda t, w: shared(t), [_t(a + 0.1, requires_grad=True), shared.weight])
    m.weight.data = m.weight.data * 0.0
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.numpy(), [0.1, 0.1, 0.1])


def test_prelu_errors(backend):
    with pytest.raises(ValueError, match="prelu: mismatch of parameter numbers.*found 2.*channel size 3"):
        F.prelu(gdl.zeros(4, 3), gdl.zeros(2))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)


# -- module reprs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("module,text", [
    (nn.SiLU(), "SiLU()"), (nn.SiLU(inplace=True), "SiLU(inplace=True)"), (nn.Mish(), "Mish()"),
    (nn.ELU(), "ELU(alpha=1.0)"), (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"), (nn.SELU(), "SELU()"),
    (nn.CELU(2.0), "CELU(alpha=2.0)"), (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"), (nn.ReLU6(), "ReLU6()"),
    (nn.ReLU6(True), "ReLU6(inplace=True)"), (nn.Hardsigmoid(), "Hardsigmoid()"), (nn.Hardswish(), "Hardswish()"),
    (nn.LogSigmoid(), "LogSigmoid()"), (nn.Softsign(), "Softsign()"), (nn.Tanhshrink(), "Tanhshrink()"),
    (nn.Softshrink(), "Softshrink(0.5)"), (nn.Hardshrink(0.3), "Hardshrink(0.3)"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"), (nn.GLU(), "GLU(dim=-1)"),
    (nn.Softmin(1), "Softmin(dim=1)"), (nn.PReLU(), "PReLU(num_parameters=1)"), (nn.ReLU(), "ReLU()"),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"), (nn.GELU(), "GELU(approximate='none')"),
    (nn.CosineSimilarity(), "CosineSimilarity()"), (nn.PairwiseDistance(), "PairwiseDistance()"),
    (nn.ZeroPad2d(1), "ZeroPad2d((1, 1, 1, 1))"), (nn.ConstantPad1d(2, 3.5), "ConstantPad1d(padding=(2, 2), value=3.5)"),
    (nn.ReflectionPad1d((1, 2)), "ReflectionPad1d((1, 2))"), (nn.ReplicationPad2d(1), "ReplicationPad2d((1, 1, 1, 1))"),
    (nn.CircularPad1d(1), "CircularPad1d((1, 1))"), (nn.ZeroPad3d(1), "ZeroPad3d((1, 1, 1, 1, 1, 1))"),
])
def test_module_repr(module, text):
    assert repr(module) == text


@pytest.mark.parametrize("name", sorted(REFS))
def test_modules_call_their_functional_form(backend, name):
    modules = {"silu": nn.SiLU(), "elu": nn.ELU(), "elu_0.3": nn.ELU(0.3), "selu": nn.SELU(), "celu_2": nn.CELU(2.0),
               "softplus": nn.Softplus(), "softplus_beta": nn.Softplus(2.0, 3.0), "mish": nn.Mish(),
               "hardtanh": nn.Hardtanh(), "hardtanh_2": nn.Hardtanh(-2.0, 0.5), "relu6": nn.ReLU6(),
               "hardsigmoid": nn.Hardsigmoid(), "hardswish": nn.Hardswish(), "logsigmoid": nn.LogSigmoid(),
               "softsign": nn.Softsign(), "tanhshrink": nn.Tanhshrink(), "softshrink": nn.Softshrink(),
               "hardshrink": nn.Hardshrink(1.0), "threshold": nn.Threshold(0.5, -3.0),
               "leaky_relu": nn.LeakyReLU(0.2)}
    a = np.linspace(-7, 7, 29)
    np.testing.assert_allclose(modules[name](_t(a)).numpy(), REFS[name][1](a), rtol=1e-12, atol=1e-14)


def test_activation_argument_errors(backend):
    with pytest.raises(ValueError, match="hardtanh: min_val cannot be greater than max_val.*min_val=1.0"):
        F.hardtanh(gdl.zeros(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="Hardtanh"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="softshrink: lambd must be >= 0, got -1"):
        F.softshrink(gdl.zeros(2), -1.0)
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(gdl.zeros(2), 0.0)
    with pytest.raises(TypeError, match="Tensor"):
        F.silu([1.0, 2.0])


# -- padding ---------------------------------------------------------------------------------------------

ROW = [[[0.0, 1.0, 2.0, 3.0, 4.0]]]  # (1, 1, 5)


@pytest.mark.parametrize("mode,pad,expected", [
    ("constant", (2, 1), [0, 0, 0, 1, 2, 3, 4, 0]),
    ("constant", (-1, 2), [1, 2, 3, 4, 0, 0]),
    ("constant", (-2, -2), [2]),
    ("reflect", (2, 1), [2, 1, 0, 1, 2, 3, 4, 3]),
    ("reflect", (4, 4), [4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0]),
    ("reflect", (-1, 2), [1, 2, 3, 4, 3, 2]),
    ("replicate", (2, 1), [0, 0, 0, 1, 2, 3, 4, 4]),
    ("replicate", (2, -1), [0, 0, 0, 1, 2, 3]),
    ("circular", (2, 1), [3, 4, 0, 1, 2, 3, 4, 0]),
    ("circular", (5, 5), [0, 1, 2, 3, 4] * 3),
    ("circular", (-1, 2), [1, 2, 3, 4, 1, 2]),  # wraps the cropped row, as PyTorch
    ("circular", (2, -1), [2, 3, 0, 1, 2, 3]),
])
def test_pad_1d_values(backend, mode, pad, expected):
    np.testing.assert_array_equal(F.pad(_t(ROW), pad, mode=mode).numpy(), [[expected]])


@pytest.mark.parametrize("mode,pad,expected", [
    ("reflect", (2, 1), [1, 2, 2, 2, 1]),  # how often each entry is copied: x1 twice (border + itself), ...
    ("reflect", (4, 4), [2, 3, 3, 3, 2]),
    ("replicate", (2, 1), [3, 1, 1, 1, 2]),
    ("circular", (2, 1), [2, 1, 1, 2, 2]),
    ("constant", (-1, 2), [0, 1, 1, 1, 1]),
])
def test_pad_1d_backward_adds_the_borders_back(backend, mode, pad, expected):
    x = _t(ROW, requires_grad=True)
    F.pad(x, pad, mode=mode).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[expected]])


def test_pad_reflect_backward_by_hand(backend):
    x = _t(ROW, requires_grad=True)
    y = F.pad(x, (2, 1), mode="reflect")  # [x2, x1, x0, x1, x2, x3, x4, x3]
    y.backward(_t([[[1.0, 10.0, 100.0, 1000.0, 1e4, 1e5, 1e6, 1e7]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[100.0, 1010.0, 10001.0, 1e5 + 1e7, 1e6]]])


def test_pad_2d_values(backend):
    x = _t(np.arange(6.0).reshape(1, 1, 2, 3))
    np.testing.assert_array_equal(F.pad(x, (1, 1, 1, 0), mode="replicate").numpy()[0, 0],
                                  [[0, 0, 1, 2, 2], [0, 0, 1, 2, 2], [3, 3, 4, 5, 5]])
    np.testing.assert_array_equal(F.pad(x, (1, 1, 1, 0), mode="reflect").numpy()[0, 0],
                                  [[4, 3, 4, 5, 4], [1, 0, 1, 2, 1], [4, 3, 4, 5, 4]])
    np.testing.assert_array_equal(F.pad(x, (1, 1, 1, 0), mode="circular").numpy()[0, 0],
                                  [[5, 3, 4, 5, 3], [2, 0, 1, 2, 0], [5, 3, 4, 5, 3]])
    np.testing.assert_array_equal(F.pad(x, (0, 1, 1, 0), value=-1.0).numpy()[0, 0],
                                  [[-1, -1, -1, -1], [0, 1, 2, -1], [3, 4, 5, -1]])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@SETTINGS
@given(pads=st.lists(st.integers(-1, 2), min_size=4, max_size=4), seed=st.integers(0, 99))
def test_pad_gradcheck(backend, mode, pads, seed):
    x = _t(np.random.default_rng(seed).standard_normal((2, 1, 5, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, tuple(pads), mode=mode), [x])


def test_pad_3d_and_constant_any_dims_gradcheck(backend):
    x = _t(np.random.default_rng(3).standard_normal((1, 2, 3, 3, 4)), requires_grad=True)
    for mode in ("reflect", "replicate", "circular", "constant"):
        assert F.pad(x, (1, 2, 0, 1, 2, 1), mode=mode).shape == (1, 2, 6, 4, 7)
        assert gradcheck(lambda t, mode=mode: F.pad(t, (1, 2, 0, 1, 2, 1), mode=mode), [x])
    y = _t(np.random.default_rng(4).standard_normal((2, 3)), requires_grad=True)
    assert F.pad(y, (1, 0, 0, 2)).shape == (4, 4)
    assert gradcheck(lambda t: F.pad(t, (1, -1, -1, 2), value=3.0), [y])


def test_pad_keeps_dtype(backend):
    assert F.pad(gdl.zeros(2, 3, dtype=gdl.float32), (1, 1)).dtype == gdl.float32
    out = F.pad(gdl.tensor([1, 2, 3]), (1, 1), value=7)
    assert out.dtype == gdl.int64
    np.testing.assert_array_equal(out.numpy(), [7, 1, 2, 3, 7])


@pytest.mark.parametrize("shape,pad,mode,message", [
    ((1, 3), (3, 3), "reflect", r"pad: reflect padding must be less than.*\(3, 3\).*size 3"),
    ((1, 3), (4, 0), "circular", r"pad: circular padding \(4, 0\).*wrap around more than once"),
    ((1, 3), (1, 1, 1), "constant", r"pad: padding length must be divisible by 2, got 3"),
    ((3,), (1, 1, 1, 1), "constant", r"pad: padding length 4 pads 2 dimensions, but the input has only 1"),
    ((3,), (-2, -2), "constant", r"pad: the input size 3, plus negative padding -2 and -2"),
    ((3,), (1, 1), "reflect", r"pad: mode 'reflect' with padding length 2 is not supported for a 1-D input"),
    ((2, 3), (1, 1, 1, 1), "replicate", r"not supported for a 2-D input"),
    ((1, 3), (1, 1), "bogus", r"pad: unknown padding mode 'bogus'"),
    ((1, 3), (-2, -1), "replicate", r"removes all 3 entries"),
])
def test_pad_errors(backend, shape, pad, mode, message):
    with pytest.raises(ValueError, match=message):
        F.pad(gdl.zeros(*shape), pad, mode=mode)


def test_pad_argument_type_errors(backend):
    with pytest.raises(TypeError, match=r"pad: the padding must be a tuple of ints, got 1.5 at position 0"):
        F.pad(gdl.zeros(2, 3), (1.5, 1))
    with pytest.raises(ValueError, match="pad: padding mode 'reflect' does not take a value"):
        F.pad(gdl.zeros(1, 3), (1, 1), mode="reflect", value=2.0)
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or a tuple of 4 ints"):
        nn.ZeroPad2d((1, 2))


@pytest.mark.parametrize("module,mode,pad", [
    (nn.ZeroPad1d(2), "constant", (2, 2)), (nn.ZeroPad2d((1, 0, 2, 1)), "constant", (1, 0, 2, 1)),
    (nn.ConstantPad2d(1, 2.5), "constant", (1, 1, 1, 1)), (nn.ReflectionPad1d((2, 1)), "reflect", (2, 1)),
    (nn.ReflectionPad2d(1), "reflect", (1, 1, 1, 1)), (nn.ReplicationPad1d(3), "replicate", (3, 3)),
    (nn.ReplicationPad2d((1, 2, 0, 1)), "replicate", (1, 2, 0, 1)), (nn.CircularPad2d(1), "circular", (1, 1, 1, 1)),
    (nn.ReflectionPad3d(1), "reflect", (1,) * 6), (nn.ReplicationPad3d(1), "replicate", (1,) * 6),
    (nn.ConstantPad3d(1, -1.0), "constant", (1,) * 6),
])
def test_pad_modules_match_functional(backend, module, mode, pad):
    x = _t(np.random.default_rng(5).standard_normal((2, 3) + (4,) * (len(pad) // 2)))
    value = getattr(module, "value", None)
    np.testing.assert_array_equal(module(x).numpy(), F.pad(x, pad, mode=mode, value=value).numpy())
    assert module.padding == pad


# -- distance --------------------------------------------------------------------------------------------


def test_normalize_values_and_gradcheck(backend):
    a = np.random.default_rng(6).standard_normal((3, 4))
    a[1] = 0.0
    out = F.normalize(_t(a)).numpy()
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    np.testing.assert_allclose(out, a / np.maximum(norms, 1e-12))
    np.testing.assert_allclose(F.normalize(_t(a), p=1.0, dim=0).numpy(),
                               a / np.maximum(np.abs(a).sum(axis=0, keepdims=True), 1e-12))
    np.testing.assert_allclose(F.normalize(_t([[3.0, 4.0]])).numpy(), [[0.6, 0.8]])
    b = _t(a + 0.5, requires_grad=True)
    for p, dim in ((2.0, 1), (2.0, 0), (1.0, 1), (3.0, -1)):
        assert gradcheck(lambda t, p=p, dim=dim: F.normalize(t, p, dim), [b])
    z = _t([[0.0, 0.0, 0.0], [1e-13, 0.0, -2e-13]], requires_grad=True)
    F.normalize(z).sum().backward()  # no NaN at a zero vector; below eps the norm gets no gradient: 1/eps
    np.testing.assert_allclose(z.grad.numpy(), np.full((2, 3), 1e12))


def test_cosine_similarity_values_and_gradcheck(backend):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ref = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(F.cosine_similarity(_t(a), _t(b)).numpy(), ref)
    np.testing.assert_allclose(nn.CosineSimilarity()(_t(a), _t(b)).numpy(), ref)
    np.testing.assert_allclose(F.cosine_similarity(_t([[1.0, 0.0]]), _t([[0.0, 0.0]])).numpy(), [0.0])
    np.testing.assert_allclose(F.cosine_similarity(_t([1.0, 1.0]), _t([2.0, 2.0]), dim=0).numpy(), 1.0)
    x, y = _t(a, requires_grad=True), _t(b, requires_grad=True)
    assert gradcheck(lambda s, t: F.cosine_similarity(s, t), [x, y])
    assert gradcheck(lambda s, t: F.cosine_similarity(s, t, dim=0), [x, y])
    row = _t(b[:1], requires_grad=True)  # broadcasting: the gradient sums back to (1, 4)
    assert F.cosine_similarity(x, row).shape == (3,)
    assert gradcheck(lambda s, t: F.cosine_similarity(s, t), [x, row])
    with pytest.raises(ValueError, match="cosine_similarity: shapes"):
        F.cosine_similarity(gdl.zeros(2, 3), gdl.zeros(2, 4))


def test_pairwise_distance_values_and_gradcheck(backend):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(F.pairwise_distance(_t(a), _t(b)).numpy(), np.linalg.norm(a - b + 1e-6, axis=-1))
    np.testing.assert_allclose(F.pairwise_distance(_t(a), _t(b), p=1.0, eps=0.0, keepdim=True).numpy(),
                               np.abs(a - b).sum(-1, keepdims=True))
    np.testing.assert_allclose(nn.PairwiseDistance(3.0)(_t(a), _t(b)).numpy(),
                               (np.abs(a - b + 1e-6) ** 3).sum(-1) ** (1 / 3))
    np.testing.assert_allclose(F.pairwise_distance(_t([0.0, 0.0, 0.0]), _t([1.0, 1.0, 1.0]), eps=0.0).numpy(),
                               math.sqrt(3))
    x, y = _t(a, requires_grad=True), _t(b, requires_grad=True)
    assert gradcheck(lambda s, t: F.pairwise_distance(s, t), [x, y])
    assert gradcheck(lambda s, t: F.pairwise_distance(s, t, p=1.5), [x, y])


def test_one_hot(backend):
    out = F.one_hot(gdl.tensor([0, 2, 1]))
    assert out.dtype == gdl.int64
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert F.one_hot(gdl.tensor([[0, 1]]), 5).shape == (1, 2, 5)
    assert F.one_hot(gdl.tensor(1), 3).numpy().tolist() == [0, 1, 0]
    assert F.one_hot(gdl.zeros(0, dtype=gdl.int64), 4).shape == (0, 4)
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative, got -1"):
        F.one_hot(gdl.tensor([0, -1]))
    with pytest.raises(ValueError, match="one_hot: class values must be smaller than num_classes=3, got 3"):
        F.one_hot(gdl.tensor([3, 0]), 3)
    with pytest.raises(ValueError, match="one_hot: cannot infer the number of classes from an empty tensor"):
        F.one_hot(gdl.zeros(0, dtype=gdl.int64))
    with pytest.raises(TypeError, match="one_hot: needs an integer tensor of class indices, got float32"):
        F.one_hot(gdl.tensor([1.0]))
