"""The error function and its relatives: ``erf``, ``erfc``, ``erfinv`` (as ``torch.erf``...);
the gamma family ``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma`` and the Bessel ``i0``
(described further down, before their code).

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
from gdl.functional.elementwise import exp
from gdl.functional.pointwise import _float_unary

__all__ = ["digamma", "erf", "erfc", "erfinv", "i0", "lgamma", "mvlgamma", "polygamma"]

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
        lambda x, g: g * _TWO_OVER_SQRT_PI * exp(-x * x),
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
        lambda x, g: -g * _TWO_OVER_SQRT_PI * exp(-x * x),
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
        _erfinv_graph,
    )


def _erfinv_graph(y, g):
    out = erfinv(y)
    return g * (math.sqrt(math.pi) / 2.0) * exp(out * out)




# -- the gamma family: lgamma, digamma, polygamma, mvlgamma; the Bessel function i0 ----------
#
# All computed in float64 from the standard's arithmetic (the result rounded back to the
# input's float dtype), from a few classical expansions whose coefficients are computed once,
# here, in Python (Bernoulli numbers exactly, with fractions):
#
# - ``lgamma``: the Taylor series ``lgamma(2 + z) = (1 − γ)z + Σₖ₌₂ (−1)ᵏ (ζ(k) − 1)/k · zᵏ`` on
#   |z| <= 1/2 (``lgamma(1 + z)`` is the same minus ``log1p(z)``; below 1/2 also minus
#   ``log|x|``), which keeps full relative accuracy at the zeros 1 and 2; ``x`` in [2.5, 10)
#   brought down to [1.5, 2.5) by ``Γ(x) = (x − 1)Γ(x − 1)``; Stirling's series from 10 on;
#   the reflection ``Γ(x)Γ(1 − x) = π / sin(πx)`` below −1/2.
# - ``digamma`` (ψ): ``ψ(x) = ψ(x + n) − Σ 1/(x + k)`` up to 10, then its asymptotic series;
#   near its positive zero x₀ = 1.4616…, the Taylor series there (coefficients ``ζ(k, x₀)``);
#   the reflection ``ψ(1 − x) − ψ(x) = π cot(πx)`` for negative ``x``.
# - ``polygamma(n, x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)`` for n >= 1, the Hurwitz zeta function summed
#   directly up to 10 + n and by Euler–Maclaurin after; negative ``x`` by the n-th derivative
#   of the reflection, ``ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − πⁿ⁺¹ cot⁽ⁿ⁾(πx)`` (a polynomial in
#   ``cot``, of one sign: no cancellation).
# - ``i0``: its power series ``Σ (x²/4)ᵏ / (k!)²`` (positive terms) up to |x| = 25, the
#   asymptotic ``eˣ/√(2πx) Σ ((2k − 1)!!)² / (k! (8x)ᵏ)`` above; ``i1`` (its derivative) alike.
#
# Poles and edges as PyTorch's: ``lgamma`` is +inf at 0 and the negative integers; ``digamma``
# is −inf at +0, +inf at −0, NaN at the negative integers and −inf; ``polygamma(n, ·)`` for
# n >= 1 is +inf (n odd) or −inf (n even) there.

_EULER_GAMMA = 0.57721566490153286061
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _bernoulli_even(count):
    """``[B₂, B₄, …, B₂ₘ]`` (``m = count``) as exact fractions (the Akiyama–Tanigawa algorithm)."""
    from fractions import Fraction

    size = 2 * count + 1
    row = [Fraction(0)] * (size + 1)
    numbers = []
    for m in range(size + 1):
        row[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        numbers.append(row[0])  # B_m (with B_1 = +1/2, unused)
    return [numbers[2 * j] for j in range(1, count + 1)]


_BERNOULLI = _bernoulli_even(20)  # B₂ … B₄₀


def _hurwitz_coefficients(s: int, terms: int = 16):
    """Euler–Maclaurin's ``B₂ⱼ/(2j)! · s(s+1)…(s+2j−2)`` for ``ζ(s, ·)``, j = 1..terms, as floats."""
    out = []
    rising = 1  # s(s+1)...(s+2j-2), exact
    factorial = 1
    for j in range(1, terms + 1):
        rising *= (s + 2 * j - 3) * (s + 2 * j - 2) if j > 1 else s
        factorial *= (2 * j - 1) * (2 * j)
        out.append(float(_BERNOULLI[j - 1] * rising / factorial))
    return out


def _hurwitz_scalar(s: int, a: float) -> float:
    """``ζ(s, a) = Σₖ (a + k)⁻ˢ`` for a Python float ``a > 0`` (to build the coefficients below)."""
    w = max(10.0 + s, 10.0)
    total = 0.0
    while a < w:
        total += a ** -s
        a += 1.0
    tail = a / (s - 1) + 0.5
    for j, c in enumerate(_hurwitz_coefficients(s)):
        tail += c * a ** -(2 * j + 1)
    return total + tail * a ** -s


# lgamma(2 + z) = (1 − γ) z + Σ_{k>=2} (−1)^k (ζ(k) − 1)/k z^k: coefficients of z^1 … z^29
_LGAMMA_SERIES = [1.0 - _EULER_GAMMA] + [(-1) ** k * _hurwitz_scalar(k, 2.0) / k for k in range(2, 30)]
# Stirling: lgamma(x) = (x − ½)log x − x + ½log 2π + Σ B₂ⱼ / (2j(2j − 1) x^{2j−1})
_STIRLING = [float(b) / (2 * j * (2 * j - 1)) for j, b in enumerate(_BERNOULLI[:9], start=1)]
# ψ(x) ~ log x − 1/(2x) − Σ B₂ⱼ / (2j x^{2j})
_PSI_ASYMPTOTIC = [float(b) / (2 * j) for j, b in enumerate(_BERNOULLI[:9], start=1)]
# the positive zero of ψ, as a float, and ψ there (its rounding error); Taylor coefficients there
_PSI_ROOT = 1.4616321449683622
_PSI_AT_ROOT = -9.2412655217294275e-17
_PSI_ROOT_SERIES = [(-1) ** (n + 1) * _hurwitz_scalar(n + 1, _PSI_ROOT) for n in range(1, 26)]
_PSI_ROOT_RADIUS = 0.25


def _horner(coefficients, z):
    """``Σ cₖ zᵏ`` (k from 0) for Python-float coefficients and an array ``z``."""
    total = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        total = total * z + c
    return total


def _sin_pi(xp, x):
    """``sin(πx)`` with ``x`` first reduced to ``r = x − round(x)`` (exact), up to sign:
    ``(sin(πr), cos(πr), r)``; ``sin(πx) = ±sin(πr)`` (the sign of ``(−1)^round(x)``)."""
    r = x - xp.round(x)
    return xp.sin(math.pi * r), xp.cos(math.pi * r), r


def _lgamma64(xp, x):
    """lgamma of float64 ``x``."""
    negative = x <= -0.5
    finite = xp.isfinite(x)
    safe_x = xp.where(finite, x, 3.0)
    u = xp.where(negative, 1.0 - safe_x, safe_x)  # > -0.5
    small = xp.abs(u) < 0.5
    mid1 = (u >= 0.5) & (u < 1.5)
    high = (u >= 2.5) & (u < 10.0)
    large = u >= 10.0
    # [2.5, 10) down to [1.5, 2.5): lgamma(y) = log(y − 1) + lgamma(y − 1)
    y = xp.where(high, u, 2.0)
    product = xp.ones_like(y)
    for _ in range(8):
        step = y >= 2.5
        product = product * xp.where(step, y - 1.0, 1.0)
        y = xp.where(step, y - 1.0, y)
    z = xp.where(small, u, xp.where(mid1, u - 1.0, xp.where(high, y, xp.where(large, 2.0, u)) - 2.0))
    series = z * _horner(_LGAMMA_SERIES, z)  # lgamma(2 + z)
    safe_u = xp.where(small & (u != 0.0), xp.abs(u), 1.0)  # (log(0) would warn: lgamma(0) is set below)
    near = -xp.log(safe_u) - xp.log1p(xp.where(small | mid1, z, 0.0))
    out = series + xp.where(small | mid1, near, 0.0) + xp.where(high, xp.log(product), 0.0)
    w = xp.where(large, u, 10.0)
    inv = 1.0 / w
    stirling = (w - 0.5) * xp.log(w) - w + _HALF_LOG_2PI + inv * _horner(_STIRLING, inv * inv)
    out = xp.where(large, stirling, out)
    # reflection below -1/2: lgamma(x) = log(π / |sin(πx)|) − lgamma(1 − x); +inf at the poles
    sin_r = xp.abs(_sin_pi(xp, safe_x)[0])
    pole = sin_r == 0.0
    reflected = _LOG_PI - xp.log(xp.where(pole, 1.0, sin_r)) - out
    out = xp.where(negative, xp.where(pole, math.inf, reflected), out)
    out = xp.where(x == 0.0, math.inf, out)
    return xp.where(finite, out, xp.abs(x))  # ±inf give +inf, NaN stays NaN


def _digamma_positive(xp, u):
    """ψ of float64 ``u > 0`` (finite)."""
    y = u
    shift = xp.zeros_like(u)
    for _ in range(10):
        step = y < 10.0
        shift = shift - xp.where(step, 1.0 / y, 0.0)
        y = xp.where(step, y + 1.0, y)
    inv = 1.0 / y
    inv2 = inv * inv
    out = shift + xp.log(y) - 0.5 * inv - inv2 * _horner(_PSI_ASYMPTOTIC, inv2)
    h = u - _PSI_ROOT
    near_root = xp.abs(h) < _PSI_ROOT_RADIUS
    h = xp.where(near_root, h, 0.0)
    root = _PSI_AT_ROOT + h * _horner(_PSI_ROOT_SERIES, h)
    return xp.where(near_root, root, out)


def _digamma64(xp, x):
    """ψ of float64 ``x``."""
    finite = xp.isfinite(x)
    negative = x < 0.0
    pole = (x == 0.0) | (negative & (x == xp.round(x))) | ~finite
    safe_x = xp.where(pole, 1.5, x)
    u = xp.where(negative, 1.0 - safe_x, safe_x)
    out = _digamma_positive(xp, u)
    sin_r, cos_r, _ = _sin_pi(xp, safe_x)
    sin_r = xp.where(negative, sin_r, 1.0)  # (0 at the positive integers, where it is not used)
    out = xp.where(negative, out - math.pi * cos_r / sin_r, out)  # ψ(x) = ψ(1 − x) − π cot(πx)
    zero = xp.where(xp.signbit(x), xp.full_like(x, math.inf), -math.inf)  # −inf at +0, +inf at −0 (as PyTorch)
    edge = xp.where(x == 0.0, zero, xp.where(x == math.inf, x, math.nan))
    return xp.where(pole, edge, out)


def _cot_derivative_polynomial(n: int):
    """Coefficients (of c⁰, c¹, …) of ``Pₙ`` with ``dⁿ/dtⁿ cot t = Pₙ(cot t)``: ``P₀ = c``,
    ``Pₖ₊₁ = −(1 + c²) Pₖ'``."""
    p = [0, 1]
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))]  # P'
        q = [0] * (len(d) + 2)
        for k, c in enumerate(d):
            q[k] -= c
            q[k + 2] -= c
        p = q
    return [float(c) for c in p]


def _polygamma64(xp, n: int, x):
    """ψ⁽ⁿ⁾ of float64 ``x`` for an int ``n >= 1``."""
    s = n + 1
    finite = xp.isfinite(x)
    negative = x < 0.0
    pole = (x <= 0.0) & (x == xp.round(x))
    safe_x = xp.where(pole | ~finite, 1.5, x)
    u = xp.where(negative, 1.0 - safe_x, safe_x)
    # ζ(s, u) summed directly until u + k >= 10 + s, then Euler–Maclaurin
    limit = 10.0 + s
    y = u
    total = xp.zeros_like(u)
    for _ in range(int(limit) + 1):
        step = y < limit
        total = total + xp.where(step, y ** -s, 0.0)
        y = xp.where(step, y + 1.0, y)
    inv = 1.0 / y
    tail = 1.0 / (s - 1) + inv * (0.5 + inv * _horner(_hurwitz_coefficients(s), inv * inv))
    zeta = total + tail * y ** (1 - s)
    scale = (-1.0) ** (n + 1) * math.factorial(n) if n <= 170 else (-1.0) ** (n + 1) * math.inf
    out = scale * zeta
    sin_r, cos_r, _ = _sin_pi(xp, safe_x)  # the reflection for negative x
    cot = cos_r / xp.where(negative, sin_r, 1.0)
    reflected = (-1.0) ** n * out - math.pi ** (n + 1) * _horner(_cot_derivative_polynomial(n), cot)
    out = xp.where(negative, reflected, out)
    signed_inf = math.inf if n % 2 else -math.inf
    edge = xp.where(x == math.inf, xp.zeros_like(x), math.nan)
    return xp.where(pole, signed_inf, xp.where(finite, out, edge))


_I_SERIES_UP_TO = 25.0
_I_SERIES_TERMS = 60
_I_ASYMPTOTIC_TERMS = 40


def _bessel_i64(xp, x, order: int, scaled: bool = False):
    """``I₀`` or ``I₁`` (``order``) of float64 ``x``; with ``scaled``, ``e^{-|x|}·I`` (finite
    for every ``x``: PyTorch's ``i0e``/``i1e``)."""
    a = xp.abs(x)
    s = xp.minimum(a, _I_SERIES_UP_TO)
    q = 0.25 * s * s
    term = xp.ones_like(s) if order == 0 else 0.5 * s
    total = term
    for k in range(1, _I_SERIES_TERMS):
        term = term * q / (k * (k + order))
        total = total + term
    if scaled:
        total = total * xp.exp(-s)
    cap = math.inf if scaled else 800.0
    b = xp.where(a > _I_SERIES_UP_TO, xp.minimum(a, cap), 2.0 * _I_SERIES_UP_TO)  # (NaN: 50)
    mu = 4.0 * order * order
    term = xp.ones_like(b)
    asymptotic = term
    for k in range(1, _I_ASYMPTOTIC_TERMS):
        term = term * ((2 * k - 1) ** 2 - mu) / (8.0 * k * b)
        asymptotic = asymptotic + term
    if scaled:
        asymptotic = asymptotic / xp.sqrt(2.0 * math.pi * b)
    else:
        half = xp.exp(0.5 * b)  # e^b as e^{b/2}·e^{b/2}: finite up to where I overflows (b ≈ 713.98)
        asymptotic = half * (half * asymptotic / xp.sqrt(2.0 * math.pi * b))
    out = xp.where(a > _I_SERIES_UP_TO, asymptotic, total)
    if not scaled:
        out = xp.where(a > 800.0, math.inf, out)
    out = xp.where(xp.isnan(x), x, out)
    return xp.where(x < 0, -out, out) if order == 1 else out


def _special_unary(op, name, input, value64, derivative64, graph=None):
    """A float op computed in float64 (``value64(xp, w)``) and rounded back; backward
    ``g·derivative64(xp, w)`` (also in float64, rounded to the input's dtype); ``graph(x, g)``
    the same on Tensors (see ``_float_unary``)."""
    return _float_unary(
        op, name, input,
        lambda xp, x: _in_float64(xp, lambda w: value64(xp, w), x),
        lambda xp, g, x, out: g * _in_float64(xp, lambda w: derivative64(xp, w), x),
        graph,
    )


def lgamma(input):
    """``log|Γ(x)|``; +inf at 0 and the negative integers, as ``torch.lgamma``.
    Backward ``g·digamma(x)``.

    >>> import gdl
    >>> gdl.lgamma(gdl.tensor([0.5, 1.0, 3.0, -2.5, 0.0]))
    tensor([ 0.5723649 ,  0.        ,  0.6931472 , -0.05624372,         inf], backend='numpy')
    """
    return _special_unary("lgamma", "Lgamma", input, _lgamma64, _digamma64, lambda x, g: g * digamma(x))


def digamma(input):
    """ψ(x), the derivative of ``lgamma``: −inf at +0, +inf at −0, NaN at the negative
    integers (as ``torch.digamma``). Backward ``g·polygamma(1, x)``.

    >>> import gdl
    >>> gdl.digamma(gdl.tensor([1.0, 0.5, -0.5], dtype=gdl.float64))
    tensor([-0.57721566, -1.96351003,  0.03648997], backend='numpy', dtype=gdl.float64)
    """
    return _special_unary("digamma", "Digamma", input, _digamma64, lambda xp, w: _polygamma64(xp, 1, w),
                          lambda x, g: g * polygamma(1, x))


def polygamma(n, input):
    """ψ⁽ⁿ⁾(x), the n-th derivative of :func:`digamma` (``polygamma(0, x)`` is ``digamma``),
    as ``torch.polygamma(n, input)``; the method is ``x.polygamma(n)``. At 0 and the negative
    integers: +inf for odd ``n``, −inf for even. Backward ``g·polygamma(n + 1, x)``.

    >>> import gdl
    >>> gdl.polygamma(1, gdl.tensor([1.0, 2.0], dtype=gdl.float64))  # π²/6 and π²/6 − 1
    tensor([1.64493407, 0.64493407], backend='numpy', dtype=gdl.float64)
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"polygamma: n must be >= 0, got {n}")
    if n == 0:
        return digamma(input)
    return _special_unary(
        "polygamma", "Polygamma", input,
        lambda xp, w: _polygamma64(xp, n, w), lambda xp, w: _polygamma64(xp, n + 1, w),
        lambda x, g: g * polygamma(n + 1, x),
    )


def _polygamma_method(self, n):
    """``x.polygamma(n)``: :func:`polygamma` ``(n, x)``."""
    return polygamma(n, self)


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension ``p``:
    ``p(p−1)/4·log π + Σⱼ₌₀^{p−1} lgamma(x − j/2)``, as ``torch.mvlgamma`` (which no longer
    checks ``x > (p−1)/2``: elements below give what the sum gives). Backward
    ``g·Σⱼ digamma(x − j/2)``.

    >>> import gdl
    >>> gdl.mvlgamma(gdl.tensor([2.5, 3.0]), 2)
    tensor([0.8570478, 1.550195 ], backend='numpy')
    """
    if isinstance(p, bool) or not isinstance(p, int):
        raise TypeError(f"mvlgamma: p must be an int, got {type(p).__name__}")
    if p < 1:
        raise ValueError(f"mvlgamma: p must be >= 1, got {p}")
    constant = p * (p - 1) / 4.0 * _LOG_PI

    def value(xp, w):
        out = _lgamma64(xp, w)
        for j in range(1, p):
            out = out + _lgamma64(xp, w - 0.5 * j)
        return out + constant

    def derivative(xp, w):
        out = _digamma64(xp, w)
        for j in range(1, p):
            out = out + _digamma64(xp, w - 0.5 * j)
        return out

    def graph(x, g):
        out = digamma(x)
        for j in range(1, p):
            out = out + digamma(x - 0.5 * j)
        return g * out

    return _special_unary("mvlgamma", "Mvlgamma", input, value, derivative, graph)


def i0(input):
    """The modified Bessel function of the first kind of order 0, ``Σ (x²/4)ᵏ / (k!)²``,
    as ``torch.i0``; backward ``g·I₁(x)``. Exact to float64 up to where it overflows
    (|x| ≈ 713.98): PyTorch gives inf from 709.8 on and NaN at ±inf, gdl the value and inf.

    >>> import gdl
    >>> gdl.i0(gdl.tensor([0.0, 1.0, -2.0, 10.0]))
    tensor([1.0000000e+00, 1.2660658e+00, 2.2795854e+00, 2.8157166e+03], backend='numpy')
    """
    return _special_unary("i0", "I0", input, lambda xp, w: _bessel_i64(xp, w, 0),
                          lambda xp, w: _bessel_i64(xp, w, 1), _i0_graph)


def _i0_graph(x, g):
    from gdl.special import i1  # gdl.special imports this module

    return g * i1(x)


TENSOR_METHODS: dict = {
    "erf": erf, "erfc": erfc, "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma,
    "polygamma": _polygamma_method, "mvlgamma": mvlgamma, "i0": i0,
}
