"""NAdam (Dozat, 2016): Adam with Nesterov momentum, optionally with decoupled weight decay."""

from __future__ import annotations

from gdl.optim._scalar_state import ScalarStateMixin
from gdl.optim.optimizer import Optimizer, check_nonneg, check_unit


def check_betas(name: str, group: dict) -> None:
    """``ValueError`` unless ``group['betas']`` is a pair in [0, 1); stores it as a tuple."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    check_unit(name, "beta1 (betas[0])", betas[0])
    check_unit(name, "beta2 (betas[1])", betas[1])
    group["betas"] = tuple(betas)


def nadam_step(xp, params, grads, state, steps, *, lr, beta1, beta2, eps, weight_decay, momentum_decay,
               decoupled_weight_decay):
    """The portable NAdam update over lists of arrays (the ``"nadam_step"`` kernel's reference).

    ``state`` holds ``'exp_avg'``, ``'exp_avg_sq'`` (arrays shaped like the
    parameters) and ``'mu_product'`` (0-d arrays in the parameters' dtype);
    ``steps`` include this step. Returns ``(new_params, new_state)``.
    """
    new_params, ms, vs, mps = [], [], [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        t = steps[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = state["mu_product"][i] * mu
        m = beta1 * state["exp_avg"][i] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"][i] + (1 - beta2) * (g * g)
        denom = xp.sqrt(v / (1 - beta2**t)) + eps
        c_grad = (-lr * (1.0 - mu)) / (1.0 - mu_product)  # 0-d arrays: no trip to the host
        c_avg = (-lr * mu_next) / (1.0 - mu_product * mu_next)
        new_params.append(p + c_grad * (g / denom) + c_avg * (m / denom))
        ms.append(m)
        vs.append(v)
        mps.append(mu_product)
    return new_params, {"exp_avg": ms, "exp_avg_sq": vs, "mu_product": mps}


class NAdam(ScalarStateMixin, Optimizer):
    r"""NAdam, as ``torch.optim.NAdam``: Adam whose momentum looks one step ahead (Nesterov).

    With gradient :math:`g_t` at step :math:`t` (counted per parameter from 1)::

        theta = theta * (1 - lr * weight_decay)           if decoupled_weight_decay
        g_t = g_t + weight_decay * theta                  otherwise, if weight_decay != 0
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_{t+1} = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        P_t = mu_1 * mu_2 * ... * mu_t                    (state 'mu_product')
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t**2
        denom = sqrt(v_t / (1 - beta2**t)) + eps
        theta_t = theta - lr * (1 - mu_t) / (1 - P_t) * g_t / denom
                        - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / denom

    State per parameter: ``step``, ``mu_product`` (a 0-d tensor in the
    parameter's dtype, starting at 1), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 2e-3.
        betas: (beta1, beta2), each in [0, 1), default (0.9, 0.999).
        eps: added to the denominator (>= 0), default 1e-8.
        weight_decay: weight decay (>= 0), default 0.
        momentum_decay: psi, how fast mu_t approaches beta1 (>= 0), default 4e-3.
        decoupled_weight_decay: shrink the parameter directly, as AdamW (NAdamW),
            instead of adding ``weight_decay * theta`` to the gradient; default False.

    Example::

        opt = gdl.optim.NAdam(model.parameters(), lr=2e-3)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "nadam_step"
    state_keys = ("mu_product", "exp_avg", "exp_avg_sq")
    scalar_state = {"mu_product": 1.0}
    update = staticmethod(nadam_step)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False, **torch_options):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "eps", "weight_decay", "momentum_decay"):
            check_nonneg("NAdam", key, group[key])
        check_betas("NAdam", group)

    def _fill_state(self, p, st, group):
        self._fill_scalars(p, st)
        if "exp_avg" not in st:
            st["exp_avg"] = self._zeros_like(p)
            st["exp_avg_sq"] = self._zeros_like(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2), eps=float(group["eps"]),
                    weight_decay=float(group["weight_decay"]), momentum_decay=float(group["momentum_decay"]),
                    decoupled_weight_decay=bool(group["decoupled_weight_decay"]))


__all__ = ["NAdam", "nadam_step", "check_betas"]
