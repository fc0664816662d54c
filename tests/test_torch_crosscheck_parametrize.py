"""gdl's parametrizations against PyTorch's (float64): state_dict keys, PyTorch state_dicts
loaded into gdl modules, outputs, gradients and state after SGD steps (spectral_norm's
power-iteration buffers included), and the hook-based weight_norm / spectral_norm."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.nn.utils import parametrizations as TPS  # noqa: E402
from torch.nn.utils import parametrize as TP  # noqa: E402

import gdl  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn.utils import parametrizations as GPS  # noqa: E402
from gdl.nn.utils import parametrize as GP  # noqa: E402

TOL = dict(rtol=1e-9, atol=1e-11)


@pytest.fixture(autouse=True)
def _float64_numpy():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    with gdl.use_backend("numpy"):
        yield
    torch.set_default_dtype(old)


def _t2g_state(tm):
    return {k: gdl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.numpy())


def _assert_states(tm, gm, **tol):
    ts, gs = tm.state_dict(), gm.state_dict()
    assert list(ts) == list(gs)
    for k in ts:
        np.testing.assert_allclose(_np(gs[k]), _np(ts[k]), err_msg=k, **(tol or TOL))


def _train_both(tm, gm, x, steps=3, lr=0.1, tol=None):
    """Load tm's state into gm, then SGD steps on both comparing outputs, gradients and state."""
    gm.load_state_dict(_t2g_state(tm))
    tol = tol or TOL
    topt = torch.optim.SGD(tm.parameters(), lr=lr)
    gopt = gdl.optim.SGD(gm.parameters(), lr=lr)
    assert [n for n, _ in tm.named_parameters()] == [n for n, _ in gm.named_parameters()]
    for _ in range(steps):
        yt = tm(torch.tensor(x))
        yg = gm(gdl.tensor(x))
        np.testing.assert_allclose(_np(yg), _np(yt), **tol)
        ((yt - 0.3) ** 2).sum().backward()
        ((yg - 0.3) ** 2).sum().backward()
        for (name, p), q in zip(tm.named_parameters(), gm.parameters()):
            np.testing.assert_allclose(_np(q.grad), _np(p.grad), err_msg=name, **tol)
        topt.step()
        gopt.step()
        topt.zero_grad()
        gopt.zero_grad()
    _assert_states(tm, gm, **tol)


def _pair(make_t, make_g, seed=0):
    torch.manual_seed(seed)
    tm = make_t()
    gm = make_g()
    gm.load_state_dict(_t2g_state(tm))
    return tm, gm


def _x(*shape, seed=1):
    return np.random.RandomState(seed).randn(*shape)


# custom parametrizations, one per framework
class TSym(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class GSym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class TScale(torch.nn.Module):
    def forward(self, X):
        return 3 * X.tanh()


class GScale(nn.Module):
    def forward(self, X):
        return 3 * X.tanh()


class TRankOne(torch.nn.Module):
    def forward(self, x, y):
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z):
        return Z[:, 0].clone(), Z[0, :].clone()


class GRankOne(nn.Module):
    def forward(self, x, y):
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z):
        return Z[:, 0].clone(), Z[0, :].clone()


def _lin_pair(i, o, seed=0):
    return _pair(lambda: torch.nn.Linear(i, o), lambda: nn.Linear(i, o, dtype=gdl.float64), seed)


# -- parametrize ---------------------------------------------------------------------------------------
def test_custom_chain_keys_values_training_and_removal():
    tm, gm = _lin_pair(4, 4)
    for reg, m, a, b in ((TP.register_parametrization, tm, TSym(), TScale()),
                         (GP.register_parametrization, gm, GSym(), GScale())):
        reg(m, "weight", a)
        reg(m, "weight", b)
    _assert_states(tm, gm)  # the same original from the same weight
    _train_both(tm, gm, _x(5, 4))
    # assignment through right_inverse (TScale has none: both refuse)
    with pytest.raises(RuntimeError, match="right_inverse"):
        tm.weight = torch.eye(4)
    with pytest.raises(RuntimeError, match="right_inverse"):
        gm.weight = gdl.eye(4, dtype=gdl.float64)
    TP.remove_parametrizations(tm, "weight")
    GP.remove_parametrizations(gm, "weight")
    _assert_states(tm, gm)
    assert type(gm) is nn.Linear and type(tm) is torch.nn.Linear


def test_assignment_and_leave_unparametrized():
    tm, gm = _lin_pair(3, 3)
    TP.register_parametrization(tm, "weight", TSym())
    GP.register_parametrization(gm, "weight", GSym())
    A = _x(3, 3)
    tm.weight = torch.tensor(A)
    gm.weight = gdl.tensor(A)
    _assert_states(tm, gm)
    np.testing.assert_allclose(_np(gm.weight), _np(tm.weight), **TOL)
    TP.remove_parametrizations(tm, "weight", leave_parametrized=False)
    GP.remove_parametrizations(gm, "weight", leave_parametrized=False)
    _assert_states(tm, gm)


def test_tuple_right_inverse():
    tm, gm = _lin_pair(3, 4)
    TP.register_parametrization(tm, "weight", TRankOne())
    GP.register_parametrization(gm, "weight", GRankOne())
    _assert_states(tm, gm)
    _train_both(tm, gm, _x(2, 3))


def test_bias_and_weight_and_nested_keys():
    def make_t():
        m = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
        TP.register_parametrization(m[0], "weight", TSym())
        TP.register_parametrization(m[2], "bias", TScale())
        return m

    def make_g():
        m = nn.Sequential(nn.Linear(3, 3, dtype=gdl.float64), nn.Tanh(), nn.Linear(3, 2, dtype=gdl.float64))
        GP.register_parametrization(m[0], "weight", GSym())
        GP.register_parametrization(m[2], "bias", GScale())
        return m

    tm, gm = _pair(make_t, make_g)
    _train_both(tm, gm, _x(4, 3))


# -- weight_norm ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_linear(dim):
    tm, gm = _lin_pair(5, 3)
    TPS.weight_norm(tm, dim=dim)
    GPS.weight_norm(gm, dim=dim)
    _assert_states(tm, gm)  # g and v from the same weight
    _train_both(tm, gm, _x(4, 5))
    TP.remove_parametrizations(tm, "weight")
    GP.remove_parametrizations(gm, "weight")
    _assert_states(tm, gm)


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_weight_norm_conv1d(dim):
    tm, gm = _pair(lambda: torch.nn.Conv1d(2, 3, 3), lambda: nn.Conv1d(2, 3, 3, dtype=gdl.float64))
    TPS.weight_norm(tm, dim=dim)
    GPS.weight_norm(gm, dim=dim)
    _assert_states(tm, gm)
    _train_both(tm, gm, _x(2, 2, 7))


def test_weight_norm_takes_torchs_old_weight_g_and_weight_v():
    with warnings.catch_warnings():  # the deprecated hook-based one: weight_g, weight_v
        warnings.simplefilter("ignore", FutureWarning)
        tm = torch.nn.utils.weight_norm(torch.nn.Linear(5, 3))
    gm = GPS.weight_norm(nn.Linear(5, 3, dtype=gdl.float64))
    gm.load_state_dict(_t2g_state(tm))
    x = _x(4, 5)
    np.testing.assert_allclose(_np(gm(gdl.tensor(x))), _np(tm(torch.tensor(x))), **TOL)
    tn = TPS.weight_norm(torch.nn.Linear(5, 3))  # torch converts the old keys the same way
    tn.load_state_dict(tm.state_dict())
    _assert_states(tn, gm)


# -- spectral_norm ------------------------------------------------------------------------------------------
def test_spectral_norm_linear_buffers_after_training():
    tm, gm = _lin_pair(6, 4)
    TPS.spectral_norm(tm)
    GPS.spectral_norm(gm)
    assert list(tm.state_dict()) == list(gm.state_dict())
    _train_both(tm, gm, _x(3, 6), steps=4)  # _u and _v are compared in the state
    # eval mode: no power iteration in either
    tm.eval()
    gm.eval()
    _train_both(tm, gm, _x(3, 6, seed=2), steps=2)
    TP.remove_parametrizations(tm, "weight")
    GP.remove_parametrizations(gm, "weight")
    _assert_states(tm, gm)


@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_conv_and_conv_transpose(n_iter):
    for make_t, make_g, xs in (
        (lambda: torch.nn.Conv2d(2, 3, 2), lambda: nn.Conv2d(2, 3, 2, dtype=gdl.float64), (2, 2, 4, 4)),
        (lambda: torch.nn.ConvTranspose2d(2, 3, 2), lambda: nn.ConvTranspose2d(2, 3, 2, dtype=gdl.float64),
         (2, 2, 3, 3)),
    ):
        tm, gm = _pair(make_t, make_g)
        TPS.spectral_norm(tm, n_power_iterations=n_iter)
        GPS.spectral_norm(gm, n_power_iterations=n_iter)
        assert tm.parametrizations.weight[0].dim == gm.parametrizations.weight[0].dim
        _train_both(tm, gm, _x(*xs), steps=3)


def test_spectral_norm_registration_runs_15_power_iterations():
    torch.manual_seed(0)
    tm = torch.nn.Linear(5, 7)
    gm = nn.Linear(5, 7, dtype=gdl.float64)
    gm.load_state_dict(_t2g_state(tm))
    torch.manual_seed(3)
    u0 = torch.empty(7).normal_(0, 1)
    v0 = torch.empty(5).normal_(0, 1)
    torch.manual_seed(3)
    TPS.spectral_norm(tm)  # draws u0 then v0, as above
    GPS.spectral_norm(gm)
    sn = gm.parametrizations.weight[0]
    sn._u.data = gdl.nn.functional.normalize(gdl.tensor(u0.numpy()), dim=0).data
    sn._v.data = gdl.nn.functional.normalize(gdl.tensor(v0.numpy()), dim=0).data
    # 15 iterations at construction, one more in the check that register_parametrization runs
    sn._power_method(sn._reshape_weight_to_matrix(gm.parametrizations.weight.original), 16)
    np.testing.assert_allclose(_np(sn._u), _np(tm.parametrizations.weight[0]._u), **TOL)
    np.testing.assert_allclose(_np(sn._v), _np(tm.parametrizations.weight[0]._v), **TOL)


def test_spectral_norm_1d():
    tm, gm = _lin_pair(3, 4)
    TPS.spectral_norm(tm, "bias")
    GPS.spectral_norm(gm, "bias")
    _assert_states(tm, gm)
    _train_both(tm, gm, _x(2, 3))


# -- orthogonal -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("omap", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal(omap, shape):
    tm, gm = _lin_pair(shape[1], shape[0])
    TPS.orthogonal(tm, orthogonal_map=omap)
    GPS.orthogonal(gm, orthogonal_map=omap)
    assert list(tm.state_dict()) == list(gm.state_dict())
    if shape[0] == shape[1]:  # the base is the weight's QR factor (a non-square one is completed at random)
        _assert_states(tm, gm)
    _train_both(tm, gm, _x(6, shape[1]), lr=0.2)
    # assigning resets the base the same way (square: deterministic)
    if shape[0] == shape[1]:
        A = _x(*shape, seed=5)
        tm.weight = torch.tensor(A)
        gm.weight = gdl.tensor(A)
        _assert_states(tm, gm)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal_householder_without_trivialization(shape):
    tm, gm = _lin_pair(shape[1], shape[0])
    TPS.orthogonal(tm, orthogonal_map="householder", use_trivialization=False)
    GPS.orthogonal(gm, orthogonal_map="householder", use_trivialization=False)
    _assert_states(tm, gm)  # geqrf's reflectors, as LAPACK's
    _train_both(tm, gm, _x(6, shape[1]), lr=0.2)
    A = _x(*shape, seed=4)
    tm.weight = torch.tensor(A)
    gm.weight = gdl.tensor(A)
    _assert_states(tm, gm)


@pytest.mark.parametrize("omap", ["matrix_exp", "cayley"])
def test_orthogonal_without_trivialization_square(omap):
    tm, gm = _lin_pair(4, 4)
    TPS.orthogonal(tm, orthogonal_map=omap, use_trivialization=False)
    GPS.orthogonal(gm, orthogonal_map=omap, use_trivialization=False)
    with torch.no_grad():  # a larger original: matrix_exp's scaling and squaring
        tm.parametrizations.weight.original.copy_(torch.tensor(_x(4, 4, seed=7) * 4))
    _train_both(tm, gm, _x(6, 4), lr=0.05)


def test_orthogonal_batched_conv_weight():
    tm, gm = _pair(lambda: torch.nn.Conv2d(2, 3, (4, 2), bias=False),
                   lambda: nn.Conv2d(2, 3, (4, 2), bias=False, dtype=gdl.float64))
    TPS.orthogonal(tm)
    GPS.orthogonal(gm)
    assert list(tm.state_dict()) == list(gm.state_dict())
    _train_both(tm, gm, _x(2, 2, 5, 4), lr=0.1)
    tm2, gm2 = _pair(lambda: torch.nn.Conv2d(3, 2, 3, bias=False),
                     lambda: nn.Conv2d(3, 2, 3, bias=False, dtype=gdl.float64))
    TPS.orthogonal(tm2)  # square 3x3 matrices: matrix_exp, deterministic base
    GPS.orthogonal(gm2)
    _assert_states(tm2, gm2)
    _train_both(tm2, gm2, _x(2, 3, 5, 5), lr=0.1)


# -- hook-based weight_norm / spectral_norm ----------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm(dim):
    tm, gm = _lin_pair(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm, dim=dim)
        gdl.nn.utils.weight_norm(gm, dim=dim)
    _assert_states(tm, gm)
    _train_both(tm, gm, _x(2, 4))
    torch.nn.utils.remove_weight_norm(tm)
    gdl.nn.utils.remove_weight_norm(gm)
    _assert_states(tm, gm)


def test_old_weight_norm_conv1d_as_in_audio_code():
    tm, gm = _pair(lambda: torch.nn.Conv1d(2, 4, 3, padding=1),
                   lambda: nn.Conv1d(2, 4, 3, padding=1, dtype=gdl.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm)
        gdl.nn.utils.weight_norm(gm)
    _assert_states(tm, gm)
    _train_both(tm, gm, _x(2, 2, 6))


def test_old_spectral_norm():
    for make_t, make_g, xs in (
        (lambda: torch.nn.Linear(5, 4), lambda: nn.Linear(5, 4, dtype=gdl.float64), (3, 5)),
        (lambda: torch.nn.ConvTranspose2d(2, 3, 2), lambda: nn.ConvTranspose2d(2, 3, 2, dtype=gdl.float64),
         (2, 2, 3, 3)),
    ):
        tm, gm = _pair(make_t, make_g)
        torch.nn.utils.spectral_norm(tm, n_power_iterations=2)
        gdl.nn.utils.spectral_norm(gm, n_power_iterations=2)
        assert list(tm.state_dict()) == list(gm.state_dict())
        _train_both(tm, gm, _x(*xs), steps=3)  # weight_u / weight_v compared in the state
        tm.eval()
        gm.eval()
        _train_both(tm, gm, _x(*xs, seed=3), steps=1)
        torch.nn.utils.remove_spectral_norm(tm)
        gdl.nn.utils.remove_spectral_norm(gm)
        _assert_states(tm, gm)


def test_gdl_state_dict_loads_into_torch():
    tm, gm = _lin_pair(4, 4)
    TPS.orthogonal(tm)
    GPS.orthogonal(gm)
    GPS.weight_norm(gm, "bias", dim=None)
    TPS.weight_norm(tm, "bias", dim=None)
    gs = {k: torch.tensor(_np(v)) for k, v in gm.state_dict().items()}
    tm.load_state_dict(gs)
    x = _x(3, 4)
    np.testing.assert_allclose(_np(gm(gdl.tensor(x))), _np(tm(torch.tensor(x))), **TOL)
