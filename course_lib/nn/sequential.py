"""A container that chains layers: forward left to right, backward right to left."""

from __future__ import annotations

from course_lib.nn.layer import Layer


class Sequential(Layer):
    """y = f_k(... f_2(f_1(x)));   backward applies each layer's backward in reverse order.

    ``params``/``grads`` are flat lists of the layers' own arrays (not copies), so an optimizer
    built from them updates the layers in place.  ``train()``/``eval()`` set the mode of every
    layer (Dropout and BatchNorm read it).  A layer whose backward returns None (a first layer
    built with ``input_grad=False``) ends the backward pass there.

    After ``FlatParams(model)`` every parameter is a view into ``model.flat.theta``, and
    ``backward`` leaves the whole gradient in ``model.flat.grad`` (shared weights summed).
    """

    flat = None  # set by course_lib.nn.flat.FlatParams

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:
                break
        if self.flat is not None:
            self.flat.gather()
        return dout

    @property
    def params(self):
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    def slots(self):
        return [slot for layer in self.layers for slot in layer.slots()]

    def train(self, mode=True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def named_params(self):
        """{"0.W": W, "0.b": b, "2.W": ...}: layer index, then the layer's parameter name."""
        return self._named("named_params")

    def named_buffers(self):
        """State that is not learned but must be saved, e.g. {"1.running_mean": ...}."""
        return self._named("named_buffers")

    def _named(self, method):
        return {
            f"{i}.{name}": a
            for i, layer in enumerate(self.layers)
            for name, a in getattr(layer, method)().items()
        }
