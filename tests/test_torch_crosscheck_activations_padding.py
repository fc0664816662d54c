"""Cross-checks of gdl's activations, padding and distance functions against PyTorch
(skipped when torch is not installed): forward values and gradients in float64, on
edge values (large |x|, values at thresholds and kinks) and hypothesis-drawn inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.nn as nn  # noqa: E402
import gdl.nn.functional as F  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

TOL = dict(rtol=1e-9, atol=1e-12)

# edge values: large |x| (overflow of exp), thresholds and kinks of the piecewise ops
EDGES = np.array([-1000.0, -100.0, -40.0, -20.0, -6.0, -3.0, -1.0, -0.5, -1e-8, 0.0, 1e-8, 0.5, 1.0, 3.0, 6.0,
                  19.9, 20.0, 20.1, 40.0, 100.0, 1000.0])

# name -> (gdl function, torch function)
FUNCS = {
    "silu": (F.silu, TF.silu),
    "elu": (F.elu, TF.elu),
    "elu_alpha": (lambda x: F.elu(x, 0.3), lambda x: TF.elu(x, 0.3)),
    "selu": (F.selu, TF.selu),
    "celu": (F.celu, TF.celu),
    "celu_alpha": (lambda x: F.celu(x, 2.5), lambda x: TF.celu(x, 2.5)),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 10.0), lambda x: TF.softplus(x, 2.0, 10.0)),
    "softplus_small_beta": (lambda x: F.softplus(x, 0.5), lambda x: TF.softplus(x, 0.5)),
    "mish": (F.mish, TF.mish),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_bounds": (lambda x: F.hardtanh(x, -3.0, 0.5), lambda x: TF.hardtanh(x, -3.0, 0.5)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "softshrink": (F.softshrink, TF.softshrink),
    "softshrink_1": (lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0)),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "hardshrink_3": (lambda x: F.hardshrink(x, 3.0), lambda x: TF.hardshrink(x, 3.0)),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0)),
    "threshold_0": (lambda x: F.threshold(x, 0.0, 7.0), lambda x: TF.threshold(x, 0.0, 7.0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
}


# torch's CPU hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f even in float64
# (a relative error of 3e-8); gdl divides by 6.0 exactly, so its gradient gets a looser tolerance
GRAD_TOL = {"hardsigmoid": dict(rtol=1e-7, atol=1e-12)}


def _check(fg, ft, a, tol=TOL, seed=0, grad_tol=None):
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y, yt = fg(x), ft(xt)
    close(y, yt, "forward", **tol)
    w = np.random.default_rng(seed).standard_normal(np.shape(yt.detach().numpy()))
    (y * gdl.tensor(w, dtype=gdl.float64)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(x.grad, xt.grad, "gradient", **(grad_tol or tol))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_edge_values_and_gradients_match_torch(name):
    fg, ft = FUNCS[name]
    _check(fg, ft, EDGES, grad_tol=GRAD_TOL.get(name))


@pytest.mark.parametrize("name", sorted(FUNCS))
@SETTINGS(15)
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-30, 30, allow_subnormal=False)))
def test_random_values_and_gradients_match_torch(name, a):
    fg, ft = FUNCS[name]
    _check(fg, ft, a, grad_tol=GRAD_TOL.get(name))


def test_float32_default_dtype_matches_torch():
    a = np.linspace(-8, 8, 33)
    for name, (fg, ft) in FUNCS.items():
        y = fg(gdl.tensor(a, dtype=gdl.float32))
        assert y.dtype == gdl.float32, name
        close(y, ft(torch.tensor(a, dtype=torch.float32)), name, rtol=2e-6, atol=2e-6)


def test_integer_input_gives_the_default_float():
    # deliberate difference: torch refuses integer input for most of these ("not implemented for
    # 'Long'") and keeps the integer dtype for hardtanh/relu6/threshold; gdl gives every activation
    # of an integer tensor the default float dtype, so one rule covers them all
    for name, (fg, ft) in FUNCS.items():
        y = fg(gdl.tensor([-2, 0, 3]))
        assert y.dtype == gdl.get_default_dtype(), name
        close(y, ft(torch.tensor([-2.0, 0.0, 3.0])), name, rtol=1e-6, atol=1e-7)


# -- glu, softmin, prelu ------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_glu_matches_torch(dim):
    a = np.random.default_rng(1).standard_normal((4, 6, 2)) * 3
    _check(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), a)


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_softmin_matches_torch(dim):
    a = np.random.default_rng(2).standard_normal((3, 4)) * 10
    a[0, 0] = 800.0  # exp(-x) of the shifted values must not overflow
    _check(lambda x: F.softmin(x, dim), lambda x: TF.softmin(x, dim), a)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 2, 2)])
def test_softmin_implicit_dim_matches_torch(shape):
    a = np.random.default_rng(3).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmin(g64(a))
    close(y, TF.softmin(t64(a), dim=None))


@pytest.mark.parametrize("shape,nw", [((4, 3), 1), ((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 2, 2), 3), ((5,), 1),
                                      ((), 1)])
def test_prelu_matches_torch_for_input_and_weight(shape, nw):
    rng = np.random.default_rng(4)
    a = rng.standard_normal(shape)
    if a.size:
        a.reshape(-1)[0] = 0.0  # the kink
    wa = rng.uniform(-0.5, 0.5, nw)
    x, xt = g64(a, grad=True), t64(a, grad=True)
    w, wt = g64(wa, grad=True), t64(wa, grad=True)
    y, yt = F.prelu(x, w), TF.prelu(xt, wt)
    close(y, yt)
    y.sum().backward()
    yt.sum().backward()
    close(x.grad, xt.grad)
    close(w.grad, wt.grad)


def test_prelu_module_matches_torch():
    m, mt = nn.PReLU(3, dtype=gdl.float64), tnn.PReLU(3, dtype=torch.float64)
    close(m.weight, mt.weight)
    a = np.random.default_rng(5).standard_normal((2, 3, 4))
    x, xt = g64(a), t64(a)
    y, yt = m(x), mt(xt)
    close(y, yt)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(m.weight.grad, mt.weight.grad)
    assert list(m.state_dict()) == list(mt.state_dict())


# -- modules: values and reprs ----------------------------------------------------------------------

MODULES = [
    ("SiLU", (), ()), ("Mish", (), ()), ("ELU", (0.5,), (0.5,)), ("SELU", (), ()), ("CELU", (1.5,), (1.5,)),
    ("Softplus", (2.0, 5.0), (2.0, 5.0)), ("Hardtanh", (-2.0, 2.0), (-2.0, 2.0)), ("ReLU6", (), ()),
    ("Hardsigmoid", (), ()), ("Hardswish", (), ()), ("LogSigmoid", (), ()), ("Softsign", (), ()),
    ("Tanhshrink", (), ()), ("Softshrink", (0.3,), (0.3,)), ("Hardshrink", (0.3,), (0.3,)),
    ("Threshold", (0.1, 20.0), (0.1, 20.0)), ("GLU", (), ()), ("GLU", (1,), (1,)), ("Softmin", (1,), (1,)),
    ("PReLU", (), ()), ("LeakyReLU", (0.2,), (0.2,)), ("GELU", ("tanh",), ("tanh",)), ("ReLU", (), ()),
    ("ELU", (1.0, True), (1.0, True)), ("Hardtanh", (-1.0, 1.0, True), (-1.0, 1.0, True)),
    ("ReLU6", (True,), (True,)), ("SiLU", (True,), (True,)), ("Threshold", (0.0, 1.0, True), (0.0, 1.0, True)),
    ("LeakyReLU", (0.01, True), (0.01, True)), ("ReLU", (True,), (True,)), ("SELU", (True,), (True,)),
]


@pytest.mark.parametrize("name,args,targs", MODULES)
def test_modules_match_torch_values_and_repr(name, args, targs):
    m, mt = getattr(nn, name)(*args), getattr(tnn, name)(*targs)
    assert repr(m) == repr(mt)
    a = np.random.default_rng(6).standard_normal((2, 4, 6)) * 4
    x, xt = g64(a), t64(a)
    if name == "PReLU":
        m, mt = nn.PReLU(dtype=gdl.float64), mt.double()
    # torch's inplace=True writes into xt; gdl returns a new tensor (compare with a copy)
    close(m(x), mt(xt.clone()), name)


@pytest.mark.parametrize("make,tmake", [
    (lambda: nn.CosineSimilarity(), lambda: tnn.CosineSimilarity()),
    (lambda: nn.CosineSimilarity(dim=0, eps=1e-3), lambda: tnn.CosineSimilarity(dim=0, eps=1e-3)),
    (lambda: nn.PairwiseDistance(), lambda: tnn.PairwiseDistance()),
    (lambda: nn.PairwiseDistance(1.0, 1e-3, True), lambda: tnn.PairwiseDistance(1.0, 1e-3, True)),
])
def test_distance_modules_match_torch(make, tmake):
    m, mt = make(), tmake()
    assert repr(m) == repr(mt)
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    close(m(g64(a), g64(b)), mt(t64(a), t64(b)))


# -- distance -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize_matches_torch(p, dim):
    a = np.random.default_rng(8).standard_normal((3, 4))
    a[1] = 0.0  # a zero row: the eps clamp
    a[2, 1] = 1e-13
    _check(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), a)


def test_normalize_below_eps_matches_torch():
    a = np.array([[1e-13, 0.0, -2e-13], [0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    _check(lambda x: F.normalize(x), lambda x: TF.normalize(x), a, tol=dict(rtol=1e-9, atol=1e-6))


@pytest.mark.parametrize("shapes,dim", [(((3, 4), (3, 4)), 1), (((2, 1, 4), (3, 4)), -1), (((5,), (5,)), 0),
                                        (((4, 3), (1, 3)), 0)])
def test_cosine_similarity_matches_torch(shapes, dim):
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y2, yt2 = g64(b, grad=True), t64(b, grad=True)
    out, outt = F.cosine_similarity(x, y2, dim), TF.cosine_similarity(xt, yt2, dim)
    close(out, outt)
    w = rng.standard_normal(tuple(outt.shape))
    (out * g64(w)).sum().backward()
    (outt * torch.tensor(w)).sum().backward()
    close(x.grad, xt.grad)
    close(y2.grad, yt2.grad)


def test_cosine_similarity_tiny_and_zero_norms_match_torch():
    a = np.array([[1e-9, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    b = np.array([[1.0, 2.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1e-10]])
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y2, yt2 = g64(b, grad=True), t64(b, grad=True)
    close(F.cosine_similarity(x, y2), TF.cosine_similarity(xt, yt2))
    F.cosine_similarity(x, y2).sum().backward()
    TF.cosine_similarity(xt, yt2).sum().backward()
    close(x.grad, xt.grad, rtol=1e-9, atol=1e-6)
    close(y2.grad, yt2.grad, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((5,), (5,)), ((2, 3, 4), (2, 3, 4))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(p, shapes, keepdim):
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y2, yt2 = g64(b, grad=True), t64(b, grad=True)
    out = F.pairwise_distance(x, y2, p, keepdim=keepdim)
    outt = TF.pairwise_distance(xt, yt2, p, keepdim=keepdim)
    close(out, outt)
    out.sum().backward()
    outt.sum().backward()
    close(x.grad, xt.grad)
    close(y2.grad, yt2.grad)


@pytest.mark.parametrize("values,num_classes", [([0, 2, 1], -1), ([[0, 3], [1, 1]], 5), ([], 4), (2, 3)])
def test_one_hot_matches_torch(values, num_classes):
    ours = F.one_hot(gdl.tensor(values, dtype=gdl.int64), num_classes)
    theirs = TF.one_hot(torch.tensor(values, dtype=torch.long), num_classes)
    assert ours.dtype == gdl.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.shape == tuple(theirs.shape)


# -- padding --------------------------------------------------------------------------------------------

PAD_CASES = [
    ((2, 5), (2, 1)), ((2, 3, 5), (2, 1)), ((2, 3, 5), (0, 3)), ((2, 3, 5), (-1, 2)), ((2, 3, 5), (2, -1)),
    ((2, 3, 5), (-2, -2)), ((3, 4, 5), (1, 2, 3, 0)), ((2, 3, 4, 5), (1, 2, 3, 1)), ((2, 3, 4, 5), (-1, 2, 1, -2)),
    ((2, 4, 4, 5), (1, 2, 3, 1, 2, 0)), ((1, 2, 4, 4, 5), (1, 1, 1, 1, 1, 1)), ((2, 3, 4, 5), (4, 4, 3, 3)),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
def test_pad_matches_torch(mode, shape, pad):
    a = np.random.default_rng(11).standard_normal(shape)
    x, xt = g64(a, grad=True), t64(a, grad=True)
    try:
        yt = TF.pad(xt, pad, mode=mode)
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        with pytest.raises(ValueError, match="pad"):
            F.pad(x, pad, mode=mode)
        pytest.skip(f"torch refuses too: {exc}")
    y = F.pad(x, pad, mode=mode)
    close(y, yt)
    w = np.random.default_rng(12).standard_normal(tuple(yt.shape))
    (y * g64(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("shape,pad,value", [((3,), (1, 2), 1.5), ((2, 3, 4, 5), (1, 0, 0, 2, 1, 1, 0, 1), -1.0),
                                             ((2, 3), (-1, 0, 1, -1), 0.0), ((3, 3), (1, 1), None)])
def test_constant_pad_any_number_of_dims_matches_torch(shape, pad, value):
    a = np.random.default_rng(13).standard_normal(shape)
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y, yt = F.pad(x, pad, value=value), TF.pad(xt, pad, value=value)
    close(y, yt)
    y.sum().backward()
    yt.sum().backward()
    close(x.grad, xt.grad)


def test_constant_pad_keeps_integer_dtype_as_torch():
    ours = F.pad(gdl.tensor([1, 2, 3]), (1, 1), value=0.7)
    theirs = TF.pad(torch.tensor([1, 2, 3]), (1, 1), value=0.7)
    assert ours.dtype == gdl.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape,pad,mode", [
    ((1, 3), (3, 3), "reflect"), ((1, 3), (4, 0), "circular"), ((1, 3), (1, 1, 1), "constant"),
    ((3,), (1, 1, 1, 1), "constant"), ((3,), (-2, -2), "constant"), ((3,), (1, 1), "reflect"),
    ((2, 3), (1, 1, 1, 1), "reflect"), ((1, 3), (1, 1), "bogus"), ((2, 3, 4, 5, 6, 7), (1, 1), "replicate"),
])
def test_pad_errors_where_torch_errors(shape, pad, mode):
    with pytest.raises((RuntimeError, NotImplementedError)):
        TF.pad(torch.zeros(shape), pad, mode=mode)
    with pytest.raises(ValueError, match="pad"):
        F.pad(gdl.zeros(*shape), pad, mode=mode)


PAD_MODULES = [
    ("ZeroPad1d", (2,)), ("ZeroPad2d", (1,)), ("ZeroPad2d", ((1, 0, 2, 1),)), ("ZeroPad3d", (1,)),
    ("ConstantPad1d", (2, 3.5)), ("ConstantPad2d", ((1, 2, 0, 1), 1)), ("ConstantPad3d", (1, -1.0)),
    ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 2, 0),)), ("ReflectionPad3d", (1,)),
    ("ReplicationPad1d", (3,)), ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 0, 0, 1, 2, 0),)),
    ("CircularPad1d", (2,)), ("CircularPad2d", ((1, 2, 2, 0),)), ("CircularPad3d", (1,)),
]


@pytest.mark.parametrize("name,args", PAD_MODULES)
def test_pad_modules_match_torch(name, args):
    m, mt = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    assert repr(m) == repr(mt)
    assert m.padding == mt.padding
    nd = int(name[-2])
    a = np.random.default_rng(14).standard_normal((2, 3) + (4,) * nd)
    x, xt = g64(a, grad=True), t64(a, grad=True)
    y, yt = m(x), mt(xt)
    close(y, yt, name)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(x.grad, xt.grad, name)
