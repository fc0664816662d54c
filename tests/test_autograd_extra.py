"""gdl.autograd (custom Functions, grad, backward), grad modes, tensor hooks and Module hooks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.autograd import Function
from gdl.testing import GradcheckError


def f64(values, requires_grad=True):
    return gdl.tensor(values, dtype=gdl.float64, requires_grad=requires_grad)


# -- custom Functions -----------------------------------------------------------------------


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class ScaledMul(Function):
    """``x * y * k`` with a non-tensor ``k``; records what backward was asked for."""

    calls = []

    @staticmethod
    def forward(ctx, x, k, y):
        ctx.save_for_backward(x, y)
        ctx.k = k
        ScaledMul.calls.append(ctx.needs_input_grad)
        return x * y * k

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * y * ctx.k if ctx.needs_input_grad[0] else None
        gy = g * x * ctx.k if ctx.needs_input_grad[2] else None
        return gx, None, gy


class SplitHalves(Function):
    """Two outputs (the two halves), one backward call with both gradients; PyTorch's
    separate ``setup_context`` style (forward without ``ctx``)."""

    backward_calls = 0

    @staticmethod
    def forward(x):
        n = x.shape[0] // 2
        return x[:n] * 2.0, x[n:] ** 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.second = x[x.shape[0] // 2:]

    @staticmethod
    def backward(ctx, g1, g2):
        SplitHalves.backward_calls += 1
        return gdl.cat([g1 * 2.0, g2 * 2.0 * ctx.second])


def test_custom_function_forward_backward_and_repr(backend):
    x = gdl.tensor([0.0, 1.0, -2.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.requires_grad and repr(y.grad_fn) == "<ExpBackward>"
    assert not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0, -2.0]), rtol=1e-6)
    assert x.grad.backend == backend


def test_custom_function_gradcheck(backend):
    assert gdl.autograd.gradcheck(Exp.apply, f64([0.3, -1.2, 2.0]))
    assert gdl.autograd.gradcheck(ScaledMul.apply, (f64([1.0, 2.0]), 3.0, f64([[0.5, -1.0], [2.0, 4.0]])))
    assert gdl.autograd.gradcheck(SplitHalves.apply, f64([0.5, -1.0, 2.0, 3.0]))


def test_gradcheck_catches_a_wrong_backward(backend):
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    with pytest.raises(GradcheckError):
        gdl.autograd.gradcheck(Wrong.apply, f64([1.0, 2.0]))
    assert gdl.autograd.gradcheck(Wrong.apply, f64([1.0, 2.0]), raise_exception=False) is False


def test_needs_input_grad_and_non_tensor_args(backend):
    ScaledMul.calls.clear()
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = gdl.tensor([3.0, 4.0])
    out = ScaledMul.apply(x, 2.0, y)
    assert ScaledMul.calls == [(True, False, False)]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])
    assert y.grad is None


def test_multiple_outputs_one_backward_call(backend):
    SplitHalves.backward_calls = 0
    x = gdl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    assert a.requires_grad and b.requires_grad
    (a.sum() * 3.0 + b.sum()).backward()
    assert SplitHalves.backward_calls == 1
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0, 6.0, 8.0])


def test_multiple_outputs_only_one_used_gets_zeros_for_the_other(backend):
    x = gdl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    _, b = SplitHalves.apply(x)
    b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 6.0, 8.0])


def test_materialize_grads_false_gives_none(backend):
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1.0, x * 2.0

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g2 * 2.0

    x = gdl.tensor([1.0], requires_grad=True)
    Two.apply(x)[1].sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_mark_non_differentiable_and_integer_outputs(backend):
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            idx = gdl.argsort(x)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return gdl.take(x, idx), idx

        @staticmethod
        def backward(ctx, g, g_idx):
            (idx,) = ctx.saved_tensors
            assert float(g_idx.abs().sum()) == 0.0  # zeros for the non-differentiable output
            return gdl.index_add(gdl.zeros(g.shape, dtype=g.dtype), 0, idx, g)

    x = gdl.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortWithIndex.apply(x)
    assert vals.requires_grad and not idx.requires_grad
    (vals * gdl.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_function_used_twice_in_one_graph(backend):
    x = gdl.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(Exp.apply(x)) + Exp.apply(x)
    y.sum().backward()
    e = np.exp([0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(e) * e + e, rtol=1e-6)


def test_function_under_no_grad_records_nothing(backend):
    x = gdl.tensor([1.0], requires_grad=True)
    with gdl.no_grad():
        y = Exp.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    z = Exp.apply(gdl.tensor([1.0]))  # no input needs a gradient
    assert not z.requires_grad


def test_forward_runs_without_graph_and_backward_gets_plain_tensors(backend):
    inside = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            inside["grad_mode"] = gdl.is_grad_enabled()
            y = x * 2.0
            inside["y_requires_grad"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            inside["g"] = (type(g).__name__, g.requires_grad, gdl.is_grad_enabled())
            return g * 2.0

    x = gdl.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    assert inside == {"grad_mode": False, "y_requires_grad": False, "g": ("Tensor", False, False)}
    assert gdl.is_grad_enabled()


def test_returning_an_input_unchanged_does_not_rewire_it(backend):
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3.0

    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_wrong_number_of_gradients_is_a_clear_error(backend):
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g, g

    class ExtraNone(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0, None  # extra Nones are allowed, as in PyTorch

    x = gdl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="TooMany.backward returned an incorrect number of gradients"):
        TooMany.apply(x).sum().backward()
    ExtraNone.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_wrong_gradient_shape_type_or_non_tensor_slot(backend):
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return gdl.ones(5)

    class NotATensor(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return 1.0

    class GradForNumber(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"BadShape.backward returned a gradient of shape \(5,\)"):
        BadShape.apply(x).sum().backward()
    with pytest.raises(TypeError, match="NotATensor.backward returned a float"):
        NotATensor.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="different from None at position 1"):
        GradForNumber.apply(x, 2.0).sum().backward()


def test_broadcastable_gradient_is_summed_back(backend):
    class Broad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return gdl.ones(4, 2)  # sums back to (2,), as PyTorch's sum_to

    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    Broad.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_function_misuse(backend):
    with pytest.raises(RuntimeError, match=r"Exp.apply"):
        Exp()

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

    x = gdl.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(x).sum().backward()
    with pytest.raises(TypeError, match="save_for_backward"):
        ctx = gdl.autograd.FunctionCtx()
        ctx.save_for_backward(3)


def test_second_backward_through_a_function_needs_retain_graph(backend):
    x = gdl.tensor([1.0], requires_grad=True)
    y = Exp.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_function_with_a_parameter_inside_a_module(backend):
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(gdl.tensor([2.0, 3.0]))

        def forward(self, x):
            return ScaledMul.apply(x, 1.0, self.w)

    m = Scale()
    x = gdl.tensor([1.0, 4.0], requires_grad=True)
    m(x).sum().backward()
    np.testing.assert_allclose(m.w.grad.numpy(), [1.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 3.0])


# -- autograd.grad and autograd.backward ----------------------------------------------------


def test_grad_matches_backward_and_leaves_grad_untouched(backend):
    x = gdl.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    w = gdl.tensor([0.3, -0.7], requires_grad=True)
    loss = ((x @ w).tanh() ** 2).sum()
    gx, gw = gdl.autograd.grad(loss, [x, w], retain_graph=True)
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad
    loss.backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-6)


def test_grad_with_respect_to_a_non_leaf_and_grad_outputs(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    y = h * h
    (gh,) = gdl.autograd.grad(y, h, grad_outputs=gdl.tensor([1.0, 10.0]))
    np.testing.assert_allclose(gh.numpy(), [6.0, 120.0])
    assert x.grad is None and h.grad is None


def test_grad_runs_only_the_part_of_the_graph_it_needs(backend):
    calls = []
    x = gdl.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: calls.append("x"))
    h = x * 2.0
    h.register_hook(lambda g: calls.append("h"))
    y = (h * h).sum()
    gdl.autograd.grad(y, h)
    assert calls == ["h"]  # nothing below h runs (x's hook is not called)


def test_grad_allow_unused_and_errors(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    unused = gdl.tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
        gdl.autograd.grad((x * 2.0).sum(), [x, unused])
    gx, gu = gdl.autograd.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])
    assert gu is None
    _, gu = gdl.autograd.grad((x * 2.0).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_allclose(gu.numpy(), [0.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        gdl.autograd.grad((x * 2.0).sum(), gdl.tensor([1.0]))
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        gdl.autograd.grad(gdl.tensor(1.0), x)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        gdl.autograd.grad(x * 2.0, x)


def test_grad_frees_the_graph_unless_retained(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    g1 = gdl.autograd.grad(y, x, retain_graph=True)[0]
    g2 = gdl.autograd.grad(y, x)[0]
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        gdl.autograd.grad(y, x)


def test_grad_of_a_leaf_with_respect_to_itself(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    (g,) = gdl.autograd.grad(x, x, grad_outputs=gdl.tensor([3.0, 4.0]))
    np.testing.assert_allclose(g.numpy(), [3.0, 4.0])
    assert x.grad is None


def test_autograd_backward_several_roots_and_inputs(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    w = gdl.tensor([3.0], requires_grad=True)
    a = x * w
    gdl.autograd.backward([a, (x * x).sum()], [gdl.tensor([1.0, 1.0]), None])
    np.testing.assert_allclose(x.grad.numpy(), [3.0 + 2.0, 3.0 + 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [3.0])
    x.grad = w.grad = None
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [3.0])


# -- grad modes ---------------------------------------------------------------------------


def test_grad_modes_nest_and_restore(backend):
    x = gdl.tensor([1.0], requires_grad=True)
    with gdl.no_grad():
        assert not (x * 2).requires_grad
        with gdl.enable_grad():
            assert (x * 2).requires_grad
            with gdl.set_grad_enabled(False):
                assert not (x * 2).requires_grad
                with gdl.inference_mode():
                    assert gdl.is_inference_mode_enabled() and not (x * 2).requires_grad
                    with gdl.inference_mode(False):  # turns graph building back on, as PyTorch
                        assert (x * 2).requires_grad and not gdl.is_inference_mode_enabled()
                    assert not gdl.is_grad_enabled()
                assert not gdl.is_inference_mode_enabled()
            assert gdl.is_grad_enabled()
        assert not gdl.is_grad_enabled()
    assert gdl.is_grad_enabled()


def test_set_grad_enabled_as_a_function_and_a_decorator(backend):
    try:
        gdl.set_grad_enabled(False)
        assert not gdl.is_grad_enabled()
        gdl.set_grad_enabled(True)
        assert gdl.is_grad_enabled()
    finally:
        gdl.set_grad_enabled(True)

    @gdl.set_grad_enabled(False)
    def f(x):
        return x * 2

    assert gdl.is_grad_enabled()  # decorating does not switch the mode
    x = gdl.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    assert gdl.is_grad_enabled()


def test_no_grad_and_inference_mode_as_bare_decorators(backend):
    @gdl.no_grad
    def f(x):
        return x * 2

    @gdl.inference_mode
    def g(x):
        return x * 2, gdl.is_inference_mode_enabled()

    @gdl.inference_mode()
    def h(x):
        return x * 2

    x = gdl.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    y, inference = g(x)
    assert not y.requires_grad and inference
    assert not h(x).requires_grad
    assert f.__name__ == "f" and gdl.is_grad_enabled() and not gdl.is_inference_mode_enabled()


def test_grad_mode_restored_after_an_exception(backend):
    with pytest.raises(ValueError):
        with gdl.set_grad_enabled(False):
            raise ValueError
    assert gdl.is_grad_enabled()
    with pytest.raises(ValueError):
        with gdl.inference_mode():
            raise ValueError
    assert gdl.is_grad_enabled() and not gdl.is_inference_mode_enabled()


# -- tensor hooks -----------------------------------------------------------------------------


def test_hook_sees_and_can_replace_a_leaf_gradient(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])


def test_hook_on_a_non_leaf_changes_what_flows_back(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.register_hook(lambda g: g * 0.5)
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * (2.0 * 2.0 * np.array([1.0, 2.0])) * 0.5)


def test_several_hooks_run_in_order_and_chain(backend):
    order = []
    x = gdl.tensor([1.0], requires_grad=True)
    y = x * 1.0

    def first(g):
        order.append(("first", float(g)))
        return g + 1.0

    def second(g):
        order.append(("second", float(g)))
        return g * 10.0

    def third(g):
        order.append(("third", float(g)))

    y.register_hook(first)
    y.register_hook(second)
    y.register_hook(third)
    y.sum().backward()
    assert order == [("first", 1.0), ("second", 2.0), ("third", 20.0)]
    np.testing.assert_allclose(x.grad.numpy(), [20.0])


def test_removed_hook_is_not_called(backend):
    calls = []
    x = gdl.tensor([1.0], requires_grad=True)
    h1 = x.register_hook(lambda g: calls.append(1))
    x.register_hook(lambda g: calls.append(2))
    h1.remove()
    h1.remove()  # twice is harmless
    (x * 2.0).sum().backward()
    assert calls == [2]
    with x.register_hook(lambda g: calls.append(3)):
        pass
    (x * 2.0).sum().backward()
    assert calls == [2, 2]


def test_hooks_order_across_a_chain_and_the_root(backend):
    order = []
    x = gdl.tensor([1.0], requires_grad=True)
    a = x * 2.0
    b = a * 3.0
    c = b.sum()
    for name, t in (("x", x), ("a", a), ("b", b), ("c", c)):
        t.register_hook(lambda g, name=name: order.append(name))
    c.backward()
    assert order == ["c", "b", "a", "x"]


def test_hook_runs_once_with_the_total_gradient_of_a_fanned_out_tensor(backend):
    seen = []
    x = gdl.tensor([1.0], requires_grad=True)
    h = x * 1.0
    h.register_hook(lambda g: seen.append(float(g)))
    (h * 2.0 + h * 3.0).sum().backward()
    assert seen == [5.0]


def test_retain_grad_stores_the_hooked_gradient(backend):
    x = gdl.tensor([1.0, 1.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y.register_hook(lambda g: g * 5.0)
    assert y.retains_grad and not x.retains_grad
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [5.0, 5.0])  # retain_grad runs last, as PyTorch
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])


def test_hook_errors(backend):
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gdl.tensor([1.0]).register_hook(lambda g: g)
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: gdl.ones(3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 2.0).sum().backward()
    y = gdl.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: 2.0)
    with pytest.raises(TypeError, match="returned a float"):
        (y * 2.0).sum().backward()
    assert gdl.is_grad_enabled()  # restored after an error inside backward


def test_hooks_fire_under_autograd_grad_and_change_its_result(backend):
    x = gdl.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10.0)
    (g,) = gdl.autograd.grad((x * 2.0).sum(), x)
    np.testing.assert_allclose(g.numpy(), [20.0, 20.0])


def test_deepcopy_drops_hooks_but_keeps_the_tensor(backend):
    calls = []
    x = gdl.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: calls.append(1))
    y = copy.deepcopy(x)
    (y * 2.0).sum().backward()
    assert calls == [] and y.grad is not None


# -- Module hooks -----------------------------------------------------------------------------


def test_forward_pre_hook_and_forward_hook_order_and_replacement(backend):
    lin = nn.Linear(2, 1)
    order = []

    def pre(m, args):
        order.append("pre")
        return args[0] * 0.0  # a single value is wrapped in a tuple

    def post(m, args, out):
        order.append("post")
        assert float(args[0].abs().sum()) == 0.0
        return out + 100.0

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(gdl.ones(1, 2))
    assert order == ["pre", "post"]
    np.testing.assert_allclose(out.numpy(), lin.bias.numpy()[None] + 100.0, rtol=1e-6)
    h1.remove()
    h2.remove()
    out = lin(gdl.ones(1, 2))
    assert order == ["pre", "post"]
    np.testing.assert_allclose(out.numpy(), (gdl.ones(1, 2) @ lin.weight.T + lin.bias).numpy(), rtol=1e-6)


def test_forward_hooks_with_kwargs_prepend_and_always_call(backend):
    class Add(nn.Module):
        def forward(self, x, *, shift=0.0):
            if shift == "boom":
                raise ValueError("boom")
            return x + shift

    m = Add()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("a"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)

    def pre_kw(mod, args, kwargs):
        order.append("pre_kw")
        return args, {"shift": kwargs.get("shift", 0.0) + 1.0}

    def post_kw(mod, args, kwargs, out):
        order.append(("post_kw", kwargs["shift"]))

    m.register_forward_pre_hook(pre_kw, with_kwargs=True)
    m.register_forward_hook(post_kw, with_kwargs=True)
    out = m(gdl.tensor([1.0]), shift=2.0)
    np.testing.assert_allclose(out.numpy(), [4.0])
    assert order == ["pre_kw", "first", "a", ("post_kw", 3.0)]

    called = []
    m2 = Add()
    m2.register_forward_hook(lambda mod, args, out: called.append(out), always_call=True)
    m2.register_forward_hook(lambda mod, args, out: called.append("not always"))
    with pytest.raises(ValueError, match="boom"):
        m2(gdl.tensor([1.0]), shift="boom")
    assert called == [None]


def test_hooks_on_submodules_of_a_sequential(backend):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    shapes = []
    handles = [m.register_forward_hook(lambda m, a, o: shapes.append(o.shape)) for m in model]
    model(gdl.zeros(5, 3))
    assert shapes == [(5, 4), (5, 4), (5, 2)]
    for h in handles:
        h.remove()
    model(gdl.zeros(5, 3))
    assert len(shapes) == 3


def test_full_backward_hook_sees_input_and_output_gradients(backend):
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    x = gdl.randn(4, 3, requires_grad=True)
    out = lin(x)
    gy = gdl.randn(4, 2)
    out.backward(gy)
    (gin,), (gout,) = seen[0]
    np.testing.assert_allclose(gout.numpy(), gy.numpy())
    np.testing.assert_allclose(gin.numpy(), (gy @ lin.weight).numpy(), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), gin.numpy())


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output(backend):
    lin = nn.Linear(2, 2)
    lin.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 2.0,))
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0.0 + 7.0,))
    x = gdl.ones(3, 2, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 2), 7.0))
    np.testing.assert_allclose(lin.bias.grad.numpy(), [6.0, 6.0])  # grad_output doubled


def test_full_backward_hook_without_input_gradients_and_with_non_tensor_args(backend):
    class M(nn.Module):
        def forward(self, a, n, b):
            return a * n + b, a

    m = M()
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    a = gdl.ones(2, requires_grad=True)
    o1, _ = m(a, 3.0, gdl.ones(2))
    o1.sum().backward()
    gin, gout = seen[0]
    assert len(gin) == 3 and gin[1] is None
    np.testing.assert_allclose(gin[0].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(gin[2].numpy(), [0.0, 0.0])  # b does not require grad: zeros, as PyTorch
    assert gout[1] is None  # the second output got no gradient
    lin = nn.Linear(2, 1)
    lin.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    lin(gdl.ones(1, 2)).sum().backward()
    assert seen[1][0] == (None,) and seen[1][1][0].shape == (1, 1)


def test_backward_hooks_removed_and_not_wrapping_without_grad(backend):
    lin = nn.Linear(2, 2)
    calls = []
    h = lin.register_full_backward_hook(lambda m, gin, gout: calls.append(1))
    with gdl.no_grad():
        out = lin(gdl.ones(1, 2))
    assert out.grad_fn is None
    lin(gdl.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == [1]
    h.remove()
    lin(gdl.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == [1]


def test_module_without_hooks_calls_forward_directly(backend):
    lin = nn.Linear(2, 2)
    assert "_has_hooks" not in lin.__dict__
    h = lin.register_forward_hook(lambda m, a, o: None)
    assert lin.__dict__["_has_hooks"]
    h.remove()
    lin(gdl.ones(1, 2))  # still works with the hook removed


# -- small Module methods ------------------------------------------------------------------------


def test_get_submodule_parameter_buffer(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3)))
    assert model.get_submodule("") is model
    assert model.get_submodule("1.0") is model[1][0]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.0.running_mean") is model[1][0].running_mean
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        model.get_submodule("1.nope")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        model.get_parameter("1.0.running_mean")
    with pytest.raises(AttributeError, match="is not a buffer"):
        model.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        model.get_submodule("0.weight")


def test_register_module_and_casts(backend):
    m = nn.Module()
    m.register_module("lin", nn.Linear(2, 2))
    assert m.get_submodule("lin") is m.lin
    assert m.double() is m and m.lin.weight.dtype == gdl.float64
    assert m.float() is m and m.lin.weight.dtype == gdl.float32
    assert m.cpu() is m and m.lin.weight.backend == "numpy"
    if backend != "array_api_strict":
        assert m.half().lin.weight.dtype == gdl.float16
    assert m.requires_grad_(False) is m and not m.lin.weight.requires_grad


def test_two_leaves_never_share_one_gradient_array(backend):
    """``x + y`` passes one gradient array to both inputs; each leaf's .grad must be its
    own, so an in-place change of one (clipping, ``mul_``) leaves the other alone."""
    x = gdl.tensor([3.0, 4.0], requires_grad=True)
    y = gdl.tensor([3.0, 4.0], requires_grad=True)
    z = x * 2.0
    z.retain_grad()
    (z + y + 0.0).sum().backward()
    assert x.grad.data is not y.grad.data and z.grad.data is not y.grad.data
    with gdl.no_grad():
        y.grad.mul_(10.0)
    assert y.grad.tolist() == [10.0, 10.0] and z.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]
