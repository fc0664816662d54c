"""Adaptive average and max pooling, forward and backward together."""

from __future__ import annotations

__all__: list = []
