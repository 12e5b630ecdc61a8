"""Attention and the encoder-decoder: numeric gradients, torch autograd, decoding."""

import numpy as np
import pytest
import torch

from course_lib import nn
from course_lib.gradcheck import numeric_gradient, numeric_gradient_array, rel_error
from course_lib.models.seq2seq import Seq2Seq


def attention_case(score, N=2, S=5, T=3, H=4, seed=0):
    g = np.random.default_rng(seed)
    att = nn.Attention(H, score=score, attn_size=3, rng=seed, dtype="float64")
    return att, g.standard_normal((N, S, H)), g.standard_normal((N, T, H)), g


@pytest.mark.parametrize("score", ["dot", "additive"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 2), (2, 5, 3, 4), (3, 2, 6, 3)])
def test_attention_numeric_gradients(score, shape):
    N, S, T, H = shape
    att, hs, hd, g = attention_case(score, N, S, T, H)
    mask = np.ones((N, S), bool)
    mask[0, S - 1] = S == 1  # one padded position, unless that is the only one
    dout = g.standard_normal((N, T, H))
    att.forward(hs, hd, mask)
    dhs, dhd = att.backward(dout)
    f = lambda: att.forward(hs, hd, mask)  # noqa: E731
    assert rel_error(dhs, numeric_gradient_array(f, hs, dout)) < 1e-6
    assert rel_error(dhd, numeric_gradient_array(f, hd, dout)) < 1e-6
    grads = {n: g_.copy() for n, g_ in zip(att.param_names, att.grads)}
    for name, p in zip(att.param_names, att.params):
        assert rel_error(grads[name], numeric_gradient_array(f, p, dout)) < 1e-6, name


@pytest.mark.parametrize("score", ["dot", "additive"])
def test_attention_matches_torch(score):
    att, hs, hd, g = attention_case(score, N=3, S=6, T=4, H=5)
    mask = np.ones((3, 6), bool)
    mask[1, 4:] = False
    dout = g.standard_normal((3, 4, 5))
    out = att.forward(hs, hd, mask)
    dhs, dhd = att.backward(dout)
    hs_t, hd_t = (torch.tensor(a, requires_grad=True) for a in (hs, hd))
    params = [torch.tensor(p, requires_grad=True) for p in att.params]
    if score == "dot":
        e = hd_t @ hs_t.transpose(1, 2)
    else:
        Wk, Wq, v = params
        e = torch.tanh((hs_t @ Wk)[:, None] + (hd_t @ Wq)[:, :, None]) @ v
    e = e.masked_fill(~torch.as_tensor(mask)[:, None, :], float("-inf"))
    ctx = torch.softmax(e, dim=-1) @ hs_t
    (ctx * torch.tensor(dout)).sum().backward()
    assert rel_error(out, ctx.detach()) < 1e-10
    assert rel_error(dhs, hs_t.grad) < 1e-8 and rel_error(dhd, hd_t.grad) < 1e-8
    for ours, theirs in zip(att.grads, params):
        assert rel_error(ours, theirs.grad) < 1e-8
    assert np.allclose(att.weights.sum(-1), 1) and (att.weights[1, :, 4:] < 1e-12).all()


def test_attention_refuses_mismatched_states():
    with pytest.raises(ValueError, match=r"\(N, S, H\)"):
        nn.Attention(4).forward(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="unknown attention"):
        nn.Attention(4, score="cosine")


def tiny(decoder, score="dot", pad=None):
    return Seq2Seq(
        7,
        6,
        source_len=4,
        embed=3,
        hidden=5,
        decoder=decoder,
        score=score,
        pad=pad,
        rng=0,
        dtype="float64",
    )


CASES = [("plain", "dot"), ("peeky", "dot"), ("attention", "dot"), ("attention", "additive")]


@pytest.mark.parametrize("decoder,score", CASES)
@pytest.mark.parametrize("N", [1, 3])
def test_seq2seq_numeric_gradients(decoder, score, N):
    model = tiny(decoder, score, pad=0)
    g = np.random.default_rng(1)
    x = np.hstack([g.integers(0, 7, (N, 4)), g.integers(0, 6, (N, 3))])
    x[0, 3] = 0  # a padded source position
    y = g.integers(0, 6, (N, 3))
    loss = nn.SoftmaxCrossEntropy()

    def objective():
        return loss.forward(model.forward(x), y)

    objective()
    model.backward(loss.backward())
    for (name, p), grad in zip(model.named_params().items(), model.grads):
        numeric = numeric_gradient(objective, p)
        assert np.abs(grad - numeric).max() < 1e-6 * max(np.abs(numeric).max(), 1e-3), name


@pytest.mark.parametrize("decoder", ["plain", "peeky", "attention"])
def test_greedy_and_beam_agree_with_teacher_forcing(decoder):
    model = tiny(decoder)
    src = np.random.default_rng(2).integers(0, 7, (3, 4))
    out = model.generate(src, start=1, max_len=5)
    assert out.shape == (3, 5)
    forced = model.forward(np.hstack([src, np.hstack([np.ones((3, 1), int), out[:, :-1]])]))
    assert (forced.argmax(-1) == out).all()  # greedy = argmax of its own teacher-forced run
    ids, logp = model.beam_search(src[0], start=1, end=99, max_len=5, beam=1)
    assert ids == out[0].tolist() and logp < 0
    wide, wide_logp = model.beam_search(src[0], start=1, end=99, max_len=5, beam=4)
    assert wide_logp >= logp - 1e-12  # a wider beam never finds a less likely output


def test_seq2seq_refuses_a_bad_batch():
    with pytest.raises(ValueError, match="hstack"):
        tiny("plain").forward(np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="unknown decoder"):
        Seq2Seq(5, 5, 3, decoder="transformer")


@pytest.mark.parametrize("decoder,score", CASES)
def test_torch_twin_matches_scores_gradients_and_decoding(decoder, score):
    from course_lib.twins.seq2seq import TorchSeq2Seq

    model = tiny(decoder, score, pad=0)
    twin = TorchSeq2Seq.from_numpy(model)
    g = np.random.default_rng(3)
    x = np.hstack([g.integers(1, 7, (3, 4)), g.integers(0, 6, (3, 3))])
    x[1, 2:4] = 0
    y = g.integers(0, 6, (3, 3))
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    scores = twin(torch.as_tensor(x))
    lt = torch.nn.functional.cross_entropy(scores.reshape(-1, 6), torch.as_tensor(y).reshape(-1))
    lt.backward()
    assert rel_error(value, lt.detach()) < 1e-10
    grads = dict(zip(model.named_params(), model.grads))
    assert rel_error(grads["enc_embed.W"], twin.enc_embed.weight.grad) < 1e-8
    assert rel_error(grads["encoder.Wh"], twin.encoder.weight_hh_l0.grad.T) < 1e-8
    assert rel_error(grads["out.W"], twin.out.weight.grad.T) < 1e-8
    if score == "additive":
        assert rel_error(grads["attention.v"], twin.v.grad) < 1e-8
    src = x[:, :4]
    assert (twin.generate(src, start=1, max_len=4) == model.generate(src, start=1, max_len=4)).all()
