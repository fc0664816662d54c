"""Tensor and the autograd engine.

A :class:`Tensor` wraps one backend array (``.data``). An op that runs on tensors
needing gradients records a :class:`Node` (``tensor.grad_fn``): the op's name, its
input tensors, and a ``backward`` function that maps the output's gradient to one
gradient per input. ``Tensor.backward()`` walks these nodes in reverse
topological order, iteratively, so graphs of any depth work.

>>> import gdl
>>> x = gdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.], backend='numpy')
"""

from __future__ import annotations

import copy
import functools
import itertools
import traceback
from heapq import heappop, heappush

from gdl import dtypes
from gdl.backends import device as _device
from gdl.backends import get_backend_object, host, pick_backend
from gdl.slice_grad import EngineGrad, SliceGrad
from gdl.sparse_grad import RowSparseGrad

# -- gradient mode ---------------------------------------------------------------

_grad_enabled = [True]
_inference = [False]
_captures: list = []  # the capture dicts of the backward passes under way (gdl.autograd.grad)
_anomaly = [False]  # gdl.autograd.detect_anomaly: record where each node was made, check backward for NaN


class _GradMode:
    """Base of the grad-mode switches: each is a context manager and a decorator,
    with or without parentheses (``@gdl.no_grad()`` or ``@gdl.no_grad``)."""

    enabled = True

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]):  # ``@gdl.no_grad`` without parentheses
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self.enabled
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev
        return False

    def _fresh(self):
        """A new switch like this one (each call of a decorated function enters its own)."""
        return type(self)()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Build no graph inside: ``with gdl.no_grad(): ...``, ``@gdl.no_grad()`` or ``@gdl.no_grad``.

    >>> import gdl
    >>> x = gdl.ones(2, requires_grad=True)
    >>> with gdl.no_grad():
    ...     (x * 2).requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):
    """Build graphs again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Turn graph building on or off: a function (takes effect at once), a context manager
    (restores the previous mode on exit) or a decorator, as ``torch.set_grad_enabled``.

    >>> import gdl
    >>> x = gdl.ones(2, requires_grad=True)
    >>> with gdl.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    >>> _ = gdl.set_grad_enabled(False); gdl.is_grad_enabled()
    False
    >>> _ = gdl.set_grad_enabled(True); gdl.is_grad_enabled()
    True
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self.enabled

    def __enter__(self):  # the mode was set when the object was made
        return self

    def _fresh(self):
        return type(self)(self.enabled)

    def __call__(self, fn):
        _grad_enabled[0] = self._prev  # used as a decorator: making it must not switch now
        return super().__call__(fn)


class inference_mode(_GradMode):
    """``torch.inference_mode``: in gdl the same as :class:`no_grad` (no graph is built).

    PyTorch's inference mode also skips view and version bookkeeping and marks the
    tensors made inside as inference tensors that autograd later refuses; gdl has no
    such bookkeeping, so tensors made inside are ordinary tensors without a graph.
    ``inference_mode(False)`` turns graph building back on, as it does in PyTorch.
    :func:`is_inference_mode_enabled` says whether an ``inference_mode(True)`` block is active.

    >>> import gdl
    >>> x = gdl.ones(2, requires_grad=True)
    >>> with gdl.inference_mode():
    ...     (x * 2).requires_grad, gdl.is_inference_mode_enabled()
    (False, True)
    """

    def __new__(cls, mode=True):
        if callable(mode):  # ``@gdl.inference_mode`` without parentheses
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.enabled = not self.mode

    def __enter__(self):
        self._prev_inference = _inference[0]
        _inference[0] = self.mode
        return super().__enter__()

    def __exit__(self, *exc):
        _inference[0] = self._prev_inference
        return super().__exit__(*exc)

    def _fresh(self):
        return type(self)(self.mode)


def is_grad_enabled() -> bool:
    return _grad_enabled[0]


def current_capture():
    """The capture dict (``{id(tensor): gradient or None}``) of the innermost backward
    pass under way that returns gradients instead of accumulating them
    (:func:`gdl.autograd.grad`, ``backward(inputs=...)``), or None."""
    return _captures[-1] if _captures else None


def is_inference_mode_enabled() -> bool:
    """True inside ``gdl.inference_mode()`` (see :class:`inference_mode`)."""
    return _inference[0]


# -- graph nodes -------------------------------------------------------------------


class Node:
    """One recorded op: ``backward(grad) -> tuple of input gradients``.

    ``seq`` counts nodes in creation order: a node's inputs were made before it, so
    running nodes by decreasing ``seq`` is a topological order. ``stack``: where the
    forward op ran, recorded only under :func:`gdl.autograd.detect_anomaly`. ``graph``:
    the same backward written with Tensor ops, ``graph(g) -> gradients`` (Tensors), which
    ``create_graph=True`` runs with graph recording on (gradients of gradients).
    """

    __slots__ = ("name", "inputs", "backward", "seq", "stack", "graph")

    def __init__(self, name, inputs, backward, graph=None):
        self.name = name
        self.inputs = inputs
        self.backward = backward
        self.graph = graph  # the backward on Tensors, recorded as a graph (create_graph=True); None: not available
        self.seq = next(_node_counter)
        self.stack = traceback.format_stack(limit=12)[:-2] if _anomaly[0] else None

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


_node_counter = itertools.count()


def result(data, backend, inputs, backward, name, graph=None):
    """Wrap an op's output array; record the op if any input needs a gradient.
    ``graph``: the op's backward on Tensors, for second-order gradients (see :class:`Node`)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out._backend = backend
    out.grad = None
    out._retain = False
    if _grad_enabled[0]:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out.grad_fn = Node(name, inputs, backward, graph)
                return out
    out.requires_grad = False
    out.grad_fn = None
    return out


# -- Tensor --------------------------------------------------------------------------


class _Size(int):
    """``Tensor.size``: the element count, callable as PyTorch's ``size()`` / ``size(d)``."""

    def __new__(cls, count, shape):
        out = super().__new__(cls, count)
        out.shape = shape
        return out

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if isinstance(dim, bool) or not isinstance(dim, int) or not -len(self.shape) <= dim < len(self.shape):
            raise ValueError(f"size: axis {dim!r} is out of range for a tensor with {len(self.shape)} dimensions")
        return self.shape[dim]


class Tensor:
    """An n-dimensional array on one backend that can record its gradient.

    Create tensors with :func:`gdl.tensor`, :func:`gdl.zeros`, :func:`gdl.randn`, ...
    Arithmetic operators, ``@``, indexing and the methods below build the
    autograd graph when an input has ``requires_grad=True``.
    """

    __slots__ = ("data", "_backend", "requires_grad", "grad", "grad_fn", "_retain", "__weakref__")
    __array_priority__ = 1000  # NumPy defers ``ndarray * tensor`` to us
    is_sparse = False  # a dense array (``Embedding(sparse=True)`` grads are RowSparseGrad)

    def __init__(self, data, dtype=None, requires_grad=False, backend=None, *, device=None):
        t = tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend, device=device)
        self.data, self._backend = t.data, t._backend
        self.requires_grad, self.grad, self.grad_fn, self._retain = t.requires_grad, None, None, False

    @classmethod
    def _wrap(cls, data, backend, requires_grad=False):
        out = cls.__new__(cls)
        out.data = data
        out._backend = backend
        out.grad = None
        out.grad_fn = None
        out._retain = False
        out.requires_grad = False
        if requires_grad:
            out.requires_grad_(True)
        return out

    # -- attributes ------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.as_dtype(self.data.dtype)

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def device(self) -> _device:
        """Where the data lives, as PyTorch's ``tensor.device``: ``device(type='cpu')`` on
        numpy and array_api_strict, ``device(type='cuda', index=0)`` on the CuPy backend
        (the array library's own device object is ``tensor._backend.device``)."""
        return _device._of_backend(self._backend.name)

    @property
    def is_cuda(self) -> bool:
        """True on the cupy backend (PyTorch's ``tensor.is_cuda``)."""
        return self._backend.name == "cupy"

    @property
    def size(self) -> int:
        """The number of elements (the Array API's attribute), an int that can also be
        called as PyTorch's method: ``x.size()`` is the shape, ``x.size(d)`` one dimension."""
        return _Size(self.numel(), tuple(self.data.shape))

    def numel(self) -> int:
        """The number of elements, as a plain int."""
        n = 1
        for d in self.data.shape:
            n *= d
        return n

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        """The sub-tensors along the first axis (``x[0]``, ``x[1]``, ...), as PyTorch;
        a 0-d tensor is not iterable (without this, Python's fallback gave no items)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Mark this (leaf) tensor as needing a gradient; returns ``self``."""
        if requires_grad and not self.dtype.is_floating_point:
            raise TypeError(
                f"only floating-point tensors can require gradients; this tensor is "
                f"{self.dtype.name} (convert with .float() first)"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False): only leaf tensors can stop requiring grad; this one was "
                "made by an op (use t.detach() for a tensor cut from the graph)"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (a leaf keeps it anyway)."""
        if isinstance(self._retain, _GradHooks):
            self._retain.retain = True
        else:
            self._retain = True
        return self

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this non-leaf tensor."""
        extra = self._retain
        return self.grad_fn is not None and bool(extra is True or (extra and extra.retain))

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time this tensor's gradient has been computed.

        ``grad`` is the complete gradient of this tensor (a Tensor without a graph);
        the hook may return a replacement (same shape), which is what flows on to
        the tensor's inputs (or, for a leaf, into ``.grad``), or ``None`` to leave it.
        Hooks run in the order they were registered, for leaves and non-leaves, also
        under :func:`gdl.autograd.grad`. A row-sparse gradient (``Embedding(sparse=True)``)
        reaches the hook as the :class:`~gdl.sparse_grad.RowSparseGrad` itself. Returns
        a handle: ``handle.remove()`` removes the hook.

        >>> import gdl
        >>> x = gdl.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> handle = y.register_hook(lambda g: g * 10)   # scale what flows back through y
        >>> y.sum().backward()
        >>> x.grad
        tensor([30., 30.], backend='numpy')
        >>> handle.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: expected a callable, got {type(hook).__name__}")
        return self._add_hook("hooks", hook)

    def _add_hook(self, kind: str, hook):
        """Put ``hook`` in this tensor's ``_GradHooks`` table ``kind``; returns its handle."""
        from gdl.autograd import RemovableHandle

        extra = self._retain
        if not isinstance(extra, _GradHooks):
            extra = self._retain = _GradHooks(retain=bool(extra))
        table = getattr(extra, kind)
        handle = RemovableHandle(table)
        table[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf each time backward has added its gradient into
        ``.grad`` (as PyTorch's: e.g. to run an optimizer step per parameter during backward,
        and free each gradient early). The hook runs with grad mode off and returns None.
        Returns a handle: ``handle.remove()`` removes the hook.

        >>> import gdl
        >>> w = gdl.tensor([1.0, 2.0], requires_grad=True)
        >>> def sgd_now(p):
        ...     p.data = p.data - 0.5 * p.grad.data
        ...     p.grad = None
        >>> handle = w.register_post_accumulate_grad_hook(sgd_now)
        >>> (w * w).sum().backward()
        >>> w, w.grad
        (tensor([0., 0.], backend='numpy', requires_grad=True), None)
        """
        if not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on non-leaf "
                "tensors (this one comes from an op); use register_hook"
            )
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: expected a callable, got {type(hook).__name__}")
        return self._add_hook("post", hook)

    # -- host and backend transfers ---------------------------------------------------
    def numpy(self):
        """A NumPy copy of the data (on the host)."""
        return self._backend.to_host(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise ValueError(f"item(): tensor has {self.numel()} elements, expected 1")
        return self.numpy().reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point:
            raise TypeError("a floating-point tensor cannot be used as an index")
        return int(self.item())

    def to(self, backend=None, dtype=None, non_blocking=False, copy=False, *, device=None,
           memory_format=None) -> "Tensor":
        """This tensor on ``backend`` and/or as ``dtype`` (differentiable), in PyTorch's three
        forms: ``x.to(device, dtype)`` (``"cuda"``, ``"cpu"``, a backend name), ``x.to(dtype)``
        and ``x.to(other)`` (``other``'s backend and dtype). ``copy=True`` always returns a new
        tensor; ``non_blocking`` and ``memory_format`` are accepted and ignored."""
        backend, dtype, copy = to_arguments("to", backend, dtype, non_blocking, copy, device)
        out = self
        if backend is not None:
            from gdl.functional.shape import to_backend

            out = to_backend(out, backend)
        if dtype is not None:
            from gdl.functional.elementwise import astype

            out = astype(out, dtype)
        if copy and out is self:
            from gdl.functional.elementwise import clone

            out = clone(out)
        return out

    def cpu(self) -> "Tensor":
        """This tensor on the numpy backend (``to("cpu")``)."""
        return self.to("numpy")

    def cuda(self, device=None, non_blocking=False) -> "Tensor":
        """This tensor on the cupy backend (``to("cuda")``); ``device`` may be None, 0 or "cuda:0"."""
        target = _device("cuda" if device is None else device)
        if target.type != "cuda":
            raise ValueError(f"cuda(): expected a cuda device, got {str(target)!r}")
        return self.to(target)

    def float(self) -> "Tensor":
        return self.to(dtype=dtypes.get_default_dtype())

    def double(self) -> "Tensor":
        return self.to(dtype=dtypes.float64)

    def long(self) -> "Tensor":
        return self.to(dtype=dtypes.int64)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no ``grad_fn``, no gradient)."""
        return Tensor._wrap(self.data, self._backend)

    def __deepcopy__(self, memo) -> "Tensor":
        """A copy of a leaf tensor (its data, ``requires_grad``, its gradient), as
        ``copy.deepcopy(model)`` needs; like PyTorch, a tensor made by an op refuses."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (created by you, not by an op) can be deep-copied; "
                "copy t.detach() instead"
            )
        out = type(self).__new__(type(self))  # a Parameter stays a Parameter
        memo[id(self)] = out
        out.data = self._backend.copy(self.data)
        out._backend = self._backend
        out.requires_grad = self.requires_grad
        out.grad = None if self.grad is None else copy.deepcopy(self.grad, memo)
        out.grad_fn = None
        out._retain = self._retain if not isinstance(self._retain, _GradHooks) else self._retain.retain  # hooks are not copied, as PyTorch
        return out

    def clone(self) -> "Tensor":
        from gdl.functional.elementwise import clone

        return clone(self)

    def __repr__(self) -> str:
        body = host.format_array(self.numpy(), prefix="tensor(")
        extra = f", backend={self.backend!r}"
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extra += f", dtype={self.dtype!r}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    # -- autograd ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf in the graph.

        ``gradient`` is needed when ``self`` is not a scalar: it is the gradient of
        some scalar with respect to ``self``. The graph is freed afterwards unless
        ``retain_graph=True``. ``inputs`` (tensors) limits the accumulation to them,
        as PyTorch's. ``create_graph=True`` records the backward pass itself, so the
        gradients put in ``.grad`` can be differentiated again (see :mod:`gdl.higher_order`);
        the graph is then kept unless ``retain_graph=False``.
        """
        if create_graph:
            from gdl.autograd import backward

            gradient = None if gradient is None else (gradient if isinstance(gradient, Tensor) else
                                                      Tensor._wrap(self._backend.from_host(gradient), self._backend))
            backward(self, gradient, retain_graph=retain_graph, create_graph=True, inputs=inputs)
            return
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn "
                "(did you forget requires_grad=True, or run under gdl.no_grad()?)"
            )
        grad = root_gradient(self, gradient, "backward()", "gradient=...")
        if inputs is None:
            run_backward(self, grad, bool(retain_graph))
        else:
            from gdl.autograd import backward

            backward(self, grad_tensors=Tensor._wrap(grad, self._backend), retain_graph=retain_graph, inputs=inputs)


def root_gradient(t: Tensor, gradient, op: str, how: str):
    """The array that backpropagation from ``t`` starts with: ones for a one-element
    ``t`` when ``gradient`` is None, else ``gradient`` (a Tensor or host array of
    ``t``'s shape). ``how`` tells the user how to pass one."""
    if gradient is None:
        if t.numel() != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs (as in PyTorch), "
                f"but this tensor has shape {t.shape}; pass {how}"
            )
        return t._backend.ones(t.data.shape, t.data.dtype)
    grad = gradient.data if isinstance(gradient, Tensor) else t._backend.from_host(gradient)
    if tuple(grad.shape) != t.shape:
        raise ValueError(f"{op}: gradient has shape {tuple(grad.shape)}, expected the tensor's shape {t.shape}")
    return grad


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an array) from ``root`` through the recorded graph into
    the leaves' ``.grad``. :func:`backprop` is the general form."""
    backprop(((root, grad),), retain_graph)


def _start(roots):
    """The engine's starting state from ``(tensor, gradient)`` pairs: gradients by tensor
    id (a tensor given twice gets the sum), the heap of tensors with a node, the leaves."""
    grads, heap, leaves = {}, [], []
    for t, g in roots:
        key = id(t)
        if key in grads:
            grads[key] = grads[key] + g
        else:
            grads[key] = g
            if t.grad_fn is None:
                leaves.append(t)
            else:
                heappush(heap, (-t.grad_fn.seq, t))
    return grads, heap, leaves


def backprop(roots, retain_graph=False, capture=None):
    """The engine: backpropagate from ``roots``, pairs ``(tensor, gradient array)``.

    Tensors are visited in decreasing creation order of their nodes (a heap keyed
    by :attr:`Node.seq`): every consumer of a tensor was created after it, so when
    a tensor comes off the heap its gradient is complete. There its hooks run (see
    :meth:`Tensor.register_hook`), then its node maps the gradient to its inputs.
    Leaves receive their gradients at the end. Node backward functions and hooks
    run with graph building off.

    ``capture`` (used by :func:`gdl.autograd.grad`) is a dict ``{id(tensor): None}``:
    instead of accumulating into ``.grad``, the engine fills in those tensors'
    gradients and runs only the nodes that lead to them.

    A node's backward may return, instead of an array, a row-sparse gradient or a
    :class:`~gdl.slice_grad.SliceGrad` (basic indexing: ``x[key]``); they add
    themselves to other gradients, slices in place into one buffer per tensor, so
    the backward of ``k`` slices of ``x`` costs ``x``'s size once, not ``k`` times.
    Where a gradient is consumed (a node's backward, hooks, capture, ``.grad``) it
    is an array again (row-sparse ones stay so for hooks, capture and ``.grad``).
    """
    grads, heap, leaves = _start(roots)
    # the buffers put into a .grad in this pass (see _accumulate); the roots' gradients
    # count as handed out already: the caller holds them (backward(gradient=g))
    handed = {_memory_owner(t, g) for t, g in roots}
    needed = None if capture is None else _leading_to(heap, capture)
    mode, _grad_enabled[0] = _grad_enabled[0], False
    if capture is not None:
        _captures.append(capture)
    try:
        while heap:
            t = heappop(heap)[1]
            g = grads.pop(id(t))
            node = t.grad_fn
            if needed is not None:
                if id(t) not in needed:  # leads to no tensor asked for: skip its node
                    continue
                g = _unsliced(g)
                if id(t) in capture:
                    # PyTorch's capture points: a non-leaf whose node must still run (it leads
                    # to another tensor asked for) gives its gradient before its hooks; one
                    # whose node stops here gives it after them, as a leaf does
                    if not any(id(i) in needed for i in node.inputs):
                        capture[id(t)] = _on_gradient(t, g, False, handed) if t._retain else g
                        continue
                    capture[id(t)] = g
                if t._retain:
                    g = _on_gradient(t, g, False, handed)
            elif t._retain:  # hooks or retain_grad()
                g = _on_gradient(t, _unsliced(g), True, handed)
            if node.backward is None:
                raise RuntimeError(
                    f"backward(): trying to go through the graph a second time at "
                    f"{node!r}; its saved values were freed after the first backward(). "
                    f"Pass retain_graph=True to the first call if you need this."
                )
            if isinstance(g, _NOT_ARRAY):  # backward takes arrays (only leaves keep a row-sparse one)
                g = g.to_dense().data if isinstance(g, RowSparseGrad) else g.dense()
            in_grads = node.backward(g)
            if _anomaly[0]:
                _check_anomaly(node, in_grads)
            for inp, ig in zip(node.inputs, in_grads):
                if ig is None or not inp.requires_grad:
                    continue
                key = id(inp)
                prev = grads.get(key)
                if prev is None:
                    grads[key] = ig
                    if inp.grad_fn is None:
                        leaves.append(inp)
                    else:
                        heappush(heap, (-inp.grad_fn.seq, inp))
                else:  # a row-sparse or slice gradient adds itself, to another one or to an array
                    grads[key] = ig + prev if isinstance(ig, _ADDS_ITSELF) else prev + ig
            if not retain_graph:
                node.backward = None
        for leaf in leaves:
            g = _unsliced(grads.pop(id(leaf)))
            if leaf._retain:
                g = _on_gradient(leaf, g, False, handed)
            if capture is None:
                _accumulate(leaf, g, handed)
                if leaf._retain and leaf._retain is not True and leaf._retain.post:
                    for hook in tuple(leaf._retain.post.values()):
                        hook(leaf)  # register_post_accumulate_grad_hook: .grad is complete
            elif id(leaf) in capture:  # (a checkpoint's recomputation may have put a part there)
                capture[id(leaf)] = g if capture[id(leaf)] is None else capture[id(leaf)] + g
    finally:
        _grad_enabled[0] = mode
        if capture is not None:
            _captures.pop()


_NOT_ARRAY = (EngineGrad, RowSparseGrad)
_ADDS_ITSELF = (SliceGrad, RowSparseGrad)


def _unsliced(g):
    """``g`` as an array if it is a slice gradient or the engine's sum of them."""
    return g.dense() if isinstance(g, EngineGrad) else g


def _leading_to(heap, capture):
    """The ids of the tensors (among those reachable from the heap's) from which a
    tensor in ``capture`` can be reached: the part of the graph worth running."""
    leads = {}  # id -> bool
    stack = [(t, False) for _, t in heap]
    while stack:
        t, expanded = stack.pop()
        key = id(t)
        if expanded:
            leads[key] = key in capture or any(leads.get(id(i), False) for i in t.grad_fn.inputs)
            continue
        if key in leads:
            continue
        if t.grad_fn is None:
            leads[key] = key in capture
            continue
        leads[key] = False  # provisional (the graph has no cycles)
        stack.append((t, True))
        stack.extend((i, False) for i in t.grad_fn.inputs if i.requires_grad and id(i) not in leads)
    return {key for key, yes in leads.items() if yes}


def _on_gradient(t, g, retain, handed=None):
    """``t``'s complete gradient ``g`` has arrived: run its hooks (in the order they were
    registered; one may return a replacement), then keep ``.grad`` if ``retain_grad()``
    asked for it (and ``retain``). Returns the gradient to pass on."""
    extra = t._retain
    if extra is True:
        keep = True
    else:
        for hook in tuple(extra.hooks.values()):
            new = hook(g if isinstance(g, RowSparseGrad) else Tensor._wrap(g, t._backend))
            if new is not None:
                g = _hook_result(t, hook, new)
        keep = extra.retain
    if keep and retain and t.grad_fn is not None:
        _accumulate(t, g, handed)
    return g


def _hook_result(t, hook, new):
    if isinstance(new, RowSparseGrad):
        data = new
    elif isinstance(new, Tensor):
        data = new.data
    else:
        raise TypeError(
            f"hook {getattr(hook, '__name__', hook)!r} returned a {type(new).__name__}; "
            f"a gradient hook returns a Tensor or None"
        )
    if tuple(data.shape) != t.shape:
        raise RuntimeError(
            f"hook {getattr(hook, '__name__', hook)!r} has changed the size of the gradient: "
            f"returned shape {tuple(data.shape)}, expected the tensor's shape {t.shape}"
        )
    # the hook's caller may keep (and later change) what it returned: the engine takes a copy
    return data.copy() if isinstance(data, RowSparseGrad) else t._backend.xp.asarray(data, copy=True)


class _GradHooks:
    """What ``Tensor._retain`` holds once a tensor has gradient hooks: the hooks (by
    handle id, in registration order), the post-accumulate hooks of a leaf, and whether
    ``retain_grad()`` was asked for. Without hooks ``_retain`` is a plain bool, so the
    engine's check stays one test."""

    __slots__ = ("hooks", "post", "retain")

    def __init__(self, retain):
        self.hooks = {}
        self.post = {}
        self.retain = retain


def _check_anomaly(node, in_grads):
    """Under anomaly detection: refuse a node whose backward gave NaN, saying where its
    forward op ran (as PyTorch's ``detect_anomaly``)."""
    for position, ig in enumerate(in_grads):
        values = ig.values if isinstance(ig, RowSparseGrad) else ig
        if isinstance(values, SliceGrad) or values is None or not hasattr(values, "dtype"):
            continue
        if not dtypes.as_dtype(values.dtype).is_floating_point:
            continue
        xp = node.inputs[position]._backend.xp
        if bool(xp.any(xp.isnan(values))):
            where = "".join(node.stack or ["  (made before anomaly detection was turned on)\n"])
            raise RuntimeError(
                f"Function '{node.name}Backward' returned nan values in its {position}th output "
                f"(the gradient for its input {position}). Its forward op ran here:\n{where}"
            )


def _memory_owner(t, a) -> int:
    """The id of the array that owns the memory of ``a`` (a gradient array of tensor
    ``t``), from ``t``'s backend: two views of one buffer have one owner."""
    return t._backend.memory_owner(a)


def _accumulate(t, g, handed=None):
    """Add ``g`` into ``t.grad``. ``handed``: the owners (:func:`_memory_owner`) of the
    buffers already put into a ``.grad`` (or held by the caller) in this backward pass.
    An op may pass one array, or views of it, to two inputs (``x + y`` gives both the
    same gradient, ``x.reshape(3) + y`` a view to one), so a second tensor gets its own
    copy: an in-place change of one ``.grad`` must not change another's."""
    sparse = isinstance(g, RowSparseGrad)
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype) if sparse else t._backend.xp.astype(g, t.data.dtype)
    if t.grad is None:
        if handed is not None:
            owner = _memory_owner(t, g.values if sparse else g)
            if owner in handed:
                g = g.copy() if sparse else t._backend.xp.asarray(g, copy=True)
            else:
                handed.add(owner)
        t.grad = g if sparse else Tensor._wrap(g, t._backend)
    elif isinstance(t.grad, RowSparseGrad):
        t.grad = t.grad + g if sparse else Tensor._wrap(t.grad + g, t._backend)
    else:  # a dense gradient so far: it stays dense (a sparse one adds itself, on the left)
        t.grad = Tensor._wrap(g + t.grad.data if sparse else t.grad.data + g, t._backend)


# -- creation ------------------------------------------------------------------------------


def to_arguments(op, backend, dtype, non_blocking, copy, device):
    """``(backend, dtype, copy)`` from the arguments of ``Tensor.to``/``Module.to`` in any
    of PyTorch's forms: ``(device, dtype, non_blocking, copy)``, ``(dtype, non_blocking,
    copy)`` or ``(other_tensor, non_blocking, copy)``."""
    backend = pick_backend(op, backend, device)
    if isinstance(backend, Tensor):  # to(other): its backend and dtype
        if isinstance(dtype, bool):  # positional (other, non_blocking, copy)
            copy = non_blocking if isinstance(non_blocking, bool) else copy
            dtype = None
        backend, dtype = backend._backend, backend.dtype if dtype is None else dtype
    elif dtype is None or isinstance(dtype, bool):
        if isinstance(backend, dtypes.DType) or (isinstance(backend, str) and backend in dtypes.ALL):
            if isinstance(dtype, bool):  # positional (dtype, non_blocking, copy)
                copy = non_blocking if isinstance(non_blocking, bool) else copy
            backend, dtype = None, backend
        elif isinstance(dtype, bool):
            raise TypeError(f"{op}: the second argument is the dtype, got {dtype!r}")
    return backend, dtype, bool(copy)


def _resolve_dtype(backend, dtype):
    return None if dtype is None else dtypes.backend_dtype(backend, dtype)


def _default_float(backend):
    return dtypes.backend_dtype(backend, dtypes.get_default_dtype())


def tensor(data, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    ``data`` may be nested Python lists or numbers, a NumPy array, an array of any
    backend, or a Tensor. Without ``dtype``: Python floats become the default float
    dtype (float32), Python ints int64, and arrays keep their own dtype.
    ``backend`` defaults to the current one (``gdl.get_backend()``); ``device=`` is a
    synonym, as in PyTorch (``"cpu"``, ``"cuda"``, a ``gdl.device``), here and in every
    creation function.
    """
    be = _backend_of("tensor", backend, device)
    xp = be.xp
    want = _resolve_dtype(be, dtype)
    if isinstance(data, Tensor):
        src = data
        arr = data.data if data._backend is be else be.from_host(src.numpy())
        arr = be.copy(arr) if arr is data.data else arr
    elif be.is_array(data):
        arr = be.copy(data)
    elif host.is_host_array(data):
        arr = be.from_host(data)
    else:
        from gdl.backends import find_backend_of

        owner = find_backend_of(data)
        if owner is not None:
            arr = be.from_host(owner.to_host(data))
        else:
            h = host.asarray(data)
            if host.is_float_kind(h) and want is None:
                h = h.astype(dtypes.get_default_dtype().name)
            arr = be.from_host(h)
    if want is not None and arr.dtype != want:
        arr = xp.astype(arr, want)
    return Tensor._wrap(arr, be, requires_grad)


def _backend_of(op, backend, device, like=None):
    """The Backend from ``backend=`` or its synonym ``device=`` (else ``like``'s, else the current one)."""
    spec = pick_backend(op, backend, device)
    return like._backend if spec is None and like is not None else get_backend_object(spec)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _filled(fill, shape, dtype, requires_grad, be):
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    arr = be.xp.full(_shape_arg(shape), fill, dtype=dt, device=be.device)
    return Tensor._wrap(arr, be, requires_grad)


def zeros(*shape, dtype=None, requires_grad=False, backend=None, device=None) -> Tensor:
    """A tensor of zeros: ``gdl.zeros(2, 3)`` or ``gdl.zeros((2, 3))``."""
    return _filled(0, shape, dtype, requires_grad, _backend_of("zeros", backend, device))


def ones(*shape, dtype=None, requires_grad=False, backend=None, device=None) -> Tensor:
    return _filled(1, shape, dtype, requires_grad, _backend_of("ones", backend, device))


def full(shape, fill_value, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None and isinstance(fill_value, bool):
        dtype = dtypes.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = dtypes.int64
    return _filled(fill_value, shape, dtype, requires_grad, _backend_of("full", backend, device))


def zeros_like(t: Tensor, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """Zeros with ``t``'s shape, dtype and backend (unless ``dtype``, ``backend``/``device``)."""
    return _filled(0, t.shape, dtype or t.dtype, requires_grad, _backend_of("zeros_like", backend, device, t))


def ones_like(t: Tensor, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    return _filled(1, t.shape, dtype or t.dtype, requires_grad, _backend_of("ones_like", backend, device, t))


def full_like(t: Tensor, fill_value, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """``fill_value`` everywhere, with ``t``'s shape, dtype (unless ``dtype``) and backend."""
    be = _backend_of("full_like", backend, device, t)
    return _filled(fill_value, t.shape, dtype or t.dtype, requires_grad, be)


def rand_like(t: Tensor, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """Uniform samples on [0, 1) with ``t``'s shape, dtype and backend."""
    be = _backend_of("rand_like", backend, device, t)
    return rand(*t.shape, dtype=_float_like("rand_like", t, dtype), requires_grad=requires_grad, backend=be)


def randn_like(t: Tensor, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """Standard normal samples with ``t``'s shape, dtype and backend."""
    be = _backend_of("randn_like", backend, device, t)
    return randn(*t.shape, dtype=_float_like("randn_like", t, dtype), requires_grad=requires_grad, backend=be)


def _float_like(op, t, dtype):
    dtype = t.dtype if dtype is None else dtypes.as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"{op}: needs a floating-point dtype, got {dtype.name}; pass e.g. dtype=gdl.float32")
    return dtype


def from_numpy(array) -> Tensor:
    """A tensor on the current backend holding a copy of the NumPy ``array``, dtype kept.

    Unlike ``torch.from_numpy`` the memory is never shared (every backend copies on the
    way in, NumPy included): writing to one afterwards does not change the other.

    >>> import gdl
    >>> gdl.from_numpy(gdl.zeros(2, 3, dtype=gdl.float64).numpy()).dtype
    gdl.float64
    """
    if not host.is_host_array(array):
        raise TypeError(
            f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}; use gdl.tensor(...) for other data"
        )
    return tensor(array)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    """``arange(5)`` = 0..4; ints give int64, floats the default float dtype."""
    be = _backend_of("arange", backend, device)
    if stop is None:
        start, stop = 0, start
    dt = _resolve_dtype(be, dtype)
    if dt is None:
        is_int = all(isinstance(v, int) for v in (start, stop, step))
        dt = be.xp.int64 if is_int else _default_float(be)
    arr = be.xp.arange(start, stop, step, dtype=dt, device=be.device)
    return Tensor._wrap(arr, be, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    be = _backend_of("eye", backend, device)
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    return Tensor._wrap(be.xp.eye(n, m, dtype=dt, device=be.device), be, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, as
    ``torch.linspace`` (default float dtype; computed in float64, then converted:
    an integer ``dtype`` truncates toward zero, as PyTorch).

    >>> import gdl
    >>> gdl.linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ], backend='numpy')
    """
    be = _backend_of("linspace", backend, device)
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    arr = be.xp.linspace(float(start), float(end), _steps("linspace", steps), dtype=be.xp.float64, device=be.device)
    return Tensor._wrap(arr if arr.dtype == dt else be.xp.astype(arr, dt), be, requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, backend=None, *, device=None) -> Tensor:
    """``base ** linspace(start, end, steps)``, as ``torch.logspace`` (computed in float64,
    then converted to ``dtype``, the default float dtype unless given).

    >>> import gdl
    >>> gdl.logspace(0, 2, 3)
    tensor([  1.,  10., 100.], backend='numpy')
    """
    be = _backend_of("logspace", backend, device)
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    xp = be.xp
    exps = xp.linspace(float(start), float(end), _steps("logspace", steps), dtype=xp.float64, device=be.device)
    arr = xp.pow(xp.asarray(float(base), dtype=xp.float64, device=be.device), exps)
    return Tensor._wrap(arr if arr.dtype == dt else xp.astype(arr, dt), be, requires_grad)


def _steps(op, steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"{op}: steps must be a non-negative int, got {steps!r}")
    return steps


def empty(*shape, dtype=None, requires_grad=False, backend=None, device=None) -> Tensor:
    """A tensor of ``shape`` for values to be written later, as ``torch.empty``; gdl
    fills it with zeros (the Array API's ``empty`` gives no guarantee either way, so
    gdl does not leave it uninitialised: same result every time)."""
    return _filled(0, shape, dtype, requires_grad, _backend_of("empty", backend, device))


def empty_like(t: Tensor, dtype=None, requires_grad=False, *, backend=None, device=None) -> Tensor:
    """A tensor of ``t``'s shape, dtype (unless ``dtype``) and backend, as
    ``torch.empty_like``; filled with zeros in gdl (see :func:`empty`)."""
    return _filled(0, t.shape, dtype or t.dtype, requires_grad, _backend_of("empty_like", backend, device, t))


def tril_indices(row, col, offset=0, dtype=None, backend=None, *, device=None) -> Tensor:
    """The ``(2, N)`` row and column indices of the lower triangle of a ``row`` × ``col``
    matrix (on and below diagonal ``offset``), in row-major order, as ``torch.tril_indices``.

    >>> import gdl
    >>> gdl.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]], backend='numpy')
    """
    return _triangle_indices(row, col, offset, dtype, _backend_of("tril_indices", backend, device), lower=True)


def triu_indices(row, col, offset=0, dtype=None, backend=None, *, device=None) -> Tensor:
    """The ``(2, N)`` indices of the upper triangle (on and above diagonal ``offset``), as
    ``torch.triu_indices``."""
    return _triangle_indices(row, col, offset, dtype, _backend_of("triu_indices", backend, device), lower=False)


def _triangle_indices(row, col, offset, dtype, be, lower):
    xp = be.xp
    i = xp.arange(int(row), dtype=xp.int64, device=be.device)[:, None]
    j = xp.arange(int(col), dtype=xp.int64, device=be.device)[None, :]
    mask = (j - i <= offset) if lower else (j - i >= offset)
    rows, cols = xp.nonzero(mask)
    arr = xp.stack([rows, cols])
    dt = _resolve_dtype(be, dtype) or xp.int64
    return Tensor._wrap(arr if arr.dtype == dt else xp.astype(arr, dt), be)


def rand(*shape, dtype=None, requires_grad=False, backend=None, device=None) -> Tensor:
    """Uniform samples on [0, 1) from the backend's seeded generator."""
    be = _backend_of("rand", backend, device)
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    return Tensor._wrap(be.uniform(_shape_arg(shape), dtype=dt), be, requires_grad)


def randn(*shape, dtype=None, requires_grad=False, backend=None, device=None) -> Tensor:
    """Standard normal samples from the backend's seeded generator."""
    be = _backend_of("randn", backend, device)
    dt = _resolve_dtype(be, dtype) or _default_float(be)
    return Tensor._wrap(be.normal(_shape_arg(shape), dtype=dt), be, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, backend=None, device=None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``, as ``torch.randint``: ``randint(high,
    size)`` starts at 0. ``dtype`` defaults to int64 (a float dtype holds the same integers).

    >>> import gdl
    >>> gdl.randint(3, (4,)).shape, gdl.randint(5, 7, (2, 2), dtype=gdl.int32).dtype
    ((4,), gdl.int32)
    """
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None or isinstance(size, int):
        raise TypeError(f"randint: size must be a tuple of ints, got {size!r}")
    if int(low) >= int(high):
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    be = _backend_of("randint", backend, device)
    out = be.integers(int(low), int(high), tuple(size))
    dt = _resolve_dtype(be, dtype)
    return Tensor._wrap(out if dt is None or out.dtype == dt else be.xp.astype(out, dt), be)


def randperm(n, *, dtype=None, backend=None, device=None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` says otherwise)."""
    be = _backend_of("randperm", backend, device)
    out = be.permutation(n)
    dt = _resolve_dtype(be, dtype)
    return Tensor._wrap(out if dt is None or out.dtype == dt else be.xp.astype(out, dt), be)


def empty_like_shape(shape, dtype=None, backend=None) -> Tensor:
    """Zeros of ``shape`` (used as storage before an initialiser fills it)."""
    return _filled(0, tuple(shape), dtype, False, get_backend_object(backend))
