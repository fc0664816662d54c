"""Learning-rate schedules: change each parameter group's ``lr`` once per epoch.

They follow ``torch.optim.lr_scheduler``: creating a scheduler records each
group's starting ``lr`` as ``group['initial_lr']`` (the ``base_lrs``) and sets
``last_epoch = 0``; each ``scheduler.step()`` (call it after ``optimizer.step()``,
once per epoch) advances ``last_epoch`` and writes the new ``lr`` into the groups.
StepLR, ExponentialLR and CosineAnnealingLR update the current ``lr``
multiplicatively ("chainable", PyTorch's own formulas), so their values equal
PyTorch's; the closed forms are in each docstring. Resuming with
``last_epoch=k`` (after loading the optimizer's state dict), ExponentialLR and
CosineAnnealingLR keep the ``lr`` they find, as PyTorch does since 2.8; StepLR
and LambdaLR set the ``lr`` of epoch ``k + 1``.

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

from gdl.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"]


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


_LRScheduler = LRScheduler  # PyTorch's old name
