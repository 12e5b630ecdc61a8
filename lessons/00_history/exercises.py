"""Lesson 00's exercises (00.xor_by_hand, 00.gradient_at_input, 00.matmul_flops):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise

# The reference answers: what check() compares a learner's answer with.


def xor_by_hand(X):
    """XOR of the two columns of X by two layers of threshold units."""
    hidden = (X @ np.array([[1.0, 1.0], [1.0, 1.0]]) + np.array([-0.5, -1.5]) > 0).astype(float)
    return (hidden @ np.array([1.0, -1.0]) - 0.5 > 0).astype(float)


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def gradient_at_input(Ws, x, dout):
    """dL/dx through the layers h_l = sigmoid(h_{l-1} W_l), h_0 = x, given dout = dL/dh_L:
    back through each layer, g <- (g * h_l (1 - h_l)) W_l^T."""
    hs, h = [], x
    for W in Ws:
        h = _sigmoid(h @ W)
        hs.append(h)
    for W, h in zip(Ws[::-1], hs[::-1]):
        dout = (dout * h * (1 - h)) @ W.T
    return dout


def matmul_flops(a_shape, b_shape):
    (m, k), (_, n) = a_shape, b_shape
    return 2 * m * k * n


def _chain_without_slope(Ws, dout):
    for W in Ws[::-1]:
        dout = dout @ W.T
    return dout


# The inputs each answer is checked on: small and awkward ones first.


def _flops_cases(rng):
    return [((1, 1), (1, 1)), ((3, 4), (4, 5)), ((2000, 784), (784, 500))]


def _chain_cases(rng):
    def case(depth, batch, width):
        weights = rng.standard_normal((depth, width, width))
        return weights, rng.standard_normal((batch, width)), rng.standard_normal((batch, width))

    return [case(1, 1, 1), case(3, 2, 5), case(6, 7, 4)]


def _xor_cases(rng):
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return [(corners,), (corners[rng.permutation(4)],), (corners[rng.integers(0, 4, 9)],)]


EXERCISES = [
    Exercise(
        "00.xor_by_hand",
        "XOR from threshold units: a hidden layer of two, then one output unit",
        _xor_cases,
        hint="one hidden unit for OR, one for AND (or NAND); the output fires for OR and not "
        "AND. A threshold unit is (x @ w + b > 0), applied to every row of the batch at once",
        any_number_type=True,
        # a typical mistake: exercise -> (a typical mistake, words the message must contain)
        mistake=(lambda X: (X.sum(axis=1) > 0).astype(int)),
    ),
    Exercise(
        "00.gradient_at_input",
        "The gradient at the input of a stack of sigmoid layers (weights Ws, no biases)",
        _chain_cases,
        hint="run the forward pass first and keep every layer's output h; then go back from the "
        "last layer: multiply by the sigmoid's slope h (1 - h), then by W transposed",
        # a typical mistake: forgets the sigmoid's slope, the factor that makes gradients vanish
        mistake=(lambda Ws, x, dout: _chain_without_slope(Ws, dout)),
    ),
    Exercise(
        "00.matmul_flops",
        "Floating-point operations of a matrix product A @ B, given the two shapes",
        _flops_cases,
        hint="each of the m x n outputs is a dot product of length k: k multiplications and "
        "k additions (counting k - 1 additions is also seen; the convention here is 2 m k n)",
        any_number_type=True,
        # a typical mistake: forgets the mask
        mistake=(lambda a, b: a[0] * a[1] * b[1]),
    ),
]
