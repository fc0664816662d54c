"""LBFGS, SparseAdam and swa_utils (AveragedModel, SWALR, update_bn), without PyTorch.

LBFGS is checked by what it reaches (Rosenbrock's minimum, a least-squares solution from
NumPy's lstsq), by its counters and stopping rules and by a state-dict round trip that
must continue bit for bit. SparseAdam against a float64 NumPy "masked Adam" written here
and against dense Adam where every step uses the same rows. The averaging against hand
formulas. PyTorch itself is compared in ``test_torch_crosscheck_optim_lbfgs_sparse_swa.py``.
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
from gdl.optim import swa_utils

F64 = gdl.float64


def _param(values, dtype=F64):
    return Parameter(gdl.tensor(np.asarray(values, dtype=np.float64), dtype=dtype))


# -- LBFGS ---------------------------------------------------------------------------------------------------


def _rosenbrock_closure(opt, x, calls=None):
    def closure():
        if calls is not None:
            calls.append(1)
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_minimises_rosenbrock(backend, line_search):
    x = _param([-1.2, 1.0])
    opt = gdl.optim.LBFGS([x], line_search_fn=line_search)
    closure = _rosenbrock_closure(opt, x)
    first = float(opt.step(closure))
    assert first == pytest.approx(24.2)  # the closure's loss at the start
    for _ in range(15):
        loss = opt.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-4)
    assert float(loss) < 1e-8
    assert x.dtype == F64


def _least_squares(seed=0, dtype=F64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    Y = X @ rng.normal(size=(3, 2)) + rng.normal(size=2) + 0.01 * rng.normal(size=(30, 2))
    W, b = _param(rng.normal(size=(3, 2)), dtype), _param(np.zeros(2), dtype)
    Xt, Yt = gdl.tensor(X, dtype=dtype), gdl.tensor(Y, dtype=dtype)
    A = np.hstack([X, np.ones((30, 1))])
    sol = np.linalg.lstsq(A, Y, rcond=None)[0]
    return (W, b), (Xt, Yt), (sol[:3], sol[3])


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_solves_least_squares(backend, line_search):
    (W, b), (X, Y), (W_star, b_star) = _least_squares()
    opt = gdl.optim.LBFGS([W, b], history_size=5, line_search_fn=line_search, max_iter=50)

    def closure():
        opt.zero_grad()
        loss = ((X @ W + b - Y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(W.numpy(), W_star, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), b_star, atol=1e-6)
    st = opt.state[W]
    assert set(st) == {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                       "prev_flat_grad", "prev_loss"}
    assert b not in opt.state  # all the state sits under the first parameter, as PyTorch's
    assert st["d"].shape == (8,) and len(st["old_dirs"]) <= 5 and len(st["ro"]) == len(st["old_stps"])


def test_lbfgs_float32_stays_float32(backend):
    (W, b), (X, Y), (W_star, _) = _least_squares(dtype=gdl.float32)
    opt = gdl.optim.LBFGS([W, b], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((X @ W + b - Y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    assert W.dtype == gdl.float32 and opt.state[W]["d"].dtype == gdl.float32
    np.testing.assert_allclose(W.numpy(), W_star, atol=1e-3)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_respects_max_iter_and_counts_evaluations(line_search):
    x = _param([-1.2, 1.0])
    calls = []
    opt = gdl.optim.LBFGS([x], max_iter=4, max_eval=100, line_search_fn=line_search)
    closure = _rosenbrock_closure(opt, x, calls)
    opt.step(closure)
    st = opt.state[x]
    assert st["n_iter"] == 4
    assert st["func_evals"] == len(calls)
    if line_search is None:
        assert len(calls) == 4  # the first evaluation, then one per iteration but the last


def test_lbfgs_max_eval_stops_the_step():
    x = _param([-1.2, 1.0])
    calls = []
    opt = gdl.optim.LBFGS([x], max_iter=100, max_eval=3)
    opt.step(_rosenbrock_closure(opt, x, calls))
    assert len(calls) == 3 and opt.state[x]["n_iter"] == 2


def test_lbfgs_stops_at_once_when_the_gradient_is_small():
    x = _param([1.0, 1.0])  # the minimum: the gradient is 0
    calls = []
    opt = gdl.optim.LBFGS([x])
    loss = opt.step(_rosenbrock_closure(opt, x, calls))
    assert float(loss) == 0.0 and len(calls) == 1
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}
    assert x.tolist() == [1.0, 1.0]


def test_lbfgs_history_is_a_ring_buffer():
    (W, b), (X, Y), _ = _least_squares(seed=3)
    opt = gdl.optim.LBFGS([W, b], history_size=2, max_iter=6)

    def closure():
        opt.zero_grad()
        loss = ((X @ W + b - Y) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(opt.state[W]["old_dirs"]) == 2 and len(opt.state[W]["ro"]) == 2


def _lbfgs_run(x0, state=None, steps=3, **kw):
    x = _param(x0)
    opt = gdl.optim.LBFGS([x], **kw)
    if state is not None:
        opt.load_state_dict(state)
    closure = _rosenbrock_closure(opt, x)
    out = []
    for _ in range(steps):
        out.append((float(opt.step(closure)), x.numpy().copy()))
    return opt, x, out


@pytest.mark.parametrize("via_file", [False, True])
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_continues_identically(backend, via_file, line_search):
    kw = dict(history_size=3, max_iter=4, line_search_fn=line_search)
    opt, x, _ = _lbfgs_run([-1.2, 1.0], steps=2, **kw)
    saved = opt.state_dict()
    assert list(saved["state"]) == [0]
    assert saved["param_groups"][0]["history_size"] == 3 and saved["param_groups"][0]["params"] == [0]
    x_mid = x.numpy().copy()
    if via_file:
        saved = gdl.io.loads(gdl.io.dumps(saved))
    frozen = {k: (v.numpy().copy() if hasattr(v, "numpy") else v) for k, v in saved["state"][0].items()
              if not isinstance(v, list)}
    expected = [(float(opt.step(_rosenbrock_closure(opt, x))), x.numpy().copy()) for _ in range(3)]
    for k, v in frozen.items():  # the state dict is a snapshot: later steps leave it alone
        got = saved["state"][0][k]
        np.testing.assert_array_equal(got.numpy() if hasattr(got, "numpy") else got, v)

    _, _, resumed = _lbfgs_run(x_mid, state=saved, steps=3, **kw)
    for (la, xa), (lb, xb) in zip(expected, resumed):
        assert la == lb
        np.testing.assert_array_equal(xa, xb)


def test_lbfgs_load_refuses_other_state():
    x = _param([1.0, 2.0])
    opt = gdl.optim.LBFGS([x])
    with pytest.raises(ValueError, match="not LBFGS state"):
        opt.load_state_dict({"state": {0: {"exp_avg": gdl.zeros(2)}}, "param_groups": opt.state_dict()["param_groups"]})
    with pytest.raises(ValueError, match="flat vector"):
        opt.load_state_dict({"state": {0: {"d": gdl.zeros(3, dtype=F64)}},
                             "param_groups": opt.state_dict()["param_groups"]})


def test_lbfgs_closure_errors():
    x = _param([1.0, 2.0])
    opt = gdl.optim.LBFGS([x])
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step()
    with pytest.raises(TypeError, match="closure must return the loss"):
        opt.step(lambda: None)

    def two_losses():
        opt.zero_grad()
        loss = x * x
        loss.sum().backward()
        return loss

    with pytest.raises(TypeError, match="closure must return the loss"):
        opt.step(two_losses)

    def failing():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        opt.step(failing)


def test_lbfgs_bad_arguments():
    x = _param([1.0])
    with pytest.raises(ValueError, match="parameter groups"):
        gdl.optim.LBFGS([{"params": [x]}, {"params": [_param([2.0])]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        gdl.optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size"):
        gdl.optim.LBFGS([x], history_size=0)
    with pytest.raises(ValueError, match="lr"):
        gdl.optim.LBFGS([x], lr=-1.0)
    opt = gdl.optim.LBFGS([x], max_iter=8)
    assert opt.param_groups[0]["max_eval"] == 10 and "maximize" not in opt.param_groups[0]
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [_param([3.0])]})


def test_lbfgs_unused_parameters_and_sparse_gradients(backend):
    emb = nn.Embedding(5, 2, sparse=True, dtype=F64)
    unused = _param([7.0])
    target = gdl.tensor(np.arange(4.0).reshape(2, 2), dtype=F64)
    opt = gdl.optim.LBFGS([emb.weight, unused], line_search_fn="strong_wolfe")
    before = emb.weight.numpy().copy()

    def closure():
        opt.zero_grad()
        loss = ((emb(gdl.tensor([1, 3])) - target) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
    w = emb.weight.numpy()
    np.testing.assert_allclose(w[[1, 3]], target.numpy(), atol=1e-8)
    np.testing.assert_array_equal(w[[0, 2, 4]], before[[0, 2, 4]])
    assert unused.tolist() == [7.0]


# -- SparseAdam ----------------------------------------------------------------------------------------------


class RefSparseAdam:
    """Adam on the rows present (coalesced), in float64 NumPy, from the published rule."""

    def __init__(self, w, lr, betas, eps, maximize=False):
        self.w, self.lr, (self.b1, self.b2), self.eps, self.maximize = w.copy(), lr, betas, eps, maximize
        self.m, self.v, self.t = np.zeros_like(w), np.zeros_like(w), 0

    def step(self, idx, rows):
        self.t += 1
        g = np.zeros_like(self.w)
        np.add.at(g, idx, rows)
        if self.maximize:
            g = -g
        used = np.unique(idx)
        if used.size == 0:
            return
        self.m[used] = self.b1 * self.m[used] + (1 - self.b1) * g[used]
        self.v[used] = self.b2 * self.v[used] + (1 - self.b2) * g[used] ** 2
        m_hat = self.m[used] / (1 - self.b1**self.t)
        v_hat = self.v[used] / (1 - self.b2**self.t)
        self.w[used] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps / math.sqrt(1 - self.b2**self.t))


def _sparse_batches(seed, n, vocab=8, steps=6):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, vocab, size=n), rng.normal(size=(n, 3))) for _ in range(steps)]


def _embedding(weights, sparse=True):
    emb = nn.Embedding(*weights.shape, sparse=sparse, dtype=F64)
    emb.weight.data = gdl.tensor(weights, dtype=F64).data
    return emb


def _emb_loss(emb, idx, coef):
    return (emb(gdl.tensor(idx)) * gdl.tensor(coef, dtype=F64)).sum()


@pytest.mark.parametrize("maximize", [False, True])
def test_sparse_adam_touches_only_used_rows_and_matches_masked_adam(backend, maximize):
    w0 = np.random.default_rng(1).normal(size=(12, 3))
    batches = _sparse_batches(2, n=3, vocab=12)
    batches[3] = (np.array([5, 5, 0]), np.ones((3, 3)))  # repeats add up before the update
    emb = _embedding(w0)
    opt = gdl.optim.SparseAdam(emb.parameters(), lr=0.05, betas=(0.8, 0.95), eps=1e-6, maximize=maximize)
    ref = RefSparseAdam(w0, 0.05, (0.8, 0.95), 1e-6, maximize)
    used = set()
    for idx, coef in batches:
        opt.zero_grad()
        _emb_loss(emb, idx, coef).backward()
        assert emb.weight.grad.is_sparse
        opt.step()
        ref.step(idx, coef)
        used |= set(idx.tolist())
        np.testing.assert_allclose(emb.weight.numpy(), ref.w, rtol=1e-12, atol=1e-14)
    unused = sorted(set(range(12)) - used)
    assert unused  # the batches leave some rows alone
    np.testing.assert_array_equal(emb.weight.numpy()[unused], w0[unused])
    st = opt.state[emb.weight]
    assert st["step"] == len(batches)
    assert not st["exp_avg"].numpy()[unused].any()
    np.testing.assert_allclose(st["exp_avg_sq"].numpy(), ref.v, rtol=1e-12, atol=1e-300)


def test_sparse_adam_matches_dense_adam_when_the_same_rows_are_used(backend):
    w0 = np.random.default_rng(3).normal(size=(6, 3))
    rng = np.random.default_rng(4)
    sparse, dense = _embedding(w0), _embedding(w0, sparse=False)
    # SparseAdam adds eps to sqrt(v), Adam to sqrt(v / (1 - beta2**t)): a tiny eps hides the difference
    opt_s = gdl.optim.SparseAdam(sparse.parameters(), lr=0.1, eps=1e-200)
    opt_d = gdl.optim.Adam(dense.parameters(), lr=0.1, eps=1e-200)
    for _ in range(5):
        idx, coef = np.array([0, 2, 2, 5]), rng.normal(size=(4, 3))
        for emb, opt in ((sparse, opt_s), (dense, opt_d)):
            opt.zero_grad()
            _emb_loss(emb, idx, coef).backward()
            opt.step()
    np.testing.assert_allclose(sparse.weight.numpy(), dense.weight.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(sparse.weight.numpy()[[1, 3, 4]], w0[[1, 3, 4]])


def test_sparse_adam_refuses_dense_gradients_and_bad_arguments():
    w = _param(np.ones((3, 2)))
    opt = gdl.optim.SparseAdam([w])
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        opt.step()
    assert w.tolist() == [[1.0, 1.0]] * 3 and not opt.state
    with pytest.raises(ValueError, match="learning rate"):
        gdl.optim.SparseAdam([w], lr=0.0)
    with pytest.raises(ValueError, match="epsilon"):
        gdl.optim.SparseAdam([w], eps=0.0)
    with pytest.raises(ValueError, match="beta"):
        gdl.optim.SparseAdam([w], betas=(1.0, 0.9))


def test_sparse_adam_state_dict_round_trip(backend):
    w0 = np.random.default_rng(5).normal(size=(8, 3))
    batches = _sparse_batches(6, n=3)
    emb = _embedding(w0)
    opt = gdl.optim.SparseAdam(emb.parameters(), lr=0.1)

    def run(emb, opt, part):
        for idx, coef in part:
            opt.zero_grad()
            _emb_loss(emb, idx, coef).backward()
            opt.step()

    run(emb, opt, batches[:3])
    saved, w_mid = gdl.io.loads(gdl.io.dumps(opt.state_dict())), emb.weight.numpy().copy()
    run(emb, opt, batches[3:])
    emb2 = _embedding(w_mid)
    opt2 = gdl.optim.SparseAdam(emb2.parameters(), lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.1
    run(emb2, opt2, batches[3:])
    np.testing.assert_array_equal(emb2.weight.numpy(), emb.weight.numpy())


# -- AveragedModel -----------------------------------------------------------------------------------------------


def _bn_model():
    gdl.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2, dtype=F64), nn.BatchNorm1d(2, dtype=F64))


def _set_weights(model, rng):
    for p in model.parameters():
        p.data = gdl.tensor(rng.normal(size=p.shape), dtype=F64).data
    for b in model.buffers():
        if b.dtype == F64:
            b.data = gdl.tensor(rng.uniform(0.5, 2.0, size=b.shape), dtype=F64).data
        else:
            b.data = b.data + 3


def _snapshots(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("use_buffers", [False, True])
def test_averaged_model_equal_weights(backend, use_buffers):
    model, rng = _bn_model(), np.random.default_rng(0)
    swa = swa_utils.AveragedModel(model, use_buffers=use_buffers)
    assert int(swa.n_averaged) == 0 and swa.n_averaged.dtype == gdl.int64
    seen = []
    for _ in range(4):
        _set_weights(model, rng)
        seen.append(_snapshots(model))
        swa.update_parameters(model)
    assert int(swa.n_averaged) == 4
    got = {k[len("module."):]: v.numpy() for k, v in swa.state_dict().items() if k.startswith("module.")}
    for name in got:
        stack = np.stack([s[name] for s in seen])
        if name.endswith("num_batches_tracked"):
            # ints: averaged in float and truncated back at each update (PyTorch's copy_), or copied
            want = seen[-1][name] if not use_buffers else _truncated_running_mean(stack)
            assert got[name] == want
        elif use_buffers or not name.startswith("1.running"):
            np.testing.assert_allclose(got[name], stack.mean(axis=0), rtol=1e-13)
        else:
            np.testing.assert_array_equal(got[name], seen[-1][name])  # buffers follow the model


def _truncated_running_mean(values):
    avg = values[0]
    for n, v in enumerate(values[1:], start=1):
        avg = np.trunc(avg + (v - avg) / (n + 1)).astype(values.dtype)
    return avg


def test_averaged_model_ema_functions_agree(backend):
    model, rng = _bn_model(), np.random.default_rng(1)
    decay = 0.75
    multi = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(decay))
    single = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(decay))
    expected = None
    for _ in range(4):
        _set_weights(model, rng)
        w = model[0].weight.numpy().copy()
        expected = w if expected is None else decay * expected + (1 - decay) * w
        multi.update_parameters(model)
        single.update_parameters(model)
    np.testing.assert_allclose(multi.module[0].weight.numpy(), expected, rtol=1e-13)
    np.testing.assert_allclose(single.module[0].weight.numpy(), expected, rtol=1e-13)


def test_averaged_model_swa_functions_agree_with_the_default(backend):
    model, rng = _bn_model(), np.random.default_rng(2)
    models = [swa_utils.AveragedModel(model), swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn()),
              swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn())]
    for _ in range(3):
        _set_weights(model, rng)
        for m in models:
            m.update_parameters(model)
    for m in models[1:]:
        np.testing.assert_allclose(m.module[0].bias.numpy(), models[0].module[0].bias.numpy(), rtol=1e-14)


def test_averaged_model_custom_fn_forward_copy_and_state_dict(backend):
    model = nn.Linear(2, 1, dtype=F64)
    swa = swa_utils.AveragedModel(model, avg_fn=lambda avg, cur, n: avg + 2 * cur)
    x = gdl.tensor([[1.0, 2.0]], dtype=F64)
    swa.update_parameters(model)
    np.testing.assert_allclose(swa(x).numpy(), model(x).numpy())
    w0 = model.weight.numpy().copy()
    model.weight.data = model.weight.data * 0 + 1.0  # the averaged copy is its own tensor
    np.testing.assert_array_equal(swa.module.weight.numpy(), w0)
    swa.update_parameters(model)
    np.testing.assert_allclose(swa.module.weight.numpy(), w0 + 2)
    assert list(swa.state_dict()) == ["n_averaged", "module.weight", "module.bias"]
    other = swa_utils.AveragedModel(nn.Linear(2, 1, dtype=F64))
    other.load_state_dict(swa.state_dict())
    assert int(other.n_averaged) == 2
    np.testing.assert_array_equal(other.module.weight.numpy(), swa.module.weight.numpy())
    with pytest.raises(ValueError, match="not both"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)


# -- SWALR ----------------------------------------------------------------------------------------------------


def _sgd(lrs=(1.0,)):
    groups = [{"params": [_param([0.0])], "lr": lr} for lr in lrs]
    return gdl.optim.SGD(groups, lr=lrs[0])


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("epochs", [0, 1, 4])
def test_swalr_anneals_to_swa_lr(strategy, epochs):
    opt = _sgd((1.0, 0.4))
    sched = swa_utils.SWALR(opt, swa_lr=[0.1, 0.2], anneal_epochs=epochs, anneal_strategy=strategy)
    assert [g["swa_lr"] for g in opt.param_groups] == [0.1, 0.2]

    def anneal(t):
        return (1 - math.cos(math.pi * t)) / 2 if strategy == "cos" else t

    for step in range(8):
        s = max(1, step) if epochs == 0 else step
        alpha = anneal(min(1.0, s / max(1, epochs)))
        want = [swa * alpha + lr0 * (1 - alpha) for swa, lr0 in ((0.1, 1.0), (0.2, 0.4))]
        np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-12)
        sched.step()
    np.testing.assert_allclose(sched.get_last_lr(), [0.1, 0.2], rtol=1e-12)


def test_swalr_state_dict_and_errors():
    opt = _sgd()
    sched = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    sched.step()
    sched.step()
    saved, saved_opt = sched.state_dict(), opt.state_dict()
    assert "anneal_func" not in saved and "optimizer" not in saved
    later = []
    for _ in range(3):
        sched.step()
        later.append(sched.get_last_lr())
    opt2 = _sgd()
    sched2 = swa_utils.SWALR(opt2, swa_lr=0.9)  # cos, another swa_lr: the state dicts decide
    opt2.load_state_dict(saved_opt)  # the lr and swa_lr of each group
    sched2.load_state_dict(saved)
    assert sched2.anneal_func(0.5) == 0.5  # linear again
    for want in later:
        sched2.step()
        np.testing.assert_allclose(sched2.get_last_lr(), want, rtol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        swa_utils.SWALR(_sgd((1.0, 2.0)), swa_lr=[0.1])
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(_sgd(), swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(_sgd(), swa_lr=0.1, anneal_epochs=-1)


# -- update_bn --------------------------------------------------------------------------------------------------


def test_update_bn_recomputes_running_statistics(backend):
    rng = np.random.default_rng(7)
    data = [rng.normal(size=(5, 3)) * 2 + 1 for _ in range(4)]
    model = nn.Sequential(nn.Linear(3, 3, dtype=F64), nn.BatchNorm1d(3, momentum=0.3, dtype=F64))
    model.eval()
    loader = [(gdl.tensor(x, dtype=F64), gdl.tensor(0)) for x in data]
    swa_utils.update_bn(loader, model)
    bn = model[1]
    hidden = [x @ model[0].weight.numpy().T + model[0].bias.numpy() for x in data]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([h.mean(axis=0) for h in hidden], axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([h.var(axis=0, ddof=1) for h in hidden], axis=0),
                               rtol=1e-12)
    assert int(bn.num_batches_tracked) == 4
    assert bn.momentum == 0.3 and not model.training and not bn.training
    # plain tensors as batches, and a model without BatchNorm (nothing to do)
    swa_utils.update_bn([gdl.tensor(x, dtype=F64) for x in data[:1]], model)
    assert int(bn.num_batches_tracked) == 1
    swa_utils.update_bn(loader, nn.Linear(3, 1, dtype=F64))


def test_update_bn_on_an_averaged_model(backend):
    model, rng = _bn_model(), np.random.default_rng(8)
    swa = swa_utils.AveragedModel(model)
    for _ in range(2):
        _set_weights(model, rng)
        swa.update_parameters(model)
    data = [gdl.tensor(rng.normal(size=(4, 3)), dtype=F64) for _ in range(3)]
    swa_utils.update_bn(data, swa)
    h = np.concatenate([d.numpy() @ swa.module[0].weight.numpy().T + swa.module[0].bias.numpy() for d in data])
    np.testing.assert_allclose(swa.module[1].running_mean.numpy(), h.mean(axis=0), rtol=1e-12)
    assert int(swa.module[1].num_batches_tracked) == 3
