"""gdl.functional.inplace_extra against PyTorch 2.13: in-place math, comparisons, unfold
(values and gradients), fill_diagonal_, sum_to_size, mH/H, and what random fills accept."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402
from gdl.functional.inplace_extra import _BINARY, _UNARY  # noqa: E402

ARGS = {"cumsum": (1,), "cumprod": (0,), "tril": (-1,), "triu": (1,), "logit": (0.1,), "nan_to_num": (0.0, 9.0, -9.0)}


def _input(name, rng):
    a = rng.uniform(-0.9, 0.9, (3, 4))
    if name in ("acosh", "arccosh"):
        a = 1.1 + np.abs(a) * 3
    elif name in ("log2", "log10", "logit"):
        a = np.abs(a) + 0.05
    elif name == "nan_to_num":
        a[0, :3] = [np.nan, np.inf, -np.inf]
    elif name == "logical_not":
        a = (a > 0).astype(np.float64)
    return a


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_in_place_matches_torch(name, dtype):
    a = _input(name, np.random.default_rng(0)).astype(dtype)
    x, t = gdl.tensor(a), torch.tensor(a)
    args = ARGS.get(name, ())
    getattr(x, name + "_")(*args)
    getattr(t, name + "_")(*args)
    assert x.dtype.name == str(t.dtype).replace("torch.", "")
    rtol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_in_place_matches_torch(name):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (4,))
    b[2] = a[1, 2]
    if name == "xlogy":
        b = np.abs(b) + 0.1
    if name.startswith("logical"):
        a[0, 0], b[1] = 0.0, 0.0
    args = (0.3,) if name == "lerp" else ()
    x, t = gdl.tensor(a), torch.tensor(a)
    getattr(x, name + "_")(gdl.tensor(b), *args)
    getattr(t, name + "_")(torch.tensor(b), *args)
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-13, atol=1e-300)


def test_int_tensors_refuse_float_results_as_torch():
    for name in ("tan_", "exp2_", "log2_"):
        with pytest.raises(RuntimeError):
            getattr(torch.tensor([1, 2]), name)()
        with pytest.raises(RuntimeError):
            getattr(gdl.tensor([1, 2]), name)()
    x, t = gdl.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    x.eq_(2), t.eq_(2)
    assert x.tolist() == t.tolist() and x.dtype == gdl.int64


@pytest.mark.parametrize("shape,dim,size,step", [
    ((7,), 0, 3, 2), ((4, 6), 1, 2, 1), ((4, 6), 0, 4, 3), ((2, 3, 5), -1, 5, 1), ((2, 3, 5), 1, 1, 2),
    ((3, 4), 1, 0, 1), ((), 0, 1, 1),
])
def test_unfold_matches_torch(shape, dim, size, step):
    a = np.random.default_rng(2).normal(size=shape)
    x, t = gdl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.unfold(dim, size, step), t.unfold(dim, size, step)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(3).normal(size=tuple(yt.shape))
    (y * gdl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape", [(3, 3), (6, 2), (2, 6), (7, 3), (4, 4, 4), (1, 1)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal_matches_torch(shape, wrap):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    x, t = gdl.tensor(a), torch.tensor(a)
    x.fill_diagonal_(-5.0, wrap=wrap)
    t.fill_diagonal_(-5.0, wrap=wrap)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


@pytest.mark.parametrize("size", [(3, 1), (1, 4), (4,), (1, 1, 1), (2, 3, 4), (3, 4)])
def test_sum_to_size_matches_torch(size):
    a = np.random.default_rng(4).normal(size=(2, 3, 4))
    x, t = gdl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.sum_to_size(*size), t.sum_to_size(*size)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-14)
    y.sum().backward(), yt.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_sum_to_size_refuses_what_torch_refuses():
    for size in [(2, 4), (5,), (1, 2, 3, 4)]:
        with pytest.raises(RuntimeError):
            torch.zeros(2, 3, 4).sum_to_size(*size)
        with pytest.raises(ValueError):
            gdl.zeros(2, 3, 4).sum_to_size(*size)


def test_queries_and_transposes_match_torch():
    a = np.random.default_rng(5).normal(size=(2, 3, 4))
    x, t = gdl.tensor(a), torch.tensor(a)
    np.testing.assert_array_equal(x.mH.numpy(), t.mH.numpy())
    np.testing.assert_array_equal(x[0].H.numpy(), t[0].H.numpy())
    assert x.nelement() == t.nelement() and x.ndimension() == t.ndimension()
    for dtype in ("float32", "int64", "uint8", "bool", "int8"):
        g, tt = gdl.zeros(2, dtype=getattr(gdl, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
        assert g.is_signed() == tt.is_signed() and g.is_floating_point() == tt.is_floating_point()


def test_random_fills_accept_and_refuse_what_torch_does():
    for make in (lambda z: z.exponential_(0.0), lambda z: z.geometric_(0.0), lambda z: z.geometric_(1.5),
                 lambda z: z.cauchy_(0.0, 0.0), lambda z: z.random_(3, 3), lambda z: z.log_normal_(0.0, -1.0)):
        with pytest.raises(RuntimeError):
            make(torch.zeros(3))
        with pytest.raises(ValueError):
            make(gdl.zeros(3))
    torch.manual_seed(0)
    for dtype, top in (("float32", 2**24), ("float16", 2**11), ("uint8", 255), ("int8", 127)):
        if dtype == "float16" and gdl.get_backend() == "array_api_strict":
            continue  # the Array API standard has no float16
        drawn = torch.zeros(4000, dtype=getattr(torch, dtype)).random_()
        assert 0 <= drawn.min() and drawn.max() <= top
        ours = gdl.zeros(4000, dtype=getattr(gdl, dtype)).random_().numpy().astype(np.float64)
        assert ours.min() >= 0 and ours.max() <= top and ours.max() > top / 2
    t, g = torch.zeros(2000).random_(-2, 3), gdl.zeros(2000).random_(-2, 3)
    assert set(t.unique().tolist()) == set(np.unique(g.numpy()).tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}
