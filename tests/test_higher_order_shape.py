"""Gradients of gradients (``create_graph=True``) through the shape and indexing ops:
reshape, permute, transpose, expand, squeeze/unsqueeze, flatten, basic and integer-array
indexing, cat, stack, split/chunk/unbind, flip, roll, repeat/tile, tril/triu, gather,
index_select, masked_select, scatter, scatter_add and index_add, checked against
PyTorch in float64 on every test backend.

The first pass uses ``grad_outputs`` (not a final ``.sum()``), so these tests need only
the shape ops' and the arithmetic's graph backwards."""

from __future__ import annotations

import numpy as np
import pytest

import gdl


def _torch():
    return pytest.importorskip("torch")


def _both(a):
    """The same float64 leaf in gdl (on the current backend) and in torch."""
    torch = _torch()
    return gdl.tensor(a, dtype=gdl.float64, requires_grad=True), torch.tensor(a, dtype=torch.float64,
                                                                              requires_grad=True)


def _const(a):
    torch = _torch()
    return gdl.tensor(a, dtype=gdl.float64), torch.tensor(a, dtype=torch.float64)


def _index(a):
    torch = _torch()
    return gdl.tensor(a), torch.tensor(a)


def _cube(y):
    return y ** 3


def _tanh_product(y):
    return y.tanh() * y * y


def _check_second_order(op_gdl, op_torch, shapes, head=_cube, seed=0):
    """``g = d/dx <v, head(op(x...))>`` with ``create_graph=True``, then ``d/dx <w, g>``:
    both compared with torch (``shapes``: one per input)."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    pairs = [_both(rng.normal(size=s)) for s in shapes]
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    y, yt = op_gdl(*xs), op_torch(*ts)
    assert y.shape == tuple(yt.shape)
    v = rng.normal(size=y.shape)
    (vg, vt) = _const(v)
    gs = gdl.autograd.grad(head(y), xs, grad_outputs=vg, create_graph=True)
    gts = torch.autograd.grad(head(yt), ts, grad_outputs=vt, create_graph=True)
    ws = [rng.normal(size=s) for s in shapes]
    for g, gt in zip(gs, gts):
        assert g.requires_grad and g.grad_fn is not None
        np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    hs = gdl.autograd.grad(list(gs), xs, grad_outputs=[_const(w)[0] for w in ws], allow_unused=True)
    hts = torch.autograd.grad(list(gts), ts, grad_outputs=[_const(w)[1] for w in ws], allow_unused=True)
    for h, ht in zip(hs, hts):
        if ht is None:
            assert h is None or not np.any(h.numpy())
            continue
        np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


# -- pure shape ops -------------------------------------------------------------------------

SHAPE_CASES = {
    "reshape": ((2, 3, 4), lambda x: x.reshape(4, -1), lambda t: t.reshape(4, -1)),
    "view": ((2, 3, 4), lambda x: x.view(6, 4), lambda t: t.view(6, 4)),
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "permute_negative": ((2, 3, 4), lambda x: x.permute(-1, -3, -2), lambda t: t.permute(-1, -3, -2)),
    "transpose": ((2, 3, 4), lambda x: x.transpose(0, -1), lambda t: t.transpose(0, -1)),
    "swapaxes": ((2, 3, 4), lambda x: x.swapaxes(1, 2), lambda t: t.swapaxes(1, 2)),
    "mT": ((2, 3, 4), lambda x: x.mT, lambda t: t.mT),
    "movedim": ((2, 3, 4), lambda x: x.movedim(0, -1), lambda t: t.movedim(0, -1)),
    "expand": ((3, 1, 4), lambda x: x.expand(2, 3, 5, 4), lambda t: t.expand(2, 3, 5, 4)),
    "expand_minus_one": ((3, 1), lambda x: x.expand(-1, 4), lambda t: t.expand(-1, 4)),
    "broadcast_to": ((1, 4), lambda x: gdl.broadcast_to(x, (2, 3, 4)), lambda t: t.broadcast_to((2, 3, 4))),
    "squeeze_all": ((1, 3, 1, 4), lambda x: x.squeeze(), lambda t: t.squeeze()),
    "squeeze_dim": ((3, 1, 4), lambda x: x.squeeze(-2), lambda t: t.squeeze(-2)),
    "unsqueeze": ((3, 4), lambda x: x.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    "unsqueeze_front": ((3, 4), lambda x: x.unsqueeze(0), lambda t: t.unsqueeze(0)),
    "flatten": ((2, 3, 4), lambda x: x.flatten(), lambda t: t.flatten()),
    "flatten_range": ((2, 3, 4, 2), lambda x: x.flatten(1, -2), lambda t: t.flatten(1, -2)),
    "unflatten": ((2, 12), lambda x: x.unflatten(1, (3, -1)), lambda t: t.unflatten(1, (3, -1))),
    "flip": ((3, 4), lambda x: x.flip(0, -1), lambda t: t.flip(0, -1)),
    "roll_dims": ((3, 4), lambda x: x.roll((1, -3), (0, -1)), lambda t: t.roll((1, -3), (0, -1))),
    "roll_flat": ((3, 4), lambda x: x.roll(5), lambda t: t.roll(5)),
    "repeat": ((2, 3), lambda x: x.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
    "tile": ((2, 3), lambda x: x.tile(2), lambda t: t.tile(2)),
    "tril": ((3, 4), lambda x: x.tril(-1), lambda t: t.tril(-1)),
    "triu": ((2, 3, 4), lambda x: x.triu(1), lambda t: t.triu(1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_second_derivative_through_shape_ops(backend, name):
    shape, op, op_t = SHAPE_CASES[name]
    _check_second_order(op, op_t, [shape])


@pytest.mark.parametrize("name", ["permute", "expand", "repeat", "roll_dims"])
def test_second_derivative_through_shape_ops_with_a_tanh_product(backend, name):
    shape, op, op_t = SHAPE_CASES[name]
    _check_second_order(op, op_t, [shape], head=_tanh_product, seed=1)


# -- basic and integer-array indexing ---------------------------------------------------------

INDEX_CASES = {
    "int": lambda: 1,
    "negative_int": lambda: (-1, 2),
    "slices": lambda: (slice(1, None), slice(None, None, 2)),
    "negative_slice": lambda: (slice(None), slice(-3, -1)),
    "out_of_range_slice": lambda: (slice(None), slice(-32, None)),
    "ellipsis": lambda: (Ellipsis, slice(1, 3)),
    "none": lambda: (None, slice(None), 0),
    "none_middle": lambda: (slice(0, 2), None, Ellipsis, 1),
    "array_rows_duplicates": lambda: ([0, 2, 0, 0],),
    "array_cols_negative": lambda: (slice(None), [1, 1, -1]),
    "array_2d": lambda: ([[0, 1], [1, 1]],),
    "two_arrays": lambda: ([0, 1, 0], [2, 2, -1]),
    "tensor_index": lambda: ("tensor", [2, 0, 2]),
    "array_after_ellipsis": lambda: (Ellipsis, [3, 0, 3]),
}


def _key(spec):
    key = spec()
    key = key if isinstance(key, tuple) else (key,)
    if key and key[0] == "tensor":
        g, t = _index(key[1])
        return (g,), (t,)
    return key, key


@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_second_derivative_through_indexing(backend, name):
    kg, kt = _key(INDEX_CASES[name])
    _check_second_order(lambda x: x[kg], lambda t: t[kt], [(3, 2, 4) if name.startswith("array_after") else (3, 4)])


def test_second_derivative_through_overlapping_slices_of_one_tensor(backend):
    # several slices of x feed one product: the slice gradients (SlicePut) add up in the graph path
    _check_second_order(lambda x: x[1:] * x[:-1] * x[0], lambda t: t[1:] * t[:-1] * t[0], [(4, 3)])


def test_second_derivative_through_take(backend):
    ig, it = _index([3, 0, 3, -1])
    _check_second_order(lambda x: gdl.take(x, ig, dim=1), lambda t: t[:, it], [(2, 4)])


def test_second_derivative_through_narrow_and_select(backend):
    _check_second_order(lambda x: x.narrow(-1, 1, 2) * x.select(0, -1)[1:3],
                        lambda t: t.narrow(-1, 1, 2) * t.select(0, -1)[1:3], [(3, 4)])


# -- joining and splitting ----------------------------------------------------------------------


def test_second_derivative_through_cat(backend):
    _check_second_order(lambda a, b: gdl.cat([a, b * 2, a[:, :1]], dim=-1),
                        lambda a, b: __import__("torch").cat([a, b * 2, a[:, :1]], dim=-1), [(3, 2), (3, 4)])


def test_second_derivative_through_cat_of_one_tensor_twice(backend):
    _check_second_order(lambda a: gdl.cat([a, a], 0), lambda a: __import__("torch").cat([a, a], 0), [(2, 3)])


def test_second_derivative_through_stack(backend):
    torch = _torch()
    _check_second_order(lambda a, b: gdl.stack([a, b, a * b], dim=-1), lambda a, b: torch.stack([a, b, a * b], dim=-1),
                        [(2, 3), (2, 3)])
    _check_second_order(lambda a, b: gdl.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1), [(2, 3), (2, 3)],
                        head=_tanh_product)


def _weighted_cat(pieces, cat):
    return cat([p * (i + 1) for i, p in enumerate(pieces)])


def test_second_derivative_through_split_chunk_unbind(backend):
    torch = _torch()
    _check_second_order(lambda x: _weighted_cat(x.split([1, 3], dim=-1), lambda ps: gdl.cat(ps, -1)),
                        lambda t: _weighted_cat(t.split([1, 3], dim=-1), lambda ps: torch.cat(ps, -1)), [(3, 4)])
    _check_second_order(lambda x: _weighted_cat(x.chunk(2, 0), lambda ps: gdl.cat(ps, 0)),
                        lambda t: _weighted_cat(t.chunk(2, 0), lambda ps: torch.cat(ps, 0)), [(3, 4)])
    # unbind: only some slices used, the others get no gradient
    _check_second_order(lambda x: x.unbind(1)[0] * x.unbind(1)[2], lambda t: t.unbind(1)[0] * t.unbind(1)[2], [(3, 4)])


# -- gather and friends (indexing.py) ------------------------------------------------------------


@pytest.mark.parametrize("dim,index", [(1, [[0, 0], [3, 1], [2, 2]]), (0, [[2, 0, 2, 2]]), (-1, [[1], [1], [0]])])
def test_second_derivative_through_gather(backend, dim, index):
    ig, it = _index(index)
    _check_second_order(lambda x: x.gather(dim, ig), lambda t: t.gather(dim, it), [(3, 4)])


def test_second_derivative_through_take_along_dim(backend):
    ig, it = _index([[0, -1, 0], [2, 2, 1]])
    torch = _torch()
    _check_second_order(lambda x: gdl.take_along_dim(x, ig, dim=1),
                        lambda t: torch.take_along_dim(t, it % 4, dim=1), [(2, 4)])


@pytest.mark.parametrize("dim,index", [(0, [2, 2, 0]), (-1, [3, 0, 3, 3, 1])])
def test_second_derivative_through_index_select(backend, dim, index):
    ig, it = _index(index)
    _check_second_order(lambda x: x.index_select(dim, ig), lambda t: t.index_select(dim, it), [(3, 4)],
                        head=_tanh_product)


@pytest.mark.parametrize("xshape,mshape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4))])
def test_second_derivative_through_masked_select(backend, xshape, mshape):
    mask = np.random.default_rng(5).random(mshape) > 0.4
    mg, mt = _index(mask.tolist())
    _check_second_order(lambda x: x.masked_select(mg), lambda t: t.masked_select(mt), [xshape])


def test_second_derivative_through_scatter_add_to_self_and_src(backend):
    ig, it = _index([[0, 2, 0], [1, 1, 1]])
    _check_second_order(lambda x, s: x.scatter_add(1, ig, s * x[:1, :1]), lambda x, s: x.scatter_add(1, it, s * x[:1, :1]),
                        [(2, 4), (2, 3)])
    ig, it = _index([[2, 0, 2, 1]])
    _check_second_order(lambda x, s: x.scatter_add(0, ig, s), lambda x, s: x.scatter_add(0, it, s), [(3, 4), (1, 4)],
                        head=_tanh_product)


def test_second_derivative_through_scatter(backend):
    ig, it = _index([[3, 0], [1, 2]])  # no place written twice (torch leaves that undefined)
    _check_second_order(lambda x, s: x.scatter(1, ig, s), lambda x, s: x.scatter(1, it, s), [(2, 4), (2, 2)])
    ig, it = _index([[0, 2, 1], [1, 0, 2]])
    _check_second_order(lambda x, s: x.scatter(0, ig, s * s), lambda x, s: x.scatter(0, it, s * s), [(3, 4), (2, 3)],
                        head=_tanh_product)
    _check_second_order(lambda x: x.scatter(1, ig, 1.5) * x, lambda x: x.scatter(1, it, 1.5) * x, [(2, 4)])


@pytest.mark.parametrize("op", ["scatter_add", "scatter"])
def test_gradcheck_of_the_graph_gradient_of_a_scatter_with_a_larger_src(backend, op):
    # src larger than index: only its leading corner is used, the rest gets no gradient (torch's
    # double backward refuses this case, so a numeric check instead)
    rng = np.random.default_rng(6)
    x = gdl.tensor(rng.normal(size=(2, 4)), dtype=gdl.float64, requires_grad=True)
    s = gdl.tensor(rng.normal(size=(3, 5)), dtype=gdl.float64, requires_grad=True)
    index = gdl.tensor([[0, 2, 3], [1, 3, 2]])
    v = gdl.tensor(rng.normal(size=(2, 4)), dtype=gdl.float64)

    def first_gradients(x, s):
        with gdl.enable_grad():
            y = getattr(x, op)(1, index, s * s) * x
            gx, gs = gdl.autograd.grad(y.tanh(), [x, s], grad_outputs=v, create_graph=True)
        return gdl.cat([gx.reshape(-1), gs.reshape(-1)])

    assert gdl.testing.gradcheck(first_gradients, [x, s])
    gs = first_gradients(x, s)[8:].reshape(3, 5)
    assert not np.any(gs.numpy()[2:]) and not np.any(gs.numpy()[:, 3:])


@pytest.mark.parametrize("dim,alpha", [(0, 1), (-1, 2.5)])
def test_second_derivative_through_index_add(backend, dim, alpha):
    ig, it = _index([2, 0, 2])
    sshape = (3, 4) if dim == 0 else (3, 3)
    _check_second_order(lambda x, s: x.index_add(dim, ig, s * s, alpha=alpha),
                        lambda x, s: x.index_add(dim, it, s * s, alpha=alpha), [(3, 4), sshape])


# -- a third derivative, gradcheck, and first-order results unchanged -------------------------


@pytest.mark.parametrize("which", ["permute_index", "gather"])
def test_third_derivative_through_shape_ops(backend, which):
    torch = _torch()
    rng = np.random.default_rng(2)
    x, xt = _both(rng.normal(size=(3, 4)))
    if which == "permute_index":
        ig, it = _index([1, 1, 3, 0])
        y, yt = x.permute(1, 0)[ig].reshape(-1), xt.permute(1, 0)[it].reshape(-1)
    else:
        ig, it = _index([[0, 0, 3], [2, 1, 2], [1, 1, 1]])
        y, yt = x.gather(1, ig)[:, 1:], xt.gather(1, it)[:, 1:]
    v, w, u = (_const(rng.normal(size=s)) for s in (y.shape, x.shape, x.shape))
    (g,) = gdl.autograd.grad(y ** 4, x, grad_outputs=v[0], create_graph=True)
    (gt,) = torch.autograd.grad(yt ** 4, xt, grad_outputs=v[1], create_graph=True)
    (h,) = gdl.autograd.grad(g, x, grad_outputs=w[0], create_graph=True)
    (ht,) = torch.autograd.grad(gt, xt, grad_outputs=w[1], create_graph=True)
    assert h.requires_grad
    np.testing.assert_allclose(h.numpy(), ht.detach().numpy(), rtol=1e-10)
    (t,) = gdl.autograd.grad(h, x, grad_outputs=u[0])
    (tt,) = torch.autograd.grad(ht, xt, grad_outputs=u[1])
    np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-10, atol=1e-12)
    assert np.any(t.numpy())


@pytest.mark.parametrize("name", ["getitem", "gather", "cat", "expand", "index_select", "masked_select"])
def test_gradcheck_of_the_graph_gradient(backend, name):
    rng = np.random.default_rng(3)
    x = gdl.tensor(rng.normal(size=(3, 4)), dtype=gdl.float64, requires_grad=True)
    ops = {
        "getitem": lambda x: x[[2, 0, 2]][:, 1:],
        "gather": lambda x: x.gather(1, gdl.tensor([[1, 1], [0, 3], [2, 2]])),
        "cat": lambda x: gdl.cat([x, x[:, ::2]], 1).permute(1, 0),
        "expand": lambda x: x[:, None].expand(3, 2, 4),
        "index_select": lambda x: x.index_select(-1, gdl.tensor([3, 3, 0])),
        "masked_select": lambda x: x.masked_select(gdl.tensor([True, False, True, True])),
    }
    op = ops[name]
    v = gdl.tensor(rng.normal(size=op(x).shape), dtype=gdl.float64)

    def first_gradient(x):
        with gdl.enable_grad():  # gradcheck's numeric pass runs under no_grad
            return gdl.autograd.grad(op(x).tanh() * op(x), x, grad_outputs=v, create_graph=True)[0]

    assert gdl.testing.gradcheck(first_gradient, [x])


def test_graph_gradient_matches_the_first_order_one(backend):
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 4))
    ig = gdl.tensor([[0, 2], [1, 1], [3, 3]])

    def f(x):
        return (gdl.cat([x[1:, ::-1], x[:1]], 0).gather(1, ig) ** 2).reshape(-1) * gdl.tensor(
            np.arange(6.0), dtype=gdl.float64)

    x1 = gdl.tensor(a, dtype=gdl.float64, requires_grad=True)
    x2 = gdl.tensor(a, dtype=gdl.float64, requires_grad=True)
    ones = gdl.ones(6, dtype=gdl.float64)
    (g1,) = gdl.autograd.grad(f(x1), x1, grad_outputs=ones)
    (g2,) = gdl.autograd.grad(f(x2), x2, grad_outputs=ones, create_graph=True)
    assert g1.grad_fn is None and g2.grad_fn is not None
    np.testing.assert_allclose(g2.numpy(), g1.numpy(), rtol=1e-12)


def test_the_gradient_of_a_linear_index_is_differentiable_in_grad_outputs(backend):
    # x[key]'s gradient is v put at key: with v requiring grad, it is a graph in v, and its
    # own gradient (in v) is the slice again
    x = gdl.tensor(np.ones((3, 4)), dtype=gdl.float64, requires_grad=True)
    v = gdl.tensor([2.0, 3.0], dtype=gdl.float64, requires_grad=True)
    (g,) = gdl.autograd.grad(x[1:, 2], x, grad_outputs=v, create_graph=True)
    assert g.grad_fn.name == "SlicePut"
    np.testing.assert_array_equal(g.numpy(), [[0, 0, 0, 0], [0, 0, 2, 0], [0, 0, 3, 0]])
    (gv,) = gdl.autograd.grad(g, v, grad_outputs=gdl.tensor(np.arange(12.0).reshape(3, 4), dtype=gdl.float64))
    np.testing.assert_array_equal(gv.numpy(), [6.0, 10.0])
    v = gdl.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=gdl.float64, requires_grad=True)
    (g,) = gdl.autograd.grad(x.gather(0, gdl.tensor([[0, 0, 2, 0]])), x, grad_outputs=v, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [[1, 2, 0, 4], [0, 0, 0, 0], [0, 0, 3, 0]])
    (gv,) = gdl.autograd.grad(g, v, grad_outputs=gdl.tensor(np.arange(12.0).reshape(3, 4), dtype=gdl.float64))
    np.testing.assert_array_equal(gv.numpy(), [[0.0, 1.0, 10.0, 3.0]])
