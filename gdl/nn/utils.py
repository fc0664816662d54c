"""Gradient clipping (the book's chapter 14 clips LSTM gradients), total norms, and
flattening parameters into one vector; ``gdl.nn.utils.rnn`` pads and packs sequences.

The clipping functions change ``p.grad`` of the given parameters (rebinding its
data) and, like PyTorch's, accept one tensor or an iterable (e.g.
``model.parameters()``). As in PyTorch 2.6 and later, ``clip_grad_norm_`` is
``get_total_norm`` of the gradients followed by ``clip_grads_with_norm_``; the two
halves are public so that the norm can be combined across pieces of a model first.

>>> import gdl
>>> from gdl.nn.utils import get_total_norm
>>> get_total_norm([gdl.tensor([3.0, 0.0]), gdl.tensor([4.0])])
tensor(5., backend='numpy')
>>> get_total_norm([gdl.tensor([3.0, 0.0]), gdl.tensor([-4.0])], norm_type=float("inf"))
tensor(4., backend='numpy')

``from gdl.nn.utils.rnn import pad_sequence`` works as PyTorch's import does (the
module is :mod:`gdl.nn.rnn_utils`); so do ``gdl.nn.utils.parametrize``
(:mod:`gdl.nn.parametrize`) and ``gdl.nn.utils.parametrizations``
(:mod:`gdl.nn.parametrizations`), also as ``import gdl.nn.utils.parametrize as P``.
The hook-based :func:`weight_norm` and :func:`spectral_norm` (deprecated in PyTorch,
common in audio code) are here too.
"""

from __future__ import annotations

import math
import sys

from gdl import functional as ops
from gdl.nn import rnn_utils as rnn
from gdl.tensor import Tensor, tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "rnn", "parametrize", "parametrizations",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "stateless", "fusion",
           "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
           "prune", "skip_init"]

sys.modules.setdefault(__name__ + ".rnn", rnn)  # ``import gdl.nn.utils.rnn`` as ``torch.nn.utils.rnn``


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


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real Python number, got {value!r}")
    return float(value)


def _same_backend(op, items, what="gradients"):
    backend = items[0]._backend
    for g in items:
        if g._backend is not backend:
            raise ValueError(
                f"{op}: {what} on different backends ({backend.name!r} and {g._backend.name!r}); "
                f"move the model to one backend with .to(...)"
            )
    return backend


def _norm(op, xp, a, q):
    """``a``'s vector norm of order ``q`` (as ``torch.linalg.vector_norm``), a 0-d array."""
    if a.size == 0:
        if q < 0:  # no identity element for min: PyTorch refuses too
            raise ValueError(f"{op}: cannot take the norm of order {q} of a tensor with no elements")
        return xp.zeros((), dtype=a.dtype)  # (PyTorch refuses inf too; a row-sparse grad may have no rows)
    a = xp.abs(a)
    if math.isinf(q):
        return xp.max(a) if q > 0 else xp.min(a)
    if q == 0:
        return xp.astype(xp.sum(xp.astype(a != 0, xp.int64)), a.dtype)
    if q == 1:
        return xp.sum(a)
    if q == 2:
        return xp.sqrt(xp.sum(a * a))
    if q < 0:  # |0|**q is inf (the norm is then 0), without a divide-by-zero warning
        zero = a == 0
        powers = xp.where(zero, xp.full_like(a, math.inf), xp.where(zero, xp.ones_like(a), a) ** q)
        return xp.sum(powers) ** (1.0 / q)
    return xp.sum(a**q) ** (1.0 / q)


def _total_norm(op, arrays, backend, q):
    """PyTorch's total norm: the norm of the vector of each array's norm. For every ``q``
    but 0 that is the norm of all elements together; for 0 it counts the arrays that are
    not all zero, as PyTorch's."""
    xp = backend.xp
    dtype = xp.result_type(*[a.dtype for a in arrays])
    norms = [xp.astype(_norm(op, xp, a, q), dtype) for a in arrays]
    return norms[0] if len(norms) == 1 and q != 0 else _norm(op, xp, xp.stack(norms), q)


def _check_finite(op, total, backend, q, what):
    value = float(backend.to_host(total))
    if not math.isfinite(value):
        raise RuntimeError(
            f"{op}: the total norm of order {q} of the {what} is {value}, non-finite, so it cannot be "
            f"clipped; pass error_if_nonfinite=False to go on anyway"
        )


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The norm of order ``norm_type`` of ``tensors`` taken together, as if concatenated
    into one vector (PyTorch's ``torch.nn.utils.get_total_norm``).

    ``tensors`` is a tensor or an iterable of them (usually ``[p.grad for p in
    params if p.grad is not None]``; row-sparse gradients count each row once). Any
    order PyTorch's accepts: ``q > 0``, ``inf`` (max ``|x|``), ``-inf`` (min ``|x|``),
    negative ``q``, and ``0``, which as in PyTorch counts the *tensors* that have a
    nonzero element (the norm of the vector of per-tensor counts). An empty iterable
    gives 0. A tensor with no elements counts as norm 0 (PyTorch refuses it for
    ``inf``). Returns a 0-d tensor on the tensors' backend, in their promoted dtype,
    without a device sync unless ``error_if_nonfinite`` (which raises
    ``RuntimeError`` for a NaN or infinite norm). ``foreach`` changes nothing here.
    """
    op = "get_total_norm"
    items = [tensors] if isinstance(tensors, Tensor) or getattr(tensors, "is_sparse", False) else list(tensors)
    for t in items:
        if not (isinstance(t, Tensor) or getattr(t, "is_sparse", False)):
            raise TypeError(f"{op}: expected gdl Tensors, got {type(t).__name__}")
    q = _number(op, "norm_type", norm_type)
    if not items:
        return tensor(0.0)
    backend = _same_backend(op, items, "tensors")
    arrays = [_values(t.coalesce() if t.is_sparse else t) for t in items]
    total = _total_norm(op, arrays, backend, q)
    if error_if_nonfinite:
        _check_finite(op, total, backend, q, "tensors")
    return Tensor._wrap(total, backend)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale the parameters' gradients by ``min(1, max_norm / (total_norm + 1e-6))``
    (PyTorch's ``torch.nn.utils.clip_grads_with_norm_``, the second half of
    ``clip_grad_norm_``).

    ``total_norm`` is a 0-d tensor (usually from :func:`get_total_norm`) on the
    gradients' backend, or a Python number. A NaN norm makes every gradient NaN, as
    PyTorch's. ``max_norm`` must be >= 0 (PyTorch would flip the gradients' sign for
    a negative one). ``foreach`` changes nothing here.

    >>> import gdl
    >>> from gdl.nn.utils import clip_grads_with_norm_, get_total_norm
    >>> p = gdl.nn.Parameter(gdl.zeros(2))
    >>> p.grad = gdl.tensor([3.0, 4.0])
    >>> clip_grads_with_norm_([p], 1.0, get_total_norm([p.grad]))
    >>> p.grad.tolist() == [0.6, 0.8]   # 1 / (5 + 1e-6) of each, not quite 0.2
    False
    >>> [round(v, 4) for v in p.grad.tolist()]
    [0.6, 0.8]
    """
    op = "clip_grads_with_norm_"
    params = _params(parameters, op)
    max_norm = _number(op, "max_norm", max_norm)
    if max_norm < 0:
        raise ValueError(f"{op}: max_norm must be >= 0, got {max_norm!r}")
    grads = _grads(params)
    if isinstance(total_norm, Tensor):
        if total_norm.numel() != 1:
            raise ValueError(f"{op}: total_norm must be a one-element tensor, got shape {total_norm.shape}")
    elif isinstance(total_norm, bool) or not isinstance(total_norm, (int, float)):
        raise TypeError(f"{op}: total_norm must be a gdl Tensor or a Python number, got {type(total_norm).__name__}")
    if not grads:
        return
    backend = _same_backend(op, grads)
    if isinstance(total_norm, Tensor):
        if total_norm._backend is not backend:
            raise ValueError(
                f"{op}: total_norm is on backend {total_norm.backend!r}, the gradients on {backend.name!r}"
            )
        total = backend.xp.reshape(total_norm.data, ())
    else:
        dtype = backend.xp.result_type(*[_values(g).dtype for g in grads])
        total = backend.xp.asarray(float(total_norm), dtype=dtype, device=backend.device)
    _scale(backend, grads, max_norm, total)


def _scale(backend, grads, max_norm, total):
    xp = backend.xp
    coef = max_norm / (total + 1e-6)
    coef = xp.where(coef > 1.0, xp.ones_like(coef), coef)  # a NaN norm stays NaN in every gradient, as PyTorch's
    for g in grads:
        v = _values(g)
        _set_values(g, v * (coef if coef.dtype == v.dtype else xp.astype(coef, v.dtype)))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """Scale the gradients so that their combined norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one
    vector::

        total_norm = (sum_p ||p.grad||_q ** q) ** (1/q)      (q = norm_type; inf: max |g|)
        p.grad = p.grad * min(1, max_norm / (total_norm + 1e-6))

    Parameters without a gradient are ignored. Returns ``total_norm`` (before
    clipping) as a 0-d tensor on the gradients' backend, without a device sync.
    This is :func:`get_total_norm` then :func:`clip_grads_with_norm_`.

    Args:
        parameters: a tensor or an iterable of them.
        max_norm: the largest allowed norm (>= 0).
        norm_type: ``q`` > 0, or ``float('inf')``; default 2 (gdl refuses the orders
            <= 0 that PyTorch lets through here: they do not bound a gradient's size;
            :func:`get_total_norm` takes them).
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
    backend = _same_backend(op, grads)
    total = _total_norm(op, [_values(g) for g in grads], backend, norm_type)
    if error_if_nonfinite:
        _check_finite(op, total, backend, norm_type, "gradients")
    _scale(backend, grads, max_norm, total)
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


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor, in iteration order
    (differentiable, as PyTorch's).

    >>> import gdl
    >>> from gdl.nn.utils import parameters_to_vector, vector_to_parameters
    >>> lin = gdl.nn.Linear(2, 1)
    >>> v = parameters_to_vector(lin.parameters())
    >>> v.shape
    (3,)
    >>> vector_to_parameters(gdl.arange(3.0), lin.parameters())
    >>> lin.weight.tolist(), lin.bias.tolist()
    ([[0.0, 1.0]], [2.0])
    """
    op = "parameters_to_vector"
    params = _params(parameters, op)
    if not params:
        raise ValueError(f"{op}: got no parameters")
    _same_backend(op, params, "parameters")
    return ops.concat([ops.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy the consecutive slices of the 1-D ``vec`` into ``parameters`` (reshaped to
    each one's shape), the inverse of :func:`parameters_to_vector`.

    Each parameter's data is replaced by a copy (no graph, as PyTorch's ``.data``
    assignment). Unlike PyTorch, each slice is converted to its parameter's dtype
    (PyTorch would change the parameter's dtype to ``vec``'s), and ``vec`` must hold
    exactly as many elements as the parameters (PyTorch ignores extra ones).
    """
    op = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{op}: expected vec to be a gdl Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"{op}: vec must be 1-D, got shape {vec.shape}")
    params = _params(parameters, op)
    need = sum(p.numel() for p in params)
    if need != vec.shape[0]:
        raise ValueError(f"{op}: vec has {vec.shape[0]} elements, the parameters {need}")
    be = vec._backend
    xp = be.xp
    start = 0
    for p in params:
        if p._backend is not be:
            raise ValueError(f"{op}: vec is on backend {be.name!r}, a parameter on {p.backend!r}")
        n = p.numel()
        piece = xp.reshape(vec.data[start:start + n], p.shape)
        p.data = xp.astype(piece, p.data.dtype) if piece.dtype != p.data.dtype else be.copy(piece)
        start += n


# -- parametrizations and the hook-based weight/spectral norms (torch.nn.utils.*) ----------------
from gdl.nn import fusion, parametrizations, parametrize, stateless  # noqa: E402  (they import gdl.nn.module, not this file)  # noqa: E402
from gdl.nn.fusion import (  # noqa: E402,F401
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)

for _name, _module in (("fusion", fusion), ("stateless", stateless)):
    sys.modules.setdefault(f"{__name__}.{_name}", _module)  # ``from gdl.nn.utils.stateless import ...``

sys.modules.setdefault(__name__ + ".parametrize", parametrize)  # ``import gdl.nn.utils.parametrize as P``
sys.modules.setdefault(__name__ + ".parametrizations", parametrizations)


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Hook-based weight normalisation ``w = g · v / ‖v‖`` (PyTorch's deprecated
    ``torch.nn.utils.weight_norm``; prefer :func:`gdl.nn.utils.parametrizations.weight_norm`).

    Replaces the parameter ``<name>`` by the parameters ``<name>_g`` (the norm over every
    dimension but ``dim``; ``dim=None``: the whole tensor) and ``<name>_v``, and adds a
    forward pre-hook that recomputes ``module.<name>`` (a plain attribute) before each
    call. Warns with ``FutureWarning`` as PyTorch's. Returns ``module``.

    >>> import warnings, gdl
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m = gdl.nn.utils.weight_norm(gdl.nn.Linear(3, 2))
    >>> list(m.state_dict()), m.weight_g.shape
    (['bias', 'weight_g', 'weight_v'], (2, 1))
    """
    parametrizations.WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo :func:`weight_norm`: ``<name>`` becomes a parameter again, holding the current
    normalised weight. ``ValueError`` if there is no such hook. Returns ``module``."""
    return parametrizations._remove_pre_hook(module, parametrizations.WeightNorm, name, "weight_norm")


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None):
    """Hook-based spectral normalisation (PyTorch's ``torch.nn.utils.spectral_norm``;
    prefer :func:`gdl.nn.utils.parametrizations.spectral_norm`).

    The parameter ``<name>`` becomes ``<name>_orig``, with the buffers ``<name>_u`` and
    ``<name>_v`` (random unit vectors, not iterated at registration, as PyTorch's); a
    forward pre-hook sets ``module.<name> = <name>_orig / σ`` before each call, running
    ``n_power_iterations`` steps of the power method first in training mode. ``dim``
    defaults to 0 (1 for the ConvTranspose layers). Returns ``module``.

    >>> import gdl
    >>> m = gdl.nn.utils.spectral_norm(gdl.nn.Linear(3, 2))
    >>> list(m.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if dim is None:
        dim = 1 if parametrizations._is_conv_transpose(module) else 0
    parametrizations.SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo :func:`spectral_norm`: ``<name>`` becomes a parameter again, holding the current
    normalised weight (no power iteration). ``ValueError`` if there is no such hook.
    Returns ``module``."""
    return parametrizations._remove_pre_hook(module, parametrizations.SpectralNorm, name, "spectral_norm")


# -- pruning (torch.nn.utils.prune) and skip_init ------------------------------------------------
from gdl.nn import prune  # noqa: E402

sys.modules.setdefault(__name__ + ".prune", prune)  # ``import gdl.nn.utils.prune as prune``


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters and buffers left uninitialised, as
    ``torch.nn.utils.skip_init``. gdl has no meta device: the module is built as usual, then
    every parameter and buffer is zero-filled (in place, dtypes kept), and the random
    generators are put back, so no random numbers are consumed."""
    from gdl.nn.module import Module
    from gdl.random import fork_rng

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    with fork_rng():
        module = module_cls(*args, **kwargs)
    for t in list(module.parameters()) + list(module.buffers()):
        t.data = t._backend.xp.zeros_like(t.data)
    return module
