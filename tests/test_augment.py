"""course_lib.data.augment: random affine distortions move a digit where their matrices say."""

import numpy as np
import pytest

from course_lib.data.augment import affine_matrices, random_affine


def blob(size=28, at=(9.0, 17.0), sigma=1.5):
    """A smooth spot centred at ``at`` (row, column): its centroid is easy to follow."""
    r, c = np.mgrid[:size, :size]
    return np.exp(-((r - at[0]) ** 2 + (c - at[1]) ** 2) / (2 * sigma**2)).astype(np.float32)


def centroid(image):
    r, c = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([(r * image).sum(), (c * image).sum()]) / image.sum()


def test_no_distortion_is_a_copy():
    x = np.random.default_rng(0).uniform(size=(5, 28, 28)).astype(np.float32)
    out = random_affine(x, 0, shift=0, scale=0, squeeze=0, shear=0)
    assert out.dtype == x.dtype and out is not x
    np.testing.assert_allclose(out, x, atol=1e-6)


def test_the_spot_moves_where_the_matrix_sends_it():
    at = np.array([9.0, 17.0])
    x = np.stack([blob(at=at)] * 20)
    kw = dict(shift=2.0, scale=0.15, squeeze=0.15, shear=0.3)
    out = random_affine(x, 3, **kw)
    F, t = affine_matrices(len(x), 3, **kw)
    centre = np.array([13.5, 13.5])
    for i in range(len(x)):
        expected = F[i] @ (at - centre) + centre + t[i]
        np.testing.assert_allclose(centroid(out[i]), expected, atol=0.1)


def test_each_image_gets_its_own_draw_and_a_seed_repeats_it():
    x = np.stack([blob()] * 4)
    a, b, c = random_affine(x, 1), random_affine(x, 1), random_affine(x, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a[0], a[1])


def test_channels_of_one_image_share_its_map():
    x = np.stack([np.stack([blob(), 2 * blob()])] * 3)  # (3, 2, 28, 28)
    out = random_affine(x, 0)
    assert out.shape == x.shape
    np.testing.assert_allclose(out[:, 1], 2 * out[:, 0], rtol=1e-5, atol=1e-6)


def test_ranges_are_respected():
    F, t = affine_matrices(2000, 0, shift=1.5, scale=0.1, squeeze=0.2, shear=0.25)
    s = np.sqrt(F[:, 0, 0] * F[:, 1, 1])  # (s / q) (s q) = s^2
    q = np.sqrt(F[:, 1, 1] / F[:, 0, 0])
    k = F[:, 1, 0] / F[:, 0, 0]
    assert 0.9 <= s.min() and s.max() <= 1.1
    assert 1 / 1.2 - 1e-12 <= q.min() and q.max() <= 1.2 + 1e-12
    assert np.abs(k).max() <= 0.25 and np.abs(t).max() <= 1.5


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="shift"):
        random_affine(np.zeros((2, 8, 8)), 0, shift=-1)
    with pytest.raises(ValueError, match="scale"):
        random_affine(np.zeros((2, 8, 8)), 0, scale=1.0)
    with pytest.raises(ValueError, match="shape"):
        random_affine(np.zeros((8, 8)), 0)
