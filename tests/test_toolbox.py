"""Lesson 16's toolbox: preprocessing saved as JSON with a schema, exact resume from a
checkpoint, and occlusion maps checked on an image whose answer is known."""

import json

import numpy as np
import pytest

from course_lib import checkpoint, interpret, nn, optim, preprocess
from course_lib.models.classifier import Classifier
from course_lib.models.mlp import MLP
from course_lib.train import fit

SCHEMA = preprocess.Schema(shape=(1, 4, 4), low=0.0, high=1.0)


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 1, 4, 4)).astype(np.float32)


@pytest.mark.parametrize("per_feature", [False, True])
def test_preprocessing_round_trips_through_json(tmp_path, per_feature):
    prep = preprocess.Standardize(SCHEMA, per_feature=per_feature).fit(images(50))
    again = preprocess.load(prep.save(tmp_path / "prep.json"))
    x = images(7, seed=1)
    np.testing.assert_array_equal(prep(x), again(x))
    assert again.schema == SCHEMA and abs(float(prep(images(50)).mean())) < 1e-6


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (np.zeros((3, 16), np.float32), "shape (1, 4, 4)"),
        (np.zeros((3, 1, 4, 4), np.int64), "float numbers"),
        (np.full((3, 1, 4, 4), 255.0, np.float32), "lie in [0.0, 1.0]"),
    ],
)
def test_the_schema_names_the_field_and_the_fix(bad, words):
    prep = preprocess.Standardize(SCHEMA).fit(images(10))
    with pytest.raises(ValueError, match="pixels") as err:
        prep(bad, name="pixels")
    assert words in str(err.value)


def test_broken_preprocessing_files_are_refused(tmp_path):
    path = tmp_path / "prep.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        preprocess.load(path)
    path.write_text(json.dumps({"format": preprocess.FORMAT, "type": "Standardize"}))
    with pytest.raises(ValueError, match="missing"):
        preprocess.load(path)
    with pytest.raises(FileNotFoundError, match="no such preprocessing file"):
        preprocess.load(tmp_path / "absent.json")
    with pytest.raises(ValueError, match="not fitted"):
        preprocess.Standardize(SCHEMA)(images(1))


def run(epochs, *, model_seed=0, resume_from=None, stop_after=None, tmp_path=None, opt="adam"):
    """Train an MLP with dropout and batch norm; optionally stop and save, or resume."""
    model = MLP([16, 12, 3], dropout=0.3, batchnorm=True, rng=model_seed, dtype="float64")
    make = {"adam": optim.Adam, "momentum": optim.Momentum}[opt]
    optimizer, rng = make(model.params, model.grads, lr=0.01), np.random.default_rng(7)
    x, y = images(40).reshape(40, 16).astype(np.float64), np.arange(40) % 3
    done = (
        0 if resume_from is None else checkpoint.load(resume_from, model, optimizer, rng)["epoch"]
    )
    losses = []
    for epoch in range(done, epochs):
        h = fit(
            model,
            nn.SoftmaxCrossEntropy(),
            optimizer,
            x,
            y,
            epochs=1,
            batch_size=8,
            rng=rng,
            progress=False,
        )
        losses += h.steps
        if stop_after is not None and epoch + 1 == stop_after:
            checkpoint.save(tmp_path / "ckpt", model, optimizer, rng, epoch=epoch + 1)
            return losses, model
    return losses, model


@pytest.mark.parametrize("opt", ["adam", "momentum"])
def test_resume_gives_exactly_the_uninterrupted_run(tmp_path, opt):
    straight, model_a = run(4, opt=opt)
    first, _ = run(4, stop_after=2, tmp_path=tmp_path, opt=opt)
    rest, model_b = run(4, model_seed=99, resume_from=tmp_path / "ckpt.npz", opt=opt)
    assert first + rest == straight  # every minibatch loss, bit for bit
    for p, q in zip(model_a.params, model_b.params):
        np.testing.assert_array_equal(p, q)


def test_a_checkpoint_for_another_model_changes_nothing(tmp_path):
    run(4, stop_after=1, tmp_path=tmp_path)
    other = MLP([16, 10, 3], dropout=0.3, batchnorm=True, rng=0, dtype="float64")
    opt = optim.Adam(other.params, other.grads)
    before = [p.copy() for p in other.params]
    with pytest.raises(ValueError, match="nothing was loaded"):
        checkpoint.load(tmp_path / "ckpt.npz", other, opt, np.random.default_rng(0))
    for p, q in zip(other.params, before):
        np.testing.assert_array_equal(p, q)


def test_occlusion_finds_the_region_the_answer_depends_on():
    # class 0's score is the sum of the pixels in rows 2-4, columns 5-7; class 1's is constant
    linear = nn.Linear(100, 2, dtype="float64")
    linear.W[...] = 0.0
    region = np.zeros((10, 10))
    region[2:5, 5:8] = 1.0
    linear.W[:, 0] = 2.0 * region.ravel()
    linear.b[...] = [0.0, 4.0]
    model = Classifier(nn.Flatten(), linear)
    x = np.ones((2, 1, 10, 10))
    heat = interpret.occlusion(model, x, [0, 0], patch=2, stride=1)
    assert heat.shape == (2, 9, 9)
    rows, cols = np.nonzero(heat[0] > 1e-9)
    assert rows.min() == 1 and rows.max() == 4 and cols.min() == 4 and cols.max() == 7
    assert np.all(heat[0][heat[0] <= 1e-9] == 0)  # nothing outside the region matters
    with pytest.raises(ValueError, match="images"):
        interpret.occlusion(model, x.reshape(2, 100), [0, 0])


def test_history_round_trips_through_tensorboard_event_files(tmp_path):
    from course_lib import monitor
    from course_lib.train import History

    h = History(
        epochs=[
            {"epoch": 1, "loss": 0.5, "val": 0.25, "note": "x"},
            {"epoch": 2, "loss": 0.375, "val": 0.125},
        ],
        steps=[0.9, 0.7, 0.6, 0.4],
    )
    curves = monitor.read_scalars(monitor.write_history(tmp_path / "run", h))
    assert sorted(curves) == ["epoch/loss", "epoch/val", "train/loss"]
    assert [s for s, _ in curves["train/loss"]] == [1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in curves["train/loss"]], h.steps, rtol=1e-6)
    assert curves["epoch/val"] == [(1, 0.25), (2, 0.125)]
    with pytest.raises(FileNotFoundError, match="no TensorBoard event files"):
        monitor.read_scalars(tmp_path / "empty")
