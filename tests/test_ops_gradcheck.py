"""Every differentiable op: forward against NumPy, backward against finite differences.

Each test draws shapes (broadcast cases included) and float64 values with
hypothesis, checks the forward result against a NumPy reference, then runs
``gdl.testing.gradcheck``. Values are kept away from points where an op is not
differentiable (kinks of relu/abs/clip, ties of max/min/maximum, the edges of the
domains of log/sqrt/pow/div), since finite differences are meaningless there.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.testing import gradcheck

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- value and shape strategies ----------------------------------------------------------


def floats(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


ANY = floats()
POSITIVE = floats(0.3, 3.0)  # log, sqrt, pow bases
NONZERO = st.one_of(floats(-2.0, -0.2), floats(0.2, 2.0))  # abs, relu, divisors
CLIP_LO, CLIP_HI = -0.5, 0.7
AWAY_FROM_CLIP = st.one_of(floats(-2.0, -0.6), floats(-0.4, 0.6), floats(0.8, 2.0))

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
NONSCALAR = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arrays(shape, elements=ANY):
    return hnp.arrays(np.float64, shape, elements=elements)


def distinct(data, *shapes):
    """Arrays of the given shapes whose values are all distinct (at least 0.05 apart)."""
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = data.draw(hnp.arrays(np.int64, sum(sizes), elements=st.integers(-60, 60), unique=True))
    out, start = [], 0
    for s, n in zip(shapes, sizes):
        out.append((flat[start : start + n] * 0.05).astype(np.float64).reshape(s))
        start += n
    return out


def axis_arg(ndim):
    """None, one axis (possibly negative) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    )


# -- the check ----------------------------------------------------------------------------


def check(fn, ref, arrays_, requires_grad=None, rtol=1e-9):
    """Forward of ``fn`` equals ``ref`` on the NumPy arrays, and gradcheck passes."""
    requires_grad = requires_grad or [True] * len(arrays_)
    tensors = [
        gdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=r) for a, r in zip(arrays_, requires_grad)
    ]
    for t in tensors:
        assert t.dtype == gdl.float64
    out = fn(*tensors)
    expected = np.asarray(ref(*arrays_))
    assert out.shape == expected.shape, (out.shape, expected.shape)
    assert out.dtype == gdl.float64
    assert out.requires_grad == any(requires_grad)
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=1e-12)
    assert gradcheck(fn, tensors)
    for t, a in zip(tensors, arrays_):
        np.testing.assert_array_equal(t.numpy(), a)  # gradcheck leaves the inputs as they were
        if t.requires_grad:
            assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == gdl.float64


def two_broadcast(data, max_dims=3):
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=4)
    )
    return shapes.input_shapes


def grad_flags(data, n=2):
    flags = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return flags if any(flags) else [True] * n


# -- binary arithmetic with broadcasting ------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, np.add, ANY, ANY),
    "sub": (lambda a, b: a - b, np.subtract, ANY, ANY),
    "mul": (lambda a, b: a * b, np.multiply, ANY, ANY),
    "div": (lambda a, b: a / b, np.divide, ANY, NONZERO),
    "pow": (lambda a, b: a**b, np.power, POSITIVE, floats(-2.0, 2.0)),
    "gdl.add": (lambda a, b: gdl.add(a, b), np.add, ANY, ANY),
    "gdl.mul": (lambda a, b: gdl.mul(a, b), np.multiply, ANY, ANY),
    "gdl.div": (lambda a, b: gdl.div(a, b), np.divide, ANY, NONZERO),
    "gdl.pow": (lambda a, b: gdl.pow(a, b), np.power, POSITIVE, floats(-2.0, 2.0)),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
@SETTINGS
def test_binary_broadcast(backend, name, data):
    fn, ref, ea, eb = BINARY[name]
    sa, sb = two_broadcast(data)
    a = data.draw(arrays(sa, ea))
    b = data.draw(arrays(sb, eb))
    check(fn, ref, [a, b], grad_flags(data))


SCALAR_OPS = {
    "x + c": (lambda x: x + 1.5, lambda x: x + 1.5, ANY),
    "c + x": (lambda x: 1.5 + x, lambda x: 1.5 + x, ANY),
    "x - c": (lambda x: x - 0.25, lambda x: x - 0.25, ANY),
    "c - x": (lambda x: 0.25 - x, lambda x: 0.25 - x, ANY),
    "x * c": (lambda x: x * -0.7, lambda x: x * -0.7, ANY),
    "c * x": (lambda x: -0.7 * x, lambda x: -0.7 * x, ANY),
    "x / c": (lambda x: x / 1.3, lambda x: x / 1.3, ANY),
    "c / x": (lambda x: 1.3 / x, lambda x: 1.3 / x, NONZERO),
    "x ** 2": (lambda x: x**2, lambda x: x**2, ANY),
    "x ** 3": (lambda x: x**3, lambda x: x**3, ANY),
    "x ** 0.5": (lambda x: x**0.5, lambda x: x**0.5, POSITIVE),
    "x ** -1.5": (lambda x: x**-1.5, lambda x: x**-1.5, POSITIVE),
    "2 ** x": (lambda x: 2.0**x, lambda x: 2.0**x, ANY),
    "-x": (lambda x: -x, lambda x: -x, ANY),
    "neg": (lambda x: gdl.neg(x), lambda x: -x, ANY),
}


@pytest.mark.parametrize("name", list(SCALAR_OPS))
@given(data=st.data())
@SETTINGS
def test_with_python_scalar(backend, name, data):
    fn, ref, el = SCALAR_OPS[name]
    x = data.draw(arrays(data.draw(SHAPES), el))
    check(fn, ref, [x])


# -- unary elementwise -----------------------------------------------------------------------


def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


UNARY = {
    "exp": (lambda x: x.exp(), np.exp, ANY),
    "gdl.exp": (lambda x: gdl.exp(x), np.exp, ANY),
    "log": (lambda x: x.log(), np.log, POSITIVE),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, POSITIVE),
    "abs": (lambda x: x.abs(), np.abs, NONZERO),
    "abs()": (lambda x: abs(x), np.abs, NONZERO),
    "tanh": (lambda x: x.tanh(), np.tanh, floats(-3.0, 3.0)),
    "sigmoid": (lambda x: x.sigmoid(), _np_sigmoid, floats(-4.0, 4.0)),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0.0), NONZERO),
    "gdl.relu": (lambda x: gdl.relu(x), lambda x: np.maximum(x, 0.0), NONZERO),
    "clip": (lambda x: x.clip(CLIP_LO, CLIP_HI), lambda x: np.clip(x, CLIP_LO, CLIP_HI), AWAY_FROM_CLIP),
    "clip min": (lambda x: gdl.clip(x, min=CLIP_LO), lambda x: np.maximum(x, CLIP_LO), AWAY_FROM_CLIP),
    "clip max": (lambda x: gdl.clip(x, max=CLIP_HI), lambda x: np.minimum(x, CLIP_HI), AWAY_FROM_CLIP),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
@SETTINGS
def test_unary(backend, name, data):
    fn, ref, el = UNARY[name]
    x = data.draw(arrays(data.draw(SHAPES), el))
    check(fn, ref, [x])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(data=st.data())
@SETTINGS
def test_maximum_minimum_broadcast(backend, op, data):
    sa, sb = two_broadcast(data)
    a, b = distinct(data, sa, sb)  # no ties: the gradient is undefined there
    fn = getattr(gdl, op)
    check(fn, getattr(np, op), [a, b], grad_flags(data))
    check(lambda x, y: getattr(x, op)(y), getattr(np, op), [a, b])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(data=st.data())
@SETTINGS
def test_maximum_minimum_with_scalar(backend, op, data):
    x = data.draw(arrays(data.draw(SHAPES), NONZERO))
    check(lambda t: getattr(gdl, op)(t, 0.0), lambda a: getattr(np, op)(a, 0.0), [x])


@given(data=st.data())
@SETTINGS
def test_where_broadcast(backend, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4)).input_shapes
    cond = data.draw(hnp.arrays(np.bool_, shapes[0]))
    a = data.draw(arrays(shapes[1]))
    b = data.draw(arrays(shapes[2]))
    c = gdl.tensor(cond)
    assert c.dtype == gdl.bool
    check(lambda x, y: gdl.where(c, x, y), lambda x, y: np.where(cond, x, y), [a, b], grad_flags(data))
    # a Python scalar in either branch
    check(lambda x: gdl.where(c, x, 0.5), lambda x: np.where(cond, x, 0.5), [a])
    check(lambda y: gdl.where(c, -1.0, y), lambda y: np.where(cond, -1.0, y), [b])


# -- reductions ----------------------------------------------------------------------------

REDUCTIONS = {
    "sum": (lambda x, ax, kd: x.sum(axis=ax, keepdims=kd), np.sum),
    "gdl.sum": (lambda x, ax, kd: gdl.sum(x, axis=ax, keepdims=kd), np.sum),
    "mean": (lambda x, ax, kd: x.mean(axis=ax, keepdims=kd), np.mean),
    "max": (lambda x, ax, kd: x.max(axis=ax, keepdims=kd), np.max),
    "min": (lambda x, ax, kd: x.min(axis=ax, keepdims=kd), np.min),
    "gdl.max": (lambda x, ax, kd: gdl.max(x, axis=ax, keepdims=kd), np.max),
    "logsumexp": (
        lambda x, ax, kd: x.logsumexp(axis=ax, keepdims=kd),
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
    ),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
@SETTINGS
def test_reduction(backend, name, data):
    fn, ref = REDUCTIONS[name]
    shape = data.draw(SHAPES)
    axis = data.draw(axis_arg(len(shape)))
    keepdims = data.draw(st.booleans())
    if name.endswith(("max", "min")):
        (x,) = distinct(data, shape)  # ties split the gradient: not differentiable
    else:
        x = data.draw(arrays(shape))
    check(lambda t: fn(t, axis, keepdims), lambda a: ref(a, axis=axis, keepdims=keepdims), [x])


def test_max_gradient_goes_to_the_argmax(backend):
    x = gdl.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [0, 1, 0]])


def test_max_min_ties_share_the_gradient(backend):
    x = gdl.tensor(np.array([[3.0, 3.0, 1.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.min(axis=0, keepdims=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given(data=st.data())
@SETTINGS
def test_softmax_family(backend, op, data):
    shape = data.draw(NONSCALAR)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(shape, floats(-3.0, 3.0)))

    def ref(a):
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)
        return s if op == "softmax" else np.log(s)

    check(lambda t: getattr(t, op)(axis=axis), ref, [x])
    check(lambda t: getattr(gdl, op)(t, axis), ref, [x])


# -- shape ops --------------------------------------------------------------------------------


@given(data=st.data())
@SETTINGS
def test_reshape(backend, data):
    shape = data.draw(SHAPES)
    size = int(np.prod(shape, dtype=np.int64))
    target = data.draw(
        st.sampled_from([(size,), (-1,), tuple(reversed(shape)), (1,) + shape, shape + (1,), (1, -1)])
    )
    x = data.draw(arrays(shape))
    check(lambda t: t.reshape(target), lambda a: np.reshape(a, target), [x])
    check(lambda t: t.reshape(*target), lambda a: np.reshape(a, target), [x])
    check(lambda t: gdl.reshape(t, target), lambda a: np.reshape(a, target), [x])


@given(data=st.data())
@SETTINGS
def test_permute(backend, data):
    shape = data.draw(NONSCALAR)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = data.draw(arrays(shape))
    check(lambda t: t.permute(perm), lambda a: np.transpose(a, perm), [x])
    check(lambda t: t.permute(*perm), lambda a: np.transpose(a, perm), [x])
    check(lambda t: t.T, lambda a: a.T, [x])


@given(data=st.data())
@SETTINGS
def test_transpose(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
    d0 = data.draw(st.integers(-len(shape), len(shape) - 1))
    d1 = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(shape))
    check(lambda t: t.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), [x])
    check(lambda t: gdl.transpose(t), lambda a: np.swapaxes(a, -2, -1), [x])
    check(lambda t: t.mT, lambda a: np.swapaxes(a, -2, -1), [x])


@given(data=st.data())
@SETTINGS
def test_broadcast_to(backend, data):
    target = data.draw(SHAPES)
    drop = data.draw(st.integers(0, len(target)))
    ones = data.draw(st.lists(st.booleans(), min_size=len(target) - drop, max_size=len(target) - drop))
    source = tuple(1 if one else s for one, s in zip(ones, target[drop:]))
    x = data.draw(arrays(source))
    check(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target), [x])
    check(lambda t: gdl.broadcast_to(t, target), lambda a: np.broadcast_to(a, target), [x])


@given(data=st.data())
@SETTINGS
def test_squeeze(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i for i, s in enumerate(shape) if s == 1]
    axis = data.draw(st.one_of(st.none(), st.sampled_from(ones))) if ones else None
    x = data.draw(arrays(shape))
    check(lambda t: t.squeeze(axis), lambda a: np.squeeze(a, axis=axis), [x])


@given(data=st.data())
@SETTINGS
def test_unsqueeze(backend, data):
    shape = data.draw(SHAPES)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = data.draw(arrays(shape))
    check(lambda t: t.unsqueeze(axis), lambda a: np.expand_dims(a, axis), [x])


@given(data=st.data())
@SETTINGS
def test_flatten(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    start = data.draw(st.integers(0, len(shape) - 1))
    end = data.draw(st.integers(start, len(shape) - 1))
    new = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
    x = data.draw(arrays(shape))
    check(lambda t: t.flatten(start, end), lambda a: a.reshape(new), [x])
    check(lambda t: gdl.flatten(t), lambda a: a.reshape(-1), [x])


@given(data=st.data())
@SETTINGS
def test_concat(backend, data):
    shape = data.draw(NONSCALAR)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shapes = [shape[: axis % len(shape)] + (n,) + shape[axis % len(shape) + 1 :] for n in sizes]
    xs = [data.draw(arrays(s)) for s in shapes]
    flags = data.draw(st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)))
    flags = flags if any(flags) else [True] * len(xs)
    check(lambda *ts: gdl.concat(ts, axis=axis), lambda *a: np.concatenate(a, axis=axis), xs, flags)
    check(lambda *ts: gdl.cat(list(ts), axis), lambda *a: np.concatenate(a, axis=axis), xs)


@given(data=st.data())
@SETTINGS
def test_stack(backend, data):
    shape = data.draw(SHAPES)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    n = data.draw(st.integers(1, 3))
    xs = [data.draw(arrays(shape)) for _ in range(n)]
    check(lambda *ts: gdl.stack(ts, axis=axis), lambda *a: np.stack(a, axis=axis), xs)


# -- indexing -----------------------------------------------------------------------------------


@st.composite
def basic_keys(draw, shape):
    """A tuple of ints, slices (negative steps too), None and at most one Ellipsis."""
    key, dims = [], list(shape)
    n_indexed = draw(st.integers(0, len(dims)))
    for n in dims[:n_indexed]:
        if draw(st.integers(0, 3)) == 0:
            key.append(draw(st.integers(-n, n - 1)))
        else:
            key.append(draw(st.slices(n)))
        if draw(st.integers(0, 5)) == 0:
            key.append(None)
    if draw(st.booleans()) and n_indexed < len(dims):
        key.append(Ellipsis)
        key.extend(
            draw(st.slices(n)) for n in dims[len(dims) - draw(st.integers(0, len(dims) - n_indexed)) :]
        )
    return tuple(key)


@given(data=st.data())
@SETTINGS
def test_basic_indexing(backend, data):
    shape = data.draw(NONSCALAR)
    key = data.draw(basic_keys(shape))
    x = data.draw(arrays(shape))
    assume(x[key].size > 0)
    check(lambda t: t[key], lambda a: a[key], [x])
    if len(key) == 1:  # a bare key, not a tuple
        check(lambda t: t[key[0]], lambda a: a[key[0]], [x])


@given(data=st.data())
@SETTINGS
def test_integer_array_indexing(backend, data):
    shape = data.draw(NONSCALAR)
    n = shape[0]
    idx_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
    idx = data.draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
    x = data.draw(arrays(shape))
    check(lambda t: t[gdl.tensor(idx)], lambda a: a[idx], [x])
    check(lambda t: t[idx.tolist()], lambda a: a[idx], [x])
    check(lambda t: t.take(gdl.tensor(idx), 0), lambda a: a[idx], [x])


@given(data=st.data())
@SETTINGS
def test_integer_array_indexing_inner_axis(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    n = shape[1]
    idx = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 6)), elements=st.integers(-n, n - 1)))
    x = data.draw(arrays(shape))
    check(lambda t: t[:, gdl.tensor(idx)], lambda a: a[:, idx], [x])
    check(lambda t: t[:, idx.tolist(), ...], lambda a: a[:, idx, ...], [x])
    check(lambda t: t.take(gdl.tensor(idx), axis=1), lambda a: np.take(a, idx, axis=1), [x])
    last = idx % shape[-1]
    check(lambda t: t[..., last.tolist()], lambda a: a[..., last], [x])


@given(data=st.data())
@SETTINGS
def test_integer_array_pairs(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    count = data.draw(st.integers(1, 6))
    rows = data.draw(hnp.arrays(np.int64, count, elements=st.integers(0, shape[0] - 1)))
    cols = data.draw(hnp.arrays(np.int64, count, elements=st.integers(-shape[1], shape[1] - 1)))
    x = data.draw(arrays(shape))
    check(lambda t: t[gdl.tensor(rows), gdl.tensor(cols)], lambda a: a[rows, cols], [x])


def test_repeated_indices_accumulate(backend):
    x = gdl.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    idx = [2, 0, 2, 2, -1]
    w = gdl.tensor(np.arange(15.0).reshape(5, 3))
    (x[idx] * w).sum().backward()
    expected = np.zeros((4, 3))
    np.add.at(expected, idx, np.arange(15.0).reshape(5, 3))
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert expected[2].tolist() == [0 + 6 + 9, 1 + 7 + 10, 2 + 8 + 11]  # three hits summed

    y = gdl.tensor(np.zeros(5), requires_grad=True)
    y[gdl.tensor([1, 1, 1, 4, 1])].sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 4, 0, 0, 1])

    z = gdl.tensor(np.zeros((2, 3)), requires_grad=True)
    z[[0, 0, 1], [2, 2, 2]].sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[0, 0, 2], [0, 0, 1]])


# -- matmul -------------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(
        st.sampled_from(["1d@1d", "1d@2d", "2d@1d", "2d@2d", "batched", "broadcast", "1d@nd", "nd@1d"])
    )
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, max_side=3))
    ba, bb = batch.input_shapes
    same = tuple(batch.result_shape)
    return {
        "1d@1d": ((k,), (k,)),
        "1d@2d": ((k,), (k, n)),
        "2d@1d": ((m, k), (k,)),
        "2d@2d": ((m, k), (k, n)),
        "batched": (same + (m, k), same + (k, n)),
        "broadcast": (ba + (m, k), bb + (k, n)),
        "1d@nd": ((k,), bb + (k, n)),
        "nd@1d": (ba + (m, k), (k,)),
    }[kind]


@given(shapes=matmul_shapes(), data=st.data())
@SETTINGS
def test_matmul(backend, shapes, data):
    sa, sb = shapes
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb))
    check(lambda x, y: x @ y, np.matmul, [a, b], grad_flags(data), rtol=1e-7)
    check(lambda x, y: gdl.matmul(x, y), np.matmul, [a, b], rtol=1e-7)


# -- a composite: several ops in one graph -----------------------------------------------------------


@given(data=st.data())
@SETTINGS
def test_two_layer_network(backend, data):
    n, d, h, c = (data.draw(st.integers(1, 4)) for _ in range(4))
    x = data.draw(arrays((n, d)))
    w1 = data.draw(arrays((d, h)))
    b1 = data.draw(arrays((h,)))
    w2 = data.draw(arrays((h, c)))

    def net(x, w1, b1, w2):
        return ((x @ w1 + b1).tanh() @ w2).log_softmax(axis=-1).mean()

    def ref(x, w1, b1, w2):
        z = np.tanh(x @ w1 + b1) @ w2
        z = z - z.max(axis=-1, keepdims=True)
        return np.mean(z - np.log(np.exp(z).sum(axis=-1, keepdims=True)))

    check(net, ref, [x, w1, b1, w2], [False, True, True, True], rtol=1e-7)


# -- forward values that matter beyond gradients -----------------------------------------------------


def test_softmax_rows_sum_to_one(backend):
    gdl.manual_seed(1)
    x = gdl.randn(5, 7) * 10.0
    p = x.softmax(axis=-1).numpy()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-5)
    assert (p >= 0).all()
    q = x.softmax(axis=0).numpy()
    np.testing.assert_allclose(q.sum(axis=0), 1.0, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_is_stable_for_huge_logits(backend, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0], [3e4, 3e4, 3e4]], dtype=dtype)
    x = gdl.tensor(logits, requires_grad=True)
    ls = x.log_softmax(axis=-1)
    out = ls.numpy()
    assert np.isfinite(out).all(), out
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    sm = x.softmax(axis=-1).numpy()
    assert np.isfinite(sm).all()
    np.testing.assert_allclose(sm, np.exp(expected), atol=1e-6)
    lse = x.logsumexp(axis=-1).numpy()
    np.testing.assert_allclose(lse, logits.max(axis=-1) + np.log(np.exp(shifted).sum(axis=-1)), rtol=1e-6)
    ls.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert ls.dtype == dtype and x.grad.dtype == dtype


def test_sigmoid_and_tanh_saturate_without_overflow(backend):
    x = gdl.tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.numpy(), [0.0, _np_sigmoid(-50.0), 0.5, 1.0, 1.0], atol=1e-15)
    s.sum().backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[2], 0.25)
    np.testing.assert_allclose(x.tanh().numpy(), [-1.0, -1.0, 0.0, 1.0, 1.0])


def test_relu_gradient_at_zero_is_zero(backend):
    x = gdl.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_clip_gradient_is_zero_where_clipped(backend):
    x = gdl.tensor(np.array([-3.0, -0.2, 0.3, 4.0]), requires_grad=True)
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), [-1.0, -0.2, 0.3, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_gradient(backend, op):
    a = gdl.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = gdl.tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
    getattr(gdl, op)(a, b).sum().backward()
    wins_a = [0.5, 1.0, 0.0] if op == "maximum" else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(a.grad.numpy(), wins_a)
    np.testing.assert_array_equal(b.grad.numpy(), 1.0 - np.array(wins_a))


def test_comparisons_return_bool_tensors_without_gradient(backend):
    a = gdl.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = gdl.tensor(np.array([3.0, 2.0, 1.0]), requires_grad=True)
    cases = {
        "<": (a < b, [True, False, False]),
        "<=": (a <= b, [True, True, False]),
        ">": (a > b, [False, False, True]),
        ">=": (a >= b, [False, True, True]),
        "==": (a == b, [False, True, False]),
        "!=": (a != b, [True, False, True]),
        "> scalar": (a > 1.5, [False, True, True]),
    }
    for name, (t, expected) in cases.items():
        assert t.dtype == gdl.bool, name
        assert not t.requires_grad and t.grad_fn is None, name
        np.testing.assert_array_equal(t.numpy(), expected, err_msg=name)


# -- regressions found by the PyTorch cross-check of the core (test_torch_crosscheck_core.py) --


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_gradients_at_zero_base_and_zero_exponent(backend):
    x = gdl.tensor([0.0, 2.0, -2.0], dtype=gdl.float64, requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])  # was NaN at 0
    base = gdl.tensor([0.0, 0.0, 2.0], dtype=gdl.float64, requires_grad=True)
    e = gdl.tensor([0.0, 2.0, 0.0], dtype=gdl.float64, requires_grad=True)
    (base**e).sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(e.grad.numpy(), [0.0, 0.0, np.log(2.0)])  # d/de 0**e taken as 0
    y = gdl.tensor([1.0, 2.0], dtype=gdl.float64, requires_grad=True)
    (0.0**y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("p", [3, 0.5, -1])
def test_norm_gradient_is_zero_at_zero(backend, p):
    x = gdl.tensor([0.0, 0.0], dtype=gdl.float64, requires_grad=True)
    x.norm(p).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])  # was NaN
    x = gdl.tensor([[0.0, 2.0], [1.0, -2.0]], dtype=gdl.float64, requires_grad=True)
    assert gradcheck(lambda t: t.norm(p, axis=1) if p > 0 else t[1:].norm(p, axis=1), (x,))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_var_without_degrees_of_freedom_is_nan_not_zero(backend):
    one = gdl.tensor([3.0], dtype=gdl.float64)
    assert np.isnan(one.var(correction=1).item())  # was 0: it divided by 1
    assert np.isinf(gdl.tensor([3.0, 5.0], dtype=gdl.float64).var(correction=2).item())
    assert np.isnan(gdl.zeros(0, 3, dtype=gdl.float64).var(axis=0).numpy()).all()
    np.testing.assert_allclose(gdl.tensor([3.0, 5.0], dtype=gdl.float64).var(correction=0.5).item(), 2 / 1.5)


def test_reductions_of_0d_tensor_along_axis_0_and_empty_logsumexp(backend):
    x = gdl.tensor(2.0, dtype=gdl.float64, requires_grad=True)
    for op in ("sum", "mean", "logsumexp"):
        assert getattr(x, op)(axis=0).item() == 2.0 and getattr(x, op)(axis=-1).shape == ()
    empty = gdl.zeros(2, 0, dtype=gdl.float64).logsumexp(axis=1)  # was a NumPy "no identity" error
    np.testing.assert_array_equal(empty.numpy(), [-np.inf, -np.inf])


def test_argmax_keepdims_over_all_axes_keeps_every_axis(backend):
    x = gdl.tensor([[1.0, 3.0], [3.0, 1.0]])
    assert x.argmax(keepdims=True).shape == (1, 1)  # was (1,)
    assert x.argmin(keepdims=True).numpy().tolist() == [[0]]
    assert x.argmax().shape == ()


def test_expand_with_minus_one_keeps_the_size(backend):
    x = gdl.tensor([[1.0], [2.0]], dtype=gdl.float64, requires_grad=True)
    y = x.expand(3, -1, 4)
    assert y.shape == (3, 2, 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[12.0], [12.0]])
