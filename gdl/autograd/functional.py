"""``torch.autograd.functional`` on gdl: Jacobians, Hessians and their products for a
function of a tensor or a tuple of tensors, with torch's conventions:

- a result is a tuple when the matching inputs/outputs were a tuple, else one tensor
  (a Jacobian is indexed ``[output][input]``, a Hessian ``[input][input]``);
- results are detached unless ``create_graph=True``, where they can be differentiated
  again with respect to the inputs;
- an output that does not depend on an input gets zeros, or an error with ``strict=True``.

Forward-mode products (:func:`jvp`, :func:`hvp`, ``strategy="forward-mode"``) use the
double-backward trick, as torch's :func:`jvp` does; ``vectorize`` is accepted and gives the
same result (gdl loops).

>>> import gdl
>>> from gdl.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, gdl.tensor([1.0, 3.0]))
tensor([[2., 0.],
        [0., 6.]], backend='numpy')
"""

from __future__ import annotations

from gdl.func import _empty_jacobian, _fresh_leaves, _grads, _one_hot, _Pushforward, _zeros_like
from gdl.functional import shape as _shape
from gdl.tensor import Tensor, enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


# -- torch's conventions -------------------------------------------------------------------------


def _as_tuple(value, arg_name, fn_name):
    """``(was a tuple, tuple of tensors)``."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has" if is_tuple else f"the given {arg_name} has"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where} type {type(el).__name__}.")
    return is_tuple, items


def _inputs(inputs, fn_name, create_graph):
    """The inputs as tensors to differentiate with respect to: connected to the originals
    when ``create_graph`` (so results can be differentiated again), else detached."""
    is_tuple, items = _as_tuple(inputs, "inputs", fn_name)
    return is_tuple, tuple(_fresh_leaves(items, fn_name, create_graph)[0])


def _vector(v, other, is_other_tuple, fn_name, create_graph):
    """``v`` as a tuple checked against ``other`` (torch's ``_validate_v``)."""
    _, v = _as_tuple(v, "v", fn_name)
    v = tuple(el if create_graph and el.requires_grad else el.detach() for el in v)
    if len(v) != len(other):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
                           if is_other_tuple else "The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {el_other.shape} but got {el_v.shape}.")
    return v


def _outputs(func, inputs, fn_name, strict):
    """``func(*inputs)`` as ``(was a tuple, tuple of tensors)``, checked with ``strict``."""
    is_tuple, outs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    if strict:
        for i, out in enumerate(outs):
            if not out.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                                   f"outputs must be computed in a differentiable manner from the input when "
                                   f"running in strict mode.")
    return is_tuple, outs


def _scalar_output(func, inputs, fn_name, strict):
    """The one-element output of ``func`` (hessian, hvp, vhp)."""
    is_tuple, outs = _outputs(func, inputs, fn_name, strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outs[0].size != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return outs


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in "
            "strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros (``refs``' shapes) for the ``None`` gradients; with ``strict`` an error instead."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is "
                               f"not allowed in strict mode when create_graph=True.")
        result.append(g)
    return tuple(result)


def _check_jacobian(jac, strict):
    """torch's strict check on a first derivative that is differentiated again."""
    if not strict:
        return
    for i, g in enumerate(jac):
        if g is None:
            raise RuntimeError(_INDEPENDENT["back"].format(i=i))
        if not g.requires_grad:
            raise RuntimeError(f"While computing the hessian, found that the jacobian of the user-provided function "
                               f"with respect to input {i} is independent of the input. This is not allowed in "
                               f"strict mode. You should ensure that your function is twice differentiable and "
                               f"that the jacobian depends on the inputs (this would be violated by a linear "
                               f"function for example).")


def _post(tensors, create_graph, is_tuple):
    """Detached unless ``create_graph``; a tuple only if the matching argument was one."""
    tensors = tuple(t if create_graph else t.detach() for t in tensors)
    return tensors if is_tuple else tensors[0]


def _need_v(items, what):
    if len(items) != 1 or items[0].size != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} is a single Tensor with a single element.")


# -- products ------------------------------------------------------------------------------------


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func_output, vjp)``: ``func(*inputs)`` and the vector-Jacobian product ``vᵀJ`` (one
    entry per input; ``v`` may be left out for a one-element output)."""
    with enable_grad():
        is_in_tuple, inputs = _inputs(inputs, "vjp", create_graph)
        is_out_tuple, outs = _outputs(func, inputs, "vjp", strict)
        if v is None:
            _need_v(outs, "user-provided function returns")
            v = (None,) * len(outs)
        else:
            v = _vector(v, outs, is_out_tuple, "vjp", create_graph)
        found = _grads(outs, inputs, v, create_graph)
        grads = _fill_in_zeros(found, inputs, strict, create_graph, "back")
    return _post(outs, create_graph, is_out_tuple), _post(grads, create_graph, is_in_tuple)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func_output, jvp)``: ``func(*inputs)`` and the Jacobian-vector product ``Jv`` (one
    entry per output; ``v`` may be left out for a one-element input), by the double-backward
    trick."""
    with enable_grad():
        is_in_tuple, inputs = _inputs(inputs, "jvp", create_graph)
        if v is None:
            _need_v(inputs, "input to the user-provided function")
            v = (_zeros_like(inputs[0]) + 1.0,)
        else:
            v = _vector(v, inputs, is_in_tuple, "jvp", create_graph)
        is_out_tuple, outs = _outputs(func, inputs, "jvp", strict)
        push = _Pushforward(outs, inputs)
        if strict:
            for i, g in enumerate(push.back):
                if g is None:
                    raise RuntimeError(_INDEPENDENT["back"].format(i=i))
                if not g.requires_grad:
                    raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of "
                                       f"the user-provided function. This is not allowed in strict mode.")
        products = _fill_in_zeros(push(v, create_graph), outs, strict, create_graph, "back_trick")
    return _post(outs, create_graph, is_out_tuple), _post(products, create_graph, is_out_tuple)


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func_output, vhp)``: the one-element ``func(*inputs)`` and ``vᵀH`` (one entry per
    input; ``v`` may be left out for a one-element input)."""
    with enable_grad():
        is_in_tuple, inputs = _inputs(inputs, "vhp", create_graph)
        v = _hessian_vector(v, inputs, is_in_tuple, "vhp", create_graph)
        outs = _scalar_output(func, inputs, "vhp", strict)
        jac = _grads(outs, inputs, (None,), create_graph=True)
        _check_jacobian(jac, strict)
        products = _fill_in_zeros(_grads(jac, inputs, v, create_graph), inputs, strict, create_graph, "double_back")
    return _post(outs, create_graph, False), _post(products, create_graph, is_in_tuple)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func_output, hvp)``: the one-element ``func(*inputs)`` and ``Hv`` (one entry per
    input), by the double-backward trick on the gradient."""
    with enable_grad():
        is_in_tuple, inputs = _inputs(inputs, "hvp", create_graph)
        v = _hessian_vector(v, inputs, is_in_tuple, "hvp", create_graph)
        outs = _scalar_output(func, inputs, "hvp", strict)
        jac = _grads(outs, inputs, (None,), create_graph=True)
        _check_jacobian(jac, strict)
        push = _Pushforward(jac, inputs)
        products = _fill_in_zeros(push(v, create_graph), inputs, strict, create_graph, "double_back_trick")
    return _post(outs, create_graph, False), _post(products, create_graph, is_in_tuple)


def _hessian_vector(v, inputs, is_in_tuple, fn_name, create_graph):
    if v is None:
        _need_v(inputs, "input to the user-provided function")
        return (_zeros_like(inputs[0]) + 1.0,)
    return _vector(v, inputs, is_in_tuple, fn_name, create_graph)


# -- jacobian and hessian --------------------------------------------------------------------------


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output ``i`` and input ``j``, a tensor of
    shape ``outputs[i].shape + inputs[j].shape``, nested ``[i][j]`` as tuples where ``func``
    returned a tuple / ``inputs`` was one. ``strategy="reverse-mode"`` takes one backward
    per output element; ``"forward-mode"`` one product per input element (double-backward
    trick). ``vectorize`` changes nothing."""
    if strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                         'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                         'prefer to use "reverse-mode".')
    with enable_grad():
        is_in_tuple, inputs = _inputs(inputs, "jacobian", create_graph)
        is_out_tuple, outs = _outputs(func, inputs, "jacobian", strict)
        build = _forward_jacobian if strategy == "forward-mode" else _reverse_jacobian
        jac = build(outs, inputs, create_graph, strict)
    jac = tuple(_post(row, create_graph, is_in_tuple) for row in jac)
    return jac if is_out_tuple else jac[0]


def _reverse_jacobian(outs, inputs, create_graph, strict):
    """``jac[i][j]`` row by row: one backward per element of each output."""
    jac = []
    for i, out in enumerate(outs):
        rows = [[] for _ in inputs]
        for k in range(out.size):
            found = _grads((out,), inputs, (_one_hot(out, k),), create_graph)
            for j, g in enumerate(found):
                rows[j].append(_entry(g, inputs[j], i, j, create_graph, strict))
        jac.append(tuple(_joined(r, 0, out, x) for r, x in zip(rows, inputs)))
    return jac


def _forward_jacobian(outs, inputs, create_graph, strict):
    """``jac[i][j]`` column by column: one Jacobian-vector product per element of each input."""
    push = _Pushforward(outs, inputs)
    cols = [[[] for _ in inputs] for _ in outs]
    for j, x in enumerate(inputs):
        for k in range(x.size):
            tangents = [None] * len(inputs)
            tangents[j] = _one_hot(x, k)
            for i, f in enumerate(push(tangents, create_graph)):
                cols[i][j].append(_entry(f, outs[i], i, j, create_graph, strict))
    return [tuple(_joined(cols[i][j], -1, out, x) for j, x in enumerate(inputs)) for i, out in enumerate(outs)]


def _entry(g, ref, i, j, create_graph, strict):
    """One row/column of ``jac[i][j]``: zeros where output ``i`` does not depend on input
    ``j`` (an error with ``strict``)."""
    if g is None:
        if strict:
            raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. This is "
                               f"not allowed in strict mode.")
        return _zeros_like(ref)
    if strict and create_graph and not g.requires_grad:
        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {j}. This is not "
                           f"allowed in strict mode when create_graph=True.")
    return g


def _joined(pieces, axis, out, x):
    shape = tuple(out.shape) + tuple(x.shape)
    return _shape.reshape(_shape.stack(pieces, axis=axis), shape) if pieces else _empty_jacobian(out, shape)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of the one-element ``func`` at ``inputs``: for inputs ``i`` and ``j`` a
    tensor of shape ``inputs[i].shape + inputs[j].shape``, nested ``[i][j]`` as tuples
    where ``inputs`` was a tuple. The Jacobian of the (recorded) gradient, the outer one
    by ``outer_jacobian_strategy``; ``vectorize`` changes nothing."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        return _scalar_output(func, inp, "hessian", strict)[0].reshape(())

    def gradient(*inp):
        jac = jacobian(single_output, inp, create_graph=True)
        _check_jacobian(jac, strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    res = res if is_in_tuple else tuple(r[0] for r in res)
    return res if is_in_tuple else res[0]
