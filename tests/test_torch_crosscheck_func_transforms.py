"""gdl.func's vmap/jvp/jacfwd/linearize and gdl.autograd.functional against torch.func and
torch.autograd.functional, in float64: values, shapes and the exact tuple structure."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.autograd.functional as TAF  # noqa: E402
import torch.func as tf  # noqa: E402

import gdl  # noqa: E402
import gdl.autograd.functional as GAF  # noqa: E402
import gdl.func as gf  # noqa: E402

RNG = np.random.default_rng(0)
A, B, V3, V2 = (RNG.normal(size=s) for s in ((3,), (2, 3), (3,), (2,)))


def _same(ours, theirs, rtol=1e-12):
    """Same nesting (tuples), shapes and values. torch's vectorized forward-mode jacobian/hessian
    return lists where its other strategies return tuples: gdl returns tuples for all."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (type(ours), ours)
        for o, t in zip(ours, theirs):
            _same(o, t, rtol)
        return
    assert isinstance(ours, gdl.Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-14)


def _g(*arrays, requires_grad=False):
    out = tuple(gdl.tensor(a, requires_grad=requires_grad) for a in arrays)
    return out if len(out) > 1 else out[0]


def _t(*arrays, requires_grad=False):
    out = tuple(torch.tensor(a, requires_grad=requires_grad) for a in arrays)
    return out if len(out) > 1 else out[0]


def f_single(x):  # written once, runs on both libraries' tensors
    return (x.sin() * x[0]).tanh() + x ** 2


def f_pair(x, w):
    return (w @ x).tanh() * x.sum(), (x ** 3).exp()


def f_scalar(x):
    return (x.sin() * x.sum()).sum() + (x ** 4).sum()


def f_scalar_pair(x, w):
    return ((w @ x).tanh() ** 2).sum() + (w * w).sum() * x.sum()


def test_per_sample_gradients_of_an_mlp_match_torch():
    gdl.manual_seed(0)
    ours = gdl.nn.Sequential(gdl.nn.Linear(3, 5), gdl.nn.Tanh(), gdl.nn.Linear(5, 2)).to(dtype=gdl.float64)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))

    def loss_ours(p, xi, yi):
        return ((gf.functional_call(ours, p, (xi.unsqueeze(0),)) - yi.unsqueeze(0)) ** 2).mean()

    def loss_theirs(p, xi, yi):
        return ((tf.functional_call(theirs, p, (xi.unsqueeze(0),)) - yi.unsqueeze(0)) ** 2).mean()

    p_ours = {k: p.detach() for k, p in ours.named_parameters()}
    p_theirs = {k: p.detach() for k, p in theirs.named_parameters()}
    g_ours = gf.vmap(gf.grad(loss_ours), in_dims=(None, 0, 0))(p_ours, *_g(x, y))
    g_theirs = tf.vmap(tf.grad(loss_theirs), in_dims=(None, 0, 0))(p_theirs, *_t(x, y))
    assert set(g_ours) == set(g_theirs)
    for k in g_theirs:
        _same(g_ours[k], g_theirs[k])


def test_vmap_in_and_out_dims_match_torch():
    x, w = RNG.normal(size=(3, 4, 2)), RNG.normal(size=(2, 5))

    def f(a, m):
        return a @ m, a.sum(0)

    for in_dims, out_dims in (((0, None), 0), ((1, None), (1, 0)), ((-1, None), (-1, 0)), ((2, None), (0, -1))):
        if in_dims[0] in (2, -1):
            m = RNG.normal(size=(4,))
            fn = lambda a, v: (a @ v, a.sum(0) * 2)  # noqa: E731
            args = (x, m)
        else:
            fn, args = f, (x, w)
        ours = gf.vmap(fn, in_dims=in_dims, out_dims=out_dims)(*_g(*args))
        theirs = tf.vmap(fn, in_dims=in_dims, out_dims=out_dims)(*_t(*args))
        _same(ours, theirs)
    nested_o = gf.vmap(gf.vmap(lambda a: a.exp().sum(), in_dims=1))(_g(x))
    nested_t = tf.vmap(tf.vmap(lambda a: a.exp().sum(), in_dims=1))(_t(x))
    _same(nested_o, nested_t)


def test_gradient_through_vmap_matches_torch():
    x = RNG.normal(size=(4, 3))
    xo, xt = _g(x, requires_grad=True), _t(x, requires_grad=True)
    (gf.vmap(f_single)(xo) ** 2).sum().backward()
    (tf.vmap(f_single)(xt) ** 2).sum().backward()
    _same(xo.grad, xt.grad)


def test_jvp_jacfwd_linearize_match_torch_func():
    tangents = (RNG.normal(size=(3,)), RNG.normal(size=(2, 3)))
    _same(gf.jvp(f_single, (_g(A),), (_g(V3),)), tf.jvp(f_single, (_t(A),), (_t(V3),)))
    _same(gf.jvp(f_pair, _g(A, B), _g(*tangents)), tf.jvp(f_pair, _t(A, B), _t(*tangents)))
    for argnums in (0, 1, (0, 1)):
        _same(gf.jacfwd(f_pair, argnums=argnums)(*_g(A, B)), tf.jacfwd(f_pair, argnums=argnums)(*_t(A, B)))
    _same(gf.jacfwd(f_single)(_g(A)), tf.jacfwd(f_single)(_t(A)))
    _same(gf.jacfwd(gf.jacrev(f_scalar))(_g(A)), tf.jacfwd(tf.jacrev(f_scalar))(_t(A)))
    out_o, fn_o = gf.linearize(f_pair, *_g(A, B))
    out_t, fn_t = tf.linearize(f_pair, *_t(A, B))
    _same(out_o, out_t)
    _same(fn_o(*_g(*tangents)), fn_t(*_t(*tangents)))


def test_autograd_functional_single_and_tuple_structures_match_torch():
    cases = [  # (function, inputs, v for vjp (output-shaped), v for jvp (input-shaped))
        (f_single, (A,), (V3,), (V3,)),
        (f_pair, (A, B), (V2, V3), (V3, B * 0.5)),
        (lambda x: (x.exp(), x.sum()), (A,), (V3, np.array(0.7)), (V3,)),
        (lambda x, w: (w @ x).sum(), (A, B), (np.array(1.3),), (V3, B)),
    ]
    for fn, inputs, v_out, v_in in cases:
        for tuple_in in ((True, False) if len(inputs) == 1 else (True,)):
            io = _g(*inputs) if len(inputs) > 1 else (_g(*inputs),) if tuple_in else _g(*inputs)
            it = _t(*inputs) if len(inputs) > 1 else (_t(*inputs),) if tuple_in else _t(*inputs)
            vo_out = _g(*v_out) if len(v_out) > 1 else _g(*v_out)
            vt_out = _t(*v_out) if len(v_out) > 1 else _t(*v_out)
            vo_in = _g(*v_in) if len(v_in) > 1 else (_g(*v_in),) if tuple_in else _g(*v_in)
            vt_in = _t(*v_in) if len(v_in) > 1 else (_t(*v_in),) if tuple_in else _t(*v_in)
            _same(GAF.vjp(fn, io, vo_out), TAF.vjp(fn, it, vt_out))
            _same(GAF.jvp(fn, io, vo_in), TAF.jvp(fn, it, vt_in))
            _same(GAF.jacobian(fn, io), TAF.jacobian(fn, it))
            _same(GAF.jacobian(fn, io, strategy="forward-mode"),
                  TAF.jacobian(fn, it, strategy="forward-mode", vectorize=True))


def test_hessian_hvp_vhp_match_torch():
    for fn, inputs, v in ((f_scalar, (A,), (V3,)), (f_scalar_pair, (A, B), (V3, B * 0.3))):
        for tuple_in in ((True, False) if len(inputs) == 1 else (True,)):
            io = _g(*inputs) if len(inputs) > 1 else (_g(*inputs),) if tuple_in else _g(*inputs)
            it = _t(*inputs) if len(inputs) > 1 else (_t(*inputs),) if tuple_in else _t(*inputs)
            vo = _g(*v) if len(v) > 1 else (_g(*v),) if tuple_in else _g(*v)
            vt = _t(*v) if len(v) > 1 else (_t(*v),) if tuple_in else _t(*v)
            _same(GAF.hessian(fn, io), TAF.hessian(fn, it))
            _same(GAF.hessian(fn, io, outer_jacobian_strategy="forward-mode"),
                  TAF.hessian(fn, it, outer_jacobian_strategy="forward-mode", vectorize=True))
            _same(GAF.hvp(fn, io, vo), TAF.hvp(fn, it, vt))
            _same(GAF.vhp(fn, io, vo), TAF.vhp(fn, it, vt))


def test_create_graph_results_differentiate_again_like_torch():
    xo, xt = _g(A, requires_grad=True), _t(A, requires_grad=True)
    for name in ("vjp", "jvp", "hvp", "vhp"):
        fn = f_single if name in ("vjp", "jvp") else f_scalar
        _, ours = getattr(GAF, name)(fn, xo, _g(V3), create_graph=True)
        _, theirs = getattr(TAF, name)(fn, xt, _t(V3), create_graph=True)
        _same(gdl.autograd.grad((ours ** 2).sum(), xo), torch.autograd.grad((theirs ** 2).sum(), xt))
    for name in ("jacobian", "hessian"):
        fn = f_single if name == "jacobian" else f_scalar
        ours, theirs = getattr(GAF, name)(fn, xo, create_graph=True), getattr(TAF, name)(fn, xt, create_graph=True)
        _same(ours, theirs)
        _same(gdl.autograd.grad((ours ** 2).sum(), xo), torch.autograd.grad((theirs ** 2).sum(), xt))
