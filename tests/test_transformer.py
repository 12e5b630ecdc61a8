"""Self-attention, positions and the Transformer block: numeric gradients,
torch.nn.MultiheadAttention / TransformerEncoderLayer with copied weights, masks that really
mask.  The language model and its twin: test_transformer_lm.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.gradcheck import check_layer, numeric_gradient_array, rel_error
from course_lib.twins.transformer import (
    _block_pairs,
    _mha_pairs,
    torch_encoder_layer,
    torch_multihead_attention,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny products: see conftest.py


class WithMask(nn.Layer):
    """A layer called as ``forward(x, mask)`` with a fixed mask, for ``check_layer``."""

    def __init__(self, layer, mask):
        self.layer, self.mask = layer, mask

    params = property(lambda self: self.layer.params)
    grads = property(lambda self: self.layer.grads)

    def named_params(self):
        return self.layer.named_params()

    def forward(self, x):
        return self.layer.forward(x, self.mask)

    def backward(self, dout):
        return self.layer.backward(dout)


def assert_close(ours, theirs, name=""):
    """Relative 1e-8, or 1e-13 absolute: the key bias's gradient is 0 up to rounding."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-13, err_msg=name)


def padding_mask(N, T, lengths):
    """(N, T) boolean, True for the first lengths[n] positions of row n."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def check_attention(layer, x, mask):
    """Numeric-gradient errors; the key third of bqkv has gradient 0 (a softmax ignores a shift),
    so it is checked against an absolute bound and the q and v thirds relatively."""
    attn = layer.attn if hasattr(layer, "attn") else layer
    wrapped = WithMask(layer, mask)
    errors = check_layer(wrapped, x)
    bias_key = next(k for k in errors if k.endswith("bqkv"))
    dout = np.random.default_rng(987_654_321).standard_normal(x.shape)
    wrapped.forward(x)
    wrapped.backward(dout)
    numeric = numeric_gradient_array(lambda: wrapped.forward(x), attn.bqkv, dout)
    d = attn.d
    assert np.abs(numeric[d : 2 * d]).max() < 1e-8 and np.abs(attn.dbqkv[d : 2 * d]).max() < 1e-12
    keep = np.r_[0:d, 2 * d : 3 * d]
    errors[bias_key] = rel_error(attn.dbqkv[keep], numeric[keep])
    return errors


# (N, T, d, heads, causal, lengths of the padded rows or None)
CASES = [
    (1, 1, 4, 1, False, None),
    (1, 5, 6, 3, True, None),
    (2, 5, 6, 3, False, [5, 2]),
    (3, 4, 6, 1, True, [4, 1, 3]),
    (2, 3, 4, 2, False, None),
    (1, 5, 6, 6, True, [3]),
]


@pytest.mark.parametrize("N,T,d,heads,causal,lengths", CASES)
def test_attention_numeric_gradients(N, T, d, heads, causal, lengths):
    layer = nn.MultiHeadSelfAttention(d, heads, causal=causal, rng=0, dtype="float64")
    layer.bqkv[...] = np.random.default_rng(5).standard_normal(3 * d)
    mask = None if lengths is None else padding_mask(N, T, lengths)
    x = np.random.default_rng(1).standard_normal((N, T, d))
    errors = check_attention(layer, x, mask)
    assert max(errors.values()) < 1e-6, errors


def torch_masks(N, T, causal, lengths):
    """torch's masks are True where attention is *not* allowed."""
    attn_mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None
    pad = None if lengths is None else torch.as_tensor(~padding_mask(N, T, lengths))
    return attn_mask, pad


@pytest.mark.parametrize("N,T,d,heads,causal,lengths", CASES)
def test_attention_equals_torch_multihead_attention(N, T, d, heads, causal, lengths):
    layer = nn.MultiHeadSelfAttention(d, heads, causal=causal, rng=2, dtype="float64")
    layer.bqkv[...] = np.random.default_rng(5).standard_normal(3 * d)
    x = np.random.default_rng(3).standard_normal((N, T, d))
    dout = np.random.default_rng(4).standard_normal((N, T, d))
    mask = None if lengths is None else padding_mask(N, T, lengths)
    out = layer.forward(x, mask)
    dx = layer.backward(dout)
    mha = torch_multihead_attention(layer)
    xt = torch.tensor(x, requires_grad=True)
    attn_mask, pad = torch_masks(N, T, causal, lengths)
    kw = {"key_padding_mask": pad, "attn_mask": attn_mask, "is_causal": causal}
    yt, wt = mha(xt, xt, xt, average_attn_weights=False, **kw)
    yt.backward(torch.as_tensor(dout))
    assert rel_error(out, yt) < 1e-10
    assert rel_error(layer.weights, wt) < 1e-10
    assert rel_error(dx, xt.grad) < 1e-8
    for dst, ours, transpose in _mha_pairs(layer, mha):
        g = dst.grad.numpy()
        grad = {id(p): g for p, g in zip(layer.params, layer.grads)}[id(ours)]
        assert_close(grad, g.T if transpose else g)


def test_scaled_dot_product_attention_equals_torch_and_masks():
    g = np.random.default_rng(6)
    q, k, v = (
        g.standard_normal((2, 3, 4, 5)),
        g.standard_normal((2, 3, 6, 5)),
        g.standard_normal((2, 3, 6, 7)),
    )
    mask = g.random((2, 1, 4, 6)) < 0.6
    mask[..., 0] = True  # every query sees at least one key
    out, weights = nn.scaled_dot_product_attention(q, k, v, mask)
    t = [torch.as_tensor(a) for a in (q, k, v)]
    expected = F.scaled_dot_product_attention(*t, attn_mask=torch.as_tensor(mask))
    assert out.shape == (2, 3, 4, 7) and weights.shape == (2, 3, 4, 6)
    assert rel_error(out, expected) < 1e-10
    assert np.all(weights[~np.broadcast_to(mask, weights.shape)] == 0)
    assert np.abs(weights.sum(axis=-1) - 1).max() < 1e-12


def test_causal_attention_ignores_the_future():
    x = np.random.default_rng(7).standard_normal((2, 6, 6))
    for causal in (True, False):
        block = nn.TransformerBlock(6, 3, 8, causal=causal, rng=0, dtype="float64")
        before = block.forward(x)
        for t in range(5):
            changed = x.copy()
            changed[:, t + 1] += 1.0
            after = block.forward(changed)
            same = np.array_equal(before[:, : t + 1], after[:, : t + 1])
            assert same == causal, (causal, t)
    w = block.attn.weights  # the non-causal block attends everywhere
    assert (w > 0).all()


def test_padded_keys_change_nothing_at_real_positions():
    layer = nn.MultiHeadSelfAttention(6, 2, rng=0, dtype="float64")
    x = np.random.default_rng(8).standard_normal((2, 5, 6))
    mask = padding_mask(2, 5, [5, 3])
    before = layer.forward(x, mask)
    assert np.all(layer.weights[1, :, :, 3:] == 0)
    changed = x.copy()
    changed[1, 3:] = 100.0
    after = layer.forward(changed, mask)
    assert np.array_equal(before[:, :3], after[:, :3]) and np.array_equal(before[0], after[0])
    assert not np.allclose(layer.forward(changed)[1, :3], before[1, :3])  # no mask: it does


def test_attention_errors_name_the_fix():
    with pytest.raises(ValueError, match="not divisible by n_heads"):
        nn.MultiHeadSelfAttention(6, 4)
    layer = nn.MultiHeadSelfAttention(6, 2)
    x = np.zeros((2, 5, 6), dtype=np.float32)
    with pytest.raises(ValueError, match=r"boolean \(N, T\) = \(2, 5\)"):
        layer.forward(x, np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="ids != pad_id"):
        layer.forward(x, np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"\(N, T, 6\)"):
        layer.forward(np.zeros((2, 5, 4), dtype=np.float32))


def test_sinusoidal_table_is_the_papers():
    for d in (6, 7):
        table = nn.sinusoidal_table(50, d, dtype="float64")
        assert table.shape == (50, d)
        for pos, i in [(0, 0), (3, 1), (49, 2)]:
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i] == pytest.approx(np.sin(angle), abs=1e-12)
            assert table[pos, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-12)


def test_positional_embedding_gradients_and_limits():
    layer = nn.PositionalEmbedding(7, 5, rng=0, dtype="float64")
    x = np.random.default_rng(9).standard_normal((3, 4, 5))
    errors = check_layer(layer, x)
    assert max(errors.values()) < 1e-8, errors
    assert np.all(layer.dP[4:] == 0) and np.abs(layer.dP[:4]).min() > 0
    with pytest.raises(ValueError, match="longer than max_len=7"):
        layer.forward(np.zeros((1, 8, 5)))
    fixed = nn.PositionalEmbedding(7, 5, table=nn.sinusoidal_table(7, 5), learned=False)
    assert fixed.params == [] and np.array_equal(fixed.backward(x), x)


# (N, T, d, heads, d_ff, causal, lengths)
BLOCKS = [
    (1, 5, 6, 3, 7, True, None),
    (2, 4, 6, 1, 5, False, [4, 2]),
    (2, 3, 4, 2, 8, True, [3, 2]),
]


def randomise(layer, seed):
    """Non-trivial gains and biases (they start at 1 and 0)."""
    g = np.random.default_rng(seed)
    for p in layer.params:
        p[...] += 0.3 * g.standard_normal(p.shape)


@pytest.mark.parametrize("N,T,d,heads,d_ff,causal,lengths", BLOCKS)
def test_block_numeric_gradients(N, T, d, heads, d_ff, causal, lengths):
    block = nn.TransformerBlock(d, heads, d_ff, causal=causal, rng=0, dtype="float64")
    randomise(block, 1)
    mask = None if lengths is None else padding_mask(N, T, lengths)
    x = np.random.default_rng(2).standard_normal((N, T, d))
    errors = check_attention(block, x, mask)
    assert len(errors) == 13 and max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("N,T,d,heads,d_ff,causal,lengths", BLOCKS)
def test_block_equals_torch_encoder_layer(N, T, d, heads, d_ff, causal, lengths):
    block = nn.TransformerBlock(d, heads, d_ff, causal=causal, rng=3, dtype="float64")
    randomise(block, 4)
    x = np.random.default_rng(5).standard_normal((N, T, d))
    dout = np.random.default_rng(6).standard_normal((N, T, d))
    mask = None if lengths is None else padding_mask(N, T, lengths)
    out = block.forward(x, mask)
    dx = block.backward(dout)
    enc = torch_encoder_layer(block)
    xt = torch.tensor(x, requires_grad=True)
    attn_mask, pad = torch_masks(N, T, causal, lengths)
    yt = enc(xt, src_mask=attn_mask, src_key_padding_mask=pad, is_causal=causal)
    yt.backward(torch.as_tensor(dout))
    assert rel_error(out, yt) < 1e-10
    assert rel_error(dx, xt.grad) < 1e-8
    grads = {id(p): g for p, g in zip(block.params, block.grads)}
    pairs = _block_pairs(block, enc)
    assert len(pairs) == len(block.params) == 12
    for dst, ours, transpose in pairs:
        g = dst.grad.numpy()
        assert_close(grads[id(ours)], g.T if transpose else g)


def test_block_params_in_the_documented_order():
    block = nn.TransformerBlock(6, 2, 10, causal=True, rng=0)
    names = list(block.named_params())
    assert names == [
        "ln1.gamma",
        "ln1.beta",
        "attn.Wqkv",
        "attn.bqkv",
        "attn.Wo",
        "attn.bo",
        "ln2.gamma",
        "ln2.beta",
        "ff1.W",
        "ff1.b",
        "ff2.W",
        "ff2.b",
    ]
    shapes = [p.shape for p in block.params]
    assert shapes[2] == (6, 18) and shapes[8] == (6, 10) and shapes[10] == (10, 6)
    assert [g.shape for g in block.grads] == shapes
