"""RBM: CD-1 statistics, learning on real MNIST, the momentum schedule, the linear code layer."""

import numpy as np
import pytest

from course_lib.backend import cupy_module
from course_lib.models.rbm import RBM, momentum_schedule, pretrain_stack


@pytest.fixture(scope="module")
def mnist_small(data_dir):
    from course_lib.data import load_mnist

    m = load_mnist(data_dir)
    return m.x_train[:1200], m.x_test[:300]


def test_cd1_gradient_shapes_and_sign():
    rbm = RBM(6, 4, seed=0, dtype="float64")
    v = (np.random.default_rng(1).random((50, 6)) > 0.5).astype(float)
    (dW, db_vis, db_hid), err = rbm.cd1_gradients(v)
    assert dW.shape == (6, 4) and db_vis.shape == (6,) and db_hid.shape == (4,)
    assert err >= 0
    # the visible-bias statistic moves the model's mean towards the data's: sign of (data - model)
    v1_mean = rbm.reconstruct(v).mean(axis=0)  # approximately what the model generates
    agree = np.sign(db_vis) == np.sign(v.mean(axis=0) - v1_mean)
    assert agree.mean() >= 0.8


def test_cd1_ascent_lowers_free_energy_of_the_data():
    rng = np.random.default_rng(0)
    proto = rng.random((3, 16)) > 0.5
    v = proto[rng.integers(0, 3, 300)].astype(float)
    rbm = RBM(16, 8, seed=0, dtype="float64")
    f0 = rbm.free_energy(v).mean()
    rbm.fit(v, epochs=5, batch_size=50)
    assert rbm.free_energy(v).mean() < f0


def test_momentum_schedule():
    assert [momentum_schedule(e) for e in range(7)] == [0.5] * 5 + [0.9] * 2
    rbm = RBM(784, 10, seed=0)
    rbm.fit(np.random.default_rng(0).random((200, 784)).astype("float32"), epochs=7, batch_size=100)
    assert [h["momentum"] for h in rbm.history] == [0.5] * 5 + [0.9] * 2


def test_matlab_constants():
    rbm = RBM(784, 1000, seed=0)
    assert rbm.lr == 0.1 and rbm.weight_cost == 0.0002
    assert abs(float(rbm.W.std()) - 0.1) < 0.002 and not rbm.b_vis.any() and not rbm.b_hid.any()
    assert RBM(250, 30, hidden="linear").lr == 0.001


def test_linear_top_layer():
    rbm = RBM(20, 3, hidden="linear", seed=0, dtype="float64")
    v = np.random.default_rng(0).random((10, 20))
    mean = rbm.hidden_mean(v)
    assert np.allclose(mean, v @ rbm.W + rbm.b_hid)  # no squashing
    noise = rbm.sample_hidden(np.zeros((20000, 3)))
    assert abs(noise.std() - 1) < 0.03 and abs(noise.mean()) < 0.03  # unit-variance Gaussian
    a = v @ rbm.W + rbm.b_hid
    assert np.allclose(rbm.free_energy(v), -(v @ rbm.b_vis) - 0.5 * (a * a).sum(axis=1))


def test_learns_mnist(mnist_small):
    x, x_val = mnist_small
    rbm = RBM(784, 100, seed=0)
    rbm.fit(x, epochs=4, batch_size=100, monitor=x_val)
    errs = [h["recon_err"] for h in rbm.history]
    assert all(b < a for a, b in zip(errs, errs[1:]))
    assert rbm.history[-1]["monitor_recon_err"] < 0.75 * rbm.history[0]["monitor_recon_err"]
    fe = [h["monitor_free_energy"] for h in rbm.history]
    assert fe[-1] < fe[0]


def test_stack_feeds_hidden_probabilities(mnist_small):
    x, _ = mnist_small
    rbms = pretrain_stack(x[:400], [784, 50, 20, 2], epochs=1)
    assert [(r.n_vis, r.n_hid, r.hidden) for r in rbms] == [
        (784, 50, "binary"),
        (50, 20, "binary"),
        (20, 2, "linear"),
    ]
    h = rbms[0].transform(x[:400])
    assert (
        h.min() >= 0 and h.max() <= 1 and not np.isin(h, [0.0, 1.0]).all()
    )  # probabilities, not samples
    again = pretrain_stack(x[:400], [784, 50, 20, 30], epochs=1, start_from=rbms[:2])
    assert again[0] is rbms[0] and again[1] is rbms[1] and again[2].n_hid == 30


def test_stack_progress_bars_name_each_rbm_and_change_nothing(mnist_small, capsys):
    x, _ = mnist_small
    quiet = pretrain_stack(x[:300], [784, 16, 2], epochs=2)
    assert "RBM" not in capsys.readouterr().out
    shown = pretrain_stack(x[:300], [784, 16, 2], epochs=2, progress=True)
    out = capsys.readouterr().out
    assert "RBM 784-16" in out and "RBM 16-2" in out and "6/6" in out  # 2 epochs of 3 batches
    for a, b in zip(quiet, shown):
        np.testing.assert_array_equal(a.W, b.W)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cp = cupy_module()
    v = (np.random.default_rng(0).random((100, 30)) > 0.5).astype("float64")
    a = RBM(30, 10, seed=3, dtype="float64")
    b = RBM(30, 10, seed=3, dtype="float64", xp=cp)
    assert np.allclose(a.W, cp.asnumpy(b.W))
    assert np.allclose(a.free_energy(v), cp.asnumpy(b.free_energy(cp.asarray(v))))
    assert np.isclose(a.reconstruction_error(v), b.reconstruction_error(cp.asarray(v)))
    b.fit(cp.asarray(v), epochs=2, batch_size=50)
    assert np.isfinite(b.history[-1]["recon_err"])
