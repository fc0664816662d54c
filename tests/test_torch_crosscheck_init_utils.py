"""nn.init, nn.utils (total norms, parameter vectors) and nn.utils.rnn against PyTorch 2.13.

Deterministic functions must agree exactly; random initialisers draw from different
generators, so they are compared by the properties and distributions they promise.
Where gdl differs on purpose, the test asserts gdl's behaviour and says why."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402
from gdl.nn import init  # noqa: E402
from gdl.nn import utils as gutils  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402
from gdl.nn.utils import rnn as grnn  # noqa: E402

trnn = torch.nn.utils.rnn
tinit = torch.nn.init
F64 = gdl.float64
INF = float("inf")


def g64(a, grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


@pytest.fixture(autouse=True)
def _numpy_backend():
    with gdl.use_backend("numpy"):
        gdl.manual_seed(0)
        torch.manual_seed(0)
        yield


# -- names and signatures -------------------------------------------------------------------------


def _torch_init_functions():
    names = []
    for name in dir(tinit):
        obj = getattr(tinit, name)
        if name.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != tinit.__name__:
            continue
        names.append(name)
    return names


def test_every_torch_init_function_exists_with_its_parameter_names():
    names = _torch_init_functions()
    assert {"orthogonal_", "trunc_normal_", "dirac_", "eye_", "sparse_", "orthogonal", "sparse"} <= set(names)
    for name in names:
        ours = getattr(init, name, None)
        assert callable(ours), f"gdl.nn.init lacks {name}"
        if name.endswith("_"):
            want = list(inspect.signature(getattr(tinit, name)).parameters)
            got = list(inspect.signature(ours).parameters)
            assert got == want, (name, got, want)
            defaults = {k: p.default for k, p in inspect.signature(getattr(tinit, name)).parameters.items()}
            for k, p in inspect.signature(ours).parameters.items():
                assert p.default == defaults[k], (name, k, p.default, defaults[k])


@pytest.mark.parametrize("name", ["get_total_norm", "clip_grads_with_norm_", "parameters_to_vector",
                                  "vector_to_parameters", "clip_grad_norm_", "clip_grad_value_"])
def test_utils_signatures(name):
    want = inspect.signature(getattr(torch.nn.utils, name)).parameters
    got = inspect.signature(getattr(gutils, name)).parameters
    assert list(got) == list(want)
    assert [p.default for p in got.values()] == [p.default for p in want.values()]


@pytest.mark.parametrize("name", ["pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
                                  "unpad_sequence", "unpack_sequence", "invert_permutation"])
def test_rnn_signatures(name):
    want = inspect.signature(getattr(trnn, name)).parameters
    got = inspect.signature(getattr(grnn, name)).parameters
    assert list(got) == list(want)
    assert [p.default for p in got.values()] == [p.default for p in want.values()]
    assert grnn.PackedSequence._fields == trnn.PackedSequence._fields


# -- deterministic initialisers -------------------------------------------------------------------


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 4, 3), 1), ((3, 5, 2, 4), 1), ((4, 2, 3, 3), 2),
                                          ((6, 1, 3, 3, 3), 3), ((8, 3, 4, 4), 4), ((2, 3, 1, 1, 5), 1)])
def test_dirac_matches_torch(shape, groups):
    ours = init.dirac_(gdl.ones(*shape), groups).numpy()
    theirs = tinit.dirac_(torch.ones(shape), groups).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 7)])
def test_eye_matches_torch(shape):
    np.testing.assert_array_equal(init.eye_(gdl.zeros(*shape)).numpy(), tinit.eye_(torch.zeros(shape)).numpy())


def test_fans_and_gains_match_torch():
    for shape in [(4, 3), (8, 3, 5, 5), (2, 6, 3)]:
        for mode in ("fan_in", "fan_out"):
            assert init._calculate_correct_fan(gdl.zeros(*shape), mode) == tinit._calculate_correct_fan(
                torch.zeros(shape), mode)
    for nl, p in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("leaky_relu", None), ("selu", None)]:
        assert init.calculate_gain(nl, p) == tinit.calculate_gain(nl, p)


# -- random initialisers, by distribution ---------------------------------------------------------


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 2.0), ((5, 2, 3), 0.5)])
def test_orthogonal_same_properties_as_torch(shape, gain):
    ours = init.orthogonal_(gdl.zeros(*shape, dtype=F64), gain).numpy().reshape(shape[0], -1)
    theirs = tinit.orthogonal_(torch.zeros(shape, dtype=torch.float64), gain).numpy().reshape(shape[0], -1)
    for m in (ours, theirs):
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, gain**2 * np.eye(min(m.shape)), atol=1e-12)


def test_orthogonal_entry_distribution_matches_torch():
    """Both are Haar: each entry of a square n x n orthogonal matrix has mean 0 and variance 1/n,
    and the sign of an entry is a fair coin (the sign correction)."""
    n, draws = 6, 300
    ours = np.stack([init.orthogonal_(gdl.zeros(n, n, dtype=F64)).numpy() for _ in range(draws)])
    theirs = np.stack([tinit.orthogonal_(torch.zeros(n, n, dtype=torch.float64)).numpy() for _ in range(draws)])
    for sample in (ours, theirs):
        assert abs(sample.mean()) < 0.02
        np.testing.assert_allclose((sample**2).mean(), 1 / n, rtol=1e-12)  # exact: rows are unit vectors
        assert 0.4 < (sample[:, 0, 0] > 0).mean() < 0.6
    assert abs(np.abs(ours[:, 0, 0]).mean() - np.abs(theirs[:, 0, 0]).mean()) < 0.05


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.5, 2.0),
                                          (0.0, 1.0, 1.0, 3.0)])
def test_trunc_normal_distribution_matches_torch(mean, std, a, b):
    n = 30_000  # PyTorch's own sampler takes seconds for 1e5 draws in a tail
    ours = np.sort(init.trunc_normal_(gdl.zeros(n, dtype=F64), mean, std, a, b).numpy())
    theirs = np.sort(tinit.trunc_normal_(torch.zeros(n, dtype=torch.float64), mean, std, a, b).numpy())
    assert ours.min() >= a and ours.max() <= b
    assert abs(ours.mean() - theirs.mean()) < 6 * theirs.std() / math.sqrt(n)
    assert abs(ours.std() / theirs.std() - 1) < 0.02
    # two-sample Kolmogorov-Smirnov distance below its 1 % critical value, 1.63·sqrt(2 / n)
    grid = np.concatenate([ours, theirs])
    ks = np.max(np.abs(np.searchsorted(ours, grid, "right") - np.searchsorted(theirs, grid, "right"))) / n
    assert ks < 1.63 * math.sqrt(2 / n), ks


def test_sparse_matches_torch_counts_and_scale():
    ours = init.sparse_(gdl.zeros(50, 40), 0.3, std=0.2).numpy()
    theirs = tinit.sparse_(torch.zeros(50, 40), 0.3, std=0.2).numpy()
    np.testing.assert_array_equal((ours == 0).sum(0), (theirs == 0).sum(0))
    assert abs(ours[ours != 0].std() / theirs[theirs != 0].std() - 1) < 0.1


def test_sparse_out_of_range_sparsity_differs_on_purpose():
    """PyTorch takes sparsity 1.5 (zeroing every row); gdl names the bad value instead."""
    assert not tinit.sparse_(torch.zeros(4, 3), 1.5).any()
    with pytest.raises(ValueError, match="sparse_: sparsity must lie in \\[0, 1\\], got 1.5"):
        init.sparse_(gdl.zeros(4, 3), 1.5)


@pytest.mark.parametrize("name,kwargs", [("xavier_uniform_", {}), ("xavier_normal_", {"gain": 2.0}),
                                         ("kaiming_uniform_", {"a": 0.1}), ("kaiming_normal_", {"mode": "fan_out"}),
                                         ("uniform_", {"a": -1.0, "b": 3.0}), ("normal_", {"mean": 1.0, "std": 0.5})])
def test_classic_inits_same_moments_as_torch(name, kwargs):
    ours = getattr(init, name)(gdl.zeros(300, 200, dtype=F64), **kwargs).numpy()
    theirs = getattr(tinit, name)(torch.zeros(300, 200, dtype=torch.float64), **kwargs).numpy()
    assert abs(ours.std() / theirs.std() - 1) < 0.01
    assert abs(ours.mean() - theirs.mean()) < 0.02 * theirs.std() + 1e-3 * abs(theirs.mean())
    assert abs(np.abs(ours).max() / np.abs(theirs).max() - 1) < 0.3


# -- pad_sequence and packing, exactly ------------------------------------------------------------


def _arrays(lengths, trailing=(2,), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n,) + trailing) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("lengths,trailing", [([3, 1, 4, 0, 2], (2,)), ([2, 2], ()), ([1, 5, 3], (2, 3))])
def test_pad_sequence_matches_torch_values_and_grads(batch_first, side, lengths, trailing):
    arrays = _arrays(lengths, trailing)
    ours_in = [g64(a, grad=True) for a in arrays]
    theirs_in = [t64(a, grad=True) for a in arrays]
    ours = grnn.pad_sequence(ours_in, batch_first, -1.5, side)
    theirs = trnn.pad_sequence(theirs_in, batch_first, -1.5, side)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    w = np.random.default_rng(1).normal(size=theirs.shape)
    (ours * g64(w)).sum().backward()
    (theirs * t64(w)).sum().backward()
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_pad_sequence_ints_and_tensor_input_match_torch():
    ours = grnn.pad_sequence([gdl.tensor([1, 2, 3]), gdl.tensor([4])], batch_first=True, padding_value=-1)
    theirs = trnn.pad_sequence([torch.tensor([1, 2, 3]), torch.tensor([4])], batch_first=True, padding_value=-1)
    assert ours.tolist() == theirs.tolist()
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(grnn.pad_sequence(g64(x)).numpy(), trnn.pad_sequence(t64(x)).numpy())


def _packs_equal(ours, theirs):
    np.testing.assert_array_equal(ours.data.detach().numpy(), theirs.data.detach().numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for o, t in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (o is None and t is None) or o.tolist() == t.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    "lengths,enforce_sorted",
    [([5, 3, 3, 2, 1], True), ([2, 5, 1, 3, 3], False), ([4], True), ([1, 1, 1], False),
     ([3, 1, 2, 3, 1, 2, 3, 3, 1, 2, 2, 1, 3, 2, 1, 1, 3, 2, 2, 3] * 3, False)],  # many ties: stable order
)
def test_pack_and_pad_packed_layouts_match_torch(batch_first, lengths, enforce_sorted):
    arrays = _arrays(lengths)
    ours_p = grnn.pad_sequence([g64(a) for a in arrays], batch_first).requires_grad_()
    theirs_p = trnn.pad_sequence([t64(a) for a in arrays], batch_first).requires_grad_()
    ours = grnn.pack_padded_sequence(ours_p, lengths, batch_first, enforce_sorted)
    theirs = trnn.pack_padded_sequence(theirs_p, torch.tensor(lengths), batch_first, enforce_sorted)
    stable = torch.sort(torch.tensor(lengths), descending=True, stable=True).indices
    if enforce_sorted or torch.equal(theirs.sorted_indices, stable):
        _packs_equal(ours, theirs)
    else:
        # Differs on purpose: PyTorch sorts the lengths with its default, unstable sort, so for
        # more than 16 sequences the order among equal lengths is an accident of its introsort;
        # gdl sorts stably (equal lengths keep their batch order), a layout it can promise on
        # every backend. Everything but the order of equal-length sequences inside ``data`` is
        # the same, and unpacking gives identical results (checked below).
        assert ours.sorted_indices.tolist() == stable.tolist()
        reordered = theirs_p.detach().index_select(0 if batch_first else 1, stable)
        want = trnn.pack_padded_sequence(reordered, torch.tensor(lengths)[stable], batch_first)
        np.testing.assert_array_equal(ours.data.detach().numpy(), want.data.numpy())
        assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for total_length in (None, max(lengths) + 2):
        o, ol = grnn.pad_packed_sequence(ours, batch_first, 0.5, total_length)
        t, tl = trnn.pad_packed_sequence(theirs, batch_first, 0.5, total_length)
        np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
        assert ol.tolist() == tl.tolist() and ol.dtype == gdl.int64
    w = np.random.default_rng(2).normal(size=t.shape)
    (o * g64(w)).sum().backward()
    (t * t64(w)).sum().backward()
    np.testing.assert_array_equal(ours_p.grad.numpy(), theirs_p.grad.numpy())
    np.testing.assert_array_equal(grnn.pack_sequence([g64(a) for a in arrays], enforce_sorted).data.numpy(),
                                  ours.data.detach().numpy())
    if enforce_sorted or torch.equal(theirs.sorted_indices, stable):
        _packs_equal(grnn.pack_sequence([g64(a) for a in arrays], enforce_sorted),
                     trnn.pack_sequence([t64(a) for a in arrays], enforce_sorted))
    for o, t in zip(grnn.unpack_sequence(ours), trnn.unpack_sequence(theirs)):
        np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
    padded = grnn.pad_sequence([g64(a) for a in arrays], batch_first)
    for o, t in zip(grnn.unpad_sequence(padded, lengths, batch_first),
                    trnn.unpad_sequence(t64(padded.numpy()), torch.tensor(lengths), batch_first)):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_pack_errors_are_raised_where_torch_raises():
    x = gdl.zeros(3, 2)
    for call in (lambda m, t: m.pack_padded_sequence(t, [1, 3]),  # not sorted
                 lambda m, t: m.pack_padded_sequence(t, [3, 0], enforce_sorted=False)):  # a zero length
        with pytest.raises(RuntimeError):
            call(trnn, torch.zeros(3, 2))
        with pytest.raises(ValueError, match="pack_padded_sequence"):  # gdl: a ValueError naming the function
            call(grnn, x)
    packed_t = trnn.pack_padded_sequence(torch.zeros(3, 2), [3, 2])
    packed_g = grnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError):
        trnn.pad_packed_sequence(packed_t, total_length=2)
    with pytest.raises(ValueError, match="pad_packed_sequence: expected total_length"):
        grnn.pad_packed_sequence(packed_g, total_length=2)


def test_invert_permutation_matches_torch():
    perm = [3, 0, 4, 1, 2]
    assert grnn.invert_permutation(gdl.tensor(perm)).tolist() == trnn.invert_permutation(torch.tensor(perm)).tolist()


# -- total norms, clipping, parameter vectors -----------------------------------------------------

TENSORS = [[3.0, 0.0, -4.0], [[1.0, 2.0]], [0.0, 0.0]]
NO_ZEROS = [[3.0, -0.5], [[1.0, 2.0]], [7.0]]


@pytest.mark.parametrize("q", [2.0, 1.0, 3.0, 0.5, 0.0, -1.0, -2.5, INF, -INF])
@pytest.mark.parametrize("values", [TENSORS, NO_ZEROS])
def test_get_total_norm_matches_torch(q, values):
    ours = gutils.get_total_norm([g64(v) for v in values], q)
    theirs = torch.nn.utils.get_total_norm([t64(v) for v in values], q)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-14)
    f32 = gutils.get_total_norm([gdl.tensor(v) for v in values], q)
    assert f32.dtype == gdl.float32
    np.testing.assert_allclose(float(f32), float(theirs), rtol=1e-6)


def test_get_total_norm_single_empty_mixed_and_nonfinite_match_torch():
    assert float(gutils.get_total_norm(g64([3.0, 4.0]))) == float(torch.nn.utils.get_total_norm(t64([3.0, 4.0])))
    assert float(gutils.get_total_norm([])) == float(torch.nn.utils.get_total_norm([])) == 0.0
    mixed_g = gutils.get_total_norm([gdl.tensor([3.0]), g64([4.0])])
    mixed_t = torch.nn.utils.get_total_norm([torch.tensor([3.0]), t64([4.0])])
    assert mixed_g.dtype == F64 and mixed_t.dtype == torch.float64 and float(mixed_g) == float(mixed_t)
    for bad in (INF, float("nan")):
        with pytest.raises(RuntimeError):
            torch.nn.utils.get_total_norm([t64([1.0, bad])], error_if_nonfinite=True)
        with pytest.raises(RuntimeError, match="get_total_norm"):
            gutils.get_total_norm([g64([1.0, bad])], error_if_nonfinite=True)


def test_get_total_norm_of_an_empty_tensor_differs_on_purpose():
    """PyTorch refuses the inf-norm of a tensor with no elements; gdl counts it as 0, because a
    row-sparse embedding gradient (``Embedding(sparse=True)``) may legitimately hold no rows."""
    with pytest.raises(RuntimeError):
        torch.nn.utils.get_total_norm([t64([1.0]), torch.zeros(0, dtype=torch.float64)], INF)
    assert float(gutils.get_total_norm([g64([1.0]), g64(np.zeros(0))], INF)) == 1.0


@pytest.mark.parametrize("max_norm", [0.3, 100.0])
def test_clip_grads_with_norm_matches_torch(max_norm):
    rng = np.random.default_rng(5)
    grads = [rng.normal(size=s) for s in [(3, 4), (5,), ()]]
    ours = [Parameter(g64(np.zeros_like(g))) for g in grads]
    theirs = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = g64(g), t64(g)
    total_o = gutils.get_total_norm([p.grad for p in ours])
    total_t = torch.nn.utils.get_total_norm([p.grad for p in theirs])
    gutils.clip_grads_with_norm_(ours, max_norm, total_o)
    torch.nn.utils.clip_grads_with_norm_(theirs, max_norm, total_t)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_clip_grads_with_norm_negative_max_norm_differs_on_purpose():
    """PyTorch scales by a negative factor (flipping every gradient); gdl refuses, as its
    clip_grad_norm_ always has."""
    t = torch.zeros(2, requires_grad=True)
    t.grad = torch.tensor([3.0, 4.0])
    torch.nn.utils.clip_grads_with_norm_([t], -1.0, torch.tensor(5.0))
    assert (t.grad < 0).all()
    p = Parameter(gdl.zeros(2))
    p.grad = gdl.tensor([3.0, 4.0])
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1.0"):
        gutils.clip_grads_with_norm_([p], -1.0, gdl.tensor(5.0))


def test_parameters_to_vector_and_back_match_torch():
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=s) for s in [(2, 3), (4,), (1, 2, 2)]]
    ours = [Parameter(g64(a)) for a in arrays]
    theirs = [torch.nn.Parameter(t64(a)) for a in arrays]
    vo, vt = gutils.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vo.numpy(), vt.detach().numpy())
    w = rng.normal(size=vt.shape)
    (vo * g64(w)).sum().backward()
    (vt * t64(w)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    new = rng.normal(size=vt.shape)
    gutils.vector_to_parameters(g64(new), ours)
    torch.nn.utils.vector_to_parameters(t64(new), theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.detach().numpy())


def test_vector_to_parameters_differences_on_purpose():
    """PyTorch gives a float32 parameter the float64 vector's dtype and ignores surplus
    elements; gdl keeps each parameter's dtype (the model stays consistent) and names a
    length mismatch (it is almost always a bug)."""
    t = torch.nn.Parameter(torch.zeros(2))
    torch.nn.utils.vector_to_parameters(t64([1.0, 2.0, 3.0]), [t])
    assert t.dtype == torch.float64 and t.tolist() == [1.0, 2.0]
    p = Parameter(gdl.zeros(2))
    gutils.vector_to_parameters(g64([1.0, 2.0]), [p])
    assert p.dtype == gdl.float32 and p.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="vec has 3 elements, the parameters 2"):
        gutils.vector_to_parameters(g64([1.0, 2.0, 3.0]), [p])


def test_clip_grad_norm_order_zero_differs_on_purpose():
    """PyTorch's clip_grad_norm_ takes norm_type=0 (a count, which says nothing about the
    gradients' size); gdl's clip_grad_norm_ refuses orders <= 0 (get_total_norm takes them)."""
    t = torch.zeros(2, requires_grad=True)
    t.grad = torch.tensor([3.0, 4.0])
    assert float(torch.nn.utils.clip_grad_norm_([t], 1.0, norm_type=0)) == 1.0
    p = Parameter(gdl.zeros(2))
    p.grad = gdl.tensor([3.0, 4.0])
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        gutils.clip_grad_norm_([p], 1.0, norm_type=0)
    assert float(gutils.get_total_norm([p.grad], 0)) == 1.0
