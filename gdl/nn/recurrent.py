"""Recurrent layers: RNNCell, LSTMCell, GRUCell (one step) and RNN, LSTM, GRU (sequences).

Parameter names, shapes and gate order are PyTorch's, so a ``state_dict`` moves
between gdl and PyTorch unchanged. The book's ch14 ``LSTMCell(512, 512, 62)``
bundles the output layer; here that is ``LSTMCell(512, 512)`` followed by
``Linear(512, 62)``, and its ``Wx·``/``Wh·`` Linear layers are the row blocks of
``weight_ih``/``weight_hh`` (order i, f, g, o).

Truncated backpropagation through time: carry the state across batches and cut
the graph with ``.detach()``::

    h = None
    for x, y in batches:
        out, h = lstm(x, h)
        loss = loss_fn(head(out), y)
        loss.backward()
        h = tuple(s.detach() for s in h)   # an RNN/GRU state is one tensor: h.detach()

>>> import gdl
>>> from gdl import nn
>>> lstm = nn.LSTM(10, 20, num_layers=2)
>>> out, (h, c) = lstm(gdl.randn(5, 3, 10))     # (seq_len, batch, input_size)
>>> out.shape, h.shape, c.shape
((5, 3, 20), (2, 3, 20), (2, 3, 20))
"""

from __future__ import annotations

import math
import warnings

from gdl import functional as ops
from gdl.nn import functional as F
from gdl.nn import init
from gdl.nn.functional import recurrent as R
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, empty_like_shape

_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "rnn_sigmoid": 1, "lstm": 4, "gru": 3}


def _init_uniform(module: Module, hidden_size: int) -> None:
    """PyTorch's recurrent init: every parameter from U(−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


# -- cells ----------------------------------------------------------------------------------


class _CellBase(Module):
    _mode = "rnn_tanh"

    def __init__(self, input_size, hidden_size, bias, dtype, backend, mode=None):
        super().__init__()
        self._mode = mode or self._mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(empty_like_shape((rows, input_size), dtype, backend))
        self.weight_hh = Parameter(empty_like_shape((rows, hidden_size), dtype, backend))
        if bias:
            self.bias_ih = Parameter(empty_like_shape((rows,), dtype, backend))
            self.bias_hh = Parameter(empty_like_shape((rows,), dtype, backend))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init_uniform(self, self.hidden_size)

    def _batched(self, x: Tensor, states):
        """Unbatched (1-D) input as a batch of one, like PyTorch; returns a flag to undo it."""
        name = type(self).__name__
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input (batch, {self.input_size}) or ({self.input_size},), "
                             f"got shape {x.shape}")
        if x.ndim == 2:
            return x, states, False
        return x.reshape(1, -1), [None if s is None else s.reshape(1, -1) for s in states], True

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """Elman RNN cell: ``h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)``.

    ``act`` is ``nonlinearity``: ``'tanh'`` (default) or ``'relu'`` as in PyTorch, or
    ``'sigmoid'``, the book's ch14 "Part 2" RNNCell (an extension: PyTorch has none).
    ``weight_ih`` is ``(H, I)``, ``weight_hh`` ``(H, H)``, biases ``(H,)``, all from
    U(−1/√H, 1/√H). Call as ``cell(x, h=None)`` with ``x`` ``(B, I)``; ``h``
    defaults to zeros. The book's cell also holds the output layer: here that is a
    separate ``Linear(hidden, vocab)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, backend=None):
        super().__init__(input_size, hidden_size, bias, dtype, backend, R._mode("rnn", nonlinearity))
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (hx,), unbatched = self._batched(x, [hx])
        h = R.rnn_cell(x, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)
        return h.reshape(-1) if unbatched else h

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}")


class LSTMCell(_CellBase):
    """Long short-term memory cell (gates i, f, g, o stacked in that order):

    ``i = σ(W_ii x + b_ii + W_hi h + b_hi)``, ``f = σ(W_if x + b_if + W_hf h + b_hf)``,
    ``g = tanh(W_ig x + b_ig + W_hg h + b_hg)``, ``o = σ(W_io x + b_io + W_ho h + b_ho)``,
    ``c' = f ⊙ c + i ⊙ g``, ``h' = o ⊙ tanh(c')``.

    ``weight_ih`` is ``(4H, I)``, ``weight_hh`` ``(4H, H)``, biases ``(4H,)``, all from
    U(−1/√H, 1/√H). Call as ``cell(x, (h, c))`` or ``cell(x)`` (zeros); returns
    ``(h', c')``. The gate nonlinearities are one fused graph node (a CuPy kernel
    when the backend provides ``fused['lstm_gates']``).
    """

    _mode = "lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, backend=None):
        super().__init__(input_size, hidden_size, bias, dtype, backend)

    def forward(self, x: Tensor, hx=None):
        h, c = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._batched(x, [h, c])
        h, c = R.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """Gated recurrent unit cell (gates r, z, n stacked in that order):

    ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``, ``z = σ(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``, ``h' = (1 − z) ⊙ n + z ⊙ h``.

    ``weight_ih`` is ``(3H, I)``, ``weight_hh`` ``(3H, H)``, biases ``(3H,)``, all from
    U(−1/√H, 1/√H). Call as ``cell(x, h=None)``.
    """

    _mode = "gru"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, backend=None):
        super().__init__(input_size, hidden_size, bias, dtype, backend)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (hx,), unbatched = self._batched(x, [hx])
        h = R.gru_cell(x, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.reshape(-1) if unbatched else h


# -- sequence layers --------------------------------------------------------------------------


class _RNNBase(Module):
    """Stacked recurrent layers over whole sequences.

    Input ``(T, B, I)`` (or ``(B, T, I)`` with ``batch_first=True``, or unbatched
    ``(T, I)``); states ``(num_layers · D, B, H)`` with ``D = 2`` if
    ``bidirectional`` else 1. Each layer (and direction) is one graph node whose
    backward runs backpropagation through time over raw arrays, so long sequences
    cost no graph depth and memory linear in ``T``. ``dropout`` applies to the
    output of every layer but the last, in training mode only.

    Bidirectional, as PyTorch: a second set of weights (``weight_ih_l{k}_reverse``,
    ...) reads the sequence backwards; the output concatenates both directions'
    ``h_t`` (``(T, B, 2H)``, forward first), and the states list layer 0 forward,
    layer 0 backward, layer 1 forward, ...
    """

    _mode = "rnn_tanh"

    def __init__(self, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                 dtype, backend, mode=None):
        super().__init__()
        self._mode = mode or self._mode
        name = type(self).__name__
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} has no effect with num_layers=1 (it applies between "
                          f"layers, not after the last)", stacklevel=3)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bool(bidirectional)
        self._suffixes = ("", "_reverse") if self.bidirectional else ("",)
        rows = _GATES[self._mode] * hidden_size
        for layer in range(num_layers):
            cols = input_size if layer == 0 else hidden_size * len(self._suffixes)
            for sfx in self._suffixes:
                setattr(self, f"weight_ih_l{layer}{sfx}", Parameter(empty_like_shape((rows, cols), dtype, backend)))
                setattr(self, f"weight_hh_l{layer}{sfx}",
                        Parameter(empty_like_shape((rows, hidden_size), dtype, backend)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{sfx}", Parameter(empty_like_shape((rows,), dtype, backend)))
                    setattr(self, f"bias_hh_l{layer}{sfx}", Parameter(empty_like_shape((rows,), dtype, backend)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init_uniform(self, self.hidden_size)

    def _weights(self, layer, suffix=""):
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"))

    def _check_state(self, name, state, batch, unbatched):
        states = self.num_layers * len(self._suffixes)
        want = (states, self.hidden_size) if unbatched else (states, batch, self.hidden_size)
        if state.shape != want:
            dirs = " · 2 directions" if self.bidirectional else ""
            raise ValueError(f"{type(self).__name__}: expected {name} of shape {want} (num_layers{dirs}, batch, "
                             f"hidden_size), got {state.shape}")

    def _run(self, x: Tensor, h0: Tensor | None, c0: Tensor | None):
        name = type(self).__name__
        if type(x).__name__ == "PackedSequence":  # gdl.nn.utils.rnn's, or PyTorch's
            raise TypeError(f"{name}: gdl's recurrent layers do not take a PackedSequence; pass the padded "
                            "tensor (pad_packed_sequence or pad_sequence) and read each sequence's output "
                            "at length - 1")
        if x.ndim not in (2, 3):
            layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
            raise ValueError(f"{name}: expected a 3-D input {layout} or 2-D (seq_len, input_size), "
                             f"got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input of shape {x.shape} has {x.shape[-1]} features, expected "
                             f"input_size {self.input_size}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = ops.transpose(x, 0, 1)
        batch = x.shape[1]
        states = self.num_layers * len(self._suffixes)
        for sname, s in (("h_0", h0), ("c_0", c0)):
            if s is not None:
                self._check_state(sname, s, batch, unbatched)
                if unbatched:
                    s = s.reshape(states, 1, self.hidden_size)
                if sname == "h_0":
                    h0 = s
                else:
                    c0 = s
        hs, cs = [], []
        out = x
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                out = F.dropout(out, self.dropout, True)
            outs = []
            for d, sfx in enumerate(self._suffixes):
                k = layer * len(self._suffixes) + d
                h_init = None if h0 is None else h0[k]
                c_init = None if c0 is None else c0[k]
                seq = out if d == 0 else out[::-1]  # the reverse direction reads the sequence backwards
                o, h, c = R.recurrent_layer(self._mode, seq, h_init, c_init, *self._weights(layer, sfx))
                outs.append(o if d == 0 else o[::-1])
                hs.append(h)
                cs.append(c)
            out = outs[0] if len(outs) == 1 else ops.concat(outs, axis=-1)
        h_n = hs[0].reshape(1, *hs[0].shape) if states == 1 else ops.stack(hs)
        c_n = None
        if cs[0] is not None:
            c_n = cs[0].reshape(1, *cs[0].shape) if states == 1 else ops.stack(cs)
        if unbatched:
            out = out.reshape(out.shape[0], out.shape[-1])
            h_n = h_n.reshape(states, self.hidden_size)
            c_n = None if c_n is None else c_n.reshape(states, self.hidden_size)
        elif self.batch_first:
            out = ops.transpose(out, 0, 1)
        return out, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Multi-layer Elman RNN: ``h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)``.

    ``act`` is tanh or relu (as PyTorch), or sigmoid (the book's ch14; an extension).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0)`` (PyTorch's argument order). Parameters
    ``weight_ih_l{k}`` ``(H, I or H)``, ``weight_hh_l{k}`` ``(H, H)``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}``. ``rnn(x, h_0=None)`` returns ``(output, h_n)``: ``output`` is
    the last layer's ``h_t`` for every t, ``h_n`` is ``(num_layers, B, H)``.
    ``bidirectional=True`` adds ``*_reverse`` weights; output ``(T, B, 2H)``, states
    ``(2·num_layers, B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, backend=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype, backend, R._mode("rnn", nonlinearity))
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None):
        out, h_n, _ = self._run(x, hx, None)
        return out, h_n


class LSTM(_RNNBase):
    """Multi-layer LSTM (gates i, f, g, o; equations in :class:`LSTMCell`).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0)``. Parameters ``weight_ih_l{k}`` ``(4H, I or H)``,
    ``weight_hh_l{k}`` ``(4H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(4H,)``.
    ``lstm(x, (h_0, c_0))`` or ``lstm(x)`` returns ``(output, (h_n, c_n))`` with
    states ``(num_layers, B, H)`` (``(2·num_layers, B, H)`` and output ``(T, B, 2H)``
    with ``bidirectional=True``).
    """

    _mode = "lstm"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 backend=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype, backend)

    def forward(self, x: Tensor, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        out, h_n, c_n = self._run(x, h0, c0)
        return out, (h_n, c_n)


class GRU(_RNNBase):
    """Multi-layer GRU (gates r, z, n; equations in :class:`GRUCell`).

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0)``. Parameters ``weight_ih_l{k}`` ``(3H, I or H)``,
    ``weight_hh_l{k}`` ``(3H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)``.
    ``gru(x, h_0=None)`` returns ``(output, h_n)``; ``bidirectional=True`` as in :class:`LSTM`.
    """

    _mode = "gru"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 backend=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype, backend)

    def forward(self, x: Tensor, hx: Tensor | None = None):
        out, h_n, _ = self._run(x, hx, None)
        return out, h_n
