"""Maps of documents: the bag of words, LSA against an SVD by hand, the map scores, and the deep
autoencoder map on documents whose topics are known."""

from dataclasses import replace

import numpy as np
import pytest

from course_lib import docmap, plot


def _topic_docs(n_per_topic=30, seed=0):
    """Three topics with their own 12 words (plus shared filler): documents of 20 tokens."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for topic in range(3):
        for _ in range(n_per_topic):
            own = [f"t{topic}w{i}" for i in rng.integers(0, 12, 12)]
            docs.append(own + ["the", "and"] * 4)
            labels.append(topic)
    return docs, np.array(labels)


def test_bag_of_words_is_scaled_log_counts_without_everywhere_words():
    docs = [["a", "a", "a", "b", "the"], ["b", "c", "the"], ["c", "c", "the"]]
    X, words = docmap.bag_of_words(docs, vocab_size=10, max_df=0.9)
    assert words == ["a", "b", "c"]  # "the" is in every document
    counts = np.array([[3, 1, 0], [0, 1, 1], [0, 0, 2]])
    assert X.dtype == np.float32
    assert np.allclose(X, np.log1p(counts) / np.log1p(3))
    X, words = docmap.bag_of_words(docs, vocab_size=1, max_df=1.0)
    assert words == ["the"] or len(words) == 1
    with pytest.raises(ValueError, match="at least 2 documents"):
        docmap.bag_of_words([["a"]])


def test_lsa_is_the_truncated_svd_up_to_sign():
    X = np.random.default_rng(0).random((13, 7))
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    by_hand, lsa = U[:, :2] * S[:2], docmap.lsa_map(X)
    signs = np.sign((by_hand * lsa).sum(axis=0))
    assert np.allclose(by_hand * signs, lsa, atol=1e-6)


def test_knn_accuracy_and_trust_tell_a_good_map_from_a_scrambled_one():
    docs, labels = _topic_docs()
    X, _ = docmap.bag_of_words(docs)
    good = docmap.lsa_map(X, dims=2)
    scrambled = good[np.random.default_rng(1).permutation(len(good))]
    assert docmap.knn_accuracy(good, labels) > 90
    assert docmap.knn_accuracy(scrambled, labels) < 60
    assert docmap.trust(X, good) > docmap.trust(X, scrambled) + 0.1


@pytest.mark.parametrize("loss, optimizer", [("cross_entropy", "adam"), ("squared", "sgd")])
def test_the_autoencoder_map_separates_known_topics(loss, optimizer):
    docs, labels = _topic_docs()
    X, words = docmap.bag_of_words(docs)
    lr = 1e-3 if optimizer == "adam" else 0.5
    recipe = docmap.Recipe(10, 5, 0.5, 40, lr, loss=loss, optimizer=optimizer)
    net, history = docmap.autoencoder_map(X, [len(words), 16, 2], recipe, seed=0)
    assert len(history) == 40
    assert history["loss"][-1] < history["loss"][0]
    codes = net.encode(X)
    assert codes.shape == (len(docs), 2)
    assert docmap.knn_accuracy(codes, labels) > 80


def test_autoencoder_map_refuses_bad_settings():
    X = np.random.default_rng(0).random((10, 6)).astype(np.float32)
    with pytest.raises(ValueError, match="6 columns but the first layer has 5"):
        docmap.autoencoder_map(X, [5, 3, 2], docmap.COURSE)
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        replace(docmap.COURSE, loss="l1")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        replace(docmap.COURSE, optimizer="rmsprop")


def test_the_seed_recipe_is_the_talks_setting():
    r = docmap.SEED000
    assert (r.batch_size, r.pretrain_epochs, r.pretrain_lr) == (5, 15, 1.0)
    assert (r.finetune_epochs, r.finetune_lr, r.loss, r.optimizer) == (75, 0.1, "squared", "sgd")


def test_code_map_draws_one_legend_entry_per_label_and_checks_shapes():
    import matplotlib

    matplotlib.use("Agg")
    codes = np.random.default_rng(0).standard_normal((12, 2))
    labels = np.array(["b", "a", "c"] * 4)
    fig, ax = plot.code_map(codes, labels, title="t")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["b", "a", "c"]
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot.code_map(codes[:, :1], labels)
    with pytest.raises(ValueError, match="11 labels"):
        plot.code_map(codes, labels[:11])
