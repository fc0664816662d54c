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

Also as in PyTorch: ConstantLR, PolynomialLR and MultiplicativeLR (chainable);
CosineAnnealingWarmRestarts (``step(epoch)`` takes fractional epochs); the per-batch
OneCycleLR and CyclicLR, which can cycle the momentum (SGD/RMSprop ``momentum``, or
beta1 of the Adam family) against the ``lr``; and the composites SequentialLR (one
schedule after another, switching at milestones) and ChainedScheduler (several
stepped together, their factors multiplying). ``step(epoch)`` jumps to an epoch
using the schedule's closed form where it has one (deprecated in PyTorch; SequentialLR
uses it to restart a schedule at its milestone).

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
from bisect import bisect_right
from collections import Counter

from gdl.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "LinearLR",
    "ReduceLROnPlateau", "MultiplicativeLR", "ConstantLR", "PolynomialLR", "SequentialLR", "ChainedScheduler",
    "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
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
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's own step (see ExponentialLR, CosineAnnealingLR); SequentialLR repeats it."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The ``lr`` of each group for epoch ``last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The ``lr`` of each group as last set by this scheduler."""
        return list(self._last_lr)

    def step(self, epoch=None) -> None:
        """Advance one epoch and set each group's ``lr``.

        ``step(epoch)`` (deprecated in PyTorch, kept for its scripts) jumps to
        ``epoch`` instead, using the closed form where the schedule has one.
        """
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real) or epoch < 0:
                raise ValueError(f"{type(self).__name__}.step: epoch must be a number >= 0, got {epoch!r}")
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
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

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


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

    def _get_closed_form_lr(self):
        hits = sum(n for m, n in self.milestones.items() if m <= self.last_epoch)
        return [base * self.gamma**hits for base in self.base_lrs]


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

    def _get_closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


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

    def _get_closed_form_lr(self):
        lo, e, T = self.eta_min, self.last_epoch, self.T_max
        return [lo + (base - lo) * (1 + math.cos(math.pi * e / T)) / 2 for base in self.base_lrs]


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

    def _get_closed_form_lr(self):
        start, end, n = self.start_factor, self.end_factor, self.total_iters
        return [base * (start + (end - start) * min(n, self.last_epoch) / n) for base in self.base_lrs]


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


class MultiplicativeLR(LRScheduler):
    """Multiply each group's learning rate by ``lr_lambda(epoch)`` every epoch.

    ``lr(epoch) = lr(epoch - 1) * lr_lambda(epoch)`` (``lr(0) = base_lr``);
    ``lr_lambda`` is one function of the epoch or a list of them, one per group.
    As with :class:`LambdaLR`, the functions are not saved in :meth:`state_dict`.

    Example::

        sched = gdl.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.95)
    """

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"MultiplicativeLR: expected {n} lr_lambdas (one per parameter group), got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"MultiplicativeLR: lr_lambda must be callable, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * f(self.last_epoch) for f, g in zip(self.lr_lambdas, groups)]


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs.

    ``lr(epoch) = base_lr * factor`` for ``epoch < total_iters``, ``base_lr`` after
    (PyTorch's chainable form: the ``lr`` is multiplied by ``factor`` at epoch 0 and
    divided by it at ``total_iters``, so it composes with other schedules).

    Example::

        sched = gdl.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4)
        # lr = 0.5·base for epochs 0-3, then base
    """

    def __init__(self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        _real("ConstantLR", "factor", factor)
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor!r}")
        _nonnegative_int("ConstantLR", "total_iters", total_iters)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self):
        after = self.last_epoch >= self.total_iters
        return [base * (self.factor + after * (1 - self.factor)) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate polynomially to 0 over ``total_iters`` epochs.

    ``lr(epoch) = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power``.

    Example::

        sched = gdl.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
        # lr = base · (1, 9/16, 1/4, 1/16, 0, 0, ...)
    """

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        _positive_int("PolynomialLR", "total_iters", total_iters)
        _real("PolynomialLR", "power", power)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self._is_initial or self.last_epoch > self.total_iters:
            return [g["lr"] for g in groups]
        e, n = self.last_epoch, self.total_iters
        decay = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [g["lr"] * decay for g in groups]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [base * (1.0 - min(n, self.last_epoch) / n) ** self.power for base in self.base_lrs]


def _check_schedulers(owner, optimizer, schedulers):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{owner} expects at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{owner}: schedulers[{i}] is a {type(s).__name__}, not a gdl learning-rate scheduler")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(
                f"{owner} does not support ReduceLROnPlateau (its step() needs the metric), "
                f"got one at index {i}"
            )
        if s.optimizer is not optimizer:
            raise ValueError(
                f"{owner} expects all schedulers to belong to the same optimizer, but schedulers[{i}] "
                f"({type(s).__name__}) has another one"
            )
    return schedulers


class _Composite(LRScheduler):
    """SequentialLR and ChainedScheduler: their state dict holds each scheduler's own."""

    _unsaved = ("optimizer", "_schedulers")

    def state_dict(self) -> dict:
        sd = super().state_dict()
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "_schedulers" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with '_schedulers'")
        inner = list(state_dict["_schedulers"])
        if len(inner) != len(self._schedulers):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(inner)} schedulers, this one {len(self._schedulers)}"
            )
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, sd in zip(self._schedulers, inner):
            s.load_state_dict(sd)


class SequentialLR(_Composite):
    """Run ``schedulers`` one after another, switching at each epoch in ``milestones``.

    ``schedulers[0]`` sets the ``lr`` until ``milestones[0]``, then ``schedulers[1]``
    starts from its own epoch 0 (from each group's ``initial_lr``), and so on: the
    usual warm-up then decay. All schedulers must drive the same optimizer.
    ``milestones`` must be increasing (PyTorch does not check; a repeated or
    decreasing milestone silently skips a scheduler there).

    >>> import gdl, gdl.optim
    >>> from gdl.optim import lr_scheduler as S
    >>> opt = gdl.optim.SGD([gdl.nn.Parameter(gdl.zeros(2))], lr=1.0)
    >>> warmup = S.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> decay = S.ExponentialLR(opt, gamma=0.5)
    >>> sched = S.SequentialLR(opt, [warmup, decay], milestones=[3])
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        name = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a gdl Optimizer, got {type(optimizer).__name__}")
        schedulers = _check_schedulers(name, optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{name} expects one milestone fewer than schedulers, got {len(schedulers)} schedulers "
                f"and {len(milestones)} milestones"
            )
        for m in milestones:
            _nonnegative_int(name, "each milestone", m)
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"{name}: milestones must be increasing, got {milestones!r}")
        for i, s in enumerate(schedulers[1:], start=1):
            if isinstance(s, ChainedScheduler):  # PyTorch fails at the milestone (NotImplementedError)
                raise ValueError(
                    f"{name}: schedulers[{i}] is a ChainedScheduler, which cannot restart at a milestone; "
                    f"chain the SequentialLR instead (ChainedScheduler([SequentialLR(...), ...]))"
                )
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {last_epoch!r}")
        for i, group in enumerate(optimizer.param_groups):
            if "initial_lr" not in group:
                raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr' (create the schedulers first)")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # back to the start, as if no scheduler had stepped
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Undo the step each scheduler took when it was created."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self) -> None:
        """Advance one epoch: the scheduler of this epoch steps (or starts, at a milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers at once: each ``step()`` calls every scheduler's ``step()`` in order.

    The chainable schedules multiply the ``lr`` they find, so their effects combine
    (e.g. ``ConstantLR`` warm-up times ``ExponentialLR`` decay).

    >>> import gdl, gdl.optim
    >>> from gdl.optim import lr_scheduler as S
    >>> opt = gdl.optim.SGD([gdl.nn.Parameter(gdl.zeros(2))], lr=1.0)
    >>> sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.5)])
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler, got none")
        if optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ChainedScheduler: expected a gdl Optimizer, got {type(optimizer).__name__}")
        self._schedulers = _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self.optimizer = optimizer
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def step(self) -> None:
        """Step every scheduler, in order."""
        for s in self._schedulers:
            s.step()
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_lr(self):
        raise NotImplementedError("ChainedScheduler has no lr of its own: its schedulers set it in step()")

    def __repr__(self) -> str:
        inner = ", ".join(type(s).__name__ for s in self._schedulers)
        return f"ChainedScheduler([{inner}], last_lr={self.get_last_lr()})"


def _per_group(owner, name, optimizer, value) -> list:
    groups = optimizer.param_groups
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                f"{owner}: {name} must have one value per parameter group ({len(groups)}), got {len(value)}"
            )
        values = list(value)
    else:
        values = [value] * len(groups)
    for v in values:
        _real(owner, name, v)
    return values


def _momentum_setup(sched, owner, optimizer, base_momentum, max_momentum, last_epoch):
    """``cycle_momentum``: SGD/RMSprop's ``momentum`` or the Adam family's ``beta1`` follows the cycle."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{owner}: cycle_momentum=True needs an optimizer with 'momentum' or 'betas' "
            f"({type(optimizer).__name__} has neither); pass cycle_momentum=False"
        )
    sched.use_beta1 = "betas" in optimizer.defaults
    base = _per_group(owner, "base_momentum", optimizer, base_momentum)
    top = _per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m, b, group in zip(top, base, optimizer.param_groups):
            _set_momentum(sched, group, m)
            group["max_momentum"] = m
            group["base_momentum"] = b
    return base, top


def _set_momentum(sched, group, value):
    if sched.use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` (Smith, 2017); step once per batch.

    A cycle is ``step_size_up`` iterations rising linearly from ``base_lr`` to
    ``max_lr`` and ``step_size_down`` (default: the same) falling back. The
    amplitude is scaled by ``mode``: ``"triangular"`` (constant),
    ``"triangular2"`` (halved every cycle), ``"exp_range"`` (``gamma ** iteration``),
    or by a custom ``scale_fn(x)`` of the cycle number (``scale_mode="cycle"``) or the
    iteration (``"iterations"``). With ``cycle_momentum`` the optimizer's momentum
    (or Adam's beta1) moves the opposite way between ``max_momentum`` and
    ``base_momentum``. ``base_lr``, ``max_lr`` and the momenta may be one value or
    one per group. Creating it sets each group's ``lr`` to ``base_lr``.

    Example::

        opt = gdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = gdl.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)
        for batch in loader:
            train_batch(batch); sched.step()
    """

    _unsaved = ("optimizer", "_scale_fn_custom")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1):
        name = "CyclicLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a gdl Optimizer, got {type(optimizer).__name__}")
        base_lrs = _per_group(name, "base_lr", optimizer, base_lr)
        self.max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        for v in base_lrs + self.max_lrs:
            _real(name, "base_lr / max_lr", v, minimum=0)
        _real(name, "step_size_up", step_size_up)
        if step_size_up <= 0:
            raise ValueError(f"{name}: step_size_up must be > 0, got {step_size_up!r}")
        if step_size_down is not None:
            _real(name, "step_size_down", step_size_down)
            if step_size_down <= 0:
                raise ValueError(f"{name}: step_size_down must be > 0, got {step_size_down!r}")
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"{name}: mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be callable, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"{name}: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        _real(name, "gamma", gamma, minimum=0)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.base_momentums, self.max_momentums = _momentum_setup(
                self, name, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is None:  # the built-in modes fix the scale mode, as in PyTorch
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x) -> float:
        """The amplitude's scale at ``x`` (the cycle number or the iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + (top - base) * scale_factor * self.scale_fn(at) for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(self, group, top - (top - base) * scale_factor * self.scale_fn(at))
        return lrs

    def state_dict(self) -> dict:
        """As the base class; a custom ``scale_fn`` is not saved (pass it again), as in PyTorch."""
        sd = super().state_dict()
        sd["_scale_fn_custom"] = None
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict({k: v for k, v in state_dict.items() if k not in ("_scale_fn_custom", "_scale_fn_ref")})
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter, 2017).

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where
    ``T_cur`` counts the epochs since the last restart and ``T_i`` is the length of
    the current cycle: ``T_0`` first, then multiplied by ``T_mult`` at each restart.
    ``step(epoch)`` accepts fractional epochs (``epoch + batch / batches_per_epoch``)
    to anneal within an epoch.

    >>> import gdl, gdl.optim
    >>> from gdl.optim import lr_scheduler as S
    >>> opt = gdl.optim.SGD([gdl.nn.Parameter(gdl.zeros(2))], lr=1.0)
    >>> sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    >>> lrs = []
    >>> for epoch in range(7):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    >>> sched.step(2.5)  # a fractional epoch: a quarter into the second cycle
    >>> round(sched.get_last_lr()[0], 4)
    0.9619
    """

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1):
        _positive_int("CosineAnnealingWarmRestarts", "T_0", T_0)
        _positive_int("CosineAnnealingWarmRestarts", "T_mult", T_mult)
        _real("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lo = self.eta_min
        return [lo + (base - lo) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for base in self.base_lrs]

    def step(self, epoch=None) -> None:
        """Advance one epoch, or go to ``epoch`` (a number >= 0, fractions allowed)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real) or epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be a number >= 0, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018); step once per batch, ``total_steps`` times.

    The ``lr`` rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of the steps, then anneals down to
    ``max_lr / div_factor / final_div_factor`` (``anneal_strategy`` ``"cos"`` or
    ``"linear"``). With ``three_phase=True`` it comes back down to the start value
    symmetrically first, and only the last phase goes below it. With
    ``cycle_momentum`` the momentum (SGD/RMSprop) or Adam's beta1 moves the opposite
    way, between ``max_momentum`` and ``base_momentum``. Give ``total_steps``, or
    ``epochs`` and ``steps_per_epoch``. Stepping past ``total_steps`` is an error.
    Each group keeps ``initial_lr``, ``max_lr``, ``min_lr`` (and the momenta) so the
    optimizer's state dict carries the schedule.

    >>> import gdl, gdl.optim
    >>> from gdl.optim import lr_scheduler as S
    >>> opt = gdl.optim.SGD([gdl.nn.Parameter(gdl.zeros(2))], lr=0.1, momentum=0.9)
    >>> sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=6, pct_start=0.5, anneal_strategy="linear",
    ...                      div_factor=10.0, final_div_factor=10.0)
    >>> for _ in range(6):
    ...     group = opt.param_groups[0]
    ...     print(round(group["lr"], 4), round(group["momentum"], 4))
    ...     opt.step(); sched.step()
    0.1 0.95
    0.55 0.9
    1.0 0.85
    0.67 0.8833
    0.34 0.9167
    0.01 0.95
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum=0.85,
                 max_momentum=0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        name = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected a gdl Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            _positive_int(name, "total_steps", total_steps)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _positive_int(name, "epochs", epochs)
            _positive_int(name, "steps_per_epoch", steps_per_epoch)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
        _real(name, "pct_start", pct_start)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        for key, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            _real(name, key, value)
            if value <= 0:
                raise ValueError(f"{name}: {key} must be > 0, got {value!r}")
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * n) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=n - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=n - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        for v in max_lrs:
            _real(name, "max_lr", v, minimum=0)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            _momentum_setup(self, name, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _annealing_cos(start, end, pct):
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _annealing_linear(start, end, pct):
        return (end - start) * pct + start

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the schedule has total_steps={self.total_steps}"
            )
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == last:
                    pct = (step - start) / (end - start)
                    lr = self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal_func(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(self, group, momentum)
        return lrs


_LRScheduler = LRScheduler  # PyTorch's old name
