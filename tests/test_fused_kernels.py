"""Each fused CuPy kernel against its portable Array-API reference (GPU only).

Run with ``nox -s tests_cupy`` (these tests carry the ``gpu`` marker and are
deselected on CPU machines, where CuPy cannot run).
"""

import numpy as np
import pytest

import gdl

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cupy_backend():
    return gdl.get_backend_object("cupy")  # raises (fails) if CuPy or the GPU is missing


def _without_fused(be):
    saved = dict(be.fused)
    be.fused.clear()
    return saved


def _grads(fn, x_host, be):
    x = gdl.tensor(x_host, backend=be.name, requires_grad=True)
    out = fn(x)
    w = gdl.tensor(np.random.default_rng(1).normal(size=out.shape), dtype=out.dtype, backend=be.name)
    (out * w).sum().backward()
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu"])
def test_activation_kernels_match_portable(cupy_backend, name):
    fn = getattr(gdl, name)
    x = np.random.default_rng(0).normal(size=(64, 33)).astype(np.float32) * 3
    fused_out, fused_grad = _grads(fn, x, cupy_backend)
    saved = _without_fused(cupy_backend)
    try:
        ref_out, ref_grad = _grads(fn, x, cupy_backend)
    finally:
        cupy_backend.fused.update(saved)
    np.testing.assert_allclose(fused_out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused_grad, ref_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("classes", [10, 65, 1000])
def test_softmax_cross_entropy_kernel_matches_portable(cupy_backend, reduction, classes):
    rng = np.random.default_rng(classes)
    logits = (rng.normal(size=(37, classes)) * 20).astype(np.float32)
    target = rng.integers(0, classes, size=37)
    target[3] = -100  # ignored

    def run():
        x = gdl.tensor(logits, backend="cupy", requires_grad=True)
        loss = gdl.nn.functional.cross_entropy(x, gdl.tensor(target, backend="cupy"), reduction=reduction)
        loss.backward()
        return loss.item(), x.grad.numpy()

    fused_loss, fused_grad = run()
    saved = _without_fused(cupy_backend)
    try:
        ref_loss, ref_grad = run()
    finally:
        cupy_backend.fused.update(saved)
    assert np.isfinite(fused_loss)
    np.testing.assert_allclose(fused_loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(fused_grad, ref_grad, rtol=1e-4, atol=1e-6)


def test_dropout_kernel_scales_and_masks(cupy_backend):
    x = gdl.ones(200, 300, backend="cupy", requires_grad=True)
    y = gdl.nn.functional.dropout(x, 0.25, training=True)
    vals = np.unique(y.numpy())
    assert len(vals) == 2 and vals[0] == 0.0 and np.isclose(vals[1], 1 / 0.75)
    kept = (y.numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())


def test_lstm_gate_kernels_match_portable_formulas(cupy_backend):
    import cupy

    rng = np.random.default_rng(0)
    B, H = 5, 7
    gates = rng.normal(size=(B, 4 * H))
    c = rng.normal(size=(B, H))
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    fused = cupy_backend.fused
    h_new, c_new, saved = fused["lstm_gates"](cupy.asarray(gates), cupy.asarray(c))
    dgates, dc_prev = fused["lstm_gates_backward"](cupy.asarray(dh), cupy.asarray(dc), saved)

    def sig(v):
        return 1 / (1 + np.exp(-v))

    i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
    i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
    c_ref = f * c + i * g
    h_ref = o * np.tanh(c_ref)
    np.testing.assert_allclose(cupy.asnumpy(c_new), c_ref, rtol=1e-10)
    np.testing.assert_allclose(cupy.asnumpy(h_new), h_ref, rtol=1e-10)
    dct = dc + dh * o * (1 - np.tanh(c_ref) ** 2)
    d_ref = np.concatenate(
        [dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g), dh * np.tanh(c_ref) * o * (1 - o)], axis=1
    )
    np.testing.assert_allclose(cupy.asnumpy(dgates), d_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cupy.asnumpy(dc_prev), dct * f, rtol=1e-10)


def test_sgd_kernel_updates_in_place(cupy_backend):
    import cupy

    p = cupy.arange(6, dtype=cupy.float32)
    g = cupy.ones(6, dtype=cupy.float32)
    cupy_backend.fused["sgd_step"](p, g, 0.5)
    np.testing.assert_allclose(cupy.asnumpy(p), np.arange(6) - 0.5)


def test_lstm_step_kernels_match_the_summed_gate_kernels(cupy_backend):
    import cupy

    rng = np.random.default_rng(3)
    B, H = 4, 6
    gi, gh = cupy.asarray(rng.normal(size=(B, 4 * H))), cupy.asarray(rng.normal(size=(B, 4 * H)))
    c = cupy.asarray(rng.normal(size=(B, H)))
    da, db, dc = (cupy.asarray(rng.normal(size=(B, H))) for _ in range(3))
    f = cupy_backend.fused
    h1, c1, s1 = f["lstm_step"](gi, gh, c)
    h2, c2, s2 = f["lstm_gates"](gi + gh, c)
    np.testing.assert_allclose(cupy.asnumpy(h1), cupy.asnumpy(h2), rtol=1e-12)
    np.testing.assert_allclose(cupy.asnumpy(c1), cupy.asnumpy(c2), rtol=1e-12)
    g1, p1 = f["lstm_step_backward"](s1, da, db, dc)
    g2, p2 = f["lstm_gates_backward"](da + db, dc, s2)
    np.testing.assert_allclose(cupy.asnumpy(g1), cupy.asnumpy(g2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cupy.asnumpy(p1), cupy.asnumpy(p2), rtol=1e-12, atol=1e-15)


def test_lstm_layer_with_fused_kernels_matches_portable_path(cupy_backend):
    x_host = np.random.default_rng(4).normal(size=(5, 3, 4))

    def run():
        gdl.manual_seed(0)
        with gdl.use_backend("cupy"):
            lstm = gdl.nn.LSTM(4, 6, num_layers=2, dtype=gdl.float64)
            x = gdl.tensor(x_host, requires_grad=True)
            out, (h, c) = lstm(x)
            (out.sum() + (c * c).sum()).backward()
            return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]

    fused = run()
    saved = _without_fused(cupy_backend)
    try:
        portable = run()
    finally:
        cupy_backend.fused.update(saved)
    for a, b in zip(fused, portable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
