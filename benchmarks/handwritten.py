"""The training steps written by hand, with no framework: the book's style.

Every forward and backward pass is explicit array code. The same classes run on
NumPy (CPU) and CuPy (GPU): the array module is passed in as ``xp``. Weights keep
PyTorch's names and layouts (``x @ W.T``; LSTM gates i, f, g, o; the CNN's kernel
is kept as a ``(out, in*k*k)`` matrix, and :meth:`grads_torch_layout` reshapes it
back for comparisons).

Each class has:

- ``forward_backward()`` -> ``(loss, grads)``: loss as a 0-d ``xp`` array (left on
  the device), grads by parameter name in this implementation's layout;
- ``step()``: one full training step (forward, loss, backward, SGD update);
- ``loss_value()``: the last loss as a Python float (syncs; not used when timing);
- ``grads_torch_layout(grads)``: the gradients in PyTorch's layout, as NumPy.
"""

from __future__ import annotations

import numpy as np


def get_xp(name: str):
    """``numpy`` or ``cupy`` (raises ImportError when CuPy is missing)."""
    if name == "numpy":
        return np
    if name == "cupy":
        import cupy

        return cupy
    raise ValueError(f"unknown array module {name!r}")


def to_numpy(xp, a):
    return np.asarray(a) if xp is np else xp.asnumpy(a)


def softmax_xent(xp, logits, y, rows):
    """Mean softmax cross-entropy and its gradient with respect to ``logits``."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = xp.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = (xp.log(s[:, 0]) - z[rows, y]).mean()
    grad = e / s
    grad[rows, y] -= 1.0
    grad *= 1.0 / logits.shape[0]
    return loss, grad


def scatter_add_rows(xp, n_rows, index, values):
    """``out[index[k]] += values[k]`` into a new ``(n_rows, d)`` array (duplicates add up).

    CuPy: ``cupyx.scatter_add``. NumPy: ``np.add.at`` is slow on rows (2 ms for
    512 rows of 512 into 65, against 0.2 ms for a one-hot matmul), so a small
    table uses the one-hot product and a large one ``np.add.at``.
    """
    if xp is np:
        if n_rows * index.shape[0] <= 1 << 22:
            onehot = (np.arange(n_rows)[:, None] == index[None, :]).astype(values.dtype)
            return onehot @ values
        out = np.zeros((n_rows, values.shape[1]), dtype=values.dtype)
        np.add.at(out, index, values)
        return out
    import cupyx

    out = xp.zeros((n_rows, values.shape[1]), dtype=values.dtype)
    cupyx.scatter_add(out, index, values)
    return out


class _Step:
    """Shared plumbing: parameters on ``xp``, the batch, SGD."""

    def __init__(self, xp, workload, params, batch, seed=0):
        self.xp = xp
        self.lr = workload.lr
        self.w = workload
        self.p = {k: xp.asarray(self._to_layout(k, v)) for k, v in params.items()}
        x, y = batch
        self.x = xp.asarray(x)
        self.y = xp.asarray(y)
        self.rng = xp.random.default_rng(seed)
        self._loss = None

    def _to_layout(self, name, array):
        return np.ascontiguousarray(array, dtype=np.float32)

    def _from_layout(self, name, array):
        return array

    def step(self):
        loss, grads = self.forward_backward()
        lr = self.lr
        for k, g in grads.items():
            self.p[k] -= lr * g
        self._loss = loss

    def loss_value(self) -> float:
        return float(to_numpy(self.xp, self._loss))

    def grads_torch_layout(self, grads) -> dict:
        return {k: self._from_layout(k, to_numpy(self.xp, g)) for k, g in grads.items()}

    def params_torch_layout(self) -> dict:
        return {k: self._from_layout(k, to_numpy(self.xp, v)) for k, v in self.p.items()}


class MLPSmall(_Step):
    """784-100 tanh, dropout 0.5, 100-10, softmax cross-entropy (chapter 9)."""

    def __init__(self, xp, workload, params, batch, seed=0):
        super().__init__(xp, workload, params, batch, seed)
        self.keep = 1.0 - workload.dims["dropout"]
        self.rows = xp.arange(self.x.shape[0])
        self.mask = None  # tests may fix the dropout mask (already scaled by 1/keep)

    def dropout_mask(self, shape):
        xp = self.xp
        if self.mask is not None:
            return self.mask
        if xp is np:  # gdl's NumPy draw (raw 32-bit words against keep·2³²), so the ratio measures the framework
            n = int(np.prod(shape))
            raw = self.rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
            mask = (raw < np.uint32(round(self.keep * 2.0**32))).astype(np.float32).reshape(shape)
        else:
            mask = (self.rng.random(shape, dtype=xp.float32) < self.keep).astype(xp.float32)
        mask *= 1.0 / self.keep
        return mask

    def forward_backward(self):
        p, x = self.p, self.x
        W1, b1, W2, b2 = p["fc1.weight"], p["fc1.bias"], p["fc2.weight"], p["fc2.bias"]
        h = self.xp.tanh(x @ W1.T + b1)
        mask = self.dropout_mask(h.shape)
        hd = h * mask
        logits = hd @ W2.T + b2
        loss, dlogits = softmax_xent(self.xp, logits, self.y, self.rows)
        g = {"fc2.weight": dlogits.T @ hd, "fc2.bias": dlogits.sum(axis=0)}
        dh = (dlogits @ W2) * mask * (1.0 - h * h)
        g["fc1.weight"] = dh.T @ x
        g["fc1.bias"] = dh.sum(axis=0)
        return loss, g


class MLPLarge(_Step):
    """784-1024-1024-10 relu, softmax cross-entropy."""

    def __init__(self, xp, workload, params, batch, seed=0):
        super().__init__(xp, workload, params, batch, seed)
        self.rows = xp.arange(self.x.shape[0])

    def forward_backward(self):
        xp, p, x = self.xp, self.p, self.x
        h1 = xp.maximum(x @ p["fc1.weight"].T + p["fc1.bias"], 0.0)
        h2 = xp.maximum(h1 @ p["fc2.weight"].T + p["fc2.bias"], 0.0)
        logits = h2 @ p["fc3.weight"].T + p["fc3.bias"]
        loss, d3 = softmax_xent(xp, logits, self.y, self.rows)
        g = {"fc3.weight": d3.T @ h2, "fc3.bias": d3.sum(axis=0)}
        d2 = (d3 @ p["fc3.weight"]) * (h2 > 0)
        g["fc2.weight"] = d2.T @ h1
        g["fc2.bias"] = d2.sum(axis=0)
        d1 = (d2 @ p["fc2.weight"]) * (h1 > 0)
        g["fc1.weight"] = d1.T @ x
        g["fc1.bias"] = d1.sum(axis=0)
        return loss, g


def im2col(xp, x, k):
    """Patches of an NCHW batch, channel-major: ``(N, C*k*k, OH*OW)`` (stride 1, no padding).

    A strided view (no copy) gives ``(N, C, k, k, OH, OW)``; the reshape makes the
    one copy the matmul needs, reading each window position's row contiguously.
    """
    n, c, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    sn, sc, sh, sw = x.strides
    view = xp.lib.stride_tricks.as_strided(x, shape=(n, c, k, k, oh, ow), strides=(sn, sc, sh, sw, sh, sw))
    return view.reshape(n, c * k * k, oh * ow), oh, ow


class CNN(_Step):
    """conv 3x3x16 -> tanh -> flatten -> linear 10 (chapter 10), via im2col.

    The convolution is one batched matmul ``W (O, C*k*k) @ cols (N, C*k*k, OH*OW)``,
    whose output is already ``(N, O, OH*OW)``: flattening it gives PyTorch's
    ``(channel, h, w)`` feature order.
    """

    def __init__(self, xp, workload, params, batch, seed=0):
        super().__init__(xp, workload, params, batch, seed)
        self.rows = xp.arange(self.x.shape[0])
        self.k = workload.dims["k"]

    def _to_layout(self, name, a):
        a = np.asarray(a, dtype=np.float32)
        if name == "conv.weight":  # (out, in, k, k) -> (out, in*k*k)
            a = a.reshape(a.shape[0], -1)
        return np.ascontiguousarray(a)

    def _from_layout(self, name, a):
        if name == "conv.weight":
            return a.reshape(a.shape[0], -1, self.k, self.k)
        return a

    def forward_backward(self):
        xp, p = self.xp, self.p
        n = self.x.shape[0]
        cols, oh, ow = im2col(xp, self.x, self.k)  # (n, 9, 676)
        a = xp.tanh(p["conv.weight"] @ cols + p["conv.bias"][:, None])  # (n, 16, 676)
        flat = a.reshape(n, -1)
        logits = flat @ p["fc.weight"].T + p["fc.bias"]
        loss, dlogits = softmax_xent(xp, logits, self.y, self.rows)
        g = {"fc.weight": dlogits.T @ flat, "fc.bias": dlogits.sum(axis=0)}
        dz = (dlogits @ p["fc.weight"]).reshape(a.shape) * (1.0 - a * a)
        g["conv.weight"] = (dz @ cols.transpose(0, 2, 1)).sum(axis=0)
        g["conv.bias"] = dz.sum(axis=(0, 2))
        return loss, g


class LSTM(_Step):
    """Embedding -> one-layer LSTM -> linear to the vocabulary, explicit BPTT (ch. 14).

    Gates in PyTorch's order i, f, g, o:
    ``i, f, o = sigmoid(.)``, ``g = tanh(.)`` of ``x W_ih^T + b_ih + h W_hh^T + b_hh``;
    ``c' = f c + i g``; ``h' = o tanh(c')``. The input projection of all time steps
    is one matmul (as PyTorch and cuDNN do); the recurrence runs step by step.
    """

    def __init__(self, xp, workload, params, batch, seed=0):
        super().__init__(xp, workload, params, batch, seed)
        d = workload.dims
        self.H, self.V = d["hidden"], d["vocab"]
        self.ids = self.x.reshape(-1)
        self.targets = self.y.reshape(-1)
        self.rows = xp.arange(self.ids.shape[0])

    def matmul_t(self, a, b):
        """``a @ b.T``; on NumPy as ``(b @ a.T).T``, which OpenBLAS runs up to twice as
        fast when ``a`` has few rows (32) and ``b`` many (2048), as gdl's NumPy backend does."""
        return (b @ a.T).T if self.xp is np else a @ b.T

    def forward_backward(self):
        xp, p, H = self.xp, self.p, self.H
        T, B = self.x.shape
        W_ih, W_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
        X = p["embed.weight"][self.ids]  # (T*B, E)
        xproj = (X @ W_ih.T + (p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"])).reshape(T, B, 4 * H)

        A = xp.empty((T, B, 4 * H), dtype=xp.float32)  # gate activations i, f, g, o
        C = xp.empty((T, B, H), dtype=xp.float32)
        TC = xp.empty((T, B, H), dtype=xp.float32)
        Hs = xp.empty((T + 1, B, H), dtype=xp.float32)  # Hs[0] = h0 = 0
        Hs[0] = 0.0
        c = xp.zeros((B, H), dtype=xp.float32)
        for t in range(T):
            gates = xproj[t] if t == 0 else xproj[t] + self.matmul_t(Hs[t], W_hh)
            a = A[t]
            a[...] = 1.0 / (1.0 + xp.exp(-gates))
            a[:, 2 * H : 3 * H] = xp.tanh(gates[:, 2 * H : 3 * H])
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            c = f * c + i * g
            C[t] = c
            TC[t] = xp.tanh(c)
            Hs[t + 1] = o * TC[t]

        out = Hs[1:].reshape(T * B, H)
        logits = out @ p["fc.weight"].T + p["fc.bias"]
        loss, dlogits = softmax_xent(xp, logits, self.targets, self.rows)
        grads = {"fc.weight": dlogits.T @ out, "fc.bias": dlogits.sum(axis=0)}
        dH = (dlogits @ p["fc.weight"]).reshape(T, B, H)

        dG = xp.empty((T, B, 4 * H), dtype=xp.float32)
        dh_next = None
        dc_next = None
        for t in range(T - 1, -1, -1):
            a = A[t]
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            tc = TC[t]
            dh = dH[t] if dh_next is None else dH[t] + dh_next
            dc = dh * o * (1.0 - tc * tc)
            if dc_next is not None:
                dc += dc_next
            dg_t = dG[t]
            dg_t[:, :H] = dc * g * i * (1.0 - i)
            if t > 0:
                dg_t[:, H : 2 * H] = dc * C[t - 1] * f * (1.0 - f)
            else:
                dg_t[:, H : 2 * H] = 0.0
            dg_t[:, 2 * H : 3 * H] = dc * i * (1.0 - g * g)
            dg_t[:, 3 * H :] = dh * tc * o * (1.0 - o)
            if t > 0:
                dc_next = dc * f
                dh_next = dg_t @ W_hh

        dGf = dG.reshape(T * B, 4 * H)
        grads["lstm.weight_hh_l0"] = dGf.T @ Hs[:-1].reshape(T * B, H)
        grads["lstm.weight_ih_l0"] = dGf.T @ X
        db = dGf.sum(axis=0)
        grads["lstm.bias_ih_l0"] = db
        grads["lstm.bias_hh_l0"] = db
        grads["embed.weight"] = scatter_add_rows(xp, self.V, self.ids, dGf @ W_ih)
        return loss, grads


CLASSES = {"mlp_small": MLPSmall, "mlp_large": MLPLarge, "cnn": CNN, "lstm": LSTM}


def build(workload, params, batch, xp_name="numpy", seed=0):
    """The hand-written step for ``workload`` on NumPy or CuPy."""
    xp = get_xp(xp_name)
    return CLASSES[workload.name](xp, workload, params, batch, seed)
