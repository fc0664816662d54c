"""gdl.functional.misc and gdl.functional.sampling against PyTorch: values, dtypes and
gradients of the deterministic ops on the same inputs (hypothesis-generated where cheap),
and the samplers' shapes, dtypes and (zero) gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
from gdl.functional import misc, sampling  # noqa: E402

SMALL = st.integers(-4, 4).map(float)


def gi(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def ti(a):
    return torch.tensor(np.asarray(a, dtype=np.int64))


def same_dtype(ours, theirs, msg=""):
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), f"{msg}: {ours.dtype} vs {theirs.dtype}"


def exact(ours, theirs, msg=""):
    """Same shape, dtype and values (NaN where torch has NaN)."""
    same_dtype(ours, theirs, msg)
    a, b = ours.numpy(), theirs.detach().numpy()
    assert a.shape == b.shape, f"{msg}: shape {a.shape} != {b.shape}"
    np.testing.assert_array_equal(a, b, err_msg=msg)


def check(fg, ft, *arrays, msg=""):
    """Values, dtype and every input's gradient of ``fg`` (gdl) and ``ft`` (torch) agree on the
    float64 ``arrays``; outputs may be tuples (each weighted by fixed random numbers)."""
    gs = [g64(a, grad=True) for a in arrays]
    ts = [t64(a, grad=True) for a in arrays]
    y, yt = fg(*gs), ft(*ts)
    ys, yts = (list(y), list(yt)) if isinstance(yt, (tuple, list)) else ([y], [yt])
    assert len(ys) == len(yts), msg
    gsum = tsum = None
    for i, (a, b) in enumerate(zip(ys, yts)):
        close(a, b, f"{msg}: output {i}")
        same_dtype(a, b, msg)
        w = np.random.default_rng(i).standard_normal(tuple(b.shape))
        ga, tb = (a * g64(w)).sum(), (b * t64(w)).sum()
        gsum, tsum = (ga, tb) if gsum is None else (gsum + ga, tsum + tb)
    if not tsum.requires_grad:
        assert not gsum.requires_grad, f"{msg}: in the graph where torch's result is not"
        return
    gsum.backward()
    tsum.backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"{msg}: input {i}"
        else:
            close(g.grad, t.grad, f"{msg}: grad of input {i}")


# -- searchsorted, bucketize -----------------------------------------------------------------------


@SETTINGS(25)
@given(seq=hnp.arrays(np.int64, st.integers(1, 8), elements=st.integers(-3, 3)),
       vals=hnp.arrays(np.int64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.integers(-4, 4)),
       right=st.booleans(), as_float=st.booleans())
def test_searchsorted_and_bucketize(seq, vals, right, as_float):
    seq = np.sort(seq)
    v = vals.astype(np.float64) / 2 if as_float else vals
    out = misc.searchsorted(gdl.tensor(seq), gdl.tensor(v), right=right)
    exact(out, torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right), "searchsorted")
    out = misc.bucketize(gdl.tensor(v), gdl.tensor(seq), right=right, out_int32=True)
    exact(out, torch.bucketize(torch.tensor(v), torch.tensor(seq), right=right, out_int32=True), "bucketize")


@SETTINGS(15)
@given(data=st.data(), side=st.sampled_from(["left", "right"]))
def test_searchsorted_batched_and_sorter(data, side):
    rows, k, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 6)), data.draw(st.integers(0, 4))
    seq = data.draw(hnp.arrays(np.float64, (rows, k), elements=SMALL))
    vals = data.draw(hnp.arrays(np.float64, (rows, m), elements=SMALL))
    order = np.argsort(seq, axis=-1, kind="stable")
    exact(misc.searchsorted(g64(np.sort(seq, axis=-1)), g64(vals), side=side),
          torch.searchsorted(t64(np.sort(seq, axis=-1)), t64(vals), side=side), "batched")
    exact(misc.searchsorted(g64(seq), g64(vals), side=side, sorter=gi(order)),
          torch.searchsorted(t64(seq), t64(vals), side=side, sorter=ti(order)), "sorter")


# -- unique, unique_consecutive, bincount, histc ---------------------------------------------------


@SETTINGS(25)
@given(x=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                    elements=st.integers(-1, 2)),
       data=st.data(), inverse=st.booleans(), counts=st.booleans())
def test_unique_and_unique_consecutive_along_a_dim(x, data, inverse, counts):
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    for a in (x, x.astype(np.float64)):
        for name in ("unique", "unique_consecutive"):
            ours = getattr(misc, name)(gdl.tensor(a), dim=d, return_inverse=inverse, return_counts=counts)
            theirs = getattr(torch, name)(torch.tensor(a), dim=d, return_inverse=inverse, return_counts=counts)
            for o, t in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
                exact(o, t, f"{name} dim={d}")


@SETTINGS(25)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                    elements=st.sampled_from([-1.0, 0.0, 2.0, 2.5, math.nan])),
       inverse=st.booleans(), counts=st.booleans())
def test_unique_and_unique_consecutive(x, inverse, counts):
    for dtype in (np.float64, np.int64):
        a = np.nan_to_num(x, nan=7.0).astype(dtype) if dtype is np.int64 else x
        ours = misc.unique(gdl.tensor(a), return_inverse=inverse, return_counts=counts)
        theirs = torch.unique(torch.tensor(a), return_inverse=inverse, return_counts=counts)
        ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
        nan = np.isnan(a) if dtype is np.float64 else np.zeros(a.shape, bool)
        for i, (o, t) in enumerate(zip(ours, theirs)):
            if inverse and i == 1 and nan.any():  # torch numbers the (all distinct) NaNs in no set order
                same_dtype(o, t)
                np.testing.assert_array_equal(o.numpy()[~nan], t.numpy()[~nan])
                assert np.all(np.isnan(ours[0].numpy()[o.numpy()[nan]]))
            else:
                exact(o, t, f"unique {dtype.__name__}")
        ours = misc.unique_consecutive(gdl.tensor(a), return_inverse=inverse, return_counts=counts)
        theirs = torch.unique_consecutive(torch.tensor(a), return_inverse=inverse, return_counts=counts)
        if dtype is np.float64 and np.isnan(a).any():
            continue  # torch's unique_consecutive merges NaNs (NaN != NaN elsewhere); gdl keeps them apart
        for o, t in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
            exact(o, t, "unique_consecutive")


@SETTINGS(25)
@given(x=hnp.arrays(np.int64, st.integers(0, 12), elements=st.integers(0, 6)),
       minlength=st.integers(0, 9), wdtype=st.sampled_from([None, np.float32, np.float64, np.int64]))
def test_bincount(x, minlength, wdtype):
    if wdtype is None:
        exact(misc.bincount(gdl.tensor(x), minlength=minlength), torch.bincount(torch.tensor(x), minlength=minlength))
        return
    w = (np.arange(x.shape[0]) % 5 - 1.5).astype(wdtype) if wdtype is not np.int64 else np.arange(x.shape[0])
    ours = misc.bincount(gdl.tensor(x), weights=gdl.tensor(w), minlength=minlength)
    theirs = torch.bincount(torch.tensor(x), weights=torch.tensor(w), minlength=minlength)
    if x.size:  # torch returns int64 zeros for an empty input even with weights; gdl keeps the weights' dtype
        same_dtype(ours, theirs, "bincount")
    close(ours, theirs, "bincount", rtol=1e-6, atol=1e-6)


@SETTINGS(40)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), st.integers(0, 20),
                    elements=st.integers(-20, 20).map(lambda v: v / 4)),
       bins=st.integers(1, 10), lo=st.integers(-8, 4).map(lambda v: v / 2), width=st.integers(0, 12).map(lambda v: v / 2))
def test_histc(x, bins, lo, width):
    if x.size == 0 and width == 0:
        lo = 0.0
    ours = misc.histc(gdl.tensor(x), bins=bins, min=lo, max=lo + width)
    exact(ours, torch.histc(torch.tensor(x), bins=bins, min=lo, max=lo + width), f"histc {bins} {lo} {width}")


# -- differentiable builders --------------------------------------------------------------------


@SETTINGS(20)
@given(data=st.data())
def test_repeat_interleave(data):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), elements=SMALL))
    dim = data.draw(st.sampled_from([None] + list(range(-x.ndim, x.ndim))))
    n = x.size if dim is None else x.shape[dim]
    reps = data.draw(st.one_of(st.integers(0, 3), hnp.arrays(np.int64, n, elements=st.integers(0, 3))))
    if isinstance(reps, int):
        check(lambda a: misc.repeat_interleave(a, reps, dim), lambda a: torch.repeat_interleave(a, reps, dim), x,
              msg="repeat_interleave int")
    else:
        check(lambda a: misc.repeat_interleave(a, gi(reps), dim),
              lambda a: torch.repeat_interleave(a, ti(reps), dim), x, msg="repeat_interleave tensor")
    exact(misc.repeat_interleave(gi([2, 0, 1])), torch.repeat_interleave(ti([2, 0, 1])))


@SETTINGS(20)
@given(data=st.data(), p=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, math.inf]))
def test_cdist(data, p):
    batch = data.draw(st.sampled_from([(), (2,), (2, 1)]))
    bx2 = batch[-1:] if len(batch) == 2 else batch
    m = data.draw(st.integers(1, 3))
    x1 = data.draw(hnp.arrays(np.float64, batch + (data.draw(st.integers(1, 3)), m),
                              elements=st.floats(-2, 2, allow_subnormal=False)))
    x2 = data.draw(hnp.arrays(np.float64, bx2 + (data.draw(st.integers(1, 3)), m),
                              elements=st.floats(-2, 2, allow_subnormal=False)))
    if 0 < p < 2 or math.isinf(p):
        # away from torch's own choices at kinks (a zero difference, a tie for the max), gradients are unique
        d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if np.any(d < 1e-3) or (math.isinf(p) and m > 1 and np.any(np.abs(np.diff(np.sort(d, -1), axis=-1)) < 1e-3)):
            return
    check(lambda a, b: misc.cdist(a, b, p),
          lambda a, b: torch.cdist(a, b, p, compute_mode="donot_use_mm_for_euclid_dist"), x1, x2, msg=f"cdist p={p}")


@SETTINGS(20)
@given(data=st.data())
def test_diag_embed(data):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), elements=SMALL))
    nd = x.ndim + 1
    dim1, dim2 = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                                    unique_by=lambda d: d % nd))
    offset = data.draw(st.integers(-2, 2))
    check(lambda a: misc.diag_embed(a, offset, dim1, dim2), lambda a: torch.diag_embed(a, offset, dim1, dim2), x,
          msg=f"diag_embed {offset} {dim1} {dim2}")


@SETTINGS(15)
@given(shapes=st.lists(st.sampled_from([(), (1,), (3,), (2, 2), (1, 3), (0, 2), (2, 0)]), min_size=1, max_size=4))
def test_block_diag(shapes):
    arrays = [np.arange(math.prod(s), dtype=np.float64).reshape(s) + i for i, s in enumerate(shapes)]
    check(lambda *ts: misc.block_diag(*ts), lambda *ts: torch.block_diag(*ts), *arrays, msg=f"block_diag {shapes}")


def test_block_diag_dtypes():
    for parts in ([np.int64, np.float32], [np.int32, np.int64], [np.float32, np.float64], [np.bool_, np.int8]):
        arrays = [np.ones((1, 2), dtype=d) for d in parts]
        exact(misc.block_diag(*(gdl.tensor(a) for a in arrays)), torch.block_diag(*(torch.tensor(a) for a in arrays)))


@SETTINGS(20)
@given(data=st.data(), k=st.integers(-5, 5))
def test_rot90(data, k):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=4, max_side=3), elements=SMALL))
    dims = tuple(data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=2, max_size=2,
                                    unique_by=lambda d: d % x.ndim)))
    check(lambda a: misc.rot90(a, k, dims), lambda a: torch.rot90(a, k, dims), x, msg=f"rot90 {k} {dims}")


@SETTINGS(15)
@given(sizes=st.lists(st.integers(0, 3), min_size=1, max_size=3), r=st.integers(0, 4), repl=st.booleans())
def test_cartesian_prod_and_combinations(sizes, r, repl):
    arrays = [np.arange(n, dtype=np.float64) * (i + 1) for i, n in enumerate(sizes)]
    if any(sizes) or len(sizes) == 1:
        check(lambda *ts: misc.cartesian_prod(*ts), lambda *ts: torch.cartesian_prod(*ts), *arrays,
              msg=f"cartesian_prod {sizes}")
    x = arrays[0] - 0.5
    check(lambda a: misc.combinations(a, r, repl), lambda a: torch.combinations(a, r, repl), x,
          msg=f"combinations {x.shape} {r} {repl}")


@SETTINGS(20)
@given(data=st.data())
def test_tensor_split(data):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=6),
                             elements=SMALL))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    spec = data.draw(st.one_of(st.integers(1, 5), st.lists(st.integers(-8, 8), max_size=3)))
    check(lambda a: misc.tensor_split(a, spec, dim), lambda a: torch.tensor_split(a, spec, dim), x,
          msg=f"tensor_split {spec} {dim}")


@SETTINGS(20)
@given(data=st.data())
def test_trapezoid(data):
    y = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
                             elements=SMALL))
    dim = data.draw(st.integers(-y.ndim, y.ndim - 1))
    n = y.shape[dim]
    how = data.draw(st.sampled_from(["none", "dx", "x1", "xfull"]))
    if how == "none":
        check(lambda a: misc.trapezoid(a, dim=dim), lambda a: torch.trapezoid(a, dim=dim), y, msg="trapezoid")
    elif how == "dx":
        check(lambda a: misc.trapz(a, dx=0.5, dim=dim), lambda a: torch.trapz(a, dx=0.5, dim=dim), y, msg="trapz dx")
    else:
        shape = (n,) if how == "x1" else y.shape
        x = np.cumsum(data.draw(hnp.arrays(np.float64, shape, elements=st.integers(0, 3).map(float))), axis=-1
                      if how == "x1" else dim)
        check(lambda a, b: misc.trapezoid(a, b, dim=dim), lambda a, b: torch.trapezoid(a, b, dim=dim), y, x,
              msg=f"trapezoid x {how}")


def test_trapezoid_integer_inputs():
    exact(misc.trapezoid(gi([1, 2, 3])), torch.trapezoid(ti([1, 2, 3])))
    exact(misc.trapezoid(gdl.tensor([1.0, 2.0, 3.0]), gi([0, 1, 3])),
          torch.trapezoid(torch.tensor([1.0, 2.0, 3.0]), ti([0, 1, 3])))


# -- samplers: shapes, dtypes, zero gradients ------------------------------------------------------


def test_sampler_shapes_dtypes_and_gradients_as_torch():
    for dtype in ("float32", "float64"):
        x = gdl.tensor([0.2, 0.7], dtype=dtype, requires_grad=True)
        xt = torch.tensor([0.2, 0.7], dtype=getattr(torch, dtype), requires_grad=True)
        for fg, ft in ((sampling.bernoulli, torch.bernoulli), (sampling.poisson, torch.poisson),
                       (lambda a: sampling.normal(a, 1.0), lambda a: torch.normal(a, 1.0))):
            y, yt = fg(x), ft(xt)
            same_dtype(y, yt)
            assert y.shape == tuple(yt.shape) and y.requires_grad == yt.requires_grad
            y.sum().backward()
            yt.sum().backward()
            close(x.grad, xt.grad)
            x.grad, xt.grad = None, None
        same_dtype(sampling.bernoulli(x, 0.5), torch.bernoulli(xt, 0.5))
        assert not sampling.bernoulli(x, 0.5).requires_grad  # (torch's has a grad_fn whose backward raises)
    cases = [
        ((gdl.tensor([0.0, 1.0]), gdl.tensor([[1.0], [2.0]], dtype=gdl.float64)),
         (torch.tensor([0.0, 1.0]), torch.tensor([[1.0], [2.0]], dtype=torch.float64))),
        ((0.0, gdl.tensor([1.0, 2.0], dtype=gdl.float64)), (0.0, torch.tensor([1.0, 2.0], dtype=torch.float64))),
        ((0.0, 1.0, (2, 3)), (0.0, 1.0, (2, 3))),
    ]
    for ours, theirs in cases:
        y, yt = sampling.normal(*ours), torch.normal(*theirs)
        same_dtype(y, yt)
        assert y.shape == tuple(yt.shape)
    w = [[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]]
    for args in ((2,), (5, True)):
        for rows in (w, w[0]):
            y, yt = sampling.multinomial(gdl.tensor(rows), *args), torch.multinomial(torch.tensor(rows), *args)
            same_dtype(y, yt)
            assert y.shape == tuple(yt.shape)
