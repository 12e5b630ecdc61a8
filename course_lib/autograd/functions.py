"""Element-wise functions: exp, log, tanh, sigmoid, relu, with their backward rules.

A rule that needs the output (exp, tanh, sigmoid) reads it from ``out``, the node itself, so the
output is not stored twice and a second derivative flows through it.
"""

from __future__ import annotations

import numpy as np

from course_lib.autograd.tensor import Tensor, record
from course_lib.nn.activations import sigmoid as _sigmoid_array


def exp(a: Tensor) -> Tensor:
    """e^a;   dL/da = g * e^a = g * out."""
    return record(np.exp(a.data), (a,), _exp_backward, "exp")


def _exp_backward(out, g):
    return (g * out,)


def log(a: Tensor) -> Tensor:
    """natural log of a;   dL/da = g / a."""
    return record(np.log(a.data), (a,), _log_backward, "log")


def _log_backward(out, g):
    (a,) = out._parents
    return (g / a,)


def tanh(a: Tensor) -> Tensor:
    """tanh(a);   dL/da = g * (1 - out^2)."""
    return record(np.tanh(a.data), (a,), _tanh_backward, "tanh")


def _tanh_backward(out, g):
    return (g * (1 - out * out),)


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e^-a) (computed without overflow);   dL/da = g * out * (1 - out)."""
    return record(_sigmoid_array(a.data), (a,), _sigmoid_backward, "sigmoid")


def _sigmoid_backward(out, g):
    return (g * out * (1 - out),)


def relu(a: Tensor) -> Tensor:
    """max(a, 0);   dL/da = g * [a > 0]  (0 at a = 0; the second derivative is 0)."""
    return record(np.maximum(a.data, 0), (a,), _relu_backward, "relu")


def _relu_backward(out, g):
    (a,) = out._parents
    return (g * Tensor((a.data > 0).astype(a.dtype)),)


Tensor.exp = exp
Tensor.log = log
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
