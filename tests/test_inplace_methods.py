"""In-place Tensor methods (``zero_``, ``add_``, ``uniform_``, ...) and the conveniences
that make new tensors (``new_zeros``, ``type_as``, ``half``, ``nbytes``, ...): values, the
returned object, dtypes, broadcasting, the refusal on tensors that require grad, and
repeatable random fills; on every test backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.functional.inplace import InplaceCastError, InplaceValueError


def arr(t):
    return np.asarray(t.numpy())


# -- values, self returned, dtype kept ----------------------------------------------------------

X = [[1.0, -2.0, 3.0], [0.25, 4.0, -0.5]]

BINARY = [
    ("add_", lambda x, y: x + y),
    ("sub_", lambda x, y: x - y),
    ("mul_", lambda x, y: x * y),
    ("div_", lambda x, y: x / y),
]


@pytest.mark.parametrize("name,ref", BINARY)
def test_binary_in_place_with_tensor_and_scalar(backend, name, ref):
    x = gdl.tensor(X)
    before = arr(x)
    y = gdl.tensor([2.0, 4.0, -1.0])
    out = getattr(x, name)(y)
    assert out is x
    assert x.dtype == gdl.float32
    np.testing.assert_allclose(arr(x), ref(before, arr(y)), rtol=1e-6)
    getattr(x, name)(3.0)
    np.testing.assert_allclose(arr(x), ref(ref(before, arr(y)), 3.0), rtol=1e-6)


def test_add_and_sub_with_alpha(backend):
    x = gdl.zeros(2, 3)
    assert x.add_(gdl.tensor([1.0, 2.0, 3.0]), alpha=2) is x
    np.testing.assert_array_equal(arr(x), [[2, 4, 6], [2, 4, 6]])
    x.sub_(1.0, alpha=0.5)
    np.testing.assert_array_equal(arr(x), [[1.5, 3.5, 5.5], [1.5, 3.5, 5.5]])
    y = gdl.zeros(2)
    y.add_([1.0, 2.0], alpha=2)  # a list operand is a tensor, not repeated
    np.testing.assert_array_equal(arr(y), [2, 4])
    i = gdl.tensor([1, 2, 3])
    i.add_(gdl.tensor([1, 1, 1]), alpha=3)
    np.testing.assert_array_equal(arr(i), [4, 5, 6])
    assert i.dtype == gdl.int64


def test_pow_in_place(backend):
    x = gdl.tensor([1.0, 2.0, 3.0])
    assert x.pow_(2) is x
    np.testing.assert_allclose(arr(x), [1, 4, 9])
    x.pow_(gdl.tensor([0.5, 0.5, 0.5]))
    np.testing.assert_allclose(arr(x), [1, 2, 3], rtol=1e-6)
    i = gdl.tensor([1, 2, 3])
    i.pow_(3)
    np.testing.assert_array_equal(arr(i), [1, 8, 27])
    assert i.dtype == gdl.int64


UNARY = [
    ("neg_", lambda v: -v, [1.0, -2.0, 0.5]),
    ("exp_", np.exp, [1.0, -2.0, 0.5]),
    ("log_", np.log, [1.0, 2.0, 0.5]),
    ("sqrt_", np.sqrt, [1.0, 4.0, 0.25]),
    ("abs_", np.abs, [1.0, -2.0, 0.5]),
    ("tanh_", np.tanh, [1.0, -2.0, 0.5]),
    ("sigmoid_", lambda v: 1 / (1 + np.exp(-v)), [1.0, -2.0, 0.5]),
    ("relu_", lambda v: np.maximum(v, 0), [1.0, -2.0, 0.0]),
    ("floor_", np.floor, [1.5, -2.5, 0.5]),
    ("ceil_", np.ceil, [1.5, -2.5, 0.5]),
    ("round_", np.round, [1.5, -2.5, 0.4]),
    ("trunc_", np.trunc, [1.5, -2.5, 0.5]),
    ("sin_", np.sin, [1.0, -2.0, 0.5]),
    ("cos_", np.cos, [1.0, -2.0, 0.5]),
    ("reciprocal_", lambda v: 1 / v, [1.0, -2.0, 0.5]),
    ("rsqrt_", lambda v: 1 / np.sqrt(v), [1.0, 4.0, 0.25]),
    ("square_", np.square, [1.0, -2.0, 0.5]),
    ("sign_", np.sign, [1.0, -2.0, 0.0]),
    ("log1p_", np.log1p, [1.0, 2.0, 0.5]),
    ("expm1_", np.expm1, [1.0, -2.0, 0.5]),
]


@pytest.mark.parametrize("name,ref,values", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_in_place(backend, name, ref, values, dtype):
    x = gdl.tensor(values, dtype=dtype)
    out = getattr(x, name)()
    assert out is x
    assert x.dtype == dtype
    np.testing.assert_allclose(arr(x), ref(np.asarray(values, dtype=dtype)), rtol=1e-6, atol=1e-7)


def test_integer_unary_ops_keep_integers(backend):
    x = gdl.tensor([-3, 0, 2])
    assert x.neg_() is x
    np.testing.assert_array_equal(arr(x), [3, 0, -2])
    x.abs_()
    np.testing.assert_array_equal(arr(x), [3, 0, 2])
    y = gdl.tensor([-3, 0, 2]).relu_()
    np.testing.assert_array_equal(arr(y), [0, 0, 2])
    assert y.dtype == gdl.int64


def test_relu_keeps_nan(backend):
    x = gdl.tensor([float("nan"), -1.0, 2.0]).relu_()
    v = arr(x)
    assert math.isnan(v[0]) and v[1] == 0 and v[2] == 2


def test_clamp_and_clip(backend):
    x = gdl.tensor([-2.0, 0.5, 3.0])
    assert x.clamp_(-1, 1) is x
    np.testing.assert_array_equal(arr(x), [-1, 0.5, 1])
    y = gdl.tensor([-2.0, 0.5, 3.0]).clip_(min=0.0)
    np.testing.assert_array_equal(arr(y), [0, 0.5, 3])
    z = gdl.tensor([-2.0, 0.5, 3.0]).clamp_(max=gdl.tensor([0.0, 0.0, 5.0]))
    np.testing.assert_array_equal(arr(z), [-2, 0, 3])
    np.testing.assert_array_equal(arr(gdl.tensor([-2.0, 3.0]).clamp_min_(0.0)), [0, 3])
    np.testing.assert_array_equal(arr(gdl.tensor([-2.0, 3.0]).clamp_max_(0.0)), [-2, 0])
    i = gdl.tensor([-5, 1, 9]).clamp_(0, 4)
    np.testing.assert_array_equal(arr(i), [0, 1, 4])
    assert i.dtype == gdl.int64
    with pytest.raises(ValueError, match="at least one"):
        gdl.tensor([1.0]).clamp_()


def test_div_rounding_modes_on_integers(backend):
    x = gdl.tensor([-7, 7, 6])
    assert x.div_(2, rounding_mode="floor") is x
    np.testing.assert_array_equal(arr(x), [-4, 3, 3])
    y = gdl.tensor([-7, 7, 6]).div_(2, rounding_mode="trunc")
    np.testing.assert_array_equal(arr(y), [-3, 3, 3])
    assert y.dtype == gdl.int64
    with pytest.raises(ValueError, match="rounding_mode"):
        gdl.tensor([1.0]).div_(2, rounding_mode="round")


# -- dtypes: PyTorch's in-place casting rule --------------------------------------------------


@pytest.mark.parametrize(
    "make,call",
    [
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.add_(1.5)),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.mul_(gdl.tensor([0.5, 0.5, 0.5]))),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.div_(2)),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.sqrt_()),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.exp_()),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.pow_(0.5)),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.add_(1, alpha=0.5)),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.uniform_()),
        (lambda: gdl.tensor([1, 2, 3]), lambda t: t.normal_()),
        (lambda: gdl.tensor([True, False]), lambda t: t.add_(1)),
        (lambda: gdl.tensor([True, False]), lambda t: t.relu_()),
    ],
)
def test_results_of_a_wider_kind_are_refused(backend, make, call):
    t = make()
    before = arr(t).copy()
    with pytest.raises(TypeError):  # InplaceCastError is a TypeError and a RuntimeError
        call(t)
    np.testing.assert_array_equal(arr(t), before)  # nothing was written


def test_cast_error_is_also_a_runtime_error(backend):
    with pytest.raises(RuntimeError, match=r"add_: result type float32 can't be cast .* int64"):
        gdl.tensor([1, 2]).add_(0.5)
    assert issubclass(InplaceCastError, TypeError) and issubclass(InplaceCastError, RuntimeError)
    assert issubclass(InplaceValueError, ValueError) and issubclass(InplaceValueError, RuntimeError)


def test_float32_keeps_its_dtype_with_a_float64_operand(backend):
    x = gdl.ones(3)
    x.add_(gdl.ones(3, dtype=gdl.float64) * 0.5)
    assert x.dtype == gdl.float32
    np.testing.assert_array_equal(arr(x), [1.5, 1.5, 1.5])
    i = gdl.tensor([1, 2], dtype=gdl.int32)
    i.mul_(gdl.tensor([3, 3]))  # int64 operand: the int32 tensor stays int32
    assert i.dtype == gdl.int32
    np.testing.assert_array_equal(arr(i), [3, 6])


# -- broadcasting and shapes ----------------------------------------------------------------


def test_operands_broadcast_to_self_but_never_grow_it(backend):
    x = gdl.zeros(2, 3)
    x.add_(gdl.tensor([[1.0], [2.0]]))
    np.testing.assert_array_equal(arr(x), [[1, 1, 1], [2, 2, 2]])
    small = gdl.zeros(3)
    with pytest.raises(ValueError, match=r"add_: the result has shape \(2, 3\).*\(3,\)"):
        small.add_(gdl.ones(2, 3))
    with pytest.raises(RuntimeError):
        small.mul_(gdl.ones(2, 3))
    np.testing.assert_array_equal(arr(small), [0, 0, 0])


def test_copy_broadcasts_and_casts(backend):
    x = gdl.zeros(2, 3)
    src = gdl.tensor([1, 2, 3])  # int64 into float32
    assert x.copy_(src) is x
    assert x.dtype == gdl.float32
    np.testing.assert_array_equal(arr(x), [[1, 2, 3], [1, 2, 3]])
    i = gdl.zeros(3, dtype=gdl.int64)
    i.copy_(gdl.tensor([1.7, -2.7, 3.0]))  # floats to integers truncate toward zero
    np.testing.assert_array_equal(arr(i), [1, -2, 3])
    src = gdl.tensor([5.0, 6.0, 7.0])
    y = gdl.zeros(3).copy_(src)
    src.add_(1.0)  # a copy, not an alias of src
    np.testing.assert_array_equal(arr(y), [5, 6, 7])
    with pytest.raises(ValueError, match="does not broadcast"):
        gdl.zeros(3).copy_(gdl.ones(2, 3))
    with pytest.raises(TypeError, match="must be a Tensor"):
        gdl.zeros(3).copy_([1.0, 2.0, 3.0])


def test_copy_refuses_another_backend():
    a = gdl.zeros(2, backend="numpy")
    b = gdl.ones(2, backend="array_api_strict")
    with pytest.raises(ValueError, match=r"different backends.*to\('numpy'\)"):
        a.copy_(b)
    with pytest.raises(ValueError, match="different backends"):
        a.add_(b)


def test_fill_and_zero(backend):
    x = gdl.ones(2, 2)
    assert x.fill_(2.5) is x
    np.testing.assert_array_equal(arr(x), [[2.5, 2.5], [2.5, 2.5]])
    assert x.zero_() is x
    np.testing.assert_array_equal(arr(x), [[0, 0], [0, 0]])
    x.fill_(gdl.tensor(7.0))
    np.testing.assert_array_equal(arr(x), [[7, 7], [7, 7]])
    i = gdl.zeros(3, dtype=gdl.int64).fill_(-1.7)  # PyTorch truncates toward zero
    np.testing.assert_array_equal(arr(i), [-1, -1, -1])
    assert i.dtype == gdl.int64
    b = gdl.zeros(2, dtype=gdl.bool_).fill_(2)
    np.testing.assert_array_equal(arr(b), [True, True])
    with pytest.raises(ValueError, match="0-d tensor"):
        x.fill_(gdl.ones(2))
    with pytest.raises(TypeError, match="value must be"):
        x.fill_("1")


def test_masked_fill_in_place(backend):
    x = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.masked_fill_(gdl.tensor([True, False]), -1.0) is x
    np.testing.assert_array_equal(arr(x), [[-1, 2], [-1, 4]])
    i = gdl.tensor([1, 2, 3]).masked_fill_(gdl.tensor([True, False, True]), 1.7)
    np.testing.assert_array_equal(arr(i), [1, 2, 1])
    with pytest.raises(TypeError, match="bool"):
        gdl.tensor([1.0, 2.0]).masked_fill_(gdl.tensor([1, 0]), 0.0)
    with pytest.raises(ValueError):
        gdl.tensor([1.0, 2.0]).masked_fill_(gdl.tensor([[True, False]]), 0.0)


# -- memory: what sees an in-place change ----------------------------------------------------------


def test_detached_tensors_and_views_see_the_change(backend):
    x = gdl.tensor([1.0, 2.0, 3.0])
    d = x.detach()
    d.mul_(10.0)
    np.testing.assert_array_equal(arr(x), [10, 20, 30])  # as PyTorch: detach() shares memory


def test_read_only_and_scalar_arrays_are_rebound(backend):
    e = gdl.zeros(3).expand(2, 3)
    e.fill_(2.0)
    np.testing.assert_array_equal(arr(e), [[2, 2, 2], [2, 2, 2]])
    s = gdl.tensor([[1.0, 2.0]]).sum()  # a 0-d result (a NumPy scalar on NumPy)
    assert s.add_(1.0) is s
    assert s.item() == 4.0
    s.zero_()
    assert s.item() == 0.0


# -- autograd: refused in grad mode, allowed under no_grad ------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.zero_(),
        lambda w: w.fill_(1.0),
        lambda w: w.add_(1.0),
        lambda w: w.mul_(2.0),
        lambda w: w.exp_(),
        lambda w: w.relu_(),
        lambda w: w.clamp_(0, 1),
        lambda w: w.copy_(gdl.ones(3)),
        lambda w: w.uniform_(),
        lambda w: w.normal_(),
        lambda w: w.masked_fill_(gdl.tensor([True, False, True]), 0.0),
    ],
)
def test_refused_on_a_tensor_that_requires_grad(backend, call):
    w = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*gdl\.no_grad\(\)"):
        call(w)
    np.testing.assert_array_equal(arr(w), [1, 2, 3])
    y = w * 2.0  # a non-leaf too
    with pytest.raises(RuntimeError, match="requires grad"):
        call(y)


def test_refused_with_an_operand_that_requires_grad(backend):
    w = gdl.tensor([1.0, 2.0], requires_grad=True)
    x = gdl.zeros(2)
    with pytest.raises(RuntimeError, match="operand requires grad"):
        x.add_(w)
    with pytest.raises(RuntimeError, match="operand requires grad"):
        x.copy_(w)
    with gdl.no_grad():
        x.add_(w)  # no gradient wanted: fine
    assert not x.requires_grad and x.grad_fn is None
    np.testing.assert_array_equal(arr(x), [1, 2])


def test_initialise_a_parameter_under_no_grad_then_train_it(backend):
    gdl.manual_seed(1)
    w = gdl.nn.Parameter(gdl.zeros(3, 2))
    b = gdl.nn.Parameter(gdl.zeros(2))
    with gdl.no_grad():
        assert w.uniform_(-0.5, 0.5) is w
        b.fill_(0.1)
    assert w.requires_grad and w.is_leaf and isinstance(w, gdl.nn.Parameter)
    x = gdl.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    loss = ((x @ w + b) ** 2).sum()
    loss.backward()
    wv, bv, xv = arr(w), arr(b), arr(x)
    g_out = 2 * (xv @ wv + bv)
    np.testing.assert_allclose(arr(w.grad), xv.T @ g_out, rtol=1e-5)
    np.testing.assert_allclose(arr(b.grad), g_out.sum(0), rtol=1e-5)
    with gdl.no_grad():  # an SGD step, in place, as an optimizer would
        w.sub_(w.grad, alpha=0.1)
        b.sub_(b.grad, alpha=0.1)
    np.testing.assert_allclose(arr(w), wv - 0.1 * (xv.T @ g_out), rtol=1e-5)
    w.grad = b.grad = None
    ((x @ w + b) ** 2).sum().backward()
    g_out = 2 * (xv @ arr(w) + arr(b))
    np.testing.assert_allclose(arr(w.grad), xv.T @ g_out, rtol=1e-5)


def test_detach_in_place(backend):
    w = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = w * 3.0
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad
    y.add_(1.0)  # now allowed
    np.testing.assert_array_equal(arr(y), [4, 7])
    np.testing.assert_array_equal(arr(w), [1, 2])


# -- random fills ------------------------------------------------------------------------------


def test_random_fills_repeat_with_manual_seed(backend):
    gdl.manual_seed(123)
    a = gdl.zeros(50).uniform_(-2.0, 3.0)
    n = gdl.zeros(50, dtype=gdl.float64).normal_(1.0, 0.5)
    gdl.manual_seed(123)
    b = gdl.zeros(50).uniform_(-2.0, 3.0)
    m = gdl.zeros(50, dtype=gdl.float64).normal_(1.0, 0.5)
    np.testing.assert_array_equal(arr(a), arr(b))
    np.testing.assert_array_equal(arr(n), arr(m))
    assert a.dtype == gdl.float32 and n.dtype == gdl.float64
    assert arr(a).min() >= -2.0 and arr(a).max() <= 3.0
    assert len(set(arr(a).tolist())) > 40  # not a constant
    gdl.manual_seed(124)
    c = gdl.zeros(50).uniform_(-2.0, 3.0)
    assert not np.array_equal(arr(a), arr(c))


def test_random_fill_statistics(backend):
    gdl.manual_seed(0)
    u = arr(gdl.zeros(20000).uniform_(**{"from": 1.0, "to": 3.0}))
    assert abs(u.mean() - 2.0) < 0.03 and u.min() >= 1.0 and u.max() <= 3.0
    n = arr(gdl.zeros(20000).normal_(5.0, 2.0))
    assert abs(n.mean() - 5.0) < 0.1 and abs(n.std() - 2.0) < 0.1


def test_random_fill_argument_checks(backend):
    with pytest.raises(ValueError, match="from <= to"):
        gdl.zeros(2).uniform_(1.0, 0.0)
    with pytest.raises(ValueError, match="std >= 0"):
        gdl.zeros(2).normal_(0.0, -1.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        gdl.zeros(2).uniform_(low=0.0)


def test_half_precision_random_fill():
    x = gdl.zeros(5, dtype=gdl.float16, backend="numpy").uniform_()
    assert x.dtype == gdl.float16


# -- new tensors and conveniences ------------------------------------------------------------------


def test_new_tensors_take_dtype_and_backend_from_self(backend):
    i = gdl.tensor([1, 2])
    z = i.new_zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == gdl.int64 and z.backend == backend
    np.testing.assert_array_equal(arr(z), np.zeros((2, 3)))
    assert i.new_zeros((4,)).shape == (4,)
    o = gdl.ones(1).new_ones([2, 2], dtype=gdl.float64)
    assert o.dtype == gdl.float64
    np.testing.assert_array_equal(arr(o), np.ones((2, 2)))
    e = gdl.ones(1).new_empty(3)
    assert e.shape == (3,) and e.dtype == gdl.float32
    f = i.new_full((2,), 1.5)  # converted to int64, as PyTorch
    np.testing.assert_array_equal(arr(f), [1, 1])
    assert f.dtype == gdl.int64
    t = gdl.zeros(1).new_tensor([1, 2])
    assert t.dtype == gdl.float32 and t.backend == backend
    np.testing.assert_array_equal(arr(t), [1, 2])
    assert gdl.zeros(1).new_tensor([1, 2], dtype=gdl.int64).dtype == gdl.int64
    r = gdl.zeros(1).new_zeros(2, requires_grad=True)
    assert r.requires_grad


def test_type_as_and_conversions(backend):
    x = gdl.tensor([1.5, -2.5, 0.0])
    y = x.type_as(gdl.tensor([1, 2]))
    assert y.dtype == gdl.int64
    np.testing.assert_array_equal(arr(y), [1, -2, 0])
    assert x.int().dtype == gdl.int32
    assert x.short().dtype == gdl.int16
    assert x.char().dtype == gdl.int8
    assert gdl.tensor([1.0, 2.0]).byte().dtype == gdl.uint8
    b = x.bool()
    assert b.dtype == gdl.bool_
    np.testing.assert_array_equal(arr(b), [True, True, False])
    assert x.contiguous() is x and x.is_contiguous()


def test_half(backend):
    x = gdl.tensor([1.5, 2.0])
    if backend == "array_api_strict":
        with pytest.raises(TypeError, match="no float16"):
            x.half()
    else:
        h = x.half()
        assert h.dtype == gdl.float16 and h.element_size() == 2 and h.nbytes == 4
        np.testing.assert_array_equal(arr(h), [1.5, 2.0])


def test_sizes_in_bytes(backend):
    x = gdl.zeros(2, 3)
    assert x.element_size() == 4 and x.itemsize == 4 and x.nbytes == 24
    assert gdl.zeros(3, dtype=gdl.float64).nbytes == 24
    assert gdl.zeros(5, dtype=gdl.bool_).nbytes == 5
    assert gdl.tensor([1, 2]).itemsize == 8
    assert gdl.tensor([1, 2], dtype=gdl.int8).element_size() == 1


def test_functional_forms(backend):
    x = gdl.tensor([-1.0, 2.0])
    assert gdl.relu_(x) is x
    np.testing.assert_array_equal(arr(x), [0, 2])
    gdl.zero_(x)
    np.testing.assert_array_equal(arr(x), [0, 0])
