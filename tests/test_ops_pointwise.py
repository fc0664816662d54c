"""Elementwise math (gdl.functional.pointwise) and PyTorch's dtype promotion in
gdl.functional.elementwise: values against Python's ``math`` module or hand-computed
numbers, gradients by finite differences (float64, away from kinks and domain edges),
result dtypes, and errors. Runs on every test backend; no torch (see
test_torch_crosscheck_pointwise.py for the comparison with PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.testing import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SETTINGS = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
NAN, INF = math.nan, math.inf


def T(a, grad=False, dtype=gdl.float64):  # noqa: N802
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=grad)


def close(t, ref, rtol=1e-12, atol=1e-14):
    ref = np.asarray(ref, dtype=np.float64)
    out = t.numpy() if isinstance(t, gdl.Tensor) else np.asarray(t)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_allclose(out.astype(np.float64), ref, rtol=rtol, atol=atol)


# -- float-valued unary ops: values (math module), gradients, dtypes ----------------------

# name -> (math reference, points inside the domain and away from its edges)
UNARY = {
    "sin": (math.sin, [-2.0, -0.3, 0.0, 0.7, 3.0]),
    "cos": (math.cos, [-2.0, -0.3, 0.0, 0.7, 3.0]),
    "tan": (math.tan, [-1.2, -0.3, 0.0, 0.7, 1.4]),
    "sinh": (math.sinh, [-2.0, -0.3, 0.0, 0.7, 3.0]),
    "cosh": (math.cosh, [-2.0, -0.3, 0.0, 0.7, 3.0]),
    "asin": (math.asin, [-0.9, -0.3, 0.0, 0.7, 0.95]),
    "acos": (math.acos, [-0.9, -0.3, 0.0, 0.7, 0.95]),
    "atan": (math.atan, [-5.0, -0.3, 0.0, 0.7, 3.0]),
    "asinh": (math.asinh, [-5.0, -0.3, 0.0, 0.7, 3.0]),
    "acosh": (math.acosh, [1.1, 1.5, 2.0, 7.0, 30.0]),
    "atanh": (math.atanh, [-0.9, -0.3, 0.0, 0.7, 0.95]),
    "log1p": (math.log1p, [-0.9, -0.3, 1e-10, 0.7, 30.0]),
    "expm1": (math.expm1, [-3.0, -0.3, 1e-10, 0.7, 3.0]),
    "log2": (math.log2, [0.1, 0.5, 1.0, 8.0, 30.0]),
    "log10": (math.log10, [0.1, 0.5, 1.0, 8.0, 1000.0]),
    "exp2": (lambda v: 2.0**v, [-3.0, -0.3, 0.0, 0.7, 10.0]),
    "rsqrt": (lambda v: 1.0 / math.sqrt(v), [0.1, 0.5, 1.0, 4.0, 30.0]),
    "reciprocal": (lambda v: 1.0 / v, [-3.0, -0.3, 0.5, 4.0, 30.0]),
    "logit": (lambda v: math.log(v / (1.0 - v)), [0.05, 0.3, 0.5, 0.7, 0.95]),
    "exp": (math.exp, [-3.0, -0.3, 0.0, 0.7, 3.0]),
    "log": (math.log, [0.1, 0.5, 1.0, 8.0, 30.0]),
    "sqrt": (math.sqrt, [0.1, 0.5, 1.0, 4.0, 30.0]),
    "tanh": (math.tanh, [-3.0, -0.3, 0.0, 0.7, 3.0]),
    "sigmoid": (lambda v: 1.0 / (1.0 + math.exp(-v)), [-3.0, -0.3, 0.0, 0.7, 3.0]),
}
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
           "arctanh": "atanh", "arctan2": "atan2", "fix": "trunc", "clamp": "clip"}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_against_math(backend, name):
    ref, points = UNARY[name]
    fn = getattr(gdl, name)
    close(fn(T(points)), [ref(v) for v in points], rtol=1e-13, atol=1e-15)
    close(getattr(T(points), name)(), [ref(v) for v in points], rtol=1e-13, atol=1e-15)  # the method
    out32 = fn(T(points, dtype=gdl.float32))
    assert out32.dtype == gdl.float32
    close(out32, [ref(v) for v in points], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(backend, name):
    _, points = UNARY[name]
    x = T(points, grad=True)
    assert gradcheck(getattr(gdl, name), [x])
    x = T(np.reshape(points[:4], (2, 2)), grad=True)
    assert gradcheck(lambda t: getattr(t, name)() * 2.0, [x])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_integer_input_gives_the_default_float(backend, name):
    _, points = UNARY[name]
    ints = [int(v) for v in points if float(v).is_integer()] or [1]
    for dtype in (gdl.int64, gdl.int32, gdl.bool_):
        x = gdl.tensor(ints, dtype=gdl.int64).to(dtype=dtype) if dtype != gdl.bool_ else gdl.tensor([True, False])
        out = getattr(gdl, name)(x)
        assert out.dtype == gdl.float32, (name, dtype, out.dtype)
    gdl.set_default_dtype(gdl.float64)
    try:
        assert getattr(gdl, name)(gdl.tensor(ints)).dtype == gdl.float64
    finally:
        gdl.set_default_dtype(gdl.float32)


def test_aliases_are_the_same_ops(backend):
    for alias, name in ALIASES.items():
        assert getattr(gdl, alias) is getattr(gdl, name), alias
    x = T([0.25, -0.5])
    for alias in ("arcsin", "arccos", "arctan", "arcsinh", "arctanh", "fix"):
        close(getattr(x, alias)(), getattr(gdl, ALIASES[alias])(x).numpy())
    close(x.arctan2(x), gdl.atan2(x, x).numpy())


@SETTINGS
@given(hnp.arrays(np.float64, SHAPES, elements=st.floats(-3, 3)))
def test_sin_cos_identity_and_gradient_on_any_shape(a):
    x = gdl.tensor(a, requires_grad=True)
    close(gdl.sin(x) ** 2 + gdl.cos(x) ** 2, np.ones_like(a), rtol=1e-12)
    gdl.sin(x).sum().backward()
    close(x.grad, np.cos(a), rtol=1e-12)


def test_known_values():
    close(gdl.atan2(T([0.0, 1.0, -1.0]), T([-1.0, 0.0, 0.0])), [math.pi, math.pi / 2, -math.pi / 2])
    close(gdl.log1p(T([1e-20])), [1e-20], rtol=1e-15)  # accurate for tiny x, unlike log(1 + x)
    close(gdl.expm1(T([1e-20])), [1e-20], rtol=1e-15)
    close(gdl.rsqrt(T([0.0, 4.0])), [INF, 0.5])
    close(gdl.reciprocal(T([0.0, -0.0])), [INF, -INF])
    close(gdl.logit(T([0.0, 1.0, -1.0, 2.0])), [-INF, INF, NAN, NAN])
    close(gdl.asin(T([2.0])), [NAN])


# -- atan2 -------------------------------------------------------------------------------


def test_atan2_values_broadcasting_and_gradients(backend):
    ys, xs = [-2.0, -0.5, 0.3, 1.5], [[1.0], [-1.5], [0.7]]  # y != 0: atan2 jumps at y = 0, x < 0
    out = gdl.atan2(T(ys), T(xs))
    assert out.shape == (3, 4)
    close(out, [[math.atan2(y, x[0]) for y in ys] for x in xs])
    close(gdl.atan2(T(ys), 2.0), [math.atan2(y, 2.0) for y in ys])  # a number as the second operand
    close(gdl.atan2(T(ys), 2), [math.atan2(y, 2.0) for y in ys])
    a, b = T(ys, grad=True), T(xs, grad=True)
    assert gradcheck(gdl.atan2, [a, b])
    assert gradcheck(lambda t: t.atan2(-1.5), [a])


def test_atan2_dtypes(backend):
    i = gdl.tensor([1, 2])
    assert gdl.atan2(i, i).dtype == gdl.float32
    assert gdl.atan2(i, gdl.tensor([1.0, 2.0], dtype=gdl.float64)).dtype == gdl.float64
    assert gdl.atan2(gdl.tensor([1.0]), gdl.tensor([1.0], dtype=gdl.float64)).dtype == gdl.float64
    assert gdl.atan2(i, 1.5).dtype == gdl.float32


# -- rounding ---------------------------------------------------------------------------

ROUNDING = {"floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "round": round}


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding_values_zero_gradient_and_integer_dtypes(backend, name):
    points = [-2.5, -1.5, -0.7, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 3.7]
    fn = getattr(gdl, name)
    close(fn(T(points)), [float(ROUNDING[name](v)) for v in points])  # Python's round is half to even
    x = T(points, grad=True)
    (getattr(x, name)() * 3.0).sum().backward()
    close(x.grad, np.zeros(len(points)))
    for dtype in (gdl.int64, gdl.int32, gdl.uint8):
        i = gdl.tensor([0, 3, 7], dtype=dtype)
        out = fn(i)
        assert out.dtype == dtype and out.tolist() == [0, 3, 7]
    assert fn(gdl.tensor([-3, 4])).tolist() == [-3, 4]


def test_round_half_to_even_and_decimals(backend):
    close(gdl.round(T([0.5, 1.5, 2.5, -0.5, -1.5, 1e300])), [0.0, 2.0, 2.0, -0.0, -2.0, 1e300])
    close(gdl.round(T([1.2345, -1.2355, 15.0]), decimals=2), [1.23, -1.24, 15.0])
    close(gdl.round(T([0.125, 0.375]), decimals=2), [0.12, 0.38])  # 12.5 -> 12, 37.5 -> 38
    close(T([15.0, 25.0, 1234.5, -35.0]).round(decimals=-1), [20.0, 20.0, 1230.0, -40.0])
    assert gdl.round(gdl.tensor([1.26], dtype=gdl.float32), decimals=1).dtype == gdl.float32
    with pytest.raises(TypeError, match="round: decimals=1 needs a floating tensor"):
        gdl.round(gdl.tensor([1, 2]), decimals=1)
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        gdl.round(T([1.0]), decimals=1.5)


def test_frac_sign_square(backend):
    close(gdl.frac(T([1.75, -1.75, 0.0, 3.0])), [0.75, -0.75, 0.0, 0.0])
    x = T([1.75, -1.25], grad=True)
    assert gradcheck(gdl.frac, [x])
    close(gdl.sign(T([-2.0, -0.0, 0.0, 3.0, NAN, -INF])), [-1.0, 0.0, 0.0, 1.0, 0.0, -1.0])  # NaN -> 0, as torch
    s = gdl.sign(gdl.tensor([-5, 0, 7], dtype=gdl.int32))
    assert s.dtype == gdl.int32 and s.tolist() == [-1, 0, 1]
    assert gdl.sign(gdl.tensor([True, False])).tolist() == [True, False]
    x = T([1.5, -2.0], grad=True)
    gdl.sign(x).sum().backward()
    close(x.grad, [0.0, 0.0])
    close(gdl.square(T([-3.0, 0.5])), [9.0, 0.25])
    sq = gdl.square(gdl.tensor([-3, 4], dtype=gdl.int32))
    assert sq.dtype == gdl.int32 and sq.tolist() == [9, 16]
    b = gdl.square(gdl.tensor([True, False]))
    assert b.dtype == gdl.int64 and b.tolist() == [1, 0]
    assert gradcheck(gdl.square, [T([[-3.0, 0.5]], grad=True)])


def test_abs_keeps_integer_dtype(backend):
    a = gdl.tensor([-3, 2], dtype=gdl.int32).abs()
    assert a.dtype == gdl.int32 and a.tolist() == [3, 2]


# -- NaN / infinity ---------------------------------------------------------------------


def test_isnan_isinf_isfinite(backend):
    x = T([1.0, NAN, INF, -INF, -0.0])
    assert gdl.isnan(x).tolist() == [False, True, False, False, False]
    assert gdl.isinf(x).tolist() == [False, False, True, True, False]
    assert gdl.isfinite(x).tolist() == [True, False, False, False, True]
    assert gdl.isposinf(x).tolist() == [False, False, True, False, False]
    assert x.isneginf().tolist() == [False, False, False, True, False]
    assert x.isnan().dtype == gdl.bool_ and not x.isnan().requires_grad
    i = gdl.tensor([1, 2])
    assert gdl.isnan(i).tolist() == [False, False] and gdl.isfinite(i).tolist() == [True, True]
    assert gdl.isinf(gdl.tensor([True])).tolist() == [False]
    assert not gdl.isnan(T([1.0], grad=True)).requires_grad


def test_nan_to_num_values_and_gradient(backend):
    x = T([NAN, INF, -INF, 1.5])
    close(gdl.nan_to_num(x), [0.0, np.finfo(np.float64).max, np.finfo(np.float64).min, 1.5])
    close(x.nan_to_num(nan=2.0, posinf=9.0, neginf=-9.0), [2.0, 9.0, -9.0, 1.5])
    f32 = gdl.nan_to_num(gdl.tensor([INF], dtype=gdl.float32))
    assert f32.dtype == gdl.float32 and f32.item() == float(np.finfo(np.float32).max)
    i = gdl.tensor([1, 2])
    assert gdl.nan_to_num(i, nan=3.0).tolist() == [1, 2]
    x = T([NAN, INF, -INF, 1.5, -2.0], grad=True)
    (gdl.nan_to_num(x) * T([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    close(x.grad, [0.0, 0.0, 0.0, 4.0, 5.0])  # as torch: the gradient passes where x is finite


# -- logical ops ------------------------------------------------------------------------


def test_logical_ops(backend):
    a = gdl.tensor([0, 1, 2, 0])
    b = gdl.tensor([0.0, 0.0, 3.0, NAN])
    assert gdl.logical_and(a, b).tolist() == [False, False, True, False]
    assert gdl.logical_or(a, b).tolist() == [False, True, True, True]
    assert gdl.logical_xor(a, b).tolist() == [False, True, False, True]
    assert gdl.logical_not(b).tolist() == [True, True, False, False]  # NaN is True, so not-NaN is False
    assert a.logical_not().tolist() == [True, False, False, True]
    assert a.logical_and(True).tolist() == [False, True, True, False]
    m = gdl.tensor([True, False])
    assert gdl.logical_and(m, gdl.tensor([[True], [False]])).tolist() == [[True, False], [False, False]]
    assert gdl.logical_or(m, m).dtype == gdl.bool_
    assert (~m).tolist() == [False, True]
    assert (~gdl.tensor([0, 5])).tolist() == [-1, -6]  # bitwise on integers, as PyTorch


# -- binary math --------------------------------------------------------------------------

A_VALS = [-7.5, -3.0, -0.5, 0.0, 2.25, 5.0, 7.5]
B_VALS = [2.0, -2.0, 0.75, -3.0, 4.0, -1.5, 2.5]


def test_logaddexp_hypot(backend):
    close(gdl.logaddexp(T(A_VALS), T(B_VALS)), [math.log(math.exp(a) + math.exp(b)) for a, b in zip(A_VALS, B_VALS)])
    close(gdl.logaddexp(T([1000.0, -INF]), T([1000.0, 0.0])), [1000.0 + math.log(2.0), 0.0])  # no overflow
    close(gdl.hypot(T(A_VALS), T(B_VALS)), [math.hypot(a, b) for a, b in zip(A_VALS, B_VALS)])
    close(T([3.0]).hypot(4), [5.0])
    close(gdl.hypot(T([1e200]), T([1e200])), [math.sqrt(2.0) * 1e200])
    a, b = T(A_VALS[:3], grad=True), T([[1.0], [-2.0]], grad=True)
    assert gradcheck(gdl.logaddexp, [a, b])
    assert gradcheck(gdl.hypot, [a, b])
    assert gdl.hypot(gdl.tensor([3]), gdl.tensor([4])).dtype == gdl.float32


def test_fmod_remainder_floor_divide_values(backend):
    a, b = T(A_VALS), T(B_VALS)
    close(gdl.fmod(a, b), [math.fmod(x, y) for x, y in zip(A_VALS, B_VALS)])
    close(gdl.remainder(a, b), [x % y for x, y in zip(A_VALS, B_VALS)])
    close(a % b, [x % y for x, y in zip(A_VALS, B_VALS)])
    close(gdl.floor_divide(a, b), [x // y for x, y in zip(A_VALS, B_VALS)])
    close(a // b, [x // y for x, y in zip(A_VALS, B_VALS)])
    close(7.5 % b, [7.5 % y for y in B_VALS])
    close(7.5 // b, [7.5 // y for y in B_VALS])
    close(gdl.fmod(T([5.5, -5.5, 0.1]), INF), [5.5, -5.5, 0.1])
    close(gdl.fmod(T([1.0, INF]), T([0.0, 2.0])), [NAN, NAN])
    close(gdl.fmod(T([-1e-20]), 1.0), [-1e-20], rtol=0)  # exact, even where a - trunc(a/b)*b is not


def test_fmod_remainder_floor_divide_on_integers(backend):
    ia, ib = [-7, -3, 0, 5, 7, 9], [2, -2, 3, -3, 4, 9]
    a, b = gdl.tensor(ia), gdl.tensor(ib)
    for name, ref in (("fmod", lambda x, y: int(math.fmod(x, y))), ("remainder", lambda x, y: x % y),
                      ("floor_divide", lambda x, y: x // y)):
        out = getattr(gdl, name)(a, b)
        assert out.dtype == gdl.int64 and out.tolist() == [ref(x, y) for x, y in zip(ia, ib)], name
        with pytest.raises(ZeroDivisionError, match=f"{name}: integer division by zero"):
            getattr(gdl, name)(a, 0)
    i32 = gdl.tensor([-7, 7], dtype=gdl.int32)
    assert (i32 % 3).dtype == gdl.int32 and (i32 % 3).tolist() == [2, 1]
    assert (i32 // 2).tolist() == [-4, 3]
    assert gdl.remainder(gdl.tensor([-3, 3]), 2.5).dtype == gdl.float32  # a Python float gives the default float
    close(gdl.remainder(gdl.tensor([-3, 3]), 2.5), [2.0, 0.5])
    assert (5 % gdl.tensor([-3, 3])).tolist() == [-1, 2]


def test_fmod_remainder_gradients_floor_divide_none(backend):
    a = T([-7.5, -3.2, 2.25, 5.1], grad=True)
    b = T([2.0, -2.1, 0.7, -3.0], grad=True)  # a / b not whole: fmod jumps there
    assert gradcheck(gdl.fmod, [a, b])
    assert gradcheck(gdl.remainder, [a, b])
    assert gradcheck(lambda t: t % 1.3, [a])
    a.grad = b.grad = None
    gdl.remainder(a, b).sum().backward()
    close(b.grad, [-math.floor(x / y) for x, y in zip(a.tolist(), b.tolist())])
    assert not gdl.floor_divide(a, b).requires_grad


def test_lerp(backend):
    s, e = T([0.0, 10.0, -4.0]), T([10.0, 20.0, 4.0])
    close(gdl.lerp(s, e, 0.25), [2.5, 12.5, -2.0])
    close(s.lerp(e, 0.75), [7.5, 17.5, 2.0])
    close(gdl.lerp(s, e, T([0.0, 1.0, 0.5])), [0.0, 20.0, 0.0])
    close(gdl.lerp(s, e, 2), [20.0, 30.0, 12.0])  # extrapolates
    s, e, w = T([[0.5, -1.0, 2.0]], grad=True), T([[1.5], [3.0]], grad=True), T([0.2, 0.7, -0.3], grad=True)
    assert gdl.lerp(s, e, w).shape == (2, 3)
    assert gradcheck(gdl.lerp, [s, e, w])
    assert gradcheck(lambda a, b: gdl.lerp(a, b, 0.6), [s, e])
    with pytest.raises(TypeError, match="lerp: expects floating tensors"):
        gdl.lerp(gdl.tensor([1]), gdl.tensor([2]), 0.5)
    with pytest.raises(TypeError, match="lerp: end must be a Tensor"):
        gdl.lerp(s, 1.0, 0.5)
    with pytest.raises(TypeError, match="lerp: weight must be a number or a Tensor"):
        gdl.lerp(s, s, "half")


def test_xlogy(backend):
    close(gdl.xlogy(T([0.0, 0.0, 2.0, 0.0, 3.0]), T([0.0, NAN, 1.5, -1.0, INF])),
          [0.0, NAN, 2.0 * math.log(1.5), 0.0, INF])
    close(gdl.xlogy(2, T([3.0])), [2.0 * math.log(3.0)])
    close(T([2.0]).xlogy(3), [2.0 * math.log(3.0)])
    assert gdl.xlogy(gdl.tensor([2]), gdl.tensor([3])).dtype == gdl.float32
    x, y = T([0.5, 2.0, 3.0], grad=True), T([[1.5], [0.25]], grad=True)
    assert gradcheck(gdl.xlogy, [x, y])
    x = T([0.0, 2.0], grad=True)
    gdl.xlogy(x, T([0.0, 1.0])).sum().backward()
    close(x.grad, [0.0, 0.0])  # 0 where x == 0 and y <= 0; log(1) = 0


def test_logit_eps(backend):
    p = [0.0, 0.05, 0.1, 0.5, 0.9, 1.0, -1.0]
    logit = [math.log(v / (1 - v)) for v in (0.1, 0.1, 0.1, 0.5, 0.9, 0.9, 0.1)]
    close(gdl.logit(T(p), eps=0.1), logit)
    x = T(p, grad=True)
    gdl.logit(x, eps=0.1).sum().backward()
    g = [0.0, 0.0, 1 / 0.09, 4.0, 1 / 0.09, 0.0, 0.0]  # 0 where eps clamped (the bounds themselves pass)
    close(x.grad, g, rtol=1e-12)
    x = T([-0.5, 0.5, 1.5], grad=True)
    gdl.logit(x).sum().backward()
    close(x.grad, [NAN, 4.0, NAN])  # NaN outside [0, 1] without eps, as torch
    assert gradcheck(lambda t: t.logit(eps=1e-3), [T([0.2, 0.6], grad=True)])


def test_clamp_min_max(backend):
    x = T([-1.0, 0.5, 2.0])
    close(gdl.clamp_min(x, 0.0), [0.0, 0.5, 2.0])
    close(x.clamp_max(1.0), [-1.0, 0.5, 1.0])
    close(gdl.clamp(x, -0.5, 0.75), [-0.5, 0.5, 0.75])
    close(gdl.clamp(x, max=0.0), [-1.0, 0.0, 0.0])
    i = gdl.tensor([1, 2])
    assert gdl.clamp_min(i, 1.5).dtype == gdl.float32 and gdl.clamp_min(i, 2).dtype == gdl.int64
    # gradient: to x where x >= min (ties included), to a tensor bound elsewhere
    x = T([0.0, 1.0, 2.0], grad=True)
    gdl.clamp_min(x, 1.0).sum().backward()
    close(x.grad, [0.0, 1.0, 1.0])
    x.grad = None
    gdl.clamp_max(x, 1.0).sum().backward()
    close(x.grad, [1.0, 1.0, 0.0])
    x.grad = None
    m = T([1.0, 1.0, 1.0], grad=True)
    out = gdl.clamp_min(x, m)
    close(out, [1.0, 1.0, 2.0])
    out.sum().backward()
    close(x.grad, [0.0, 1.0, 1.0])
    close(m.grad, [1.0, 0.0, 0.0])
    x.grad = m.grad = None
    gdl.clamp_max(x, m).sum().backward()
    close(x.grad, [1.0, 1.0, 0.0])
    close(m.grad, [0.0, 0.0, 1.0])
    assert gradcheck(lambda a, b: gdl.clamp_max(a, b), [T([0.5, 3.0], grad=True), T([[1.0], [2.5]], grad=True)])


# -- tolerance comparisons -------------------------------------------------------------


def test_isclose_allclose_equal(backend):
    a = T([1.0, 1.0, NAN, INF, INF, 0.0, 1e-9])
    b = T([1.000001, 1.1, NAN, INF, -INF, 1e-9, 0.0])
    assert gdl.isclose(a, b).tolist() == [True, False, False, True, False, True, True]
    assert a.isclose(b, equal_nan=True).tolist() == [True, False, True, True, False, True, True]
    assert gdl.isclose(a, b, rtol=0.2).tolist()[1]
    assert gdl.isclose(a, b, rtol=0, atol=0).tolist() == [False, False, False, True, False, False, False]
    assert gdl.isclose(gdl.tensor([1, 2, 10]), gdl.tensor([1, 3, 12]), atol=1).tolist() == [True, True, False]
    assert gdl.isclose(gdl.tensor([True]), gdl.tensor([False])).tolist() == [False]
    assert gdl.isclose(T([1.0, 2.0]), T([[1.0], [2.0]])).shape == (2, 2)
    assert gdl.allclose(T([1.0, 2.0]), T([1.0, 2.0 + 1e-9])) is True
    assert gdl.allclose(T([1.0, NAN]), T([1.0, NAN])) is False
    assert T([1.0, NAN]).allclose(T([1.0, NAN]), equal_nan=True) is True
    assert gdl.equal(gdl.tensor([1, 2]), T([1.0, 2.0])) is True
    assert gdl.equal(T([1.0, 2.0]), T([1.0, 2.5])) is False
    assert gdl.equal(T([1.0]), T([[1.0]])) is False  # same values, another shape
    nan = T([NAN])
    assert nan.equal(nan) is False
    with pytest.raises(TypeError, match="isclose: both tensors must have the same dtype"):
        gdl.isclose(gdl.tensor([1]), T([1.0]))
    with pytest.raises(ValueError, match="isclose: rtol must be >= 0"):
        gdl.isclose(a, b, rtol=-1.0)
    with pytest.raises(TypeError, match="isclose: other must be a Tensor"):
        gdl.isclose(a, 1.0)


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sin", "floor", "sign", "isnan", "square", "log1p", "nan_to_num", "logical_not",
                                  "frac", "logit"])
def test_non_tensor_input_is_a_type_error_naming_the_op(name):
    with pytest.raises(TypeError, match=f"{name}: expected a Tensor, got float"):
        getattr(gdl, name)(1.5)


def test_errors(backend):
    x = T([1.0, 2.0])
    for name in ("floor", "ceil", "trunc", "round"):
        with pytest.raises(TypeError, match=f"{name}: not defined for bool tensors"):
            getattr(gdl, name)(gdl.tensor([True]))
    with pytest.raises(TypeError, match="frac: expects a floating tensor"):
        gdl.frac(gdl.tensor([1]))
    with pytest.raises(ValueError, match=r"hypot: incompatible shapes \(2,\) and \(3,\)"):
        gdl.hypot(x, T([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="atan2: incompatible shapes"):
        gdl.atan2(x, T([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="logical_and: incompatible shapes"):
        gdl.logical_and(x, T([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="atan2: unsupported operand of type str"):
        gdl.atan2(x, "1")
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a number"):
        gdl.nan_to_num(x, posinf="big")
    with pytest.raises(TypeError, match="logit: eps must be a number"):
        gdl.logit(x, eps="small")
    with pytest.raises(TypeError, match="clamp_min: the bound must be a number or a Tensor"):
        gdl.clamp_min(x, "0")
    with pytest.raises(TypeError, match="equal: other must be a Tensor"):
        gdl.equal(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="bitwise_not"):
        _ = ~x


def test_mixing_backends_is_an_error_naming_both():
    a = gdl.tensor([1.0, 2.0], backend="numpy")
    b = gdl.tensor([1.0, 2.0], backend="array_api_strict")
    for fn in (gdl.atan2, gdl.hypot, gdl.logaddexp, gdl.fmod, gdl.remainder, gdl.xlogy, gdl.isclose,
               gdl.logical_and, gdl.equal, gdl.clamp_min, lambda p, q: gdl.lerp(p, q, 0.5),
               lambda p, q: gdl.lerp(p, p, q)):
        with pytest.raises(ValueError, match="different backends.*'numpy' and 'array_api_strict'"):
            fn(a, b)


# -- PyTorch's dtype promotion (gdl.functional.elementwise) -----------------------------


def _binaries():
    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a**b, "maximum": gdl.maximum, "minimum": gdl.minimum,
        "where": lambda a, b: gdl.where(gdl.tensor([True, False]), a, b), "lt": lambda a, b: a < b,
        "eq": lambda a, b: a == b, "atan2": gdl.atan2, "hypot": gdl.hypot, "remainder": gdl.remainder,
    }


@pytest.mark.parametrize("op", sorted(_binaries()))
def test_integer_and_float_tensors_give_the_float_dtype(backend, op):
    fn = _binaries()[op]
    i = gdl.tensor([1, 2])
    for f in (gdl.tensor([1.5, 2.5]), gdl.tensor([1.5, 2.5], dtype=gdl.float64)):
        want = gdl.bool_ if op in ("lt", "eq") else f.dtype
        for out in (fn(i, f), fn(f, i)):
            assert out.dtype == want, (op, f.dtype, out.dtype)
    ref = {"add": [2.5, 4.5], "mul": [1.5, 5.0], "maximum": [1.5, 2.5], "where": [1.0, 2.5],
           "lt": [True, True], "remainder": [1.0, 2.0]}
    if op in ref:
        assert fn(i, gdl.tensor([1.5, 2.5])).tolist() == ref[op]


def test_promotion_rules(backend):
    f32, f64 = gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 2.0], dtype=gdl.float64)
    i64, i8 = gdl.tensor([1, 2]), gdl.tensor([1, 2], dtype=gdl.int8)
    m = gdl.tensor([True, False])
    assert (f32 + f64).dtype == gdl.float64  # both with dimensions: ordinary promotion
    assert (i8 + i64).dtype == gdl.int64
    assert (m * f32).dtype == gdl.float32 and (m + i8).dtype == gdl.int8  # bool < integer < floating
    # a 0-d tensor does not promote a tensor with dimensions within its category
    assert (f32 + gdl.tensor(2.0, dtype=gdl.float64)).dtype == gdl.float32
    assert (gdl.tensor(2.0, dtype=gdl.float64) * f32).dtype == gdl.float32
    assert (i8 + gdl.tensor(3)).dtype == gdl.int8
    assert (gdl.tensor(2.0) + gdl.tensor(2.0, dtype=gdl.float64)).dtype == gdl.float64  # both 0-d
    # ... but a higher category still wins
    assert (i64 + gdl.tensor(2.0, dtype=gdl.float64)).dtype == gdl.float64
    assert (f32 / gdl.tensor(2.0, dtype=gdl.float64)).dtype == gdl.float32
    assert (i64 / i64).dtype == gdl.float32
    assert gdl.where(m, i64, f32).dtype == gdl.float32
    assert gdl.maximum(i64, f32).dtype == gdl.float32


def test_float_valued_unary_ops_on_integers_give_float32(backend):
    i = gdl.tensor([1, 4])
    for out in (i.exp(), i.log(), i.sqrt(), i.tanh(), i.sigmoid(), gdl.exp(i)):
        assert out.dtype == gdl.float32
    close(i.sqrt(), [1.0, 2.0])


def test_a_0d_float64_tensor_that_requires_grad_gets_its_gradient_in_float64(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    s = gdl.tensor(3.0, dtype=gdl.float64, requires_grad=True)
    y = x * s
    assert y.dtype == gdl.float32
    y.sum().backward()
    assert s.grad.dtype == gdl.float64 and s.grad.item() == 3.0
    assert x.grad.dtype == gdl.float32 and x.grad.tolist() == [3.0, 3.0]
