"""Lesson 11's exercises (11.arithmetic_intensity, 11.roofline_time):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise

# The reference answers: what check() compares a learner's answer with.


def arithmetic_intensity(m, n, k, itemsize):
    return 2 * m * n * k / (itemsize * (m * k + k * n + m * n))


def roofline_time(flops, nbytes, peak, bandwidth):
    return np.maximum(flops / peak, nbytes / bandwidth)


# The inputs each answer is checked on: small and awkward ones first.


def _intensity_cases(rng):
    return [(1, 1, 1, 4), (1000, 1, 1000, 8), (64, 128, 256, 2), (7, 5, 3, 4)]


def _roofline_cases(rng):
    flops, nbytes = 10 ** rng.uniform(3, 12, 6), 10 ** rng.uniform(3, 10, 6)
    return [(flops[:1], nbytes[:1], 1e9, 1e8), (flops, nbytes, 5e10, 2e10)]


EXERCISES = [
    Exercise(
        "11.arithmetic_intensity",
        "FLOPs per byte of an (m x k) @ (k x n) product: 2mnk / (itemsize (mk + kn + mn))",
        _intensity_cases,
        hint="count the bytes of both inputs and of the output, each moved once; a "
        "matrix-vector product (n = 1) comes out near 2 / itemsize",
        any_number_type=True,
        # a typical mistake: forgets the output
        mistake=(lambda m, n, k, itemsize: 2 * m * n * k / (itemsize * (m * k + k * n))),
    ),
    Exercise(
        "11.roofline_time",
        "The least time of operations on a machine: max(flops / peak, nbytes / bandwidth)",
        _roofline_cases,
        hint="compute and memory traffic overlap, so the slower of the two sets the time: "
        "the larger of flops / peak and nbytes / bandwidth, element by element",
        # a typical mistake: forgets the output
        mistake=(lambda f, b, p, w: f / p + b / w),
    ),
]
