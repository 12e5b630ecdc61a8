"""Lesson 05's exercises (05.tied_autoencoder, 05.tied_weight_gradient, 05.backward_flops,
05.matmul_intensity):
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


def backward_flops(m, k, n):
    """FLOPs of the matrix products in the backward pass of the tied layer k -> n -> k on a batch
    of m: dz^T h (the decoder's dW), dz W (back to the code), x^T da (the encoder's dW)."""
    return 3 * 2 * m * k * n


def matmul_intensity(m, k, n, itemsize):
    """FLOPs per byte of an (m, k) x (k, n) product that reads each operand and writes the
    result once: 2 m k n / (itemsize (m k + k n + m n))."""
    return 2 * m * k * n / (itemsize * (m * k + k * n + m * n))


# The inputs each answer is checked on: small and awkward ones first.


def _shape_cases(rng):
    return [(1, 1, 1), (100, 784, 1000), (7, 3, 5), tuple(int(v) for v in rng.integers(1, 50, 3))]


def _intensity_cases(rng):
    return [(m, k, n, s) for (m, k, n), s in zip(_shape_cases(rng), (4, 4, 8, 2))]


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
    Exercise(
        "05.backward_flops",
        "FLOPs of the backward pass's matrix products, for the tied layer k -> n -> k at batch m",
        _shape_cases,
        hint="list the products backward needs: the decoder's dW = dz^T h, the code's gradient "
        "dh = dz W, the encoder's dW = x^T da; each is m x k x n, 2 m k n FLOPs. Nobody needs "
        "the gradient with respect to the data x",
        any_number_type=True,
        # a typical mistake: also computes dx = da W^T, the gradient of the data, as if x were a
        # layer's output
        mistake=(lambda m, k, n: 4 * 2 * m * k * n),
    ),
    Exercise(
        "05.matmul_intensity",
        "Arithmetic intensity (FLOPs per byte) of an (m, k) x (k, n) product, operands read once",
        _intensity_cases,
        hint="2 m k n FLOPs; bytes: the two operands read (m k + k n numbers) and the result "
        "written (m n numbers), itemsize bytes each",
        any_number_type=True,
        # a typical mistake: counts the inputs but not the result written back to memory
        mistake=(lambda m, k, n, s: 2 * m * k * n / (s * (m * k + k * n))),
    ),
]
