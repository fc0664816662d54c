"""The random generators' state, as ``torch.random``: seed them, snapshot one and put the
snapshot back, or run a block that leaves them as they were.

A snapshot holds the generator's exact position (on CuPy, a device copy of its cuRAND
states), so restoring it replays the same numbers. It lives in memory; to keep the state
across runs, save it with :func:`gdl.save_checkpoint`.

>>> import gdl
>>> gdl.manual_seed(0)
>>> state = gdl.get_rng_state()
>>> a = gdl.rand(3)
>>> gdl.set_rng_state(state)
>>> bool((gdl.rand(3) == a).all())
True
>>> with gdl.random.fork_rng():
...     _ = gdl.rand(5)              # draws inside do not move the outer stream
>>> bool((gdl.rand(3) != a).all())
True
"""

from __future__ import annotations

import contextlib

from gdl.backends import created_backends, get_backend_object, initial_seed, manual_seed, seed


class RngState:
    """A snapshot of one backend's generator (from :func:`get_rng_state`)."""

    __slots__ = ("backend", "_snapshot")

    def __init__(self, backend: str, snapshot):
        self.backend = backend
        self._snapshot = snapshot

    def __repr__(self) -> str:
        return f"RngState(backend={self.backend!r})"


def get_rng_state(backend=None) -> RngState:
    """A snapshot of ``backend``'s random generator (default: the current backend)."""
    be = get_backend_object(backend)
    return RngState(be.name, be.fork_rng())


def set_rng_state(new_state: RngState) -> None:
    """Put a snapshot from :func:`get_rng_state` back into its backend's generator."""
    if not isinstance(new_state, RngState):
        raise TypeError(
            f"set_rng_state: expected the state that gdl.get_rng_state() returns, got {type(new_state).__name__}"
        )
    get_backend_object(new_state.backend).restore_rng(new_state._snapshot)


@contextlib.contextmanager
def fork_rng(enabled: bool = True):
    """Run a block with the generators of every backend made so far put back afterwards
    (as ``torch.random.fork_rng``); ``enabled=False`` does nothing."""
    if not enabled:
        yield
        return
    get_backend_object()
    saved = [get_rng_state(name) for name in created_backends()]
    try:
        yield
    finally:
        for state in saved:
            set_rng_state(state)


__all__ = ["RngState", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]
