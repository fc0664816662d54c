"""Backpropagation through many basic-index slices of one tensor (``unbind``, ``split``,
``chunk``, loops of ``x[t]``): the gradients equal those of the same computation written
with dense ops (a one-hot matmul instead of indexing), and the cost is linear: the
engine adds the slices into one buffer instead of padding each one to ``x``'s shape."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.autograd
from gdl import nn

SHAPE = (6, 3, 4)


def _dense_take(x, key):
    """``x[key]`` without an indexing op: a one-hot matrix times the flattened ``x``."""
    n = x.numel()
    idx = np.arange(n).reshape(x.shape)[key]
    onehot = np.zeros((idx.size, n))
    onehot[np.arange(idx.size), idx.reshape(-1)] = 1.0
    flat = gdl.tensor(onehot, dtype=x.dtype) @ x.reshape(n, 1)
    return flat.reshape(idx.shape)


def _take(x, key):
    return x[key]


def _leaf(seed=0, shape=SHAPE):
    return gdl.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=gdl.float64, requires_grad=True)


def _weights(shape, seed):
    return gdl.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=gdl.float64)


def _use(p, seed):
    """A nonlinear use of a piece, so that its gradient depends on its values."""
    return (p * p * _weights(p.shape, seed)).sum() + p.tanh().sum()


def _grad_of(build, take):
    x = _leaf()
    build(x, take).backward()
    return x.grad.numpy()


def _check(build):
    """``build(x, take)`` (a scalar) gives the same x.grad with indexing and with one-hot matmuls."""
    np.testing.assert_allclose(_grad_of(build, _take), _grad_of(build, _dense_take), rtol=1e-12, atol=1e-12)


def _sum_uses(pieces, skip=()):
    return sum(_use(p, i) for i, p in enumerate(pieces) if i not in skip)


KEYS = {
    "unbind0": [(i,) for i in range(6)],
    "unbind1": [(slice(None), j) for j in range(3)],
    "unbind2": [(..., k) for k in range(4)],
    "split2_dim0": [(slice(0, 2),), (slice(2, 4),), (slice(4, 6),)],
    "split_sections_dim2": [(..., slice(0, 1)), (..., slice(1, 4))],
    "chunk4_dim0": [(slice(0, 2),), (slice(2, 4),), (slice(4, 6),)],
}
OPS = {
    "unbind0": lambda x: x.unbind(0),
    "unbind1": lambda x: x.unbind(1),
    "unbind2": lambda x: gdl.unbind(x, dim=-1),
    "split2_dim0": lambda x: x.split(2),
    "split_sections_dim2": lambda x: x.split([1, 3], dim=2),
    "chunk4_dim0": lambda x: x.chunk(4),  # 6 into 4: three pieces of 2
}


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("skip", [(), (1,)], ids=["all_used", "one_unused"])
def test_split_ops_match_dense(backend, op, skip):
    def build(x, take):
        pieces = OPS[op](x) if take is _take else [take(x, k) for k in KEYS[op]]
        assert len(pieces) == len(KEYS[op])
        return _sum_uses(pieces, skip)

    _check(build)


def test_recurrent_loop_over_time_steps(backend):
    """The book's recurrent nets: a loop of ``emb[t]`` over a (T, B, E) tensor."""
    w = _weights((4, 4), 7)

    def build(x, take):
        h = gdl.zeros(3, 4, dtype=gdl.float64)
        for t in range(x.shape[0]):
            h = (take(x, (t,)) + h @ w).tanh()
        return (h * h).sum()

    _check(build)


KEY_CASES = {
    "overlapping": [(slice(0, 3),), (slice(1, 4),), (slice(2, 6), 1)],
    "same_key_twice": [(2,), (2,), (slice(None), 0)],
    "int_index": [(1, 2), (4, 0, 3), (-1,)],
    "negative_step": [(slice(None, None, -1),), (slice(5, 0, -2), slice(None), slice(None, None, -3))],
    "none_axis": [(None, 1), (slice(None), None, 2), (None, ..., None, slice(1, 3))],
    "ellipsis": [(..., 1), (1, ...), (..., slice(0, 2), 3)],
    "full_slice": [(slice(None),), (...,)],
    "out_of_bounds_clamped": [(slice(-10, 2),), (slice(4, 100),)],
    "empty": [(slice(3, 3),), (2,)],
}


@pytest.mark.parametrize("case", sorted(KEY_CASES))
def test_key_kinds_match_dense(backend, case):
    _check(lambda x, take: _sum_uses([take(x, k) for k in KEY_CASES[case]]))


def test_slice_used_twice(backend):
    def build(x, take):
        p = take(x, (slice(1, 4),))
        return _use(p, 0) + _use(p, 1) + _use(take(x, (2,)), 2)

    _check(build)


@pytest.mark.parametrize("order", ["dense_first", "dense_last", "dense_between"])
def test_dense_use_mixed_with_slices(backend, order):
    """Whatever order the dense and the slice gradients of x arrive in."""

    def build(x, take):
        slices = [lambda i=i: _use(take(x, (i,)), i) for i in range(6)]
        dense = lambda: _use(x * 2.0, 9)  # noqa: E731
        if order == "dense_first":
            parts = [dense()] + [s() for s in slices]
        elif order == "dense_last":
            parts = [s() for s in slices] + [dense()]
        else:
            parts = [s() for s in slices[:3]] + [dense()] + [s() for s in slices[3:]]
        return sum(parts)

    _check(build)


@pytest.mark.parametrize("slices_made_first", [True, False])
def test_a_shared_dense_gradient_is_not_written_into(backend, slices_made_first):
    """``x + v`` gives x and v one gradient array: adding x's slices must leave v's alone
    (the op made last runs first: with the slices made first, the dense gradient arrives first)."""
    x, v = _leaf(0), _leaf(1)
    w = _weights(SHAPE, 2)
    if slices_made_first:
        sliced = sum(p.sum() for p in x.unbind(0))
        loss = sliced + ((x + v) * w).sum()
    else:
        loss = ((x + v) * w).sum() + sum(p.sum() for p in x.unbind(0))
    loss.backward()
    np.testing.assert_allclose(v.grad.numpy(), w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), w.numpy() + 1.0, rtol=1e-12)


def test_non_leaf_source(backend):
    """Slices of a tensor made by an op: the summed gradient flows on through that op."""

    def build(x, take):
        y = x * 3.0
        return _sum_uses([take(y, (i,)) for i in range(0, 6, 2)] + [take(y, (slice(1, 5), 2))])

    _check(build)


def test_retain_graph_and_second_backward(backend):
    def build(x, take):
        return _sum_uses([take(x, (i,)) for i in range(6)]) + _use(x, 5)

    x = _leaf()
    loss = build(x, _take)
    loss.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(once, _grad_of(build, _dense_take), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * once, rtol=1e-12)


def _reference():
    return _grad_of(lambda x, take: _sum_uses([take(x, (i,)) for i in range(6)]), _dense_take)


def test_hooks_see_the_dense_gradient(backend):
    ref = _reference()
    x = _leaf()
    seen = []

    def hook(g):
        assert isinstance(g, gdl.Tensor) and g.shape == SHAPE
        seen.append(g.numpy())
        return g * 2.0

    x.register_hook(hook)
    _sum_uses(x.unbind(0)).backward()
    np.testing.assert_allclose(seen[0], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * ref, rtol=1e-12, atol=1e-12)


def test_hook_and_retain_grad_on_non_leaf(backend):
    ref = _reference()
    base = _leaf()
    x = base * 1.0
    x.retain_grad()
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy()))
    _sum_uses(x.unbind(0)).backward()
    for got in (seen[0], x.grad.numpy(), base.grad.numpy()):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non_leaf"])
def test_autograd_grad_and_backward_inputs(backend, leaf):
    ref = _reference()
    base = _leaf()
    x = base if leaf else base * 1.0
    (g,) = gdl.autograd.grad(_sum_uses(x.unbind(0)), x)
    assert isinstance(g, gdl.Tensor)
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert base.grad is None
    gdl.autograd.backward(_sum_uses(x.unbind(0)), inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_accumulates_into_an_earlier_grad_without_writing_into_it(backend):
    ref = _reference()
    x = _leaf()
    _use(x, 5).backward()
    held = x.grad
    before = held.numpy().copy()
    _sum_uses(x.unbind(0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), before + ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(held.numpy(), before)  # the user's array is untouched


def _host_view(a):
    """The NumPy memory behind a backend array (None where there is none to inspect)."""
    if isinstance(a, np.ndarray):
        return a
    inner = getattr(a, "_array", None)  # array_api_strict wraps a NumPy array
    return inner if isinstance(inner, np.ndarray) else None


def test_grad_shares_memory_with_nothing(backend):
    x, v = _leaf(0), _leaf(1)
    y = x[1:5]
    y.retain_grad()
    root = _weights((6, 3, 4), 3)
    out = x * 1.0 + v + y.sum() + x[...] + x[2]
    out.backward(root)
    arrays = {"v.grad": v.grad.data, "y.grad": y.grad.data, "root": root.data, "x": x.data, "v": v.data}
    gx = _host_view(x.grad.data)
    if gx is None:
        pytest.skip("no host memory to compare on this backend")
    for name, a in arrays.items():
        assert not np.shares_memory(gx, _host_view(a)), name
    w = root.numpy()
    ref = 2 * w
    ref[1:5] += w.sum()
    ref[2] += w.sum(0)
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("slice_first", [True, False])
def test_with_row_sparse_gradients(backend, slice_first):
    """A table used by ``Embedding(sparse=True)`` and by slicing: the same as dense."""

    def grad(sparse):
        gdl.manual_seed(0)
        emb = nn.Embedding(5, 3, sparse=sparse, dtype=gdl.float64)
        if slice_first:
            sliced = _use(emb.weight[1:3], 0) + _use(emb.weight[4], 1)
            loss = sliced + (emb(gdl.tensor([[1, 4, 1]])) ** 2).sum()
        else:
            rows = (emb(gdl.tensor([[1, 4, 1]])) ** 2).sum()
            loss = rows + _use(emb.weight[1:3], 0) + _use(emb.weight[4], 1)
        loss.backward()
        return emb.weight.grad.numpy()

    np.testing.assert_allclose(grad(True), grad(False), rtol=1e-12, atol=1e-12)


def test_unbind_backward_allocates_o1_full_size_buffers(backend, monkeypatch):
    """The cost is linear without timing anything: count the arrays of x's size that the
    backward of 64 slices allocates (zeros or copies): a constant, not one per slice."""
    T = 64
    x = gdl.zeros(T, 2, 3, dtype=gdl.float64, requires_grad=True)
    loss = sum(p.sum() for p in x.unbind(0))
    xp = gdl.get_backend_object(backend).xp
    full = []

    def counting(fn):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            if tuple(getattr(out, "shape", ())) == x.shape:
                full.append(fn.__name__)
            return out

        return wrapper

    for name in ("zeros", "asarray", "zeros_like", "full", "empty"):
        monkeypatch.setattr(xp, name, counting(getattr(xp, name)))
    loss.backward()
    monkeypatch.undo()
    assert len(full) <= 2, full
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((T, 2, 3)))
