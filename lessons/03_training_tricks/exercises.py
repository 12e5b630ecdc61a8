"""Lesson 03's exercises (03.momentum_step, 03.adam_step, 03.dropout_forward):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def momentum_step(w, v, grad, lr, mu):
    v = mu * v - lr * grad
    return w + v, v


def adam_step(w, m, v, grad, t, lr, b1, b2, eps):
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def dropout_forward(x, mask, p):
    return x * mask / (1 - p)


# The inputs each answer is checked on: small and awkward ones first.


def _momentum_cases(rng):
    return [
        (normal(rng, *s), normal(rng, *s), normal(rng, *s), 0.1, 0.9)
        for s in [(1,), (3, 4), (2, 2, 3)]
    ]


def _adam_cases(rng):
    out = []
    for shape, t in [((1,), 1), ((3, 4), 2), ((2, 2, 3), 30)]:
        w, m, g = normal(rng, *shape), 0.1 * normal(rng, *shape), normal(rng, *shape)
        v = 0.01 * normal(rng, *shape) ** 2  # a running mean of squares: never negative
        out.append((w, m, v, g, t, 0.01, 0.9, 0.999, 1e-8))
    return out


def _uncorrected_adam(w, m, v, grad, t, lr, b1, b2, eps):
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _dropout_cases(rng):
    out = []
    for shape, p in [((1, 3), 0.5), ((4, 5), 0.2), ((2, 3, 4), 0.8)]:
        out.append((normal(rng, *shape), (rng.random(shape) >= p).astype(float), p))
    return out


EXERCISES = [
    Exercise(
        "03.momentum_step",
        "One step of SGD with momentum: v <- mu v - lr g, then w <- w + v",
        _momentum_cases,
        hint="update the velocity first and move the weights by the new velocity; return new "
        "(w, v) arrays rather than changing the ones you were given",
        # a typical mistake: OR
        mistake=(lambda w, v, g, lr, mu: (w - lr * g, mu * v - lr * g)),
    ),
    Exercise(
        "03.adam_step",
        "One step of Adam: moving averages m of the gradient and v of its square, both corrected "
        "for their zero start, then w <- w - lr m_hat / (sqrt(v_hat) + eps)",
        _adam_cases,
        hint="m <- b1 m + (1 - b1) g and v <- b2 v + (1 - b2) g^2 first; then divide them by "
        "(1 - b1^t) and (1 - b2^t) (t counts from 1) before the step; return the new (w, m, v), "
        "with m and v uncorrected",
        mistake=_uncorrected_adam,
    ),
    Exercise(
        "03.dropout_forward",
        "Inverted dropout at training time: keep the units where mask is 1, scaled by 1/(1-p)",
        _dropout_cases,
        hint="x * mask / (1 - p): dividing by the keep probability makes the expected output "
        "equal to x, so nothing changes at test time",
        mistake=(lambda x, mask, p: x * mask),
    ),
]
