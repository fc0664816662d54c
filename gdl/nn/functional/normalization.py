"""Group, instance and RMS normalisation, each one graph node with a fused backward
(layer and batch norm, in ``layers.py``, use the same node), and local response
normalisation (AlexNet's, across neighbouring channels; its own graph node).

All of them normalise ``x`` over some group of elements and then apply a per-channel
(or per-feature) affine map. The shared node :func:`_norm_node` views the input as
an array whose ``axes`` are the elements of one group and computes

- forward:  ``x̂ = (x − μ)·r`` with ``r = 1/√(σ² + eps)`` (RMS: ``x̂ = x·r``,
  ``r = 1/√(mean(x²) + eps)``), then ``y = x̂·w + b``;
- backward: with ``ĝ = g·w``,
  ``dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`` (RMS: no ``mean(ĝ)`` term),
  ``dw = Σ g·x̂`` and ``db = Σ g`` over everything but the weight's axes.

>>> import gdl
>>> import gdl.nn.functional as F
>>> x = gdl.tensor([[[1.0, 3.0], [2.0, 6.0]]])
>>> F.group_norm(x, 1)          # mean 3, variance 3.5 over the whole sample
tensor([[[-1.0690434,  0.       ],
         [-0.5345217,  1.6035651]]], backend='numpy')
>>> F.rms_norm(gdl.tensor([[3.0, 4.0]]), (2,))   # x / √((9 + 16)/2)
tensor([[0.84852815, 1.1313709 ]], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_same_backend
from gdl.nn.functional._arguments import _check_tensor, _real
from gdl.tensor import Tensor, no_grad, result


def _check_float(op: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")


def _check_param(op: str, name: str, x: Tensor, p, shape) -> None:
    if p is None:
        return
    check_same_backend(op, x, p)
    if tuple(p.shape) != tuple(shape):
        raise ValueError(f"{op}: expected {name} of shape {tuple(shape)}, got {tuple(p.shape)}")


def _sumprod(xp, a, b, axes):
    """``Σ a·b`` over ``axes`` (kept, size 1), by ``vecdot`` when the last axis is one of
    them: no product array, several times faster than ``sum(a * b)``."""
    last = a.ndim - 1
    if last not in axes or b.shape[-1] != a.shape[-1]:
        return xp.sum(a * b, axis=axes, keepdims=True)
    s = xp.vecdot(a, b, axis=-1)
    rest = tuple(i for i in axes if i != last)
    if rest:
        s = xp.sum(s, axis=rest, keepdims=True)
    return xp.expand_dims(s, axis=-1)


def _as(xp, a, dtype):
    return a if a.dtype == dtype else xp.astype(a, dtype)


def _into(xp, a, op, b):
    """``a op b``, written into ``a`` (an array of the caller's own) where its dtype holds the result."""
    if xp.result_type(a, b) != a.dtype:
        return a * b if op == "*" else a + b if op == "+" else a - b
    if op == "*":
        a *= b
    elif op == "+":
        a += b
    else:
        a -= b
    return a


def _norm_node(op, x, view, axes, wview, weight, bias, eps, center=True, stats=None, on_stats=None):
    """The shared normalisation node (see the module docstring).

    ``view``: the shape ``x`` is seen as; ``axes``: the axes of ``view`` that one
    group spans; ``wview``: the shape ``weight``/``bias`` broadcast as against
    ``view``. ``stats=(mean, rstd)`` (arrays broadcastable to ``view``) normalises by
    fixed statistics instead of the input's own (a constant, so ``dx = ĝ·r``).
    ``on_stats(mean, var)`` receives the input's own statistics (``var`` biased, both
    with the group axes kept), e.g. to update running statistics.

    Where the weight is constant over a group (batch and instance norm) the output is
    ``(x − μ)·(r·w) + b`` and the backward works from ``x``: no ``x̂`` is kept.

    float16 is computed in float32, as PyTorch does (the sum of squares of 1,000 values
    near 300 overflows float16); the output has ``x``'s dtype, each gradient its input's.
    """
    be = x._backend
    xp = be.xp
    xd = xp.reshape(x.data, view)
    if xd.dtype == getattr(xp, "float16", None):  # (the Array API standard has no float16)
        xd = xp.astype(xd, xp.float32)
    n = math.prod(view[a] for a in axes)
    fixed = stats is not None
    if fixed:
        mu, rstd = stats
        xc = xd - mu
    else:
        mu = xp.mean(xd, axis=axes, keepdims=True) if center else None
        xc = xd if mu is None else xd - mu
        var = _sumprod(xp, xc, xc, axes) / n
        if n == 0:  # empty groups: no statistics (and zero weight/bias gradients, not 0·NaN)
            rstd = xp.zeros_like(var)
        else:
            if on_stats is not None:
                on_stats(mu, var)
            rstd = 1.0 / xp.sqrt(var + eps)
    own = xc is not xd  # ``xc`` is this node's own array: ops may write into it
    w = None if weight is None else _as(xp, xp.reshape(weight.data, wview), xd.dtype)
    grouped = all(wview[a] == 1 for a in axes)  # weight and bias constant over each group
    per_group = w is None or grouped
    xhat = None
    if per_group:
        k = rstd if w is None else rstd * w
        out = _into(xp, xc, "*", k) if own else xc * k
    else:
        xhat = _into(xp, xc, "*", rstd) if own else xc * rstd
        out = xhat * w
    if bias is not None:
        out = _into(xp, out, "+", _as(xp, xp.reshape(bias.data, wview), xd.dtype))
    out = _as(xp, xp.reshape(out, tuple(x.shape)), x.data.dtype)
    # the axes a weight gradient sums over: those the weight is broadcast along
    waxes = tuple(i for i, s in enumerate(wview) if s == 1)
    rest = tuple(i for i in waxes if i not in axes)  # grouped: those beyond a group's
    need_w = weight is not None and weight.requires_grad
    need_b = bias is not None and bias.requires_grad

    def backward(g):
        gv = _as(xp, xp.reshape(g, view), xd.dtype)
        gx = gw = gb = None
        sg = None  # Σ g over each group
        if per_group:
            # x̂ = (x − μ)·r, rebuilt from x; with S = Σ g·(x − μ) over a group,
            # dx = k·g − (x − μ)·(k·r²·S/n) − k·Σg/n, dw = Σ r·S, db = Σ g
            xm = s2 = None
            if need_w or (x.requires_grad and not fixed):
                xm = xd if mu is None else xd - mu
                s2 = _sumprod(xp, gv, xm, axes)
            if (x.requires_grad and not fixed and center) or (need_b and grouped):
                sg = xp.sum(gv, axis=axes, keepdims=True)
            if need_w:
                gw = s2 * rstd
                gw = xp.reshape(xp.sum(gw, axis=rest) if rest else gw, tuple(weight.shape))
            if x.requires_grad:
                gx = gv * k
                if not fixed:
                    c = k * (rstd * rstd) * (s2 / n)
                    t = _into(xp, xm, "*", c) if xm is not xd else xm * c
                    if center:
                        t = _into(xp, t, "+", k * (sg / n))
                    gx = _into(xp, gx, "-", t)
        else:
            # dx = r·(ĝ − Σĝ/n − x̂·Σ(ĝ·x̂)/n) with ĝ = g·w, dw = Σ g·x̂, db = Σ g
            p = gv * xhat if need_w else None
            if need_w:
                gw = xp.reshape(xp.sum(p, axis=waxes), tuple(weight.shape))
            if x.requires_grad:
                gh = gv * w
                if not fixed:
                    s2 = _sumprod(xp, p, w, axes) if p is not None else _sumprod(xp, gh, xhat, axes)
                    t = xhat * (rstd * (s2 / n))
                    if center:
                        t = _into(xp, t, "+", rstd * (xp.sum(gh, axis=axes, keepdims=True) / n))
                    gh = _into(xp, gh, "*", rstd)
                    gx = _into(xp, gh, "-", t)
                else:
                    gx = _into(xp, gh, "*", rstd)
        if need_b:
            if grouped and sg is not None:
                gb = xp.sum(sg, axis=rest) if rest else sg
            else:
                gb = xp.sum(gv, axis=waxes)
            gb = xp.reshape(gb, tuple(bias.shape))
        if gx is not None:
            gx = _as(xp, xp.reshape(gx, tuple(x.shape)), x.data.dtype)
        grads = (gx,)
        if weight is not None:
            grads += (gw if gw is None else _as(xp, gw, weight.data.dtype),)
        if bias is not None:
            grads += (gb if gb is None else _as(xp, gb, bias.data.dtype),)
        return grads

    inputs = (x,) + tuple(t for t in (weight, bias) if t is not None)
    graph = _norm_graph(x, view, axes, wview, weight, bias, eps, center, stats) if n else None
    return result(out, be, inputs, backward, op, graph)


def _norm_graph(x, view, axes, wview, weight, bias, eps, center=True, stats=None):
    """:func:`_norm_node`'s backward on Tensors (``create_graph=True``), the statistics
    recomputed from ``x`` (``stats``: fixed ones, constants): with ``x̂ = (x − μ)·r`` and
    ``ĝ = g·w``, ``dx = r·(ĝ − mean ĝ − x̂·mean(ĝ·x̂))`` over each group (RMS: no
    ``mean ĝ``; fixed statistics: ``dx = r·ĝ``), ``dw = Σ g·x̂``, ``db = Σ g`` over the
    axes the weight is broadcast along."""
    shape = tuple(x.shape)
    waxes = tuple(i for i, s in enumerate(wview) if s == 1)

    def graph(g):
        be = x._backend
        xv = ops.reshape(x, view)
        low = xv.dtype == "float16"
        if low:  # computed in float32, as the forward
            xv = xv.to(dtype="float32")
        gv = ops.reshape(g, view)
        if gv.dtype != xv.dtype:
            gv = gv.to(dtype=xv.dtype)
        if stats is not None:
            xc = xv - Tensor._wrap(stats[0], be)
            r = Tensor._wrap(stats[1], be)
        else:
            xc = xv - ops.mean(xv, axis=axes, keepdims=True) if center else xv
            r = 1.0 / ops.sqrt(ops.mean(xc * xc, axis=axes, keepdims=True) + eps)
        xhat = xc * r
        grads = [None]
        if x.requires_grad:
            gh = gv if weight is None else gv * ops.reshape(weight, wview).to(dtype=xv.dtype)
            if stats is not None:
                gx = gh * r
            else:
                t = xhat * ops.mean(gh * xhat, axis=axes, keepdims=True)
                if center:
                    t = t + ops.mean(gh, axis=axes, keepdims=True)
                gx = r * (gh - t)
            grads[0] = ops.reshape(gx, shape)
        for p, d in ((weight, gv * xhat if weight is not None and weight.requires_grad else None), (bias, gv)):
            if p is not None:
                grads.append(ops.reshape(ops.sum(d, axis=waxes), tuple(p.shape)) if p.requires_grad else None)
        owners = (x,) + tuple(t for t in (weight, bias) if t is not None)
        return tuple(d if d is None or d.dtype == t.dtype else d.to(dtype=t.dtype) for d, t in zip(grads, owners))

    return graph


# -- group norm ------------------------------------------------------------------------------


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise ``(N, C, *)`` input over groups of ``C/num_groups`` channels (and all
    positions), per sample, then ``·weight + bias`` per channel (both ``(C,)``).

    As PyTorch's: the statistics never depend on the batch, so train and eval agree.
    """
    if _AMP[0]:
        x, weight, bias = _amp_cast("fp32", x, weight, bias)
    op = "group_norm"
    _check_float(op, x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with at least 2 dimensions, got {x.shape}")
    n, c = x.shape[0], x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
        raise ValueError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    if c % num_groups:
        raise ValueError(
            f"{op}: expected the number of channels in the input to be divisible by num_groups, "
            f"got input of shape {x.shape} (C = {c}) and num_groups={num_groups}"
        )
    _check_param(op, "weight", x, weight, (c,))
    _check_param(op, "bias", x, bias, (c,))
    spatial = math.prod(x.shape[2:])
    view = (n, num_groups, c // num_groups, spatial)
    return _norm_node("GroupNorm", x, view, (2, 3), (1, num_groups, c // num_groups, 1), weight, bias, eps)


# -- RMS norm ------------------------------------------------------------------------------------


def rms_norm(x: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """``x / √(mean(x²) + eps) · weight`` over the trailing ``normalized_shape`` dimensions.

    ``eps=None`` (PyTorch's default) is the machine epsilon of ``x``'s dtype.
    """
    op = "rms_norm"
    _check_float(op, x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"{op}: input of shape {x.shape} does not end with normalized_shape {shape}")
    _check_param(op, "weight", x, weight, shape)
    if eps is None:
        eps = float(x._backend.xp.finfo(x.data.dtype).eps)
    size = math.prod(shape)
    view = (x.numel() // size if size else math.prod(x.shape[: x.ndim - k]), size)
    return _norm_node("RMSNorm", x, view, (1,), (1, size), weight, None, eps, center=False)


# -- instance norm ---------------------------------------------------------------------------------


def instance_norm(x: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of ``(N, C, *)`` input over its positions,
    then ``·weight + bias`` per channel.

    With ``use_input_stats`` (training, or no running statistics) the statistics are
    the input's own, and the running statistics, if given, update in place as
    PyTorch's: ``running = (1 − momentum)·running + momentum·(batch mean of the
    per-instance statistic)``, the variance unbiased. Otherwise ``running_mean`` and
    ``running_var`` normalise every sample (evaluation mode).
    """
    op = "instance_norm"
    _check_float(op, x)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with at least 3 dimensions, got {x.shape}")
    n, c = x.shape[0], x.shape[1]
    spatial = math.prod(x.shape[2:])
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param(op, name, x, t, (c,))
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither")
    view, wview = (n, c, spatial), (1, c, 1)
    xp = x._backend.xp
    if not use_input_stats:
        if running_mean is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
        mu = xp.reshape(running_mean.data, wview)
        rstd = 1.0 / xp.sqrt(xp.reshape(running_var.data, wview) + eps)
        return _norm_node("InstanceNorm", x, view, (2,), wview, weight, bias, eps, stats=(mu, rstd))
    if spatial <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element per channel when using input statistics, "
                         f"got input of shape {x.shape}")
    if running_mean is not None:
        with no_grad():
            xd = xp.reshape(x.data, view)
            mean = xp.mean(xd, axis=2)
            unbiased = xp.var(xd, axis=2, correction=1)
            for buf, stat in ((running_mean, mean), (running_var, unbiased)):
                new = (1 - momentum) * buf.data + momentum * xp.mean(stat, axis=0)
                buf.data = new if new.dtype == buf.data.dtype else xp.astype(new, buf.data.dtype)
    return _norm_node("InstanceNorm", x, view, (2,), wview, weight, bias, eps)


def _window_sum(xp, a, before: int, after: int, be):
    """``out[:, c] = Σ a[:, c - before .. c + after]`` along axis 1 (zeros outside)."""
    n, c, r = a.shape
    parts = []
    if before:
        parts.append(xp.zeros((n, before, r), dtype=a.dtype, device=be.device))
    parts.append(a)
    if after:
        parts.append(xp.zeros((n, after, r), dtype=a.dtype, device=be.device))
    padded = xp.concat(parts, axis=1) if len(parts) > 1 else a
    out = padded[:, 0:c, :]
    for j in range(1, before + after + 1):
        out = out + padded[:, j:j + c, :]
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Normalise each channel by its neighbours (AlexNet), as ``torch.nn.functional.local_response_norm``:
    ``y_c = x_c / (k + alpha/size · Σ_{c'} x_{c'}²)^beta`` over channels ``c - size//2 ..
    c + (size-1)//2`` (zeros past the ends). Input ``(N, C, *)`` with at least 3 dimensions.
    One graph node; backward ``g·d^(-beta) - (2·alpha·beta/size)·x·Σ_window(g·y/d)``.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> F.local_response_norm(gdl.ones(1, 2, 1), 1, alpha=1.0, beta=1.0, k=1.0)
    tensor([[[0.5],
             [0.5]]], backend='numpy')
    """
    op = "local_response_norm"
    _check_tensor(op, "input", input)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of 3 or more dimensions (N, C, *), got shape {input.shape}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    alpha, beta, k = (_real(op, name, v) for name, v in (("alpha", alpha), ("beta", beta), ("k", k)))
    be = input._backend
    xp = be.xp
    n, c = input.shape[:2]
    x3 = xp.reshape(input.data, (n, c, math.prod(input.shape[2:])))
    before, after = size // 2, (size - 1) // 2
    d = k + (alpha / size) * _window_sum(xp, x3 * x3, before, after, be)
    scale = d ** (-beta)
    y = x3 * scale

    def backward(g):
        g3 = xp.reshape(g, x3.shape)
        q = g3 * y / d
        gx = g3 * scale - (2.0 * alpha * beta / size) * x3 * _window_sum(xp, q, after, before, be)
        return (xp.reshape(gx, input.shape),)

    def recompute(inp):  # the forward with Tensor ops, for create_graph=True
        xt = ops.reshape(inp, x3.shape)
        sq = xt * xt
        r = x3.shape[2]
        zeros = lambda w: Tensor._wrap(xp.zeros((n, w, r), dtype=x3.dtype, device=be.device), be)  # noqa: E731
        padded = ops.cat(([zeros(before)] if before else []) + [sq] + ([zeros(after)] if after else []), axis=1)
        win = padded[:, 0:c, :]
        for j in range(1, before + after + 1):
            win = win + padded[:, j:j + c, :]
        dt = k + (alpha / size) * win
        return ops.reshape(xt * dt ** (-beta), input.shape)

    from gdl.higher_order import by_recomputation

    return result(xp.reshape(y, input.shape), be, (input,), backward, "LocalResponseNorm",
                  by_recomputation(recompute, (input,)))


__all__ = [
    "group_norm",
    "rms_norm",
    "instance_norm",
    "local_response_norm",
]
