"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""

from __future__ import annotations

from gdl.optim._scalar_state import ScalarStateMixin
from gdl.optim.optimizer import Optimizer, _check_number, check_nonneg


def asgd_step(xp, params, grads, state, steps, *, lr, lambd, alpha, t0, weight_decay):
    """The portable ASGD update over lists of arrays (the ``"asgd_step"`` kernel's reference).

    ``state`` holds ``'eta'`` and ``'mu'`` (0-d arrays in the parameters' dtype) and
    ``'ax'`` (the running average); ``steps`` include this step.
    Returns ``(new_params, new_state)``.
    """
    new_params, etas, mus, axs = [], [], [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        t = steps[i]
        eta, mu, ax = state["eta"][i], state["mu"][i], state["ax"][i]
        if weight_decay != 0:
            g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g  # decay, then the gradient step (eta of the last step)
        ax = xp.where(mu == 1, p, ax + (p - ax) * mu)  # averaging starts once mu < 1 (after t0 steps)
        new_params.append(p)
        axs.append(ax)
        etas.append(xp.full_like(eta, lr / ((1 + lambd * lr * t) ** alpha)))
        mus.append(xp.full_like(mu, 1 / max(1, t - t0)))
    return new_params, {"eta": etas, "mu": mus, "ax": axs}


class ASGD(ScalarStateMixin, Optimizer):
    r"""ASGD, as ``torch.optim.ASGD``: SGD with a decaying step and a running average of the iterates.

    With gradient :math:`g_t` at step :math:`t` (from 1), ``eta_0 = lr``, ``mu_0 = 1``::

        g_t = g_t + weight_decay * theta_{t-1}             if weight_decay != 0
        theta_t = theta_{t-1} * (1 - lambd * eta_{t-1}) - eta_{t-1} * g_t
        ax_t = theta_t  if mu_{t-1} == 1  else  ax_{t-1} + mu_{t-1} * (theta_t - ax_{t-1})
        eta_t = lr / (1 + lambd * lr * t) ** alpha
        mu_t = 1 / max(1, t - t0)

    The averaged parameters are in ``opt.state[p]['ax']`` (copy them into the
    model to evaluate it). State per parameter: ``step``, ``eta`` and ``mu``
    (0-d tensors in the parameter's dtype), ``ax``.

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-2.
        lambd: decay term, default 1e-4.
        alpha: power for the eta update, default 0.75.
        t0: the step at which averaging starts, default 1e6.
        weight_decay: L2 penalty (>= 0), default 0.

    Example::

        opt = gdl.optim.ASGD(model.parameters(), lr=1e-2, t0=100)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "asgd_step"
    state_keys = ("eta", "mu", "ax")
    update = staticmethod(asgd_step)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, *, maximize=False, **torch_options):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    @property
    def scalar_state(self):
        return {"eta": None, "mu": 1.0}

    def _validate(self, group):
        check_nonneg("ASGD", "lr", group["lr"])
        check_nonneg("ASGD", "weight_decay", group["weight_decay"])
        for key in ("lambd", "alpha", "t0"):
            _check_number("ASGD", key, group[key])

    def _fill_state(self, p, st, group):
        if "eta" not in st:
            st["eta"] = self._scalar_like(p, float(group["lr"]))
        self._fill_scalars(p, st)
        if "ax" not in st:
            st["ax"] = self._zeros_like(p)

    def _hyper(self, group):
        return dict(lr=float(group["lr"]), lambd=float(group["lambd"]), alpha=float(group["alpha"]),
                    t0=float(group["t0"]), weight_decay=float(group["weight_decay"]))
