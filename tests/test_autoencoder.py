"""Deep autoencoder: flat-loss gradient, unrolling, conjugate gradients, torch twin."""
import numpy as np
import pytest
import torch

from course_lib.backend import cupy_module
from course_lib.models.autoencoder import DeepAutoencoder, DeepClassifier, finetune_cg, finetune_minibatch, logistic_pca
from course_lib.models.rbm import RBM
from course_lib.models.stacked_ae import TiedAutoencoderLayer, pretrain_stacked_ae, unroll
from course_lib.torch.autoencoder import TorchDeepAutoencoder, TorchFlatNet, TorchTiedLayer


def numeric_grad(net, x, y=None, h=1e-5):
    th = net.theta.copy()
    g = np.zeros_like(th)
    for i in range(th.size):
        tp, tm = th.copy(), th.copy()
        tp[i] += h
        tm[i] -= h
        g[i] = (net.loss_and_grad(x, y, tp)[0] - net.loss_and_grad(x, y, tm)[0]) / (2 * h)
    return g


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("linear_code", [True, False])
def test_autoencoder_gradient(linear_code):
    rng = np.random.default_rng(0)
    net = DeepAutoencoder([10, 7, 5, 3], linear_code=linear_code, dtype="float64").init_random(1, 0.5)
    x = rng.random((6, 10))
    assert rel_error(net.loss_and_grad(x)[1], numeric_grad(net, x)) < 1e-6


def test_classifier_gradient():
    rng = np.random.default_rng(0)
    net = DeepClassifier([10, 6, 5, 4], dtype="float64").init_random(2, 0.5)
    x, y = rng.random((7, 10)), rng.integers(0, 4, 7)
    assert rel_error(net.loss_and_grad(x, y)[1], numeric_grad(net, x, y)) < 1e-6


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


def test_cg_step_reduces_loss():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) < np.linspace(0.1, 0.9, 20)).astype("float32")
    net = DeepAutoencoder([20, 10, 4], dtype="float32").init_random(0, 0.1)
    before = float(net.loss_and_grad(x)[0])
    hist = finetune_cg(net, x, epochs=1, batch_size=200, line_searches=3)
    after = float(net.loss_and_grad(x)[0])
    assert after < before and hist[0]["nfev"] >= 3


def test_minibatch_adam_reduces_loss():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) < np.linspace(0.1, 0.9, 20)).astype("float32")
    net = logistic_pca(20, 4, seed=0)
    before = float(net.loss_and_grad(x)[0])
    finetune_minibatch(net, x, epochs=3, batch_size=50, optimizer="adam", lr=1e-2)
    assert float(net.loss_and_grad(x)[0]) < before


def test_classifier_top_layer_mask_freezes_the_rest():
    rng = np.random.default_rng(0)
    net = DeepClassifier([8, 6, 3]).init_random(0, 0.3)
    x, y = rng.random((30, 8)).astype("float32"), rng.integers(0, 3, 30)
    theta0 = net.theta.copy()
    finetune_cg(net, x, y, epochs=1, batch_size=30, grad_mask=net.top_layer_mask(), grad_mask_epochs=1)
    n_bottom = 8 * 6 + 6
    assert np.array_equal(net.theta[:n_bottom], theta0[:n_bottom])
    assert not np.array_equal(net.theta[n_bottom:], theta0[n_bottom:])


def test_torch_twin_matches_numpy():
    rng = np.random.default_rng(0)
    net = DeepAutoencoder([15, 9, 6, 2], dtype="float64").init_random(3, 0.4)
    x = rng.random((11, 15))
    tnet = TorchDeepAutoencoder.from_numpy(net)
    xt = torch.as_tensor(x)
    loss, grad = net.loss_and_grad(x)
    tloss, tgrad = tnet.flat_loss_and_grad(xt)
    assert np.isclose(loss, float(tloss), rtol=1e-12)
    assert rel_error(grad, tgrad.numpy()) < 1e-10
    assert np.allclose(net.reconstruct(x), torch.sigmoid(tnet(xt)).detach().numpy())
    assert np.allclose(net.encode(x), tnet.encode(xt).detach().numpy())
    assert np.isclose(net.squared_error(x), tnet.squared_error(xt))
    cls = DeepClassifier([15, 6, 4], dtype="float64").init_random(1, 0.3)
    y = rng.integers(0, 4, 11)
    l1, g1 = cls.loss_and_grad(x, y)
    l2, g2 = TorchFlatNet.from_numpy(cls).flat_loss_and_grad(xt, torch.as_tensor(y))
    assert np.isclose(l1, float(l2)) and rel_error(g1, g2.numpy()) < 1e-10


def test_tied_layer_gradient_and_torch_twin():
    rng = np.random.default_rng(0)
    x = rng.random((9, 12))
    for linear in (False, True):
        layer = TiedAutoencoderLayer(12, 5, linear=linear, seed=0, dtype="float64")
        loss, grads = layer.loss_and_grads(x)
        t = TorchTiedLayer(layer.W, layer.c, layer.b, linear=linear, dtype=torch.float64)
        tloss = t.loss(torch.as_tensor(x))
        tgrads = torch.autograd.grad(tloss, [t.W, t.c, t.b])
        assert np.isclose(loss, float(tloss.detach()))
        for g, tg in zip(grads, tgrads):
            assert rel_error(g, tg.numpy()) < 1e-10


def test_stacked_ae_unrolls():
    x = np.random.default_rng(0).random((200, 16)).astype("float32")
    layers = pretrain_stacked_ae(x, [16, 8, 2], epochs=2, batch_size=50)
    net = unroll(layers)
    assert net.sizes == [16, 8, 2, 8, 16] and net.activations == ["sigmoid", "linear", "sigmoid"]
    assert np.array_equal(net.weights[-1], layers[0].W.T) and np.array_equal(net.biases[-1], layers[0].b)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cp = cupy_module()
    rng = np.random.default_rng(0)
    net = DeepAutoencoder([15, 9, 6, 2], dtype="float64").init_random(3, 0.4)
    gnet = DeepAutoencoder([15, 9, 6, 2], dtype="float64", xp=cp).set_params(net.params)
    x = rng.random((11, 15))
    l1, g1 = net.loss_and_grad(x)
    l2, g2 = gnet.loss_and_grad(cp.asarray(x))
    assert np.isclose(l1, float(l2)) and rel_error(g1, cp.asnumpy(g2)) < 1e-10


@pytest.mark.gpu
def test_cuda_graph_step_matches_eager():
    from course_lib.torch.autoencoder import finetune_sgd_torch

    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA GPU")
    net = DeepAutoencoder([20, 10, 2], dtype="float64").init_random(0, 0.3)
    x = torch.as_tensor(np.random.default_rng(0).random((400, 20)), device="cuda")
    a = TorchDeepAutoencoder.from_numpy(net, device="cuda")
    b = TorchDeepAutoencoder.from_numpy(net, device="cuda")
    la = finetune_sgd_torch(a, x, epochs=2, batch_size=100, lr=0.05, mode="eager")
    lb = finetune_sgd_torch(b, x, epochs=2, batch_size=100, lr=0.05, mode="graph")
    assert np.allclose(la, lb)
    for p, q in zip(a.flat_params(), b.flat_params()):
        assert torch.allclose(p, q)
