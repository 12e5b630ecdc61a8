"""The fully connected (affine) layer, and its weight-tied mirror image."""

from __future__ import annotations

import numpy as np

from course_lib import init
from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


class Linear(Layer):
    """y = x W + b,  with x (N, n_in), W (n_in, n_out), b (n_out,).

    Backward:  dx = dout W^T,  dW = x^T dout,  db = sum_n dout.
    An input with more than two axes, e.g. images (N, C, H, W), is flattened to (N, -1) first.
    ``input_grad=False`` skips dx (``backward`` returns None): the first layer of a network never
    needs the gradient with respect to the data, and it costs as much as dW.
    """

    param_names = ("W", "b")

    def __init__(
        self, n_in, n_out, *, weight_init="he", rng=None, dtype="float32", xp=np, input_grad=True
    ):
        self.W = init.make(weight_init, (n_in, n_out), rng, xp, dtype)
        self.b = xp.zeros(n_out, dtype=dtype)
        self.dW, self.db = xp.zeros_like(self.W), xp.zeros_like(self.b)
        self.input_grad = input_grad

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        if self.x.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"Linear({self.W.shape[0]}, {self.W.shape[1]}) got an input of shape "
                f"{tuple(x.shape)}: each example must have {self.W.shape[0]} numbers"
            )
        return self.x @ self.W + self.b

    def backward(self, dout):
        xp = get_array_module(dout)
        xp.matmul(self.x.T, dout, out=self.dW)
        self.db[...] = dout.sum(axis=0)
        if not self.input_grad:
            return None
        return (dout @ self.W.T).reshape(self.x_shape)


class TiedLinear(Layer):
    """y = x W_s^T + b, where W_s is the weight of another Linear layer: shared, not copied.

    The decoder of a tied-weight autoencoder maps codes back with the encoder's transposed weights.
    Backward:  dx = dout W_s,  dW = dout^T x  (shaped like W_s),  db = sum_n dout.
    The shared weight has two gradients, one from each layer; a flat view of the model
    (:class:`course_lib.nn.flat.FlatParams`) adds them up, so train a tied model through it.
    """

    param_names = ("W", "b")

    def __init__(self, source: Linear, *, input_grad=True):
        self.source = source
        xp = get_array_module(source.W)
        self.b = xp.zeros(source.W.shape[0], dtype=source.W.dtype)
        self.dW, self.db = xp.zeros_like(source.W), xp.zeros_like(self.b)
        self.input_grad = input_grad

    @property
    def W(self):
        return self.source.W

    @W.setter
    def W(self, value):
        self.source.W = value

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, dout):
        xp = get_array_module(dout)
        xp.matmul(dout.T, self.x, out=self.dW)
        self.db[...] = dout.sum(axis=0)
        return dout @ self.W if self.input_grad else None
