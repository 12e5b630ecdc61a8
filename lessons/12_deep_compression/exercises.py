"""Lesson 12's exercises (12.magnitude_prune, 12.grouped_gradient, 12.quantize_int8):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def magnitude_prune(w, keep):
    n_keep = max(1, round(keep * w.size))
    mask = np.zeros(w.size, dtype=w.dtype)
    mask[np.argsort(np.abs(w).ravel())[w.size - n_keep :]] = 1
    return mask.reshape(w.shape)


def grouped_gradient(dW, index, keep, k):
    return np.bincount(index[keep], weights=dW[keep], minlength=k)


def quantize_int8(W):
    scale = (np.abs(W).max(axis=0, keepdims=True) / 127).astype(np.float32)
    scale[scale == 0] = 1  # an all-zero column: any scale gives q = 0
    return np.clip(np.rint(W / scale), -127, 127).astype(np.int8), scale


# The inputs each answer is checked on: small and awkward ones first.


def _prune_cases(rng):
    return [
        (normal(rng, *shape), keep)
        for shape, keep in [((1, 1), 0.5), ((3, 5), 0.4), ((7,), 1.0), ((4, 4, 3), 0.1)]
    ]


def _grouped_cases(rng):
    out = []
    for shape, k in [((1, 1), 1), ((3, 5), 4), ((6, 2, 3), 8)]:
        index, keep = rng.integers(0, k, shape), rng.random(shape) < 0.6
        out.append((normal(rng, *shape), index, keep, k))
    return out


def _quantize_cases(rng):
    zero_column = normal(rng, 4, 3).astype(np.float32)
    zero_column[:, 1] = 0
    sizes = [(1, 1), (5, 2), (17, 9)]
    return [(normal(rng, *shape).astype(np.float32),) for shape in sizes] + [(zero_column,)]


def _per_tensor(W):  # a typical mistake: one scale for the whole layer, not one per column
    scale = np.full((1, W.shape[1]), np.abs(W).max() / 127, dtype=np.float32)
    return np.rint(W / scale).astype(np.int8), scale


EXERCISES = [
    Exercise(
        "12.magnitude_prune",
        "A pruning mask: 1 on the round(keep * size) weights largest in magnitude, 0 elsewhere",
        _prune_cases,
        hint="rank by |w|, not by w (large negative weights matter as much as large positive "
        "ones); keep at least one weight; the mask has w's shape and dtype",
        # a typical mistake: ranks by w, not |w|
        mistake=(
            lambda w, keep: (w >= np.sort(w.ravel())[w.size - max(1, round(keep * w.size))]).astype(
                w.dtype
            )
        ),
    ),
    Exercise(
        "12.grouped_gradient",
        "The gradient of k shared centroids: dW summed over the kept weights of each cluster",
        _grouped_cases,
        hint="np.bincount(index[keep], weights=dW[keep], minlength=k): pruned weights "
        "(keep False) add nothing, and a cluster with no weights gets 0",
        any_number_type=True,  # bincount of nothing is an integer zero,
        # a typical mistake: counts the pruned weights too
        mistake=(lambda dW, index, keep, k: np.bincount(index.ravel(), dW.ravel(), minlength=k)),
    ),
    Exercise(
        "12.quantize_int8",
        "Symmetric int8 quantisation, one scale per column: W ~ scale * q",
        _quantize_cases,
        hint="scale = max |W| of each column / 127, shaped (1, n_out) (keepdims=True); q = "
        "np.rint(W / scale) as np.int8; an all-zero column needs a scale that is not 0 (use 1)",
        mistake=_per_tensor,
    ),
]
