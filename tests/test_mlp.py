"""The MLP, its torch twin, the training loop, and a golden loss trajectory."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn, optim
from course_lib.gradcheck import check_layer, rel_error
from course_lib.models.mlp import MLP
from course_lib.train import History, fit
from course_lib.twins.mlp import TorchMLP, mlp_pair

# The first 10 losses of golden_losses() below, recorded once.  Exact equality is checked
# between two runs in one process; against these, 1e-6 relative allows for another BLAS.
GOLDEN = [
    1.0392191174912053,
    1.0694471621170845,
    1.2318839360496776,
    0.9609332713320813,
    1.1064603343216954,
    0.6975336865913414,
    0.899455249698062,
    0.6153646314865624,
    0.6809124005209146,
    0.6693211226874359,
]


def data(n=64, d=10, seed=2024):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, (x[:, 0] + x[:, 1] ** 2 > 1).astype(int) + (x[:, 2] > 0.5)


def golden_losses():
    x, y = data()
    model = MLP([10, 16, 3], activation="tanh", dtype="float64", rng=0)
    opt = optim.Momentum(model.params, model.grads, lr=0.1, weight_decay=1e-4)
    return fit(
        model, nn.SoftmaxCrossEntropy(), opt, x, y, epochs=2, batch_size=13, rng=1, progress=False
    ).steps


def test_golden_trajectory():
    first, second = golden_losses(), golden_losses()
    assert first == second  # bit-for-bit from run to run
    assert np.allclose(first, GOLDEN, rtol=1e-6, atol=0)


def test_layers_and_defaults():
    model = MLP([5, 8, 6, 2], activation="sigmoid", dropout=0.2, batchnorm=True, rng=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "BatchNorm", "Sigmoid", "Dropout"] * 2 + ["Linear"]
    assert model.layers[0].W.dtype == np.float32
    with pytest.raises(ValueError):
        MLP([2, 2], activation="softplus")


def test_same_seed_same_weights_and_he_scale():
    a, b = MLP([400, 300, 10], rng=3), MLP([400, 300, 10], rng=3)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert abs(a.layers[0].W.std() / np.sqrt(2 / 400) - 1) < 0.02


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_torch_twin_forward_and_gradients(activation, batchnorm):
    mlp = MLP(
        [7, 9, 5, 3],
        activation=activation,
        batchnorm=batchnorm,
        dropout=0.3,
        dtype="float64",
        rng=0,
    )
    tmlp = TorchMLP.from_numpy(mlp)
    for ours, theirs in zip(mlp.layers, tmlp):  # BatchNorm in train mode, dropout off
        ours.training = theirs.training = not isinstance(ours, nn.Dropout)
    x, y = data(6, 7)
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(mlp.forward(x), y)
    mlp.backward(loss.backward())
    tvalue = F.cross_entropy(tmlp(torch.tensor(x)), torch.tensor(y))
    tvalue.backward()
    assert rel_error(value, tvalue) < 1e-12
    for (name, grad), tparam in zip(zip(mlp.named_params(), mlp.grads), tmlp.parameters()):
        expected = (tparam.grad.T if tparam.ndim == 2 else tparam.grad).numpy()
        # atol: a bias just before BatchNorm has a zero gradient, computed as rounding noise
        assert np.allclose(grad, expected, rtol=1e-9, atol=1e-14), name


def test_torch_twin_from_one_seed():
    mlp, tmlp = mlp_pair([6, 5, 4], seed=7, activation="tanh")
    assert tmlp[0].weight.dtype == torch.float32
    twin = TorchMLP([6, 5, 4], activation="tanh", rng=7)
    x = data(3, 6)[0].astype("float32")
    with torch.no_grad():
        assert np.array_equal(twin(torch.tensor(x)).numpy(), tmlp(torch.tensor(x)).numpy())
        assert rel_error(mlp.forward(x), tmlp(torch.tensor(x))) < 1e-5


def test_mlp_numeric_gradient():
    mlp = MLP([4, 6, 3], activation="tanh", batchnorm=True, dtype="float64", rng=0)
    errors = check_layer(mlp, data(5, 4)[0])
    # BatchNorm subtracts the batch mean, so the bias just before it has no effect: its gradient
    # is 0 up to rounding, where a relative error means nothing.
    assert np.abs(mlp.grads[1]).max() < 1e-12 and errors.pop("d0.b") >= 0
    assert max(errors.values()) < 1e-6


def test_fit_learns_and_records_history():
    x, y = data(200, 10, seed=5)
    model = MLP([10, 32, 3], dtype="float64", rng=0)
    opt = optim.Adam(model.params, model.grads, lr=0.03)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        x,
        y,
        epochs=30,
        batch_size=32,
        rng=0,
        evaluate=lambda m: {"training": m.training, "acc": m.accuracy(x, y)},
        progress=False,
    )
    assert isinstance(history, History) and len(history.steps) == 30 * 7
    assert len(history["loss"]) == len(history["acc"]) == len(history) == 30
    assert history[0]["training"] is False and model.training  # eval mode only inside evaluate
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history.last["acc"] > 0.9 and model.error(x, np.eye(3)[y]) < 0.1
    assert history.seconds > 0 and all(row["seconds"] > 0 for row in history)


def test_predict_restores_mode_and_batches():
    model = MLP([3, 4, 2], dropout=0.5, rng=0, dtype="float64")
    x = data(7, 3)[0]
    assert np.array_equal(model.predict(x, batch_size=3), model.predict(x))
    assert model.training
