"""Regression tests for bugs found in the new nn layers (one test per bug; no PyTorch needed)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.nn.functional import pooling
from gdl.testing import gradcheck


def _changes_with_input(fn, shape):
    """Whether ``fn(x)`` changes when ``x`` is later changed in place (the output a view of it)."""
    x = gdl.tensor(np.arange(float(np.prod(shape))).reshape(shape) + 1.0)
    out = fn(x)
    before = out.numpy().copy()
    x.add_(100.0)
    return not np.array_equal(before, out.numpy())


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (2, 2, 3, 4)),
    (lambda x: F.adaptive_avg_pool2d(x, (None, None)), (2, 3, 4)),
    (lambda x: F.adaptive_avg_pool1d(x, 5), (2, 2, 5)),
    (lambda x: nn.AdaptiveAvgPool2d(3)(x), (1, 2, 3, 3)),
])
def test_adaptive_avg_pool_of_the_same_size_is_not_a_view_of_the_input(backend, fn, shape):
    # an unchanged output size returned the input's own array (reshaped): x.add_() changed the output
    assert not _changes_with_input(fn, shape)


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.pixel_shuffle(x, 1), (1, 4, 3, 3)),
    (lambda x: F.pixel_shuffle(x, 2), (2, 4, 1, 1)),
    (lambda x: F.pixel_unshuffle(x, 1), (1, 4, 3, 3)),
    (lambda x: F.pixel_unshuffle(x, 2), (1, 3, 2, 2)),
    (lambda x: nn.PixelShuffle(1)(x), (1, 4, 2, 2)),
])
def test_pixel_shuffle_output_is_not_a_view_of_the_input(backend, fn, shape):
    # with r = 1 (or 1x1 images / one block) the permute + reshape stayed a view of the input
    assert not _changes_with_input(fn, shape)


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.unfold(x, 1), (1, 2, 3, 3)),
    (lambda x: F.unfold(x, 3), (1, 2, 3, 3)),
    (lambda x: F.unfold(x, (2, 3)), (2, 3, 2, 3)),
    (lambda x: nn.Unfold(1)(x), (2, 3, 3)),
])
def test_unfold_output_is_not_a_view_of_the_input(backend, fn, shape):
    # NumPy's im2col is a read-only strided view; non-overlapping blocks reshaped without a copy
    assert not _changes_with_input(fn, shape)


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("call", [
    lambda x: F.adaptive_max_pool1d(x, 1),       # global max pooling of a long sequence
    lambda x: F.adaptive_max_pool1d(x, 3000),
    lambda x: F.adaptive_avg_pool1d(x, 3000),
    lambda x: F.adaptive_avg_pool1d(x, 7),
])
def test_adaptive_pool_memory_is_linear_in_the_length(call):
    # max pooling built (out·k, L) one-hot matrices for its backward (L·L: 288 MB at L = 6000)
    # and average pooling an (out, L) matrix row by row in Python (144 MB and ~1 s at 3000 of 6000)
    with gdl.use_backend("numpy"):
        x = gdl.tensor(np.random.default_rng(0).standard_normal((1, 2, 6000)), requires_grad=True)

        def run():
            call(x).sum().backward()

        assert _peak_bytes(run) < 16 * 2**20
        assert x.grad.shape == (1, 2, 6000)


@pytest.mark.parametrize("two_d, size, out", [
    (False, 7, 3), (False, 5, 1), (False, 4, 4), (False, 3, 7),
    (True, (5, 4), (2, 3)), (True, (3, 3), (3, 1)), (True, (1, 6), (None, 4)),
])
def test_adaptive_pools_gather_path_gradients(backend, monkeypatch, two_d, size, out):
    # the linear-memory path (taken for large inputs) checked on small ones, against finite differences
    monkeypatch.setattr(pooling, "_MATRIX_ENTRIES", 0)
    shape = (2, 2) + (size if two_d else (size,))
    x = gdl.tensor(np.random.default_rng(1).permutation(np.prod(shape)).reshape(shape) * 0.1,
                   dtype=gdl.float64, requires_grad=True)
    avg, mx = (F.adaptive_avg_pool2d, F.adaptive_max_pool2d) if two_d else (F.adaptive_avg_pool1d,
                                                                            F.adaptive_max_pool1d)
    assert gradcheck(lambda t: avg(t, out), [x])
    assert gradcheck(lambda t: mx(t, out), [x])
    gathered = avg(x, out).numpy()
    monkeypatch.undo()  # the small-matrix path gives the same numbers
    np.testing.assert_allclose(gathered, avg(x, out).numpy(), rtol=1e-12, atol=1e-14)
