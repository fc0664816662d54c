"""create_graph=True through the extra math ops (pointwise_extra, gdl.special, matrix_exp, the
scatter-like indexing ops): first gradients and Hessian-vector products against PyTorch in
float64, and gradcheck of the graph path's first gradient."""

import math

import numpy as np
import pytest

import gdl
from gdl import special as gs
from gdl.testing import gradcheck

torch = pytest.importorskip("torch")
ts = torch.special

R = np.random.default_rng(1234)


def _normal(*shape):
    return R.normal(size=shape)


def _uniform(lo, hi, *shape):
    return R.uniform(lo, hi, size=shape)


def _hvp_gdl(fn, arrays, w, vs):
    xs = [gdl.tensor(a, dtype=gdl.float64, requires_grad=True) for a in arrays]
    y = fn(*xs)
    loss = (y * gdl.tensor(w, dtype=gdl.float64)).sum()
    gs_ = gdl.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    second = None
    for g, v in zip(gs_, vs):
        if g is not None:
            term = (g * gdl.tensor(v, dtype=gdl.float64)).sum()
            second = term if second is None else second + term
    hs = gdl.autograd.grad(second, xs, allow_unused=True)
    return [None if g is None else g.data for g in gs_], [None if h is None else h.data for h in hs]


def _hvp_torch(fn, arrays, w, vs):
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y = fn(*xs)
    loss = (y * torch.tensor(w, dtype=torch.float64)).sum()
    gs_ = torch.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    second = sum((g * torch.tensor(v, dtype=torch.float64)).sum() for g, v in zip(gs_, vs) if g is not None)
    hs = torch.autograd.grad(second, xs, allow_unused=True)
    return ([None if g is None else g.detach().numpy() for g in gs_],
            [None if h is None else h.numpy() for h in hs])


def _check(gfn, tfn, arrays, rtol=1e-9, atol=1e-10):
    out_shape = np.asarray(tfn(*[torch.tensor(a) for a in arrays]).detach()).shape
    w = _normal(*out_shape)
    vs = [_normal(*np.shape(a)) for a in arrays]
    g1, h1 = _hvp_gdl(gfn, arrays, w, vs)
    g2, h2 = _hvp_torch(tfn, arrays, w, vs)
    for a, b in list(zip(g1, g2)) + list(zip(h1, h2)):
        if a is None or b is None:  # an input the gradient does not depend on: zero (or absent)
            assert np.allclose(0.0 if a is None else a, 0.0 if b is None else b)
            continue
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# -- elementwise ---------------------------------------------------------------------------------------

POINTWISE = {
    "addcmul": (lambda a, b, c: gdl.addcmul(a, b, c, value=0.7), lambda a, b, c: torch.addcmul(a, b, c, value=0.7),
                lambda: [_normal(3, 1), _normal(3, 4), _normal(4)]),
    "addcdiv": (lambda a, b, c: gdl.addcdiv(a, b, c, value=-1.5), lambda a, b, c: torch.addcdiv(a, b, c, value=-1.5),
                lambda: [_normal(3, 4), _normal(1, 4), _uniform(0.5, 2.0, 3, 4)]),
    "copysign": (lambda a, b: gdl.copysign(a * a, b) * a, lambda a, b: torch.copysign(a * a, b) * a,
                 lambda: [_normal(5), _normal(5)]),
    "fmax": (lambda a, b: gdl.fmax(a * a, b * b * b), lambda a, b: torch.fmax(a * a, b * b * b),
             lambda: [_normal(6), _normal(6)]),
    "fmin": (lambda a, b: gdl.fmin(a * a, b * b * b), lambda a, b: torch.fmin(a * a, b * b * b),
             lambda: [_normal(6), _normal(6)]),
    "sinc": (gdl.sinc, torch.sinc, lambda: [np.array([-2.3, -0.05, 0.03, 0.7, 3.0, 12.4, 1e-3])]),
    "logaddexp2": (gdl.logaddexp2, torch.logaddexp2, lambda: [_normal(2, 3) * 3, _normal(3) * 3]),
    "float_power": (gdl.float_power, torch.float_power, lambda: [_uniform(0.5, 2.0, 4), _normal(4)]),
    "ldexp": (lambda a: gdl.ldexp(a * a, gdl.tensor([3, -1, 0])), lambda a: torch.ldexp(a * a, torch.tensor([3.0, -1.0, 0.0], dtype=torch.float64)),
              lambda: [_normal(3)]),
    "frexp": (lambda a: gdl.frexp(a * a * a)[0], lambda a: torch.frexp(a * a * a)[0], lambda: [_normal(5) * 10]),
    "rad2deg": (lambda a: gdl.rad2deg(a * a), lambda a: torch.rad2deg(a * a), lambda: [_normal(3)]),
    "deg2rad": (lambda a: gdl.deg2rad(a * a), lambda a: torch.deg2rad(a * a), lambda: [_normal(3)]),
    "divide_floor": (lambda a, b: gdl.divide(a * a, b, rounding_mode="floor") + a * b,
                     lambda a, b: torch.divide(a * a, b, rounding_mode="floor") + a * b,
                     lambda: [_normal(4), _uniform(0.5, 2.0, 4)]),
}

SPECIAL = {
    "i0": (gdl.i0, torch.i0, lambda: [_normal(6) * 3]),
    "ndtr": (gs.ndtr, ts.ndtr, lambda: [_normal(6) * 2]),
    "log_ndtr": (gs.log_ndtr, ts.log_ndtr, lambda: [np.array([-30.0, -5.0, -1.0, 0.0, 0.5, 3.0])]),
    "ndtri": (gs.ndtri, ts.ndtri, lambda: [np.array([1e-5, 0.05, 0.3, 0.5, 0.8, 0.97])]),
    "i1": (gs.i1, ts.i1, lambda: [np.array([-4.0, -1.0, -0.2, 0.3, 2.0, 7.5])]),
    "i0e": (gs.i0e, ts.i0e, lambda: [np.array([-4.0, -1.0, -0.2, 0.3, 2.0, 30.0])]),
    "i1e": (gs.i1e, ts.i1e, lambda: [np.array([-4.0, -1.0, -0.2, 0.3, 2.0, 30.0])]),
    "erfcx": (gs.erfcx, ts.erfcx, lambda: [np.array([-2.0, -0.5, 0.0, 0.7, 3.0, 40.0])]),
    "entr": (gs.entr, ts.entr, lambda: [_uniform(0.1, 3.0, 6)]),
    "xlog1py": (gs.xlog1py, ts.xlog1py, lambda: [_normal(2, 3), _uniform(-0.5, 3.0, 3)]),
}


@pytest.mark.parametrize("name", sorted(POINTWISE) + sorted(SPECIAL))
def test_hvp_against_torch(name):
    gfn, tfn, make = {**POINTWISE, **SPECIAL}[name]
    _check(gfn, tfn, make(), rtol=1e-7, atol=1e-9)


def test_sinc_second_derivative_at_zero():
    """The graph's Taylor branch gives sinc''(0) = −π²/3 (PyTorch gives NaN there)."""
    x = gdl.tensor([0.0, 1e-4], dtype=gdl.float64, requires_grad=True)
    (g,) = gdl.autograd.grad(gdl.sinc(x).sum(), x, create_graph=True)
    (h,) = gdl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [-math.pi**2 / 3] * 2, rtol=1e-7)


def test_i1_second_derivative_at_zero_is_finite():
    x = gdl.tensor([0.0], dtype=gdl.float64, requires_grad=True)
    (g,) = gdl.autograd.grad(gs.i1(x).sum(), x, create_graph=True)
    (h,) = gdl.autograd.grad(g.sum(), x)
    assert g.item() == 0.5 and h.item() == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # y = −1: the y-gradient divides by 0
def test_xlog1py_zero_x_at_minus_one():
    """x = 0, y = −1: the x-gradient is 0 (as the first-order path), finite through the graph."""
    x = gdl.tensor([0.0, 1.0], dtype=gdl.float64, requires_grad=True)
    y = gdl.tensor([-1.0, 0.5], dtype=gdl.float64, requires_grad=True)
    gx, _ = gdl.autograd.grad(gs.xlog1py(x, y).sum(), (x, y), create_graph=True)
    assert gx.numpy()[0] == 0.0
    hx, hy = gdl.autograd.grad(gx.sum(), (x, y), allow_unused=True)
    assert np.isfinite(hy.numpy()).all() and hy.numpy()[1] == pytest.approx(1 / 1.5)


# -- linear algebra ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_matrix_exp_hvp(scale):
    a = _normal(2, 3, 3) * scale
    _check(gdl.matrix_exp, torch.matrix_exp, [a], rtol=1e-8, atol=1e-9)


LINALG = {
    "cov": lambda: _check(lambda x: gdl.cov(x * x), lambda x: torch.cov(x * x), [_normal(3, 5)], rtol=1e-8),
    "corrcoef": lambda: _check(gdl.corrcoef, torch.corrcoef, [_normal(3, 5)], rtol=1e-7),
    "renorm": lambda: _check(lambda x: gdl.renorm(x, 2, 0, 1.0), lambda x: torch.renorm(x, 2, 0, 1.0),
                             [_normal(3, 4)], rtol=1e-8),
    "dist": lambda: _check(lambda x, y: gdl.dist(x, y, 3), lambda x, y: torch.dist(x, y, 3),
                           [_normal(4), _normal(4)], rtol=1e-8),
    "vander": lambda: _check(lambda x: gdl.vander(x, 4),  # torch.vander has no double backward
                             lambda x: torch.stack([x**3, x**2, x, torch.ones_like(x)], 1), [_normal(3)], rtol=1e-8),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_composites_hvp(name):
    LINALG[name]()


def test_linalg_products_hvp():
    _check(lambda i, a, b: gdl.addbmm(i, a * a, b), lambda i, a, b: torch.addbmm(i, a * a, b),
           [_normal(2, 2), _normal(3, 2, 4), _normal(3, 4, 2)], rtol=1e-8)
    _check(lambda i, a, b: gdl.addr(i, a * a, b), lambda i, a, b: torch.addr(i, a * a, b),
           [_normal(2, 3), _normal(2), _normal(3)], rtol=1e-8)
    _check(lambda a, b: gdl.vdot(a * a, b), lambda a, b: torch.vdot(a * a, b), [_normal(4), _normal(4)])


# -- scatter-like indexing ----------------------------------------------------------------------------

# each op applied to squares, so that the Hessian is not zero
def _sq(f):
    return lambda *xs: f(*[x * x for x in xs])


_IDX = [[0, 1, 0, 2], [0, 0, 1, 1]]
_MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

INDEXING = {
    "diagonal_scatter": (lambda m, x, s: m.diagonal_scatter(x, s, 1), [(3, 4), (3,)]),
    "diagonal_scatter_neg": (lambda m, x, s: m.diagonal_scatter(x, s, -1), [(3, 4), (2,)]),
    "diagonal_scatter_dims": (lambda m, x, s: m.diagonal_scatter(x, s, 1, 2, 0), [(3, 2, 4), (2, 2)]),
    "select_scatter": (lambda m, x, s: m.select_scatter(x, s, 1, -2), [(3, 4), (3,)]),
    "slice_scatter": (lambda m, x, s: m.slice_scatter(x, s, 1, 1, 4, 2), [(3, 4), (3, 2)]),
    "index_copy": (lambda m, x, s: m.index_copy(x, 1, m.tensor([3, 0]), s), [(3, 4), (3, 2)]),
    "index_fill": (lambda m, x: m.index_fill(x, 1, m.tensor([2, 0]), -1.5), [(3, 4)]),
    "index_put": (lambda m, x, v: m.index_put(x, (m.tensor([0, 2, 2]), m.tensor([1, 3, 0])), v), [(3, 4), (3,)]),
    "index_put_acc": (lambda m, x, v: m.index_put(x, (m.tensor([0, 0, 2]),), v, accumulate=True),
                      [(3, 4), (3, 4)]),
    "put": (lambda m, x, v: m.put(x, m.tensor([0, 5, -1]), v), [(3, 4), (3,)]),
    "put_acc": (lambda m, x, v: m.put(x, m.tensor([0, 5, 0]), v, accumulate=True), [(3, 4), (3,)]),
    "masked_scatter": (lambda m, x, s: m.masked_scatter(x, m.tensor(_MASK), s), [(3, 4), (9,)]),
}
for _reduce in ("sum", "mean", "amax", "amin", "prod"):
    for _inc in (True, False):
        INDEXING[f"scatter_reduce_{_reduce}_{_inc}"] = (
            lambda m, x, s, r=_reduce, i=_inc: m.scatter_reduce(x, 0, m.tensor(_IDX), s, r, include_self=i),
            [(3, 4), (2, 4)],  # (torch's backward refuses a src larger than index)
        )


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_hvp(name):
    op, shapes = INDEXING[name]
    arrays = [_normal(*s) for s in shapes]
    _check(_sq(lambda *xs: op(gdl, *xs)), _sq(lambda *xs: op(torch, *xs)), arrays, rtol=1e-9)


# -- gradcheck of the graph path's first gradient -----------------------------------------------------


def _graph_gradient(fn):
    """``x ↦ ∂(Σ w·fn(x))/∂x`` computed with create_graph=True (the function gradcheck checks)."""

    def first(*xs):
        with gdl.enable_grad():  # gradcheck's numeric evaluations run without grad
            if not all(x.requires_grad for x in xs):
                xs = tuple(x.detach().requires_grad_() for x in xs)
            y = fn(*xs)
            w = gdl.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(y.shape), dtype=gdl.float64)
            gs_ = gdl.autograd.grad((y * w).sum(), xs, create_graph=True)
            return sum(((g * (k + 1.0)).sum() for k, g in enumerate(gs_)), gdl.tensor(0.0, dtype=gdl.float64)) + gs_[0]

    return first


GRADCHECK = {
    "sinc": (gdl.sinc, [np.array([-1.7, -0.04, 0.02, 0.6, 2.5])]),
    "log_ndtr": (gs.log_ndtr, [np.array([-25.0, -3.0, 0.2, 2.0])]),
    "ndtri": (gs.ndtri, [np.array([0.02, 0.4, 0.9])]),
    "i1e": (gs.i1e, [np.array([-3.0, -0.5, 0.4, 5.0])]),
    "erfcx": (gs.erfcx, [np.array([-1.0, 0.3, 4.0, 30.0])]),
    "xlog1py": (gs.xlog1py, [_normal(4), _uniform(-0.5, 2.0, 4)]),
    "addcdiv": (lambda a, b, c: gdl.addcdiv(a, b, c, value=2.0), [_normal(3), _normal(3), _uniform(0.5, 2, 3)]),
    "logaddexp2": (gdl.logaddexp2, [_normal(4), _normal(4)]),
    "matrix_exp": (gdl.matrix_exp, [_normal(3, 3)]),
    "scatter_reduce_prod": (lambda x, s: gdl.scatter_reduce(x, 0, gdl.tensor([[0, 1, 0, 2]]), s, "prod"),
                            [_normal(3, 4), _normal(1, 4)]),
    "scatter_reduce_sum_wide_src": (
        lambda x, s: gdl.scatter_reduce(x * x, 1, gdl.tensor([[0, 2], [1, 1]]), s * s, "sum", include_self=False),
        [_normal(2, 3), _normal(3, 4)]),
    "index_put": (lambda x, v: gdl.index_put(x * x, (gdl.tensor([1, 0, 1]),), v * x[0]), [_normal(2, 3), _normal(3)]),
    "masked_scatter": (lambda x, s: gdl.masked_scatter(x * x, gdl.tensor(_MASK), s * s), [_normal(3, 4), _normal(7)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_graph_gradient(name):
    fn, arrays = GRADCHECK[name]
    xs = [gdl.tensor(a, dtype=gdl.float64, requires_grad=True) for a in arrays]
    with gdl.enable_grad():
        assert gradcheck(_graph_gradient(fn), xs, atol=1e-6, rtol=1e-5)


def test_heaviside_has_no_gradient():
    x = gdl.tensor([-1.0, 0.0, 2.0], dtype=gdl.float64, requires_grad=True)
    assert not gdl.heaviside(x, gdl.tensor([0.5], dtype=gdl.float64)).requires_grad
