"""Reductions and the softmax family, forward and backward side by side."""

from __future__ import annotations

from gdl.functional._util import check_axis, expand_reduced, normalize_axes
from gdl.tensor import Tensor, result


def sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes when None)."""
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "sum")
    data = x.data
    if data.dtype == xp.bool:  # count the True values (int64), as PyTorch does
        return Tensor._wrap(xp.sum(xp.astype(data, xp.int64), axis=axes, keepdims=keepdims), x._backend)
    out = xp.sum(data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (expand_reduced(xp, g, shape, axes, keepdims),)

    return result(out, x._backend, (x,), backward, "Sum")


def mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes when None)."""
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= shape[a]
    out = xp.mean(x.data, axis=axes, keepdims=keepdims)

    def backward(g):
        return (expand_reduced(xp, g / count, shape, axes, keepdims),)

    return result(out, x._backend, (x,), backward, "Mean")


def var(x: Tensor, axis=None, keepdims: bool = False, correction: int = 0) -> Tensor:
    """Variance over ``axis``; ``correction=1`` gives the unbiased estimate."""
    mu = mean(x, axis=axis, keepdims=True)
    d = x - mu
    axes = normalize_axes(axis, x.ndim, "var")
    n = 1
    for a in axes:
        n *= x.shape[a]
    denom = n - correction if n - correction > 1 else 1  # (gdl's max shadows the builtin)
    return sum(d * d, axis=axis, keepdims=keepdims) / denom


def max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis``; tied maxima share the gradient equally."""
    return _extreme(x, axis, keepdims, True)


def min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``; tied minima share the gradient equally."""
    return _extreme(x, axis, keepdims, False)


def _extreme(x, axis, keepdims, is_max):
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "max" if is_max else "min")
    if 0 in [shape[a] for a in axes]:
        raise ValueError(f"{'max' if is_max else 'min'}: cannot reduce an empty axis of shape {tuple(shape)}")
    fn = xp.max if is_max else xp.min
    out_keep = fn(x.data, axis=axes, keepdims=True)
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))
    data = x.data

    def backward(g):
        hit = xp.astype(data == out_keep, g.dtype)
        count = xp.sum(hit, axis=axes, keepdims=True)
        return (expand_reduced(xp, g, shape, axes, keepdims) * hit / count,)

    return result(out, x._backend, (x,), backward, "Max" if is_max else "Min")


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the maximum for stability."""
    xp = x._backend.xp
    shape = x.data.shape
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    m = xp.max(x.data, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out_keep = xp.log(xp.sum(xp.exp(x.data - m), axis=axes, keepdims=True)) + m
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))
    data = x.data

    def backward(g):
        return (expand_reduced(xp, g, shape, axes, keepdims) * xp.exp(data - out_keep),)

    return result(out, x._backend, (x,), backward, "Logsumexp")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (max-shifted, so no overflow)."""
    axis = check_axis(axis, x.ndim, "softmax")
    xp = x._backend.xp
    e = xp.exp(x.data - xp.max(x.data, axis=axis, keepdims=True))
    out = e / xp.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (out * (g - xp.sum(g * out, axis=axis, keepdims=True)),)

    return result(out, x._backend, (x,), backward, "Softmax")


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities without overflow."""
    axis = check_axis(axis, x.ndim, "log_softmax")
    xp = x._backend.xp
    shifted = x.data - xp.max(x.data, axis=axis, keepdims=True)
    out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    def backward(g):
        return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)

    return result(out, x._backend, (x,), backward, "LogSoftmax")


def argmax(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (no gradient)."""
    xp = x._backend.xp
    data = x.data if axis is not None else xp.reshape(x.data, (-1,))
    return Tensor._wrap(xp.argmax(data, axis=axis if axis is not None else 0, keepdims=keepdims), x._backend)


def argmin(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    xp = x._backend.xp
    data = x.data if axis is not None else xp.reshape(x.data, (-1,))
    return Tensor._wrap(xp.argmin(data, axis=axis if axis is not None else 0, keepdims=keepdims), x._backend)


def all(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """True where every element along ``axis`` is nonzero (no gradient)."""
    xp = x._backend.xp
    return Tensor._wrap(xp.all(x.data, axis=axis, keepdims=keepdims), x._backend)


def any(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """True where some element along ``axis`` is nonzero (no gradient)."""
    xp = x._backend.xp
    return Tensor._wrap(xp.any(x.data, axis=axis, keepdims=keepdims), x._backend)
