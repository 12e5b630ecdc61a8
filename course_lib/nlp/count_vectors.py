"""Count-based word vectors: a co-occurrence matrix, PPMI, and a truncated SVD.

    ids, sent = encode_corpus(vocab, sentences)         # course_lib.models.word2vec
    counts = cooccurrence(ids, len(vocab), window=5, sentence=sent)    # scipy.sparse CSR
    vectors = svd_vectors(ppmi(counts, alpha=0.75), dim=50)
    wv = WordVectors(vocab.words, vectors)               # the same queries as word2vec's

**Co-occurrence.** #(w, c) sums, over every two positions i != j of one sentence with
d = |i - j| <= ``window``, a weight per distance: ``"word2vec"`` gives (window - d + 1) / window,
the chance that word2vec's window, shrunk at random to 1..window, reaches d (Levy, Goldberg &
Dagan 2015, "dynamic context window"); ``"uniform"`` gives 1.  The matrix is symmetric.

**PPMI** (Church & Hanks 1990; Bullinaria & Levy 2007), with D = sum of all counts,
#(w) = sum_c #(w, c) and the context distribution smoothed by ``alpha`` (Levy et al. 2015 use
0.75, as word2vec's negatives do; 1 is plain PMI):

    PMI(w, c) = log [ P(w, c) / (P(w) P_a(c)) ],   P(w, c) = #(w, c) / D,  P(w) = #(w) / D,
    P_a(c) = #(c)^a / sum_c' #(c')^a,   PPMI(w, c) = max(PMI(w, c), 0)  (0 for a pair never seen).

**Truncated SVD** (scikit-learn's randomized ``TruncatedSVD``): PPMI ~ U_k S_k V_k^T, and the word
vectors are W = U_k S_k^p (p = 1: classic LSA; p = 0.5, the default: a symmetric weighting, which
Levy et al. 2015 recommend over p = 1).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse

WEIGHTINGS = ("word2vec", "uniform")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def distance_weights(window: int, weighting: str = "word2vec") -> np.ndarray:
    """Weight of a pair at distance d = 1..window: (window - d + 1) / window, or 1 (uniform)."""
    _positive_int("window", window)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    d = np.arange(1, window + 1, dtype=np.float64)
    return (window - d + 1) / window if weighting == "word2vec" else np.ones_like(d)


def _check_ids(ids, n_words, sentence):
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise ValueError(
            f"ids must be a 1-D array of integer word ids, got shape {ids.shape}, dtype {ids.dtype}"
        )
    if ids.size and (ids.min() < 0 or ids.max() >= n_words):
        raise ValueError(f"word ids must lie in [0, {n_words}), got {ids.min()}..{ids.max()}")
    sentence = np.zeros(len(ids), np.int64) if sentence is None else np.asarray(sentence)
    if sentence.shape != ids.shape:
        raise ValueError(f"sentence has shape {sentence.shape}; it must match ids {ids.shape}")
    return ids.astype(np.int64), sentence


def cooccurrence(ids, n_words: int, window: int = 5, sentence=None, weighting="word2vec"):
    """Symmetric co-occurrence counts (``n_words`` x ``n_words`` CSR, float64) of a corpus of word
    ``ids``; ``sentence[i]`` numbers the sentence of position i, and windows stop at sentence ends
    (None: one sentence)."""
    _positive_int("n_words", n_words)
    weights = distance_weights(window, weighting)
    ids, sentence = _check_ids(ids, n_words, sentence)
    counts = sparse.csr_matrix((n_words, n_words), dtype=np.float64)
    for d, weight in enumerate(weights, start=1):
        same = sentence[d:] == sentence[:-d]
        w, c = ids[:-d][same], ids[d:][same]
        pairs = sparse.coo_matrix((np.full(len(w), weight), (w, c)), shape=counts.shape)
        pairs = pairs.tocsr()  # duplicates summed
        counts = counts + pairs + pairs.T
    return counts.tocsr()


def ppmi(counts, alpha: float = 1.0):
    """Positive pointwise mutual information of a (words x contexts) count matrix (dense or
    sparse; CSR float64 out, zeros not stored), contexts smoothed by P_a(c) ~ #(c)^alpha."""
    if not (isinstance(alpha, numbers.Real) and 0 < alpha <= 1):
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r} (Levy et al. use 0.75)")
    C = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    if C.ndim != 2 or not np.all(np.isfinite(C.data)) or np.any(C.data < 0):
        raise ValueError("counts must be a 2-D matrix of finite, non-negative numbers")
    C.eliminate_zeros()
    total = C.data.sum()
    if total <= 0:
        raise ValueError("counts are all zero: there is no co-occurrence to measure")
    p_word = np.asarray(C.sum(axis=1)).ravel() / total
    p_ctx = np.asarray(C.sum(axis=0)).ravel() ** alpha
    p_ctx /= p_ctx.sum()
    rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
    pmi = np.log(C.data / total) - np.log(p_word[rows]) - np.log(p_ctx[C.indices])
    C.data = np.maximum(pmi, 0.0)
    C.eliminate_zeros()
    return C


def svd_vectors(matrix, dim: int, power: float = 0.5, seed: int = 0, n_iter: int = 5):
    """Word vectors U_k S_k^power (float32, one row per word) from the ``dim`` largest singular
    triplets of ``matrix``, by scikit-learn's ``TruncatedSVD`` (randomized, ``n_iter`` power
    iterations, in float32: the sparse products dominate, and word vectors need no more); each
    column's sign is fixed so that its largest entry is positive (an SVD's signs are arbitrary)."""
    from sklearn.decomposition import TruncatedSVD

    _positive_int("dim", dim)
    M = sparse.csr_matrix(matrix, dtype=np.float32)
    if dim >= min(M.shape):
        raise ValueError(f"dim={dim} must be below the matrix's smaller side {min(M.shape)}")
    if not (isinstance(power, numbers.Real) and 0 <= power <= 1):
        raise ValueError(f"power must lie in [0, 1], got {power!r} (0.5: Levy et al.'s choice)")
    svd = TruncatedSVD(dim, algorithm="randomized", n_iter=n_iter, random_state=seed)
    us = svd.fit_transform(M)  # U_k S_k
    s = svd.singular_values_
    W = us * np.where(s > 0, s, 1.0) ** (power - 1.0)
    signs = np.sign(W[np.argmax(np.abs(W), axis=0), np.arange(dim)])
    return (W * np.where(signs == 0, 1.0, signs)).astype(np.float32)
