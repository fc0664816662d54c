"""Transformer encoder and decoder layers and stacks, as PyTorch's nn.Transformer* classes."""

from __future__ import annotations

__all__: list = []
