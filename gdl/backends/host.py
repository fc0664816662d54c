"""Host (CPU) arrays: the one place where gdl's I/O touches NumPy directly.

Checkpoints, data-set parsers and the embedded MNIST subset read and write bytes
on the host. They call these helpers rather than NumPy, so the Array-API code
elsewhere in gdl stays library-free.
"""

from __future__ import annotations

import math
import sys

import numpy as np

ndarray = np.ndarray

# safetensors dtype codes <-> NumPy dtypes (little-endian on disk).
SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def from_any(array) -> np.ndarray:
    """A NumPy copy of any array that speaks DLPack or the buffer protocol."""
    if isinstance(array, np.ndarray):
        return array.copy()
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    try:
        return np.from_dlpack(array).copy()
    except (TypeError, AttributeError, BufferError, RuntimeError):
        return np.asarray(array).copy()


def asarray(data, dtype=None) -> np.ndarray:
    return np.asarray(data, dtype=dtype)


def is_host_array(obj) -> bool:
    return isinstance(obj, np.ndarray)


def frombuffer(buffer, dtype, shape) -> np.ndarray:
    """A writable host array of ``dtype`` and ``shape`` read from ``buffer``."""
    return np.frombuffer(buffer, dtype=dtype).reshape(shape).copy()


def tobytes_le(array: np.ndarray) -> bytes:
    """The array's elements as little-endian C-order bytes."""
    arr = np.ascontiguousarray(array)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr.tobytes()


def safetensors_code(dtype) -> str:
    for code, dt in SAFETENSORS_DTYPES.items():
        if np.dtype(dtype) == dt:
            return code
    raise TypeError(f"dtype {dtype} cannot be stored in a safetensors file")


def default_float() -> np.dtype:
    return np.dtype(np.float32)


def is_float_kind(array: np.ndarray) -> bool:
    return array.dtype.kind == "f"


# How tensors print (``gdl.set_printoptions`` changes these): NumPy's printout by default
PRINT_DEFAULTS = {"precision": 8, "threshold": 200, "edgeitems": 3, "linewidth": 75, "sci_mode": None}
PRINT_OPTIONS = dict(PRINT_DEFAULTS)


def format_array(array: np.ndarray, prefix: str = "") -> str:
    """NumPy's printout of ``array`` with :data:`PRINT_OPTIONS`, indented to follow ``prefix``."""
    opts = PRINT_OPTIONS
    if opts == PRINT_DEFAULTS:
        return np.array2string(array, separator=", ", prefix=prefix, threshold=200, edgeitems=3)
    threshold = opts["threshold"]
    kwargs = dict(separator=", ", prefix=prefix, precision=opts["precision"], max_line_width=opts["linewidth"],
                  threshold=sys.maxsize if threshold == math.inf else int(threshold), edgeitems=opts["edgeitems"])
    if opts["sci_mode"] is True:
        kwargs["formatter"] = {"float_kind": lambda v: f"{v:.{opts['precision']}e}"}
    elif opts["sci_mode"] is False:
        kwargs["suppress_small"] = True
    return np.array2string(array, **kwargs)


def as_index_array(values) -> np.ndarray:
    """Python integers (nested lists) as an int64 index array."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"index: list indices must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


def random_weights(shape, seed: int = 0) -> np.ndarray:
    """Fixed float64 weights in [0.5, 1.5) used to reduce outputs in gradcheck."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)


def assert_close_or_raise(analytic, numeric, atol, rtol, error_type, what: str) -> None:
    """Raise ``error_type`` naming the worst element if the arrays differ."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise error_type(f"gradcheck: {what}: gradient shape {analytic.shape} != {numeric.shape}")
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and np.nanmax(np.where(np.isnan(excess), np.inf, excess)) > 0:
        flat = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
        idx = np.unravel_index(flat, analytic.shape) if analytic.ndim else ()
        raise error_type(
            f"gradcheck: {what}: gradients differ at index {tuple(int(i) for i in idx)}: "
            f"analytic {analytic.reshape(-1)[flat]!r}, numeric {numeric.reshape(-1)[flat]!r} "
            f"(atol={atol}, rtol={rtol})"
        )
