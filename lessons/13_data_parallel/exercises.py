"""Lesson 13's exercises (13.strom_step, 13.average_parameters, 13.ring_allreduce):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.distributed import ring
from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def strom_step(residual, grad, tau):
    r = residual + grad
    sent = np.where(np.abs(r) >= tau, tau * np.sign(r), 0.0)
    return sent, r - sent


def average_parameters(params):
    return np.mean(np.stack(params), axis=0)


def ring_allreduce(vectors):
    return ring.ring_allreduce(vectors)[0]


# The inputs each answer is checked on: small and awkward ones first.


def _strom_cases(rng):
    return [
        (0.1 * normal(rng, *shape), 0.1 * normal(rng, *shape), tau)
        for shape, tau in [((1,), 0.01), ((4, 5), 0.1), ((50,), 0.2)]
    ]


def _averaging_cases(rng):
    return [
        ([normal(rng, 3)],),
        ([normal(rng, 2, 3) for _ in range(2)],),
        ([normal(rng, 7) for _ in range(4)],),
    ]


def _ring_cases(rng):
    return [
        ([normal(rng, n) for _ in range(workers)],)
        for workers, n in [(1, 3), (2, 5), (3, 7), (5, 12)]
    ]


EXERCISES = [
    Exercise(
        "13.strom_step",
        "One threshold-quantisation step: (sent, new residual) from residual, gradient, tau",
        _strom_cases,
        hint="r = residual + grad; sent is tau * sign(r) where |r| >= tau, 0 elsewhere (tau, "
        "not r itself); the new residual is r - sent",
        # a typical mistake: no overlap
        mistake=(
            lambda res, g, tau: (
                np.where(np.abs(res + g) >= tau, res + g, 0.0),
                res + g - np.where(np.abs(res + g) >= tau, res + g, 0.0),
            )
        ),
    ),
    Exercise(
        "13.average_parameters",
        "Parameter averaging: the element-wise mean of the workers' parameter vectors",
        _averaging_cases,
        hint="np.mean(np.stack(params), axis=0): the mean over workers, element by element, "
        "not the sum and not the mean over elements",
        mistake=(lambda params: np.sum(np.stack(params), axis=0)),
    ),
    Exercise(
        "13.ring_allreduce",
        "Ring all-reduce: reduce-scatter then all-gather; every worker ends with the sum",
        _ring_cases,
        hint="cut each vector into N chunks (np.array_split of the indices); in step s of the "
        "reduce-scatter worker i sends chunk i - s to worker i + 1, which adds it; in the "
        "all-gather it sends chunk i + 1 - s, which the receiver copies; take every message of a "
        "step before applying any; the sum, not the mean",
        mistake=(lambda vectors: [np.mean(vectors, axis=0) for _ in vectors]),
    ),
]
