"""Host (NumPy) arrays for ``gdl.data``: IDX files, batching, shuffling.

Data sets are parsed on the host and batches are built there before the loader
copies them to a backend. This module holds every NumPy call that ``gdl.data``
needs, so the data package itself stays plain Python.

>>> arr = parse_idx(write_idx(asarray([[1, 2], [3, 4]], dtype="uint8")))
>>> arr.shape, str(arr.dtype)
((2, 2), 'uint8')
"""

from __future__ import annotations

import math
import struct

import numpy as np

ndarray = np.ndarray

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}


# -- IDX (MNIST's file format) ----------------------------------------------------------


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """The array stored in the bytes of an (uncompressed) IDX file.

    The header is two zero bytes, a type code, the number of dimensions, then one
    big-endian uint32 per dimension. Raises ``ValueError`` naming ``name`` when the
    header is malformed or the body is shorter or longer than the header says.
    """
    if len(data) < 4:
        raise ValueError(f"{name}: not an IDX file ({len(data)} bytes, too short for a header)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{name}: not an IDX file (magic number {data[:4].hex()}; expected 0000 then a "
            f"type code in {sorted(hex(c) for c in _IDX_DTYPES)} and a dimension count)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: IDX header truncated ({len(data)} bytes, need {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    want = math.prod(shape) * dtype.itemsize
    got = len(data) - header
    if got != want:
        kind = "truncated" if got < want else "has trailing bytes"
        raise ValueError(
            f"{name}: IDX body {kind}: header says shape {shape} ({want} bytes), found {got} bytes"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(array) -> bytes:
    """The bytes of an uncompressed IDX file holding ``array`` (inverse of :func:`parse_idx`)."""
    arr = np.asarray(array)
    code = _IDX_CODES.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {arr.dtype} has no IDX type code")
    header = struct.pack(f">HBB{arr.ndim}I", 0, code, arr.ndim, *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).tobytes()


# -- building and batching host arrays ---------------------------------------------------


def is_host_array(obj) -> bool:
    return isinstance(obj, np.ndarray)


def is_host_scalar(obj) -> bool:
    return isinstance(obj, np.generic)


def asarray(data, dtype=None) -> np.ndarray:
    """A host array of ``data`` (``dtype`` may be a name such as ``"int64"``)."""
    return np.asarray(data, dtype=dtype)


def dtype_name(array) -> str:
    return str(np.asarray(array).dtype)


def shape_of(array) -> tuple:
    return tuple(np.shape(array))


def take(array: np.ndarray, index) -> np.ndarray:
    """Rows ``index`` (ints or an int array) of ``array``, as a new array."""
    return np.take(array, np.asarray(index, dtype=np.intp), axis=0)


def stack(arrays, name: str = "batch") -> np.ndarray:
    """Stack same-shaped host arrays along a new first axis."""
    arrays = [np.asarray(a) for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"{name}: cannot stack samples of different shapes {sorted(shapes)}; "
            "pad them to one shape or pass a collate_fn to DataLoader"
        )
    return np.stack(arrays)


def numbers_to_array(values, default_float: str = "float32") -> np.ndarray:
    """A 1-D array of Python/NumPy numbers: bool, int64 or ``default_float``."""
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=np.bool_)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=default_float)


def scale_uint8(images: np.ndarray, dtype: str = "float32") -> np.ndarray:
    """uint8 pixels as floats in [0, 1] (divided by 255)."""
    out = images.astype(dtype)
    np.divide(out, 255, out=out)
    return out


def min_max(array: np.ndarray) -> tuple:
    """``(min, max)`` of a non-empty array as Python numbers ((0, 0) if empty)."""
    if array.size == 0:
        return 0, 0
    return array.min().item(), array.max().item()


def reshape(array: np.ndarray, shape) -> np.ndarray:
    return np.reshape(array, shape)


def windows(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping inputs ``(n, seq_len)`` and next-step targets (views of ``ids``)."""
    n = (ids.shape[0] - 1) // seq_len
    x = ids[: n * seq_len].reshape(n, seq_len)
    y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    return x, y


def arange(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


# -- shuffling ---------------------------------------------------------------------------


def permutation(n: int, *entropy: int) -> np.ndarray:
    """A permutation of ``range(n)`` fixed by the integers ``entropy`` (int64 array).

    ``permutation(n, seed, epoch)`` gives one independent, repeatable order per epoch.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(e) for e in entropy])))
    return rng.permutation(n).astype(np.int64)


def seed_legacy_global(seed: int) -> None:
    """Seed NumPy's legacy global generator (``np.random.rand`` and co., common in data
    augmentation code), as PyTorch's DataLoader workers do."""
    np.random.seed(seed % 2**32)
