"""Cross-checks against PyTorch of GroupNorm, RMSNorm, InstanceNorm, LayerNorm(bias=False),
Embedding(max_norm, scale_grad_by_freq), adaptive pooling, AvgPool2d(divisor_override),
ParameterList and ParameterDict: outputs, gradients, running statistics and state_dict
keys/shapes, from the same weights in both (float64, tight tolerances)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import F64, SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional


def same_weights(gmod, tmod):
    """Random weights into ``tmod`` (keys and shapes must agree with gdl's), then loaded into ``gmod``."""
    ours = {k: v.shape for k, v in gmod.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tmod.state_dict().items()}
    assert ours == theirs
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in tmod.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) + (1.0 if name == "weight" else 0.0))
    gmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


def run_both(gmod, tmod, a, out_grad_seed=1):
    """Forward both on ``a``, backward the same upstream gradient; compare output,
    input gradient, parameter gradients and buffers."""
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    go, to = gmod(gx), tmod(tx)
    close(go, to, "output")
    up = np.random.default_rng(out_grad_seed).standard_normal(tuple(to.shape))
    go.backward(g64(up))
    to.backward(torch.tensor(up))
    close(gx.grad, tx.grad, "input grad")
    tparams = dict(tmod.named_parameters())
    for name, p in gmod.named_parameters():
        close(p.grad, tparams[name].grad, f"grad of {name}")
    tbufs = dict(tmod.named_buffers())
    for name, b in gmod.named_buffers():
        close(b, tbufs[name], f"buffer {name}")


# -- GroupNorm ----------------------------------------------------------------------------------------------


@SETTINGS(10)
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per=st.integers(1, 3), spatial=st.sampled_from([(), (4,), (2, 3)]),
       affine=st.booleans(), bias=st.booleans(), eps=st.sampled_from([1e-5, 0.1]), seed=st.integers(0, 99))
def test_group_norm_matches_torch(n, groups, per, spatial, affine, bias, eps, seed):
    c = groups * per
    if per * int(np.prod(spatial)) == 1:
        spatial = (2,)
    ours = nn.GroupNorm(groups, c, eps=eps, affine=affine, bias=bias, dtype=F64)
    theirs = tnn.GroupNorm(groups, c, eps=eps, affine=affine, bias=bias).double()
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    a = np.random.default_rng(seed).standard_normal((n, c) + spatial) * 3 + 1
    run_both(ours, theirs, a)
    close(F.group_norm(g64(a), groups), TF.group_norm(t64(a), groups), "functional")


def test_group_norm_errors_like_torch():
    with pytest.raises(ValueError):
        tnn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError):
        TF.group_norm(torch.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match="divisible"):  # gdl: a ValueError, naming the shape and num_groups
        F.group_norm(gdl.zeros(2, 5, 3), 2)


# -- RMSNorm ----------------------------------------------------------------------------------------------------


@SETTINGS(10)
@given(lead=st.sampled_from([(3,), (2, 3), ()]), norm=st.sampled_from([(4,), (2, 3), 5]), affine=st.booleans(),
       eps=st.sampled_from([None, 1e-3]), seed=st.integers(0, 99))
def test_rms_norm_matches_torch(lead, norm, affine, eps, seed):
    ours = nn.RMSNorm(norm, eps=eps, elementwise_affine=affine, dtype=F64)
    theirs = tnn.RMSNorm(norm, eps=eps, elementwise_affine=affine).double()
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    shape = lead + ((norm,) if isinstance(norm, int) else norm)
    a = np.random.default_rng(seed).standard_normal(shape)
    run_both(ours, theirs, a)


def test_rms_norm_default_eps_float32_matches_torch():
    a = np.zeros((2, 3), dtype=np.float32)
    a[1] = [1e-4, -2e-4, 3e-4]  # mean square 4.7e-8, near float32's epsilon 1.19e-7
    ours = F.rms_norm(gdl.tensor(a), 3).numpy()
    theirs = TF.rms_norm(torch.tensor(a), (3,)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


# -- InstanceNorm -----------------------------------------------------------------------------------------------


@SETTINGS(12)
@given(two_d=st.booleans(), batched=st.booleans(), c=st.integers(1, 3), affine=st.booleans(),
       track=st.booleans(), momentum=st.sampled_from([0.1, 0.5, None]), seed=st.integers(0, 99))
def test_instance_norm_matches_torch_train_and_eval(two_d, batched, c, affine, track, momentum, seed):
    g_cls, t_cls = (nn.InstanceNorm2d, tnn.InstanceNorm2d) if two_d else (nn.InstanceNorm1d, tnn.InstanceNorm1d)
    ours = g_cls(c, momentum=momentum, affine=affine, track_running_stats=track, dtype=F64)
    theirs = t_cls(c, momentum=momentum, affine=affine, track_running_stats=track).double()
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    rng = np.random.default_rng(seed)
    shape = ((2,) if batched else ()) + (c,) + ((3, 2) if two_d else (5,))
    for step in range(2):  # two training steps: the running statistics move twice
        run_both(ours, theirs, rng.standard_normal(shape) * 2 + 1, step)
        ours.zero_grad()
        theirs.zero_grad()
    close(ours.num_batches_tracked if track else np.array(0),
          theirs.num_batches_tracked if track else np.array(0), "num_batches_tracked")
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, rng.standard_normal(shape))


def test_instance_norm_bias_false_and_errors_like_torch():
    ours, theirs = nn.InstanceNorm1d(3, affine=True, bias=False), tnn.InstanceNorm1d(3, affine=True, bias=False)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for bad in [torch.zeros(2, 3, 4, 5), torch.zeros(3)]:
        with pytest.raises(ValueError):
            theirs(bad)
        with pytest.raises(ValueError, match="InstanceNorm1d: expected 2D"):
            ours(gdl.zeros(*bad.shape))
    with pytest.raises(ValueError):
        theirs(torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="num_features"):
        ours(gdl.zeros(2, 4, 5))


# -- LayerNorm(bias=False) ----------------------------------------------------------------------------------------


def test_layer_norm_without_bias_matches_torch():
    ours, theirs = nn.LayerNorm((2, 3), bias=False, dtype=F64), tnn.LayerNorm((2, 3), bias=False).double()
    same_weights(ours, theirs)
    assert list(ours.state_dict()) == ["weight"]
    run_both(ours, theirs, np.random.default_rng(0).standard_normal((4, 2, 3)))


# -- Embedding options --------------------------------------------------------------------------------------------


@SETTINGS(12)
@given(num=st.integers(2, 7), dim=st.integers(1, 4), max_norm=st.sampled_from([None, 0.5, 1.5]),
       norm_type=st.sampled_from([2.0, 1.0, 3.0, float("inf")]), freq=st.booleans(),
       pad=st.sampled_from([None, 0, -1]), sparse=st.booleans(), seed=st.integers(0, 99))
def test_embedding_options_match_torch(num, dim, max_norm, norm_type, freq, pad, sparse, seed):
    ours = nn.Embedding(num, dim, padding_idx=pad, max_norm=max_norm, norm_type=norm_type,
                        scale_grad_by_freq=freq, sparse=sparse, dtype=F64)
    # PyTorch refuses scale_grad_by_freq with sparse gradients ("not supported"); gdl scales the
    # row-sparse gradient the same way, so it is compared with PyTorch's dense one.
    theirs = tnn.Embedding(num, dim, padding_idx=pad, max_norm=max_norm, norm_type=norm_type,
                           scale_grad_by_freq=freq, sparse=sparse and not freq).double()
    assert repr(ours) == repr(theirs) or (sparse and freq)
    same_weights(ours, theirs)
    rng = np.random.default_rng(seed)
    for _ in range(2):
        idx = rng.integers(0, num, size=(2, 4))
        up = rng.standard_normal((2, 4, dim))
        go, to = ours(gdl.tensor(idx)), theirs(torch.tensor(idx))
        close(go, to, "output")
        close(ours.weight, theirs.weight, "weight after max_norm")
        go.backward(g64(up))
        to.backward(torch.tensor(up))
        tg = theirs.weight.grad.to_dense() if theirs.sparse else theirs.weight.grad
        close(ours.weight.grad.to_dense() if sparse else ours.weight.grad, tg, "weight grad")
        ours.zero_grad()
        theirs.zero_grad()


# -- adaptive pooling ---------------------------------------------------------------------------------------------


@SETTINGS(15)
@given(batched=st.booleans(), h=st.integers(1, 7), w=st.integers(1, 7), oh=st.sampled_from([1, 2, 3, 5, None]),
       ow=st.sampled_from([1, 2, 4, 8, None]), seed=st.integers(0, 99))
def test_adaptive_pool2d_matches_torch(batched, h, w, oh, ow, seed):
    shape = ((2,) if batched else ()) + (3, h, w)
    # a permutation: no ties, so the chosen maxima (and their gradients) are unambiguous
    a = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.25
    size = oh if ow == oh and oh is not None else (oh, ow)
    run_both(nn.AdaptiveAvgPool2d(size), tnn.AdaptiveAvgPool2d(size), a)
    run_both(nn.AdaptiveMaxPool2d(size), tnn.AdaptiveMaxPool2d(size), a)
    _, gi = F.adaptive_max_pool2d(g64(a), size, return_indices=True)
    _, ti = TF.adaptive_max_pool2d(t64(a), size, return_indices=True)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    assert repr(nn.AdaptiveAvgPool2d(size)) == repr(tnn.AdaptiveAvgPool2d(size))


@SETTINGS(10)
@given(batched=st.booleans(), length=st.integers(1, 9), out=st.integers(1, 10), seed=st.integers(0, 99))
def test_adaptive_pool1d_matches_torch(batched, length, out, seed):
    shape = ((2,) if batched else ()) + (3, length)
    a = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.25
    run_both(nn.AdaptiveAvgPool1d(out), tnn.AdaptiveAvgPool1d(out), a)
    run_both(nn.AdaptiveMaxPool1d(out), tnn.AdaptiveMaxPool1d(out), a)
    _, gi = nn.AdaptiveMaxPool1d(out, return_indices=True)(g64(a))
    _, ti = tnn.AdaptiveMaxPool1d(out, return_indices=True)(t64(a))
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


def test_adaptive_max_pool_ties_match_torch():
    a = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]]])
    _, gi = F.adaptive_max_pool2d(g64(a), (1, 2), return_indices=True)
    _, ti = TF.adaptive_max_pool2d(t64(a), (1, 2), return_indices=True)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


def test_adaptive_pool_zero_output_size_like_torch():
    assert F.adaptive_avg_pool2d(gdl.zeros(1, 2, 3, 3), 0).shape == tuple(TF.adaptive_avg_pool2d(
        torch.zeros(1, 2, 3, 3), 0).shape)


# -- AvgPool2d(divisor_override) ------------------------------------------------------------------------------------


@SETTINGS(12)
@given(k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), ceil=st.booleans(), cip=st.booleans(),
       div=st.sampled_from([None, 1, 3, -2]), h=st.integers(3, 6), seed=st.integers(0, 99))
def test_avg_pool2d_divisor_override_matches_torch(k, s, p, ceil, cip, div, h, seed):
    p = min(p, k // 2)
    a = np.random.default_rng(seed).standard_normal((2, 2, h, h + 1))
    run_both(nn.AvgPool2d(k, s, p, ceil, cip, div), tnn.AvgPool2d(k, s, p, ceil, cip, div), a)


# -- ParameterList / ParameterDict ---------------------------------------------------------------------------------


def test_parameter_containers_state_dicts_match_torch():
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([gdl.zeros(2, 3), gdl.zeros(4)])
            self.ws.append(gdl.zeros(1))
            self.d = nn.ParameterDict({"b": gdl.zeros(3), "a": gdl.zeros(2)})

    class Theirs(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ws = tnn.ParameterList([tnn.Parameter(torch.zeros(2, 3)), tnn.Parameter(torch.zeros(4))])
            self.ws.append(tnn.Parameter(torch.zeros(1)))
            self.d = tnn.ParameterDict({"b": tnn.Parameter(torch.zeros(3)), "a": tnn.Parameter(torch.zeros(2))})

    ours, theirs = Ours(), Theirs()
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    state = {k: torch.randn(v.shape) for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    for k, v in ours.state_dict().items():
        close(v, state[k], k)
    # the same layout as PyTorch's repr, with gdl's dtype names
    assert repr(ours.ws).replace("gdl.", "torch.") == repr(theirs.ws)
