"""MNIST seen as the 8x8 digits: the UCI recipe (square box, 32x32 bitmap, 4x4 block counts)."""

import numpy as np
import pytest

from course_lib.data.eight_by_eight import as_8x8_digits, square_box


def test_a_full_square_gives_all_ones_and_a_blank_image_zeros():
    x = np.zeros((2, 28, 28), np.float32)
    x[0, 5:15, 8:18] = 1.0  # a filled 10x10 square anywhere: its box fills the 32x32 bitmap
    out = as_8x8_digits(x)
    assert out.shape == (2, 64) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], 1.0)
    np.testing.assert_array_equal(out[1], 0.0)


def test_counts_are_sixteenths_and_a_bar_keeps_its_aspect():
    x = np.zeros((1, 1, 28, 28), np.float32)  # (N, 1, 28, 28) accepted, batch of one
    x[0, 0, 4:24, 12:16] = 1.0  # a tall bar 20x4: padded to a square, it stays thin
    out = as_8x8_digits(x).reshape(8, 8)
    assert np.all(np.isin(out * 16, np.arange(17)))  # block counts 0..16
    assert out[:, 0].sum() == 0 and out[:, -1].sum() == 0  # blank sides
    assert out[:, 3:5].min() > 0.5  # the bar is in the middle columns, top to bottom


def test_square_box_pads_odd_sizes_and_refuses_bad_shapes():
    image = np.zeros((28, 28), np.float32)
    image[3:8, 10:13] = 1.0  # 5 x 3
    box = square_box(image, 0.5)
    assert box.shape == (5, 5) and box[:, 0].sum() == 0 and box[:, 1:4].min() == 1.0
    assert square_box(np.zeros((28, 28)), 0.5) is None
    with pytest.raises(ValueError, match="give"):
        as_8x8_digits(np.zeros((3, 100)))
