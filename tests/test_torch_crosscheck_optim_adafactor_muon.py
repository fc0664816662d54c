"""Adafactor and Muon against PyTorch, side by side (float64, same starting weights and gradients).

Several steps over parameters of 0, 1, 2 and 3 dimensions (Adafactor) or 2-D ones (Muon), two parameter
groups, a state-dict round trip through PyTorch's optimizer mid-run. PyTorch runs Muon's Newton-Schulz
iteration in bfloat16; gdl runs it in the parameter's dtype, so the exact comparison makes PyTorch's
``Tensor.bfloat16`` a copy for the run (its own code path otherwise), and one test compares with the
real bfloat16 iteration at a bfloat16 tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import close  # noqa: E402

import gdl  # noqa: E402
import gdl.optim  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402

ADAFACTOR_SHAPES = [(3, 4), (5,), (), (2, 3, 4), (1, 6)]
MUON_SHAPES = [(3, 5), (6, 2), (4, 4)]


@pytest.fixture
def no_bfloat16(monkeypatch):
    """PyTorch's Muon with its bfloat16 cast replaced by a copy in the input's dtype."""
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())


def _torch_state(sd):
    state = {i: {k: torch.tensor(float(v)) if k == "step" else torch.tensor(np.asarray(v.numpy()))
                 for k, v in st_.items()} for i, st_ in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


def _gdl_state(sd):
    state = {i: {k: v.item() if k == "step" else v.numpy() for k, v in st_.items()} for i, st_ in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


def _groups(params, second_lr):
    if second_lr is None:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": second_lr}]


def _run(name, shapes, kw, *, steps=8, second_lr=None, resume_at=None, seed=0, scale=1.0, tol=None):
    tol = tol or dict(rtol=1e-9, atol=1e-12)
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s) * scale for s in shapes]
    ours = [Parameter(gdl.tensor(a, dtype=gdl.float64)) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    gopt = getattr(gdl.optim, name)(_groups(ours, second_lr), **kw)
    topt = getattr(torch.optim, name)(_groups(theirs, second_lr), **kw)
    for step in range(steps):
        if step == resume_at:  # gdl -> PyTorch -> gdl, into fresh optimizers
            sd = gopt.state_dict()
            probe = getattr(torch.optim, name)(_groups(theirs, second_lr), **kw)
            probe.load_state_dict(_torch_state(sd))
            gopt = getattr(gdl.optim, name)(_groups(ours, second_lr), **kw)
            gopt.load_state_dict(_gdl_state(probe.state_dict()))
            tstate = topt.state_dict()["state"]
            for i, st_ in sd["state"].items():
                assert set(st_) == set(tstate[i])  # PyTorch's state names
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            g = rng.standard_normal(shapes[i]) + (0.3 if step % 3 else 0.0)
            if i == 1 and step % 4 == 2:  # no gradient this step: skipped, state kept
                p.grad, tp.grad = None, None
            else:
                p.grad, tp.grad = gdl.tensor(g, dtype=gdl.float64), torch.tensor(g)
        gopt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            close(p, tp, f"{name} parameter {i} after step {step}", **tol)
    tsd = topt.state_dict()
    for i, st_ in gopt.state_dict()["state"].items():
        assert set(st_) == set(tsd["state"][i])
        for k, v in st_.items():
            if k == "step":
                assert v == tsd["state"][i][k].item()
            else:
                close(v, tsd["state"][i][k], f"state {k} of parameter {i}", **tol)
    return gopt


@pytest.mark.parametrize("kw", [
    {},
    dict(lr=0.1, beta2_decay=-0.5, eps=(1e-3, 1e-2), d=1.5, weight_decay=0.1),
    dict(lr=0.5, eps=(1e-30, 0.0), weight_decay=0.01, maximize=True),
])
@pytest.mark.parametrize("second_lr", [None, 0.03])
def test_adafactor_matches_torch(kw, second_lr):
    _run("Adafactor", ADAFACTOR_SHAPES, kw, steps=10, second_lr=second_lr, resume_at=4)


def test_adafactor_small_weights_use_eps2():
    """Tiny weights: the step size comes from eps2, not the weights' RMS."""
    _run("Adafactor", [(4, 3), (3,)], dict(lr=0.05), steps=5, scale=1e-6, resume_at=2)


def test_adafactor_float32_defaults_match_torch():
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3)).astype(np.float32)
    p, tp = Parameter(gdl.tensor(start)), torch.tensor(start, requires_grad=True)
    gopt, topt = gdl.optim.Adafactor([p]), torch.optim.Adafactor([tp])
    assert {k: v for k, v in gopt.param_groups[0].items() if k != "params"} == {
        k: v for k, v in topt.param_groups[0].items() if k != "params"}
    for _ in range(10):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        p.grad, tp.grad = gdl.tensor(g), torch.tensor(g)
        gopt.step()
        topt.step()
    assert p.dtype == gdl.float32
    close(p, tp, "Adafactor float32", rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [
    {},
    dict(lr=0.02, weight_decay=0.0, momentum=0.9, nesterov=False),
    dict(lr=0.05, weight_decay=0.01, ns_steps=3, adjust_lr_fn="match_rms_adamw", eps=1e-3),
    dict(lr=0.01, ns_coefficients=(2.0, -1.5, 0.5), adjust_lr_fn="original", momentum=0.0),
])
@pytest.mark.parametrize("second_lr", [None, 0.2])
def test_muon_matches_torch(no_bfloat16, kw, second_lr):
    _run("Muon", MUON_SHAPES, kw, steps=8, second_lr=second_lr, resume_at=3)


def test_muon_defaults_match_torch():
    p, tp = Parameter(gdl.zeros((3, 2))), torch.zeros(3, 2, requires_grad=True)
    gopt, topt = gdl.optim.Muon([p]), torch.optim.Muon([tp])
    ours = {k: v for k, v in gopt.param_groups[0].items() if k not in ("params", "maximize")}
    assert ours == {k: v for k, v in topt.param_groups[0].items() if k != "params"}


def test_muon_close_to_torch_bfloat16():
    """Against PyTorch's real bfloat16 iteration: each step (size about lr) agrees to 10% of lr."""
    _run("Muon", MUON_SHAPES, dict(lr=0.02), steps=3, tol=dict(rtol=0, atol=0.1 * 0.02 * 3))


def test_muon_newton_schulz_orthogonalizes():
    """Many iterations of a converging polynomial give U V^T from the SVD."""
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 3))
    xp = gdl.tensor(g, dtype=gdl.float64)._backend.xp
    from gdl.optim.muon import zeropower_via_newtonschulz

    out = zeropower_via_newtonschulz(xp, gdl.tensor(g, dtype=gdl.float64).data, (1.5, -0.5, 0.0), 60, 1e-7)
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    np.testing.assert_allclose(np.asarray(gdl.tensor(out).numpy()), u @ vt, atol=1e-8)
