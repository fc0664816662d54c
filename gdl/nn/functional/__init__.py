"""Functional forms of the layers, activations and losses (``import gdl.nn.functional as F``)."""

from gdl.functional import log_softmax, relu, sigmoid, softmax, tanh
from gdl.nn.functional.activation import gelu, leaky_relu
from gdl.nn.functional.conv import avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from gdl.nn.functional.layers import batch_norm, dropout, embedding, layer_norm, linear
from gdl.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from gdl.nn.functional.recurrent import gru_cell, lstm_cell, rnn_cell

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "embedding", "gelu", "layer_norm", "leaky_relu", "linear", "log_softmax",
    "mse_loss", "nll_loss", "relu", "sigmoid", "softmax", "tanh",
    "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "max_pool1d", "max_pool2d",
    "gru_cell", "lstm_cell", "rnn_cell",
    "huber_loss", "kl_div", "l1_loss", "smooth_l1_loss",
]
