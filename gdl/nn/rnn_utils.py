"""Padding and packing variable-length sequences (``torch.nn.utils.rnn``).

Reached as ``gdl.nn.utils.rnn`` (``from gdl.nn.utils.rnn import pad_sequence``
works, as PyTorch's import does). Every function here is differentiable: padding,
packing and unpacking gather the values with one indexing op, whose backward
sends each gradient back to the element it came from (padding gets none).

>>> import gdl
>>> from gdl.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
>>> seqs = [gdl.tensor([1.0, 2.0, 3.0]), gdl.tensor([4.0]), gdl.tensor([5.0, 6.0])]
>>> padded = pad_sequence(seqs, batch_first=True)
>>> padded
tensor([[1., 2., 3.],
        [4., 0., 0.],
        [5., 6., 0.]], backend='numpy')
>>> packed = pack_padded_sequence(padded, [3, 1, 2], batch_first=True, enforce_sorted=False)
>>> packed.data, packed.batch_sizes
(tensor([1., 5., 4., 2., 6., 3.], backend='numpy'), tensor([3, 2, 1], backend='numpy'))
>>> out, lengths = pad_packed_sequence(packed, batch_first=True)
>>> bool((out == padded).all()), lengths
(True, tensor([3, 1, 2], backend='numpy'))

**gdl's RNN, LSTM and GRU layers do not take a** :class:`PackedSequence`. Give
them the padded tensor; they then also run over the padding steps, so read each
sequence's last output at ``length - 1`` rather than ``h_n`` (for a
unidirectional layer), and mask padded positions out of the loss::

    out, _ = lstm(padded)                          # (T, B, H), time-major
    last = out[lengths - 1, gdl.arange(len(lengths))]     # (B, H)

Packing is still useful around other ops (it keeps only the real time steps, in
PyTorch's layout), and ``pack_padded_sequence`` / ``pad_packed_sequence`` round
trips are exact and differentiable, so code that packs and unpacks ports as is.

Where gdl differs from PyTorch: ``batch_sizes``, ``sorted_indices``,
``unsorted_indices`` and the ``lengths`` that :func:`pad_packed_sequence` returns
live on the data's backend (PyTorch keeps ``batch_sizes`` and ``lengths`` on the
CPU); gdl tensors never mix backends, and on NumPy that is the CPU anyway. With
``enforce_sorted=False`` gdl orders equal lengths stably (by batch position);
PyTorch's unstable sort may order them differently for more than 16 sequences,
which changes only the order of equal-length sequences inside ``data``
(unpacking gives the same result).
"""

from __future__ import annotations

import numbers
import operator
from collections import namedtuple

from gdl import functional as ops
from gdl.tensor import Tensor, tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence", "invert_permutation"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences with only their real time steps, PyTorch's layout.

    ``data`` holds the steps time-major: the first step of every sequence (in
    decreasing order of length), then the second step of every sequence that has
    one, and so on; ``batch_sizes[t]`` is how many sequences have a step ``t``.
    ``sorted_indices[j]`` is the batch position of the ``j``-th longest sequence
    (``None`` when the batch was already sorted), ``unsorted_indices`` its inverse.
    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not
    directly (as in PyTorch); ``unsorted_indices`` is computed when not given.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:  # PyTorch also accepts a (data, batch_sizes) pair
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, backend=None, dtype=None) -> "PackedSequence":
        """The same sequence with ``data`` on ``backend`` and/or as ``dtype`` (the
        index tensors move with it and stay int64)."""
        data = self.data.to(backend, dtype)
        if data._backend is self.data._backend:
            return self._replace(data=data)
        moved = [None if t is None else t.to(data._backend) for t in self[1:]]
        return type(self)(data, *moved)

    def cpu(self) -> "PackedSequence":
        return self.to("numpy")

    def float(self) -> "PackedSequence":
        return self._replace(data=self.data.float())

    def double(self) -> "PackedSequence":
        return self._replace(data=self.data.double())

    @property
    def is_cuda(self) -> bool:
        return self.data.backend == "cupy"


def invert_permutation(permutation):
    """The inverse of a permutation (an int64 tensor), ``None`` for ``None``."""
    if permutation is None:
        return None
    xp = permutation._backend.xp
    return Tensor._wrap(xp.astype(xp.argsort(permutation.data), xp.int64), permutation._backend)


# -- helpers ------------------------------------------------------------------------------------


def _bool(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return value


def _fill_value(op, value, dtype):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{op}: padding_value must be a Python number, got {value!r}")
    if dtype.is_floating_point:
        return float(value)
    if dtype.name == "bool":
        return bool(value)
    return int(value)


def _pad_row(op, like: Tensor, trailing, padding_value):
    """One row of ``padding_value`` (no gradient) to gather padding from."""
    value = _fill_value(op, padding_value, like.dtype)
    be = like._backend
    return Tensor._wrap(be.xp.full((1,) + tuple(trailing), value, dtype=like.data.dtype, device=be.device), be)


def _index(be, values):
    return be.xp.asarray(values, dtype=be.xp.int64, device=be.device)


def _int_list(op, name, values):
    """Python ints from a list/tuple or a 1-D integer tensor."""
    if isinstance(values, Tensor):
        if values.ndim != 1 or values.dtype.is_floating_point:
            raise ValueError(f"{op}: {name} must be a 1-D integer tensor, got {values.dtype.name} shape {values.shape}")
        return [int(v) for v in values.tolist()]
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{op}: {name} must be a list of ints or a 1-D integer tensor, got {values!r}") from None
    out = []
    for v in items:
        try:
            if isinstance(v, bool):
                raise TypeError
            out.append(operator.index(v))
        except TypeError:
            raise TypeError(f"{op}: {name} must hold ints, got {v!r}") from None
    return out


def _sequences(op, sequences):
    seqs = list(sequences)  # a tensor gives its rows, as PyTorch's unbind(0)
    if not seqs:
        raise ValueError(f"{op}: received an empty list of sequences")
    for s in seqs:
        if not isinstance(s, Tensor):
            raise TypeError(f"{op}: expected a list of gdl Tensors, got an element of type {type(s).__name__}")
        if s.ndim < 1:
            raise ValueError(f"{op}: every sequence needs at least 1 dimension (time), got a 0-d tensor")
    first = seqs[0]
    for s in seqs[1:]:
        if s._backend is not first._backend:
            raise ValueError(f"{op}: sequences on different backends ({first.backend!r} and {s.backend!r})")
        if s.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"{op}: sequences must match in every dimension after the first (time), got shapes "
                f"{first.shape} and {s.shape}"
            )
        if s.dtype != first.dtype:
            raise TypeError(f"{op}: sequences must share a dtype, got {first.dtype.name} and {s.dtype.name}")
    return seqs


# -- padding ------------------------------------------------------------------------------------


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right") -> Tensor:
    """Stack sequences of different lengths ``(L_i, *)`` into one tensor, padding
    with ``padding_value``: ``(T, B, *)`` time-major, or ``(B, T, *)`` with
    ``batch_first``, where ``T = max L_i``. ``padding_side='left'`` puts the padding
    before each sequence instead of after. Differentiable in every sequence.

    >>> import gdl
    >>> from gdl.nn.utils.rnn import pad_sequence
    >>> pad_sequence([gdl.tensor([1, 2]), gdl.tensor([3])], padding_value=-1, padding_side="left")
    tensor([[ 1, -1],
            [ 2,  3]], backend='numpy')
    """
    op = "pad_sequence"
    batch_first = _bool(op, "batch_first", batch_first)
    if padding_side not in ("right", "left"):
        raise ValueError(f"{op}: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = _sequences(op, sequences)
    be = seqs[0]._backend
    lengths = [s.shape[0] for s in seqs]
    total, batch, trailing = sum(lengths), len(seqs), seqs[0].shape[1:]
    steps = max(lengths)
    pad_at = total  # the padding row comes after every sequence's rows
    starts, run = [], 0
    for n in lengths:
        starts.append(run)
        run += n
    rows = []  # rows[b][t]: the row of sequence b's step t, or the padding row
    for b, n in enumerate(lengths):
        lead = steps - n if padding_side == "left" else 0
        rows.append([starts[b] + t - lead if lead <= t < lead + n else pad_at for t in range(steps)])
    order = [rows[b][t] for b in range(batch) for t in range(steps)] if batch_first else \
        [rows[b][t] for t in range(steps) for b in range(batch)]
    flat = ops.concat(seqs + [_pad_row(op, seqs[0], trailing, padding_value)])
    out = ops.take(flat, _index(be, order)) if order else flat[0:0]
    return ops.reshape(out, ((batch, steps) if batch_first else (steps, batch)) + tuple(trailing))


def unpad_sequence(padded_sequences, lengths, batch_first=False) -> list:
    """The sequences of a padded batch, cut to ``lengths`` (the inverse of
    :func:`pad_sequence` with right padding); differentiable."""
    op = "unpad_sequence"
    if not isinstance(padded_sequences, Tensor):
        raise TypeError(f"{op}: expected a gdl Tensor, got {type(padded_sequences).__name__}")
    if padded_sequences.ndim < 2:
        raise ValueError(f"{op}: expected a padded batch of at least 2 dimensions, got {padded_sequences.shape}")
    lengths = _int_list(op, "lengths", lengths)
    x = padded_sequences if batch_first else ops.swapaxes(padded_sequences, 0, 1)
    if len(lengths) != x.shape[0]:
        raise ValueError(f"{op}: got {len(lengths)} lengths for a batch of {x.shape[0]} sequences")
    for n in lengths:
        if not 0 <= n <= x.shape[1]:
            raise ValueError(f"{op}: length {n} is outside [0, {x.shape[1]}] (the padded length)")
    return [x[b, :n] for b, n in enumerate(lengths)]


# -- packing ------------------------------------------------------------------------------------


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (or ``(B, T, *)`` with ``batch_first``) whose
    sequence ``b`` has ``lengths[b]`` real steps into a :class:`PackedSequence`.

    ``lengths`` is a list of ints or a 1-D integer tensor, each in ``[1, T]``. With
    ``enforce_sorted=True`` (the default, as PyTorch) they must be in decreasing
    order; ``enforce_sorted=False`` sorts the batch by decreasing length first
    (stably: equal lengths keep their order) and records the permutation in
    ``sorted_indices``. Differentiable in ``input``.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a gdl Tensor, got {type(input).__name__}")
    batch_first = _bool(op, "batch_first", batch_first)
    enforce_sorted = _bool(op, "enforce_sorted", enforce_sorted)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (time and batch), got shape {input.shape}")
    lengths = _int_list(op, "lengths", lengths)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if len(lengths) != batch:
        raise ValueError(f"{op}: expected len(lengths) to be the batch size {batch}, got {len(lengths)}")
    for n in lengths:
        if n <= 0:
            raise ValueError(f"{op}: every length must be > 0, got {lengths}")
        if n > steps:
            raise ValueError(f"{op}: length {n} is longer than the padded input's {steps} time steps")
    be = input._backend
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise ValueError(
                f"{op}: lengths {lengths} must be sorted in decreasing order when enforce_sorted=True; "
                f"pass enforce_sorted=False to sort them here"
            )
        order, sorted_indices = list(range(batch)), None
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])
        sorted_indices = Tensor._wrap(_index(be, order), be)
    sorted_lengths = [lengths[b] for b in order]
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]
    rows = []
    for t, size in enumerate(batch_sizes):
        for b in order[:size]:
            rows.append(b * steps + t if batch_first else t * batch + b)
    flat = ops.reshape(input, (batch * steps,) + tuple(input.shape[2:]))
    data = ops.take(flat, _index(be, rows))
    return PackedSequence(data, Tensor._wrap(_index(be, batch_sizes), be), sorted_indices, None)


def pack_sequence(sequences, enforce_sorted=True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` directly (:func:`pad_sequence` then
    :func:`pack_padded_sequence`); differentiable."""
    seqs = _sequences("pack_sequence", sequences)
    lengths = [s.shape[0] for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None) -> tuple:
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` with ``padded`` of
    shape ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) in the batch's original
    order, ``T = total_length`` or the longest length, and ``lengths`` an int64
    tensor. Differentiable in ``sequence.data``.
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    batch_first = _bool(op, "batch_first", batch_first)
    data = sequence.data
    be = data._backend
    batch_sizes = _int_list(op, "batch_sizes", sequence.batch_sizes)
    if not batch_sizes or any(a < b for a, b in zip(batch_sizes, batch_sizes[1:])) or batch_sizes[-1] <= 0:
        raise ValueError(f"{op}: batch_sizes must be positive and non-increasing, got {batch_sizes}")
    if sum(batch_sizes) != data.shape[0]:
        raise ValueError(f"{op}: batch_sizes add up to {sum(batch_sizes)}, but data has {data.shape[0]} rows")
    longest, batch = len(batch_sizes), batch_sizes[0]
    if total_length is None:
        steps = longest
    elif (isinstance(total_length, bool) or not isinstance(total_length, numbers.Integral)
          or total_length < longest):  # numbers.Integral: a NumPy int (max of a lengths array) too
        raise ValueError(
            f"{op}: expected total_length to be an int at least the length of the longest sequence "
            f"({longest}), got total_length={total_length!r}"
        )
    else:
        steps = int(total_length)
    unsorted = (list(range(batch)) if sequence.unsorted_indices is None
                else _int_list(op, "unsorted_indices", sequence.unsorted_indices))
    if sorted(unsorted) != list(range(batch)):
        raise ValueError(f"{op}: unsorted_indices {unsorted} is not a permutation of the {batch} sequences")
    starts, run = [], 0
    for size in batch_sizes:
        starts.append(run)
        run += size
    pad_at = run

    def row(t, b):  # the data row of step t of the batch's sequence b (original order)
        j = unsorted[b]  # its rank by length
        return starts[t] + j if t < longest and j < batch_sizes[t] else pad_at

    order = [row(t, b) for b in range(batch) for t in range(steps)] if batch_first else \
        [row(t, b) for t in range(steps) for b in range(batch)]
    trailing = tuple(data.shape[1:])
    flat = ops.concat([data, _pad_row(op, data, trailing, padding_value)])
    out = ops.reshape(ops.take(flat, _index(be, order)),
                      ((batch, steps) if batch_first else (steps, batch)) + trailing)
    sorted_lengths = [sum(1 for size in batch_sizes if size > j) for j in range(batch)]
    lengths = tensor([sorted_lengths[unsorted[b]] for b in range(batch)], backend=be)
    return out, lengths


def unpack_sequence(packed_sequences) -> list:
    """The list of sequences in a :class:`PackedSequence`, in their original order
    (the inverse of :func:`pack_sequence`); differentiable."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
