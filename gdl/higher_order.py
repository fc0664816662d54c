"""Gradients of gradients: the backward pass run with ``create_graph=True``.

The first-order engine (:func:`gdl.tensor.backprop`) runs each node's ``backward`` on raw
arrays, which is fast but leaves no trace. With ``create_graph=True`` this engine runs
each node's ``graph`` instead, the same backward written with Tensor ops, with graph
recording on: the gradients it returns are Tensors with their own ``grad_fn``, so they
can be differentiated again (a gradient penalty, a Hessian-vector product, MAML).

Ops that have a ``graph`` backward: arithmetic and the elementwise math (``+ - * / **``,
``exp``, ``log``, trigonometric and hyperbolic functions, ``sqrt``, ``abs``, ``where``,
``maximum``, ``clip``, ``atan2``, ``xlogy``, ``erf``, ``lgamma``, ...), the reductions
(``sum``, ``mean``, ``var``, ``std``, ``prod``, ``amax``, ``max``/``min``, ``logsumexp``,
``softmax``, ``log_softmax``), ``matmul`` and the products built on it (``mm``, ``bmm``,
``einsum``, ``tensordot``, ``outer``, ``addmm``, ``norm``, ...), the shape and indexing ops
(``reshape``, ``permute``, ``expand``, ``cat``, ``stack``, slicing, integer-array
indexing, ``gather``, ``index_select``, ``scatter``, ``index_add``, ``cumsum``, ...), and
in ``gdl.nn.functional`` ``linear``, the convolutions (1-D, 2-D, 3-D and transposed),
``unfold``/``fold``, the pools, ``dropout``, ``embedding``, the norms (batch, layer,
group, instance, RMS), ``pad``, ``interpolate``, ``pixel_shuffle``, the activations, the
losses (``cross_entropy``, ``nll_loss``, ``mse_loss``, the BCE losses, ...), attention
(``scaled_dot_product_attention``, ``MultiheadAttention``) and the recurrent layers and
cells, plus :class:`gdl.autograd.Function` ops whose backward is written with Tensor ops.
The fused nodes (attention, the recurrent layers, ``grid_sample``, ``bilinear``, ...) get
theirs by recomputing their output with ordinary ops (:func:`by_recomputation`), so their
fast first-order path stays as it is. Also covered: the sorting and scan ops (``sort``,
``topk``, ``median``, ``cumprod``, ``cummax``, ``logcumsumexp``, ``diff``), ``cdist``,
``embedding_bag``, ``affine_grid`` and ``gdl.linalg`` (``inv``, ``solve``, ``det``,
``slogdet``, ``cholesky``, ``eigh``, ``svd``, ``qr``, ``pinv`` and what is built on them).
Any other op met on the way (the CTC loss, ``det`` of a singular matrix) raises a
``NotImplementedError`` that names it.

>>> import gdl
>>> x = gdl.tensor([1.0, 2.0], requires_grad=True)
>>> (g,) = gdl.autograd.grad((x ** 3).sum(), x, create_graph=True)   # 3x²
>>> g
tensor([ 3., 12.], backend='numpy', grad_fn=<MulBackward>)
>>> g.sum().backward()                                               # d/dx Σ3x² = 6x
>>> x.grad
tensor([ 6., 12.], backend='numpy')
"""

from __future__ import annotations

from heapq import heappop, heappush

from gdl.tensor import (
    Tensor,
    _anomaly,
    _check_anomaly,
    _grad_enabled,
    _GradHooks,
    _hook_result,
    _leading_to,
    _start,
)


def backprop_graph(roots, retain_graph: bool = True, capture=None) -> None:
    """:func:`gdl.tensor.backprop` with ``create_graph=True``: ``roots`` are pairs
    ``(tensor, gradient Tensor)``; leaves' ``.grad`` (or ``capture``, a dict
    ``{id(tensor): None}``) receive Tensors that carry their own graph."""
    grads, heap, leaves = _start(roots)
    needed = None if capture is None else _leading_to(heap, capture)
    mode, _grad_enabled[0] = _grad_enabled[0], True
    try:
        while heap:
            t = heappop(heap)[1]
            g = grads.pop(id(t))
            node = t.grad_fn
            if needed is not None:
                if id(t) not in needed:
                    continue
                if id(t) in capture:
                    if not any(id(i) in needed for i in node.inputs):
                        capture[id(t)] = _on_gradient(t, g) if t._retain else g
                        continue
                    capture[id(t)] = g
                if t._retain:
                    g = _on_gradient(t, g)
            elif t._retain:
                g = _on_gradient(t, g, keep=True)
            if node.backward is None:
                raise RuntimeError(
                    f"backward(): trying to go through the graph a second time at {node!r}; its saved values "
                    f"were freed after the first backward(). Pass retain_graph=True to the first call."
                )
            if node.graph is None:
                raise NotImplementedError(
                    f"create_graph=True: the op {node.name} has no differentiable backward in gdl, so gradients "
                    f"of gradients cannot pass through it (see gdl.higher_order for the ops that have one)"
                )
            in_grads = node.graph(g)
            if _anomaly[0]:
                _check_anomaly(node, [ig.data if isinstance(ig, Tensor) else ig for ig in in_grads])
            for inp, ig in zip(node.inputs, in_grads):
                if ig is None or not inp.requires_grad:
                    continue
                key = id(inp)
                prev = grads.get(key)
                if prev is None:
                    grads[key] = ig
                    if inp.grad_fn is None:
                        leaves.append(inp)
                    else:
                        heappush(heap, (-inp.grad_fn.seq, inp))
                else:
                    grads[key] = prev + ig
            if not retain_graph:
                node.backward = node.graph = None
        for leaf in leaves:
            g = grads.pop(id(leaf))
            if leaf._retain:
                g = _on_gradient(leaf, g)
            if g.dtype != leaf.dtype:
                g = g.to(dtype=leaf.dtype)
            if capture is None:
                leaf.grad = g if leaf.grad is None else leaf.grad + g
                extra = leaf._retain
                if isinstance(extra, _GradHooks):
                    for hook in tuple(extra.post.values()):
                        hook(leaf)
            elif id(leaf) in capture:
                capture[id(leaf)] = g if capture[id(leaf)] is None else capture[id(leaf)] + g
    finally:
        _grad_enabled[0] = mode


def _on_gradient(t, g, keep=False):
    """Tensor hooks and ``retain_grad()`` on a Tensor gradient (see ``gdl.tensor._on_gradient``)."""
    extra = t._retain
    if extra is True:
        retain = True
    else:
        for hook in tuple(extra.hooks.values()):
            new = hook(g)
            if new is not None:
                g = Tensor._wrap(_hook_result(t, hook, new), t._backend) if not isinstance(new, Tensor) else new
                if g.shape != t.shape:
                    _hook_result(t, hook, g)  # raises: the shape changed
        retain = extra.retain
    if keep and retain and t.grad_fn is not None:
        t.grad = g if t.grad is None else t.grad + g
    return g


def by_recomputation(recompute, inputs):
    """A ``graph`` backward for a fused node (one whose forward and backward are hand-written
    on raw arrays): ``recompute(*inputs)`` computes the node's output again with ordinary
    gdl ops, each with its own graph backward, and ``g`` is backpropagated through that with
    ``create_graph=True``. Slower than a hand-written graph, but exact, and it keeps the
    fused node's fast first-order path as it is."""

    def graph(g):
        from gdl.autograd import grad

        out = recompute(*inputs)
        need = [t for t in inputs if t.requires_grad]
        found = iter(grad(out, need, g, create_graph=True, allow_unused=True) if need else ())
        return tuple(next(found) if t.requires_grad else None for t in inputs)

    return graph


def unbroadcast(g: Tensor, shape) -> Tensor:
    """``g`` summed down to ``shape`` (the input's shape before broadcasting), on Tensors."""
    return g if g.shape == tuple(shape) else g.sum_to_size(tuple(shape))


__all__ = ["backprop_graph", "by_recomputation", "unbroadcast"]
