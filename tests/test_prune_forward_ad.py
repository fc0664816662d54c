"""gdl.nn.utils.prune, gdl.nn.utils.skip_init and gdl.autograd.forward_ad, without PyTorch:
masks against NumPy references, the reparametrization's mechanics and errors, and tangents
against analytic derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.autograd.forward_ad as fwAD
from gdl.nn.utils import prune, skip_init


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _linear(rows=4, cols=5, seed=0):
    m = gdl.nn.Linear(cols, rows)
    w = np.random.default_rng(seed).permutation(rows * cols).reshape(rows, cols) - rows * cols / 2 + 0.5
    m.weight.data = gdl.tensor(w, dtype=m.weight.dtype).data  # distinct |w|: no ties
    return m, w


# -- prune ------------------------------------------------------------------------------------


def test_l1_unstructured_mask_state_dict_and_forward():
    m, w = _linear()
    prune.l1_unstructured(m, "weight", amount=0.3)
    k = round(0.3 * w.size)
    ref = np.ones(w.size)
    ref[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = 0
    np.testing.assert_array_equal(_np(m.weight_mask), ref.reshape(w.shape))
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert "weight" not in m._parameters and prune.is_pruned(m)
    x = np.random.default_rng(1).normal(size=(3, w.shape[1]))
    y = m(gdl.tensor(x, dtype=m.weight.dtype))
    np.testing.assert_allclose(_np(y), x @ (w * ref.reshape(w.shape)).T + _np(m.bias), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    np.testing.assert_allclose(_np(m.weight_orig.grad), np.tile(x.sum(0), (w.shape[0], 1)) * ref.reshape(w.shape),
                               rtol=1e-5)


def test_l1_ties_go_to_lower_index():
    m = gdl.nn.Linear(4, 1, bias=False)
    m.weight.data = gdl.tensor([[1.0, -1.0, 1.0, 2.0]], dtype=m.weight.dtype).data
    prune.l1_unstructured(m, "weight", amount=2)
    np.testing.assert_array_equal(_np(m.weight_mask), [[0, 0, 1, 1]])


def test_iterative_pruning_composes_on_unpruned_entries():
    m, w = _linear(4, 5, seed=2)
    prune.l1_unstructured(m, "weight", amount=5)
    prune.l1_unstructured(m, "weight", amount=0.5)  # half of the 15 left: round(7.5) = 8
    order = np.argsort(np.abs(w).ravel(), kind="stable")
    ref = np.ones(w.size)
    ref[order[:13]] = 0
    np.testing.assert_array_equal(_np(m.weight_mask).ravel(), ref)
    hooks = [h for h in m._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 2
    prune.ln_structured(m, "weight", amount=1, n=1, dim=0)
    pruned = _np(m.weight_mask)
    norms = np.abs(w * ref.reshape(w.shape)).sum(1)
    alive = np.flatnonzero(norms)  # rows still unpruned; the least L1 one among them goes
    gone = alive[np.argmin(norms[alive])]
    assert (pruned[gone] == 0).all() and len(hooks[0]) == 3
    np.testing.assert_array_equal(np.delete(pruned, gone, 0), np.delete(ref.reshape(w.shape), gone, 0))


def test_ln_structured_and_random_methods_counts():
    m, w = _linear(6, 4, seed=3)
    prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
    norms = np.linalg.norm(w, axis=1)
    keep = np.sort(np.argsort(-norms, kind="stable")[:3])
    np.testing.assert_array_equal(np.flatnonzero(_np(m.weight_mask).sum(1)), keep)
    r = gdl.nn.Linear(5, 6)
    prune.random_unstructured(r, "weight", amount=7)
    assert int((r.weight_mask == 0).sum()) == 7
    prune.random_structured(r, "weight", amount=2, dim=1)
    mask = _np(r.weight_mask)
    assert (mask.sum(0) == 0).sum() == 2 and int((mask == 0).sum()) >= 12
    prune.identity(r, "bias")
    assert list(r.state_dict()) == ["weight_orig", "bias_orig", "weight_mask", "bias_mask"]


def test_remove_makes_a_parameter_again():
    m, w = _linear()
    prune.custom_from_mask(m, "weight", gdl.tensor((np.abs(w) > 3).astype(np.float32)))
    prune.remove(m, "weight")
    assert isinstance(m.weight, gdl.nn.Parameter) and not prune.is_pruned(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(m.weight), w * (np.abs(w) > 3))
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(m, "weight")


def test_global_unstructured_prunes_smallest_across_tensors():
    a, wa = _linear(3, 4, seed=4)
    b, wb = _linear(2, 4, seed=5)
    b.weight.data = (b.weight * 10.0 + 0.25).data
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=6)
    allw = np.abs(np.concatenate([wa.ravel(), (wb * 10 + 0.25).ravel()]))
    ref = np.ones(allw.size)
    ref[np.argsort(allw, kind="stable")[:6]] = 0
    got = np.concatenate([_np(a.weight_mask).ravel(), _np(b.weight_mask).ravel()])
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("amount, error", [(-1, ValueError), (1.5, ValueError), ("x", TypeError), (100, ValueError)])
def test_amount_validation(amount, error):
    m = gdl.nn.Linear(3, 2)
    with pytest.raises(error):
        prune.l1_unstructured(m, "weight", amount=amount)
    assert sorted(m.state_dict()) == ["bias", "weight"] and not prune.is_pruned(m)  # as it was


def test_structured_errors():
    m = gdl.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index"):
        prune.random_structured(m, "weight", amount=1, dim=2)


def test_skip_init_zeros_and_keeps_rng():
    gdl.manual_seed(0)
    expected = gdl.rand(3)
    gdl.manual_seed(0)
    m = skip_init(gdl.nn.Linear, 4, 3)
    assert _np(m.weight).shape == (3, 4) and not _np(m.weight).any() and not _np(m.bias).any()
    np.testing.assert_array_equal(_np(gdl.rand(3)), _np(expected))
    with pytest.raises(RuntimeError, match="Expected a Module"):
        skip_init(int)


# -- forward_ad --------------------------------------------------------------------------------


def test_tangents_of_elementwise_chain_and_intermediate():
    x0, t0 = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    with fwAD.dual_level():
        x = fwAD.make_dual(gdl.tensor(x0), gdl.tensor(t0))
        h = gdl.sin(x) * x
        y = gdl.exp(h).sum()
        uh, uy = fwAD.unpack_dual(h), fwAD.unpack_dual(y)
    dh = (np.cos(x0) * x0 + np.sin(x0)) * t0
    np.testing.assert_allclose(_np(uh.tangent), dh, rtol=1e-6)
    np.testing.assert_allclose(_np(uy.tangent), (np.exp(np.sin(x0) * x0) * dh).sum(), rtol=1e-6)
    np.testing.assert_allclose(_np(uy.primal), np.exp(np.sin(x0) * x0).sum(), rtol=1e-6)
    assert not uh.primal.requires_grad


def test_two_duals_matmul_and_independent_output():
    a0, b0 = np.arange(6.0).reshape(2, 3), np.arange(3.0).reshape(3, 1) - 1
    ta, tb = np.ones((2, 3)), np.full((3, 1), 0.5)
    with fwAD.dual_level():
        a = fwAD.make_dual(gdl.tensor(a0), gdl.tensor(ta))
        b = fwAD.make_dual(gdl.tensor(b0), gdl.tensor(tb))
        out = fwAD.unpack_dual(a @ b)
        plain = fwAD.unpack_dual(gdl.ones(2) * 3)
        assert fwAD.unpack_dual(a).tangent is not None
    np.testing.assert_allclose(_np(out.tangent), ta @ b0 + a0 @ tb)
    assert plain.tangent is None
    assert fwAD.unpack_dual(a).tangent is None  # outside the level


def test_outer_reverse_pass_through_primal():
    lin = gdl.nn.Linear(3, 2)
    x0 = np.array([[0.1, 0.2, -0.3]])
    with fwAD.dual_level():
        x = fwAD.make_dual(gdl.tensor(x0, dtype=lin.weight.dtype), gdl.ones(1, 3, dtype=lin.weight.dtype))
        u = fwAD.unpack_dual(gdl.tanh(lin(x)))
    assert u.primal.requires_grad
    u.primal.sum().backward()
    z = x0 @ _np(lin.weight).T + _np(lin.bias)
    np.testing.assert_allclose(_np(lin.weight.grad), (1 - np.tanh(z) ** 2).T @ x0, rtol=1e-5)
    np.testing.assert_allclose(_np(u.tangent), (1 - np.tanh(z) ** 2) * (np.ones((1, 3)) @ _np(lin.weight).T),
                               rtol=1e-5)


def test_forward_ad_errors():
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(gdl.ones(2), gdl.ones(2))
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(gdl.ones(2), gdl.ones(3))
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(gdl.ones(2), gdl.ones(2, dtype=gdl.int64))
        with pytest.raises(RuntimeError, match="Nested"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="Invalid level"):
            fwAD.make_dual(gdl.ones(2), gdl.ones(2), level=3)
    with pytest.raises(RuntimeError, match="positive"):
        fwAD.exit_dual_level()
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level()
