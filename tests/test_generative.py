"""Lesson 19's tools: input corruption and denoising pretraining, the Fréchet distance, LeNet
features.  (The VAE and the DCGAN twin: test_generative_vae.py, test_generative_dcgan.py.)"""

import numpy as np
import pytest
from scipy.linalg import sqrtm

from course_lib import nn
from course_lib.corrupt import Corrupt, corrupt, gaussian_noise, masking_mask, masking_noise
from course_lib.frechet import (
    feature_stats,
    frechet_distance,
    frechet_distance_features,
    sqrtm_psd,
)
from course_lib.lenet_features import FeatureNet, lenet_frechet_distance, train_lenet
from course_lib.models.autoencoder import DeepClassifier
from course_lib.models.lenet import LeNet5
from course_lib.models.rbm import RBM
from course_lib.models.stacked_ae import TiedAutoencoder, layer_seeds, pretrain_stacked_ae

# ---- corruption ------------------------------------------------------------------------------


@pytest.mark.parametrize("nu", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_masking_noise_zeroes_the_stated_fraction_of_each_row(nu):
    x = np.random.default_rng(0).uniform(0.5, 1.0, (7, 40)).astype("float32")
    before = x.copy()
    noisy = masking_noise(x, nu, rng=1)
    assert np.array_equal(x, before)  # the input is left as it was
    zeroed = (noisy == 0).sum(axis=1)
    assert np.all(zeroed == round(nu * 40))  # x has no zeros, so every 0 is a masked entry
    kept = noisy != 0
    assert np.array_equal(noisy[kept], x[kept]) and noisy.dtype == x.dtype


def test_masking_noise_is_seeded_and_random_over_positions():
    a, b, c = (masking_mask((50, 30), 0.3, rng=s) for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # each position is dropped with probability 0.3: over 50 rows, within binomial bounds
    drop = (~a).sum(axis=0)
    assert drop.min() >= 3 and drop.max() <= 27 and a.shape == (50, 30)
    assert len({tuple(row) for row in a}) == 50  # rows differ: fresh subsets per example


def test_masking_noise_keeps_the_image_shape():
    x = np.ones((2, 1, 4, 5))
    noisy = masking_noise(x, 0.25, rng=0)
    assert noisy.shape == x.shape and np.all((noisy == 0).sum(axis=(1, 2, 3)) == 5)


def test_gaussian_noise_statistics_and_input_unchanged():
    x = np.full((200, 50), 0.3)
    noisy = gaussian_noise(x, 0.5, rng=0)
    assert np.all(x == 0.3)
    e = (noisy - x) / 0.5
    assert abs(e.mean()) < 4 / np.sqrt(e.size) and abs(e.std() - 1) < 0.03
    assert np.array_equal(noisy, gaussian_noise(x, 0.5, rng=0))
    assert np.array_equal(corrupt(x, "gaussian", 0.5, 0), noisy)


@pytest.mark.parametrize(
    "call",
    [
        lambda: masking_noise(np.ones((2, 3)), 1.5),
        lambda: gaussian_noise(np.ones((2, 3)), -0.1),
        lambda: corrupt(np.ones((2, 3)), "salt", 0.1),
        lambda: Corrupt("mask", -0.2),
    ],
)
def test_bad_corruption_settings_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_corrupt_layer_noisy_in_training_identity_in_eval():
    x = np.random.default_rng(0).uniform(0.5, 1, (4, 10))
    layer = Corrupt("mask", 0.5, rng=0)
    y = layer.forward(x)
    assert np.array_equal(y, masking_noise(x, 0.5, rng=0))  # the first draw of seed 0
    assert np.array_equal(layer.backward(np.ones_like(x)), (y != 0).astype(float))
    assert not np.array_equal(layer.forward(x), y)  # fresh noise each pass
    layer.eval()
    assert layer.forward(x) is x and layer.backward(x) is x


def test_denoising_step_reads_noisy_input_and_scores_the_clean_one():
    x = np.random.default_rng(0).random((20, 12))
    layers = pretrain_stacked_ae(
        x,
        [12, 5],
        epochs=1,
        batch_size=20,
        lr=0.5,
        top_lr=0.5,
        linear_top=False,
        dtype="float64",
        corruption=("mask", 0.5),
    )
    ref = TiedAutoencoder(12, 5, seed=layer_seeds(0, 1)[0], dtype="float64")
    noisy = masking_noise(x, 0.5, rng=layer_seeds(0, 1)[0])
    loss = nn.SigmoidCrossEntropy()
    loss.forward(ref.forward(noisy), x)  # the target is the clean x
    ref.backward(loss.backward())
    expected = ref.flat.theta - 0.5 * ref.flat.grad
    assert np.allclose(layers[0].flat.theta, expected, rtol=1e-12, atol=1e-12)


def test_denoising_pretraining_defaults_and_zero_noise_match_plain():
    x = np.random.default_rng(0).random((60, 12)).astype("float32")
    kw = dict(epochs=2, batch_size=20, linear_top=False)
    plain = pretrain_stacked_ae(x, [12, 6, 4], **kw)
    zero = pretrain_stacked_ae(x, [12, 6, 4], corruption=("mask", 0.0), **kw)
    noisy = pretrain_stacked_ae(x, [12, 6, 4], corruption=("gaussian", 0.3), **kw)
    for a, b, c in zip(plain, zero, noisy):
        assert np.array_equal(a.flat.theta, b.flat.theta)
        assert not np.allclose(a.flat.theta, c.flat.theta)


def test_classifier_from_pretrained_layers():
    x = np.random.default_rng(0).random((40, 12)).astype("float32")
    layers = pretrain_stacked_ae(x, [12, 6, 4], epochs=1, batch_size=20, linear_top=False)
    net = DeepClassifier.from_layers([layer.as_tuple() for layer in layers], 3, seed=5)
    assert net.sizes == [12, 6, 4, 3]
    assert np.array_equal(net.weights[1], layers[1].W) and np.array_equal(
        net.biases[0], layers[0].c
    )
    top = 0.1 * np.random.default_rng(5).standard_normal((4, 3))
    assert np.allclose(net.weights[2], top) and not net.biases[2].any()
    rbms = [RBM(12, 6, seed=1), RBM(6, 4, seed=2)]
    net = DeepClassifier.from_rbms(rbms, 3, seed=5)
    assert np.array_equal(net.weights[0], rbms[0].W) and np.array_equal(
        net.biases[1], rbms[1].b_hid
    )
    assert np.allclose(net.weights[2], top)


# ---- Fréchet distance ------------------------------------------------------------------------


def random_stats(d, seed, rank=None):
    g = np.random.default_rng(seed)
    A = g.standard_normal((d, rank or d))
    return g.standard_normal(d), A @ A.T / d + (0 if rank else 0.1 * np.eye(d))


def scipy_frechet(mu1, S1, mu2, S2):
    covmean = sqrtm(S1 @ S2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(S1 + S2 - 2 * covmean.real))


@pytest.mark.parametrize("d", [1, 3, 10])
def test_frechet_distance_equals_scipy(d):
    (mu1, S1), (mu2, S2) = random_stats(d, 0), random_stats(d, 1)
    assert np.isclose(
        frechet_distance(mu1, S1, mu2, S2), scipy_frechet(mu1, S1, mu2, S2), rtol=1e-9
    )


def test_sqrtm_psd_squares_back_and_equals_scipy():
    _, S = random_stats(6, 2)
    R = sqrtm_psd(S)
    assert np.allclose(R @ R, S, atol=1e-12) and np.allclose(R, sqrtm(S).real, atol=1e-10)


def test_frechet_distance_one_dimension_closed_form():
    # N(m1, s1^2), N(m2, s2^2):  d^2 = (m1 - m2)^2 + (s1 - s2)^2
    d2 = frechet_distance([1.0], [[4.0]], [-0.5], [[0.25]])
    assert np.isclose(d2, 1.5**2 + 1.5**2, rtol=1e-12)


def test_frechet_distance_identical_symmetric_and_mean_shift():
    (mu1, S1), (mu2, S2) = random_stats(8, 0), random_stats(8, 1)
    assert frechet_distance(mu1, S1, mu1, S1) < 1e-10
    assert np.isclose(frechet_distance(mu1, S1, mu2, S2), frechet_distance(mu2, S2, mu1, S1))
    shift = np.random.default_rng(3).standard_normal(8)
    base = frechet_distance(mu1, S1, mu1, S2)
    assert np.isclose(frechet_distance(mu1 + shift, S1, mu1, S2) - base, shift @ shift, rtol=1e-9)
    assert np.isclose(frechet_distance(mu1 + shift, S1, mu1, S1), shift @ shift, rtol=1e-9)


def test_frechet_distance_singular_covariances():
    (mu1, S1), (mu2, S2) = random_stats(10, 0, rank=3), random_stats(10, 1, rank=4)
    d2 = frechet_distance(mu1, S1, mu2, S2)
    assert np.isfinite(d2) and np.isclose(d2, scipy_frechet(mu1, S1, mu2, S2), rtol=1e-5)
    assert frechet_distance(mu1, S1, mu1, S1) < 1e-10


def test_feature_stats_and_features_distance():
    f = np.random.default_rng(0).standard_normal((500, 4)) * [1, 2, 3, 4] + [1, 0, 0, -1]
    mu, S = feature_stats(f)
    assert np.allclose(mu, f.mean(0)) and np.allclose(S, np.cov(f.T)) and S.shape == (4, 4)
    assert np.allclose(np.diag(S), [1, 4, 9, 16], rtol=0.2)
    assert frechet_distance_features(f, f) < 1e-10
    assert np.isclose(frechet_distance_features(f + 2.0, f), 16.0, rtol=1e-9)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "different spaces"),
        ((np.zeros(3), np.eye(4), np.zeros(3), np.eye(3)), "shape"),
        ((np.zeros((3, 1)), np.eye(3), np.zeros(3), np.eye(3)), "shape"),
        ((np.array([0, np.nan, 0]), np.eye(3), np.zeros(3), np.eye(3)), "NaN"),
        ((np.zeros(2), np.array([[1, 0.5], [0, 1]]), np.zeros(2), np.eye(2)), "symmetric"),
    ],
)
def test_frechet_distance_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(*args)


def test_feature_stats_refuses_too_few_or_bad_samples():
    with pytest.raises(ValueError, match="at least 2"):
        feature_stats(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="NaN"):
        feature_stats(np.array([[0.0, np.inf], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="one row per sample"):
        feature_stats(np.zeros(5))


# ---- LeNet features --------------------------------------------------------------------------


def test_lenet_features_are_the_penultimate_layer():
    net = FeatureNet(LeNet5(rng=0), mean=0.2, std=0.5)
    images = np.random.default_rng(0).random((5, 784)).astype("float32")
    feats = net.features(images, batch_size=2)
    h = (images.reshape(5, 1, 28, 28) - 0.2) / 0.5
    for layer in net.model.layers[:-1]:
        h = layer.forward(h)
    assert feats.shape == (5, 84) and np.allclose(feats, h, atol=1e-6)
    assert np.allclose(net.features(images.reshape(5, 28, 28)), feats, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.features(2 * images - 1)
    with pytest.raises(ValueError, match="shape"):
        net.features(np.zeros((3, 100)))


def test_train_lenet_learns_and_distance_of_equal_sets_is_zero():
    g = np.random.default_rng(0)
    images = g.random((96, 1, 28, 28)).astype("float32") * 0.2
    labels = np.arange(96) % 2
    images[labels == 1, :, 8:20, 8:20] = 1.0  # a bright square: class 1
    net = train_lenet(images, labels, epochs=2, batch_size=16, seed=0)
    untrained = LeNet5(rng=0)
    assert not np.array_equal(net.model.layers[0].W, untrained.layers[0].W)
    assert net.error(images, labels) < 0.1
    assert lenet_frechet_distance(net, images, images) < 1e-8
    assert lenet_frechet_distance(net, images[labels == 0], images[labels == 1]) > 0.1
