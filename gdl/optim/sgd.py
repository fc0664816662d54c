"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from gdl.optim.optimizer import Optimizer, check_nonneg


def sgd_momentum_step(xp, params, grads, state, steps, *, lr, momentum, dampening, weight_decay, nesterov):
    """The portable SGD update over lists of arrays (the ``"sgd_momentum_step"`` kernel's reference).

    ``state == {'momentum_buffer': [buf or None, ...]}`` (``{}`` without momentum);
    ``steps`` is empty (SGD keeps no step count). Returns ``(new_params, new_state)``.
    """
    bufs = state.get("momentum_buffer")
    new_params, new_bufs = [], []
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = bufs[i]
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            new_bufs.append(buf)
            g = g + momentum * buf if nesterov else buf
        new_params.append(p - lr * g)
    return new_params, ({"momentum_buffer": new_bufs} if momentum != 0 else {})


class SGD(Optimizer):
    r"""Stochastic gradient descent (the book's ``SGD``), optionally with momentum.

    With gradient :math:`g_t` of parameter :math:`\theta` at step :math:`t`::

        g_t = g_t + weight_decay * theta_{t-1}                   if weight_decay != 0
        b_t = g_t                                                 (t = 1)
        b_t = momentum * b_{t-1} + (1 - dampening) * g_t          (t > 1)
        g_t = g_t + momentum * b_t  if nesterov  else  b_t        if momentum != 0
        theta_t = theta_{t-1} - lr * g_t

    exactly as ``torch.optim.SGD`` (the momentum buffer ``b`` is kept in
    ``state[p]['momentum_buffer']``; nothing is kept without momentum).

    Fused kernels: the plain update (no momentum, no weight decay) uses the
    backend's multi-tensor ``"sgd_step_all"`` kernel when it has one (CuPy: up to
    eight parameters per launch), else its ``"sgd_step"`` kernel, called once per parameter as
    ``kernel(param_array, grad_array, lr)`` and updating ``param_array`` in place;
    otherwise it rebinds ``p.data = p.data - lr * p.grad.data``. With momentum or
    weight decay the multi-tensor ``"sgd_momentum_step"`` kernel replaces
    :func:`sgd_momentum_step` (signature in :mod:`gdl.optim.optimizer`).

    Row-sparse gradients (``Embedding(sparse=True)``) update only the rows they
    hold, in place (``backend.index_add``); they need the plain update (no
    momentum, no weight decay).

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate (>= 0).
        momentum: momentum factor (>= 0), default 0.
        dampening: dampening of the momentum (>= 0), default 0.
        weight_decay: L2 penalty (>= 0), default 0.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).

    Example::

        opt = gdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss = loss_fn(model(x), y)
        loss.backward(); opt.step(); opt.zero_grad()
    """

    kernel_name = "sgd_momentum_step"
    state_keys = ("momentum_buffer",)
    tracks_step = False
    update = staticmethod(sgd_momentum_step)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False, **torch_options):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults, maximize=maximize, **torch_options)

    def _validate(self, group):
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            check_nonneg("SGD", key, group[key])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum="
                f"{group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _init_state(self, p, group):
        return {}  # the momentum buffer is the first step's gradient

    def _active_keys(self, group):
        return self.state_keys if group["momentum"] != 0 else ()

    def _hyper(self, group):
        return dict(
            lr=float(group["lr"]),
            momentum=float(group["momentum"]),
            dampening=float(group["dampening"]),
            weight_decay=float(group["weight_decay"]),
            nesterov=bool(group["nesterov"]),
        )

    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient (see the class doc)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            params = group["params"]
            if group["momentum"] != 0 or group["weight_decay"] != 0 or not params:
                self._update_group(group)  # the "sgd_momentum_step" kernel or its reference
                continue
            # The plain update: one subtraction per parameter and nothing else, or the
            # backend's in-place "sgd_step" kernel: kernel(param, grad, lr) does param -= lr*grad.
            lr = -group["lr"] if group["maximize"] else group["lr"]
            backend = params[0]._backend
            kernel = backend.fused.get("sgd_step")
            if "sgd_step_all" in backend.fused:
                params = self._step_all_at_once(backend, params, lr)
            for p in params:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse:  # Embedding(sparse=True): only the rows used
                    p.data = p._backend.index_add(p.data, g.indices, g.values * -lr)
                elif kernel is not None and p._backend is backend:
                    kernel(p.data, g.data, lr)
                elif kernel is None:
                    p.data -= lr * g.data  # in place, as PyTorch: one temporary array
                else:
                    p.data = p.data - lr * g.data
        return loss

    @staticmethod
    def _step_all_at_once(backend, params, lr):
        """The backend's multi-tensor kernel ``sgd_step_all(params, grads, lr)`` (one launch
        for up to eight tensors, on CuPy) on the dense gradients it takes; returns the
        parameters left for the one-by-one loop."""
        dense = [p for p in params if p.grad is not None and not p.grad.is_sparse and p._backend is backend]
        arrays, grads = [p.data for p in dense], [p.grad.data for p in dense]
        if not dense or not backend.fused["sgd_step_all_fits"](arrays, grads):
            return params
        backend.fused["sgd_step_all"](arrays, grads, lr)
        done = set(map(id, dense))
        return [p for p in params if id(p) not in done]
