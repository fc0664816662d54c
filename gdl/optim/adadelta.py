"""Adadelta (Zeiler, 2012)."""

from __future__ import annotations

from gdl.optim.optimizer import Optimizer, _check_number, check_nonneg


def adadelta_step(xp, params, grads, state, steps, *, lr, rho, eps, weight_decay):
    """The portable Adadelta update over lists of arrays (the ``"adadelta_step"`` kernel's reference).

    ``state`` holds ``'square_avg'`` and ``'acc_delta'``. Returns ``(new_params, new_state)``.
    """
    new_params, sqs, accs = [], [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay != 0:
            g = g + weight_decay * p
        sq = rho * state["square_avg"][i] + (1 - rho) * (g * g)
        delta = xp.sqrt(state["acc_delta"][i] + eps) / xp.sqrt(sq + eps) * g
        acc = rho * state["acc_delta"][i] + (1 - rho) * (delta * delta)
        new_params.append(p - lr * delta)
        sqs.append(sq)
        accs.append(acc)
    return new_params, {"square_avg": sqs, "acc_delta": accs}


class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    With gradient :math:`g_t`::

        g_t = g_t + weight_decay * theta_{t-1}            if weight_decay != 0
        v_t = rho * v_{t-1} + (1 - rho) * g_t**2
        delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * delta_t**2
        theta_t = theta_{t-1} - lr * delta_t

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: scales delta before it is applied (>= 0), default 1.0.
        rho: decay of the running averages, in [0, 1], default 0.9.
        eps: added inside the square roots (>= 0), default 1e-6.
        weight_decay: L2 penalty (>= 0), default 0.

    Example::

        opt = gdl.optim.Adadelta(model.parameters())
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "adadelta_step"
    state_keys = ("square_avg", "acc_delta")
    update = staticmethod(adadelta_step)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False, **torch_options):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay), maximize=maximize,
                         **torch_options)

    def _validate(self, group):
        for key in ("lr", "eps", "weight_decay"):
            check_nonneg("Adadelta", key, group[key])
        _check_number("Adadelta", "rho", group["rho"])
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {group['rho']!r}: must be in [0, 1]")

    def _fill_state(self, p, st, group):
        if "square_avg" not in st:
            st["square_avg"] = self._zeros_like(p)
            st["acc_delta"] = self._zeros_like(p)

    def _hyper(self, group):
        return dict(lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                    weight_decay=float(group["weight_decay"]))
