"""Text: a book-style tokenizer, a word vocabulary and a character vocabulary.

>>> tokenize("Mary moved to the bathroom. Where is Mary?")
['mary', 'moved', 'to', 'the', 'bathroom', '.', 'where', 'is', 'mary', '?']
>>> vocab = Vocab.build([tokenize("the cat sat on the mat .")])
>>> vocab.itos[:4]
['<unk>', 'the', 'cat', 'sat']
>>> vocab.encode(["the", "dog"])
[1, 0]
>>> vocab.decode([2, 3])
['cat', 'sat']
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["tokenize", "Vocab", "CharVocab"]

# A word: letters/digits (any script), with inner apostrophes ("don't", "o'clock").
# Anything else that is not white space is a one-character punctuation token.
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks of ``text``, in order.

    Words keep inner apostrophes (``"don't"``); every other non-space character
    (``. , ! ? ; : " ( ) <`` ...) is a token of its own. This is the book's
    ``text.lower().split(" ")`` with punctuation split off, so ``"mary."`` and
    ``"mary"`` are the same word.

    >>> tokenize("I don't like it!!")
    ['i', "don't", 'like', 'it', '!', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def _ids_list(ids) -> list[int]:
    """Python ints from a list, a host array, or a gdl tensor."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        return [ids]
    return [int(i) for i in ids]


def _write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Vocab:
    """Word <-> index, with an unknown token for words it has not seen.

    ``Vocab(tokens)`` takes the exact ordered token list (the unknown token is put
    first if the list lacks it). :meth:`build` counts tokens instead: index 0 is the
    unknown token, then ``specials``, then the words seen at least ``min_freq``
    times, most common first, ties broken by first appearance (so the same input
    always gives the same indices).

    Attributes:
        itos: index -> token (a list).
        stoi: token -> index (a dict).
        unk: the unknown token (``"<unk>"``); ``unk_index`` its index.
    """

    def __init__(self, tokens: Iterable[str], unk: str = "<unk>"):
        tokens = list(tokens)
        for t in tokens:
            if not isinstance(t, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(t).__name__} ({t!r})")
        if not isinstance(unk, str):
            raise TypeError(f"Vocab: unk must be a str, got {type(unk).__name__}")
        if unk not in tokens:
            tokens.insert(0, unk)
        counts = Counter(tokens)
        dups = [t for t, c in counts.items() if c > 1]
        if dups:
            raise ValueError(f"Vocab: duplicate tokens {dups[:5]}")
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.unk = unk
        self.unk_index = self.stoi[unk]

    @classmethod
    def build(
        cls,
        sequences: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (),
        unk: str = "<unk>",
    ) -> "Vocab":
        """A vocabulary of the tokens in ``sequences`` (an iterable of token lists).

        ``max_size`` caps the number of words (not counting ``unk`` and ``specials``).

        >>> Vocab.build([["b", "a"], ["a", "c", "b"]], min_freq=2).itos
        ['<unk>', 'b', 'a']
        """
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be an integer >= 1, got {min_freq!r}")
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise ValueError(f"Vocab.build: max_size must be None or an integer >= 0, got {max_size!r}")
        if isinstance(sequences, str):
            raise TypeError("Vocab.build: expected token lists, got a str; use Vocab.from_texts for raw text")
        counts: Counter = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise TypeError(
                    "Vocab.build: each sequence must be a list of tokens, got a str; "
                    "tokenize it first or use Vocab.from_texts"
                )
            counts.update(seq)  # Counter keeps first-appearance order for ties
        fixed = [unk] + [s for s in specials if s != unk]
        words = [
            t for t, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= min_freq and t not in fixed
        ]
        if max_size is not None:
            words = words[:max_size]
        return cls(fixed + words, unk=unk)

    @classmethod
    def from_texts(cls, texts: Iterable[str], tokenizer=tokenize, **kwargs) -> "Vocab":
        """:meth:`build` over ``tokenizer(text)`` for each text (``tokenize`` by default)."""
        return cls.build((tokenizer(t) for t in texts), **kwargs)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The index of ``token`` (``unk_index`` for unknown words)."""
        return self.stoi.get(token, self.unk_index)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos and self.unk == other.unk

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:5])
        return f"Vocab({len(self)} tokens: {head}{', ...' if len(self) > 5 else ''})"

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Indices of ``tokens`` (unknown words map to ``unk_index``)."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode: expected a list of tokens, got a str; pass tokenize(text)")
        get, unk = self.stoi.get, self.unk_index
        return [get(t, unk) for t in tokens]

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids`` (a list of ints, a host array or a gdl tensor)."""
        n = len(self.itos)
        out = []
        for i in _ids_list(ids):
            if not 0 <= i < n:
                raise IndexError(f"Vocab.decode: index {i} out of range for a vocabulary of {n} tokens")
            out.append(self.itos[i])
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokens, one per line in index order, as UTF-8 text (atomically)."""
        bad = [t for t in self.itos if "\n" in t or "\r" in t]
        if bad:
            raise ValueError(
                f"Vocab.save: tokens containing line breaks cannot be saved one per line: {bad[:3]!r}"
            )
        for t in self.itos:
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"Vocab.save: token {t!r} cannot be written as UTF-8") from None
        _write_atomic(Path(path), "".join(t + "\n" for t in self.itos))

    @classmethod
    def load(cls, path: str | os.PathLike, unk: str = "<unk>") -> "Vocab":
        """Read a vocabulary written by :meth:`save` (line ``i`` is token ``i``)."""
        text = Path(path).read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            text += "\n"
        tokens = text.split("\n")[:-1]
        if unk not in tokens:
            raise ValueError(f"Vocab.load: {path} has no {unk!r} line; is it a vocabulary file?")
        return cls(tokens, unk=unk)


class CharVocab:
    """Character <-> index: the sorted distinct characters of a text.

    >>> v = CharVocab("hello")
    >>> v.chars, v.encode("hol"), v.decode([3, 1])
    ('ehlo', [1, 3, 2], 'oh')
    """

    def __init__(self, text: str | Iterable[str]):
        if isinstance(text, str):
            chars = set(text)
        else:
            chars = set()
            for part in text:
                if not isinstance(part, str):
                    raise TypeError(f"CharVocab: expected text, got {type(part).__name__}")
                chars.update(part)
        self.chars: str = "".join(sorted(chars))
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.chars)}

    @property
    def itos(self) -> list[str]:
        return list(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char) -> bool:
        return char in self.stoi

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and self.chars == other.chars

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {self.chars[:20]!r}{'...' if len(self) > 20 else ''})"

    def encode(self, text: str) -> list[int]:
        """Indices of the characters of ``text``; unknown characters raise ``KeyError``."""
        stoi = self.stoi
        try:
            return [stoi[c] for c in text]
        except KeyError as exc:
            raise KeyError(f"CharVocab.encode: character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """The text of ``ids`` (a list of ints, a host array or a gdl tensor)."""
        n = len(self.chars)
        out = []
        for i in _ids_list(ids):
            if not 0 <= i < n:
                raise IndexError(f"CharVocab.decode: index {i} out of range for {n} characters")
            out.append(self.chars[i])
        return "".join(out)

    def save(self, path: str | os.PathLike) -> None:
        """Write the characters as one JSON string (UTF-8), so newlines survive."""
        _write_atomic(Path(path), json.dumps(self.chars, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharVocab":
        chars = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(chars, str):
            raise ValueError(f"CharVocab.load: {path} does not hold a JSON string of characters")
        return cls(chars)
