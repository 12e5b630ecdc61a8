"""Exact sums over a small RBM: the free energy sums the hidden units out, the log-likelihood's
gradient matches central differences and torch autograd, and CD-1 points roughly its way."""

import numpy as np
import pytest
import torch

from course_lib import rbm_exact as ex
from course_lib.gradcheck import numeric_gradient, rel_error
from course_lib.models.rbm import RBM

pytestmark = pytest.mark.usefixtures("one_thread")


def _rbm(n_vis, n_hid, seed=0, scale=1.0):
    rbm = RBM(n_vis, n_hid, init_scale=scale, seed=seed, dtype="float64")
    g = np.random.default_rng(seed + 1)
    rbm.b_vis[...] = g.normal(size=n_vis)
    rbm.b_hid[...] = g.normal(size=n_hid)
    return rbm


def _data(n, n_vis, seed=2):
    return (np.random.default_rng(seed).random((n, n_vis)) < 0.3).astype(float)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (6, 4), (7, 2)])
def test_the_free_energy_sums_the_hidden_units_out(shape):
    rbm = _rbm(*shape)
    assert ex.log_partition(rbm) == pytest.approx(ex.log_partition_joint(rbm), abs=1e-10)
    v = ex.all_states(shape[0])
    assert np.allclose(ex.free_energy(rbm, v), rbm.free_energy(v))
    _, p = ex.model_probabilities(rbm)
    assert p.shape == (2 ** shape[0],) and p.sum() == pytest.approx(1.0)


def test_all_states_enumerates_every_binary_vector_once():
    s = ex.all_states(4)
    assert s.shape == (16, 4) and len({tuple(r) for r in s}) == 16
    assert set(np.unique(s)) == {0.0, 1.0}


@pytest.mark.parametrize("shape", [(3, 5), (5, 2)])
def test_exact_gradient_matches_central_differences(shape):
    rbm, data = _rbm(*shape, scale=0.7), _data(9, shape[0])
    grads = ex.exact_gradient(rbm, data)
    for param, grad in zip(rbm.params, grads):
        numeric = numeric_gradient(lambda: ex.log_likelihood(rbm, data), param)
        assert rel_error(grad, numeric) < 1e-6


def test_exact_gradient_matches_torch_autograd():
    rbm, data = _rbm(5, 3, seed=4), _data(11, 5, seed=5)
    W, b, c = (torch.tensor(np.array(p), requires_grad=True) for p in rbm.params)
    states, v = (torch.tensor(a) for a in (ex.all_states(5), data))

    def minus_f(x):
        return x @ b + torch.nn.functional.softplus(x @ W + c).sum(dim=1)

    loglik = minus_f(v).mean() - torch.logsumexp(minus_f(states), dim=0)
    loglik.backward()
    assert loglik.item() == pytest.approx(ex.log_likelihood(rbm, data), rel=1e-12)
    for ours, theirs in zip(ex.exact_gradient(rbm, data), (W.grad, b.grad, c.grad)):
        assert rel_error(ours, theirs.numpy()) < 1e-10


def test_no_model_beats_the_empirical_distribution():
    rbm, data = _rbm(4, 3), _data(40, 4)
    best = ex.best_log_likelihood(data)
    assert ex.log_likelihood(rbm, data) < best <= 0
    assert ex.best_log_likelihood(np.ones((5, 4))) == 0.0


def test_cd1_points_along_the_exact_gradient_from_small_weights():
    rbm, data = RBM(6, 4, seed=0, dtype="float64"), _data(400, 6)
    cd = [np.zeros_like(p) for p in rbm.params]
    for _ in range(20):
        cd = [a + g for a, g in zip(cd, rbm.cd1_gradients(data)[0])]
    assert ex.cosine(cd, ex.exact_gradient(rbm, data)) > 0.9
    before = ex.log_likelihood(rbm, data)
    rbm.fit(data, epochs=5, batch_size=20)
    assert ex.log_likelihood(rbm, data) > before + 0.1


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="binary hidden"):
        ex.log_partition(RBM(3, 2, hidden="linear"))
    with pytest.raises(ValueError, match="between 1 and 20"):
        ex.all_states(21)
    with pytest.raises(ValueError, match="between 1 and 20"):
        ex.all_states(0)
    with pytest.raises(ValueError, match="zero gradient"):
        ex.cosine([np.zeros(3)], [np.ones(3)])
