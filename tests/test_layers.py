"""Every layer: backward vs central differences, and forward/backward vs torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import init, nn
from course_lib.gradcheck import (
    check_layer,
    check_loss,
    compare_loss_with_torch,
    compare_with_torch,
    rel_error,
)

SHAPES = [(1, 1), (1, 7), (4, 3), (5, 9)]  # (batch, width): batch 1 and odd widths


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(*shape, seed=0):
    """Normal numbers pushed at least 0.1 from 0, so ReLU's kink is never crossed by +-h."""
    x = randn(*shape, seed=seed)
    return x + 0.1 * np.sign(x)


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("n_out", [1, 6])
def test_linear(n, d, n_out):
    layer = nn.Linear(d, n_out, rng=1, dtype="float64")
    x = randn(n, d)
    assert max(check_layer(layer, x).values()) < 1e-6
    errors = compare_with_torch(layer, lambda x, W, b: x @ W + b, x)
    assert max(errors.values()) < 1e-10


def test_linear_flattens_images_and_keeps_gradient_arrays():
    layer = nn.Linear(2 * 3 * 3, 4, rng=0, dtype="float64")
    dW, db = layer.grads
    x = randn(5, 2, 3, 3)
    assert layer.forward(x).shape == (5, 4)
    assert layer.backward(randn(5, 4)).shape == x.shape
    assert layer.grads[0] is dW and layer.grads[1] is db and np.abs(dW).sum() > 0


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize(
    "make, torch_fn", [(nn.Sigmoid, torch.sigmoid), (nn.Tanh, torch.tanh), (nn.ReLU, torch.relu)]
)
def test_activations(n, d, make, torch_fn):
    x = away_from_zero(n, d)
    assert max(check_layer(make(), x).values()) < 1e-6
    assert max(compare_with_torch(make(), torch_fn, x).values()) < 1e-12


def test_sigmoid_does_not_overflow_and_keeps_dtype():
    x = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype="float32")
    with np.errstate(over="raise", invalid="raise"):
        y = nn.Sigmoid().forward(x)
    assert y.dtype == np.float32 and y[2] == 0.5 and y[0] == 0.0 and y[-1] == 1.0


def test_dropout_with_fixed_mask_matches_torch():
    layer = nn.Dropout(0.3, rng=0)
    mask = np.random.default_rng(0).random((6, 11)) >= 0.3  # the mask its first forward draws
    errors = compare_with_torch(layer, lambda x: x * torch.tensor(mask) / 0.7, randn(6, 11))
    assert (layer.mask == mask).all() and max(errors.values()) < 1e-14


def test_dropout_numeric_gradient_with_frozen_mask():
    layer = nn.Dropout(0.5, rng=0)
    frozen = np.random.default_rng(1).random((3, 5))
    layer._uniform = lambda xp, shape: frozen
    assert max(check_layer(layer, randn(3, 5)).values()) < 1e-6


def test_dropout_eval_is_identity_and_train_keeps_the_mean():
    layer = nn.Dropout(0.25, rng=0)
    x = np.ones((200, 500))
    assert abs(layer.forward(x).mean() - 1) < 0.01  # inverted dropout: E[y] = x
    assert abs(layer.mask.mean() - 0.75) < 0.01
    layer.training = False
    assert layer.forward(x) is x and layer.backward(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.0)


def test_dropout_same_seed_same_masks():
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=7)
    x = np.ones((4, 4))
    for _ in range(3):
        a.forward(x), b.forward(x)
        assert (a.mask == b.mask).all()


def _torch_batchnorm(bn, training):
    def fn(x, gamma, beta):
        rm = torch.tensor(bn_state[0]) if not training else None
        rv = torch.tensor(bn_state[1]) if not training else None
        return F.batch_norm(x, rm, rv, gamma, beta, training=training, eps=bn.eps)

    bn_state = (bn.running_mean.copy(), bn.running_var.copy())
    return fn


def _trained_batchnorm(c, seed=3):
    """A BatchNorm with non-trivial gamma, beta and running statistics."""
    bn = nn.BatchNorm(c, dtype="float64")
    bn.gamma[...] = 1 + 0.5 * randn(c, seed=seed)
    bn.beta[...] = randn(c, seed=seed + 1)
    bn.running_mean[...] = randn(c, seed=seed + 2)
    bn.running_var[...] = 0.5 + np.random.default_rng(seed).random(c)
    return bn


@pytest.mark.parametrize("shape", [(2, 1), (4, 3), (7, 9), (3, 2, 3, 5)])
def test_batchnorm_train(shape):
    bn = _trained_batchnorm(shape[1])
    x = 2 + 3 * randn(*shape)
    assert max(check_layer(bn, x).values()) < 1e-6
    bn = _trained_batchnorm(shape[1])
    assert max(compare_with_torch(bn, _torch_batchnorm(bn, True), x).values()) < 1e-9


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 3), (3, 2, 3, 5)])
def test_batchnorm_eval(shape):
    bn = _trained_batchnorm(shape[1])
    bn.training = False
    x = randn(*shape)
    assert max(check_layer(bn, x).values()) < 1e-6
    assert max(compare_with_torch(bn, _torch_batchnorm(bn, False), x).values()) < 1e-12


def test_batchnorm_running_statistics_match_torch():
    ours = nn.BatchNorm(5, momentum=0.9, dtype="float64")
    theirs = torch.nn.BatchNorm1d(5, momentum=0.1, dtype=torch.float64)
    for seed in range(4):
        x = 1 + 2 * randn(8, 5, seed=seed)
        ours.forward(x)
        theirs(torch.tensor(x))
    assert rel_error(ours.running_mean, theirs.running_mean) < 1e-12
    assert rel_error(ours.running_var, theirs.running_var) < 1e-12


@pytest.mark.parametrize("n, c", [(1, 1), (1, 4), (5, 3), (6, 10)])
@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_cross_entropy(n, c, one_hot):
    scores = randn(n, c)
    labels = np.random.default_rng(1).integers(0, c, n)
    target = np.eye(c)[labels] if one_hot else labels
    assert check_loss(nn.SoftmaxCrossEntropy(), scores, target)["dx"] < 1e-6
    errors = compare_loss_with_torch(nn.SoftmaxCrossEntropy(), F.cross_entropy, scores, target)
    assert max(errors.values()) < 1e-12


def test_softmax_cross_entropy_is_stable_for_huge_scores():
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert np.isclose(value, 500.0)


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sigmoid_cross_entropy(n, d, reduction):
    logits, targets = 3 * randn(n, d), np.random.default_rng(2).random((n, d))
    assert check_loss(nn.SigmoidCrossEntropy(reduction), logits, targets)["dx"] < 1e-6
    per = n if reduction == "mean" else 1  # ours: sum over features, mean over the batch
    errors = compare_loss_with_torch(
        nn.SigmoidCrossEntropy(reduction),
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="sum") / per,
        logits,
        targets,
    )
    assert max(errors.values()) < 1e-12


def test_sigmoid_cross_entropy_is_stable_for_huge_logits():
    loss = nn.SigmoidCrossEntropy()
    value = loss.forward(np.array([[800.0, -800.0]]), np.array([[0.0, 1.0]]))
    assert np.isclose(value, 1600.0)
    assert np.allclose(loss.backward(), [[1.0, -1.0]])


@pytest.mark.parametrize("n, d", SHAPES)
def test_mse(n, d):
    y, t = randn(n, d), randn(n, d, seed=1)
    assert check_loss(nn.MSELoss(), y, t)["dx"] < 1e-6
    errors = compare_loss_with_torch(  # ours: 1/2 sum of squares, mean over the batch
        nn.MSELoss(), lambda y, t: 0.5 * F.mse_loss(y, t, reduction="sum") / n, y, t
    )
    assert max(errors.values()) < 1e-12
    assert np.isclose(nn.MSELoss("sum").forward(y, t), 0.5 * ((y - t) ** 2).sum())


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sigmoid_squared_error(n, d, reduction):
    logits, targets = 2 * randn(n, d), np.random.default_rng(3).random((n, d))
    assert check_loss(nn.SigmoidSquaredError(reduction), logits, targets)["dx"] < 1e-6
    per = n if reduction == "mean" else 1
    errors = compare_loss_with_torch(
        nn.SigmoidSquaredError(reduction),
        lambda z, t: 0.5 * F.mse_loss(torch.sigmoid(z), t, reduction="sum") / per,
        logits,
        targets,
    )
    assert max(errors.values()) < 1e-12


def test_sequential_chains_and_exposes_the_layers_arrays():
    model = nn.Sequential(
        nn.Linear(4, 6, rng=0, dtype="float64"),
        nn.Tanh(),
        nn.BatchNorm(6, dtype="float64"),
        nn.Dropout(0.5),
        nn.Linear(6, 3, rng=1, dtype="float64"),
    )
    assert model.params[0] is model.layers[0].W and model.grads[-1] is model.layers[-1].grads[1]
    assert list(model.named_params()) == ["0.W", "0.b", "2.gamma", "2.beta", "4.W", "4.b"]
    assert list(model.named_buffers()) == ["2.running_mean", "2.running_var"]
    model.eval()
    assert not any(getattr(layer, "training", False) for layer in model.layers)
    x = randn(5, 4)
    assert max(check_layer(model, x).values()) < 1e-6
    model.train()
    assert model.layers[3].training and model.layers[2].training


@pytest.mark.parametrize(
    "spec, sigma", [("he", np.sqrt(2 / 300)), ("xavier", np.sqrt(2 / 500)), (0.01, 0.01)]
)
def test_weight_init_scales(spec, sigma):
    W = nn.Linear(300, 200, weight_init=spec, rng=0).W
    assert W.dtype == np.float32 and W.shape == (300, 200)
    assert abs(W.std() / sigma - 1) < 0.02 and abs(W.mean()) < 0.1 * sigma


def test_weight_init_callable_seed_and_errors():
    layer = nn.Linear(3, 2, weight_init=lambda shape, rng: np.ones(shape), dtype="float64")
    assert np.array_equal(layer.W, np.ones((3, 2))) and np.array_equal(layer.b, np.zeros(2))
    assert np.array_equal(nn.Linear(4, 3, rng=5).W, nn.Linear(4, 3, rng=5).W)
    assert init.fans((16, 3, 5, 5)) == (75, 400)  # conv filters: (out, in, kh, kw)
    with pytest.raises(ValueError, match="unknown weight_init"):
        nn.Linear(3, 2, weight_init="uniform")


@pytest.mark.parametrize("n", [1, 4, 7])
@pytest.mark.parametrize("n_in, n_out", [(1, 1), (5, 3), (2, 9)])
def test_tied_linear(n, n_in, n_out):
    source = nn.Linear(n_in, n_out, rng=3, dtype="float64")
    tied = nn.TiedLinear(source)
    tied.b[...] = randn(n_in, seed=4)
    x = randn(n, n_out)
    assert tied.W is source.W and tied.forward(x).shape == (n, n_in)
    assert max(check_layer(tied, x).values()) < 1e-6
    assert max(compare_with_torch(tied, lambda x, W, b: x @ W.T + b, x).values()) < 1e-10


def test_first_layer_can_skip_the_input_gradient():
    model = nn.Sequential(
        nn.Linear(5, 4, rng=0, dtype="float64", input_grad=False),
        nn.Tanh(),
        nn.Linear(4, 2, rng=1, dtype="float64"),
    )
    full = nn.Sequential(
        nn.Linear(5, 4, rng=0, dtype="float64"), nn.Tanh(), nn.Linear(4, 2, rng=1, dtype="float64")
    )
    x, dout = randn(3, 5), randn(3, 2, seed=1)
    model.forward(x), full.forward(x)
    assert model.backward(dout) is None and full.backward(dout).shape == (3, 5)
    for g, h in zip(model.grads, full.grads):
        assert np.array_equal(g, h)


def test_linear_names_a_wrong_input_width():
    with pytest.raises(ValueError, match=r"Linear\(4, 2\) got an input of shape \(3, 5\)"):
        nn.Linear(4, 2).forward(np.zeros((3, 5), "float32"))


# ---- defects found with unusual input: shapes that broadcast silently, batches of one ----


def test_softmax_labels_shaped_n_by_1_are_refused_not_broadcast():
    scores = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2], [0.3, 0.4, 0.3]]))
    labels = np.array([2, 2, 0, 1])
    right = float(nn.SoftmaxCrossEntropy("sum").forward(scores, labels))
    assert np.isclose(right, -np.log([0.5, 0.8, 0.6, 0.4]).sum())
    with pytest.raises(
        ValueError, match=r"labels of shape \(4, 1\).*integer labels of shape \(4,\)"
    ):
        nn.SoftmaxCrossEntropy().forward(scores, labels.reshape(4, 1))


def test_softmax_labels_must_be_integers_in_range():
    scores = randn(3, 4)
    with pytest.raises(ValueError, match="integers"):
        nn.SoftmaxCrossEntropy().forward(scores, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"0\.\.3"):
        nn.SoftmaxCrossEntropy().forward(scores, np.array([0, -1, 2]))  # -1 would pick class 3
    with pytest.raises(ValueError, match=r"0\.\.3"):
        nn.SoftmaxCrossEntropy().forward(scores, np.array([0, 4, 2]))


def test_softmax_over_a_time_axis_counts_every_position():
    scores, labels = randn(2, 3, 4), np.random.default_rng(0).integers(0, 4, (2, 3))
    loss = nn.SoftmaxCrossEntropy()
    flat = nn.SoftmaxCrossEntropy().forward(scores.reshape(6, 4), labels.reshape(6))
    assert np.isclose(loss.forward(scores, labels), flat)
    assert check_loss(nn.SoftmaxCrossEntropy(), scores, labels)["dx"] < 1e-6


@pytest.mark.parametrize("make", [nn.SigmoidCrossEntropy, nn.SigmoidSquaredError, nn.MSELoss])
def test_targets_of_another_shape_are_refused_not_broadcast(make):
    y = randn(5, 1)
    with pytest.raises(ValueError, match=r"targets of shape \(5,\) for outputs of shape \(5, 1\)"):
        make().forward(y, np.zeros(5))
    with pytest.raises(ValueError, match="same shape"):
        make().forward(randn(5, 3), np.zeros((5, 1)))


def test_batchnorm_refuses_a_training_batch_of_one_and_keeps_its_statistics():
    bn = _trained_batchnorm(3)
    before = bn.running_var.copy(), bn.running_mean.copy()
    with pytest.raises(ValueError, match="batch of shape \\(1, 3\\)"):
        bn.forward(randn(1, 3))
    assert np.array_equal(bn.running_var, before[0]) and np.array_equal(bn.running_mean, before[1])
    with pytest.raises(ValueError):  # torch refuses it too
        torch.nn.BatchNorm1d(3)(torch.randn(1, 3))
    bn.eval()
    assert bn.forward(randn(1, 3)).shape == (1, 3)  # in eval mode a single example is fine
