"""Lesson 02's exercises (02.sigmoid_backward, 02.linear_backward):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def sigmoid_backward(x, dout):
    y = 1 / (1 + np.exp(-x))
    return dout * y * (1 - y)


def linear_backward(x, W, dout):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


# The inputs each answer is checked on: small and awkward ones first.


def _sigmoid_cases(rng):
    return [(normal(rng, *s), normal(rng, *s)) for s in [(1,), (3, 5), (2, 3, 4)]]


def _linear_cases(rng):
    out = []
    for n, d, m in [(1, 3, 2), (5, 4, 3), (7, 1, 6)]:
        out.append((normal(rng, n, d), normal(rng, d, m), normal(rng, n, m)))
    return out


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


EXERCISES = [
    Exercise(
        "02.sigmoid_backward",
        "dL/dx of y = sigmoid(x), given dout = dL/dy",
        _sigmoid_cases,
        hint="the derivative of sigmoid is y (1 - y) with y = sigmoid(x), multiplied "
        "element-wise by dout (not a matrix product)",
        gradient=_sigmoid,
        mistake=(lambda x, d: d * _sigmoid(x)),
        mistake_says="numeric gradient",
    ),
    Exercise(
        "02.linear_backward",
        "dx, dW, db of y = x W + b, given dout = dL/dy",
        _linear_cases,
        hint="match the shapes: dx = dout W^T has x's shape, dW = x^T dout has W's, db sums "
        "dout over the batch (axis 0)",
        mistake=(lambda x, W, d: (d @ W.T, x.T @ d, d.sum(axis=1))),
        mistake_says="shape",
    ),
]
