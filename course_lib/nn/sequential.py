"""A container that chains layers: forward left to right, backward right to left."""
from __future__ import annotations


class Sequential:
    """y = f_k(... f_2(f_1(x)));   backward applies each layer's backward in reverse order.

    ``params``/``grads`` are flat lists of the layers' own arrays (not copies), so an optimizer
    built from them updates the layers in place.  ``train()``/``eval()`` set ``training`` on
    every layer (Dropout and BatchNorm read it).
    """

    def __init__(self, *layers):
        self.layers = list(layers)
        self.training = True

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def params(self):
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    def train(self, mode=True):
        self.training = mode
        for layer in self.layers:
            if hasattr(layer, "train"):
                layer.train(mode)
            else:
                layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    def named_params(self):
        """{"0.W": W, "0.b": b, "2.W": ...}: layer index, then the layer's parameter name."""
        return self._named("params", "param_names", "named_params")

    def named_buffers(self):
        """State that is not learned but must be saved, e.g. {"1.running_mean": ...}."""
        return self._named(None, "buffer_names", "named_buffers")

    def _named(self, attr, names_attr, nested):
        out = {}
        for i, layer in enumerate(self.layers):
            if hasattr(layer, nested):
                items = getattr(layer, nested)().items()
            else:
                names = getattr(layer, names_attr, ())
                arrays = getattr(layer, attr) if attr else [getattr(layer, n) for n in names]
                items = zip(names or map(str, range(len(arrays))), arrays)
            out.update({f"{i}.{name}": a for name, a in items})
        return out
