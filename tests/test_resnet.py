"""The residual block and the plain/residual networks: numeric gradients and torch autograd on
awkward shapes (batch 1, odd widths, a strided projection shortcut, blocks stacked), and the
networks' shapes and parameter counts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.gradcheck import check_layer, compare_with_torch
from course_lib.models.resnet import cifar_resnet, deep_mlp


def randn(*shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x + 0.1 * np.sign(x)  # away from ReLU's kink


def dense_block(d, seed=1):
    return nn.Residual(
        nn.Linear(d, d, rng=seed, dtype="float64"),
        nn.Tanh(),
        nn.Linear(d, d, rng=seed + 1, dtype="float64"),
    )


@pytest.mark.parametrize(("n", "d"), [(1, 1), (1, 5), (4, 3), (6, 7)])
def test_identity_block_gradients(n, d):
    block = dense_block(d)
    assert max(check_layer(block, randn(n, d)).values()) < 1e-6

    def torch_block(x, W1, b1, W2, b2):
        return x + torch.tanh(x @ W1 + b1) @ W2 + b2

    assert max(compare_with_torch(block, torch_block, randn(n, d)).values()) < 1e-10


def test_stacked_blocks_with_relu_between():
    model = nn.Sequential(dense_block(5, 1), nn.ReLU(), dense_block(5, 3), nn.ReLU())
    assert max(check_layer(model, randn(3, 5)).values()) < 1e-6


@pytest.mark.parametrize(("n", "size"), [(1, 5), (2, 6)])
def test_strided_projection_shortcut_against_torch(n, size):
    conv = dict(dtype="float64", weight_init="he")
    block = nn.Residual(
        nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=1, **conv),
        nn.ReLU(),
        nn.Conv2d(3, 3, 3, padding=1, rng=2, **conv),
        shortcut=nn.Conv2d(2, 3, 1, stride=2, rng=3, **conv),
    )
    x = randn(n, 2, size, size)
    assert max(check_layer(block, x).values()) < 1e-6
    assert list(block.named_params())[-2:] == ["shortcut.W", "shortcut.b"]

    def torch_block(x, W1, b1, W2, b2, Ws, bs):
        h = F.conv2d(F.relu(F.conv2d(x, W1, b1, stride=2, padding=1)), W2, b2, padding=1)
        return h + F.conv2d(x, Ws, bs, stride=2)

    assert max(compare_with_torch(block, torch_block, x).values()) < 1e-10


def test_mismatched_shapes_name_the_fix():
    block = nn.Residual(nn.Linear(4, 3, rng=0))
    with pytest.raises(ValueError, match="shortcut layer that matches"):
        block.forward(np.zeros((2, 4), dtype=np.float32))


def test_batchnorm_inside_blocks_follows_train_and_eval():
    model = deep_mlp(8, residual=True, width=6, n_in=5, n_classes=3, rng=0, dtype="float64")
    model.eval()
    model.layers[0].input_grad = True  # (the first layer skips dx by default)
    bns = [
        m
        for block in model.layers
        if isinstance(block, nn.Residual)
        for m in block.layers
        if isinstance(m, nn.BatchNorm)
    ]
    assert len(bns) == 6 and not any(b.training for b in bns)
    assert max(check_layer(model, randn(4, 5)).values()) < 1e-6  # eval mode: deterministic


@pytest.mark.parametrize("depth", [4, 10])
def test_plain_and_residual_mlps_share_their_layers(depth):
    plain = deep_mlp(depth, residual=False, rng=0)
    res = deep_mlp(depth, residual=True, rng=0)
    assert [p.shape for p in plain.params] == [p.shape for p in res.params]
    for p, q in zip(plain.params, res.params):
        np.testing.assert_array_equal(p, q)
    linears = [p for p in plain.params if p.ndim == 2]
    assert len(linears) == depth
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    assert res.forward(x).shape == (3, 10)
    with pytest.raises(ValueError, match="even number"):
        deep_mlp(7, residual=True)


@pytest.mark.parametrize(("n", "layers"), [(1, 8), (3, 20)])
def test_cifar_resnet_depth_and_shapes(n, layers):
    model = cifar_resnet(n, rng=0)
    weighted = [
        p
        for name, p in model.named_params().items()
        if name.endswith("W") and "shortcut" not in name
    ]
    assert len(weighted) == layers == 6 * n + 2
    x = np.random.default_rng(0).random((2, 3, 32, 32)).astype(np.float32)
    scores = model.forward(x)
    assert scores.shape == (2, 10)
    model.backward(np.ones_like(scores))
    if n == 3:  # ResNet-20: 0.27M parameters in the paper (ours adds 1x1 projections: option B)
        assert 270_000 < sum(p.size for p in model.params) < 290_000


def test_concat_gradients_and_torch_with_a_pooling_branch():
    conv = dict(dtype="float64", weight_init="he")
    block = nn.Concat(
        nn.Sequential(nn.Conv2d(2, 3, 1, rng=1, **conv)),
        nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, rng=2, **conv), nn.Tanh()),
        nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(2, 1, 1, rng=3, **conv)),
    )
    x = randn(2, 2, 5, 5)
    assert block.forward(x).shape == (2, 6, 5, 5)
    assert max(check_layer(block, x).values()) < 1e-6

    def torch_block(x, W1, b1, W2, b2, W3, b3):
        branches = [
            F.conv2d(x, W1, b1),
            torch.tanh(F.conv2d(x, W2, b2, padding=1)),
            F.conv2d(F.max_pool2d(x, 3, 1, 1), W3, b3),
        ]
        return torch.cat(branches, dim=1)

    assert max(compare_with_torch(block, torch_block, x).values()) < 1e-10
    with pytest.raises(ValueError, match="keeps the image size"):
        nn.Concat(nn.Conv2d(2, 1, 3), nn.Conv2d(2, 1, 1)).forward(x)


def test_inception_3a_sizes():
    from course_lib.models.resnet import inception

    block = inception(192, 64, 96, 128, 16, 32, 32, rng=0)
    weights = sum(p.size for k, p in block.named_params().items() if k.endswith("W"))
    assert weights == 163_328  # the 1x1 reductions' count in lesson 14
    x = np.random.default_rng(0).random((1, 192, 28, 28)).astype(np.float32)
    assert block.forward(x).shape == (1, 256, 28, 28)


@pytest.mark.parametrize("residual", [True, False])
def test_cifar_resnet_torch_twin_matches_forward_and_every_gradient(residual):
    """ResNet-8 (n = 1: a strided projection shortcut with batch norm in each later stage) on a
    batch of 3, in float64: the twin's outputs, loss and autograd gradients equal ours."""
    from course_lib.twins.layers import BATCHNORM_2D, flat_grad, to_torch

    net = cifar_resnet(1, residual=residual, rng=0, dtype="float64")
    assert {p.dtype for p in net.params} == {np.dtype("float64")}  # batch norm's too
    x, y = randn(3, 3, 32, 32), np.array([1, 7, 3])
    twin = to_torch(net)
    assert sum(isinstance(m, BATCHNORM_2D) for m in twin.modules()) == 7 + 2 * residual
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    tx = torch.tensor(x, requires_grad=False)
    tloss = F.cross_entropy(twin(tx), torch.tensor(y))
    assert np.isclose(float(value), float(tloss.detach()), rtol=1e-12)
    grads = np.concatenate([np.ravel(g) for g in net.grads])
    assert np.abs(grads - flat_grad(twin, tloss)).max() < 1e-9 * max(1.0, np.abs(grads).max())
    net.eval(), twin.eval()  # running statistics copied over: inference agrees too
    twin = to_torch(net).eval()
    assert np.allclose(net.forward(x), twin(tx).detach().numpy(), atol=1e-10)
