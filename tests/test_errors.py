"""Bad input fails early with an error that names the op and what was wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdl

OTHER = {"numpy": "array_api_strict", "array_api_strict": "numpy", "cupy": "numpy"}


def _other(backend):
    other = OTHER[backend]
    if not gdl.is_usable(other):
        pytest.skip(f"needs a second backend ({other})")
    return other


# -- mixing backends -----------------------------------------------------------------------------------

MIXED_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "matmul": lambda a, b: a @ b,
    "maximum": lambda a, b: gdl.maximum(a, b),
    "minimum": lambda a, b: gdl.minimum(a, b),
    "where": lambda a, b: gdl.where(a > 0, a, b),
    "concat": lambda a, b: gdl.concat([a, b]),
    "stack": lambda a, b: gdl.stack([a, b]),
    "lt": lambda a, b: a < b,
}


@pytest.mark.parametrize("op", list(MIXED_OPS))
def test_mixing_backends_names_both_and_suggests_to(backend, op):
    other = _other(backend)
    a = gdl.tensor([1.0, 2.0], requires_grad=True)
    b = gdl.tensor([3.0, 4.0], backend=other)
    for x, y in ((a, b), (b, a)):
        with pytest.raises(ValueError) as info:
            MIXED_OPS[op](x, y)
        msg = str(info.value)
        assert msg.startswith(op), msg
        assert repr(backend) in msg and repr(other) in msg, msg
        assert ".to(" in msg, msg


def test_indexing_with_a_tensor_from_another_backend(backend):
    other = _other(backend)
    x = gdl.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=rf"index.*{backend}.*{other}.*\.to\("):
        x[gdl.tensor([0, 1], backend=other)]


@pytest.mark.skipif(not gdl.is_usable("array_api_strict"), reason="needs array_api_strict")
def test_numpy_array_with_a_non_numpy_tensor_says_how_to_convert():
    with gdl.use_backend("array_api_strict"):
        x = gdl.tensor([1.0, 2.0])
        with pytest.raises(TypeError, match=r"mul.*NumPy array.*gdl\.tensor\(.*backend='array_api_strict'"):
            x * np.array([1.0, 2.0])


# -- shapes ---------------------------------------------------------------------------------------------

SHAPE_ERRORS = {
    "add": (lambda: gdl.ones(2, 3) + gdl.ones(4), ["(2, 3)", "(4,)"]),
    "sub": (lambda: gdl.ones(2, 3) - gdl.ones(3, 2), ["(2, 3)", "(3, 2)"]),
    "mul": (lambda: gdl.ones(5) * gdl.ones(2, 4), ["(5,)", "(2, 4)"]),
    "div": (lambda: gdl.ones(2, 3) / gdl.ones(2, 2), ["(2, 3)", "(2, 2)"]),
    "maximum": (lambda: gdl.maximum(gdl.ones(2, 3), gdl.ones(4)), ["(2, 3)", "(4,)"]),
    "where": (lambda: gdl.where(gdl.ones(3) > 0, gdl.ones(3), gdl.ones(2)), ["(3,)", "(2,)"]),
    "matmul": (lambda: gdl.ones(2, 3) @ gdl.ones(4, 2), ["(2, 3)", "(4, 2)"]),
    "matmul ": (lambda: gdl.ones(3) @ gdl.ones(2), ["(3,)", "(2,)"]),
    "matmul  ": (lambda: gdl.ones(2, 2, 3) @ gdl.ones(3, 3, 4), ["(2, 2, 3)", "(3, 3, 4)"]),
    "reshape": (lambda: gdl.ones(2, 3).reshape(4, 2), ["(2, 3)", "(4, 2)"]),
    "broadcast_to": (lambda: gdl.ones(2, 3).broadcast_to((4, 3)), ["(2, 3)", "(4, 3)"]),
    "concat": (lambda: gdl.concat([gdl.ones(2, 3), gdl.ones(2, 4)]), ["(2, 3)", "(2, 4)"]),
    "stack": (lambda: gdl.stack([gdl.ones(2, 3), gdl.ones(3, 2)]), ["(2, 3)", "(3, 2)"]),
    "squeeze": (lambda: gdl.ones(2, 3).squeeze(0), ["(2, 3)"]),
    "permute": (lambda: gdl.ones(2, 3).permute(0, 0), ["(2, 3)"]),
}


@pytest.mark.parametrize("op", list(SHAPE_ERRORS))
def test_incompatible_shapes_show_the_shapes(backend, op):
    fn, shapes = SHAPE_ERRORS[op]
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    assert msg.startswith(op.strip()), msg
    for s in shapes:
        assert s in msg, msg


def test_shape_error_from_a_graph_op_records_nothing(backend):
    a = gdl.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="add"):
        a + gdl.ones(4)
    assert a.grad is None and a.grad_fn is None


def test_matmul_of_a_scalar(backend):
    with pytest.raises(ValueError, match=r"matmul.*at least 1 dimension.*\(\).*\(2,\)"):
        gdl.tensor(2.0) @ gdl.ones(2)


# -- backward misuse ----------------------------------------------------------------------------------------


def test_backward_on_non_scalar_needs_a_gradient(backend):
    y = gdl.ones(2, 3, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"backward.*scalar.*\(2, 3\).*gradient"):
        y.backward()


def test_backward_gradient_of_the_wrong_shape(backend):
    y = gdl.ones(2, 3, requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"backward.*\(3, 2\).*\(2, 3\)"):
        y.backward(gdl.ones(3, 2))


def test_backward_without_requires_grad(backend):
    with pytest.raises(RuntimeError, match=r"backward.*requires_grad"):
        (gdl.ones(2) * 2.0).sum().backward()
    x = gdl.ones(2, requires_grad=True)
    with gdl.no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_second_backward_through_a_freed_graph(backend):
    x = gdl.ones(3, requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    msg = str(info.value)
    assert "second time" in msg and "retain_graph=True" in msg and "Backward" in msg, msg


# -- dtypes ----------------------------------------------------------------------------------------------------


def test_integer_tensor_cannot_require_grad(backend):
    cases = [
        lambda: gdl.tensor([1, 2, 3], requires_grad=True),
        lambda: gdl.zeros(2, dtype=gdl.int64, requires_grad=True),
        lambda: gdl.arange(4, requires_grad=True),
        lambda: gdl.full((2,), 3, requires_grad=True),
        lambda: gdl.tensor([True], requires_grad=True),
        lambda: gdl.tensor([1, 2]).requires_grad_(),
        lambda: gdl.tensor(np.arange(3, dtype=np.int32), requires_grad=True),
    ]
    for make in cases:
        with pytest.raises(TypeError, match=r"floating-point.*(int64|int32|bool)"):
            make()
    t = gdl.tensor([1, 2])
    t.requires_grad_(False)  # switching it off is fine
    assert not t.requires_grad


@pytest.mark.parametrize("bad", ["float128", "complex64", "double", "int"])
def test_unknown_dtype_lists_the_known_ones(backend, bad):
    for make in (
        lambda: gdl.zeros(2, dtype=bad),
        lambda: gdl.tensor([1.0], dtype=bad),
        lambda: gdl.ones(1).to(dtype=bad),
    ):
        with pytest.raises(TypeError) as info:
            make()
        msg = str(info.value)
        assert repr(bad) in msg and "float32" in msg and "int64" in msg, msg


def test_set_default_dtype_rejects_non_floats():
    with pytest.raises(TypeError, match="set_default_dtype.*floating"):
        gdl.set_default_dtype(gdl.int64)
    with pytest.raises(TypeError, match="unknown dtype"):
        gdl.set_default_dtype("float80")
    assert gdl.get_default_dtype() == gdl.float32


def test_unknown_backend_for_a_tensor():
    with pytest.raises(ValueError, match="unknown backend 'tpu'.*numpy.*array_api_strict"):
        gdl.tensor([1.0], backend="tpu")


# -- axes ------------------------------------------------------------------------------------------------------

BAD_AXIS = {
    "sum": lambda x: x.sum(axis=3),
    "mean": lambda x: x.mean(axis=-4),
    "max": lambda x: x.max(axis=(0, 5)),
    "min": lambda x: x.min(axis=3),
    "logsumexp": lambda x: x.logsumexp(axis=3),
    "softmax": lambda x: x.softmax(axis=3),
    "log_softmax": lambda x: x.log_softmax(axis=-4),
    "squeeze": lambda x: x.squeeze(3),
    "unsqueeze": lambda x: x.unsqueeze(5),
    "transpose": lambda x: x.transpose(0, 3),
    "permute": lambda x: x.permute(0, 1, 3),
    "flatten": lambda x: x.flatten(0, 3),
    "concat": lambda x: gdl.concat([x, x], axis=3),
    "stack": lambda x: gdl.stack([x, x], axis=4),
}


@pytest.mark.parametrize("op", list(BAD_AXIS))
def test_bad_axis_names_the_op_and_the_axis(backend, op):
    x = gdl.ones(2, 1, 3, requires_grad=True)
    with pytest.raises(ValueError) as info:
        BAD_AXIS[op](x)
    msg = str(info.value)
    assert re.match(rf"{op}\b", msg), f"error does not start with the op name {op!r}: {msg}"
    assert "(2, 1, 3)" in msg or "3 dimensions" in msg, msg


# -- other bad input ----------------------------------------------------------------------------------------------


def test_item_of_many_elements(backend):
    with pytest.raises(ValueError, match=r"item\(\).*3 elements"):
        gdl.ones(3).item()


def test_clip_bounds_in_the_wrong_order(backend):
    with pytest.raises(ValueError, match=r"clip.*min.*max"):
        gdl.ones(3).clip(1.0, 0.0)


def test_index_out_of_range_shows_the_shape(backend):
    x = gdl.ones(2, 3)
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        x[[0, 7]]


def test_boolean_mask_index_points_to_where(backend):
    x = gdl.ones(3)
    with pytest.raises(TypeError, match="gdl.where"):
        x[x > 0]


def test_float_index_is_rejected(backend):
    with pytest.raises(TypeError, match="index"):
        gdl.ones(3)[[0.5, 1.0]]


def test_unsupported_operand(backend):
    with pytest.raises(TypeError, match=r"add.*str"):
        gdl.ones(2) + "a"
