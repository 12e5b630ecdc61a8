"""Count-based word vectors: co-occurrence against a brute-force loop, PPMI against a
hand-computed example, the truncated SVD against NumPy's full SVD, and bad input refused."""

import math

import numpy as np
import pytest
from scipy import sparse

from course_lib.nlp import Vocab, WordVectors
from course_lib.nlp.count_vectors import cooccurrence, distance_weights, ppmi, svd_vectors


def brute_force_counts(ids, n_words, window, sentence, weighting):
    """Every pair of positions, one at a time."""
    C = np.zeros((n_words, n_words))
    for i in range(len(ids)):
        for j in range(len(ids)):
            d = abs(i - j)
            if 1 <= d <= window and sentence[i] == sentence[j]:
                C[ids[i], ids[j]] += (window - d + 1) / window if weighting == "word2vec" else 1
    return C


@pytest.mark.parametrize("window", [1, 3, 7])
@pytest.mark.parametrize("weighting", ["word2vec", "uniform"])
def test_cooccurrence_matches_a_brute_force_loop(window, weighting):
    rng = np.random.default_rng(window)
    ids = rng.integers(0, 11, 53)
    sentence = np.sort(rng.integers(0, 6, 53))  # sentences of odd lengths, some of one word
    got = cooccurrence(ids, 13, window=window, sentence=sentence, weighting=weighting)
    assert sparse.issparse(got) and got.shape == (13, 13) and got.dtype == np.float64
    want = brute_force_counts(ids, 13, window, sentence, weighting)
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.toarray(), got.toarray().T)


def test_cooccurrence_by_hand_and_at_the_edges():
    # "a b a c" (ids 0 1 0 2), window 1: a-b twice, a-c once, both directions
    C = cooccurrence([0, 1, 0, 2], 3, window=1).toarray()
    np.testing.assert_array_equal(C, [[0, 2, 1], [2, 0, 0], [1, 0, 0]])
    # word2vec weighting, window 2: distance 2 counts half
    C = cooccurrence([0, 1, 2], 3, window=2).toarray()
    assert C[0, 2] == C[2, 0] == 0.5 and C[0, 1] == 1.0
    # a window wider than the text, and windows that stop at a sentence end
    assert cooccurrence([0, 1], 2, window=9).toarray()[0, 1] == 1.0
    assert cooccurrence([0, 1], 2, window=9, sentence=[0, 1]).nnz == 0
    assert cooccurrence(np.array([], dtype=np.int32), 4, window=3).nnz == 0
    np.testing.assert_allclose(distance_weights(4), [1, 0.75, 0.5, 0.25])


def test_ppmi_against_a_hand_computed_example():
    counts = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 3.0]])  # D = 7, rows 3 and 4, columns 3 1 3
    want = [[math.log(14 / 9), math.log(7 / 3), 0.0], [0.0, 0.0, math.log(7 / 4)]]
    got = ppmi(counts)
    assert sparse.issparse(got) and got.nnz == 3  # the negative PMI and the unseen pairs: 0
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-12)
    # alpha = 0.5: P_a(c) = sqrt(#c) / (2 sqrt 3 + 1), so PMI(0, 1) = log((2 sqrt 3 + 1) / 3)
    smooth = ppmi(sparse.csr_matrix(counts), alpha=0.5).toarray()
    r3 = math.sqrt(3)
    assert smooth[0, 1] == pytest.approx(math.log((2 * r3 + 1) / 3), rel=1e-12)
    assert smooth[0, 0] == pytest.approx(math.log(2 * (2 * r3 + 1) / (3 * r3)), rel=1e-12)
    assert smooth[1, 1] == 0.0


def test_ppmi_is_zero_for_unseen_pairs_and_never_nan():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.7, (9, 9)).astype(float)
    counts[3] = 0  # a word never seen
    counts[:, 5] = 0  # a context never seen
    for alpha in (1.0, 0.75):
        got = ppmi(counts, alpha=alpha).toarray()
        assert np.all(np.isfinite(got)) and np.all(got >= 0)
        assert np.all(got[counts == 0] == 0)
    np.testing.assert_array_equal(counts[3], 0)  # the input is left alone


def test_smoothing_lowers_the_pmi_of_rare_contexts():
    counts = np.array([[5.0, 1.0], [95.0, 1.0]])
    plain, smooth = ppmi(counts).toarray(), ppmi(counts, alpha=0.75).toarray()
    assert smooth[0, 1] < plain[0, 1]  # the rare context's probability is raised


def test_svd_vectors_against_numpy():
    rng = np.random.default_rng(1)
    M = sparse.random(40, 30, density=0.3, random_state=2, data_rvs=rng.random)
    U, s, _ = np.linalg.svd(M.toarray())
    for power in (0.0, 0.5, 1.0):
        got = svd_vectors(M, 5, power=power, n_iter=20)
        assert got.shape == (40, 5) and got.dtype == np.float32
        np.testing.assert_allclose(np.abs(got), np.abs(U[:, :5] * s[:5] ** power), atol=1e-5)
        big = np.argmax(np.abs(got), axis=0)
        assert np.all(got[big, np.arange(5)] > 0)  # the sign convention
    np.testing.assert_array_equal(svd_vectors(M, 5, seed=3), svd_vectors(M, 5, seed=3))


def test_words_that_share_contexts_end_up_neighbours():
    text = "the cat drinks milk . the dog drinks milk . a car needs fuel . a van needs fuel"
    sentences = [s.split() for s in text.split(" . ")] * 3
    vocab = Vocab.build(sentences)
    ids = np.concatenate([vocab.encode(s) for s in sentences])
    sent = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    counts = cooccurrence(ids, len(vocab), window=2, sentence=sent)
    wv = WordVectors(vocab.words, svd_vectors(ppmi(counts, alpha=0.75), 4))
    assert wv.most_similar("cat", topn=1)[0][0] == "dog"
    assert wv.most_similar("car", topn=1)[0][0] == "van"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cooccurrence([0, 1], 2, window=0), "window must be a positive integer"),
        (lambda: cooccurrence([0, 1], 2, window=2.5), "window must be a positive integer"),
        (lambda: cooccurrence([0, 1], 2, weighting="harmonic"), "weighting must be one of"),
        (lambda: cooccurrence([0, 5], 2), r"word ids must lie in \[0, 2\)"),
        (lambda: cooccurrence([0.0, 1.0], 2), "integer word ids"),
        (lambda: cooccurrence([0, 1], 2, sentence=[0]), "sentence has shape"),
        (lambda: ppmi(np.ones((2, 2)), alpha=0), r"alpha must lie in \(0, 1\]"),
        (lambda: ppmi(np.ones((2, 2)), alpha=1.5), r"alpha must lie in \(0, 1\]"),
        (lambda: ppmi(-np.ones((2, 2))), "finite, non-negative"),
        (lambda: ppmi(np.array([[1.0, np.nan]])), "finite, non-negative"),
        (lambda: ppmi(np.zeros((3, 3))), "all zero"),
        (lambda: svd_vectors(np.eye(4), 4), "must be below the matrix's smaller side 4"),
        (lambda: svd_vectors(np.eye(4), 0), "dim must be a positive integer"),
        (lambda: svd_vectors(np.eye(4), 2, power=2), r"power must lie in \[0, 1\]"),
    ],
)
def test_bad_input_is_refused_with_a_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call()
