"""Shared helpers of the PyTorch cross-check files (``test_torch_crosscheck.py``,
``test_torch_parity_extras.py``). Import it after ``pytest.importorskip("torch")``."""

from __future__ import annotations

import os

import numpy as np
import torch
from hypothesis import HealthCheck, settings

import gdl
import gdl.nn
import gdl.optim

F64 = gdl.float64
EXAMPLES = int(os.environ.get("GDL_CROSSCHECK_EXAMPLES", "0"))
TOL = dict(rtol=1e-9, atol=1e-11)


def SETTINGS(n):  # noqa: N802 - used as a decorator
    """``n`` examples by default (fast), ``GDL_CROSSCHECK_EXAMPLES`` for a long search."""
    return settings(max_examples=EXAMPLES or n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def g64(a, grad=False, dtype=F64):
    """A gdl tensor of ``a`` (float64 unless ``dtype``)."""
    return gdl.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=grad)


def t64(a, grad=False, dtype=torch.float64):
    """The same numbers as a torch tensor."""
    out = torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    return out.requires_grad_(True) if grad else out


def close(ours, theirs, msg="", **tol):
    """Same shape and values; NaN where the other has NaN (``assert_allclose``'s default)."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    theirs = np.asarray(theirs)
    ours = ours.numpy() if hasattr(ours, "numpy") else np.asarray(ours)
    assert ours.shape == theirs.shape, f"{msg}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, err_msg=msg, **(tol or TOL))


def two_group_sgd(lib, lrs, start=-1):
    """SGD over two parameter groups (lrs ``lrs[0]``, ``lrs[1]``) in ``lib`` (gdl or torch); with
    ``start >= 0`` each group gets the ``initial_lr`` that resuming a schedule needs."""
    if lib is gdl:
        a, b = gdl.nn.Parameter(gdl.zeros(2)), gdl.nn.Parameter(gdl.zeros(3))
    else:
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": lrs[1]}], lr=lrs[0])
    if start >= 0:
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    return opt
