"""Baselines that are not neural networks, to measure the networks against.

* :func:`pca_squared_error` -- PCA (scikit-learn) reconstructions with a given number of components;
* :func:`mean_image_squared_error` -- always answering the mean training image: what a network
  that has learned nothing but the average reaches;
* :func:`nearest_class_mean_error` -- a classifier that answers the class whose mean training
  image is nearest: what any trained digit classifier must beat;
* :func:`bernoulli_pixels_nats` -- each pixel an independent Bernoulli with its training mean: the
  negative log-likelihood a generative model with no code at all reaches (lesson 19's VAE);
* :func:`char_unigram_nats` and :func:`word_unigram_perplexity` -- a language model that knows
  only how often each character (word) occurs in the training text: what a recurrent model that
  has learned nothing about context scores (lesson 09).

Errors are squared differences summed over pixels and averaged over test images, the unit of
Hinton & Salakhutdinov (2006).
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.backend import asnumpy
from course_lib.nlp.lm import unigram_nats


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


def nearest_class_mean_error(x_train, y_train, x_test, y_test) -> float:
    """Test error in percent of the nearest-class-mean classifier: ``argmin_k ||x - mu_k||^2``,
    ``mu_k`` the mean training image of class ``k``."""
    x_train, y_train = asnumpy(x_train), asnumpy(y_train)
    classes = np.unique(y_train)
    means = np.stack([x_train[y_train == k].mean(axis=0) for k in classes])
    xt = asnumpy(x_test)
    # ||x - mu||^2 = ||x||^2 - 2 x.mu + ||mu||^2; the first term is the same for every class
    distance = (means**2).sum(axis=1) - 2 * xt @ means.T
    return float(100 * np.mean(classes[distance.argmin(axis=1)] != asnumpy(y_test)))


def bernoulli_pixels_nats(x_train, x_test, eps: float = 1e-3) -> float:
    """Nats per test image of independent Bernoulli pixels with the training means ``p``:
    ``-sum_j [x_j log p_j + (1 - x_j) log(1 - p_j)]`` averaged over test images, ``p`` clipped to
    ``[eps, 1 - eps]`` so that a pixel never inked in training costs a finite amount. Pixels in
    [0, 1]: binary ones give a log-likelihood, grey levels the cross-entropy a Bernoulli decoder
    is trained on. Computed in the images' dtype."""
    x_train, xt = asnumpy(x_train), asnumpy(x_test)
    p = np.clip(x_train.reshape(len(x_train), -1).mean(axis=0), eps, 1 - eps)
    xt = xt.reshape(len(xt), -1)
    return float(-(xt * np.log(p) + (1 - xt) * np.log(1 - p)).sum(axis=1).mean())


def char_unigram_nats(text: str, train_fraction: float = 0.9, eval_chars=None) -> float:
    """Nats per character of a unigram model on the last ``1 - train_fraction`` of ``text`` (its
    first ``eval_chars``), the frequencies counted on the rest (add-one smoothed over every
    character of the text): lesson 09's split."""
    alphabet, ids = np.unique(np.array(list(text)), return_inverse=True)
    cut = int(train_fraction * len(ids))
    return unigram_nats(ids[:cut], ids[cut:][:eval_chars], len(alphabet))


def word_unigram_perplexity(train_words, eval_words) -> float:
    """Perplexity on ``eval_words`` of a unigram model counted on ``train_words`` (add-one
    smoothed over the training vocabulary; every evaluation word must occur in training, as in
    the Penn Treebank, whose rare words are already ``<unk>``)."""
    vocab = {w: i for i, w in enumerate(dict.fromkeys(train_words))}
    unknown = sorted(set(eval_words) - set(vocab))
    if unknown:
        raise ValueError(
            f"{len(unknown)} evaluation word(s) never occur in training: {unknown[:5]}"
        )
    ids = [vocab[w] for w in train_words], [vocab[w] for w in eval_words]
    return math.exp(unigram_nats(*ids, len(vocab)))
