"""Attention layers: MultiheadAttention."""

from __future__ import annotations

__all__: list = []
