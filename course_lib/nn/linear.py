"""The fully connected (affine) layer."""
from __future__ import annotations

import numpy as np

from course_lib import init


class Linear:
    """y = x W + b,  with x (N, n_in), W (n_in, n_out), b (n_out,).

    Backward:  dx = dout W^T,  dW = x^T dout,  db = sum_n dout.
    An input with more than two axes, e.g. images (N, C, H, W), is flattened to (N, -1) first.
    """

    param_names = ("W", "b")

    def __init__(self, n_in, n_out, *, weight_init="he", rng=None, dtype="float32", xp=np):
        self.W = init.make(weight_init, (n_in, n_out), rng, xp, dtype)
        self.b = xp.zeros(n_out, dtype=dtype)
        self.params = [self.W, self.b]
        self.grads = [xp.zeros_like(self.W), xp.zeros_like(self.b)]

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)
