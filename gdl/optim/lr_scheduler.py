"""Learning-rate schedules: change each parameter group's ``lr`` once per epoch.

They follow ``torch.optim.lr_scheduler``: creating a scheduler records each
group's starting ``lr`` as ``group['initial_lr']`` (the ``base_lrs``) and sets
``last_epoch = 0``; each ``scheduler.step()`` (call it after ``optimizer.step()``,
once per epoch) advances ``last_epoch`` and writes the new ``lr`` into the groups.
StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR and LinearLR update the
current ``lr`` multiplicatively ("chainable", PyTorch's own formulas), so their
values equal PyTorch's; the closed forms are in each docstring. Resuming with
``last_epoch=k`` (after loading the optimizer's state dict), ExponentialLR,
CosineAnnealingLR and LinearLR keep the ``lr`` they find, as PyTorch does since
2.8; StepLR, MultiStepLR and LambdaLR set the ``lr`` of epoch ``k + 1``.
ReduceLROnPlateau is different: ``step(metric)`` takes the validation metric and
cuts the ``lr`` when it stops improving.

Example::

    opt = gdl.optim.SGD(model.parameters(), lr=0.1)
    sched = gdl.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)
        sched.step()
"""

from __future__ import annotations

import math
import numbers
from collections import Counter

from gdl.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "LinearLR",
    "ReduceLROnPlateau",
]


class LRScheduler:
    """Base class: subclasses define :meth:`get_lr` (the ``lr`` of each group at ``last_epoch``)."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a gdl Optimizer, got {type(optimizer).__name__}")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{type(self).__name__}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: last_epoch={last_epoch} resumes a schedule, but "
                        f"param_groups[{i}] has no 'initial_lr' (load the optimizer's state dict first)"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # the constructor's own step (see ExponentialLR, CosineAnnealingLR)
        self.step()
        self._is_initial = False

    def get_lr(self) -> list:
        """The ``lr`` of each group for epoch ``last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The ``lr`` of each group as last set by this scheduler."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set each group's ``lr``."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # -- checkpoints ---------------------------------------------------------------------
    _unsaved = ("optimizer",)

    def state_dict(self) -> dict:
        """Everything but the optimizer (and, for LambdaLR, the functions)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (the optimizer's ``lr`` comes from its own state dict)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        sd = {k: v for k, v in state_dict.items() if k not in self._unsaved and k != "lr_lambdas"}
        for key in ("base_lrs", "_last_lr"):
            if key in sd and len(sd[key]) != len(self.optimizer.param_groups):
                raise ValueError(
                    f"{name}.load_state_dict: {key} has {len(sd[key])} entries, the optimizer has "
                    f"{len(self.optimizer.param_groups)} parameter group(s)"
                )
        for key, value in sd.items():
            setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self.get_last_lr()})"


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")


def _nonnegative_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}: {name} must be an int >= 0, got {value!r}")


def _real(owner, name, value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a real number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = base_lr * gamma ** (epoch // step_size)``.

    Example::

        sched = gdl.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
        # lr = 0.1 for epochs 0-29, 0.01 for 30-59, ...
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        _positive_int("StepLR", "step_size", step_size)
        _real("StepLR", "gamma", gamma, minimum=0)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch in ``milestones``.

    ``lr(epoch) = base_lr * gamma ** (number of milestones <= epoch)`` (a milestone
    listed twice counts twice).

    Example::

        sched = gdl.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
        # lr = 0.1 for epochs 0-29, 0.01 for 30-79, 0.001 from 80
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        if any(isinstance(m, bool) or not isinstance(m, int) for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be ints, got {milestones!r}")
        _real("MultiStepLR", "gamma", gamma, minimum=0)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)  # a checkpoint gives back a plain dict

    def get_lr(self):
        hits = self.milestones.get(self.last_epoch, 0)
        return [g["lr"] * self.gamma**hits if hits else g["lr"] for g in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    ``lr(epoch) = base_lr * gamma ** epoch``.

    Example::

        sched = gdl.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        _real("ExponentialLR", "gamma", gamma, minimum=0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self._is_initial:  # created (or resumed with last_epoch) now: keep the lr it finds
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    ``lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``
    (past ``T_max`` the cosine continues, rising again, as in PyTorch; there are
    no warm restarts). Computed with PyTorch's recursive form, so an ``lr``
    changed by hand between steps is annealed from where it is.

    Example::

        sched = gdl.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50, eta_min=1e-5)
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        _positive_int("CosineAnnealingLR", "T_max", T_max)
        _real("CosineAnnealingLR", "eta_min", eta_min, minimum=0)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:  # created (or resumed with last_epoch) now: keep the lr it finds
            return [g["lr"] for g in groups]
        if (e - 1 - T) % (2 * T) == 0:  # just past a minimum: the ratio below would divide by 0
            return [
                g["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                for base, g in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (g["lr"] - lo) + lo for g in groups]


class LambdaLR(LRScheduler):
    """Set the learning rate to ``base_lr * lr_lambda(epoch)``.

    ``lr_lambda`` is a function of the epoch (an int), or a list of them, one
    per parameter group. The functions are not saved in :meth:`state_dict`;
    pass the same ones when rebuilding the scheduler.

    Example (linear warm-up over 5 epochs)::

        sched = gdl.optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 5))
    """

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per parameter group), got {len(lr_lambda)}")
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs (a warm-up, or a linear decay), then keep it.

    ``lr(epoch) = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``.

    Example::

        sched = gdl.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4)
        # lr = 0.1·base, 0.325·base, 0.55·base, 0.775·base, then base from epoch 4
    """

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1):
        _real("LinearLR", "start_factor", start_factor)
        _real("LinearLR", "end_factor", end_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        _positive_int("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        e, start, end = self.last_epoch, self.start_factor, self.end_factor
        if e == 0:
            return [g["lr"] * start for g in groups]
        if self._is_initial or e > self.total_iters:  # resumed now: keep the lr it finds
            return [g["lr"] for g in groups]
        ratio = 1.0 + (end - start) / (self.total_iters * start + (e - 1) * (end - start))
        # PyTorch's form; with end_factor = 0 its rounding can land just below 0 (-2e-18),
        # an lr that an optimizer's load_state_dict refuses: clamp at 0
        return [max(g["lr"] * ratio, 0.0) for g in groups]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric has stopped improving.

    ``step(metric)`` (once per epoch, after validation) counts the epochs in a row
    without a new best; when that count exceeds ``patience``, each group's ``lr``
    becomes ``max(lr * factor, min_lr)`` (unchanged if that moves it by ``eps`` or
    less), and the next ``cooldown`` epochs are not counted. "Better" means below
    ``best * (1 - threshold)`` (``mode="min"``, ``threshold_mode="rel"``),
    ``best - threshold`` (``"abs"``), or above ``best * (1 + threshold)`` /
    ``best + threshold`` with ``mode="max"``. ``min_lr`` is one number or one per
    group. As in PyTorch it has no ``base_lrs`` and no ``get_lr``; ``get_last_lr()``
    is each group's ``lr`` after the last step (or at creation).

    Example::

        sched = gdl.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)
        for epoch in range(100):
            train_one_epoch(model, opt)
            sched.step(validation_loss(model))
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0,
                 eps: float = 1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a gdl Optimizer, got {type(optimizer).__name__}")
        _real(name, "factor", factor, minimum=0)
        if factor >= 1.0:
            raise ValueError(f"{name}: factor must be < 1, got {factor!r}")
        _nonnegative_int(name, "patience", patience)
        _nonnegative_int(name, "cooldown", cooldown)
        _real(name, "threshold", threshold, minimum=0)
        _real(name, "eps", eps, minimum=0)
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"{name}: expected {len(groups)} min_lrs (one per parameter group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * len(groups)
        for m in self.min_lrs:
            _real(name, "min_lr", m, minimum=0)
        self.optimizer = optimizer
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self._init_is_better()
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in groups]
        self.best, self.cooldown_counter, self.num_bad_epochs = self.mode_worse, 0, 0

    def _init_is_better(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {self.mode!r}")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {self.threshold_mode!r}")
        self.mode_worse = math.inf if self.mode == "min" else -math.inf

    def _is_better(self, a, best):
        rel, t = self.threshold_mode == "rel", self.threshold
        if self.mode == "min":
            return a < (best * (1.0 - t) if rel else best - t)
        return a > (best * (t + 1.0) if rel else best + t)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics) -> None:
        """Record this epoch's metric (a number or a one-element tensor) and cut the ``lr`` on a plateau."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):  # a group was added since
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but min_lrs has "
                    f"{len(self.min_lrs)} entries; set sched.min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better()


_LRScheduler = LRScheduler  # PyTorch's old name
