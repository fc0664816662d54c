"""More of ``torch.special``: the incomplete gamma functions, Hurwitz's zeta, Bessel functions
of integer order, Airy's Ai and the classical orthogonal polynomials (also in :mod:`gdl.special`).

All are computed in float64 from the Array API's arithmetic (rounded back to the result's
float dtype), from the mathematics:

- ``gammainc``/``gammaincc`` (``igamma``/``igammac``): the series
  ``P(a, x) = xᵃe⁻ˣ/Γ(a+1) · Σ xⁿ/((a+1)…(a+n))`` for ``x < a + 1``, else the continued fraction
  ``Q(a, x) = xᵃe⁻ˣ/Γ(a) · 1/(x+1−a − 1(1−a)/(x+3−a − 2(2−a)/(x+5−a − …)))``, evaluated bottom-up;
- ``zeta(x, q) = Σₖ (q + k)⁻ˣ``: summed directly until ``q + k >= 12``, then Euler–Maclaurin;
- ``J₀, J₁, Y₀, Y₁``: power series below 0.5, Miller's backward recurrence (normalised by
  ``J₀ + 2ΣJ₂ₖ = 1``; Y from Neumann's series ``Y₀ = 2/π(log(x/2)+γ)J₀ − 4/π Σ(−1)ᵏJ₂ₖ/k``
  and its derivative) up to 25, Hankel's asymptotic expansions above;
- ``K₀, K₁``: power series up to 2, the trapezoidal rule on ``eˣKᵥ(x) = ∫₀^∞ e^{−x(cosh t − 1)}
  cosh(νt) dt`` (exponentially convergent) up to 25, the asymptotic expansion above;
  ``I₀, I₁`` as :func:`gdl.i0` / :func:`gdl.special.i1`;
- ``airy_ai``: its Maclaurin series on [−2, 1], ``Ai(x) = √(x/3)/π · K_{1/3}(ζ)`` above
  (``ζ = 2/3·|x|^{3/2}``), ``Ai(−x) = √x/3 · (J_{1/3}(ζ) + J_{−1/3}(ζ))`` by Miller's recurrence
  for fractional orders, and the asymptotic expansion below −9.7;
- the orthogonal polynomials by their three-term recurrences (``n`` truncated toward zero;
  0 for negative ``n``, as PyTorch), derivatives in ``x`` by differentiating the recurrence.

Gradients: PyTorch 2.13 has one only for ``gammainc``/``gammaincc`` in ``x``; gdl also gives the
analytic derivatives in ``x`` of every function here (``J₀' = −J₁``, ``K₀' = −K₁``, ``Ai'`` by
``Ai'(x) = −x/(π√3)·K_{2/3}(ζ)`` ...) and of ``zeta`` in ``q`` (``−x·ζ(x+1, q)``); none in ``a``
for ``gammainc``, ``x`` for ``zeta`` or ``n`` for the polynomials (``a``/``x``: a clear error
at backward, as PyTorch; ``n``: zero, as for a piecewise-constant argument).
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.functional import elementwise as _E
from gdl.functional import pointwise as _P
from gdl.functional.inplace import _apply
from gdl.functional.pointwise import _binary_result, _operands, _run, _tensor_pair
from gdl.functional.special import (
    _BERNOULLI,
    _HALF_LOG_2PI,
    _STIRLING,
    _bessel_i64,
    _horner,
    _lgamma64,
    _special_unary,
    lgamma,
)

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "gammainc", "gammaincc",
    "hermite_polynomial_h", "hermite_polynomial_he", "igamma", "igammac", "laguerre_polynomial_l",
    "legendre_polynomial_p", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "spherical_bessel_j0", "zeta",
]

_GAMMA = 0.57721566490153286061
_TWO_PI = 2.0 / math.pi


# -- binary ops computed in float64 ---------------------------------------------------------------


def _out_dtype(xp, xa, xb):
    fa, fb = dtypes.is_floating(xa.dtype), dtypes.is_floating(xb.dtype)
    if fa and fb:
        return xp.result_type(xa.dtype, xb.dtype)
    return xa.dtype if fa else xb.dtype


def _binary64(op, name, a, b, value64, grad_a, grad_b, graph_a=None, graph_b=None):
    """``value64(xp, wa, wb)`` on both operands in float64 (broadcast), rounded to the result
    dtype; ``grad_a(xp, wa, wb)`` / ``grad_b`` the derivatives (float64), ``graph_*(a, b, g)``
    the same on Tensors."""
    ta, tb, xa, xb, be = _operands(op, a, b, floating=True)
    xp = be.xp
    dtype = _out_dtype(xp, xa, xb)
    wa, wb = _run(op, lambda u, v: xp.broadcast_arrays(xp.astype(u, xp.float64), xp.astype(v, xp.float64)), xa, xb)
    out = xp.astype(value64(xp, wa, wb), dtype)
    ta_, tb_ = _tensor_pair(ta, tb, xa, xb, be)

    def grad(which, fn, t):
        def backward(g):
            if t is None or not t.requires_grad:
                return xp.zeros_like(g)
            if fn is None:
                raise NotImplementedError(f"{op}: the derivative with respect to {which} is not implemented")
            return g * xp.astype(fn(xp, wa, wb), g.dtype)
        return backward

    def graph(which, fn, t):
        def backward(g):
            if t is None or not t.requires_grad:
                return g * 0.0
            if fn is None:
                raise NotImplementedError(f"{op}: the derivative with respect to {which} is not implemented")
            return fn(ta_, tb_, g)
        return backward

    names = ("input", "other")
    return _binary_result(name, out, be, ta, tb, xa, xb, grad(names[0], grad_a, ta), grad(names[1], grad_b, tb),
                          graph(names[0], graph_a, ta), graph(names[1], graph_b, tb))


# -- the incomplete gamma functions ----------------------------------------------------------------


def _gamma_terms(xp, a):
    """Series terms / continued-fraction levels enough for every ``a`` up to about 1e4."""
    top = float(xp.max(a)) if a.size else 0.0
    return int(60 + 12 * math.sqrt(min(max(top, 0.0), 1e4)))


def _log_gamma_factor(xp, a, x):
    """``log(xᵃe⁻ˣ/Γ(a))`` for finite ``a, x > 0``; from a = 10 on, as
    ``a(log1p(t) − t) + ½log a − ½log 2π − S(a)`` (``t = x/a − 1``, ``S`` Stirling's series), which
    keeps the large terms ``a·log x``, ``x`` and ``lgamma(a)`` from cancelling."""
    direct = a * xp.log(x) - x - _lgamma64(xp, a)
    big = xp.maximum(a, 10.0)
    ratio = x / big
    t = ratio - 1.0
    inv = 1.0 / big
    # log1p(t) only near t = 0: for x << a, t ≈ −1 has lost the digits of x / a that log1p needs
    log_ratio = xp.where(xp.abs(t) < 0.5, xp.log1p(xp.maximum(t, -0.5)), xp.log(ratio))
    stirling = big * (log_ratio - t) + 0.5 * xp.log(big) - _HALF_LOG_2PI - inv * _horner(_STIRLING, inv * inv)
    return xp.where(a >= 10.0, stirling, direct)


def _igamma64(xp, a, x):
    """``(P(a, x), Q(a, x))`` for float64 ``a``, ``x`` (PyTorch's edges)."""
    bad = (a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x) | ((a == 0) & (x == 0)) | (xp.isinf(a) & xp.isinf(x))
    inner = ~bad & (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    sa, sx = xp.where(inner, a, 1.0), xp.where(inner, x, 1.0)
    log_pref = _log_gamma_factor(xp, sa, sx)
    terms = _gamma_terms(xp, sa)
    use_series = sx < sa + 1.0
    term = 1.0 / sa
    total = term
    for n in range(1, terms):
        term = term * sx / (sa + n)
        total = total + term
    p_series = xp.exp(log_pref) * total  # xᵃe⁻ˣ/Γ(a) · Σ xⁿ/(a(a+1)…(a+n))
    f = xp.zeros_like(sx)
    for k in range(terms, 0, -1):
        f = k * (k - sa) / (sx + (2 * k + 1) - sa - f)
    q_fraction = xp.exp(log_pref) / (sx + 1.0 - sa - f)
    p = xp.where(use_series, p_series, 1.0 - q_fraction)
    q = xp.where(use_series, 1.0 - p_series, q_fraction)
    one = (x == math.inf) | ((a == 0) & (x > 0))  # P = 1
    zero = (x == 0) | (a == math.inf)  # P = 0
    p = xp.where(one, 1.0, xp.where(zero, 0.0, p))
    q = xp.where(one, 0.0, xp.where(zero, 1.0, q))
    return xp.where(bad, math.nan, p), xp.where(bad, math.nan, q)


def _igamma_dx(xp, a, x):
    """``∂P/∂x = x^{a−1}e⁻ˣ/Γ(a)`` (0 outside the domain)."""
    inner = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    sa, sx = xp.where(inner, a, 1.0), xp.where(inner, x, 1.0)
    out = xp.exp(_log_gamma_factor(xp, sa, sx) - xp.log(sx))  # not exp(·)/x: xᵃ may underflow where xᵃ⁻¹ does not
    at_zero = xp.where(a < 1, math.inf, xp.where(a == 1, 1.0, xp.zeros_like(a)))
    return xp.where(inner, out, xp.where((x == 0) & (a > 0), at_zero, 0.0))


def _igamma_dx_graph(a, x, g):
    return g * _E.exp(_P.xlogy(a - 1.0, x) - x - lgamma(a))


def gammainc(input, other):
    """The regularized lower incomplete gamma function ``P(a, x) = γ(a, x)/Γ(a)`` (``a = input``,
    ``x = other``), as ``torch.special.gammainc`` / ``torch.igamma``: NaN for negative arguments
    and at ``a = x = 0``. Relative error about 2e-13 (measured against mpmath) for ``a`` up to 1e4;
    not guaranteed beyond (the series and fraction are cut at ``60 + 12√a`` terms).
    Backward in ``x``: ``x^{a−1}e⁻ˣ/Γ(a)``; none in ``a`` (an error, as PyTorch).

    >>> import gdl
    >>> gdl.special.gammainc(gdl.tensor([1.0, 2.0], dtype=gdl.float64), gdl.tensor([1.0, 1.0], dtype=gdl.float64))
    tensor([0.63212056, 0.26424112], backend='numpy', dtype=gdl.float64)
    """
    return _binary64("gammainc", "Igamma", input, other, lambda xp, a, x: _igamma64(xp, a, x)[0], None,
                     _igamma_dx, None, _igamma_dx_graph)


def gammaincc(input, other):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 − P(a, x)``, as
    ``torch.special.gammaincc`` / ``torch.igammac`` (see :func:`gammainc`; where ``a < 1`` and
    ``x < a + 1``, ``Q = 1 − P`` has absolute, not relative, accuracy 1e-16). Backward in ``x``:
    ``−x^{a−1}e⁻ˣ/Γ(a)``; none in ``a``."""
    return _binary64("gammaincc", "Igammac", input, other, lambda xp, a, x: _igamma64(xp, a, x)[1], None,
                     lambda xp, a, x: -_igamma_dx(xp, a, x), None, lambda a, x, g: -_igamma_dx_graph(a, x, g))


igamma = gammainc
igammac = gammaincc


def _igamma_(self, other):
    """``x.igamma_(other)``: :func:`gammainc` in place."""
    return _apply("igamma_", self, lambda: gammainc(self, other), other)


def _igammac_(self, other):
    """``x.igammac_(other)``: :func:`gammaincc` in place."""
    return _apply("igammac_", self, lambda: gammaincc(self, other), other)


# -- Hurwitz zeta -------------------------------------------------------------------------------------

_ZETA_SHIFT = 12
_EM_COEFFICIENTS = [float(b) / math.factorial(2 * j) for j, b in enumerate(_BERNOULLI[:14], start=1)]


def _zeta64(xp, s, q):
    """ζ(s, q) for float64 ``s``, ``q`` with PyTorch's edges: inf at ``s = 1`` and at
    ``q = 0, −1, −2, …``; NaN for ``s < 1``, for negative non-integer ``q`` unless ``s`` is an
    integer, and for infinite arguments."""
    finite = xp.isfinite(s) & xp.isfinite(q)
    pole_q = (q <= 0) & (q == xp.floor(q))
    bad = ~finite | (s < 1) | ((q < 0) & ~pole_q & (s != xp.floor(s)))
    inner = ~bad & ~pole_q & (s > 1)
    ss, sq = xp.where(inner, s, 2.0), xp.where(inner, q, 1.0)
    lowest = float(xp.min(sq)) if sq.size else 1.0
    shift = _ZETA_SHIFT + (int(math.ceil(-lowest)) if lowest < 0 else 0)
    if shift > 100_000:
        raise ValueError(f"zeta: q must be above -100000 (the sum is shifted past it term by term), got {lowest}")
    total = xp.zeros_like(ss)
    for k in range(shift):
        total = total + (sq + k) ** (-ss)
    w = sq + shift
    inv2 = 1.0 / (w * w)
    rising = ss  # s(s+1)…(s+2j−2)
    power = 1.0 / w  # w^{1−2j}
    tail = w / (ss - 1.0) + 0.5
    for j, c in enumerate(_EM_COEFFICIENTS, start=1):
        tail = tail + c * rising * power
        rising = rising * (ss + 2 * j - 1) * (ss + 2 * j)
        power = power * inv2
    out = total + tail * w ** (-ss)
    out = xp.where(pole_q | (s == 1), math.inf, out)
    return xp.where(bad, math.nan, out)


def _zeta_dq_graph(s, q, g):
    return -g * s * zeta(s + 1.0, q)


def zeta(input, other):
    """The Hurwitz zeta function ``ζ(x, q) = Σₖ₌₀^∞ (q + k)⁻ˣ`` (``x = input``, ``q = other``), as
    ``torch.special.zeta``: inf at ``x = 1`` and at ``q = 0, −1, …``, NaN for ``x < 1`` and at
    infinities. Relative error about 1e-15 (``x`` up to a few hundred). Backward in ``q``:
    ``−x·ζ(x + 1, q)`` (PyTorch has none); none in ``x`` (an error).

    >>> import gdl
    >>> gdl.special.zeta(gdl.tensor([2.0], dtype=gdl.float64), 1.0)  # π²/6
    tensor([1.64493407], backend='numpy', dtype=gdl.float64)
    """
    return _binary64("zeta", "Zeta", input, other, _zeta64, None,
                     lambda xp, s, q: -s * _zeta64(xp, s + 1.0, q), None, _zeta_dq_graph)


# -- Bessel functions J₀, J₁, Y₀, Y₁ -------------------------------------------------------------------

_SERIES_BELOW = 0.5
_MILLER_BELOW = 25.0
_MILLER_TOP = 80
_HANKEL_TERMS = 30


def _hankel_coefficients(nu, count=_HANKEL_TERMS):
    """``aₖ(ν) = (4ν² − 1)(4ν² − 9)…(4ν² − (2k − 1)²)/(k! 8ᵏ)``, k = 0..count−1."""
    out = [1.0]
    for k in range(1, count):
        out.append(out[-1] * (4.0 * nu * nu - (2 * k - 1) ** 2) / (8.0 * k))
    return out


def _hankel_pq(xp, z, nu):
    """Hankel's ``P(ν, z)``, ``Q(ν, z)`` (asymptotic series in 1/z)."""
    inv = 1.0 / z
    p = xp.zeros_like(z)
    q = xp.zeros_like(z)
    power = xp.ones_like(z)
    for k, c in enumerate(_hankel_coefficients(nu)):
        sign = -1.0 if (k // 2) % 2 else 1.0
        if k % 2:
            q = q + sign * c * power
        else:
            p = p + sign * c * power
        power = power * inv
    return p, q


def _bessel_series(xp, x, sign, terms):
    """The power series shared by (J, Y) (``sign`` -1) and (I, K) (``sign`` +1), with
    ``q = sign·x²/4``: ``(F₀, F₁, S₀, S₁, log(x/2))`` where ``F₀ = Σ qᵏ/(k!)²`` (J₀ or I₀),
    ``F₁ = (x/2) Σ qᵏ/(k!(k+1)!)`` (J₁ or I₁), ``S₀ = Σ H_k qᵏ/(k!)²`` and
    ``S₁ = Σ (ψ(k+1) + ψ(k+2)) qᵏ/(k!(k+1)!)``, ``terms`` terms."""
    q = sign * 0.25 * x * x
    f0 = f1 = xp.ones_like(x)
    s0 = xp.zeros_like(x)
    s1 = (1.0 - 2.0 * _GAMMA) * xp.ones_like(x)
    t0 = t1 = xp.ones_like(x)
    harmonic = 0.0
    for k in range(1, terms):
        t0 = t0 * q / (k * k)
        t1 = t1 * q / (k * (k + 1))
        harmonic = harmonic + 1.0 / k
        f0, f1 = f0 + t0, f1 + t1
        s0 = s0 + harmonic * t0
        s1 = s1 + (2.0 * harmonic + 1.0 / (k + 1) - 2.0 * _GAMMA) * t1
    log_half = xp.log(x) - math.log(2.0)  # not log(0.5 * x): 0.5 * 5e-324 underflows to 0
    return f0, 0.5 * x * f1, s0, s1, log_half


def _jy_series(xp, x):
    """``(J₀, J₁, Y₀, Y₁)`` by the power series, for ``0 < x <= 0.5``."""
    j0, j1, s0, s1, log_half = _bessel_series(xp, x, -1.0, 20)
    y0 = _TWO_PI * ((log_half + _GAMMA) * j0 - s0)
    y1 = -_TWO_PI / x + _TWO_PI * log_half * j1 - 0.5 * x * s1 / math.pi
    return j0, j1, y0, y1


def _miller(xp, z, nu, top, weights):
    """Miller's backward recurrence for ``J_{ν+m}(z)``, m = top..0 (unnormalised, rescaled as it
    grows): returns ``(j_ν, j_{ν+1}, [Σₘ w[m]·j_{ν+m} for w in weights])``."""
    upper = xp.zeros_like(z)
    current = xp.full_like(z, 1e-30)
    sums = [w[top] * current for w in weights]
    ones = xp.ones_like(z)
    for m in range(top, 0, -1):
        lower = (2.0 * (nu + m) / z) * current - upper
        upper, current = current, lower
        sums = [s + w[m - 1] * current for s, w in zip(sums, weights)]
        scale = xp.where(xp.abs(current) > 1e200, 1e-200, ones)
        upper, current = upper * scale, current * scale
        sums = [s * scale for s in sums]
    return current, upper, sums


def _integer_weights(top):
    """Weights of the normalisation ``J₀ + 2ΣJ₂ₖ``, of ``Σ(−1)ᵏJ₂ₖ/k`` and of
    ``Σ(−1)ᵏ(J₂ₖ₋₁ − J₂ₖ₊₁)/k``."""
    norm = [1.0 if m == 0 else (2.0 if m % 2 == 0 else 0.0) for m in range(top + 1)]
    even = [0.0 if m == 0 or m % 2 else (-1.0) ** (m // 2) / (m // 2) for m in range(top + 1)]
    odd = [0.0] * (top + 1)
    for m in range(1, top + 1, 2):
        i = m // 2
        odd[m] = (-1.0) ** (i + 1) * (1.0 / (i + 1) + (1.0 / i if i else 0.0))
    return [norm, even, odd]


_INTEGER_WEIGHTS = _integer_weights(_MILLER_TOP)


def _jy_miller(xp, x):
    """``(J₀, J₁, Y₀, Y₁)`` by Miller's recurrence and Neumann's series, for 0.5 <= x <= 25."""
    j0, j1, (norm, even, odd) = _miller(xp, x, 0.0, _MILLER_TOP, _INTEGER_WEIGHTS)
    j0, j1 = j0 / norm, j1 / norm
    log_term = xp.log(0.5 * x) + _GAMMA
    y0 = _TWO_PI * log_term * j0 - 2.0 * _TWO_PI * even / norm
    y1 = _TWO_PI * (log_term * j1 - j0 / x) + _TWO_PI * odd / norm
    return j0, j1, y0, y1


def _jy_hankel(xp, x):
    """``(J₀, J₁, Y₀, Y₁)`` by Hankel's expansions, for x >= 25 (phases from sin x, cos x)."""
    amplitude = xp.sqrt(_TWO_PI / x)
    c, s = xp.cos(x), xp.sin(x)
    r = 1.0 / math.sqrt(2.0)
    out = []
    for nu, cos_chi, sin_chi in ((0.0, (c + s) * r, (s - c) * r), (1.0, (s - c) * r, -(s + c) * r)):
        p, q = _hankel_pq(xp, x, nu)
        out.append((amplitude * (p * cos_chi - q * sin_chi), amplitude * (p * sin_chi + q * cos_chi)))
    (j0, y0), (j1, y1) = out
    return j0, j1, y0, y1


def _jy64(xp, x):
    """``(J₀, J₁, Y₀, Y₁)`` of float64 ``x``: J₀ even, J₁ odd, Y NaN for x < 0 and −inf at 0;
    all 0 at ±inf."""
    a = xp.abs(x)
    small = xp.where((a > 0) & (a < _SERIES_BELOW), a, _SERIES_BELOW)
    middle = xp.clip(a, _SERIES_BELOW, _MILLER_BELOW)
    large = xp.where(xp.isfinite(a) & (a > _MILLER_BELOW), a, _MILLER_BELOW)
    parts = (_jy_series(xp, small), _jy_miller(xp, middle), _jy_hankel(xp, large))
    pick = [xp.where(a < _SERIES_BELOW, s, xp.where(a <= _MILLER_BELOW, m, h)) for s, m, h in zip(*parts)]
    j0, j1, y0, y1 = pick
    j0 = xp.where(a == 0, 1.0, j0)
    j1 = xp.where(a == 0, 0.0, xp.where(x < 0, -j1, j1))
    y0 = xp.where(a == 0, -math.inf, xp.where(x < 0, math.nan, y0))
    y1 = xp.where(a == 0, -math.inf, xp.where(x < 0, math.nan, y1))
    inf = xp.isinf(x)
    out = [xp.where(inf, 0.0, v) for v in (j0, j1, y0, y1)]
    out[2] = xp.where(x == -math.inf, math.nan, out[2])
    out[3] = xp.where(x == -math.inf, math.nan, out[3])
    nan = xp.isnan(x)
    return [xp.where(nan, x, v) for v in out]


def _over_x(xp, num, x, at_zero):
    nonzero = x != 0
    return xp.where(nonzero, num / xp.where(nonzero, x, 1.0), at_zero)


def _tensor_over_x(num, x, at_zero):
    zero = x.data == 0
    return _E.where(zero, at_zero, num / _E.where(zero, 1.0, x))


def bessel_j0(input):
    """The Bessel function of the first kind of order 0, as ``torch.special.bessel_j0`` (0 at
    ±inf, where PyTorch gives NaN). Absolute error about 1e-16 (relative 1e-15 away from its
    zeros). Backward ``−g·J₁(x)`` (PyTorch has none)."""
    return _special_unary("bessel_j0", "BesselJ0", input, lambda xp, w: _jy64(xp, w)[0],
                          lambda xp, w: -_jy64(xp, w)[1], lambda x, g: -g * bessel_j1(x))


def bessel_j1(input):
    """The Bessel function of the first kind of order 1 (odd; see :func:`bessel_j0`). Backward
    ``g·(J₀(x) − J₁(x)/x)`` (½ at 0)."""
    def derivative(xp, w):
        j0, j1 = _jy64(xp, w)[:2]
        return j0 - _over_x(xp, j1, w, 0.5)

    return _special_unary("bessel_j1", "BesselJ1", input, lambda xp, w: _jy64(xp, w)[1], derivative,
                          lambda x, g: g * (bessel_j0(x) - _tensor_over_x(bessel_j1(x), x, 0.5)))


def bessel_y0(input):
    """The Bessel function of the second kind of order 0 (−inf at 0, NaN below), as
    ``torch.special.bessel_y0`` (0 at +inf). Backward ``−g·Y₁(x)``."""
    return _special_unary("bessel_y0", "BesselY0", input, lambda xp, w: _jy64(xp, w)[2],
                          lambda xp, w: -_jy64(xp, w)[3], lambda x, g: -g * bessel_y1(x))


def bessel_y1(input):
    """The Bessel function of the second kind of order 1 (−inf at 0, NaN below). Backward
    ``g·(Y₀(x) − Y₁(x)/x)``."""
    def derivative(xp, w):
        _, _, y0, y1 = _jy64(xp, w)
        return y0 - _over_x(xp, y1, w, math.inf)

    return _special_unary("bessel_y1", "BesselY1", input, lambda xp, w: _jy64(xp, w)[3], derivative,
                          lambda x, g: g * (bessel_y0(x) - bessel_y1(x) / x))


def spherical_bessel_j0(input):
    """``sin(x)/x`` (1 at 0, 0 at ±inf), as ``torch.special.spherical_bessel_j0``. Backward
    ``g·(cos x − sin(x)/x)/x`` (its series near 0)."""
    return _special_unary("spherical_bessel_j0", "SphericalBesselJ0", input, _sinc64, _sinc_derivative64,
                          lambda x, g: g * _spherical_derivative(x))


def _sinc64(xp, x):
    a = xp.abs(x)
    small = xp.minimum(a, 0.5)
    q = small * small
    series = xp.ones_like(q)
    for k in range(10, 0, -1):  # 1 − q/3!·(1 − q/(4·5)·(1 − …))
        series = 1.0 - q / ((2 * k) * (2 * k + 1)) * series
    big = xp.where((a > 0.5) & xp.isfinite(a), a, 1.0)
    out = xp.where(a <= 0.5, series, xp.sin(big) / big)
    return xp.where(xp.isinf(x), 0.0, xp.where(xp.isnan(x), x, out))


def _sinc_derivative64(xp, x):
    """``(x cos x − sin x)/x²``: its series below |x| = 0.5 (no cancellation)."""
    small = xp.clip(x, -0.5, 0.5)
    q = small * small
    term = -small / 3.0
    series = term
    for k in range(2, 10):
        term = -term * q * (2 * k) / ((2 * k - 2) * (2 * k) * (2 * k + 1))
        series = series + term
    big = xp.where((xp.abs(x) > 0.5) & xp.isfinite(x), x, 1.0)
    direct = (big * xp.cos(big) - xp.sin(big)) / (big * big)
    return xp.where(xp.abs(x) <= 0.5, series, xp.where(xp.isinf(x), 0.0, direct))


def _spherical_derivative(x):
    return _P.cos(x) / x - _P.sin(x) / (x * x)


# -- modified Bessel functions I₀, I₁, K₀, K₁ -----------------------------------------------------------

_K_SERIES_UP_TO = 2.0
_TRAPEZOID_STEP = 1.0 / 16.0
_TRAPEZOID_NODES = [j * _TRAPEZOID_STEP for j in range(int(5.5 / _TRAPEZOID_STEP) + 1)]


def _k_series(xp, x):
    """``(K₀, K₁)`` by the power series, for ``0 < x <= 2``."""
    i0, i1, s0, s1, log_half = _bessel_series(xp, x, 1.0, 30)
    k0 = -(log_half + _GAMMA) * i0 + s0
    k1 = 1.0 / x + log_half * i1 - 0.25 * x * s1
    return k0, k1


def _k_scaled_integral(xp, z, nu):
    """``eᶻK_ν(z) = ∫₀^∞ e^{−z(cosh t − 1)} cosh(νt) dt`` by the trapezoidal rule (for z >= 0.5)."""
    total = xp.zeros_like(z)
    for j, t in enumerate(_TRAPEZOID_NODES):
        weight = (0.5 if j == 0 else 1.0) * math.cosh(nu * t)
        total = total + weight * xp.exp(-z * (2.0 * math.sinh(0.5 * t) ** 2))
    return _TRAPEZOID_STEP * total


def _k_scaled_asymptotic(xp, z, nu):
    """``eᶻK_ν(z) ~ √(π/(2z)) Σ aₖ(ν)/zᵏ`` (for z >= 25)."""
    inv = 1.0 / z
    total = xp.zeros_like(z)
    power = xp.ones_like(z)
    for c in _hankel_coefficients(nu):
        total = total + c * power
        power = power * inv
    return xp.sqrt(0.5 * math.pi * inv) * total


def _k_scaled(xp, z, nu):
    """``eᶻK_ν(z)`` for ``z >= 0.5`` (finite): the integral up to 25, the expansion above."""
    middle = xp.minimum(z, _MILLER_BELOW)
    large = xp.maximum(z, _MILLER_BELOW)
    return xp.where(z <= _MILLER_BELOW, _k_scaled_integral(xp, middle, nu), _k_scaled_asymptotic(xp, large, nu))


def _k64(xp, x, scaled):
    """``(K₀, K₁)`` of float64 ``x`` (times ``eˣ`` if ``scaled``): inf at 0, NaN below, 0 at inf."""
    inner = (x > 0) & xp.isfinite(x)
    small = xp.where(inner & (x <= _K_SERIES_UP_TO), x, 1.0)
    big = xp.where(inner & (x > _K_SERIES_UP_TO), x, 3.0)
    series = _k_series(xp, small)
    out = []
    for nu, s in zip((0.0, 1.0), series):
        rest = _k_scaled(xp, big, nu)
        if scaled:
            value = xp.where(x <= _K_SERIES_UP_TO, s * xp.exp(small), rest)
        else:
            value = xp.where(x <= _K_SERIES_UP_TO, s, rest * xp.exp(-big))
        value = xp.where(x == 0, math.inf, xp.where(x < 0, math.nan, value))
        value = xp.where(x == math.inf, 0.0, value)
        out.append(xp.where(xp.isnan(x), x, value))
    return out


def modified_bessel_i0(input):
    """The modified Bessel function of the first kind of order 0 (as :func:`gdl.i0`; inf at ±inf
    where PyTorch gives NaN). Backward ``g·I₁(x)`` (PyTorch has none)."""
    return _special_unary("modified_bessel_i0", "ModifiedBesselI0", input, lambda xp, w: _bessel_i64(xp, w, 0),
                          lambda xp, w: _bessel_i64(xp, w, 1), lambda x, g: g * modified_bessel_i1(x))


def modified_bessel_i1(input):
    """The modified Bessel function of the first kind of order 1 (odd). Backward
    ``g·(I₀(x) − I₁(x)/x)`` (½ at 0)."""
    def derivative(xp, w):
        return _bessel_i64(xp, w, 0) - _over_x(xp, _bessel_i64(xp, w, 1), w, 0.5)

    return _special_unary(
        "modified_bessel_i1", "ModifiedBesselI1", input, lambda xp, w: _bessel_i64(xp, w, 1), derivative,
        lambda x, g: g * (modified_bessel_i0(x) - _tensor_over_x(modified_bessel_i1(x), x, 0.5)))


def modified_bessel_k0(input):
    """The modified Bessel function of the second kind of order 0 (inf at 0, NaN below, 0 at
    inf), as ``torch.special.modified_bessel_k0``. Relative error about 1e-15. Backward
    ``−g·K₁(x)`` (PyTorch has none)."""
    return _special_unary("modified_bessel_k0", "ModifiedBesselK0", input, lambda xp, w: _k64(xp, w, False)[0],
                          lambda xp, w: -_k64(xp, w, False)[1], lambda x, g: -g * modified_bessel_k1(x))


def modified_bessel_k1(input):
    """The modified Bessel function of the second kind of order 1. Backward
    ``−g·(K₀(x) + K₁(x)/x)``."""
    def derivative(xp, w):
        k0, k1 = _k64(xp, w, False)
        return -k0 - _over_x(xp, k1, w, math.inf)

    return _special_unary("modified_bessel_k1", "ModifiedBesselK1", input, lambda xp, w: _k64(xp, w, False)[1],
                          derivative, lambda x, g: -g * (modified_bessel_k0(x) + modified_bessel_k1(x) / x))


def scaled_modified_bessel_k0(input):
    """``eˣ·K₀(x)`` (finite for large ``x``). Backward ``g·(eˣK₀ − eˣK₁)``."""
    def derivative(xp, w):
        k0, k1 = _k64(xp, w, True)
        return k0 - k1

    return _special_unary(
        "scaled_modified_bessel_k0", "ScaledModifiedBesselK0", input, lambda xp, w: _k64(xp, w, True)[0],
        derivative, lambda x, g: g * (scaled_modified_bessel_k0(x) - scaled_modified_bessel_k1(x)))


def scaled_modified_bessel_k1(input):
    """``eˣ·K₁(x)``. Backward ``g·(eˣK₁ − eˣK₀ − eˣK₁/x)``."""
    def derivative(xp, w):
        k0, k1 = _k64(xp, w, True)
        return k1 - k0 - _over_x(xp, k1, w, math.inf)

    def graph(x, g):
        k1 = scaled_modified_bessel_k1(x)
        return g * (k1 - scaled_modified_bessel_k0(x) - k1 / x)

    return _special_unary("scaled_modified_bessel_k1", "ScaledModifiedBesselK1", input,
                          lambda xp, w: _k64(xp, w, True)[1], derivative, graph)


# -- Airy Ai ----------------------------------------------------------------------------------------

_AI0 = 0.35502805388781723926  # Ai(0) = 3^{−2/3}/Γ(2/3)
_AIP0 = -0.25881940379280679840  # Ai'(0) = −3^{−1/3}/Γ(1/3)
_AIRY_SERIES_FROM = -2.0
_AIRY_SERIES_TO = 1.0
_AIRY_ASYMPTOTIC_BELOW = -9.7
_AIRY_MILLER_TOP = 60


def _airy_series(xp, x):
    """``(Ai(x), Ai'(x))`` by the Maclaurin series ``Ai = Ai(0)·f + Ai'(0)·g``."""
    cube = x * x * x
    f = tf = xp.ones_like(x)
    g = tg = x
    fp = xp.zeros_like(x)  # f'
    gp = xp.ones_like(x)  # g'
    for k in range(1, 40):
        tf = tf * cube / ((3 * k - 1) * (3 * k))
        tg = tg * cube / ((3 * k) * (3 * k + 1))
        f, g = f + tf, g + tg
        fp = fp + 3 * k * tf / xp.where(x == 0, 1.0, x)
        gp = gp + (3 * k + 1) * tg / xp.where(x == 0, 1.0, x)
    return _AI0 * f + _AIP0 * g, _AI0 * fp + _AIP0 * gp


def _fractional_weights(nu, top):
    """Weights of ``(z/2)^ν = Σₖ (ν + 2k)Γ(ν + k)/k! · J_{ν+2k}(z)``."""
    out = [0.0] * (top + 1)
    for k in range(top // 2 + 1):
        out[2 * k] = math.gamma(nu + 1.0) if k == 0 else (nu + 2 * k) * math.gamma(nu + k) / math.factorial(k)
    return out


_AIRY_WEIGHTS = {nu: _fractional_weights(nu, _AIRY_MILLER_TOP) for nu in (1 / 3, -1 / 3, 2 / 3, -2 / 3)}


def _bessel_j_fractional(xp, z, nu):
    j, _, (norm,) = _miller(xp, z, nu, _AIRY_MILLER_TOP, [_AIRY_WEIGHTS[nu]])
    return j * (0.5 * z) ** nu / norm


def _airy_negative(xp, x):
    """``(Ai(x), Ai'(x))`` for −9.7 <= x <= −2: ``Ai(−t) = √t/3·(J_{1/3} + J_{−1/3})(ζ)``,
    ``Ai'(−t) = t/3·(J_{2/3} − J_{−2/3})(ζ)``."""
    t = -x
    zeta_ = (2.0 / 3.0) * t * xp.sqrt(t)
    j = {nu: _bessel_j_fractional(xp, zeta_, nu) for nu in _AIRY_WEIGHTS}
    return xp.sqrt(t) / 3.0 * (j[1 / 3] + j[-1 / 3]), t / 3.0 * (j[2 / 3] - j[-2 / 3])


def _airy_coefficients(count=30):
    """``uₖ`` of Ai's asymptotic expansions, ``u₀ = 1``, ``uₖ = (6k−5)(6k−3)(6k−1)/((2k−1)216k)·uₖ₋₁``;
    ``vₖ = −(6k+1)/(6k−1)·uₖ`` for the derivative."""
    u = [1.0]
    for k in range(1, count):
        u.append(u[-1] * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k))
    v = [1.0] + [-(6 * k + 1) / (6 * k - 1) * u[k] for k in range(1, count)]
    return u, v


_AIRY_U, _AIRY_V = _airy_coefficients()


def _airy_far_negative(xp, x):
    """``(Ai(x), Ai'(x))`` for x <= −9.7 by the oscillatory asymptotic expansions."""
    t = -x
    root = xp.sqrt(t)
    zeta_ = (2.0 / 3.0) * t * root
    inv = 1.0 / zeta_
    sums = []
    for coefficients in (_AIRY_U, _AIRY_V):
        even = xp.zeros_like(t)
        odd = xp.zeros_like(t)
        power = xp.ones_like(t)
        for k, c in enumerate(coefficients):
            sign = -1.0 if (k // 2) % 2 else 1.0
            if k % 2:
                odd = odd + sign * c * power
            else:
                even = even + sign * c * power
            power = power * inv
        sums.append((even, odd))
    phase = zeta_ + 0.25 * math.pi
    s, c = xp.sin(phase), xp.cos(phase)
    quarter = xp.sqrt(root)
    (ue, uo), (ve, vo) = sums
    ai = (s * ue - c * uo) / (math.sqrt(math.pi) * quarter)
    aip = -quarter * (c * ve + s * vo) / math.sqrt(math.pi)
    return ai, aip


def _airy64(xp, x):
    """``(Ai(x), Ai'(x))`` of float64 ``x``; 0 at ±inf."""
    series = _airy_series(xp, xp.clip(x, _AIRY_SERIES_FROM, _AIRY_SERIES_TO))
    negative = _airy_negative(xp, xp.clip(x, _AIRY_ASYMPTOTIC_BELOW, _AIRY_SERIES_FROM))
    far = _airy_far_negative(xp, xp.where((x < _AIRY_ASYMPTOTIC_BELOW) & xp.isfinite(x), x, _AIRY_ASYMPTOTIC_BELOW))
    pos = xp.where(xp.isfinite(x) & (x > _AIRY_SERIES_TO), x, 2.0)
    root = xp.sqrt(pos)
    zeta_ = (2.0 / 3.0) * pos * root
    decay = xp.exp(-zeta_) / math.pi
    positive = (root / math.sqrt(3.0) * decay * _k_scaled(xp, zeta_, 1 / 3),
                -pos / math.sqrt(3.0) * decay * _k_scaled(xp, zeta_, 2 / 3))
    out = []
    for s, n, f, p in zip(series, negative, far, positive):
        value = xp.where(x > _AIRY_SERIES_TO, p, xp.where(x >= _AIRY_SERIES_FROM, s,
                                                          xp.where(x >= _AIRY_ASYMPTOTIC_BELOW, n, f)))
        value = xp.where(xp.isinf(x), 0.0, value)
        out.append(xp.where(xp.isnan(x), x, value))
    return out


def airy_ai(input):
    """Airy's function Ai(x), as ``torch.special.airy_ai`` (0 at ±inf, where PyTorch gives NaN).
    Relative error about 1e-14 for x >= −2; below, absolute error about 1e-15·|x|^{3/2}
    (the phase ``2/3·|x|^{3/2}`` is rounded). Backward ``g·Ai'(x)`` (PyTorch has none; no
    second order)."""
    return _special_unary("airy_ai", "AiryAi", input, lambda xp, w: _airy64(xp, w)[0],
                          lambda xp, w: _airy64(xp, w)[1])


# -- orthogonal polynomials ----------------------------------------------------------------------------
# Each family as (p₁ = αx + β, and the recurrence p_{k+1} = (aₖx + bₖ)p_k − cₖp_{k−1} as k -> (a, b, c)).

_FAMILIES = {
    "chebyshev_polynomial_t": ((1.0, 0.0), lambda k: (2.0, 0.0, 1.0)),
    "chebyshev_polynomial_u": ((2.0, 0.0), lambda k: (2.0, 0.0, 1.0)),
    "chebyshev_polynomial_v": ((2.0, -1.0), lambda k: (2.0, 0.0, 1.0)),
    "chebyshev_polynomial_w": ((2.0, 1.0), lambda k: (2.0, 0.0, 1.0)),
    "shifted_chebyshev_polynomial_t": ((2.0, -1.0), lambda k: (4.0, -2.0, 1.0)),
    "shifted_chebyshev_polynomial_u": ((4.0, -2.0), lambda k: (4.0, -2.0, 1.0)),
    "shifted_chebyshev_polynomial_v": ((4.0, -3.0), lambda k: (4.0, -2.0, 1.0)),
    "shifted_chebyshev_polynomial_w": ((4.0, -1.0), lambda k: (4.0, -2.0, 1.0)),
    "hermite_polynomial_h": ((2.0, 0.0), lambda k: (2.0, 0.0, 2.0 * k)),
    "hermite_polynomial_he": ((1.0, 0.0), lambda k: (1.0, 0.0, float(k))),
    "laguerre_polynomial_l": ((-1.0, 1.0), lambda k: (-1.0 / (k + 1), (2 * k + 1) / (k + 1), k / (k + 1))),
    "legendre_polynomial_p": ((1.0, 0.0), lambda k: ((2 * k + 1) / (k + 1), 0.0, k / (k + 1))),
}


_MAX_DEGREE = 1_000_000


def _polynomial64(xp, family, x, n, order):
    """The ``order``-th x-derivative of ``p_n(x)`` (float64), by the recurrence differentiated
    ``order`` times; ``n`` truncated toward zero, 0 for n < 0."""
    (alpha, beta), step = _FAMILIES[family]
    finite = xp.isfinite(n)
    n = xp.where(finite, xp.trunc(n), -1.0)
    top = int(float(xp.max(n))) if n.size else 0
    if top > _MAX_DEGREE:
        raise ValueError(f"{family}: n must be at most {_MAX_DEGREE} (the recurrence takes n steps), got {top}")
    prev = [xp.ones_like(x)] + [xp.zeros_like(x)] * order  # derivatives 0..order of p₀
    cur = [alpha * x + beta, xp.full_like(x, alpha)] + [xp.zeros_like(x)] * order
    cur = cur[:order + 1]
    out = xp.where(n == 0, prev[order], xp.where(n == 1, cur[order], 0.0))
    for k in range(1, top):
        a, b, c = step(k)
        nxt = [(a * x + b) * cur[m] - c * prev[m] + (m * a * cur[m - 1] if m else 0.0) for m in range(order + 1)]
        prev, cur = cur, nxt
        out = xp.where(n == k + 1, cur[order], out)
    return xp.where(finite, out, math.nan)


def _polynomial(family, input, n, order=0):
    def graph_x(x, nn, g):
        return g * _polynomial(family, x, nn, order + 1)

    return _binary64(family, "".join(p.title() for p in family.split("_")) + ("" if not order else f"D{order}"),
                     input, n, lambda xp, x, nn: _polynomial64(xp, family, x, nn, order),
                     lambda xp, x, nn: _polynomial64(xp, family, x, nn, order + 1), lambda xp, x, nn: xp.zeros_like(x),
                     graph_x, lambda x, nn, g: g * 0.0)


def _make_polynomial(family, formula):
    def polynomial(input, n):
        return _polynomial(family, input, n)

    polynomial.__name__ = polynomial.__qualname__ = family
    polynomial.__doc__ = (
        f"{formula}, as ``torch.special.{family}(input, n)``: ``n`` an integer-valued tensor or number "
        f"(truncated toward zero; 0 for negative ``n``), broadcast against ``input``. By the three-term "
        f"recurrence in float64 (``n`` steps; relative error about n·1e-16 where the polynomial is "
        f"well-conditioned). Backward in ``x`` by the differentiated recurrence (PyTorch has none); "
        f"zero in ``n``. NaN ``x`` gives NaN (PyTorch gives numbers for some)."
    )
    return polynomial


chebyshev_polynomial_t = _make_polynomial("chebyshev_polynomial_t", "The Chebyshev polynomial Tₙ(x)")
chebyshev_polynomial_u = _make_polynomial("chebyshev_polynomial_u", "The Chebyshev polynomial Uₙ(x)")
chebyshev_polynomial_v = _make_polynomial("chebyshev_polynomial_v", "The Chebyshev polynomial Vₙ(x)")
chebyshev_polynomial_w = _make_polynomial("chebyshev_polynomial_w", "The Chebyshev polynomial Wₙ(x)")
shifted_chebyshev_polynomial_t = _make_polynomial("shifted_chebyshev_polynomial_t", "Tₙ(2x − 1)")
shifted_chebyshev_polynomial_u = _make_polynomial("shifted_chebyshev_polynomial_u", "Uₙ(2x − 1)")
shifted_chebyshev_polynomial_v = _make_polynomial("shifted_chebyshev_polynomial_v", "Vₙ(2x − 1)")
shifted_chebyshev_polynomial_w = _make_polynomial("shifted_chebyshev_polynomial_w", "Wₙ(2x − 1)")
hermite_polynomial_h = _make_polynomial("hermite_polynomial_h", "The physicists' Hermite polynomial Hₙ(x)")
hermite_polynomial_he = _make_polynomial("hermite_polynomial_he", "The probabilists' Hermite polynomial Heₙ(x)")
laguerre_polynomial_l = _make_polynomial("laguerre_polynomial_l", "The Laguerre polynomial Lₙ(x)")
legendre_polynomial_p = _make_polynomial("legendre_polynomial_p", "The Legendre polynomial Pₙ(x)")


TENSOR_METHODS: dict = {"igamma": gammainc, "igammac": gammaincc, "igamma_": _igamma_, "igammac_": _igammac_}
