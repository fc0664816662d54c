"""``gdl.cuda``: PyTorch's ``torch.cuda`` helpers, answered by the cupy backend.

gdl uses one GPU (the current CuPy device). Without CuPy or a GPU the queries
answer ``False``/``0``, seeding and ``empty_cache`` do nothing (as in PyTorch),
and the rest raise a RuntimeError saying why.

>>> import gdl
>>> device = "cuda" if gdl.cuda.is_available() else "cpu"
>>> gdl.zeros(2, device=device).is_cuda == gdl.cuda.is_available()
True
"""

from __future__ import annotations

from gdl.amp import cuda_amp as amp  # noqa: F401  (gdl.cuda.amp.GradScaler/autocast, as torch.cuda.amp)
from gdl.backends import get_backend_object, is_usable


def is_available() -> bool:
    """True when CuPy is installed and finds a usable GPU (``gdl.is_usable("cupy")``)."""
    return is_usable("cupy")


def _gpu(op: str):
    try:
        return get_backend_object("cuda")
    except RuntimeError as exc:
        raise RuntimeError(f"gdl.cuda.{op}(): {exc}") from exc


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU); gdl uses the first."""
    return _gpu("device_count").device_count() if is_available() else 0


def current_device() -> int:
    """The index of the GPU gdl uses: always 0."""
    _gpu("current_device")
    return 0


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H100 80GB HBM3'`` (``device``: None, 0 or "cuda:0")."""
    from gdl.backends import device as _device

    if device is not None and _device(device).type != "cuda":
        raise ValueError(f"gdl.cuda.get_device_name(): expected a cuda device, got {device!r}")
    return _gpu("get_device_name").device_name()


def synchronize(device=None) -> None:
    """Wait until the GPU has finished the work queued so far."""
    _gpu("synchronize").synchronize()


def manual_seed(seed: int) -> None:
    """Seed the cupy backend's generator (nothing to do without a GPU, as in PyTorch).
    ``gdl.manual_seed`` seeds every backend, the GPU's included."""
    if is_available():
        get_backend_object("cupy").seed(int(seed))


manual_seed_all = manual_seed  # one GPU: the same


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory in use by arrays (CuPy's default pool; 0 without a GPU)."""
    return get_backend_object("cupy").memory_allocated() if is_available() else 0


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory CuPy's pool holds, in use or cached for reuse (0 without a GPU)."""
    return get_backend_object("cupy").memory_reserved() if is_available() else 0


def max_memory_allocated(device=None) -> int:
    """An upper bound on the peak of :func:`memory_allocated` since the last
    :func:`empty_cache`: gdl does not track the peak (it would cost a hook on every
    allocation); CuPy's pool keeps freed blocks until ``empty_cache``, so the bytes it
    holds (:func:`memory_reserved`) bound the peak from above. 0 without a GPU."""
    return memory_reserved()


def empty_cache() -> None:
    """Give the GPU memory cached by CuPy's pool back to the driver (no-op without a GPU)."""
    if is_available():
        get_backend_object("cupy").empty_cache()
