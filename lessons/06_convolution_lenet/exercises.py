"""Lesson 06's exercises (06.conv2d_im2col, 06.maxpool_overlapping):
the reference answers, the inputs each answer is checked on, and a typical mistake the check
must catch. A learner calls ``check("NN.name", fn)`` from :mod:`course_lib.exercises`."""

from __future__ import annotations

import numpy as np

from course_lib.exercises import Exercise, normal
from course_lib.nn.conv import conv_output_shape, im2col

# The reference answers: what check() compares a learner's answer with.


def conv2d_im2col(x, W, b, padding):
    o, c, kh, kw = W.shape
    ho, wo = conv_output_shape(x.shape, kh, kw, (1, 1), (padding, padding))
    cols = im2col(x, kh, kw, stride=1, padding=padding)
    y = W.reshape(o, -1) @ cols + b[:, None]
    return y.reshape(o, ho, wo, x.shape[0]).transpose(3, 0, 1, 2)


def maxpool_overlapping(x):
    ho, wo = (x.shape[2] - 3) // 2 + 1, (x.shape[3] - 3) // 2 + 1
    out = np.full(x.shape[:2] + (ho, wo), -np.inf)
    for di in range(3):
        for dj in range(3):
            out = np.maximum(out, x[:, :, di : di + 2 * ho - 1 : 2, dj : dj + 2 * wo - 1 : 2])
    return out


# The inputs each answer is checked on: small and awkward ones first.


def _conv_cases(rng):
    shapes = [
        ((1, 1, 5, 5), (2, 1, 3, 3), 0),
        ((2, 3, 6, 7), (4, 3, 3, 2), 1),
        ((3, 2, 4, 4), (1, 2, 1, 1), 0),
    ]
    return [(normal(rng, *xs), normal(rng, *ws), normal(rng, ws[0]), p) for xs, ws, p in shapes]


def _maxpool_cases(rng):
    return [(normal(rng, *s),) for s in [(1, 1, 3, 3), (2, 3, 7, 7), (1, 2, 5, 8)]]


EXERCISES = [
    Exercise(
        "06.conv2d_im2col",
        "A convolution layer's forward pass as im2col and one matrix product",
        _conv_cases,
        hint="im2col(x, kh, kw, stride, padding) gives columns (C*kh*kw, H_out*W_out*N) with "
        "the image index fastest; W.reshape(O, -1) @ cols + b[:, None] is (O, H_out*W_out*N): "
        "reshape to (O, H_out, W_out, N), then transpose to (N, O, H_out, W_out)",
        rtol=1e-6,
        mistake=(lambda x, W, b, p: conv2d_im2col(x, W, 0 * b, p)),
    ),
    Exercise(
        "06.maxpool_overlapping",
        "AlexNet's overlapping max pooling: 3x3 windows, stride 2, no padding",
        _maxpool_cases,
        hint="the output is (H - 3) // 2 + 1 high; output (i, j) is the maximum of "
        "x[..., 2i:2i+3, 2j:2j+3]: nine strided slices and np.maximum, no loop over pixels",
        mistake=(
            lambda x: x[
                :, :, : 2 * ((x.shape[2] - 3) // 2) + 1 : 2, : 2 * ((x.shape[3] - 3) // 2) + 1 : 2
            ]
        ),
    ),
]
