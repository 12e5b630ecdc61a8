"""Layer normalisation (Ba, Kiros & Hinton 2016): each example normalised over its own features.

For x (..., d), statistics over the last axis only, so it works the same for any batch size, at
training and at test time, and for every position of a sequence:

    mu = mean_j x_j,   var = mean_j (x_j - mu)^2,   xh = (x - mu) / sqrt(var + eps)
    y = gamma * xh + beta                                   (gamma, beta of shape (d,))

Backward, with g = dout * gamma and means over the last axis:

    dx = (g - mean(g) - xh * mean(g * xh)) / sqrt(var + eps)
    dgamma = sum over all leading axes of dout * xh,   dbeta = sum of dout
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


class LayerNorm(Layer):
    """y = gamma (x - mu) / sqrt(var + eps) + beta over the last axis; gamma = 1, beta = 0 at
    first (``torch.nn.LayerNorm(d, eps)``)."""

    param_names = ("gamma", "beta")

    def __init__(self, d, eps=1e-5, *, dtype="float32", xp=np):
        self.d, self.eps = d, eps
        self.gamma, self.beta = xp.ones(d, dtype=dtype), xp.zeros(d, dtype=dtype)
        self.dgamma, self.dbeta = xp.zeros_like(self.gamma), xp.zeros_like(self.beta)

    def forward(self, x):
        if x.shape[-1] != self.d:
            raise ValueError(
                f"LayerNorm({self.d}) got an input of shape {tuple(x.shape)}: the last axis "
                f"must have {self.d} features"
            )
        xp = get_array_module(x)
        mu = x.mean(axis=-1, keepdims=True)
        centred = x - mu
        self.rstd = 1.0 / xp.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        self.xh = centred * self.rstd
        return self.xh * self.gamma + self.beta

    def backward(self, dout):
        xh = self.xh
        lead = tuple(range(dout.ndim - 1))
        self.dgamma[...] = (dout * xh).sum(axis=lead)
        self.dbeta[...] = dout.sum(axis=lead)
        g = dout * self.gamma
        mean_g = g.mean(axis=-1, keepdims=True)
        mean_gx = (g * xh).mean(axis=-1, keepdims=True)
        return (g - mean_g - xh * mean_gx) * self.rstd
