"""Gathering and scattering along an axis, index selection and nonzero, forward and backward together."""

from __future__ import annotations

__all__: list = []

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {}
