"""Testing helpers, as ``torch.testing``: :func:`assert_close` (values within tolerances
chosen by dtype), :func:`make_tensor` (random test inputs) and :func:`gradcheck`
(autograd against central finite differences).

>>> import gdl
>>> from gdl.testing import gradcheck
>>> x = gdl.randn(3, 4, dtype=gdl.float64, requires_grad=True)
>>> gradcheck(lambda t: (t.tanh() * t).sum(), [x])
True
>>> gdl.testing.assert_close(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 2.5]))
Traceback (most recent call last):
    ...
AssertionError: Tensor-likes are not close!
<BLANKLINE>
Mismatched elements: 1 / 2 (50.0%)
Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
Greatest relative difference: 0.2 at index (1,) (up to 1.3e-06 allowed)
"""

from __future__ import annotations

import math

from gdl import dtypes
from gdl.tensor import Tensor, no_grad
from gdl.tensor import rand as _rand
from gdl.tensor import randint as _randint

# PyTorch's default (rtol, atol) by dtype; integers and bools compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan: bool = False, check_dtype: bool = True,
                 check_device: bool = True, msg=None) -> None:
    """Raise an AssertionError unless ``actual`` and ``expected`` are close, as
    ``torch.testing.assert_close``: ``|actual − expected| <= atol + rtol·|expected|`` element
    by element, with ``rtol``/``atol`` chosen by dtype unless both are given (float32:
    1.3e-6 and 1e-5; float64: 1e-7 and 1e-7; float16: 1e-3 and 1e-5; integers exactly).
    Shapes must match, and (by default) dtypes and backends. Tensors, Python numbers, and
    lists, tuples or dicts of them (compared item by item) are accepted; NaNs count as
    equal only with ``equal_nan=True``. The message says how many elements differ and
    where the largest differences are; ``msg`` replaces it.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"assert_close: both 'rtol' and 'atol' must be either specified or omitted, got rtol={rtol!r}, "
            f"atol={atol!r}"
        )
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg, [])


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg, path):
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", msg, path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, check_device, msg, path + [i])
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(repr, actual))} != "
                  f"{sorted(map(repr, expected))}", msg, path)
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, check_device, msg, path + [key])
        return
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_device, msg, path)
        return
    numbers = (bool, int, float)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path)
        return
    raise TypeError(
        f"assert_close: cannot compare {type(actual).__name__} with {type(expected).__name__}; pass two tensors, "
        f"two numbers, or lists/tuples/dicts of them"
    )


def _fail(text, msg, path):
    if path:
        text += f"\n\nThe failure occurred for item {''.join(f'[{p!r}]' for p in path)}"
    raise AssertionError(msg if msg is not None else text)


def _compare_scalars(a, e, rtol, atol, equal_nan, check_dtype, msg, path):
    if check_dtype and type(a) is not type(e):
        _fail(f"The values for attribute 'type' do not match: {type(a).__name__} != {type(e).__name__}.", msg, path)
    if isinstance(a, float) or isinstance(e, float):
        rtol, atol = (_TOLERANCES["float64"] if rtol is None else (rtol, atol))
    else:
        rtol, atol = (0.0, 0.0) if rtol is None else (rtol, atol)
    if math.isnan(a) and math.isnan(e) and equal_nan:
        return
    if abs(a - e) <= atol + rtol * abs(e):
        return
    diff = abs(a - e)
    rel = diff / abs(e) if e else math.inf
    kind = "close" if rtol or atol else "equal"
    _fail(f"Scalars are not {kind}!\n\nExpected {e} but got {a}.\nAbsolute difference: {diff}"
          f"{'' if not atol else f' (up to {atol} allowed)'}\nRelative difference: {rel}"
          f"{'' if not rtol else f' (up to {rtol} allowed)'}", msg, path)


def _compare_tensors(a, e, rtol, atol, equal_nan, check_dtype, check_device, msg, path):
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.", msg, path)
    if check_device and a._backend is not e._backend:
        _fail(f"The values for attribute 'backend' do not match: {a.backend!r} != {e.backend!r}.", msg, path)
    if check_dtype and a.dtype != e.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {a.dtype.name} != {e.dtype.name}.", msg, path)
    if not check_device and a._backend is not e._backend:
        e = e.to(a.backend)
    if rtol is None:
        rtol, atol = max((_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (a, e)), key=lambda r: r[0])
    xp = a._backend.xp
    x, y = xp.astype(a.data, xp.float64), xp.astype(e.data, xp.float64)
    same = x == y  # equal values, equal infinities included (inf − inf would be NaN)
    zero = xp.zeros_like(x)
    diff = xp.abs(xp.where(same, zero, x) - xp.where(same, zero, y))
    ok = same | (xp.isfinite(diff) & (diff <= atol + rtol * xp.abs(y)))
    if equal_nan:
        ok = ok | (xp.isnan(x) & xp.isnan(y))
    total = math.prod(a.shape)
    bad = total - int(xp.sum(xp.astype(ok, xp.int64)))
    if bad == 0:
        return
    scale = xp.abs(y)
    both_inf = xp.isinf(diff) & xp.isinf(scale)  # inf / inf: NaN, as PyTorch reports it
    safe = xp.where((scale == 0) | both_inf, xp.ones_like(scale), scale)
    rel = xp.where(scale == 0, xp.where(diff == 0, zero, xp.full_like(diff, math.inf)), diff / safe)
    rel = xp.where(both_inf, xp.full_like(rel, math.nan), rel)
    kind = "close" if rtol or atol else "equal"
    lines = [f"Tensor-likes are not {kind}!", "", f"Mismatched elements: {bad} / {total} ({100 * bad / total:.1f}%)"]
    for name, values, allowed in (("absolute", diff, atol), ("relative", rel, rtol)):
        flat = xp.reshape(xp.where(ok, xp.zeros_like(values), values), (-1,))
        worst = int(xp.argmax(xp.where(xp.isnan(flat), xp.full_like(flat, math.inf), flat)))
        value = float(flat[worst])
        shown = int(value) if not a.dtype.is_floating_point and value == int(value) else value
        limit = f" (up to {allowed} allowed)" if rtol or atol else ""
        lines.append(f"Greatest {name} difference: {shown} at index {_unravel(worst, a.shape)}{limit}")
    _fail("\n".join(lines), msg, path)


def _unravel(flat_index, shape):
    index = []
    for size in reversed(shape):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                exclude_zero: bool = False) -> Tensor:
    """A random tensor for tests, as ``torch.testing.make_tensor``: floats uniform in
    ``[low, high)`` (default ``[-9, 9)``), integers in ``[low, high)`` (default ``[-9, 10)``,
    ``[0, 10)`` for uint8), bools fair coin flips. ``exclude_zero`` replaces zeros with the
    dtype's smallest positive step (1 for integers, ``eps`` for floats). ``shape`` may be
    given as sizes or as one tuple; ``device`` picks the backend (``"cpu"``, ``"cuda"``, a name).
    Draws come from gdl's seeded generator.
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dtype = dtypes.as_dtype(dtype)
    if low is not None and high is not None and low > high:
        raise ValueError(f"make_tensor: low must be less than or equal to high, got low={low}, high={high}")
    if dtype.name == "bool":
        out = _randint(0, 2, shape, device=device).to(dtype=dtype)
    elif dtype.is_floating_point:
        lo, hi = (-9.0 if low is None else float(low)), (9.0 if high is None else float(high))
        out = (_rand(*shape, dtype=dtypes.float64 if dtype.name == "float64" else dtypes.float32, device=device)
               * (hi - lo) + lo).to(dtype=dtype)
        if exclude_zero:
            eps = {"float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52}[dtype.name]
            out = out.masked_fill(out == 0, eps)
    else:
        lo = (0 if dtype.name == "uint8" else -9) if low is None else int(math.ceil(low))
        hi = 10 if high is None else int(math.ceil(high))
        out = _randint(lo, max(hi, lo + 1), shape, device=device).to(dtype=dtype)
        if exclude_zero:
            out = out.masked_fill(out == 0, 1)
    return out.requires_grad_(True) if requires_grad else out


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
