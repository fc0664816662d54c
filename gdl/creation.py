"""PyTorch-style creation helpers on top of :mod:`gdl.tensor`'s ``tensor``, ``randn``, ...

>>> import gdl, numpy as np
>>> gdl.from_numpy(np.zeros((2, 3))).dtype
gdl.float64
"""

from __future__ import annotations

from gdl import dtypes
from gdl.backends import host
from gdl.tensor import Tensor, full, rand, randn, tensor


def from_numpy(array) -> Tensor:
    """A tensor on the current backend holding a copy of the NumPy ``array``, dtype kept.

    Unlike ``torch.from_numpy`` the memory is never shared (every backend copies on the
    way in, NumPy included): writing to one afterwards does not change the other.
    """
    if not host.is_host_array(array):
        raise TypeError(
            f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}; use gdl.tensor(...) for other data"
        )
    return tensor(array)


def _float_like(op, t, dtype):
    dtype = t.dtype if dtype is None else dtypes.as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"{op}: needs a floating-point dtype, got {dtype.name}; pass e.g. dtype=gdl.float32")
    return dtype


def randn_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``t``'s shape, dtype and backend."""
    return randn(*t.shape, dtype=_float_like("randn_like", t, dtype), requires_grad=requires_grad, backend=t._backend)


def rand_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) with ``t``'s shape, dtype and backend."""
    return rand(*t.shape, dtype=_float_like("rand_like", t, dtype), requires_grad=requires_grad, backend=t._backend)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``t``'s shape, dtype (unless ``dtype``) and backend."""
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad,
                backend=t._backend)
