"""Maps of documents: a bag of words, LSA, a deep autoencoder's 2-D codes, and scores for a map.

    X, words = bag_of_words(docs)                    # log(1 + count) in [0, 1], 2,000 words
    lsa = lsa_map(X)                                 # LSA: the best rank-2 linear map
    net, history = autoencoder_map(X, [2000, 500, 250, 125, 2], COURSE, seed=0)
    codes = net.encode(X)
    knn_accuracy(codes, labels), trust(X, codes)

Hinton & Salakhutdinov (2006) mapped news stories to 2-D with a 2000-500-250-125-2 autoencoder
and showed the classes far better separated than by LSA (latent semantic analysis, a truncated
SVD of the document-word matrix).  A map is scored here two ways: the k-nearest-neighbour
accuracy of the labels *in the map* (cross-validated; do documents of one class sit together?)
and trustworthiness (are a point's neighbours in the map also its neighbours in the input?).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib import nn, optim
from course_lib.models.stacked_ae import pretrain_stacked_ae, unroll
from course_lib.train import fit


def bag_of_words(docs, vocab_size: int = 2000, max_df: float = 0.5):
    """``(X, words)``: ``X[d, w] = log(1 + count of word w in document d) / max`` (float32).

    ``docs`` are token lists.  The vocabulary is the ``vocab_size`` most frequent words among
    those in at most ``max_df`` of the documents (words in nearly every document, "the", "の",
    carry no topic).  Counting is scikit-learn's ``CountVectorizer``.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if len(docs) < 2:
        raise ValueError(f"a map needs at least 2 documents, got {len(docs)}")
    counter = CountVectorizer(analyzer=list, max_df=max_df, max_features=vocab_size)
    counts = counter.fit_transform(docs).toarray()
    X = np.log1p(counts).astype(np.float32)
    return X / X.max(), list(counter.get_feature_names_out())


def lsa_map(X, dims: int = 2, seed: int = 0):
    """LSA codes: the projection on the top ``dims`` right singular vectors of ``X``
    (scikit-learn's ``TruncatedSVD``; no centring, as LSA does it)."""
    from sklearn.decomposition import TruncatedSVD

    return TruncatedSVD(dims, random_state=seed).fit_transform(X)


def tsne_map(X, seed: int = 0, perplexity: float = 30.0):
    """t-SNE codes of ``X`` under cosine distance (scikit-learn), PCA-initialised."""
    from sklearn.manifold import TSNE

    tsne = TSNE(2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed)
    return tsne.fit_transform(X)


def knn_accuracy(codes, labels, k: int = 5, folds: int = 10, seed: int = 0) -> float:
    """Percent of documents whose label is the majority of their ``k`` nearest neighbours in the
    map, by ``folds``-fold cross-validation (stratified, shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    codes = np.asarray(codes, dtype=np.float64)
    return 100 * cross_val_score(KNeighborsClassifier(k), codes, labels, cv=split).mean()


def trust(X, codes, k: int = 10) -> float:
    """Trustworthiness (Venna & Kaski) of the map: 1 when the ``k`` nearest neighbours of each
    point in the map are among its nearest in ``X`` (cosine distance), lower for intruders."""
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(X, np.asarray(codes, np.float64), n_neighbors=k, metric="cosine"))


@dataclass(frozen=True)
class Recipe:
    """How the autoencoder is trained: greedy pretraining of tied layers (plain SGD, the linear
    code layer at ``pretrain_lr / 100``), then fine-tuning of the unrolled net."""

    batch_size: int
    pretrain_epochs: int
    pretrain_lr: float
    finetune_epochs: int
    finetune_lr: float
    loss: str = "cross_entropy"  # or "squared": 1/2 sum (sigma(z) - x)^2, seed 000's L2 cost
    optimizer: str = "adam"  # fine-tuning: "adam" or "sgd"

    def __post_init__(self):
        if self.loss not in _LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; use one of {sorted(_LOSSES)}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; use 'adam' or 'sgd'")

    def cost(self):
        return _LOSSES[self.loss]()

    def fine_tuner(self, net):
        """The fine-tuning optimizer over ``net``'s parameters."""
        make = optim.Adam if self.optimizer == "adam" else optim.SGD
        return make(net.params, net.grads, lr=self.finetune_lr)


_LOSSES = {"cross_entropy": nn.SigmoidCrossEntropy, "squared": nn.SigmoidSquaredError}


SEED000 = Recipe(5, 15, 1.0, 75, 0.1, loss="squared", optimizer="sgd")  # the talk's Tag Genome map
COURSE = Recipe(20, 5, 0.1, 30, 1e-3)  # cross-entropy, Adam: the course's default


def autoencoder_map(X, sizes, recipe: Recipe, *, seed: int = 0, evaluate=None, progress=False):
    """Pretrain, unroll and fine-tune a deep autoencoder ``sizes = [D, ..., 2]`` on ``X``.

    Returns ``(net, history)``: ``net.encode(X)`` gives the map; ``history`` is the fine-tuning
    :class:`~course_lib.history.History` (``evaluate(net) -> dict`` adds columns after each epoch).
    ``progress=True`` shows a bar while it fine-tunes.
    """
    if X.shape[1] != sizes[0]:
        raise ValueError(f"X has {X.shape[1]} columns but the first layer has {sizes[0]} inputs")
    layers = pretrain_stacked_ae(
        X,
        sizes,
        epochs=recipe.pretrain_epochs,
        batch_size=recipe.batch_size,
        lr=recipe.pretrain_lr,
        top_lr=recipe.pretrain_lr / 100,
        seed=seed,
        loss=recipe.cost(),
    )
    net = unroll(layers)
    history = fit(
        net,
        recipe.cost(),
        recipe.fine_tuner(net),
        X,
        epochs=recipe.finetune_epochs,
        batch_size=recipe.batch_size,
        rng=seed,
        evaluate=evaluate,
        progress=progress,
        desc=f"fine-tuning (seed {seed})",
    )
    return net, history
