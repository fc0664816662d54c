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
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

from gdl import dtypes
from gdl.backends import Backend, get_backend_object, host_data
from gdl.data.dataset import _check_seed, _draw_seed
from gdl.tensor import Tensor, tensor

__all__ = ["DataLoader", "default_collate", "to_backend"]


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


class DataLoader:
    """Iterate over ``dataset`` in batches of gdl tensors.

    Args:
        dataset: a map-style data set (``len`` and ``[i]``).
        batch_size: samples per batch; the last batch is smaller unless ``drop_last``.
        shuffle: visit the samples in a new random order each epoch.
        drop_last: drop the last batch if it has fewer than ``batch_size`` samples.
        seed: makes shuffling repeatable: epoch ``e`` uses the order fixed by
            ``(seed, e)``, so the same seed gives the same sequence of orders, and a
            different order each epoch. Without a seed, one is drawn from the
            backend's generator when the loader is made (so ``gdl.manual_seed``
            makes it repeatable too).
        backend: the backend the batches are put on (default: the current one
            when iteration starts).
        collate_fn: turns a list of samples into a batch. If given it is used as
            is (its result is yielded unchanged). Otherwise samples are stacked by
            :func:`default_collate` and moved to the backend; data sets with a
            ``get_batch(indices)`` method (:class:`TensorDataset`, MNIST, ...)
            deliver whole batches by fancy indexing instead, which is much faster.

    Each pass (``for batch in loader``) is one epoch and advances :attr:`epoch`;
    :meth:`set_epoch` chooses the epoch explicitly (e.g. when resuming training).
    A sample that is a tuple ``(x, y)`` gives batches ``(X, Y)``.
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        backend: str | Backend | None = None,
        collate_fn: Callable[[list], object] | None = None,
    ):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        if backend is not None:
            get_backend_object(backend)  # fail now on an unknown or unusable backend
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.backend = backend
        self.collate_fn = collate_fn
        if seed is not None:
            self.seed = _check_seed(seed, "DataLoader")
        else:
            self.seed = _draw_seed(backend) if self.shuffle else None
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch`` (its shuffle order is fixed by seed and epoch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> list[int]:
        """The sample indices of epoch ``epoch`` (default: the next one), in visiting order."""
        return self._order(self.epoch if epoch is None else epoch).tolist()

    def _order(self, epoch: int):
        n = len(self.dataset)
        if not self.shuffle:
            return host_data.arange(n)
        return host_data.permutation(n, self.seed, epoch)

    def __iter__(self):
        backend = get_backend_object(self.backend)
        order = self._order(self.epoch)
        self.epoch += 1
        fast = self.collate_fn is None and hasattr(self.dataset, "get_batch")
        bs = self.batch_size
        stop = len(self) * bs if self.drop_last else len(order)
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if fast:
                yield to_backend(self.dataset.get_batch(idx), backend)
                continue
            samples = [self.dataset[i] for i in idx.tolist()]
            if self.collate_fn is not None:
                yield self.collate_fn(samples)
            else:
                yield to_backend(default_collate(samples), backend)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})"
        )
