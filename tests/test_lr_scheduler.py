"""Learning-rate schedulers against their closed forms (and PyTorch, when installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.optim
from gdl.nn.parameter import Parameter
from gdl.optim import lr_scheduler as sch

EPOCHS = 25
BASE = (0.1, 0.03)


def make_opt(cls=gdl.optim.SGD, **kw):
    a, b = Parameter(gdl.zeros(2)), Parameter(gdl.zeros(3))
    return cls([{"params": [a]}, {"params": [b], "lr": BASE[1]}], lr=BASE[0], **kw)


def warmup(e):
    return min(1.0, (e + 1) / 5)


def decay(e):
    return 0.9**e


SCHEDULES = {
    "StepLR": (lambda o: sch.StepLR(o, step_size=3, gamma=0.5), lambda base, e: base * 0.5 ** (e // 3)),
    "StepLR-default-gamma": (lambda o: sch.StepLR(o, 7), lambda base, e: base * 0.1 ** (e // 7)),
    "ExponentialLR": (lambda o: sch.ExponentialLR(o, gamma=0.9), lambda base, e: base * 0.9**e),
    "CosineAnnealingLR": (
        lambda o: sch.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        lambda base, e: 0.001 + (base - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2,
    ),
    "CosineAnnealingLR-eta0": (
        lambda o: sch.CosineAnnealingLR(o, T_max=7),
        lambda base, e: base * (1 + math.cos(math.pi * e / 7)) / 2,
    ),
    "LambdaLR": (lambda o: sch.LambdaLR(o, warmup), lambda base, e: base * warmup(e)),
    "MultiStepLR": (
        lambda o: sch.MultiStepLR(o, milestones=[7, 3, 12, 7], gamma=0.5),  # 7 twice: two cuts at once
        lambda base, e: base * 0.5 ** sum(m <= e for m in (3, 7, 7, 12)),
    ),
    "LinearLR": (
        lambda o: sch.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=8),
        lambda base, e: base * (0.25 + 0.5 * min(e, 8) / 8),
    ),
    "LinearLR-defaults": (lambda o: sch.LinearLR(o), lambda base, e: base * (1 / 3 + (2 / 3) * min(e, 5) / 5)),
    "LambdaLR-list": (
        lambda o: sch.LambdaLR(o, [warmup, decay]),
        None,  # per-group lambdas: checked below
    ),
}


def closed(name, gi, e):
    if name == "LambdaLR-list":
        return BASE[gi] * (warmup, decay)[gi](e)
    return SCHEDULES[name][1](BASE[gi], e)


def run(name, epochs=EPOCHS):
    opt = make_opt()
    s = SCHEDULES[name][0](opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(s.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
        opt.step()
        s.step()
    return s, lrs


@pytest.mark.parametrize("name", SCHEDULES)
def test_closed_form(name):
    s, lrs = run(name)
    for e, got in enumerate(lrs):
        for gi in range(2):
            assert got[gi] == pytest.approx(closed(name, gi, e), rel=1e-12, abs=1e-15), (e, gi)
    assert s.last_epoch == EPOCHS
    assert s.base_lrs == list(BASE)
    assert [g["initial_lr"] for g in s.optimizer.param_groups] == list(BASE)


# LinearLR scales the lr at creation (epoch 0), so it must be created before the optimizer's state
# is loaded (PyTorch's documented order); the others may be created either way round.
RESUME_ORDERS = [(n, True) for n in SCHEDULES] + [(n, False) for n in SCHEDULES if not n.startswith("LinearLR")]


@pytest.mark.parametrize("name,scheduler_first", RESUME_ORDERS)
def test_resume(name, scheduler_first):
    """Save optimizer + scheduler after 8 epochs, rebuild both, load, continue: same lrs."""
    _, want = run(name)
    opt = make_opt()
    s = SCHEDULES[name][0](opt)
    for _ in range(8):
        s.step()
    opt_sd, s_sd = opt.state_dict(), s.state_dict()
    assert "optimizer" not in s_sd and "lr_lambdas" not in s_sd
    for _ in range(3):
        s.step()  # the saved dicts must not follow
    opt2 = make_opt(momentum=0.0)
    opt2.param_groups[0]["lr"] = 5.0  # overwritten by load_state_dict
    if scheduler_first:
        s2 = SCHEDULES[name][0](opt2)
        opt2.load_state_dict(opt_sd)
    else:
        opt2.load_state_dict(opt_sd)
        s2 = SCHEDULES[name][0](opt2)
    s2.load_state_dict(s_sd)
    assert s2.last_epoch == 8 and s2.get_last_lr() == want[8]
    got = []
    for _ in range(8, EPOCHS):
        got.append(s2.get_last_lr())
        s2.step()
    assert got == want[8:]


def test_last_epoch_resume_without_initial_lr():
    opt = make_opt()
    with pytest.raises(KeyError, match="initial_lr"):
        sch.StepLR(opt, step_size=2, last_epoch=4)
    sch.StepLR(opt, step_size=2)
    opt.param_groups[0]["lr"] = 0.07  # where a resumed run left it
    s = sch.CosineAnnealingLR(opt, T_max=10, last_epoch=4)  # initial_lr now present: resumes at epoch 5
    assert s.last_epoch == 5
    assert s.get_last_lr()[0] == 0.07  # the lr it found (PyTorch >= 2.8), annealed from there on
    s.step()
    ratio = (1 + math.cos(math.pi * 6 / 10)) / (1 + math.cos(math.pi * 5 / 10))
    assert s.get_last_lr()[0] == pytest.approx(0.07 * ratio)


def test_drives_the_optimizer(backend):
    w = Parameter(gdl.ones(2, dtype=gdl.float64))
    opt = gdl.optim.SGD([w], lr=1.0)
    s = sch.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        w.grad = gdl.ones(2, dtype=gdl.float64)
        opt.step()
        s.step()
    np.testing.assert_allclose(w.numpy(), 1 - (1 + 0.5 + 0.25))
    assert s.get_last_lr() == [0.125]


def test_bad_arguments():
    opt = make_opt()
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        sch.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma must be >= 0, got -0.5"):
        sch.ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(ValueError, match="T_max must be a positive int, got 2.5"):
        sch.CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        sch.LambdaLR(opt, [warmup])
    with pytest.raises(TypeError, match="callable"):
        sch.LambdaLR(opt, 0.5)
    with pytest.raises(TypeError, match="Optimizer"):
        sch.StepLR(object(), step_size=1)
    s = sch.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="base_lrs has 1 entries.*2 parameter group"):
        s.load_state_dict({"base_lrs": [0.1], "last_epoch": 3})


def test_lambda_state_dict_ignores_functions():
    s = sch.LambdaLR(make_opt(), warmup)
    s.step()
    sd = s.state_dict()
    assert "lr_lambdas" not in sd and sd["last_epoch"] == 1
    s2 = sch.LambdaLR(make_opt(), warmup)
    s2.load_state_dict(dict(sd, lr_lambdas=[None, None]))  # a PyTorch-style dict loads too
    assert s2.last_epoch == 1 and s2.lr_lambdas == [warmup, warmup]


@pytest.mark.parametrize("name", SCHEDULES)
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    _, lrs = run(name)
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": BASE[1]}], lr=BASE[0])
    make = {
        "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        "StepLR-default-gamma": lambda o: torch.optim.lr_scheduler.StepLR(o, 7),
        "ExponentialLR": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
        "CosineAnnealingLR": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        "CosineAnnealingLR-eta0": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7),
        "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(o, warmup),
        "MultiStepLR": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[7, 3, 12, 7], gamma=0.5),
        "LinearLR": lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=8),
        "LinearLR-defaults": lambda o: torch.optim.lr_scheduler.LinearLR(o),
        "LambdaLR-list": lambda o: torch.optim.lr_scheduler.LambdaLR(o, [warmup, decay]),
    }[name]
    s = make(opt)
    for e in range(EPOCHS):
        assert s.get_last_lr() == lrs[e], e
        opt.step()
        s.step()


def test_multistep_and_linear_resume_with_last_epoch():
    """MultiStepLR resumed at last_epoch=k sets the lr of epoch k + 1 (a milestone there cuts it);
    LinearLR keeps the lr it finds, then continues its ramp from it."""
    opt = make_opt()
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    s = sch.MultiStepLR(opt, milestones=[4, 6], gamma=0.5, last_epoch=3)
    assert s.last_epoch == 4 and s.get_last_lr() == [BASE[0] * 0.5, BASE[1] * 0.5]
    s.step()
    s.step()
    assert s.last_epoch == 6 and s.get_last_lr() == pytest.approx([BASE[0] * 0.25, BASE[1] * 0.25])
    opt = make_opt()
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    opt.param_groups[0]["lr"] = 0.05  # where the resumed run left it
    s = sch.LinearLR(opt, start_factor=0.5, total_iters=4, last_epoch=1)
    assert s.last_epoch == 2 and s.get_last_lr() == [0.05, BASE[1]]
    s.step()  # epoch 3: factor 0.875 / 0.75 of epoch 2's
    assert s.get_last_lr()[0] == pytest.approx(0.05 * 0.875 / 0.75, rel=1e-12)
    s.step()
    s.step()  # past total_iters: unchanged
    assert s.get_last_lr()[0] == pytest.approx(0.05 / 0.75, rel=1e-12)


def test_multistep_state_dict_keeps_a_counter():
    s = sch.MultiStepLR(make_opt(), milestones=[2, 2, 5])
    sd = s.state_dict()
    s2 = sch.MultiStepLR(make_opt(), milestones=[1])
    s2.load_state_dict(dict(sd, milestones={2: 2, 5: 1}))  # as a checkpoint gives it back
    assert s2.milestones == {2: 2, 5: 1} and type(s2.milestones).__name__ == "Counter"
    s2.step()
    s2.step()
    assert s2.get_last_lr()[0] == pytest.approx(BASE[0] * 0.01)


def test_new_schedulers_bad_arguments():
    opt = make_opt()
    with pytest.raises(ValueError, match="MultiStepLR: milestones must be ints"):
        sch.MultiStepLR(opt, milestones=[2.5])
    with pytest.raises(ValueError, match="MultiStepLR: gamma must be >= 0"):
        sch.MultiStepLR(opt, milestones=[2], gamma=-1)
    with pytest.raises(ValueError, match=r"LinearLR: start_factor must be in \(0, 1\], got 0"):
        sch.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match=r"LinearLR: end_factor must be in \[0, 1\], got 1.5"):
        sch.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="LinearLR: total_iters must be a positive int, got 0"):
        sch.LinearLR(opt, total_iters=0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be < 1, got 1.0"):
        sch.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode must be 'min' or 'max', got 'avg'"):
        sch.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs'"):
        sch.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="ReduceLROnPlateau: patience must be an int >= 0, got -1"):
        sch.ReduceLROnPlateau(opt, patience=-1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: cooldown must be an int >= 0"):
        sch.ReduceLROnPlateau(opt, cooldown=1.5)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: expected 2 min_lrs \(one per parameter group\), got 1"):
        sch.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="ReduceLROnPlateau: min_lr must be >= 0"):
        sch.ReduceLROnPlateau(opt, min_lr=[0.1, -1.0])
    with pytest.raises(TypeError, match="Optimizer"):
        sch.ReduceLROnPlateau(object())


def _plateau(metrics, **kw):
    opt = make_opt()
    s = sch.ReduceLROnPlateau(opt, **kw)
    assert s.get_last_lr() == list(BASE) and s.last_epoch == 0
    lrs = []
    for m in metrics:
        s.step(m)
        lrs.append(s.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return s, lrs


def test_reduce_lr_on_plateau_by_hand():
    """patience 2 and cooldown 1, worked out by hand: the third epoch in a row without a new best
    cuts the lr; the epoch after a cut is not counted. Group 1 stops at its min_lr (0.02)."""
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4, 3]
    s, lrs = _plateau(metrics, factor=0.5, patience=2, threshold=0.0, cooldown=1, min_lr=[0.0, 0.02])
    assert [lr[0] for lr in lrs] == [0.1] * 4 + [0.05] * 4 + [0.025] * 2
    assert [lr[1] for lr in lrs] == [0.03] * 4 + [0.02] * 6
    assert s.best == 3 and s.num_bad_epochs == 0 and s.cooldown_counter == 0 and s.last_epoch == 10


@pytest.mark.parametrize("mode,threshold_mode,metrics,cuts", [
    ("max", "rel", [1.0, 1.05, 1.2, 1.25], [False, True, False, True]),  # better means > best·1.1
    ("min", "abs", [10.0, 9.6, 9.4, 9.0], [False, True, False, True]),  # better means < best - 0.5
    ("min", "rel", [10.0, 9.5, 8.9, 8.85], [False, True, False, True]),  # better means < best·0.9
    ("max", "abs", [-3.0, -2.6, -2.4, -2.0], [False, True, False, True]),  # better means > best + 0.5
])
def test_reduce_lr_on_plateau_thresholds(mode, threshold_mode, metrics, cuts):
    threshold = 0.1 if threshold_mode == "rel" else 0.5
    _, lrs = _plateau(metrics, mode=mode, threshold=threshold, threshold_mode=threshold_mode, patience=0, factor=0.5)
    want, lr = [], BASE[0]
    for cut in cuts:
        lr = lr * 0.5 if cut else lr
        want.append(lr)
    assert [x[0] for x in lrs] == want


def test_reduce_lr_on_plateau_eps_nan_tensor_metric_and_state_dict(backend):
    opt = make_opt()
    opt.param_groups[0]["lr"] = 1e-9
    s = sch.ReduceLROnPlateau(opt, patience=0, factor=0.1)
    s.step(gdl.tensor(1.0))  # a one-element tensor is a metric too
    s.step(float("nan"))  # never better: a bad epoch
    assert s.num_bad_epochs == 0 and s.get_last_lr() == [1e-9, BASE[1] * 0.1]  # 1e-9 - 1e-10 <= eps
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["mode_worse"] == math.inf and sd["best"] == 1.0
    s2 = sch.ReduceLROnPlateau(make_opt(), mode="max")
    s2.load_state_dict(sd)
    assert s2.mode == "min" and s2.mode_worse == math.inf and s2.best == 1.0 and s2.last_epoch == 2
    with pytest.raises(ValueError, match="_last_lr has 1 entries"):
        s2.load_state_dict(dict(sd, _last_lr=[0.1]))


def test_reduce_lr_on_plateau_with_an_added_param_group():
    opt = make_opt()
    s = sch.ReduceLROnPlateau(opt, patience=0, factor=0.5, min_lr=0.01)
    opt.add_param_group({"params": [Parameter(gdl.zeros(1))], "lr": 0.5})
    s.step(1.0)
    s.step(2.0)
    assert s.get_last_lr() == [0.05, 0.015, 0.25] and s.min_lrs == [0.01] * 3
    opt = make_opt()
    s = sch.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [Parameter(gdl.zeros(1))], "lr": 0.5})
    s.step(1.0)
    with pytest.raises(ValueError, match="3 parameter groups but min_lrs has 2 entries"):
        s.step(2.0)


def test_reduce_lr_on_plateau_matches_torch_by_hand():
    torch = pytest.importorskip("torch")
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4, 3]
    _, lrs = _plateau(metrics, factor=0.5, patience=2, threshold=0.0, cooldown=1, min_lr=[0.0, 0.02])
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": BASE[1]}], lr=BASE[0])
    s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.0, cooldown=1,
                                                   min_lr=[0.0, 0.02])
    for m, want in zip(metrics, lrs):
        s.step(m)
        assert s.get_last_lr() == want
