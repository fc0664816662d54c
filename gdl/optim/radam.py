"""RAdam (Liu et al., 2019): Adam with a rectified (warm-up free) adaptive learning rate."""

from __future__ import annotations

import math

from gdl.optim.nadam import check_betas
from gdl.optim.optimizer import Optimizer, check_nonneg


def radam_step(xp, params, grads, state, steps, *, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay):
    """The portable RAdam update over lists of arrays (the ``"radam_step"`` kernel's reference).

    ``state`` holds ``'exp_avg'`` and ``'exp_avg_sq'``; ``steps`` include this step.
    Returns ``(new_params, new_state)``.
    """
    new_params, ms, vs = [], [], []
    rho_inf = 2 / (1 - beta2) - 1
    for i, (p, g) in enumerate(zip(params, grads)):
        t = steps[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = beta1 * state["exp_avg"][i] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"][i] + (1 - beta2) * (g * g)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        m_hat = m / bias_correction1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bias_correction2) / (xp.sqrt(v) + eps)
            new_params.append(p - m_hat * lr * adaptive * rect)
        else:  # too few steps for a reliable variance estimate: plain momentum SGD
            new_params.append(p - m_hat * lr)
        ms.append(m)
        vs.append(v)
    return new_params, {"exp_avg": ms, "exp_avg_sq": vs}


class RAdam(Optimizer):
    r"""RAdam, as ``torch.optim.RAdam``.

    With gradient :math:`g_t` at step :math:`t` (counted per parameter from 1)::

        theta = theta * (1 - lr * weight_decay)           if decoupled_weight_decay
        g_t = g_t + weight_decay * theta                  otherwise, if weight_decay != 0
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        m_hat = m_t / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
            theta_t = theta - lr * m_hat * r_t * sqrt(1 - beta2**t) / (sqrt(v_t) + eps)
        else:
            theta_t = theta - lr * m_hat

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-3.
        betas: (beta1, beta2), each in [0, 1), default (0.9, 0.999).
        eps: added to the denominator (>= 0), default 1e-8.
        weight_decay: weight decay (>= 0), default 0.
        decoupled_weight_decay: shrink the parameter directly, as AdamW, instead of
            adding ``weight_decay * theta`` to the gradient; default False.

    Example::

        opt = gdl.optim.RAdam(model.parameters(), lr=1e-3)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "radam_step"
    state_keys = ("exp_avg", "exp_avg_sq")
    update = staticmethod(radam_step)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False, **torch_options):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "eps", "weight_decay"):
            check_nonneg("RAdam", key, group[key])
        check_betas("RAdam", group)

    def _fill_state(self, p, st, group):
        if "exp_avg" not in st:
            st["exp_avg"] = self._zeros_like(p)
            st["exp_avg_sq"] = self._zeros_like(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                    weight_decay=float(group["weight_decay"]),
                    decoupled_weight_decay=bool(group["decoupled_weight_decay"]))
