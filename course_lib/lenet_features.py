"""A trained LeNet-5's penultimate features, for a Fréchet distance on MNIST-like images.

FID (Heusel et al. 2017) compares Gaussians fitted to Inception-v3 features of real and generated
images.  Inception knows nothing of digits; lesson 06's LeNet-5, trained on MNIST, does.  Its
84-unit F6 layer (the last before the class scores) is the feature map here, and

    d^2 = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2})

on those features is the sample-quality number (:mod:`course_lib.frechet`).  The values depend
on this network and its training, so compare them only with each other (same net, same number of
samples), never with published FIDs.

    net = train_lenet(mnist.x_train[:20000], mnist.y_train[:20000], epochs=2, seed=0)
    d2 = lenet_frechet_distance(net, mnist.x_test, generated)     # images in [0, 1]

Train it with one BLAS thread (``course_lib.threads.limit_threads(1)``), as lesson 06 does: on a
2-core CPU 10,000 images x 2 epochs then took 3 s (4.3% test error), against 16 s for 5,000
images x 1 epoch with the default threads on the same busy machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib import nn, optim
from course_lib.backend import asnumpy
from course_lib.frechet import frechet_distance_features
from course_lib.models.lenet import LeNet5
from course_lib.train import fit


def as_images(images) -> np.ndarray:
    """(N, 784), (N, 28, 28) or (N, 1, 28, 28) pixels in [0, 1] -> float32 (N, 1, 28, 28)."""
    x = np.asarray(asnumpy(images), dtype=np.float32)
    if x.size == 0 or x.size % 784 or x.shape[0] * 784 != x.size:
        raise ValueError(f"images of shape {x.shape}: give (N, 784), (N, 28, 28) or (N, 1, 28, 28)")
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi) and lo >= -1e-3 and hi <= 1 + 1e-3):
        raise ValueError(
            f"pixels range over [{lo:.3g}, {hi:.3g}]; they must lie in [0, 1] "
            "(map a tanh generator's output with (x + 1) / 2)"
        )
    return x.reshape(-1, 1, 28, 28)


@dataclass
class FeatureNet:
    """A trained LeNet-5 and the pixel mean and std it was trained on ((x - mean) / std)."""

    model: LeNet5
    mean: float
    std: float

    def scaled(self, images):
        return (as_images(images) - self.mean) / self.std

    def error(self, images, labels) -> float:
        """Test error (a fraction) on images in [0, 1]."""
        return self.model.error(self.scaled(images), np.asarray(labels))

    def features(self, images, batch_size: int = 1000) -> np.ndarray:
        """F6's 84 activations (after tanh) for each image, float64 (N, 84), in eval mode."""
        x, body = self.scaled(images), nn.Sequential(*self.model.layers[:-1])
        was_training = self.model.training
        body.eval()
        out = [asnumpy(body.forward(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        self.model.train(was_training)
        return np.concatenate(out).astype(np.float64)


def train_lenet(
    images,
    labels,
    *,
    epochs: int = 2,
    batch_size: int = 64,
    lr: float = 0.05,
    momentum: float = 0.9,
    decay: float = 0.9,
    weight_decay: float = 5e-4,
    seed: int = 0,
    progress=False,
) -> FeatureNet:
    """LeNet-5 trained with lesson 06's recipe (SGD + momentum, lr x decay^epoch, inputs scaled
    to zero mean and unit variance), on images in [0, 1] and integer labels."""
    x_raw = as_images(images)
    mean, std = float(x_raw.mean()), float(x_raw.std())
    net = FeatureNet(LeNet5(rng=seed), mean, std)
    x, y = net.scaled(x_raw), np.asarray(labels, dtype=np.int64)
    model, order = net.model, np.random.default_rng(seed)
    opt = optim.Momentum(
        model.params, model.grads, lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    for epoch in range(epochs):
        opt.lr = lr * decay**epoch
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            opt,
            x,
            y,
            batch_size=batch_size,
            rng=order,
            progress=progress,
        )
    return net


def lenet_features(net: FeatureNet, images, batch_size: int = 1000) -> np.ndarray:
    """``net.features(images)``: the (N, 84) penultimate features of images in [0, 1]."""
    return net.features(images, batch_size)


def lenet_frechet_distance(net: FeatureNet, images1, images2) -> float:
    """The Fréchet distance between Gaussians fitted to the LeNet features of two image sets."""
    return frechet_distance_features(net.features(images1), net.features(images2))
