"""interpolate (nearest, linear, bilinear), pixel_shuffle, pixel_unshuffle, unfold and fold, forward and backward together."""

from __future__ import annotations

__all__: list = []
