"""Conv2d, Flatten, im2col/col2im: against the textbook loop, torch (forward and autograd), and
central differences; the layer inside a network and inside a flat parameter vector."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.backend import cupy_module
from course_lib.gradcheck import check_layer, compare_with_torch, rel_error
from course_lib.nn.conv import col2im, conv2d_naive, im2col

# (N, C, H, W), out channels, kernel, stride, padding: batch 1 and 3, 1-4 channels, square and
# non-square images and kernels, strides 1, 2 and (2, 1), paddings 0, 1, 2 and (1, 0)
CASES = [
    ((1, 1, 5, 5), 1, 3, 1, 0),
    ((3, 2, 7, 5), 4, 3, 1, 1),
    ((1, 3, 6, 6), 2, 1, 1, 0),
    ((3, 1, 7, 5), 3, (2, 3), 2, 0),
    ((1, 4, 8, 7), 2, 5, 1, 2),
    ((3, 2, 7, 5), 3, (2, 3), (2, 1), (1, 0)),
    ((1, 2, 9, 9), 1, 3, 2, 1),
    ((3, 3, 5, 7), 4, 2, (2, 1), 2),
    ((3, 4, 6, 5), 1, 3, 2, (1, 0)),
    ((1, 1, 4, 4), 2, 5, 1, 1),  # the kernel is larger than the image, not the padded image
]
IDS = [f"{'x'.join(map(str, s))}-o{o}-k{k}-s{st}-p{p}" for s, o, k, st, p in CASES]


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def pair(v):
    return (v, v) if isinstance(v, int) else v


def make_conv(c, o, k, s, p, seed=1, dtype="float64", **kw):
    """A Conv2d with random weights and a non-zero bias."""
    layer = nn.Conv2d(c, o, k, s, p, rng=seed, dtype=dtype, **kw)
    layer.b[...] = randn(o, seed=seed + 1)
    return layer


def torch_conv(s, p):
    return lambda x, W, b: F.conv2d(x, W, b, stride=s, padding=p)


@pytest.mark.parametrize("shape, o, k, s, p", CASES, ids=IDS)
def test_conv2d_against_the_loop_torch_and_numeric_gradients(shape, o, k, s, p):
    layer, x = make_conv(shape[1], o, k, s, p), randn(*shape)
    (kh, kw), (sh, sw), (ph, pw) = pair(k), pair(s), pair(p)
    y = layer.forward(x)
    assert y.shape == (
        shape[0],
        o,
        (shape[2] + 2 * ph - kh) // sh + 1,
        (shape[3] + 2 * pw - kw) // sw + 1,
    )
    assert rel_error(y, conv2d_naive(x, layer.W, layer.b, s, p)) < 1e-12
    assert max(check_layer(layer, x).values()) < 1e-6
    assert max(compare_with_torch(layer, torch_conv(s, p), x).values()) < 1e-9


@pytest.mark.parametrize("shape, o, k, s, p", CASES[:4], ids=IDS[:4])
def test_the_loop_reference_matches_torch(shape, o, k, s, p):
    x, W, b = randn(*shape), randn(o, shape[1], *pair(k), seed=1), randn(o, seed=2)
    expected = F.conv2d(torch.tensor(x), torch.tensor(W), torch.tensor(b), stride=s, padding=p)
    assert rel_error(conv2d_naive(x, W, b, s, p), expected) < 1e-12


def test_float32_layer_stays_float32_and_agrees_with_torch():
    layer = make_conv(3, 5, 3, 1, 1, dtype="float32")
    x = randn(2, 3, 8, 8).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.dW.dtype == np.float32
    expected = F.conv2d(torch.tensor(x), torch.tensor(layer.W), torch.tensor(layer.b), padding=1)
    assert np.abs(y - expected.numpy()).max() < 1e-5


def test_weights_are_initialised_with_the_filter_bank_fan_in():
    W = nn.Conv2d(16, 64, 5, rng=0).W  # he: sigma = sqrt(2 / (16 * 5 * 5))
    assert W.shape == (64, 16, 5, 5) and W.dtype == np.float32
    assert abs(W.std() / np.sqrt(2 / 400) - 1) < 0.03
    assert np.array_equal(nn.Conv2d(2, 3, 3, rng=4).W, nn.Conv2d(2, 3, 3, rng=4).W)


# ---- im2col and col2im ----


@pytest.mark.parametrize("shape, o, k, s, p", CASES, ids=IDS)
def test_col2im_is_the_adjoint_of_im2col(shape, o, k, s, p):
    kh, kw = pair(k)
    x = randn(*shape)
    cols = im2col(x, kh, kw, s, p)
    c = randn(*cols.shape, seed=1)
    assert cols.shape[0] == shape[1] * kh * kw
    assert (
        abs(np.vdot(cols, c) - np.vdot(x, col2im(c, shape, kh, kw, s, p))) < 1e-10 * np.abs(c).sum()
    )


@pytest.mark.parametrize("shape, o, k, s, p", CASES, ids=IDS)
def test_im2col_and_col2im_are_torch_unfold_and_fold(shape, o, k, s, p):
    kh, kw = pair(k)
    n, c, h, w = shape
    x = torch.tensor(randn(*shape))
    unfolded = F.unfold(x, (kh, kw), padding=p, stride=s)  # (N, C*kh*kw, L), rows (c, p, q)
    expected = unfolded.permute(1, 2, 0).reshape(c * kh * kw, -1).numpy()  # columns (i, j, n)
    assert np.array_equal(im2col(x.numpy(), kh, kw, s, p), expected)
    cols = randn(*expected.shape, seed=3)
    as_torch = torch.tensor(cols).reshape(c * kh * kw, -1, n).permute(2, 0, 1)
    folded = F.fold(as_torch, (h, w), (kh, kw), padding=p, stride=s)
    assert rel_error(col2im(cols, shape, kh, kw, s, p), folded) < 1e-12


def test_col2im_of_ones_counts_the_windows_covering_each_pixel():
    counts = col2im(np.ones((9, 9)), (1, 1, 5, 5), 3, 3)  # 3x3 windows, stride 1: 3x3 outputs
    assert counts[0, 0, 0, 0] == 1 and counts[0, 0, 0, 2] == 3 and counts[0, 0, 2, 2] == 9
    assert counts.sum() == 81


def test_im2col_fills_a_given_buffer_and_checks_it():
    x = randn(2, 3, 6, 6)
    out = np.empty((27, 2 * 16))
    assert im2col(x, 3, 3, out=out) is out and np.array_equal(out, im2col(x, 3, 3))
    with pytest.raises(ValueError, match=r"out must be .* of shape \(27, 32\)"):
        im2col(x, 3, 3, out=np.empty((27, 31)))
    with pytest.raises(ValueError, match=r"cols of shape \(27, 31\)"):
        col2im(np.empty((27, 31)), x.shape, 3, 3)


# ---- Flatten ----


def test_flatten_round_trip():
    x = randn(3, 4, 5, 2)
    layer = nn.Flatten()
    y = layer.forward(x)
    assert y.shape == (3, 40) and np.array_equal(y, x.reshape(3, 40))
    assert np.array_equal(layer.backward(y), x) and layer.params == [] and layer.grads == []
    # (no check_layer here: forward returns a view of x, which the numeric gradient perturbs
    # in place; Flatten's gradient is checked numerically inside the network below)
    assert nn.Flatten().forward(randn(1, 7)).shape == (1, 7)


# ---- errors, input_grad, the reused buffer ----


def test_errors_name_the_shapes():
    layer = nn.Conv2d(3, 8, 5)
    with pytest.raises(
        ValueError, match=r"Conv2d\(3, 8, .*\) got an input of shape \(2, 4, 9, 9\)"
    ):
        layer.forward(np.zeros((2, 4, 9, 9), "float32"))
    with pytest.raises(ValueError, match=r"input of shape \(3, 9, 9\): it needs \(N, 3, H, W\)"):
        layer.forward(np.zeros((3, 9, 9), "float32"))
    with pytest.raises(
        ValueError, match=r"kernel \(5, 5\) is larger than the padded input \(4, 4\)"
    ):
        nn.Conv2d(3, 8, 5, padding=1).forward(np.zeros((1, 3, 2, 2), "float32"))
    with pytest.raises(ValueError, match=r"kernel \(2, 6\) is larger .* \(5, 5\)"):
        im2col(np.zeros((1, 1, 5, 5)), 2, 6)
    with pytest.raises(ValueError, match="stride"):
        nn.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (3, 3, 3))


def test_first_layer_can_skip_the_input_gradient():
    x, dout = randn(3, 2, 6, 5), randn(3, 4, 2, 5, seed=1)
    first = make_conv(2, 4, 3, (2, 1), (0, 1), input_grad=False)
    full = make_conv(2, 4, 3, (2, 1), (0, 1))
    first.forward(x), full.forward(x)
    assert first.backward(dout) is None and full.backward(dout).shape == x.shape
    assert np.array_equal(first.dW, full.dW) and np.array_equal(first.db, full.db)


def test_the_reused_buffer_gives_the_same_gradients_and_backward_needs_a_forward():
    layer = make_conv(2, 3, 3, 1, 1)
    for seed in range(3):  # the same shape (reused buffer), then another batch size (a new one)
        x = randn(4 if seed < 2 else 2, 2, 5, 5, seed=seed)
        dout = randn(x.shape[0], 3, 5, 5, seed=seed + 10)
        fresh = make_conv(2, 3, 3, 1, 1)
        layer.forward(x), fresh.forward(x)
        assert np.array_equal(layer.backward(dout), fresh.backward(dout))
        assert np.array_equal(layer.dW, fresh.dW) and np.array_equal(layer.db, fresh.db)
    with pytest.raises(RuntimeError, match="backward needs a forward"):
        layer.backward(dout)


# ---- inside a network ----


def conv_net(seed=0):
    """Conv2d -> ReLU -> Conv2d -> Flatten -> Linear, in float64."""
    return nn.Sequential(
        make_conv(2, 3, 3, 1, 1, seed=seed),
        nn.ReLU(),
        make_conv(3, 2, (2, 3), (2, 1), 0, seed=seed + 5),
        nn.Flatten(),
        nn.Linear(2 * 3 * 3, 4, rng=seed + 9, dtype="float64"),
    )


def torch_conv_net(x, W1, b1, W2, b2, W3, b3):
    h = F.conv2d(F.relu(F.conv2d(x, W1, b1, padding=1)), W2, b2, stride=(2, 1))
    return h.flatten(1) @ W3 + b3


def test_conv_relu_conv_flatten_linear_against_numeric_and_torch():
    x = randn(2, 2, 6, 5, seed=7)
    assert conv_net().forward(x).shape == (2, 4)
    assert max(check_layer(conv_net(), x).values()) < 1e-6
    assert max(compare_with_torch(conv_net(), torch_conv_net, x).values()) < 1e-9


def test_flat_params_with_a_conv_layer():
    model, reference = conv_net(), conv_net()
    flat = nn.FlatParams(model)
    conv = model.layers[0]
    assert conv.W.shape == (3, 2, 3, 3) and np.shares_memory(conv.W, flat.theta)
    assert flat.size == sum(p.size for p in reference.params)
    assert np.array_equal(flat.theta, np.concatenate([p.ravel() for p in reference.params]))
    x, dout = randn(2, 2, 6, 5, seed=7), randn(2, 4, seed=8)
    model.forward(x), reference.forward(x)
    model.backward(dout), reference.backward(dout)
    assert np.shares_memory(conv.dW, flat.grad)
    assert rel_error(flat.grad, np.concatenate([g.ravel() for g in reference.grads])) < 1e-14
    flat.theta[: conv.W.size] = 0.0  # writing the vector writes the layer's filters
    assert not conv.W.any()
    assert max(check_layer(model, x).values()) < 1e-6


@pytest.mark.gpu
def test_conv2d_on_cupy_matches_numpy():
    cp = cupy_module()
    cpu = make_conv(3, 4, (3, 2), (2, 1), 1)
    gpu = nn.Conv2d(3, 4, (3, 2), (2, 1), 1, rng=1, dtype="float64", xp=cp)  # the same W
    gpu.b[...] = cp.asarray(cpu.b)
    x, dout = randn(3, 3, 9, 8), randn(3, 4, 5, 9, seed=1)
    assert rel_error(cpu.forward(x), gpu.forward(cp.asarray(x))) < 1e-12
    assert rel_error(cpu.backward(dout), gpu.backward(cp.asarray(dout))) < 1e-12
    assert rel_error(cpu.dW, gpu.dW) < 1e-12 and rel_error(cpu.db, gpu.db) < 1e-12


def test_numeric_gradient_of_a_layer_that_returns_a_view_of_its_input():
    """Flatten returns a view of x; the finite differences must not see x change under them."""
    errors = check_layer(nn.Flatten(), randn(2, 3, 4, 5))
    assert max(errors.values()) < 1e-8
