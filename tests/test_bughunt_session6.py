"""Bug hunt (session 6) over three changes: slice gradients in the autograd engine
(gdl/slice_grad.py, gdl/tensor.py ``backprop``), the shared normalisation node of
layer_norm/batch_norm (gdl/nn/functional/normalization.py ``_norm_node``) and
mean/var/std of integer tensors (gdl/functional/reduction.py).

Each test asserts the correct (PyTorch 2.13) behaviour, so it fails while its bug
exists. Torch-dependent tests skip without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.autograd
import gdl.nn.functional as F
from gdl import nn

# -- slice gradients (commit ecc20e2) ------------------------------------------------------------


def test_slices_of_a_0d_tensor_mixed_with_a_dense_use(backend):
    """``x[None]`` / ``x[...]`` of a 0-d tensor, with a dense use of ``x`` arriving between
    two slice gradients: on NumPy, ``GradBuffer.__add__`` (dense) stores ``self.array +
    other``, which for 0-d arrays is a NumPy *scalar*; the next ``_add_slice`` then does
    ``buf[key] = ...`` on it: TypeError 'numpy.float32' object does not support item
    assignment. (PyTorch: x.grad == 5; worked before ecc20e2.)"""
    x = gdl.tensor(1.5, requires_grad=True)
    loss = x[None].sum() + x * 2 + x[None].sum() + x[...]
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 5.0)
    # the same through a scalar made by an op (a loss term stacked with cat, and used as is)
    w = gdl.tensor([1.0, 2.0], requires_grad=True)
    s = w.sum()
    (gdl.cat([s[None], s[None]]).sum() + s * s + s[None].sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0 + 2 * 3.0, 3.0 + 2 * 3.0])


# -- .grad must not share memory with arrays the user holds (PyTorch's AccumulateGrad copies) -----


def _shares(a, b):
    a = getattr(a, "_array", a)  # array_api_strict wraps a NumPy array
    b = getattr(b, "_array", b)
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        pytest.skip("no host memory to compare on this backend")
    return np.shares_memory(a, b)


def test_leaf_grad_does_not_alias_a_hook_return_value(backend):
    """A leaf hook returning a tensor the user keeps: ``_hook_result`` hands its array to
    ``_accumulate`` as is, so ``x.grad`` *is* the user's tensor's memory (changing one
    changes the other). PyTorch clones it (x.grad stays [1, 1, 1] after u.add_(1))."""
    u = gdl.ones(3)
    x = gdl.zeros(3, requires_grad=True)
    x.register_hook(lambda g: u)
    (x[0:2].sum() + x[1:3].sum()).backward()
    assert not _shares(x.grad.data, u.data)
    u.add_(1.0)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_leaf_grad_does_not_alias_a_custom_function_backward_result(backend):
    """A custom Function whose backward returns a tensor it saved (here the input itself):
    ``x.grad`` becomes ``x``'s own memory, so ``x.grad.zero_()`` (what an optimizer's
    zero_grad(set_to_none=False) does) zeroes the parameter. PyTorch copies."""

    class PassSaved(gdl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return x

    x = gdl.ones(3, requires_grad=True)
    PassSaved.apply(x).sum().backward()
    assert not _shares(x.grad.data, x.data)
    with gdl.no_grad():
        x.grad.zero_()
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0, 1.0])


def test_sparse_embedding_grad_does_not_share_memory_with_a_retained_grad(backend):
    """``Embedding(sparse=True)``: the RowSparseGrad's values are a reshape (a view) of the
    output's gradient, and ``_accumulate`` skips its no-sharing check for row-sparse
    gradients, so ``weight.grad`` shares memory with the retained ``e.grad``: zeroing
    ``e.grad`` changes ``weight.grad``. PyTorch's retain_grad copies."""
    gdl.manual_seed(0)
    emb = nn.Embedding(5, 3, sparse=True)
    e = emb(gdl.tensor([[1, 2], [3, 1]]))
    e.retain_grad()
    (e * e).sum().backward()
    before = emb.weight.grad.to_dense().numpy().copy()
    with gdl.no_grad():
        e.grad.zero_()
    np.testing.assert_array_equal(emb.weight.grad.to_dense().numpy(), before)


# -- gradient dtypes ------------------------------------------------------------------------------


def test_autograd_grad_gives_the_input_dtype_with_mixed_dtypes(backend):
    """``gdl.autograd.grad`` returns the captured array as the engine summed it, without
    the cast to the input's dtype that ``_accumulate`` does for ``.grad``: a float32
    input multiplied by a float64 tensor gets a float64 gradient (slices + dense use,
    or a dense use alone). PyTorch gives the input's dtype, as x.grad does."""
    x = gdl.ones(3, dtype=gdl.float32, requires_grad=True)
    w = gdl.ones(3, dtype=gdl.float64)
    (g,) = gdl.autograd.grad((x[0:2] * w[0:2]).sum() + (x * w).sum(), x)
    assert g.dtype == gdl.float32
    (g,) = gdl.autograd.grad((x * w).sum(), x)
    assert g.dtype == gdl.float32


# -- normalisation (commit edc3b32) ------------------------------------------------------------------


def test_batch_norm_on_an_empty_batch_gives_zero_parameter_gradients(backend):
    """N = 0 in training: the statistics of nothing are NaN and the shared node's
    ``gw = Σ g·(x − μ) · rstd`` is 0 · NaN: weight.grad is NaN. Before edc3b32 (and in
    PyTorch) weight.grad and bias.grad are zeros."""
    bn = nn.BatchNorm1d(3)
    x = gdl.zeros(0, 3, requires_grad=True)
    out = bn(x)
    assert out.shape == (0, 3)
    out.sum().backward()
    np.testing.assert_array_equal(bn.weight.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.bias.grad.numpy(), np.zeros(3))


def test_batch_norm_on_an_empty_batch_leaves_running_stats_alone(backend):
    """N = 0 in training: PyTorch leaves running_mean/running_var as they were; gdl
    writes the NaN statistics of the empty batch into them (every later eval output is NaN)."""
    bn = nn.BatchNorm1d(3)
    bn(gdl.zeros(0, 3))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(3))


def test_layer_norm_and_batch_norm_refuse_integer_input(backend):
    """group_norm/instance_norm/rms_norm refuse integer input (``_check_float``), as PyTorch
    does for all of them; layer_norm and batch_norm don't check, so on NumPy they return
    float64 (not even the default dtype; float32 before edc3b32) and on array_api_strict
    the backend's mean raises."""
    x = gdl.tensor([[1, 2, 3], [4, 6, 9]])
    with pytest.raises(TypeError, match="floating"):
        F.layer_norm(x, 3)
    with pytest.raises(TypeError, match="floating"):
        F.batch_norm(x, None, None, training=True)


def _f16(backend):
    if backend != "numpy":
        pytest.skip("the Array API standard has no float16")


# values of magnitude 300: their squares (9e4) are beyond float16's 65504
_WIDE = np.linspace(-300.0, 300.0, 64).reshape(2, 32)


def test_float16_layer_norm_does_not_overflow(backend):
    """The variance is summed in float16 (``_sumprod``'s vecdot of x − μ with itself):
    inf for values of a few hundred, so the output is all zeros. PyTorch accumulates
    half in float32: the output is the normalised ramp, -1.68 ... 1.68."""
    torch = pytest.importorskip("torch")
    _f16(backend)
    ours = F.layer_norm(gdl.tensor(_WIDE, dtype=gdl.float16), (32,)).numpy().astype(np.float64)
    theirs = torch.nn.functional.layer_norm(torch.tensor(_WIDE, dtype=torch.float16), (32,)).double().numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-2)


def test_float16_batch_norm_does_not_overflow(backend):
    torch = pytest.importorskip("torch")
    _f16(backend)
    a = _WIDE.T.copy()  # (32, 2): 32 values per channel
    rm, rv = gdl.zeros(2, dtype=gdl.float16), gdl.ones(2, dtype=gdl.float16)
    ours = F.batch_norm(gdl.tensor(a, dtype=gdl.float16), rm, rv, training=True)
    rmt, rvt = torch.zeros(2, dtype=torch.float16), torch.ones(2, dtype=torch.float16)
    theirs = torch.nn.functional.batch_norm(torch.tensor(a, dtype=torch.float16), rmt, rvt, training=True)
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.double().numpy(), atol=1e-2)
    np.testing.assert_allclose(rv.numpy().astype(np.float64), rvt.double().numpy(), rtol=1e-2)


def test_float16_var_does_not_overflow(backend):
    """``var`` (one node since e3b92e4) sums (x − μ)² in float16: inf where PyTorch gives 30960."""
    torch = pytest.importorskip("torch")
    _f16(backend)
    ours = gdl.var(gdl.tensor(_WIDE, dtype=gdl.float16))
    theirs = torch.var(torch.tensor(_WIDE, dtype=torch.float16), correction=0)
    assert ours.dtype == gdl.float16
    np.testing.assert_allclose(float(ours.item()), float(theirs.item()), rtol=1e-2)


def test_half_input_to_float32_norm_modules_gives_half_output(backend):
    """PyTorch runs a half input through float32 LayerNorm/BatchNorm/GroupNorm modules
    (mixed precision) and returns float16; gdl promotes the output to float32."""
    _f16(backend)
    x = gdl.randn(4, 3, 5).half()
    for m in (nn.LayerNorm(5), nn.BatchNorm1d(3), nn.GroupNorm(3, 3)):
        assert m(x).dtype == gdl.float16, type(m).__name__
        assert m.eval()(x).dtype == gdl.float16, type(m).__name__


# -- mean/var/std (commit e3b92e4) ----------------------------------------------------------------


def test_mean_with_a_non_float_dtype_is_refused(backend):
    """``mean(x, dtype=int64)`` casts the floats to integers (truncating them) and then
    returns the float32 mean of those: [0.5, 0.7, 2.9] gives 0.667, neither the requested
    dtype nor the mean. PyTorch: RuntimeError "mean(): could not infer output dtype.
    Optional dtype must be either a floating point or complex dtype"."""
    x = gdl.tensor([0.5, 0.7, 2.9])
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        gdl.mean(x, dtype=gdl.int64)
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        gdl.mean(gdl.tensor([1, 2, 4]), dtype=gdl.int64)
