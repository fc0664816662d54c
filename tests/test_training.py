"""End-to-end training: small MLPs learn XOR and a noisy regression, on every
backend, to the losses stated in each test.

The runs are seeded (the ``backend`` fixture calls ``gdl.manual_seed(0)``), full
batch, and take well under a second each on NumPy."""

from __future__ import annotations

import numpy as np

import gdl
from gdl import nn

try:  # the real optimizer when present; the book's plain loop otherwise
    from gdl.optim import SGD
except ImportError:  # pragma: no cover - only while gdl.optim is being written
    SGD = None


class _InlineSGD:
    """SGD with (PyTorch-style) momentum written out, used only if gdl.optim is missing."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.bufs = [None] * len(self.params)

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.momentum:
                g = g if self.bufs[i] is None else self.momentum * self.bufs[i] + g
                self.bufs[i] = g
            p.data = p.data - self.lr * g

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def _optimizer(model, lr, momentum=0.0):
    cls = SGD if SGD is not None else _InlineSGD
    return cls(model.parameters(), lr=lr, momentum=momentum)


def _fit(model, loss_fn, x, y, steps, lr, momentum):
    opt = _optimizer(model, lr, momentum)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def test_mlp_learns_xor(backend):
    """2-8-1 tanh MLP, BCE-with-logits, SGD(lr=0.5, momentum=0.9), 300 full-batch
    steps: the loss falls below 0.005 (about 0.001 in practice) and every
    prediction is right."""
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = gdl.tensor(XOR_X), gdl.tensor(XOR_Y)
    losses = _fit(model, nn.BCEWithLogitsLoss(), x, y, steps=300, lr=0.5, momentum=0.9)
    assert losses[0] > 0.5  # chance level is log 2 = 0.69
    assert losses[-1] < 0.005, losses[-1]
    model.eval()
    with gdl.no_grad():
        probs = model(x).sigmoid().numpy()
    np.testing.assert_array_equal(probs > 0.5, XOR_Y > 0.5)
    assert model[0].weight.backend == backend


def test_mlp_learns_xor_book_style(backend):
    """The book's ch13 XOR set-up: sigmoid output, summed MSE, plain SGD (lr=0.1),
    1000 steps: summed squared error below 0.05."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    x, y = gdl.tensor(XOR_X), gdl.tensor(XOR_Y)
    losses = _fit(model, nn.MSELoss(reduction="sum"), x, y, steps=1000, lr=0.1, momentum=0.0)
    assert losses[-1] < 0.05, losses[-1]
    assert losses[-1] < losses[0] / 10


def test_mlp_fits_noisy_regression(backend):
    """y = sin(2x) + N(0, 0.1²) on 256 points in [-2, 2]; 1-32-1 tanh MLP, MSE,
    SGD(lr=0.1, momentum=0.9), 400 full-batch steps: the training MSE gets within
    30% of the noise floor (below 0.013; the noise variance is 0.01, and about
    0.0105 is reached), and the fit to the clean function on a fresh grid has MSE
    below 0.005."""
    rng = np.random.default_rng(0)
    xs = rng.uniform(-2, 2, size=(256, 1)).astype(np.float32)
    ys = (np.sin(2 * xs) + 0.1 * rng.standard_normal((256, 1))).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    losses = _fit(model, nn.MSELoss(), gdl.tensor(xs), gdl.tensor(ys), steps=400, lr=0.1, momentum=0.9)
    assert losses[0] > 0.2  # var(sin 2x) on [-2, 2] is about 0.5
    assert losses[-1] < 0.013, losses[-1]
    grid = np.linspace(-1.9, 1.9, 101, dtype=np.float32)[:, None]
    with gdl.no_grad():
        pred = model(gdl.tensor(grid)).numpy()
    clean_mse = float(np.mean((pred - np.sin(2 * grid)) ** 2))
    assert clean_mse < 0.005, clean_mse


def test_linear_regression_recovers_coefficients(backend):
    """y = 3·x0 - 2·x1 + 0.5 + N(0, 0.05²): one Linear layer, MSE, SGD(lr=0.1), 200
    steps: MSE below 0.004 (noise floor 0.0025), weights within 0.02 of the truth."""
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((200, 2)).astype(np.float32)
    ys = (xs @ np.array([[3.0], [-2.0]]) + 0.5 + 0.05 * rng.standard_normal((200, 1))).astype(np.float32)
    layer = nn.Linear(2, 1)
    losses = _fit(layer, nn.MSELoss(), gdl.tensor(xs), gdl.tensor(ys), steps=200, lr=0.1, momentum=0.0)
    assert losses[-1] < 0.004, losses[-1]
    np.testing.assert_allclose(layer.weight.numpy(), [[3.0, -2.0]], atol=0.02)
    np.testing.assert_allclose(layer.bias.numpy(), [0.5], atol=0.02)


def test_classifier_with_dropout_and_batchnorm_trains(backend):
    """Three Gaussian blobs in 4-D; Linear-BatchNorm1d-ReLU-Dropout-Linear, cross-entropy,
    SGD(lr=0.1, momentum=0.9), 150 steps: training loss below 0.05 (about 0.001-0.01
    in practice, dropout makes it noisy) and eval accuracy above 98% (the blobs are
    about 4 standard deviations apart)."""
    rng = np.random.default_rng(2)
    centers = rng.standard_normal((3, 4)) * 4
    labels = rng.integers(0, 3, size=240)
    xs = (centers[labels] + rng.standard_normal((240, 4))).astype(np.float32)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    y = gdl.tensor(labels)
    losses = _fit(model, nn.CrossEntropyLoss(), gdl.tensor(xs), y, steps=150, lr=0.1, momentum=0.9)
    assert losses[-1] < 0.05, losses[-1]
    model.eval()
    with gdl.no_grad():
        pred = model(gdl.tensor(xs)).numpy().argmax(1)
    assert (pred == labels).mean() > 0.98
