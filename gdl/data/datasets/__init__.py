"""The book's data sets, read from their canonical files.

Each reads from ``root`` (default: ``$GDL_DATA_DIR``, else ``~/.cache/gdl``),
looking in ``root/<name>/`` then ``root``; ``download=True`` fetches missing files
(HTTPS, SHA-256 checked, written atomically; see :mod:`gdl.data.download`).

- :class:`MNIST` (``source="embedded"``: the subset that ships with gdl)
- :class:`IMDB`, :class:`EnronSpam` (texts with 0/1 labels)
- :class:`Shakespeare`, :class:`TextCorpus` (character corpora)
- :class:`BAbI` (question answering tasks 1-20)
"""

from gdl.data.datasets.babi import BAbI, BAbIExample, parse_babi
from gdl.data.datasets.corpus import Shakespeare, TextCorpus
from gdl.data.datasets.enron import EnronSpam
from gdl.data.datasets.imdb import IMDB
from gdl.data.datasets.mnist import EMBEDDED_MNIST, MNIST, read_idx

__all__ = [
    "BAbI",
    "BAbIExample",
    "EMBEDDED_MNIST",
    "EnronSpam",
    "IMDB",
    "MNIST",
    "Shakespeare",
    "TextCorpus",
    "parse_babi",
    "read_idx",
]
