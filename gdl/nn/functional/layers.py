"""Functional forms of the layers: linear, bilinear, dropout, embedding and normalisation."""

from __future__ import annotations

import math

from gdl import functional as ops
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import check_same_backend
from gdl.nn.functional._arguments import _check_tensor, _same_backend, _same_dtype
from gdl.nn.functional.normalization import _check_float, _check_param, _norm_node
from gdl.sparse_grad import RowSparseGrad
from gdl.tensor import Tensor, no_grad, result


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one graph node (weight is ``(out, in)``).

    Backward: ``dx = g @ W``, ``dW = gᵀ @ x``, ``db = Σ g`` over the batch dimensions.
    """
    if _AMP[0]:
        x, weight, bias = _amp_cast("low", x, weight, bias)
    check_same_backend("linear", x, weight)
    xd, w = x.data, weight.data
    if xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
            f"(expected the last dimension to be {w.shape[1]})"
        )
    be = x._backend
    xp = be.xp
    x2 = xd if xd.ndim == 2 else xp.reshape(xd, (-1, w.shape[1]))
    out = be.matmul_t(x2, w)
    if bias is not None:
        if bias.data.dtype == out.dtype:
            out += bias.data  # ``out`` is a new array: no second one for the sum
        else:
            out = out + bias.data
    if xd.ndim != 2:
        out = xp.reshape(out, tuple(xd.shape[:-1]) + (w.shape[0],))
    need_x = x.requires_grad

    def backward(g):
        g2 = g if g.ndim == 2 else xp.reshape(g, (-1, w.shape[0]))
        gx = g2 @ w if need_x else None
        if gx is not None and xd.ndim != 2:
            gx = xp.reshape(gx, xd.shape)
        gw = be.matmul_tn(g2, x2)
        if bias is None:
            return (gx, gw)
        return (gx, gw, be.sum_rows(g2))

    inputs = (x, weight) if bias is None else (x, weight, bias)
    return result(out, be, inputs, backward, "Linear", _linear_graph(x, weight, bias))


def _linear_graph(x, weight, bias):
    """:func:`linear`'s backward on Tensors (``create_graph=True``): ``dx = g @ W``,
    ``dW = g2ᵀ @ x2``, ``db = Σ g2`` over the rows, with ``g2``, ``x2`` the inputs seen as 2-D."""
    n_out, n_in = weight.shape

    def graph(g):
        gx = gw = gb = None
        if x.requires_grad:
            gx = ops.matmul(g, weight)
            if gx.dtype != x.dtype:
                gx = gx.to(dtype=x.dtype)
        if weight.requires_grad or (bias is not None and bias.requires_grad):
            g2 = g if g.ndim == 2 else ops.reshape(g, (-1, n_out))
            if weight.requires_grad:
                x2 = x if x.ndim == 2 else ops.reshape(x, (-1, n_in))
                gw = ops.matmul(ops.permute(g2, 1, 0), x2)
            if bias is not None and bias.requires_grad:
                gb = ops.sum(g2, axis=0)
                if gb.dtype != bias.dtype:
                    gb = gb.to(dtype=bias.dtype)
        return (gx, gw) if bias is None else (gx, gw, gb)

    return graph


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = Σ_ij input1[..., i] · weight[o, i, j] · input2[..., j] + bias[o]``, as
    ``torch.nn.functional.bilinear``: ``weight`` is ``(out, in1, in2)``, the inputs
    ``(..., in1)`` and ``(..., in2)`` with the same leading dimensions. One graph node:
    forward ``z = x1 · W`` (read as ``(B, out, in2)``), then ``y = Σ_j z · x2``; backward
    ``dx2 = gᵀz``, ``dx1 = W · (g ⊗ x2)``, ``dW = x1ᵀ (g ⊗ x2)``, ``db = Σ g``.

    >>> import gdl
    >>> import gdl.nn.functional as F
    >>> w = gdl.tensor([[[1.0, 0.0], [0.0, 2.0]]])        # one output: x1₀x2₀ + 2·x1₁x2₁
    >>> F.bilinear(gdl.tensor([[1.0, 2.0]]), gdl.tensor([[3.0, 4.0]]), w)
    tensor([[19.]], backend='numpy')
    """
    if _AMP[0]:
        input1, input2, weight, bias = _amp_cast("promote", input1, input2, weight, bias)
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor(op, name, t)
    if bias is not None:
        _check_tensor(op, "bias", bias)
    _same_backend(op, ("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    _same_dtype(op, ("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    if weight.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D weight (out_features, in1_features, in2_features), "
                         f"got shape {weight.shape}")
    n_out, n1, n2 = weight.shape
    for name, t, n in (("input1", input1, n1), ("input2", input2, n2)):
        if t.ndim == 0 or t.shape[-1] != n:
            raise ValueError(f"{op}: {name} of shape {t.shape} does not match weight of shape {weight.shape} "
                             f"(expected the last dimension to be {n})")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"{op}: input1 and input2 must have the same leading (batch) dimensions, got shapes "
                         f"{input1.shape} and {input2.shape}")
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"{op}: expected a bias of shape ({n_out},), got {bias.shape}")
    be = weight._backend
    xp = be.xp
    lead = tuple(input1.shape[:-1])
    b = math.prod(lead)
    x1 = xp.reshape(input1.data, (b, n1))
    x2 = xp.reshape(input2.data, (b, n2))
    wp = xp.reshape(xp.permute_dims(weight.data, (1, 0, 2)), (n1, n_out * n2))  # (in1, out·in2)
    z = xp.reshape(x1 @ wp, (b, n_out, n2))
    out = (z @ x2[:, :, None])[:, :, 0]
    if bias is not None:
        out = out + bias.data
    need1, need2, needw = input1.requires_grad, input2.requires_grad, weight.requires_grad

    def backward(g):
        g2 = xp.reshape(g, (b, n_out))
        gx1 = gx2 = gw = None
        if need2:
            gx2 = xp.reshape((g2[:, None, :] @ z)[:, 0, :], input2.shape)
        if need1 or needw:
            gz = xp.reshape(g2[:, :, None] * x2[:, None, :], (b, n_out * n2))
            if need1:
                gx1 = xp.reshape(gz @ wp.mT, input1.shape)
            if needw:
                gw = xp.permute_dims(xp.reshape(x1.mT @ gz, (n1, n_out, n2)), (1, 0, 2))
        if bias is None:
            return gx1, gx2, gw
        return gx1, gx2, gw, xp.sum(g2, axis=0)

    def recompute(t1, t2, tw, tb=None):  # the same products with Tensor ops, for create_graph
        z = (t1.reshape((b, n1)) @ tw.permute((1, 0, 2)).reshape((n1, n_out * n2))).reshape((b, n_out, n2))
        y = (z * t2.reshape((b, 1, n2))).sum(-1)
        return (y if tb is None else y + tb).reshape(lead + (n_out,))

    from gdl.higher_order import by_recomputation

    inputs = (input1, input2, weight) if bias is None else (input1, input2, weight, bias)
    return result(xp.reshape(out, lead + (n_out,)), be, inputs, backward, "Bilinear",
                  by_recomputation(recompute, inputs))


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest
    by ``1/(1-p)`` during training; the identity otherwise (the book's ch8 ×2 mask).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    be = x._backend
    if p == 1.0:
        return x * 0.0
    fused = be.fused.get("dropout")
    if fused is not None:
        out, mask = fused(x.data, p, be)
    else:
        mask = be.bernoulli(1.0 - p, x.shape, dtype=x.data.dtype) * (1.0 / (1.0 - p))
        out = x.data * mask
    return result(out, be, (x,), lambda g: (g * mask,), "Dropout", lambda g: (g * Tensor._wrap(mask, be),))


def embedding(indices, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at integer ``indices`` (any shape); PyTorch's argument order.

    Backward scatter-adds the output gradient into the used rows, so repeated
    indices accumulate (the book's ch13 ``index_select``). The row ``padding_idx``
    (negative: from the end) gets no gradient. With ``sparse=True`` the gradient is a
    :class:`~gdl.sparse_grad.RowSparseGrad` holding only the rows used, so a
    step costs what the batch touches, not the whole table.

    ``max_norm``: before the lookup, each row used whose ``norm_type``-norm exceeds
    ``max_norm`` is rescaled *in place* (outside the graph) to norm ``max_norm``
    (``row · max_norm/(norm + 1e-7)``, as PyTorch's). ``scale_grad_by_freq``: each
    row's gradient is divided by the number of times its index occurs in ``indices``.

    >>> import gdl
    >>> w = gdl.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> gdl.nn.functional.embedding(gdl.tensor([0, 1]), w, max_norm=1.0)
    tensor([[0.6, 0.8],
            [0.3, 0.4]], backend='numpy')
    >>> w                  # row 0 was renormalised in place; row 1 (norm 0.5) was not
    tensor([[0.6, 0.8],
            [0.3, 0.4]], backend='numpy')
    """
    be = weight._backend
    xp = be.xp
    if isinstance(indices, Tensor):
        check_same_backend("embedding", weight, indices)
        idx = indices.data
    elif be.is_array(indices):
        idx = indices
    else:
        from gdl.backends import host

        idx = be.from_host(host.as_index_array(indices))
    if idx.dtype not in (xp.int64, xp.int32, xp.int16, xp.int8, xp.uint8):
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: expected a 2-D weight (num_embeddings, embedding_dim), got shape {weight.shape}")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must be in [-{num}, {num}) for a table of {num} rows, "
                             f"got {padding_idx}")
        padding_idx %= num  # a negative index counts from the end, as PyTorch's
    flat = xp.reshape(idx, (-1,))
    if flat.shape[0] and (int(xp.min(flat)) < 0 or int(xp.max(flat)) >= num):
        raise IndexError(f"embedding: indices must be in [0, {num}) for a table of {num} rows")
    if max_norm is not None and flat.shape[0]:
        _renorm_rows(weight, flat, float(max_norm), float(norm_type))
    out = xp.reshape(xp.take(weight.data, flat, axis=0), tuple(idx.shape) + (dim,))

    def backward(g):
        rows = xp.reshape(g, (-1, dim))
        if scale_grad_by_freq and flat.shape[0]:
            ones = xp.ones((flat.shape[0], 1), dtype=rows.dtype, device=be.device)
            counts = be.scatter_add((num, 1), flat, ones)
            rows = rows / xp.take(counts, flat, axis=0)
        if sparse:
            if padding_idx is not None:
                rows = rows * xp.astype(flat != padding_idx, rows.dtype)[:, None]
            return (RowSparseGrad(flat, rows, (num, dim), be),)
        grad = be.scatter_add((num, dim), flat, rows)
        if padding_idx is not None:
            keep = xp.arange(num, device=be.device)[:, None] != padding_idx
            grad = xp.where(keep, grad, xp.zeros_like(grad))
        return (grad,)

    def graph(g):  # the same scatter-add, as a node whose own backward gathers the rows again
        scale = None
        if scale_grad_by_freq and flat.shape[0]:
            ones = xp.ones((flat.shape[0], 1), dtype=g.data.dtype, device=be.device)
            scale = 1.0 / xp.take(be.scatter_add((num, 1), flat, ones), flat, axis=0)
        return (_scatter_rows(ops.reshape(g, (-1, dim)), flat, num, padding_idx, scale),)

    return result(out, be, (weight,), backward, "Embedding", graph)


def _scatter_rows(rows: Tensor, flat, num: int, padding_idx, scale=None) -> Tensor:
    """``rows`` (n, dim) scatter-added into a (num, dim) table at ``flat`` (the row
    ``padding_idx`` left 0), each row times ``scale`` (n, 1) if given: :func:`embedding`'s
    weight gradient as a graph node. Its backward is the gather ``embedding(flat, g)`` (0 at
    ``padding_idx``; not scaled, as PyTorch's ``embedding_dense_double_backward``), itself a
    node with a graph backward, so the gradient can be differentiated any number of times."""
    be = rows._backend
    xp = be.xp
    dim = rows.shape[1]
    grad = be.scatter_add((num, dim), flat, rows.data if scale is None else rows.data * scale)
    keep = None
    if padding_idx is not None:
        grad = xp.where(xp.arange(num, device=be.device)[:, None] != padding_idx, grad, xp.zeros_like(grad))
        keep = (flat != padding_idx)[:, None]

    def backward(g):
        picked = xp.take(g, flat, axis=0)
        return (picked if keep is None else xp.where(keep, picked, xp.zeros_like(picked)),)

    def graph(g):
        picked = embedding(flat, g)
        return (picked if keep is None else ops.where(keep, picked, 0.0),)

    return result(grad, be, (rows,), backward, "EmbeddingBackward", graph)


def _renorm_rows(weight: Tensor, flat, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: rows at ``flat`` with norm > ``max_norm`` scaled
    by ``max_norm/(norm + 1e-7)``, in place; every other row is left bit for bit. Costs
    what the rows used cost, not the whole table."""
    be = weight._backend
    xp = be.xp
    rows = xp.unique_values(flat)
    sub = xp.take(weight.data, rows, axis=0)
    a = xp.abs(sub)
    if norm_type == float("inf"):
        norms = xp.max(a, axis=1, keepdims=True)
    elif norm_type == 0:
        norms = xp.sum(xp.astype(a != 0, sub.dtype), axis=1, keepdims=True)
    elif norm_type == 1:
        norms = xp.sum(a, axis=1, keepdims=True)
    elif norm_type == 2:
        norms = xp.sqrt(xp.sum(a * a, axis=1, keepdims=True))
    else:
        norms = xp.sum(a**norm_type, axis=1, keepdims=True) ** (1.0 / norm_type)
    too_long = norms > max_norm
    if not bool(xp.any(too_long)):
        return
    scaled = xp.where(too_long, sub * (max_norm / (norms + 1e-7)), sub)
    with no_grad():
        weight.data = be.put_rows(weight.data, rows, scaled)


def layer_norm(x: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions, then ``·weight + bias``
    (both of shape ``normalized_shape``). One graph node with an analytic backward."""
    if _AMP[0]:
        x, weight, bias = _amp_cast("fp32", x, weight, bias)
    _check_float("layer_norm", x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[-len(normalized_shape) :]) != normalized_shape:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with {normalized_shape}")
    _check_param("layer_norm", "weight", x, weight, normalized_shape)
    _check_param("layer_norm", "bias", x, bias, normalized_shape)
    size = math.prod(normalized_shape)
    view = (math.prod(x.shape[: x.ndim - len(normalized_shape)]), size)
    return _norm_node("LayerNorm", x, view, (1,), (1, size), weight, bias, eps)


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dimension 1) by batch statistics in training, by the
    running statistics otherwise. Running statistics update in place in training:
    ``running = (1 - momentum)·running + momentum·batch`` (unbiased variance).
    One graph node with an analytic backward.
    """
    op = "batch_norm"
    _check_float(op, x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input with at least 2 dimensions (N, C, ...), got {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param(op, name, x, t, (c,))
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither")
    view, wview = (x.shape[0], c, math.prod(x.shape[2:])), (1, c, 1)
    xp = x._backend.xp
    if not training:
        if running_mean is None:
            raise ValueError("batch_norm: evaluation mode needs running statistics")
        mu = xp.reshape(running_mean.data, wview)
        rstd = 1.0 / xp.sqrt(xp.reshape(running_var.data, wview) + eps)
        return _norm_node("BatchNorm", x, view, (0, 2), wview, weight, bias, eps, stats=(mu, rstd))
    n = x.size // c
    if n == 1:  # the variance of one value is 0: the output would be all bias
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                         f"shape {x.shape}")
    update = None
    if running_mean is not None:

        def update(mu, var):
            with no_grad():
                batch = (xp.reshape(mu, (-1,)), xp.reshape(var, (-1,)) * (n / max(n - 1, 1)))
                for buf, stat in zip((running_mean, running_var), batch):
                    new = (1 - momentum) * buf.data + momentum * stat
                    buf.data = new if new.dtype == buf.data.dtype else xp.astype(new, buf.data.dtype)

    return _norm_node("BatchNorm", x, view, (0, 2), wview, weight, bias, eps, on_stats=update)


__all__ = [
    "linear",
    "bilinear",
    "dropout",
    "embedding",
    "layer_norm",
    "batch_norm",
]
