"""Character corpora: any plain-text file, and Tiny Shakespeare.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
>>> _ = path.write_text("hello world")
>>> corpus = TextCorpus(path, seq_len=4)
>>> len(corpus), corpus.vocab.chars
(2, ' dehlorw')
>>> x, y = corpus[0]
>>> corpus.vocab.decode(x), corpus.vocab.decode(y)
('hell', 'ello')
"""

from __future__ import annotations

import os
from pathlib import Path

from gdl.backends import host_data
from gdl.data.dataset import Dataset, check_index
from gdl.data.datasets._common import folders, url_of, where
from gdl.data.download import fetch
from gdl.data.text import CharVocab

__all__ = ["TextCorpus", "Shakespeare"]


class TextCorpus(Dataset):
    """A text file as a character-level language-modelling data set.

    Args:
        path: a UTF-8 text file.
        seq_len: characters per sample.
        vocab: a :class:`~gdl.data.CharVocab` to encode with (default: built from
            the text, i.e. its sorted distinct characters).

    Attributes: ``text`` (str), ``vocab``, ``ids`` (int64 host array, the whole
    text encoded). Sample ``i`` is ``(x, y)``: the ``seq_len`` character ids from
    ``i * seq_len`` on, and the same window shifted one character on (the
    next-character targets); windows do not overlap, the incomplete tail is left out.
    """

    def __init__(self, path: str | os.PathLike, seq_len: int = 100, vocab: CharVocab | None = None):
        if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
            raise ValueError(f"{type(self).__name__}: seq_len must be a positive integer, got {seq_len!r}")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{type(self).__name__}: no text file at {self.path}")
        self.text = self.path.read_text(encoding="utf-8")
        self.vocab = CharVocab(self.text) if vocab is None else vocab
        self.seq_len = seq_len
        self.ids = host_data.asarray(self.vocab.encode(self.text), dtype="int64")
        self._x, self._y = host_data.windows(self.ids, seq_len)

    def __len__(self) -> int:
        return int(self._x.shape[0])

    def __getitem__(self, index):
        i = check_index(index, len(self), type(self).__name__)
        return self._x[i].copy(), self._y[i].copy()

    def get_batch(self, indices):
        """``(x, y)`` int64 arrays of shape ``(B, seq_len)``."""
        return host_data.take(self._x, indices), host_data.take(self._y, indices)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.path.name}: {len(self.text)} characters, {len(self.vocab)} distinct, "
            f"{len(self)} windows of {self.seq_len}>"
        )


_VARIANTS = {"tiny": ("tinyshakespeare.txt", "input.txt"), "book": ("shakespear.txt",)}


class Shakespeare(TextCorpus):
    """Tiny Shakespeare (1,115,394 characters, 65 distinct) as a :class:`TextCorpus`.

    Looks for ``tinyshakespeare.txt`` (or char-rnn's own name, ``input.txt``) in
    ``root/shakespeare/`` then ``root``. ``variant="book"`` reads instead the ~100 KB
    ``shakespear.txt`` that Grokking Deep Learning's chapter 14 trains on.
    ``download=True`` fetches a missing file.
    """

    def __init__(
        self,
        root=None,
        seq_len: int = 100,
        download: bool = False,
        variant: str = "tiny",
        vocab: CharVocab | None = None,
    ):
        if variant not in _VARIANTS:
            raise ValueError(f"Shakespeare: variant must be 'tiny' or 'book', got {variant!r}")
        names = _VARIANTS[variant]
        places = folders(root, "shakespeare")
        path = next((p / n for p in places for n in names if (p / n).is_file()), None)
        if path is None and download:
            (path,) = fetch("shakespeare", places[1], files=[names[0]])
        if path is None:
            raise FileNotFoundError(
                f"Shakespeare: no {' or '.join(names)} in {where(places)}. Pass download=True to fetch "
                f"{url_of('shakespeare', names[0])}, or save that file as {places[0] / names[0]} by hand"
            )
        super().__init__(path, seq_len=seq_len, vocab=vocab)
