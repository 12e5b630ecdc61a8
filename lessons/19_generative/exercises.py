"""Lesson 19's exercises (19.reparameterise, 19.kl_to_standard_normal, 19.frechet_1d): the
reference answers, the inputs each answer is checked on, and a typical mistake the check must
catch."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def reparameterise(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps: a draw from N(mu, exp(logvar)) that gradients can pass."""
    return mu + np.exp(0.5 * logvar) * eps


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per row: -1/2 sum(1 + logvar - mu^2 - exp(logvar))."""
    return -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar), axis=-1)


def frechet_1d(m1, v1, m2, v2):
    """(m1 - m2)^2 + v1 + v2 - 2 sqrt(v1 v2): the Fréchet distance of two 1-D Gaussians."""
    return (m1 - m2) ** 2 + v1 + v2 - 2 * np.sqrt(v1 * v2)


# The inputs each answer is checked on: small and awkward ones first.


def _reparam_cases(rng):
    return [tuple(normal(rng, *s) for _ in range(3)) for s in [(1, 1), (4, 3), (2, 20)]]


def _kl_cases(rng):
    return [(normal(rng, *s), 0.5 * normal(rng, *s)) for s in [(1, 1), (5, 2), (3, 20)]]


def _frechet_cases(rng):
    return [
        (normal(rng, n), np.exp(normal(rng, n)), normal(rng, n), np.exp(normal(rng, n)))
        for n in (1, 4, 9)
    ]


EXERCISES = [
    Exercise(
        "19.reparameterise",
        "z = mu + sigma * eps with sigma = exp(logvar / 2)",
        _reparam_cases,
        hint="logvar is log sigma^2, so sigma = exp(logvar / 2), not exp(logvar)",
        mistake=(lambda mu, logvar, eps: mu + np.exp(logvar) * eps),
    ),
    Exercise(
        "19.kl_to_standard_normal",
        "KL(N(mu, sigma^2) || N(0, I)) for each row, in closed form",
        _kl_cases,
        hint="-1/2 sum over the last axis of (1 + logvar - mu^2 - exp(logvar)); one number per row",
        mistake=(lambda mu, logvar: -0.5 * np.sum(1 + logvar - mu**2 - logvar, axis=-1)),
    ),
    Exercise(
        "19.frechet_1d",
        "The Fréchet distance between N(m1, v1) and N(m2, v2) in one dimension",
        _frechet_cases,
        hint="(m1 - m2)^2 + v1 + v2 - 2 sqrt(v1 v2): the 1-D case of |mu1 - mu2|^2 + "
        "Tr(S1 + S2 - 2 (S1 S2)^(1/2))",
        mistake=(lambda m1, v1, m2, v2: (m1 - m2) ** 2 + v1 + v2 - 2 * v1 * v2),
    ),
]
