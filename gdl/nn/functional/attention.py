"""Scaled dot-product attention and multi-head attention forward, as torch.nn.functional."""

from __future__ import annotations

__all__: list = []
