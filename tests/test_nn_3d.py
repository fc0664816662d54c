"""3-D layers on every backend: conv3d and conv_transpose3d against loop-over-taps references,
the 3-D pools against window loops, gradient checks (float64, small sizes), the modules,
and the errors."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.nn import functional as F
from gdl.testing import gradcheck

F64 = gdl.float64


def arr(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def trip(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


# -- references (NumPy, loops over the kernel taps) ------------------------------------------------


def conv3d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct definition: for each tap (i, j, l), a strided slice of the zero-padded input
    times that tap's (O/G, C/G) weight matrix, summed."""
    s, p, d = trip(stride), trip(padding), trip(dilation)
    n, c, _, _, _ = x.shape
    o, cg, kd, kh, kw = w.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]), (p[2], p[2])))
    out_sz = [(xp_.shape[2 + a] - d[a] * (k - 1) - 1) // s[a] + 1 for a, k in enumerate((kd, kh, kw))]
    out = np.zeros((n, o) + tuple(out_sz))
    og = o // groups
    for g in range(groups):
        for i, j, m in itertools.product(range(kd), range(kh), range(kw)):
            sl = xp_[:, g * cg:(g + 1) * cg,
                     i * d[0]: i * d[0] + s[0] * (out_sz[0] - 1) + 1: s[0],
                     j * d[1]: j * d[1] + s[1] * (out_sz[1] - 1) + 1: s[1],
                     m * d[2]: m * d[2] + s[2] * (out_sz[2] - 1) + 1: s[2]]
            out[:, g * og:(g + 1) * og] += np.einsum("oc,ncdhw->nodhw", w[g * og:(g + 1) * og, :, i, j, m], sl)
    if b is not None:
        out += b.reshape(1, -1, 1, 1, 1)
    return out


def conv_transpose3d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Each input voxel stamps ``x · weight[c]`` onto the output at ``i·s − p + tap·d``."""
    s, p, op, d = trip(stride), trip(padding), trip(output_padding), trip(dilation)
    n, c, din, hin, win = x.shape
    _, og, kd, kh, kw = w.shape
    cg = c // groups
    size = [(sz - 1) * s[a] - 2 * p[a] + d[a] * (k - 1) + op[a] + 1 for a, (sz, k) in
            enumerate(zip((din, hin, win), (kd, kh, kw)))]
    full = np.zeros((n, og * groups) + tuple(sz + 2 * pp + 10 for sz, pp in zip(size, p)))
    for g in range(groups):
        for i, j, m in itertools.product(range(kd), range(kh), range(kw)):
            contrib = np.einsum("ncdhw,co->nodhw", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, i, j, m])
            full[:, g * og:(g + 1) * og,
                 i * d[0]: i * d[0] + s[0] * (din - 1) + 1: s[0],
                 j * d[1]: j * d[1] + s[1] * (hin - 1) + 1: s[1],
                 m * d[2]: m * d[2] + s[2] * (win - 1) + 1: s[2]] += contrib
    out = full[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1], p[2]:p[2] + size[2]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1, 1)
    return out


def pool3d_ref(x, k, s, p, d, reduce, ceil=False, include_pad=True):
    """Window loops: ``reduce`` is "max", "sum" or "avg" (PyTorch's divisor rules)."""
    k, s, p, d = trip(k), trip(s), trip(p), trip(d)
    sizes = x.shape[2:]
    outs = []
    for a in range(3):
        span = d[a] * (k[a] - 1) + 1
        num = sizes[a] + 2 * p[a] - span
        o = (-(-num // s[a]) if ceil else num // s[a]) + 1
        if ceil and (o - 1) * s[a] >= sizes[a] + p[a]:
            o -= 1
        outs.append(o)
    out = np.zeros(x.shape[:2] + tuple(outs))
    for od, oh, ow in itertools.product(*(range(o) for o in outs)):
        starts = [o * s[a] - p[a] for a, o in enumerate((od, oh, ow))]
        pos = [[st + j * d[a] for j in range(k[a])] for a, st in enumerate(starts)]
        inside = [[q for q in ps if 0 <= q < sizes[a]] for a, ps in enumerate(pos)]
        block = x[:, :, inside[0]][:, :, :, inside[1]][:, :, :, :, inside[2]]
        if reduce == "max":
            out[:, :, od, oh, ow] = block.max(axis=(2, 3, 4))
        elif reduce == "sum":
            out[:, :, od, oh, ow] = block.sum(axis=(2, 3, 4))
        else:
            if include_pad:
                ends = [min(st + k[a], sizes[a] + p[a]) for a, st in enumerate(starts)]
                count = math.prod(e - st for e, st in zip(ends, starts))
            else:
                count = math.prod(len(q) for q in inside)
            out[:, :, od, oh, ow] = block.sum(axis=(2, 3, 4)) / count
    return out


# -- conv3d ---------------------------------------------------------------------------------------------

CONV_CASES = [
    # x shape, weight shape, kwargs
    ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), {}),
    ((1, 4, 5, 4, 6), (4, 2, 3, 2, 3), dict(stride=(2, 1, 2), padding=(1, 0, 1), groups=2)),
    ((2, 3, 6, 5, 5), (2, 3, 2, 2, 3), dict(dilation=(2, 1, 2), padding=1)),
    ((1, 2, 5, 6, 4), (4, 1, 3, 3, 1), dict(stride=(1, 2, 1), dilation=(1, 2, 1), groups=2)),
    ((1, 2, 3, 4, 5), (2, 2, 1, 1, 1), dict(stride=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
def test_conv3d_matches_loop_over_taps_reference(backend, xs, ws, kw):
    x, w, b = arr(xs, 1), arr(ws, 2), arr((ws[0],), 3)
    out = F.conv3d(t(x), t(w), t(b), **kw)
    np.testing.assert_allclose(out.numpy(), conv3d_ref(x, w, b, **kw), rtol=1e-10, atol=1e-10)
    unbatched = F.conv3d(t(x[0]), t(w), None, **kw)  # (C, D, H, W)
    np.testing.assert_allclose(unbatched.numpy(), conv3d_ref(x[:1], w, None, **kw)[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES[:4])
def test_conv3d_gradcheck(backend, xs, ws, kw):
    xs = (1,) + xs[1:]
    x, w, b = t(arr(xs, 1), True), t(arr(ws, 2), True), t(arr((ws[0],), 3), True)
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, **kw), [x, w, b])


def test_conv3d_padding_same_and_valid(backend):
    x, w = arr((1, 2, 4, 5, 3), 4), arr((2, 2, 3, 2, 2), 5)  # even kH, kW: one more zero at the end, as PyTorch
    same = F.conv3d(t(x), t(w), padding="same")
    assert same.shape == (1, 2, 4, 5, 3)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 1), (0, 1)))
    np.testing.assert_allclose(same.numpy(), conv3d_ref(padded, w), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(F.conv3d(t(x), t(w), padding="valid").numpy(), conv3d_ref(x, w), atol=1e-10)
    xg, wg = t(x[:, :, :3, :3, :2], True), t(w, True)
    assert gradcheck(lambda x, w: F.conv3d(x, w, padding="same", dilation=(1, 2, 1)), [xg, wg])


def test_conv3d_without_input_grad_still_gives_weight_and_bias_grads(backend):
    x, w, b = t(arr((1, 2, 3, 3, 3))), t(arr((2, 2, 2, 2, 2), 1), True), t(arr((2,), 2), True)
    F.conv3d(x, w, b).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(b.grad.numpy(), [8.0, 8.0])
    assert w.grad.shape == (2, 2, 2, 2, 2)


# -- conv_transpose3d ---------------------------------------------------------------------------------

TRANSPOSE_CASES = [
    ((2, 2, 3, 2, 3), (2, 3, 2, 2, 2), {}),
    ((1, 4, 2, 3, 2), (4, 2, 3, 2, 2), dict(stride=(2, 1, 2), padding=(1, 0, 0), output_padding=(1, 0, 1), groups=2)),
    ((1, 2, 2, 2, 3), (2, 2, 2, 3, 2), dict(stride=2, dilation=(2, 1, 3), output_padding=(1, 1, 0))),
    ((2, 3, 3, 2, 2), (3, 1, 1, 2, 3), dict(stride=(3, 2, 1), padding=(0, 1, 1), output_padding=(2, 1, 0))),
]


@pytest.mark.parametrize("xs,ws,kw", TRANSPOSE_CASES)
def test_conv_transpose3d_matches_reference_and_is_conv3ds_adjoint(backend, xs, ws, kw):
    x, w, b = arr(xs, 1), arr(ws, 2), arr((ws[1] * kw.get("groups", 1),), 3)
    out = F.conv_transpose3d(t(x), t(w), t(b), **kw)
    np.testing.assert_allclose(out.numpy(), conv_transpose3d_ref(x, w, b, **kw), rtol=1e-10, atol=1e-10)
    # <conv3d(y, w), x> = <y, conv_transpose3d(x, w)> for every y of the output's shape
    y = arr(out.shape, 4)
    conv_kw = {k: v for k, v in kw.items() if k != "output_padding"}
    lhs = float(np.sum(F.conv3d(t(y), t(w), **conv_kw).numpy() * x))
    rhs = float(np.sum(y * F.conv_transpose3d(t(x), t(w), **kw).numpy()))
    assert lhs == pytest.approx(rhs, rel=1e-10)


@pytest.mark.parametrize("xs,ws,kw", TRANSPOSE_CASES[1:])
def test_conv_transpose3d_gradcheck(backend, xs, ws, kw):
    xs = (1,) + xs[1:]
    x, w = t(arr(xs, 1), True), t(arr(ws, 2), True)
    b = t(arr((ws[1] * kw.get("groups", 1),), 3), True)
    assert gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, **kw), [x, w, b])
    unbatched = F.conv_transpose3d(t(arr(xs, 1)[0]), t(arr(ws, 2)), **kw)
    assert unbatched.shape == F.conv_transpose3d(t(arr(xs, 1)), t(arr(ws, 2)), **kw).shape[1:]


# -- pools ------------------------------------------------------------------------------------------------

POOL_CASES = [
    (2, None, 0, 1, False),
    ((3, 2, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1), True),
    (3, 2, 1, 1, True),
    ((2, 3, 1), 1, (1, 1, 0), (2, 1, 2), False),
]


@pytest.mark.parametrize("k,s,p,d,ceil", POOL_CASES)
def test_max_pool3d_matches_window_loops_and_gradchecks(backend, k, s, p, d, ceil):
    x = arr((2, 2, 5, 6, 5), 7)
    out, idx = F.max_pool3d(t(x), k, s, p, d, ceil, return_indices=True)
    np.testing.assert_allclose(out.numpy(), pool3d_ref(x, k, s if s is not None else k, p, d, "max", ceil))
    flat = x.reshape(2, 2, -1)
    picked = np.take_along_axis(flat, idx.numpy().reshape(2, 2, -1), axis=2).reshape(out.shape)
    np.testing.assert_array_equal(picked, out.numpy())  # each index points at its maximum
    xg = t(x[:1, :1, :4, :4, :3], True)
    assert gradcheck(lambda x: F.max_pool3d(x, k, s, p, d, ceil), [xg])


@pytest.mark.parametrize("k,s,p,_,ceil", POOL_CASES)
@pytest.mark.parametrize("include", [True, False])
def test_avg_pool3d_matches_window_loops_and_gradchecks(backend, k, s, p, _, ceil, include):
    x = arr((1, 2, 5, 6, 5), 8)
    out = F.avg_pool3d(t(x), k, s, p, ceil, include)
    np.testing.assert_allclose(out.numpy(), pool3d_ref(x, k, s if s is not None else k, p, 1, "avg", ceil, include),
                               rtol=1e-12, atol=1e-12)
    summed = F.avg_pool3d(t(x), k, s, p, ceil, include, divisor_override=1)
    np.testing.assert_allclose(summed.numpy(), pool3d_ref(x, k, s or k, p, 1, "sum", ceil), atol=1e-12)
    xg = t(x[:, :1, :4, :4, :3], True)
    assert gradcheck(lambda x: F.avg_pool3d(x, k, s, p, ceil, include), [xg])


def test_pool3d_unbatched_inputs(backend):
    x = arr((2, 4, 5, 6), 9)
    np.testing.assert_allclose(F.max_pool3d(t(x), 2).numpy(), pool3d_ref(x[None], 2, 2, 0, 1, "max")[0])
    np.testing.assert_allclose(F.avg_pool3d(t(x), 2, 1).numpy(), pool3d_ref(x[None], 2, 1, 0, 1, "avg")[0])
    out, idx = F.max_pool3d(t(x), 2, return_indices=True)
    back = F.max_unpool3d(out, idx, 2, output_size=(4, 5, 6))
    assert back.shape == (2, 4, 5, 6)
    np.testing.assert_array_equal(np.sort(back.numpy()[back.numpy() != 0]), np.sort(out.numpy().ravel()))
    assert F.adaptive_avg_pool3d(t(x), (2, 3, None)).shape == (2, 2, 3, 6)
    assert F.lp_pool3d(t(x), 2, 2).shape == (2, 2, 2, 3)


def _adaptive_ref(x, sizes, reduce):
    out = np.zeros(x.shape[:-3] + tuple(sizes))
    rng = [[(i * n // o, -(-(i + 1) * n // o)) for i in range(o)] for n, o in zip(x.shape[-3:], sizes)]
    for i, j, m in itertools.product(*(range(o) for o in sizes)):
        (a, b), (c, d), (e, f) = rng[0][i], rng[1][j], rng[2][m]
        block = x[..., a:b, c:d, e:f]
        out[..., i, j, m] = block.max(axis=(-3, -2, -1)) if reduce == "max" else block.mean(axis=(-3, -2, -1))
    return out


@pytest.mark.parametrize("size", [1, (2, 3, 4), (3, None, 2), (5, 4, 3)])
def test_adaptive_pools_match_window_loops_and_gradcheck(backend, size):
    x = arr((2, 2, 5, 4, 6), 10)
    sizes = tuple(n if o is None else o for n, o in zip(x.shape[-3:], trip(size)))
    np.testing.assert_allclose(F.adaptive_avg_pool3d(t(x), size).numpy(), _adaptive_ref(x, sizes, "avg"), atol=1e-12)
    out, idx = F.adaptive_max_pool3d(t(x), size, return_indices=True)
    np.testing.assert_allclose(out.numpy(), _adaptive_ref(x, sizes, "max"))
    picked = np.take_along_axis(x.reshape(2, 2, -1), idx.numpy().reshape(2, 2, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(out.shape), out.numpy())
    xg = t(x[:1, :1, :4, :3, :5], True)
    assert gradcheck(lambda x: F.adaptive_avg_pool3d(x, size), [xg])
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, size), [xg])


def test_adaptive_avg_pool3d_long_axis_uses_gathers_and_stays_right(backend):
    x = arr((1, 1, 300, 2, 3), 11)  # 300 -> 250 is past the averaging-matrix size limit
    xg = t(x, True)
    out = F.adaptive_avg_pool3d(xg, (250, 1, 3))
    np.testing.assert_allclose(out.numpy(), _adaptive_ref(x, (250, 1, 3), "avg"), atol=1e-12)
    g = arr(out.shape, 12)
    (out * t(g)).sum().backward()
    # the adjoint: <P x, g> = <x, Pᵀ g>
    assert float(np.sum(out.numpy() * g)) == pytest.approx(float(np.sum(x * xg.grad.numpy())), rel=1e-10)


def test_max_unpool3d_inverts_max_pool3d_and_gradchecks(backend):
    x = arr((1, 2, 4, 4, 6), 13)
    out, idx = F.max_pool3d(t(x), 2, return_indices=True)
    back = F.max_unpool3d(out, idx, 2).numpy()
    assert back.shape == x.shape
    kept = back != 0
    np.testing.assert_array_equal(back[kept], x[kept])
    assert kept.sum() == out.numpy().size
    o2, i2 = F.max_pool3d(t(arr((1, 1, 5, 4, 5), 14)), 2, return_indices=True)
    assert F.max_unpool3d(o2, i2, 2, output_size=(5, 4, 5)).shape == (1, 1, 5, 4, 5)
    og = t(out.numpy(), True)
    assert gradcheck(lambda v: F.max_unpool3d(v, idx, 2), [og])


def test_lp_pool3d_is_the_p_norm_of_each_window(backend):
    x = np.abs(arr((1, 2, 4, 4, 4), 15)) + 0.1
    out = F.lp_pool3d(t(x), 3, 2)
    ref = pool3d_ref(x ** 3, 2, 2, 0, 1, "avg") * 8
    np.testing.assert_allclose(out.numpy(), ref ** (1 / 3), rtol=1e-10)
    np.testing.assert_allclose(F.lp_pool3d(t(x), math.inf, 2).numpy(), pool3d_ref(x, 2, 2, 0, 1, "max"))
    xg = t(x[:, :1, :3, :3, :2], True)
    assert gradcheck(lambda x: F.lp_pool3d(x, 2, (2, 2, 1), 1), [xg])


# -- modules ------------------------------------------------------------------------------------------------


def test_conv3d_and_conv_transpose3d_modules(backend):
    conv = nn.Conv3d(4, 6, (3, 2, 2), stride=(1, 2, 1), padding=1, groups=2, dtype=F64)
    assert conv.weight.shape == (6, 2, 3, 2, 2) and conv.bias.shape == (6,)
    assert repr(conv) == "Conv3d(4, 6, kernel_size=(3, 2, 2), stride=(1, 2, 1), padding=(1, 1, 1), groups=2)"
    x = arr((2, 4, 4, 5, 3), 16)
    ref = conv3d_ref(x, conv.weight.numpy(), conv.bias.numpy(), (1, 2, 1), 1, 1, 2)
    np.testing.assert_allclose(conv(t(x)).numpy(), ref, atol=1e-10)
    bound = 1 / math.sqrt(2 * 3 * 2 * 2)  # PyTorch's init: U(-1/sqrt(fan_in), ...) for the bias
    assert np.all(np.abs(conv.bias.numpy()) <= bound)
    up = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1, bias=False, dtype=F64)
    assert up.weight.shape == (4, 2, 3, 3, 3) and up.bias is None
    assert up(t(arr((1, 4, 3, 2, 3)))).shape == (1, 2, 5, 3, 5)
    assert up(t(arr((1, 4, 3, 2, 3))), output_size=(6, 4, 5)).shape == (1, 2, 6, 4, 5)
    assert up(t(arr((4, 3, 2, 3))), output_size=(2, 6, 4, 5)).shape == (2, 6, 4, 5)
    with pytest.raises(ValueError, match="ConvTranspose3d: requested an output size"):
        up(t(arr((1, 4, 3, 2, 3))), output_size=(7, 4, 5))
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv3d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv3d(2, 2, 3, padding="same", stride=2)


def test_pool_and_norm_modules(backend):
    x = t(arr((2, 3, 4, 4, 4), 17))
    out, idx = nn.MaxPool3d(2, return_indices=True)(x)
    np.testing.assert_allclose(nn.MaxUnpool3d(2)(out, idx).numpy(), F.max_unpool3d(out, idx, 2).numpy())
    np.testing.assert_allclose(nn.AvgPool3d(2, divisor_override=2)(x).numpy(), F.avg_pool3d(x, 2, divisor_override=2)
                               .numpy())
    assert nn.AdaptiveAvgPool3d((1, 2, 1))(x).shape == (2, 3, 1, 2, 1)
    assert nn.AdaptiveMaxPool3d(2, return_indices=True)(x)[1].dtype == gdl.int64
    assert nn.LPPool3d(2, 2)(x).shape == (2, 3, 2, 2, 2)
    bn = nn.BatchNorm3d(3, dtype=F64)
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3, 4)), 0, atol=1e-12)
    assert sorted(bn.state_dict()) == ["bias", "num_batches_tracked", "running_mean", "running_var", "weight"]
    with pytest.raises(ValueError, match="BatchNorm3d"):
        bn(t(arr((3, 4, 4, 4))))
    inorm = nn.InstanceNorm3d(3, affine=True, dtype=F64)
    z = inorm(t(arr((3, 4, 4, 4), 18))).numpy()  # unbatched (C, D, H, W)
    np.testing.assert_allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-12)
    with pytest.raises(ValueError, match="InstanceNorm3d"):
        inorm(t(arr((3, 4, 4))))


# -- errors ------------------------------------------------------------------------------------------------


def test_errors_name_the_op_and_the_shapes(backend):
    x, w = t(arr((1, 2, 4, 4, 4))), t(arr((3, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"conv3d: expected a 5-D input .*\(2, 4, 4\)"):
        F.conv3d(t(arr((2, 4, 4))), w)
    with pytest.raises(ValueError, match=r"conv3d: expected a 5-D weight"):
        F.conv3d(x, t(arr((3, 2, 2, 2))))
    with pytest.raises(ValueError, match=r"conv3d: input of shape \(1, 2, 4, 4, 4\) has 2 channels"):
        F.conv3d(x, t(arr((3, 1, 2, 2, 2))))
    with pytest.raises(ValueError, match="divisible by groups"):
        F.conv3d(x, t(arr((3, 1, 2, 2, 2))), groups=2)
    with pytest.raises(ValueError, match=r"conv3d: the kernel .* along depth"):
        F.conv3d(x, t(arr((3, 2, 5, 2, 2))))
    with pytest.raises(ValueError, match="conv3d: padding='same' is not supported for strided"):
        F.conv3d(x, w, padding="same", stride=2)
    with pytest.raises(ValueError, match=r"conv3d: expected a bias of shape \(3,\)"):
        F.conv3d(x, w, t(arr((2,))))
    with pytest.raises(ValueError, match="conv3d: stride must be an int or a tuple of 3 ints"):
        F.conv3d(x, w, stride=(1, 2))
    with pytest.raises(ValueError, match="conv_transpose3d: output padding must be smaller"):
        F.conv_transpose3d(x, t(arr((2, 3, 2, 2, 2))), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose3d: input of shape .* has 2 channels"):
        F.conv_transpose3d(x, t(arr((3, 3, 2, 2, 2))))
    with pytest.raises(ValueError, match="max_pool3d: padding .* at most half the kernel"):
        F.max_pool3d(x, 2, padding=2)
    with pytest.raises(ValueError, match="avg_pool3d: divisor_override must be a non-zero int"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"max_pool3d: the kernel .* along width"):
        F.max_pool3d(t(arr((1, 1, 4, 4, 1))), 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool3d: output_size must be an int or a tuple of 3"):
        F.adaptive_avg_pool3d(x, (1, 2))
    with pytest.raises(ValueError, match="adaptive_max_pool3d: expected a 5-D input"):
        F.adaptive_max_pool3d(t(arr((4, 4, 4))), 1)
    out, idx = F.max_pool3d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool3d: indices must be in \[0, 64\)"):
        F.max_unpool3d(out, idx + 64, 2)
    with pytest.raises(ValueError, match="lp_pool3d: norm_type must be non-zero"):
        F.lp_pool3d(x, 0, 2)
    with pytest.raises(TypeError, match="conv3d: expected a floating-point input"):
        F.conv3d(gdl.zeros(1, 2, 4, 4, 4, dtype=gdl.int64), w)


def test_conv3d_even_same_kernel_warns_nothing_and_float32_runs(backend):
    x = gdl.randn(1, 2, 4, 4, 4)
    w = gdl.randn(3, 2, 2, 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.conv3d(x, w, padding="same")
    assert out.shape == (1, 3, 4, 4, 4) and out.dtype == gdl.float32
