"""Row-sparse embedding gradients (``Embedding(sparse=True)``): the same numbers as dense ones."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
import gdl.optim
from gdl import nn
from gdl.nn import functional as F
from gdl.sparse_grad import RowSparseGrad

IDS = [[3, 1, 3], [0, 3, 7]]  # row 3 three times, rows 2, 4, 5, 6 never


def _pair(padding_idx=None, rows=8, dim=4):
    """Two embeddings with equal weights, one dense and one sparse."""
    dense = nn.Embedding(rows, dim, padding_idx=padding_idx, dtype=gdl.float64)
    sparse = nn.Embedding(rows, dim, padding_idx=padding_idx, sparse=True, dtype=gdl.float64)
    sparse.weight.data = dense.weight.data * 1.0
    return dense, sparse


def _loss(emb, ids, weights):
    return (emb(gdl.tensor(ids)) * weights).sum()


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_sparse_gradient_equals_dense(backend, padding_idx):
    dense, sparse = _pair(padding_idx)
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    _loss(dense, IDS, w).backward()
    _loss(sparse, IDS, w).backward()
    g = sparse.weight.grad
    assert isinstance(g, RowSparseGrad) and g.is_sparse and not dense.weight.grad.is_sparse
    assert g.shape == (8, 4) and g.indices.shape[0] == 6  # one row per lookup, not per table row
    np.testing.assert_allclose(g.numpy(), dense.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    if padding_idx is not None:
        assert not np.any(g.numpy()[padding_idx])


def test_coalesce_sums_repeated_rows(backend):
    _, sparse = _pair()
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    _loss(sparse, IDS, w).backward()
    g = sparse.weight.grad
    c = g.coalesce()
    assert gdl.tensor(c.indices).numpy().tolist() == [0, 1, 3, 7]
    np.testing.assert_allclose(c.to_dense().numpy(), g.to_dense().numpy(), rtol=1e-12)
    wn = w.numpy()
    np.testing.assert_allclose(gdl.tensor(c.values).numpy()[2], wn[0, 0] + wn[0, 2] + wn[1, 1], rtol=1e-12)


def test_accumulates_over_uses_and_backward_calls(backend):
    dense, sparse = _pair()
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    for emb in (dense, sparse):
        # two lookups in one graph, then a second backward without zero_grad
        (_loss(emb, IDS, w) + 2 * _loss(emb, [[7, 7, 2]], w[0])).backward()
        _loss(emb, [[5, 3, 3]], w[1]).backward()
    assert sparse.weight.grad.is_sparse
    np.testing.assert_allclose(sparse.weight.grad.numpy(), dense.weight.grad.numpy(), rtol=1e-12)


def test_mixed_with_a_dense_use_gives_a_dense_gradient(backend):
    dense, sparse = _pair()
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    for emb in (dense, sparse):
        (_loss(emb, IDS, w) + (emb.weight ** 2).sum()).backward()
    assert not sparse.weight.grad.is_sparse
    np.testing.assert_allclose(sparse.weight.grad.numpy(), dense.weight.grad.numpy(), rtol=1e-12)


def test_sparse_after_dense_backward_adds_to_the_dense_gradient(backend):
    dense, sparse = _pair()
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    for emb in (dense, sparse):
        (emb.weight ** 2).sum().backward()  # a dense gradient first
        _loss(emb, IDS, w).backward()       # then the lookups' (row-sparse for `sparse`)
    assert not sparse.weight.grad.is_sparse
    np.testing.assert_allclose(sparse.weight.grad.numpy(), dense.weight.grad.numpy(), rtol=1e-12)


def test_non_leaf_table_gets_dense_gradient_flowing_through(backend):
    base = gdl.randn(8, 4, dtype=gdl.float64, requires_grad=True)
    w = gdl.randn(2, 3, 4, dtype=gdl.float64)
    (F.embedding(gdl.tensor(IDS), base * 3.0, sparse=True) * w).sum().backward()
    expected = base.grad.numpy()
    base.grad = None
    (F.embedding(gdl.tensor(IDS), base * 3.0) * w).sum().backward()
    assert not base.grad.is_sparse
    np.testing.assert_allclose(expected, base.grad.numpy(), rtol=1e-12)


def test_sgd_on_sparse_gradients_matches_dense_training(backend):
    dense, sparse = _pair(padding_idx=0)
    head_d = nn.Linear(4, 1, dtype=gdl.float64)
    head_s = nn.Linear(4, 1, dtype=gdl.float64)
    head_s.load_state_dict(head_d.state_dict())
    opt_d = gdl.optim.SGD(list(dense.parameters()) + list(head_d.parameters()), lr=0.3)
    opt_s = gdl.optim.SGD(list(sparse.parameters()) + list(head_s.parameters()), lr=0.3)
    batches = [[1, 1, 2], [0, 5, 5], [7, 2, 1]]
    for ids in batches * 3:
        for emb, head, opt in ((dense, head_d, opt_d), (sparse, head_s, opt_s)):
            opt.zero_grad()
            loss = (head(emb(gdl.tensor(ids)).sum(axis=0)) - 1.0) ** 2
            loss.sum().backward()
            opt.step()
    np.testing.assert_allclose(sparse.weight.numpy(), dense.weight.numpy(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(sparse.weight.numpy()[1], _pair()[0].weight.numpy()[1])  # it did train
    untouched = [3, 4, 6]
    start = dense.weight.numpy()  # rows never used keep their starting values in both
    np.testing.assert_array_equal(sparse.weight.numpy()[untouched], start[untouched])


def test_sgd_sparse_step_is_in_place_on_numpy():
    with gdl.use_backend("numpy"):
        _, sparse = _pair()
        before = sparse.weight.data
        _loss(sparse, IDS, 1.0).backward()
        gdl.optim.SGD(sparse.parameters(), lr=0.1).step()
        assert sparse.weight.data is before
        np.testing.assert_allclose(before[3] - sparse.weight.numpy()[3], 0.0)  # same array


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: gdl.optim.Adam(ps, lr=0.1),
        lambda ps: gdl.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: gdl.optim.SGD(ps, lr=0.1, weight_decay=0.01),
        lambda ps: gdl.optim.Adagrad(ps, lr=0.1),
    ],
)
def test_unsupported_optimizers_refuse_sparse_gradients(backend, make):
    _, sparse = _pair()
    before = sparse.weight.numpy()
    _loss(sparse, IDS, 1.0).backward()
    opt = make(sparse.parameters())
    with pytest.raises(TypeError, match=r"row-sparse gradient.*Embedding\(sparse=True\)"):
        opt.step()
    np.testing.assert_array_equal(sparse.weight.numpy(), before)  # nothing half-applied


def test_zero_grad_and_clipping_with_sparse_gradients(backend):
    dense, sparse = _pair()
    w = gdl.randn(2, 3, 4, dtype=gdl.float64) * 10
    for emb in (dense, sparse):
        _loss(emb, IDS, w).backward()
    n_d = nn.utils.clip_grad_norm_(dense.parameters(), 1.0)
    n_s = nn.utils.clip_grad_norm_(sparse.parameters(), 1.0)
    assert n_s.item() == pytest.approx(n_d.item(), rel=1e-12)  # norm of the summed rows, not of the lookups
    assert sparse.weight.grad.is_sparse
    np.testing.assert_allclose(sparse.weight.grad.numpy(), dense.weight.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(dense.parameters(), 0.05)
    nn.utils.clip_grad_value_(sparse.parameters(), 0.05)
    np.testing.assert_allclose(sparse.weight.grad.numpy(), dense.weight.grad.numpy(), rtol=1e-12)
    sparse.zero_grad(set_to_none=False)
    assert sparse.weight.grad is None
    _loss(sparse, IDS, w).backward()
    gdl.optim.SGD(sparse.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert sparse.weight.grad is None


def test_module_to_dtype_densifies_a_sparse_gradient():
    with gdl.use_backend("numpy"):
        _, sparse = _pair()
        _loss(sparse, IDS, 1.0).backward()
        sparse.to(dtype=gdl.float32)
        assert not sparse.weight.grad.is_sparse and sparse.weight.grad.dtype == gdl.float32
        assert sparse.weight.grad.numpy()[3].tolist() == [3.0] * 4


def test_repr_and_bad_values():
    with gdl.use_backend("numpy"):
        emb = nn.Embedding(5, 2, sparse=True)
        assert "sparse=True" in repr(emb)
        be = gdl.get_backend_object("numpy")
        with pytest.raises(ValueError, match="do not fit 2 indices"):
            RowSparseGrad(np.array([0, 1]), np.zeros((3, 2)), (5, 2), be)
