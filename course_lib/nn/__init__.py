"""The backprop engine: from-scratch layers on NumPy/CuPy, each with ``forward``/``backward`` and
``params``/``grads``, the losses, and a flat view of all parameters.

    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    loss = nn.SoftmaxCrossEntropy()
    L = loss.forward(model.forward(x), labels)
    model.backward(loss.backward())          # fills model.grads in place
"""

from course_lib.nn.activations import GELU, ReLU, Sigmoid, Tanh, sigmoid, softplus
from course_lib.nn.attention import Attention
from course_lib.nn.batchnorm import BatchNorm
from course_lib.nn.concat import Concat
from course_lib.nn.conv import Conv2d, Flatten
from course_lib.nn.cross_attention import MultiHeadCrossAttention
from course_lib.nn.dropout import Dropout
from course_lib.nn.embedding import Embedding, scatter_add
from course_lib.nn.flat import FlatParams
from course_lib.nn.layer import Composite, Layer
from course_lib.nn.layernorm import LayerNorm
from course_lib.nn.linear import Linear, TiedLinear
from course_lib.nn.losses import (
    MSELoss,
    SigmoidCrossEntropy,
    SigmoidSquaredError,
    SoftmaxCrossEntropy,
    log_softmax,
    softmax,
)
from course_lib.nn.lrn import LocalResponseNorm
from course_lib.nn.pooling import AvgPool2d, MaxPool2d
from course_lib.nn.positional import PositionalEmbedding, sinusoidal_table
from course_lib.nn.recurrent import GRU, LSTM, RNN, TimeDistributed
from course_lib.nn.residual import Residual
from course_lib.nn.self_attention import MultiHeadSelfAttention, scaled_dot_product_attention
from course_lib.nn.sequential import Sequential
from course_lib.nn.transformer import TransformerBlock, TransformerDecoderBlock

__all__ = [
    "Layer",
    "Composite",
    "Residual",
    "Concat",
    "Linear",
    "Conv2d",
    "Flatten",
    "MaxPool2d",
    "AvgPool2d",
    "LocalResponseNorm",
    "TiedLinear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "GELU",
    "Dropout",
    "Embedding",
    "RNN",
    "LSTM",
    "GRU",
    "TimeDistributed",
    "Attention",
    "MultiHeadSelfAttention",
    "MultiHeadCrossAttention",
    "scaled_dot_product_attention",
    "PositionalEmbedding",
    "sinusoidal_table",
    "TransformerBlock",
    "TransformerDecoderBlock",
    "scatter_add",
    "BatchNorm",
    "LayerNorm",
    "Sequential",
    "FlatParams",
    "SoftmaxCrossEntropy",
    "SigmoidCrossEntropy",
    "SigmoidSquaredError",
    "MSELoss",
    "sigmoid",
    "softplus",
    "softmax",
    "log_softmax",
]
