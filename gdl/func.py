"""Function transforms, as ``torch.func``, on gdl's first-order autograd:

- :func:`functional_call`: run a module with other parameters and buffers, given by name;
- :func:`grad` / :func:`grad_and_value`: a function that returns the gradient of a
  scalar function with respect to some of its arguments (tensors, or dicts, lists and
  tuples of tensors);
- :func:`vjp` and :func:`jacrev`: vector-Jacobian products and reverse-mode Jacobians.

The typical use: the gradient of a loss with respect to a dict of parameters, with
the module left untouched.

>>> import gdl
>>> from gdl.func import functional_call, grad
>>> model = gdl.nn.Linear(3, 1)
>>> params = {name: p.detach() for name, p in model.named_parameters()}
>>> x, y = gdl.ones(4, 3), gdl.zeros(4, 1)
>>> def loss(p):
...     return ((functional_call(model, p, (x,)) - y) ** 2).mean()
>>> grads = grad(loss)(params)
>>> sorted(grads), grads["weight"].shape
(['bias', 'weight'], (1, 3))

Transforms nest: inside a transform's function, another transform records its backward
(``create_graph``), so ``grad(grad(f))`` and :func:`hessian` work through the ops that
have second-order gradients (:mod:`gdl.higher_order`). There is no ``vmap``.

>>> from gdl.func import hessian
>>> hessian(lambda x: (x ** 3).sum())(gdl.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]], backend='numpy')
"""

from __future__ import annotations

import contextlib

from gdl import autograd
from gdl.functional import shape as _shape
from gdl.tensor import Tensor, enable_grad, zeros_like

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacrev", "vjp"]

_depth = [0]  # how many transforms are evaluating their function right now (nesting)


@contextlib.contextmanager
def _inside():
    """While a transform evaluates its function: transforms called there are nested."""
    _depth[0] += 1
    try:
        with enable_grad():
            yield
    finally:
        _depth[0] -= 1


# -- functional_call ------------------------------------------------------------------------


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in
    ``parameter_and_buffer_dicts`` (one dict, or a tuple/list of dicts with distinct keys)
    in place of the module's own, which are back when the call returns (or raises). Names
    are ``named_parameters()``/``named_buffers()`` names (``"0.weight"``, ``"fc.bias"``);
    with ``tie_weights`` a tensor shared under several names (tied weights) is replaced
    under all of them. ``strict=True`` requires every parameter and buffer to be given and
    no other name. A single tensor or non-tuple ``args`` is passed as the one argument.
    Gradients flow to the given tensors, not to the module's parameters.

    In-place changes the call makes to a buffer (BatchNorm's running statistics in
    training) go to the given tensor where the layer updates in place, else are lost.
    """
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    if not isinstance(dicts, (tuple, list)) or not all(isinstance(d, dict) for d in dicts):
        raise TypeError(
            f"functional_call: expected a dict or a tuple of dicts of tensors by name, got "
            f"{type(parameter_and_buffer_dicts).__name__}"
        )
    given = {}
    for d in dicts:
        repeated = sorted(set(d) & set(given))
        if repeated:
            raise ValueError(f"functional_call: {repeated} appeared in multiple dictionaries; the call is ambiguous")
        given.update(d)
    for name, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: the value for {name!r} must be a Tensor, got {type(value).__name__}")
    slots = _named_slots(module)
    if strict:
        missing = [n for n in slots if n not in given]
        unexpected = [n for n in given if n not in slots]
        if missing or unexpected:
            parts = ([f"Missing key(s): {', '.join(map(repr, missing))}."] if missing else []) + (
                [f"Unexpected key(s): {', '.join(map(repr, unexpected))}."] if unexpected else [])
            raise RuntimeError(f"functional_call: error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(parts))
    if tie_weights:
        by_tensor = {}
        for name, (owner, store, attr) in slots.items():
            by_tensor.setdefault(id(getattr(owner, store)[attr]), []).append(name)
        for names in by_tensor.values():
            chosen = [n for n in names if n in given]
            if len(chosen) > 1 and any(given[n] is not given[chosen[0]] for n in chosen):
                raise ValueError(f"functional_call: tied names {chosen} were given different tensors")
            if chosen:
                for n in names:
                    given.setdefault(n, given[chosen[0]])
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(slots, given):
        return module(*args, **(kwargs or {}))


def _named_slots(module):
    """``name -> (owning module, "_parameters" or "_buffers", attribute)`` for every
    parameter and buffer, tied ones under each of their names."""
    slots = {}
    for prefix, sub in _walk(module, ""):
        for store in ("_parameters", "_buffers"):
            for attr, value in getattr(sub, store).items():
                if value is not None:
                    slots[f"{prefix}.{attr}" if prefix else attr] = (sub, store, attr)
    return slots


def _walk(module, prefix):
    """Every submodule with its name, a shared one under each of its names."""
    yield prefix, module
    for name, child in module._modules.items():
        if child is not None:
            yield from _walk(child, f"{prefix}.{name}" if prefix else name)


@contextlib.contextmanager
def _swapped(slots, given):
    saved = []
    try:
        for name, value in given.items():
            if name not in slots:
                continue  # an unknown name is ignored unless strict (as torch.func)
            owner, store, attr = slots[name]
            table = getattr(owner, store)
            saved.append((owner, table, attr, table[attr]))
            table[attr] = value
            owner._mirror(attr, value)  # the module keeps a fast-lookup copy in its __dict__
        yield
    finally:
        for owner, table, attr, old in reversed(saved):
            table[attr] = old
            owner._mirror(attr, old)


# -- pytrees of tensors ---------------------------------------------------------------------


def _flatten(tree, what):
    """The tensors of a tensor / dict / list / tuple tree, and a function that rebuilds it."""
    if isinstance(tree, Tensor):
        return [tree], lambda leaves: leaves[0]
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k], what) for k in keys]
    elif isinstance(tree, (list, tuple)):
        keys = None
        parts = [_flatten(v, what) for v in tree]
    else:
        raise TypeError(f"{what}: expected tensors, or dicts, lists or tuples of tensors, got {type(tree).__name__}")
    sizes = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves):
        out, start = [], 0
        for (_, build), size in zip(parts, sizes):
            out.append(build(leaves[start:start + size]))
            start += size
        if keys is not None:
            return dict(zip(keys, out))
        if isinstance(tree, tuple):
            return type(tree)(*out) if hasattr(tree, "_fields") else tuple(out)  # a namedtuple keeps its type
        return out

    return [leaf for leaves, _ in parts for leaf in leaves], rebuild


def _fresh_leaves(tree, what, nested=False):
    """The tree with each tensor replaced by one to differentiate with respect to: a detached
    copy that requires grad, or, inside another transform (``nested``), the tensor through an
    identity op, so the outer transform's graph still reaches it."""
    leaves, rebuild = _flatten(tree, what)
    for leaf in leaves:
        if not leaf.dtype.is_floating_point:
            raise TypeError(f"{what}: can only differentiate with respect to floating-point tensors, got {leaf.dtype.name}")
    fresh = [leaf + 0.0 if nested and leaf.requires_grad else leaf.detach().requires_grad_(True) for leaf in leaves]
    return fresh, rebuild(fresh), rebuild


# -- grad and grad_and_value ------------------------------------------------------------------


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function that returns ``(gradients, value)`` of ``func``: the gradients of its
    scalar output with respect to the argument(s) ``argnums`` (an int or a tuple of ints;
    each argument a tensor or a dict/list/tuple of tensors, and the gradients have the same
    structure). With ``has_aux``, ``func`` returns ``(output, aux)`` and the result is
    ``(gradients, (value, aux))``. Values come back detached.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums or not all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
        raise TypeError(f"grad: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")

    def wrapper(*args, **kwargs):
        for n in nums:
            if not -len(args) <= n < len(args):
                raise ValueError(f"grad: argnums {n} is out of range for a function called with {len(args)} "
                                 f"positional argument(s)")
        nested = _depth[0] > 0
        args = list(args)
        leaves, rebuilds = [], []
        for n in nums:
            fresh, tree, rebuild = _fresh_leaves(args[n], "grad", nested)
            args[n] = tree
            leaves.append(fresh)
            rebuilds.append(rebuild)
        with _inside():
            out = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("grad: with has_aux=True the function must return a tuple (output, aux)")
            out, aux = out
        if not isinstance(out, Tensor) or out.size != 1:
            shape = out.shape if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"grad: the function must return a tensor with a single element, got {shape}")
        flat = [leaf for group in leaves for leaf in group]
        found = (autograd.grad(out, flat, allow_unused=True, create_graph=nested) if out.requires_grad
                 else [None] * len(flat))
        found = [g if g is not None else _zeros_like(leaf) for g, leaf in zip(found, flat)]
        grads, start = [], 0
        for group, rebuild in zip(leaves, rebuilds):
            grads.append(rebuild(found[start:start + len(group)]))
            start += len(group)
        grads = grads[0] if single else tuple(grads)
        value = out if nested else out.detach()
        return (grads, (value, aux)) if has_aux else (grads, value)

    return wrapper


def _zeros_like(t):
    return zeros_like(t.detach())


def grad(func, argnums=0, has_aux: bool = False):
    """A function that returns the gradients of ``func``'s scalar output with respect to its
    argument(s) ``argnums`` (see :func:`grad_and_value`); with ``has_aux``, ``(gradients, aux)``.

    >>> import gdl
    >>> from gdl.func import grad
    >>> grad(lambda x: (x ** 3).sum())(gdl.tensor([1.0, 2.0]))
    tensor([ 3., 12.], backend='numpy')
    """
    inner = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


# -- vjp and jacrev ------------------------------------------------------------------------------


def vjp(func, *primals, has_aux: bool = False):
    """``(output, vjp_fn)``: ``func(*primals)`` and a function that maps a cotangent ``v``
    (the output's shape) to ``vᵀJ``, one gradient per primal (a tuple). ``vjp_fn`` may be
    called many times. With ``has_aux``: ``(output, vjp_fn, aux)``.

    >>> import gdl
    >>> from gdl.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x * x, gdl.tensor([1.0, 2.0]))
    >>> vjp_fn(gdl.ones(2))
    (tensor([2., 4.], backend='numpy'),)
    """
    nested = _depth[0] > 0
    fresh = [_fresh_leaves(p, "vjp", nested) for p in primals]
    with _inside():
        out = func(*(tree for _, tree, _ in fresh))
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("vjp: with has_aux=True the function must return a tuple (output, aux)")
        out, aux = out
    outs, _ = _flatten(out, "vjp")
    flat = [leaf for leaves, _, _ in fresh for leaf in leaves]

    def vjp_fn(cotangents):
        vs, _ = _flatten(cotangents, "vjp")
        if len(vs) != len(outs) or any(v.shape != o.shape for v, o in zip(vs, outs)):
            raise ValueError(f"vjp: the cotangents must have the output's structure and shapes "
                             f"{[o.shape for o in outs]}, got {[v.shape for v in vs]}")
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        found = (autograd.grad([o for o, _ in pairs], flat, [v for _, v in pairs], retain_graph=True,
                               allow_unused=True, create_graph=nested) if pairs else [None] * len(flat))
        found = [g if g is not None else _zeros_like(leaf) for g, leaf in zip(found, flat)]
        result, start = [], 0
        for leaves, _, rebuild in fresh:
            result.append(rebuild(found[start:start + len(leaves)]))
            start += len(leaves)
        return tuple(result)

    detached = out if nested else _flatten(out, "vjp")[1]([o.detach() for o in outs])
    return (detached, vjp_fn, aux) if has_aux else (detached, vjp_fn)


def jacrev(func, argnums=0):
    """A function that returns the Jacobian of ``func`` (one tensor output) with respect to
    the tensor argument(s) ``argnums``, of shape ``output.shape + input.shape``, built
    row by row from vector-Jacobian products (one backward per output element).

    >>> import gdl
    >>> from gdl.func import jacrev
    >>> jacrev(lambda x: x ** 2)(gdl.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]], backend='numpy')
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def wrapper(*args):
        for n in nums:
            if not isinstance(args[n], Tensor):
                raise TypeError(f"jacrev: argument {n} must be a Tensor, got {type(args[n]).__name__}")

        def picked(*chosen):
            full = list(args)
            for n, value in zip(nums, chosen):
                full[n] = value
            return func(*full)

        out, vjp_fn = vjp(picked, *(args[n] for n in nums))
        if not isinstance(out, Tensor):
            raise TypeError("jacrev: the function must return one tensor")
        rows = [[] for _ in nums]
        count = out.size
        for k in range(count):
            basis = _one_hot(out, k)
            for i, g in enumerate(vjp_fn(basis)):
                rows[i].append(g)
        jacobians = tuple(
            _shape.reshape(_shape.stack(r, axis=0), tuple(out.shape) + tuple(args[n].shape)) if count else
            _zeros_like(args[n]).reshape(tuple(out.shape) + tuple(args[n].shape))
            for r, n in zip(rows, nums)
        )
        return jacobians[0] if single else jacobians

    return wrapper


def _one_hot(t, k):
    be = t._backend
    xp = be.xp
    flat = xp.zeros((t.size,), dtype=t.data.dtype, device=be.device)
    hot = xp.arange(t.size, device=be.device) == k
    flat = xp.where(hot, xp.ones_like(flat), flat)
    return Tensor._wrap(xp.reshape(flat, t.shape), be)


def hessian(func, argnums=0):
    """A function that returns the Hessian of ``func`` (a one-element tensor output) with
    respect to argument ``argnums``, of shape ``input.shape + input.shape``: ``jacrev`` of
    ``jacrev``, the inner one recording its backward (second-order gradients)."""
    return jacrev(jacrev(func, argnums), argnums)
