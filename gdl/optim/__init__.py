"""Optimizers and learning-rate schedules (``torch.optim``-shaped).

>>> import gdl, gdl.optim
>>> w = gdl.nn.parameter.Parameter(gdl.tensor([1.0, -2.0]))
>>> opt = gdl.optim.SGD([w], lr=0.1)
>>> loss = (w * w).sum()
>>> loss.backward(); opt.step(); opt.zero_grad()
>>> w.tolist()
[0.800000011920929, -1.600000023841858]

Also ``LBFGS`` (``step(closure)``), ``SparseAdam`` (for ``Embedding(sparse=True)``) and
:mod:`gdl.optim.swa_utils` (weight averaging: ``AveragedModel``, ``SWALR``, ``update_bn``).
Gradient clipping lives in :mod:`gdl.nn.utils` (``clip_grad_norm_``,
``clip_grad_value_``), as in PyTorch.
"""

from gdl.optim import lr_scheduler, swa_utils
from gdl.optim.adadelta import Adadelta
from gdl.optim.adafactor import Adafactor
from gdl.optim.adagrad import Adagrad
from gdl.optim.adam import Adam, AdamW
from gdl.optim.adamax import Adamax
from gdl.optim.asgd import ASGD
from gdl.optim.lbfgs import LBFGS
from gdl.optim.muon import Muon
from gdl.optim.nadam import NAdam
from gdl.optim.optimizer import Optimizer
from gdl.optim.radam import RAdam
from gdl.optim.rmsprop import RMSprop
from gdl.optim.rprop import Rprop
from gdl.optim.sgd import SGD
from gdl.optim.sparse_adam import SparseAdam

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta", "ASGD",
    "Rprop", "LBFGS", "SparseAdam", "Adafactor", "Muon", "lr_scheduler", "swa_utils",
]
