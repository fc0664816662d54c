"""The hand-written baselines compute what PyTorch computes.

From identical weights and data: the loss, every parameter's gradient, and the
parameters after one SGD step of the hand-written NumPy step agree with PyTorch's
(CPU, float32). For mlp_small both sides use the same fixed dropout mask.

Run: ``python -m pytest benchmarks/test_baselines.py`` (skipped without torch).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchmarks import handwritten, torch_impl  # noqa: E402
from benchmarks.workloads import WORKLOADS, init_params, make_batch  # noqa: E402


class _FixedMask(torch.nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.mask = torch.from_numpy(mask)

    def forward(self, h):
        return h * self.mask


def _pair(name, small=False):
    w = WORKLOADS[name]
    params, batch = init_params(name, seed=3), make_batch(name, seed=4)
    hw = handwritten.build(w, params, batch, "numpy")
    th = torch_impl.build(w, params, batch, "cpu")
    if name == "mlp_small":
        rng = np.random.default_rng(5)
        keep = 1.0 - w.dims["dropout"]
        mask = ((rng.random((w.batch, w.dims["hidden"])) < keep) / keep).astype(np.float32)
        hw.mask = mask
        th.model.drop = _FixedMask(mask)
    return hw, th


def _close(actual, expected, what, rtol=2e-3):
    scale = float(np.max(np.abs(expected))) or 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-4 * scale, err_msg=what)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_loss_and_gradients_match_pytorch(name):
    torch.set_num_threads(1)
    hw, th = _pair(name)
    loss_hw, grads_hw = hw.forward_backward()
    grads_hw = hw.grads_torch_layout(grads_hw)
    loss_th, grads_th = th.forward_backward()
    assert abs(float(loss_hw) - loss_th) <= 1e-5 * max(1.0, abs(loss_th)), (float(loss_hw), loss_th)
    assert set(grads_hw) == set(grads_th)
    for k in grads_th:
        assert grads_hw[k].shape == grads_th[k].shape, k
        _close(grads_hw[k], grads_th[k], f"{name}: gradient of {k}")


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_one_sgd_step_matches_pytorch(name):
    torch.set_num_threads(1)
    hw, th = _pair(name)
    hw.step()
    th.step()
    assert abs(hw.loss_value() - th.loss_value()) <= 1e-5 * max(1.0, abs(th.loss_value()))
    p_hw, p_th = hw.params_torch_layout(), th.params_torch_layout()
    for k in p_th:
        _close(p_hw[k], p_th[k], f"{name}: parameter {k} after one step", rtol=1e-4)
    # and the step changed something
    p0 = init_params(name, seed=3)
    assert any(not np.array_equal(p_hw[k], p0[k]) for k in p0)


def test_im2col_matches_a_loop():
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 5, 6), dtype=np.float32)
    cols, oh, ow = handwritten.im2col(np, x, 3)
    assert (oh, ow) == (3, 4)
    assert cols.shape == (2, 3 * 3 * 3, 3 * 4)
    for n in range(2):
        for i in range(3):
            for j in range(4):
                np.testing.assert_array_equal(
                    cols[n, :, i * 4 + j], x[n, :, i : i + 3, j : j + 3].reshape(-1)
                )


def test_scatter_add_rows_accumulates_duplicates():
    idx = np.array([0, 2, 0, 0])
    vals = np.arange(8, dtype=np.float32).reshape(4, 2)
    out = handwritten.scatter_add_rows(np, 3, idx, vals)
    np.testing.assert_array_equal(out, [[0 + 4 + 6, 1 + 5 + 7], [0, 0], [2, 3]])
