"""The less common layers (Bilinear, EmbeddingBag, CTCLoss, LocalResponseNorm, MaxUnpool1d/2d,
LPPool1d/2d and F.gumbel_softmax, affine_grid, grid_sample) without PyTorch: shapes,
values worked out by hand or by brute force, float64 gradient checks on every backend, module
parameters and reprs, and the argument errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.autograd import gradcheck

F64 = gdl.float64


def _t(a, requires_grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def _i(a):
    return gdl.tensor(np.asarray(a, dtype=np.int64))


def _close(tensor, expected, rtol=1e-10, atol=1e-12):
    out = tensor.numpy()
    assert out.shape == np.shape(expected), f"shape {out.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol)


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- Bilinear ------------------------------------------------------------------------------------------------


def test_bilinear_values_and_shapes(backend):
    rng = _rng(0)
    x1, x2, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5)), rng.standard_normal((6, 4, 5)), \
        rng.standard_normal(6)
    expected = np.einsum("...i,oij,...j->...o", x1, w, x2) + b
    _close(F.bilinear(_t(x1), _t(x2), _t(w), _t(b)), expected)
    _close(F.bilinear(_t(x1[0, 0]), _t(x2[0, 0]), _t(w)), expected[0, 0] - b)  # unbatched, no bias
    by_hand = F.bilinear(_t([[1.0, 2.0]]), _t([[3.0, 4.0]]), _t([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [0.0, 0.0]]]))
    _close(by_hand, [[1 * 3 + 2 * 2 * 4, 1 * 4]])


def test_bilinear_gradcheck(backend):
    rng = _rng(1)
    args = [_t(rng.standard_normal(s), True) for s in ((3, 2), (3, 4), (5, 2, 4), (5,))]
    assert gradcheck(F.bilinear, args)
    assert gradcheck(lambda a, b, w: F.bilinear(a, b, w), args[:3])


def test_bilinear_module(backend):
    layer = nn.Bilinear(3, 4, 5)
    assert [(k, v.shape) for k, v in layer.state_dict().items()] == [("weight", (5, 3, 4)), ("bias", (5,))]
    assert layer.weight.dtype == gdl.float32 and layer.weight.backend == backend
    bound = 1 / math.sqrt(3)
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > bound / 2  # filled, not left at zero
    assert layer(gdl.zeros(7, 3), gdl.zeros(7, 4)).shape == (7, 5)
    assert repr(layer) == "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)"
    assert nn.Bilinear(3, 4, 5, bias=False).bias is None


def test_bilinear_errors(backend):
    x1, x2, w = _t(np.ones((2, 3))), _t(np.ones((2, 4))), _t(np.ones((5, 3, 4)))
    with pytest.raises(ValueError, match=r"bilinear: expected a 3-D weight"):
        F.bilinear(x1, x2, _t(np.ones((5, 12))))
    with pytest.raises(ValueError, match=r"bilinear: input2 of shape \(2, 3\) does not match weight"):
        F.bilinear(x1, x1, w)
    with pytest.raises(ValueError, match=r"same leading \(batch\) dimensions, got shapes \(2, 3\) and \(1, 4\)"):
        F.bilinear(x1, _t(np.ones((1, 4))), w)
    with pytest.raises(ValueError, match=r"bilinear: expected a bias of shape \(5,\)"):
        F.bilinear(x1, x2, w, _t(np.ones(4)))
    with pytest.raises(TypeError, match=r"bilinear: input1 is float64 but input2 is float32"):
        F.bilinear(x1, gdl.ones(2, 4), w)
    with pytest.raises(TypeError, match=r"bilinear: expected a floating-point input1"):
        F.bilinear(_i([[1, 2, 3]]), x2, w)
    with pytest.raises(ValueError, match=r"Bilinear: in1_features must be a non-negative int"):
        nn.Bilinear(-1, 2, 3)


# -- EmbeddingBag ----------------------------------------------------------------------------------------------

TABLE = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 4.0], [-3.0, 5.0], [0.5, -1.0]])


def test_embedding_bag_by_hand(backend):
    w = _t(TABLE)
    idx, offsets = _i([0, 1, 2, 2, 3, 4]), _i([0, 2, 2, 5])  # bags [0, 1], [], [2, 2, 3], [4]
    _close(F.embedding_bag(idx, w, offsets, mode="sum"), [[3, 1], [0, 0], [-3, 13], [0.5, -1]])
    _close(F.embedding_bag(idx, w, offsets, mode="mean"), [[1.5, 0.5], [0, 0], [-1, 13 / 3], [0.5, -1]])
    _close(F.embedding_bag(idx, w, offsets, mode="max"), [[2, 1], [0, 0], [0, 5], [0.5, -1]])
    last = _i([0, 2, 2, 5, 6])  # include_last_offset: the same bags, the input's length at the end
    _close(F.embedding_bag(idx, w, last, mode="sum", include_last_offset=True), [[3, 1], [0, 0], [-3, 13], [0.5, -1]])
    # padding_idx: left out of its bag (not counted in the mean, never the max)
    _close(F.embedding_bag(idx, w, offsets, mode="mean", padding_idx=2), [[1.5, 0.5], [0, 0], [-3, 5], [0.5, -1]])
    _close(F.embedding_bag(_i([2, 2]), w, _i([0, 1]), mode="max", padding_idx=2), [[0, 0], [0, 0]])
    # 2-D input: one bag per row; per-sample weights scale each row
    _close(F.embedding_bag(_i([[0, 1], [3, 3]]), w, mode="sum", per_sample_weights=_t([[1, 2], [0.5, -1]])),
           [[5, 1], [1.5, -2.5]])
    assert F.embedding_bag(_i([[0, 1], [3, 3]]), w).shape == (2, 2)
    assert F.embedding_bag(_i(np.zeros((3, 0), dtype=np.int64)), w).shape == (3, 2)
    assert F.embedding_bag(_i([]), w, _i([])).shape == (0, 2)
    assert F.embedding_bag([1, 2], w, [0]).shape == (1, 2)  # lists are accepted for indices and offsets


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(backend, mode):
    table = _t(_rng(2).standard_normal((6, 3)), True)
    idx, offsets = _i([0, 5, 2, 2, 1, 3, 0, 5]), _i([0, 3, 3, 6])
    assert gradcheck(lambda w: F.embedding_bag(idx, w, offsets, mode=mode), [table])
    assert gradcheck(lambda w: F.embedding_bag(idx, w, offsets, mode=mode, padding_idx=5), [table])
    assert gradcheck(lambda w: F.embedding_bag(_i([[0, 1, 1], [4, 2, 0]]), w, mode=mode), [table])
    if mode == "sum":
        psw = _t(_rng(3).uniform(-1, 1, 8), True)
        assert gradcheck(lambda w, p: F.embedding_bag(idx, w, offsets, mode="sum", per_sample_weights=p,
                                                      padding_idx=2), [table, psw])


def test_embedding_bag_gradients_by_hand(backend):
    w = _t(TABLE, True)
    F.embedding_bag(_i([0, 1, 1, 3]), w, _i([0, 3]), mode="mean", padding_idx=3).sum().backward()
    _close(w.grad, [[1 / 3] * 2, [2 / 3] * 2, [0, 0], [0, 0], [0, 0]])  # the padding row gets nothing
    w.grad = None
    F.embedding_bag(_i([0, 1, 1, 3]), w, _i([0, 3]), mode="sum", scale_grad_by_freq=True).sum().backward()
    _close(w.grad, [[1, 1], [1, 1], [0, 0], [1, 1], [0, 0]])  # row 1 used twice: 2 / 2
    w.grad = None
    F.embedding_bag(_i([0, 1, 2]), w, _i([0]), mode="max").sum().backward()
    _close(w.grad, [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0]])  # each column to its arg-max row


def test_embedding_bag_sparse_gradient_equals_dense(backend):
    idx, offsets = _i([0, 4, 4, 1]), _i([0, 2])
    dense, sparse = _t(TABLE, True), _t(TABLE, True)
    F.embedding_bag(idx, dense, offsets, mode="mean").sum().backward()
    F.embedding_bag(idx, sparse, offsets, mode="mean", sparse=True).sum().backward()
    assert sparse.grad.is_sparse
    _close(sparse.grad.to_dense(), dense.grad.numpy())


def test_embedding_bag_max_norm_renormalises_in_place(backend):
    w = _t(TABLE)
    F.embedding_bag(_i([3, 0]), w, _i([0]), max_norm=1.0, mode="sum")
    norms = np.linalg.norm(w.numpy(), axis=1)
    assert norms[3] == pytest.approx(1.0, abs=1e-6) and norms[0] == pytest.approx(1.0, abs=1e-6)
    assert norms[2] == pytest.approx(4.0)  # not looked up: left alone


def test_embedding_bag_module(backend):
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-1)
    assert bag.padding_idx == 9 and np.all(bag.weight.numpy()[9] == 0)
    assert bag.weight.shape == (10, 3) and bag.weight.backend == backend
    assert repr(bag) == "EmbeddingBag(10, 3, mode='sum', padding_idx=9)"
    assert bag(_i([1, 2, 4, 5, 4]), _i([0, 2])).shape == (2, 3)
    pre = nn.EmbeddingBag.from_pretrained(_t(TABLE), mode="max")
    assert pre.weight.requires_grad is False
    _close(pre(_i([[0, 1]])), [[2, 1]])
    assert nn.EmbeddingBag.from_pretrained(_t(TABLE), freeze=False).weight.requires_grad


def test_embedding_bag_errors(backend):
    w, idx = _t(TABLE), _i([0, 1, 2])
    with pytest.raises(ValueError, match=r"embedding_bag: with a 2-D input \(each row a bag\) offsets must be None"):
        F.embedding_bag(_i([[0, 1]]), w, _i([0]))
    with pytest.raises(ValueError, match=r"embedding_bag: a 1-D input needs offsets"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0 .* got 1"):
        F.embedding_bag(idx, w, _i([1, 2]))
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing, got \[0, 2, 1\]"):
        F.embedding_bag(idx, w, _i([0, 2, 1]))
    with pytest.raises(ValueError, match=r"offsets\[-1\] = 5 is past the end of the input of length 3"):
        F.embedding_bag(idx, w, _i([0, 5]))
    with pytest.raises(ValueError, match=r"include_last_offset=True the last offset must be the input's length 3"):
        F.embedding_bag(idx, w, _i([0, 2]), include_last_offset=True)
    with pytest.raises(ValueError, match=r"mode must be 'sum', 'mean' or 'max', got 'min'"):
        F.embedding_bag(idx, w, _i([0]), mode="min")
    with pytest.raises(ValueError, match=r"mode='max' does not support scale_grad_by_freq"):
        F.embedding_bag(idx, w, _i([0]), mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match=r"per_sample_weights is only supported with mode='sum'"):
        F.embedding_bag(idx, w, _i([0]), per_sample_weights=_t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"per_sample_weights of shape \(2,\) must have the input's shape \(3,\)"):
        F.embedding_bag(idx, w, _i([0]), mode="sum", per_sample_weights=_t([1.0, 1.0]))
    with pytest.raises(IndexError, match=r"embedding_bag: indices must be in \[0, 5\)"):
        F.embedding_bag(_i([0, 7]), w, _i([0]))
    with pytest.raises(TypeError, match=r"embedding_bag: input must hold integers"):
        F.embedding_bag(_t([0.0, 1.0]), w, _i([0]))
    with pytest.raises(ValueError, match=r"padding_idx must be an int in \[-5, 5\)"):
        F.embedding_bag(idx, w, _i([0]), padding_idx=5)
    with pytest.raises(ValueError, match=r"expected a 2-D weight"):
        F.embedding_bag(idx, _t(np.ones(3)), _i([0]))
    with pytest.raises(ValueError, match=r"EmbeddingBag: mode must be"):
        nn.EmbeddingBag(3, 2, mode="median")


# -- CTCLoss ----------------------------------------------------------------------------------------------------


def ctc_brute_force(lp, target, blank):
    """-log of the summed probability of every path that collapses to ``target``."""
    t_len, c = lp.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        collapsed = [k for k, _ in itertools.groupby(path) if k != blank]
        if collapsed == list(target):
            total += math.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


def _log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def test_ctc_loss_by_hand(backend):
    """Two steps of {blank, a} at 1/2 each: the paths aa, a-, -a give P = 3/4."""
    lp = gdl.full((2, 1, 2), 0.5, dtype=F64).log()
    _close(F.ctc_loss(lp, _i([[1]]), [2], [1], reduction="none"), [math.log(4 / 3)])
    _close(F.ctc_loss(lp, _i([[1]]), [2], [0], reduction="none"), [math.log(4)])  # only "--"
    _close(F.ctc_loss(lp, _i([[1, 1]]), [2], [2], reduction="none"), [math.inf])  # "a-a" needs 3 steps


@pytest.mark.parametrize("blank", [0, 2])
def test_ctc_loss_matches_brute_force(backend, blank):
    rng = _rng(blank)
    t_len, n, c = 4, 5, 3
    lp = _log_softmax(rng.standard_normal((t_len, n, c)), axis=2)
    labels = [k for k in range(c) if k != blank]
    targets = np.array([[labels[0], labels[1]], [labels[0], labels[0]], [labels[1], 0], [labels[0], 0], [0, 0]])
    tl, il = [2, 2, 1, 1, 0], [4, 4, 3, 1, 2]
    expected = [ctc_brute_force(lp[:il[i], i], targets[i, :tl[i]], blank) for i in range(n)]
    got = F.ctc_loss(_t(lp), _i(targets), _i(il), _i(tl), blank=blank, reduction="none")
    _close(got, expected)
    concatenated = np.concatenate([targets[i, :tl[i]] for i in range(n)])
    _close(F.ctc_loss(_t(lp), _i(concatenated), il, tl, blank=blank, reduction="none"), expected)
    _close(F.ctc_loss(_t(lp), _i(targets), il, tl, blank=blank, reduction="sum"), sum(expected))
    per_len = [e / max(v, 1) for e, v in zip(expected, tl)]
    _close(F.ctc_loss(_t(lp), _i(targets), il, tl, blank=blank), np.mean(per_len))
    one = F.ctc_loss(_t(lp[:, 0]), _i(targets[0]), 4, 2, blank=blank, reduction="none")  # unbatched
    assert one.shape == ()
    _close(one, expected[0])


def test_ctc_loss_gradcheck(backend):
    rng = _rng(4)
    lp = _t(_log_softmax(rng.standard_normal((5, 3, 4)), axis=2), True)
    targets, il, tl = _i([[1, 2, 2], [3, 1, 0], [2, 0, 0]]), [5, 4, 3], [3, 2, 1]
    assert gradcheck(lambda x: F.ctc_loss(x, targets, il, tl, reduction="none"), [lp])
    logits = _t(rng.standard_normal((4, 2, 3)), True)
    assert gradcheck(lambda x: F.ctc_loss(gdl.nn.functional.log_softmax(x, 2), _i([[1, 2], [1, 0]]), [4, 3],
                                          [2, 1]), [logits])


def test_ctc_loss_zero_infinity(backend):
    lp = _t(_log_softmax(_rng(5).standard_normal((3, 2, 3)), axis=2), True)
    targets, il, tl = _i([[1, 1, 1], [1, 2, 0]]), [3, 3], [3, 2]  # the first needs 5 steps: impossible
    loss = F.ctc_loss(lp, targets, il, tl, reduction="none")
    assert math.isinf(loss.numpy()[0]) and math.isfinite(loss.numpy()[1])
    zeroed = F.ctc_loss(lp, targets, il, tl, reduction="sum", zero_infinity=True)
    _close(zeroed, loss.numpy()[1])
    zeroed.backward()
    grad = lp.grad.numpy()
    assert np.all(grad[:, 0] == 0) and np.all(np.isfinite(grad)) and np.any(grad[:, 1] != 0)
    lp.grad = None
    F.ctc_loss(lp, targets, il, tl, reduction="sum").backward()
    assert np.all(np.isnan(lp.grad.numpy()[:, 0]))  # as PyTorch: no gradient for an impossible target


def test_ctc_loss_module(backend):
    lp = gdl.nn.functional.log_softmax(gdl.randn(7, 2, 4), 2)
    loss = nn.CTCLoss(blank=3)
    assert repr(loss) == "CTCLoss(blank=3)" and repr(nn.CTCLoss()) == "CTCLoss()"
    out = loss(lp, _i([[0, 1], [2, 2]]), [7, 6], [2, 2])
    assert out.shape == () and out.dtype == gdl.float32 and math.isfinite(out.item())


def test_ctc_loss_errors(backend):
    lp = _t(np.log(np.full((4, 2, 3), 1 / 3)))
    targets = _i([[1, 2], [1, 1]])
    with pytest.raises(ValueError, match=r"ctc_loss: expected log_probs of shape \(T, N, C\) or \(T, C\)"):
        F.ctc_loss(_t(np.ones(3)), targets, [1], [1])
    with pytest.raises(ValueError, match=r"ctc_loss: blank must be a class index in \[0, 3\), got 3"):
        F.ctc_loss(lp, targets, [4, 4], [2, 2], blank=3)
    with pytest.raises(ValueError, match=r"input_lengths must hold one length per batch element \(2\)"):
        F.ctc_loss(lp, targets, [4], [2, 2])
    with pytest.raises(ValueError, match=r"input_lengths\[1\] = 5 is outside \[0, 4\]"):
        F.ctc_loss(lp, targets, [4, 5], [2, 2])
    with pytest.raises(ValueError, match=r"target_lengths\[0\] = -1 is negative"):
        F.ctc_loss(lp, targets, [4, 4], [-1, 2])
    with pytest.raises(ValueError, match=r"a target length 3 exceeds the 2 columns of targets"):
        F.ctc_loss(lp, targets, [4, 4], [3, 2])
    with pytest.raises(ValueError, match=r"target values must be class indices in \[0, 3\)"):
        F.ctc_loss(lp, _i([[1, 7], [1, 1]]), [4, 4], [2, 2])
    with pytest.raises(ValueError, match=r"target_lengths sum to 4 but the concatenated targets hold 3"):
        F.ctc_loss(lp, _i([1, 2, 1]), [4, 4], [2, 2])
    with pytest.raises(ValueError, match=r"ctc_loss: reduction must be one of"):
        F.ctc_loss(lp, targets, [4, 4], [2, 2], reduction="avg")
    with pytest.raises(TypeError, match=r"ctc_loss: input_lengths must hold integers"):
        F.ctc_loss(lp, targets, [4.0, 4.0], [2, 2])
    with pytest.raises(ValueError, match=r"unbatched log_probs \(T, C\) need 1-D targets"):
        F.ctc_loss(lp[:, 0], targets, 4, 2)


# -- gumbel_softmax -------------------------------------------------------------------------------------------------


def test_gumbel_softmax_samples(backend):
    logits = _t(_rng(6).standard_normal((3, 5)))
    gdl.manual_seed(11)
    a = F.gumbel_softmax(logits, tau=0.5)
    gdl.manual_seed(11)
    b = F.gumbel_softmax(logits, tau=0.5)
    _close(a, b.numpy(), rtol=0, atol=0)  # the backend generator: same seed, same sample
    assert not np.allclose(F.gumbel_softmax(logits, tau=0.5).numpy(), a.numpy())
    _close(gdl.sum(a, dim=-1), np.ones(3))
    assert np.all(a.numpy() > 0)
    gdl.manual_seed(11)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard.numpy().argmax(-1), a.numpy().argmax(-1))  # one-hot of the soft sample
    along0 = F.gumbel_softmax(logits, hard=True, dim=0)
    np.testing.assert_array_equal(along0.numpy().sum(0), np.ones(5))


def test_gumbel_softmax_straight_through_gradient(backend):
    logits = _t(_rng(7).standard_normal((2, 4)), True)
    weights = _t(_rng(8).standard_normal((2, 4)))
    gdl.manual_seed(3)
    (F.gumbel_softmax(logits, tau=0.8, hard=True) * weights).sum().backward()
    hard_grad = logits.grad.numpy()
    logits.grad = None
    gdl.manual_seed(3)
    (F.gumbel_softmax(logits, tau=0.8) * weights).sum().backward()
    _close(logits.grad, hard_grad)
    gdl.manual_seed(5)
    assert gradcheck(lambda x: (gdl.manual_seed(5), F.gumbel_softmax(x, tau=0.8))[1], [logits])


def test_gumbel_softmax_frequencies(backend):
    logits = np.array([1.0, 0.0, -1.0])
    gdl.manual_seed(0)
    freq = F.gumbel_softmax(_t(np.tile(logits, (6000, 1))), hard=True).numpy().mean(0)
    np.testing.assert_allclose(freq, np.exp(logits) / np.exp(logits).sum(), atol=0.025)


def test_gumbel_softmax_errors(backend):
    with pytest.raises(ValueError, match=r"gumbel_softmax: tau must be > 0, got 0.0"):
        F.gumbel_softmax(gdl.zeros(3), tau=0)
    with pytest.raises(ValueError, match=r"gumbel_softmax: dim 2 is out of range for logits of shape \(3,\)"):
        F.gumbel_softmax(gdl.zeros(3), dim=2)
    with pytest.raises(TypeError, match=r"gumbel_softmax: expected a floating-point logits"):
        F.gumbel_softmax(_i([1, 2]))


# -- LocalResponseNorm ----------------------------------------------------------------------------------------------


def lrn_reference(x, size, alpha, beta, k):
    c = x.shape[1]
    sq = x * x
    div = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        div[:, ch] = sq[:, lo:hi].sum(axis=1)
    return x / (k + alpha / size * div) ** beta


def test_local_response_norm_values(backend):
    _close(F.local_response_norm(_t(np.ones((1, 2, 1))), 1, alpha=1.0, beta=1.0, k=1.0), [[[0.5], [0.5]]])
    # size 2: channel c sees c-1 and c; channel 0 only itself
    _close(F.local_response_norm(_t([[[1.0], [2.0]]]), 2, alpha=2.0, beta=1.0, k=1.0), [[[1 / 2], [2 / 6]]])
    x = _rng(9).standard_normal((2, 6, 3, 2))
    for size in (1, 2, 3, 5, 8):
        _close(F.local_response_norm(_t(x), size, 0.3, 0.75, 2.0), lrn_reference(x, size, 0.3, 0.75, 2.0))


def test_local_response_norm_gradcheck(backend):
    rng = _rng(10)
    for shape, size in (((2, 5, 3), 3), ((1, 4, 2, 2), 2), ((1, 3, 2, 1, 2), 4)):
        x = _t(rng.standard_normal(shape), True)
        assert gradcheck(lambda v, size=size: F.local_response_norm(v, size, alpha=0.5, beta=0.8, k=1.5), [x])


def test_local_response_norm_module_and_errors(backend):
    m = nn.LocalResponseNorm(3)
    assert repr(m) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"
    assert m(gdl.randn(2, 4, 5, 5)).shape == (2, 4, 5, 5)
    with pytest.raises(ValueError, match=r"local_response_norm: expected an input of 3 or more dimensions"):
        F.local_response_norm(gdl.zeros(2, 3), 2)
    with pytest.raises(ValueError, match=r"local_response_norm: size must be a positive int, got 0"):
        F.local_response_norm(gdl.zeros(2, 3, 1), 0)
    with pytest.raises(ValueError, match=r"LocalResponseNorm: size must be a positive int"):
        nn.LocalResponseNorm(1.5)


# -- affine_grid and grid_sample ---------------------------------------------------------------------------------------

IDENTITY = [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]


def test_affine_grid_values(backend):
    grid = F.affine_grid(_t(IDENTITY), (1, 1, 2, 3), align_corners=True)
    assert grid.shape == (1, 2, 3, 2)
    _close(grid, [[[[-1, -1], [0, -1], [1, -1]], [[-1, 1], [0, 1], [1, 1]]]])
    grid = F.affine_grid(_t(IDENTITY), (1, 1, 2, 3))  # align_corners=False: pixel centres
    _close(grid[0, 0, :, 0], [-2 / 3, 0, 2 / 3])
    _close(grid[0, :, 0, 1], [-0.5, 0.5])
    shift = F.affine_grid(_t([[[2.0, 0.0, 0.5], [0.0, -1.0, 0.25]]]), (1, 3, 1, 2), align_corners=True)
    _close(shift, [[[[-1.5, 0.25], [2.5, 0.25]]]])
    _close(F.affine_grid(_t(IDENTITY), (1, 1, 1, 1), align_corners=True), [[[[0.0, 0.0]]]])


def test_affine_grid_gradcheck(backend):
    theta = _t(_rng(11).standard_normal((2, 2, 3)), True)
    assert gradcheck(lambda th: F.affine_grid(th, (2, 1, 3, 4), align_corners=False), [theta])


def test_grid_sample_identity_and_values(backend):
    x = _rng(12).standard_normal((2, 3, 4, 5))
    theta = _t(np.repeat(np.asarray(IDENTITY), 2, axis=0))
    for align in (False, True):
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align)
        for mode in ("bilinear", "nearest"):
            _close(F.grid_sample(_t(x), grid, mode=mode, align_corners=align), x, atol=1e-12)
    img = _t([[[[0.0, 10.0], [20.0, 30.0]]]])
    centre = _t([[[[0.0, 0.0]]]])
    _close(F.grid_sample(img, centre, align_corners=True), [[[[15.0]]]])
    _close(F.grid_sample(img, _t([[[[0.5, -1.0]]]]), align_corners=True), [[[[7.5]]]])  # 3/4 across the top
    # align_corners=False: x = -1 is the left edge of pixel 0, half a pixel outside its centre
    _close(F.grid_sample(img, _t([[[[-1.0, -0.5]]]]), align_corners=False), [[[[0.0]]]])  # half of 0, half zeros
    _close(F.grid_sample(img, _t([[[[-1.0, -0.5]]]]), padding_mode="border", align_corners=False), [[[[0.0]]]])
    _close(F.grid_sample(img, _t([[[[1.0, -0.5]]]]), padding_mode="zeros", align_corners=False), [[[[5.0]]]])
    _close(F.grid_sample(img, _t([[[[1.0, -0.5]]]]), padding_mode="border", align_corners=False), [[[[10.0]]]])
    # far outside: zeros reads 0, border the nearest edge pixel, reflection mirrors back inside
    far = _t([[[[3.0, -1.0]]]])  # x = 3 with align_corners: pixel 2 steps past the right edge
    _close(F.grid_sample(img, far, align_corners=True), [[[[0.0]]]])
    _close(F.grid_sample(img, far, padding_mode="border", align_corners=True), [[[[10.0]]]])
    _close(F.grid_sample(img, far, padding_mode="reflection", align_corners=True), [[[[0.0]]]])
    _close(F.grid_sample(img, _t([[[[2.0, -1.0]]]]), padding_mode="reflection", align_corners=True),
           [[[[5.0]]]])  # x = 1.5 pixels reflects to 0.5
    # nearest rounds half to even: x = 0.5 pixels (between 0 and 1) reads pixel 0
    _close(F.grid_sample(img, _t([[[[0.0, -1.0]]]]), mode="nearest", align_corners=True), [[[[0.0]]]])
    _close(F.grid_sample(img, _t([[[[0.2, 1.0]]]]), mode="nearest", align_corners=True), [[[[30.0]]]])


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradcheck(backend, padding_mode, align_corners):
    rng = _rng(13)
    x = _t(rng.standard_normal((1, 2, 3, 3)), True)
    grid = _t(rng.uniform(-1.4, 1.4, (1, 2, 2, 2)), True)
    kw = dict(padding_mode=padding_mode, align_corners=align_corners)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, **kw), [x, grid])
    fixed = grid.detach()
    assert gradcheck(lambda a: F.grid_sample(a, fixed, mode="nearest", **kw), [x])


def test_grid_sample_nearest_has_zero_grid_gradient(backend):
    grid = _t(_rng(14).uniform(-1, 1, (1, 2, 2, 2)), True)
    F.grid_sample(_t(np.ones((1, 1, 3, 3))), grid, mode="nearest").sum().backward()
    _close(grid.grad, np.zeros((1, 2, 2, 2)))


def test_grid_sample_and_affine_grid_errors(backend):
    x, grid = _t(np.ones((1, 1, 2, 2))), _t(np.zeros((1, 1, 1, 2)))
    with pytest.raises(NotImplementedError, match=r"grid_sample: mode='bicubic' is not implemented"):
        F.grid_sample(x, grid, mode="bicubic")
    with pytest.raises(ValueError, match=r"grid_sample: mode must be 'bilinear' or 'nearest', got 'area'"):
        F.grid_sample(x, grid, mode="area")
    with pytest.raises(ValueError, match=r"padding_mode must be 'zeros', 'border' or 'reflection', got 'wrap'"):
        F.grid_sample(x, grid, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"expected grid of shape \(N, H_out, W_out, 2\) with N = 1, got \(2, 1, 1, 2\)"):
        F.grid_sample(x, _t(np.zeros((2, 1, 1, 2))))
    with pytest.raises(ValueError, match=r"grid_sample: expected a 4-D input"):
        F.grid_sample(_t(np.ones((1, 2, 2))), grid)
    with pytest.raises(NotImplementedError, match=r"grid_sample: 3-D \(volumetric\)"):
        F.grid_sample(_t(np.ones((1, 1, 2, 2, 2))), grid)
    with pytest.raises(TypeError, match=r"grid_sample: input is float64 but grid is float32"):
        F.grid_sample(x, gdl.zeros(1, 1, 1, 2))
    with pytest.raises(TypeError, match=r"align_corners must be True, False or None"):
        F.grid_sample(x, grid, align_corners=1)
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(N, 2, 3\) = \(2, 2, 3\)"):
        F.affine_grid(_t(IDENTITY), (2, 1, 3, 3))
    with pytest.raises(NotImplementedError, match=r"affine_grid: 3-D \(volumetric\) grids"):
        F.affine_grid(_t(IDENTITY), (1, 1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"affine_grid: expected positive sizes"):
        F.affine_grid(_t(IDENTITY), (1, 1, 0, 2))


# -- MaxUnpool ------------------------------------------------------------------------------------------------------


def test_max_unpool_round_trip(backend):
    x = _t(np.abs(_rng(15).standard_normal((2, 3, 4, 6))) + 0.1)  # positive: unpooled zeros never win
    pooled, idx = gdl.nn.functional.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(pooled, idx, 2)
    assert back.shape == (2, 3, 4, 6)
    xs, bs = x.numpy(), back.numpy()
    kept = bs != 0
    assert kept.sum() == pooled.numel()
    np.testing.assert_array_equal(bs[kept], xs[kept])  # each maximum back in its place
    _close(gdl.nn.functional.max_pool2d(back, 2), pooled.numpy())
    assert F.max_unpool2d(pooled[0], idx[0], 2).shape == (3, 4, 6)  # unbatched
    assert F.max_unpool2d(pooled, idx, 2, output_size=(5, 7)).shape == (2, 3, 5, 7)
    assert F.max_unpool2d(pooled, idx, 2, output_size=(2, 3, 5, 6)).shape == (2, 3, 5, 6)


def test_max_unpool1d_by_hand(backend):
    x = _t([[[1.0, 5.0, 2.0, 0.0, 3.0]]])
    pooled, idx = gdl.nn.functional.max_pool1d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[1, 2]]])
    _close(F.max_unpool1d(pooled, idx, 2), [[[0.0, 5.0, 2.0, 0.0]]])
    _close(F.max_unpool1d(pooled, idx, 2, output_size=[5]), [[[0.0, 5.0, 2.0, 0.0, 0.0]]])
    _close(F.max_unpool1d(_t([[[4.0, 6.0]]]), _i([[[3, 3]]]), 2), [[[0.0, 0.0, 0.0, 6.0]]])  # the later one wins


def test_max_unpool_gradcheck(backend):
    x = _t(_rng(16).standard_normal((1, 2, 4, 5)))
    pooled, idx = gdl.nn.functional.max_pool2d(x, 3, 3, 1, return_indices=True)
    vals = _t(_rng(17).standard_normal(pooled.shape), True)
    assert gradcheck(lambda v: F.max_unpool2d(v, idx, 3, 3, 1, output_size=(4, 5)), [vals])
    # overlapping windows may share a maximum: the later value is written, yet, as in PyTorch,
    # each value's gradient is the output gradient at its index
    shared = _t([[[4.0, 6.0, 1.0]]], True)
    out = F.max_unpool1d(shared, _i([[[1, 1, 2]]]), 2, 1)
    _close(out, [[[0.0, 6.0, 1.0, 0.0]]])
    (out * _t([[[1.0, 2.0, 3.0, 4.0]]])).sum().backward()
    _close(shared.grad, [[[2.0, 2.0, 3.0]]])


def test_max_unpool_modules_and_errors(backend):
    m = nn.MaxUnpool2d(2)
    assert repr(m) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool1d(3, 2, 1)) == "MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(1,))"
    pooled, idx = gdl.nn.functional.max_pool2d(gdl.randn(1, 1, 4, 4), 2, return_indices=True)
    assert m(pooled, idx).shape == (1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"indices of shape \(1, 1, 2, 1\) must have the input's shape \(1, 1, 2, 2\)"):
        m(pooled, idx[:, :, :, :1])
    with pytest.raises(ValueError, match=r"max_unpool2d: indices must be in \[0, 16\)"):
        m(pooled, idx + 20)
    with pytest.raises(ValueError, match=r"invalid output_size \(7, 4\): dimension 0 must be strictly between 2 and 6"):
        m(pooled, idx, output_size=(7, 4))
    with pytest.raises(ValueError, match=r"output_size must hold 2 or 4 sizes"):
        m(pooled, idx, output_size=(4,))
    with pytest.raises(ValueError, match=r"max_unpool1d: expected input of shape \(N, C, L\) or \(C, L\)"):
        F.max_unpool1d(pooled, idx, 2)
    with pytest.raises(TypeError, match=r"max_unpool2d: indices must hold integers"):
        m(pooled, pooled)


# -- LPPool -------------------------------------------------------------------------------------------------------


def test_lp_pool_values(backend):
    x = _t([[[1.0, -2.0, 3.0, 4.0, 5.0]]])
    _close(F.lp_pool1d(_t([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 1, 2), [[[3.0, 7.0]]])  # sums (last partial window dropped)
    _close(F.lp_pool1d(x, 2, 2), [[[math.sqrt(5), 5.0]]])
    _close(F.lp_pool1d(x, math.inf, 2, stride=1), [[[2.0, 3.0, 4.0, 5.0]]])  # max of |x|
    # ceil_mode: the last, partial window averages what it covers, times the whole kernel (PyTorch's rule)
    _close(F.lp_pool1d(x, 2, 2, ceil_mode=True), [[[math.sqrt(5), 5.0, math.sqrt(2 * 25)]]])
    y = _t(np.arange(1.0, 13.0).reshape(1, 1, 3, 4))
    _close(F.lp_pool2d(y, 2, (2, 2)), [[[[math.sqrt(1 + 4 + 25 + 36), math.sqrt(9 + 16 + 49 + 64)]]]])
    _close(F.lp_pool2d(y[0], 1, (3, 1), stride=(1, 2)), [[[15.0, 21.0]]])  # unbatched


def test_lp_pool_gradcheck(backend):
    rng = _rng(18)
    x2 = _t(rng.uniform(0.3, 2.0, (1, 2, 4, 5)), True)
    x1 = _t(rng.uniform(0.3, 2.0, (2, 1, 7)) * rng.choice([-1.0, 1.0], (2, 1, 7)), True)
    assert gradcheck(lambda v: F.lp_pool2d(v, 3.5, 2, stride=1), [x2])
    assert gradcheck(lambda v: F.lp_pool1d(v, 2, 3, stride=2, ceil_mode=True), [x1])
    assert gradcheck(lambda v: F.lp_pool1d(v, math.inf, 2), [x1])


def test_lp_pool_modules_and_errors(backend):
    m = nn.LPPool2d(2, 3, stride=2)
    assert repr(m) == "LPPool2d(norm_type=2, kernel_size=3, stride=2, ceil_mode=False)"
    assert m(gdl.randn(2, 3, 7, 7)).shape == (2, 3, 3, 3)
    assert nn.LPPool1d(1.5, 2)(gdl.rand(2, 3, 8)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"lp_pool2d: norm_type must be non-zero"):
        F.lp_pool2d(gdl.ones(1, 1, 2, 2), 0, 2)
    with pytest.raises(TypeError, match=r"lp_pool1d: norm_type must be a real number"):
        F.lp_pool1d(gdl.ones(1, 1, 2), "2", 2)
    with pytest.raises(ValueError, match=r"lp_pool1d: expected input of shape \(N, C, L\) or \(C, L\)"):
        F.lp_pool1d(gdl.ones(2), 2, 2)
    with pytest.raises(ValueError, match=r"lp_pool2d: kernel_size must be >= 1"):
        F.lp_pool2d(gdl.ones(1, 1, 2, 2), 2, 0)
