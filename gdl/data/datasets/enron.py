"""Enron-Spam (Metsis, Androutsopoulos & Paliouras, 2006), preprocessed form.

>>> from gdl.data.datasets import EnronSpam
>>> mails = EnronSpam(subsets=["enron1"])  # doctest: +SKIP
>>> text, is_spam = mails[0]              # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from gdl.data.dataset import Dataset, check_index
from gdl.data.datasets._common import find_folder, folders, read_text, url_of, where

__all__ = ["EnronSpam"]

SUBSETS = tuple(f"enron{n}" for n in range(1, 7))


class EnronSpam(Dataset):
    """E-mails labelled spam (1) or ham (0), from the ``enronN/{ham,spam}/*.txt`` folders.

    Args:
        root: the data folder; ``enronN/`` folders or ``enronN.tar.gz`` archives are
            looked for in ``root/enron/`` then ``root`` (archives are extracted
            beside themselves, atomically).
        subsets: which of ``enron1`` ... ``enron6`` to read (names or numbers).
            Default: every one that is present (at least one must be).
        download: fetch the missing archives of ``subsets`` (all six by default).

    ``ds[i]`` is ``(text, label)``. Order: subset by subset, ham then spam, by
    file name. Attributes: ``texts``, ``labels``, ``subset_of`` (``"enron1"`` ...
    for each sample), ``files`` (file names), ``subsets``. Files that are not
    UTF-8 (a few hundred) are decoded as Latin-1.
    """

    def __init__(self, root=None, subsets=None, download: bool = False):
        places = folders(root, "enron")
        if subsets is None:
            wanted = list(SUBSETS) if download else [s for s in SUBSETS if _present(places, s)]
            if not wanted:
                raise FileNotFoundError(
                    f"EnronSpam: none of enron1-enron6 found (as enronN/ folders or enronN.tar.gz) in "
                    f"{where(places)}. Pass download=True to fetch them (from {url_of('enron', 'enron1.tar.gz')} "
                    f"...), or put the archives in {places[0]} by hand"
                )
        else:
            if isinstance(subsets, (str, int)):
                subsets = [subsets]
            wanted = [_subset_name(s) for s in subsets]
        self.subsets = tuple(wanted)
        self.texts: list[str] = []
        self.labels: list[int] = []
        self.subset_of: list[str] = []
        self.files: list[str] = []
        for name in wanted:
            folder = find_folder(root, "enron", name, f"{name}.tar.gz", download, _check)
            for label, kind in ((0, "ham"), (1, "spam")):
                for path in sorted((folder / kind).glob("*.txt")):
                    self.texts.append(read_text(path))
                    self.labels.append(label)
                    self.subset_of.append(name)
                    self.files.append(path.name)

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index):
        i = check_index(index, len(self.texts), "EnronSpam")
        return self.texts[i], self.labels[i]

    def __repr__(self) -> str:
        spam = sum(self.labels)
        return f"<EnronSpam {'+'.join(self.subsets)}: {len(self) - spam} ham, {spam} spam>"


def _subset_name(s) -> str:
    name = f"enron{s}" if isinstance(s, int) and not isinstance(s, bool) else s
    if name not in SUBSETS:
        raise ValueError(f"EnronSpam: unknown subset {s!r}; choose from {', '.join(SUBSETS)} (or 1-6)")
    return name


def _check(folder: Path):
    lacking = [f"{kind}/" for kind in ("ham", "spam") if not (folder / kind).is_dir()]
    return ", ".join(lacking) or None


def _present(places: list[Path], name: str) -> bool:
    return any((p / name).is_dir() or (p / f"{name}.tar.gz").is_file() for p in places)
