"""Cross-checks of gdl's core (Tensor, autograd engine, functional ops) against PyTorch
(skipped when torch is not installed).

Hypothesis draws shapes, values (with ties, zeros and infinities) and op arguments;
forward values, dtypes and gradients must agree with torch's (float64, tight
tolerances). Set ``GDL_CROSSCHECK_EXAMPLES`` to search harder.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from torch_support import SETTINGS, close, g64, t64  # noqa: E402

import gdl  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

# small integers as floats: plenty of ties and zeros
VALUES = st.integers(-3, 3).map(float)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def arrays(shape=SHAPES, elements=VALUES):
    return hnp.arrays(np.float64, shape, elements=elements)


def both(a):
    return g64(a, grad=True), t64(a, grad=True)


def backprop(y, yt, seed=0):
    """Backward the same random weighting of ``y`` and ``yt``."""
    w = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    (y * g64(w)).sum().backward()
    (yt * t64(w)).sum().backward()


def check(fg, ft, *arrays_, msg=""):
    """Forward and gradients of ``fg`` on gdl tensors equal ``ft``'s on torch tensors."""
    gs, ts = zip(*(both(a) for a in arrays_))
    y, yt = fg(*gs), ft(*ts)
    close(y, yt, msg)
    backprop(y, yt)
    for i, (g, t) in enumerate(zip(gs, ts)):
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"{msg}: input {i}"
        else:
            close(g.grad, t.grad, f"{msg}: grad of input {i}")


# -- elementwise ------------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "maximum": (gdl.maximum, torch.maximum),
    "minimum": (gdl.minimum, torch.minimum),
    "where": (lambda a, b: gdl.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b)),
}


@SETTINGS(40)
@given(st.sampled_from(sorted(BINARY)), hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.data())
def test_binary_ops_and_broadcasting(name, shapes, data):
    a = data.draw(arrays(shapes.input_shapes[0]))
    b = data.draw(arrays(shapes.input_shapes[1]))
    check(*BINARY[name], a, b, msg=name)


@SETTINGS(30)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.data())
def test_div_and_pow(shapes, data):
    a = data.draw(arrays(shapes.input_shapes[0]))
    b = data.draw(arrays(shapes.input_shapes[1], st.sampled_from([-2.0, -1.0, 0.5, 1.0, 3.0])))
    check(lambda x, y: x / y, lambda x, y: x / y, a, b, msg="div")
    check(lambda x, y: x**y, lambda x, y: x**y, np.abs(a) + 0.5, b, msg="pow with tensor exponent")


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2, 3, -1, 0.5, -2.0])
def test_pow_scalar_exponent_edges(exponent):
    a = [0.0, -2.0, 2.0, -0.5]
    check(lambda x: x**exponent, lambda x: x**exponent, a, msg=f"x**{exponent}")


def test_pow_tensor_exponent_zero_base_and_zero_exponent():
    """0**0, 0**b, a**0 with both sides tensors: PyTorch's gradients are 0 there, not NaN."""
    check(lambda x, y: x**y, lambda x, y: x**y, [0.0, 0.0, 2.0, -2.0, 0.0], [0.0, 2.0, 0.0, 3.0, 0.5], msg="x**y")
    check(lambda y: 0.0**y, lambda y: 0.0**y, [1.0, 2.0, 0.5], msg="0**y")
    check(lambda y: 2.0**y, lambda y: 2.0**y, [0.0, -1.0, 2.5], msg="2**y")


@pytest.mark.parametrize("fn", ["sqrt", "log", "exp", "abs", "tanh", "sigmoid", "relu"])
def test_unary_edges(fn):
    a = [0.0, -0.0, 1.0, 800.0, -800.0, 1e-300] if fn != "sqrt" and fn != "log" else [0.0, 1.0, 4.0, 1e-300]
    check(getattr(gdl, fn), getattr(torch, fn), a, msg=fn)


def test_division_by_zero():
    check(lambda x, y: x / y, lambda x, y: x / y, [1.0, -1.0, 0.0], [0.0, 0.0, 0.0], msg="x/0")


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (None, 0.0), (0.0, None), (1.0, 1.0)])
def test_clip_boundaries(lo, hi):
    check(lambda x: x.clip(lo, hi), lambda x: x.clamp(lo, hi), [-2.0, -1.0, 0.0, 1.0, 2.0], msg="clip")


# -- dtypes -------------------------------------------------------------------------------

DTYPE_CASES = {
    "int / int": (lambda i, f: i / i),
    "2 / int": (lambda i, f: 2 / i),
    "int / 2": (lambda i, f: i / 2),
    "int ** 0.5": (lambda i, f: i**0.5),
    "2.0 ** int": (lambda i, f: 2.0**i),
    "int ** 2": (lambda i, f: i**2),
    "0.5 - int": (lambda i, f: 0.5 - i),
    "int - 0.5": (lambda i, f: i - 0.5),
    "0.5 + int": (lambda i, f: 0.5 + i),
    "int * 0.5": (lambda i, f: i * 0.5),
    "int + True": (lambda i, f: i + True),
    "f32 + 1.5": (lambda i, f: f + 1.5),
    "f32 ** 2.5": (lambda i, f: f**2.5),
    "2.5 ** f32": (lambda i, f: 2.5**f),
    "f32 / 3": (lambda i, f: f / 3),
    "int > 0.5": (lambda i, f: i > 0.5),
    "bool * 1.5": (lambda i, f: (i > 1) * 1.5),
    "bool + 1": (lambda i, f: (i > 1) + 1),
    "where(int, 0.5)": (lambda i, f: (gdl if isinstance(i, gdl.Tensor) else torch).where(i > 1, i, 0.5)),
    "maximum(int, 0.5)": (lambda i, f: i.maximum(0.5) if isinstance(i, gdl.Tensor) else i.clamp(min=0.5)),
    "clip(int, 0.5, 1.5)": (lambda i, f: i.clip(0.5, 1.5) if isinstance(i, gdl.Tensor) else i.clamp(0.5, 1.5)),
    "sum(bool)": (lambda i, f: (i > 1).sum()),
    "masked_fill(int, 0.5)": (lambda i, f: i.masked_fill(i > 1, 0.5)),
}


STRICT_REFUSES = {"int + True", "bool + 1", "int > 0.5"}


@pytest.mark.parametrize("case", sorted(DTYPE_CASES))
def test_dtype_promotion_with_python_scalars(case):
    if case in STRICT_REFUSES and gdl.get_backend() == "array_api_strict":
        pytest.skip("array_api_strict refuses mixed int/float and bool/int scalars (DESIGN.md, known quirks)")
    fn = DTYPE_CASES[case]
    ours = fn(gdl.tensor([1, 2, 3]), gdl.tensor([1.0, 2.0]))
    theirs = fn(torch.tensor([1, 2, 3]), torch.tensor([1.0, 2.0]))
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), case
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


# -- reductions -------------------------------------------------------------------------------


def axes_for(ndim):
    single = st.integers(-ndim, ndim - 1)
    return st.one_of(st.none(), single, st.lists(single, min_size=1, max_size=ndim, unique_by=lambda a: a % ndim)
                     .map(tuple))


@SETTINGS(40)
@given(arrays(), st.data(), st.booleans(), st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "norm"]))
def test_reductions(a, data, keep, op):
    axis = data.draw(axes_for(a.ndim))
    if op == "logsumexp" and axis is None:
        axis = tuple(range(a.ndim))
    ours = {"amax": "max", "amin": "min"}.get(op, op)
    kw = {} if axis is None else {"axis": axis}
    tkw = {} if axis is None else {"dim": axis}
    if op == "norm":
        p = data.draw(st.sampled_from([1, 2, 3, 0.5, math.inf, -math.inf, 0]))
        check(lambda x: x.norm(p, keepdims=keep, **kw), lambda x: torch.linalg.vector_norm(x, p, keepdim=keep, **tkw),
              a, msg=f"norm p={p} axis={axis}")
        return
    if axis is None and op in ("sum", "mean", "amax", "amin"):
        check(lambda x: getattr(x, ours)(), lambda x: getattr(x, op)(), a, msg=op)
        return
    check(lambda x: getattr(x, ours)(keepdims=keep, **kw), lambda x: getattr(x, op)(keepdim=keep, **tkw), a,
          msg=f"{op} axis={axis}")


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans(), st.sampled_from([0, 1, 2, 0.5]), st.booleans())
def test_var_std_with_correction(a, data, keep, correction, use_std):
    axis = data.draw(axes_for(a.ndim))
    op = "std" if use_std else "var"
    kw = {} if axis is None else {"axis": axis}
    tkw = {} if axis is None else {"dim": axis}
    x, xt = both(a)
    y = getattr(x, op)(correction=correction, keepdims=keep, **kw)
    yt = getattr(xt, op)(correction=correction, keepdim=keep, **tkw)
    close(y, yt, f"{op} correction={correction} axis={axis}")
    assume(np.all(np.isfinite(yt.detach().numpy())) and (not use_std or np.all(yt.detach().numpy() > 0)))
    backprop(y, yt)
    close(x.grad, xt.grad, f"{op} grad")


def test_var_with_no_degrees_of_freedom_is_nan():
    for a, c in [([3.0], 1), ([3.0], 2), ([3.0, 5.0], 2), (np.zeros((0,)), 0)]:
        close(g64(a).var(correction=c), t64(a).var(correction=c), f"var({a}, correction={c})")


@pytest.mark.parametrize("op", ["sum", "mean", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1])
def test_reductions_of_a_0d_tensor_along_axis_0(op, axis):
    check(lambda x: getattr(x, op)(axis=axis), lambda x: getattr(x, op)(dim=axis), np.float64(2.0), msg=op)


def test_reductions_over_empty_axes():
    a = np.zeros((0, 3))
    close(g64(a).sum(axis=0), t64(a).sum(dim=0))
    close(g64(a).mean(axis=0), t64(a).mean(dim=0))
    close(g64(a).logsumexp(axis=0), t64(a).logsumexp(dim=0))
    close(g64(a).norm(axis=0), t64(a).norm(dim=0))


@SETTINGS(30)
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.data(),
       st.sampled_from(["logsumexp", "softmax", "log_softmax"]))
def test_softmax_family_with_infinities(shape, data, op):
    a = data.draw(arrays(shape, st.sampled_from([-math.inf, -2.0, 0.0, 0.0, 1.5, 30.0])))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if op == "logsumexp":
        check(lambda x: x.logsumexp(axis=axis), lambda x: x.logsumexp(dim=axis), a, msg=op)
    else:
        check(lambda x: getattr(x, op)(axis=axis), lambda x: getattr(x, op)(dim=axis), a, msg=op)


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans())
def test_argmax_argmin_and_max_dim_ties(a, data, keep):
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    for op in ("argmax", "argmin"):
        kw = {} if axis is None else {"axis": axis}
        tkw = {} if axis is None else {"dim": axis}
        ours, theirs = getattr(g64(a), op)(keepdims=keep, **kw), getattr(t64(a), op)(keepdim=keep, **tkw)
        assert ours.shape == tuple(theirs.shape), (op, axis, keep)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    if axis is not None:
        for op in ("max", "min"):
            x, xt = both(a)
            (v, i), (vt, it) = getattr(x, op)(axis, keep), getattr(xt, op)(axis, keep)
            np.testing.assert_array_equal(i.numpy(), it.numpy())
            backprop(v, vt)
            close(x.grad, xt.grad, f"{op}(dim) grad")


@SETTINGS(30)
@given(arrays(), st.data(), st.booleans())
def test_sort_and_topk(a, data, descending):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    x, xt = both(a)
    (v, i), (vt, it) = x.sort(dim, descending=descending), xt.sort(dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    backprop(v, vt)
    close(x.grad, xt.grad, "sort grad")
    k = data.draw(st.integers(0, a.shape[dim]))
    a = a + np.arange(a.size).reshape(a.shape) * 1e-3  # torch's tie order in topk is unspecified
    check(lambda x: x.topk(k, dim, largest=descending)[0], lambda x: x.topk(k, dim, largest=descending)[0], a,
          msg="topk")


# -- shape ops and indexing --------------------------------------------------------------------

A = np.arange(24.0).reshape(2, 3, 4) - 10

SHAPE_CASES = {
    "reshape -1": (lambda x: x.reshape(-1, 6), None),
    "reshape 4,-1,2": (lambda x: x.reshape(4, -1, 2), None),
    "permute neg": (lambda x: x.permute(-1, 0, 1), None),
    "transpose": (lambda x: x.transpose(0, 2), None),
    "squeeze": (lambda x: x[:, :1].squeeze(), None),
    "squeeze dim": (lambda x: x[:, :1].squeeze(1), None),
    "unsqueeze -1": (lambda x: x.unsqueeze(-1), None),
    "unsqueeze 0": (lambda x: x.unsqueeze(0), None),
    "flatten": (lambda x: x.flatten(), None),
    "flatten 1": (lambda x: x.flatten(1), None),
    "flatten -2": (lambda x: x.flatten(-2), None),
    "expand": (lambda x: x[:, :1].expand(3, 2, 3, 4), None),
    "expand -1": (lambda x: x[:, :1].expand(2, -1, 4), None),
    "expand -1 new dim": (lambda x: x[:, :1].expand(5, -1, -1, -1), None),
    "cat one": (lambda x: (gdl if isinstance(x, gdl.Tensor) else torch).cat([x], 1), None),
    "cat neg": (lambda x: (gdl if isinstance(x, gdl.Tensor) else torch).cat([x, x * 2], -1), None),
    "stack one": (lambda x: (gdl if isinstance(x, gdl.Tensor) else torch).stack([x], -1), None),
    "stack two": (lambda x: (gdl if isinstance(x, gdl.Tensor) else torch).stack([x, x], -2), None),
    "repeat": (lambda x: x.repeat(2, 1, 1, 2), None),
    "repeat 0": (lambda x: x.repeat(1, 0, 1), None),
    "mT": (lambda x: x.mT, None),
    "int, neg int": (lambda x: x[-1, -2], None),
    "slices with steps": (lambda x: x[:, ::2, 1:], None),
    "None and Ellipsis": (lambda x: x[None, ..., 1, None], None),
    "negative step": (lambda x: x[::-1, 2:0:-1, ::-2], lambda x: x.flip(0)[:, [2, 1]][..., [3, 1]]),
    "repeated rows": (lambda x: x[[0, 0, 1, 0]], None),
    "two index arrays": (lambda x: x[[0, 1, 1], [2, 2, 0]], None),
    "index array mid": (lambda x: x[:, [2, 2, -1]], None),
    "index array last": (lambda x: x[..., [3, 3, -1]], None),
    "2-d index tensor": (lambda x: x[_index(x, [[0, 1], [1, 1]])], None),
    "0-d index tensor": (lambda x: x[_index(x, 1)], None),
    "empty index": (lambda x: x[_index(x, np.zeros(0, dtype=np.int64))], None),
    "take": (lambda x: x.take(_index(x, [2, 2, 0]), axis=-1), lambda x: x.index_select(-1, torch.tensor([2, 2, 0]))),
    "masked_fill": (lambda x: x.masked_fill(x > 3, -1.0), None),
}


def _index(x, idx):
    return gdl.tensor(idx) if isinstance(x, gdl.Tensor) else torch.tensor(idx)


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_shape_ops_and_indexing(case):
    fg, ft = SHAPE_CASES[case]
    check(fg, ft or fg, A, msg=case)


def test_iterating_a_tensor():
    rows = list(g64(A))
    assert [r.shape for r in rows] == [tuple(r.shape) for r in t64(A)]
    for r, rt in zip(rows, t64(A)):
        close(r, rt)
    with pytest.raises(TypeError):
        list(t64(2.0))
    with pytest.raises(TypeError):
        list(g64(2.0))


# -- matmul -----------------------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((1, 2, 3), (4, 3, 2)), ((3,), (4, 3, 2)), ((4, 2, 3), (3,)), ((2, 1, 2, 3), (3, 3, 2))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_shapes_and_gradients(sa, sb):
    rng = np.random.default_rng(0)
    check(lambda a, b: a @ b, lambda a, b: a @ b, rng.standard_normal(sa), rng.standard_normal(sb), msg="matmul")


# -- the autograd engine ----------------------------------------------------------------------


def run_graph(lib, x):
    """A graph with fan-out, a retained non-leaf and two backward calls."""
    y = x * 2
    y.retain_grad()
    z = (y * y + y.exp() * x).sum()
    z.backward(retain_graph=True)
    first = x.grad.clone() if lib is torch else x.grad.numpy().copy()
    (x**3).sum().backward()  # accumulates
    z.backward()  # retained graph, accumulates again
    return first, y


def test_engine_accumulation_retain_graph_and_retain_grad():
    a = [0.5, -1.0, 2.0]
    x, xt = both(a)
    first, y = run_graph(gdl, x)
    first_t, yt = run_graph(torch, xt)
    close(first, first_t)
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)
    with pytest.raises(RuntimeError):
        _twice((x * 2).sum())
    with pytest.raises(RuntimeError):
        _twice((xt * 2).sum())


def _twice(y):
    y.backward()
    y.backward()


def test_backward_with_gradient_argument():
    a = np.arange(6.0).reshape(2, 3)
    x, xt = both(a)
    w = np.random.default_rng(1).standard_normal((2, 3))
    (x * x).backward(gradient=g64(w))
    (xt * xt).backward(gradient=t64(w))
    close(x.grad, xt.grad)


def test_grad_mode_nesting():
    x, xt = both([1.0])
    for lib, v in ((gdl, x), (torch, xt)):
        with lib.no_grad():
            with lib.enable_grad():
                inner = v * 2
            outer = v * 2
        assert inner.requires_grad and not outer.requires_grad and lib.is_grad_enabled()
    assert x.detach().requires_grad is False and x.detach().grad_fn is None
    with pytest.raises(RuntimeError):
        (xt * 2).requires_grad_(False)
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)


# -- conversions ---------------------------------------------------------------------------------


def test_python_conversions():
    for lib_t in (g64, t64):
        assert float(lib_t([[2.5]])) == 2.5 and int(lib_t([-2.7])) == -2 and bool(lib_t([1.0]))
        assert len(lib_t(A)) == 2 and lib_t(A).tolist() == A.tolist() and lib_t([[7.0]]).item() == 7.0
        for conv in (float, int, bool):
            with pytest.raises((ValueError, RuntimeError)):
                conv(lib_t([1.0, 2.0]))
        with pytest.raises(TypeError):
            len(lib_t(1.0))
    assert gdl.tensor([1.5]).to(gdl.float64).dtype == gdl.float64
    assert gdl.tensor([1.5]).to("int32").dtype == gdl.int32
    for t in (g64(1.0), g64(np.zeros((0, 3))), gdl.zeros(300, 300), gdl.tensor([1], dtype=gdl.int32)):
        assert repr(t).startswith("tensor(")


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, -1, math.inf, -math.inf, 0])
def test_norm_at_zero(p):
    check(lambda v: v.norm(p), lambda v: torch.linalg.vector_norm(v, p), [0.0, 0.0], msg=f"norm p={p} at 0")
    check(lambda v: v.norm(p), lambda v: torch.linalg.vector_norm(v, p), [0.0, -2.0, 1.0], msg=f"norm p={p}")
