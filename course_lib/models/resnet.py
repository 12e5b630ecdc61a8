"""Plain and residual networks of any depth (He, Zhang, Ren & Sun 2016).

    plain = deep_mlp(depth=20, residual=False)       # 20 weighted layers, no shortcuts
    res = deep_mlp(depth=20, residual=True)          # the same layers, shortcut every 2 layers
    cifar_resnet(n=3)                                # ResNet-20 for 32x32 images (6n + 2 layers)

Depth counts weighted layers (Linear or Conv2d), as the paper does.  A plain and a residual
network of one depth have exactly the same layers and parameters; the residual one adds its input
to every pair of layers' output (:class:`course_lib.nn.Residual`), then applies the ReLU.

The MLP version is for MNIST on a CPU: ``depth - 2`` hidden layers of ``width`` units in pairs,
between an input layer (784 -> width) and the output layer.  The CIFAR version is the paper's
section 4.2 network: a 3x3 convolution with 16 filters, three stages of n blocks with 16, 32 and
64 filters (each block two 3x3 convolutions with batch normalisation), the image halved at the
first block of stages 2 and 3 (stride 2, and a 1x1 convolution with stride 2 as the shortcut:
option B), global average pooling and a 10-way linear layer.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.models.classifier import Classifier


def _block(layers: list, residual: bool, shortcut=None) -> list:
    """Two weighted layers, then the ReLU: inside a Residual, or laid out plainly."""
    if residual:
        return [nn.Residual(*layers, shortcut=shortcut), nn.ReLU()]
    return [*layers, nn.ReLU()]


def deep_mlp(
    depth: int,
    *,
    residual: bool,
    width=64,
    n_in=784,
    n_classes=10,
    batchnorm=True,
    rng=None,
    dtype="float32",
    xp=np,
) -> Classifier:
    """``depth`` Linear layers (even, at least 4): in -> width, (depth - 2) / 2 blocks of two
    width -> width layers, width -> classes."""
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be an even number >= 4 (2 + 2 per block), got {depth}")
    rng = np.random.default_rng(rng)
    kw = dict(weight_init="he", rng=rng, dtype=dtype, xp=xp)

    def norm():
        return [nn.BatchNorm(width, dtype=dtype, xp=xp)] if batchnorm else []

    layers = [nn.Linear(n_in, width, input_grad=False, **kw), *norm(), nn.ReLU()]
    for _ in range((depth - 2) // 2):
        pair = [
            nn.Linear(width, width, **kw),
            *norm(),
            nn.ReLU(),
            nn.Linear(width, width, **kw),
            *norm(),
        ]
        layers += _block(pair, residual)
    return Classifier(*layers, nn.Linear(width, n_classes, **kw))


def cifar_resnet(
    n: int, *, residual: bool = True, in_channels=3, n_classes=10, rng=None, dtype="float32", xp=np
) -> Classifier:
    """The 6n + 2 layer network of He et al., section 4.2 (n = 3: ResNet-20; 9: 56; 18: 110),
    for 32x32 images; ``residual=False`` is the plain network of the same layers."""
    rng = np.random.default_rng(rng)
    kw = dict(weight_init="he", rng=rng, dtype=dtype, xp=xp)

    def conv_bn(c_in, c_out, k, stride):
        return [
            nn.Conv2d(c_in, c_out, k, stride, k // 2, **kw),
            nn.BatchNorm(c_out, dtype=dtype, xp=xp),
        ]

    layers = [*conv_bn(in_channels, 16, 3, 1), nn.ReLU()]
    c_in = 16
    for stage, c_out in enumerate((16, 32, 64)):
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            pair = [*conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out, 3, 1)]
            shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, 2)) if stride == 2 else None
            layers += _block(pair, residual, shortcut)
            c_in = c_out
    layers[0].input_grad = False
    return Classifier(*layers, nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, n_classes, **kw))


def inception(
    c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, *, rng=None, dtype="float32", xp=np
) -> nn.Concat:
    """GoogLeNet's Inception block: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, each
    convolution followed by a ReLU, the four outputs stacked (c1 + c3 + c5 + pool_proj channels).
    Block "3a" of the paper is inception(192, 64, 96, 128, 16, 32, 32)."""
    rng = np.random.default_rng(rng)
    kw = dict(weight_init="he", rng=rng, dtype=dtype, xp=xp)

    def conv(c_i, c_o, k):
        return [nn.Conv2d(c_i, c_o, k, padding=k // 2, **kw), nn.ReLU()]

    return nn.Concat(
        nn.Sequential(*conv(c_in, c1, 1)),
        nn.Sequential(*conv(c_in, c3_reduce, 1), *conv(c3_reduce, c3, 3)),
        nn.Sequential(*conv(c_in, c5_reduce, 1), *conv(c5_reduce, c5, 5)),
        nn.Sequential(nn.MaxPool2d(3, 1, 1), *conv(c_in, pool_proj, 1)),
    )
