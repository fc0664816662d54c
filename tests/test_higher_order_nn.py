"""Second-order gradients (``create_graph=True``) through the neural-network ops of
``gdl.nn.functional`` and custom :class:`gdl.autograd.Function` ops, against PyTorch in
float64: for each op a Hessian-vector product (``g = grad(loss, params, create_graph=True)``,
then ``grad(Σ g_i·v_i, params)``), a WGAN-GP gradient penalty and a MAML inner step."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL, ATOL = 1e-7, 1e-9


def _g(a, grad=True):
    return gdl.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _t(a, grad=True):
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _np(t, shape):
    if t is None:
        return np.zeros(shape)
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _hvp_gdl(loss_fn, arrays, vs):
    params = [_g(a) for a in arrays]
    loss = loss_fn(*params)
    grads = gdl.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    assert any(g is not None and g.requires_grad for g in grads), "create_graph gradients must carry a graph"
    s = None
    for g, v in zip(grads, vs):
        if g is None:
            continue
        term = (g * _g(v, False)).sum()
        s = term if s is None else s + term
    hv = gdl.autograd.grad(s, params, allow_unused=True)
    return [_np(g, a.shape) for g, a in zip(grads, arrays)], [_np(h, a.shape) for h, a in zip(hv, arrays)]


def _hvp_torch(loss_fn, arrays, vs):
    params = [_t(a) for a in arrays]
    loss = loss_fn(*params)
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    s = sum((g * _t(v, False)).sum() for g, v in zip(grads, vs) if g is not None)
    hv = torch.autograd.grad(s, params, allow_unused=True)
    return [_np(g, a.shape) for g, a in zip(grads, arrays)], [_np(h, a.shape) for h, a in zip(hv, arrays)]


def _check_hvp(gdl_fn, torch_fn, arrays, seed=0, rtol=RTOL, atol=ATOL):
    rng = np.random.default_rng(seed + 1000)
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    g1, h1 = _hvp_gdl(gdl_fn, arrays, vs)
    g2, h2 = _hvp_torch(torch_fn, arrays, vs)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert any(np.abs(h).max() > 1e-6 for h in h2), "a test whose Hessian-vector product is 0 proves nothing"
    for a, b in zip(h1, h2):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _away_from(x, points, margin=0.15):
    """``x`` with entries near any of ``points`` (kinks) pushed ``margin`` away."""
    x = np.array(x)
    for p in points:
        near = np.abs(x - p) < margin
        x[near] = p + np.where(x[near] >= p, margin, -margin)
    return x


# -- activations -------------------------------------------------------------------------------

ACTIVATIONS = [
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1), [0.0]),
    ("elu", lambda x: F.elu(x, 1.3), lambda x: TF.elu(x, 1.3), [0.0]),
    ("selu", F.selu, TF.selu, [0.0]),
    ("celu", lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), [0.0]),
    ("softplus", F.softplus, TF.softplus, []),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), [1.5]),
    ("silu", F.silu, TF.silu, []),
    ("gelu", F.gelu, TF.gelu, []),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), []),
    ("mish", F.mish, TF.mish, []),
    ("hardtanh", lambda x: F.hardtanh(x, -1.5, 1.2), lambda x: TF.hardtanh(x, -1.5, 1.2), [-1.5, 1.2]),
    ("relu6", lambda x: F.relu6(3 * x), lambda x: TF.relu6(3 * x), [0.0, 2.0]),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, []),
    ("softsign", F.softsign, TF.softsign, []),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, []),
    # (PyTorch has no double backward for hardsigmoid: its formula, written out)
    ("hardsigmoid", lambda x: F.hardsigmoid(2 * x), lambda x: TF.relu6(2 * x + 3) / 6, [-1.5, 1.5]),
    ("hardswish", lambda x: F.hardswish(2 * x), lambda x: TF.hardswish(2 * x), [-1.5, 1.5]),
    ("softshrink", F.softshrink, TF.softshrink, [-0.5, 0.5]),
    ("hardshrink", F.hardshrink, TF.hardshrink, [-0.5, 0.5]),
    ("threshold", lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0), [0.3]),
    ("softmin", lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1), []),
    ("glu", lambda x: F.glu(x, dim=1), lambda x: TF.glu(x, dim=1), []),
]


@pytest.mark.parametrize("name, fg, ft, kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_hvp(name, fg, ft, kinks):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = _away_from(rng.standard_normal((3, 4)) * 2.0, kinks)
    c1, c2 = (float(c) for c in rng.standard_normal(2))  # Python floats: array_api_strict refuses NumPy scalars

    def loss(act, mod):
        def run(x):
            y = act(x)
            return (y * (c1 + c2 * y)).sum()  # y² keeps a second derivative where act'' = 0
        return run

    _check_hvp(loss(fg, gdl), loss(ft, torch), [x], rtol=1e-6 if name == "gelu" else RTOL,
               atol=1e-6 if name == "gelu" else ATOL)


def test_activation_third_order():
    """The graph backward is itself differentiable twice: d³/dx³ of Σ silu(x), elu(x), mish(x)."""
    x0 = np.array([-1.3, -0.4, 0.6, 2.1])
    for fg, ft in ((F.silu, TF.silu), (F.elu, TF.elu), (F.mish, TF.mish), (F.gelu, TF.gelu)):
        x, xt = _g(x0), _t(x0)
        (g,) = gdl.autograd.grad(fg(x).sum(), x, create_graph=True)
        (h,) = gdl.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = gdl.autograd.grad(h.sum(), x)
        (gt,) = torch.autograd.grad(ft(xt).sum(), xt, create_graph=True)
        (ht,) = torch.autograd.grad(gt.sum(), xt, create_graph=True)
        (kt,) = torch.autograd.grad(ht.sum(), xt)
        np.testing.assert_allclose(k.numpy(), kt.numpy(), rtol=1e-5, atol=1e-5)


def test_prelu_hvp():
    rng = np.random.default_rng(3)
    x = _away_from(rng.standard_normal((2, 3, 4)), [0.0])
    w = np.array([0.2, -0.3, 0.5])

    def loss(mod, fn):
        def run(x, w):
            y = fn(x, w)
            return (y * y * 0.7 + y).sum()
        return run

    _check_hvp(loss(gdl, F.prelu), loss(torch, TF.prelu), [x, w])


# -- layers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_hvp(shape, with_bias):
    rng = np.random.default_rng(len(shape))
    x, w, b = rng.standard_normal(shape), rng.standard_normal((4, 5)), rng.standard_normal(4)
    c = rng.standard_normal(shape[:-1] + (4,))

    def loss(mod, fn, tanh):
        def run(x, w, b=None):
            return (tanh(fn(x, w, b)) * mod.tensor(c)).sum()
        return run

    arrays = [x, w, b] if with_bias else [x, w]
    _check_hvp(loss(gdl, F.linear, gdl.tanh), loss(torch, TF.linear, torch.tanh), arrays)


def test_dropout_uses_the_same_mask():
    gdl.manual_seed(0)
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((4, 6))
    x = _g(x0)
    y = F.dropout(x, p=0.4)
    mask = y.numpy() / x0
    assert (mask == 0).any() and (mask != 0).any()
    (g,) = gdl.autograd.grad((gdl.tanh(y) * 1.5).sum(), x, create_graph=True)
    (h,) = gdl.autograd.grad((g * g).sum(), x)
    xt = _t(x0)
    (gt,) = torch.autograd.grad((torch.tanh(xt * torch.tensor(mask)) * 1.5).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"scale_grad_by_freq": True}, {"sparse": True}],
                         ids=["plain", "padding_idx", "scale_grad_by_freq", "sparse"])
def test_embedding_hvp(kwargs):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((6, 3))
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    c = rng.standard_normal((2, 3, 3))
    tkw = {k: v for k, v in kwargs.items() if k != "sparse"}

    def run_gdl(w):
        y = F.embedding(gdl.tensor(idx), w, **kwargs)
        return (y * y * y * gdl.tensor(c)).sum()

    def run_torch(w):
        y = TF.embedding(torch.tensor(idx), w, **tkw)
        return (y * y * y * torch.tensor(c)).sum()

    _check_hvp(run_gdl, run_torch, [w])


def test_embedding_third_order():
    """The weight gradient (a scatter-add node) is differentiable through its own graph too."""
    w0 = np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]])
    idx = np.array([0, 2, 2, 1])
    w, wt = _g(w0), _t(w0)
    (g,) = gdl.autograd.grad((F.embedding(gdl.tensor(idx), w) ** 4).sum(), w, create_graph=True)
    (h,) = gdl.autograd.grad((g * g).sum(), w, create_graph=True)
    (k,) = gdl.autograd.grad((h * h).sum(), w)
    (gt,) = torch.autograd.grad((TF.embedding(torch.tensor(idx), wt) ** 4).sum(), wt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), wt, create_graph=True)
    (kt,) = torch.autograd.grad((ht * ht).sum(), wt)
    np.testing.assert_allclose(k.numpy(), kt.numpy(), rtol=RTOL, atol=1e-7)


@pytest.mark.parametrize("normalized", [(4,), (3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_hvp(normalized, affine):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4))
    w, b = 1.0 + 0.3 * rng.standard_normal(normalized), rng.standard_normal(normalized)
    c = rng.standard_normal((2, 3, 4))

    def loss(mod, fn, tanh):
        def run(x, w=None, b=None):
            return (tanh(fn(x, normalized, w, b)) * mod.tensor(c)).sum()
        return run

    arrays = [x, w, b] if affine else [x]
    _check_hvp(loss(gdl, F.layer_norm, gdl.tanh), loss(torch, TF.layer_norm, torch.tanh), arrays)


# -- losses ------------------------------------------------------------------------------------

REDUCTIONS = ["none", "mean", "sum"]


def _reduced(loss, reduction, mod, c):
    return (loss * mod.tensor(c)).sum() if reduction == "none" else loss * 1.3


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.8}),
                                          ("huber_loss", {"delta": 0.6})])
def test_regression_loss_hvp(name, kwargs, reduction):
    rng = np.random.default_rng(13)
    z, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    c = rng.standard_normal((3, 4))
    fg, ft = getattr(F, name), getattr(TF, name)

    def run(mod, fn, tanh):
        def f(z, t):  # both the prediction and the target get gradients
            return _reduced(fn(tanh(z) * 2.0, t, reduction=reduction, **kwargs), reduction, mod, c)
        return f

    _check_hvp(run(gdl, fg, gdl.tanh), run(torch, ft, torch.tanh), [z, target])


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_hvp(reduction, log_target):
    rng = np.random.default_rng(17)
    z, zt = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    c = rng.standard_normal((3, 4))

    def run(mod, fn, log_softmax, softmax):
        def f(z, zt):
            target = log_softmax(zt, dim=1) if log_target else softmax(zt, dim=1)
            loss = fn(log_softmax(z, dim=1), target, reduction=reduction, log_target=log_target)
            return _reduced(loss, reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.kl_div, F.log_softmax, F.softmax), run(torch, TF.kl_div, TF.log_softmax, TF.softmax),
               [z, zt])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "portable"])
@pytest.mark.parametrize("ignore", [False, True], ids=["all", "ignore_index"])
def test_cross_entropy_index_hvp(reduction, fused, ignore, monkeypatch):
    rng = np.random.default_rng(19)
    z = rng.standard_normal((5, 4)) * 2.0
    y = np.array([0, 3, 1, 3, 2])
    if ignore:
        y[2] = -100
    c = rng.standard_normal(5)
    if not fused:
        be = gdl.tensor([0.0])._backend
        for key in ("softmax_cross_entropy_mean", "softmax_cross_entropy"):
            if key in be.fused:
                monkeypatch.delitem(be.fused, key)

    def run(mod, fn):
        def f(z):
            return _reduced(fn(z, mod.tensor(y), reduction=reduction), reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.cross_entropy), run(torch, TF.cross_entropy), [z])


CE_CASES = {
    "weight": dict(shape=(5, 4), kwargs={"weight": [0.5, 2.0, 1.0, 0.3]}),
    "label_smoothing": dict(shape=(5, 4), kwargs={"label_smoothing": 0.2}),
    "weight_smoothing_ignore": dict(shape=(5, 4), kwargs={"weight": [0.5, 2.0, 1.0, 0.3], "label_smoothing": 0.1,
                                                          "ignore_index": 1}),
    "spatial": dict(shape=(2, 4, 3, 2), kwargs={"ignore_index": 0}),
    "unbatched": dict(shape=(4,), kwargs={}),
    "probabilities": dict(shape=(3, 4), kwargs={}, probs=True),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_options_hvp(case, reduction):
    spec = CE_CASES[case]
    shape = spec["shape"]
    rng = np.random.default_rng(23)
    z = rng.standard_normal(shape) * 2.0
    if spec.get("probs"):
        p = rng.random(shape)
        y = p / p.sum(axis=1, keepdims=True)
    else:
        y = rng.integers(0, 4, size=(shape[0],) + shape[2:] if len(shape) > 1 else ())
    out_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    c = rng.standard_normal(out_shape)

    def run(mod, fn):
        kwargs = {k: (mod.tensor(np.array(v)) if k == "weight" else v) for k, v in spec["kwargs"].items()}

        def f(z):
            return _reduced(fn(z, mod.tensor(y), reduction=reduction, **kwargs), reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.cross_entropy), run(torch, TF.cross_entropy), [z])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_hvp(reduction, weighted):
    rng = np.random.default_rng(29)
    z = rng.standard_normal((2, 4, 3))
    y = np.array([[0, 3, -100], [2, 2, 1]])
    c = rng.standard_normal((2, 3))
    w = np.array([0.5, 2.0, 1.0, 0.3])

    def run(mod, fn, log_softmax):
        kw = {"weight": mod.tensor(w)} if weighted else {}

        def f(z):
            return _reduced(fn(log_softmax(z, dim=1), mod.tensor(y), reduction=reduction, **kw), reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.nll_loss, F.log_softmax), run(torch, TF.nll_loss, TF.log_softmax), [z])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_hvp(reduction, weighted):
    rng = np.random.default_rng(31)
    z, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    c, w = rng.standard_normal((3, 4)), rng.random(4) + 0.5

    def run(mod, fn, sigmoid):
        def f(z):
            kw = {"weight": mod.tensor(w)} if weighted else {}
            return _reduced(fn(sigmoid(z), mod.tensor(t), reduction=reduction, **kw), reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.binary_cross_entropy, gdl.sigmoid), run(torch, TF.binary_cross_entropy, torch.sigmoid),
               [z])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("extra", ["plain", "weight", "pos_weight"])
def test_binary_cross_entropy_with_logits_hvp(reduction, extra):
    rng = np.random.default_rng(37)
    z, t = rng.standard_normal((3, 4)) * 2.0, rng.random((3, 4))
    c, w = rng.standard_normal((3, 4)), rng.random(4) + 0.5

    def run(mod, fn, tanh):
        def f(z):
            kw = {extra: mod.tensor(w)} if extra != "plain" else {}
            return _reduced(fn(tanh(z) * 3.0, mod.tensor(t), reduction=reduction, **kw), reduction, mod, c)
        return f

    _check_hvp(run(gdl, F.binary_cross_entropy_with_logits, gdl.tanh),
               run(torch, TF.binary_cross_entropy_with_logits, torch.tanh), [z])


# -- end to end --------------------------------------------------------------------------------


def _critics(seed):
    gdl.manual_seed(seed)
    g = gdl.nn.Sequential(gdl.nn.Linear(4, 8), gdl.nn.LeakyReLU(0.2), gdl.nn.Linear(8, 8), gdl.nn.Tanh(),
                          gdl.nn.Linear(8, 1)).double()
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 8),
                            torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for pg, pt in zip(g.parameters(), t.parameters()):
            pt.copy_(torch.tensor(pg.numpy()))
    return g, t


def test_wgan_gp_gradient_penalty():
    critic, critic_t = _critics(0)
    rng = np.random.default_rng(41)
    real, fake = rng.standard_normal((6, 4)), rng.standard_normal((6, 4)) + 1.0
    eps = rng.random((6, 1))
    mixed = eps * real + (1 - eps) * fake

    x = _g(mixed)
    d = critic(x)
    (gx,) = gdl.autograd.grad(d, x, grad_outputs=gdl.ones_like(d), create_graph=True)
    norm = (gx * gx).sum(dim=1).sqrt()
    penalty = ((norm - 1.0) ** 2).mean()
    penalty.backward()

    xt = _t(mixed)
    dt = critic_t(xt)
    (gxt,) = torch.autograd.grad(dt, xt, grad_outputs=torch.ones_like(dt), create_graph=True)
    penalty_t = ((gxt.norm(2, dim=1) - 1.0) ** 2).mean()
    penalty_t.backward()

    np.testing.assert_allclose(penalty.item(), penalty_t.item(), rtol=RTOL)
    for pg, pt in zip(critic.parameters(), critic_t.parameters()):
        if pt.grad is None:  # the last bias: ∇ₓD does not depend on it
            assert pg.grad is None or not pg.grad.numpy().any()
            continue
        assert np.abs(pt.grad.numpy()).max() > 1e-6
        np.testing.assert_allclose(pg.grad.numpy(), pt.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_maml_inner_step():
    rng = np.random.default_rng(43)
    arrays = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1, rng.standard_normal((3, 8)) * 0.5,
              rng.standard_normal(3) * 0.1]
    x_in, y_in = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    x_out, y_out = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    lr = 0.4

    def outer(mod, fn, grad, p):
        def net(x, w1, b1, w2, b2):
            return fn.linear(fn.leaky_relu(fn.linear(x, w1, b1), 0.1), w2, b2)
        inner = fn.cross_entropy(net(mod.tensor(x_in), *p), mod.tensor(y_in))
        gs = grad(inner, p, create_graph=True)
        fast = [w - lr * g for w, g in zip(p, gs)]
        return fn.cross_entropy(net(mod.tensor(x_out), *fast), mod.tensor(y_out))

    pg = [_g(a) for a in arrays]
    loss = outer(gdl, F, gdl.autograd.grad, pg)
    hg = gdl.autograd.grad(loss, pg)
    pt = [_t(a) for a in arrays]
    loss_t = outer(torch, TF, torch.autograd.grad, pt)
    ht = torch.autograd.grad(loss_t, pt)
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=RTOL)
    for a, b in zip(hg, ht):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=RTOL, atol=ATOL)
    # the second-order part matters: first-order MAML (the inner gradient detached) differs
    pf = [_t(a) for a in arrays]
    net_loss = TF.cross_entropy(TF.linear(TF.leaky_relu(TF.linear(torch.tensor(x_in), pf[0], pf[1]), 0.1), pf[2],
                                          pf[3]), torch.tensor(y_in))
    gs = torch.autograd.grad(net_loss, pf)
    fast = [w - lr * g for w, g in zip(pf, gs)]
    fo = torch.autograd.grad(TF.cross_entropy(TF.linear(TF.leaky_relu(TF.linear(torch.tensor(x_out), fast[0],
                                              fast[1]), 0.1), fast[2], fast[3]), torch.tensor(y_out)), pf)
    assert max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(fo, ht)) > 1e-4


# -- custom Functions --------------------------------------------------------------------------


class Cube(gdl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3.0 * x * x


class ExpSavingOutput(gdl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = gdl.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class MulAdd(gdl.autograd.Function):
    """Two outputs, ``(a·b, a + b)``, with a broadcast ``b``; backward in Tensor ops."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale, a + b

    @staticmethod
    def backward(ctx, gp, gs):
        a, b = ctx.saved_tensors
        return gp * b * ctx.scale + gs, gp * a * ctx.scale + gs, None


def test_function_second_derivative():
    x0 = np.array([-1.5, 0.5, 2.0])
    x = _g(x0)
    (g,) = gdl.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * x0**2)
    (h,) = gdl.autograd.grad((g * g).sum(), x)  # d/dx Σ 9x⁴ = 36x³
    np.testing.assert_allclose(h.numpy(), 36 * x0**3, rtol=RTOL)


def test_function_saved_output_is_differentiable():
    x0 = np.array([-0.5, 0.3, 1.2])
    x = _g(x0)
    (g,) = gdl.autograd.grad((ExpSavingOutput.apply(x) * 2.0).sum(), x, create_graph=True)
    (h,) = gdl.autograd.grad(g.sum(), x)  # d²/dx² 2eˣ = 2eˣ, through the saved output
    np.testing.assert_allclose(h.numpy(), 2 * np.exp(x0), rtol=RTOL)


def test_function_multi_output_hvp():
    rng = np.random.default_rng(47)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    c = rng.standard_normal((3, 4))

    def run_gdl(a, b):
        p, s = MulAdd.apply(a, b, 1.7)
        return (p * p * gdl.tensor(c)).sum() + (s * s * s).sum()

    def run_torch(a, b):
        p, s = a * b * 1.7, a + b
        return (p * p * torch.tensor(c)).sum() + (s * s * s).sum()

    _check_hvp(run_gdl, run_torch, [a, b])


def test_function_first_order_unchanged():
    """Without create_graph the Function's backward still runs once, with graph building off."""
    seen = []

    class Probe(gdl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            seen.append(gdl.is_grad_enabled())
            return g * 2.0

    x = _g([1.0, 2.0])
    Probe.apply(x).sum().backward()
    assert seen == [False]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    (g,) = gdl.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [False, True]
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0])
