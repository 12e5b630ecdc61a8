"""Lesson __NN__'s exercises (__NN__.mean_by_hand): the reference answers, the inputs each answer
is checked on, and a typical mistake the check must catch. Made from lessons/_template: replace
them with 2-4 exercises that make the learner write the lesson's idea."""

from __future__ import annotations

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def mean_by_hand(x):
    """The mean of each column: the sum over the rows divided by their number."""
    return x.sum(axis=0) / x.shape[0]


# The inputs each answer is checked on: small and awkward ones first.


def _mean_cases(rng):
    return [(normal(rng, *s),) for s in [(1, 1), (3, 5), (7, 2)]]


EXERCISES = [
    Exercise(
        "__NN__.mean_by_hand",
        "The mean of each column of x, written with a sum and a division",
        _mean_cases,
        hint="sum over axis 0 (the rows), then divide by the number of rows, x.shape[0]",
        mistake=(lambda x: x.sum(axis=0) / x.shape[1]),
    ),
]
