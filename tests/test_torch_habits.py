"""PyTorch users' habits: ``dim=``/``keepdim=`` aliases, ``max(dim)`` -> (values, indices),
``size()``, ``dim()``, ``t()``, ``norm``, ``std``, ``masked_fill``, ``repeat``, ``sort``,
``topk``, ``from_numpy``, the ``*_like`` creators and ``x[i] = v``.

Each op is checked against a NumPy reference and gdl's finite-difference gradcheck on
every backend, and against PyTorch (values and gradients) where torch is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdl
from gdl.nn import functional as F
from gdl.testing import gradcheck

try:
    import torch
except ImportError:  # the *_torch tests skip themselves
    torch = None


def _torch():
    return pytest.importorskip("torch")


RNG = np.random.default_rng(0)
# distinct values and absolute values (no ties for max/sort/topk/inf-norms), none 0 (norms with p < 1)
A = ((RNG.permutation(24) + 1) * 0.1 * RNG.choice([-1.0, 1.0], 24)).reshape(2, 3, 4)


def g64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def weights(shape):
    return np.random.default_rng(1).standard_normal(shape)


def gdl_value_and_grad(fn, a):
    """``fn(x)`` and d(sum(w * fn(x)))/dx for fixed random weights ``w``."""
    x = g64(a)
    out = fn(x)
    (out * gdl.tensor(weights(out.shape), dtype=gdl.float64)).sum().backward()
    return out.numpy(), x.grad.numpy()


def torch_value_and_grad(fn, a):
    t = torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
    out = fn(t)
    (out * torch.tensor(weights(tuple(out.shape)))).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def np_log_softmax(a, axis):
    z = a - a.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# -- dim=/keepdim= wherever axis=/keepdims= is taken ------------------------------------------------

# name: (gdl, NumPy reference, torch); every gdl call spells the axis PyTorch's way
DIFFERENTIABLE = {
    "x.sum(dim=1)": (lambda x: x.sum(dim=1), lambda a: a.sum(axis=1), lambda t: t.sum(dim=1)),
    "x.sum(1, keepdim=True)": (
        lambda x: x.sum(1, keepdim=True), lambda a: a.sum(axis=1, keepdims=True), lambda t: t.sum(1, keepdim=True),
    ),
    "gdl.sum(x, dim=(0, 2))": (
        lambda x: gdl.sum(x, dim=(0, 2)), lambda a: a.sum(axis=(0, 2)), lambda t: torch.sum(t, dim=(0, 2)),
    ),
    "x.mean(dim=0)": (lambda x: x.mean(dim=0), lambda a: a.mean(axis=0), lambda t: t.mean(dim=0)),
    "x.mean(dim=-1, keepdim=True)": (
        lambda x: x.mean(dim=-1, keepdim=True), lambda a: a.mean(axis=-1, keepdims=True),
        lambda t: t.mean(dim=-1, keepdim=True),
    ),
    "x.var(dim=0)": (lambda x: x.var(dim=0), lambda a: a.var(axis=0), lambda t: t.var(dim=0, correction=0)),
    "x.var(dim=1, unbiased=True)": (
        lambda x: x.var(dim=1, unbiased=True), lambda a: a.var(axis=1, ddof=1), lambda t: t.var(dim=1),
    ),
    "x.std(dim=2)": (lambda x: x.std(dim=2), lambda a: a.std(axis=2), lambda t: t.std(dim=2, correction=0)),
    "x.std(dim=(0, 1), keepdim=True, unbiased=True)": (
        lambda x: x.std(dim=(0, 1), keepdim=True, unbiased=True),
        lambda a: a.std(axis=(0, 1), ddof=1, keepdims=True),
        lambda t: t.std(dim=(0, 1), keepdim=True),
    ),
    "x.std(correction=1)": (lambda x: x.std(correction=1), lambda a: a.std(ddof=1), lambda t: t.std()),
    "x.logsumexp(dim=1)": (
        lambda x: x.logsumexp(dim=1), lambda a: np.log(np.exp(a).sum(axis=1)), lambda t: t.logsumexp(dim=1),
    ),
    "gdl.logsumexp(x, dim=-1, keepdim=True)": (
        lambda x: gdl.logsumexp(x, dim=-1, keepdim=True),
        lambda a: np.log(np.exp(a).sum(axis=-1, keepdims=True)),
        lambda t: torch.logsumexp(t, dim=-1, keepdim=True),
    ),
    "F.softmax(x, dim=1)": (
        lambda x: F.softmax(x, dim=1), lambda a: np.exp(np_log_softmax(a, 1)), lambda t: torch.softmax(t, dim=1),
    ),
    "x.softmax(dim=0)": (
        lambda x: x.softmax(dim=0), lambda a: np.exp(np_log_softmax(a, 0)), lambda t: t.softmax(dim=0),
    ),
    "F.log_softmax(x, dim=0)": (
        lambda x: F.log_softmax(x, dim=0), lambda a: np_log_softmax(a, 0), lambda t: torch.log_softmax(t, dim=0),
    ),
    "x.log_softmax(dim=-1)": (
        lambda x: x.log_softmax(dim=-1), lambda a: np_log_softmax(a, -1), lambda t: t.log_softmax(dim=-1),
    ),
    "gdl.cat([x, 2x], dim=1)": (
        lambda x: gdl.cat([x, x * 2.0], dim=1), lambda a: np.concatenate([a, a * 2], axis=1),
        lambda t: torch.cat([t, t * 2.0], dim=1),
    ),
    "gdl.concat([x, x], dim=-1)": (
        lambda x: gdl.concat([x, x], dim=-1), lambda a: np.concatenate([a, a], axis=-1),
        lambda t: torch.cat([t, t], dim=-1),
    ),
    "gdl.stack([x, -x], dim=2)": (
        lambda x: gdl.stack([x, -x], dim=2), lambda a: np.stack([a, -a], axis=2),
        lambda t: torch.stack([t, -t], dim=2),
    ),
    "x[:, :1].squeeze(dim=1)": (
        lambda x: x[:, :1].squeeze(dim=1), lambda a: a[:, :1].squeeze(axis=1), lambda t: t[:, :1].squeeze(dim=1),
    ),
    "x.unsqueeze(dim=1)": (
        lambda x: x.unsqueeze(dim=1), lambda a: np.expand_dims(a, 1), lambda t: t.unsqueeze(dim=1),
    ),
    "gdl.unsqueeze(x, dim=-1)": (
        lambda x: gdl.unsqueeze(x, dim=-1), lambda a: np.expand_dims(a, -1), lambda t: torch.unsqueeze(t, dim=-1),
    ),
    "x.flatten(start_dim=1, end_dim=2)": (
        lambda x: x.flatten(start_dim=1, end_dim=2), lambda a: a.reshape(2, 12),
        lambda t: t.flatten(start_dim=1, end_dim=2),
    ),
    "gdl.take(x, idx, dim=2)": (
        lambda x: gdl.take(x, gdl.tensor([3, 0, 3]), dim=2), lambda a: np.take(a, [3, 0, 3], axis=2),
        lambda t: torch.index_select(t, 2, torch.tensor([3, 0, 3])),
    ),
    "x.max(dim=1).values": (
        lambda x: x.max(dim=1).values, lambda a: a.max(axis=1), lambda t: t.max(dim=1).values,
    ),
    "x.min(-1, keepdim=True)[0]": (
        lambda x: x.min(-1, keepdim=True)[0], lambda a: a.min(axis=-1, keepdims=True),
        lambda t: t.min(-1, keepdim=True)[0],
    ),
    "x.norm(dim=1)": (
        lambda x: x.norm(dim=1), lambda a: np.sqrt((a * a).sum(axis=1)), lambda t: t.norm(dim=1),
    ),
}

# not differentiable: indices and booleans
NON_DIFFERENTIABLE = {
    "x.argmax(dim=1)": (lambda x: x.argmax(dim=1), lambda a: a.argmax(axis=1), lambda t: t.argmax(dim=1)),
    "x.argmin(dim=0, keepdim=True)": (
        lambda x: x.argmin(dim=0, keepdim=True), lambda a: a.argmin(axis=0, keepdims=True),
        lambda t: t.argmin(dim=0, keepdim=True),
    ),
    "gdl.argmax(x, dim=-1)": (
        lambda x: gdl.argmax(x, dim=-1), lambda a: a.argmax(axis=-1), lambda t: torch.argmax(t, dim=-1),
    ),
    "(x > 0).all(dim=1)": (lambda x: (x > 0).all(dim=1), lambda a: (a > 0).all(axis=1), lambda t: (t > 0).all(dim=1)),
    "(x > 0).any(dim=0, keepdim=True)": (
        lambda x: (x > 0).any(dim=0, keepdim=True), lambda a: (a > 0).any(axis=0, keepdims=True),
        lambda t: (t > 0).any(dim=0, keepdim=True),
    ),
    "x.max(dim=2).indices": (
        lambda x: x.max(dim=2).indices, lambda a: a.argmax(axis=2), lambda t: t.max(dim=2).indices,
    ),
}


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_dim_aliases_match_numpy_and_gradcheck(backend, name):
    fn, ref, _ = DIFFERENTIABLE[name]
    x = g64(A)
    out = fn(x)
    expected = ref(A)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert out.requires_grad
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_dim_aliases_match_torch(backend, name):
    _torch()
    fn, _, tfn = DIFFERENTIABLE[name]
    out, grad = gdl_value_and_grad(fn, A)
    t_out, t_grad = torch_value_and_grad(tfn, A)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(NON_DIFFERENTIABLE))
def test_index_and_bool_reductions_take_dim(backend, name):
    fn, ref, tfn = NON_DIFFERENTIABLE[name]
    out = fn(g64(A, grad=False))
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), ref(A))
    if torch is not None:
        np.testing.assert_array_equal(out.numpy(), tfn(torch.tensor(A)).numpy())


def test_dim_and_axis_spellings_give_the_same_result(backend):
    x = g64(A)
    pairs = [
        (x.sum(dim=2, keepdim=True), x.sum(axis=2, keepdims=True)),
        (x.mean(dim=(0, 1)), x.mean(axis=(0, 1))),
        (x.var(dim=1), x.var(axis=1)),
        (x.max(axis=1), x.max(dim=1).values),
        (gdl.softmax(x, dim=0), gdl.softmax(x, axis=0)),
        (gdl.stack([x, x], dim=-1), gdl.stack([x, x], axis=-1)),
        (x.norm(p=1, dim=0, keepdim=True), x.norm(p=1, axis=0, keepdims=True)),
        (x.sort(axis=1).values, x.sort(dim=1).values),
        (x.topk(2, axis=0).values, x.topk(2, dim=0).values),
    ]
    for a, b in pairs:
        assert a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())


BOTH_AXES = {
    "sum": lambda x: x.sum(axis=1, dim=1),
    "mean": lambda x: gdl.mean(x, axis=0, dim=1),
    "var": lambda x: x.var(axis=0, dim=0),
    "std": lambda x: x.std(axis=0, dim=0),
    "max": lambda x: x.max(dim=1, axis=1),
    "min": lambda x: x.min(1, axis=1),
    "argmax": lambda x: x.argmax(axis=1, dim=1),
    "argmin": lambda x: x.argmin(axis=1, dim=0),
    "logsumexp": lambda x: x.logsumexp(axis=1, dim=1),
    "softmax": lambda x: gdl.softmax(x, axis=-1, dim=-1),  # the explicit default counts too
    "log_softmax": lambda x: x.log_softmax(-1, dim=0),
    "concat": lambda x: gdl.cat([x, x], axis=0, dim=1),
    "stack": lambda x: gdl.stack([x, x], axis=0, dim=0),
    "squeeze": lambda x: x.squeeze(axis=0, dim=0),
    "unsqueeze": lambda x: x.unsqueeze(axis=0, dim=0),
    "take": lambda x: gdl.take(x, gdl.tensor([0]), axis=0, dim=1),
    "norm": lambda x: x.norm(2, axis=1, dim=1),
    "sort": lambda x: x.sort(dim=-1, axis=-1),
    "topk": lambda x: x.topk(1, 0, axis=0),
    "all": lambda x: (x > 0).all(axis=0, dim=0),
    "any": lambda x: (x > 0).any(axis=0, dim=0),
}


@pytest.mark.parametrize("op", list(BOTH_AXES))
def test_axis_and_dim_together_is_a_type_error_naming_both(backend, op):
    x = g64(A)
    with pytest.raises(TypeError, match=rf"^{op}: got both (axis=.* and dim=|dim=.* and axis=)"):
        BOTH_AXES[op](x)


BOTH_KEEPDIMS = {
    "sum": lambda x: x.sum(1, keepdims=True, keepdim=True),
    "mean": lambda x: x.mean(axis=0, keepdims=True, keepdim=False),
    "var": lambda x: x.var(dim=0, keepdims=True, keepdim=True),
    "std": lambda x: x.std(keepdims=True, keepdim=False),
    "max": lambda x: x.max(dim=1, keepdim=True, keepdims=True),
    "min": lambda x: x.min(1, True, keepdims=False),
    "argmax": lambda x: x.argmax(1, True, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(keepdims=True, keepdim=True),
    "norm": lambda x: x.norm(keepdims=True, keepdim=True),
    "any": lambda x: (x > 0).any(keepdims=True, keepdim=True),
}


@pytest.mark.parametrize("op", list(BOTH_KEEPDIMS))
def test_keepdims_and_keepdim_together_is_a_type_error_naming_both(backend, op):
    x = g64(A)
    with pytest.raises(TypeError, match=rf"^{op}: got both (keepdims=.* and keepdim=|keepdim=.* and keepdims=)"):
        BOTH_KEEPDIMS[op](x)


def test_correction_and_unbiased_together_is_a_type_error(backend):
    x = g64(A)
    for op in ("var", "std"):
        with pytest.raises(TypeError, match=rf"^{op}: got both correction=1 and unbiased=True"):
            getattr(x, op)(correction=1, unbiased=True)


def test_unsqueeze_without_a_position(backend):
    with pytest.raises(TypeError, match=r"unsqueeze: missing .*axis=.*dim="):
        g64(A).unsqueeze()


# -- max/min with a dim: (values, indices) --------------------------------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_return_values_and_indices(backend, op, dim, keepdim):
    x = g64(A)
    ref_values = getattr(A, op)(axis=dim, keepdims=keepdim)
    ref_indices = getattr(A, "arg" + op)(axis=dim, keepdims=keepdim)
    for r in (getattr(x, op)(dim=dim, keepdim=keepdim), getattr(x, op)(dim, keepdim), getattr(gdl, op)(x, dim, keepdim)):
        assert isinstance(r, gdl.ValuesIndices) and isinstance(r, tuple) and len(r) == 2
        values, indices = r  # tuple unpacking
        assert values is r.values and indices is r.indices and r[0] is values and r[1] is indices
        np.testing.assert_array_equal(values.numpy(), ref_values)
        np.testing.assert_array_equal(indices.numpy(), ref_indices)
        assert indices.dtype == gdl.int64 and not indices.requires_grad and values.requires_grad
    assert gradcheck(lambda t: getattr(t, op)(dim, keepdim).values, [x])
    if torch is not None:
        tr = getattr(torch.tensor(A), op)(dim, keepdim)
        np.testing.assert_array_equal(r.values.numpy(), tr.values.numpy())
        np.testing.assert_array_equal(r.indices.numpy(), tr.indices.numpy())


def test_max_min_with_axis_or_no_dim_return_values_only(backend):
    x = g64(A)
    for out, ref in [
        (x.max(), A.max()), (x.min(), A.min()), (x.max(axis=1), A.max(axis=1)),
        (x.min(axis=(0, 2), keepdims=True), A.min(axis=(0, 2), keepdims=True)),
        (gdl.max(x, axis=-1), A.max(axis=-1)), (x.max(axis=0, keepdim=True), A.max(axis=0, keepdims=True)),
    ]:
        assert isinstance(out, gdl.Tensor)
        np.testing.assert_array_equal(out.numpy(), ref)


def test_max_with_dim_sends_the_gradient_to_the_index_not_to_all_ties(backend):
    x = g64([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), [0, 0])  # the first maximum, as numpy.argmax
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0], [1, 0, 0]])
    x.grad = None
    x.max(axis=1).sum().backward()  # the Array API form keeps sharing ties equally
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_match_torch_gradients(backend, op):
    _torch()
    out, grad = gdl_value_and_grad(lambda x: getattr(x, op)(1).values * 2.0, A)
    t_out, t_grad = torch_value_and_grad(lambda t: getattr(t, op)(1).values * 2.0, A)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(grad, t_grad)


def test_max_min_with_dim_edge_cases(backend):
    x = g64(A)
    with pytest.raises(TypeError, match=r"max: dim must be one int.*axis=\(0, 1\)"):
        x.max(dim=(0, 1))
    with pytest.raises(ValueError, match=r"min: axis 3 is out of range .* 3 dimensions"):
        x.min(3)
    with pytest.raises(ValueError, match=r"max: cannot reduce the empty dimension 1 of shape \(2, 0\)"):
        gdl.zeros(2, 0).max(1)
    s = g64(2.5)  # a 0-d tensor: (itself, 0), as PyTorch
    values, indices = s.max(0)
    assert values.shape == () and values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert s.grad.item() == 1.0
    # torch.max(input, other): the elementwise maximum
    y = g64(-A)
    np.testing.assert_array_equal(x.max(y).numpy(), np.maximum(A, -A))
    np.testing.assert_array_equal(gdl.min(x, y).numpy(), np.minimum(A, -A))


# -- size(), dim(), t() ------------------------------------------------------------------------------


def test_size_is_the_element_count_and_callable_for_the_shape(backend):
    x = gdl.zeros(2, 3, 4)
    assert x.size == 24 and isinstance(x.size, int) and x.size // 5 == 4 and x.size + 1 == 25
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(dim=1) == 3
    assert type(x.size(1)) is int
    assert x.numel() == 24
    assert gdl.tensor(5.0).size == 1 and gdl.tensor(5.0).size() == ()
    assert gdl.zeros(3, 0).size == 0
    with pytest.raises(ValueError, match=r"size: axis 3 is out of range .* 3 dimensions"):
        x.size(3)
    # the internals that read .size as a count still work
    assert gdl.tensor([[7.0]]).item() == 7.0
    with pytest.raises(ValueError, match=r"item\(\).*24 elements"):
        x.item()
    w = gdl.ones(1, requires_grad=True)
    (w * 3.0).backward()  # a one-element output: the gradient is implied
    assert w.grad.item() == 3.0


def test_dim_is_ndim(backend):
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        assert gdl.zeros(*shape).dim() == len(shape)


def test_t_transposes_2d_and_refuses_more(backend):
    x = g64(A[0])
    np.testing.assert_array_equal(x.t().numpy(), A[0].T)
    assert gradcheck(lambda t: t.t() * t.t(), [x])
    v = g64(A[0, 0])
    assert v.t() is v and g64(1.0).t().shape == ()
    with pytest.raises(ValueError, match=r"t: expects a tensor with at most 2 dimensions, got shape \(2, 3, 4\)"):
        g64(A).t()
    if torch is not None:
        _, grad = gdl_value_and_grad(lambda t: t.t(), A[0])
        _, t_grad = torch_value_and_grad(lambda t: t.t(), A[0])
        np.testing.assert_array_equal(grad, t_grad)


# -- norm ------------------------------------------------------------------------------------------------

NORM_P = [2, 1, math.inf, -math.inf, 3, 0.5, "fro"]
NORM_DIMS = [(None, False), (1, False), (-1, True), ((0, 2), False), ((0, 1), True)]


def np_norm(a, p, axis, keepdims):
    m = np.abs(a)
    if p in (2, "fro"):
        return np.sqrt((m * m).sum(axis=axis, keepdims=keepdims))
    if p == math.inf:
        return m.max(axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return m.min(axis=axis, keepdims=keepdims)
    return (m**p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


@pytest.mark.parametrize("p", NORM_P)
@pytest.mark.parametrize("dim, keepdim", NORM_DIMS)
def test_norm_matches_numpy_and_gradcheck(backend, p, dim, keepdim):
    x = g64(A)
    out = x.norm(p=p, dim=dim, keepdim=keepdim)
    expected = np_norm(A, p, dim, keepdim)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(gdl.norm(x, p, dim, keepdim).numpy(), expected, rtol=1e-12)  # positional, as torch
    assert gradcheck(lambda t: t.norm(p, dim=dim, keepdim=keepdim), [x])


@pytest.mark.parametrize("p", NORM_P)
@pytest.mark.parametrize("dim, keepdim", NORM_DIMS)
def test_norm_matches_torch(backend, p, dim, keepdim):
    _torch()
    out, grad = gdl_value_and_grad(lambda x: x.norm(p=p, dim=dim, keepdim=keepdim), A)
    t_out, t_grad = torch_value_and_grad(lambda t: t.norm(p=p, dim=dim, keepdim=keepdim), A)
    np.testing.assert_allclose(out, t_out, rtol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-10, atol=1e-12)


def test_norm_at_zero_and_p0(backend):
    z = g64(np.zeros((2, 3)))
    z.norm().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros((2, 3)))  # 0, not NaN (as PyTorch)
    x = g64([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    n0 = x.norm(p=0, dim=1)
    np.testing.assert_array_equal(n0.numpy(), [2.0, 1.0])
    n0.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    if torch is not None:
        t = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
        t.norm().backward()
        np.testing.assert_array_equal(t.grad.numpy(), z.grad.numpy())


def test_norm_bad_arguments(backend):
    with pytest.raises(ValueError, match=r"norm: p must be a number, inf or 'fro', got 'nuc'"):
        g64(A).norm(p="nuc")
    with pytest.raises(TypeError, match=r"norm: needs a floating-point tensor, got int64"):
        gdl.tensor([1, 2]).norm()


# -- std and var: the correction convention -----------------------------------------------------------


def test_std_and_var_default_to_correction_0_and_take_unbiased(backend):
    x = g64(A)
    np.testing.assert_allclose(x.var().numpy(), A.var(), rtol=1e-12)  # the Array API default (ddof 0)
    np.testing.assert_allclose(x.std().numpy(), A.std(), rtol=1e-12)  # the same convention as var
    np.testing.assert_allclose(x.std(dim=1, unbiased=True).numpy(), A.std(axis=1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(x.std(1, False, 1).numpy(), A.std(axis=1, ddof=1), rtol=1e-12)  # positional
    np.testing.assert_allclose(x.std(dim=1, unbiased=False).numpy(), A.std(axis=1), rtol=1e-12)
    np.testing.assert_allclose(gdl.std(x, axis=0, correction=1).numpy(), A.std(axis=0, ddof=1), rtol=1e-12)
    assert gradcheck(lambda t: t.std(dim=0, unbiased=True), [x])
    if torch is not None:  # PyTorch defaults to the unbiased estimate: gdl differs unless asked
        t = torch.tensor(A)
        np.testing.assert_allclose(x.std(unbiased=True).item(), t.std().item(), rtol=1e-12)
        np.testing.assert_allclose(x.var(correction=1).item(), t.var().item(), rtol=1e-12)
        assert abs(x.std().item() - t.std().item()) > 1e-3


def test_std_of_a_constant_has_a_zero_gradient_like_torch(backend):
    x = g64(np.ones((2, 3)))
    s = x.std(dim=1)
    np.testing.assert_array_equal(s.numpy(), [0.0, 0.0])
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))  # not NaN
    if torch is not None:
        t = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
        t.std(dim=1, correction=0).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), x.grad.numpy())


# -- masked_fill ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (3, 1), (4,), ()])
def test_masked_fill(backend, mask_shape):
    m = np.random.default_rng(2).random(mask_shape) > 0.5
    if m.ndim == 0:
        m = np.asarray(True)
    x = g64(A)
    out = x.masked_fill(gdl.tensor(m), -7.5)
    expected = np.where(m, -7.5, A)
    assert out.shape == A.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(gdl.masked_fill(x, gdl.tensor(m), -7.5).numpy(), expected)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(~m, A.shape).astype(float))
    assert gradcheck(lambda t: t.masked_fill(gdl.tensor(m), 0.25) * t, [g64(A)])
    if torch is not None:
        v = g64(0.5)  # a 0-d tensor value is differentiable too
        t_v = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        out, grad = gdl_value_and_grad(lambda t: t.masked_fill(gdl.tensor(m), v), A)
        t_out, t_grad = torch_value_and_grad(lambda t: t.masked_fill(torch.tensor(m), t_v), A)
        np.testing.assert_array_equal(out, t_out)
        np.testing.assert_array_equal(grad, t_grad)
        np.testing.assert_allclose(v.grad.item(), t_v.grad.item(), rtol=1e-12)


def test_masked_fill_keeps_the_dtype_and_checks_its_arguments(backend):
    x = gdl.ones(2, 3)
    out = x.masked_fill(x > 0, g64(2.0, grad=False))
    assert out.dtype == gdl.float32 and float(out.sum()) == 12.0
    assert gdl.tensor([1, 2, 3]).masked_fill(gdl.tensor([True, False, True]), 0).tolist() == [0, 2, 0]
    with pytest.raises(TypeError, match=r"masked_fill: mask must be a bool tensor, got float32"):
        x.masked_fill(x, 0.0)
    with pytest.raises(TypeError, match=r"masked_fill: mask must be a bool tensor, got list"):
        x.masked_fill([True, False, True], 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: a mask of shape \(4, 2, 3\) does not broadcast .*\(2, 3\)"):
        x.masked_fill(gdl.ones(4, 2, 3) > 0, 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: value must be a number or a 0-d tensor, got shape \(3,\)"):
        x.masked_fill(x > 0, gdl.ones(3))


# -- repeat --------------------------------------------------------------------------------------------

REPEATS = [(1, 1, 1), (2, 1, 3), (2, 2, 1, 2), ((1, 3, 1),), (0, 1, 1), (3, 1, 1, 1, 1)]


@pytest.mark.parametrize("sizes", REPEATS)
def test_repeat_is_numpy_tile(backend, sizes):
    x = g64(A)
    out = x.repeat(*sizes)
    reps = sizes[0] if isinstance(sizes[0], tuple) else sizes
    np.testing.assert_array_equal(out.numpy(), np.tile(A, reps))
    np.testing.assert_array_equal(gdl.repeat(x, reps).numpy(), np.tile(A, reps))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(A.shape, float(np.prod(reps))))
    if 0 not in reps:
        assert gradcheck(lambda t: t.repeat(*sizes), [g64(A)])
    if torch is not None:
        out, grad = gdl_value_and_grad(lambda t: t.repeat(*sizes), A)
        t_out, t_grad = torch_value_and_grad(lambda t: t.repeat(*sizes), A)
        np.testing.assert_array_equal(out, t_out)
        np.testing.assert_allclose(grad, t_grad, rtol=1e-12)


def test_repeat_checks_its_sizes(backend):
    x = g64(A)
    with pytest.raises(ValueError, match=r"repeat: sizes \(2, 2\) must be .* at least one per dimension .*\(2, 3, 4\)"):
        x.repeat(2, 2)
    with pytest.raises(ValueError, match=r"repeat: sizes \(1, -1, 1\)"):
        x.repeat(1, -1, 1)


# -- sort and topk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(backend, dim, descending):
    x = g64(A)
    values, indices = x.sort(dim=dim, descending=descending)
    order = np.argsort(-A if descending else A, axis=dim, kind="stable")
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(A, order, axis=dim))
    r = gdl.sort(x, dim, descending)
    assert isinstance(r, gdl.ValuesIndices)
    np.testing.assert_array_equal(r.values.numpy(), values.numpy())
    assert gradcheck(lambda t: t.sort(dim, descending).values, [x])
    if torch is not None:
        tr = torch.tensor(A).sort(dim=dim, descending=descending)
        np.testing.assert_array_equal(indices.numpy(), tr.indices.numpy())
        _, grad = gdl_value_and_grad(lambda t: t.sort(dim=dim, descending=descending).values, A)
        _, t_grad = torch_value_and_grad(lambda t: t.sort(dim=dim, descending=descending).values, A)
        np.testing.assert_array_equal(grad, t_grad)


def test_sort_is_stable_on_ties(backend):
    x = g64([3.0, 1.0, 3.0, 1.0, 2.0])
    np.testing.assert_array_equal(x.sort().indices.numpy(), [1, 3, 4, 0, 2])
    np.testing.assert_array_equal(x.sort(descending=True).indices.numpy(), [0, 2, 4, 1, 3])
    values, indices = g64(4.0).sort()  # 0-d
    assert values.item() == 4.0 and indices.item() == 0


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("dim", [-1, 1])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(backend, k, dim, largest):
    x = g64(A)
    values, indices = x.topk(k, dim=dim, largest=largest)
    order = np.argsort(-A if largest else A, axis=dim, kind="stable")
    top = np.take(order, np.arange(k), axis=dim)
    np.testing.assert_array_equal(indices.numpy(), top)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(A, top, axis=dim))
    assert isinstance(gdl.topk(x, k, dim, largest), gdl.ValuesIndices)
    values.sum().backward()
    hit = np.zeros(A.shape)
    np.put_along_axis(hit, top, 1.0, axis=dim)
    np.testing.assert_array_equal(x.grad.numpy(), hit)
    if k:
        assert gradcheck(lambda t: t.topk(k, dim, largest).values, [g64(A)])
    if torch is not None:
        tr = torch.tensor(A).topk(k, dim=dim, largest=largest)
        np.testing.assert_array_equal(indices.numpy(), tr.indices.numpy())
        _, grad = gdl_value_and_grad(lambda t: t.topk(k, dim=dim, largest=largest).values, A)
        _, t_grad = torch_value_and_grad(lambda t: t.topk(k, dim=dim, largest=largest).values, A)
        np.testing.assert_array_equal(grad, t_grad)


def test_topk_checks_k(backend):
    x = g64(A)
    with pytest.raises(ValueError, match=r"topk: k=5 is out of range for dimension 2 of size 4 .*\(2, 3, 4\)"):
        x.topk(5)
    with pytest.raises(ValueError, match=r"topk: k=-1 is out of range"):
        x.topk(-1, dim=0)
    with pytest.raises(ValueError, match=r"sort: axis 3 is out of range"):
        x.sort(3)


# -- the new differentiable ops over drawn shapes ----------------------------------------------------

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _distinct(data, shape):
    n = int(np.prod(shape, dtype=np.int64))
    flat = data.draw(hnp.arrays(np.int64, n, elements=st.integers(1, 80), unique=True))
    sign = data.draw(hnp.arrays(np.int64, n, elements=st.sampled_from([-1, 1])))
    return (flat * sign * 0.05).astype(np.float64).reshape(shape)  # distinct, nonzero


def _drawn_case(data, shape, dim, a):
    op = data.draw(st.sampled_from(["max", "min", "sort", "topk", "norm", "std", "repeat", "masked_fill"]))
    if op in ("max", "min"):
        keep = data.draw(st.booleans())
        return (lambda t: getattr(t, op)(dim, keep).values), getattr(a, op)(axis=dim, keepdims=keep)
    if op == "sort":
        desc = data.draw(st.booleans())
        return (lambda t: t.sort(dim, desc).values), np.sort(-a if desc else a, axis=dim) * (-1 if desc else 1)
    if op == "topk":
        k = data.draw(st.integers(1, shape[dim]))
        largest = data.draw(st.booleans())
        top = np.take(np.argsort(-a if largest else a, axis=dim, kind="stable"), np.arange(k), axis=dim)
        return (lambda t: t.topk(k, dim, largest).values), np.take_along_axis(a, top, axis=dim)
    if op == "norm":
        p = data.draw(st.sampled_from([2, 1, math.inf, -math.inf, 3]))
        return (lambda t: t.norm(p, dim=dim)), np_norm(a, p, dim, False)
    if op == "std":
        c = data.draw(st.integers(0, 1))
        return (lambda t: t.std(dim=dim, correction=c)), np.sqrt(a.var(axis=dim, ddof=c)) if shape[dim] > c else None
    if op == "repeat":
        sizes = data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1))
        return (lambda t: t.repeat(*sizes)), np.tile(a, sizes)
    m = data.draw(hnp.arrays(np.bool_, shape))
    return (lambda t: t.masked_fill(gdl.tensor(m), 0.5) * t), np.where(m, 0.5, a) * a


@given(data=st.data())
@SETTINGS
def test_new_ops_over_drawn_shapes(backend, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = _distinct(data, shape)
    fn, expected = _drawn_case(data, shape, dim, a)
    if expected is None:  # std of one element with correction 1: gdl divides by 1, numpy by 0
        return
    x = g64(a)
    out = fn(x)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, [x])


# -- creation: from_numpy and the *_like functions --------------------------------------------------


@pytest.mark.parametrize("dtype, want", [("float64", gdl.float64), ("float32", gdl.float32), ("int64", gdl.int64)])
def test_from_numpy_keeps_the_dtype_and_copies(backend, dtype, want):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = gdl.from_numpy(a)
    assert t.backend == backend and t.dtype == want and t.shape == (2, 3) and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 100  # a copy: later writes do not show (documented difference from torch.from_numpy)
    assert t.numpy()[0, 0] == 0
    with pytest.raises(TypeError, match=r"from_numpy: expected a numpy.ndarray, got list"):
        gdl.from_numpy([1.0, 2.0])


def test_like_creators(backend):
    x = gdl.zeros(3, 4, dtype=gdl.float64)
    for fn in (gdl.randn_like, gdl.rand_like, gdl.zeros_like, gdl.ones_like):
        t = fn(x)
        assert t.shape == (3, 4) and t.dtype == gdl.float64 and t.backend == backend and not t.requires_grad
        t32 = fn(x, dtype=gdl.float32, requires_grad=True)
        assert t32.dtype == gdl.float32 and t32.requires_grad
    np.testing.assert_array_equal(gdl.zeros_like(x).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(gdl.ones_like(x).numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(gdl.full_like(x, 2.5).numpy(), np.full((3, 4), 2.5))
    assert gdl.full_like(gdl.zeros(2, dtype=gdl.int64), 7).tolist() == [7, 7]
    u = gdl.rand_like(gdl.zeros(1000)).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.4 < u.mean() < 0.6
    n = gdl.randn_like(gdl.zeros(2000)).numpy()
    assert abs(n.mean()) < 0.1 and 0.9 < n.std() < 1.1
    gdl.manual_seed(5)
    a = gdl.randn_like(x)
    gdl.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), gdl.randn(3, 4, dtype=gdl.float64).numpy())
    for fn in (gdl.randn_like, gdl.rand_like):
        with pytest.raises(TypeError, match=rf"{fn.__name__}: needs a floating-point dtype, got int64"):
            fn(gdl.zeros(2, dtype=gdl.int64))


# -- x[idx] = v ----------------------------------------------------------------------------------------


def test_setitem_writes_in_place_like_numpy(backend):
    x = gdl.tensor(A.copy())
    ref = A.copy()
    writes = [
        (0, 1.5),
        ((1, 2), -3.0),
        ((slice(None), 1), gdl.tensor(np.full(4, 9.0))),
        ((Ellipsis, 3), 4),  # an int into a float tensor
        ((0, slice(1, 3), slice(None, None, 2)), [[1.0, 2.0], [3.0, 4.0]]),
        ((1, 0), gdl.tensor(np.arange(4.0), dtype=gdl.float32)),  # cast to the tensor's dtype
    ]
    for key, value in writes:
        x[key] = value
        ref[key] = value.numpy() if isinstance(value, gdl.Tensor) else value
        np.testing.assert_array_equal(x.numpy(), ref)
    x[x > 1.0] = 0.0  # a boolean-mask tensor
    ref[ref > 1.0] = 0.0
    np.testing.assert_array_equal(x.numpy(), ref)
    assert x.dtype == gdl.float64 and not x.requires_grad


def test_setitem_with_integer_array_indices(backend):
    x = gdl.zeros(3, 4)
    idx = gdl.tensor([0, 2])
    if backend == "array_api_strict":  # not in the Array API: a clear error instead
        with pytest.raises(IndexError, match=r"setitem: cannot assign to index .* shape \(3, 4\)"):
            x[idx] = 1.0
    else:
        x[idx] = 1.0
        np.testing.assert_array_equal(x.numpy().sum(axis=1), [4.0, 0.0, 4.0])


def test_setitem_refuses_tensors_that_require_grad(backend):
    w = gdl.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"setitem: cannot assign in place into a tensor that requires grad.*no_grad"):
        w[0] = 1.0
    y = w * 2.0  # a graph tensor too
    with pytest.raises(RuntimeError, match=r"autograd graph"):
        y[1] = 1.0
    with gdl.no_grad():
        w[0] = 1.0  # allowed: e.g. initialising a parameter
        with gdl.enable_grad(), pytest.raises(RuntimeError, match="requires grad"):
            w[1] = 1.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 0.0, 0.0])
    assert w.requires_grad and w.grad_fn is None
    (w * w).sum().backward()  # still a working leaf
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 0.0, 0.0])


def test_setitem_bad_index(backend):
    x = gdl.zeros(2, 3)
    with pytest.raises(IndexError, match=r"setitem: cannot assign to index 5 of a tensor of shape \(2, 3\)"):
        x[5] = 1.0
