"""Weight initialisation, in place, from the backend's seeded generator.

Every function here has PyTorch's name and signature (``torch.nn.init``), fills
the given tensor or Parameter in place (it rebinds ``tensor.data``; no graph is
built, as under ``torch.no_grad()``) and returns it. ``gdl.manual_seed(s)``
before building a model makes its weights repeatable. The ``generator=``
argument of PyTorch's random initialisers is accepted only as ``None``: gdl draws
from the backend's one seeded generator.

>>> import gdl
>>> w = gdl.nn.Parameter(gdl.zeros(100, 784))
>>> _ = gdl.nn.init.kaiming_uniform_(w, nonlinearity="relu")
>>> gdl.nn.init.eye_(gdl.zeros(2, 3))
tensor([[1., 0., 0.],
        [0., 1., 0.]], backend='numpy')

The deprecated names without the trailing underscore (``nn.init.normal`` ...) are
kept, as in PyTorch, and warn with a ``FutureWarning``.
"""

from __future__ import annotations

import functools
import math
import warnings

from gdl.tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
    "fan_in_and_fan_out",
]


def _fill(tensor: Tensor, data) -> Tensor:
    tensor.data = data
    return tensor


def _check_tensor(op: str, tensor) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a gdl Tensor or Parameter, got {type(tensor).__name__}")


def _check_float(op: str, tensor) -> None:
    _check_tensor(op, tensor)
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"{op}: needs a floating-point tensor, got {tensor.dtype.name}")


def _no_generator(op: str, generator) -> None:
    if generator is not None:
        raise TypeError(
            f"{op}: gdl has no Generator objects, got generator={generator!r}; "
            f"seed the backend's generator with gdl.manual_seed(...) instead"
        )


def _real(op: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{op}: {name} must be a real Python number, got {value!r}")
    return float(value)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale for an activation (PyTorch's table).

    >>> from gdl.nn import init
    >>> init.calculate_gain("tanh"), init.calculate_gain("leaky_relu", 0.2)
    (1.6666666666666667, 1.3867504905630728)
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        else:
            slope = param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Fans of a weight laid out as PyTorch's: ``(out, in, *kernel)``
    (PyTorch's private ``_calculate_fan_in_and_fan_out``, also available under that name)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


_calculate_fan_in_and_fan_out = fan_in_and_fan_out  # PyTorch's private names, used by ported code
_calculate_correct_fan = _fan


def _no_elements(tensor: Tensor) -> bool:
    """Nothing to fill (and fans of 0): the fan-based inits leave it alone, as PyTorch's."""
    return 0 in tensor.shape


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b)."""
    _no_generator("uniform_", generator)
    return _fill(tensor, tensor._backend.uniform(tensor.shape, a, b, dtype=tensor.data.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std²)."""
    _no_generator("normal_", generator)
    return _fill(tensor, tensor._backend.normal(tensor.shape, mean, std, dtype=tensor.data.dtype))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """Fill with samples from N(mean, std²) truncated to ``[a, b]``.

    The method is PyTorch 2.13's (exact rejection sampling; no inverse CDF, so no
    ``erfinv``, which the Array API lacks): when the normal puts more than 30 % of
    its mass in ``[a, b]``, draw normals and redraw those outside until none is;
    otherwise draw uniforms on ``[a, b]`` and accept each with probability
    ``pdf(x) / pdf(mode)``. Either way every value lies in ``[a, b]`` (compared in
    the tensor's dtype) and has exactly the truncated-normal distribution. Like
    PyTorch's it warns when ``mean`` is more than 2 ``std`` outside ``[a, b]``
    (acceptance is then low and sampling slow).

    >>> import gdl
    >>> gdl.manual_seed(0)
    >>> w = gdl.nn.init.trunc_normal_(gdl.zeros(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    op = "trunc_normal_"
    _check_float(op, tensor)
    _no_generator(op, generator)
    mean, std, a, b = (_real(op, n, v) for n, v in (("mean", mean), ("std", std), ("a", a), ("b", b)))
    if not std > 0 or math.isinf(std):
        raise ValueError(f"{op}: std must be a finite number > 0, got {std!r}")
    if not a < b:
        raise ValueError(f"{op}: needs a < b, got a={a!r}, b={b!r}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(f"{op}: mean is more than 2 std from [a, b]; sampling may be slow", stacklevel=2)
    if _no_elements(tensor):
        return tensor
    be, shape, dtype = tensor._backend, tensor.shape, tensor.data.dtype
    xp = be.xp
    p = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if p > 0.3:
        out = be.normal(shape, mean, std, dtype=dtype)
        while True:
            reject = (out < a) | (out > b)
            if not bool(xp.any(reject)):
                break
            out = xp.where(reject, be.normal(shape, mean, std, dtype=dtype), out)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def draw():
            x = be.uniform(shape, a, b, dtype=dtype)
            x = xp.clip(x, a, b)  # a uniform rounded to the dtype may land a hair outside
            ratio = xp.exp(-0.5 * ((x - mean) / std) ** 2 - log_peak)  # pdf(x) / pdf(mode), in (0, 1]
            return x, be.uniform(shape, dtype=dtype) > ratio  # rejected: draw again

        out, pending = draw()
        while bool(xp.any(pending)):
            x, again = draw()
            out = xp.where(pending, x, out)
            pending = pending & again
    return _fill(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    xp = tensor._backend.xp
    return _fill(tensor, xp.full(tensor.shape, val, dtype=tensor.data.dtype, device=tensor._backend.device))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a
    rectangle too), so a ``Linear`` layer passes as many inputs through as it can."""
    _check_tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    be = tensor._backend
    n, m = tensor.shape
    return _fill(tensor, be.xp.eye(n, m, dtype=tensor.data.dtype, device=be.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight ``(out, in, *kernel)`` with the Dirac
    delta: within each of ``groups`` groups of output channels, output channel ``d``
    copies input channel ``d`` at the kernel's centre (``size // 2``), for ``d`` up to
    ``min(out // groups, in)``; everything else is 0. A convolution with it (and
    ``'same'`` padding) is the identity on those channels.

    >>> import gdl
    >>> w = gdl.nn.init.dirac_(gdl.zeros(2, 2, 3))
    >>> w[:, :, 1]
    tensor([[1., 0.],
            [0., 1.]], backend='numpy')
    """
    op = "dirac_"
    _check_tensor(op, tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: only tensors with 3, 4 or 5 dimensions are supported, got shape {tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if tensor.shape[0] % groups:
        raise ValueError(f"{op}: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    be = tensor._backend
    xp = be.xp
    per_group = tensor.shape[0] // groups
    nd = tensor.ndim

    def axis(d):  # arange along dimension d, broadcastable against the weight
        n = tensor.shape[d]
        return xp.reshape(xp.arange(n, dtype=xp.int64, device=be.device), (1,) * d + (n,) + (1,) * (nd - d - 1))

    if per_group == 0:
        return zeros_(tensor)
    mask = (axis(0) % per_group) == axis(1)  # o = g·per_group + d and i = d (so d < min(per_group, in))
    for d in range(2, nd):
        mask = mask & (axis(d) == tensor.shape[d] // 2)
    return _fill(tensor, xp.astype(mask, tensor.data.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain·sqrt(6 / (fan_in + fan_out))."""
    _no_generator("xavier_uniform_", generator)
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out))."""
    _no_generator("xavier_normal_", generator)
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: U(-b, b) with b = gain·sqrt(3 / fan)."""
    _no_generator("kaiming_uniform_", generator)
    if _no_elements(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: N(0, std²) with std = gain / sqrt(fan) (the book's ch13 Linear)."""
    _no_generator("kaiming_normal_", generator)
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013).

    The tensor is seen as ``(rows, cols)`` with the trailing dimensions flattened
    into ``cols``. As PyTorch: QR-factorise a standard normal matrix (transposed
    first when it is wide), multiply each column of ``Q`` by the sign of ``R``'s
    diagonal (this makes ``Q`` uniformly (Haar) distributed), and transpose back.
    Then ``WᵀW = gain²·I`` for a tall ``W``, ``WWᵀ = gain²·I`` for a wide one.

    >>> import gdl
    >>> w = gdl.nn.init.orthogonal_(gdl.zeros(4, 3, dtype=gdl.float64))
    >>> bool(((w.T @ w - gdl.eye(3, dtype=gdl.float64)).abs() < 1e-12).all())
    True
    """
    op = "orthogonal_"
    _check_float(op, tensor)
    _no_generator(op, generator)
    gain = _real(op, "gain", gain)
    if tensor.ndim < 2:
        raise ValueError(f"{op}: only tensors with 2 or more dimensions are supported, got shape {tensor.shape}")
    if _no_elements(tensor):
        return tensor
    be, dtype = tensor._backend, tensor.data.dtype
    xp = be.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = be.normal((rows, cols), dtype=dtype)
    if rows < cols:
        flat = xp.matrix_transpose(flat)
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.linalg.diagonal(r))[None, :]
    if rows < cols:
        q = xp.matrix_transpose(q)
    return _fill(tensor, xp.reshape(q * gain if gain != 1.0 else q, tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor as a sparse matrix (Martens 2010): N(0, std²) values, then in
    every column ``ceil(sparsity · rows)`` rows, chosen at random, set to 0.

    gdl picks each column's zero rows as the ranks of uniform keys (one vectorised
    draw) rather than PyTorch's one ``randperm`` per column; the distribution is the
    same. ``sparsity`` must lie in ``[0, 1]`` (PyTorch does not check).

    >>> import gdl
    >>> w = gdl.nn.init.sparse_(gdl.zeros(10, 4), sparsity=0.3)
    >>> (w == 0).sum(0).tolist()
    [3, 3, 3, 3]
    """
    op = "sparse_"
    _check_float(op, tensor)
    _no_generator(op, generator)
    if tensor.ndim != 2:
        raise ValueError(f"{op}: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    sparsity, std = _real(op, "sparsity", sparsity), _real(op, "std", std)
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"{op}: sparsity must lie in [0, 1], got {sparsity!r}")
    if std < 0:
        raise ValueError(f"{op}: std must be >= 0, got {std!r}")
    be, dtype = tensor._backend, tensor.data.dtype
    xp = be.xp
    rows, cols = tensor.shape
    values = be.normal((rows, cols), 0.0, std, dtype=dtype)
    num_zeros = math.ceil(sparsity * rows)
    if num_zeros and rows and cols:
        keys = be.uniform((rows, cols), dtype=xp.float64)
        rank = xp.argsort(xp.argsort(keys, axis=0), axis=0)  # each column's rows ranked by their key
        values = xp.where(rank < num_zeros, xp.zeros_like(values), values)
    return _fill(tensor, values)


def _deprecated(new):
    old = new.__name__[:-1]

    @functools.wraps(new)
    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = f"Deprecated (as in PyTorch): use :func:`{new.__name__}`."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
