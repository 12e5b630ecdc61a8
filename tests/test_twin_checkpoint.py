"""torch twin checkpoints: a round trip, and files that must be refused before anything loads."""

import pickle

import numpy as np
import pytest
import torch

from course_lib.models.lenet import LeNet5
from course_lib.twins.checkpoint import load_twin, save_twin
from course_lib.twins.layers import to_torch


def test_round_trip_gives_the_same_outputs(tmp_path):
    twin, fresh = to_torch(LeNet5(rng=0)), to_torch(LeNet5(rng=1))
    x = torch.randn(3, 1, 28, 28)
    path = save_twin(tmp_path / "sub" / "lenet.pt", twin)
    assert not torch.equal(fresh(x), twin(x))
    load_twin(path, fresh)
    assert torch.equal(fresh(x), twin(x))


def test_a_file_for_another_model_changes_nothing(tmp_path):
    path = save_twin(tmp_path / "lenet.pt", to_torch(LeNet5(rng=0)))
    other = torch.nn.Sequential(torch.nn.Linear(4, 2))
    before = other[0].weight.detach().clone()
    with pytest.raises(ValueError, match="names do not match.*nothing was loaded"):
        load_twin(path, other)
    assert torch.equal(other[0].weight, before)


def test_wrong_shapes_and_nan_are_refused(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    torch.save({"0.weight": torch.zeros(3, 4), "0.bias": torch.zeros(2)}, tmp_path / "a.pt")
    with pytest.raises(ValueError, match="shape"):
        load_twin(tmp_path / "a.pt", model)
    nan = {"0.weight": torch.full((2, 4), np.nan), "0.bias": torch.zeros(2)}
    torch.save(nan, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="NaN"):
        load_twin(tmp_path / "b.pt", model)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickled_code_missing_and_damaged_files_are_refused(tmp_path, capsys):
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    torch.save({"0.weight": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="weights-only"):
        load_twin(tmp_path / "evil.pt", model)
    assert "must never run" not in capsys.readouterr().out
    (tmp_path / "junk.pt").write_bytes(pickle.dumps([1, 2]) + b"garbage")
    with pytest.raises(ValueError, match="not a readable"):
        load_twin(tmp_path / "junk.pt", model)
    with pytest.raises(FileNotFoundError, match="save_twin"):
        load_twin(tmp_path / "missing.pt", model)
