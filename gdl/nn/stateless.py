"""``torch.nn.utils.stateless``: :func:`functional_call` (the same as ``gdl.func.functional_call``,
PyTorch's older home for it)."""

from __future__ import annotations

from gdl.func import functional_call

__all__ = ["functional_call"]
