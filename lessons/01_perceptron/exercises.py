"""Lesson 01's exercises (01.perceptron_update, 01.mistake_bound):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def perceptron_update(w, b, x, y, lr):
    """Rosenblatt's rule; returns new (w, b)."""
    if y * (w @ x + b) <= 0:
        return w + lr * y * x, b + lr * y
    return w.copy(), b


def mistake_bound(X, y, w):
    R = np.linalg.norm(X, axis=1).max()
    gamma = (y * (X @ w)).min() / np.linalg.norm(w)
    return (R / gamma) ** 2


# The inputs each answer is checked on: small and awkward ones first.


def _perceptron_cases(rng):
    out = []
    for d in (2, 3, 5):
        w, x = normal(rng, d), normal(rng, d)
        b = float(rng.standard_normal())
        for y in (1, -1):  # one case that is a mistake, one that may not be
            out.append((w, b, x, y, 0.5))
    return out


def _bound_cases(rng):
    out = []
    for n, d in [(4, 2), (20, 3), (7, 5)]:
        w = normal(rng, d)
        X = normal(rng, n, d)
        y = np.where(X @ w > 0, 1.0, -1.0)
        out.append((X, y, w))
    return out


EXERCISES = [
    Exercise(
        "01.perceptron_update",
        "Rosenblatt's rule: if sign(w.x + b) != y, w += lr y x and b += lr y",
        _perceptron_cases,
        hint="only a mistake changes anything; a point on the boundary (w.x + b = 0) counts "
        "as a mistake; return new w and b rather than changing the ones you were given",
        mistake=(lambda w, b, x, y, lr: (w + lr * y * x, b + lr * y)),
    ),
    Exercise(
        "01.mistake_bound",
        "Novikoff's bound (R / gamma)^2 for data X, labels y and a separating w",
        _bound_cases,
        hint="R is the largest norm of a row of X; gamma is the smallest margin y_i (w.x_i) / "
        "|w| (divide by the norm of w, so that scaling w changes nothing)",
        mistake=(lambda X, y, w: (np.linalg.norm(X, axis=1).max() / (y * (X @ w)).min()) ** 2),
    ),
]
