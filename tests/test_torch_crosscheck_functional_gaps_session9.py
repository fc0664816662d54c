"""gdl.functional.bitwise, inplace_more and misc_more against PyTorch 2.13: bitwise values and
dtypes on integer tensors, in-place methods (float64), gradients of index_reduce, nanquantile,
gradient and cumulative_trapezoid, finfo/iinfo, histograms, strides and type names."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402

TOL = dict(rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift"])
@pytest.mark.parametrize("da,db", [("int64", "int64"), ("uint8", "int8"), ("bool", "int32"), ("int16", "int16")])
def test_bitwise_matches_torch(name, da, db):
    rng = np.random.default_rng(0)
    a = rng.integers(-20, 20, 12) if da != "uint8" else rng.integers(0, 200, 12)
    b = rng.integers(-3, 20, 12) if "shift" in name else rng.integers(-20, 20, 12)
    if da == "bool":
        a = a > 0
    x, y = gdl.tensor(a.astype(da)), gdl.tensor(b.astype(db))
    tx, ty = torch.tensor(a.astype(da)), torch.tensor(b.astype(db))
    got, want = getattr(gdl, name)(x, y), getattr(torch, name)(tx, ty)
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got, want = getattr(x, name)(5), getattr(tx, name)(5)
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_bitwise_refusals_match_torch():
    for make in (lambda m: m.tensor([1.0]) & 1, lambda m: m.tensor([1]) | 1.5, lambda m: m.tensor([1.0]).bitwise_not()):
        with pytest.raises((RuntimeError, NotImplementedError, TypeError)):
            make(torch)
        with pytest.raises(TypeError):
            make(gdl)
    for lib in (torch, gdl):
        b = lib.tensor([True, False])
        with pytest.raises(RuntimeError):
            b |= lib.tensor([3, 1])


def _pair(shape, seed, low=0.5, high=2.0):
    a = np.random.default_rng(seed).uniform(low, high, shape)
    return gdl.tensor(a, dtype=gdl.float64), torch.tensor(a)


def _args(lib, seed):
    """The operands of each method, built in ``lib``."""
    rng = np.random.default_rng(seed)

    def f(*shape):
        return lib.tensor(rng.uniform(0.5, 2.0, shape))

    i = lib.tensor
    return {
        "addcmul_": ((f(3, 4), f(4)), {"value": 0.5}), "addcdiv_": ((f(3, 4), f(4)), {"value": 2}),
        "addmm_": ((f(3, 2), f(2, 4)), {"beta": 0.5, "alpha": 2}), "addbmm_": ((f(2, 3, 5), f(2, 5, 4)), {}),
        "baddbmm_": None, "addmv_": None, "addr_": ((f(3), f(4)), {}), "copysign_": ((f(3, 4) - 1.2,), {}),
        "digamma_": ((), {}), "lgamma_": ((), {}), "i0_": ((), {}), "sinc_": ((), {}), "mvlgamma_": ((1,), {}),
        "polygamma_": ((2,), {}), "deg2rad_": ((), {}), "rad2deg_": ((), {}), "sgn_": ((), {}),
        "negative_": ((), {}), "absolute_": ((), {}), "heaviside_": ((f(3, 4),), {}),
        "nextafter_": ((f(3, 4),), {}), "ldexp_": ((i([1, 2, 3, 4]),), {}), "float_power_": ((1.5,), {}),
        "multiply_": ((f(4),), {}), "divide_": ((f(4),), {"rounding_mode": "floor"}),
        "subtract_": ((f(4),), {"alpha": 3}), "true_divide_": ((f(4),), {}),
        "greater_": ((f(4),), {}), "greater_equal_": ((f(4),), {}), "less_": ((f(4),), {}),
        "less_equal_": ((f(4),), {}), "not_equal_": ((f(4),), {}),
        "index_add_": ((0, i([0, 2, 0]), f(3, 4)), {"alpha": 2}), "index_copy_": ((0, i([2, 0, 1]), f(3, 4)), {}),
        "index_fill_": ((1, i([1, 3]), -1.0), {}), "index_put_": (((i([0, 2]), i([1, 3])), f(2)), {"accumulate": True}),
        "masked_scatter_": ((f(3, 4) > 1.2, f(12)), {}), "put_": ((i([0, 5, 11]), f(3)), {}),
        "renorm_": ((2, 0, 1.0), {}), "scatter_": ((1, i([[0, 1], [3, 2], [2, 0]]), f(3, 2)), {}),
        "scatter_add_": ((1, i([[0, 1], [3, 3], [2, 0]]), f(3, 2)), {}),
        "scatter_reduce_": ((1, i([[0, 1], [3, 3], [2, 0]]), f(3, 2), "amin"), {"include_self": False}),
        "index_reduce_": ((0, i([0, 2, 0]), f(3, 4), "prod"), {}),
    }


NAMES = sorted(k for k, v in _args(gdl, 0).items() if v is not None)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_method_matches_torch(name):
    x, t = _pair((3, 4), 1)
    (ga, gk), (ta, tk) = _args(gdl, 2)[name], _args(torch, 2)[name]
    assert getattr(x, name)(*ga, **gk) is x
    getattr(t, name)(*ta, **tk)
    np.testing.assert_allclose(x.numpy(), t.numpy(), **TOL)


def test_integer_in_place_matches_torch():
    for name, other in (("gcd_", [8, 12, 5]), ("lcm_", [6, 4, 3]), ("greater_", [11, 30, 7]), ("multiply_", [2, 3, 4])):
        x, t = gdl.tensor([12, 18, 7]), torch.tensor([12, 18, 7])
        getattr(x, name)(gdl.tensor(other)), getattr(t, name)(torch.tensor(other))
        assert x.tolist() == t.tolist() and x.dtype == gdl.int64
    for lib in (torch, gdl):
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]).digamma_()
        with pytest.raises(RuntimeError):
            lib.tensor([1.0, 2.0], dtype=lib.float32).float_power_(2)


def test_non_leaf_in_place_follows_gdl_rule():
    """PyTorch records addcmul_ on a non-leaf in the graph; gdl refuses it in grad mode (its
    documented rule) and allows it under no_grad, where both give the same values."""
    w, tw = gdl.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = w * 2, tw * 2
    with pytest.raises(RuntimeError, match="addcmul_"):
        y.addcmul_(gdl.ones(2), gdl.ones(2))
    with gdl.no_grad():
        y.addcmul_(gdl.full((2,), 3.0), gdl.full((2,), 0.5))
    with torch.no_grad():
        ty.addcmul_(torch.full((2,), 3.0), torch.full((2,), 0.5))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_values_and_grads_match_torch(reduce, include_self):
    rng = np.random.default_rng(3)
    base, src, idx = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), [0, 2, 0, 3, 0]
    x, s = gdl.tensor(base, requires_grad=True), gdl.tensor(src, requires_grad=True)
    tx, ts = torch.tensor(base, requires_grad=True), torch.tensor(src, requires_grad=True)
    y = x.index_reduce(0, gdl.tensor(idx), s, reduce, include_self=include_self)
    ty = tx.index_reduce(0, torch.tensor(idx), ts, reduce, include_self=include_self)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **TOL)
    wgt = rng.normal(size=(4, 3))
    (y * gdl.tensor(wgt)).sum().backward()
    (ty * torch.tensor(wgt)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), **TOL)


def test_top_level_in_place_functions_match_torch():
    for name in ("sin_", "exp2_", "erf_", "rsqrt_", "sinc_", "deg2rad_", "frac_", "logit_"):
        x, t = _pair((5,), 4, 0.1, 0.9)
        assert getattr(gdl, name)(x) is x
        getattr(torch, name)(t)
        np.testing.assert_allclose(x.numpy(), t.numpy(), **TOL)
    x, t = _pair((5,), 5, -2, 2)
    gdl.celu_(x, 0.5), torch.celu_(t, 0.5)
    np.testing.assert_allclose(x.numpy(), t.numpy(), **TOL)
    x, t = _pair((5,), 5, -2, 2)
    gdl.threshold_(x, 0.1, 20.0), torch.threshold_(t, 0.1, 20.0)
    np.testing.assert_allclose(x.numpy(), t.numpy(), **TOL)


def test_finfo_iinfo_match_torch():
    for name in ("float16", "float32", "float64"):
        f, tf = gdl.finfo(getattr(gdl, name)), torch.finfo(getattr(torch, name))
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(f, attr) == getattr(tf, attr), (name, attr)
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        i, ti = gdl.iinfo(name), torch.iinfo(getattr(torch, name))
        assert (i.bits, i.min, i.max, i.dtype) == (ti.bits, ti.min, ti.max, ti.dtype)
    assert gdl.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (0, False), (1, True)])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_values_and_grads_match_torch(dim, keepdim, method):
    a = np.random.default_rng(6).normal(size=(4, 5))
    a[0, 1] = a[3, 3] = np.nan
    q = [0.2, 0.5, 0.75]
    x, t = gdl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = gdl.nanquantile(x, gdl.tensor(q, dtype=gdl.float64), dim=dim, keepdim=keepdim, interpolation=method)
    ty = torch.nanquantile(t, torch.tensor(q, dtype=torch.float64), dim=dim, keepdim=keepdim, interpolation=method)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **TOL)
    y.sum().backward(), ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **TOL)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_values_and_grads_match_torch(edge_order):
    a = np.random.default_rng(7).normal(size=(5, 6))
    c = np.cumsum(np.random.default_rng(8).uniform(0.5, 1.5, 6))
    r = np.cumsum(np.random.default_rng(9).uniform(0.5, 1.5, 5))
    for sg, st in (([2.0, 0.5], [2.0, 0.5]), ((gdl.tensor(r), gdl.tensor(c)), (torch.tensor(r), torch.tensor(c)))):
        x, t = gdl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        g = gdl.gradient(x, spacing=sg, edge_order=edge_order)
        tg = torch.gradient(t, spacing=st, edge_order=edge_order)
        for u, v in zip(g, tg):
            np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), **TOL)
        (g[0] * 2 + g[1]).sum().backward()
        (tg[0] * 2 + tg[1]).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **TOL)


def test_cumulative_trapezoid_matches_torch():
    y = np.random.default_rng(10).normal(size=(3, 6))
    xs = np.cumsum(np.random.default_rng(11).uniform(0.5, 1.5, 6))
    for kw_g, kw_t in (({}, {}), ({"dx": 0.3}, {"dx": 0.3}), ({"dim": 0}, {"dim": 0})):
        g, t = gdl.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
        out, tout = gdl.cumulative_trapezoid(g, **kw_g), torch.cumulative_trapezoid(t, **kw_t)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **TOL)
        out.sum().backward(), tout.sum().backward()
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **TOL)
    out = gdl.cumulative_trapezoid(gdl.tensor(y), gdl.tensor(xs))
    np.testing.assert_allclose(out.numpy(), torch.cumulative_trapezoid(torch.tensor(y), torch.tensor(xs)).numpy(), **TOL)


@pytest.mark.parametrize("density", [False, True])
def test_histograms_match_torch(density):
    rng = np.random.default_rng(12)
    v, w = rng.normal(size=60), rng.uniform(size=60)
    h = gdl.histogram(gdl.tensor(v), 6, range=(-1.5, 2.0), weight=gdl.tensor(w), density=density)
    th = torch.histogram(torch.tensor(v), 6, range=(-1.5, 2.0), weight=torch.tensor(w), density=density)
    np.testing.assert_allclose(h.hist.numpy(), th.hist.numpy(), **TOL)
    np.testing.assert_allclose(h.bin_edges.numpy(), th.bin_edges.numpy(), **TOL)
    pts = rng.normal(size=(50, 2))
    hd = gdl.histogramdd(gdl.tensor(pts), [3, 4], density=density)
    thd = torch.histogramdd(torch.tensor(pts), [3, 4], density=density)
    np.testing.assert_allclose(hd.hist.numpy(), thd.hist.numpy(), **TOL)
    for e, te in zip(hd.bin_edges, thd.bin_edges):
        np.testing.assert_allclose(e.numpy(), te.numpy(), **TOL)


def test_layout_and_type_match_torch():
    a = np.arange(24.0).reshape(2, 3, 4)
    x, t = gdl.tensor(a), torch.tensor(a)
    views = [lambda z: z, lambda z: z[1]]  # a backend without strides reports contiguous ones
    if gdl.get_backend() == "numpy":
        views += [lambda z: z[:, 1:], lambda z: z[1, 2:, 1:], lambda z: z.permute(2, 0, 1), lambda z: z.transpose(0, 1)]
    for view in views:
        assert view(x).stride() == view(t).stride()
        if gdl.get_backend() == "numpy":
            assert view(x).storage_offset() == view(t).storage_offset()
    assert x.get_device() == t.get_device() == -1
    for dtype, tname in (("float32", "torch.FloatTensor"), ("float64", "torch.DoubleTensor"),
                         ("int64", "torch.LongTensor"), ("uint8", "torch.ByteTensor"), ("bool", "torch.BoolTensor")):
        assert gdl.zeros(1, dtype=getattr(gdl, dtype)).type() == tname.replace("torch.", "gdl.")
        assert torch.zeros(1, dtype=getattr(torch, dtype)).type() == tname
    assert x.type("torch.IntTensor").dtype.name == str(t.type("torch.IntTensor").dtype).replace("torch.", "")
    assert x.new(2, 3).shape == tuple(t.new(2, 3).shape) and x.new([1, 2]).tolist() == t.new([1, 2]).tolist()
    assert gdl.scalar_tensor(2).dtype.name == str(torch.scalar_tensor(2).dtype).replace("torch.", "")
