"""Magnitude pruning (Han, Pool, Tran & Dally 2015): drop the smallest weights, retrain the rest.

    weights = prune.weights_of(model)                 # {"0.W": W, "2.W": ...}: biases stay
    masks = prune.magnitude_masks(weights, keep={"0.W": 0.08, "2.W": 0.09, "4.W": 0.26})
    prune.apply(weights, masks)                       # W <- W * M
    opt = prune.Masked(optim.SGD(model.params, model.grads, lr=0.01), weights, masks)
    train.fit(model, loss, opt, x, y)                 # pruned weights stay exactly zero

A weight survives when |w| is among the largest ``keep`` fraction of its layer.  (Han et al. cut
at ``quality x std`` of each layer; a fraction kept per layer is the same rule, with the paper's
per-layer result as the knob.)  Pruning in rounds, retraining after each, loses less accuracy
than pruning to the end at once: :func:`schedule` gives the fractions.
"""

from __future__ import annotations

from course_lib.backend import asnumpy, get_array_module


def weights_of(model) -> dict:
    """Name -> weight array of every layer that has one (``W`` of Linear and Conv2d)."""
    weights = {name: w for name, w in model.named_params().items() if name.endswith(".W")}
    if not weights:
        raise ValueError("the model has no layer with a weight W to prune")
    return weights


def grads_of(model) -> dict:
    """Name -> gradient array of each weight in :func:`weights_of` (filled by backward)."""
    grads = dict(zip(model.named_params(), model.grads))
    return {name: grads[name] for name in weights_of(model)}


def _check_keep(keep: float, name: str) -> float:
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"{name}: keep must be a fraction in (0, 1], got {keep!r}")
    return float(keep)


def magnitude_mask(w, keep: float, name: str = "weight"):
    """A 0/1 array like ``w``: 1 on the ``round(keep * w.size)`` weights largest in magnitude."""
    xp = get_array_module(w)
    n_keep = max(1, round(_check_keep(keep, name) * w.size))
    order = xp.argsort(xp.abs(w).ravel())  # ascending: the first size - n_keep are dropped
    mask = xp.ones(w.size, dtype=w.dtype)
    mask[order[: w.size - n_keep]] = 0
    return mask.reshape(w.shape)


def magnitude_masks(weights: dict, keep) -> dict:
    """One mask per weight; ``keep`` is one fraction for all, or a dict name -> fraction."""
    if not isinstance(keep, dict):
        keep = dict.fromkeys(weights, keep)
    missing = sorted(set(weights) - set(keep))
    unknown = sorted(set(keep) - set(weights))
    if missing or unknown:
        raise ValueError(
            f"keep must name every weight {sorted(weights)}: missing {missing}, unknown {unknown}"
        )
    return {name: magnitude_mask(w, keep[name], name) for name, w in weights.items()}


def apply(weights: dict, masks: dict) -> None:
    """Zero the pruned weights in place: W <- W * M."""
    for name, w in weights.items():
        w *= masks[name]


def schedule(keep: float, rounds: int) -> list[float]:
    """Fractions kept after each of ``rounds`` rounds, falling geometrically to ``keep``."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    return [_check_keep(keep, "schedule") ** (r / rounds) for r in range(1, rounds + 1)]


def kept(masks: dict) -> dict:
    """Name -> (weights kept, weights in all) for each mask."""
    return {name: (int(asnumpy(m).sum()), int(m.size)) for name, m in masks.items()}


class Masked:
    """An optimizer that never revives a pruned weight: the gradient is masked before the step
    (no momentum or Adam state builds up there) and the weight re-zeroed after it (no weight
    decay term either).  ``lr`` is the wrapped optimizer's."""

    def __init__(self, optimizer, weights: dict, masks: dict):
        index = {id(p): i for i, p in enumerate(optimizer.params)}
        absent = [name for name, w in weights.items() if id(w) not in index]
        if absent:
            raise ValueError(
                f"{absent} are not among the optimizer's parameters: build the optimizer from "
                "model.params / model.grads after pruning, then wrap it"
            )
        self.optimizer = optimizer
        self.pairs = [
            (w, optimizer.grads[index[id(w)]], masks[name]) for name, w in weights.items()
        ]

    def step(self):
        for _, grad, mask in self.pairs:
            grad *= mask
        self.optimizer.step()
        for w, _, mask in self.pairs:
            w *= mask

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):  # a schedule's knob reaches the wrapped optimizer
        self.optimizer.lr = value
