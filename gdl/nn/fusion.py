"""Fold an eval-mode BatchNorm into the convolution or linear layer before it, as
``torch.nn.utils.fusion``: one layer computes what the two did, for faster inference.

With ``s = bn.weight / sqrt(running_var + eps)`` per channel, the fused layer has weight
``W·s`` (scaled per output channel) and bias ``(b − running_mean)·s + bn.bias``.

>>> import gdl
>>> from gdl import nn
>>> from gdl.nn.utils import fuse_conv_bn_eval
>>> conv, bn = nn.Conv2d(1, 2, 3).eval(), nn.BatchNorm2d(2).eval()
>>> x = gdl.randn(1, 1, 5, 5)
>>> fused = fuse_conv_bn_eval(conv, bn)
>>> bool(((fused(x) - bn(conv(x))).abs() < 1e-5).all())
True
"""

from __future__ import annotations

import copy

from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, no_grad

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _bn_scale_and_shift(op, running_mean, running_var, eps, weight, bias):
    for name, t in (("bn_rm", running_mean), ("bn_rv", running_var)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor (the BatchNorm's running statistics), got "
                            f"{type(t).__name__}; a BatchNorm with track_running_stats=False cannot be fused")
    weight = running_mean * 0 + 1 if weight is None else weight
    bias = running_mean * 0 if bias is None else bias
    scale = weight * (running_var + eps).rsqrt()
    return scale, bias


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose: bool = False):
    """``(weight, bias)`` Parameters of the convolution that equals ``conv`` then an eval-mode
    BatchNorm with these statistics and affine parameters (``conv_b``/``bn_w``/``bn_b`` may be
    None). ``transpose``: the weight is a transposed convolution's ``(in, out/groups, ...)``
    (grouped ones too: the groups are the BatchNorm's channels over ``weight.shape[1]``)."""
    with no_grad():
        scale, shift = _bn_scale_and_shift("fuse_conv_bn_weights", bn_rm, bn_rv, bn_eps, bn_w, bn_b)
        conv_b = bn_rm * 0 if conv_b is None else conv_b
        ones = [1] * (conv_w.ndim - 2)
        if not transpose:
            weight = conv_w * scale.reshape([-1, 1] + ones)
        else:  # (in, out/groups, ...): output channel g·(out/groups) + j sits in group g's rows
            groups = scale.shape[0] // conv_w.shape[1]
            grouped = conv_w.reshape([groups, conv_w.shape[0] // groups] + list(conv_w.shape[1:]))
            weight = (grouped * scale.reshape([groups, 1, -1] + ones)).reshape(conv_w.shape)
        weight = weight.to(dtype=conv_w.dtype)
        bias = ((conv_b - bn_rm) * scale + shift).to(dtype=conv_b.dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(bias, conv_b.requires_grad)


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """``(weight, bias)`` Parameters of the linear layer that equals ``linear`` then an
    eval-mode BatchNorm with these statistics (``linear_b``/``bn_w``/``bn_b`` may be None)."""
    with no_grad():
        scale, shift = _bn_scale_and_shift("fuse_linear_bn_weights", bn_rm, bn_rv, bn_eps, bn_w, bn_b)
        linear_b = bn_rm * 0 if linear_b is None else linear_b
        weight = linear_w * scale.reshape(-1, 1)
        bias = (linear_b - bn_rm) * scale + shift
    return Parameter(weight, linear_w.requires_grad), Parameter(bias, linear_b.requires_grad)


def _check_eval(op, *modules):
    for m in modules:
        if m.training:
            raise ValueError(f"{op}: fusion works on modules in eval mode only; call .eval() first "
                             f"({type(m).__name__} is training)")


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of the eval-mode convolution ``conv`` with the eval-mode BatchNorm ``bn`` folded
    in (``conv`` and ``bn`` are left as they are)."""
    _check_eval("fuse_conv_bn_eval", conv, bn)
    if conv.weight.shape[1 if transpose else 0] * (conv.groups if transpose else 1) != bn.num_features:
        raise ValueError(f"fuse_conv_bn_eval: the convolution's output channels do not match the BatchNorm's "
                         f"{bn.num_features} features (weight shape {conv.weight.shape}, transpose={transpose})")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_eval(linear, bn):
    """A copy of the eval-mode ``linear`` with the eval-mode BatchNorm ``bn`` folded in. The
    BatchNorm must have ``linear``'s output size as its feature count, or 1 (broadcast)."""
    _check_eval("fuse_linear_bn_eval", linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ValueError(f"fuse_linear_bn_eval: to fuse, linear.out_features ({linear.out_features}) must equal "
                         f"bn.num_features ({bn.num_features}) or bn.num_features must be 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused
