"""Utilities under PyTorch's ``torch.utils`` names: :mod:`gdl.utils.checkpoint`
(activation checkpointing) and :mod:`gdl.utils.data` (``gdl.data`` under the name
``torch.utils.data`` users import)."""

from gdl.utils import checkpoint, data  # noqa: F401
