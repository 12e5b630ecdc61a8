"""Weight initialisers: Gaussian(sigma), Xavier/Glorot and He.

Every initialiser draws on the host from a ``numpy.random.Generator`` in float64, then casts to
``dtype`` and moves the array to ``xp`` (numpy or cupy).  So one seed gives the *same* weights
on the CPU, on the GPU and in the torch twin of a model.

Fans: a weight of shape ``(n_in, n_out)`` has ``fan_in = n_in`` and ``fan_out = n_out``; a
convolution filter bank ``(n_filters, channels, kh, kw)`` has ``fan_in = channels*kh*kw`` and
``fan_out = n_filters*kh*kw``.
"""

from __future__ import annotations

import math

import numpy as np


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of this shape (see the module docstring)."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def gaussian(shape, sigma, rng=None, xp=np, dtype="float32"):
    """W ~ N(0, sigma^2), the classic ``0.01 * randn`` when ``sigma=0.01``."""
    rng = np.random.default_rng(rng)
    return xp.asarray(sigma * rng.standard_normal(shape), dtype=dtype)


def xavier(shape, rng=None, xp=np, dtype="float32"):
    """Glorot & Bengio (2010), normal form: sigma = sqrt(2 / (fan_in + fan_out)).

    Keeps the variance of activations and of gradients roughly constant through tanh/sigmoid
    layers (the same as ``torch.nn.init.xavier_normal_``).
    """
    fan_in, fan_out = fans(shape)
    return gaussian(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, xp, dtype)


def he(shape, rng=None, xp=np, dtype="float32"):
    """He et al. (2015): sigma = sqrt(2 / fan_in), for ReLU layers (half the units are off)."""
    fan_in, _ = fans(shape)
    return gaussian(shape, math.sqrt(2.0 / fan_in), rng, xp, dtype)


def make(weight_init, shape, rng=None, xp=np, dtype="float32"):
    """Resolve a ``weight_init`` spec: ``"he"``, ``"xavier"``, ``"zeros"``, a float sigma, or
    ``f(shape, rng)``."""
    if weight_init == "zeros":  # for weights that are about to be copied in
        return xp.zeros(shape, dtype=dtype)
    if callable(weight_init):
        return xp.asarray(weight_init(shape, np.random.default_rng(rng)), dtype=dtype)
    if isinstance(weight_init, str):
        named = {"he": he, "xavier": xavier, "glorot": xavier}
        if weight_init.lower() not in named:
            raise ValueError(
                f"unknown weight_init {weight_init!r}: "
                "use 'he', 'xavier', 'zeros', a sigma or a callable"
            )
        return named[weight_init.lower()](shape, rng, xp, dtype)
    return gaussian(shape, float(weight_init), rng, xp, dtype)
