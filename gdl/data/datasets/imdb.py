"""IMDB movie reviews (Maas et al., 2011): 25,000 train and 25,000 test, half positive.

>>> from gdl.data.datasets import IMDB
>>> train = IMDB(split="train")            # doctest: +SKIP
>>> text, label = train[0]                 # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

from gdl.data.dataset import Dataset, check_index
from gdl.data.datasets._common import find_folder, read_text

__all__ = ["IMDB"]

_NAME = re.compile(r"(\d+)_(\d+)\.txt")


class IMDB(Dataset):
    """The Large Movie Review Dataset, in its own ``aclImdb`` layout.

    Reads ``aclImdb/{train,test}/{pos,neg}/ID_RATING.txt`` from ``root/imdb/``
    or ``root`` (default root: ``$GDL_DATA_DIR``, else ``~/.cache/gdl``). If only the
    archive ``aclImdb_v1.tar.gz`` is there, it is extracted beside itself first
    (atomically: the ``aclImdb/`` folder appears complete or not at all);
    ``download=True`` fetches the archive when neither is there.

    ``ds[i]`` is ``(text, label)`` with label 1 for a positive review, 0 for a
    negative one. Samples are ordered negatives first, then positives, each by
    review id. Attributes: ``texts``, ``labels`` (lists), ``ratings`` (the 1-10
    star rating from each file name), ``ids``, ``names`` (the file names,
    ``"0_9.txt"``: sorting by them as text gives the order of the book's
    ``reviews.txt``).
    """

    splits = ("train", "test")

    def __init__(self, root=None, split: str = "train", download: bool = False):
        if split not in self.splits:
            raise ValueError(f"IMDB: split must be 'train' or 'test', got {split!r}")
        self.split = split

        def check(folder: Path):
            lacking = [f"{split}/{s}/" for s in ("neg", "pos") if not (folder / split / s).is_dir()]
            return ", ".join(lacking) or None

        self.folder = find_folder(root, "imdb", "aclImdb", "aclImdb_v1.tar.gz", download, check)
        self.texts: list[str] = []
        self.labels: list[int] = []
        self.ratings: list[int] = []
        self.ids: list[int] = []
        self.names: list[str] = []
        for label, sentiment in ((0, "neg"), (1, "pos")):
            entries = []
            for path in (self.folder / split / sentiment).iterdir():
                match = _NAME.fullmatch(path.name)
                if match is None:
                    continue  # not a review (e.g. a stray file)
                entries.append((int(match[1]), int(match[2]), path))
            entries.sort()
            for review_id, rating, path in entries:
                self.texts.append(read_text(path))
                self.labels.append(label)
                self.ratings.append(rating)
                self.ids.append(review_id)
                self.names.append(path.name)

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index):
        i = check_index(index, len(self.texts), "IMDB")
        return self.texts[i], self.labels[i]

    def __repr__(self) -> str:
        return f"<IMDB {self.split}: {len(self)} reviews from {self.folder}>"
