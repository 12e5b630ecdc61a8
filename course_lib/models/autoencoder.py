"""Deep autoencoders and deep classifiers (Hinton & Salakhutdinov 2006), built from
``course_lib.nn``.

A :class:`DeepAutoencoder` is a stack of ``nn.Linear`` layers with logistic units,
``784-1000-500-250-30-250-500-1000-784``: the code layer is linear, the output layer gives logits
that ``nn.SigmoidCrossEntropy`` turns into the cross-entropy the paper trains on.  It can be
*unrolled* from pretrained layers (RBMs, or tied-weight autoencoders): the decoder starts from the
transposed encoder weights and the visible biases.

A :class:`DeepClassifier` (``784-500-500-2000-10``) has logistic hidden units and a softmax output
(``nn.SoftmaxCrossEntropy``).  Both keep their parameters as views into one flat vector
(``net.flat.theta``, see :class:`course_lib.nn.flat.FlatParams`), which conjugate gradients needs.
Train them with :func:`course_lib.train.fit` or :func:`course_lib.train.fit_cg`.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.nn import FlatParams, Linear, Sequential, Sigmoid, sigmoid, softmax


class FlatNet(Sequential):
    """Fully connected layers ``sizes[0] - sizes[1] - ...``, logistic where ``hidden[l]`` is
    ``"sigmoid"`` and linear where it is ``"linear"``, logits out; parameters in one flat vector.

    Parameter order: ``W_1, b_1, W_2, b_2, ...`` with ``W_l`` of shape ``(sizes[l-1], sizes[l])``.
    """

    def __init__(self, sizes, hidden, *, xp=np, dtype="float32"):
        if len(hidden) != len(sizes) - 2:
            raise ValueError(
                f"{len(sizes) - 1} layers need {len(sizes) - 2} hidden activations, "
                f"got {len(hidden)}"
            )
        if set(hidden) - {"sigmoid", "linear"}:
            raise ValueError(f"hidden activations must be 'sigmoid' or 'linear', got {hidden}")
        self.sizes, self.activations = list(sizes), list(hidden)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(
                Linear(n_in, n_out, weight_init="zeros", dtype=dtype, xp=xp, input_grad=i > 0)
            )
            if i < len(hidden) and hidden[i] == "sigmoid":
                layers.append(Sigmoid())
        super().__init__(*layers)
        FlatParams(self)

    @property
    def theta(self):
        """Every weight and bias, as one vector (the layers' arrays are views into it)."""
        return self.flat.theta

    @property
    def linears(self) -> list:
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    @property
    def weights(self) -> list:
        return [layer.W for layer in self.linears]

    @property
    def biases(self) -> list:
        return [layer.b for layer in self.linears]

    def set_params(self, arrays):
        """Copy ``[W_1, b_1, W_2, b_2, ...]`` (NumPy or CuPy arrays) into the parameters."""
        if len(arrays) != len(self.params):
            raise ValueError(f"expected {len(self.params)} arrays, got {len(arrays)}")
        xp = get_array_module(self.theta)
        for p, a in zip(self.params, arrays):
            if tuple(a.shape) != p.shape:
                raise ValueError(
                    f"shape {tuple(a.shape)} does not fit parameter of shape {p.shape}"
                )
            p[...] = xp.asarray(a, dtype=p.dtype)
        return self

    def init_random(self, seed: int = 0, scale: float = 0.1):
        """Weights ``scale * randn`` (drawn on the host, in parameter order), biases 0."""
        rng = np.random.default_rng(seed)
        return self.set_params(
            [
                scale * rng.standard_normal(p.shape) if p.ndim == 2 else np.zeros(p.shape)
                for p in self.params
            ]
        )

    def batched(self, fn, x, batch_size: int = 10000):
        """``fn`` applied to ``x`` in batches (on the parameters' device), results concatenated."""
        xp = get_array_module(self.theta)
        x = xp.asarray(x, dtype=self.theta.dtype)
        return xp.concatenate([fn(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


class DeepAutoencoder(FlatNet):
    """An encoder-decoder ``encoder_sizes -> code -> reversed(encoder_sizes)`` with logistic units.

    ``encoder_sizes = [784, 1000, 500, 250, 30]``; the code layer is linear when ``linear_code``
    (as in the paper); the output gives logits (train with ``nn.SigmoidCrossEntropy``).
    """

    def __init__(self, encoder_sizes, *, linear_code: bool = True, xp=np, dtype="float32"):
        k = len(encoder_sizes) - 1  # number of encoder layers
        sizes = list(encoder_sizes) + list(encoder_sizes[-2::-1])
        code = "linear" if linear_code else "sigmoid"
        super().__init__(
            sizes, ["sigmoid"] * (k - 1) + [code] + ["sigmoid"] * (k - 1), xp=xp, dtype=dtype
        )
        self.encoder_sizes, self.linear_code = list(encoder_sizes), linear_code
        self.encoder = self.layers[: 2 * k - (1 if linear_code else 0)]

    @classmethod
    def from_layers(cls, layers, *, linear_code: bool = True, xp=None, dtype=None):
        """Unroll pretrained layers ``[(W, b_hid, b_vis), ...]`` (bottom first).

        Encoder layer ``l`` gets ``(W_l, b_hid_l)``; the mirrored decoder layer ``(W_l^T,
        b_vis_l)``.
        """
        W0 = layers[0][0]
        xp = xp or get_array_module(W0)
        sizes = [W0.shape[0]] + [W.shape[1] for W, _, _ in layers]
        net = cls(sizes, linear_code=linear_code, xp=xp, dtype=dtype or W0.dtype)
        enc = [a for W, b_hid, _ in layers for a in (W, b_hid)]
        dec = [a for W, _, b_vis in reversed(layers) for a in (W.T, b_vis)]
        return net.set_params(enc + dec)

    @classmethod
    def from_rbms(cls, rbms, *, xp=None, dtype=None):
        """Unroll a pretrained RBM stack (see :func:`course_lib.models.rbm.pretrain_stack`)."""
        return cls.from_layers(
            [(r.W, r.b_hid, r.b_vis) for r in rbms],
            linear_code=rbms[-1].hidden == "linear",
            xp=xp,
            dtype=dtype,
        )

    def encode(self, x, batch_size: int = 10000):
        """The codes (the middle layer) of ``x``."""
        return self.batched(lambda xb: Sequential(*self.encoder).forward(xb), x, batch_size)

    def reconstruct(self, x, batch_size: int = 10000):
        """The logistic outputs: the reconstructions of ``x``, pixels in [0, 1]."""
        return self.batched(lambda xb: sigmoid(self.forward(xb)), x, batch_size)

    def squared_error(self, x, batch_size: int = 10000) -> float:
        """Squared reconstruction error summed over pixels, averaged over images (the paper's
        unit)."""
        x = get_array_module(self.theta).asarray(x, dtype=self.theta.dtype)
        total = sum(
            float(((xb - self.reconstruct(xb)) ** 2).sum())
            for xb in (x[i : i + batch_size] for i in range(0, len(x), batch_size))
        )
        return total / len(x)


class DeepClassifier(FlatNet):
    """Logistic hidden layers and a softmax output layer, e.g. 784-500-500-2000-10 (train with
    ``nn.SoftmaxCrossEntropy``)."""

    def __init__(self, sizes, *, xp=np, dtype="float32"):
        super().__init__(sizes, ["sigmoid"] * (len(sizes) - 2), xp=xp, dtype=dtype)

    @classmethod
    def from_rbms(
        cls, rbms, n_classes: int = 10, *, seed: int = 0, scale: float = 0.1, xp=None, dtype=None
    ):
        """Hidden layers from the RBMs' ``(W, b_hid)``; the output layer ``scale * randn``, biases
        0."""
        return cls.from_layers(
            [(r.W, r.b_hid) for r in rbms],
            n_classes,
            seed=seed,
            scale=scale,
            xp=xp or rbms[0].xp,
            dtype=dtype or rbms[0].dtype,
        )

    @classmethod
    def from_layers(
        cls, layers, n_classes: int = 10, *, seed: int = 0, scale: float = 0.1, xp=None, dtype=None
    ):
        """Hidden layers from pretrained ``[(W, b_hid, ...), ...]`` (bottom first; e.g. stacked
        (denoising) autoencoders' ``layer.as_tuple()``); the output layer as in
        :meth:`from_rbms`."""
        W0 = layers[0][0]
        sizes = [W0.shape[0]] + [layer[0].shape[1] for layer in layers] + [n_classes]
        net = cls(sizes, xp=xp or get_array_module(W0), dtype=dtype or W0.dtype)
        top = scale * np.random.default_rng(seed).standard_normal((sizes[-2], n_classes))
        return net.set_params(
            [a for layer in layers for a in layer[:2]] + [top, np.zeros(n_classes)]
        )

    def top_layer_mask(self):
        """Flat 0/1 mask selecting only the output layer's parameters (for ``grad_mask``)."""
        return self.flat.mask(self.layers[-1].params)

    def probabilities(self, x, batch_size: int = 10000):
        """Class probabilities, softmax of the output layer."""
        return self.batched(lambda xb: softmax(self.forward(xb)), x, batch_size)

    def error_rate(self, x, y) -> float:
        """Fraction of ``x`` whose most probable class is not ``y``."""
        pred = self.batched(self.forward, x).argmax(axis=1)
        return float((asnumpy(pred) != asnumpy(y)).mean())


def logistic_pca(
    n_in: int = 784, n_code: int = 30, *, seed: int = 0, scale: float = 0.01, xp=np, dtype="float32"
) -> DeepAutoencoder:
    """A single-layer autoencoder ``n_in - n_code (linear) - n_in (logistic)``, weights ``scale *
    randn``.

    Trained on cross-entropy, this is a linear encoder fitted jointly with a logistic PCA decoder (a
    Bernoulli exponential-family PCA whose codes are a linear function of the input): the one-layer
    counterpart of the deep autoencoder.
    """
    return DeepAutoencoder([n_in, n_code], linear_code=True, xp=xp, dtype=dtype).init_random(
        seed, scale
    )
