"""Lazy layers, as PyTorch's ``nn.LazyLinear``, ``nn.LazyConv2d``, ...: the input size is not
given but read from the first input, when the layer becomes the ordinary one
(``LazyLinear(10)`` becomes ``Linear(in_features, 10)``) with its parameters initialised
as that layer's are.

Until then the layer has no parameters, so run one batch through the model before
building the optimizer (PyTorch asks the same). The parameters are made on the input's
backend, in the ``dtype`` given to the lazy layer (default: the default float dtype).
Hooks registered on the lazy layer stay.

>>> import gdl
>>> from gdl import nn
>>> layer = nn.LazyLinear(3)
>>> layer
LazyLinear(in_features=0, out_features=3, bias=True)
>>> layer(gdl.zeros(2, 5)).shape
(2, 3)
>>> layer
Linear(in_features=5, out_features=3, bias=True)
"""

from __future__ import annotations

from gdl.nn import conv, layers, layers3d, normalization
from gdl.nn.module import Module


class _LazyModule(Module):
    """Holds the constructor's arguments; the first forward builds ``cls_to_become`` with the
    input size read from the input, takes over its state and becomes that class."""

    cls_to_become: type = Module
    _batched_dims: int | None = None  # the input's rank with a batch axis (None: features last)

    _defaults: tuple = ()  # (position after the inferred size, keyword, value) where PyTorch's lazy default differs

    def __init__(self, *args, **kwargs):
        super().__init__()
        for position, name, value in self._defaults:
            if len(args) <= position:
                kwargs.setdefault(name, value)
        self._lazy_args = (args, kwargs)

    def has_uninitialized_params(self) -> bool:
        """Whether the layer still waits for its first input (as PyTorch's)."""
        return True

    def initialize_parameters(self, x) -> None:
        """Build the parameters for input ``x`` and become the ordinary layer."""
        if not hasattr(x, "shape") or x.ndim == 0:
            raise ValueError(f"{type(self).__name__}: cannot infer the input size from {type(x).__name__} input "
                             f"of shape {getattr(x, 'shape', None)}")
        size = self._input_size(x)
        args, kwargs = self._lazy_args
        kwargs = dict(kwargs)
        kwargs.setdefault("backend", x.backend)
        real = self.cls_to_become(size, *args, **kwargs)
        training = self.training
        for key in ("_parameters", "_buffers", "_non_persistent", "_modules"):
            self.__dict__[key] = real.__dict__[key]
        for key, value in real.__dict__.items():
            if not key.startswith("_") and key != "training":
                self.__dict__[key] = value
        for name in list(real._parameters) + list(real._buffers):
            self._mirror(name, getattr(real, name))
        del self.__dict__["_lazy_args"]
        self.__class__ = self.cls_to_become
        self.train(training)

    def _input_size(self, x) -> int:
        if self._batched_dims is None:
            return x.shape[-1]
        return x.shape[1] if x.ndim == self._batched_dims else x.shape[0]

    def forward(self, x, *args, **kwargs):
        self.initialize_parameters(x)
        return self.forward(x, *args, **kwargs)

    def parameters(self, recurse: bool = True):
        return iter(())

    def extra_repr(self) -> str:
        args, kwargs = self._lazy_args
        if isinstance(self, LazyLinear):
            out = args[0] if args else kwargs.get("out_features")
            return f"in_features=0, out_features={out}, bias={kwargs.get('bias', True)}"
        return ", ".join(["0"] + [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


def _lazy(name: str, target: type, batched_dims: int | None, first: str, defaults: tuple = ()):
    doc = (f"``{target.__name__}`` without ``{first}``: it is read from the first input "
           f"(see :mod:`gdl.nn.lazy`). The other arguments are ``{target.__name__}``'s.")
    if defaults:
        doc += " As PyTorch's, it defaults to " + ", ".join(f"``{k}={v}``" for _, k, v in defaults) + "."
    return type(name, (_LazyModule,), {"cls_to_become": target, "_batched_dims": batched_dims, "__doc__": doc,
                                       "__module__": __name__, "_defaults": defaults})


_INSTANCE = ((2, "affine", True), (3, "track_running_stats", True))  # PyTorch's lazy instance norms differ here


LazyLinear = _lazy("LazyLinear", layers.Linear, None, "in_features")
LazyConv1d = _lazy("LazyConv1d", conv.Conv1d, 3, "in_channels")
LazyConv2d = _lazy("LazyConv2d", conv.Conv2d, 4, "in_channels")
LazyConv3d = _lazy("LazyConv3d", layers3d.Conv3d, 5, "in_channels")
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", conv.ConvTranspose1d, 3, "in_channels")
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", conv.ConvTranspose2d, 4, "in_channels")
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", layers3d.ConvTranspose3d, 5, "in_channels")
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", layers.BatchNorm1d, 2, "num_features")
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", layers.BatchNorm2d, 4, "num_features")
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", layers3d.BatchNorm3d, 5, "num_features")
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", normalization.InstanceNorm1d, 3, "num_features", _INSTANCE)
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", normalization.InstanceNorm2d, 4, "num_features", _INSTANCE)
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", layers3d.InstanceNorm3d, 5, "num_features", _INSTANCE)

__all__ = [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
    "LazyInstanceNorm3d", "LazyLinear",
]
