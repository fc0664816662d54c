"""Data: data sets, batching, text vocabularies, and the book's data sets.

>>> import gdl
>>> from gdl.data import DataLoader
>>> from gdl.data.datasets import MNIST
>>> train = MNIST(train=True, source="embedded", flatten=True)
>>> x, y = next(iter(DataLoader(train, batch_size=64, shuffle=True, seed=0)))
>>> x.shape, y.shape, str(x.dtype)
((64, 784), (64,), 'gdl.float32')

See :mod:`gdl.data.datasets` for MNIST, IMDB, EnronSpam, Shakespeare and bAbI,
and :mod:`gdl.data.download` for the data folder and verified downloads.
"""

from gdl.data import datasets
from gdl.data.dataset import Dataset, Subset, TensorDataset, random_split
from gdl.data.download import RESOURCES, DownloadError, Resource, data_root, fetch, verify_file
from gdl.data.loader import DataLoader, default_collate
from gdl.data.text import CharVocab, Vocab, tokenize

__all__ = [
    "CharVocab",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "RESOURCES",
    "Resource",
    "Subset",
    "TensorDataset",
    "Vocab",
    "data_root",
    "datasets",
    "default_collate",
    "fetch",
    "random_split",
    "tokenize",
    "verify_file",
]
