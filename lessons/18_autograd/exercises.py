"""Lesson 18's exercises (18.unbroadcast, 18.mul_backward, 18.tanh_backward): the reference
answers, the inputs each answer is checked on, and a typical mistake the check must catch."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal

# The reference answers: what check() compares a learner's answer with.


def unbroadcast(g, shape):
    """Sum the gradient g back to ``shape``: over the leading axes broadcasting added, then over
    every axis where ``shape`` has 1 (keeping it)."""
    extra = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(extra))) if extra else g
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=ones, keepdims=True) if ones else g


def mul_backward(a, b, g):
    """dL/da and dL/db of c = a * b (broadcast), given g = dL/dc: g b and g a, each summed back
    to its input's shape."""
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def tanh_backward(y, g):
    """dL/dx of y = tanh(x), from the saved output y: g (1 - y^2)."""
    return g * (1 - y**2)


# The inputs each answer is checked on: small and awkward ones first.

_BROADCASTS = [((4, 3), (3,)), ((4, 3), (1, 3)), ((2, 4, 3), (4, 1)), ((5,), ()), ((1, 1), (1,))]


def _unbroadcast_cases(rng):
    return [(normal(rng, *big), small) for big, small in _BROADCASTS]


def _mul_cases(rng):
    return [
        (normal(rng, *big), normal(rng, *small), normal(rng, *big)) for big, small in _BROADCASTS
    ]


def _tanh_cases(rng):
    return [(np.tanh(normal(rng, *s)), normal(rng, *s)) for s in [(1,), (3, 5), (2, 3, 4)]]


EXERCISES = [
    Exercise(
        "18.unbroadcast",
        "Sum a gradient g back to the shape its input had before broadcasting",
        _unbroadcast_cases,
        hint="first sum over the leading axes broadcasting added (g.ndim - len(shape) of them), "
        "then over each axis where shape has a 1, with keepdims=True",
        mistake=(lambda g, shape: g.sum(axis=0)),
        mistake_says="shape",
    ),
    Exercise(
        "18.mul_backward",
        "dL/da and dL/db of c = a * b with broadcasting, given g = dL/dc",
        _mul_cases,
        hint="each input gets g times the other input (the product rule), then summed back to "
        "its own shape as in 18.unbroadcast",
        mistake=(lambda a, b, g: (g * b, g * a)),
        mistake_says="shape",
    ),
    Exercise(
        "18.tanh_backward",
        "dL/dx of y = tanh(x), given the saved output y and g = dL/dy",
        _tanh_cases,
        hint="tanh'(x) = 1 - tanh(x)^2 = 1 - y^2: the rule needs only the output the forward "
        "pass saved; do not apply tanh to y again",
        mistake=(lambda y, g: g * (1 - np.tanh(y) ** 2)),
    ),
]
