"""DataLoader with worker processes (num_workers > 0): the same batches as in the main
process, order, IterableDataset sharding, seeding, errors, timeouts, persistent workers,
and clean shutdown. Every loader has at most 2 workers and a ``timeout``, so a bug fails
a test instead of hanging it."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gdl
from gdl.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    get_worker_info,
)
from gdl.tensor import Tensor

WAIT = 30  # seconds: the longest any loader here waits for a batch
REPO = Path(__file__).resolve().parents[1]
# The tests' data sets and functions are local (not picklable): they need fork, the
# default on Linux up to Python 3.13.
CONTEXT = None if multiprocessing.get_start_method() == "fork" else "fork"


def workers_loader(dataset, **kwargs):
    kwargs.setdefault("num_workers", 2)
    kwargs.setdefault("timeout", WAIT)
    kwargs.setdefault("multiprocessing_context", CONTEXT)
    return DataLoader(dataset, **kwargs)


def our_workers():
    return [p for p in multiprocessing.active_children() if p.name.startswith("gdl DataLoader worker")]


@pytest.fixture(autouse=True)
def no_workers_left():
    yield
    gc.collect()
    assert our_workers() == []


def identity(batch):
    return batch


def describe(batch):
    """A batch as plain values, with the kind, backend and dtype of every array in it."""
    if isinstance(batch, Tensor):
        return ("tensor", batch.backend, str(batch.dtype), batch.tolist())
    if isinstance(batch, np.ndarray):
        return ("ndarray", str(batch.dtype), batch.tolist())
    if isinstance(batch, (tuple, list)):
        return (type(batch).__name__, [describe(b) for b in batch])
    if isinstance(batch, dict):
        return ("dict", {k: describe(v) for k, v in batch.items()})
    return (type(batch).__name__, batch)


def epochs(loader, n=2):
    return [[describe(b) for b in loader] for _ in range(n)]


# -- data sets -------------------------------------------------------------------------------


class Mixed(Dataset):
    """Samples of every kind default_collate handles."""

    def __init__(self, n=11):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(2, i, dtype=np.float32), i, i / 2, f"s{i}", {"sq": np.int64(i * i)}


class MadeInWorker(Dataset):
    """Samples that are gdl tensors, made on the worker's (host) backend."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return gdl.tensor([i, i + 0.5]), gdl.tensor(i)


class Probe(Dataset):
    """Sample ``i`` says who loaded it: worker id, seed, pid, and three random draws."""

    def __init__(self, n=8):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return dict(index=i, id=info.id, seed=info.seed, num_workers=info.num_workers, pid=os.getpid(),
                    dataset=type(info.dataset).__name__, random=random.random(), numpy=float(np.random.rand()),
                    gdl=gdl.rand(1).tolist()[0])


class Behaving(Dataset):
    """``range(n)`` with one misbehaving index: ``how`` is raise, kill, sleep or wait."""

    def __init__(self, n, bad=None, how=None, event=None, sleep=1.0):
        self.n, self.bad, self.how, self.event, self.sleep = n, bad, how, event, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.how == "raise":
                raise ValueError(f"bad sample {i}")
            if self.how == "keyerror":
                raise KeyError(f"no key {i}")
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "sleep":
                time.sleep(self.sleep)
            if self.how == "wait":
                self.event.wait(WAIT)
        return np.int64(i)


class Range(IterableDataset):
    """``range(start, stop)``, split between the workers when ``shard``."""

    def __init__(self, start, stop, shard=True):
        self.start, self.stop, self.shard = start, stop, shard

    def __len__(self):
        return self.stop - self.start

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.start, self.stop))
        per = -(-(self.stop - self.start) // info.num_workers)
        first = self.start + info.id * per
        return iter(range(first, min(first + per, self.stop)))


def values(loader):
    return [b.tolist() if isinstance(b, Tensor) else b for b in loader]


# -- the same batches as without workers -----------------------------------------------------


LOADER_OPTIONS = [
    dict(batch_size=3, shuffle=True, seed=5),
    dict(batch_size=4, drop_last=True),
    dict(batch_size=None),
    dict(batch_sampler=BatchSampler(SequentialSampler(range(7)), 5, False)),
    dict(batch_size=2, sampler=[6, 0, 5, 3, 3]),
]


@pytest.mark.parametrize("options", LOADER_OPTIONS, ids=lambda o: ",".join(o))
def test_same_batches_as_without_workers(backend, options):
    for dataset in (Mixed(7), MadeInWorker(), TensorDataset(np.arange(7), np.arange(7) * 0.5)):
        single = DataLoader(dataset, **options)
        multi = workers_loader(dataset, **options)
        assert len(multi) == len(single)
        expected = epochs(single)
        assert epochs(multi) == expected
        tensors = _tensors(expected)
        assert tensors and all(t[1] == backend for t in tensors)  # on the loader's backend


def _tensors(described):
    """The ``("tensor", backend, dtype, values)`` entries of described batches."""
    if isinstance(described, tuple) and described[:1] == ("tensor",):
        return [described]
    items = described.values() if isinstance(described, dict) else described
    if isinstance(described, (list, tuple, dict)):
        return [t for item in items for t in _tensors(item)]
    return []


def test_custom_collate_runs_in_the_worker_and_comes_back_as_made():
    loader = workers_loader(Mixed(5), batch_size=2, collate_fn=lambda batch: [s[1] for s in batch])
    assert list(loader) == [[0, 1], [2, 3], [4]]
    pids = workers_loader(Mixed(4), batch_size=2, collate_fn=lambda batch: os.getpid())
    assert os.getpid() not in list(pids)


def test_batches_keep_sampler_order_when_one_is_slow():
    loader = workers_loader(Behaving(6, bad=0, how="sleep", sleep=0.3), batch_size=1, prefetch_factor=1)
    assert values(loader) == [[0], [1], [2], [3], [4], [5]]


def test_in_order_false_yields_batches_as_they_are_ready():
    release = multiprocessing.get_context("fork").Event()
    loader = workers_loader(Behaving(4, bad=0, how="wait", event=release), batch_size=1, in_order=False,
                            multiprocessing_context="fork")
    it = iter(loader)
    first = next(it).tolist()  # batch 0 waits for the release: worker 1's batch comes first
    release.set()
    rest = [b.tolist() for b in it]
    assert first == [1] and sorted([first] + rest) == [[0], [1], [2], [3]]


def test_iterable_dataset_shards_with_get_worker_info():
    assert get_worker_info() is None
    loader = workers_loader(Range(0, 10), batch_size=2)
    # round-robin over the workers, as PyTorch: worker 0 has 0-4, worker 1 has 5-9
    assert values(loader) == [[0, 1], [5, 6], [2, 3], [7, 8], [4], [9]]
    assert values(workers_loader(Range(0, 10), batch_size=2, drop_last=True)) == [[0, 1], [5, 6], [2, 3], [7, 8]]
    assert values(workers_loader(Range(0, 3), batch_size=None)) == [0, 2, 1]
    # without sharding each worker yields the whole stream (PyTorch too)
    assert sorted(v for b in workers_loader(Range(0, 3, shard=False), batch_size=2) for v in b.tolist()) == [
        0, 0, 1, 1, 2, 2]
    assert len(loader) == 5


def test_worker_init_fn_runs_once_in_each_worker():
    calls = []  # filled in the workers' copies only

    def init(worker_id):
        calls.append((worker_id, get_worker_info().id))

    class Report(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return os.getpid(), get_worker_info().id, tuple(calls)

    seen = {pid: (wid, made) for pid, wid, made in workers_loader(Report(), batch_size=None, worker_init_fn=init)}
    assert sorted(seen.values()) == [(0, ((0, 0),)), (1, ((1, 1),))]
    assert calls == []


def test_worker_seeds_differ_between_workers_and_repeat_after_manual_seed():
    def run():
        return list(workers_loader(Probe(), batch_size=None, collate_fn=identity))

    def draws(samples):
        return [{k: v for k, v in s.items() if k != "pid"} for s in samples]

    gdl.manual_seed(7)
    first, second = run(), run()
    gdl.manual_seed(7)
    again = run()
    assert draws(first) == draws(again)  # the same seeds and draws, batch by batch
    by_worker = {s["id"]: s for s in first if s["index"] < 2}  # each worker's first sample
    assert by_worker[1]["seed"] == by_worker[0]["seed"] + 1
    for source in ("random", "numpy", "gdl"):
        assert by_worker[0][source] != by_worker[1][source]
    assert {s["num_workers"] for s in first} == {2} and {s["dataset"] for s in first} == {"Probe"}
    assert {s["seed"] for s in second}.isdisjoint({s["seed"] for s in first})  # a new base seed per epoch
    assert len({s["pid"] for s in first}) == 2 and os.getpid() not in {s["pid"] for s in first}


# -- errors ----------------------------------------------------------------------------------


def test_exception_in_worker_names_the_worker_and_keeps_the_traceback():
    loader = workers_loader(Behaving(6, bad=3, how="raise"), batch_size=1)  # task 3 goes to worker 1
    got = []
    with pytest.raises(ValueError) as error:
        for batch in loader:
            got.append(batch.tolist())
    message = str(error.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback")
    assert "bad sample 3" in message and "in __getitem__" in message
    assert got == [[0], [1], [2]]  # the batches before it, in order

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0") as error:
        list(workers_loader(Behaving(3, bad=0, how="keyerror"), batch_size=1))
    assert "KeyError: 'no key 0'" in str(error.value)

    with pytest.raises((AttributeError, pickle.PicklingError),
                       match=r"Caught \w+ in DataLoader worker process 0 \(sending its batch"):
        list(workers_loader(Mixed(2), collate_fn=lambda batch: lambda: batch))  # a function cannot be sent

    class LocalError(Exception):  # cannot be pickled: comes back as a RuntimeError
        pass

    def failing_init(worker_id):
        raise LocalError(f"init failed in {worker_id}")

    with pytest.raises(RuntimeError, match=r"Caught LocalError in DataLoader worker process 0(.|\n)*init failed"):
        list(workers_loader(Mixed(4), worker_init_fn=failing_init))


def test_a_killed_worker_is_a_runtime_error_not_a_hang():
    loader = workers_loader(Behaving(6, bad=2, how="kill"), batch_size=1)  # task 2 goes to worker 0
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) exited unexpectedly .*SIGKILL"):
        list(loader)


def test_timeout_names_the_timeout():
    loader = workers_loader(Behaving(4, bad=0, how="sleep"), batch_size=1, timeout=0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds"):
        list(loader)


# -- worker lifetime -------------------------------------------------------------------------


def pids_of(loader):
    return {s["pid"] for s in loader}


def test_persistent_workers_serve_every_epoch():
    loader = workers_loader(Probe(6), batch_size=None, collate_fn=identity, persistent_workers=True)
    first = pids_of(loader)
    assert len(first) == 2 and {p.pid for p in our_workers()} == first  # still running between epochs
    it = iter(loader)
    next(it)
    del it  # an abandoned epoch: its results still in flight are dropped
    assert pids_of(loader) == first
    assert [s["index"] for s in loader] == list(range(6))
    first_pass, second_pass = iter(loader), iter(loader)
    next(first_pass)
    next(second_pass)  # one set of workers serves one pass at a time: the newer one
    with pytest.raises(RuntimeError, match="a newer pass over this loader started"):
        next(first_pass)
    assert len(list(second_pass)) == 5
    stream = workers_loader(Range(0, 4), batch_size=2, persistent_workers=True)
    assert values(stream) == values(stream) == [[0, 1], [2, 3]]  # each epoch starts the streams again
    del loader, stream


def test_new_workers_each_epoch_without_persistent_workers():
    loader = workers_loader(Probe(4), batch_size=None, collate_fn=identity)
    first = pids_of(loader)
    assert our_workers() == []  # stopped at the end of the epoch
    assert pids_of(loader).isdisjoint(first)


def test_workers_stop_when_the_iteration_is_dropped():
    loader = workers_loader(Mixed(20), batch_size=2)
    it = iter(loader)
    next(it)
    assert len(our_workers()) == 2
    del it
    assert our_workers() == []
    cycle = [iter(loader)]
    cycle.append(cycle)  # only the garbage collector frees it
    next(cycle[0])
    del cycle
    gc.collect()
    assert our_workers() == []


def test_other_start_methods():
    data = TensorDataset(np.arange(5), np.arange(5) * 2.0)
    expected = epochs(DataLoader(data, batch_size=2), 1)
    spawn = workers_loader(data, batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert epochs(spawn, 1) == expected
    fork = workers_loader(data, batch_size=2, multiprocessing_context=multiprocessing.get_context("fork"))
    assert fork.multiprocessing_context.get_start_method() == "fork" and epochs(fork, 1) == expected


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_workers_stop_at_interpreter_exit():
    script = textwrap.dedent(
        """
        import os
        from gdl.data import DataLoader, Dataset

        class Pids(Dataset):
            def __len__(self):
                return 100

            def __getitem__(self, i):
                return os.getpid()

        loader = DataLoader(Pids(), batch_size=None, collate_fn=lambda s: s, num_workers=2,
                            persistent_workers=True, timeout=30, multiprocessing_context="fork")
        it = iter(loader)
        print(sorted({next(it) for _ in range(10)}), flush=True)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT, env=env,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    pids = eval(done.stdout.strip().splitlines()[-1])
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# -- arguments -------------------------------------------------------------------------------


def test_worker_arguments():
    ds = TensorDataset(np.arange(4))
    loader = DataLoader(ds, num_workers=2)
    assert loader.prefetch_factor == 2 and loader.num_workers == 2 and loader.timeout == 0
    assert DataLoader(ds).prefetch_factor is None
    assert "num_workers=2" in repr(loader)
    assert our_workers() == []  # workers start with the first pass, not with the loader
    with pytest.raises(ValueError, match=r"num_workers option should be non-negative.*num_workers=-1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="num_workers must be an integer, got 1.5"):
        DataLoader(ds, num_workers=1.5)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=f"prefetch_factor option should be a positive integer, got "
                                             f"prefetch_factor={bad!r}"):
            DataLoader(ds, num_workers=1, prefetch_factor=bad)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with multi-process loading"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match=r"should specify a valid start method in \[.*'spawn'.*multiprocessing_context='nope'"):
        DataLoader(ds, num_workers=1, multiprocessing_context="nope")
    with pytest.raises(TypeError, match="should be a valid context object or a string"):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="timeout option should be non-negative, got timeout=-1"):
        DataLoader(ds, num_workers=1, timeout=-1)
    with pytest.raises(ValueError, match=r"timeout=5 needs worker processes"):
        DataLoader(ds, timeout=5)
    assert DataLoader(ds, num_workers=1, timeout=5).timeout == 5
    assert isinstance(DataLoader(ds, num_workers=1, multiprocessing_context="spawn").multiprocessing_context,
                      multiprocessing.context.BaseContext)
