"""Linear-algebra and creation ops (gdl.functional.linalg, linspace & co. in gdl.tensor):
values against NumPy or hand-computed numbers, gradients by finite differences, shapes,
dtypes and errors, on every selected backend (the ``backend`` fixture)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
from gdl.backends.base import Backend
from gdl.testing import gradcheck

F64 = gdl.float64
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def t64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def close(got, want, rtol=1e-10, atol=1e-12):
    got = got.numpy() if isinstance(got, gdl.Tensor) else np.asarray(got)
    want = want.numpy() if isinstance(want, gdl.Tensor) else np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- plain matrix products ------------------------------------------------------------------

PRODUCTS = {
    "mm": (gdl.mm, np.matmul, [(2, 3), (3, 4)]),
    "bmm": (gdl.bmm, np.matmul, [(2, 3, 4), (2, 4, 2)]),
    "mv": (gdl.mv, np.matmul, [(3, 4), (4,)]),
    "dot": (gdl.dot, np.dot, [(5,), (5,)]),
    "outer": (gdl.outer, np.outer, [(3,), (4,)]),
    "matmul": (gdl.matmul, np.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_values_and_gradients(backend, name):
    fn, ref, shapes = PRODUCTS[name]
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    xs = [t64(a) for a in arrays]
    close(fn(*xs), ref(*arrays))
    assert gradcheck(fn, xs)


def test_products_by_hand(backend):
    a = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert gdl.mm(a, a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert gdl.mv(a, gdl.tensor([1.0, 1.0])).tolist() == [3.0, 7.0]
    assert gdl.dot(gdl.tensor([1.0, 2.0]), gdl.tensor([3.0, 4.0])).item() == 11.0
    assert gdl.outer(gdl.tensor([1.0, 2.0]), gdl.tensor([3.0, 4.0])).tolist() == [[3.0, 4.0], [6.0, 8.0]]
    assert gdl.bmm(gdl.stack([a, a]), gdl.stack([a, a])).tolist() == [[[7.0, 10.0], [15.0, 22.0]]] * 2


def test_product_gradients_by_hand(backend):
    a = gdl.tensor([1.0, 2.0], requires_grad=True)
    b = gdl.tensor([3.0, 4.0, 5.0], requires_grad=True)
    gdl.outer(a, b).sum().backward()
    assert a.grad.tolist() == [12.0, 12.0] and b.grad.tolist() == [3.0, 3.0, 3.0]
    m = gdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = gdl.tensor([1.0, -1.0], requires_grad=True)
    gdl.mv(m, v).sum().backward()
    assert m.grad.tolist() == [[1.0, -1.0], [1.0, -1.0]] and v.grad.tolist() == [4.0, 6.0]


PRODUCT_ERRORS = [
    (lambda: gdl.mm(gdl.ones(2, 3, 4), gdl.ones(4, 5)), r"mm: expects 2-D and 2-D.*\(2, 3, 4\)"),
    (lambda: gdl.mm(gdl.ones(3), gdl.ones(3, 2)), r"mm: expects 2-D"),
    (lambda: gdl.mm(gdl.ones(2, 3), gdl.ones(4, 2)), r"mm: shapes \(2, 3\) and \(4, 2\).*inner dimensions 3 and 4"),
    (lambda: gdl.bmm(gdl.ones(2, 3), gdl.ones(3, 2)), r"bmm: expects 3-D"),
    (lambda: gdl.bmm(gdl.ones(2, 2, 3), gdl.ones(3, 3, 2)), r"bmm: batch sizes differ"),
    (lambda: gdl.bmm(gdl.ones(2, 2, 3), gdl.ones(2, 4, 2)), r"bmm: .*inner dimensions 3 and 4"),
    (lambda: gdl.mv(gdl.ones(2, 3), gdl.ones(2)), r"mv: .*inner dimensions 3 and 2"),
    (lambda: gdl.mv(gdl.ones(2, 3), gdl.ones(3, 1)), r"mv: expects 2-D and 1-D"),
    (lambda: gdl.dot(gdl.ones(2), gdl.ones(3)), r"dot: .*different lengths"),
    (lambda: gdl.dot(gdl.ones(2, 2), gdl.ones(2, 2)), r"dot: expects 1-D"),
    (lambda: gdl.outer(gdl.ones(2, 2), gdl.ones(2)), r"outer: expects 1-D"),
]


@pytest.mark.parametrize("case", range(len(PRODUCT_ERRORS)))
def test_product_errors(backend, case):
    fn, pattern = PRODUCT_ERRORS[case]
    with pytest.raises(ValueError, match=pattern):
        fn()


def test_mm_refuses_a_number(backend):
    with pytest.raises(TypeError, match="mm: expected a tensor"):
        gdl.mm(gdl.ones(2, 2), 3.0)


@pytest.mark.parametrize("fn", [gdl.matmul, gdl.mm, lambda a, b: a @ b, lambda a, b: b @ a])
def test_integer_times_float_gives_the_float_dtype(backend, fn):
    i = gdl.tensor([[1, 2], [3, 4]])
    f = gdl.tensor([[0.5, 1.0], [1.5, 2.0]])
    assert fn(i, f).dtype == gdl.float32
    close(fn(i, f), fn(i.to(gdl.float32), f))
    assert fn(i, f.double()).dtype == gdl.float64
    assert fn(i, i).dtype == gdl.int64
    assert fn(i, i).tolist() == [[7, 10], [15, 22]]


def test_integer_operand_beside_a_float_one_that_needs_grad(backend):
    w = gdl.tensor([[1.0], [2.0]], requires_grad=True)
    x = gdl.tensor([[1, 2], [3, 4]])
    (x @ w).sum().backward()
    assert w.grad.dtype == gdl.float32 and w.grad.tolist() == [[4.0], [6.0]]
    for fn, args in ((gdl.outer, ([1, 2], [0.5])), (gdl.dot, ([1, 2], [0.5, 0.25])), (gdl.mv, ([[1, 2]], [0.5, 1.0]))):
        a, b = gdl.tensor(args[0]), gdl.tensor(args[1])
        assert fn(a, b).dtype == gdl.float32 and fn(b if fn is gdl.dot else a, a if fn is gdl.dot else b).dtype == (
            gdl.float32)


def test_methods(backend):
    a, b = gdl.ones(2, 3), gdl.ones(3, 4)
    assert a.mm(b).shape == (2, 4) and gdl.ones(2, 2, 3).bmm(gdl.ones(2, 3, 1)).shape == (2, 2, 1)
    assert a.mv(gdl.ones(3)).shape == (2,) and gdl.ones(3).dot(gdl.ones(3)).item() == 3.0
    assert gdl.ones(2).outer(gdl.ones(3)).shape == (2, 3)
    assert gdl.zeros(2, 4).addmm(a, b).tolist() == [[3.0] * 4] * 2
    assert gdl.zeros(2, 2, 4).baddbmm(gdl.ones(2, 2, 3), gdl.ones(2, 3, 4)).shape == (2, 2, 4)
    assert gdl.zeros(2).addmv(a, gdl.ones(3)).tolist() == [3.0, 3.0]
    assert gdl.eye(3).trace().item() == 3.0 and gdl.eye(3).diagonal().tolist() == [1.0] * 3
    assert gdl.ones(2).kron(gdl.ones(3)).shape == (6,)
    assert gdl.tensor([1.0, 0.0, 0.0]).cross(gdl.tensor([0.0, 1.0, 0.0])).tolist() == [0.0, 0.0, 1.0]


# -- addmm, baddbmm, addmv -------------------------------------------------------------------

ADDS = {
    "addmm": (gdl.addmm, [(3,), (2, 4), (4, 3)], lambda i, a, b: i + a @ b),
    "addmm_full": (gdl.addmm, [(2, 3), (2, 4), (4, 3)], lambda i, a, b: i + a @ b),
    "baddbmm": (gdl.baddbmm, [(2, 1, 3), (2, 2, 4), (2, 4, 3)], lambda i, a, b: i + a @ b),
    "addmv": (gdl.addmv, [(1,), (2, 4), (4,)], lambda i, a, b: i + a @ b),
}


@pytest.mark.parametrize("name", list(ADDS))
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_add_products(backend, name, beta, alpha):
    fn, shapes, ref = ADDS[name]
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    xs = [t64(a) for a in arrays]
    want = beta * arrays[0] + alpha * (arrays[1] @ arrays[2])
    close(fn(*xs, beta=beta, alpha=alpha), want)
    assert gradcheck(lambda i, a, b: fn(i, a, b, beta=beta, alpha=alpha), xs)


def test_addmm_with_beta_zero_ignores_nan_and_gives_zero_input_gradient(backend):
    inp = gdl.tensor([[float("nan"), 1.0], [2.0, 3.0]], requires_grad=True)
    out = gdl.addmm(inp, gdl.eye(2), gdl.ones(2, 2), beta=0)
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    out.sum().backward()
    assert inp.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_add_product_errors(backend):
    with pytest.raises(ValueError, match=r"addmm: input of shape \(3, 2, 2\) does not broadcast"):
        gdl.addmm(gdl.ones(3, 2, 2), gdl.ones(2, 2), gdl.ones(2, 2))
    with pytest.raises(ValueError, match=r"addmm: input of shape \(3,\)"):
        gdl.addmm(gdl.ones(3), gdl.ones(2, 2), gdl.ones(2, 2))
    with pytest.raises(ValueError, match=r"addmm: expects 2-D and 2-D"):
        gdl.addmm(gdl.ones(2), gdl.ones(2), gdl.ones(2, 2))
    with pytest.raises(ValueError, match=r"baddbmm: batch sizes differ"):
        gdl.baddbmm(gdl.ones(1), gdl.ones(2, 2, 2), gdl.ones(3, 2, 2))
    with pytest.raises(ValueError, match=r"addmv: .*inner dimensions 2 and 3"):
        gdl.addmv(gdl.ones(2), gdl.ones(2, 2), gdl.ones(3))
    with pytest.raises(TypeError, match=r"addmm: beta and alpha must be integers"):
        gdl.addmm(gdl.ones(2, 2, dtype=gdl.int64), gdl.ones(2, 2, dtype=gdl.int64),
                  gdl.ones(2, 2, dtype=gdl.int64), alpha=0.5)


def test_addmm_integers_and_mixed(backend):
    i = gdl.ones(2, 2, dtype=gdl.int64)
    assert gdl.addmm(i, i, i, beta=2, alpha=3).tolist() == [[8, 8], [8, 8]]
    assert gdl.addmm(i, gdl.ones(2, 2), i).dtype == gdl.float32


# -- tensordot ----------------------------------------------------------------------------------

TENSORDOTS = [
    ((2, 3, 4), (3, 4, 5), 2, 2),
    ((2, 3), (3, 4), 1, 1),
    ((2, 3), (4,), 0, 0),
    ((2, 3, 4), (4, 2, 3), ([1, 0], [2, 1]), ([1, 0], [2, 1])),
    ((3, 4), (4, 3), ([-1], [0]), ([1], [0])),
    ((3, 4), (3, 4), (0, 0), ([0], [0])),
]


@pytest.mark.parametrize("case", TENSORDOTS, ids=str)
def test_tensordot(backend, case):
    sa, sb, dims, np_dims = case
    a, b = rnd(*sa), rnd(*sb, seed=1)
    xs = [t64(a), t64(b)]
    close(gdl.tensordot(*xs, dims=dims), np.tensordot(a, b, axes=np_dims if isinstance(np_dims, int) else
                                                      tuple(np_dims)))
    assert gradcheck(lambda x, y: gdl.tensordot(x, y, dims=dims), xs)


def test_tensordot_errors(backend):
    with pytest.raises(ValueError, match="tensordot: axis 1 of shape .* have different sizes"):
        gdl.tensordot(gdl.ones(2, 3), gdl.ones(4, 2), dims=1)
    with pytest.raises(ValueError, match="tensordot: dims=3 is out of range"):
        gdl.tensordot(gdl.ones(2, 3), gdl.ones(3, 2), dims=3)
    with pytest.raises(ValueError, match="tensordot: dims names 2 axes .* and 1"):
        gdl.tensordot(gdl.ones(2, 3), gdl.ones(3, 2), dims=([0, 1], [0]))
    with pytest.raises(ValueError, match="tensordot: axis 5 is out of range"):
        gdl.tensordot(gdl.ones(2, 3), gdl.ones(3, 2), dims=([5], [0]))
    with pytest.raises(TypeError, match="tensordot: dims must be"):
        gdl.tensordot(gdl.ones(2, 3), gdl.ones(3, 2), dims="ij")


# -- einsum ----------------------------------------------------------------------------------------

EINSUMS = {
    "matrix product": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "batch product": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "dot": ("i,i->", [(3,), (3,)]),
    "trace": ("ii->", [(3, 3)]),
    "implicit trace": ("ii", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "triple diagonal": ("iii->i", [(2, 2, 2)]),
    "diagonal sum": ("iij->j", [(2, 2, 3)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "implicit transpose": ("ba", [(2, 3)]),
    "sum over an index": ("ij->i", [(2, 3)]),
    "sum everything": ("ij->", [(2, 3)]),
    "implicit product": ("ij,jk", [(2, 3), (3, 2)]),
    "upper case, implicit": ("Ba,aA", [(2, 3), (3, 4)]),
    "ellipsis batch broadcast": ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
    "ellipsis implicit": ("i...,j->...", [(2, 3, 4), (5,)]),
    "ellipsis summed": ("i...->i", [(2, 3, 4)], lambda a: a.sum(axis=(1, 2))),  # NumPy refuses this one
    "ellipsis elementwise": ("...,...->...", [(2, 3), (3,)]),
    "size-1 broadcast": ("ij,ij->ij", [(1, 3), (2, 3)]),
    "chain of three": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "bilinear": ("bn,anm,bm->ba", [(2, 3), (2, 3, 4), (2, 4)]),
    "scalar operand": (",ij->ji", [(), (2, 3)]),
    "spaces": (" ij , jk -> ik ", [(2, 3), (3, 2)]),
    "same letter free and summed": ("ij,kj->ikj", [(2, 3), (4, 3)]),
}


@pytest.mark.parametrize("name", list(EINSUMS))
def test_einsum_values_and_gradients(backend, name):
    eq, shapes, *ref = EINSUMS[name]
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    xs = [t64(a) for a in arrays]
    out = gdl.einsum(eq, *xs)
    close(out, ref[0](*arrays) if ref else np.einsum(eq.replace(" ", ""), *arrays))
    assert gradcheck(lambda *t: gdl.einsum(eq, *t), xs)


def test_einsum_by_hand(backend):
    a = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert gdl.einsum("ii", a).item() == 5.0
    assert gdl.einsum("ii->i", a).tolist() == [1.0, 4.0]
    assert gdl.einsum("ij->j", a).tolist() == [4.0, 6.0]
    assert gdl.einsum("ij,jk->ik", a, a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert gdl.einsum("ij,jk->ik", [a, a]).tolist() == [[7.0, 10.0], [15.0, 22.0]]  # operands as a list
    x = gdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    gdl.einsum("ii", x).backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x.grad = None
    gdl.einsum("ij->i", x).backward(gdl.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [[1.0, 1.0], [10.0, 10.0]]


def test_einsum_same_tensor_twice_accumulates(backend):
    x = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gdl.einsum("i,i->", x, x).backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_einsum_dtypes(backend):
    i = gdl.tensor([[1, 2], [3, 4]])
    assert gdl.einsum("ij,jk->ik", i, i).dtype == gdl.int64
    assert gdl.einsum("ij,jk->ik", i, i).tolist() == [[7, 10], [15, 22]]
    assert gdl.einsum("ij,jk->ik", i, gdl.ones(2, 2)).dtype == gdl.float32
    assert gdl.einsum("ij->", gdl.ones(2, 2)).dtype == gdl.float32


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3)], r"subscripts for 2 operand\(s\) but 1 were given"),
    ("ij->ik", [(2, 3)], r"output subscript 'k' .* names no dimension"),
    ("ij->ii", [(2, 3)], r"output subscript 'i' appears more than once"),
    ("ij->j->i", [(2, 3)], r"'->' appears twice"),
    ("i2->i", [(2, 3)], r"invalid subscript character '2'"),
    ("i-j", [(2, 3)], r"invalid subscript character '-'"),
    ("i..j", [(2, 3)], r"invalid subscript character '\.'"),
    ("...i...", [(2, 3)], r"'\.\.\.' appears twice"),
    ("ijk", [(2, 3)], r"operand 0 has shape \(2, 3\) \(2 dimensions\) but its subscripts 'ijk'.* name 3"),
    ("i", [(2, 3)], r"operand 0 has shape \(2, 3\)"),
    ("ij,jk->ik", [(2, 3), (4, 2)], r"subscript 'j' .* sizes 3 and 4"),
    ("ii->i", [(2, 3)], r"subscript 'i' is repeated in operand 0 .* different sizes"),
]


@pytest.mark.parametrize("case", range(len(EINSUM_ERRORS)))
def test_einsum_errors(backend, case):
    eq, shapes, pattern = EINSUM_ERRORS[case]
    with pytest.raises(ValueError, match="einsum: .*" + pattern):
        gdl.einsum(eq, *[gdl.ones(*s) for s in shapes])


def test_einsum_other_errors(backend):
    with pytest.raises(TypeError, match="einsum: the equation must be a string"):
        gdl.einsum(3, gdl.ones(2))
    with pytest.raises(TypeError, match="einsum: the equation must be a string, got list"):
        gdl.einsum(["i"], gdl.ones(2))
    with pytest.raises(ValueError, match="einsum: needs at least one operand"):
        gdl.einsum("i->i")


@FEW
@given(m=st.integers(1, 3), k=st.integers(0, 3), n=st.integers(1, 3), batch=st.lists(st.integers(1, 2), max_size=2))
def test_einsum_matches_matmul_for_drawn_shapes(backend, m, k, n, batch):
    a, b = rnd(*batch, m, k), rnd(*batch, k, n, seed=1)
    xs = [t64(a), t64(b)]
    close(gdl.einsum("...ij,...jk->...ik", *xs), a @ b)
    assert gradcheck(lambda x, y: gdl.einsum("...ij,...jk->...ik", x, y), xs)


@pytest.mark.parametrize("eq, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("iij->j", [(2, 2, 3)]), ("ij,kj,k->ki", [(2, 3), (4, 3), (4,)]),
    ("i,j->", [(2,), (3,)]), ("->", [()]), ("i->", [(0,)]), ("abc,cab->b", [(2, 3, 4), (4, 2, 3)]),
])
def test_portable_einsum_primitive_matches_numpy(eq, shapes):
    """The base class's einsum (what array_api_strict runs) on NumPy arrays, against NumPy's."""
    be = gdl.get_backend_object("numpy")
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    close(Backend.einsum(be, eq, *arrays), np.einsum(eq, *arrays))
    ints = [np.arange(int(np.prod(s)), dtype=np.int32).reshape(s) for s in shapes]
    out = Backend.einsum(be, eq, *ints)
    assert out.dtype == np.int32 and np.array_equal(out, np.einsum(eq, *ints))


def test_numpy_einsum_primitive_with_and_without_path_optimisation():
    be = gdl.get_backend_object("numpy")
    for shapes in ([(3, 4), (4, 5)], [(40, 50), (50, 60)]):  # below and above the optimize threshold
        a, b = rnd(*shapes[0]), rnd(*shapes[1])
        close(be.einsum("ij,jk->ik", a, b), a @ b)
    close(be.einsum("...ij,...jk", rnd(2, 40, 50), rnd(50, 6)), rnd(2, 40, 50) @ rnd(50, 6))


# -- diagonal, trace, kron, cross ------------------------------------------------------------------

DIAGONALS = [((3, 3), 0, 0, 1), ((3, 4), 1, 0, 1), ((4, 3), -2, 0, 1), ((3, 4), 5, 0, 1), ((3, 4), -3, 0, 1),
             ((2, 3, 4), 1, 2, 0), ((2, 3, 4), -1, -1, 1), ((2, 3, 4, 2), 0, 1, 3)]


@pytest.mark.parametrize("shape, offset, d1, d2", DIAGONALS, ids=str)
def test_diagonal(backend, shape, offset, d1, d2):
    a = rnd(*shape)
    x = t64(a)
    close(gdl.diagonal(x, offset=offset, dim1=d1, dim2=d2), np.diagonal(a, offset, d1, d2))
    close(x.diagonal(offset, d1, d2), np.diagonal(a, offset, d1, d2))
    assert gradcheck(lambda t: gdl.diagonal(t, offset, d1, d2), [x])


def test_diagonal_gradient_by_hand(backend):
    x = gdl.zeros(2, 3, requires_grad=True)
    gdl.diagonal(x, offset=1).backward(gdl.tensor([1.0, 2.0]))
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]


def test_diagonal_and_trace_errors(backend):
    with pytest.raises(ValueError, match=r"diagonal: expects a tensor with at least 2 dimensions, got shape \(3,\)"):
        gdl.diagonal(gdl.ones(3))
    with pytest.raises(ValueError, match="diagonal: dim1 and dim2 are the same axis"):
        gdl.diagonal(gdl.ones(3, 3), dim1=1, dim2=-1)
    with pytest.raises(ValueError, match="diagonal: axis 2 is out of range"):
        gdl.diagonal(gdl.ones(3, 3), dim1=2)
    with pytest.raises(ValueError, match=r"trace: expects a 2-D tensor, got shape \(2, 2, 2\)"):
        gdl.trace(gdl.ones(2, 2, 2))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (1, 1)])
def test_trace(backend, shape):
    a = rnd(*shape)
    x = t64(a)
    close(gdl.trace(x), np.trace(a))
    assert gradcheck(gdl.trace, [x])


def test_trace_dtypes(backend):
    assert gdl.trace(gdl.arange(9).reshape(3, 3)).item() == 12
    assert gdl.trace(gdl.ones(2, 2, dtype=gdl.int32)).dtype == gdl.int64
    assert gdl.trace(gdl.ones(2, 2)).dtype == gdl.float32


@pytest.mark.parametrize("sa, sb", [((2,), (3,)), ((2, 3), (2, 2)), ((2,), (2, 3)), ((2, 1, 2), (3, 2))], ids=str)
def test_kron(backend, sa, sb):
    a, b = rnd(*sa), rnd(*sb, seed=1)
    xs = [t64(a), t64(b)]
    close(gdl.kron(*xs), np.kron(a, b))
    assert gradcheck(gdl.kron, xs)


def test_kron_by_hand_and_dtypes(backend):
    assert gdl.kron(gdl.tensor([[1, 2]]), gdl.tensor([[1], [10]])).tolist() == [[1, 2], [10, 20]]
    assert gdl.kron(gdl.tensor([1, 2]), gdl.tensor([0.5])).dtype == gdl.float32


@pytest.mark.parametrize("sa, sb, dim", [((3,), (3,), -1), ((4, 3), (4, 3), -1), ((3, 4), (3, 4), 0),
                                         ((3,), (2, 3), -1), ((2, 3, 2), (3, 1), 1)], ids=str)
def test_cross(backend, sa, sb, dim):
    a, b = rnd(*sa), rnd(*sb, seed=1)
    xs = [t64(a), t64(b)]
    nd = max(len(sa), len(sb))
    close(gdl.cross(*xs, dim=dim), np.cross(a, b, axis=dim - nd if dim >= 0 else dim))
    assert gradcheck(lambda x, y: gdl.cross(x, y, dim=dim), xs)


def test_cross_by_hand_and_errors(backend):
    e = gdl.eye(3)
    assert gdl.cross(e[1], e[2]).tolist() == [1.0, 0.0, 0.0]
    assert gdl.cross(e[2], e[1]).tolist() == [-1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"cross: dimension -1 must have size 3 .*\(2,\)"):
        gdl.cross(gdl.ones(2), gdl.ones(2))
    with pytest.raises(ValueError, match=r"cross: dimension 0 must have size 3"):
        gdl.cross(gdl.ones(3, 4), gdl.ones(4, 3), dim=0)
    with pytest.raises(ValueError, match="cross: cannot broadcast"):
        gdl.cross(gdl.ones(2, 3), gdl.ones(4, 3))


def test_ops_refuse_mixed_backends(backend):
    other = "numpy" if backend != "numpy" else "array_api_strict"
    if not gdl.is_usable(other):
        pytest.skip(f"needs {other}")
    b = gdl.ones(2, 2, backend=other)
    for fn in (gdl.mm, gdl.outer, gdl.tensordot, lambda x, y: gdl.einsum("ij,jk", x, y)):
        x = gdl.ones(2) if fn is gdl.outer else gdl.ones(2, 2)
        with pytest.raises(ValueError, match=r"different backends.*\.to\("):
            fn(x, gdl.ones(2, backend=other) if fn is gdl.outer else b)


# -- creation --------------------------------------------------------------------------------------


def test_linspace(backend):
    x = gdl.linspace(0, 1, 5)
    assert x.dtype == gdl.float32 and x.backend == backend
    close(x, np.linspace(0, 1, 5).astype(np.float32))
    close(gdl.linspace(-1.5, 2, 8, dtype=F64), np.linspace(-1.5, 2, 8))
    assert gdl.linspace(3, 3, 1).tolist() == [3.0] and gdl.linspace(0, 1, 0).shape == (0,)
    assert gdl.linspace(2, 0, 3).tolist() == [2.0, 1.0, 0.0]
    assert gdl.linspace(-10, 10, 7, dtype=gdl.int64).tolist() == [-10, -6, -3, 0, 3, 6, 10]  # truncated
    assert gdl.linspace(0, 1, 3, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int"):
        gdl.linspace(0, 1, -1)
    with pytest.raises(ValueError, match="linspace: steps"):
        gdl.linspace(0, 1, 2.5)


def test_logspace(backend):
    close(gdl.logspace(0, 2, 3), np.array([1.0, 10.0, 100.0], dtype=np.float32))
    close(gdl.logspace(0, 3, 4, base=2.0, dtype=F64), [1.0, 2.0, 4.0, 8.0])
    close(gdl.logspace(-1, 1, 5, dtype=F64), np.logspace(-1, 1, 5))
    assert gdl.logspace(-1, 1, 3, dtype=gdl.int64).tolist() == [0, 1, 10]
    assert gdl.logspace(0, 1, 2).dtype == gdl.float32


def test_empty(backend):
    x = gdl.empty(2, 3)
    assert x.shape == (2, 3) and x.dtype == gdl.float32 and x.backend == backend
    assert gdl.empty((4,), dtype=gdl.int64).dtype == gdl.int64
    assert gdl.empty(2, requires_grad=True).requires_grad
    y = gdl.empty_like(gdl.ones(3, 1, dtype=F64))
    assert y.shape == (3, 1) and y.dtype == F64
    assert gdl.empty_like(gdl.ones(2), dtype=gdl.int32).dtype == gdl.int32


@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (3, 3, 5), (3, 3, -5), (0, 2, 0)])
def test_triangle_indices(backend, row, col, offset):
    lo = gdl.tril_indices(row, col, offset)
    hi = gdl.triu_indices(row, col, offset)
    assert lo.dtype == gdl.int64 and lo.shape[0] == 2
    np.testing.assert_array_equal(lo.numpy(), np.stack(np.tril_indices(row, offset, col)).reshape(2, -1))
    np.testing.assert_array_equal(hi.numpy(), np.stack(np.triu_indices(row, offset, col)).reshape(2, -1))
    assert gdl.tril_indices(row, col, offset, dtype=gdl.int32).dtype == gdl.int32
