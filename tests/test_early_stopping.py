"""Early stopping: when it stops, what it keeps, and how training loops use it."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.early_stopping import EarlyStopping
from course_lib.models.autoencoder import DeepClassifier, logistic_pca
from course_lib.train import fit


class Net:
    def __init__(self):
        self.theta = np.zeros(3)
        self.params = [self.theta[:2], self.theta[2:]]


def feed(stopper, values):
    """Epoch numbers at which ``stopper`` said stop, feeding ``values`` as ``val``; theta =
    epoch."""
    net, said = Net(), []
    for epoch, value in enumerate(values, 1):
        net.theta[:] = epoch
        if stopper(net, {"epoch": epoch, "val": value}):
            said.append(epoch)
    return net, said


def test_stops_after_patience_epochs_without_enough_progress():
    stopper = EarlyStopping("val", patience=2, min_rel=0.01)
    # 10 -> 9 is progress; 8.95 is a new best but below 1% progress; 8.99 none: stop at epoch 4
    net, said = feed(stopper, [10.0, 9.0, 8.95, 8.99, 8.0])
    assert said[0] == 4
    assert (stopper.best, stopper.best_epoch) == (8.0, 5)
    stopper = EarlyStopping("val", patience=2, min_rel=0.01)
    net, said = feed(stopper, [10.0, 9.0, 8.95, 8.99])
    assert (stopper.best, stopper.best_epoch) == (
        8.95,
        3,
    )  # the smallest value, not the last progress
    stopper.restore(net)
    assert np.all(net.theta == 3)


def test_never_stops_while_progress_continues():
    _, said = feed(EarlyStopping("val", patience=1, min_rel=0.05), [10, 9, 8, 7, 6])
    assert said == []


def test_bad_settings_and_missing_key_are_clear_errors():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping("val", patience=0)
    with pytest.raises(KeyError, match="val_loss"):
        EarlyStopping("val_loss")(Net(), {"epoch": 1, "train_loss": 1.0})
    with pytest.raises(RuntimeError, match="nothing to restore"):
        EarlyStopping("val").restore(Net())


def test_minibatch_training_stops_and_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) < np.linspace(0.1, 0.9, 20)).astype("float32")
    net = logistic_pca(20, 4, seed=0)
    scores = iter([5.0, 4.0, 4.5, 4.6, 4.7, 1.0])  # a validation curve that turns up after epoch 2
    stopper = EarlyStopping("val", patience=3)
    snapshots = []

    def evaluate(n):
        snapshots.append(n.theta.copy())
        return {"val": next(scores)}

    adam = optim.Adam([net.theta], [net.flat.grad], lr=1e-2)
    hist = fit(
        net,
        nn.SigmoidCrossEntropy(),
        adam,
        x,
        epochs=6,
        batch_size=50,
        evaluate=evaluate,
        stop=stopper,
        progress=False,
    )
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4, 5]
    stopper.restore(net)
    assert stopper.best_epoch == 2 and np.array_equal(net.theta, snapshots[1])


def test_minibatch_grad_mask_trains_only_the_top_layer_first():
    rng = np.random.default_rng(0)
    net = DeepClassifier([8, 6, 3]).init_random(0, 0.3)
    x, y = rng.random((40, 8)).astype("float32"), rng.integers(0, 3, 40)
    theta0 = net.theta.copy()
    n_bottom = 8 * 6 + 6
    mask, loss = net.top_layer_mask(), nn.SoftmaxCrossEntropy()

    def train(epochs):
        adam = optim.Adam([net.theta], [net.flat.grad], lr=1e-2)
        fit(
            net,
            loss,
            adam,
            x,
            y,
            epochs=epochs,
            batch_size=10,
            grad_mask=mask,
            mask_epochs=1,
            progress=False,
        )

    train(1)
    assert np.array_equal(net.theta[:n_bottom], theta0[:n_bottom])
    assert not np.array_equal(net.theta[n_bottom:], theta0[n_bottom:])
    train(2)
    assert not np.array_equal(
        net.theta[:n_bottom], theta0[:n_bottom]
    )  # the mask is lifted after epoch 1


def test_grad_mask_needs_the_flat_view():
    from course_lib.models.mlp import MLP

    model = MLP([4, 3, 2], rng=0)
    opt = optim.SGD(model.params, model.grads)
    with pytest.raises(ValueError, match="FlatParams"):
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            opt,
            np.zeros((4, 4), "float32"),
            np.zeros(4, int),
            grad_mask=np.ones(23),
            mask_epochs=1,
            progress=False,
        )
