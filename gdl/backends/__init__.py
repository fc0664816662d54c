"""Backend registry: which array library new tensors are created on.

``set_backend`` chooses the default for *creating* arrays (tensors, parameters,
random numbers). An op takes its arrays' own backend, never the global one.

>>> import gdl
>>> gdl.set_backend("numpy")
>>> with gdl.use_backend("array_api_strict"):
...     gdl.zeros(2).backend
'array_api_strict'

PyTorch's device names work wherever a backend name does: ``"cpu"`` is numpy,
``"cuda"`` (or ``"cuda:0"``, or a :class:`device`) is cupy; gdl uses one GPU.

>>> gdl.zeros(2, device="cpu").backend, gdl.device("cuda:0")
('numpy', device(type='cuda', index=0))
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets

from gdl.backends.base import Backend

_FACTORIES = {
    "numpy": ("gdl.backends.numpy_backend", "NumpyBackend"),
    "cupy": ("gdl.backends.cupy_backend", "CupyBackend"),
    "array_api_strict": ("gdl.backends.strict_backend", "StrictBackend"),
}
_INSTALL_HINTS = {
    "cupy": "install CuPy for your CUDA version (pip install 'gdl[cupy]', i.e. cupy-cuda12x, "
    "or cupy-cuda13x) on a machine with an NVIDIA GPU and driver",
    "array_api_strict": "pip install array-api-strict",
}
_DEVICE_BACKENDS = {"cpu": "numpy", "cuda": "cupy"}  # PyTorch's device types
_TENSOR_DEVICES: dict = {}  # backend name -> the device its tensors report
_instances: dict[str, Backend] = {}
_current: list[str] = []


class device:
    """A PyTorch-style device, ``gdl.device("cpu")`` or ``gdl.device("cuda")``, that
    names a backend: ``"cpu"`` is numpy, ``"cuda"`` / ``"cuda:0"`` cupy (one GPU).

    ``tensor.device`` is one; it remembers the tensor's backend, so
    ``gdl.zeros(3, device=x.device)`` is made where ``x`` is (array_api_strict too,
    which reports ``"cpu"``).

    >>> import gdl
    >>> d = gdl.device("cuda:0")
    >>> d, str(d), d.type, d.index
    (device(type='cuda', index=0), 'cuda:0', 'cuda', 0)
    >>> gdl.device("cpu") == gdl.device("cpu"), gdl.device("cuda") == gdl.device("cuda:0")
    (True, False)
    """

    __slots__ = ("_type", "_index", "_backend")

    def __init__(self, type, index=None):  # noqa: A002  (torch.device's argument name)
        backend = None
        if isinstance(type, device):
            type, index, backend = type._type, type._index if index is None else index, type._backend
        elif isinstance(type, int) and not isinstance(type, bool) and index is None:
            type, index = "cuda", type  # torch.device(0) is cuda:0
        elif not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda', got {type!r}")
        elif ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already has an index; do not pass index={index!r}")
            type, _, num = type.partition(":")
            if not num.isdigit():
                raise ValueError(f"device: invalid device string {type + ':' + num!r}; expected e.g. 'cuda:0'")
            index = int(num)
        if type not in _DEVICE_BACKENDS:
            raise ValueError(
                f"device: unknown device type {type!r}; gdl knows 'cpu' (numpy) and 'cuda' (cupy)"
            )
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(f"device: index must be an int, got {index!r}")
        if index is not None and index != 0:
            raise ValueError(
                f"device: {type}:{index} is not supported: gdl uses one GPU (the current CuPy "
                f"device); use {type!r} or '{type}:0' (select the GPU with CUDA_VISIBLE_DEVICES)"
            )
        self._type, self._index, self._backend = type, index, backend

    @classmethod
    def _of_backend(cls, name: str) -> "device":
        """The device that a tensor on backend ``name`` reports (cupy: cuda:0, else cpu)."""
        out = _TENSOR_DEVICES.get(name)
        if out is None:
            out = _TENSOR_DEVICES[name] = cls("cuda", 0) if name == "cupy" else cls("cpu")
            out._backend = name
        return out

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type={self._type!r}{index})"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash(("gdl.device", self._type, self._index))

    def __reduce__(self):
        return (device, (str(self),))


def available_backends() -> tuple[str, ...]:
    """The names gdl knows (whether or not their library is installed)."""
    return tuple(_FACTORIES)


def get_backend_object(name: str | Backend | device | None = None) -> Backend:
    """The :class:`Backend` called ``name`` (default: the current one); ``name`` may
    also be a device (``"cpu"``, ``"cuda"``, ``"cuda:0"``, :class:`device`)."""
    if isinstance(name, Backend):
        return name
    spec = name
    name = get_backend() if name is None else backend_name(name)
    if name in _instances:
        return _instances[name]
    module, cls = _FACTORIES[name]
    try:
        backend = getattr(importlib.import_module(module), cls)()
    except Exception as exc:  # missing library, missing driver, no GPU
        hint = _INSTALL_HINTS.get(name, "")
        what = f"backend {name!r}" if spec is None or spec == name else f"backend {name!r} (device {str(spec)!r})"
        why = "CuPy or a CUDA GPU is not available" if name == "cupy" else "its library is not available"
        raise RuntimeError(
            f"{what} is not usable here: {why} ({type(exc).__name__}: {exc}); {hint}"
        ) from exc
    _instances[name] = backend
    _seed_new(backend)
    return backend


def backend_name(spec) -> str:
    """The backend name that ``spec`` means: a backend name, a :class:`Backend`, or a
    PyTorch device (``"cpu"`` -> numpy, ``"cuda"``/``"cuda:0"``/``0`` -> cupy, a :class:`device`)."""
    if isinstance(spec, Backend):
        return spec.name
    if isinstance(spec, str) and spec in _FACTORIES:
        return spec
    if (isinstance(spec, device) or (isinstance(spec, str) and spec.partition(":")[0] in _DEVICE_BACKENDS)
            or (isinstance(spec, int) and not isinstance(spec, bool))):  # PyTorch's device=0 is cuda:0
        spec = device(spec)  # checks the index
        return spec._backend or _DEVICE_BACKENDS[spec.type]
    raise ValueError(
        f"unknown backend {spec!r}; available backends: {', '.join(_FACTORIES)} "
        f"(or PyTorch's devices 'cpu' = numpy, 'cuda' = cupy)"
    )


def pick_backend(op: str, backend=None, device=None):
    """``backend=`` or its PyTorch synonym ``device=`` (None if neither is given); both
    may be given only if they mean the same backend."""
    if device is None:
        return backend
    if backend is not None and backend_name(backend) != backend_name(device):
        raise TypeError(
            f"{op}: backend={backend!r} and device={device!r} disagree; pass one of them "
            f"(device= is PyTorch's name for backend=)"
        )
    return device if backend is None else backend


def is_usable(name) -> bool:
    """True when backend (or device) ``name`` can be created on this machine."""
    try:
        get_backend_object(name)
        return True
    except (RuntimeError, ValueError):
        return False


def get_backend() -> str:
    """The name of the backend new tensors are created on."""
    if not _current:
        _current.append(backend_name(os.environ.get("GDL_BACKEND", "numpy")))
    return _current[-1]


def set_backend(name) -> None:
    """Make ``name`` (or a device: ``"cpu"``, ``"cuda"``) the default backend for new
    tensors, parameters and RNG."""
    backend_name(name)  # unknown names (None too) are a ValueError
    name = get_backend_object(name).name
    get_backend()
    _current[-1] = name


@contextlib.contextmanager
def use_backend(name):
    """Temporarily create new tensors on backend ``name`` (or a device: ``"cpu"``, ``"cuda"``)."""
    backend_name(name)
    name = get_backend_object(name).name
    get_backend()
    _current.append(name)
    try:
        yield get_backend_object(name)
    finally:
        _current.pop()


def manual_seed(seed: int) -> None:
    """Seed the random generator of every backend created so far, and later ones.

    Same seed, same backend, same numbers: ``gdl.manual_seed(0)`` makes model
    creation, dropout and data shuffling repeatable.
    """
    global _pending_seed
    _pending_seed = int(seed)
    get_backend_object()  # make sure the current backend exists
    for backend in _instances.values():
        backend.seed(_pending_seed)


_pending_seed = None


def _seed_new(backend: Backend) -> None:
    """Seed a new backend with the last ``manual_seed``, or with one random seed drawn
    at the first backend's creation (so that :func:`initial_seed` can tell it)."""
    global _pending_seed
    if _pending_seed is None:
        _pending_seed = secrets.randbits(63)
    backend.seed(_pending_seed)


def initial_seed() -> int:
    """The seed of gdl's generators, as ``torch.initial_seed``: the last
    :func:`manual_seed`, or the random one drawn when the first backend was made (the
    PyTorch docs' DataLoader ``seed_worker`` recipe reads it)."""
    get_backend_object()  # the first backend draws the seed
    return _pending_seed


def seed() -> int:
    """Seed every generator with a fresh random seed and return it, as ``torch.seed``."""
    new = secrets.randbits(63)
    manual_seed(new)
    return new


def find_backend_of(array) -> Backend | None:
    """The created backend whose library made ``array`` (None if none did)."""
    for backend in _instances.values():
        if backend.is_array(array):
            return backend
    module = type(array).__module__.split(".")[0]
    for name in ("cupy", "array_api_strict"):
        if module == name and is_usable(name):
            return _instances[name]
    return None


def created_backends() -> dict[str, Backend]:
    """The backends created so far in this process, by name."""
    return dict(_instances)
