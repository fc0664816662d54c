"""gdl.nn.utils.fuse_conv_bn_eval / fuse_linear_bn_eval and their *_weights forms: the fused
layer computes what the two did (on every test backend; against torch where installed)."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn
from gdl.nn.utils import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights


def _trained_bn(bn, shape):
    """A BatchNorm with non-trivial running statistics and affine parameters."""
    bn.train()
    for _ in range(3):
        bn(gdl.randn(*shape, dtype=gdl.float64) * 2 + 1)
    with gdl.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    return bn.eval()


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "conv2d_nobias", "conv_transpose2d"])
def test_fused_convolution_equals_conv_then_bn(backend, kind):
    gdl.manual_seed(0)
    f64 = dict(dtype=gdl.float64)
    if kind == "conv1d":
        conv, bn, x = nn.Conv1d(2, 4, 3, **f64), nn.BatchNorm1d(4, **f64), gdl.randn(2, 2, 9, **f64)
    elif kind == "conv_transpose2d":
        conv, bn, x = nn.ConvTranspose2d(2, 4, 3, groups=2, **f64), nn.BatchNorm2d(4, **f64), gdl.randn(2, 2, 5, 5, **f64)
    else:
        conv = nn.Conv2d(3, 4, 3, bias=kind == "conv2d", **f64)
        bn, x = nn.BatchNorm2d(4, **f64), gdl.randn(2, 3, 6, 6, **f64)
    _trained_bn(bn, (4, 4, 5) if kind == "conv1d" else (4, 4, 5, 5))
    conv.eval()
    before = conv.weight.numpy().copy()
    fused = fuse_conv_bn_eval(conv, bn, transpose=kind == "conv_transpose2d")
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-10, atol=1e-12)
    assert fused is not conv and isinstance(fused.weight, nn.Parameter) and fused.bias is not None
    np.testing.assert_array_equal(conv.weight.numpy(), before)  # the original is untouched
    assert (conv.bias is None) == (kind == "conv2d_nobias")


def test_fused_linear_equals_linear_then_bn(backend):
    gdl.manual_seed(1)
    lin, bn = nn.Linear(5, 3, dtype=gdl.float64), nn.BatchNorm1d(3, dtype=gdl.float64)
    _trained_bn(bn, (8, 3))
    lin.eval()
    x = gdl.randn(4, 5, dtype=gdl.float64)
    fused = fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).numpy(), bn(lin(x)).numpy(), rtol=1e-10, atol=1e-12)
    w, b = fuse_linear_bn_weights(lin.weight, None, bn.running_mean, bn.running_var, bn.eps, None, None)
    ref = (x @ lin.weight.T - bn.running_mean) / (bn.running_var + bn.eps).sqrt()
    np.testing.assert_allclose((x @ w.T + b).numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_fusion_refuses_training_modules_and_mismatches(backend):
    conv, bn = nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)
    with pytest.raises(ValueError, match="eval mode"):
        fuse_conv_bn_eval(conv, bn)
    with pytest.raises(ValueError, match="output channels"):
        fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(3).eval())
    with pytest.raises(ValueError, match="out_features"):
        fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval())
    no_stats = nn.BatchNorm2d(2, track_running_stats=False).eval()
    with pytest.raises(TypeError, match="track_running_stats=False"):
        fuse_conv_bn_eval(conv.eval(), no_stats)


def test_fused_weights_match_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils.fusion import fuse_conv_bn_weights as t_fuse

    rng = np.random.default_rng(2)
    w, b = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    rm, rv, bw, bb = rng.normal(size=4), rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4)
    ours = fuse_conv_bn_weights(*(gdl.tensor(a) for a in (w, b, rm, rv)), 1e-3, gdl.tensor(bw), gdl.tensor(bb))
    theirs = t_fuse(*(torch.tensor(a) for a in (w, b, rm, rv)), 1e-3, torch.tensor(bw), torch.tensor(bb))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-13)
        assert o.requires_grad == t.requires_grad
