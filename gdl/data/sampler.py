"""Samplers: which sample indices a :class:`~gdl.data.DataLoader` visits, in which order.

The names, arguments and errors are those of ``torch.utils.data``. A sampler is
any iterable of indices (a :class:`BatchSampler` yields lists of indices); a
:class:`~gdl.data.DataLoader` takes one as ``sampler=`` or ``batch_sampler=``.

**Randomness.** gdl has no ``torch.Generator``: the ``generator`` argument is a
host-side :class:`random.Random` (Python's own seedable generator; the order of
samples is decided on the host, like the rest of data loading). Without one, each
pass draws a fresh seed from the current backend's generator, so
``gdl.manual_seed`` makes a run repeatable, and every pass has a new order, as
in PyTorch. Permutations are computed by the host array library from that seed
(fast for large data sets); draws with replacement and weighted draws use the
:class:`random.Random` itself. The numbers differ from PyTorch's (another
generator), never the distribution.

>>> import random
>>> list(SequentialSampler(range(5)))
[0, 1, 2, 3, 4]
>>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
[[0, 1, 2], [3, 4, 5], [6]]
>>> sorted(RandomSampler(range(5), generator=random.Random(0)))
[0, 1, 2, 3, 4]
>>> len(WeightedRandomSampler([0.1, 0.9], num_samples=100))
100
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from gdl.backends import host_data
from gdl.data.dataset import _draw_seed
from gdl.tensor import Tensor

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)


# -- the generator ------------------------------------------------------------------------


def check_generator(generator, what: str):
    """``generator`` if it is None or a :class:`random.Random`; else a ``TypeError`` naming ``what``."""
    if generator is None or isinstance(generator, random.Random):
        return generator
    raise TypeError(
        f"{what}: generator must be a random.Random (gdl's host-side generator for sample order, "
        f"e.g. random.Random(0)) or None, got {type(generator).__module__}.{type(generator).__name__} "
        f"{generator!r}"
    )


def rng_for_pass(generator) -> random.Random:
    """The generator of one pass: ``generator`` itself, or a new one seeded from the backend's
    generator (repeatable after ``gdl.manual_seed``; a new stream every pass)."""
    return generator if generator is not None else random.Random(_draw_seed())


def permutation(n: int, rng: random.Random) -> list[int]:
    """A random permutation of ``range(n)`` fixed by the next 64 bits of ``rng``."""
    return host_data.permutation(n, rng.getrandbits(64)).tolist()


def _positive_int(value, what: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what}{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


# -- samplers -----------------------------------------------------------------------------


class Sampler(Generic[T_co]):
    """Base class of samplers: define ``__iter__`` (indices, or lists of indices for a batch
    sampler) and, where the length is known, ``__len__``.

    As in PyTorch there is deliberately no default ``__len__`` (``list(sampler)`` then
    falls back on iteration). ``Sampler[int]`` works as a type hint.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, always in that order.

    >>> list(SequentialSampler([10, 20, 30]))
    [0, 1, 2]
    """

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices of ``data_source`` in random order.

    Without ``replacement``: a new permutation each pass; with ``num_samples``
    larger than the data set, whole permutations one after another, then the start
    of one more. With ``replacement``: ``num_samples`` independent uniform draws.

    Args:
        data_source: a sized data set (``len``).
        replacement: draw with replacement (bool).
        num_samples: how many indices a pass yields (default ``len(data_source)``).
        generator: a :class:`random.Random`; default: a fresh seed from the backend's
            generator every pass (repeatable after ``gdl.manual_seed``).

    >>> import random
    >>> s = RandomSampler(range(4), num_samples=10, generator=random.Random(1))
    >>> order = list(s)
    >>> len(s), sorted(order[:4]), sorted(order[4:8])
    (10, [0, 1, 2, 3], [0, 1, 2, 3])
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = check_generator(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        _positive_int(self.num_samples, "", "num_samples")

    @property
    def num_samples(self) -> int:
        # the data set's size may change after the sampler is made
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = rng_for_pass(self.generator)
        k = self.num_samples
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty data_source")
            population = range(n)
            for _ in range(k // 32):  # lazily, in chunks, like PyTorch
                yield from rng.choices(population, k=32)
            yield from rng.choices(population, k=k % 32)
            return
        if n == 0:
            return
        for _ in range(k // n):
            yield from permutation(n, rng)
        if k % n:
            yield from permutation(n, rng)[: k % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a new one each pass), without replacement.

    >>> import random
    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=random.Random(0)))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = check_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        for i in permutation(len(self.indices), rng_for_pass(self.generator)):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``range(len(weights))``, index ``i`` with probability
    ``weights[i] / sum(weights)``.

    With ``replacement=False`` an index is drawn at most once (successive draws
    renormalise over the indices not drawn yet, as ``torch.multinomial``); then
    ``num_samples`` may not exceed the number of positive weights.

    Args:
        weights: a 1-D sequence of non-negative finite numbers (list, host array or gdl
            tensor), not necessarily summing to 1, with a positive sum.
        num_samples: indices per pass (positive int).
        replacement: draw with replacement (bool, default True).
        generator: a :class:`random.Random` (see :class:`RandomSampler`).

    ``weights`` is kept as a list of Python floats (PyTorch keeps a float64 tensor).
    Bad weights are refused here, when the sampler is made; PyTorch refuses them
    only when it is iterated.

    >>> import random
    >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5, generator=random.Random(0)))
    >>> draws
    [1, 1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None) -> None:
        what = "WeightedRandomSampler: "
        _positive_int(num_samples, "", "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        values = _weights_list(weights)
        bad = [w for w in values if not (math.isfinite(w) and w >= 0)]
        if bad:
            raise ValueError(f"{what}weights must be finite and non-negative, got {bad[0]!r} in weights")
        if not values or sum(values) <= 0:
            raise ValueError(f"{what}weights must have a positive sum, got weights={values!r}")
        positive = sum(1 for w in values if w > 0)
        if not replacement and num_samples > positive:
            raise ValueError(
                f"{what}cannot draw num_samples={num_samples} indices without replacement from "
                f"{positive} positive weights"
            )
        self.weights = values
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = check_generator(generator, "WeightedRandomSampler")
        self._cumulative = list(itertools.accumulate(values))

    def __iter__(self) -> Iterator[int]:
        rng = rng_for_pass(self.generator)
        n = len(self.weights)
        if self.replacement:
            yield from rng.choices(range(n), cum_weights=self._cumulative, k=self.num_samples)
            return
        # Without replacement: the num_samples smallest exponential keys E_i / w_i, in
        # increasing order, have the distribution of successive weighted draws without
        # replacement (the same trick torch.multinomial uses). Zero weights never come first.
        keys = [(-math.log(1.0 - rng.random()) / w if w > 0 else math.inf) for w in self.weights]
        yield from sorted(range(n), key=keys.__getitem__)[: self.num_samples]

    def __len__(self) -> int:
        return self.num_samples


def _weights_list(weights) -> list[float]:
    if isinstance(weights, Tensor):
        shape, flat = tuple(weights.shape), weights.numpy().reshape(-1).tolist()
    else:
        try:
            shape = host_data.shape_of(weights)
            flat = host_data.asarray(weights, dtype="float64").reshape(-1).tolist()
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"WeightedRandomSampler: weights must be a 1-D sequence of numbers, got {weights!r} ({exc})"
            ) from None
    if len(shape) != 1:
        raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(shape)}")
    return [float(w) for w in flat]


class BatchSampler(Sampler[list[int]]):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable of indices); the last
    list is shorter unless ``drop_last``.

    >>> list(BatchSampler(range(10), batch_size=4, drop_last=True))
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    >>> len(BatchSampler(range(10), batch_size=4, drop_last=False))
    3
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        # no isinstance check on sampler: anything iterable will do (a list, a range, ...)
        _positive_int(batch_size, "", "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
