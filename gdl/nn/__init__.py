"""Neural-network building blocks: modules, layers, activations, losses, init.

Each module lists its public classes in ``__all__``; they are all re-exported here.
"""

from gdl.nn import (
    activation,
    adaptive_softmax,
    attention,
    conv,
    dropout_variants,
    fractional_pool,
    functional,
    init,
    layers,
    layers3d,
    lazy,
    loss,
    normalization,
    padding,
    pooling,
    sync_batchnorm,
    transformer,
    upsampling,
    utils,
)
from gdl.nn.activation import *  # noqa: F403
from gdl.nn.adaptive_softmax import *  # noqa: F403
from gdl.nn.attention import *  # noqa: F403
from gdl.nn.conv import *  # noqa: F403
from gdl.nn.dropout_variants import *  # noqa: F403
from gdl.nn.fractional_pool import *  # noqa: F403
from gdl.nn.layers import *  # noqa: F403
from gdl.nn.layers3d import *  # noqa: F403
from gdl.nn.lazy import *  # noqa: F403
from gdl.nn.loss import *  # noqa: F403
from gdl.nn.module import Buffer, Module, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from gdl.nn.normalization import *  # noqa: F403
from gdl.nn.padding import *  # noqa: F403
from gdl.nn.parameter import Parameter
from gdl.nn.pooling import *  # noqa: F403
from gdl.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from gdl.nn.recurrent import _CellBase as RNNCellBase
from gdl.nn.recurrent import _RNNBase as RNNBase
from gdl.nn.sync_batchnorm import *  # noqa: F403
from gdl.nn.transformer import *  # noqa: F403
from gdl.nn.upsampling import *  # noqa: F403

_LAYER_MODULES = (
    activation, adaptive_softmax, attention, conv, dropout_variants, fractional_pool, layers, layers3d, lazy, loss,
    normalization, padding, pooling, sync_batchnorm, transformer, upsampling,
)

__all__ = sorted(
    {name for m in _LAYER_MODULES for name in m.__all__}
    | {"Buffer", "Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential", "Parameter", "GRU",
       "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "RNNBase", "RNNCellBase", "functional", "init", "utils"}
)
