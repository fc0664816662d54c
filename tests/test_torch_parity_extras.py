"""Cross-checks against PyTorch of ModuleDict, Unflatten, the L1/SmoothL1/Huber/KLDiv losses,
nll_loss beyond (N, C), and ReduceLROnPlateau (skipped when
torch is not installed; the torch-free checks of the same pieces are in test_losses.py,
test_lr_scheduler.py, test_module.py and test_layers.py).

Random configurations run in both frameworks from the same numbers: loss values and the
gradients of input and target (also exactly at the kinks), state-dict keys, and lr sequences
over many epochs, resumed through state dicts (gdl's or PyTorch's) and through ``last_epoch``.
Set ``GDL_CROSSCHECK_EXAMPLES`` to search harder than the quick default.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import F64, SETTINGS, TOL, close, g64, t64, two_group_sgd  # noqa: E402

import gdl  # noqa: E402
import gdl.optim  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402
from gdl.optim import lr_scheduler as sch  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional


def check_pair_loss(gfn, tfn, x, y, target_grad, rng, dtype="float64"):
    """Loss of (input, target) in both frameworks: value, then the gradients of the input and,
    with ``target_grad``, of the target, under a random upstream gradient."""
    gd, td = (F64, torch.float64) if dtype == "float64" else (gdl.float32, torch.float32)
    tol = TOL if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)
    gx, tx = g64(x, True, gd), t64(x, True, td)
    gy, ty = g64(y, target_grad, gd), t64(y, target_grad, td)
    gl, tl = gfn(gx, gy), tfn(tx, ty)
    assert gl.dtype == gd, f"loss dtype {gl.dtype}, input {gd}"
    close(gl, tl, "loss", **tol)
    up = rng.standard_normal(tuple(tl.shape))
    gl.backward(g64(up, dtype=gd))
    tl.backward(t64(up, dtype=td))
    close(gx.grad, tx.grad, "input grad", **tol)
    if target_grad:
        close(gy.grad, ty.grad, "target grad", **tol)


SHAPES = st.lists(st.integers(1, 4), max_size=3).map(tuple)
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


# -- L1Loss, SmoothL1Loss, HuberLoss -------------------------------------------------------------------


@st.composite
def regression_configs(draw):
    kind = draw(st.sampled_from(["l1", "smooth_l1", "huber"]))
    # dyadic widths make |x - y| == width exact in floating point; 0.3 and 1.7 do not
    widths = [0.25, 0.5, 1.0, 2.0, 0.3, 1.7] + ([0.0] if kind == "smooth_l1" else [])
    return dict(kind=kind, shape=draw(SHAPES), reduction=draw(REDUCTIONS), width=draw(st.sampled_from(widths)),
                kinks=draw(st.floats(0.0, 1.0)), module=draw(st.booleans()), target_grad=draw(st.booleans()),
                dtype=draw(st.sampled_from(["float64", "float64", "float32"])), seed=draw(st.integers(0, 2**16)))


def _regression_pair(cfg, rng):
    """Targets on a grid of quarters; a share ``kinks`` of the inputs exactly at x == y or
    |x - y| == width (where the loss changes formula), the rest anywhere."""
    shape, w = cfg["shape"], cfg["width"]
    y = rng.integers(-8, 9, size=shape) / 4.0
    x = y + rng.standard_normal(shape) * 2 * max(w, 0.5)
    at = rng.uniform(size=shape) < cfg["kinks"]
    offset = rng.choice([0.0, w, -w], size=shape)
    return np.where(at, y + offset, x), y


@SETTINGS(120)
@given(cfg=regression_configs())
def test_l1_smooth_l1_huber_match_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    x, y = _regression_pair(cfg, rng)
    r, w = cfg["reduction"], cfg["width"]
    if cfg["kind"] == "l1":
        gfn = nn.L1Loss(r) if cfg["module"] else (lambda a, b: F.l1_loss(a, b, r))
        tfn = lambda a, b: TF.l1_loss(a, b, reduction=r)  # noqa: E731
    elif cfg["kind"] == "smooth_l1":
        gfn = nn.SmoothL1Loss(r, beta=w) if cfg["module"] else (lambda a, b: F.smooth_l1_loss(a, b, r, beta=w))
        tfn = lambda a, b: TF.smooth_l1_loss(a, b, reduction=r, beta=w)  # noqa: E731
    else:
        gfn = nn.HuberLoss(r, delta=w) if cfg["module"] else (lambda a, b: F.huber_loss(a, b, r, delta=w))
        tfn = lambda a, b: TF.huber_loss(a, b, reduction=r, delta=w)  # noqa: E731
    check_pair_loss(gfn, tfn, x, y, cfg["target_grad"], rng, cfg["dtype"])


@pytest.mark.parametrize("kind,width", [("l1", 0.0), ("smooth_l1", 0.0), ("smooth_l1", 0.5), ("smooth_l1", 2.0),
                                        ("huber", 0.5), ("huber", 2.0)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_at_every_kink_match_torch(backend, kind, width, reduction):
    """Every element exactly at a kink: x == y, x - y == ±width, and just either side of them."""
    y = np.array([0.5, 0.5, 0.5, -1.0, -1.0, 2.0, 2.0, 0.0, 0.0])
    d = np.array([0.0, width, -width, 0.0, width, -width, width, 2 * width + 0.25, -0.125])
    fns = {"l1": (F.l1_loss, TF.l1_loss, {}), "smooth_l1": (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": width}),
           "huber": (F.huber_loss, TF.huber_loss, {"delta": width})}
    gf, tf, kw = fns[kind]
    check_pair_loss(lambda a, b: gf(a, b, reduction, **kw), lambda a, b: tf(a, b, reduction=reduction, **kw),
                    y + d, y, True, np.random.default_rng(0))


# -- KLDivLoss -------------------------------------------------------------------------------------------------


@st.composite
def kl_configs(draw):
    return dict(shape=draw(SHAPES), reduction=draw(st.sampled_from(["mean", "batchmean", "sum", "none"])),
                log_target=draw(st.booleans()), zeros=draw(st.floats(0.0, 0.6)), log_probs=draw(st.booleans()),
                module=draw(st.booleans()), target_grad=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # PyTorch's, about its own default
@SETTINGS(120)
@given(cfg=kl_configs())
def test_kl_div_matches_torch(backend, cfg):
    """Targets with exact zeros (0·log 0 = 0; the target's gradient there is NaN in both), input
    log-probabilities or any numbers, every reduction, log_target both ways."""
    rng = np.random.default_rng(cfg["seed"])
    shape = cfg["shape"]
    x = rng.standard_normal(shape) * 2
    if cfg["log_probs"] and shape:
        x = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    p = rng.uniform(0.0, 1.0, size=shape)
    p = np.where(rng.uniform(size=shape) < cfg["zeros"], 0.0, p)
    y = np.log(np.where(p > 0, p, 0.5)) if cfg["log_target"] else p
    r, lt = cfg["reduction"], cfg["log_target"]
    gfn = nn.KLDivLoss(r, log_target=lt) if cfg["module"] else (lambda a, b: F.kl_div(a, b, r, log_target=lt))
    check_pair_loss(gfn, lambda a, b: TF.kl_div(a, b, reduction=r, log_target=lt), x, y, cfg["target_grad"], rng)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_targets_at_zero_match_torch(backend, log_target):
    """Target 0 (probability) or log-target 0 (probability 1), with inputs at 0 and far from it."""
    x = np.array([[0.0, -1.5, -40.0], [0.0, 3.0, -0.25]])
    y = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 1.0]])
    for r in ("mean", "batchmean", "sum", "none"):
        check_pair_loss(lambda a, b: F.kl_div(a, b, r, log_target),  # noqa: B023
                        lambda a, b: TF.kl_div(a, b, reduction=r, log_target=log_target),  # noqa: B023
                        x, y, True, np.random.default_rng(1))


# -- NLLLoss beyond (N, C) ----------------------------------------------------------------------------------------


@st.composite
def nll_configs(draw):
    c = draw(st.integers(1, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    shape = (c,) if draw(st.integers(0, 3)) == 0 else (draw(st.integers(1, 4)), c) + extra
    return dict(shape=shape, weight=draw(st.booleans()), ignore_index=draw(st.sampled_from([-100, 0, 1, 3])),
                reduction=draw(REDUCTIONS), module=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@SETTINGS(100)
@given(cfg=nll_configs())
def test_nll_loss_unbatched_and_k_dimensional_match_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = cfg["shape"]
    c = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape) * 2
    y = rng.integers(0, c, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    ignore = cfg["ignore_index"]
    if y.size > 1 and ignore >= 0:
        y.flat[0] = ignore
    assume(cfg["reduction"] != "mean" or (y != ignore).any())  # all ignored: 0/0
    w = rng.uniform(0.2, 2.0, size=c) if cfg["weight"] else None
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    kw = dict(ignore_index=ignore, reduction=cfg["reduction"])
    gfn = nn.NLLLoss(gw, **kw) if cfg["module"] else (lambda a, b: F.nll_loss(a, b, gw, **kw))
    gx, tx = g64(x, True), t64(x, True)
    gl, tl = gfn(gx, gdl.tensor(y)), TF.nll_loss(tx, torch.tensor(y), tw, **kw)
    close(gl, tl, "loss")
    up = rng.standard_normal(tuple(tl.shape))
    gl.backward(g64(up))
    tl.backward(t64(up))
    close(gx.grad, tx.grad, "input grad")


def test_nll_loss_log_softmax_equals_cross_entropy_in_k_dimensions(backend):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 2))
    y = rng.integers(0, 4, size=(2, 3, 2))
    gx = g64(x, True)
    F.nll_loss(gdl.log_softmax(gx, axis=1), gdl.tensor(y)).backward()
    tx = t64(x, True)
    tl = TF.cross_entropy(tx, torch.tensor(y))
    tl.backward()
    close(gx.grad, tx.grad, "grad")


# -- ModuleDict --------------------------------------------------------------------------------------------------------


def _pair_linear(rng, fin, fout):
    g, t = nn.Linear(fin, fout, dtype=F64), tnn.Linear(fin, fout, dtype=torch.float64)
    w, b = rng.standard_normal((fout, fin)), rng.standard_normal(fout)
    g.load_state_dict({"weight": w, "bias": b})
    t.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(b)})
    return g, t


@SETTINGS(60)
@given(ops=st.lists(st.tuples(st.sampled_from(["set", "del", "pop", "update", "update_pairs", "clear"]),
                              st.sampled_from(["a", "b", "c", "head_1"]), st.integers(1, 3)), max_size=12),
       seed=st.integers(0, 2**16))
def test_module_dict_matches_torch(backend, ops, seed):
    """Random sequences of dict operations on both: the same keys, parameter names, state-dict keys
    and values, and each entry computes the same thing."""
    rng = np.random.default_rng(seed)
    ours, theirs = nn.ModuleDict(), tnn.ModuleDict()
    for op, key, width in ops:
        if op == "set":
            ours[key], theirs[key] = _pair_linear(rng, 2, width)
        elif op in ("del", "pop"):
            if key not in theirs:
                with pytest.raises(KeyError):
                    ours.pop(key)
                with pytest.raises(KeyError):
                    del ours[key]
                continue
            if op == "del":
                del ours[key], theirs[key]
            else:
                assert type(ours.pop(key)).__name__ == type(theirs.pop(key)).__name__
        elif op in ("update", "update_pairs"):
            g1, t1 = _pair_linear(rng, 2, width)
            g2, t2 = _pair_linear(rng, 2, 1)
            if op == "update":
                ours.update({key: g1, "z": g2})
                theirs.update({key: t1, "z": t2})
            else:
                ours.update([(key, g1), ["z", g2]])
                theirs.update([(key, t1), ["z", t2]])
        else:
            ours.clear()
            theirs.clear()
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert list(ours.keys()) == list(theirs.keys())
        assert [k in ours for k in "abcz"] == [k in theirs for k in "abcz"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    gsd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(gsd) == list(tsd)
    for k in tsd:
        close(gsd[k], tsd[k], k)
    ours.load_state_dict({k: v.numpy() for k, v in tsd.items()})  # strict: the keys must agree
    x = rng.standard_normal((3, 2))
    for (gk, gm), (tk, tm) in zip(ours.items(), theirs.items()):
        assert gk == tk
        close(gm(g64(x)), tm(t64(x)), gk)


def test_module_dict_in_a_model_loads_a_torch_state_dict(backend):
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"cls": nn.Linear(3, 2, dtype=F64), "reg": nn.Sequential(nn.Linear(3, 1, dtype=F64))})

    class Theirs(tnn.Module):
        def __init__(self):
            super().__init__()
            self.heads = tnn.ModuleDict({"cls": tnn.Linear(3, 2), "reg": tnn.Sequential(tnn.Linear(3, 1))})

    ours, theirs = Ours(), Theirs().double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    close(ours.heads["reg"](g64(x)), theirs.heads["reg"](t64(x)), "reg")
    for bad in ("training", "keys", "a.b", ""):
        with pytest.raises(KeyError):
            theirs.heads[bad] = tnn.ReLU()
        with pytest.raises(KeyError):
            ours.heads[bad] = nn.ReLU()


# -- Unflatten --------------------------------------------------------------------------------------------------------


@st.composite
def unflatten_configs(draw):
    sizes = tuple(draw(st.lists(st.integers(0 if draw(st.booleans()) else 1, 4), min_size=1, max_size=3)))
    shape = list(draw(st.lists(st.integers(1, 3), max_size=3)))
    at = draw(st.integers(0, len(shape)))
    shape.insert(at, int(np.prod(sizes)))
    dim = at - len(shape) if draw(st.booleans()) else at
    if draw(st.booleans()) and all(sizes):  # one size inferred
        i = draw(st.integers(0, len(sizes) - 1))
        sizes = sizes[:i] + (-1,) + sizes[i + 1:]
    if draw(st.integers(0, 3)) == 0:  # any sizes: where PyTorch refuses them, gdl must too
        sizes = tuple(draw(st.lists(st.integers(-1, 4), min_size=1, max_size=3)))
    return dict(shape=tuple(shape), dim=dim, sizes=sizes, as_list=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


@SETTINGS(100)
@given(cfg=unflatten_configs())
def test_unflatten_matches_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    sizes = list(cfg["sizes"]) if cfg["as_list"] else cfg["sizes"]
    tx = t64(x, True)
    try:
        tout = tnn.Unflatten(cfg["dim"], sizes)(tx)
    except RuntimeError:
        with pytest.raises(ValueError, match="Unflatten"):
            nn.Unflatten(cfg["dim"], sizes)(g64(x))
        return
    gx = g64(x, True)
    gout = nn.Unflatten(cfg["dim"], sizes)(gx)
    close(gout, tout, "output")
    up = rng.standard_normal(tuple(tout.shape))
    gout.backward(g64(up))
    tout.backward(t64(up))
    close(gx.grad, tx.grad, "grad")


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


# -- ReduceLROnPlateau (MultiStepLR and LinearLR: test_torch_crosscheck.py's schedule test) -------------------

_LR = st.sampled_from([0.1, 0.05, 1.0, 3e-4])


@st.composite
def plateau_configs(draw):
    kw = dict(mode=draw(st.sampled_from(["min", "max"])), factor=draw(st.sampled_from([0.1, 0.5, 0.9, 0.0])),
              patience=draw(st.integers(0, 5)), threshold=draw(st.sampled_from([1e-4, 0.0, 0.05, 0.5])),
              threshold_mode=draw(st.sampled_from(["rel", "abs"])), cooldown=draw(st.integers(0, 4)),
              eps=draw(st.sampled_from([1e-8, 0.0, 1e-3])))
    min_lr = draw(st.sampled_from(["none", "scalar", "list"]))
    if min_lr == "scalar":
        kw["min_lr"] = draw(st.sampled_from([1e-3, 0.02]))
    elif min_lr == "list":
        kw["min_lr"] = [draw(st.sampled_from([0.0, 1e-3, 0.02])), draw(st.sampled_from([0.0, 1e-4, 0.05]))]
    # small integers give ties (not an improvement); floats, a drift, NaN and inf the rest
    metric = st.one_of(st.integers(-3, 3).map(float), st.floats(-10, 10), st.sampled_from([float("nan"), float("inf")]))
    metrics = draw(st.lists(metric, min_size=1, max_size=80))
    return dict(kw=kw, metrics=metrics, lrs=(draw(_LR), draw(_LR)), tensor_metric=draw(st.booleans()),
                resume=draw(st.one_of(st.none(), st.integers(0, 79))), via_torch=draw(st.booleans()),
                nudge=draw(st.one_of(st.none(), st.integers(0, 79))))


_PLATEAU_STATE = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs", "mode_worse")


@SETTINGS(150)
@given(cfg=plateau_configs())
def test_reduce_lr_on_plateau_matches_torch(backend, cfg):
    """Random metric sequences, both modes and threshold modes, cooldown, min_lr per group: the lr
    of each group, get_last_lr() and the counters after every step, an lr changed by hand, and
    a rebuild from a state dict (gdl's or PyTorch's) mid-run; the state dicts have the same keys."""
    gopt, topt = two_group_sgd(gdl, cfg["lrs"]), two_group_sgd(torch, cfg["lrs"])
    gs = sch.ReduceLROnPlateau(gopt, **cfg["kw"])
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **cfg["kw"])
    assert gs.get_last_lr() == ts.get_last_lr() == list(cfg["lrs"])
    assert sorted(gs.state_dict()) == sorted(ts.state_dict())
    for epoch, m in enumerate(cfg["metrics"]):
        if epoch == cfg["nudge"]:
            for o in (gopt, topt):
                o.param_groups[1]["lr"] *= 2.0
        gs.step(gdl.tensor(m, dtype=F64) if cfg["tensor_metric"] else m)
        ts.step(m)
        assert gs.get_last_lr() == ts.get_last_lr() == _lrs(topt), epoch
        assert _lrs(gopt) == _lrs(topt), epoch
        for key in _PLATEAU_STATE:
            np.testing.assert_equal(getattr(gs, key), getattr(ts, key), err_msg=f"{key} at {epoch}")
        assert gs.in_cooldown == ts.in_cooldown
        if epoch == cfg["resume"]:
            sd = (ts if cfg["via_torch"] else gs).state_dict()
            osd = gopt.state_dict()
            gopt = two_group_sgd(gdl, (1.0, 1.0))
            gopt.load_state_dict(osd)
            gs = sch.ReduceLROnPlateau(gopt)  # every setting comes back from the state dict
            gs.load_state_dict(dict(sd))
    gsd, tsd = gs.state_dict(), ts.state_dict()
    assert sorted(gsd) == sorted(tsd)
    for key in tsd:
        np.testing.assert_equal(gsd[key], tsd[key], err_msg=key)


def test_reduce_lr_on_plateau_with_an_added_param_group_matches_torch(backend):
    for min_lr in (0.01, [0.0, 0.02]):
        gopt, topt = two_group_sgd(gdl, (0.1, 0.05)), two_group_sgd(torch, (0.1, 0.05))
        gs = sch.ReduceLROnPlateau(gopt, patience=0, factor=0.5, min_lr=min_lr)
        ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=0, factor=0.5, min_lr=min_lr)
        gopt.add_param_group({"params": [Parameter(gdl.zeros(1))], "lr": 0.5})
        topt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5})
        gs.step(1.0)
        ts.step(1.0)
        if isinstance(min_lr, list):  # one min_lr per group was given, and a group came since
            with pytest.raises(RuntimeError, match="min_lrs"):
                ts.step(2.0)
            with pytest.raises(ValueError, match="min_lrs"):
                gs.step(2.0)
            continue
        for m in (2.0, 3.0, 0.5, 0.7):
            gs.step(m)
            ts.step(m)
            assert gs.get_last_lr() == ts.get_last_lr() and gs.min_lrs == ts.min_lrs


def test_new_scheduler_arguments_torch_refuses_are_refused(backend):
    """Where PyTorch refuses an argument (with ValueError), so does gdl."""
    for kw in (dict(start_factor=0.0), dict(start_factor=1.5), dict(end_factor=-0.1), dict(end_factor=1.01)):
        with pytest.raises(ValueError):
            torch.optim.lr_scheduler.LinearLR(two_group_sgd(torch, (0.1, 0.1)), **kw)
        with pytest.raises(ValueError, match="LinearLR"):
            sch.LinearLR(two_group_sgd(gdl, (0.1, 0.1)), **kw)
    for kw in (dict(factor=1.0), dict(mode="avg"), dict(threshold_mode="x"), dict(min_lr=[0.1])):
        with pytest.raises(ValueError):
            torch.optim.lr_scheduler.ReduceLROnPlateau(two_group_sgd(torch, (0.1, 0.1)), **kw)
        with pytest.raises(ValueError, match="ReduceLROnPlateau"):
            sch.ReduceLROnPlateau(two_group_sgd(gdl, (0.1, 0.1)), **kw)
