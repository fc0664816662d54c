"""Each fused CuPy kernel against its portable Array-API reference, on two targets:

- ``cupy``: the kernels on a GPU (these carry the ``gpu`` marker; run with ``nox -s tests_cupy``);
- ``host``: the same CUDA source compiled for the CPU by ``tests/cuda_host.py``, with
  ``cupy_kernels.py`` loaded against its NumPy stand-in of ``cupy`` and put in the NumPy
  backend's ``fused`` table. This runs everywhere (it needs g++), so CI checks every kernel's
  arithmetic, indexing and launch arguments without a GPU.
"""

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import cuda_host
import numpy as np
import pytest

import gdl

KERNELS_FILE = Path(gdl.__file__).parent / "backends" / "cupy_kernels.py"


@dataclass
class Target:
    be: object  # the backend whose ``fused`` table holds the kernels
    xp: object  # cupy, or NumPy for the host target

    @property
    def name(self):
        return self.be.name

    def asarray(self, a):
        return self.xp.asarray(a)

    def asnumpy(self, a):
        return a.get() if hasattr(a, "get") else np.asarray(a)


def host_kernels():
    """``cupy_kernels`` loaded under a private name against ``cuda_host``'s stand-in ``cupy``
    (a real CuPy, if any, stays in ``sys.modules`` untouched). Nothing compiles until a kernel runs."""
    real = sys.modules.get("cupy")
    sys.modules["cupy"] = cuda_host.fake_cupy()
    try:
        spec = importlib.util.spec_from_file_location("_gdl_cupy_kernels_on_host", KERNELS_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if real is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = real
    return module


@pytest.fixture(scope="module", params=[pytest.param("cupy", marks=pytest.mark.gpu), "host"])
def kernels(request):
    if request.param == "cupy":
        import cupy

        yield Target(gdl.get_backend_object("cupy"), cupy)  # raises (fails) if CuPy or the GPU is missing
        return
    if cuda_host.compiler() is None:
        pytest.skip("no C++ compiler to build the CUDA kernels for the host")
    be = gdl.get_backend_object("numpy")
    saved = dict(be.fused)
    be.fused.clear()
    be.fused.update(host_kernels().load())
    try:
        yield Target(be, np)
    finally:
        be.fused.clear()
        be.fused.update(saved)


def _fused_and_portable(target, run):
    """``(run() with the backend's fused kernels, run() with none of them)``."""
    be = target.be
    fused = run()
    saved = dict(be.fused)
    be.fused.clear()
    try:
        return fused, run()
    finally:
        be.fused.update(saved)


def _grads(fn, x_host, target):
    x = gdl.tensor(x_host, backend=target.name, requires_grad=True)
    out = fn(x)
    w = gdl.tensor(np.random.default_rng(1).normal(size=out.shape), dtype=out.dtype, backend=target.name)
    (out * w).sum().backward()
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu"])
def test_activation_kernels_match_portable(kernels, name):
    fn = getattr(gdl, name)
    x = np.random.default_rng(0).normal(size=(64, 33)).astype(np.float32) * 3
    (fused_out, fused_grad), (ref_out, ref_grad) = _fused_and_portable(
        kernels, lambda: _grads(fn, x, kernels))
    np.testing.assert_allclose(fused_out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused_grad, ref_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("classes", [10, 65, 1000])
def test_softmax_cross_entropy_kernel_matches_portable(kernels, reduction, classes):
    rng = np.random.default_rng(classes)
    logits = (rng.normal(size=(37, classes)) * 20).astype(np.float32)
    target = rng.integers(0, classes, size=37)
    target[3] = -100  # ignored

    def run():
        x = gdl.tensor(logits, backend=kernels.name, requires_grad=True)
        loss = gdl.nn.functional.cross_entropy(x, gdl.tensor(target, backend=kernels.name), reduction=reduction)
        loss.backward()
        return loss.item(), x.grad.numpy()

    (fused_loss, fused_grad), (ref_loss, ref_grad) = _fused_and_portable(kernels, run)
    assert np.isfinite(fused_loss)
    np.testing.assert_allclose(fused_loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(fused_grad, ref_grad, rtol=1e-4, atol=1e-6)


def test_dropout_kernel_scales_and_masks(kernels):
    x = gdl.ones(200, 300, backend=kernels.name, requires_grad=True)
    y = gdl.nn.functional.dropout(x, 0.25, training=True)
    vals = np.unique(y.numpy())
    assert len(vals) == 2 and vals[0] == 0.0 and np.isclose(vals[1], 1 / 0.75)
    kept = (y.numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())


def test_lstm_gate_kernels_match_portable_formulas(kernels):
    rng = np.random.default_rng(0)
    B, H = 5, 7
    gates = rng.normal(size=(B, 4 * H))
    c = rng.normal(size=(B, H))
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    fused = kernels.be.fused
    h_new, c_new, saved = fused["lstm_gates"](kernels.asarray(gates), kernels.asarray(c))
    dgates, dc_prev = fused["lstm_gates_backward"](kernels.asarray(dh), kernels.asarray(dc), saved)

    def sig(v):
        return 1 / (1 + np.exp(-v))

    i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
    i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
    c_ref = f * c + i * g
    h_ref = o * np.tanh(c_ref)
    np.testing.assert_allclose(kernels.asnumpy(c_new), c_ref, rtol=1e-10)
    np.testing.assert_allclose(kernels.asnumpy(h_new), h_ref, rtol=1e-10)
    dct = dc + dh * o * (1 - np.tanh(c_ref) ** 2)
    d_ref = np.concatenate(
        [dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g), dh * np.tanh(c_ref) * o * (1 - o)], axis=1
    )
    np.testing.assert_allclose(kernels.asnumpy(dgates), d_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(kernels.asnumpy(dc_prev), dct * f, rtol=1e-10)


def test_sgd_kernel_updates_in_place(kernels):
    xp = kernels.xp

    p = xp.arange(6, dtype=xp.float32)
    g = xp.ones(6, dtype=xp.float32)
    kernels.be.fused["sgd_step"](p, g, 0.5)
    np.testing.assert_allclose(kernels.asnumpy(p), np.arange(6) - 0.5)


def test_lstm_step_kernels_match_the_summed_gate_kernels(kernels):
    rng = np.random.default_rng(3)
    B, H = 4, 6
    gi, gh = kernels.asarray(rng.normal(size=(B, 4 * H))), kernels.asarray(rng.normal(size=(B, 4 * H)))
    c = kernels.asarray(rng.normal(size=(B, H)))
    da, db, dc = (kernels.asarray(rng.normal(size=(B, H))) for _ in range(3))
    f = kernels.be.fused
    h1, c1, s1 = f["lstm_step"](gi, gh, c)
    h2, c2, s2 = f["lstm_gates"](gi + gh, c)
    np.testing.assert_allclose(kernels.asnumpy(h1), kernels.asnumpy(h2), rtol=1e-12)
    np.testing.assert_allclose(kernels.asnumpy(c1), kernels.asnumpy(c2), rtol=1e-12)
    g1, p1 = f["lstm_step_backward"](s1, da, db, dc)
    g2, p2 = f["lstm_gates_backward"](da + db, dc, s2)
    np.testing.assert_allclose(kernels.asnumpy(g1), kernels.asnumpy(g2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(kernels.asnumpy(p1), kernels.asnumpy(p2), rtol=1e-12, atol=1e-15)


def test_lstm_layer_with_fused_kernels_matches_portable_path(kernels):
    x_host = np.random.default_rng(4).normal(size=(5, 3, 4))

    def run():
        gdl.manual_seed(0)
        with gdl.use_backend(kernels.name):
            lstm = gdl.nn.LSTM(4, 6, num_layers=2, dtype=gdl.float64)
            x = gdl.tensor(x_host, requires_grad=True)
            out, (h, c) = lstm(x)
            (out.sum() + (c * c).sum()).backward()
            return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]

    fused, portable = _fused_and_portable(kernels, run)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_step_all_updates_every_tensor_in_place(kernels, dtype):
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (7,), (0,), (2, 3, 5), (1,), (100, 33)] + [(4,)] * 5  # 11 tensors: two launches
    params = [kernels.asarray(rng.normal(size=s).astype(dtype)) for s in shapes]
    grads = [kernels.asarray(rng.normal(size=s).astype(dtype)) for s in shapes]
    expected = [kernels.asnumpy(p) - 0.25 * kernels.asnumpy(g) for p, g in zip(params, grads)]
    fused = kernels.be.fused
    assert fused["sgd_step_all_fits"](params, grads)
    ids = [id(p) for p in params]
    fused["sgd_step_all"](params, grads, 0.25)
    assert [id(p) for p in params] == ids
    for p, e in zip(params, expected):
        np.testing.assert_allclose(kernels.asnumpy(p), e, rtol=1e-6, atol=1e-7)


def test_sgd_step_all_refuses_what_it_cannot_take(kernels):
    xp = kernels.xp

    fits = kernels.be.fused["sgd_step_all_fits"]
    a = xp.ones((4, 4), dtype=xp.float32)
    assert not fits([a.astype(xp.float16)], [a.astype(xp.float16)])
    assert not fits([a, a], [a, a.astype(xp.float64)])
    assert not fits([a], [xp.ones((4, 8), dtype=xp.float32)[:, ::2]])  # a strided gradient


def test_sgd_optimizer_with_the_multi_tensor_kernel_matches_portable(kernels):
    def run():
        gdl.manual_seed(0)
        with gdl.use_backend(kernels.name):
            model = gdl.nn.Sequential(gdl.nn.Linear(5, 7), gdl.nn.Tanh(), gdl.nn.Linear(7, 3))
            opt = gdl.optim.SGD(model.parameters(), lr=0.1)
            x = gdl.tensor(np.random.default_rng(2).normal(size=(6, 5)), dtype=gdl.float32)
            for _ in range(3):
                opt.zero_grad()
                model(x).square().sum().backward()
                opt.step()
            return [p.numpy() for p in model.parameters()]

    fused, portable = _fused_and_portable(kernels, run)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_mean_cross_entropy_kernel_edge_cases(kernels):
    F = gdl.nn.functional
    logits = gdl.tensor(np.zeros((3, 4)), dtype=gdl.float32, backend=kernels.name, requires_grad=True)
    loss = F.cross_entropy(logits, gdl.tensor([-100, -100, -100], backend=kernels.name))
    assert np.isnan(loss.item())  # a mean over no rows, as PyTorch
    with pytest.raises(ValueError, match=r"target class indices must be in \[0, 4\)"):
        F.cross_entropy(logits, gdl.tensor([0, 4, 1], backend=kernels.name))
    loss = F.cross_entropy(logits, gdl.tensor([0, 1, -100], backend=kernels.name))
    loss.backward()
    assert loss.item() == pytest.approx(np.log(4.0), rel=1e-6)
    want = np.full((3, 4), 0.25 / 2)
    want[0, 0] -= 0.5
    want[1, 1] -= 0.5
    want[2] = 0.0
    np.testing.assert_allclose(logits.grad.numpy(), want, rtol=1e-6, atol=1e-7)
    empty = gdl.tensor(np.zeros((0, 4)), dtype=gdl.float32, backend=kernels.name)
    assert np.isnan(F.cross_entropy(empty, gdl.tensor(np.zeros(0, dtype=np.int64), backend=kernels.name)).item())


@pytest.mark.parametrize("case", ["tanh", "sigmoid", "relu", "cross_entropy", "dropout", "lstm", "gru", "sgd"])
def test_float16_runs_through_every_kernel_in_float32(kernels, case):
    """float16 arrays go through the kernels in float32 and come back as float16, close to
    the float32 result (the raw softmax kernel has no half version: this once read past
    the end of a float16 array)."""
    rng = np.random.default_rng(7)
    F = gdl.nn.functional

    def run(dtype):
        gdl.manual_seed(0)
        with gdl.use_backend(kernels.name):
            if case in ("lstm", "gru"):
                rnn = (gdl.nn.LSTM if case == "lstm" else gdl.nn.GRU)(4, 6, dtype=gdl.float32).to(dtype)
                x = gdl.tensor(rng_x, dtype=dtype, requires_grad=True)
                out, _ = rnn(x)
                out.sum().backward()
                return out, x.grad
            if case == "sgd":
                p = gdl.nn.Parameter(gdl.tensor(rng_x.reshape(-1), dtype=dtype))
                p.grad = gdl.ones_like(p)
                gdl.optim.SGD([p], lr=0.5).step()
                return p, p
            x = gdl.tensor(rng_x.reshape(-1, 4) * 3, dtype=dtype, requires_grad=True)
            if case == "cross_entropy":
                out = F.cross_entropy(x, gdl.tensor(np.arange(x.shape[0]) % 4))
            elif case == "dropout":
                out = F.dropout(x, 0.5, training=True)
            else:
                out = getattr(gdl, case)(x)
            out.sum().backward()
            return out, x.grad

    rng_x = rng.normal(size=(5, 3, 4))
    half_out, half_grad = run(gdl.float16)
    full_out, full_grad = run(gdl.float32)
    assert half_out.dtype == gdl.float16 and half_grad.dtype == gdl.float16
    np.testing.assert_allclose(half_out.numpy().astype(np.float32), full_out.numpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(half_grad.numpy().astype(np.float32), full_grad.numpy(), rtol=1e-2, atol=1e-2)


def test_gru_gate_kernels_match_portable_formulas(kernels):
    from gdl.nn.functional.recurrent import gru_gates_backward, gru_gates_forward

    rng = np.random.default_rng(8)
    B, H = 5, 7
    gi, gh = rng.normal(size=(B, 3 * H)), rng.normal(size=(B, 3 * H))
    h, dh = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    fused = kernels.be.fused
    h_new, saved = fused["gru_gates"](kernels.asarray(gi), kernels.asarray(gh), kernels.asarray(h))
    dgi, dgh, dh_direct = fused["gru_gates_backward"](kernels.asarray(dh), saved)
    ref_h, ref_saved = gru_gates_forward(np, gi, gh, h)
    ref = gru_gates_backward(np, ref_saved, dh)
    np.testing.assert_allclose(kernels.asnumpy(h_new), ref_h, rtol=1e-10)
    for ours, theirs in zip((dgi, dgh, dh_direct), ref):
        np.testing.assert_allclose(kernels.asnumpy(ours), theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layer", ["GRU", "LSTM"])
@pytest.mark.parametrize("given_state", [False, True])
def test_recurrent_layers_with_fused_kernels_match_portable_path(kernels, layer, given_state):
    """The GRU gate kernels, and the whole-sequence LSTM kernels with given initial states that
    need gradients, no biases, batch_first and one time step."""
    rng = np.random.default_rng(9)
    x_host = rng.normal(size=(3, 4, 5))
    h_host, c_host = rng.normal(size=(1, 3, 6)), rng.normal(size=(1, 3, 6))

    def run(steps):
        gdl.manual_seed(0)
        with gdl.use_backend(kernels.name):
            rnn = getattr(gdl.nn, layer)(5, 6, bias=not given_state, batch_first=True, dtype=gdl.float64)
            x = gdl.tensor(x_host[:, :steps], requires_grad=True)
            states = [gdl.tensor(h_host, requires_grad=True), gdl.tensor(c_host, requires_grad=True)]
            hx = None if not given_state else (states[0] if layer == "GRU" else tuple(states))
            out, h = rnn(x, hx)
            h = h if layer == "GRU" else h[0] + h[1]
            (out.sum() + (h * h).sum()).backward()
            grads = [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in rnn.parameters()]
            return grads + ([s.grad.numpy() for s in states[: 1 if layer == "GRU" else 2]] if given_state else [])

    for steps in (1, 4):
        fused, portable = _fused_and_portable(kernels, lambda steps=steps: run(steps))
        assert len(fused) == len(portable)
        for a, b in zip(fused, portable):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["GRUCell", "LSTMCell"])
def test_recurrent_cells_with_fused_kernels_match_portable_path(kernels, cell):
    rng = np.random.default_rng(10)
    x_host, h_host, c_host = rng.normal(size=(3, 4)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))

    def run():
        gdl.manual_seed(0)
        with gdl.use_backend(kernels.name):
            rnn = getattr(gdl.nn, cell)(4, 5, dtype=gdl.float64)
            x, h, c = (gdl.tensor(a, requires_grad=True) for a in (x_host, h_host, c_host))
            out = rnn(x, h) if cell == "GRUCell" else rnn(x, (h, c))
            out = out if cell == "GRUCell" else out[0] * out[1]
            out.square().sum().backward()
            return [out.numpy(), x.grad.numpy(), h.grad.numpy()] + [p.grad.numpy() for p in rnn.parameters()]

    fused, portable = _fused_and_portable(kernels, run)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_every_kernel_compiles_for_the_gpu():
    """The GPU's own compiler takes every kernel (the host build cannot show what only it
    rejects): the raw modules as they are, the elementwise bodies in float and in double."""
    module = host_kernels()
    raw = [v for v in vars(module).values() if isinstance(v, cuda_host.RawModule)]
    elementwise = [v for v in vars(module).values() if isinstance(v, cuda_host.ElementwiseKernel)]
    assert len(raw) == 3 and len(elementwise) == 14
    for source in [m.code for m in raw] + ["".join(k.gpu_source(t) for k in elementwise)
                                           for t in (np.float32, np.float64)]:
        errors = cuda_host.compile_for_gpu(source)
        assert errors is None, errors
