"""Parametrizations: a module's parameter computed from other tensors on every access, as
``torch.nn.utils.parametrize`` (reached as ``gdl.nn.utils.parametrize``).

:func:`register_parametrization` moves ``module.weight`` to
``module.parametrizations.weight.original`` (a Parameter) and turns the attribute
``weight`` into a property that returns ``parametrization(original)``. As in
PyTorch, the module's class is swapped for a generated subclass
(``ParametrizedLinear``) that holds the property, so ``state_dict()`` keys, the
``named_parameters()`` and the gradients are PyTorch's.

>>> import gdl
>>> from gdl import nn
>>> import gdl.nn.utils.parametrize as P
>>> class Symmetric(nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).mT
>>> m = P.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
>>> type(m).__name__, list(m.state_dict())
('ParametrizedLinear', ['bias', 'parametrizations.weight.original'])
>>> bool((m.weight == m.weight.mT).all())
True
>>> _ = P.remove_parametrizations(m, "weight")
>>> type(m).__name__, list(m.state_dict())
('Linear', ['bias', 'weight'])
"""

from __future__ import annotations

import collections.abc
import copyreg
from contextlib import contextmanager
from copy import deepcopy

from gdl.nn.module import Module, ModuleDict, ModuleList
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, no_grad

__all__ = [
    "cached",
    "ParametrizationList",
    "register_parametrization",
    "is_parametrized",
    "remove_parametrizations",
    "type_before_parametrizations",
    "transfer_parametrizations_and_params",
]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once, on its first access,
    and reused (PyTorch's ``torch.nn.utils.parametrize.cached``); the values are dropped
    on leaving it. Useful when a forward uses a parametrized weight several times (an
    RNN's recurrent kernel, shared weights).

    >>> import gdl
    >>> import gdl.nn.utils.parametrize as P
    >>> m = gdl.nn.utils.parametrizations.weight_norm(gdl.nn.Linear(2, 2))
    >>> with P.cached():
    ...     m.weight is m.weight
    True
    >>> m.weight is m.weight
    False
    """
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, X) -> None:
    if isinstance(X, Parameter):
        module.register_parameter(name, X)
    else:
        module.register_buffer(name, X)


def _maybe_set(dest: Tensor, src: Tensor) -> None:
    """Give ``dest`` (the same tensor object, so optimizers holding it keep working)
    ``src``'s values, shape and dtype: PyTorch's ``dest.set_(src)``, with a copy of the data."""
    if src is dest:
        return
    if src._backend is not dest._backend:
        raise ValueError(
            f"parametrize: the new value is on backend {src.backend!r}, the original tensor on {dest.backend!r}"
        )
    dest.data = src._backend.copy(src.data)


def _drop_buffer_name(module, name) -> None:
    """Forget that ``name`` was a buffer of ``module`` (gdl routes assignments to a name once
    registered as a buffer into ``_buffers``)."""
    names = module.__dict__.get("_buffer_names")
    if names is not None:
        names.discard(name)
    module._non_persistent.discard(name)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and its original value(s):
    ``module.parametrizations[tensor_name]``.

    The first parametrization's ``right_inverse`` (the identity when it has none) makes
    the stored tensor from the unparametrized one: one tensor is kept as ``original``,
    a tuple as ``original0``, ``original1``, ... Calling the list applies the
    parametrizations in registration order. Made by :func:`register_parametrization`;
    not meant to be built by hand.

    Args:
        modules: the parametrizations (a non-empty sequence of modules).
        original: the Parameter or buffer being parametrized.
        unsafe: allow the parametrization to change the tensor's dtype and shape
            (not checked then).
    """

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape = original.shape
        original_dtype = original.dtype

        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass

        if not isinstance(new, (Tensor, collections.abc.Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)

        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}"
                )
            if original._backend is not new._backend:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the device.\n"
                    f"original.backend: {original.backend}\nright_inverse(original).backend: {new.backend}"
                )
            with no_grad():
                _maybe_set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                        f"Got element {i} of the sequence with type {type(originali).__name__}."
                    )
                if isinstance(original, Parameter):
                    originali = Parameter(originali, original.requires_grad)
                elif originali.grad_fn is not None or originali.requires_grad != original.requires_grad:
                    originali = Tensor._wrap(originali.data, originali._backend)
                    originali.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", originali)

        if not self.unsafe:
            Z = self()
            if not isinstance(Z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(Z).__name__}.")
            if Z.dtype != original_dtype:
                raise ValueError(
                    "Registering a parametrization may not change the dtype of the tensor, unless `unsafe` "
                    f"flag is enabled.\nunparametrized dtype: {original_dtype}\nparametrized dtype: {Z.dtype}"
                )
            if tuple(Z.shape) != tuple(original_shape):
                raise ValueError(
                    "Registering a parametrization may not change the shape of the tensor, unless `unsafe` "
                    f"flag is enabled.\nunparametrized shape: {original_shape}\nparametrized shape: {Z.shape}"
                )

    def right_inverse(self, value: Tensor) -> None:
        """Run the parametrizations' ``right_inverse`` in reverse registration order on
        ``value`` and store the result in ``original`` (or ``original0``, ``original1``, ...):
        what ``module.weight = value`` does."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                else:
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(
                        f"The tensor returned by `right_inverse` has dtype {value.dtype} "
                        f"while `original` has dtype {self.original.dtype}"
                    )
                _maybe_set(self.original, value)
            else:
                if not isinstance(value, collections.abc.Sequence):
                    raise ValueError(
                        f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}."
                    )
                if len(value) != self.ntensors:
                    raise ValueError(
                        "'right_inverse' must return a sequence of tensors of length "
                        f"{self.ntensors}. Got a sequence of length {len(value)}."
                    )
                for i, t in enumerate(value):
                    original_i = getattr(self, f"original{i}")
                    if not isinstance(t, Tensor):
                        raise ValueError(
                            "'right_inverse' must return a sequence of tensors. "
                            f"Got element {i} of type {type(t).__name__}."
                        )
                    if original_i.dtype != t.dtype:
                        raise ValueError(
                            f"Tensor {i} returned by `right_inverse` has dtype {t.dtype} "
                            f"while `original{i}` has dtype {original_i.dtype}"
                        )
                    _maybe_set(original_i, t)

    def forward(self) -> Tensor:
        mods = list(self._modules.values())
        if self.is_tensor:
            x = mods[0](self.original)
        else:
            x = mods[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in mods[1:]:
            x = m(x)
        return x


def _default_deepcopy(self, memo):
    obj = memo.get(id(self), None)
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__.update(deepcopy(self.__dict__, memo))  # (gdl's __setattr__ refuses before __init__)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            object.__setattr__(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _getstate(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict() "
        "(gdl.save(model.state_dict(), path))."
    )


def _parametrized_setattr(self, name, value):
    """Assigning to a parametrized name goes to its property (``right_inverse``); a
    Parameter is refused, as PyTorch's ``register_parameter`` refuses an existing name."""
    prop = type(self).__dict__.get(name)
    if isinstance(prop, property):
        if isinstance(value, Parameter):
            raise KeyError(f"attribute '{name}' already exists")
        prop.__set__(self, value)
        return
    Module.__setattr__(self, name, value)


def _inject_new_class(module: Module) -> None:
    """Swap the module's class for a generated subclass ``Parametrized<Class>`` that will
    hold the properties."""
    cls = module.__class__
    dct = {"__getstate__": _getstate, "__setattr__": _parametrized_setattr}
    if not hasattr(cls, "__deepcopy__"):
        dct["__deepcopy__"] = _default_deepcopy
    dct["__module__"] = cls.__module__
    dct["__qualname__"] = f"Parametrized{cls.__qualname__}"
    param_cls = type(f"Parametrized{cls.__name__}", (cls,), dct)
    module.__class__ = param_cls


def _inject_property(module: Module, tensor_name: str) -> None:
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if _cache_enabled:
            key = (id(self), tensor_name)
            t = _cache.get(key)
            if t is None:
                t = parametrization()
                _cache[key] = t
            return t
        return parametrization()

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Parametrize ``module``'s parameter or buffer ``tensor_name``: reading
    ``module.<tensor_name>`` returns ``parametrization(original)``, as PyTorch's
    ``torch.nn.utils.parametrize.register_parametrization``. Returns ``module``.

    The first registration on a module swaps its class for ``Parametrized<Class>`` and
    adds the child ``module.parametrizations`` (a ModuleDict of
    :class:`ParametrizationList`); the unconstrained tensor lives at
    ``module.parametrizations.<tensor_name>.original`` (state_dict key
    ``parametrizations.<tensor_name>.original``), or at ``original0``, ``original1``, ...
    when the parametrization's ``right_inverse`` returns a tuple (its ``forward`` then
    takes that many tensors). Gradients flow through the parametrization into
    ``original``. Registering again on the same name chains the parametrizations (the
    first registered is applied first). The parametrization is put in the module's
    training mode.

    A parametrization may define ``right_inverse(X)``: it makes the original from the
    current value at registration (the identity when absent or raising
    ``NotImplementedError``) and from ``value`` on ``module.<tensor_name> = value``.

    ``unsafe=True`` allows a parametrization that changes the tensor's shape or dtype
    (and skips the checks that call it once).

    Raises:
        ValueError: ``module`` has no parameter, buffer or parametrized tensor
            ``tensor_name``, or a check failed.

    >>> import gdl
    >>> from gdl import nn
    >>> from gdl.nn.utils import parametrize
    >>> class Double(nn.Module):
    ...     def forward(self, X):
    ...         return 2 * X
    ...     def right_inverse(self, Y):
    ...         return Y / 2
    >>> lin = nn.Linear(2, 2)
    >>> _ = parametrize.register_parametrization(lin, "weight", Double())
    >>> lin.weight = gdl.ones(2, 2)          # stored as original = 0.5
    >>> lin.parametrizations.weight.original.tolist(), lin.weight.tolist()
    ([[0.5, 0.5], [0.5, 0.5]], [[1.0, 1.0], [1.0, 1.0]])
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            if not isinstance(X, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(X).__name__}.")
            if X.dtype != Y.dtype:
                raise ValueError(
                    "Registering a parametrization may not change the dtype of the tensor, unless the `unsafe` "
                    f"flag is enabled.\nmodule.{tensor_name}.dtype: {Y.dtype}\n"
                    f"parametrization(module.{tensor_name}).dtype: {X.dtype}"
                )
            if X.shape != Y.shape:
                raise ValueError(
                    "Registering a parametrization may not change the shape of the tensor, unless the `unsafe` "
                    f"flag is enabled.\nmodule.{tensor_name}.shape: {Y.shape}\n"
                    f"parametrization(module.{tensor_name}).shape: {X.shape}"
                )
            if hasattr(parametrization, "right_inverse"):
                try:
                    Z = parametrization.right_inverse(X)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(Z, Tensor):
                        raise ValueError(
                            f"parametrization.right_inverse must return a tensor. Got: {type(Z).__name__}"
                        )
                    if Z.dtype != Y.dtype:
                        raise ValueError(
                            "The tensor returned by parametrization.right_inverse must have the same dtype "
                            f"as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                            f"module.{tensor_name}.dtype: {Y.dtype}\nreturned dtype: {Z.dtype}"
                        )
                    if Z.shape != Y.shape:
                        raise ValueError(
                            "The tensor returned by parametrization.right_inverse must have the same shape "
                            f"as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                            f"module.{tensor_name}.shape: {Y.shape}\nreturned shape: {Z.shape}"
                        )
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{type(module).__name__}': {tensor_name!r} is None, nothing to parametrize")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        _drop_buffer_name(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name "
            f"'{tensor_name}'"
        )
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization on ``tensor_name`` (on anything when
    ``tensor_name`` is None)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Remove the parametrizations on ``module.<tensor_name>``; returns ``module``.

    ``leave_parametrized=True``: the tensor keeps its current (parametrized) value, stored
    into the original Parameter object (so an optimizer holding it still works).
    ``leave_parametrized=False``: it goes back to the unparametrized ``original`` (only
    possible when the parametrization depends on one tensor). When the module has no
    parametrization left, its class is restored.

    Raises:
        ValueError: ``module.<tensor_name>`` is not parametrized, or
            ``leave_parametrized=False`` with several originals.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
                _maybe_set(original, t)
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                "that is parametrized in terms of a sequence of tensors."
            )
        t = getattr(module, tensor_name)
        original = Parameter(t.detach()) if t.requires_grad else t

    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before parametrizations were registered (its class when none)."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (all, or those of ``tensor_name``) on
    ``to_module`` too, sharing the parametrization modules and the original tensors;
    a tensor ``to_module`` lacks is created first. Returns ``to_module``."""
    if is_parametrized(from_module):
        names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
        for name in names:
            if not hasattr(to_module, name):
                setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
            for param_func in from_module.parametrizations[name]:
                register_parametrization(to_module, name, param_func)
            src = from_module.parametrizations[name]
            dst = to_module.parametrizations[name]
            if src.is_tensor:
                dst.original = src.original
            else:
                for i in range(src.ntensors):
                    setattr(dst, f"original{i}", getattr(src, f"original{i}"))
    return to_module
