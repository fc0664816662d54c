"""Transposed convolution and upsampling: conv_transpose1d/2d against a scatter-loop
reference and the adjoint identity with conv2d; interpolate against hand-computed
cases; pixel_shuffle, unfold and fold; gradient checks; modules; errors.
(The PyTorch cross-check is in test_torch_crosscheck_convtranspose_upsampling.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.testing import gradcheck

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def t64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


# -- references (host NumPy, loops) --------------------------------------------------------------


def ref_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Each input pixel stamps ``x · weight[c]`` onto the output at ``i·s + u·d − p``."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, og * groups, oh + 2 * ph, ow + 2 * pw))
    cg = c // groups
    for ci in range(c):
        g = ci // cg
        for i in range(h):
            for j in range(wd):
                for u in range(kh):
                    for v in range(kw):
                        r, q = i * sh + u * dh, j * sw + v * dw
                        if r < full.shape[2] and q < full.shape[3]:
                            full[:, g * og:(g + 1) * og, r, q] += x[:, ci, i, j, None] * w[ci, :, u, v]
    out = full[:, :, ph:ph + oh, pw:pw + ow]
    if b is not None:
        out = out + b[None, :, None, None]
    return out


@st.composite
def transpose_case(draw, max_groups=2):
    groups = draw(st.integers(1, max_groups))
    c = groups * draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    oph = draw(st.integers(0, max(sh, dh) - 1))
    opw = draw(st.integers(0, max(sw, dw) - 1))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # padding that leaves an output of at least one pixel
    ph = draw(st.integers(0, max(0, ((h - 1) * sh + dh * (kh - 1) + oph) // 2)))
    pw = draw(st.integers(0, max(0, ((w - 1) * sw + dw * (kw - 1) + opw) // 2)))
    return dict(n=draw(st.integers(1, 2)), c=c, og=og, h=h, w=w, k=(kh, kw), stride=(sh, sw), padding=(ph, pw),
                output_padding=(oph, opw), dilation=(dh, dw), groups=groups, bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def make_transpose(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    w = rng.standard_normal((case["c"], case["og"]) + case["k"])
    b = rng.standard_normal(case["og"] * case["groups"]) if case["bias"] else None
    return x, w, b


def ct_args(case):
    return (case["stride"], case["padding"], case["output_padding"], case["groups"], case["dilation"])


# -- conv_transpose2d / conv_transpose1d -----------------------------------------------------------


@SETTINGS
@given(case=transpose_case())
def test_conv_transpose2d_matches_scatter_loops(backend, case):
    x, w, b = make_transpose(case)
    out = F.conv_transpose2d(t64(x, False), t64(w, False), None if b is None else t64(b, False), *ct_args(case))
    want = ref_conv_transpose2d(x, w, b, case["stride"], case["padding"], case["output_padding"],
                                case["dilation"], case["groups"])
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(case=transpose_case())
def test_conv_transpose2d_gradcheck(backend, case):
    x, w, b = make_transpose(case)
    inputs = [t64(x), t64(w)] + ([t64(b)] if b is not None else [])
    assert gradcheck(lambda x, w, b=None: F.conv_transpose2d(x, w, b, *ct_args(case)), inputs)


@SETTINGS
@given(case=transpose_case())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(backend, case):
    """<conv2d(z, w), x> == <z, conv_transpose2d(x, w)> for the same weight and geometry, where
    ``output_padding`` makes the transposed output as large as ``z``."""
    x, w, _ = make_transpose(case)
    rng = np.random.default_rng(case["seed"] + 1)
    ct = F.conv_transpose2d(t64(x, False), t64(w, False), None, *ct_args(case))
    z = rng.standard_normal(ct.shape)
    conv = F.conv2d(t64(z, False), t64(w, False), None, case["stride"], case["padding"], case["dilation"],
                    case["groups"])
    conv = conv.numpy()[:, :, : x.shape[2], : x.shape[3]]  # output_padding >= stride: conv sees extra rows
    assert conv.shape == x.shape
    np.testing.assert_allclose(np.sum(conv * x), np.sum(z * ct.numpy()), rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_stamps_the_kernel(backend):
    x = gdl.tensor([[[[1.0, 2.0]]]])
    w = gdl.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]])
    np.testing.assert_array_equal(F.conv_transpose2d(x, w).numpy()[0, 0], [[1, 12, 20], [100, 1200, 2000]])
    np.testing.assert_array_equal(F.conv_transpose2d(x, w, stride=(1, 3)).numpy()[0, 0],
                                  [[1, 10, 0, 2, 20], [100, 1000, 0, 200, 2000]])
    # padding crops the border, output_padding adds a (zero, here) row and column at the end
    np.testing.assert_array_equal(F.conv_transpose2d(x, w, stride=2, padding=(0, 1), output_padding=1).numpy()[0, 0],
                                  [[10, 2, 20], [1000, 200, 2000], [0, 0, 0]])


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, output_padding=1), dict(dilation=2, groups=2),
                                    dict(stride=3, output_padding=2, dilation=2, padding=2)])
def test_conv_transpose1d_matches_reference_and_gradchecks(backend, kwargs):
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((2, 2 * groups, 5))
    w = rng.standard_normal((2 * groups, 3, 3))
    b = rng.standard_normal(3 * groups)
    out = F.conv_transpose1d(t64(x, False), t64(w, False), t64(b, False), **kwargs)
    s, p, op, d = (kwargs.get(k, dflt) for k, dflt in (("stride", 1), ("padding", 0), ("output_padding", 0),
                                                        ("dilation", 1)))
    want = ref_conv_transpose2d(x[:, :, None, :], w[:, :, None, :], b, (1, s), (0, p), (0, op), (1, d), groups)
    np.testing.assert_allclose(out.numpy(), want[:, :, 0, :], rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, **kwargs), [t64(x), t64(w), t64(b)])


def test_conv_transpose_without_input_grad_still_gives_weight_grad(backend):
    x = t64(np.random.default_rng(0).standard_normal((2, 3, 4, 4)), grad=False)
    w = t64(np.random.default_rng(1).standard_normal((3, 2, 3, 3)))
    F.conv_transpose2d(x, w, stride=2).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)


# -- interpolate ---------------------------------------------------------------------------------


def _interp(values, **kwargs):
    return F.interpolate(gdl.tensor(np.asarray(values, dtype=np.float64), dtype=gdl.float64), **kwargs).numpy()


def test_interpolate_nearest_hand_computed(backend):
    x = [[[0.0, 1.0, 2.0, 3.0, 4.0]]]
    np.testing.assert_array_equal(_interp(x, size=3), [[[0, 1, 3]]])  # floor(dst·5/3): leans to the start
    np.testing.assert_array_equal(_interp(x, size=3, mode="nearest-exact"), [[[0, 2, 4]]])  # centres
    np.testing.assert_array_equal(_interp(x, size=8), [[[0, 0, 1, 1, 2, 3, 3, 4]]])
    # scale_factor 1.7 gives 8 elements too, but reads with scale 1/1.7, not 5/8
    np.testing.assert_array_equal(_interp(x, scale_factor=1.7), [[[0, 0, 1, 1, 2, 2, 3, 4]]])
    np.testing.assert_array_equal(_interp(x, scale_factor=1.7, recompute_scale_factor=True),
                                  [[[0, 0, 1, 1, 2, 3, 3, 4]]])
    np.testing.assert_array_equal(_interp([[[1.0, 2.0]]], scale_factor=3), [[[1, 1, 1, 2, 2, 2]]])
    # 3-D: scale_factor 1.1 keeps 5 elements but reads floor(dst/1.1); PyTorch's 4-D kernel copies instead
    np.testing.assert_array_equal(_interp(x, scale_factor=1.1), [[[0, 0, 1, 2, 3]]])
    np.testing.assert_array_equal(_interp([x], scale_factor=(1.0, 1.1)), [[[[0, 1, 2, 3, 4]]]])
    img = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(_interp(img, scale_factor=2)[0, 0],
                                  [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]])
    np.testing.assert_array_equal(_interp(img, size=(1, 2))[0, 0], [[0, 1]])  # floor(1·3/2) = 1


def test_interpolate_linear_hand_computed(backend):
    x = [[[1.0, 3.0]]]
    # align_corners=False: src = (dst + 0.5)/2 − 0.5 = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    np.testing.assert_allclose(_interp(x, scale_factor=2, mode="linear"), [[[1, 1.5, 2.5, 3]]])
    np.testing.assert_allclose(_interp(x, size=5, mode="linear", align_corners=True), [[[1, 1.5, 2, 2.5, 3]]])
    np.testing.assert_allclose(_interp([[[1.0, 2.0, 4.0, 8.0]]], size=2, mode="linear"), [[[1.5, 6]]])
    np.testing.assert_allclose(_interp([[[1.0, 2.0, 4.0]]], size=2, mode="linear", align_corners=True), [[[1, 4]]])
    np.testing.assert_allclose(_interp(x, size=1, mode="linear", align_corners=True), [[[1]]])
    img = [[[[1.0, 2.0], [3.0, 4.0]]]]
    np.testing.assert_allclose(_interp(img, size=(3, 3), mode="bilinear", align_corners=True)[0, 0],
                               [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])
    np.testing.assert_allclose(_interp(img, size=(2, 4), mode="bilinear")[0, 0],
                               [[1, 1.25, 1.75, 2], [3, 3.25, 3.75, 4]])
    # an unchanged size copies, whatever scale_factor says
    np.testing.assert_array_equal(_interp([[[1.0, 5.0, 2.0]]], scale_factor=1.2, mode="linear"), [[[1, 5, 2]]])


INTERP_CASES = [  # (shape, kwargs)
    ((2, 2, 5), dict(size=8)),
    ((1, 2, 7), dict(size=3)),
    ((2, 1, 5), dict(scale_factor=1.7)),
    ((1, 2, 3, 4), dict(scale_factor=2)),
    ((1, 1, 4, 5), dict(size=(7, 3))),
    ((1, 1, 2, 2, 3), dict(scale_factor=(2, 1.5, 0.7))),
]


_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}
INTERP_GRAD_CASES = [(shape, kwargs, mode, corners) for shape, kwargs in INTERP_CASES
                     for mode, corners in [("nearest", None), ("nearest-exact", None), (_LINEAR[len(shape)], False),
                                           (_LINEAR[len(shape)], True)]]


@pytest.mark.parametrize("shape,kwargs,mode,align_corners", INTERP_GRAD_CASES)
def test_interpolate_gradcheck(backend, shape, kwargs, mode, align_corners):
    x = t64(np.random.default_rng(0).standard_normal(shape))
    assert gradcheck(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kwargs), [x])


def test_interpolate_nearest_gradient_counts_the_reads(backend):
    x = gdl.arange(5.0, dtype=gdl.float64).reshape(1, 1, 5).requires_grad_()
    F.interpolate(x, size=8).sum().backward()  # reads 0, 0, 1, 1, 2, 3, 3, 4
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [2, 2, 1, 2, 1])
    x.grad = None
    F.interpolate(x, size=2).sum().backward()  # reads 0, 2: the others get zero
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [1, 0, 1, 0, 0])


def test_interpolate_keeps_dtype_and_copies(backend):
    x = gdl.randn(1, 2, 3, 3)
    for mode in ("nearest", "bilinear"):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype == gdl.float32
    same = F.interpolate(x, size=(3, 3), mode="bilinear")
    np.testing.assert_array_equal(same.numpy(), x.numpy())
    assert same.data is not x.data


# -- pixel shuffle ----------------------------------------------------------------------------------


def test_pixel_shuffle_layout_round_trip_and_gradcheck(backend):
    x = np.arange(2 * 8 * 2 * 3, dtype=np.float64).reshape(2, 8, 2, 3)
    out = F.pixel_shuffle(t64(x, False), 2).numpy()
    assert out.shape == (2, 2, 4, 6)
    # out[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w]
    for c, i, j, h, w in [(0, 0, 0, 0, 0), (1, 1, 0, 1, 2), (0, 1, 1, 1, 1), (1, 0, 1, 0, 2)]:
        assert out[1, c, h * 2 + i, w * 2 + j] == x[1, c * 4 + i * 2 + j, h, w]
    np.testing.assert_array_equal(F.pixel_unshuffle(t64(out, False), 2).numpy(), x)
    five = np.random.default_rng(0).standard_normal((2, 3, 9, 2, 2))  # leading batch axes
    back = F.pixel_unshuffle(F.pixel_shuffle(t64(five, False), 3), 3)
    np.testing.assert_array_equal(back.numpy(), five)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), [t64(x[:1, :, :, :2] / 10)])
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 2), [t64(np.random.default_rng(1).standard_normal((1, 2, 4, 2)))])


# -- unfold / fold -------------------------------------------------------------------------------------


def ref_unfold(x, k, d, p, s):
    n, c, h, w = x.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ci in range(c):
        for u in range(k[0]):
            for v in range(k[1]):
                for i in range(oh):
                    for j in range(ow):
                        out[:, ci * k[0] * k[1] + u * k[1] + v, i * ow + j] = \
                            xp_[:, ci, i * s[0] + u * d[0], j * s[1] + v * d[1]]
    return out


FOLD_CASES = [((1, 1, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
              ((2, 2, 5, 4), (3, 2), (1, 2), (1, 0), (2, 1)),
              ((1, 3, 4, 6), (2, 3), (2, 1), (1, 1), (1, 3))]


@pytest.mark.parametrize("shape,k,d,p,s", FOLD_CASES)
def test_unfold_layout_fold_counts_and_gradcheck(backend, shape, k, d, p, s):
    x = np.random.default_rng(0).standard_normal(shape)
    cols = F.unfold(t64(x, False), k, d, p, s)
    want = ref_unfold(x, k, d, p, s)
    np.testing.assert_array_equal(cols.numpy(), want)
    # fold(unfold(x)) multiplies each pixel by the number of blocks that cover it
    counts = np.zeros(shape[2:])
    idx = ref_unfold(np.arange(shape[2] * shape[3], dtype=float).reshape(1, 1, *shape[2:]) + 1, k, d, p, s)
    for v in idx[0].reshape(-1):
        if v:
            counts.flat[int(v) - 1] += 1
    folded = F.fold(cols, shape[2:], k, d, p, s)
    np.testing.assert_allclose(folded.numpy(), x * counts, rtol=1e-12)
    # unbatched forms
    assert F.unfold(t64(x[0], False), k, d, p, s).shape == want.shape[1:]
    np.testing.assert_allclose(F.fold(t64(want[0], False), shape[2:], k, d, p, s).numpy(), (x * counts)[0])
    assert gradcheck(lambda t: F.unfold(t, k, d, p, s), [t64(x)])
    assert gradcheck(lambda t: F.fold(t, shape[2:], k, d, p, s), [t64(want)])


# -- modules ---------------------------------------------------------------------------------------------


def test_conv_transpose_modules_shapes_init_and_repr(backend):
    m = nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [("weight", (4, 3, 3, 2)), ("bias", (6,))]
    bound = 1 / math.sqrt(3 * 3 * 2)  # PyTorch's fan_in of a transposed weight: out/groups · kernel
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.5 * bound
    assert repr(m) == "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), " \
                      "output_padding=(1, 1), groups=2)"
    assert m(gdl.randn(2, 4, 5, 5)).shape == (2, 6, 10, 9)
    assert repr(nn.ConvTranspose2d(1, 2, 3, bias=False, dilation=2)) == \
        "ConvTranspose2d(1, 2, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), bias=False)"
    m1 = nn.ConvTranspose1d(3, 5, 4, stride=3, bias=False)
    assert m1.weight.shape == (3, 5, 4) and m1.bias is None
    assert repr(m1) == "ConvTranspose1d(3, 5, kernel_size=4, stride=3, bias=False)"
    assert m1(gdl.randn(2, 3, 6)).shape == (2, 5, 19)
    # output_size picks the output padding
    up = nn.ConvTranspose2d(2, 2, 3, stride=3, padding=1)
    x = gdl.randn(1, 2, 4, 4)
    assert up(x).shape == (1, 2, 10, 10)
    assert up(x, output_size=(12, 11)).shape == (1, 2, 12, 11)
    assert up(x, output_size=[1, 2, 11, 10]).shape == (1, 2, 11, 10)
    assert m1(gdl.randn(2, 3, 6), output_size=[21]).shape == (2, 5, 21)
    with pytest.raises(ValueError, match=r"requested an output size of \(13, 10\), but valid sizes range from "
                                         r"\(10, 10\) to \(12, 12\) \(for an input of \(4, 4\)\)"):
        up(x, output_size=(13, 10))
    out = up(x)
    out.sum().backward()
    assert up.weight.grad.shape == (2, 2, 3, 3) and up.bias.grad.shape == (2,)


def test_conv_transpose_module_float32_and_state_dict(backend):
    m = nn.ConvTranspose2d(2, 3, 2, stride=2)
    out = m(gdl.randn(1, 2, 3, 3))
    assert out.dtype == gdl.float32
    out.sum().backward()
    assert m.weight.grad.dtype == gdl.float32
    other = nn.ConvTranspose2d(2, 3, 2, stride=2)
    other.load_state_dict(m.state_dict())
    x = gdl.randn(1, 2, 3, 3)
    np.testing.assert_array_equal(other(x).numpy(), m(x).numpy())


def test_upsampling_modules_and_reprs(backend):
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear")) == "Upsample(size=(3, 4), mode='bilinear')"
    assert repr(nn.UpsamplingNearest2d(scale_factor=2)) == "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')"
    assert repr(nn.UpsamplingBilinear2d(size=5)) == "UpsamplingBilinear2d(size=5, mode='bilinear')"
    assert repr(nn.PixelShuffle(3)) == "PixelShuffle(upscale_factor=3)"
    assert repr(nn.PixelUnshuffle(2)) == "PixelUnshuffle(downscale_factor=2)"
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Fold((4, 5), 2, stride=2)) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=2)"
    x = gdl.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_allclose(nn.UpsamplingBilinear2d(size=3)(x).numpy(),
                               F.interpolate(x, size=3, mode="bilinear", align_corners=True).numpy())
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(scale_factor=2)(x).numpy()[0, 0, 1], [1, 1, 2, 2])
    assert nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True)(x).shape == (1, 1, 4, 6)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.PixelShuffle(2), nn.PixelUnshuffle(2))
    assert net(x).shape == (1, 4, 2, 2)
    cols = nn.Unfold(2, padding=1)(gdl.randn(2, 3, 4, 4))
    assert cols.shape == (2, 12, 25)
    assert nn.Fold(4, 2, padding=1)(cols).shape == (2, 3, 4, 4)
    assert list(nn.Upsample(scale_factor=2).parameters()) == []


# -- errors ---------------------------------------------------------------------------------------


def test_conv_transpose_errors(backend):
    x = gdl.randn(2, 4, 5, 5)
    w = gdl.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output padding must be smaller than either stride or "
                                         r"dilation, but got output_padding 1 with stride 1 and dilation 1"):
        F.conv_transpose2d(x, w, output_padding=1)
    F.conv_transpose2d(x, w, output_padding=1, dilation=2)  # smaller than the dilation: allowed
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected a 4-D input \(N, C, H, W\), got shape \(4, 5, 5\)"):
        F.conv_transpose2d(gdl.randn(4, 5, 5), w)
    with pytest.raises(ValueError, match=r"has 4 channels, but the weight of shape \(2, 3, 3, 3\) expects 2"):
        F.conv_transpose2d(x, gdl.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"in_channels \(4\) must be divisible by groups \(3\)"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(ValueError, match=r"bias of shape \(6,\) \(out_channels\), got \(3,\)"):
        F.conv_transpose2d(x, w, gdl.randn(3), groups=2)
    with pytest.raises(ValueError, match=r"4-D weight \(in_channels, out_channels/groups, kH, kW\)"):
        F.conv_transpose2d(x, gdl.randn(4, 3, 3))
    with pytest.raises(ValueError, match="output size is too small: it would have size -1 along height"):
        F.conv_transpose2d(gdl.randn(1, 4, 1, 5), w, padding=(2, 0))
    assert F.conv_transpose2d(gdl.randn(1, 4, 1, 5), w, padding=(1, 0)).shape == (1, 3, 1, 7)
    assert F.conv_transpose2d(gdl.randn(1, 4, 1, 5), w, padding=(1, 0), stride=(1, 2)).shape == (1, 3, 1, 11)
    assert F.conv_transpose2d(gdl.randn(1, 4, 1, 5), w, padding=(2, 0), output_padding=(1, 0),
                              dilation=(2, 1)).shape == (1, 3, 2, 7)
    with pytest.raises(ValueError, match="output size is too small: it would have size 0 along height"):
        F.conv_transpose2d(gdl.randn(1, 4, 2, 5), w, padding=(2, 0))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(TypeError, match="input is float32 but weight is float64"):
        F.conv_transpose2d(x, gdl.randn(4, 3, 3, 3, dtype=gdl.float64))
    with pytest.raises(ValueError, match=r"conv_transpose1d: expected a 3-D input \(N, C, L\)"):
        F.conv_transpose1d(x, gdl.randn(4, 3, 3))
    with pytest.raises(ValueError, match="conv_transpose1d: output padding must be smaller.*along length"):
        F.conv_transpose1d(gdl.randn(1, 4, 5), gdl.randn(4, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: in_channels \(3\) and out_channels \(4\) must both be "
                                         r"divisible by groups \(2\)"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"ConvTranspose2d: expected a 4-D input"):
        nn.ConvTranspose2d(4, 2, 3)(gdl.randn(4, 5, 5))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        nn.ConvTranspose2d(4, 2, 3)(x, output_size=(1, 2, 3))


def test_interpolate_errors(backend):
    x = gdl.randn(1, 2, 5)
    with pytest.raises(ValueError, match="interpolate: either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"only one of size or scale_factor should be defined \(got size=3 and "
                                         r"scale_factor=2\)"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes.*"
                                         "'nearest' and align_corners=True"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match=r"got a 3-D input \(shape \(1, 2, 5\)\), but bilinear mode needs 4-D"):
        F.interpolate(x, size=3, mode="bilinear")
    with pytest.raises(ValueError, match=r"but linear mode needs 3-D"):
        F.interpolate(gdl.randn(1, 1, 2, 2), size=3, mode="linear")
    with pytest.raises(ValueError, match=r"only 3-D, 4-D and 5-D inputs .* got shape \(2, 5\)"):
        F.interpolate(gdl.randn(2, 5), size=3)
    with pytest.raises(ValueError, match=r"spatial dimensions of \[5\] and output size \(3, 4\)"):
        F.interpolate(x, size=(3, 4))
    with pytest.raises(ValueError, match=r"sizes should be greater than 0.*input \(5,\) and output \(0,\)"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match="scale_factor must be positive"):
        F.interpolate(x, scale_factor=-2)
    with pytest.raises(ValueError, match="unknown mode 'cubic'"):
        F.interpolate(x, size=3, mode="cubic")
    with pytest.raises(ValueError, match="mode 'bicubic' is not implemented"):
        F.interpolate(gdl.randn(1, 1, 2, 2), size=3, mode="bicubic")
    with pytest.raises(TypeError, match="expected a gdl Tensor"):
        F.interpolate(np.zeros((1, 1, 2)), size=3)


def test_shuffle_and_fold_errors(backend):
    with pytest.raises(ValueError, match=r"pixel_shuffle expects its input's 'channel' dimension to be divisible by "
                                         r"the square of upscale_factor, but input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(gdl.randn(1, 5, 2, 2), 2)
    with pytest.raises(ValueError, match=r"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                                         r"input.size\(-2\)=3 is not divisible by 2"):
        F.pixel_unshuffle(gdl.randn(1, 1, 3, 4), 2)
    with pytest.raises(ValueError, match="pixel_unshuffle expects width"):
        F.pixel_unshuffle(gdl.randn(1, 1, 4, 3), 2)
    with pytest.raises(ValueError, match="pixel_shuffle expects a positive upscale_factor, but got 0"):
        F.pixel_shuffle(gdl.randn(1, 4, 2, 2), 0)
    with pytest.raises(ValueError, match=r"at least 3 dimensions.*shape \(4, 2\)"):
        F.pixel_shuffle(gdl.randn(4, 2), 2)
    with pytest.raises(ValueError, match=r"fold: expected size of input's dimension 1 to be divisible by the product "
                                         r"of kernel_size, but got input.size\(1\)=5 and kernel_size=\(2, 2\)"):
        F.fold(gdl.randn(1, 5, 9), 4, 2)
    with pytest.raises(ValueError, match=r"calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"):
        F.fold(gdl.randn(1, 8, 8), 4, 2)
    with pytest.raises(ValueError, match=r"unfold: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input"):
        F.unfold(gdl.randn(8, 8), 2)
    with pytest.raises(ValueError, match="unfold: the kernel .* is larger than the padded input along height"):
        F.unfold(gdl.randn(1, 1, 2, 8), 3)
