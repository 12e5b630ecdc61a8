"""Training curves as TensorBoard event files: the standard format, written once, read anywhere.

    monitor.write_history("runs/lenet", history)    # every step's loss, every epoch's numbers
    curves = monitor.read_scalars("runs/lenet")     # {"train/loss": [(step, value), ...], ...}
    # in a terminal: tensorboard --logdir runs      # the same curves in a browser

Writing goes through ``torch.utils.tensorboard.SummaryWriter``; reading through TensorBoard's own
``EventAccumulator``, so a file this module writes is one TensorBoard reads, and the other way
round.  Values are stored as float32.
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path


def write_history(logdir, history, prefix: str = "") -> Path:
    """Write a :class:`course_lib.history.History`: ``{prefix}train/loss`` per step, and
    ``{prefix}epoch/<column>`` per epoch for every numeric column but ``epoch``."""
    from torch.utils.tensorboard import SummaryWriter

    logdir = Path(logdir)
    with SummaryWriter(log_dir=str(logdir)) as writer:
        for step, loss in enumerate(history.steps, start=1):
            writer.add_scalar(f"{prefix}train/loss", float(loss), step)
        for row in history.epochs:
            for name, value in row.items():
                if name != "epoch" and isinstance(value, Real):
                    writer.add_scalar(f"{prefix}epoch/{name}", float(value), int(row["epoch"]))
    return logdir


def read_scalars(logdir) -> dict:
    """Every scalar series in the event files under ``logdir``: tag -> [(step, value), ...]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = Path(logdir)
    if not logdir.is_dir() or not any(logdir.glob("events.out.tfevents.*")):
        raise FileNotFoundError(
            f"{logdir}: no TensorBoard event files (write some with write_history)"
        )
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
