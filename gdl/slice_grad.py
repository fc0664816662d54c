"""Slice gradients: how backpropagation through many slices of one tensor stays linear.

The gradient of ``x[key]`` (a basic index: ints, slices, ``None``, ``...``) is zero
outside ``key``. Padding it to ``x``'s shape in each slice's backward makes
``x.unbind()`` over ``T`` slices cost ``T`` times ``x``'s size. Instead the backward
returns a :class:`SliceGrad` (the key and the values), and the engine
(:func:`gdl.tensor.backprop`) sums the gradients of ``x`` in a :class:`GradBuffer`:
one dense array that the engine allocated itself in this pass, so each further
slice is added into it in place, at the cost of the slice. Both are internal to the
engine: node backward functions, hooks and ``.grad`` only ever see dense arrays.
"""

from __future__ import annotations

from gdl.sparse_grad import RowSparseGrad


class EngineGrad:
    """A gradient the engine holds while summing the uses of a tensor; :meth:`dense`
    gives it as a new array, which nothing else refers to."""

    __slots__ = ()
    __array_ufunc__ = None  # ``ndarray + grad`` defers to our __radd__

    def dense(self):
        raise NotImplementedError


class SliceGrad(EngineGrad):
    """The gradient of ``x[key]``: ``values`` at ``key``, zeros elsewhere in ``shape``.

    ``key`` is a basic index without ``None`` (valid in setitem), ``values`` has the
    shape of ``x[key]`` and ``x``'s dtype. ``values`` is never written to.
    """

    __slots__ = ("key", "values", "shape", "backend")

    def __init__(self, key, values, shape, backend):
        self.key = key
        self.values = values
        self.shape = tuple(shape)
        self.backend = backend

    @property
    def dtype(self):
        return self.values.dtype

    def __repr__(self) -> str:
        return f"SliceGrad(key={self.key}, shape={self.shape}, dtype={self.values.dtype})"

    def dense(self):
        be = self.backend
        out = be.xp.zeros(self.shape, dtype=self.values.dtype, device=be.device)
        out[self.key] = self.values
        return out

    def __add__(self, other):
        if isinstance(other, GradBuffer):
            return other + self
        if isinstance(other, (SliceGrad, RowSparseGrad)):
            return GradBuffer(self.dense(), self.backend) + other
        # a dense array from some op's backward: it may be another tensor's gradient too,
        # so it is copied once, never written to
        return GradBuffer(self.backend.xp.asarray(other, copy=True), self.backend) + self

    __radd__ = __add__


class GradBuffer(EngineGrad):
    """A dense gradient in an array the engine allocated in this backward pass (so no
    other tensor, op or user refers to it): slice gradients are added into it in place."""

    __slots__ = ("array", "backend")

    def __init__(self, array, backend):
        self.array = array
        self.backend = backend

    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def dtype(self):
        return self.array.dtype

    def __repr__(self) -> str:
        return f"GradBuffer(shape={self.shape}, dtype={self.array.dtype})"

    def dense(self):
        return self.array

    def __add__(self, other):
        if isinstance(other, SliceGrad):
            self._add_slice(other)
        elif isinstance(other, GradBuffer):
            self._set(self.array + other.array)
        elif isinstance(other, RowSparseGrad):
            self._set(other + self.array)
        else:  # a dense array: a new sum (same promotion and cost as adding two arrays)
            self._set(self.array + other)
        return self

    def _set(self, total):
        # an array even for 0-d sums, which NumPy returns as scalars (no item assignment)
        self.array = total if self.backend.is_array(total) else self.backend.xp.asarray(total)

    __radd__ = __add__

    def _add_slice(self, s):
        xp = self.backend.xp
        buf, values = self.array, s.values
        if values.dtype != buf.dtype:  # promote as ``dense + dense`` would
            dtype = xp.result_type(buf.dtype, values.dtype)
            if dtype != buf.dtype:
                buf = self.array = xp.astype(buf, dtype)
            values = xp.astype(values, dtype)
        buf[s.key] = buf[s.key] + values
