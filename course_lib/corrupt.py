"""Input corruption for denoising autoencoders (Vincent, Larochelle, Bengio & Manzagol 2008;
Vincent et al. 2010).

A denoising autoencoder reads a corrupted copy x~ ~ q(x~ | x) of its input and is scored on how
well it reconstructs the *clean* x:  L = l(x, g(f(x~))).  Two corruptions q:

* masking noise (the 2008 paper's): a fraction ``nu`` of the inputs, chosen at random, set to 0;
* additive isotropic Gaussian noise:  x~ = x + sigma * e,  e ~ N(0, I).

The functions never change their input; they return a new array.  Randomness comes from ``rng``
(a ``numpy.random.Generator`` or a seed), so a seed gives the same corruption every run.  On CuPy
the noise is drawn on the host and copied over (the same numbers as on the CPU).

    x_noisy = masking_noise(x, 0.25, rng=0)      # exactly a quarter of each row's pixels zeroed
    layer = Corrupt("mask", 0.25, rng=0)          # the same as a layer: noisy in training only
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer

KINDS = ("mask", "gaussian")


def _host_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def masking_mask(shape, nu: float, rng=None) -> np.ndarray:
    """Boolean array, True where an input is *kept*: in each example (row of the first axis)
    exactly ``round(nu * d)`` of the d entries, drawn without replacement, are False."""
    if not 0.0 <= nu <= 1.0:
        raise ValueError(f"masking fraction nu={nu}: it must lie in [0, 1]")
    n, d = shape[0], int(np.prod(shape[1:]))
    n_drop = int(round(nu * d))
    keys = _host_rng(rng).random((n, d))
    # the positions of the n_drop smallest keys of a row are a uniformly random subset
    keep = np.ones((n, d), dtype=bool)
    np.put_along_axis(keep, np.argsort(keys, axis=1)[:, :n_drop], False, axis=1)
    return keep.reshape(shape)


def masking_noise(x, nu: float, rng=None):
    """x~ = x * m with m from :func:`masking_mask`: a fraction ``nu`` of each example set to 0."""
    xp = get_array_module(x)
    return x * xp.asarray(masking_mask(x.shape, nu, rng)).astype(x.dtype)


def gaussian_noise(x, sigma: float, rng=None):
    """x~ = x + sigma * e,  e ~ N(0, I) (drawn on the host in float64, then cast to x's dtype)."""
    if not sigma >= 0.0:
        raise ValueError(f"Gaussian noise sigma={sigma}: it must be >= 0")
    xp = get_array_module(x)
    e = _host_rng(rng).standard_normal(x.shape)
    return x + xp.asarray(sigma * e, dtype=x.dtype)


def corrupt(x, kind: str, level: float, rng=None):
    """``masking_noise(x, level)`` (kind ``"mask"``) or ``gaussian_noise(x, level)``
    (``"gaussian"``)."""
    if kind == "mask":
        return masking_noise(x, level, rng)
    if kind == "gaussian":
        return gaussian_noise(x, level, rng)
    raise ValueError(f"unknown corruption {kind!r}: use one of {KINDS}")


class Corrupt(Layer):
    """A layer with no parameters: ``y = corrupt(x)`` in training mode, ``y = x`` in eval mode.

    Put in front of an autoencoder trained against its clean input, it makes a denoising
    autoencoder.  Backward: dx = dout * m for masking noise (the kept entries), dx = dout for
    additive noise.  Every forward pass draws fresh noise from the layer's generator.
    """

    def __init__(self, kind: str = "mask", level: float = 0.25, rng=None):
        if kind not in KINDS:
            raise ValueError(f"unknown corruption {kind!r}: use one of {KINDS}")
        corrupt(np.zeros((1, 1)), kind, level, 0)  # refuses a bad level now, not mid-training
        self.kind, self.level, self.rng = kind, level, _host_rng(rng)
        self.mask = None

    def forward(self, x):
        self.mask = None
        if not self.training or self.level == 0:
            return x
        if self.kind == "gaussian":
            return gaussian_noise(x, self.level, self.rng)
        self.mask = get_array_module(x).asarray(masking_mask(x.shape, self.level, self.rng))
        return x * self.mask.astype(x.dtype)

    def backward(self, dout):
        if dout is None or self.mask is None:
            return dout
        return dout * self.mask.astype(dout.dtype)
