"""Lesson 14's exercises (14.receptive_field, 14.residual_forward):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def receptive_field(kernels, strides):
    field, jump = 1, 1
    for k, s in zip(kernels, strides):
        field, jump = field + (k - 1) * jump, jump * s
    return field


def residual_forward(x, W1, b1, W2, b2):
    return np.maximum(x + np.maximum(x @ W1 + b1, 0) @ W2 + b2, 0)


# The inputs each answer is checked on: small and awkward ones first.


def _field_cases(rng):
    return [
        ([3], [1]),
        ([3, 3], [1, 1]),
        ([11, 3, 5, 3], [4, 2, 1, 2]),
        ([7, 3, 3, 3], [2, 2, 1, 1]),
    ]


def _residual_cases(rng):
    out = []
    for n, d in [(1, 1), (3, 4), (5, 2)]:
        out.append(
            (
                normal(rng, n, d),
                normal(rng, d, d),
                normal(rng, d),
                normal(rng, d, d),
                normal(rng, d),
            )
        )
    return out


EXERCISES = [
    Exercise(
        "14.receptive_field",
        "The side of the input patch one output of a stack of convolutions sees",
        _field_cases,
        hint="start at 1; layer i adds (k_i - 1) times the product of the strides of the "
        "layers before it (not including its own stride)",
        any_number_type=True,
        mistake=(lambda ks, ss: 1 + sum(k - 1 for k in ks)),
    ),
    Exercise(
        "14.residual_forward",
        "A residual block: relu(x + relu(x W1 + b1) W2 + b2)",
        _residual_cases,
        hint="F(x) = relu(x @ W1 + b1) @ W2 + b2; add x, then apply the outer ReLU",
        # a typical mistake: no outer ReLU
        mistake=(lambda x, W1, b1, W2, b2: x + np.maximum(x @ W1 + b1, 0) @ W2 + b2),
    ),
]
