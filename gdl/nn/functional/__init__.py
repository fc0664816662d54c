"""Functional forms of the layers, activations and losses (``import gdl.nn.functional as F``).

Each module lists its public functions in ``__all__``; they are all re-exported here.
"""

from gdl.functional import log_softmax, relu, sigmoid, softmax, tanh
from gdl.nn.functional import (
    activation,
    attention,
    conv,
    convolution3d,
    ctc,
    distance,
    dropout_variants,
    embedding_bags,
    fractional_pool,
    inplace_activation,
    layers,
    loss,
    margin_loss,
    normalization,
    padding,
    pool_extras,
    pooling,
    pooling3d,
    sampling_grid,
    upsampling,
)
from gdl.nn.functional.activation import *  # noqa: F403
from gdl.nn.functional.attention import *  # noqa: F403
from gdl.nn.functional.conv import *  # noqa: F403
from gdl.nn.functional.convolution3d import *  # noqa: F403
from gdl.nn.functional.ctc import *  # noqa: F403
from gdl.nn.functional.distance import *  # noqa: F403
from gdl.nn.functional.dropout_variants import *  # noqa: F403
from gdl.nn.functional.embedding_bags import *  # noqa: F403
from gdl.nn.functional.fractional_pool import *  # noqa: F403
from gdl.nn.functional.inplace_activation import *  # noqa: F403
from gdl.nn.functional.layers import *  # noqa: F403
from gdl.nn.functional.loss import *  # noqa: F403
from gdl.nn.functional.margin_loss import *  # noqa: F403
from gdl.nn.functional.normalization import *  # noqa: F403
from gdl.nn.functional.padding import *  # noqa: F403
from gdl.nn.functional.pool_extras import *  # noqa: F403
from gdl.nn.functional.pooling import *  # noqa: F403
from gdl.nn.functional.pooling3d import *  # noqa: F403
from gdl.nn.functional.recurrent import gru_cell, lstm_cell, rnn_cell
from gdl.nn.functional.sampling_grid import *  # noqa: F403
from gdl.nn.functional.upsampling import *  # noqa: F403

_MODULES = (
    activation, attention, conv, convolution3d, ctc, distance, dropout_variants, embedding_bags, fractional_pool,
    inplace_activation, layers, loss, margin_loss, normalization, padding, pool_extras, pooling, pooling3d, sampling_grid,
    upsampling,
)

__all__ = sorted(
    {name for m in _MODULES for name in m.__all__}
    | {"log_softmax", "relu", "sigmoid", "softmax", "tanh", "gru_cell", "lstm_cell", "rnn_cell"}
)
