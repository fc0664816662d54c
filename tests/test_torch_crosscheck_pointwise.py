"""Cross-checks of gdl's elementwise math (gdl.functional.pointwise) and dtype promotion
against PyTorch (skipped when torch is not installed).

Every op is compared on edge values (0, -0, ±1, halves for the rounding ties, ±inf,
NaN, negative numbers for fmod/remainder): forward values, gradients (NaN where torch
has NaN, inf where it has inf) and result dtypes, including integer and bool inputs.
Where gdl deliberately differs, the test asserts gdl's behaviour and says why.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from torch_support import SETTINGS  # noqa: E402

import gdl  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

NAN, INF = math.nan, math.inf
EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.25, -7.25, 3.0, 1e-8, 100.0, INF, -INF, NAN]


def same(ours, theirs, msg="", rtol=1e-12, atol=1e-300):
    """Same shape, dtype name and values (NaN where torch has NaN, infinities equal)."""
    theirs = theirs.detach() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), f"{msg}: dtype {ours.dtype} != {theirs.dtype}"
    o, t = ours.numpy(), theirs.numpy()
    assert o.shape == t.shape, f"{msg}: shape {o.shape} != {t.shape}"
    if o.dtype.kind in "biu":
        np.testing.assert_array_equal(o, t, err_msg=msg)
    else:
        np.testing.assert_allclose(o.astype(np.float64), t.astype(np.float64), rtol=rtol, atol=atol, err_msg=msg)


def pair(values, dtype="float64", grad=False):
    g = gdl.tensor(np.asarray(values, dtype=dtype), requires_grad=grad)
    t = torch.tensor(np.asarray(values, dtype=dtype), requires_grad=grad)
    return g, t


def check_grads(gs, ts, y, yt, msg, rtol=1e-12):
    w = np.random.default_rng(0).uniform(0.5, 1.5, tuple(yt.shape))
    (y * gdl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"{msg}: input {i}"
        else:
            same(g.grad, t.grad, f"{msg}: grad of input {i}", rtol=rtol, atol=1e-15)  # 1 - tanh² cancels


# -- unary ops --------------------------------------------------------------------------

UNARY = ["sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
         "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "floor", "ceil", "round", "trunc", "fix",
         "frac", "sign", "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "square", "reciprocal", "logit",
         "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "nan_to_num"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_on_edge_values(name):
    g, t = pair(EDGE, grad=True)
    y, yt = getattr(gdl, name)(g), getattr(torch, name)(t)
    same(y, yt, name, rtol=1e-13)
    check_grads([g], [t], y, yt, name, rtol=1e-12)
    # methods too, float32
    g32, t32 = pair(EDGE, "float32")
    # float32: gdl's sigmoid is 0.5·(1 + tanh(x/2)) (no overflow), a few ulps of 1 off torch's for tiny outputs
    same(getattr(g32, name)(), getattr(t32, name)(), f"{name} float32", rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_unary_dtypes_on_integer_and_bool_inputs(name, dtype):
    values = [0, 1, 3] if dtype in ("uint8", "bool") else [-3, 0, 1, 4]
    g, t = pair(np.asarray(values).astype(dtype), dtype)
    if name == "abs" and dtype == "bool":
        pytest.skip("torch refuses abs on bool; gdl's abs (elementwise.py) leaves it to the backend")
    try:
        theirs = getattr(torch, name)(t)
    except (RuntimeError, NotImplementedError):  # torch has no kernel for this dtype: gdl refuses too
        with pytest.raises(TypeError, match=name.replace("fix", "trunc")):
            getattr(gdl, name)(g)
        return
    same(getattr(gdl, name)(g), theirs, f"{name} {dtype}", rtol=2e-6)


def test_round_with_decimals():
    values = [0.125, 0.135, 1.5, 2.5, -0.5, 1234.5, -1.2355, 15.0, 25.0, 35.0, INF, NAN, 1e300]
    for dtype in ("float64", "float32"):
        g, t = pair(values, dtype)
        for d in (-2, -1, 0, 1, 2, 3):
            same(gdl.round(g, decimals=d), torch.round(t, decimals=d), f"round decimals={d} {dtype}", rtol=0)


def test_nan_to_num_arguments():
    g, t = pair([NAN, INF, -INF, 2.0], grad=True)
    y, yt = gdl.nan_to_num(g, nan=1.0, posinf=5.0, neginf=-5.0), torch.nan_to_num(t, nan=1.0, posinf=5.0, neginf=-5.0)
    same(y, yt, "nan_to_num")
    check_grads([g], [t], y, yt, "nan_to_num")
    same(gdl.nan_to_num(pair([INF], "float32")[0]), torch.nan_to_num(pair([INF], "float32")[1]), "float32 max")


@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 0.1, 0.5])
def test_logit_eps(eps):
    g, t = pair([0.0, 0.05, 0.1, 0.5, 0.9, 1.0, -1.0, 2.0, NAN], grad=True)
    y, yt = gdl.logit(g, eps=eps), torch.logit(t, eps=eps)
    same(y, yt, f"logit eps={eps}")
    check_grads([g], [t], y, yt, f"logit eps={eps}")


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_not"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_predicates(name, dtype):
    values = EDGE if dtype.startswith("float") else [0, 1, 3]
    g, t = pair(np.asarray(values).astype(dtype), dtype)
    same(getattr(gdl, name)(g), getattr(torch, name)(t), f"{name} {dtype}")
    same(getattr(g, name)(), getattr(t, name)(), f"{name} {dtype}")


# -- binary ops -------------------------------------------------------------------------

BINARY = ["atan2", "arctan2", "logaddexp", "hypot", "fmod", "remainder", "xlogy", "clamp_min", "clamp_max",
          "maximum", "minimum", "logical_and", "logical_or", "logical_xor"]


def grid():
    a = np.repeat(np.asarray(EDGE), len(EDGE))
    b = np.tile(np.asarray(EDGE), len(EDGE))
    return a, b


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_gradients_on_an_edge_value_grid(name):
    a, b = grid()
    (ga, ta), (gb, tb) = pair(a, grad=True), pair(b, grad=True)
    y, yt = getattr(gdl, name)(ga, gb), getattr(torch, name)(ta, tb)
    same(y, yt, name, rtol=1e-13)
    if yt.requires_grad:
        if name in ("maximum", "minimum"):
            # gdl splits the gradient evenly on ties (a documented choice); compare off the ties
            keep = a != b
            a, b = a[keep], b[keep]
            (ga, ta), (gb, tb) = pair(a, grad=True), pair(b, grad=True)
            y, yt = getattr(gdl, name)(ga, gb), getattr(torch, name)(ta, tb)
        check_grads([ga, gb], [ta, tb], y, yt, name)


def test_floor_divide_values_and_no_gradient():
    a, b = grid()
    (ga, ta), (gb, tb) = pair(a), pair(b)
    same(gdl.floor_divide(ga, gb), torch.floor_divide(ta, tb), "floor_divide", rtol=0)
    same(ga // gb, ta // tb, "//", rtol=0)
    x = gdl.tensor([1.5], dtype=gdl.float64, requires_grad=True)
    # torch builds a graph and raises in backward ("derivative not implemented"); gdl gives a
    # result that does not require grad, so the gradient simply does not flow through it
    assert not gdl.floor_divide(x, 2.0).requires_grad


@SETTINGS(40)
@given(st.data(), st.sampled_from(["fmod", "remainder", "floor_divide"]), st.sampled_from(["int64", "int32", "int8"]))
def test_integer_division_ops(data, name, dtype):
    n = data.draw(st.integers(1, 6))
    a = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-50, 50)))
    b = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-9, 9).filter(bool)))
    (ga, ta), (gb, tb) = pair(a.astype(dtype), dtype), pair(b.astype(dtype), dtype)
    same(getattr(gdl, name)(ga, gb), getattr(torch, name)(ta, tb), f"{name} {dtype}")
    scalar = int(b[0])
    same(getattr(gdl, name)(ga, scalar), getattr(torch, name)(ta, scalar), f"{name} {dtype} scalar")
    same(getattr(gdl, name)(ga, 2.5), getattr(torch, name)(ta, 2.5), f"{name} {dtype} float scalar")


def test_division_by_integer_zero_raises_as_torch():
    for name in ("fmod", "remainder", "floor_divide"):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            getattr(torch, name)(torch.tensor([3]), 0)
        with pytest.raises(ZeroDivisionError):  # gdl raises Python's own exception
            getattr(gdl, name)(gdl.tensor([3]), 0)


def test_operators_mod_and_floordiv():
    g, t = pair([-7.5, -3.0, 2.25, 5.0])
    for fn in (lambda x: x % 2, lambda x: x % -2.5, lambda x: 5 % x, lambda x: x // 2, lambda x: -7 // x,
               lambda x: x % x):
        same(fn(g), fn(t), "operator")


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "fmod", "remainder", "xlogy"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int64", "float32"), ("float32", "int32"),
                                    ("bool", "float64"), ("float32", "float64"), ("int32", "int64")])
def test_binary_dtypes(name, dtypes):
    (ga, ta) = pair(np.asarray([1, 3]).astype(dtypes[0]), dtypes[0])
    (gb, tb) = pair(np.asarray([2, 1]).astype(dtypes[1]), dtypes[1])
    try:
        theirs = getattr(torch, name)(ta, tb)
    except (RuntimeError, NotImplementedError):
        # torch has no integer kernel for hypot/logaddexp; gdl treats them as every float-valued
        # op (integers become the default float), which is what torch gives on float inputs
        assert name in ("hypot", "logaddexp") and "float" not in dtypes[0] + dtypes[1]
        theirs = getattr(torch, name)(ta.float(), tb.float())
    same(getattr(gdl, name)(ga, gb), theirs, f"{name} {dtypes}", rtol=2e-6)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy", "fmod", "remainder"])
def test_binary_with_a_python_number(name):
    g, t = pair([-2.5, 0.0, 3.0], grad=True)
    for other in (2, 2.5, -1.5):
        if name in ("atan2", "hypot", "logaddexp"):
            # torch wants a tensor here; gdl also takes a number (as a 0-d tensor of the input's dtype)
            y, yt = getattr(gdl, name)(g, other), getattr(torch, name)(t, torch.tensor(other, dtype=t.dtype))
        else:
            y, yt = getattr(gdl, name)(g, other), getattr(torch, name)(t, other)
        same(y, yt, f"{name} {other}")
    gi, ti = pair([1, 2, 3], "int64")
    if name in ("atan2", "hypot", "logaddexp"):
        # float32 results: CUDA's libm (CuPy) may differ from the CPU's by an ulp
        rtol = 1e-6 if gdl.get_backend() == "cupy" else 1e-12
        same(getattr(gdl, name)(gi, 2.5), getattr(torch, name)(ti.float(), torch.tensor(2.5)), name, rtol=rtol)
    else:
        same(getattr(gdl, name)(gi, 2.5), getattr(torch, name)(ti, 2.5), name)
    if name in ("xlogy", "remainder"):
        same(getattr(gdl, name)(2, g), getattr(torch, name)(2, t), f"{name} number first")


def test_lerp():
    s, e, w = np.meshgrid([0.0, -1.5, 2.0, 1e8, INF], [1.0, -3.0, 1e-3, NAN], [-0.5, 0.0, 0.3, 0.5, 0.9, 1.0, 2.0])
    (gs, ts), (ge, te), (gw, tw) = pair(s, grad=True), pair(e, grad=True), pair(w, grad=True)
    y, yt = gdl.lerp(gs, ge, gw), torch.lerp(ts, te, tw)
    same(y, yt, "lerp tensor weight")
    check_grads([gs, ge, gw], [ts, te, tw], y, yt, "lerp tensor weight")
    for weight in (-0.5, 0.0, 0.3, 0.5, 0.9, 1, 2.0):
        (gs, ts), (ge, te) = pair(s, grad=True), pair(e, grad=True)
        y, yt = gs.lerp(ge, weight), ts.lerp(te, weight)
        same(y, yt, f"lerp {weight}")
        check_grads([gs, ge], [ts, te], y, yt, f"lerp {weight}")
    (gs, ts), (ge, te) = pair([1e8, 0.0], "float32"), pair([1.0, 1.0], "float32")
    same(gdl.lerp(gs, ge, 0.9), torch.lerp(ts, te, 0.9), "lerp float32 from the end", rtol=1e-7)


def test_clamp_min_max_with_numbers_and_integer_tensors():
    g, t = pair(EDGE, grad=True)
    for fn in (lambda x: x.clamp_min(0.5), lambda x: x.clamp_max(-0.5), lambda x: x.clamp(-1.0, 1.0),
               lambda x: x.clamp(max=0.0)):
        g.grad = t.grad = None
        y, yt = fn(g), fn(t)
        same(y, yt, "clamp")
        check_grads([g], [t], y, yt, "clamp")
    same(gdl.clamp(g, -1.0, 1.0), torch.clamp(t, -1.0, 1.0), "gdl.clamp")
    gi, ti = pair([-3, 0, 4], "int64")
    for fn in (lambda x: x.clamp_min(1), lambda x: x.clamp_min(1.5), lambda x: x.clamp_max(0.5)):
        same(fn(gi), fn(ti), "clamp int")


@pytest.mark.parametrize("kw", [{}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 0.1}, {"atol": 1.0}])
def test_isclose_allclose(kw):
    a, b = grid()
    b = b * (1 + 1e-6)
    for dtype in ("float64", "float32"):
        (ga, ta), (gb, tb) = pair(a, dtype), pair(b, dtype)
        same(gdl.isclose(ga, gb, **kw), torch.isclose(ta, tb, **kw), f"isclose {kw}")
        assert gdl.allclose(ga, ga, **kw) == torch.allclose(ta, ta, **kw)
        assert gdl.allclose(ga[:3], gb[:3], **kw) == torch.allclose(ta[:3], tb[:3], **kw)
    (gi, ti), (gj, tj) = pair([1, 2, 10, -4], "int64"), pair([1, 3, 12, -5], "int64")
    same(gi.isclose(gj, **kw), ti.isclose(tj, **kw), f"isclose int {kw}")


def test_equal():
    cases = [([1.0, 2.0], [1.0, 2.0]), ([1.0, NAN], [1.0, NAN]), ([1.0], [[1.0]]), ([0.0], [-0.0]),
             ([INF], [INF]), ([1.0, 2.0], [1.0, 2.5])]
    for a, b in cases:
        (ga, ta), (gb, tb) = pair(a), pair(b)
        assert gdl.equal(ga, gb) == torch.equal(ta, tb), (a, b)
    x, xt = pair([NAN])
    assert gdl.equal(x, x) == torch.equal(xt, xt)
    (gi, ti), (gf, tf) = pair([1, 2], "int64"), pair([1.0, 2.0])
    assert gdl.equal(gi, gf) == torch.equal(ti, tf)


# -- dtype promotion (gdl.functional.elementwise) ---------------------------------------

DTYPE_CASES = {
    "int + f32": lambda i, f, d: i + f,
    "f32 - int": lambda i, f, d: f - i,
    "int * f64": lambda i, f, d: i * d,
    "int / int": lambda i, f, d: i / i,
    "int ** f32": lambda i, f, d: i ** f,
    "f32 + 0-d f64": lambda i, f, d: f + d[0],
    "0-d f64 * f32": lambda i, f, d: d[0] * f,
    "int + 0-d f64": lambda i, f, d: i + d[0],
    "int8 + 0-d int64": lambda i, f, d: i.to(dtype=torch.int8 if isinstance(i, torch.Tensor) else gdl.int8) + i[0],
    "bool * f32": lambda i, f, d: (i > 1) * f,
    "f32 + f64": lambda i, f, d: f + d,
    "where(int, f32)": lambda i, f, d: (torch if isinstance(i, torch.Tensor) else gdl).where(i > 1, i, f),
    "maximum(int, f32)": lambda i, f, d: (torch if isinstance(i, torch.Tensor) else gdl).maximum(i, f),
    "minimum(f64, int)": lambda i, f, d: (torch if isinstance(i, torch.Tensor) else gdl).minimum(d, i),
    "int < f32": lambda i, f, d: i < f,
    "int == f64": lambda i, f, d: i == d,
    "exp(int)": lambda i, f, d: i.exp(),
    "log(int)": lambda i, f, d: i.log(),
    "sqrt(int)": lambda i, f, d: i.sqrt(),
    "tanh(int)": lambda i, f, d: i.tanh(),
    "sigmoid(int)": lambda i, f, d: i.sigmoid(),
    "sin(bool)": lambda i, f, d: (i > 1).sin(),
}


@pytest.mark.parametrize("case", sorted(DTYPE_CASES))
def test_dtype_promotion(case):
    fn = DTYPE_CASES[case]
    ours = fn(gdl.tensor([1, 2, 3]), gdl.tensor([1.5, 2.0, 0.5]),
              gdl.tensor([1.0, 2.0, 4.0], dtype=gdl.float64))
    theirs = fn(torch.tensor([1, 2, 3]), torch.tensor([1.5, 2.0, 0.5]),
                torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))
    same(ours, theirs, case, rtol=1e-6)


def test_gradient_through_a_0d_float64_tensor_beside_float32():
    x, xt = pair([1.0, 2.0, 3.0], "float32", grad=True)
    s, st_ = pair(2.5, "float64", grad=True)
    y, yt = x * s + s, xt * st_ + st_
    same(y, yt, "forward", rtol=1e-7)
    y.sum().backward()
    yt.sum().backward()
    same(x.grad, xt.grad, "x grad")
    same(s.grad, st_.grad, "s grad")
