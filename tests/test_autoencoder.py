"""Deep and stacked autoencoders on the nn engine: gradients, unrolling, CG, torch twins."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn, optim
from course_lib.backend import cupy_module
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.autoencoder import DeepAutoencoder, DeepClassifier, logistic_pca
from course_lib.models.rbm import RBM
from course_lib.models.stacked_ae import TiedAutoencoder, pretrain_stacked_ae, unroll
from course_lib.train import fit, fit_cg
from course_lib.twins.autoencoder import TorchAutoencoder, finetune_sgd_torch
from course_lib.twins.layers import flat_grad, to_torch


def loss_and_grad(net, loss, x, y):
    value = loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    return float(value), net.flat.grad.copy()


def flat_numeric_grad(net, loss, x, y):
    return numeric_gradient(lambda: loss.forward(net.forward(x), y), net.flat.theta)


def norm_rel_error(a, b):
    """|a - b| / (|a| + |b|) over the whole vector: tiny entries' rounding does not dominate."""
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("linear_code", [True, False])
@pytest.mark.parametrize("n", [1, 6])
def test_autoencoder_gradient(linear_code, n):
    x = np.random.default_rng(0).random((n, 10))
    net = DeepAutoencoder([10, 7, 5, 3], linear_code=linear_code, dtype="float64").init_random(
        1, 0.5
    )
    loss = nn.SigmoidCrossEntropy()
    _, grad = loss_and_grad(net, loss, x, x)
    assert norm_rel_error(grad, flat_numeric_grad(net, loss, x, x)) < 1e-7


def test_classifier_gradient():
    rng = np.random.default_rng(0)
    net = DeepClassifier([10, 6, 5, 4], dtype="float64").init_random(2, 0.5)
    x, y = rng.random((7, 10)), rng.integers(0, 4, 7)
    loss = nn.SoftmaxCrossEntropy()
    _, grad = loss_and_grad(net, loss, x, y)
    assert norm_rel_error(grad, flat_numeric_grad(net, loss, x, y)) < 1e-7


def test_unrolled_decoder_is_transposed_encoder():
    rbms = [RBM(12, 8, seed=0), RBM(8, 5, seed=1), RBM(5, 2, hidden="linear", seed=2)]
    for i, r in enumerate(rbms):
        r.b_vis[...] = i + 0.5
        r.b_hid[...] = -i - 0.25
    ae = DeepAutoencoder.from_rbms(rbms)
    assert ae.sizes == [12, 8, 5, 2, 5, 8, 12]
    assert ae.activations == ["sigmoid", "sigmoid", "linear", "sigmoid", "sigmoid"]
    W, b = ae.weights, ae.biases
    for i, r in enumerate(rbms):
        assert np.array_equal(W[i], r.W) and np.array_equal(b[i], r.b_hid)
        assert np.array_equal(W[-1 - i], r.W.T) and np.array_equal(b[-1 - i], r.b_vis)
    assert np.shares_memory(W[0], ae.theta)  # parameters are views into the flat vector
    x = np.random.default_rng(0).random((4, 12)).astype("float32")
    assert ae.encode(x).shape == (4, 2)


def test_cg_epoch_reduces_loss():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) < np.linspace(0.1, 0.9, 20)).astype("float32")
    net = DeepAutoencoder([20, 10, 4]).init_random(0, 0.1)
    loss = nn.SigmoidCrossEntropy()
    before = loss_and_grad(net, loss, x, x)[0]
    hist = fit_cg(net, loss, x, epochs=1, batch_size=200, line_searches=3, progress=False)
    assert loss_and_grad(net, loss, x, x)[0] < before and hist[0]["nfev"] >= 3
    assert len(hist.steps) == 1 and hist["loss"] == hist.steps


def test_minibatch_adam_reduces_loss():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) < np.linspace(0.1, 0.9, 20)).astype("float32")
    net = logistic_pca(20, 4, seed=0)
    loss = nn.SigmoidCrossEntropy()
    before = loss_and_grad(net, loss, x, x)[0]
    adam = optim.Adam([net.theta], [net.flat.grad], lr=1e-2)
    fit(net, loss, adam, x, epochs=3, batch_size=50, progress=False)
    assert loss_and_grad(net, loss, x, x)[0] < before


def test_classifier_top_layer_mask_freezes_the_rest():
    rng = np.random.default_rng(0)
    net = DeepClassifier([8, 6, 3]).init_random(0, 0.3)
    x, y = rng.random((30, 8)).astype("float32"), rng.integers(0, 3, 30)
    theta0 = net.theta.copy()
    fit_cg(
        net,
        nn.SoftmaxCrossEntropy(),
        x,
        y,
        epochs=1,
        batch_size=30,
        grad_mask=net.top_layer_mask(),
        mask_epochs=1,
        progress=False,
    )
    n_bottom = 8 * 6 + 6
    assert np.array_equal(net.theta[:n_bottom], theta0[:n_bottom])
    assert not np.array_equal(net.theta[n_bottom:], theta0[n_bottom:])


def test_torch_twin_matches_numpy():
    rng = np.random.default_rng(0)
    net = DeepAutoencoder([15, 9, 6, 2], dtype="float64").init_random(3, 0.4)
    x = rng.random((11, 15))
    twin, xt = TorchAutoencoder.from_numpy(net), torch.as_tensor(x)
    value, grad = loss_and_grad(net, nn.SigmoidCrossEntropy(), x, x)
    tloss = twin.loss(xt)
    assert np.isclose(value, float(tloss.detach()), rtol=1e-12)
    assert rel_error(grad, flat_grad(twin, tloss)) < 1e-10
    assert np.allclose(net.reconstruct(x), torch.sigmoid(twin(xt)).detach().numpy())
    assert np.allclose(net.encode(x), twin.encode(xt).detach().numpy())
    assert np.isclose(net.squared_error(x), twin.squared_error(xt))


def test_classifier_twin_matches_numpy():
    rng = np.random.default_rng(1)
    cls = DeepClassifier([15, 6, 4], dtype="float64").init_random(1, 0.3)
    x, y = rng.random((11, 15)), rng.integers(0, 4, 11)
    value, grad = loss_and_grad(cls, nn.SoftmaxCrossEntropy(), x, y)
    twin = to_torch(cls)
    tloss = F.cross_entropy(twin(torch.as_tensor(x)), torch.as_tensor(y))
    assert (
        np.isclose(value, float(tloss.detach())) and rel_error(grad, flat_grad(twin, tloss)) < 1e-10
    )
    assert np.allclose(cls.probabilities(x).sum(axis=1), 1.0)


@pytest.mark.parametrize("linear", [False, True])
@pytest.mark.parametrize("n", [1, 9])
def test_tied_layer_gradient_numeric_and_torch(linear, n):
    x = np.random.default_rng(0).random((n, 12))
    layer = TiedAutoencoder(12, 5, linear=linear, seed=0, dtype="float64")
    loss = nn.SigmoidCrossEntropy()
    value, grad = loss_and_grad(layer, loss, x, x)
    assert grad.size == 12 * 5 + 5 + 12  # the shared W is stored once
    assert norm_rel_error(grad, flat_numeric_grad(layer, loss, x, x)) < 1e-7
    twin = TorchAutoencoder.from_numpy(layer)
    tloss = twin.loss(torch.as_tensor(x))
    assert np.isclose(value, float(tloss.detach()))
    assert rel_error(grad, flat_grad(twin, tloss)) < 1e-10


def test_stacked_ae_unrolls():
    x = np.random.default_rng(0).random((200, 16)).astype("float32")
    layers = pretrain_stacked_ae(x, [16, 8, 2], epochs=2, batch_size=50)
    net = unroll(layers)
    assert net.sizes == [16, 8, 2, 8, 16] and net.activations == ["sigmoid", "linear", "sigmoid"]
    assert np.array_equal(net.weights[-1], layers[0].W.T) and np.array_equal(
        net.biases[-1], layers[0].b
    )


def test_stacked_ae_torch_twin_follows_the_same_path():
    from course_lib.twins.autoencoder import pretrain_stacked_ae_torch, unroll_torch

    x = np.random.default_rng(0).random((200, 16))
    layers = pretrain_stacked_ae(x, [16, 8, 2], epochs=2, batch_size=50, dtype="float64")
    tlayers = pretrain_stacked_ae_torch(
        torch.as_tensor(x), [16, 8, 2], epochs=2, batch_size=50, dtype=torch.float64
    )
    net, tnet = unroll(layers), unroll_torch(tlayers, dtype=torch.float64)
    assert np.isclose(net.squared_error(x), tnet.squared_error(torch.as_tensor(x)), rtol=1e-9)
    hist = finetune_sgd_torch(tnet, torch.as_tensor(x), epochs=2, batch_size=50, lr=0.05)
    assert len(hist) == 2 and hist[1]["loss"] < hist[0]["loss"]


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cp = cupy_module()
    rng = np.random.default_rng(0)
    net = DeepAutoencoder([15, 9, 6, 2], dtype="float64").init_random(3, 0.4)
    gnet = DeepAutoencoder([15, 9, 6, 2], dtype="float64", xp=cp).set_params(net.params)
    x = rng.random((11, 15))
    loss = nn.SigmoidCrossEntropy()
    l1, g1 = loss_and_grad(net, loss, x, x)
    l2, g2 = loss_and_grad(gnet, loss, cp.asarray(x), cp.asarray(x))
    assert np.isclose(l1, l2) and rel_error(g1, cp.asnumpy(g2)) < 1e-10


@pytest.mark.gpu
def test_cuda_graph_step_matches_eager():
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA GPU")
    net = DeepAutoencoder([20, 10, 2], dtype="float64").init_random(0, 0.3)
    x = torch.as_tensor(np.random.default_rng(0).random((400, 20)), device="cuda")
    a = TorchAutoencoder.from_numpy(net, device="cuda")
    b = TorchAutoencoder.from_numpy(net, device="cuda")
    la = finetune_sgd_torch(a, x, epochs=2, batch_size=100, lr=0.05, mode="eager")
    lb = finetune_sgd_torch(b, x, epochs=2, batch_size=100, lr=0.05, mode="graph")
    assert np.allclose(la["loss"], lb["loss"])
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q)
