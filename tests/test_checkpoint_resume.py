"""Resume equality with real modules: a run resumed from a checkpoint gives the
uninterrupted run's losses, step for step."""

import numpy as np
import pytest

import gdl
from gdl import nn, optim
from gdl.data import DataLoader, TensorDataset


def _setup(seed=0):
    gdl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    return TensorDataset(x, y)


def _run_epochs(model, opt, sched, loader, epochs):
    losses = []
    loss_fn = nn.CrossEntropyLoss()
    for epoch in epochs:
        loader.set_epoch(epoch)
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
    return losses


@pytest.fixture(autouse=True)
def _numpy_backend():
    # Exact resumption is a NumPy-backend promise (CuPy's generators expose no state).
    with gdl.use_backend("numpy"):
        yield


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_resumed_run_matches_uninterrupted(tmp_path, optimizer):
    def build():
        model, opt, sched = _setup()
        if optimizer == "sgd_momentum":
            opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
            sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        return model, opt, sched

    loader = DataLoader(_data(), batch_size=16, shuffle=True, seed=3)
    model, opt, sched = build()
    full = _run_epochs(model, opt, sched, loader, range(4))

    model, opt, sched = build()
    first = _run_epochs(model, opt, sched, loader, range(2))
    path = tmp_path / "ckpt.safetensors"
    gdl.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=2)
    gdl.manual_seed(999)  # disturb the generator: the checkpoint must restore it

    model2, opt2, sched2 = build()
    ckpt = gdl.load_checkpoint(path, model=model2, optimizer=opt2, scheduler=sched2)
    assert ckpt["epoch"] == 2
    second = _run_epochs(model2, opt2, sched2, loader, range(2, 4))
    assert first + second == full
