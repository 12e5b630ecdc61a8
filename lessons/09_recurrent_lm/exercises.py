"""Lesson 09's exercises (09.lstm_step, 09.perplexity_of, 09.clip_by_global_norm):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def lstm_step(x, h, c, Wx, Wh, b):
    H = h.shape[1]
    s = x @ Wx + h @ Wh + b
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, o, g = (
        sig(s[:, :H]),
        sig(s[:, H : 2 * H]),
        sig(s[:, 3 * H :]),
        np.tanh(s[:, 2 * H : 3 * H]),
    )
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


def perplexity_of(p):
    return np.exp(-np.log(p).mean())


def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads]


# The inputs each answer is checked on: small and awkward ones first.


def _lstm_cases(rng):
    out = []
    for n, d, h in [(1, 1, 1), (3, 4, 5), (2, 3, 2)]:
        x, hh, c = normal(rng, n, d), normal(rng, n, h), normal(rng, n, h)
        out.append((x, hh, c, normal(rng, d, 4 * h), normal(rng, h, 4 * h), normal(rng, 4 * h)))
    return out


def _probability_cases(rng):
    return [(np.array([0.01]),), (rng.random(10) * 0.9 + 0.05,), (rng.random((3, 4)) * 0.5 + 0.01,)]


def _clip_cases(rng):
    return [
        ([normal(rng, 3)], 0.5),
        ([normal(rng, 2, 3), normal(rng, 4)], 100.0),
        ([10 * normal(rng, 5, 5), normal(rng, 1), 0.1 * normal(rng, 2, 2)], 1.0),
    ]


EXERCISES = [
    Exercise(
        "09.lstm_step",
        "One LSTM step: (h_next, c_next) from x, h, c and Wx, Wh, b (gates i, f, g, o)",
        _lstm_cases,
        hint="s = x @ Wx + h @ Wh + b, four blocks of H columns in the order i, f, g, o; "
        "sigmoid for i, f, o and tanh for g; c_next = f * c + i * g, h_next = o * tanh(c_next)",
        mistake=(lambda x, h, c, Wx, Wh, b: lstm_step(x, h, c, Wx[:, ::-1], Wh[:, ::-1], b)),
    ),
    Exercise(
        "09.perplexity_of",
        "Perplexity from the probabilities given to the true next tokens",
        _probability_cases,
        hint="exp of minus the mean log-probability: the geometric mean of 1/p, not 1 over "
        "the arithmetic mean of p; a model that always gives 1/100 has perplexity 100",
        mistake=(lambda p: 1 / p.mean()),
    ),
    Exercise(
        "09.clip_by_global_norm",
        "Gradients rescaled so that their norm, all together, is at most max_norm",
        _clip_cases,
        hint="one norm over all the arrays, sqrt(sum of every squared entry); when it exceeds "
        "max_norm multiply every array by max_norm / norm, otherwise return them unchanged",
        mistake=(lambda grads, m: [g * min(1.0, m / np.linalg.norm(g)) for g in grads]),
    ),
]
