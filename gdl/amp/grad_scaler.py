"""``gdl.amp.GradScaler``: dynamic loss scaling for float16 training, as ``torch.amp.GradScaler``.

Small gradients underflow in float16. The scaler multiplies the loss by a large
``scale`` before ``backward()`` so that the gradients of the float16 ops stay
representable, divides the parameters' gradients by it again before the optimizer
step, and skips the step when a gradient came out inf or NaN (the scale was too
large). ``update()`` then backs the scale off (``× backoff_factor``) after a skipped
step, and grows it (``× growth_factor``) after ``growth_interval`` steps in a row
without inf/NaN. This is PyTorch's algorithm, step for step::

    scaler = gdl.amp.GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with gdl.autocast("cuda"):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)            # optional: to clip the true gradients
        gdl.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)                # skipped if a gradient is inf/NaN
        scaler.update()

The scale is kept as a Python float rounded to float32 (PyTorch keeps a float32
tensor on the device), so ``get_scale()`` costs no device sync; the inf/NaN check
needs one per ``step()``, as PyTorch's ``.item()`` there does. ``GradScaler("cuda")``
without a GPU warns and disables itself (every method passes through), as PyTorch's does.
"""

from __future__ import annotations

import math
import struct
import warnings
from collections import abc, defaultdict
from enum import Enum

from gdl import dtypes
from gdl.sparse_grad import RowSparseGrad
from gdl.tensor import Tensor, no_grad

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _f32(x: float) -> float:
    """``x`` rounded to float32 (inf past float32's range), as the float32 scale tensor holds it."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/NaN gradients and adapt
    the scale, as ``torch.amp.GradScaler`` (see :mod:`gdl.amp.grad_scaler`).

    ``device``: ``"cuda"`` or ``"cpu"`` (the device type of the model; ``"cuda"`` without
    a GPU disables the scaler with a warning). ``init_scale``, ``growth_factor`` (> 1),
    ``backoff_factor`` (< 1), ``growth_interval``: the scale's start and how it moves.
    ``enabled=False`` makes every method a pass-through (``scale`` returns its input,
    ``step`` just steps), so one loop serves both precisions.

    >>> import gdl
    >>> w = gdl.nn.Parameter(gdl.ones(2))
    >>> opt = gdl.optim.SGD([w], lr=0.5)
    >>> scaler = gdl.amp.GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w * 3.0).sum()).backward()
    >>> float(w.grad[0])                      # scaled: 3 × 1024
    3072.0
    >>> scaler.step(opt); scaler.update()     # unscales to 3.0, steps, keeps the scale
    >>> w.tolist(), scaler.get_scale()
    ([-0.5, -0.5], 1024.0)
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        from gdl.backends import device as _device

        self._device = _device(device).type
        self._enabled = bool(enabled)
        if self._device == "cuda" and self._enabled:
            from gdl.amp.autocast_mode import _cuda_available

            if not _cuda_available():
                warnings.warn("gdl.amp.GradScaler is enabled, but CUDA is not available (no CuPy or no GPU). "
                              "Disabling.", stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got {backoff_factor}")
            self._init_scale = init_scale
            self._scale: float | None = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: int | None = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # -- the scale -------------------------------------------------------------------------------------------
    def _check_scale_growth_tracker(self, funcname: str) -> tuple:
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self) -> None:
        self._scale = _f32(float(self._init_scale))
        self._growth_tracker = int(self._init_growth_tracker)

    def _times_scale(self, t: Tensor) -> Tensor:
        if self._scale is None:
            self._lazy_init_scale_growth_tracker()
        if t.ndim == 0 and t.dtype == dtypes.float16:
            t = t.astype(dtypes.float32)  # PyTorch: a 0-d half loss × the 0-d float scale is float32
        return t * self._scale

    def scale(self, outputs):
        """``outputs × scale``: a tensor, or tensors in (nested) lists and tuples (kept as such;
        another iterable gives an iterator). Call ``backward()`` on the result."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return self._times_scale(outputs)

        def apply_scale(val):
            if isinstance(val, Tensor):
                return self._times_scale(val)
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                if isinstance(val, (list, tuple)):
                    return type(val)(iterable)
                return iterable
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    # -- unscaling and the inf/NaN check ------------------------------------------------------------------------
    def _unscale_grads_(self, optimizer, inv_scale: float, allow_fp16: bool) -> dict:
        """Multiply every gradient by ``inv_scale`` (1.0: leave them) and return
        ``{device name: 0-d float32 Tensor, 1.0 where some gradient was inf/NaN}``."""
        found = {}  # backend -> (0-d bool array or None)
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if not isinstance(param, Tensor):
                        raise TypeError(f"GradScaler: expected the optimizer's params to be Tensors, got "
                                        f"{type(param).__name__}")
                    g = param.grad
                    if g is None:
                        continue
                    sparse = isinstance(g, RowSparseGrad)
                    if not allow_fp16 and dtypes.float16 == g.dtype:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if sparse and dtypes.float16 == g.dtype:
                        g = param.grad = g.coalesce()  # float16 duplicates could overflow when summed
                    be = param._backend
                    xp = be.xp
                    arr = g.values if sparse else g.data
                    bad = xp.any(xp.logical_not(xp.isfinite(arr)))
                    prev = found.get(be)
                    found[be] = bad if prev is None else xp.logical_or(prev, bad)
                    if inv_scale != 1.0:
                        if sparse:
                            param.grad = g.scaled(inv_scale)
                        else:
                            g.data = arr * inv_scale
        return {be.name: Tensor._wrap(be.xp.astype(bad, be.xp.float32), be) for be, bad in found.items()}

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (once per step, before
        ``step``), e.g. to clip the true gradients; ``step`` then does not unscale again."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _f32(1.0 / self._scale)  # in double, then float32, as PyTorch
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        optimizer_state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        retval = None
        if not sum(v.item() for v in optimizer_state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        return retval

    def step(self, optimizer, *args, **kwargs):
        """Unscale the gradients (unless ``unscale_`` did) and run ``optimizer.step(*args,
        **kwargs)``, unless a gradient is inf or NaN: then the step is skipped. Returns
        what ``optimizer.step`` returned, or None."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """End the iteration: set the scale to ``new_scale`` (a number or a 1-element tensor)
        if given, else back it off after any inf/NaN this iteration, or grow it after
        ``growth_interval`` clean iterations in a row."""
        if not self._enabled:
            return
        _scale, _growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            reason = "new_scale should be a float or a 1-element Tensor with requires_grad=False."
            if isinstance(new_scale, Tensor):
                if new_scale.size != 1 or new_scale.requires_grad:
                    raise ValueError(reason)
                new_scale = new_scale.item()
            elif isinstance(new_scale, bool) or not isinstance(new_scale, (int, float)):
                raise TypeError(reason)
            self._scale = _f32(float(new_scale))
        else:
            found_infs = [found_inf.item() for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            # PyTorch's _amp_update_scale_ (float32 scale, int32 tracker)
            if sum(found_infs):
                self._scale = _f32(_scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = _growth_tracker + 1
                if successful == self._growth_interval:
                    new = _f32(_scale * self._growth_factor)
                    if math.isfinite(new):
                        self._scale = new
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # -- queries and settings ------------------------------------------------------------------------------------
    def _get_scale_async(self):
        return self._scale

    def get_scale(self) -> float:
        """The current scale (``init_scale`` before the first ``scale()``; 1.0 when disabled)."""
        if self._enabled:
            return float(self._init_scale) if self._scale is None else self._scale
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker
        return 0

    def is_enabled(self) -> bool:
        return self._enabled

    def _found_inf_per_device(self, optimizer) -> dict:
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    # -- checkpoints ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker'}``
        (PyTorch's keys; ``{}`` when disabled). Numbers only: ``gdl.save`` stores it."""
        if self._enabled:
            return {
                "scale": self.get_scale(),
                "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker(),
            }
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = _f32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise RuntimeError("A GradScaler instance may only be pickled at the beginning "
                                   "of an iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
