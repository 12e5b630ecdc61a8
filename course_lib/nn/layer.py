"""What every layer has in common: parameters, their gradients, and a training/eval mode.

A layer keeps each learned array in an attribute named in ``param_names`` (``W``, ``b``) and its
gradient in the attribute of the same name with a ``d`` in front (``dW``, ``db``), which
``backward`` overwrites.  ``params`` and ``grads`` list them in the same order, so an optimizer
built from the two lists updates the layer in place::

    layer.forward(x); layer.backward(dout)
    for w, g in zip(layer.params, layer.grads): w -= lr * g
"""

from __future__ import annotations


class Layer:
    """Base class: ``forward(x)``, ``backward(dout)``, ``params``/``grads``,
    ``train()``/``eval()``."""

    param_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()  # state that is saved but not learned (running statistics)
    training = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    @property
    def params(self) -> list:
        return [getattr(self, name) for name in self.param_names]

    @property
    def grads(self) -> list:
        return [getattr(self, "d" + name) for name in self.param_names]

    def slots(self):
        """``(owner, name)`` of every parameter, in ``params`` order: where a flat view rebinds
        it."""
        return [(self, name) for name in self.param_names]

    def named_params(self) -> dict:
        return {name: getattr(self, name) for name in self.param_names}

    def named_buffers(self) -> dict:
        return {name: getattr(self, name) for name in self.buffer_names}

    def train(self, mode: bool = True):
        """Training mode (``mode=True``) or evaluation mode; Dropout and BatchNorm read it."""
        self.training = mode
        return self

    def eval(self):
        return self.train(False)


class Composite(Layer):
    """A layer made of other layers.  ``layers`` lists them in forward order (those without
    parameters too, so ``train()`` reaches Dropout); ``params``, ``grads`` and ``slots`` are
    theirs, concatenated in that order.  ``PARTS`` names the attributes that hold parameters, for
    ``named_params`` (``"attn.Wo"``)."""

    PARTS: tuple[str, ...] = ()

    @property
    def layers(self) -> list:
        return [getattr(self, part) for part in self.PARTS]

    @property
    def params(self) -> list:
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list:
        return [g for layer in self.layers for g in layer.grads]

    def slots(self):
        return [s for layer in self.layers for s in layer.slots()]

    def named_params(self) -> dict:
        return {
            f"{part}.{name}": p
            for part in self.PARTS
            for name, p in getattr(self, part).named_params().items()
        }

    def train(self, mode: bool = True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self
