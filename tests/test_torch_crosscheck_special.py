"""erf, erfc and erfinv against PyTorch 2.13: values and gradients (float64 and float32)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(3)
    if name == "erfinv":
        a = np.concatenate([rng.uniform(-0.999, 0.999, 200), [0.0, 1e-6, -0.5, 0.9999]])
    else:
        a = np.concatenate([rng.uniform(-6, 6, 200), [0.0, 1e-6, 2.5, 1.5, -4.0, 9.0]])
    a = a.astype(dtype)
    x = gdl.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, yt = getattr(gdl, name)(x), getattr(torch, name)(t)
    assert y.dtype.name == str(yt.dtype).replace("torch.", "")
    rtol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=1e-300)
    w = rng.normal(size=a.shape).astype(dtype)
    (y * gdl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol * 10, atol=1e-300)


def test_edges_match_torch():
    a = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 30.0, -30.0])
    for name in ("erf", "erfc"):
        ours = getattr(gdl, name)(gdl.tensor(a)).numpy()
        theirs = getattr(torch, name)(torch.tensor(a)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    y = np.array([1.0, -1.0, 1.5, -1.5, np.nan, 0.0])
    np.testing.assert_array_equal(gdl.erfinv(gdl.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy())
