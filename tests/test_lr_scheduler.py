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


@pytest.mark.parametrize("name", SCHEDULES)
def test_resume(name):
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
        "LambdaLR-list": lambda o: torch.optim.lr_scheduler.LambdaLR(o, [warmup, decay]),
    }[name]
    s = make(opt)
    for e in range(EPOCHS):
        assert s.get_last_lr() == lrs[e], e
        opt.step()
        s.step()
