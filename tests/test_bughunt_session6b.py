"""Bug hunt (session 6b) over this session's additions: gdl.linalg, the sampling/misc ops,
PyTorch device names, gdl.utils.checkpoint (and gdl.load's torch habits).

Each test asserts the correct (PyTorch 2.13) behaviour, so it fails while its bug
exists. Torch-dependent tests skip without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.autograd
import gdl.linalg
from gdl.utils.checkpoint import checkpoint

X23 = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)


# -- gdl.linalg ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [(), []])
def test_vector_norm_with_an_empty_dim_reduces_every_dimension(dim):
    """torch.linalg.vector_norm(x, dim=()) (or dim=[]) is the norm of all elements, a 0-d
    tensor, as dim=None; gdl passes () on to FL.norm, which reduces nothing and returns
    |x| elementwise (shape (2, 5, 3)). Bites code such as
    ``vector_norm(x, dim=tuple(range(1, x.ndim)))`` on a 1-d x."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((2, 5, 3))
    x = gdl.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out = gdl.linalg.vector_norm(x, dim=dim)
    ref = torch.linalg.vector_norm(t, dim=dim)
    assert out.shape == tuple(ref.shape) == ()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_linalg_vector_and_matrix_norm_take_float16():
    """torch.linalg.vector_norm / matrix_norm / norm accept float16 (and return float16);
    gdl.linalg refuses them with 'float16 is not supported, use float32 or float64'
    (its _float check is meant for the LAPACK factorizations), although x.norm() on the
    same half tensor works. Half-precision models call linalg.vector_norm. (On NumPy:
    the Array API standard, hence array_api_strict, has no float16.)"""
    x = gdl.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=gdl.float16, backend="numpy")
    v = gdl.linalg.vector_norm(x, dim=-1)
    assert v.dtype == gdl.float16
    np.testing.assert_allclose(v.numpy().astype(np.float32), [5.0, 0.0])
    m = gdl.linalg.matrix_norm(x)
    assert m.dtype == gdl.float16
    np.testing.assert_allclose(float(m.item()), 5.0)
    assert gdl.linalg.norm(x).dtype == gdl.float16


@pytest.mark.parametrize("shape, ord", [((2, 3, 0), 1), ((2, 3, 0), 2), ((0, 0), 2)])
def test_matrix_norm_of_empty_matrices_is_zero(shape, ord):
    """torch.linalg.matrix_norm of matrices with no elements is 0 for every ord
    (torch.linalg.matrix_norm(torch.zeros(2, 3, 0), 1) -> tensor([0., 0.])); gdl raises
    'max: cannot reduce an empty axis' (ord 1 or 2 on (2, 3, 0); ord 2 on (0, 0): torch
    gives 0 there; 'fro' and 'nuc' already give 0 in gdl)."""
    out = gdl.linalg.matrix_norm(gdl.zeros(*shape, dtype=gdl.float64), ord)
    assert out.shape == shape[:-2]
    np.testing.assert_array_equal(out.numpy(), np.zeros(shape[:-2]))


# -- sampling / misc ------------------------------------------------------------------------------


def test_trapezoid_with_lower_dimensional_x_and_a_positive_dim():
    """torch.trapezoid(y, x, dim) with x of fewer dimensions than y left-pads x to y's rank
    and takes dim as y's dimension; gdl wraps dim against x.ndim, so y (2, 3, 4), x (3, 4),
    dim=1 looks at x's axis of size 4 and raises 'needs one point per sample'."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    y, xs = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))
    gy, gx = gdl.tensor(y, requires_grad=True), gdl.tensor(xs, requires_grad=True)
    ty, tx = torch.tensor(y, requires_grad=True), torch.tensor(xs, requires_grad=True)
    out = gdl.trapezoid(gy, gx, dim=1)
    ref = torch.trapezoid(ty, tx, dim=1)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(gy.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_normal_with_numbers_and_size_takes_device():
    """torch.normal(0.0, 1.0, size, device=...) is the creation form of normal; the device
    commit gave device= to every creation function, but gdl.normal has only backend=:
    TypeError "normal() got an unexpected keyword argument 'device'"."""
    out = gdl.normal(0.0, 1.0, (2, 3), device="cpu")
    assert out.shape == (2, 3) and out.backend == "numpy"
    out = gdl.normal(0.0, 1.0, size=(4,), device=gdl.zeros(1).device)
    assert out.shape == (4,)


# -- device names ---------------------------------------------------------------------------------


def test_nn_layers_take_device_and_dtype_factory_kwargs():
    """PyTorch modules take device= and dtype= (``nn.Linear(d, d, device=device,
    dtype=dtype)``, common in current model code); gdl layers take backend= and dtype=
    but refuse device= (TypeError: unexpected keyword argument 'device')."""
    lin = gdl.nn.Linear(3, 4, device="cpu", dtype=gdl.float64)
    assert lin.weight.dtype == gdl.float64 and lin.weight.device == gdl.device("cpu")
    emb = gdl.nn.Embedding(5, 2, device=gdl.device("cpu"))
    assert emb.weight.backend == "numpy"
    bn = gdl.nn.BatchNorm1d(4, device="cpu")
    assert bn.running_mean.device.type == "cpu"


def test_tensor_to_another_tensor_takes_its_dtype_and_device():
    """``x.to(other)`` (PyTorch's third form of Tensor.to: other's dtype and device; e.g.
    ``mask.to(hidden_states)``) raises ValueError "unknown backend tensor(...)"."""
    x = gdl.tensor([1, 2, 3])
    other = gdl.zeros(2, dtype=gdl.float64)
    out = x.to(other)
    assert out.dtype == gdl.float64 and out.device == other.device
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0, 3.0])


def test_tensor_to_dtype_with_non_blocking_positional():
    """``x.to(torch.float64, True)`` is PyTorch's ``to(dtype, non_blocking)``; gdl reads the
    True as the dtype slot and the dtype as a backend: ValueError 'unknown backend
    gdl.float64'."""
    out = gdl.tensor([1.0, 2.0]).to(gdl.float64, True)
    assert out.dtype == gdl.float64


def test_module_to_an_integer_dtype_is_refused():
    """torch: ``model.to(torch.int64)`` raises TypeError ('nn.Module.to only accepts
    floating point or complex dtypes'); gdl silently truncates every weight to int64,
    destroying the model."""
    model = gdl.nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    with pytest.raises(TypeError):
        model.to(gdl.int64)
    assert model.weight.dtype == gdl.float32
    np.testing.assert_array_equal(model.weight.numpy(), before)


def test_load_takes_torch_map_location_and_weights_only(tmp_path):
    """``torch.load(path, map_location=device)`` / ``map_location='cpu'`` and
    ``weights_only=True`` are what checkpoint-loading code passes; gdl.load has the
    device as ``backend`` only: TypeError "unexpected keyword argument 'map_location'"."""
    path = tmp_path / "sd.safetensors"
    gdl.save({"w": gdl.ones(2)}, path)
    sd = gdl.load(path, map_location="cpu")
    assert sd["w"].device == gdl.device("cpu")
    sd = gdl.load(path, map_location=gdl.device("cpu"), weights_only=True)
    np.testing.assert_array_equal(sd["w"].numpy(), [1.0, 1.0])


# -- gdl.utils.checkpoint -------------------------------------------------------------------------


def test_autograd_grad_through_a_checkpoint_leaves_parameter_grads_alone():
    """gdl.autograd.grad(y, x) (and backward(inputs=[x])) must not touch the .grad of
    parameters that are not asked for. Through a checkpoint, the recomputation runs a
    full ``backprop`` that accumulates into every parameter inside the function:
    lin.weight.grad is set. (torch non-reentrant: weight.grad stays None; reentrant:
    an error.) A gradient penalty computed this way adds a spurious term to the next
    optimizer step."""
    lin = gdl.nn.Linear(3, 3)
    x = gdl.tensor(X23, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=False)
    (gx,) = gdl.autograd.grad(y.sum(), x)
    assert gx.shape == (2, 3)
    assert lin.weight.grad is None and lin.bias.grad is None

    x = gdl.tensor(X23, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=False)
    y.sum().backward(inputs=[x])
    assert x.grad is not None
    assert lin.weight.grad is None and lin.bias.grad is None


def test_checkpoint_with_a_non_leaf_keyword_argument_shared_by_two_calls():
    """A non-leaf tensor given as a keyword argument (e.g. the encoder output as
    ``context=`` to each checkpointed decoder layer) is not an input of the checkpoint
    node; the recomputation back-propagates into its history itself, so the second
    checkpoint (or the outer backward) goes through already-freed nodes: RuntimeError
    'trying to go through the graph a second time at <TanhBackward>'. torch gives
    a.grad = d/da of the plain computation."""
    a = gdl.tensor(X23, requires_grad=True)
    x = gdl.tensor(X23, requires_grad=True)

    def layer(h, context=None):
        return gdl.sin(h * context)

    enc = gdl.tanh(a)
    h = x
    for _ in range(2):
        h = checkpoint(layer, h, context=enc, use_reentrant=False)
    h.sum().backward()

    a2 = gdl.tensor(X23, requires_grad=True)
    x2 = gdl.tensor(X23, requires_grad=True)
    enc2 = gdl.tanh(a2)
    layer(layer(x2, enc2), enc2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), a2.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_checkpoint_with_tensors_inside_a_list_argument_also_used_outside():
    """Tensors nested in a list/tuple argument, whose history the outer graph also uses:
    same failure ('trying to go through the graph a second time at <MulBackward>').
    torch (non-reentrant) differentiates through them: a.grad = 3 * (2 * 3a * s + 1)."""
    a = gdl.tensor(X23, requires_grad=True)
    s = gdl.tensor(2.0, requires_grad=True)
    h = a * 3
    y = checkpoint(lambda pair, scale: (pair[0] * pair[1]).sum() * scale, [h, h], s, use_reentrant=False)
    (y + h.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), 3 * (2 * 3 * X23 * 2.0 + 1), rtol=1e-5)
    np.testing.assert_allclose(float(s.grad.item()), float((9 * X23 * X23).sum()), rtol=1e-5)
