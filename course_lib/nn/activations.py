"""Element-wise non-linearities: Sigmoid, Tanh, ReLU.  They have no parameters."""
from __future__ import annotations

from course_lib.backend import get_array_module


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x), computed as exp(-log(1 + e^-x)) so no exp() overflows."""
    xp = get_array_module(x)
    return xp.exp(-xp.logaddexp(0, -x))


class Sigmoid:
    """y = 1 / (1 + e^-x);   dx = dout * y (1 - y)."""

    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x):
        self.y = sigmoid(x)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)


class Tanh:
    """y = tanh(x);   dx = dout * (1 - y^2)."""

    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


class ReLU:
    """y = max(x, 0);   dx = dout * [x > 0]  (the gradient at exactly 0 is taken as 0)."""

    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x):
        self.mask = x > 0
        return get_array_module(x).maximum(x, 0)

    def backward(self, dout):
        return dout * self.mask
