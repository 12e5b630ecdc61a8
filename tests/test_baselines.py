"""The trivial baselines of course_lib.baselines, on data small enough to work out by hand."""

import math

import numpy as np
import pytest
import torch

from course_lib import baselines


def test_bernoulli_pixels_by_hand():
    # two training images of two pixels: p = (0.5, 1 - eps), the second clipped away from 1
    x_train = np.array([[1.0, 1.0], [0.0, 1.0]])
    x_test = np.array([[1.0, 0.0]])
    expected = -math.log(0.5) - math.log(1e-3)
    assert baselines.bernoulli_pixels_nats(x_train, x_test) == pytest.approx(expected)


def test_bernoulli_pixels_is_torch_binary_cross_entropy():
    g = np.random.default_rng(0)
    x_train = g.random((50, 7))
    x_test = (g.random((9, 7)) > 0.5).astype(float)
    p = torch.tensor(x_train.mean(axis=0)).expand(9, 7)
    bce = torch.nn.functional.binary_cross_entropy(p, torch.tensor(x_test), reduction="sum") / 9
    assert baselines.bernoulli_pixels_nats(x_train, x_test) == pytest.approx(float(bce))


def test_bernoulli_pixels_flattens_images_and_takes_one_test_image():
    g = np.random.default_rng(1)
    x_train, x_test = g.random((20, 1, 3, 5)), g.random((1, 1, 3, 5))
    flat = baselines.bernoulli_pixels_nats(x_train.reshape(20, -1), x_test.reshape(1, -1))
    assert baselines.bernoulli_pixels_nats(x_train, x_test) == pytest.approx(flat)


def test_bernoulli_pixels_rewards_the_training_distribution():
    g = np.random.default_rng(2)
    p = np.linspace(0.05, 0.95, 11)
    x_train, x_test = [(g.random((n, 11)) < p).astype(np.float32) for n in (4000, 500)]
    # the entropy of the true pixel distribution, within sampling noise
    entropy = float(-(p * np.log(p) + (1 - p) * np.log(1 - p)).sum())
    assert baselines.bernoulli_pixels_nats(x_train, x_test) == pytest.approx(entropy, rel=0.03)
    worse = baselines.bernoulli_pixels_nats(1 - x_train, x_test)  # every mean the wrong way round
    assert worse > entropy + 1


def test_nearest_class_mean_by_hand():
    x_train = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    y_train = np.array([3, 3, 7, 7])  # class means (0, 1) and (4, 1)
    x_test = np.array([[1.0, 5.0], [3.5, 0.0], [2.5, 1.0], [0.5, 1.0]])
    y_test = np.array([3, 7, 3, 3])  # the third is nearer class 7's mean: one of four wrong
    assert baselines.nearest_class_mean_error(x_train, y_train, x_test, y_test) == 25.0
    assert baselines.nearest_class_mean_error(x_train, y_train, x_test[:1], y_test[:1]) == 0.0
