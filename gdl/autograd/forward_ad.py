"""Forward-mode AD with dual tensors, as ``torch.autograd.forward_ad``, on gdl's reverse mode.

Inside a :class:`dual_level`, :func:`make_dual` returns a tensor that carries a tangent;
ops on it record the ordinary graph, and :func:`unpack_dual` gives any tensor's primal
and tangent: the exact Jacobian-vector product of that tensor with respect to every dual
input of the level, each with its tangent (two reverse passes, the double-vjp trick of
:mod:`gdl.func`; no dual numbers are propagated, so the cost is paid at each
``unpack_dual``, not during the ops).

>>> import gdl
>>> import gdl.autograd.forward_ad as fwAD
>>> with fwAD.dual_level():
...     x = fwAD.make_dual(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 0.0]))
...     fwAD.unpack_dual(x ** 2).tangent
tensor([2., 0.], backend='numpy')

Differences from PyTorch: a dual tensor requires grad (the graph is how tangents are
found), also after its level exits; one level at a time, as PyTorch; a tangent of another
floating dtype is cast to the primal's.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple

from gdl.tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels: list = []  # the active level's list of (dual tensor, tangent) pairs; empty: no level


def enter_dual_level() -> int:
    """Start a forward AD level (only one at a time); returns its index, 0."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append([])
    return 0


def exit_dual_level(*, level=None) -> None:
    """End the current level: its dual tensors lose their tangents."""
    current = len(_levels) - 1
    level = current if level is None else level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _levels.pop()


class dual_level(contextlib.ContextDecorator):
    """Context manager (and decorator) for a forward AD level: ``with dual_level(): ...``."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _pairs(level, what):
    if level is None:
        level = len(_levels) - 1
    if level < 0 and what == "_make_dual":
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if level != len(_levels) - 1:
        raise RuntimeError(f"Invalid level given to {what}")
    return _levels[level]


def make_dual(tensor, tangent, *, level=None):
    """A tensor with ``tensor``'s value and ``tangent`` as its tangent in the current level
    (connected to ``tensor`` when that requires grad, so reverse mode reaches it)."""
    pairs = _pairs(level, "_make_dual")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): {what} must be a Tensor, not {type(t).__name__}")
        if not t.dtype.is_floating_point:
            raise ValueError(f"Expected {what} to be floating point or complex, but got: {t.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tensor.requires_grad and not _reaches(tensor, {id(d) for d, _ in pairs}):
        dual = tensor + 0.0
    else:  # a tensor that already depends on a dual gets a fresh tangent (it replaces the old one)
        dual = tensor.detach().requires_grad_(True)
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(dtype=tensor.dtype)
    pairs.append((dual, tangent))
    return dual


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)`` of ``tensor``: the tangent is the Jacobian of
    ``tensor`` with respect to the level's dual inputs times their tangents (``None`` when
    it depends on none of them, or outside a level); the primal is detached unless it
    still needs gradients for an outer reverse pass."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): argument 'dual' must be Tensor, not {type(tensor).__name__}")
    if level is None and not _levels:
        return UnpackedDualTensor(tensor, None)
    pairs = _pairs(level, "_fw_primal")
    duals = {id(d): (d, t) for d, t in pairs}
    if id(tensor) in duals:
        return UnpackedDualTensor(_primal(tensor, False), duals[id(tensor)][1])
    if not tensor.requires_grad or not _reaches(tensor, set(duals)):
        return UnpackedDualTensor(tensor, None)
    outer = _reaches(tensor, set(duals), outer=True)
    return UnpackedDualTensor(_primal(tensor, outer), _tangent(tensor, pairs, outer))


def _primal(tensor, outer):
    return tensor if outer else tensor.detach()


def _tangent(tensor, pairs, outer):
    from gdl.func import _Pushforward  # gdl.func imports gdl.autograd

    create = outer or any(t.requires_grad for _, t in pairs)
    (found,) = _Pushforward([tensor], [d for d, _ in pairs])([t for _, t in pairs], create_graph=create)
    return found


def _reaches(tensor, dual_ids, outer=False):
    """Whether ``tensor``'s graph reaches one of the duals (``outer``: a leaf that requires grad
    and is not one of them, or a dual connected to such a leaf)."""
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t) in dual_ids and not outer:
            return True
        if t.grad_fn is None:
            if outer and t.requires_grad and id(t) not in dual_ids:
                return True
            continue
        stack.extend(i for i in t.grad_fn.inputs if isinstance(i, Tensor) and i.requires_grad)
    return False
