"""gdl.initial_seed / gdl.seed (as torch's) and the top-level det, inverse, slogdet, logdet."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gdl


def test_initial_seed_is_the_last_manual_seed(backend):
    gdl.manual_seed(1234)
    assert gdl.initial_seed() == 1234
    assert gdl.initial_seed() == 1234


def test_seed_reseeds_with_a_fresh_seed_it_returns(backend):
    s = gdl.seed()
    assert gdl.initial_seed() == s
    a = gdl.rand(5).tolist()
    gdl.manual_seed(s)
    assert gdl.rand(5).tolist() == a
    assert gdl.seed() != s  # 63 random bits: equal only by a 2**-63 chance


def test_without_manual_seed_a_random_seed_is_drawn_once_per_process():
    code = "import gdl; a = gdl.initial_seed(); x = gdl.rand(3).tolist(); gdl.manual_seed(a); " \
           "assert gdl.rand(3).tolist() == x; print(a)"
    seeds = [int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
             for _ in range(2)]
    assert seeds[0] != seeds[1]


def test_logdet_values_and_gradient(backend):
    a = gdl.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=gdl.float64, requires_grad=True)
    out = gdl.logdet(a)
    assert out.item() == pytest.approx(np.log(5.0))
    out.backward()
    np.testing.assert_allclose(a.grad.numpy(), np.linalg.inv([[2.0, 1.0], [1.0, 3.0]]).T, rtol=1e-12)
    assert a.logdet().item() == pytest.approx(np.log(5.0))
    assert np.isnan(gdl.logdet(gdl.tensor([[-1.0, 0.0], [0.0, 1.0]])).item())
    assert gdl.logdet(gdl.zeros(2, 2)).item() == -np.inf


def test_top_level_names_are_the_linalg_functions():
    assert gdl.det is gdl.linalg.det and gdl.inverse is gdl.linalg.inv and gdl.slogdet is gdl.linalg.slogdet
    m = gdl.tensor([[4.0, 0.0], [0.0, 2.0]])
    assert gdl.det(m).item() == 8.0 and m.inverse().tolist() == [[0.25, 0.0], [0.0, 0.5]]


def test_logdet_matches_torch_batched():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4))
    ours = gdl.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    o, t = gdl.logdet(ours), torch.logdet(theirs)
    np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-12, equal_nan=True)
    keep = ~np.isnan(t.detach().numpy())
    (o * gdl.tensor(keep.astype(np.float64))).sum().backward()
    (t * torch.tensor(keep.astype(np.float64))).nansum().backward()
    np.testing.assert_allclose(ours.grad.numpy()[keep], theirs.grad.numpy()[keep], rtol=1e-10)
