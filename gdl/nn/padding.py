"""Padding layers (constant, zero, reflection, replication)."""

from __future__ import annotations

__all__: list = []
