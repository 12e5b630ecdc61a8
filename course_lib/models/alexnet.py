"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) and the seed talk's smaller network.

The paper's network, with its two GPU towers merged into one (about 61M parameters)::

    conv1 96 @ 11x11 stride 4 -> ReLU -> LRN -> max pool 3x3 stride 2   (227x227 input -> 27x27)
    conv2 256 @ 5x5 pad 2     -> ReLU -> LRN -> max pool 3x3 stride 2   (-> 13x13)
    conv3 384 @ 3x3 pad 1 -> ReLU;  conv4 384 @ 3x3 pad 1 -> ReLU
    conv5 256 @ 3x3 pad 1     -> ReLU -> max pool 3x3 stride 2          (-> 6x6)
    fc6 4096 -> ReLU -> dropout 0.5;  fc7 4096 -> ReLU -> dropout 0.5;  fc8: one score per class

The paper says 224x224; 227 makes the stride-4 arithmetic come out exact.  ``in_size`` below 64
(MNIST's 28, CIFAR's 32) replaces conv1 by 5x5 filters at stride 1 (a stride-4 11x11 filter would
leave almost nothing of a 28x28 image); the rest of the structure stays.  ``width`` scales every
filter count and hidden layer.  The paper's ablations are switches: ``activation`` ("relu" or
"tanh"), ``lrn``, ``overlap`` (3x3 stride-2 pooling, or 2x2 stride 2), ``dropout``.
``order="CNP"`` normalises before pooling as the paper does; ``"CPN"`` pools first, as the seed
talk's slide (and Caffe's reference model) does.

:meth:`AlexNet.init_paper` gives the paper's initialisation: every weight from N(0, 0.01^2), the
biases of conv2, conv4, conv5 and the hidden fully connected layers 1, the others 0.
"""

from __future__ import annotations

import numpy as np

from course_lib import nn
from course_lib.backend import get_array_module
from course_lib.models.classifier import Classifier
from course_lib.models.lenet import out_size

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
PAPER_CONVS = [  # (filters, kernel, stride, padding, LRN and pooling after it)
    (96, 11, 4, 0, True),
    (256, 5, 1, 2, True),
    (384, 3, 1, 1, False),
    (384, 3, 1, 1, False),
    (256, 3, 1, 1, "pool"),
]
ONE_BIASES = (1, 3, 4)  # conv2, conv4, conv5 (counted from 0): the paper's biases of 1


class ConvNet(Classifier):
    """Convolution blocks, then fully connected layers with dropout: the AlexNet family.

    ``convs`` lists ``(filters, kernel, stride, padding, after)`` with ``after`` True for
    LRN + pooling, ``"pool"`` for pooling alone, False for nothing; ``hidden`` the fully connected
    hidden sizes.  ``weight_init`` is any :func:`course_lib.init.make` spec ("he", "xavier", a
    sigma); :meth:`init_paper` overwrites it with the paper's scheme.
    """

    def __init__(
        self,
        convs,
        hidden,
        *,
        in_channels=3,
        in_size=227,
        n_classes=1000,
        activation="relu",
        lrn=True,
        overlap=True,
        dropout=0.5,
        order="CNP",
        weight_init="he",
        rng=None,
        dtype="float32",
        xp=np,
    ):
        if activation not in ACTIVATIONS or order not in ("CNP", "CPN"):
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} and order 'CNP' "
                f"or 'CPN', got {activation!r} and {order!r}"
            )
        rng = np.random.default_rng(rng)
        self.kw = dict(weight_init=weight_init, rng=rng, dtype=dtype, xp=xp)
        self.act, self.order = ACTIVATIONS[activation], order
        self.pool = (3, 2) if overlap else (2, 2)
        layers, channels, size = [], in_channels, in_size
        for i, (filters, kernel, stride, pad, after) in enumerate(convs):
            conv = nn.Conv2d(channels, filters, kernel, stride, pad, input_grad=i > 0, **self.kw)
            size = out_size(size, kernel, stride, pad)
            layers += [conv, self.act()] + self._after(after is True and lrn, bool(after))
            size = out_size(size, *self.pool) if after else size
            channels = filters
        if size < 1:
            raise ValueError(f"a {in_size}x{in_size} input leaves nothing after the convolutions")
        layers.append(nn.Flatten())
        features = channels * size * size
        for units in hidden:
            layers += [nn.Linear(features, units, **self.kw), self.act(), nn.Dropout(dropout, rng)]
            features = units
        layers.append(nn.Linear(features, n_classes, **self.kw))
        super().__init__(*layers)
        self.in_channels, self.in_size, self.n_classes = in_channels, in_size, n_classes

    def _after(self, norm: bool, pool: bool) -> list:
        """LRN and/or overlapping max pooling after a convolution, in ``self.order``."""
        blocks = {
            "N": [nn.LocalResponseNorm()] if norm else [],
            "P": [nn.MaxPool2d(*self.pool)] if pool else [],
        }
        return blocks[self.order[1]] + blocks[self.order[2]]

    @property
    def convs(self) -> list:
        return [layer for layer in self.layers if isinstance(layer, nn.Conv2d)]

    @property
    def linears(self) -> list:
        return [layer for layer in self.layers if isinstance(layer, nn.Linear)]

    def init_paper(self, seed: int = 0, one_biases=ONE_BIASES, sigma: float = 0.01):
        """Weights from N(0, sigma^2) (drawn on the host, layer by layer); biases 1 for the convs
        numbered in ``one_biases`` and for the hidden fully connected layers, 0 elsewhere."""
        rng = np.random.default_rng(seed)
        hidden_fc = self.linears[:-1]
        for i, layer in enumerate(self.convs + self.linears):
            xp = get_array_module(layer.W)
            layer.W[...] = xp.asarray(sigma * rng.standard_normal(layer.W.shape))
            layer.b[...] = 1.0 if (i in one_biases or layer in hidden_fc) else 0.0
        return self

    def parameter_count(self) -> int:
        return sum(int(p.size) for p in self.params)


class AlexNet(ConvNet):
    """The paper's AlexNet for ``in_size`` images (227 by default), filters scaled by ``width``."""

    def __init__(self, *, in_channels=3, in_size=227, n_classes=1000, width=1.0, **options):
        def w(n):
            return max(1, round(n * width))

        convs = [(w(f), k, s, p, a) for f, k, s, p, a in PAPER_CONVS]
        if in_size < 64:
            convs[0] = (convs[0][0], 5, 1, 2, True)
        super().__init__(
            convs,
            [w(4096), w(4096)],
            in_channels=in_channels,
            in_size=in_size,
            n_classes=n_classes,
            **options,
        )
        self.width = width


class SeedNet(ConvNet):
    """The seed talk's network, ``C-P-N-C-P-N-F-F``: 48 and 96 filters, 1024 hidden units.

    The talk's slide gives the layer kinds and sizes only ("C:48/96, F:1024/256"); read like its
    AlexNet line ("F:4096/4096/1000", the last being the classes), 256 is the number of classes
    (Caltech-256 has 256), here ``n_classes``.  The kernels are assumed to be AlexNet's first two
    (11x11 stride 4, 5x5 pad 2; 5x5 and 5x5 for inputs below 64 pixels), pooling before LRN as on
    the slide.
    """

    def __init__(self, *, in_channels=3, in_size=227, n_classes=256, **options):
        first = (48, 11, 4, 0, True) if in_size >= 64 else (48, 5, 1, 2, True)
        options.setdefault("order", "CPN")
        super().__init__(
            [first, (96, 5, 1, 2, True)],
            [1024],
            in_channels=in_channels,
            in_size=in_size,
            n_classes=n_classes,
            **options,
        )


def layer_costs(net, in_size: int | None = None) -> list[dict]:
    """One row per layer of ``net`` (a :class:`ConvNet`): its kind, output shape (one image),
    parameters and forward FLOPs (2 x the multiply-adds of a convolution or fully connected layer;
    0 for ReLU, LRN, pooling and dropout, whose cost is small beside them).

    The shapes come from a forward pass of one zero image in eval mode.  For a convolution with
    output (O, H', W') and filters (O, C, kh, kw) the multiply-adds are O H' W' C kh kw.
    """
    size = in_size or net.in_size
    xp = get_array_module(net.params[0])
    x = xp.zeros((1, net.in_channels, size, size), dtype=net.params[0].dtype)
    was_training = net.training
    net.eval()
    rows = []
    for layer in net.layers:
        y = layer.forward(x)
        kind = type(layer).__name__
        params = sum(int(p.size) for p in layer.params)
        if isinstance(layer, nn.Conv2d):
            macs = int(y.size) * int(np.prod(layer.W.shape[1:]))
        elif isinstance(layer, nn.Linear):
            macs = int(np.prod(layer.W.shape))
        else:
            macs = 0
        rows.append(dict(layer=kind, out_shape=list(y.shape[1:]), params=params, flops=2 * macs))
        x = y
    net.train(was_training)
    return rows
