"""The optimizer base class: parameter groups, per-parameter state, checkpoints.

An optimizer holds a list of *parameter groups*, each a dict with ``'params'`` (a
list of parameters) and that group's hyperparameters (``'lr'``, ...), and a
``state`` dict from each parameter to its running buffers (momentum, Adam's
moments, ...). ``step()`` updates every parameter that has a ``.grad``;
parameters whose ``.grad`` is None are skipped and their state does not advance.

Updates never build an autograd graph: they work on the raw backend arrays and
rebind ``p.data`` (no array is modified in place), written with the parameter's
own Array API namespace ``xp = p._backend.xp``.

Fused kernels
-------------
Each optimizer's update is a plain function over *lists* of arrays (for example
:func:`gdl.optim.adam.adam_step`), the shape PyTorch calls a multi-tensor
("foreach") update. Before running it, ``step()`` asks each backend for a fused
replacement, ``backend.fused.get(name)`` with ``name`` one of
``"sgd_momentum_step"`` (SGD with momentum or weight decay), ``"adam_step"``
(Adam and AdamW), ``"rmsprop_step"``, ``"adagrad_step"``, and uses it for the
parameters on that backend when present. A kernel must have exactly the
signature of the portable function it replaces::

    kernel(xp, params, grads, state, steps, **hyperparameters) -> (new_params, new_state)

* ``xp``: the backend's Array API namespace (a fused kernel may ignore it);
* ``params``, ``grads``: lists of arrays, one per parameter that has a gradient;
* ``state``: dict from state name (``"exp_avg"``, ...) to a list of arrays in the
  same order; an entry is ``None`` only for a buffer that does not exist yet
  (SGD's momentum buffer before its first step);
* ``steps``: list of ints, each parameter's step count *including* this step
  (empty for SGD, which counts no steps);
* ``hyperparameters``: Python numbers and bools, documented per function;
* returns the new parameter arrays and a state dict of the same form. A kernel
  may update the arrays in place and return them, or return new ones.

A fused kernel must match its portable function in tests.

Plain SGD (no momentum, no weight decay) is the exception, kept as lean as
possible: its kernel ``"sgd_step"`` is called once per parameter as
``kernel(param_array, grad_array, lr)`` and updates ``param_array`` in place
(see :class:`gdl.optim.SGD`); a backend may also offer ``"sgd_step_all"``
``(param_arrays, grad_arrays, lr)``, the same over whole lists in place, with
``"sgd_step_all_fits"(param_arrays, grad_arrays) -> bool`` saying which lists it takes.
Because a kernel may update arrays in place,
:meth:`Optimizer.state_dict` returns copies.
"""

from __future__ import annotations

import math
from collections import defaultdict

from gdl.tensor import Tensor, enable_grad


def _check_number(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a Python number, got {value!r} ({type(value).__name__})")
    if math.isnan(value):
        raise ValueError(f"{owner}: {name} must not be NaN")
    return value


def check_nonneg(owner: str, name: str, value) -> None:
    """``ValueError`` naming ``value`` unless it is a number >= 0."""
    _check_number(owner, name, value)
    if value < 0:
        raise ValueError(f"{owner}: invalid {name} {value!r}: must be >= 0")


def check_unit(owner: str, name: str, value) -> None:
    """``ValueError`` naming ``value`` unless ``0 <= value < 1``."""
    _check_number(owner, name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: invalid {name} {value!r}: must be in [0, 1)")


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of parameters (e.g. ``model.parameters()``), or of
            dicts, each a parameter group: ``{'params': [...], 'lr': 0.01}``;
            hyperparameters missing from a group take the optimizer's defaults.
        defaults: the default hyperparameters of every group.

        maximize: ascend the objective (step along ``+grad``) instead of descending,
            as PyTorch's ``maximize=True``; a per-group hyperparameter.
        foreach, fused: PyTorch's implementation hints, accepted and ignored: gdl
            always updates a backend's parameters as one list, with the backend's
            fused kernel where it has one.
        capturable, differentiable: must be False (gdl has neither CUDA-graph
            capture of the step nor gradients through it).

    Example::

        opt = gdl.optim.SGD([
            {'params': model[0].parameters()},
            {'params': model[2].parameters(), 'lr': 1e-3},
        ], lr=0.1)

    Subclasses set ``kernel_name``, ``update`` (the portable list update),
    ``state_keys`` and define ``_validate``, ``_init_state`` and ``_hyper``.
    """

    kernel_name: str | None = None
    state_keys: tuple = ()  # the array buffers a parameter's state may hold
    tracks_step = True  # state holds an int 'step'

    def __init__(self, params, defaults: dict, *, maximize=False, **torch_options):
        _check_torch_options(type(self).__name__, torch_options)
        self.defaults = dict(defaults, maximize=maximize)
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of parameters or of dicts, "
                f"got a single {type(params).__name__} (wrap it in a list)"
            )
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (e.g. a layer unfrozen during fine-tuning).

        ``param_group`` is a dict with ``'params'`` and optional hyperparameters;
        missing ones take this optimizer's defaults.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize gdl Tensors/Parameters, got {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name} can't optimize a non-leaf tensor (one computed by an op)")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict) -> None:
        if not isinstance(group.get("maximize", False), bool):
            raise TypeError(f"{type(self).__name__}: maximize must be a bool, got {group['maximize']!r}")
        self._validate(group)

    def _validate(self, group: dict) -> None:
        """Raise ``ValueError``/``TypeError`` for a bad hyperparameter in ``group``."""

    # -- gradients -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none or p.grad.is_sparse:
                    p.grad = None
                else:
                    p.grad.data = p._backend.xp.zeros_like(p.grad.data)

    # -- the update --------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss.

        ``closure``, if given, re-evaluates the model and returns the loss (it is
        called with gradients enabled, before the update).
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            self._update_group(group)
        return loss

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _update_group(self, group: dict) -> None:
        """Run the fused kernel or the portable update over each backend's parameters."""
        buckets: dict = {}
        for p in group["params"]:
            if p.grad is not None:
                if p.grad.is_sparse:
                    raise TypeError(self._sparse_message(p))
                buckets.setdefault(p._backend, []).append(p)
        if not buckets:
            return
        hyper = self._hyper(group)
        for backend, params in buckets.items():
            states = []
            steps = []
            for p in params:
                st = self.state.get(p)
                if not st:
                    st = self.state[p] = self._init_state(p, group)
                else:
                    self._fill_state(p, st, group)
                if self.tracks_step:
                    st["step"] = st.get("step", 0) + 1
                    steps.append(st["step"])
                states.append(st)
            keys = self._active_keys(group)
            arrays = {k: [st[k].data if k in st else None for st in states] for k in keys}
            fn = backend.fused.get(self.kernel_name) if self.kernel_name else None
            if fn is None:
                fn = type(self).update
            grads = [p.grad.data for p in params]
            if group.get("maximize"):
                grads = [-g for g in grads]
            new_params, new_state = fn(backend.xp, [p.data for p in params], grads, arrays, steps, **hyper)
            for p, a in zip(params, new_params):
                p.data = a
            for k, column in new_state.items():
                for st, a in zip(states, column):
                    if a is None:
                        continue
                    if k in st:
                        st[k].data = a
                    else:
                        st[k] = Tensor._wrap(a, backend)

    def _sparse_message(self, p) -> str:
        return (
            f"{type(self).__name__}: a parameter of shape {tuple(p.shape)} has a row-sparse gradient "
            f"(from Embedding(sparse=True)), which this update does not support; use SGD without "
            f"momentum and weight decay, or Embedding(sparse=False)"
        )

    # Subclass hooks -----------------------------------------------------------------------
    update = None  # staticmethod: the portable list update (signature in the module doc)

    def _init_state(self, p, group: dict) -> dict:
        """The fresh state of parameter ``p`` (zeros buffers, ``step`` 0)."""
        st = {"step": 0} if self.tracks_step else {}
        self._fill_state(p, st, group)
        return st

    def _fill_state(self, p, st: dict, group: dict) -> None:
        """Create any buffer the group now needs (e.g. amsgrad switched on)."""

    def _active_keys(self, group: dict) -> tuple:
        """The state buffers this group's update reads and writes."""
        return self.state_keys

    def _hyper(self, group: dict) -> dict:
        """The keyword hyperparameters passed to the update, as Python numbers."""
        raise NotImplementedError

    @staticmethod
    def _zeros_like(p, fill=0.0) -> Tensor:
        xp = p._backend.xp
        return Tensor._wrap(xp.full(p.data.shape, fill, dtype=p.data.dtype, device=p._backend.device), p._backend)

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state, in PyTorch's layout.

        ``{'state': {index: {name: Tensor or number}}, 'param_groups': [{..., 'params':
        [index, ...]}]}``, parameters numbered in group order from 0. Tensors are
        copies, so the dict is a snapshot that later steps do not change.
        """
        index: dict = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = {k: _snapshot(v) for k, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` so training continues exactly where it stopped.

        The groups must match this optimizer's in number and size. Buffers are
        copied onto each parameter's backend in its dtype; hyperparameters
        (including a scheduler's ``lr``) come from the state dict.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"group(s), this optimizer has {len(self.param_groups)}"
            )
        id_map = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            saved_params = list(saved.get("params", ()))
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved_params)} "
                    f"parameter(s) in the state dict, {len(group['params'])} in this optimizer"
                )
            for idx, p in zip(saved_params, group["params"]):
                id_map[_as_index(idx, name)] = p
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {k: v for k, v in group.items() if k != "params"}
            new.update({k: v for k, v in saved.items() if k != "params"})
            new["params"] = group["params"]
            self._validate_group(new)
            new_groups.append(new)
        allowed = set(self.state_keys) | ({"step"} if self.tracks_step else set())
        new_state: dict = defaultdict(dict)
        for key, saved_st in dict(state_dict["state"]).items():
            idx = _as_index(key, name)
            if idx not in id_map:
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter {idx}, but the groups "
                    f"list only parameters 0..{len(id_map) - 1}"
                )
            p = id_map[idx]
            st = {}
            for k, v in dict(saved_st).items():
                if k not in allowed:
                    raise ValueError(
                        f"{name}.load_state_dict: parameter {idx} has state {k!r}, which {name} "
                        f"does not use (expected {sorted(allowed)}); is this another optimizer's state?"
                    )
                st[k] = _restore(v, p, k, idx, name)
            if st:
                new_state[p] = st
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


_IGNORED_HINTS = ("foreach", "fused")
_MUST_BE_FALSE = ("capturable", "differentiable")


def _check_torch_options(owner: str, options: dict) -> None:
    """PyTorch's ``foreach``/``fused`` hints are accepted and ignored; ``capturable`` and
    ``differentiable`` must be False; any other name is an unexpected keyword."""
    for key, value in options.items():
        if key in _IGNORED_HINTS:
            if value not in (None, True, False):
                raise TypeError(f"{owner}: {key} must be None or a bool, got {value!r}")
        elif key in _MUST_BE_FALSE:
            if value:
                raise NotImplementedError(f"{owner}: {key}=True is not supported by gdl (it must be False)")
        else:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {key!r}")


def _as_index(key, owner) -> int:
    if isinstance(key, bool):
        raise ValueError(f"{owner}.load_state_dict: bad parameter index {key!r}")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    raise ValueError(f"{owner}.load_state_dict: bad parameter index {key!r} (expected an int)")


def _snapshot(value):
    if isinstance(value, Tensor):
        xp = value._backend.xp
        return Tensor._wrap(xp.asarray(value.data, copy=True), value._backend)
    return value


def _restore(value, p, key, idx, owner):
    """A saved state entry as this optimizer keeps it: an int step or a Tensor like ``p``."""
    if key == "step":
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{owner}.load_state_dict: parameter {idx} has a bad step {value!r}")
        return value
    from gdl.tensor import tensor

    t = value if isinstance(value, Tensor) else tensor(value, backend=p._backend)
    if t.shape != p.shape:
        raise ValueError(
            f"{owner}.load_state_dict: state {key!r} of parameter {idx} has shape {t.shape}, "
            f"the parameter has shape {p.shape}"
        )
    return tensor(t, dtype=p.dtype, backend=p._backend)  # a copy, on p's backend, in p's dtype
