"""Loss functions. Cross-entropy is one fused, numerically stable graph node."""

from __future__ import annotations

import math
import numbers

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.backends.base import portable_sigmoid
from gdl.functional import mean, sum
from gdl.functional._util import check_same_backend
from gdl.tensor import Tensor, result

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _const(value, be):
    """A forward constant (a raw array, or a number) as an operand of graph ops."""
    return Tensor._wrap(value, be) if be.is_array(value) else value


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same_shape(op: str, input: Tensor, target) -> None:
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ")


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean (or summed) squared error ``(input - target)²``."""
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    _check_same_shape("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean (or summed) absolute error ``|input - target|``; its gradient at
    ``input == target`` is 0, as PyTorch's.

    >>> import gdl
    >>> gdl.nn.functional.l1_loss(gdl.tensor([1.0, -2.0]), gdl.tensor([0.0, 0.0])).item()
    1.5
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    _check_reduction(reduction)
    _check_same_shape("l1_loss", input, target)
    return _reduce(ops.abs(input - target), reduction)


def _check_width(op: str, name: str, value, positive: bool) -> None:
    """``beta``/``delta``: a real number, >= 0 (or > 0 when ``positive``)."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and not math.isnan(value)
    if not ok or value < 0 or (positive and value == 0):
        raise ValueError(f"{op}: {name} must be a real number {'> 0' if positive else '>= 0'}, got {value!r}")


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5·d²/beta`` where ``|d| < beta``, else ``|d| - 0.5·beta``, with ``d = input - target``
    (``beta = 0`` is :func:`l1_loss`, as in PyTorch).

    >>> import gdl
    >>> gdl.nn.functional.smooth_l1_loss(gdl.tensor([0.5, 3.0]), gdl.tensor([0.0, 0.0]), "none").tolist()
    [0.125, 2.5]
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    _check_reduction(reduction)
    _check_width("smooth_l1_loss", "beta", beta, positive=False)
    if beta == 0:
        return l1_loss(input, target, reduction)
    _check_same_shape("smooth_l1_loss", input, target)
    d = input - target
    ad = ops.abs(d)
    return _reduce(ops.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5·d²`` where ``|d| < delta``, else ``delta·(|d| - 0.5·delta)``, with ``d = input - target``
    (``delta·smooth_l1_loss`` with ``beta = delta``).

    >>> import gdl
    >>> gdl.nn.functional.huber_loss(gdl.tensor([0.5, 3.0]), gdl.tensor([0.0, 0.0]), "none").tolist()
    [0.125, 2.5]
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    _check_reduction(reduction)
    _check_width("huber_loss", "delta", delta, positive=True)
    _check_same_shape("huber_loss", input, target)
    d = input - target
    ad = ops.abs(d)
    return _reduce(ops.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)), reduction)


def _xlogx(t: Tensor) -> Tensor:
    """``t·log t`` with ``0·log 0 = 0``. Backward ``log t + 1``, and NaN at ``t = 0`` (the
    derivative is -inf there), as PyTorch's ``xlogy(t, t)`` gives."""
    be = t._backend
    xp = be.xp
    data = t.data
    zero = data == 0.0
    log_t = xp.log(xp.where(zero, 1.0, data))
    out = xp.where(zero, 0.0, data * log_t)

    def graph(g):
        return (g * ops.where(zero, math.nan, ops.log(ops.where(zero, 1.0, t)) + 1.0),)

    return result(out, be, (t,), lambda g: (g * xp.where(zero, math.nan, log_t + 1.0),), "XLogX", graph)


def kl_div(input: Tensor, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of ``target`` from log-probabilities ``input``:
    ``target·(log target - input)``, 0 where ``target == 0`` (``0·log 0 = 0``); with
    ``log_target=True``, ``target`` holds log-probabilities: ``exp(target)·(target - input)``.

    ``reduction="batchmean"`` divides the sum by ``input.shape[0]`` (the KL divergence per
    sample); ``"mean"`` divides by the number of elements, as PyTorch's default does.

    >>> import gdl
    >>> p = gdl.tensor([0.5, 0.5])
    >>> round(gdl.nn.functional.kl_div(p.log(), gdl.tensor([1.0, 0.0]), "sum").item(), 4)   # log 2
    0.6931
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be one of {_REDUCTIONS + ('batchmean',)}, got {reduction!r}")
    be = input._backend
    if not isinstance(target, Tensor):
        from gdl.tensor import tensor

        target = tensor(target, dtype=input.dtype, backend=be)
    check_same_backend("kl_div", input, target)
    _check_same_shape("kl_div", input, target)
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        if bool(be.xp.any(target.data < 0.0)):
            raise ValueError(
                "kl_div: target probabilities must be >= 0 (pass log_target=True for log-probabilities)"
            )
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        return sum(loss) / input.shape[0] if input.ndim else sum(loss)
    return _reduce(loss, reduction)


def _check_class_weight(op: str, weight, classes: int) -> None:
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},), got {tuple(weight.shape)}")


def _check_elementwise_weight(op: str, name: str, weight, shape) -> None:
    """``weight`` must broadcast to the loss's ``shape`` without enlarging it (PyTorch refuses that too)."""
    wshape = tuple(getattr(weight, "shape", ()))
    ok = len(wshape) <= len(shape) and all(w in (1, s) for w, s in zip(wshape[::-1], shape[::-1]))
    if not ok:
        raise ValueError(f"{op}: {name} of shape {wshape} does not broadcast to the input's shape {tuple(shape)}")


def _move_class_axis_last(xp, data):
    """(N, C, d1, ...) -> (N·d1·..., C); (N, C) and (C,) pass through."""
    if data.ndim <= 2:
        return data if data.ndim == 2 else data[None, :]
    perm = (0,) + tuple(range(2, data.ndim)) + (1,)
    moved = xp.permute_dims(data, perm)
    return xp.reshape(moved, (-1, data.shape[1]))


def _restore_class_axis(xp, flat, shape):
    if len(shape) <= 2:
        return xp.reshape(flat, shape)
    moved_shape = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    back = xp.reshape(flat, moved_shape)
    n = len(shape)
    inv = (0, n - 1) + tuple(range(1, n - 1))
    return xp.permute_dims(back, inv)


def cross_entropy(
    input: Tensor,
    target,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy between logits ``input`` (N, C, ...) and ``target``.

    ``target`` holds class indices (N, ...) or class probabilities (same shape as
    ``input``). Computed through log-softmax, so logits of any magnitude are safe.
    Backward: ``(softmax - target_distribution) · g`` (the book's ch9 output delta).
    With ``reduction="mean"`` and class indices, the mean is over non-ignored
    targets (weighted by ``weight`` if given), as in PyTorch.
    """
    if _AMP[0]:
        input, target, weight = _amp_cast("fp32", input, target, weight)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    be = input._backend
    xp = be.xp
    if not isinstance(target, Tensor):
        from gdl.tensor import tensor

        target = tensor(target, backend=be)
    check_same_backend("cross_entropy", input, target)
    shape = tuple(input.data.shape)
    _check_class_weight("cross_entropy", weight, shape[1] if len(shape) > 1 else shape[0])
    if (
        input.ndim == 2 and weight is None and not label_smoothing
        and not target.dtype.is_floating_point and target.shape == (shape[0],)
    ):
        if reduction == "mean" and "softmax_cross_entropy_mean" in be.fused:
            return _fused_mean_cross_entropy(be.fused["softmax_cross_entropy_mean"], input, target, ignore_index)
        fused = be.fused.get("softmax_cross_entropy")
        if fused is not None and reduction != "none":
            return _fused_cross_entropy(fused, input, target, ignore_index, reduction)
        return _index_cross_entropy(input, target, ignore_index, reduction)
    logits = _move_class_axis_last(xp, input.data)
    classes = logits.shape[1]
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    expd = xp.exp(shifted)
    total = xp.sum(expd, axis=1, keepdims=True)
    logp = shifted - xp.log(total)
    probs = expd / total
    w = weight.data if weight is not None else None
    prob_target = target.dtype.is_floating_point
    if prob_target:
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets need shape {input.shape}, got {target.shape}")
        dist = _move_class_axis_last(xp, target.data)
        valid = None
    else:
        expected = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        if target.shape != expected:
            raise ValueError(
                f"cross_entropy: input of shape {input.shape} needs class-index targets of shape "
                f"{expected}, got {target.shape}"
            )
        t = xp.reshape(target.data, (-1,))
        valid = t != ignore_index
        safe = xp.where(valid, t, xp.zeros_like(t))
        if xp.any((safe < 0) | (safe >= classes)):
            raise ValueError(f"cross_entropy: target class indices must be in [0, {classes}), or ignore_index")
        dist = xp.astype(xp.arange(classes, device=be.device)[None, :] == safe[:, None], logits.dtype)
        dist = dist * xp.astype(valid, logits.dtype)[:, None]
    if label_smoothing:
        dist = dist * (1.0 - label_smoothing) + label_smoothing / classes
        if valid is not None:
            dist = dist * xp.astype(valid, logits.dtype)[:, None]
    per_class = dist if w is None else dist * w[None, :]
    if not prob_target:  # a class-index loss reads only the classes it weighs: no 0·(-inf) from masked logits
        logp = xp.where(per_class != 0, logp, 0.0)
    losses = -xp.sum(per_class * logp, axis=1)
    if reduction == "mean":
        if prob_target:
            denom = float(losses.shape[0])
        elif w is None:
            denom = xp.sum(xp.astype(valid, logits.dtype))
        else:
            denom = xp.sum(xp.take(w, safe) * xp.astype(valid, logits.dtype))
        out = xp.sum(losses) / denom
    elif reduction == "sum":
        out = xp.sum(losses)
    else:
        out = xp.reshape(losses, ((shape[0],) + shape[2:]) if len(shape) > 1 else ())
    row_weight = xp.sum(per_class, axis=1, keepdims=True)

    def backward(g):
        if reduction == "none":
            gl = xp.reshape(g, (-1, 1))
        elif reduction == "mean":
            gl = g / denom
        else:
            gl = g
        grad = (probs * row_weight - per_class) * gl
        return (_restore_class_axis(xp, grad, shape),)

    def graph(g):  # the same formula, the softmax recomputed from ``input`` in its own layout
        pc = Tensor._wrap(_restore_class_axis(xp, per_class, shape), be)
        rw = Tensor._wrap(_restore_class_axis(xp, xp.broadcast_to(row_weight, per_class.shape), shape), be)
        if reduction == "none":
            gl = ops.unsqueeze(g, 1) if len(shape) > 1 else g
        elif reduction == "mean":
            gl = g / _const(denom, be)
        else:
            gl = g
        return ((ops.softmax(input, dim=1 if len(shape) > 1 else 0) * rw - pc) * gl,)

    return result(out, be, (input,), backward, "CrossEntropy", graph)


def _index_ce_graph(input, target, ignore_index, reduction):
    """The backward of class-index cross-entropy on (N, C) logits, on Tensors
    (``create_graph=True``; every path, the fused kernels' too):
    ``(softmax(input) - onehot(target))·g``, 0 on ignored rows, ``/count`` for the mean."""

    def graph(g):
        be = input._backend
        xp = be.xp
        t = target.data
        valid = t != ignore_index
        safe = xp.where(valid, t, xp.zeros_like(t))
        hit = xp.arange(input.shape[1], device=be.device)[None, :] == safe[:, None]
        probs = ops.softmax(input, dim=1)
        grad = ops.where(hit & valid[:, None], probs - 1.0, ops.where(valid[:, None], probs, 0.0))
        if reduction == "none":
            return (grad * ops.unsqueeze(g, 1),)
        if reduction == "mean":
            count = int(xp.sum(xp.astype(valid, xp.int64)))
            g = g / count if count else g * math.nan  # a mean over no rows is NaN, as in PyTorch
        return (grad * g,)

    return graph


def _index_cross_entropy(input, target, ignore_index, reduction):
    """The common case, (N, C) logits and class indices, in as few array passes as
    the hand-written NumPy step: loss = log Σ exp(z) - z[target], grad = softmax - onehot."""
    be = input._backend
    xp = be.xp
    logits, t = input.data, target.data
    rows, classes = logits.shape
    z = logits - xp.max(logits, axis=1, keepdims=True)
    e = xp.exp(z)
    total = xp.sum(e, axis=1, keepdims=True)
    valid = t != ignore_index
    all_valid = bool(xp.all(valid))
    safe = t if all_valid else xp.where(valid, t, xp.zeros_like(t))
    if rows and (int(xp.min(safe)) < 0 or int(xp.max(safe)) >= classes):
        raise ValueError(f"cross_entropy: target class indices must be in [0, {classes}), or ignore_index")
    hit = xp.arange(classes, device=be.device)[None, :] == safe[:, None]
    losses = xp.log(total[:, 0]) - xp.sum(xp.where(hit, z, 0.0), axis=1)
    if not all_valid:
        losses = xp.where(valid, losses, xp.zeros_like(losses))
    if reduction == "mean":
        count = rows if all_valid else int(xp.sum(xp.astype(valid, xp.int64)))
        out = xp.sum(losses) / count
    elif reduction == "sum":
        out = xp.sum(losses)
    elif reduction == "none":
        out = losses
    else:
        _check_reduction(reduction)

    def backward(g):
        probs = e / total
        grad = xp.where(hit, probs - 1.0, probs)
        if not all_valid:
            grad = xp.where(valid[:, None], grad, 0.0)
        if reduction == "none":
            return (grad * g[:, None],)
        scale = g / count if reduction == "mean" else g
        return (grad * scale,)

    return result(out, be, (input,), backward, "CrossEntropy", _index_ce_graph(input, target, ignore_index, reduction))


def _fused_cross_entropy(fused, input, target, ignore_index, reduction):
    """Class-index cross-entropy on (N, C) logits with one GPU kernel (see cupy_kernels)."""
    be = input._backend
    xp = be.xp
    loss_rows, valid, grad = fused(input.data, target.data, ignore_index)
    total = xp.sum(loss_rows)
    if reduction == "mean":
        denom = loss_rows.shape[0] if valid is None else xp.sum(valid)  # None: every row counts
        out = total / denom

        def backward(g):
            return (grad * (g / denom),)

    else:
        out = total

        def backward(g):
            return (grad * g,)

    return result(out, be, (input,), backward, "CrossEntropy", _index_ce_graph(input, target, ignore_index, reduction))


def _fused_mean_cross_entropy(fused, input, target, ignore_index):
    """The mean over rows in one backend kernel: ``fused(...) -> (loss, grad of the mean)``."""
    loss, grad = fused(input.data, target.data, ignore_index)
    return result(loss, input._backend, (input,), lambda g: (grad * g,), "CrossEntropy",
                  _index_ce_graph(input, target, ignore_index, "mean"))


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class-index ``target``.

    Shapes as :func:`cross_entropy`'s: ``(N, C)`` with target ``(N,)``, ``(C,)`` with a
    0-d target, or ``(N, C, d1, ...)`` with target ``(N, d1, ...)``.
    """
    if _AMP[0]:
        input, target, weight = _amp_cast("fp32", input, target, weight)
    _check_reduction(reduction)
    be = input._backend
    xp = be.xp
    if not isinstance(target, Tensor):
        from gdl.tensor import tensor

        target = tensor(target, backend=be)
    check_same_backend("nll_loss", input, target)
    shape = tuple(input.shape)
    expected = ((shape[0],) + shape[2:]) if len(shape) > 1 else ()
    if not shape or target.shape != expected:
        raise ValueError(
            f"nll_loss: expected input (C,), (N, C) or (N, C, d1, ...) and target (), (N,) or (N, d1, ...) "
            f"to match, got {shape} and {target.shape}"
        )
    if target.dtype.is_floating_point:
        raise TypeError(f"nll_loss: target must hold integer class indices, got {target.dtype}")
    classes = shape[1] if len(shape) > 1 else shape[0]
    _check_class_weight("nll_loss", weight, classes)
    t = xp.reshape(target.data, (-1,))
    valid = t != ignore_index
    safe = xp.where(valid, t, xp.zeros_like(t))
    if bool(xp.any((safe < 0) | (safe >= classes))):
        raise ValueError(f"nll_loss: target class indices must be in [0, {classes}), or ignore_index")
    x = _move_class_axis_last(xp, input.data)  # (rows, C)
    pick = xp.astype(xp.arange(classes, device=be.device)[None, :] == safe[:, None], x.dtype)
    pick = pick * xp.astype(valid, x.dtype)[:, None]
    if weight is not None:
        pick = pick * weight.data[None, :]
    # only the target's entry counts: a -inf (or NaN) log-probability elsewhere must not give 0·(-inf)
    losses = -xp.sum(xp.where(pick != 0, x, 0.0) * pick, axis=1)

    def backward(g):
        return (_restore_class_axis(xp, -pick * xp.reshape(g, (-1, 1)), shape),)

    def graph(g):
        return (Tensor._wrap(_restore_class_axis(xp, -pick, shape), be) * (ops.unsqueeze(g, 1) if len(shape) > 1 else g),)

    losses = result(xp.reshape(losses, expected), be, (input,), backward, "NLLLoss", graph)
    if reduction == "mean":
        return sum(losses) / Tensor._wrap(xp.sum(pick), be)
    return _reduce(losses, reduction)


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """``-(t·log p + (1-t)·log(1-p))`` for probabilities ``input``; logs clamped at -100.

    One graph node, as in PyTorch: backward is ``g·(p - t) / max(p·(1-p), 1e-12)``, so
    probabilities of exactly 0 or 1 (a saturated float32 sigmoid) give finite gradients.
    """
    if _AMP[0]:
        input, target, weight = _amp_cast("fp32", input, target, weight)
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: input shape {input.shape} and target shape {target.shape} differ")
    be = input._backend
    xp = be.xp
    if isinstance(target, Tensor):
        check_same_backend("binary_cross_entropy", input, target)
    p = input.data
    if not bool(xp.all((p >= 0.0) & (p <= 1.0))):  # NaN fails too
        raise ValueError(
            "binary_cross_entropy: input probabilities must be between 0 and 1 (apply a sigmoid first, or "
            "use binary_cross_entropy_with_logits on the logits)"
        )
    t = target.data if isinstance(target, Tensor) else target
    one = xp.ones_like(p)

    def clamped_log(v):
        pos = v > 0
        return xp.clip(xp.where(pos, xp.log(xp.where(pos, v, one)), -100.0 * one), -100.0, None)

    losses = -(t * clamped_log(p) + (1.0 - t) * clamped_log(1.0 - p))
    dgrad = (p - t) / xp.clip(p * (1.0 - p), 1e-12, None)
    def graph(g):
        return (g * ((input - _const(t, be)) / ops.clip(input * (1.0 - input), 1e-12, None)),)

    loss = result(losses, be, (input,), lambda g: (g * dgrad,), "BinaryCrossEntropy", graph)
    if weight is not None:
        _check_elementwise_weight("binary_cross_entropy", "weight", weight, input.shape)
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, pos_weight=None, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy in one stable formula:
    ``max(x, 0) - x·t + log(1 + exp(-|x|))``.
    """
    if _AMP[0]:
        input, target, weight, pos_weight = _amp_cast("fp32", input, target, weight, pos_weight)
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: input shape {input.shape} and target shape {target.shape} differ"
        )
    be = input._backend
    xp = be.xp
    x = input.data
    t = target.data if isinstance(target, Tensor) else target
    softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, xp.zeros_like(x))  # log(1+exp(-x))
    sig = be.sigmoid(x)
    if pos_weight is not None:
        _check_elementwise_weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input.shape)
        pw = pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight
        lw = 1.0 + (pw - 1.0) * t
        losses = (1.0 - t) * x + lw * softplus_neg
        dgrad = (1.0 - t) - lw * (1.0 - sig)

        def graph(g):
            return (g * (_const(1.0 - t, be) - _const(lw, be) * (1.0 - ops.sigmoid(input))),)

    else:
        losses = (1.0 - t) * x + softplus_neg
        dgrad = sig - t

        def graph(g):
            return (g * (ops.sigmoid(input) - _const(t, be)),)

    loss = result(losses, be, (input,), lambda g: (g * dgrad,), "BCEWithLogits", graph)
    if weight is not None:
        _check_elementwise_weight("binary_cross_entropy_with_logits", "weight", weight, input.shape)
        loss = loss * weight
    return _reduce(loss, reduction)


# -- argument checks shared with margin_loss.py ------------------------------------------------


def _check_reduction_of(op: str, reduction) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_input(op: str, name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a gdl Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {x.dtype.name}")
    return x


def _as_target(op: str, target, like: Tensor, floating: bool = True) -> Tensor:
    """``target`` as a tensor on ``like``'s backend: a list or number becomes one (of ``like``'s
    dtype when ``floating``, else of its own: Python ints give int64)."""
    if isinstance(target, Tensor):
        check_same_backend(op, like, target)
        return target
    from gdl.tensor import tensor

    return tensor(target, dtype=like.dtype if floating else None, backend=like._backend)


def _check_margin(op: str, margin, positive: bool = False) -> None:
    ok = not isinstance(margin, bool) and isinstance(margin, numbers.Real) and not math.isnan(margin)
    if not ok or (positive and margin <= 0):
        raise ValueError(f"{op}: margin must be a real number{' > 0' if positive else ''}, got {margin!r}")


def _check_plus_minus_one(op: str, target: Tensor) -> None:
    """PyTorch gives targets other than 1 and -1 a silent, meaningless loss; gdl refuses them."""
    xp = target._backend.xp
    t = target.data
    if t.dtype == xp.bool:
        raise TypeError(f"{op}: target must hold 1 or -1, got a bool tensor")
    bad = ~((t == 1) | (t == -1))
    if bool(xp.any(bad)):
        first = target.numpy().reshape(-1)[int(xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8)))]
        raise ValueError(f"{op}: target values must be 1 or -1, got {first.item()!r}")


def _broadcast_shape(op: str, *shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _clamp_min0(t: Tensor) -> Tensor:
    """``max(t, 0)``; the gradient passes where ``t >= 0`` (PyTorch's ``clamp_min``: at the kink too)."""
    be = t._backend
    xp = be.xp
    d = t.data
    keep = d >= 0.0
    out = xp.where(d < 0.0, 0.0, d)  # NaN stays NaN
    return result(out, be, (t,), lambda g: (xp.where(keep, g, 0.0),), "ClampMin",
                  lambda g: (ops.where(keep, g, 0.0),))


def _softplus_sigmoid(xp, z):
    """``log(1 + exp(z))`` (no overflow) and ``sigmoid(z)``."""
    sp = xp.log1p(xp.exp(-xp.abs(z))) + xp.where(z > 0.0, z, 0.0)
    return sp, portable_sigmoid(xp, z)


# -- likelihood losses -------------------------------------------------------------------------


def poisson_nll_loss(
    input: Tensor, target, log_input: bool = True, full: bool = False, eps: float = 1e-8, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of counts ``target`` under a Poisson distribution of rate ``input``
    (its log with ``log_input=True``): ``exp(input) - target·input``, or
    ``input - target·log(input + eps)``.

    ``full=True`` adds Stirling's approximation of ``log(target!)``,
    ``target·log(target) - target + 0.5·log(2π·target)``, where ``target > 1`` (0 elsewhere).
    Gradients flow to ``input`` and ``target``, as in PyTorch.

    >>> import gdl
    >>> gdl.nn.functional.poisson_nll_loss(gdl.tensor([0.0, 1.0]), gdl.tensor([1.0, 2.0]), reduction="none")
    tensor([1.      , 0.718282], backend='numpy')
    """
    if _AMP[0]:
        input, target = _amp_cast("fp32", input, target)
    op = "poisson_nll_loss"
    _check_reduction_of(op, reduction)
    _check_width(op, "eps", eps, positive=False)
    x = _check_input(op, "input", input)
    target = _as_target(op, target, x)
    _check_same_shape(op, x, target)
    if log_input:
        loss = ops.exp(x) - target * x
    else:
        loss = x - target * ops.log(x + eps)
    if full:
        big = target.data > 1.0
        t = ops.where(big, target, 2.0)  # the term is 0 at target <= 1: no log(0) in it, nor in its gradient
        stirling = t * ops.log(t) - t + 0.5 * ops.log(2.0 * math.pi * t)
        loss = loss + ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def _clamp_min_straight_through(v: Tensor, eps: float) -> Tensor:
    """``max(v, eps)`` with the gradient passed unchanged (PyTorch clamps ``var`` in place under
    ``no_grad``, so its gradient is that of the clamped value, everywhere)."""
    xp = v._backend.xp
    return result(xp.maximum(v.data, eps), v._backend, (v,), lambda g: (g,), "ClampVar", lambda g: (g,))


def gaussian_nll_loss(
    input: Tensor, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of ``target`` under Gaussians of mean ``input`` and variance ``var``:
    ``0.5·(log(max(var, eps)) + (input - target)² / max(var, eps))`` (+ ``0.5·log 2π`` with ``full``).

    ``var`` has ``input``'s shape (one variance per prediction), or ``input``'s shape without the
    last axis, or with one axis of size 1 (one variance shared along it), or is a number.
    ``"mean"`` averages over every element (not per sample), as PyTorch. The clamp at ``eps``
    does not stop ``var``'s gradient (as PyTorch's, done under ``no_grad``).

    >>> import gdl
    >>> gdl.nn.functional.gaussian_nll_loss(gdl.tensor([0.0, 1.0]), gdl.tensor([1.0, 1.0]), gdl.tensor([1.0, 1.0]), reduction="none")
    tensor([0.5, 0. ], backend='numpy')
    """
    op = "gaussian_nll_loss"
    _check_reduction_of(op, reduction)
    _check_width(op, "eps", eps, positive=False)
    x = _check_input(op, "input", input)
    target = _as_target(op, target, x)
    _check_same_shape(op, x, target)
    be = x._backend
    xp = be.xp
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if not var >= 0:
            raise ValueError(f"{op}: var must be >= 0, got {var!r}")
        from gdl.tensor import full as _full

        var = _full(x.shape, float(var), dtype=x.dtype, backend=be)
    var = _as_target(op, var, x)
    shape, vshape = x.shape, var.shape
    if vshape != shape:
        if vshape == shape[:-1]:
            var = ops.unsqueeze(var, -1)
        elif not (len(vshape) == len(shape) and [v for s, v in zip(shape, vshape) if s != v] == [1]):
            raise ValueError(
                f"{op}: var of shape {vshape} does not fit input of shape {shape}: it must be the same, "
                "the same without the last axis, or the same but for one axis of size 1"
            )
    if bool(xp.any(var.data < 0.0)):
        raise ValueError(f"{op}: var has negative entries")
    v = _clamp_min_straight_through(var, eps)
    d = x - target
    loss = 0.5 * (ops.log(v) + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2.0 * math.pi)
    return _reduce(loss, reduction)


__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "poisson_nll_loss",
    "gaussian_nll_loss",
]
