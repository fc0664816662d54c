"""Shape and indexing ops (gdl.functional.shape and gdl.functional.indexing): values against
NumPy on the same inputs or hand-computed results, gradients by finite differences
(float64), negative dims, dtypes kept, and errors. Runs on every test backend; no torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.testing import gradcheck

SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def T(a, grad=False, dtype=gdl.float64):  # noqa: N802
    return gdl.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def I(a):  # noqa: N802, E743
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def same(t, ref):
    ref = np.asarray(ref)
    out = t.numpy()
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out, ref)


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def shape_dim(draw):
    shape = draw(SHAPES)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim


@st.composite
def gather_case(draw):
    """x's shape, dim, and an index no larger than x outside dim, duplicates likely."""
    shape, dim = draw(shape_dim())
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(1, 5)) if a == d else draw(st.integers(1, s)) for a, s in enumerate(shape))
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    return shape, dim, idx


def np_gather(x, d, idx):
    cut = x[tuple(slice(None) if a == d % x.ndim else slice(0, s) for a, s in enumerate(idx.shape))]
    return np.take_along_axis(cut, idx, axis=d)


def np_scatter_add(shape, d, idx, src):
    out = np.zeros(shape)
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[d % len(shape)] = idx[pos]
        out[tuple(target)] += src[pos]
    return out


# -- gather / take_along_dim -------------------------------------------------------------------


@SETTINGS
@given(case=gather_case())
def test_gather_values_and_gradient(backend, case):
    shape, dim, idx = case
    x = values(shape)
    t = T(x, grad=True)
    y = gdl.gather(t, dim, I(idx))
    assert y.dtype == gdl.float64
    same(y, np_gather(x, dim, idx))
    assert gradcheck(lambda a: gdl.gather(a, dim, I(idx)), [t])
    # the gradient is the count of times each element was gathered (duplicates accumulate)
    t.grad = None
    gdl.gather(t, dim, I(idx)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np_scatter_add(shape, dim, idx, np.ones(idx.shape)))


def test_gather_duplicates_accumulate(backend):
    x = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], grad=True)
    y = x.gather(1, I([[2, 2, 2, 0], [1, 1, 0, 0]]))
    same(y, [[3.0, 3.0, 3.0, 1.0], [5.0, 5.0, 4.0, 4.0]])
    y.backward(T([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 10.0]]))
    same(x.grad, [[4.0, 0.0, 6.0], [11.0, 2.0, 0.0]])


def test_take_along_dim_broadcasts_wraps_negatives_and_flattens(backend):
    x = np.arange(12.0).reshape(3, 4)
    t = T(x, grad=True)
    idx = np.array([[-1, 0]])  # broadcasts over the 3 rows
    same(gdl.take_along_dim(t, I(idx), dim=-1), np.take_along_axis(x, np.broadcast_to(idx % 4, (3, 2)), 1))
    same(t.take_along_dim(I([11, 0, -1]), None), [11.0, 0.0, 11.0])
    assert gradcheck(lambda a: gdl.take_along_dim(a, I(idx), 1), [t])
    assert gradcheck(lambda a: gdl.take_along_dim(a, I([[0], [2], [2]]), 1), [t])
    # the input broadcasts too: (1, 4) against indices (3, 1)
    row = T(x[:1], grad=True)
    same(gdl.take_along_dim(row, I([[1], [2], [3]]), 1), [[1.0], [2.0], [3.0]])
    assert gradcheck(lambda a: gdl.take_along_dim(a, I([[1], [1], [3]]), 1), [row])
    # the argmax idiom
    v = T([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    same(gdl.take_along_dim(v, v.argmax(dim=1, keepdim=True), 1), [[5.0], [7.0]])


# -- scatter / scatter_add / index_add ----------------------------------------------------------


@SETTINGS
@given(case=gather_case(), data=st.data())
def test_scatter_add_values_and_gradient(backend, case, data):
    shape, dim, idx = case
    d = dim % len(shape)
    # the index also addresses positions of x along d: draw it within x's size there
    idx = idx % shape[d]
    extra = data.draw(st.integers(0, 1))
    src_shape = tuple(s + extra for s in idx.shape)
    x, src = values(shape, 1), values(src_shape, 2)
    tx, ts = T(x, grad=True), T(src, grad=True)
    out = gdl.scatter_add(tx, dim, I(idx), ts)
    used = src[tuple(slice(0, s) for s in idx.shape)]
    np.testing.assert_allclose(out.numpy(), x + np_scatter_add(shape, dim, idx, used), rtol=1e-12)
    assert gradcheck(lambda a, b: gdl.scatter_add(a, dim, I(idx), b), [tx, ts])


def unique_index(rng, shape, d, n):
    """An index of ``shape`` whose entries along ``d`` are distinct (each column a partial permutation of range(n))."""
    moved = np.moveaxis(np.zeros(shape, dtype=np.int64), d, -1)
    for pos in np.ndindex(*moved.shape[:-1]):
        moved[pos] = rng.permutation(n)[: moved.shape[-1]]
    return np.moveaxis(moved, -1, d)


@SETTINGS
@given(shape_d=shape_dim(), seed=st.integers(0, 100))
def test_scatter_unique_indices_values_and_gradient(backend, shape_d, seed):
    shape, dim = shape_d
    d = dim % len(shape)
    rng = np.random.default_rng(seed)
    ishape = tuple(rng.integers(1, s + 1) for s in shape)
    idx = unique_index(rng, ishape, d, shape[d])
    x, src = values(shape, 3), values(ishape, 4)
    tx, ts = T(x, grad=True), T(src, grad=True)
    ref = x.copy()
    for pos in np.ndindex(*ishape):
        target = list(pos)
        target[d] = idx[pos]
        ref[tuple(target)] = src[pos]
    same(gdl.scatter(tx, dim, I(idx), ts), ref)
    same(tx.scatter(dim, I(idx), 2.5), np.where(ref != x, 2.5, x))
    assert gradcheck(lambda a, b: gdl.scatter(a, dim, I(idx), b), [tx, ts])
    assert gradcheck(lambda a: gdl.scatter(a, dim, I(idx), -1.0), [tx])


def test_scatter_gradient_to_x_is_zero_where_written(backend):
    x = T(np.ones((2, 3)), grad=True)
    src = T([[10.0], [20.0]], grad=True)
    y = gdl.scatter(x, 1, I([[2], [0]]), src)
    same(y, [[1.0, 1.0, 10.0], [20.0, 1.0, 1.0]])
    y.backward(T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    same(x.grad, [[1.0, 2.0, 0.0], [0.0, 5.0, 6.0]])
    same(src.grad, [[3.0], [4.0]])
    # one-hot labels, the common use of scatter with a number
    same(gdl.zeros(3, 4, dtype=gdl.float64).scatter(1, I([[3], [0], [3]]), 1.0), np.eye(4)[[3, 0, 3]])


@SETTINGS
@given(shape_d=shape_dim(), k=st.integers(0, 6), seed=st.integers(0, 100))
def test_index_add_and_index_select(backend, shape_d, k, seed):
    shape, dim = shape_d
    d = dim % len(shape)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, shape[d], size=k)  # duplicates likely
    x = values(shape, 5)
    sshape = shape[:d] + (k,) + shape[d + 1 :]
    src = values(sshape, 6)
    tx, ts = T(x, grad=True), T(src, grad=True)
    same(gdl.index_select(tx, dim, I(idx)), np.take(x, idx, axis=d))
    ref = x.copy()
    np.add.at(np.moveaxis(ref, d, 0), idx, 0.5 * np.moveaxis(src, d, 0))
    np.testing.assert_allclose(gdl.index_add(tx, dim, I(idx), ts, alpha=0.5).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(tx.index_add(dim, I(idx), ts).numpy() - x, 2 * (ref - x), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: gdl.index_select(a, dim, I(idx)), [tx])
    assert gradcheck(lambda a, b: gdl.index_add(a, dim, I(idx), b, alpha=-2), [tx, ts])


def test_index_select_duplicates_accumulate(backend):
    x = T(np.arange(6.0).reshape(2, 3), grad=True)
    y = x.index_select(-1, I([2, 0, 2, 2]))
    same(y, [[2.0, 0.0, 2.0, 2.0], [5.0, 3.0, 5.0, 5.0]])
    y.sum().backward()
    same(x.grad, [[1.0, 0.0, 3.0], [1.0, 0.0, 3.0]])
    same(x.index_select(0, I(1)), [[3.0, 4.0, 5.0]])  # a 0-d index selects one slice, dim kept
    same(x.index_select(1, [1, 1]), [[1.0, 1.0], [4.0, 4.0]])  # a list of ints is an index too


def test_scatter_add_and_index_add_duplicates_accumulate(backend):
    same(gdl.zeros(4, dtype=gdl.float64).scatter_add(0, I([1, 1, 3, 1]), T([1.0, 2.0, 3.0, 4.0])), [0, 7, 0, 3])
    same(gdl.zeros(4, dtype=gdl.float64).index_add(0, I([1, 1, 3]), T([1.0, 2.0, 3.0])), [0, 3, 0, 3])


# -- narrow / select / masked_select / nonzero -------------------------------------------------


def test_narrow_and_select(backend):
    x = np.arange(24.0).reshape(2, 3, 4)
    t = T(x, grad=True)
    same(t.narrow(-1, 1, 2), x[..., 1:3])
    same(gdl.narrow(t, 1, -2, 2), x[:, 1:3])
    same(t.narrow(2, 4, 0), x[..., 4:4])
    same(t.select(1, -1), x[:, -1])
    same(gdl.select(t, 0, 1), x[1])
    same(t.select(2, I(3)), x[..., 3])
    assert gradcheck(lambda a: a.narrow(1, 1, 2), [t])
    assert gradcheck(lambda a: a.select(-1, 2), [t])


@SETTINGS
@given(shape=SHAPES, seed=st.integers(0, 100))
def test_masked_select(backend, shape, seed):
    rng = np.random.default_rng(seed)
    x, mask = values(shape, seed), rng.random(shape) < 0.5
    t = T(x, grad=True)
    m = gdl.tensor(mask)
    same(gdl.masked_select(t, m), x[mask])
    assert gradcheck(lambda a: a.masked_select(m), [t])
    # the mask broadcasts against x (here over a new leading dimension)
    same(gdl.masked_select(t, gdl.tensor(mask[None])), x[mask])
    row = mask.reshape(-1)[: shape[-1]].reshape((1,) * (len(shape) - 1) + (shape[-1],))
    same(gdl.masked_select(t, gdl.tensor(row)), x[np.broadcast_to(row, shape)])
    assert gradcheck(lambda a: a.masked_select(gdl.tensor(row)), [t])


def test_masked_select_input_broadcasts_and_gradient_sums(backend):
    x = T([1.0, 2.0, 3.0], grad=True)
    m = gdl.tensor([[True, False, True], [True, True, False]])
    y = gdl.masked_select(x, m)
    same(y, [1.0, 3.0, 1.0, 2.0])
    y.sum().backward()
    same(x.grad, [2.0, 1.0, 1.0])


@SETTINGS
@given(a=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                    elements=st.integers(0, 2)))
def test_nonzero(backend, a):
    t = gdl.tensor(a)
    out = t.nonzero()
    assert out.dtype == gdl.int64 and not out.requires_grad
    if a.ndim:
        same(out, np.argwhere(a))
        for got, ref in zip(gdl.nonzero(t, as_tuple=True), np.nonzero(a)):
            assert got.dtype == gdl.int64
            same(got, ref)
    else:  # as PyTorch: (1, 0) or (0, 0), and as_tuple gives ([0],) or ([],)
        assert out.shape == (int(a != 0), 0)
        (only,) = gdl.nonzero(t, as_tuple=True)
        same(only, [0] * int(a != 0))
    if a.ndim:
        same(gdl.nonzero(gdl.tensor(a > 0)), np.argwhere(a > 0))


def test_nonzero_float_input(backend):
    x = T([[0.0, -1.5], [2.0, 0.0]], grad=True)
    same(gdl.nonzero(x), [[0, 1], [1, 0]])


# -- dtypes: integer and bool inputs keep theirs ------------------------------------------------


def test_integer_and_bool_inputs_keep_their_dtype(backend):
    for dtype in (gdl.int64, gdl.int32, gdl.bool):
        x = gdl.tensor([[1, 0, 1], [0, 1, 1]], dtype=dtype)
        idx = I([[0, 2], [1, 1]])
        outs = [
            x.gather(1, idx), x.index_select(1, I([2, 0])), x.scatter(1, idx, 1), x.scatter(1, idx, x[:, :2]),
            x.take_along_dim(idx, 1), x.masked_select(gdl.tensor([[True, False, True]] * 2)), x.narrow(1, 0, 2),
            x.select(0, 1), x.flip(0), x.roll(1), x.tile(2), x.movedim(0, 1), x.swapaxes(0, 1), x.tril(),
            x.triu(1), x.unflatten(1, (3, 1)), gdl.hstack([x, x]), gdl.vstack([x, x]), *x.split(1, 1),
            *x.chunk(2), *x.unbind(1), *gdl.meshgrid(x[0], x[1]),
        ]
        if dtype != gdl.bool:
            outs += [x.scatter_add(1, idx, x[:, :2]), x.index_add(1, I([0, 0]), x[:, :2])]
        for out in outs:
            assert out.dtype == dtype, (dtype, out)
    b = gdl.tensor([[True, False], [False, False]])
    same(b.scatter_add(1, I([[1], [1]]), gdl.tensor([[True], [False]])), [[True, True], [False, False]])
    same(gdl.zeros(2, 3, dtype=gdl.int64).scatter(1, I([[1], [2]]), 2.7), [[0, 2, 0], [0, 0, 2]])  # truncated, as torch


# -- split / chunk / unbind -------------------------------------------------------------------


def torch_split_sizes(n, size):
    return [size] * (n // size) + ([n % size] if n % size else []) if n else [0]


@SETTINGS
@given(shape_d=shape_dim(), size=st.integers(1, 5), chunks=st.integers(1, 5))
def test_split_chunk_unbind(backend, shape_d, size, chunks):
    shape, dim = shape_d
    d = dim % len(shape)
    n = shape[d]
    x = values(shape, 7)
    t = T(x, grad=True)
    pieces = gdl.split(t, size, dim)
    assert isinstance(pieces, tuple)
    assert [p.shape[d] for p in pieces] == torch_split_sizes(n, size)
    same(gdl.concat(pieces, dim), x)
    c = -(-n // chunks)
    chunked = t.chunk(chunks, dim=dim)
    assert [p.shape[d] for p in chunked] == torch_split_sizes(n, c)
    assert len(chunked) <= chunks
    for got, ref in zip(t.unbind(dim), np.moveaxis(x, d, 0)):
        same(got, ref)
    sections = [n // 2, 0, n - n // 2]
    for got, ref in zip(t.split(sections, dim), np.split(x, np.cumsum(sections)[:-1], axis=d)):
        same(got, ref)
    # every piece's gradient flows back into its part of x
    w = [values(p.shape, i) for i, p in enumerate(pieces)]
    assert gradcheck(lambda a: gdl.concat([p * T(wi) for p, wi in zip(gdl.split(a, size, dim)[::-1], w[::-1])], dim), [t])
    assert gradcheck(lambda a: gdl.stack(gdl.unbind(a, dim)[::-1], 0), [t])


def test_split_and_chunk_follow_torch_for_uneven_sizes(backend):
    x = gdl.arange(6)
    assert [p.tolist() for p in x.chunk(4)] == [[0, 1], [2, 3], [4, 5]]  # 3 pieces, not 4
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5]]
    assert [p.tolist() for p in x.split(10)] == [[0, 1, 2, 3, 4, 5]]
    assert [p.shape for p in gdl.zeros(0, 2).chunk(3)] == [(0, 2)] * 3
    assert [p.shape for p in gdl.zeros(0).split(2)] == [(0,)]
    x = T(np.arange(6.0), grad=True)
    a, b = x.split([2, 4])
    (a.sum() * 2 + (b * b).sum()).backward()
    same(x.grad, [2.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    same(gdl.split(x, 3, axis=0)[1], [3.0, 4.0, 5.0])


# -- reordering ---------------------------------------------------------------------------------


@SETTINGS
@given(shape=SHAPES, data=st.data())
def test_flip_roll_tile_movedim_swapaxes(backend, shape, data):
    nd = len(shape)
    x = values(shape, 8)
    t = T(x, grad=True)
    dims = tuple(data.draw(st.lists(st.integers(-nd, nd - 1), max_size=nd, unique_by=lambda a: a % nd)))
    same(t.flip(dims), np.flip(x, dims))
    same(gdl.flip(t), np.flip(x))
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
    same(gdl.roll(t, shifts, dims), np.roll(x, shifts, dims))
    same(t.roll(3), np.roll(x, 3))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=nd + 1)))
    same(gdl.tile(t, reps), np.tile(x, reps))
    src = data.draw(st.integers(-nd, nd - 1))
    dst = data.draw(st.integers(-nd, nd - 1))
    same(t.movedim(src, dst), np.moveaxis(x, src, dst))
    same(gdl.moveaxis(t, dims, tuple(range(len(dims)))), np.moveaxis(x, dims, tuple(range(len(dims)))))
    same(t.swapaxes(src, dst), np.swapaxes(x, src, dst))
    same(gdl.swapdims(t, dst, src), np.swapaxes(x, src, dst))
    assert gradcheck(lambda a: gdl.flip(a, dims), [t])
    assert gradcheck(lambda a: gdl.roll(a, shifts, dims) * T(values(shape, 9)), [t])
    assert gradcheck(lambda a: gdl.roll(a, -2), [t])
    assert gradcheck(lambda a: gdl.tile(a, reps), [t])
    assert gradcheck(lambda a: gdl.movedim(a, src, dst), [t])


def test_expand_as_reshape_as_view_as_unflatten(backend):
    x = T(np.arange(6.0).reshape(2, 3), grad=True)
    same(T([[1.0], [2.0]]).expand_as(x), [[1.0] * 3, [2.0] * 3])
    same(x.reshape_as(gdl.zeros(3, 2)), np.arange(6.0).reshape(3, 2))
    same(gdl.view_as(x, gdl.zeros(6)), np.arange(6.0))
    same(x.unflatten(-1, (3, 1)), np.arange(6.0).reshape(2, 3, 1))
    same(gdl.unflatten(x, 0, (-1, 1)), np.arange(6.0).reshape(2, 1, 3))
    col = T([[1.0], [2.0]], grad=True)
    assert gradcheck(lambda a: gdl.expand_as(a, x), [col])
    assert gradcheck(lambda a: a.unflatten(1, (1, 3, 1)), [x])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), k=st.integers(-4, 4))
def test_tril_triu(backend, shape, k):
    x = values(shape, 10)
    t = T(x, grad=True)
    m, n = shape[-2:]
    lower = np.arange(n)[None, :] - np.arange(m)[:, None] <= k
    upper = np.arange(n)[None, :] - np.arange(m)[:, None] >= k
    same(t.tril(k), np.where(lower, x, 0.0))
    same(gdl.triu(t, diagonal=k), np.where(upper, x, 0.0))
    assert gradcheck(lambda a: gdl.tril(a, k), [t])
    assert gradcheck(lambda a: a.triu(k), [t])


def test_meshgrid_hstack_vstack(backend):
    a, b, c = T([1.0, 2.0], grad=True), T([3.0, 4.0, 5.0], grad=True), T(7.0, grad=True)
    ref = np.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0], [7.0], indexing="ij")
    for got, want in zip(gdl.meshgrid(a, b, c), ref):
        same(got, want)
    for got, want in zip(gdl.meshgrid([a, b], indexing="xy"), np.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0])):
        same(got, want)
    assert gradcheck(lambda p, q: gdl.meshgrid(p, q)[0] * gdl.meshgrid(p, q, indexing="xy")[1].mT, [a, b])
    same(gdl.hstack([a, b, c]), [1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    m = T(np.arange(6.0).reshape(2, 3), grad=True)
    same(gdl.hstack([m, m[:, :1]]), np.hstack([np.arange(6.0).reshape(2, 3), [[0.0], [3.0]]]))
    same(gdl.vstack([b, m, c.expand(3)]), np.vstack([[3.0, 4.0, 5.0], np.arange(6.0).reshape(2, 3), [7.0] * 3]))
    same(gdl.vstack([c, c]), [[7.0], [7.0]])
    assert gradcheck(lambda p, q, r: gdl.vstack([p, q, r.expand(3)]), [b, m, c])
    assert gradcheck(lambda p, q: gdl.hstack([p, q, p]), [a, c])


def test_methods_are_the_functions():
    x = gdl.zeros(2, 3)
    for name in ("gather", "index_select", "scatter", "scatter_add", "index_add", "take_along_dim",
                 "masked_select", "nonzero", "narrow", "select", "split", "chunk", "unbind", "flip", "roll",
                 "tile", "movedim", "moveaxis", "swapaxes", "swapdims", "expand_as", "view_as", "reshape_as",
                 "tril", "triu", "unflatten"):
        assert getattr(type(x), name) is getattr(gdl, name), name
    assert not hasattr(x, "meshgrid") and not hasattr(x, "hstack")


# -- errors --------------------------------------------------------------------------------------


def test_index_errors(backend):
    x = T(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor, got dtype float"):
        x.gather(1, T([[1.0]]))
    with pytest.raises(TypeError, match="index_select: index must be an integer"):
        x.index_select(0, gdl.tensor([True, False]))
    with pytest.raises(TypeError, match="scatter: index"):
        x.scatter(0, T([[0.0]]), 1.0)
    with pytest.raises(IndexError, match="gather: index 3 is out of range for dimension 1 of size 3"):
        x.gather(-1, I([[0, 3]]))
    with pytest.raises(IndexError, match="gather: index -1 is out of range for dimension 0 of size 2"):
        x.gather(0, I([[-1]]))  # negative indices are refused, as torch.gather
    with pytest.raises(IndexError, match="index_select: index 2 is out of range for dimension 0 of size 2"):
        x.index_select(0, I([0, 2]))
    with pytest.raises(IndexError, match="scatter_add: index 5 is out of range for dimension 1 of size 3"):
        x.scatter_add(1, I([[5]]), T([[1.0]]))
    with pytest.raises(IndexError, match="scatter: index 2 is out of range for dimension 0 of size 2"):
        x.scatter(0, I([[2]]), 1.0)
    with pytest.raises(IndexError, match="index_add: index -1 is out of range for dimension 0 of size 2"):
        x.index_add(0, I([-1]), T(np.zeros((1, 3))))
    with pytest.raises(IndexError, match="take_along_dim: index -4 is out of range for dimension 1 of size 3"):
        x.take_along_dim(I([[-4]]), 1)
    with pytest.raises(IndexError, match="select: index 2 is out of range for dimension 0 of size 2"):
        x.select(0, 2)
    with pytest.raises(IndexError, match="narrow: start 2 \\+ length 2 does not fit dimension 1 of size 3"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match="narrow: start 4 is out of range for dimension 1 of size 3"):
        x.narrow(1, 4, 0)
    with pytest.raises(ValueError, match="gather: index of shape \\(3, 1\\) is larger than"):
        x.gather(1, I([[0], [0], [0]]))
    with pytest.raises(ValueError, match="needs as many dimensions"):
        x.gather(1, I([0]))
    with pytest.raises(ValueError, match="index_add: source of shape"):
        x.index_add(0, I([0]), T(np.zeros((2, 3))))
    with pytest.raises(TypeError, match="scatter_add: src has dtype float32"):
        x.scatter_add(0, I([[0]]), gdl.ones(1, 1))
    with pytest.raises(TypeError, match="masked_select: mask must be a bool tensor"):
        x.masked_select(I([1, 0, 1]))
    with pytest.raises(ValueError, match="masked_select: shapes"):
        x.masked_select(gdl.tensor([True, False]))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.gather(2, I([[0]]))


def test_shape_errors(backend):
    x = T(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="split: sizes"):
        x.split([2, 3], 1)
    with pytest.raises(ValueError, match="split: split size"):
        x.split(0)
    with pytest.raises(ValueError, match="chunk: chunks"):
        x.chunk(0)
    with pytest.raises(ValueError, match="split: expects a tensor with at least 1 dimension"):
        gdl.split(T(1.0), 1)
    with pytest.raises(ValueError, match="flip: dims \\(1, -1\\) repeat"):
        x.flip(1, -1)
    with pytest.raises(ValueError, match="roll: .*shifts"):
        x.roll((1, 2))
    with pytest.raises(ValueError, match="roll: .*shifts"):
        x.roll((1, 2), (0,))
    with pytest.raises(ValueError, match="movedim: repeated"):
        x.movedim((0, 0), (0, 1))
    with pytest.raises(ValueError, match="tril: expects a tensor with at least 2 dimensions"):
        gdl.tril(T([1.0, 2.0]))
    with pytest.raises(ValueError, match="meshgrid: indexing"):
        gdl.meshgrid(T([1.0]), indexing="ji")
    with pytest.raises(ValueError, match="meshgrid: expects 0-d or 1-d"):
        gdl.meshgrid(x)
    with pytest.raises(ValueError, match="unflatten: sizes \\(4, -1\\) do not split dimension 1 of size 6"):
        x.unflatten(1, (4, -1))
    with pytest.raises(ValueError, match="unflatten"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match="swapaxes: axis 2 is out of range"):
        x.swapaxes(0, 2)


def test_scatter_duplicates_write_the_last_value_exactly(backend):
    # torch leaves duplicates undefined; gdl writes the last one in row-major order of index
    # (as torch's CPU kernel does), and only that one gets the gradient
    src = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], grad=True)
    y = gdl.scatter(gdl.zeros(2, 3, dtype=gdl.float64), 1, I([[0, 0, 2], [1, 1, 1]]), src)
    same(y, [[2.0, 0.0, 3.0], [0.0, 6.0, 0.0]])
    y.sum().backward()
    same(src.grad, [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    # values are copied, not summed: infinities, NaN and the last bit survive
    v = T([np.inf, -np.inf, np.nan, 0.1 + 0.2])
    same(gdl.scatter(gdl.zeros(5, dtype=gdl.float64), 0, I([4, 0, 2, 1]), v), [-np.inf, 0.1 + 0.2, np.nan, 0, np.inf])
