"""LocalResponseNorm: the paper's formula by a plain loop, backward vs central differences, and
forward/backward vs torch's F.local_response_norm with alpha_torch = alpha * size (torch averages
the squares over the window instead of summing them); odd sizes only."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.backend import cupy_module
from course_lib.gradcheck import check_layer, compare_with_torch, rel_error

# batch 1 and 3, channels 1-7 (fewer than the window too), square and non-square images
SHAPES = [(1, 1, 3, 3), (3, 2, 4, 5), (1, 3, 3, 3), (3, 4, 7, 5), (1, 7, 2, 3), (3, 6, 1, 1)]
# (size, alpha, beta, k): AlexNet's defaults, then a strong normalisation that the test can see
SETTINGS = [(5, 1e-4, 0.75, 2.0), (5, 0.5, 0.75, 1.0), (3, 0.3, 1.5, 0.5), (1, 1.0, 0.5, 2.0)]


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def by_the_paper(a, size, alpha, beta, k):
    """b_c = a_c / (k + alpha sum_{c'=max(0, c-n/2)}^{min(C-1, c+n/2)} a_c'^2)^beta, channel by
    channel."""
    b, channels = np.empty_like(a), a.shape[1]
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels - 1, c + size // 2)
        b[:, c] = a[:, c] / (k + alpha * (a[:, lo : hi + 1] ** 2).sum(axis=1)) ** beta
    return b


def torch_lrn(layer):
    return lambda x: F.local_response_norm(
        x, layer.size, layer.alpha * layer.size, layer.beta, layer.k
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size, alpha, beta, k", SETTINGS)
def test_lrn_is_the_papers_formula(shape, size, alpha, beta, k):
    x = 2 * randn(*shape)
    y = nn.LocalResponseNorm(size, alpha, beta, k).forward(x)
    assert rel_error(y, by_the_paper(x, size, alpha, beta, k)) < 1e-13


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size, alpha, beta, k", SETTINGS)
def test_lrn_numeric_gradient(shape, size, alpha, beta, k):
    layer = nn.LocalResponseNorm(size, alpha, beta, k)
    assert max(check_layer(layer, 2 * randn(*shape)).values()) < 1e-6


@pytest.mark.parametrize("shape", SHAPES + [(4, 5, 6), (2, 9)])  # also (N, C, L) and (N, C)
@pytest.mark.parametrize("size, alpha, beta, k", SETTINGS + [(7, 0.2, 0.75, 1.0)])
def test_lrn_matches_torch_with_alpha_times_size(shape, size, alpha, beta, k):
    layer = nn.LocalResponseNorm(size, alpha, beta, k)
    x = 2 * randn(*shape, seed=1)
    if len(shape) == 2:  # torch wants a spatial axis: give it one of length 1
        fn = torch_lrn(layer)
        errors = compare_with_torch(layer, lambda t: fn(t[..., None])[..., 0], x)
    else:
        errors = compare_with_torch(layer, torch_lrn(layer), x)
    assert max(errors.values()) < 1e-10


def test_torch_alpha_is_divided_by_the_size():
    x = 2 * randn(3, 6, 4, 4)
    ours = nn.LocalResponseNorm(5, 0.5, 0.75, 1.0).forward(x)
    same_alpha = F.local_response_norm(torch.tensor(x), 5, alpha=0.5, beta=0.75, k=1.0)
    assert rel_error(ours, same_alpha) > 1e-2  # not the same layer without the conversion
    scaled = F.local_response_norm(torch.tensor(x), 5, alpha=0.5 * 5, beta=0.75, k=1.0)
    assert rel_error(ours, scaled) < 1e-13


def test_alexnet_defaults_dtype_and_no_parameters():
    layer = nn.LocalResponseNorm()
    assert (layer.size, layer.alpha, layer.beta, layer.k) == (5, 1e-4, 0.75, 2.0)
    x = randn(2, 8, 5, 5).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.params == [] and layer.grads == []
    assert rel_error(y, x / 2**0.75) < 1e-2  # with k = 2 and alpha = 1e-4 it is almost x / 2^beta


def test_train_and_eval_are_the_same():
    layer = nn.LocalResponseNorm(3, 0.5, 0.75, 1.0)
    x, dout = randn(3, 4, 5, 5), randn(3, 4, 5, 5, seed=1)
    y, dx = layer.forward(x), layer.backward(dout)
    layer.eval()
    assert not layer.training
    assert np.array_equal(layer.forward(x), y) and np.array_equal(layer.backward(dout), dx)


def test_errors_name_the_problem():
    for size in (0, 2, 4, 3.0, -1):
        with pytest.raises(ValueError, match="size must be an odd positive int"):
            nn.LocalResponseNorm(size)
    with pytest.raises(ValueError, match=r"channel axis 1 of an \(N, C, \.\.\.\) input.*\(5,\)"):
        nn.LocalResponseNorm().forward(np.zeros(5))


@pytest.mark.gpu
def test_same_results_on_the_gpu():
    cp = cupy_module()
    x, dout = 2 * randn(3, 7, 5, 4), randn(3, 7, 5, 4, seed=1)
    cpu, gpu = nn.LocalResponseNorm(5, 0.5, 0.75, 1.0), nn.LocalResponseNorm(5, 0.5, 0.75, 1.0)
    y, dx = cpu.forward(x), cpu.backward(dout)
    y_gpu, dx_gpu = gpu.forward(cp.asarray(x)), gpu.backward(cp.asarray(dout))
    assert isinstance(dx_gpu, cp.ndarray)
    assert rel_error(y, y_gpu) < 1e-12 and rel_error(dx, dx_gpu) < 1e-10
