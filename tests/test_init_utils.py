"""nn.init (orthogonal_, trunc_normal_, dirac_, eye_, sparse_ ...), nn.utils (total norms,
parameter vectors) and nn.utils.rnn (pad / pack / unpack), on every test backend.

References are hand-computed or NumPy; random initialisers are checked by the properties
and distributions they promise (with tolerances that a wrong method fails)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gdl
from gdl.nn import functional as F
from gdl.nn import init
from gdl.nn.parameter import Parameter
from gdl.nn.rnn_utils import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from gdl.nn.utils import (
    clip_grad_norm_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)
from gdl.sparse_grad import RowSparseGrad
from gdl.testing import gradcheck

F64 = gdl.float64


def t64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


# -- orthogonal_ ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (6, 2, 3), (2, 3, 2)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_orthogonal(backend, shape, gain):
    w = Parameter(gdl.zeros(*shape, dtype=F64))
    out = init.orthogonal_(w, gain=gain)
    assert out is w and w.shape == shape and w.dtype == F64 and w.backend == backend
    m = w.numpy().reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_float32(backend):
    w = init.orthogonal_(gdl.zeros(30, 20))
    assert w.dtype == gdl.float32
    m = w.numpy().astype(np.float64)
    np.testing.assert_allclose(m.T @ m, np.eye(20), atol=2e-5)


def test_orthogonal_sign_correction_makes_it_haar(backend):
    """Without multiplying by sign(diag R), Householder QR gives Q[0, 0] < 0 every time;
    the Haar distribution has it positive half the time."""
    positive = sum(float(init.orthogonal_(gdl.zeros(3, 3, dtype=F64))[0, 0]) > 0 for _ in range(200))
    assert 60 < positive < 140


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dimensions.*\\(4,\\)"):
        init.orthogonal_(gdl.zeros(4))
    with pytest.raises(TypeError, match="orthogonal_: needs a floating-point tensor, got int64"):
        init.orthogonal_(gdl.zeros(3, 3, dtype=gdl.int64))
    with pytest.raises(TypeError, match="orthogonal_: gdl has no Generator objects"):
        init.orthogonal_(gdl.zeros(3, 3), generator=object())
    e = gdl.zeros(0, 3)
    assert init.orthogonal_(e) is e and e.shape == (0, 3)


# -- trunc_normal_ --------------------------------------------------------------------------------


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _trunc_moments(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    z = _cdf(be) - _cdf(al)
    m = (_phi(al) - _phi(be)) / z
    var = 1 + (al * _phi(al) - be * _phi(be)) / z - m * m
    return mean + std * m, std * math.sqrt(var), z


@pytest.mark.parametrize(
    "mean,std,a,b",
    [
        (0.0, 1.0, -2.0, 2.0),  # the default: normals, redrawing the 5 % outside
        (0.0, 0.02, -2.0, 2.0),  # ViT's init: bounds far out, nothing rejected
        (1.0, 2.0, 0.5, 2.0),  # 29 % of the mass: uniform proposals, accept by pdf ratio
        (0.0, 1.0, 1.0, 3.0),  # a one-sided tail
        (-3.0, 1.0, -2.0, 0.0),  # the mean outside [a, b]
    ],
)
@pytest.mark.parametrize("dtype", [gdl.float32, F64])
def test_trunc_normal_bounds_moments_and_cdf(backend, mean, std, a, b, dtype):
    n = 100_000
    w = Parameter(gdl.zeros(n, dtype=dtype))
    assert init.trunc_normal_(w, mean, std, a, b) is w
    assert w.dtype == dtype and w.backend == backend
    x = w.numpy().astype(np.float64)
    assert x.min() >= a and x.max() <= b
    want_mean, want_std, _ = _trunc_moments(mean, std, a, b)
    se = want_std / math.sqrt(n)
    assert abs(x.mean() - want_mean) < 5 * se, (x.mean(), want_mean)
    assert abs(x.std() / want_std - 1) < 0.02, (x.std(), want_std)
    # Kolmogorov-Smirnov distance to the exact truncated-normal CDF (1 % critical value 0.0052)
    xs = np.sort(x)
    al, z = _cdf((a - mean) / std), _trunc_moments(mean, std, a, b)[2]
    cdf = (np.frompyfunc(lambda v: _cdf((v - mean) / std), 1, 1)(xs).astype(np.float64) - al) / z
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks < 0.008, ks


def test_trunc_normal_a_clipped_normal_would_fail_the_moments():
    """The tolerances above tell methods apart: clipping N(0, 1) to [-2, 2] has std 0.95, not 0.88."""
    clipped = np.clip(np.random.default_rng(0).normal(size=100_000), -2, 2)
    assert abs(clipped.std() / _trunc_moments(0.0, 1.0, -2.0, 2.0)[1] - 1) > 0.05


def test_trunc_normal_errors_and_warning():
    with pytest.raises(ValueError, match="trunc_normal_: needs a < b, got a=1.0, b=1.0"):
        init.trunc_normal_(gdl.zeros(3), a=1.0, b=1.0)
    with pytest.raises(ValueError, match="trunc_normal_: std must be a finite number > 0, got -1.0"):
        init.trunc_normal_(gdl.zeros(3), std=-1.0)
    with pytest.raises(TypeError, match="trunc_normal_: mean must be a real Python number, got 'x'"):
        init.trunc_normal_(gdl.zeros(3), mean="x")
    with pytest.warns(UserWarning, match="more than 2 std"):
        w = init.trunc_normal_(gdl.zeros(50), mean=0.0, std=0.5, a=1.5, b=2.0)
    assert float(w.min()) >= 1.5 and float(w.max()) <= 2.0


# -- eye_, dirac_, sparse_, constants -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 5), (4, 2), (3, 3)])
def test_eye(backend, shape):
    w = Parameter(gdl.zeros(*shape))
    assert init.eye_(w) is w and w.dtype == gdl.float32
    np.testing.assert_array_equal(w.numpy(), np.eye(*shape))
    with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions.*\\(2, 2, 2\\)"):
        init.eye_(gdl.zeros(2, 2, 2))


def _dirac_ref(shape, groups):
    w = np.zeros(shape)
    per = shape[0] // groups
    centre = tuple(s // 2 for s in shape[2:])
    for g in range(groups):
        for d in range(min(per, shape[1])):
            w[(g * per + d, d) + centre] = 1
    return w


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 4, 3), 1), ((3, 5, 2, 4), 1), ((4, 2, 3, 3), 2),
                                          ((6, 1, 3, 3, 3), 3), ((2, 3, 1, 1, 5), 1)])
def test_dirac_layout(backend, shape, groups):
    w = Parameter(gdl.ones(*shape))
    assert init.dirac_(w, groups) is w
    np.testing.assert_array_equal(w.numpy(), _dirac_ref(shape, groups))


def test_dirac_convolution_is_the_identity(backend):
    x1 = gdl.randn(2, 4, 9, dtype=F64)
    w1 = init.dirac_(gdl.zeros(4, 4, 5, dtype=F64))
    np.testing.assert_allclose(F.conv1d(x1, w1, padding=2).numpy(), x1.numpy(), atol=1e-14)
    x2 = gdl.randn(2, 4, 6, 7, dtype=F64)
    w2 = init.dirac_(gdl.zeros(4, 2, 3, 3, dtype=F64), groups=2)
    np.testing.assert_allclose(F.conv2d(x2, w2, padding=1, groups=2).numpy(), x2.numpy(), atol=1e-14)
    w3 = init.dirac_(gdl.zeros(6, 4, 3, 3, dtype=F64))  # more outputs than inputs: the extra ones are 0
    out = F.conv2d(x2, w3, padding=1).numpy()
    np.testing.assert_allclose(out[:, :4], x2.numpy(), atol=1e-14)
    assert not out[:, 4:].any()


def test_dirac_errors():
    with pytest.raises(ValueError, match="dirac_: only tensors with 3, 4 or 5 dimensions"):
        init.dirac_(gdl.zeros(3, 3))
    with pytest.raises(ValueError, match="dirac_: dim 0 \\(5\\) must be divisible by groups \\(2\\)"):
        init.dirac_(gdl.zeros(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match="dirac_: groups must be a positive int, got 0"):
        init.dirac_(gdl.zeros(4, 2, 3), groups=0)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.35, 1.0])
def test_sparse_zeros_per_column(backend, sparsity):
    rows, cols = 40, 60
    w = Parameter(gdl.zeros(rows, cols))
    assert init.sparse_(w, sparsity, std=0.5) is w
    x = w.numpy()
    np.testing.assert_array_equal((x == 0).sum(axis=0), np.full(cols, math.ceil(sparsity * rows)))
    if sparsity < 1:
        kept = x[x != 0]
        assert abs(kept.std() - 0.5) < 0.05 and abs(kept.mean()) < 0.05
        # the zeroed rows differ between columns (chosen at random, not the same rows every time)
        assert len({tuple(np.flatnonzero(x[:, j] == 0)) for j in range(cols)}) > cols // 2 or sparsity == 0


def test_sparse_errors():
    with pytest.raises(ValueError, match="sparse_: only tensors with 2 dimensions"):
        init.sparse_(gdl.zeros(3), 0.1)
    with pytest.raises(ValueError, match="sparse_: sparsity must lie in \\[0, 1\\], got 1.5"):
        init.sparse_(gdl.zeros(3, 3), 1.5)


def test_constant_ones_zeros(backend):
    assert np.all(init.constant_(gdl.zeros(2, 3), val=0.25).numpy() == 0.25)
    assert np.all(init.ones_(gdl.zeros(4)).numpy() == 1) and not init.zeros_(gdl.ones(4)).numpy().any()


RANDOM_INITS = [
    lambda w: init.orthogonal_(w, 1.5),
    lambda w: init.trunc_normal_(w, 0.0, 1.0),
    lambda w: init.trunc_normal_(w, 0.0, 1.0, 1.0, 3.0),
    lambda w: init.sparse_(w, 0.3),
    lambda w: init.uniform_(w),
    lambda w: init.normal_(w),
    lambda w: init.xavier_uniform_(w),
    lambda w: init.kaiming_normal_(w),
]


@pytest.mark.parametrize("fill", RANDOM_INITS)
def test_manual_seed_repeats(backend, fill):
    def draw(seed):
        gdl.manual_seed(seed)
        return fill(Parameter(gdl.zeros(8, 6))).numpy()

    first = draw(3)
    np.testing.assert_array_equal(first, draw(3))
    assert not np.array_equal(first, draw(4))


def test_init_keeps_the_parameter_a_leaf_that_requires_grad(backend):
    w = Parameter(gdl.zeros(4, 3))
    for fill in RANDOM_INITS + [init.eye_, lambda t: init.constant_(t, 2.0)]:
        fill(w)
        assert w.requires_grad and w.grad_fn is None and w.shape == (4, 3) and w.dtype == gdl.float32


def test_deprecated_names_warn_and_work():
    with pytest.warns(FutureWarning, match="`nn.init.orthogonal` is now deprecated in favor of `nn.init.orthogonal_`"):
        w = init.orthogonal(gdl.zeros(3, 3, dtype=F64))
    np.testing.assert_allclose(w.numpy().T @ w.numpy(), np.eye(3), atol=1e-12)
    for name in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        assert callable(getattr(init, name))
    assert init._calculate_fan_in_and_fan_out(gdl.zeros(4, 3, 2)) == (6, 8)
    assert init._calculate_correct_fan(gdl.zeros(4, 3, 2), "fan_out") == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.eye_(gdl.zeros(2, 2))  # the new names do not warn


def test_generator_argument_is_refused_clearly():
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.kaiming_normal_):
        with pytest.raises(TypeError, match=f"{fn.__name__}: gdl has no Generator objects.*manual_seed"):
            fn(gdl.zeros(3, 3), generator="g")
    init.normal_(gdl.zeros(3), generator=None)


# -- parameters_to_vector / vector_to_parameters --------------------------------------------------


def test_parameters_vector_round_trip(backend):
    ps = [Parameter(gdl.randn(2, 3, dtype=F64)), Parameter(gdl.randn(4, dtype=F64)),
          Parameter(gdl.randn(1, 1, 2, dtype=F64))]
    v = parameters_to_vector(ps)
    assert v.shape == (12,) and v.backend == backend and v.requires_grad
    np.testing.assert_array_equal(v.numpy(), np.concatenate([p.numpy().ravel() for p in ps]))
    weights = np.arange(12.0)
    (v * t64(weights)).sum().backward()
    np.testing.assert_array_equal(ps[0].grad.numpy(), weights[:6].reshape(2, 3))
    np.testing.assert_array_equal(ps[2].grad.numpy(), weights[10:].reshape(1, 1, 2))
    vector_to_parameters(t64(-weights), ps)
    np.testing.assert_array_equal(parameters_to_vector(ps).numpy(), -weights)
    assert ps[1].shape == (4,) and ps[1].requires_grad and ps[1].grad_fn is None


def test_vector_to_parameters_keeps_dtypes_and_copies(backend):
    ps = [Parameter(gdl.zeros(2)), Parameter(gdl.zeros(2, dtype=F64))]
    vec = t64([1.5, 2.5, 3.5, 4.5])
    vector_to_parameters(vec, ps)
    assert ps[0].dtype == gdl.float32 and ps[1].dtype == F64
    np.testing.assert_array_equal(ps[0].numpy(), [1.5, 2.5])
    np.testing.assert_array_equal(ps[1].numpy(), [3.5, 4.5])


def test_vector_utils_errors():
    ps = [Parameter(gdl.zeros(2)), Parameter(gdl.zeros(3))]
    with pytest.raises(ValueError, match="vector_to_parameters: vec has 4 elements, the parameters 5"):
        vector_to_parameters(gdl.zeros(4), ps)
    with pytest.raises(ValueError, match="vector_to_parameters: vec must be 1-D, got shape \\(5, 1\\)"):
        vector_to_parameters(gdl.zeros(5, 1), ps)
    with pytest.raises(TypeError, match="vector_to_parameters: expected vec to be a gdl Tensor, got list"):
        vector_to_parameters([0.0] * 5, ps)
    with pytest.raises(TypeError, match="parameters_to_vector: expected gdl Tensors/Parameters, got ndarray"):
        parameters_to_vector([np.zeros(2)])
    with pytest.raises(ValueError, match="parameters_to_vector: got no parameters"):
        parameters_to_vector([])


# -- get_total_norm / clip_grads_with_norm_ -------------------------------------------------------

INF = float("inf")


@pytest.mark.parametrize(
    "q,want",
    [
        (2.0, math.sqrt(30.0)),
        (1.0, 10.0),
        (3.0, 100.0 ** (1 / 3)),
        (0.5, (math.sqrt(3) + 2 + 1 + math.sqrt(2)) ** 2),
        (0.0, 2.0),  # PyTorch's: the tensors holding a nonzero element (the third is all zeros)
        (-1.0, 0.0),  # a zero element makes every negative-order norm 0
        (INF, 4.0),
        (-INF, 0.0),
    ],
)
def test_get_total_norm_hand_computed(backend, q, want):
    ts = [t64([3.0, 0.0, -4.0]), t64([[1.0, 2.0]]), t64([0.0, 0.0])]
    total = get_total_norm(ts, q)
    assert total.shape == () and total.dtype == F64 and total.backend == backend
    np.testing.assert_allclose(float(total), want, rtol=1e-14)


def test_get_total_norm_without_zeros_and_single_tensor(backend):
    ts = [t64([1.0, -2.0]), t64([4.0])]
    np.testing.assert_allclose(float(get_total_norm(ts, -1.0)), 1 / 1.75, rtol=1e-14)
    np.testing.assert_allclose(float(get_total_norm(ts, -INF)), 1.0)
    np.testing.assert_allclose(float(get_total_norm(ts, 0)), 2.0)
    np.testing.assert_allclose(float(get_total_norm(t64([3.0, 4.0]))), 5.0)
    assert float(get_total_norm([])) == 0.0
    mixed = get_total_norm([gdl.tensor([3.0]), t64([4.0])])
    assert mixed.dtype == F64 and float(mixed) == 5.0
    assert get_total_norm([gdl.tensor([3.0, 4.0])]).dtype == gdl.float32


def test_get_total_norm_row_sparse_counts_each_row_once(backend):
    be = gdl.get_backend_object(backend)
    g = RowSparseGrad(be.from_host(np.array([0, 0])), be.from_host(np.array([[1.0], [2.0]])), (2, 1), be)
    np.testing.assert_allclose(float(get_total_norm([g, t64([4.0])])), 5.0)  # row 0 is 1 + 2 = 3


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_get_total_norm_nonfinite(backend):
    for bad, shown in ((INF, "inf"), (float("nan"), "nan")):
        ts = [t64([1.0, bad])]
        with pytest.raises(RuntimeError, match=f"get_total_norm: the total norm of order 2.0 .* is {shown}"):
            get_total_norm(ts, error_if_nonfinite=True)
        assert not math.isfinite(float(get_total_norm(ts)))
    with pytest.raises(TypeError, match="get_total_norm: norm_type must be a real Python number, got 'fro'"):
        get_total_norm([t64([1.0])], "fro")
    with pytest.raises(TypeError, match="get_total_norm: expected gdl Tensors, got ndarray"):
        get_total_norm([np.ones(2)])
    with pytest.raises(ValueError, match="get_total_norm: cannot take the norm of order -inf of a tensor with no"):
        get_total_norm([t64([1.0]), t64(np.zeros(0))], -INF)
    assert float(get_total_norm([t64([1.0]), t64(np.zeros(0))], INF)) == 1.0


def _with_grads(grads, dtype=F64):
    ps = []
    for g in grads:
        p = Parameter(gdl.zeros(np.shape(g), dtype=dtype))
        p.grad = gdl.tensor(np.asarray(g, dtype=np.float64), dtype=dtype)
        ps.append(p)
    return ps


@pytest.mark.parametrize("q", [2.0, 1.0, INF])
def test_clip_grads_with_norm_is_the_second_half_of_clip_grad_norm(backend, q):
    grads = [np.array([3.0, -4.0]), np.array([[1.0, 2.0, 0.5]])]
    a, b = _with_grads(grads), _with_grads(grads)
    total_a = clip_grad_norm_(a, 0.7, q)
    total_b = get_total_norm([p.grad for p in b], q)
    assert clip_grads_with_norm_(b, 0.7, total_b) is None
    assert float(total_a) == float(total_b)
    for p, r, g in zip(a, b, grads):
        np.testing.assert_array_equal(p.grad.numpy(), r.grad.numpy())
        want = g * min(1.0, 0.7 / (float(total_b) + 1e-6))
        np.testing.assert_allclose(r.grad.numpy(), want, rtol=1e-14)


def test_clip_grads_with_norm_number_nan_and_errors(backend):
    (p,) = _with_grads([np.array([3.0, 4.0])])
    clip_grads_with_norm_(p, 1.0, 5.0)  # a Python number works too
    np.testing.assert_allclose(p.grad.numpy(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    (p,) = _with_grads([np.array([3.0, 4.0])])
    clip_grads_with_norm_([p], 10.0, t64(5.0))  # under max_norm: unchanged
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 4.0])
    clip_grads_with_norm_([p], 1.0, t64(float("nan")))
    assert np.isnan(p.grad.numpy()).all()
    with pytest.raises(ValueError, match="clip_grads_with_norm_: max_norm must be >= 0, got -1.0"):
        clip_grads_with_norm_([p], -1.0, t64(5.0))
    with pytest.raises(TypeError, match="clip_grads_with_norm_: total_norm must be a gdl Tensor or a Python number"):
        clip_grads_with_norm_([p], 1.0, "5")
    with pytest.raises(ValueError, match="clip_grads_with_norm_: total_norm must be a one-element tensor"):
        clip_grads_with_norm_([p], 1.0, t64([1.0, 2.0]))
    other = "numpy" if backend != "numpy" else "array_api_strict"
    if gdl.is_usable(other):
        with pytest.raises(ValueError, match=f"total_norm is on backend '{other}'"):
            clip_grads_with_norm_([p], 1.0, gdl.tensor(5.0, backend=other))
    assert clip_grads_with_norm_([Parameter(gdl.zeros(2))], 1.0, 3.0) is None  # no gradients: nothing to do


# -- pad_sequence ---------------------------------------------------------------------------------


def _seqs(lengths, trailing=(2,), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n,) + trailing) for n in lengths]


def _pad_ref(arrays, batch_first, value, side, steps=None):
    steps = steps or max(len(a) for a in arrays)
    out = np.full((len(arrays), steps) + arrays[0].shape[1:], value, dtype=np.float64)
    for b, a in enumerate(arrays):
        if side == "right":
            out[b, : len(a)] = a
        else:
            out[b, steps - len(a):] = a
    return out if batch_first else np.swapaxes(out, 0, 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (2,), (2, 3)])
def test_pad_sequence_values(backend, batch_first, side, trailing):
    arrays = _seqs([3, 1, 4, 0, 2], trailing)
    out = pad_sequence([t64(a) for a in arrays], batch_first=batch_first, padding_value=-9.5, padding_side=side)
    assert out.backend == backend and out.dtype == F64
    np.testing.assert_array_equal(out.numpy(), _pad_ref(arrays, batch_first, -9.5, side))


def test_pad_sequence_dtypes_and_tensor_input(backend):
    ints = pad_sequence([gdl.tensor([1, 2, 3]), gdl.tensor([4])], batch_first=True, padding_value=-1)
    assert ints.dtype == gdl.int64 and ints.tolist() == [[1, 2, 3], [4, -1, -1]]
    f32 = pad_sequence([gdl.tensor([1.0]), gdl.tensor([2.0, 3.0])])
    assert f32.dtype == gdl.float32 and f32.tolist() == [[1.0, 2.0], [0.0, 3.0]]
    x = t64(np.arange(6.0).reshape(2, 3))  # a tensor: its rows are the sequences, as PyTorch
    np.testing.assert_array_equal(pad_sequence(x).numpy(), x.numpy().T)
    empty = pad_sequence([t64(np.zeros((0, 2))), t64(np.zeros((0, 2)))])
    assert empty.shape == (0, 2, 2)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_gradcheck(backend, batch_first, side):
    seqs = [t64(a, grad=True) for a in _seqs([3, 1, 2], (2,), seed=1)]
    assert gradcheck(lambda *s: pad_sequence(list(s), batch_first, 0.5, side), seqs)
    seqs = [s.detach().requires_grad_() for s in seqs]
    out = pad_sequence(seqs, batch_first, 0.5, side)
    out.sum().backward()
    for s in seqs:  # every real element reaches the output exactly once, padding gives nothing back
        np.testing.assert_array_equal(s.grad.numpy(), np.ones(s.shape))


def test_pad_sequence_errors():
    with pytest.raises(ValueError, match="pad_sequence: received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match="pad_sequence: sequences must match .* \\(2, 3\\) and \\(2, 4\\)"):
        pad_sequence([gdl.zeros(2, 3), gdl.zeros(2, 4)])
    with pytest.raises(ValueError, match="pad_sequence: padding_side must be 'right' or 'left', got 'top'"):
        pad_sequence([gdl.zeros(2)], padding_side="top")
    with pytest.raises(TypeError, match="pad_sequence: sequences must share a dtype, got float32 and float64"):
        pad_sequence([gdl.zeros(2), gdl.zeros(2, dtype=F64)])
    with pytest.raises(TypeError, match="pad_sequence: expected a list of gdl Tensors, got an element of type list"):
        pad_sequence([[1.0, 2.0]])


def test_unpad_sequence(backend):
    arrays = _seqs([2, 4, 1])
    for batch_first in (False, True):
        padded = pad_sequence([t64(a) for a in arrays], batch_first=batch_first)
        back = unpad_sequence(padded, [2, 4, 1], batch_first=batch_first)
        for got, a in zip(back, arrays):
            np.testing.assert_array_equal(got.numpy(), a)
    with pytest.raises(ValueError, match="unpad_sequence: got 2 lengths for a batch of 3 sequences"):
        unpad_sequence(padded, [1, 2], batch_first=True)


# -- packing --------------------------------------------------------------------------------------


def test_pack_padded_sequence_layout(backend):
    """Hand-checked PyTorch layout: steps time-major, longest sequence first."""
    padded = t64([[1, 2, 3], [4, 0, 0], [5, 6, 0]])  # batch_first, lengths 3, 1, 2
    packed = pack_padded_sequence(padded, [3, 1, 2], batch_first=True, enforce_sorted=False)
    assert isinstance(packed, PackedSequence) and isinstance(packed, tuple) and len(packed) == 4
    assert packed.data.tolist() == [1.0, 5.0, 4.0, 2.0, 6.0, 3.0]
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.batch_sizes.dtype == gdl.int64
    assert packed.sorted_indices.tolist() == [0, 2, 1] and packed.unsorted_indices.tolist() == [0, 2, 1]
    assert packed.data.backend == packed.batch_sizes.backend == packed.sorted_indices.backend == backend
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # unpacks as PyTorch's named tuple
    assert data is packed.data
    sorted_packed = pack_padded_sequence(t64([[1, 2, 3], [5, 6, 0], [4, 0, 0]]), [3, 2, 1], batch_first=True)
    assert sorted_packed.data.tolist() == packed.data.tolist()
    assert sorted_packed.sorted_indices is None and sorted_packed.unsorted_indices is None


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("trailing", [(), (3,)])
def test_pack_unpack_round_trip(backend, enforce_sorted, batch_first, trailing):
    lengths = [5, 3, 3, 2, 1] if enforce_sorted else [2, 5, 1, 3, 3]
    arrays = _seqs(lengths, trailing, seed=2)
    padded = pad_sequence([t64(a) for a in arrays], batch_first=batch_first)
    packed = pack_padded_sequence(padded, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert packed.data.shape == (sum(lengths),) + trailing
    assert packed.batch_sizes.tolist() == [5, 4, 3, 1, 1]
    out, got_lengths = pad_packed_sequence(packed, batch_first=batch_first)
    assert got_lengths.tolist() == lengths and got_lengths.dtype == gdl.int64
    np.testing.assert_array_equal(out.numpy(), padded.numpy())  # exact
    longer, _ = pad_packed_sequence(packed, batch_first=batch_first, padding_value=7.0, total_length=7)
    np.testing.assert_array_equal(longer.numpy(), _pad_ref(arrays, batch_first, 7.0, "right", steps=7))
    for got, a in zip(unpack_sequence(packed), arrays):
        np.testing.assert_array_equal(got.numpy(), a)
    repacked = pack_sequence([t64(a) for a in arrays], enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(repacked.data.numpy(), packed.data.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_and_unpack_are_differentiable(backend, enforce_sorted):
    lengths = [3, 2, 2, 1] if enforce_sorted else [2, 3, 1, 2]
    padded = t64(np.random.default_rng(3).normal(size=(3, 4, 2)), grad=True)

    def through(p):
        packed = pack_padded_sequence(p, lengths, enforce_sorted=enforce_sorted)
        return pad_packed_sequence(packed, padding_value=0.25, total_length=4)[0]

    assert gradcheck(through, [padded])
    padded = padded.detach().requires_grad_()
    through(padded).sum().backward()
    mask = np.arange(3)[:, None] < np.array(lengths)[None, :]  # padding positions get no gradient
    np.testing.assert_array_equal(padded.grad.numpy(), np.broadcast_to(mask[:, :, None], (3, 4, 2)).astype(float))
    seqs = [t64(a, grad=True) for a in _seqs([2, 3], seed=4)]
    assert gradcheck(lambda *s: pack_sequence(list(s), enforce_sorted=False).data, seqs)


def test_pack_errors():
    x = gdl.zeros(3, 2)
    with pytest.raises(ValueError, match="pack_padded_sequence: lengths \\[1, 3\\] must be sorted in decreasing"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(ValueError, match="pack_padded_sequence: every length must be > 0, got \\[3, 0\\]"):
        pack_padded_sequence(x, [3, 0])
    with pytest.raises(ValueError, match="pack_padded_sequence: length 4 is longer than .* 3 time steps"):
        pack_padded_sequence(x, [4, 1])
    with pytest.raises(ValueError, match="pack_padded_sequence: expected len\\(lengths\\) to be the batch size 2"):
        pack_padded_sequence(x, [3])
    with pytest.raises(TypeError, match="pack_padded_sequence: lengths must hold ints, got 2.5"):
        pack_padded_sequence(x, [3, 2.5])
    packed = pack_padded_sequence(x, gdl.tensor([3, 2]))  # lengths as an int tensor
    with pytest.raises(ValueError, match="pad_packed_sequence: expected total_length .* \\(3\\), got total_length=2"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(TypeError, match="pad_packed_sequence: expected a PackedSequence, got Tensor"):
        pad_packed_sequence(x)


def test_packed_sequence_construction_and_invert_permutation(backend):
    perm = gdl.tensor([2, 0, 3, 1])
    inv = invert_permutation(perm)
    assert inv.tolist() == [1, 3, 0, 2] and invert_permutation(None) is None
    ps = PackedSequence(t64([1.0, 2.0, 3.0]), gdl.tensor([2, 1]), gdl.tensor([1, 0]))
    assert ps.unsorted_indices.tolist() == [1, 0]
    out, lengths = pad_packed_sequence(ps)
    assert out.tolist() == [[2.0, 1.0], [0.0, 3.0]] and lengths.tolist() == [1, 2]
    assert ps.float().data.dtype == gdl.float32 and ps.to(dtype=F64).data.dtype == F64


def test_torch_style_import_path():
    import gdl.nn.utils.rnn as by_path
    from gdl.nn.utils.rnn import pad_sequence as imported

    assert by_path is gdl.nn.utils.rnn is gdl.nn.rnn_utils and imported is pad_sequence
