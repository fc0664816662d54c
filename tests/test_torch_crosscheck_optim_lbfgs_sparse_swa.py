"""LBFGS, SparseAdam and swa_utils against PyTorch, side by side, in float64.

LBFGS: the same problems (Rosenbrock, least squares over two parameters, logistic
regression) and settings (both line searches, a small history so the ring buffer turns,
max_iter / max_eval limits, tolerances that stop early) in both libraries; after every
``step`` the loss, the parameters, the counters and the state must agree (the counters
exactly: both took the same branches), and a state dict moved across mid-run (either way)
continues the run. SparseAdam on Embedding(sparse=True) tables with repeated rows;
AveragedModel's averages (parameters and buffers) and SWALR's lr, epoch by epoch;
update_bn's statistics.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.optim import swa_utils as TSWA  # noqa: E402

import gdl  # noqa: E402
import gdl.optim  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402
from gdl.optim import swa_utils as GSWA  # noqa: E402

F64 = gdl.float64
# LBFGS agrees to the last bits on the first iterations; PyTorch rounds ``p.add_(d, alpha=t)`` through a
# fused multiply-add and its dot products through BLAS, and those ulps grow over dozens of iterations in
# Rosenbrock's curved valley (to ~1e-8 in the parameters after 60). The curvature pairs, differences of
# nearly equal gradients near the minimum, keep fewer digits (STATE_RTOL). The counters must be equal:
# both libraries took the same branches of the algorithm.
TOL = dict(rtol=1e-7, atol=1e-12)
STATE_RTOL = 1e-5

# -- LBFGS problems: (initial values per parameter, loss over a list of tensors) ------------------------


def _rosenbrock(lib):
    x0 = [np.array([-1.2, 1.0, -0.5, 0.8])]

    def loss(ps):
        x = ps[0]
        return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()

    return x0, loss


def _least_squares(lib):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    Xl, Yl = _const(lib, X), _const(lib, Y)

    def loss(ps):
        W, b = ps
        return ((Xl @ W + b - Yl) ** 2).mean()

    return [rng.normal(size=(3, 2)), np.zeros(2)], loss


def _logistic(lib):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.where(X @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.normal(size=40) > 0, 1.0, -1.0)
    Xl, yl = _const(lib, X), _const(lib, y)

    def loss(ps):
        w, b = ps
        z = -yl * (Xl @ w + b)
        return (1 + z.exp()).log().mean() + 0.01 * (w * w).sum()

    return [np.zeros(3), np.zeros(())], loss


PROBLEMS = {"rosenbrock": _rosenbrock, "least_squares": _least_squares, "logistic": _logistic}
CONFIGS = {
    "default": dict(),
    "wolfe": dict(line_search_fn="strong_wolfe"),
    "ring": dict(history_size=2, max_iter=8),
    "ring_wolfe": dict(history_size=2, max_iter=8, line_search_fn="strong_wolfe"),
    "limits": dict(max_iter=3, max_eval=4),
    "wolfe_limits": dict(max_iter=10, max_eval=6, line_search_fn="strong_wolfe"),
    "wolfe_eval1": dict(max_eval=1, line_search_fn="strong_wolfe"),
    "lr_tol": dict(lr=0.3, tolerance_change=1e-5, history_size=3),
    "tol_grad": dict(tolerance_grad=1e-3, line_search_fn="strong_wolfe"),
}


def _const(lib, a):
    return gdl.tensor(a, dtype=F64) if lib is gdl else torch.tensor(a, dtype=torch.float64)


def _setup(lib, problem, kw, values=None):
    x0, loss_fn = PROBLEMS[problem](lib)
    x0 = values if values is not None else x0
    if lib is gdl:
        params = [Parameter(gdl.tensor(np.array(v, dtype=np.float64), dtype=F64)) for v in x0]
    else:
        params = [torch.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in x0]
    opt = lib.optim.LBFGS(params, **kw)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = loss_fn(params)
        loss.backward()
        return loss

    return params, opt, closure, calls


def _np(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def _close_vec(ours, theirs, msg):
    theirs = _np(theirs)
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    np.testing.assert_allclose(_np(ours), theirs, rtol=STATE_RTOL, atol=STATE_RTOL * scale, err_msg=msg)


def _compare_state(gs, ts, msg):
    assert gs["func_evals"] == ts["func_evals"] and gs["n_iter"] == ts["n_iter"], msg
    assert set(gs) == set(ts) - {"al"}, msg
    for key in ("t", "H_diag", "prev_loss"):
        if key in ts:
            np.testing.assert_allclose(float(gs[key]), float(ts[key]), rtol=STATE_RTOL, err_msg=f"{msg} {key}")
    for key in ("d", "prev_flat_grad"):
        if ts.get(key) is not None:
            _close_vec(gs[key], ts[key], f"{msg} {key}")
    if ts.get("old_dirs") is not None:
        assert len(gs["old_dirs"]) == len(ts["old_dirs"]) == len(gs["ro"]), msg
        for key in ("old_dirs", "old_stps"):
            for a, b in zip(gs[key], ts[key]):
                _close_vec(a, b, f"{msg} {key}")
        _close_vec(np.array(gs["ro"], dtype=float), np.array([float(r) for r in ts["ro"]]), f"{msg} ro")


def _step_both(g, t, msg):
    (gp, gopt, gclosure, gcalls), (tp, topt, tclosure, tcalls) = g, t
    g0, t0 = len(gcalls), len(tcalls)
    gl, tl = gopt.step(gclosure), topt.step(tclosure)
    np.testing.assert_allclose(float(gl), float(tl.detach()), err_msg=f"{msg} loss", **TOL)
    g_calls, t_calls = len(gcalls) - g0, len(tcalls) - t0
    assert g_calls == t_calls, f"{msg}: {g_calls} closure calls, PyTorch {t_calls}"
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), err_msg=f"{msg} params", **TOL)
    _compare_state(gopt.state[gp[0]], topt.state[tp[0]], msg)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_lbfgs_trajectory_matches_torch(problem, config):
    kw = CONFIGS[config]
    g, t = _setup(gdl, problem, kw), _setup(torch, problem, kw)
    # least squares and logistic regression converge within the first step (to rounding: later
    # steps would compare noise); Rosenbrock's valley takes 40-60 iterations
    for i in range(3 if problem == "rosenbrock" else 2):
        _step_both(g, t, f"{problem}/{config} step {i}")


def _torch_state_to_numpy(sd):
    def conv(v):
        if isinstance(v, list):
            return [conv(a) for a in v]
        if isinstance(v, torch.Tensor):
            return v.item() if v.ndim == 0 else v.numpy().copy()
        return v

    return {"state": {k: {n: conv(v) for n, v in st.items()} for k, st in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


def _gdl_state_to_torch(sd):
    def conv(v):
        if isinstance(v, list):
            return [conv(a) for a in v]
        if hasattr(v, "numpy") and not isinstance(v, (int, float)):
            return torch.tensor(v.numpy())
        return v

    return {"state": {k: {n: conv(v) for n, v in st.items()} for k, st in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("config", ["ring", "ring_wolfe"])
@pytest.mark.parametrize("direction", ["torch_to_gdl", "gdl_to_torch"])
def test_lbfgs_state_dict_moves_between_libraries(config, direction):
    kw = CONFIGS[config]
    problem = "rosenbrock"  # still far from its minimum after the move
    g, t = _setup(gdl, problem, kw), _setup(torch, problem, kw)
    for i in range(2):
        _step_both(g, t, f"before the move, step {i}")
    if direction == "torch_to_gdl":
        values = [p.detach().numpy().copy() for p in t[0]]
        g = _setup(gdl, problem, kw, values)
        g[1].load_state_dict(_torch_state_to_numpy(t[1].state_dict()))
    else:
        values = [p.numpy().copy() for p in g[0]]
        t = _setup(torch, problem, kw, values)
        t[1].load_state_dict(_gdl_state_to_torch(g[1].state_dict()))
    for i in range(2):
        _step_both(g, t, f"after the move ({direction}), step {i}")


# -- SparseAdam -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4), dict(lr=0.01, maximize=True)])
def test_sparse_adam_matches_torch(kw):
    rng = np.random.default_rng(3)
    shapes = [(10, 3), (6, 2)]
    weights = [rng.normal(size=s) for s in shapes]
    t_emb = [torch.nn.Embedding(*s, sparse=True).double() for s in shapes]
    g_emb = [nn.Embedding(*s, sparse=True, dtype=F64) for s in shapes]
    for te, ge, w in zip(t_emb, g_emb, weights):
        with torch.no_grad():
            te.weight.copy_(torch.from_numpy(w))
        ge.weight.data = gdl.tensor(w, dtype=F64).data
    t_opt = torch.optim.SparseAdam([e.weight for e in t_emb], **kw)
    g_opt = gdl.optim.SparseAdam([e.weight for e in g_emb], **kw)
    for step in range(8):
        t_opt.zero_grad()
        g_opt.zero_grad()
        for k, (te, ge, s) in enumerate(zip(t_emb, g_emb, shapes)):
            if k == 1 and step % 3 == 2:
                continue  # no gradient this step: no update, no step count
            idx = rng.integers(0, s[0], size=5)
            idx[1] = idx[0]  # a repeated row
            coef = rng.normal(size=(5, s[1]))
            (te(torch.from_numpy(idx)) * torch.from_numpy(coef)).sum().backward()
            (ge(gdl.tensor(idx)) * gdl.tensor(coef, dtype=F64)).sum().backward()
        t_opt.step()
        g_opt.step()
        for te, ge in zip(t_emb, g_emb):
            np.testing.assert_allclose(ge.weight.numpy(), te.weight.detach().numpy(), rtol=1e-13, atol=1e-15)
            ts, gs = t_opt.state[te.weight], g_opt.state[ge.weight]
            assert gs["step"] == int(ts["step"])
            for key in ("exp_avg", "exp_avg_sq"):
                np.testing.assert_allclose(gs[key].numpy(), ts[key].to_dense().numpy(), rtol=1e-13, atol=1e-300)


# -- AveragedModel ----------------------------------------------------------------------------------------------


def _models():
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                             torch.nn.Linear(4, 2)).double()
    gm = nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.BatchNorm1d(4, dtype=F64), nn.ReLU(),
                       nn.Linear(4, 2, dtype=F64))
    _sync(gm, tm)
    return gm, tm


def _sync(gm, tm):
    targets = dict(gm.named_parameters())
    targets.update(gm.named_buffers())
    for name, tv in tm.state_dict().items():
        targets[name].data = gdl.tensor(tv.numpy().copy(), dtype=targets[name].dtype).data


def _perturb(tm, rng):
    with torch.no_grad():
        for name, v in tm.state_dict().items():
            if v.dtype == torch.int64:
                v.add_(int(rng.integers(1, 4)))
            elif "running_var" in name:
                v.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, size=tuple(v.shape))))
            else:
                v.copy_(torch.from_numpy(rng.normal(size=tuple(v.shape))))


AVERAGING = {
    "swa": (dict(), 1e-14),
    "ema_avg_fn": (dict(avg_fn="ema"), 1e-14),
    "ema_multi": (dict(multi_avg_fn="ema"), 1e-13),  # PyTorch's lerp may round through an FMA
    "swa_multi": (dict(multi_avg_fn="swa"), 1e-6),  # PyTorch rounds the weight 1/(n+1) to float32 there
}


def _fns(lib, spec):
    out = {}
    for key, name in spec.items():
        if name == "ema":
            out[key] = (lib.get_ema_avg_fn(0.8) if key == "avg_fn" else lib.get_ema_multi_avg_fn(0.8))
        else:
            out[key] = lib.get_swa_multi_avg_fn()
    return out


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("averaging", list(AVERAGING))
def test_averaged_model_matches_torch(averaging, use_buffers):
    spec, rtol = AVERAGING[averaging]
    if averaging == "swa_multi" and use_buffers:
        pytest.skip("PyTorch's get_swa_multi_avg_fn fails on integer buffers (addcdiv); gdl averages them")
    rng = np.random.default_rng(4)
    gm, tm = _models()
    t_avg = TSWA.AveragedModel(tm, use_buffers=use_buffers, **_fns(TSWA, spec))
    g_avg = GSWA.AveragedModel(gm, use_buffers=use_buffers, **_fns(GSWA, spec))
    for epoch in range(5):
        _perturb(tm, rng)
        _sync(gm, tm)
        t_avg.update_parameters(tm)
        g_avg.update_parameters(gm)
        t_sd, g_sd = t_avg.state_dict(), g_avg.state_dict()
        assert list(g_sd) == list(t_sd)
        for name, tv in t_sd.items():
            np.testing.assert_allclose(g_sd[name].numpy(), tv.numpy(), rtol=rtol, atol=1e-300,
                                       err_msg=f"{averaging} epoch {epoch} {name}")
    x = np.random.default_rng(5).normal(size=(6, 3))
    t_avg.eval()
    g_avg.eval()
    np.testing.assert_allclose(g_avg(gdl.tensor(x, dtype=F64)).numpy(),
                               t_avg(torch.from_numpy(x)).detach().numpy(), rtol=max(rtol, 1e-12))


def test_update_bn_matches_torch():
    rng = np.random.default_rng(6)
    gm, tm = _models()
    data = [rng.normal(size=(n, 3)) for n in (5, 7, 4)]
    tm.eval()
    gm.eval()
    TSWA.update_bn([(torch.from_numpy(x), 0) for x in data], tm)
    GSWA.update_bn([(gdl.tensor(x, dtype=F64), 0) for x in data], gm)
    for name, tv in tm.state_dict().items():
        np.testing.assert_allclose(gm.state_dict()[name].numpy(), tv.numpy(), rtol=1e-12, err_msg=name)
    assert gm.training == tm.training is False
    assert gm[1].momentum == tm[1].momentum == 0.1


# -- SWALR ------------------------------------------------------------------------------------------------------


def _two_groups(lib, lrs=(0.5, 0.1)):
    if lib is gdl:
        a, b = Parameter(gdl.zeros(2)), Parameter(gdl.zeros(3))
    else:
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": lrs[1]}], lr=lrs[0])


@pytest.mark.parametrize("swa_lr", [0.05, [0.02, 0.2]])
@pytest.mark.parametrize("epochs", [0, 1, 3, 10])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_swalr_matches_torch(strategy, epochs, swa_lr):
    t_opt, g_opt = _two_groups(torch), _two_groups(gdl)
    t_s = TSWA.SWALR(t_opt, swa_lr=swa_lr, anneal_epochs=epochs, anneal_strategy=strategy)
    g_s = GSWA.SWALR(g_opt, swa_lr=swa_lr, anneal_epochs=epochs, anneal_strategy=strategy)
    for epoch in range(14):
        np.testing.assert_allclose(g_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, err_msg=f"epoch {epoch}")
        assert [g["lr"] for g in g_opt.param_groups] == pytest.approx([g["lr"] for g in t_opt.param_groups],
                                                                      rel=1e-13)
        t_opt.step()
        t_s.step()
        g_s.step()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_swalr_after_another_schedule_matches_torch():
    t_opt, g_opt = _two_groups(torch), _two_groups(gdl)
    t_cos = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=10)
    g_cos = gdl.optim.lr_scheduler.CosineAnnealingLR(g_opt, T_max=10)
    for _ in range(4):
        t_opt.step()
        t_cos.step()
        g_cos.step()
    t_s = TSWA.SWALR(t_opt, swa_lr=0.01, anneal_epochs=3)
    g_s = GSWA.SWALR(g_opt, swa_lr=0.01, anneal_epochs=3)
    for epoch in range(6):
        np.testing.assert_allclose(g_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, err_msg=f"epoch {epoch}")
        t_opt.step()
        t_s.step()
        g_s.step()
