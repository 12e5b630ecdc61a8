"""What stacked linear layers can and cannot do: they collapse to one layer, so they classify
no better than a single straight line.

Layers ``h_k = h_{k-1} W_k + b_k`` compose to ``y = x W + b`` with::

    W = W_1 W_2 ... W_K        b = (...((b_1 W_2 + b_2) W_3 + b_3) ...) W_K + b_K

:func:`collapse` computes that one layer; :func:`best_line_accuracy` measures the ceiling it
implies for two-dimensional points: the best accuracy of any rule ``[x u > t]`` (or its
opposite), searched over a fine grid of directions ``u`` and every threshold ``t``.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy


def collapse(layers) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` of the single layer equal to ``layers`` (objects with ``W`` and ``b``), applied
    in order; anything without weights between them (an activation) is an error."""
    layers = list(layers)
    if not layers:
        raise ValueError("collapse needs at least one layer")
    for i, layer in enumerate(layers):
        if not (hasattr(layer, "W") and hasattr(layer, "b")):
            raise ValueError(
                f"layer {i} ({type(layer).__name__}) is not linear: only a stack of linear "
                "layers collapses to one"
            )
    W, b = asnumpy(layers[0].W), asnumpy(layers[0].b)
    for layer in layers[1:]:
        Wk = asnumpy(layer.W)
        if W.shape[1] != Wk.shape[0]:
            raise ValueError(f"layer shapes do not chain: {W.shape[1]} outputs into {Wk.shape}")
        W, b = W @ Wk, b @ Wk + asnumpy(layer.b)
    return W, b


def best_line_accuracy(x, y, n_directions: int = 720) -> float:
    """The highest accuracy of any straight-line rule on 2-D points ``x (N, 2)`` with labels
    ``y`` in {0, 1}: over ``n_directions`` directions spread over a half turn (both sides of each
    line are tried), every threshold between two projected points."""
    x = np.asarray(asnumpy(x), dtype=np.float64)
    y = np.asarray(asnumpy(y)).ravel()
    if x.ndim != 2 or x.shape[1] != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need points (N, 2) and N labels, got {x.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    angles = np.linspace(0, np.pi, n_directions, endpoint=False)
    projections = x @ np.stack([np.cos(angles), np.sin(angles)])  # (N, n_directions)
    ones = y[np.argsort(projections, axis=0, kind="stable")]  # labels in projected order
    # predicting 1 above the k lowest points: right = zeros among them + ones above them
    zeros_below = np.cumsum(1 - ones, axis=0)
    ones_above = ones.sum(axis=0) - np.cumsum(ones, axis=0)
    right = np.vstack([np.full((1, n_directions), ones.sum(axis=0)), zeros_below + ones_above])
    best = np.maximum(right, len(y) - right).max()  # either side of the line may say 1
    return float(best / len(y))
