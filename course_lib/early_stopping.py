"""Early stopping on a validation number, with the best parameters kept.

A training budget chosen by looking at test-set curves is tuned on the test set.  The honest way to
decide *when to stop* is to hold out part of the training data and watch it: stop once the
validation number has not improved by a relative ``min_rel`` for ``patience`` epochs, and go back to
the epoch where it was lowest.  Pass it as ``stop=`` to :func:`course_lib.train.fit`.
"""

from __future__ import annotations

import math


class EarlyStopping:
    """Call it after each epoch with the model and the epoch's row; it answers "stop now?".

    ``key`` names the row's validation number (lower is better).  An epoch *counts as progress* when
    that number is below ``(1 - min_rel)`` times the value at the last counted progress; after
    ``patience`` epochs without progress, it says stop.  Any new minimum, however small, is kept
    (``best``, ``best_epoch`` and a copy of the model's parameters) for :meth:`restore`.
    """

    def __init__(self, key: str, *, patience: int = 3, min_rel: float = 0.005):
        if patience < 1 or not 0 <= min_rel < 1:
            raise ValueError(
                f"patience must be >= 1 and 0 <= min_rel < 1, got {patience} and {min_rel}"
            )
        self.key, self.patience, self.min_rel = key, patience, min_rel
        self.best, self.best_epoch, self.best_params = math.inf, None, None
        self.reference, self.waited = math.inf, 0

    def __call__(self, model, row: dict) -> bool:
        if self.key not in row:
            raise KeyError(
                f"early stopping watches {self.key!r}, but the epoch's row has only {sorted(row)}"
            )
        value = float(row[self.key])
        if value < self.best:
            self.best, self.best_epoch = value, row["epoch"]
            self.best_params = [p.copy() for p in model.params]
        if value < self.reference * (1 - self.min_rel):
            self.reference, self.waited = value, 0
        else:
            self.waited += 1
        return self.waited >= self.patience

    def restore(self, model) -> None:
        """Put the parameters of the best epoch back into ``model``."""
        if self.best_params is None:
            raise RuntimeError("no epoch has been seen yet: nothing to restore")
        for p, best in zip(model.params, self.best_params):
            p[...] = best
