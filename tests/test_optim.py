"""Optimizers: each update checked against hand-written float64 references.

The references below are the published algorithms (PyTorch's documented update
rules) in plain NumPy, written independently of gdl's implementation. Every test
that touches arrays runs on each backend through the ``backend`` fixture.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
import gdl.optim
from gdl.nn.parameter import Parameter
from gdl.optim.adagrad import adagrad_step
from gdl.optim.adam import adam_step
from gdl.optim.rmsprop import rmsprop_step
from gdl.optim.sgd import sgd_momentum_step

SHAPES = [(3, 4), (5,), ()]


# -- float64 references (one parameter, NumPy) ------------------------------------------------


class RefSGD:
    def __init__(self, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.h = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        self.b = None

    def __call__(self, theta, g):
        h = self.h
        if h["weight_decay"]:
            g = g + h["weight_decay"] * theta
        if h["momentum"]:
            self.b = g.copy() if self.b is None else h["momentum"] * self.b + (1 - h["dampening"]) * g
            g = g + h["momentum"] * self.b if h["nesterov"] else self.b
        return theta - h["lr"] * g


class RefAdam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.amsgrad, self.decoupled = amsgrad, decoupled
        self.t, self.m, self.v, self.vmax = 0, 0.0, 0.0, 0.0

    def __call__(self, theta, g):
        self.t += 1
        t = self.t
        if self.decoupled:
            theta = theta - self.lr * self.wd * theta
        elif self.wd:
            g = g + self.wd * theta
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g**2
        m_hat = self.m / (1 - self.b1**t)
        if self.amsgrad:
            self.vmax = np.maximum(self.vmax, self.v)
            v_hat = self.vmax / (1 - self.b2**t)
        else:
            v_hat = self.v / (1 - self.b2**t)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RefRMSprop:
    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.h = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        self.v, self.a, self.b = 0.0, 0.0, 0.0

    def __call__(self, theta, g):
        h = self.h
        if h["weight_decay"]:
            g = g + h["weight_decay"] * theta
        self.v = h["alpha"] * self.v + (1 - h["alpha"]) * g**2
        v_tilde = self.v
        if h["centered"]:
            self.a = h["alpha"] * self.a + (1 - h["alpha"]) * g
            v_tilde = np.maximum(self.v - self.a**2, 0.0)  # gdl clamps the rounding below 0
        if h["momentum"] > 0:
            self.b = h["momentum"] * self.b + g / (np.sqrt(v_tilde) + h["eps"])
            return theta - h["lr"] * self.b
        return theta - h["lr"] * g / (np.sqrt(v_tilde) + h["eps"])


class RefAdagrad:
    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.h = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        self.s, self.t = initial_accumulator_value, 0

    def __call__(self, theta, g):
        h = self.h
        self.t += 1
        lr_t = h["lr"] / (1 + (self.t - 1) * h["lr_decay"])
        if h["weight_decay"]:
            g = g + h["weight_decay"] * theta
        self.s = self.s + g**2
        return theta - lr_t * g / (np.sqrt(self.s) + h["eps"])


def ref_for(name, kw):
    if name == "SGD":
        return RefSGD(**kw)
    if name in ("Adam", "AdamW"):
        kw = dict(kw)
        if name == "AdamW":
            kw.setdefault("weight_decay", 1e-2)
        return RefAdam(decoupled=name == "AdamW", **kw)
    if name == "RMSprop":
        return RefRMSprop(**kw)
    return RefAdagrad(**kw)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.2)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.9))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
]
CASE_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


def make_params(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [Parameter(gdl.tensor(rng.normal(size=s), dtype=dtype)) for s in shapes]


def grad_plan(steps, shapes=SHAPES, seed=1):
    """Random gradients; parameter 1 has no gradient at step 2 (it must be skipped)."""
    rng = np.random.default_rng(seed)
    plan = []
    for t in range(steps):
        plan.append([None if (i == 1 and t == 2) else rng.normal(size=s) for i, s in enumerate(shapes)])
    return plan


def run_gdl(name, kw, dtype, plan, seed=0):
    params = make_params(dtype, seed)
    opt = getattr(gdl.optim, name)(params, **kw)
    for grads in plan:
        for p, g in zip(params, grads):
            p.grad = None if g is None else gdl.tensor(g, dtype=dtype)
        opt.step()
    return params, opt


def run_ref(name, kw, plan, seed=0):
    rng = np.random.default_rng(seed)
    thetas = [rng.normal(size=s) for s in SHAPES]
    refs = [ref_for(name, kw) for _ in SHAPES]
    for grads in plan:
        for i, g in enumerate(grads):
            if g is not None:
                thetas[i] = refs[i](thetas[i], g)
    return thetas


# -- the update rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_matches_float64_reference(backend, name, kw):
    plan = grad_plan(6)
    params, _ = run_gdl(name, kw, gdl.float64, plan)
    want = run_ref(name, kw, plan)
    for p, w in zip(params, want):
        assert p.dtype == gdl.float64 and p.backend == backend
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_float32_stays_float32(backend, name, kw):
    plan = grad_plan(4)
    params, opt = run_gdl(name, kw, gdl.float32, plan)
    want = run_ref(name, kw, plan)
    for p, w in zip(params, want):
        assert p.dtype == gdl.float32
        assert p.grad_fn is None and p.requires_grad  # no graph was built
        np.testing.assert_allclose(p.numpy(), w, rtol=2e-5, atol=2e-6)
    for st_ in opt.state.values():
        for k, v in st_.items():
            if k == "step":
                assert isinstance(v, int)
            else:
                assert v.dtype == gdl.float32 and v.backend == backend and not v.requires_grad


def test_skips_params_without_grad(backend):
    a, b = make_params(gdl.float32, shapes=[(2,), (3,)])
    before = b.numpy()
    opt = gdl.optim.Adam([a, b], lr=0.1)
    a.grad = gdl.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_plain_sgd_is_one_subtraction(backend):
    (p,) = make_params(gdl.float32, shapes=[(4,)])
    start = p.numpy()
    old = p.data
    opt = gdl.optim.SGD([p], lr=0.5)
    p.grad = gdl.tensor([1.0, 2.0, 3.0, 4.0])
    opt.step()
    np.testing.assert_array_equal(p.numpy(), (start - np.float32(0.5) * np.float32([1, 2, 3, 4])))
    # Both the portable path and the fused kernel update in place, as PyTorch does.
    assert p.data is old
    assert len(opt.state) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lr=st.floats(0.0, 1.0),
    momentum=st.floats(0.0, 0.99),
    dampening=st.floats(0.0, 1.0),
    weight_decay=st.floats(0.0, 0.5),
    nesterov=st.booleans(),
)
def test_sgd_hypothesis(backend, lr, momentum, dampening, weight_decay, nesterov):
    if nesterov and (momentum == 0 or dampening != 0):
        dampening = 0.0
        momentum = momentum or 0.5
    kw = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    plan = grad_plan(4)
    params, _ = run_gdl("SGD", kw, gdl.float64, plan)
    for p, w in zip(params, run_ref("SGD", kw, plan)):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-11, atol=1e-13)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["Adam", "AdamW"]),
    lr=st.floats(1e-4, 0.5),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.0, 0.9999),
    eps=st.floats(1e-8, 1e-2),
    weight_decay=st.floats(0.0, 0.5),
    amsgrad=st.booleans(),
)
def test_adam_hypothesis(backend, name, lr, b1, b2, eps, weight_decay, amsgrad):
    kw = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    plan = grad_plan(4)
    params, _ = run_gdl(name, kw, gdl.float64, plan)
    for p, w in zip(params, run_ref(name, kw, plan)):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-10, atol=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    alpha=st.floats(0.0, 0.999),
    momentum=st.floats(0.0, 0.95),
    centered=st.booleans(),
    weight_decay=st.floats(0.0, 0.3),
    lr_decay=st.floats(0.0, 1.0),
    init=st.floats(0.0, 2.0),
)
def test_rmsprop_adagrad_hypothesis(backend, alpha, momentum, centered, weight_decay, lr_decay, init):
    plan = grad_plan(4)
    eps = 1e-3  # keeps the centered variance estimate away from 0 / 0
    for name, kw in [
        ("RMSprop", dict(lr=0.01, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)),
        ("Adagrad", dict(lr=0.1, lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=init)),
    ]:
        params, _ = run_gdl(name, kw, gdl.float64, plan)
        for p, w in zip(params, run_ref(name, kw, plan)):
            np.testing.assert_allclose(p.numpy(), w, rtol=1e-9, atol=1e-12, equal_nan=False)


def test_centered_rmsprop_variance_rounding_below_zero_is_not_nan(backend):
    """A constant gradient with alpha 1e-9: the variance ``sq - ga²`` is 1e-9·g² or less and
    rounds below 0 from the second step on (its square root was NaN). Reference: the averages in exact fractions."""
    from fractions import Fraction

    g = [0.12573022, 0.41163054, -0.15922501, 0.35537271]
    lr, alpha, eps = 0.01, 1e-9, 1e-3
    p = Parameter(gdl.zeros(4, dtype=gdl.float64))
    opt = gdl.optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps, centered=True)
    a, one = Fraction(alpha), Fraction(1)
    sq, ga, expected = [Fraction(0)] * 4, [Fraction(0)] * 4, [0.0] * 4
    for _ in range(3):
        p.grad = gdl.tensor(g, dtype=gdl.float64)
        opt.step()
        for i, gi in enumerate(map(Fraction, g)):
            sq[i] = a * sq[i] + (one - a) * gi * gi
            ga[i] = a * ga[i] + (one - a) * gi
            expected[i] -= lr * float(gi) / (float(sq[i] - ga[i] * ga[i]) ** 0.5 + eps)
    assert np.isfinite(p.numpy()).all()
    # float64 loses ~9 of the variance's 16 digits to cancellation: close, not exact
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-4)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_minimises_with_autograd(backend, name):
    target = gdl.tensor([1.0, -2.0, 3.0])
    w = Parameter(gdl.zeros(3))
    lr = {"SGD": 0.1, "Adam": 0.1, "AdamW": 0.1, "RMSprop": 0.05, "Adagrad": 0.5}[name]
    kw = {"weight_decay": 0.0} if name == "AdamW" else {}
    opt = getattr(gdl.optim, name)([w], lr=lr, **kw)
    for _ in range(300):
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0, 3.0], atol=2e-2)


def test_closure_is_evaluated_with_grad(backend):
    w = Parameter(gdl.tensor([2.0]))
    opt = gdl.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gdl.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 4.0
    np.testing.assert_allclose(w.numpy(), [1.0])
    loss = gdl.optim.Adam([w]).step(closure)
    assert float(loss) == 1.0


# -- groups, zero_grad ---------------------------------------------------------------------------


def test_param_groups_and_defaults(backend):
    a, b, c = make_params(gdl.float64, shapes=[(2,), (2,), (2,)])
    opt = gdl.optim.SGD([{"params": [a]}, {"params": iter([b]), "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.5
    opt.add_param_group({"params": c, "weight_decay": 0.1})
    assert opt.param_groups[2]["params"] == [c] and opt.param_groups[2]["lr"] == 0.1
    starts = [p.numpy() for p in (a, b, c)]
    for p in (a, b, c):
        p.grad = gdl.ones(2, dtype=gdl.float64)
    opt.step()
    np.testing.assert_allclose(a.numpy(), starts[0] - 0.1)
    np.testing.assert_allclose(b.numpy(), starts[1] - 0.01)
    np.testing.assert_allclose(c.numpy(), starts[2] - 0.1 * (1 + 0.1 * starts[2]))
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="-1"):
        opt.add_param_group({"params": [Parameter(gdl.zeros(1))], "lr": -1})


def test_accepts_generators():
    params = make_params(gdl.float32)
    opt = gdl.optim.Adam(p for p in params)
    assert opt.param_groups[0]["params"] == params


def test_zero_grad(backend):
    a, b = make_params(gdl.float32, shapes=[(2,), (3,)])
    opt = gdl.optim.SGD([a, b], lr=0.1)
    a.grad = gdl.ones(2)
    opt.zero_grad(set_to_none=False)
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    assert a.grad.backend == backend and a.grad.dtype == gdl.float32
    opt.zero_grad()
    assert a.grad is None


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda ps: gdl.optim.SGD(ps, lr=-0.1), "lr -0.1"),
        (lambda ps: gdl.optim.SGD(ps, lr=0.1, momentum=-0.5), "momentum -0.5"),
        (lambda ps: gdl.optim.SGD(ps, lr=0.1, weight_decay=-1e-3), "weight_decay -0.001"),
        (lambda ps: gdl.optim.SGD(ps, lr=0.1, nesterov=True), "nesterov"),
        (lambda ps: gdl.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda ps: gdl.optim.Adam(ps, lr=-1e-3), "lr -0.001"),
        (lambda ps: gdl.optim.Adam(ps, betas=(1.0, 0.999)), r"betas\[0\].*1\.0.*\[0, 1\)"),
        (lambda ps: gdl.optim.Adam(ps, betas=(0.9, -0.1)), r"betas\[1\].*-0\.1"),
        (lambda ps: gdl.optim.Adam(ps, betas=(0.9,)), "pair"),
        (lambda ps: gdl.optim.Adam(ps, eps=-1e-8), "eps -1e-08"),
        (lambda ps: gdl.optim.AdamW(ps, weight_decay=-0.01), "weight_decay -0.01"),
        (lambda ps: gdl.optim.RMSprop(ps, alpha=-0.9), "alpha -0.9"),
        (lambda ps: gdl.optim.RMSprop(ps, momentum=-1), "momentum -1"),
        (lambda ps: gdl.optim.Adagrad(ps, lr_decay=-0.1), "lr_decay -0.1"),
        (lambda ps: gdl.optim.Adagrad(ps, initial_accumulator_value=-1.0), "initial_accumulator_value -1.0"),
        (lambda ps: gdl.optim.SGD(ps, lr=float("nan")), "NaN"),
        (lambda ps: gdl.optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: gdl.optim.SGD(ps + ps[:1], lr=0.1), "same parameter twice"),
    ],
)
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make(make_params(gdl.float32))


def test_bad_param_types():
    (p,) = make_params(gdl.float32, shapes=[(2,)])
    with pytest.raises(TypeError, match="single"):
        gdl.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        gdl.optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a Python number"):
        gdl.optim.SGD([p], lr="0.1")
    with pytest.raises(ValueError, match="non-leaf"):
        gdl.optim.SGD([p * 2], lr=0.1)


# -- state_dict / resume ----------------------------------------------------------------------------


def fake_grads(params, t):
    """A deterministic gradient that depends on the parameters (so state matters)."""
    for i, p in enumerate(params):
        x = p.numpy().astype(np.float64)
        p.grad = gdl.tensor(np.cos(x + t) + 0.1 * (i + 1) * x, dtype=p.dtype)


def train(opt, params, steps, start=0):
    for t in range(start, start + steps):
        fake_grads(params, t)
        opt.step()
        opt.zero_grad()


RESUME_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def copies(params):
    return [Parameter(gdl.tensor(p.numpy(), dtype=p.dtype)) for p in params]


@pytest.mark.parametrize("name,kw", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_resume_is_bit_for_bit(backend, name, kw):
    cls = getattr(gdl.optim, name)

    def build(ps, **over):
        return cls([{"params": ps[:2]}, {"params": ps[2:], "lr": kw["lr"] / 2}], **{**kw, **over})

    ref_params = make_params(gdl.float32)
    ref = build(ref_params)
    train(ref, ref_params, 10)

    params = make_params(gdl.float32)
    opt = build(params)
    train(opt, params, 5)
    sd = opt.state_dict()
    saved_params = copies(params)
    snapshot = {i: {k: (v.numpy() if k != "step" else v) for k, v in s.items()} for i, s in sd["state"].items()}
    train(opt, params, 2, start=5)  # later steps must not change the saved dict
    for i, s in sd["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(v.numpy() if k != "step" else v, snapshot[i][k])
    assert sorted(sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]

    fresh = build(saved_params, lr=123.0)  # the hyperparameters come from the state dict
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == kw["lr"] and fresh.param_groups[1]["lr"] == kw["lr"] / 2
    train(fresh, saved_params, 5, start=5)
    for p, q in zip(ref_params, saved_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    ref_sd, new_sd = ref.state_dict(), fresh.state_dict()
    assert ref_sd["param_groups"] == new_sd["param_groups"]
    for i in ref_sd["state"]:
        assert set(ref_sd["state"][i]) == set(new_sd["state"][i])
        for k, v in ref_sd["state"][i].items():
            w = new_sd["state"][i][k]
            if k == "step":
                assert v == w
            else:
                np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_load_state_dict_from_host_data_and_other_backend(backend):
    """Indices as strings, buffers as NumPy arrays or another backend's tensors all load."""
    params = make_params(gdl.float32)
    opt = gdl.optim.Adam(params, lr=0.01)
    train(opt, params, 3)
    sd = opt.state_dict()
    start = copies(params)
    train(opt, params, 2, start=3)  # the uninterrupted run
    host = {
        "state": {str(i): {k: (v.numpy().astype(np.float64) if k != "step" else float(v)) for k, v in s.items()}
                  for i, s in sd["state"].items()},
        "param_groups": [dict(g, betas=list(g["betas"])) for g in sd["param_groups"]],
    }
    other = "numpy" if backend != "numpy" else "array_api_strict"
    with gdl.use_backend(other):
        moved = {"state": {i: {k: (gdl.tensor(v.numpy()) if k != "step" else v) for k, v in s.items()}
                           for i, s in sd["state"].items()},
                 "param_groups": sd["param_groups"]}
    for loaded in (host, moved):
        q = copies(start)
        fresh = gdl.optim.Adam(q)
        fresh.load_state_dict(loaded)
        assert fresh.param_groups[0]["betas"] == (0.9, 0.999) and fresh.param_groups[0]["lr"] == 0.01
        for p in q:
            st_ = fresh.state[p]
            assert st_["step"] == 3 and isinstance(st_["step"], int)
            assert st_["exp_avg"].backend == backend and st_["exp_avg"].dtype == gdl.float32
        train(fresh, q, 2, start=3)
        for p, r in zip(params, q):
            np.testing.assert_array_equal(p.numpy(), r.numpy())


def test_load_state_dict_errors():
    params = make_params(gdl.float32)
    opt = gdl.optim.SGD(params, lr=0.1, momentum=0.9)
    train(opt, params, 2)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter group.*this optimizer has 2"):
        gdl.optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 3 parameter.*2 in this optimizer"):
        gdl.optim.SGD(params[:2], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'momentum_buffer'.*Adam"):
        gdl.optim.Adam(params).load_state_dict(sd)
    bad = {"state": {0: {"momentum_buffer": gdl.zeros(7)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"shape \(7,\).*shape \(3, 4\)"):
        gdl.optim.SGD(params, lr=0.1, momentum=0.9).load_state_dict(bad)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        gdl.optim.SGD(params, lr=0.1).load_state_dict({"state": {}})
    bad_lr = {"state": {}, "param_groups": [dict(sd["param_groups"][0], lr=-5.0)]}
    with pytest.raises(ValueError, match="lr -5.0"):
        gdl.optim.SGD(params, lr=0.1).load_state_dict(bad_lr)
    bad_idx = {"state": {9: {}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="parameter 9"):
        gdl.optim.SGD(params, lr=0.1).load_state_dict(bad_idx)


def test_repr():
    opt = gdl.optim.Adam(make_params(gdl.float32), lr=0.01)
    text = repr(opt)
    assert text.startswith("Adam (") and "lr: 0.01" in text and "betas: (0.9, 0.999)" in text


# -- the fused-kernel hook --------------------------------------------------------------------------


PORTABLE = {"sgd_momentum_step": sgd_momentum_step, "adam_step": adam_step, "rmsprop_step": rmsprop_step,
            "adagrad_step": adagrad_step}


def kernel_name_of(name, kw):
    if name == "SGD":
        plain = not kw.get("momentum") and not kw.get("weight_decay")
        return "sgd_step" if plain else "sgd_momentum_step"
    return {"Adam": "adam_step", "AdamW": "adam_step", "RMSprop": "rmsprop_step", "Adagrad": "adagrad_step"}[name]


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_fused_kernel_hook(backend, name, kw, monkeypatch):
    """A backend's fused kernel replaces the portable loop and gets the documented arguments."""
    be = gdl.get_backend_object(backend)
    kernel_name = kernel_name_of(name, kw)
    calls = []

    def kernel(xp, params, grads, state, steps, **hyper):
        assert xp is be.xp
        assert len(params) == len(grads) and all(len(col) == len(params) for col in state.values())
        assert all(isinstance(h, (int, float, bool)) for h in hyper.values())
        calls.append((len(params), sorted(state), list(steps), hyper))
        return PORTABLE[kernel_name](xp, params, grads, state, steps, **hyper)

    def inplace_sgd(param, grad, lr):  # the plain "sgd_step" kernel: param -= lr * grad, in place
        assert isinstance(lr, float) and be.is_array(param) and be.is_array(grad)
        calls.append(param.shape)
        param[...] = param - lr * grad

    monkeypatch.setitem(be.fused, kernel_name, inplace_sgd if kernel_name == "sgd_step" else kernel)
    if "sgd_step_all" in be.fused:  # CuPy's multi-tensor SGD would take every parameter first
        monkeypatch.delitem(be.fused, "sgd_step_all")
    plan = grad_plan(4)
    fused_params, _ = run_gdl(name, kw, gdl.float64, plan)
    if kernel_name == "sgd_step":
        assert len(calls) == 4 * len(SHAPES) - 1  # once per parameter with a gradient
    else:
        assert len(calls) == 4 and calls[2][0] == 2  # the parameter without a gradient is left out
    if name == "AdamW":
        assert calls[0][3]["decoupled_weight_decay"] is True
    if name != "SGD":
        assert calls[0][2] == [1, 1, 1] and calls[3][2] == [4, 3, 4]
    monkeypatch.delitem(be.fused, kernel_name)
    plain_params, _ = run_gdl(name, kw, gdl.float64, plan)
    for p, q in zip(fused_params, plain_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_inplace_kernel_does_not_leak_into_state_dict(backend, monkeypatch):
    """A kernel may update in place: a saved state dict must not change afterwards."""
    be = gdl.get_backend_object(backend)

    def inplace(xp, params, grads, state, steps, **hyper):
        new_params, new_state = sgd_momentum_step(xp, params, grads, state, steps, **hyper)
        for old, new in zip(params, new_params):
            old[...] = new
        bufs = state["momentum_buffer"]
        for i, new in enumerate(new_state["momentum_buffer"]):
            if bufs[i] is None:
                bufs[i] = new
            else:
                bufs[i][...] = new
        return params, {"momentum_buffer": bufs}

    monkeypatch.setitem(be.fused, "sgd_momentum_step", inplace)
    params = make_params(gdl.float64)
    opt = gdl.optim.SGD(params, lr=0.1, momentum=0.9)
    train(opt, params, 2)
    sd = opt.state_dict()
    saved = [sd["state"][i]["momentum_buffer"].numpy() for i in range(3)]
    train(opt, params, 2, start=2)
    for i in range(3):
        np.testing.assert_array_equal(sd["state"][i]["momentum_buffer"].numpy(), saved[i])


# -- optional cross-check against PyTorch -------------------------------------------------------


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    plan = grad_plan(6)
    with gdl.use_backend("numpy"):
        params, _ = run_gdl(name, kw, gdl.float64, plan)
    rng = np.random.default_rng(0)
    tparams = [torch.tensor(rng.normal(size=s), dtype=torch.float64, requires_grad=True) for s in SHAPES]
    topt = getattr(torch.optim, name)(tparams, **kw)
    for grads in plan:
        for p, g in zip(tparams, grads):
            p.grad = None if g is None else torch.tensor(g)
        topt.step()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_plain_sgd_hands_dense_gradients_to_a_multi_tensor_kernel(monkeypatch):
    """A backend's ``sgd_step_all`` (CuPy's) gets every dense gradient of a plain SGD group at
    once; sparse gradients, and all of them when ``sgd_step_all_fits`` says no, go one by one."""
    be = gdl.get_backend_object("numpy")
    calls = []

    def step_all(params, grads, lr):
        calls.append((len(params), lr))
        for p, g in zip(params, grads):
            p -= lr * g

    fits = [True]
    monkeypatch.setitem(be.fused, "sgd_step_all", step_all)
    monkeypatch.setitem(be.fused, "sgd_step_all_fits", lambda params, grads: fits[0])
    emb = gdl.nn.Embedding(5, 3, sparse=True, backend="numpy")
    lin = gdl.nn.Linear(3, 2, backend="numpy")
    unused = gdl.nn.Parameter(gdl.zeros(2, backend="numpy"))
    opt = gdl.optim.SGD([*emb.parameters(), *lin.parameters(), unused], lr=0.5)
    for _ in range(2):
        before = [p.numpy().copy() for p in lin.parameters()]
        opt.zero_grad()
        lin(emb(gdl.tensor([1, 3], backend="numpy"))).sum().backward()
        emb_before = emb.weight.numpy().copy()
        opt.step()
        assert calls == [(2, 0.5)]  # one call, for the Linear's weight and bias
        for p, b in zip(lin.parameters(), before):
            np.testing.assert_allclose(p.numpy(), b - 0.5 * p.grad.numpy())
        changed = np.flatnonzero(np.any(emb.weight.numpy() != emb_before, axis=1))
        assert changed.tolist() == [1, 3]  # the sparse rows, updated by the loop
        calls.clear()
    fits[0] = False
    opt.zero_grad()
    lin(emb(gdl.tensor([0], backend="numpy"))).sum().backward()
    opt.step()
    assert calls == []
