"""The less common layers (Bilinear, EmbeddingBag, CTCLoss, LocalResponseNorm, MaxUnpool1d/2d,
LPPool1d/2d and F.gumbel_softmax, affine_grid, grid_sample) against PyTorch 2.13
(float64): values and the gradient of every differentiable input, module reprs, and torch
state_dicts loaded into the gdl modules."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
import gdl.nn.functional as F  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn.functional.activation import _gumbel_noise  # noqa: E402

TF = torch.nn.functional
TOL = dict(rtol=1e-9, atol=1e-11)


def _grads(ours, theirs, out, ref, seed=0, tol=TOL, names=None):
    """Backpropagate one random upstream gradient through both; compare the listed inputs' grads."""
    w = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(ref.shape))
    (out * g64(w)).sum().backward()
    (ref * t64(w)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        name = names[i] if names else f"input {i}"
        assert b.grad is not None, f"torch gave {name} no gradient"
        close(a.grad, b.grad, f"grad of {name}", **tol)


def _ints(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64)), torch.tensor(np.asarray(a, dtype=np.int64))


# -- Bilinear ----------------------------------------------------------------------------------------


@SETTINGS(15)
@given(lead=st.sampled_from([(), (4,), (2, 3), (0,)]), n1=st.integers(1, 4), n2=st.integers(1, 4),
       out=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 9999))
def test_bilinear(lead, n1, n2, out, bias, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(lead + (n1,)), rng.standard_normal(lead + (n2,)),
              rng.standard_normal((out, n1, n2))] + ([rng.standard_normal(out)] if bias else [])
    ours = [g64(a, grad=True) for a in arrays]
    theirs = [t64(a, grad=True) for a in arrays]
    got, ref = F.bilinear(*ours), TF.bilinear(*theirs)
    close(got, ref, "value")
    if got.numel():
        _grads(ours, theirs, got, ref, seed)


def test_bilinear_module_state_dict_and_init():
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(3, 4, 5).double()
    ours = nn.Bilinear(3, 4, 5, dtype=gdl.float64)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    bound = 1 / math.sqrt(3)
    for p in ours.parameters():
        assert np.abs(p.numpy()).max() <= bound
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x1, x2 = np.random.default_rng(1).standard_normal((2, 7, 3)), np.random.default_rng(2).standard_normal((2, 7, 4))
    close(ours(g64(x1), g64(x2)), theirs(t64(x1), t64(x2)), "module")
    no_bias = nn.Bilinear(3, 4, 5, bias=False)
    assert repr(no_bias) == repr(torch.nn.Bilinear(3, 4, 5, bias=False))
    assert list(no_bias.state_dict()) == ["weight"]


# -- EmbeddingBag ---------------------------------------------------------------------------------------


def _bag_case(seed, two_d):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((7, 3))
    if two_d:
        return table, rng.integers(0, 7, (4, 3)), None
    idx = rng.integers(0, 7, 9)
    cuts = np.sort(rng.integers(0, 10, 3))
    return table, idx, np.concatenate([[0], cuts])


@SETTINGS(25)
@given(mode=st.sampled_from(["sum", "mean", "max"]), two_d=st.booleans(), last=st.booleans(),
       padding_idx=st.sampled_from([None, 2, -1]), psw=st.booleans(), seed=st.integers(0, 9999))
def test_embedding_bag(mode, two_d, last, padding_idx, psw, seed):
    table, idx, offsets = _bag_case(seed, two_d)
    psw = psw and mode == "sum"
    last = last and not two_d
    if last:
        offsets = np.concatenate([offsets, [len(idx)]])
    w_ours, w_theirs = g64(table, grad=True), t64(table, grad=True)
    i_ours, i_theirs = _ints(idx)
    kw = dict(mode=mode, include_last_offset=last, padding_idx=padding_idx)
    o_ours = o_theirs = None
    if offsets is not None:
        o_ours, o_theirs = _ints(offsets)
    ours, theirs = [w_ours], [w_theirs]
    if psw:
        weights = np.random.default_rng(seed + 1).uniform(-1, 1, idx.shape)
        ours.append(g64(weights, grad=True))
        theirs.append(t64(weights, grad=True))
        kw_o, kw_t = dict(per_sample_weights=ours[1]), dict(per_sample_weights=theirs[1])
    else:
        kw_o = kw_t = {}
    got = F.embedding_bag(i_ours, w_ours, o_ours, **kw, **kw_o)
    ref = TF.embedding_bag(i_theirs, w_theirs, o_theirs, **kw, **kw_t)
    close(got, ref, "value")
    _grads(ours, theirs, got, ref, seed, names=["weight", "per_sample_weights"])


def test_embedding_bag_scale_grad_by_freq():
    """Each row's gradient divided by its index's count in the input: as torch's ``embedding``
    with ``scale_grad_by_freq`` followed by a sum over each bag. (torch 2.13's CPU
    ``embedding_bag`` halves the last index's gradient when other indices repeat:
    ``[1, 2, 0, 3, 3, 5, 4]`` gives row 4 a gradient of 0.5 in sum mode.)"""
    table = np.random.default_rng(0).standard_normal((6, 2))
    idx, offsets = [1, 2, 0, 3, 3, 5, 4], [0, 2, 3, 5]
    for mode in ("sum", "mean"):
        ours = g64(table, grad=True)
        out = F.embedding_bag(gdl.tensor(idx), ours, gdl.tensor(offsets), mode=mode, scale_grad_by_freq=True)
        theirs = t64(table, grad=True)
        rows = TF.embedding(torch.tensor(idx), theirs, scale_grad_by_freq=True)
        bags = [(0, 2), (2, 3), (3, 5), (5, 7)]
        ref = torch.stack([rows[a:b].sum(0) / (1 if mode == "sum" else b - a) for a, b in bags])
        _grads([ours], [theirs], out, ref, names=["weight"])


def test_embedding_bag_max_norm():
    table = np.random.default_rng(3).standard_normal((6, 3)) * 2
    ours, theirs = g64(table), t64(table)
    idx, offsets = [0, 1, 1, 4], [0, 3]
    got = F.embedding_bag(gdl.tensor(idx), ours, gdl.tensor(offsets), max_norm=1.0, mode="sum")
    ref = TF.embedding_bag(torch.tensor(idx), theirs, torch.tensor(offsets), max_norm=1.0, mode="sum")
    close(got, ref, "value")
    close(ours, theirs, "renormalised table")


def test_embedding_bag_module_state_dict_and_repr():
    for kw in (dict(), dict(mode="sum", padding_idx=0, max_norm=1.0), dict(mode="max", norm_type=1.0,
                                                                          scale_grad_by_freq=False)):
        theirs = torch.nn.EmbeddingBag(10, 3, **kw).double()
        ours = nn.EmbeddingBag(10, 3, **kw, dtype=gdl.float64)
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        i_o, i_t = _ints([[1, 2, 0], [9, 9, 4]])
        close(ours(i_o), theirs(i_t), f"module {kw}")
    theirs = torch.nn.EmbeddingBag(10, 3, padding_idx=4)
    ours = nn.EmbeddingBag(10, 3, padding_idx=4)
    assert np.all(ours.weight.numpy()[4] == 0) and torch.all(theirs.weight[4] == 0)
    pre = np.random.default_rng(0).standard_normal((5, 2))
    ours = nn.EmbeddingBag.from_pretrained(g64(pre), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(t64(pre), mode="sum")
    assert ours.weight.requires_grad is False and repr(ours) == repr(theirs)
    i_o, i_t = _ints([0, 3, 4, 1])
    o_o, o_t = _ints([0, 1])
    close(ours(i_o, o_o), theirs(i_t, o_t), "from_pretrained")


# -- CTCLoss ------------------------------------------------------------------------------------------------


def _ctc_case(rng, t, n, c, s):
    logits = rng.standard_normal((t, n, c))
    tl = rng.integers(0, s + 1, n)
    il = rng.integers(max(1, t // 2), t + 1, n)
    targets = rng.integers(0, c, (n, s))
    return logits, targets, il, tl


@SETTINGS(25)
@given(t=st.integers(1, 8), n=st.integers(1, 4), c=st.integers(2, 5), s=st.integers(0, 4),
       blank=st.integers(0, 4), reduction=st.sampled_from(["none", "sum", "mean"]), concat=st.booleans(),
       zero_infinity=st.booleans(), seed=st.integers(0, 9999))
def test_ctc_loss(t, n, c, s, blank, reduction, concat, zero_infinity, seed):
    """Random lengths, labels (repeats, the blank's neighbours, impossible alignments giving inf).
    Gradients are compared with respect to the logits under ``log_softmax`` (see ``ctc_loss``:
    PyTorch's kernel adds ``exp(log_probs)`` to the gradient in ``log_probs``)."""
    blank = blank % c
    rng = np.random.default_rng(seed)
    logits, targets, il, tl = _ctc_case(rng, t, n, c, s)
    targets = np.where(targets == blank, (targets + 1) % c, targets)  # torch requires labels != blank
    if concat:
        targets = np.concatenate([targets[i, :tl[i]] for i in range(n)]).astype(np.int64)
    x_ours, x_theirs = g64(logits, grad=True), t64(logits, grad=True)
    kw = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    got = F.ctc_loss(gdl.nn.functional.log_softmax(x_ours, 2), gdl.tensor(targets), gdl.tensor(il),
                     gdl.tensor(tl), **kw)
    ref = TF.ctc_loss(x_theirs.log_softmax(2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl), **kw)
    close(got, ref, "value")
    if np.all(np.isfinite(ref.detach().numpy())):
        _grads([x_ours], [x_theirs], got, ref, seed, names=["logits"])
    else:  # an infinite loss: torch's gradient is NaN in those rows (0 with zero_infinity); so is ours
        assert not zero_infinity


def test_ctc_loss_log_probs_gradient_relation():
    """PyTorch's gradient with respect to ``log_probs`` itself is ours plus ``exp(log_probs)``
    (times the upstream gradient), within each input's length."""
    rng = np.random.default_rng(5)
    logits, targets, il, tl = _ctc_case(rng, 6, 3, 4, 3)
    targets = np.where(targets == 0, 1, targets)
    lp = torch.tensor(logits).log_softmax(2).numpy()
    ours, theirs = g64(lp, grad=True), t64(lp, grad=True)
    F.ctc_loss(ours, gdl.tensor(targets), il.tolist(), tl.tolist(), reduction="sum").backward()
    TF.ctc_loss(theirs, torch.tensor(targets), torch.tensor(il), torch.tensor(tl), reduction="sum").backward()
    inside = np.arange(6)[:, None, None] < il[None, :, None]
    expected = theirs.grad.numpy() - np.where(inside, np.exp(lp), 0.0)
    np.testing.assert_allclose(ours.grad.numpy(), expected, rtol=1e-9, atol=1e-11)


def test_ctc_loss_unbatched_and_module():
    rng = np.random.default_rng(7)
    logits, targets, _, _ = _ctc_case(rng, 6, 1, 4, 3)
    lp = torch.tensor(logits[:, 0]).log_softmax(1).numpy()
    for reduction in ("none", "sum", "mean"):
        got = F.ctc_loss(g64(lp), gdl.tensor(targets[0] % 3 + 1), (6,), (3,), reduction=reduction)
        ref = TF.ctc_loss(t64(lp), torch.tensor(targets[0] % 3 + 1), (6,), (3,), reduction=reduction)
        close(got, ref, reduction)
    loss = nn.CTCLoss(blank=3, reduction="sum", zero_infinity=True)
    tloss = torch.nn.CTCLoss(blank=3, reduction="sum", zero_infinity=True)
    lp3 = torch.tensor(logits).log_softmax(2).numpy()
    close(loss(g64(lp3), gdl.tensor([[0, 1, 1]]), [6], [3]), tloss(t64(lp3), torch.tensor([[0, 1, 1]]), [6], [3]),
          "module")


# -- gumbel_softmax -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_given_the_same_noise(hard, dim):
    """gdl's sample for a seed is torch's formula on the noise that seed draws."""
    logits = np.random.default_rng(0).standard_normal((4, 5))
    gdl.manual_seed(3)
    ours = g64(logits, grad=True)
    got = F.gumbel_softmax(ours, tau=0.7, hard=hard, dim=dim)
    gdl.manual_seed(3)
    be = gdl.get_backend_object(None)
    noise = be.to_host(_gumbel_noise(be, (4, 5), be.xp.float64))
    theirs = t64(logits, grad=True)
    soft = ((theirs + torch.tensor(noise)) / 0.7).softmax(dim)
    if hard:
        index = soft.max(dim, keepdim=True)[1]
        ref = torch.zeros_like(soft).scatter_(dim, index, 1.0) - soft.detach() + soft
    else:
        ref = soft
    close(got, ref, "value", rtol=1e-12, atol=1e-14)
    _grads([ours], [theirs], got, ref, names=["logits"])


def test_gumbel_softmax_distribution_matches_torch():
    """The arg-max frequencies of many samples follow softmax(logits) in both libraries."""
    logits = np.array([0.5, -1.0, 1.5, 0.0])
    gdl.manual_seed(0)
    torch.manual_seed(0)
    ours = F.gumbel_softmax(g64(np.tile(logits, (20000, 1))), hard=True).numpy().mean(0)
    theirs = TF.gumbel_softmax(t64(np.tile(logits, (20000, 1))), hard=True).numpy().mean(0)
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(ours, expected, atol=0.015)
    np.testing.assert_allclose(theirs, expected, atol=0.015)


# -- LocalResponseNorm -------------------------------------------------------------------------------------------


@SETTINGS(20)
@given(shape=st.sampled_from([(2, 5, 3), (1, 6, 2, 3), (2, 3, 2, 2, 2), (1, 1, 4)]), size=st.integers(1, 6),
       alpha=st.sampled_from([1e-4, 0.5, 2.0]), beta=st.sampled_from([0.75, 0.5, 1.3]),
       k=st.sampled_from([1.0, 2.0, 0.5]), seed=st.integers(0, 9999))
def test_local_response_norm(shape, size, alpha, beta, k, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    ours, theirs = g64(x, grad=True), t64(x, grad=True)
    got = F.local_response_norm(ours, size, alpha, beta, k)
    ref = TF.local_response_norm(theirs, size, alpha, beta, k)
    close(got, ref, "value")
    _grads([ours], [theirs], got, ref, seed)
    close(nn.LocalResponseNorm(size, alpha, beta, k)(g64(x)),
          torch.nn.LocalResponseNorm(size, alpha, beta, k)(t64(x)), "module")


def test_local_response_norm_repr():
    assert repr(nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))


# -- affine_grid and grid_sample ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    theta = np.random.default_rng(0).standard_normal((2, 2, 3))
    for size in ((2, 3, 4, 5), (2, 1, 1, 3), (2, 1, 3, 1)):
        ours, theirs = g64(theta, grad=True), t64(theta, grad=True)
        got = F.affine_grid(ours, size, align_corners=align_corners)
        ref = TF.affine_grid(theirs, list(size), align_corners=align_corners)
        close(got, ref, f"value {size}")
        _grads([ours], [theirs], got, ref, names=["theta"])


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    rng = np.random.default_rng(["zeros", "border", "reflection"].index(padding_mode) + 3 * align_corners
                                + 6 * (mode == "nearest"))
    for in_shape, out_hw in (((2, 3, 4, 5), (3, 6)), ((1, 2, 1, 3), (2, 2)), ((1, 1, 3, 1), (4, 1))):
        x = rng.standard_normal(in_shape)
        grid = rng.uniform(-1.6, 1.6, (in_shape[0],) + out_hw + (2,))  # inside, near and far outside
        ours = [g64(x, grad=True), g64(grid, grad=True)]
        theirs = [t64(x, grad=True), t64(grid, grad=True)]
        kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        got, ref = F.grid_sample(*ours, **kw), TF.grid_sample(*theirs, **kw)
        close(got, ref, f"value {in_shape}")
        _grads(ours, theirs, got, ref, names=["input", "grid"])


def test_spatial_transformer_end_to_end():
    """affine_grid feeding grid_sample, differentiated through theta, as in a spatial transformer."""
    rng = np.random.default_rng(4)
    x, theta = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((2, 2, 3)) * 0.5
    ours = [g64(x, grad=True), g64(theta, grad=True)]
    theirs = [t64(x, grad=True), t64(theta, grad=True)]
    got = F.grid_sample(ours[0], F.affine_grid(ours[1], (2, 3, 4, 4), align_corners=False), align_corners=False)
    ref = TF.grid_sample(theirs[0], TF.affine_grid(theirs[1], [2, 3, 4, 4], align_corners=False),
                         align_corners=False)
    close(got, ref, "value")
    _grads(ours, theirs, got, ref, names=["input", "theta"])


# -- MaxUnpool ---------------------------------------------------------------------------------------------------


@SETTINGS(20)
@given(two_d=st.booleans(), kernel=st.integers(1, 3), stride=st.sampled_from([None, 1, 2, 3]),
       padding=st.integers(0, 1), batched=st.booleans(), bigger=st.booleans(), seed=st.integers(0, 9999))
def test_max_unpool(two_d, kernel, stride, padding, batched, bigger, seed):
    padding = min(padding, kernel // 2)
    x = np.random.default_rng(seed).standard_normal((2, 3, 7, 6) if two_d else (2, 3, 8))
    tpool, gpool = (TF.max_pool2d, gdl.nn.functional.max_pool2d) if two_d else (TF.max_pool1d,
                                                                                gdl.nn.functional.max_pool1d)
    pooled, t_idx = tpool(t64(x), kernel, stride, padding, return_indices=True)
    g_pooled, g_idx = gpool(g64(x), kernel, stride, padding, return_indices=True)
    close(g_pooled, pooled, "pooled")
    np.testing.assert_array_equal(g_idx.numpy(), t_idx.numpy())  # gdl's indices are torch's
    # new values, one per input position: where overlapping windows share a maximum, their copies
    # agree (torch writes such duplicates in no documented order; gdl's last one wins)
    idx = t_idx.numpy()
    table = np.random.default_rng(seed + 1).standard_normal(x.shape[:2] + (math.prod(x.shape[2:]),))
    vals = np.take_along_axis(table, idx.reshape(idx.shape[:2] + (-1,)), axis=2).reshape(idx.shape)
    if not batched:
        vals, idx = vals[0], idx[0]
    spatial = x.shape[2:]
    output_size = spatial if bigger else None  # the input's own size: within a stride of the default
    s = kernel if stride is None else stride
    default = [(d - 1) * s - 2 * padding + kernel for d in vals.shape[-len(spatial):]]
    if output_size is not None and not all(dflt - s < o < dflt + s for o, dflt in zip(output_size, default)):
        output_size = None
    if output_size is None and any(i >= math.prod(default) for i in idx.reshape(-1)):
        return  # the indices do not fit the default size (torch would reject them too)
    ours, theirs = g64(vals, grad=True), t64(vals, grad=True)
    unpool_t = TF.max_unpool2d if two_d else TF.max_unpool1d
    unpool_g = F.max_unpool2d if two_d else F.max_unpool1d
    got = unpool_g(ours, gdl.tensor(idx), kernel, stride, padding, output_size)
    ref = unpool_t(theirs, torch.tensor(idx), kernel, stride, padding, output_size)
    close(got, ref, "value")
    _grads([ours], [theirs], got, ref, seed)


def test_max_unpool_modules_and_repr():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    pooled, idx = TF.max_pool2d(t64(x), 2, return_indices=True)
    ours, theirs = nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    assert repr(ours) == repr(theirs)
    close(ours(g64(pooled.numpy()), gdl.tensor(idx.numpy())), theirs(pooled, idx), "2d")
    close(ours(g64(pooled.numpy()), gdl.tensor(idx.numpy()), output_size=(1, 2, 5, 5)),
          theirs(pooled, idx, output_size=[1, 2, 5, 5]), "2d output_size")
    x1 = x.reshape(1, 2, 16)
    pooled, idx = TF.max_pool1d(t64(x1), 3, 2, 1, return_indices=True)
    ours, theirs = nn.MaxUnpool1d(3, 2, 1), torch.nn.MaxUnpool1d(3, 2, 1)
    assert repr(ours) == repr(theirs)
    close(ours(g64(pooled.numpy()), gdl.tensor(idx.numpy())), theirs(pooled, idx), "1d")


# -- LPPool ------------------------------------------------------------------------------------------------------


@SETTINGS(20)
@given(two_d=st.booleans(), p=st.sampled_from([1, 2, 3.5, math.inf, -math.inf]),
       kernel=st.sampled_from([1, 2, 3, (2, 3)]), stride=st.sampled_from([None, 1, 2]), ceil_mode=st.booleans(),
       batched=st.booleans(), seed=st.integers(0, 9999))
def test_lp_pool(two_d, p, kernel, stride, ceil_mode, batched, seed):
    if not two_d and isinstance(kernel, tuple):
        kernel = kernel[0]
    rng = np.random.default_rng(seed)
    shape = (2, 3, 5, 7) if two_d else (2, 3, 7)
    x = rng.uniform(0.2, 2.0, shape) * (1 if p == 3.5 else rng.choice([-1.0, 1.0], shape))
    x = x if batched else x[0]
    ours, theirs = g64(x, grad=True), t64(x, grad=True)
    g_fn, t_fn = (F.lp_pool2d, TF.lp_pool2d) if two_d else (F.lp_pool1d, TF.lp_pool1d)
    got, ref = g_fn(ours, p, kernel, stride, ceil_mode), t_fn(theirs, p, kernel, stride, ceil_mode)
    close(got, ref, "value")
    if np.all(np.abs(ref.detach().numpy()) > 1e-6):  # (the p-th root has no derivative at 0)
        _grads([ours], [theirs], got, ref, seed)
    g_mod = (nn.LPPool2d if two_d else nn.LPPool1d)(p, kernel, stride, ceil_mode)
    t_mod = (torch.nn.LPPool2d if two_d else torch.nn.LPPool1d)(p, kernel, stride, ceil_mode)
    assert repr(g_mod) == repr(t_mod)
    close(g_mod(g64(x)), t_mod(t64(x)), "module")
