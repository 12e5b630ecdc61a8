"""Lesson 05's exercises (05.tied_autoencoder, 05.tied_weight_gradient):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def tied_autoencoder(x, W, c, b):
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    return sigmoid(sigmoid(x @ W + c) @ W.T + b)


def tied_weight_gradient(x, h, d_hidden, d_out):
    """x (N, D), h (N, H); d_hidden = dL/d(x W + c) (N, H), d_out = dL/d(h W^T + b) (N, D)."""
    return x.T @ d_hidden + d_out.T @ h


# The inputs each answer is checked on: small and awkward ones first.


def _tied_grad_cases(rng):
    out = []
    for n, d, h in [(1, 3, 2), (5, 4, 6), (2, 7, 1)]:
        out.append((normal(rng, n, d), normal(rng, n, h), normal(rng, n, h), normal(rng, n, d)))
    return out


def _autoencoder_cases(rng):
    out = []
    for n, d, h in [(1, 4, 2), (6, 5, 3), (3, 2, 5)]:
        out.append((rng.random((n, d)), 0.5 * normal(rng, d, h), normal(rng, h), normal(rng, d)))
    return out


EXERCISES = [
    Exercise(
        "05.tied_autoencoder",
        "A tied-weight autoencoder's reconstruction: sigmoid(sigmoid(x W + c) W^T + b)",
        _autoencoder_cases,
        hint="the decoder uses the encoder's W transposed (no weights of its own), with the "
        "visible bias b; both layers are sigmoid",
        mistake=(lambda x, W, c, b: 1 / (1 + np.exp(-((1 / (1 + np.exp(-(x @ W + c)))) @ W.T)))),
    ),
    Exercise(
        "05.tied_weight_gradient",
        "The gradient of a tied weight: the encoder's part plus the decoder's part",
        _tied_grad_cases,
        hint="W is used twice, h = f(x W + c) and x_hat = g(h W^T + b); its gradient is the "
        "sum of both uses: x^T d_hidden + (h^T d_out)^T, a (D, H) matrix",
        mistake=(lambda x, h, dh, dout: x.T @ dh),
    ),
]
