"""Matrix products, contractions (``tensordot``, ``einsum``), diagonals and vector norms.

Each op computes its forward from raw arrays and defines its backward beside it.
The plain matrix products (``mm``, ``bmm``, ``mv``, ``dot``) are checks of the
operands' shapes in front of :func:`matmul`.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter

from gdl import dtypes
from gdl.amp.autocast_mode import ACTIVE as _AMP
from gdl.amp.autocast_mode import autocast_inputs as _amp_cast
from gdl.functional._util import (
    as_operand,
    check_axis,
    check_same_backend,
    dim_alias,
    expand_reduced,
    keepdim_alias,
    normalize_axes,
    unbroadcast,
)
from gdl.higher_order import unbroadcast as _unb
from gdl.tensor import Tensor, result


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 1-D, 2-D and batched (broadcast) operands, as ``torch.matmul``.

    An integer tensor times a float tensor gives the float tensor's dtype (PyTorch
    refuses the mix); integer times integer stays integer. Backward of
    ``out = a @ b``: ``grad_a = g @ bᵀ``, ``grad_b = aᵀ @ g``, summed over broadcast
    batch dimensions.

    >>> import gdl
    >>> gdl.tensor([[1.0, 2.0], [3.0, 4.0]]) @ gdl.tensor([1.0, 1.0])
    tensor([3., 7.], backend='numpy')
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = (as_operand("matmul", a, b), b) if not isinstance(a, Tensor) else (a, as_operand("matmul", b, a))
    elif a._backend is not b._backend:
        check_same_backend("matmul", a, b)
    if _AMP[0]:
        a, b = _amp_cast("low", a, b)
    xa, xb = a.data, b.data
    if xa.dtype is not xb.dtype and xa.dtype != xb.dtype:
        xa, xb = _same_kind(a._backend.xp, xa, xb)
    if xa.ndim == 0 or xb.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = xa.shape[-1]
    kb = xb.shape[0] if xb.ndim == 1 else xb.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not match "
            f"(inner dimensions {ka} and {kb})"
        )
    be = a._backend
    try:
        out = be.matmul(xa, xb)
    except ValueError:
        raise ValueError(f"matmul: cannot broadcast the batch dimensions of {a.shape} and {b.shape}") from None
    except TypeError as exc:  # a dtype the backend refuses (not a shape problem)
        raise TypeError(f"matmul: cannot multiply {a.dtype.name} and {b.dtype.name} tensors: {exc}") from None

    need_a, need_b = a.requires_grad, b.requires_grad
    if xa.ndim == 2 and xb.ndim == 2:

        def backward(g):
            return (g @ xb.mT if need_a else None, xa.mT @ g if need_b else None)

    else:

        def backward(g):
            return _matmul_grads(be, xa, xb, g, need_a, need_b)

    return result(out, be, (a, b), backward, "Matmul", lambda g: _matmul_graph(a, b, g, need_a, need_b))


def _matmul_graph(a, b, g, need_a, need_b):
    """:func:`_matmul_grads` on Tensors (``matmul``'s ``graph`` backward, :mod:`gdl.higher_order`)."""
    from gdl.functional.shape import reshape, transpose

    if a.ndim == 2 and b.ndim == 2:
        return (matmul(g, transpose(b)) if need_a else None, matmul(transpose(a), g) if need_b else None)
    a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
    b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
    g2 = g
    if b.ndim == 1:
        g2 = reshape(g2, g2.shape + (1,))
    if a.ndim == 1:
        g2 = reshape(g2, g2.shape[:-1] + (1,) + g2.shape[-1:])
    ga = reshape(_unb(matmul(g2, transpose(b2)), a2.shape), a.shape) if need_a else None
    gb = reshape(_unb(matmul(transpose(a2), g2), b2.shape), b.shape) if need_b else None
    return (ga, gb)


def _matmul_grads(be, xa, xb, g, need_a, need_b):
    """The gradients of ``xa @ xb`` (any of matmul's shapes) for the output gradient ``g``."""
    xp = be.xp
    a2 = xa if xa.ndim > 1 else xa[None, :]
    b2 = xb if xb.ndim > 1 else xb[:, None]
    g2 = g
    if xb.ndim == 1:  # (before xa's: 1-D @ 1-D gives a 0-d g)
        g2 = xp.expand_dims(g2, axis=-1)
    if xa.ndim == 1:
        g2 = xp.expand_dims(g2, axis=-2)
    ga = gb = None
    if need_a:
        ga = xp.reshape(unbroadcast(xp, be.matmul(g2, b2.mT), a2.shape), xa.shape)
    if need_b:
        gb = xp.reshape(unbroadcast(xp, be.matmul(a2.mT, g2), b2.shape), xb.shape)
    return (ga, gb)


def _same_kind(xp, xa, xb):
    """Two arrays of one kind: an integer (or bool) array beside a float one becomes
    the float one's dtype (NumPy would give float64, PyTorch refuses the mix), a bool
    one beside an integer one the integer dtype (array-api-strict refuses the mix)."""
    from gdl.functional.elementwise import _category

    ca, cb = _category(xa.dtype), _category(xb.dtype)
    if ca > cb:
        return xa, xp.astype(xb, xa.dtype)
    if cb > ca:
        return xp.astype(xa, xb.dtype), xb
    return xa, xb


def _tensors(op, *xs):
    """The operands as Tensors on one backend (lists and arrays converted beside the first Tensor)."""
    first = next((x for x in xs if isinstance(x, Tensor)), None)
    if first is None:
        raise TypeError(f"{op}: expected tensors, got {', '.join(type(x).__name__ for x in xs)}")
    out = []
    for x in xs:
        if not isinstance(x, Tensor):
            x = as_operand(op, x, first)
            if not isinstance(x, Tensor):
                raise TypeError(f"{op}: expected a tensor, got the number {x!r}")
        elif x._backend is not first._backend:
            check_same_backend(op, first, x)
        out.append(x)
    return out


def _need_ndim(op, want, *ts):
    if any(t.ndim != n for t, n in zip(ts, want)):
        wanted = " and ".join(f"{n}-D" for n in want)
        got = " and ".join(str(t.shape) for t in ts)
        raise ValueError(f"{op}: expects {wanted} tensors, got shapes {got}")


def _inner(op, a, b):
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not match (inner dimensions {ka} and {kb})")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The matrix product of two 2-D tensors, as ``torch.mm`` (no broadcasting: use
    :func:`matmul` for that). Backward: ``grad_a = g @ bᵀ``, ``grad_b = aᵀ @ g``.

    >>> import gdl
    >>> gdl.mm(gdl.tensor([[1.0, 2.0]]), gdl.tensor([[3.0], [4.0]]))
    tensor([[11.]], backend='numpy')
    """
    a, b = _tensors("mm", a, b)
    _need_ndim("mm", (2, 2), a, b)
    _inner("mm", a, b)
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of ``(B, n, k)`` and ``(B, k, p)`` tensors (the same ``B``:
    no broadcasting), as ``torch.bmm``. Backward: ``g @ bᵀ`` and ``aᵀ @ g`` per batch.

    >>> import gdl
    >>> gdl.bmm(gdl.ones(2, 1, 3), gdl.ones(2, 3, 2)).shape
    (2, 1, 2)
    """
    a, b = _tensors("bmm", a, b)
    _need_ndim("bmm", (3, 3), a, b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {a.shape} and {b.shape} (bmm does not broadcast; "
                         f"use matmul)")
    _inner("bmm", a, b)
    return matmul(a, b)


def mv(mat: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product of an ``(n, m)`` and an ``(m,)`` tensor, as ``torch.mv``.
    Backward: ``grad_mat = outer(g, vec)``, ``grad_vec = matᵀ @ g``.

    >>> import gdl
    >>> gdl.mv(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]), gdl.tensor([1.0, -1.0]))
    tensor([-1., -1.], backend='numpy')
    """
    mat, vec = _tensors("mv", mat, vec)
    _need_ndim("mv", (2, 1), mat, vec)
    _inner("mv", mat, vec)
    return matmul(mat, vec)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of one length (a 0-d tensor), as ``torch.dot``.
    Backward: ``grad_a = g * b``, ``grad_b = g * a``.

    >>> import gdl
    >>> gdl.dot(gdl.tensor([1.0, 2.0, 3.0]), gdl.tensor([4.0, 5.0, 6.0]))
    tensor(32., backend='numpy')
    """
    a, b = _tensors("dot", a, b)
    _need_ndim("dot", (1, 1), a, b)
    if a.shape != b.shape:
        raise ValueError(f"dot: the vectors have different lengths: shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product ``out[i, j] = a[i] * b[j]`` of two 1-D tensors, as ``torch.outer``.
    Backward: ``grad_a = g @ b``, ``grad_b = gᵀ @ a``.

    >>> import gdl
    >>> gdl.outer(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 10.0, 100.0]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]], backend='numpy')
    """
    a, b = _tensors("outer", a, b)
    _need_ndim("outer", (1, 1), a, b)
    xa, xb = a.data, b.data
    if xa.dtype != xb.dtype:
        xa, xb = _same_kind(a._backend.xp, xa, xb)
    out = xa[:, None] * xb[None, :]
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g):
        return (g @ xb if need_a else None, g.mT @ xa if need_b else None)

    def graph(g):
        from gdl.functional.shape import transpose

        return (matmul(g, b) if need_a else None, matmul(transpose(g), a) if need_b else None)

    return result(out, a._backend, (a, b), backward, "Outer", graph)


def _broadcasts_to(shape, target) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def _add_product(op, input, m1, m2, beta, alpha, ndims):
    """``beta * input + alpha * (m1 @ m2)`` as one node (addmm, baddbmm, addmv)."""
    input, m1, m2 = _tensors(op, input, m1, m2)
    if _AMP[0]:
        input, m1, m2 = _amp_cast("low", input, m1, m2)
    _need_ndim(op, ndims, m1, m2)
    if ndims[0] == 3 and m1.shape[0] != m2.shape[0]:
        raise ValueError(f"{op}: batch sizes differ: shapes {m1.shape} and {m2.shape}")
    _inner(op, m1, m2)
    be = m1._backend
    xp = be.xp
    xi, x1, x2 = input.data, m1.data, m2.data
    kinds = {dtypes.is_floating(x.dtype) for x in (xi, x1, x2)}
    if len(kinds) > 1:  # integer operands become the float operands' dtype
        target = next(x.dtype for x in (x1, x2, xi) if dtypes.is_floating(x.dtype))
        xi, x1, x2 = (x if dtypes.is_floating(x.dtype) else xp.astype(x, target) for x in (xi, x1, x2))
    elif True not in kinds and not (isinstance(beta, int) and isinstance(alpha, int)):
        raise TypeError(f"{op}: beta and alpha must be integers for integer tensors, got {beta!r} and {alpha!r}")
    prod = be.matmul(x1, x2)
    if not _broadcasts_to(tuple(xi.shape), tuple(prod.shape)):
        raise ValueError(f"{op}: input of shape {input.shape} does not broadcast to the product's shape "
                         f"{tuple(prod.shape)}")
    out = prod if alpha == 1 else prod * alpha
    if beta != 0:  # beta == 0 ignores input (NaN and inf in it do not propagate), as PyTorch
        out = out + (xi if beta == 1 else xi * beta)
    need = (input.requires_grad, m1.requires_grad, m2.requires_grad)

    def backward(g):
        gi = None
        if need[0]:
            gi = xp.zeros(xi.shape, dtype=g.dtype, device=be.device) if beta == 0 else (
                unbroadcast(xp, g if beta == 1 else g * beta, xi.shape))
        gp = g if alpha == 1 else g * alpha
        return (gi, *_matmul_grads(be, x1, x2, gp, need[1], need[2]))

    def graph(g):
        gi = None
        if need[0]:
            gi = Tensor._wrap(xp.zeros(xi.shape, dtype=g.data.dtype, device=be.device), be) if beta == 0 else (
                _unb(g if beta == 1 else g * beta, xi.shape))
        return (gi, *_matmul_graph(m1, m2, g if alpha == 1 else g * alpha, need[1], need[2]))

    return result(out, be, (input, m1, m2), backward, op.capitalize(), graph)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2`` and an ``input``
    that broadcasts to the product's shape, as ``torch.addmm``. With ``beta=0`` the
    input is ignored (NaN in it does not propagate; its gradient is zeros).
    Backward: ``grad_input = beta * g`` (summed to input's shape),
    ``grad_mat1 = alpha * g @ mat2ᵀ``, ``grad_mat2 = alpha * mat1ᵀ @ g``.

    >>> import gdl
    >>> gdl.addmm(gdl.tensor([1.0, 2.0]), gdl.eye(2), gdl.ones(2, 2), alpha=3)
    tensor([[4., 5.],
            [4., 5.]], backend='numpy')
    """
    return _add_product("addmm", input, mat1, mat2, beta, alpha, (2, 2))


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``, as ``torch.baddbmm``; backward as
    :func:`addmm`, per batch."""
    return _add_product("baddbmm", input, batch1, batch2, beta, alpha, (3, 3))


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``, as ``torch.addmv``; backward as :func:`addmm`
    (``grad_mat = alpha * outer(g, vec)``, ``grad_vec = alpha * matᵀ @ g``)."""
    return _add_product("addmv", input, mat, vec, beta, alpha, (2, 1))


# -- contractions ------------------------------------------------------------------------------


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _tensordot_axes(dims, a, b):
    if isinstance(dims, (bool, str)):
        raise TypeError(f"tensordot: dims must be an int or a pair of axis lists, got {dims!r}")
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} and {b.shape}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    try:
        da, db = dims
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: dims must be an int or a pair of axis lists, got {dims!r}") from None
    da = [da] if isinstance(da, int) else list(da)
    db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise ValueError(f"tensordot: dims names {len(da)} axes of the first tensor and {len(db)} of the second")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in da + db):
        raise TypeError(f"tensordot: dims must be an int or a pair of axis lists, got {dims!r}")
    da = [check_axis(d, a.ndim, "tensordot") for d in da]
    db = [check_axis(d, b.ndim, "tensordot") for d in db]
    if len(set(da)) != len(da) or len(set(db)) != len(db):
        raise ValueError(f"tensordot: an axis is named twice in dims={dims!r}")
    return da, db


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the axes ``dims`` of ``a`` and ``b``, as ``torch.tensordot``:
    ``dims=n`` contracts the last ``n`` axes of ``a`` with the first ``n`` of ``b``;
    ``dims=([1, 0], [0, 1])`` names them. The result's axes are ``a``'s free ones then
    ``b``'s. Backward: ``grad_a`` is the gradient contracted with ``b`` over ``b``'s
    free axes (then put in ``a``'s axis order), ``grad_b`` likewise with ``a``.

    >>> import gdl
    >>> gdl.tensordot(gdl.ones(2, 3, 4), gdl.ones(3, 4, 5)).shape
    (2, 5)
    """
    a, b = _tensors("tensordot", a, b)
    ca, cb = _tensordot_axes(dims, a, b)
    for i, j in zip(ca, cb):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of shape {a.shape} and axis {j} of shape {b.shape} "
                             f"have different sizes")
    be = a._backend
    xp = be.xp
    xa, xb = a.data, b.data
    if xa.dtype != xb.dtype:
        xa, xb = _same_kind(xp, xa, xb)
    out = xp.tensordot(xa, xb, axes=(ca, cb))
    fa = [i for i in range(xa.ndim) if i not in ca]
    fb = [i for i in range(xb.ndim) if i not in cb]
    need_a, need_b = a.requires_grad, b.requires_grad

    # tensordot keeps the uncontracted axes in increasing order: these are the axes of the
    # gradients below, in a's and in b's numbering
    order_a = fa + [ca[cb.index(j)] for j in sorted(cb)]
    order_b = [cb[ca.index(i)] for i in sorted(ca)] + fb

    def backward(g):
        ga = gb = None
        nfa = len(fa)
        if need_a:
            ga = xp.permute_dims(xp.tensordot(g, xb, axes=(list(range(nfa, g.ndim)), fb)), _inverse(order_a))
        if need_b:
            gb = xp.permute_dims(xp.tensordot(xa, g, axes=(fa, list(range(nfa)))), _inverse(order_b))
        return (ga, gb)

    def graph(g):
        from gdl.functional.shape import permute

        nfa = len(fa)
        ga = permute(tensordot(g, b, (list(range(nfa, g.ndim)), fb)), _inverse(order_a)) if need_a else None
        gb = permute(tensordot(a, g, (fa, list(range(nfa)))), _inverse(order_b)) if need_b else None
        return (ga, gb)

    return result(out, be, (a, b), backward, "Tensordot", graph)


# -- einsum ----------------------------------------------------------------------------------


_SUBSCRIPT_HELP = ("subscripts are letters a-z and A-Z, with ',' between operands, '->' before the "
                   "output and '...' for broadcast dimensions")


def _einsum_term(term, equation):
    """The tokens of one operand's (or the output's) subscripts: letters and '...'."""
    tokens, i = [], 0
    while i < len(term):
        c = term[i]
        if c in string.ascii_letters:
            tokens.append(c)
            i += 1
        elif term.startswith("...", i):
            if "..." in tokens:
                raise ValueError(f"einsum: '...' appears twice in the subscripts {term!r} of {equation!r}")
            tokens.append("...")
            i += 3
        else:
            raise ValueError(f"einsum: invalid subscript character {c!r} in {equation!r} ({_SUBSCRIPT_HELP})")
    return tokens


@functools.lru_cache(maxsize=512)
def _einsum_plan(equation, shapes):
    """``(terms, squeezed, out, free)`` for an equation and the operands' shapes.

    ``terms`` are the operands' subscripts with ``...`` written out as letters and
    without the size-1 dimensions that broadcast against a larger size (those are
    reshaped away, ``squeezed`` are the operands' shapes without them); ``out`` is
    the output's subscripts; ``free`` the letters left for the backward.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise ValueError(f"einsum: '->' appears twice in {equation!r}")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has subscripts for {len(terms)} operand(s) "
                         f"but {len(shapes)} were given")
    parsed = [_einsum_term(t, equation) for t in terms]
    out_tokens = _einsum_term(rhs, equation) if arrow else None
    ell_dims = []
    for i, (tokens, shape) in enumerate(zip(parsed, shapes)):
        named = len(tokens) - ("..." in tokens)
        if len(shape) < named or ("..." not in tokens and len(shape) != named):
            raise ValueError(f"einsum: operand {i} has shape {shape} ({len(shape)} dimensions) but its "
                             f"subscripts {terms[i]!r} in {equation!r} name {named}")
        ell_dims.append(len(shape) - named)
    used = {c for tokens in parsed for c in tokens} | set(out_tokens or ())
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max(ell_dims, default=0)
    if n_ell > len(free):
        raise ValueError(f"einsum: too many dimensions for the 52 subscript letters in {equation!r}")
    ell, free = free[:n_ell], free[n_ell:]
    expanded = []
    for tokens, e in zip(parsed, ell_dims):
        letters = []
        for c in tokens:
            letters.extend(ell[n_ell - e:] if c == "..." else [c])
        expanded.append(letters)
    if out_tokens is None:  # implicit output: '...' then the letters seen once, sorted
        counts = Counter(c for tokens in parsed for c in tokens if c != "...")
        out = (ell if any("..." in t for t in parsed) else []) + sorted(c for c, n in counts.items() if n == 1)
    else:
        out = []
        for c in out_tokens:
            out.extend(ell if c == "..." else [c])
        named = [c for c in out_tokens if c != "..."]
        for c in named:
            if named.count(c) > 1:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once in {equation!r}")
            if not any(c in t for t in parsed):
                raise ValueError(f"einsum: output subscript {c!r} in {equation!r} names no dimension of "
                                 f"the operands")
    sizes = {}
    for i, (letters, shape) in enumerate(zip(expanded, shapes)):
        own = {}
        for c, s in zip(letters, shape):
            if own.setdefault(c, s) != s:
                raise ValueError(f"einsum: subscript {c!r} is repeated in operand {i} (shape {shape}) "
                                 f"over dimensions of different sizes")
            prev = sizes.get(c, 1)
            if s != 1 and prev != 1 and s != prev:
                raise ValueError(f"einsum: subscript {c!r} of {equation!r} stands for sizes {prev} and {s} "
                                 f"(operand shapes {', '.join(str(s) for s in shapes)})")
            sizes[c] = max(prev, s)
    squeezed_terms, squeezed = [], []
    for letters, shape in zip(expanded, shapes):
        keep = [k for k, (c, s) in enumerate(zip(letters, shape)) if not (s == 1 and sizes[c] != 1)]
        squeezed_terms.append("".join(letters[k] for k in keep))
        squeezed.append(tuple(shape[k] for k in keep))
    repeats = max((len(t) - len(set(t)) for t in squeezed_terms), default=0)
    if repeats > len(free):
        raise ValueError(f"einsum: too many dimensions for the 52 subscript letters in {equation!r}")
    return tuple(squeezed_terms), tuple(squeezed), "".join(out), tuple(free)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Subscripts are letters; a letter repeated across operands is multiplied along,
    a letter left out of the output is summed over. Supported: an explicit output
    (``->``) or the implicit one (the letters that appear once, sorted, after
    ``...``), a letter repeated within one operand (``"ii->i"`` is the diagonal,
    ``"ii"`` the trace), ``...`` for broadcast dimensions, and size-1 dimensions
    broadcasting against larger ones. The operands may also be passed as one list.

    Backward: an operand's gradient is the einsum of the output's gradient with the
    other operands (and, for a repeated letter, an identity matrix that puts the
    gradient on the diagonal), broadcast over the letters found nowhere else.

    >>> import gdl
    >>> a = gdl.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> gdl.einsum("ij,jk->ik", a, gdl.eye(2))
    tensor([[1., 2.],
            [3., 4.]], backend='numpy')
    >>> gdl.einsum("ii", a)
    tensor(5., backend='numpy')
    >>> gdl.einsum("ij->j", a)
    tensor([4., 6.], backend='numpy')
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if _AMP[0]:
        operands = _amp_cast("low", *operands)
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    operands = _tensors("einsum", *operands)
    be = operands[0]._backend
    xp = be.xp
    terms, squeezed, out_sub, free = _einsum_plan(equation, tuple(t.shape for t in operands))
    arrays = [t.data for t in operands]
    if len({x.dtype for x in arrays}) > 1:
        arrays = _common_dtype(xp, arrays)
    arrays = [x if tuple(x.shape) == s else xp.reshape(x, s) for x, s in zip(arrays, squeezed)]
    out = be.einsum(",".join(terms) + "->" + out_sub, *arrays)
    need = [t.requires_grad for t in operands]
    shapes = [t.shape for t in operands]

    def backward(g):
        grads = []
        for k, sub in enumerate(terms):
            if not need[k]:
                grads.append(None)
                continue
            subs, eye_sizes, renamed, keep, avail = _einsum_grad_plan(k, sub, terms, out_sub, free)
            arrs = [g] + [x for j, x in enumerate(arrays) if j != k]
            arrs += [xp.eye(squeezed[k][i], dtype=g.dtype, device=be.device) for i in eye_sizes]
            grad = g if subs == [keep] else be.einsum(",".join(subs) + "->" + keep, *arrs)
            if len(keep) < len(renamed):  # letters found only in this operand: broadcast
                grad = xp.reshape(grad, tuple(s if c in avail else 1 for c, s in zip(renamed, squeezed[k])))
                grad = xp.broadcast_to(grad, squeezed[k])
            if squeezed[k] != shapes[k]:
                grad = xp.reshape(grad, shapes[k])
            grads.append(grad)
        return tuple(grads)

    def graph(g):  # backward's steps on Tensors (gdl.higher_order)
        from gdl.functional.shape import broadcast_to, reshape

        ops = [t if tuple(t.shape) == sq else reshape(t, sq) for t, sq in zip(operands, squeezed)]
        grads = []
        for k, sub in enumerate(terms):
            if not need[k]:
                grads.append(None)
                continue
            subs, eye_sizes, renamed, keep, avail = _einsum_grad_plan(k, sub, terms, out_sub, free)
            arrs = [g] + [t for j, t in enumerate(ops) if j != k]
            arrs += [Tensor._wrap(xp.eye(squeezed[k][i], dtype=g.data.dtype, device=be.device), be) for i in eye_sizes]
            grad = g if subs == [keep] else einsum(",".join(subs) + "->" + keep, *arrs)
            if len(keep) < len(renamed):
                grad = reshape(grad, tuple(s if c in avail else 1 for c, s in zip(renamed, squeezed[k])))
                grad = broadcast_to(grad, squeezed[k])
            grads.append(grad if squeezed[k] == shapes[k] else reshape(grad, shapes[k]))
        return tuple(grads)

    return result(out, be, tuple(operands), backward, "Einsum", graph)


def _einsum_grad_plan(k, sub, terms, out_sub, free):
    """The einsum that gives operand ``k``'s gradient: a repeated letter of ``sub`` gets a
    fresh name from ``free``, tied to it by an identity matrix. Returns ``(subscripts,
    positions in sub of the identities' sizes, renamed letters, result letters, letters
    available)``."""
    fresh = iter(free)
    renamed, seen, eyes = [], set(), []
    for c in sub:
        if c in seen:
            renamed.append(next(fresh))
            eyes.append(c + renamed[-1])
        else:
            seen.add(c)
            renamed.append(c)
    subs = [out_sub] + [t for j, t in enumerate(terms) if j != k] + eyes
    avail = set("".join(subs))
    keep = "".join(c for c in renamed if c in avail)
    return subs, [sub.index(e[0]) for e in eyes], renamed, keep, avail


def _common_dtype(xp, arrays):
    """The arrays in one dtype: integer and bool ones become the float ones' dtype."""
    floats = [x.dtype for x in arrays if dtypes.is_floating(x.dtype)]
    pool = floats or [x.dtype for x in arrays if x.dtype != xp.bool] or [xp.bool]
    target = xp.result_type(*pool)
    return [x if x.dtype == target else xp.astype(x, target) for x in arrays]


# -- diagonals -------------------------------------------------------------------------------


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of ``x`` over the axes ``dim1`` and ``dim2`` (removed; the diagonal
    becomes the last axis), ``offset`` above (> 0) or below (< 0) the main one, as
    ``torch.diagonal``. Backward: the gradient written onto that diagonal of zeros.

    >>> import gdl
    >>> gdl.diagonal(gdl.arange(9).reshape(3, 3), offset=1)
    tensor([1, 5], backend='numpy')
    """
    if x.ndim < 2:
        raise ValueError(f"diagonal: expects a tensor with at least 2 dimensions, got shape {x.shape}")
    d1, d2 = check_axis(dim1, x.ndim, "diagonal"), check_axis(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 are the same axis ({dim1} and {dim2})")
    offset = int(offset)
    be = x._backend
    xp = be.xp
    perm = tuple(i for i in range(x.ndim) if i not in (d1, d2)) + (d1, d2)
    moved = x.data if perm == tuple(range(x.ndim)) else xp.permute_dims(x.data, perm)
    out = xp.linalg.diagonal(moved, offset=offset)
    n, m = x.shape[d1], x.shape[d2]

    def backward(g):
        length = g.shape[-1]
        lead = tuple(g.shape[:-1])
        width = n if offset >= 0 else m
        if length < width:
            g = xp.concat([g, xp.zeros(lead + (width - length,), dtype=g.dtype, device=be.device)], axis=-1)
        mask = xp.eye(n, m, k=offset, dtype=g.dtype, device=be.device)
        full = g[..., :, None] * mask if offset >= 0 else g[..., None, :] * mask
        return (full if perm == tuple(range(x.ndim)) else xp.permute_dims(full, _inverse(perm)),)

    def graph(g):
        from gdl.functional.shape import concat, permute, reshape

        length, lead = g.shape[-1], tuple(g.shape[:-1])
        width = n if offset >= 0 else m
        if length < width:
            pad = xp.zeros(lead + (width - length,), dtype=g.data.dtype, device=be.device)
            g = concat([g, Tensor._wrap(pad, be)], -1)
        mask = Tensor._wrap(xp.eye(n, m, k=offset, dtype=g.data.dtype, device=be.device), be)
        full = reshape(g, lead + ((width, 1) if offset >= 0 else (1, width))) * mask
        return (permute(full, _inverse(perm)),)

    return result(out, be, (x,), backward, "Diagonal", graph)


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor, as ``torch.trace`` (integer tensors
    give int64). Backward: ``g`` times the identity matrix of ``x``'s shape.

    >>> import gdl
    >>> gdl.trace(gdl.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(5., backend='numpy')
    """
    if x.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {x.shape}")
    be = x._backend
    xp = be.xp
    diag = xp.linalg.diagonal(x.data)
    out = xp.sum(diag) if dtypes.is_floating(x.data.dtype) else xp.sum(diag, dtype=xp.int64)
    n, m = x.shape

    def backward(g):
        return (g * xp.eye(n, m, dtype=g.dtype, device=be.device),)

    def graph(g):
        return (g * Tensor._wrap(xp.eye(n, m, dtype=g.data.dtype, device=be.device), be),)

    return result(out, be, (x,), backward, "Trace", graph)


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product, as ``torch.kron``: blocks ``a[i, j] * b`` (any number of
    dimensions; the shorter shape gets leading 1s). Built from reshape and a
    broadcast multiply, so its backward is theirs.

    >>> import gdl
    >>> gdl.kron(gdl.tensor([1.0, 2.0]), gdl.tensor([1.0, 10.0]))
    tensor([ 1., 10.,  2., 20.], backend='numpy')
    """
    from gdl.functional.elementwise import astype, mul
    from gdl.functional.shape import reshape

    a, b = _tensors("kron", a, b)
    if a.data.dtype != b.data.dtype:
        fa, fb = dtypes.is_floating(a.data.dtype), dtypes.is_floating(b.data.dtype)
        if fa and not fb:
            b = astype(b, a.dtype)
        elif fb and not fa:
            a = astype(a, b.dtype)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    ra = reshape(a, tuple(d for s in sa for d in (s, 1)))
    rb = reshape(b, tuple(d for s in sb for d in (1, s)))
    return reshape(mul(ra, rb), tuple(p * q for p, q in zip(sa, sb)))


def cross(a: Tensor, b: Tensor, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (other axes broadcast), as
    ``torch.linalg.cross`` (``torch.cross``'s default ``dim=None``, the first axis of
    size 3, is deprecated there; gdl's default is -1). Backward: ``grad_a = b × g``,
    ``grad_b = g × a``.

    >>> import gdl
    >>> gdl.cross(gdl.tensor([1.0, 0.0, 0.0]), gdl.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.], backend='numpy')
    """
    a, b = _tensors("cross", a, b)
    nd = max(a.ndim, b.ndim)
    if nd == 0:
        raise ValueError("cross: expects tensors with a dimension of size 3, got 0-d tensors")
    axis = check_axis(dim, nd, "cross") - nd  # negative, as the Array API's cross wants
    if any(t.ndim < -axis or t.shape[axis] != 3 for t in (a, b)):
        raise ValueError(f"cross: dimension {dim} must have size 3 in both tensors, got shapes {a.shape} "
                         f"and {b.shape}")
    be = a._backend
    xp = be.xp
    xa, xb = a.data, b.data
    if xa.dtype != xb.dtype:
        xa, xb = _same_kind(xp, xa, xb)
    try:
        out = xp.linalg.cross(xa, xb, axis=axis)
    except ValueError:
        raise ValueError(f"cross: cannot broadcast shapes {a.shape} and {b.shape}") from None
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g):
        ga = unbroadcast(xp, xp.linalg.cross(xb, g, axis=axis), xa.shape) if need_a else None
        gb = unbroadcast(xp, xp.linalg.cross(g, xa, axis=axis), xb.shape) if need_b else None
        return (ga, gb)

    def graph(g):
        ga = _unb(cross(b, g, dim=axis), a.shape) if need_a else None
        gb = _unb(cross(g, a, dim=axis), b.shape) if need_b else None
        return (ga, gb)

    return result(out, be, (a, b), backward, "Cross", graph)


# -- norms -----------------------------------------------------------------------------------


def norm(x: Tensor, p=2, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Vector ``p``-norm over ``axis`` (all elements when None), as ``torch.Tensor.norm``
    and the Array API's ``linalg.vector_norm``; ``dim``/``keepdim`` are PyTorch's spellings.

    ``p`` is 2 (or ``"fro"``), 1, ``inf`` (largest ``|x|``), ``-inf``, 0 (count of
    nonzeros, zero gradient) or any other number (``sum(|x|**p) ** (1/p)``). The
    2-norm's gradient ``x / norm`` is taken as 0 where the norm is 0, as PyTorch does.
    """
    if _AMP[0]:
        x = _amp_cast("fp32", x)[0]
    from gdl.functional.elementwise import abs, astype, ne
    from gdl.functional.reduction import max, min, sum

    if dim is not None:
        axis = dim_alias("norm", axis, dim)
    if keepdim is not None:
        keepdims = keepdim_alias("norm", keepdims, keepdim)
    if p == "fro":
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"norm: needs a floating-point tensor, got {x.dtype.name} (convert with .float())")
    if p == 2:
        return _norm2(x, axis, keepdims)
    if p == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if p == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if p == 0:
        count = sum(astype(ne(x, 0.0), x.dtype), axis=axis, keepdims=keepdims)
        return result(count.data, x._backend, (x,), lambda g: (x._backend.xp.zeros_like(x.data),), "Norm",
                      lambda g: (Tensor._wrap(x._backend.xp.zeros_like(x.data), x._backend),))
    return _normp(x, p, axis, keepdims)


def _normp(x, p, axis, keepdims):
    """``sum(|x|**p) ** (1/p)``; the gradient ``sign(x) * (|x| / norm) ** (p - 1)`` is taken
    as 0 where ``x`` or the norm is 0, as PyTorch does (not the NaN of the chain rule)."""
    xp = x._backend.xp
    data, shape = x.data, x.data.shape
    axes = normalize_axes(axis, x.ndim, "norm")
    a = xp.abs(data)
    out_keep = xp.sum(a**p, axis=axes, keepdims=True) ** (1.0 / p)
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))

    def backward(g):
        live = (a != 0) & (out_keep != 0)
        one = xp.ones_like(a)
        ratio = xp.where(live, a, one) / xp.where(out_keep == 0, xp.ones_like(out_keep), out_keep)
        scale = xp.where(live, xp.sign(data) * ratio ** (p - 1), xp.zeros_like(a))
        return (expand_reduced(xp, g, shape, axes, keepdims) * scale,)

    def graph(g):
        from gdl.functional.elementwise import abs, where
        from gdl.functional.reduction import _expand

        live = (a != 0) & (out_keep != 0)
        ratio = where(live, abs(x), 1.0) / where(out_keep == 0, 1.0, _normp(x, p, axes, True))
        scale = where(live, Tensor._wrap(xp.sign(data), x._backend) * ratio ** (p - 1), 0.0)
        return (_expand(g, shape, axes, keepdims) * scale,)

    return result(out, x._backend, (x,), backward, "Norm", graph)


def _norm2(x, axis, keepdims):
    xp = x._backend.xp
    data, shape = x.data, x.data.shape
    axes = normalize_axes(axis, x.ndim, "norm")
    out_keep = xp.sqrt(xp.sum(data * data, axis=axes, keepdims=True))
    out = out_keep if keepdims else xp.reshape(out_keep, tuple(s for i, s in enumerate(shape) if i not in axes))

    def backward(g):
        safe = xp.where(out_keep == 0, xp.ones_like(out_keep), out_keep)  # x is 0 there too
        return (expand_reduced(xp, g, shape, axes, keepdims) * (data / safe),)

    def graph(g):
        from gdl.functional.elementwise import where
        from gdl.functional.reduction import _expand

        safe = where(out_keep == 0, 1.0, _norm2(x, axes, True))
        return (_expand(g, shape, axes, keepdims) * (x / safe),)

    return result(out, x._backend, (x,), backward, "Norm", graph)


__all__ = [
    "addmm",
    "addmv",
    "baddbmm",
    "bmm",
    "cross",
    "diagonal",
    "dot",
    "einsum",
    "kron",
    "matmul",
    "mm",
    "mv",
    "norm",
    "outer",
    "tensordot",
    "trace",
]

# Tensor methods added by this module beyond gdl.functional._methods' table (name -> function);
# ``mm`` and ``matmul`` are in that table.
TENSOR_METHODS: dict = {
    "addmm": addmm,
    "addmv": addmv,
    "baddbmm": baddbmm,
    "bmm": bmm,
    "cross": cross,
    "diagonal": diagonal,
    "dot": dot,
    "kron": kron,
    "mv": mv,
    "outer": outer,
    "trace": trace,
}
