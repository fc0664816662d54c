"""Pruning, as ``torch.nn.utils.prune`` (also importable as ``gdl.nn.utils.prune``).

Pruning ``module.<name>`` replaces the parameter by the parameter ``<name>_orig`` and the
buffer ``<name>_mask`` (1 kept, 0 pruned, orig's dtype); a forward pre-hook (the pruning
method itself) sets the plain attribute ``module.<name> = <name>_orig * <name>_mask``
before each call, so gradients reach ``<name>_orig`` through the mask. Pruning the same
tensor again composes the methods in a :class:`PruningContainer`: the new method sees
only the entries (unstructured) or channels (structured) that are still unpruned.
:func:`remove` makes the pruned tensor a parameter again.

>>> import gdl
>>> from gdl.nn.utils import prune
>>> m = prune.l1_unstructured(gdl.nn.Linear(3, 2), "weight", amount=2)
>>> list(m.state_dict()), int((m.weight_mask == 0).sum())
(['bias', 'weight_orig', 'weight_mask'], 2)

Ties in the L1 (and Ln-structured) ranking go to the lower flat index (``gdl.topk``'s
order); PyTorch leaves their order to its ``topk`` kernel.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import gdl
from gdl.tensor import no_grad

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _pre_hooks(module):
    return module.__dict__.get("_forward_pre_hooks", {})


class BasePruningMethod(ABC):
    """A pruning method: ``compute_mask`` makes the mask; the instance is also the forward
    pre-hook that applies it (``_tensor_name`` names the pruned tensor)."""

    _tensor_name: str | None = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for ``t`` (importance scores), given ``default_mask`` (the mask so far)."""

    def apply_mask(self, module):
        """``<name>_orig * <name>_mask`` of ``module`` (recorded in the graph of ``_orig``)."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, composed with earlier pruning
        of the same tensor; returns the method (or container) registered as the hook."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(f"importance_scores should have the same shape as parameter {name} of {module}")
        else:
            importance_scores = orig
        fresh = not isinstance(method, PruningContainer)
        if fresh:
            if name not in module._parameters:
                raise ValueError(f"prune: {name!r} is not a parameter of {type(module).__name__}")
            delattr(module, name)
            module.register_parameter(name + "_orig", orig)
            default_mask = gdl.ones_like(orig.detach())
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            with no_grad():
                mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask.detach())
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if fresh:
                delattr(module, name + "_orig")
                module.register_parameter(name, orig)
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask computed from ``importance_scores`` (default ``t``)."""
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(t.shape):
                raise ValueError("importance_scores should have the same shape as tensor t")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else gdl.ones_like(t.detach())
        with no_grad():
            mask = self.compute_mask(importance_scores.detach(), default_mask=default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruned tensor permanent: ``<name>`` is a parameter again (the ``_orig``
        parameter object, now holding ``orig * mask``); ``_orig`` and ``_mask`` are dropped."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters[name + "_orig"]
        orig.data = weight.data
        delattr(module, name + "_orig")
        delattr(module, name + "_mask")
        setattr(module, name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """``cls(*args, **kwargs)`` for ``name``, put in a container with the method already
    pruning ``name`` (whose hook is taken off, to be registered again at the end)."""
    store = _pre_hooks(module)
    found = [(k, h) for k, h in store.items() if isinstance(h, BasePruningMethod) and h._tensor_name == name]
    if len(found) > 1:
        raise RuntimeError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                           f"Use a PruningContainer.")
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not found:
        return method
    key, old = found[0]
    del store[key]
    if isinstance(old, PruningContainer):
        old.add_pruning_method(method)
        return old
    container = PruningContainer(old)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods on one tensor (iterative pruning): the last method
    prunes what the earlier ones left."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and isinstance(args[0], BasePruningMethod):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                if self._tensor_name is None and isinstance(method, BasePruningMethod):
                    self._tensor_name = method._tensor_name
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Append ``method`` (it must act on the container's tensor)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer {self}. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """``default_mask`` with the last method's mask, computed on the still-unpruned part of
        ``t``, written in (entries for unstructured, channels along ``dim`` for structured)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            keep = gdl.nonzero((mask == 1).reshape(-1)).reshape(-1)
            part = method.compute_mask(gdl.index_select(t.reshape(-1), 0, keep),
                                       default_mask=gdl.index_select(mask.reshape(-1), 0, keep))
            return gdl.index_copy(mask.reshape(-1), 0, keep, part.to(dtype=mask.dtype)).reshape(mask.shape)
        if kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute "
                                     "`dim` defined.")
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            others = [d for d in range(n_dims) if d != dim]
            keep = gdl.nonzero(mask.sum(dim=others) != 0).reshape(-1)
            part = method.compute_mask(gdl.index_select(t, dim, keep), default_mask=gdl.index_select(mask, dim, keep))
            return gdl.index_copy(mask, dim, keep, part.to(dtype=mask.dtype))
        if kind == "global":
            return method.compute_mask(t, default_mask=mask)
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries (an int, or a fraction of the count) that rank lowest
    by :meth:`_scores` (highest, with ``_prune_largest``)."""

    PRUNING_TYPE = "unstructured"
    _prune_largest = False

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _nparams_toprune(self.amount, t.numel())
        return _zero_topk(default_mask.clone(), self._scores(t), k, largest=self._prune_largest)


class RandomUnstructured(_Unstructured):
    """Prunes ``amount`` entries (an int, or a fraction of the count) chosen at random."""

    _prune_largest = True

    @staticmethod
    def _scores(t):
        return gdl.rand_like(t.detach())

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the ``amount`` entries of smallest absolute value."""

    @staticmethod
    def _scores(t):
        return gdl.abs(t)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _Structured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim``: those :meth:`_kept` leaves out."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        size = _structured_size(t, self.dim)
        k = _nparams_toprune(self.amount, size)
        if k == 0:
            return default_mask
        return _channel_mask(t, self.dim, self._kept(t, size, k)) * default_mask.to(dtype=t.dtype)


class RandomStructured(_Structured):
    """Prunes ``amount`` channels along ``dim`` chosen at random."""

    @staticmethod
    def _kept(t, size, k):
        prob = gdl.rand(size, dtype=t.dtype, backend=t.backend, device=t.device)
        return (prob > gdl.kthvalue(prob, k).values).to(dtype=t.dtype)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_Structured):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm (``n`` a number,
    ``inf``, ``-inf`` or ``"fro"``)."""

    def __init__(self, amount, n, dim=-1):
        super().__init__(amount, dim)
        self.n = n

    def _kept(self, t, size, k):
        d = self.dim % t.dim()
        norm = gdl.norm(t, p=self.n, dim=[i for i in range(t.dim()) if i != d])
        idx = gdl.topk(norm, size - k, largest=True).indices
        return gdl.scatter(gdl.zeros_like(norm), 0, idx, 1.0)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"custom_from_mask: the mask's shape {tuple(self.mask.shape)} differs from the "
                             f"tensor's {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# -- helpers ---------------------------------------------------------------------------------------


def _zero_topk(mask, scores, k, largest):
    """``mask`` with zeros at the ``k`` entries that ``topk`` picks from ``scores``."""
    if k == 0:
        return mask
    idx = gdl.topk(scores.reshape(-1), k, largest=largest).indices
    return gdl.scatter(mask.reshape(-1), 0, idx, 0.0).reshape(mask.shape)


def _channel_mask(t, dim, keep):
    """Ones of ``t``'s shape times ``keep`` (a vector) broadcast along ``dim``."""
    shape = [1] * t.dim()
    shape[dim] = -1
    return gdl.ones_like(t) * keep.reshape(shape)


def _structured_size(t, dim):
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {tuple(t.shape)} with {t.dim()} dims")
    if dim >= t.dim() or dim < -t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")
    return t.shape[dim]


def _validate_pruning_amount_init(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _nparams_toprune(amount, tensor_size):
    """``amount`` as a count (a fraction is rounded half to even, as Python's ``round``)."""
    if isinstance(amount, numbers.Integral):
        if amount > tensor_size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                             f"prune={tensor_size}")
        return int(amount)
    return round(amount * tensor_size)


# -- functions -------------------------------------------------------------------------------------


def identity(module, name):
    """Prune nothing, but reparametrize ``name`` as pruning does. Returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` random entries of ``module.<name>``. Returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of smallest ``|importance_scores|`` (default: the
    tensor). Returns ``module``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` random channels along ``dim``. Returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` of smallest ``n``-norm. Returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the ``(module, name)`` pairs of ``parameters`` together: one unstructured
    ``pruning_method(**kwargs)`` over all their (still unpruned) entries at once; each
    tensor then gets its part of the mask through :func:`custom_from_mask`."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = gdl.cat([importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1) for m, n in parameters])
    default_mask = gdl.cat([_mask_or_ones(m, n).reshape(-1) for m, n in parameters])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer()
    container._tensor_name = "temp"
    container.add_pruning_method(method)
    with no_grad():
        final = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        n = param.numel()
        custom_from_mask(module, name, mask=final[start:start + n].reshape(param.shape))
        start += n


def _mask_or_ones(module, name):
    mask = getattr(module, name + "_mask", None)
    return mask.detach() if mask is not None else gdl.ones_like(getattr(module, name).detach())


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0. Returns ``module``."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent and drop its hook, ``_orig`` and
    ``_mask``. ``ValueError`` if it is not pruned. Returns ``module``."""
    store = _pre_hooks(module)
    for k, hook in list(store.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del store[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether ``module`` or a submodule has a pruning hook."""
    return any(isinstance(h, BasePruningMethod) for _, sub in module.named_modules()
               for h in _pre_hooks(sub).values())

