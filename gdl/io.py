"""Save and load weights and training checkpoints, in the safetensors format.

A state dict (``dict[str, Tensor]``) is written as a plain safetensors file: the
``safetensors`` library, and so PyTorch, reads it as-is, and gdl reads theirs.
Anything else built from dicts, lists, tuples, tensors, numbers, strings, bools
and None (an optimizer state dict, a checkpoint) is saved too: its tensors become
entries named by their path (``optimizer.state.0.exp_avg``) and the structure goes
as JSON into the file's ``__metadata__``. Loading never runs code (no pickle) and
checks every byte it uses; a bad file raises :class:`CheckpointError`.

>>> import gdl
>>> from gdl import io
>>> sd = {"weight": gdl.randn(2, 3), "bias": gdl.zeros(2)}
>>> io.save(sd, "linear.safetensors")                   # doctest: +SKIP
>>> io.load("linear.safetensors")["weight"].shape        # doctest: +SKIP
(2, 3)
>>> io.load("linear.safetensors", backend="cupy")       # doctest: +SKIP
{'weight': tensor(..., backend='cupy'), 'bias': ...}

In PyTorch the same file loads with ``safetensors.torch.load_file("linear.safetensors")``.

Training checkpoints (model, optimizer, scheduler, epoch, RNG state, extras):

>>> io.save_checkpoint("ckpt.safetensors", model, optimizer, scheduler,
...                    epoch=3, best_loss=0.25)          # doctest: +SKIP
>>> ckpt = io.load_checkpoint("ckpt.safetensors", model, optimizer, scheduler)  # doctest: +SKIP
>>> ckpt["epoch"], ckpt["extra"]["best_loss"]            # doctest: +SKIP
(3, 0.25)

File layout (https://github.com/huggingface/safetensors): 8 bytes little-endian
header length N, N bytes of UTF-8 JSON ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {str: str}}`` (padded with spaces),
then the tensors' little-endian C-order bytes, back to back, offsets counted from
the start of that data section. gdl lays tensors out exactly as the reference
writer does, so a state dict saved by gdl is byte-identical to
``safetensors.numpy.save_file``'s.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import random as _pyrandom
import secrets

from gdl import dtypes
from gdl.backends import available_backends, find_backend_of, get_backend_object, host_io, is_usable
from gdl.tensor import Tensor, tensor

__all__ = [
    "CheckpointError",
    "save",
    "load",
    "load_metadata",
    "dumps",
    "loads",
    "save_checkpoint",
    "load_checkpoint",
]

MAX_HEADER_SIZE = 100_000_000  # the reference implementation's limit
STRUCTURE_KEY = "gdl.structure"  # __metadata__ key holding a nested structure
KIND_KEY = "gdl.kind"  # __metadata__ key: "checkpoint" for save_checkpoint files
RESERVED_PREFIX = "gdl."  # __metadata__ keys gdl keeps for itself
FORMAT_VERSION = 1
_INFO_KEYS = ("dtype", "shape", "data_offsets")


class CheckpointError(ValueError):
    """A file that is not a valid gdl/safetensors file: truncated, corrupted or foreign.

    ``str(err)`` names the file and what is wrong; ``err.path`` and ``err.problem``
    hold the two parts.
    """

    def __init__(self, path, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# -- public API ----------------------------------------------------------------------


def save(obj, path, metadata: dict[str, str] | None = None) -> None:
    """Save a state dict or a nested structure of tensors to ``path`` (safetensors).

    Args:
        obj: a ``dict[str, Tensor]`` (written as a plain safetensors file), or any
            nest of dicts, lists and tuples holding Tensors, backend arrays, Python
            numbers, strings, bools and None. Dict keys may be strings, numbers,
            bools, None or tuples of those. A tensor that appears twice is stored once.
        path: file name (str or ``os.PathLike``). The write is atomic: a temporary
            file in the same folder is written, flushed, fsynced and renamed over
            ``path``; on any error ``path`` is left as it was.
        metadata: optional ``dict[str, str]`` stored in the header's
            ``__metadata__`` (read it back with :func:`load_metadata`). Keys
            starting with ``"gdl."`` are reserved.

    >>> gdl.io.save(model.state_dict(), "model.safetensors")   # doctest: +SKIP
    >>> gdl.io.save(optimizer.state_dict(), "optim.safetensors",
    ...             metadata={"note": "after epoch 3"})         # doctest: +SKIP
    """
    header, entries = _prepare(obj, metadata)
    _atomic_write(path, lambda f: _write_all(f, header, entries))


def load(path, backend=None, *, map_location=None, weights_only=True):
    """Load what :func:`save` wrote (or any safetensors file) onto ``backend``.

    PyTorch's keywords work: ``map_location`` names the backend or device
    (``"cpu"``, ``"cuda"``), as ``backend=`` does; ``weights_only`` is accepted and
    ignored: gdl's files hold tensors and plain values only, never pickled code.

    Returns a ``dict[str, Tensor]`` for a plain safetensors file (keys in file
    order: by dtype, then name, as safetensors writes them), or the saved
    structure, rebuilt, for a nested one. ``backend`` (default: the current one,
    ``gdl.get_backend()``) is where the tensors go, whatever backend saved them;
    the tensors come back as plain leaves (``requires_grad=False``).

    Raises :class:`CheckpointError` (a ``ValueError``) naming the file when it is
    truncated, corrupted or not a safetensors file. No code in the file is run.

    >>> model.load_state_dict(gdl.io.load("model.safetensors"))          # doctest: +SKIP
    >>> sd = gdl.io.load("trained_on_gpu.safetensors", backend="numpy")   # doctest: +SKIP
    """
    from gdl.backends import pick_backend

    if callable(map_location) or isinstance(map_location, dict):
        raise TypeError("load: map_location must be a device or backend name (gdl does not remap storages)")
    return _load_file(path, pick_backend("load", backend, map_location))[0]


def load_metadata(path) -> dict[str, str]:
    """The user ``__metadata__`` of a safetensors file (its ``gdl.*`` keys left out).

    Reads and checks only the header, not the tensor data.

    >>> gdl.io.save(sd, "w.safetensors", metadata={"epoch": "3"})   # doctest: +SKIP
    >>> gdl.io.load_metadata("w.safetensors")                      # doctest: +SKIP
    {'epoch': '3'}
    """
    source = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        _, metadata, _ = _read_header(f.read, size, source)
    return {k: v for k, v in metadata.items() if not k.startswith(RESERVED_PREFIX)}


def dumps(obj, metadata: dict[str, str] | None = None) -> bytes:
    """The bytes :func:`save` would write (like ``safetensors.numpy.save``)."""
    header, entries = _prepare(obj, metadata)
    chunks = [header]
    for entry in entries:
        chunks.append(_entry_bytes(entry))
    return b"".join(chunks)


def loads(data: bytes, backend=None, name: str = "<bytes>"):
    """Load from bytes what :func:`dumps` made; ``name`` labels errors."""
    view = memoryview(data).cast("B")
    pos = [0]

    def read(n):
        chunk = view[pos[0] : pos[0] + n]
        pos[0] += len(chunk)
        return chunk

    return _decode(read, len(view), name, get_backend_object(backend))[0]


# -- checkpoints -----------------------------------------------------------------------


def save_checkpoint(
    path, model=None, optimizer=None, scheduler=None, epoch=None, metadata=None, **extra
) -> None:
    """Save everything needed to resume training, atomically, to ``path``.

    Stores ``model.state_dict()``, ``optimizer.state_dict()``,
    ``scheduler.state_dict()`` (each optional, duck-typed), ``epoch``, the random
    generator state of every backend created so far and of Python's ``random``,
    ``metadata`` (any JSON-like value) and ``**extra`` (e.g. ``best_loss=0.25``;
    tensors allowed). :func:`load_checkpoint` puts it all back;
    ``gdl.io.load(path)`` returns it as a plain dict.

    >>> for epoch in range(start, 10):                                 # doctest: +SKIP
    ...     train_one_epoch(model, optimizer)
    ...     gdl.io.save_checkpoint("ckpt.safetensors", model, optimizer, epoch=epoch)
    """
    state = {
        "epoch": epoch,
        "model": None if model is None else model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": _rng_state(),
        "metadata": metadata,
        "extra": extra,
    }
    header, entries = _prepare(state, None, kind="checkpoint")
    _atomic_write(path, lambda f: _write_all(f, header, entries))


def load_checkpoint(
    path, model=None, optimizer=None, scheduler=None, backend=None, restore_rng: bool = True
) -> dict:
    """Resume from a :func:`save_checkpoint` file.

    Calls ``load_state_dict`` on each of ``model``, ``optimizer``, ``scheduler``
    that is given, with tensors placed on ``backend`` (default: the current one),
    and, if ``restore_rng``, restores the random generator state of every saved
    backend usable here (a CuPy state is skipped on a machine without CuPy) and of
    Python's ``random``.

    Returns a dict with ``epoch``, ``metadata``, ``extra`` (the ``**extra``
    keywords) and the ``model``/``optimizer``/``scheduler`` state dicts.

    >>> ckpt = gdl.io.load_checkpoint("ckpt.safetensors", model, optimizer)  # doctest: +SKIP
    >>> start = ckpt["epoch"] + 1                                          # doctest: +SKIP
    """
    source = os.fspath(path)
    state, metadata = _load_file(path, backend)
    if metadata.get(KIND_KEY) != "checkpoint" or not isinstance(state, dict):
        raise CheckpointError(
            source, "not a gdl checkpoint (not written by save_checkpoint); read it with gdl.io.load"
        )
    missing = [
        k for k in ("epoch", "model", "optimizer", "scheduler", "rng", "metadata", "extra") if k not in state
    ]
    if missing or not isinstance(state["extra"], dict):
        raise CheckpointError(source, f"checkpoint is incomplete (missing {', '.join(missing) or 'extra'})")
    for label, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            if state[label] is None:
                raise CheckpointError(source, f"checkpoint holds no {label} state, but a {label} was given")
            obj.load_state_dict(state[label])
    if restore_rng:
        _set_rng_state(state["rng"], source)
    return {
        "epoch": state["epoch"],
        "metadata": state["metadata"],
        "extra": state["extra"],
        "model": state["model"],
        "optimizer": state["optimizer"],
        "scheduler": state["scheduler"],
    }


def _rng_state() -> dict:
    from gdl import backends

    created = backends.created_backends()
    created.setdefault(backends.get_backend(), get_backend_object())
    states = {}
    for name, be in created.items():
        try:
            states[name] = be.get_rng_state()
        except NotImplementedError:
            continue
    return {"backends": states, "python": _pyrandom.getstate()}


def _set_rng_state(rng, source) -> None:
    if not isinstance(rng, dict) or not isinstance(rng.get("backends"), dict):
        raise CheckpointError(source, "checkpoint RNG state is malformed")
    for name, state in rng["backends"].items():
        if name not in available_backends() or not is_usable(name):
            continue  # e.g. a CuPy generator state on a machine without a GPU
        try:
            get_backend_object(name).set_rng_state(state)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CheckpointError(source, f"RNG state for backend {name!r} is invalid ({exc})") from None
    if rng.get("python") is not None:
        try:
            _pyrandom.setstate(rng["python"])
        except (ValueError, TypeError, OverflowError) as exc:
            raise CheckpointError(source, f"Python RNG state is invalid ({exc})") from None


# -- writing ---------------------------------------------------------------------------


class _Entry:
    """One tensor to write: its name, safetensors dtype code, shape and source."""

    __slots__ = ("name", "code", "shape", "nbytes", "array", "backend")

    def __init__(self, name, code, shape, array, backend):
        self.name, self.code, self.shape = name, code, tuple(int(d) for d in shape)
        self.nbytes = math.prod(self.shape) * host_io.itemsize(code)
        self.array, self.backend = array, backend


def _is_state_dict(obj) -> bool:
    return (
        isinstance(obj, dict)
        and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())
        and "__metadata__" not in obj
    )


def _prepare(obj, metadata, kind=None):
    """Check everything and build (header bytes, entries in data order)."""
    meta = _check_metadata(metadata)
    if _is_state_dict(obj):
        entries = [_entry(name, t.data, t._backend, t.dtype.name) for name, t in obj.items()]
    else:
        enc = _Encoder()
        try:
            root = enc.encode(obj, ())
        except RecursionError:
            raise ValueError("gdl.io.save: the structure is nested too deeply to save") from None
        entries = enc.entries
        doc = {"version": FORMAT_VERSION, "root": root}
        meta[STRUCTURE_KEY] = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    if kind is not None:
        meta[KIND_KEY] = kind
    # The reference writer's layout: widest dtype first, then by name.
    entries.sort(key=lambda e: (-host_io.layout_rank(e.code), e.name))
    header = {}
    if meta:
        header["__metadata__"] = dict(sorted(meta.items()))  # deterministic bytes
    offset = 0
    for e in entries:
        header[e.name] = {
            "dtype": e.code,
            "shape": list(e.shape),
            "data_offsets": [offset, offset + e.nbytes],
        }
        offset += e.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"gdl.io.save: a tensor name or metadata string is not valid Unicode ({exc})"
        ) from None
    raw += b" " * (-len(raw) % 8)  # pad so the data section starts 8-byte aligned
    return len(raw).to_bytes(8, "little") + raw, entries


def _check_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"gdl.io.save: metadata must be a dict[str, str], got {type(metadata).__name__}")
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(
                f"gdl.io.save: metadata must map str to str (safetensors stores only strings); "
                f"got {k!r}: {type(v).__name__}"
            )
        if k.startswith(RESERVED_PREFIX):
            raise ValueError(f"gdl.io.save: metadata key {k!r} is reserved (keys starting with 'gdl.')")
    return dict(metadata)


def _entry(name, array, backend, dtype_name) -> _Entry:
    try:
        code = host_io.code_of(dtype_name)
    except TypeError:
        raise TypeError(
            f"gdl.io.save: tensor {name!r} has dtype {dtype_name}, which safetensors cannot store"
        ) from None
    return _Entry(name, code, array.shape, array, backend)


def _entry_bytes(entry: _Entry) -> bytes:
    data = host_io.to_bytes(entry.backend.to_host(entry.array))
    if len(data) != entry.nbytes:
        raise RuntimeError(
            f"gdl.io.save: tensor {entry.name!r} gave {len(data)} bytes, expected {entry.nbytes}"
        )
    return data


def _write(f, data) -> None:
    """Write one chunk (tests replace this to simulate a crash mid-write)."""
    f.write(data)


def _write_all(f, header: bytes, entries) -> None:
    _write(f, header)
    for entry in entries:  # one tensor at a time: never all host copies at once
        _write(f, _entry_bytes(entry))


def _atomic_write(path, write) -> None:
    """Write via a temporary file in ``path``'s folder, fsync, then rename over ``path``."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # 0o666 & ~umask, like a plain open()
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX; not possible on Windows)
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class _Encoder:
    """Turns a nested structure into JSON, collecting its tensors as entries.

    JSON forms: None/bool/int/str/finite float as themselves; list as a list;
    dict with str keys (none starting with "$") as an object; tagged objects
    ``{"$tensor": key}``, ``{"$array": key}`` (a raw backend array),
    ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}`` (any other keys)
    and ``{"$float": "nan" | "inf" | "-inf"}``.
    """

    def __init__(self):
        self.entries: list[_Entry] = []
        self.names: set[str] = {"__metadata__"}
        self.seen: dict[int, tuple] = {}  # id -> (object, key): shared tensors stored once
        self.active: set[int] = set()  # containers on the current path (cycle check)

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"$tensor": self._add(obj, path, obj.data, obj._backend)}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return _encode_float(obj)
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.active:
                raise ValueError(f"gdl.io.save: the structure contains itself at {_where(path)}")
            self.active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self.active.discard(id(obj))
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            return _encode_float(float(obj))
        be = find_backend_of(obj)
        if be is not None:
            return {"$array": self._add(obj, path, obj, be)}
        raise TypeError(
            f"gdl.io.save: cannot save {type(obj).__name__} at {_where(path)}; saveable: Tensor, "
            "backend arrays, dict, list, tuple, int, float, str, bool, None"
        )

    def _container(self, obj, path):
        if isinstance(obj, list):
            return [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: self.encode(v, path + (k,)) for k, v in obj.items()}
        return {"$dict": [[_encode_key(k, path), self.encode(v, path + (str(k),))] for k, v in obj.items()]}

    def _add(self, obj, path, array, backend) -> str:
        if id(obj) in self.seen:
            return self.seen[id(obj)][1]
        base = ".".join(path) or "tensor"
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}#{n}"
        self.names.add(name)
        self.seen[id(obj)] = (obj, name)
        self.entries.append(_entry(name, array, backend, dtypes.as_dtype(array.dtype).name))
        return name


def _encode_float(x: float):
    if math.isfinite(x):
        return float(x)
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _encode_key(k, path):
    if k is None or isinstance(k, (bool, str)):
        return k
    if isinstance(k, numbers.Integral):
        return int(k)
    if isinstance(k, numbers.Real):
        return _encode_float(float(k))
    if isinstance(k, tuple):
        return {"$tuple": [_encode_key(v, path) for v in k]}
    raise TypeError(
        f"gdl.io.save: dict key {k!r} ({type(k).__name__}) at {_where(path)} cannot be saved; "
        "keys may be str, int, float, bool, None or tuples of those"
    )


def _where(path) -> str:
    return repr(".".join(path)) if path else "the top level"


# -- reading ---------------------------------------------------------------------------

_FOREIGN = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (
        b"PK\x03\x04",
        "a zip archive (PyTorch .pt/.pth files are zipped pickles; gdl never "
        "unpickles: convert them with safetensors.torch.save_file)",
    ),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
    (b"\x80\x02", "a Python pickle (gdl never unpickles)"),
    (b"\x80\x03", "a Python pickle (gdl never unpickles)"),
    (b"\x80\x04", "a Python pickle (gdl never unpickles)"),
    (b"\x80\x05", "a Python pickle (gdl never unpickles)"),
)


def _not_safetensors(source, prefix: bytes, problem: str) -> CheckpointError:
    for magic, what in _FOREIGN:
        if bytes(prefix).startswith(magic):
            return CheckpointError(source, f"not a safetensors file: it looks like {what}")
    return CheckpointError(source, f"not a safetensors file: {problem}")


def _load_file(path, backend):
    """(object, __metadata__) from a file."""
    be = get_backend_object(backend)
    source = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        return _decode(f.read, size, source, be)


def _read_header(read, size, source):
    """Read and check the header: (entries in header order, metadata, header length)."""
    if size < 8:
        prefix = read(8)
        raise _not_safetensors(source, prefix, f"the file is {size} bytes, too short for a header")
    prefix = bytes(read(8))
    n = int.from_bytes(prefix, "little")
    if n > size - 8 or n > MAX_HEADER_SIZE or n < 2:
        peek = prefix + bytes(read(8))
        if n > size - 8:
            problem = f"header length {n} exceeds the file size ({size} bytes); the file may be truncated"
        elif n > MAX_HEADER_SIZE:
            problem = f"header length {n} exceeds the {MAX_HEADER_SIZE}-byte limit"
        else:
            problem = f"header length {n} is too small"
        raise _not_safetensors(source, peek, problem)
    raw = bytes(read(n))
    if len(raw) != n:
        raise CheckpointError(source, "the file changed or shrank while being read")
    if not raw.startswith(b"{"):
        raise _not_safetensors(source, prefix + raw[:8], "the JSON header does not start with '{'")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            source, f"the header is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    header = _parse_json(text, source, "the header")
    if not isinstance(header, dict):
        raise CheckpointError(source, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(source, "__metadata__ must map strings to strings")
    entries = {name: _check_info(name, info, source) for name, info in header.items()}
    _check_layout(entries, size - 8 - n, source)
    return entries, metadata, n


def _parse_json(text, source, what):
    def no_duplicates(pairs):
        out = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    def no_constants(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except RecursionError:
        raise CheckpointError(source, f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise CheckpointError(source, f"{what} is not valid JSON ({exc})") from None


def _is_int(x) -> bool:
    return type(x) is int


def _check_info(name, info, source):
    """(code, shape, begin, end) of one header entry, or CheckpointError."""
    where = f"tensor {name!r}"
    if not isinstance(info, dict):
        raise CheckpointError(source, f"{where}: header entry is not a JSON object")
    if set(info) != set(_INFO_KEYS):
        extra = sorted(set(info) - set(_INFO_KEYS))
        missing = [k for k in _INFO_KEYS if k not in info]
        raise CheckpointError(
            source, f"{where}: header entry has missing keys {missing} / unexpected keys {extra}"
        )
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(code, str):
        raise CheckpointError(source, f"{where}: dtype is not a string")
    if code not in host_io.CODES:
        raise CheckpointError(
            source, f"{where}: dtype {code!r} is not supported by gdl (supported: {', '.join(host_io.CODES)})"
        )
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise CheckpointError(source, f"{where}: shape {shape!r} is not a list of non-negative integers")
    problem = host_io.shape_problem(shape, code)
    if problem:
        raise CheckpointError(source, f"{where}: {problem}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
        raise CheckpointError(source, f"{where}: data_offsets {offsets!r} is not a pair of integers")
    begin, end = offsets
    if not 0 <= begin <= end:
        raise CheckpointError(source, f"{where}: data_offsets {offsets!r} are not 0 <= begin <= end")
    expected = math.prod(shape) * host_io.itemsize(code)
    if end - begin != expected:
        raise CheckpointError(
            source,
            f"{where}: data_offsets {offsets!r} span {end - begin} bytes, but shape {shape} "
            f"of {code} needs {expected}",
        )
    return code, tuple(shape), begin, end


def _check_layout(entries, data_len, source) -> None:
    """Tensors must tile the data section exactly: from 0, contiguous, to its end."""
    pos, last = 0, None
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin < pos:
            raise CheckpointError(source, f"tensor {name!r} overlaps tensor {last!r} (bytes {begin}..{pos})")
        if begin > pos:
            raise CheckpointError(source, f"gap of {begin - pos} unused bytes before tensor {name!r}")
        pos, last = end, name
    if pos > data_len:
        raise CheckpointError(
            source, f"the file is truncated: the data section holds {data_len} bytes, the header needs {pos}"
        )
    if pos < data_len:
        raise CheckpointError(source, f"{data_len - pos} bytes of trailing data after the last tensor")


def _decode(read, size, source, be):
    """(object, metadata) from a reader over a whole file of ``size`` bytes."""
    entries, metadata, _ = _read_header(read, size, source)
    for name, (code, _, _, _) in entries.items():
        dtype = host_io.dtype_name(code)
        if getattr(be.xp, dtype, None) is None:
            raise TypeError(
                f"{source}: tensor {name!r} is {dtype}, which backend {be.name!r} does not "
                "support; load it on another backend (e.g. backend='numpy')"
            )
    data_len = max((e[3] for e in entries.values()), default=0)
    data = read(data_len)
    if len(data) != data_len:
        raise CheckpointError(source, "the file changed or shrank while being read")
    tensors = {}
    for name, (code, shape, begin, _) in entries.items():
        try:
            host = host_io.from_bytes(data, begin, code, shape)
        except ValueError as exc:
            raise CheckpointError(source, f"tensor {name!r}: {exc}") from None
        tensors[name] = tensor(host, backend=be)
    if STRUCTURE_KEY not in metadata:
        return tensors, metadata
    doc = _parse_json(metadata[STRUCTURE_KEY], source, "the gdl structure")
    if not isinstance(doc, dict) or set(doc) != {"version", "root"}:
        raise CheckpointError(source, "the gdl structure is malformed")
    if doc["version"] != FORMAT_VERSION:
        raise CheckpointError(
            source,
            f"gdl structure version {doc['version']!r} is not supported (this gdl reads {FORMAT_VERSION})",
        )
    dec = _Decoder(tensors, source)
    try:
        root = dec.decode(doc["root"])
    except RecursionError:
        raise CheckpointError(source, "the gdl structure is nested too deeply") from None
    unused = sorted(set(tensors) - dec.used)
    if unused:
        raise CheckpointError(source, f"tensors not referenced by the gdl structure: {unused[:5]}")
    return root, metadata


class _Decoder:
    """Inverse of :class:`_Encoder`; every malformed form is a CheckpointError."""

    def __init__(self, tensors, source):
        self.tensors, self.source, self.used = tensors, source, set()

    def fail(self, problem):
        raise CheckpointError(self.source, f"the gdl structure is malformed: {problem}")

    def decode(self, x):
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, list):
            return [self.decode(v) for v in x]
        tag = self._tag(x)
        if tag is None:
            return {k: self.decode(v) for k, v in x.items()}
        value = x[tag]
        if tag in ("$tensor", "$array"):
            if not isinstance(value, str) or value not in self.tensors:
                self.fail(f"reference to a missing tensor {value!r}")
            self.used.add(value)
            t = self.tensors[value]
            return t if tag == "$tensor" else t.data
        if tag == "$tuple":
            if not isinstance(value, list):
                self.fail("a $tuple does not hold a list")
            return tuple(self.decode(v) for v in value)
        if tag == "$float":
            if value not in ("nan", "inf", "-inf"):
                self.fail(f"unknown $float {value!r}")
            return float(value)
        if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
            self.fail("a $dict is not a list of [key, value] pairs")
        out = {}
        for k, v in value:
            key = self.decode(k)
            try:
                hash(key)
            except TypeError:
                self.fail(f"a $dict key of type {type(key).__name__} is not hashable")
            out[key] = self.decode(v)
        return out

    def _tag(self, x):
        if not isinstance(x, dict):
            self.fail(f"unexpected {type(x).__name__}")
        tags = [k for k in x if k.startswith("$")]
        if not tags:
            return None
        if len(x) != 1 or tags[0] not in ("$tensor", "$array", "$tuple", "$dict", "$float"):
            self.fail(f"unknown tag {tags[0]!r}")
        return tags[0]
