"""The checking tools themselves: they pass correct gradients and catch wrong ones."""

import numpy as np
import pytest
import torch

from course_lib import nn
from course_lib.gradcheck import (
    check_layer,
    check_loss,
    compare_with_torch,
    numeric_gradient,
    numeric_gradient_array,
    rel_error,
)


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0  # the tiny floor: no 0/0
    assert rel_error(torch.ones(2), np.ones(2)) == 0.0  # tensors are accepted
    with pytest.raises(ValueError):
        rel_error(np.ones(2), np.ones(3))


def test_numeric_gradients_of_known_functions():
    x = np.array([0.3, -1.2, 2.0])
    assert rel_error(numeric_gradient(lambda: (x**3).sum(), x), 3 * x**2) < 1e-8
    dout = np.array([1.0, -2.0, 0.5])
    assert rel_error(numeric_gradient_array(lambda: np.sin(x), x, dout), dout * np.cos(x)) < 1e-8
    assert np.array_equal(x, [0.3, -1.2, 2.0])  # restored after perturbing


class WrongLinear(nn.Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[0][...] *= 1.01  # a 1% mistake in dW
        return dx


def test_checks_catch_a_wrong_gradient():
    x = np.random.default_rng(0).standard_normal((4, 3))
    errors = check_layer(WrongLinear(3, 2, rng=0, dtype="float64"), x)
    assert errors["dx"] < 1e-8 and errors["dW"] > 1e-3 and errors["db"] < 1e-8
    errors = compare_with_torch(
        WrongLinear(3, 2, rng=0, dtype="float64"), lambda x, W, b: x @ W + b, x
    )
    assert errors["out"] < 1e-12 and errors["dW"] > 1e-3


def test_check_loss_catches_a_missing_batch_mean():
    class NoMean(nn.MSELoss):
        def backward(self, dout=1.0):
            return self.diff * dout

    y, t = np.ones((3, 2)), np.zeros((3, 2))
    assert check_loss(nn.MSELoss(), y, t)["dx"] < 1e-8
    assert check_loss(NoMean(), y, t)["dx"] > 0.1
