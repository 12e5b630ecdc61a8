"""Stacked linear layers collapse to one, and one line's accuracy is a ceiling they keep."""

import numpy as np
import pytest

from course_lib import nn
from course_lib.linear_limit import best_line_accuracy, collapse


@pytest.mark.parametrize("sizes", [[3, 5, 1, 4], [2, 2], [7, 1, 6, 2, 3]])
def test_a_linear_stack_equals_its_collapsed_layer(sizes):
    g = np.random.default_rng(0)
    layers = [nn.Linear(a, b, rng=g, dtype="float64") for a, b in zip(sizes[:-1], sizes[1:])]
    for layer in layers:
        layer.b[...] = g.normal(size=layer.b.shape)
    x = g.normal(size=(9, sizes[0]))
    W, b = collapse(layers)
    assert W.shape == (sizes[0], sizes[-1]) and b.shape == (sizes[-1],)
    assert np.abs(nn.Sequential(*layers).forward(x) - (x @ W + b)).max() < 1e-12


def test_collapse_refuses_a_nonlinearity_and_shapes_that_do_not_chain():
    g = np.random.default_rng(0)
    with pytest.raises(ValueError, match="layer 1 \\(Sigmoid\\) is not linear"):
        collapse([nn.Linear(2, 3, rng=g), nn.Sigmoid(), nn.Linear(3, 1, rng=g)])
    with pytest.raises(ValueError, match="do not chain"):
        collapse([nn.Linear(2, 3, rng=g), nn.Linear(4, 1, rng=g)])
    with pytest.raises(ValueError, match="at least one"):
        collapse([])


def test_xor_corners_allow_three_of_four():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    assert best_line_accuracy(x, np.array([0, 1, 1, 0])) == 0.75
    assert best_line_accuracy(x, np.array([0, 0, 0, 1])) == 1.0  # AND: one line suffices
    assert best_line_accuracy(x, np.array([1, 1, 1, 1])) == 1.0


def test_separable_points_score_one_and_a_line_never_beats_the_search():
    g = np.random.default_rng(3)
    x = g.normal(size=(300, 2))
    y = (x @ np.array([1.0, -2.0]) > 0.4).astype(int)
    assert best_line_accuracy(x, y) == 1.0
    noisy = np.where(g.random(300) < 0.2, 1 - y, y)
    best = best_line_accuracy(x, noisy)
    assert best >= ((x @ np.array([1.0, -2.0]) > 0.4) == noisy).mean()
    assert best >= max(noisy.mean(), 1 - noisy.mean())


def test_bad_points_or_labels_say_what_is_wrong():
    with pytest.raises(ValueError, match="points \\(N, 2\\)"):
        best_line_accuracy(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="points \\(N, 2\\)"):
        best_line_accuracy(np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="0 or 1"):
        best_line_accuracy(np.zeros((2, 2)), np.array([0, 2]))
