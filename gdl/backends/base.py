"""The backend contract: what every array library must supply to gdl.

The Array API standard covers arithmetic, reductions and shapes. It has no random
numbers, no duplicate-safe scatter-add (``scatter_add``, ``coalesce_rows``,
``index_add`` for row-sparse updates), no sliding windows and no fused kernels.
A :class:`Backend` supplies exactly those, plus host transfers,
``matmul_t`` (``a @ bᵀ`` in the operand order its BLAS runs fastest),
``einsum`` (not in the standard; the portable version here contracts with ``matmul``),
``fmod`` (C's exact remainder, which the standard lacks; remainder and floor
division of floats are built on it), an in-memory snapshot of the random stream
(``fork_rng``/``restore_rng``, for activation checkpointing), the memory layout the
standard hides (``memory_owner``, ``layout``: views, strides, addresses) and
steps that a library can do without a full sort or copy (``topk_indices``,
``last_writers``, ``col2im_matmul``). The portable
implementations here use only the standard namespace ``self.xp``; a concrete
backend overrides a method where its library has something faster.
"""

from __future__ import annotations

import math
import os


def portable_sigmoid(xp, a):
    """``1 / (1 + exp(-a))`` of a raw array in standard ops, without overflow and with full
    relative accuracy on both sides: ``exp(min(a, 0)) / (1 + exp(-|a|))``. (``0.5 (1 +
    tanh(a/2))`` cancels for negative ``a``: it gives 0 at -40 and is 2e-4 off at -30.)"""
    return xp.exp(xp.minimum(a, 0.0)) / (1.0 + xp.exp(-xp.abs(a)))


class Backend:
    """One array library, seen through the Array API.

    Attributes:
        name: the name users pass to ``gdl.set_backend``.
        xp: the Array API namespace (from ``array-api-compat``).
        device: the device new arrays are created on.
        fused: optional fused kernels by name (see ``gdl.backends.cupy_backend``);
            every fused kernel has a portable reference in ``gdl.functional``. The
            environment variable ``GDL_FUSED_OFF`` (names, comma-separated) turns
            some off, to compare a kernel with its portable path.
    """

    name: str = "base"

    def __init__(self, xp, device=None):
        self.xp = xp
        self.device = device
        self.fused: dict = {}
        self.float_dtypes = (xp.float32, xp.float64)

    def __repr__(self) -> str:
        return f"<gdl backend {self.name!r}>"

    def drop_fused_turned_off(self) -> None:
        """Remove the fused kernels named in ``GDL_FUSED_OFF`` (called once ``fused`` is filled)."""
        for name in os.environ.get("GDL_FUSED_OFF", "").split(","):
            self.fused.pop(name.strip(), None)

    # One object per backend in a process: copies are the backend itself, and a
    # pickled tensor finds this process's backend by name when it is loaded.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        from gdl.backends import get_backend_object

        return (get_backend_object, (self.name,))

    # -- transfers -----------------------------------------------------------
    def from_host(self, array, dtype=None):
        """Copy a NumPy array (or nested Python data) onto this backend."""
        return self.xp.asarray(array, dtype=dtype, device=self.device)

    def copy(self, array):
        """A new array with ``array``'s values on this backend (row-major where the
        library has layouts)."""
        return self.xp.asarray(array, copy=True)

    def to_host(self, array):
        """Copy an array of this backend into a new ``numpy.ndarray``."""
        from gdl.backends import host

        return host.from_any(array)

    def synchronize(self) -> None:
        """Wait until queued device work is done (a no-op on the CPU)."""

    def is_array(self, obj) -> bool:
        raise NotImplementedError

    # -- random numbers ------------------------------------------------------
    def seed(self, seed: int) -> None:
        """Reset this backend's generator so its numbers repeat."""
        raise NotImplementedError

    def get_rng_state(self) -> dict:
        """The generator's state as JSON-able data (for checkpoints)."""
        raise NotImplementedError

    def set_rng_state(self, state: dict) -> None:
        raise NotImplementedError

    def fork_rng(self):
        """An in-memory snapshot of the generator's position (for activation checkpointing's
        replay); :meth:`restore_rng` puts it back. A backend whose :meth:`get_rng_state` cannot
        record the position (CuPy's) overrides both."""
        return self.get_rng_state()

    def restore_rng(self, snapshot) -> None:
        self.set_rng_state(snapshot)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        raise NotImplementedError

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        raise NotImplementedError

    def integers(self, low, high, shape, dtype=None):
        raise NotImplementedError

    def permutation(self, n: int):
        raise NotImplementedError

    def bernoulli(self, p: float, shape, dtype=None):
        """0/1 array of ``dtype``, each element 1 with probability ``p``."""
        xp = self.xp
        dtype = dtype or xp.float32
        return xp.astype(self.uniform(shape, dtype=xp.float32) < p, dtype)

    def poisson(self, rates):
        """Poisson draws (int64), one for each element of the real array ``rates`` (each
        rate finite and >= 0; the caller checks). No portable version: the standard has no
        random numbers, and an exact sampler built from uniforms needs a loop per element."""
        raise NotImplementedError(f"poisson: the {self.name!r} backend has no Poisson sampler")

    # -- gather / scatter ----------------------------------------------------
    def scatter_add(self, target_shape, index, values):
        """Rows of ``values`` added into zeros of ``target_shape`` at ``index``.

        ``index`` is a 1-D integer array, ``values`` has shape
        ``(len(index), *target_shape[1:])``. Repeated indices accumulate.
        Portable version: a one-hot product; where that is not finite (an inf or NaN
        value, which 0·inf would spread to every row) a masked sum instead.
        """
        xp = self.xp
        rows = values.shape[0]
        if rows == 0:
            return xp.zeros(target_shape, dtype=values.dtype, device=self.device)
        flat = xp.reshape(values, (rows, -1))
        hits = xp.arange(target_shape[0], device=self.device)[:, None] == index[None, :]
        out = xp.astype(hits, values.dtype) @ flat
        if not bool(xp.all(xp.isfinite(out))):
            zero = xp.zeros((), dtype=values.dtype, device=self.device)
            out = xp.sum(xp.where(hits[:, :, None], flat[None, :, :], zero), axis=1, dtype=values.dtype)
        return xp.reshape(out, target_shape)

    def last_writers(self, size, keys):
        """For each of ``size`` flat positions, the number of the last element of the 1-D
        integer ``keys`` that names it, or -1 where none does (int64): who wins a scatter
        whose elements overwrite each other in order.

        Portable version: a stable argsort of ``keys``, the last of each run of equal
        ones placed with :meth:`scatter_add`.
        """
        xp = self.xp
        if keys.shape[0] == 0:
            return xp.full((size,), -1, dtype=xp.int64, device=self.device)
        order = xp.argsort(keys, stable=True)
        ordered = xp.take(keys, order)
        last = xp.concat([ordered[1:] != ordered[:-1], xp.ones((1,), dtype=xp.bool, device=self.device)])
        plus_one = self.scatter_add((size,), ordered[last], xp.astype(order[last], xp.int64) + 1)
        return xp.astype(plus_one, xp.int64) - 1

    # -- order -------------------------------------------------------------------
    def topk_indices(self, x, k, axis, largest):
        """Indices (int64) of the ``k`` largest (``largest``) or smallest entries of the real
        or integer ``x`` along ``axis`` (>= 0), best first, as the first ``k`` of a stable
        sort: equal values in index order, NaN larger than any number.

        Portable version: a full stable argsort.
        """
        xp = self.xp
        order = xp.argsort(x, axis=axis, descending=bool(largest), stable=True)
        order = order[(slice(None),) * axis + (slice(0, k), Ellipsis)]
        return order if order.dtype == xp.int64 else xp.astype(order, xp.int64)

    def memory_owner(self, array) -> int:
        """The id of the array that owns ``array``'s memory: views of one buffer (a
        reshape, a slice) give the same id. Portable version: the array itself (the
        standard has no notion of views)."""
        return id(array)

    def sigmoid(self, a):
        """The logistic function of a raw float array (:func:`portable_sigmoid`; NumPy and CuPy
        compute ``1 / (1 + exp(-a))`` directly, whose overflow to ``inf`` gives the right 0)."""
        return portable_sigmoid(self.xp, a)

    def layout(self, array) -> tuple:
        """``(strides, offset, address)`` of ``array`` as ``torch.Tensor.stride()``,
        ``storage_offset()`` and ``data_ptr()`` report them: steps in elements, the first
        element's offset in elements from the start of the memory it shares, and its address.
        Portable version (the standard has no memory layout): C-contiguous steps, offset 0,
        and the id of the array object as its address."""
        strides, step = [], 1
        for n in reversed(array.shape):
            strides.append(step)
            step *= max(n, 1)
        return tuple(reversed(strides)), 0, id(array)

    def fmod(self, a, b):
        """C's ``fmod``: ``a - b·trunc(a / b)`` computed exactly, with the sign of ``a``
        (floats). Portable version: the remainder of ``|a|`` by ``|b|`` (which is their
        fmod) given ``a``'s sign; NumPy and CuPy call their own ``fmod``."""
        xp = self.xp
        return xp.copysign(xp.remainder(xp.abs(a), xp.abs(b)), a)

    def matmul(self, a, b):
        """``a @ b`` (matmul's shapes); a backend may lay the operands out first where
        its library needs that for speed."""
        return a @ b

    def matmul_t(self, a, b):
        """``a @ bᵀ`` for 2-D arrays (a layer's ``x @ weightᵀ``); a backend may pick the
        operand order its BLAS runs fastest. The result may be a transposed view."""
        return a @ b.mT

    def matmul_tn(self, a, b):
        """``aᵀ @ b`` for 2-D arrays (a layer's weight gradient ``gᵀ @ x``)."""
        return a.mT @ b

    def einsum(self, subscripts, *arrays):
        """Einstein summation of ``arrays`` (one dtype) for explicit ``subscripts`` such as
        ``"ij,jk->ik"``: letters only, ``->`` and the output always given, every letter
        of one size (``gdl.einsum`` writes out ``...``, the implicit output and size-1
        broadcasting before it calls this). A letter may repeat within an operand (a
        diagonal), not in the output.

        Portable version: take each operand's repeated-letter diagonals, sum the letters
        needed nowhere else, then contract the operands left to right, each pair as one
        batched ``matmul`` (batch letters, free letters of each side, contracted ones).
        """
        xp = self.xp
        lhs, out = subscripts.split("->")
        ops = [_einsum_diagonals(xp, a, list(term)) for term, a in zip(lhs.split(","), arrays)]
        while True:
            for i, (a, letters) in enumerate(ops):
                elsewhere = set(out).union(*(ls for j, (_, ls) in enumerate(ops) if j != i))
                drop = [k for k, c in enumerate(letters) if c not in elsewhere]
                if drop:
                    a = xp.sum(a, axis=tuple(drop), dtype=a.dtype)
                    ops[i] = (a, [c for k, c in enumerate(letters) if k not in drop])
            if len(ops) == 1:
                break
            first, second = ops.pop(0), ops.pop(0)
            keep = set(out).union(*(ls for _, ls in ops))
            ops.insert(0, _einsum_pair(xp, first, second, keep))
        a, letters = ops[0]
        perm = tuple(letters.index(c) for c in out)
        return a if perm == tuple(range(len(perm))) else xp.permute_dims(a, perm)

    def sum_rows(self, a):
        """The sum over the first axis of a 2-D array (a bias gradient)."""
        return self.xp.sum(a, axis=0)

    def ones(self, shape, dtype):
        """An array of ones (the seed gradient of ``backward()``)."""
        return self.xp.ones(shape, dtype=dtype, device=self.device)

    def coalesce_rows(self, index, values):
        """``(uniq, sums)``: the distinct values of the 1-D ``index`` (sorted) and, for
        each, the sum of the rows of the 2-D ``values`` that carry it.

        Portable version: sort the indices, sum each run with a cumulative sum.
        """
        xp = self.xp
        if index.shape[0] == 0:
            return index, values
        order = xp.argsort(index, stable=True)
        idx = xp.take(index, order)
        vals = xp.take(values, order, axis=0)
        csum = xp.cumulative_sum(vals, axis=0, include_initial=True)
        last = xp.concat([idx[1:] != idx[:-1], xp.asarray([True], device=self.device)])
        ends = xp.nonzero(last)[0] + 1
        starts = xp.concat([xp.asarray([0], dtype=ends.dtype, device=self.device), ends[:-1]])
        sums = xp.take(csum, ends, axis=0) - xp.take(csum, starts, axis=0)
        return xp.take(idx, ends - 1), sums

    def index_add(self, target, index, values, in_place=True):
        """``target[index] += values`` for a 2-D ``target``, repeated indices accumulating.

        Returns the result: ``target`` itself where the backend can write in place
        (and ``in_place`` is true), else a new array. Portable version: a new
        array, ``target + scatter_add(...)``.
        """
        return target + self.scatter_add(tuple(target.shape), index, values)

    def put_rows(self, target, index, rows):
        """``target[index] = rows`` for a 2-D ``target`` and distinct 1-D ``index``.

        Returns the result: ``target`` itself where the backend can write in place,
        else a new array. Portable version (the standard has no fancy-index
        assignment): each row of ``target`` picks its new row with a masked sum.
        """
        xp = self.xp
        hits = xp.arange(target.shape[0], device=self.device)[:, None] == index[None, :]
        zero = xp.zeros((), dtype=rows.dtype, device=self.device)
        placed = xp.sum(xp.where(hits[:, :, None], rows[None, :, :], zero), axis=1, dtype=rows.dtype)
        return xp.where(xp.any(hits, axis=1)[:, None], placed, target)

    # -- sliding windows (convolution and pooling) -----------------------------
    def im2col(self, x, kernel, stride, padding, dilation, pad_value=0.0):
        """Patches of an NCHW array as ``(N, C, kH, kW, oH, oW)``.

        Portable version: one strided slice per kernel offset, stacked.
        """
        xp = self.xp
        n, c, h, w = x.shape
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        dh, dw = dilation
        if ph or pw:
            x = _pad2d(xp, x, ph, pw, pad_value, self.device)
        oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        rows = []
        for i in range(kh):
            cols = []
            for j in range(kw):
                hi, wj = i * dh, j * dw
                cols.append(x[:, :, hi : hi + sh * (oh - 1) + 1 : sh, wj : wj + sw * (ow - 1) + 1 : sw])
            rows.append(xp.stack(cols, axis=2))
        return xp.stack(rows, axis=2)

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation):
        """Adjoint of :meth:`im2col`: sums patches back into an NCHW array."""
        xp = self.xp
        n, c, h, w = input_shape
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        dh, dw = dilation
        hp, wp = h + 2 * ph, w + 2 * pw
        out = xp.zeros((n, c, hp, wp), dtype=cols.dtype, device=self.device)
        for i in range(kh):
            for j in range(kw):
                hi, wj = i * dh, j * dw
                out = out + _place(
                    xp, cols[:, :, i, j, ...], (n, c, hp, wp), hi, wj, sh, sw, self.device
                )
        return out[:, :, ph : ph + h, pw : pw + w]

    def col2im_matmul(self, a, b, input_shape, kernel, stride, padding, dilation):
        """:meth:`col2im` of the patches ``a @ b``: ``a`` is ``(G, C/G·kH·kW, M)``, ``b`` is
        ``(N, G, M, oH, oW)``, and their product ``(N, G, C/G·kH·kW, oH·oW)`` is read as
        ``(N, C, kH, kW, oH, oW)`` (conv2d's input gradient, conv_transpose2d's output).

        Portable version: the product, then :meth:`col2im`.
        """
        n, groups, m, oh, ow = b.shape
        cols = a @ self.xp.reshape(b, (n, groups, m, oh * ow))
        cols = self.xp.reshape(cols, (n, input_shape[1]) + tuple(kernel) + (oh, ow))
        return self.col2im(cols, input_shape, kernel, stride, padding, dilation)


def _pad2d(xp, x, ph, pw, value, device):
    n, c, h, w = x.shape
    # Array API arrays need not support item assignment: build by concatenation.
    left = xp.full((n, c, h, pw), value, dtype=x.dtype, device=device)
    mid = xp.concat([left, x, left], axis=3) if pw else x
    top = xp.full((n, c, ph, w + 2 * pw), value, dtype=x.dtype, device=device)
    out = xp.concat([top, mid, top], axis=2) if ph else mid
    return out


def _place(xp, block, shape, hi, wj, sh, sw, device):
    """Zeros of ``shape`` with ``block`` written at rows hi::sh, cols wj::sw."""
    n, c, hp, wp = shape
    oh, ow = block.shape[2], block.shape[3]
    if sw > 1:
        z = xp.zeros((n, c, oh, ow, sw - 1), dtype=block.dtype, device=device)
        block = xp.reshape(xp.concat([block[..., None], z], axis=4), (n, c, oh, ow * sw))
        block = block[..., : (ow - 1) * sw + 1]
    if sh > 1:
        width = block.shape[3]
        z = xp.zeros((n, c, oh, sh - 1, width), dtype=block.dtype, device=device)
        block = xp.reshape(xp.concat([block[:, :, :, None, :], z], axis=3), (n, c, oh * sh, width))
        block = block[:, :, : (oh - 1) * sh + 1, :]
    bh, bw = block.shape[2], block.shape[3]
    parts = []
    if hi:
        parts.append(xp.zeros((n, c, hi, bw), dtype=block.dtype, device=device))
    parts.append(block)
    if hp - hi - bh:
        parts.append(xp.zeros((n, c, hp - hi - bh, bw), dtype=block.dtype, device=device))
    block = xp.concat(parts, axis=2) if len(parts) > 1 else block
    parts = []
    if wj:
        parts.append(xp.zeros((n, c, hp, wj), dtype=block.dtype, device=device))
    parts.append(block)
    if wp - wj - bw:
        parts.append(xp.zeros((n, c, hp, wp - wj - bw), dtype=block.dtype, device=device))
    return xp.concat(parts, axis=3) if len(parts) > 1 else block


def _einsum_diagonals(xp, a, letters):
    """``(a, letters)`` with each letter repeated in ``letters`` reduced to its diagonal
    (moved last): ``a[..., i, i]`` as a strided slice of the flattened pair of axes."""
    while len(set(letters)) < len(letters):
        c = next(c for c in letters if letters.count(c) > 1)
        p = letters.index(c)
        q = letters.index(c, p + 1)
        rest = [k for k in range(len(letters)) if k not in (p, q)]
        a = xp.permute_dims(a, tuple(rest) + (p, q))
        n = a.shape[-1]
        a = xp.reshape(a, tuple(a.shape[:-2]) + (n * n,))[..., :: n + 1]
        letters = [letters[k] for k in rest] + [c]
    return a, letters


def _einsum_pair(xp, first, second, keep):
    """Contract two ``(array, letters)`` operands into one, keeping the letters in ``keep``
    (a letter of only one side is in ``keep``: the others were summed already)."""
    (a, la), (b, lb) = first, second
    size = dict(zip(la, a.shape)) | dict(zip(lb, b.shape))
    batch = [c for c in la if c in lb and c in keep]
    inner = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def arrange(x, letters, order, groups):
        perm = tuple(letters.index(c) for c in order)
        if perm != tuple(range(len(perm))):
            x = xp.permute_dims(x, perm)
        return xp.reshape(x, tuple(math.prod(size[c] for c in g) for g in groups))

    a2 = arrange(a, la, batch + left + inner, (batch, left, inner))
    b2 = arrange(b, lb, batch + inner + right, (batch, inner, right))
    out = xp.reshape(a2 @ b2, tuple(size[c] for c in batch + left + right))
    return out, batch + left + right


def prod(shape) -> int:
    return math.prod(shape)
