"""Lesson 16's exercises (16.fit_standardize, 16.lime_weights):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def fit_standardize(x):
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 0, std, 1.0)


def lime_weights(removed, width):
    return np.exp(-(removed**2) / width**2)


# The inputs each answer is checked on: small and awkward ones first.


def _standardize_cases(rng):
    x = normal(rng, 6, 4)
    x[:, 2] = 3.0  # a constant feature
    return [(normal(rng, 2, 1),), (x,), (normal(rng, 30, 7),)]


def _lime_cases(rng):
    return [(np.array([0.0]), 0.25), (rng.random(10), 0.25), (rng.random(50), 0.5)]


EXERCISES = [
    Exercise(
        "16.fit_standardize",
        "A standardiser's statistics: (mean, std) per feature, a zero std replaced by 1",
        _standardize_cases,
        hint="mean and std over axis 0 (the examples), NumPy's population std; "
        "np.where(std > 0, std, 1.0) so that a constant feature is left unscaled",
        mistake=(lambda x: (x.mean(axis=0), x.std(axis=0))),
    ),
    Exercise(
        "16.lime_weights",
        "LIME's sample weights: exp(-removed^2 / width^2)",
        _lime_cases,
        hint="an exponential kernel on the distance from the original image: "
        "np.exp(-removed ** 2 / width ** 2), 1 for the image itself",
        mistake=(lambda removed, width: np.exp(-removed / width)),
    ),
]
