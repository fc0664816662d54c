"""Data: data sets, batching, text vocabularies, and the book's data sets.

>>> import gdl
>>> from gdl.data import DataLoader
>>> from gdl.data.datasets import MNIST
>>> train = MNIST(train=True, source="embedded", flatten=True)
>>> x, y = next(iter(DataLoader(train, batch_size=64, shuffle=True, seed=0)))
>>> x.shape, y.shape, str(x.dtype)
((64, 784), (64,), 'gdl.float32')

Samplers (:mod:`gdl.data.sampler`), :class:`ConcatDataset`, :class:`IterableDataset`,
the loader's arguments and its worker processes (:mod:`gdl.data.workers`,
:func:`get_worker_info`) follow ``torch.utils.data``.
See :mod:`gdl.data.datasets` for MNIST, IMDB, EnronSpam, Shakespeare and bAbI,
and :mod:`gdl.data.download` for the data folder and verified downloads.
"""

from gdl.data import datasets
from gdl.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gdl.data.download import RESOURCES, DownloadError, Resource, data_root, fetch, verify_file
from gdl.data.loader import DataLoader, default_collate, default_convert
from gdl.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from gdl.data.text import CharVocab, Vocab, tokenize
from gdl.data.workers import get_worker_info

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "CharVocab",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "IterableDataset",
    "RESOURCES",
    "RandomSampler",
    "Resource",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "Vocab",
    "WeightedRandomSampler",
    "data_root",
    "datasets",
    "default_collate",
    "default_convert",
    "fetch",
    "get_worker_info",
    "random_split",
    "tokenize",
    "verify_file",
]
