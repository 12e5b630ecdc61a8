"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), from ``course_lib.nn`` layers.

    C1: 6 filters 5x5 (28x28 MNIST padded by 2, as the paper's 32x32 input) -> 6@28x28
    S2: 2x2 pooling -> 6@14x14        C3: 16 filters 5x5 -> 16@10x10    S4: 2x2 pooling -> 16@5x5
    C5: 120 filters 5x5 -> 120@1x1    F6: 84 units                      output: 10 scores

Two simplifications of the 1998 network, both common since: C3 connects to all six S2 maps (the
paper used a hand-made table of 60 connections, to break symmetry and save computation), and the
output is 10 linear scores for a softmax cross-entropy instead of the paper's Euclidean RBF units.
The subsampling layers are plain average (``pool="avg"``, the paper's, without its trainable
coefficient and bias) or max pooling; the squashing function is ``tanh`` (the paper's scaled
``1.7159 tanh(2a/3)`` only changes the scale) or ``"relu"``.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.models.classifier import Classifier

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


def out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution or pooling: ``(size + 2 padding - kernel) // stride + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


class LeNet5(Classifier):
    """C1-S2-C3-S4-C5-F6-output for (N, 1, 28, 28) images (or ``in_size`` square images)."""

    def __init__(
        self,
        *,
        activation="tanh",
        pool="avg",
        in_size=28,
        n_classes=10,
        weight_init=None,
        rng=None,
        dtype="float32",
        xp=np,
    ):
        if activation not in ACTIVATIONS or pool not in POOLS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} and pool one of "
                f"{sorted(POOLS)}, got {activation!r} and {pool!r}"
            )
        rng = np.random.default_rng(rng)  # one generator for every layer, drawn in order
        weight_init = weight_init or ("he" if activation == "relu" else "xavier")
        kw = dict(weight_init=weight_init, rng=rng, dtype=dtype, xp=xp)
        pad = max(0, (32 - in_size) // 2)  # MNIST's 28x28 becomes the paper's 32x32
        s4 = out_size(out_size(out_size(out_size(in_size, 5, 1, pad), 2, 2), 5), 2, 2)
        act, pool_layer = ACTIVATIONS[activation], POOLS[pool]
        super().__init__(
            nn.Conv2d(1, 6, 5, padding=pad, input_grad=False, **kw),
            act(),
            pool_layer(2),
            nn.Conv2d(6, 16, 5, **kw),
            act(),
            pool_layer(2),
            nn.Conv2d(16, 120, s4, **kw),
            act(),
            nn.Flatten(),
            nn.Linear(120, 84, **kw),
            act(),
            nn.Linear(84, n_classes, **kw),
        )
        self.activation, self.pool, self.in_size = activation, pool, in_size


class LeNet5Caffe(Classifier):
    """Caffe's "LeNet" (the network Han et al. prune and call LeNet-5), 431,080 parameters:

    conv 20@5x5 -> max-pool 2 -> conv 50@5x5 -> max-pool 2 -> fc 500 -> ReLU -> fc 10

    Wider than the 1998 network (20 and 50 filters, 500 hidden units); as in Caffe's example,
    only the 500-unit layer has a non-linearity (max-pooling already is one).
    """

    def __init__(self, *, n_classes=10, weight_init="xavier", rng=None, dtype="float32", xp=np):
        rng = np.random.default_rng(rng)  # one generator for every layer, drawn in order
        kw = dict(weight_init=weight_init, rng=rng, dtype=dtype, xp=xp)
        super().__init__(
            nn.Conv2d(1, 20, 5, input_grad=False, **kw),
            nn.MaxPool2d(2),
            nn.Conv2d(20, 50, 5, **kw),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(800, 500, **kw),
            nn.ReLU(),
            nn.Linear(500, n_classes, **kw),
        )
