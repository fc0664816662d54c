"""gdl.nn.utils.parametrize and gdl.nn.utils.parametrizations (PyTorch's parametrizations:
weight_norm, spectral_norm, orthogonal) and the hook-based weight_norm / spectral_norm of
gdl.nn.utils, without PyTorch (tests/test_torch_crosscheck_parametrize.py compares with it)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.nn.utils import parametrizations as PS
from gdl.nn.utils import parametrize as P


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Double(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, Y):
        return Y / 2


class Plus1(nn.Module):
    def forward(self, X):
        return X + 1


class RankOne(nn.Module):
    """Two originals: ``forward(x, y) = x yᵀ``."""

    def forward(self, x, y):
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z):
        return Z[:, 0].clone(), gdl.ones(Z.shape[1], dtype=Z.dtype)


def _np(t):
    return np.asarray(t.numpy(), dtype=np.float64)


def _linear(i=3, o=3):
    return nn.Linear(i, o, dtype=gdl.float64)


# -- registration, state_dict, gradients -----------------------------------------------------------------
def test_register_makes_a_property_and_pytorch_state_dict_keys(backend):
    m = _linear()
    assert P.register_parametrization(m, "weight", Symmetric()) is m
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert P.type_before_parametrizations(m) is nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert isinstance(m.parametrizations, nn.ModuleDict)
    assert isinstance(m.parametrizations.weight, P.ParametrizationList)
    assert isinstance(m.parametrizations.weight, nn.ModuleList)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    W = _np(m.weight)
    np.testing.assert_allclose(W, W.T)
    # the original holds right_inverse(weight) = its upper triangle
    np.testing.assert_allclose(_np(m.parametrizations.weight.original), np.triu(W))
    assert "weight" not in m._parameters and "weight" not in m.__dict__
    # a fresh Linear does not see the property (a class per module)
    assert isinstance(_linear().weight, nn.Parameter)


def test_gradients_reach_the_original(backend):
    m = _linear()
    P.register_parametrization(m, "weight", Symmetric())
    x = gdl.randn(4, 3, dtype=gdl.float64)
    m(x).sum().backward()
    orig = m.parametrizations.weight.original
    assert orig.grad is not None and orig.grad.shape == (3, 3)
    # d/dA sum(x (A.triu + A.triu(1)^T)^T) : column sums of x routed through the symmetrisation
    s = _np(x).sum(0)
    G = np.tile(s, (3, 1))          # d sum / dW[i, j] = s[j]
    expect = np.triu(G) + np.triu(G.T, 1)
    np.testing.assert_allclose(_np(orig.grad), expect, rtol=1e-12)
    # an optimizer on model.parameters() trains the original
    opt = gdl.optim.SGD(m.parameters(), lr=0.1)
    before = _np(orig).copy()
    opt.step()
    assert not np.allclose(_np(m.parametrizations.weight.original), before)
    W = _np(m.weight)
    np.testing.assert_allclose(W, W.T)


def test_assignment_goes_through_right_inverse(backend):
    m = _linear()
    P.register_parametrization(m, "weight", Symmetric())
    orig = m.parametrizations.weight.original
    A = _np(gdl.randn(3, 3, dtype=gdl.float64))
    A = A + A.T
    m.weight = gdl.tensor(A)
    assert m.parametrizations.weight.original is orig  # the same Parameter object
    np.testing.assert_allclose(_np(m.weight), A, rtol=1e-12)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    with pytest.raises(KeyError, match="already exists"):
        m.weight = nn.Parameter(gdl.tensor(A))


def test_assignment_without_right_inverse_fails(backend):
    m = _linear()
    P.register_parametrization(m, "weight", Plus1())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = gdl.zeros(3, 3, dtype=gdl.float64)


def test_chaining_two_parametrizations(backend):
    m = _linear()
    w0 = _np(m.weight).copy()
    P.register_parametrization(m, "weight", Double())
    P.register_parametrization(m, "weight", Plus1())
    assert len(m.parametrizations.weight) == 2
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(_np(m.parametrizations.weight.original), w0 / 2)
    np.testing.assert_allclose(_np(m.weight), w0 + 1, rtol=1e-12)  # Plus1(Double(w0 / 2))
    with pytest.raises(RuntimeError, match="Plus1 does not implement right_inverse"):
        m.weight = gdl.zeros(3, 3, dtype=gdl.float64)


def test_remove_leave_parametrized(backend):
    m = _linear()
    P.register_parametrization(m, "weight", Double())
    P.register_parametrization(m, "weight", Plus1())
    orig = m.parametrizations.weight.original
    value = _np(m.weight).copy()
    assert P.remove_parametrizations(m, "weight") is m
    assert type(m) is nn.Linear and not P.is_parametrized(m)
    assert "parametrizations" not in m._modules
    assert m.weight is orig and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), value)
    assert list(m.state_dict()) == ["bias", "weight"]
    m(gdl.ones(1, 3, dtype=gdl.float64)).sum().backward()
    assert m.weight.grad is not None


def test_remove_leave_unparametrized(backend):
    m = _linear()
    w0 = _np(m.weight).copy()
    P.register_parametrization(m, "weight", Double())
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(_np(m.weight), w0 / 2)


def test_two_tensors_parametrized_then_one_removed(backend):
    m = _linear()
    P.register_parametrization(m, "weight", Double())
    P.register_parametrization(m, "bias", Double())
    assert list(m.state_dict()) == ["parametrizations.weight.original", "parametrizations.bias.original"]
    P.remove_parametrizations(m, "weight")
    assert type(m).__name__ == "ParametrizedLinear" and P.is_parametrized(m, "bias")
    assert list(m.state_dict()) == ["weight", "parametrizations.bias.original"]
    P.remove_parametrizations(m, "bias")
    assert type(m) is nn.Linear


def test_tuple_right_inverse_gives_original0_original1(backend):
    m = nn.Linear(2, 4, dtype=gdl.float64)
    P.register_parametrization(m, "weight", RankOne())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    pl = m.parametrizations.weight
    assert not pl.is_tensor and pl.ntensors == 2
    assert isinstance(pl.original0, nn.Parameter) and isinstance(pl.original1, nn.Parameter)
    assert np.linalg.matrix_rank(_np(m.weight)) == 1
    m(gdl.ones(3, 2, dtype=gdl.float64)).sum().backward()
    assert pl.original0.grad.shape == (4,) and pl.original1.grad.shape == (2,)
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    value = _np(m.weight).copy()
    P.remove_parametrizations(m, "weight")
    assert isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), value)


def test_state_dict_round_trip(backend):
    a, b = _linear(), _linear()
    for m in (a, b):
        P.register_parametrization(m, "weight", Symmetric())
    b.load_state_dict(a.state_dict())
    x = gdl.randn(2, 3, dtype=gdl.float64)
    np.testing.assert_allclose(_np(a(x)), _np(b(x)))
    # a nested model: the prefix is the child's path
    model = nn.Sequential(_linear(), nn.ReLU(), _linear())
    P.register_parametrization(model[2], "weight", Double())
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.bias", "2.parametrizations.weight.original"]
    model2 = nn.Sequential(_linear(), nn.ReLU(), _linear())
    P.register_parametrization(model2[2], "weight", Double())
    model2.load_state_dict(model.state_dict())
    np.testing.assert_allclose(_np(model(x)), _np(model2(x)))


def test_buffer_parametrization(backend):
    m = nn.BatchNorm1d(3, dtype=gdl.float64)
    P.register_parametrization(m, "running_var", Double())
    keys = list(m.state_dict())
    assert "parametrizations.running_var.original" in keys and "running_var" not in keys
    orig = m.parametrizations.running_var.original
    assert not isinstance(orig, nn.Parameter) and "original" in m.parametrizations.running_var._buffers
    np.testing.assert_allclose(_np(m.running_var), np.ones(3))
    P.remove_parametrizations(m, "running_var")
    assert "running_var" in m._buffers


def test_training_mode_follows_the_module(backend):
    m = _linear().eval()
    p = Double()
    P.register_parametrization(m, "weight", p)
    assert p.training is False
    m.train()
    assert p.training is True


def test_cached(backend):
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    m = _linear()
    P.register_parametrization(m, "weight", Counting())
    calls.clear()
    with P.cached():
        w1 = m.weight
        w2 = m.weight
        with P.cached():  # nested: still the same cache
            assert m.weight is w1
    assert w1 is w2 and len(calls) == 1
    _ = m.weight
    assert len(calls) == 2
    with P.cached():
        x = gdl.ones(2, 3, dtype=gdl.float64)
        (m(x) + m(x)).sum().backward()
    assert len(calls) == 3
    np.testing.assert_allclose(_np(m.parametrizations.weight.original.grad), np.full((3, 3), 4.0))


def test_dotted_import_and_attributes():
    import gdl.nn.utils.parametrizations as PS2
    import gdl.nn.utils.parametrize as P2

    from gdl.nn.utils import parametrize as P3

    assert P2 is P3 is gdl.nn.utils.parametrize is gdl.nn.parametrize
    assert PS2 is gdl.nn.utils.parametrizations is gdl.nn.parametrizations
    assert callable(gdl.nn.utils.parametrize.register_parametrization)


def test_errors(backend):
    m = _linear()
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(m, "nothing", Double())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(m, "weight")

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:2]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(_linear(), "weight", Shrink())
    ok = P.register_parametrization(_linear(), "weight", Shrink(), unsafe=True)
    assert ok.weight.shape == (2, 3)

    class ToFloat32(nn.Module):
        def forward(self, X):
            return X.to(gdl.float32)

    with pytest.raises(ValueError, match="may not change the dtype"):
        P.register_parametrization(_linear(), "weight", ToFloat32())
    # a second, chained registration is checked too
    m2 = _linear()
    P.register_parametrization(m2, "weight", Double())
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m2, "weight", Shrink())
    assert len(m2.parametrizations.weight) == 1

    class NotATensor(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return 3

    with pytest.raises(ValueError, match="must return a Tensor"):
        P.register_parametrization(_linear(), "weight", NotATensor())


def test_deepcopy_and_no_pickle(backend):
    import pickle

    m = _linear()
    P.register_parametrization(m, "weight", Double())
    c = copy.deepcopy(m)
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    np.testing.assert_allclose(_np(c.weight), _np(m.weight))
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(m)


def test_transfer_parametrizations_and_params(backend):
    a, b = _linear(), _linear()
    P.register_parametrization(a, "weight", Double())
    P.transfer_parametrizations_and_params(a, b)
    assert P.is_parametrized(b, "weight")
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    np.testing.assert_allclose(_np(b.weight), _np(a.weight))


# -- weight_norm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(backend, dim):
    m = nn.Linear(4, 3, dtype=gdl.float64)
    w0 = _np(m.weight).copy()
    PS.weight_norm(m, dim=dim)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    expect_g = {0: np.linalg.norm(w0, axis=1, keepdims=True), 1: np.linalg.norm(w0, axis=0, keepdims=True),
                None: np.linalg.norm(w0)}[dim]
    np.testing.assert_allclose(_np(g), expect_g, rtol=1e-12)
    assert g.shape == np.shape(expect_g)
    np.testing.assert_allclose(_np(v), w0)
    np.testing.assert_allclose(_np(m.weight), w0, rtol=1e-12)
    # scaling g scales the weight; the direction comes from v
    with gdl.no_grad():
        g.data = g.data * 3
    np.testing.assert_allclose(_np(m.weight), 3 * w0, rtol=1e-12)
    m(gdl.ones(2, 4, dtype=gdl.float64)).sum().backward()
    assert g.grad.shape == g.shape and v.grad.shape == v.shape
    # the gradient of v is orthogonal to v (per normalised slice)
    if dim == 0:
        np.testing.assert_allclose((_np(v.grad) * _np(v)).sum(1), 0, atol=1e-12)
    P.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(_np(m.weight), 3 * w0, rtol=1e-12)


def test_weight_norm_conv(backend):
    m = nn.Conv2d(2, 4, 3, dtype=gdl.float64)
    PS.weight_norm(m)
    assert m.parametrizations.weight.original0.shape == (4, 1, 1, 1)
    x = gdl.randn(1, 2, 5, 5, dtype=m.weight.dtype)
    assert m(x).shape == (1, 4, 3, 3)


# -- spectral_norm ----------------------------------------------------------------------------------------
def test_spectral_norm(backend):
    m = nn.Linear(6, 5, dtype=gdl.float64)
    PS.spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    sn = m.parametrizations.weight[0]
    u_buf = sn._u
    assert sn._u.shape == (5,) and sn._v.shape == (6,)
    for _ in range(60):  # training-mode accesses iterate the power method
        W = m.weight
    assert sn._u is u_buf  # updated in place, as PyTorch
    np.testing.assert_allclose(np.linalg.norm(_np(W), 2), 1.0, rtol=1e-6)
    orig = _np(m.parametrizations.weight.original)
    np.testing.assert_allclose(_np(W), orig / np.linalg.norm(orig, 2), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(_np(sn._u)), 1.0)
    # eval mode: the buffers stay put
    m.eval()
    u = _np(sn._u).copy()
    _ = m.weight
    np.testing.assert_array_equal(_np(sn._u), u)
    m.train()
    m(gdl.ones(2, 6, dtype=gdl.float64)).sum().backward()
    assert m.parametrizations.weight.original.grad.shape == (5, 6)
    assert sn._u.grad is None


def test_spectral_norm_dims_and_1d(backend):
    ct = nn.ConvTranspose2d(3, 4, 2)
    PS.spectral_norm(ct)
    assert ct.parametrizations.weight[0].dim == 1 and ct.parametrizations.weight[0]._u.shape == (4,)
    conv = nn.Conv2d(3, 4, 2)
    PS.spectral_norm(conv)
    assert conv.parametrizations.weight[0]._u.shape == (4,) and conv.parametrizations.weight[0]._v.shape == (12,)
    # a 1-D tensor: normalised exactly, no buffers
    m = nn.Linear(3, 4, dtype=gdl.float64)
    PS.spectral_norm(m, "bias")
    np.testing.assert_allclose(np.linalg.norm(_np(m.bias)), 1.0)
    assert list(m.state_dict()) == ["weight", "parametrizations.bias.original"]
    with pytest.raises(IndexError):
        PS.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations"):
        PS.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter or buffer"):
        PS.spectral_norm(nn.Linear(2, 2), "nope")


# -- orthogonal ---------------------------------------------------------------------------------------------
def _check_orthogonal(W, tol=1e-10):
    W = _np(W)
    if W.shape[-2] < W.shape[-1]:
        W = np.swapaxes(W, -1, -2)
    k = W.shape[-1]
    np.testing.assert_allclose(np.swapaxes(W, -1, -2) @ W, np.broadcast_to(np.eye(k), W.shape[:-2] + (k, k)),
                               atol=tol)


@pytest.mark.parametrize("omap", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal_maps(backend, omap, shape):
    m = nn.Linear(shape[1], shape[0], dtype=gdl.float64)
    PS.orthogonal(m, orthogonal_map=omap)
    expect_map = omap or ("matrix_exp" if shape[0] == shape[1] else "householder")
    assert m.parametrizations.weight[0].orthogonal_map.name == expect_map
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    _check_orthogonal(m.weight)
    # the weight starts as the original one made orthogonal (square: its QR's Q)
    if shape[0] == shape[1]:
        np.testing.assert_allclose(_np(m.weight), _np(m.parametrizations.weight[0].base), atol=1e-12)
    opt = gdl.optim.SGD(m.parameters(), lr=0.5)
    x = gdl.randn(7, shape[1], dtype=gdl.float64)
    for _ in range(3):
        opt.zero_grad()
        ((m(x) - 1) ** 2).sum().backward()
        opt.step()
    _check_orthogonal(m.weight)
    # assigning an orthogonal matrix resets the base
    Q = np.linalg.qr(np.random.RandomState(1).randn(max(shape), min(shape)))[0]
    Q = Q if shape[0] >= shape[1] else Q.T
    m.weight = gdl.tensor(Q)
    np.testing.assert_allclose(_np(m.weight), Q, atol=1e-12)


def test_orthogonal_without_trivialization(backend):
    for shape in [(4, 4), (5, 3), (3, 5)]:
        m = nn.Linear(shape[1], shape[0], dtype=gdl.float64)
        w0 = _np(m.weight).copy()
        PS.orthogonal(m, orthogonal_map="householder", use_trivialization=False)
        assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
        _check_orthogonal(m.weight)
        # the weight is the Q of w0's QR with R's diagonal positive
        tall = w0 if shape[0] >= shape[1] else w0.T
        q, r = np.linalg.qr(tall)
        q = q * np.sign(np.diag(r))
        np.testing.assert_allclose(_np(m.weight), q if shape[0] >= shape[1] else q.T, atol=1e-12)
        m(gdl.ones(2, shape[1], dtype=gdl.float64)).sum().backward()
        opt = gdl.optim.SGD(m.parameters(), lr=0.3)
        opt.step()
        _check_orthogonal(m.weight)
    for omap in ("cayley", "matrix_exp"):
        m = _linear()
        PS.orthogonal(m, orthogonal_map=omap, use_trivialization=False)
        _check_orthogonal(m.weight)
        with pytest.raises(NotImplementedError):
            m.weight = gdl.eye(3, dtype=gdl.float64)


def test_orthogonal_batched_conv_weight(backend):
    m = nn.Conv2d(2, 3, (4, 2), bias=False, dtype=gdl.float64)
    PS.orthogonal(m)  # a batch (3, 2) of 4 x 2 matrices
    _check_orthogonal(m.weight)
    m(gdl.randn(1, 2, 5, 5, dtype=gdl.float64)).sum().backward()
    assert m.parametrizations.weight.original.grad.shape == (3, 2, 4, 2)


def test_orthogonal_matrix_exp_of_a_large_matrix(backend):
    m = _linear(6, 6)
    PS.orthogonal(m, orthogonal_map="matrix_exp", use_trivialization=False)
    with gdl.no_grad():
        m.parametrizations.weight.original.data = (gdl.randn(6, 6, dtype=gdl.float64) * 10).data
    _check_orthogonal(m.weight, tol=1e-9)  # the scaling-and-squaring path


def test_orthogonal_errors(backend):
    with pytest.raises(ValueError, match="matrix or batch"):
        PS.orthogonal(_linear(), "bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        PS.orthogonal(_linear(), orthogonal_map="qr")
    with pytest.raises(ValueError, match="no parameter or buffer"):
        PS.orthogonal(_linear(), "nope")
    m = _linear()
    PS.orthogonal(m)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        m.weight = gdl.eye(2, dtype=gdl.float64)


# -- the hook-based weight_norm / spectral_norm -------------------------------------------------------------
def test_old_weight_norm(backend):
    m = nn.Linear(4, 3, dtype=gdl.float64)
    w0 = _np(m.weight).copy()
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        assert gdl.nn.utils.weight_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(_np(m.weight_g), np.linalg.norm(w0, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(_np(m.weight), w0, rtol=1e-12)
    with gdl.no_grad():
        m.weight_g.data = m.weight_g.data * 2
    x = gdl.ones(2, 4, dtype=gdl.float64)
    out = m(x)  # the pre-hook recomputes weight
    np.testing.assert_allclose(_np(out), np.ones((2, 4)) @ (2 * w0).T + _np(m.bias), rtol=1e-12)
    out.sum().backward()
    assert m.weight_g.grad.shape == (3, 1) and m.weight_v.grad.shape == (3, 4)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdl.nn.utils.weight_norm(m)
    assert gdl.nn.utils.remove_weight_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), 2 * w0, rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        gdl.nn.utils.remove_weight_norm(m)
    m2 = nn.Linear(4, 3, dtype=gdl.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdl.nn.utils.weight_norm(m2, dim=None)
    assert m2.weight_g.shape == ()


def test_weight_norm_loads_a_state_dict_of_the_old_weight_norm(backend):
    gdl.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = nn.Sequential(nn.Linear(3, 2, dtype=gdl.float64), nn.Tanh(),
                            gdl.nn.utils.weight_norm(nn.Linear(2, 4, dtype=gdl.float64)))
    new = nn.Sequential(nn.Linear(3, 2, dtype=gdl.float64), nn.Tanh(),
                        PS.weight_norm(nn.Linear(2, 4, dtype=gdl.float64)))
    state = old.state_dict()
    assert "2.weight_g" in state
    assert new.load_state_dict(state) == ([], [])
    assert "2.weight_g" in state  # the caller's dict is left as it was
    x = gdl.randn(5, 3, dtype=gdl.float64)
    np.testing.assert_array_equal(_np(new(x)), _np(old(x)))
    np.testing.assert_array_equal(_np(new[2].parametrizations.weight.original1), _np(old[2].weight_v))


def test_old_spectral_norm(backend):
    m = nn.Linear(5, 4, dtype=gdl.float64)
    assert gdl.nn.utils.spectral_norm(m) is m
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    u_buf = m.weight_u
    x = gdl.randn(2, 5, dtype=gdl.float64)
    for _ in range(80):
        out = m(x)
    assert m.weight_u is u_buf
    np.testing.assert_allclose(np.linalg.norm(_np(m.weight), 2), 1.0, rtol=1e-6)
    out.sum().backward()
    assert m.weight_orig.grad.shape == (4, 5)
    m.eval()
    u = _np(m.weight_u).copy()
    m(x)
    np.testing.assert_array_equal(_np(m.weight_u), u)
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        gdl.nn.utils.spectral_norm(m)
    w = _np(m.weight).copy()
    gdl.nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(m.weight), w)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        gdl.nn.utils.remove_spectral_norm(m)
    ct = nn.ConvTranspose2d(3, 4, 2)
    gdl.nn.utils.spectral_norm(ct)
    assert ct.weight_u.shape == (4,) and ct.weight_v.shape == (12,)
