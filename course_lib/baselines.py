"""Baselines that are not neural networks, to measure the networks against.

* :func:`pca_squared_error` -- PCA (scikit-learn) reconstructions with a given number of components;
* :func:`mean_image_squared_error` -- always answering the mean training image: what a network
  that has learned nothing but the average reaches.

Errors are squared differences summed over pixels and averaged over test images, the unit of
Hinton & Salakhutdinov (2006).
"""

from __future__ import annotations

from course_lib.backend import asnumpy


def pca_squared_error(x_train, x_test, n_components: int = 30, seed: int = 0):
    """PCA baseline: ``(squared error per test image, the fitted sklearn PCA)``."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=seed).fit(asnumpy(x_train))
    xt = asnumpy(x_test)
    rec = pca.inverse_transform(pca.transform(xt))
    return float(((xt - rec) ** 2).sum() / xt.shape[0]), pca


def mean_image_squared_error(x_train, x_test) -> float:
    """Squared error per test image of always answering the mean training image."""
    xt = asnumpy(x_test)
    return float(((xt - asnumpy(x_train).mean(axis=0)) ** 2).sum() / xt.shape[0])
