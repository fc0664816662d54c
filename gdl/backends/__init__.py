"""Backend registry: which array library new tensors are created on.

``set_backend`` chooses the default for *creating* arrays (tensors, parameters,
random numbers). An op takes its arrays' own backend, never the global one.

>>> import gdl
>>> gdl.set_backend("numpy")
>>> with gdl.use_backend("array_api_strict"):
...     gdl.zeros(2).backend
'array_api_strict'
"""

from __future__ import annotations

import contextlib
import importlib
import os

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
_instances: dict[str, Backend] = {}
_current: list[str] = []


def available_backends() -> tuple[str, ...]:
    """The names gdl knows (whether or not their library is installed)."""
    return tuple(_FACTORIES)


def get_backend_object(name: str | Backend | None = None) -> Backend:
    """The :class:`Backend` called ``name`` (default: the current one)."""
    if isinstance(name, Backend):
        return name
    if name is None:
        name = get_backend()
    if name in _instances:
        return _instances[name]
    if name not in _FACTORIES:
        raise ValueError(
            f"unknown backend {name!r}; available backends: {', '.join(_FACTORIES)}"
        )
    module, cls = _FACTORIES[name]
    try:
        backend = getattr(importlib.import_module(module), cls)()
    except Exception as exc:  # missing library, missing driver, no GPU
        hint = _INSTALL_HINTS.get(name, "")
        raise RuntimeError(
            f"backend {name!r} is not usable here ({type(exc).__name__}: {exc}); {hint}"
        ) from exc
    _instances[name] = backend
    _seed_new(backend)
    return backend


def is_usable(name: str) -> bool:
    """True when backend ``name`` can be created on this machine."""
    try:
        get_backend_object(name)
        return True
    except (RuntimeError, ValueError):
        return False


def get_backend() -> str:
    """The name of the backend new tensors are created on."""
    if not _current:
        _current.append(_check_name(os.environ.get("GDL_BACKEND", "numpy")))
    return _current[-1]


def _check_name(name: str) -> str:
    if name not in _FACTORIES:
        raise ValueError(
            f"unknown backend {name!r}; available backends: {', '.join(_FACTORIES)}"
        )
    return name


def set_backend(name: str) -> None:
    """Make ``name`` the default backend for new tensors, parameters and RNG."""
    get_backend_object(_check_name(name))
    get_backend()
    _current[-1] = name


@contextlib.contextmanager
def use_backend(name: str):
    """Temporarily create new tensors on backend ``name``."""
    get_backend_object(_check_name(name))
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
    if _pending_seed is not None:
        backend.seed(_pending_seed)


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
