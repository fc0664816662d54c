"""The four benchmark workloads: shapes, synthetic data and initial weights.

Every implementation (hand-written NumPy/CuPy, PyTorch, gdl) starts from the same
NumPy arrays made here, so a run can check that they all compute the same first
loss. Weights use PyTorch's names and layouts (``Linear.weight`` is
``(out, in)``, LSTM gates stacked i, f, g, o); an implementation that prefers
another layout converts once at construction.

Only NumPy is imported here: the harness sets the thread counts before importing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    batch: int
    lr: float
    dims: dict = field(default_factory=dict)


WORKLOADS = {
    "mlp_small": Workload(
        "mlp_small",
        "784-100 tanh, dropout 0.5, 100-10 softmax cross-entropy, batch 100, SGD (ch. 9)",
        batch=100,
        lr=0.01,
        dims={"n_in": 784, "hidden": 100, "n_out": 10, "dropout": 0.5},
    ),
    "mlp_large": Workload(
        "mlp_large",
        "784-1024-1024-10 relu, softmax cross-entropy, batch 512, SGD",
        batch=512,
        lr=0.01,
        dims={"n_in": 784, "hidden": 1024, "n_out": 10},
    ),
    "cnn": Workload(
        "cnn",
        "conv 3x3x16 (1 in-channel, no padding, stride 1) on 28x28, tanh, flatten, "
        "linear to 10, batch 128, SGD (ch. 10)",
        batch=128,
        lr=0.01,
        dims={"size": 28, "in_ch": 1, "out_ch": 16, "k": 3, "n_out": 10},
    ),
    "lstm": Workload(
        "lstm",
        "embedding 512, LSTM 512 (1 layer), linear to vocab 65, batch 32, 16 steps, "
        "cross-entropy over all steps, SGD (ch. 14)",
        batch=32,
        lr=0.05,
        dims={"vocab": 65, "embed": 512, "hidden": 512, "seq": 16},
    ),
}


def _uniform(rng, shape, bound):
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def _linear(rng, n_in, n_out):
    """PyTorch's default Linear init: U(-1/sqrt(in), 1/sqrt(in))."""
    b = 1.0 / np.sqrt(n_in)
    return _uniform(rng, (n_out, n_in), b), _uniform(rng, (n_out,), b)


def init_params(name: str, seed: int = 0) -> dict:
    """Initial weights as float32 NumPy arrays under PyTorch's parameter names."""
    w = WORKLOADS[name]
    d = w.dims
    rng = np.random.default_rng(seed)
    p = {}
    if name == "mlp_small":
        p["fc1.weight"], p["fc1.bias"] = _linear(rng, d["n_in"], d["hidden"])
        p["fc2.weight"], p["fc2.bias"] = _linear(rng, d["hidden"], d["n_out"])
    elif name == "mlp_large":
        p["fc1.weight"], p["fc1.bias"] = _linear(rng, d["n_in"], d["hidden"])
        p["fc2.weight"], p["fc2.bias"] = _linear(rng, d["hidden"], d["hidden"])
        p["fc3.weight"], p["fc3.bias"] = _linear(rng, d["hidden"], d["n_out"])
    elif name == "cnn":
        fan_in = d["in_ch"] * d["k"] * d["k"]
        b = 1.0 / np.sqrt(fan_in)
        p["conv.weight"] = _uniform(rng, (d["out_ch"], d["in_ch"], d["k"], d["k"]), b)
        p["conv.bias"] = _uniform(rng, (d["out_ch"],), b)
        out = d["size"] - d["k"] + 1
        p["fc.weight"], p["fc.bias"] = _linear(rng, d["out_ch"] * out * out, d["n_out"])
    elif name == "lstm":
        H, E, V = d["hidden"], d["embed"], d["vocab"]
        p["embed.weight"] = rng.standard_normal((V, E)).astype(np.float32)
        b = 1.0 / np.sqrt(H)
        p["lstm.weight_ih_l0"] = _uniform(rng, (4 * H, E), b)
        p["lstm.weight_hh_l0"] = _uniform(rng, (4 * H, H), b)
        p["lstm.bias_ih_l0"] = _uniform(rng, (4 * H,), b)
        p["lstm.bias_hh_l0"] = _uniform(rng, (4 * H,), b)
        p["fc.weight"], p["fc.bias"] = _linear(rng, H, V)
    else:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return p


def make_batch(name: str, seed: int = 1, batch: int | None = None) -> tuple:
    """One synthetic batch ``(inputs, targets)`` of the workload's shapes (NumPy).

    mlp_*: ``x`` float32 (B, 784) in [0, 1), ``y`` int64 (B,) in [0, 10).
    cnn: ``x`` float32 (B, 1, 28, 28), ``y`` int64 (B,).
    lstm: ``x`` int64 token ids (T, B) (sequence first), ``y`` int64 (T, B): the
    next character at every step. ``batch`` overrides the workload's batch size.
    """
    w = WORKLOADS[name]
    d = w.dims
    rng = np.random.default_rng(seed)
    B = w.batch if batch is None else int(batch)
    if name in ("mlp_small", "mlp_large"):
        x = rng.random((B, d["n_in"]), dtype=np.float32)
        y = rng.integers(0, d["n_out"], size=(B,), dtype=np.int64)
    elif name == "cnn":
        x = rng.random((B, d["in_ch"], d["size"], d["size"]), dtype=np.float32)
        y = rng.integers(0, d["n_out"], size=(B,), dtype=np.int64)
    elif name == "lstm":
        text = rng.integers(0, d["vocab"], size=(d["seq"] + 1, B), dtype=np.int64)
        x, y = text[:-1].copy(), text[1:].copy()
    else:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return x, y
