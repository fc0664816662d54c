"""gdl.functional.bitwise, inplace_more and misc_more on their own (no torch): values against
NumPy and Python ints, gdl's in-place rules, and the global switches. Runs on every backend
(``GDL_BACKEND=array_api_strict``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.functional.inplace import InplaceCastError

INTS = [[12, -7, 0, 5], [6, 3, -1, 9]]


def _np_op(name):
    return {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor}[name]


# -- bitwise ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,sym", [("bitwise_and", "&"), ("bitwise_or", "|"), ("bitwise_xor", "^")])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_bitwise_logic_matches_numpy(name, sym, dtype):
    a = np.array(INTS[0]).astype(dtype)
    b = np.array(INTS[1]).astype(dtype)
    x, y = gdl.tensor(a), gdl.tensor(b)
    want = _np_op(name)(a, b)
    for got in (getattr(gdl, name)(x, y), getattr(x, name)(y), eval(f"x {sym} y")):
        assert got.dtype.name == dtype
        np.testing.assert_array_equal(got.numpy(), want)
    if dtype != "bool":
        np.testing.assert_array_equal(eval(f"3 {sym} x").numpy(), _np_op(name)(np.array(3, dtype), a))
    z = gdl.tensor(a)
    ident = z
    exec(f"z {sym}= y")
    assert z is ident
    np.testing.assert_array_equal(z.numpy(), want)


def test_bitwise_dtype_rules():
    b = gdl.tensor([True, False])
    assert (b & 1).dtype == gdl.int64 and (b & True).dtype == gdl.bool
    assert (b ^ gdl.tensor([3, 1])).tolist() == [2, 1]
    assert (gdl.tensor([1, 2], dtype=gdl.uint8) | gdl.tensor([4, -1], dtype=gdl.int8)).dtype == gdl.int16
    assert (gdl.tensor([1, 2], dtype=gdl.int32) & 2**40).tolist() == [0, 0]  # wraps as a C cast
    x = gdl.tensor([5, 6])
    x &= gdl.tensor([True, False])
    assert x.tolist() == [1, 0] and x.dtype == gdl.int64
    with pytest.raises(InplaceCastError):
        b.bitwise_or_(gdl.tensor([3, 1]))
    assert gdl.bitwise_not(b).tolist() == [False, True] and gdl.tensor([0, 5]).bitwise_not().tolist() == [-1, -6]


@pytest.mark.parametrize("dtype,bits", [("int64", 64), ("int8", 8), ("int32", 32)])
def test_shifts_match_python_ints(dtype, bits):
    vals = [1, -8, 3, -1, 5, 7]
    shifts = [0, 2, -1, bits, bits + 3, 1]
    x, s = gdl.tensor(vals, dtype=getattr(gdl, dtype)), gdl.tensor(shifts, dtype=getattr(gdl, dtype))
    lo, span = -(2 ** (bits - 1)), 2**bits

    def wrap(v):
        return (v - lo) % span + lo

    left = [wrap(v << k) if 0 <= k < bits else 0 for v, k in zip(vals, shifts)]
    right = [v >> k if 0 <= k < bits else (-1 if v < 0 else 0) for v, k in zip(vals, shifts)]
    assert (x << s).tolist() == left and gdl.bitwise_left_shift(x, s).tolist() == left
    assert (x >> s).tolist() == right and x.bitwise_right_shift(s).tolist() == right
    assert (1 << gdl.tensor([0, 3])).tolist() == [1, 8] and (64 >> gdl.tensor([1, 2])).tolist() == [32, 16]
    y = gdl.tensor(vals, dtype=getattr(gdl, dtype))
    y <<= 1
    assert y.tolist() == [wrap(v << 1) for v in vals]
    y >>= 1
    assert y.tolist() == [wrap(v << 1) >> 1 for v in vals]


@pytest.mark.parametrize("op", ["&", "|", "^", "<<", ">>"])
def test_bitwise_refuses_floats(op):
    with pytest.raises(TypeError, match="bitwise"):
        eval(f"gdl.tensor([1.0]) {op} 1")
    with pytest.raises(TypeError, match="bitwise"):
        eval(f"gdl.tensor([1]) {op} 1.5")
    with pytest.raises(TypeError, match="bitwise_not"):
        gdl.bitwise_not(gdl.tensor([1.0]))


# -- in-place methods -----------------------------------------------------------------------------


def _f(*shape, seed=0):
    return gdl.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape), dtype=gdl.float64)


IDX = [0, 2, 0]
CASES = [
    ("addcmul", lambda: (_f(3, 4, seed=1), _f(4, seed=2)), {"value": 0.5}),
    ("addcdiv", lambda: (_f(3, 4, seed=1), _f(4, seed=2)), {"value": 2}),
    ("addmm", lambda: (_f(3, 2, seed=1), _f(2, 4, seed=2)), {"beta": 0.5, "alpha": 2}),
    ("addbmm", lambda: (_f(2, 3, 5, seed=1), _f(2, 5, 4, seed=2)), {}),
    ("addr", lambda: (_f(3, seed=1), _f(4, seed=2)), {}),
    ("copysign", lambda: (_f(4, seed=1) - 1.2,), {}),
    ("digamma", lambda: (), {}), ("lgamma", lambda: (), {}), ("i0", lambda: (), {}), ("sinc", lambda: (), {}),
    ("mvlgamma", lambda: (1,), {}), ("polygamma", lambda: (1,), {}), ("deg2rad", lambda: (), {}),
    ("rad2deg", lambda: (), {}), ("sgn", lambda: (), {}), ("nextafter", lambda: (_f(4, seed=3),), {}),
    ("heaviside", lambda: (_f(4, seed=3),), {}), ("ldexp", lambda: (gdl.tensor([1, 2, 3, 4]),), {}),
    ("index_add", lambda: (0, gdl.tensor(IDX), _f(3, 4, seed=4)), {"alpha": 2}),
    ("index_copy", lambda: (0, gdl.tensor([2, 0, 1]), _f(3, 4, seed=4)), {}),
    ("index_fill", lambda: (1, gdl.tensor([1, 3]), -1.0), {}),
    ("masked_scatter", lambda: (_f(3, 4) > 1.2, _f(12, seed=5)), {}),
    ("put", lambda: (gdl.tensor([0, 5, 11]), _f(3, seed=6)), {}),
    ("renorm", lambda: (2, 0, 1.0), {}),
    ("scatter_add", lambda: (1, gdl.tensor([[0, 1], [3, 3], [2, 0]]), _f(3, 2, seed=7)), {}),
    ("scatter_reduce", lambda: (1, gdl.tensor([[0, 1], [3, 3], [2, 0]]), _f(3, 2, seed=7), "amax"), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_in_place_equals_out_of_place(name, args, kwargs):
    shape = (4,) if name in ("copysign", "nextafter", "heaviside", "ldexp") else (3, 4)
    x = _f(*shape)
    a = args()
    want = getattr(x, name)(*a, **kwargs).numpy()
    assert getattr(x, name + "_")(*a, **kwargs) is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-14)


def test_aliases_and_integer_methods():
    x = gdl.tensor([1.0, -2.0, 3.0])
    assert x.multiply_(2).tolist() == [2.0, -4.0, 6.0] and x.subtract_(1, alpha=2).tolist() == [0.0, -6.0, 4.0]
    assert x.divide_(2).tolist() == [0.0, -3.0, 2.0] and x.true_divide_(2).tolist() == [0.0, -1.5, 1.0]
    assert x.negative_().tolist() == [0.0, 1.5, -1.0] and x.absolute_().tolist() == [0.0, 1.5, 1.0]
    for name, want in (("greater_", [0, 0, 1]), ("greater_equal_", [0, 1, 1]), ("less_", [1, 0, 0]),
                       ("less_equal_", [1, 1, 0]), ("not_equal_", [1, 0, 1])):
        y = gdl.tensor([1, 2, 3])
        assert getattr(y, name)(2).tolist() == want and y.dtype == gdl.int64
    g = gdl.tensor([12, 18, 7])
    assert g.gcd_(gdl.tensor([8, 12, 5])).tolist() == [4, 6, 1]
    assert g.lcm_(gdl.tensor([6, 4, 3])).tolist() == [12, 12, 3]
    with pytest.raises(InplaceCastError):
        gdl.tensor([1, 2]).digamma_()


def test_float_power_needs_float64():
    x = gdl.tensor([2.0, 3.0], dtype=gdl.float64)
    assert x.float_power_(2).tolist() == [4.0, 9.0]
    with pytest.raises(RuntimeError, match="float_power_"):
        gdl.tensor([2.0, 3.0], dtype=gdl.float32).float_power_(2)


def test_scatter_forms():
    idx = gdl.tensor([[0, 1], [2, 2]])
    assert gdl.zeros(2, 3).scatter_(1, idx, 5.0).tolist() == [[5, 5, 0], [0, 0, 5]]
    assert gdl.zeros(2, 3).scatter_(1, idx, value=2.0).tolist() == [[2, 2, 0], [0, 0, 2]]
    src = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert gdl.ones(2, 3).scatter_(1, idx, src, reduce="add").tolist() == [[2, 3, 1], [1, 1, 8]]
    assert gdl.ones(2, 3).scatter_(1, idx, src, reduce="multiply").tolist() == [[1, 2, 1], [1, 1, 12]]
    with pytest.raises(ValueError):
        gdl.ones(2, 3).scatter_(1, idx, src, reduce="max")


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_a_loop(reduce, include_self):
    rng = np.random.default_rng(8)
    base, src, idx = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), [0, 2, 0, 3, 0]
    want = base.copy()
    fn = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
    for row in set(idx):
        vals = [src[i] for i, r in enumerate(idx) if r == row] + ([base[row]] if include_self else [])
        want[row] = fn(np.stack(vals), axis=0)
    got = gdl.tensor(base).index_reduce(0, gdl.tensor(idx), gdl.tensor(src), reduce, include_self=include_self)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)
    x = gdl.tensor(base)
    assert x.index_reduce_(0, gdl.tensor(idx), gdl.tensor(src), reduce, include_self=include_self) is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-13)
    with pytest.raises(ValueError):
        gdl.tensor(base).index_reduce(0, gdl.tensor(idx), gdl.tensor(src), "sum")


def test_in_place_autograd_rule():
    w = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2  # a non-leaf in the graph
    with pytest.raises(RuntimeError, match="addcmul_"):
        y.addcmul_(gdl.ones(2), gdl.ones(2))
    with pytest.raises(RuntimeError, match="index_add_"):
        gdl.zeros(2).index_add_(0, gdl.tensor([0]), w[:1])
    with gdl.no_grad():
        y.addcmul_(gdl.ones(2), gdl.ones(2))
    assert y.tolist() == [3.0, 5.0]


def test_top_level_in_place_functions():
    x = gdl.tensor([0.5, 1.0])
    want = np.sin(x.numpy())
    assert gdl.sin_(x) is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-6)
    z = gdl.zeros(3)
    assert gdl.index_put_(z, (gdl.tensor([1]),), gdl.tensor([4.0])).tolist() == [0.0, 4.0, 0.0]
    assert gdl.gcd_(gdl.tensor([4, 6]), gdl.tensor([6, 4])).tolist() == [2, 2]
    c = gdl.tensor([-1.0, 2.0])
    assert gdl.celu_(c) is c and c.tolist()[1] == 2.0 and math.isclose(c.tolist()[0], math.expm1(-1), rel_tol=1e-6)
    assert gdl.threshold_(gdl.tensor([0.5, 2.0]), 1.0, -3.0).tolist() == [-3.0, 2.0]
    with pytest.raises(TypeError):
        gdl.sin_([1.0])


# -- misc_more ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_numpy(name):
    f, n = gdl.finfo(getattr(gdl, name)), np.finfo(name)
    assert f.bits == n.bits and f.eps == n.eps and f.max == n.max and f.min == n.min
    assert f.tiny == n.smallest_normal == f.smallest_normal and f.resolution == n.resolution and f.dtype == name
    assert gdl.finfo(name).eps == f.eps
    with pytest.raises(TypeError):
        gdl.finfo(gdl.int32)


def test_finfo_default_and_iinfo():
    assert gdl.finfo().dtype == gdl.get_default_dtype().name
    for name in ("int8", "int16", "int32", "int64", "uint8"):
        i, n = gdl.iinfo(name), np.iinfo(name)
        assert (i.bits, i.min, i.max, i.dtype) == (n.bits, n.min, n.max, name)
    with pytest.raises(TypeError):
        gdl.iinfo("float32")


def test_creation_helpers():
    s = gdl.scalar_tensor(3)
    assert s.shape == () and s.dtype == gdl.get_default_dtype() and s.item() == 3.0
    assert gdl.scalar_tensor(2, dtype=gdl.int64).dtype == gdl.int64
    gdl.manual_seed(0)
    r = gdl.randint_like(gdl.zeros(500, dtype=gdl.int32), 3, 7)
    assert r.dtype == gdl.int32 and set(np.unique(r.numpy()).tolist()) == {3, 4, 5, 6}
    counts = gdl.full((4000,), 10.0, dtype=gdl.float64)
    b = gdl.binomial(counts, gdl.full((4000,), 0.3, dtype=gdl.float64)).numpy()
    assert b.min() >= 0 and b.max() <= 10 and abs(b.mean() - 3.0) < 0.15 and np.all(b == np.round(b))
    with pytest.raises(TypeError):
        gdl.binomial(counts, counts, generator=object())


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("q", [0.3, [0.0, 0.5, 1.0]])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_matches_numpy(dim, q, method):
    a = np.random.default_rng(9).normal(size=(4, 5))
    a[0, 1] = a[2, 3] = np.nan
    got = gdl.nanquantile(gdl.tensor(a), q if isinstance(q, float) else gdl.tensor(q, dtype=gdl.float64),
                          dim=dim, interpolation=method)
    want = np.nanquantile(a, q, axis=dim, method=method)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)


def test_nanquantile_all_nan_slice_is_nan():
    a = gdl.tensor([[np.nan, np.nan], [1.0, 3.0]], dtype=gdl.float64)
    out = a.nanquantile(0.5, dim=1, keepdim=True).numpy()
    assert out.shape == (2, 1) and np.isnan(out[0, 0]) and out[1, 0] == 2.0


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_numpy(edge_order):
    a = np.random.default_rng(10).normal(size=(5, 6))
    c = np.cumsum(np.random.default_rng(11).uniform(0.5, 1.5, 6))
    got = gdl.gradient(gdl.tensor(a), spacing=[2.0, 0.5], edge_order=edge_order)
    for g, w in zip(got, np.gradient(a, 2.0, 0.5, edge_order=edge_order)):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12)
    (g1,) = gdl.gradient(gdl.tensor(a), spacing=(gdl.tensor(c),), dim=1, edge_order=edge_order)
    np.testing.assert_allclose(g1.numpy(), np.gradient(a, c, axis=1, edge_order=edge_order), rtol=1e-12)
    with pytest.raises(ValueError):
        gdl.gradient(gdl.tensor([1.0, 2.0]), edge_order=2)


def test_cumulative_trapezoid_matches_cumsum_of_trapezoids():
    y = np.random.default_rng(12).normal(size=(3, 6))
    x = np.cumsum(np.random.default_rng(13).uniform(0.5, 1.5, 6))
    trap = (y[:, 1:] + y[:, :-1]) / 2
    np.testing.assert_allclose(gdl.cumulative_trapezoid(gdl.tensor(y)).numpy(), np.cumsum(trap, axis=1))
    np.testing.assert_allclose(gdl.cumulative_trapezoid(gdl.tensor(y), dx=0.5).numpy(), np.cumsum(trap * 0.5, 1))
    got = gdl.cumulative_trapezoid(gdl.tensor(y), gdl.tensor(x))
    np.testing.assert_allclose(got.numpy(), np.cumsum(trap * np.diff(x), axis=1), rtol=1e-13)
    np.testing.assert_allclose(gdl.cumulative_trapezoid(gdl.tensor(y), dim=0).numpy(),
                               np.cumsum((y[1:] + y[:-1]) / 2, axis=0))


@pytest.mark.parametrize("density", [False, True])
def test_histograms_match_numpy(density):
    rng = np.random.default_rng(14)
    v, w = rng.normal(size=50), rng.uniform(size=50)
    h = gdl.histogram(gdl.tensor(v), 7, weight=gdl.tensor(w), density=density)
    hn, en = np.histogram(v, 7, weights=w, density=density)
    np.testing.assert_allclose(h.hist.numpy(), hn, rtol=1e-12)
    np.testing.assert_allclose(h.bin_edges.numpy(), en, rtol=1e-12)
    h2 = gdl.histogram(gdl.tensor(v), gdl.tensor([-1.0, 0.0, 0.5, 2.0]), density=density)
    np.testing.assert_allclose(h2[0].numpy(), np.histogram(v, [-1.0, 0.0, 0.5, 2.0], density=density)[0])
    pts = rng.normal(size=(40, 2))
    hd = gdl.histogramdd(gdl.tensor(pts), [3, 4], range=[-2.0, 2.0, -1.0, 1.0], density=density)
    hdn, edn = np.histogramdd(pts, [3, 4], range=[(-2, 2), (-1, 1)], density=density)
    np.testing.assert_allclose(hd.hist.numpy(), hdn, rtol=1e-12)
    for e, en2 in zip(hd.bin_edges, edn):
        np.testing.assert_allclose(e.numpy(), en2)


def test_global_switches():
    before = gdl.get_num_threads()
    gdl.set_num_threads(3)
    assert gdl.get_num_threads() == 3
    gdl.set_num_threads(before)
    with pytest.raises(ValueError):
        gdl.set_num_threads(0)
    gdl.use_deterministic_algorithms(True, warn_only=True)
    assert gdl.are_deterministic_algorithms_enabled() and gdl.is_deterministic_algorithms_warn_only_enabled()
    gdl.use_deterministic_algorithms(False)
    assert not gdl.are_deterministic_algorithms_enabled()
    assert gdl.get_default_device() == gdl.tensor([1.0]).device
    backend = gdl.get_backend()
    try:
        gdl.set_default_device("cpu")
        assert gdl.get_backend() == "numpy" and gdl.get_default_device().type == "cpu"
    finally:
        gdl.set_backend(backend)


def test_set_printoptions():
    x = gdl.tensor([1.23456789, 2.0])
    plain = repr(x)
    try:
        gdl.set_printoptions(precision=2)
        assert "1.23," in repr(x) and "1.2345" not in repr(x)
        gdl.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(gdl.arange(10))
        gdl.set_printoptions(sci_mode=True)
        assert "e+00" in repr(x)
        gdl.set_printoptions(profile="full")
        assert "..." not in repr(gdl.arange(1000))
    finally:
        gdl.set_printoptions(profile="default")
    assert repr(x) == plain
    with pytest.raises(ValueError):
        gdl.set_printoptions(profile="long")
    with pytest.raises(ValueError, match="threshold"):
        gdl.set_printoptions(precision=2, threshold=-1)  # checked before anything changes
    assert repr(x) == plain


def test_layout_queries():
    x = gdl.arange(12.0).reshape(3, 4)
    assert x.stride() == (4, 1) and x.stride(0) == 4 and x.stride(-1) == 1
    t = x.T
    assert t.stride() == (1, 4)  # a view (array_api_strict: of the NumPy array inside)
    assert x.storage_offset() == 0 and isinstance(x.data_ptr(), int)
    assert x[1:].storage_offset() == 4 and x[1:, 2:].storage_offset() == 6
    assert x[1:].data_ptr() == x.data_ptr() + 4 * x.element_size()
    assert x[1:].clone().storage_offset() == 0  # its own memory
    assert x.get_device() == -1 and not x.is_pinned() and x.pin_memory() is x and not x.is_inference()
    assert x.isreal().tolist() == [[True] * 4] * 3 and gdl.isreal(x).dtype == gdl.bool


def test_new_and_type():
    x = gdl.tensor([1.5, 2.5])
    assert x.new().shape == (0,) and x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == x.dtype
    assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype == x.dtype
    assert gdl.tensor([1, 2]).new((3, 4)).tolist() == [3, 4]
    assert x.type() == "gdl.FloatTensor" and gdl.tensor([1]).type() == "gdl.LongTensor"
    assert gdl.tensor([True]).type() == "gdl.BoolTensor"
    assert x.type(gdl.float64).dtype == gdl.float64 and x.type("torch.IntTensor").tolist() == [1, 2]
    assert x.type("int64").dtype == gdl.int64
    with pytest.raises(ValueError):
        x.type("torch.FancyTensor")
