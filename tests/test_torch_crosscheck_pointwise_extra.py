"""pointwise_extra ops and lgamma/digamma/polygamma/mvlgamma/i0 against PyTorch 2.13: values,
dtypes and gradients in float64 and float32."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402

RNG = np.random.default_rng(5)

UNARY = {
    "lgamma": (lambda m, t: m.lgamma(t), np.concatenate([RNG.uniform(0.01, 30, 150), -RNG.uniform(0.05, 9.9, 50)])),
    "digamma": (lambda m, t: m.digamma(t), np.concatenate([RNG.uniform(0.01, 30, 150), -RNG.uniform(0.05, 9.9, 50)])),
    "polygamma1": (lambda m, t: m.polygamma(1, t), RNG.uniform(0.05, 30, 200)),
    "polygamma3": (lambda m, t: m.polygamma(3, t), np.concatenate([RNG.uniform(0.05, 30, 150), -RNG.uniform(0.05, 5, 50)])),
    "mvlgamma": (lambda m, t: m.mvlgamma(t, p=3), RNG.uniform(1.1, 30, 200)),
    "i0": (lambda m, t: m.i0(t), RNG.uniform(-60, 60, 200)),
    "sinc": (lambda m, t: m.sinc(t), RNG.uniform(-6, 6, 200)),
    "rad2deg": (lambda m, t: m.rad2deg(t), RNG.uniform(-6, 6, 200)),
    "deg2rad": (lambda m, t: m.deg2rad(t), RNG.uniform(-400, 400, 200)),
}


def _excluding_integers(a):
    a = a[np.abs(a - np.round(a)) > 1e-3]
    return a


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_values_and_gradients_match_torch(name, dtype):
    fn, a = UNARY[name]
    a = _excluding_integers(a).astype(dtype)
    x, t = gdl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = fn(gdl, x), fn(torch, t)
    assert y.dtype.name == str(yt.dtype).replace("torch.", "")
    # torch's trigamma (polygamma(1, .)) and float32 sinc are less accurate than gdl's float64 values
    rtol = {"float64": 1e-12, "float32": 5e-6}[dtype]
    if name in ("polygamma1", "lgamma") and dtype == "float64":
        rtol = 1e-9
    atol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    w = RNG.normal(size=a.shape).astype(dtype)
    (y * gdl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert x.grad.dtype.name == str(t.grad.dtype).replace("torch.", "")
    grad_rtol = 1e-3 if (name == "digamma" and dtype == "float32") else max(rtol * 10, 1e-9)  # torch's float32 sin(πx) near poles
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=grad_rtol, atol=atol * 10)


BINARY = {
    "addcmul": lambda m, a, b, c: m.addcmul(a, b, c, value=0.75),
    "addcdiv": lambda m, a, b, c: m.addcdiv(a, b, c, value=-1.25),
    "copysign": lambda m, a, b, c: m.copysign(a, b),
    "fmax": lambda m, a, b, c: m.fmax(a, b),
    "fmin": lambda m, a, b, c: m.fmin(a, b),
    "float_power": lambda m, a, b, c: m.float_power(c, b),
    "ldexp": lambda m, a, b, c: m.ldexp(a, b),
    "logaddexp2": lambda m, a, b, c: m.logaddexp2(a, b),
    "subtract": lambda m, a, b, c: m.subtract(a, b, alpha=2),
    "rsub": lambda m, a, b, c: m.rsub(a, b, alpha=3),
    "divide": lambda m, a, b, c: m.divide(a, c),
    "divide_trunc": lambda m, a, b, c: m.divide(a, c, rounding_mode="trunc"),
    "multiply": lambda m, a, b, c: m.multiply(a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binary_values_and_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(-3, 3, (4, 5)), rng.uniform(-3, 3, (5,)), rng.uniform(0.5, 3, (4, 1))]
    arrays[0][0, :2] = arrays[1][:2]  # ties (fmax/fmin send them to input)
    arrays[0][1, 0], arrays[1][3] = np.nan, np.nan
    if name not in ("fmax", "fmin", "copysign"):
        arrays[0][1, 0], arrays[1][3] = 0.5, 0.25
    arrays = [a.astype(dtype) for a in arrays]
    ours = [gdl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = BINARY[name](gdl, *ours), BINARY[name](torch, *theirs)
    assert y.dtype.name == str(yt.dtype).replace("torch.", "") and y.shape == tuple(yt.shape)
    rtol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=1e-6 if dtype == "float32" else 0)
    w = rng.normal(size=y.shape)
    (y * gdl.tensor(w, dtype=y.dtype)).sum().backward()
    (yt * torch.tensor(w, dtype=yt.dtype)).sum().backward()
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None or not np.any(o.grad.numpy())
            continue
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=rtol * 10, atol=1e-5 if dtype == "float32" else 1e-12)


def test_integer_and_bool_ops_match_torch():
    a = np.array([0, -4, 6, 0, 7, 48, -17, 12])
    b = np.array([0, 6, -9, 5, 0, 180, 51, -8])
    for name in ("gcd", "lcm"):
        np.testing.assert_array_equal(getattr(gdl, name)(gdl.tensor(a), gdl.tensor(b)).numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    for mode in ("trunc", "floor"):
        np.testing.assert_array_equal(gdl.divide(gdl.tensor(a), gdl.tensor(b + (b == 0)), rounding_mode=mode).numpy(),
                                      torch.divide(torch.tensor(a), torch.tensor(b + (b == 0)), rounding_mode=mode).numpy())
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, np.inf, -np.inf, 5e-324])
    v = np.array([0.5])
    np.testing.assert_array_equal(gdl.heaviside(gdl.tensor(x), gdl.tensor(v)).numpy(),
                                  torch.heaviside(torch.tensor(x), torch.tensor(v)).numpy())
    np.testing.assert_array_equal(gdl.signbit(gdl.tensor(x)).numpy(), torch.signbit(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(gdl.sgn(gdl.tensor(x)).numpy(), torch.sgn(torch.tensor(x)).numpy())
    y = np.array([1.0, 0.0, 1.0, -5.0, 1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(gdl.nextafter(gdl.tensor(x), gdl.tensor(y)).numpy(),
                                  torch.nextafter(torch.tensor(x), torch.tensor(y)).numpy())
    np.testing.assert_array_equal(gdl.copysign(gdl.tensor(np.abs(x)), gdl.tensor(x)).numpy(),
                                  torch.copysign(torch.tensor(np.abs(x)), torch.tensor(x)).numpy())
    for dtype in (np.float64, np.float32):
        m, e = gdl.frexp(gdl.tensor(x.astype(dtype)))
        mt, et = torch.frexp(torch.tensor(x.astype(dtype)))
        np.testing.assert_array_equal(m.numpy(), mt.numpy())
        np.testing.assert_array_equal(e.numpy(), et.numpy())
        assert e.dtype.name == "int32" and m.dtype.name == str(mt.dtype).replace("torch.", "")


def test_edges_match_torch():
    x = np.array([0.0, -0.0, -1.0, -3.0, np.inf, np.nan, -2.5, 1e-310, 1e300, 1.0, 2.0])
    for name in ("lgamma", "digamma"):
        np.testing.assert_allclose(getattr(gdl, name)(gdl.tensor(x)).numpy(), getattr(torch, name)(torch.tensor(x)).numpy(),
                                   rtol=1e-14, atol=0)  # inf, NaN and signs exactly
    for n in (2, 3):  # (polygamma(1, .) at the poles: PyTorch gives a huge finite value, gdl inf)
        keep = x != np.inf  # (PyTorch gives NaN at +inf for n >= 2, gdl 0)
        np.testing.assert_allclose(gdl.polygamma(n, gdl.tensor(x[keep])).numpy(),
                                   torch.polygamma(n, torch.tensor(x[keep])).numpy(), rtol=1e-12)
    a = np.array([np.inf, -np.inf, -np.inf, 1.0, np.nan, 0.0])
    b = np.array([np.inf, -np.inf, np.inf, 1.0, 1.0, -np.inf])
    np.testing.assert_array_equal(gdl.logaddexp2(gdl.tensor(a), gdl.tensor(b)).numpy(),
                                  torch.logaddexp2(torch.tensor(a), torch.tensor(b)).numpy())


def test_dtype_promotion_matches_torch():
    cases = [
        ("addcmul", (np.int32, np.float64, np.float16), (1, 0, 1)),
        ("addcmul", (np.float32, np.float64, np.float64), (1, 0, 1)),
        ("addcmul", (np.float64, np.float32, np.float32), (0, 1, 1)),
        ("addcdiv", (np.float16, np.float32, np.float32), (1, 1, 1)),
        ("addcmul", (np.int64, np.int64, np.int32), (1, 1, 1)),
    ]
    no_half = gdl.tensor([1.0]).backend == "array_api_strict"  # (the Array API standard has no float16)
    for name, dts, ndims in cases:
        if no_half and np.float16 in dts:
            continue
        arrays = [np.ones((2,) * n, dtype=d) * 2 for d, n in zip(dts, ndims)]
        ours = getattr(gdl, name)(*[gdl.tensor(a) for a in arrays])
        theirs = getattr(torch, name)(*[torch.tensor(a) for a in arrays])
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), (name, dts, ndims)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    for dts in ((np.int64, np.int64), (np.float16, np.int64), (np.float64, np.int32), (np.float32, np.int32)):
        if no_half and np.float16 in dts:
            continue
        a, b = np.array([1, 3], dtype=dts[0]), np.array([2, -1], dtype=dts[1])
        assert gdl.ldexp(gdl.tensor(a), gdl.tensor(b)).dtype.name == str(torch.ldexp(torch.tensor(a), torch.tensor(b)).dtype)[6:]
        assert gdl.copysign(gdl.tensor(a), gdl.tensor(b)).dtype.name == str(torch.copysign(torch.tensor(a), torch.tensor(b)).dtype)[6:]
        assert gdl.float_power(gdl.tensor(a), gdl.tensor(b)).dtype.name == "float64"
