"""Second (and third) derivatives through the order statistics, the scans, cdist and the
misc ops, embedding_bag, bilinear, the distances and the sampling grids, against PyTorch
in float64 (Hessian-vector products), plus gradchecks of the graph path's first gradient."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.functional.misc import block_diag, cdist, diag_embed
from gdl.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _hvp(fn_g, fn_t, arrays, rng, grad_mask=None):
    """First gradients (create_graph) and a Hessian-vector product of ``fn`` against torch."""
    mask = grad_mask or [True] * len(arrays)
    gs = [gdl.tensor(a, requires_grad=m) for a, m in zip(arrays, mask)]
    ts = [torch.tensor(a, requires_grad=m) for a, m in zip(arrays, mask)]
    vs = [rng.normal(size=a.shape) for a, m in zip(arrays, mask) if m]
    gin = [t for t in gs if t.requires_grad]
    tin = [t for t in ts if t.requires_grad]
    grads_g = gdl.autograd.grad(fn_g(*gs), gin, create_graph=True)
    grads_t = torch.autograd.grad(fn_t(*ts), tin, create_graph=True)
    for a, b in zip(grads_g, grads_t):
        assert a.requires_grad or not np.any(a.numpy())  # (a constant zero gradient needs no graph)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    hg = gdl.autograd.grad(sum((g * gdl.tensor(v)).sum() for g, v in zip(grads_g, vs)), gin, allow_unused=True)
    ht = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(grads_t, vs)), tin, allow_unused=True)
    for a, b in zip(hg, ht):
        a = np.zeros(b.shape) if a is None else a.numpy()
        b = np.zeros(a.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def _sq_tanh_g(t):
    return (t.tanh() * t).sum()


_sq_tanh_t = _sq_tanh_g


def _weights(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


# -- order statistics ------------------------------------------------------------------------

ORDER_CASES = {
    "sort": (lambda x: gdl.sort(x, 1).values, lambda x: torch.sort(x, 1).values),
    "sort_desc_dim0": (lambda x: gdl.sort(x, 0, descending=True).values,
                       lambda x: torch.sort(x, 0, descending=True).values),
    "msort": (lambda x: gdl.msort(x), lambda x: torch.msort(x)),
    "topk": (lambda x: gdl.topk(x, 3, 1).values, lambda x: torch.topk(x, 3, 1).values),
    "kthvalue": (lambda x: gdl.kthvalue(x, 2, 1).values, lambda x: torch.kthvalue(x, 2, 1).values),
    "kthvalue_keepdim": (lambda x: gdl.kthvalue(x, 3, 0, keepdim=True).values,
                         lambda x: torch.kthvalue(x, 3, 0, keepdim=True).values),
    "median_dim": (lambda x: gdl.median(x, 1).values, lambda x: torch.median(x, 1).values),
    "median_all": (lambda x: gdl.median(x), lambda x: torch.median(x)),
    "nanmedian_dim": (lambda x: gdl.nanmedian(x, 0).values, lambda x: torch.nanmedian(x, 0).values),
    "mode": (lambda x: gdl.mode(x, 1).values, lambda x: torch.mode(x, 1).values),
    "quantile": (lambda x: gdl.quantile(x, [0.3, 0.8], dim=1), lambda x: torch.quantile(
        x, torch.tensor([0.3, 0.8], dtype=torch.float64), dim=1)),
}


@pytest.mark.parametrize("name", sorted(ORDER_CASES))
def test_order_hvp_matches_torch(name):
    rng = np.random.default_rng(0)
    x = rng.permutation(20).reshape(4, 5) * 0.1 + rng.normal(size=(4, 5)) * 0.01  # no ties
    fg, ft = ORDER_CASES[name]
    scale = _weights((4, 5))
    _hvp(lambda t: _sq_tanh_g(fg(t * gdl.tensor(scale))), lambda t: _sq_tanh_t(ft(t * torch.tensor(scale))), [x], rng)


def test_median_all_ties_share_in_graph_path():
    x = gdl.tensor([1.0, 2.0, 2.0, 3.0], requires_grad=True)
    (g,) = gdl.autograd.grad(gdl.median(x) ** 2, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [0.0, 2.0, 2.0, 0.0])
    (h,) = gdl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [0.0, 1.0, 1.0, 0.0])  # d/dx 2·m·share, summed


# -- scans -------------------------------------------------------------------------------------

SCAN_CASES = {
    "cumprod": (lambda x: gdl.cumprod(x, dim=1), lambda x: torch.cumprod(x, dim=1)),
    "cumprod_dim0": (lambda x: gdl.cumprod(x, dim=0), lambda x: torch.cumprod(x, dim=0)),
    "logcumsumexp": (lambda x: gdl.logcumsumexp(x, dim=1), lambda x: torch.logcumsumexp(x, dim=1)),
    "cummax": (lambda x: gdl.cummax(x, dim=1).values, lambda x: torch.cummax(x, dim=1).values),
    "cummin": (lambda x: gdl.cummin(x, dim=0).values, lambda x: torch.cummin(x, dim=0).values),
    "diff": (lambda x: gdl.diff(x, dim=1), lambda x: torch.diff(x, dim=1)),
    "diff_n3": (lambda x: gdl.diff(x, n=3, dim=0), lambda x: torch.diff(x, n=3, dim=0)),
}


@pytest.mark.parametrize("name", sorted(SCAN_CASES))
def test_scan_hvp_matches_torch(name):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6))
    fg, ft = SCAN_CASES[name]
    _hvp(lambda t: _sq_tanh_g(fg(t)), lambda t: _sq_tanh_t(ft(t)), [x], rng)


def test_cumprod_with_a_zero_hvp_matches_torch():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5))
    x[0, 2] = 0.0
    _hvp(lambda t: (gdl.cumprod(t, dim=1) ** 2).sum(), lambda t: (torch.cumprod(t, dim=1) ** 2).sum(), [x], rng)


def test_diff_prepend_append_hvp_matches_torch():
    rng = np.random.default_rng(3)
    x, pre, app = rng.normal(size=(3, 4)), rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
    _hvp(lambda a, b, c: _sq_tanh_g(gdl.diff(a, n=2, dim=1, prepend=b, append=c)),
         lambda a, b, c: _sq_tanh_t(torch.diff(a, n=2, dim=1, prepend=b, append=c)), [x, pre, app], rng)


# -- cdist and misc ------------------------------------------------------------------------------------


@pytest.mark.parametrize("p,mode", [(2.0, "donot_use_mm_for_euclid_dist"), (2.0, "use_mm_for_euclid_dist"),
                                    (1.0, None), (3.0, None), (0.5, None), (float("inf"), None)])
def test_cdist_hvp_matches_torch(p, mode):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(1, 5, 3))
    mode = mode or "use_mm_for_euclid_dist_if_necessary"
    _hvp(lambda s, t: _sq_tanh_g(cdist(s, t, p, compute_mode=mode)),
         lambda s, t: _sq_tanh_t(_torch_cdist(s, t, p)), [a, b], rng)


def _torch_cdist(s, t, p):
    """torch.cdist by its formula (torch's own cdist has no double backward)."""
    return torch.linalg.vector_norm(s.unsqueeze(-2) - t.unsqueeze(-3), ord=p, dim=-1)


def test_diag_embed_and_block_diag_hvp_match_torch():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3))
    _hvp(lambda t: _sq_tanh_g(diag_embed(t, offset=1, dim1=0, dim2=2)),
         lambda t: _sq_tanh_t(torch.diag_embed(t, offset=1, dim1=0, dim2=2)), [x], rng)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    _hvp(lambda s, t: _sq_tanh_g(block_diag(s, t)), lambda s, t: _sq_tanh_t(torch.block_diag(s, t)), [a, b], rng)


# -- nn.functional ----------------------------------------------------------------------------------


def _torch_embedding_bag(idx, w, off, mode, psw=None, padding_idx=None):
    """torch's embedding_bag by its formula (its own has no double backward)."""
    rows = w[torch.tensor(idx)]
    if psw is not None:
        rows = rows * psw[:, None]
    ends = list(off[1:]) + [len(idx)]
    out = []
    for s, e in zip(off, ends):
        keep = [i for i in range(s, e) if idx[i] != padding_idx]
        part = rows[keep]
        out.append(part.sum(0) if mode == "sum" else part.mean(0) if mode == "mean" else part.amax(0))
    return torch.stack(out)


@pytest.mark.parametrize("case", ["sum_psw", "mean", "max", "mean_padding"])
def test_embedding_bag_hvp_matches_torch(case):
    rng = np.random.default_rng(6)
    w = rng.normal(size=(6, 3))
    idx = np.array([0, 2, 2, 5, 1, 3, 4, 1])
    off = np.array([0, 3, 5])
    mode = case.split("_")[0]
    pad = 2 if case == "mean_padding" else None
    arrays = [w, rng.normal(size=idx.shape)] if case == "sum_psw" else [w]

    def fg(wt, *psw):
        return _sq_tanh_g(F.embedding_bag(gdl.tensor(idx), wt, gdl.tensor(off), mode=mode, padding_idx=pad,
                                          per_sample_weights=psw[0] if psw else None))

    def ft(wt, *psw):
        return _sq_tanh_t(_torch_embedding_bag(idx, wt, list(off), mode, psw[0] if psw else None, pad))

    _hvp(fg, ft, arrays, rng)


def test_embedding_bag_graph_gradient_matches_first_order_with_freq_and_sparse():
    rng = np.random.default_rng(15)
    idx, off = gdl.tensor([0, 2, 2, 5, 1, 2]), gdl.tensor([0, 3])
    for kw in (dict(mode="mean", scale_grad_by_freq=True), dict(mode="sum", sparse=True)):
        w = gdl.tensor(rng.normal(size=(6, 3)), requires_grad=True)
        (plain,) = gdl.autograd.grad(F.embedding_bag(idx, w, off, **kw).tanh().sum(), w)
        (graph,) = gdl.autograd.grad(F.embedding_bag(idx, w, off, **kw).tanh().sum(), w, create_graph=True)
        plain = plain.to_dense() if hasattr(plain, "to_dense") else plain
        np.testing.assert_allclose(graph.detach().numpy(), np.asarray(plain.numpy()), rtol=1e-12, atol=1e-14)
        assert graph.requires_grad


def test_bilinear_hvp_matches_torch():
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 5))
    w, b = rng.normal(size=(2, 4, 5)) * 0.5, rng.normal(size=(2,))
    _hvp(lambda *a: _sq_tanh_g(F.bilinear(*a)), lambda *a: _sq_tanh_t(TF.bilinear(*a)), [x1, x2, w, b], rng)


def test_cosine_similarity_and_pairwise_distance_hvp_match_torch():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(1, 5))
    _hvp(lambda s, t: _sq_tanh_g(F.cosine_similarity(s, t)),
         lambda s, t: _sq_tanh_t(TF.cosine_similarity(s, t)), [a, b], rng)
    _hvp(lambda s, t: _sq_tanh_g(F.pairwise_distance(s, t, p=3.0)),
         lambda s, t: _sq_tanh_t(TF.pairwise_distance(s, t, p=3.0)), [a, b], rng)


def test_affine_grid_hvp_matches_torch():
    rng = np.random.default_rng(9)
    theta = rng.normal(size=(2, 2, 3))
    _hvp(lambda t: _sq_tanh_g(F.affine_grid(t, (2, 1, 3, 4), align_corners=False)),
         lambda t: _sq_tanh_t(TF.affine_grid(t, (2, 1, 3, 4), align_corners=False)), [theta], rng)


@pytest.mark.parametrize("mode,padding", [("bilinear", "zeros"), ("bilinear", "border"),
                                          ("bilinear", "reflection"), ("nearest", "zeros")])
def test_grid_sample_hvp_matches_torch(mode, padding):
    rng = np.random.default_rng(10)
    img = rng.normal(size=(2, 2, 4, 5))
    grid = rng.uniform(-1.3, 1.3, size=(2, 3, 3, 2))
    _hvp(lambda i, g: _sq_tanh_g(F.grid_sample(i, g, mode=mode, padding_mode=padding, align_corners=False)),
         lambda i, g: _sq_tanh_t(TF.grid_sample(i, g, mode=mode, padding_mode=padding, align_corners=False)),
         [img, grid], rng)


# -- third derivatives, and gradchecks of the graph path ----------------------------------------------


def _third(fn_g, fn_t, x):
    xg, xt = gdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = []
    for fn, t, lib in ((fn_g, xg, gdl), (fn_t, xt, torch)):
        (g1,) = lib.autograd.grad(fn(t), t, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), t, create_graph=True)
        (g3,) = lib.autograd.grad((g2 * g2).sum(), t)
        out.append(g3.detach().numpy() if lib is torch else g3.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-11)
    assert np.abs(out[1]).max() > 1e-3  # the check has something to compare


def test_third_derivative_cumprod_matches_torch():
    x = np.random.default_rng(11).normal(size=(2, 5))
    _third(lambda t: (gdl.cumprod(t, dim=1) ** 2).sum(), lambda t: (torch.cumprod(t, dim=1) ** 2).sum(), x)


def test_third_derivative_sort_matches_torch():
    x = np.random.default_rng(12).normal(size=(3, 4))
    w = _weights((3, 4), seed=13)
    _third(lambda t: (gdl.sort(t, 1).values * gdl.tensor(w)).tanh().sum(),
           lambda t: (torch.sort(t, 1).values * torch.tensor(w)).tanh().sum(), x)


@pytest.mark.parametrize("name", ["logcumsumexp", "cdist3", "kthvalue", "embedding_bag", "grid_sample"])
def test_gradcheck_of_the_graph_gradient(name):
    rng = np.random.default_rng(14)
    if name == "logcumsumexp":
        args = [rng.normal(size=(3, 4))]

        def f(t):
            return gdl.logcumsumexp(t, dim=1).tanh().sum()
    elif name == "cdist3":
        args = [rng.normal(size=(3, 2)), rng.normal(size=(4, 2))]

        def f(s, t):
            return cdist(s, t, 3.0).tanh().sum()
    elif name == "kthvalue":
        args = [rng.permutation(12).reshape(3, 4) * 0.3]

        def f(t):
            return (gdl.kthvalue(t, 2, 1).values ** 3).sum()
    elif name == "embedding_bag":
        idx, off = gdl.tensor([0, 1, 1, 3, 2]), gdl.tensor([0, 2])
        args = [rng.normal(size=(4, 3)), rng.normal(size=(5,))]

        def f(w, psw):
            return F.embedding_bag(idx, w, off, mode="sum", per_sample_weights=psw).tanh().sum()
    else:
        args = [rng.normal(size=(1, 1, 3, 3)), rng.uniform(-0.9, 0.9, size=(1, 2, 2, 2))]

        def f(i, g):
            return F.grid_sample(i, g, align_corners=True).tanh().sum()

    def first_grad(*ts):
        with gdl.enable_grad():  # gradcheck's numeric differences run without grad mode
            ts = [t if t.requires_grad else t.detach().requires_grad_() for t in ts]
            grads = gdl.autograd.grad(f(*ts), list(ts), create_graph=True)
            return sum((g * g).sum() for g in grads)

    assert gradcheck(first_grad, [gdl.tensor(a, requires_grad=True) for a in args])
