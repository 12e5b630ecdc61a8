"""Parameters round-trip through .npz, and a mismatched file is refused by name and shape."""
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
        assert set(f.files) == {"0.W", "0.b", "1.gamma", "1.beta", "1.running_mean",
                                "1.running_var", "3.W", "3.b"}

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
    path = save_params(tmp_path / "a.npz", nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)))
    deeper = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3))
    with pytest.raises(ValueError, match=r"missing from the file \['4.W', '4.b'\], not in the model \[\]"):
        load_params(path, deeper)
    message = r"missing from the file \['2.W', '2.b'\], not in the model \['1.beta'"
    with pytest.raises(ValueError, match=message):
        load_params(save_params(tmp_path / "bn.npz", MLP([6, 5, 3], batchnorm=True)), MLP([6, 5, 3]))


def test_file_holds_no_pickled_objects(tmp_path):
    path = save_params(tmp_path / "a.npz", MLP([3, 2], rng=0, dtype="float64"))
    with np.load(path, allow_pickle=False) as f:
        assert all(f[name].dtype == np.float64 for name in f.files)
