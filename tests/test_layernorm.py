"""LayerNorm and GELU: numeric gradients, and torch.nn.LayerNorm / F.gelu(approximate="tanh")."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.gradcheck import check_layer, compare_with_torch


def layernorm(d, seed=0, eps=1e-5):
    """A LayerNorm with gain and bias away from 1 and 0, so their gradients matter."""
    layer = nn.LayerNorm(d, eps, dtype="float64")
    g = np.random.default_rng(seed)
    layer.gamma[...] = 1 + 0.5 * g.standard_normal(d)
    layer.beta[...] = g.standard_normal(d)
    return layer


SHAPES = [(1, 6), (3, 1), (1, 5, 6), (2, 5, 7), (2, 1, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_layernorm_numeric_gradients(shape):
    x = 3 * np.random.default_rng(1).standard_normal(shape) + 2
    errors = check_layer(layernorm(shape[-1]), x)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_layernorm_equals_torch(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    layer = layernorm(shape[-1], eps=1e-3)
    errors = compare_with_torch(
        layer, lambda x, g, b: F.layer_norm(x, (shape[-1],), g, b, eps=1e-3), x
    )
    assert max(errors.values()) < 1e-6, errors


def test_layernorm_normalises_each_row():
    x = np.random.default_rng(3).standard_normal((4, 3, 8)) * 5 + 7
    y = nn.LayerNorm(8, dtype="float64").forward(x)
    assert np.abs(y.mean(axis=-1)).max() < 1e-12
    assert np.abs(y.var(axis=-1) - 1).max() < 1e-5  # eps makes the variance a little below 1


def test_layernorm_refuses_the_wrong_width():
    with pytest.raises(ValueError, match="last axis must have 6"):
        nn.LayerNorm(6).forward(np.zeros((2, 5), dtype=np.float32))


def test_layernorm_float32_keeps_its_dtype():
    y = nn.LayerNorm(4).forward(np.ones((2, 4), dtype=np.float32))
    assert y.dtype == np.float32


@pytest.mark.parametrize("shape", [(1,), (3, 4), (2, 3, 5)])
def test_gelu_numeric_gradients(shape):
    # |x| < 4: further out 1 + tanh(u) is a difference of nearly equal numbers (as in torch)
    x = np.clip(2 * np.random.default_rng(4).standard_normal(shape), -4, 4)
    assert check_layer(nn.GELU(), x)["dx"] < 1e-7


def test_gelu_is_torch_tanh_gelu_not_the_exact_one():
    x = np.linspace(-6, 6, 101).reshape(1, -1)
    errors = compare_with_torch(nn.GELU(), lambda x: F.gelu(x, approximate="tanh"), x)
    assert max(errors.values()) < 1e-6, errors
    exact = F.gelu(torch.as_tensor(x)).numpy()
    assert np.abs(nn.GELU().forward(x) - exact).max() > 1e-4  # the two forms do differ
