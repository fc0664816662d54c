"""``layer_norm`` and ``batch_norm`` as single graph nodes with an analytic backward:
values and gradients (input, weight, bias) against float64 references built from plain
gdl ops and finite differences, the one-node graph, running statistics, dtypes, errors.
(``test_torch_crosscheck_norm_pool.py`` and ``test_layers.py`` compare the modules.)"""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.testing import gradcheck

F64 = gdl.float64


def _t(a, requires_grad=False, dtype=F64):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=requires_grad)


def _close(ours, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=rtol, atol=atol)


def _grads(out, g, tensors):
    for t in tensors:
        if t is not None:
            t.grad = None
    out.backward(g)
    return [None if t is None else t.grad for t in tensors]


# -- references from plain gdl ops (a chain of small nodes) -------------------------------------------


def _layer_norm_ref(x, k, w, b, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = gdl.mean(x, axis=axes, keepdims=True)
    out = (x - mu) / (gdl.var(x, axis=axes, keepdims=True) + eps) ** 0.5
    if w is not None:
        out = out * w
    return out if b is None else out + b


def _batch_norm_ref(x, mu, var, w, b, eps):
    """``mu``/``var``: tensors of shape (C,) (running statistics), or None: the batch's."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    mu = gdl.mean(x, axis=axes, keepdims=True) if mu is None else mu.reshape(shape)
    var = gdl.var(x, axis=axes, keepdims=True) if var is None else var.reshape(shape)
    out = (x - mu) / (var + eps) ** 0.5
    if w is not None:
        out = out * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


AFFINE = [(True, True), (False, True), (True, False), (False, False)]
LN_SHAPES = [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)), ((3, 2, 2, 3), (2, 3)), ((5,), (5,))]


@pytest.mark.parametrize("shape,ns", LN_SHAPES)
@pytest.mark.parametrize("has_w,has_b", AFFINE)
def test_layer_norm_matches_plain_ops(backend, shape, ns, has_w, has_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape) * 3 + 2
    x, xr = _t(a, True), _t(a, True)
    w = _t(rng.standard_normal(ns) + 1, True) if has_w else None
    b = _t(rng.standard_normal(ns), True) if has_b else None
    wr = None if w is None else _t(w.numpy(), True)
    br = None if b is None else _t(b.numpy(), True)
    out = F.layer_norm(x, ns, w, b, 1e-3)
    ref = _layer_norm_ref(xr, len(ns), wr, br, 1e-3)
    _close(out, ref)
    g = _t(rng.standard_normal(shape))
    for ours, theirs in zip(_grads(out, g, [x, w, b]), _grads(ref, g, [xr, wr, br])):
        if theirs is not None:
            _close(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("shape,ns", LN_SHAPES[:4])
@pytest.mark.parametrize("has_w,has_b", AFFINE)
def test_layer_norm_gradcheck(backend, shape, ns, has_w, has_b):
    gdl.manual_seed(1)
    x = gdl.randn(*shape, dtype=F64, requires_grad=True)
    params = []
    if has_w:
        params.append(gdl.randn(*ns, dtype=F64, requires_grad=True))
    if has_b:
        params.append(gdl.randn(*ns, dtype=F64, requires_grad=True))

    def fn(t, *ps):
        it = iter(ps)
        return F.layer_norm(t, ns, next(it) if has_w else None, next(it) if has_b else None)

    assert gradcheck(fn, [x, *params])


BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 2, 3), (2, 3, 1, 2, 2)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("has_w,has_b", AFFINE)
def test_batch_norm_matches_plain_ops(backend, shape, training, has_w, has_b):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape) * 2 - 1
    x, xr = _t(a, True), _t(a, True)
    w = _t(rng.standard_normal(3) + 1, True) if has_w else None
    b = _t(rng.standard_normal(3), True) if has_b else None
    wr = None if w is None else _t(w.numpy(), True)
    br = None if b is None else _t(b.numpy(), True)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    out = F.batch_norm(x, _t(rm), _t(rv), w, b, training, 0.1, 1e-4)
    ref = _batch_norm_ref(xr, None if training else _t(rm), None if training else _t(rv), wr, br, 1e-4)
    _close(out, ref)
    g = _t(rng.standard_normal(shape))
    for ours, theirs in zip(_grads(out, g, [x, w, b]), _grads(ref, g, [xr, wr, br])):
        if theirs is not None:
            _close(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("shape", BN_SHAPES[:3])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("has_w,has_b", [(True, True), (False, False)])
def test_batch_norm_gradcheck(backend, shape, training, has_w, has_b):
    gdl.manual_seed(2)
    x = gdl.randn(*shape, dtype=F64, requires_grad=True)
    rm, rv = gdl.randn(3, dtype=F64), gdl.rand(3, dtype=F64) + 0.5
    params = [gdl.randn(3, dtype=F64, requires_grad=True) for _ in range(has_w + has_b)]

    def fn(t, *ps):
        # copies of the running statistics: each call of the check starts from the same
        return F.batch_norm(t, rm * 1.0, rv * 1.0, *(ps if ps else (None, None)), training=training)

    assert gradcheck(fn, [x, *params])


def test_batch_norm_without_running_stats_trains_on_batch_stats(backend):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 3, 4))
    x, xr = _t(a, True), _t(a, True)
    out = F.batch_norm(x, None, None, training=True)
    ref = _batch_norm_ref(xr, None, None, None, None, 1e-5)
    _close(out, ref)
    g = _t(rng.standard_normal(a.shape))
    _close(_grads(out, g, [x])[0], _grads(ref, g, [xr])[0], atol=1e-10)
    # PyTorch's rule: evaluation mode needs running statistics
    with pytest.raises(ValueError, match="evaluation mode needs running statistics"):
        F.batch_norm(x, None, None, training=False)


# -- one graph node ----------------------------------------------------------------------------------


@pytest.mark.parametrize("has_w,has_b", AFFINE)
def test_layer_norm_is_one_node(backend, has_w, has_b):
    x = gdl.randn(2, 3, 4, requires_grad=True)
    w = gdl.randn(3, 4, requires_grad=True) if has_w else None
    b = gdl.randn(3, 4, requires_grad=True) if has_b else None
    out = F.layer_norm(x, (3, 4), w, b)
    assert out.grad_fn.inputs == tuple(t for t in (x, w, b) if t is not None)
    assert all(i.grad_fn is None for i in out.grad_fn.inputs)  # nothing between x and the node


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("has_w,has_b", AFFINE)
def test_batch_norm_is_one_node(backend, training, has_w, has_b):
    x = gdl.randn(4, 3, 5, requires_grad=True)
    w = gdl.randn(3, requires_grad=True) if has_w else None
    b = gdl.randn(3, requires_grad=True) if has_b else None
    out = F.batch_norm(x, gdl.zeros(3), gdl.ones(3), w, b, training)
    assert out.grad_fn.inputs == tuple(t for t in (x, w, b) if t is not None)
    assert all(i.grad_fn is None for i in out.grad_fn.inputs)


def test_modules_are_one_node(backend):
    x = gdl.randn(4, 3, 5, requires_grad=True)
    ln = nn.LayerNorm(5)
    assert ln(x).grad_fn.inputs == (x, ln.weight, ln.bias)
    bn = nn.BatchNorm1d(3)
    assert bn(x).grad_fn.inputs == (x, bn.weight, bn.bias)
    assert bn.eval()(x).grad_fn.inputs == (x, bn.weight, bn.bias)


def test_only_what_requires_grad_gets_a_gradient(backend):
    x = gdl.randn(4, 3, requires_grad=True)
    w, b = gdl.randn(3), gdl.randn(3, requires_grad=True)
    F.layer_norm(x, 3, w, b).sum().backward()
    assert w.grad is None and b.grad is not None and x.grad is not None
    x2 = gdl.randn(4, 3)
    w2 = gdl.randn(3, requires_grad=True)
    F.batch_norm(x2, None, None, w2, None, True).sum().backward()
    assert x2.grad is None and w2.grad.shape == (3,)
    assert F.layer_norm(gdl.randn(2, 3), 3).grad_fn is None


# -- running statistics ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_running_stats_update(backend, shape):
    rng = np.random.default_rng(4)
    rm0, rv0 = rng.standard_normal(3), rng.random(3) + 0.5
    rm, rv = _t(rm0), _t(rv0)
    axes = (0,) + tuple(range(2, len(shape)))
    for step in range(3):
        a = rng.standard_normal(shape) * (step + 1) + step
        F.batch_norm(_t(a, True), rm, rv, training=True, momentum=0.3)
        rm0 = 0.7 * rm0 + 0.3 * a.mean(axis=axes)
        rv0 = 0.7 * rv0 + 0.3 * a.var(axis=axes, ddof=1)  # the unbiased variance
        np.testing.assert_allclose(rm.numpy(), rm0, rtol=1e-12)
        np.testing.assert_allclose(rv.numpy(), rv0, rtol=1e-12)
    assert rm.grad_fn is None and not rm.requires_grad
    # evaluation leaves them alone
    F.batch_norm(_t(rng.standard_normal(shape)), rm, rv, training=False)
    np.testing.assert_allclose(rm.numpy(), rm0, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), rv0, rtol=1e-12)


def test_batch_norm_running_stats_keep_their_dtype(backend):
    rm, rv = gdl.zeros(3), gdl.ones(3)
    F.batch_norm(gdl.randn(4, 3, dtype=F64), rm, rv, training=True)
    assert rm.dtype == rv.dtype == gdl.float32


# -- dtypes ------------------------------------------------------------------------------------------


def test_float32_stays_float32(backend):
    x = gdl.randn(4, 3, 5, requires_grad=True)
    w, b = gdl.randn(5, requires_grad=True), gdl.randn(5, requires_grad=True)
    out = F.layer_norm(x, 5, w, b)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == gdl.float32
    w3, b3 = gdl.randn(3, requires_grad=True), gdl.randn(3, requires_grad=True)
    for training in (True, False):
        out = F.batch_norm(x, gdl.zeros(3), gdl.ones(3), w3, b3, training)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == w3.grad.dtype == b3.grad.dtype == gdl.float32


def test_float16_stays_float16(backend):
    if backend != "numpy":
        pytest.skip("the Array API standard has no float16")
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 3, 8))
    x = gdl.tensor(a, dtype=gdl.float16, requires_grad=True)
    w = gdl.tensor(rng.standard_normal(8), dtype=gdl.float16, requires_grad=True)
    out = F.layer_norm(x, 8, w)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == gdl.float16
    ref = _layer_norm_ref(_t(a), 1, _t(w.numpy()), None, 1e-5)
    np.testing.assert_allclose(out.numpy().astype(np.float64), ref.numpy(), atol=2e-2)
    rm, rv = gdl.zeros(3, dtype=gdl.float16), gdl.ones(3, dtype=gdl.float16)
    out = F.batch_norm(x, rm, rv, training=True)
    assert out.dtype == rm.dtype == rv.dtype == gdl.float16


# -- errors ------------------------------------------------------------------------------------------


def test_layer_norm_errors(backend):
    with pytest.raises(ValueError, match=r"layer_norm: input shape \(2, 5\) does not end with \(4,\)"):
        F.layer_norm(gdl.zeros(2, 5), 4)
    with pytest.raises(ValueError, match=r"layer_norm: expected weight of shape \(5,\), got \(4,\)"):
        F.layer_norm(gdl.zeros(2, 5), 5, gdl.ones(4))
    with pytest.raises(ValueError, match=r"layer_norm: expected bias of shape \(3, 5\), got \(5,\)"):
        F.layer_norm(gdl.zeros(2, 3, 5), (3, 5), None, gdl.ones(5))


def test_batch_norm_errors(backend):
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(gdl.zeros(3), None, None, training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(gdl.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected weight of shape \(3,\), got \(4,\)"):
        F.batch_norm(gdl.zeros(2, 3), None, None, gdl.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected running_var of shape \(3,\), got \(2,\)"):
        F.batch_norm(gdl.zeros(2, 3), gdl.zeros(3), gdl.ones(2))
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        F.batch_norm(gdl.zeros(2, 3), gdl.zeros(3), None, training=True)
