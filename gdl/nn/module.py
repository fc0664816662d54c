"""Module: the base of every layer, and the containers Sequential, ModuleList, ModuleDict,
ParameterList and ParameterDict.

Parameters and submodules register themselves when assigned as attributes, as in
PyTorch, so ``named_parameters()`` and ``state_dict()`` keys match PyTorch's.

>>> import gdl
>>> from gdl import nn
>>> class Net(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.hidden = nn.Linear(4, 8)
...         self.out = nn.Linear(8, 1)
...     def forward(self, x):
...         return self.out(self.hidden(x).relu())
>>> [name for name, _ in Net().named_parameters()]
['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from gdl.backends import get_backend_object, pick_backend
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, no_grad


class Buffer(Tensor):
    """A tensor that registers itself as a buffer when assigned to a module attribute, as
    ``torch.nn.Buffer`` (PyTorch 2.5+): ``self.mean = nn.Buffer(gdl.zeros(3))`` is
    ``self.register_buffer("mean", gdl.zeros(3))``; ``persistent=False`` keeps it out of
    ``state_dict``. It shares ``data``'s array and keeps its ``requires_grad``; ``None``
    gives an empty float tensor.

    >>> import gdl
    >>> class Net(gdl.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.step = gdl.nn.Buffer(gdl.zeros(1))
    ...         self.cache = gdl.nn.Buffer(gdl.ones(2), persistent=False)
    >>> list(Net().state_dict())
    ['step']
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            from gdl.tensor import zeros

            data = zeros(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor (or None), got {type(data).__name__}")
        self.data, self._backend = data.data, data._backend
        self.grad, self.grad_fn, self._retain = None, None, False
        self.requires_grad = data.requires_grad
        self.persistent = bool(persistent)

    def __deepcopy__(self, memo) -> Buffer:
        out = Tensor.__deepcopy__(self, memo)
        out.persistent = self.persistent
        return out


class Module:
    """Base class of all layers and models: subclass it and define ``forward``."""

    training: bool

    def __init_subclass__(cls, **kwargs):
        """A layer whose constructor takes ``backend=`` also takes PyTorch's ``device=``
        (``nn.Linear(3, 4, device="cuda", dtype=gdl.float64)``), resolved here once."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        params = inspect.signature(init).parameters
        if "backend" not in params or "device" in params:
            return

        @functools.wraps(init)
        def __init__(self, *args, device=None, **kw):
            if device is not None:
                kw["backend"] = pick_backend(cls.__name__, kw.get("backend"), device)
            init(self, *args, **kw)

        cls.__init__ = __init__

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration ----------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        if isinstance(value, Parameter):
            target = self._parameters
        elif isinstance(value, Module):
            target = self._modules
        elif isinstance(value, Buffer) and name not in self._parameters and name not in self._modules:
            self.register_buffer(name, value, value.persistent)
            return
        elif name in self.__dict__.get("_buffer_names", ()):
            target = self._buffers
        elif name in self._parameters or name in self._modules:
            if value is not None:  # as PyTorch: a registered name takes its own kind, or None
                kind = "parameter" if name in self._parameters else "child module"
                wanted = "a Parameter" if name in self._parameters else "a Module"
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as {kind} {name!r} "
                    f"({wanted} or None expected; `del` the attribute first to store something else)"
                )
            target = self._parameters if name in self._parameters else self._modules
        else:
            target = None
        for store in (self._parameters, self._modules, self._buffers):
            if store is not target:  # re-assigning keeps the key's place (state_dict order)
                store.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
            return
        target[name] = value
        self._mirror(name, value)

    def _mirror(self, name, value):
        """Keep a registered entry in ``__dict__`` too, so reading ``self.weight`` is a
        plain attribute hit instead of a failed lookup and ``__getattr__`` (~1 µs each,
        a third of a small ``Linear`` call). The stores stay the record; a name that the
        class itself defines (a method, a property) is not mirrored, so it keeps winning."""
        if hasattr(type(self), name):
            self.__dict__.pop(name, None)
        else:
            self.__dict__[name] = value

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                del store[name]
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
            return
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        self._buffers[name] = tensor
        self._mirror(name, tensor)
        if not persistent:
            self._non_persistent.add(name)
        else:  # re-registering as persistent (e.g. assigning an nn.Buffer) puts it back in state_dict
            self._non_persistent.discard(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (a non-empty str without ``'.'``)."""
        owner = type(self).__name__
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{owner}: child {name!r} must be a Module or None, got {type(module).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"{owner}: a child module's name must be a str, got {type(name).__name__} {name!r}")
        if "." in name or name == "":
            raise KeyError(f"{owner}: a child module's name must be non-empty and contain no '.', got {name!r}")
        self._modules[name] = module
        self._mirror(name, module)

    # -- calling ---------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    _has_hooks = False  # set on a module when a hook is registered: only then does __call__ look for them

    def __call__(self, *args, **kwargs):
        if not self._has_hooks:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        """``forward`` with the hooks around it, in PyTorch's order: forward pre-hooks,
        (backward hooks wrap the inputs), forward, forward hooks, (backward hooks wrap
        the outputs)."""
        d = self.__dict__
        with_kwargs = d.get("_hooks_with_kwargs", ())
        for hid, hook in tuple(d.get("_forward_pre_hooks", {}).items()):
            if hid in with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), got {res!r}"
                        )
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = None
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            from gdl.autograd import BackwardHook

            bw = BackwardHook(self, d.get("_backward_hooks", {}), d.get("_backward_pre_hooks", {}))
            args = bw.setup_input(args)
        hooks = tuple(d.get("_forward_hooks", {}).items())
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            always = d.get("_hooks_always_called", ())
            for hid, hook in hooks:
                if hid in always:
                    hook(self, args, kwargs, None) if hid in with_kwargs else hook(self, args, None)
            raise
        for hid, hook in hooks:
            res = hook(self, args, kwargs, result) if hid in with_kwargs else hook(self, args, result)
            if res is not None:
                result = res
        if bw is not None:
            result = bw.setup_output(result)
        return result

    # -- hooks ---------------------------------------------------------------------------------
    def _hook_store(self, name):
        d = self.__dict__
        store = d.get(name)
        if store is None:
            store = d[name] = OrderedDict() if name.endswith("hooks") else set()
        if not name.startswith("_load_state_dict"):  # only call hooks make __call__ look for hooks
            d["_has_hooks"] = True
        return store

    def _add_hook(self, name, hook, prepend=False, with_kwargs=False, always_call=False):
        from gdl.autograd import RemovableHandle

        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a hook must be callable, got {type(hook).__name__}")
        store = self._hook_store(name)
        extras = []
        if with_kwargs:
            extras.append(self._hook_store("_hooks_with_kwargs"))
        if always_call:
            extras.append(self._hook_store("_hooks_always_called"))
        handle = RemovableHandle(store, *[_SetAsDict(s) for s in extras])
        store[handle.id] = hook
        if prepend:
            store.move_to_end(handle.id, last=False)
        for s in extras:
            s.add(handle.id)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """Call ``hook(module, args)`` before each ``forward``; it may return new ``args``
        (a tuple, or a single value that is wrapped in one) or ``None``. With
        ``with_kwargs=True``: ``hook(module, args, kwargs)`` returning ``None`` or
        ``(args, kwargs)``. Hooks run in registration order (``prepend=True``: first).
        Returns a handle whose ``remove()`` removes the hook.

        >>> import gdl
        >>> lin = gdl.nn.Linear(2, 1)
        >>> h = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))   # zero the input
        >>> bool((lin(gdl.ones(1, 2)) == lin.bias).all())
        True
        >>> h.remove()
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """Call ``hook(module, args, output)`` after each ``forward``; it may return a
        replacement output, or ``None``. With ``with_kwargs=True``:
        ``hook(module, args, kwargs, output)``. ``always_call=True`` calls it (with
        output ``None``) also when forward raised. Returns a removable handle.

        >>> import gdl
        >>> model = gdl.nn.Sequential(gdl.nn.Linear(4, 3), gdl.nn.ReLU())
        >>> seen = {}
        >>> h = model[0].register_forward_hook(lambda m, args, out: seen.update(hidden=out.shape))
        >>> _ = model(gdl.zeros(2, 4)); seen
        {'hidden': (2, 3)}
        >>> h.remove()
        """
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_input, grad_output)`` in backward, once per call of
        the module, when the gradients with respect to its inputs have been computed.

        ``grad_output``: the gradients with respect to the module's tensor outputs (one
        per tensor of a tuple output; ``None`` for one that got no gradient).
        ``grad_input``: one entry per positional argument of ``forward``: the gradient
        of a tensor argument (zeros if it does not require grad), ``None`` for other
        arguments. The hook may return a replacement ``grad_input`` (same length) or
        ``None``. As in PyTorch, the module's tensor inputs and outputs are passed
        through identity steps (only while the hook is registered), so the outputs
        are new tensors; keyword arguments are not covered.

        >>> import gdl
        >>> lin = gdl.nn.Linear(3, 2)
        >>> h = lin.register_full_backward_hook(
        ...     lambda m, gin, gout: print([g.shape for g in gin], [g.shape for g in gout]))
        >>> lin(gdl.ones(4, 3, requires_grad=True)).sum().backward()
        [(4, 3)] [(4, 2)]
        >>> h.remove()
        """
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_output)`` in backward when the gradients with respect
        to the module's outputs are known (before those of its inputs are computed); it
        may return a replacement ``grad_output`` or ``None``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    # -- lookup by dotted name ----------------------------------------------------------------
    def get_submodule(self, target: str = "") -> "Module":
        """The submodule at the dotted path ``target`` (``""`` is this module), as PyTorch's.

        >>> import gdl
        >>> model = gdl.nn.Sequential(gdl.nn.Linear(2, 3), gdl.nn.Sequential(gdl.nn.Linear(3, 1)))
        >>> model.get_submodule("1.0")
        Linear(in_features=3, out_features=1, bias=True)
        >>> model.get_parameter("1.0.bias").shape
        (1,)
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules or mod._modules[item] is None:
                if hasattr(mod, item) and not isinstance(getattr(mod, item), Module):
                    raise AttributeError(f"`{item}` is not an nn.Module (looking up {target!r})")
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}` (looking up {target!r})")
            mod = mod._modules[item]
        return mod

    def _get_member(self, target: str, store: str, kind: str):
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in getattr(mod, store):
            if hasattr(mod, name):
                raise AttributeError(f"`{name}` is not {kind} (looking up {target!r})")
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}` (looking up {target!r})")
        return getattr(mod, store)[name]

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. ``"encoder.0.weight"``)."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (e.g. ``"bn.running_mean"``)."""
        return self._get_member(target, "_buffers", "a buffer")

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of :meth:`add_module`."""
        self.add_module(name, module)

    # -- traversal ----------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo=None):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, store, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(name, Parameter) pairs; a parameter shared by two layers appears once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients --------------------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode (dropout active, batch statistics); returns ``self``."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (dropout off, running statistics); returns ``self``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None or p.grad.is_sparse:
                p.grad = None
            else:
                p.grad = Tensor._wrap(p._backend.xp.zeros_like(p.grad.data), p._backend)

    def requires_grad_(self, requires_grad: bool = True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- backends -------------------------------------------------------------------------------------
    def to(self, backend=None, dtype=None, non_blocking=False, *, device=None):
        """Move (and/or cast) every parameter and buffer in place; returns ``self``.

        PyTorch's forms: ``model.to("cuda")`` / ``model.to("cpu")`` (or a backend name,
        or ``device=``), ``model.to(gdl.float64)``, ``model.to(device, dtype)`` and
        ``model.to(tensor)`` (its backend and dtype). Only floating dtypes: integer
        parameters would lose their values. ``non_blocking`` is ignored."""
        from gdl import dtypes
        from gdl.tensor import to_arguments

        backend, dtype, _ = to_arguments("Module.to", backend, dtype, non_blocking, False, device)
        if dtype is not None and not dtypes.as_dtype(dtype).is_floating_point:
            raise TypeError(
                f"Module.to only accepts floating-point dtypes, got {dtypes.as_dtype(dtype).name} "
                f"(it would truncate every weight)"
            )
        target = get_backend_object(backend) if backend is not None else None
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None:
                        _move_in_place(t, target, dtype)
        return self

    def cpu(self):
        """Move every parameter and buffer to the NumPy backend, in place (``to("numpy")``)."""
        return self.to("numpy")

    def cuda(self, device=None):
        """Move every parameter and buffer to the CuPy backend, in place (``to("cuda")``)."""
        from gdl.backends import device as _device

        target = _device("cuda" if device is None else device)
        if target.type != "cuda":
            raise ValueError(f"Module.cuda(): expected a cuda device, got {str(target)!r}")
        return self.to(target)

    def float(self):
        """Cast floating-point parameters and buffers to the default float dtype (float32
        unless changed with ``gdl.set_default_dtype``), as ``Tensor.float()``."""
        from gdl import dtypes

        return self.to(dtype=dtypes.get_default_dtype())

    def double(self):
        """Cast floating-point parameters and buffers to float64."""
        from gdl import dtypes

        return self.to(dtype=dtypes.float64)

    def half(self):
        """Cast floating-point parameters and buffers to float16 (not on array_api_strict,
        whose standard has no float16)."""
        from gdl import dtypes

        return self.to(dtype=dtypes.float16)

    # -- state ------------------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> OrderedDict:
        """Parameters and persistent buffers by name (PyTorch's keys and layouts)."""
        out = OrderedDict()
        for mod_prefix, module in self._every_name(prefix.rstrip(".")):
            for name, p in module._parameters.items():
                if p is not None:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = b.detach()
        return out

    def _every_name(self, prefix: str = ""):
        """``(name, module)`` for this module and its descendants, a shared one under each
        of its names (``named_modules`` lists it once): the keys of ``state_dict``, as PyTorch's."""
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child._every_name(f"{prefix}.{name}" if prefix else name)

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` at the start of :meth:`load_state_dict` (of this module
        or any module holding it), as PyTorch's: it may rename or convert the keys under
        ``prefix`` (this module's, e.g. ``"0.lin."``) in ``state_dict`` (a copy of the caller's),
        and append messages to ``error_msgs`` (a RuntimeError then lists them). Returns a handle."""
        return self._add_hook("_load_state_dict_pre_hooks", hook)

    def register_load_state_dict_post_hook(self, hook):
        """Call ``hook(module, incompatible_keys)`` after :meth:`load_state_dict` copied the
        values; ``incompatible_keys`` holds the ``missing_keys`` and ``unexpected_keys`` lists,
        which the hook may empty. Returns a handle."""
        return self._add_hook("_load_state_dict_post_hooks", hook)

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy tensors from ``state_dict`` into this module's parameters and buffers.

        With ``strict=True`` a missing key, an unexpected key or a wrong shape is a
        ``KeyError``/``ValueError`` listing the keys. Values are copied onto each
        parameter's own backend and dtype. Returns ``(missing, unexpected)``.
        Hooks registered with :meth:`register_load_state_dict_pre_hook` may first rewrite
        the keys (``weight_norm`` turns the old ``weight_g``/``weight_v`` into its own).
        """
        state_dict = self._run_load_pre_hooks(state_dict, strict)
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong = [
            f"{k}: expected {own[k].shape}, got {tuple(_shape_of(state_dict[k]))}"
            for k in own
            if k in state_dict and tuple(_shape_of(state_dict[k])) != own[k].shape
        ]
        if wrong:
            raise ValueError("load_state_dict: shape mismatch for " + "; ".join(wrong))
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        targets = self._state_targets()
        with no_grad():
            for k, value in state_dict.items():
                if k in targets:
                    _copy_into(targets[k], value)
        incompatible = _IncompatibleKeys(missing, unexpected)
        for _, module in self._every_name():
            for hook in tuple(module.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                hook(module, incompatible)
        return missing, unexpected

    def _run_load_pre_hooks(self, state_dict, strict):
        """``state_dict`` as the modules' load pre-hooks leave it (a copy, if any hook runs)."""
        hooked = [(name, m) for name, m in self._every_name() if m.__dict__.get("_load_state_dict_pre_hooks")]
        if not hooked:
            return state_dict
        state_dict = OrderedDict(state_dict)
        errors = []
        for name, module in hooked:
            for hook in tuple(module._load_state_dict_pre_hooks.values()):
                hook(module, state_dict, f"{name}." if name else "", {}, strict, [], [], errors)
        if errors:
            raise RuntimeError("load_state_dict: " + "; ".join(map(str, errors)))
        return state_dict

    def _state_targets(self):
        out = {}
        for mod_prefix, module in self._every_name():
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None:
                        out[f"{mod_prefix}.{name}" if mod_prefix else name] = t
        return out

    # -- printing --------------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One line of this module's settings, shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class _IncompatibleKeys:
    """What a load post-hook sees: the ``missing_keys`` and ``unexpected_keys`` lists."""

    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys, self.unexpected_keys = missing_keys, unexpected_keys


class _SetAsDict:
    """A set seen through the one method a RemovableHandle uses (``pop(id, default)``)."""

    def __init__(self, s):
        self.s = s

    def pop(self, key, default=None):
        self.s.discard(key)
        return default


def _shape_of(value):
    return value.shape


def _copy_into(target: Tensor, value) -> None:
    be = target._backend
    if isinstance(value, Tensor):
        data = value.data if value._backend is be else be.from_host(value.numpy())
    elif be.is_array(value):
        data = value
    else:
        data = be.from_host(value)
    if data.dtype != target.data.dtype:
        data = be.xp.astype(data, target.data.dtype)
    target.data = be.xp.asarray(data, copy=True)


def _move_in_place(t: Tensor, target, dtype) -> None:
    from gdl import dtypes

    if t.grad is not None and t.grad.is_sparse:
        t.grad = t.grad.to_dense()
    if target is not None and target is not t._backend:
        t.data = target.from_host(t._backend.to_host(t.data))
        if t.grad is not None:
            t.grad = Tensor._wrap(target.from_host(t.grad.numpy()), target)
        t._backend = target
    if dtype is not None and dtypes.is_floating(t.data.dtype):
        want = dtypes.backend_dtype(t._backend, dtype)
        t.data = t._backend.xp.astype(t.data, want)
        if t.grad is not None:
            t.grad = Tensor._wrap(t._backend.xp.astype(t.grad.data, want), t._backend)


class Sequential(Module):
    """Modules applied in order; children are named ``0``, ``1``, ...

    >>> import gdl
    >>> model = gdl.nn.Sequential(gdl.nn.Linear(784, 100), gdl.nn.ReLU(), gdl.nn.Linear(100, 10))
    >>> list(model.state_dict())[:2]
    ['0.weight', '0.bias']
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # the children keep their names, as in PyTorch
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered (keys ``0``, ``1``, ...)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion order.

    ``modules`` is a mapping or an iterable of ``(name, module)`` pairs. Keys are
    strings without ``'.'`` that do not shadow an attribute (``'keys'``, ``'training'``).

    >>> import gdl
    >>> heads = gdl.nn.ModuleDict({"cls": gdl.nn.Linear(4, 3), "box": gdl.nn.Linear(4, 2)})
    >>> heads["cls"](gdl.zeros(1, 4)).shape
    (1, 3)
    >>> list(heads.state_dict())[:2]
    ['cls.weight', 'cls.bias']
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if isinstance(key, str) and key not in self._modules and hasattr(self, key):
            raise KeyError(f"ModuleDict: attribute {key!r} already exists; a key cannot take its name")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]
        self.__dict__.pop(key, None)  # the mirror kept by add_module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module (``KeyError`` if absent)."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules) -> None:
        """Add (or overwrite) entries from a mapping or an iterable of ``(name, module)`` pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            modules = modules.items()
        elif isinstance(modules, (str, Module)) or not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update: expected a mapping or (name, module) pairs, got {type(modules).__name__}")
        for j, pair in enumerate(modules):
            if isinstance(pair, str) or not isinstance(pair, Iterable):
                raise TypeError(f"ModuleDict.update: element #{j} must be a (name, module) pair, got {pair!r}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element #{j} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]


def _as_parameter(owner: str, value) -> Parameter:
    """A Parameter as is; another Tensor wrapped in one (as PyTorch's containers do)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{owner}: expected a Parameter or a Tensor, got {type(value).__name__}")


def _param_line(key, p) -> str:
    size = "x".join(str(s) for s in p.shape)
    return f"  ({key}): Parameter containing: [{p.dtype!r} of size {size}]"


def _container_repr(self) -> str:
    """PyTorch's layout: one entry on the head line, more one per line."""
    lines = [_param_line(k, p) for k, p in self._parameters.items()]
    if len(lines) <= 1:
        return f"{type(self).__name__}({''.join(lines)})"
    return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ParameterList(Module):
    """A list of parameters, registered under the names ``0``, ``1``, ... (as PyTorch's), so
    they appear in ``parameters()`` and ``state_dict()``. A plain Tensor put in is wrapped
    in a :class:`Parameter`.

    >>> import gdl
    >>> from gdl import nn
    >>> ps = nn.ParameterList([nn.Parameter(gdl.zeros(2, 3)), gdl.ones(4)])
    >>> ps.append(gdl.zeros(1))
    ParameterList(
        (0): Parameter containing: [gdl.float32 of size 2x3]
        (1): Parameter containing: [gdl.float32 of size 4]
        (2): Parameter containing: [gdl.float32 of size 1]
    )
    >>> list(ps.state_dict()), ps[-1].shape
    (['0', '1', '2'], (1,))
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx) -> str:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise TypeError(f"ParameterList: indices must be ints or slices, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for a list of {n} parameters")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self)[idx])
        return self._parameters[self._index(idx)]

    def __setitem__(self, idx, value) -> None:
        self.register_parameter(self._index(idx), _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters.values()))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value) -> ParameterList:
        """Add ``value`` (a Parameter, or a Tensor made into one) under the next index."""
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values) -> ParameterList:
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called")

    __repr__ = _container_repr


class ParameterDict(Module):
    """A dict of parameters, registered under their keys in insertion order (as PyTorch's),
    so they appear in ``parameters()`` and ``state_dict()``. Keys are strings without
    ``'.'`` that do not shadow an attribute; a plain Tensor is wrapped in a :class:`Parameter`.

    >>> import gdl
    >>> from gdl import nn
    >>> pd = nn.ParameterDict({"shift": gdl.zeros(3), "scale": gdl.ones(3)})   # a dict: sorted, as PyTorch
    >>> pd["bias"] = nn.Parameter(gdl.zeros(3))
    >>> list(pd.state_dict()), "scale" in pd
    (['scale', 'shift', 'bias'], True)
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be str, got {type(key).__name__} {key!r}")
        if "." in key or key == "":
            raise KeyError(f"ParameterDict: a key must be non-empty and contain no '.', got {key!r}")
        if key not in self._parameters and hasattr(self, key):
            raise KeyError(f"ParameterDict: attribute {key!r} already exists; a key cannot take its name")
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]
        self.__dict__.pop(key, None)  # the mirror kept by register_parameter

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters))

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        """Remove ``key`` and return its parameter (``KeyError`` if absent)."""
        value = self[key]
        del self[key]
        return value

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in list(self._parameters):
            del self[key]

    def update(self, parameters) -> None:
        """Add (or overwrite) entries from a mapping or an iterable of ``(key, parameter)`` pairs.

        As PyTorch's: a plain ``dict`` is added in sorted key order (an ``OrderedDict``,
        a ParameterDict or a list of pairs keeps its order).
        """
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            parameters = parameters.items()
        elif isinstance(parameters, Mapping):
            parameters = sorted(parameters.items())
        elif isinstance(parameters, (str, Tensor, Module)) or not isinstance(parameters, Iterable):
            raise TypeError(
                f"ParameterDict.update: expected a mapping or (key, parameter) pairs, got {type(parameters).__name__}"
            )
        for j, pair in enumerate(parameters):
            if isinstance(pair, str) or not isinstance(pair, Iterable):
                raise TypeError(f"ParameterDict.update: element #{j} must be a (key, parameter) pair, got {pair!r}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"ParameterDict.update: element #{j} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called")

    __repr__ = _container_repr
