"""Cumulative ops along one axis (cumsum, cumprod, ...) and differences, forward and backward together.

Each op takes PyTorch's ``dim`` (required, as in PyTorch) or the Array API's ``axis``.
Where the Array API has the scan (``cumulative_sum``, ``cumulative_prod``) it is used;
the others (cumulative max/min, log-sum-exp, the linear recurrence of ``cumprod``'s
gradient) run as a log-depth "doubling" scan: ``ceil(log2 n)`` whole-array steps.
"""

from __future__ import annotations

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import axis_alias, check_axis
from gdl.functional.reduction import ValuesIndices
from gdl.tensor import Tensor, result

# -- array helpers (raw arrays; shared with gdl.functional.reduction) ------------------------


def _along(axis, sl):
    """An index taking slice ``sl`` along ``axis`` (every axis before it whole)."""
    return (slice(None),) * axis + (sl, Ellipsis)


def _doubling_scan(xp, data, axis, combine):
    """Inclusive scan of ``data`` along ``axis`` with the associative ``combine(earlier, later)``."""
    n = data.shape[axis]
    s = 1
    while s < n:
        head = data[_along(axis, slice(0, s))]
        tail = combine(data[_along(axis, slice(0, n - s))], data[_along(axis, slice(s, None))])
        data = xp.concat([head, tail], axis=axis)
        s *= 2
    return data


def _flip_scan(xp, data, axis, combine):
    """The same scan run from the end of the axis to its start."""
    return xp.flip(_doubling_scan(xp, xp.flip(data, axis=axis), axis, combine), axis=axis)


def _cumsum(xp, data, axis):
    if data.shape[axis] == 0:
        return data
    fn = getattr(xp, "cumulative_sum", None)
    if fn is not None:
        return fn(data, axis=axis, dtype=data.dtype)
    return _doubling_scan(xp, data, axis, lambda a, b: a + b)


def _cumprod(xp, data, axis):
    if data.shape[axis] == 0:
        return data
    fn = getattr(xp, "cumulative_prod", None)
    if fn is not None:
        return fn(data, axis=axis, dtype=data.dtype)
    return _doubling_scan(xp, data, axis, lambda a, b: a * b)


def _exclusive_cumprod(xp, data, axis, device):
    """``prod(data[..:i])`` at each ``i``, the first being 1: no division anywhere."""
    n = data.shape[axis]
    if n == 0:  # nothing to shift (a one-element concat would not fit the empty axis)
        return data
    ones = xp.ones(data.shape[:axis] + (1,) + data.shape[axis + 1 :], dtype=data.dtype, device=device)
    return _cumprod(xp, xp.concat([ones, data[_along(axis, slice(0, n - 1))]], axis=axis), axis)


def _revcumsum(xp, g, axis):
    """``sum(g[i:])`` at each ``i``: the gradient of a cumulative sum."""
    return xp.flip(_cumsum(xp, xp.flip(g, axis=axis), axis), axis=axis)


def _logaddexp(xp):
    def combine(a, b):
        same = a == b  # equal infinities too: no inf - inf
        zero = xp.zeros_like(a)
        d = xp.abs(xp.where(same, zero, a) - xp.where(same, zero, b))
        return xp.maximum(a, b) + xp.log1p(xp.exp(-d))

    return combine


def _scatter_along(be, g, idx, axis):
    """Zeros shaped like ``g`` plus each ``g`` value added at its position ``idx`` along
    ``axis`` (repeated positions accumulate): the gradient of "take at these indices"."""
    xp = be.xp
    shape = g.shape
    nd = len(shape)
    order = tuple(i for i in range(nd) if i != axis) + (axis,)
    gm = xp.permute_dims(g, order)
    im = xp.permute_dims(idx, order)
    n = shape[axis]
    rows = 1
    for s in gm.shape[:-1]:
        rows *= s
    base = xp.reshape(xp.arange(rows, dtype=im.dtype, device=be.device) * n, (rows, 1))
    linear = xp.reshape(xp.reshape(im, (rows, n)) + base, (-1,))
    flat = be.scatter_add((rows * n,), linear, xp.reshape(gm, (-1,)))
    inverse = [0] * nd
    for i, a in enumerate(order):
        inverse[a] = i
    return xp.permute_dims(xp.reshape(flat, gm.shape), tuple(inverse))


def _scan_axis(op, x, dim, axis):
    """The one axis a scan runs along: ``dim`` or ``axis``, required, checked."""
    if axis is not None:
        dim = axis_alias(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}: missing the dimension to scan along; pass dim=... (it has no default, as in PyTorch)")
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be one int, got {dim!r}")
    return check_axis(dim, x.ndim, op)


def _int_to_int64(x, dtype):
    """``x`` cast to ``dtype`` (differentiable), or integer/bool tensors to int64 as PyTorch."""
    if dtype is not None:
        from gdl.functional.elementwise import astype

        return astype(x, dtype)
    if dtypes.is_floating(x.data.dtype) or x.data.dtype == x._backend.xp.int64:
        return x
    return Tensor._wrap(x._backend.xp.astype(x.data, x._backend.xp.int64), x._backend)


def _as_float(x):
    if dtypes.is_floating(x.data.dtype):
        return x
    be = x._backend
    return Tensor._wrap(be.xp.astype(x.data, dtypes.backend_dtype(be, dtypes.get_default_dtype())), be)


def _scalar_1d(x, fn):
    """Run ``fn`` on a 0-d tensor as a one-element 1-D one, and give back a 0-d result."""
    from gdl.functional.shape import reshape

    out = fn(reshape(x, (1,)), 0)
    if isinstance(out, ValuesIndices):
        return ValuesIndices(reshape(out.values, ()), reshape(out.indices, ()))
    return reshape(out, ())


# -- the ops ---------------------------------------------------------------------------------


def cumsum(x: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Running sum along ``dim``: ``out[i] = x[0] + ... + x[i]`` (the Array API's ``cumulative_sum``).

    Integer and bool tensors give int64, as PyTorch; ``dtype=`` casts the input first.
    Backward: the gradient summed from the end, ``grad[i] = g[i] + ... + g[n-1]``.

    >>> import gdl
    >>> gdl.cumsum(gdl.tensor([1, 2, 3, 4]), dim=0)
    tensor([ 1,  3,  6, 10], backend='numpy')
    """
    if _AMP[0] and dtype is None:
        x = _amp_cast("fp32", x)[0]
    a = _scan_axis("cumsum", x, dim, axis)
    x = _int_to_int64(x, dtype)
    if x.ndim == 0:
        return _scalar_1d(x, cumsum)
    xp = x._backend.xp
    out = _cumsum(xp, x.data, a)
    return result(out, x._backend, (x,), lambda g: (_revcumsum(xp, g, a),), "Cumsum", lambda g: (_revcumsum_graph(g, a),))


def _revcumsum_graph(g: Tensor, axis: int) -> Tensor:
    """The gradient summed from the end, with Tensor ops (``create_graph=True``)."""
    from gdl.functional.shape import flip

    return flip(cumsum(flip(g, axis), dim=axis), axis)


def cumprod(x: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Running product along ``dim``: ``out[i] = x[0] * ... * x[i]``.

    Integer and bool tensors give int64, as PyTorch; ``dtype=`` casts the input first.
    Backward, written without dividing by ``x`` (so exact where ``x`` has zeros):
    ``grad[i] = prod(x[:i]) * s[i]`` with ``s[i] = g[i] + x[i+1] * s[i+1]``, the
    recurrence run as a log-depth scan.

    >>> import gdl
    >>> gdl.cumprod(gdl.tensor([1.0, 2.0, 0.0, 4.0]), dim=0)
    tensor([1., 2., 0., 0.], backend='numpy')
    """
    if _AMP[0] and dtype is None:
        x = _amp_cast("fp32", x)[0]
    a = _scan_axis("cumprod", x, dim, axis)
    x = _int_to_int64(x, dtype)
    if x.ndim == 0:
        return _scalar_1d(x, cumprod)
    be = x._backend
    xp = be.xp
    data = x.data
    out = _cumprod(xp, data, a)

    def backward(g):
        n = data.shape[a]
        if n == 0:
            return (g,)
        # Reversed, s is the forward recurrence t[j] = b[j] * t[j-1] + h[j], with h = flip(g)
        # and b[j] = flip(x)[j-1]; (A, B) composes "t[j] = A[j] * t[j-s] + B[j]" by doubling.
        h = xp.flip(g, axis=a)
        b = _exclusive_shift(xp, xp.flip(data, axis=a), a, be.device)
        s = 1
        while s < n:
            a_prev, b_prev = b[_along(a, slice(0, n - s))], h[_along(a, slice(0, n - s))]
            a_cur, b_cur = b[_along(a, slice(s, None))], h[_along(a, slice(s, None))]
            h = xp.concat([h[_along(a, slice(0, s))], a_cur * b_prev + b_cur], axis=a)
            b = xp.concat([b[_along(a, slice(0, s))], a_cur * a_prev], axis=a)
            s *= 2
        return (_exclusive_cumprod(xp, data, a, be.device) * xp.flip(h, axis=a),)

    return result(out, be, (x,), backward, "Cumprod", _recompute_scan(x, a, lambda p, q: p * q))


def _doubling_scan_graph(t: Tensor, axis: int, combine) -> Tensor:
    """:func:`_doubling_scan` with Tensor ops (differentiable), ``combine`` on Tensors."""
    from gdl.functional.shape import _slice_along, concat

    n = t.shape[axis]
    s = 1
    while s < n:
        head = _slice_along(t, axis, slice(0, s))
        tail = combine(_slice_along(t, axis, slice(0, n - s)), _slice_along(t, axis, slice(s, n)))
        t = concat([head, tail], axis)
        s *= 2
    return t


def _recompute_scan(x: Tensor, axis: int, combine):
    """A graph backward for a scan node: its output recomputed as a log-depth scan of
    differentiable ``combine`` steps (see :func:`gdl.higher_order.by_recomputation`)."""

    def graph(g):
        from gdl.higher_order import by_recomputation

        return by_recomputation(lambda t: _doubling_scan_graph(t, axis, combine), (x,))(g)

    return graph


def _exclusive_shift(xp, data, axis, device):
    """``data`` moved one step along ``axis``, a zero in front (the last entry drops out)."""
    n = data.shape[axis]
    zeros = xp.zeros(data.shape[:axis] + (1,) + data.shape[axis + 1 :], dtype=data.dtype, device=device)
    return xp.concat([zeros, data[_along(axis, slice(0, n - 1))]], axis=axis)


def logcumsumexp(x: Tensor, dim=None, *, axis=None) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed as a scan of ``logaddexp`` (no overflow
    or underflow, whatever the range of ``x``); integer inputs give the default float dtype.

    Backward: ``grad[i] = sum_{k >= i} g[k] * exp(x[i] - out[k])``, summed in log space
    (the positive and negative parts of ``g`` separately), so it does not overflow either.

    >>> import gdl
    >>> gdl.logcumsumexp(gdl.tensor([-1000.0, 0.0, 1000.0]), dim=0)
    tensor([-1000.,     0.,  1000.], backend='numpy')
    """
    a = _scan_axis("logcumsumexp", x, dim, axis)
    x = _as_float(x)
    if x.ndim == 0:
        return _scalar_1d(x, logcumsumexp)
    xp = x._backend.xp
    data = x.data
    add = _logaddexp(xp)
    out = _doubling_scan(xp, data, a, add)

    def backward(g):
        neg_inf = xp.full(g.shape, -float("inf"), dtype=g.dtype, device=x._backend.device)
        pos, neg = g > 0, g < 0
        ones = xp.ones_like(g)
        log_pos = xp.where(pos, xp.log(xp.where(pos, g, ones)), neg_inf) - out
        log_neg = xp.where(neg, xp.log(xp.where(neg, -g, ones)), neg_inf) - out
        return (xp.exp(data + _flip_scan(xp, log_pos, a, add)) - xp.exp(data + _flip_scan(xp, log_neg, a, add)),)

    def combine(p, q):
        from gdl.functional.pointwise import logaddexp

        return logaddexp(p, q)

    return result(out, x._backend, (x,), backward, "Logcumsumexp", _recompute_scan(x, a, combine))


def cummax(x: Tensor, dim=None, *, axis=None) -> ValuesIndices:
    """``(values, indices)``: the running maximum along ``dim`` and where it was found, as
    ``torch.cummax`` (a tie moves the index to the later element; NaN propagates, its
    index being the latest NaN). Backward: each ``g[i]`` goes to ``x[indices[i]]``.

    >>> import gdl
    >>> gdl.cummax(gdl.tensor([1.0, 3.0, 2.0, 3.0]), dim=0)
    ValuesIndices(values=tensor([1., 3., 3., 3.], backend='numpy'), indices=tensor([0, 1, 1, 3], backend='numpy'))
    """
    return _cumextreme("cummax", x, dim, axis, True)


def cummin(x: Tensor, dim=None, *, axis=None) -> ValuesIndices:
    """``(values, indices)``: the running minimum along ``dim`` and where it was found; see
    :func:`cummax` (ties move the index to the later element, NaN propagates)."""
    return _cumextreme("cummin", x, dim, axis, False)


def _cumextreme(op, x, dim, axis, is_max):
    a = _scan_axis(op, x, dim, axis)
    if x.ndim == 0:
        return _scalar_1d(x, lambda t, d: _cumextreme(op, t, d, None, is_max))
    be = x._backend
    xp = be.xp
    data = x.data
    n = data.shape[a]
    if data.dtype == xp.bool:
        fn = xp.logical_or if is_max else xp.logical_and
    else:
        fn = xp.maximum if is_max else xp.minimum
    values = _doubling_scan(xp, data, a, fn)
    # The index of values[i] is the last j <= i where x[j] equals the running extreme at j.
    hit = data == values
    if dtypes.is_floating(data.dtype):
        hit = hit | xp.isnan(data)
    position = xp.reshape(xp.arange(n, dtype=xp.int64, device=be.device), (n,) + (1,) * (data.ndim - 1 - a))
    marks = xp.where(hit, position, xp.zeros_like(position))
    indices = _doubling_scan(xp, marks, a, xp.maximum)

    def backward(g):
        return (_scatter_along(be, g, indices, a),)

    def graph(g):  # a scatter to the indices, whose own graph is the gather
        from gdl.functional.indexing import _scatter_graph

        return (_scatter_graph(g, tuple(data.shape), a, indices),)

    out = result(values, be, (x,), backward, op.capitalize(), graph)
    return ValuesIndices(out, Tensor._wrap(indices, be))


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None, *, axis=None) -> Tensor:
    """The ``n``-th forward difference along ``dim``: ``out[i] = x[i+1] - x[i]``, applied ``n``
    times, after joining ``prepend`` and ``append`` to ``x`` along ``dim`` (as ``torch.diff``;
    for bool tensors the difference is ``!=``). ``prepend``/``append`` are tensors, or Python
    numbers (NumPy's habit; PyTorch wants tensors) that stand for one slice of that value.

    Backward (of one difference): ``grad[i] = g[i-1] - g[i]``, with ``g`` zero outside.

    >>> import gdl
    >>> gdl.diff(gdl.tensor([1, 4, 9, 16]))
    tensor([3, 5, 7], backend='numpy')
    """
    if axis is not None:
        dim = axis_alias("diff", dim, axis, -1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    if x.ndim == 0:
        raise ValueError("diff: expects a tensor with at least one dimension, got a 0-d tensor")
    a = check_axis(dim, x.ndim, "diff")
    if n == 0:  # the input unchanged, prepend and append ignored (as PyTorch and NumPy)
        return x
    be = x._backend
    xp = be.xp
    parts = []
    for name, extra in (("prepend", prepend), (None, x), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            if isinstance(extra, bool) or not isinstance(extra, (int, float)):
                raise TypeError(f"diff: {name} must be a Tensor or a Python number, got {type(extra).__name__}")
            from gdl.tensor import full

            shape = x.shape[:a] + (1,) + x.shape[a + 1 :]
            extra = full(shape, extra, dtype=x.dtype, backend=be)
        elif extra._backend is not be:
            from gdl.functional._util import check_same_backend

            check_same_backend("diff", x, extra)
        if name is not None:
            if extra.ndim != x.ndim or extra.shape[:a] + extra.shape[a + 1 :] != x.shape[:a] + x.shape[a + 1 :]:
                raise ValueError(
                    f"diff: {name} of shape {extra.shape} does not match the input's shape {x.shape} "
                    f"outside dim {a}"
                )
            if extra.data.dtype != x.data.dtype:
                raise TypeError(f"diff: {name} is {extra.dtype.name} but the input is {x.dtype.name}")
        parts.append(extra)
    data = xp.concat([t.data for t in parts], axis=a) if len(parts) > 1 else x.data
    is_bool = data.dtype == xp.bool
    out = data
    for _ in range(n):
        m = out.shape[a]
        if m == 0:
            break
        later, earlier = out[_along(a, slice(1, None))], out[_along(a, slice(0, m - 1))]
        out = later != earlier if is_bool else later - earlier
    sizes = [t.shape[a] for t in parts]
    total = data.shape[a]

    def backward(g):
        for _ in range(min(n, total)):  # (an empty g grows back into zeros)
            zero = xp.zeros(g.shape[:a] + (1,) + g.shape[a + 1 :], dtype=g.dtype, device=be.device)
            g = xp.concat([zero, g], axis=a) - xp.concat([g, zero], axis=a)
        grads, start = [], 0
        for size in sizes:
            grads.append(g[_along(a, slice(start, start + size))])
            start += size
        return tuple(grads)

    def graph(g):  # the same differences of g, with Tensor ops
        from gdl.functional.shape import _slice_along, concat

        for _ in range(min(n, total)):
            zshape = g.shape[:a] + (1,) + g.shape[a + 1 :]
            zero = Tensor._wrap(xp.zeros(zshape, dtype=g.data.dtype, device=be.device), be)
            g = concat([zero, g], a) - concat([g, zero], a)
        grads, start = [], 0
        for size in sizes:
            grads.append(_slice_along(g, a, slice(start, start + size)))
            start += size
        return tuple(grads)

    return result(out, be, tuple(parts), backward, "Diff", graph)


__all__ = ["cummax", "cummin", "cumprod", "cumsum", "diff", "logcumsumexp"]

# Tensor methods this module adds (name -> function); gdl.functional._methods attaches them.
TENSOR_METHODS: dict = {
    "cumsum": cumsum,
    "cumprod": cumprod,
    "logcumsumexp": logcumsumexp,
    "cummax": cummax,
    "cummin": cummin,
    "diff": diff,
}
