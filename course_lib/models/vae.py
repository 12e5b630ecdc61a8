"""A variational autoencoder by hand (Kingma & Welling 2014), on ``course_lib.nn`` layers.

Encoder q(z | x) = N(mu(x), diag sigma^2(x)), an MLP whose last layer gives (mu, logvar);
decoder p(x | z) = prod_i Bernoulli(x_i; sigmoid(l_i(z))), an MLP giving logits l; prior
p(z) = N(0, I).  One sample of the *reparameterisation*

    z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I)

makes the negative evidence lower bound (ELBO) of each example differentiable in mu and logvar:

    -ELBO(x) = sum_i BCE(x_i, l_i)  +  KL(q(z | x) || p(z))
             = sum_i [softplus(l_i) - x_i l_i]  -  1/2 sum_j (1 + logvar_j - mu_j^2 - e^{logvar_j})

``forward`` returns its mean over the batch and the two terms; ``backward`` sends the gradients
back by hand (see :meth:`VAE.backward`).  ``-ELBO >= -log p(x)``; :meth:`VAE.iwae_nll` tightens
the bound with k importance samples (Burda, Grosse & Salakhutdinov 2016).  The data must lie in
[0, 1]; for grey pixels the "likelihood" is the cross-entropy, a proper one only for binary x.
"""

from __future__ import annotations

import time

import numpy as np

from course_lib import nn
from course_lib.backend import get_array_module
from course_lib.history import History, progress_bar

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
LOG_2PI = float(np.log(2 * np.pi))


def mlp(sizes, activation, kw, first_input_grad=True):
    """Linear layers ``sizes[0] - sizes[1] - ...``, ``activation`` between them, linear out."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.Linear(n_in, n_out, input_grad=first_input_grad or i > 0, **kw))
    return nn.Sequential(*layers)


def kl_standard_normal(mu, logvar):
    """KL(N(mu, diag e^logvar) || N(0, I)) of each row: -1/2 sum_j (1 + logvar - mu^2 -
    e^logvar)."""
    xp = get_array_module(mu)
    return -0.5 * (1 + logvar - mu**2 - xp.exp(logvar)).sum(axis=1)


class VAE(nn.Layer):
    """``VAE([784, 400], 20, [400, 784])``: encoder 784-400-(2x20), decoder 20-400-784.

    ``sizes_encoder`` runs from the input to the last hidden layer, ``sizes_decoder`` from the
    first hidden layer to the output (the input's size).  Hidden units are ``activation``
    (``"tanh"`` as in the paper, or ``"relu"``).  ``rng`` seeds the weights and the default eps.
    """

    def __init__(
        self,
        sizes_encoder,
        latent: int,
        sizes_decoder,
        *,
        activation="tanh",
        weight_init="xavier",
        rng=None,
        dtype="float32",
        xp=np,
    ):
        if sizes_decoder[-1] != sizes_encoder[0]:
            raise ValueError(
                f"the decoder must output the input's {sizes_encoder[0]} numbers, "
                f"not {sizes_decoder[-1]}: end sizes_decoder with {sizes_encoder[0]}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation}")
        self.rng = np.random.default_rng(rng)
        kw = dict(weight_init=weight_init, rng=self.rng, dtype=dtype, xp=xp)
        self.latent, self.dtype, self.xp = latent, np.dtype(dtype), xp
        self.encoder = mlp([*sizes_encoder, 2 * latent], activation, kw, first_input_grad=False)
        self.decoder = mlp([latent, *sizes_decoder], activation, kw)
        self.layers = [self.encoder, self.decoder]

    params = nn.Sequential.params
    grads = nn.Sequential.grads
    named_params = nn.Sequential.named_params
    _named = nn.Sequential._named

    def train(self, mode=True):
        self.training = mode
        self.encoder.train(mode)
        self.decoder.train(mode)
        return self

    def draw_eps(self, n: int, rng=None):
        """Standard normal (n, latent), from ``rng`` (else the model's generator), on the host."""
        g = self.rng if rng is None else np.random.default_rng(rng)
        return self.xp.asarray(g.standard_normal((n, self.latent)), dtype=self.dtype)

    def forward(self, x, eps=None):
        """Returns ``(loss, reconstruction, kl)``: the mean over the batch of -ELBO and of its two
        terms (0-d arrays).  ``eps`` (N, latent) fixes the noise; None draws it."""
        xp = get_array_module(x)
        self.x = x.reshape(x.shape[0], -1)
        h = self.encoder.forward(self.x)
        self.mu, self.logvar = h[:, : self.latent], h[:, self.latent :]
        self.eps = self.draw_eps(len(x)) if eps is None else eps
        self.sigma = xp.exp(0.5 * self.logvar)
        self.logits = self.decoder.forward(self.mu + self.sigma * self.eps)
        rec = (nn.softplus(self.logits) - self.x * self.logits).sum(axis=1)
        kl = kl_standard_normal(self.mu, self.logvar)
        return (rec + kl).mean(), rec.mean(), kl.mean()

    def backward(self, dout=1.0):
        """Gradients of the mean -ELBO (times ``dout``) into every parameter's ``grads``.

        dl = (sigmoid(l) - x) / N through the decoder gives dz; then, with z = mu + sigma eps,

            dmu = dz + mu / N,    dlogvar = dz * eps * sigma / 2 + (e^logvar - 1) / (2N)

        (first terms: the reconstruction through z; second: the KL's closed form).
        """
        xp = get_array_module(self.x)
        scale = dout / len(self.x)
        dz = self.decoder.backward((nn.sigmoid(self.logits) - self.x) * scale)
        dmu = dz + self.mu * scale
        dlogvar = 0.5 * dz * self.eps * self.sigma + 0.5 * (xp.exp(self.logvar) - 1) * scale
        self.encoder.backward(xp.concatenate([dmu, dlogvar], axis=1))

    def encode(self, x):
        """The posterior means mu(x), shape (N, latent)."""
        return self.encoder.forward(x.reshape(x.shape[0], -1))[:, : self.latent]

    def decode(self, z):
        """The Bernoulli means sigmoid(l(z)): pixel probabilities, shape (N, D)."""
        return nn.sigmoid(self.decoder.forward(z))

    def sample(self, n: int, rng=None):
        """``decode(z)`` for n draws z ~ N(0, I) from ``rng`` (a seed or Generator)."""
        return self.decode(self.draw_eps(n, rng))

    def negative_elbo(self, x, batch_size: int = 1000, rng=None) -> float:
        """Mean -ELBO over ``x`` with one eps per example drawn from ``rng`` (nats per example)."""
        g = np.random.default_rng(rng)
        total = 0.0
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            total += float(self.forward(xb, self.draw_eps(len(xb), g))[0]) * len(xb)
        return total / len(x)

    def iwae_nll(self, x, k: int = 50, rng=None):
        """Per-example estimate of -log p(x) from k importance samples (Burda et al. 2016):

            -log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x),   z_j = mu + sigma eps_j,

        an upper bound on -log p(x) that tightens as k grows; k = 1 is -ELBO (its expectation).
        log p(z) - log q(z | x) = 1/2 sum (eps^2 - z^2 + logvar).  Returns a (N,) array.
        """
        xp, g = get_array_module(x), np.random.default_rng(rng)
        x = x.reshape(x.shape[0], -1)
        h = self.encoder.forward(x)
        mu, logvar = h[:, : self.latent], h[:, self.latent :]
        log_w = []
        for _ in range(k):
            eps = self.draw_eps(len(x), g)
            z = mu + xp.exp(0.5 * logvar) * eps
            logits = self.decoder.forward(z)
            log_px = -(nn.softplus(logits) - x * logits).sum(axis=1)
            log_w.append(log_px + 0.5 * (eps**2 - z**2 + logvar).sum(axis=1))
        log_w = xp.stack(log_w)
        top = log_w.max(axis=0)
        return -(top + xp.log(xp.exp(log_w - top).mean(axis=0)))


def fit_vae(
    model, optimizer, x, *, epochs=1, batch_size=100, rng=None, progress=False, evaluate=None
):
    """Minibatch training of ``model`` on -ELBO; returns a :class:`~course_lib.history.History`
    whose rows hold ``loss``, ``reconstruction`` and ``kl`` (epoch means) and ``seconds``.

    ``rng`` (a seed) orders the shuffled batches; eps comes from the model's own generator.
    ``evaluate(model) -> dict`` adds numbers to each epoch's row.
    """
    order_rng, history = np.random.default_rng(rng), History()
    n_batches = -(-len(x) // batch_size)
    bar, start = progress_bar(epochs * n_batches, "VAE", progress), time.perf_counter()
    for epoch in range(1, epochs + 1):
        t0, sums, order = time.perf_counter(), np.zeros(3), order_rng.permutation(len(x))
        for s in range(0, len(x), batch_size):
            xb = x[get_array_module(x).asarray(order[s : s + batch_size])]
            parts = model.forward(xb)
            model.backward()
            optimizer.step()
            history.steps.append(float(parts[0]))
            sums += np.array([float(p) for p in parts]) * len(xb)
            bar.update()
        row = dict(zip(("loss", "reconstruction", "kl"), (sums / len(x)).tolist()))
        row = {"epoch": epoch, **row, **(evaluate(model) if evaluate else {})}
        history.epochs.append({**row, "seconds": time.perf_counter() - t0})
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
