"""Lesson 07's exercises (07.relu_backward, 07.local_response_norm):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def relu_backward(x, dout):
    return (x > 0) * dout


def local_response_norm(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    squares = np.zeros_like(a)
    for i in range(a.shape[1]):
        lo, hi = max(0, i - n // 2), min(a.shape[1] - 1, i + n // 2)
        squares[:, i] = (a[:, lo : hi + 1] ** 2).sum(axis=1)
    return a / (k + alpha * squares) ** beta


# The inputs each answer is checked on: small and awkward ones first.


def _relu_cases(rng):
    return [(normal(rng, *s), normal(rng, *s)) for s in [(1,), (4, 3), (2, 3, 2, 2)]]


def _lrn_cases(rng):
    return [(30 * normal(rng, *s),) for s in [(1, 1, 2, 2), (2, 7, 3, 3), (1, 3, 1, 4)]]


EXERCISES = [
    Exercise(
        "07.relu_backward",
        "dL/dx of y = max(0, x), given dout: the kernel seed 001 got wrong",
        _relu_cases,
        hint="the derivative is (x > 0) times dout, element by element: check that dout is "
        "multiplied in, not added, and that negative inputs pass nothing back",
        gradient=lambda x: np.maximum(0, x),
        mistake=(lambda x, d: np.where(x >= 0, 1.0, 0 * d)),
        mistake_says="numeric gradient",
    ),
    Exercise(
        "07.local_response_norm",
        "AlexNet's local response normalisation (k=2, n=5, alpha=1e-4, beta=0.75)",
        _lrn_cases,
        hint="b[:, i] = a[:, i] / (k + alpha * sum of a[:, j]**2 over j from max(0, i-2) to "
        "min(C-1, i+2))**beta: the sum runs over neighbouring maps (axis 1), includes map i "
        "itself, and alpha is not divided by n",
        mistake=(lambda a: local_response_norm(a, alpha=1e-4 / 5)),
    ),
]
