"""The Python side of ``gdl.backends.cupy_kernels`` on a machine without a GPU.

CI has no GPU, so ``tests/test_fused_kernels.py`` (the real kernels against the portable
paths) runs only on a lent GPU machine. This file loads ``cupy_kernels.py`` against a
stand-in ``cupy`` made of NumPy, with each raw CUDA kernel replaced by the same formula in
NumPy, and checks the part that is plain Python: the buffers a whole LSTM sequence
writes into and reads back, which slice each launch gets, the argument order, the
accumulator of the mean cross-entropy, the grouping of the multi-tensor SGD, and the
float16 round trip. The CUDA bodies themselves are checked only on the GPU.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import gdl

KERNELS_FILE = Path(gdl.__file__).parent / "backends" / "cupy_kernels.py"


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- NumPy stand-ins for the raw kernels, by kernel name ------------------------------------------


def _lstm_seq_fwd(gi, gh, has_gh, c, h_new, c_new, acts, batch, hidden):
    a = gi + gh if has_gh else gi
    i, f, o = (_sigmoid(a[:, k * hidden : (k + 1) * hidden]) for k in (0, 1, 3))
    g = np.tanh(a[:, 2 * hidden : 3 * hidden])
    c_new[...] = f * c + i * g
    h_new[...] = o * np.tanh(c_new)
    acts[...] = np.concatenate([i, f, g, o, np.tanh(c_new)], axis=1)


def _lstm_seq_bwd(dh_out, dh_next, has_next, dc, c_prev, acts, dgates, batch, hidden):
    i, f, g, o, tc = (acts[:, k * hidden : (k + 1) * hidden] for k in range(5))
    dh = dh_out + dh_next if has_next else dh_out
    dct = dc + dh * o * (1 - tc * tc)
    dgates[...] = np.concatenate([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                                  dh * tc * o * (1 - o)], axis=1)
    dc[...] = dct * f


def _xent_mean(logits, targets, ignore, rows, cols, loss, valid, grad, acc):
    ok = (targets != ignore) & (targets >= 0) & (targets < cols)
    t = np.where(ok, targets, 0)
    z = logits - logits.max(axis=1, keepdims=True)
    total = np.exp(z).sum(axis=1)
    loss[...] = np.where(ok, np.log(total) - z[np.arange(rows), t], 0)
    grad[...] = np.exp(z) / total[:, None]
    grad[np.arange(rows), t] -= 1
    grad[~ok] = 0
    valid[...] = ok
    acc[0] += loss.sum()
    acc[1] += ok.sum()
    if np.any((targets != ignore) & ~ok):
        acc[2] = 1


def _sgd_multi(*args):
    slots = (len(args) - 1) // 3
    for p, g, n in zip(args[:slots], args[slots : 2 * slots], args[2 * slots : 3 * slots]):
        if n:
            p -= args[-1] * g


RAW = {"gdl_lstm_seq_fwd": _lstm_seq_fwd, "gdl_lstm_seq_bwd": _lstm_seq_bwd,
       "gdl_softmax_xent_mean": _xent_mean, "gdl_sgd_multi": _sgd_multi}


class _RawModule:
    def __init__(self, code, options=()):
        self.code = code

    def get_function(self, name):
        base = name.rsplit("_", 1)[0]  # without _f32/_f64
        assert f"void {name}(" in self.code, f"{name} is not defined in the CUDA source"
        return lambda grid, block, args, shared_mem=0: RAW[base](*args)


class _Array(np.ndarray):
    """An ndarray whose 0-d items keep ``.get()`` (CuPy's copy to the host)."""

    def __getitem__(self, key):
        item = np.ndarray.__getitem__(self, key)
        return np.asarray(item).view(_Array) if np.ndim(item) == 0 else item

    def get(self):
        return np.asarray(self)


def _gru_forward(gi, gh, h, hidden):
    r, z = (_sigmoid(gi[:, k * hidden : (k + 1) * hidden] + gh[:, k * hidden : (k + 1) * hidden]) for k in (0, 1))
    n = np.tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
    return (1 - z) * n + z * h, r, z, n


def _gru_backward(dh, r, z, n, h, gh, hidden, dgi, dgh, dh_direct):
    dan = dh * (1 - z) * (1 - n * n)
    daz = dh * (h - n) * z * (1 - z)
    dar = dan * gh[:, 2 * hidden :] * r * (1 - r)
    dgi[...] = np.concatenate([dar, daz, dan], axis=1)
    dgh[...] = np.concatenate([dar, daz, dan * r], axis=1)
    dh_direct[...] = dh * z


def _fake_cupy():
    fake = types.ModuleType("cupy")
    for name in ("float16", "float32", "float64", "int32", "int64", "ndarray", "empty", "ascontiguousarray",
                 "matmul", "full", "zeros_like", "empty_like", "nan"):
        setattr(fake, name, getattr(np, name))
    fake.zeros = lambda *a, **k: np.zeros(*a, **k).view(_Array)
    fake.RawModule = _RawModule
    elementwise = {"gdl_gru_forward": _gru_forward, "gdl_gru_backward": _gru_backward}
    fake.ElementwiseKernel = lambda params, outs, body, name, **kw: elementwise.get(name)
    return fake


@pytest.fixture
def ck(monkeypatch):
    """``cupy_kernels`` loaded under a private name against the stand-in (a real CuPy, if any, is untouched)."""
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    spec = importlib.util.spec_from_file_location("_gdl_cupy_kernels_emulated", KERNELS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def finish(acc, grad, loss):  # the ElementwiseKernel that ends the mean
        grad /= acc[1]
        loss[...] = acc[0] / acc[1]

    module._xent_mean_finish = finish
    return module


def _with_kernels(kernels, run):
    """``run()`` on the NumPy backend with these entries in its ``fused`` table, then without."""
    be = gdl.get_backend_object("numpy")
    saved = dict(be.fused)
    try:
        be.fused.update(kernels)
        fused = run()
    finally:
        be.fused.clear()
        be.fused.update(saved)
    return fused, run()


@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("given_state", [False, True])
def test_lstm_sequence_buffers_and_launches(ck, steps, given_state):
    rng = np.random.default_rng(steps)
    x_host, h_host, c_host = rng.normal(size=(steps, 3, 5)), rng.normal(size=(1, 3, 6)), rng.normal(size=(1, 3, 6))

    def run():
        gdl.manual_seed(0)
        lstm = gdl.nn.LSTM(5, 6, dtype=gdl.float64, backend="numpy")
        x = gdl.tensor(x_host, requires_grad=True, backend="numpy")
        states = [gdl.tensor(s, requires_grad=True, backend="numpy") for s in (h_host, c_host)]
        out, (h, c) = lstm(x, tuple(states) if given_state else None)
        (out.sum() + (c * c).sum() + (3 * h).sum()).backward()
        grads = [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]
        return grads + ([s.grad.numpy() for s in states] if given_state else [])

    kernels = {"lstm_sequence": ck.lstm_sequence, "lstm_sequence_backward": ck.lstm_sequence_backward}
    fused, portable = _with_kernels(kernels, run)
    assert len(fused) == len(portable)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gru_gates_through_the_layer_and_the_cell(ck):
    rng = np.random.default_rng(3)
    x_host, h_host = rng.normal(size=(3, 2, 4)), rng.normal(size=(1, 2, 5))

    def run():
        gdl.manual_seed(0)
        gru = gdl.nn.GRU(4, 5, dtype=gdl.float64, backend="numpy")
        cell = gdl.nn.GRUCell(4, 5, dtype=gdl.float64, backend="numpy")
        x = gdl.tensor(x_host, requires_grad=True, backend="numpy")
        h0 = gdl.tensor(h_host, requires_grad=True, backend="numpy")
        out, h = gru(x, h0)
        (out.sum() + (h * h).sum() + cell(x[0], h0[0]).square().sum()).backward()
        return [out.numpy(), x.grad.numpy(), h0.grad.numpy()] + [p.grad.numpy() for p in
                                                                  (*gru.parameters(), *cell.parameters())]

    fused, portable = _with_kernels({"gru_gates": ck.gru_gates, "gru_gates_backward": ck.gru_gates_backward}, run)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_mean_cross_entropy_accumulator(ck):
    be = gdl.get_backend_object("numpy")
    logits = np.random.default_rng(4).normal(size=(7, 5))
    targets = np.array([0, 4, -100, 2, 2, 1, 3])
    loss, grad = ck.softmax_cross_entropy_mean(logits, targets, -100)
    ref_loss, ref_grad = be.fused["softmax_cross_entropy_mean"](logits, targets, -100)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)
    with pytest.raises(ValueError, match=r"must be in \[0, 5\)"):
        ck.softmax_cross_entropy_mean(logits, np.array([0, 5, 1, 1, 1, 1, 1]), -100)
    empty_loss, empty_grad = ck.softmax_cross_entropy_mean(np.zeros((0, 5)), np.zeros(0, dtype=np.int64), -100)
    assert np.isnan(empty_loss) and empty_grad.shape == (0, 5)


def test_multi_tensor_sgd_groups_of_eight(ck):
    rng = np.random.default_rng(5)
    params = [rng.normal(size=s) for s in [(3,), (0,), (2, 2)] + [(4,)] * 8]  # 11 tensors: two launches
    grads = [rng.normal(size=p.shape) for p in params]
    want = [p - 0.1 * g for p, g in zip(params, grads)]
    assert ck.sgd_step_all_fits(params, grads)
    assert not ck.sgd_step_all_fits(params, grads[:-1] + [grads[-1].astype(np.float32)])
    ck.sgd_step_all(params, grads, 0.1)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p, w, rtol=1e-15)


def test_float16_goes_through_the_kernels_in_float32(ck):
    seen = []

    def kernel(x, scale):
        seen.append(x.dtype)
        return x * scale, (x, scale)

    wrapped = ck._float32_for_half(kernel)
    half = np.array([1.0, 2.5], dtype=np.float16)
    out, (inner, _) = wrapped(half, 2.0)
    assert seen == [np.float32] and out.dtype == np.float16 and inner.dtype == np.float16
    np.testing.assert_array_equal(out, [2.0, 5.0])
    out, _ = wrapped(np.array([1.0], dtype=np.float32), 2.0)
    assert seen[-1] == np.float32 and out.dtype == np.float32
