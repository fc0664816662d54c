"""Samplers, ConcatDataset/ChainDataset/StackDataset/IterableDataset, and the DataLoader's
sampler, batch_sampler, batch_size=None, generator and worker arguments (no PyTorch needed).

Frequencies are checked on large draws with tolerances of several standard deviations, tight
enough that a biased implementation (a wrong weight, a wrong without-replacement rule) fails.
"""

from __future__ import annotations

import collections
import math
import random

import numpy as np
import pytest

import gdl
import gdl.backends as backends
from gdl.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)
from gdl.tensor import Tensor


class ItemOnly(Dataset):
    """Samples (i, 2i) one at a time: no get_batch."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i], dtype=np.int64), 2 * i


class Stream(IterableDataset):
    """0, 1, ..., n - 1 as a stream; ``sized`` adds a __len__."""

    def __init__(self, n, start=0):
        self.n, self.start = n, start

    def __iter__(self):
        return iter(range(self.start, self.start + self.n))


class SizedStream(Stream):
    def __len__(self):
        return self.n


def flat(loader, field=0):
    return [v for batch in loader for v in batch[field].numpy().reshape(-1).tolist()]


def assert_frequencies(counts, probabilities, draws, sigmas=5.0):
    """Each observed frequency within ``sigmas`` binomial standard deviations of its probability."""
    for k, p in enumerate(probabilities):
        sd = math.sqrt(max(p * (1 - p), 1e-12) / draws)
        got = counts.get(k, 0) / draws
        assert abs(got - p) <= sigmas * sd + 1e-12, f"index {k}: frequency {got:.4f}, expected {p:.4f}"


# -- SequentialSampler, Sampler --------------------------------------------------------------


def test_sequential_sampler_order_and_length():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5
    assert list(s) == list(s)  # the same order every pass
    assert list(SequentialSampler([])) == [] and len(SequentialSampler([])) == 0
    data = [1, 2]
    s = SequentialSampler(data)
    data.append(3)  # the length is read at each pass
    assert list(s) == [0, 1, 2]


def test_sampler_base_class():
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(Sampler())
    with pytest.raises(TypeError):
        len(Sampler())  # deliberately no default __len__

    class Evens(Sampler[int]):  # subscriptable like torch's Sampler[int]
        def __iter__(self):
            return iter([0, 2, 4])

    assert list(Evens()) == [0, 2, 4]  # list() copes with the missing __len__
    assert isinstance(RandomSampler(range(3)), Sampler) and isinstance(BatchSampler([0], 1, False), Sampler)


# -- RandomSampler --------------------------------------------------------------------------


def test_random_sampler_without_replacement_is_a_new_permutation_each_pass():
    s = RandomSampler(range(50), generator=random.Random(0))
    passes = [list(s) for _ in range(3)]
    assert len(s) == 50
    assert all(sorted(p) == list(range(50)) for p in passes)
    assert passes[0] != passes[1] != passes[2]
    assert passes[0] != list(range(50))


def test_random_sampler_num_samples_beyond_and_below_the_length():
    s = RandomSampler(range(4), num_samples=10, generator=random.Random(3))
    order = list(s)
    assert len(s) == 10 and len(order) == 10
    assert sorted(order[0:4]) == sorted(order[4:8]) == [0, 1, 2, 3]  # whole permutations first
    assert len(set(order[8:])) == 2  # then the start of one more
    few = list(RandomSampler(range(100), num_samples=7, generator=random.Random(0)))
    assert len(few) == 7 and len(set(few)) == 7 and all(0 <= i < 100 for i in few)


def test_random_sampler_permutations_are_uniform():
    g = random.Random(11)
    s = RandomSampler(range(5), generator=g)
    draws = 5000
    first = collections.Counter(next(iter(s)) for _ in range(draws))
    assert_frequencies(first, [0.2] * 5, draws)
    # all 6 orders of 3 samples equally likely (a rotation or a biased shuffle fails this)
    for sampler in (RandomSampler(range(3), generator=g), SubsetRandomSampler([0, 1, 2], generator=g)):
        orders = sorted({(a, b, 3 - a - b) for a in range(3) for b in range(3) if a != b})
        counts = collections.Counter(orders.index(tuple(sampler)) for _ in range(draws))
        assert_frequencies(counts, [1 / 6] * 6, draws)


def test_random_sampler_with_replacement_frequencies():
    draws = 60000
    s = RandomSampler(range(6), replacement=True, num_samples=draws, generator=random.Random(5))
    out = list(s)
    assert len(out) == len(s) == draws and set(out) <= set(range(6))
    assert_frequencies(collections.Counter(out), [1 / 6] * 6, draws)
    # small population, many draws: repeats are certain; num_samples not a multiple of 32 works
    out = list(RandomSampler(range(3), replacement=True, num_samples=37, generator=random.Random(0)))
    assert len(out) == 37 and len(set(out)) <= 3
    # the default num_samples is the length of the data
    assert len(list(RandomSampler(range(9), replacement=True))) == 9


def test_random_sampler_is_repeatable_with_manual_seed_and_generator():
    backends.manual_seed(42)
    a = list(RandomSampler(range(30)))
    b = list(RandomSampler(range(30)))
    backends.manual_seed(42)
    assert [list(RandomSampler(range(30))), list(RandomSampler(range(30)))] == [a, b]
    assert a != b  # without a generator each pass draws a new seed
    backends.manual_seed(42)
    r = list(RandomSampler(range(30), replacement=True, num_samples=40))
    backends.manual_seed(42)
    assert list(RandomSampler(range(30), replacement=True, num_samples=40)) == r
    # a generator in the same state gives the same numbers; it advances pass by pass
    g1, g2 = random.Random(7), random.Random(7)
    s1, s2 = RandomSampler(range(30), generator=g1), RandomSampler(range(30), generator=g2)
    first = list(s1)
    assert first == list(s2) and list(s1) == list(s2) and list(s1) != first


def test_random_sampler_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    for bad in (0, -2, 1.5, True, "3"):
        with pytest.raises(ValueError, match=r"num_samples should be a positive integer value, but got num_samples="):
            RandomSampler(range(3), num_samples=bad)
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])  # an empty data set has nothing to draw
    with pytest.raises(TypeError, match=r"generator must be a random.Random.*got numpy.random"):
        RandomSampler(range(3), generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="generator"):
        RandomSampler(range(3), generator=3)
    data = [1, 2]
    s = RandomSampler(data, replacement=True, num_samples=4)
    data.clear()
    with pytest.raises(ValueError, match="empty"):
        list(s)


# -- SubsetRandomSampler --------------------------------------------------------------------


def test_subset_random_sampler():
    idx = [9, 4, 7, 1]
    s = SubsetRandomSampler(idx, generator=random.Random(0))
    passes = [list(s) for _ in range(20)]
    assert len(s) == 4 and all(sorted(p) == [1, 4, 7, 9] for p in passes)
    assert len({tuple(p) for p in passes}) > 1
    backends.manual_seed(1)
    a = list(SubsetRandomSampler(range(100, 140)))
    backends.manual_seed(1)
    assert list(SubsetRandomSampler(range(100, 140))) == a and sorted(a) == list(range(100, 140))
    assert list(SubsetRandomSampler([])) == []
    with pytest.raises(TypeError, match="generator"):
        SubsetRandomSampler(idx, generator=object())


# -- WeightedRandomSampler -------------------------------------------------------------------


def test_weighted_sampler_with_replacement_frequencies():
    weights = [1.0, 0.0, 2.0, 3.0, 4.0]
    draws = 100000
    s = WeightedRandomSampler(weights, draws, generator=random.Random(2))
    out = list(s)
    assert len(out) == len(s) == draws
    counts = collections.Counter(out)
    assert counts[1] == 0  # a zero weight is never drawn
    assert_frequencies(counts, [w / 10 for w in weights], draws)
    assert s.replacement is True and s.weights == weights


def test_weighted_sampler_without_replacement_distribution():
    # weights 1, 2, 7: first draw P = .1, .2, .7; the second is renormalised over the rest,
    # so P(first=2, second=1) = .7 * 2/3 and P(first=0, second=2) = .1 * 7/9.
    s = WeightedRandomSampler([1, 2, 7], 2, replacement=False, generator=random.Random(4))
    draws = 6000
    pairs = [tuple(s) for _ in range(draws)]
    assert all(len(set(p)) == 2 for p in pairs)
    assert_frequencies(collections.Counter(p[0] for p in pairs), [0.1, 0.2, 0.7], draws)
    pair_counts = collections.Counter(pairs)
    order = [(2, 1), (0, 2), (1, 0)]
    probs = [0.7 * 2 / 3, 0.1 * 7 / 9, 0.2 * 1 / 8]
    assert_frequencies({k: pair_counts[p] for k, p in enumerate(order)}, probs, draws)
    # all positive weights drawn: a permutation of them; zero weights never come
    full = list(WeightedRandomSampler([5, 0, 1, 3], 3, replacement=False, generator=random.Random(0)))
    assert sorted(full) == [0, 2, 3]


def test_weighted_sampler_accepts_arrays_and_tensors_and_is_repeatable():
    for w in (np.array([0.0, 1.0, 0.0]), gdl.tensor([0.0, 1.0, 0.0]), (0, 1, 0), [False, True, False]):
        assert list(WeightedRandomSampler(w, 4)) == [1, 1, 1, 1]
    backends.manual_seed(3)
    a = list(WeightedRandomSampler([1, 2, 3], 50))
    backends.manual_seed(3)
    assert list(WeightedRandomSampler([1, 2, 3], 50)) == a
    g1, g2 = random.Random(0), random.Random(0)
    assert list(WeightedRandomSampler([1, 2, 3], 20, False if False else True, g1)) == list(
        WeightedRandomSampler([1, 2, 3], 20, generator=g2)
    )


def test_weighted_sampler_errors():
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples="):
            WeightedRandomSampler([1.0], bad)
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=0"):
        WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(2, 2\)"):
        WeightedRandomSampler([[1, 2], [3, 4]], 2)
    with pytest.raises(ValueError, match=r"shape \(\)"):
        WeightedRandomSampler(3.0, 2)
    with pytest.raises(ValueError, match=r"non-negative, got -1.0"):
        WeightedRandomSampler([1, -1], 2)
    with pytest.raises(ValueError, match="finite"):
        WeightedRandomSampler([1, float("nan")], 2)
    with pytest.raises(ValueError, match="positive sum"):
        WeightedRandomSampler([0, 0], 2)
    with pytest.raises(ValueError, match="positive sum"):
        WeightedRandomSampler([], 2)
    with pytest.raises(ValueError, match="num_samples=3 indices without replacement from 2 positive weights"):
        WeightedRandomSampler([1, 0, 2], 3, replacement=False)
    with pytest.raises(TypeError, match="weights must be a 1-D sequence of numbers"):
        WeightedRandomSampler(["a", "b"], 2)
    with pytest.raises(TypeError, match="generator"):
        WeightedRandomSampler([1], 1, generator=0)


# -- BatchSampler -----------------------------------------------------------------------------


@pytest.mark.parametrize("n,bs", [(10, 3), (9, 3), (0, 4), (2, 5), (1, 1)])
def test_batch_sampler_drop_last(n, bs):
    keep = BatchSampler(SequentialSampler(range(n)), bs, drop_last=False)
    drop = BatchSampler(SequentialSampler(range(n)), bs, drop_last=True)
    expected = [list(range(i, min(i + bs, n))) for i in range(0, n, bs)]
    assert list(keep) == expected and len(keep) == len(expected)
    full = [b for b in expected if len(b) == bs]
    assert list(drop) == full and len(drop) == len(full) == n // bs


def test_batch_sampler_wraps_any_iterable_and_random_samplers():
    assert list(BatchSampler([5, 3, 1], 2, False)) == [[5, 3], [1]]
    assert list(BatchSampler(iter([5, 3, 1]), 2, True)) == [[5, 3]]
    batches = list(BatchSampler(RandomSampler(range(10), generator=random.Random(0)), 4, False))
    assert [len(b) for b in batches] == [4, 4, 2] and sorted(sum(batches, [])) == list(range(10))


def test_batch_sampler_errors():
    for bad in (0, -1, 2.5, True, None):
        with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size="):
            BatchSampler(range(3), bad, False)
    for bad in (1, None, "yes"):
        with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last="):
            BatchSampler(range(3), 2, bad)


# -- ConcatDataset, ChainDataset, StackDataset, IterableDataset --------------------------------


def test_concat_dataset_indexing():
    a, b, c = TensorDataset(np.arange(3)), TensorDataset(np.arange(0)), TensorDataset(np.arange(10, 14))
    ds = ConcatDataset([a, b, c])
    assert len(ds) == 7 and ds.cumulative_sizes == [3, 3, 7]
    assert [int(ds[i][0]) for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert [int(ds[i][0]) for i in range(-7, 0)] == [0, 1, 2, 10, 11, 12, 13]
    assert [int(s[0]) for s in ds] == [0, 1, 2, 10, 11, 12, 13]  # iteration stops at the end
    for bad in (7, 100, -8):
        with pytest.raises(IndexError, match=f"ConcatDataset index {bad} out of range for length 7"):
            ds[bad]
    with pytest.raises(TypeError, match="integer"):
        ds[1.0]
    plus = a + c
    assert isinstance(plus, ConcatDataset) and len(plus) == 7 and int(plus[3][0]) == 10
    assert ConcatDataset.cumsum([[1, 2], [], [3]]) == [2, 2, 3]


def test_concat_dataset_errors():
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match=r"does not support IterableDataset \(datasets\[1\] is a Stream\)"):
        ConcatDataset([TensorDataset(np.arange(2)), Stream(3)])
    with pytest.raises(TypeError, match=r"datasets\[0\] must define __len__ and __getitem__, got int"):
        ConcatDataset([3])


def test_loader_over_concat_dataset_partitions_it():
    ds = ConcatDataset([ItemOnly(5), ItemOnly(4)])
    batches = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    seen = sorted(v for x, _ in batches for v in x.numpy()[:, 0].tolist())
    assert seen == [0, 0, 1, 1, 2, 2, 3, 3, 4] and [len(y.numpy()) for _, y in batches] == [4, 4, 1]


def test_iterable_dataset_basics_and_chain():
    assert list(Stream(3)) == [0, 1, 2]
    with pytest.raises(TypeError, match="has no length"):
        len(Stream(3))
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(IterableDataset())
    chain = Stream(2) + Stream(3, start=10)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 10, 11, 12]
    assert len(ChainDataset([SizedStream(2), SizedStream(5)])) == 7
    with pytest.raises(TypeError, match="has no length"):
        len(chain)
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset; dataset 1 is a TensorDataset"):
        ChainDataset([Stream(1), TensorDataset(np.arange(2))])
    lazy = ChainDataset(collections.deque([Stream(1), [1, 2]]))  # any iterable: checked as it is reached
    with pytest.raises(TypeError, match="dataset 1 is a list"):
        list(lazy)


def test_stack_dataset():
    t = StackDataset(TensorDataset(np.arange(3)), ["a", "b", "c"])
    assert len(t) == 3 and t[-1][1] == "c" and int(t[1][0][0]) == 1
    d = StackDataset(x=[1, 2], y=[3, 4])
    assert d[1] == {"x": 2, "y": 4}
    batch = next(iter(DataLoader(d, batch_size=2)))
    assert batch["x"].numpy().tolist() == [1, 2] and batch["y"].numpy().tolist() == [3, 4]
    with pytest.raises(IndexError):
        d[2]
    with pytest.raises(ValueError, match=r"size mismatch between datasets: lengths \{'0': 2, '1': 3\}"):
        StackDataset([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset([1], y=[2])
    with pytest.raises(ValueError, match="at least one dataset"):
        StackDataset()


# -- DataLoader over an IterableDataset ---------------------------------------------------------


@pytest.mark.parametrize("n,bs", [(10, 4), (8, 4), (0, 3), (3, 5)])
def test_loader_batches_an_iterable_dataset(n, bs):
    keep = DataLoader(SizedStream(n), batch_size=bs)
    drop = DataLoader(SizedStream(n), batch_size=bs, drop_last=True)
    got = [b.numpy().tolist() for b in keep]
    assert got == [list(range(i, min(i + bs, n))) for i in range(0, n, bs)] and len(keep) == len(got)
    assert [b.numpy().tolist() for b in drop] == [g for g in got if len(g) == bs]
    assert len(drop) == n // bs
    assert [b.numpy().tolist() for b in keep] == got  # a new pass reads the stream again


def test_loader_over_iterable_dataset_options_and_errors(backend):
    unbatched = DataLoader(SizedStream(3), batch_size=None)
    assert len(unbatched) == 3 and list(unbatched) == [0, 1, 2]  # numbers stay numbers (default_convert)

    class Arrays(IterableDataset):
        def __iter__(self):
            return (np.array([i, -i]) for i in range(3))

    items = list(DataLoader(Arrays(), batch_size=None))
    assert [t.numpy().tolist() for t in items] == [[0, 0], [1, -1], [2, -2]]
    assert all(isinstance(t, Tensor) and t.backend == backend for t in items)
    (batch,) = list(DataLoader(Arrays(), batch_size=3))
    assert batch.backend == backend and batch.shape == (3, 2)
    assert list(DataLoader(Stream(5), batch_size=2, collate_fn=sum)) == [1, 5, 4]
    with pytest.raises(TypeError, match="has no length"):
        len(DataLoader(Stream(5), batch_size=2))
    assert DataLoader(Stream(3), shuffle=False).batch_size == 1  # shuffle=False is allowed
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match=r"expected unspecified sampler option, but got sampler=\[0\]"):
        DataLoader(Stream(3), sampler=[0])
    with pytest.raises(ValueError, match=r"expected unspecified batch_sampler option, but got batch_sampler=\[\[0\]\]"):
        DataLoader(Stream(3), batch_sampler=[[0]])
    with pytest.raises(ValueError, match="seed=3"):
        DataLoader(Stream(3), seed=3)
    ch = DataLoader(Stream(3) + Stream(2, start=7), batch_size=4)
    assert [b.numpy().tolist() for b in ch] == [[0, 1, 2, 7], [8]]


# -- DataLoader: sampler, batch_sampler, batch_size=None ---------------------------------------


def test_loader_with_a_sampler_follows_it():
    ds = TensorDataset(np.arange(10) * 10)
    loader = DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 2])
    assert [b[0].numpy().tolist() for b in loader] == [[90, 0, 40], [40, 20]] and len(loader) == 2
    loader = DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 2], drop_last=True)
    assert [b[0].numpy().tolist() for b in loader] == [[90, 0, 40]] and len(loader) == 1
    # the fast path (get_batch) and the sample-by-sample path agree under a sampler
    sampler = RandomSampler(range(12), num_samples=20, replacement=True, generator=random.Random(1))
    idx = list(sampler)
    fast = DataLoader(TensorDataset(np.stack([np.arange(12)] * 2, 1), np.arange(12) * 2), 6, sampler=idx)
    slow = DataLoader(ItemOnly(12), 6, sampler=idx)
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.numpy().tolist() == sx.numpy().tolist() and fy.numpy().tolist() == sy.numpy().tolist()
    assert flat(fast, 1) == [2 * i for i in idx]


def test_loader_with_a_random_sampler_and_generator_is_repeatable():
    ds = TensorDataset(np.arange(40))

    def run(seed):
        loader = DataLoader(ds, batch_size=8, sampler=RandomSampler(ds, generator=random.Random(seed)))
        return [flat(loader) for _ in range(2)]

    a = run(0)
    assert a == run(0) and a != run(1) and a[0] != a[1]
    assert all(sorted(e) == list(range(40)) for e in a)
    weighted = DataLoader(ds, batch_size=10, sampler=WeightedRandomSampler([0] * 39 + [1], 20))
    assert flat(weighted) == [39] * 20 and len(weighted) == 2


def test_loader_shuffle_with_a_generator():
    ds = TensorDataset(np.arange(30))
    a = DataLoader(ds, batch_size=7, shuffle=True, generator=random.Random(5))
    b = DataLoader(ds, batch_size=7, shuffle=True, generator=random.Random(5))
    ea, eb = [flat(a) for _ in range(3)], [flat(b) for _ in range(3)]
    assert ea == eb and ea[0] != ea[1] and all(sorted(e) == list(range(30)) for e in ea)
    assert isinstance(a.sampler, RandomSampler) and a.sampler.generator is a.generator
    assert isinstance(DataLoader(ds, shuffle=True, seed=1).sampler, RandomSampler)
    assert isinstance(DataLoader(ds).sampler, SequentialSampler)
    with pytest.raises(ValueError, match="order is known in advance only"):
        a.order()
    with pytest.raises(ValueError, match="seed=1 sets the order of the loader's own shuffling"):
        DataLoader(ds, shuffle=True, seed=1, generator=random.Random(0))
    with pytest.raises(ValueError, match="seed=1"):
        DataLoader(ds, sampler=[0, 1], seed=1)
    with pytest.raises(TypeError, match=r"DataLoader: generator must be a random.Random.*got builtins.int 7"):
        DataLoader(ds, shuffle=True, generator=7)
    assert DataLoader(ds).order(3) == list(range(30))


def test_loader_with_a_batch_sampler():
    ds = TensorDataset(np.arange(10))
    batches = [[3, 1], [0], [9, 8, 7]]
    loader = DataLoader(ds, batch_sampler=batches)
    assert [b[0].numpy().tolist() for b in loader] == batches and len(loader) == 3
    assert loader.batch_size is None and loader.drop_last is False
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=True)
    loader = DataLoader(ItemOnly(10), batch_sampler=bs)
    assert [y.numpy().tolist() for _, y in loader] == [[0, 2, 4, 6], [8, 10, 12, 14]] and len(loader) == 2
    message = "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
    for kwargs in (dict(batch_size=2), dict(batch_size=None), dict(shuffle=True), dict(sampler=[0]),
                   dict(drop_last=True)):
        with pytest.raises(ValueError, match=message):
            DataLoader(ds, batch_sampler=batches, **kwargs)


def test_loader_without_batching():
    ds = TensorDataset(np.arange(6).reshape(3, 2))
    loader = DataLoader(ds, batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and [x.numpy().tolist() for (x,) in items] == [[0, 1], [2, 3], [4, 5]]
    assert all(isinstance(x, Tensor) for (x,) in items)
    mixed = list(DataLoader([("a", 1, np.float32(2.5))], batch_size=None))
    text, label, value = mixed[0]
    assert text == "a" and label == 1 and isinstance(value, Tensor) and value.item() == 2.5
    sampled = DataLoader(ds, batch_size=None, sampler=[2, 0])
    assert [x.numpy().tolist() for (x,) in sampled] == [[4, 5], [0, 1]] and len(sampled) == 2
    assert list(DataLoader([1, 2], batch_size=None, collate_fn=lambda s: s * 10)) == [10, 20]
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching and is mutually exclusive "
                                         "with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)


def test_loader_collate_fn_and_getitems():
    ds = ItemOnly(5)
    explicit = DataLoader(ds, batch_size=2, collate_fn=default_collate)
    x, y = next(iter(explicit))  # default_collate passed explicitly: tensors, as by default
    assert isinstance(x, Tensor) and y.numpy().tolist() == [0, 2]
    assert explicit.collate_fn is default_collate and DataLoader(ds).collate_fn is default_collate
    assert DataLoader(ds, batch_size=None).collate_fn is default_convert
    raw = list(DataLoader(ds, batch_size=2, collate_fn=lambda s: [int(b) for _, b in s]))
    assert raw == [[0, 2], [4, 6], [8]]

    class Batched(Dataset):
        calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [i * 3 for i in indices]

    loader = DataLoader(Batched(), batch_size=2, sampler=[4, 3, 0])
    assert [b.numpy().tolist() for b in loader] == [[12, 9], [0]] and Batched.calls == [[4, 3], [0]]


def test_default_convert(backend):
    out = default_convert({"x": np.ones(2), "n": np.int64(3), "s": "t", "l": [np.zeros(1), 2]})
    assert isinstance(out["x"], Tensor) and out["x"].backend == backend and out["x"].shape == (2,)
    assert isinstance(out["n"], Tensor) and out["n"].item() == 3 and out["s"] == "t"
    assert isinstance(out["l"][0], Tensor) and out["l"][1] == 2
    words = np.array(["a", "b"])
    assert default_convert(words) is words  # text arrays are left alone


# -- DataLoader: workers, pinning, frozen attributes, dataset checks ------------------------------


def test_loader_worker_and_memory_options():
    ds = TensorDataset(np.arange(5))
    called = []
    loader = DataLoader(ds, batch_size=2, num_workers=0, worker_init_fn=called.append, pin_memory=True,
                        persistent_workers=False, pin_memory_device="cuda", in_order=False, timeout=0)
    assert flat(loader) == [0, 1, 2, 3, 4] and called == []  # no workers: never called
    assert loader.pin_memory is True and loader.num_workers == 0
    assert flat(DataLoader(ds, batch_size=2, num_workers=2, timeout=30)) == [0, 1, 2, 3, 4]  # worker processes
    with pytest.raises(ValueError, match=r"num_workers option should be non-negative.*num_workers=-1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="num_workers must be an integer, got 1.5"):
        DataLoader(ds, num_workers=1.5)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="timeout option should be non-negative, got timeout=-1"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match=r"timeout=5 needs worker processes"):
        DataLoader(ds, timeout=5)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with multi-process loading"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(TypeError, match="worker_init_fn must be callable or None, got 3"):
        DataLoader(ds, worker_init_fn=3)
    with pytest.raises(TypeError, match="collate_fn must be callable, got 'x'"):
        DataLoader(ds, collate_fn="x")


def test_loader_mutual_exclusion_and_argument_errors():
    ds = TensorDataset(np.arange(5))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        DataLoader(ds, drop_last=1)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad!r}"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(TypeError, match="sampler must be iterable"):
        DataLoader(ds, sampler=5)
    with pytest.raises(TypeError, match="batch_sampler must be iterable"):
        DataLoader(ds, batch_sampler=5)
    with pytest.raises(TypeError, match="must subclass gdl.data.IterableDataset"):
        DataLoader(i for i in range(3))

    class NoLen:
        def __getitem__(self, i):
            return np.array([i])

    with pytest.raises(TypeError, match="NoLen must define __len__ \\(or pass a sampler"):
        DataLoader(NoLen())
    loader = DataLoader(NoLen(), batch_size=2, sampler=[1, 0, 5])
    assert [b.numpy().tolist() for b in loader] == [[[1], [0]], [[5]]] and len(loader) == 2


def test_loader_attributes_are_frozen_after_init():
    loader = DataLoader(TensorDataset(np.arange(4)), batch_size=2)
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(loader, name, None)
    loader.pin_memory = True  # the others may change
    loader.set_epoch(3)
    assert loader.epoch == 3 and len(loader) == 2


def test_loader_repr():
    ds = TensorDataset(np.arange(4))
    assert repr(DataLoader(ds, batch_size=2)) == (
        "DataLoader(TensorDataset of 4, batch_size=2, shuffle=False, drop_last=False, seed=None)"
    )
    assert repr(DataLoader(ds, batch_sampler=[[0]])) == (
        "DataLoader(TensorDataset of 4, batch_size=None, shuffle=False, drop_last=False, seed=None, "
        "batch_sampler=list)"
    )
    assert repr(DataLoader(Stream(2))).startswith("DataLoader(Stream, batch_size=1")


def test_loader_batches_on_the_backend_with_samplers(backend):
    ds = TensorDataset(np.arange(6, dtype=np.float32))
    loader = DataLoader(ds, batch_sampler=BatchSampler(SubsetRandomSampler([1, 3, 5]), 2, False))
    batches = [b[0] for b in loader]
    assert all(b.backend == backend for b in batches)
    assert sorted(v for b in batches for v in b.numpy().tolist()) == [1.0, 3.0, 5.0]


# -- random_split with a generator ------------------------------------------------------------


def test_random_split_with_a_generator():
    ds = TensorDataset(np.arange(20))
    a = [s.indices for s in random_split(ds, [0.5, 0.5], generator=random.Random(0))]
    b = [s.indices for s in random_split(ds, [0.5, 0.5], generator=random.Random(0))]
    c = [s.indices for s in random_split(ds, [10, 10], random.Random(0))]  # torch's positional order
    assert a == b == c and sorted(a[0] + a[1]) == list(range(20)) and a[0] != list(range(10))
    assert all(isinstance(s, Subset) for s in random_split(ds, [0.5, 0.5], generator=random.Random(1)))
    with pytest.raises(ValueError, match="seed or generator, not both"):
        random_split(ds, [10, 10], seed=1, generator=random.Random(0))
    with pytest.raises(TypeError, match="random_split: generator must be a random.Random"):
        random_split(ds, [10, 10], generator=5)
