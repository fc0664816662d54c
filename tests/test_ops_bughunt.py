"""Regression tests for bugs found in the new tensor ops (one test per bug; no PyTorch needed)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl


def test_prod_backward_over_an_empty_axis(backend):
    # the backward's exclusive cumprod grew an empty axis to size 1 (reshape failed; strict: bad slice)
    x = gdl.zeros(0, dtype=gdl.float64, requires_grad=True)
    gdl.prod(x).backward()
    assert x.grad.shape == (0,)
    # a kept axis of size 0 left the flattened size unknown (reshape to (..., -1))
    y = gdl.ones(2, 0, 3, dtype=gdl.float64, requires_grad=True)
    gdl.prod(y, dim=0).sum().backward()
    assert y.grad.shape == (2, 0, 3)
    z = gdl.ones(2, 0, dtype=gdl.float64, requires_grad=True)
    gdl.prod(z, dim=1).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros((2, 0)))


def test_narrow_start_at_the_end_does_not_wrap_to_zero(backend):
    x = gdl.arange(3)
    with pytest.raises(IndexError, match="narrow"):
        gdl.narrow(x, 0, 3, 1)  # was x[0:1]: start 3 wrapped to 0
    assert gdl.narrow(x, 0, 3, 0).shape == (0,)
    assert gdl.narrow(x, 0, -3, 1).tolist() == [0]


def test_extremes_of_bool_tensors(backend):
    # the Array API's max/min refuse bools (array_api_strict raised an obscure TypeError)
    b = gdl.tensor([[True, False], [False, False]])
    assert gdl.amax(b, dim=1).tolist() == [True, False]
    assert gdl.amin(b).tolist() is False
    assert gdl.max(b).tolist() is True
    lo, hi = gdl.aminmax(b, dim=0)
    assert lo.tolist() == [False, False] and hi.tolist() == [True, False]


def test_sorting_bool_tensors(backend):
    b = gdl.tensor([True, False, True, False])
    assert gdl.argsort(b).tolist() == [1, 3, 0, 2]
    assert gdl.argsort(b, descending=True).tolist() == [0, 2, 1, 3]
    values, indices = gdl.sort(b)
    assert values.tolist() == [False, False, True, True] and indices.tolist() == [1, 3, 0, 2]
    assert gdl.topk(b, 1).values.tolist() == [True]
    assert gdl.mode(gdl.tensor([True, False, True])).values.tolist() is True


def test_clamp_of_a_bool_tensor(backend):
    b = gdl.tensor([True, False])
    out = gdl.clamp_min(b, 2)  # was [True, True] (2 cast to bool); PyTorch: int64 [2, 2]
    assert out.dtype == gdl.int64 and out.tolist() == [2, 2]
    assert gdl.clamp_max(b, 0).tolist() == [0, 0]
    assert gdl.clamp_min(b, 0.5).tolist() == [1.0, 0.5]
    assert gdl.clamp_min(b, gdl.tensor([False, True])).tolist() == [True, True]
    assert gdl.clamp_max(b, gdl.tensor([False, True])).tolist() == [False, False]


def test_maximum_minimum_of_bool_tensors(backend):
    a, b = gdl.tensor([True, False, False]), gdl.tensor([False, False, True])
    assert gdl.maximum(a, b).tolist() == [True, False, True]
    assert gdl.minimum(a, b).tolist() == [False, False, False]


def test_quantile_of_a_0d_tensor_with_keepdim_stays_0d(backend):
    x = gdl.tensor(2.0)
    assert gdl.quantile(x, 0.5, dim=0, keepdim=True).shape == ()
    assert gdl.quantile(x, [0.3, 0.5], dim=0, keepdim=True).shape == (2,)  # was (2, 1)
    assert gdl.quantile(x, 0.5, keepdim=True).shape == ()


def test_products_of_int_and_bool_tensors(backend):
    # array_api_strict refuses int @ bool; matmul blamed "the batch dimensions"
    i = gdl.tensor([[1, 2], [3, 4]])
    b = gdl.tensor([[True, False], [False, True]])
    assert gdl.mm(i, b).tolist() == [[1, 2], [3, 4]]
    assert gdl.mm(i, b).dtype == gdl.int64
    assert gdl.outer(gdl.tensor([1, 2]), gdl.tensor([True, False])).tolist() == [[1, 0], [2, 0]]
    assert gdl.dot(gdl.tensor([True, True]), gdl.tensor([3, 4])).item() == 7


def test_matmul_dtype_refusal_is_not_called_a_shape_error(backend):
    if backend != "array_api_strict":
        pytest.skip("only array_api_strict refuses a bool matrix product")
    b = gdl.tensor([[True]])
    with pytest.raises(TypeError, match="matmul: cannot multiply bool and bool"):
        gdl.matmul(b, b)


def test_roll_with_a_float_shift_names_the_op(backend):
    with pytest.raises(TypeError, match="roll: shifts"):
        gdl.roll(gdl.arange(3), 1.5)


def test_joining_non_tensors_names_the_op(backend):
    for fn in (gdl.hstack, gdl.vstack, gdl.concat, gdl.stack):
        with pytest.raises(TypeError, match="expected a sequence of tensors"):
            fn([gdl.tensor([1]), 2])


def test_median_of_an_empty_tensor_stays_in_the_graph(backend):
    x = gdl.zeros(0, dtype=gdl.float64, requires_grad=True)
    m = gdl.median(x)
    assert np.isnan(m.item())
    m.backward()  # raised "does not require grad"
    assert x.grad.shape == (0,)


def test_flip_returns_a_copy_as_torch(backend):
    """NumPy's flip is a view: writing into the result must not change the input."""
    x = gdl.tensor([1.0, 2.0, 3.0])
    y = x.flip(0)
    y[0] = 10.0
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == [10.0, 2.0, 1.0]
    t = gdl.tensor(5.0)
    z = t.flip(())
    z[...] = 1.0
    assert t.item() == 5.0 and z.item() == 1.0


def test_relu_keeps_an_integer_dtype_as_torch(backend):
    out = gdl.tensor([-2, 0, 3]).relu()
    assert out.dtype == gdl.int64 and out.tolist() == [0, 0, 3]
    assert gdl.relu(gdl.tensor([-1.5, 2.0])).dtype == gdl.float32


def test_slices_beyond_the_axis_clamp_as_python_and_torch(backend):
    """``x[:, -32:]`` of 9 columns is every column (array_api_strict refused the start)."""
    x = gdl.arange(18).reshape(2, 9)
    assert x[:, -32:].tolist() == x.tolist()
    assert x[:, 5:100].tolist() == [[5, 6, 7, 8], [14, 15, 16, 17]]
    assert x[..., 20:].shape == (2, 0)
    assert x[:, 100:-100:-3].tolist() == [[8, 5, 2], [17, 14, 11]]
    y = gdl.arange(9.0, requires_grad=True)
    y[-50:3].sum().backward()
    assert y.grad.tolist() == [1.0, 1.0, 1.0, 0, 0, 0, 0, 0, 0]
