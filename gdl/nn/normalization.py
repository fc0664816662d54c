"""Normalization layers beyond batch and layer norm (group, instance, RMS)."""

from __future__ import annotations

__all__: list = []
