"""``pad``: constant, reflect, replicate and circular padding, forward and backward together."""

from __future__ import annotations

__all__: list = []
