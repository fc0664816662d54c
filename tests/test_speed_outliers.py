"""The faster paths for the speed outliers found by timing against PyTorch: topk by partial
selection (the backend's ``topk_indices``), scatter through ``last_writers``, the
multilabel margin loss in blocks of the target lists, and conv2d's input gradient (and
conv_transpose2d's output) through ``col2im_matmul``. Each is checked against a plain
reference on every test backend, and each backend primitive against the portable version
in ``gdl.backends.base``. Correctness only: nothing here is timed."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.backends.base import Backend

# -- topk ------------------------------------------------------------------------------------


def ref_topk(a, k, axis, largest):
    """The first ``k`` of a stable sort along ``axis`` (NaN largest), ties in index order."""
    moved = np.moveaxis(a, axis, -1)
    if largest:  # stable descending: sort the reversed row ascending, reverse back
        n = moved.shape[-1]
        order = n - 1 - np.argsort(moved[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    else:
        order = np.argsort(moved, axis=-1, kind="stable")
    idx = order[..., :k]
    return np.moveaxis(np.take_along_axis(moved, idx, -1), -1, axis), np.moveaxis(idx, -1, axis)


def topk_data(kind, shape, rng):
    if kind == "normal":
        return rng.standard_normal(shape).astype(np.float32)
    if kind == "ties":  # few distinct values: the partition must choose among equal ones
        return rng.integers(0, 3, shape).astype(np.float64)
    if kind == "nan":
        a = np.round(rng.standard_normal(shape), 1)
        a[rng.random(shape) < 0.3] = np.nan
        return a
    if kind == "mostly_nan":
        a = rng.standard_normal(shape)
        a[rng.random(shape) < 0.9] = np.nan
        return a
    if kind == "signed_zeros":
        return np.where(rng.random(shape) < 0.5, 0.0, -0.0)
    if kind == "int":
        return rng.integers(-4, 4, shape).astype(np.int64)
    return rng.integers(0, 2, shape).astype(bool)


N = 150  # along the selected axis; the shapes below have >= 4096 entries, so the NumPy
# backend takes its partition path (rows of 32 or more and 4096 entries or more)


@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "mostly_nan", "signed_zeros", "int", "bool"])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_a_stable_sort(backend, kind, largest):
    rng = np.random.default_rng(0)
    for shape, axis in (((30, N), 1), ((N, 30), 0), ((2, N, 15), 1), ((2, 15, N), -1)):
        a = topk_data(kind, shape, rng)
        for k in (0, 1, 7, N // 2, N - 2, N - 1, N):
            values, indices = gdl.topk(gdl.tensor(a), k, dim=axis, largest=largest)
            want_values, want_indices = ref_topk(a, k, axis, largest)
            assert indices.dtype == gdl.int64
            np.testing.assert_array_equal(indices.numpy(), want_indices)
            np.testing.assert_array_equal(values.numpy(), want_values)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("kind", ["normal", "ties", "nan"])
def test_topk_gradient_goes_to_the_selected_entries(backend, largest, kind):
    rng = np.random.default_rng(1)
    a = topk_data(kind, (30, N), rng)
    for k in (0, 3, N - 1, N):
        x = gdl.tensor(a, requires_grad=True)
        values, indices = gdl.topk(x, k, dim=1, largest=largest)
        g = rng.standard_normal(values.shape)
        (values * gdl.tensor(g, dtype=values.dtype)).sum().backward()
        want = np.zeros(a.shape)
        np.put_along_axis(want, indices.numpy(), g, axis=1)
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)


def test_topk_small_and_0d(backend):
    x = gdl.tensor([3.0, 1.0, 3.0, float("nan"), 2.0])
    values, indices = gdl.topk(x, 3)
    assert indices.tolist() == [3, 0, 2]
    assert gdl.topk(x, 2, largest=False).indices.tolist() == [1, 4]
    values, indices = gdl.topk(gdl.tensor(5.0), 1)
    assert values.item() == 5.0 and indices.item() == 0


@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "mostly_nan", "int"])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_indices_matches_the_portable_version(backend, kind, largest):
    be = gdl.get_backend_object(backend)
    rng = np.random.default_rng(2)
    for shape, axis in (((20, 300), 1), ((300, 20), 0), ((2, 300, 10), 1), ((300, 14), 0)):
        a = be.from_host(topk_data(kind, shape, rng))
        for k in (0, 1, 2, 50, 150, 298, 299, 300):
            got = be.to_host(be.topk_indices(a, k, axis, largest))
            want = be.to_host(Backend.topk_indices(be, a, k, axis, largest))
            np.testing.assert_array_equal(got, want)


# -- scatter ----------------------------------------------------------------------------------


def ref_scatter(a, dim, idx, src):
    """A copy of ``a`` written element by element in row-major order of ``idx`` (the last write wins)."""
    out = a.copy()
    winner = {}
    for pos in np.ndindex(*idx.shape):
        place = list(pos)
        place[dim] = idx[pos]
        out[tuple(place)] = src[pos] if isinstance(src, np.ndarray) else src
        winner[tuple(place)] = pos
    return out, winner


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("number", [False, True])
def test_scatter_last_writer_wins_with_gradients(backend, dim, number):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 3))
    ishape = (3, 4, 2) if dim != 1 else (4, 7, 3)  # dim 1: more indices than places, so duplicates
    size = a.shape[dim]
    idx = rng.integers(0, size, ishape)
    src = rng.standard_normal((4, 7, 3))
    x = gdl.tensor(a, requires_grad=True)
    s = gdl.tensor(src, requires_grad=True)
    out = gdl.scatter(x, dim, gdl.tensor(idx), 1.5 if number else s)
    used = src[tuple(slice(0, n) for n in ishape)]
    want, winner = ref_scatter(a, dim % 3, idx, 1.5 if number else used)
    np.testing.assert_array_equal(out.numpy(), want)
    g = rng.standard_normal(a.shape)
    (out * gdl.tensor(g)).sum().backward()
    gx = g.copy()
    gsrc = np.zeros(src.shape)
    for place, pos in winner.items():
        gx[place] = 0.0
        gsrc[pos] = g[place]
    np.testing.assert_array_equal(x.grad.numpy(), gx)
    if not number:
        np.testing.assert_array_equal(s.grad.numpy(), gsrc)


def test_scatter_integer_and_bool(backend):
    a = np.zeros((2, 4), dtype=np.int32)
    idx = np.array([[1, 1, 3], [0, 2, 0]])
    src = np.array([[5, 6, 7], [8, 9, 10]], dtype=np.int32)
    out = gdl.scatter(gdl.tensor(a), 1, gdl.tensor(idx), gdl.tensor(src))
    assert out.dtype == gdl.int32 and out.tolist() == [[0, 6, 0, 7], [10, 0, 9, 0]]
    flags = gdl.scatter(gdl.tensor(np.zeros((2, 4), dtype=bool)), 1, gdl.tensor(idx), True)
    assert flags.tolist() == [[False, True, False, True], [True, False, True, False]]


def test_last_writers_matches_the_portable_version(backend):
    be = gdl.get_backend_object(backend)
    rng = np.random.default_rng(4)
    for size, count in ((1, 5), (10, 0), (10, 4), (50, 200), (300, 300)):
        keys = be.from_host(rng.integers(0, size, count).astype(np.int64))
        got = be.to_host(be.last_writers(size, keys))
        want = be.to_host(Backend.last_writers(be, size, keys))
        np.testing.assert_array_equal(got, want)
        host_keys = be.to_host(keys)
        expected = np.full(size, -1)
        for i, key in enumerate(host_keys):
            expected[key] = i
        np.testing.assert_array_equal(got, expected)


# -- multilabel margin loss -------------------------------------------------------------------


def ref_multilabel_margin(x, t):
    """Per-row loss and its gradient by loops over the listed targets (duplicates count twice)."""
    x = np.atleast_2d(x)
    t = np.atleast_2d(t)
    rows, classes = x.shape
    loss = np.zeros(rows)
    grad = np.zeros(x.shape)
    for n in range(rows):
        listed = []
        for c in t[n]:
            if c < 0:
                break
            listed.append(int(c))
        others = [i for i in range(classes) if i not in listed]
        for j in listed:
            for i in others:
                z = 1.0 - x[n, j] + x[n, i]
                if z > 0:
                    loss[n] += z / classes
                    grad[n, i] += 1.0 / classes
                    grad[n, j] -= 1.0 / classes
    return loss, grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_matches_loops(backend, reduction):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 7)) * 0.8
    t = rng.integers(0, 7, (6, 7))
    t[0, 3] = -1          # three targets, the rest ignored
    t[1, 0] = -1          # none
    t[2] = t[2, 0]        # one class listed seven times
    t[3, 4:] = -1
    t[3, 1] = t[3, 0]     # a duplicate
    x_t = gdl.tensor(x, requires_grad=True)
    out = F.multilabel_margin_loss(x_t, gdl.tensor(t), reduction)
    loss, grad = ref_multilabel_margin(x, t)
    scale = 1.0 / 6 if reduction == "mean" else 1.0
    want = {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    g = rng.standard_normal(out.shape)
    (out * gdl.tensor(g)).sum().backward()
    gw = g[:, None] if reduction == "none" else g * scale
    np.testing.assert_allclose(x_t.grad.numpy(), grad * gw, rtol=1e-12, atol=1e-15)


def test_multilabel_margin_loss_1d_input(backend):
    x = gdl.tensor([0.1, 0.2, 0.4, 0.8], requires_grad=True)
    out = F.multilabel_margin_loss(x, gdl.tensor([3, 0, -1, 1]))
    loss, grad = ref_multilabel_margin(np.array([0.1, 0.2, 0.4, 0.8]), np.array([3, 0, -1, 1]))
    assert out.shape == () and abs(out.item() - loss[0]) < 1e-6
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), grad[0], rtol=1e-6)


def test_multilabel_margin_loss_in_several_blocks(backend):
    """Long target lists are taken in blocks of at most 2**22 pairs: 2 rows of 3000 classes
    with 1500 targets make 3 blocks. Checked against the all-pairs formula."""
    rng = np.random.default_rng(6)
    rows, classes = 2, 3000
    x = rng.standard_normal((rows, classes))
    t = np.full((rows, classes), -1)
    t[0, :1500] = rng.choice(classes, 1500, replace=False)
    t[1, :40] = rng.integers(0, classes, 40)
    target = np.zeros((rows, classes))
    for n in range(rows):
        for c in t[n][t[n] >= 0]:
            target[n, c] += 1
    z = 1.0 - x[:, :, None] + x[:, None, :]  # [n, j, i]
    pair = target[:, :, None] * ((target == 0)[:, None, :] & (z > 0))
    want = (pair * z).sum(axis=(1, 2)) / classes
    want_grad = (pair.sum(axis=1) - pair.sum(axis=2)) / classes
    x_t = gdl.tensor(x, requires_grad=True)
    out = F.multilabel_margin_loss(x_t, gdl.tensor(t), "sum")
    np.testing.assert_allclose(out.item(), want.sum(), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(x_t.grad.numpy(), want_grad, rtol=1e-12, atol=1e-15)


# -- grouped and depthwise convolution --------------------------------------------------------


def by_group(conv, x, w, b, groups, **kwargs):
    """``conv`` with ``groups`` done by hand: one ``groups=1`` conv per block of channels."""
    c = x.shape[1] // groups
    per = w.shape[0] // groups
    outs = []
    for g in range(groups):
        xg = x[:, g * c:(g + 1) * c]
        wg = w[g * per:(g + 1) * per]
        bg = None
        if b is not None:
            out_per = b.shape[0] // groups
            bg = b[g * out_per:(g + 1) * out_per]
        outs.append(conv(xg, wg, bg, **kwargs))
    return gdl.cat(outs, dim=1)


CONV_CASES = [  # (channels, out or out-per-group multiplier, groups, stride, padding, dilation)
    (4, 8, 2, 1, 1, 1),
    (6, 6, 3, (2, 1), (1, 2), 1),
    (4, 4, 4, 1, 1, 1),       # depthwise
    (4, 8, 4, 2, 2, 2),       # depthwise, two filters per channel
    (3, 6, 3, 1, 0, (2, 1)),
    (4, 4, 1, 2, 1, 1),
]


def conv_inputs(seed, c, o, groups, transpose=False):
    rng = np.random.default_rng(seed)
    x = gdl.tensor(rng.standard_normal((2, c, 7, 6)), requires_grad=True)
    shape = (c, o // groups, 3, 2) if transpose else (o, c // groups, 3, 2)
    w = gdl.tensor(rng.standard_normal(shape), requires_grad=True)
    b = gdl.tensor(rng.standard_normal(o), requires_grad=True)
    return x, w, b


def grads_of(out, tensors, seed):
    g = gdl.tensor(np.random.default_rng(seed).standard_normal(out.shape))
    for t in tensors:
        t.grad = None
    (out * g).sum().backward()
    return [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("c, o, groups, stride, padding, dilation", CONV_CASES)
def test_grouped_conv2d_matches_separate_convs(backend, c, o, groups, stride, padding, dilation):
    x, w, b = conv_inputs(7, c, o, groups)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    out = F.conv2d(x, w, b, groups=groups, **kwargs)
    grads = grads_of(out, (x, w, b), 8)
    ref = by_group(F.conv2d, x, w, b, groups, **kwargs)
    ref_grads = grads_of(ref, (x, w, b), 8)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c, o, groups, stride, padding, dilation", CONV_CASES)
def test_grouped_conv_transpose2d_matches_separate_convs(backend, c, o, groups, stride, padding, dilation):
    x, w, b = conv_inputs(9, c, o, groups, transpose=True)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    out = F.conv_transpose2d(x, w, b, groups=groups, **kwargs)
    grads = grads_of(out, (x, w, b), 10)
    ref = by_group(F.conv_transpose2d, x, w, b, groups, **kwargs)
    ref_grads = grads_of(ref, (x, w, b), 10)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups, m, stride, padding, dilation", [
    (1, 3, (1, 1), (0, 0), (1, 1)),
    (2, 2, (2, 1), (1, 0), (1, 2)),
    (4, 1, (1, 1), (1, 1), (1, 1)),   # one channel per group: the product path
    (4, 1, (2, 2), (2, 1), (2, 1)),
    (3, 2, (1, 2), (0, 2), (2, 2)),
])
def test_col2im_matmul_matches_the_portable_version(backend, groups, m, stride, padding, dilation):
    be = gdl.get_backend_object(backend)
    rng = np.random.default_rng(11)
    n, c, h, w, kernel = 2, 4 if groups != 3 else 6, 7, 8, (3, 2)
    oh = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    a = be.from_host(rng.standard_normal((groups, c // groups * kernel[0] * kernel[1], m)))
    b = be.from_host(rng.standard_normal((n, groups, m, oh, ow)))
    args = ((n, c, h, w), kernel, stride, padding, dilation)
    got = be.to_host(be.col2im_matmul(a, b, *args))
    want = be.to_host(Backend.col2im_matmul(be, a, b, *args))
    assert got.shape == (n, c, h, w)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
