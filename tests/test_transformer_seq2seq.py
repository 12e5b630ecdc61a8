"""The Transformer encoder-decoder: its loss gradient against central differences on a tiny
model, lesson 10's interface (fit trains it, generate decodes), and a reversal task it learns."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.transformer_seq2seq import TransformerSeq2Seq
from course_lib.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny products: see conftest.py

PAD, START, END = 0, 1, 2


def reversal(n, length=4, digits=6, seed=0):
    """Sources of ``length`` random symbols 3..3+digits-1 with a padded tail, targets
    <s> reversed </s>: (x, y) for fit, the sources, and the reversed strings."""
    g = np.random.default_rng(seed)
    src = g.integers(3, 3 + digits, size=(n, length))
    src = np.hstack([src, np.full((n, 1), PAD)])
    rev = src[:, length - 1 :: -1] if length else src
    tgt = np.hstack([np.full((n, 1), START), rev, np.full((n, 1), END)])
    return np.hstack([src, tgt[:, :-1]]), tgt[:, 1:], src, rev


def tiny(dtype="float64", seed=0, **kw):
    return TransformerSeq2Seq(
        9,
        9,
        5,
        d_model=4,
        n_heads=2,
        n_layers=1,
        d_ff=6,
        max_len=8,
        pad=PAD,
        rng=seed,
        dtype=dtype,
        **kw,
    )


def test_loss_gradient_equals_numeric():
    model = tiny()
    g = np.random.default_rng(1)
    for p in model.params:  # biases and norms away from 0 and 1, so their gradients matter
        p[...] = p + 0.2 * g.standard_normal(p.shape)
    x, y, _, _ = reversal(3, seed=2)
    loss = nn.SoftmaxCrossEntropy(ignore_index=PAD)
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    errors = {}
    for name, p, grad in zip(model.named_params(), model.params, model.grads):
        numeric = numeric_gradient(lambda: loss.forward(model.forward(x), y), p)
        analytic = grad.copy()
        if name.endswith("bkv") or name.endswith("bqkv"):  # key biases: zero gradient
            d = p.shape[0] // (2 if name.endswith("bkv") else 3)
            keys = slice(0, d) if name.endswith("bkv") else slice(d, 2 * d)
            assert np.abs(analytic[keys]).max() < 1e-9, name
            numeric[keys] = analytic[keys] = 0
        errors[name] = rel_error(analytic, numeric)
    assert len(errors) == len(model.params) == 2 + 12 + 2 + 2 + 20 + 2 + 2
    assert max(errors.values()) < 1e-6, {k: v for k, v in errors.items() if v > 1e-6}


def test_source_padding_is_ignored():
    model = tiny()
    x, _, _, _ = reversal(2, seed=3)
    y = model.forward(x)
    model.src_embed.W[PAD] += 5.0  # what a padded position holds no longer matters
    assert np.abs(model.forward(x) - y).max() < 1e-12
    model.pad = None
    assert np.abs(model.forward(x) - y).max() > 1e-3


def test_decoder_does_not_peek():
    model = tiny()
    x, _, _, _ = reversal(2, seed=4)
    y = model.forward(x)
    x2 = x.copy()
    x2[:, 5 + 2] = 3 + (x2[:, 5 + 2] - 2) % 6  # another target token at decoder input 2
    moved = np.abs(model.forward(x2) - y).max(axis=(0, 2))
    assert moved[:2].max() < 1e-12 and moved[2:].min() > 1e-6, moved


def test_interface_and_refusals():
    model = tiny("float32")
    x, _, src, _ = reversal(3)
    assert model.forward(x).shape == (3, 5, 9)
    out = model.generate(src, start=START, max_len=6)
    assert out.shape == (3, 6) and out.dtype.kind == "i"
    assert model.training  # generate puts the training mode back
    assert len(model.named_params()) == len(model.params) == len(model.grads)
    with pytest.raises(ValueError, match="source_len"):
        model.forward(x[:, :5])
    with pytest.raises(ValueError, match="source_len=5"):
        model.generate(src[:, :4], start=START, max_len=3)
    with pytest.raises(ValueError, match="max_len=9"):
        model.generate(src, start=START, max_len=9)


def test_learns_to_reverse():
    x, y, src, rev = reversal(600, seed=5)
    xt, _, src_t, rev_t = reversal(200, seed=6)
    model = TransformerSeq2Seq(
        9, 9, 5, d_model=32, n_heads=4, n_layers=1, d_ff=64, max_len=8, pad=PAD, rng=0
    )

    def exact(m):
        out = m.generate(src_t, start=START, max_len=5)
        return float(np.mean(np.all(out[:, :4] == rev_t, axis=1) & (out[:, 4] == END)))

    before = exact(model)
    loss = nn.SoftmaxCrossEntropy(ignore_index=PAD)
    h = fit(
        model,
        loss,
        optim.Adam(model.params, model.grads, lr=3e-3),
        x,
        y,
        epochs=12,
        batch_size=32,
        rng=0,
        progress=False,
    )
    after = exact(model)
    # chance: 6^-4 per string; the loss must fall too
    assert before < 0.05 and after > 0.9, (before, after, h["loss"][-1])
