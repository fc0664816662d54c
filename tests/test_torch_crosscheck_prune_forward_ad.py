"""gdl.nn.utils.prune and gdl.autograd.forward_ad against PyTorch (float64): masks, state_dict
keys, outputs and gradients of ``_orig`` (same weights; random methods compared by count and
structure only), and tangents of dual tensors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.autograd.forward_ad as tfw  # noqa: E402
from torch.nn.utils import prune as TP  # noqa: E402

import gdl  # noqa: E402
import gdl.autograd.forward_ad as gfw  # noqa: E402
from gdl.nn.utils import prune as GP  # noqa: E402


@pytest.fixture(autouse=True)
def _float64_numpy():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    with gdl.use_backend("numpy"):
        yield
    torch.set_default_dtype(old)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().numpy())


def _pair(cls_t, cls_g, *args, seed=0):
    tm, gm = cls_t(*args), cls_g(*args, dtype=gdl.float64)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in tm.parameters():
            n = p.numel()  # distinct absolute values: no ties in the L1 / Ln rankings
            p.copy_(torch.tensor(((rng.permutation(n) + 1) / n * rng.choice([-1, 1], n)).reshape(p.shape)))
    gm.load_state_dict({k: gdl.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _compare(tm, gm, x):
    ts, gs = tm.state_dict(), gm.state_dict()
    assert list(ts) == list(gs)
    for k in ts:
        np.testing.assert_allclose(_np(gs[k]), _np(ts[k]), err_msg=k)
    yt, yg = tm(torch.tensor(x)), gm(gdl.tensor(x))
    np.testing.assert_allclose(_np(yg), _np(yt), rtol=1e-12)
    (yt ** 2).sum().backward()
    (yg ** 2).sum().backward()
    for (n, pt), (_, pg) in zip(tm.named_parameters(), gm.named_parameters()):
        np.testing.assert_allclose(_np(pg.grad), _np(pt.grad), rtol=1e-10, atol=1e-12, err_msg=n)


STEPS = [
    [("l1_unstructured", dict(amount=0.3))],
    [("l1_unstructured", dict(amount=4)), ("l1_unstructured", dict(amount=0.5))],
    [("ln_structured", dict(amount=1, n=2, dim=0)), ("l1_unstructured", dict(amount=3)),
     ("ln_structured", dict(amount=0.5, n=1, dim=1))],
    [("ln_structured", dict(amount=2, n=float("inf"), dim=-1)), ("identity", dict())],
]


@pytest.mark.parametrize("steps", STEPS)
def test_deterministic_pruning_matches_torch(steps):
    tm, gm = _pair(torch.nn.Linear, gdl.nn.Linear, 5, 4)
    for fn, kw in steps:
        getattr(TP, fn)(tm, "weight", **kw)
        getattr(GP, fn)(gm, "weight", **kw)
    _compare(tm, gm, np.random.default_rng(9).normal(size=(3, 5)))
    TP.remove(tm, "weight")
    GP.remove(gm, "weight")
    assert list(tm.state_dict()) == list(gm.state_dict())
    np.testing.assert_allclose(_np(gm.weight), _np(tm.weight))
    assert TP.is_pruned(tm) == GP.is_pruned(gm) is False


def test_conv_l1_importance_scores_and_custom_mask():
    tm, gm = _pair(torch.nn.Conv2d, gdl.nn.Conv2d, 2, 3, 3, seed=1)
    scores = np.random.default_rng(2).permutation(tm.weight.numel()).reshape(tm.weight.shape) * 1.0
    TP.l1_unstructured(tm, "weight", amount=10, importance_scores=torch.tensor(scores))
    GP.l1_unstructured(gm, "weight", amount=10, importance_scores=gdl.tensor(scores))
    mask = (np.arange(3) != 1).astype(np.float64)
    TP.custom_from_mask(tm, "bias", torch.tensor(mask))
    GP.custom_from_mask(gm, "bias", gdl.tensor(mask))
    _compare(tm, gm, np.random.default_rng(3).normal(size=(2, 2, 5, 5)))


def test_global_unstructured_matches_torch():
    t1, g1 = _pair(torch.nn.Linear, gdl.nn.Linear, 4, 3, seed=4)
    t2, g2 = _pair(torch.nn.Linear, gdl.nn.Linear, 3, 2, seed=5)
    with torch.no_grad():
        t2.weight.mul_(3.0).add_(0.01)
    g2.weight.data = gdl.tensor(t2.weight.detach().numpy().copy()).data
    TP.l1_unstructured(t1, "weight", amount=2)
    GP.l1_unstructured(g1, "weight", amount=2)
    TP.global_unstructured([(t1, "weight"), (t2, "weight")], TP.L1Unstructured, amount=0.4)
    GP.global_unstructured([(g1, "weight"), (g2, "weight")], GP.L1Unstructured, amount=0.4)
    _compare(t1, g1, np.ones((2, 4)))
    _compare(t2, g2, np.ones((2, 3)))


def test_random_methods_structure_matches_torch():
    tm, gm = _pair(torch.nn.Linear, gdl.nn.Linear, 6, 5)
    zeros = []
    for mod, P in ((tm, TP), (gm, GP)):
        P.random_unstructured(mod, "weight", amount=0.4)
        first = int((mod.weight_mask == 0).sum())
        P.random_structured(mod, "weight", amount=2, dim=1)
        mask = _np(mod.weight_mask)
        P.random_unstructured(mod, "weight", amount=3)
        zeros.append((first, (mask.sum(0) == 0).sum(), int((mod.weight_mask == 0).sum()) - (mask == 0).sum()))
    assert zeros[0] == zeros[1]
    assert list(tm.state_dict()) == list(gm.state_dict())


@pytest.mark.parametrize("amount", [-1, 1.2, 40, "a"])
def test_errors_match_torch(amount):
    tm, gm = _pair(torch.nn.Linear, gdl.nn.Linear, 5, 4)
    with pytest.raises(Exception) as et:
        TP.l1_unstructured(tm, "weight", amount=amount)
    with pytest.raises(type(et.value)):
        GP.l1_unstructured(gm, "weight", amount=amount)
    assert list(tm.state_dict()) == list(gm.state_dict())


# -- forward_ad --------------------------------------------------------------------------------


def _fwd_both(fn_t, fn_g, primals, tangents):
    outs = []
    for fw, lib, fn in ((tfw, torch, fn_t), (gfw, gdl, fn_g)):
        with fw.dual_level():
            duals = [fw.make_dual(lib.tensor(p), lib.tensor(t)) for p, t in zip(primals, tangents)]
            results = fn(*duals)
            outs.append([fw.unpack_dual(r) for r in results])
    for ut, ug in zip(*outs):
        np.testing.assert_allclose(_np(ug.primal), _np(ut.primal), rtol=1e-12)
        np.testing.assert_allclose(_np(ug.tangent), _np(ut.tangent), rtol=1e-10, atol=1e-12)


def test_forward_ad_elementwise_chain_with_intermediate():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def f(lib):
        def run(a):
            h = lib.sin(a) * a ** 2
            return h, lib.exp(h).log1p() / (1 + a * a)
        return run

    _fwd_both(f(torch), f(gdl), [x], [t])


def test_forward_ad_matmul_two_duals():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    ta, tb = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    _fwd_both(lambda p, q: (p @ q, (p @ q).sum()), lambda p, q: (p @ q, (p @ q).sum()), [a, b], [ta, tb])


def test_forward_ad_linear_tanh_loss_and_outer_grad():
    tm, gm = _pair(torch.nn.Linear, gdl.nn.Linear, 4, 3, seed=6)
    rng = np.random.default_rng(2)
    x, t, target = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    res = []
    for fw, lib, m, loss in ((tfw, torch, tm, torch.nn.functional.mse_loss), (gfw, gdl, gm, gdl.nn.functional.mse_loss)):
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(x), lib.tensor(t))
            hidden = lib.tanh(m(d))
            value = loss(hidden, lib.tensor(target))
            uh, uv = fw.unpack_dual(hidden), fw.unpack_dual(value)
            res.append((uh, uv))
        uv.primal.backward()  # after the level (torch's backward inside one trips on its zero tangents)
        res[-1] += (m.weight.grad,)
    (th, tv, tg), (gh, gv, gg) = res
    for a, b in ((gh.tangent, th.tangent), (gv.tangent, tv.tangent), (gv.primal, tv.primal), (gg, tg)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)
    assert gv.primal.requires_grad == tv.primal.requires_grad
