"""Activation modules: thin wrappers around the functional forms.

``inplace=`` is accepted where PyTorch has it, but gdl never writes into its input:
every module returns a new tensor.

>>> import gdl
>>> from gdl import nn
>>> nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 2), nn.Hardtanh(-2.0, 2.0))
Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): SiLU()
  (2): Linear(in_features=8, out_features=2, bias=True)
  (3): Hardtanh(min_val=-2.0, max_val=2.0)
)
>>> nn.PReLU(3)(gdl.tensor([[-4.0, 1.0, -2.0]]))
tensor([[-1. ,  1. , -0.5]], backend='numpy', grad_fn=<PreluBackward>)
"""

from __future__ import annotations

from gdl import functional as ops
from gdl.nn import functional as F
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import full


def _inplace_str(inplace, first=False):
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class ReLU(Module):
    """``max(x, 0)`` (the book's ch6 ``relu``)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return ops.relu(x)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class Tanh(Module):
    """``tanh(x)``; its derivative is ``1 - tanh(x)²`` (book ch9)."""

    def forward(self, x):
        return ops.tanh(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``; its derivative is ``s·(1 - s)``."""

    def forward(self, x):
        return ops.sigmoid(x)


class Softmax(Module):
    """``exp(x) / Σ exp(x)`` along ``dim`` (max-shifted)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.log_softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``; ``dim=None`` is PyTorch's deprecated implicit choice (with a warning)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """``x·Φ(x)``; ``approximate="tanh"`` for the tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """``x`` for ``x > 0``, else ``negative_slope·x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class _InplaceOnly(Module):
    """An activation without settings other than the (ignored) ``inplace`` flag."""

    _fn = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return type(self)._fn(x)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class SiLU(_InplaceOnly):
    """SiLU (swish): ``x·σ(x)``."""

    _fn = staticmethod(F.silu)


class Mish(_InplaceOnly):
    """Mish: ``x·tanh(softplus(x))``."""

    _fn = staticmethod(F.mish)


class SELU(_InplaceOnly):
    """SELU: ``scale·elu(x, alpha)`` with PyTorch's constants (alpha ≈ 1.6733, scale ≈ 1.0507)."""

    _fn = staticmethod(F.selu)


class Hardsigmoid(_InplaceOnly):
    """``relu6(x + 3) / 6``."""

    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_InplaceOnly):
    """``x·relu6(x + 3) / 6``."""

    _fn = staticmethod(F.hardswish)


class _AlphaActivation(Module):
    """An activation with an ``alpha`` and the (ignored) ``inplace`` flag."""

    _fn = None

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return type(self)._fn(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class ELU(_AlphaActivation):
    """``x`` for ``x > 0``, else ``alpha·(exp(x) - 1)``."""

    _fn = staticmethod(F.elu)


class CELU(_AlphaActivation):
    """``max(0, x) + min(0, alpha·(exp(x/alpha) - 1))``."""

    _fn = staticmethod(F.celu)


class Softplus(Module):
    """``log(1 + exp(beta·x)) / beta``, linear where ``beta·x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, x):
        return F.relu6(x)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class LogSigmoid(Module):
    """``log(σ(x))``, finite for every ``x``."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, x):
        return F.softsign(x)


class Tanhshrink(Module):
    """``x - tanh(x)``."""

    def forward(self, x):
        return F.tanhshrink(x)


class _Shrink(Module):
    _fn = None

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return type(self)._fn(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Shrink):
    """``x ∓ lambd`` outside ``[-lambd, lambd]``, 0 inside."""

    _fn = staticmethod(F.softshrink)


class Hardshrink(_Shrink):
    """``x`` outside ``[-lambd, lambd]``, 0 inside."""

    _fn = staticmethod(F.hardshrink)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class GLU(Module):
    """Gated linear unit: halves ``a, b`` of ``dim``; ``a·σ(b)``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """Leaky ReLU with a learned slope: ``x`` for ``x > 0``, else ``weight·x``.

    ``num_parameters`` is 1 (one slope shared by all channels) or the number of
    channels (dim 1 of the input); every slope starts at ``init``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None, backend=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype, backend=backend))

    def reset_parameters(self):
        """Every slope back to ``init``."""
        w = self.weight
        w.data = w._backend.xp.full(w.data.shape, float(self.init), dtype=w.data.dtype, device=w._backend.device)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


# -- distance modules ----------------------------------------------------------------------------------


class CosineSimilarity(Module):
    """``F.cosine_similarity(x1, x2, dim, eps)``: cosine of the angle between vectors along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``F.pairwise_distance(x1, x2, p, eps, keepdim)``: the ``p``-norm of ``x1 - x2 + eps`` along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "CosineSimilarity",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "PairwiseDistance",
    "ReLU",
    "ReLU6",
    "SELU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
]
