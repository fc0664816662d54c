"""MNIST handwritten digits, from the canonical IDX files or the bundled subset.

>>> from gdl.data.datasets import MNIST
>>> test = MNIST(train=False, source="embedded")
>>> len(test), test.images.shape, test[0][0].shape, test[0][1]
(2000, (2000, 28, 28), (1, 28, 28), 7)
"""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

from gdl.backends import host_data
from gdl.data.dataset import Dataset, check_index
from gdl.data.datasets._common import folders, url_of, where
from gdl.data.download import fetch

__all__ = ["MNIST", "EMBEDDED_MNIST", "read_idx"]

_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: What the package ships (``source="embedded"``): the first 10,000 images of the
#: MNIST training set and the first 2,000 of the test set, unchanged, as gzipped
#: IDX files in ``gdl/data/embedded/mnist/`` (with MNIST's licence notice,
#: CC BY-SA 3.0, Yann LeCun and Corinna Cortes).
EMBEDDED_MNIST = {"train": 10_000, "test": 2_000}


def read_idx(path: str | Path):
    """The host array in an IDX file, gzipped (recognised by its magic bytes) or not."""
    path = Path(path)
    data = path.read_bytes()
    return _parse(data, str(path))


def _parse(data: bytes, name: str):
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{name}: corrupt gzip data ({exc})") from exc
    return host_data.parse_idx(data, name)


def _find(places: list[Path], base: str) -> Path | None:
    for place in places:
        for candidate in (place / (base + ".gz"), place / base):
            if candidate.is_file():
                return candidate
    return None


class MNIST(Dataset):
    """The MNIST digits: 28x28 grey images of 0-9, 60,000 for training, 10,000 for testing.

    Args:
        root: the data folder (default ``$GDL_DATA_DIR``, else ``~/.cache/gdl``); the
            IDX files (``train-images-idx3-ubyte[.gz]`` ...) are looked for in
            ``root/mnist/``, then in ``root``.
        train: the training split (True) or the test split (False).
        download: fetch missing files into ``root/mnist/`` (verified, atomic).
        source: ``"files"`` (the IDX files above) or ``"embedded"``: the subset that
            ships inside gdl, so it needs no files and no network (the first 10,000
            training and the first 2,000 test images, see :data:`EMBEDDED_MNIST`).
        flatten: give images as 784-vectors (for ``nn.Linear``) instead of
            ``(1, 28, 28)`` (channels-first, for ``nn.Conv2d``).

    ``ds[i]`` is ``(image, label)``: a float32 host array scaled to [0, 1] and a
    Python int, as PyTorch's MNIST with ``ToTensor()``. ``ds.images`` (uint8,
    ``(N, 28, 28)``) and ``ds.labels`` (int64, ``(N,)``) hold the raw host arrays.
    Batches from a :class:`~gdl.data.DataLoader` are gathered in one indexing step.
    """

    classes = tuple(str(d) for d in range(10))

    def __init__(
        self,
        root=None,
        train: bool = True,
        download: bool = False,
        *,
        source: str = "files",
        flatten: bool = False,
    ):
        if source not in ("files", "embedded"):
            raise ValueError(f"MNIST: source must be 'files' or 'embedded', got {source!r}")
        self.train = bool(train)
        self.flatten = bool(flatten)
        self.source = source
        image_name, label_name = _FILES[self.train]
        if source == "embedded":
            if root is not None or download:
                raise ValueError(
                    "MNIST(source='embedded') reads the bundled subset: do not pass root or download"
                )
            folder = resources.files("gdl.data").joinpath("embedded", "mnist")
            self.images = _parse(folder.joinpath(image_name + ".gz").read_bytes(), f"embedded {image_name}")
            self.labels = _parse(folder.joinpath(label_name + ".gz").read_bytes(), f"embedded {label_name}")
        else:
            places = folders(root, "mnist")
            paths = [_find(places, image_name), _find(places, label_name)]
            if None in paths and download:
                wanted = [n + ".gz" for n, p in zip((image_name, label_name), paths) if p is None]
                fetch("mnist", places[1], files=wanted)
                paths = [_find(places, image_name), _find(places, label_name)]
            if None in paths:
                missing = [n for n, p in zip((image_name, label_name), paths) if p is None]
                split = "train" if self.train else "test"
                raise FileNotFoundError(
                    f"MNIST ({split} split): missing {', '.join(m + '[.gz]' for m in missing)} in "
                    f"{where(places)}. Pass download=True to fetch them (from {url_of('mnist', missing[0] + '.gz')}), "
                    f"put the canonical IDX files in {places[0]} by hand, or use MNIST(source='embedded') "
                    "for the bundled subset"
                )
            self.images = read_idx(paths[0])
            self.labels = read_idx(paths[1])
        self._check(image_name, label_name)
        self.labels = host_data.asarray(self.labels, dtype="int64")

    def _check(self, image_name: str, label_name: str) -> None:
        shape = host_data.shape_of(self.images)
        if len(shape) != 3 or shape[1:] != (28, 28) or host_data.dtype_name(self.images) != "uint8":
            raise ValueError(
                f"MNIST: {image_name} holds {host_data.dtype_name(self.images)} {shape}, expected uint8 (N, 28, 28)"
            )
        lshape = host_data.shape_of(self.labels)
        if len(lshape) != 1 or lshape[0] != shape[0]:
            raise ValueError(
                f"MNIST: {label_name} holds shape {lshape}, expected ({shape[0]},) to match the images"
            )
        low, high = host_data.min_max(self.labels)
        if lshape[0] and not (0 <= low and high <= 9):
            raise ValueError(f"MNIST: {label_name} has labels outside 0-9")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def _shape(self, n: int | None) -> tuple:
        per = (784,) if self.flatten else (1, 28, 28)
        return per if n is None else (n, *per)

    def __getitem__(self, index):
        i = check_index(index, len(self), "MNIST")
        image = host_data.reshape(host_data.scale_uint8(self.images[i]), self._shape(None))
        return image, int(self.labels[i])

    def get_batch(self, indices):
        """``(images, labels)`` of ``indices``: float32 ``(B, 1, 28, 28)`` or ``(B, 784)``, int64 ``(B,)``."""
        images = host_data.scale_uint8(host_data.take(self.images, indices))
        return host_data.reshape(images, self._shape(len(indices))), host_data.take(self.labels, indices)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"<MNIST {split} ({self.source}): {len(self)} images>"
