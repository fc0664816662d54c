"""Adafactor (Shazeer & Stern, 2018): Adam-like steps with factored second moments."""

from __future__ import annotations

import math

from gdl.optim._scalar_state import load_setting_aside
from gdl.optim.optimizer import Optimizer, _check_number, check_nonneg

_FACTORS = ("row_var", "col_var")


def _norm(xp, a) -> float:
    return math.sqrt(float(xp.sum(a * a)))


def _lerp(xp, start, end, weight):
    """``torch.lerp``'s two-sided formula: exact at ``weight == 1`` (``beta2_decay=0``), where
    ``start + weight * (end - start)`` cancels catastrophically for ``start >> end``."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _factored_variance(xp, g, row_var, col_var, weight, eps1):
    """Update the row/column factors (means of g**2 over the last/second-to-last axis) and
    return ``(variance estimate, row_var, col_var)``."""
    gg = g * g
    row_var = _lerp(xp, row_var, xp.mean(gg, axis=-1, keepdims=True), weight)
    col_var = _lerp(xp, col_var, xp.mean(gg, axis=-2, keepdims=True), weight)
    row_mean = xp.clip(xp.mean(row_var, axis=-2, keepdims=True), min=eps1)
    return xp.matmul(row_var, col_var) / row_mean, row_var, col_var


def adafactor_step(xp, params, grads, state, steps, *, lr, beta2_decay, eps1, eps2, d, weight_decay):
    """The portable Adafactor update over lists of arrays (PyTorch's single-tensor algorithm).

    ``state`` holds ``'row_var'`` and ``'col_var'`` for parameters of 2 or more dimensions
    (shaped like the parameter with the last, resp. second-to-last, axis of size 1) and
    ``'variance'`` for the others (``None`` where a buffer does not apply). ``eps1=None``
    means the machine epsilon of each parameter's dtype. Returns ``(new_params, new_state)``.
    """
    new_params = []
    new_state = {"row_var": [], "col_var": [], "variance": []}
    for i, (p, g) in enumerate(zip(params, grads)):
        t = float(steps[i])
        e1 = float(xp.finfo(p.dtype).eps) if eps1 is None else eps1
        weight = t**beta2_decay  # 1 - beta2_t
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, _norm(xp, p) / math.sqrt(max(math.prod(p.shape), 1))) * rho
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)
        row = col = var = None
        if g.ndim > 1:
            estimate, row, col = _factored_variance(xp, g, state["row_var"][i], state["col_var"][i], weight, e1)
        else:
            var = estimate = _lerp(xp, state["variance"][i], g * g, weight)
        update = g / xp.sqrt(xp.clip(estimate, min=e1 * e1))
        denom = max(1.0, _norm(xp, update) / (math.sqrt(max(math.prod(update.shape), 1)) * d))
        new_params.append(p - (alpha / denom) * update)
        for key, value in zip(("row_var", "col_var", "variance"), (row, col, var)):
            new_state[key].append(value)
    return new_params, new_state


class Adafactor(Optimizer):
    r"""Adafactor, as ``torch.optim.Adafactor`` (PyTorch's variant of Shazeer & Stern).

    At step :math:`t` (per parameter, from 1), with gradient :math:`G_t`::

        beta2_t' = t ** beta2_decay                 (this is 1 - beta2_t)
        rho_t = min(lr, 1 / sqrt(t))
        alpha_t = max(eps2, RMS(theta_{t-1})) * rho_t
        theta = theta * (1 - lr * weight_decay)
        if theta has >= 2 dims:  (factored over the last two)
            R_t = lerp(R_{t-1}, mean(G_t**2, last axis), beta2_t')
            C_t = lerp(C_{t-1}, mean(G_t**2, second-to-last axis), beta2_t')
            V_t = R_t @ C_t / max(mean(R_t, second-to-last axis), eps1)
        else:
            V_t = lerp(V_{t-1}, G_t**2, beta2_t')
        U_t = G_t / sqrt(max(V_t, eps1**2))
        theta_t = theta - alpha_t / max(1, RMS(U_t) / d) * U_t

    State per parameter: ``step`` and ``row_var``/``col_var`` (2+ dimensions) or ``variance``.

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: the relative step size's upper bound (>= 0), default 1e-2.
        beta2_decay: decay exponent of the second-moment weight (<= 0), default -0.8.
        eps: ``(eps1, eps2)``: eps1 (>= 0, or None for the dtype's machine epsilon) bounds the
            variance estimate, eps2 (>= 0) the parameter scale; default ``(None, 1e-3)``.
        d: clipping threshold of the update's RMS (>= 1), default 1.0.
        weight_decay: decoupled weight decay (>= 0), default 0.
        foreach: accepted and ignored; maximize: ascend instead.

    Example::

        opt = gdl.optim.Adafactor(model.parameters(), lr=1e-2)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    state_keys = ("row_var", "col_var", "variance")
    update = staticmethod(adafactor_step)

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach)
        super().__init__(params, defaults, maximize=maximize, foreach=foreach)

    def _validate(self, group):
        check_nonneg("Adafactor", "lr", group["lr"])
        if _check_number("Adafactor", "beta2_decay", group["beta2_decay"]) > 0:
            raise ValueError(f"Adafactor: invalid beta2_decay {group['beta2_decay']!r}: must be <= 0")
        eps = group["eps"]
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"Adafactor: eps must be a pair (eps1 or None, eps2), got {eps!r}")
        if eps[0] is not None:
            check_nonneg("Adafactor", "eps1 (eps[0])", eps[0])
        check_nonneg("Adafactor", "eps2 (eps[1])", eps[1])
        group["eps"] = tuple(eps)
        if _check_number("Adafactor", "d", group["d"]) < 1:
            raise ValueError(f"Adafactor: invalid clipping threshold d {group['d']!r}: must be >= 1")
        check_nonneg("Adafactor", "weight_decay", group["weight_decay"])

    def _fill_state(self, p, st, group):
        if any(k in st for k in self.state_keys):
            return
        if p.ndim > 1:
            st["row_var"] = self._zeros_shaped(p, _factor_shape(p.shape, "row_var"))
            st["col_var"] = self._zeros_shaped(p, _factor_shape(p.shape, "col_var"))
        else:
            st["variance"] = self._zeros_like(p)

    @staticmethod
    def _zeros_shaped(p, shape):
        from gdl.tensor import Tensor

        xp = p._backend.xp
        return Tensor._wrap(xp.zeros(shape, dtype=p.data.dtype, device=p._backend.device), p._backend)

    def _hyper(self, group):
        eps1, eps2 = group["eps"]
        return dict(lr=float(group["lr"]), beta2_decay=float(group["beta2_decay"]),
                    eps1=None if eps1 is None else float(eps1), eps2=float(eps2), d=float(group["d"]),
                    weight_decay=float(group["weight_decay"]))

    def load_state_dict(self, state_dict: dict) -> None:
        """As :meth:`Optimizer.load_state_dict`; ``row_var``/``col_var`` are checked against the
        factor shapes (the parameter's with one axis of size 1)."""
        load_setting_aside(self, state_dict, _FACTORS, super().load_state_dict, _restore_factor)


def _factor_shape(shape, key) -> tuple:
    shape = list(shape)
    shape[-1 if key == "row_var" else -2] = 1
    return tuple(shape)


def _restore_factor(value, p, key, idx):
    from gdl.tensor import tensor

    want = _factor_shape(p.shape, key) if p.ndim > 1 else None
    t = tensor(value, dtype=p.dtype, backend=p._backend)
    if want is None or tuple(t.shape) != want:
        raise ValueError(
            f"Adafactor.load_state_dict: state {key!r} of parameter {idx} has shape {tuple(t.shape)}, "
            f"expected {want} for a parameter of shape {tuple(p.shape)}"
        )
    return t
