"""Rprop (Riedmiller & Braun, 1993): resilient backpropagation, full-batch sign-based steps."""

from __future__ import annotations

from gdl.optim.optimizer import Optimizer, _check_number, check_nonneg


def rprop_step(xp, params, grads, state, steps, *, etaminus, etaplus, step_size_min, step_size_max):
    """The portable Rprop update over lists of arrays (the ``"rprop_step"`` kernel's reference).

    ``state`` holds ``'prev'`` (the last gradient used) and ``'step_size'`` (each
    element's step). Returns ``(new_params, new_state)``.
    """
    new_params, prevs, sizes = [], [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        s = xp.sign(g * state["prev"][i])
        one = xp.ones_like(s)
        factor = xp.where(s > 0, one * etaplus, xp.where(s < 0, one * etaminus, one))
        size = xp.clip(state["step_size"][i] * factor, min=step_size_min, max=step_size_max)
        g = xp.where(s < 0, xp.zeros_like(g), g)  # the sign flipped: no step, and forget this gradient
        new_params.append(p - xp.sign(g) * size)
        prevs.append(g)
        sizes.append(size)
    return new_params, {"prev": prevs, "step_size": sizes}


class Rprop(Optimizer):
    r"""Rprop, as ``torch.optim.Rprop`` (meant for full-batch training).

    Each element keeps its own step size, grown by ``etaplus`` while its gradient
    keeps its sign and shrunk by ``etaminus`` when the sign flips::

        s = sign(g_t * g_prev)
        step_size = clip(step_size * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0),
                         step_sizes[0], step_sizes[1])
        g_t = 0 where s < 0
        theta_t = theta_{t-1} - sign(g_t) * step_size
        g_prev = g_t

    State per parameter: ``step``, ``prev`` (starts at 0) and ``step_size``
    (starts at the group's ``lr``).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: the initial step size (>= 0), default 1e-2.
        etas: (etaminus, etaplus) with 0 < etaminus < 1 < etaplus, default (0.5, 1.2).
        step_sizes: (min, max) allowed step size, default (1e-6, 50).

    Example::

        opt = gdl.optim.Rprop(model.parameters(), lr=1e-2)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "rprop_step"
    state_keys = ("prev", "step_size")
    update = staticmethod(rprop_step)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False, **torch_options):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        check_nonneg("Rprop", "lr", group["lr"])
        for key in ("etas", "step_sizes"):
            pair = group[key]
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"Rprop: {key} must be a pair, got {pair!r}")
            for v in pair:
                _check_number("Rprop", key, v)
            group[key] = tuple(pair)
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Rprop: invalid etas {group['etas']!r}: need 0 < etaminus < 1 < etaplus")
        lo, hi = group["step_sizes"]
        if not 0.0 <= lo <= hi:
            raise ValueError(f"Rprop: invalid step_sizes {group['step_sizes']!r}: need 0 <= min <= max")

    def _fill_state(self, p, st, group):
        if "prev" not in st:
            st["prev"] = self._zeros_like(p)
            st["step_size"] = self._zeros_like(p, float(group["lr"]))

    def _hyper(self, group):
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        return dict(etaminus=float(etaminus), etaplus=float(etaplus), step_size_min=float(lo),
                    step_size_max=float(hi))
