"""More of PyTorch's top-level helpers and Tensor conveniences: ``finfo``/``iinfo``,
``scalar_tensor``, ``randint_like``, ``binomial``, ``nanquantile``, ``cumulative_trapezoid``,
``gradient``, ``histogram``/``histogramdd``, the global switches (``set_num_threads``,
``use_deterministic_algorithms``, ``set_printoptions``, ``set_default_device``) and the
Tensor methods ``stride()``, ``storage_offset()``, ``data_ptr()``, ``get_device()``,
``is_pinned()``, ``pin_memory()``, ``isreal()``, ``is_inference()``, ``new(...)`` and ``type(...)``.

>>> import gdl
>>> gdl.finfo(gdl.float32).eps == 2.0**-23, gdl.iinfo("int8").max
(True, 127)
>>> gdl.gradient(gdl.tensor([1.0, 4.0, 9.0, 16.0]))
(tensor([3., 4., 6., 7.], backend='numpy'),)
>>> gdl.zeros(2, 3).stride()
(3, 1)
"""

from __future__ import annotations

import math
import os
from collections import namedtuple

from gdl import dtypes
from gdl.functional import elementwise as E
from gdl.functional import pointwise as P
from gdl.functional import reduction as R
from gdl.functional import scan as SC
from gdl.functional import shape as S
from gdl.functional._util import check_axis
from gdl.tensor import Tensor

# -- finfo / iinfo --------------------------------------------------------------------------

# (bits, mantissa bits, max exponent) of the IEEE formats gdl has
_FLOATS = {"float16": (16, 10, 15), "float32": (32, 23, 127), "float64": (64, 52, 1023)}
_INTS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}


def _dtype_name(op: str, dtype) -> str:
    if dtype is None:
        return dtypes.get_default_dtype().name
    try:
        return dtypes.as_dtype(dtype).name
    except (TypeError, ValueError, KeyError):
        raise TypeError(f"{op}: unknown dtype {dtype!r}") from None


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype (a gdl dtype or its name; default: the default
    dtype), as ``torch.finfo``: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (=
    ``smallest_normal``), ``resolution`` (``10**-digits``) and ``dtype`` (the name)."""

    def __init__(self, type=None):
        name = _dtype_name("finfo", type)
        if name not in _FLOATS:
            raise TypeError(f"finfo: expects a floating dtype, got {name} (use gdl.iinfo for integers)")
        bits, mant, emax = _FLOATS[name]
        self.bits, self.dtype = bits, name
        self.eps = 2.0**-mant
        self.max = (2.0 - self.eps) * 2.0**emax
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** (1 - emax)
        self.resolution = 10.0 ** -math.floor(mant * math.log10(2))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype (a gdl dtype or its name), as ``torch.iinfo``: ``bits``,
    ``max``, ``min`` and ``dtype`` (the name)."""

    def __init__(self, type):
        name = _dtype_name("iinfo", type)
        if name not in _INTS:
            raise TypeError(f"iinfo: expects an integer dtype, got {name} (use gdl.finfo for floats)")
        self.bits, self.dtype = _INTS[name], name
        signed = not name.startswith("u")
        self.min = -(2 ** (self.bits - 1)) if signed else 0
        self.max = 2 ** (self.bits - 1) - 1 if signed else 2**self.bits - 1

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


# -- creation and sampling ---------------------------------------------------------------------


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, backend=None) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default float dtype unless ``dtype``
    (``torch.scalar_tensor``)."""
    from gdl.tensor import tensor

    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, (bool, int, float)):
        raise TypeError(f"scalar_tensor: expects a number, got {type(s).__name__}")
    dtype = dtypes.get_default_dtype() if dtype is None else dtype
    return tensor(s, dtype=dtype, requires_grad=requires_grad, backend=backend, device=device)


def randint_like(input: Tensor, low=0, high=None, *, dtype=None, requires_grad=False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` in ``input``'s shape, dtype (unless ``dtype``)
    and backend: ``randint_like(x, high)`` or ``randint_like(x, low, high)``, as PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"randint_like: expected a Tensor, got {type(input).__name__}")
    if high is None:
        low, high = 0, low
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)):
        raise TypeError(f"randint_like: low and high must be ints, got {low!r} and {high!r}")
    if low >= high:
        raise ValueError(f"randint_like: expects low < high, got low={low}, high={high}")
    be = input._backend
    xp = be.xp
    draws = be.integers(low, high, input.shape, dtype=xp.int64)
    out = Tensor._wrap(draws, be).to(dtype=input.dtype if dtype is None else dtype)
    return out.requires_grad_(True) if requires_grad else out


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Samples of Binomial(``count``, ``prob``) elementwise (float tensors that broadcast), as
    ``torch.binomial``, drawn from the backend's seeded generator (``gdl.manual_seed``) as a
    sum of ``max(count)`` Bernoulli draws (memory grows with the largest count). gdl has no
    generator objects: ``generator`` must be None."""
    if generator is not None:
        raise TypeError("binomial: gdl has no generator objects; seed with gdl.manual_seed and pass generator=None")
    if not isinstance(count, Tensor) or not isinstance(prob, Tensor):
        raise TypeError("binomial: count and prob must be Tensors")
    if not count.dtype.is_floating_point or not prob.dtype.is_floating_point:
        raise TypeError(f"binomial: expects floating tensors, got {count.dtype.name} and {prob.dtype.name}")
    be = count._backend
    xp = be.xp
    c, p = xp.broadcast_arrays(count.data, prob.data)
    if bool(xp.any(c < 0)) or bool(xp.any((p < 0) | (p > 1))):
        raise ValueError("binomial: expects count >= 0 and prob in [0, 1]")
    n = int(xp.max(xp.floor(c))) if c.size else 0
    total = xp.zeros(c.shape, dtype=c.dtype, device=be.device)
    for k in range(n):
        hit = (be.uniform(c.shape, 0.0, 1.0, dtype=p.dtype) < p) & (c > k)
        total = total + xp.astype(hit, c.dtype)
    return Tensor._wrap(total, be)


# -- statistics and calculus -----------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (a number or a 1-D tensor in [0, 1]) of ``input`` along ``dim`` (all
    of it if None), ignoring NaN, as ``torch.nanquantile`` (NaN where a slice is all NaN; a 1-D
    ``q`` adds a first dimension). Differentiable as ``sort`` and ``gather``."""
    if not isinstance(input, Tensor) or not input.dtype.is_floating_point:
        raise TypeError("nanquantile: input must be a floating tensor")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"nanquantile: interpolation must be one of {', '.join(_INTERPOLATIONS)}, got {interpolation!r}")
    qs = q if isinstance(q, Tensor) else Tensor.new_tensor(input, q)
    if qs.ndim > 1 or bool((qs < 0).any()) or bool((qs > 1).any()):
        raise ValueError("nanquantile: q must be a number or a 1-D tensor of values in [0, 1]")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else check_axis(dim, x.ndim, "nanquantile")
    if x.ndim == 0:
        x = x.reshape(1)
    nan = P.isnan(x)
    ordered = S.movedim(E.where(nan, math.inf, x).sort(d).values, d, -1)  # (..., n)
    valid = S.movedim(R.sum(~nan, axis=d, keepdims=True), d, -1).to(dtype=x.dtype)  # (..., 1)
    shape_q = (qs.shape[0],) + (1,) * ordered.ndim if qs.ndim else ()
    pos = qs.to(dtype=x.dtype).reshape(shape_q) * (valid - 1).clip(0, None)  # (Q?, ..., 1)
    lo, hi = pos.floor(), pos.ceil()
    if interpolation == "nearest":
        lo = hi = pos.round()
    elif interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    data = ordered.broadcast_to(pos.shape[:-1] + ordered.shape[-1:]) if qs.ndim else ordered
    a, b = data.gather(-1, lo.to(dtype=dtypes.int64)), data.gather(-1, hi.to(dtype=dtypes.int64))
    weight = 0.5 if interpolation == "midpoint" else pos - lo
    empty = valid == 0  # all NaN: every value is inf here; keep inf - inf out of the arithmetic
    a, b = E.where(empty, 0.0, a), E.where(empty, 0.0, b)
    out = E.where(empty, math.nan, a + (b - a) * weight)  # (Q?, ..., 1)
    out = S.movedim(out, -1, d + (1 if qs.ndim else 0))
    if keepdim and dim is None:
        return out.reshape(((qs.shape[0],) if qs.ndim else ()) + (1,) * input.ndim)
    return out if keepdim else out.squeeze(d + (1 if qs.ndim else 0))


def _slice(x: Tensor, dim: int, start, stop) -> Tensor:
    return x[(slice(None),) * dim + (slice(start, stop),)]


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoid-rule integral of ``y`` along ``dim`` (one element fewer than ``y``),
    with sample points ``x`` (a tensor) or spacing ``dx`` (default 1), as
    ``torch.cumulative_trapezoid``. Differentiable."""
    if not isinstance(y, Tensor):
        raise TypeError(f"cumulative_trapezoid: expected a Tensor, got {type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: pass x or dx, not both")
    d = check_axis(dim, y.ndim, "cumulative_trapezoid")
    avg = (_slice(y, d, 1, None) + _slice(y, d, None, -1)) * 0.5
    if isinstance(x, Tensor):
        step = x.diff(dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            step = step.reshape((-1,) + (1,) * (y.ndim - d - 1))
        avg = avg * step
    elif x is not None or dx is not None:
        avg = avg * float(dx if x is None else x)
    return SC.cumsum(avg, d)


_ONE = object()  # one element, not a range


def _gradient_dim(f: Tensor, d: int, h, edge_order: int) -> Tensor:
    """One axis of :func:`gradient`: ``h`` a float (uniform) or a 1-D coordinate tensor."""
    n = f.shape[d]
    if n < edge_order + 1:
        raise ValueError(f"gradient: each dimension needs at least edge_order + 1 = {edge_order + 1} samples, "
                         f"dim {d} has {n}")

    def at(i, j=_ONE):
        return _slice(f, d, i, (i + 1 if i != -1 else None) if j is _ONE else j)

    if isinstance(h, Tensor):
        step = h.to(dtype=f.dtype).diff().reshape((-1,) + (1,) * (f.ndim - d - 1))
    else:
        step = None
    def parts_dx(i, j=_ONE):
        return float(h) if step is None else _slice(step, 0, i, (i + 1 if i != -1 else None) if j is _ONE else j)

    dx1, dx2 = parts_dx(0, -1), parts_dx(1, None)
    inner = (-dx2 / (dx1 * (dx1 + dx2)) * at(0, -2) + (dx2 - dx1) / (dx1 * dx2) * at(1, -1)
             + dx1 / (dx2 * (dx1 + dx2)) * at(2, None)) if n > 2 else None
    if edge_order == 1:
        first = (at(1) - at(0)) / parts_dx(0)
        last = (at(-1) - at(-2, -1)) / parts_dx(-1)
    else:
        a1, a2 = parts_dx(0), parts_dx(1, 2)
        first = (-(2 * a1 + a2) / (a1 * (a1 + a2)) * at(0) + (a1 + a2) / (a1 * a2) * at(1)
                 - a1 / (a2 * (a1 + a2)) * at(2, 3))
        b1, b2 = parts_dx(-2, -1), parts_dx(-1)
        last = (b2 / (b1 * (b1 + b2)) * at(-3, -2) - (b1 + b2) / (b1 * b2) * at(-2, -1)
                + (2 * b2 + b1) / (b2 * (b1 + b2)) * at(-1))
    parts = [first] + ([inner] if inner is not None else []) + [last]
    return S.concat(parts, axis=d)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """The gradient of ``input`` estimated by second-order central differences inside and
    one-sided differences of order ``edge_order`` (1 or 2) at the ends, one tensor per dim of
    ``dim`` (an int, a list, or None for all), as ``torch.gradient``. ``spacing``: a number for
    every dim, a list of numbers (one per dim), or a list of 1-D coordinate tensors. Differentiable."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient: expected a Tensor, got {type(input).__name__}")
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    f = input if input.dtype.is_floating_point else input.to(dtype=dtypes.get_default_dtype())
    dims = list(range(f.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [check_axis(d, f.ndim, "gradient") for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise ValueError(f"gradient: spacing has {len(spacing)} entries for {len(dims)} dims")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    for d, h in zip(dims, steps):
        if isinstance(h, Tensor) and (h.ndim != 1 or h.shape[0] != f.shape[d]):
            raise ValueError(f"gradient: coordinates for dim {d} must be 1-D of length {f.shape[d]}, got {h.shape}")
    return tuple(_gradient_dim(f, d, h, edge_order) for d, h in zip(dims, steps))


# -- histograms -----------------------------------------------------------------------------------

histogram_return = namedtuple("histogram", ["hist", "bin_edges"])
histogramdd_return = namedtuple("histogramdd", ["hist", "bin_edges"])


def _uniform_edges(xp, device, column, bins, lo_hi, dtype):
    if lo_hi is not None:
        lo, hi = float(lo_hi[0]), float(lo_hi[1])
    elif column.shape[0]:
        lo, hi = float(xp.min(column)), float(xp.max(column))
    else:
        lo, hi = 0.0, 1.0  # no values: [0, 1], as torch (and NumPy)
    if lo > hi:
        raise ValueError(f"histogram: range must have min <= max, got ({lo}, {hi})")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return xp.linspace(lo, hi, bins + 1, dtype=dtype, device=device)


def _bin_index(xp, column, edges):
    """Each value's bin (the last bin includes its right edge), and whether it falls in any."""
    nbins = edges.shape[0] - 1
    idx = xp.astype(xp.searchsorted(edges, column, side="right"), xp.int64) - 1
    idx = xp.where(column == edges[-1], xp.full_like(idx, nbins - 1), idx)
    inside = (column >= edges[0]) & (column <= edges[-1])
    return xp.where(inside, idx, xp.zeros_like(idx)), inside


def _histogramdd(op: str, points: Tensor, bins, range, weight, density):
    if not isinstance(points, Tensor) or not points.dtype.is_floating_point:
        raise TypeError(f"{op}: input must be a floating tensor")
    be = points._backend
    xp = be.xp
    data = points.data
    ndims = data.shape[-1]
    data = xp.reshape(data, (-1, ndims))
    bins_list = list(bins) if isinstance(bins, (list, tuple)) else [bins] * ndims
    if len(bins_list) != ndims:
        raise ValueError(f"{op}: {len(bins_list)} bins for {ndims} dimensions")
    if range is not None and len(range) != 2 * ndims:
        raise ValueError(f"{op}: range must have 2 values per dimension ({2 * ndims}), got {len(range)}")
    edges, flat, inside = [], xp.zeros((data.shape[0],), dtype=xp.int64, device=be.device), None
    for k, b in enumerate(bins_list):
        column = data[:, k]
        if isinstance(b, Tensor):
            if b.ndim != 1 or b.shape[0] < 2:
                raise ValueError(f"{op}: bin edges must be 1-D with at least 2 values, got shape {b.shape}")
            e = xp.astype(b.data, data.dtype)
        else:
            if isinstance(b, bool) or not isinstance(b, int) or b < 1:
                raise ValueError(f"{op}: bins must be a positive int or a tensor of edges, got {b!r}")
            e = _uniform_edges(xp, be.device, column, b, None if range is None else range[2 * k: 2 * k + 2], data.dtype)
        idx, ok = _bin_index(xp, column, e)
        flat = flat * (e.shape[0] - 1) + idx
        inside = ok if inside is None else inside & ok
        edges.append(e)
    shape = tuple(int(e.shape[0]) - 1 for e in edges)
    values = xp.ones(flat.shape, dtype=data.dtype, device=be.device)
    if weight is not None:
        values = xp.reshape(xp.astype(weight.data, data.dtype), (-1,))
    values = xp.where(inside, values, xp.zeros_like(values))
    hist = be.scatter_add((math.prod(shape),), flat, values)
    hist = xp.reshape(hist, shape)
    if density:
        volume = xp.ones(shape, dtype=data.dtype, device=be.device)
        for k, e in enumerate(edges):
            width = e[1:] - e[:-1]
            volume = volume * xp.reshape(width, (1,) * k + (-1,) + (1,) * (len(shape) - k - 1))
        hist = hist / (xp.sum(hist) * volume)
    return Tensor._wrap(hist, be), [Tensor._wrap(e, be) for e in edges]


def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False):
    """A histogram of ``input``'s values (``bins`` equal bins over ``range``, default the values'
    min and max, or a 1-D tensor of edges), optionally weighted and normalised to a density,
    as ``torch.histogram``: a namedtuple ``(hist, bin_edges)``. The last bin includes its right
    edge; values outside are not counted. Not differentiable."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histogram: expected a Tensor, got {type(input).__name__}")
    hist, edges = _histogramdd("histogram", input.reshape(-1, 1), [bins], range, weight, density)
    return histogram_return(hist, edges[0])


def histogramdd(input: Tensor, bins=10, *, range=None, weight=None, density: bool = False):
    """A ``D``-dimensional histogram of the points in ``input`` (shape ``(..., D)``), as
    ``torch.histogramdd``: ``bins`` an int, a list of ints, or a list of edge tensors; ``range``
    a flat list ``[min0, max0, min1, max1, ...]``. Returns ``(hist, bin_edges)``, edges a list."""
    return histogramdd_return(*_histogramdd("histogramdd", input, bins, range, weight, density))


# -- global switches ----------------------------------------------------------------------------------

_NUM_THREADS = [os.cpu_count() or 1]
_DETERMINISTIC = {"mode": False, "warn_only": False}


def get_num_threads() -> int:
    """The recorded intra-op thread count (default: the CPU count). gdl does not depend on
    threadpoolctl, so this only records the value that :func:`set_num_threads` set: the array
    library's own threads are set by its environment (``OMP_NUM_THREADS``, ...)."""
    return _NUM_THREADS[0]


def set_num_threads(n: int) -> None:
    """Record ``n`` (a positive int) as the thread count (see :func:`get_num_threads`)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expects a positive int, got {n!r}")
    _NUM_THREADS[0] = n


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the deterministic-algorithms flag. gdl's ops are deterministic already (its
    scatter-adds sum in a fixed order on each backend), so nothing else changes."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got {type(mode).__name__}")
    _DETERMINISTIC.update(mode=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    """The flag :func:`use_deterministic_algorithms` recorded."""
    return _DETERMINISTIC["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` flag :func:`use_deterministic_algorithms` recorded."""
    return _DETERMINISTIC["warn_only"]


_PROFILES = {"default": {}, "short": {"precision": 2, "edgeitems": 2}, "full": {"threshold": math.inf}}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as ``torch.set_printoptions``: ``precision`` (digits), ``threshold``
    (elements before summarising), ``edgeitems``, ``linewidth``, ``sci_mode`` (True: always
    scientific, False: never, None: automatic) and ``profile`` ("default", "short", "full").
    The "default" profile restores gdl's defaults (precision 8, threshold 200, edgeitems 3,
    linewidth 75: NumPy's printout), not PyTorch's (4, 1000, 3, 80)."""
    from gdl.backends import host

    options = dict(host.PRINT_OPTIONS)
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {', '.join(_PROFILES)}, got {profile!r}")
        options.update(host.PRINT_DEFAULTS, **_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a non-negative number, got {value!r}")
            options[name] = value
    if sci_mode is not None or profile is not None:
        options["sci_mode"] = sci_mode
    host.PRINT_OPTIONS.update(options)  # all checked first: a bad argument changes nothing


def get_default_device():
    """The device new tensors are made on (``gdl.device``; the default backend's: numpy and
    array_api_strict are ``cpu``, cupy ``cuda``)."""
    from gdl.backends import device, get_backend

    return device._of_backend(get_backend())


def set_default_device(device) -> None:
    """Make new tensors default to ``device`` ("cpu" is numpy, "cuda" cupy, or a backend name;
    None resets to cpu): ``gdl.set_backend(device)``."""
    from gdl.backends import set_backend

    set_backend("cpu" if device is None else device)


# -- Tensor methods -------------------------------------------------------------------------------------


def stride(self: Tensor, dim=None):
    """The step in elements between neighbours along each dim (a tuple, or one int for ``dim``),
    as ``torch.Tensor.stride`` (from the backend: C-contiguous steps where the library has no
    memory layout, as array_api_strict)."""
    out = self._backend.layout(self.data)[0]
    if dim is None:
        return out
    return out[check_axis(dim, self.ndim, "stride")] if self.ndim else out[dim]


def data_ptr(self: Tensor) -> int:
    """The address of the first element (on a backend without memory addresses, an id unique
    while the array lives)."""
    return self._backend.layout(self.data)[2]


def storage_offset(self: Tensor) -> int:
    """The first element's offset, in elements, from the start of the memory it shares
    (``x[2:].storage_offset() == 2``)."""
    return self._backend.layout(self.data)[1]


def get_device(self: Tensor) -> int:
    """The GPU index, or -1 on the CPU, as ``torch.Tensor.get_device``."""
    index = self.device.index
    return -1 if self.device.type == "cpu" else (index or 0)


def is_pinned(self: Tensor) -> bool:
    """False: gdl does not page-lock host memory."""
    return False


def pin_memory(self: Tensor, device=None) -> Tensor:
    """``self`` (a no-op: gdl does not page-lock host memory)."""
    return self


def isreal(self: Tensor) -> Tensor:
    """True everywhere (a bool tensor): gdl has no complex dtypes, as ``torch.isreal`` on a real tensor."""
    be = self._backend
    return Tensor._wrap(be.xp.ones(self.shape, dtype=be.xp.bool, device=be.device), be)


def is_inference(self: Tensor) -> bool:
    """False: gdl does not mark tensors made under inference mode."""
    return False


def new(self: Tensor, *args, **kwargs) -> Tensor:
    """PyTorch's legacy constructor with ``self``'s dtype and backend: ``x.new()`` is empty,
    ``x.new(2, 3)`` a (2, 3) tensor (zeros in gdl), ``x.new(data)`` a tensor of ``data`` (a list,
    tuple or tensor)."""
    if kwargs:
        raise TypeError(f"new: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    if not args:
        return Tensor.new_empty(self, 0)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return Tensor.new_empty(self, *args)
    if len(args) == 1:
        data = args[0]
        return Tensor.new_tensor(self, data.detach() if isinstance(data, Tensor) else data)
    raise TypeError(f"new: expected sizes (ints) or one data argument, got {args!r}")


_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
    "uint8": "ByteTensor", "int8": "CharTensor", "int16": "ShortTensor", "int32": "IntTensor",
    "int64": "LongTensor", "bool": "BoolTensor",
}
_NAME_TYPES = {v: k for k, v in _TYPE_NAMES.items()}


def type_(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs) -> Tensor | str:
    """With no ``dtype``: the type name, gdl's spelling of PyTorch's (``'gdl.FloatTensor'``, and
    ``'gdl.cuda.FloatTensor'`` on cupy). With one (a dtype, its name, or a type name such as
    ``'gdl.DoubleTensor'`` / ``'torch.DoubleTensor'``): ``self`` cast to it."""
    if kwargs:
        raise TypeError(f"type: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    if dtype is None:
        name = self.dtype.name
        prefix = "gdl.cuda." if self.is_cuda else "gdl."
        return prefix + _TYPE_NAMES.get(name, name[0].upper() + name[1:] + "Tensor")
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        short = dtype.rsplit(".", 1)[-1]
        if short not in _NAME_TYPES:
            raise ValueError(f"type: unknown tensor type {dtype!r}")
        dtype = _NAME_TYPES[short]
    return self.to(dtype=dtypes.as_dtype(dtype))


__all__ = [
    "are_deterministic_algorithms_enabled", "binomial", "cumulative_trapezoid", "finfo", "get_default_device",
    "get_num_threads", "gradient", "histogram", "histogramdd", "iinfo", "isreal", "is_deterministic_algorithms_warn_only_enabled",
    "nanquantile", "randint_like", "scalar_tensor", "set_default_device", "set_num_threads", "set_printoptions",
    "use_deterministic_algorithms",
]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {
    "nanquantile": nanquantile, "histogram": histogram, "stride": stride, "storage_offset": storage_offset,
    "data_ptr": data_ptr, "get_device": get_device, "is_pinned": is_pinned, "pin_memory": pin_memory,
    "isreal": isreal, "is_inference": is_inference, "new": new, "type": type_,
}
