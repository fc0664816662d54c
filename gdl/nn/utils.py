"""Gradient clipping (the book's chapter 14 clips LSTM gradients).

Both functions change ``p.grad`` of the given parameters (rebinding its data)
and, like PyTorch's, accept one tensor or an iterable (e.g. ``model.parameters()``).
"""

from __future__ import annotations

import math

from gdl.tensor import Tensor, tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _params(parameters, op):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected gdl Tensors/Parameters, got {type(p).__name__}")
    return params


def _grads(params):
    """The parameters' gradients; row-sparse ones are coalesced first (each row once)."""
    out = []
    for p in params:
        if p.grad is not None:
            if p.grad.is_sparse:
                p.grad = p.grad.coalesce()
            out.append(p.grad)
    return out


def _values(g):
    return g.values if g.is_sparse else g.data


def _set_values(g, array) -> None:
    if g.is_sparse:
        g.values = array
    else:
        g.data = array


def _max_abs(xp, a):
    """``max |a|``, 0 for an empty array (a row-sparse gradient may hold no rows)."""
    return xp.max(xp.abs(a)) if a.size else xp.zeros((), dtype=a.dtype)


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real Python number, got {value!r}")
    return float(value)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """Scale the gradients so that their combined norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one
    vector::

        total_norm = (sum_p ||p.grad||_q ** q) ** (1/q)      (q = norm_type; inf: max |g|)
        p.grad = p.grad * min(1, max_norm / (total_norm + 1e-6))

    Parameters without a gradient are ignored. Returns ``total_norm`` (before
    clipping) as a 0-d tensor on the gradients' backend, without a device sync.

    Args:
        parameters: a tensor or an iterable of them.
        max_norm: the largest allowed norm (>= 0).
        norm_type: ``q`` > 0, or ``float('inf')``; default 2.
        error_if_nonfinite: raise ``RuntimeError`` if the norm is NaN or infinite
            (this reads the norm on the host). Otherwise a NaN norm makes every
            gradient NaN, as in PyTorch.
        foreach: accepted for PyTorch compatibility; it changes nothing here.

    Example::

        loss.backward()
        gdl.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
    """
    op = "clip_grad_norm_"
    params = _params(parameters, op)
    max_norm = _number(op, "max_norm", max_norm)
    norm_type = _number(op, "norm_type", norm_type)
    if max_norm < 0:
        raise ValueError(f"{op}: max_norm must be >= 0, got {max_norm!r}")
    if norm_type <= 0:
        raise ValueError(f"{op}: norm_type must be > 0 or inf, got {norm_type!r}")
    grads = _grads(params)
    if not grads:
        backend = params[0]._backend if params else None
        return tensor(0.0, backend=backend)
    backend = grads[0]._backend
    for g in grads:
        if g._backend is not backend:
            raise ValueError(
                f"{op}: gradients on different backends ({backend.name!r} and {g._backend.name!r}); "
                f"move the model to one backend with .to(...)"
            )
    xp = backend.xp
    dtype = xp.result_type(*[_values(g).dtype for g in grads])
    if math.isinf(norm_type):
        norms = [_max_abs(xp, _values(g)) for g in grads]
        total = norms[0]
        for n in norms[1:]:
            total = xp.maximum(total, n)
        total = xp.astype(total, dtype)
    else:
        total = None
        for g in grads:
            a = xp.abs(_values(g))
            part = xp.sum(a * a) if norm_type == 2.0 else xp.sum(a**norm_type)
            part = xp.astype(part, dtype)
            total = part if total is None else total + part
        total = xp.sqrt(total) if norm_type == 2.0 else total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(float(backend.to_host(total))):
        raise RuntimeError(
            f"{op}: the total norm of order {norm_type} of the gradients is {float(backend.to_host(total))}; "
            f"pass error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    coef = xp.where(coef > 1.0, xp.ones_like(coef), coef)  # a NaN norm stays NaN in every gradient, as PyTorch's
    for g in grads:
        v = _values(g)
        _set_values(g, v * (coef if coef.dtype == v.dtype else xp.astype(coef, v.dtype)))
    return Tensor._wrap(total, backend)


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``.

    ``foreach`` is accepted for PyTorch compatibility; it changes nothing here.

    Example::

        loss.backward()
        gdl.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        opt.step()
    """
    op = "clip_grad_value_"
    params = _params(parameters, op)
    clip_value = _number(op, "clip_value", clip_value)
    if clip_value < 0:
        raise ValueError(f"{op}: clip_value must be >= 0, got {clip_value!r}")
    for g in _grads(params):
        _set_values(g, g._backend.xp.clip(_values(g), -clip_value, clip_value))
