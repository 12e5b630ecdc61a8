"""The Fréchet distance between two Gaussians: the formula of FID (Heusel et al. 2017).

Fit a Gaussian N(mu, S) to the features of real images and another to those of generated ones;
their squared Fréchet (2-Wasserstein) distance is

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).

S1 S2 is not symmetric, and a general matrix square root (``scipy.linalg.sqrtm``) of it can pick
up imaginary parts from rounding.  Only the trace is needed, and with A = S1^{1/2} (symmetric),
S1 S2 = A^{-1} (A S2 A) A is similar to the symmetric PSD matrix A S2 A, so

    Tr (S1 S2)^{1/2} = Tr (A S2 A)^{1/2} = sum_i sqrt(lambda_i(A S2 A)),

two symmetric eigendecompositions (``numpy.linalg.eigh``), eigenvalues clipped at 0 against
rounding.  This needs no inverse, so singular covariances (fewer samples than features) are fine.
FID proper uses Inception-v3 features; the course uses a trained LeNet-5's
(:mod:`course_lib.lenet_features`), so its numbers are comparable only with each other.
"""

from __future__ import annotations

import numpy as np


def _finite(name, a):
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(a)).sum())} NaN/inf value(s)")
    return a


def sqrtm_psd(S):
    """The symmetric square root of a symmetric PSD matrix: V diag(sqrt(max(lambda, 0))) V^T."""
    S = _finite("S", S)
    lam, V = np.linalg.eigh(0.5 * (S + S.T))
    return (V * np.sqrt(np.clip(lam, 0.0, None))) @ V.T


def trace_sqrt_product(S1, S2) -> float:
    """Tr (S1 S2)^{1/2} = sum_i sqrt(lambda_i(A S2 A)), A = S1^{1/2} (see the module's text)."""
    A = sqrtm_psd(S1)
    M = A @ S2 @ A
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (M + M.T)), 0.0, None)).sum())


def _check_stats(mu, S, which):
    mu, S = _finite(f"mu{which}", mu), _finite(f"S{which}", S)
    if mu.ndim != 1 or S.shape != (mu.size, mu.size):
        raise ValueError(
            f"mu{which} of shape {mu.shape} and S{which} of shape {S.shape}: give a mean of "
            f"shape (d,) and a covariance of shape (d, d)"
        )
    scale = max(float(np.abs(S).max()) if S.size else 0.0, 1e-300)
    if np.abs(S - S.T).max(initial=0.0) > 1e-6 * scale:
        raise ValueError(f"S{which} is not symmetric: a covariance matrix must be")
    return mu, S


def frechet_distance(mu1, S1, mu2, S2) -> float:
    """d^2 = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr (S1 S2)^{1/2}, in float64.

    Refused: shapes that do not fit ((d,) and (d, d), the same d for both), NaN or inf,
    a non-symmetric covariance.  Rounding can leave a tiny negative result; it is clipped to 0.
    """
    mu1, S1 = _check_stats(mu1, S1, 1)
    mu2, S2 = _check_stats(mu2, S2, 2)
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"the two Gaussians live in different spaces: {mu1.size} and {mu2.size} features"
        )
    diff = mu1 - mu2
    d2 = diff @ diff + np.trace(S1) + np.trace(S2) - 2.0 * trace_sqrt_product(S1, S2)
    return max(float(d2), 0.0)


def feature_stats(features):
    """(mu, S): the mean (d,) and the unbiased covariance (d, d) of ``features`` (n, d), float64.

    Needs n >= 2 rows.  With n <= d the covariance is singular (rank n - 1): allowed, but such an
    estimate is noisy; FID practice uses thousands of samples.
    """
    f = _finite("features", features)
    if f.ndim != 2:
        raise ValueError(f"features of shape {f.shape}: give one row per sample, shape (n, d)")
    if len(f) < 2:
        raise ValueError(f"{len(f)} sample(s): a covariance needs at least 2 (use thousands)")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance_features(features1, features2) -> float:
    """:func:`frechet_distance` of the Gaussians fitted to two sets of features."""
    return frechet_distance(*feature_stats(features1), *feature_stats(features2))
