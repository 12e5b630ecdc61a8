"""What a training run leaves behind and shows while it runs: the :class:`History` of its epochs
and steps, and the progress bar.

    history = History()
    bar = progress_bar(epochs * steps_per_epoch, "LeNet-5", progress=True)
    for epoch in range(1, epochs + 1):
        ...                                  # the steps, each followed by bar.update()
        record_epoch(history, {"epoch": epoch, "loss": loss}, model, evaluate, bar)
    bar.close()

Every training loop in the library (:mod:`course_lib.train`, the RBM, word2vec, the torch twins,
the distributed launcher) returns or shows these, so a curve from any of them is read and plotted
the same way; :func:`epochs_to_reach` reads off how fast a curve gets to a threshold.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class History:
    """One row per epoch (``epoch``, ``loss``, ``seconds`` and whatever ``evaluate`` added), the
    loss of every step (empty for loops that keep none), and the wall time of the whole run."""

    epochs: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    seconds: float = 0.0

    def __getitem__(self, key):
        """``history["loss"]``: that column over the epochs that have it; ``history[-1]``: a row."""
        if isinstance(key, str):
            return [row[key] for row in self.epochs if key in row]
        return self.epochs[key]

    def __iter__(self):
        return iter(self.epochs)

    def __len__(self) -> int:
        return len(self.epochs)

    @property
    def last(self) -> dict:
        return self.epochs[-1]


def progress_bar(total, desc, progress, unit="step"):
    """A text progress bar on stdout: it updates in place in a terminal and in JupyterLab (on
    stderr JupyterLab would show it in a red warning box), and stays one line in a batch log.
    ``progress``: True, False (no bar) or "transient" (erased when done: for loops that print
    their own line per run)."""
    from tqdm import tqdm

    if progress not in (True, False, "transient"):
        raise ValueError(f"progress={progress!r}: use True, False or 'transient'")
    # miniters=1: look at the clock after every step (tqdm's default adapts how many steps it
    # skips to the speed so far, and a run that slows down then shows nothing for seconds)
    return tqdm(
        total=total,
        desc=desc,
        disable=not progress,
        unit=unit,
        file=sys.stdout,
        mininterval=0.5,
        miniters=1,
        leave=progress is True,
    )


def record_epoch(history, row, model, evaluate, bar):
    """Close an epoch: add ``evaluate(model)``'s numbers (run in eval mode, the model put back in
    training mode after) to ``row``, append the row to ``history`` and show its loss on ``bar``."""
    if evaluate is not None:
        model.train(False)
        row.update(evaluate(model))
        model.train(True)
    history.epochs.append(row)
    bar.set_postfix(epoch=row["epoch"], loss=f"{row['loss']:.4g}", refresh=False)


def epochs_to_reach(curve, threshold: float) -> float:
    """How many epochs a curve takes to fall to ``threshold``: ``curve[k]`` is the value after
    ``k`` epochs (``curve[0]`` before training).  Between the last epoch above the threshold and
    the first at or below it the curve is taken as a straight line, so the answer is fractional:

        k - 1 + (curve[k-1] - threshold) / (curve[k-1] - curve[k])

    ``inf`` when the curve never gets there (Krizhevsky et al.'s Fig. 1 measures ReLU against
    tanh this way: epochs to 25% training error).
    """
    values = [float(v) for v in curve]
    for k, value in enumerate(values):
        if value <= threshold:
            if k == 0:
                return 0.0
            before = values[k - 1]
            return k - 1 + (before - threshold) / (before - value)
    return float("inf")
