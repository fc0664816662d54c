"""``cdist`` and batched ``searchsorted`` made fast without changing their results.

``cdist`` with ``p = 2`` follows PyTorch's ``compute_mode`` (matrix products for more
than 25 rows, by default) and has its own backward built from matrix products, so no
``(P, R, M)`` array of differences exists, forward or backward; other ``p`` take the
differences a block of rows at a time. Batched ``searchsorted`` with short rows compares
all rows at once instead of one ``searchsorted`` per row. Correctness only (values and
gradients against PyTorch and NumPy, and memory measured with ``tracemalloc``); no
timings.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import gdl
import gdl.functional.misc as misc
from gdl.functional.misc import cdist, searchsorted

MM = "use_mm_for_euclid_dist"
NO_MM = "donot_use_mm_for_euclid_dist"
IF_NECESSARY = "use_mm_for_euclid_dist_if_necessary"


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _gdl_cdist(a, b, p, mode, g):
    x, y = gdl.tensor(a, requires_grad=True), gdl.tensor(b, requires_grad=True)
    out = cdist(x, y, p, mode) if mode is not None else cdist(x, y, p)
    out.backward(gdl.tensor(g))
    return out.numpy(), x.grad.numpy(), y.grad.numpy()


def _torch_cdist(torch, a, b, p, mode, g):
    x, y = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = torch.cdist(x, y, p, compute_mode=mode or IF_NECESSARY)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), x.grad.numpy(), y.grad.numpy()


def _close(got, want, rtol, atol):
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


SHAPES = [
    ((30, 5), (40, 5)),  # more than 25 rows: the matrix-product path by default
    ((7, 4), (9, 4)),  # few rows: the differences by default
    ((2, 30, 5), (2, 27, 5)),  # batched
    ((2, 1, 30, 5), (3, 40, 5)),  # batch dimensions broadcast
    ((1, 26, 3), (4, 5, 3)),
]


@pytest.mark.parametrize("mode", [None, IF_NECESSARY, MM, NO_MM])
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cdist_p2_matches_torch_in_every_compute_mode(backend, shapes, mode):
    torch = pytest.importorskip("torch")
    a, b = _rand(shapes[0], 1), _rand(shapes[1], 2)
    g = _rand(np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2]) + (shapes[0][-2], shapes[1][-2]), 3)
    got = _gdl_cdist(a, b, 2.0, mode, g)
    want = _torch_cdist(torch, a, b, 2.0, mode, g)
    _close(got, want, rtol=1e-5, atol=1e-9)  # PyTorch's matrix-product path is not exact either


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 3.0, math.inf])
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cdist_other_p_matches_torch(backend, shapes, p):
    torch = pytest.importorskip("torch")
    a, b = _rand(shapes[0], 4), _rand(shapes[1], 5)
    g = _rand(np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2]) + (shapes[0][-2], shapes[1][-2]), 6)
    _close(_gdl_cdist(a, b, p, None, g), _torch_cdist(torch, a, b, p, None, g), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("block", [64, 1000])  # blocks of columns (a row is longer), blocks of rows
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
def test_cdist_in_many_blocks_matches_torch(backend, monkeypatch, block, p):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(misc, "_CDIST_BLOCK", block)
    a, b = _rand((2, 30, 5), 7), _rand((40, 5), 8)
    g = _rand((2, 30, 40), 9)
    got = _gdl_cdist(a, b, p, NO_MM, g)
    _close(got, _torch_cdist(torch, a, b, p, NO_MM, g), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", [None, NO_MM])
def test_cdist_of_a_set_with_itself(backend, mode):
    """Zero distances: 0 (up to the matrix product's rounding) and a finite gradient that
    agrees with PyTorch's exact one (zero for each point's distance to itself)."""
    torch = pytest.importorskip("torch")
    a = _rand((2, 30, 6), 10)
    g = _rand((2, 30, 30), 11)
    got = _gdl_cdist(a, a.copy(), 2.0, mode, g)
    want = _torch_cdist(torch, a, a.copy(), 2.0, NO_MM, g)
    assert all(np.isfinite(x).all() for x in got)
    np.testing.assert_allclose(np.diagonal(got[0], axis1=-2, axis2=-1), 0.0, atol=1e-6)
    _close(got, want, rtol=1e-5, atol=1e-6)


def test_cdist_empty_and_zero_width_inputs(backend):
    torch = pytest.importorskip("torch")
    for sa, sb, p in [((0, 5), (30, 5), 2.0), ((30, 0), (31, 0), 2.0), ((30, 0), (31, 0), math.inf),
                      ((3, 0, 4), (1, 30, 4), 2.0), ((26, 3), (0, 3), 1.0)]:
        a, b = _rand(sa, 12), _rand(sb, 13)
        g = _rand(np.broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-2]), 14)
        _close(_gdl_cdist(a, b, p, None, g), _torch_cdist(torch, a, b, p, None, g), rtol=1e-10, atol=1e-12)


def test_cdist_mm_path_is_not_thrown_off_by_an_offset(backend):
    """Points far from the origin, close to each other, in float32: ``|x|² + |y|² - 2 x·y``
    cancels badly, unless (as gdl does) both sets are first moved near the origin."""
    a = 1000.0 + _rand((40, 3), 15)
    b = 1000.0 + _rand((50, 3), 16)
    exact = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    out = cdist(gdl.tensor(a, dtype=gdl.float32), gdl.tensor(b, dtype=gdl.float32), compute_mode=MM)
    np.testing.assert_allclose(out.numpy(), exact, rtol=1e-4, atol=1e-4)


def test_cdist_float16_is_computed_in_float32():
    a, b = _rand((30, 4), 17), _rand((31, 4), 18)
    x = gdl.tensor(a, dtype=gdl.float16, requires_grad=True, backend="numpy")  # array_api_strict has no float16
    out = cdist(x, gdl.tensor(b, dtype=gdl.float16, backend="numpy"))
    assert out.dtype == gdl.float16
    exact = np.sqrt(((a.astype(np.float16).astype(np.float64)[:, None] - b.astype(np.float16)[None]) ** 2).sum(-1))
    np.testing.assert_allclose(out.numpy().astype(np.float64), exact, rtol=2e-3, atol=2e-3)
    out.sum().backward()
    assert x.grad.dtype == gdl.float16 and np.isfinite(x.grad.numpy()).all()


def test_cdist_compute_mode_is_checked(backend):
    x = gdl.ones(3, 2)
    for bad in ("use_mm", "", 1, True):
        with pytest.raises(ValueError, match="not a valid value for compute_mode"):
            cdist(x, x, compute_mode=bad)
    for ok in (None, IF_NECESSARY, MM, NO_MM):
        assert cdist(x, x, compute_mode=ok).shape == (3, 3)
    with pytest.raises(ValueError, match="do not broadcast"):
        cdist(gdl.ones(2, 3, 2), gdl.ones(4, 3, 2))


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_cdist_never_holds_all_differences(backend, monkeypatch, p):
    """(P, R, M) = (200, 300, 64) differences are 30 MiB in float64; the p = 2 path (forward
    and its own backward) holds O(P R + (P + R) M), the others one block at a time."""
    if backend not in ("numpy", "array_api_strict"):
        pytest.skip("tracemalloc sees host (NumPy) memory only")
    monkeypatch.setattr(misc, "_CDIST_BLOCK", 2**16)
    P, R, M = 200, 300, 64
    x = gdl.tensor(_rand((P, M), 19), requires_grad=True)
    y = gdl.tensor(_rand((R, M), 20), requires_grad=True)
    out = cdist(x, y, p)
    if p == 2:
        assert out.grad_fn is not None
    peak = _peak_bytes(lambda: out.sum().backward())
    full = P * R * M * 8
    assert peak < full / 6, (peak, full)
    assert _peak_bytes(lambda: cdist(x, y, p)) < full / 6
    assert x.grad.shape == (P, M) and y.grad.shape == (R, M)


def test_cdist_p2_backward_makes_no_array_of_differences(backend, monkeypatch):
    """The p = 2 backward (matrix products) with the backend's functions watched: none of
    them makes an array with P * R * M elements or more."""
    P, R, M = 40, 30, 8
    x = gdl.tensor(_rand((P, M), 21), requires_grad=True)
    y = gdl.tensor(_rand((R, M), 22), requires_grad=True)
    out = cdist(x, y)
    xp = gdl.get_backend_object(backend).xp
    largest = [0]

    def watching(fn):
        def wrapper(*args, **kwargs):
            res = fn(*args, **kwargs)
            for r in res if isinstance(res, tuple) else (res,):
                size = math.prod(getattr(r, "shape", ()) or (1,))
                largest[0] = max(largest[0], size)
            return res

        return wrapper

    for name in ("where", "sum", "matmul", "matrix_transpose", "zeros", "zeros_like", "ones_like", "astype",
                 "broadcast_to", "reshape", "concat", "stack", "expand_dims", "multiply", "subtract", "divide"):
        if hasattr(xp, name):
            monkeypatch.setattr(xp, name, watching(getattr(xp, name)))
    out.sum().backward()
    monkeypatch.undo()
    assert 0 < largest[0] < P * R * M
    assert x.grad.shape == (P, M)


# -- searchsorted ------------------------------------------------------------------------------


def _rows_reference(s, v, side):
    """One NumPy ``searchsorted`` per row: what the batched search must give."""
    rows = int(np.prod(s.shape[:-1]))
    s2, v2 = s.reshape(rows, s.shape[-1]), v.reshape(rows, v.shape[-1])
    return np.stack([np.searchsorted(s2[i], v2[i], side=side) for i in range(rows)]).reshape(v.shape)


CASES = [
    ((1000, 16), (1000, 16)),  # short rows: all rows compared at once
    ((300, 8), (300, 1)),
    ((4, 5, 3), (4, 5, 7)),
    ((50, 40), (50, 40)),  # long rows: one search per row
    ((3, 2000), (3, 5)),
]


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("shapes", CASES, ids=lambda s: f"{s[0]}-{s[1]}")
def test_batched_searchsorted_matches_torch(backend, shapes, right):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    for s, v in [
        (np.sort(rng.standard_normal(shapes[0]), -1), rng.standard_normal(shapes[1])),
        (np.sort(rng.integers(-5, 5, shapes[0]), -1), rng.integers(-6, 6, shapes[1])),  # ties
        (np.sort(rng.standard_normal(shapes[0]).astype(np.float32), -1), rng.integers(-2, 2, shapes[1])),  # mixed
    ]:
        got = searchsorted(gdl.tensor(s), gdl.tensor(v), right=right)
        want = torch.searchsorted(torch.tensor(s), torch.tensor(v), right=right)
        assert got.dtype == gdl.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        got32 = searchsorted(gdl.tensor(s), gdl.tensor(v), side="right" if right else "left", out_int32=True)
        assert got32.dtype == gdl.int32
        np.testing.assert_array_equal(got32.numpy(), want.numpy())


@pytest.mark.parametrize("side", ["left", "right"])
def test_batched_searchsorted_with_nan_inf_signed_zeros_and_bools(backend, side):
    """Special values follow NumPy's order, as the 1-d search does (NaN last, equal to NaN)."""
    rng = np.random.default_rng(24)
    specials = np.array([-np.inf, -1.0, -0.0, 0.0, 0.5, np.inf, np.nan])
    s = np.sort(rng.choice(specials, (200, 6)), -1)
    v = rng.choice(np.append(specials, 0.25), (200, 5))
    np.testing.assert_array_equal(searchsorted(gdl.tensor(s), gdl.tensor(v), side=side).numpy(),
                                  _rows_reference(s, v, side))
    sb = np.sort(rng.integers(0, 2, (100, 4)).astype(bool), -1)
    vb = rng.integers(0, 2, (100, 3)).astype(bool)
    np.testing.assert_array_equal(searchsorted(gdl.tensor(sb), gdl.tensor(vb), side=side).numpy(),
                                  _rows_reference(sb.astype(np.int8), vb.astype(np.int8), side))


def test_batched_searchsorted_in_blocks_with_a_sorter(backend, monkeypatch):
    monkeypatch.setattr(misc, "_COMPARE_BLOCK", 50)  # several blocks of rows
    rng = np.random.default_rng(25)
    raw = rng.standard_normal((37, 6))
    order = np.argsort(raw, -1)
    v = rng.standard_normal((37, 4))
    got = searchsorted(gdl.tensor(raw), gdl.tensor(v), sorter=gdl.tensor(order))
    np.testing.assert_array_equal(got.numpy(), _rows_reference(np.sort(raw, -1), v, "left"))
    empty = searchsorted(gdl.tensor(np.sort(raw, -1)), gdl.tensor(np.zeros((37, 0))))
    assert empty.shape == (37, 0)
    no_entries = searchsorted(gdl.tensor(np.zeros((37, 0))), gdl.tensor(v))
    np.testing.assert_array_equal(no_entries.numpy(), np.zeros((37, 4), dtype=np.int64))
