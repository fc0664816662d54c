"""Activation checkpointing: trade compute for memory, as ``torch.utils.checkpoint``.

``checkpoint(fn, *args)`` runs ``fn`` and keeps only its inputs and outputs: the
activations inside ``fn`` are dropped after the forward pass and computed again,
from the saved inputs, when the backward pass reaches them. A deep network split
into ``k`` checkpointed segments keeps about one segment's activations at a time.

>>> import gdl
>>> from gdl import nn
>>> from gdl.utils.checkpoint import checkpoint
>>> block = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))
>>> x = gdl.randn(2, 4, requires_grad=True)
>>> y = checkpoint(block, x, use_reentrant=False)
>>> y.sum().backward()                       # block runs a second time, here
>>> x.grad.shape, block[0].weight.grad.shape
((2, 4), (8, 4))

How it works on gdl's engine: the forward runs ``fn`` once, recording as usual, to
learn which outputs need a gradient; that graph is then dropped and the outputs are
cut from it. One node stands for the whole call. Its backward restores the random
number generators to their state at the forward (so dropout draws the same masks),
runs ``fn`` again on detached copies of the inputs, and back-propagates the output
gradients through that fresh graph: parameters used inside ``fn`` receive their
``.grad`` there, and the inputs' gradients go on through the node.

Tensors may be passed positionally, by keyword, or inside lists, tuples and dicts:
each one is an input of the node. Under :func:`gdl.autograd.grad` (or
``backward(inputs=...)``) the recomputation's backward captures gradients as the
outer pass does: a parameter inside the function gets no ``.grad``, and one asked
for gets its gradient returned, as with PyTorch's non-reentrant variant.
``use_reentrant`` is accepted for PyTorch's sake; both values behave as described.
"""

from __future__ import annotations

from gdl.autograd import Function, FunctionCtx, _record
from gdl.backends import get_backend_object
from gdl.tensor import Tensor, backprop, current_capture, enable_grad, is_grad_enabled

__all__ = ["checkpoint", "checkpoint_sequential"]


class CheckpointFunction(Function):
    """The node of one checkpointed call (made by :func:`checkpoint`; its forward ran there)."""

    @staticmethod
    def backward(ctx, *grads):
        inputs = [t.detach().requires_grad_(t.requires_grad) for t in ctx.tensors]
        copies = {id(t): c for t, c in zip(ctx.tensors, inputs)}
        args, kwargs = _map_tensors(lambda t: copies[id(t)], (ctx.args, ctx.kwargs))
        now = [(be, be.fork_rng()) for be, _ in ctx.rng_states]
        for be, state in ctx.rng_states:
            be.restore_rng(state)
        try:
            with enable_grad():
                out = ctx.function(*args, **kwargs)
        finally:
            for be, state in now:
                be.restore_rng(state)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [
            (o, g.data)
            for o, g in zip(outs, grads)
            if isinstance(o, Tensor) and o.requires_grad and g is not None
        ]
        outer = current_capture()
        if outer is None:  # loss.backward(): parameters inside accumulate .grad here
            if pairs:
                backprop(pairs)
            return tuple(c.grad if c.requires_grad else None for c in inputs)
        # gdl.autograd.grad: capture the inputs' gradients, and hand the outer pass those of
        # the tensors it asked for; nothing accumulates into .grad
        inner = dict.fromkeys(outer)
        inner.update((id(c), None) for c in inputs if c.requires_grad)
        if pairs:
            backprop(pairs, capture=inner)
        mine = {id(c) for c in inputs}
        for key, g in inner.items():
            if key in outer and key not in mine and g is not None:
                outer[key] = g if outer[key] is None else outer[key] + g
        return tuple(_wrap_grad(inner.get(id(c)), c) for c in inputs)


def _wrap_grad(g, like):
    return None if g is None else Tensor._wrap(g, like._backend)


def _map_tensors(fn, tree):
    """``tree`` (nested tuples, lists and dicts) with each Tensor ``t`` replaced by ``fn(t)``."""
    if isinstance(tree, Tensor):
        return fn(tree)
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_tensors(fn, v) for v in tree)
    if isinstance(tree, dict):
        return {k: _map_tensors(fn, v) for k, v in tree.items()}
    return tree


def _tensors_in(tree) -> list:
    """The distinct Tensors in ``tree`` (nested tuples, lists and dicts), in order."""
    found = {}
    _map_tensors(lambda t: found.setdefault(id(t), t), tree)
    return list(found.values())


def checkpoint(function, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, with its inner activations recomputed in backward
    instead of stored (see the module doc). Tensor outputs (one, or a tuple) get the
    gradient; with gradients off (``gdl.no_grad``) this is simply the call.

    ``preserve_rng_state``: replay the random numbers (dropout masks) of the first run
    in the recomputation; PyTorch's default, needed for correct gradients with dropout.
    """
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint: use_reentrant must be a bool, got {use_reentrant!r}")
    if not callable(function):
        raise TypeError(f"checkpoint: expected a callable (a module or a function), got {type(function).__name__}")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    tensors = _tensors_in((args, kwargs))
    rng_states = []
    if preserve_rng_state:
        backends = {id(get_backend_object()): get_backend_object()}
        backends.update({id(t._backend): t._backend for t in tensors})
        rng_states = [(be, be.fork_rng()) for be in backends.values()]
    out = function(*args, **kwargs)
    is_tuple = isinstance(out, tuple)
    outs = out if is_tuple else (out,)
    if not is_tuple and not isinstance(out, Tensor):
        raise TypeError(f"checkpoint: the function returned a {type(out).__name__}; expected a Tensor or a tuple")
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        return out  # nothing to differentiate: no node, and nothing kept
    ctx = FunctionCtx()
    ctx.function, ctx.args, ctx.kwargs, ctx.rng_states = function, args, kwargs, rng_states
    ctx.tensors = tensors  # the node's inputs: every tensor passed, however nested
    ctx.needs_input_grad = tuple(t.requires_grad for t in tensors)
    kept = tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)  # the graph inside is dropped
    for o, k in zip(outs, kept):
        if isinstance(o, Tensor) and not o.requires_grad:
            ctx.mark_non_differentiable(k)
    return _record(CheckpointFunction, ctx, tuple(tensors), kept, is_tuple)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules/functions) one after
    another on ``input``, in ``segments`` checkpointed pieces; the last piece runs
    normally, as in PyTorch (its activations are needed at once by backward)."""
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")
    if not functions:
        raise ValueError("checkpoint_sequential: no functions to run")
    size = -(-len(functions) // segments)  # ceil, so that there are at most ``segments`` pieces
    pieces = [functions[i : i + size] for i in range(0, len(functions), size)]

    def run(piece):
        def forward(x):
            for f in piece:
                x = f(x)
            return x

        return forward

    for piece in pieces[:-1]:
        input = checkpoint(run(piece), input, use_reentrant=use_reentrant, **kwargs)
    return run(pieces[-1])(input)
