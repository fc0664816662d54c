"""SparseAdam: Adam for row-sparse gradients (``Embedding(sparse=True)``), as ``torch.optim.SparseAdam``.

>>> import gdl, gdl.optim
>>> emb = gdl.nn.Embedding(5, 2, sparse=True)
>>> before = emb.weight.numpy().copy()
>>> opt = gdl.optim.SparseAdam(emb.parameters(), lr=0.1)
>>> emb(gdl.tensor([1, 3, 1])).sum().backward()
>>> opt.step()
>>> changed = (emb.weight.numpy() != before).any(axis=1)
>>> [int(i) for i in changed.nonzero()[0]]
[1, 3]
"""

from __future__ import annotations

import math

from gdl.optim.optimizer import Optimizer, check_unit

__all__ = ["SparseAdam"]


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"SparseAdam: invalid {name} {value!r}: must be a number > 0")


class SparseAdam(Optimizer):
    """Adam restricted to the rows a row-sparse gradient holds ("masked" Adam).

    For each parameter whose ``grad`` is a :class:`~gdl.sparse_grad.RowSparseGrad`, the
    gradient is first coalesced (repeated rows summed); then, on those rows ``i`` only,
    with step ``t`` counted per parameter::

        m[i] += (1 - beta1) * (g[i] - m[i])
        v[i] += (1 - beta2) * (g[i]**2 - v[i])
        theta[i] -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m[i] / (sqrt(v[i]) + eps)

    (``eps`` is added to ``sqrt(v)``, not to Adam's bias-corrected ``sqrt(v_hat)``.)
    Rows not in the gradient keep their weights and moments (their moments do not
    decay). ``step`` counts every step the parameter had a gradient, an empty one
    included. A dense gradient is a ``RuntimeError``, as in PyTorch: use :class:`Adam`.

    Args:
        params: parameters or parameter-group dicts (typically an Embedding's weight).
        lr: learning rate (> 0), default 1e-3.
        betas: (beta1, beta2), each in [0, 1), default (0.9, 0.999).
        eps: added to the denominator (> 0), default 1e-8.
        maximize: ascend instead of descend.

    Example::

        emb = gdl.nn.Embedding(50_000, 64, sparse=True)
        opt = gdl.optim.SparseAdam(emb.parameters(), lr=1e-3)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps)
        super().__init__(params, defaults, maximize=maximize)

    def _validate(self, group):
        _check_positive("learning rate", group["lr"])
        _check_positive("epsilon value", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"SparseAdam: betas must be a pair (beta1, beta2), got {betas!r}")
        check_unit("SparseAdam", "beta1 (betas[0])", betas[0])
        check_unit("SparseAdam", "beta2 (betas[1])", betas[1])
        group["betas"] = tuple(betas)

    def _fill_state(self, p, st, group):
        if "exp_avg" not in st:
            st["exp_avg"] = self._zeros_like(p)
            st["exp_avg_sq"] = self._zeros_like(p)

    def step(self, closure=None):
        """One SparseAdam update of every parameter with a (row-sparse) gradient."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = float(group["lr"]), float(group["eps"])
            todo = []
            for p in group["params"]:  # check every gradient before changing anything
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                todo.append(p)
            for p in todo:
                st = self.state.get(p)
                if not st:
                    st = self.state[p] = self._init_state(p, group)
                else:
                    self._fill_state(p, st, group)
                st["step"] += 1
                _sparse_adam_rows(p, st, p.grad, st["step"], lr=lr, beta1=float(beta1), beta2=float(beta2),
                                  eps=eps, maximize=bool(group["maximize"]))
        return loss


def _sparse_adam_rows(p, st, grad, step, *, lr, beta1, beta2, eps, maximize):
    """PyTorch's ``F.sparse_adam`` for one parameter: update the rows of ``grad`` in place."""
    backend = p._backend
    xp = backend.xp
    if len(grad.shape) != 2 or tuple(grad.shape) != tuple(p.shape):
        raise ValueError(f"SparseAdam: a gradient of shape {grad.shape} for a parameter of shape {tuple(p.shape)}")
    grad = grad.coalesce()  # the update is non-linear: each row once
    idx, values = grad.indices, grad.values
    if values.shape[0] == 0 or values.shape[1] == 0:
        return  # an empty gradient: nothing to update
    values = xp.astype(values, p.data.dtype)
    if maximize:
        values = -values
    exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
    old_m = xp.take(exp_avg.data, idx, axis=0)
    m_update = (values - old_m) * (1 - beta1)
    exp_avg.data = backend.index_add(exp_avg.data, idx, m_update)
    old_v = xp.take(exp_avg_sq.data, idx, axis=0)
    v_update = (values * values - old_v) * (1 - beta2)
    exp_avg_sq.data = backend.index_add(exp_avg_sq.data, idx, v_update)
    numer = m_update + old_m
    denom = xp.sqrt(v_update + old_v) + eps
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr * math.sqrt(bias_correction2) / bias_correction1
    p.data = backend.index_add(p.data, idx, -step_size * (numer / denom))
