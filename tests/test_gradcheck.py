"""gdl.testing.gradcheck itself: it must catch wrong backwards and pass right ones."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdl
from gdl.tensor import result
from gdl.testing import GradcheckError, gradcheck


def square(x, wrong_at=None, delta=0.0, scale=1.0):
    """``x * x`` as a hand-written op whose backward can be made wrong on purpose."""
    xp = x._backend.xp
    data = x.data

    def backward(g):
        grad = 2.0 * scale * data * g
        if wrong_at is not None:
            bump = np.zeros(x.shape)
            bump[wrong_at] = delta
            grad = grad + x._backend.from_host(bump)
        return (grad,)

    return result(xp.multiply(data, data), x._backend, (x,), backward, "Square")


def x64(shape, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)
    return gdl.tensor(a, requires_grad=requires_grad)


def parse_values(msg):
    m = re.search(r"analytic (?:np\.float64\()?([-\d.e+]+)\)?, numeric (?:np\.float64\()?([-\d.e+]+)\)?", msg)
    assert m, msg
    return float(m.group(1)), float(m.group(2))


def test_correct_custom_op_passes(backend):
    assert gradcheck(square, [x64((3, 4))]) is True


def test_reports_worst_index_and_both_values(backend):
    x = x64((3, 4), seed=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: square(t, wrong_at=(1, 2), delta=0.5), [x])
    msg = str(info.value)
    assert "input 0" in msg and "index (1, 2)" in msg, msg
    analytic, numeric = parse_values(msg)
    # the bump is added after the output weights, so the two values differ by exactly 0.5
    assert abs((analytic - numeric) - 0.5) < 1e-5, msg
    assert abs(numeric) < 4.0 and numeric != 0.0


def test_worst_of_several_wrong_elements_is_reported(backend):
    x = x64((5,), seed=2)

    def fn(t):  # the identity, with a backward off by 0.01 at 0 and by 0.3 at 3
        xp = t._backend.xp

        def backward(g):
            return (g + t._backend.from_host(np.array([0.01, 0.0, 0.0, 0.3, 0.0])),)

        return result(xp.asarray(t.data, copy=True), t._backend, (t,), backward, "Leaky")

    with pytest.raises(GradcheckError, match=r"index \(3,\)"):
        gradcheck(fn, [x])


def test_small_relative_error_is_caught(backend):
    x = x64((4,), seed=3)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: square(t, scale=1.01), [x])
    assert gradcheck(lambda t: square(t, scale=1.0), [x])


def test_names_the_input_that_is_wrong(backend):
    a, b = x64((2, 3), seed=4), x64((2, 3), seed=5)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda p, q: p * 2.0 + square(q, wrong_at=(0, 0), delta=1.0), [a, b])
    assert gradcheck(lambda p, q: p * 2.0 + square(q), [a, b])


def test_wrong_gradient_shape_is_caught(backend):
    """A backward that forgets to un-broadcast gives the input a gradient of the wrong shape."""
    x = x64((1, 3), seed=6)
    w = x64((4, 3), seed=7, requires_grad=False)

    def bad_mul(t):
        xp = t._backend.xp
        return result(xp.multiply(t.data, w.data), t._backend, (t,), lambda g: (g * w.data,), "BadMul")

    with pytest.raises(GradcheckError, match="shape"):
        gradcheck(bad_mul, [x])
    assert gradcheck(lambda t: t * w, [x])


def test_missing_gradient_is_caught(backend):
    """A backward returning None for an input the output depends on is wrong."""
    x = x64((3,), seed=8)

    def no_grad_op(t):
        xp = t._backend.xp
        return result(xp.exp(t.data), t._backend, (t,), lambda g: (None,), "NoGrad")

    with pytest.raises(GradcheckError):
        gradcheck(no_grad_op, [x])


def test_unused_input_and_non_grad_inputs(backend):
    a, b = x64((3,), seed=9), x64((3,), seed=10)
    c = x64((3,), seed=11, requires_grad=False)
    assert gradcheck(lambda p, q, r: (p * r).tanh(), [a, b, c])  # q unused: zero gradient both ways
    assert b.grad is None or np.all(b.grad.numpy() == 0)


def test_scalar_and_zero_dim(backend):
    x = gdl.tensor(np.array(0.7), requires_grad=True)
    assert gradcheck(lambda t: (t * t).exp(), [x])
    with pytest.raises(GradcheckError, match=r"index \(\)"):
        gradcheck(lambda t: square(t, scale=2.0), [x])
    y = x64((2, 2), seed=12)
    assert gradcheck(lambda t: (t * t).sum(), [y])  # scalar output


def test_inputs_are_restored(backend):
    x = x64((2, 3), seed=13)
    before = x.numpy()
    gradcheck(lambda t: t.tanh() * t, [x])
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.requires_grad and x.grad is not None


def test_requires_float64(backend):
    x = gdl.randn(3, requires_grad=True)  # float32
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2.0, [x])


def test_tolerances_are_used(backend):
    x = x64((3,), seed=14)
    fn = lambda t: square(t, scale=1.001)  # noqa: E731  (0.1 % off)
    with pytest.raises(GradcheckError, match=r"atol=1e-05, rtol=0\.0001"):
        gradcheck(fn, [x])
    assert gradcheck(fn, [x], rtol=1e-2)
