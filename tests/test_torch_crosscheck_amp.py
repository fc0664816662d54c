"""Cross-checks of gdl.amp against torch.amp on the CPU (skipped without torch).

GradScaler: the same inf/NaN pattern gives the same scale sequence, growth tracker,
skipped steps, parameters and state_dict as ``torch.amp.GradScaler("cpu")``, float32
rounding of odd factors included. autocast: output dtypes (and values, to float16
accuracy) against ``torch.autocast("cpu", dtype=torch.float16)`` for the ops that are on
both PyTorch's CPU lists and gdl's; the ops where PyTorch's CPU lists differ from its CUDA
lists (which gdl follows on both device types) are checked against the CUDA lists.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402
import gdl.nn as nn  # noqa: E402
import gdl.nn.functional as F  # noqa: E402

TF = torch.nn.functional

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]


def _needs_half(backend):
    if backend == "array_api_strict":
        pytest.skip("the Array API standard has no float16")


def _gdl_dtype(t):
    return {torch.float16: gdl.float16, torch.float32: gdl.float32, torch.float64: gdl.float64}[t.dtype]


# -- GradScaler ----------------------------------------------------------------------------------------------------

# (coefficients of the loss, what to multiply gradient 0 by: None, inf or nan, unscale_ explicitly first)
PATTERN = [
    ([1.0, 2.0, 3.0], None, False), ([0.5, -1.0, 2.0], None, True), ([1.0, 1.0, 1.0], None, False),
    ([2.0, 0.1, -3.0], math.inf, False), ([1.0, 2.0, 3.0], None, False), ([1.0, -2.0, 0.5], math.nan, True),
    ([0.3, 0.3, 0.3], None, False), ([1.5, 2.5, -0.5], None, True), ([1.0, 2.0, 3.0], None, False),
    ([1.0, 2.0, 3.0], -math.inf, False), ([0.1, 0.2, 0.3], math.inf, False), ([1.0, 0.0, 1.0], None, False),
    ([2.0, 2.0, 2.0], None, False), ([1.0, 2.0, 3.0], None, True), ([0.7, -0.7, 0.7], None, False),
]


def _run_gdl(init_scale, growth_factor, backoff_factor, growth_interval):
    w = nn.Parameter(gdl.tensor([1.0, -2.0, 0.5]))
    opt = gdl.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = gdl.amp.GradScaler("cpu", init_scale, growth_factor, backoff_factor, growth_interval)
    trace = []
    for coef, bad, explicit in PATTERN:
        opt.zero_grad()
        scaler.scale((w * gdl.tensor(coef)).sum()).backward()
        if bad is not None:
            w.grad.data = w.grad.data * gdl.tensor([bad, 1.0, 1.0]).data
        if explicit:
            scaler.unscale_(opt)
        scaler.step(opt)
        found = sum(v.item() for v in scaler._found_inf_per_device(opt).values())
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), found, w.numpy().copy()))
    return trace, scaler.state_dict()


def _run_torch(init_scale, growth_factor, backoff_factor, growth_interval):
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale, growth_factor, backoff_factor, growth_interval)
    trace = []
    for coef, bad, explicit in PATTERN:
        opt.zero_grad()
        scaler.scale((w * torch.tensor(coef)).sum()).backward()
        if bad is not None:
            with torch.no_grad():
                w.grad.mul_(torch.tensor([bad, 1.0, 1.0]))
        if explicit:
            scaler.unscale_(opt)
        scaler.step(opt)
        found = sum(v.item() for v in scaler._found_inf_per_device(opt).values())
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), found, w.detach().numpy().copy()))
    return trace, scaler.state_dict()


@pytest.mark.parametrize("config", [
    (2.0**10, 2.0, 0.5, 3),
    (3.0, 1.7, 0.3, 2),  # factors that round in float32
    (2.0**16, 2.0, 0.5, 2000),  # PyTorch's defaults
    (1e38, 10.0, 0.5, 1),  # growth past float32's range: the scale stays
])
def test_grad_scaler_sequence_matches_torch(backend, config):
    mine, my_state = _run_gdl(*config)
    theirs, their_state = _run_torch(*config)
    for i, ((s, g, f, w), (ts, tg, tf, tw)) in enumerate(zip(mine, theirs)):
        assert (s, g, f) == (ts, tg, tf), f"iteration {i}"
        np.testing.assert_allclose(w, tw, rtol=1e-6, atol=1e-7, err_msg=f"iteration {i}")
    assert my_state == their_state


def test_unscaled_gradients_match_torch(backend):
    """The same scaled gradients, unscaled by a scale whose reciprocal rounds in float32."""
    grads = (np.random.default_rng(0).standard_normal((4, 3)) * 3.0 * 2**13).astype(np.float32)
    w = nn.Parameter(gdl.zeros(4, 3))
    tw = torch.nn.Parameter(torch.zeros(4, 3))
    opt, topt = gdl.optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    scaler = gdl.amp.GradScaler("cpu", init_scale=3.0 * 2**13)
    tscaler = torch.amp.GradScaler("cpu", init_scale=3.0 * 2**13)
    scaler.scale(w.sum())
    tscaler.scale(tw.sum())
    w.grad, tw.grad = gdl.tensor(grads), torch.tensor(grads)
    scaler.unscale_(opt)
    tscaler.unscale_(topt)
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())


# -- autocast dtypes -----------------------------------------------------------------------------------------------


def _pair_cases(rng):
    """name -> (gdl thunk, torch thunk) on the same data, for ops where PyTorch's CPU autocast
    and gdl agree on the dtype."""
    def both(*arrays, half=False):
        dt = np.float16 if half else np.float32
        return ([gdl.tensor(np.asarray(a, dt)) for a in arrays], [torch.tensor(np.asarray(a, dt)) for a in arrays])

    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal((5, 6)) / 3, rng.standard_normal(5)
    (gx, gw, gb), (tx, tw, tb) = both(x, w, b)
    x3, w3 = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 6, 5)) / 3
    (gx3, gw3), (tx3, tw3) = both(x3, w3)
    img, k2 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)) / 3
    (gimg, gk2), (timg, tk2) = both(img, k2)
    sig, k1 = rng.standard_normal((2, 3, 8)), rng.standard_normal((4, 3, 3)) / 3
    (gsig, gk1), (tsig, tk1) = both(sig, k1)
    kt2, kt1 = rng.standard_normal((3, 4, 3, 3)) / 3, rng.standard_normal((3, 4, 3)) / 3
    (gkt2, gkt1), (tkt2, tkt1) = both(kt2, kt1)
    h, p = rng.standard_normal((4, 6)), rng.uniform(0.1, 0.9, (4, 6))
    (gh, gp), (th, tp) = both(h, p, half=True)
    labels = [0, 1, 2, 3]
    gl, tl = gdl.tensor(labels), torch.tensor(labels)
    ones = np.ones((4, 6))
    (go, g4), (to, t4) = both(ones, np.ones(4))
    ml = [[0, 1, -1, 0, 0, 0]] * 4
    return {
        # float16 on both
        "linear": (lambda: F.linear(gx, gw, gb), lambda: TF.linear(tx, tw, tb)),
        "matmul": (lambda: gx @ gw.T, lambda: tx @ tw.T),
        "mm": (lambda: gdl.mm(gx, gw.T), lambda: torch.mm(tx, tw.T)),
        "bmm": (lambda: gdl.bmm(gx3, gw3), lambda: torch.bmm(tx3, tw3)),
        "addmm": (lambda: gdl.addmm(gb, gx, gw.T), lambda: torch.addmm(tb, tx, tw.T)),
        "baddbmm": (lambda: gdl.baddbmm(gdl.zeros(2, 3, 5), gx3, gw3),
                    lambda: torch.baddbmm(torch.zeros(2, 3, 5), tx3, tw3)),
        "einsum": (lambda: gdl.einsum("ij,kj->ik", gx, gw), lambda: torch.einsum("ij,kj->ik", tx, tw)),
        "conv1d": (lambda: F.conv1d(gsig, gk1), lambda: TF.conv1d(tsig, tk1)),
        "conv2d": (lambda: F.conv2d(gimg, gk2, padding=1), lambda: TF.conv2d(timg, tk2, padding=1)),
        "conv_transpose1d": (lambda: F.conv_transpose1d(gsig[:, :, :5], gkt1),
                             lambda: TF.conv_transpose1d(tsig[:, :, :5], tkt1)),
        "conv_transpose2d": (lambda: F.conv_transpose2d(gimg[:, :, :4, :4], gkt2, stride=2),
                             lambda: TF.conv_transpose2d(timg[:, :, :4, :4], tkt2, stride=2)),
        "prelu": (lambda: F.prelu(gx, gdl.tensor([0.25])), lambda: TF.prelu(tx, torch.tensor([0.25]))),
        "scaled_dot_product_attention": (lambda: F.scaled_dot_product_attention(gx3, gx3, gx3),
                                         lambda: TF.scaled_dot_product_attention(tx3, tx3, tx3)),
        # float32 on both
        "prod": (lambda: gdl.prod(gp, dim=1), lambda: torch.prod(tp, 1)),
        "mse_loss": (lambda: F.mse_loss(gh, gp), lambda: TF.mse_loss(th, tp)),
        "l1_loss": (lambda: F.l1_loss(gh, gp), lambda: TF.l1_loss(th, tp)),
        "smooth_l1_loss": (lambda: F.smooth_l1_loss(gh, gp), lambda: TF.smooth_l1_loss(th, tp)),
        "huber_loss": (lambda: F.huber_loss(gh, gp), lambda: TF.huber_loss(th, tp)),
        "kl_div": (lambda: F.kl_div(gh, gp, reduction="batchmean"), lambda: TF.kl_div(th, tp, reduction="batchmean")),
        "cross_entropy": (lambda: F.cross_entropy(gh, gl), lambda: TF.cross_entropy(th, tl)),
        "nll_loss": (lambda: F.nll_loss(gh, gl), lambda: TF.nll_loss(th, tl)),
        "binary_cross_entropy": (lambda: F.binary_cross_entropy(gp, go), lambda: TF.binary_cross_entropy(tp, to)),
        "binary_cross_entropy_with_logits": (lambda: F.binary_cross_entropy_with_logits(gh, go),
                                             lambda: TF.binary_cross_entropy_with_logits(th, to)),
        "poisson_nll_loss": (lambda: F.poisson_nll_loss(gh, go), lambda: TF.poisson_nll_loss(th, to)),
        "cosine_embedding_loss": (lambda: F.cosine_embedding_loss(gh, gp, g4),
                                  lambda: TF.cosine_embedding_loss(th, tp, t4)),
        "margin_ranking_loss": (lambda: F.margin_ranking_loss(gh[:, 0], gh[:, 1], g4),
                                lambda: TF.margin_ranking_loss(th[:, 0], th[:, 1], t4)),
        "hinge_embedding_loss": (lambda: F.hinge_embedding_loss(gh, go), lambda: TF.hinge_embedding_loss(th, to)),
        "soft_margin_loss": (lambda: F.soft_margin_loss(gh, go), lambda: TF.soft_margin_loss(th, to)),
        "triplet_margin_loss": (lambda: F.triplet_margin_loss(gh, gp, gh[::-1]),
                                lambda: TF.triplet_margin_loss(th, tp, th.flip(0))),
        "multi_margin_loss": (lambda: F.multi_margin_loss(gh, gl), lambda: TF.multi_margin_loss(th, tl)),
        "multilabel_margin_loss": (lambda: F.multilabel_margin_loss(gh, gdl.tensor(ml)),
                                   lambda: TF.multilabel_margin_loss(th, torch.tensor(ml))),
    }


with gdl.use_backend("numpy"):  # only the names are needed here (array_api_strict has no float16)
    PAIR_NAMES = list(_pair_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", PAIR_NAMES)
def test_autocast_dtype_and_values_match_torch_cpu(backend, name):
    _needs_half(backend)
    mine, theirs = _pair_cases(np.random.default_rng(1))[name]
    with gdl.autocast("cpu"):
        out = mine()
    with torch.autocast("cpu", dtype=torch.float16):
        ref = theirs()
    assert out.dtype == _gdl_dtype(ref)
    np.testing.assert_allclose(out.numpy().astype(np.float64), ref.detach().double().numpy(), rtol=2e-2, atol=2e-2)


# PyTorch's CUDA lists, which gdl follows on both device types, where its CPU lists differ
CUDA_FLOAT16 = {
    "mv": lambda x, h: gdl.mv(x, x[0]),
    "addmv": lambda x, h: gdl.addmv(x[:, 0], x, x[0]),
    "lstm_cell": lambda x, h: F.lstm_cell(x, None, None, gdl.ones(16, 4), gdl.ones(16, 4))[0],
    "gru_cell": lambda x, h: F.gru_cell(x, None, gdl.ones(12, 4), gdl.ones(12, 4)),
    "nn.LSTM": lambda x, h: nn.LSTM(4, 3)(x.reshape(2, 2, 4))[0],
    "nn.GRU": lambda x, h: nn.GRU(4, 3)(x.reshape(2, 2, 4))[0],
}
CUDA_FLOAT32 = {
    "softmax": lambda x, h: gdl.softmax(h, dim=-1),
    "log_softmax": lambda x, h: gdl.log_softmax(h, dim=-1),
    "logsumexp": lambda x, h: gdl.logsumexp(h, dim=1),
    "sum": lambda x, h: h.sum(),
    "cumsum": lambda x, h: gdl.cumsum(h, dim=1),
    "cumprod": lambda x, h: gdl.cumprod(h, dim=1),
    "norm": lambda x, h: gdl.norm(h),
    "layer_norm": lambda x, h: F.layer_norm(h, (4,)),
    "group_norm": lambda x, h: F.group_norm(h.reshape(4, 4, 1), 2),
    "softplus": lambda x, h: F.softplus(h),
    "tan": lambda x, h: gdl.tan(h),
    "log1p": lambda x, h: gdl.log1p(h.abs()),
}


@pytest.mark.parametrize("name", sorted(CUDA_FLOAT16) + sorted(CUDA_FLOAT32))
def test_autocast_follows_torchs_cuda_lists(backend, name):
    _needs_half(backend)
    rng = np.random.default_rng(2)
    x = gdl.tensor(rng.standard_normal((4, 4)), dtype=gdl.float32)
    h = x.astype(gdl.float16)
    fn, want = (CUDA_FLOAT16[name], gdl.float16) if name in CUDA_FLOAT16 else (CUDA_FLOAT32[name], gdl.float32)
    with gdl.autocast("cpu"):
        assert fn(x, h).dtype == want


def test_a_training_loop_matches_torch(backend):
    """The same model, data and loop (autocast + GradScaler + Adam) in gdl and PyTorch:
    the same scale sequence and parameters that agree to float16 accuracy."""
    _needs_half(backend)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    w1, b1 = (rng.standard_normal((8, 6)) / 3).astype(np.float32), np.zeros(8, np.float32)
    w2, b2 = (rng.standard_normal((3, 8)) / 3).astype(np.float32), np.zeros(3, np.float32)

    g_model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    for gm, tm, w, b in ((g_model[0], t_model[0], w1, b1), (g_model[2], t_model[2], w2, b2)):
        gm.weight.data = gdl.tensor(w).data
        gm.bias.data = gdl.tensor(b).data
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            tm.bias.copy_(torch.tensor(b))
    g_opt = gdl.optim.Adam(g_model.parameters(), lr=1e-2)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-2)
    g_scaler = gdl.amp.GradScaler("cpu", init_scale=2.0**24, growth_interval=3)
    t_scaler = torch.amp.GradScaler("cpu", init_scale=2.0**24, growth_interval=3)
    gx, gy, tx, ty = gdl.tensor(x), gdl.tensor(y), torch.tensor(x), torch.tensor(y)
    for step in range(8):
        g_opt.zero_grad()
        t_opt.zero_grad()
        with gdl.autocast("cpu"):
            g_out = g_model(gx)
            g_loss = F.cross_entropy(g_out, gy)
        with torch.autocast("cpu", dtype=torch.float16):
            t_out = t_model(tx)
            t_loss = TF.cross_entropy(t_out, ty)
        assert g_out.dtype == gdl.float16 and t_out.dtype == torch.float16
        assert g_loss.dtype == gdl.float32 and t_loss.dtype == torch.float32
        np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-2)
        g_scaler.scale(g_loss).backward()
        t_scaler.scale(t_loss).backward()
        assert all(p.grad.dtype == gdl.float32 for p in g_model.parameters())
        g_scaler.step(g_opt)
        t_scaler.step(t_opt)
        g_scaler.update()
        t_scaler.update()
        assert g_scaler.get_scale() == t_scaler.get_scale(), f"step {step}"
    for gp, tp in zip(g_model.parameters(), t_model.parameters()):
        np.testing.assert_allclose(gp.numpy(), tp.detach().numpy(), rtol=2e-2, atol=2e-3)
