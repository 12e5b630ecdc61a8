"""Data drift: has the input distribution moved since training?  Shifted inputs to test with,
and a two-sample test that looks at the inputs alone (no labels).

The statistic is the squared maximum mean discrepancy (Gretton et al. 2012) with a Gaussian
kernel k(a, b) = exp(-|a - b|^2 / (2 s^2)); its unbiased estimate from x_1..x_n ~ P and
y_1..y_m ~ Q is

    MMD^2 = sum_{i != j} k(x_i, x_j) / (n (n-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
            - 2 sum_{i, j} k(x_i, y_j) / (n m),

zero in expectation when P = Q.  Its p-value comes from a permutation test (SciPy's
``permutation_test``): pool the samples, split them at random into n and m again, and count how
often the statistic is at least the observed one.  The kernel matrix of the pooled sample is
computed once; a permutation only changes which rows count as P's (see :func:`mmd2`).  The
bandwidth s is the median distance between pooled points over sqrt(2) (the "median heuristic").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats

from course_lib.corrupt import gaussian_noise


def sq_distances(z: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``z`` (N, D): |a|^2 + |b|^2 - 2 a.b."""
    z = np.asarray(z, dtype=np.float64)
    norms = (z * z).sum(axis=1)
    return np.maximum(norms[:, None] + norms[None, :] - 2.0 * z @ z.T, 0.0)


def mmd2(kernel: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Unbiased MMD^2 of the rows ``ix`` (P) against ``iy`` (Q) of the pooled kernel matrix.

    ``ix`` (..., n) and ``iy`` (..., m) may carry leading batch axes (one split per row); with
    indicator vectors a, b of the two sides, s_xx = a^T K a, s_xy = a^T K b, and s_yy follows
    from the total 1^T K 1 = s_xx + 2 s_xy + s_yy, so a batch of splits costs one matrix product.
    """
    batch = np.shape(ix)[:-1]
    ix, iy = np.atleast_2d(ix), np.atleast_2d(iy)
    n, m = ix.shape[-1], iy.shape[-1]
    a = np.zeros((len(ix), len(kernel)))
    np.put_along_axis(a, ix, 1.0, axis=1)
    ka = a @ kernel
    s_xx, s_x = (ka * a).sum(axis=1), ka.sum(axis=1)
    s_xy = s_x - s_xx
    s_yy = kernel.sum() - s_xx - 2.0 * s_xy
    diag = np.diagonal(kernel)
    t_x, t_y = diag[ix].sum(axis=-1), diag[iy].sum(axis=-1)
    out = (s_xx - t_x) / (n * (n - 1)) + (s_yy - t_y) / (m * (m - 1)) - 2.0 * s_xy / (n * m)
    return out.reshape(batch)


@dataclass(frozen=True)
class MMDTest:
    """The result of :func:`mmd_test`."""

    statistic: float  # MMD^2
    pvalue: float
    bandwidth: float


def mmd_test(x, y, *, resamples: int = 500, rng=0) -> MMDTest:
    """Two-sample MMD permutation test of x (n, ...) against y (m, ...), flattened per row."""
    x, y = np.asarray(x).reshape(len(x), -1), np.asarray(y).reshape(len(y), -1)
    if len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"mmd_test needs two samples of at least 2 rows with the same width, got "
            f"{x.shape} and {y.shape}"
        )
    d2 = sq_distances(np.concatenate([x, y]))
    bandwidth = float(np.sqrt(np.median(d2[np.triu_indices(len(d2), 1)]) / 2.0))
    kernel = np.exp(-d2 / (2.0 * bandwidth**2)) if bandwidth > 0 else np.ones_like(d2)

    def statistic(ix, iy, axis=-1):
        return mmd2(kernel, ix, iy)

    result = stats.permutation_test(
        (np.arange(len(x)), np.arange(len(x), len(d2))),
        statistic,
        permutation_type="independent",
        vectorized=True,
        n_resamples=resamples,
        alternative="greater",
        random_state=np.random.default_rng(rng),
    )
    return MMDTest(float(result.statistic), float(result.pvalue), bandwidth)


def rotate(images, degrees: float) -> np.ndarray:
    """Images (N, ..., H, W) turned by ``degrees`` about their centre (bilinear, 0 outside)."""
    return ndimage.rotate(np.asarray(images), degrees, axes=(-1, -2), reshape=False, order=1)


def noisy(images, sigma: float, rng=0) -> np.ndarray:
    """Images with Gaussian noise of standard deviation ``sigma``, clipped back to [0, 1]."""
    return np.clip(gaussian_noise(np.asarray(images), sigma, rng), 0.0, 1.0).astype(np.float32)
