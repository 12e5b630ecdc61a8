"""The residual block (He, Zhang, Ren & Sun 2016): a few layers learn a *change* to their input.

    block = nn.Residual(nn.Linear(64, 64), nn.BatchNorm(64), nn.ReLU(), nn.Linear(64, 64))
    y = block.forward(x)                     # y = x + F(x): the same shape as x

Forward:  y = S(x) + F(x), where F is the chain of layers given and S is the shortcut: the
identity, or a layer that matches the shapes (a 1x1 convolution with stride 2 where a ResNet
halves the image and doubles the channels).  Backward:  dx = dS(dout) + dF(dout), i.e. with the
identity  dx = dout + F's backward of dout: the gradient reaches the input *unchanged* through
the shortcut, whatever F does to it, which is why stacks of residual blocks train at depths where
plain stacks of the same layers stall.
"""

from __future__ import annotations

from course_lib.nn.sequential import Sequential


class Residual(Sequential):
    """y = shortcut(x) + F(x);  F = the layers given, in order; ``shortcut=None``: identity."""

    def __init__(self, *layers, shortcut=None):
        super().__init__(*layers)
        self.shortcut = shortcut

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut.forward(x)
        out = super().forward(x)
        if out.shape != skip.shape:
            raise ValueError(
                f"a residual block's layers map {tuple(x.shape)} to {tuple(out.shape)} but its "
                f"shortcut gives {tuple(skip.shape)}: give a shortcut layer that matches the shapes"
            )
        return out + skip

    def backward(self, dout):
        dx = super().backward(dout)
        return dx + (dout if self.shortcut is None else self.shortcut.backward(dout))

    def _members(self):
        return self.layers + ([] if self.shortcut is None else [self.shortcut])

    @property
    def params(self):
        return [p for layer in self._members() for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self._members() for g in layer.grads]

    def slots(self):
        return [slot for layer in self._members() for slot in layer.slots()]

    def train(self, mode=True):
        super().train(mode)
        if self.shortcut is not None:
            self.shortcut.train(mode)
        return self

    def _named(self, method):
        named = super()._named(method)
        if self.shortcut is not None:
            named.update({f"shortcut.{k}": a for k, a in getattr(self.shortcut, method)().items()})
        return named
