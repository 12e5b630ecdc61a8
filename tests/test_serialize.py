"""Parameters round-trip through .npz, and a mismatched file is refused by name and shape."""

import time

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.models.mlp import MLP
from course_lib.serialize import load_params, save_params


def test_round_trip_restores_outputs_and_batchnorm_statistics(tmp_path):
    model = MLP([6, 5, 3], batchnorm=True, rng=0)
    x = np.random.default_rng(1).standard_normal((8, 6)).astype("float32")
    model.forward(x)  # moves the running statistics away from their start
    path = save_params(tmp_path / "mlp", model)
    assert path.name == "mlp.npz"
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == {
            "0.W",
            "0.b",
            "1.gamma",
            "1.beta",
            "1.running_mean",
            "1.running_var",
            "3.W",
            "3.b",
        }

    other = MLP([6, 5, 3], batchnorm=True, rng=1)
    W = other.layers[0].W
    opt = optim.SGD(other.params, other.grads)
    load_params(path, other)
    assert other.layers[0].W is W and opt.params[0] is W  # copied in place
    assert np.array_equal(other.predict(x), model.predict(x))


def test_wrong_shape_is_refused_naming_the_parameter(tmp_path):
    path = save_params(tmp_path / "a.npz", MLP([6, 5, 3], rng=0))
    target = MLP([6, 4, 3], rng=0)
    before = target.layers[0].W.copy()
    message = r"'0.W' has shape \(6, 5\) in the file, but the model expects \(6, 4\)"
    with pytest.raises(ValueError, match=message):
        load_params(path, target)
    assert np.array_equal(target.layers[0].W, before)  # nothing half-loaded


def test_wrong_names_are_refused(tmp_path):
    path = save_params(
        tmp_path / "a.npz", nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    )
    deeper = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3))
    with pytest.raises(
        ValueError, match=r"missing from the file \['4.W', '4.b'\], not in the model \[\]"
    ):
        load_params(path, deeper)
    message = r"missing from the file \['2.W', '2.b'\], not in the model \['1.beta'"
    with pytest.raises(ValueError, match=message):
        load_params(
            save_params(tmp_path / "bn.npz", MLP([6, 5, 3], batchnorm=True)), MLP([6, 5, 3])
        )


def test_file_holds_no_pickled_objects(tmp_path):
    path = save_params(tmp_path / "a.npz", MLP([3, 2], rng=0, dtype="float64"))
    with np.load(path, allow_pickle=False) as f:
        assert all(f[name].dtype == np.float64 for name in f.files)


# ---- defects found with unusual input: half-loaded models, .npy files, suffixes ----


@pytest.mark.parametrize(
    "bad", [np.array([["a"] * 3] * 5), np.zeros((5, 3), complex), np.full((5, 3), np.nan)]
)
def test_a_bad_later_array_loads_nothing_at_all(tmp_path, bad):
    source = MLP([6, 5, 3], rng=0)
    arrays = {name: a.copy() for name, a in source.named_params().items()}
    arrays["2.W"] = bad  # the right name and shape, the last parameter in the file
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    target = MLP([6, 5, 3], rng=1)
    before = [p.copy() for p in target.params]
    with pytest.raises(ValueError, match=r"bad\.npz: parameter '2\.W' .*nothing was loaded"):
        load_params(path, target)
    assert all(np.array_equal(p, q) for p, q in zip(target.params, before))


def test_save_and_load_agree_on_the_suffix(tmp_path):
    model = MLP([3, 2], rng=0)
    assert save_params(tmp_path / "weights", model).name == "weights.npz"
    load_params(tmp_path / "weights", MLP([3, 2], rng=1))  # the same path finds the same file
    with pytest.raises(FileNotFoundError, match=r"missing\.npz: no such parameter file"):
        load_params(tmp_path / "missing", model)


def test_a_npy_or_damaged_file_gets_a_plain_error(tmp_path):
    model = MLP([3, 2], rng=0)
    np.save(tmp_path / "w.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"w\.npy: parameters are read from \.npz files"):
        load_params(tmp_path / "w.npy", model)
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(ValueError, match="single array"):
        load_params(tmp_path / "one.npz", model)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"junk\.npz: "):
        load_params(tmp_path / "junk.npz", model)


def test_float64_file_loads_into_a_float32_model(tmp_path):
    path = save_params(tmp_path / "d.npz", MLP([3, 2], rng=0, dtype="float64"))
    model = load_params(path, MLP([3, 2], rng=1))
    assert model.layers[0].W.dtype == np.float32


def test_a_shared_weight_is_saved_once(tmp_path):
    from course_lib.models.stacked_ae import TiedAutoencoder

    layer = TiedAutoencoder(5, 2, seed=0, dtype="float64")
    path = save_params(tmp_path / "tied.npz", layer)
    with np.load(path) as f:
        assert sorted(f.files) == ["0.W", "0.b", "2.b"]
    other = load_params(path, TiedAutoencoder(5, 2, seed=1, dtype="float64"))
    assert np.array_equal(other.W, layer.W) and other.layers[2].W is other.layers[0].W


def test_the_same_parameters_give_the_same_bytes(tmp_path):
    """numpy.savez stamps entries with the clock; a model's file must be named by its content."""
    model = MLP([7, 5, 3], rng=0)
    first = save_params(tmp_path / "a.npz", model).read_bytes()
    time.sleep(2.1)  # zip dates have a 2-second resolution
    assert save_params(tmp_path / "b.npz", model).read_bytes() == first
    model.named_params()["0.W"][0, 0] += 1.0
    assert save_params(tmp_path / "c.npz", model).read_bytes() != first
