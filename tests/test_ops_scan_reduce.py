"""Scan ops (cumsum, cumprod, logcumsumexp, cummax, cummin, diff) and the newer reductions
(prod, amax, amin, aminmax, argsort, median, nanmedian, kthvalue, mode, count_nonzero,
var_mean, std_mean, nansum, nanmean, quantile) on every backend: values against NumPy or
hand-computed numbers, float64 finite-difference gradients (zeros for the products, ties
for the extremes), dtypes, keepdim shapes, negative dims and errors. No PyTorch needed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.testing import gradcheck

NAN = float("nan")
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def t64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def np_of(t):
    return t.numpy()


def assert_close(t, expected):
    ours = np_of(t)
    expected = np.asarray(expected)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


A = np.array([[1.5, -2.0, 0.0, 3.0], [0.5, 0.0, 0.0, -1.0], [2.0, 1.0, -0.5, 0.25]])
B = np.array([[1.5, -2.0, 0.1, 3.0], [0.5, 0.2, 0.0, -1.0], [2.0, 1.0, -0.5, 0.25]])  # no ties: smooth points
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 in the NaN and n - correction = 0 cases


# -- scans ---------------------------------------------------------------------------------------


def test_cumsum_cumprod_values(backend):
    for d in (0, 1, -1, -2):
        assert_close(gdl.cumsum(t64(A), d), np.cumsum(A, axis=d))
        assert_close(t64(A).cumprod(dim=d), np.cumprod(A, axis=d))
        assert_close(gdl.cumsum(t64(A), axis=d), np.cumsum(A, axis=d))
    assert_close(gdl.cumprod(t64([2.0, 0.0, 3.0, 0.0]), 0), [2.0, 0.0, 0.0, 0.0])
    assert_close(gdl.cumsum(t64(5.0), 0), 5.0)


def test_cumsum_cumprod_dtypes(backend):
    assert gdl.cumsum(gdl.tensor([1, 2, 3], dtype=gdl.int32), 0).dtype == gdl.int64
    assert gdl.cumprod(gdl.tensor([True, True, False]), 0).dtype == gdl.int64
    assert gdl.cumsum(gdl.tensor([True, True, False]), 0).tolist() == [1, 2, 2]
    assert gdl.cumsum(gdl.tensor([1.0, 2.0]), 0).dtype == gdl.float32
    y = gdl.cumsum(gdl.tensor([1, 2, 3]), 0, dtype=gdl.float64)
    assert y.dtype == gdl.float64 and y.tolist() == [1.0, 3.0, 6.0]
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = gdl.cumprod(x, 0, dtype=gdl.float64)
    y.sum().backward()
    assert y.dtype == gdl.float64 and x.grad.dtype == gdl.float32 and x.grad.tolist() == [3.0, 1.0]


@pytest.mark.parametrize("a", [[1.0, 2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 2.0], [2.0, 3.0, 0.0], [0.0],
                               [[1.5, 0.0, -2.0, 0.0], [0.0, 2.0, 3.0, 4.0]], [0.5, -1.5, 2.0, 1.25, -0.75]])
def test_product_gradients_with_zeros(backend, a):
    x = t64(a, True)
    assert gradcheck(lambda t: gdl.cumprod(t, -1), [x])
    assert gradcheck(lambda t: gdl.prod(t, -1), [x])
    assert gradcheck(lambda t: gdl.prod(t), [x])


def test_cumprod_gradient_with_one_zero_by_hand(backend):
    # d/dx_i sum(cumprod(x)) at x = (2, 0, 3): out = (2, 0, 0), so grad = (1, 2 + 2*3, 0)
    x = t64([2.0, 0.0, 3.0], True)
    gdl.cumprod(x, 0).sum().backward()
    assert x.grad.tolist() == [1.0, 8.0, 0.0]
    x = t64([2.0, 0.0, 0.0, 3.0], True)
    gdl.prod(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    x = t64([2.0, 0.0, 3.0], True)
    gdl.prod(x).backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


@FAST
@given(hnp.arrays(np.float64, SHAPES, elements=st.floats(-2, 2)), st.data())
def test_scan_gradients(backend, a, data):
    d = data.draw(st.integers(-a.ndim, a.ndim - 1))
    x = t64(a, True)
    assert gradcheck(lambda t: gdl.cumsum(t, d), [x])
    assert gradcheck(lambda t: gdl.cumprod(t, d), [x])
    assert gradcheck(lambda t: gdl.logcumsumexp(t, d), [x])
    assert gradcheck(lambda t: gdl.diff(t, 2, d), [x])


def test_logcumsumexp_values_and_stability(backend):
    for d in (0, 1, -1):
        assert_close(gdl.logcumsumexp(t64(A), d), np.log(np.cumsum(np.exp(A), axis=d)))
    y = gdl.logcumsumexp(t64([-1000.0, 0.0, 1000.0, 1000.0]), 0)
    np.testing.assert_allclose(y.numpy(), [-1000.0, 0.0, 1000.0, 1000.0 + np.log(2.0)], rtol=1e-12)
    x = t64([-800.0, -800.0, 700.0], True)
    assert gradcheck(lambda t: gdl.logcumsumexp(t, 0), [x])
    assert gdl.logcumsumexp(gdl.tensor([1, 2]), 0).dtype == gdl.float32


@pytest.mark.parametrize("is_max", [True, False])
def test_cummax_cummin_values_indices_ties(backend, is_max):
    a = [1.0, 3.0, 3.0, 2.0, 3.0, 0.0] if is_max else [3.0, 1.0, 1.0, 2.0, 1.0, 5.0]
    v, i = (gdl.cummax if is_max else gdl.cummin)(t64(a), 0)
    acc = np.maximum.accumulate(a) if is_max else np.minimum.accumulate(a)
    assert_close(v, acc)
    assert i.tolist() == [0, 1, 2, 2, 4, 4]  # a tie moves the index to the later element
    assert i.dtype == gdl.int64
    x = t64(a, True)
    r = (gdl.cummax if is_max else gdl.cummin)(x, 0)
    r.values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 0.0, 2.0, 0.0]  # each output's gradient to its index
    assert gradcheck(lambda t: (gdl.cummax if is_max else gdl.cummin)(t, -1).values, [t64(B, True)])
    assert gradcheck(lambda t: t.cummax(0).values, [t64(B, True)])


def test_cummax_nan_2d_and_ints(backend):
    v, i = gdl.cummax(t64([1.0, NAN, 3.0, NAN, 0.0]), 0)
    assert np.isnan(v.numpy()[1:]).all() and i.tolist() == [0, 1, 1, 3, 3]
    v, i = gdl.cummin(gdl.tensor([[3, 1, 2], [0, 4, 0]]), 1)
    assert v.tolist() == [[3, 1, 1], [0, 0, 0]] and i.tolist() == [[0, 1, 1], [0, 0, 2]]
    v, i = gdl.cummax(t64(A), 0)
    assert_close(v, np.maximum.accumulate(A, axis=0))


def test_diff_values(backend):
    for n in (0, 1, 2, 3):
        for d in (0, 1, -1):
            assert_close(gdl.diff(t64(A), n, d), np.diff(A, n, axis=d))
    assert gdl.diff(gdl.tensor([1, 2, 4]), n=5).shape == (0,)
    assert gdl.diff(gdl.tensor([True, False, False])).tolist() == [True, False]
    p, q = t64([[9.0], [8.0], [7.0]], True), t64([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], True)
    x = t64(A, True)
    y = gdl.diff(x, 2, 1, prepend=p, append=q)
    assert_close(y, np.diff(np.concatenate([p.numpy(), A, q.numpy()], axis=1), 2, axis=1))
    assert gradcheck(lambda a, b, c: gdl.diff(a, 2, 1, prepend=b, append=c), [x, p, q])
    assert_close(gdl.diff(t64([1.0, 3.0]), prepend=0.0), [1.0, 2.0])


def test_scan_errors(backend):
    x = t64(A)
    with pytest.raises(TypeError, match="cumsum: missing the dimension"):
        gdl.cumsum(x)
    with pytest.raises(ValueError, match="cumprod: axis 2 is out of range"):
        gdl.cumprod(x, 2)
    with pytest.raises(TypeError, match="cummax: got both"):
        gdl.cummax(x, 0, axis=1)
    with pytest.raises(ValueError, match="diff: n must"):
        gdl.diff(x, -1)
    with pytest.raises(ValueError, match="diff: prepend of shape"):
        gdl.diff(x, prepend=t64([1.0]))
    with pytest.raises(ValueError, match="diff: expects"):
        gdl.diff(t64(1.0))


def test_scan_empty(backend):
    assert gdl.cumsum(gdl.zeros(2, 0), 1).shape == (2, 0)
    assert gdl.cumprod(gdl.zeros(0, 3), 1).shape == (0, 3)
    assert gdl.logcumsumexp(gdl.zeros(2, 0), 1).shape == (2, 0)
    assert gdl.cummax(gdl.zeros(2, 0), 1).indices.shape == (2, 0)


# -- reductions ----------------------------------------------------------------------------------


def test_prod_values_dtypes_shapes(backend):
    assert_close(gdl.prod(t64(A)), np.prod(A))
    assert_close(t64(A).prod(1), np.prod(A, axis=1))
    assert_close(gdl.prod(t64(A), -2, keepdim=True), np.prod(A, axis=0, keepdims=True))
    assert_close(gdl.prod(t64(A), axis=(0, 1), keepdims=True), np.prod(A, keepdims=True))
    assert gdl.prod(gdl.zeros(0)).item() == 1.0
    assert gdl.prod(gdl.zeros(2, 0), 1).tolist() == [1.0, 1.0]
    assert gdl.prod(gdl.tensor([2, 3], dtype=gdl.int32)).dtype == gdl.int64
    assert gdl.prod(gdl.tensor([2, 3], dtype=gdl.int32)).item() == 6
    assert gdl.prod(gdl.tensor([1.0, 2.0])).dtype == gdl.float32
    x = t64(A, True)
    assert gradcheck(lambda t: gdl.prod(t, (0, 1)), [x])
    assert gradcheck(lambda t: gdl.prod(t, 0, keepdim=True), [x])
    with pytest.raises(ValueError, match="prod: axis 3"):
        gdl.prod(x, 3)


TIES = np.array([[2.0, 5.0, 5.0], [1.0, 1.0, 1.0], [0.0, -3.0, 4.0]])


@pytest.mark.parametrize("dim", [(), 0, 1, -1, (0, 1), None])
def test_amax_amin(backend, dim):
    axis = None if dim in ((), None) else dim
    for fn, ref in ((gdl.amax, np.max), (gdl.amin, np.min)):
        assert_close(fn(t64(TIES), dim), ref(TIES, axis=axis))
        assert_close(fn(t64(TIES), dim, keepdim=True), ref(TIES, axis=axis, keepdims=True))
        assert gradcheck(lambda t, fn=fn: fn(t, dim) * 1.0, [t64(TIES + np.arange(9).reshape(3, 3) * 0.01, True)])


def test_amax_ties_share_the_gradient(backend):
    x = t64(TIES, True)
    gdl.amax(x, 1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1.0]]
    x = t64(TIES, True)
    x.amin().backward()
    assert x.grad.numpy()[2, 1] == 1.0 and x.grad.numpy().sum() == 1.0
    with pytest.raises(ValueError, match="amax: cannot reduce an empty axis"):
        gdl.amax(gdl.zeros(2, 0), 1)


def test_aminmax(backend):
    r = gdl.aminmax(t64(TIES), dim=1)
    assert_close(r.min, TIES.min(1))
    assert_close(r.max, TIES.max(1))
    mn, mx = t64(TIES).aminmax(keepdim=True)
    assert mn.shape == mx.shape == (1, 1) and mn.item() == -3.0 and mx.item() == 5.0
    x = t64(TIES, True)
    r = gdl.aminmax(x, dim=0)
    (r.min.sum() + 2 * r.max.sum()).backward()
    assert x.grad.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    x = t64(TIES, True)
    r = gdl.aminmax(x, dim=1)
    (r.min.sum() + 2 * r.max.sum()).backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 1.0, 2.0]]  # ties share
    with pytest.raises(TypeError, match="aminmax: dim must be one int"):
        gdl.aminmax(x, dim=(0, 1))


def test_argsort(backend):
    a = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, NAN, -1.0, 5.0]])
    assert gdl.argsort(t64(a)).tolist() == np.argsort(a, axis=-1, kind="stable").tolist()
    assert t64(a).argsort(0).tolist() == np.argsort(a, axis=0, kind="stable").tolist()
    assert gdl.argsort(t64(a), descending=True).tolist() == [[0, 2, 1, 3], [1, 3, 0, 2]]  # NaN largest
    assert gdl.argsort(t64(a)).dtype == gdl.int64
    assert gdl.argsort(t64(2.0)).item() == 0
    with pytest.raises(ValueError, match="argsort: axis 2"):
        gdl.argsort(t64(a), 2)


def test_median_family(backend):
    x = t64([[4.0, 1.0, 3.0, 2.0], [0.0, 5.0, 5.0, 6.0]])
    assert gdl.median(x).item() == 3.0  # lower of the middle pair (3, 4)
    v, i = gdl.median(x, 1)
    assert v.tolist() == [2.0, 5.0] and i.tolist() == [3, 1]
    v, i = x.median(-1, keepdim=True)
    assert v.shape == i.shape == (2, 1)
    v, i = gdl.median(t64([[1.0, NAN, 2.0, NAN]]), 1)
    assert np.isnan(v.item()) and i.item() == 1  # NaN wins: its first occurrence
    assert np.isnan(gdl.median(t64([1.0, NAN])).item())
    assert np.isnan(gdl.median(gdl.zeros(0)).item())
    assert gdl.nanmedian(t64([NAN, 3.0, 1.0, 2.0])).item() == 2.0
    v, i = gdl.nanmedian(t64([[NAN, NAN], [1.0, NAN]]), 1)
    assert np.isnan(v.tolist()[0]) and v.tolist()[1] == 1.0 and i.tolist() == [0, 0]
    v, i = gdl.kthvalue(t64([5.0, 1.0, 4.0, 2.0]), 3)
    assert v.item() == 4.0 and i.item() == 2
    v, i = gdl.mode(t64([[3.0, 1.0, 1.0, 3.0, 2.0], [7.0, 7.0, 7.0, 0.0, 0.0]]))
    assert v.tolist() == [1.0, 7.0] and i.tolist() == [2, 2]
    v, i = gdl.mode(gdl.tensor([[1, 2, 2]]), 1, keepdim=True)
    assert v.tolist() == [[2]] and i.tolist() == [[2]]


def test_median_family_gradients(backend):
    x = t64([2.0, 2.0, 1.0, 2.0], True)
    gdl.median(x).backward()
    assert np.allclose(x.grad.numpy(), [1 / 3, 1 / 3, 0.0, 1 / 3])  # tied medians share it
    x = t64([[2.0, 2.0, 1.0, 2.0]], True)
    v, i = gdl.median(x, 1)
    v.sum().backward()
    assert i.tolist() == [0] and x.grad.tolist() == [[1.0, 0.0, 0.0, 0.0]]  # to the index only
    b = t64(B, True)
    assert gradcheck(lambda t: gdl.median(t, 1).values, [b])
    assert gradcheck(lambda t: gdl.nanmedian(t, 0, keepdim=True).values, [b])
    assert gradcheck(lambda t: gdl.kthvalue(t, 2, 0).values, [b])
    assert gradcheck(lambda t: gdl.mode(t, 1).values, [b])
    assert gradcheck(gdl.median, [b])


def test_median_family_errors(backend):
    with pytest.raises(ValueError, match="median: cannot reduce the empty dimension"):
        gdl.median(gdl.zeros(2, 0), 1)
    with pytest.raises(ValueError, match="kthvalue: k=5 is out of range"):
        gdl.kthvalue(t64(A), 5)
    with pytest.raises(TypeError, match="median: dim must be one int"):
        gdl.median(t64(A), (0, 1))
    with pytest.raises(TypeError, match="median: keepdim needs a dim"):
        gdl.median(t64(A), keepdim=True)


def test_count_nonzero(backend):
    a = np.array([[0.0, NAN, 2.0], [0.0, 0.0, 1.0]])
    assert gdl.count_nonzero(t64(a)).item() == 3
    assert t64(a).count_nonzero(0).tolist() == [0, 1, 2]
    assert gdl.count_nonzero(t64(a), dim=(0, -1)).item() == 3
    assert gdl.count_nonzero(gdl.tensor([True, False])).dtype == gdl.int64


@FAST
@given(hnp.arrays(np.float64, SHAPES, elements=st.floats(-3, 3)), st.data(), st.booleans(), st.integers(0, 1))
def test_var_mean_std_mean(backend, a, data, keepdim, correction):
    d = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    axis = None if d is None else d
    n = a.size if d is None else a.shape[d]
    v, m = gdl.var_mean(t64(a), d, keepdim, correction)
    np.testing.assert_allclose(m.numpy(), np.mean(a, axis=axis, keepdims=keepdim), rtol=1e-12, atol=1e-12)
    if n - correction > 0:
        np.testing.assert_allclose(v.numpy(), np.var(a, axis=axis, keepdims=keepdim, ddof=correction), atol=1e-12)
        s, m2 = gdl.std_mean(t64(a), dim=d, keepdim=keepdim, correction=correction)
        np.testing.assert_allclose(s.numpy(), np.std(a, axis=axis, keepdims=keepdim, ddof=correction), atol=1e-12)
        assert s.shape == m2.shape == m.shape
        # (a smooth point for the std: distinct values)
        b = a + np.arange(a.size).reshape(a.shape) * 0.37
        x = t64(b, True)
        assert gradcheck(lambda t: gdl.var_mean(t, d, keepdim, correction)[0] + 2 * gdl.var_mean(t, d, keepdim)[1],
                         [x])
        if n > 1:
            assert gradcheck(lambda t: gdl.std_mean(t, d, keepdim, correction)[0] * gdl.std_mean(t, d, keepdim)[1],
                             [x])


def test_var_mean_default_is_correction_0(backend):
    v, m = gdl.var_mean(t64([1.0, 2.0, 4.0]))
    assert np.isclose(v.item(), np.var([1.0, 2.0, 4.0])) and np.isclose(m.item(), 7 / 3)
    v, _ = gdl.var_mean(t64([1.0, 2.0, 4.0]), unbiased=True)
    assert np.isclose(v.item(), np.var([1.0, 2.0, 4.0], ddof=1))


def test_nansum_nanmean(backend):
    a = np.array([[1.0, NAN, 2.0], [NAN, NAN, NAN]])
    assert_close(gdl.nansum(t64(a)), np.nansum(a))
    assert_close(t64(a).nansum(1, keepdim=True), np.nansum(a, axis=1, keepdims=True))
    m = gdl.nanmean(t64(a), 1)
    assert m.tolist()[0] == 1.5 and np.isnan(m.tolist()[1])
    assert_close(gdl.nanmean(t64(a), axis=0), [1.0, NAN, 2.0])
    assert gdl.nansum(gdl.tensor([1, 2], dtype=gdl.int32)).dtype == gdl.int64
    y = gdl.nanmean(gdl.tensor([1, 2]))
    assert y.dtype == gdl.float32 and y.item() == 1.5
    x = t64([[1.0, NAN, 2.0], [3.0, 4.0, NAN]], True)
    (gdl.nansum(x, 1) * t64([1.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 1.0], [2.0, 2.0, 0.0]]
    x = t64([[1.0, NAN, 2.0], [3.0, 4.0, NAN]], True)
    gdl.nanmean(x).backward()
    assert x.grad.tolist() == [[0.25, 0.0, 0.25], [0.25, 0.25, 0.0]]
    assert gradcheck(lambda t: gdl.nanmean(t, 0) + gdl.nansum(t, 1, keepdim=True), [t64(A, True)])


def test_quantile(backend):
    a = np.array([[1.0, 2.0, 3.0, 4.0], [8.0, 0.0, 4.0, 2.0]])
    for q in (0.0, 0.1, 0.25, 0.5, 0.9, 1.0):
        for method in ("linear", "lower", "higher", "midpoint", "nearest"):
            assert_close(gdl.quantile(t64(a), q, 1, interpolation=method), np.quantile(a, q, axis=1, method=method))
            assert_close(gdl.quantile(t64(a), q, interpolation=method), np.quantile(a, q, method=method))
    y = t64(a).quantile([0.25, 0.5], dim=0, keepdim=True)
    assert_close(y, np.quantile(a, [0.25, 0.5], axis=0, keepdims=True))
    assert gdl.quantile(t64(a), 0.5, keepdim=True).shape == (1, 1)
    assert np.isnan(gdl.quantile(t64([1.0, NAN, 3.0]), 0.5).item())
    y = gdl.quantile(gdl.tensor([1, 2, 3, 4]), 0.5)
    assert y.dtype == gdl.float32 and y.item() == 2.5
    x = t64(A + np.arange(12).reshape(3, 4) * 0.01, True)
    assert gradcheck(lambda t: gdl.quantile(t, [0.3, 0.5, 1.0], 1), [x])
    assert gradcheck(lambda t: gdl.quantile(t, 0.7), [x])
    with pytest.raises(ValueError, match="q must be in"):
        gdl.quantile(t64(a), 1.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        gdl.quantile(t64(a), 0.5, interpolation="cubic")
    with pytest.raises(ValueError, match="quantile: cannot take quantiles of an empty"):
        gdl.quantile(gdl.zeros(0), 0.5)


def test_methods_and_exports():
    for name in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "diff", "prod", "amax", "amin",
                 "aminmax", "argsort", "count_nonzero", "nansum", "nanmean", "median", "nanmedian",
                 "kthvalue", "mode", "quantile"):
        assert callable(getattr(gdl.Tensor, name)), name
        assert callable(getattr(gdl, name)), name
    assert callable(gdl.var_mean) and callable(gdl.std_mean)
