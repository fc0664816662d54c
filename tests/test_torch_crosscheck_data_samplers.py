"""gdl.data's samplers, ConcatDataset/ChainDataset/StackDataset and DataLoader options against
torch.utils.data (PyTorch 2.13): deterministic behaviour (orders, batches, lengths, error types and
messages) exactly; random samplers by their properties (gdl draws from another generator, so the
numbers differ, never the distribution). Where gdl deliberately differs, the test asserts gdl's
behaviour and says why.
"""

from __future__ import annotations

import collections
import random

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
import torch.utils.data as tud  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_support import SETTINGS  # noqa: E402

import gdl.data as gd  # noqa: E402


def values(batches):
    """Batches (gdl or torch tensors, or Python values) as nested Python lists."""
    out = []
    for b in batches:
        if isinstance(b, torch.Tensor):
            out.append(b.tolist())
        elif hasattr(b, "numpy"):
            out.append(b.numpy().tolist())
        elif isinstance(b, (list, tuple)):
            out.append(values(b))
        else:
            out.append(b)
    return out


def same_error(make_ours, make_theirs, exact=True):
    """Both raise; the same exception type and (if ``exact``) the same message."""
    with pytest.raises(Exception) as theirs:
        make_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        make_ours()
    if exact:
        assert str(ours.value) == str(theirs.value)
    return ours.value, theirs.value


class GStream(gd.IterableDataset):
    def __init__(self, n, sized=True):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.sized:
            raise TypeError("no length")
        return self.n


class TStream(tud.IterableDataset):
    def __init__(self, n, sized=True):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.sized:
            raise TypeError("no length")
        return self.n


# -- deterministic samplers -------------------------------------------------------------------


@SETTINGS(40)
@given(n=st.integers(0, 30), batch_size=st.integers(1, 8), drop_last=st.booleans(),
       shuffled=st.permutations(list(range(12))))
def test_sequential_and_batch_samplers_match_torch(n, batch_size, drop_last, shuffled):
    assert list(gd.SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
    assert len(gd.SequentialSampler(range(n))) == len(tud.SequentialSampler(range(n)))
    ours = gd.BatchSampler(gd.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    ours = gd.BatchSampler(shuffled, batch_size, drop_last)  # any iterable of indices
    theirs = tud.BatchSampler(shuffled, batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_errors_match_torch():
    for bad in (0, -1, 2.5, None):
        same_error(lambda b=bad: gd.BatchSampler(range(3), b, False), lambda b=bad: tud.BatchSampler(range(3), b, False))
    for bad in (1, None):
        same_error(lambda b=bad: gd.BatchSampler(range(3), 2, b), lambda b=bad: tud.BatchSampler(range(3), 2, b))
    same_error(lambda: gd.RandomSampler(range(3), replacement=1), lambda: tud.RandomSampler(range(3), replacement=1))
    for bad in (0, -2, 1.5):
        same_error(lambda b=bad: gd.RandomSampler(range(3), num_samples=b),
                   lambda b=bad: tud.RandomSampler(range(3), num_samples=b))
    same_error(lambda: gd.RandomSampler([]), lambda: tud.RandomSampler([]))
    for bad in (0, -1, 2.0, True):
        same_error(lambda b=bad: gd.WeightedRandomSampler([1.0], b), lambda b=bad: tud.WeightedRandomSampler([1.0], b))
    same_error(lambda: gd.WeightedRandomSampler([1.0], 1, replacement=0),
               lambda: tud.WeightedRandomSampler([1.0], 1, replacement=0))
    same_error(lambda: gd.WeightedRandomSampler([[1, 2], [3, 4]], 2),
               lambda: tud.WeightedRandomSampler([[1, 2], [3, 4]], 2))
    # bool num_samples: torch's RandomSampler accepts True (bool is an int) and draws 1 sample;
    # gdl refuses it, as its WeightedRandomSampler and BatchSampler (and torch's) do.
    assert len(tud.RandomSampler(range(3), num_samples=True)) == 1
    with pytest.raises(ValueError, match="num_samples=True"):
        gd.RandomSampler(range(3), num_samples=True)


def test_weighted_sampler_bad_weights_fail_earlier_than_torch():
    # torch accepts these weights and fails in torch.multinomial on the first pass (RuntimeError);
    # gdl refuses them when the sampler is made (ValueError), naming the weights.
    for weights, k in (([1.0, -1.0], 2), ([0.0, 0.0], 1)):
        theirs = tud.WeightedRandomSampler(weights, k)
        with pytest.raises(RuntimeError, match="invalid multinomial distribution"):
            list(theirs)
        with pytest.raises(ValueError, match="weights"):
            gd.WeightedRandomSampler(weights, k)
    # More draws without replacement than positive weights: torch.multinomial's documentation
    # requires num_samples <= the number of non-zero weights, but torch 2.13 on the CPU does not
    # check and hands out zero-weight indices once the others are used up. gdl enforces the
    # documented rule (a ValueError when the sampler is made) rather than draw an index of
    # probability zero.
    assert sorted(tud.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)) == [0, 1]
    with pytest.raises(ValueError, match="num_samples=2 indices without replacement from 1 positive weights"):
        gd.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


# -- random samplers: properties --------------------------------------------------------------


@SETTINGS(30)
@given(n=st.integers(1, 20), k=st.one_of(st.none(), st.integers(1, 50)), replacement=st.booleans(),
       seed=st.integers(0, 2**32))
def test_random_sampler_properties_match_torch(n, k, replacement, seed):
    ours = gd.RandomSampler(range(n), replacement=replacement, num_samples=k, generator=random.Random(seed))
    theirs = tud.RandomSampler(range(n), replacement=replacement, num_samples=k,
                               generator=torch.Generator().manual_seed(seed))
    a, b = list(ours), list(theirs)
    assert len(ours) == len(theirs) == len(a) == len(b)
    assert set(a) <= set(range(n)) and set(b) <= set(range(n))
    if not replacement:  # whole permutations, then the start of one more: the same counts
        assert collections.Counter(collections.Counter(a).values()) == collections.Counter(
            collections.Counter(b).values())
        full = (len(a) // n) * n
        assert sorted(a[:full]) == sorted(b[:full])


def test_subset_and_weighted_samplers_properties_match_torch():
    idx = [9, 4, 7, 1, 3]
    ours, theirs = gd.SubsetRandomSampler(idx, random.Random(0)), tud.SubsetRandomSampler(idx)
    assert sorted(ours) == sorted(theirs) == sorted(idx) and len(ours) == len(theirs)
    weights = [0.0, 1.0, 0.0, 3.0]
    for repl, k in ((True, 500), (False, 2)):
        a = list(gd.WeightedRandomSampler(weights, k, replacement=repl, generator=random.Random(1)))
        b = list(tud.WeightedRandomSampler(weights, k, replacement=repl, generator=torch.Generator().manual_seed(1)))
        assert len(a) == len(b) == k and set(a) <= {1, 3} and set(b) <= {1, 3}
        if not repl:
            assert sorted(a) == sorted(b) == [1, 3]
    a = collections.Counter(gd.WeightedRandomSampler(weights, 20000, generator=random.Random(2)))
    b = collections.Counter(tud.WeightedRandomSampler(weights, 20000, generator=torch.Generator().manual_seed(2)))
    assert abs(a[3] / 20000 - b[3] / 20000) < 0.025  # both near 0.75


# -- data sets --------------------------------------------------------------------------------


@SETTINGS(30)
@given(sizes=st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_concat_dataset_matches_torch(sizes):
    parts, start = [], 0
    for s in sizes:
        parts.append(list(range(start, start + s)))
        start += s
    ours, theirs = gd.ConcatDataset(parts), tud.ConcatDataset(parts)
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    n = len(theirs)
    assert [ours[i] for i in range(-n, n)] == [theirs[i] for i in range(-n, n)]
    # one past the end: both IndexError
    with pytest.raises(IndexError):
        theirs[n]
    with pytest.raises(IndexError, match=f"index {n} out of range"):
        ours[n]
    # too negative: torch raises ValueError("absolute value of index should not exceed dataset
    # length"); gdl raises IndexError, as for every other data set and Python sequence.
    with pytest.raises(ValueError, match="absolute value"):
        theirs[-n - 1]
    with pytest.raises(IndexError, match=f"index {-n - 1} out of range"):
        ours[-n - 1]


def test_concat_chain_stack_datasets_and_their_errors_against_torch():
    # torch raises AssertionError for an empty list or an IterableDataset inside (it would vanish
    # under python -O in older versions); gdl raises ValueError / TypeError with the position.
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        tud.ConcatDataset([])
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        gd.ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        tud.ConcatDataset([[1], TStream(2)])
    with pytest.raises(TypeError, match="does not support IterableDataset"):
        gd.ConcatDataset([[1], GStream(2)])
    assert list(gd.ChainDataset([GStream(2), GStream(3)])) == list(tud.ChainDataset([TStream(2), TStream(3)]))
    assert len(gd.ChainDataset([GStream(2), GStream(3)])) == len(tud.ChainDataset([TStream(2), TStream(3)]))
    assert list(GStream(2) + GStream(1)) == list(TStream(2) + TStream(1))
    assert isinstance(gd.StackDataset([1]) + gd.StackDataset([2]), gd.ConcatDataset)
    assert isinstance(tud.StackDataset([1]) + tud.StackDataset([2]), tud.ConcatDataset)
    a, b = [1, 2, 3], ["x", "y", "z"]
    assert [gd.StackDataset(a, b)[i] for i in range(3)] == [tud.StackDataset(a, b)[i] for i in range(3)]
    assert gd.StackDataset(p=a, q=b)[2] == tud.StackDataset(p=a, q=b)[2]
    same_error(lambda: gd.StackDataset(a, [1]), lambda: tud.StackDataset(a, [1]), exact=False)
    same_error(lambda: gd.StackDataset(), lambda: tud.StackDataset(), exact=False)


# -- DataLoader ---------------------------------------------------------------------------------


CONFIGS = [
    dict(batch_size=3),
    dict(batch_size=3, drop_last=True),
    dict(batch_size=None),
    dict(batch_size=2, sampler=[6, 0, 3, 3, 1]),
    dict(batch_size=2, sampler=[6, 0, 3, 3, 1], drop_last=True),
    dict(batch_size=None, sampler=[5, 2]),
    dict(batch_sampler=[[1, 2], [6], [0, 0, 3]]),
    dict(batch_size=4, collate_fn=lambda s: [x * 10 for x in s]),
    dict(batch_size=None, collate_fn=lambda s: s + 100),
    dict(batch_size=7),
    dict(batch_size=8),
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=range(len(CONFIGS)))
def test_loader_batches_and_lengths_match_torch(kwargs):
    data = list(range(7))
    ours, theirs = gd.DataLoader(data, **kwargs), tud.DataLoader(data, **kwargs)
    assert len(ours) == len(theirs)
    assert values(ours) == values(theirs)
    # the batch sampler and sampler torch builds, gdl builds too
    assert (ours.batch_size, ours.drop_last) == (theirs.batch_size, theirs.drop_last)
    assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__


@pytest.mark.parametrize("n,kwargs", [(10, dict(batch_size=4)), (10, dict(batch_size=4, drop_last=True)),
                                      (3, dict(batch_size=None)), (0, dict(batch_size=2)), (5, dict(batch_size=5))])
def test_loader_over_iterable_dataset_matches_torch(n, kwargs):
    ours, theirs = gd.DataLoader(GStream(n), **kwargs), tud.DataLoader(TStream(n), **kwargs)
    assert len(ours) == len(theirs) and values(ours) == values(theirs)
    with pytest.raises(TypeError):
        len(tud.DataLoader(TStream(n, sized=False), **kwargs))
    with pytest.raises(TypeError):
        len(gd.DataLoader(GStream(n, sized=False), **kwargs))


def test_shuffled_loaders_visit_every_sample_once_like_torch():
    data = list(range(23))
    ours = gd.DataLoader(data, batch_size=5, shuffle=True, generator=random.Random(0))
    theirs = tud.DataLoader(data, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(0))
    a, b = values(ours), values(theirs)
    assert [len(x) for x in a] == [len(x) for x in b] and len(ours) == len(theirs)
    assert sorted(sum(a, [])) == sorted(sum(b, [])) == data
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__ == "RandomSampler"
    # gdl's own seeded shuffling (no generator) is a RandomSampler too
    assert isinstance(gd.DataLoader(data, shuffle=True, seed=1).sampler, gd.RandomSampler)


def test_loader_mutual_exclusion_errors_match_torch():
    data = list(range(5))
    bs = [[0, 1]]
    for kwargs in (dict(batch_sampler=bs, batch_size=2), dict(batch_sampler=bs, shuffle=True),
                   dict(batch_sampler=bs, sampler=[0]), dict(batch_sampler=bs, drop_last=True),
                   dict(batch_sampler=bs, batch_size=None), dict(sampler=[0], shuffle=True),
                   dict(batch_size=None, drop_last=True), dict(drop_last=1)):
        same_error(lambda k=kwargs: gd.DataLoader(data, **k), lambda k=kwargs: tud.DataLoader(data, **k))
    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        same_error(lambda k=kwargs: gd.DataLoader(GStream(3), **k), lambda k=kwargs: tud.DataLoader(TStream(3), **k))
    ok = tud.DataLoader(TStream(3), shuffle=False), gd.DataLoader(GStream(3), shuffle=False)
    assert values(ok[0]) == values(ok[1])
    loaders = gd.DataLoader(data, batch_size=2), tud.DataLoader(data, batch_size=2)
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        same_error(lambda n=name: setattr(loaders[0], n, None), lambda n=name: setattr(loaders[1], n, None))
    # batch_size=0: torch's BatchSampler says "batch_size should be a positive integer value, but got
    # batch_size=0"; gdl's DataLoader keeps its own wording ("must be a positive integer, got 0").
    same_error(lambda: gd.DataLoader(data, batch_size=0), lambda: tud.DataLoader(data, batch_size=0), exact=False)


@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true")
def test_worker_options_against_torch():
    data = list(range(5))
    # the same ValueError as torch for options that need workers when num_workers=0
    # (gdl's messages add the value given)
    for kwargs, phrase in ((dict(num_workers=-1), "num_workers option should be non-negative"),
                           (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
                           (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
                           (dict(timeout=-1), "timeout option should be non-negative"),
                           (dict(multiprocessing_context="spawn"), "multiprocessing_context can only be used")):
        ours, theirs = same_error(lambda k=kwargs: gd.DataLoader(data, **k),
                                  lambda k=kwargs: tud.DataLoader(data, **k), exact=False)
        assert phrase in str(ours) and phrase in str(theirs)
    # accepted by both, no effect on the batches
    kwargs = dict(batch_size=2, pin_memory=True, worker_init_fn=print, in_order=False, num_workers=0)
    assert values(gd.DataLoader(data, **kwargs)) == values(tud.DataLoader(data, **kwargs))
    # num_workers > 0: both load in worker processes, with the same batches (in order)
    kwargs = dict(batch_size=2, num_workers=2, timeout=30)
    assert values(gd.DataLoader(data, **kwargs)) == values(tud.DataLoader(data, **kwargs))
    assert len(gd.DataLoader(data, **kwargs)) == len(tud.DataLoader(data, **kwargs)) == 3
    # timeout > 0 with num_workers=0: torch fails on the first pass (an AssertionError in its
    # single-process iterator); gdl fails when the loader is made, with a ValueError.
    with pytest.raises(AssertionError):
        next(iter(tud.DataLoader(data, timeout=5)))
    with pytest.raises(ValueError, match="timeout=5"):
        gd.DataLoader(data, timeout=5)


def test_random_split_with_generator_like_torch():
    ds = list(range(20))
    ours = gd.random_split(ds, [0.3, 0.7], generator=random.Random(0))
    theirs = tud.random_split(ds, [0.3, 0.7], generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in ours] == [len(p) for p in theirs]
    assert sorted(i for p in ours for i in p.indices) == sorted(i for p in theirs for i in p.indices)
    assert np.array_equal(sorted(ours[0].indices + ours[1].indices), np.arange(20))
