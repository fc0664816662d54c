"""Recurrent cells and layers: the written equations, gradchecks, PyTorch parity
(optional), truncated BPTT, long sequences, and a char-level LSTM that learns."""

from __future__ import annotations

import gc
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdl
import gdl.nn.functional as F
from gdl import nn
from gdl.nn.functional import recurrent as R
from gdl.testing import gradcheck

SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def t64(a, grad=True):
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=gdl.float64, requires_grad=grad)


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


CELLS = {
    "rnn_tanh": (lambda i, h, **kw: nn.RNNCell(i, h, nonlinearity="tanh", **kw), 1),
    "rnn_relu": (lambda i, h, **kw: nn.RNNCell(i, h, nonlinearity="relu", **kw), 1),
    "rnn_sigmoid": (lambda i, h, **kw: nn.RNNCell(i, h, nonlinearity="sigmoid", **kw), 1),
    "lstm": (nn.LSTMCell, 4),
    "gru": (nn.GRUCell, 3),
}
LAYERS = {
    "rnn_tanh": lambda *a, **kw: nn.RNN(*a, nonlinearity="tanh", **kw),
    "rnn_relu": lambda *a, **kw: nn.RNN(*a, nonlinearity="relu", **kw),
    "rnn_sigmoid": lambda *a, **kw: nn.RNN(*a, nonlinearity="sigmoid", **kw),
    "lstm": nn.LSTM,
    "gru": nn.GRU,
}


def reference_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The textbook equations, written out independently in float64 NumPy."""
    hid = h.shape[1]
    if mode.startswith("rnn"):
        a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        act = {"rnn_tanh": np.tanh, "rnn_relu": lambda v: np.maximum(v, 0), "rnn_sigmoid": sig}[mode]
        return act(a), None
    if mode == "lstm":
        blk = [slice(k * hid, (k + 1) * hid) for k in range(4)]
        pre = [x @ w_ih[b].T + b_ih[b] + h @ w_hh[b].T + b_hh[b] for b in blk]
        i, f, g, o = sig(pre[0]), sig(pre[1]), np.tanh(pre[2]), sig(pre[3])
        c2 = f * c + i * g
        return o * np.tanh(c2), c2
    r_, z_, n_ = (slice(k * hid, (k + 1) * hid) for k in range(3))
    r = sig(x @ w_ih[r_].T + b_ih[r_] + h @ w_hh[r_].T + b_hh[r_])
    z = sig(x @ w_ih[z_].T + b_ih[z_] + h @ w_hh[z_].T + b_hh[z_])
    n = np.tanh(x @ w_ih[n_].T + b_ih[n_] + r * (h @ w_hh[n_].T + b_hh[n_]))
    return (1 - z) * n + z * h, None


# -- cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(CELLS))
def test_cell_step_matches_written_equations(backend, mode):
    make, gates = CELLS[mode]
    cell = make(3, 4, dtype=gdl.float64)
    names = [n for n, _ in cell.named_parameters()]
    assert names == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    shapes = [p.shape for p in cell.parameters()]
    assert shapes == [(gates * 4, 3), (gates * 4, 4), (gates * 4,), (gates * 4,)]
    bound = 1 / math.sqrt(4)
    assert all(np.abs(p.numpy()).max() <= bound for p in cell.parameters())
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    params = [p.numpy() for p in cell.parameters()]
    want_h, want_c = reference_step(mode, x, h, c, *params)
    if mode == "lstm":
        got_h, got_c = cell(t64(x, False), (t64(h, False), t64(c, False)))
        np.testing.assert_allclose(got_c.numpy(), want_c, rtol=1e-12, atol=1e-12)
    else:
        got_h = cell(t64(x, False), t64(h, False))
    np.testing.assert_allclose(got_h.numpy(), want_h, rtol=1e-12, atol=1e-12)
    # zero initial state by default; unbatched input works like a batch of one
    zeros_h = cell(t64(x, False))
    zeros_h = zeros_h[0] if mode == "lstm" else zeros_h
    want0, _ = reference_step(mode, x, np.zeros((2, 4)), np.zeros((2, 4)), *params)
    np.testing.assert_allclose(zeros_h.numpy(), want0, rtol=1e-12, atol=1e-12)
    single = cell(t64(x[0], False))
    single = single[0] if mode == "lstm" else single
    assert single.shape == (4,)
    np.testing.assert_allclose(single.numpy(), want0[0], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(mode=st.sampled_from(list(CELLS)), batch=st.integers(1, 3), isz=st.integers(1, 3), hid=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 999))
def test_cell_gradcheck(backend, mode, batch, isz, hid, bias, seed):
    make, _ = CELLS[mode]
    gdl.manual_seed(seed)
    cell = make(isz, hid, bias=bias, dtype=gdl.float64)
    rng = np.random.default_rng(seed)
    x, h, c = (t64(rng.standard_normal(s)) for s in ((batch, isz), (batch, hid), (batch, hid)))
    params = list(cell.parameters())
    if mode == "lstm":
        def fn(x, h, c, *_):
            h2, c2 = cell(x, (h, c))
            return gdl.stack([h2, c2])
        inputs = [x, h, c] + params
    else:
        def fn(x, h, *_):
            return cell(x, h)
        inputs = [x, h] + params
    assert gradcheck(fn, inputs)


# -- sequence layers -----------------------------------------------------------------------------


@SETTINGS
@given(mode=st.sampled_from(list(LAYERS)), steps=st.integers(1, 3), batch=st.integers(1, 2),
       layers=st.integers(1, 2), bias=st.booleans(), batch_first=st.booleans(), seed=st.integers(0, 999))
def test_layer_gradcheck(backend, mode, steps, batch, layers, bias, batch_first, seed):
    gdl.manual_seed(seed)
    net = LAYERS[mode](2, 3, num_layers=layers, bias=bias, batch_first=batch_first, dtype=gdl.float64)
    rng = np.random.default_rng(seed)
    xs = (batch, steps, 2) if batch_first else (steps, batch, 2)
    x, h0, c0 = t64(rng.standard_normal(xs)), t64(rng.standard_normal((layers, batch, 3))), \
        t64(rng.standard_normal((layers, batch, 3)))
    params = list(net.parameters())

    if mode == "lstm":
        def fn(x, h0, c0, *_):
            out, (h, c) = net(x, (h0, c0))
            return gdl.concat([out.reshape(-1), h.reshape(-1), (c * 2.0).reshape(-1)])
        inputs = [x, h0, c0] + params
    else:
        def fn(x, h0, *_):
            out, h = net(x, h0)
            return gdl.concat([out.reshape(-1), h.reshape(-1)])
        inputs = [x, h0] + params
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("mode", list(LAYERS))
def test_layer_equals_a_loop_of_cells(backend, mode):
    gdl.manual_seed(0)
    net = LAYERS[mode](3, 4, num_layers=2, dtype=gdl.float64)
    make, _ = CELLS[mode]
    cells = [make(3, 4, dtype=gdl.float64), make(4, 4, dtype=gdl.float64)]
    for k, cell in enumerate(cells):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data = getattr(net, f"{name}_l{k}").data
    x = t64(np.random.default_rng(1).standard_normal((5, 2, 3)), False)
    out, state = net(x)
    seq = [x[t] for t in range(5)]
    finals = []
    for cell in cells:
        s = None
        outs = []
        for xt in seq:
            s = cell(xt, s)
            outs.append(s[0] if mode == "lstm" else s)
        seq = outs
        finals.append(s)
    np.testing.assert_allclose(out.numpy(), gdl.stack(seq).numpy(), rtol=1e-12, atol=1e-12)
    h_n = state[0] if mode == "lstm" else state
    want_h = [f[0] if mode == "lstm" else f for f in finals]
    np.testing.assert_allclose(h_n.numpy(), gdl.stack(want_h).numpy(), rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        np.testing.assert_allclose(state[1].numpy(), gdl.stack([f[1] for f in finals]).numpy(), rtol=1e-12)


def test_layer_shapes_names_batch_first_and_unbatched(backend):
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names == [f"{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_ih_l1.shape == (20, 5)
    out, (h, c) = lstm(gdl.randn(2, 7, 3))
    assert out.shape == (2, 7, 5) and h.shape == c.shape == (2, 2, 5)
    out, (h, c) = lstm(gdl.randn(7, 3))  # unbatched
    assert out.shape == (7, 5) and h.shape == (2, 5)
    gru = nn.GRU(3, 4, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    out, h = gru(gdl.randn(6, 2, 3))
    assert out.shape == (6, 2, 4) and h.shape == (1, 2, 4)
    np.testing.assert_array_equal(out.numpy()[-1], h.numpy()[0])


def test_dropout_between_layers_only_in_training(backend):
    gdl.manual_seed(0)
    net = nn.GRU(3, 16, num_layers=2, dropout=0.5)
    x = gdl.randn(4, 2, 3)
    a, _ = net(x)
    b, _ = net(x)
    assert not np.allclose(a.numpy(), b.numpy())  # different masks
    net.eval()
    c, _ = net(x)
    d, _ = net(x)
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    with pytest.warns(UserWarning, match="no effect with num_layers=1"):
        nn.LSTM(3, 4, dropout=0.3)


def test_recurrent_errors(backend):
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(4, 2, 4\) \(num_layers · 2 directions"):
        nn.GRU(3, 4, num_layers=2, bidirectional=True)(gdl.randn(5, 2, 3), gdl.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="softsign")
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"\(5, 2, 6\) has 6 features, expected input_size 3"):
        lstm(gdl.randn(5, 2, 6))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        lstm(gdl.randn(5, 2, 3), (gdl.zeros(1, 2, 4), gdl.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match="3-D input"):
        lstm(gdl.randn(5, 2, 1, 3))
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"expected hx of shape \(2, 4\), got \(2, 5\)"):
        cell(gdl.randn(2, 3), gdl.zeros(2, 5))
    with pytest.raises(ValueError, match=r"has 2 features, expected input_size 3"):
        cell(gdl.randn(2, 2))


# -- fused kernels -------------------------------------------------------------------------------


def test_fused_gate_kernels_are_used_and_match_the_portable_path():
    be = gdl.get_backend_object("numpy")
    calls = {"lstm": 0, "gru": 0}

    def lstm_fwd(gates, c):
        calls["lstm"] += 1
        return R.lstm_gates_forward(be.xp, gates, c)

    def gru_fwd(gi, gh, h):
        calls["gru"] += 1
        return R.gru_gates_forward(be.xp, gi, gh, h)

    rng = np.random.default_rng(0)
    with gdl.use_backend("numpy"):
        x = rng.standard_normal((4, 2, 3))
        results = []
        for fused in (False, True):
            if fused:
                be.fused["lstm_gates"] = lstm_fwd
                be.fused["lstm_gates_backward"] = lambda dh, dc, s: R.lstm_gates_backward(be.xp, s, dh, dc)
                be.fused["gru_gates"] = gru_fwd
                be.fused["gru_gates_backward"] = lambda dh, s: R.gru_gates_backward(be.xp, s, dh)
            try:
                gdl.manual_seed(0)
                lstm, gru = nn.LSTM(3, 4, dtype=gdl.float64), nn.GRU(3, 4, dtype=gdl.float64)
                cell = nn.LSTMCell(3, 4, dtype=gdl.float64)
                xt = t64(x)
                out, _ = lstm(xt)
                out2, _ = gru(xt)
                h, c = cell(xt[0])
                (out.sum() + out2.sum() + h.sum() + c.sum()).backward()
                results.append([out.numpy(), out2.numpy(), xt.grad.numpy()] +
                               [p.grad.numpy() for m in (lstm, gru, cell) for p in m.parameters()])
            finally:
                for name in ("lstm_gates", "lstm_gates_backward", "gru_gates", "gru_gates_backward"):
                    be.fused.pop(name, None)
    assert calls == {"lstm": 5, "gru": 4}
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# -- PyTorch parity (optional) ----------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_matches_pytorch_with_the_same_state_dict(kind, bidirectional):
    torch = pytest.importorskip("torch")
    gdl.manual_seed(0)
    with gdl.use_backend("numpy"):
        kw = dict(num_layers=2, batch_first=True, bidirectional=bidirectional)
        ours = getattr(nn, kind)(3, 5, **kw, dtype=gdl.float64)
        theirs = getattr(torch.nn, kind)(3, 5, **kw).double()
        assert set(ours.state_dict()) == set(theirs.state_dict())
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 6, 3))
        states = 4 if bidirectional else 2
        h0 = rng.standard_normal((states, 2, 5))
        c0 = rng.standard_normal((states, 2, 5))
        gx, tx = t64(x), torch.tensor(x, requires_grad=True)
        if kind == "LSTM":
            out, (h, c) = ours(gx, (t64(h0, False), t64(c0, False)))
            tout, (th, tc) = theirs(tx, (torch.tensor(h0), torch.tensor(c0)))
            loss = (out * out).sum() + (h * c).sum()
            tloss = (tout * tout).sum() + (th * tc).sum()
        else:
            out, h = ours(gx, t64(h0, False))
            tout, th = theirs(tx, torch.tensor(h0))
            loss = (out * out).sum() + (h * h).sum()
            tloss = (tout * tout).sum() + (th * th).sum()
        loss.backward()
        tloss.backward()
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        tparams = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-9, atol=1e-12)
        # and back: PyTorch's state dict loads into gdl unchanged
        back = getattr(nn, kind)(3, 5, **kw, dtype=gdl.float64)
        back.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        state = (t64(h0, False), t64(c0, False)) if kind == "LSTM" else t64(h0, False)
        np.testing.assert_array_equal(back(t64(x, False), state)[0].numpy(), out.numpy())


# -- truncated BPTT and long sequences ---------------------------------------------------------------


def test_detach_cuts_the_graph_between_batches(backend):
    gdl.manual_seed(0)
    lstm, head = nn.LSTM(2, 3), nn.Linear(3, 1)
    batches = [gdl.randn(4, 2, 2) for _ in range(3)]

    state = None
    for x in batches:
        out, state = lstm(x, state)
        head(out).sum().backward()
        state = tuple(s.detach() for s in state)
        assert all(s.grad_fn is None and not s.requires_grad for s in state)
    # without detach the second backward() would walk into the freed first graph
    out, state = lstm(batches[0])
    head(out).sum().backward()
    out, _ = lstm(batches[1], state)
    with pytest.raises(RuntimeError, match="second time"):
        head(out).sum().backward()


def test_detached_state_gives_the_gradient_of_the_window_alone(backend):
    gdl.manual_seed(0)
    gru = nn.GRU(2, 3, dtype=gdl.float64)
    x1, x2 = t64(np.random.default_rng(0).standard_normal((3, 1, 2)), False), \
        t64(np.random.default_rng(1).standard_normal((3, 1, 2)), False)
    _, h = gru(x1)
    out, _ = gru(x2, h.detach())
    out.sum().backward()
    g_truncated = gru.weight_hh_l0.grad.numpy()
    gru.zero_grad()
    out, _ = gru(x2, t64(h.numpy(), False))  # the same state as a fresh constant
    out.sum().backward()
    np.testing.assert_allclose(gru.weight_hh_l0.grad.numpy(), g_truncated, rtol=1e-12)


def _graph_nodes(t):
    seen, stack = set(), [t]
    while stack:
        node = stack.pop().grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.inputs)
    return len(seen)


def test_a_thousand_steps_train_with_linear_graph_and_memory():
    """Length 1,000: no recursion error, graph and memory linear in the length."""
    with gdl.use_backend("numpy"):
        gdl.manual_seed(0)
        lstm, head = nn.LSTM(4, 8), nn.Linear(8, 1)
        x = gdl.randn(1000, 2, 4)
        out, _ = lstm(x)
        loss = (head(out) ** 2).mean()
        loss.backward()
        assert np.isfinite(lstm.weight_hh_l0.grad.numpy()).all()

        # a hand-written loop of cells: the engine walks a graph ~5,000 nodes deep
        cell = nn.LSTMCell(4, 8)
        sizes = {}
        for steps in (250, 1000):
            state = None
            for t in range(steps):
                state = cell(x[t], state)
            sizes[steps] = _graph_nodes(state[0])
        state[0].sum().backward()  # no RecursionError
        assert cell.weight_ih.grad is not None
        per_step = (sizes[1000] - sizes[250]) / 750
        assert per_step == int(per_step) and sizes[1000] <= per_step * 1000 + 10

        def peak(steps):
            xs = gdl.randn(steps, 2, 4)
            gc.collect()
            tracemalloc.start()
            out, _ = lstm(xs)
            (out * out).sum().backward()
            _, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return top

        small, big = peak(250), peak(1000)
        assert big < 6 * small, (small, big)  # linear: ~4x; quadratic would be ~16x


# -- a char-level LSTM learns ------------------------------------------------------------------------


class CharLM(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.out(out), state


def test_char_lstm_learns_a_repeated_sentence(backend):
    text = "the cat sat on the mat. " * 8
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text])
    batch, bptt = 4, 12
    cols = len(ids) // batch
    stream = ids[: cols * batch].reshape(batch, cols).T  # (time, batch): contiguous slices per column
    gdl.manual_seed(0)
    model = CharLM(len(chars), 24)
    losses = []
    for _epoch in range(12):
        state, total, count = None, 0.0, 0
        for start in range(0, cols - 1 - bptt + 1, bptt):
            inp = gdl.tensor(stream[start: start + bptt])
            tgt = gdl.tensor(stream[start + 1: start + 1 + bptt])
            logits, state = model(inp, state)
            loss = F.cross_entropy(logits.reshape(-1, len(chars)), tgt.reshape(-1))
            loss.backward()
            for p in model.parameters():
                p.data = p.data - 1.0 * p.grad.data
                p.grad = None
            state = tuple(s.detach() for s in state)
            total += loss.item()
            count += 1
        losses.append(total / count)
    assert losses[-1] < 0.4 * losses[0], losses


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_default_zero_state_equals_explicit_zeros(backend, mode):
    """The default state skips the first step's h0·W_hhᵀ and dL/dh0: the same numbers as zeros given."""
    rng = np.random.default_rng(3)
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)
    T, B, I, H = 4, 3, 5, 6
    x = rng.standard_normal((T, B, I))
    weights = [rng.standard_normal(s) * 0.5 for s in ((gates * H, I), (gates * H, H), (gates * H,), (gates * H,))]
    up = rng.standard_normal((T, B, H))  # the upstream gradient
    results = []
    for explicit in (False, True):
        xs, ws = t64(x), [t64(w) for w in weights]
        h0 = t64(np.zeros((B, H)), grad=explicit) if explicit else None
        c0 = t64(np.zeros((B, H)), grad=False) if explicit and mode == "lstm" else None
        out, h_t, c_t = R.recurrent_layer(mode, xs, h0, c0, *ws)
        (out * t64(up, False)).sum().backward()
        results.append([out.numpy(), xs.grad.numpy()] + [w.grad.numpy() for w in ws])
        if explicit:
            assert h0.grad is not None and h0.grad.numpy().shape == (B, H)  # asked for: computed
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_numpy_matmul_t_matches_plain_product():
    be = gdl.get_backend_object("numpy")
    rng = np.random.default_rng(0)
    for m, n in ((32, 2048), (1, 10), (100, 100), (512, 65), (16, 62)):
        a, b = rng.standard_normal((m, 24)), rng.standard_normal((n, 24))
        np.testing.assert_allclose(be.matmul_t(a, b), a @ b.T, rtol=1e-12)


@pytest.mark.parametrize("mode,kind", [("lstm", "LSTM"), ("gru", "GRU"), ("rnn_tanh", "RNN")])
def test_bidirectional_reverse_half_reads_the_sequence_backwards(backend, mode, kind):
    gdl.manual_seed(1)
    net = getattr(nn, kind)(3, 4, bidirectional=True, dtype=gdl.float64)
    assert "bidirectional=True" in repr(net) and net.weight_hh_l0_reverse.shape == net.weight_hh_l0.shape
    x = gdl.randn(5, 2, 3, dtype=gdl.float64)
    out, state = net(x)
    h_n = state[0] if kind == "LSTM" else state
    assert out.shape == (5, 2, 8) and h_n.shape == (2, 2, 4)
    fwd, _, _ = R.recurrent_layer(mode, x, None, None, *net._weights(0))
    rev, h_rev, _ = R.recurrent_layer(mode, x[::-1], None, None, *net._weights(0, "_reverse"))
    np.testing.assert_allclose(out.numpy()[..., :4], fwd.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.numpy()[..., 4:], rev.numpy()[::-1], rtol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[1], h_rev.numpy(), rtol=1e-12)  # the backward pass ends at t = 0
    np.testing.assert_allclose(h_n.numpy()[1], out.numpy()[0, :, 4:], rtol=1e-12)
    out.sum().backward()
    assert net.weight_ih_l0_reverse.grad is not None and x.grad is None  # x needs no gradient
    unbatched, _ = net(x[:, 0])
    np.testing.assert_allclose(unbatched.numpy(), out.numpy()[:, 0], rtol=1e-12)
