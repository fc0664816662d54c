"""Shape and indexing ops cross-checked against PyTorch (skipped when torch is not installed):
values, gradients and dtypes, float64, hypothesis-drawn shapes, dims and indices.
Set ``GDL_CROSSCHECK_EXAMPLES`` to search harder."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
VALUES = st.integers(-3, 3).map(float)


def arrays(shape=SHAPES):
    return hnp.arrays(np.float64, shape, elements=VALUES)


def gi(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def ti(a):
    return torch.tensor(np.asarray(a, dtype=np.int64))


def check(fg, ft, *arrays_, msg="", skip_grad=()):
    """Forward values, dtype and every input's gradient (but those numbered in ``skip_grad``) of
    ``fg`` (gdl) and ``ft`` (torch) agree. Outputs may be tensors or tuples of tensors."""
    gs = [g64(a, grad=True) for a in arrays_]
    ts = [t64(a, grad=i not in skip_grad) for i, a in enumerate(arrays_)]
    y, yt = fg(*gs), ft(*ts)
    ys, yts = (list(y), list(yt)) if isinstance(yt, (tuple, list)) else ([y], [yt])
    assert len(ys) == len(yts), f"{msg}: {len(ys)} outputs, torch gives {len(yts)}"
    gsum, tsum = None, None
    for i, (a, b) in enumerate(zip(ys, yts)):
        close(a, b, f"{msg}: output {i}")
        assert a.dtype.name == str(b.dtype).removeprefix("torch."), msg
        w = np.random.default_rng(i).standard_normal(tuple(b.shape))
        ga, tb = (a * g64(w)).sum(), (b * t64(w)).sum()
        gsum, tsum = (ga, tb) if gsum is None else (gsum + ga, tsum + tb)
    if not tsum.requires_grad:
        return
    gsum.backward()
    tsum.backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        if i in skip_grad:
            continue
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"{msg}: input {i}"
        else:
            close(g.grad, t.grad, f"{msg}: grad of input {i}")


@st.composite
def shape_dim(draw, shapes=SHAPES):
    shape = draw(shapes)
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@st.composite
def index_case(draw, larger=True):
    """x, dim, and an index no larger than x outside dim (duplicates likely)."""
    shape, dim = draw(shape_dim())
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(1, 5 if larger else s)) if a == d else draw(st.integers(1, s))
                   for a, s in enumerate(shape))
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    return draw(arrays(shape)), dim, idx


# -- indexing ------------------------------------------------------------------------------------


@SETTINGS(25)
@given(case=index_case())
def test_gather(case):
    x, dim, idx = case
    check(lambda a: gdl.gather(a, dim, gi(idx)), lambda a: torch.gather(a, dim, ti(idx)), x, msg="gather")
    check(lambda a: a.gather(dim, gi(idx)), lambda a: a.gather(dim, ti(idx)), x, msg="Tensor.gather")


@SETTINGS(25)
@given(case=index_case(), neg=st.booleans(), bcast=st.booleans())
def test_take_along_dim(case, neg, bcast):
    x, dim, idx = case
    d = dim % x.ndim
    if neg:
        idx = idx - x.shape[d]  # negative indices count from the end in both
    if bcast:
        idx = idx[tuple(slice(None) if a == d else slice(0, 1) for a in range(x.ndim))]
    else:
        idx = np.resize(idx, tuple(idx.shape[a] if a == d else s for a, s in enumerate(x.shape)))
    check(lambda a: gdl.take_along_dim(a, gi(idx), dim), lambda a: torch.take_along_dim(a, ti(idx), dim), x,
          msg="take_along_dim")
    flat = idx.reshape(-1) % x.size
    check(lambda a: a.take_along_dim(gi(flat)), lambda a: a.take_along_dim(ti(flat)), x, msg="dim=None")


@SETTINGS(25)
@given(case=index_case(larger=False), extra=st.integers(0, 1), data=st.data())
def test_scatter_add(case, extra, data):
    x, dim, idx = case
    src = data.draw(arrays(tuple(s + extra for s in idx.shape)))
    # torch 2.13's backward fails when src is larger than index ("invalid gradient ... got [1] but
    # expected shape compatible with [2]"): there src's gradient is checked by gradcheck in test_ops_shape_index
    check(lambda a, b: gdl.scatter_add(a, dim, gi(idx), b), lambda a, b: torch.scatter_add(a, dim, ti(idx), b),
          x, src, msg="scatter_add", skip_grad=(1,) if extra else ())


@SETTINGS(25)
@given(case=index_case(larger=False), extra=st.integers(0, 1), data=st.data(), value=VALUES)
def test_scatter(case, extra, data, value):
    x, dim, idx = case
    d = dim % x.ndim
    # unique indices along dim (torch leaves duplicates undefined): a permutation per column
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    moved = np.moveaxis(idx.copy(), d, -1)
    for pos in np.ndindex(*moved.shape[:-1]):
        moved[pos] = rng.permutation(x.shape[d])[: moved.shape[-1]]
    idx = np.moveaxis(moved, -1, d).copy()
    src = data.draw(arrays(tuple(s + extra for s in idx.shape)))
    check(lambda a, b: gdl.scatter(a, dim, gi(idx), b), lambda a, b: torch.scatter(a, dim, ti(idx), b),
          x, src, msg="scatter", skip_grad=(1,) if extra else ())  # torch's backward fails there, as above
    check(lambda a: a.scatter(dim, gi(idx), value), lambda a: a.scatter(dim, ti(idx), value), x, msg="value")


def test_scatter_duplicates_write_the_last_value():
    # torch documents duplicates as undefined; gdl writes the last one (row-major), which is what
    # torch's CPU kernel does today: compare only where that holds, and gdl's gradient on its own
    idx = [[0, 0, 1, 0], [2, 2, 2, 1]]
    src = np.arange(8.0).reshape(2, 4)
    got = gdl.scatter(g64(np.zeros((2, 3))), 1, gi(idx), g64(src, grad=True))
    close(got, torch.zeros(2, 3, dtype=torch.float64).scatter(1, ti(idx), t64(src)))
    s = g64(src, grad=True)
    gdl.scatter(g64(np.zeros((2, 3))), 1, gi(idx), s).sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), [[0, 0, 1, 1], [0, 0, 1, 1]])


@SETTINGS(25)
@given(shape_d=shape_dim(), k=st.integers(0, 5), data=st.data(), alpha=st.sampled_from([1, -2, 0.5]))
def test_index_select_and_index_add(shape_d, k, data, alpha):
    shape, dim = shape_d
    d = dim % len(shape)
    idx = data.draw(hnp.arrays(np.int64, (k,), elements=st.integers(0, shape[d] - 1)))
    x = data.draw(arrays(shape))
    src = data.draw(arrays(shape[:d] + (k,) + shape[d + 1 :]))
    check(lambda a: gdl.index_select(a, dim, gi(idx)), lambda a: torch.index_select(a, dim, ti(idx)), x,
          msg="index_select")
    check(lambda a, b: gdl.index_add(a, dim, gi(idx), b, alpha=alpha),
          lambda a, b: torch.index_add(a, dim, ti(idx), b, alpha=alpha), x, src, msg="index_add")


@SETTINGS(20)
@given(x=arrays(), data=st.data())
def test_narrow_select_masked_select_nonzero(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    start = data.draw(st.integers(-n, n))
    length = data.draw(st.integers(0, n - start % n if start % n or start >= 0 and start < n else 0))
    check(lambda a: gdl.narrow(a, dim, start, length), lambda a: torch.narrow(a, dim, start, length), x, msg="narrow")
    i = data.draw(st.integers(-n, n - 1))
    check(lambda a: a.select(dim, i), lambda a: a.select(dim, i), x, msg="select")
    mask = x > 0
    check(lambda a: gdl.masked_select(a, gdl.tensor(mask)), lambda a: torch.masked_select(a, torch.tensor(mask)), x,
          msg="masked_select")
    row = mask.reshape(-1)[: x.shape[-1]]
    check(lambda a: a.masked_select(gdl.tensor(row)), lambda a: a.masked_select(torch.tensor(row)), x,
          msg="masked_select broadcast")
    close(gdl.nonzero(g64(x)), torch.nonzero(t64(x)))
    assert gdl.nonzero(g64(x)).dtype == gdl.int64
    for a, b in zip(g64(x).nonzero(as_tuple=True), t64(x).nonzero(as_tuple=True)):
        close(a, b)
        assert a.dtype == gdl.int64 and b.dtype == torch.int64


def test_nonzero_of_0d_tensors_as_torch():
    for v in (0.0, 2.0):
        close(gdl.nonzero(g64(v)), torch.nonzero(t64(v)))
        (a,), (b,) = gdl.nonzero(g64(v), as_tuple=True), torch.nonzero(t64(v), as_tuple=True)
        close(a, b)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_and_bool_dtypes_as_torch(dtype):
    a = np.array([[1, 0, 1], [0, 1, 1]])
    x, xt = gdl.tensor(a, dtype=getattr(gdl, dtype)), torch.tensor(a, dtype=getattr(torch, dtype))
    idx = [[0, 2], [1, 1]]
    pairs = [
        (x.gather(1, gi(idx)), xt.gather(1, ti(idx))),
        (x.index_select(1, gi([2, 0])), xt.index_select(1, ti([2, 0]))),
        (x.scatter(1, gi([[2], [0]]), 1), xt.scatter(1, ti([[2], [0]]), 1)),
        (x.take_along_dim(gi(idx), 1), xt.take_along_dim(ti(idx), 1)),
        (x.flip(0), xt.flip(0)), (x.roll(1), xt.roll(1)), (x.tile(2), xt.tile(2)), (x.tril(), xt.tril()),
        (x.triu(1), xt.triu(1)), (x.movedim(0, 1), xt.movedim(0, 1)), (x.unbind(1)[2], xt.unbind(1)[2]),
        (gdl.hstack([x, x]), torch.hstack([xt, xt])), (gdl.vstack([x[0], x]), torch.vstack([xt[0], xt])),
    ]
    if dtype != "bool":  # torch has no bool scatter_add/index_add kernels on the CPU
        pairs += [
            (x.scatter_add(1, gi(idx), x), xt.scatter_add(1, ti(idx), xt)),
            (x.index_add(1, gi([0, 0]), x[:, :2]), xt.index_add(1, ti([0, 0]), xt[:, :2])),
        ]
    for i, (ours, theirs) in enumerate(pairs):
        close(ours, theirs, f"{dtype} pair {i}")
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (i, ours.dtype, theirs.dtype)


def test_index_errors_where_torch_errors():
    x, xt = g64(np.zeros((2, 3))), t64(np.zeros((2, 3)))
    cases = [
        (lambda a, I: a.gather(1, I([[3]]))),
        (lambda a, I: a.gather(1, I([[-1]]))),  # torch refuses negative gather indices; so does gdl
        (lambda a, I: a.index_select(0, I([-1]))),
        (lambda a, I: a.scatter(1, I([[3]]), 1.0)),
        (lambda a, I: a.select(0, 2)),
    ]
    for f in cases:
        with pytest.raises((RuntimeError, IndexError)):
            f(xt, ti)
        with pytest.raises(IndexError):  # gdl: always an IndexError naming the op, dim and size
            f(x, gi)
    with pytest.raises(RuntimeError):
        xt.gather(1, torch.tensor([[1.0]]))
    with pytest.raises(TypeError):
        x.gather(1, g64([[1.0]]))


# -- shape ops ------------------------------------------------------------------------------------


@SETTINGS(25)
@given(x=arrays(), data=st.data())
def test_split_chunk_unbind(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = data.draw(st.integers(1, 5))
    check(lambda a: gdl.split(a, size, dim), lambda a: torch.split(a, size, dim), x, msg="split")
    cut = data.draw(st.integers(0, n))
    check(lambda a: a.split([cut, n - cut], dim=dim), lambda a: a.split([cut, n - cut], dim=dim), x, msg="sections")
    chunks = data.draw(st.integers(1, 6))
    check(lambda a: a.chunk(chunks, dim), lambda a: a.chunk(chunks, dim), x, msg="chunk")
    check(lambda a: gdl.unbind(a, dim), lambda a: torch.unbind(a, dim), x, msg="unbind")


@SETTINGS(25)
@given(x=arrays(), data=st.data())
def test_flip_roll_tile_movedim_swapaxes(x, data):
    nd = x.ndim
    dims = tuple(data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda a: a % nd)))
    check(lambda a: gdl.flip(a, dims), lambda a: torch.flip(a, dims), x, msg="flip")
    check(lambda a: a.flip(*dims), lambda a: a.flip(*dims), x, msg="flip varargs")
    shifts = tuple(data.draw(st.integers(-6, 6)) for _ in dims)
    check(lambda a: gdl.roll(a, shifts, dims), lambda a: torch.roll(a, shifts, dims), x, msg="roll")
    check(lambda a: a.roll(shifts[0]), lambda a: a.roll(shifts[0]), x, msg="roll flat")
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=nd + 1)))
    check(lambda a: gdl.tile(a, reps), lambda a: torch.tile(a, reps), x, msg="tile")
    dst = tuple(data.draw(st.permutations(range(nd)))[: len(dims)])
    check(lambda a: gdl.movedim(a, dims, dst), lambda a: torch.movedim(a, dims, dst), x, msg="movedim")
    check(lambda a: a.moveaxis(dims[0], -1), lambda a: a.moveaxis(dims[0], -1), x, msg="moveaxis")
    s0, s1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check(lambda a: gdl.swapaxes(a, s0, s1), lambda a: torch.swapaxes(a, s0, s1), x, msg="swapaxes")
    check(lambda a: a.swapdims(s0, s1), lambda a: a.swapdims(s0, s1), x, msg="swapdims")


@SETTINGS(20)
@given(x=arrays(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4)), k=st.integers(-4, 4))
def test_tril_triu(x, k):
    check(lambda a: gdl.tril(a, k), lambda a: torch.tril(a, k), x, msg="tril")
    check(lambda a: a.triu(diagonal=k), lambda a: a.triu(diagonal=k), x, msg="triu")


@SETTINGS(15)
@given(data=st.data(), indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_hstack_vstack(data, indexing):
    sizes = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=3))
    vecs = [data.draw(arrays((s,) if s else ())) for s in sizes]  # size 0 stands for a 0-d tensor
    check(lambda *a: gdl.meshgrid(*a, indexing=indexing), lambda *a: torch.meshgrid(*a, indexing=indexing),
          *vecs, msg="meshgrid")
    check(lambda *a: gdl.hstack(a), lambda *a: torch.hstack(a), *vecs, msg="hstack 1-d")
    same = [v for v in vecs if v.size == vecs[0].size]
    check(lambda *a: gdl.vstack(a), lambda *a: torch.vstack(a), *same, msg="vstack 1-d")
    m = data.draw(arrays((2, 3)))
    check(lambda a, b: gdl.hstack([a, b, a]), lambda a, b: torch.hstack([a, b, a]), m, m[:, :1], msg="hstack 2-d")
    check(lambda a, b: gdl.vstack([a, b]), lambda a, b: torch.vstack([a, b]), m, m[0], msg="vstack 2-d")


def test_meshgrid_default_indexing_is_ij():
    a, b = np.arange(2.0), np.arange(3.0)
    check(lambda p, q: gdl.meshgrid(p, q), lambda p, q: torch.meshgrid(p, q, indexing="ij"), a, b)


@SETTINGS(15)
@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)), data=st.data())
def test_unflatten_expand_as_view_as_reshape_as(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    f = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    sizes = data.draw(st.sampled_from([(f, n // f), (-1, f), (f, -1, 1)]))
    check(lambda a: gdl.unflatten(a, dim, sizes), lambda a: torch.unflatten(a, dim, sizes), x, msg="unflatten")
    check(lambda a: a.unflatten(dim, sizes), lambda a: a.unflatten(dim, sizes), x, msg="Tensor.unflatten")
    big = np.zeros((2,) + x.shape)
    check(lambda a: a.expand_as(g64(big)), lambda a: a.expand_as(t64(big)), x, msg="expand_as")
    flat = np.zeros(x.size)
    check(lambda a: a.view_as(g64(flat)), lambda a: a.view_as(t64(flat)), x, msg="view_as")
    check(lambda a: a.reshape_as(g64(flat)), lambda a: a.reshape_as(t64(flat)), x, msg="reshape_as")
