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
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from gdl.backends import get_backend_object, host_data
from gdl.tensor import Tensor, tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "check_index"]


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


class Dataset:
    """Base of map-style data sets: define ``__len__`` and ``__getitem__``.

    ``__getitem__`` must raise ``IndexError`` past the end (then ``for s in ds``
    works). Optionally define ``get_batch(indices)`` for fast batching.
    """

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


def random_split(dataset, lengths: Sequence, seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into disjoint random :class:`Subset` s of the given sizes.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1
    (each part gets ``floor(n * f)``, the remainder goes one by one to the first
    parts). The same ``seed`` gives the same split; without one, the seed is drawn
    from the current backend's generator (repeatable after ``gdl.manual_seed``).

    >>> from gdl.backends import host_data
    >>> parts = random_split(TensorDataset(host_data.arange(5)), [0.5, 0.5], seed=1)
    >>> [len(p) for p in parts]
    [3, 2]
    """
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    if seed is None:
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
