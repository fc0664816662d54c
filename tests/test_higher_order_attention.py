"""Second derivatives through attention (scaled_dot_product_attention, MultiheadAttention)
against PyTorch in float64; a fully masked row stays zero in the graph path too."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _hvp(fn_g, fn_t, arrays, rng):
    gs = [gdl.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    vs = [rng.normal(size=a.shape) for a in arrays]
    grads_g = gdl.autograd.grad(fn_g(*gs), gs, create_graph=True)
    grads_t = torch.autograd.grad(fn_t(*ts), ts, create_graph=True)
    for a, b in zip(grads_g, grads_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    hg = gdl.autograd.grad(sum((g * gdl.tensor(v)).sum() for g, v in zip(grads_g, vs)), gs)
    ht = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(grads_t, vs)), ts)
    for a, b in zip(hg, ht):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", ["plain", "causal", "float_mask", "bool_mask", "gqa"])
def test_sdpa_hessian_vector_products_match_torch(case):
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3, 5)), rng.normal(size=(2, 4, 6, 5)), rng.normal(size=(2, 4, 6, 2))
    kw = {}
    extra = []
    if case == "causal":
        kw = dict(is_causal=True)
    if case == "gqa":
        k, v = k[:, :2], v[:, :2]
        kw = dict(enable_gqa=True)
    if case == "float_mask":
        extra = [rng.normal(size=(3, 6))]
    if case == "bool_mask":
        keep = rng.random((3, 6)) > 0.4
        keep[0] = False  # a fully masked row: zeros in gdl and in torch 2.13
        kw_g, kw_t = dict(attn_mask=gdl.tensor(keep)), dict(attn_mask=torch.tensor(keep))
    else:
        kw_g = kw_t = kw

    def fg(q_, k_, v_, *m):
        out = F.scaled_dot_product_attention(q_, k_, v_, attn_mask=m[0] if m else None, **kw_g) if m else \
            F.scaled_dot_product_attention(q_, k_, v_, **kw_g)
        return (out.tanh() * out).sum()

    def ft(q_, k_, v_, *m):
        out = TF.scaled_dot_product_attention(q_, k_, v_, attn_mask=m[0] if m else None, **kw_t) if m else \
            TF.scaled_dot_product_attention(q_, k_, v_, **kw_t)
        return (out.tanh() * out).sum()

    _hvp(fg, ft, [q, k, v] + extra, rng)


def test_multihead_attention_gradient_penalty_matches_torch():
    rng = np.random.default_rng(1)
    gdl.manual_seed(0)
    ours = gdl.nn.MultiheadAttention(4, 2, dtype=gdl.float64)
    theirs = torch.nn.MultiheadAttention(4, 2).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.normal(size=(3, 2, 4))
    xg, xt = gdl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    for need_weights in (False, True):
        og, _ = ours(xg, xg, xg, need_weights=need_weights)
        (gg,) = gdl.autograd.grad(og.pow(2).sum(), xg, create_graph=True)
        pg = (gg.pow(2).sum() - 1) ** 2
        grads_g = gdl.autograd.grad(pg, list(ours.parameters()))
        with sdpa_kernel(SDPBackend.MATH):  # torch's fused CPU kernel has no double backward
            ot, _ = theirs(xt, xt, xt, need_weights=need_weights)
            (gt,) = torch.autograd.grad(ot.pow(2).sum(), xt, create_graph=True)
            pt = (gt.pow(2).sum() - 1) ** 2
            grads_t = torch.autograd.grad(pt, list(theirs.parameters()))
        for a, b in zip(grads_g, grads_t):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-11)


def test_graph_path_first_gradient_equals_the_fused_one():
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))]
    a = [gdl.tensor(x, requires_grad=True) for x in arrays]
    b = [gdl.tensor(x, requires_grad=True) for x in arrays]
    F.scaled_dot_product_attention(*a, is_causal=True).pow(3).sum().backward()
    grads = gdl.autograd.grad(F.scaled_dot_product_attention(*b, is_causal=True).pow(3).sum(), b, create_graph=True)
    for t, g in zip(a, grads):
        np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
