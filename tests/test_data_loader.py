"""Dataset, TensorDataset, Subset, random_split and DataLoader.

Tests taking ``backend`` (the fixture in conftest.py) run on every selected backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdl.backends as backends
from gdl.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split
from gdl.tensor import Tensor, tensor


class ItemOnly(Dataset):
    """Samples (i, 2i) one at a time: no get_batch, so the loader's slow path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i], dtype=np.int64), 2 * i


def flat(loader, field=0):
    return [v for batch in loader for v in batch[field].numpy().reshape(-1).tolist()]


# -- TensorDataset ----------------------------------------------------------------------


def test_tensor_dataset_items_and_batches_from_host_arrays():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6, dtype=np.int64) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8.0, 9.0] and int(yi) == 40
    assert int(ds[-1][1]) == 50
    bx, by = ds.get_batch([5, 0, 5])
    assert bx.tolist() == [[10.0, 11.0], [0.0, 1.0], [10.0, 11.0]]
    assert by.tolist() == [50, 0, 50]
    with pytest.raises(IndexError, match="out of range for length 6"):
        ds[6]
    with pytest.raises(TypeError, match="integer"):
        ds[1.5]


def test_tensor_dataset_of_gdl_tensors_stays_on_its_backend(backend):
    x = tensor(np.arange(8, dtype=np.float32).reshape(4, 2), backend=backend)
    y = tensor(np.array([3, 1, 4, 1], dtype=np.int64), backend=backend)
    ds = TensorDataset(x, y)
    bx, by = ds.get_batch([2, 0])
    assert isinstance(bx, Tensor) and bx.backend == backend
    assert bx.numpy().tolist() == [[4.0, 5.0], [0.0, 1.0]] and by.numpy().tolist() == [4, 3]
    xi, yi = ds[3]
    assert xi.numpy().tolist() == [6.0, 7.0] and yi.item() == 1
    ((lx, ly),) = list(DataLoader(ds, batch_size=4, backend=backend))
    assert lx.backend == backend and ly.numpy().tolist() == [3, 1, 4, 1]


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"first dimension.*\(3,\).*\(4,\)"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))


def test_iterating_a_dataset_stops_at_its_end():
    ds = TensorDataset(np.arange(3))
    assert [int(s[0]) for s in ds] == [0, 1, 2]


# -- Subset and random_split --------------------------------------------------------------


def test_subset_maps_indices_and_keeps_the_fast_path():
    ds = TensorDataset(np.arange(10) * 3)
    sub = Subset(ds, [9, 2, 2])
    assert len(sub) == 3 and int(sub[0][0]) == 27 and int(sub[-1][0]) == 6
    assert sub.get_batch([0, 1])[0].tolist() == [27, 6]
    assert not hasattr(Subset(ItemOnly(4), [0]), "get_batch")
    with pytest.raises(IndexError):
        Subset(ds, [10])


@given(
    n=st.integers(0, 60),
    parts=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=60, deadline=None)
def test_random_split_is_a_seeded_partition(n, parts, seed):
    total = sum(parts)
    fractions = [p / total for p in parts]
    ds = TensorDataset(np.arange(n))
    split = random_split(ds, fractions, seed=seed)
    sizes = [len(s) for s in split]
    assert sum(sizes) == n
    floors = [int(n * f) for f in fractions]
    assert all(f <= s <= f + 1 for f, s in zip(floors, sizes))
    seen = sorted(i for s in split for i in s.indices)
    assert seen == list(range(n))
    again = random_split(ds, fractions, seed=seed)
    assert [s.indices for s in again] == [s.indices for s in split]


def test_random_split_counts_errors_and_seed_effect():
    ds = TensorDataset(np.arange(100))
    a, b = random_split(ds, [70, 30], seed=1)
    assert (len(a), len(b)) == (70, 30)
    c, _ = random_split(ds, [70, 30], seed=2)
    assert a.indices != c.indices
    assert a.indices != list(range(70))  # really shuffled
    with pytest.raises(ValueError, match="sum to the data set's length 100"):
        random_split(ds, [50, 49])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="seed"):
        random_split(ds, [50, 50], seed=-1)


def test_random_split_without_seed_follows_manual_seed():
    ds = TensorDataset(np.arange(50))
    backends.manual_seed(123)
    first = [s.indices for s in random_split(ds, [0.5, 0.5])]
    backends.manual_seed(123)
    second = [s.indices for s in random_split(ds, [0.5, 0.5])]
    assert first == second


# -- DataLoader --------------------------------------------------------------------------


@given(
    n=st.integers(0, 70),
    batch_size=st.integers(1, 20),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=80, deadline=None)
def test_loader_batches_partition_the_data(n, batch_size, shuffle, drop_last, seed):
    ds = TensorDataset(np.arange(n, dtype=np.int64))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = [b[0].numpy().tolist() for b in loader]
    assert len(batches) == len(loader)
    full, rest = divmod(n, batch_size)
    expected_sizes = [batch_size] * full + ([] if drop_last or rest == 0 else [rest])
    assert [len(b) for b in batches] == expected_sizes
    seen = [v for b in batches for v in b]
    assert len(set(seen)) == len(seen)  # no sample twice
    if not drop_last:
        assert sorted(seen) == list(range(n))
    if not shuffle:
        assert seen == list(range(len(seen)))


@given(n=st.integers(1, 40), batch_size=st.integers(1, 9), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_fast_path_and_item_path_give_the_same_batches(n, batch_size, seed):
    fast = DataLoader(
        TensorDataset(np.stack([np.arange(n)] * 2, axis=1), np.arange(n) * 2), batch_size, True, seed=seed
    )
    slow = DataLoader(ItemOnly(n), batch_size, True, seed=seed)
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.numpy().tolist() == sx.numpy().tolist()
        assert fy.numpy().tolist() == sy.numpy().tolist()
        assert str(fy.dtype) == str(sy.dtype) == "gdl.int64"


def test_shuffle_is_repeatable_per_seed_and_changes_every_epoch():
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=7)
    epochs_a = [flat(a) for _ in range(3)]
    epochs_b = [flat(b) for _ in range(3)]
    assert epochs_a == epochs_b  # same seed: the same sequence of orders
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]  # a new order each epoch
    assert all(sorted(e) == list(range(50)) for e in epochs_a)
    assert flat(DataLoader(ds, batch_size=8, shuffle=True, seed=8)) != epochs_a[0]
    # set_epoch replays any epoch (resuming training), independent of history
    a.set_epoch(1)
    assert flat(a) == epochs_a[1]
    assert a.order(2) == epochs_a[2]
    # an epoch broken off half-way does not disturb the next one
    c = DataLoader(ds, batch_size=8, shuffle=True, seed=7)
    next(iter(c))
    assert flat(c) == epochs_a[1]


def test_shuffle_without_seed_follows_manual_seed():
    ds = TensorDataset(np.arange(40))
    backends.manual_seed(5)
    first = flat(DataLoader(ds, batch_size=40, shuffle=True))
    backends.manual_seed(5)
    second = flat(DataLoader(ds, batch_size=40, shuffle=True))
    assert first == second and first != list(range(40))


def test_last_partial_batch_kept_unless_drop_last():
    ds = TensorDataset(np.arange(10))
    assert [b[0].shape for b in DataLoader(ds, batch_size=4)] == [(4,), (4,), (2,)]
    assert len(DataLoader(ds, batch_size=4)) == 3
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [b[0].shape for b in dropped] == [(4,), (4,)]
    assert len(DataLoader(ds, batch_size=20, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=20, drop_last=True)) == []


def test_batches_are_tensors_on_the_requested_or_current_backend(backend):
    ds = TensorDataset(np.ones((5, 3), dtype=np.float32), np.arange(5))
    x, y = next(iter(DataLoader(ds, batch_size=5, backend=backend)))
    assert isinstance(x, Tensor) and x.backend == backend and y.backend == backend
    assert x.shape == (5, 3) and str(x.dtype) == "gdl.float32" and str(y.dtype) == "gdl.int64"
    with backends.use_backend(backend):
        loader = DataLoader(ItemOnly(3), batch_size=2)
        x, y = next(iter(loader))
        assert x.backend == backend and y.numpy().tolist() == [0, 2]


def test_default_collate_structures():
    batch = default_collate([{"x": np.zeros(2), "t": "a", "f": 1.5}, {"x": np.ones(2), "t": "b", "f": 2}])
    assert batch["x"].shape == (2, 2) and batch["t"] == ["a", "b"]
    assert batch["f"].dtype == np.float32 and batch["f"].tolist() == [1.5, 2.0]
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([[1, 2], [3, 4]])[1].tolist() == [2, 4]
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object()])


def test_loader_with_text_samples_and_custom_collate():
    texts = [("good film", 1), ("bad film", 0), ("fine", 1)]
    texts_batch, labels = next(iter(DataLoader(texts, batch_size=2)))
    assert texts_batch == ["good film", "bad film"] and labels.numpy().tolist() == [1, 0]
    lengths = list(DataLoader(texts, batch_size=2, collate_fn=lambda s: [len(t) for t, _ in s]))
    assert lengths == [[9, 8], [4]]


def test_loader_argument_errors():
    ds = TensorDataset(np.arange(3))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(ds, shuffle=True, seed=-3)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(5)
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        DataLoader(ds, backend="nope")
    with pytest.raises(ValueError, match="epoch"):
        DataLoader(ds).set_epoch(-1)
