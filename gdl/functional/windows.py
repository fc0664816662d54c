"""Window functions, as PyTorch's ``torch.hann_window`` & co.: ``window_length`` samples of a
symmetric window of ``window_length`` points (``periodic=False``) or of ``window_length + 1``
points with the last dropped (``periodic=True``, the default: for spectral analysis, as
``torch.stft`` expects). Computed in float64 and rounded to ``dtype`` (the default float dtype
unless given; a floating dtype); ``backend=``/``device=`` pick the backend. A window of length 1
is ``[1.]``, of length 0 empty.

>>> import gdl
>>> gdl.hann_window(4, dtype=gdl.float64)
tensor([0. , 0.5, 1. , 0.5], backend='numpy', dtype=gdl.float64)
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.functional.special import _bessel_i64
from gdl.tensor import _backend_of, tensor

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]


def _window(op, window_length, periodic, dtype, requires_grad, backend, device, fn):
    """The shared checks; ``fn(xp, n, last)`` the window at the float64 positions ``n`` of a
    symmetric window whose last index is ``last`` (> 0)."""
    if isinstance(window_length, bool) or not isinstance(window_length, int):
        raise TypeError(f"{op}: window_length must be an int, got {type(window_length).__name__}")
    if window_length < 0:
        raise ValueError(f"{op}: window_length must be non-negative, got {window_length}")
    want = dtypes.as_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    if not want.is_floating_point:
        raise TypeError(f"{op}: expects a floating-point dtype, got {want.name}")
    be = _backend_of(op, backend, device)
    xp = be.xp
    if window_length <= 1:
        values = xp.ones((window_length,), dtype=xp.float64, device=be.device)
    else:
        last = window_length if periodic else window_length - 1
        values = fn(xp, xp.arange(window_length, dtype=xp.float64, device=be.device), last)
    return tensor(values, dtype=want, requires_grad=requires_grad, backend=be)


def _cosine_sum(coefficients):
    """``Σₖ (−1)ᵏ cₖ cos(2πkn/last)``."""
    def fn(xp, n, last):
        out = xp.zeros_like(n)
        for k, c in enumerate(coefficients):
            out = out + (-1.0) ** k * c * xp.cos((2.0 * math.pi * k / last) * n)
        return out
    return fn


def hann_window(window_length, periodic=True, *, dtype=None, requires_grad=False, backend=None, device=None):
    """The Hann window ``½ − ½cos(2πn/(N − 1))`` (``N = window_length + 1`` if periodic)."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad, backend, device,
                   _cosine_sum((0.5, 0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, requires_grad=False,
                   backend=None, device=None):
    """The Hamming window ``α − β·cos(2πn/(N − 1))`` (as ``torch.hamming_window``)."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, backend, device,
                   _cosine_sum((float(alpha), float(beta))))


def blackman_window(window_length, periodic=True, *, dtype=None, requires_grad=False, backend=None, device=None):
    """The Blackman window ``0.42 − 0.5cos(2πn/(N − 1)) + 0.08cos(4πn/(N − 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, backend, device,
                   _cosine_sum((0.42, 0.5, 0.08)))


def _bartlett(xp, n, last):
    return 1.0 - xp.abs(2.0 * n / last - 1.0)


def bartlett_window(window_length, periodic=True, *, dtype=None, requires_grad=False, backend=None, device=None):
    """The Bartlett (triangular) window ``1 − |2n/(N − 1) − 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, backend, device, _bartlett)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, requires_grad=False, backend=None,
                  device=None):
    """The Kaiser window ``I₀(β·√(1 − (2n/(N − 1) − 1)²)) / I₀(β)`` (as ``torch.kaiser_window``)."""
    beta = float(beta)

    def fn(xp, n, last):
        r = 2.0 * n / last - 1.0
        inside = xp.sqrt(xp.clip(1.0 - r * r, 0.0, None))
        return _bessel_i64(xp, beta * inside, 0) / _bessel_i64(xp, xp.full_like(n, beta), 0)

    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, backend, device, fn)


TENSOR_METHODS: dict = {}
