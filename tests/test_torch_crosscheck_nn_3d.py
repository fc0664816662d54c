"""Cross-checks against PyTorch of the 3-D layers: conv3d, conv_transpose3d, the 3-D pools
(values, input/weight/bias gradients, pooling indices) and the modules (state_dict keys and
shapes, outputs from the same weights), float64, tight tolerances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import close, g64, t64  # noqa: E402

import gdl  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402

TF = torch.nn.functional
TOL = dict(rtol=1e-9, atol=1e-10)


def arr(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def both(gfn, tfn, arrays, seed=99, indices=False):
    """Run ``gfn`` on gdl tensors and ``tfn`` on torch tensors of ``arrays``; compare the output,
    (the indices,) and every input's gradient for one random upstream gradient."""
    gs, ts = [g64(a, grad=True) for a in arrays], [t64(a, grad=True) for a in arrays]
    go, to = gfn(*gs), tfn(*ts)
    if indices:
        (go, gi), (to, ti) = go, to
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    close(go, to, "output", **TOL)
    up = arr(tuple(to.shape), seed)
    (go * g64(up)).sum().backward()
    (to * t64(up)).sum().backward()
    for k, (g, tt) in enumerate(zip(gs, ts)):
        close(g.grad, tt.grad, f"gradient of input {k}", **TOL)


CONV = [
    ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), {}),
    ((1, 4, 5, 4, 6), (4, 2, 3, 2, 3), dict(stride=(2, 1, 2), padding=(1, 0, 1), groups=2)),
    ((2, 3, 6, 5, 5), (2, 3, 2, 2, 3), dict(dilation=(2, 1, 2), padding=1)),
    ((1, 2, 5, 6, 4), (4, 1, 3, 3, 1), dict(stride=(1, 2, 1), dilation=(1, 2, 1), groups=2)),
    ((1, 2, 3, 4, 5), (2, 2, 1, 1, 1), dict(stride=2)),
    ((2, 3, 3, 3, 3), (6, 1, 3, 3, 3), dict(padding="same", groups=3)),
    ((1, 2, 4, 5, 3), (2, 2, 2, 3, 2), dict(padding="same")),  # even kernels: PyTorch pads the end
    ((1, 2, 5, 4, 5), (3, 2, 2, 2, 2), dict(padding="same", dilation=(1, 3, 2))),
    ((1, 2, 4, 4, 4), (2, 2, 3, 3, 3), dict(padding="valid", stride=3)),
    ((2, 4, 4, 4, 4), (4, 1, 2, 2, 2), dict(stride=2, padding=(0, 1, 1), groups=4)),
]


@pytest.mark.parametrize("xs,ws,kw", CONV)
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d_matches_torch(xs, ws, kw, bias):
    arrays = [arr(xs, 1), arr(ws, 2)] + ([arr((ws[0],), 3)] if bias else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on even 'same' kernels
        both(lambda *a: F.conv3d(*a, **kw) if bias else F.conv3d(a[0], a[1], **kw),
             lambda *a: TF.conv3d(*a, **kw) if bias else TF.conv3d(a[0], a[1], **kw), arrays)


def test_conv3d_unbatched_matches_torch():
    both(lambda x, w, b: F.conv3d(x, w, b, padding=1, stride=(1, 2, 1)),
         lambda x, w, b: TF.conv3d(x, w, b, padding=1, stride=(1, 2, 1)),
         [arr((2, 4, 5, 3), 4), arr((3, 2, 3, 2, 2), 5), arr((3,), 6)])


TRANSPOSE = [
    ((2, 2, 3, 2, 3), (2, 3, 2, 2, 2), {}),
    ((1, 4, 2, 3, 2), (4, 2, 3, 2, 2), dict(stride=(2, 1, 2), padding=(1, 0, 0), output_padding=(1, 0, 1), groups=2)),
    ((1, 2, 2, 2, 3), (2, 2, 2, 3, 2), dict(stride=2, dilation=(2, 1, 3), output_padding=(1, 1, 0))),
    ((2, 3, 3, 2, 2), (3, 1, 1, 2, 3), dict(stride=(3, 2, 1), padding=(0, 1, 1), output_padding=(2, 1, 0))),
    ((1, 4, 2, 2, 2), (4, 1, 3, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=4)),
    ((1, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(dilation=2, padding=1, output_padding=(1, 0, 1), stride=1)),
]


@pytest.mark.parametrize("xs,ws,kw", TRANSPOSE)
def test_conv_transpose3d_matches_torch(xs, ws, kw):
    o = ws[1] * kw.get("groups", 1)
    both(lambda x, w, b: F.conv_transpose3d(x, w, b, **kw), lambda x, w, b: TF.conv_transpose3d(x, w, b, **kw),
         [arr(xs, 1), arr(ws, 2), arr((o,), 3)])
    both(lambda x, w: F.conv_transpose3d(x, w, **kw), lambda x, w: TF.conv_transpose3d(x, w, **kw),
         [arr(xs[1:], 4), arr(ws, 5)])  # unbatched, no bias


POOL = [
    (2, None, 0, 1, False),
    ((3, 2, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1), True),
    (3, 2, 1, 1, True),
    ((2, 3, 1), 1, (1, 1, 0), (2, 1, 2), False),
    (3, (3, 2, 2), 1, 1, True),
    ((1, 2, 3), (1, 2, 2), (0, 1, 1), 1, True),
]


@pytest.mark.parametrize("k,s,p,d,ceil", POOL)
def test_max_pool3d_values_indices_and_gradients_match_torch(k, s, p, d, ceil):
    both(lambda x: F.max_pool3d(x, k, s, p, d, ceil, True), lambda x: TF.max_pool3d(x, k, s, p, d, ceil, True),
         [arr((2, 2, 7, 6, 5), 7)], indices=True)
    both(lambda x: F.max_pool3d(x, k, s, p, d, ceil, True), lambda x: TF.max_pool3d(x, k, s, p, d, ceil, True),
         [arr((2, 7, 6, 5), 8)], indices=True)


@pytest.mark.parametrize("k,s,p,_,ceil", POOL)
@pytest.mark.parametrize("include,override", [(True, None), (False, None), (False, 5)])
def test_avg_pool3d_matches_torch(k, s, p, _, ceil, include, override):
    both(lambda x: F.avg_pool3d(x, k, s, p, ceil, include, override),
         lambda x: TF.avg_pool3d(x, k, s, p, ceil, include, override), [arr((1, 2, 7, 6, 5), 9)])


@pytest.mark.parametrize("size", [1, (2, 3, 4), (None, 4, 2), (3, None, None), (7, 6, 5), (5, 4, 3)])
def test_adaptive_pools_match_torch(size):
    x = arr((2, 3, 7, 6, 5), 10)
    both(lambda x: F.adaptive_avg_pool3d(x, size), lambda x: TF.adaptive_avg_pool3d(x, size), [x])
    both(lambda x: F.adaptive_max_pool3d(x, size, True), lambda x: TF.adaptive_max_pool3d(x, size, True), [x],
         indices=True)
    both(lambda x: F.adaptive_max_pool3d(x, size, True), lambda x: TF.adaptive_max_pool3d(x, size, True), [x[0]],
         indices=True)


@pytest.mark.parametrize("p,k,s,ceil", [(2, 2, None, False), (3, (2, 3, 2), (1, 2, 2), True), (1.5, 3, 2, True)])
def test_lp_pool3d_matches_torch(p, k, s, ceil):
    x = np.abs(arr((1, 2, 6, 7, 5), 11)) + 0.1
    both(lambda x: F.lp_pool3d(x, p, k, s, ceil), lambda x: TF.lp_pool3d(x, p, k, s, ceil), [x])


@pytest.mark.parametrize("xs,k,s,p,size", [((2, 2, 4, 6, 4), 2, None, 0, None), ((2, 2, 7, 6, 5), 3, 2, 1, (7, 6, 5)),
                                           ((1, 2, 4, 7, 5), (2, 3, 2), (2, 2, 1), 0, (2, 1, 4, 7, 5))])
def test_max_unpool3d_matches_torch(xs, k, s, p, size):
    out, idx = TF.max_pool3d(t64(arr(xs, 12)), k, s, p, return_indices=True)
    both(lambda v: F.max_unpool3d(v, gdl.tensor(idx.numpy()), k, s, p, size),
         lambda v: TF.max_unpool3d(v, idx, k, s, p, size), [out.numpy()])


def same_weights(gmod, tmod):
    ours = {k: tuple(v.shape) for k, v in gmod.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tmod.state_dict().items()}
    assert ours == theirs
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    gmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


@pytest.mark.parametrize("make,xs", [
    (lambda m: m.Conv3d(4, 6, (3, 2, 2), stride=(1, 2, 1), padding=1, groups=2), (2, 4, 4, 5, 3)),
    (lambda m: m.Conv3d(2, 3, 2, padding="same", bias=False), (1, 2, 3, 4, 3)),
    (lambda m: m.ConvTranspose3d(4, 2, 3, stride=2, padding=1, output_padding=(1, 0, 1), groups=2), (1, 4, 3, 2, 3)),
    (lambda m: m.BatchNorm3d(3), (2, 3, 3, 4, 2)),
    (lambda m: m.InstanceNorm3d(3, affine=True, track_running_stats=True), (2, 3, 3, 4, 2)),
    (lambda m: m.InstanceNorm3d(3), (3, 3, 4, 2)),
])
def test_modules_state_dict_keys_and_outputs_match_torch(make, xs):
    tmod = make(torch.nn).double()
    gmod = make(nn).to(dtype=gdl.float64)
    same_weights(gmod, tmod)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(gmod, tmod, [arr(xs, 13)])
    for k, v in tmod.state_dict().items():  # running statistics updated alike
        close(gmod.state_dict()[k], v.detach().numpy(), k, **TOL)
    gmod.eval()
    tmod.eval()
    close(gmod(g64(arr(xs, 14))), tmod(t64(arr(xs, 14))), "eval", **TOL)


def test_conv_transpose3d_output_size_matches_torch():
    tmod, gmod = torch.nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 2), padding=1).double(), nn.ConvTranspose3d(
        2, 3, 3, stride=(2, 3, 2), padding=1, dtype=gdl.float64)
    same_weights(gmod, tmod)
    x = arr((1, 2, 3, 2, 3), 15)
    for size in [(6, 5, 5), (5, 6, 6), (1, 3, 6, 4, 6)]:
        close(gmod(g64(x), output_size=size), tmod(t64(x), output_size=size), str(size), **TOL)


def test_pool_modules_match_torch():
    x = arr((2, 3, 6, 5, 4), 16)
    for name, args, kwargs in [("MaxPool3d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
                               ("AvgPool3d", ((2, 3, 2),), dict(count_include_pad=False, padding=1)),
                               ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
                               ("AdaptiveMaxPool3d", (2,), {}),
                               ("LPPool3d", (2, 2), {})]:
        gm, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert sorted(gm.state_dict()) == sorted(tm.state_dict()) == []
        xx = np.abs(x) + 0.1 if name == "LPPool3d" else x
        close(gm(g64(xx)), tm(t64(xx)), name, **TOL)
