"""Validation split, grid and choice on validation: disjoint indices, every combination once, the
smallest validation number chosen, and clear errors."""

import numpy as np
import pytest

from course_lib import model_selection as ms


def test_holdout_is_a_disjoint_cover_fixed_by_the_seed():
    train, val = ms.holdout(17, 5, rng=3)
    assert len(val) == 5 and len(train) == 12
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(17))
    again = ms.holdout(17, 5, rng=3)
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])
    assert not np.array_equal(val, ms.holdout(17, 5, rng=4)[1])


@pytest.mark.parametrize("n_val", [0, 17, -1])
def test_holdout_refuses_an_empty_side(n_val):
    with pytest.raises(ValueError, match="n_val"):
        ms.holdout(17, n_val)


def test_grid_has_every_combination_once_in_order():
    rows = ms.grid(lr=[0.1, 0.01], wd=[0.0, 1e-3, 1e-2])
    assert (
        len(rows) == 6
        and rows[0] == {"lr": 0.1, "wd": 0.0}
        and rows[-1] == {"lr": 0.01, "wd": 1e-2}
    )
    assert len({tuple(r.values()) for r in rows}) == 6


@pytest.mark.parametrize("axes", [{}, {"lr": []}, {"lr": 0.1}, {"lr": "abc"}])
def test_grid_refuses_empty_or_scalar_axes(axes):
    with pytest.raises(ValueError):
        ms.grid(**axes)


def test_search_then_best_picks_the_smallest_validation_number(capsys):
    def run(lr, wd):
        return {"val_error": (np.log10(lr) + 2) ** 2 + wd, "train_error": 0.0}

    rows = ms.grid_search(run, lr=[1.0, 0.1, 0.01, 0.001], wd=[0.5, 0.0])
    assert len(rows) == 8 and "[8/8" in capsys.readouterr().out
    chosen = ms.best(rows, "val_error")
    assert (chosen["lr"], chosen["wd"]) == (0.01, 0.0)


def test_best_refuses_test_numbers_missing_keys_and_no_rows():
    rows = [{"val_error": 0.1, "test_error": 0.2}]
    with pytest.raises(ValueError, match="validation only"):
        ms.best(rows, "test_error")
    with pytest.raises(KeyError, match="val_loss"):
        ms.best(rows, "val_loss")
    with pytest.raises(ValueError, match="no rows"):
        ms.best([], "val_error")


def test_search_refuses_a_run_without_scores():
    with pytest.raises(TypeError, match="dict"):
        ms.grid_search(lambda lr: 0.1, lr=[0.1], verbose=False)
