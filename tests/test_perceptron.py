"""McCulloch-Pitts units and Rosenblatt's perceptron: truth tables, convergence, Novikoff's
bound."""

import warnings

import numpy as np
import pytest

from course_lib.models import perceptron as P


@pytest.mark.parametrize(
    "unit, table",
    [
        (P.AND, [0, 0, 0, 1]),
        (P.OR, [0, 1, 1, 1]),
        (P.NAND, [1, 1, 1, 0]),
        (P.xor_network, [0, 1, 1, 0]),
    ],
)
def test_threshold_truth_tables(unit, table):
    rows = P.truth_table(unit)
    assert [inp for inp, _ in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [out for _, out in rows] == table


def test_not_is_one_inhibitory_input():
    assert P.truth_table(P.NOT, 1) == [((0,), 1), ((1,), 0)]


def test_no_single_threshold_unit_computes_xor():
    # brute force over a grid of weights and thresholds: none reproduces XOR
    grid = np.arange(-3, 3.5, 0.5)
    xor = [0, 1, 1, 0]
    for w1 in grid:
        for w2 in grid:
            for theta in grid:
                out = [o for _, o in P.truth_table(P.ThresholdNeuron([w1, w2], theta))]
                assert out != xor


@pytest.mark.parametrize("name", ["and", "or", "nand"])
def test_perceptron_learns_separable_boolean_functions(name):
    x, y = P.boolean_dataset(name)
    model = P.Perceptron(max_epochs=100).fit(x, y)
    assert model.converged_
    assert np.array_equal(model.predict(x), y)
    assert model.mistakes_ == sum(model.mistakes_per_epoch_)
    assert model.mistakes_per_epoch_[-1] == 0


def test_perceptron_fixed_mistake_counts_on_and():
    # cycling in the fixed order from w = 0: deterministic, and the same for any lr > 0
    # (powers of two keep the arithmetic exact, so ties on the boundary break the same way)
    x, y = P.boolean_dataset("and")
    a = P.Perceptron(max_epochs=100).fit(x, y)
    b = P.Perceptron(max_epochs=100, lr=0.25).fit(x, y)
    assert (a.mistakes_, a.epochs_) == (18, 9)
    assert a.w_.tolist() == [3.0, 2.0, -4.0]
    assert b.mistakes_ == a.mistakes_
    assert np.array_equal(a.w_ * 0.25, b.w_)


def test_perceptron_fails_on_xor_within_guard():
    x, y = P.boolean_dataset("xor")
    with pytest.warns(P.PerceptronNotConverged):
        model = P.Perceptron(max_epochs=30).fit(x, y)
    assert not model.converged_
    assert model.epochs_ == 30
    assert model.mistakes_per_epoch_[-1] > 0
    assert not np.array_equal(model.predict(x), y)


def test_warning_can_be_silenced():
    x, y = P.boolean_dataset("xor")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = P.Perceptron(max_epochs=5, warn=False).fit(x, y)
    assert not model.converged_


def test_labels_must_be_plus_minus_one():
    x, y = P.boolean_dataset("and")
    with pytest.raises(ValueError, match="-1 or \\+1"):
        P.Perceptron().fit(x, (y + 1) // 2)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dim", [2, 5])
def test_mistakes_within_novikoff_bound(seed, dim):
    x, y, w_true = P.separable_dataset(80, dim, gamma=0.05, rng=seed)
    assert P.margin(x, y, w_true) > 0
    model = P.Perceptron(max_epochs=10_000, shuffle=True).fit(x, y, rng=np.random.default_rng(seed))
    assert model.converged_
    assert np.array_equal(model.predict(x), y)
    bound_svm = P.novikoff_bound(x, y)  # max-margin separator
    bound_true = P.novikoff_bound(x, y, w_true)  # the separator that drew the labels
    assert model.mistakes_ <= bound_svm <= bound_true * (1 + 1e-6)


def test_radius_and_margin_by_hand():
    x = np.array([[3.0, 0.0], [-3.0, 0.0]])
    y = np.array([1, -1])
    assert P.radius(x) == pytest.approx(np.sqrt(10))
    assert P.radius(x, bias=False) == pytest.approx(3.0)
    assert P.margin(x, y, [1.0, 0.0, 0.0]) == pytest.approx(3.0)
    assert P.margin(x, y, [-1.0, 0.0, 0.0]) == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="gamma > 0"):
        P.novikoff_bound(x, y, [-1.0, 0.0, 0.0])


def test_max_margin_refuses_inseparable_data():
    x, y = P.boolean_dataset("xor")
    with pytest.raises(ValueError, match="not linearly separable"):
        P.max_margin_separator(x, y)


def test_history_records_every_update():
    x, y = P.boolean_dataset("or")
    model = P.Perceptron(record_history=True).fit(x, y)
    assert len(model.w_history_) == model.mistakes_ + 1
    assert np.array_equal(model.w_history_[-1], model.w_)


def test_separable_dataset_respects_gap():
    x, y, w = P.separable_dataset(200, 3, gamma=0.2, rng=1)
    assert x.shape == (200, 3) and set(np.unique(y)) == {-1, 1}
    assert np.min(np.abs(x @ w[:-1] + w[-1])) >= 0.2
