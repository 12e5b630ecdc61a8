"""Lesson 16's exercises (16.fit_standardize, 16.lime_weights, 16.mmd2, 16.keras_forward):
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


def mmd2(kernel, n):
    kxx, kyy, kxy = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    m = len(kernel) - n
    within_x = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return within_x + within_y - 2 * kxy.mean()


def keras_forward(x, kernels, biases):
    h = x
    for k, (kernel, bias) in enumerate(zip(kernels, biases)):
        h = h @ kernel + bias
        if k < len(kernels) - 1:
            h = np.maximum(h, 0.0)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _keras_logits(x, kernels, biases):
    h = x
    for k, (kernel, bias) in enumerate(zip(kernels, biases)):
        h = h @ kernel + bias
        h = np.maximum(h, 0.0) if k < len(kernels) - 1 else h
    return h


def _biased_mmd2(kernel, n):
    return kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean()


# The inputs each answer is checked on: small and awkward ones first.


def _standardize_cases(rng):
    x = normal(rng, 6, 4)
    x[:, 2] = 3.0  # a constant feature
    return [(normal(rng, 2, 1),), (x,), (normal(rng, 30, 7),)]


def _lime_cases(rng):
    return [(np.array([0.0]), 0.25), (rng.random(10), 0.25), (rng.random(50), 0.5)]


def _mmd_cases(rng):
    def gaussian_kernel(z):
        d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=-1)
        return np.exp(-d2 / 2.0)

    return [
        (gaussian_kernel(normal(rng, 4, 1)), 2),
        (gaussian_kernel(normal(rng, 9, 3)), 4),
        (gaussian_kernel(normal(rng, 20, 5)), 13),
    ]


def _keras_cases(rng):
    def stack(n, widths):
        kernels = [normal(rng, a, b) for a, b in zip(widths[:-1], widths[1:])]
        return normal(rng, n, widths[0]), kernels, [normal(rng, b) for b in widths[1:]]

    return [stack(1, [3, 2]), stack(4, [5, 7, 3]), stack(9, [6, 1, 4, 10])]


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
    Exercise(
        "16.mmd2",
        "The unbiased MMD^2 from the pooled kernel matrix whose first n rows are P's",
        _mmd_cases,
        hint="split the matrix into K_xx, K_yy, K_xy; average K_xx and K_yy over pairs i != j "
        "(sum minus trace, over n(n-1)), K_xy over all n*m pairs",
        mistake=_biased_mmd2,
    ),
    Exercise(
        "16.keras_forward",
        "A Keras Dense stack from its arrays: kernels (in, out), ReLU between, softmax at the end",
        _keras_cases,
        hint="h = h @ kernel + bias for each layer (the kernel is stored (in, out): no transpose), "
        "np.maximum(h, 0) after every layer but the last, then a softmax over axis 1 "
        "(subtract each row's maximum before np.exp)",
        mistake=_keras_logits,
    ),
]
