"""Transfer learning: reuse a network trained on one task for another.

    feats = transfer.features(model, x, upto=-1)    # the layers before the head, in eval mode
    clf = LogisticRegression().fit(feats, y)        # (a) frozen features + a linear classifier
    top = transfer.new_head(model, 10, start=9)     # (b) fine-tune the top: layers 9.. on the
    fit(top, ..., transfer.features(model, x, upto=9), y)   #  frozen body's output
    net = transfer.new_head(model, 10)              # (c) fine-tune all: copy, replace the head,
    opt = transfer.ScaledMomentum(net.params, net.grads,    #  a learning rate per layer
                                  transfer.layer_scales(net, decay=0.3), lr=0.01)
    idx = transfer.per_class(labels, 10, rng=0)     # a labelled set of 10 examples per class
    transfer.train(net, x[idx], y[idx], lr=0.01, decay=0.3, epochs=30)   # the same, in one call

The two ways seed 004 names: use the trained network as a *feature extractor* (its hidden
layers' output feeds another classifier), or *fine-tune* it (its weights are the starting point
for training on the new data).  Between them lie the per-layer rates: layer k from the top
(the head is k = 0) learns at ``lr * decay**k``, so the general lower layers move least
("discriminative fine-tuning", Howard & Ruder 2018); ``decay = 0`` freezes all but the head,
``decay = 1`` is plain fine-tuning.  Nothing is copied back: the source stays as it was.
"""

from __future__ import annotations

import copy

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module
from course_lib.data.augment import random_affine
from course_lib.models.classifier import Classifier
from course_lib.optim import Momentum
from course_lib.train import fit


def features(model, x, upto: int = -1, batch_size: int = 1000) -> np.ndarray:
    """The output of ``model.layers[:upto]`` for ``x`` (eval mode, in batches), as NumPy."""
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        h = x[i : i + batch_size]
        for layer in model.layers[:upto]:
            h = layer.forward(h)
        out.append(asnumpy(h.reshape(len(h), -1)))
    model.train(was_training)
    return np.concatenate(out)


def new_head(model, n_classes: int, *, upto: int = -1, start: int = 0, rng=None) -> Classifier:
    """A copy of ``model.layers[start:upto]`` (weights included) topped with a fresh Linear
    layer to ``n_classes`` scores: the network to fine-tune (``start > 0``: only its top, fed
    with ``features(model, x, upto=start)``).  The original is left untouched."""
    body = copy.deepcopy(model.layers[start:upto])
    last = model.layers[upto] if upto != 0 else None
    if not isinstance(last, nn.Linear):
        kind = type(last).__name__
        raise ValueError(
            f"layer {upto} of the model is {kind}, not the Linear head to replace: "
            "pass upto= the head's index"
        )
    n_in = last.W.shape[0]
    xp = get_array_module(last.W)
    head = nn.Linear(n_in, n_classes, rng=rng, dtype=last.W.dtype, xp=xp)
    return Classifier(*body, head)


def layer_scales(model, decay: float) -> list[float]:
    """One learning-rate factor per parameter of ``model.params``: ``decay**k`` for every
    parameter of the k-th layer with parameters, counted from the top (the head: k = 0)."""
    if not 0 <= decay <= 1:
        raise ValueError(f"decay must lie in [0, 1], got {decay!r}")
    counts = [len(layer.params) for layer in model.layers if layer.params]
    depth = len(counts)
    return [float(decay ** (depth - 1 - k)) for k, c in enumerate(counts) for _ in range(c)]


class ScaledMomentum(Momentum):
    """Momentum with a factor per parameter: v <- mu v + g;  w <- w - lr * scale_i * v.

    ``lr`` stays one number (a schedule scales every layer alike); a factor of 0 freezes its
    parameter (no state is updated).  With every factor 1 it is :class:`Momentum`.
    """

    def __init__(self, params, grads, scales, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, grads, lr, momentum, weight_decay)
        self.scales = [float(s) for s in scales]
        if len(self.scales) != len(self.params) or min(self.scales, default=0) < 0:
            n, got = len(self.params), len(self.scales)
            raise ValueError(f"give one factor >= 0 per parameter ({n}), got {got}: {self.scales}")

    def update(self, i, w, g):
        if self.scales[i]:
            v = self.v[i]
            v[...] = self.momentum * v + g
            w -= self.lr * self.scales[i] * v


def train(
    net, x, y, *, lr, epochs=1, decay=1.0, distort=False, batch_size=32, weight_decay=5e-4, rng=None
):
    """Train ``net`` in place: softmax cross-entropy, :class:`ScaledMomentum` (mu = 0.9) with
    the factors ``layer_scales(net, decay)``, ``epochs`` passes over ``(x, y)`` in batches of
    ``batch_size`` (at most ``len(x)``); with ``distort`` each pass sees every image under a fresh
    random affine distortion (:func:`~course_lib.data.augment.random_affine`).  Returns ``net``."""
    rng, xp = np.random.default_rng(rng), get_array_module(net.params[0])
    scales = layer_scales(net, decay)
    opt = ScaledMomentum(net.params, net.grads, scales, lr=lr, weight_decay=weight_decay)
    loss, targets, batch = nn.SoftmaxCrossEntropy(), xp.asarray(y), min(batch_size, len(x))
    for _ in range(epochs if distort else 1):  # distortions: a fresh set every epoch
        images = xp.asarray(random_affine(x, rng) if distort else x)
        fit(
            net,
            loss,
            opt,
            images,
            targets,
            epochs=1 if distort else epochs,
            batch_size=batch,
            rng=rng,
            progress="transient",
        )
    return net


def per_class(labels, n: int, rng=None) -> np.ndarray:
    """Indices of ``n`` examples of every class in ``labels`` (sorted; without replacement)."""
    rng, labels = np.random.default_rng(rng), asnumpy(labels)
    picked = []
    for c in np.unique(labels):
        pool = np.flatnonzero(labels == c)
        if len(pool) < n:
            raise ValueError(f"class {c} has {len(pool)} examples, fewer than the {n} asked for")
        picked.append(rng.choice(pool, n, replace=False))
    return np.sort(np.concatenate(picked))
