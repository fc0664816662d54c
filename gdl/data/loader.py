"""DataLoader: batches of a data set as gdl tensors.

>>> import gdl
>>> from gdl.backends import host_data
>>> from gdl.data import DataLoader, TensorDataset
>>> ds = TensorDataset(host_data.arange(10))
>>> [b[0].tolist() for b in DataLoader(ds, batch_size=4)]
[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
>>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0, drop_last=True)
>>> len(loader), [b[0].shape for b in loader]
(2, [(4,), (4,)])
>>> from gdl.data import BatchSampler, SequentialSampler
>>> pairs = BatchSampler(SequentialSampler(ds), batch_size=2, drop_last=False)
>>> [b[0].tolist() for b in DataLoader(ds, batch_sampler=pairs)][:2]
[[0, 1], [2, 3]]
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.context
import numbers
from collections.abc import Callable, Iterable, Mapping

from gdl import dtypes
from gdl.backends import Backend, get_backend, get_backend_object, host_data
from gdl.data import workers
from gdl.data.dataset import IterableDataset, _check_seed, _draw_seed
from gdl.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, check_generator
from gdl.tensor import Tensor, tensor

__all__ = ["DataLoader", "default_collate", "default_convert", "to_backend"]


def default_collate(samples: list):
    """Stack a list of samples into one batch of host arrays (same structure).

    Arrays are stacked on a new first axis; Python/NumPy numbers become a 1-D
    array (int64 for ints, the default float dtype for floats, bool for bools);
    tuples, lists and dicts are collated field by field (a namedtuple keeps its
    type, as in PyTorch); strings stay a list of strings; gdl tensors are stacked
    on their backend.

    >>> default_collate([(1, "a"), (2, "b")])[1]
    ['a', 'b']
    """
    if not samples:
        raise ValueError("default_collate: empty batch")
    first = samples[0]
    if isinstance(first, Tensor):
        be = first._backend
        return tensor(be.xp.stack([tensor(s, backend=be).data for s in samples]), backend=be)
    if host_data.is_host_array(first):
        return host_data.stack(samples)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, numbers.Number) or host_data.is_host_scalar(first):
        return host_data.numbers_to_array(samples, dtypes.get_default_dtype().name)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        sizes = {len(s) for s in samples}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: samples have different numbers of fields {sorted(sizes)}")
        fields = [default_collate([s[k] for s in samples]) for k in range(len(first))]
        return _like(first, fields)
    if first is None:
        return None
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; pass a collate_fn to DataLoader"
    )


def default_convert(data, backend: str | Backend | None = None):
    """One sample (or a batch made by hand) with its host arrays and NumPy scalars as gdl
    tensors on ``backend`` (default: the current one); numbers, strings and other objects
    are kept; tuples, lists and dicts are converted field by field. The loader applies it
    to each sample when ``batch_size=None`` turns batching off, as PyTorch does.

    >>> x, label = default_convert((host_data.arange(3), 7))
    >>> x.tolist(), label
    ([0, 1, 2], 7)
    """
    return _convert(data, get_backend_object(backend))


def _convert(data, backend: Backend):
    if isinstance(data, Tensor) or (host_data.is_host_array(data) and not _is_text_array(data)):
        return to_backend(data, backend)
    if host_data.is_host_scalar(data) and not isinstance(data, (str, bytes)):
        return tensor(data, backend=backend)
    if isinstance(data, tuple):
        return _like(data, [_convert(d, backend) for d in data])
    if isinstance(data, list):
        return [_convert(d, backend) for d in data]
    if isinstance(data, Mapping):
        return {k: _convert(v, backend) for k, v in data.items()}
    return data


def _is_text_array(array) -> bool:
    name = host_data.dtype_name(array)  # '<U5', '|S3', 'object' for text and objects
    return name == "object" or name[:1] in "<>|="


def _like(sample, fields):
    """``fields`` in ``sample``'s kind of sequence: a list, a tuple, or the same namedtuple type."""
    if isinstance(sample, list):
        return fields
    return type(sample)(*fields) if hasattr(sample, "_fields") else tuple(fields)


def to_backend(batch, backend: Backend):
    """Host arrays (and tensors of other backends) in ``batch`` as tensors on ``backend``."""
    if isinstance(batch, Tensor):
        return batch if batch._backend is backend else tensor(batch, backend=backend)
    if host_data.is_host_array(batch):
        return tensor(batch, backend=backend)
    if isinstance(batch, tuple):
        return _like(batch, [to_backend(b, backend) for b in batch])
    if isinstance(batch, list) and not (batch and isinstance(batch[0], (str, bytes))):
        return [to_backend(b, backend) for b in batch]
    if isinstance(batch, Mapping):
        return {k: to_backend(v, backend) for k, v in batch.items()}
    return batch


class _SeededShuffle(RandomSampler):
    """``DataLoader(shuffle=True)``'s own sampler when no ``generator`` is given: epoch ``e``
    visits the permutation fixed by ``(seed, e)``, so any epoch can be replayed."""

    def __init__(self, data_source, seed: int):
        # No RandomSampler checks: an empty data set simply gives an empty epoch.
        self.data_source = data_source
        self.replacement = False
        self._num_samples = None
        self.generator = None
        self.seed = seed
        self.epoch = 0

    def order(self, epoch: int):
        return host_data.permutation(len(self.data_source), self.seed, epoch)

    def __iter__(self):
        return iter(self.order(self.epoch).tolist())


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of a loader over an :class:`IterableDataset`: ``None`` forever (as PyTorch)."""

    def __iter__(self):
        return itertools.repeat(None)


class _MapFetcher:
    """One task of a worker over a map-style data set: the batch of ``indices`` (or, without
    batching, one sample) as host data; a ``collate_fn`` given by the user runs here too."""

    def __init__(self, dataset, collate_fn: Callable, batched: bool, custom: bool):
        self.dataset, self.collate_fn, self.batched, self.custom = dataset, collate_fn, batched, custom

    def start(self) -> None:
        pass

    def __call__(self, indices):
        ds = self.dataset
        if not self.batched:
            sample = ds[indices]
            return self.collate_fn(sample) if self.custom else workers.host_copy(sample)
        if not self.custom and hasattr(ds, "get_batch"):
            return workers.host_copy(ds.get_batch(indices))
        getitems = getattr(ds, "__getitems__", None)
        samples = getitems(indices) if getitems is not None else [ds[i] for i in indices]
        return self.collate_fn(samples) if self.custom else workers.host_copy(default_collate(samples))


class _StreamFetcher:
    """One task of a worker over an IterableDataset: the next batch (or sample) of the
    worker's own copy of the stream, as host data; ``StopIteration`` at its end."""

    def __init__(self, dataset, batch_size: int | None, drop_last: bool, collate_fn: Callable, custom: bool):
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.collate_fn, self.custom = collate_fn, custom
        self._it = None

    def start(self) -> None:
        self._it = iter(self.dataset)

    def __call__(self, _task):
        if self.batch_size is None:
            sample = next(self._it)
            return self.collate_fn(sample) if self.custom else workers.host_copy(sample)
        samples = list(itertools.islice(self._it, self.batch_size))
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            raise StopIteration
        return self.collate_fn(samples) if self.custom else workers.host_copy(default_collate(samples))


def _check_context(context):
    """``multiprocessing_context`` as a context object (a start method's name, or a context)."""
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                f"multiprocessing_context option should specify a valid start method in {methods!r}, but got "
                f"multiprocessing_context={context!r}"
            )
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string specifying the start "
            f"method, but got multiprocessing_context={context!r}"
        )
    return context


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class DataLoader:
    """Iterate over ``dataset`` in batches of gdl tensors.

    The arguments are ``torch.utils.data.DataLoader``'s, in its order, with the same
    mutual-exclusion rules, plus gdl's ``seed`` and ``backend`` (keyword only).

    Args:
        dataset: a map-style data set (``len`` and ``[i]``), or an
            :class:`~gdl.data.IterableDataset` (a stream, batched in its own order).
        batch_size: samples per batch; the last batch is smaller unless ``drop_last``.
            ``None`` turns batching off: each sample is yielded on its own, its arrays
            as tensors (:func:`default_convert`).
        shuffle: visit the samples in a new random order each epoch.
        sampler: the indices to visit, in order (any iterable of indices, e.g. a
            :class:`~gdl.data.sampler.Sampler`); not with ``shuffle``.
        batch_sampler: yields whole lists of indices, one per batch; not with
            ``batch_size``, ``shuffle``, ``sampler`` or ``drop_last``.
        num_workers: how many worker processes load batches (0: all in the main
            process). Each worker fetches whole batches (the index lists of the batch
            sampler; over an IterableDataset, the next batch of its own copy of the
            stream) and collates them on the host (NumPy arrays, never GPU memory); the
            main process moves each batch to the backend, so batches are exactly those
            of ``num_workers=0``. Worth it when ``__getitem__`` is slow (decoding, random
            augmentation); a data set with ``get_batch`` is usually fastest without.
        collate_fn: turns a list of samples into a batch. If given it is used as
            is (its result is yielded unchanged). Otherwise samples are stacked by
            :func:`default_collate` and moved to the backend; data sets with a
            ``get_batch(indices)`` method (:class:`TensorDataset`, MNIST, ...)
            deliver whole batches by fancy indexing instead, which is much faster.
            Passing :func:`default_collate` (or, with ``batch_size=None``,
            :func:`default_convert`) is the same as passing nothing.
        pin_memory: accepted and ignored: there is no pinned host memory here (a
            backend copies each batch to its device as it is made).
        drop_last: drop the last batch if it has fewer than ``batch_size`` samples.
        timeout: seconds to wait for a batch from the workers before a ``RuntimeError``
            (0: no limit); must be 0 without workers.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker once it is
            seeded, before it loads anything (not called with ``num_workers=0``).
        multiprocessing_context: the start method of the workers, by name (``"fork"``,
            ``"spawn"``, ``"forkserver"``) or as a :mod:`multiprocessing` context; default:
            the platform's (fork on Linux up to Python 3.13). With spawn or forkserver
            the data set, ``collate_fn`` and ``worker_init_fn`` must be picklable.
        generator: a :class:`random.Random` for ``shuffle`` (gdl has no
            ``torch.Generator``; see :mod:`gdl.data.sampler`). Each epoch then continues
            its stream, as PyTorch's generator; ``seed`` and :meth:`set_epoch` do not apply.
            It orders the samples only (the workers' seeds come from the backend's generator).
        prefetch_factor: batches loaded in advance per worker (default 2 with workers;
            must be None without).
        persistent_workers: keep the workers (and their copies of the data set) from one
            epoch to the next instead of starting new ones each epoch.
        pin_memory_device: accepted and ignored.
        in_order: with workers, yield batches in sampler order (default); if False, as
            soon as they are ready.
        seed: makes shuffling repeatable: epoch ``e`` uses the order fixed by
            ``(seed, e)``, so the same seed gives the same sequence of orders, and a
            different order each epoch. Without a seed or a generator, one is drawn
            from the backend's generator when the loader is made (so
            ``gdl.manual_seed`` makes it repeatable too).
        backend: the backend the batches are put on (default: the current one
            when iteration starts).

    Each pass (``for batch in loader``) is one epoch and advances :attr:`epoch`;
    :meth:`set_epoch` chooses the epoch explicitly (e.g. when resuming training).
    A sample that is a tuple ``(x, y)`` gives batches ``(X, Y)``. ``len(loader)``
    is the number of batches (for an iterable data set, computed from its
    ``len``, as in PyTorch). As in PyTorch, ``batch_size``, ``sampler``,
    ``batch_sampler``, ``drop_last``, ``dataset`` and ``persistent_workers``
    cannot be changed once the loader is made.

    **Workers** (:mod:`gdl.data.workers`). Each time workers start (each epoch, or
    once with ``persistent_workers``) a base seed is drawn from the backend's
    generator in the main process; worker ``i`` seeds Python's :mod:`random`, NumPy's
    global generator and gdl's (host) generator with ``base_seed + i``, so random
    augmentation differs between workers and repeats after ``gdl.manual_seed``. In a
    worker, :func:`~gdl.data.get_worker_info` gives its id, e.g. to shard an
    IterableDataset (otherwise each worker yields the whole stream; ``drop_last``
    applies to each worker's stream, as in PyTorch). Tensors made in a worker are on
    NumPy when the main process is on a GPU backend, and a given ``collate_fn``'s
    result comes back as made there. An exception in a worker is raised in the main
    process with the worker's traceback in its message; a worker that dies is a
    ``RuntimeError``. Workers stop at the end of the epoch (unless persistent), when
    the iteration is dropped or fails, and at interpreter exit.
    """

    _initialized = False
    _pool = None  # the persistent workers, once started

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
        backend: str | Backend | None = None,
    ):
        prefetch_factor, multiprocessing_context = self._check_workers(
            num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context
        )
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader: worker_init_fn must be callable or None, got {worker_init_fn!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        generator = check_generator(generator, "DataLoader")
        if backend is not None:
            get_backend_object(backend)  # fail now on an unknown or unusable backend

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle!r}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler!r}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler!r}"
                )
            shuffle = False
        else:
            if not hasattr(dataset, "__getitem__"):
                hint = (
                    "; a stream of samples must subclass gdl.data.IterableDataset"
                    if hasattr(dataset, "__iter__") else ""
                )
                raise TypeError(
                    "DataLoader: dataset must be a map-style data set (define __len__ and __getitem__) or an "
                    f"IterableDataset (define __iter__), got {type(dataset).__name__}{hint}"
                )
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError(
                    "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
                )
        elif not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and not hasattr(value, "__iter__"):
                raise TypeError(f"DataLoader: {name} must be iterable (a Sampler, list, ...), got {value!r}")

        if seed is not None:
            seed = _check_seed(seed, "DataLoader")
            if generator is not None or sampler is not None or batch_sampler is not None or iterable:
                raise ValueError(
                    f"DataLoader: seed={seed} sets the order of the loader's own shuffling; it cannot be "
                    "combined with generator, sampler, batch_sampler or an IterableDataset"
                )
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            else:
                if sampler is None and batch_sampler is None and not hasattr(dataset, "__len__"):
                    raise TypeError(
                        f"DataLoader: dataset {type(dataset).__name__} must define __len__ (or pass a sampler "
                        "or batch_sampler that chooses the indices)"
                    )
                if shuffle and generator is not None:
                    sampler = RandomSampler(dataset, generator=generator)
                elif shuffle:
                    seed = seed if seed is not None else _draw_seed(backend)
                    sampler = _SeededShuffle(dataset, seed)
                else:
                    sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.drop_last = drop_last
        self.generator = generator
        self.seed = seed
        self.backend = backend
        self._custom_collate = collate_fn not in (None, default_collate, default_convert)
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert
        )
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.in_order = bool(in_order)
        self._iterable = iterable
        self.epoch = 0
        self._initialized = True

    @staticmethod
    def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context):
        """PyTorch's rules for the worker options; returns ``(prefetch_factor, context)``."""
        if not _is_int(num_workers):
            raise TypeError(f"DataLoader: num_workers must be an integer, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing "
                f"(got num_workers={num_workers})"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"DataLoader: timeout must be a number, got {timeout!r}")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got timeout={timeout!r}")
        if num_workers == 0:
            if timeout > 0:  # PyTorch accepts it, then fails on the first pass
                raise ValueError(
                    f"DataLoader: timeout={timeout!r} needs worker processes (num_workers > 0): it limits the "
                    "wait for a worker's batch; leave timeout=0 or set num_workers"
                )
            if prefetch_factor is not None:
                raise ValueError(
                    "prefetch_factor option could only be specified in multiprocessing; let num_workers > 0 to "
                    "enable multiprocessing, otherwise set prefetch_factor to None "
                    f"(got prefetch_factor={prefetch_factor!r})"
                )
            if persistent_workers:
                raise ValueError(
                    f"persistent_workers option needs num_workers > 0 (got persistent_workers={persistent_workers!r} "
                    "with num_workers=0)"
                )
            if multiprocessing_context is not None:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but "
                    f"got num_workers=0 (multiprocessing_context={multiprocessing_context!r})"
                )
            return None, None
        if prefetch_factor is None:
            prefetch_factor = 2
        elif not _is_int(prefetch_factor) or prefetch_factor < 1:
            raise ValueError(
                f"prefetch_factor option should be a positive integer, got prefetch_factor={prefetch_factor!r}"
            )
        if multiprocessing_context is not None:
            multiprocessing_context = _check_context(multiprocessing_context)
        return int(prefetch_factor), multiprocessing_context

    def __setattr__(self, name, value) -> None:
        if self._initialized and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch`` (its shuffle order is fixed by seed and epoch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> list[int]:
        """The sample indices of epoch ``epoch`` (default: the next one), in visiting order.

        Known in advance for the loader's own orders only: sequential, or shuffled
        with a seed. With a ``generator``, a ``sampler`` or a ``batch_sampler`` the
        order is only known by drawing it: a ``ValueError``.
        """
        epoch = self.epoch if epoch is None else epoch
        if isinstance(self.sampler, _SeededShuffle):
            return self.sampler.order(epoch).tolist()
        if type(self.sampler) is SequentialSampler and self.sampler.data_source is self.dataset:
            return list(range(len(self.dataset)))
        raise ValueError(
            f"DataLoader.order: the order is known in advance only for the loader's own sequential or seeded "
            f"order, not for sampler {type(self.sampler).__name__}"
        )

    def __iter__(self):
        return self._worker_batches() if self.num_workers > 0 else self._batches()

    def _start_epoch(self) -> Backend:
        backend = get_backend_object(self.backend)
        if isinstance(self.sampler, _SeededShuffle):
            self.sampler.epoch = self.epoch
        self.epoch += 1
        return backend

    def _batches(self):
        """One epoch loaded in the main process (``num_workers=0``)."""
        backend = self._start_epoch()
        if self._iterable:
            yield from self._stream(backend)
            return
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            for i in self.sampler:
                yield self._convert(self.dataset[i], backend)
            return
        fast = not self._custom_collate and hasattr(self.dataset, "get_batch")
        getitems = getattr(self.dataset, "__getitems__", None)
        for idx in self.batch_sampler:
            if fast:
                yield to_backend(self.dataset.get_batch(idx), backend)
            else:
                samples = getitems(idx) if getitems is not None else [self.dataset[i] for i in idx]
                yield self._collate(samples, backend)

    def _stream(self, backend):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self._convert(sample, backend)
            return
        while True:
            samples = list(itertools.islice(it, self.batch_size))
            if not samples or (self.drop_last and len(samples) < self.batch_size):
                return
            yield self._collate(samples, backend)

    def _collate(self, samples, backend):
        if self._custom_collate:
            return self.collate_fn(samples)
        return to_backend(default_collate(samples), backend)

    def _convert(self, sample, backend):
        return self.collate_fn(sample) if self._custom_collate else _convert(sample, backend)

    def _worker_batches(self):
        """One epoch loaded by worker processes: they fetch and collate on the host, in the
        main process each batch goes to the backend (as :meth:`_batches` would make it)."""
        backend = self._start_epoch()
        pool = self._pool
        if pool is None or not pool.healthy:
            if pool is not None:
                pool.shutdown()
            pool = workers.WorkerPool(self._worker_spec(backend), self.multiprocessing_context, self.prefetch_factor)
            self._pool = pool if self.persistent_workers else None
        if self._iterable:
            tasks = itertools.repeat(None)  # each task: "your next batch"
        else:
            tasks = iter(self.batch_sampler if self.batch_sampler is not None else self.sampler)
        batched = self.batch_sampler is not None
        try:
            for data in pool.run(tasks, self.in_order, self._iterable, self.timeout):
                if self._custom_collate:
                    yield data
                else:
                    yield to_backend(data, backend) if batched else _convert(data, backend)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _worker_spec(self, backend: Backend) -> workers.WorkerSpec:
        custom = self._custom_collate
        if self._iterable:
            fetcher = _StreamFetcher(self.dataset, self.batch_size, self.drop_last, self.collate_fn, custom)
        else:
            fetcher = _MapFetcher(self.dataset, self.collate_fn, self.batch_sampler is not None, custom)
        return workers.WorkerSpec(
            fetcher=fetcher,
            iterable=self._iterable,
            num_workers=self.num_workers,
            init_fn=self.worker_init_fn,
            base_seed=_draw_seed(backend),  # new each time workers start: per epoch unless persistent
            backend=get_backend(),
            default_dtype=dtypes.get_default_dtype().name,
        )

    def __repr__(self) -> str:
        try:
            what = f"{type(self.dataset).__name__} of {len(self.dataset)}"
        except TypeError:
            what = type(self.dataset).__name__
        extra = ""
        if not isinstance(self.sampler, (_SeededShuffle, SequentialSampler, _InfiniteConstantSampler)):
            extra = f", sampler={type(self.sampler).__name__}"
        if self.batch_sampler is not None and not isinstance(self.batch_sampler, BatchSampler):
            extra += f", batch_sampler={type(self.batch_sampler).__name__}"
        if self.num_workers:
            extra += f", num_workers={self.num_workers}"
        return (
            f"DataLoader({what}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}{extra})"
        )
