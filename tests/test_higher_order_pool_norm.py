"""Second-order gradients (``create_graph=True``) through the pooling, normalisation, padding
and resampling ops of ``gdl.nn.functional``, against PyTorch in float64: for each op a
Hessian-vector product (``g = grad(loss, params, create_graph=True)``, then
``grad(Σ g_i·v_i, params)``; loss = ``Σ tanh(op)``, ``Σ op²`` or ``Σ op³``), a few third-order products
(the graph backward of the graph backward), and ``gdl.testing.gradcheck`` of the graph
path's first gradient."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl.testing import GradcheckError, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL, ATOL = 1e-7, 1e-9


def _np(t, shape):
    if t is None:
        return np.zeros(shape)
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _loss(lib, y, outer):
    if outer == "cube":  # (Σ y² of a normalised y hardly depends on x: a Hessian near 0)
        return (y * y * y).sum()
    return (lib.tanh(y) if outer == "tanh" else y * y).sum()


def _derivatives(lib, fn, arrays, vs, us, outer):
    """First gradients, the Hessian-vector product with ``vs`` and, if ``us`` is given, the
    third-order product (the gradient of ``Σ hv·u``), all as numpy arrays."""
    if lib is gdl:
        mk = lambda a, r=True: gdl.tensor(np.array(a, dtype=np.float64), requires_grad=r)  # noqa: E731
        grad = gdl.autograd.grad
    else:
        mk = lambda a, r=True: torch.tensor(np.array(a, dtype=np.float64), requires_grad=r)  # noqa: E731
        grad = torch.autograd.grad
    params = [mk(a) for a in arrays]
    gs = grad(_loss(lib, fn(*params), outer), params, create_graph=True, allow_unused=True)
    if lib is gdl:
        assert any(g is not None and g.requires_grad for g in gs), "create_graph gradients must carry a graph"
    s = sum((g * mk(v, False)).sum() for g, v in zip(gs, vs) if g is not None)
    hs = grad(s, params, create_graph=us is not None, allow_unused=True)
    out = [[_np(g, a.shape) for g, a in zip(gs, arrays)], [_np(h, a.shape) for h, a in zip(hs, arrays)]]
    if us is not None:
        s3 = sum((h * mk(u, False)).sum() for h, u in zip(hs, us) if h is not None)
        ts = grad(s3, params, allow_unused=True)
        out.append([_np(t, a.shape) for t, a in zip(ts, arrays)])
    return out


def _check(gdl_fn, torch_fn, shapes, outer="tanh", seed=0, positive=False, third=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    vs = [rng.standard_normal(s) for s in shapes]
    us = [rng.standard_normal(s) for s in shapes] if third else None
    mine = _derivatives(gdl, gdl_fn, arrays, vs, us, outer)
    ref = _derivatives(torch, torch_fn, arrays, vs, us, outer)
    assert max(np.abs(h).max() for h in ref[1]) > 1e-6, "a test whose Hessian-vector product is 0 proves nothing"
    for order, (a_list, b_list) in enumerate(zip(mine, ref), start=1):
        for i, (a, b) in enumerate(zip(a_list, b_list)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"order {order}, input {i}")


def _both(name, *args, **kwargs):
    """The pair (gdl op, torch op) for ``F.name(x, *args, **kwargs)``."""
    return (lambda x: getattr(F, name)(x, *args, **kwargs), lambda x: getattr(TF, name)(x, *args, **kwargs))


# -- pooling --------------------------------------------------------------------------------------

POOLS = [
    ("max2d", _both("max_pool2d", 2), (2, 2, 4, 6)),
    ("max2d_overlap_pad_ceil", _both("max_pool2d", 3, 2, 1, ceil_mode=True), (2, 2, 7, 6)),
    ("max2d_dilated", _both("max_pool2d", (2, 3), (1, 2), (1, 0), dilation=(2, 1)), (1, 2, 6, 7)),
    ("max1d", _both("max_pool1d", 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    ("avg2d", _both("avg_pool2d", 2), (2, 2, 4, 6)),
    ("avg2d_pad_nocount_ceil", _both("avg_pool2d", 3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 2, 7, 6)),
    ("avg2d_divisor", _both("avg_pool2d", 3, 1, 1, divisor_override=5), (1, 2, 5, 4)),
    ("avg1d", _both("avg_pool1d", 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    ("adaptive_avg2d", _both("adaptive_avg_pool2d", (3, 4)), (2, 2, 7, 6)),
    ("adaptive_avg2d_unbatched", _both("adaptive_avg_pool2d", (2, None)), (2, 5, 3)),
    ("adaptive_avg1d", _both("adaptive_avg_pool1d", 4), (2, 3, 9)),
    ("adaptive_max2d", _both("adaptive_max_pool2d", (3, 4)), (2, 2, 7, 6)),
    ("adaptive_max1d", _both("adaptive_max_pool1d", 4), (3, 9)),
    ("max3d", _both("max_pool3d", 2, (1, 2, 2), 1, ceil_mode=True), (2, 2, 3, 5, 4)),
    ("avg3d", _both("avg_pool3d", 3, 2, 1, count_include_pad=False), (2, 4, 5, 5)),
    ("avg3d_ceil", _both("avg_pool3d", 2, ceil_mode=True), (1, 2, 3, 5, 4)),
    ("adaptive_avg3d", _both("adaptive_avg_pool3d", (2, 3, 2)), (2, 2, 3, 5, 4)),
    ("adaptive_max3d", _both("adaptive_max_pool3d", (2, 3, 2)), (2, 2, 3, 5, 4)),
]


@pytest.mark.parametrize("outer", ["tanh", "square"])
@pytest.mark.parametrize("name, fns, shape", POOLS, ids=[p[0] for p in POOLS])
def test_pool_hvp(name, fns, shape, outer):
    _check(*fns, [shape], outer=outer, seed=len(name))


LP = [
    ("lp2d_p2", _both("lp_pool2d", 2, 2), (2, 2, 4, 6)),
    ("lp2d_p3_stride", _both("lp_pool2d", 3, (2, 3), 1), (1, 2, 4, 6)),
    ("lp1d_p1.5_ceil", _both("lp_pool1d", 1.5, 3, 2, ceil_mode=True), (2, 2, 8)),
    ("lp3d_p2", _both("lp_pool3d", 2, 2), (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("name, fns, shape", LP, ids=[p[0] for p in LP])
def test_lp_pool_hvp(name, fns, shape):
    _check(*fns, [shape], positive=True)


def _unpool(lib_f, pool, unpool):
    def fn(x):
        out, idx = getattr(lib_f, pool)(x, 2, return_indices=True)
        return getattr(lib_f, unpool)(out * out, idx, 2)
    return fn


@pytest.mark.parametrize("pool, unpool, shape", [("max_pool1d", "max_unpool1d", (2, 2, 8)),
                                                  ("max_pool2d", "max_unpool2d", (2, 2, 4, 6)),
                                                  ("max_pool3d", "max_unpool3d", (1, 2, 4, 4, 2))])
def test_max_unpool_hvp(pool, unpool, shape):
    _check(_unpool(F, pool, unpool), _unpool(TF, pool, unpool), [shape])


@pytest.mark.parametrize("name", ["max2d_overlap_pad_ceil", "avg2d_pad_nocount_ceil", "adaptive_avg2d",
                                  "adaptive_max2d", "max3d", "avg3d"])
def test_pool_third_order(name):
    fns, shape = next((f, s) for n, f, s in POOLS if n == name)
    _check(*fns, [shape], third=True)


# -- normalisation --------------------------------------------------------------------------------

C = 3
_RM = np.random.default_rng(5).standard_normal(C)
_RV = np.random.default_rng(6).uniform(0.5, 2.0, C)


def _bn(lib, training):
    f = F if lib is gdl else TF

    def fn(x, w, b):
        rm = lib.tensor(_RM.copy()) if not training else None
        rv = lib.tensor(_RV.copy()) if not training else None
        return f.batch_norm(x, rm, rv, w, b, training=training)

    return fn


NORMS = [
    ("batch_norm_train", _bn(gdl, True), _bn(torch, True), [(4, C, 5), (C,), (C,)]),
    ("batch_norm_train_2d", _bn(gdl, True), _bn(torch, True), [(3, C), (C,), (C,)]),
    ("batch_norm_eval", _bn(gdl, False), _bn(torch, False), [(4, C, 2, 3), (C,), (C,)]),
    ("batch_norm_train_noaffine", lambda x: F.batch_norm(x, None, None, training=True),
     lambda x: TF.batch_norm(x, None, None, training=True), [(4, C, 5)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
     [(2, 4, 3, 2), (4,), (4,)]),
    ("group_norm_1", lambda x, w, b: F.group_norm(x, 1, w, b, eps=1e-3),
     lambda x, w, b: TF.group_norm(x, 1, w, b, eps=1e-3), [(2, 3, 5), (3,), (3,)]),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [(2, C, 6), (C,), (C,)]),
    ("instance_norm_eval", lambda x, w, b: F.instance_norm(x, gdl.tensor(_RM.copy()), gdl.tensor(_RV.copy()), w, b,
                                                           use_input_stats=False),
     lambda x, w, b: TF.instance_norm(x, torch.tensor(_RM.copy()), torch.tensor(_RV.copy()), w, b,
                                      use_input_stats=False), [(2, C, 2, 3), (C,), (C,)]),
    ("rms_norm", lambda x, w: F.rms_norm(x, (3, 4), w, eps=1e-6), lambda x, w: TF.rms_norm(x, (3, 4), w, eps=1e-6),
     [(2, 3, 4), (3, 4)]),
    ("rms_norm_noweight", lambda x: F.rms_norm(x, (4,)), lambda x: TF.rms_norm(x, (4,)), [(2, 3, 4)]),
]


@pytest.mark.parametrize("outer", ["tanh", "cube"])
@pytest.mark.parametrize("name, gfn, tfn, shapes", NORMS, ids=[n[0] for n in NORMS])
def test_norm_hvp(name, gfn, tfn, shapes, outer):
    _check(gfn, tfn, shapes, outer=outer, seed=len(name))


def _bn_composed(x, w, b):
    """Training-mode batch norm from torch's elementary ops: the third-order reference (torch's
    own batch_norm/layer_norm double backward is not exact when differentiated once more)."""
    m = x.mean(dim=(0, 2), keepdim=True)
    xc = x - m
    y = xc / ((xc * xc).mean(dim=(0, 2), keepdim=True) + 1e-5).sqrt()
    return y * w[None, :, None] + b[None, :, None]


def test_norm_third_order():
    _check(_bn(gdl, True), _bn_composed, [(4, C, 3), (C,), (C,)], third=True)
    _check(lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
           [(2, 4, 3), (4,), (4,)], third=True)


def test_batch_norm_running_stats_untouched_by_double_backward():
    rm, rv = gdl.zeros(C), gdl.ones(C)
    x = gdl.tensor(np.random.default_rng(0).standard_normal((4, C, 2)), requires_grad=True)
    y = F.batch_norm(x, rm, rv, training=True)
    before = (rm.numpy().copy(), rv.numpy().copy())
    (g,) = gdl.autograd.grad(gdl.tanh(y).sum(), x, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_array_equal(rm.numpy(), before[0])
    np.testing.assert_array_equal(rv.numpy(), before[1])
    assert x.grad is not None and np.abs(x.grad.numpy()).max() > 1e-6


# -- padding, interpolation, pixel shuffle ------------------------------------------------------------

RESAMPLE = [
    ("pad_constant", _both("pad", (1, 2, 0, 1), value=0.5), (2, 2, 3, 4)),
    ("pad_constant_crop", _both("pad", (-1, 2, 1, -1)), (2, 2, 3, 4)),
    ("pad_reflect", _both("pad", (2, 1, 1, 2), mode="reflect"), (1, 2, 4, 5)),
    ("pad_reflect1d", _both("pad", (3, 2), mode="reflect"), (2, 2, 5)),
    ("pad_replicate", _both("pad", (2, 1, 1, 3), mode="replicate"), (1, 2, 3, 4)),
    ("pad_replicate3d", _both("pad", (1, 1, 2, 0, 0, 1), mode="replicate"), (1, 2, 2, 3, 3)),
    ("pad_circular", _both("pad", (2, 1, 1, 2), mode="circular"), (1, 2, 3, 4)),
    ("nearest", _both("interpolate", scale_factor=2), (2, 2, 3, 4)),
    ("nearest_down", _both("interpolate", size=(2, 3)), (1, 2, 5, 7)),
    ("nearest1d", _both("interpolate", size=7), (2, 2, 5)),
    ("linear", _both("interpolate", size=7, mode="linear"), (2, 2, 5)),
    ("linear_corners", _both("interpolate", scale_factor=1.7, mode="linear", align_corners=True), (2, 2, 5)),
    ("bilinear", _both("interpolate", size=(5, 3), mode="bilinear"), (2, 2, 3, 4)),
    ("bilinear_corners", _both("interpolate", scale_factor=2, mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    ("pixel_shuffle", _both("pixel_shuffle", 2), (2, 8, 2, 3)),
    ("pixel_unshuffle", _both("pixel_unshuffle", 2), (2, 2, 4, 6)),
]


@pytest.mark.parametrize("outer", ["tanh", "square"])
@pytest.mark.parametrize("name, fns, shape", RESAMPLE, ids=[r[0] for r in RESAMPLE])
def test_resample_hvp(name, fns, shape, outer):
    _check(*fns, [shape], outer=outer, seed=len(name))


@pytest.mark.parametrize("name", ["pad_constant_crop", "pad_reflect", "pad_circular", "bilinear", "pixel_shuffle"])
def test_resample_third_order(name):
    fns, shape = next((f, s) for n, f, s in RESAMPLE if n == name)
    _check(*fns, [shape], third=True)


# -- gradcheck of the graph path's first gradient -------------------------------------------------------


def _first_grad(op):
    """``x ↦ ∂Σtanh(op(x))/∂x`` computed with ``create_graph=True``: its own gradient is
    the graph backward's backward."""

    def fn(x):
        with gdl.enable_grad():
            (g,) = gdl.autograd.grad(gdl.tanh(op(x)).sum(), x, create_graph=True)
        return g

    return fn


GRADCHECK = [
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 5, 4)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (1, 2, 5, 4)),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), (2, 2, 7)),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 2, ceil_mode=True), (1, 1, 3, 3, 3)),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), (3, 2, 3)),
    ("group_norm", lambda x: F.group_norm(x, 2), (2, 4, 3)),
    ("rms_norm", lambda x: F.rms_norm(x, (4,), eps=1e-6), (3, 4)),
    ("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect"), (2, 2, 4)),
    ("bilinear", lambda x: F.interpolate(x, size=(4, 3), mode="bilinear"), (1, 2, 3, 2)),
]


@pytest.mark.parametrize("name, op, shape", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_gradcheck_graph_path(name, op, shape):
    x = gdl.tensor(np.random.default_rng(len(name)).standard_normal(shape), requires_grad=True)
    assert gradcheck(_first_grad(op), [x])


def test_gradcheck_catches_a_wrong_graph_backward():
    """The check above can fail: a graph backward that differs from the true one is caught."""
    def wrong(x):
        y = F.max_pool2d(x, 2)
        right = y.grad_fn.graph
        y.grad_fn.graph = lambda g: right(g * 0.5 + g.detach() * 0.5)  # right values, half the derivative
        return y

    x = gdl.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)), requires_grad=True)
    assert gradcheck(_first_grad(lambda t: F.max_pool2d(t, 2)), [x])
    with pytest.raises(GradcheckError):
        gradcheck(_first_grad(wrong), [x])
