"""The same training steps in PyTorch eager mode (what a user would pick instead).

torch is a benchmark-only dependency (never a gdl dependency). Each model is a
plain ``nn.Module`` loaded with the shared initial weights; the step is
``zero_grad(); loss = CrossEntropyLoss(model(x), y); loss.backward(); opt.step()``
with ``torch.optim.SGD`` (defaults: PyTorch picks its foreach update on CUDA).
On CUDA, ``nn.LSTM`` runs cuDNN's fused LSTM.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MLPSmall(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d["n_in"], d["hidden"])
        self.drop = nn.Dropout(d["dropout"])
        self.fc2 = nn.Linear(d["hidden"], d["n_out"])

    def forward(self, x):
        return self.fc2(self.drop(torch.tanh(self.fc1(x))))


class MLPLarge(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d["n_in"], d["hidden"])
        self.fc2 = nn.Linear(d["hidden"], d["hidden"])
        self.fc3 = nn.Linear(d["hidden"], d["n_out"])

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv2d(d["in_ch"], d["out_ch"], d["k"])
        out = d["size"] - d["k"] + 1
        self.fc = nn.Linear(d["out_ch"] * out * out, d["n_out"])

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


class LSTM(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.embed = nn.Embedding(d["vocab"], d["embed"])
        self.lstm = nn.LSTM(d["embed"], d["hidden"])  # sequence first
        self.fc = nn.Linear(d["hidden"], d["vocab"])

    def forward(self, ids):
        out, _ = self.lstm(self.embed(ids))
        return self.fc(out.reshape(-1, out.shape[-1]))


MODELS = {"mlp_small": MLPSmall, "mlp_large": MLPLarge, "cnn": CNN, "lstm": LSTM}


class TorchStep:
    def __init__(self, workload, params, batch, device="cpu", seed=0):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        model = MODELS[workload.name](workload.dims)
        sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in params.items()}
        model.load_state_dict(sd, strict=True)
        self.model = model.to(self.device).train()
        x, y = batch
        self.x = torch.from_numpy(x).to(self.device)
        self.y = torch.from_numpy(y).reshape(-1).to(self.device)
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=workload.lr)
        self._loss = None

    def step(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        self._loss = loss.detach()

    def forward_backward(self):
        """Loss and gradients (NumPy, PyTorch layout) without the update; for tests."""
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        grads = {k: p.grad.detach().cpu().numpy() for k, p in self.model.named_parameters()}
        return float(loss.detach()), grads

    def loss_value(self) -> float:
        return float(self._loss)

    def params_torch_layout(self) -> dict:
        return {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}


def build(workload, params, batch, device="cpu", seed=0):
    return TorchStep(workload, params, batch, device=device, seed=seed)
