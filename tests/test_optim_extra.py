"""NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD and the extra learning-rate schedules.

Optimizers are checked against float64 references written here in plain NumPy from
the published update rules (the algorithm boxes of PyTorch's documentation), not
from gdl's code; schedules against closed forms computed by hand. PyTorch itself is
compared in ``test_torch_crosscheck_optim_extra.py`` (skipped where it is absent).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.io
import gdl.optim
from gdl import nn
from gdl.nn.parameter import Parameter
from gdl.optim import lr_scheduler as S

SHAPES = [(3, 4), (5,), ()]

# -- float64 references (one parameter, NumPy) ------------------------------------------------------


class RefNAdam:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.psi, self.decoupled = momentum_decay, decoupled_weight_decay
        self.t, self.m, self.v, self.prod = 0, 0.0, 0.0, 1.0

    def __call__(self, theta, g):
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        if self.wd and self.decoupled:
            theta = theta * (1 - self.lr * self.wd)
        elif self.wd:
            g = g + self.wd * theta
        mu = b1 * (1 - 0.5 * 0.96 ** (t * self.psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.psi))
        self.prod *= mu
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        denom = np.sqrt(self.v / (1 - b2**t)) + self.eps
        return (theta - self.lr * (1 - mu) / (1 - self.prod) * g / denom
                - self.lr * mu_next / (1 - self.prod * mu_next) * self.m / denom)


class RefRAdam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.decoupled = decoupled_weight_decay
        self.t, self.m, self.v = 0, 0.0, 0.0

    def __call__(self, theta, g):
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        if self.wd and self.decoupled:
            theta = theta * (1 - self.lr * self.wd)
        elif self.wd:
            g = g + self.wd * theta
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        m_hat = self.m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            l_t = math.sqrt(1 - b2**t) / (np.sqrt(self.v) + self.eps)
            return theta - self.lr * m_hat * r * l_t
        return theta - self.lr * m_hat


class RefAdamax:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.t, self.m, self.u = 0, 0.0, 0.0

    def __call__(self, theta, g):
        self.t += 1
        if self.wd:
            g = g + self.wd * theta
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.u = np.maximum(self.b2 * self.u, np.abs(g) + self.eps)
        return theta - self.lr / (1 - self.b1**self.t) * self.m / self.u


class RefAdadelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr, self.rho, self.eps, self.wd = lr, rho, eps, weight_decay
        self.v, self.u = 0.0, 0.0

    def __call__(self, theta, g):
        if self.wd:
            g = g + self.wd * theta
        self.v = self.rho * self.v + (1 - self.rho) * g * g
        delta = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps) * g
        self.u = self.rho * self.u + (1 - self.rho) * delta * delta
        return theta - self.lr * delta


class RefRprop:
    def __init__(self, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)):
        self.lr, self.etas, self.sizes = lr, etas, step_sizes
        self.prev, self.size = None, None

    def __call__(self, theta, g):
        if self.prev is None:
            self.prev, self.size = np.zeros_like(theta), np.full_like(theta, self.lr)
        g = np.array(g, dtype=np.float64)
        s = np.sign(g * self.prev)
        factor = np.where(s > 0, self.etas[1], np.where(s < 0, self.etas[0], 1.0))
        self.size = np.clip(self.size * factor, *self.sizes)
        g[s < 0] = 0.0
        self.prev = g
        return theta - np.sign(g) * self.size


class RefASGD:
    def __init__(self, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0):
        self.lr, self.lambd, self.alpha, self.t0, self.wd = lr, lambd, alpha, t0, weight_decay
        self.t, self.eta, self.mu, self.ax = 0, lr, 1.0, None

    def __call__(self, theta, g):
        self.t += 1
        if self.wd:
            g = g + self.wd * theta
        theta = theta * (1 - self.lambd * self.eta) - self.eta * g
        self.ax = theta.copy() if self.mu == 1 else self.ax + self.mu * (theta - self.ax)
        self.eta = self.lr / (1 + self.lambd * self.lr * self.t) ** self.alpha
        self.mu = 1 / max(1, self.t - self.t0)
        return theta


REFS = dict(NAdam=RefNAdam, RAdam=RefRAdam, Adamax=RefAdamax, Adadelta=RefAdadelta, Rprop=RefRprop, ASGD=RefASGD)

CASES = [
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict()),  # beta2 = 0.999: rho_t <= 5 for the first steps (the un-rectified branch)
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.6), weight_decay=0.1)),  # rho_t > 5 from step 3 on
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.5), weight_decay=0.3, decoupled_weight_decay=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.05, 0.2))),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=2, weight_decay=0.1)),
]
CASE_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


def make_params(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [Parameter(gdl.tensor(rng.normal(size=s), dtype=dtype)) for s in shapes]


def grad_plan(steps, shapes=SHAPES, seed=1):
    """Random gradients; parameter 1 has none at step 2 (it must be skipped, its state kept)."""
    rng = np.random.default_rng(seed)
    plan = []
    for t in range(steps):
        grads = [rng.normal(size=s) for s in shapes]
        if t % 3 == 1:  # the same sign twice in a row somewhere, for Rprop's growing steps
            grads = [np.abs(g) + 0.1 for g in grads]
        plan.append([None if (i == 1 and t == 2) else g for i, g in enumerate(grads)])
    return plan


def feed(opt, params, grads, dtype):
    for p, g in zip(params, grads):
        p.grad = None if g is None else gdl.tensor(g, dtype=dtype)
    opt.step()


def run_ref(name, kw, plan, seed=0):
    rng = np.random.default_rng(seed)
    thetas = [rng.normal(size=s) for s in SHAPES]
    refs = [REFS[name](**kw) for _ in SHAPES]
    for grads in plan:
        for i, g in enumerate(grads):
            if g is not None:
                thetas[i] = refs[i](thetas[i], g)
    return thetas, refs


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_matches_float64_reference(backend, name, kw):
    plan = grad_plan(8)
    params = make_params(gdl.float64)
    opt = getattr(gdl.optim, name)(params, **kw)
    for grads in plan:
        feed(opt, params, grads, gdl.float64)
    want, refs = run_ref(name, kw, plan)
    for p, w in zip(params, want):
        assert p.dtype == gdl.float64 and p.backend == backend
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-12, atol=1e-14)
    assert opt.state[params[1]]["step"] == 7 and opt.state[params[0]]["step"] == 8
    if name == "ASGD":  # the running average too
        for p, r in zip(params, refs):
            np.testing.assert_allclose(opt.state[p]["ax"].numpy(), r.ax, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,kw", CASES[::2], ids=CASE_IDS[::2])
def test_float32_stays_float32(backend, name, kw):
    plan = grad_plan(4)
    params = make_params(gdl.float32)
    opt = getattr(gdl.optim, name)(params, **kw)
    for grads in plan:
        feed(opt, params, grads, gdl.float32)
    want, _ = run_ref(name, kw, plan)
    for p, w in zip(params, want):
        assert p.dtype == gdl.float32 and p.grad_fn is None and p.requires_grad
        np.testing.assert_allclose(p.numpy(), w, rtol=2e-5, atol=2e-6)
    for st in opt.state.values():
        for k, v in st.items():
            if k == "step":
                assert isinstance(v, int)
            else:
                assert v.dtype == gdl.float32 and v.backend == backend and not v.requires_grad


TORCH_STATE_KEYS = dict(
    NAdam={"step", "mu_product", "exp_avg", "exp_avg_sq"}, RAdam={"step", "exp_avg", "exp_avg_sq"},
    Adamax={"step", "exp_avg", "exp_inf"}, Adadelta={"step", "square_avg", "acc_delta"},
    Rprop={"step", "prev", "step_size"}, ASGD={"step", "eta", "mu", "ax"},
)
TORCH_GROUP_KEYS = dict(  # PyTorch's algorithm hyperparameters (not its foreach/capturable/... switches)
    NAdam={"lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay"},
    RAdam={"lr", "betas", "eps", "weight_decay", "decoupled_weight_decay"},
    Adamax={"lr", "betas", "eps", "weight_decay"}, Adadelta={"lr", "rho", "eps", "weight_decay"},
    Rprop={"lr", "etas", "step_sizes"}, ASGD={"lr", "lambd", "alpha", "t0", "weight_decay"},
)


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("via_file", [False, True])
def test_state_dict_round_trip_continues_exactly(backend, name, kw, via_file):
    plan = grad_plan(7)
    straight = make_params(gdl.float64)
    opt = getattr(gdl.optim, name)(straight, **kw)
    for grads in plan:
        feed(opt, straight, grads, gdl.float64)

    params = make_params(gdl.float64)
    opt = getattr(gdl.optim, name)(params, **kw)
    for grads in plan[:4]:
        feed(opt, params, grads, gdl.float64)
    sd = opt.state_dict()
    assert set(sd["state"][0]) == TORCH_STATE_KEYS[name]
    assert set(sd["param_groups"][0]) == TORCH_GROUP_KEYS[name] | {"params", "maximize"}
    feed(opt, params, plan[4], gdl.float64)  # the saved dict is a snapshot: later steps do not change it
    if via_file:
        sd = gdl.io.loads(gdl.io.dumps(sd))
    # a fresh model holding the weights saved with the optimizer (replayed here), and a fresh optimizer
    params = make_params(gdl.float64)
    replay = getattr(gdl.optim, name)(params, **kw)
    for grads in plan[:4]:
        feed(replay, params, grads, gdl.float64)
    opt2 = getattr(gdl.optim, name)(params, **kw)
    opt2.load_state_dict(sd)
    for grads in plan[4:]:
        feed(opt2, params, grads, gdl.float64)
    for p, q in zip(params, straight):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for k, v in opt2.state[params[0]].items():
        if k != "step":
            assert v.dtype == gdl.float64 and v.backend == backend


def test_scalar_state_is_0d_in_the_parameter_dtype_and_loads_from_numbers(backend):
    (p,) = make_params(gdl.float32, shapes=[(2, 2)])
    opt = gdl.optim.NAdam([p], lr=0.1)
    p.grad = gdl.ones(2, 2)
    opt.step()
    mp = opt.state[p]["mu_product"]
    assert mp.shape == () and mp.dtype == gdl.float32
    sd = opt.state_dict()
    sd["state"][0]["mu_product"] = 0.5  # a Python number (a PyTorch checkpoint's 0-d tensor, converted)
    opt.load_state_dict(sd)
    assert opt.state[p]["mu_product"].shape == () and opt.state[p]["mu_product"].item() == 0.5
    sd["state"][0]["mu_product"] = np.ones(3)
    with pytest.raises(ValueError, match="mu_product.*one number"):
        opt.load_state_dict(sd)
    sd["state"][0]["mu_product"] = 1.0
    sd["state"][0]["exp_avg"] = np.ones(3)
    with pytest.raises(ValueError, match="exp_avg"):
        opt.load_state_dict(sd)


def test_another_optimizers_state_is_refused():
    (p,) = make_params(gdl.float64, shapes=[(2,)])
    adam = gdl.optim.Adam([p])
    p.grad = gdl.ones(2, dtype=gdl.float64)
    adam.step()
    with pytest.raises(ValueError, match="exp_avg_sq"):
        gdl.optim.Adamax([p]).load_state_dict(adam.state_dict())


BAD = [
    ("NAdam", dict(lr=-1e-3), "lr"),
    ("NAdam", dict(betas=(1.0, 0.9)), "beta1"),
    ("NAdam", dict(betas=(0.9, -0.1)), "beta2"),
    ("NAdam", dict(momentum_decay=-1.0), "momentum_decay"),
    ("NAdam", dict(eps=-1.0), "eps"),
    ("RAdam", dict(weight_decay=-0.1), "weight_decay"),
    ("RAdam", dict(betas=(0.9,)), "betas"),
    ("Adamax", dict(lr=-1.0), "lr"),
    ("Adamax", dict(betas=(0.9, 1.0)), "beta2"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(eps=-1e-6), "eps"),
    ("Rprop", dict(etas=(1.5, 1.2)), "etas"),
    ("Rprop", dict(etas=(0.5, 0.9)), "etas"),
    ("Rprop", dict(step_sizes=(1.0, 0.5)), "step_sizes"),
    ("ASGD", dict(lr=-0.1), "lr"),
    ("ASGD", dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize("name,kw,word", BAD)
def test_bad_arguments_are_clear_errors(name, kw, word):
    with pytest.raises(ValueError, match=word):
        getattr(gdl.optim, name)(make_params(gdl.float64, shapes=[(2,)]), **kw)


@pytest.mark.parametrize("name", list(REFS))
def test_sparse_gradients_are_a_clear_error(backend, name):
    emb = nn.Embedding(6, 3, sparse=True, dtype=gdl.float64)
    opt = getattr(gdl.optim, name)(emb.parameters())
    emb(gdl.tensor([[1, 2]])).sum().backward()
    assert emb.weight.grad.is_sparse
    with pytest.raises(TypeError, match=f"{name}.*sparse"):
        opt.step()


@pytest.mark.parametrize("name", list(REFS))
def test_minimises_with_autograd(backend, name):
    target = gdl.tensor([1.0, -2.0, 3.0])
    w = Parameter(gdl.zeros(3))
    lr = dict(NAdam=0.1, RAdam=0.1, Adamax=0.2, Adadelta=5.0, Rprop=0.1, ASGD=0.1)[name]
    opt = getattr(gdl.optim, name)([w], lr=lr)
    for _ in range(300):
        ((w - target) ** 2).sum().backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0, 3.0], atol=5e-2)


def test_one_cycle_drives_the_adam_family_beta1():
    """OneCycleLR's momentum cycling writes beta1 into each group, and NAdam's update reads it."""
    (p,) = make_params(gdl.float64, shapes=[(3,)])
    opt = gdl.optim.NAdam([p])
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["betas"])
        p.grad = gdl.ones(3, dtype=gdl.float64)
        opt.step()
        sched.step()
    assert seen[0] == (0.95, 0.999) and min(b[0] for b in seen) == pytest.approx(0.85)
    assert all(b[1] == 0.999 for b in seen)


# -- learning-rate schedules -----------------------------------------------------------------------------------

BASE = (0.1, 0.03)


def make_opt(cls=gdl.optim.SGD, **kw):
    a, b = Parameter(gdl.zeros(2)), Parameter(gdl.zeros(3))
    return cls([{"params": [a]}, {"params": [b], "lr": BASE[1]}], lr=BASE[0], **kw)


def lrs_of(sched, opt, n, key=None):
    out, extra = [], []
    for _ in range(n):
        out.append(list(sched.get_last_lr()))
        assert [g["lr"] for g in opt.param_groups] == out[-1]
        if key:
            extra.append([g[key] for g in opt.param_groups])
        opt.step()
        sched.step()
    return (out, extra) if key else out


def cos_anneal(start, end, pct):
    return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2


def lin_anneal(start, end, pct):
    return start + (end - start) * pct


def one_cycle_ref(max_lr, n, pct_start=0.3, div=25.0, final_div=1e4, three_phase=False, anneal=cos_anneal,
                  m_lo=0.85, m_hi=0.95):
    """The 1cycle lr and momentum at steps 0..n-1, from Smith & Topin's description (phase ends as in PyTorch)."""
    lo, top = max_lr / div, max_lr
    end = lo / final_div
    if three_phase:
        phases = [(pct_start * n - 1, lo, top, m_hi, m_lo), (2 * pct_start * n - 2, top, lo, m_lo, m_hi),
                  (n - 1, lo, end, m_hi, m_hi)]
    else:
        phases = [(pct_start * n - 1, lo, top, m_hi, m_lo), (n - 1, top, end, m_lo, m_hi)]
    lrs, moms = [], []
    for s in range(n):
        start = 0.0
        for i, (stop, a, b, ma, mb) in enumerate(phases):
            if s <= stop or i == len(phases) - 1:
                pct = (s - start) / (stop - start)
                lrs.append(anneal(a, b, pct))
                moms.append(anneal(ma, mb, pct))
                break
            start = stop
    return lrs, moms


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_sgd_momentum(three_phase, strategy):
    opt = make_opt(momentum=0.5)
    n = 30
    sched = S.OneCycleLR(opt, max_lr=[1.0, 0.4], total_steps=n, three_phase=three_phase, anneal_strategy=strategy)
    got, moms = lrs_of(sched, opt, n, key="momentum")
    anneal = cos_anneal if strategy == "cos" else lin_anneal
    for gi, top in enumerate((1.0, 0.4)):
        want_lr, want_m = one_cycle_ref(top, n, three_phase=three_phase, anneal=anneal)
        np.testing.assert_allclose([r[gi] for r in got], want_lr, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([m[gi] for m in moms], want_m, rtol=1e-12)
    assert opt.param_groups[0]["max_lr"] == 1.0 and opt.param_groups[1]["initial_lr"] == 0.4 / 25
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()  # step n + 1: past the schedule


def test_one_cycle_adam_betas_epochs_and_no_momentum():
    opt = make_opt(gdl.optim.Adam, betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=0.5, epochs=4, steps_per_epoch=5, pct_start=0.25, div_factor=10.0,
                         final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)
    got, betas = lrs_of(sched, opt, 20, key="betas")
    want_lr, want_m = one_cycle_ref(0.5, 20, pct_start=0.25, div=10.0, final_div=100.0, m_lo=0.8, m_hi=0.9)
    np.testing.assert_allclose([r[0] for r in got], want_lr, rtol=1e-12)
    np.testing.assert_allclose([b[0][0] for b in betas], want_m, rtol=1e-12)
    assert all(b[0][1] == 0.99 for b in betas)
    opt = make_opt(gdl.optim.Adagrad)  # no momentum to cycle
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    S.OneCycleLR(opt, max_lr=0.5, total_steps=10, cycle_momentum=False)
    assert "momentum" not in opt.param_groups[0]


def cawr_ref(base, T_0, T_mult, eta_min, epoch):
    """SGDR's lr at (possibly fractional) ``epoch``: find the cycle, then the cosine inside it."""
    T_i, start = T_0, 0.0
    while epoch >= start + T_i:
        start += T_i
        T_i *= T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (epoch - start) / T_i)) / 2


@pytest.mark.parametrize("T_0,T_mult,eta_min", [(5, 1, 0.0), (3, 2, 0.001), (1, 3, 0.0), (4, 1, 0.01)])
def test_cosine_warm_restarts(T_0, T_mult, eta_min):
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    got = lrs_of(sched, opt, 40)
    for gi in range(2):
        want = [cawr_ref(BASE[gi], T_0, T_mult, eta_min, e) for e in range(40)]
        np.testing.assert_allclose([r[gi] for r in got], want, rtol=1e-12, atol=1e-15)


def test_cosine_warm_restarts_fractional_epochs():
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
    for epoch in range(8):
        for i in range(4):
            e = epoch + i / 4
            sched.step(e)
            for gi in range(2):
                assert sched.get_last_lr()[gi] == pytest.approx(cawr_ref(BASE[gi], 2, 2, 0.001, e), rel=1e-12)
            assert sched.last_epoch == epoch
    sched.step(3)  # back in time, then plain steps continue from there
    sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(cawr_ref(0.1, 2, 2, 0.001, 4), rel=1e-12)
    with pytest.raises(ValueError, match="epoch"):
        sched.step(-1)


def test_constant_polynomial_multiplicative():
    opt = make_opt()
    got = lrs_of(S.ConstantLR(opt, factor=0.25, total_iters=4), opt, 10)
    assert got == [[b * (0.25 if e < 4 else 1.0) for b in BASE] for e in range(10)]
    opt = make_opt()
    got = lrs_of(S.ConstantLR(opt), opt, 8)  # defaults: factor 1/3 for 5 epochs
    np.testing.assert_allclose(got, [[b * (1 / 3 if e < 5 else 1.0) for b in BASE] for e in range(8)], rtol=1e-15)
    opt = make_opt()
    got = lrs_of(S.PolynomialLR(opt, total_iters=6, power=2.0), opt, 10)
    np.testing.assert_allclose(got, [[b * (1 - min(e, 6) / 6) ** 2 for b in BASE] for e in range(10)],
                               rtol=1e-12, atol=1e-17)
    opt = make_opt()
    got = lrs_of(S.PolynomialLR(opt), opt, 8)  # defaults: linear to 0 over 5 epochs
    np.testing.assert_allclose(got, [[b * (1 - min(e, 5) / 5) for b in BASE] for e in range(8)], atol=1e-17)
    opt = make_opt()
    got = lrs_of(S.MultiplicativeLR(opt, [lambda e: 0.9, lambda e: 1.0 / (e + 1)]), opt, 8)
    np.testing.assert_allclose([r[0] for r in got], [0.1 * 0.9**e for e in range(8)], rtol=1e-12)
    np.testing.assert_allclose([r[1] for r in got], [0.03 / math.factorial(e + 1) for e in range(8)], rtol=1e-12)


def cyclic_ref(base, top, e, up, down, mode, gamma=1.0):
    total = up + down
    cycle = e // total + 1
    pos = e - (cycle - 1) * total
    frac = pos / up if pos <= up else 1 - (pos - up) / down
    scale = {"triangular": 1.0, "triangular2": 0.5 ** (cycle - 1), "exp_range": gamma**e}[mode]
    return base + (top - base) * frac * scale, frac * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("down", [None, 2])
def test_cyclic(mode, down):
    opt = make_opt(momentum=0.5)
    sched = S.CyclicLR(opt, base_lr=[0.01, 0.02], max_lr=[0.1, 0.05], step_size_up=4, step_size_down=down,
                       mode=mode, gamma=0.95)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.02]  # set by the scheduler
    got, moms = lrs_of(sched, opt, 30, key="momentum")
    d = down or 4
    for gi, (b, t) in enumerate([(0.01, 0.1), (0.02, 0.05)]):
        want = [cyclic_ref(b, t, e, 4, d, mode, 0.95) for e in range(30)]
        np.testing.assert_allclose([r[gi] for r in got], [w[0] for w in want], rtol=1e-12)
        np.testing.assert_allclose([m[gi] for m in moms], [0.9 - 0.1 * w[1] for w in want], rtol=1e-12)


def test_cyclic_custom_scale_fn_and_no_momentum():
    opt = make_opt(gdl.optim.Adagrad)
    sched = S.CyclicLR(opt, 0.0, 1.0, step_size_up=2, scale_fn=lambda x: 1.0 / x, scale_mode="cycle",
                       cycle_momentum=False)
    got = [r[0] for r in lrs_of(sched, opt, 12)]
    np.testing.assert_allclose(got, [0, 0.5, 1, 0.5, 0, 0.25, 0.5, 0.25, 0, 1 / 6, 1 / 3, 1 / 6], atol=1e-15)
    with pytest.raises(ValueError, match="momentum"):
        S.CyclicLR(make_opt(gdl.optim.Adagrad), 0.01, 0.1)


def test_sequential_warmup_then_cosine():
    opt = make_opt()
    warm = S.LinearLR(opt, start_factor=0.2, total_iters=4)
    cos = S.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    step = S.StepLR(opt, step_size=3, gamma=0.5)
    sched = S.SequentialLR(opt, [warm, cos, step], milestones=[4, 14])
    got = lrs_of(sched, opt, 30)
    for gi, b in enumerate(BASE):
        want = ([b * (0.2 + 0.8 * e / 4) for e in range(4)]
                + [0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(10)]
                + [b * 0.5 ** (e // 3) for e in range(16)])
        np.testing.assert_allclose([r[gi] for r in got], want, rtol=1e-12)


def test_chained_multiplies_the_schedules():
    opt = make_opt()
    sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3), S.ExponentialLR(opt, gamma=0.9),
                                S.MultiStepLR(opt, milestones=[5, 8], gamma=0.1)])
    got = lrs_of(sched, opt, 12)
    for gi, b in enumerate(BASE):
        want = [b * (0.5 if e < 3 else 1.0) * 0.9**e * 0.1 ** sum(m <= e for m in (5, 8)) for e in range(12)]
        np.testing.assert_allclose([r[gi] for r in got], want, rtol=1e-12)


def test_sequential_inside_chained():
    opt = make_opt()
    seq = S.SequentialLR(opt, [S.ConstantLR(opt, factor=0.1, total_iters=3), S.ExponentialLR(opt, gamma=0.5)],
                         milestones=[3])
    sched = S.ChainedScheduler([seq, S.MultiplicativeLR(opt, lambda e: 0.8)])
    got = [r[0] for r in lrs_of(sched, opt, 7)]
    # the sequence's lr, times 0.8 per epoch: 0.01 until epoch 3, where ExponentialLR restarts from
    # initial_lr = 0.1 (dropping the product so far), then halving
    want = [0.01, 0.008, 0.0064, 0.08, 0.032, 0.0128, 0.00512]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_chained_inside_sequential_is_refused_up_front():
    opt = make_opt()
    chain = S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.5)])
    with pytest.raises(ValueError, match="ChainedScheduler"):
        S.SequentialLR(opt, [S.ConstantLR(opt), chain], milestones=[3])


def test_closed_forms_of_step_epoch():
    opt = make_opt()
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    sched.step(7)
    assert sched.get_last_lr() == [0.1 * 0.25, 0.03 * 0.25] and sched.last_epoch == 7
    sched = S.MultiStepLR(make_opt(), milestones=[2, 5, 5], gamma=0.5)
    sched.step(6)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 / 8)
    sched = S.ExponentialLR(make_opt(), gamma=0.9)
    sched.step(4)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * 0.9**4)
    sched = S.CosineAnnealingLR(make_opt(), T_max=8)
    sched.step(2)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)) / 2)
    sched = S.LinearLR(make_opt(), start_factor=0.5, total_iters=4)
    sched.step(2)
    assert sched.get_last_lr()[0] == pytest.approx(0.075)
    sched = S.PolynomialLR(make_opt(), total_iters=4)
    sched.step(3)
    assert sched.get_last_lr()[0] == pytest.approx(0.025)
    sched = S.ConstantLR(make_opt(), factor=0.5, total_iters=4)
    sched.step(4)
    assert sched.get_last_lr()[0] == pytest.approx(0.1)


NEW_SCHEDULES = {
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30, three_phase=True),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.5, total_iters=7),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=20, power=0.9),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.95),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=5), S.CosineAnnealingWarmRestarts(o, T_0=4)], milestones=[6]),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=5),
                                                      S.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize("name", NEW_SCHEDULES)
def test_state_dict_resume_continues_exactly(name):
    """Save the optimizer and scheduler after k steps; a fresh pair built the documented way (scheduler,
    then the optimizer's state, then the scheduler's) continues exactly as an uninterrupted run."""
    opt = make_opt(momentum=0.9)
    sched = NEW_SCHEDULES[name](opt)
    straight, moms = lrs_of(sched, opt, 25, key="momentum")
    opt = make_opt(momentum=0.9)
    sched = NEW_SCHEDULES[name](opt)
    first = lrs_of(sched, opt, 11)
    osd, ssd = opt.state_dict(), sched.state_dict()
    ssd = gdl.io.loads(gdl.io.dumps({"s": ssd}))["s"]  # and it goes into a checkpoint file
    opt.step()
    sched.step()  # the saved dicts are snapshots
    opt2 = make_opt(momentum=0.9)
    sched2 = NEW_SCHEDULES[name](opt2)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(ssd)
    rest, rest_m = lrs_of(sched2, opt2, 14, key="momentum")
    assert first + rest == straight
    if name in ("OneCycleLR", "CyclicLR"):
        assert rest_m == moms[11:]


@pytest.mark.parametrize("name", ["OneCycleLR", "CosineAnnealingWarmRestarts", "ConstantLR", "PolynomialLR",
                                  "CyclicLR", "MultiplicativeLR"])
def test_resume_with_last_epoch(name):
    """``last_epoch=k`` with each group's ``initial_lr`` (and a OneCycleLR's limits) restored continues the
    schedule from epoch k + 1, as an uninterrupted run, for the schedules with a closed form in epoch k."""
    opt = make_opt(momentum=0.9)
    straight = lrs_of(NEW_SCHEDULES[name](opt), opt, 20)
    opt = make_opt(momentum=0.9)
    lrs_of(NEW_SCHEDULES[name](opt), opt, 8)  # the scheduler has stepped 8 times: last_epoch == 8
    groups = [dict(g) for g in opt.param_groups]
    opt2 = make_opt(momentum=0.9)
    for g, saved in zip(opt2.param_groups, groups):
        g.update({k: v for k, v in saved.items() if k != "params"})
    kw = dict(last_epoch=8)
    builders = {
        "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30, three_phase=True, **kw),
        "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3,
                                                                               **kw),
        "ConstantLR": lambda o: S.ConstantLR(o, factor=0.5, total_iters=7, **kw),
        "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=20, power=0.9, **kw),
        "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=5, mode="triangular2", **kw),
        "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.95, **kw),
    }
    sched = builders[name](opt2)
    got = lrs_of(sched, opt2, 11)
    if name in ("PolynomialLR", "MultiplicativeLR"):
        # chainable: like ExponentialLR (PyTorch >= 2.8), the constructor keeps the lr it finds
        assert got[0] == straight[8]
        if name == "MultiplicativeLR":
            np.testing.assert_allclose(got, straight[8:19], rtol=1e-12)
        return
    if name == "CosineAnnealingWarmRestarts":
        # PyTorch's constructor sets T_cur = last_epoch and T_i = T_0 without finding the cycle of
        # epoch k (T_cur 8 -> 9 wraps to 0 with T_i = 6, where the run had T_i = 12): the first lr is
        # right, the cycle lengths after it are not. gdl does the same, to stay step-for-step with
        # PyTorch; step(epoch) finds the cycle (checked in test_cosine_warm_restarts_fractional_epochs).
        assert got[0] == straight[9]
        want = [1e-3 + (0.1 - 1e-3) * (1 + math.cos(math.pi * k / 6)) / 2 for k in range(6)]
        np.testing.assert_allclose([r[0] for r in got[:6]], want, rtol=1e-12)
        return
    np.testing.assert_allclose(got, straight[9:], rtol=1e-12)


SCHED_BAD = [
    (lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10), "max_lr"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1), "total_steps"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=0), "total_steps"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-1), "steps_per_epoch"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), "pct_start"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, div_factor=0), "div_factor"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "T_mult"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2.5), "T_0"),
    (lambda o: S.ConstantLR(o, factor=1.5), "factor"),
    (lambda o: S.ConstantLR(o, total_iters=-1), "total_iters"),
    (lambda o: S.PolynomialLR(o, total_iters=0), "total_iters"),
    (lambda o: S.MultiplicativeLR(o, [lambda e: 1.0]), "lr_lambdas"),
    (lambda o: S.CyclicLR(o, 0.01, [0.1], step_size_up=2), "max_lr"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), "mode"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epochs"), "scale_mode"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ExponentialLR(o, 0.9)], milestones=[3, 5]), "milestone"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ExponentialLR(o, 0.9), S.StepLR(o, 2)], milestones=[5, 3]),
     "increasing"),
    (lambda o: S.SequentialLR(o, [], milestones=[]), "at least one"),
    (lambda o: S.ChainedScheduler([]), "at least one"),
    (lambda o: S.ChainedScheduler([S.ConstantLR(o), S.ConstantLR(make_opt())]), "same optimizer"),
    (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), "ReduceLROnPlateau"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ReduceLROnPlateau(o)], milestones=[2]), "ReduceLROnPlateau"),
]


@pytest.mark.parametrize("i", range(len(SCHED_BAD)))
def test_scheduler_bad_arguments_are_clear_errors(i):
    build, word = SCHED_BAD[i]
    with pytest.raises(ValueError, match=word):
        build(make_opt(momentum=0.9))


def test_scheduler_type_errors():
    with pytest.raises(TypeError, match="Optimizer"):
        S.OneCycleLR("sgd", max_lr=0.1, total_steps=10)
    with pytest.raises(TypeError, match="schedulers\\[0\\]"):
        S.ChainedScheduler(["not a scheduler"], optimizer=make_opt())
    with pytest.raises(TypeError, match="callable"):
        S.MultiplicativeLR(make_opt(), 0.9)
