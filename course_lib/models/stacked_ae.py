"""Stacked autoencoder pretraining without RBMs (the protocol of the course's seed talk).

Each layer is a one-hidden-layer autoencoder with tied weights, trained by mini-batch SGD to
reconstruct its own input (the output of the layer below)::

    h = act(x W + c)          act = sigmoid, or the identity for a linear code layer
    r = sigmoid(h W^T + b)    loss = mean over the batch of sum_i [softplus(z_r) - x z_r]_i

It is an ``nn.Linear`` encoder and an ``nn.TiedLinear`` decoder (the same ``W``, transposed),
trained through the flat parameter view, which adds up the two gradients of ``W``.  Trained layers
are stacked bottom-up and unrolled into a :class:`~course_lib.models.autoencoder.DeepAutoencoder`
(decoder = transposed weights and visible biases) for fine-tuning.  Initial weights are drawn on
the host, so NumPy, CuPy and torch runs start identical and, with the same batch order, follow the
same maths.
"""

from __future__ import annotations

import time

import numpy as np

from course_lib import optim
from course_lib.backend import get_array_module, synchronize
from course_lib.corrupt import Corrupt
from course_lib.models.autoencoder import DeepAutoencoder
from course_lib.nn import FlatParams, Linear, Sequential, Sigmoid, SigmoidCrossEntropy, TiedLinear
from course_lib.train import fit


def init_layer(n_in: int, n_hid: int, seed: int, scale: float | None = None, dtype="float32"):
    """Host arrays ``(W, c, b)`` for one layer: ``W ~ U(-r, r)`` with ``r = 4 sqrt(6 / (n_in +
    n_hid))`` (the usual choice for logistic units) unless ``scale`` is given (then ``scale *
    randn``); biases 0."""
    rng = np.random.default_rng(seed)
    if scale is None:
        r = 4.0 * np.sqrt(6.0 / (n_in + n_hid))
        W = rng.uniform(-r, r, size=(n_in, n_hid))
    else:
        W = scale * rng.standard_normal((n_in, n_hid))
    return W.astype(dtype), np.zeros(n_hid, dtype), np.zeros(n_in, dtype)


class TiedAutoencoder(Sequential):
    """One tied-weight autoencoder layer: encoder ``(W, c)``, decoder ``(W^T, b)``, logits out."""

    def __init__(
        self,
        n_in: int,
        n_hid: int,
        *,
        linear: bool = False,
        seed: int = 0,
        xp=np,
        dtype="float32",
        scale: float | None = None,
    ):
        W, c, b = init_layer(n_in, n_hid, seed, scale, dtype)
        encoder = Linear(n_in, n_hid, weight_init="zeros", dtype=dtype, xp=xp, input_grad=False)
        encoder.W[...], encoder.b[...] = xp.asarray(W), xp.asarray(c)
        decoder = TiedLinear(encoder)
        decoder.b[...] = xp.asarray(b)
        super().__init__(encoder, *([] if linear else [Sigmoid()]), decoder)
        self.n_in, self.n_hid, self.linear = n_in, n_hid, linear
        FlatParams(self)

    W = property(lambda self: self.layers[0].W, doc="the shared weight (n_in, n_hid)")
    c = property(lambda self: self.layers[0].b, doc="the hidden biases")
    b = property(lambda self: self.layers[-1].b, doc="the visible (reconstruction) biases")

    def encode(self, x):
        """The codes ``h = act(x W + c)``."""
        for layer in self.layers[:-1]:
            x = layer.forward(x)
        return x

    def as_tuple(self):
        """``(W, b_hid, b_vis)`` for :meth:`DeepAutoencoder.from_layers`."""
        return self.W, self.c, self.b


def layer_seeds(seed: int, n_layers: int):
    return [seed + 1000 * i for i in range(n_layers)]


def pretrain_stacked_ae(
    data,
    sizes,
    *,
    epochs: int = 15,
    batch_size: int = 100,
    lr: float = 0.1,
    top_lr: float = 0.01,
    linear_top: bool = True,
    seed: int = 0,
    xp=None,
    dtype="float32",
    timings=None,
    loss=None,
    progress=False,
    corruption=None,
):
    """Greedy layer-wise pretraining of tied-weight autoencoders; returns the layers (bottom first).

    ``sizes = [784, 1000, 500, 250, 2]``; each layer is trained by plain SGD on consecutive batches
    (a short last batch is dropped) on the codes of the one below (computed once for the whole data
    set after that layer is trained).  The top layer learns with ``top_lr`` (a linear code layer
    diverges at the logistic layers' rate, as in the RBM recipe where the linear layer's rate is 100
    times smaller).  ``timings`` (a list) receives per-layer seconds.  ``loss``: the
    reconstruction cost on the logits, ``nn.SigmoidCrossEntropy()`` by default
    (``nn.SigmoidSquaredError()`` is seed 000's L2 cost).  ``progress``: a bar per layer, as in
    :func:`course_lib.train.fit`.

    ``corruption=("mask", nu)`` or ``("gaussian", sigma)`` makes each layer a *denoising*
    autoencoder (Vincent et al. 2008): it reads its input corrupted by fresh noise every batch
    (:class:`course_lib.corrupt.Corrupt`, seeded by the layer's seed) and is scored against the
    clean input; the layer above trains on the clean codes.  None (default): no corruption.
    """
    xp = xp or get_array_module(data)
    x = xp.asarray(data, dtype=dtype)
    layers, seeds = [], layer_seeds(seed, len(sizes) - 1)
    steps = dict(epochs=epochs, batch_size=batch_size, shuffle=False, last_batch="drop")
    steps["progress"] = progress
    for i, (n_in, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
        t0 = time.perf_counter()
        top = i == len(sizes) - 2
        layer = TiedAutoencoder(
            n_in, n_hid, linear=top and linear_top, seed=seeds[i], xp=xp, dtype=dtype
        )
        noisy = layer if corruption is None else Sequential(Corrupt(*corruption, seeds[i]), layer)
        sgd = optim.SGD([layer.flat.theta], [layer.flat.grad], lr=top_lr if top else lr)
        desc = f"layer {i + 1}/{len(sizes) - 1}"
        fit(noisy, loss or SigmoidCrossEntropy(), sgd, x, **steps, desc=desc)
        layers.append(layer)
        if not top:
            x = layer.encode(x)
        if timings is not None:
            synchronize(xp)  # wait for the device before reading the clock
            timings.append(time.perf_counter() - t0)
    return layers


def unroll(layers, *, xp=None, dtype=None) -> DeepAutoencoder:
    """The deep autoencoder initialised from pretrained tied layers."""
    return DeepAutoencoder.from_layers(
        [layer.as_tuple() for layer in layers], linear_code=layers[-1].linear, xp=xp, dtype=dtype
    )
