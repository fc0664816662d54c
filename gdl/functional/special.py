"""The error function and its relatives: ``erf``, ``erfc``, ``erfinv`` (as ``torch.erf``...).

The Array API has none of them, so they are computed here from the standard's
arithmetic, in float64 whatever the input's float dtype (the result is rounded back),
to about 1e-15 relative error:

- ``erf(x)`` for ``|x| <= 2.5``: the series ``2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))``,
  whose terms are all positive (no cancellation; 40 terms);
- ``erfc(x)`` for ``x >= 1.5``: the continued fraction
  ``e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))``, 100 levels evaluated from
  the bottom up; ``erf = 1 − erfc`` above 2.5, ``erfc = 1 − erf`` below 1.5;
- negative ``x`` by symmetry: ``erf(−x) = −erf(x)``, ``erfc(−x) = 2 − erfc(x)``;
- ``erfinv(y)``: Winitzki's closed-form approximation (error ~2e-3), then Newton steps
  on ``erf(x) = y``.

Each evaluates every branch on the whole array (``where`` picks), so a call costs a few
hundred elementwise passes: fine for losses, initialisers and tests, slow inside a big
model's inner loop (``F.gelu`` keeps its own shorter approximation, to about 1e-7).
Gradients: ``erf' = 2/√π · e^{-x²}``, ``erfc' = −erf'``, ``erfinv'(y) = √π/2 · e^{erfinv(y)²}``.
"""

from __future__ import annotations

import math

from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional.pointwise import _float_unary

__all__ = ["erf", "erfc", "erfinv"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SERIES_UP_TO = 2.5  # erf by the series at or below this |x|
_FRACTION_FROM = 1.5  # erfc by the continued fraction at or above this |x|
_SERIES_TERMS = 40
_FRACTION_LEVELS = 100


def _series_erf(xp, a):
    """erf of ``a >= 0`` (clamped to the series' range: outside it the caller uses the other branch)."""
    a = xp.minimum(a, _SERIES_UP_TO)
    two_a2 = 2.0 * a * a
    term = a
    total = a
    for n in range(1, _SERIES_TERMS):
        term = term * two_a2 / (2 * n + 1)
        total = total + term
    return _TWO_OVER_SQRT_PI * xp.exp(-a * a) * total


def _fraction_erfc(xp, a):
    """erfc of ``a >= 0`` (clamped to the continued fraction's range)."""
    a = xp.maximum(a, _FRACTION_FROM)
    f = a
    for k in range(_FRACTION_LEVELS, 0, -1):
        f = a + (k / 2) / f
    return xp.exp(-a * a) / (math.sqrt(math.pi) * f)


def _erf_erfc(xp, x):
    """``(erf(x), erfc(x))`` in float64 for float64 ``x``; NaN stays NaN."""
    a = xp.abs(x)
    series = _series_erf(xp, a)
    fraction = _fraction_erfc(xp, a)
    erf_a = xp.where(a <= _SERIES_UP_TO, series, 1.0 - fraction)
    erfc_a = xp.where(a >= _FRACTION_FROM, fraction, 1.0 - series)
    negative = x < 0
    erf_x = xp.where(negative, -erf_a, erf_a)
    erfc_x = xp.where(negative, 2.0 - erfc_a, erfc_a)
    nan = xp.isnan(x)
    return xp.where(nan, x, erf_x), xp.where(nan, x, erfc_x)


def _in_float64(xp, fn, data):
    """``fn`` on ``data`` computed in float64, given back in ``data``'s dtype."""
    wide = xp.astype(data, xp.float64)
    out = fn(wide)
    return out if data.dtype == xp.float64 else xp.astype(out, data.dtype)


def _derivative(xp, x):
    return _TWO_OVER_SQRT_PI * xp.exp(-x * x)


def erf(input):
    """The error function ``2/√π ∫₀ˣ e^{-t²} dt``; backward ``g·2/√π·e^{-x²}``.

    >>> import gdl
    >>> gdl.erf(gdl.tensor([0.0, 0.5, -1.0, 3.0]))
    tensor([ 0.       ,  0.5204999, -0.8427008,  0.9999779], backend='numpy')
    """
    return _float_unary(
        "erf", "Erf", input,
        lambda xp, x: _in_float64(xp, lambda w: _erf_erfc(xp, w)[0], x),
        lambda xp, g, x, out: g * _derivative(xp, x),
    )


def erfc(input):
    """``1 − erf(x)``, without losing the small values of large ``x`` (``erfc(10)`` is
    about 2e-45, not 0); backward ``−g·2/√π·e^{-x²}``.

    >>> import gdl
    >>> gdl.erfc(gdl.tensor([0.0, 2.0, 10.0], dtype=gdl.float64))
    tensor([1.00000000e+00, 4.67773498e-03, 2.08848758e-45], backend='numpy', dtype=gdl.float64)
    """
    return _float_unary(
        "erfc", "Erfc", input,
        lambda xp, x: _in_float64(xp, lambda w: _erf_erfc(xp, w)[1], x),
        lambda xp, g, x, out: -g * _derivative(xp, x),
    )


def _erfinv64(xp, y):
    """erfinv of float64 ``y``: ±inf at ±1, NaN outside [-1, 1]."""
    inside = xp.abs(y) < 1.0
    safe = xp.where(inside, y, 0.0)
    # Winitzki's approximation with a = 0.147: a starting point within ~2e-3
    a = 0.147
    log_term = xp.log(1.0 - safe * safe)
    first = 2.0 / (math.pi * a) + log_term / 2.0
    x = xp.sqrt(xp.sqrt(first * first - log_term / a) - first)
    x = xp.where(safe < 0, -x, x)
    for _ in range(4):  # Newton: quadratic convergence from 2e-3 to float64 rounding
        x = x - (_erf_erfc(xp, x)[0] - safe) / _derivative(xp, x)
    edge = xp.where(y > 0, xp.full_like(y, math.inf), xp.full_like(y, -math.inf))
    out = xp.where(inside, x, xp.where(xp.abs(y) == 1.0, edge, math.nan))
    return xp.where(xp.isnan(y), y, out)


def erfinv(input):
    """The inverse of :func:`erf` on ``[-1, 1]`` (±inf at ±1, NaN outside); backward
    ``g·√π/2·e^{erfinv(y)²}``. On PyTorch's autocast float32 list.

    >>> import gdl
    >>> gdl.erfinv(gdl.tensor([0.0, 0.5, -0.9, 1.0]))
    tensor([ 0.        ,  0.47693628, -1.1630871 ,         inf], backend='numpy')
    """
    if _AMP[0]:
        input = _amp_cast("fp32", input)[0]
    return _float_unary(
        "erfinv", "Erfinv", input,
        lambda xp, y: _in_float64(xp, lambda w: _erfinv64(xp, w), y),
        lambda xp, g, y, out: g * (math.sqrt(math.pi) / 2.0) * xp.exp(out * out),
    )


TENSOR_METHODS: dict = {"erf": erf, "erfc": erfc, "erfinv": erfinv}
