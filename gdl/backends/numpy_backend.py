"""The NumPy backend (CPU, the default)."""

from __future__ import annotations

import ctypes
import math
import os
import sys

import array_api_compat
import numpy as np

from gdl.backends import strided
from gdl.backends.base import Backend


def keep_freed_memory_for_reuse() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of unmapping it.

    A training step frees and re-allocates the same large arrays every step; by
    default glibc returns such blocks to the OS and page-faults them back in
    (thousands of faults per step for a 784-1024-1024-10 MLP: ~10% of its time).
    Raising the mmap and trim thresholds keeps them in the heap, as GPU frameworks'
    caching allocators do. Process-wide; set ``GDL_MALLOC_TUNING=0`` to leave
    malloc alone. Returns whether the settings were applied.
    """
    if os.environ.get("GDL_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, 256 << 20) == 1
    return libc.mallopt(m_trim_threshold, 1 << 30) == 1 and ok


class NumpyBackend(Backend):
    name = "numpy"

    def __init__(self):
        keep_freed_memory_for_reuse()
        super().__init__(array_api_compat.array_namespace(np.empty(0)), device="cpu")
        self._rng = np.random.default_rng()
        self.fused = {
            "softmax_cross_entropy": softmax_cross_entropy,
            "softmax_cross_entropy_mean": softmax_cross_entropy_mean,
            "dropout": dropout,
            "relu": relu,
            "relu_backward": relu_backward,
        }
        self.drop_fused_turned_off()

    def is_array(self, obj) -> bool:
        return isinstance(obj, np.ndarray)

    def from_host(self, array, dtype=None):
        # Row-major, whatever the layout of ``array`` (a transposed view, say): an update
        # like ``w -= lr * g`` between a column-major ``w`` and a row-major ``g`` runs ~5x slower.
        return np.array(array, dtype=dtype, copy=True, order="C")

    def copy(self, array):
        return np.array(array, copy=True, order="C")

    def to_host(self, array):
        return np.array(array, copy=True)

    # -- random numbers --------------------------------------------------------
    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def get_rng_state(self):
        return self._rng.bit_generator.state

    def set_rng_state(self, state):
        self._rng.bit_generator.state = state

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        dtype = dtype or np.float32
        if low == 0.0 and high == 1.0:
            if dtype == np.float16:  # NumPy's generator draws float32/float64 only
                return self._rng.random(shape, dtype=np.float32).astype(np.float16)
            return self._rng.random(shape, dtype=dtype)
        return self._rng.uniform(low, high, shape).astype(dtype, copy=False)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        dtype = dtype or np.float32
        if dtype == np.float16:  # NumPy's generator draws float32/float64 only
            return self.normal(shape, mean, std, np.float32).astype(np.float16)
        out = self._rng.standard_normal(shape, dtype=dtype)
        if std != 1.0:
            out *= std
        if mean != 0.0:
            out += mean
        return out

    def integers(self, low, high, shape, dtype=None):
        return self._rng.integers(low, high, shape, dtype=dtype or np.int64)

    def permutation(self, n):
        return self._rng.permutation(n)

    def bernoulli(self, p, shape, dtype=None):
        """Raw 32-bit draws of the generator compared with ``p·2³²``: each element is 1
        with probability ``p`` to within 2⁻³³ (``random() < p`` in float32 resolves only
        2⁻²⁴) and it is 2.5x faster: a 100 × 100 dropout mask in 11 µs instead of 28."""
        dtype = dtype or np.float32
        if p >= 1.0 or p <= 0.0:
            return np.full(shape, 1.0 if p >= 1.0 else 0.0, dtype=dtype)
        n = math.prod(shape)
        raw = self._rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
        return (raw < np.uint32(min(round(p * 2.0**32), 2**32 - 1))).astype(dtype).reshape(shape)

    def poisson(self, rates):
        return np.asarray(self._rng.poisson(np.asarray(rates, dtype=np.float64)), dtype=np.int64)

    # -- gather / scatter ------------------------------------------------------
    def scatter_add(self, target_shape, index, values):
        """Rows added at ``index`` (duplicates accumulate). ``np.add.at`` is slow on rows
        (2 ms for 512 rows of 512 into 65), so: a one-hot product for small tables
        (redone exactly when the result is not finite), else sort the indices and
        ``np.add.reduceat`` each run of equal ones; rows of one value (a flat scatter,
        as ``gather``'s backward) go through ``np.add.at``, fast on 1-D arrays: the sort
        took 11 ms of 12 for 512 × 512 positions, ``np.add.at`` takes 0.4 ms."""
        n, rows = index.shape[0], target_shape[0]
        if n == 0:  # before the reshape: (0, -1) has no size to infer
            return np.zeros(target_shape, dtype=values.dtype)
        flat = values.reshape(n, -1)
        if rows * n <= 1 << 22:
            onehot = (np.arange(rows)[:, None] == index[None, :]).astype(values.dtype)
            with np.errstate(invalid="ignore"):
                out = onehot @ flat
            if np.isfinite(out).all():  # else an inf or NaN value: 0·inf put NaN in every row
                return out.reshape(target_shape)
        out = np.zeros((rows, flat.shape[1]), dtype=values.dtype)
        if flat.shape[1] == 1:
            np.add.at(out[:, 0], index, flat[:, 0])
            return out.reshape(target_shape)
        uniq, sums = self.coalesce_rows(index, flat)
        out[uniq] = sums
        return out.reshape(target_shape)

    def last_writers(self, size, keys):
        """``np.maximum.at`` of each element's number at its position: no sort (10 ms
        instead of 290 for a million positions)."""
        out = np.full(size, -1, dtype=np.int64)
        np.maximum.at(out, keys, np.arange(keys.shape[0], dtype=np.int64))
        return out

    # -- order -------------------------------------------------------------------
    def topk_indices(self, x, k, axis, largest):
        """``np.argpartition`` finds the ``k``, then only they are sorted: 0.1 s instead of
        1.9 for k = 10 of (256, 50000) float32. Where the partition had to choose among
        entries equal to the k-th value, the first of them are taken, as a stable sort does.
        Small inputs and short rows take the full sort: it costs less there (measured: 2-4x
        less below 4096 entries or for rows of 8, about the same for rows of 32)."""
        n = x.shape[axis]
        if k == 0 or k == n or n < 32 or x.size < 4096:
            return super().topk_indices(x, k, axis, largest)
        rows = np.moveaxis(x, axis, -1)
        lead = rows.shape[:-1]
        rows = rows.reshape(-1, n)
        r = np.arange(rows.shape[0])[:, None]
        kth = n - k if largest else k - 1
        part = np.argpartition(rows, kth, axis=1)
        pick = part[:, kth:] if largest else part[:, :k]  # a view: the k, in no order
        edge = rows[r, part[:, kth : kth + 1]]  # the k-th value
        tied = _equal(rows, edge)
        taken = np.count_nonzero(_equal(rows[r, pick], edge), axis=1)
        redo = np.flatnonzero(np.count_nonzero(tied, axis=1) != taken)  # some tie was left out
        if redo.size:  # keep the strictly better ones, then the first ``taken`` ties
            keep = np.zeros((redo.size, n), dtype=bool)
            keep[np.arange(redo.size)[:, None], pick[redo]] = True
            ties = tied[redo]
            keep = (keep & ~ties) | (ties & (np.cumsum(ties, axis=1) <= taken[redo, None]))
            pick[redo] = np.nonzero(keep)[1].reshape(redo.size, k)
        pick = np.sort(pick, axis=1)  # index order, which the stable sort below keeps for ties
        values = rows[r, pick]
        if largest:  # stable descending: sort the reversed values ascending, reverse back
            order = k - 1 - np.argsort(values[:, ::-1], axis=1, kind="stable")[:, ::-1]
        else:
            order = np.argsort(values, axis=1, kind="stable")
        out = pick[r, order].astype(np.int64, copy=False).reshape(lead + (k,))
        return out if axis == x.ndim - 1 else np.moveaxis(out, -1, axis)

    def fmod(self, a, b):
        return np.fmod(a, b)  # exact, as C's

    def memory_owner(self, array) -> int:
        """Follow ``.base`` from a view to the array that owns its memory."""
        while array.base is not None:
            array = array.base
        return id(array)

    def layout(self, array) -> tuple:
        return _host_layout(array)

    def sigmoid(self, a):
        """``1 / (1 + exp(-a))`` in place on one temporary; ``exp`` overflows to inf below
        about -88 (float32) or -709 (float64), where the result is then exactly 0."""
        with np.errstate(over="ignore"):
            out = np.negative(a, out=np.empty_like(a))  # an array also for 0-d input
            np.exp(out, out=out)
            out += 1.0
            return np.reciprocal(out, out=out)

    def matmul(self, a, b):
        """``a @ b``; a stacked ``b`` whose matrices are not row-major (a transposed view,
        as ``k.mT`` in attention) is copied first: NumPy's stacked matmul with it can
        be 10-1000x slower (measured 0.64 s against 0.3 ms for 32 of 128×32 · 32×128
        with 2 OpenBLAS threads on a busy machine; the copy costs what one product does)."""
        if b.ndim > 2 and not b.flags.c_contiguous:
            b = np.ascontiguousarray(b)
        return a @ b

    def matmul_t(self, a, b):
        """OpenBLAS computes ``a @ bᵀ`` up to twice as fast as ``(b @ aᵀ)ᵀ`` when ``a`` has
        few rows and ``b`` many (an LSTM step: 32 × 512 against 2048 × 512; measured
        0.59-0.77x the time for 16-100 rows against 2048, no gain or a loss otherwise)."""
        if a.ndim == 2 and b.ndim == 2 and 2 <= a.shape[0] <= 128 and b.shape[0] >= 2 * a.shape[0]:
            return (b @ a.T).T
        return a @ b.T

    def matmul_tn(self, a, b):
        """``aᵀ @ b``. With one row each (online training's weight gradient, an outer
        product) OpenBLAS is 4-12x slower than with two (measured for 100 × 784 and
        larger, float32 and float64), so a zero row is appended to both: the extra
        term is 0·0, the result bit for bit the same."""
        if a.shape[0] == 1 and a.ndim == b.ndim == 2 and a.shape[1] * b.shape[1] >= 4096:
            a = np.concatenate([a, np.zeros_like(a)])
            b = np.concatenate([b, np.zeros_like(b)])
        return a.T @ b

    def einsum(self, subscripts, *arrays):
        """``np.einsum``, with ``optimize="greedy"`` (BLAS contractions) when a product of
        two or more operands loops over more than 2**15 index combinations: below that
        the path search costs more than it saves (measured: 20 µs against 4 µs for
        4 × 4 matrices, 0.12 ms against 0.75 ms for 128 × 128)."""
        optimize = False
        if len(arrays) > 1:
            if "." in subscripts or "->" not in subscripts:
                optimize = "greedy" if max(a.size for a in arrays) > 1 << 10 else False
            else:
                sizes = {}
                for term, a in zip(subscripts.split("->")[0].split(","), arrays):
                    sizes.update(zip(term, a.shape))
                optimize = "greedy" if math.prod(sizes.values()) > 1 << 15 else False
        return np.einsum(subscripts, *arrays, optimize=optimize)

    def sum_rows(self, a):
        """As a ufunc method: ``np.sum``'s Python layers cost more than a (100, 10) sum."""
        return np.add.reduce(a, axis=0)

    def ones(self, shape, dtype):
        return np.ones(shape, dtype)

    def coalesce_rows(self, index, values):
        """Sort the indices and ``np.add.reduceat`` each run of equal ones."""
        if index.shape[0] == 0:
            return index, values
        order = np.argsort(index, kind="stable")
        idx = index[order]
        starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
        return idx[starts], np.add.reduceat(values[order], starts, axis=0)

    def index_add(self, target, index, values, in_place=True):
        """Coalesce, then one fancy-index ``+=`` (the rows are distinct, so it is exact);
        rows of one value through ``np.add.at`` (as :meth:`scatter_add`: no sort)."""
        out = target if in_place and target.flags.writeable else target.copy()
        if values.shape[1] == 1 and index.shape[0]:
            np.add.at(out[:, 0], index, values[:, 0])
            return out
        uniq, sums = self.coalesce_rows(index, values)
        out[uniq] += sums
        return out

    def put_rows(self, target, index, rows):
        """``target[index] = rows`` in place (a new array only if ``target`` is read-only)."""
        out = target if target.flags.writeable else target.copy()
        out[index] = rows
        return out

    # -- sliding windows -------------------------------------------------------
    def im2col(self, x, kernel, stride, padding, dilation, pad_value=0.0):
        """A read-only strided view of the padded input as ``(N, C, kH, kW, oH, oW)``."""
        view = strided.im2col(np, x, kernel, stride, padding, dilation, pad_value)
        view.flags.writeable = False
        return view

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation):
        return strided.col2im(np, cols, input_shape, kernel, stride, padding, dilation)

    def col2im_matmul(self, a, b, input_shape, kernel, stride, padding, dilation):
        """One product per kernel offset, added in place: the patches are never made (a
        grouped conv2d's input gradient in 0.6x the time, depthwise 0.55x, for
        (32, 64, 32, 32) and 3×3; about the same for groups=1)."""
        return strided.col2im_matmul(np, a, b, input_shape, kernel, stride, padding, dilation)


def _equal(a, b):
    """``a == b`` with NaN equal to NaN."""
    same = a == b
    if a.dtype.kind in "fc" and np.isnan(b).any():
        same |= np.isnan(a) & np.isnan(b)
    return same


def softmax_cross_entropy(logits, targets, ignore_index):
    """Per-row loss, validity and ``softmax - onehot`` of (N, C) logits, with NumPy's
    fancy indexing (the portable reference is ``gdl.nn.functional.loss``).
    ``valid`` is None when every target is a class index (the common case).
    Reductions are called as ufunc methods: ``np.sum``'s Python layer costs more
    than the arithmetic on a (100, 10) batch.
    """
    rows, classes = logits.shape
    z = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
    grad = np.exp(z)
    total = np.add.reduce(grad, axis=1, keepdims=True)
    grad /= total
    if rows == 0:
        return np.zeros(0, dtype=logits.dtype), None, grad
    index = np.arange(rows)
    valid = None
    t = targets
    lo, hi = int(np.minimum.reduce(targets)), int(np.maximum.reduce(targets))
    if lo < 0 or hi >= classes or lo <= ignore_index <= hi:  # ignored targets, or bad ones
        keep = targets != ignore_index
        t = np.where(keep, targets, 0)
        if t.min() < 0 or t.max() >= classes:
            raise ValueError(f"cross_entropy: target class indices must be in [0, {classes}), or ignore_index")
        valid = keep.astype(logits.dtype)
    picked = z[index, t]
    loss = np.log(total[:, 0]) - picked
    grad[index, t] -= 1.0
    if valid is not None:
        loss *= valid
        grad *= valid[:, None]
    return loss, valid, grad


def softmax_cross_entropy_mean(logits, targets, ignore_index):
    """``(mean loss, its gradient)`` for class-index targets: the per-row kernel above,
    then the mean and ``grad / count`` in place (no extra graph arithmetic)."""
    loss, valid, grad = softmax_cross_entropy(logits, targets, ignore_index)
    count = loss.shape[0] if valid is None else np.add.reduce(valid)
    scale = 1.0 / count if count else np.nan  # a mean over no rows is NaN, as in PyTorch
    grad *= scale
    return (np.add.reduce(loss, keepdims=True) * scale).reshape(()), grad


def dropout(x, p, backend):
    """The portable path's mask (same draws), scaled in place: one temporary fewer."""
    mask = backend.bernoulli(1.0 - p, x.shape, dtype=x.dtype)
    mask *= 1.0 / (1.0 - p)
    return x * mask, mask


def relu(x):
    return np.maximum(x, 0)  # a Python int keeps the dtype of integer tensors too


def relu_backward(g, y):
    """``g·[y > 0]`` as a product with the mask: ~6x faster than ``np.where`` here."""
    return g * (y > 0)


def _host_layout(array) -> tuple:
    """``Backend.layout`` of a NumPy array: strides and offset in elements (from its ``base``
    chain), the address of its first element."""
    owner = array
    while owner.base is not None and isinstance(owner.base, np.ndarray):
        owner = owner.base
    size = array.itemsize
    address = array.ctypes.data
    return tuple(s // size for s in array.strides), (address - owner.ctypes.data) // size, address
