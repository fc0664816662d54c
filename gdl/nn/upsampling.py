"""Upsampling and rearranging layers: Upsample, PixelShuffle, PixelUnshuffle, Unfold, Fold."""

from __future__ import annotations

__all__: list = []
