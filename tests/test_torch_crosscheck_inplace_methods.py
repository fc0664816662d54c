"""Cross-checks of gdl's in-place Tensor methods and tensor conveniences against PyTorch
(skipped when torch is not installed): values, dtypes, that ``self`` comes back, and that
gdl raises where PyTorch raises (a ``RuntimeError`` in PyTorch: gdl's errors for a result
of a wider dtype kind and for a bad shape are both RuntimeErrors and TypeError/ValueError).

Where gdl deliberately differs, the test asserts gdl's behaviour and says why:

- a non-leaf tensor that requires grad: PyTorch records the in-place op, gdl refuses in grad
  mode (it does no in-place changes in the autograd graph); so does an operand requiring grad;
- ``clamp_(min, max)`` with ``min > max``: PyTorch writes ``max``, gdl's clamp raises;
- ``abs_()`` on a bool tensor: PyTorch has no kernel, gdl keeps the bools;
- ``new_empty``: PyTorch leaves the memory uninitialised, gdl fills zeros (as ``gdl.empty``);
- ``new_full(3, v)``: PyTorch wants a tuple for the size, gdl also takes an int;
- ``type_as``: the dtype only (PyTorch also moves to the other tensor's device);
- random fills draw other numbers than PyTorch's generator (same distributions);
- expanded (broadcast) tensors: PyTorch refuses writes, gdl rebinds the tensor's array.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

NAME = {"bool": "bool", "float32": "float32", "float64": "float64", "int64": "int64", "int32": "int32",
        "int16": "int16", "int8": "int8", "uint8": "uint8", "float16": "float16"}


class T:
    """An operand given as values and a dtype name, made into each library's tensor."""

    def __init__(self, values, dtype):
        self.values, self.dtype = values, dtype

    def gdl(self):
        return gdl.tensor(np.asarray(self.values), dtype=self.dtype)

    def torch(self):
        return torch.tensor(np.asarray(self.values), dtype=getattr(torch, self.dtype))


def to_lib(arg, lib):
    if isinstance(arg, T):
        return arg.gdl() if lib == "gdl" else arg.torch()
    return arg


def same(ours, theirs, msg=""):
    """Same dtype name, shape and values (NaN where torch has NaN)."""
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), f"{msg}: dtype {ours.dtype} != {theirs.dtype}"
    o, t = np.asarray(ours.numpy()), theirs.detach().numpy()
    assert o.shape == t.shape, f"{msg}: shape {o.shape} != {t.shape}"
    if o.dtype.kind in "biu":
        np.testing.assert_array_equal(o, t, err_msg=msg)
    else:
        tol = 2e-3 if o.dtype == np.float16 else 1e-6 if o.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(o, t, rtol=tol, atol=tol * 1e-3, err_msg=msg)


F = [1.5, -2.0, 0.25, 3.0]
P = [1.5, 2.0, 0.25, 3.0]  # positive, for log/sqrt/pow with fractional exponents
I = [3, -2, 0, 7]
B = [True, False, True, False]

CASES = [
    # (self values, self dtype, method, args, kwargs)
    (F, "float32", "add_", (T([1.0, 2.0, 3.0, 4.0], "float32"),), {}),
    (F, "float32", "add_", (2,), {}),
    (F, "float32", "add_", (0.5,), {"alpha": 3}),
    (F, "float32", "add_", (T([1.0, 2.0, 3.0, 4.0], "float64"),), {"alpha": 0.5}),
    (F, "float32", "add_", (T([1, 2, 3, 4], "int64"),), {}),
    (F, "float32", "add_", (T(2.0, "float64"),), {}),
    (F, "float32", "add_", (True,), {}),
    (F, "float64", "sub_", (T([1.0, 2.0, 3.0, 4.0], "float64"),), {"alpha": 0.5}),
    (F, "float32", "mul_", (T([[1.0], [2.0]], "float32"),), {}),  # would grow self: refused
    (F, "float32", "mul_", (-1.5,), {}),
    (F, "float32", "div_", (T([2.0, 4.0, -1.0, 3.0], "float32"),), {}),
    (F, "float64", "div_", (2,), {"rounding_mode": "floor"}),
    (F, "float64", "div_", (2,), {"rounding_mode": "trunc"}),
    (P, "float32", "pow_", (2,), {}),
    (P, "float64", "pow_", (0.5,), {}),
    (P, "float32", "pow_", (T([1.0, 2.0, 0.5, 0.0], "float32"),), {}),
    (F, "float32", "clamp_", (-1, 1), {}),
    (F, "float32", "clamp_", (), {"min": 0.0}),
    (F, "float32", "clip_", (), {"max": T([0.0, 0.0, 1.0, 5.0], "float32")}),
    (F, "float32", "clamp_", (), {}),
    (F, "float32", "clamp_min_", (0.5,), {}),
    (F, "float32", "clamp_max_", (0.5,), {}),
    (I, "int64", "add_", (1,), {}),
    (I, "int64", "add_", (1.5,), {}),
    (I, "int64", "add_", (T([1, 1, 1, 1], "int64"),), {"alpha": 2}),
    (I, "int64", "add_", (1,), {"alpha": 1.5}),
    (I, "int64", "add_", (T([0.5, 1.0, 1.0, 1.0], "float32"),), {}),
    (I, "int32", "mul_", (T([2, 2, 2, 2], "int64"),), {}),
    (I, "int32", "mul_", (T([2.0, 2.0, 2.0, 2.0], "float32"),), {}),
    (I, "int64", "sub_", (2,), {}),
    (I, "int64", "sub_", (True,), {}),
    (I, "int64", "div_", (2,), {}),
    (I, "int64", "div_", (2,), {"rounding_mode": "floor"}),
    (I, "int64", "div_", (2,), {"rounding_mode": "trunc"}),
    (I, "int64", "pow_", (2,), {}),
    (I, "int64", "pow_", (0.5,), {}),
    (I, "int64", "clamp_", (0, 2), {}),
    (I, "int64", "clamp_", (0.5, 2.5), {}),
    (B, "bool", "add_", (1,), {}),
    (B, "bool", "add_", (True,), {}),
    (B, "bool", "mul_", (True,), {}),
    (B, "bool", "sub_", (True,), {}),
    (B, "bool", "neg_", (), {}),
    (B, "bool", "mul_", (T([2, 2, 2, 2], "int64"),), {}),
    (B, "bool", "add_", (T([True, True, False, False], "bool"),), {}),
    (B, "bool", "div_", (True,), {}),
    (B, "bool", "pow_", (2,), {}),
    (I, "int64", "pow_", (-1,), {}),
    (B, "bool", "relu_", (), {}),
]

UNARY = ["neg_", "exp_", "log_", "sqrt_", "abs_", "tanh_", "sigmoid_", "relu_", "floor_", "ceil_", "round_",
         "trunc_", "sin_", "cos_", "reciprocal_", "rsqrt_", "square_", "sign_", "log1p_", "expm1_"]
for _name in UNARY:
    for _dtype in ("float32", "float64"):
        CASES.append((P if _name in ("log_", "sqrt_", "rsqrt_") else F, _dtype, _name, (), {}))
    CASES.append((I, "int64", _name, (), {}))

CASES += [
    (F, "float32", "fill_", (2.5,), {}),
    (F, "float32", "fill_", (T(3, "int64"),), {}),
    (F, "float32", "fill_", (T([1.0], "float32"),), {}),
    (I, "int64", "fill_", (1.7,), {}),
    (I, "int64", "fill_", (-1.7,), {}),
    (I, "int32", "fill_", (True,), {}),
    (B, "bool", "fill_", (2,), {}),
    (F, "float64", "zero_", (), {}),
    (B, "bool", "zero_", (), {}),
    (F, "float32", "masked_fill_", (T([True, False, False, True], "bool"), -1.0), {}),
    (F, "float32", "masked_fill_", (T([True, False, False, True], "bool"), T(5.0, "float64")), {}),
    (I, "int64", "masked_fill_", (T([True, False, False, True], "bool"), 1.7), {}),
    (F, "float32", "masked_fill_", (T([1, 0, 0, 1], "int64"), 0.0), {}),
    (F, "float32", "masked_fill_", (T([[True, False, False, True]], "bool"), 0.0), {}),
    (F, "float32", "copy_", (T([1, 2, 3, 4], "int64"),), {}),
    (I, "int64", "copy_", (T([1.7, -2.7, 0.5, -0.5], "float64"),), {}),
    (B, "bool", "copy_", (T([0.0, 1.5, -0.0, 2.0], "float32"),), {}),
    (F, "float64", "copy_", (T([5.0], "float32"),), {}),
    (F, "float64", "copy_", (T([[5.0, 1.0, 2.0, 3.0]], "float32"),), {}),
]


def _id(case):
    return f"{case[1]}-{case[2]}-{len(case[3])}-{sorted(case[4])}"


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{_id(c)}" for i, c in enumerate(CASES)])
def test_in_place_against_torch(backend, case):
    values, dtype, name, args, kwargs = case
    theirs = T(values, dtype).torch()
    ours = T(values, dtype).gdl()
    targs = tuple(to_lib(a, "torch") for a in args)
    tkw = {k: to_lib(v, "torch") for k, v in kwargs.items()}
    try:
        expected = getattr(theirs, name)(*targs, **tkw)
    except RuntimeError:  # NotImplementedError is one too
        before = np.asarray(ours.numpy()).copy()
        with pytest.raises(RuntimeError):
            getattr(ours, name)(*(to_lib(a, "gdl") for a in args), **{k: to_lib(v, "gdl") for k, v in kwargs.items()})
        np.testing.assert_array_equal(np.asarray(ours.numpy()), before)  # nothing written
        return
    assert expected is theirs
    got = getattr(ours, name)(*(to_lib(a, "gdl") for a in args), **{k: to_lib(v, "gdl") for k, v in kwargs.items()})
    assert got is ours
    same(ours, theirs, f"{dtype}.{name}{args}")


def test_bool_abs_is_kept_where_torch_has_no_kernel(backend):
    with pytest.raises(NotImplementedError):
        torch.tensor([True, False]).abs_()
    x = gdl.tensor([True, False])
    assert x.abs_() is x and x.tolist() == [True, False]  # |b| = b: gdl does not refuse


def test_clamp_with_min_above_max_differs(backend):
    assert torch.tensor([0.0, 5.0]).clamp_(2, 1).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="larger than max"):  # gdl's clamp refuses the bounds
        gdl.tensor([0.0, 5.0]).clamp_(2, 1)


def test_grad_rules(backend):
    # a leaf that requires grad: both refuse
    with pytest.raises(RuntimeError):
        torch.ones(3, requires_grad=True).add_(1)
    with pytest.raises(RuntimeError):
        gdl.ones(3, requires_grad=True).add_(1)
    # under no_grad: both allow, and the leaf keeps requiring grad
    tw, gw = torch.zeros(3, requires_grad=True), gdl.zeros(3, requires_grad=True)
    with torch.no_grad():
        tw.uniform_(-1, 1).add_(2.0)
    with gdl.no_grad():
        gw.uniform_(-1, 1).add_(2.0)
    assert tw.requires_grad and gw.requires_grad and gw.is_leaf
    assert (1.0 <= gw.numpy()).all() and (gw.numpy() <= 3.0).all()
    # a non-leaf: torch records the in-place op, gdl refuses in grad mode
    tx = torch.ones(3, requires_grad=True) * 2
    tx.add_(1)
    assert tx.grad_fn is not None
    with pytest.raises(RuntimeError, match="requires grad"):
        (gdl.ones(3, requires_grad=True) * 2).add_(1)


def test_detach_in_place_against_torch(backend):
    tw, gw = torch.ones(2, requires_grad=True), gdl.ones(2, requires_grad=True)
    ty, gy = tw * 3, gw * 3
    assert ty.detach_() is ty and gy.detach_() is gy
    assert (ty.requires_grad, ty.grad_fn) == (gy.requires_grad, gy.grad_fn) == (False, None)
    ty.add_(1)
    gy.add_(1)
    same(gy, ty)


def test_shared_memory_like_torch(backend):
    for lib in (torch, gdl):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        x.detach().mul_(10)
        x[0].fill_(-1.0)  # a basic slice is a view in both
        assert x.tolist() == [[-1.0, -1.0], [30.0, 40.0]], lib.__name__


def test_expanded_tensors_differ(backend):
    with pytest.raises(RuntimeError, match="single memory location"):
        torch.zeros(3).expand(2, 3).add_(1.0)
    base = gdl.zeros(3)
    e = base.expand(2, 3)
    e.add_(gdl.tensor([[1.0], [2.0]]))  # gdl rebinds e to a new array (a broadcast view is read-only)
    assert e.tolist() == [[1.0] * 3, [2.0] * 3]
    assert base.tolist() == [0.0] * 3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_fills_against_torch(backend, dtype):
    torch.manual_seed(0)
    gdl.manual_seed(0)
    n = 20000
    tu = torch.zeros(n, dtype=getattr(torch, dtype)).uniform_(-1.0, 3.0)
    gu = gdl.zeros(n, dtype=dtype).uniform_(-1.0, 3.0)
    assert gu.dtype.name == str(tu.dtype).replace("torch.", "")
    for u in (tu.numpy(), np.asarray(gu.numpy())):
        assert u.min() >= -1.0 and u.max() <= 3.0 and abs(u.mean() - 1.0) < 0.05
    tn = torch.zeros(n, dtype=getattr(torch, dtype)).normal_(2.0, 0.5)
    gn = gdl.zeros(n, dtype=dtype).normal_(2.0, 0.5)
    assert gn.dtype.name == str(tn.dtype).replace("torch.", "")
    for v in (tn.numpy(), np.asarray(gn.numpy())):
        assert abs(v.mean() - 2.0) < 0.02 and abs(v.std() - 0.5) < 0.02
    for lib in (torch, gdl):  # the same argument checks
        with pytest.raises(RuntimeError):
            lib.zeros(2).uniform_(1.0, 0.0)
        with pytest.raises(RuntimeError):
            lib.zeros(2).normal_(0.0, -1.0)
        with pytest.raises(RuntimeError):
            lib.zeros(2, dtype=lib.int64).uniform_()


NEW = [
    ("new_zeros", (2, 3), {}),
    ("new_zeros", ((2, 3),), {"dtype": "float64"}),
    ("new_ones", ([4],), {}),
    ("new_empty", (3,), {}),
    ("new_full", ((2,), 1.5), {}),
    ("new_full", ((2, 2), 7), {"dtype": "int32"}),
    ("new_tensor", ([1, 2, 3],), {}),
    ("new_tensor", ([1.5, 2.5],), {"dtype": "int64"}),
]


@pytest.mark.parametrize("self_dtype", ["float32", "int64", "float64"])
@pytest.mark.parametrize("name,args,kwargs", NEW, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(NEW)])
def test_new_tensors_against_torch(backend, self_dtype, name, args, kwargs):
    tx, gx = T([1, 2], self_dtype).torch(), T([1, 2], self_dtype).gdl()
    tk = {k: getattr(torch, v) for k, v in kwargs.items()}
    gk = {k: getattr(gdl, v) for k, v in kwargs.items()}
    ours = getattr(gx, name)(*args, **gk)
    theirs = getattr(tx, name)(*args, **tk)
    assert ours.backend == backend
    if name == "new_empty":  # torch leaves it uninitialised, gdl fills zeros
        theirs = theirs.zero_()
    same(ours, theirs, name)


def test_new_full_takes_an_int_size(backend):
    with pytest.raises(TypeError):
        torch.zeros(1).new_full(3, 1.0)
    assert gdl.zeros(1).new_full(3, 1.0).shape == (3,)  # gdl is lenient, as gdl.full


CONVERSIONS = ["int", "bool", "half", "short", "char", "byte", "float", "double", "long"]


@pytest.mark.parametrize("name", CONVERSIONS)
def test_conversions_against_torch(backend, name):
    values = [1.5, -2.5, 0.0, 3.75] if name != "byte" else [1.5, 2.5, 0.0, 200.75]
    tx, gx = torch.tensor(values), gdl.tensor(values)
    if name == "half" and backend == "array_api_strict":
        with pytest.raises(TypeError, match="no float16"):
            gx.half()
        return
    same(getattr(gx, name)(), getattr(tx, name)(), name)


@pytest.mark.parametrize("other", ["int64", "float64", "bool", "int32"])
def test_type_as_against_torch(backend, other):
    values = [1.5, -2.5, 0.0]
    same(gdl.tensor(values).type_as(T([1], other).gdl()), torch.tensor(values).type_as(T([1], other).torch()))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_sizes_against_torch(backend, dtype):
    if dtype == "float16" and backend == "array_api_strict":
        pytest.skip("array_api_strict has no float16")
    tx = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    gx = gdl.zeros(2, 3, dtype=dtype)
    assert gx.element_size() == tx.element_size()
    assert gx.itemsize == tx.itemsize
    assert gx.nbytes == tx.nbytes
    assert gx.is_contiguous() == tx.is_contiguous()
    assert gx.contiguous() is gx and tx.contiguous() is tx


def test_nan_and_inf_values(backend):
    values = [math.nan, math.inf, -math.inf, -0.0]
    for name in ("relu_", "abs_", "neg_", "sigmoid_", "tanh_", "exp_"):
        same(getattr(gdl.tensor(values), name)(), getattr(torch.tensor(values), name)(), name)
    same(gdl.tensor(values).clamp_(-1, 1), torch.tensor(values).clamp_(-1, 1), "clamp_")
