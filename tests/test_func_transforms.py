"""gdl.func's vmap, jvp, jacfwd, linearize and stack_module_state, gdl.autograd.functional and
gdl.autograd.gradgradcheck, without torch (tests/test_torch_crosscheck_func_transforms.py
compares them with torch)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl.autograd import functional as AF
from gdl.func import grad, jacfwd, jacrev, jvp, linearize, stack_module_state, vmap

F64 = gdl.float64


def _t(a, requires_grad=False):
    return gdl.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _f(x):
    return (x.sin() * x[0]).tanh() + x ** 2


# -- vmap ------------------------------------------------------------------------------------------


def test_vmap_is_the_stack_of_calls(backend):
    x, w = _rand(4, 3), _rand(3, 2, seed=1)
    out = vmap(lambda row, m: row @ m, in_dims=(0, None))(_t(x), _t(w))
    assert out.shape == (4, 2)
    np.testing.assert_allclose(out.numpy(), x @ w, rtol=1e-12)
    out = vmap(lambda col: col * 2.0, in_dims=-1, out_dims=-1)(_t(x))
    np.testing.assert_allclose(out.numpy(), 2 * x)
    out = vmap(lambda col: col.sum(), in_dims=1)(_t(x))
    np.testing.assert_allclose(out.numpy(), x.sum(0), rtol=1e-12)


def test_vmap_trees_of_inputs_and_outputs_and_kwargs():
    a, b, c = _rand(5, 2), _rand(2, 5, seed=1), _rand(3, seed=2)

    def f(d, pair, scale=1.0):
        return {"s": (d["u"] * pair[0]).sum() * scale, "t": (d["v"] + pair[1], pair[1] * scale)}

    out = vmap(f, in_dims=({"u": 0, "v": 1}, [None, None]))({"u": _t(a), "v": _t(b)}, [_t(c[:2]), _t(c[:2])],
                                                            scale=3.0)
    assert set(out) == {"s", "t"} and isinstance(out["t"], tuple)
    np.testing.assert_allclose(out["s"].numpy(), 3 * (a * c[:2]).sum(1), rtol=1e-12)
    np.testing.assert_allclose(out["t"][0].numpy(), b.T + c[:2], rtol=1e-12)
    np.testing.assert_allclose(out["t"][1].numpy(), np.tile(3 * c[:2], (5, 1)), rtol=1e-12)
    two = vmap(lambda x: (x, x.sum()), out_dims=(1, 0))(_t(a))
    assert two[0].shape == (2, 5) and two[1].shape == (5,)
    np.testing.assert_allclose(two[0].numpy(), a.T)
    const = vmap(lambda x, y: (x * 2.0, y), in_dims=(0, None), out_dims=(0, None))(_t(a), _t(c))
    np.testing.assert_allclose(const[1].numpy(), c)


def test_vmap_nests_and_matches_a_double_loop():
    x = _rand(3, 4, 2)
    out = vmap(vmap(lambda v: (v ** 2).sum(), in_dims=1), in_dims=0)(_t(x))
    np.testing.assert_allclose(out.numpy(), (x ** 2).sum(1), rtol=1e-12)  # inner: over the last dim
    outer = vmap(vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(_t(x[:, 0, 0]), _t(x[0, :, 0]))
    np.testing.assert_allclose(outer.numpy(), np.outer(x[:, 0, 0], x[0, :, 0]), rtol=1e-12)


def test_gradients_flow_back_through_vmap(backend):
    x = _t(_rand(4, 3), requires_grad=True)
    w = _t(_rand(3, seed=1), requires_grad=True)
    out = vmap(lambda row, v: (row * v).sin().sum(), in_dims=(0, None))(x, w)
    (out * _t([1.0, 2.0, 3.0, 4.0])).sum().backward()
    xv, wv = x.detach().numpy(), w.detach().numpy()
    c = np.cos(xv * wv) * np.arange(1, 5)[:, None]
    np.testing.assert_allclose(x.grad.numpy(), c * wv, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (c * xv).sum(0), rtol=1e-12)


def test_per_sample_gradients_with_vmap_of_grad():
    gdl.manual_seed(0)
    model = gdl.nn.Sequential(gdl.nn.Linear(3, 4), gdl.nn.Tanh(), gdl.nn.Linear(4, 1)).to(dtype=F64)
    params = {k: p.detach() for k, p in model.named_parameters()}
    x, y = _t(_rand(6, 3)), _t(_rand(6, 1, seed=1))

    def loss(p, xi, yi):
        return ((gdl.func.functional_call(model, p, (xi.unsqueeze(0),)) - yi) ** 2).mean()

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(6):
        one = grad(loss)(params, x[i], y[i])
        for k in params:
            assert per_sample[k].shape == (6,) + params[k].shape
            np.testing.assert_allclose(per_sample[k][i].numpy(), one[k].numpy(), rtol=1e-12, atol=1e-15)
    mean = grad(lambda p: vmap(loss, in_dims=(None, 0, 0))(p, x, y).mean())(params)
    for k in params:  # vmap inside grad: the mean of the per-sample gradients
        np.testing.assert_allclose(mean[k].numpy(), per_sample[k].numpy().mean(0), rtol=1e-12, atol=1e-15)


def test_vmap_of_jacrev_is_a_batch_of_jacobians():
    x = _rand(3, 4)
    batched = vmap(jacrev(_f))(_t(x))
    assert batched.shape == (3, 4, 4)
    for i in range(3):
        np.testing.assert_allclose(batched[i].numpy(), jacrev(_f)(_t(x[i])).numpy(), rtol=1e-12)


def test_vmap_randomness_modes(backend):
    x = gdl.zeros(4, 3)

    def noisy(row):
        return row + gdl.randn(3)

    gdl.manual_seed(1)
    before = gdl.random.get_rng_state()
    with pytest.raises(RuntimeError, match="random operation while in randomness error mode"):
        vmap(noisy)(x)
    gdl.manual_seed(1)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(noisy, randomness="error")(x)
    assert gdl.randn(3).tolist() == (gdl.random.set_rng_state(before), gdl.randn(3))[1].tolist()
    gdl.manual_seed(1)
    same = vmap(noisy, randomness="same")(x).numpy()
    after_vmap = gdl.randn(2).numpy()
    gdl.manual_seed(1)
    one = noisy(gdl.zeros(3)).numpy()
    after_one = gdl.randn(2).numpy()
    np.testing.assert_array_equal(same, np.tile(one, (4, 1)))
    np.testing.assert_array_equal(after_vmap, after_one)  # the generator moved as for one call
    gdl.manual_seed(1)
    different = vmap(noisy, randomness="different")(x).numpy()
    gdl.manual_seed(1)
    np.testing.assert_array_equal(different, np.stack([noisy(gdl.zeros(3)).numpy() for _ in range(4)]))
    assert len({tuple(r) for r in different}) == 4
    assert vmap(lambda r: r * 2.0)(x).shape == (4, 3)  # no draw: "error" is fine


def test_vmap_errors():
    x, y = gdl.ones(3, 2), gdl.ones(4, 2)
    with pytest.raises(ValueError, match=r"same size in the mapped dimension, got sizes \[3, 4\]"):
        vmap(lambda a, b: a + b)(x, y)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(lambda a, b: a + b, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(lambda d: d["a"], in_dims=({"b": 0},))({"a": x})
    with pytest.raises(ValueError, match=r"in_dim=2 .* -2 <= in_dim < 2"):
        vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="at least one Tensor to vmap over"):
        vmap(lambda a: a, in_dims=None)(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda a, s: a * s)(x, 2.0)
    with pytest.raises(ValueError, match="must only return Tensors, got type float"):
        vmap(lambda a: 1.0)(x)
    with pytest.raises(ValueError, match="out_dims is not compatible"):
        vmap(lambda a: a, out_dims=(0, 1))(x)
    with pytest.raises(ValueError, match="out_dim=3"):
        vmap(lambda a: a, out_dims=3)(x)
    with pytest.raises(ValueError, match="when out_dim is None"):
        vmap(lambda a: a, out_dims=None)(gdl.tensor([[1.0], [2.0]]))
    with pytest.raises(ValueError, match="got no inputs"):
        vmap(lambda: gdl.ones(1))()
    with pytest.raises(ValueError, match="expected `in_dims` to be int"):
        vmap(lambda a: a, in_dims="0")
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda a: a, randomness="sometimes")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
            vmap(lambda a: a, chunk_size=bad)
    assert vmap(lambda a: a * 2.0, chunk_size=2)(x).shape == (3, 2)


# -- jvp, linearize, jacfwd -------------------------------------------------------------------------


def _numeric_jvp(f, x, t, eps=1e-6):
    return (f(_t(x + eps * t)).numpy() - f(_t(x - eps * t)).numpy()) / (2 * eps)


def test_jvp_matches_finite_differences_and_jacobian(backend):
    x, t = _rand(4), _rand(4, seed=1)
    out, tangent = jvp(_f, (_t(x),), (_t(t),))
    np.testing.assert_allclose(out.numpy(), _f(_t(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(tangent.numpy(), _numeric_jvp(_f, x, t), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tangent.numpy(), jacrev(_f)(_t(x)).numpy() @ t, rtol=1e-12)
    assert not out.requires_grad and not tangent.requires_grad


def test_jvp_trees_zeros_strict_aux_and_errors():
    a, b = _t(_rand(3)), _t(_rand(3, seed=1))
    ta, tb = _t(_rand(3, seed=2)), _t(_rand(3, seed=3))
    (o1, o2, o3), (j1, j2, j3) = jvp(lambda x, y: (x * y, y.exp(), gdl.ones(2)), (a, b), (ta, tb))
    np.testing.assert_allclose(j1.numpy(), (ta * b + a * tb).numpy(), rtol=1e-12)
    np.testing.assert_allclose(j2.numpy(), (b.exp() * tb).numpy(), rtol=1e-12)
    assert j3.tolist() == [0.0, 0.0] and o3.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        jvp(lambda x: gdl.ones(2), (a,), (ta,), strict=True)
    out, tangent, aux = jvp(lambda d: ((d["p"] ** 2).sum(), "aux"), ({"p": a},), ({"p": ta},), has_aux=True)
    assert aux == "aux" and tangent.item() == pytest.approx(float((2 * a * ta).sum().item()), rel=1e-12)
    with pytest.raises(TypeError, match="primals to be a tuple"):
        jvp(_f, a, (ta,))
    with pytest.raises(ValueError, match="same shape"):
        jvp(_f, (a,), (gdl.ones(4, dtype=F64),))
    with pytest.raises(TypeError, match="same dtype"):
        jvp(_f, (a,), (gdl.ones(3),))
    with pytest.raises(TypeError, match="one entry per primal"):
        jvp(lambda x, y: x * y, (a, b), (ta,))


def test_linearize_reuses_one_forward():
    calls = []

    def f(x):
        calls.append(1)
        return _f(x)

    x = _t(_rand(4))
    out, jvp_fn = linearize(f, x)
    for seed in (1, 2):
        t = _t(_rand(4, seed=seed))
        np.testing.assert_allclose(jvp_fn(t).numpy(), jvp(_f, (x,), (t,))[1].numpy(), rtol=1e-12)
    assert len(calls) == 1
    np.testing.assert_allclose(out.numpy(), _f(x).numpy())
    with pytest.raises(ValueError, match="same shape"):
        jvp_fn(gdl.ones(2, dtype=F64))


def test_jacfwd_equals_jacrev(backend):
    x, w = _t(_rand(3)), _t(_rand(2, 3, seed=1))

    def g(x, w):
        return (w @ x).tanh() * x.sum()

    np.testing.assert_allclose(jacfwd(g)(x, w).numpy(), jacrev(g)(x, w).numpy(), rtol=1e-12)
    fw, rv = jacfwd(g, argnums=(0, 1))(x, w), jacrev(g, argnums=(0, 1))(x, w)
    assert isinstance(fw, tuple) and [a.shape for a in fw] == [(2, 3), (2, 2, 3)]
    for a, b in zip(fw, rv):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    hess = jacfwd(jacrev(lambda v: (v ** 3).sum()))(x)
    np.testing.assert_allclose(hess.numpy(), np.diag(6 * x.numpy()), rtol=1e-12)


def test_jacfwd_trees_aux_and_randomness():
    x = _t(_rand(3))
    out, aux = jacfwd(lambda v: ({"a": v * 2.0, "b": v.sum()}, v.shape), has_aux=True)(x)
    assert aux == (3,)
    np.testing.assert_allclose(out["a"].numpy(), 2 * np.eye(3))
    np.testing.assert_allclose(out["b"].numpy(), np.ones(3))
    with pytest.raises(RuntimeError, match="randomness error mode"):
        jacfwd(lambda v: v * gdl.randn(3, dtype=F64))(x)
    gdl.manual_seed(3)
    noise = gdl.randn(3, dtype=F64)
    gdl.manual_seed(3)
    jac = jacfwd(lambda v: v * gdl.randn(3, dtype=F64), randomness="same")(x)
    np.testing.assert_allclose(jac.numpy(), np.diag(noise.numpy()))
    with pytest.raises(TypeError, match="argument 0 must be a Tensor"):
        jacfwd(_f)([1.0])


# -- stack_module_state ---------------------------------------------------------------------------------


def test_stack_module_state_for_an_ensemble():
    gdl.manual_seed(0)
    models = [gdl.nn.Linear(3, 2).to(dtype=F64) for _ in range(4)]
    params, buffers = stack_module_state(models)
    assert buffers == {} and set(params) == {"weight", "bias"}
    for k, p in params.items():
        assert p.shape == (4,) + tuple(getattr(models[0], k).shape)
        assert p.requires_grad and p.is_leaf
        for i, m in enumerate(models):
            np.testing.assert_array_equal(p[i].detach().numpy(), getattr(m, k).detach().numpy())
    x = _t(_rand(5, 3))
    out = vmap(lambda p: gdl.func.functional_call(models[0], p, (x,)))(params)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-12)
    out.sum().backward()
    assert params["weight"].grad.shape == (4, 2, 3)
    bn = [gdl.nn.BatchNorm1d(2) for _ in range(2)]
    assert set(stack_module_state(bn)[1]) >= {"running_mean", "running_var"}
    with pytest.raises(RuntimeError, match="at least one model"):
        stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([gdl.nn.Linear(2, 2), gdl.nn.Tanh()])
    bn[0].eval()
    with pytest.raises(RuntimeError, match="training/eval mode"):
        stack_module_state(bn)


# -- gdl.autograd.functional ----------------------------------------------------------------------------


def test_functional_result_structure_follows_the_arguments():
    x, y = _t(_rand(3)), _t(_rand(2, seed=1))
    single = AF.jacobian(_f, x)
    assert isinstance(single, gdl.Tensor) and single.shape == (3, 3)
    np.testing.assert_allclose(single.numpy(), jacrev(_f)(x).numpy(), rtol=1e-12)
    both = AF.jacobian(lambda a, b: (a.sum() * b, a), (x, y))
    assert [[t.shape for t in row] for row in both] == [[(2, 3), (2, 2)], [(3, 3), (3, 2)]]
    assert both[1][1].tolist() == [[0.0] * 2] * 3
    in_tuple = AF.jacobian(lambda a: a * 2.0, (x,))
    assert isinstance(in_tuple, tuple) and len(in_tuple) == 1 and in_tuple[0].shape == (3, 3)
    fwd = AF.jacobian(lambda a, b: (a.sum() * b, a), (x, y), strategy="forward-mode", vectorize=True)
    for row_f, row_r in zip(fwd, both):
        for f, r in zip(row_f, row_r):
            np.testing.assert_allclose(f.numpy(), r.numpy(), rtol=1e-12)
    h = AF.hessian(lambda a, b: (a ** 2).sum() * b.prod(), (x, y))
    assert [[t.shape for t in row] for row in h] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    assert AF.hessian(lambda a: (a ** 3).sum(), x).shape == (3, 3)


def test_functional_products_agree_with_jacobians_and_hessians():
    x, v = _t(_rand(3)), _t(_rand(3, seed=1))
    jac = AF.jacobian(_f, x).numpy()
    out, vj = AF.vjp(_f, x, v)
    np.testing.assert_allclose(vj.numpy(), v.numpy() @ jac, rtol=1e-12)
    out, jv = AF.jvp(_f, x, v)
    np.testing.assert_allclose(jv.numpy(), jac @ v.numpy(), rtol=1e-12)

    def energy(a):
        return (a.sin() * a.sum()).sum()

    hess = AF.hessian(energy, x).numpy()
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)
    out, hv = AF.hvp(energy, x, v)
    np.testing.assert_allclose(hv.numpy(), hess @ v.numpy(), rtol=1e-12)
    out, vh = AF.vhp(energy, x, v)
    np.testing.assert_allclose(vh.numpy(), v.numpy() @ hess, rtol=1e-12)
    np.testing.assert_allclose(AF.hessian(energy, x, outer_jacobian_strategy="forward-mode").numpy(), hess,
                               rtol=1e-12)
    assert out.shape == () and not out.requires_grad and not vh.requires_grad


def test_functional_create_graph_and_strict():
    x = _t(_rand(3), requires_grad=True)
    _, vj = AF.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert vj.requires_grad
    (second,) = gdl.autograd.grad(vj.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.detach().numpy(), rtol=1e-12)
    h = AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True)
    (third,) = gdl.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(third.numpy(), np.full(3, 6.0), rtol=1e-12)
    y = _t(_rand(2, seed=1))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        AF.jacobian(lambda a, b: a * 2.0, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: a.sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.jvp(lambda a: gdl.ones(2, dtype=F64), x, gdl.ones(3, dtype=F64), strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0"):
        AF.hessian(lambda a: a.sum() * 2.0, x, strict=True)
    assert AF.hessian(lambda a: a.sum() * 2.0, x).tolist() == [[0.0] * 3] * 3
    zeros = AF.jacobian(lambda a, b: a * 2.0, (x, y))[1]
    assert zeros.shape == (3, 2) and not zeros.numpy().any()


def test_functional_argument_errors():
    x = _t(_rand(3))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(_f, [x])
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(_f, x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \(3,\) but got \(2,\)"):
        AF.vjp(_f, x, gdl.ones(2, dtype=F64))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length"):
        AF.jvp(lambda a, b: a * b, (x, x), (x,))
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        AF.hvp(lambda a: (a.sum(), a.sum()), x, x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        AF.vhp(lambda a: a * 2.0, x, x)
    with pytest.raises(ValueError, match="Expected strategy"):
        AF.jacobian(_f, x, strategy="sideways")


# -- gradgradcheck ---------------------------------------------------------------------------------------


class _SquareWrongSecond(gdl.autograd.Function):
    """x², whose backward is right but not differentiable in x (detached): a wrong second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2.0 * x.detach()


def test_gradgradcheck_passes_on_ops_and_fails_on_a_wrong_double_backward():
    gdl.manual_seed(0)
    a = gdl.randn(3, dtype=F64, requires_grad=True)
    b = gdl.randn(3, 2, dtype=F64, requires_grad=True)
    assert gdl.autograd.gradgradcheck(lambda u: (u.sin() * u).tanh(), a)
    assert gdl.autograd.gradgradcheck(lambda u, m: (u @ m).exp(), (a, b))
    assert gdl.autograd.gradgradcheck(lambda u, m: (u.sigmoid(), (u @ m).sum()), (a, b))
    assert gdl.autograd.gradgradcheck(lambda u: u.log_softmax(0), a, gdl.ones(3, dtype=F64).requires_grad_(True))
    assert gdl.autograd.gradcheck(_SquareWrongSecond.apply, a)  # the first derivative is right
    with pytest.raises(gdl.testing.GradcheckError):
        gdl.autograd.gradgradcheck(_SquareWrongSecond.apply, a)
    assert gdl.autograd.gradgradcheck(_SquareWrongSecond.apply, a, raise_exception=False) is False
