"""The variational autoencoder by hand: numeric gradients, torch autograd, the KL term, IWAE."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import optim
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.vae import VAE, fit_vae, kl_standard_normal


def small_vae(activation="tanh", encoder=(7, 5), latent=3, decoder=(4, 7), seed=0):
    return VAE(
        list(encoder), latent, list(decoder), activation=activation, rng=seed, dtype="float64"
    )


def data(n, d=7, seed=1):
    g = np.random.default_rng(seed)
    return g.random((n, d)), g.standard_normal((n, 3))


@pytest.mark.parametrize("n", [1, 3, 5])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_vae_gradients_match_numeric(n, activation):
    model = small_vae(activation)
    x, eps = data(n)
    model.forward(x, eps)
    model.backward()
    grads = [g.copy() for g in model.grads]
    assert len(grads) == 8  # 2 encoder + 2 decoder layers, W and b each
    for p, g in zip(model.params, grads):
        numeric = numeric_gradient(lambda: model.forward(x, eps)[0], p)
        assert rel_error(g, numeric) < 1e-6


def test_vae_deeper_relu_gradients_match_numeric():
    model = small_vae("relu", encoder=(7, 6, 5), latent=2, decoder=(3, 4, 7))
    x, eps = data(3)
    eps = eps[:, :2]
    model.forward(x, eps)
    model.backward(2.0)  # dout scales every gradient
    for p, g in zip(model.params, [g.copy() for g in model.grads]):
        numeric = numeric_gradient(lambda: 2.0 * model.forward(x, eps)[0], p)
        assert rel_error(g, numeric) < 1e-6


def torch_neg_elbo(params, x, eps, latent, act):
    """The same model written with torch operations; params in the VAE's order (W, b, ...)."""
    h = x
    enc, dec = params[:4], params[4:]
    h = act(h @ enc[0] + enc[1]) @ enc[2] + enc[3]
    mu, logvar = h[:, :latent], h[:, latent:]
    z = mu + torch.exp(0.5 * logvar) * eps
    logits = act(z @ dec[0] + dec[1]) @ dec[2] + dec[3]
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)
    return (rec + kl).mean(), rec.mean(), kl.mean()


@pytest.mark.parametrize("n", [1, 4])
def test_vae_loss_and_gradients_equal_torch_autograd(n):
    model = small_vae()
    x, eps = data(n, seed=2)
    ours = model.forward(x, eps)
    model.backward()
    params = [torch.tensor(p, requires_grad=True) for p in model.params]
    theirs = torch_neg_elbo(params, torch.tensor(x), torch.tensor(eps), 3, torch.tanh)
    theirs[0].backward()
    for a, b in zip(ours, theirs):
        assert np.isclose(float(a), float(b.detach()), rtol=1e-12)
    for g, p in zip(model.grads, params):
        assert rel_error(g, p.grad.numpy()) < 1e-10


def test_kl_closed_form_against_monte_carlo_and_zero_at_the_prior():
    g = np.random.default_rng(0)
    mu, logvar = np.array([[0.5, -1.0, 0.2]]), np.array([[-0.5, 0.3, 0.0]])
    z = mu + np.exp(0.5 * logvar) * g.standard_normal((200_000, 3))
    log_q = -0.5 * (((z - mu) ** 2) / np.exp(logvar) + logvar + np.log(2 * np.pi)).sum(1)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi)).sum(1)
    mc = (log_q - log_p).mean()
    closed = float(kl_standard_normal(mu, logvar)[0])
    assert abs(mc - closed) < 0.02 and closed > 0.5
    assert kl_standard_normal(np.zeros((4, 3)), np.zeros((4, 3))).tolist() == [0.0] * 4


def test_forward_parts_add_up_and_eps_is_the_reparameterisation():
    model = small_vae()
    x, eps = data(4)
    loss, rec, kl = model.forward(x, eps)
    assert np.isclose(loss, rec + kl) and kl > 0 and rec > 0
    z = model.mu + np.exp(0.5 * model.logvar) * eps
    assert np.allclose(model.decode(z), 1 / (1 + np.exp(-model.logits)))
    assert np.array_equal(model.encode(x), model.mu)


def test_default_eps_is_seeded_and_sample_shapes():
    a, b = small_vae(seed=4), small_vae(seed=4)
    x, _ = data(3)
    assert float(a.forward(x)[0]) == float(b.forward(x)[0])
    assert float(a.forward(x)[0]) != float(small_vae(seed=4).forward(x, np.zeros((3, 3)))[0])
    s = a.sample(6, rng=0)
    assert s.shape == (6, 7) and s.min() >= 0 and s.max() <= 1
    assert np.array_equal(s, a.sample(6, rng=0))


def test_iwae_bound_is_tighter_than_the_elbo():
    model = small_vae(seed=3)
    x = (data(200, seed=5)[0] > 0.5).astype(float)
    elbo = model.negative_elbo(x, batch_size=64, rng=0)
    k1 = model.iwae_nll(x, k=1, rng=0).mean()
    k50 = model.iwae_nll(x, k=50, rng=0).mean()
    assert abs(k1 - elbo) < 0.05 * elbo  # k = 1 estimates -ELBO
    assert k50 < elbo - 1e-3 and model.iwae_nll(x[:5], k=7).shape == (5,)


def test_fit_vae_lowers_the_loss():
    x = (np.random.default_rng(0).random((120, 7)) > 0.7).astype(float)
    model = small_vae(seed=1)
    before = model.negative_elbo(x, rng=0)
    hist = fit_vae(
        model, optim.Adam(model.params, model.grads, lr=0.02), x, epochs=5, batch_size=30, rng=0
    )
    assert len(hist) == 5 and len(hist.steps) == 20
    assert np.isclose(hist[0]["loss"], hist[0]["reconstruction"] + hist[0]["kl"])
    assert model.negative_elbo(x, rng=0) < before - 0.5


def test_decoder_must_rebuild_the_input():
    with pytest.raises(ValueError, match="decoder"):
        VAE([784, 100], 2, [100, 700])
