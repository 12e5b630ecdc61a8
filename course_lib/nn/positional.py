"""Where a token is: attention itself ignores order, so position goes into the input.

Sinusoidal (Vaswani et al. 2017, section 3.5), fixed, for position pos and feature pair i:

    PE[pos, 2i] = sin(pos / 10000^(2i/d)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/d))

Each pair is a rotation at its own frequency, so PE[pos + k] is a linear function of PE[pos].
Learned (GPT, BERT): a (max_len, d) table trained like an embedding, y = x + P[0..T-1];
backward sums dout over the batch into rows 0..T-1 of dP.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def sinusoidal_table(max_len, d, *, dtype="float32", xp=np):
    """The (max_len, d) sinusoidal table: sines in even columns, cosines in odd ones."""
    pos = np.arange(max_len)[:, None]
    freq = 10000.0 ** (-np.arange(0, d, 2) / d)  # 1 / 10000^(2i/d), i = 0 .. ceil(d/2) - 1
    table = np.zeros((max_len, d))
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq[: d // 2])
    return xp.asarray(table.astype(dtype))


class PositionalEmbedding(Layer):
    """y = x + P[:T] for x (N, T, d), P a (max_len, d) table.

    ``table=None`` draws P ~ N(0, 0.01^2) (give ``sinusoidal_table(max_len, d)`` to start from the
    fixed encoding).  ``learned=False`` keeps P fixed: no parameters, and backward only passes
    dout through.
    """

    def __init__(self, max_len, d, *, table=None, learned=True, rng=None, dtype="float32", xp=np):
        if table is None:
            rng = np.random.default_rng(rng)
            table = xp.asarray((0.01 * rng.standard_normal((max_len, d))).astype(dtype))
        if tuple(table.shape) != (max_len, d):
            raise ValueError(f"table must be ({max_len}, {d}), got {tuple(table.shape)}")
        self.P, self.max_len = table, max_len
        self.param_names = ("P",) if learned else ()
        self.dP = get_array_module(table).zeros_like(table)

    def forward(self, x):
        T = x.shape[1]
        if T > self.max_len:
            raise ValueError(
                f"a sequence of {T} tokens is longer than max_len={self.max_len}: cut it into "
                f"windows of at most {self.max_len} (or build the model with a larger max_len)"
            )
        if x.ndim != 3 or x.shape[2] != self.P.shape[1]:
            raise ValueError(f"PositionalEmbedding takes (N, T, {self.P.shape[1]}), got {x.shape}")
        return x + self.P[:T]

    def backward(self, dout):
        if self.param_names:
            self.dP[...] = 0
            self.dP[: dout.shape[1]] = dout.sum(axis=0)
        return dout
