"""Attention and Transformer layers: scaled_dot_product_attention, MultiheadAttention,
TransformerEncoder/Decoder(Layer), Transformer; checked against hand-written NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.testing import gradcheck

F64 = gdl.float64


def g(a, grad=False, dtype=F64):
    return gdl.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def softmax_np(s):
    m = np.max(s, axis=-1, keepdims=True)
    m = np.where(np.isneginf(m), 0.0, m)
    e = np.exp(s - m)
    d = e.sum(-1, keepdims=True)
    return e / np.where(d == 0, 1.0, d)


def sdpa_np(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q kᵀ·scale + mask) v; bool mask True = take part; fully masked rows give 0."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    if causal:
        s = np.where(np.tril(np.ones((q.shape[-2], k.shape[-2]), bool)), s, -np.inf)
    return softmax_np(s) @ v


RNG = np.random.default_rng(0)


# -- scaled_dot_product_attention -------------------------------------------------------------------


@pytest.mark.parametrize("L,S", [(3, 3), (2, 5), (5, 2)])
def test_sdpa_matches_numpy(backend, L, S):
    q, k, v = RNG.normal(size=(2, 3, L, 4)), RNG.normal(size=(2, 3, S, 4)), RNG.normal(size=(2, 3, S, 6))
    bool_mask = RNG.random((L, S)) > 0.3
    float_mask = RNG.normal(size=(3, L, S))
    cases = [
        ({}, {}),
        ({"is_causal": True}, {"causal": True}),
        ({"attn_mask": gdl.tensor(bool_mask)}, {"mask": bool_mask}),
        ({"attn_mask": g(float_mask)}, {"mask": float_mask}),
        ({"scale": 0.37}, {"scale": 0.37}),
    ]
    for kw, ref_kw in cases:
        out = F.scaled_dot_product_attention(g(q), g(k), g(v), **kw)
        assert out.shape == (2, 3, L, 6)
        np.testing.assert_allclose(out.numpy(), sdpa_np(q, k, v, **ref_kw), rtol=1e-10, atol=1e-12,
                                   err_msg=str(list(kw)))


def test_sdpa_causal_is_top_left_aligned(backend):
    """Query i sees keys 0..i even when L != S (PyTorch's tril(ones(L, S)))."""
    q, k, v = RNG.normal(size=(2, 4)), RNG.normal(size=(5, 4)), np.eye(5)
    out = F.scaled_dot_product_attention(g(q), g(k), g(v), is_causal=True).numpy()
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out[0], [1, 0, 0, 0, 0], atol=1e-15)
    assert np.all(out[1, 2:] == 0) and np.all(out[1, :2] > 0)


def test_sdpa_batch_dims_broadcast_and_unbatched(backend):
    q, k, v = RNG.normal(size=(2, 1, 3, 4)), RNG.normal(size=(1, 5, 6, 4)), RNG.normal(size=(1, 5, 6, 2))
    out = F.scaled_dot_product_attention(g(q), g(k), g(v))
    assert out.shape == (2, 5, 3, 2)
    np.testing.assert_allclose(out.numpy(), sdpa_np(q, k, v), rtol=1e-10)
    out2 = F.scaled_dot_product_attention(g(q[0, 0]), g(k[0, 0]), g(v[0, 0]))
    np.testing.assert_allclose(out2.numpy(), sdpa_np(q[0, 0], k[0, 0], v[0, 0]), rtol=1e-10)


def test_sdpa_fully_masked_row_gives_zeros_and_zero_grads(backend):
    """PyTorch 2.13's SDPA gives 0 (not NaN) for a query that may attend to nothing."""
    q, k, v = g(RNG.normal(size=(3, 4)), True), g(RNG.normal(size=(5, 4)), True), g(RNG.normal(size=(5, 2)), True)
    mask = np.ones((3, 5), bool)
    mask[1] = False
    for m in (gdl.tensor(mask), g(np.where(mask, 0.0, -np.inf))):
        for t in (q, k, v):
            t.grad = None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        o = out.numpy()
        assert np.all(np.isfinite(o)) and np.all(o[1] == 0)
        np.testing.assert_allclose(o[[0, 2]], sdpa_np(q.numpy(), k.numpy(), v.numpy(), mask)[[0, 2]], rtol=1e-10)
        out.sum().backward()
        assert np.all(q.grad.numpy()[1] == 0) and np.all(np.isfinite(k.grad.numpy()))


def test_sdpa_gradcheck_masks(backend):
    q, k, v = (g(RNG.normal(size=s), True) for s in ((2, 3, 4), (2, 4, 4), (2, 4, 3)))
    bool_mask = gdl.tensor(RNG.random((3, 4)) > 0.3)
    float_mask = g(RNG.normal(size=(2, 1, 4)), True)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), [q, k, v])
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=bool_mask), [q, k, v])
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True, scale=0.7), [q, k, v])
    assert gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
                     [q, k, v, float_mask])


def test_sdpa_gqa(backend):
    q, k, v = RNG.normal(size=(2, 4, 3, 5)), RNG.normal(size=(2, 2, 6, 5)), RNG.normal(size=(2, 2, 6, 3))
    out = F.scaled_dot_product_attention(g(q), g(k), g(v), enable_gqa=True)
    ref = sdpa_np(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    gq, gk, gv = g(q[:1, :, :2], True), g(k[:1, :, :3], True), g(v[:1, :, :3], True)
    mask = gdl.tensor(RNG.random((4, 2, 3)) > 0.2)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask, enable_gqa=True),
                     [gq, gk, gv])


def test_sdpa_dropout(backend):
    q, k, v = (g(RNG.normal(size=(2, 8, 4))) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v).numpy()
    gdl.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    gdl.manual_seed(1)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)  # same seed, same mask
    assert not np.allclose(a, ref)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_sdpa_errors(backend):
    q = g(RNG.normal(size=(3, 4)))
    with pytest.raises(ValueError, match="scaled_dot_product_attention.*last dimension"):
        F.scaled_dot_product_attention(q, g(np.ones((5, 3))), g(np.ones((5, 3))))
    with pytest.raises(ValueError, match="sequence length"):
        F.scaled_dot_product_attention(q, q, g(np.ones((2, 4))))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 2\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gdl.tensor(np.ones((3, 2), bool)))
    with pytest.raises(TypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gdl.tensor(np.ones((3, 3), np.int64)))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gdl.tensor(np.ones((3, 3), bool)), is_causal=True)
    with pytest.raises(TypeError, match="floating dtype"):
        F.scaled_dot_product_attention(q, q, g(np.ones((3, 4)), dtype=gdl.float32))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.scaled_dot_product_attention(g(np.ones(4)), q, q)


# -- MultiheadAttention ----------------------------------------------------------------------------------------


def mha_np(mha, q, k, v, attn_mask=None, key_padding_mask=None):
    """Multi-head attention from the layer's parameters, per head, in NumPy; seq-first (L, N, E).
    Bool masks: True = leave out. Returns (output, head-averaged weights (N, L, S))."""
    E, H = mha.embed_dim, mha.num_heads
    d = E // H
    if mha.in_proj_weight is not None:
        w = mha.in_proj_weight.numpy()
        wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
    else:
        wq, wk, wv = (getattr(mha, n).numpy() for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"))
    b = mha.in_proj_bias.numpy() if mha.in_proj_bias is not None else np.zeros(3 * E)
    Q, K, V = q @ wq.T + b[:E], k @ wk.T + b[E:2 * E], v @ wv.T + b[2 * E:]
    L, N, _ = q.shape
    S = k.shape[0]
    out = np.zeros((L, N, E))
    weights = np.zeros((N, L, S))
    for n in range(N):
        for h in range(H):
            sl = slice(h * d, (h + 1) * d)
            s = Q[:, n, sl] @ K[:, n, sl].T / math.sqrt(d)
            if attn_mask is not None:
                m = attn_mask if attn_mask.ndim == 2 else attn_mask[n * H + h]
                s = np.where(m, -np.inf, s) if m.dtype == bool else s + m
            if key_padding_mask is not None:
                s = np.where(key_padding_mask[n][None, :], -np.inf, s)
            p = softmax_np(s)
            weights[n] += p / H
            out[:, n, sl] = p @ V[:, n, sl]
    out = out @ mha.out_proj.weight.numpy().T
    if mha.out_proj.bias is not None:
        out = out + mha.out_proj.bias.numpy()
    return out, weights


def _mha(*args, **kwargs):
    gdl.manual_seed(3)
    m = nn.MultiheadAttention(*args, dtype=F64, **kwargs)
    if m.in_proj_bias is not None:  # non-zero biases, so a wrong bias slice shows
        m.in_proj_bias.data = g(RNG.normal(size=m.in_proj_bias.shape)).data
        m.out_proj.bias.data = g(RNG.normal(size=m.out_proj.bias.shape)).data
    return m


def test_mha_parameters_and_init(backend):
    m = nn.MultiheadAttention(8, 2)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    bound = math.sqrt(6 / (24 + 8))
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    assert np.all(m.in_proj_bias.numpy() == 0) and np.all(m.out_proj.bias.numpy() == 0)
    m2 = nn.MultiheadAttention(8, 4, kdim=3, vdim=5, bias=False, add_bias_kv=True)
    assert [(n, p.shape) for n, p in m2.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("bias_k", (1, 1, 8)),
        ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8))]
    assert m2.in_proj_weight is None and m2.in_proj_bias is None and m2.out_proj.bias is None
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]


def test_mha_matches_numpy(backend):
    m = _mha(6, 3)
    q, k = RNG.normal(size=(4, 2, 6)), RNG.normal(size=(5, 2, 6))
    attn_mask = RNG.random((4, 5)) > 0.7
    attn_mask[:, 0] = False
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    float_mask3 = RNG.normal(size=(2 * 3, 4, 5))
    for kw in ({}, {"attn_mask": attn_mask}, {"key_padding_mask": kpm}, {"attn_mask": float_mask3},
               {"attn_mask": attn_mask, "key_padding_mask": kpm}):
        gkw = {n: (gdl.tensor(a) if a.dtype == bool else g(a)) for n, a in kw.items()}
        ref_out, ref_w = mha_np(m, q, k, k, **kw)
        for need in (True, False):
            # key is value (two projections), then query is key is value (one packed projection)
            out, w = m(g(q), g(k), g(k), need_weights=need, **gkw)
            np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12, err_msg=f"{list(kw)} {need}")
            if need:
                np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10, atol=1e-12)
            else:
                assert w is None
    x = g(q)
    out, w = m(x, x, x)
    ref_out, ref_w = mha_np(m, q, q, q)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10)


def test_mha_kdim_vdim_bias_kv_zero_attn(backend):
    m = _mha(4, 2, kdim=3, vdim=5)
    q, k, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(6, 3, 3)), RNG.normal(size=(6, 3, 5))
    out, w = m(g(q), g(k), g(v))
    ref_out, ref_w = mha_np(m, q, k, v)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10)
    # add_zero_attn: one extra key and value of zeros (score 0), so S + 1 weights
    mz = _mha(4, 2, add_zero_attn=True)
    out, w = mz(g(q), g(q), g(q))
    assert w.shape == (3, 2, 3)
    # add_bias_kv: the learned bias_k/bias_v rows are one more key/value per batch entry
    mb = _mha(4, 2, add_bias_kv=True)
    out, w = mb(g(q), g(q), g(q), key_padding_mask=gdl.tensor(np.zeros((3, 2), bool)))
    assert out.shape == (2, 3, 4) and w.shape == (3, 2, 3)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_batch_first_unbatched_and_per_head_weights(backend):
    m = _mha(8, 2)
    x = RNG.normal(size=(5, 3, 8))
    out, w = m(g(x), g(x), g(x), average_attn_weights=False)
    assert out.shape == (5, 3, 8) and w.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(w.numpy().mean(1), m(g(x), g(x), g(x))[1].numpy(), rtol=1e-12)
    mbf = _mha(8, 2, batch_first=True)
    mbf.load_state_dict(m.state_dict())
    xb = g(np.swapaxes(x, 0, 1))
    out_bf, w_bf = mbf(xb, xb, xb)
    np.testing.assert_allclose(out_bf.numpy(), np.swapaxes(out.numpy(), 0, 1), rtol=1e-12)
    # unbatched (L, E) = the batch entry on its own
    out_u, w_u = m(g(x[:, 1]), g(x[:, 1]), g(x[:, 1]), key_padding_mask=gdl.tensor(np.zeros(5, bool)))
    assert out_u.shape == (5, 8) and w_u.shape == (5, 5)
    np.testing.assert_allclose(out_u.numpy(), out.numpy()[:, 1], rtol=1e-10)


def test_mha_key_padding_mask_ignores_padded_keys(backend):
    m = _mha(4, 2, batch_first=True)
    x = RNG.normal(size=(2, 5, 4))
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    out, w = m(g(x), g(x), g(x), key_padding_mask=gdl.tensor(kpm))
    assert np.all(w.numpy()[1, :, 3:] == 0)
    k2 = x.copy()
    k2[1, 3:] = 100.0  # padded keys/values change: outputs do not
    out2, _ = m(g(x), g(k2), g(k2), key_padding_mask=gdl.tensor(kpm))
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=1e-10)
    # a float padding mask with -inf is the same as the bool one
    out3, _ = m(g(x), g(x), g(x), key_padding_mask=g(np.where(kpm, -np.inf, 0.0)))
    np.testing.assert_allclose(out3.numpy(), out.numpy(), rtol=1e-12)


def test_mha_fully_masked_rows_as_torch(backend):
    """need_weights=True: explicit softmax, NaN for a fully masked row; need_weights=False: SDPA, zeros."""
    m = _mha(4, 2, batch_first=True)
    x = g(RNG.normal(size=(2, 3, 4)))
    kpm = gdl.tensor(np.array([[True] * 3, [False] * 3]))
    with np.errstate(invalid="ignore"):
        out, w = m(x, x, x, key_padding_mask=kpm)
    assert np.all(np.isnan(out.numpy()[0])) and np.all(np.isfinite(out.numpy()[1]))
    out, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
    np.testing.assert_allclose(out.numpy()[0], np.broadcast_to(m.out_proj.bias.numpy(), (3, 4)), rtol=1e-12)


def test_mha_gradcheck(backend):
    m = _mha(4, 2, bias=True)
    q, k = g(RNG.normal(size=(3, 2, 4)), True), g(RNG.normal(size=(2, 2, 4)), True)
    mask = gdl.tensor(np.array([[False, True], [False, False], [True, False]]))
    for need in (True, False):
        assert gradcheck(lambda a, b, need=need: m(a, b, b, attn_mask=mask, need_weights=need)[0], [q, k])
    assert gradcheck(lambda a: m(a, a, a)[1], [q])
    params = [m.in_proj_weight, m.in_proj_bias, m.out_proj.weight]
    assert gradcheck(lambda w, b, o: m(q, k, k, need_weights=False)[0], params)


def test_mha_causal_hint(backend):
    m = _mha(4, 2)
    x = g(RNG.normal(size=(4, 2, 4)))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=F64)
    a = m(x, x, x, attn_mask=mask, need_weights=False)[0]
    b = m(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)[0]
    c = m(x, x, x, attn_mask=mask)[0]
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.numpy(), mha_np(m, x.numpy(), x.numpy(), x.numpy(), mask.numpy())[0], rtol=1e-10)
    with pytest.raises(ValueError, match="is_causal"):
        m(x, x, x, is_causal=True)


def test_mha_train_vs_eval_dropout(backend):
    gdl.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5, dtype=F64)
    x = g(RNG.normal(size=(6, 2, 8)))
    m.eval()
    a, wa = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(wa.numpy().sum(-1), 1.0, rtol=1e-12)
    m.train()
    c, wc = m(x, x, x)
    assert not np.allclose(c.numpy(), a.numpy())
    assert np.any(wc.numpy() == 0)  # dropped weights (returned after dropout, as PyTorch's)
    d, _ = m(x, x, x, need_weights=False)
    assert not np.allclose(d.numpy(), a.numpy())


def test_mha_errors(backend):
    with pytest.raises(ValueError, match="MultiheadAttention: embed_dim 10 is not divisible by num_heads 3"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(4, 2)
    x = gdl.randn(3, 2, 4)
    with pytest.raises(ValueError, match=r"MultiheadAttention: a 2-D attn_mask must have shape \(3, 3\)"):
        m(x, x, x, attn_mask=gdl.zeros(3, 4))
    with pytest.raises(ValueError, match=r"3-D attn_mask must have shape \(4, 3, 3\)"):
        m(x, x, x, attn_mask=gdl.zeros(2, 3, 3))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\)"):
        m(x, x, x, key_padding_mask=gdl.zeros(3, 3, dtype=gdl.bool))
    with pytest.raises(TypeError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=gdl.zeros(2, 3, dtype=gdl.int64))
    with pytest.raises(ValueError, match=r"expected query with 4 features"):
        m(gdl.randn(3, 2, 5), x, x)
    with pytest.raises(ValueError, match="key of shape"):
        m(x, gdl.randn(3, 2, 5), gdl.randn(3, 2, 5))
    with pytest.raises(ValueError, match="batched"):
        m(x, x[0], x[0])
    with pytest.raises(ValueError, match="batch size"):
        m(x, gdl.randn(3, 1, 4), gdl.randn(3, 1, 4))


# -- Transformer layers -----------------------------------------------------------------------------------------


ENC_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
            "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]


def encoder_layer_np(layer, x, norm_first):
    """The post-norm / pre-norm encoder layer in NumPy (eval, ReLU), seq-first."""
    def ln(y, norm):
        mu, var = y.mean(-1, keepdims=True), y.var(-1, keepdims=True)
        return (y - mu) / np.sqrt(var + norm.eps) * norm.weight.numpy() + norm.bias.numpy()

    def sa(y):
        return mha_np(layer.self_attn, y, y, y)[0]

    def ff(y):
        h = np.maximum(y @ layer.linear1.weight.numpy().T + layer.linear1.bias.numpy(), 0)
        return h @ layer.linear2.weight.numpy().T + layer.linear2.bias.numpy()

    if norm_first:
        x = x + sa(ln(x, layer.norm1))
        return x + ff(ln(x, layer.norm2))
    x = ln(x + sa(x), layer.norm1)
    return ln(x + ff(x), layer.norm2)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_forward_backward(backend, norm_first):
    gdl.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, norm_first=norm_first, dtype=F64)
    assert list(layer.state_dict()) == ENC_KEYS
    layer.eval()
    x = RNG.normal(size=(5, 2, 8))
    out = layer(g(x))
    np.testing.assert_allclose(out.numpy(), encoder_layer_np(layer, x, norm_first), rtol=1e-9, atol=1e-12)
    layer.train()
    xt = g(x, True)
    layer(xt).sum().backward()
    assert xt.grad.shape == (5, 2, 8)
    assert all(p.grad is not None and np.any(p.grad.numpy() != 0) for p in layer.parameters())
    small = nn.TransformerEncoderLayer(4, 2, dim_feedforward=4, dropout=0.0, norm_first=norm_first, dtype=F64)
    xs = g(RNG.normal(size=(3, 1, 4)), True)
    assert gradcheck(lambda a: small(a, src_mask=nn.Transformer.generate_square_subsequent_mask(3, dtype=F64)),
                     [xs])


def test_encoder_layer_options(backend):
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True, bias=False)
    assert layer.activation is F.gelu and layer.self_attn.batch_first
    assert "norm1.bias" not in layer.state_dict() and "linear1.bias" not in layer.state_dict()
    assert layer(gdl.randn(2, 3, 8), src_key_padding_mask=gdl.zeros(2, 3, dtype=gdl.bool)).shape == (2, 3, 8)
    assert layer(gdl.randn(3, 8)).shape == (3, 8)  # unbatched
    custom = nn.TransformerEncoderLayer(8, 2, 16, activation=lambda t: t * 0.0, dropout=0.0).eval()
    assert custom.activation_relu_or_gelu == 0
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation should be 'relu' or 'gelu'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="TransformerEncoderLayer: d_model 8 must be a positive multiple of nhead 3"):
        nn.TransformerEncoderLayer(8, 3)
    with pytest.raises(ValueError, match="TransformerDecoderLayer"):
        nn.TransformerDecoderLayer(8, 3)


def test_encoder_stack_deep_copies_and_causal_detection(backend):
    gdl.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=F64)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8, dtype=F64)).eval()
    keys = list(enc.state_dict())
    assert keys[:12] == [f"layers.0.{k}" for k in ENC_KEYS] and keys[-2:] == ["norm.weight", "norm.bias"]
    assert len(keys) == 3 * 12 + 2
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    enc.layers[1].linear1.weight.data = enc.layers[1].linear1.weight.data * 2.0
    assert not np.allclose(enc.layers[0].linear1.weight.numpy(), enc.layers[1].linear1.weight.numpy())
    x = RNG.normal(size=(4, 2, 8))
    ref = x
    for lay in enc.layers:
        ref = encoder_layer_np(lay, ref, False)
    ref = (ref - ref.mean(-1, keepdims=True)) / np.sqrt(ref.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(enc(g(x)).numpy(), ref, rtol=1e-9, atol=1e-12)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=F64)
    bool_mask = gdl.tensor(np.triu(np.ones((4, 4), bool), 1))
    a = enc(g(x), mask=mask)
    np.testing.assert_allclose(enc(g(x), mask=bool_mask).numpy(), a.numpy(), rtol=1e-12)
    np.testing.assert_allclose(enc(g(x), mask=mask, is_causal=True).numpy(), a.numpy(), rtol=1e-12)
    assert not np.allclose(a.numpy(), enc(g(x)).numpy())


def test_decoder_and_transformer(backend):
    gdl.manual_seed(0)
    dec_layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=F64)
    assert list(dec_layer.state_dict())[:8] == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
        "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight",
        "multihead_attn.out_proj.bias"]
    assert "norm3.weight" in dec_layer.state_dict()
    tgt, memory = g(RNG.normal(size=(2, 3, 8)), True), g(RNG.normal(size=(2, 5, 8)), True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=F64)
    out = dec_layer(tgt, memory, tgt_mask=mask, memory_key_padding_mask=gdl.tensor(np.zeros((2, 5), bool)))
    assert out.shape == (2, 3, 8)
    out.sum().backward()
    assert tgt.grad is not None and memory.grad is not None
    # causal: changing the last target position leaves the earlier outputs alone
    t2 = tgt.numpy().copy()
    t2[:, -1] += 1.0
    out2 = dec_layer(g(t2), memory, tgt_mask=mask)
    np.testing.assert_allclose(out2.numpy()[:, :-1], dec_layer(tgt, memory, tgt_mask=mask).numpy()[:, :-1],
                               rtol=1e-10)
    dec = nn.TransformerDecoder(dec_layer, 2, norm=nn.LayerNorm(8, dtype=F64))
    assert dec(tgt, memory, tgt_mask=mask).shape == (2, 3, 8)
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    assert "encoder.layers.0.self_attn.in_proj_weight" in names and "decoder.layers.1.norm3.bias" in names
    assert "encoder.norm.weight" in names and "decoder.norm.weight" in names
    assert model(memory, tgt, tgt_mask=mask).shape == (2, 3, 8)
    with pytest.raises(ValueError, match="Transformer: src .* must have the same batch size"):
        model(memory, g(np.zeros((3, 3, 8))))
    with pytest.raises(ValueError, match="d_model=8"):
        model(memory, g(np.zeros((2, 3, 4))))


def test_generate_square_subsequent_mask(backend):
    m = nn.Transformer.generate_square_subsequent_mask(4)
    assert m.dtype == gdl.float32 and m.backend == backend
    ref = np.triu(np.full((4, 4), -np.inf), 1)
    ref[np.tril_indices(4)] = 0
    np.testing.assert_array_equal(m.numpy(), ref)
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=F64).dtype == F64
