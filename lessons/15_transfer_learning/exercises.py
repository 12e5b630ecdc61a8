"""Lesson 15's exercises (15.first_per_class, 15.nearest_mean, 15.layer_rates):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def first_per_class(labels, n):
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:n] for c in np.unique(labels)]))


def nearest_mean(f, labels, g):
    classes = np.unique(labels)
    means = np.stack([f[labels == c].mean(axis=0) for c in classes])
    return classes[((g[:, None] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)]


def layer_rates(lr, decay, n_layers):
    return lr * decay ** np.arange(n_layers - 1, -1, -1, dtype=np.float64)


# The inputs each answer is checked on: small and awkward ones first.


def _per_class_cases(rng):
    return [(np.array([0]), 1), (rng.integers(0, 3, 20), 2), (rng.integers(0, 5, 60), 4)]


def _nearest_mean_cases(rng):
    out = []
    for n, d, m, k in [(2, 1, 1, 2), (12, 3, 5, 3), (30, 4, 9, 4)]:
        labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        out.append((normal(rng, n, d) + labels[:, None], labels, normal(rng, m, d)))
    return out


def _layer_rates_cases(rng):
    return [(0.01, 0.5, 1), (0.1, 0.3, 5), (1.0, 1.0, 3), (0.05, 0.0, 4), (rng.random(), 0.7, 6)]


EXERCISES = [
    Exercise(
        "15.first_per_class",
        "Sorted indices of the first n examples of every class",
        _per_class_cases,
        hint="for each class in np.unique(labels): np.flatnonzero(labels == c)[:n]; "
        "concatenate all classes' indices, then sort them",
        # a typical mistake: forgets to sort across classes
        mistake=(
            lambda labels, n: np.concatenate(
                [np.flatnonzero(labels == c)[:n] for c in np.unique(labels)[::-1]]
            )
        ),
    ),
    Exercise(
        "15.nearest_mean",
        "Classify feature vectors by the nearest class mean (Euclidean)",
        _nearest_mean_cases,
        hint="means (K, D) from the training rows of each class; distances (M, K) by "
        "broadcasting g[:, None] - means[None]; return the classes (not the positions) "
        "at the argmin",
        # a typical mistake: nearest training row instead of class mean
        mistake=(
            lambda f, labels, g: labels[((g[:, None] - f[None]) ** 2).sum(axis=-1).argmin(axis=1)]
        ),
    ),
    Exercise(
        "15.layer_rates",
        "Per-layer learning rates for fine-tuning: lr * decay**k, k counted from the head",
        _layer_rates_cases,
        hint="layer i of n (bottom first) is n - 1 - i layers below the head: "
        "lr * decay ** np.arange(n - 1, -1, -1), as floats",
        # a typical mistake: counts from the bottom, so the general first layer learns fastest
        mistake=lambda lr, decay, n: lr * decay ** np.arange(n, dtype=np.float64),
    ),
]
