"""Lesson 12's exercises (12.magnitude_prune, 12.grouped_gradient):
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
        # a typical mistake: ranks by w, not |w|
        mistake=(lambda dW, index, keep, k: np.bincount(index.ravel(), dW.ravel(), minlength=k)),
    ),
]
