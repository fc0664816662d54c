"""Cross-checks against PyTorch of scaled_dot_product_attention, MultiheadAttention and the
Transformer layers: the same weights in both (state_dict loaded both ways), then outputs,
attention weights and gradients compared in float64 (eval mode, dropout 0).

PyTorch's inference fast paths (``_native_multi_head_attention``,
``_transformer_encoder_layer_fwd``, nested tensors) only run when no input requires grad;
every input here requires grad, so PyTorch runs its regular path, which is what gdl mirrors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import F64, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional
RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-9, atol=1e-11)
# gdl's GELU uses an erf approximation good to ~1e-7 (the Array API has no erf), so layers
# with activation="gelu" agree with PyTorch's exact erf GELU to about 1e-6, not 1e-9.
GELU_TOL = dict(rtol=1e-5, atol=2e-6)


def torch_to_gdl(gmod, tmod):
    """Random (non-zero) weights in ``tmod``, loaded into ``gmod``: same keys and shapes."""
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.tensor(RNG.normal(scale=0.5, size=tuple(p.shape))))
    assert {k: v.shape for k, v in gmod.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tmod.state_dict().items()}
    gmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


def gdl_to_torch(gmod, tmod):
    """gdl's own initialisation (biases made non-zero), loaded into ``tmod``."""
    for p in gmod.parameters():
        if p.ndim == 1:
            p.data = g64(RNG.normal(scale=0.5, size=p.shape)).data
    tmod.load_state_dict({k: torch.tensor(v.numpy()) for k, v in gmod.state_dict().items()}, strict=True)


def same_weights(gmod, tmod, direction):
    (torch_to_gdl if direction == "torch->gdl" else gdl_to_torch)(gmod, tmod)


def mask_pair(a):
    """The same mask in gdl and torch (bool stays bool, float is float64)."""
    a = np.asarray(a)
    if a.dtype == bool:
        return gdl.tensor(a), torch.tensor(a)
    return g64(a), t64(a)


def compare_grads(ours, theirs, w, tol=TOL, msg=""):
    """Backprop the same random weighting of the outputs; compare the inputs' gradients."""
    (ours[0] * g64(w)).sum().backward()
    (theirs[0] * t64(w)).sum().backward()
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        close(a.grad, b.grad, f"{msg} grad {i}", **tol)


# -- scaled_dot_product_attention --------------------------------------------------------------------------------


SDPA_CASES = {
    "plain": lambda L, S: {},
    "causal": lambda L, S: {"is_causal": True},
    "bool": lambda L, S: {"attn_mask": RNG.random((L, S)) > 0.3},
    "bool-full-rows": lambda L, S: {"attn_mask": np.eye(L, S, dtype=bool) & (np.arange(L) % 2 == 0)[:, None]},
    "float": lambda L, S: {"attn_mask": RNG.normal(size=(2, 1, L, S))},
    "float-inf": lambda L, S: {"attn_mask": np.where(RNG.random((L, S)) > 0.4, 0.0, -np.inf)},
    "scale": lambda L, S: {"scale": 0.123},
}


@pytest.mark.parametrize("case", list(SDPA_CASES))
@pytest.mark.parametrize("L,S", [(4, 4), (3, 6), (6, 3)])
def test_sdpa(case, L, S):
    kw = SDPA_CASES[case](L, S)
    q, k, v = RNG.normal(size=(2, 3, L, 5)), RNG.normal(size=(2, 3, S, 5)), RNG.normal(size=(2, 3, S, 4))
    gq, gk, gv = g64(q, True), g64(k, True), g64(v, True)
    tq, tk, tv = t64(q, True), t64(k, True), t64(v, True)
    gkw, tkw = dict(kw), dict(kw)
    ins_g, ins_t = [gq, gk, gv], [tq, tk, tv]
    if "attn_mask" in kw:
        gm, tm = mask_pair(kw["attn_mask"])
        if kw["attn_mask"].dtype != bool and case == "float":  # a float mask gets a gradient too
            gm.requires_grad = True
            tm.requires_grad_(True)
            ins_g.append(gm)
            ins_t.append(tm)
        gkw["attn_mask"], tkw["attn_mask"] = gm, tm
    ours = F.scaled_dot_product_attention(gq, gk, gv, **gkw)
    theirs = TF.scaled_dot_product_attention(tq, tk, tv, **tkw)
    close(ours, theirs, case)
    # fully masked rows: zeros in both (PyTorch 2.13's math SDPA uses a "safe" softmax)
    assert np.all(np.isfinite(ours.numpy()))
    compare_grads((ours, ins_g), (theirs, ins_t), RNG.normal(size=ours.shape), msg=case)


def test_sdpa_gqa_and_broadcast():
    q, k, v = RNG.normal(size=(2, 6, 3, 4)), RNG.normal(size=(2, 2, 5, 4)), RNG.normal(size=(2, 2, 5, 3))
    m = RNG.random((6, 3, 5)) > 0.3
    gm, tm = mask_pair(m)
    ours_in, theirs_in = [g64(a, True) for a in (q, k, v)], [t64(a, True) for a in (q, k, v)]
    ours = F.scaled_dot_product_attention(*ours_in, attn_mask=gm, enable_gqa=True)
    theirs = TF.scaled_dot_product_attention(*theirs_in, attn_mask=tm, enable_gqa=True)
    close(ours, theirs, "gqa")
    compare_grads((ours, ours_in), (theirs, theirs_in), RNG.normal(size=ours.shape), msg="gqa")
    q, k, v = RNG.normal(size=(2, 1, 3, 4)), RNG.normal(size=(1, 4, 5, 4)), RNG.normal(size=(5, 2))
    ours_in, theirs_in = [g64(a, True) for a in (q, k, v)], [t64(a, True) for a in (q, k, v)]
    ours = F.scaled_dot_product_attention(*ours_in)
    theirs = TF.scaled_dot_product_attention(*theirs_in)
    close(ours, theirs, "broadcast")
    compare_grads((ours, ours_in), (theirs, theirs_in), RNG.normal(size=ours.shape), msg="broadcast")


def test_sdpa_causal_with_mask_is_an_error_as_torch_regular_path():
    """PyTorch's regular (autograd) path refuses attn_mask together with is_causal=True, as its
    documentation says; its no-grad CPU kernel instead ANDs the two. gdl follows the documented
    behaviour in every mode: a ValueError."""
    q = RNG.normal(size=(1, 3, 4))
    m = np.ones((3, 3), bool)
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(t64(q, True), t64(q, True), t64(q, True), attn_mask=torch.tensor(m),
                                        is_causal=True)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(g64(q, True), g64(q), g64(q), attn_mask=gdl.tensor(m), is_causal=True)


# -- MultiheadAttention ----------------------------------------------------------------------------------------------


def _mha_masks(kind, L, S, N, H):
    """(attn_mask, key_padding_mask) as NumPy arrays (bool: True = leave out) for ``kind``."""
    kpm = np.zeros((N, S), bool)
    kpm[-1, S // 2:] = True
    bool_attn = RNG.random((L, S)) > 0.7
    bool_attn[:, 0] = False
    return {
        "none": (None, None),
        "bool2d": (bool_attn, None),
        "float2d": (RNG.normal(size=(L, S)), None),
        "bool3d": (RNG.random((N * H, L, S)) > 0.8, None),
        "float3d": (RNG.normal(size=(N * H, L, S)), None),
        "kpm": (None, kpm),
        "kpm-float": (None, np.where(kpm, -np.inf, 0.0)),
        "both": (np.triu(np.ones((L, S), bool), 1), kpm),
        "causal-float": (np.triu(np.full((L, S), -np.inf), 1), None),
        "fully-masked": (None, np.ones((N, S), bool) & (np.arange(N) == 0)[:, None]),
    }[kind]


MASK_KINDS = ["none", "bool2d", "float2d", "bool3d", "float3d", "kpm", "kpm-float", "both", "causal-float",
              "fully-masked"]


def _run_mha(gm, tm, q, k, v, batch_first, inputs, kw_np, **kw):
    """Run both layers on the same inputs; ``inputs`` says which are the same object
    ("self": q is k is v, "kv": k is v, "qkv": three)."""
    if batch_first:
        q, k, v = (np.swapaxes(a, 0, 1).copy() for a in (q, k, v))
    gq, tq = g64(q, True), t64(q, True)
    if inputs == "self":
        gk = gv = gq
        tk = tv = tq
        ins = ([gq], [tq])
    elif inputs == "kv":
        gk = gv = g64(k, True)
        tk = tv = t64(k, True)
        ins = ([gq, gk], [tq, tk])
    else:
        gk, gv, tk, tv = g64(k, True), g64(v, True), t64(k, True), t64(v, True)
        ins = ([gq, gk, gv], [tq, tk, tv])
    gkw, tkw = dict(kw), dict(kw)
    for name, a in kw_np.items():
        if a is not None:
            gkw[name], tkw[name] = mask_pair(a)
    ours = gm(gq, gk, gv, **gkw)
    theirs = tm(tq, tk, tv, **tkw)
    return ours, theirs, ins


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the NaN rows, as torch's
@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")  # torch: bool kpm with a float mask
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(mask_kind, batch_first, need_weights):
    E, H, L, N = 6, 3, 4, 2
    inputs = "self" if mask_kind in ("causal-float", "fully-masked") else "kv"
    S = L if inputs == "self" else 5
    gm = nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=F64).eval()
    tm = tnn.MultiheadAttention(E, H, batch_first=batch_first, dtype=torch.float64).eval()
    same_weights(gm, tm, "torch->gdl" if batch_first else "gdl->torch")
    attn_mask, kpm = _mha_masks(mask_kind, L, S, N, H)
    q, k = RNG.normal(size=(L, N, E)), RNG.normal(size=(S, N, E))
    (o, w), (to, tw), ins = _run_mha(gm, tm, q, k, k, batch_first, inputs,
                                     {"attn_mask": attn_mask, "key_padding_mask": kpm}, need_weights=need_weights)
    msg = f"{mask_kind} bf={batch_first} nw={need_weights}"
    close(o, to, msg)  # NaN where PyTorch has NaN (a fully masked row with need_weights=True)
    if need_weights:
        close(w, tw, msg + " weights")
    else:
        assert w is None and tw is None
    if mask_kind == "fully-masked":
        # need_weights=True: NaN in both; need_weights=False: PyTorch's SDPA gives 0, so the
        # output is out_proj's bias, in both
        first = o.numpy()[0] if batch_first else o.numpy()[:, 0]
        assert np.all(np.isnan(first)) if need_weights else np.all(np.isfinite(first))
        return
    wgt = RNG.normal(size=o.shape)
    compare_grads((o, ins[0] + list(gm.parameters())), (to, ins[1] + list(tm.parameters())), wgt, msg=msg)


@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_kdim_vdim_and_options(batch_first):
    E, H, L, S, N = 8, 2, 3, 5, 2
    for opts in ({"kdim": 3, "vdim": 5}, {"kdim": 3, "vdim": 5, "bias": False},
                 {"add_bias_kv": True}, {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True,
                                                                  "kdim": 4, "vdim": 4}):
        gm = nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=F64, **opts).eval()
        tm = tnn.MultiheadAttention(E, H, batch_first=batch_first, dtype=torch.float64, **opts).eval()
        same_weights(gm, tm, "torch->gdl")
        kd, vd = opts.get("kdim", E), opts.get("vdim", E)
        q, k, v = RNG.normal(size=(L, N, E)), RNG.normal(size=(S, N, kd)), RNG.normal(size=(S, N, vd))
        kpm = np.zeros((N, S), bool)
        kpm[0, -2:] = True
        attn = RNG.normal(size=(L, S))
        for need in (True, False):
            for masks in ({}, {"key_padding_mask": kpm, "attn_mask": attn}):
                (o, w), (to, tw), ins = _run_mha(gm, tm, q, k, v, batch_first, "qkv", masks, need_weights=need,
                                                 average_attn_weights=False)
                msg = f"{opts} {list(masks)} nw={need}"
                close(o, to, msg)
                if need:
                    close(w, tw, msg + " weights")
                compare_grads((o, ins[0] + list(gm.parameters())), (to, ins[1] + list(tm.parameters())),
                              RNG.normal(size=o.shape), msg=msg)


def test_mha_unbatched_and_self_attention_packed():
    E, H, L = 6, 2, 4
    gm = nn.MultiheadAttention(E, H, dtype=F64).eval()
    tm = tnn.MultiheadAttention(E, H, dtype=torch.float64).eval()
    same_weights(gm, tm, "gdl->torch")
    x = RNG.normal(size=(L, E))
    for masks in ({}, {"key_padding_mask": np.array([False, False, True, False])},
                  {"attn_mask": RNG.random((H, L, L)) > 0.7}):
        for need in (True, False):
            (o, w), (to, tw), ins = _run_mha(gm, tm, x, x, x, False, "self", masks, need_weights=need)
            close(o, to, f"unbatched {list(masks)}")
            if need:
                close(w, tw)
            compare_grads((o, ins[0] + list(gm.parameters())), (to, ins[1] + list(tm.parameters())),
                          RNG.normal(size=o.shape))


def test_mha_is_causal_hint():
    E, H, L, N = 4, 2, 5, 2
    gm = nn.MultiheadAttention(E, H, dtype=F64).eval()
    tm = tnn.MultiheadAttention(E, H, dtype=torch.float64).eval()
    same_weights(gm, tm, "torch->gdl")
    x = RNG.normal(size=(L, N, E))
    causal = np.triu(np.full((L, L), -np.inf), 1)
    for need in (True, False):
        (o, _), (to, _), ins = _run_mha(gm, tm, x, x, x, False, "self", {"attn_mask": causal}, need_weights=need,
                                        is_causal=True)
        close(o, to)
        compare_grads((o, ins[0]), (to, ins[1]), RNG.normal(size=o.shape))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        tm(t64(x), t64(x), t64(x), is_causal=True)
    with pytest.raises(ValueError, match="is_causal"):
        gm(g64(x), g64(x), g64(x), is_causal=True)


# -- Transformer layers ----------------------------------------------------------------------------------------


def _layer_inputs(batch_first, L, N, E):
    x = RNG.normal(size=(L, N, E))
    return np.swapaxes(x, 0, 1).copy() if batch_first else x


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(norm_first, activation, batch_first):
    E, H, L, N = 8, 2, 5, 3
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=batch_first)
    gl = nn.TransformerEncoderLayer(E, H, dtype=F64, **kw).eval()
    tl = tnn.TransformerEncoderLayer(E, H, dtype=torch.float64, **kw).eval()
    same_weights(gl, tl, "torch->gdl" if norm_first else "gdl->torch")
    tol = GELU_TOL if activation == "gelu" else TOL
    x = _layer_inputs(batch_first, L, N, E)
    kpm = np.zeros((N, L), bool)
    kpm[1, 3:] = True
    causal = np.triu(np.full((L, L), -np.inf), 1)
    for masks in ({}, {"src_key_padding_mask": kpm}, {"src_mask": causal},
                  {"src_mask": causal, "is_causal": True}, {"src_mask": RNG.random((L, L)) > 0.8}):
        gx, tx = g64(x, True), t64(x, True)  # requires_grad: PyTorch's regular path, not its fast path
        gkw, tkw = {}, {}
        for name, a in masks.items():
            gkw[name], tkw[name] = (a, a) if name == "is_causal" else mask_pair(a)
        ours, theirs = gl(gx, **gkw), tl(tx, **tkw)
        msg = f"{activation} nf={norm_first} bf={batch_first} {list(masks)}"
        close(ours, theirs, msg, **tol)
        compare_grads((ours, [gx] + list(gl.parameters())), (theirs, [tx] + list(tl.parameters())),
                      RNG.normal(size=ours.shape), tol=tol, msg=msg)


def test_encoder_layer_callable_activation_and_no_bias():
    E, H, L, N = 8, 4, 4, 2
    gl = nn.TransformerEncoderLayer(E, H, 12, dropout=0.0, activation=F.tanh, bias=False, dtype=F64).eval()
    tl = tnn.TransformerEncoderLayer(E, H, 12, dropout=0.0, activation=torch.tanh, bias=False,
                                     dtype=torch.float64).eval()
    same_weights(gl, tl, "torch->gdl")
    x = RNG.normal(size=(L, N, E))
    gx, tx = g64(x, True), t64(x, True)
    ours, theirs = gl(gx), tl(tx)
    close(ours, theirs)
    compare_grads((ours, [gx] + list(gl.parameters())), (theirs, [tx] + list(tl.parameters())),
                  RNG.normal(size=ours.shape))


@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack(batch_first):
    E, H, L, N = 8, 2, 5, 2
    gl = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=batch_first, dtype=F64)
    tl = tnn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=batch_first, dtype=torch.float64)
    genc = nn.TransformerEncoder(gl, 2, norm=nn.LayerNorm(E, dtype=F64)).eval()
    tenc = tnn.TransformerEncoder(tl, 2, norm=tnn.LayerNorm(E, dtype=torch.float64), enable_nested_tensor=False).eval()
    same_weights(genc, tenc, "torch->gdl")
    x = _layer_inputs(batch_first, L, N, E)
    kpm = np.zeros((N, L), bool)
    kpm[0, -2:] = True
    causal = np.triu(np.full((L, L), -np.inf), 1)
    for masks in ({}, {"mask": causal}, {"mask": causal, "src_key_padding_mask": kpm},
                  {"src_key_padding_mask": kpm}):
        gx, tx = g64(x, True), t64(x, True)
        gkw = {k: mask_pair(v)[0] for k, v in masks.items()}
        tkw = {k: mask_pair(v)[1] for k, v in masks.items()}
        ours, theirs = genc(gx, **gkw), tenc(tx, **tkw)
        close(ours, theirs, str(list(masks)))
        compare_grads((ours, [gx] + list(genc.parameters())), (theirs, [tx] + list(tenc.parameters())),
                      RNG.normal(size=ours.shape), msg=str(list(masks)))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_and_stack(norm_first, batch_first):
    E, H, T, S, N = 8, 2, 4, 6, 2
    kw = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    gl = nn.TransformerDecoderLayer(E, H, dtype=F64, **kw).eval()
    tl = tnn.TransformerDecoderLayer(E, H, dtype=torch.float64, **kw).eval()
    same_weights(gl, tl, "gdl->torch")
    tgt, mem = _layer_inputs(batch_first, T, N, E), _layer_inputs(batch_first, S, N, E)
    causal = np.triu(np.full((T, T), -np.inf), 1)
    mkpm = np.zeros((N, S), bool)
    mkpm[1, -3:] = True
    for masks in ({}, {"tgt_mask": causal, "memory_key_padding_mask": mkpm},
                  {"tgt_mask": causal, "tgt_is_causal": True, "memory_mask": RNG.normal(size=(T, S))},
                  {"tgt_key_padding_mask": np.eye(N, T, dtype=bool)}):
        gt, tt, gmem, tmem = g64(tgt, True), t64(tgt, True), g64(mem, True), t64(mem, True)
        gkw, tkw = {}, {}
        for name, a in masks.items():
            gkw[name], tkw[name] = (a, a) if name.endswith("is_causal") else mask_pair(a)
        ours, theirs = gl(gt, gmem, **gkw), tl(tt, tmem, **tkw)
        close(ours, theirs, str(list(masks)))
        compare_grads((ours, [gt, gmem] + list(gl.parameters())), (theirs, [tt, tmem] + list(tl.parameters())),
                      RNG.normal(size=ours.shape), msg=str(list(masks)))
    gdec = nn.TransformerDecoder(gl, 2, norm=nn.LayerNorm(E, dtype=F64)).eval()
    tdec = tnn.TransformerDecoder(tl, 2, norm=tnn.LayerNorm(E, dtype=torch.float64)).eval()
    same_weights(gdec, tdec, "torch->gdl")
    gt, tt, gmem, tmem = g64(tgt, True), t64(tgt, True), g64(mem, True), t64(mem, True)
    ours = gdec(gt, gmem, tgt_mask=g64(causal))
    theirs = tdec(tt, tmem, tgt_mask=t64(causal))
    close(ours, theirs, "decoder")
    compare_grads((ours, [gt, gmem] + list(gdec.parameters())), (theirs, [tt, tmem] + list(tdec.parameters())),
                  RNG.normal(size=ours.shape), msg="decoder")


def test_transformer():
    E, H, S, T, N = 8, 2, 5, 4, 2
    kw = dict(num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0, batch_first=True)
    gm = nn.Transformer(E, H, dtype=F64, **kw).eval()
    tm = tnn.Transformer(E, H, dtype=torch.float64, **kw).eval()
    assert list(gm.state_dict()) == list(tm.state_dict())
    same_weights(gm, tm, "gdl->torch")
    src, tgt = RNG.normal(size=(N, S, E)), RNG.normal(size=(N, T, E))
    gs, ts, gt, tt = g64(src, True), t64(src, True), g64(tgt, True), t64(tgt, True)
    gmask = nn.Transformer.generate_square_subsequent_mask(T, dtype=F64)
    tmask = tnn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    close(gmask, tmask, "mask")
    kpm = np.zeros((N, S), bool)
    kpm[1, -2:] = True
    gk, tk = mask_pair(kpm)
    ours = gm(gs, gt, tgt_mask=gmask, src_key_padding_mask=gk, memory_key_padding_mask=gk)
    theirs = tm(ts, tt, tgt_mask=tmask, src_key_padding_mask=tk, memory_key_padding_mask=tk)
    close(ours, theirs, "transformer")
    compare_grads((ours, [gs, gt] + list(gm.parameters())), (theirs, [ts, tt] + list(tm.parameters())),
                  RNG.normal(size=ours.shape), msg="transformer")
