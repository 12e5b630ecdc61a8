"""Transfer learning: reuse a network trained on one task for another.

    feats = transfer.features(model, x, upto=-1)    # the layers before the head, in eval mode
    svm = LinearSVC().fit(feats, y)                 # (a) frozen features + a classic classifier
    net = transfer.new_head(model, n_classes=5)     # (b) fine-tuning: copy, replace the head
    idx = transfer.per_class(labels, 10, rng=0)     # a labelled set of 10 examples per class

The two ways seed 004 names: use the trained network as a *feature extractor* (its hidden
layers' output feeds another classifier), or *fine-tune* it (its weights are the starting point
for training on the new data).  Both copy nothing from the new task into the old network: the
original stays as it was.
"""

from __future__ import annotations

import copy

import numpy as np

from course_lib import nn
from course_lib.backend import asnumpy, get_array_module
from course_lib.models.classifier import Classifier


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


def new_head(model, n_classes: int, *, upto: int = -1, rng=None) -> Classifier:
    """A copy of ``model.layers[:upto]`` (weights included) topped with a fresh Linear layer to
    ``n_classes`` scores: the network to fine-tune.  The original is left untouched."""
    body = copy.deepcopy(model.layers[:upto])
    last = model.layers[upto] if upto != 0 else None
    if not isinstance(last, nn.Linear):
        raise ValueError(f"layer {upto} of the model is {type(last).__name__}, not the Linear "
                         "head to replace: pass upto= the head's index")  # fmt: skip
    n_in = last.W.shape[0]
    xp = get_array_module(last.W)
    head = nn.Linear(n_in, n_classes, rng=rng, dtype=last.W.dtype, xp=xp)
    return Classifier(*body, head)


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
