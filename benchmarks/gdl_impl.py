"""The four training steps written with gdl (its PyTorch-shaped API).

Imported lazily by the harness: if gdl, one of its layers, or the backend is
missing, the harness reports gdl as "unavailable" (with the reason) and times the
others. Every model loads the same initial weights as the baselines, so the
harness can check that gdl's first loss equals theirs.

Each workload is one small class with the layers as attributes and ``forward``
written out, so the parts of gdl's API it needs are easy to see:
``nn.Linear``, ``nn.Tanh``, ``nn.ReLU``, ``nn.Dropout``, ``nn.Conv2d``,
``nn.Embedding``, ``nn.LSTM`` (or ``nn.LSTMCell``), ``nn.CrossEntropyLoss``,
``optim.SGD``, ``Tensor.reshape``, ``.backward()``, ``.parameters()``.
"""

from __future__ import annotations

import numpy as np

import gdl
from gdl import nn, optim


def _assign(param, array, backend):
    """Overwrite a parameter's values with a NumPy array (same shape)."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    if tuple(param.shape) != array.shape:
        raise ValueError(f"shape mismatch: gdl {tuple(param.shape)} vs baseline {array.shape}")
    param.data = backend.from_host(array)


def _stack(tensors):
    stack = getattr(gdl, "stack", None)
    if stack is None:
        from gdl.functional.shape import stack
    return stack(tensors, axis=0)


def _params(*modules):
    out = []
    for m in modules:
        out.extend(m.parameters())
    return out


class MLPSmall:
    def __init__(self, d, p, be):
        self.fc1 = nn.Linear(d["n_in"], d["hidden"])
        self.act = nn.Tanh()
        self.drop = nn.Dropout(d["dropout"])
        self.fc2 = nn.Linear(d["hidden"], d["n_out"])
        for layer in ("fc1", "fc2"):
            _assign(getattr(self, layer).weight, p[f"{layer}.weight"], be)
            _assign(getattr(self, layer).bias, p[f"{layer}.bias"], be)
        self.modules = (self.fc1, self.act, self.drop, self.fc2)

    def forward(self, x):
        return self.fc2(self.drop(self.act(self.fc1(x))))


class MLPLarge:
    def __init__(self, d, p, be):
        self.fc1 = nn.Linear(d["n_in"], d["hidden"])
        self.fc2 = nn.Linear(d["hidden"], d["hidden"])
        self.fc3 = nn.Linear(d["hidden"], d["n_out"])
        self.relu = nn.ReLU()
        for layer in ("fc1", "fc2", "fc3"):
            _assign(getattr(self, layer).weight, p[f"{layer}.weight"], be)
            _assign(getattr(self, layer).bias, p[f"{layer}.bias"], be)
        self.modules = (self.fc1, self.fc2, self.fc3, self.relu)

    def forward(self, x):
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(x)))))


class CNN:
    def __init__(self, d, p, be):
        out = d["size"] - d["k"] + 1
        self.conv = nn.Conv2d(d["in_ch"], d["out_ch"], d["k"])
        self.act = nn.Tanh()
        self.fc = nn.Linear(d["out_ch"] * out * out, d["n_out"])
        for name in ("conv.weight", "conv.bias", "fc.weight", "fc.bias"):
            layer, attr = name.split(".")
            _assign(getattr(getattr(self, layer), attr), p[name], be)
        self.modules = (self.conv, self.act, self.fc)

    def forward(self, x):
        h = self.act(self.conv(x))
        return self.fc(h.reshape(h.shape[0], -1))


class LSTM:
    def __init__(self, d, p, be):
        self.H = d["hidden"]
        self.embed = nn.Embedding(d["vocab"], d["embed"])
        if hasattr(nn, "LSTM"):
            self.lstm, self.cell = nn.LSTM(d["embed"], d["hidden"]), None
            suffix, core = "_l0", self.lstm
        else:  # fall back to a loop over nn.LSTMCell
            self.lstm, self.cell = None, nn.LSTMCell(d["embed"], d["hidden"])
            suffix, core = "", self.cell
        self.fc = nn.Linear(d["hidden"], d["vocab"])
        _assign(self.embed.weight, p["embed.weight"], be)
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            _assign(getattr(core, w + suffix), p[f"lstm.{w}_l0"], be)
        _assign(self.fc.weight, p["fc.weight"], be)
        _assign(self.fc.bias, p["fc.bias"], be)
        self.modules = (self.embed, core, self.fc)

    def forward(self, ids):
        T, B = ids.shape
        e = self.embed(ids)  # (T, B, E)
        if self.lstm is not None:
            out, _ = self.lstm(e)
        else:
            h = c = None
            outs = []
            for t in range(T):
                h, c = self.cell(e[t]) if h is None else self.cell(e[t], (h, c))
                outs.append(h)
            out = _stack(outs)
        return self.fc(out.reshape(T * B, self.H))


MODELS = {"mlp_small": MLPSmall, "mlp_large": MLPLarge, "cnn": CNN, "lstm": LSTM}


class GdlStep:
    """One gdl training step: ``zero_grad``, forward, loss, ``backward``, ``step``."""

    def __init__(self, workload, params, batch, backend="numpy", seed=0):
        gdl.set_backend(backend)
        if hasattr(gdl, "manual_seed"):
            gdl.manual_seed(seed)
        self.be = gdl.get_backend_object(backend)
        self.model = MODELS[workload.name](workload.dims, params, self.be)
        for m in self.model.modules:
            if hasattr(m, "train"):
                m.train()
        x, y = batch
        self.x = gdl.tensor(x, backend=backend)
        self.y = gdl.tensor(np.ascontiguousarray(y.reshape(-1)), backend=backend)
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = optim.SGD(_params(*self.model.modules), lr=workload.lr)
        self._loss = None

    def step(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model.forward(self.x), self.y)
        loss.backward()
        self.opt.step()
        self._loss = loss.detach()

    def sync(self):
        self.be.synchronize()

    def loss_value(self) -> float:
        return float(self._loss.item())


def build(workload, params, batch, backend="numpy", seed=0):
    return GdlStep(workload, params, batch, backend=backend, seed=seed)
