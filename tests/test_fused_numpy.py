"""The NumPy backend's fused cross-entropy agrees with the portable Array-API path."""

import numpy as np
import pytest

import gdl
from gdl.nn import functional as F


def _run(logits, target, reduction, ignore_index=-100):
    x = gdl.tensor(logits, requires_grad=True, backend="numpy")
    loss = F.cross_entropy(x, gdl.tensor(target, backend="numpy"), reduction=reduction, ignore_index=ignore_index)
    (loss * 2.5).backward(gdl.ones_like(loss) if loss.ndim else None)  # an upstream gradient other than 1
    return loss.numpy(), x.grad.numpy()


def _with_and_without_fused(run):
    """``(run() with the NumPy backend's fused kernels, run() with only the portable paths)``."""
    be = gdl.get_backend_object("numpy")
    fused = run()
    saved = dict(be.fused)
    be.fused.clear()
    try:
        portable = run()
    finally:
        be.fused.update(saved)
    return fused, portable


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore", ["none", "some", "a class", "all"])
def test_fused_matches_portable(reduction, ignore):
    be = gdl.get_backend_object("numpy")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(23, 7)) * 30
    target = rng.integers(0, 7, size=23)
    ignore_index = 3 if ignore == "a class" else -100
    if ignore == "some":
        target[[2, 5]] = -100
    elif ignore == "all":
        target[:] = -100
    with np.errstate(invalid="ignore", divide="ignore"):
        fused, portable = _with_and_without_fused(lambda: _run(logits, target, reduction, ignore_index))
    assert "softmax_cross_entropy" in be.fused and "softmax_cross_entropy_mean" in be.fused
    if ignore == "a class":
        assert not np.any(fused[1][target == 3]) and np.any(target == 3)
    if ignore == "all" and reduction == "mean":  # a mean over nothing: NaN, in both
        assert np.isnan(fused[0]) and np.isnan(portable[0])
        return
    np.testing.assert_allclose(fused[0], portable[0], rtol=1e-12)
    np.testing.assert_allclose(fused[1], portable[1], rtol=1e-10, atol=1e-15)


def test_fused_rejects_out_of_range_targets():
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must be in \[0, 3\)"):
        F.cross_entropy(gdl.zeros(2, 3, backend="numpy"), gdl.tensor([0, 3], backend="numpy"))


def test_fused_relu_matches_portable():
    be = gdl.get_backend_object("numpy")
    x_host = np.random.default_rng(1).normal(size=(40, 30))
    x_host[0, :5] = 0.0  # the kink: gradient 0 in both paths

    def run():
        x = gdl.tensor(x_host, requires_grad=True, backend="numpy")
        y = x.relu()
        (y * gdl.tensor(np.arange(30.0), backend="numpy")).sum().backward()
        return y.numpy(), x.grad.numpy()

    fused, portable = _with_and_without_fused(run)
    assert "relu_backward" in be.fused
    for a, b in zip(fused, portable):
        np.testing.assert_array_equal(a, b)


def test_fused_dropout_draws_the_portable_mask():
    be = gdl.get_backend_object("numpy")
    x_host = np.random.default_rng(2).normal(size=(50, 40)).astype(np.float32)

    def run():
        gdl.manual_seed(7)
        x = gdl.tensor(x_host, requires_grad=True, backend="numpy")
        y = gdl.nn.functional.dropout(x, 0.3)
        (y * 2.0).sum().backward()
        return y.numpy(), x.grad.numpy()

    fused, portable = _with_and_without_fused(run)
    assert "dropout" in be.fused
    np.testing.assert_array_equal(fused[0], portable[0])  # the same draws, bit for bit
    np.testing.assert_array_equal(fused[1], portable[1])
    kept = fused[1] != 0
    assert 0.6 < kept.mean() < 0.8 and np.allclose(fused[1][kept], 2.0 / 0.7)


def test_gdl_fused_off_turns_named_kernels_off():
    import ast
    import os
    import subprocess
    import sys

    code = "import gdl; print(sorted(gdl.get_backend_object('numpy').fused))"
    env = dict(os.environ, GDL_FUSED_OFF="relu, dropout,no_such_kernel")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    names = ast.literal_eval(out)
    assert "relu" not in names and "dropout" not in names
    assert "softmax_cross_entropy" in names and "relu_backward" in names
