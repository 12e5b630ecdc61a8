"""DCGAN (Radford, Metz & Chintala 2016) in torch, scaled down to 28x28 MNIST.

The paper's guidelines for stable deep convolutional GANs, as followed here:

* no pooling: strided convolutions in the discriminator, fractionally strided (transposed)
  convolutions in the generator;
* batch normalisation in both, except the generator's output and the discriminator's input layer;
* no fully connected hidden layers: z (100 numbers) is a 1x1 image the first transposed
  convolution projects to 7x7 maps;
* ReLU in the generator, tanh at its output; LeakyReLU (slope 0.2) in the discriminator;
* weights ~ N(0, 0.02), Adam with lr 2e-4 and beta1 = 0.5, minibatches of 128.

Generator  z (N, 100, 1, 1) -> 2g@7x7 -> g@14x14 -> 1@28x28;  discriminator  1@28x28 ->
d@14x14 -> 2d@7x7 -> one logit.  The losses are the paper's: the discriminator maximises
log D(x) + log(1 - D(G(z))), the generator maximises log D(G(z)) (the "non-saturating" loss),
both written as binary cross-entropy on the logits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.history import progress_bar

Z_DIM = 100


class Generator(nn.Sequential):
    """z (N, z_dim) or (N, z_dim, 1, 1) -> images (N, 1, 28, 28) in [-1, 1] (tanh) or [0, 1]."""

    def __init__(self, z_dim: int = Z_DIM, width: int = 64, output: str = "tanh"):
        if output not in ("tanh", "sigmoid"):
            raise ValueError(f"output={output!r}: use 'tanh' or 'sigmoid'")
        super().__init__(
            nn.ConvTranspose2d(z_dim, 2 * width, 7, 1, 0, bias=False),  # 1x1 -> 7x7
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # -> 14x14
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # -> 28x28
            nn.Tanh() if output == "tanh" else nn.Sigmoid(),
        )
        self.z_dim, self.output = z_dim, output

    def forward(self, z):
        return super().forward(z.reshape(len(z), self.z_dim, 1, 1))

    def to_unit(self, images):
        """Generated images mapped to pixels in [0, 1]."""
        return (images + 1) / 2 if self.output == "tanh" else images

    def from_unit(self, x):
        """Pixels in [0, 1] mapped to the generator's output range."""
        return 2 * x - 1 if self.output == "tanh" else x


class Discriminator(nn.Sequential):
    """Images (N, 1, 28, 28) -> one logit each, shape (N,): D(x) = sigmoid(logit)."""

    def __init__(self, width: int = 64):
        super().__init__(
            nn.Conv2d(1, width, 4, 2, 1),  # -> 14x14, no batch norm on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # -> 7x7
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 7, 1, 0),  # -> 1x1
            nn.Flatten(0),
        )


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """The paper's init: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.normal_(0.0, 0.02, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.normal_(1.0, 0.02, generator=generator)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)) and m.bias is not None:
            m.bias.zero_()


@dataclass
class GanRun:
    """What :func:`train_dcgan` returns: the two networks, one row per epoch (``loss_d``,
    ``loss_g``, ``d_real`` = mean D(x), ``d_fake`` = mean D(G(z)) seen by the discriminator's
    step, ``seconds``), and the fixed-noise samples after each epoch ((n, 28, 28) in [0, 1])."""

    generator: Generator
    discriminator: Discriminator
    epochs: list = field(default_factory=list)
    samples: list = field(default_factory=list)

    def __getitem__(self, key):
        return [row[key] for row in self.epochs]


def gan_step(G, D, opt_g, opt_d, real, z):
    """One discriminator step, then one generator step; returns the four numbers (tensors)."""
    ones, zeros = (
        torch.ones(len(real), device=real.device),
        torch.zeros(len(real), device=real.device),
    )
    fake = G(z)
    logit_real, logit_fake = D(real), D(fake.detach())
    loss_d = F.binary_cross_entropy_with_logits(
        logit_real, ones
    ) + F.binary_cross_entropy_with_logits(logit_fake, zeros)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)  # -log D(G(z))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    d_real, d_fake = torch.sigmoid(logit_real).mean(), torch.sigmoid(logit_fake).mean()
    return torch.stack([loss_d.detach(), loss_g.detach(), d_real.detach(), d_fake.detach()])


@torch.no_grad()
def generate(G: Generator, z) -> np.ndarray:
    """G(z) in eval mode (batch norm's running statistics), as (n, 28, 28) pixels in [0, 1]."""
    was_training = G.training
    G.eval()
    out = G.to_unit(G(z)).clamp(0, 1)[:, 0].cpu().numpy()
    G.train(was_training)
    return out


def sample(G: Generator, n: int, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
    """n generated images, (n, 28, 28) in [0, 1], from z drawn with ``seed`` (e.g. for a Fréchet
    distance against real digits)."""
    g, device = torch.Generator().manual_seed(seed), next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=g)
    return np.concatenate([generate(G, zb.to(device)) for zb in torch.split(z, batch_size)])


def build_dcgan(width: int, output: str, generator: torch.Generator, device="cpu"):
    """A generator and a discriminator with the paper's initial weights drawn from
    ``generator`` (the generator's first), on ``device``."""
    G, D = Generator(Z_DIM, width, output), Discriminator(width)
    init_weights(G, generator)
    init_weights(D, generator)
    return G.to(device), D.to(device)


def train_dcgan(
    images,
    epochs: int = 5,
    batch_size: int = 128,
    *,
    lr: float = 2e-4,
    betas=(0.5, 0.999),
    seed: int = 0,
    width: int = 64,
    output: str = "tanh",
    n_samples: int = 64,
    device="cpu",
    progress=False,
    on_epoch=None,
) -> GanRun:
    """Train a DCGAN on ``images`` ((N, 784) or (N, 1, 28, 28) pixels in [0, 1]); a short last
    batch is dropped.  Returns a :class:`GanRun`.

    ``seed`` fixes the initial weights, the batch order and every z, so a CPU run repeats
    exactly (with the same number of torch threads: summation order depends on it).
    ``on_epoch(epoch, row, run)`` is called after each epoch (plot, save, stop early by raising).
    ``width``: the base number of maps of both networks (64 as scaled from the paper; 4 or 8 for
    a quick test).  ``device="cuda"`` trains on a GPU.  On a busy 2-core CPU one epoch of 10,000
    images took 142 s with torch's default threads and 38 s with ``torch.set_num_threads(1)``
    (width 64).
    """
    g = torch.Generator().manual_seed(seed)
    G, D = build_dcgan(width, output, g, device)
    x = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    x = G.from_unit(x).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    fixed_z = torch.randn(n_samples, Z_DIM, generator=g).to(device)
    n_batches = len(x) // batch_size
    if n_batches == 0:
        raise ValueError(f"{len(x)} images make no full batch of {batch_size}")
    run, bar = GanRun(G, D), progress_bar(epochs * n_batches, "DCGAN", progress)
    for epoch in range(1, epochs + 1):
        t0, order, sums = time.perf_counter(), torch.randperm(len(x), generator=g), 0.0
        for b in range(n_batches):
            real = x[order[b * batch_size : (b + 1) * batch_size].to(device)]
            z = torch.randn(batch_size, Z_DIM, generator=g).to(device)
            sums = sums + gan_step(G, D, opt_g, opt_d, real, z)
            bar.update()
        means = (sums / n_batches).tolist()
        row = dict(zip(("loss_d", "loss_g", "d_real", "d_fake"), means), epoch=epoch)
        run.samples.append(generate(G, fixed_z))
        row["seconds"] = time.perf_counter() - t0
        run.epochs.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row, run)
    bar.close()
    return run
