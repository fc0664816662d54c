"""Property-based cross-checks of gdl against PyTorch (skipped when torch is not installed).

Randomly drawn configurations of layers, losses, optimizers, schedules and
utilities run in both frameworks from the same numbers; forward values, input and
parameter gradients, running statistics and multi-step optimizer trajectories
must agree (float64, tight tolerances). Set ``GDL_CROSSCHECK_EXAMPLES`` to search
harder (e.g. 500) than the quick default.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch_support import F64, SETTINGS, TOL, close, g64, t64, two_group_sgd  # noqa: E402

import gdl  # noqa: E402
import gdl.data  # noqa: E402
import gdl.optim  # noqa: E402
from gdl import nn  # noqa: E402
from gdl.nn import functional as F  # noqa: E402
from gdl.nn.parameter import Parameter  # noqa: E402
from gdl.optim import lr_scheduler as sch  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional


def to_torch(gmod, tmod):
    """Load gdl module ``gmod``'s state into ``tmod`` (strict: the keys must agree)."""
    tmod.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in gmod.state_dict().items()})


def compare_params(gmod, tmod, **tol):
    tparams = dict(tmod.named_parameters())
    gparams = dict(gmod.named_parameters())
    assert list(gparams) == list(tparams)
    for name, p in gparams.items():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None, name
        else:
            close(p.grad, tg, f"grad of {name}", **tol)


# -- convolution and pooling ----------------------------------------------------------------------


def _maybe_int(draw, values):
    """A tuple, or its int when all equal and the coin says so."""
    values = tuple(values)
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


@st.composite
def conv_configs(draw, dims):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = [draw(st.integers(1, 4)) for _ in range(dims)]
    d = [draw(st.integers(1, 3)) for _ in range(dims)]
    mode = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if mode == "same":
        s = [1] * dims
        # gdl pads 'same' symmetrically only (an even total is a documented ValueError, tested below)
        k = [kk + 1 if (dd * (kk - 1)) % 2 else kk for kk, dd in zip(k, d)]
        p = [0] * dims
        padding = "same"
    else:
        s = [draw(st.integers(1, 3)) for _ in range(dims)]
        p = [0] * dims if mode == "valid" else [draw(st.integers(0, 3)) for _ in range(dims)]
        padding = "valid" if mode == "valid" else _maybe_int(draw, p)
    size = [max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 4)) for kk, dd, pp in zip(k, d, p)]
    n = draw(st.integers(1, 3))
    kw = dict(stride=_maybe_int(draw, s), padding=padding, dilation=_maybe_int(draw, d), groups=groups,
              bias=draw(st.booleans()))
    kernel = k[0] if dims == 1 else _maybe_int(draw, k)
    if dims == 1:
        kw = {key: (v[0] if isinstance(v, tuple) else v) for key, v in kw.items()}
    return (n, cin) + tuple(size), cin, cout, kernel, kw, draw(st.integers(0, 2**16))


def _check_conv(gcls, tcls, config):
    shape, cin, cout, kernel, kw, seed = config
    rng = np.random.default_rng(seed)
    gconv = gcls(cin, cout, kernel, **kw, dtype=F64)
    tconv = tcls(cin, cout, kernel, **kw).double()
    to_torch(gconv, tconv)
    x = rng.standard_normal(shape)
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = gconv(gx), tconv(tx)
    close(gy, ty, "output")
    up = rng.standard_normal(tuple(ty.shape))
    gy.backward(g64(up))
    ty.backward(t64(up))
    close(gx.grad, tx.grad, "input grad")
    compare_params(gconv, tconv)


@SETTINGS(30)
@given(config=conv_configs(2))
def test_conv2d_matches_torch(backend, config):
    _check_conv(nn.Conv2d, tnn.Conv2d, config)


@SETTINGS(20)
@given(config=conv_configs(1))
def test_conv1d_matches_torch(backend, config):
    _check_conv(nn.Conv1d, tnn.Conv1d, config)


def test_conv_same_padding_with_an_even_kernel_is_a_clear_error(backend):
    """A documented difference: PyTorch pads an even 'same' kernel asymmetrically, gdl refuses."""
    with pytest.raises(ValueError, match="odd effective kernel"):
        nn.Conv2d(1, 1, (2, 3), padding="same")(gdl.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match="odd effective kernel"):
        nn.Conv1d(1, 1, 4, padding="same")(gdl.zeros(1, 1, 5))


@st.composite
def pool_configs(draw, dims, kind):
    k = [draw(st.integers(1, 4)) for _ in range(dims)]
    d = [draw(st.integers(1, 2)) for _ in range(dims)] if kind == "max" else [1] * dims
    s = [draw(st.integers(1, 3)) for _ in range(dims)]
    p = [draw(st.integers(0, kk // 2)) for kk in k]  # PyTorch's limit (gdl allows half the dilated span)
    size = [max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 5)) for kk, dd, pp in zip(k, d, p)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + tuple(size)
    default_stride = draw(st.booleans())
    s = k if default_stride else s
    ceil_mode = draw(st.booleans())
    assume(all(_every_window_hits_the_input(*a, ceil_mode) for a in zip(size, k, s, p, d)))
    kw = dict(kernel_size=_maybe_int(draw, k), stride=None if default_stride else _maybe_int(draw, s),
              padding=_maybe_int(draw, p), ceil_mode=ceil_mode)
    if kind == "max":
        kw.update(dilation=_maybe_int(draw, d), return_indices=draw(st.booleans()))
    else:
        kw.update(count_include_pad=draw(st.booleans()))
    if dims == 1:
        kw = {key: (v[0] if isinstance(v, tuple) else v) for key, v in kw.items()}
    return shape, kw, draw(st.integers(0, 2**16))


def _every_window_hits_the_input(size, k, s, p, d, ceil_mode):
    """False when a (dilated) window sees only padding: PyTorch then sends the gradient of
    its -inf output to an arbitrary element, gdl to none (both outputs are -inf)."""
    span = d * (k - 1) + 1
    num = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (num - 1) * s >= size + p:
        num -= 1
    return all(any(0 <= i * s - p + j * d < size for j in range(k)) for i in range(num))


def _check_pool(gcls, tcls, config):
    shape, kw, seed = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    gx, tx = g64(x, True), t64(x, True)
    gout, tout = gcls(**kw)(gx), tcls(**kw)(tx)
    if kw.get("return_indices"):
        (gout, gidx), (tout, tidx) = gout, tout
        np.testing.assert_array_equal(gidx.numpy(), tidx.numpy())
    close(gout, tout, "output")
    up = rng.standard_normal(tuple(tout.shape))
    gout.backward(g64(up))
    tout.backward(t64(up))
    close(gx.grad, tx.grad, "input grad")


@SETTINGS(30)
@given(config=pool_configs(2, "max"))
def test_max_pool2d_matches_torch(backend, config):
    _check_pool(nn.MaxPool2d, tnn.MaxPool2d, config)


@SETTINGS(20)
@given(config=pool_configs(1, "max"))
def test_max_pool1d_matches_torch(backend, config):
    _check_pool(nn.MaxPool1d, tnn.MaxPool1d, config)


@SETTINGS(30)
@given(config=pool_configs(2, "avg"))
def test_avg_pool2d_matches_torch(backend, config):
    _check_pool(nn.AvgPool2d, tnn.AvgPool2d, config)


@SETTINGS(20)
@given(config=pool_configs(1, "avg"))
def test_avg_pool1d_matches_torch(backend, config):
    _check_pool(nn.AvgPool1d, tnn.AvgPool1d, config)


# -- recurrent layers and cells -----------------------------------------------------------------------


@st.composite
def rnn_configs(draw):
    kind = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    kw = dict(num_layers=draw(st.integers(1, 3)), bias=draw(st.booleans()), batch_first=draw(st.booleans()),
              bidirectional=draw(st.booleans()))
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    sizes = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))  # input_size, hidden_size
    steps, batch = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    unbatched = draw(st.booleans())
    given_state = draw(st.booleans())
    return kind, sizes, kw, steps, batch, unbatched, given_state, draw(st.integers(0, 2**16))


@SETTINGS(40)
@given(config=rnn_configs())
def test_recurrent_layers_match_torch(backend, config):
    """Outputs and h_n (and c_n), gradients of all three together, for inputs, h0/c0 and weights."""
    kind, (isz, hid), kw, steps, batch, unbatched, given_state, seed = config
    rng = np.random.default_rng(seed)
    gdl.manual_seed(seed)
    ours = getattr(nn, kind)(isz, hid, **kw, dtype=F64)
    theirs = getattr(tnn, kind)(isz, hid, **kw).double()
    to_torch(ours, theirs)
    states = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    if unbatched:
        xshape, sshape = (steps, isz), (states, hid)
    else:
        xshape = (batch, steps, isz) if kw["batch_first"] else (steps, batch, isz)
        sshape = (states, batch, hid)
    x = rng.standard_normal(xshape)
    gx, tx = g64(x, True), t64(x, True)
    ginit, tinit = None, None
    if given_state:
        h0, c0 = rng.standard_normal(sshape), rng.standard_normal(sshape)
        gh0, th0, gc0, tc0 = g64(h0, True), t64(h0, True), g64(c0, True), t64(c0, True)
        ginit, tinit = ((gh0, gc0), (th0, tc0)) if kind == "LSTM" else (gh0, th0)
    gout, gstate = ours(gx, ginit)
    tout, tstate = theirs(tx, tinit)
    gparts = [gout] + (list(gstate) if kind == "LSTM" else [gstate])
    tparts = [tout] + (list(tstate) if kind == "LSTM" else [tstate])
    gloss, tloss = 0, 0
    for name, a, b in zip(["output", "h_n", "c_n"], gparts, tparts):
        close(a, b, name)
        up = rng.standard_normal(tuple(b.shape))
        gloss = gloss + (a * g64(up)).sum()
        tloss = tloss + (b * t64(up)).sum()
    gloss.backward()
    tloss.backward()
    close(gx.grad, tx.grad, "input grad")
    if given_state:
        close(gh0.grad, th0.grad, "h0 grad")
        if kind == "LSTM":
            close(gc0.grad, tc0.grad, "c0 grad")
    compare_params(ours, theirs)


@st.composite
def cell_configs(draw):
    kind = draw(st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]))
    kw = dict(bias=draw(st.booleans()))
    if kind == "RNNCell":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    return (kind, draw(st.integers(1, 4)), draw(st.integers(1, 4)), kw, draw(st.integers(1, 3)),
            draw(st.booleans()), draw(st.booleans()), draw(st.integers(1, 3)), draw(st.integers(0, 2**16)))


@SETTINGS(40)
@given(config=cell_configs())
def test_recurrent_cells_match_torch(backend, config):
    """A few steps of a cell, unbatched or batched, with or without an initial state."""
    kind, isz, hid, kw, batch, unbatched, given_state, steps, seed = config
    rng = np.random.default_rng(seed)
    gdl.manual_seed(seed)
    ours = getattr(nn, kind)(isz, hid, **kw, dtype=F64)
    theirs = getattr(tnn, kind)(isz, hid, **kw).double()
    to_torch(ours, theirs)
    lead = () if unbatched else (batch,)
    xs = [rng.standard_normal(lead + (isz,)) for _ in range(steps)]
    gxs, txs = [g64(x, True) for x in xs], [t64(x, True) for x in xs]
    gstate = tstate = None
    gleaves, tleaves = [], []
    if given_state:
        init = [rng.standard_normal(lead + (hid,)) for _ in range(2 if kind == "LSTMCell" else 1)]
        gleaves, tleaves = [g64(a, True) for a in init], [t64(a, True) for a in init]
        gstate = tuple(gleaves) if kind == "LSTMCell" else gleaves[0]
        tstate = tuple(tleaves) if kind == "LSTMCell" else tleaves[0]
    gloss, tloss = 0, 0
    for gx, tx in zip(gxs, txs):
        gstate, tstate = ours(gx, gstate), theirs(tx, tstate)
        gparts = list(gstate) if kind == "LSTMCell" else [gstate]
        tparts = list(tstate) if kind == "LSTMCell" else [tstate]
        for a, b in zip(gparts, tparts):
            close(a, b, "state")
            up = rng.standard_normal(tuple(b.shape))
            gloss = gloss + (a * g64(up)).sum()
            tloss = tloss + (b * t64(up)).sum()
    gloss.backward()
    tloss.backward()
    for a, b in zip(gxs + gleaves, txs + tleaves):
        close(a.grad, b.grad, "input/state grad")
    compare_params(ours, theirs)


# -- losses ---------------------------------------------------------------------------------------------


def _check_loss(gfn, tfn, x, rng, **tol):
    gx, tx = g64(x, True), t64(x, True)
    gl, tl = gfn(gx), tfn(tx)
    close(gl, tl, "loss", **tol)
    up = rng.standard_normal(tuple(tl.shape))
    gl.backward(g64(up))
    tl.backward(t64(up))
    close(gx.grad, tx.grad, "input grad", **tol)


@st.composite
def cross_entropy_configs(draw):
    c = draw(st.integers(1, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = (c,) if draw(st.integers(0, 5)) == 0 else (draw(st.integers(1, 4)), c) + extra
    return dict(
        shape=shape,
        probs=draw(st.booleans()),
        weight=draw(st.booleans()),
        ignore_index=draw(st.sampled_from([-100, 0, 1, -1, 3])),
        reduction=draw(st.sampled_from(["mean", "sum", "none"])),
        label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.1, 0.35, 1.0])),
        module=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


@SETTINGS(80)
@given(cfg=cross_entropy_configs())
def test_cross_entropy_matches_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = cfg["shape"]
    c = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape) * 3
    w = rng.uniform(0.2, 2.0, size=c) if cfg["weight"] else None
    kw = dict(reduction=cfg["reduction"], label_smoothing=cfg["label_smoothing"])
    if cfg["probs"]:
        y = rng.dirichlet(np.ones(c), size=shape[:1] + shape[2:]) if len(shape) > 1 else rng.dirichlet(np.ones(c))
        y = np.moveaxis(y, -1, 1) if len(shape) > 1 else y
        gy, ty = g64(y), t64(y)
    else:
        y = rng.integers(0, c, size=shape[:1] + shape[2:]) if len(shape) > 1 else np.array(rng.integers(0, c))
        ignore = cfg["ignore_index"]
        if y.ndim and y.size > 1 and ignore >= 0:
            y.flat[0] = ignore  # some targets are ignored
        assume(ignore < 0 or ignore >= c or kw["reduction"] != "mean" or (y != ignore).any())  # 0/0 is NaN
        kw["ignore_index"] = ignore
        gy, ty = gdl.tensor(y), torch.tensor(y)
    gw = None if w is None else g64(w)
    tw = None if w is None else t64(w)
    if cfg["module"]:
        gfn = lambda a: nn.CrossEntropyLoss(weight=gw, **kw)(a, gy)  # noqa: E731
    else:
        gfn = lambda a: F.cross_entropy(a, gy, gw, **kw)  # noqa: E731
    _check_loss(gfn, lambda a: TF.cross_entropy(a, ty, tw, **kw), x, rng)


@SETTINGS(50)
@given(n=st.integers(1, 5), c=st.integers(1, 5), weight=st.booleans(), ignore=st.sampled_from([-100, 0, 2]),
       reduction=st.sampled_from(["mean", "sum", "none"]), module=st.booleans(), seed=st.integers(0, 2**16))
def test_nll_loss_matches_torch(backend, n, c, weight, ignore, reduction, module, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c))
    y = rng.integers(0, c, size=n)
    if n > 1:
        y[0] = ignore
    assume(reduction != "mean" or (y != ignore).any())
    w = rng.uniform(0.2, 2.0, size=c) if weight else None
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    kw = dict(ignore_index=ignore, reduction=reduction)
    if module:
        gfn = lambda a: nn.NLLLoss(gw, **kw)(a, gdl.tensor(y))  # noqa: E731
    else:
        gfn = lambda a: F.nll_loss(a, gdl.tensor(y), gw, **kw)  # noqa: E731
    _check_loss(gfn, lambda a: TF.nll_loss(a, torch.tensor(y), tw, **kw), x, rng)


@SETTINGS(40)
@given(cfg=cross_entropy_configs())
def test_cross_entropy_with_masked_logits_matches_torch(backend, cfg):
    """Logits of -inf (masked-out classes) that are not the target: PyTorch's loss stays finite
    (0·log 0 never enters a class-index loss); gdl's general path used to multiply 0 by -inf."""
    rng = np.random.default_rng(cfg["seed"])
    shape = cfg["shape"]
    c = shape[0] if len(shape) == 1 else shape[1]
    assume(c > 1)
    x = rng.standard_normal(shape)
    y = rng.integers(0, c, size=shape[:1] + shape[2:]) if len(shape) > 1 else np.array(rng.integers(0, c))
    masked = (y + 1) % c  # one class per sample, never its target
    np.put_along_axis(x, np.expand_dims(masked, 1 if len(shape) > 1 else 0), -np.inf, axis=1 if len(shape) > 1 else 0)
    w = rng.uniform(0.2, 2.0, size=c) if cfg["weight"] else None
    kw = dict(reduction=cfg["reduction"], label_smoothing=cfg["label_smoothing"])  # smoothing: inf, in both
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    _check_loss(lambda a: F.cross_entropy(a, gdl.tensor(y), gw, **kw),
                lambda a: TF.cross_entropy(a, torch.tensor(y), tw, **kw), x, rng)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_with_masked_log_probabilities_matches_torch(backend, weighted, reduction):
    """log p = -inf for a class that is not the target (and NaN for one, too): PyTorch reads only
    the target's entry; gdl's one-hot product used to turn 0·(-inf) into a NaN loss."""
    rng = np.random.default_rng(0)
    x = np.log(rng.dirichlet(np.ones(4), size=5))
    y = np.array([0, 1, 2, 3, 1])
    x[0, 1] = x[1, 3] = x[4, 0] = -np.inf
    x[2, 0] = np.nan
    w = rng.uniform(0.5, 2, size=4) if weighted else None
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    _check_loss(lambda a: F.nll_loss(a, gdl.tensor(y), gw, reduction=reduction),
                lambda a: TF.nll_loss(a, torch.tensor(y), tw, reduction=reduction), x, rng)


def test_loss_arguments_pytorch_refuses_are_clear_errors(backend):
    """gdl used to accept label_smoothing = 1.5 silently, and broadcast an element weight of shape
    (2, 3) against an input of shape (3,) into a (2, 3) loss; wrong class-weight shapes failed
    with NumPy's broadcasting message, which names neither the op nor the weight."""
    x, y = gdl.zeros(4, 3), gdl.tensor([0, 1, 2, 1])
    with pytest.raises(RuntimeError, match="label_smoothing"):
        TF.cross_entropy(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    for ls in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\]"):
            F.cross_entropy(x, y, label_smoothing=ls)
    for w in (gdl.ones(4), gdl.ones(2), gdl.ones(1, 3)):
        with pytest.raises(ValueError, match=r"cross_entropy: weight must have one entry per class, shape \(3,\)"):
            F.cross_entropy(x, y, weight=w)
        with pytest.raises(ValueError, match=r"cross_entropy: weight .*\(3,\)"):
            F.cross_entropy(gdl.zeros(4, 3, 2), gdl.zeros(4, 2, dtype=gdl.int64), weight=w)
        with pytest.raises(ValueError, match=r"nll_loss: weight must have one entry per class, shape \(3,\)"):
            F.nll_loss(x, y, weight=w)
    p, t = gdl.full((3,), 0.5), gdl.ones(3)
    with pytest.raises(RuntimeError):
        TF.binary_cross_entropy_with_logits(torch.zeros(3), torch.ones(3), weight=torch.ones(2, 3), reduction="none")
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(2, 3\) does not broadcast"):
        F.binary_cross_entropy(p, t, weight=gdl.ones(2, 3), reduction="none")
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: weight of shape \(2, 3\)"):
        F.binary_cross_entropy_with_logits(p, t, weight=gdl.ones(2, 3), reduction="none")
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight of shape \(2,\)"):
        F.binary_cross_entropy_with_logits(p, t, pos_weight=gdl.ones(2))


@pytest.mark.parametrize("bad", [3, 7, -1, -101])
def test_nll_loss_rejects_class_indices_outside_the_classes(backend, bad):
    """PyTorch: 'Target 7 is out of bounds'. gdl used to pick nothing and return a loss of 0 for that row."""
    y = np.array([0, bad, 1])
    with pytest.raises(IndexError, match="out of bounds"):
        TF.nll_loss(torch.zeros(3, 3), torch.tensor(y))
    with pytest.raises(ValueError, match=r"nll_loss: target class indices must be in \[0, 3\)"):
        F.nll_loss(gdl.zeros(3, 3), gdl.tensor(y))
    # the ignored index is no class, wherever it lies
    close(F.nll_loss(g64(-np.eye(3)), gdl.tensor(y), ignore_index=bad),
          TF.nll_loss(t64(-np.eye(3)), torch.tensor(y), ignore_index=bad))


@pytest.mark.parametrize("p", [1.5, -0.25, float("nan")])
def test_binary_cross_entropy_rejects_probabilities_outside_0_1(backend, p):
    """PyTorch: 'all elements of input should be between 0 and 1'. gdl used to return a finite
    loss (even a negative one: -0.09 for p = 1.5, t = 1) and a gradient pointing nowhere useful."""
    x, t = np.array([p, 0.2]), np.array([1.0, 0.0])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        TF.binary_cross_entropy(t64(x), t64(t))
    with pytest.raises(ValueError, match="binary_cross_entropy: .*between 0 and 1"):
        F.binary_cross_entropy(g64(x), g64(t))


@st.composite
def binary_configs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    # weight and pos_weight broadcast against the input, as in PyTorch
    wshape = draw(st.sampled_from([None, "full", "last"]))
    return dict(shape=shape, wshape=wshape, pos_weight=draw(st.booleans()), soft=draw(st.booleans()),
                reduction=draw(st.sampled_from(["mean", "sum", "none"])), module=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def _binary_inputs(cfg, rng):
    shape = cfg["shape"]
    t = rng.uniform(0, 1, size=shape) if cfg["soft"] else rng.integers(0, 2, size=shape).astype(np.float64)
    w = {None: None, "full": shape, "last": shape[-1:]}[cfg["wshape"]]
    w = None if w is None else rng.uniform(0.2, 2.0, size=w)
    return t, w


@SETTINGS(50)
@given(cfg=binary_configs())
def test_binary_cross_entropy_matches_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    t, w = _binary_inputs(cfg, rng)
    p = rng.uniform(0.02, 0.98, size=cfg["shape"])
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    red = cfg["reduction"]
    if cfg["module"]:
        gfn = lambda a: nn.BCELoss(gw, red)(a, g64(t))  # noqa: E731
    else:
        gfn = lambda a: F.binary_cross_entropy(a, g64(t), gw, red)  # noqa: E731
    _check_loss(gfn, lambda a: TF.binary_cross_entropy(a, t64(t), tw, reduction=red), p, rng)


@SETTINGS(50)
@given(cfg=binary_configs())
def test_binary_cross_entropy_with_logits_matches_torch(backend, cfg):
    rng = np.random.default_rng(cfg["seed"])
    t, w = _binary_inputs(cfg, rng)
    x = rng.standard_normal(cfg["shape"]) * 4
    pw = rng.uniform(0.2, 3.0, size=cfg["shape"][-1:]) if cfg["pos_weight"] else None
    gw, tw = (None, None) if w is None else (g64(w), t64(w))
    gpw, tpw = (None, None) if pw is None else (g64(pw), t64(pw))
    red = cfg["reduction"]
    if cfg["module"]:
        gfn = lambda a: nn.BCEWithLogitsLoss(gw, red, gpw)(a, g64(t))  # noqa: E731
    else:
        gfn = lambda a: F.binary_cross_entropy_with_logits(a, g64(t), gw, gpw, red)  # noqa: E731
    _check_loss(gfn, lambda a: TF.binary_cross_entropy_with_logits(a, t64(t), tw, pos_weight=tpw, reduction=red),
                x, rng)


@SETTINGS(30)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), reduction=st.sampled_from(["mean", "sum", "none"]),
       module=st.booleans(), seed=st.integers(0, 2**16))
def test_mse_loss_matches_torch(backend, shape, reduction, module, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    if module:
        gfn = lambda a: nn.MSELoss(reduction)(a, g64(y))  # noqa: E731
    else:
        gfn = lambda a: F.mse_loss(a, g64(y), reduction)  # noqa: E731
    _check_loss(gfn, lambda a: TF.mse_loss(a, t64(y), reduction=reduction), x, rng)


# -- Linear and activations ----------------------------------------------------------------------------------


@SETTINGS(30)
@given(lead=st.lists(st.integers(0, 3), min_size=0, max_size=3), fin=st.integers(1, 4), fout=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_matches_torch(backend, lead, fin, fout, bias, seed):
    rng = np.random.default_rng(seed)
    ours, theirs = nn.Linear(fin, fout, bias=bias, dtype=F64), tnn.Linear(fin, fout, bias=bias).double()
    to_torch(ours, theirs)
    x = rng.standard_normal(tuple(lead) + (fin,))
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = ours(gx), theirs(tx)
    close(gy, ty)
    up = rng.standard_normal(tuple(ty.shape))
    gy.backward(g64(up))
    ty.backward(t64(up))
    close(gx.grad, tx.grad, "input grad")
    compare_params(ours, theirs)


ACTIVATIONS = {  # name -> (gdl module, torch module, tolerance)
    "relu": (lambda: nn.ReLU(), lambda: tnn.ReLU(), TOL),
    "tanh": (lambda: nn.Tanh(), lambda: tnn.Tanh(), TOL),
    "sigmoid": (lambda: nn.Sigmoid(), lambda: tnn.Sigmoid(), TOL),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), TOL),
    "leaky_relu_default": (lambda: nn.LeakyReLU(), lambda: tnn.LeakyReLU(), TOL),
    "leaky_relu_steep": (lambda: nn.LeakyReLU(-1.5), lambda: tnn.LeakyReLU(-1.5), TOL),
    "gelu": (lambda: nn.GELU(), lambda: tnn.GELU(), dict(rtol=1e-6, atol=1e-7)),  # erf to ~1e-7
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), TOL),
    "softmax_0": (lambda: nn.Softmax(0), lambda: tnn.Softmax(0), TOL),
    "softmax_last": (lambda: nn.Softmax(-1), lambda: tnn.Softmax(-1), TOL),
    "log_softmax_1": (lambda: nn.LogSoftmax(1), lambda: tnn.LogSoftmax(1), TOL),
    "log_softmax_last": (lambda: nn.LogSoftmax(-1), lambda: tnn.LogSoftmax(-1), TOL),
    "identity": (lambda: nn.Identity(), lambda: tnn.Identity(), TOL),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_activations_match_torch(backend, name, scale):
    """Values and gradients, exact zeros (the kinks) and large magnitudes included."""
    make, tmake, tol = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5)) * scale
    x[0, 0, :3] = 0.0
    x[1, 2, 0], x[1, 2, 1] = 800.0, -800.0
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = make()(gx), tmake()(tx)
    close(gy, ty, **tol)
    up = rng.standard_normal(x.shape)
    gy.backward(g64(up))
    ty.backward(t64(up))
    close(gx.grad, tx.grad, **tol)


# -- Embedding, LayerNorm, BatchNorm, Dropout --------------------------------------------------------------


@SETTINGS(40)
@given(num=st.integers(1, 7), dim=st.integers(1, 4), idx_shape=st.lists(st.integers(1, 4), min_size=0, max_size=2),
       padding=st.booleans(), negative=st.booleans(), module=st.booleans(), seed=st.integers(0, 2**16))
def test_embedding_matches_torch(backend, num, dim, idx_shape, padding, negative, module, seed):
    rng = np.random.default_rng(seed)
    pad = None
    if padding:
        pad = int(rng.integers(-num, 0)) if negative else int(rng.integers(0, num))
    idx = rng.integers(0, num, size=tuple(idx_shape))
    if pad is not None and idx.size:
        idx.flat[0] = pad % num  # the padding row is used
    w = rng.standard_normal((num, dim))
    if module:
        ours, theirs = nn.Embedding(num, dim, padding_idx=pad, dtype=F64), tnn.Embedding(num, dim, padding_idx=pad)
        theirs = theirs.double()
        if pad is not None:
            np.testing.assert_array_equal(ours.weight.numpy()[pad], 0.0)
            assert ours.padding_idx == theirs.padding_idx
        ours.load_state_dict({"weight": w})
        to_torch(ours, theirs)
        gout, tout = ours(gdl.tensor(idx)), theirs(torch.tensor(idx))
        gw, tw = ours.weight, theirs.weight
    else:
        gw, tw = g64(w, True), t64(w, True)
        gout, tout = F.embedding(gdl.tensor(idx), gw, pad), TF.embedding(torch.tensor(idx), tw, pad)
    close(gout, tout, "output")
    up = rng.standard_normal(tuple(tout.shape))
    gout.backward(g64(up))
    tout.backward(t64(up))
    close(gw.grad, tw.grad, "weight grad")


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_sparse_embedding_trains_like_torch(backend, padding_idx):
    """Embedding(sparse=True) with plain SGD: the same rows move by the same amounts."""
    rng = np.random.default_rng(0)
    ours = nn.Embedding(6, 3, padding_idx=padding_idx, sparse=True, dtype=F64)
    theirs = tnn.Embedding(6, 3, padding_idx=padding_idx, sparse=True).double()
    to_torch(ours, theirs)
    gopt, topt = gdl.optim.SGD(ours.parameters(), lr=0.3), torch.optim.SGD(theirs.parameters(), lr=0.3)
    for _ in range(4):
        idx = rng.integers(0, 6, size=(3, 4))
        idx[0, 0] = idx[1, 1] = 2  # repeated rows accumulate; row 2 may be the padding row
        up = rng.standard_normal((3, 4, 3))
        (ours(gdl.tensor(idx)) * g64(up)).sum().backward()
        (theirs(torch.tensor(idx)) * t64(up)).sum().backward()
        close(ours.weight.grad.to_dense(), theirs.weight.grad.to_dense(), "sparse gradient")
        gopt.step()
        topt.step()
        gopt.zero_grad()
        topt.zero_grad()
        close(ours.weight, theirs.weight, "weights")


def test_embedding_of_no_indices(backend):
    """An empty batch of indices: an empty output and a zero gradient, as PyTorch's."""
    w = np.random.default_rng(0).standard_normal((4, 3))
    gw, tw = g64(w, True), t64(w, True)
    idx = np.zeros((2, 0), dtype=np.int64)
    gout, tout = F.embedding(gdl.tensor(idx), gw), TF.embedding(torch.tensor(idx), tw)
    close(gout, tout)
    gout.sum().backward()
    tout.sum().backward()
    close(gw.grad, tw.grad)


@pytest.mark.parametrize("pad", [5, 9, -6, -10])
def test_embedding_rejects_a_padding_idx_outside_the_table(backend, pad):
    with pytest.raises(AssertionError):
        tnn.Embedding(5, 3, padding_idx=pad)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=pad)
    with pytest.raises(AssertionError):
        TF.embedding(torch.tensor([0]), torch.zeros(5, 3), padding_idx=pad)
    with pytest.raises(ValueError, match=r"embedding: padding_idx must be in \[-5, 5\)"):
        F.embedding(gdl.tensor([0]), gdl.zeros(5, 3), padding_idx=pad)


@SETTINGS(40)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), norm=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       affine=st.booleans(), eps=st.sampled_from([1e-5, 1e-2]), seed=st.integers(0, 2**16))
def test_layer_norm_matches_torch(backend, lead, norm, affine, eps, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(lead) + tuple(norm)
    normalized = norm[0] if len(norm) == 1 and rng.integers(2) else tuple(norm)
    ours = nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine, dtype=F64)
    theirs = tnn.LayerNorm(normalized, eps=eps, elementwise_affine=affine).double()
    if affine:
        ours.load_state_dict({"weight": rng.uniform(0.5, 1.5, size=norm), "bias": rng.standard_normal(norm)})
    to_torch(ours, theirs)
    x = rng.standard_normal(shape) * 2 + 1
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = ours(gx), theirs(tx)
    close(gy, ty, "output")
    up = rng.standard_normal(shape)
    gy.backward(g64(up))
    ty.backward(t64(up))
    close(gx.grad, tx.grad, "input grad", rtol=1e-8, atol=1e-10)
    compare_params(ours, theirs, rtol=1e-8, atol=1e-10)


@st.composite
def batch_norm_configs(draw):
    two_d = draw(st.booleans())
    c = draw(st.integers(1, 3))
    if two_d:
        shape = (draw(st.integers(1, 3)), c, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    else:
        shape = (draw(st.integers(1, 4)), c) + ((draw(st.integers(1, 3)),) if draw(st.booleans()) else ())
    assume(math.prod(shape) // c > 1)  # PyTorch refuses one value per channel in training
    return dict(two_d=two_d, shape=shape, momentum=draw(st.sampled_from([0.1, 0.5, 1.0, 0.0])),
                affine=draw(st.booleans()), track=draw(st.booleans()), eps=draw(st.sampled_from([1e-5, 0.1])),
                modes=draw(st.lists(st.booleans(), min_size=1, max_size=4)), seed=draw(st.integers(0, 2**16)))


def _check_batch_norm(cfg):
    rng = np.random.default_rng(cfg["seed"])
    c = cfg["shape"][1]
    kw = dict(eps=cfg["eps"], momentum=cfg["momentum"], affine=cfg["affine"], track_running_stats=cfg["track"])
    ours = (nn.BatchNorm2d if cfg["two_d"] else nn.BatchNorm1d)(c, **kw, dtype=F64)
    theirs = (tnn.BatchNorm2d if cfg["two_d"] else tnn.BatchNorm1d)(c, **kw).double()
    if cfg["affine"]:
        ours.load_state_dict({"weight": rng.uniform(0.5, 1.5, size=c), "bias": rng.standard_normal(c)}, strict=False)
    to_torch(ours, theirs)
    for step, training in enumerate(cfg["modes"]):
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(cfg["shape"]) * (step + 1) + step
        gx, tx = g64(x, True), t64(x, True)
        gy, ty = ours(gx), theirs(tx)
        close(gy, ty, f"output at step {step}", rtol=1e-8, atol=1e-10)
        up = rng.standard_normal(cfg["shape"])
        gy.backward(g64(up))
        ty.backward(t64(up))
        close(gx.grad, tx.grad, f"input grad at step {step}", rtol=1e-8, atol=1e-10)
        compare_params(ours, theirs, rtol=1e-8, atol=1e-10)
        ours.zero_grad()
        theirs.zero_grad()
        tstate = theirs.state_dict()
        gstate = ours.state_dict()
        assert list(gstate) == list(tstate)
        for k, v in tstate.items():
            close(gstate[k], v, k)


@SETTINGS(60)
@given(cfg=batch_norm_configs())
def test_batch_norm_matches_torch(backend, cfg):
    """Train/eval sequences, running statistics, num_batches_tracked, affine and tracking off."""
    _check_batch_norm(cfg)


@pytest.mark.parametrize("two_d", [False, True])
def test_batch_norm_momentum_none_is_a_cumulative_average(backend, two_d):
    """PyTorch's ``momentum=None``: the running statistics are the plain mean over batches."""
    shape = (3, 2, 2, 2) if two_d else (4, 2)
    _check_batch_norm(dict(two_d=two_d, shape=shape, momentum=None, affine=True, track=True, eps=1e-5,
                           modes=[True, True, False, True, True, False], seed=0))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 2, 1, 1)])
def test_batch_norm_one_value_per_channel_in_training_is_an_error(backend, shape):
    layer = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(shape[1])
    tlayer = (tnn.BatchNorm2d if len(shape) == 4 else tnn.BatchNorm1d)(shape[1])
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        tlayer(torch.zeros(shape))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(gdl.zeros(*shape))
    layer.eval()  # evaluation uses the running statistics: fine
    tlayer.eval()
    close(layer(gdl.ones(*shape)), tlayer(torch.ones(shape)), rtol=1e-6)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_in_eval_is_the_identity(backend, p):
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours, theirs = nn.Dropout(p).eval(), tnn.Dropout(p).eval()
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = ours(gx), theirs(tx)
    close(gy, ty)
    gy.backward(g64(np.ones((3, 4))))
    ty.backward(torch.ones(3, 4, dtype=torch.float64))
    close(gx.grad, tx.grad)
    # p = 0 in training is the identity too; p = 1 zeroes everything
    if p in (0.0, 1.0):
        close(nn.Dropout(p)(g64(x)), tnn.Dropout(p)(t64(x)))


# -- optimizers: trajectories of a small model -----------------------------------------------------------

_LR = st.sampled_from([0.01, 0.1, 0.3])
_WD = st.sampled_from([0.0, 0.0, 0.01, 0.2])


@st.composite
def optimizer_configs(draw):
    name = draw(st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]))
    kw = dict(lr=draw(_LR), weight_decay=draw(_WD))
    if name == "SGD":
        kw["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
        kw["nesterov"] = kw["momentum"] > 0 and draw(st.booleans())
        kw["dampening"] = 0.0 if kw["nesterov"] else draw(st.sampled_from([0.0, 0.3]))
    elif name in ("Adam", "AdamW"):
        kw["betas"] = (draw(st.sampled_from([0.0, 0.5, 0.9])), draw(st.sampled_from([0.5, 0.9, 0.999])))
        kw["eps"] = draw(st.sampled_from([1e-8, 1e-3]))
        kw["amsgrad"] = draw(st.booleans())
    elif name == "RMSprop":
        kw["alpha"] = draw(st.sampled_from([0.5, 0.9, 0.99]))
        kw["eps"] = draw(st.sampled_from([1e-8, 1e-3]))
        kw["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
        kw["centered"] = draw(st.booleans())
    else:
        kw["lr_decay"] = draw(st.sampled_from([0.0, 0.1]))
        kw["initial_accumulator_value"] = draw(st.sampled_from([0.0, 0.1, 1.0]))
        kw["eps"] = draw(st.sampled_from([1e-10, 1e-3]))
    # a second parameter group with its own lr and weight decay (None: one group), maybe added late
    second = draw(st.one_of(st.none(), st.fixed_dictionaries(dict(lr=_LR, weight_decay=_WD))))
    steps = draw(st.integers(4, 9))
    return dict(name=name, kw=kw, second=second, late=second is not None and draw(st.booleans()),
                steps=steps, resume_at=draw(st.integers(1, steps - 1)), set_to_none=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


class _Model:
    """Linear-Tanh-Linear plus a parameter ``extra`` that only even steps' losses use."""

    def __init__(self, lib, seed):
        if lib is gdl:
            gdl.manual_seed(seed)
            self.net = nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.Tanh(), nn.Linear(4, 2, dtype=F64))
            self.extra = Parameter(g64([0.5, -1.5]))
        else:
            self.net = tnn.Sequential(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 2)).double()
            self.extra = t64([0.5, -1.5], True)
        self.lib = lib

    def params(self):
        return list(self.net.parameters()) + [self.extra]

    def groups(self, cfg, with_second=True):
        if cfg["second"] is None:
            return self.params()
        first = {"params": list(self.net[0].parameters()) + [self.extra]}
        return [first, self.second(cfg)] if with_second else [first]

    def second(self, cfg):
        return dict(cfg["second"], params=list(self.net[2].parameters()))

    def loss(self, x, y, step):
        if self.lib is gdl:
            out = F.mse_loss(self.net(g64(x)), g64(y))
            return out + (self.extra * self.extra).sum() if step % 2 == 0 else out
        out = TF.mse_loss(self.net(t64(x)), t64(y))
        return out + (self.extra * self.extra).sum() if step % 2 == 0 else out


def _torch_state(sd):
    """A gdl optimizer state dict as PyTorch's: tensors as torch tensors, steps as float tensors."""
    state = {i: {k: torch.tensor(float(v)) if k == "step" else torch.tensor(np.asarray(v.numpy()))
                 for k, v in st_.items()} for i, st_ in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


def _gdl_state(sd):
    """A PyTorch optimizer state dict as gdl takes it: numbers and NumPy arrays."""
    state = {i: {k: v.item() if v.ndim == 0 else v.numpy() for k, v in st_.items()} for i, st_ in sd["state"].items()}
    return {"state": state, "param_groups": [dict(g) for g in sd["param_groups"]]}


@SETTINGS(80)
@given(cfg=optimizer_configs())
def test_optimizer_trajectories_match_torch(backend, cfg):
    """Several steps on a small model from the same weights: one or two parameter groups (the second
    maybe added after the first step), a parameter without a gradient every other step (``None`` or
    zeros, by ``zero_grad(set_to_none)``), and a state-dict round trip mid-training (within gdl, and
    through PyTorch's optimizer and back) that must not change the trajectory."""
    name, kw = cfg["name"], cfg["kw"]
    ours, theirs = _Model(gdl, cfg["seed"]), _Model(torch, cfg["seed"])
    to_torch(ours.net, theirs.net)
    gopt = getattr(gdl.optim, name)(ours.groups(cfg, not cfg["late"]), **kw)
    topt = getattr(torch.optim, name)(theirs.groups(cfg, not cfg["late"]), **kw)
    rng = np.random.default_rng(cfg["seed"])
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    for step in range(cfg["steps"]):
        if cfg["late"] and step == 1:
            gopt.add_param_group(ours.second(cfg))
            topt.add_param_group(theirs.second(cfg))
        if step == cfg["resume_at"]:  # gdl -> gdl
            sd = gopt.state_dict()
            gopt = getattr(gdl.optim, name)(ours.groups(cfg), **kw)
            gopt.load_state_dict(sd)
            # and the same state loads into PyTorch's optimizer and back
            probe = getattr(torch.optim, name)(theirs.groups(cfg), **kw)
            probe.load_state_dict(_torch_state(sd))
            back = getattr(gdl.optim, name)(ours.groups(cfg), **kw)
            back.load_state_dict(_gdl_state(probe.state_dict()))
            for i, st_ in sd["state"].items():
                for k, v in st_.items():
                    close(back.state_dict()["state"][i][k], v.numpy() if k != "step" else v, k)
        gopt.zero_grad(set_to_none=cfg["set_to_none"])
        topt.zero_grad(set_to_none=cfg["set_to_none"])
        gloss, tloss = ours.loss(x, y, step), theirs.loss(x, y, step)
        close(gloss, tloss, f"loss at step {step}", rtol=1e-10, atol=1e-12)
        gloss.backward()
        tloss.backward()
        assert (ours.extra.grad is None) == (theirs.extra.grad is None)
        gopt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours.params(), theirs.params())):
            close(p, tp, f"parameter {i} after step {step}", rtol=1e-9, atol=1e-12)
    assert [g["lr"] for g in gopt.param_groups] == [g["lr"] for g in topt.param_groups]


# -- learning-rate schedules ---------------------------------------------------------------------------------


def _warmup(e):
    return min(1.0, (e + 1) / 4)


def _decay(e):
    return 0.85**e


@st.composite
def schedule_configs(draw):
    name = draw(st.sampled_from(["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
                                 "LinearLR"]))
    if name == "StepLR":
        kw = dict(step_size=draw(st.integers(1, 6)), gamma=draw(st.sampled_from([0.1, 0.5, 0.9, 1.0])))
    elif name == "MultiStepLR":  # a milestone listed twice cuts twice
        kw = dict(milestones=draw(st.lists(st.integers(0, 50), max_size=6)),
                  gamma=draw(st.sampled_from([0.1, 0.5, 0.9, 1.0, 0.0])))
    elif name == "LinearLR":
        kw = draw(st.one_of(st.just({}), st.fixed_dictionaries(dict(
            start_factor=st.sampled_from([1 / 3, 0.01, 0.5, 1.0, 0.77]),
            end_factor=st.sampled_from([1.0, 0.0, 0.5, 0.2]), total_iters=st.integers(1, 30)))))
    elif name == "ExponentialLR":
        kw = dict(gamma=draw(st.sampled_from([0.5, 0.9, 0.99, 1.0])))
    elif name == "CosineAnnealingLR":
        # eta_min below every lr: the recursive form then never drives an lr negative (which gdl's
        # optimizers, unlike PyTorch's, refuse in load_state_dict)
        kw = dict(T_max=draw(st.integers(1, 12)), eta_min=draw(st.sampled_from([0.0, 1e-3, 0.008])))
    else:
        kw = dict(lr_lambda=draw(st.sampled_from([_warmup, _decay, [_warmup, _decay]])))
    # Constructing with last_epoch >= 0 resumes a schedule; since PyTorch 2.8 (pytorch#149312)
    # ExponentialLR and CosineAnnealingLR keep the lr they find there, and so does gdl.
    start = draw(st.sampled_from([-1, -1, 0, 3, 10, 29]))
    return dict(name=name, kw=kw, epochs=draw(st.integers(1, 70)), lrs=(draw(_LR), draw(_LR)),
                resume=draw(st.one_of(st.none(), st.integers(0, 69))), via_torch=draw(st.booleans()),
                nudge=draw(st.one_of(st.none(), st.integers(0, 69))), start=start)


def _sched(lib, cfg, opt):
    module = sch if lib is gdl else torch.optim.lr_scheduler
    return getattr(module, cfg["name"])(opt, **cfg["kw"], last_epoch=cfg["start"])


@SETTINGS(150)
@given(cfg=schedule_configs())
def test_lr_schedules_match_torch(backend, cfg):
    """The lr of both groups epoch by epoch, started fresh or at ``last_epoch``, with an lr
    nudged by hand once, and a state-dict round trip (gdl's, or PyTorch's loaded into gdl)."""
    gopt, topt = two_group_sgd(gdl, cfg["lrs"], cfg["start"]), two_group_sgd(torch, cfg["lrs"], cfg["start"])
    gs, ts = _sched(gdl, cfg, gopt), _sched(torch, cfg, topt)
    for epoch in range(cfg["epochs"]):
        np.testing.assert_allclose(gs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15, err_msg=str(epoch))
        np.testing.assert_allclose([g["lr"] for g in gopt.param_groups], [g["lr"] for g in topt.param_groups],
                                   rtol=1e-12, atol=1e-15)
        assert gs.last_epoch == ts.last_epoch
        if epoch == cfg["nudge"]:  # a hand-set lr: the chainable schedules continue from it
            for o in (gopt, topt):
                o.param_groups[0]["lr"] *= 1.5
        if epoch == cfg["resume"]:
            sd = (ts if cfg["via_torch"] else gs).state_dict()
            osd = gopt.state_dict()
            gopt = two_group_sgd(gdl, (1.0, 1.0), -1)
            gs = _sched(gdl, dict(cfg, start=-1), gopt)  # PyTorch's documented order: the scheduler
            gopt.load_state_dict(osd)  # first (LinearLR rescales the lr it finds), then the states
            gs.load_state_dict(dict(sd))
        gopt.step()
        topt.step()
        gs.step()
        ts.step()


# -- gradient clipping -------------------------------------------------------------------------------------------


@st.composite
def clip_configs(draw):
    shapes = draw(st.lists(st.lists(st.integers(1, 4), max_size=3).map(tuple), min_size=1, max_size=4))
    has_grad = [draw(st.booleans()) for _ in shapes]
    special = draw(st.sampled_from([None, None, "zero", "inf", "nan", "huge", "tiny"]))
    return dict(shapes=shapes, has_grad=has_grad, special=special,
                norm_type=draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, float("inf"), 2])),
                max_norm=draw(st.sampled_from([0.0, 1e-3, 0.5, 1.0, 7.0, 1e6])),
                error=draw(st.booleans()), single=draw(st.booleans()), foreach=draw(st.sampled_from([None, False, True])),
                seed=draw(st.integers(0, 2**16)))


def _clip_grads(cfg):
    rng = np.random.default_rng(cfg["seed"])
    grads = []
    for shape, has in zip(cfg["shapes"], cfg["has_grad"]):
        g = rng.standard_normal(shape) if has else None
        if g is not None and g.size and cfg["special"] is not None:
            g.flat[0] = {"zero": 0.0, "inf": np.inf, "nan": np.nan, "huge": 1e80, "tiny": 1e-80}[cfg["special"]]
            if cfg["special"] == "zero":
                g[...] = 0.0
        grads.append(g)
    if cfg["single"]:
        grads = grads[:1]
    gps, tps = [], []
    for shape, g in zip(cfg["shapes"], grads):
        gp, tp = Parameter(g64(np.zeros(shape))), torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        if g is not None:
            gp.grad, tp.grad = g64(g), t64(g)
        gps.append(gp)
        tps.append(tp)
    if cfg["single"]:
        return gps[0], tps[0]
    return gps, tps


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf · 0 in both libraries
@SETTINGS(80)
@given(cfg=clip_configs())
def test_clip_grad_norm_matches_torch(backend, cfg):
    """(PyTorch takes the norm of the per-tensor norms, gdl one sum over all elements: the two
    overflow differently near the float range's ends, so the drawn values stay inside it.)"""
    gps, tps = _clip_grads(cfg)
    # foreach: PyTorch's switch between its loop and multi-tensor kernels (gdl used to reject it)
    kw = dict(max_norm=cfg["max_norm"], norm_type=cfg["norm_type"], error_if_nonfinite=cfg["error"],
              foreach=cfg["foreach"])
    try:
        ttotal = tnn.utils.clip_grad_norm_(tps, **kw)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="nonfinite|non-finite|inf|nan"):
            nn.utils.clip_grad_norm_(gps, **kw)
        return
    gtotal = nn.utils.clip_grad_norm_(gps, **kw)
    close(gtotal, ttotal, "total norm", rtol=1e-12, atol=0)
    for gp, tp in zip(gps if isinstance(gps, list) else [gps], tps if isinstance(tps, list) else [tps]):
        if tp.grad is None:
            assert gp.grad is None
        else:
            close(gp.grad, tp.grad, "clipped grad", rtol=1e-12, atol=0)


@SETTINGS(40)
@given(cfg=clip_configs(), clip=st.sampled_from([0.0, 0.1, 1.0, 5.0]))
def test_clip_grad_value_matches_torch(backend, cfg, clip):
    assume(cfg["has_grad"][0] or not cfg["single"] and any(cfg["has_grad"]))  # PyTorch fails on no gradients
    gps, tps = _clip_grads(cfg)
    assert nn.utils.clip_grad_value_(gps, clip, foreach=cfg["foreach"]) is None
    tnn.utils.clip_grad_value_(tps, clip, foreach=cfg["foreach"])
    for gp, tp in zip(gps if isinstance(gps, list) else [gps], tps if isinstance(tps, list) else [tps]):
        if tp.grad is None:
            assert gp.grad is None
        else:
            close(gp.grad, tp.grad, rtol=0, atol=0)


# -- init, Flatten ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None),
])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(tnn.init.calculate_gain(name, param), rel=1e-15)


@SETTINGS(40)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=5))
def test_fan_in_and_fan_out_match_torch(backend, shape):
    w = gdl.zeros(*shape)
    assert nn.init.fan_in_and_fan_out(w) == tnn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


INITS = {  # name -> (call, uniform?)
    "xavier_uniform": (lambda init, t: init.xavier_uniform_(t, gain=1.7), True),
    "xavier_normal": (lambda init, t: init.xavier_normal_(t, gain=0.6), False),
    "kaiming_uniform_a5": (lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)), True),
    "kaiming_uniform_fan_out_relu": (lambda init, t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), True),
    "kaiming_normal": (lambda init, t: init.kaiming_normal_(t), False),
    "kaiming_normal_fan_out_tanh": (lambda init, t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"), False),
    "kaiming_normal_leaky": (lambda init, t: init.kaiming_normal_(t, a=0.3, nonlinearity="leaky_relu"), False),
}


@pytest.mark.parametrize("name", INITS)
@pytest.mark.parametrize("shape", [(300, 40), (64, 8, 3, 5), (20, 6, 25)])
def test_init_scales_match_torch(backend, name, shape):
    """Same distribution as PyTorch's: the bound of a uniform, the standard deviation of a normal."""
    call, uniform = INITS[name]
    gdl.manual_seed(0)
    torch.manual_seed(0)
    ours = call(nn.init, Parameter(gdl.zeros(*shape))).numpy()
    theirs = call(tnn.init, torch.zeros(shape)).numpy()
    if uniform:  # 12000+ draws: the largest |w| is within 0.1% of the bound
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=2e-3)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.04)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(0, 5), lambda lib: lib.nn.Conv2d(0, 4, 3),
    lambda lib: lib.nn.Conv1d(2, 0, 3),
])
def test_layers_with_no_inputs_or_outputs_build(backend, make):
    """PyTorch warns that initialising a zero-element tensor is a no-op; gdl divided by a fan of 0."""
    with pytest.warns(UserWarning):
        theirs = make(torch)
    ours = make(gdl)
    for (k, p), (tk, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk and p.shape == tuple(tp.shape)
    for fn in (nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.xavier_uniform_, nn.init.xavier_normal_):
        assert fn(Parameter(gdl.zeros(0, 3))).shape == (0, 3)


@SETTINGS(40)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_flatten_matches_torch(backend, shape, data):
    nd = len(shape)
    start = data.draw(st.integers(-nd, nd - 1))
    end = data.draw(st.integers(-nd, nd - 1))
    assume(start % nd <= end % nd)
    x = np.random.default_rng(0).standard_normal(shape)
    gx, tx = g64(x, True), t64(x, True)
    gy, ty = nn.Flatten(start, end)(gx), tnn.Flatten(start, end)(tx)
    close(gy, ty)
    up = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    gy.backward(g64(up))
    ty.backward(t64(up))
    close(gx.grad, tx.grad)


def test_flatten_with_start_after_end_is_an_error(backend):
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        tnn.Flatten(2, 1)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="flatten"):
        nn.Flatten(2, 1)(gdl.zeros(2, 3, 4))


# -- Module behaviours -------------------------------------------------------------------------------------------------


def _zoo(lib):
    """The same nested model in both libraries (gdl's layers take dtype, torch's are cast after)."""
    m = lib.nn
    kw = {"dtype": F64} if lib is gdl else {}
    net = m.Sequential(
        m.Conv2d(2, 4, 3, padding=1, **kw), m.BatchNorm2d(4, **kw), m.ReLU(), m.MaxPool2d(2),
        m.Identity(),
        m.Flatten(), m.ModuleList([m.Linear(16, 8, **kw), m.LayerNorm(8, **kw)]),
        m.LSTM(8, 3, num_layers=2, bidirectional=True, **kw), m.Embedding(5, 2, padding_idx=0, **kw),
        m.GRUCell(2, 2, bias=False, **kw), m.BatchNorm1d(3, affine=False, track_running_stats=False, **kw),
        m.Dropout(0.5),
    )
    return net if lib is gdl else net.double()


def test_module_traversal_and_state_dict_keys_match_torch(backend):
    ours, theirs = _zoo(gdl), _zoo(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours[6].named_parameters(prefix="head")] == \
        [n for n, _ in theirs[6].named_parameters(prefix="head")]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    # strict loads both ways
    to_torch(ours, theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    # apply visits children before their parent, as PyTorch's
    seen, tseen = [], []
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


def test_train_eval_requires_grad_and_zero_grad_match_torch(backend):
    ours, theirs = _zoo(gdl), _zoo(torch)
    for mode in (False, True):
        assert ours.train(mode) is ours and theirs.train(mode) is theirs
        assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()] == \
            [mode] * len(list(theirs.modules()))
    ours[6].eval()
    theirs[6].eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    # requires_grad_ on a sub-tree freezes exactly it
    ours.requires_grad_(True)[6].requires_grad_(False)
    theirs.requires_grad_(True)[6].requires_grad_(False)
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]
    lin, tlin = ours[0], theirs[0]
    to_torch(lin, tlin)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    lin(g64(x)).sum().backward()
    tlin(t64(x)).sum().backward()
    lin.zero_grad(set_to_none=False)
    tlin.zero_grad(set_to_none=False)
    for p, tp in zip(lin.parameters(), tlin.parameters()):
        close(p.grad, tp.grad)  # zeros of the parameter's shape
    lin.zero_grad()
    tlin.zero_grad()
    assert all(p.grad is None for p in lin.parameters()) and all(p.grad is None for p in tlin.parameters())


def test_shared_parameters_are_listed_once_like_torch(backend):
    a, b = nn.Linear(3, 3, dtype=F64), nn.Linear(3, 3, dtype=F64)
    ta, tb = tnn.Linear(3, 3).double(), tnn.Linear(3, 3).double()
    b.weight = a.weight
    tb.weight = ta.weight
    ours, theirs = nn.Sequential(a, nn.Tanh(), b), tnn.Sequential(ta, tnn.Tanh(), tb)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the tied weight under both names
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    ours(g64(x)).sum().backward()
    theirs(t64(x)).sum().backward()
    compare_params(ours, theirs)


def test_a_shared_submodule_appears_under_every_name_in_the_state_dict(backend):
    layer, tlayer = nn.Linear(2, 2), tnn.Linear(2, 2)
    ours, theirs = nn.Sequential(layer, nn.Tanh(), layer), tnn.Sequential(tlayer, tnn.Tanh(), tlayer)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["0.weight", "0.bias"]
    assert list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_assigning_a_plain_tensor_to_a_parameter_name_is_an_error(backend):
    tlayer = tnn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign"):
        tlayer.weight = tlayer.weight * 2
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        layer.weight = layer.weight * 2  # gdl: silently un-registers the weight
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_a_sequential_slice_keeps_the_child_names(backend):
    ours = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3))
    theirs = tnn.Sequential(tnn.Linear(2, 2), tnn.ReLU(), tnn.Linear(2, 3))
    assert list(theirs[1:].state_dict()) == ["2.weight", "2.bias"]
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict())


def test_containers_index_like_torch(backend):
    items = [nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Linear(1, 2)]
    titems = [tnn.Linear(1, 1), tnn.ReLU(), tnn.Tanh(), tnn.Linear(1, 2)]
    for ours, theirs in ((nn.Sequential(*items), tnn.Sequential(*titems)),
                         (nn.ModuleList(items), tnn.ModuleList(titems))):
        assert len(ours) == len(theirs) == 4
        for i in range(-4, 4):
            assert type(ours[i]).__name__ == type(theirs[i]).__name__
        for sl in (slice(1, None), slice(None, None, 2), slice(-2, None), slice(3, 1)):
            assert [type(m).__name__ for m in ours[sl]] == [type(m).__name__ for m in theirs[sl]]
        assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
        with pytest.raises(IndexError):
            ours[4]
    ml, tml = nn.ModuleList(items[:2]), tnn.ModuleList(titems[:2])
    ml.append(items[2]).extend([items[3]])
    tml.append(titems[2]).extend([titems[3]])
    assert list(ml.state_dict()) == list(tml.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]


# -- data loading ----------------------------------------------------------------------------------------------------


_Pair = namedtuple("_Pair", "x y")


class _Samples(gdl.data.Dataset):
    """Samples of every structure default_collate handles: arrays, numbers, dicts, tuples, namedtuples."""

    def __init__(self, n, kind):
        self.n, self.kind = n, kind

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        x = np.arange(3.0) + 10 * i
        if self.kind == "tuple":
            return x, i
        if self.kind == "dict":
            return {"x": x, "y": i, "pair": (x * 2, -i)}
        if self.kind == "namedtuple":
            return _Pair(x, i)
        return x


def _flat(batch):
    """A batch as nested Python lists of values (the container types checked separately)."""
    if isinstance(batch, dict):
        return {k: _flat(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return [_flat(b) for b in batch]
    return np.asarray(batch.numpy() if hasattr(batch, "numpy") else batch).tolist()


@SETTINGS(40)
@given(n=st.integers(0, 11), batch_size=st.integers(1, 5), drop_last=st.booleans(),
       kind=st.sampled_from(["array", "tuple", "dict", "namedtuple", "tensor_dataset"]))
def test_data_loader_batches_match_torch(backend, n, batch_size, drop_last, kind):
    """Without shuffling: the same number of batches, the same contents, namedtuples kept as such."""
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensorDataset

    if kind == "tensor_dataset":
        a, b = np.arange(n * 2.0).reshape(n, 2), np.arange(n)
        ours_ds, theirs_ds = gdl.data.TensorDataset(a, b), TorchTensorDataset(torch.tensor(a), torch.tensor(b))
    else:
        ours_ds = theirs_ds = _Samples(n, kind)
    ours = gdl.data.DataLoader(ours_ds, batch_size=batch_size, drop_last=drop_last)
    theirs = TorchLoader(theirs_ds, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want) == len(ours)
    for g, w in zip(got, want):
        assert _flat(g) == _flat(w)
        if kind == "namedtuple":
            assert type(g) is _Pair
            assert _flat(g.x) == _flat(w.x)


@pytest.mark.parametrize("name,keys", [("CrossEntropyLoss", ["weight"]), ("NLLLoss", ["weight"]), ("BCELoss", ["weight"]),
                                       ("BCEWithLogitsLoss", ["weight", "pos_weight"])])
def test_loss_weights_are_buffers_like_torch(backend, name, keys):
    """PyTorch registers a loss's weight (and pos_weight) as buffers: they are in the state dict (a
    model holding its criterion loads strictly both ways) and move with the model. gdl kept plain
    attributes, so a PyTorch state dict of such a model had unexpected keys."""
    w = np.array([0.5, 2.0, 1.5])
    ours = getattr(nn, name)(**{k: g64(w) for k in keys})
    theirs = getattr(tnn, name)(**{k: t64(w) for k in keys})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == keys
    assert [k for k, _ in ours.named_buffers()] == keys and list(ours.parameters()) == []
    ours.load_state_dict({k: v.numpy() * 2 for k, v in theirs.state_dict().items()})
    close(getattr(ours, keys[0]), w * 2)
    ours.to(dtype=gdl.float32)
    assert getattr(ours, keys[-1]).dtype == gdl.float32
    assert list(getattr(nn, name)().state_dict()) == list(getattr(tnn, name)().state_dict()) == []
