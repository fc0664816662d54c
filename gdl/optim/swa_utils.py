"""Stochastic Weight Averaging and EMA of weights, as ``torch.optim.swa_utils``.

:class:`AveragedModel` keeps a copy of a model whose parameters (and, with
``use_buffers=True``, buffers) are a running average of the model's: equal weights
(SWA, the default) or exponential (EMA, :func:`get_ema_multi_avg_fn`). :class:`SWALR`
anneals each group's ``lr`` to a constant ``swa_lr``; :func:`update_bn` recomputes
BatchNorm's running statistics for the averaged weights with one pass over the data.

>>> import gdl
>>> from gdl.optim.swa_utils import AveragedModel
>>> model = gdl.nn.Linear(1, 1, bias=False)
>>> swa = AveragedModel(model)
>>> for w in (1.0, 2.0, 6.0):
...     model.weight.data = gdl.tensor([[w]]).data
...     swa.update_parameters(model)
>>> swa.module.weight.tolist(), int(swa.n_averaged)
([[3.0]], 3)

Averaging functions work on gdl tensors: ``avg_fn(averaged, current, n_averaged)``
returns the new average of one tensor; ``multi_avg_fn(averaged_list, current_list,
n_averaged)`` updates a list of averaged tensors in place, by rebinding each one's
``.data`` (gdl's in-place update). ``n_averaged`` is a 0-d int64 tensor.
"""

from __future__ import annotations

import itertools
import math
from copy import deepcopy

from gdl.nn.layers import _BatchNorm
from gdl.nn.module import Module
from gdl.optim.lr_scheduler import LRScheduler
from gdl.optim.optimizer import Optimizer
from gdl.tensor import Tensor, no_grad, zeros

__all__ = [
    "AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _is_float(xp, a) -> bool:
    return xp.isdtype(a.dtype, ("real floating", "complex floating"))


def _lerp(start, end, weight: float):
    """PyTorch's ``lerp``: ``start + w (end - start)`` for ``|w| < 0.5``, else ``end - (end - start)(1 - w)``."""
    diff = end - start
    if abs(weight) < 0.5:
        return start + weight * diff
    return end - diff * (1 - weight)


def _via_float(xp, a, fn):
    """``fn`` on ``a`` as float64, cast back to ``a``'s (integer or bool) dtype, truncating as ``copy_``."""
    return xp.astype(fn(xp.astype(a, xp.float64)), a.dtype)


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA update ``ema = decay * ema + (1 - decay) * current`` of a list of tensors, in place.

    Floating tensors use PyTorch's ``lerp(ema, current, 1 - decay)``; others are
    computed in float64 and truncated back (as PyTorch's ``copy_``).

    >>> import gdl
    >>> from gdl.optim.swa_utils import get_ema_multi_avg_fn
    >>> ema, cur = [gdl.tensor([0.0, 10.0])], [gdl.tensor([1.0, 0.0])]
    >>> get_ema_multi_avg_fn(0.75)(ema, cur, gdl.tensor(1))
    >>> ema[0].tolist()
    [0.25, 7.5]
    """
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
            xp = p_ema._backend.xp
            cur = _array_on(p_model, p_ema)
            if _is_float(xp, p_ema.data):
                p_ema.data = _lerp(p_ema.data, xp.astype(cur, p_ema.data.dtype), 1 - decay)
            else:
                c = xp.astype(cur, xp.float64)
                p_ema.data = _via_float(xp, p_ema.data, lambda a, c=c: a * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The SWA update ``avg += (current - avg) / (n_averaged + 1)`` of a list of tensors, in place.

    Floating tensors use ``lerp(avg, current, 1 / (n_averaged + 1))`` as PyTorch's
    (whose weight, from a 0-d tensor, is rounded to float32 there; gdl keeps it in
    float64); others are computed in float64 and truncated back.

    >>> import gdl
    >>> from gdl.optim.swa_utils import get_swa_multi_avg_fn
    >>> avg = [gdl.tensor([2.0])]
    >>> get_swa_multi_avg_fn()(avg, [gdl.tensor([5.0])], gdl.tensor(2))
    >>> avg[0].tolist()
    [3.0]
    """

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged)
        for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
            xp = p_avg._backend.xp
            cur = _array_on(p_model, p_avg)
            if _is_float(xp, p_avg.data):
                p_avg.data = _lerp(p_avg.data, xp.astype(cur, p_avg.data.dtype), 1 / (n + 1))
            else:
                c = xp.astype(cur, xp.float64)
                p_avg.data = _via_float(xp, p_avg.data, lambda a, c=c: a + (c - a) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA of one tensor: ``(ema, current, n) -> decay * ema + (1 - decay) * current``.

    >>> import gdl
    >>> from gdl.optim.swa_utils import get_ema_avg_fn
    >>> get_ema_avg_fn(0.5)(gdl.tensor([0.0]), gdl.tensor([4.0]), 1).tolist()
    [2.0]
    """
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The equal-weight average of one tensor: ``(avg, current, n) -> avg + (current - avg) / (n + 1)``.

    >>> import gdl
    >>> from gdl.optim.swa_utils import get_swa_avg_fn
    >>> get_swa_avg_fn()(gdl.tensor([1.0]), gdl.tensor([4.0]), 2).tolist()
    [2.0]
    """

    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _check_decay(decay):
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay!r} provided. Please provide a value in [0,1] range.")


def _array_on(src: Tensor, like: Tensor):
    """``src``'s array on ``like``'s backend (its own dtype)."""
    if src._backend is like._backend:
        return src.data
    return like._backend.from_host(src._backend.to_host(src.data))


def _default_swa(xp, avg, cur, n: int):
    """PyTorch's CPU default (``get_swa_avg_fn`` then ``copy_``): ``avg + (cur - avg) / (n + 1)``."""
    if _is_float(xp, avg):
        return avg + (xp.astype(cur, avg.dtype) - avg) / (n + 1)
    c = xp.astype(cur, xp.float64)
    return _via_float(xp, avg, lambda a: a + (c - a) / (n + 1))


class AveragedModel(Module):
    """A copy of ``model`` whose weights are a running average of ``model``'s (SWA or EMA).

    ``update_parameters(model)`` folds the model's current weights in: the first call
    copies them, later ones apply ``multi_avg_fn`` (per backend and dtype) or
    ``avg_fn`` (per tensor), by default the equal-weight average
    ``avg + (current - avg) / (n_averaged + 1)``. With ``use_buffers=True`` buffers are
    averaged too; otherwise they are copied from ``model`` at each update. Calling the
    averaged model runs the copy. State: the copy's ``state_dict`` under ``module.``
    and the buffer ``n_averaged`` (the functions are not saved), as PyTorch's.

    Args:
        model: the module to average (deep-copied).
        device: a backend or device to move the copy to (default: where it is).
        avg_fn: ``(averaged, current, n_averaged) -> new averaged`` for one tensor.
        multi_avg_fn: ``(averaged_list, current_list, n_averaged)``, updating in place.
        use_buffers: average the buffers too (default False).

    Example::

        swa_model = gdl.optim.swa_utils.AveragedModel(model)
        ema_model = gdl.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=gdl.optim.swa_utils.get_ema_multi_avg_fn(0.999))
        for epoch in range(epochs):
            train_one_epoch(model, opt)
            swa_model.update_parameters(model)
        gdl.optim.swa_utils.update_bn(loader, swa_model)
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected a gdl Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = deepcopy(model)
        if device is not None:
            self.module.to(device)
        if device is not None:
            backend = device
        else:
            first = next(itertools.chain(self.module.parameters(), self.module.buffers()), None)
            backend = first._backend if first is not None else None
        from gdl import dtypes

        self.register_buffer("n_averaged", zeros((), dtype=dtypes.int64, backend=backend))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            self_params = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            model_params = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            self_params = list(self.parameters())
            model_params = list(model.parameters())
        pairs = list(zip(self_params, model_params))
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for p_avg, p_model in pairs:
                    xp = p_avg._backend.xp
                    p_avg.data = xp.asarray(xp.astype(_array_on(p_model, p_avg), p_avg.data.dtype), copy=True)
            elif self.multi_avg_fn is not None:
                groups: dict = {}
                for p_avg, p_model in pairs:
                    groups.setdefault((id(p_avg._backend), p_avg.data.dtype), []).append((p_avg, p_model))
                for group in groups.values():
                    averaged = [a for a, _ in group]
                    current = [Tensor._wrap(_array_on(m, a), a._backend) for a, m in group]
                    self.multi_avg_fn(averaged, current, self.n_averaged)
            elif self.avg_fn is None:
                for p_avg, p_model in pairs:
                    p_avg.data = _default_swa(p_avg._backend.xp, p_avg.data, _array_on(p_model, p_avg), n)
            else:
                for p_avg, p_model in pairs:
                    xp = p_avg._backend.xp
                    current = Tensor._wrap(_array_on(p_model, p_avg), p_avg._backend)
                    out = self.avg_fn(p_avg.detach(), current, self.n_averaged)
                    out = out.data if isinstance(out, Tensor) else xp.asarray(out, device=p_avg._backend.device)
                    if tuple(out.shape) != tuple(p_avg.data.shape):
                        raise ValueError(
                            f"AveragedModel: avg_fn returned shape {tuple(out.shape)} for a tensor of shape "
                            f"{tuple(p_avg.data.shape)}"
                        )
                    p_avg.data = xp.astype(out, p_avg.data.dtype)
            if not self.use_buffers:  # keep the buffers in sync with the model
                own, theirs = list(self.module.buffers()), list(model.buffers())
                if len(own) != len(theirs):
                    raise ValueError(
                        f"AveragedModel: the model has {len(theirs)} buffers, the averaged copy {len(own)}"
                    )
                for b_avg, b_model in zip(own, theirs):
                    xp = b_avg._backend.xp
                    b_avg.data = xp.asarray(xp.astype(_array_on(b_model, b_avg), b_avg.data.dtype), copy=True)
            self.n_averaged.data = self.n_averaged.data + 1


def _reset_running_stats(bn) -> None:
    for name, fill in (("running_mean", 0), ("running_var", 1), ("num_batches_tracked", 0)):
        t = getattr(bn, name, None)
        if t is not None:
            t.data = t._backend.xp.full(t.data.shape, fill, dtype=t.data.dtype, device=t._backend.device)


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over ``loader``.

    The statistics are reset, then accumulated as a plain average over the batches
    (``momentum=None`` for the pass), in training mode; the mode and momenta are
    restored afterwards. A batch that is a list or tuple gives its first element to
    ``model``; ``device`` moves it there first.

    >>> import gdl
    >>> from gdl.optim.swa_utils import update_bn
    >>> bn = gdl.nn.BatchNorm1d(1)
    >>> update_bn([gdl.tensor([[1.0], [3.0]]), (gdl.tensor([[5.0], [7.0]]),)], bn)
    >>> bn.running_mean.tolist(), bn.training
    ([4.0], True)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            _reset_running_stats(module)
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's ``lr`` to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it.

    With ``alpha(t)`` = ``(1 - cos(pi t)) / 2`` (``'cos'``) or ``t`` (``'linear'``) and
    ``t = min(1, epoch / max(1, anneal_epochs))``, the lr at each step moves from the
    current one towards ``swa_lr`` (PyTorch's recursive formula, so its values match
    PyTorch's). ``swa_lr`` is one number or one per group; it is kept in each group as
    ``group['swa_lr']``.

    Example::

        swa_sched = gdl.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
        for epoch in range(epochs):
            train_one_epoch(model, opt)
            if epoch >= swa_start:
                swa_model.update_parameters(model)
                swa_sched.step()
    """

    _unsaved = ("optimizer", "anneal_func")

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"SWALR: expected a gdl Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        if isinstance(swa_lr, (list, tuple)):
            if len(swa_lr) != len(groups):
                raise ValueError(
                    f"swa_lr must have the same length as optimizer.param_groups. swa_lr has {len(swa_lr)} "
                    f"values, param_groups has {len(groups)}."
                )
            swa_lrs = list(swa_lr)
        else:
            swa_lrs = [swa_lr] * len(groups)
        for value in swa_lrs:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise ValueError(f"SWALR: swa_lr must be a number, got {value!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy!r}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs!r}")
        for value, group in zip(swa_lrs, groups):
            group["swa_lr"] = value
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (the annealing function comes from ``_anneal_strategy``)."""
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)
