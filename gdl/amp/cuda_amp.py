"""``gdl.cuda.amp``: PyTorch's older ``torch.cuda.amp`` spellings, for loops written with them.

``gdl.cuda.amp.autocast(...)`` is ``gdl.autocast("cuda", ...)`` and
``gdl.cuda.amp.GradScaler(...)`` is ``gdl.amp.GradScaler("cuda", ...)``; both warn
with a FutureWarning, as PyTorch's do (they are deprecated there). Without a GPU both
disable themselves with a warning, as ``device_type="cuda"`` does.
"""

from __future__ import annotations

import sys
import warnings

from gdl.amp import autocast_mode
from gdl.amp.autocast_mode import custom_bwd as _custom_bwd
from gdl.amp.autocast_mode import custom_fwd as _custom_fwd
from gdl.amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


class autocast(autocast_mode.autocast):
    """``gdl.autocast("cuda", dtype, enabled, cache_enabled)`` under PyTorch's old name."""

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn("`gdl.cuda.amp.autocast(args...)` is deprecated. Please use `gdl.amp.autocast('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``gdl.amp.GradScaler("cuda", ...)`` under PyTorch's old name."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`gdl.cuda.amp.GradScaler(args...)` is deprecated. Please use `gdl.amp.GradScaler('cuda', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``gdl.amp.custom_fwd(device_type="cuda", ...)`` under PyTorch's old name."""
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``gdl.amp.custom_bwd(device_type="cuda")`` under PyTorch's old name."""
    return _custom_bwd(bwd, device_type="cuda")


# ``import gdl.cuda.amp`` and ``from gdl.cuda.amp import GradScaler`` work, though gdl.cuda is a module
sys.modules.setdefault("gdl.cuda.amp", sys.modules[__name__])
