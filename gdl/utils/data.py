"""``torch.utils.data``'s name for :mod:`gdl.data`: ``from gdl.utils.data import DataLoader``
works as ``from torch.utils.data import DataLoader`` does."""

from gdl.data import *  # noqa: F403
from gdl.data import __all__  # noqa: F401
