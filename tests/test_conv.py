"""Convolution and pooling: im2col/col2im, forward against naive loops, gradchecks,
errors, modules, an optional PyTorch cross-check and a small CNN that learns."""

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

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def t64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


# -- naive references (host NumPy, loops) ------------------------------------------------------


def ref_conv2d(x, w, b, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                patch = xp_[:, g * cg:(g + 1) * cg, i * sh: i * sh + dh * (kh - 1) + 1: dh,
                            j * sw: j * sw + dw * (kw - 1) + 1: dw]
                out[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3))
    if b is not None:
        out += b[None, :, None, None]
    return out


def ref_pool2d(x, k, s, p, kind, dilation=(1, 1), count_include_pad=True):
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp_ = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    ones = np.pad(np.ones((h, w)), ((p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - dilation[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - dilation[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * s[0], i * s[0] + dilation[0] * (k[0] - 1) + 1, dilation[0])
            cols = slice(j * s[1], j * s[1] + dilation[1] * (k[1] - 1) + 1, dilation[1])
            win = xp_[:, :, rows, cols]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                div = k[0] * k[1] if count_include_pad else ones[rows, cols].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / div
    return out


# -- strategies -------------------------------------------------------------------------------


@st.composite
def conv_case(draw, max_groups=2):
    groups = draw(st.integers(1, max_groups))
    c = groups * draw(st.integers(1, 2))
    o = groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 1))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = max(1, span_h - 2 * ph) + draw(st.integers(0, 2))  # extra 0: kernel as large as the input
    w = max(1, span_w - 2 * pw) + draw(st.integers(0, 2))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return dict(n=n, c=c, o=o, h=h, w=w, k=(kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                groups=groups, bias=bias, seed=seed)


def make_conv(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["k"])
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    return x, w, b


# -- im2col / col2im --------------------------------------------------------------------------


@SETTINGS
@given(case=conv_case(max_groups=1), pad_value=st.sampled_from([0.0, -np.inf]))
def test_im2col_matches_naive_windows_and_col2im_is_its_adjoint(backend, case, pad_value):
    be = gdl.get_backend_object(backend)
    x, _, _ = make_conv(case)
    args = (case["k"], case["stride"], case["padding"], case["dilation"])
    cols = be.to_host(be.im2col(be.from_host(x), *args, pad_value))
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = args
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    oh, ow = cols.shape[4], cols.shape[5]
    assert oh == (x.shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    assert ow == (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    for i in range(kh):
        for j in range(kw):
            want = xp_[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
            np.testing.assert_array_equal(cols[:, :, i, j], want)
    # <im2col(x), y> == <x, col2im(y)> (with zero padding)
    y = np.random.default_rng(1).standard_normal(cols.shape)
    cols0 = be.to_host(be.im2col(be.from_host(x), *args, 0.0))
    back = be.to_host(be.col2im(be.from_host(y), x.shape, *args))
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols0 * y), np.sum(x * back), rtol=1e-10)


# -- conv2d / conv1d --------------------------------------------------------------------------


@SETTINGS
@given(case=conv_case())
def test_conv2d_forward_matches_naive_loops(backend, case):
    x, w, b = make_conv(case)
    out = F.conv2d(t64(x, False), t64(w, False), None if b is None else t64(b, False),
                   case["stride"], case["padding"], case["dilation"], case["groups"])
    want = ref_conv2d(x, w, b, case["stride"], case["padding"], case["dilation"], case["groups"])
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(case=conv_case())
def test_conv2d_gradcheck(backend, case):
    x, w, b = make_conv(case)
    inputs = [t64(x), t64(w)] + ([t64(b)] if b is not None else [])

    def fn(x, w, b=None):
        return F.conv2d(x, w, b, case["stride"], case["padding"], case["dilation"], case["groups"])

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize(
    "shape,k,kwargs",
    [
        ((1, 1, 4, 4), (1, 1), {}),  # 1x1 kernel, batch 1
        ((1, 2, 3, 4), (3, 4), {}),  # kernel as large as the input: one output pixel
        ((2, 2, 3, 3), (3, 3), dict(padding=1, stride=2)),
        ((1, 4, 5, 5), (2, 2), dict(groups=4, dilation=2)),  # depthwise
    ],
)
def test_conv2d_gradcheck_edge_cases(backend, shape, k, kwargs):
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    x = t64(rng.standard_normal(shape))
    w = t64(rng.standard_normal((2 * groups, shape[1] // groups) + k))
    b = t64(rng.standard_normal(2 * groups))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), [x, w, b])


def test_conv2d_without_input_grad_skips_col2im_and_still_gives_weight_grad(backend):
    x = t64(np.random.default_rng(0).standard_normal((2, 1, 6, 6)), grad=False)
    w = t64(np.random.default_rng(1).standard_normal((3, 1, 3, 3)))
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 1, 3, 3)


def test_conv2d_padding_same_and_valid(backend):
    x = gdl.randn(1, 2, 7, 6)
    w = gdl.randn(3, 2, 3, 5)
    assert F.conv2d(x, w, padding="same").shape == (1, 3, 7, 6)
    assert F.conv2d(x, w, padding="valid").shape == (1, 3, 5, 2)
    with pytest.raises(ValueError, match="odd effective kernel"):
        F.conv2d(x, gdl.randn(3, 2, 2, 2), padding="same")


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 2), k=st.integers(1, 3), s=st.integers(1, 2),
       p=st.integers(0, 1), d=st.integers(1, 2), extra=st.integers(0, 2), seed=st.integers(0, 999))
def test_conv1d_matches_conv2d_reference_and_gradchecks(backend, n, c, k, s, p, d, extra, seed):
    rng = np.random.default_rng(seed)
    length = max(1, d * (k - 1) + 1 - 2 * p) + extra
    x = rng.standard_normal((n, c, length))
    w = rng.standard_normal((2, c, k))
    b = rng.standard_normal(2)
    out = F.conv1d(t64(x, False), t64(w, False), t64(b, False), stride=s, padding=p, dilation=d)
    want = ref_conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, s), (0, p), (1, d), 1)[:, :, 0, :]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=s, padding=p, dilation=d), [t64(x), t64(w), t64(b)])


# -- pooling ------------------------------------------------------------------------------------


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = None if draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = max(1, kh - 2 * ph) + draw(st.integers(0, 3))
    w = max(1, kw - 2 * pw) + draw(st.integers(0, 3))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w), k=(kh, kw), stride=stride,
                padding=(ph, pw), seed=draw(st.integers(0, 2**16)))


@SETTINGS
@given(case=pool_case())
def test_max_pool2d_forward_and_gradcheck(backend, case):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])  # no ties (almost surely)
    out = F.max_pool2d(t64(x, False), case["k"], case["stride"], case["padding"])
    stride = case["stride"] or case["k"]
    np.testing.assert_array_equal(out.numpy(), ref_pool2d(x, case["k"], stride, case["padding"], "max"))
    assert gradcheck(lambda t: F.max_pool2d(t, case["k"], case["stride"], case["padding"]), [t64(x)])


@SETTINGS
@given(case=pool_case(), include=st.booleans())
def test_avg_pool2d_forward_and_gradcheck(backend, case, include):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])
    out = F.avg_pool2d(t64(x, False), case["k"], case["stride"], case["padding"], count_include_pad=include)
    stride = case["stride"] or case["k"]
    want = ref_pool2d(x, case["k"], stride, case["padding"], "avg", count_include_pad=include)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.avg_pool2d(t, case["k"], case["stride"], case["padding"], count_include_pad=include),
                     [t64(x)])


def test_max_pool2d_dilation_matches_reference(backend):
    x = np.random.default_rng(3).standard_normal((1, 2, 7, 6))
    out = F.max_pool2d(t64(x, False), 2, stride=1, padding=1, dilation=2)
    np.testing.assert_array_equal(out.numpy(), ref_pool2d(x, (2, 2), (1, 1), (1, 1), "max", dilation=(2, 2)))


def test_max_pool_ties_send_gradient_to_the_first_maximum(backend):
    x = gdl.ones(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()  # non-overlapping windows: top-left of each wins
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], want)
    x = gdl.ones(1, 1, 3, 3, requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # overlapping: each window picks its own top-left
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    # a tie between a later element and an earlier one still goes to the earlier one
    x = gdl.tensor([[[[1.0, 5.0], [5.0, 2.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_pool1d(backend):
    x = np.random.default_rng(0).standard_normal((2, 3, 7))
    out = F.max_pool1d(t64(x, False), 3, stride=2, padding=1)
    want = ref_pool2d(x[:, :, None, :], (1, 3), (1, 2), (0, 1), "max")[:, :, 0, :]
    np.testing.assert_array_equal(out.numpy(), want)
    out = F.avg_pool1d(t64(x, False), 2)
    np.testing.assert_allclose(out.numpy(), (x[:, :, 0:6:2] + x[:, :, 1:6:2]) / 2)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1), [t64(x)])
    assert gradcheck(lambda t: F.avg_pool1d(t, 2, 1, 1), [t64(x)])


# -- errors -------------------------------------------------------------------------------------


def test_conv_and_pool_errors_name_shapes(backend):
    x = gdl.randn(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\), got shape \(3, 5, 5\)"):
        F.conv2d(gdl.randn(3, 5, 5), gdl.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(2, 3, 5, 5\) has 3 channels.*\(4, 2, 3, 3\).*expects 2"):
        F.conv2d(x, gdl.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"larger than the padded input along height \(5 \+ 2·0 = 5\)"):
        F.conv2d(x, gdl.randn(4, 3, 6, 3))
    with pytest.raises(ValueError, match="spans 7.*along height"):
        F.conv2d(x, gdl.randn(4, 3, 3, 3), dilation=3, padding=(0, 1))  # the width fits, the height not
    with pytest.raises(ValueError, match=r"divisible by groups \(2\)"):
        F.conv2d(x, gdl.randn(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"bias of shape \(4,\), got \(3,\)"):
        F.conv2d(x, gdl.randn(4, 3, 3, 3), gdl.randn(3))
    with pytest.raises(ValueError, match="4-D weight"):
        F.conv2d(x, gdl.randn(4, 3, 3))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(x, gdl.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"expected a 3-D input \(N, C, L\)"):
        F.conv1d(x, gdl.randn(4, 3, 3))
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\), got shape \(2, 3, 5\)"):
        F.max_pool2d(gdl.randn(2, 3, 5), 2)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.avg_pool2d(x, 6)
    with pytest.raises(ValueError, match=r"divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(2, 1, 5, 5\) has 1 channels"):
        conv(gdl.randn(2, 1, 5, 5))


# -- modules ---------------------------------------------------------------------------------


def test_modules_shapes_names_and_init(backend):
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert [(n, p.shape) for n, p in conv.named_parameters()] == [("weight", (6, 2, 3, 2)), ("bias", (6,))]
    bound = 1 / math.sqrt(2 * 3 * 2)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert conv(gdl.randn(2, 4, 9, 9)).shape == (2, 6, 5, 5)
    c1 = nn.Conv1d(3, 5, 4, bias=False)
    assert c1.weight.shape == (5, 3, 4) and c1.bias is None
    assert c1(gdl.randn(2, 3, 10)).shape == (2, 5, 7)
    assert nn.MaxPool2d(2)(gdl.randn(1, 1, 5, 5)).shape == (1, 1, 2, 2)
    assert nn.AvgPool2d(3, stride=1, padding=1)(gdl.randn(1, 1, 5, 5)).shape == (1, 1, 5, 5)
    assert nn.MaxPool1d(2)(gdl.randn(1, 2, 5)).shape == (1, 2, 2)
    assert nn.AvgPool1d(2)(gdl.randn(1, 2, 5)).shape == (1, 2, 2)
    assert "kernel_size=(3, 2)" in repr(conv)


def test_float32_stays_float32(backend):
    conv = nn.Conv2d(1, 2, 3)
    out = F.max_pool2d(conv(gdl.randn(2, 1, 6, 6)), 2)
    assert out.dtype == gdl.float32
    out.sum().backward()
    assert conv.weight.grad.dtype == gdl.float32


# -- PyTorch cross-check (optional) ---------------------------------------------------------------


def test_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 2))
    b = rng.standard_normal(6)
    kw = dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2)

    gx, gw, gb = t64(x), t64(w), t64(b)
    y = F.conv2d(gx, gw, gb, **kw)
    y = F.max_pool2d(y, 2, stride=1, padding=1) + F.avg_pool2d(y, 3, stride=2, padding=1)[..., :1, :1]
    (y * y).sum().backward()

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    ty = torch.nn.functional.max_pool2d(ty, 2, stride=1, padding=1) + \
        torch.nn.functional.avg_pool2d(ty, 3, stride=2, padding=1)[..., :1, :1]
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10)
    for ours, theirs in ((gx, tx), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-10)

    # the module's state dict loads into PyTorch's unchanged
    conv = nn.Conv2d(4, 6, (3, 2), **kw)
    tconv = torch.nn.Conv2d(4, 6, (3, 2), **kw).double()
    tconv.load_state_dict({k: torch.tensor(v.numpy()).double() for k, v in conv.state_dict().items()})
    xin = rng.standard_normal((1, 4, 9, 8)).astype(np.float32)
    np.testing.assert_allclose(conv(gdl.tensor(xin)).numpy(), tconv(torch.tensor(xin).double()).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


# -- a small CNN learns -----------------------------------------------------------------------------


def _sgd(model, lr):
    for p in model.parameters():
        p.data = p.data - lr * p.grad.data
        p.grad = None


def test_small_cnn_learns_which_quadrant_is_bright(backend):
    rng = np.random.default_rng(0)
    n = 64
    labels = rng.integers(0, 4, n)
    images = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.5
    for i, q in enumerate(labels):
        r, c = divmod(int(q), 2)
        images[i, 0, 4 * r: 4 * r + 4, 4 * c: 4 * c + 4] += 1.0
    x, y = gdl.tensor(images), gdl.tensor(labels)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16, 4),
    )
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        _sgd(model, 0.5)
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses
    accuracy = (model(x).numpy().argmax(axis=1) == labels).mean()
    assert accuracy > 0.9


POOL_CASES = [  # (input H, W), kernel, stride, padding: ceil_mode adds a last, partial window
    ((5, 7), 2, 2, 0),
    ((6, 6), 3, 2, 1),
    ((7, 5), (3, 2), (2, 3), (1, 0)),
    ((4, 4), 2, 2, 0),  # divides evenly: ceil_mode changes nothing
    ((5, 5), 3, 3, 1),  # the rule that the last window must start inside: PyTorch gives 2, not 3
]


@pytest.mark.parametrize("size,k,s,p", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg", "avg_exclude"])
def test_pool_ceil_mode_gradcheck(backend, size, k, s, p, kind):
    x = t64(np.random.default_rng(0).standard_normal((2, 2) + size))
    if kind == "max":
        fn = lambda t: F.max_pool2d(t, k, s, p, ceil_mode=True)  # noqa: E731
    else:
        fn = lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=True, count_include_pad=kind == "avg")  # noqa: E731
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("size,k,s,p", POOL_CASES)
def test_pool_ceil_mode_and_indices_match_pytorch(size, k, s, p):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + size)
    with gdl.use_backend("numpy"):
        out, idx = F.max_pool2d(t64(x, False), k, s, p, ceil_mode=True, return_indices=True)
        tout, tidx = tf.max_pool2d(torch.tensor(x), k, s, p, ceil_mode=True, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), tout.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        assert idx.dtype == gdl.int64
        for include in (True, False):
            got = F.avg_pool2d(t64(x, False), k, s, p, ceil_mode=True, count_include_pad=include)
            want = tf.avg_pool2d(torch.tensor(x), k, s, p, ceil_mode=True, count_include_pad=include)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
        # 1-D, and the layer forms
        x1 = rng.standard_normal((2, 3, size[1]))
        k1, s1, p1 = (k if isinstance(k, int) else k[1]), (s if isinstance(s, int) else s[1]), \
            (p if isinstance(p, int) else p[1])
        o1, i1 = nn.MaxPool1d(k1, s1, p1, return_indices=True, ceil_mode=True)(t64(x1, False))
        to1, ti1 = tf.max_pool1d(torch.tensor(x1), k1, s1, p1, ceil_mode=True, return_indices=True)
        np.testing.assert_array_equal(o1.numpy(), to1.numpy())
        np.testing.assert_array_equal(i1.numpy(), ti1.numpy())
        a1 = nn.AvgPool1d(k1, s1, p1, ceil_mode=True)(t64(x1, False))
        np.testing.assert_allclose(a1.numpy(), tf.avg_pool1d(torch.tensor(x1), k1, s1, p1, ceil_mode=True).numpy())


def test_max_pool_indices_point_at_the_maxima(backend):
    x = gdl.randn(2, 3, 6, 5)
    out, idx = nn.MaxPool2d(2, ceil_mode=True, return_indices=True)(x)
    assert out.shape == idx.shape == (2, 3, 3, 3) and "ceil_mode=True" in repr(nn.MaxPool2d(2, ceil_mode=True))
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), axis=2),
                                  out.numpy().reshape(2, 3, -1))
