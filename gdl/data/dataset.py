"""Map-style data sets: ``len(ds)`` samples, ``ds[i]`` returns one of them.

A data set may also define ``get_batch(indices)``, returning the whole batch at
once (a tuple of arrays with a leading batch axis). :class:`~gdl.data.DataLoader`
then uses it instead of fetching samples one by one: this is the fast path of
:class:`TensorDataset` and the image data sets.

>>> from gdl.backends import host_data
>>> ds = TensorDataset(host_data.arange(10), host_data.arange(10) * 2)
>>> len(ds), [int(v) for v in ds[3]]
(10, [3, 6])
>>> a, b = random_split(ds, [0.8, 0.2], seed=0)
>>> len(a), len(b)
(8, 2)
>>> both = ConcatDataset([a, b])
>>> len(both), len(a + b)
(10, 10)

Iterable (stream) data sets subclass :class:`IterableDataset` and define
``__iter__``; :class:`ChainDataset` joins several one after the other.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from gdl.backends import get_backend_object, host_data
from gdl.tensor import Tensor, tensor

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "check_index",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)


def check_index(index, length: int, what: str = "dataset") -> int:
    """``index`` as a non-negative int below ``length`` (negative counts from the end)."""
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{what} index must be an integer, got {type(index).__name__}")
    i = int(index)
    if i < 0:
        i += length
    if not 0 <= i < length:
        raise IndexError(f"{what} index {int(index)} out of range for length {length}")
    return i


class Dataset(Generic[T_co]):
    """Base of map-style data sets: define ``__len__`` and ``__getitem__``.

    ``__getitem__`` must raise ``IndexError`` past the end (then ``for s in ds``
    works). Optionally define ``get_batch(indices)`` for fast batching.
    ``a + b`` is ``ConcatDataset([a, b])``; ``Dataset[int]`` works as a type hint.
    """

    def __add__(self, other):
        return ConcatDataset([self, other])

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __repr__(self) -> str:
        try:
            return f"<{type(self).__name__}: {len(self)} samples>"
        except (NotImplementedError, TypeError):
            return f"<{type(self).__name__}>"


def _rows(array) -> int:
    shape = array.shape if isinstance(array, Tensor) else host_data.shape_of(array)
    if len(shape) == 0:
        raise ValueError("TensorDataset: every array needs a first (sample) axis; got a 0-d array")
    return shape[0]


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays: ``ds[i] = (a[i], b[i], ...)``.

    Each argument is a NumPy array (kept on the host; the loader copies each batch
    to the backend) or a gdl tensor (kept on its backend and indexed there).
    Batches are gathered by indexing whole arrays, never sample by sample.

    >>> import gdl
    >>> ds = TensorDataset(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]), gdl.tensor([0, 1]))
    >>> x, y = ds[1]
    >>> x.tolist(), y.item()
    ([3.0, 4.0], 1)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(
            a if isinstance(a, Tensor) or host_data.is_host_array(a) else host_data.asarray(a) for a in arrays
        )
        lengths = [_rows(a) for a in arrays]
        if len(set(lengths)) > 1:
            shapes = [tuple(a.shape) for a in arrays]
            raise ValueError(f"TensorDataset: arrays differ in their first dimension: shapes {shapes}")
        self.arrays = arrays
        self._length = lengths[0]

    @property
    def tensors(self):
        """The stored arrays (PyTorch's name)."""
        return self.arrays

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        i = check_index(index, self._length, "TensorDataset")
        return tuple(_row(a, i) for a in self.arrays)

    def get_batch(self, indices):
        """The samples ``indices`` as one tuple of batched arrays (host or tensor)."""
        return tuple(_gather(a, indices) for a in self.arrays)


def _row(array, i: int):
    if isinstance(array, Tensor):
        return tensor(array.data[i, ...], backend=array._backend)
    return array[i]


def _gather(array, indices):
    if isinstance(array, Tensor):
        be = array._backend
        idx = be.from_host(host_data.asarray(indices, dtype="int64"))
        return tensor(be.xp.take(array.data, idx, axis=0), backend=be)
    return host_data.take(array, indices)


class Subset(Dataset):
    """The samples ``indices`` of ``dataset``, in that order.

    >>> from gdl.backends import host_data
    >>> s = Subset(TensorDataset(host_data.arange(5)), [4, 0])
    >>> [int(s[i][0]) for i in range(len(s))]
    [4, 0]
    """

    def __init__(self, dataset, indices: Sequence[int]):
        n = len(dataset)
        self.dataset = dataset
        self.indices = [check_index(i, n, "Subset") for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[check_index(index, len(self.indices), "Subset")]]

    def __getattr__(self, name):
        # get_batch exists exactly when the wrapped data set has it.
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return lambda indices: self.dataset.get_batch([self.indices[int(i)] for i in indices])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class IterableDataset(Dataset[T_co]):
    """Base of stream-style data sets: define ``__iter__`` (yielding samples).

    A :class:`~gdl.data.DataLoader` batches the stream in order; it takes no
    ``sampler``, ``batch_sampler`` or ``shuffle`` for one (as in PyTorch). Define
    ``__len__`` too if the number of samples is known (then ``len(loader)`` works).
    ``a + b`` is ``ChainDataset([a, b])``.

    >>> class Squares(IterableDataset):
    ...     def __iter__(self):
    ...         return iter([0, 1, 4])
    >>> list(Squares() + Squares())
    [0, 1, 4, 0, 1, 4]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        # TypeError, not NotImplementedError: list(ds) then falls back on iteration.
        raise TypeError(f"{type(self).__name__} (an IterableDataset) has no length; define __len__ to give it one")

    def __add__(self, other):
        return ChainDataset([self, other])


class ConcatDataset(Dataset[T_co]):
    """The samples of ``datasets`` one data set after the other.

    ``cumulative_sizes[k]`` is the number of samples in ``datasets[:k + 1]``
    (sizes are read once, when it is made). Negative indices count from the end.

    >>> from gdl.backends import host_data
    >>> ds = ConcatDataset([TensorDataset(host_data.arange(3)), TensorDataset(host_data.arange(2) + 10)])
    >>> ds.cumulative_sizes, int(ds[3][0]), int(ds[-1][0])
    ([3, 5], 10, 11)
    """

    @staticmethod
    def cumsum(sequence) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for k, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(
                    f"ConcatDataset does not support IterableDataset (datasets[{k}] is a {type(d).__name__}); "
                    "use ChainDataset to join streams"
                )
            if not (hasattr(d, "__len__") and hasattr(d, "__getitem__")):
                raise TypeError(
                    f"ConcatDataset: datasets[{k}] must define __len__ and __getitem__, got {type(d).__name__}"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        i = check_index(index, len(self), "ConcatDataset")
        k = bisect.bisect_right(self.cumulative_sizes, i)
        return self.datasets[k][i - (self.cumulative_sizes[k - 1] if k else 0)]


def _check_chain_part(k: int, dataset) -> None:
    if not isinstance(dataset, IterableDataset):
        raise TypeError(
            f"ChainDataset only supports IterableDataset; dataset {k} is a {type(dataset).__name__} "
            "(join map-style data sets with ConcatDataset)"
        )


class ChainDataset(IterableDataset):
    """The streams of ``datasets`` (each an :class:`IterableDataset`) one after the other.

    Chaining happens as the stream is read; each part is checked when it is reached
    (``datasets`` may be any iterable, as in PyTorch), a list or tuple right away.
    """

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = datasets
        if isinstance(datasets, (list, tuple)):
            for k, d in enumerate(datasets):
                _check_chain_part(k, d)

    def __iter__(self):
        for k, d in enumerate(self.datasets):
            _check_chain_part(k, d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for k, d in enumerate(self.datasets):
            _check_chain_part(k, d)
            total += len(d)
        return total


class StackDataset(Dataset):
    """Samples of equally long data sets side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``,
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``.

    >>> StackDataset([1, 2], ["a", "b"])[1]
    (2, 'b')
    >>> StackDataset(x=[1, 2], y=["a", "b"])[0]
    {'x': 1, 'y': 'a'}
    """

    def __init__(self, *args, **kwargs) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: supported either tuple-like (via args) or dict-like (via kwargs) "
                "input/output, but both types are given"
            )
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            names = [f"{k}" for k in (range(len(args)) if args else kwargs)]
            raise ValueError(
                f"StackDataset: size mismatch between datasets: lengths {dict(zip(names, lengths))}"
            )
        self.datasets = tuple(args) if args else dict(kwargs)
        self._length = lengths[0]

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        i = check_index(index, self._length, "StackDataset")
        if isinstance(self.datasets, dict):
            return {k: d[i] for k, d in self.datasets.items()}
        return tuple(d[i] for d in self.datasets)


def _draw_seed(backend=None) -> int:
    """A seed from the backend's generator, so ``gdl.manual_seed`` makes it repeatable."""
    be = get_backend_object(backend)
    draw = be.integers(0, 2**31 - 1, (1,))
    return int(be.to_host(draw).reshape(-1)[0])


def _split_lengths(lengths: Sequence, n: int) -> list[int]:
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(
                f"random_split: lengths {lengths} must be non-negative and sum to the data set's length {n}"
            )
        return [int(x) for x in lengths]
    if not all(isinstance(x, numbers.Real) and 0 <= x <= 1 for x in lengths) or not math.isclose(
        sum(lengths), 1.0, abs_tol=1e-6
    ):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1")
    counts = [int(math.floor(n * f)) for f in lengths]
    for k in range(n - sum(counts)):  # hand out the remainder one by one
        counts[k % len(counts)] += 1
    return counts


def random_split(dataset, lengths: Sequence, seed: int | None = None, generator=None) -> list[Subset]:
    """Split ``dataset`` into disjoint random :class:`Subset` s of the given sizes.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1
    (each part gets ``floor(n * f)``, the remainder goes one by one to the first
    parts). The same ``seed`` gives the same split; so does a
    :class:`random.Random` ``generator`` in the same state (PyTorch's argument; it may
    also come third, in ``seed``'s place, as in ``torch.utils.data.random_split``).
    Without either, the seed is drawn from the current backend's generator
    (repeatable after ``gdl.manual_seed``).

    >>> from gdl.backends import host_data
    >>> parts = random_split(TensorDataset(host_data.arange(5)), [0.5, 0.5], seed=1)
    >>> [len(p) for p in parts]
    [3, 2]
    """
    import random

    from gdl.data.sampler import check_generator

    if isinstance(seed, random.Random) and generator is None:
        seed, generator = None, seed  # torch's positional order: (dataset, lengths, generator)
    check_generator(generator, "random_split")
    if seed is not None and generator is not None:
        raise ValueError("random_split: pass seed or generator, not both")
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    if generator is not None:
        seed = generator.getrandbits(64)
    elif seed is None:
        seed = _draw_seed()
    order = host_data.permutation(n, _check_seed(seed, "random_split")).tolist()
    parts, start = [], 0
    for c in counts:
        parts.append(Subset(dataset, order[start : start + c]))
        start += c
    return parts


def _check_seed(seed, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{what}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)
