"""Recurrent cells and whole recurrent layers as a few fused graph nodes.

Gate layouts and parameter shapes follow PyTorch exactly, so weights move
between gdl and PyTorch unchanged (``G`` gates of ``H`` units stacked in rows):

========  ====  ==========================  =====================================
cell      G     gate order (row blocks)     equations
========  ====  ==========================  =====================================
RNN       1     (h)                         h' = act(W_ih x + b_ih + W_hh h + b_hh)
LSTM      4     i, f, g, o                  i,f,o = σ(·), g = tanh(·) of W_ih x + b_ih + W_hh h + b_hh;
                                            c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
GRU       3     r, z, n                     r,z = σ(W_i· x + b_i· + W_h· h + b_h·);
                                            n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));
                                            h' = (1 − z)⊙n + z⊙h
========  ====  ==========================  =====================================

**Cells** (one time step, for loops written by hand as in the book's ch14): two
:func:`~gdl.nn.functional.linear` nodes give ``gi = x W_ihᵀ + b_ih`` and
``gh = h W_hhᵀ + b_hh``; then a single *gate node* applies every nonlinearity and
its backward computes every gate gradient at once.

**Layers** (a whole sequence, ``(T, B, I)`` time-major): one graph node per layer.
Its forward multiplies the inputs of all time steps by ``W_ih`` in one matrix
product, then loops over time with the same gate math; its backward runs
backpropagation through time as a loop over raw arrays (the book's ch12-14
"hidden deltas" recurrence), so a sequence of any length adds no graph depth and
keeps memory linear in the sequence length.

**Fused kernels.** A backend may supply the LSTM gate math as two entries of
``backend.fused`` (the CuPy backend does, in ``gdl.backends.cupy_kernels``):

- ``fused["lstm_gates"](gates, c) -> (h_new, c_new, saved)``: ``gates`` the
  pre-activations ``(B, 4H)`` in order i, f, g, o, ``c`` the cell state ``(B, H)``;
  ``saved`` is anything the backward needs (opaque to the caller);
- ``fused["lstm_gates_backward"](dh_new, dc_new, saved) -> (dgates, dc)``: the
  gradients with respect to the pre-activations ``(B, 4H)`` and the previous cell
  state ``(B, H)``. ``dh_new`` and ``dc_new`` are always arrays here.

and ``fused["lstm_sequence"]`` / ``fused["lstm_sequence_backward"]``, a whole LSTM
layer's time loop (see ``gdl.backends.cupy_kernels.lstm_sequence``), which the layer
node then uses instead of the per-step pair; and likewise the GRU gate math as ``fused["gru_gates"](gi, gh, h) -> (h_new, saved)``
and ``fused["gru_gates_backward"](dh_new, saved) -> (dgi, dgh, dh)`` (``gi``, ``gh``
of shape ``(B, 3H)`` in order r, z, n; ``dh`` the direct part through ``z⊙h``).
Each pair is used only when both entries exist. The portable references are
:func:`lstm_gates_forward` and friends below; a fused kernel must match them.
"""

from __future__ import annotations

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.backends.base import portable_sigmoid
from gdl.functional._util import check_same_backend
from gdl.higher_order import by_recomputation
from gdl.nn.functional.layers import linear
from gdl.tensor import Tensor, is_grad_enabled, result

# -- gate math on raw arrays (portable references) -------------------------------------


def lstm_gates_forward(xp, gates, c, sigmoid=None):
    """``h', c'`` from pre-activation ``gates`` (B, 4H) in order i, f, g, o and ``c``.
    ``sigmoid``: a backend's (``Backend.sigmoid``), else the portable one."""
    sigmoid = sigmoid or (lambda a: portable_sigmoid(xp, a))
    hid = c.shape[-1]
    i = sigmoid(gates[:, :hid])
    f = sigmoid(gates[:, hid : 2 * hid])
    g = xp.tanh(gates[:, 2 * hid : 3 * hid])
    o = sigmoid(gates[:, 3 * hid :])
    c_new = f * c + i * g
    tc = xp.tanh(c_new)
    h_new = o * tc
    return h_new, c_new, (i, f, g, o, c, tc)


def lstm_gates_backward(xp, saved, dh, dc_new):
    """``(dgates, dc)`` for :func:`lstm_gates_forward` given ``dL/dh'`` and ``dL/dc'``."""
    i, f, g, o, c, tc = saved
    dct = dc_new + dh * o * (1.0 - tc * tc)  # everything that reaches c'
    di = dct * g * i * (1.0 - i)
    df = dct * c * f * (1.0 - f)
    dg = dct * i * (1.0 - g * g)
    do = dh * tc * o * (1.0 - o)
    return xp.concat([di, df, dg, do], axis=1), dct * f


def gru_gates_forward(xp, gi, gh, h, sigmoid=None):
    """``h'`` from ``gi = W_ih x + b_ih`` and ``gh = W_hh h + b_hh`` (B, 3H) in order r, z, n.
    ``sigmoid``: a backend's (``Backend.sigmoid``), else the portable one."""
    sigmoid = sigmoid or (lambda a: portable_sigmoid(xp, a))
    hid = h.shape[-1]
    r = sigmoid(gi[:, :hid] + gh[:, :hid])
    z = sigmoid(gi[:, hid : 2 * hid] + gh[:, hid : 2 * hid])
    ghn = gh[:, 2 * hid :]
    n = xp.tanh(gi[:, 2 * hid :] + r * ghn)
    h_new = (1.0 - z) * n + z * h
    return h_new, (r, z, n, ghn, h)


def gru_gates_backward(xp, saved, dh_new):
    """``(dgi, dgh, dh)`` for :func:`gru_gates_forward`; ``dh`` is the path through ``z⊙h``."""
    r, z, n, ghn, h = saved
    dan = dh_new * (1.0 - z) * (1.0 - n * n)  # through n's tanh
    daz = dh_new * (h - n) * z * (1.0 - z)
    dar = dan * ghn * r * (1.0 - r)
    dgi = xp.concat([dar, daz, dan], axis=1)
    dgh = xp.concat([dar, daz, dan * r], axis=1)
    return dgi, dgh, dh_new * z


def _lstm_kernels(be):
    """``fwd(gi, gh, c)`` and ``bwd(saved, dh_out, dh_next, dc)``: the LSTM gate math with
    the two pre-activation parts and the two gradient parts summed inside (a fused
    ``lstm_step`` kernel does that in one launch; the others add first)."""
    pair_f, pair_b = be.fused.get("lstm_step"), be.fused.get("lstm_step_backward")
    if pair_f is not None and pair_b is not None:
        return pair_f, pair_b
    fwd, bwd = be.fused.get("lstm_gates"), be.fused.get("lstm_gates_backward")
    xp = be.xp
    if fwd is not None and bwd is not None:
        return (lambda gi, gh, c: fwd(gi + gh, c)), (lambda saved, dh, dh2, dc: bwd(_plus(dh, dh2), dc, saved))
    return (lambda gi, gh, c: lstm_gates_forward(xp, gi + gh, c, be.sigmoid),
            lambda saved, dh, dh2, dc: lstm_gates_backward(xp, saved, _plus(dh, dh2), dc))


def _plus(a, b):
    return a if b is None else a + b


def _gru_kernels(be):
    fwd, bwd = be.fused.get("gru_gates"), be.fused.get("gru_gates_backward")
    if fwd is not None and bwd is not None:
        return fwd, (lambda saved, dh: bwd(dh, saved))
    xp = be.xp
    return (lambda gi, gh, h: gru_gates_forward(xp, gi, gh, h, be.sigmoid),
            lambda saved, dh: gru_gates_backward(xp, saved, dh))


# -- one step, uniformly: (gi, gh, h, c) -> (h', c', saved) ---------------------------------
#
# ``backward(saved, dh', dc') -> (dgi, dgh, dh_direct, dc)``; ``dh_direct`` is the part
# of dL/dh that does not go through ``gh`` (only the GRU has one), ``c`` is None
# except for the LSTM.


class _Step:
    gates = 1
    has_cell = False

    def __init__(self, be, mode):
        self.xp = be.xp
        self.sigmoid = be.sigmoid
        self.mode = mode
        if mode == "lstm":
            self.gates, self.has_cell = 4, True
            self.fwd, self.bwd = _lstm_kernels(be)
        elif mode == "gru":
            self.gates = 3
            self.fwd, self.bwd = _gru_kernels(be)
        elif mode not in ("rnn_tanh", "rnn_relu", "rnn_sigmoid"):
            raise ValueError(f"unknown recurrent mode {mode!r}")

    def forward(self, gi, gh, h, c):
        xp = self.xp
        if self.mode == "lstm":
            return self.fwd(gi, gh, c)
        if self.mode == "gru":
            h_new, saved = self.fwd(gi, gh, h)
            return h_new, None, saved
        a = gi + gh
        if self.mode == "rnn_tanh":
            h_new = xp.tanh(a)
        elif self.mode == "rnn_relu":
            h_new = xp.where(a > 0, a, xp.zeros_like(a))
        else:
            h_new = self.sigmoid(a)
        return h_new, None, h_new

    def backward(self, saved, dh, dc, dh_next=None):
        """Gradients of one step; ``dh + dh_next`` reaches h' (summed inside a fused kernel)."""
        if self.mode == "lstm":
            dgates, dc_prev = self.bwd(saved, dh, dh_next, dc)
            return dgates, dgates, None, dc_prev
        dh = _plus(dh, dh_next)
        if self.mode == "gru":
            dgi, dgh, dh_direct = self.bwd(saved, dh)
            return dgi, dgh, dh_direct, None
        h_new = saved
        if self.mode == "rnn_tanh":
            da = dh * (1.0 - h_new * h_new)
        elif self.mode == "rnn_relu":
            da = self.xp.where(h_new > 0, dh, self.xp.zeros_like(dh))
        else:
            da = dh * h_new * (1.0 - h_new)
        return da, da, None, None


def _mode(name: str, nonlinearity: str = "tanh") -> str:
    if name != "rnn":
        return name
    if nonlinearity not in ("tanh", "relu", "sigmoid"):
        raise ValueError(f"RNN: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got {nonlinearity!r}")
    return "rnn_" + nonlinearity


# -- checks ---------------------------------------------------------------------------------


def _check_weights(op, x, w_ih, w_hh, b_ih, b_hh, gates):
    for t in (w_ih, w_hh, b_ih, b_hh):
        if t is not None:
            check_same_backend(op, x, t)
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{op}: weight_hh must have shape ({gates}·hidden, hidden), got {w_hh.shape}")
    hid = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * hid:
        raise ValueError(f"{op}: weight_ih must have shape ({gates * hid}, input_size), got {w_ih.shape}")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and b.shape != (gates * hid,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hid},), got {b.shape}")
    if x.shape[-1] != w_ih.shape[1]:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {x.shape[-1]} features, expected input_size "
            f"{w_ih.shape[1]} (weight_ih has shape {w_ih.shape})"
        )
    return hid


def _check_state(op, name, state, expected):
    if tuple(state.shape) != tuple(expected):
        raise ValueError(f"{op}: expected {name} of shape {tuple(expected)}, got {state.shape}")


def _zeros(x, shape):
    be = x._backend
    return Tensor._wrap(be.xp.zeros(shape, dtype=x.data.dtype, device=be.device), be)


# -- cells ------------------------------------------------------------------------------------


def _gate_node(step, gi, gh, h, c):
    """One fused node: the gate nonlinearities of one step (LSTM: packs h', c' as (2, B, H))."""
    be = gi._backend
    xp = be.xp
    h_new, c_new, saved = step.forward(gi.data, gh.data, h.data, None if c is None else c.data)
    if step.mode == "lstm":

        def backward(g):
            dgates, _, _, dc = step.backward(saved, g[0, ...], g[1, ...])
            return (dgates, dgates, dc)

        return result(xp.stack([h_new, c_new]), be, (gi, gh, c), backward, "LSTMGates",
                      by_recomputation(lambda a, b, c_: ops.stack(_step_ops("lstm", a, b, None, c_), axis=0),
                                       (gi, gh, c)))
    if step.mode == "gru":

        def backward(g):
            dgi, dgh, dh, _ = step.backward(saved, g, None)
            return (dgi, dgh, dh)

        return result(h_new, be, (gi, gh, h), backward, "GRUGates",
                      by_recomputation(lambda a, b, h_: _step_ops("gru", a, b, h_, None)[0], (gi, gh, h)))

    def backward(g):
        da, _, _, _ = step.backward(saved, g, None)
        return (da, da)

    return result(h_new, be, (gi, gh), backward, "RNNGates",
                  by_recomputation(lambda a, b: _step_ops(step.mode, a, b, None, None)[0], (gi, gh)))


# -- the same step with differentiable ops (create_graph=True recomputes through these) -----------


def _step_ops(mode, gi, gh, h, c):
    """One step's gate math on Tensors: ``(h', c')`` (``c'`` None except for the LSTM)."""
    hid = gh.shape[-1] // {"lstm": 4, "gru": 3}.get(mode, 1)
    if mode == "lstm":
        a = gi + gh
        i, f = ops.sigmoid(a[:, :hid]), ops.sigmoid(a[:, hid : 2 * hid])
        g, o = ops.tanh(a[:, 2 * hid : 3 * hid]), ops.sigmoid(a[:, 3 * hid :])
        c_new = f * c + i * g
        return o * ops.tanh(c_new), c_new
    if mode == "gru":
        r = ops.sigmoid(gi[:, :hid] + gh[:, :hid])
        z = ops.sigmoid(gi[:, hid : 2 * hid] + gh[:, hid : 2 * hid])
        n = ops.tanh(gi[:, 2 * hid :] + r * gh[:, 2 * hid :])
        return (1.0 - z) * n + z * h, None
    a = gi + gh
    act = {"rnn_tanh": ops.tanh, "rnn_relu": ops.relu, "rnn_sigmoid": ops.sigmoid}[mode]
    return act(a), None


def _layer_ops(mode, has_cell, has_b_ih, has_b_hh):
    """A whole layer's packed output ``(h_1..h_T[, c_T])`` from its node's inputs, with Tensor ops."""

    def run(x, h0, *rest):
        rest = list(rest)
        c = rest.pop(0) if has_cell else None
        w_ih, w_hh = rest.pop(0), rest.pop(0)
        b_ih = rest.pop(0) if has_b_ih else None
        b_hh = rest.pop(0) if has_b_hh else None
        xg = ops.matmul(x, ops.transpose(w_ih, 0, 1))
        if b_ih is not None:
            xg = xg + b_ih
        h, hs = h0, []
        for t in range(x.shape[0]):
            gh = ops.matmul(h, ops.transpose(w_hh, 0, 1))
            if b_hh is not None:
                gh = gh + b_hh
            h, c = _step_ops(mode, xg[t], gh, h, c)
            hs.append(h)
        return ops.stack(hs + ([c] if has_cell else []), axis=0)

    return run


def _cell(op, mode, x, hx, cx, w_ih, w_hh, b_ih, b_hh):
    if _AMP[0]:
        x, hx, cx, w_ih, w_hh, b_ih, b_hh = _amp_cast("low", x, hx, cx, w_ih, w_hh, b_ih, b_hh)
    step = _Step(x._backend, mode)
    if x.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D input (batch, input_size), got shape {x.shape}")
    hid = _check_weights(op, x, w_ih, w_hh, b_ih, b_hh, step.gates)
    batch = x.shape[0]
    hx = _zeros(x, (batch, hid)) if hx is None else hx
    _check_state(op, "hx", hx, (batch, hid))
    if step.has_cell:
        cx = _zeros(x, (batch, hid)) if cx is None else cx
        _check_state(op, "cx", cx, (batch, hid))
    gi = linear(x, w_ih, b_ih)
    gh = linear(hx, w_hh, b_hh)
    return _gate_node(step, gi, gh, hx, cx)


def rnn_cell(x: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor, bias_ih=None, bias_hh=None,
             nonlinearity: str = "tanh") -> Tensor:
    """One Elman RNN step: ``h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)``.

    ``act`` is tanh or relu (PyTorch's choices) or sigmoid (the book's ch14 RNNCell).
    """
    return _cell("rnn_cell", _mode("rnn", nonlinearity), x, hx, None, weight_ih, weight_hh, bias_ih, bias_hh)


def lstm_cell(x: Tensor, hx: Tensor | None, cx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
              bias_ih=None, bias_hh=None) -> tuple[Tensor, Tensor]:
    """One LSTM step, returning ``(h', c')`` (gates i, f, g, o; see the module docstring)."""
    packed = _cell("lstm_cell", "lstm", x, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh)
    return packed[0], packed[1]


def gru_cell(x: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor, bias_ih=None,
             bias_hh=None) -> Tensor:
    """One GRU step (gates r, z, n; see the module docstring)."""
    return _cell("gru_cell", "gru", x, hx, None, weight_ih, weight_hh, bias_ih, bias_hh)


# -- whole layers ------------------------------------------------------------------------------


def _layer_node(op, step, x, h0, c0, w_ih, w_hh, b_ih, b_hh, h0_is_zero=False):
    """All ``T`` steps of one layer as one node; the output packs ``(h_1..h_T[, c_T])``.

    ``h0_is_zero``: ``h0`` is the default zero state, so the first step's ``h0 W_hhᵀ``
    is skipped (it is zero), and so is the gradient for ``h0`` (nothing needs it).
    """
    be = x._backend
    xp = be.xp
    steps, batch, feat = x.shape
    hid = w_hh.shape[1]
    x2 = xp.reshape(x.data, (steps * batch, feat))
    xg = x2 @ w_ih.data.mT  # every time step's input projection in one product
    bhh = None if b_hh is None else b_hh.data
    bias = None if b_ih is None else b_ih.data
    if step.mode != "gru" and bhh is not None:
        # Outside GRU's reset gate the two biases simply add: fold them in once, not per step.
        bias = bhh if bias is None else bias + bhh
        bhh = None
    if bias is not None:
        xg = xg + bias
    xg = xp.reshape(xg, (steps, batch, step.gates * hid))
    sequence = _sequence_kernels(be) if step.mode == "lstm" else None
    if sequence is not None:
        return _sequence_node(op, sequence, x, x2, xg, h0, c0, w_ih, w_hh, b_ih, b_hh, h0_is_zero)
    whh = w_hh.data
    h = h0.data
    c = None if c0 is None else c0.data
    hs, saved = [], []
    for t in range(steps):
        if t == 0 and h0_is_zero:
            gh = xp.zeros((batch, step.gates * hid), dtype=xg.dtype, device=be.device)
        else:
            gh = be.matmul_t(h, whh)
        if bhh is not None:
            gh = gh + bhh
        h, c, s = step.forward(xg[t, ...], gh, h, c)
        hs.append(h)
        saved.append(s)
    packed = hs + [c] if step.has_cell else hs
    out = xp.stack(packed)
    need_x = x.requires_grad and is_grad_enabled()
    need_h0 = h0.requires_grad and is_grad_enabled()

    def backward(g):
        dh_next = xp.zeros((batch, hid), dtype=g.dtype, device=be.device)
        dc = g[steps, ...] if step.has_cell else None
        dgis, dghs = [None] * steps, [None] * steps
        for t in range(steps - 1, -1, -1):
            dgi, dgh, dh_direct, dc = step.backward(saved[t], g[t, ...], dc, dh_next)
            if t == 0 and not need_h0:
                dh_next = None  # dL/dh0: nobody asks for it
            else:
                dh_next = dgh @ whh if dh_direct is None else dgh @ whh + dh_direct
            dgis[t], dghs[t] = dgi, dgh
        dgi_all = xp.reshape(xp.stack(dgis), (steps * batch, -1))
        dgh_all = dgi_all if dghs[0] is dgis[0] else xp.reshape(xp.stack(dghs), (steps * batch, -1))
        h_prev = xp.reshape(xp.stack([h0.data] + hs[:-1]), (steps * batch, hid))
        grads = [
            xp.reshape(dgi_all @ w_ih.data, (steps, batch, feat)) if need_x else None,
            dh_next,
        ]
        if step.has_cell:
            grads.append(dc)
        grads += [be.matmul_tn(dgi_all, x2), be.matmul_tn(dgh_all, h_prev)]
        if b_ih is not None:
            grads.append(be.sum_rows(dgi_all))
        if b_hh is not None:
            grads.append(be.sum_rows(dgh_all))
        return tuple(grads)

    inputs = [x, h0] + ([c0] if step.has_cell else []) + [w_ih, w_hh]
    inputs += [b for b in (b_ih, b_hh) if b is not None]
    graph = by_recomputation(_layer_ops(step.mode, step.has_cell, b_ih is not None, b_hh is not None), tuple(inputs))
    return result(out, be, tuple(inputs), backward, op, graph)


def _sequence_kernels(be):
    """The backend's whole-sequence LSTM pair ``(lstm_sequence, lstm_sequence_backward)``, or None."""
    fwd, bwd = be.fused.get("lstm_sequence"), be.fused.get("lstm_sequence_backward")
    return None if fwd is None or bwd is None else (fwd, bwd)


def _sequence_node(op, sequence, x, x2, xg, h0, c0, w_ih, w_hh, b_ih, b_hh, h0_is_zero):
    """:func:`_layer_node` for an LSTM whose time loop runs in the backend (``cupy_kernels``):
    ``xg`` is every step's input projection with both biases added."""
    be = x._backend
    xp = be.xp
    steps, batch, feat = x.shape
    fwd, bwd = sequence
    out, saved = fwd(xg, h0.data, c0.data, w_hh.data, h0_is_zero)
    need_x = x.requires_grad and is_grad_enabled()
    need_h0 = h0.requires_grad and is_grad_enabled()

    def backward(g):
        dgates, h_prev, dh0, dc0 = bwd(g, saved, need_h0)
        grads = [xp.reshape(dgates @ w_ih.data, (steps, batch, feat)) if need_x else None, dh0, dc0,
                 be.matmul_tn(dgates, x2), be.matmul_tn(dgates, h_prev)]
        grads += [be.sum_rows(dgates) for b in (b_ih, b_hh) if b is not None]
        return tuple(grads)

    inputs = [x, h0, c0, w_ih, w_hh] + [b for b in (b_ih, b_hh) if b is not None]
    graph = by_recomputation(_layer_ops("lstm", True, b_ih is not None, b_hh is not None), tuple(inputs))
    return result(out, be, tuple(inputs), backward, op, graph)


def recurrent_layer(mode: str, x: Tensor, h0: Tensor | None, c0: Tensor | None, weight_ih: Tensor,
                    weight_hh: Tensor, bias_ih=None, bias_hh=None):
    """One unidirectional layer over a time-major sequence ``x`` of shape ``(T, B, I)``.

    ``mode`` is ``'rnn_tanh'``, ``'rnn_relu'``, ``'rnn_sigmoid'``, ``'lstm'`` or ``'gru'``. Returns
    ``(output (T, B, H), h_T (B, H), c_T (B, H) or None)``. Initial states default
    to zeros. One graph node (plus the selections of its packed result).
    """
    if _AMP[0]:
        x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh = _amp_cast(
            "low", x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    op = {"lstm": "LSTM", "gru": "GRU"}.get(mode, "RNN")
    step = _Step(x._backend, mode)
    if x.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D input (seq_len, batch, input_size), got shape {x.shape}")
    hid = _check_weights(op, x, weight_ih, weight_hh, bias_ih, bias_hh, step.gates)
    steps, batch = x.shape[0], x.shape[1]
    if steps == 0:
        raise ValueError(f"{op}: the input sequence is empty (shape {x.shape})")
    h0_given = h0
    h0 = _zeros(x, (batch, hid)) if h0 is None else h0
    _check_state(op, "h0", h0, (batch, hid))
    if step.has_cell:
        c0 = _zeros(x, (batch, hid)) if c0 is None else c0
        _check_state(op, "c0", c0, (batch, hid))
    else:
        c0 = None
    packed = _layer_node(op, step, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, h0_is_zero=h0_given is None)
    output = packed[:steps] if step.has_cell else packed
    return output, packed[steps - 1], (packed[steps] if step.has_cell else None)


__all__ = [
    "gru_cell", "gru_gates_backward", "gru_gates_forward", "lstm_cell", "lstm_gates_backward",
    "lstm_gates_forward", "recurrent_layer", "rnn_cell",
]
