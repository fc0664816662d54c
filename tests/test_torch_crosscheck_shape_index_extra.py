"""The ops of ``shape_extra``, ``indexing_extra`` and ``linalg_extra`` cross-checked against
PyTorch (skipped when torch is not installed): values, dtypes and gradients in float64,
duplicate and negative indices, hypothesis-drawn shapes for the scatter ops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402

RNG = np.random.default_rng(3)


def gi(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def ti(a):
    return torch.tensor(np.asarray(a, dtype=np.int64))


def check(fg, ft, *arrays_, msg=""):
    """Values, dtypes and every input's gradient of ``fg`` (gdl) and ``ft`` (torch) agree."""
    gs = [g64(a, grad=True) for a in arrays_]
    ts = [t64(a, grad=True) for a in arrays_]
    y, yt = fg(*gs), ft(*ts)
    ys, yts = (list(y), list(yt)) if isinstance(yt, (tuple, list)) else ([y], [yt])
    assert len(ys) == len(yts), msg
    gsum = tsum = None
    for i, (a, b) in enumerate(zip(ys, yts)):
        close(a, b, f"{msg}: output {i}")
        assert a.dtype.name == str(b.dtype).removeprefix("torch."), msg
        w = np.random.default_rng(i).standard_normal(tuple(b.shape))
        ga, tb = (a * g64(w)).sum(), (b * t64(w)).sum()
        gsum, tsum = (ga, tb) if gsum is None else (gsum + ga, tsum + tb)
    gsum.backward()
    tsum.backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"{msg}: input {i}"
        else:
            assert g.grad is not None, f"{msg}: input {i} got no gradient"
            close(g.grad, t.grad, f"{msg}: grad of input {i}")


A34 = RNG.standard_normal((3, 4))
A234 = RNG.standard_normal((2, 3, 4))
V3 = RNG.standard_normal(3)
V4 = RNG.standard_normal(4)

# name: (gdl fn, torch fn, input arrays); every gdl fn spells the call as torch does
CASES = {
    "atleast_1d(0-d)": (lambda x: gdl.atleast_1d(x), lambda t: torch.atleast_1d(t), [np.array(2.0)]),
    "atleast_2d(1-d)": (lambda x: gdl.atleast_2d(x), lambda t: torch.atleast_2d(t), [V3]),
    "atleast_3d(1-d, 2-d)": (lambda a, b: gdl.atleast_3d(a, b), lambda a, b: torch.atleast_3d(a, b), [V3, A34]),
    "atleast_3d([0-d])": (lambda a: gdl.atleast_3d([a]), lambda a: torch.atleast_3d([a]), [np.array(1.5)]),
    "broadcast_tensors": (
        lambda a, b: gdl.broadcast_tensors(a, b), lambda a, b: torch.broadcast_tensors(a, b),
        [RNG.standard_normal((3, 1)), V4],
    ),
    "column_stack": (
        lambda a, b, c: gdl.column_stack([a, b, c]), lambda a, b, c: torch.column_stack([a, b, c]),
        [V3, RNG.standard_normal((3, 2)), V3],
    ),
    "row_stack": (lambda a, b: gdl.row_stack([a, b]), lambda a, b: torch.row_stack([a, b]), [V4, A34]),
    "dstack": (lambda a, b: gdl.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [A34, A34 * 2]),
    "dstack(1-d)": (lambda a, b: gdl.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [V3, V3 + 1]),
    "hsplit(int)": (lambda x: gdl.hsplit(x, 2), lambda t: torch.hsplit(t, 2), [A34]),
    "hsplit(list)": (lambda x: x.hsplit([1, 3]), lambda t: t.hsplit([1, 3]), [A234]),
    "hsplit(1-d)": (lambda x: gdl.hsplit(x, [-1]), lambda t: torch.hsplit(t, [-1]), [V4]),
    "vsplit": (lambda x: x.vsplit(3), lambda t: t.vsplit(3), [A34]),
    "dsplit": (lambda x: gdl.dsplit(x, [1, 1, 3]), lambda t: torch.dsplit(t, [1, 1, 3]), [A234]),
    "ravel": (lambda x: x.ravel(), lambda t: t.ravel(), [A234]),
    "msort": (lambda x: gdl.msort(x), lambda t: torch.msort(t), [A34]),
    "fliplr": (lambda x: x.fliplr(), lambda t: t.fliplr(), [A234]),
    "flipud": (lambda x: gdl.flipud(x), lambda t: torch.flipud(t), [A34]),
    "split_with_sizes": (
        lambda x: x.split_with_sizes([1, 0, 3], dim=-1), lambda t: t.split_with_sizes([1, 0, 3], dim=-1), [A34],
    ),
    "adjoint": (lambda x: x.adjoint(), lambda t: t.adjoint(), [A234]),
    "diag(1-d, -1)": (lambda x: gdl.diag(x, -1), lambda t: torch.diag(t, -1), [V3]),
    "diag(2-d, 1)": (lambda x: x.diag(1), lambda t: t.diag(1), [A34]),
    "diag(2-d, -2)": (lambda x: x.diag(-2), lambda t: t.diag(-2), [A34]),
    "diagflat": (lambda x: gdl.diagflat(x, 2), lambda t: torch.diagflat(t, 2), [RNG.standard_normal((2, 2))]),
    "diagonal_scatter": (
        lambda x, s: gdl.diagonal_scatter(x, s, 1), lambda x, s: torch.diagonal_scatter(x, s, 1),
        [A34, RNG.standard_normal(3)],
    ),
    "diagonal_scatter(-1, dims)": (
        lambda x, s: x.diagonal_scatter(s, -1, 2, 0), lambda x, s: x.diagonal_scatter(s, -1, 2, 0),
        [A234, RNG.standard_normal((3, 2))],
    ),
    "select_scatter": (
        lambda x, s: gdl.select_scatter(x, s, -1, -2), lambda x, s: torch.select_scatter(x, s, -1, -2),
        [A234, RNG.standard_normal((2, 3))],
    ),
    "slice_scatter": (
        lambda x, s: x.slice_scatter(s, dim=1, start=-3, end=None, step=2),
        lambda x, s: x.slice_scatter(s, dim=1, start=-3, end=None, step=2),
        [A34, RNG.standard_normal((3, 2))],
    ),
    "index_copy(dup)": (
        lambda x, s: x.index_copy(1, gi([3, 0, 3]), s), lambda x, s: x.index_copy(1, ti([3, 0, 3]), s),
        [A34, RNG.standard_normal((3, 3))],
    ),
    "index_fill(number)": (
        lambda x: x.index_fill(-1, gi([1, -1, 1]), -2.5), lambda t: t.index_fill(-1, ti([1, -1, 1]), -2.5), [A34],
    ),
    "index_fill(0-d tensor)": (
        lambda x, v: gdl.index_fill(x, 0, gi([2, 0, 2]), v), lambda x, v: torch.index_fill(x, 0, ti([2, 0, 2]), v),
        [A34, np.array(0.7)],
    ),
    "index_put": (
        lambda x, v: x.index_put((gi([0, 1, 0]), gi([[1], [-1]])), v),
        lambda x, v: x.index_put((ti([0, 1, 0]), ti([[1], [-1]])), v),
        [A234, RNG.standard_normal((2, 1, 4))],
    ),
    "index_put(accumulate)": (
        lambda x, v: gdl.index_put(x, (gi([0, 2, 0, 0]),), v, accumulate=True),
        lambda x, v: torch.index_put(x, (ti([0, 2, 0, 0]),), v, accumulate=True),
        [A34, V4],
    ),
    "index_put(bool mask)": (
        lambda x, v: x.index_put((gdl.tensor(A34 > 0),), v), lambda x, v: x.index_put((torch.tensor(A34 > 0),), v),
        [A34, np.array(3.0)],
    ),
    "put": (
        lambda x, s: x.put(gi([[5, -1], [0, 5]]), s), lambda x, s: x.put(ti([[5, -1], [0, 5]]), s),
        [A34, RNG.standard_normal((2, 2))],
    ),
    "put(accumulate)": (
        lambda x, s: gdl.put(x, gi([5, -1, 5]), s, accumulate=True),
        lambda x, s: torch.put(x, ti([5, -1, 5]), s, accumulate=True),
        [A34, V3],
    ),
    "masked_scatter": (
        lambda x, s: x.masked_scatter(gdl.tensor(A34 > 0), s), lambda x, s: x.masked_scatter(torch.tensor(A34 > 0), s),
        [A34, RNG.standard_normal(14)],
    ),
    "masked_scatter(broadcast)": (
        lambda x, s: gdl.masked_scatter(x, gdl.tensor([[True], [False], [True]]), s),
        lambda x, s: torch.masked_scatter(x, torch.tensor([[True], [False], [True]]), s),
        [V4, RNG.standard_normal((3, 3))],
    ),
    "inner": (lambda a, b: gdl.inner(a, b), lambda a, b: torch.inner(a, b), [A234, A34]),
    "inner(0-d)": (lambda a, b: a.inner(b), lambda a, b: a.inner(b), [np.array(2.0), A34]),
    "vdot": (lambda a, b: a.vdot(b), lambda a, b: a.vdot(b), [V4, V4[::-1].copy()]),
    # (torch.vander's own backward fails: it writes in place into what it saved; powers give its values)
    "vander": (lambda x: gdl.vander(x), lambda t: t[:, None] ** torch.arange(2, -1, -1), [V3]),
    "vander(N, increasing)": (lambda x: gdl.vander(x, N=5, increasing=True), lambda t: t[:, None] ** torch.arange(5),
                              [V4]),
    "cov": (lambda x: gdl.cov(x), lambda t: torch.cov(t), [A34]),
    "cov(1-d, correction=0)": (lambda x: x.cov(correction=0), lambda t: t.cov(correction=0), [V4]),
    "cov(aweights)": (
        lambda x, w: gdl.cov(x, correction=2, fweights=gi([1, 3, 0, 2]), aweights=w),
        lambda x, w: torch.cov(x, correction=2, fweights=ti([1, 3, 0, 2]), aweights=w),
        [A34, np.array([0.5, 1.0, 2.0, 0.25])],
    ),
    "cov(fweights)": (
        lambda x: gdl.cov(x, fweights=gi([1, 3, 1, 2])), lambda t: torch.cov(t, fweights=ti([1, 3, 1, 2])), [A34],
    ),
    "corrcoef": (lambda x: x.corrcoef(), lambda t: t.corrcoef(), [A34]),
    "corrcoef(1-d)": (lambda x: gdl.corrcoef(x), lambda t: torch.corrcoef(t), [V4]),
    "dist": (lambda a, b: gdl.dist(a, b), lambda a, b: torch.dist(a, b), [A34, V4]),
    "dist(p=3)": (lambda a, b: a.dist(b, 3), lambda a, b: a.dist(b, 3), [A34, A34[::-1].copy()]),
    "dist(p=inf)": (lambda a, b: a.dist(b, float("inf")), lambda a, b: a.dist(b, float("inf")), [V4, V4 * 0.5]),
    "dist(p=1)": (lambda a, b: gdl.dist(a, b, p=1), lambda a, b: torch.dist(a, b, p=1), [V3, V3 * -2]),
    "renorm": (lambda x: x.renorm(2, 0, 1.5), lambda t: t.renorm(2, 0, 1.5), [A34]),
    "renorm(p=1, dim=-1)": (lambda x: gdl.renorm(x, 1, -1, 2.0), lambda t: torch.renorm(t, 1, -1, 2.0), [A234]),
    "matrix_power": (lambda x: gdl.matrix_power(x, 3), lambda t: torch.matrix_power(t, 3), [A34[:, :3]]),
    "matrix_power(-2)": (
        lambda x: gdl.matrix_power(x, -2), lambda t: torch.matrix_power(t, -2), [A34[:, :3] + 3 * np.eye(3)],
    ),
    "matrix_exp": (lambda x: x.matrix_exp(), lambda t: t.matrix_exp(), [A34[:, :3]]),
    "matrix_exp(batch, large)": (
        lambda x: gdl.matrix_exp(x), lambda t: torch.matrix_exp(t), [RNG.standard_normal((2, 3, 3)) * 4],
    ),
    "addbmm": (
        lambda i, a, b: gdl.addbmm(i, a, b, beta=0.5, alpha=2.0),
        lambda i, a, b: torch.addbmm(i, a, b, beta=0.5, alpha=2.0),
        [V4, RNG.standard_normal((2, 3, 5)), RNG.standard_normal((2, 5, 4))],
    ),
    "addbmm(method)": (
        lambda i, a, b: i.addbmm(a, b), lambda i, a, b: i.addbmm(a, b),
        [A34, RNG.standard_normal((4, 3, 2)), RNG.standard_normal((4, 2, 4))],
    ),
    "addr": (
        lambda i, a, b: gdl.addr(i, a, b, beta=-1.0, alpha=3.0), lambda i, a, b: torch.addr(i, a, b, beta=-1.0, alpha=3.0),
        [A34, V3, V4],
    ),
    "addr(method, broadcast)": (lambda i, a, b: i.addr(a, b), lambda i, a, b: i.addr(a, b), [V4, V3, V4]),
    "chain_matmul": (
        lambda a, b, c: gdl.chain_matmul(a, b, c), lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
        [A34, RNG.standard_normal((4, 2)), RNG.standard_normal((2, 5))],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    fg, ft, arrays_ = CASES[name]
    check(fg, ft, *arrays_, msg=name)


def test_matrix_exp_of_zero_norm_and_nilpotent():
    for a in (np.zeros((3, 3)), np.triu(RNG.standard_normal((4, 4)), 1) * 10):
        close(gdl.matrix_exp(g64(a)), torch.matrix_exp(t64(a)), "matrix_exp", rtol=1e-12, atol=1e-10)


# -- scatter_reduce over drawn shapes, indices and reductions ------------------------------------------


@st.composite
def scatter_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(draw(st.integers(1, s + 2)) if a == d % len(shape) else draw(st.integers(1, s))
                   for a, s in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    # few distinct values, zeros included: ties for amax/amin, zeros for prod
    x = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-2.0, -0.5, 0.0, 1.0, 1.5, 3.0])))
    src = draw(hnp.arrays(np.float64, ishape, elements=st.sampled_from([-2.0, -0.5, 0.0, 1.0, 1.5, 3.0])))
    return x, d, index, src


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@SETTINGS(15)
@given(case=scatter_case())
def test_scatter_reduce_matches_torch(reduce, include_self, case):
    x, d, index, src = case
    check(
        lambda a, s: a.scatter_reduce(d, gi(index), s, reduce, include_self=include_self),
        lambda a, s: a.scatter_reduce(d, ti(index), s, reduce, include_self=include_self),
        x, src, msg=f"scatter_reduce {reduce} include_self={include_self}",
    )


def test_scatter_reduce_src_larger_than_index_and_many_duplicates():
    """torch's backward fails when src is larger than index: it gets the used corner of src,
    gdl the whole src (whose unused part must get zero gradient)."""
    x = RNG.standard_normal((2, 5))
    src = RNG.standard_normal((3, 6))
    index = np.array([[4, 4, 4, 4, 0], [1, 1, 1, 1, 1]])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        check(lambda a, s, r=reduce: gdl.scatter_reduce(a, 1, gi(index), s, r),
              lambda a, s, r=reduce: torch.scatter_reduce(a, 1, ti(index), s, r), x, src[:2, :5], msg=reduce)
        s = g64(src, grad=True)
        y = gdl.scatter_reduce(g64(x), 1, gi(index), s, reduce)
        y.sum().backward()
        assert not np.any(s.grad.numpy()[2:]) and not np.any(s.grad.numpy()[:, 5:])
        close(y, torch.scatter_reduce(t64(x), 1, ti(index), t64(src), reduce), reduce)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_integer_values_match_torch(reduce):
    x = np.array([[5, -3, 7], [2, 9, -4]])
    src = np.array([[1, 8, -6], [3, -2, 4]])
    index = np.array([[0, 0, 2], [1, 0, 0]])
    for include_self in (True, False):
        ours = gdl.scatter_reduce(gi(x), 1, gi(index), gi(src), reduce, include_self=include_self)
        theirs = torch.scatter_reduce(ti(x), 1, ti(index), ti(src), reduce, include_self=include_self)
        assert ours.dtype == gdl.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# -- no-gradient ops and utilities ---------------------------------------------------------------------------


@SETTINGS(20)
@given(
    elements=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5), elements=st.integers(-4, 4)),
    tests=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
                     elements=st.integers(-4, 4)),
    invert=st.booleans(),
)
def test_isin_matches_torch(elements, tests, invert):
    ours = gdl.isin(gi(elements), gi(tests), invert=invert)
    theirs = torch.isin(ti(elements), ti(tests), invert=invert)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = gdl.isin(gi(elements).astype(gdl.float64), 2)
    np.testing.assert_array_equal(ours.numpy(), torch.isin(ti(elements).double(), 2).numpy())


def test_unravel_index_and_argwhere_match_torch():
    idx = np.array([[0, 7], [-1, 23]])
    for ours, theirs in zip(gdl.unravel_index(gi(idx), (2, 3, 4)), torch.unravel_index(ti(idx), (2, 3, 4))):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    np.testing.assert_array_equal(gdl.argwhere(g64(a)).numpy(), torch.argwhere(t64(a)).numpy())


NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_promote_types_and_can_cast_match_torch_for_every_pair():
    for a in NAMES:
        for b in NAMES:
            ta, tb = getattr(torch, a), getattr(torch, b)
            assert gdl.promote_types(getattr(gdl, a if a != "bool" else "bool_"), b).name == str(
                torch.promote_types(ta, tb)).removeprefix("torch."), (a, b)
            assert gdl.can_cast(a, b) == torch.can_cast(ta, tb), (a, b)


def test_result_type_matches_torch():
    with gdl.use_backend("numpy"):  # (array_api_strict has no float16)
        _check_result_types()


def _check_result_types():
    operands = [
        (lambda: gdl.tensor([1, 2], dtype=gdl.int32), lambda: torch.tensor([1, 2], dtype=torch.int32)),
        (lambda: gdl.tensor([1.0], dtype=gdl.float16), lambda: torch.tensor([1.0], dtype=torch.float16)),
        (lambda: gdl.tensor(3, dtype=gdl.int64), lambda: torch.tensor(3, dtype=torch.int64)),
        (lambda: gdl.tensor(1.0, dtype=gdl.float64), lambda: torch.tensor(1.0, dtype=torch.float64)),
        (lambda: gdl.tensor([True]), lambda: torch.tensor([True])),
        (lambda: gdl.tensor(True), lambda: torch.tensor(True)),
        (lambda: gdl.tensor([1], dtype=gdl.uint8), lambda: torch.tensor([1], dtype=torch.uint8)),
        (lambda: 2, lambda: 2),
        (lambda: 2.5, lambda: 2.5),
        (lambda: True, lambda: True),
    ]
    for ga, ta in operands:
        for gb, tb in operands:
            a, b = ga(), gb()
            if not isinstance(a, gdl.Tensor) and not isinstance(b, gdl.Tensor):
                continue
            want = str(torch.result_type(ta(), tb())).removeprefix("torch.")
            assert gdl.result_type(a, b).name == want, (a, b)
