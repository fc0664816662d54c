"""Group, instance and RMS normalisation, each one graph node with a fused backward.

All three normalise ``x`` over some group of elements and then apply a per-channel
(or per-feature) affine map. The shared node :func:`_norm_node` views the input as
an array whose ``axes`` are the elements of one group and computes

- forward:  ``x̂ = (x − μ)·r`` with ``r = 1/√(σ² + eps)`` (RMS: ``x̂ = x·r``,
  ``r = 1/√(mean(x²) + eps)``), then ``y = x̂·w + b``;
- backward: with ``ĝ = g·w``,
  ``dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`` (RMS: no ``mean(ĝ)`` term),
  ``dw = Σ g·x̂`` and ``db = Σ g`` over everything but the weight's axes.

(The same formula as batch/layer norm's backward, written once instead of
through a chain of small ops.)

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

from gdl.functional._util import check_same_backend
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


def _norm_node(op, x, view, axes, wview, weight, bias, eps, center=True, stats=None):
    """The shared normalisation node (see the module docstring).

    ``view``: the shape ``x`` is seen as; ``axes``: the axes of ``view`` that one
    group spans; ``wview``: the shape ``weight``/``bias`` broadcast as against
    ``view``. ``stats=(mean, rstd)`` (arrays broadcastable to ``view``) normalises by
    fixed statistics instead of the input's own (a constant, so ``dx = ĝ·r``).
    """
    be = x._backend
    xp = be.xp
    xd = xp.reshape(x.data, view)
    if stats is None:
        if center:
            mu = xp.mean(xd, axis=axes, keepdims=True)
            xc = xd - mu
        else:
            xc = xd
        rstd = 1.0 / xp.sqrt(xp.mean(xc * xc, axis=axes, keepdims=True) + eps)
    else:
        mu, rstd = stats
        xc = xd - mu
    xhat = xc * rstd
    w = None if weight is None else xp.reshape(weight.data, wview)
    out = xhat if w is None else xhat * w
    if bias is not None:
        out = out + xp.reshape(bias.data, wview)
    out = xp.reshape(out, tuple(x.shape))
    # the axes a weight gradient sums over: those the weight is broadcast along
    waxes = tuple(i for i, s in enumerate(wview) if s == 1)

    def backward(g):
        gv = xp.reshape(g, view)
        gx = gw = gb = None
        if x.requires_grad:
            gh = gv if w is None else gv * w
            if stats is not None:
                gx = gh * rstd
            else:
                dot = xp.mean(gh * xhat, axis=axes, keepdims=True)
                inner = gh - xhat * dot
                if center:
                    inner = inner - xp.mean(gh, axis=axes, keepdims=True)
                gx = inner * rstd
            gx = xp.reshape(gx, tuple(x.shape))
        if weight is not None and weight.requires_grad:
            gw = xp.reshape(xp.sum(gv * xhat, axis=waxes), tuple(weight.shape))
        if bias is not None and bias.requires_grad:
            gb = xp.reshape(xp.sum(gv, axis=waxes), tuple(bias.shape))
        grads = (gx,)
        if weight is not None:
            grads += (gw,)
        if bias is not None:
            grads += (gb,)
        return grads

    inputs = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return result(out, be, inputs, backward, op)


# -- group norm ------------------------------------------------------------------------------


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise ``(N, C, *)`` input over groups of ``C/num_groups`` channels (and all
    positions), per sample, then ``·weight + bias`` per channel (both ``(C,)``).

    As PyTorch's: the statistics never depend on the batch, so train and eval agree.
    """
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


__all__ = [
    "group_norm",
    "rms_norm",
    "instance_norm",
]
