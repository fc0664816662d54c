"""Cross-checks of gdl's linear-algebra and creation ops against PyTorch (skipped when
torch is not installed): forward values, dtypes and gradients (float64, tight tolerances).
Where gdl deliberately differs from torch the test asserts gdl's behaviour and says why."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + 7 * len(shape) + sum(shape)).standard_normal(shape)


def check(fg, ft, *arrays, msg=""):
    """Forward and the gradient of every input: ``fg`` on gdl tensors against ``ft`` on torch's."""
    gs = [g64(a, grad=True) for a in arrays]
    ts = [t64(a, grad=True) for a in arrays]
    y, yt = fg(*gs), ft(*ts)
    close(y, yt, msg)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (y * g64(w)).sum().backward()
    (yt * t64(w)).sum().backward()
    for i, (g, t) in enumerate(zip(gs, ts)):
        close(g.grad, t.grad, f"{msg}: grad of input {i}")


# -- products --------------------------------------------------------------------------------

PRODUCTS = {
    "mm": (gdl.mm, torch.mm, [(3, 4), (4, 2)]),
    "mm method": (lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(2, 3), (3, 5)]),
    "bmm": (gdl.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)]),
    "bmm method": (lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), [(3, 1, 2), (3, 2, 2)]),
    "mv": (gdl.mv, torch.mv, [(3, 4), (4,)]),
    "mv method": (lambda a, b: a.mv(b), lambda a, b: a.mv(b), [(2, 3), (3,)]),
    "dot": (gdl.dot, torch.dot, [(5,), (5,)]),
    "dot method": (lambda a, b: a.dot(b), lambda a, b: a.dot(b), [(3,), (3,)]),
    "outer": (gdl.outer, torch.outer, [(3,), (4,)]),
    "outer method": (lambda a, b: a.outer(b), lambda a, b: a.outer(b), [(1,), (2,)]),
    "matmul batched": (gdl.matmul, torch.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    "matmul vector": (gdl.matmul, torch.matmul, [(4,), (2, 4, 3)]),
    "kron 1-D": (gdl.kron, torch.kron, [(2,), (3,)]),
    "kron 2-D": (gdl.kron, torch.kron, [(2, 3), (3, 2)]),
    "kron mixed ranks": (gdl.kron, torch.kron, [(2,), (2, 3)]),
    "kron method": (lambda a, b: a.kron(b), lambda a, b: a.kron(b), [(2, 1, 2), (3, 2)]),
    "cross": (gdl.cross, torch.linalg.cross, [(4, 3), (4, 3)]),
    "cross broadcast": (gdl.cross, torch.linalg.cross, [(1, 3), (2, 3)]),
    "cross dim 0": (lambda a, b: gdl.cross(a, b, dim=0), lambda a, b: torch.linalg.cross(a, b, dim=0),
                    [(3, 4), (3, 4)]),
    "cross method": (lambda a, b: a.cross(b, dim=1), lambda a, b: a.cross(b, dim=1), [(2, 3, 2), (2, 3, 2)]),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products(name):
    fg, ft, shapes = PRODUCTS[name]
    check(fg, ft, *[rnd(*s, seed=i) for i, s in enumerate(shapes)], msg=name)


@SETTINGS(20)
@given(st.integers(1, 4), st.integers(0, 4), st.integers(1, 4), st.integers(1, 3))
def test_mm_and_bmm_for_drawn_shapes(n, k, m, b):
    check(gdl.mm, torch.mm, rnd(n, k), rnd(k, m, seed=1), msg="mm")
    check(gdl.bmm, torch.bmm, rnd(b, n, k), rnd(b, k, m, seed=1), msg="bmm")


ADDS = {
    "addmm": (gdl.addmm, torch.addmm, [(2, 3), (2, 4), (4, 3)]),
    "addmm broadcast input": (gdl.addmm, torch.addmm, [(3,), (2, 4), (4, 3)]),
    "baddbmm": (gdl.baddbmm, torch.baddbmm, [(2, 1, 3), (2, 2, 4), (2, 4, 3)]),
    "addmv": (gdl.addmv, torch.addmv, [(2,), (2, 4), (4,)]),
}


@pytest.mark.parametrize("name", list(ADDS))
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3.0)])
def test_add_products(name, beta, alpha):
    fg, ft, shapes = ADDS[name]
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    check(lambda *x: fg(*x, beta=beta, alpha=alpha), lambda *x: ft(*x, beta=beta, alpha=alpha), *arrays, msg=name)


def test_add_product_methods():
    arrays = [rnd(2, 3), rnd(2, 4, seed=1), rnd(4, 3, seed=2)]
    check(lambda i, a, b: i.addmm(a, b, alpha=2), lambda i, a, b: i.addmm(a, b, alpha=2), *arrays)
    arrays = [rnd(2, 1, 3), rnd(2, 2, 4, seed=1), rnd(2, 4, 3, seed=2)]
    check(lambda i, a, b: i.baddbmm(a, b, beta=0.5), lambda i, a, b: i.baddbmm(a, b, beta=0.5), *arrays)
    arrays = [rnd(2), rnd(2, 4, seed=1), rnd(4, seed=2)]
    check(lambda i, a, b: i.addmv(a, b), lambda i, a, b: i.addmv(a, b), *arrays)


def test_addmm_beta_zero_ignores_nan_like_torch():
    inp = np.full((2, 2), np.nan)
    a, b = rnd(2, 3), rnd(3, 2, seed=1)
    check(lambda i, x, y: gdl.addmm(i, x, y, beta=0), lambda i, x, y: torch.addmm(i, x, y, beta=0), inp, a, b)


@pytest.mark.parametrize("sa, sb, dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 2, 3), ([1, 0], [2, 1])), ((3, 4), (4, 3), ([-1], [0])), ((2, 3, 4), (4, 3, 2), ([2, 1], [0, 1])),
], ids=str)
def test_tensordot(sa, sb, dims):
    check(lambda a, b: gdl.tensordot(a, b, dims=dims), lambda a, b: torch.tensordot(a, b, dims=dims),
          rnd(*sa), rnd(*sb, seed=1), msg=f"tensordot {dims}")


# -- einsum ----------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(3,), (3,)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("iii", [(2, 2, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij,jk", [(2, 3), (3, 2)]),
    ("Ba,aA", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("i...,j->...", [(2, 3, 4), (5,)]),
    ("i...->i", [(2, 3, 4)]),
    ("...ij->...", [(2, 3, 4)]),
    ("i...i", [(2, 5, 2)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (2, 3, 4), (2, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,kj->ikj", [(2, 3), (4, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq, shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(eq, shapes):
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    check(lambda *x: gdl.einsum(eq, *x), lambda *x: torch.einsum(eq, *x), *arrays, msg=eq)


def test_einsum_operands_as_a_list():
    arrays = [rnd(2, 3), rnd(3, 2, seed=1)]
    check(lambda *x: gdl.einsum("ij,jk", list(x)), lambda *x: torch.einsum("ij,jk", list(x)), *arrays)


@pytest.mark.parametrize("eq, shapes", [("ij,jk->ik", [(2, 3)]), ("ij->ii", [(2, 3)]), ("ij,jk->ik", [(2, 3), (4, 2)]),
                                        ("ijk", [(2, 3)]), ("i#", [(2, 3)]), ("ij->k", [(2, 3)])])
def test_einsum_bad_equations_fail_in_both(eq, shapes):
    with pytest.raises(RuntimeError):
        torch.einsum(eq, *[torch.ones(s) for s in shapes])
    with pytest.raises(ValueError, match="einsum: "):
        gdl.einsum(eq, *[gdl.ones(*s) for s in shapes])


# -- diagonals -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, offset, d1, d2", [
    ((3, 3), 0, 0, 1), ((3, 4), 1, 0, 1), ((4, 3), -2, 0, 1), ((3, 4), 5, 0, 1), ((2, 3, 4), 1, 2, 0),
    ((2, 3, 4), -1, -1, 1), ((2, 3, 4, 2), 0, 1, 3),
], ids=str)
def test_diagonal(shape, offset, d1, d2):
    check(lambda x: gdl.diagonal(x, offset, d1, d2), lambda x: torch.diagonal(x, offset, d1, d2), rnd(*shape))
    check(lambda x: x.diagonal(offset=offset, dim1=d1, dim2=d2),
          lambda x: x.diagonal(offset=offset, dim1=d1, dim2=d2), rnd(*shape))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (1, 1)])
def test_trace(shape):
    if shape[0] > shape[1] and tuple(int(v) for v in torch.__version__.split(".")[:2]) < (2, 13):
        # torch before 2.13 strides the gradient by cols + 1 over all rows * cols entries: for (4, 2)
        # it lands on [3, 0] too, which is not on the diagonal (2.13 is right, and agrees with gdl)
        pytest.skip(f"torch {torch.__version__}'s trace backward is wrong for tall matrices")
    check(gdl.trace, torch.trace, rnd(*shape))
    check(lambda x: x.trace(), lambda x: x.trace(), rnd(*shape))


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
def test_trace_dtype(dtype):
    a = np.arange(9).reshape(3, 3)
    ours = gdl.trace(gdl.tensor(a, dtype=dtype))
    theirs = torch.trace(torch.tensor(a, dtype=getattr(torch, dtype)))
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.item() == theirs.item()


# -- where gdl differs on purpose --------------------------------------------------------------


def test_integer_times_float_matmul_gives_the_float_dtype():
    """torch refuses mixed dtypes in matmul; gdl computes in the float operand's dtype
    (as torch's own ``a.float() @ b`` would), because NumPy's answer, float64, would
    silently double the memory of a float32 model fed integer inputs."""
    a = np.array([[1, 2], [3, 4]])
    b = rnd(2, 2).astype(np.float32)
    with pytest.raises(RuntimeError):
        torch.tensor(a) @ torch.tensor(b)
    ours = gdl.tensor(a) @ gdl.tensor(b)
    assert ours.dtype == gdl.float32
    close(ours, torch.tensor(a).float() @ torch.tensor(b), rtol=1e-6, atol=1e-6)
    ints = gdl.tensor(a) @ gdl.tensor(a)
    assert ints.dtype == gdl.int64 and ints.tolist() == (torch.tensor(a) @ torch.tensor(a)).tolist()


def test_mm_method_refuses_batched_operands_as_torch():
    """``x.mm(y)`` is ``gdl.mm``: 2-D only, as torch's ``Tensor.mm``."""
    with pytest.raises(RuntimeError):
        torch.ones(2, 2, 3).mm(torch.ones(3, 4))
    with pytest.raises(ValueError, match="mm: expects 2-D"):
        gdl.ones(2, 2, 3).mm(gdl.ones(3, 4))
    with pytest.raises(ValueError, match="mm: expects 2-D"):
        gdl.mm(gdl.ones(2, 2, 3), gdl.ones(3, 4))


def test_cross_defaults_to_the_last_dimension():
    """``torch.cross``'s default ``dim=None`` takes the first axis of size 3 (deprecated, with
    a warning); gdl's default is -1, as ``torch.linalg.cross``."""
    a, b = rnd(3, 3), rnd(3, 3, seed=1)
    close(gdl.cross(g64(a), g64(b)), torch.linalg.cross(t64(a), t64(b)))
    close(gdl.cross(g64(a), g64(b)), torch.cross(t64(a), t64(b), dim=-1))


def test_cross_broadcasts_operands_of_different_ranks():
    """torch.linalg.cross wants both operands to have the same number of dimensions; gdl
    broadcasts as the Array API's ``linalg.cross`` (and NumPy) do: a (3,) vector against a
    (2, 3) batch is the (1, 3) one against it, which torch accepts."""
    a, b = rnd(3), rnd(2, 3, seed=1)
    with pytest.raises(RuntimeError):
        torch.linalg.cross(t64(a), t64(b))
    check(gdl.cross, lambda x, y: torch.linalg.cross(x[None], y), a, b)


def test_empty_is_zeros():
    """torch.empty leaves memory uninitialised; gdl's empty is zeros (the same every time)."""
    x = gdl.empty(2, 3)
    assert x.shape == tuple(torch.empty(2, 3).shape) and x.dtype == gdl.float32
    assert not x.numpy().any()
    y = gdl.empty_like(gdl.ones(4, dtype=gdl.float64))
    assert y.shape == (4,) and y.dtype == gdl.float64 and not y.numpy().any()


# -- creation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-1.5, 2.0, 8), (3, 3, 1), (0, 1, 0), (2, -7, 10), (0, 1, 2)])
def test_linspace(start, end, steps):
    ours, theirs = gdl.linspace(start, end, steps), torch.linspace(start, end, steps)
    assert ours.dtype == gdl.float32
    close(ours, theirs, rtol=1e-6, atol=1e-6)  # float32: torch may round one ulp differently
    close(gdl.linspace(start, end, steps, dtype=gdl.float64),
          torch.linspace(start, end, steps, dtype=torch.float64), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_linspace_and_logspace_integer_dtypes(dtype):
    assert gdl.linspace(-10, 10, 7, dtype=dtype).tolist() == torch.linspace(
        -10, 10, 7, dtype=getattr(torch, dtype)).tolist()
    assert gdl.linspace(0, 10, 5, dtype=dtype).tolist() == torch.linspace(0, 10, 5, dtype=getattr(torch, dtype)).tolist()
    assert gdl.logspace(-1, 2, 4, dtype=dtype).tolist() == torch.logspace(-1, 2, 4, dtype=getattr(torch, dtype)).tolist()


@pytest.mark.parametrize("start, end, steps, base", [(0, 2, 3, 10.0), (-1, 1, 5, 10.0), (0, 3, 4, 2.0), (1, 0, 3, 3.0)])
def test_logspace(start, end, steps, base):
    ours = gdl.logspace(start, end, steps, base=base)
    assert ours.dtype == gdl.float32
    close(ours, torch.logspace(start, end, steps, base=base), rtol=1e-6, atol=1e-7)
    close(gdl.logspace(start, end, steps, base=base, dtype=gdl.float64),
          torch.logspace(start, end, steps, base=base, dtype=torch.float64), rtol=1e-13, atol=0)


@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (3, 3, 5), (3, 3, -5), (1, 1, 0)])
def test_triangle_indices(row, col, offset):
    assert gdl.tril_indices(row, col, offset).tolist() == torch.tril_indices(row, col, offset).tolist()
    assert gdl.triu_indices(row, col, offset).tolist() == torch.triu_indices(row, col, offset).tolist()
    assert gdl.tril_indices(row, col, offset).dtype == gdl.int64
