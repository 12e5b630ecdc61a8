"""Batch normalisation (Ioffe & Szegedy 2015), for (N, D) and (N, C, H, W) inputs."""

from __future__ import annotations

import numpy as np  # the default array module for new parameters

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


class BatchNorm(Layer):
    """Train: xh = (x - mu_B) / sqrt(var_B + eps),  y = gamma xh + beta  (statistics per feature).

    Backward:  dbeta = sum dout,  dgamma = sum dout xh,
               dx = gamma / sqrt(var_B + eps) * (dout - mean(dout) - xh mean(dout xh)).
    Eval: the running statistics replace mu_B and var_B, and dx = gamma dout / sqrt(var + eps).

    Running statistics:  r = momentum r + (1 - momentum) batch_stat, with the unbiased batch
    variance (m / (m - 1), m values per feature), as torch does; our ``momentum=0.9`` is torch's
    ``momentum=0.1``.  For images (N, C, H, W) the statistics are per channel, over N, H and W.
    In training mode a feature needs at least two values in the batch (torch refuses one too).
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")

    def __init__(self, n, momentum=0.9, eps=1e-5, *, dtype="float32", xp=np):
        self.momentum, self.eps = momentum, eps
        self.gamma, self.beta = xp.ones(n, dtype=dtype), xp.zeros(n, dtype=dtype)
        self.dgamma, self.dbeta = xp.zeros_like(self.gamma), xp.zeros_like(self.beta)
        self.running_mean, self.running_var = xp.zeros(n, dtype=dtype), xp.ones(n, dtype=dtype)

    def forward(self, x):
        xp = get_array_module(x)
        self.axes = (0,) + tuple(range(2, x.ndim))  # every axis but the features/channels
        self.shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector against x
        if self.training:
            mu, var = self._batch_statistics(x)
        else:
            mu, var = self.running_mean, self.running_var
        self.std = xp.sqrt(var + self.eps).reshape(self.shape)
        self.xh = (x - mu.reshape(self.shape)) / self.std
        return self.gamma.reshape(self.shape) * self.xh + self.beta.reshape(self.shape)

    def _batch_statistics(self, x):
        """Mean and (biased) variance per feature; updates the running statistics."""
        m = x.size // x.shape[1] if x.ndim > 1 else 0
        if m < 2:
            raise ValueError(
                f"BatchNorm in training mode got a batch of shape {tuple(x.shape)}: one value per "
                "feature has no variance to normalise by. Use batches of at least 2 examples "
                "(train.fit(..., last_batch='drop') drops a last batch of one), or call eval()."
            )
        mu = x.mean(axis=self.axes)
        var = ((x - mu.reshape(self.shape)) ** 2).mean(axis=self.axes)
        r = self.momentum
        self.running_mean[...] = r * self.running_mean + (1 - r) * mu
        self.running_var[...] = r * self.running_var + (1 - r) * var * (m / (m - 1))
        return mu, var

    def backward(self, dout):
        axes = self.axes
        self.dgamma[...] = (dout * self.xh).sum(axis=axes)
        self.dbeta[...] = dout.sum(axis=axes)
        dxh = dout * (self.gamma.reshape(self.shape) / self.std)
        if not self.training:
            return dxh
        return (
            dxh
            - dxh.mean(axis=axes, keepdims=True)
            - self.xh * (dxh * self.xh).mean(axis=axes, keepdims=True)
        )
