"""Adagrad (Duchi, Hazan & Singer, 2011)."""

from __future__ import annotations

from gdl.optim.optimizer import Optimizer, check_nonneg


def adagrad_step(xp, params, grads, state, steps, *, lr, lr_decay, weight_decay, eps):
    """The portable Adagrad update over lists of arrays (the ``"adagrad_step"`` kernel's reference).

    ``state == {'sum': [...]}`` (already initialised); ``steps`` include this step.
    Returns ``(new_params, new_state)``.
    """
    new_params, sums = [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        s = state["sum"][i] + g * g
        sums.append(s)
        new_params.append(p - clr * (g / (xp.sqrt(s) + eps)))
    return new_params, {"sum": sums}


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    With gradient :math:`g_t` at step :math:`t` (from 1)::

        g_t = g_t + weight_decay * theta_{t-1}          if weight_decay != 0
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t**2                          (s_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(s_t) + eps)

    State per parameter: ``step`` and ``sum`` (s).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-2.
        lr_decay: learning-rate decay (>= 0), default 0.
        weight_decay: L2 penalty (>= 0), default 0.
        initial_accumulator_value: starting value of ``s`` (>= 0), default 0.
        eps: added to the denominator (>= 0), default 1e-10.

    Example::

        opt = gdl.optim.Adagrad(model.parameters(), lr=1e-2)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "adagrad_step"
    state_keys = ("sum",)
    update = staticmethod(adagrad_step)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False, **torch_options):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonneg("Adagrad", key, group[key])

    def _fill_state(self, p, st, group):
        if "sum" not in st:
            st["sum"] = self._zeros_like(p, float(group["initial_accumulator_value"]))

    def _hyper(self, group):
        return dict(
            lr=float(group["lr"]),
            lr_decay=float(group["lr_decay"]),
            weight_decay=float(group["weight_decay"]),
            eps=float(group["eps"]),
        )
