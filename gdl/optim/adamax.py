"""Adamax (Kingma & Ba, 2014, section 7): Adam with the infinity norm."""

from __future__ import annotations

from gdl.optim.nadam import check_betas
from gdl.optim.optimizer import Optimizer, check_nonneg


def adamax_step(xp, params, grads, state, steps, *, lr, beta1, beta2, eps, weight_decay):
    """The portable Adamax update over lists of arrays (the ``"adamax_step"`` kernel's reference).

    ``state`` holds ``'exp_avg'`` and ``'exp_inf'``; ``steps`` include this step.
    Returns ``(new_params, new_state)``.
    """
    new_params, ms, us = [], [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay != 0:
            g = g + weight_decay * p
        m = beta1 * state["exp_avg"][i] + (1 - beta1) * g
        u = xp.maximum(beta2 * state["exp_inf"][i], xp.abs(g) + eps)
        clr = lr / (1 - beta1 ** steps[i])
        new_params.append(p - clr * (m / u))
        ms.append(m)
        us.append(u)
    return new_params, {"exp_avg": ms, "exp_inf": us}


class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``.

    With gradient :math:`g_t` at step :math:`t` (counted per parameter from 1)::

        g_t = g_t + weight_decay * theta_{t-1}            if weight_decay != 0
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1**t) * m_t / u_t

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 2e-3.
        betas: (beta1, beta2), each in [0, 1), default (0.9, 0.999).
        eps: keeps u_t away from 0 (>= 0), default 1e-8.
        weight_decay: L2 penalty (>= 0), default 0.

    Example::

        opt = gdl.optim.Adamax(model.parameters(), lr=2e-3)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "adamax_step"
    state_keys = ("exp_avg", "exp_inf")
    update = staticmethod(adamax_step)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False, **torch_options):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "eps", "weight_decay"):
            check_nonneg("Adamax", key, group[key])
        check_betas("Adamax", group)

    def _fill_state(self, p, st, group):
        if "exp_avg" not in st:
            st["exp_avg"] = self._zeros_like(p)
            st["exp_inf"] = self._zeros_like(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                    weight_decay=float(group["weight_decay"]))
