"""Function transforms, as ``torch.func``, on gdl's first-order autograd:

- :func:`functional_call`: run a module with other parameters and buffers, given by name;
- :func:`grad` / :func:`grad_and_value`: a function that returns the gradient of a
  scalar function with respect to some of its arguments (tensors, or dicts, lists and
  tuples of tensors);
- :func:`vjp` and :func:`jacrev`: vector-Jacobian products and reverse-mode Jacobians;
- :func:`jvp`, :func:`linearize` and :func:`jacfwd`: Jacobian-vector products and
  forward-mode Jacobians, computed exactly by the double-vjp trick (no dual numbers);
- :func:`vmap`: map a function over a dimension of its inputs (a Python loop: torch's
  results, not its speed); :func:`stack_module_state`: stack the weights of an ensemble.

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
have second-order gradients (:mod:`gdl.higher_order`), and so do ``vmap(grad(f))``
(per-sample gradients) and ``jacfwd(jacrev(f))``.

>>> from gdl.func import hessian
>>> hessian(lambda x: (x ** 3).sum())(gdl.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]], backend='numpy')
"""

from __future__ import annotations

import contextlib

from gdl import autograd
from gdl.backends import created_backends
from gdl.functional import shape as _shape
from gdl.random import get_rng_state, set_rng_state
from gdl.tensor import Tensor, enable_grad, no_grad, zeros_like

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize",
           "stack_module_state", "vjp", "vmap"]

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


def _tree(tree):
    """The leaves of a dict / list / tuple tree (anything else is a leaf) and a function that
    rebuilds the tree from new leaves."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_tree(tree[k]) for k in keys]
    elif isinstance(tree, (list, tuple)):
        keys = None
        parts = [_tree(v) for v in tree]
    else:
        return [tree], lambda leaves: leaves[0]
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


def _flatten(tree, what):
    """The tensors of a tensor / dict / list / tuple tree, and a function that rebuilds it."""
    leaves, rebuild = _tree(tree)
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(f"{what}: expected tensors, or dicts, lists or tuples of tensors, got {type(leaf).__name__}")
    return leaves, rebuild


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


def _grads(outputs, inputs, grad_outputs, create_graph):
    """``autograd.grad`` over the outputs that require grad (a ``None`` output is skipped),
    keeping the graph; ``None`` for an input that they do not reach."""
    pairs = [(o, v) for o, v in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(autograd.grad([o for o, _ in pairs], list(inputs), [v for _, v in pairs], retain_graph=True,
                              allow_unused=True, create_graph=create_graph))


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
        found = _grads(outs, flat, vs, nested)
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
    single, nums = _argnums(argnums, "jacrev")

    def wrapper(*args):
        chosen, picked = _at_argnums(func, args, nums, "jacrev")
        out, vjp_fn = vjp(picked, *chosen)
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


# -- jvp, linearize and jacfwd: forward mode by the double-vjp trick ----------------------------


class _Pushforward:
    """Jacobian-vector products of ``outs`` with respect to ``inputs``, exactly, on reverse mode:
    ``back = Jᵀu`` is recorded as a graph in a zero cotangent ``u`` (linear in ``u``), and
    ``Jt`` is the gradient of ``back · t`` with respect to ``u``. The first backward runs
    once; each product is one more backward."""

    def __init__(self, outs, inputs):
        self.us = [_zeros_like(o).requires_grad_(True) if o.requires_grad else None for o in outs]
        self.back = _grads(outs, inputs, self.us, create_graph=True)

    def __call__(self, tangents, create_graph=False):
        """``Jt`` for one tangent per input (``None``: zero), one entry per output, ``None``
        where the output does not depend on the inputs along ``t``."""
        pairs = [(b, t) for b, t in zip(self.back, tangents) if b is not None and b.requires_grad and t is not None]
        live = [u for u in self.us if u is not None]
        if not pairs or not live:
            return [None] * len(self.us)
        found = iter(autograd.grad([b for b, _ in pairs], live, [t for _, t in pairs], retain_graph=True,
                                   allow_unused=True, create_graph=create_graph))
        return [next(found) if u is not None else None for u in self.us]


def _linearized(func, primals, what, has_aux=False):
    """``func(*primals)`` on fresh copies of the primals, ready for forward-mode products:
    ``(output, output leaves, rebuild, primal leaves, pushforward, aux)``."""
    if not isinstance(primals, tuple):
        raise TypeError(f"{what}: expected primals to be a tuple (it should be valid to call f(*primals)), "
                        f"got {type(primals).__name__}")
    fresh = [_fresh_leaves(p, what, _depth[0] > 0) for p in primals]
    with _inside():
        out = func(*(tree for _, tree, _ in fresh))
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{what}: with has_aux=True the function must return a tuple (output, aux)")
        out, aux = out
    outs, rebuild = _flatten(out, what)
    flat = [leaf for leaves, _, _ in fresh for leaf in leaves]
    return out, outs, rebuild, flat, _Pushforward(outs, flat), aux


def _tangent_leaves(primals, tangents, what):
    """The tangents' tensors, checked against the primals' structure, shapes and dtypes."""
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise TypeError(f"{what}: expected tangents to be a tuple with one entry per primal ({len(primals)}), "
                        f"got {type(tangents).__name__}" + (f" of length {len(tangents)}"
                                                            if isinstance(tangents, tuple) else ""))
    p_leaves, t_leaves = _flatten(primals, what)[0], _flatten(tangents, what)[0]
    if len(p_leaves) != len(t_leaves):
        raise ValueError(f"{what}: expected primals and tangents to have the same structure, got "
                         f"{len(p_leaves)} primal tensor(s) and {len(t_leaves)} tangent tensor(s)")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        if p.shape != t.shape:
            raise ValueError(f"{what}: expected primals and tangents to have the same shape, got "
                             f"primal {i} of shape {p.shape} and tangent {i} of shape {t.shape}")
        if p.dtype != t.dtype:
            raise TypeError(f"{what}: expected primals and tangents to have the same dtype, got "
                            f"primal {i} of {p.dtype.name} and tangent {i} of {t.dtype.name}")
    return t_leaves


def _detached(out, outs, rebuild):
    return out if _depth[0] > 0 else rebuild([o.detach() for o in outs])


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(output, jvp_out)``: ``func(*primals)`` and its Jacobian times ``tangents`` (one per
    primal, same structure, shapes and dtypes), with the output's structure, as
    ``torch.func.jvp``. With ``has_aux``: ``(output, jvp_out, aux)``. An output that does
    not depend on the primals gets zeros (an error with ``strict=True``). Computed exactly
    by two reverse passes (the double-vjp trick), not with dual numbers.

    >>> import gdl
    >>> from gdl.func import jvp
    >>> jvp(lambda x: x ** 2, (gdl.tensor([1.0, 3.0]),), (gdl.ones(2),))[1]
    tensor([2., 6.], backend='numpy')
    """
    out, outs, rebuild, _, push, aux = _linearized(func, primals, "jvp", has_aux)
    found = push(_tangent_leaves(primals, tangents, "jvp"), create_graph=_depth[0] > 0)
    if strict and any(f is None for f in found):
        raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                           "This is not allowed with strict=True.")
    jvp_out = rebuild([f if f is not None else _zeros_like(o) for f, o in zip(found, outs)])
    value = _detached(out, outs, rebuild)
    return (value, jvp_out, aux) if has_aux else (value, jvp_out)


def linearize(func, *primals):
    """``(output, jvp_fn)``, as ``torch.func.linearize``: ``func(*primals)`` and a function
    that maps tangents (``jvp_fn(*tangents)``, one per primal) to the Jacobian-vector
    product. ``func`` runs once; each ``jvp_fn`` call is one backward pass."""
    out, outs, rebuild, _, push, _ = _linearized(func, primals, "linearize")
    nested = _depth[0] > 0

    def jvp_fn(*tangents):
        found = push(_tangent_leaves(primals, tangents, "linearize"), create_graph=nested)
        return rebuild([f if f is not None else _zeros_like(o) for f, o in zip(found, outs)])

    return _detached(out, outs, rebuild), jvp_fn


def _argnums(argnums, what):
    single = isinstance(argnums, int) and not isinstance(argnums, bool)
    nums = (argnums,) if single else tuple(argnums) if isinstance(argnums, (tuple, list)) else ()
    if not nums or not all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
        raise TypeError(f"{what}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return single, nums


def _at_argnums(func, args, nums, what):
    """``(chosen, picked)``: the tensor arguments at ``nums`` (checked) and ``func`` as a
    function of them alone, the other arguments fixed."""
    for n in nums:
        if not -len(args) <= n < len(args):
            raise ValueError(f"{what}: argnums {n} is out of range for a function called with {len(args)} "
                             f"positional argument(s)")
        if not isinstance(args[n], Tensor):
            raise TypeError(f"{what}: argument {n} must be a Tensor, got {type(args[n]).__name__}")

    def picked(*chosen):
        full = list(args)
        for n, value in zip(nums, chosen):
            full[n] = value
        return func(*full)

    return tuple(args[n] for n in nums), picked


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """A function that returns the Jacobian of ``func`` with respect to the tensor
    argument(s) ``argnums``, as ``torch.func.jacfwd``, column by column from Jacobian-vector
    products (one backward per input element, after one forward and one recorded backward).
    Same layout as :func:`jacrev`: for each output tensor (``func`` may return a tuple,
    list or dict of them), ``output.shape + input.shape``, a tuple over ``argnums`` when it
    is a tuple. With ``has_aux``: ``(jacobian, aux)``.

    ``func`` runs once, so ``randomness`` ``"same"`` and ``"different"`` both give the
    Jacobian for one draw of its random numbers; ``"error"`` (default) refuses any draw.

    >>> import gdl
    >>> from gdl.func import jacfwd
    >>> jacfwd(lambda x: x ** 2)(gdl.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]], backend='numpy')
    """
    _check_randomness(randomness)
    single, nums = _argnums(argnums, "jacfwd")

    def wrapper(*args):
        chosen, picked = _at_argnums(func, args, nums, "jacfwd")
        call = _rng_guard(randomness, "jacfwd")
        _, outs, rebuild, flat, push, aux = call(_linearized, picked, chosen, "jacfwd", has_aux)
        nested = _depth[0] > 0
        per_input = [_columns(push, flat, j, outs, nested) for j in range(len(flat))]
        jac = rebuild([per_input[0][i] if single else tuple(cols[i] for cols in per_input) for i in range(len(outs))])
        return (jac, aux) if has_aux else jac

    return wrapper


def _columns(push, flat, j, outs, create_graph):
    """The Jacobians of every output with respect to input ``flat[j]``, from one product per
    element of that input: ``output.shape + input.shape`` each."""
    x = flat[j]
    cols = [[] for _ in outs]
    for k in range(x.size):
        tangents = [None] * len(flat)
        tangents[j] = _one_hot(x, k)
        for i, f in enumerate(push(tangents, create_graph=create_graph)):
            cols[i].append(f if f is not None else _zeros_like(outs[i]))
    shapes = [tuple(o.shape) + tuple(x.shape) for o in outs]
    return [_shape.reshape(_shape.stack(c, axis=-1), s) if c else _empty_jacobian(o, s)
            for c, o, s in zip(cols, outs, shapes)]


def _empty_jacobian(out, shape):
    """Zeros of ``shape`` (a Jacobian with no entries) in ``out``'s dtype and backend."""
    be = out._backend
    return Tensor._wrap(be.xp.zeros(shape, dtype=out.data.dtype, device=be.device), be)


# -- randomness inside vmap and jacfwd ---------------------------------------------------------

_RANDOMNESS = ("error", "different", "same")


def _check_randomness(randomness):
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness!r}")


def _rng_states():
    """A snapshot of the generator of every backend made so far, by name."""
    return {name: get_rng_state(name) for name in created_backends()}


def _same_state(a, b):
    """Whether two generator snapshots are the same position (nested dicts, tuples, arrays)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same_state, a, b))
    if hasattr(a, "shape") and hasattr(a, "dtype"):  # a device array (CuPy's cuRAND states)
        return a.shape == b.shape and bool((a == b).all())
    return a is b or a == b


def _rng_guard(randomness, what):
    """A caller ``call(f, *args, **kwargs)`` for the function being mapped: ``"same"`` puts the
    generators back to where they were first before each call, ``"error"`` raises if a
    call drew random numbers (leaving the generators as they were), ``"different"`` lets
    every call draw."""
    if randomness == "different":
        return lambda f, *args, **kwargs: f(*args, **kwargs)
    start = _rng_states()

    def call(f, *args, **kwargs):
        if randomness == "same":
            for state in start.values():
                set_rng_state(state)
        out = f(*args, **kwargs)
        if randomness == "error" and any(not _same_state(state._snapshot, get_rng_state(name)._snapshot)
                                         for name, state in start.items()):
            for state in start.values():
                set_rng_state(state)
            raise RuntimeError(f"{what}: called random operation while in randomness error mode. Please either use "
                               f"the 'same' or 'different' randomness flags on {what} or perform the randomness "
                               f"operation out of {what}")
        return out

    return call


# -- vmap ----------------------------------------------------------------------------------------


class _Mismatch(Exception):
    """A dims tree (in_dims / out_dims) that does not fit the values' tree."""


def _dims_for(dims, tree):
    """One dim (an int or None) per leaf of ``tree``: ``dims`` is an int or None for the
    whole subtree, or a tuple/list/dict of the tree's shape."""
    if dims is None or (isinstance(dims, int) and not isinstance(dims, bool)):
        return [dims] * len(_tree(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        return [d for sub_dims, sub in zip(dims, tree) for d in _dims_for(sub_dims, sub)]
    if isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
        return [d for k in tree for d in _dims_for(dims[k], tree[k])]
    if not isinstance(dims, (tuple, list, dict)):
        raise _Mismatch(f"got {dims!r} for an in_dim/out_dim, which must be an integer dimension or None")
    raise _Mismatch(f"{_describe(dims)} does not match {_describe(tree)}")


def _describe(tree):
    """A short picture of a tree's structure: ``(*, [*, *], {'a': *})``."""
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(_describe(v) for v in tree)
        return f"[{inner}]" if isinstance(tree, list) else f"({inner}{',' if len(tree) == 1 else ''})"
    return "*"


def _mapped_inputs(args, in_dims, name):
    """The argument leaves, their in_dims (made non-negative) and the mapped size."""
    prefix = f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>)"
    leaves, rebuild = _tree(args)
    try:
        dims = _dims_for(tuple(in_dims) if isinstance(in_dims, list) else in_dims, args)
    except _Mismatch as e:
        raise ValueError(f"{prefix}: in_dims is not compatible with the structure of `inputs`: {e}") from None
    for i, (leaf, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(leaf, Tensor):
            raise ValueError(f"{prefix}: Got in_dim={d} for an input but the input is of type "
                             f"{type(leaf).__name__}. We cannot vmap over non-Tensor arguments, please use "
                             f"None as the respective in_dim")
        if not -leaf.ndim <= d < leaf.ndim:
            raise ValueError(f"{prefix}: Got in_dim={d} for some input, but that input is a Tensor of "
                             f"dimensionality {leaf.ndim} so expected in_dim to satisfy "
                             f"-{leaf.ndim} <= in_dim < {leaf.ndim}.")
        dims[i] = d % leaf.ndim
    sizes = [leaf.shape[d] for leaf, d in zip(leaves, dims) if d is not None]
    if not sizes:
        raise ValueError(f"{prefix}: Expected at least one Tensor to vmap over (every in_dim is None)")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise ValueError(f"{prefix}: the mapped dimension has size 0; gdl's vmap calls the function once per "
                         f"index, so it needs at least one")
    return leaves, dims, rebuild, sizes[0]


def _stacked_outputs(outs, out_dims, name):
    """The per-index outputs joined along ``out_dims`` into the outputs' structure."""
    per_call = [_tree(o)[0] for o in outs]
    try:
        dims = _dims_for(tuple(out_dims) if isinstance(out_dims, list) else out_dims, outs[0])
    except _Mismatch as e:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims!r})(<inputs>): out_dims is not compatible with "
                         f"the structure of `outputs`: {e}") from None
    if any(len(leaves) != len(per_call[0]) for leaves in per_call):
        raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different structures for different "
                         f"indices of the mapped dimension")
    result = []
    for k, d in enumerate(dims):
        column = [leaves[k] for leaves in per_call]
        first = column[0]
        if d is None:
            if isinstance(first, Tensor) and not all(isinstance(c, Tensor) and c.equal(first) for c in column[1:]):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a batched tensor (one that differs "
                                 f"along the mapped dimension) when out_dim is None")
            result.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(first).__name__}. Did you mean to set out_dims= to None for output?")
        if not -first.ndim - 1 <= d <= first.ndim:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims!r}): Got out_dim={d} for an output of "
                             f"dimensionality {first.ndim}, so expected out_dim to satisfy "
                             f"-{first.ndim + 1} <= out_dim < {first.ndim + 1}.")
        result.append(_shape.stack(column, axis=d))
    return _tree(outs[0])[1](result)


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs, as ``torch.func.vmap``: the result of
    ``vmap(f)(x)`` is ``stack([f(x[0]), f(x[1]), ...])``. This gives torch's results, not its
    speed: ``func`` is called once per index (a Python loop of ordinary, differentiable gdl
    ops), so gradients flow back through the result and ``vmap`` nests and composes with
    :func:`grad`, :func:`jacrev` and the rest (per-sample gradients:
    ``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)``).

    - ``in_dims``: the dimension to map over for every input (an int, negative counts from
      the end), or a tuple matching the positional arguments whose entries are an int,
      ``None`` (passed whole to every call) or a tuple/list/dict matching that argument.
      Keyword arguments are passed whole.
    - ``out_dims``: where the mapped dimension goes in each output (an int, or a tuple
      matching the outputs; ``None`` for an output that does not vary). ``func`` returns a
      tensor or a tuple/list/dict of tensors.
    - ``randomness``: ``"error"`` (a call that draws random numbers raises), ``"different"``
      (each call draws its own), ``"same"`` (every call draws the same numbers; afterwards
      the generators are as after one call).
    - ``chunk_size`` (None or a positive int) is accepted and changes nothing.

    >>> import gdl
    >>> from gdl.func import vmap
    >>> vmap(lambda row: row.sum())(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([3., 7.], backend='numpy')
    """
    _check_randomness(randomness)
    if chunk_size is not None and not (isinstance(chunk_size, int) and not isinstance(chunk_size, bool)
                                       and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size!r})")
    name = getattr(func, "__name__", type(func).__name__)
    if not (in_dims is None or isinstance(in_dims, (int, tuple, list))) or isinstance(in_dims, bool):
        raise ValueError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: "
                         f"{type(in_dims).__name__}.")

    def wrapped(*args, **kwargs):
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                             f"trying to vmap over a function with no inputs. The latter is unsupported.")
        leaves, dims, rebuild, size = _mapped_inputs(args, in_dims, name)
        call = _rng_guard(randomness, "vmap")
        outs = []
        for i in range(size):
            picked = [leaf if d is None else leaf.select(d, i) for leaf, d in zip(leaves, dims)]
            outs.append(call(func, *rebuild(picked), **kwargs))
        return _stacked_outputs(outs, out_dims, name)

    return wrapped


# -- stack_module_state --------------------------------------------------------------------------


def stack_module_state(models):
    """``(params, buffers)``: the parameters and buffers of same-class ``models``, each name's
    tensors stacked along a new first dimension, as ``torch.func.stack_module_state`` (for
    running an ensemble with ``vmap`` and :func:`functional_call`). Stacked parameters are
    new leaves that require grad when the originals do."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class, got "
                           f"{sorted({type(m).__name__ for m in models})}.")
    params = [dict(m.named_parameters()) for m in models]
    buffers = [dict(m.named_buffers()) for m in models]
    return ({k: _stacked_leaf([p[k] for p in params], k) for k in params[0]},
            {k: _stacked_leaf([b[k] for b in buffers], k) for k in buffers[0]})


def _stacked_leaf(tensors, name):
    needs = {t.requires_grad for t in tensors}
    if len(needs) != 1:
        raise RuntimeError(f"stack_module_state: Expected {name} from each model to have the same .requires_grad")
    with no_grad():
        stacked = _shape.stack(tensors, axis=0)
    return stacked.requires_grad_(True) if needs.pop() else stacked
