"""Elementwise math beyond arithmetic: trigonometry, rounding, logs and exponentials, tests for NaN/inf, logical ops, and comparisons with tolerance."""

from __future__ import annotations

__all__: list = []

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {}
