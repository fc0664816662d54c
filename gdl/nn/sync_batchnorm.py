"""SyncBatchNorm: batch norm over input of any dimensionality, as ``torch.nn.SyncBatchNorm`` on one process.

gdl has no process groups, so the statistics are those of the local batch: exactly
``BatchNorm1d/2d/3d`` (PyTorch's SyncBatchNorm does the same when no process group is running).

>>> import gdl
>>> net = gdl.nn.Sequential(gdl.nn.Conv2d(3, 4, 3), gdl.nn.BatchNorm2d(4))
>>> gdl.nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]
SyncBatchNorm(4, eps=1e-05, momentum=0.1)
"""

from __future__ import annotations

from gdl.nn.layers import _BatchNorm
from gdl.nn.module import Module
from gdl.tensor import Tensor, no_grad

__all__ = ["SyncBatchNorm"]


class _AtLeastTwo:
    """The accepted input ranks: 2 or more."""

    def __contains__(self, ndim) -> bool:
        return ndim >= 2

    def __iter__(self):
        return iter((2, 3, 4, 5))


class SyncBatchNorm(_BatchNorm):
    """Batch norm over channel dim 1 of ``(N, C, *)`` input (any number of trailing dims).

    Args as :class:`BatchNorm1d` (``num_features``, ``eps``, ``momentum``, ``affine``,
    ``track_running_stats``), plus ``process_group``, which must be None: gdl runs one process,
    whose batch statistics are used (no synchronisation).
    """

    _expected_dims = _AtLeastTwo()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, dtype=None, backend=None):
        if process_group is not None:
            raise NotImplementedError("SyncBatchNorm: gdl has no process groups; process_group must be None")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype=dtype, backend=backend)
        self.process_group = None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: expected {self.num_features} channels in dimension 1, got shape {x.shape}"
            )
        return super().forward(x)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*d`` inside replaced by a SyncBatchNorm sharing its
        parameters and buffers (the module itself is returned converted if it is one)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            out = cls(module.num_features, module.eps, module.momentum, module.weight is not None,
                      module.track_running_stats, process_group)
            with no_grad():
                if module.weight is not None:
                    out.weight, out.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out.register_buffer(name, getattr(module, name))
            out.train(module.training)
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
