"""Bad input at the public entry points is refused up front, with a message naming the fix."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.models.seq2seq import Seq2Seq
from course_lib.models.word2vec import Word2Vec
from course_lib.nlp.lm import sample_next
from course_lib.nlp.vocab import Vocab
from course_lib.train import fit


def fit_case():
    model = nn.Sequential(nn.Linear(3, 2, rng=0, dtype="float64"))
    x, y = np.random.default_rng(0).random((8, 3)), np.arange(8) % 2
    return model, optim.SGD(model.params, model.grads, lr=0.1), x, y


def run_fit(model, opt, x, y, **kw):
    return fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, batch_size=4, progress=False, **kw)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_refuses_nan_or_inf_inputs_before_any_step(bad):
    model, opt, x, y = fit_case()
    x[5, 1] = bad
    start = [p.copy() for p in model.params]
    with pytest.raises(ValueError, match=r"x holds 1 NaN/inf value\(s\), the first in example 5"):
        run_fit(model, opt, x, y)
    assert all(np.array_equal(p, q) for p, q in zip(model.params, start))


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
def test_fit_refuses_a_negative_or_nan_learning_rate(lr):
    model, opt, x, y = fit_case()
    opt.lr = lr
    with pytest.raises(ValueError, match=r"optimizer\.lr=.*finite number >= 0"):
        run_fit(model, opt, x, y)


def test_fit_refuses_inputs_and_labels_of_different_lengths():
    model, opt, x, y = fit_case()
    with pytest.raises(ValueError, match="x has 8 examples but y has 7 labels"):
        run_fit(model, opt, x, y[:7])


@pytest.mark.parametrize(
    "kw,error",
    [
        (dict(epochs=0), ValueError),
        (dict(epochs=2.5), TypeError),
        (dict(epochs=True), TypeError),
        (dict(batch_size=0), ValueError),
        (dict(batch_size=4.0), TypeError),
    ],
)
def test_fit_wants_positive_integer_epochs_and_batch_size(kw, error):
    model, opt, x, y = fit_case()
    name = next(iter(kw))
    with pytest.raises(error, match=f"{name}="):
        fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, **{"batch_size": 4, **kw}, progress=False)


@pytest.mark.parametrize(
    "targets", [[[-1.0, 2.0]], [[0.2, 0.2]], [[np.nan, 1.0]]], ids=["negative", "sum", "nan"]
)
def test_soft_targets_must_be_distributions(targets):
    """Without the check, [[-1, 2]] against equal scores gives a negative loss."""
    with pytest.raises(ValueError, match="probability distributions"):
        nn.SoftmaxCrossEntropy().forward(np.zeros((1, 2)), np.array(targets))
    smoothed = np.array([[0.9, 0.05, 0.05]], dtype=np.float32)
    assert float(nn.SoftmaxCrossEntropy().forward(np.zeros((1, 3)), smoothed)) > 0


@pytest.mark.parametrize(
    "kw", [dict(temperature=float("nan")), dict(temperature=float("inf")), dict(temperature=-1.0)]
)
def test_sample_next_refuses_a_bad_temperature(kw):
    with pytest.raises(ValueError, match="temperature=.*finite number > 0"):
        sample_next(np.zeros((1, 3)), rng=0, **kw)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_sample_next_refuses_nan_or_inf_scores(bad):
    with pytest.raises(ValueError, match=r"scores hold 1 NaN/inf"):
        sample_next(np.array([[0.0, bad, 1.0]]), rng=0)


@pytest.mark.parametrize("top_k", [0, -2, 1.5, True])
def test_sample_next_refuses_a_top_k_that_is_not_a_positive_int(top_k):
    with pytest.raises(ValueError, match="top_k="):
        sample_next(np.zeros((1, 3)), top_k=top_k, rng=0)


def test_word2vec_refuses_a_corpus_without_pairs():
    """One in-vocabulary word per sentence: no pair, so the loss used to read 0.0."""
    sentences = [["a", "zz"], ["b"], ["a", "yy"], ["b"]]
    model = Word2Vec(Vocab.build(sentences, min_count=2), 4, negative=2, window=2, sample=0)
    with pytest.raises(ValueError, match="no training pairs.*lower min_count"):
        model.train(sentences, epochs=1)


def test_word2vec_epoch_without_pairs_after_subsampling_is_nan_with_a_warning():
    sentences = [["a", "b", "a", "b"]]
    model = Word2Vec(Vocab.build(sentences), 4, negative=2, window=2, sample=1e-9)
    with pytest.warns(RuntimeWarning, match="left no training pair.*sample=0"):
        hist = model.train(sentences, epochs=1)
    assert np.isnan(hist["loss"][0]) and hist["pairs"] == [0]


@pytest.mark.parametrize("kw", [dict(max_size=0), dict(max_size=-1), dict(min_count=0)])
def test_vocab_build_wants_positive_sizes(kw):
    name = next(iter(kw))
    with pytest.raises(ValueError, match=f"{name}=.*positive integer"):
        Vocab.build([["a", "b", "a"]], **kw)


def test_conv2d_refuses_integer_images_in_forward():
    conv = nn.Conv2d(1, 2, 3, rng=0)
    images = np.random.default_rng(0).integers(0, 256, (2, 1, 5, 5)).astype(np.uint8)
    with pytest.raises(TypeError, match=r"uint8 input.*astype\('float32'\) / 255"):
        conv.forward(images)
    y = conv.forward(images.astype("float32") / 255)
    assert conv.backward(np.ones_like(y)).shape == images.shape


def tiny_seq2seq():
    return Seq2Seq(7, 6, source_len=4, embed=3, hidden=5, decoder="attention", rng=0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda m, s: m.generate(s, start=1, max_len=0), "max_len=0"),
        (lambda m, s: m.generate(s[:0], start=1, max_len=3), r"shape \(0, 4\)"),
        (lambda m, s: m.generate(s[:, :3], start=1, max_len=3), r"shape \(2, 3\)"),
        (lambda m, s: m.generate(s[0], start=1, max_len=3), r"shape \(4,\)"),
        (lambda m, s: m.beam_search(s[0], start=1, end=2, max_len=3, beam=0), "beam=0"),
        (lambda m, s: m.beam_search(s[0], start=1, end=2, max_len=0), "max_len=0"),
        (lambda m, s: m.beam_search(s[0, :0], start=1, end=2, max_len=3), r"shape \(0,\)"),
        (lambda m, s: m.beam_search(s, start=1, end=2, max_len=3), r"shape \(2, 4\)"),
        (lambda m, s: m.forward(np.zeros((0, 6), int)), r"N >= 1.*\(0, 6\)"),
    ],
)
def test_seq2seq_refuses_bad_lengths_beams_and_sources(call, match):
    src = np.random.default_rng(0).integers(0, 7, (2, 4))
    with pytest.raises(ValueError, match=match):
        call(tiny_seq2seq(), src)
