"""Second-order gradients (create_graph=True) through the math ops: pointwise and special
functions, reductions and the softmax family, matrix products and contractions.

The gdl-only checks come first (finite differences of the first gradient computed by the
graph path, on every test backend); then Hessian-vector products compared with PyTorch's
in float64 (skipped without torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
from gdl.autograd import grad
from gdl.testing import gradcheck

# -- the cases: (id, gdl function, torch function name or lambda, input specs) -------------
# An input spec is (shape, low, high): uniform values in [low, high). Each function is
# nonlinear in every input, so the second derivatives are not all zero.


def U(*shape, lo=-1.5, hi=1.5):
    return (shape, lo, hi)


POS = dict(lo=0.3, hi=2.5)
UNIT = dict(lo=-0.85, hi=0.85)

# unary ops applied to x: f(x) = op(x) (op's own second derivative), composed with x * x
# for the ones whose second derivative is zero
UNARY = [
    ("sin", lambda m, x: m.sin(x), [U(3, 4)]),
    ("cos", lambda m, x: m.cos(x), [U(3, 4)]),
    ("tan", lambda m, x: m.tan(x), [U(3, 4, lo=-1.0, hi=1.0)]),
    ("sinh", lambda m, x: m.sinh(x), [U(5)]),
    ("cosh", lambda m, x: m.cosh(x), [U(5)]),
    ("asin", lambda m, x: m.asin(x), [U(2, 3, **UNIT)]),
    ("acos", lambda m, x: m.acos(x), [U(2, 3, **UNIT)]),
    ("atan", lambda m, x: m.atan(x), [U(2, 3)]),
    ("asinh", lambda m, x: m.asinh(x), [U(2, 3)]),
    ("acosh", lambda m, x: m.acosh(x), [U(2, 3, lo=1.2, hi=3.0)]),
    ("atanh", lambda m, x: m.atanh(x), [U(2, 3, **UNIT)]),
    ("log1p", lambda m, x: m.log1p(x), [U(2, 3, lo=-0.5, hi=2.0)]),
    ("expm1", lambda m, x: m.expm1(x), [U(2, 3)]),
    ("exp2", lambda m, x: m.exp2(x), [U(2, 3)]),
    ("log2", lambda m, x: m.log2(x), [U(2, 3, **POS)]),
    ("log10", lambda m, x: m.log10(x), [U(2, 3, **POS)]),
    ("rsqrt", lambda m, x: m.rsqrt(x), [U(2, 3, **POS)]),
    ("reciprocal", lambda m, x: m.reciprocal(x), [U(2, 3, **POS)]),
    ("square", lambda m, x: m.square(m.sin(x)), [U(2, 3)]),
    ("erf", lambda m, x: m.erf(x), [U(2, 3)]),
    ("erfc", lambda m, x: m.erfc(x), [U(2, 3)]),
    ("erfinv", lambda m, x: m.erfinv(x), [U(2, 3, **UNIT)]),
    ("lgamma", lambda m, x: m.lgamma(x), [U(2, 3, lo=0.5, hi=4.0)]),
    ("digamma", lambda m, x: m.digamma(x), [U(2, 3, lo=0.5, hi=4.0)]),
    ("polygamma1", lambda m, x: m.polygamma(1, x), [U(2, 3, lo=0.5, hi=4.0)]),
    ("mvlgamma", lambda m, x: m.mvlgamma(x, p=2), [U(2, 3, lo=1.5, hi=4.0)]),
    ("logit", lambda m, x: m.logit(x), [U(2, 3, lo=0.1, hi=0.9)]),
    ("logit_eps", lambda m, x: m.logit(x, eps=0.25), [U(2, 5, lo=0.05, hi=0.95)]),
    ("floor", lambda m, x: m.floor(x * 3.0) * m.sin(x), [U(2, 5)]),
    ("ceil", lambda m, x: m.ceil(x * 3.0) * m.sin(x), [U(2, 5)]),
    ("round", lambda m, x: m.round(x * 3.0) * m.sin(x), [U(2, 5)]),
    ("trunc", lambda m, x: m.trunc(x * 3.0) * m.sin(x), [U(2, 5)]),
    ("sign", lambda m, x: m.sign(x) * x * x, [U(2, 5)]),
    ("frac", lambda m, x: m.frac(x * 3.0) * x, [U(2, 5)]),
]

BINARY = [
    ("atan2", lambda m, a, b: m.atan2(a, b), [U(3, 4), U(3, 4)]),
    ("atan2_broadcast", lambda m, a, b: m.atan2(a, b), [U(3, 1), U(4)]),
    ("atan2_number", lambda m, a: m.atan2(a, 0.7), [U(3, 4)]),
    ("hypot", lambda m, a, b: m.hypot(a, b), [U(3, 4), U(4)]),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), [U(3, 4), U(3, 1)]),
    ("logaddexp_number", lambda m, a: m.logaddexp(0.5, a), [U(3, 4)]),
    ("xlogy", lambda m, a, b: m.xlogy(a, b), [U(3, 4), U(4, **POS)]),
    ("xlogy_number", lambda m, b: m.xlogy(1.5, b), [U(3, 4, **POS)]),
    ("fmod", lambda m, a, b: m.fmod(a * a, b) * a, [U(3, 4), U(4, lo=0.4, hi=1.0)]),
    ("remainder", lambda m, a, b: m.remainder(a * a, b) * b, [U(3, 4), U(4, lo=0.4, hi=1.0)]),
    ("lerp", lambda m, a, b, w: m.lerp(a * a, b, w * w), [U(3, 4), U(4), U(3, 1, lo=0.0, hi=0.9)]),
    ("clamp_min", lambda m, a, b: m.clamp(a * a, min=b) * a if m is not gdl else m.clamp_min(a * a, b) * a,
     [U(3, 4), U(4, lo=0.2, hi=1.0)]),
    ("clamp_max", lambda m, a, b: m.clamp(a * a, max=b) * b if m is not gdl else m.clamp_max(a * a, b) * b,
     [U(3, 4), U(4, lo=0.2, hi=1.0)]),
]


REDUCTIONS = [
    ("sum_all", lambda m, x: m.sum(x * x * x), [U(3, 4)]),
    ("sum_axis", lambda m, x: m.sin(m.sum(x, 1)), [U(3, 4)]),
    ("sum_axes_keepdims", lambda m, x: m.sin(m.sum(x, (0, 2), keepdim=True)) * x, [U(2, 3, 4)]),
    ("mean_all", lambda m, x: m.mean(x * x) * x, [U(3, 4)]),
    ("mean_axis", lambda m, x: m.sin(m.mean(x, dim=-1)), [U(3, 4)]),
    ("mean_keepdim", lambda m, x: m.mean(x, dim=(0, 1), keepdim=True) * x, [U(2, 3, 4)]),
    ("var_all", lambda m, x: m.var(x, correction=0), [U(3, 4)]),
    ("var_axis_unbiased", lambda m, x: m.var(x, dim=1, correction=1), [U(3, 4)]),
    ("var_keepdim", lambda m, x: m.var(x, dim=(0, 2), keepdim=True, correction=1) * x, [U(2, 3, 4)]),
    ("std_all", lambda m, x: m.std(x, correction=0), [U(3, 4)]),
    ("std_axis", lambda m, x: m.std(x, dim=0, correction=1), [U(3, 4)]),
    ("amax_all", lambda m, x: m.amax(x * x), [U(3, 4)]),
    ("amax_dim", lambda m, x: m.amax(m.sin(x), dim=1), [U(3, 4)]),
    ("amin_dims_keepdim", lambda m, x: m.amin(x * x, dim=(0, 2), keepdim=True) * x, [U(2, 3, 4)]),
    ("max_values", lambda m, x: m.max(m.sin(x)) * x, [U(3, 4)]),
    ("min_values", lambda m, x: m.min(x * x * x), [U(3, 4)]),
    ("max_dim_indices", lambda m, x: m.max(x * x, 1)[0], [U(3, 4)]),
    ("min_dim_keepdim", lambda m, x: m.min(x * x, 0, keepdim=True).values * x, [U(3, 4)]),
    ("logsumexp_axis", lambda m, x: m.logsumexp(x, dim=1), [U(3, 4)]),
    ("logsumexp_keepdim", lambda m, x: m.logsumexp(x, dim=(0, 2), keepdim=True) * x, [U(2, 3, 4)]),
    ("softmax", lambda m, x: m.softmax(x, dim=-1), [U(3, 4)]),
    ("softmax_dim0", lambda m, x: m.softmax(x, dim=0), [U(3, 4)]),
    ("log_softmax", lambda m, x: m.log_softmax(x, dim=-1), [U(3, 4)]),
    ("log_softmax_dim1", lambda m, x: m.log_softmax(x, dim=1), [U(2, 3, 4)]),
    ("prod_all", lambda m, x: m.prod(x), [U(2, 3)]),
    ("prod_dim", lambda m, x: m.prod(x, 1), [U(3, 4)]),
    ("prod_dim0_keepdim", lambda m, x: m.prod(x, 0, keepdim=True) * x, [U(3, 4)]),
    ("nansum", lambda m, x: m.nansum(x * x * x, 1), [U(3, 4)]),
    ("nanmean", lambda m, x: m.nanmean(x * x * x, 0), [U(3, 4)]),
]

MATMUL_SHAPES = [
    ((3, 4), (4, 2)),
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((3, 4), (2, 4, 5)),
]

LINALG = [
    *[(f"matmul_{'x'.join(map(str, sa))}_{'x'.join(map(str, sb))}", lambda m, a, b: m.sin(m.matmul(a, b)), [U(*sa), U(*sb)]) for sa, sb in MATMUL_SHAPES],
    ("matmul_squared", lambda m, a, b: m.matmul(a, b) ** 2, [U(3, 4), U(4, 2)]),
    ("mm", lambda m, a, b: m.mm(a, b) ** 2, [U(3, 4), U(4, 2)]),
    ("bmm", lambda m, a, b: m.sin(m.bmm(a, b)), [U(2, 3, 4), U(2, 4, 5)]),
    ("dot", lambda m, a, b: m.dot(a, b) ** 2, [U(4), U(4)]),
    ("mv", lambda m, a, b: m.sin(m.mv(a, b)), [U(3, 4), U(4)]),
    ("outer", lambda m, a, b: m.sin(m.outer(a, b)), [U(3), U(4)]),
    ("addmm", lambda m, i, a, b: m.sin(m.addmm(i, a, b, beta=0.5, alpha=2.0)) * i, [U(2), U(3, 4), U(4, 2)]),
    ("addmv", lambda m, i, a, b: m.addmv(i * i, a, b) ** 2, [U(3), U(3, 4), U(4)]),
    ("baddbmm", lambda m, i, a, b: m.baddbmm(i, a, b, beta=2.0) ** 2, [U(1, 3, 5), U(2, 3, 4), U(2, 4, 5)]),
    ("tensordot", lambda m, a, b: m.sin(m.tensordot(a, b, dims=([1, 0], [0, 2]))), [U(3, 2, 4), U(2, 5, 3)]),
    ("tensordot_int", lambda m, a, b: m.tensordot(a, b, dims=1) ** 2, [U(3, 4), U(4, 2)]),
    ("einsum_mm", lambda m, a, b: m.sin(m.einsum("ij,jk->ik", a, b)), [U(3, 4), U(4, 2)]),
    ("einsum_batch", lambda m, a, b: m.sin(m.einsum("bij,bjk->bik", a, b)), [U(2, 3, 4), U(2, 4, 5)]),
    ("einsum_diag", lambda m, a: m.einsum("ii->i", a) ** 3, [U(3, 3)]),
    ("einsum_bcast", lambda m, a, b: m.sin(m.einsum("...ij,j->...i", a, b)), [U(2, 3, 4), U(4)]),
    ("einsum_outer_sum", lambda m, a, b: m.einsum("i,j->", a * a, b) * a, [U(3), U(4)]),
    ("trace", lambda m, a: m.trace(a * a) * a, [U(3, 3)]),
    ("norm2", lambda m, a: m.norm(a, dim=1) ** 3, [U(3, 4)]),
    ("norm2_all", lambda m, a: m.norm(a) * a, [U(3, 4)]),
    ("norm1", lambda m, a: m.norm(a * a * a, p=1, dim=0), [U(3, 4)]),
    ("norm_inf", lambda m, a: m.norm(a * a * a, p=math.inf, dim=1), [U(3, 4)]),
    ("norm3", lambda m, a: m.norm(a, p=3, dim=1) ** 2, [U(3, 4)]),
    ("norm_half_keepdim", lambda m, a: m.norm(a, p=0.5, dim=0, keepdim=True) * a, [U(3, 4, **POS)]),
    ("cross", lambda m, a, b: m.linalg.cross(a, b) ** 2 if m is not gdl else m.cross(a, b) ** 2,
     [U(2, 3), U(1, 3)]),
    ("diagonal", lambda m, a: m.sin(m.diagonal(a)), [U(3, 4)]),
    ("diagonal_offset", lambda m, a: m.diagonal(a, offset=1, dim1=2, dim2=0) ** 3, [U(3, 2, 4)]),
    ("diagonal_below", lambda m, a: m.diagonal(a, offset=-1) ** 3, [U(4, 3)]),
]

CASES = UNARY + BINARY + REDUCTIONS + LINALG
IDS = [c[0] for c in CASES]


def _inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(lo, hi, shape) for shape, lo, hi in specs]


def _weights(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _gdl_tensors(arrays):
    return [gdl.tensor(a, dtype=gdl.float64, requires_grad=True) for a in arrays]


def _first_grads_gdl(f, ts, create_graph=True):
    """The gradients of ``sum(f(ts) * c)`` (fixed random weights ``c``) with respect to ``ts``."""
    out = f(gdl, *ts)
    c = gdl.tensor(_weights(out.shape, 1), dtype=gdl.float64)
    return grad((out * c).sum(), ts, create_graph=create_graph)


def _hvp_gdl(f, arrays):
    ts = _gdl_tensors(arrays)
    gs = _first_grads_gdl(f, ts)
    s = None
    for k, g in enumerate(gs):
        term = (g * gdl.tensor(_weights(g.shape, 10 + k), dtype=gdl.float64)).sum()
        s = term if s is None else s + term
    second = grad(s, ts, allow_unused=True)
    return ([g.numpy() for g in gs],
            [np.zeros(a.shape) if h is None else h.numpy() for h, a in zip(second, arrays)])


# -- gdl only: the graph path's first gradient, checked by finite differences ----------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_graph_first_gradient_matches_finite_differences(case):
    _, f, specs = case
    ts = _gdl_tensors(_inputs(specs))
    for i in range(len(ts)):
        def fn(*args, i=i):
            with gdl.enable_grad():  # (gradcheck's finite differences run under no_grad)
                return _first_grads_gdl(f, list(args))[i]

        assert gradcheck(fn, ts, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_graph_first_gradient_equals_the_raw_one(case):
    _, f, specs = case
    arrays = _inputs(specs, seed=3)
    fast = [g.numpy() for g in _first_grads_gdl(f, _gdl_tensors(arrays), create_graph=False)]
    graphed = _first_grads_gdl(f, _gdl_tensors(arrays))
    for a, b in zip(fast, graphed):
        np.testing.assert_allclose(b.numpy(), a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sin", "softmax", "matmul_3x4_4x2", "sum_axis", "prod_dim", "atan2"])
def test_second_order_on_every_backend(backend, name):
    _, f, specs = CASES[IDS.index(name)]
    arrays = _inputs(specs, seed=5)
    ts = [gdl.tensor(a, dtype=gdl.float64, requires_grad=True) for a in arrays]
    gs = _first_grads_gdl(f, ts)
    s = sum((g * g).sum() for g in gs)
    second = grad(s, ts, allow_unused=True)
    with gdl.use_backend("numpy"):
        ref = _gdl_tensors(arrays)
        rg = _first_grads_gdl(f, ref)
        rs = sum((g * g).sum() for g in rg)
        want = grad(rs, ref, allow_unused=True)
    for h, w in zip(second, want):
        np.testing.assert_allclose(h.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_prod_with_zeros_second_order_by_finite_differences():
    x = gdl.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, -1.0]], dtype=gdl.float64, requires_grad=True)

    def first(t, dim):
        with gdl.enable_grad():
            return grad(gdl.prod(t, dim).sum(), t, create_graph=True)[0]

    assert gradcheck(lambda t: first(t, 1), [x])
    assert gradcheck(lambda t: first(t, None), [x])


def test_amax_ties_split_the_gradient_in_the_graph_path():
    x = gdl.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], dtype=gdl.float64, requires_grad=True)
    (g,) = grad((gdl.amax(x, dim=1) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [[0.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    (h,) = grad(g.sum(), x)  # d/dx of 2·max·share: 2·share², summed over the tied entries
    np.testing.assert_allclose(h.numpy(), [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])


def test_std_at_a_constant_slice_has_zero_second_gradient():
    x = gdl.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], dtype=gdl.float64, requires_grad=True)
    (g,) = grad(gdl.std(x, dim=1).sum(), x, create_graph=True)
    (h,) = grad((g * g).sum(), x)
    assert np.all(np.isfinite(h.numpy()))
    np.testing.assert_allclose(h.numpy()[0], 0.0)


def test_atan2_at_the_origin_has_a_finite_second_gradient():
    a = gdl.tensor([0.0, 1.0], dtype=gdl.float64, requires_grad=True)
    b = gdl.tensor([0.0, 2.0], dtype=gdl.float64, requires_grad=True)
    ga, gb = grad(gdl.atan2(a, b).sum(), (a, b), create_graph=True)
    ha, hb = grad((ga + gb).sum(), (a, b))
    assert np.all(np.isfinite(ha.numpy())) and np.all(np.isfinite(hb.numpy()))
    np.testing.assert_allclose(ha.numpy()[0], 0.0)


def test_integer_operand_of_matmul_second_order():
    a = gdl.tensor([[1, 2], [3, 4]])
    b = gdl.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=gdl.float64, requires_grad=True)
    (g,) = grad((gdl.matmul(a, b) ** 2).sum(), b, create_graph=True)
    (h,) = grad(g.sum(), b)
    # d/db Σ (a b)² = 2 aᵀ(a b); its sum's gradient: 2 aᵀ a 1
    an = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(h.numpy(), 2 * an.T @ an @ np.ones((2, 2)))


# -- against PyTorch: Hessian-vector products in float64 ---------------------------------------


def _torch_ns():
    torch = pytest.importorskip("torch")

    def tensors(a, b):  # gdl takes a number operand where torch wants a tensor
        like = a if isinstance(a, torch.Tensor) else b
        return tuple(x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=like.dtype) for x in (a, b))

    class T:
        """``torch``, with numbers accepted where gdl takes them."""

        def __getattr__(self, name):
            return getattr(torch, name)

        @staticmethod
        def atan2(a, b):
            return torch.atan2(*tensors(a, b))

        @staticmethod
        def logaddexp(a, b):
            return torch.logaddexp(*tensors(a, b))

    return torch, T()


def _hvp_torch(f, arrays):
    torch, ns = _torch_ns()
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = f(ns, *ts)
    c = torch.tensor(_weights(tuple(out.shape), 1), dtype=torch.float64)
    gs = torch.autograd.grad((out * c).sum(), ts, create_graph=True)
    s = sum((g * torch.tensor(_weights(tuple(g.shape), 10 + k), dtype=torch.float64)).sum()
            for k, g in enumerate(gs))
    second = torch.autograd.grad(s, ts, allow_unused=True)
    return ([g.detach().numpy() for g in gs],
            [np.zeros(a.shape) if h is None else h.numpy() for h, a in zip(second, arrays)])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_hessian_vector_product_matches_torch(case):
    _, f, specs = case
    _torch_ns()
    arrays = _inputs(specs, seed=7)
    g_gdl, h_gdl = _hvp_gdl(f, arrays)
    g_t, h_t = _hvp_torch(f, arrays)
    for a, b in zip(g_gdl, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    for a, b in zip(h_gdl, h_t):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-9)
