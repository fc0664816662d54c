"""Custom differentiable functions, gradients as values, and hook handles.

PyTorch's ``torch.autograd`` names, on gdl's engine (:mod:`gdl.tensor`):

- :class:`Function`: write an op's forward and backward yourself, with gdl Tensors;
- :func:`grad`: the gradients of outputs with respect to inputs, returned instead of
  accumulated into ``.grad``; :func:`backward`: ``Tensor.backward`` for several outputs;
- :func:`gradcheck`: compare a function's gradients with finite differences;
  :func:`gradgradcheck`: the same for its second derivatives;
- :mod:`gdl.autograd.functional`: Jacobians, Hessians and their products, as
  ``torch.autograd.functional``;
- :mod:`gdl.autograd.forward_ad`: dual tensors (``make_dual``/``unpack_dual``), as ``torch.autograd.forward_ad``;
- :class:`detect_anomaly` / :class:`set_detect_anomaly`: find the op whose backward made
  a NaN, and where its forward ran;
- :class:`RemovableHandle`: what ``register_hook`` and the Module hooks return;
- the grad-mode switches, as in ``torch.autograd``: ``no_grad``, ``enable_grad``,
  ``set_grad_enabled``, ``inference_mode``.

A custom op in the book's style: a forward that saves what backward needs, and a
backward that maps the output's gradient to one gradient per input.

>>> import gdl
>>> class Exp(gdl.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)      # d exp(x)/dx = exp(x): keep the output
...         return y
...     @staticmethod
...     def backward(ctx, grad_output):
...         (y,) = ctx.saved_tensors
...         return grad_output * y        # one gradient per forward input
>>> x = gdl.tensor([0.0, 1.0], requires_grad=True)
>>> y = Exp.apply(x)
>>> y
tensor([1.      , 2.718282], backend='numpy', grad_fn=<ExpBackward>)
>>> y.sum().backward()
>>> x.grad
tensor([1.      , 2.718282], backend='numpy')
>>> gdl.autograd.gradcheck(Exp.apply, gdl.randn(3, dtype=gdl.float64, requires_grad=True))
True
"""

from __future__ import annotations

import functools
import itertools

from gdl.higher_order import backprop_graph
from gdl.tensor import (
    Node,
    Tensor,
    _accumulate,
    _anomaly,
    _memory_owner,
    backprop,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    root_gradient,
    set_grad_enabled,
)

__all__ = ["Function", "FunctionCtx", "RemovableHandle", "backward", "detect_anomaly", "enable_grad", "grad",
           "gradcheck", "gradgradcheck", "inference_mode", "is_anomaly_enabled", "no_grad", "set_detect_anomaly",
           "set_grad_enabled"]


# -- anomaly detection --------------------------------------------------------------------


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (see :class:`detect_anomaly`)."""
    return _anomaly[0]


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call (``set_detect_anomaly(True)``) it stays
    so; as a context manager (``with set_detect_anomaly(True): ...``) the previous mode
    comes back on exit. While it is on, every op records where it ran (a slower forward),
    and a backward that returns NaN raises a RuntimeError naming the op and that place.
    ``check_nan=False`` records the places but skips the NaN check."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = _anomaly[0]
        _anomaly[0] = bool(mode) and bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _anomaly[0] = self._prev
        return False


class detect_anomaly:
    """Anomaly detection inside a block or a decorated function, as
    ``torch.autograd.detect_anomaly``: find the op that made a NaN gradient.

    >>> import gdl
    >>> x = gdl.tensor([0.0, 1.0], requires_grad=True)
    >>> with gdl.autograd.detect_anomaly():
    ...     y = x.sqrt() * 0.0              # d sqrt/dx at 0 is inf; inf·0 is NaN
    ...     y.sum().backward()
    Traceback (most recent call last):
        ...
    RuntimeError: Function 'SqrtBackward' returned nan values in its 0th output ...
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._switch = set_detect_anomaly(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        return self._switch.__exit__(*exc)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


# -- handles ----------------------------------------------------------------------------


class RemovableHandle:
    """Returned by every ``register_*hook``: ``handle.remove()`` removes that hook
    (removing twice is harmless). Also a context manager that removes it on exit.

    >>> import gdl
    >>> lin = gdl.nn.Linear(2, 2)
    >>> with lin.register_forward_hook(lambda m, args, out: print("called")):
    ...     _ = lin(gdl.zeros(1, 2))
    called
    >>> _ = lin(gdl.zeros(1, 2))   # removed: nothing printed
    """

    _ids = itertools.count()

    def __init__(self, *hooks_dicts):
        self.hooks_dicts = hooks_dicts
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        for d in self.hooks_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self) -> str:
        return f"<RemovableHandle id={self.id}>"


# -- custom functions ---------------------------------------------------------------------


class FunctionCtx:
    """The ``ctx`` given to :meth:`Function.forward` and :meth:`Function.backward`.

    Keep tensors for backward with :meth:`save_for_backward` (read them back as
    ``ctx.saved_tensors``) and anything else as plain attributes (``ctx.k = 3``).
    ``ctx.needs_input_grad`` is a tuple of bools, one per forward argument: whether
    that argument is a tensor that requires a gradient (skip work for the others).
    """

    def __init__(self):
        self.needs_input_grad = ()
        self._saved = ()
        self._non_differentiable = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keep ``tensors`` (Tensors or ``None``) for backward; call once, in forward."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward: argument {i} is a {type(t).__name__}; only Tensors (or None) "
                    f"can be saved (keep other values as attributes: ctx.name = value)"
                )
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (e.g. an argmax's indices): they come
        out with ``requires_grad=False`` and their gradient given to backward is zeros."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With ``False``, backward receives ``None`` (instead of zeros) for an output
        whose gradient was never computed."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError(
            "mark_dirty: gdl tensors are not modified in place by ops, so a Function cannot "
            "declare in-place outputs; return a new tensor instead"
        )


class Function:
    """A differentiable op whose forward and backward you write, as ``torch.autograd.Function``.

    Subclass it with two static methods and call it through ``apply``::

        class MyOp(gdl.autograd.Function):
            @staticmethod
            def forward(ctx, *args, **kwargs): ...   # gdl Tensors in, Tensor(s) out
            @staticmethod
            def backward(ctx, *grad_outputs): ...    # one gradient per forward argument

        y = MyOp.apply(x, ...)

    - ``forward`` runs with graph building off (whatever it does is one step of the
      graph); it receives the arguments as given (tensors stay gdl Tensors) and
      returns a Tensor or a tuple of values (Tensors among them get gradients).
    - ``backward`` receives one gradient per output of forward (a Tensor; zeros for an
      output that got no gradient, ``None`` for a non-tensor output) and returns one
      gradient per argument of forward: a Tensor of that argument's shape, or
      ``None`` (always ``None`` for a non-tensor argument). It runs with graph
      building off, except under ``create_graph=True``: there it runs with graph
      building on and receives Tensor gradients that carry a graph, so a backward
      written with gdl Tensor ops gives gradients that can be differentiated again
      (tensors saved with ``save_for_backward`` are the forward's inputs, and its
      outputs as returned by ``apply``, so both are differentiable).
    - ``ctx``: see :class:`FunctionCtx` (``save_for_backward``, ``saved_tensors``,
      ``needs_input_grad``, ``mark_non_differentiable``, any attribute you set).
    - PyTorch's other style also works: ``forward(*args)`` without ``ctx`` plus
      ``setup_context(ctx, inputs, output)``.

    A straight-through estimator (rounding forward, identity backward):

    >>> import gdl
    >>> class RoundSTE(gdl.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x, step=1.0):
    ...         return (x / step).round() * step
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         return grad_output, None          # no gradient for ``step``
    >>> w = gdl.tensor([0.3, 1.6], requires_grad=True)
    >>> q = RoundSTE.apply(w, 0.5)
    >>> q
    tensor([0.5, 1.5], backend='numpy', grad_fn=<RoundSTEBackward>)
    >>> (q * q).sum().backward()
    >>> w.grad
    tensor([1., 3.], backend='numpy')
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a gdl.autograd.Function subclass must define a static forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError  # optional: PyTorch's separate-context style

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a gdl.autograd.Function subclass must define a static backward(ctx, *grads)")

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__}: call a Function through its class, {type(self).__name__}.apply(...), "
            f"not by making an instance"
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an argument needs a gradient, record the step."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:
                out = cls.forward(ctx, *args, **kwargs)
            else:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
        if not (is_grad_enabled() and any(ctx.needs_input_grad)):
            return out
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        if not is_tuple and not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward returned a {type(out).__name__}; expected a Tensor or a tuple"
            )
        return _record(cls, ctx, args, outs, is_tuple)


def _record(cls, ctx, args, outs, is_tuple):
    """Wrap forward's outputs in fresh tensors whose nodes call ``cls.backward``."""
    name = cls.__name__
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    inputs = tuple(args[i] for i in positions)
    # what backward needs to make zero gradients: (shape, dtype, backend) of each tensor output
    metas = [(o.data.shape, o.data.dtype, o._backend) if isinstance(o, Tensor) else None for o in outs]
    wrapped = []
    for o in outs:
        if not isinstance(o, Tensor):
            wrapped.append(o)
            continue
        w = Tensor._wrap(o.data, o._backend)
        if id(o) not in ctx._non_differentiable and w.dtype.is_floating_point:
            w.requires_grad = True
        wrapped.append(w)
    diff = [w for w in wrapped if isinstance(w, Tensor) and w.requires_grad]

    def call_backward(grads):
        return _call_backward(cls, ctx, args, positions, metas, grads)

    def call_graph(grads):
        return _call_backward_graph(cls, ctx, args, metas, grads, outs, wrapped)

    if len(outs) == 1 and diff:
        diff[0].grad_fn = Node(name, inputs, lambda g: call_backward((g,)), lambda g: call_graph((g,)))
    elif diff:
        # Several outputs, one backward call: each output's node passes its gradient,
        # tagged with its position, to a shared hidden tensor whose node runs backward
        # once all of them have arrived (it was made first, so it comes off the heap last).
        n = len(outs)
        hub = Tensor._wrap(diff[0].data, diff[0]._backend)
        hub.requires_grad = True
        hub.grad_fn = Node(name, inputs, lambda mg: call_backward(mg.grads), lambda mg: call_graph(mg.grads))
        for i, w in enumerate(wrapped):
            if isinstance(w, Tensor) and w.requires_grad:
                one = lambda g, i=i: (_OutputGrads.one(i, g, n),)  # noqa: E731
                w.grad_fn = Node(name, (hub,), one, one)
    return tuple(wrapped) if is_tuple else wrapped[0]


class _OutputGrads:
    """The gradients of a multi-output Function's outputs, by position (``None`` where
    none arrived); the engine adds two of them when several outputs were used."""

    __slots__ = ("grads",)

    def __init__(self, grads):
        self.grads = grads

    @classmethod
    def one(cls, i, g, n):
        grads = [None] * n
        grads[i] = g
        return cls(grads)

    def __add__(self, other):
        return _OutputGrads(
            [a if b is None else b if a is None else a + b for a, b in zip(self.grads, other.grads)]
        )


def _gradient_inputs(ctx, metas, grads, wrap):
    """The gradients the user's backward receives, one per forward output: ``wrap(g, meta)``,
    or zeros (``ctx.materialize_grads``) or None where none arrived."""
    out = []
    for g, meta in zip(grads, metas):
        if meta is None:
            out.append(None)
        elif g is None:
            shape, dtype, be = meta
            out.append(Tensor._wrap(be.xp.zeros(shape, dtype=dtype, device=be.device), be)
                       if ctx.materialize_grads else None)
        else:
            out.append(wrap(g, meta))
    return out


def _user_gradients(name, args, result):
    """The user's backward ``result`` checked against forward's arguments: ``(a, r)`` for each
    Tensor argument ``a``, with ``r`` its gradient Tensor (shape not yet summed back) or None."""
    result = result if isinstance(result, tuple) else (result,)
    n = len(args)
    if len(result) < n or any(r is not None for r in result[n:]):
        raise RuntimeError(
            f"{name}.backward returned an incorrect number of gradients (expected {n}, one per "
            f"argument of forward, got {len(result)})"
        )
    for i, a in enumerate(args):
        r = result[i]
        if not isinstance(a, Tensor):
            if r is not None:
                raise RuntimeError(
                    f"{name}.backward returned a gradient different from None at position {i}, "
                    f"but forward's argument {i} is a {type(a).__name__}, not a Tensor"
                )
            continue
        if r is None or not a.requires_grad:
            yield a, None
            continue
        if not isinstance(r, Tensor):
            raise TypeError(f"{name}.backward returned a {type(r).__name__} at position {i}; expected a Tensor or None")
        if r._backend is not a._backend:
            raise ValueError(
                f"{name}.backward: the gradient at position {i} is on backend {r.backend!r}, "
                f"but the input is on {a.backend!r}"
            )
        if r.shape != a.shape and not _sums_to(r.shape, a.shape):
            raise ValueError(
                f"{name}.backward returned a gradient of shape {r.shape} at position {i}, "
                f"but the input has shape {a.shape}"
            )
        yield a, r


def _call_backward(cls, ctx, args, positions, metas, grads):
    grad_tensors = _gradient_inputs(ctx, metas, grads, lambda g, meta: Tensor._wrap(g, meta[2]))
    out = []
    for a, r in _user_gradients(cls.__name__, args, cls.backward(ctx, *grad_tensors)):
        if r is None:
            out.append(None)
            continue
        g = r.data
        if tuple(g.shape) != a.shape:
            from gdl.functional._util import unbroadcast

            g = unbroadcast(a._backend.xp, g, a.shape)  # a broadcast input's gradient, summed back
        if g.dtype != a.data.dtype:
            g = a._backend.xp.astype(g, a.data.dtype)
        elif g is r.data:  # the user's backward may keep this array (a saved tensor, say): copy it
            g = a._backend.xp.asarray(g, copy=True)
        out.append(g)
    assert len(out) == len(positions)
    return tuple(out)


def _call_backward_graph(cls, ctx, args, metas, grads, outs, wrapped):
    """:func:`_call_backward` for ``create_graph=True``: the user's backward on the Tensor
    gradients ``grads``, run with graph building on (the engine's mode), so its results,
    when it computes them with Tensor ops, carry a graph. While it runs, a saved forward
    output reads as the output ``apply`` returned (whose node is this one), as PyTorch's."""
    grad_tensors = _gradient_inputs(ctx, metas, grads, lambda g, meta: g)
    saved = ctx._saved
    swap = {id(o): w for o, w in zip(outs, wrapped) if isinstance(o, Tensor) and w is not o}
    if any(t is not None and id(t) in swap for t in saved):
        ctx._saved = tuple(None if t is None else swap.get(id(t), t) for t in saved)
    try:
        result = cls.backward(ctx, *grad_tensors)
    finally:
        ctx._saved = saved
    out = []
    for a, r in _user_gradients(cls.__name__, args, result):
        if r is not None:
            if r.shape != a.shape:
                from gdl.higher_order import unbroadcast

                r = unbroadcast(r, a.shape)  # a broadcast input's gradient, summed back
            if r.dtype != a.dtype:
                r = r.to(dtype=a.dtype)
        out.append(r)
    return tuple(out)


def _sums_to(gshape, shape):
    """Whether ``shape`` broadcasts to ``gshape`` (so a gradient of ``gshape`` sums back to it)."""
    if len(shape) > len(gshape):
        return False
    return all(s == g or s == 1 for s, g in zip(shape[::-1], gshape[::-1]))


# -- gradients as values --------------------------------------------------------------------


def _as_tuple(x, what):
    if isinstance(x, Tensor):
        return (x,)
    if x is None:
        return ()
    try:
        return tuple(x)
    except TypeError:
        raise TypeError(f"{what}: expected a Tensor or a sequence of Tensors, got {type(x).__name__}") from None


def _root_grads(op, outputs, grad_outputs):
    """``(tensor, gradient array)`` pairs for the engine, as PyTorch's checks."""
    grad_outputs = [None] * len(outputs) if grad_outputs is None else list(_as_tuple(grad_outputs, op))
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} gradients for them")
    pairs = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: output {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"{op}: element {i} of tensors does not require grad and does not have a grad_fn")
        pairs.append((t, root_gradient(t, g, f"{op} (output {i})", "its gradient in grad_outputs")))
    return pairs


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (one per input),
    without touching any ``.grad``, as ``torch.autograd.grad``.

    ``grad_outputs``: the gradient of each output (may be left out for scalar
    outputs). Only the part of the graph between them runs; tensor hooks on the way
    run too. An input the outputs do not depend on is an error unless
    ``allow_unused=True`` (its gradient is then ``None``, or zeros with
    ``materialize_grads=True``). The graph is freed unless ``retain_graph=True``.
    ``create_graph=True`` records the backward pass, so the gradients returned can be
    differentiated again (see :mod:`gdl.higher_order`); the graph is then kept unless
    ``retain_graph=False``.

    >>> import gdl
    >>> x = gdl.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x ** 3).sum()
    >>> gdl.autograd.grad(y, x)
    (tensor([ 3., 12.], backend='numpy'),)
    >>> x.grad is None
    True
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True (vmap over grad_outputs) is not supported in gdl")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused to be True or None")
    outputs = _as_tuple(outputs, "grad")
    inputs = _as_tuple(inputs, "grad")
    if not inputs:
        raise RuntimeError("grad: requires at least one input tensor")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the differentiated Tensors (input {i}) does not require grad")
    pairs = _root_grads("grad", outputs, grad_outputs)
    capture = {id(t): None for t in inputs}
    if create_graph:
        backprop_graph(_graph_roots(pairs, grad_outputs), True if retain_graph is None else bool(retain_graph),
                       capture)
    else:
        backprop(pairs, bool(retain_graph), capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: the differentiated Tensor at index {i} appears to not have been used in the "
                    f"graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = t._backend.xp.zeros(t.data.shape, dtype=t.data.dtype, device=t._backend.device)
        if g is not None and not isinstance(g, Tensor):
            if g.dtype != t.data.dtype:  # an input's gradient has the input's dtype, as in .grad
                g = g.astype(t.data.dtype) if getattr(g, "is_sparse", False) else t._backend.xp.astype(g, t.data.dtype)
            g = g if getattr(g, "is_sparse", False) else Tensor._wrap(g, t._backend)
        result.append(g)
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` (one or several) into the leaves' ``.grad``,
    as ``torch.autograd.backward``: ``backward([a, b], [ga, gb])`` is ``a.backward(ga)``
    and ``b.backward(gb)`` in one pass over the graph. With ``inputs``, only those
    tensors (leaves or not) accumulate ``.grad``.

    >>> import gdl
    >>> x = gdl.tensor([1.0, 2.0], requires_grad=True)
    >>> gdl.autograd.backward([(x * 2).sum(), (x * x).sum()])
    >>> x.grad
    tensor([4., 6.], backend='numpy')
    """
    tensors = _as_tuple(tensors, "backward")
    pairs = _root_grads("backward", tensors, grad_tensors)
    if create_graph:
        _backward_graph(pairs, grad_tensors, True if retain_graph is None else bool(retain_graph), inputs)
        return
    if inputs is None:
        backprop(pairs, bool(retain_graph))
        return
    inputs = _as_tuple(inputs, "backward")
    if not inputs:
        raise RuntimeError("backward: inputs was given but is empty")
    capture = {id(t): None for t in inputs}
    backprop(pairs, bool(retain_graph), capture)
    handed = {_memory_owner(t, g) for t, g in pairs}  # no two .grad share memory, nor one with a root's gradient
    for t in inputs:
        g = capture[id(t)]
        if g is not None:
            _accumulate(t, g, handed)


def _graph_roots(pairs, grad_outputs):
    """The engine's root pairs as Tensors for ``create_graph=True``: a gradient the caller
    gave as a Tensor is used itself (it may require grad: double backward through it)."""
    given = [None] * len(pairs) if grad_outputs is None else list(_as_tuple(grad_outputs, "grad"))
    return [(t, g if isinstance(g, Tensor) else Tensor._wrap(a, t._backend)) for (t, a), g in zip(pairs, given)]


def _backward_graph(pairs, grad_tensors, retain_graph, inputs):
    roots = _graph_roots(pairs, grad_tensors)
    if inputs is None:
        backprop_graph(roots, retain_graph)
        return
    inputs = _as_tuple(inputs, "backward")
    if not inputs:
        raise RuntimeError("backward: inputs was given but is empty")
    capture = {id(t): None for t in inputs}
    backprop_graph(roots, retain_graph, capture)
    for t in inputs:
        g = capture[id(t)]
        if g is not None:
            t.grad = g if t.grad is None else t.grad + g


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """``torch.autograd.gradcheck`` on :func:`gdl.testing.gradcheck`: compare ``func``'s
    gradients with central finite differences for every float64 tensor in ``inputs``
    that requires grad. ``inputs`` is a tensor or a tuple (non-tensor values are
    passed through); ``func`` may return a tuple of tensors (each is checked).
    Returns True, or raises :class:`gdl.testing.GradcheckError` (returns False with
    ``raise_exception=False``).
    """
    from gdl.testing import GradcheckError
    from gdl.testing import gradcheck as _check

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    slots = [i for i, a in enumerate(inputs) if isinstance(a, Tensor)]

    def call(*tensors):
        args = list(inputs)
        for i, t in zip(slots, tensors):
            args[i] = t
        return func(*args)

    tensors = [inputs[i] for i in slots]
    with no_grad():
        probe = call(*tensors)
    n_out = len(probe) if isinstance(probe, tuple) else None
    try:
        if n_out is None:
            return _check(call, tensors, eps=eps, atol=atol, rtol=rtol)
        for k in range(n_out):
            if isinstance(probe[k], Tensor) and probe[k].dtype.is_floating_point:
                _check(lambda *ts, k=k: call(*ts)[k], tensors, eps=eps, atol=atol, rtol=rtol)
        return True
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True) -> bool:
    """``torch.autograd.gradgradcheck``: :func:`gradcheck` on the gradients of ``func``,
    that is, check the second derivatives (a backward recorded with ``create_graph=True``)
    against finite differences of the first. ``grad_outputs`` (one float64 tensor per
    output of ``func``) default to fixed random tensors; they are differentiated too,
    as in torch. Returns True, or raises :class:`gdl.testing.GradcheckError` (returns
    False with ``raise_exception=False``).
    """
    from gdl.backends import host

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
    with no_grad():
        probe = func(*inputs)
    outs = probe if isinstance(probe, tuple) else (probe,)
    if grad_outputs is None:
        grad_outputs = tuple(
            Tensor._wrap(o._backend.xp.astype(o._backend.from_host(host.random_weights(o.shape, seed=k + 1)),
                                               o.data.dtype), o._backend).requires_grad_(True)
            for k, o in enumerate(outs))
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(outs)} outputs but {len(grad_outputs)} grad_outputs")
    n = len(inputs)

    def first_derivatives(*args):
        with enable_grad():
            out = func(*args[:n])
            out = out if isinstance(out, tuple) else (out,)
            pairs = [(o, g) for o, g in zip(out, args[n:]) if o.requires_grad]
            if not pairs:
                return ()
            found = grad([o for o, _ in pairs], [args[i] for i in diff], [g for _, g in pairs],
                         create_graph=True, allow_unused=True)
        return tuple(g for g in found if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


# -- Module backward hooks ----------------------------------------------------------------


class _Identity(Function):
    """Passes tensors through unchanged; ``ctx.on_backward(grads)`` sees (and may replace)
    their gradients. Used by :class:`BackwardHook` around a module's inputs and outputs."""

    @staticmethod
    def forward(ctx, on_backward, materialize, *tensors):
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(materialize)
        outs = tuple(Tensor._wrap(t.data, t._backend) for t in tensors)
        ctx.mark_non_differentiable(*(o for o, t in zip(outs, tensors) if not t.requires_grad))
        return outs

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.on_backward(grads))


class BackwardHook:
    """One call of a module that has full backward hooks: wraps the call's tensor
    inputs and outputs in identity steps so that, in backward, the hooks see the
    gradients with respect to the module's outputs and then with respect to its inputs.

    ``grad_output`` holds one entry per tensor output (a tuple output counts each
    element), ``grad_input`` one entry per positional argument (``None`` for a
    non-tensor); the hooks run once per call of the module, when the gradients
    with respect to its inputs are complete, as PyTorch's.
    """

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_output = None
        self.n_args = 0
        self.arg_slots = None  # positions of the tensor args that were wrapped

    def _run_hooks(self, grad_input):
        for hook in tuple(self.hooks.values()):
            res = hook(self.module, grad_input, self.grad_output)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_input):
                raise RuntimeError(
                    f"backward hook {getattr(hook, '__name__', hook)!r} returned {len(res)} values, "
                    f"expected {len(grad_input)} (one per argument of forward)"
                )
            grad_input = res
        return grad_input

    def setup_input(self, args):
        self.n_args = len(args)
        slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not any(args[i].requires_grad for i in slots) or not is_grad_enabled():
            return args

        def on_backward(grads):
            if self.grad_output is None:  # the gradient did not come through the outputs
                return grads
            grad_input = [None] * self.n_args
            for i, g in zip(slots, grads):
                grad_input[i] = g
            grad_input = self._run_hooks(tuple(grad_input))
            self.grad_output = None
            return tuple(grad_input[i] for i in slots)

        self.arg_slots = slots
        wrapped = _Identity.apply(on_backward, True, *(args[i] for i in slots))
        args = list(args)
        for i, w in zip(slots, wrapped):
            args[i] = w
        return tuple(args)

    def setup_output(self, result):
        is_tuple = isinstance(result, tuple)
        outs = result if is_tuple else (result,)
        slots = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        if not any(outs[i].requires_grad for i in slots) or not is_grad_enabled():
            return result

        def on_backward(grads):
            grads = tuple(grads)
            for hook in tuple(self.pre_hooks.values()):
                res = hook(self.module, grads)
                if res is not None:
                    res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                    if len(res) != len(grads):
                        raise RuntimeError(
                            f"backward pre-hook {getattr(hook, '__name__', hook)!r} returned {len(res)} "
                            f"values, expected {len(grads)}"
                        )
                    grads = res
            self.grad_output = grads
            if self.arg_slots is None and self.hooks:  # no input needs a gradient: call the hooks now
                self._run_hooks((None,) * self.n_args)
            return grads

        wrapped = _Identity.apply(on_backward, False, *(outs[i] for i in slots))
        outs = list(outs)
        for i, w in zip(slots, wrapped):
            outs[i] = w
        return tuple(outs) if is_tuple else outs[0]


from gdl.autograd import functional  # noqa: E402, F401, I001  (last: it imports gdl.func, which imports this module)
from gdl.autograd import forward_ad  # noqa: E402, F401
