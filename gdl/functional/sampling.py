"""Random sampling from tensors of parameters: ``bernoulli``, ``multinomial``, ``normal`` and
``poisson``, with PyTorch's signatures and dtypes.

Every draw comes from the backend's seeded generator, so ``gdl.manual_seed`` makes it
repeat (same seed, same backend, same numbers; the numbers are not PyTorch's). As in
PyTorch, ``bernoulli``, ``normal`` and ``poisson`` are in the graph with a zero
gradient (a sample does not move smoothly with its parameters; use the
reparameterisation ``mean + std * gdl.randn(...)`` for a gradient); ``multinomial``
returns indices (int64) and no graph.

>>> import gdl
>>> from gdl.functional.sampling import bernoulli, multinomial
>>> gdl.manual_seed(0)
>>> bernoulli(gdl.tensor([0.0, 1.0, 1.0]))
tensor([0., 1., 1.], backend='numpy')
>>> multinomial(gdl.tensor([0.0, 3.0, 0.0, 1.0]), 2).sort().values
tensor([1, 3], backend='numpy')
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.backends import get_backend_object, pick_backend
from gdl.functional._util import check_same_backend
from gdl.tensor import Tensor, result

# -- helpers ---------------------------------------------------------------------------------


def _tensor(op: str, x, what: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    return x


def _floating(op: str, x: Tensor, what: str = "input") -> None:
    if not dtypes.is_floating(x.data.dtype):
        raise TypeError(f"{op}: {what} must be a floating tensor, got dtype {x.dtype.name} (convert it, e.g. x.float())")


def _zero_grads(be, *inputs):
    """A backward giving each input a zero gradient (PyTorch's, for a sampler)."""
    shapes = [(t.data.shape, t.data.dtype) for t in inputs]
    return lambda g: tuple(be.xp.zeros(s, dtype=d, device=be.device) for s, d in shapes)


def _draws(be, shape):
    """Uniforms on ``[0, 1)`` in float64 (2⁻⁵³ resolution: a probability of 1e-9 stays 1e-9)."""
    return be.uniform(tuple(shape), dtype=be.xp.float64)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _shape_of(size) -> tuple:
    if isinstance(size, int) and not isinstance(size, bool):
        return (size,)
    size = tuple(size)
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in size):
        raise ValueError(f"normal: size must be a tuple of non-negative ints, got {size!r}")
    return size


# -- bernoulli -------------------------------------------------------------------------------


def bernoulli(input: Tensor, p=None) -> Tensor:
    """0/1 draws, each 1 with the probability held in ``input``, as ``torch.bernoulli``: the
    result has ``input``'s shape and (floating) dtype. With a number ``p``, every element
    is 1 with probability ``p`` and ``input`` gives only the shape and dtype.

    Probabilities outside ``[0, 1]`` (or NaN) are a ValueError. The gradient is zero, as
    PyTorch's.

    >>> import gdl
    >>> from gdl.functional.sampling import bernoulli
    >>> gdl.manual_seed(0)
    >>> bernoulli(gdl.zeros(2, 3), p=1.0)
    tensor([[1., 1., 1.],
            [1., 1., 1.]], backend='numpy')
    """
    x = _tensor("bernoulli", input)
    _floating("bernoulli", x)
    be = x._backend
    xp = be.xp
    dtype = x.data.dtype
    if p is not None:
        if isinstance(p, Tensor) or not _is_number(p):
            raise TypeError(f"bernoulli: p must be a Python number, got {type(p).__name__} "
                            f"(to draw with a tensor of probabilities, pass it as input)")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"bernoulli: p must be in [0, 1], got p={p}")
        out = xp.astype(_draws(be, x.shape) < float(p), dtype)
        return Tensor._wrap(out, be)
    if x.numel() and not bool(xp.all((x.data >= 0) & (x.data <= 1))):
        raise ValueError(
            f"bernoulli: probabilities must be in [0, 1], got values from {float(xp.min(x.data))} "
            f"to {float(xp.max(x.data))} (or NaN) in a tensor of shape {x.shape}"
        )
    out = xp.astype(_draws(be, x.shape) < xp.astype(x.data, xp.float64), dtype)
    return result(out, be, (x,), _zero_grads(be, x), "Bernoulli")


# -- multinomial -----------------------------------------------------------------------------


def multinomial(input: Tensor, num_samples: int, replacement: bool = False) -> Tensor:
    """Indices (int64) of categories drawn with the non-negative weights in ``input``, as
    ``torch.multinomial``: ``input`` is 1-d (one distribution; result ``(num_samples,)``)
    or 2-d (one per row; result ``(rows, num_samples)``); weights need not sum to 1.

    - ``replacement=True``: independent draws (inverse CDF of each row).
    - ``replacement=False``: ``num_samples`` distinct categories, in the order that
      drawing one at a time and removing it would give (an exponential race: the
      smallest ``E / w`` with ``E ~ Exp(1)``, the same law as Gumbel-top-k), never a
      category of weight zero.

    Errors (ValueError): a weight negative, infinite or NaN; a row of zeros;
    ``num_samples < 1``; without replacement, ``num_samples`` larger than the number of
    categories, or than a row's count of nonzero weights (PyTorch's CPU kernel then
    returns zero-weight categories; gdl refuses, as PyTorch documents it).

    >>> import gdl
    >>> from gdl.functional.sampling import multinomial
    >>> gdl.manual_seed(0)
    >>> multinomial(gdl.tensor([[0.0, 1.0], [1.0, 0.0]]), 3, replacement=True)
    tensor([[1, 1, 1],
            [0, 0, 0]], backend='numpy')
    """
    x = _tensor("multinomial", input)
    if x.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-d or 2-d (prob_dist), got shape {x.shape}")
    _floating("multinomial", x)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples < 1:
        raise ValueError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    be = x._backend
    xp = be.xp
    k = x.shape[-1]
    if not replacement and num_samples > k:
        raise ValueError(
            f"multinomial: cannot sample {num_samples} > {k} categories without replacement "
            f"(input of shape {x.shape}); pass replacement=True"
        )
    w = xp.astype(x.data, xp.float64)
    if w.ndim == 1:
        w = xp.reshape(w, (1, k))
    rows = w.shape[0]
    if rows == 0:
        out = xp.zeros((0, num_samples), dtype=xp.int64, device=be.device)
        return Tensor._wrap(out if x.ndim == 2 else xp.reshape(out, (num_samples,)), be)
    if k == 0 or not bool(xp.all(xp.isfinite(w) & (w >= 0))):
        raise ValueError(
            f"multinomial: weights must be finite and >= 0 (the tensor of shape {x.shape} holds inf, NaN "
            f"or a negative value)" if k else f"multinomial: no categories to draw from (shape {x.shape})"
        )
    positive = xp.sum(xp.astype(w > 0, xp.int64), axis=1)
    fewest = int(xp.min(positive))
    if fewest == 0:
        bad = int(xp.argmin(positive))
        raise ValueError(f"multinomial: invalid distribution: row {bad} has only zero weights (their sum is 0)")
    if not replacement and num_samples > fewest:
        bad = int(xp.argmin(positive))
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from row {bad}, "
            f"which has only {fewest} nonzero weights"
        )
    if replacement:
        out = _with_replacement(be, w, num_samples)
    else:
        out = _without_replacement(be, w, num_samples)
    return Tensor._wrap(out if x.ndim == 2 else xp.reshape(out, (num_samples,)), be)


def _with_replacement(be, w, n):
    """Inverse CDF: each uniform ``u`` picks the first category whose cumulative weight
    exceeds ``u`` (a zero weight adds nothing, so it is never picked). The rows are searched
    at once: row ``i``'s CDF (in ``[0, 1]``) shifted by ``i`` keeps the flat sequence sorted."""
    xp = be.xp
    rows, k = w.shape
    csum = xp.cumulative_sum(w, axis=1)
    cdf = csum / csum[:, -1:]  # the last entry exactly 1.0
    offset = xp.reshape(xp.arange(rows, dtype=xp.float64, device=be.device), (rows, 1))
    u = _draws(be, (rows, n))
    flat = xp.searchsorted(xp.reshape(cdf + offset, (-1,)), xp.reshape(u + offset, (-1,)), side="right")
    idx = xp.reshape(xp.astype(flat, xp.int64), (rows, n)) - xp.astype(offset, xp.int64) * k
    # rounding of ``u + i`` can reach the row's end (index k): take the row's last nonzero category
    last = k - 1 - xp.argmax(xp.astype(xp.flip(w, axis=1) > 0, xp.int8), axis=1, keepdims=True)
    return xp.where(idx >= k, xp.astype(last, xp.int64), idx)


def _without_replacement(be, w, n):
    """The exponential race: ``E / w`` with ``E ~ Exp(1)`` (infinite for a zero weight); the
    ``n`` smallest, in increasing order, are a sequential draw without replacement."""
    xp = be.xp
    e = -xp.log(1.0 - _draws(be, w.shape))  # 1 - u is in (0, 1]
    positive = w > 0
    keys = xp.where(positive, e / xp.where(positive, w, xp.ones_like(w)), xp.full_like(w, math.inf))
    return be.topk_indices(keys, n, 1, False)


# -- normal ----------------------------------------------------------------------------------


def normal(mean, std=1.0, size=None, *, dtype=None, backend=None, device=None, requires_grad: bool = False) -> Tensor:
    """Normal draws with the given means and standard deviations, as ``torch.normal``:

    - ``normal(mean_tensor, std)``, ``normal(mean, std_tensor)``, ``normal(mean_tensor,
      std_tensor)``: one draw per element of the broadcast shape, in the tensor's dtype
      (``mean``'s when both are tensors; it must be floating).
    - ``normal(mean, std, size)`` with two numbers: ``size`` draws in ``dtype`` (the
      default float unless given), on ``backend`` (or its PyTorch name ``device``; the
      current one unless given), a leaf that ``requires_grad`` if asked.

    ``std < 0`` is a ValueError. The gradient with respect to a tensor ``mean`` or ``std``
    is zero, as PyTorch's (for a gradient, write ``mean + std * gdl.randn(...)``).

    >>> import gdl
    >>> from gdl.functional.sampling import normal
    >>> gdl.manual_seed(0)
    >>> normal(gdl.tensor([0.0, 100.0]), 0.0)
    tensor([  0., 100.], backend='numpy')
    >>> normal(2.0, 0.5, (2, 3)).shape
    (2, 3)
    """
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, Tensor) and not _is_number(v):
            raise TypeError(f"normal: {name} must be a Tensor or a Python number, got {type(v).__name__}")
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number for both mean and std, give size (e.g. normal(0.0, 1.0, (2, 3)))")
        if std < 0:
            raise ValueError(f"normal: std must be >= 0, got std={std}")
        be = get_backend_object(pick_backend("normal", backend, device))
        dt = dtypes.backend_dtype(be, dtype or dtypes.get_default_dtype())
        if not dtypes.is_floating(dt):
            raise TypeError(f"normal: dtype must be floating, got {dtypes.as_dtype(dt).name}")
        out = be.normal(_shape_of(size), float(mean), float(std), dtype=dt)
        return Tensor._wrap(out, be, bool(requires_grad))
    if size is not None or dtype is not None or backend is not None or device is not None or requires_grad:
        raise TypeError("normal: size, dtype and backend go with numbers for mean and std (device and "
                        "requires_grad too); with a tensor the result takes its shape, dtype and backend")
    if len(tensors) == 2:
        check_same_backend("normal", mean, std)
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, Tensor):
            _floating("normal", v, name)
    be = tensors[0]._backend
    xp = be.xp
    dt = tensors[0].data.dtype
    if isinstance(std, Tensor):
        if std.numel() and not bool(xp.all(std.data >= 0)):
            raise ValueError(f"normal: every element of std must be >= 0 (std of shape {std.shape})")
    elif std < 0:
        raise ValueError(f"normal: std must be >= 0, got std={std}")
    m = xp.astype(mean.data, dt) if isinstance(mean, Tensor) else float(mean)
    s = xp.astype(std.data, dt) if isinstance(std, Tensor) else float(std)
    try:
        shape = _broadcast(*(t.shape for t in tensors))
    except ValueError:
        raise ValueError(f"normal: mean of shape {mean.shape} and std of shape {std.shape} do not broadcast") from None
    out = be.normal(shape, dtype=dt) * s + m
    return result(out, be, tuple(tensors), _zero_grads(be, *tensors), "Normal")


def _broadcast(*shapes) -> tuple:
    out = []
    for i in range(max(len(s) for s in shapes)):
        sizes = {s[len(s) - 1 - i] for s in shapes if i < len(s)} - {1}
        if len(sizes) > 1:
            raise ValueError("shapes do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


# -- poisson ---------------------------------------------------------------------------------


def poisson(input: Tensor) -> Tensor:
    """Poisson draws (counts, in ``input``'s floating dtype), one per element of the rates
    in ``input``, as ``torch.poisson``. A rate negative, infinite or NaN is a ValueError
    (PyTorch returns garbage for an infinite one). The gradient is zero, as PyTorch's.
    The backend draws them (NumPy's and CuPy's generators; array_api_strict draws on the
    host with NumPy).

    >>> import gdl
    >>> from gdl.functional.sampling import poisson
    >>> gdl.manual_seed(0)
    >>> poisson(gdl.tensor([0.0, 0.0]))
    tensor([0., 0.], backend='numpy')
    """
    x = _tensor("poisson", input)
    _floating("poisson", x)
    be = x._backend
    xp = be.xp
    if x.numel() and not bool(xp.all(xp.isfinite(x.data) & (x.data >= 0))):
        raise ValueError(f"poisson: rates must be finite and >= 0 (the tensor of shape {x.shape} "
                         f"holds a negative, infinite or NaN rate)")
    out = xp.astype(be.poisson(x.data), x.data.dtype)
    return result(out, be, (x,), _zero_grads(be, x), "Poisson")


__all__ = ["bernoulli", "multinomial", "normal", "poisson"]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them
# (PyTorch has no Tensor.normal or Tensor.poisson: those are functions only).
TENSOR_METHODS: dict = {"bernoulli": bernoulli, "multinomial": multinomial}
