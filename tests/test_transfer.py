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


def test_new_head_from_start_is_the_top_fed_by_the_frozen_body():
    source = LeNet5(activation="relu", pool="max", rng=0)
    x = np.random.default_rng(1).random((5, 1, 28, 28)).astype(np.float32)
    top = transfer.new_head(source, 4, start=9, rng=2)  # F6 (copied) + a new 4-way head
    assert len(top.layers) == 3 and top.layers[-1].W.shape == (84, 4)
    np.testing.assert_array_equal(top.layers[0].W, source.layers[9].W)
    body = transfer.features(source, x, upto=9)  # C5's 120 features
    whole = transfer.new_head(source, 4, rng=2)
    np.testing.assert_allclose(top.predict(body), whole.predict(x), rtol=1e-5, atol=1e-6)


def test_layer_scales_decay_from_the_head_down():
    net = LeNet5(activation="relu", pool="max", rng=0)  # five layers with (W, b)
    scales = transfer.layer_scales(net, 0.5)
    assert scales == [0.0625, 0.0625, 0.125, 0.125, 0.25, 0.25, 0.5, 0.5, 1.0, 1.0]
    assert transfer.layer_scales(net, 0.0) == [0.0] * 8 + [1.0, 1.0]  # only the head learns
    assert transfer.layer_scales(net, 1.0) == [1.0] * 10
    with pytest.raises(ValueError, match="decay"):
        transfer.layer_scales(net, 1.5)


def test_scaled_momentum_matches_torch_sgd_with_a_rate_per_group():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 2)), rng.standard_normal(5), rng.standard_normal((1,))]
    scales, lr, mu, wd = [0.25, 1.0, 0.0], 0.1, 0.9, 0.01
    ours = [w.copy() for w in ws]
    grads = [np.zeros_like(w) for w in ws]
    opt = transfer.ScaledMomentum(ours, grads, scales, lr=lr, momentum=mu, weight_decay=wd)
    theirs = [torch.tensor(w, requires_grad=True) for w in ws]
    groups = [{"params": [t], "lr": lr * s} for t, s in zip(theirs, scales)]
    ref = torch.optim.SGD(groups, lr=lr, momentum=mu, weight_decay=wd)
    for _ in range(4):
        gs = [rng.standard_normal(w.shape) for w in ws]
        for g, t, mine in zip(gs, theirs, grads):
            mine[...], t.grad = g, torch.tensor(g)
        opt.step()
        ref.step()
    for w, t in zip(ours, theirs):
        np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours[2], ws[2])  # factor 0: frozen
    with pytest.raises(ValueError, match="one factor"):
        transfer.ScaledMomentum(ours, grads, [1.0, 1.0])


def test_train_with_decay_zero_moves_only_the_head_and_batch_one_works():
    net = LeNet5(activation="relu", pool="max", rng=0)
    before = [p.copy() for p in net.params]
    rng = np.random.default_rng(0)
    x, y = rng.random((1, 1, 28, 28)).astype(np.float32), np.array([3])
    transfer.train(net, x, y, lr=0.1, decay=0.0, epochs=2, distort=True, rng=0)
    moved = [not np.array_equal(p, q) for p, q in zip(net.params, before)]
    assert moved == [False] * 8 + [True, True]
