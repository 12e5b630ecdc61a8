"""The flat parameter view: views not copies, shared weights summed, masks, and a clear refusal."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.gradcheck import numeric_gradient, rel_error


def tied_net(seed=0):
    enc = nn.Linear(6, 3, rng=seed, dtype="float64")
    return nn.Sequential(enc, nn.Sigmoid(), nn.TiedLinear(enc))


def test_parameters_become_views_into_theta_and_grads_into_grad():
    model = nn.Sequential(
        nn.Linear(4, 3, rng=0, dtype="float64"), nn.Tanh(), nn.Linear(3, 2, rng=1, dtype="float64")
    )
    before = [p.copy() for p in model.params]
    flat = nn.FlatParams(model)
    assert model.flat is flat and flat.size == 4 * 3 + 3 + 3 * 2 + 2
    for p, g, old in zip(model.params, model.grads, before):
        assert np.shares_memory(p, flat.theta) and np.shares_memory(g, flat.grad)
        assert np.array_equal(p, old)
    flat.theta[:] = 1.0
    assert (model.layers[0].W == 1).all()


def test_a_shared_weight_is_stored_once_and_its_gradients_add_up():
    model, x = tied_net(), np.random.default_rng(1).random((5, 6))
    flat = nn.FlatParams(model)
    assert flat.size == 6 * 3 + 3 + 6 and len(flat.shared) == 1
    loss = nn.SigmoidCrossEntropy()
    loss.forward(model.forward(x), x)
    model.backward(loss.backward())
    enc, tied = model.layers[0], model.layers[2]
    assert np.allclose(flat.grad[:18].reshape(6, 3), enc.dW + tied.dW)
    numeric = numeric_gradient(lambda: loss.forward(model.forward(x), x), flat.theta)
    assert rel_error(flat.grad, numeric) < 1e-6


def test_optimizers_refuse_a_parameter_listed_twice():
    model = tied_net()
    with pytest.raises(ValueError, match="appears twice.*FlatParams"):
        optim.Adam(model.params, model.grads)
    flat = nn.FlatParams(model)
    optim.Adam([flat.theta], [flat.grad])  # the flat view is the way


def test_mask_selects_parameters_and_refuses_strangers():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    flat = nn.FlatParams(model)
    mask = flat.mask(model.layers[2].params)
    assert mask.tolist() == [0] * 9 + [1] * 4
    with pytest.raises(ValueError, match="not one of the model's parameters"):
        flat.mask([np.zeros((3, 1), "float32")])


def test_mixed_dtypes_are_refused():
    model = nn.Sequential(nn.Linear(2, 3, dtype="float32"), nn.Linear(3, 1, dtype="float64"))
    with pytest.raises(ValueError, match="one dtype"):
        nn.FlatParams(model)
