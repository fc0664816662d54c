"""NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD and the extra schedules against PyTorch, side by side.

Same starting weights and the same gradients (float64) in both libraries, 20-50 steps, two
parameter groups, a state-dict round trip mid-run through PyTorch's optimizer and back; the
schedules epoch by epoch (lr and cycled momentum), started fresh or resumed, with a scheduler
state dict from either library loaded into gdl.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close  # noqa: E402

import gdl  # noqa: E402
import gdl.optim  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402
from gdl.optim import lr_scheduler as S  # noqa: E402

TS = torch.optim.lr_scheduler
# PyTorch's own order check misfires for schedulers stepped through a composite (gdl has no such check)
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")


@pytest.fixture(autouse=True)
def torch_float64_default():
    """PyTorch keeps NAdam's ``mu_product`` and ASGD's ``eta``/``mu`` in its *default* dtype (float32
    unless changed), whatever the parameter's dtype; gdl keeps them in the parameter's dtype, so a
    float64 model gets float64 scalars (a deliberate difference: float32 there costs float64 training
    ~1e-8 relative per step). With PyTorch's default dtype float64 the two are the same computation."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


# -- optimizers ---------------------------------------------------------------------------------------------

SHAPES = [(3, 4), (5,), ()]
_LR = st.sampled_from([1e-3, 0.01, 0.1])
_WD = st.sampled_from([0.0, 0.0, 0.01, 0.2])
_BETAS = st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.5, 0.9, 0.999]))


@st.composite
def optimizer_configs(draw):
    name = draw(st.sampled_from(["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD"]))
    if name == "NAdam":
        kw = dict(lr=draw(_LR), betas=draw(_BETAS), eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(_WD),
                  momentum_decay=draw(st.sampled_from([4e-3, 0.0, 0.1])),
                  decoupled_weight_decay=draw(st.booleans()))
    elif name == "RAdam":
        kw = dict(lr=draw(_LR), betas=draw(_BETAS), eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(_WD),
                  decoupled_weight_decay=draw(st.booleans()))
    elif name == "Adamax":
        kw = dict(lr=draw(_LR), betas=draw(_BETAS), eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(_WD))
    elif name == "Adadelta":
        kw = dict(lr=draw(st.sampled_from([1.0, 0.5])), rho=draw(st.sampled_from([0.9, 0.5, 0.0, 1.0])),
                  eps=draw(st.sampled_from([1e-6, 1e-3])), weight_decay=draw(_WD))
    elif name == "Rprop":
        kw = dict(lr=draw(_LR), etas=draw(st.sampled_from([(0.5, 1.2), (0.3, 2.0)])),
                  step_sizes=draw(st.sampled_from([(1e-6, 50), (0.005, 0.05)])))
    else:
        kw = dict(lr=draw(_LR), lambd=draw(st.sampled_from([1e-4, 0.1])), alpha=draw(st.sampled_from([0.75, 0.5])),
                  t0=draw(st.sampled_from([1e6, 0.0, 5.0])), weight_decay=draw(_WD))
    steps = draw(st.integers(20, 40))
    return dict(name=name, kw=kw, second_lr=draw(st.one_of(st.none(), _LR)), steps=steps,
                resume_at=draw(st.integers(1, steps - 1)), seed=draw(st.integers(0, 2**16)))


def _groups(params, second_lr):
    if second_lr is None:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": second_lr}]


def _torch_state(sd):
    """A gdl optimizer state dict as PyTorch's: tensors as torch tensors, the step as a float tensor."""
    state = {i: {k: torch.tensor(float(v)) if k == "step" else torch.tensor(np.asarray(v.numpy()))
                 for k, v in st_.items()} for i, st_ in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


def _gdl_state(sd):
    """A PyTorch optimizer state dict as gdl takes it: the step as a number, buffers (0-d ones included) as
    NumPy arrays; PyTorch's implementation switches (foreach, maximize, capturable, differentiable) are
    dropped. (A buffer given as a Python float would be read as float32 first by the base class.)"""
    state = {i: {k: v.item() if k == "step" else v.numpy() for k, v in st_.items()} for i, st_ in sd["state"].items()}
    skip = {"foreach", "maximize", "capturable", "differentiable"}
    return {"state": state, "param_groups": [{k: v for k, v in g.items() if k not in skip} for g in sd["param_groups"]]}


@SETTINGS(30)
@given(cfg=optimizer_configs())
def test_optimizer_trajectories_match_torch(backend, cfg):
    name, kw = cfg["name"], cfg["kw"]
    rng = np.random.default_rng(cfg["seed"])
    start = [rng.standard_normal(s) for s in SHAPES]
    ours = [Parameter(gdl.tensor(a, dtype=gdl.float64)) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    gopt = getattr(gdl.optim, name)(_groups(ours, cfg["second_lr"]), **kw)
    topt = getattr(torch.optim, name)(_groups(theirs, cfg["second_lr"]), **kw)
    for step in range(cfg["steps"]):
        if step == cfg["resume_at"]:  # gdl -> PyTorch -> gdl, into fresh optimizers
            sd = gopt.state_dict()
            probe = getattr(torch.optim, name)(_groups(theirs, cfg["second_lr"]), **kw)
            probe.load_state_dict(_torch_state(sd))
            gopt = getattr(gdl.optim, name)(_groups(ours, cfg["second_lr"]), **kw)
            gopt.load_state_dict(_gdl_state(probe.state_dict()))
            for i, st_ in sd["state"].items():
                assert set(st_) == set(topt.state_dict()["state"][i])  # PyTorch's state names
                for k, v in st_.items():
                    close(gopt.state_dict()["state"][i][k], v if k == "step" else v.numpy(), k)
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            g = rng.standard_normal(SHAPES[i]) + (0.3 if step % 4 else 0.0)
            if i == 1 and step % 5 == 2:  # no gradient this step: skipped, state kept
                p.grad, tp.grad = None, None
            else:
                p.grad, tp.grad = gdl.tensor(g, dtype=gdl.float64), torch.tensor(g)
        gopt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            close(p, tp, f"{name} parameter {i} after step {step}", rtol=1e-9, atol=1e-12)
    tsd = topt.state_dict()
    for i, st_ in gopt.state_dict()["state"].items():
        for k, v in st_.items():
            if k == "step":
                assert v == tsd["state"][i][k].item()
            else:
                close(v, tsd["state"][i][k], f"state {k} of parameter {i}", rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD"])
def test_defaults_and_float32_match_torch(name):
    """Default hyperparameters, float32 parameters (and PyTorch's usual float32 default dtype)."""
    torch.set_default_dtype(torch.float32)
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3)).astype(np.float32)
    p, tp = Parameter(gdl.tensor(start)), torch.tensor(start, requires_grad=True)
    gopt, topt = getattr(gdl.optim, name)([p]), getattr(torch.optim, name)([tp])
    assert {k: v for k, v in gopt.param_groups[0].items() if k != "params"} == {
        k: v for k, v in topt.param_groups[0].items()
        if k not in ("params", "foreach", "capturable", "differentiable")}
    for _ in range(25):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        p.grad, tp.grad = gdl.tensor(g), torch.tensor(g)
        gopt.step()
        topt.step()
    assert p.dtype == gdl.float32
    close(p, tp, name, rtol=2e-5, atol=1e-6)


# -- schedules ----------------------------------------------------------------------------------------------


def _opt(lib, kind, lrs):
    if lib is gdl:
        a, b = Parameter(gdl.zeros(2)), Parameter(gdl.zeros(3))
    else:
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": lrs[1]}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.99))
    return lib.optim.SGD(groups, lr=lrs[0], momentum=0.9 if kind == "SGDm" else 0.0)


def _lambda_a(e):
    return 0.95


def _lambda_b(e):
    return 1.0 / (1 + 0.1 * e)


@st.composite
def schedule_configs(draw):
    name = draw(st.sampled_from(["OneCycleLR", "CosineAnnealingWarmRestarts", "ConstantLR", "PolynomialLR",
                                 "MultiplicativeLR", "CyclicLR", "SequentialLR", "ChainedScheduler"]))
    kind = draw(st.sampled_from(["SGD", "SGDm", "Adam"]))
    epochs = draw(st.integers(20, 50))
    if name == "OneCycleLR":
        kind = draw(st.sampled_from(["SGDm", "Adam"]))
        kw = dict(max_lr=draw(st.sampled_from([1.0, [0.5, 0.2]])), total_steps=epochs + draw(st.integers(0, 5)),
                  pct_start=draw(st.sampled_from([0.3, 0.1, 0.5, 0.0])),
                  anneal_strategy=draw(st.sampled_from(["cos", "linear"])), three_phase=draw(st.booleans()),
                  div_factor=draw(st.sampled_from([25.0, 4.0])), final_div_factor=draw(st.sampled_from([1e4, 10.0])),
                  cycle_momentum=draw(st.booleans()))
        if kw["three_phase"] and kw["pct_start"] > 0.45:
            kw["pct_start"] = 0.3  # PyTorch's phases then overlap (2 * pct_start > 1)
    elif name == "CosineAnnealingWarmRestarts":
        kw = dict(T_0=draw(st.integers(1, 8)), T_mult=draw(st.integers(1, 3)),
                  eta_min=draw(st.sampled_from([0.0, 1e-3])))
    elif name == "ConstantLR":
        kw = draw(st.one_of(st.just({}), st.fixed_dictionaries(dict(
            factor=st.sampled_from([0.1, 0.5, 1.0, 1 / 3]), total_iters=st.integers(0, 30)))))
    elif name == "PolynomialLR":
        kw = draw(st.one_of(st.just({}), st.fixed_dictionaries(dict(
            total_iters=st.integers(1, 30), power=st.sampled_from([1.0, 0.5, 2.0, 0.9])))))
    elif name == "MultiplicativeLR":
        kw = dict(lr_lambda=draw(st.sampled_from([_lambda_a, _lambda_b, [_lambda_a, _lambda_b]])))
    elif name == "CyclicLR":
        kind = draw(st.sampled_from(["SGD", "SGDm", "Adam"]))
        kw = dict(base_lr=draw(st.sampled_from([0.01, [0.01, 0.001]])), max_lr=draw(st.sampled_from([0.1, [0.2, 0.05]])),
                  step_size_up=draw(st.integers(1, 8)), step_size_down=draw(st.one_of(st.none(), st.integers(1, 8))),
                  mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                  gamma=draw(st.sampled_from([1.0, 0.9])), cycle_momentum=kind != "SGD")
    elif name == "SequentialLR":
        kw = dict(parts=draw(st.lists(st.sampled_from(["ConstantLR", "LinearLR", "ExponentialLR", "StepLR",
                                                       "MultiStepLR", "CosineAnnealingLR", "PolynomialLR",
                                                       "CosineAnnealingWarmRestarts", "LambdaLR"]),
                                      min_size=1, max_size=3)))
        kw["milestones"] = sorted(draw(st.lists(st.integers(1, 40), min_size=len(kw["parts"]) - 1,
                                                max_size=len(kw["parts"]) - 1, unique=True)))
    else:
        kw = dict(parts=draw(st.lists(st.sampled_from(["ConstantLR", "LinearLR", "ExponentialLR", "StepLR",
                                                       "MultiStepLR", "PolynomialLR", "MultiplicativeLR"]),
                                      min_size=1, max_size=3)))
    resume = draw(st.one_of(st.none(), st.integers(0, epochs - 1)))
    return dict(name=name, kind=kind, kw=kw, epochs=epochs, lrs=(draw(st.sampled_from([0.1, 0.05])), 0.03),
                resume=resume, via_torch=draw(st.booleans()))


def _part(module, name, opt):
    return {
        "ConstantLR": lambda: module.ConstantLR(opt, factor=0.5, total_iters=4),
        "LinearLR": lambda: module.LinearLR(opt, start_factor=0.2, total_iters=5),
        "ExponentialLR": lambda: module.ExponentialLR(opt, gamma=0.9),
        "StepLR": lambda: module.StepLR(opt, step_size=3, gamma=0.5),
        "MultiStepLR": lambda: module.MultiStepLR(opt, milestones=[2, 6, 6], gamma=0.5),
        "CosineAnnealingLR": lambda: module.CosineAnnealingLR(opt, T_max=7, eta_min=1e-3),
        "PolynomialLR": lambda: module.PolynomialLR(opt, total_iters=10, power=2.0),
        "CosineAnnealingWarmRestarts": lambda: module.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2),
        "LambdaLR": lambda: module.LambdaLR(opt, _lambda_b),
        "MultiplicativeLR": lambda: module.MultiplicativeLR(opt, _lambda_a),
    }[name]()


def _sched(lib, cfg, opt):
    module = S if lib is gdl else TS
    kw = dict(cfg["kw"])
    if cfg["name"] == "SequentialLR":
        parts = [_part(module, n, opt) for n in kw["parts"]]
        return module.SequentialLR(opt, parts, milestones=kw["milestones"])
    if cfg["name"] == "ChainedScheduler":
        return module.ChainedScheduler([_part(module, n, opt) for n in kw["parts"]])
    return getattr(module, cfg["name"])(opt, **kw)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _plain(sd):
    """A PyTorch scheduler state dict as gdl takes it (its only non-plain values are tensors, here none)."""
    return {k: [_plain(s) for s in v] if k == "_schedulers" else v for k, v in sd.items()}


@SETTINGS(120)
@given(cfg=schedule_configs())
def test_lr_schedules_match_torch(cfg):
    gopt, topt = _opt(gdl, cfg["kind"], cfg["lrs"]), _opt(torch, cfg["kind"], cfg["lrs"])
    gs, ts = _sched(gdl, cfg, gopt), _sched(torch, cfg, topt)
    for epoch in range(cfg["epochs"]):
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15, err_msg=str(epoch))
        np.testing.assert_allclose([g["lr"] for g in gopt.param_groups], [g["lr"] for g in topt.param_groups],
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(_momenta(gopt), _momenta(topt), rtol=1e-12)
        if hasattr(ts, "last_epoch"):
            assert gs.last_epoch == ts.last_epoch
        if epoch == cfg["resume"]:  # PyTorch's documented order: scheduler, optimizer state, scheduler state
            sd = _plain(ts.state_dict()) if cfg["via_torch"] else gs.state_dict()
            osd = gopt.state_dict()
            gopt = _opt(gdl, cfg["kind"], (1.0, 1.0))
            gs = _sched(gdl, cfg, gopt)
            gopt.load_state_dict(osd)
            gs.load_state_dict(sd)
        gopt.step()
        topt.step()
        gs.step()
        ts.step()


@SETTINGS(40)
@given(T_0=st.integers(1, 6), T_mult=st.integers(1, 3), eta_min=st.sampled_from([0.0, 1e-3]),
       epochs=st.lists(st.one_of(st.none(), st.floats(0, 60, allow_nan=False)), min_size=5, max_size=40))
def test_warm_restarts_with_fractional_epochs_match_torch(T_0, T_mult, eta_min, epochs):
    """``step(epoch)`` with fractional (and out-of-order) epochs interleaved with plain ``step()``."""
    gopt, topt = _opt(gdl, "SGD", (0.1, 0.03)), _opt(torch, "SGD", (0.1, 0.03))
    gs = S.CosineAnnealingWarmRestarts(gopt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    ts = TS.CosineAnnealingWarmRestarts(topt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    for e in epochs:
        gopt.step()
        topt.step()
        gs.step(e)
        ts.step(e)
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15)
        assert (gs.last_epoch, gs.T_i) == (ts.last_epoch, ts.T_i)
        assert gs.T_cur == pytest.approx(ts.T_cur, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["OneCycleLR", "CosineAnnealingWarmRestarts", "ConstantLR", "PolynomialLR",
                                  "MultiplicativeLR", "CyclicLR"])
@pytest.mark.parametrize("start", [0, 3, 10])
def test_resume_with_last_epoch_matches_torch(name, start):
    """Constructed with ``last_epoch=start`` over groups that already hold ``initial_lr`` (and a
    OneCycleLR's/CyclicLR's limits): the same lr (and momentum) sequence as PyTorch's."""
    kw = dict(
        OneCycleLR=dict(max_lr=1.0, total_steps=40), CosineAnnealingWarmRestarts=dict(T_0=3, T_mult=2),
        ConstantLR=dict(factor=0.5, total_iters=6), PolynomialLR=dict(total_iters=12, power=0.5),
        MultiplicativeLR=dict(lr_lambda=_lambda_b), CyclicLR=dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
    )[name]
    gopt, topt = _opt(gdl, "SGDm", (0.1, 0.03)), _opt(torch, "SGDm", (0.1, 0.03))
    for lib, opt in ((gdl, gopt), (torch, topt)):  # what a first run leaves in the groups
        first = getattr(S if lib is gdl else TS, name)(opt, **kw)
        for _ in range(start):
            opt.step()
            first.step()
    gs = getattr(S, name)(gopt, **kw, last_epoch=start)
    ts = getattr(TS, name)(topt, **kw, last_epoch=start)
    for _ in range(20):
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(_momenta(gopt), _momenta(topt), rtol=1e-12)
        gopt.step()
        topt.step()
        gs.step()
        ts.step()


@pytest.mark.parametrize("first", ["ChainedScheduler", "SequentialLR"])
def test_nested_composites_match_torch(first):
    """A ChainedScheduler as a SequentialLR's first scheduler, and a SequentialLR inside a ChainedScheduler."""
    gopt, topt = _opt(gdl, "SGD", (0.1, 0.03)), _opt(torch, "SGD", (0.1, 0.03))

    def build(module, opt):
        if first == "ChainedScheduler":
            chain = module.ChainedScheduler([module.ConstantLR(opt, factor=0.5, total_iters=3),
                                             module.ExponentialLR(opt, gamma=0.9)])
            return module.SequentialLR(opt, [chain, module.StepLR(opt, step_size=2)], milestones=[6])
        seq = module.SequentialLR(opt, [module.LinearLR(opt, 0.1, total_iters=4), module.ExponentialLR(opt, 0.8)],
                                  milestones=[5])
        return module.ChainedScheduler([seq, module.MultiplicativeLR(opt, _lambda_b)])

    gs, ts = build(S, gopt), build(TS, topt)
    for epoch in range(25):
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15, err_msg=str(epoch))
        gopt.step()
        topt.step()
        gs.step()
        ts.step()


def test_chained_scheduler_after_a_milestone_deliberately_differs():
    """PyTorch accepts a ChainedScheduler after the first SequentialLR slot and then fails at the milestone
    with a bare NotImplementedError (ChainedScheduler has no get_lr); gdl refuses it when the SequentialLR
    is built, with a ValueError that says what to do instead."""
    topt = _opt(torch, "SGD", (0.1, 0.03))
    ts = TS.SequentialLR(topt, [TS.ConstantLR(topt), TS.ChainedScheduler([TS.ExponentialLR(topt, 0.9)])],
                         milestones=[2])
    with pytest.raises(NotImplementedError):
        for _ in range(3):
            topt.step()
            ts.step()
    gopt = _opt(gdl, "SGD", (0.1, 0.03))
    with pytest.raises(ValueError, match="ChainedScheduler"):
        S.SequentialLR(gopt, [S.ConstantLR(gopt), S.ChainedScheduler([S.ExponentialLR(gopt, 0.9)])], milestones=[2])


def test_closed_forms_match_torch():
    """``step(epoch)`` (deprecated in PyTorch, still used by SequentialLR) takes each schedule's closed form."""
    builders = [
        lambda m, o: m.StepLR(o, step_size=3, gamma=0.5), lambda m, o: m.MultiStepLR(o, [2, 5, 5], gamma=0.5),
        lambda m, o: m.ExponentialLR(o, gamma=0.9), lambda m, o: m.CosineAnnealingLR(o, T_max=6, eta_min=1e-3),
        lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=5), lambda m, o: m.ConstantLR(o, total_iters=4),
        lambda m, o: m.PolynomialLR(o, total_iters=8, power=1.5),
    ]
    import warnings

    for build in builders:
        gopt, topt = _opt(gdl, "SGD", (0.1, 0.03)), _opt(torch, "SGD", (0.1, 0.03))
        gs, ts = build(S, gopt), build(TS, topt)
        for e in [3, 7, 0, 12, 5, 5, 1]:
            gs.step(e)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ts.step(e)
            np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15,
                                       err_msg=f"{type(gs).__name__} at {e}")
