"""Gradient checking: compare autograd with central finite differences.

>>> import gdl
>>> from gdl.testing import gradcheck
>>> x = gdl.randn(3, 4, dtype=gdl.float64, requires_grad=True)
>>> gradcheck(lambda t: (t.tanh() * t).sum(), [x])
True
"""

from __future__ import annotations

from gdl.tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, seed_grad=None) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    ``fn`` maps the tensors ``inputs`` to one output tensor. The output is reduced
    to a scalar with fixed random weights (so every output element matters), the
    analytic gradient comes from ``backward()``, and the numeric one from central
    differences in float64. Raises :class:`GradcheckError` naming the input, the
    worst element's index and both values; returns True otherwise.
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if t.requires_grad and t.dtype != "float64":
            raise TypeError(f"gradcheck: input {i} is {t.dtype.name}; use float64 inputs")
    out = fn(*inputs)
    be = out._backend
    xp = be.xp
    from gdl.backends import host

    rng = host.random_weights(out.shape, seed=0) if seed_grad is None else seed_grad
    weights = be.from_host(rng)
    weights = xp.astype(weights, out.data.dtype)

    def scalar(*args):
        o = fn(*args)
        return o * Tensor._wrap(weights, be) if o.ndim else o * float(rng.reshape(()))

    for t in inputs:
        t.grad = None
    s = scalar(*inputs).sum()
    s.backward()
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        analytic = host.asarray(t.grad.numpy() if t.grad is not None else t.numpy() * 0.0).astype("float64")
        base = t.numpy().astype("float64")
        numeric = host.asarray(base * 0.0)  # an array even for 0-d inputs (a scalar would not be written through)
        flat = base.reshape(-1)
        num_flat = numeric.reshape(-1)
        with no_grad():
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                t.data = be.from_host(base)
                plus = scalar(*inputs).sum().item()
                flat[j] = old - eps
                t.data = be.from_host(base)
                minus = scalar(*inputs).sum().item()
                flat[j] = old
                num_flat[j] = (plus - minus) / (2 * eps)
            t.data = be.from_host(base)
        host.assert_close_or_raise(analytic, numeric, atol, rtol, GradcheckError, f"input {i}")
    return True
