"""Property-based cross-checks against PyTorch over the new ops' edge cases: shapes with 0-d,
size-0 and size-1 dimensions, negative dims, keepdim, bool and integer dtypes, gradients."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_support import SETTINGS  # noqa: E402

import gdl  # noqa: E402

DTYPES = {
    "float64": (gdl.float64, torch.float64),
    "float32": (gdl.float32, torch.float32),
    "int64": (gdl.int64, torch.int64),
    "int32": (gdl.int32, torch.int32),
    "bool": (gdl.bool_, torch.bool),
}

shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)


def _data(seed, shape, dtype):
    a = np.round(np.random.default_rng(seed).normal(size=shape) * 2)  # rounded: ties
    return a > 0 if dtype == "bool" else a


def _same(ours, theirs, msg):
    theirs = theirs.detach()
    assert ours.shape == tuple(theirs.shape), f"{msg}: shape {ours.shape} != {tuple(theirs.shape)}"
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), f"{msg}: dtype {ours.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6, atol=1e-9,
                               err_msg=msg)


def _check(name, ours_fn, theirs_fn, shape, dtype, seed, backend):
    a = _data(seed, shape, dtype)
    grad = dtype == "float64"
    t = torch.tensor(a, dtype=DTYPES[dtype][1], requires_grad=grad)
    try:
        theirs = theirs_fn(t)
    except (RuntimeError, IndexError, ValueError, TypeError):
        return  # PyTorch refuses: not compared here
    g = gdl.tensor(a, dtype=DTYPES[dtype][0], requires_grad=grad)
    ours = ours_fn(g)
    if isinstance(theirs, tuple):
        ours, theirs = ours[0], theirs[0]
    _same(ours, theirs, f"{name} {shape} {dtype} [{backend}]")
    if grad and theirs.requires_grad:
        up = np.random.default_rng(seed + 1).normal(size=tuple(theirs.shape))
        theirs.backward(torch.tensor(up))
        ours.backward(gdl.tensor(up, dtype=gdl.float64))
        ours_grad = g.grad.numpy() if g.grad is not None else np.zeros(shape)
        np.testing.assert_allclose(ours_grad, t.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=f"{name} grad {shape}")


REDUCTIONS = {
    "prod": (lambda x, d, k: gdl.prod(x, d, k), lambda x, d, k: torch.prod(x, d, k)),
    "amax": (lambda x, d, k: gdl.amax(x, d, k), lambda x, d, k: torch.amax(x, d, k)),
    "amin": (lambda x, d, k: gdl.amin(x, d, k), lambda x, d, k: torch.amin(x, d, k)),
    "nansum": (lambda x, d, k: gdl.nansum(x, d, k), lambda x, d, k: torch.nansum(x, d, k)),
    "aminmax": (lambda x, d, k: gdl.aminmax(x, dim=d, keepdim=k), lambda x, d, k: torch.aminmax(x, dim=d, keepdim=k)),
    "median": (lambda x, d, k: gdl.median(x, d, k), lambda x, d, k: torch.median(x, d, k)),
    "mode": (lambda x, d, k: gdl.mode(x, d, k), lambda x, d, k: torch.mode(x, d, k)),
    "sort": (lambda x, d, k: gdl.sort(x, d, descending=k), lambda x, d, k: torch.sort(x, dim=d, descending=k, stable=True)),
    "argsort": (lambda x, d, k: gdl.argsort(x, d, descending=k),
                lambda x, d, k: torch.argsort(x, dim=d, descending=k, stable=True)),
    "quantile": (lambda x, d, k: gdl.quantile(x, [0.25, 0.5], d, k),
                 lambda x, d, k: torch.quantile(x, torch.tensor([0.25, 0.5], dtype=x.dtype), d, k)),
}
SCANS = ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin")


@SETTINGS(40)
@given(shape=shapes, dtype=st.sampled_from(sorted(DTYPES)), op=st.sampled_from(sorted(REDUCTIONS)),
       dim=st.integers(-3, 2), keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions_match_torch(backend, shape, dtype, op, dim, keepdim, seed):
    assume(-max(len(shape), 1) <= dim < max(len(shape), 1))  # (PyTorch skips the check on some empty inputs)
    ours, theirs = REDUCTIONS[op]
    _check(op, lambda x: ours(x, dim, keepdim), lambda x: theirs(x, dim, keepdim), shape, dtype, seed, backend)


@SETTINGS(40)
@given(shape=shapes, dtype=st.sampled_from(sorted(DTYPES)), op=st.sampled_from(SCANS),
       dim=st.integers(-3, 2), seed=st.integers(0, 2**16))
def test_scans_match_torch(backend, shape, dtype, op, dim, seed):
    assume(-max(len(shape), 1) <= dim < max(len(shape), 1))
    _check(op, lambda x: getattr(gdl, op)(x, dim), lambda x: getattr(torch, op)(x, dim), shape, dtype, seed, backend)


@SETTINGS(30)
@given(shape=shapes, dtype=st.sampled_from(sorted(DTYPES)), seed=st.integers(0, 2**16),
       bound=st.sampled_from([0, 2, -1, 0.5]), is_min=st.booleans())
def test_clamp_one_side_matches_torch(backend, shape, dtype, seed, bound, is_min):
    name = "clamp_min" if is_min else "clamp_max"
    _check(name, lambda x: getattr(gdl, name)(x, bound), lambda x: getattr(torch, name)(x, bound),
           shape, dtype, seed, backend)


@SETTINGS(30)
@given(size=st.integers(0, 4), start=st.integers(-5, 5), length=st.integers(0, 5))
def test_narrow_accepts_and_refuses_as_torch(backend, size, start, length):
    try:
        theirs = torch.arange(size).narrow(0, start, length)
    except (RuntimeError, IndexError):
        with pytest.raises(IndexError, match="narrow"):
            gdl.narrow(gdl.arange(size), 0, start, length)
        return
    assert gdl.narrow(gdl.arange(size), 0, start, length).tolist() == theirs.tolist()


@SETTINGS(20)
@given(da=st.sampled_from(["int64", "int32", "bool"]), db=st.sampled_from(["int64", "int32", "bool"]),
       seed=st.integers(0, 2**16))
def test_integer_products_give_numpys_values(backend, da, db, seed):
    """PyTorch refuses mixed dtypes here; gdl promotes, and must do it on every backend."""
    a, b = _data(seed, (2, 3), da), _data(seed + 1, (3, 2), db)
    if da == db == "bool":
        return
    out = gdl.mm(gdl.tensor(a, dtype=DTYPES[da][0]), gdl.tensor(b, dtype=DTYPES[db][0]))
    np.testing.assert_array_equal(out.numpy(), a.astype(np.int64) @ b.astype(np.int64))
