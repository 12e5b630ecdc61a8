"""Lesson 17's exercises (17.rank_k_error, 17.neighbour_agreement):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def rank_k_error(X, k):
    s = np.linalg.svd(X, compute_uv=False)
    return (s[k:] ** 2).sum()


def neighbour_agreement(codes, labels):
    d = ((codes[:, None] - codes[None]) ** 2).sum(axis=-1)
    np.fill_diagonal(d, np.inf)
    return (labels[d.argmin(axis=1)] == labels).mean()


# The inputs each answer is checked on: small and awkward ones first.


def _rank_cases(rng):
    return [
        (normal(rng, 1, 1), 1),
        (normal(rng, 5, 3), 1),
        (rng.random((9, 7)), 2),
        (rng.random((6, 11)), 4),
    ]


def _neighbour_cases(rng):
    out = [(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0, 1]))]
    for n, k in [(5, 2), (40, 3)]:
        labels = rng.integers(0, k, n)
        out.append((normal(rng, n, 2) + labels[:, None], labels))
    return out


EXERCISES = [
    Exercise(
        "17.rank_k_error",
        "LSA's loss: the squared error ||X - X_k||^2 of the best rank-k approximation of X",
        _rank_cases,
        hint="np.linalg.svd(X, compute_uv=False) gives the singular values s (largest "
        "first); the best rank-k approximation keeps the first k, so the error is the sum "
        "of the squares of the others (Eckart-Young)",
        # a typical mistake: the norm, not its square
        mistake=(lambda X, k: np.sqrt((np.linalg.svd(X, compute_uv=False)[k:] ** 2).sum())),
    ),
    Exercise(
        "17.neighbour_agreement",
        "A map's score: the fraction of points whose nearest other point has their label",
        _neighbour_cases,
        hint="squared distances (N, N) by broadcasting; put np.inf on the diagonal so that "
        "a point is not its own neighbour; compare labels[argmin] with labels",
        # a typical mistake: every point is its own nearest neighbour
        mistake=(
            lambda codes, labels: (
                labels[((codes[:, None] - codes[None]) ** 2).sum(-1).argmin(1)] == labels
            ).mean()
        ),
    ),
]
