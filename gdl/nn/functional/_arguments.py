"""Argument checks and conversions shared by several functional layers (bilinear,
embedding_bag, ctc_loss, gumbel_softmax, local_response_norm, affine_grid/grid_sample,
max_unpool1d/2d, lp_pool1d/2d); their errors name the op and the argument."""

from __future__ import annotations

import math
import numbers

from gdl.tensor import Tensor


def _check_tensor(op: str, name: str, x, floating: bool = True) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    if floating and not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point {name}, got {x.dtype.name}")


def _same_backend(op: str, *named) -> None:
    """All the tensors among ``(name, tensor)`` pairs on one backend (None entries skipped)."""
    first = None
    for name, t in named:
        if t is None:
            continue
        if first is None:
            first = (name, t)
        elif t._backend is not first[1]._backend:
            raise ValueError(
                f"{op}: {first[0]} is on backend {first[1].backend!r} but {name} is on {t.backend!r}; "
                f"move one first, e.g. {name}.to({first[1].backend!r})"
            )


def _same_dtype(op: str, *named) -> None:
    first = None
    for name, t in named:
        if t is None:
            continue
        if first is None:
            first = (name, t)
        elif t.dtype != first[1].dtype:
            raise TypeError(
                f"{op}: {first[0]} is {first[1].dtype.name} but {name} is {t.dtype.name}; "
                f"convert one first, e.g. {name}.to({first[1].dtype.name!r})"
            )


def _index_array(op: str, name: str, value, be):
    """``value`` (a Tensor, a backend array, an int, nested lists of ints, a NumPy array)
    as an int64 array of backend ``be``."""
    xp = be.xp
    if isinstance(value, Tensor):
        if value._backend is not be:
            raise ValueError(
                f"{op}: {name} is on backend {value.backend!r}, the data on {be.name!r}; "
                f"move it first with {name}.to({be.name!r})"
            )
        arr = value.data
    elif be.is_array(value):
        arr = value
    else:
        from gdl.backends import host

        if isinstance(value, (list, tuple)) and len(value) == 0:
            arr = xp.zeros((0,), dtype=xp.int64, device=be.device)
        else:
            try:
                arr = be.from_host(host.as_index_array(value))
            except TypeError:
                raise TypeError(f"{op}: {name} must hold integers, got {value!r}") from None
    if not xp.isdtype(arr.dtype, "integral"):
        raise TypeError(f"{op}: {name} must hold integers, got dtype {arr.dtype}")
    return arr if arr.dtype == xp.int64 else xp.astype(arr, xp.int64)


def _host_ints(be, arr) -> list:
    """A small integer array as a list of Python ints (for checks and loop bounds)."""
    return [int(v) for v in be.to_host(arr).reshape(-1).tolist()]


def _real(op: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    return float(value)


def _zero(xp, dtype, be):
    return xp.zeros((), dtype=dtype, device=be.device)
