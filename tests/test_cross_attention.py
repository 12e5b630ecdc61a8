"""Cross-attention and the decoder block: numeric gradients of both inputs and every parameter,
torch.nn.MultiheadAttention / TransformerDecoderLayer with copied weights, masks that mask."""

import numpy as np
import pytest
import torch

from course_lib import nn
from course_lib.gradcheck import numeric_gradient_array, rel_error
from course_lib.twins.transformer import gelu_tanh

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny products: see conftest.py

# (N, T, S, d, heads, source lengths or None): batch 1, one query, odd widths, padded sources
CASES = [
    (1, 3, 5, 6, 3, None),
    (1, 1, 2, 4, 1, None),
    (2, 4, 7, 10, 2, [7, 3]),
    (3, 5, 3, 9, 3, [1, 3, 2]),
]


def source_mask(N, S, lengths):
    return None if lengths is None else np.arange(S)[None, :] < np.asarray(lengths)[:, None]


def inputs(N, T, S, d, seed=0):
    g = np.random.default_rng(seed)
    return g.standard_normal((N, T, d)), g.standard_normal((N, S, d))


def randomise_biases(layer, seed=1):
    """Biases start at 0; draw them so that their gradients and layouts are checked too."""
    g = np.random.default_rng(seed)
    for name, p in layer.named_params().items():
        if "b" in name.split(".")[-1] or "beta" in name or "gamma" in name:
            p[...] = p + 0.3 * g.standard_normal(p.shape)


def check_two_inputs(layer, x, m, mask, h=1e-5):
    """Relative errors of backward's (dx, dm) and every parameter gradient, numerically."""
    dout = np.random.default_rng(7).standard_normal(layer.forward(x, m, mask).shape)
    dx, dm = layer.backward(dout)

    def f():
        return layer.forward(x, m, mask)

    errors = {
        "dx": rel_error(dx, numeric_gradient_array(f, x, dout, h)),
        "dm": rel_error(dm, numeric_gradient_array(f, m, dout, h)),
    }
    for name, p, g in zip(layer.named_params(), layer.params, layer.grads):
        numeric, analytic = numeric_gradient_array(f, p, dout, h), g.copy()
        if name.endswith("bkv") or name.endswith("bqkv"):  # the key bias: gradient 0, as it
            d = p.shape[0] // (2 if name.endswith("bkv") else 3)  # shifts a query's scores alike
            keys = slice(0, d) if name.endswith("bkv") else slice(d, 2 * d)
            errors["d" + name + " (keys, absolute)"] = np.abs(analytic[keys]).max()
            numeric[keys] = analytic[keys] = 0
        errors["d" + name] = rel_error(analytic, numeric)
    return errors


@pytest.mark.parametrize("N, T, S, d, heads, lengths", CASES)
def test_cross_attention_numeric_gradients(N, T, S, d, heads, lengths):
    layer = nn.MultiHeadCrossAttention(d, heads, rng=0, dtype="float64")
    randomise_biases(layer)
    x, m = inputs(N, T, S, d)
    errors = check_two_inputs(layer, x, m, source_mask(N, S, lengths))
    assert max(errors.values()) < 1e-6, errors


def torch_cross(layer):
    mha = torch.nn.MultiheadAttention(layer.d, layer.h, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.hstack([layer.Wq, layer.Wkv]).T.copy()))
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([layer.bq, layer.bkv])))
        mha.out_proj.weight.copy_(torch.from_numpy(layer.Wo.T.copy()))
        mha.out_proj.bias.copy_(torch.from_numpy(layer.bo))
    return mha


@pytest.mark.parametrize("N, T, S, d, heads, lengths", CASES)
def test_cross_attention_equals_torch(N, T, S, d, heads, lengths):
    layer = nn.MultiHeadCrossAttention(d, heads, rng=3, dtype="float64")
    randomise_biases(layer)
    x, m = inputs(N, T, S, d, seed=4)
    mask = source_mask(N, S, lengths)
    ours = layer.forward(x, m, mask)
    dout = np.random.default_rng(5).standard_normal(ours.shape)
    dx, dm = layer.backward(dout)
    mha = torch_cross(layer)
    tx, tm = (torch.from_numpy(a).requires_grad_() for a in (x, m))
    kpm = None if mask is None else torch.from_numpy(~mask)  # torch: True = ignored
    y, w = mha(tx, tm, tm, key_padding_mask=kpm, average_attn_weights=False)
    y.backward(torch.from_numpy(dout))
    assert rel_error(ours, y.detach().numpy()) < 1e-10
    assert rel_error(layer.weights, w.detach().numpy()) < 1e-10
    assert rel_error(dx, tx.grad.numpy()) < 1e-8
    assert rel_error(dm, tm.grad.numpy()) < 1e-8
    dW = np.hstack([layer.dWq, layer.dWkv]).T
    assert rel_error(dW, mha.in_proj_weight.grad.numpy()) < 1e-8
    assert rel_error(layer.dWo.T, mha.out_proj.weight.grad.numpy()) < 1e-8


def test_padded_source_positions_are_invisible():
    layer = nn.MultiHeadCrossAttention(8, 2, rng=0, dtype="float64")
    x, m = inputs(2, 3, 6, 8)
    mask = source_mask(2, 6, [4, 6])
    y = layer.forward(x, m, mask)
    assert np.all(layer.weights[0, :, :, 4:] == 0)
    m2 = m.copy()
    m2[0, 4:] += 10.0  # the padding of the first source
    y2 = layer.forward(x, m2, mask)
    assert np.abs(y2[0] - y[0]).max() == 0
    assert np.abs(y2[1] - y[1]).max() == 0
    assert np.abs(layer.forward(x, m2) - y).max() > 0.1  # without the mask it would show


def test_cross_attention_refuses_bad_shapes():
    layer = nn.MultiHeadCrossAttention(6, 3)
    x, m = (np.zeros(s, dtype=np.float32) for s in ((2, 3, 6), (2, 4, 6)))
    with pytest.raises(ValueError, match="not divisible"):
        nn.MultiHeadCrossAttention(6, 4)
    with pytest.raises(ValueError, match="m \\(N, S, 6\\)"):
        layer.forward(x, m[..., :5])
    with pytest.raises(ValueError, match="same batch size"):
        layer.forward(x, m[:1])
    with pytest.raises(ValueError, match="boolean \\(N, S\\) = \\(2, 4\\)"):
        layer.forward(x, m, np.ones((2, 3), dtype=bool))


def decoder_block(d, heads, seed=0):
    block = nn.TransformerDecoderBlock(d, heads, 2 * d + 1, rng=seed, dtype="float64")
    randomise_biases(block, seed + 1)
    return block


@pytest.mark.parametrize("N, T, S, d, heads, lengths", CASES[:3])
def test_decoder_block_numeric_gradients(N, T, S, d, heads, lengths):
    block = decoder_block(d, heads)
    x, m = inputs(N, T, S, d, seed=2)
    errors = check_two_inputs(block, x, m, source_mask(N, S, lengths))
    assert max(errors.values()) < 1e-6, errors


def torch_decoder_layer(block):
    d, heads, d_ff = block.attn.d, block.attn.h, block.ff1.layer.W.shape[1]
    layer = torch.nn.TransformerDecoderLayer(
        d,
        heads,
        d_ff,
        dropout=0.0,
        activation=gelu_tanh,
        layer_norm_eps=block.ln1.eps,
        batch_first=True,
        norm_first=True,
    ).double()
    sa, ca = layer.self_attn, layer.multihead_attn
    c = block.cross
    pairs = [
        (sa.in_proj_weight, block.attn.Wqkv.T),
        (sa.in_proj_bias, block.attn.bqkv),
        (sa.out_proj.weight, block.attn.Wo.T),
        (sa.out_proj.bias, block.attn.bo),
        (ca.in_proj_weight, np.hstack([c.Wq, c.Wkv]).T),
        (ca.in_proj_bias, np.r_[c.bq, c.bkv]),
        (ca.out_proj.weight, c.Wo.T),
        (ca.out_proj.bias, c.bo),
        (layer.linear1.weight, block.ff1.layer.W.T),
        (layer.linear1.bias, block.ff1.layer.b),
        (layer.linear2.weight, block.ff2.layer.W.T),
        (layer.linear2.bias, block.ff2.layer.b),
    ]
    for k in (1, 2, 3):
        ln, norm = getattr(block, f"ln{k}"), getattr(layer, f"norm{k}")
        pairs += [(norm.weight, ln.gamma), (norm.bias, ln.beta)]
    with torch.no_grad():
        for dst, src in pairs:
            dst.copy_(torch.from_numpy(np.ascontiguousarray(src)))
    return layer


@pytest.mark.parametrize("N, T, S, d, heads, lengths", CASES)
def test_decoder_block_equals_torch(N, T, S, d, heads, lengths):
    block = decoder_block(d, heads, seed=5)
    x, m = inputs(N, T, S, d, seed=6)
    mask = source_mask(N, S, lengths)
    ours = block.forward(x, m, mask)
    dout = np.random.default_rng(8).standard_normal(ours.shape)
    dx, dm = block.backward(dout)
    layer = torch_decoder_layer(block)
    tx, tm = (torch.from_numpy(a).requires_grad_() for a in (x, m))
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    kpm = None if mask is None else torch.from_numpy(~mask)
    y = layer(tx, tm, tgt_mask=causal, memory_key_padding_mask=kpm)
    y.backward(torch.from_numpy(dout))
    assert rel_error(ours, y.detach().numpy()) < 1e-10
    assert rel_error(dx, tx.grad.numpy()) < 1e-8
    assert rel_error(dm, tm.grad.numpy()) < 1e-8
    assert rel_error(block.ff1.layer.dW.T, layer.linear1.weight.grad.numpy()) < 1e-8


def test_decoder_block_is_causal():
    block = decoder_block(8, 2)
    x, m = inputs(2, 6, 4, 8)
    y = block.forward(x, m)
    x2 = x.copy()
    x2[:, 3] += np.random.default_rng(9).standard_normal((2, 8))
    moved = np.abs(block.forward(x2, m) - y).max(axis=(0, 2))
    assert moved[:3].max() < 1e-12 and moved[3:].min() > 1e-3, moved


def test_decoder_block_train_eval_and_params():
    block = nn.TransformerDecoderBlock(8, 2, 16, dropout=0.5, rng=0)
    assert len(block.params) == len(block.grads) == len(block.named_params()) == 20
    assert not block.eval().drops[0].training and block.train().cross.training
