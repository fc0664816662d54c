"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

from gdl.optim.optimizer import Optimizer, check_nonneg


def rmsprop_step(xp, params, grads, state, steps, *, lr, alpha, eps, weight_decay, momentum, centered):
    """The portable RMSprop update over lists of arrays (the ``"rmsprop_step"`` kernel's reference).

    ``state`` holds ``'square_avg'``, plus ``'momentum_buffer'`` when
    ``momentum > 0`` and ``'grad_avg'`` when ``centered`` (lists of arrays, already
    initialised). Returns ``(new_params, new_state)``.
    """
    new_params = []
    out = {k: [] for k in state}
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay != 0:
            g = g + weight_decay * p
        sq = alpha * state["square_avg"][i] + (1 - alpha) * (g * g)
        out["square_avg"].append(sq)
        if centered:
            ga = alpha * state["grad_avg"][i] + (1 - alpha) * g
            out["grad_avg"].append(ga)
            # sq - ga² >= 0 in exact arithmetic; rounding can take it below (NaN in sqrt)
            avg = xp.sqrt(xp.clip(sq - ga * ga, min=0.0)) + eps
        else:
            avg = xp.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * state["momentum_buffer"][i] + g / avg
            out["momentum_buffer"].append(buf)
            new_params.append(p - lr * buf)
        else:
            new_params.append(p - lr * (g / avg))
    return new_params, out


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    With gradient :math:`g_t`::

        g_t = g_t + weight_decay * theta_{t-1}              if weight_decay != 0
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t**2
        if centered:
            a_t = alpha * a_{t-1} + (1 - alpha) * g_t
            denom = sqrt(v_t - a_t**2) + eps
        else:
            denom = sqrt(v_t) + eps
        if momentum > 0:
            b_t = momentum * b_{t-1} + g_t / denom
            theta_t = theta_{t-1} - lr * b_t
        else:
            theta_t = theta_{t-1} - lr * g_t / denom

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, if
    momentum > 0), ``grad_avg`` (a, if centered); all start at zero.

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-2.
        alpha: smoothing constant (>= 0), default 0.99.
        eps: added to the denominator (>= 0), default 1e-8.
        weight_decay: L2 penalty (>= 0), default 0.
        momentum: momentum factor (>= 0), default 0.
        centered: normalise by the estimated variance of the gradient, default False.

    Example::

        opt = gdl.optim.RMSprop(model.parameters(), lr=1e-2)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "rmsprop_step"
    state_keys = ("square_avg", "momentum_buffer", "grad_avg")
    update = staticmethod(rmsprop_step)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False, **torch_options):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_nonneg("RMSprop", key, group[key])

    def _fill_state(self, p, st, group):
        if "square_avg" not in st:
            st["square_avg"] = self._zeros_like(p)
        if group["momentum"] > 0 and "momentum_buffer" not in st:
            st["momentum_buffer"] = self._zeros_like(p)
        if group["centered"] and "grad_avg" not in st:
            st["grad_avg"] = self._zeros_like(p)

    def _active_keys(self, group):
        keys = ["square_avg"]
        if group["momentum"] > 0:
            keys.append("momentum_buffer")
        if group["centered"]:
            keys.append("grad_avg")
        return tuple(keys)

    def _hyper(self, group):
        return dict(
            lr=float(group["lr"]),
            alpha=float(group["alpha"]),
            eps=float(group["eps"]),
            weight_decay=float(group["weight_decay"]),
            momentum=float(group["momentum"]),
            centered=bool(group["centered"]),
        )
