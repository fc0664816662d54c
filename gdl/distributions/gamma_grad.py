"""Reparameterised gamma draws: the implicit-function gradient of a Gamma(alpha, 1) draw
``x`` with respect to ``alpha``,

    dx/dalpha = -(dP/dalpha)(alpha, x) / f(x; alpha),

``P`` the regularised lower incomplete gamma function (the cdf) and ``f`` the density,
computed in float64 with no cdf or density evaluated on its own (their ratio is formed
term by term, so nothing under- or overflows):

- ``x <= max(alpha + 1 + 3 sqrt(alpha), 5)``: the series ``P = sum_n x^(alpha+n) e^-x /
  Gamma(alpha+n+1)`` differentiated term by term, ``dx/dalpha = -sum_n r_n (log x -
  digamma(alpha+n+1))`` with ``r_0 = x / alpha``, ``r_n = r_(n-1) x / (alpha+n)`` (run until
  the terms are below 1e-17 of the sum: about ``13 sqrt(alpha)`` terms at most, so the cost
  grows with the largest ``alpha`` in the batch);
- beyond (the right tail, where the series would cancel): ``dP/dalpha = -int_x^inf
  (log t - digamma(alpha)) f(t) dt``, with ``t = x + s / lam``, ``lam = (x - alpha + 1) / x``
  and 64-point Gauss-Laguerre quadrature in ``s``.

>>> import gdl
>>> from gdl.distributions.gamma_grad import standard_gamma_grad
>>> standard_gamma_grad(gdl.tensor([0.5, 3.0], dtype=gdl.float64), gdl.tensor([1.0, 2.0], dtype=gdl.float64))
tensor([0.80697912, 1.32179852], backend='numpy', dtype=gdl.float64)
"""

from __future__ import annotations

from functools import lru_cache

import gdl
from gdl.tensor import Tensor

__all__ = ["StandardGamma", "standard_gamma_grad"]

_NODES = 64


def _laguerre(n: int, z: float) -> tuple:
    """``(L_n(z), L_(n-1)(z))`` by the three-term recurrence ``(k+1) L_(k+1) = (2k+1-z) L_k - k L_(k-1)``."""
    previous, current = 0.0, 1.0
    for k in range(n):
        previous, current = current, ((2 * k + 1 - z) * current - k * previous) / (k + 1)
    return current, previous


@lru_cache(maxsize=None)
def _gauss_laguerre(n: int) -> tuple:
    """Nodes and weights of ``n``-point Gauss-Laguerre quadrature. The nodes are the eigenvalues
    of the Laguerre polynomials' Jacobi matrix (diagonal ``2k+1``, off-diagonal ``k``; Golub and
    Welsch), each polished by Newton steps on ``L_n`` (``z L_n' = n (L_n - L_(n-1))``); the
    weights are ``z / ((n+1) L_(n+1)(z))^2``."""
    k = gdl.arange(n, dtype=gdl.float64)
    off = gdl.arange(1, n, dtype=gdl.float64)
    jacobi = gdl.diag(2 * k + 1) + gdl.diag(off, 1) + gdl.diag(off, -1)
    xs, ws = [], []
    for z in sorted(gdl.linalg.eigvalsh(jacobi).tolist()):
        for _ in range(3):
            value, below = _laguerre(n, z)
            z -= value * z / (n * (value - below))
        xs.append(z)
        ws.append(z / ((n + 1) * _laguerre(n + 1, z)[0]) ** 2)
    total = sum(ws)  # 1 - O(1e-13) from rounding: renormalise so that constants integrate exactly
    return tuple(xs), tuple(w / total for w in ws)


def standard_gamma_grad(x: Tensor, alpha: Tensor) -> Tensor:
    """``dx/dalpha`` at draws ``x`` of Gamma(``alpha``, 1) (same shapes), without a graph
    (NaN where ``x`` or ``alpha`` is not finite and positive)."""
    with gdl.no_grad():
        dtype = x.dtype
        x64, a = x.detach().to(dtype=gdl.float64), alpha.detach().to(dtype=gdl.float64)
        inf = float("inf")
        valid = gdl.logical_and(gdl.logical_and(x64 > 0, x64 < inf), gdl.logical_and(a > 0, a < inf))
        a = gdl.where(valid, a, 1.0)
        x64 = gdl.where(valid, x64, 1.0)
        edge = a + 1 + 3 * a.sqrt()
        tail = x64 > gdl.where(edge > 5.0, edge, 5.0)
        out = gdl.where(tail, _tail_grad(gdl.where(tail, x64, edge + 1), a), _series_grad(gdl.where(tail, a, x64), a))
        return gdl.where(valid, out, float("nan")).to(dtype=dtype)


def _series_grad(x: Tensor, a: Tensor) -> Tensor:
    log_x = x.log()
    r = x / a
    psi = gdl.digamma(a + 1)
    total = -r * (log_x - psi)
    n = 0
    while True:
        for _ in range(16):
            n += 1
            r = r * x / (a + n)
            psi = psi + 1 / (a + n)
            term = r * (log_x - psi)
            total = total - term
        past_peak = bool((x - a < n).all().item())
        small = bool((term.abs() <= 1e-17 * total.abs()).all().item())
        if past_peak and small:
            return total


def _tail_grad(x: Tensor, a: Tensor) -> Tensor:
    nodes, weights = _gauss_laguerre(_NODES)
    shape = (_NODES,) + (1,) * x.ndim
    s = gdl.tensor(list(nodes), dtype=gdl.float64, backend=x.backend).reshape(shape)
    w = gdl.tensor(list(weights), dtype=gdl.float64, backend=x.backend).reshape(shape)
    lam = (x - a + 1) / x
    u = s / (lam * x)
    h = ((x + s / lam).log() - gdl.digamma(a)) * ((a - 1) * (u.log1p() - u)).exp()
    return (w * h).sum(0) / lam


class StandardGamma(gdl.autograd.Function):
    """Draws of Gamma(``alpha``, 1), one per element of ``alpha``, differentiable in
    ``alpha`` through the implicit gradient."""

    @staticmethod
    def forward(ctx, alpha):
        from gdl.distributions.gamma_family import standard_gamma

        x = standard_gamma(alpha, alpha.shape)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(x, alpha)
