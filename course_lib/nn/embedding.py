"""Embedding: a lookup table of word vectors, and the scatter-add its backward pass needs.

Forward picks rows: ``y[n] = W[idx[n]]``.  Backward sends each row of ``dout`` back to the row
it came from, and a word that appears twice in one batch gets *both* gradients:
``dW[v] = sum_{n: idx[n] = v} dout[n]``.  ``W[idx] += dout`` is the classic bug here: with a
repeated index NumPy and CuPy keep only one of the writes.  :func:`scatter_add` does it right::

    emb = Embedding(10_000, 100, rng=0)
    h = emb.forward(np.array([3, 7, 3]))      # (3, 100); rows 0 and 2 are W[3]
    emb.backward(dout)                         # emb.dW[3] == dout[0] + dout[2]
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


def _sorted_groups(idx):
    """``(order, rows, starts)``: ``idx[order]`` is sorted, ``rows`` are its distinct values and
    ``starts`` where each run of equal values begins."""
    order = np.argsort(idx)
    s = idx[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return order, s[starts], starts


def segment_sum(idx, values, weights=None):
    """``(rows, sums)``: the distinct ids ``rows`` and, for each, the sum of the ``values`` rows
    sent to it, ``sums[i] = sum_{n: idx[n] = rows[i]} values[n]``.

    ``idx`` (N,) with ``values`` (N, D); or ``idx`` (B, K) with ``weights`` (B, K) and ``values``
    (B, D), which sends ``weights[b, k] * values[b]`` to ``idx[b, k]`` without forming the
    (B, K, D) products.  NumPy: one sort, then one sparse-matrix product (7x faster than
    ``np.add.at`` on 6,000 rows of 100 numbers).  CuPy: ``cupy.unique`` and ``cupyx.scatter_add``.
    """
    xp = get_array_module(values)
    idx = xp.asarray(idx)
    per_row = 1 if weights is None else idx.shape[-1]
    flat = idx.ravel()
    if xp is not np:
        import cupyx

        rows, inverse = xp.unique(flat, return_inverse=True)
        v = values if weights is None else (weights[..., None] * values[:, None, :])
        sums = xp.zeros((len(rows), values.shape[-1]), dtype=values.dtype)
        cupyx.scatter_add(sums, inverse.ravel(), v.reshape(len(flat), -1))
        return rows, sums
    import scipy.sparse as sp

    order, rows, starts = _sorted_groups(flat)
    indptr = np.r_[starts, len(flat)]
    if weights is None:
        data = np.ones(len(flat), dtype=values.dtype)
    else:
        data = np.asarray(weights, dtype=values.dtype).ravel()[order]
    m = sp.csr_matrix((data, order // per_row, indptr), shape=(len(rows), len(values)))
    return rows, np.asarray(m @ values.reshape(len(values), -1))


def scatter_add(target, idx, values, scale=1.0, weights=None):
    """``target[idx[n]] += scale * values[n]`` for every n, repeated indices included, in place.

    ``target`` is (V, D) and ``values`` (len(idx), D); with ``weights`` (B, K) and ``idx``
    (B, K), ``target[idx[b, k]] += scale * weights[b, k] * values[b]`` (see :func:`segment_sum`).
    NumPy and CuPy alike.
    """
    xp = get_array_module(target)
    if xp is not np and weights is None:  # CuPy: atomic adds on the GPU
        v = (values if scale == 1.0 else values * scale).reshape(-1, target.shape[1])
        rows = xp.asarray(idx).ravel()
        if hasattr(xp.add, "at"):  # CuPy 13+ (cupyx.scatter_add is deprecated there)
            xp.add.at(target, rows, v)
        else:
            import cupyx

            cupyx.scatter_add(target, rows, v)
        return target
    if weights is None:
        values = values.reshape(-1, target.shape[1])
    rows, sums = segment_sum(idx, values, weights)
    if scale != 1.0:
        sums *= scale
    target[rows] += sums
    return target


class Embedding(Layer):
    """y = W[idx]: rows of a (V, D) table for integer ids of any shape; y is idx.shape + (D,).

    Backward: ``dW[v] = sum of dout over the positions where idx == v`` (a scatter-add); the ids
    have no gradient, so ``backward`` returns None.  Initialised N(0, 0.01^2) unless ``W`` is
    given.
    """

    param_names = ("W",)

    def __init__(self, n_words, dim, *, rng=None, dtype="float32", xp=np, W=None):
        if W is None:
            rng = np.random.default_rng(rng)
            W = xp.asarray((0.01 * rng.standard_normal((n_words, dim))).astype(dtype))
        self.W = W
        self.dW = xp.zeros_like(W)

    def forward(self, idx):
        xp = get_array_module(self.W)
        idx = xp.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding takes integer word ids, got dtype {idx.dtype}")
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= len(self.W)):
            raise IndexError(
                f"word id out of range [0, {len(self.W)}): min {int(idx.min())}, max "
                f"{int(idx.max())}; encode the text with the vocabulary the table was built for"
            )
        self.idx = idx
        return self.W[idx]

    def backward(self, dout):
        self.dW[...] = 0
        scatter_add(self.dW, self.idx, dout.reshape(-1, self.W.shape[1]))
        return None
