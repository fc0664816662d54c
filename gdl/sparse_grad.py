"""Row-sparse gradients: what ``Embedding(sparse=True)`` puts in ``weight.grad``.

A review of 200 words touches 200 rows of a 75,000-row embedding table. The
dense gradient is a table of zeros with those rows filled in: zeroing, filling
and applying it costs as much as the whole table, at every step. A
:class:`RowSparseGrad` keeps only the rows used: ``indices`` (n,) and
``values`` (n, dim); a repeated index means its rows add up. SGD (without
momentum or weight decay) applies it to the table in place, row by row, as the
book's ``weights_0_1[x] -= ...`` does.

It is what PyTorch's ``sparse=True`` gives too (a sparse COO tensor there).
Code that wants the full array calls :meth:`RowSparseGrad.to_dense`.
"""

from __future__ import annotations


class RowSparseGrad:
    """The gradient of a 2-D table given by the rows that are not zero.

    ``indices``: 1-D integer array of row numbers (repeats allowed, they add up);
    ``values``: ``(len(indices), dim)`` array of those rows' gradients; ``shape``:
    the table's shape. Arrays live on ``backend``.
    """

    is_sparse = True
    __array_ufunc__ = None  # ``ndarray + grad`` defers to our __radd__

    def __init__(self, indices, values, shape, backend):
        if values.ndim != 2 or values.shape[0] != indices.shape[0] or values.shape[1] != shape[1]:
            raise ValueError(
                f"RowSparseGrad: values of shape {tuple(values.shape)} do not fit {indices.shape[0]} "
                f"indices into a table of shape {tuple(shape)}"
            )
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)
        self._backend = backend

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def device(self):
        return self._backend.device

    def __repr__(self) -> str:
        return f"RowSparseGrad(shape={self.shape}, rows={self.indices.shape[0]}, dtype={self.values.dtype})"

    def to_dense(self):
        """The full gradient as a :class:`~gdl.Tensor` (repeated rows summed)."""
        from gdl.tensor import Tensor

        return Tensor._wrap(self._backend.scatter_add(self.shape, self.indices, self.values), self._backend)

    def numpy(self):
        """The full gradient as a NumPy array (through :meth:`to_dense`)."""
        return self.to_dense().numpy()

    def coalesce(self) -> "RowSparseGrad":
        """The same gradient with each row number once (sorted) and its rows summed."""
        uniq, sums = self._backend.coalesce_rows(self.indices, self.values)
        return RowSparseGrad(uniq, sums, self.shape, self._backend)

    def copy(self) -> "RowSparseGrad":
        """The same gradient with its own ``values`` array."""
        return RowSparseGrad(self.indices, self._backend.xp.asarray(self.values, copy=True), self.shape, self._backend)

    def astype(self, dtype) -> "RowSparseGrad":
        return RowSparseGrad(self.indices, self._backend.xp.astype(self.values, dtype), self.shape, self._backend)

    def scaled(self, factor) -> "RowSparseGrad":
        """``factor × self`` (``factor`` a number or a 0-d array)."""
        return RowSparseGrad(self.indices, self.values * factor, self.shape, self._backend)

    # -- accumulation (the autograd engine adds gradients from several uses) -------------
    def __add__(self, other):
        xp = self._backend.xp
        if isinstance(other, RowSparseGrad):
            _check_same_table(self, other)
            return RowSparseGrad(
                xp.concat([self.indices, other.indices]),
                xp.concat([self.values, xp.astype(other.values, self.values.dtype)]),
                self.shape,
                self._backend,
            )
        from gdl.slice_grad import EngineGrad  # imported here: that module imports this one

        if isinstance(other, EngineGrad):
            return NotImplemented  # the engine's slice gradients add a row-sparse one into themselves
        if tuple(other.shape) != self.shape:
            raise ValueError(f"RowSparseGrad: cannot add an array of shape {tuple(other.shape)} to {self!r}")
        return self._backend.index_add(other, self.indices, xp.astype(self.values, other.dtype), in_place=False)

    __radd__ = __add__


def _check_same_table(a, b):
    if a.shape != b.shape:
        raise ValueError(f"RowSparseGrad: cannot add gradients of tables {a.shape} and {b.shape}")
