"""Stacked autoencoder pretraining without RBMs (the protocol of the course's seed talk).

Each layer is a one-hidden-layer autoencoder with tied weights, trained by mini-batch SGD to
reconstruct its own input (the output of the layer below)::

    h = act(x W + c)          act = sigmoid, or the identity for a linear code layer
    r = sigmoid(h W^T + b)    loss = mean over the batch of sum_i [softplus(z_r) - x z_r]_i

    dz_r = (r - x) / N        dW = dz_r^T h + x^T dz_h      dz_h = (dz_r W) * act'(h)
    db = sum dz_r             dc = sum dz_h

Trained layers are stacked bottom-up and unrolled into a
:class:`course_lib.models.autoencoder.DeepAutoencoder` (decoder = transposed weights and visible
biases) for fine-tuning.  Everything is on ``xp``; initial weights are drawn on the host, so NumPy,
CuPy and torch runs start identical and, with the same batch order, follow the same maths.
"""
from __future__ import annotations

import time

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.models.autoencoder import DeepAutoencoder
from course_lib.nn.activations import sigmoid, softplus


def init_layer(n_in: int, n_hid: int, seed: int, scale: float | None = None, dtype="float32"):
    """Host arrays ``(W, c, b)`` for one layer: ``W ~ U(-r, r)`` with ``r = 4 sqrt(6 / (n_in + n_hid))``
    (the usual choice for logistic units) unless ``scale`` is given (then ``scale * randn``); biases 0."""
    rng = np.random.default_rng(seed)
    if scale is None:
        r = 4.0 * np.sqrt(6.0 / (n_in + n_hid))
        W = rng.uniform(-r, r, size=(n_in, n_hid))
    else:
        W = scale * rng.standard_normal((n_in, n_hid))
    return W.astype(dtype), np.zeros(n_hid, dtype), np.zeros(n_in, dtype)


class TiedAutoencoderLayer:
    """One tied-weight autoencoder layer on ``xp``: encoder ``(W, c)``, decoder ``(W^T, b)``."""

    def __init__(self, n_in: int, n_hid: int, *, linear: bool = False, seed: int = 0, xp=np, dtype="float32",
                 scale: float | None = None):
        self.n_in, self.n_hid, self.linear = n_in, n_hid, linear
        self.xp, self.dtype = xp, np.dtype(dtype)
        W, c, b = init_layer(n_in, n_hid, seed, scale, self.dtype)
        self.W, self.c, self.b = xp.asarray(W), xp.asarray(c), xp.asarray(b)

    @property
    def params(self):
        return [self.W, self.c, self.b]

    def encode(self, x):
        z = x @ self.W + self.c
        return z if self.linear else sigmoid(z, self.xp)

    def loss_and_grads(self, x):
        """Cross-entropy reconstruction loss (mean over cases) and ``[dW, dc, db]``."""
        xp = self.xp
        n = x.shape[0]
        h = self.encode(x)
        zr = h @ self.W.T + self.b
        loss = (softplus(zr, xp) - x * zr).sum() / n
        dzr = (sigmoid(zr, xp) - x) / n
        dh = dzr @ self.W
        dzh = dh if self.linear else dh * h * (1 - h)
        dW = dzr.T @ h + x.T @ dzh
        return loss, [dW, dzh.sum(axis=0), dzr.sum(axis=0)]

    def sgd_step(self, x, lr: float):
        loss, grads = self.loss_and_grads(x)
        for p, g in zip(self.params, grads):
            p -= lr * g
        return loss

    def fit(self, x, *, epochs: int, batch_size: int = 100, lr: float = 0.1):
        """Plain SGD over consecutive batches (an incomplete last batch is dropped); returns mean losses."""
        n = x.shape[0] - x.shape[0] % batch_size
        losses = []
        for _ in range(epochs):
            total = 0.0
            for i in range(0, n, batch_size):
                total = total + self.sgd_step(x[i:i + batch_size], lr)
            losses.append(float(total) / max(n // batch_size, 1))
        return losses

    def as_tuple(self):
        """``(W, b_hid, b_vis)`` for :meth:`DeepAutoencoder.from_layers`."""
        return self.W, self.c, self.b


def layer_seeds(seed: int, n_layers: int):
    return [seed + 1000 * i for i in range(n_layers)]


def pretrain_stacked_ae(data, sizes, *, epochs: int = 15, batch_size: int = 100, lr: float = 0.1,
                        top_lr: float = 0.01, linear_top: bool = True, seed: int = 0, xp=None, dtype="float32",
                        timings=None):
    """Greedy layer-wise pretraining of tied-weight autoencoders; returns the layers (bottom first).

    ``sizes = [784, 1000, 500, 250, 2]``; each layer is trained on the codes of the one below
    (computed once for the whole data set after that layer is trained).  The top layer learns with
    ``top_lr`` (a linear code layer diverges at the logistic layers' rate, as in the RBM recipe
    where the linear layer's rate is 100 times smaller).  ``timings`` (a list) receives per-layer
    seconds.
    """
    xp = xp or get_array_module(data)
    x = xp.asarray(data, dtype=dtype)
    layers = []
    seeds = layer_seeds(seed, len(sizes) - 1)
    for i, (n_in, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
        t0 = time.perf_counter()
        top = i == len(sizes) - 2
        layer = TiedAutoencoderLayer(n_in, n_hid, linear=top and linear_top, seed=seeds[i], xp=xp, dtype=dtype)
        layer.fit(x, epochs=epochs, batch_size=batch_size, lr=top_lr if top else lr)
        layers.append(layer)
        if not top:
            x = layer.encode(x)
        if timings is not None:
            float(asnumpy(layer.W[0, 0]))  # wait for the device before reading the clock
            timings.append(time.perf_counter() - t0)
    return layers


def unroll(layers, *, xp=None, dtype=None) -> DeepAutoencoder:
    """The deep autoencoder initialised from pretrained tied layers."""
    xp = xp or layers[0].xp
    return DeepAutoencoder.from_layers([l.as_tuple() for l in layers], linear_code=layers[-1].linear, xp=xp,
                                       dtype=dtype or layers[0].dtype)
