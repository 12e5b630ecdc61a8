"""Branches side by side: GoogLeNet's Inception block (Szegedy et al. 2015).

    block = nn.Concat(
        nn.Sequential(nn.Conv2d(192, 64, 1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(192, 96, 1), nn.ReLU(), nn.Conv2d(96, 128, 3, padding=1)),
        ...)
    y = block.forward(x)        # every branch sees x; their outputs are stacked along the channels

Forward:  y = [F_1(x), F_2(x), ..., F_k(x)] along axis 1 (the branches must keep the image size).
Backward: dout is cut back into the branches' channel ranges and  dx = sum_k F_k.backward(dout_k):
the input fed every branch, so its gradient is the sum of theirs.
"""

from __future__ import annotations

from course_lib.backend import get_array_module
from course_lib.nn.layer import Layer


class Concat(Layer):
    """y = concatenate([branch(x) for branch in branches], axis=1)."""

    def __init__(self, *branches):
        if not branches:
            raise ValueError("Concat needs at least one branch")
        self.branches = list(branches)

    def forward(self, x):
        outs = [b.forward(x) for b in self.branches]
        sizes = {tuple(o.shape[:1] + o.shape[2:]) for o in outs}
        if len(sizes) > 1:
            shapes = [tuple(o.shape) for o in outs]
            raise ValueError(
                f"the branches' outputs differ in more than their channels: {shapes}; "
                "pad the convolutions so every branch keeps the image size"
            )
        self.channels = [o.shape[1] for o in outs]
        return get_array_module(outs[0]).concatenate(outs, axis=1)

    def backward(self, dout):
        dx, start = None, 0
        for b, c in zip(self.branches, self.channels):
            d = b.backward(dout[:, start : start + c])
            dx = d if dx is None else dx + d
            start += c
        return dx

    @property
    def params(self):
        return [p for b in self.branches for p in b.params]

    @property
    def grads(self):
        return [g for b in self.branches for g in b.grads]

    def slots(self):
        return [slot for b in self.branches for slot in b.slots()]

    def train(self, mode=True):
        self.training = mode
        for b in self.branches:
            b.train(mode)
        return self

    def named_params(self):
        return {
            f"{i}.{k}": a for i, b in enumerate(self.branches) for k, a in b.named_params().items()
        }

    def named_buffers(self):
        return {
            f"{i}.{k}": a for i, b in enumerate(self.branches) for k, a in b.named_buffers().items()
        }
