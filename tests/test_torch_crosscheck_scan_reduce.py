"""Cross-checks of the scan ops (cumsum, cumprod, logcumsumexp, cummax, cummin, diff) and the
newer reductions (prod, amax, amin, aminmax, argsort, median, nanmedian, kthvalue, mode,
count_nonzero, var_mean, std_mean, nansum, nanmean, quantile) against PyTorch (skipped
without torch): values, indices, gradients and dtypes, with ties, zeros, NaN and empty dims.
"""

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

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

NAN = float("nan")
# small integers as floats: plenty of ties and zeros
VALUES = st.integers(-3, 3).map(float)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arrays(shape=SHAPES, elements=VALUES):
    return hnp.arrays(np.float64, shape, elements=elements)


def weights(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(tuple(shape))


def run_both(fg, ft, a, grad=True, pick=None):
    """``fg(gdl tensor)`` and ``ft(torch tensor)`` and, with ``grad``, the gradients of the same
    random weighting of their (first, or ``pick``-ed) outputs."""
    x, t = g64(a, grad=grad), t64(a, grad=grad)
    y, yt = fg(x), ft(t)
    if grad:
        yy, yyt = (y, yt) if pick is None else (pick(y), pick(yt))
        w = weights(yyt.shape)
        (yy * g64(w)).sum().backward()
        (yyt * t64(w)).sum().backward()
    return x, t, y, yt


def check(fg, ft, a, msg="", pick=None, grad=True):
    x, t, y, yt = run_both(fg, ft, a, grad, pick)
    close(y if pick is None else pick(y), yt if pick is None else pick(yt), msg)
    if grad:
        close(x.grad, t.grad, f"{msg}: grad")
    return y, yt


def same(ours, theirs, msg=""):
    """Exactly equal values (indices), same shape."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.numpy()
    assert ours.shape == theirs.shape, f"{msg}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_array_equal(ours, theirs, err_msg=msg)


def dims(data, shape):
    return data.draw(st.integers(-len(shape), len(shape) - 1))


# -- scans ---------------------------------------------------------------------------------------


@SETTINGS(40)
@given(arrays(), st.data())
def test_cumsum_cumprod_logcumsumexp(a, data):
    d = dims(data, a.shape)
    check(lambda x: gdl.cumsum(x, d), lambda t: torch.cumsum(t, d), a, "cumsum")
    check(lambda x: x.cumprod(dim=d), lambda t: t.cumprod(dim=d), a, "cumprod")  # many zeros
    check(lambda x: gdl.logcumsumexp(x, d), lambda t: torch.logcumsumexp(t, d), a * 300, "logcumsumexp")


@pytest.mark.parametrize("a", [[0.0, 0.0, 2.0], [1.0, 0.0, 3.0, 0.0, 5.0], [2.0, 3.0, 0.0], [0.0], [4.0, 0.0, 0.0, 0.0],
                               [[1.5, 0.0, -2.0, 0.0], [0.0, 2.0, 3.0, 4.0]]])
def test_cumprod_gradient_with_zeros(a):
    check(lambda x: gdl.cumprod(x, -1), lambda t: torch.cumprod(t, -1), a, "cumprod zeros")
    check(lambda x: gdl.prod(x, -1), lambda t: torch.prod(t, -1), a, "prod zeros")
    check(lambda x: gdl.prod(x), lambda t: torch.prod(t), a, "prod all zeros")


def test_logcumsumexp_extremes():
    a = [-1000.0, 0.0, 1000.0, -math.inf, 1000.0]
    check(lambda x: gdl.logcumsumexp(x, 0), lambda t: torch.logcumsumexp(t, 0), a, "extremes")
    check(lambda x: gdl.logcumsumexp(x, 0), lambda t: torch.logcumsumexp(t, 0), [1.0, NAN, 2.0], "nan", grad=False)
    # leading -inf: both give -inf values and NaN gradients there
    check(lambda x: gdl.logcumsumexp(x, 0), lambda t: torch.logcumsumexp(t, 0), [-math.inf, -math.inf, 1.0], "-inf")


@SETTINGS(40)
@given(arrays(), st.data(), st.booleans())
def test_cummax_cummin_values_indices_gradients(a, data, is_max):
    d = dims(data, a.shape)
    fg, ft = (gdl.cummax, torch.cummax) if is_max else (gdl.cummin, torch.cummin)
    (y, i), (yt, it) = check(lambda x: fg(x, d), lambda t: ft(t, d), a, "cumextreme", pick=lambda r: r[0])
    same(i, it, "indices")
    assert i.dtype == gdl.int64


def test_cummax_nan_and_scalar():
    a = [1.0, NAN, 3.0, NAN, 0.0]
    for fg, ft in ((gdl.cummax, torch.cummax), (gdl.cummin, torch.cummin)):
        v, i = fg(g64(a), 0)
        vt, it = ft(t64(a), 0)
        close(v, vt, "nan values")
        same(i, it, "nan indices")
        v, i = fg(g64(2.0), 0)
        vt, it = ft(t64(2.0), 0)
        close(v, vt)
        same(i, it)
    v, i = gdl.cummax(gdl.tensor([[1, 3, 2]]), 1)
    vt, it = torch.cummax(torch.tensor([[1, 3, 2]]), 1)
    same(v, vt)
    same(i, it)
    v, i = gdl.cummax(gdl.tensor([False, True, False]), 0)
    same(v, torch.cummax(torch.tensor([False, True, False]), 0).values)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "uint8", "float32", "float64"])
def test_scan_and_prod_dtypes(dtype):
    a = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    x, t = gdl.tensor(a), torch.tensor(a)
    for fg, ft in ((gdl.cumsum, torch.cumsum), (gdl.cumprod, torch.cumprod)):
        y, yt = fg(x, 1), ft(t, 1)
        assert y.dtype.name == str(yt.dtype).replace("torch.", ""), (fg, dtype)
        close(y.double(), yt.double())
    for fg, ft in ((gdl.prod, torch.prod), (gdl.nansum, torch.nansum)):
        assert fg(x).dtype.name == str(ft(t).dtype).replace("torch.", "")
        close(fg(x).double(), ft(t).double())
    y, yt = gdl.cumsum(x, 0, dtype=gdl.float64), torch.cumsum(t, 0, dtype=torch.float64)
    assert y.dtype == gdl.float64 and yt.dtype == torch.float64
    close(y, yt)
    assert gdl.prod(x, 1, dtype=gdl.float32).dtype == gdl.float32
    if dtype != "bool":
        y, yt = gdl.diff(x, dim=1), torch.diff(t, dim=1)
        assert y.dtype.name == str(yt.dtype).replace("torch.", "")
        close(y.double(), yt.double())


def test_scan_empty_dims():
    for fg, ft in ((gdl.cumsum, torch.cumsum), (gdl.cumprod, torch.cumprod), (gdl.logcumsumexp, torch.logcumsumexp)):
        close(fg(gdl.zeros(2, 0, dtype=gdl.float64), 1), ft(torch.zeros(2, 0, dtype=torch.float64), 1))
        close(fg(gdl.zeros(0, 3, dtype=gdl.float64), 1), ft(torch.zeros(0, 3, dtype=torch.float64), 1))
    v, i = gdl.cummax(gdl.zeros(2, 0), 1)
    assert v.shape == i.shape == tuple(torch.cummax(torch.zeros(2, 0), 1).values.shape)


@SETTINGS(40)
@given(arrays(), st.data())
def test_diff(a, data):
    d = dims(data, a.shape)
    n = data.draw(st.integers(0, 4))
    check(lambda x: gdl.diff(x, n, d), lambda t: torch.diff(t, n, d), a, "diff")
    side = list(a.shape)
    side[d] = data.draw(st.integers(0, 2))
    pre, app = data.draw(arrays(tuple(side))), data.draw(arrays(tuple(side)))
    p, q, x = g64(pre, True), g64(app, True), g64(a, True)
    pt, qt, xt = t64(pre, True), t64(app, True), t64(a, True)
    y, yt = gdl.diff(x, n, d, prepend=p, append=q), torch.diff(xt, n, d, prepend=pt, append=qt)
    close(y, yt, "diff prepend/append")
    w = weights(yt.shape)
    (y * g64(w)).sum().backward()
    (yt * t64(w)).sum().backward()
    for ours, theirs in ((x, xt), (p, pt), (q, qt)):
        if theirs.grad is None:
            assert ours.grad is None or not ours.grad.numpy().any()
        else:
            close(ours.grad, theirs.grad, "diff grads")


def test_diff_bool_and_prepend_number():
    same(gdl.diff(gdl.tensor([True, False, False, True])), torch.diff(torch.tensor([True, False, False, True])))
    # gdl also takes a Python number for prepend/append (NumPy's habit); PyTorch wants a tensor
    y = gdl.diff(g64([1.0, 3.0]), prepend=0.0, append=10.0)
    close(y, torch.diff(t64([1.0, 3.0]), prepend=t64([0.0]), append=t64([10.0])))


# -- reductions ----------------------------------------------------------------------------------


@SETTINGS(40)
@given(arrays(), st.data(), st.booleans())
def test_prod(a, data, keepdim):
    d = dims(data, a.shape)
    check(lambda x: gdl.prod(x, d, keepdim), lambda t: torch.prod(t, d, keepdim), a, "prod dim")
    check(lambda x: x.prod(), lambda t: t.prod(), a, "prod all")
    close(gdl.prod(gdl.zeros(0)), torch.prod(torch.zeros(0)))
    close(gdl.prod(gdl.zeros(2, 0), 1), torch.prod(torch.zeros(2, 0), 1))


@SETTINGS(40)
@given(arrays(), st.data(), st.booleans(), st.booleans())
def test_amax_amin_share_ties(a, data, keepdim, is_max):
    fg, ft = (gdl.amax, torch.amax) if is_max else (gdl.amin, torch.amin)
    nd = len(a.shape)
    dim = tuple(sorted(set(data.draw(st.lists(st.integers(-nd, nd - 1), max_size=nd)))))
    if len({d % nd for d in dim}) != len(dim):
        dim = ()
    check(lambda x: fg(x, dim, keepdim), lambda t: ft(t, dim, keepdim), a, "amax/amin")
    d = dims(data, a.shape)
    check(lambda x: fg(x, dim=d), lambda t: ft(t, dim=d), a, "amax/amin one dim")


def test_amax_nan_and_empty():
    a = [[2.0, NAN], [1.0, 1.0]]
    check(lambda x: gdl.amax(x, 1), lambda t: torch.amax(t, 1), a, "nan")
    with pytest.raises(ValueError, match="amax"):
        gdl.amax(gdl.zeros(2, 0), 1)
    with pytest.raises((RuntimeError, IndexError)):
        torch.amax(torch.zeros(2, 0), 1)
    close(gdl.amax(gdl.zeros(2, 0), 0), torch.amax(torch.zeros(2, 0), 0))


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans())
def test_aminmax(a, data, keepdim):
    d = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    x, t = g64(a, True), t64(a, True)
    r, rt = gdl.aminmax(x, dim=d, keepdim=keepdim), torch.aminmax(t, dim=d, keepdim=keepdim)
    close(r.min, rt.min)
    close(r.max, rt.max)
    w1, w2 = weights(rt.min.shape, 1), weights(rt.max.shape, 2)
    (r.min * g64(w1) + r.max * g64(w2)).sum().backward()
    try:
        (rt.min * t64(w1) + rt.max * t64(w2)).sum().backward()
    except RuntimeError as exc:  # torch before 2.13 has no aminmax backward
        if "not implemented" not in str(exc):
            raise
        return
    close(x.grad, t.grad, "aminmax grad")


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans())
def test_argsort(a, data, descending):
    d = dims(data, a.shape)
    # stable=True on the torch side: gdl's sort is always stable, torch's default need not be
    same(gdl.argsort(g64(a), d, descending), torch.argsort(t64(a), dim=d, descending=descending, stable=True))


def test_argsort_nan_scalar_ints():
    a = [2.0, NAN, -1.0, NAN, 0.0]
    for desc in (False, True):
        same(gdl.argsort(g64(a), descending=desc), torch.argsort(t64(a), descending=desc, stable=True))
    same(gdl.argsort(g64(3.0)), torch.argsort(t64(3.0)))
    same(gdl.tensor([3, 1, 2]).argsort(), torch.tensor([3, 1, 2]).argsort())


@SETTINGS(40)
@given(arrays(), st.data(), st.booleans())
def test_median_nanmedian_kthvalue_mode_with_dim(a, data, keepdim):
    d = dims(data, a.shape)
    if data.draw(st.booleans()):  # some NaN
        a = a.copy()
        a.flat[data.draw(st.integers(0, a.size - 1))] = NAN
    k = data.draw(st.integers(1, a.shape[d]))
    ops = {
        "median": (lambda x: gdl.median(x, d, keepdim), lambda t: torch.median(t, d, keepdim)),
        "nanmedian": (lambda x: x.nanmedian(d, keepdim), lambda t: t.nanmedian(d, keepdim)),
        "kthvalue": (lambda x: gdl.kthvalue(x, k, d, keepdim), lambda t: torch.kthvalue(t, k, d, keepdim)),
        "mode": (lambda x: gdl.mode(x, d, keepdim), lambda t: torch.mode(t, d, keepdim)),
    }
    for name, (fg, ft) in ops.items():
        if name == "mode" and np.isnan(a).any():
            continue  # gdl counts each NaN once; torch counts NaNs together (see test_mode_nan)
        x, t = g64(a, True), t64(a, True)
        (y, i), (yt, it) = fg(x), ft(t)
        close(y, yt, f"{name} values")
        assert i.dtype == gdl.int64
        if name == "mode":
            same(i, it, f"{name} indices")  # both: the last occurrence of the value
        # Among tied values torch's index comes from a quickselect (no fixed rule: [0., 0., 0.]
        # gives kthvalue indices 1, 0, 2); gdl's is the k-th of a stable sort, so the index is
        # checked to hold the value and the gradient to go there (torch's gather at gdl's index).
        idx = i.numpy() if keepdim else np.expand_dims(i.numpy(), d)
        picked = np.take_along_axis(a, idx, d)
        np.testing.assert_array_equal(picked, y.numpy() if keepdim else np.expand_dims(y.numpy(), d))
        w = weights(yt.shape)
        (y * g64(w)).sum().backward()
        ref = torch.gather(t, d, torch.from_numpy(idx))
        (ref * t64(w if keepdim else np.expand_dims(w, d))).sum().backward()
        close(x.grad, t.grad, f"{name} grad")


def test_mode_nan():
    # torch.mode counts the NaNs of a slice as one value (and gives the first NaN's index);
    # gdl compares with ``!=``, so each NaN is its own value: deliberately simple, documented.
    a = [NAN, 1.0, NAN, 1.0, NAN]
    assert torch.mode(t64(a)).values.isnan()
    v, i = gdl.mode(g64(a))
    assert v.item() == 1.0 and i.item() == 3


@SETTINGS(30)
@given(arrays(), st.booleans())
def test_median_all(a, with_nan):
    if with_nan:
        a = a.copy()
        a.flat[0] = NAN
    check(gdl.median, torch.median, a, "median all")  # tied medians share the gradient
    check(gdl.nanmedian, torch.nanmedian, a, "nanmedian all")


def test_median_empty_and_errors():
    close(gdl.median(gdl.zeros(0)), torch.median(torch.zeros(0)))
    with pytest.raises(ValueError, match="median"):
        gdl.median(gdl.zeros(2, 0), 1)
    with pytest.raises((RuntimeError, IndexError)):
        torch.median(torch.zeros(2, 0), 1)
    close(gdl.nanmedian(g64([NAN, NAN])), torch.nanmedian(t64([NAN, NAN])))
    v, i = gdl.nanmedian(g64([[NAN, NAN], [1.0, NAN]]), 1)
    vt, it = torch.nanmedian(t64([[NAN, NAN], [1.0, NAN]]), 1)
    close(v, vt)
    same(i, it)


@SETTINGS(30)
@given(arrays(), st.data())
def test_count_nonzero(a, data):
    nd = a.ndim
    dim = data.draw(st.none() | st.integers(-nd, nd - 1))
    y, yt = gdl.count_nonzero(g64(a), dim), torch.count_nonzero(t64(a), dim)
    same(y, yt)
    assert y.dtype == gdl.int64
    same(gdl.count_nonzero(g64([[0.0, NAN], [1.0, 0.0]])), torch.count_nonzero(t64([[0.0, NAN], [1.0, 0.0]])))


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans(), st.integers(0, 1))
def test_var_mean_std_mean(a, data, keepdim, correction):
    d = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    for fg, ft in ((gdl.var_mean, torch.var_mean), (gdl.std_mean, torch.std_mean)):
        x, t = g64(a, True), t64(a, True)
        (v, m), (vt, mt) = fg(x, d, keepdim, correction), ft(t, d, keepdim=keepdim, correction=correction)
        close(v, vt, "var/std")
        close(m, mt, "mean")
        w1, w2 = weights(vt.shape, 1), weights(mt.shape, 2)
        if not np.isfinite(vt.detach().numpy()).all():
            continue
        (v * g64(w1) + m * g64(w2)).sum().backward()
        (vt * t64(w1) + mt * t64(w2)).sum().backward()
        close(x.grad, t.grad, "var_mean/std_mean grad")


def test_var_mean_default_correction_differs_from_torch():
    # gdl's var/std (and so var_mean/std_mean) default to correction=0, the Array API's;
    # torch's default to 1. Deliberate: gdl.var's documented default.
    a = [1.0, 2.0, 4.0]
    close(gdl.var_mean(g64(a))[0], torch.var_mean(t64(a), correction=0)[0])
    close(gdl.std_mean(g64(a), unbiased=True)[0], torch.std_mean(t64(a))[0])


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans())
def test_nansum_nanmean(a, data, keepdim):
    a = a.copy()
    a[a == 3.0] = NAN
    d = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    check(lambda x: gdl.nansum(x, d, keepdim), lambda t: torch.nansum(t, d, keepdim), a, "nansum")
    check(lambda x: x.nanmean(d, keepdim), lambda t: t.nanmean(d, keepdim), a, "nanmean")


def test_nanmean_of_ints_is_float32():
    # torch.nanmean refuses integer tensors; gdl gives the default float dtype (mean-like ops)
    with pytest.raises(RuntimeError):
        torch.nanmean(torch.tensor([1, 2]))
    y = gdl.nanmean(gdl.tensor([1, 2]))
    assert y.dtype == gdl.float32 and y.item() == 1.5


@SETTINGS(40)
@given(hnp.arrays(np.float64, SHAPES, elements=st.floats(-5, 5), unique=True), st.data(), st.booleans(),
       st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
def test_quantile(a, data, keepdim, interpolation):
    d = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    q = data.draw(st.floats(0, 1) | st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    # distinct values: the gradient goes to definite sorted positions
    check(lambda x: gdl.quantile(x, q, d, keepdim, interpolation=interpolation),
          lambda t: torch.quantile(t, q, d, keepdim, interpolation=interpolation), a, "quantile", grad=True)
    qs = [0.1, 0.5, 0.9]
    check(lambda x: x.quantile(qs, d, keepdim, interpolation=interpolation),
          lambda t: t.quantile(t64(qs), d, keepdim, interpolation=interpolation), a, "quantile list")


def test_quantile_ties_nan_errors():
    a = [[1.0, 1.0, 2.0, NAN], [3.0, 3.0, 3.0, 0.0]]
    for q in (0.0, 0.3, 0.5, 1.0):
        close(gdl.quantile(g64(a), q, 1), torch.quantile(t64(a), q, 1))
    close(gdl.quantile(g64(a), 0.5), torch.quantile(t64(a), 0.5))
    with pytest.raises(ValueError, match="quantile"):
        gdl.quantile(g64([]), 0.5)
    with pytest.raises(ValueError, match="q must be in"):
        gdl.quantile(g64([1.0]), 1.5)
    with pytest.raises(RuntimeError):
        torch.quantile(t64([1.0]), 1.5)
