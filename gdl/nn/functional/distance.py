"""Distances and encodings: normalize, cosine_similarity, pairwise_distance, one_hot."""

from __future__ import annotations

__all__: list = []
