"""Functional normalization beyond batch and layer norm: group, instance and RMS norm, forward and backward together."""

from __future__ import annotations

__all__: list = []
