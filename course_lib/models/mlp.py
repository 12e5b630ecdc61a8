"""The multilayer perceptron: Linear layers with a non-linearity between them.

    model = MLP([784, 800, 10], activation="relu", rng=0)
    scores = model.forward(x)            # (N, 10) logits; the loss layer is kept separate
    model.accuracy(x_test, y_test)

Each hidden block is  Linear -> [BatchNorm] -> activation -> [Dropout];  the last Linear has
nothing after it.  ``weight_init=None`` picks He for ReLU and Xavier for sigmoid/tanh.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.models.classifier import Classifier

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class MLP(Classifier):
    """y = W_k^T h_{k-1} + b_k,  h_i = act(W_i^T h_{i-1} + b_i),  h_0 = x  (row-vector form: h W +
    b)."""

    def __init__(
        self,
        sizes,
        activation="relu",
        weight_init=None,
        dropout=0.0,
        batchnorm=False,
        rng=None,
        xp=np,
        dtype="float32",
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {sorted(ACTIVATIONS)}")
        self.sizes, self.activation = list(sizes), activation
        self.dropout, self.batchnorm = dropout, batchnorm
        if weight_init is None:
            weight_init = "he" if activation == "relu" else "xavier"
        rng = np.random.default_rng(rng)  # one generator for every layer, drawn in order
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(
                nn.Linear(n_in, n_out, weight_init=weight_init, rng=rng, dtype=dtype, xp=xp)
            )
            if i == len(sizes) - 2:
                break
            if batchnorm:
                layers.append(nn.BatchNorm(n_out, dtype=dtype, xp=xp))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout, rng=rng))
        super().__init__(*layers)
