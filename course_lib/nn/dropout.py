"""Inverted dropout (Srivastava et al. 2014, scaled at training time)."""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


class Dropout(Layer):
    """Train: y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p);  dx = dout * m / (1 - p).  Eval: y = x.

    Dividing by the keep probability at training time keeps E[y] = x, so inference needs no
    rescaling.  The mask of the last forward pass is kept in ``self.mask`` (a boolean array).

    Randomness: ``rng`` is a ``numpy.random.Generator`` (or a seed, or None for a fresh one).
    On NumPy masks come straight from it.  On CuPy the first forward pass seeds a
    ``cupy.random.Generator`` from it and draws masks on the device, so a seed still gives a
    reproducible run, but not the same masks as on the CPU.
    """

    def __init__(self, p=0.5, rng=None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
        self.p, self.rng = p, np.random.default_rng(rng)
        self._device_rng = None

    def _uniform(self, xp, shape):
        if xp is np:
            return self.rng.random(shape)
        if self._device_rng is None:
            self._device_rng = xp.random.default_rng(int(self.rng.integers(2**63)))
        return self._device_rng.random(shape)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            self.mask = None
            return x
        self.mask = self._uniform(get_array_module(x), x.shape) >= self.p
        return x * self.mask * (1.0 / (1.0 - self.p))

    def backward(self, dout):
        if self.mask is None:
            return dout
        return dout * self.mask * (1.0 / (1.0 - self.p))
