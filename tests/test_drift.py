"""course_lib.drift: the MMD two-sample test and the shifts it is tried on."""

import numpy as np
import pytest

from course_lib import drift


def naive_mmd2(x, y, bandwidth):
    """The unbiased estimate written straight from its definition (double loops over pairs)."""

    def k(a, b):
        return np.exp(-((a - b) ** 2).sum() / (2 * bandwidth**2))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a, b) for a in x for b in y) / (n * m)
    return xx + yy - 2 * xy


def test_the_batched_statistic_equals_the_definition_on_odd_sizes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(12, 3))
    kernel = np.exp(-drift.sq_distances(z) / (2 * 1.3**2))
    splits = [rng.permutation(12) for _ in range(4)]
    ix = np.stack([s[:5] for s in splits])
    iy = np.stack([s[5:] for s in splits])
    got = drift.mmd2(kernel, ix, iy)
    assert got.shape == (4,)
    for row, s in enumerate(splits):
        assert got[row] == pytest.approx(naive_mmd2(z[s[:5]], z[s[5:]], 1.3), rel=1e-10)
    assert np.ndim(drift.mmd2(kernel, ix[0], iy[0])) == 0


def test_same_distribution_is_not_flagged_and_a_shift_is():
    rng = np.random.default_rng(1)
    same = drift.mmd_test(rng.normal(size=(60, 5)), rng.normal(size=(70, 5)), resamples=200)
    moved = drift.mmd_test(rng.normal(size=(60, 5)), rng.normal(0.8, 1, (70, 5)), resamples=200)
    assert same.pvalue > 0.05 and moved.pvalue < 0.01
    assert moved.statistic > same.statistic and moved.bandwidth > 0


def test_bad_samples_are_refused():
    with pytest.raises(ValueError, match="same width"):
        drift.mmd_test(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        drift.mmd_test(np.zeros((1, 3)), np.zeros((5, 3)))


def test_rotation_and_noise_shift_images_as_promised():
    img = np.zeros((2, 1, 9, 9), np.float32)
    img[:, 0, 4, 6:] = 1.0  # a bar to the right of the centre
    turned = drift.rotate(img, 90)
    assert turned.shape == img.shape
    assert turned[0, 0, :4, 4].sum() > 2 or turned[0, 0, 5:, 4].sum() > 2  # now vertical
    np.testing.assert_allclose(drift.rotate(img, 0), img)
    noisy = drift.noisy(img, 0.3, rng=0)
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 1
    assert not np.array_equal(noisy, img)
    np.testing.assert_array_equal(noisy, drift.noisy(img, 0.3, rng=0))
