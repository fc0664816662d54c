"""Samplers (gdl.functional.sampling) and assorted ops (gdl.functional.misc): values on small
hand-checked inputs, gradients by finite differences (float64), statistics of the samplers
with fixed seeds (tolerances of 5 standard errors), seeding, dtypes and errors. Runs on every
test backend; no torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.functional import misc, sampling
from gdl.testing import gradcheck


def T(a, grad=False, dtype=gdl.float64):  # noqa: N802
    return gdl.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def I(a):  # noqa: N802, E743
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def same(t, ref, dtype=None):
    ref = np.asarray(ref)
    out = t.numpy()
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out, ref)
    if dtype is not None:
        assert t.dtype == dtype, (t.dtype, dtype)


def within_sigmas(freq, p, n, k=5.0):
    """Observed frequencies ``freq`` of ``n`` draws agree with probabilities ``p`` to ``k`` standard errors."""
    freq, p = np.asarray(freq, dtype=float), np.asarray(p, dtype=float)
    sigma = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) <= k * sigma + 1e-12), (freq, p, sigma)


# -- bernoulli -------------------------------------------------------------------------------------


def test_bernoulli_values_dtype_and_frequencies(backend):
    same(sampling.bernoulli(T([0.0, 1.0, 1.0, 0.0])), [0.0, 1.0, 1.0, 0.0], gdl.float64)
    out = sampling.bernoulli(gdl.zeros(2, 3), p=1.0)
    same(out, np.ones((2, 3)), gdl.float32)
    same(sampling.bernoulli(gdl.ones(4), p=0.0), np.zeros(4))
    n = 20000
    p = np.array([0.05, 0.5, 0.9])
    draws = sampling.bernoulli(T(np.broadcast_to(p, (n, 3)), dtype=gdl.float32)).numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0}
    within_sigmas(draws.mean(axis=0), p, n)
    within_sigmas([sampling.bernoulli(gdl.zeros(n), p=0.3).numpy().mean()], [0.3], n)


def test_bernoulli_gradient_is_zero_as_torch(backend):
    x = T([0.2, 0.7], grad=True)
    y = sampling.bernoulli(x)
    assert y.requires_grad
    (y * 3.0).sum().backward()
    same(x.grad, [0.0, 0.0])


def test_bernoulli_errors(backend):
    with pytest.raises(TypeError, match="bernoulli: input must be a floating"):
        sampling.bernoulli(I([0, 1]))
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must be in \[0, 1\]"):
        sampling.bernoulli(T([0.5, 1.5]))
    with pytest.raises(ValueError, match="bernoulli: probabilities"):
        sampling.bernoulli(T([math.nan]))
    with pytest.raises(ValueError, match=r"bernoulli: p must be in \[0, 1\], got p=1.3"):
        sampling.bernoulli(T([0.5]), 1.3)
    with pytest.raises(TypeError, match="bernoulli: p must be a Python number"):
        sampling.bernoulli(T([0.5]), T([0.5]))
    with pytest.raises(TypeError, match="bernoulli: input must be a Tensor"):
        sampling.bernoulli([0.5])


# -- multinomial -----------------------------------------------------------------------------------


def test_multinomial_with_replacement_frequencies(backend):
    n = 20000
    w = np.array([1.0, 2.0, 3.0, 0.0])
    out = sampling.multinomial(T(w, dtype=gdl.float32), n, replacement=True)
    assert out.shape == (n,) and out.dtype == gdl.int64
    counts = np.bincount(out.numpy(), minlength=4)
    assert counts[3] == 0
    within_sigmas(counts / n, w / w.sum(), n)
    rows = np.array([[0.0, 0.0, 5.0], [1.0, 1.0, 0.0], [0.1, 0.0, 0.3]])
    out = sampling.multinomial(T(rows), 6000, True).numpy()
    assert out.shape == (3, 6000)
    for r in range(3):
        counts = np.bincount(out[r], minlength=3)
        assert np.all(counts[rows[r] == 0] == 0)
        within_sigmas(counts / 6000, rows[r] / rows[r].sum(), 6000)


def test_multinomial_without_replacement(backend):
    w = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    p = w / w.sum()
    n = 20000
    out = sampling.multinomial(T(np.broadcast_to(w, (n, 5))), 2).numpy()
    assert out.shape == (n, 2)
    assert np.all(out[:, 0] != out[:, 1]) and not np.any(out == 3)
    within_sigmas(np.bincount(out[:, 0], minlength=5) / n, p, n)  # the first draw: the weights
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j) for j in range(5)])
    within_sigmas(np.bincount(out[:, 1], minlength=5) / n, second, n)  # the second: one removed
    every = sampling.multinomial(T(w), 4).numpy()  # all nonzero categories, each once
    assert sorted(every.tolist()) == [0, 1, 2, 4]
    one = sampling.multinomial(T([[0.0, 7.0, 0.0]]), 1)
    same(one, [[1]], gdl.int64)
    same(sampling.multinomial(gdl.ones(0, 3), 2), np.zeros((0, 2), dtype=np.int64))


def test_multinomial_errors(backend):
    with pytest.raises(ValueError, match="multinomial: input must be 1-d or 2-d"):
        sampling.multinomial(T(1.0), 1)
    with pytest.raises(ValueError, match="multinomial: input must be 1-d or 2-d"):
        sampling.multinomial(gdl.ones(2, 2, 2), 1)
    with pytest.raises(TypeError, match="multinomial: input must be a floating"):
        sampling.multinomial(I([1, 2]), 1)
    with pytest.raises(ValueError, match="num_samples=0 <= 0"):
        sampling.multinomial(T([1.0, 2.0]), 0)
    with pytest.raises(ValueError, match="cannot sample 3 > 2 categories without replacement"):
        sampling.multinomial(T([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="only 2 nonzero weights"):
        sampling.multinomial(T([1.0, 0.0, 2.0]), 3)
    for bad in ([1.0, -1.0, 2.0], [1.0, math.inf], [1.0, math.nan]):
        with pytest.raises(ValueError, match="weights must be finite and >= 0"):
            sampling.multinomial(T(bad), 1, True)
    with pytest.raises(ValueError, match="row 1 has only zero weights"):
        sampling.multinomial(T([[1.0, 1.0], [0.0, 0.0]]), 1, True)
    with pytest.raises(TypeError, match="num_samples must be an int"):
        sampling.multinomial(T([1.0]), 1.0)


# -- normal and poisson ----------------------------------------------------------------------------


def test_normal_overloads_shapes_and_dtypes(backend):
    m = T([0.0, 100.0], dtype=gdl.float32)
    same(sampling.normal(m, 0.0), [0.0, 100.0], gdl.float32)
    out = sampling.normal(m, T([[1.0], [2.0]], dtype=gdl.float64))
    assert out.shape == (2, 2) and out.dtype == gdl.float32  # mean's dtype, as torch
    out = sampling.normal(0.0, T([1.0, 2.0, 3.0]))
    assert out.shape == (3,) and out.dtype == gdl.float64
    out = sampling.normal(2.0, 0.5, (2, 3))
    assert out.shape == (2, 3) and out.dtype == gdl.float32
    assert sampling.normal(0.0, 1.0, size=(4,), dtype=gdl.float64).dtype == gdl.float64
    assert sampling.normal(0.0, 1.0, 5).shape == (5,)


def test_normal_statistics(backend):
    n = 20000
    means, stds = np.array([-3.0, 0.0, 10.0]), np.array([0.5, 1.0, 4.0])
    draws = sampling.normal(T(np.broadcast_to(means, (n, 3))), T(stds)).numpy()
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - means), 5 * stds / np.sqrt(n))
    # the sample std's standard error is about std / sqrt(2n)
    np.testing.assert_array_less(np.abs(draws.std(axis=0) - stds), 5 * stds / np.sqrt(2 * n))
    flat = sampling.normal(1.5, 2.0, (n,)).numpy()
    assert abs(flat.mean() - 1.5) < 5 * 2.0 / np.sqrt(n)


def test_normal_gradients_are_zero_and_errors(backend):
    m, s = T([1.0, 2.0], grad=True), T([1.0, 3.0], grad=True)
    y = sampling.normal(m, s)
    y.sum().backward()
    same(m.grad, [0.0, 0.0])
    same(s.grad, [0.0, 0.0])
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        sampling.normal(T([0.0]), -1.0)
    with pytest.raises(ValueError, match="every element of std must be >= 0"):
        sampling.normal(T([0.0, 1.0]), T([-1.0, 1.0]))
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        sampling.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="normal: mean must be a floating"):
        sampling.normal(I([0, 1]), 1.0)
    with pytest.raises(TypeError, match="give size"):
        sampling.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size, dtype and backend go with numbers"):
        sampling.normal(T([0.0]), 1.0, (3,))
    with pytest.raises(ValueError, match="do not broadcast"):
        sampling.normal(T([0.0, 1.0]), T([1.0, 1.0, 1.0]))


def test_poisson_statistics_dtype_and_gradient(backend):
    n = 20000
    rates = np.array([0.0, 0.5, 3.0, 40.0])
    draws = sampling.poisson(T(np.broadcast_to(rates, (n, 4)), dtype=gdl.float32))
    assert draws.dtype == gdl.float32
    d = draws.numpy()
    assert np.all(d == np.round(d)) and np.all(d[:, 0] == 0)
    np.testing.assert_array_less(np.abs(d.mean(axis=0) - rates), 5 * np.sqrt(rates / n) + 1e-12)
    np.testing.assert_allclose(d[:, 1:].var(axis=0), rates[1:], rtol=0.1)
    x = T([1.0, 2.0], grad=True)
    y = sampling.poisson(x)
    assert y.dtype == gdl.float64
    y.sum().backward()
    same(x.grad, [0.0, 0.0])


def test_poisson_errors(backend):
    for bad in ([-1.0, 2.0], [math.nan], [math.inf]):
        with pytest.raises(ValueError, match="poisson: rates must be finite and >= 0"):
            sampling.poisson(T(bad))
    with pytest.raises(TypeError, match="poisson: input must be a floating"):
        sampling.poisson(I([1, 2]))


def test_samplers_follow_manual_seed(backend):
    def draw():
        return [
            sampling.bernoulli(gdl.full((50,), 0.5)).numpy(),
            sampling.multinomial(gdl.ones(3, 10), 4).numpy(),
            sampling.multinomial(gdl.ones(10), 30, replacement=True).numpy(),
            sampling.normal(gdl.zeros(20), 1.0).numpy(),
            sampling.poisson(gdl.full((20,), 4.0)).numpy(),
        ]

    gdl.manual_seed(123)
    first = draw()
    gdl.manual_seed(123)
    again = draw()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, draw()))


# -- searchsorted and bucketize ------------------------------------------------------------------


def test_searchsorted_values(backend):
    seq = T([1.0, 3.0, 5.0, 7.0])
    v = T([0.0, 3.0, 6.0, 9.0])
    same(misc.searchsorted(seq, v), [0, 1, 3, 4], gdl.int64)
    same(misc.searchsorted(seq, v, right=True), [0, 2, 3, 4])
    same(misc.searchsorted(seq, v, side="right"), [0, 2, 3, 4])
    same(misc.searchsorted(seq, v, side="right", right=True), [0, 2, 3, 4])
    same(misc.searchsorted(seq, 5.0), 2)
    same(misc.searchsorted(seq, 5), 2)
    same(misc.searchsorted(seq, T([[3.0, 8.0]]), out_int32=True), [[1, 4]], gdl.int32)
    same(misc.searchsorted(I([1, 2, 3]), T([1.5])), [1])  # mixed dtypes compare exactly
    same(misc.searchsorted(T([1.0, 2.0, 3.0]), I([1, 2])), [0, 1])
    same(misc.searchsorted(T([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]), T([[2.0, 5.0], [2.0, 5.0]])), [[1, 3], [0, 2]])
    same(misc.searchsorted(T([3.0, 1.0, 2.0]), T([2.5]), sorter=I([1, 2, 0])), [2])


def test_searchsorted_and_bucketize_errors(backend):
    seq = T([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="ask for opposite sides"):
        misc.searchsorted(seq, T([2.0]), side="left", right=True)
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        misc.searchsorted(seq, T([2.0]), side="foo")
    with pytest.raises(ValueError, match="same leading dimensions"):
        misc.searchsorted(T([[1.0, 2.0], [3.0, 4.0]]), T([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        misc.searchsorted(T(1.0), T([1.0]))
    with pytest.raises(TypeError, match="sorter must be an integer tensor"):
        misc.searchsorted(seq, T([1.0]), sorter=T([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="boundaries must be 1-d"):
        misc.bucketize(T([1.0]), T([[1.0, 2.0]]))


def test_bucketize_values(backend):
    b = T([1.0, 2.0, 3.0])
    x = T([1.0, 2.5, 3.0, 0.0, 9.0])
    same(misc.bucketize(x, b), [0, 2, 2, 0, 3], gdl.int64)
    same(misc.bucketize(x, b, right=True), [1, 2, 3, 0, 3])
    same(misc.bucketize(2, b), 1)
    same(misc.bucketize(T([[2.0, 0.5]]), b, out_int32=True), [[1, 0]], gdl.int32)


# -- unique, unique_consecutive, bincount, histc --------------------------------------------------


def test_unique_values_inverse_counts(backend):
    x = I([[3, 1], [3, 2]])
    same(misc.unique(x), [1, 2, 3], gdl.int64)
    values, inverse, counts = misc.unique(x, return_inverse=True, return_counts=True)
    same(values, [1, 2, 3])
    same(inverse, [[2, 0], [2, 1]], gdl.int64)
    same(counts, [1, 1, 2], gdl.int64)
    v, c = misc.unique(T([3.0, 1.0, 3.0, math.nan, math.nan]), return_counts=True)
    np.testing.assert_array_equal(v.numpy(), [1.0, 3.0, math.nan, math.nan])  # NaNs are distinct, as torch
    same(c, [1, 2, 1, 1])
    v, c = misc.unique(gdl.tensor([True, False, True]), return_counts=True)
    same(v, [False, True], gdl.bool_)
    same(c, [1, 2])
    v, i = misc.unique(I(5), return_inverse=True)
    same(v, [5])
    same(i, 0)
    v, i, c = misc.unique(gdl.tensor(np.zeros(0, dtype=np.int32)), return_inverse=True, return_counts=True)
    assert v.shape == i.shape == c.shape == (0,) and v.dtype == gdl.int32
    same(misc.unique(x, sorted=False), [1, 2, 3])


def test_unique_along_a_dim(backend):
    x = I([[1, 2], [1, 2], [0, 5], [1, 0]])
    v, i, c = misc.unique(x, dim=0, return_inverse=True, return_counts=True)
    same(v, [[0, 5], [1, 0], [1, 2]])  # rows in lexicographic order
    same(i, [2, 2, 0, 1], gdl.int64)
    same(c, [1, 1, 2], gdl.int64)
    same(misc.unique(x, dim=1), [[1, 2], [1, 2], [0, 5], [1, 0]])  # two distinct columns, already sorted
    same(misc.unique(x, dim=-1, return_counts=True)[1], [1, 1])
    cube = I([[[1, 2], [3, 4]], [[0, 0], [0, 0]], [[1, 2], [3, 4]]])
    v, i = misc.unique(cube, dim=0, return_inverse=True)
    same(v, [[[0, 0], [0, 0]], [[1, 2], [3, 4]]])
    same(i, [1, 0, 1])
    same(misc.unique(cube, dim=2), [[[1, 2], [3, 4]], [[0, 0], [0, 0]], [[1, 2], [3, 4]]])
    v, i, c = misc.unique(gdl.zeros(0, 3, dtype=gdl.int64), dim=0, return_inverse=True, return_counts=True)
    assert v.shape == (0, 3) and i.shape == c.shape == (0,)
    with pytest.raises(ValueError, match="slices along dim 0 of a tensor of shape \\(3, 0\\) are empty"):
        misc.unique(gdl.zeros(3, 0), dim=0)
    with pytest.raises(ValueError, match="0-d tensor"):
        misc.unique(I(5), dim=0)
    with pytest.raises(ValueError):
        misc.unique(x, dim=2)


def test_unique_consecutive(backend):
    x = I([1, 1, 2, 2, 3, 1, 1, 2])
    same(misc.unique_consecutive(x), [1, 2, 3, 1, 2])
    v, i, c = misc.unique_consecutive(x, return_inverse=True, return_counts=True)
    same(i, [0, 0, 1, 1, 2, 3, 3, 4])
    same(c, [2, 2, 1, 2, 1])
    _, i = misc.unique_consecutive(I([[1, 1], [2, 2]]), return_inverse=True)
    same(i, [[0, 0], [1, 1]])
    v, i, c = misc.unique_consecutive(I([[1, 2], [1, 2], [0, 5], [1, 2]]), dim=0, return_inverse=True,
                                      return_counts=True)
    same(v, [[1, 2], [0, 5], [1, 2]])
    same(i, [0, 0, 1, 2])
    same(c, [2, 1, 1])


def test_bincount(backend):
    x = I([0, 1, 1, 3])
    same(misc.bincount(x), [1, 2, 0, 1], gdl.int64)
    same(misc.bincount(x, minlength=6), [1, 2, 0, 1, 0, 0])
    same(misc.bincount(x, weights=T([1.0, 2.0, 3.0, 4.0], dtype=gdl.float32)), [1.0, 5.0, 0.0, 4.0], gdl.float32)
    same(misc.bincount(x, weights=T([1.0, 2.0, 3.0, 4.0])), [1.0, 5.0, 0.0, 4.0], gdl.float64)
    same(misc.bincount(x, weights=I([1, 2, 3, 4])), [1.0, 5.0, 0.0, 4.0], gdl.float64)  # as torch
    same(misc.bincount(I([])), np.zeros(0, dtype=np.int64))
    same(misc.bincount(I([]), minlength=3), [0, 0, 0])
    same(misc.bincount(gdl.tensor(np.array([1, 2], dtype=np.uint8))), [0, 1, 1])
    with pytest.raises(ValueError, match="bincount: input must be non-negative"):
        misc.bincount(I([0, -1]))
    for bad in (T([0.0, 1.0]), I([[0, 1]]), gdl.tensor([True, False])):
        with pytest.raises(TypeError, match="1-d tensor of non-negative integers"):
            misc.bincount(bad)
    with pytest.raises(ValueError, match="weights of shape"):
        misc.bincount(I([0, 1]), weights=T([1.0]))
    with pytest.raises(ValueError, match="minlength must be an int >= 0"):
        misc.bincount(I([0, 1]), minlength=-1)


def test_histc(backend):
    x = T([1.0, 2.0, 1.0], dtype=gdl.float32)
    same(misc.histc(x, bins=4, min=0, max=3), [0.0, 2.0, 1.0, 0.0], gdl.float32)
    same(misc.histc(T([1.0, 2.0, 1.0, 5.0, -1.0]), bins=4, min=0, max=3), [0.0, 2.0, 1.0, 0.0], gdl.float64)
    same(misc.histc(x, bins=4), [2.0, 0.0, 0.0, 1.0])  # the data's range [1, 2]
    same(misc.histc(T([1.0, 1.0, 1.0]), bins=4), [0.0, 0.0, 3.0, 0.0])  # widened to [0, 2]
    same(misc.histc(T([1.0, 2.0, 3.0, 5.0]), bins=4, min=2, max=2), [1.0, 1.0, 1.0, 1.0])
    same(misc.histc(T([1.0, 2.0, math.nan]), bins=4, min=0, max=3), [0.0, 1.0, 1.0, 0.0])
    same(misc.histc(T([[1.0, 2.0], [3.0, 4.0]]), bins=3), [1.0, 1.0, 2.0])
    same(misc.histc(T(np.zeros(0)), bins=4), [0.0, 0.0, 0.0, 0.0])
    same(misc.histc(T([0.0, 0.25, 0.5, 0.75, 1.0]), bins=4, min=0.0, max=1.0), [1.0, 1.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="histc: input must be a floating"):
        misc.histc(I([1, 2]))
    with pytest.raises(ValueError, match="bins must be an int > 0"):
        misc.histc(x, bins=0)
    with pytest.raises(ValueError, match="max must be larger than min"):
        misc.histc(x, bins=4, min=3, max=1)
    with pytest.raises(ValueError, match="is not finite"):
        misc.histc(T([1.0, math.inf]), bins=4)


# -- repeat_interleave --------------------------------------------------------------------------


def test_repeat_interleave_values(backend):
    x = I([[1, 2], [3, 4]])
    same(misc.repeat_interleave(x, 2), [1, 1, 2, 2, 3, 3, 4, 4])
    same(misc.repeat_interleave(x, 2, dim=1), [[1, 1, 2, 2], [3, 3, 4, 4]])
    same(misc.repeat_interleave(x, I([1, 2]), dim=0), [[1, 2], [3, 4], [3, 4]])
    same(misc.repeat_interleave(x, I([0, 3]), dim=-1), [[2, 2, 2], [4, 4, 4]])
    same(misc.repeat_interleave(x, I(2), dim=0), [[1, 2], [1, 2], [3, 4], [3, 4]])
    same(misc.repeat_interleave(x, I([2]), dim=0), [[1, 2], [1, 2], [3, 4], [3, 4]])
    same(misc.repeat_interleave(I([1, 2])), [0, 1, 1])
    same(misc.repeat_interleave(T(3.0), 2), [3.0, 3.0], gdl.float64)
    same(misc.repeat_interleave(x, 0, dim=0), np.zeros((0, 2), dtype=np.int64))
    same(misc.repeat_interleave(x, 2, dim=0, output_size=4), [[1, 2], [1, 2], [3, 4], [3, 4]])


def test_repeat_interleave_gradient_and_errors(backend):
    a = T(np.arange(6.0).reshape(2, 3) / 7, grad=True)
    assert gradcheck(lambda t: misc.repeat_interleave(t, I([2, 0, 3]), dim=1), [a])
    assert gradcheck(lambda t: misc.repeat_interleave(t, 3), [a])
    x = I([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="repeats must have the same size as input along dim 0"):
        misc.repeat_interleave(x, I([1, 2]))
    with pytest.raises(ValueError, match="repeats must be non-negative"):
        misc.repeat_interleave(x, I([-1, 2]), dim=0)
    with pytest.raises(ValueError, match="repeats must be non-negative"):
        misc.repeat_interleave(x, -1, dim=0)
    with pytest.raises(TypeError, match="repeats must be an integer tensor"):
        misc.repeat_interleave(x, T([1.0, 2.0]), dim=0)
    with pytest.raises(ValueError, match="0-d or 1-d"):
        misc.repeat_interleave(x, I([[1, 2]]), dim=0)
    with pytest.raises(ValueError, match="output_size=5"):
        misc.repeat_interleave(x, 2, dim=0, output_size=5)


# -- cdist ---------------------------------------------------------------------------------------


def test_cdist_values(backend):
    a = T([[0.0, 0.0], [1.0, 1.0]])
    b = T([[3.0, 4.0], [1.0, 1.0], [0.0, -2.0]])
    np.testing.assert_allclose(misc.cdist(a, b).numpy(), [[5.0, math.sqrt(2), 2.0], [math.sqrt(13), 0.0, math.sqrt(10)]])
    np.testing.assert_allclose(misc.cdist(a, b, p=1).numpy(), [[7.0, 2.0, 2.0], [5.0, 0.0, 4.0]])
    np.testing.assert_allclose(misc.cdist(a, b, p=math.inf).numpy(), [[4.0, 1.0, 2.0], [3.0, 0.0, 3.0]])
    np.testing.assert_allclose(misc.cdist(a, b, p=0).numpy(), [[2.0, 2.0, 1.0], [2.0, 0.0, 2.0]])
    np.testing.assert_allclose(misc.cdist(a, b, p=3).numpy()[0, 0], (27 + 64) ** (1 / 3))
    batched = misc.cdist(T(np.ones((2, 1, 2, 3))), T(np.zeros((3, 4, 3))))
    assert batched.shape == (2, 3, 2, 4) and batched.dtype == gdl.float64
    np.testing.assert_allclose(batched.numpy(), math.sqrt(3))
    assert misc.cdist(gdl.zeros(0, 3), gdl.zeros(4, 3)).shape == (0, 4)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, math.inf])
def test_cdist_gradients(backend, p):
    rng = np.random.default_rng(1)
    a = T(rng.standard_normal((2, 3, 4)), grad=True)
    b = T(rng.standard_normal((1, 5, 4)), grad=True)
    assert gradcheck(lambda x, y: misc.cdist(x, y, p=p), [a, b])


def test_cdist_gradient_is_zero_at_zero_distance(backend):
    a = T([[1.0, 2.0]], grad=True)
    b = T([[1.0, 2.0], [1.0, 3.0]], grad=True)
    misc.cdist(a, b).sum().backward()
    same(a.grad, [[0.0, -1.0]])
    same(b.grad, [[0.0, 0.0], [0.0, 1.0]])


def test_cdist_errors(backend):
    with pytest.raises(ValueError, match="x1 must have at least 2 dimensions"):
        misc.cdist(T([1.0, 2.0]), T([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="same number of columns"):
        misc.cdist(T([[1.0, 2.0]]), T([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="p must be a number >= 0"):
        misc.cdist(T([[1.0]]), T([[1.0]]), p=-1)
    with pytest.raises(TypeError, match="x1 must be floating"):
        misc.cdist(I([[1, 2]]), I([[1, 2]]))
    with pytest.raises(TypeError, match="must share a dtype"):
        misc.cdist(T([[1.0]], dtype=gdl.float32), T([[1.0]]))
    with pytest.raises(ValueError, match="do not broadcast"):
        misc.cdist(T(np.ones((2, 2, 3))), T(np.ones((3, 4, 3))))


# -- diag_embed, block_diag, rot90 ----------------------------------------------------------------


def test_diag_embed_values(backend):
    same(misc.diag_embed(I([1, 2])), [[1, 0], [0, 2]], gdl.int64)
    same(misc.diag_embed(I([1, 2]), offset=1), [[0, 1, 0], [0, 0, 2], [0, 0, 0]])
    same(misc.diag_embed(I([1, 2]), offset=-1), [[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    same(misc.diag_embed(I([[1, 2], [3, 4]]), dim1=0, dim2=2), [[[1, 0], [3, 0]], [[0, 2], [0, 4]]])
    same(misc.diag_embed(I([[1, 2], [3, 4]]), dim1=-1, dim2=0), [[[1, 0], [3, 0]], [[0, 2], [0, 4]]])
    same(misc.diag_embed(gdl.tensor([True, True])), [[True, False], [False, True]], gdl.bool_)


@pytest.mark.parametrize("offset, dim1, dim2", [(0, -2, -1), (2, 0, 2), (-1, 2, 1), (1, 1, 0)])
def test_diag_embed_gradient(backend, offset, dim1, dim2):
    a = T(np.random.default_rng(2).standard_normal((2, 3)), grad=True)
    assert gradcheck(lambda t: misc.diag_embed(t, offset, dim1, dim2), [a])


def test_diag_embed_errors(backend):
    with pytest.raises(ValueError, match="dim1 and dim2 name the same dimension"):
        misc.diag_embed(I([[1, 2]]), dim1=1, dim2=1)
    with pytest.raises(ValueError, match="out of range"):
        misc.diag_embed(I([[1, 2]]), dim1=3, dim2=1)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        misc.diag_embed(T(1.0))


def test_block_diag(backend):
    out = misc.block_diag(I(1), T([2.0, 3.0], dtype=gdl.float32), I([[4, 5], [6, 7]]))
    same(out, [[1, 0, 0, 0, 0], [0, 2, 3, 0, 0], [0, 0, 0, 4, 5], [0, 0, 0, 6, 7]], gdl.float32)
    same(misc.block_diag(I([[1, 2]]), I(3)), [[1, 2, 0], [0, 0, 3]], gdl.int64)
    same(misc.block_diag(gdl.ones(0, 2), gdl.ones(1, 0)), [[0.0, 0.0]])
    assert misc.block_diag().shape == (1, 0)
    rng = np.random.default_rng(3)
    a, b, c = T(rng.standard_normal((2, 3)), grad=True), T(rng.standard_normal(2), grad=True), T(1.5, grad=True)
    assert gradcheck(lambda x, y, z: misc.block_diag(x, y, z), [a, b, c])
    with pytest.raises(ValueError, match="2 or fewer dimensions; tensor 0 has shape"):
        misc.block_diag(gdl.ones(2, 2, 2))


def test_rot90(backend):
    x = I([[1, 2], [3, 4]])
    same(misc.rot90(x), [[2, 4], [1, 3]])
    same(misc.rot90(x, 2), [[4, 3], [2, 1]])
    same(misc.rot90(x, 3), [[3, 1], [4, 2]])
    same(misc.rot90(x, -1), [[3, 1], [4, 2]])
    same(misc.rot90(x, 1, (1, 0)), [[3, 1], [4, 2]])
    same(misc.rot90(x, 4), [[1, 2], [3, 4]])
    y = I(np.arange(24).reshape(2, 3, 4))
    same(misc.rot90(y, 1, (0, 2)), np.rot90(np.arange(24).reshape(2, 3, 4), 1, (0, 2)))
    a = T(np.random.default_rng(4).standard_normal((2, 3, 2)), grad=True)
    for k in range(4):
        assert gradcheck(lambda t, k=k: misc.rot90(t, k, (2, 1)), [a])
    with pytest.raises(ValueError, match="rotation dims must differ"):
        misc.rot90(x, 1, (0, 0))
    with pytest.raises(ValueError, match="exactly 2 dimensions"):
        misc.rot90(x, 1, (0,))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        misc.rot90(I([1, 2]))


# -- cartesian_prod, combinations, tensor_split ----------------------------------------------------


def test_cartesian_prod(backend):
    same(misc.cartesian_prod(I([1, 2]), I([3, 4, 5])), [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]])
    same(misc.cartesian_prod(I([1, 2])), [1, 2])
    same(misc.cartesian_prod(I([1, 2]), I([])), np.zeros((0, 2), dtype=np.int64))
    rng = np.random.default_rng(5)
    a, b, c = (T(rng.standard_normal(n), grad=True) for n in (2, 3, 2))
    assert gradcheck(lambda x, y, z: misc.cartesian_prod(x, y, z), [a, b, c])
    with pytest.raises(TypeError, match="share a dtype"):
        misc.cartesian_prod(I([1, 2]), T([3.0, 4.0]))
    with pytest.raises(ValueError, match="expects 1-d tensors"):
        misc.cartesian_prod(I([[1, 2]]))
    with pytest.raises(ValueError, match="at least one tensor"):
        misc.cartesian_prod()


def test_combinations(backend):
    x = I([1, 2, 3])
    same(misc.combinations(x), [[1, 2], [1, 3], [2, 3]])
    same(misc.combinations(x, r=2, with_replacement=True), [[1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]])
    assert misc.combinations(x, r=3, with_replacement=True).shape == (10, 3)
    same(misc.combinations(x, r=1), [[1], [2], [3]])
    same(misc.combinations(x, r=4), np.zeros((0, 4), dtype=np.int64))
    same(misc.combinations(x, r=0), np.zeros(0, dtype=np.int64))
    same(misc.combinations(I([]), r=2), np.zeros((0, 2), dtype=np.int64))
    a = T(np.random.default_rng(6).standard_normal(4), grad=True)
    assert gradcheck(lambda t: misc.combinations(t, 3), [a])
    with pytest.raises(ValueError, match="r must be an int >= 0"):
        misc.combinations(x, r=-1)
    with pytest.raises(ValueError, match="expects a 1-d tensor"):
        misc.combinations(I([[1, 2, 3]]))


def test_tensor_split(backend):
    x = gdl.arange(7)

    def lists(parts):
        return [p.tolist() for p in parts]

    assert lists(misc.tensor_split(x, 3)) == [[0, 1, 2], [3, 4], [5, 6]]
    assert lists(misc.tensor_split(x, [1, 5, 9])) == [[0], [1, 2, 3, 4], [5, 6], []]
    assert lists(misc.tensor_split(x, [5, 1])) == [[0, 1, 2, 3, 4], [], [1, 2, 3, 4, 5, 6]]
    assert lists(misc.tensor_split(x, [-2])) == [[0, 1, 2, 3, 4], [5, 6]]
    assert lists(misc.tensor_split(x, I(3))) == [[0, 1, 2], [3, 4], [5, 6]]
    assert lists(misc.tensor_split(x, I([1, 5]))) == [[0], [1, 2, 3, 4], [5, 6]]
    assert [p.shape for p in misc.tensor_split(gdl.zeros(2, 5), 2, dim=1)] == [(2, 3), (2, 2)]
    a = T(np.random.default_rng(7).standard_normal((3, 5)), grad=True)
    assert gradcheck(lambda t: misc.tensor_split(t, [1, 3], dim=1)[1], [a])
    with pytest.raises(ValueError, match="number of sections must be > 0"):
        misc.tensor_split(x, 0)


# -- trapezoid -----------------------------------------------------------------------------------


def test_trapezoid_values(backend):
    same(misc.trapezoid(I([1, 2, 3])), 4.0, gdl.float32)
    same(misc.trapezoid(T([1.0, 2.0, 3.0]), dx=2), 8.0)
    same(misc.trapezoid(T([1.0, 2.0, 3.0]), T([0.0, 1.0, 3.0])), 6.5)
    same(misc.trapezoid(T([1.0, 2.0, 3.0], dtype=gdl.float32), I([0, 1, 3])), 6.5, gdl.float32)
    same(misc.trapezoid(T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), dim=0), [2.5, 3.5, 4.5])
    same(misc.trapezoid(T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), T([[0.0, 1.0, 3.0]])), [6.5, 15.5])
    same(misc.trapezoid(T([[1.0, 2.0], [4.0, 5.0]]), T([0.0, 2.0]), dim=0), [5.0, 7.0])
    same(misc.trapezoid(T([1.0])), 0.0)
    same(misc.trapezoid(T(np.zeros(0))), 0.0)
    same(misc.trapz(T([1.0, 2.0, 3.0]), dx=2), 8.0)
    same(misc.trapz(T([1.0, 2.0, 3.0]), T([0.0, 1.0, 3.0])), 6.5)


def test_trapezoid_gradients_and_errors(backend):
    rng = np.random.default_rng(8)
    y = T(rng.standard_normal((3, 4)), grad=True)
    x = T(np.cumsum(rng.random(4)), grad=True)
    assert gradcheck(lambda a, b: misc.trapezoid(a, b), [y, x])
    assert gradcheck(lambda a: misc.trapezoid(a, dx=0.5, dim=0), [y])
    x2 = T(np.cumsum(rng.random((3, 4)), axis=1), grad=True)
    assert gradcheck(lambda a, b: misc.trapezoid(a, b), [y, x2])
    with pytest.raises(ValueError, match="one point per sample"):
        misc.trapezoid(T([[1.0, 2.0, 3.0]]), T([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        misc.trapezoid(T(1.0))
    with pytest.raises(TypeError, match="either x or dx"):
        misc.trapezoid(T([1.0, 2.0]), T([0.0, 1.0]), dx=1.0)


# -- Tensor methods ------------------------------------------------------------------------------


def test_tensor_methods_listed():
    assert sampling.TENSOR_METHODS == {"bernoulli": sampling.bernoulli, "multinomial": sampling.multinomial}
    expected = {
        "bincount", "diag_embed", "histc", "repeat_interleave", "rot90", "tensor_split", "unique",
        "unique_consecutive",
    }
    assert set(misc.TENSOR_METHODS) == expected
    for name, fn in misc.TENSOR_METHODS.items():
        assert fn is getattr(misc, name)
    for module in (sampling, misc):
        assert set(module.TENSOR_METHODS) <= set(module.__all__)
        assert all(callable(getattr(module, name)) for name in module.__all__)
