"""The ops of ``shape_extra``, ``indexing_extra`` and ``linalg_extra`` on every backend: values
against NumPy, shapes and dtypes, float64 finite-difference gradients, duplicate and
negative indices, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl.testing import gradcheck

RNG = np.random.default_rng(7)
A34 = RNG.standard_normal((3, 4))
A234 = RNG.standard_normal((2, 3, 4))


def g64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def gi(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def same(t, want):
    got = t.numpy()
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# -- shape ------------------------------------------------------------------------------------------


def test_atleast_nd_shapes(backend):
    s, v, m = gdl.tensor(1.0), gdl.zeros(3), gdl.zeros(2, 3)
    assert gdl.atleast_1d(s).shape == (1,) and gdl.atleast_1d(m) is m
    assert [t.shape for t in gdl.atleast_2d(s, v, m)] == [(1, 1), (1, 3), (2, 3)]
    assert [t.shape for t in gdl.atleast_3d([s, v, m])] == [(1, 1, 1), (1, 3, 1), (2, 3, 1)]
    with pytest.raises(TypeError, match="atleast_1d"):
        gdl.atleast_1d(np.zeros(2))


def test_broadcast_shapes_and_tensors(backend):
    assert gdl.broadcast_shapes((2, 1), (3,), 1, ()) == (2, 3)
    assert gdl.broadcast_shapes() == ()
    with pytest.raises(ValueError, match=r"broadcast_shapes: .*\(4,\)"):
        gdl.broadcast_shapes((2, 3), (4,))
    a = g64(RNG.standard_normal((3, 1)))
    b = g64(RNG.standard_normal(4))
    x, y = gdl.broadcast_tensors(a, b)
    assert x.shape == y.shape == (3, 4)
    gradcheck(lambda p, q: gdl.stack(gdl.broadcast_tensors(p, q)), [a, b])
    with pytest.raises(ValueError, match="broadcast_tensors"):
        gdl.broadcast_tensors(gdl.zeros(2), gdl.zeros(3))


def test_stacks_match_numpy(backend):
    a, b = RNG.standard_normal(3), RNG.standard_normal((3, 2))
    same(gdl.column_stack([g64(a), g64(b)]), np.column_stack([a, b]))
    same(gdl.row_stack([g64(A34[0]), g64(A34)]), np.vstack([A34[0], A34]))
    same(gdl.dstack([g64(A34), g64(A34 * 2)]), np.dstack([A34, A34 * 2]))
    same(gdl.dstack([g64(a), g64(a)]), np.dstack([a, a]))
    gradcheck(lambda p, q: gdl.column_stack([p, q]), [g64(a), g64(b)])
    gradcheck(lambda p, q: gdl.dstack([p, q]), [g64(a), g64(A34[:1, :3])])


def test_splits_match_numpy(backend):
    x = g64(A234)
    for ours, theirs in [
        (gdl.hsplit(x, 3), np.hsplit(A234, 3)),
        (x.hsplit([1, -1]), np.hsplit(A234, [1, -1])),
        (gdl.hsplit(g64(A34[0]), 2), np.hsplit(A34[0], 2)),
        (x.vsplit([1]), np.vsplit(A234, [1])),
        (gdl.dsplit(x, 2), np.dsplit(A234, 2)),
        (x.split_with_sizes([2, 0, 1], dim=-2), np.split(A234, [2, 2], axis=1)),
    ]:
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t)
    gradcheck(lambda t: gdl.concat([p * (i + 1.0) for i, p in enumerate(gdl.dsplit(t, [1, 3]))], 2), [x])
    with pytest.raises(ValueError, match="hsplit: cannot split dimension 1 of size 3"):
        gdl.hsplit(x, 2)
    with pytest.raises(ValueError, match="vsplit: expects a tensor with at least 2"):
        gdl.vsplit(gdl.zeros(4), 2)
    with pytest.raises(ValueError, match="dsplit"):
        gdl.dsplit(gdl.zeros(2, 4), 2)
    with pytest.raises(ValueError, match="split: sizes"):
        x.split_with_sizes([1, 1], dim=0 - 1)
    with pytest.raises(TypeError, match="split_with_sizes"):
        x.split_with_sizes(2)


def test_reorder_ops_match_numpy(backend):
    x = g64(A234)
    same(x.ravel(), A234.ravel())
    same(gdl.msort(x), np.sort(A234, axis=0))
    same(x.fliplr(), np.fliplr(A234))
    same(gdl.flipud(x), np.flipud(A234))
    same(x.adjoint(), np.swapaxes(A234, -1, -2))
    for fn in (gdl.ravel, gdl.msort, gdl.fliplr, gdl.flipud, gdl.adjoint):
        gradcheck(fn, [g64(A234)])
    with pytest.raises(ValueError, match="fliplr"):
        gdl.fliplr(gdl.zeros(3))
    with pytest.raises(ValueError, match="flipud"):
        gdl.flipud(gdl.tensor(1.0))
    with pytest.raises(ValueError, match="adjoint: .*\\(3,\\)"):
        gdl.zeros(3).adjoint()


def test_argwhere_numel_unravel_index(backend):
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    same(gdl.argwhere(g64(a, grad=False)), np.argwhere(a))
    assert gdl.numel(gdl.zeros(2, 3, 4)) == 24
    rows, cols = gdl.unravel_index(gi([0, 5, -1, -6]), (2, 3))
    assert rows.dtype == gdl.int64
    same(rows, [0, 1, 1, 0])
    same(cols, [0, 2, 2, 0])
    with pytest.raises(IndexError, match="unravel_index: index 6 is out of range for shape"):
        gdl.unravel_index(gi([6]), (2, 3))
    with pytest.raises(TypeError, match="unravel_index: indices must be an integer"):
        gdl.unravel_index(gdl.tensor([1.0]), (2, 3))


# -- utilities ------------------------------------------------------------------------------------------


def test_predicates(backend):
    assert gdl.is_tensor(gdl.zeros(1)) and not gdl.is_tensor(np.zeros(1))
    assert gdl.is_floating_point(gdl.zeros(1)) and not gdl.is_floating_point(gdl.tensor([1]))
    assert not gdl.is_complex(gdl.zeros(1))
    assert gdl.is_nonzero(gdl.tensor([[2]])) and not gdl.is_nonzero(gdl.tensor(0.0))
    assert gdl.zeros(1).is_nonzero() is False
    assert gdl.is_same_size(gdl.zeros(2, 3), gdl.ones(2, 3)) and not gdl.zeros(2).is_same_size(gdl.zeros(3))
    with pytest.raises(ValueError, match="is_nonzero: .* 2 values"):
        gdl.is_nonzero(gdl.zeros(2))
    with pytest.raises(ValueError, match="no values"):
        gdl.is_nonzero(gdl.zeros(0))
    with pytest.raises(TypeError, match="is_floating_point"):
        gdl.is_floating_point(1.0)


def test_dtype_rules(backend):
    assert gdl.promote_types(gdl.int64, gdl.float16) == gdl.float16
    assert gdl.promote_types("uint8", "int8") == gdl.int16
    assert gdl.promote_types(gdl.bool_, gdl.uint8) == gdl.uint8
    assert gdl.result_type(gdl.tensor([1, 2]), 1.5) == gdl.float32
    assert gdl.result_type(gdl.tensor([1, 2], dtype=gdl.int32), gdl.tensor(7)) == gdl.int32
    assert gdl.result_type(gdl.tensor([1, 2], dtype=gdl.int32), gdl.tensor(7.0, dtype=gdl.float64)) == gdl.float64
    assert gdl.result_type(gdl.tensor([True]), 3) == gdl.int64
    assert gdl.can_cast(gdl.int8, gdl.float16) and not gdl.can_cast(gdl.float16, gdl.int64)
    assert not gdl.can_cast(gdl.int32, gdl.bool_)
    with pytest.raises(TypeError, match="promote_types"):
        gdl.promote_types("complex64", gdl.float32)
    with pytest.raises(TypeError, match="result_type"):
        gdl.result_type(gdl.zeros(1), "a")


def test_as_tensor_and_asarray(backend):
    x = gdl.zeros(3, requires_grad=True)
    assert gdl.as_tensor(x) is x
    y = gdl.as_tensor(x, dtype=gdl.float64)
    assert y.dtype == gdl.float64 and y.requires_grad  # a differentiable cast
    y.sum().backward()
    same(x.grad, np.ones(3))
    z = gdl.as_tensor([1, 2])
    assert z.dtype == gdl.int64 and z.backend == backend
    assert gdl.asarray(x) is x
    c = gdl.asarray(x, copy=True)
    assert c is not x and not c.requires_grad
    with pytest.raises(ValueError, match="asarray: copy=False"):
        gdl.asarray([1.0], copy=False)
    with pytest.raises(ValueError, match="asarray: copy=False"):
        gdl.asarray(x, dtype=gdl.float64, copy=False)
    leaf = gdl.asarray([1.0, 2.0], dtype=gdl.float64, requires_grad=True)
    assert leaf.requires_grad and leaf.grad_fn is None and leaf.dtype == gdl.float64
    shared = gdl.asarray(z.data)
    assert shared.data is z.data


# -- indexing -------------------------------------------------------------------------------------------


def test_diag_and_diagflat(backend):
    v = RNG.standard_normal(3)
    same(gdl.diag(g64(v)), np.diag(v))
    same(gdl.diag(g64(v), -2), np.diag(v, -2))
    same(g64(A34).diag(1), np.diag(A34, 1))
    same(gdl.diag(g64(A34), -5), np.diag(A34, -5))
    same(gdl.diagflat(g64(A34[:2, :2]), 1), np.diagflat(A34[:2, :2], 1))
    gradcheck(lambda t: gdl.diag(t, 1), [g64(v)])
    gradcheck(lambda t: t.diag(-1), [g64(A34)])
    gradcheck(lambda t: gdl.diagflat(t, -1), [g64(A34[:2])])
    with pytest.raises(ValueError, match=r"diag: expects a 1-d or 2-d tensor, got shape \(2, 3, 4\)"):
        gdl.diag(gdl.zeros(2, 3, 4))


def test_diagonal_select_slice_scatter(backend):
    x = g64(A34)
    src = RNG.standard_normal(3)
    want = A34.copy()
    want[np.arange(3), np.arange(3) + 1] = src
    same(gdl.diagonal_scatter(x, g64(src), 1), want)
    want = A34.copy()
    want[np.arange(2) + 1, np.arange(2)] = src[:2]
    same(x.diagonal_scatter(g64(src[:2]), -1), want)
    same(gdl.diagonal_scatter(x, g64(np.zeros(0)), 4), A34)
    gradcheck(lambda a, s: gdl.diagonal_scatter(a, s, -1), [g64(A34), g64(src[:2])])
    want = A234.copy()
    want[:, :, -1] = A34[:2, :3]
    same(gdl.select_scatter(g64(A234), g64(A34[:2, :3]), -1, -1), want)
    gradcheck(lambda a, s: a.select_scatter(s, 1, -2), [g64(A234), g64(A34[:2])])
    want = A34.copy()
    want[:, 1::2] = A34[:, :2] * 3
    same(gdl.slice_scatter(x, g64(A34[:, :2] * 3), dim=1, start=1, step=2), want)
    same(x.slice_scatter(g64(np.zeros((0, 4))), start=5), A34)
    gradcheck(lambda a, s: a.slice_scatter(s, dim=-1, start=-3, end=-1), [g64(A34), g64(A34[:, :2])])
    with pytest.raises(ValueError, match=r"diagonal_scatter: src of shape \(2,\) should have the diagonal's shape \(3,\)"):
        gdl.diagonal_scatter(x, g64(src[:2]), 1)
    with pytest.raises(IndexError, match="select_scatter: index 3 is out of range"):
        gdl.select_scatter(x, g64(src), 0, 3)
    with pytest.raises(ValueError, match="slice_scatter: src of shape"):
        gdl.slice_scatter(x, g64(A34), start=1)
    with pytest.raises(ValueError, match="slice_scatter: step"):
        gdl.slice_scatter(x, g64(A34), step=0)
    with pytest.raises(TypeError, match="select_scatter: src has dtype float32"):
        gdl.select_scatter(x, gdl.zeros(4), 0, 0)


def test_isin(backend):
    e = gdl.tensor([[1, 5, 2], [7, 2, 0]])
    same(gdl.isin(e, gdl.tensor([2, 7, 9])), [[False, False, True], [True, True, False]])
    same(gdl.isin(e, 2, invert=True), [[True, True, False], [True, False, True]])
    same(gdl.isin(2, e), True)
    same(gdl.isin(gdl.tensor([1.0, 2.5, float("nan")]), gdl.tensor([2.5, float("nan")])), [False, True, False])
    same(gdl.isin(e, gdl.tensor([], dtype=gdl.int64)), np.zeros((2, 3), bool))
    same(gdl.isin(gdl.tensor([1.0, 2.0]), gdl.tensor([2, 3])), [False, True])
    with pytest.raises(TypeError, match="isin"):
        gdl.isin(1, 2)


def test_index_copy_and_index_fill(backend):
    x = g64(A34)
    src = RNG.standard_normal((3, 2))
    want = A34.copy()
    want[:, 3] = src[:, 0]
    want[:, 0] = src[:, 1]
    same(x.index_copy(1, gi([3, 0]), g64(src)), want)
    gradcheck(lambda a, s: gdl.index_copy(a, 1, gi([3, 0]), s), [g64(A34), g64(src)])
    # a repeated index keeps the last slice; every slice gets the gradient at its index
    dup = gdl.index_copy(g64(A34), 0, gi([1, 1]), g64(A34[:2] * 10))
    same(dup[1], A34[1] * 10)
    s = g64(A34[:2])
    gdl.index_copy(g64(A34, grad=False), 0, gi([1, 1]), s).sum().backward()
    same(s.grad, np.ones((2, 4)))
    want = A34.copy()
    want[:, [1, 3]] = -1.0
    same(x.index_fill(1, gi([1, -1, 1]), -1.0), want)
    gradcheck(lambda a: a.index_fill(-1, gi([0, 0, 2]), 3.0), [g64(A34)])
    v = g64(np.array(0.5))
    gradcheck(lambda a, val: gdl.index_fill(a, 0, gi([2, 0, 2]), val), [g64(A34), v])
    same(gdl.tensor([1, 2, 3]).index_fill(0, gi([0]), 9), [9, 2, 3])
    with pytest.raises(IndexError, match="index_copy: index 4 is out of range for dimension 1 of size 4"):
        x.index_copy(1, gi([4, 0]), g64(src))
    with pytest.raises(IndexError, match="index_copy: index -1"):
        x.index_copy(1, gi([-1, 0]), g64(src))
    with pytest.raises(ValueError, match=r"index_copy: source of shape \(3, 2\) should have shape \(3, 3\)"):
        x.index_copy(1, gi([1, 2, 0]), g64(src))
    with pytest.raises(IndexError, match="index_fill: index -5"):
        x.index_fill(1, gi([-5]), 1.0)
    with pytest.raises(TypeError, match="index_fill: index must be an integer tensor"):
        x.index_fill(1, gdl.tensor([1.0]), 1.0)


def test_index_put_and_put(backend):
    x = g64(A34)
    v = RNG.standard_normal(3)
    want = A34.copy()
    want[[0, 2, -1], [1, -1, 0]] = v
    same(x.index_put((gi([0, 2, -1]), gi([1, -1, 0])), g64(v)), want)
    gradcheck(lambda a, b: a.index_put((gi([0, 2, -1]), gi([1, -1, 0])), b), [g64(A34), g64(v)])
    want = A34.copy()
    np.add.at(want, [0, 0, 2], A34[0])
    same(gdl.index_put(x, (gi([0, 0, 2]),), g64(A34[0]), accumulate=True), want)
    gradcheck(lambda a, b: gdl.index_put(a, (gi([0, 0, 2]),), b, accumulate=True), [g64(A34), g64(A34[0])])
    mask = A34 > 0
    want = A34.copy()
    want[mask] = 2.0
    same(x.index_put((gdl.tensor(mask),), g64(np.array(2.0))), want)
    # a repeated index keeps the last value
    same(gdl.index_put(gdl.zeros(3), (gi([1, 1, 1]),), gdl.tensor([1.0, 2.0, 3.0])), [0.0, 3.0, 0.0])
    want = A34.copy().ravel()
    want[[5, -1]] = [7.0, 8.0]
    same(x.put(gi([[5], [-1]]), g64(np.array([[7.0], [8.0]]))), want.reshape(3, 4))
    want = A34.copy().ravel()
    np.add.at(want, [5, 5, 0], v)
    same(gdl.put(x, gi([5, 5, 0]), g64(v), accumulate=True), want.reshape(3, 4))
    gradcheck(lambda a, b: gdl.put(a, gi([5, -1, 0]), b), [g64(A34), g64(v)])
    same(gdl.tensor([1, 2, 3]).index_put((gi([0, 0]),), gdl.tensor([5, 6]), accumulate=True), [12, 2, 3])
    with pytest.raises(IndexError, match="index_put: index 3 is out of range for dimension 0 of size 3"):
        x.index_put((gi([3]),), g64(A34[0]))
    with pytest.raises(ValueError, match=r"index_put: values of shape \(3,\) do not broadcast to the indexed shape \(2, 4\)"):
        x.index_put((gi([0, 1]),), g64(v))
    with pytest.raises(TypeError, match="index_put: indices must be a tuple"):
        x.index_put(gi([0]), g64(A34[0]))
    with pytest.raises(ValueError, match="put: index of shape"):
        x.put(gi([0, 1]), g64(v))


def test_masked_scatter(backend):
    mask = A34 > 0
    src = RNG.standard_normal(14)
    want = A34.copy()
    want[mask] = src[: mask.sum()]
    same(g64(A34).masked_scatter(gdl.tensor(mask), g64(src)), want)
    gradcheck(lambda a, s: gdl.masked_scatter(a, gdl.tensor(mask), s), [g64(A34), g64(src)])
    row = gdl.tensor([True, False, True, False])
    out = gdl.masked_scatter(g64(np.zeros((2, 1))), row, g64(np.arange(4.0)))
    same(out, [[0.0, 0.0, 1.0, 0.0], [2.0, 0.0, 3.0, 0.0]])
    gradcheck(lambda a, s: gdl.masked_scatter(a, row, s), [g64(np.zeros((2, 1))), g64(np.arange(5.0))])
    with pytest.raises(ValueError, match="masked_scatter: source of shape \\(2,\\) has 2 elements, fewer than the 3"):
        gdl.masked_scatter(gdl.zeros(3), gdl.tensor([True, True, True]), gdl.zeros(2))
    with pytest.raises(TypeError, match="masked_scatter: mask must be a bool tensor"):
        gdl.masked_scatter(gdl.zeros(3), gdl.tensor([1, 0, 1]), gdl.zeros(3))


def _np_scatter_reduce(x, d, index, src, reduce, include_self):
    out = x.copy()
    groups = {}
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[d] = index[pos]
        groups.setdefault(tuple(target), []).append(src[pos])
    fn = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
    for target, vals in groups.items():
        vals = ([x[target]] if include_self else []) + vals
        out[target] = fn(vals)
    return out


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients(backend, reduce, include_self):
    x = RNG.standard_normal((3, 4))
    src = RNG.standard_normal((3, 5))
    index = np.array([[0, 3, 3, 1, 3], [2, 2, 2, 2, 0], [1, 1, 0, 3, 3]])
    for d, idx in ((1, index), (-2, index[:, :4] % 3)):
        want = _np_scatter_reduce(x, d % 2, idx, src, reduce, include_self)
        out = gdl.scatter_reduce(g64(x), d, gi(idx), g64(src), reduce, include_self=include_self)
        same(out, want)
        gradcheck(lambda a, s, d=d, idx=idx: a.scatter_reduce(d, gi(idx), s, reduce, include_self=include_self),
                  [g64(x), g64(src)])


def test_scatter_reduce_prod_with_zeros_and_ties(backend):
    x = g64(np.array([2.0, 0.0, 3.0, 5.0]))
    src = g64(np.array([0.0, 4.0, 0.0, 0.0, 7.0, 1.5]))
    index = gi([0, 0, 1, 1, 2, 1])
    out = x.scatter_reduce(0, index, src, "prod")
    same(out, [0.0, 0.0, 21.0, 5.0])
    out.backward(gdl.tensor([1.0, 1.0, 1.0, 1.0], dtype=gdl.float64))
    same(x.grad, [0.0, 0.0, 7.0, 1.0])  # x[0]: 0 * 4; x[1] meets two zeros
    same(src.grad, [8.0, 0.0, 0.0, 0.0, 3.0, 0.0])  # the single zero gets the product of the others
    # ties share the gradient of amax evenly (the old value among them)
    x = g64(np.array([3.0, 1.0]))
    src = g64(np.array([3.0, 3.0, 0.5]))
    out = gdl.scatter_reduce(x, 0, gi([0, 0, 1]), src, "amax")
    out.sum().backward()
    same(x.grad, [1 / 3, 1.0])
    same(src.grad, [1 / 3, 1 / 3, 0.0])


def test_scatter_reduce_integers_and_errors(backend):
    x = gdl.tensor([10, 20, 30])
    out = x.scatter_reduce(0, gi([0, 0, 2]), gdl.tensor([1, 2, 4]), "mean")
    same(out, [4, 20, 17])  # floor division, as torch
    assert out.dtype == gdl.int64
    same(x.scatter_reduce(0, gi([2, 2]), gdl.tensor([40, 5]), "amax", include_self=False), [10, 20, 40])
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be one of"):
        x.scatter_reduce(0, gi([0]), gdl.tensor([1]), "max")
    with pytest.raises(IndexError, match="scatter_reduce: index 3 is out of range"):
        x.scatter_reduce(0, gi([3]), gdl.tensor([1]), "sum")
    with pytest.raises(TypeError, match="scatter_reduce: src has dtype float32"):
        x.scatter_reduce(0, gi([0]), gdl.tensor([1.0]), "sum")
    with pytest.raises(ValueError, match="scatter_reduce: index of shape"):
        x.scatter_reduce(0, gi([[0]]), gdl.tensor([1]), "sum")


# -- linear algebra ------------------------------------------------------------------------------------------


def test_products_match_numpy(backend):
    a, b = A234, RNG.standard_normal((5, 4))
    same(gdl.inner(g64(a), g64(b)), np.inner(a, b))
    same(gdl.inner(g64(np.array(2.0)), g64(a)), 2 * a)
    gradcheck(gdl.inner, [g64(a), g64(b)])
    v, w = RNG.standard_normal(4), RNG.standard_normal(4)
    same(g64(v).vdot(g64(w)), np.vdot(v, w))
    gradcheck(gdl.vdot, [g64(v), g64(w)])
    b1, b2, inp = RNG.standard_normal((3, 2, 5)), RNG.standard_normal((3, 5, 4)), RNG.standard_normal(4)
    same(gdl.addbmm(g64(inp), g64(b1), g64(b2), beta=0.5, alpha=2.0), 0.5 * inp + 2.0 * np.einsum("bij,bjk->ik", b1, b2))
    gradcheck(lambda i, p, q: gdl.addbmm(i, p, q, beta=0.5, alpha=2.0), [g64(inp), g64(b1), g64(b2)])
    v3 = RNG.standard_normal(3)
    same(gdl.addr(g64(A34), g64(v3), g64(v), beta=2.0), 2.0 * A34 + np.outer(v3, v))
    gradcheck(lambda i, p, q: i.addr(p, q, alpha=-1.5), [g64(A34), g64(v3), g64(v)])
    mats = [RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))]
    same(gdl.chain_matmul(*[g64(m) for m in mats]), mats[0] @ mats[1] @ mats[2])
    gradcheck(lambda *ms: gdl.chain_matmul(*ms), [g64(m) for m in mats])
    one = g64(A34)
    assert gdl.chain_matmul(one) is not one
    with pytest.raises(ValueError, match=r"inner: the last dimensions must match, got shapes \(2, 3, 4\) and \(3,\)"):
        gdl.inner(g64(a), g64(v3))
    with pytest.raises(TypeError, match="vdot: both vectors must have one dtype"):
        gdl.vdot(gdl.zeros(2), g64(np.zeros(2)))
    with pytest.raises(ValueError, match="addbmm: batches of shapes"):
        gdl.addbmm(g64(inp), g64(b1), g64(b2[:2]))
    with pytest.raises(ValueError, match="addr: expects 1-D and 1-D"):
        gdl.addr(g64(A34), g64(A34), g64(v))
    with pytest.raises(ValueError, match="chain_matmul: every matrix must be 2-d"):
        gdl.chain_matmul(g64(A34), g64(v))


def test_vander(backend):
    x = RNG.standard_normal(4)
    same(gdl.vander(g64(x)), np.vander(x))
    same(gdl.vander(g64(x), N=2, increasing=True), np.vander(x, 2, increasing=True))
    assert gdl.vander(g64(x), N=0).shape == (4, 0)
    ints = gdl.vander(gdl.tensor([1, 2, 3], dtype=gdl.int32))
    assert ints.dtype == gdl.int64
    same(ints, np.vander([1, 2, 3]))
    gradcheck(lambda t: gdl.vander(t, N=5), [g64(x)])
    with pytest.raises(ValueError, match="vander: x must be 1-d"):
        gdl.vander(g64(A34))
    with pytest.raises(ValueError, match="vander: N must be a non-negative int"):
        gdl.vander(g64(x), N=-1)


def test_cov_and_corrcoef(backend):
    f, aw = np.array([1, 3, 0, 2]), np.array([0.5, 1.0, 2.0, 0.25])
    same(gdl.cov(g64(A34)), np.cov(A34))
    same(g64(A34[0]).cov(correction=0), np.cov(A34[0], ddof=0))
    same(gdl.cov(g64(A34), correction=2, fweights=gi(f), aweights=g64(aw)), np.cov(A34, ddof=2, fweights=f, aweights=aw))
    ints = gdl.cov(gdl.tensor([[1, 2, 4], [3, 1, 0]]))
    assert ints.dtype == gdl.float32  # integers become the default float dtype
    np.testing.assert_allclose(ints.numpy(), np.cov([[1, 2, 4], [3, 1, 0]]), rtol=1e-6)
    gradcheck(lambda t, w: gdl.cov(t, fweights=gi(f), aweights=w), [g64(A34), g64(aw)])
    same(gdl.corrcoef(g64(A34)), np.corrcoef(A34))
    same(g64(A34[1]).corrcoef(), 1.0)
    gradcheck(gdl.corrcoef, [g64(A34)])
    with pytest.raises(ValueError, match=r"cov: expects a tensor with at most 2 dimensions, got shape \(2, 3, 4\)"):
        gdl.cov(g64(A234))
    with pytest.raises(ValueError, match="cov: fweights must be 1-d with 4 elements"):
        gdl.cov(g64(A34), fweights=gi([1, 2]))
    with pytest.raises(TypeError, match="cov: fweights must be an integer tensor"):
        gdl.cov(g64(A34), fweights=g64(aw))
    with pytest.raises(TypeError, match="cov: aweights must be a floating tensor"):
        gdl.cov(g64(A34), aweights=gi(f))
    with pytest.raises(ValueError, match="cov: aweights must not be negative"):
        gdl.cov(g64(A34), aweights=g64(-aw))


def test_dist_and_renorm(backend):
    a, b = A34, RNG.standard_normal(4)
    for p, ref in ((2, lambda d: np.sqrt((d**2).sum())), (1, lambda d: np.abs(d).sum()),
                   (float("inf"), lambda d: np.abs(d).max()), (0, lambda d: float((d != 0).sum())),
                   (3.5, lambda d: (np.abs(d) ** 3.5).sum() ** (1 / 3.5))):
        same(gdl.dist(g64(a), g64(b), p), ref(a - b))
        if p:
            gradcheck(lambda x, y, p=p: x.dist(y, p), [g64(a), g64(b)])
    norms = np.sqrt((A34**2).sum(axis=1, keepdims=True))
    want = A34 * np.where(norms > 1.5, 1.5 / (norms + 1e-7), 1.0)
    same(g64(A34).renorm(2, 0, 1.5), want)
    same(gdl.renorm(g64(A34), 1, -1, 100.0), A34)
    gradcheck(lambda t: t.renorm(2, 1, 1.0), [g64(A34)])
    gradcheck(lambda t: gdl.renorm(t, 3, 0, 0.5), [g64(A234)])
    with pytest.raises(ValueError, match="renorm: p must be a positive number"):
        gdl.renorm(g64(A34), 0, 0, 1.0)
    with pytest.raises(ValueError, match="renorm: maxnorm must be a non-negative"):
        gdl.renorm(g64(A34), 2, 0, -1.0)
    with pytest.raises(ValueError, match="renorm: axis 2 is out of range"):
        gdl.renorm(g64(A34), 2, 2, 1.0)


def _np_expm(a):
    """exp(a) by eigendecomposition (a reference for diagonalizable ``a``)."""
    w, v = np.linalg.eig(a)
    return np.real(v @ np.diag(np.exp(w)) @ np.linalg.inv(v))


def test_matrix_power_and_matrix_exp(backend):
    a = RNG.standard_normal((3, 3))
    same(gdl.matrix_power(g64(a), 3), a @ a @ a)
    same(gdl.matrix_power(g64(a), 0), np.eye(3))
    gradcheck(lambda t: gdl.matrix_power(t, 2), [g64(a)])
    sym = a + a.T
    same(gdl.matrix_exp(g64(sym)), _np_expm(sym))
    batch = RNG.standard_normal((2, 3, 3)) * 3
    np.testing.assert_allclose(gdl.matrix_exp(g64(batch)).numpy(), np.stack([_np_expm(m) for m in batch]),
                               rtol=1e-9, atol=1e-9)
    same(g64(np.array([[0.0, 1.0], [0.0, 0.0]])).matrix_exp(), [[1.0, 1.0], [0.0, 1.0]])
    gradcheck(gdl.matrix_exp, [g64(a)])
    gradcheck(gdl.matrix_exp, [g64(batch[:1] * 0.7)])
    with pytest.raises(ValueError, match=r"matrix_exp: expects a square matrix or a batch of them, got shape \(3, 4\)"):
        gdl.matrix_exp(g64(A34))
    with pytest.raises(TypeError, match="matrix_exp: expects a floating tensor, got dtype int64"):
        gdl.matrix_exp(gdl.tensor([[1]]))
    with pytest.raises(TypeError, match="matrix_power: n must be an int"):
        gdl.matrix_power(g64(a), 1.5)


def test_methods_are_attached():
    for name in ("adjoint", "argwhere", "dsplit", "fliplr", "flipud", "hsplit", "is_nonzero", "is_same_size", "msort",
                 "ravel", "split_with_sizes", "vsplit", "diag", "diagflat", "diagonal_scatter", "index_copy",
                 "index_fill", "index_put", "put", "masked_scatter", "scatter_reduce", "select_scatter",
                 "slice_scatter", "addbmm", "addr", "corrcoef", "cov", "dist", "inner", "matrix_exp", "renorm",
                 "vdot"):
        assert getattr(gdl.Tensor, name) is getattr(gdl, name), name
