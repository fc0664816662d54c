"""Optional cross-checks against PyTorch (skipped when torch is not installed).

State dicts move between gdl and torch without renaming or transposing, and the
two frameworks then compute the same outputs, gradients and losses."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional
F64 = gdl.float64


def _t(a, dtype=F64, requires_grad=False):
    return gdl.tensor(np.asarray(a), dtype=dtype, requires_grad=requires_grad)


def _tt(a, requires_grad=False):
    out = torch.tensor(np.asarray(a))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _to_torch_state(sd):
    return {k: torch.from_numpy(v.numpy()) for k, v in sd.items()}


def _to_gdl_state(sd):
    return {k: v.detach().numpy() for k, v in sd.items()}


class GdlNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6, dtype=F64)
        self.norm = nn.LayerNorm(6, dtype=F64)
        self.body = nn.Sequential(nn.Linear(6, 8, dtype=F64), nn.BatchNorm1d(8, dtype=F64), nn.GELU(),
                                  nn.Linear(8, 3, dtype=F64))

    def forward(self, idx):
        h = self.norm(self.embed(idx)).mean(axis=1)
        return self.body(h)


class TorchNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.embed = tnn.Embedding(10, 6)
        self.norm = tnn.LayerNorm(6)
        self.body = tnn.Sequential(tnn.Linear(6, 8), tnn.BatchNorm1d(8), tnn.GELU(), tnn.Linear(8, 3))

    def forward(self, idx):
        return self.body(self.norm(self.embed(idx)).mean(dim=1))


def _torch_net():
    torch.manual_seed(0)
    net = TorchNet().double()
    with torch.no_grad():  # non-trivial affine parameters
        for m in (net.norm, net.body[1]):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
    return net


# the nets hold a GELU, whose erf gdl approximates to ~1e-7 (the Array API has no erf)
GELU_TOL = dict(rtol=1e-6, atol=1e-7)
IDX = np.array([[1, 2, 3, 3], [0, 9, 9, 9], [4, 5, 6, 7], [2, 2, 8, 1], [7, 0, 3, 5]])


def test_state_dict_keys_and_shapes_match_torch(backend):
    g, t = GdlNet(), TorchNet()
    gsd, tsd = g.state_dict(), t.state_dict()
    assert list(gsd) == list(tsd)
    for k in tsd:
        assert gsd[k].shape == tuple(tsd[k].shape), k


def test_gdl_state_dict_runs_in_torch(backend):
    gdl.manual_seed(3)
    g = GdlNet()
    for m in g.modules():
        if isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
    for _ in range(3):  # move the running statistics
        g(gdl.tensor(IDX))
    t = TorchNet().double()
    t.load_state_dict(_to_torch_state(g.state_dict()))  # strict
    assert int(t.body[1].num_batches_tracked) == 3
    g.eval()
    t.eval()
    with torch.no_grad():
        expected = t(torch.tensor(IDX)).numpy()
    np.testing.assert_allclose(g(gdl.tensor(IDX)).numpy(), expected, **GELU_TOL)


def test_torch_state_dict_runs_in_gdl_with_equal_gradients(backend):
    t = _torch_net()
    g = GdlNet()
    g.load_state_dict(_to_gdl_state(t.state_dict()))  # strict
    # training mode: batch statistics, running-statistic updates and gradients agree
    y = np.array([0, 2, 1, 1, 0])
    tl = TF.cross_entropy(t(torch.tensor(IDX)), torch.tensor(y))
    tl.backward()
    gl = F.cross_entropy(g(gdl.tensor(IDX)), gdl.tensor(y))
    gl.backward()
    assert gl.item() == pytest.approx(tl.item(), rel=1e-7)
    gparams = dict(g.named_parameters())
    for name, p in t.named_parameters():
        np.testing.assert_allclose(gparams[name].grad.numpy(), p.grad.numpy(), **GELU_TOL, err_msg=name)
    for name, b in t.named_buffers():
        np.testing.assert_allclose(g.state_dict()[name].numpy(), b.numpy(), rtol=1e-10, err_msg=name)
    g.eval()
    t.eval()
    with torch.no_grad():
        expected = t(torch.tensor(IDX)).numpy()
    np.testing.assert_allclose(g(gdl.tensor(IDX)).numpy(), expected, **GELU_TOL)


def test_float32_mlp_round_trip(backend):
    torch.manual_seed(1)
    t = tnn.Sequential(tnn.Linear(5, 16), tnn.Tanh(), tnn.Linear(16, 4))
    g = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 4))
    g.load_state_dict(_to_gdl_state(t.state_dict()))
    x = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(g(gdl.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    t2 = tnn.Sequential(tnn.Linear(5, 16), tnn.Tanh(), tnn.Linear(16, 4))
    t2.load_state_dict(_to_torch_state(g.state_dict()))
    for k, v in t.state_dict().items():
        assert torch.equal(v, t2.state_dict()[k]), k


# -- losses ------------------------------------------------------------------------------------


def _compare(gdl_fn, torch_fn, x, rtol=1e-10, atol=1e-12):
    gx = _t(x, requires_grad=True)
    tx = _tt(x, requires_grad=True)
    gl, tl = gdl_fn(gx), torch_fn(tx)
    np.testing.assert_allclose(gl.numpy(), tl.detach().numpy(), rtol=rtol, atol=atol)
    gl.sum().backward() if gl.ndim else gl.backward()
    tl.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_matches_torch(backend, reduction, weighted, smoothing):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4, 3)) * 3
    y = rng.integers(0, 4, size=(6, 3))
    y[0, 0] = y[2, 1] = 1
    w = rng.uniform(0.5, 2, size=4) if weighted else None
    for ignore in (-100, 1):
        _compare(
            lambda a, ignore=ignore: F.cross_entropy(a, gdl.tensor(y), None if w is None else _t(w), ignore,
                                                     reduction, smoothing),
            lambda a, ignore=ignore: TF.cross_entropy(a, torch.tensor(y), None if w is None else _tt(w),
                                                      ignore_index=ignore,
                                       reduction=reduction, label_smoothing=smoothing),
            x,
        )
    probs = np.moveaxis(rng.dirichlet(np.ones(4), size=(6, 3)), -1, 1)
    _compare(
        lambda a: F.cross_entropy(a, _t(probs), None if w is None else _t(w), reduction=reduction,
                                  label_smoothing=smoothing),
        lambda a: TF.cross_entropy(a, _tt(probs), None if w is None else _tt(w), reduction=reduction,
                                   label_smoothing=smoothing),
        x,
    )


def test_cross_entropy_huge_logits_match_torch(backend):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3e4, 2e4, 1e4]], dtype=np.float32)
    y = np.array([1, 2, 2])
    gx = gdl.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    gl, tl = F.cross_entropy(gx, gdl.tensor(y)), TF.cross_entropy(tx, torch.tensor(y))
    gl.backward()
    tl.backward()
    assert gl.item() == pytest.approx(tl.item(), rel=1e-6)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_torch(backend, reduction):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5))
    y = rng.integers(0, 5, size=7)
    y[3] = -100
    w = rng.uniform(0.5, 2, size=5)
    _compare(lambda a: F.nll_loss(a, gdl.tensor(y), _t(w), reduction=reduction),
             lambda a: TF.nll_loss(a, torch.tensor(y), _tt(w), reduction=reduction), x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses_match_torch(backend, reduction):
    rng = np.random.default_rng(2)
    t = rng.integers(0, 2, size=(4, 5)).astype(np.float64)
    w = rng.uniform(0.5, 2, size=(4, 5))
    pw = rng.uniform(0.5, 3, size=5)
    p = rng.uniform(0.01, 0.99, size=(4, 5))
    p[0, :4] = [0.0, 1.0, 0.0, 1.0]
    t[0, :4] = [0.0, 1.0, 1.0, 0.0]
    _compare(lambda a: F.binary_cross_entropy(a, _t(t), _t(w), reduction),
             lambda a: TF.binary_cross_entropy(a, _tt(t), _tt(w), reduction=reduction), p, rtol=1e-10)
    x = rng.standard_normal((4, 5)) * 5
    x[0, :4] = [1e4, -1e4, 800.0, -800.0]
    _compare(lambda a: F.binary_cross_entropy_with_logits(a, _t(t), _t(w), _t(pw), reduction),
             lambda a: TF.binary_cross_entropy_with_logits(a, _tt(t), _tt(w), pos_weight=_tt(pw), reduction=reduction),
             x)
    y = rng.standard_normal((4, 5))
    _compare(lambda a: F.mse_loss(a, _t(y), reduction), lambda a: TF.mse_loss(a, _tt(y), reduction=reduction), x)


# -- layers and activations ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "leaky_relu", "softmax", "log_softmax", "layer_norm"])
def test_functional_layers_match_torch(backend, name):
    x = np.random.default_rng(3).standard_normal((3, 4, 5)) * 3
    w, b = np.linspace(0.5, 1.5, 5), np.linspace(-1, 1, 5)
    gdl_fn, torch_fn = {
        "gelu": (lambda a: F.gelu(a), lambda a: TF.gelu(a)),
        "gelu_tanh": (lambda a: F.gelu(a, "tanh"), lambda a: TF.gelu(a, approximate="tanh")),
        "leaky_relu": (lambda a: F.leaky_relu(a, 0.3), lambda a: TF.leaky_relu(a, 0.3)),
        "softmax": (lambda a: F.softmax(a, axis=1), lambda a: TF.softmax(a, dim=1)),
        "log_softmax": (lambda a: F.log_softmax(a, axis=-1), lambda a: TF.log_softmax(a, dim=-1)),
        "layer_norm": (lambda a: F.layer_norm(a, 5, _t(w), _t(b)), lambda a: TF.layer_norm(a, (5,), _tt(w), _tt(b))),
    }[name]
    # GELU's erf is a polynomial approximation in gdl (the Array API has no erf)
    tol = dict(rtol=1e-6, atol=1e-6) if name == "gelu" else dict(rtol=1e-10, atol=1e-12)
    gx, tx = _t(x, requires_grad=True), _tt(x, requires_grad=True)
    gy, ty = gdl_fn(gx), torch_fn(tx)
    np.testing.assert_allclose(gy.numpy(), ty.detach().numpy(), **tol)
    up = np.random.default_rng(4).standard_normal(x.shape)
    gy.backward(_t(up))
    ty.backward(_tt(up))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("dims", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batchnorm_running_statistics_match_torch(backend, dims):
    g = (nn.BatchNorm2d if len(dims) == 4 else nn.BatchNorm1d)(3, momentum=0.2, dtype=F64)
    t = (tnn.BatchNorm2d if len(dims) == 4 else tnn.BatchNorm1d)(3, momentum=0.2).double()
    rng = np.random.default_rng(5)
    for step in range(3):
        x = rng.standard_normal(dims) * (step + 1) + step
        np.testing.assert_allclose(g(_t(x)).numpy(), t(_tt(x)).detach().numpy(), rtol=1e-9, atol=1e-12)
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(g.state_dict()[k].numpy(), v.numpy(), rtol=1e-10, err_msg=k)
    g.eval()
    t.eval()
    x = rng.standard_normal(dims)
    np.testing.assert_allclose(g(_t(x)).numpy(), t(_tt(x)).detach().numpy(), rtol=1e-9, atol=1e-12)


def test_linear_default_init_has_torch_bounds(backend):
    """gdl's Linear draws from the same U(±1/sqrt(in)) as torch's (not the same numbers)."""
    torch.manual_seed(0)
    tw = tnn.Linear(300, 200).weight.detach().numpy()
    gw = nn.Linear(300, 200).weight.numpy()
    assert abs(np.abs(gw).max() - np.abs(tw).max()) < 1e-3
    assert abs(gw.std() - tw.std()) < 0.02 * tw.std()
