"""Second-order gradients (``create_graph=True``) through the convolutions of
``gdl.nn.functional`` (conv1d/2d/3d, conv_transpose1d/2d/3d) and ``unfold``/``fold``, against
PyTorch in float64: Hessian-vector products of small conv nets w.r.t. input, weight and bias,
third derivatives (the graph backward of a graph backward), a WGAN-GP penalty with a small CNN
critic, and the graph path's first gradient checked by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.testing import gradcheck

RTOL, ATOL = 1e-8, 1e-10

# (PyTorch warns that its own 'same' padding with an even kernel copies the input)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def _torch():
    return pytest.importorskip("torch")


def _g(a, grad=True):
    return gdl.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _np(t, shape):
    if t is None:
        return np.zeros(shape)
    return t.detach().numpy() if hasattr(t, "detach") else t.numpy()


def _hvp_gdl(loss_fn, arrays, vs, third=False):
    params = [_g(a) for a in arrays]
    grads = gdl.autograd.grad(loss_fn(*params), params, create_graph=True, allow_unused=True)
    assert all(g is None or g.requires_grad for g in grads), "create_graph gradients must carry a graph"
    s = None
    for g, v in zip(grads, vs):
        if g is not None:
            term = (g * _g(v, False)).sum()
            s = term if s is None else s + term
    hv = gdl.autograd.grad(s, params, create_graph=third, allow_unused=True)
    out = [[_np(g, a.shape) for g, a in zip(grads, arrays)], [_np(h, a.shape) for h, a in zip(hv, arrays)]]
    if third:  # d/dp Σ (H v)²: a third derivative, through the graph backwards of the graph backwards
        s3 = sum((h * h).sum() for h in hv if h is not None)
        out.append([_np(t, a.shape) for t, a in zip(gdl.autograd.grad(s3, params, allow_unused=True), arrays)])
    return out


def _hvp_torch(loss_fn, arrays, vs, third=False):
    torch = _torch()
    params = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    grads = torch.autograd.grad(loss_fn(*params), params, create_graph=True, allow_unused=True)
    s = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, vs) if g is not None)
    hv = torch.autograd.grad(s, params, create_graph=third, allow_unused=True)
    out = [[_np(g, a.shape) for g, a in zip(grads, arrays)], [_np(h, a.shape) for h, a in zip(hv, arrays)]]
    if third:
        s3 = sum((h * h).sum() for h in hv if h is not None)
        out.append([_np(t, a.shape) for t, a in zip(torch.autograd.grad(s3, params, allow_unused=True), arrays)])
    return out


def _check(gdl_fn, torch_fn, arrays, seed=0, third=False):
    rng = np.random.default_rng(seed + 1000)
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    got = _hvp_gdl(gdl_fn, arrays, vs, third)
    want = _hvp_torch(torch_fn, arrays, vs, third)
    for order, (gs, ws) in enumerate(zip(got, want), 1):
        if order > 1:
            assert any(np.abs(w).max() > 1e-6 for w in ws), "a zero higher derivative proves nothing"
        for i, (a, b) in enumerate(zip(gs, ws)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"order {order}, input {i}")


def _net(conv):
    """conv → tanh → sum of squares: every parameter has a non-zero Hessian."""
    return lambda x, w, b=None: (conv(x, w, b).tanh() ** 2).sum()


# -- the configurations: (op, x shape, weight shape, kwargs) ------------------------------------------

CASES = [
    ("conv1d", (2, 4, 9), (6, 4, 3), {}),
    ("conv1d", (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
    ("conv1d", (1, 3, 10), (2, 3, 3), dict(dilation=3, padding="same")),
    ("conv2d", (2, 3, 6, 5), (4, 3, 3, 3), {}),
    ("conv2d", (2, 4, 7, 6), (6, 2, 3, 2), dict(stride=2, padding=1, groups=2)),
    ("conv2d", (1, 4, 7, 8), (4, 1, 2, 3), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=4)),
    ("conv2d", (2, 2, 6, 6), (3, 2, 3, 3), dict(padding="same", dilation=2)),
    ("conv2d", (2, 2, 8, 7), (3, 2, 2, 2), dict(stride=3)),  # rows/columns past the last window
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (2, 4, 5), (4, 2, 2), dict(stride=2, dilation=3, output_padding=2, groups=2)),
    ("conv_transpose2d", (2, 3, 4, 3), (3, 2, 3, 3), {}),
    ("conv_transpose2d", (2, 4, 4, 5), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
    # output_padding >= stride (allowed as < dilation): conv2d of g has windows past x
    ("conv_transpose2d", (1, 4, 3, 4), (4, 1, 2, 3), dict(stride=(2, 1), dilation=(3, 2), output_padding=(2, 1),
                                                          groups=2)),
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1)),
    ("conv3d", (2, 4, 5, 4, 4), (4, 2, 3, 2, 2), dict(dilation=(2, 1, 1), padding=(2, 0, 1), groups=2)),
    ("conv3d", (2, 4, 4, 4), (3, 2, 2, 3, 2), dict(padding="same")),  # unbatched, uneven 'same' padding
    ("conv_transpose3d", (2, 2, 3, 2, 3), (2, 3, 2, 2, 2), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose3d", (1, 4, 2, 3, 2), (4, 1, 2, 2, 1), dict(stride=(2, 1, 1), dilation=(3, 1, 2),
                                                              output_padding=(2, 0, 1), groups=4)),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 2, 2, 3), dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1), groups=2)),
    ("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), dict(stride=(1, 2, 1), padding=(0, 1, 0),
                                                              dilation=(2, 1, 1))),
]
IDS = [f"{op}-{i}" for i, (op, *_rest) in enumerate(CASES)]


def _arrays(case, seed, bias=True):
    op, xs, ws, kw = case
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    o = ws[1] * groups if op.startswith("conv_transpose") else ws[0]
    arrays = [rng.standard_normal(xs) * 0.7, rng.standard_normal(ws) * 0.5]
    return arrays + [rng.standard_normal(o) * 0.3] if bias else arrays


def _fns(case):
    op, _, _, kw = case
    tf = getattr(_torch().nn.functional, op)
    return (lambda x, w, b=None: getattr(F, op)(x, w, b, **kw)), (lambda x, w, b=None: tf(x, w, b, **kw))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_hvp(case):
    index = CASES.index(case)
    fg, ft = _fns(case)
    _check(_net(fg), _net(ft), _arrays(case, seed=index), seed=index)


THIRD = [1, 5, 10, 14, 18, 19]  # (PyTorch's own third derivative fails for a transposed conv with output_padding)


@pytest.mark.parametrize("index", THIRD, ids=[IDS[i] for i in THIRD])
def test_conv_third_order(index):
    """Without bias, and to third order: the input gradient's own graph backward (conv ↔
    conv_transpose), the weight gradient's (unfold ↔ fold; the 3-D conv with roles swapped)."""
    case = CASES[index]
    fg, ft = _fns(case)
    _check(_net(fg), _net(ft), _arrays(case, seed=index, bias=False), seed=index, third=True)


@pytest.mark.parametrize("index", [9, 12, 17], ids=[IDS[i] for i in (9, 12, 17)])
def test_third_order_with_output_padding_by_finite_differences(index):
    """The transposed convolutions with output_padding >= stride, where PyTorch cannot go to
    third order: gdl's Hessian-vector product (itself built with create_graph=True) checked
    by finite differences, which exercises the graph backwards of the graph backwards."""
    op, _, _, kw = case = CASES[index]
    x, w = (_g(a) for a in _arrays(case, seed=index, bias=False))
    rng = np.random.default_rng(index)
    vx, vw = _g(rng.standard_normal(x.shape), False), _g(rng.standard_normal(w.shape), False)

    def hvp(x, w, i):
        with gdl.enable_grad():
            gx, gw = gdl.autograd.grad(_net(lambda a, b, c: getattr(F, op)(a, b, c, **kw))(x, w), (x, w),
                                       create_graph=True)
            return gdl.autograd.grad((gx * vx).sum() + (gw * vw).sum(), (x, w), create_graph=True)[i]

    for i in range(2):
        assert gradcheck(lambda a, b, i=i: hvp(a, b, i), [x, w], atol=1e-5, rtol=1e-4)


def test_only_the_weight_requires_grad():
    """A constant input: only the weight's and bias's gradients are built (and differentiated)."""
    torch = _torch()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 5))
    arrays = [rng.standard_normal((4, 3, 3, 3)) * 0.5, rng.standard_normal(4)]
    _check(lambda w, b: (F.conv2d(_g(x, False), w, b, padding=1).tanh() ** 2).sum(),
           lambda w, b: (torch.nn.functional.conv2d(torch.tensor(x), w, b, padding=1).tanh() ** 2).sum(), arrays)


# -- unfold / fold ---------------------------------------------------------------------------------------

WINDOWS = [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
]


@pytest.mark.parametrize("kw", WINDOWS, ids=["plain", "strided"])
def test_unfold_fold_second_and_third_order(kw):
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 5, 6))
    cols_shape = tuple(tf.unfold(torch.tensor(x), **kw).shape)
    c = rng.standard_normal(cols_shape)
    _check(lambda t: ((F.unfold(t, **kw) * _g(c, False)).tanh() ** 2).sum(),
           lambda t: ((tf.unfold(t, **kw) * torch.tensor(c)).tanh() ** 2).sum(), [x], seed=1, third=True)
    cols = rng.standard_normal(cols_shape)
    _check(lambda t: ((F.fold(t, (5, 6), **kw) * _g(x, False)).tanh() ** 2).sum(),
           lambda t: ((tf.fold(t, (5, 6), **kw) * torch.tensor(x)).tanh() ** 2).sum(), [cols], seed=2, third=True)


def test_unbatched_unfold_fold_second_order():
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5))
    _check(lambda t: (F.fold(F.unfold(t, 2).tanh(), (4, 5), 2).sin() ** 2).sum(),
           lambda t: (tf.fold(tf.unfold(t, 2).tanh(), (4, 5), 2).sin() ** 2).sum(), [x], seed=3)


# -- a WGAN-GP gradient penalty with a small CNN critic ------------------------------------------------


def _critic(lib, params, x):
    f = lib.nn.functional if lib is not gdl else F
    w1, b1, w2, b2, w3, b3 = params
    h = f.leaky_relu(f.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
    h = f.leaky_relu(f.conv2d(h, w2, b2, padding=1, groups=2), 0.2)
    return f.linear(h.reshape(x.shape[0], -1), w3, b3)


def test_wgan_gp_penalty_with_a_cnn_critic():
    torch = _torch()
    rng = np.random.default_rng(41)
    shapes = [(4, 2, 3, 3), (4,), (4, 2, 3, 3), (4,), (1, 4 * 3 * 3), (1,)]
    arrays = [rng.standard_normal(s) * 0.4 for s in shapes]
    real, fake = rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((3, 2, 6, 6)) + 1.0
    eps = rng.random((3, 1, 1, 1))
    mixed = eps * real + (1 - eps) * fake

    def penalty(lib, params, x):
        d = _critic(lib, params, x)
        (gx,) = lib.autograd.grad(d, x, grad_outputs=lib.ones_like(d), create_graph=True)
        norm = (gx * gx).reshape(x.shape[0], -1).sum(1).sqrt()
        return ((norm - 1.0) ** 2).mean()

    pg = [_g(a) for a in arrays]
    p = penalty(gdl, pg, _g(mixed))
    p.backward()
    pt = [torch.tensor(a, requires_grad=True) for a in arrays]
    p_t = penalty(torch, pt, torch.tensor(mixed, requires_grad=True))
    p_t.backward()

    np.testing.assert_allclose(p.item(), p_t.item(), rtol=RTOL)
    for i, (a, b) in enumerate(zip(pg, pt)):
        # the biases: ∇ₓD is piecewise constant in them (leaky_relu), the last one is not in it at all
        want = np.zeros(arrays[i].shape) if b.grad is None else b.grad.numpy()
        if i in (0, 2, 4):
            assert np.abs(want).max() > 1e-6
        np.testing.assert_allclose(_np(a.grad, arrays[i].shape), want, rtol=RTOL, atol=ATOL, err_msg=f"parameter {i}")


# -- gdl only: the graph path's first gradient ------------------------------------------------------------

GRADCHECK = [2, 4, 12, 13, 16]


def _first_grads(f, ts, create_graph=True):
    return gdl.autograd.grad(_net(f)(*ts), ts, create_graph=create_graph)


@pytest.mark.parametrize("index", GRADCHECK, ids=[IDS[i] for i in GRADCHECK])
def test_graph_first_gradient_matches_finite_differences(index):
    case = CASES[index]
    op, xs, ws, kw = case
    f = lambda x, w, b: getattr(F, op)(x, w, b, **kw)  # noqa: E731
    ts = [_g(a) for a in _arrays(case, seed=index)]
    assert _first_grads(f, ts)[0].grad_fn is not None
    for i in range(3):
        def fn(*args, i=i):
            with gdl.enable_grad():  # (gradcheck's finite differences run under no_grad)
                return _first_grads(f, list(args))[i]

        assert gradcheck(fn, ts, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("index", GRADCHECK, ids=[IDS[i] for i in GRADCHECK])
def test_graph_first_gradient_equals_the_raw_one(index):
    case = CASES[index]
    op, xs, ws, kw = case
    f = lambda x, w, b: getattr(F, op)(x, w, b, **kw)  # noqa: E731
    arrays = _arrays(case, seed=index + 50)
    fast = _first_grads(f, [_g(a) for a in arrays], create_graph=False)
    graphed = _first_grads(f, [_g(a) for a in arrays])
    for a, b in zip(fast, graphed):
        assert a.grad_fn is None and b.grad_fn is not None
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-12)


def test_unfold_graph_gradient_matches_finite_differences():
    x = _g(np.random.default_rng(9).standard_normal((1, 2, 4, 5)))

    def fn(t):
        with gdl.enable_grad():
            return gdl.autograd.grad((F.unfold(t, (2, 3), padding=1, stride=2).tanh() ** 2).sum(), t,
                                     create_graph=True)[0]

    assert gradcheck(fn, [x], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("index", [4, 12, 15, 17], ids=[IDS[i] for i in (4, 12, 15, 17)])
def test_second_order_on_every_backend(backend, index):
    """The graph backwards on each backend (array_api_strict, CuPy where present), against NumPy."""
    op, _, _, kw = case = CASES[index]
    arrays = _arrays(case, seed=index + 70)

    def second(mk):
        ts = [mk(a) for a in arrays]
        gs = gdl.autograd.grad((getattr(F, op)(*ts, **kw).tanh() ** 2).sum(), ts, create_graph=True)
        return [h.numpy() for h in gdl.autograd.grad(sum((g * g).sum() for g in gs), ts)]

    got = second(lambda a: gdl.tensor(a, dtype=gdl.float64, requires_grad=True))
    with gdl.use_backend("numpy"):
        want = second(_g)
    for h, w in zip(got, want):
        np.testing.assert_allclose(h, w, rtol=1e-10, atol=1e-12)


def test_first_order_backward_unchanged():
    """``backward()`` without create_graph still runs the raw-array backward: no graph on ``.grad``."""
    rng = np.random.default_rng(11)
    x, w = _g(rng.standard_normal((1, 2, 5, 5))), _g(rng.standard_normal((3, 2, 3, 3)))
    (F.conv2d(x, w, padding=1).tanh() ** 2).sum().backward()
    assert x.grad.grad_fn is None and w.grad.grad_fn is None
