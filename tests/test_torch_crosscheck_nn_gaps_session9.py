"""pdist, the fractional max pools, the ``*_with_indices`` pool aliases, AdaptiveLogSoftmaxWithLoss,
the in-place functional activations and SyncBatchNorm against PyTorch (float64, gradients too)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.nn  # noqa: E402
import gdl.nn.functional as F  # noqa: E402

TF = torch.nn.functional
# PyTorch's AdaptiveLogSoftmaxWithLoss initialises a zero-width tail layer (in_features // div_value**k == 0)
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")


def _grads(gout, tout, gx, tx, seed=0, create_graph=False):
    """First gradients of ``sum(out * v)`` in both libraries for the same random ``v``."""
    v = np.random.default_rng(seed).standard_normal(tuple(gout.shape))
    (gg,) = gdl.autograd.grad((gout * g64(v)).sum(), [gx], create_graph=create_graph)
    (tg,) = torch.autograd.grad((tout * t64(v)).sum(), [tx], create_graph=create_graph)
    return gg, tg


def _second(gg, tg, gx, tx, seed=1):
    """Second gradients: of ``sum(grad * w)`` with respect to the input."""
    w = np.random.default_rng(seed).standard_normal(tuple(gg.shape))
    (gh,) = gdl.autograd.grad((gg * g64(w)).sum(), [gx])
    (th,) = torch.autograd.grad((tg * t64(w)).sum(), [tx])
    close(gh, th, "second-order gradient")


# -- pdist ----------------------------------------------------------------------------------------------------

def _torch_pdist_reference(x, p):
    """pdist from torch's vector norm (twice differentiable, unlike torch.pdist's backward)."""
    n = x.shape[0]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pairs:
        return x.new_zeros(0)
    return torch.stack([torch.linalg.vector_norm(x[i] - x[j], ord=p) for i, j in pairs])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, 0.0])
@pytest.mark.parametrize("n,m", [(5, 3), (2, 1), (1, 4), (0, 2), (4, 6)])
def test_pdist_matches_torch(n, m, p):
    a = np.random.default_rng(n * 10 + m).standard_normal((n, m))
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    gout, tout = F.pdist(gx, p), TF.pdist(tx, p)
    close(gout, tout, "pdist")
    if n >= 2:
        gg, tg = _grads(gout, tout, gx, tx)
        close(gg, tg, "pdist gradient")


def test_pdist_duplicate_rows_have_zero_gradient_like_torch():
    a = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, -1.0]])
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    gg, tg = _grads(F.pdist(gx), TF.pdist(tx), gx, tx)
    close(gg, tg, "pdist gradient with a zero distance")


@pytest.mark.parametrize("p", [2.0, 3.0, 1.5])
def test_pdist_second_order(p):
    a = np.random.default_rng(7).standard_normal((4, 3))
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    gout, tout = F.pdist(gx, p), _torch_pdist_reference(tx, p)
    close(gout, TF.pdist(t64(a), p), "pdist")
    gg, tg = _grads(gout, tout, gx, tx, create_graph=True)
    close(gg, tg, "pdist gradient")
    _second(gg, tg, gx, tx)


# -- fractional max pooling -----------------------------------------------------------------------------------

FRACTIONAL = [
    # (d, input shape, kernel, output_size, output_ratio)
    (2, (2, 3, 7, 9), 2, (4, 5), None),
    (2, (2, 3, 7, 9), (3, 2), None, (0.5, 0.7)),
    (2, (3, 6, 5), 2, 3, None),
    (2, (1, 2, 5, 5), 2, (4, 4), None),
    (2, (1, 1, 6, 4), (2, 3), (1, 2), None),
    (3, (2, 2, 5, 6, 7), 2, (3, 4, 2), None),
    (3, (2, 6, 7, 5), (2, 3, 2), None, (0.5, 0.5, 0.6)),
]


def _fractional_case(case, seed, grad=True):
    d, shape, kernel, size, ratio = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    batch = shape[0] if len(shape) == d + 2 else 1
    u = rng.random((batch, shape[-d - 1], d))
    gx, tx = g64(a, grad=grad), t64(a, grad=grad)
    gfn = F.fractional_max_pool2d if d == 2 else F.fractional_max_pool3d
    tfn = TF.fractional_max_pool2d if d == 2 else TF.fractional_max_pool3d
    gout, gidx = gfn(gx, kernel, size, ratio, return_indices=True, _random_samples=g64(u))
    tout, tidx = tfn(tx, kernel, size, ratio, return_indices=True, _random_samples=t64(u))
    return gx, tx, gout, tout, gidx, tidx


@pytest.mark.parametrize("case", FRACTIONAL)
@pytest.mark.parametrize("seed", [0, 1])
def test_fractional_max_pool_matches_torch(case, seed):
    gx, tx, gout, tout, gidx, tidx = _fractional_case(case, seed)
    close(gout, tout, "fractional max pool")
    assert gidx.dtype == gdl.int64
    np.testing.assert_array_equal(gidx.numpy(), tidx.numpy())
    gg, tg = _grads(gout, tout, gx, tx)
    close(gg, tg, "fractional max pool gradient")


@pytest.mark.parametrize("case", [FRACTIONAL[0], FRACTIONAL[5]])
def test_fractional_max_pool_second_order(case):
    gx, tx, gout, tout, _, _ = _fractional_case(case, 3)
    gg, tg = _grads(gout * gout, tout * tout, gx, tx, create_graph=True)
    close(gg, tg, "gradient")
    _second(gg, tg, gx, tx)


def test_fractional_sample_edges_match_torch():
    """Samples at 0 and just below 1, and samples equal across planes."""
    a = np.random.default_rng(5).standard_normal((2, 2, 9, 8))
    for u in (np.zeros((2, 2, 2)), np.full((2, 2, 2), 1 - 1e-12), np.array([[[0.3, 0.9]] * 2] * 2)):
        gout = F.fractional_max_pool2d(g64(a), 3, (4, 3), _random_samples=g64(u))
        close(gout, TF.fractional_max_pool2d(t64(a), 3, (4, 3), _random_samples=t64(u)), f"samples {u.ravel()[:2]}")


def test_fractional_modules_match_torch():
    a = np.random.default_rng(2).standard_normal((2, 3, 8, 8))
    u = np.random.default_rng(3).random((2, 3, 2))
    gm = gdl.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True, _random_samples=g64(u))
    tm = torch.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True, _random_samples=t64(u))
    (go, gi), (to, ti) = gm(g64(a)), tm(t64(a))
    close(go, to, "FractionalMaxPool2d")
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    assert set(gm.state_dict()) == set(tm.state_dict())
    a3 = np.random.default_rng(4).standard_normal((1, 2, 6, 7, 8))
    u3 = np.random.default_rng(5).random((1, 2, 3))
    gm3 = gdl.nn.FractionalMaxPool3d((2, 3, 2), output_size=(3, 4, 5), _random_samples=g64(u3))
    tm3 = torch.nn.FractionalMaxPool3d((2, 3, 2), output_size=(3, 4, 5), _random_samples=t64(u3))
    close(gm3(g64(a3)), tm3(t64(a3)), "FractionalMaxPool3d")


def test_fractional_too_large_pool_errors_like_torch():
    a = np.zeros((1, 1, 5, 5, 5))
    with pytest.raises(RuntimeError):
        TF.fractional_max_pool3d(t64(a), 2, output_size=4)
    with pytest.raises(ValueError, match="too large"):
        F.fractional_max_pool3d(g64(a), 2, output_size=4)
    TF.fractional_max_pool2d(t64(a[0]), 2, output_size=4)  # 2-D allows the last window at the edge
    assert F.fractional_max_pool2d(g64(a[0]), 2, output_size=4).shape == (1, 5, 4, 4)


# -- the *_with_indices aliases -------------------------------------------------------------------------------

@pytest.mark.parametrize("name,shape,args", [
    ("max_pool1d_with_indices", (2, 3, 9), (3, 2, 1)),
    ("max_pool2d_with_indices", (2, 3, 7, 6), (2, 2, 1)),
    ("max_pool3d_with_indices", (1, 2, 5, 6, 4), (2, 1, 0)),
    ("adaptive_max_pool1d_with_indices", (2, 3, 9), (4,)),
    ("adaptive_max_pool2d_with_indices", (2, 3, 7, 6), ((3, 4),)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 5, 6, 4), ((2, 3, 3),)),
])
def test_with_indices_aliases_match_torch(name, shape, args):
    a = np.random.default_rng(0).standard_normal(shape)
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    (go, gi), (to, ti) = getattr(F, name)(gx, *args), getattr(TF, name)(tx, *args)
    close(go, to, name)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    gg, tg = _grads(go, to, gx, tx)
    close(gg, tg, f"{name} gradient")


# -- AdaptiveLogSoftmaxWithLoss --------------------------------------------------------------------------------

def _asm_pair(in_features, n_classes, cutoffs, div_value=4.0, head_bias=False):
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                             head_bias=head_bias).double()
    gm = gdl.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                           head_bias=head_bias, dtype=gdl.float64)
    tsd = tm.state_dict()
    assert set(gm.state_dict()) == set(tsd)
    gm.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    return gm, tm


@pytest.mark.parametrize("cfg", [
    dict(in_features=16, n_classes=20, cutoffs=[5, 10, 15]),
    dict(in_features=8, n_classes=10, cutoffs=[4], div_value=2.0, head_bias=True),
    dict(in_features=12, n_classes=30, cutoffs=[2, 29], div_value=3.0),
])
def test_adaptive_log_softmax_matches_torch(cfg):
    gm, tm = _asm_pair(**cfg)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((11, cfg["in_features"]))
    target = rng.integers(0, cfg["n_classes"], 11)
    target[:3] = [0, cfg["n_classes"] - 1, cfg["cutoffs"][0]]
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    gres, tres = gm(gx, gdl.tensor(target)), tm(tx, torch.tensor(target))
    close(gres.output, tres.output, "output")
    close(gres.loss, tres.loss, "loss")
    assert gres[0] is gres.output and gres[1] is gres.loss
    gres.loss.backward()
    tres.loss.backward()
    close(gx.grad, tx.grad, "input gradient")
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        close(p.grad, tparams[name].grad, f"gradient of {name}")
    close(gm.log_prob(g64(a)), tm.log_prob(t64(a)), "log_prob")
    np.testing.assert_array_equal(gm.predict(g64(a)).numpy(), tm.predict(t64(a)).numpy())


def test_adaptive_log_softmax_unbatched_and_shortlist_only_match_torch():
    gm, tm = _asm_pair(6, 9, [3, 6])
    a = np.random.default_rng(2).standard_normal(6)
    for t in (1, 7):
        gres, tres = gm(g64(a), gdl.tensor(t)), tm(t64(a), torch.tensor(t))
        assert gres.output.shape == ()
        close(gres.output, tres.output, "unbatched output")
        close(gres.loss, tres.loss, "unbatched loss")
    b = np.random.default_rng(3).standard_normal((4, 6))
    gres, tres = gm(g64(b), gdl.tensor([0, 1, 2, 0])), tm(t64(b), torch.tensor([0, 1, 2, 0]))
    close(gres.output, tres.output, "shortlist-only output")


def test_adaptive_log_softmax_predict_mixed_rows_match_torch():
    """Rows whose head arg-max is a cluster and rows whose is a shortlist class, in one batch."""
    gm, tm = _asm_pair(4, 12, [2, 6])
    with torch.no_grad():
        tm.head.weight.mul_(3.0)
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    a = np.random.default_rng(4).standard_normal((40, 4))
    tpred = tm.predict(t64(a)).numpy()
    assert (tpred < 2).any() and (tpred >= 2).any()
    np.testing.assert_array_equal(gm.predict(g64(a)).numpy(), tpred)


def test_adaptive_log_softmax_errors_like_torch():
    for bad in ([], [5, 3], [0, 4], [4, 10], [3, 3]):
        with pytest.raises(ValueError):
            torch.nn.AdaptiveLogSoftmaxWithLoss(4, 10, bad)
        with pytest.raises(ValueError, match="cutoffs"):
            gdl.nn.AdaptiveLogSoftmaxWithLoss(4, 10, bad)
    gm, tm = _asm_pair(4, 10, [3])
    for a, t in (((3, 4), [0, 10, 2]), ((3, 4), [0, 1]), ((4,), [1]), ((2, 2, 4), [1, 2])):
        with pytest.raises(RuntimeError):
            tm(t64(np.zeros(a)), torch.tensor(t))
        with pytest.raises(RuntimeError):
            gm(g64(np.zeros(a)), gdl.tensor(t))


# -- in-place functional activations --------------------------------------------------------------------------

INPLACE = [
    ("relu_", (), {}),
    ("elu_", (0.7,), {}),
    ("celu_", (), {"alpha": 1.5}),
    ("selu_", (), {}),
    ("leaky_relu_", (0.2,), {}),
    ("hardtanh_", (-0.5, 0.8), {}),
    ("rrelu_", (0.1, 0.3), {}),
    ("threshold_", (0.1, -2.0), {}),
]


@pytest.mark.parametrize("name,args,kw", INPLACE)
def test_inplace_activations_match_torch(name, args, kw):
    a = np.random.default_rng(0).standard_normal((3, 4))
    gx, tx = g64(a), t64(a)
    gview, tview = gx.reshape(12), tx.reshape(12)
    assert getattr(F, name)(gx, *args, **kw) is gx
    assert getattr(TF, name)(tx, *args, **kw) is tx
    close(gx, tx, name)
    close(gview, tview, f"{name} seen through a view")


@pytest.mark.parametrize("name,args,kw", INPLACE)
def test_inplace_activations_refuse_leaf_requiring_grad_like_torch(name, args, kw):
    a = np.ones((2, 2))
    with pytest.raises(RuntimeError):
        getattr(TF, name)(t64(a, grad=True), *args, **kw)
    with pytest.raises(RuntimeError):
        getattr(F, name)(g64(a, grad=True), *args, **kw)


# -- SyncBatchNorm -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)])
def test_sync_batch_norm_single_process_matches_torch(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    gm = gdl.nn.SyncBatchNorm(3, momentum=0.2, dtype=gdl.float64)
    tm = torch.nn.SyncBatchNorm(3, momentum=0.2).double()  # no process group: the local batch's statistics
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    gout, tout = gm(gx), tm(tx)
    close(gout, tout, "SyncBatchNorm")
    gg, tg = _grads(gout, tout, gx, tx)
    close(gg, tg, "gradient")
    close(gm.running_mean, tm.running_mean, "running_mean")
    close(gm.running_var, tm.running_var, "running_var")
    assert set(gm.state_dict()) == set(tm.state_dict())


def test_convert_sync_batchnorm_matches_torch():
    gnet = gdl.nn.Sequential(gdl.nn.Linear(4, 3), gdl.nn.BatchNorm1d(3), gdl.nn.Sequential(gdl.nn.BatchNorm1d(3)))
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Sequential(torch.nn.BatchNorm1d(3)))
    gnet, tnet = gnet.double(), tnet.double()
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    gnet[1].eval()
    tnet[1].eval()
    gsync = gdl.nn.SyncBatchNorm.convert_sync_batchnorm(gnet)
    tsync = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tnet)
    assert [type(m).__name__ for m in gsync.modules()] == [type(m).__name__ for m in tsync.modules()]
    assert gsync[1].weight is gnet[1].weight and not gsync[1].training and gsync[2][0].training
    assert set(gsync.state_dict()) == set(tsync.state_dict())
    a = np.random.default_rng(0).standard_normal((5, 4))
    close(gsync(g64(a)), tsync(t64(a)), "converted network")
