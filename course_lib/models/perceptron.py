"""The first artificial neurons: McCulloch & Pitts (1943) and Rosenblatt's perceptron (1958).

Two ideas, one file:

* :class:`ThresholdNeuron` -- the McCulloch-Pitts unit, ``y = 1 if w . x >= theta else 0``, with
  weights fixed by hand.  One unit computes AND, OR, NOT, NAND; XOR needs two layers
  (:func:`xor_network`), because no single line separates its ones from its zeros.
* :class:`Perceptron` -- Rosenblatt's learning rule on labels ``y in {-1, +1}`` with the bias
  folded into the weights (``x~ = (x, 1)``): on a mistake (``y w . x~ <= 0``) do ``w += y x~``.

Novikoff (1962): if some unit vector ``u`` separates the data with margin
``gamma = min_i y_i u . x~_i > 0`` and ``R = max_i ||x~_i||``, the rule makes at most
``(R / gamma)^2`` mistakes, whatever the order of the examples.  :func:`radius`, :func:`margin`,
:func:`max_margin_separator` and :func:`novikoff_bound` compute the pieces so the bound can be
checked; :func:`separable_dataset` draws random sets with a known separator.

The perceptron updates one example at a time, so this file uses NumPy on the host throughout.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

__all__ = [
    "ThresholdNeuron",
    "AND",
    "OR",
    "NOT",
    "NAND",
    "xor_network",
    "truth_table",
    "BOOLEAN_INPUTS",
    "boolean_dataset",
    "Perceptron",
    "PerceptronNotConverged",
    "add_bias",
    "radius",
    "margin",
    "max_margin_separator",
    "novikoff_bound",
    "separable_dataset",
]


# --------------------------------------------------------------------------------------------
# McCulloch-Pitts: a threshold unit with fixed weights
# --------------------------------------------------------------------------------------------
class ThresholdNeuron:
    """McCulloch-Pitts unit: ``y = 1 if sum_j w_j x_j >= theta else 0`` (inputs and output in {0,
    1})."""

    def __init__(self, weights, threshold: float, name: str = ""):
        self.weights = np.asarray(weights, dtype=float)
        self.threshold = float(threshold)
        self.name = name

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return (x @ self.weights >= self.threshold).astype(int)

    def __repr__(self) -> str:
        label = f"{self.name}: " if self.name else ""
        return f"ThresholdNeuron({label}w={self.weights.tolist()}, theta={self.threshold:g})"


AND = ThresholdNeuron([1, 1], 2, "AND")  # fires only when both inputs fire
OR = ThresholdNeuron([1, 1], 1, "OR")  # fires when at least one input fires
NOT = ThresholdNeuron([-1], 0, "NOT")  # an inhibitory input: fires when the input is silent
NAND = ThresholdNeuron([-1, -1], -1, "NAND")


def xor_network(x) -> np.ndarray:
    """XOR with two layers of threshold units: ``XOR(a, b) = AND(OR(a, b), NAND(a, b))``."""
    x = np.asarray(x)
    hidden = np.stack([OR(x), NAND(x)], axis=-1)
    return AND(hidden)


def truth_table(fn, n_inputs: int = 2) -> list[tuple[tuple[int, ...], int]]:
    """``[(inputs, output), ...]`` for every input in {0, 1}^n, in counting order."""
    rows = np.array(list(itertools.product([0, 1], repeat=n_inputs)))
    return [(tuple(int(v) for v in r), int(o)) for r, o in zip(rows, fn(rows))]


BOOLEAN_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
_BOOLEAN_TARGETS = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "xor": [0, 1, 1, 0],
}


def boolean_dataset(name: str):
    """The four inputs of a 2-input Boolean function and labels in {-1, +1} (``"and"``, ``"or"``,
    ``"nand"``, ``"xor"``)."""
    try:
        t = np.array(_BOOLEAN_TARGETS[name.lower()])
    except KeyError:
        raise ValueError(
            f"unknown Boolean function {name!r}: use one of {sorted(_BOOLEAN_TARGETS)}"
        ) from None
    return BOOLEAN_INPUTS.copy(), 2 * t - 1


# --------------------------------------------------------------------------------------------
# Rosenblatt: the perceptron learning rule
# --------------------------------------------------------------------------------------------
class PerceptronNotConverged(RuntimeWarning):
    """The perceptron still made mistakes after ``max_epochs`` passes (e.g. XOR: not separable)."""


def add_bias(x) -> np.ndarray:
    """Fold the bias into the weights: ``x~ = (x, 1)``."""
    x = np.asarray(x, dtype=float)
    return np.hstack([x, np.ones((x.shape[0], 1))])


class Perceptron:
    """Rosenblatt's perceptron on labels in {-1, +1}, bias folded in (``w`` has ``d + 1`` entries).

    ``fit`` cycles through the examples; on a mistake, ``y w . x~ <= 0``, it updates
    ``w += lr * y * x~``.  It stops after the first pass with no mistake (``converged_ = True``)
    or after ``max_epochs`` passes (``converged_ = False``, with a :class:`PerceptronNotConverged`
    warning when ``warn``).  From ``w = 0`` the learning rate only rescales ``w``: in exact
    arithmetic the mistakes are the same for every ``lr > 0``.

    After ``fit``: ``w_``, ``mistakes_`` (total updates), ``epochs_`` (passes made),
    ``mistakes_per_epoch_``, ``converged_``, and ``w_history_`` (``w`` after each update) when
    ``record_history``.
    """

    def __init__(
        self,
        max_epochs: int = 100,
        lr: float = 1.0,
        *,
        shuffle: bool = False,
        record_history: bool = False,
        warn: bool = True,
    ):
        self.max_epochs = int(max_epochs)
        self.lr = float(lr)
        self.shuffle = shuffle
        self.record_history = record_history
        self.warn = warn

    def fit(self, x, y, *, rng: np.random.Generator | None = None, w0=None) -> Perceptron:
        xb = add_bias(x)
        y = np.asarray(y)
        if not np.all(np.isin(y, (-1, 1))):
            raise ValueError("perceptron labels must be -1 or +1 (map 0/1 labels with 2*y - 1)")
        if self.shuffle and rng is None:
            rng = np.random.default_rng(0)
        w = np.zeros(xb.shape[1]) if w0 is None else np.asarray(w0, dtype=float).copy()
        self.w_history_ = [w.copy()] if self.record_history else []
        self.mistakes_per_epoch_ = []
        self.converged_ = False
        for _ in range(self.max_epochs):
            order = rng.permutation(len(y)) if self.shuffle else range(len(y))
            mistakes = 0
            for i in order:
                if y[i] * (w @ xb[i]) <= 0:  # wrong side, or on the boundary
                    w += self.lr * y[i] * xb[i]
                    mistakes += 1
                    if self.record_history:
                        self.w_history_.append(w.copy())
            self.mistakes_per_epoch_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.w_ = w
        self.epochs_ = len(self.mistakes_per_epoch_)
        self.mistakes_ = int(sum(self.mistakes_per_epoch_))
        if not self.converged_ and self.warn:
            warnings.warn(
                f"perceptron did not converge in {self.max_epochs} epochs "
                f"({self.mistakes_per_epoch_[-1]} mistakes in the last one): the data may not be "
                "linearly separable",
                PerceptronNotConverged,
                stacklevel=2,
            )
        return self

    @property
    def coef_(self) -> np.ndarray:
        return self.w_[:-1]

    @property
    def intercept_(self) -> float:
        return float(self.w_[-1])

    def decision_function(self, x) -> np.ndarray:
        """The score ``w . x~``; its sign is the prediction."""
        return add_bias(x) @ self.w_

    def predict(self, x) -> np.ndarray:
        """Labels in {-1, +1} (a score of exactly 0 counts as -1)."""
        return np.where(self.decision_function(x) > 0, 1, -1)


# --------------------------------------------------------------------------------------------
# Novikoff's bound: R, gamma and (R / gamma)^2
# --------------------------------------------------------------------------------------------
def radius(x, *, bias: bool = True) -> float:
    """``R = max_i ||x~_i||`` (of the bias-augmented vectors when ``bias``)."""
    xb = add_bias(x) if bias else np.asarray(x, dtype=float)
    return float(np.linalg.norm(xb, axis=1).max())


def margin(x, y, w, *, bias: bool = True) -> float:
    """Margin of the separator ``w`` (``d + 1`` entries when ``bias``): ``min_i y_i w . x~_i /
    ||w||``.

    Positive when ``w`` separates the data; zero or negative when it does not.
    """
    xb = add_bias(x) if bias else np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    norm = np.linalg.norm(w)
    if norm == 0:
        return 0.0
    return float(np.min(np.asarray(y) * (xb @ w)) / norm)


def max_margin_separator(x, y, *, C: float = 1e6) -> np.ndarray:
    """The maximum-margin separator ``(w, b)`` of a separable set, as one ``d + 1`` vector.

    A linear SVM with a large ``C`` is the hard-margin SVM.  Its margin measured on the
    augmented vectors (:func:`margin`) is what enters Novikoff's bound for a perceptron with the
    bias folded in; any separator gives a valid bound, a wider margin a tighter one.
    """
    from sklearn.svm import SVC

    svm = SVC(kernel="linear", C=C, tol=1e-6).fit(np.asarray(x, dtype=float), np.asarray(y))
    w = np.append(svm.coef_.ravel(), svm.intercept_[0])
    if not margin(x, y, w) > 0:
        raise ValueError("the linear SVM found no separator: the data are not linearly separable")
    return w


def novikoff_bound(x, y, w=None) -> float:
    """``(R / gamma)^2`` with ``gamma`` the margin of ``w`` (default: the max-margin separator)."""
    if w is None:
        w = max_margin_separator(x, y)
    g = margin(x, y, w)
    if g <= 0:
        raise ValueError(
            f"w does not separate the data (margin {g:.3g}); the bound needs gamma > 0"
        )
    return (radius(x) / g) ** 2


def separable_dataset(
    n: int = 100, dim: int = 2, *, gamma: float = 0.1, rng=None, max_tries: int = 1000
):
    """``n`` points uniform in ``[-1, 1]^dim``, labelled by a random line, with a margin gap.

    Returns ``x (n, dim)``, ``y in {-1, +1}`` (half of each, shuffled) and the true separator
    ``w_true`` (``dim + 1`` entries, unit norm on the weights part): every point lies at least
    ``gamma`` from the line ``w_true . x~ = 0``.
    """
    rng = np.random.default_rng(rng)
    w = rng.standard_normal(dim)
    w /= np.linalg.norm(w)
    b = rng.uniform(-0.3, 0.3)
    need = {1: n - n // 2, -1: n // 2}
    got = {1: [], -1: []}
    for _ in range(max_tries):
        cand = rng.uniform(-1, 1, size=(2 * n, dim))
        s = cand @ w + b
        for label, side in ((1, s >= gamma), (-1, s <= -gamma)):
            got[label].extend(cand[side][: need[label] - len(got[label])])
        if all(len(got[k]) == need[k] for k in need):
            break
    else:
        raise ValueError(
            f"could not draw {n} points at distance >= {gamma} from the line; lower gamma"
        )
    x = np.array(got[1] + got[-1]).reshape(n, dim)
    y = np.array([1] * need[1] + [-1] * need[-1])
    order = rng.permutation(n)
    return x[order], y[order], np.append(w, b)
