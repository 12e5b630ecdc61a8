"""The DCGAN torch twin: shapes, the paper's init, seeded training that changes the weights."""

import numpy as np
import pytest
import torch

from course_lib.twins.dcgan import (
    Discriminator,
    Generator,
    build_dcgan,
    init_weights,
    sample,
    train_dcgan,
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny convolutions: on a busy machine, thread synchronisation costs more than it saves."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_shapes_and_output_ranges():
    z = torch.randn(5, 100)
    for output, (lo, hi) in [("tanh", (-1, 1)), ("sigmoid", (0, 1))]:
        G = Generator(width=4, output=output)
        with torch.no_grad():
            images = G(z)
        assert images.shape == (5, 1, 28, 28)
        assert lo <= float(images.min()) and float(images.max()) <= hi
    assert G(z.reshape(5, 100, 1, 1)).shape == (5, 1, 28, 28)
    assert Discriminator(width=4)(torch.rand(5, 1, 28, 28)).shape == (5,)
    with pytest.raises(ValueError):
        Generator(output="relu")


def test_no_pooling_and_batchnorm_placement():
    G, D = Generator(width=4), Discriminator(width=4)
    kinds = [type(m) for m in D]
    assert torch.nn.MaxPool2d not in kinds and torch.nn.AvgPool2d not in kinds
    assert kinds[:2] == [torch.nn.Conv2d, torch.nn.LeakyReLU]  # no batch norm at the input
    assert D[1].negative_slope == 0.2
    assert type(list(G)[-2]) is torch.nn.ConvTranspose2d  # no batch norm at the output


def test_init_weights_follows_the_paper():
    G = Generator(width=32)
    init_weights(G, torch.Generator().manual_seed(0))
    w = G[0].weight.detach()
    assert abs(float(w.std()) - 0.02) < 0.002 and abs(float(w.mean())) < 0.002
    assert abs(float(G[1].weight.detach().mean()) - 1) < 0.01 and not G[1].bias.any()


def tiny_run(seed=0, epochs=2, **kw):
    images = np.random.default_rng(0).random((48, 784)).astype("float32")
    return train_dcgan(images, epochs, 16, seed=seed, width=4, n_samples=6, **kw)


def test_a_few_steps_change_both_networks_and_record_each_epoch():
    seen = []
    run = tiny_run(on_epoch=lambda epoch, row, run: seen.append(epoch))
    G0, D0 = build_dcgan(4, "tanh", torch.Generator().manual_seed(0))  # the run's start
    for before, after in [(G0, run.generator), (D0, run.discriminator)]:
        pairs = list(zip(before.parameters(), after.parameters()))
        assert all(not torch.equal(a, b) for a, b in pairs)
    assert seen == [1, 2] and len(run.samples) == 2 and run.samples[0].shape == (6, 28, 28)
    assert set(run.epochs[0]) == {"epoch", "loss_d", "loss_g", "d_real", "d_fake", "seconds"}
    assert all(0 < v < 1 for v in run["d_real"] + run["d_fake"])
    assert 0 <= run.samples[-1].min() and run.samples[-1].max() <= 1


def test_training_is_seeded_and_deterministic_on_cpu():
    a, b, c = tiny_run(0, 1), tiny_run(0, 1), tiny_run(1, 1)
    assert a.epochs[0]["loss_d"] == b.epochs[0]["loss_d"]
    assert np.array_equal(a.samples[0], b.samples[0])
    assert not np.array_equal(a.samples[0], c.samples[0])
    s = sample(a.generator, 7, seed=3, batch_size=4)
    assert s.shape == (7, 28, 28) and np.allclose(s, sample(a.generator, 7, seed=3), atol=1e-6)


def test_too_few_images_refused():
    with pytest.raises(ValueError, match="no full batch"):
        train_dcgan(np.zeros((10, 784), "float32"), 1, 16, width=4)
