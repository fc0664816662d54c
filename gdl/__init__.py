"""gdl: a small, readable deep-learning framework that runs on NumPy or CuPy.

>>> import gdl
>>> w = gdl.randn(3, 1, requires_grad=True)
>>> loss = ((gdl.tensor([[1.0, 2.0, 3.0]]) @ w) ** 2).sum()
>>> loss.backward()
>>> w.grad.shape
(3, 1)
"""

from gdl.backends import (
    available_backends,
    device,
    get_backend,
    get_backend_object,
    is_usable,
    initial_seed,
    manual_seed,
    seed,
    set_backend,
    use_backend,
)
from gdl.dtypes import (
    DType,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from gdl.functional import *  # noqa: F401,F403  (ops: gdl.exp, gdl.matmul, ...)
from gdl.functional import cat, concat, max, min, pow, sum, abs  # noqa: F401
from gdl.tensor import (
    Tensor,
    arange,
    empty,
    empty_like,
    enable_grad,
    eye,
    from_numpy,
    full,
    full_like,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    linspace,
    logspace,
    no_grad,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_grad_enabled,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from gdl import testing  # noqa: F401
from gdl import autograd  # noqa: F401
from gdl import cuda  # noqa: F401  (gdl.cuda.is_available(), as torch.cuda)
from gdl import amp  # noqa: F401  (gdl.amp.autocast, gdl.amp.GradScaler, as torch.amp)
from gdl.amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401  (as torch's)

bool = bool_  # noqa: A001  (gdl.bool, as torch.bool)

__version__ = "0.1.0"


def synchronize(backend=None) -> None:
    """Wait for queued work on ``backend`` (default: the current one)."""
    get_backend_object(backend).synchronize()

from gdl import nn  # noqa: E402
from gdl import optim  # noqa: E402
from gdl.io import CheckpointError, load, load_checkpoint, load_metadata, save, save_checkpoint  # noqa: E402
from gdl import linalg, utils  # noqa: E402,F401  (gdl.linalg and gdl.utils, as torch's)
from gdl import random  # noqa: E402  (gdl.random.fork_rng, as torch.random)
from gdl import func  # noqa: E402,F401  (gdl.func.functional_call, grad, vjp, jacrev, as torch.func)
from gdl import special  # noqa: E402,F401  (gdl.special.ndtr, expit, ..., as torch.special)
from gdl.random import get_rng_state, set_rng_state  # noqa: E402,F401
from gdl import distributions  # noqa: E402,F401  (gdl.distributions, as torch.distributions)
from gdl.functional._methods import attach_methods as _attach_methods  # noqa: E402

_attach_methods(linalg)  # x.det(), x.inverse(), x.slogdet(), x.logdet(), x.matrix_power(n)
det, inverse, slogdet, logdet = linalg.det, linalg.inv, linalg.slogdet, linalg.logdet  # torch's top-level names
