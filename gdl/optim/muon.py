"""Muon (Keller Jordan, 2024): momentum orthogonalized by a Newton-Schulz iteration, for 2-D weights."""

from __future__ import annotations

import math

from gdl.optim.optimizer import Optimizer, _check_number, check_nonneg

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5
_ADJUST = (None, "original", "match_rms_adamw")


def zeropower_via_newtonschulz(xp, g, ns_coefficients, ns_steps, eps):
    """Approximately orthogonalize the 2-D array ``g`` (``U S' V^T`` with ``S'`` near 1), as PyTorch.

    Quintic Newton-Schulz: ``X = g / max(||g||_F, eps)`` (transposed when tall), then ``ns_steps`` times
    ``A = X X^T; X = a X + (b A + c A A) X``. Computed in ``g``'s dtype (PyTorch uses bfloat16).
    """
    a, b, c = ns_coefficients
    tall = g.shape[0] > g.shape[1]
    x = xp.matrix_transpose(g) if tall else g
    x = x / max(math.sqrt(float(xp.sum(x * x))), eps)
    for _ in range(ns_steps):
        gram = xp.matmul(x, xp.matrix_transpose(x))
        x = a * x + xp.matmul(b * gram + c * xp.matmul(gram, gram), x)
    return xp.matrix_transpose(x) if tall else x


def adjust_lr(lr, adjust_lr_fn, shape) -> float:
    """The learning rate scaled for a ``shape`` (A, B) matrix: ``sqrt(max(1, A/B))`` ("original", the
    default) or ``0.2 * sqrt(max(A, B))`` ("match_rms_adamw")."""
    rows, cols = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr * math.sqrt(max(1, rows / cols))


def muon_step(xp, params, grads, state, steps, *, lr, weight_decay, momentum, nesterov, ns_coefficients, eps,
              ns_steps, adjust_lr_fn):
    """The portable Muon update over lists of 2-D arrays; ``state`` holds ``'momentum_buffer'``.

    Returns ``(new_params, new_state)``.
    """
    new_params, bufs = [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        if g.ndim != 2:
            raise ValueError(f"Muon: a gradient must be a 2-D matrix, got shape {tuple(g.shape)}")
        buf = state["momentum_buffer"][i]
        buf = buf + (1 - momentum) * (g - buf)
        update = g + momentum * (buf - g) if nesterov else buf
        update = zeropower_via_newtonschulz(xp, update, ns_coefficients, ns_steps, eps)
        p = p * (1 - lr * weight_decay)
        new_params.append(p - adjust_lr(lr, adjust_lr_fn, p.shape) * update)
        bufs.append(buf)
    return new_params, {"momentum_buffer": bufs}


class Muon(Optimizer):
    r"""Muon, as ``torch.optim.Muon``: for the 2-D weights of hidden layers only.

    With gradient :math:`G_t`::

        B_t = lerp(B_{t-1}, G_t, 1 - momentum)           (momentum * B + (1 - momentum) * G)
        M_t = lerp(G_t, B_t, momentum) if nesterov else B_t
        O_t = NewtonSchulz(M_t; ns_coefficients, ns_steps, eps)
        theta = theta * (1 - lr * weight_decay)
        theta_t = theta - AdjustLR(lr, shape) * O_t

    Optimize biases, embeddings and other non-2-D parameters with e.g. :class:`AdamW`.
    State per parameter: ``momentum_buffer``. The Newton-Schulz iteration runs in the
    parameter's dtype (PyTorch runs it in bfloat16, which the Array API lacks).

    Args:
        params: iterable of 2-D parameters or of parameter-group dicts.
        lr: learning rate (>= 0), default 1e-3.
        weight_decay: decoupled weight decay (>= 0), default 0.1.
        momentum: momentum factor (>= 0), default 0.95.
        nesterov: use Nesterov momentum, default True.
        ns_coefficients: ``(a, b, c)`` of the quintic iteration, default (3.4445, -4.7750, 2.0315).
        eps: lower bound of the norm the input is divided by, default 1e-7.
        ns_steps: number of iterations (< 100), default 5.
        adjust_lr_fn: None or "original" (``sqrt(max(1, A/B))``), or "match_rms_adamw"
            (``0.2 * sqrt(max(A, B))``).

    Example::

        opt = gdl.optim.Muon([p for p in model.parameters() if p.ndim == 2], lr=0.02)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    state_keys = ("momentum_buffer",)
    tracks_step = False
    update = staticmethod(muon_step)

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)

    def _validate(self, group):
        for key in ("lr", "momentum", "weight_decay", "eps"):
            check_nonneg("Muon", key, group[key])
        if group["adjust_lr_fn"] not in _ADJUST:
            raise ValueError(f"Muon: adjust_lr_fn must be None, 'original' or 'match_rms_adamw', "
                             f"got {group['adjust_lr_fn']!r}")
        coefficients = group["ns_coefficients"]
        if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
            raise ValueError(f"Muon: ns_coefficients must be three numbers (a, b, c), got {coefficients!r}")
        for v in coefficients:
            _check_number("Muon", "ns_coefficients", v)
        group["ns_coefficients"] = tuple(coefficients)
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps < 100:
            raise ValueError(f"Muon: ns_steps must be an int in [0, 100), got {steps!r}")
        if not isinstance(group["nesterov"], bool):
            raise TypeError(f"Muon: nesterov must be a bool, got {group['nesterov']!r}")
        for p in group["params"]:
            if p.ndim != 2:
                raise ValueError(
                    f"Muon only supports 2-D parameters, got one of shape {tuple(p.shape)}; "
                    f"optimize it with another optimizer (e.g. AdamW)"
                )

    def _fill_state(self, p, st, group):
        if "momentum_buffer" not in st:
            st["momentum_buffer"] = self._zeros_like(p)

    def _hyper(self, group):
        return dict(lr=float(group["lr"]), weight_decay=float(group["weight_decay"]),
                    momentum=float(group["momentum"]), nesterov=group["nesterov"],
                    ns_coefficients=tuple(float(v) for v in group["ns_coefficients"]), eps=float(group["eps"]),
                    ns_steps=group["ns_steps"], adjust_lr_fn=group["adjust_lr_fn"])
