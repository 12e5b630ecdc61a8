"""Lesson 02's exercises (02.sigmoid_backward, 02.linear_backward, 02.softmax_ce_backward):
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


def softmax_ce_backward(z, labels):
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (p - np.eye(z.shape[1])[labels]) / len(z)


# The inputs each answer is checked on: small and awkward ones first.


def _sigmoid_cases(rng):
    return [(normal(rng, *s), normal(rng, *s)) for s in [(1,), (3, 5), (2, 3, 4)]]


def _linear_cases(rng):
    out = []
    for n, d, m in [(1, 3, 2), (5, 4, 3), (7, 1, 6)]:
        out.append((normal(rng, n, d), normal(rng, d, m), normal(rng, n, m)))
    return out


def _softmax_cases(rng):
    out = [(normal(rng, n, c), rng.integers(0, c, size=n)) for n, c in [(1, 2), (4, 10), (7, 3)]]
    big = 50 * normal(rng, 3, 5)  # large scores: exp overflows unless each row is shifted
    return [*out, (big + 700, rng.integers(0, 5, size=3))]


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
    Exercise(
        "02.softmax_ce_backward",
        "dL/dz of the mean softmax cross-entropy, given scores z (N, C) and integer labels",
        _softmax_cases,
        hint="softmax(z) minus the one-hot labels, divided by N; subtract each row's maximum "
        "before np.exp so large scores do not overflow",
        mistake=(lambda z, labels: softmax_ce_backward(z, labels) * len(z)),
    ),
]
