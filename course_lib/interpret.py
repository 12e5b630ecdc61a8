"""Looking inside a classifier: which parts of the input its answer depends on.

    heat = interpret.occlusion(model, x, target, patch=6, stride=2)   # (N, H', W')

Occlusion sensitivity (Zeiler & Fergus 2014): cover one patch of the image with a constant
(``fill``), and measure how much the probability of the ``target`` class drops; slide the patch
over the image.  A large drop means the network relied on what was under the patch.  It needs
nothing but forward passes, so it works on any model, and its answer is easy to check on a
synthetic image whose deciding region is known.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.nn import softmax


def occlusion(model, x, target, *, patch: int = 6, stride: int = 2, fill: float = 0.0):
    """Drop in p(target) when a ``patch`` x ``patch`` square at each position (every ``stride``
    pixels) is set to ``fill``; x (N, C, H, W), target (N,) -> (N, H', W') NumPy array."""
    if x.ndim != 4:
        raise ValueError(f"occlusion needs images (N, C, H, W), got shape {tuple(x.shape)}")
    xp, n, _, h, w = get_array_module(x), x.shape[0], *x.shape[1:]
    rows = np.arange(0, h - patch + 1, stride)
    cols = np.arange(0, w - patch + 1, stride)
    target = xp.asarray(target)
    base = softmax(model.predict(x))[xp.arange(n), target]
    heat = np.zeros((n, len(rows), len(cols)), dtype=np.float32)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            covered = x.copy()
            covered[:, :, r : r + patch, c : c + patch] = fill
            p = softmax(model.predict(covered))[xp.arange(n), target]
            heat[:, i, j] = asnumpy(base - p)
    return heat
