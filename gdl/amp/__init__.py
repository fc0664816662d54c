"""``gdl.amp``: automatic mixed precision, as ``torch.amp``.

:class:`autocast` (also ``gdl.autocast``) runs the matrix products and convolutions in
float16 and the reductions, normalisations and losses in float32 inside a region;
:class:`GradScaler` scales the loss so that float16 gradients do not underflow, and
skips the optimizer steps whose gradients overflowed. ``gdl.cuda.amp`` has PyTorch's
older spellings (``gdl.cuda.amp.autocast()``, ``gdl.cuda.amp.GradScaler()``).
See :mod:`gdl.amp.autocast_mode` and :mod:`gdl.amp.grad_scaler`.
"""

from gdl.amp.autocast_mode import (
    autocast,
    clear_autocast_cache,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
)
from gdl.amp.grad_scaler import GradScaler, OptState

__all__ = [
    "GradScaler", "OptState", "autocast", "clear_autocast_cache", "custom_bwd", "custom_fwd", "get_autocast_dtype",
    "is_autocast_available", "is_autocast_cache_enabled", "is_autocast_enabled", "set_autocast_cache_enabled",
]
