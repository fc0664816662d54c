"""gdl.functional.pointwise_extra and the gamma family / i0 of gdl.functional.special: values
against Python's ``math`` and mpmath, edges, dtypes, broadcasting, gradients (float64
finite differences) and errors, on every test backend. PyTorch comparisons are in
test_torch_crosscheck_pointwise_extra.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.testing import gradcheck

NAN, INF = math.nan, math.inf


def f64(values, grad=False):
    return gdl.tensor(np.asarray(values, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def _ref(fn, xs):
    return np.array([fn(float(v)) for v in np.ravel(xs)], dtype=np.float64).reshape(np.shape(xs))


# -- special functions: float64 accuracy -----------------------------------------------------

RNG = np.random.default_rng(0)
POS = np.concatenate([RNG.uniform(0, 3, 300), RNG.uniform(3, 40, 200), np.exp(RNG.uniform(-20, 20, 100)),
                      [0.5, 1.0, 2.0, 1.5, 2.5, 10.0, 1e-8, 1 - 1e-9, 2 + 1e-9, 1.4616321449683622]])
NEG = -RNG.uniform(0.01, 30, 300)
NEG = NEG[NEG != np.round(NEG)]


def test_lgamma_to_float64_accuracy():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    xs = np.concatenate([POS, NEG])
    ours = gdl.lgamma(f64(xs)).numpy()
    ref = _ref(lambda v: float(mp.loggamma(v).real), xs)
    np.testing.assert_allclose(ours, ref, rtol=2e-15, atol=1e-14)  # atol: at the negative zeros
    np.testing.assert_allclose(ours[:len(POS)], ref[:len(POS)], rtol=2e-15, atol=0)  # 1 and 2 too
    np.testing.assert_allclose(ours, _ref(math.lgamma, xs), rtol=1e-13, atol=1e-13)


def test_digamma_and_polygamma_to_float64_accuracy():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    xs = np.concatenate([POS[POS < 1e8], NEG])
    for n in (0, 1, 2, 3, 6):
        ours = (gdl.digamma(f64(xs)) if n == 0 else gdl.polygamma(n, f64(xs))).numpy()
        ref = _ref(lambda v, n=n: float(mp.polygamma(n, v)), xs)
        scale = np.maximum(np.abs(ref), 1.0)  # relative, absolute near the zeros on the negative axis
        assert np.max(np.abs(ours - ref) / scale) < 5e-14, n
        positive = xs > 0
        np.testing.assert_allclose(ours[positive], ref[positive], rtol=5e-15)
    root = gdl.digamma(f64([1.4616321449683622, 1.46, 1.47])).numpy()  # relative accuracy at ψ's zero
    np.testing.assert_allclose(root, _ref(lambda v: float(mp.digamma(v)), [1.4616321449683622, 1.46, 1.47]),
                               rtol=1e-14)


def test_i0_to_float64_accuracy():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    xs = np.concatenate([RNG.uniform(-40, 40, 400), [0.0, 25.0, 25.0000001, -700.0, 712.0]])
    np.testing.assert_allclose(gdl.i0(f64(xs)).numpy(), _ref(lambda v: float(mp.besseli(0, v)), xs), rtol=4e-15)
    x = f64(xs, grad=True)
    (gdl.i0(x) * 1e-300).sum().backward()  # the gradient is I1
    np.testing.assert_allclose(x.grad.numpy() * 1e300, _ref(lambda v: float(mp.besseli(1, v)), xs), rtol=4e-15)


def test_mvlgamma_is_a_sum_of_lgammas():
    xs = np.array([2.6, 2.25, 3.7, 10.5])
    for p in (1, 2, 3, 5):
        want = p * (p - 1) / 4 * math.log(math.pi) + sum(_ref(math.lgamma, xs - j / 2) for j in range(p))
        np.testing.assert_allclose(gdl.mvlgamma(f64(xs), p).numpy(), want, rtol=1e-14)
        np.testing.assert_allclose(f64(xs).mvlgamma(p=p).numpy(), want, rtol=1e-14)


def test_special_edges_as_torch():
    x = f64([0.0, -0.0, -1.0, -2.0, INF, -INF, NAN, -2.5])
    lg = gdl.lgamma(x).numpy()
    np.testing.assert_array_equal(lg[:6], [INF] * 6)
    assert np.isnan(lg[6]) and lg[7] == pytest.approx(math.lgamma(-2.5), rel=1e-15)
    dg = gdl.digamma(x).numpy()
    np.testing.assert_array_equal(dg[[0, 1, 4]], [-INF, INF, INF])
    assert np.isnan(dg[[2, 3, 5, 6]]).all()
    for n in (1, 2, 3):
        pg = gdl.polygamma(n, x).numpy()
        np.testing.assert_array_equal(pg[:4], [INF if n % 2 else -INF] * 4)
        assert pg[4] == 0 and np.isnan(pg[6])
    i0 = gdl.i0(f64([INF, -INF, NAN, 0.0, 713.9, 714.0])).numpy()
    assert i0[0] == i0[1] == INF and np.isnan(i0[2]) and i0[3] == 1.0
    assert np.isfinite(i0[4]) and i0[4] > 1e308 and i0[5] == INF
    assert gdl.lgamma(f64([1e-310])).item() == pytest.approx(-math.log(1e-310), rel=1e-15)


@pytest.mark.parametrize("name", ["lgamma", "digamma", "i0", "sinc"])
@pytest.mark.parametrize("width", ["float32", "float16"])
def test_narrow_floats_round_the_float64_value(backend, name, width):
    if width == "float16" and backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")
    np_dtype = getattr(np, width)
    xs = np.linspace(0.05, 6.0, 400).astype(np_dtype)
    out = getattr(gdl, name)(gdl.tensor(xs, dtype=getattr(gdl, width)))
    assert out.dtype == getattr(gdl, width)
    wide = getattr(gdl, name)(gdl.tensor(xs.astype(np.float64), dtype=gdl.float64)).numpy()
    np.testing.assert_array_equal(out.numpy(), wide.astype(np_dtype))


def test_integer_inputs_give_the_default_float(backend):
    for fn in (gdl.lgamma, gdl.digamma, gdl.i0, gdl.sinc, gdl.rad2deg, gdl.deg2rad, lambda t: gdl.polygamma(1, t)):
        out = fn(gdl.tensor([1, 2, 3]))
        assert out.dtype == gdl.float32
    np.testing.assert_allclose(gdl.lgamma(gdl.tensor([1, 2, 5])).numpy(), [0.0, 0.0, math.log(24)], rtol=1e-7)


# -- gradients by finite differences --------------------------------------------------------

UNARY = {
    "lgamma": (gdl.lgamma, (0.3, 6.0)), "digamma": (gdl.digamma, (0.3, 6.0)),
    "polygamma2": (lambda t: gdl.polygamma(2, t), (0.3, 6.0)), "mvlgamma": (lambda t: gdl.mvlgamma(t, 3), (1.2, 6.0)),
    "i0": (gdl.i0, (-4.0, 4.0)), "sinc": (gdl.sinc, (-3.0, 3.0)), "rad2deg": (gdl.rad2deg, (-3.0, 3.0)),
    "deg2rad": (gdl.deg2rad, (-3.0, 3.0)), "lgamma_negative": (gdl.lgamma, (-2.9, -2.1)),
    "digamma_negative": (gdl.digamma, (-0.9, -0.1)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(backend, name):
    fn, (lo, hi) = UNARY[name]
    x = f64(np.random.default_rng(1).uniform(lo, hi, (3, 4)), grad=True)
    assert gradcheck(fn, [x], rtol=1e-4, atol=1e-5)


def test_sinc_gradient_near_zero():
    x = f64([0.0, 1e-9, -1e-5, 0.05, 0.2], grad=True)
    gdl.sinc(x).sum().backward()
    px = math.pi * x.numpy()
    safe = np.where(px == 0, 1.0, px)
    want = np.where(px == 0, 0.0, (np.cos(px) * px - np.sin(px)) / (safe * x.numpy() + (px == 0)))
    np.testing.assert_allclose(x.grad.numpy()[3:], want[3:], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy()[:3], -math.pi**2 / 3 * x.numpy()[:3], rtol=1e-8, atol=0)


BINARY = {
    "addcmul": lambda a, b, c: gdl.addcmul(a, b, c, value=-0.7),
    "addcdiv": lambda a, b, c: gdl.addcdiv(a, b, c, value=1.5),
    "copysign": lambda a, b, c: gdl.copysign(a, b) * c,
    "fmax": lambda a, b, c: gdl.fmax(a, b) * c,
    "fmin": lambda a, b, c: gdl.fmin(a, b) * c,
    "float_power": lambda a, b, c: gdl.float_power(a.abs() + 0.5, b),
    "ldexp": lambda a, b, c: gdl.ldexp(a, b),
    "logaddexp2": lambda a, b, c: gdl.logaddexp2(a, b),
    "subtract": lambda a, b, c: gdl.subtract(a, b, alpha=3),
    "rsub": lambda a, b, c: gdl.rsub(a, b, alpha=2),
    "multiply": lambda a, b, c: gdl.multiply(a, b),
    "true_divide": lambda a, b, c: gdl.true_divide(a, c),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_with_broadcasting(backend, name):
    rng = np.random.default_rng(2)
    a = f64(rng.uniform(-2, 2, (2, 3)), grad=True)
    b = f64(rng.uniform(-2, 2, (3,)), grad=True)
    c = f64(rng.uniform(0.5, 2, (2, 1)), grad=True)
    assert gradcheck(BINARY[name], [a, b, c])


# -- values and edges -------------------------------------------------------------------------


def test_addcmul_addcdiv_values_dtypes_and_errors(backend):
    a, b, c = gdl.tensor([1.0, 2.0]), gdl.tensor([[3.0], [4.0]]), gdl.tensor([5.0, 6.0])
    np.testing.assert_allclose(gdl.addcmul(a, b, c, value=0.5).numpy(), [[8.5, 11.0], [11.0, 14.0]])
    np.testing.assert_allclose(a.addcdiv(b, c, value=2).numpy(), [[2.2, 3.0], [2.6, 10 / 3]], rtol=1e-6)
    ints = gdl.tensor([1, 2])
    assert gdl.addcmul(ints, ints, ints, value=1.5).tolist() == [2, 6]  # value truncated, as PyTorch
    assert gdl.addcmul(ints, ints, gdl.tensor([1.0, 1.0], dtype=gdl.float64)).dtype == gdl.float64
    assert gdl.addcmul(a, gdl.tensor(2.0, dtype=gdl.float64), a).dtype == gdl.float32  # 0-d does not widen
    with pytest.raises(TypeError, match="addcdiv: integer division"):
        gdl.addcdiv(a, ints, ints)
    with pytest.raises(TypeError, match="addcmul: tensor1 must be a Tensor"):
        gdl.addcmul(a, 2.0, a)
    with pytest.raises(ValueError, match="addcmul: incompatible shapes"):
        gdl.addcmul(a, gdl.ones(3), a)


def test_copysign_and_signbit(backend):
    x = gdl.copysign(f64([1.0, 2.0, -3.0, 0.0]), f64([-0.0, -NAN, 1.0, -1.0])).numpy()
    assert list(np.signbit(x)) == [True, True, False, True]
    assert gdl.copysign(gdl.tensor([1, 2]), gdl.tensor([-1, 1])).tolist() == [-1.0, 2.0]
    assert gdl.copysign(gdl.tensor([1, 2]), -1).dtype == gdl.float32
    assert gdl.signbit(f64([-0.0, 0.0, -INF, NAN, -1.0])).tolist() == [True, False, True, False, True]
    assert gdl.signbit(gdl.tensor([-1, 0, 3])).tolist() == [True, False, False]
    assert gdl.signbit(gdl.tensor([True])).tolist() == [False]
    g = f64([0.0, -2.0, 3.0], grad=True)
    gdl.copysign(g, -1.0).sum().backward()
    assert g.grad.tolist() == [0.0, 1.0, -1.0]


def test_fmax_fmin_nan_rules_and_gradients(backend):
    a, b = f64([1.0, NAN, NAN, 2.0, 3.0], grad=True), f64([NAN, 2.0, NAN, 2.0, 1.0], grad=True)
    hi, lo = gdl.fmax(a, b).numpy(), gdl.fmin(a, b).numpy()
    np.testing.assert_array_equal(hi, [1.0, 2.0, NAN, 2.0, 3.0])
    np.testing.assert_array_equal(lo, [1.0, 2.0, NAN, 2.0, 1.0])
    gdl.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0, 1.0, 1.0] and b.grad.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert gdl.fmax(gdl.tensor([1, 5]), gdl.tensor([3, 2])).tolist() == [3, 5]
    assert gdl.fmin(gdl.tensor([True, False]), gdl.tensor([True, True])).tolist() == [True, False]
    assert gdl.maximum(f64([NAN]), f64([1.0])).isnan().item()  # maximum propagates, fmax does not


def test_float_power_is_float64(backend):
    out = gdl.float_power(gdl.tensor([2, 3]), 2)
    assert out.dtype == gdl.float64 and out.tolist() == [4.0, 9.0]
    assert gdl.float_power(2, gdl.tensor([0.5])).dtype == gdl.float64
    x = gdl.tensor([2.0], requires_grad=True)
    gdl.float_power(x, 3).sum().backward()
    assert x.grad.dtype == gdl.float32 and x.grad.tolist() == [12.0]


def test_frexp_and_ldexp_round_trip(backend):
    xs = np.array([0.0, -0.0, 1.0, 8.0, -3.5, 5e-324, 2.0**-1022 * 0.75, 1.7976931348623157e308, 0.1, INF, -INF, NAN])
    m, e = gdl.frexp(f64(xs))
    assert e.dtype == gdl.int32 and m.dtype == gdl.float64
    want = [math.frexp(v) if math.isfinite(v) else (v, 0) for v in xs]
    np.testing.assert_array_equal(m.numpy(), [w[0] for w in want])
    np.testing.assert_array_equal(e.numpy(), [w[1] for w in want])
    assert np.signbit(m.numpy()[1])
    np.testing.assert_array_equal(gdl.ldexp(m, e).numpy()[:7], xs[:7])  # (2**1024 overflows, as in torch)
    m32, e32 = gdl.frexp(gdl.tensor([2.0**-149, 3.0e38, 0.75], dtype=gdl.float32))
    assert m32.dtype == gdl.float32 and e32.tolist() == [-148, 128, 0]
    with pytest.raises(TypeError, match="frexp"):
        gdl.frexp(gdl.tensor([1, 2]))
    x = f64([3.0, 0.1], grad=True)
    gdl.frexp(x).mantissa.sum().backward()
    assert x.grad.tolist() == [0.25, 8.0]
    assert gdl.ldexp(gdl.tensor([1, 2]), gdl.tensor([3, 4])).dtype == gdl.float32


def test_nextafter(backend):
    out = gdl.nextafter(f64([1.0, 0.0, 1.0]), f64([2.0, -1.0, 1.0])).numpy()
    assert out[0] == np.nextafter(1.0, 2.0) and out[1] == -5e-324 and out[2] == 1.0
    x = gdl.tensor([1.0], requires_grad=True)
    assert gdl.nextafter(x, 2.0).dtype == gdl.float32 and not gdl.nextafter(x, 2.0).requires_grad
    with pytest.raises(TypeError, match="nextafter"):
        gdl.nextafter(gdl.tensor([1]), gdl.tensor([2]))


def test_gcd_lcm(backend):
    a, b = [0, -4, 6, 0, 7, 48, -17], [0, 6, -9, 5, 0, 180, 51]
    assert gdl.gcd(gdl.tensor(a), gdl.tensor(b)).tolist() == [math.gcd(x, y) for x, y in zip(a, b)]
    assert gdl.lcm(gdl.tensor(a), gdl.tensor(b)).tolist() == [math.lcm(x, y) for x, y in zip(a, b)]
    assert gdl.gcd(gdl.tensor([[12], [18]]), gdl.tensor([8, 27])).tolist() == [[4, 3], [2, 9]]
    assert gdl.tensor([10]).gcd(4).tolist() == [2]
    with pytest.raises(TypeError, match="gcd"):
        gdl.gcd(gdl.tensor([1.0]), gdl.tensor([2.0]))
    with pytest.raises(TypeError, match="lcm"):
        gdl.lcm(gdl.tensor([True]), gdl.tensor([True]))


def test_heaviside(backend):
    x = gdl.tensor([-1.0, 0.0, 2.0, NAN, -0.0])
    assert gdl.heaviside(x, gdl.tensor([0.5])).tolist() == [0.0, 0.5, 1.0, 0.0, 0.5]
    assert gdl.heaviside(gdl.tensor([-1, 0, 2]), gdl.tensor(7)).tolist() == [0, 7, 1]
    with pytest.raises(TypeError, match="heaviside: input and values must have the same dtype"):
        gdl.heaviside(x, gdl.tensor([1.0], dtype=gdl.float64))


def test_sinc_values(backend):
    xs = np.array([0.0, 0.5, 1.0, -1.5, 1e8, 3.25, 1e-20])
    want = [1.0] + [math.sin(math.pi * v) / (math.pi * v) for v in xs[1:]]
    want[2] = want[4] = 0.0  # exact zeros at the integers
    np.testing.assert_allclose(gdl.sinc(f64(xs)).numpy(), want, rtol=1e-15, atol=1e-300)
    assert np.isnan(gdl.sinc(f64([INF, NAN])).numpy()).all()


def test_angles_logaddexp2_and_sgn(backend):
    np.testing.assert_allclose(gdl.rad2deg(f64([math.pi, 1.0])).numpy(), [180.0, math.degrees(1.0)], rtol=1e-15)
    np.testing.assert_allclose(gdl.deg2rad(gdl.tensor([180, 90])).numpy(), [math.pi, math.pi / 2], rtol=1e-7)
    out = gdl.logaddexp2(f64([INF, -INF, INF, 1.0, 0.0, 3.0]), f64([INF, -INF, -INF, 1.0, -INF, -60.0])).numpy()
    np.testing.assert_allclose(out, [INF, -INF, INF, 2.0, 0.0, math.log2(8 + 2.0**-60)], rtol=1e-15)
    assert gdl.sgn(f64([-2.0, 0.0, NAN, 3.0])).tolist() == [-1.0, 0.0, 0.0, 1.0]
    assert gdl.sgn(gdl.tensor([True, False])).dtype == gdl.bool


def test_aliases_and_positive(backend):
    a, b = gdl.tensor([-7, 7, 6]), gdl.tensor([2, 2, -4])
    assert gdl.divide(a, b).tolist() == [-3.5, 3.5, -1.5]
    assert gdl.divide(a, b, rounding_mode="trunc").tolist() == [-3, 3, -1]
    assert gdl.divide(a, b, rounding_mode="floor").tolist() == [-4, 3, -2]
    assert a.divide(2.0, rounding_mode="trunc").tolist() == [-3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="divide: rounding_mode"):
        gdl.divide(a, b, rounding_mode="round")
    with pytest.raises(ZeroDivisionError):
        gdl.divide(a, gdl.tensor([0, 1, 1]), rounding_mode="trunc")
    x = gdl.tensor([3.0], requires_grad=True)
    gdl.divide(x, 2, rounding_mode="floor").sum().backward()
    assert x.grad.tolist() == [0.0]
    assert gdl.subtract(a, b, alpha=2).tolist() == [-11, 3, 14]
    assert gdl.rsub(gdl.tensor([1.0, 2.0]), 5).tolist() == [4.0, 3.0]
    with pytest.raises(TypeError, match="alpha must not be a floating-point"):
        gdl.subtract(a, b, alpha=0.5)
    with pytest.raises(TypeError, match="subtract: subtraction with bool"):
        gdl.subtract(gdl.tensor([True]), gdl.tensor([True]))
    assert gdl.multiply(a, b).tolist() == [-14, 14, -24] and gdl.negative(a).tolist() == [7, -7, -6]
    assert gdl.absolute(a).tolist() == [7, 7, 6] and gdl.true_divide(a, b).dtype == gdl.float32
    assert gdl.greater(a, 0).tolist() == [False, True, True] and a.less_equal(6).tolist() == [True, False, True]
    assert a.greater_equal(7).tolist() == [False, True, False] and gdl.less(a, b).tolist() == [True, False, False]
    assert gdl.not_equal(f64([1.0, NAN]), f64([1.0, NAN])).tolist() == [False, True]
    assert gdl.positive(a) is a
    with pytest.raises(TypeError, match="positive"):
        gdl.positive(gdl.tensor([True]))


def test_argument_errors_name_the_op():
    with pytest.raises(ValueError, match="polygamma: n must be >= 0"):
        gdl.polygamma(-1, gdl.tensor([1.0]))
    with pytest.raises(TypeError, match="polygamma: n must be an int"):
        gdl.polygamma(1.0, gdl.tensor([1.0]))
    with pytest.raises(ValueError, match="mvlgamma: p must be >= 1"):
        gdl.mvlgamma(gdl.tensor([2.0]), 0)
    with pytest.raises(TypeError, match="lgamma: expected a Tensor"):
        gdl.lgamma([1.0])
    assert gdl.tensor([1.0, 2.0], dtype=gdl.float64).polygamma(1).numpy() == pytest.approx(
        [math.pi**2 / 6, math.pi**2 / 6 - 1], rel=1e-15)
