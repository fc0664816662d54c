"""Special functions under PyTorch's ``torch.special`` names, all differentiable.

Most are gdl's ops under their ``special`` names (``expit`` is ``sigmoid``, ``gammaln``
is ``lgamma``, ``psi`` is ``digamma``, ...). Defined here, in float64 whatever the
input's float dtype (rounded back), as :mod:`gdl.functional.special`'s:

- the normal distribution's ``ndtr`` (its CDF), ``log_ndtr`` (accurate far into the
  left tail, by the asymptotic series below −20) and ``ndtri`` (its inverse: ``erfinv``,
  then Newton steps on ``log_ndtr`` for small probabilities);
- the scaled Bessel functions ``i0e`` and ``i1e`` (``e^{-|x|}·I``, finite everywhere) and ``i1``;
- ``erfcx`` (``e^{x²}·erfc(x)``, from the continued fraction without its ``e^{-x²}``),
  ``entr`` (``−x·log x``) and ``xlog1py`` (``x·log1p(y)``).

From :mod:`gdl.functional.special_more` (also ``gdl.<name>``): ``gammainc``/``gammaincc``, ``zeta``,
the Bessel functions ``bessel_j0/j1/y0/y1``, ``modified_bessel_i0/i1/k0/k1``,
``scaled_modified_bessel_k0/k1``, ``spherical_bessel_j0``, ``airy_ai`` and the orthogonal
polynomials (``chebyshev_polynomial_t/u/v/w``, their ``shifted_`` versions, ``hermite_polynomial_h/he``,
``laguerre_polynomial_l``, ``legendre_polynomial_p``).

>>> import gdl
>>> from gdl import special
>>> special.ndtr(gdl.tensor([0.0, 1.959964]))
tensor([0.5  , 0.975], backend='numpy')
>>> special.log_ndtr(gdl.tensor([-40.0], dtype=gdl.float64))
tensor([-804.60844201], backend='numpy', dtype=gdl.float64)
"""

from __future__ import annotations

import math

from gdl.functional import elementwise as _E
from gdl.functional import pointwise as _P
from gdl.functional import reduction as _R
from gdl.functional.pointwise import _binary_result, _operands, _run, _tensor_pair
from gdl.functional.pointwise_extra import sinc
from gdl.functional.special import (
    _FRACTION_FROM,
    _FRACTION_LEVELS,
    _bessel_i64,
    _erf_erfc,
    _erfinv64,
    _special_unary,
    digamma,
    erf,
    erfc,
    erfinv,
    i0,
    lgamma,
    mvlgamma,
    polygamma,
)
from gdl.functional.special_more import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    zeta,
)

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf",
    "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
    "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
    "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]

psi = digamma
gammaln = lgamma
multigammaln = mvlgamma
expit = _E.sigmoid
exp2 = _P.exp2
expm1 = _P.expm1
log1p = _P.log1p
logit = _P.logit
xlogy = _P.xlogy
round = _P.round  # noqa: A001 (PyTorch's name)
logsumexp = _R.logsumexp
softmax = _R.softmax
log_softmax = _R.log_softmax

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _safe(x, at):
    """``x`` with ``1`` where the raw mask ``at`` holds (a divisor kept away from 0)."""
    return _E.where(at, 1.0, x)


# -- the normal distribution --------------------------------------------------------------------


def _ndtr64(xp, x):
    return 0.5 * _erf_erfc(xp, -x / _SQRT2)[1]


def _log_ndtr64(xp, x):
    """log Φ(x): log1p of the upper tail for x > 0, log of erfc down to −20, then the
    asymptotic series ``−x²/2 − log(−x) − log√(2π) + log(1 − 1/x² + 3/x⁴ − …)``."""
    upper = xp.log1p(-0.5 * _erf_erfc(xp, xp.maximum(x, 0.0) / _SQRT2)[1])
    middle = xp.log(_ndtr64(xp, xp.maximum(x, -20.0)))
    t = xp.minimum(x, -20.0)
    inv = 1.0 / (t * t)
    series = xp.ones_like(t)
    term = xp.ones_like(t)
    for k in range(1, 12):
        term = -term * (2 * k - 1) * inv
        series = series + term
    tail = -0.5 * t * t - xp.log(-t) - _LOG_SQRT_2PI + xp.log(series)
    out = xp.where(x > 0, upper, xp.where(x >= -20.0, middle, tail))
    return xp.where(xp.isnan(x), x, out)


def _normal_pdf_over_cdf(xp, x):
    """φ(x)/Φ(x), from the logs (finite far into the left tail)."""
    return xp.exp(-0.5 * x * x - _LOG_SQRT_2PI - _log_ndtr64(xp, x))


def ndtr(input):
    """The standard normal CDF ``Φ(x) = ½·erfc(−x/√2)``; backward ``g·φ(x)``."""
    return _special_unary("ndtr", "Ndtr", input, _ndtr64,
                          lambda xp, w: xp.exp(-0.5 * w * w - _LOG_SQRT_2PI),
                          lambda x, g: g * _E.exp(-0.5 * x * x - _LOG_SQRT_2PI))


def log_ndtr(input):
    """``log Φ(x)``, accurate in both tails (as ``torch.special.log_ndtr``); backward ``g·φ(x)/Φ(x)``."""
    return _special_unary("log_ndtr", "LogNdtr", input, _log_ndtr64, _normal_pdf_over_cdf,
                          lambda x, g: g * _E.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_ndtr(x)))


def _ndtri64(xp, p):
    """Φ⁻¹(p): ``√2·erfinv(2p − 1)`` in the middle; in the tails (``q = min(p, 1 − p) < 0.1``,
    where ``2p − 1`` would lose the digits of ``q``) Newton steps on ``log Φ(x) = log q`` from
    the tail's asymptotic root, with the sign of ``p − ½`` (``1 − p`` is exact for p ≥ ½)."""
    central = _SQRT2 * _erfinv64(xp, 2.0 * p - 1.0)
    q = xp.where(p > 0.5, 1.0 - p, p)
    q = xp.minimum(xp.where(q > 0, q, 0.5), 0.1)
    log_q = xp.log(q)
    x = -xp.sqrt(-2.0 * log_q)
    x = xp.where(x < -1.0, x + xp.log(-2.0 * log_q * 2.0 * math.pi) / (2.0 * x), x)
    for _ in range(8):
        x = x - (_log_ndtr64(xp, x) - log_q) / _normal_pdf_over_cdf(xp, x)
    tail = xp.where(p > 0.5, -x, x)
    out = xp.where((p < 0.1) | (p > 0.9), tail, central)
    out = xp.where(p == 0, -math.inf, xp.where(p == 1, math.inf, out))
    return xp.where((p < 0) | (p > 1) | xp.isnan(p), math.nan, out)


def ndtri(input):
    """The inverse of :func:`ndtr`: the ``x`` with ``Φ(x) = p`` (−inf at 0, inf at 1, NaN
    outside [0, 1]), as ``torch.special.ndtri``; backward ``g·√(2π)·e^{x²/2}``."""
    return _special_unary("ndtri", "Ndtri", input, _ndtri64,
                          lambda xp, w: xp.exp(0.5 * _ndtri64(xp, w) ** 2 + _LOG_SQRT_2PI),
                          _ndtri_graph)


def _ndtri_graph(p, g):
    x = ndtri(p)
    return g * _E.exp(0.5 * x * x + _LOG_SQRT_2PI)


# -- Bessel ------------------------------------------------------------------------------------------


def _safe_over_x(xp, num, x, at_zero):
    nonzero = x != 0
    return xp.where(nonzero, num / xp.where(nonzero, x, xp.ones_like(x)), at_zero)


def i1(input):
    """The modified Bessel function of the first kind of order 1; backward
    ``g·(I₀(x) − I₁(x)/x)`` (½ at 0)."""
    def derivative(xp, w):
        return xp.where(w == 0, 0.5, _bessel_i64(xp, w, 0) - _safe_over_x(xp, _bessel_i64(xp, w, 1), w, 0.0))

    def graph(x, g):
        zero = x.data == 0
        return g * _E.where(zero, 0.5, i0(x) - i1(x) / _safe(x, zero))

    return _special_unary("i1", "I1", input, lambda xp, w: _bessel_i64(xp, w, 1), derivative, graph)


def i0e(input):
    """``e^{-|x|}·I₀(x)``, finite for every ``x``; backward ``g·(i1e(x) − sign(x)·i0e(x))``."""
    return _special_unary(
        "i0e", "I0e", input, lambda xp, w: _bessel_i64(xp, w, 0, scaled=True),
        lambda xp, w: _bessel_i64(xp, w, 1, scaled=True) - xp.sign(w) * _bessel_i64(xp, w, 0, scaled=True),
        lambda x, g: g * (i1e(x) - _P.sign(x) * i0e(x)),
    )


def i1e(input):
    """``e^{-|x|}·I₁(x)``; backward ``g·(i0e(x) − i1e(x)·(sign(x) + 1/x))`` (½ at 0)."""

    def derivative(xp, w):
        e0, e1 = _bessel_i64(xp, w, 0, scaled=True), _bessel_i64(xp, w, 1, scaled=True)
        return xp.where(w == 0, 0.5, e0 - xp.sign(w) * e1 - _safe_over_x(xp, e1, w, 0.0))

    def graph(x, g):
        zero = x.data == 0
        e1 = i1e(x)
        return g * _E.where(zero, 0.5, i0e(x) - _P.sign(x) * e1 - e1 / _safe(x, zero))

    return _special_unary("i1e", "I1e", input, lambda xp, w: _bessel_i64(xp, w, 1, scaled=True), derivative,
                          graph)


# -- erfcx, entr, xlog1py -------------------------------------------------------------------------------


def _erfcx64(xp, x):
    a = xp.maximum(x, _FRACTION_FROM)
    f = a
    for k in range(_FRACTION_LEVELS, 0, -1):
        f = a + (k / 2) / f
    fraction = 1.0 / (math.sqrt(math.pi) * f)  # the continued fraction without its e^{-x²}
    small = xp.minimum(x, _FRACTION_FROM)
    direct = xp.exp(small * small) * _erf_erfc(xp, small)[1]
    out = xp.where(x >= _FRACTION_FROM, fraction, direct)
    return xp.where(xp.isnan(x), x, out)


def erfcx(input):
    """The scaled complementary error function ``e^{x²}·erfc(x)`` (finite for large ``x``,
    where ``erfc`` underflows); backward ``g·(2x·erfcx(x) − 2/√π)``."""
    return _special_unary("erfcx", "Erfcx", input, _erfcx64,
                          lambda xp, w: 2.0 * w * _erfcx64(xp, w) - 2.0 / math.sqrt(math.pi),
                          lambda x, g: g * (2.0 * x * erfcx(x) - 2.0 / math.sqrt(math.pi)))


def _entr64(xp, x):
    positive = x > 0
    safe = xp.where(positive, x, xp.ones_like(x))
    out = xp.where(positive, -x * xp.log(safe), xp.where(x == 0, xp.zeros_like(x), xp.full_like(x, -math.inf)))
    return xp.where(xp.isnan(x), x, out)


def entr(input):
    """The elementwise entropy ``−x·log x`` (0 at 0, −inf below); backward ``g·(−log x − 1)``."""
    return _special_unary("entr", "Entr", input, _entr64, lambda xp, w: -xp.log(w) - 1.0,
                          lambda x, g: g * (-_E.log(x) - 1.0))


def xlog1py(input, other):
    """``x·log1p(y)``, 0 where ``x == 0`` (unless ``y`` is NaN), as ``torch.special.xlog1py``;
    either argument may be a number. Backward ``log1p(y)`` for ``x`` (0 where ``x == 0``
    and ``y <= −1``) and ``g·x/(1 + y)`` for ``y``."""
    ta, tb, xa, xb, be = _operands("xlog1py", input, other, floating=True)
    xp = be.xp

    def fn(x, y):
        zero = x == 0
        out = xp.where(zero, xp.zeros_like(x * y), x * xp.log1p(xp.where(zero, xp.zeros_like(y), y)))
        return xp.where(xp.isnan(y), y * x, out)

    out = _run("xlog1py", fn, xa, xb)

    def grad_x(g):
        d = fn(g, xb)
        return xp.where((xa == 0) & (xb <= -1), xp.zeros_like(d), d)

    x, y = _tensor_pair(ta, tb, xa, xb, be)

    def graph_x(g):
        dead = (xa == 0) & (xb <= -1)
        return _E.where(dead, 0.0, g * _P.log1p(_E.where(dead, 0.0, y)))

    return _binary_result("Xlog1py", out, be, ta, tb, xa, xb, grad_x, lambda g: g * xa / (1.0 + xb),
                          graph_x, lambda g: g * x / (1.0 + y))

