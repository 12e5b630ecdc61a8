"""word2vec: the negative-sampling loss against numeric gradients and torch autograd, a batch
update with repeated words equal to summed per-pair updates, windows, and a planted structure
recovered by skip-gram and CBOW."""

import numpy as np
import pytest

from course_lib.backend import asnumpy, cupy_module
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.word2vec import (
    Word2Vec,
    encode_corpus,
    negative_sampling_loss,
    window_pairs,
)
from course_lib.nlp import Vocab


def _hu(seed=0, B=4, K=3, D=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, D)), rng.standard_normal((B, K + 1, D))


def test_loss_gradients_numeric():
    h, u = _hu()
    mask = np.ones((4, 4))
    mask[1, 2] = 0
    _, dh, du = negative_sampling_loss(h, u, mask)
    f = lambda: negative_sampling_loss(h, u, mask)[0]  # noqa: E731
    assert rel_error(dh, numeric_gradient(f, h)) < 1e-7
    assert rel_error(du, numeric_gradient(f, u)) < 1e-7


def test_loss_matches_torch_autograd():
    import torch

    h, u = _hu(1)
    loss, dh, du = negative_sampling_loss(h, u)
    ht, ut = (torch.tensor(a, requires_grad=True) for a in (h, u))
    s = torch.einsum("bd,bkd->bk", ht, ut)
    lt = (
        -torch.nn.functional.logsigmoid(s[:, 0]).sum()
        - torch.nn.functional.logsigmoid(-s[:, 1:]).sum()
    )
    lt.backward()
    assert rel_error(loss, lt) < 1e-7
    assert rel_error(dh, ht.grad) < 1e-10 and rel_error(du, ut.grad) < 1e-10


def _tiny_model(sg=True, dtype="float64"):
    vocab = Vocab([f"w{i}" for i in range(6)], [10, 8, 6, 4, 2, 1])
    return Word2Vec(vocab, 4, sg=sg, negative=2, window=2, seed=0, dtype=dtype)


def test_skipgram_batch_with_repeated_words_equals_summed_pair_updates():
    """One minibatch where a word is center, context and negative several times: the update
    is the sum of each pair's gradient at the old weights, as torch autograd computes it."""
    import torch

    m = _tiny_model()
    m.W_out[:] = np.random.default_rng(3).standard_normal(m.W_out.shape) * 0.3
    center, context = np.array([0, 0, 1, 2]), np.array([1, 1, 0, 0])
    neg = np.array([[0, 3], [3, 3], [0, 4], [1, 1]])  # row 0: a negative equal to the target
    w_in, w_out = (torch.tensor(a, requires_grad=True) for a in (m.W_in, m.W_out))
    tgt = torch.tensor(np.concatenate([center[:, None], neg], 1))
    s = torch.einsum("bd,bkd->bk", w_in[torch.tensor(context)], w_out[tgt])
    keep = (tgt[:, 1:] != tgt[:, :1]).double()
    nll = -torch.nn.functional.logsigmoid(s[:, 0]).sum()
    nll = nll - (torch.nn.functional.logsigmoid(-s[:, 1:]) * keep).sum()
    nll.backward()
    lr = 0.1
    loss = m.step_skipgram(center, context, neg, lr)
    assert rel_error(loss, nll) < 1e-10
    assert rel_error(m.W_in, (w_in - lr * w_in.grad).detach()) < 1e-10
    assert rel_error(m.W_out, (w_out - lr * w_out.grad).detach()) < 1e-10


def test_cbow_step_applies_the_mean_error_to_every_context_word():
    m = _tiny_model(sg=False)
    m.W_out[:] = np.random.default_rng(4).standard_normal(m.W_out.shape) * 0.3
    w_in0, w_out0 = m.W_in.copy(), m.W_out.copy()
    ctx = np.array([[1, 2, 2, 5]])
    valid = np.array([[True, True, True, False]])
    center, neg = np.array([0]), np.array([[3, 4]])
    m.step_cbow(center, ctx, valid, neg, 0.5)
    h = w_in0[[1, 2, 2]].mean(0)
    _, dh, du = negative_sampling_loss(h[None], w_out0[[0, 3, 4]][None])
    assert np.allclose(m.W_in[1], w_in0[1] - 0.5 * dh[0])
    assert np.allclose(m.W_in[2], w_in0[2] - 2 * 0.5 * dh[0])  # twice in the window
    assert np.allclose(m.W_in[5], w_in0[5])  # outside the window
    assert np.allclose(m.W_out[3], w_out0[3] - 0.5 * du[0, 1])


def test_windows_stop_at_sentence_ends_and_shrink():
    sent = np.array([0, 0, 0, 1, 1, 1, 1])
    ctx, valid = window_pairs(sent, 3, np.random.default_rng(0))
    assert ctx.shape == (7, 6)
    assert all(sent[c] == sent[i] for i in range(7) for c in ctx[i][valid[i]])
    left = [i > 0 and sent[i - 1] == sent[i] for i in range(7)]
    right = [i < 6 and sent[i + 1] == sent[i] for i in range(7)]
    assert valid[:, 2].tolist() == left and valid[:, 3].tolist() == right  # neighbours: always
    counts = np.zeros(4)
    for seed in range(200):
        _, v = window_pairs(np.zeros(9, int), 3, np.random.default_rng(seed))
        counts[v[4, 3:].sum()] += 1  # words to the right of the middle word: 1, 2 or 3
    assert counts[0] == 0 and all(counts[1:] > 40)


def test_learning_rate_falls_linearly():
    m = _tiny_model()
    assert m.lr_at(0) == 0.025 and m.lr_at(0.5) == pytest.approx((0.025 + 1e-4) / 2)
    assert m.lr_at(1) == pytest.approx(1e-4) and m.lr_at(2) == 1e-4


def _clusters(seed=0, n_sent=600):
    """Sentences drawn from one of two disjoint groups of 6 words each."""
    rng = np.random.default_rng(seed)
    groups = [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    return [list(rng.choice(groups[rng.integers(2)], 8)) for _ in range(n_sent)]


@pytest.mark.parametrize("sg, workers", [(True, 1), (False, 1), (True, 2)])
def test_two_planted_clusters_are_recovered(sg, workers):
    sentences = _clusters()
    vocab = Vocab.build(sentences)
    m = Word2Vec(
        vocab,
        16,
        sg=sg,
        window=3,
        negative=3,
        sample=0,
        alpha=0.05,
        seed=0,
        batch=64,
        workers=workers,
    )
    hist = m.train(sentences, epochs=5, chunk=500)  # several chunks, so two threads share them
    assert hist["loss"][-1] < hist["loss"][0]
    wv = m.wv
    for w in vocab.words:
        near = [x for x, _ in wv.most_similar(w, topn=5)]
        assert all(x[0] == w[0] for x in near), (w, near)


def test_encode_corpus_drops_unknown_words():
    vocab = Vocab.build([["a", "b", "a"]])
    ids, sent = encode_corpus(vocab, [["a", "zz", "b"], ["b"]])
    assert ids.tolist() == [0, 1, 1] and sent.tolist() == [0, 0, 1]


@pytest.mark.gpu
def test_cupy_training_step_matches_numpy():
    cp = cupy_module()
    a, b = _tiny_model(dtype="float64"), _tiny_model(dtype="float64")
    b.W_in, b.W_out = cp.asarray(a.W_in), cp.asarray(a.W_out)
    b.xp = cp
    a.W_out[:] = 0.1
    b.W_out[:] = 0.1
    center, context = np.array([0, 0, 1, 2]), np.array([1, 1, 0, 0])
    neg = np.array([[0, 3], [3, 3], [0, 4], [1, 1]])
    la = a.step_skipgram(center, context, neg, 0.1)
    lb = b.step_skipgram(center, context, neg, 0.1)
    assert rel_error(la, asnumpy(lb)) < 1e-10
    assert rel_error(a.W_in, asnumpy(b.W_in)) < 1e-10
    assert rel_error(a.W_out, asnumpy(b.W_out)) < 1e-10


def test_training_can_show_a_bar_over_the_words(capfd):
    sentences = _clusters()
    m = Word2Vec(Vocab.build(sentences), 8, window=2, negative=2, sample=0, seed=0)
    m.train(sentences, epochs=2, chunk=500, progress=True)
    out, err = capfd.readouterr()
    total = 2 * sum(len(s) for s in sentences)
    assert f"{total}/{total}" in out and "word" in out and err == ""
