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


def _mismatch(named, key):
    """The first of the ``(name, tensor)`` pairs (None tensors skipped) and the first later
    one whose ``key(tensor)`` differs from it, or None when all agree."""
    present = [(name, t) for name, t in named if t is not None]
    for pair in present[1:]:
        if key(pair[1]) != key(present[0][1]):
            return present[0], pair
    return None


def _same_backend(op: str, *named) -> None:
    """All the tensors among ``(name, tensor)`` pairs on one backend (None entries skipped)."""
    bad = _mismatch(named, lambda t: id(t._backend))
    if bad:
        (first, a), (name, b) = bad
        raise ValueError(
            f"{op}: {first} is on backend {a.backend!r} but {name} is on {b.backend!r}; "
            f"move one first, e.g. {name}.to({a.backend!r})"
        )


def _same_dtype(op: str, *named) -> None:
    """All the tensors among ``(name, tensor)`` pairs of one dtype (None entries skipped)."""
    bad = _mismatch(named, lambda t: t.dtype)
    if bad:
        (first, a), (name, b) = bad
        raise TypeError(
            f"{op}: {first} is {a.dtype.name} but {name} is {b.dtype.name}; "
            f"convert one first, e.g. {name}.to({a.dtype.name!r})"
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
