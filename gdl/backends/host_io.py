"""Host helpers for ``gdl.io``: safetensors dtype codes and raw tensor bytes.

``gdl.io`` parses and writes the safetensors container itself; the only NumPy it
needs (dtype sizes, bytes <-> host arrays) lives here, next to ``host.py``.
"""

from __future__ import annotations

import math

import numpy as np

from gdl.backends.host import SAFETENSORS_DTYPES, safetensors_code, tobytes_le

# The most dimensions a host (NumPy) array may have.
MAX_NDIM = 64
# The largest byte count a host array may span (NumPy's limit).
MAX_NBYTES = int(np.iinfo(np.intp).max)

# The order in which the reference safetensors writer lays tensors out: by dtype,
# widest alignment first (its ``Dtype`` enum order, descending), then by name.
# Matching it makes gdl's files byte-identical to the reference library's.
_RANK = {"BOOL": 0, "U8": 1, "I8": 2, "I16": 3, "F16": 4, "I32": 5, "F32": 6, "F64": 7, "I64": 8}

CODES = tuple(SAFETENSORS_DTYPES)


def code_of(dtype_name: str) -> str:
    """The safetensors code (``"F32"``) of a gdl dtype name (``"float32"``)."""
    return safetensors_code(dtype_name)


def dtype_name(code: str) -> str:
    """The gdl dtype name (``"float32"``) of a safetensors code (``"F32"``)."""
    return SAFETENSORS_DTYPES[code].name


def itemsize(code: str) -> int:
    return SAFETENSORS_DTYPES[code].itemsize


def layout_rank(code: str) -> int:
    """Sort key: tensors with a larger rank come first in the data section."""
    return _RANK.get(code, -1)


def shape_problem(shape, code: str) -> str | None:
    """Why a host array of ``shape`` and dtype ``code`` cannot exist (None if it can)."""
    if len(shape) > MAX_NDIM:
        return f"has {len(shape)} dimensions (at most {MAX_NDIM} are supported)"
    span = math.prod(d for d in shape if d) * itemsize(code)
    if span > MAX_NBYTES:
        return f"shape {list(shape)} is too large for this machine"
    return None


def to_bytes(array) -> bytes:
    """A host array's elements as little-endian C-order bytes."""
    return tobytes_le(array)


def from_bytes(buffer, offset: int, code: str, shape) -> np.ndarray:
    """A read-only host view of ``buffer[offset:]`` as dtype ``code`` and ``shape``.

    The view shares memory with ``buffer``: copy it (``backend.from_host``) before
    the buffer goes away. Raises ``ValueError`` for bytes that are not valid
    elements (a BOOL byte other than 0 or 1).
    """
    dt = SAFETENSORS_DTYPES[code]
    count = math.prod(shape)
    arr = np.frombuffer(buffer, dtype=dt, count=count, offset=offset).reshape(shape)
    if code == "BOOL" and count and int(np.frombuffer(buffer, np.uint8, count, offset).max()) > 1:
        raise ValueError("BOOL data holds bytes other than 0 and 1")
    if not dt.isnative:
        arr = arr.astype(dt.newbyteorder("="))
    return arr
