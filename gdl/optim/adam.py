"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math

from gdl.optim.optimizer import Optimizer, check_nonneg, check_unit


def adam_step(xp, params, grads, state, steps, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
              decoupled_weight_decay=False):
    """The portable Adam/AdamW update over lists of arrays (the ``"adam_step"`` kernel's reference).

    ``state`` holds ``'exp_avg'``, ``'exp_avg_sq'`` and, with ``amsgrad``,
    ``'max_exp_avg_sq'`` (lists of arrays, already initialised); ``steps`` are the
    step counts including this step. ``decoupled_weight_decay=True`` is AdamW.
    Returns ``(new_params, new_state)``.
    """
    new_params, ms, vs, vmaxs = [], [], [], []
    vmax_in = state.get("max_exp_avg_sq")
    for i, (p, g) in enumerate(zip(params, grads)):
        t = steps[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = beta1 * state["exp_avg"][i] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"][i] + (1 - beta2) * (g * g)
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        if amsgrad:
            vmax = xp.maximum(vmax_in[i], v)
            vmaxs.append(vmax)
            denom = xp.sqrt(vmax) / bias_correction2_sqrt + eps
        else:
            denom = xp.sqrt(v) / bias_correction2_sqrt + eps
        new_params.append(p - step_size * (m / denom))
        ms.append(m)
        vs.append(v)
    new_state = {"exp_avg": ms, "exp_avg_sq": vs}
    if amsgrad:
        new_state["max_exp_avg_sq"] = vmaxs
    return new_params, new_state


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    With gradient :math:`g_t` at step :math:`t` (counted per parameter from 1)::

        g_t = g_t + weight_decay * theta_{t-1}            if weight_decay != 0
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        m_hat = m_t / (1 - beta1**t)
        v_max = max(v_max, v_t); v_hat = v_max / (1 - beta2**t)      if amsgrad
        v_hat = v_t / (1 - beta2**t)                                 otherwise
        theta_t = theta_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq``. (Computed as PyTorch does:
    ``theta - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.)

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-3.
        betas: (beta1, beta2), each in [0, 1), default (0.9, 0.999).
        eps: added to the denominator (>= 0), default 1e-8.
        weight_decay: L2 penalty added to the gradient (>= 0), default 0.
        amsgrad: use the AMSGrad variant, default False.

    Example::

        opt = gdl.optim.Adam(model.parameters(), lr=1e-3)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "adam_step"
    state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    update = staticmethod(adam_step)
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False, **torch_options):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        name = type(self).__name__
        check_nonneg(name, "lr", group["lr"])
        check_nonneg(name, "eps", group["eps"])
        check_nonneg(name, "weight_decay", group["weight_decay"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_unit(name, "beta1 (betas[0])", betas[0])
        check_unit(name, "beta2 (betas[1])", betas[1])
        group["betas"] = tuple(betas)

    def _fill_state(self, p, st, group):
        if "exp_avg" not in st:
            st["exp_avg"] = self._zeros_like(p)
            st["exp_avg_sq"] = self._zeros_like(p)
        if group["amsgrad"] and "max_exp_avg_sq" not in st:
            st["max_exp_avg_sq"] = self._zeros_like(p)

    def _active_keys(self, group):
        return self.state_keys if group["amsgrad"] else self.state_keys[:2]

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return dict(
            lr=float(group["lr"]),
            beta1=float(beta1),
            beta2=float(beta2),
            eps=float(group["eps"]),
            weight_decay=float(group["weight_decay"]),
            amsgrad=bool(group["amsgrad"]),
            decoupled_weight_decay=self.decoupled,
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    The weight decay shrinks the parameter directly instead of entering the
    gradient (so it is not rescaled by Adam's denominator)::

        theta = theta * (1 - lr * weight_decay)
        m_t, v_t, m_hat, v_hat as in Adam (from the raw gradient g_t)
        theta_t = theta - lr * m_hat / (sqrt(v_hat) + eps)

    Same arguments as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.
    Uses the ``"adam_step"`` fused kernel with ``decoupled_weight_decay=True``.

    Example::

        opt = gdl.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False, **torch_options):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, **torch_options)
