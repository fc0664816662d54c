"""Connectionist Temporal Classification: :func:`ctc_loss`, as ``torch.nn.functional.ctc_loss``.

Forward: the alpha recursion in log space over the extended target (blanks between and
around the labels), vectorised over the batch, one step per time step; backward: the beta
recursion, and from both the occupation of each class at each time step.
"""

from __future__ import annotations

import math
import numbers

from gdl import functional as ops
from gdl.nn.functional._arguments import _check_tensor, _host_ints, _index_array
from gdl.nn.functional.loss import _REDUCTIONS
from gdl.tensor import Tensor, result

__all__ = ["ctc_loss"]


def _lengths(op, name, value, n, be, unbatched):
    """Input or target lengths as a list of ``n`` Python ints."""
    if isinstance(value, Tensor):
        if value.dtype.is_floating_point:
            raise TypeError(f"{op}: {name} must hold integers, got {value.dtype.name}")
        vals = _host_ints(value._backend, value.data)
        shape = value.shape
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        vals, shape = [int(value)], ()
    elif isinstance(value, (list, tuple)):
        if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in value):
            raise TypeError(f"{op}: {name} must hold integers, got {value!r}")
        vals, shape = [int(v) for v in value], (len(value),)
    elif be.is_array(value):
        vals, shape = _host_ints(be, value), tuple(value.shape)
    else:
        raise TypeError(f"{op}: {name} must be a tensor, a list or tuple of ints, got {type(value).__name__}")
    if len(shape) > 1 or len(vals) != n or (not unbatched and shape == () and n != 1):
        raise ValueError(f"{op}: {name} must hold one length per batch element ({n}), got shape {shape}")
    return vals


def _shift(xp, a, k, fill, be):
    """The 2-D ``a`` moved ``k`` columns right (``k < 0``: left), ``fill`` coming in."""
    n, w = a.shape
    pad = xp.full((n, min(abs(k), w)), fill, dtype=a.dtype, device=be.device)
    if abs(k) >= w:
        return pad
    return xp.concat([pad, a[:, :w - k]], axis=1) if k > 0 else xp.concat([a[:, -k:], pad], axis=1)


def _lse3(xp, a, b, c):
    """``log(exp a + exp b + exp c)`` elementwise; -inf where all three are -inf (no warnings)."""
    m = xp.maximum(xp.maximum(a, b), c)
    dead = m == -math.inf
    m0 = xp.where(dead, xp.zeros_like(m), m)
    s = xp.exp(a - m0) + xp.exp(b - m0) + xp.exp(c - m0)
    return xp.where(dead, m, m0 + xp.log(xp.where(dead, xp.ones_like(s), s)))


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss, as ``torch.nn.functional.ctc_loss``.

    ``log_probs``: ``(T, N, C)`` log-probabilities (e.g. ``log_softmax`` over ``C``), or
    ``(T, C)`` for one sequence. ``targets``: ``(N, S)`` padded class indices, or 1-D, the
    ``N`` targets concatenated (``(S,)`` unbatched). ``input_lengths``/``target_lengths``:
    ``N`` ints each (tensors, lists or tuples; ints unbatched). ``blank``: the blank class.
    ``reduction``: ``"none"`` gives one loss per sequence, ``"sum"`` their sum, ``"mean"``
    the batch mean of each loss divided by its target length (at least 1), as PyTorch.
    ``zero_infinity=True`` turns infinite losses (a target that no alignment fits) and their
    gradients into zeros.

    Forward: the alpha recursion over the extended target (blanks between and around the
    labels) in log space, one vectorised step per time step; backward: the beta recursion,
    the gradient ``-Σ_{s: l'_s = c} α_t(s)β_t(s) / (P·y_t(c))`` (the occupation of each class).
    This is the exact gradient with respect to ``log_probs``. PyTorch's own kernel returns
    ``exp(log_probs)`` plus that, which equals it after a ``log_softmax`` (the extra term's
    softmax backward is zero): gradients with respect to the logits agree.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> lp = gdl.full((2, 1, 2), 0.5).log()           # two steps, classes {blank, a} at 1/2 each
    >>> round(F.ctc_loss(lp, gdl.tensor([[1]]), [2], [1], reduction="sum").exp().item(), 4)  # 1/P
    1.3333
    """
    op = "ctc_loss"
    _check_tensor(op, "log_probs", log_probs)
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{op}: expected log_probs of shape (T, N, C) or (T, C), got {log_probs.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    unbatched = log_probs.ndim == 2
    be = log_probs._backend
    xp = be.xp
    lp = xp.reshape(log_probs.data, (log_probs.shape[0], 1, log_probs.shape[1])) if unbatched else log_probs.data
    t_max, n, c = lp.shape
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < c:
        raise ValueError(f"{op}: blank must be a class index in [0, {c}), got {blank!r}")
    il = _lengths(op, "input_lengths", input_lengths, n, be, unbatched)
    tl = _lengths(op, "target_lengths", target_lengths, n, be, unbatched)
    for i, (a, b) in enumerate(zip(il, tl)):
        if not 0 <= a <= t_max:
            raise ValueError(f"{op}: input_lengths[{i}] = {a} is outside [0, {t_max}] (T = {t_max})")
        if b < 0:
            raise ValueError(f"{op}: target_lengths[{i}] = {b} is negative")
    tg = _index_array(op, "targets", targets, be)
    s_max = max(tl) if tl else 0
    if unbatched and tg.ndim != 1:
        raise ValueError(f"{op}: unbatched log_probs (T, C) need 1-D targets (S,), got shape {tuple(tg.shape)}")
    if tg.ndim == 2 or unbatched:
        tg = tg[None, :] if unbatched else tg
        if tg.shape[0] != n:
            raise ValueError(f"{op}: targets of shape {tuple(tg.shape)} do not hold {n} sequences (N = {n})")
        if s_max > tg.shape[1]:
            raise ValueError(f"{op}: a target length {s_max} exceeds the {tg.shape[1]} columns of targets")
        tg = tg[:, :s_max]
    elif tg.ndim == 1:
        if sum(tl) > tg.shape[0]:
            raise ValueError(f"{op}: target_lengths sum to {sum(tl)} but the concatenated targets hold "
                             f"{tg.shape[0]}")
        starts = [sum(tl[:i]) for i in range(n)]
        last = tg.shape[0] - 1  # (the positions past a target's end are read, then never used)
        pos = [min(starts[i] + min(j, max(tl[i] - 1, 0)), last) for i in range(n) for j in range(s_max)]
        if tg.shape[0]:
            tg = xp.reshape(xp.take(tg, xp.asarray(pos, dtype=xp.int64, device=be.device)), (n, s_max))
        else:  # every target is empty
            tg = xp.zeros((n, s_max), dtype=xp.int64, device=be.device)
    else:
        raise ValueError(f"{op}: targets must be 2-D (N, S) padded or 1-D concatenated, got shape "
                         f"{tuple(tg.shape)}")
    col = xp.arange(s_max, dtype=xp.int64, device=be.device)[None, :]
    used = col < xp.asarray(tl, dtype=xp.int64, device=be.device)[:, None]
    if s_max and bool(xp.any(used & ((tg < 0) | (tg >= c)))):
        raise ValueError(f"{op}: target values must be class indices in [0, {c})")
    tg = xp.where(used, tg, xp.full_like(tg, blank))  # the padding: never read as labels
    width = 2 * s_max + 1
    blanks = xp.full((n, s_max), blank, dtype=xp.int64, device=be.device)
    lab = xp.concat([xp.reshape(xp.stack([blanks, tg], axis=2), (n, 2 * s_max)),
                     xp.full((n, 1), blank, dtype=xp.int64, device=be.device)], axis=1)  # (N, 2S+1)
    s_idx = xp.arange(width, dtype=xp.int64, device=be.device)[None, :]
    lab_2 = _shift(xp, lab, 2, blank, be)
    skip = (s_idx >= 2) & (lab != blank) & (lab != lab_2)  # s may come from s - 2
    lpe = xp.take_along_axis(lp, xp.broadcast_to(lab[None, :, :], (t_max, n, width)), axis=2)  # (T, N, 2S+1)
    dt = lp.dtype
    ninf = xp.full((), -math.inf, dtype=dt, device=be.device)
    tl_a = xp.asarray(tl, dtype=xp.int64, device=be.device)[:, None]
    il_a = xp.asarray(il, dtype=xp.int64, device=be.device)[:, None]
    if t_max:
        start = (s_idx == 0) | ((s_idx == 1) & (tl_a > 0))
        alpha = [xp.where(start, lpe[0, ...], ninf)]
    else:
        alpha = [xp.full((n, width), -math.inf, dtype=dt, device=be.device)]
    for t in range(1, t_max):
        prev = alpha[-1]
        a1 = _shift(xp, prev, 1, -math.inf, be)
        a2 = xp.where(skip, _shift(xp, prev, 2, -math.inf, be), ninf)
        alpha.append(xp.where(t < il_a, _lse3(xp, prev, a1, a2) + lpe[t, ...], prev))
    last = alpha[-1]
    end = xp.take_along_axis(last, 2 * tl_a, axis=1)[:, 0]
    end1 = xp.where(tl_a[:, 0] > 0, xp.take_along_axis(last, xp.maximum(2 * tl_a - 1, 0 * tl_a), axis=1)[:, 0],
                    ninf)
    m = xp.maximum(end, end1)
    m0 = xp.where(m == -math.inf, xp.zeros_like(m), m)
    total = xp.exp(end - m0) + xp.exp(end1 - m0)
    logp = xp.where(m == -math.inf, m, m0 + xp.log(xp.where(m == -math.inf, xp.ones_like(total), total)))
    no_input = il_a[:, 0] == 0  # an empty input fits only an empty target
    logp = xp.where(no_input, xp.where(tl_a[:, 0] == 0, xp.zeros_like(logp), ninf), logp)
    nll = 0.0 - logp  # (not -logp: an empty target on an empty input gives 0, not -0)
    infinite = nll == math.inf
    if zero_infinity:
        nll = xp.where(infinite, xp.zeros_like(nll), nll)

    def backward(g):
        g = xp.reshape(g, (n,))
        if not t_max:
            return (xp.zeros_like(log_probs.data),)
        beta = [None] * t_max
        cur = xp.full((n, width), -math.inf, dtype=dt, device=be.device)
        init_mask = (s_idx == 2 * tl_a) | ((s_idx == 2 * tl_a - 1) & (tl_a > 0))
        skip_next = _shift(xp, skip, -2, False, be)
        for t in range(t_max - 1, -1, -1):
            b1 = _shift(xp, cur, -1, -math.inf, be)
            b2 = xp.where(skip_next, _shift(xp, cur, -2, -math.inf, be), ninf)
            rec = _lse3(xp, cur, b1, b2) + lpe[t, ...]
            init = xp.where(init_mask, lpe[t, ...], ninf)
            cur = xp.where(t == il_a - 1, init, xp.where(t < il_a - 1, rec, ninf))
            beta[t] = cur
        ab = xp.stack(alpha) + xp.stack(beta)  # (T, N, 2S+1): log(α·β), -inf past each input's end
        dead = ab == -math.inf
        finite_nll = xp.where(infinite, xp.zeros_like(nll), nll)
        expo = xp.where(dead, xp.zeros_like(ab), ab - lpe + finite_nll[None, :, None])
        occ = xp.where(dead, xp.zeros_like(ab), xp.exp(expo))  # P(at s at t | target)
        onehot = xp.astype(lab[:, :, None] == xp.arange(c, dtype=xp.int64, device=be.device)[None, None, :], dt)
        grad = -(xp.permute_dims(occ, (1, 0, 2)) @ onehot)  # (N, T, C)
        # an impossible target: NaN as PyTorch (no gradient exists), or 0 with zero_infinity
        scale = xp.where(infinite, xp.full_like(g, 0.0 if zero_infinity else math.nan), g)
        grad = xp.permute_dims(grad * scale[:, None, None], (1, 0, 2))
        return (xp.reshape(grad, log_probs.shape),)

    losses = result(nll, be, (log_probs,), backward, "CTCLoss")
    if reduction == "none":
        return ops.reshape(losses, ()) if unbatched else losses
    if reduction == "sum":
        return ops.sum(losses)
    per_len = [1.0 / max(v, 1) for v in tl]
    return ops.mean(losses * Tensor._wrap(xp.asarray(per_len, dtype=dt, device=be.device), be))
