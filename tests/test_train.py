"""The training loops' bookkeeping: batches, the short last batch, History, CG."""

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.models.mlp import MLP
from course_lib.train import History, batches, epochs_to_reach, fit, fit_cg


def test_batches_keep_or_drop_the_short_last_one():
    assert [(s.start, s.stop) for s in batches(10, 4)] == [(0, 4), (4, 8), (8, 10)]
    assert [(s.start, s.stop) for s in batches(10, 4, last_batch="drop")] == [(0, 4), (4, 8)]
    order = np.arange(10)[::-1]
    assert [b.tolist() for b in batches(10, 4, order, "drop")] == [[9, 8, 7, 6], [5, 4, 3, 2]]
    with pytest.raises(ValueError, match="no full batch"):
        batches(3, 4, last_batch="drop")
    with pytest.raises(ValueError, match="last_batch"):
        batches(3, 2, last_batch="pad")


def test_fit_refuses_a_last_batch_of_one_with_batchnorm_before_training():
    x, y = np.random.default_rng(0).standard_normal((21, 4)), np.zeros(21, int)
    model = MLP([4, 5, 2], batchnorm=True, rng=0, dtype="float64")
    start = [p.copy() for p in model.params]
    opt = optim.SGD(model.params, model.grads, lr=0.1)
    with pytest.raises(ValueError, match="last batch of one.*last_batch='drop'"):
        fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, batch_size=10, progress=False)
    assert all(np.array_equal(p, q) for p, q in zip(model.params, start))  # nothing trained
    h = fit(
        model, nn.SoftmaxCrossEntropy(), opt, x, y, batch_size=10, last_batch="drop", progress=False
    )
    assert len(h.steps) == 2


def test_history_is_rows_with_columns():
    h = History(epochs=[{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0, "val": 0.5}])
    assert h["loss"] == [2.0, 1.0] and h["val"] == [0.5] and h[-1]["epoch"] == 2
    assert [row["epoch"] for row in h] == [1, 2] and len(h) == 2 and h.last["val"] == 0.5


def test_record_epoch_evaluates_in_eval_mode_and_train_still_exports_the_history_helpers():
    from course_lib import history, train

    assert train.History is history.History and train.progress_bar is history.progress_bar
    model = nn.Sequential(nn.Dropout(0.5))
    seen, h = [], History()
    with history.progress_bar(1, None, False) as bar:
        history.record_epoch(
            h, {"epoch": 1, "loss": 0.5}, model, lambda m: {"val": m.training}, bar
        )
        seen.append(model.training)
    assert h.epochs == [{"epoch": 1, "loss": 0.5, "val": False}] and seen == [True]


def test_autoencoder_targets_default_to_the_inputs_and_cg_builds_its_flat_view():
    x = np.random.default_rng(0).random((40, 6))
    model = nn.Sequential(
        nn.Linear(6, 2, rng=0, dtype="float64"), nn.Linear(2, 6, rng=1, dtype="float64")
    )
    h = fit_cg(model, nn.SigmoidCrossEntropy(), x, epochs=2, batch_size=20, progress=False)
    assert model.flat is not None and h["loss"][1] < h["loss"][0] and len(h.steps) == 4


def test_epochs_to_reach_interpolates_between_epochs():
    curve = [90.0, 40.0, 20.0, 10.0]  # before training, then after epochs 1, 2, 3
    assert epochs_to_reach(curve, 30.0) == pytest.approx(1.5)  # halfway from 40 to 20
    assert epochs_to_reach(curve, 20.0) == 2.0  # reached exactly at epoch 2
    assert epochs_to_reach(curve, 65.0) == pytest.approx(0.5)
    assert epochs_to_reach(curve, 95.0) == 0.0
    assert epochs_to_reach(curve, 5.0) == float("inf")
    assert epochs_to_reach(np.array([50.0, 60.0, 40.0]), 45.0) == pytest.approx(1.75)


def test_the_progress_bar_goes_to_stdout_not_stderr(capfd):
    """On stderr JupyterLab shows the bar in a red warning box; on stdout it updates in place."""
    import numpy as np

    from course_lib import nn, optim
    from course_lib.train import fit

    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    x, y = np.random.default_rng(0).random((8, 3)).astype("float32"), np.arange(8) % 2
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optim.SGD(model.params, model.grads, lr=0.1),
        x,
        y,
        epochs=2,
        batch_size=4,
        desc="bar",
        progress=True,
    )
    out, err = capfd.readouterr()
    assert "bar" in out and "4/4" in out
    assert err == ""


def test_a_transient_bar_is_erased_when_training_ends(capfd):
    """progress="transient": the bar shows while it runs, then a carriage return leaves the line
    to the cell's own print."""
    import numpy as np

    from course_lib import nn, optim
    from course_lib.train import fit

    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    x, y = np.random.default_rng(0).random((8, 3)).astype("float32"), np.arange(8) % 2
    opt = optim.SGD(model.params, model.grads, lr=0.1)
    fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, batch_size=4, desc="bar", progress="transient")
    out, _ = capfd.readouterr()
    assert "bar" in out and out.endswith("\r") and not out.endswith("\n")
    with pytest.raises(ValueError, match="'transient'"):
        fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, batch_size=4, progress="yes")


class _RecordingSGD(optim.SGD):
    """Plain SGD that notes the learning rate of every step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = []

    def step(self):
        self.rates.append(self.lr)
        super().step()


def test_a_schedule_sets_the_learning_rate_of_each_epoch():
    x, y = np.random.default_rng(0).standard_normal((30, 4)), np.arange(30) % 3
    model = MLP([4, 5, 3], rng=0, dtype="float64")
    opt = _RecordingSGD(model.params, model.grads, lr=9.0)
    halving = dict(epochs=3, batch_size=10, rng=0, schedule=lambda e: 0.1 * 0.5 ** (e - 1))
    h = fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, progress=False, **halving)
    assert h["lr"] == [0.1, 0.05, 0.025] and opt.lr == 0.025
    assert opt.rates == [0.1] * 3 + [0.05] * 3 + [0.025] * 3  # 3 steps an epoch
    assert "lr" not in fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, progress=False).last


def test_a_schedule_run_equals_the_hand_written_loop_bit_for_bit():
    x = np.random.default_rng(1).standard_normal((57, 6)).astype("float32")
    y = np.random.default_rng(2).integers(0, 4, 57)
    runs = []
    for by_hand in (True, False):
        model = MLP([6, 8, 4], rng=3)
        opt = optim.Momentum(model.params, model.grads, lr=0.05, momentum=0.9)
        args = (model, nn.SoftmaxCrossEntropy(), opt, x, y)
        common = dict(batch_size=10, rng=np.random.default_rng(4), progress=False)
        if by_hand:
            steps, rows = [], []
            for epoch in range(4):
                opt.lr = 0.05 * 0.93**epoch
                h = fit(*args, epochs=1, **common)
                steps += h.steps
                rows.append((h["loss"][-1], opt.lr))
        else:
            h = fit(*args, epochs=4, schedule=lambda e: 0.05 * 0.93 ** (e - 1), **common)
            steps, rows = h.steps, list(zip(h["loss"], h["lr"]))
        runs.append((model.params, steps, rows))
    (hand_params, hand_steps, hand_rows), (params, steps, rows) = runs
    assert all(np.array_equal(p, q) for p, q in zip(hand_params, params))
    assert hand_steps == steps and hand_rows == rows


@pytest.mark.parametrize(
    "schedule, error, match",
    [
        (0.1, TypeError, "function of the epoch"),
        (lambda e: -0.1 if e == 3 else 0.1, ValueError, r"schedule\(3\)=-0.1: .* >= 0"),
        (lambda e: float("nan"), ValueError, r"schedule\(1\)=nan"),
        (lambda e: None, ValueError, r"schedule\(1\)=None"),
    ],
)
def test_a_bad_schedule_is_refused_before_any_step(schedule, error, match):
    x, y = np.random.default_rng(0).standard_normal((20, 4)), np.arange(20) % 2
    model = MLP([4, 3, 2], rng=0, dtype="float64")
    start = [p.copy() for p in model.params]
    opt = optim.SGD(model.params, model.grads, lr=0.1)
    with pytest.raises(error, match=match):
        fit(model, nn.SoftmaxCrossEntropy(), opt, x, y, epochs=3, schedule=schedule, progress=False)
    assert all(np.array_equal(p, q) for p, q in zip(model.params, start))
