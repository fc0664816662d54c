"""``gdl.autocast``: run chosen ops in float16 inside a region, as ``torch.autocast``.

Inside ``with gdl.autocast("cuda"):`` (or ``"cpu"``) two lists of ops change dtype;
every other op runs as usual, in the widest dtype of its inputs:

- **float16** ops (PyTorch's ``lower_precision_fp`` list): ``linear``, ``matmul``
  (``@``, ``mm``, ``bmm``, ``mv``, ``dot``), ``addmm``, ``baddbmm``, ``addmv``, ``einsum``,
  ``conv1d``/``conv2d``, ``conv_transpose1d``/``conv_transpose2d``, ``prelu``,
  ``scaled_dot_product_attention``, the RNN/LSTM/GRU cells and layers (and so
  ``MultiheadAttention``, through its ``linear`` projections). Their float32 inputs are
  cast to float16 first (differentiably: gradients flow back as float32).
- **float32** ops (PyTorch's ``fp32`` list, the part gdl has): ``softmax``,
  ``log_softmax``, ``logsumexp``, ``sum``, ``prod``, ``cumsum``, ``cumprod``, ``norm``,
  ``layer_norm``, ``group_norm``, ``softplus``, ``tan``, ``sinh``, ``cosh``, ``asin``,
  ``acos``, ``exp``, ``expm1``, ``log``, ``log1p``, ``log2``, ``log10``, ``rsqrt``,
  ``reciprocal``, ``pow`` (and ``**``), ``erfinv``, ``cosine_similarity``, ``normalize``, ``cdist``,
  ``interpolate`` (and the ``upsample`` functions and layers) and the
  losses (``mse``, ``l1``, ``smooth_l1``, ``huber``, ``kl_div``, ``cross_entropy``, ``nll``,
  ``binary_cross_entropy`` and ``_with_logits``, ``poisson_nll``, ``cosine_embedding``,
  ``margin_ranking``, ``hinge_embedding``, ``soft_margin``, ``triplet_margin``,
  ``multi_margin``, ``multilabel_margin``). Their float16 inputs are cast to float32;
  an explicit ``dtype=`` argument (``sum``/``prod``/``cumsum``/``cumprod``) is obeyed instead.

As in PyTorch: float64 and integer tensors are never cast; an autocast region acts only
on tensors of its device type (``"cuda"``: the cupy backend; ``"cpu"``: numpy and
array_api_strict), so ``autocast("cuda")`` leaves NumPy tensors alone (and, without a
GPU, warns and disables itself, as PyTorch does); ``autocast(enabled=False)`` inside a
region turns it off again; the state is per thread; the float16 copies of parameters
are cached until the outermost region exits (``cache_enabled=False`` turns that off).
Wrap the forward pass and the loss, not ``backward()``/``optimizer.step()``.

gdl's choices where it differs from PyTorch:

- gdl has no bfloat16: the default dtype is float16 for ``"cpu"`` as well as for
  ``"cuda"`` (PyTorch's CPU default is bfloat16), and ``dtype=bfloat16`` is a TypeError.
- One pair of op lists, PyTorch's CUDA lists, serves both device types (PyTorch's CPU
  lists keep ``softmax``, ``layer_norm``, ``exp``... in float16, and have
  ``binary_cross_entropy`` in float32, which gdl follows on both; on CUDA PyTorch refuses it).
- ``dot`` runs in float16 (it is a matmul in gdl; PyTorch widens it instead).
- ``dist``, ``pdist``, ``renorm`` and a number divided by a tensor
  (``__rtruediv__``) are on PyTorch's float32 list but not on gdl's.
- A backend without float16 (array_api_strict) warns once and runs the float16 list
  in float32.

Each listed op starts with one check of :data:`ACTIVE` (a module-level list read: the
number of threads inside an enabled region); only when it is non-zero does it call
:func:`autocast_inputs`, so ops cost nothing measurable while autocast is off.

>>> import gdl
>>> x, w = gdl.randn(4, 3), gdl.randn(5, 3, requires_grad=True)
>>> with gdl.autocast("cpu"):
...     y = gdl.nn.functional.linear(x, w)
...     p = gdl.softmax(y, dim=-1)
>>> y.dtype, p.dtype
(gdl.float16, gdl.float32)
>>> p.sum().backward(); w.grad.dtype
gdl.float32
"""

from __future__ import annotations

import functools
import threading
import warnings

from gdl import dtypes
from gdl.backends import device as _device
from gdl.tensor import Tensor, _grad_enabled

__all__ = [
    "autocast", "autocast_inputs", "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled",
    "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache", "custom_fwd", "custom_bwd",
]

LOWER = "low"  # the op kinds of autocast_inputs: PyTorch's lower_precision_fp, fp32 and promote lists
FP32 = "fp32"
PROMOTE = "promote"
_DEVICE_TYPES = ("cpu", "cuda")

#: The ops' one cheap check: the number of threads now inside an enabled autocast region.
ACTIVE = [0]
_count_lock = threading.Lock()


class _State(threading.local):
    """One thread's autocast state."""

    def __init__(self):
        self.dtypes = {}  # device type -> the DType its enabled region casts to (absent: off)
        self.cache_enabled = True
        self.depth = 0  # autocast blocks entered (enabled or not); the cache empties at 0
        self.cache = {}  # (id(leaf), grad mode) -> (leaf, its data array, the float16 copy)


_state = _State()


def _set_dtypes(st, new) -> None:
    was, now = bool(st.dtypes), bool(new)
    st.dtypes = new
    if was != now:
        with _count_lock:
            ACTIVE[0] += 1 if now else -1


_cuda_missing = []  # [True] once CUDA was found missing (the check imports cupy: do it once)


def _cuda_available() -> bool:
    if not _cuda_missing:
        from gdl.cuda import is_available

        if is_available():
            return True
        _cuda_missing.append(True)
    return False


def _device_type(op: str, device_type) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{op}: device_type must be a string such as 'cuda' or 'cpu', got {device_type!r}")
    kind = device_type.partition(":")[0]
    if kind not in _DEVICE_TYPES:
        raise ValueError(f"{op}: unsupported device_type {device_type!r}; gdl autocasts 'cuda' (cupy) and "
                         f"'cpu' (numpy, array_api_strict)")
    return kind


def _low_dtype(op: str, dtype):
    """The DType of the float16 list for ``dtype`` (None: float16), or None if unsupported."""
    if dtype is None:
        return dtypes.float16
    if "bfloat16" in str(dtype):
        raise TypeError(f"{op}: gdl has no bfloat16; autocast runs in float16 (leave dtype out, or pass "
                        f"gdl.float16)")
    try:
        dt = dtypes.as_dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype must be gdl.float16, got {dtype!r}") from None
    return dt if dt == dtypes.float16 else None


class autocast:
    """Run the float16-list ops in float16 and the float32-list ops in float32 inside a
    region: a context manager and a decorator, as ``torch.autocast``.

    ``device_type``: ``"cuda"`` (cupy tensors) or ``"cpu"`` (numpy and array_api_strict
    tensors); tensors of the other type are left alone. ``dtype``: ``None`` or
    ``gdl.float16`` (gdl has no bfloat16: asking for it is a TypeError; another dtype
    warns and disables the region, as PyTorch does). ``enabled=False`` turns autocast
    off for that device type inside the block (also inside an enabled one).
    ``cache_enabled``: keep the float16 copies of leaf tensors that need gradients
    (the parameters) until the outermost region exits (default: the current setting, on).
    See :mod:`gdl.amp.autocast_mode` for the op lists.

    >>> import gdl
    >>> @gdl.autocast("cpu")
    ... def forward(x, w):
    ...     return x @ w
    >>> forward(gdl.ones(2, 2), gdl.ones(2, 2)).dtype
    gdl.float16
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        op = "autocast"
        self.device = _device_type(op, device_type)
        if not isinstance(enabled, bool):
            raise TypeError(f"{op}: enabled must be a bool, got {enabled!r}")
        self._enabled = enabled
        self.fast_dtype = _low_dtype(op, dtype)
        self._cache_enabled = _state.cache_enabled if cache_enabled is None else bool(cache_enabled)
        if self.fast_dtype is None:
            self.fast_dtype = dtypes.float16
            if enabled:
                warnings.warn(f"In {self.device.upper()} autocast, but the target dtype {dtype!r} is not supported "
                              f"(gdl autocasts to float16). Disabling autocast.", stacklevel=2)
                self._enabled = False
        if self._enabled and self.device == "cuda" and not _cuda_available():
            warnings.warn("CUDA is not available (no CuPy or no GPU). Disabling autocast.", stacklevel=2)
            self._enabled = False
        self._saved = []  # the states this object's __enter__ replaced (a stack: re-entrant)

    def __enter__(self):
        st = _state
        self._saved.append((st.dtypes, st.cache_enabled))
        new = dict(st.dtypes)
        if self._enabled:
            new[self.device] = self.fast_dtype
        else:
            new.pop(self.device, None)
        st.depth += 1
        st.cache_enabled = self._cache_enabled
        _set_dtypes(st, new)
        return self

    def __exit__(self, *exc):
        st = _state
        old, cache_enabled = self._saved.pop()
        st.depth -= 1
        if st.depth == 0:
            st.cache.clear()
        st.cache_enabled = cache_enabled
        _set_dtypes(st, old)
        return False

    def _fresh(self) -> "autocast":
        out = object.__new__(type(self))
        out.__dict__.update(self.__dict__)
        out._saved = []
        return out

    def __call__(self, func):
        """Decorate ``func``: each call runs inside a region of its own (threads and recursion are safe)."""

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)

        return decorate_autocast

    def __repr__(self) -> str:
        return (f"autocast(device_type={self.device!r}, dtype={self.fast_dtype!r}, enabled={self._enabled}, "
                f"cache_enabled={self._cache_enabled})")


# -- queries, as torch's ----------------------------------------------------------------------------------


def is_autocast_available(device_type: str) -> bool:
    """Whether gdl can autocast on ``device_type`` (``'cpu'`` or ``'cuda'``)."""
    return isinstance(device_type, str) and device_type.partition(":")[0] in _DEVICE_TYPES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether this thread is inside an enabled autocast region for ``device_type``
    (PyTorch's ``torch.is_autocast_enabled``; without an argument, ``'cuda'``)."""
    return _device_type("is_autocast_enabled", device_type) in _state.dtypes


def get_autocast_dtype(device_type: str = "cuda"):
    """The dtype autocast casts to on ``device_type``: ``gdl.float16``."""
    return _state.dtypes.get(_device_type("get_autocast_dtype", device_type), dtypes.float16)


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget this thread's cached float16 copies of parameters."""
    _state.cache.clear()


# -- the casts (called by the listed ops when ACTIVE[0] is not 0) ------------------------------------------------

_BACKENDS: dict = {}  # backend name -> (device type, its float16 or None, float32)
_astype = []  # [gdl.functional.elementwise.astype], imported on first use (that module imports the ops)
_warned: set = set()


def _backend_info(be):
    xp = be.xp
    info = (_device._of_backend(be.name).type, getattr(xp, "float16", None), xp.float32)
    _BACKENDS[be.name] = info
    return info


def _cast(t: Tensor, name: str) -> Tensor:
    if not _astype:
        from gdl.functional.elementwise import astype

        _astype.append(astype)
    return _astype[0](t, name)


def _to_low(t: Tensor, low, info, st) -> Tensor:
    if info[1] is None:  # no float16 on this backend: the region cannot lower anything here
        if t._backend.name not in _warned:
            _warned.add(t._backend.name)
            warnings.warn(f"autocast: the {t._backend.name} backend has no float16; its float16-list ops run "
                          f"in float32", stacklevel=4)
        return t
    if not (st.cache_enabled and t.requires_grad and t.grad_fn is None):
        return _cast(t, low.name)
    key = (id(t), _grad_enabled[0])
    hit = st.cache.get(key)
    # a hit is good while the leaf keeps its array (optimizers rebind .data) and the copy's
    # node has not been freed by a backward pass
    if hit is not None and hit[0] is t and hit[1] is t.data and (
            hit[2].grad_fn is None or hit[2].grad_fn.backward is not None):
        return hit[2]
    out = _cast(t, low.name)
    st.cache[key] = (t, t.data, out)
    return out


def autocast_inputs(kind: str, *args) -> tuple:
    """``args`` with their tensors cast for an op of ``kind`` (:data:`LOWER`: float32 tensors
    to the region's float16; :data:`FP32`: float16 tensors to float32; :data:`PROMOTE`: floating
    tensors to the widest floating dtype among them) where autocast is
    enabled for the tensor's device type; anything else comes back unchanged. Ops call it
    only when :data:`ACTIVE` ``[0]`` is not 0."""
    st = _state
    on = st.dtypes
    if not on:
        return args
    if kind == PROMOTE:
        return _promote(args, on)
    out = None
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            continue
        info = _BACKENDS.get(a._backend.name) or _backend_info(a._backend)
        low = on.get(info[0])
        if low is None:
            continue
        dt = a.data.dtype
        if kind == FP32:
            c = _cast(a, "float32") if info[1] is not None and dt == info[1] else a
        else:
            c = _to_low(a, low, info, st) if dt == info[2] else a
        if c is not a:
            if out is None:
                out = list(args)
            out[i] = c
    return args if out is None else tuple(out)


_WIDTH = {"float16": 1, "float32": 2, "float64": 3}


def _promote(args, on) -> tuple:
    """The floating tensors of ``args`` (on an enabled device type) cast to the widest of their dtypes."""
    width = {}
    for a in args:
        if isinstance(a, Tensor):
            info = _BACKENDS.get(a._backend.name) or _backend_info(a._backend)
            if info[0] in on:
                width[id(a)] = _WIDTH.get(a.dtype.name, 0)
    widest = max(width.values(), default=0)
    if not widest:
        return args
    name = next(n for n, w in _WIDTH.items() if w == widest)
    return tuple(_cast(a, name) if 0 < width.get(id(a), 0) < widest else a for a in args)


# -- custom_fwd / custom_bwd for gdl.autograd.Function ------------------------------------------------------------


def _cast_nested(value, device_type, dtype):
    if isinstance(value, Tensor):
        info = _BACKENDS.get(value._backend.name) or _backend_info(value._backend)
        if info[0] == device_type and value.dtype.is_floating_point and value.dtype != dtypes.float64:
            return _cast(value, dtypes.as_dtype(dtype).name)
        return value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {k: _cast_nested(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_nested(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a :class:`gdl.autograd.Function`'s ``forward``, as ``torch.amp.custom_fwd``:
    with ``cast_inputs`` (e.g. ``gdl.float32``) and autocast enabled, the floating tensor
    arguments are cast to it and forward runs with autocast off; without, forward runs
    under the caller's autocast state and :func:`custom_bwd` restores that state for backward."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    device_type = _device_type("custom_fwd", device_type)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if is_autocast_enabled(device_type):
            with autocast(device_type, enabled=False):
                return fwd(*_cast_nested(args, device_type, cast_inputs),
                           **_cast_nested(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a :class:`gdl.autograd.Function`'s ``backward``: it runs with the autocast
    state its forward (decorated with :func:`custom_fwd`) ran with."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    device_type = _device_type("custom_bwd", device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        region = autocast(device_type, enabled=False, dtype=ctx._dtype)
        if ctx._fwd_used_autocast:  # (built without the CUDA check: forward ran in such a region)
            region._enabled = True
        with region:
            return bwd(*args, **kwargs)

    return decorate_bwd
