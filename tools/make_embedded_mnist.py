#!/usr/bin/env python3
"""Build gdl's embedded MNIST subset from the canonical MNIST IDX files.

Writes the first 10,000 training images/labels and the first 2,000 test
images/labels, unchanged, as gzipped IDX files (reproducible: no file name or
time stamp in the gzip header) into ``gdl/data/embedded/mnist/``, with a
SHA256SUMS file. Standard library only.

    python tools/make_embedded_mnist.py [SOURCE_DIR]

SOURCE_DIR holds ``train-images-idx3-ubyte[.gz]`` etc. (default: ../shared/data/mnist
beside the repository).
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "gdl" / "data" / "embedded" / "mnist"
COUNTS = {"train": 10_000, "t10k": 2_000}


def read(source: Path, base: str) -> bytes:
    for path in (source / (base + ".gz"), source / base):
        if path.is_file():
            data = path.read_bytes()
            return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    raise SystemExit(f"missing {base}[.gz] in {source}")


def head(idx: bytes, n: int) -> bytes:
    """The first ``n`` items of an unsigned-byte IDX file, with its header updated."""
    zero, code, ndim = struct.unpack(">HBB", idx[:4])
    if zero != 0 or code != 0x08:
        raise SystemExit("not an unsigned-byte IDX file")
    dims = list(struct.unpack(f">{ndim}I", idx[4 : 4 + 4 * ndim]))
    if dims[0] < n:
        raise SystemExit(f"only {dims[0]} items, need {n}")
    per_item = 1
    for d in dims[1:]:
        per_item *= d
    body = idx[4 + 4 * ndim : 4 + 4 * ndim + n * per_item]
    dims[0] = n
    return struct.pack(f">HBB{ndim}I", 0, code, ndim, *dims) + body


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else REPO.parent / "shared" / "data" / "mnist"
    OUT.mkdir(parents=True, exist_ok=True)
    sums = []
    for split, n in COUNTS.items():
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            base = f"{split}-{kind}"
            data = gzip.compress(head(read(source, base), n), compresslevel=9, mtime=0)
            (OUT / (base + ".gz")).write_bytes(data)
            sums.append(f"{hashlib.sha256(data).hexdigest()}  {base}.gz\n")
            print(f"{base}.gz: {n} items, {len(data):,} bytes")
    (OUT / "SHA256SUMS").write_text("".join(sums))


if __name__ == "__main__":
    main(sys.argv)
