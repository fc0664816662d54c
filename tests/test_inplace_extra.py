"""gdl.functional.inplace_extra: the remaining in-place math, comparison methods, unfold,
random fills, in-place shape changes, fill_diagonal_, sum_to_size and the small queries.
Runs on every test backend; test_torch_crosscheck_inplace_extra.py compares with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl.functional.inplace import InplaceCastError, InplaceValueError
from gdl.functional.inplace_extra import _BINARY, _UNARY
from gdl.testing import gradcheck

UNARY_ARGS = {"cumsum": (1,), "cumprod": (0,), "tril": (0,), "triu": (1,)}


def _domain(name, rng):
    if name in ("acos", "asin", "atanh", "arccos", "arcsin", "arctanh", "erfinv"):
        return rng.uniform(-0.9, 0.9, (3, 4))
    if name in ("acosh", "arccosh"):
        return rng.uniform(1.1, 3.0, (3, 4))
    if name in ("log2", "log10"):
        return rng.uniform(0.1, 3.0, (3, 4))
    if name == "logit":
        return rng.uniform(0.05, 0.95, (3, 4))
    return rng.uniform(-1.5, 1.5, (3, 4))


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_in_place_equals_the_out_of_place_op(backend, name):
    rng = np.random.default_rng(0)
    a = _domain(name, rng)
    if name == "logical_not":
        a = (a > 0).astype(np.float64)
    x = gdl.tensor(a, dtype=gdl.float64)
    args = UNARY_ARGS.get(name, ())
    want = getattr(x, name)(*args).numpy()
    alias = x.detach()  # shares memory: sees the change where the backend can write in place
    out = getattr(x, name + "_")(*args)
    assert out is x and x.dtype == gdl.float64 and x.shape == (3, 4)
    np.testing.assert_allclose(x.numpy(), want.astype(np.float64), rtol=1e-15)
    if backend == "numpy":
        np.testing.assert_allclose(alias.numpy(), want.astype(np.float64), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_in_place_equals_the_out_of_place_op(backend, name):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 2.0, (3, 4)), rng.uniform(0.1, 2.0, (4,))
    b[1] = a[0, 1]  # an equal pair for the comparisons
    x, y = gdl.tensor(a, dtype=gdl.float64), gdl.tensor(b, dtype=gdl.float64)
    args = (0.25,) if name == "lerp" else ()
    want = getattr(x, name)(y, *args)
    getattr(x, name + "_")(y, *args)
    assert x.dtype == gdl.float64
    np.testing.assert_allclose(x.numpy(), want.numpy().astype(np.float64), rtol=1e-15)


def test_comparison_methods_and_their_in_place_forms(backend):
    pred, target = gdl.tensor([1, 2, 3, 4]), gdl.tensor([1, 0, 3, 5])
    assert pred.eq(target).sum().item() == 2
    assert pred.ne(target).tolist() == [False, True, False, True]
    assert pred.lt(target).tolist() == [False, False, False, True]
    assert pred.le(3).tolist() == [True, True, True, False]
    assert pred.gt(2).tolist() == [False, False, True, True]
    assert pred.ge(target).tolist() == [True, True, True, False]
    x = gdl.tensor([1.0, 2.0, 3.0])
    x.gt_(1.5)  # a float tensor holds 1.0/0.0
    assert x.dtype == gdl.float32 and x.tolist() == [0.0, 1.0, 1.0]


def test_in_place_math_keeps_the_rules_of_the_inplace_module(backend):
    with pytest.raises(InplaceCastError, match="tan_"):
        gdl.tensor([1, 2]).tan_()
    w = gdl.tensor([0.5, 0.2], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w.atan2_(gdl.tensor([1.0, 1.0]))
    with gdl.no_grad():
        w.atan2_(gdl.tensor([1.0, 1.0]))
    np.testing.assert_allclose(w.numpy(), np.arctan2([0.5, 0.2], 1.0), rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        gdl.zeros(3).hypot_(gdl.ones(2, 3))


def test_where_method(backend):
    x, y = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True), gdl.tensor([9.0, 9.0, 9.0])
    out = x.where(x > 1.5, y)
    assert out.tolist() == [9.0, 2.0, 3.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def _unfold_reference(a, dim, size, step):
    a = np.moveaxis(a, dim, -1)
    count = (a.shape[-1] - size) // step + 1
    win = np.stack([a[..., i * step : i * step + size] for i in range(count)], axis=-2)
    return np.moveaxis(win, -2, dim)


@pytest.mark.parametrize("dim,size,step", [(0, 2, 1), (1, 3, 2), (-1, 1, 3), (2, 5, 5), (1, 0, 1)])
def test_unfold_values(backend, dim, size, step):
    a = np.arange(4 * 5 * 5, dtype=np.float64).reshape(4, 5, 5)
    out = gdl.tensor(a).unfold(dim, size, step)
    want = _unfold_reference(a, dim % 3, size, step)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)


def test_unfold_gradient_adds_overlapping_windows(backend):
    x = gdl.tensor(np.random.default_rng(2).normal(size=(3, 7)), dtype=gdl.float64, requires_grad=True)
    assert gradcheck(lambda t: t.unfold(1, 3, 2), (x,))
    x = gdl.zeros(3, 7, requires_grad=True)
    x.unfold(1, 3, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], [1, 2, 3, 3, 3, 2, 1])


def test_unfold_of_a_0d_tensor_and_errors(backend):
    assert gdl.tensor(4.0).unfold(0, 1, 1).tolist() == [4.0]
    x = gdl.zeros(2, 5)
    with pytest.raises(ValueError, match="size 6 does not fit"):
        x.unfold(1, 6, 1)
    with pytest.raises(ValueError, match="step must be positive"):
        x.unfold(1, 2, 0)
    with pytest.raises(ValueError, match="out of range"):
        x.unfold(2, 1, 1)
    with pytest.raises(TypeError, match="size must be an int"):
        x.unfold(1, 2.0, 1)


N = 40_000


def _stats(t):
    a = t.numpy().astype(np.float64)
    return a.mean(), a.std()


def test_exponential_cauchy_log_normal_geometric_statistics(backend):
    gdl.manual_seed(3)
    mean, std = _stats(gdl.zeros(N, dtype=gdl.float64).exponential_(4.0))
    assert abs(mean - 0.25) < 4 * 0.25 / np.sqrt(N) and abs(std - 0.25) < 0.01
    c = gdl.zeros(N, dtype=gdl.float64).cauchy_(2.0, 0.5).numpy()
    assert abs(np.median(c) - 2.0) < 0.03 and abs(np.percentile(c, 75) - 2.5) < 0.04  # quartiles median ± sigma
    ln = np.log(gdl.zeros(N, dtype=gdl.float64).log_normal_(0.5, 0.3).numpy())
    assert abs(ln.mean() - 0.5) < 4 * 0.3 / np.sqrt(N) and abs(ln.std() - 0.3) < 0.01
    g = gdl.zeros(N, dtype=gdl.float64).geometric_(0.2).numpy()
    assert g.min() == 1 and np.all(g == np.round(g))
    assert abs(g.mean() - 5.0) < 4 * np.sqrt(0.8) / 0.2 / np.sqrt(N)
    gi = gdl.zeros(100, dtype=gdl.int64).geometric_(0.5)
    assert gi.dtype == gdl.int64 and gi.numpy().min() >= 1


def test_random_fills_repeat_with_the_seed(backend):
    draws = []
    for _ in range(2):
        gdl.manual_seed(7)
        draws.append([gdl.zeros(50).exponential_().numpy(), gdl.zeros(50).cauchy_().numpy(),
                      gdl.zeros(50).random_(0, 10).numpy(), gdl.zeros(50).bernoulli_(0.3).numpy()])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)


def test_random_ranges(backend):
    gdl.manual_seed(0)
    r = gdl.zeros(5000, dtype=gdl.int64).random_(-3, 4).numpy()
    assert r.min() == -3 and r.max() == 3 and set(np.unique(r)) == set(range(-3, 4))
    r = gdl.zeros(2000).random_(5).numpy()
    assert set(np.unique(r)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    u8 = gdl.zeros(3000, dtype=gdl.uint8).random_()
    assert u8.dtype == gdl.uint8 and int(u8.numpy().max()) > 200
    f = gdl.zeros(3000).random_().numpy()
    assert f.max() <= 2**24 and f.max() > 2**23 and np.all(f == np.round(f))
    b = gdl.zeros(1000, dtype=gdl.bool).random_().numpy()
    assert b.any() and not b.all()
    with pytest.raises(ValueError, match="from < to"):
        gdl.zeros(3).random_(5, 5)
    with pytest.raises(ValueError, match="does not fit in int8"):
        gdl.zeros(3, dtype=gdl.int8).random_(0, 300)
    with pytest.raises(TypeError, match="to must be an int"):
        gdl.zeros(3).random_(0, 2.5)


def test_bernoulli_in_place_with_a_number_or_a_tensor(backend):
    gdl.manual_seed(1)
    x = gdl.zeros(N).bernoulli_(0.3).numpy()
    assert set(np.unique(x)) <= {0.0, 1.0} and abs(x.mean() - 0.3) < 0.01
    p = gdl.tensor([0.0, 1.0, 0.5])
    rows = gdl.zeros(4000, 3).bernoulli_(p).numpy()
    assert rows[:, 0].max() == 0 and rows[:, 1].min() == 1 and abs(rows[:, 2].mean() - 0.5) < 0.04
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        gdl.zeros(3).bernoulli_(1.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        gdl.zeros(3).bernoulli_(gdl.tensor([0.5, 2.0, 0.1]))


def test_random_fills_check_their_arguments(backend):
    with pytest.raises(ValueError, match="lambd > 0"):
        gdl.zeros(3).exponential_(0.0)
    with pytest.raises(ValueError, match="sigma > 0"):
        gdl.zeros(3).cauchy_(0.0, -1.0)
    with pytest.raises(ValueError, match="std > 0"):
        gdl.zeros(3).log_normal_(0.0, 0.0)
    with pytest.raises(ValueError, match="0 < p < 1"):
        gdl.zeros(3).geometric_(1.0)
    with pytest.raises(TypeError, match="floating-point"):
        gdl.zeros(3, dtype=gdl.int64).exponential_()
    with pytest.raises(RuntimeError, match="requires grad"):
        gdl.zeros(3, requires_grad=True).exponential_()


def test_shape_changes_in_place(backend):
    x = gdl.zeros(2, 1, 3)
    assert x.squeeze_() is x and x.shape == (2, 3)
    assert x.unsqueeze_(0).shape == (1, 2, 3)
    assert x.transpose_(1, 2).shape == (1, 3, 2)
    assert x.swapaxes_(0, 2).shape == (2, 3, 1)
    assert x.swapdims_(0, 1).shape == (3, 2, 1)
    m = gdl.arange(6.0).reshape(2, 3)
    m.t_()
    assert m.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    with pytest.raises(RuntimeError, match="requires grad"):
        gdl.zeros(2, 1, requires_grad=True).squeeze_()


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 3), False), ((7, 3), True), ((3, 5), True),
                                        ((3, 3, 3), False), ((1, 4), False)])
def test_fill_diagonal(backend, shape, wrap):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    want = a.copy()
    np.fill_diagonal(want, -1.0, wrap=wrap)
    x = gdl.tensor(a)
    assert x.fill_diagonal_(-1.0, wrap=wrap) is x
    np.testing.assert_array_equal(x.numpy(), want)


def test_fill_diagonal_errors_and_dtypes(backend):
    i = gdl.zeros(2, 2, dtype=gdl.int64).fill_diagonal_(2.7)
    assert i.tolist() == [[2, 0], [0, 2]]
    with pytest.raises(InplaceValueError, match="at least 2 dimensions"):
        gdl.zeros(3).fill_diagonal_(1.0)
    with pytest.raises(ValueError, match="must be equal"):
        gdl.zeros(2, 3, 3).fill_diagonal_(1.0)


def test_queries(backend):
    x = gdl.zeros(2, 3, 4)
    assert x.nelement() == 24 and x.ndimension() == 3
    assert x.is_floating_point() and not x.is_complex() and x.is_signed()
    assert not gdl.zeros(2, dtype=gdl.int64).is_floating_point()
    assert not gdl.zeros(2, dtype=gdl.uint8).is_signed() and not gdl.zeros(2, dtype=gdl.bool).is_signed()
    assert x.is_cpu == (x.device.type == "cpu")


def test_mH_and_H(backend):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = gdl.tensor(a)
    np.testing.assert_array_equal(x.mH.numpy(), np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(x[0].H.numpy(), a[0].T)
    with pytest.raises(ValueError, match="mH for batches"):
        _ = x.H


def test_sum_to_size(backend):
    a = np.random.default_rng(4).normal(size=(2, 3, 4))
    x = gdl.tensor(a, dtype=gdl.float64, requires_grad=True)
    np.testing.assert_allclose(x.sum_to_size(3, 1).numpy(), a.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(x.sum_to_size((1, 3, 4)).numpy(), a.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(x.sum_to_size(4).numpy(), a.sum(axis=(0, 1)))
    assert x.sum_to_size(2, 3, 4).shape == (2, 3, 4)
    assert gradcheck(lambda t: t.sum_to_size(3, 1), (x,))
    with pytest.raises(ValueError, match="not expandable"):
        x.sum_to_size(2, 4)
