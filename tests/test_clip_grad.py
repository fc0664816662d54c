"""gdl.nn.utils.clip_grad_norm_ / clip_grad_value_ against NumPy references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.nn.parameter import Parameter
from gdl.nn.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (5,), ()]


def params_with_grads(grads, dtype=gdl.float64):
    ps = []
    for g in grads:
        shape = () if g is None else np.shape(g)
        p = Parameter(gdl.zeros(shape, dtype=dtype))
        p.grad = None if g is None else gdl.tensor(g, dtype=dtype)
        ps.append(p)
    return ps


def ref_norm(grads, q):
    flat = np.concatenate([np.ravel(g) for g in grads if g is not None])
    return np.max(np.abs(flat)) if math.isinf(q) else np.sum(np.abs(flat) ** q) ** (1 / q)


@pytest.mark.parametrize("q", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(backend, q, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) for s in SHAPES] + [None]
    ps = params_with_grads(grads)
    total = clip_grad_norm_(ps, max_norm, norm_type=q)
    want = ref_norm(grads, q)
    assert isinstance(total, gdl.Tensor) and total.shape == () and total.backend == backend
    np.testing.assert_allclose(float(total), want, rtol=1e-12)
    coef = min(1.0, max_norm / (want + 1e-6))
    for p, g in zip(ps, grads):
        if g is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)
    if max_norm < want:
        assert ref_norm([p.grad.numpy() for p in ps if p.grad is not None], q) <= max_norm


def test_clip_grad_norm_float32_single_tensor_and_generator(backend):
    p = Parameter(gdl.zeros(4))
    p.grad = gdl.tensor([3.0, 4.0, 0.0, 0.0])
    total = clip_grad_norm_(p, 1.0)
    assert total.dtype == gdl.float32 and p.grad.dtype == gdl.float32
    np.testing.assert_allclose(float(total), 5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0, 0.0], rtol=1e-5)
    q = Parameter(gdl.zeros(2))
    assert float(clip_grad_norm_((x for x in [q]), 1.0)) == 0.0  # no gradients: norm 0


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_clip_grad_norm_nonfinite(backend):
    (p,) = params_with_grads([np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_([p], 1.0)
    assert math.isinf(float(total))


def test_clip_grad_norm_spreads_a_nan_norm_into_every_gradient(backend):
    """As PyTorch: a NaN anywhere makes the norm NaN, and scaling by it turns every gradient
    NaN, so the broken step shows instead of passing unclipped."""
    p, q = params_with_grads([np.array([1.0, np.nan]), np.array([3.0, 4.0])])
    total = clip_grad_norm_([p, q], 1.0)
    assert math.isnan(float(total))
    assert np.isnan(p.grad.numpy()).all() and np.isnan(q.grad.numpy()).all()


def test_clip_grad_norm_bad_args():
    ps = params_with_grads([np.ones(2)])
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1.0"):
        clip_grad_norm_(ps, -1.0)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_(ps, 1.0, norm_type=0)
    with pytest.raises(TypeError, match="ndarray"):
        clip_grad_norm_([np.ones(2)], 1.0)
    with pytest.raises(TypeError, match="clip_value"):
        clip_grad_value_(ps, "big")
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -0.1"):
        clip_grad_value_(ps, -0.1)


def test_clip_grad_value(backend):
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=s) * 3 for s in SHAPES] + [None]
    ps = params_with_grads(grads, dtype=gdl.float32)
    assert clip_grad_value_(ps, 1.5) is None
    for p, g in zip(ps, grads):
        if g is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == gdl.float32 and p.grad.backend == backend
            np.testing.assert_allclose(p.grad.numpy(), np.clip(g.astype(np.float32), -1.5, 1.5))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    g=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5), elements=st.floats(-1e3, 1e3)),
    max_norm=st.floats(1e-3, 1e3),
)
def test_clip_grad_norm_bounds_the_norm(backend, g, max_norm):
    (p,) = params_with_grads([g])
    total = float(clip_grad_norm_([p], max_norm))
    np.testing.assert_allclose(total, np.linalg.norm(g.ravel()), rtol=1e-12, atol=1e-12)
    clipped = np.linalg.norm(p.grad.numpy().ravel())
    if total + 1e-6 <= max_norm:  # the coefficient max_norm / (total + 1e-6) is >= 1: unchanged
        np.testing.assert_array_equal(p.grad.numpy(), g)
    else:
        assert clipped <= max_norm * (1 + 1e-12)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) for s in SHAPES]
    for q in (2.0, 1.0, float("inf")):
        with gdl.use_backend("numpy"):
            ps = params_with_grads(grads)
            total = clip_grad_norm_(ps, 0.7, norm_type=q)
        ts = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
        for t, g in zip(ts, grads):
            t.grad = torch.tensor(g)
        ttotal = torch.nn.utils.clip_grad_norm_(ts, 0.7, norm_type=q)
        np.testing.assert_allclose(float(total), float(ttotal), rtol=1e-12)
        for p, t in zip(ps, ts):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)
