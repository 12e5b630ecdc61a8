"""Transfer learning's tools: features are the body's output, a new head leaves the source
network untouched, balanced labelled subsets, and 8x8 digits framed like MNIST."""

import numpy as np
import pytest

from course_lib import nn, optim, transfer
from course_lib.data import to_mnist_frame
from course_lib.models.lenet import LeNet5
from course_lib.train import fit


def test_features_are_the_output_before_the_head_in_eval_mode():
    net = LeNet5(activation="relu", pool="max", rng=0)
    x = np.random.default_rng(0).random((7, 1, 28, 28)).astype(np.float32)
    net.train()
    f = transfer.features(net, x, batch_size=3)  # batches of 3, 3, 1
    h = x
    for layer in net.layers[:-1]:
        h = layer.forward(h)
    np.testing.assert_allclose(f, h, rtol=1e-5, atol=1e-5)  # float32, other batch sizes
    assert f.shape == (7, 84) and net.training  # the mode is put back


def test_new_head_copies_the_body_and_leaves_the_source_alone():
    source = LeNet5(activation="relu", pool="max", rng=0)
    before = [p.copy() for p in source.params]
    tuned = transfer.new_head(source, 3, rng=1)
    assert tuned.layers[-1].W.shape == (84, 3)
    np.testing.assert_array_equal(tuned.layers[0].W, source.layers[0].W)
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 1, 28, 28)).astype(np.float32), rng.integers(0, 3, 16)
    opt = optim.SGD(tuned.params, tuned.grads, lr=0.1)
    fit(tuned, nn.SoftmaxCrossEntropy(), opt, x, y, epochs=1, batch_size=8, progress=False)
    assert not np.array_equal(tuned.layers[0].W, source.layers[0].W)
    for p, q in zip(source.params, before):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="not the Linear head"):
        transfer.new_head(source, 3, upto=-2)


def test_per_class_is_balanced_sorted_and_refuses_too_few():
    labels = np.array([0, 1, 1, 2, 0, 2, 1, 0, 2, 2])
    idx = transfer.per_class(labels, 2, rng=0)
    assert list(idx) == sorted(idx) and np.bincount(labels[idx]).tolist() == [2, 2, 2]
    assert list(transfer.per_class(labels, 2, rng=0)) == list(idx)  # seeded
    with pytest.raises(ValueError, match="fewer than the 4"):
        transfer.per_class(labels, 4)


def test_8x8_digits_are_framed_like_mnist():
    x = np.zeros((2, 64), dtype=np.float32)
    x[0, 27] = 1.0  # one bright pixel near the middle
    x[1] = 1.0
    framed = to_mnist_frame(x)
    assert framed.shape == (2, 1, 28, 28) and framed.dtype == np.float32
    assert framed.min() >= 0 and framed.max() <= 1
    assert np.all(framed[:, :, :4] == 0) and np.all(framed[:, :, -4:] == 0)  # the border
    assert np.all(framed[1, 0, 4:24, 4:24] == 1)  # the 20x20 box
