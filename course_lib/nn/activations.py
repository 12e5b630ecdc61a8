"""Element-wise non-linearities: Sigmoid, Tanh, ReLU (layers), and the sigmoid and softplus
functions the rest of the library uses.  They have no parameters."""

from __future__ import annotations

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def sigmoid(x, xp=None):
    """sigma(x) = 1 / (1 + e^-x), computed as (tanh(x/2) + 1) / 2: no exp() overflows, and fast."""
    xp = xp or get_array_module(x)
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def softplus(x, xp=None):
    """log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so it is stable for large |x|."""
    xp = xp or get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Sigmoid(Layer):
    """y = 1 / (1 + e^-x);   dx = dout * y (1 - y)."""

    def forward(self, x):
        self.y = sigmoid(x)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)


class Tanh(Layer):
    """y = tanh(x);   dx = dout * (1 - y^2)."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


class ReLU(Layer):
    """y = max(x, 0);   dx = dout * [x > 0]  (the gradient at exactly 0 is taken as 0)."""

    def forward(self, x):
        self.mask = x > 0
        return get_array_module(x).maximum(x, 0)

    def backward(self, dout):
        return dout * self.mask


GELU_C = 0.7978845608028654  # sqrt(2 / pi)


class GELU(Layer):
    """The Gaussian error linear unit (Hendrycks & Gimpel 2016), x Phi(x), in its tanh form
    (``torch.nn.GELU(approximate="tanh")``, as in GPT and BERT):

        y = x/2 (1 + tanh u),   u = sqrt(2/pi) (x + 0.044715 x^3)
        dx = dout [ (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) ]
    """

    def forward(self, x):
        self.x = x
        self.t = get_array_module(x).tanh(GELU_C * x * (1.0 + 0.044715 * x * x))
        return 0.5 * x * (1.0 + self.t)

    def backward(self, dout):
        x, t = self.x, self.t
        du = GELU_C * (1.0 + 3 * 0.044715 * x * x)
        return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
