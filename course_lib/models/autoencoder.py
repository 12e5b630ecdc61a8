"""Deep autoencoders and classifiers on one flat parameter vector (Hinton & Salakhutdinov 2006).

A :class:`FlatNet` is a stack of fully connected layers ``a_l = act_l(a_{l-1} W_l + b_l)`` whose
weights and biases are *views* into a single 1-D array ``theta``.  That is what conjugate
gradients needs (a function ``f(theta) -> (loss, dloss/dtheta)``), and an optimizer that updates
``theta`` in place updates every layer at once.

Backward pass, layer by layer from the top (``z_l`` the pre-activation)::

    dW_l = a_{l-1}^T dz_l      db_l = sum_rows dz_l      da_{l-1} = dz_l W_l^T
    dz_{l-1} = da_{l-1} * a_{l-1} (1 - a_{l-1})    (sigmoid; linear layers pass da through)

Output losses, both averaged over the ``N`` cases of the batch and summed over output units:
``"bce"`` (logistic outputs, targets in [0, 1]): ``sum softplus(z) - y z``, ``dz = sigmoid(z) - y``;
``"softmax"`` (integer labels): ``-log softmax(z)_y``, ``dz = softmax(z) - onehot(y)``.

:class:`DeepAutoencoder` unrolls a stack of RBMs (or of one-layer autoencoders) into an
encoder-decoder: the decoder starts from the transposed encoder weights and the visible biases.
Fine-tuning is either the original conjugate gradients on 1,000-case batches (three line searches
per batch, :func:`finetune_cg`) or mini-batch SGD/Adam (:func:`finetune_minibatch`).
"""
from __future__ import annotations

import time

import numpy as np

from course_lib.backend import asnumpy
from course_lib.nn.activations import sigmoid, softplus

ACTIVATIONS = ("sigmoid", "linear")


class FlatNet:
    """Fully connected net on ``xp`` whose parameters are views into one flat vector ``theta``.

    ``sizes = [784, 1000, ..., 784]``; ``activations[l]`` for layer ``l`` (``"sigmoid"`` or
    ``"linear"``); the last layer's activation is implied by ``loss`` (logistic for ``"bce"``,
    softmax for ``"softmax"``).  Parameter order in ``theta``: ``W_1, b_1, W_2, b_2, ...``
    with ``W_l`` of shape ``(sizes[l-1], sizes[l])``.
    """

    def __init__(self, sizes, activations, *, loss: str = "bce", xp=np, dtype="float32"):
        if len(activations) != len(sizes) - 2:
            raise ValueError(f"{len(sizes) - 1} layers need {len(sizes) - 2} hidden activations, got {len(activations)}")
        for a in activations:
            if a not in ACTIVATIONS:
                raise ValueError(f"activation {a!r}: use one of {ACTIVATIONS}")
        if loss not in ("bce", "softmax"):
            raise ValueError(f"loss {loss!r}: use 'bce' or 'softmax'")
        self.sizes, self.activations, self.loss = list(sizes), list(activations), loss
        self.xp, self.dtype = xp, np.dtype(dtype)
        self.shapes = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            self.shapes += [(n_in, n_out), (n_out,)]
        self.size = sum(int(np.prod(s)) for s in self.shapes)
        self.theta = xp.zeros(self.size, dtype=self.dtype)
        self.params = self._views(self.theta)

    # ------------------------------------------------------------------ parameters
    def _views(self, flat):
        out, i = [], 0
        for s in self.shapes:
            n = int(np.prod(s))
            out.append(flat[i:i + n].reshape(s))
            i += n
        return out

    @property
    def weights(self):
        return self.params[0::2]

    @property
    def biases(self):
        return self.params[1::2]

    def set_params(self, arrays):
        """Copy ``[W_1, b_1, W_2, b_2, ...]`` (NumPy or ``xp`` arrays) into ``theta``."""
        if len(arrays) != len(self.params):
            raise ValueError(f"expected {len(self.params)} arrays, got {len(arrays)}")
        for p, a in zip(self.params, arrays):
            if tuple(a.shape) != p.shape:
                raise ValueError(f"shape {tuple(a.shape)} does not fit parameter of shape {p.shape}")
            p[...] = self.xp.asarray(a, dtype=self.dtype)
        return self

    def init_random(self, seed: int = 0, scale: float = 0.1):
        """Weights ``scale * randn`` (drawn on the host), biases 0."""
        rng = np.random.default_rng(seed)
        arrays = [(scale * rng.standard_normal(s)) if len(s) == 2 else np.zeros(s) for s in self.shapes]
        return self.set_params(arrays)

    def to_numpy(self):
        return [asnumpy(p) for p in self.params]

    # ------------------------------------------------------------------ forward / backward
    def _forward(self, x, params, upto=None):
        """Activations ``[x, a_1, ..., a_{L-1}, z_L]`` (the last one is the output pre-activation)."""
        xp = self.xp
        n_layers = len(self.sizes) - 1 if upto is None else upto
        acts = [x]
        for l in range(n_layers):
            z = acts[-1] @ params[2 * l] + params[2 * l + 1]
            if l < len(self.sizes) - 2:
                z = sigmoid(z, xp) if self.activations[l] == "sigmoid" else z
            acts.append(z)
        return acts

    def output(self, x, batch_size: int = 10000):
        """Network output: logistic probabilities (``"bce"``) or class probabilities (``"softmax"``)."""
        xp = self.xp
        x = xp.asarray(x, dtype=self.dtype)
        outs = []
        for i in range(0, x.shape[0], batch_size):
            z = self._forward(x[i:i + batch_size], self.params)[-1]
            if self.loss == "bce":
                outs.append(sigmoid(z, xp))
            else:
                e = xp.exp(z - z.max(axis=1, keepdims=True))
                outs.append(e / e.sum(axis=1, keepdims=True))
        return xp.concatenate(outs)

    def loss_and_grad(self, x, y=None, theta=None, *, grad_mask=None):
        """Loss (mean over cases) and its gradient as a flat array like ``theta``.

        ``y`` defaults to ``x`` (an autoencoder).  ``theta`` (optional) evaluates at another point
        without touching ``self.theta``.  ``grad_mask`` (optional flat 0/1 array) zeroes the
        gradient of frozen parameters.
        """
        xp = self.xp
        params = self.params if theta is None else self._views(theta)
        n = x.shape[0]
        acts = self._forward(x, params)
        z = acts[-1]
        if self.loss == "bce":
            y = x if y is None else y
            loss = (softplus(z, xp) - y * z).sum() / n
            dz = (sigmoid(z, xp) - y) / n
        else:
            zs = z - z.max(axis=1, keepdims=True)
            logp = zs - xp.log(xp.exp(zs).sum(axis=1, keepdims=True))
            rows = xp.arange(n)
            loss = -logp[rows, y].sum() / n
            dz = xp.exp(logp)
            dz[rows, y] -= 1
            dz /= n
        grad = xp.empty(self.size, dtype=self.dtype)
        gviews = self._views(grad)
        for l in range(len(self.sizes) - 2, -1, -1):
            a_prev = acts[l]
            gviews[2 * l][...] = a_prev.T @ dz
            gviews[2 * l + 1][...] = dz.sum(axis=0)
            if l > 0:
                da = dz @ params[2 * l].T
                dz = da * a_prev * (1 - a_prev) if self.activations[l - 1] == "sigmoid" else da
        if grad_mask is not None:
            grad *= grad_mask
        return loss, grad


class DeepAutoencoder(FlatNet):
    """An unrolled encoder-decoder ``sizes -> code -> reversed(sizes)`` with logistic outputs.

    ``encoder_sizes = [784, 1000, 500, 250, 30]``; hidden units are logistic except the code layer
    when ``linear_code`` (as in the paper).  Trained on cross-entropy (``loss="bce"``).
    """

    def __init__(self, encoder_sizes, *, linear_code: bool = True, xp=np, dtype="float32"):
        self.encoder_sizes = list(encoder_sizes)
        self.linear_code = linear_code
        k = len(encoder_sizes) - 1  # number of encoder layers
        sizes = list(encoder_sizes) + list(encoder_sizes[-2::-1])
        acts = ["sigmoid"] * (k - 1) + ["linear" if linear_code else "sigmoid"] + ["sigmoid"] * (k - 1)
        super().__init__(sizes, acts, loss="bce", xp=xp, dtype=dtype)

    @classmethod
    def from_layers(cls, layers, *, linear_code: bool = True, xp=np, dtype="float32"):
        """Unroll pretrained layers ``[(W, b_hid, b_vis), ...]`` (bottom first).

        Encoder layer ``l`` gets ``(W_l, b_hid_l)``; the mirrored decoder layer gets
        ``(W_l^T, b_vis_l)``.
        """
        sizes = [layers[0][0].shape[0]] + [W.shape[1] for W, _, _ in layers]
        net = cls(sizes, linear_code=linear_code, xp=xp, dtype=dtype)
        enc = [a for W, bh, _ in layers for a in (W, bh)]
        dec = [a for W, _, bv in reversed(layers) for a in (W.T, bv)]
        return net.set_params(enc + dec)

    @classmethod
    def from_rbms(cls, rbms, *, xp=None, dtype=None):
        """Unroll a pretrained RBM stack (see :func:`course_lib.models.rbm.pretrain_stack`)."""
        xp = xp or rbms[0].xp
        return cls.from_layers([(r.W, r.b_hid, r.b_vis) for r in rbms], linear_code=rbms[-1].hidden == "linear",
                               xp=xp, dtype=dtype or rbms[0].dtype)

    @property
    def n_encoder_layers(self) -> int:
        return len(self.encoder_sizes) - 1

    def encode(self, x, batch_size: int = 10000):
        """Codes (the middle layer) for ``x``."""
        xp = self.xp
        x = xp.asarray(x, dtype=self.dtype)
        return xp.concatenate([self._forward(x[i:i + batch_size], self.params, upto=self.n_encoder_layers)[-1]
                               for i in range(0, x.shape[0], batch_size)])

    def reconstruct(self, x, batch_size: int = 10000):
        return self.output(x, batch_size)

    def squared_error(self, x, batch_size: int = 10000) -> float:
        """Squared reconstruction error summed over pixels, averaged over images (the paper's unit)."""
        xp = self.xp
        x = xp.asarray(x, dtype=self.dtype)
        total = 0.0
        for i in range(0, x.shape[0], batch_size):
            xb = x[i:i + batch_size]
            total += float(((xb - self.output(xb)) ** 2).sum())
        return total / x.shape[0]


class DeepClassifier(FlatNet):
    """Logistic hidden layers plus a softmax output layer, e.g. 784-500-500-2000-10."""

    def __init__(self, sizes, *, xp=np, dtype="float32"):
        super().__init__(sizes, ["sigmoid"] * (len(sizes) - 2), loss="softmax", xp=xp, dtype=dtype)

    @classmethod
    def from_rbms(cls, rbms, n_classes: int = 10, *, seed: int = 0, scale: float = 0.1, xp=None, dtype=None):
        """Hidden layers from the RBMs' ``(W, b_hid)``; the output layer ``scale * randn``, biases 0."""
        xp = xp or rbms[0].xp
        sizes = [rbms[0].n_vis] + [r.n_hid for r in rbms] + [n_classes]
        net = cls(sizes, xp=xp, dtype=dtype or rbms[0].dtype)
        top = (scale * np.random.default_rng(seed).standard_normal((sizes[-2], n_classes)), np.zeros(n_classes))
        return net.set_params([a for r in rbms for a in (r.W, r.b_hid)] + list(top))

    def top_layer_mask(self):
        """Flat 0/1 mask selecting only the output layer's parameters."""
        mask = self.xp.zeros(self.size, dtype=self.dtype)
        mv = self._views(mask)
        mv[-1][...] = 1
        mv[-2][...] = 1
        return mask

    def error_rate(self, x, y) -> float:
        xp = self.xp
        pred = self.output(x).argmax(axis=1)
        return float((pred != xp.asarray(y)).mean())


# ---------------------------------------------------------------------- fine-tuning
def cg_minimize(f, x0, *, line_searches: int = 3):
    """Nonlinear conjugate gradients on the host: ``line_searches`` iterations of SciPy's CG
    (Polak-Ribiere directions, Wolfe line search) on ``f(theta) -> (loss, grad)``, both float64.

    Returns ``(theta, loss, n_function_evaluations)``.
    """
    from scipy.optimize import minimize

    res = minimize(f, x0, jac=True, method="CG", options={"maxiter": line_searches, "gtol": 0.0})
    return res.x, float(res.fun), int(res.nfev)


def _batches(n, batch_size, order=None):
    idx = np.arange(n) if order is None else order
    return [idx[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)] or [idx]


def finetune_cg(net: FlatNet, x, y=None, *, epochs: int = 1, batch_size: int = 1000, line_searches: int = 3,
                seed: int = 0, grad_mask_epochs: int = 0, grad_mask=None, evaluate=None, verbose: bool = False):
    """Fine-tune ``net`` by conjugate gradients on ``batch_size``-case batches (the original recipe).

    Each epoch visits a fresh random permutation of the data in batches of ``batch_size``; on each
    batch, ``line_searches`` CG iterations run from the current parameters.  ``grad_mask`` is applied
    during the first ``grad_mask_epochs`` epochs (the classifier's top-layer-only warm-up).
    ``evaluate(net) -> dict`` (optional) is called after each epoch and its values join the history.
    The loss is evaluated on ``xp`` in ``net.dtype``; CG itself runs on the host in float64.
    """
    xp = net.xp
    x = xp.asarray(x, dtype=net.dtype)
    y_xp = None if y is None else xp.asarray(y)
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        mask = grad_mask if (grad_mask is not None and epoch < grad_mask_epochs) else None
        losses, nfev = [], 0
        for idx in _batches(x.shape[0], batch_size, rng.permutation(x.shape[0])):
            ii = xp.asarray(idx)
            xb = x[ii]
            yb = None if y_xp is None else y_xp[ii]

            def f(theta64, xb=xb, yb=yb, mask=mask):
                loss, grad = net.loss_and_grad(xb, yb, xp.asarray(theta64, dtype=net.dtype), grad_mask=mask)
                return float(loss), asnumpy(grad).astype(np.float64)

            theta, loss, k = cg_minimize(f, asnumpy(net.theta).astype(np.float64), line_searches=line_searches)
            net.theta[...] = xp.asarray(theta, dtype=net.dtype)
            losses.append(loss)
            nfev += k
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "nfev": nfev,
               "seconds": time.perf_counter() - t0}
        _end_epoch(history, row, net, evaluate, verbose, "CG")
    return history


def _end_epoch(history, row, net, evaluate, verbose, label):
    """Add ``evaluate(net)``'s numbers to an epoch's row, keep it, and print it if ``verbose``."""
    if evaluate is not None:
        row.update(evaluate(net))
    history.append(row)
    if verbose:
        print(f"  {label} epoch " + "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


def finetune_minibatch(net: FlatNet, x, y=None, *, epochs: int = 1, batch_size: int = 100, optimizer: str = "adam",
                       lr: float = 1e-3, momentum: float = 0.9, seed: int = 0, shuffle: bool = True,
                       grad_mask_epochs: int = 0, grad_mask=None, evaluate=None, stop=None, verbose: bool = False):
    """Fine-tune ``net`` by mini-batch gradient descent on ``theta``.

    ``optimizer``: ``"sgd"`` (``theta -= lr g``, the in-place update the speed benchmark times),
    or ``"momentum"`` / ``"adam"`` from :mod:`course_lib.optim` acting on the flat vector.
    Batches are consecutive slices of a fresh permutation each epoch (``shuffle=False``: of the data
    in order); an incomplete last batch is dropped.  ``grad_mask`` and ``evaluate`` as in
    :func:`finetune_cg`; ``stop(net, row) -> bool`` (optional, e.g. an
    :class:`~course_lib.early_stopping.EarlyStopping`) ends training after the epoch it says so.
    """
    xp = net.xp
    x = xp.asarray(x, dtype=net.dtype)
    y_xp = None if y is None else xp.asarray(y)
    rng = np.random.default_rng(seed)
    grad_buf = xp.zeros_like(net.theta)
    if optimizer == "sgd":
        opt = None
    else:
        from course_lib import optim

        if optimizer == "adam":
            opt = optim.Adam([net.theta], [grad_buf], lr=lr)
        elif optimizer == "momentum":
            opt = optim.Momentum([net.theta], [grad_buf], lr=lr, momentum=momentum)
        else:
            raise ValueError(f"optimizer {optimizer!r}: use 'sgd', 'momentum' or 'adam'")
    history = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(x.shape[0]) if shuffle else None
        total, nb = 0.0, 0
        mask = grad_mask if (grad_mask is not None and epoch < grad_mask_epochs) else None
        for idx in _batches(x.shape[0], batch_size, order):
            if order is None:
                xb = x[int(idx[0]):int(idx[-1]) + 1]
                yb = None if y_xp is None else y_xp[int(idx[0]):int(idx[-1]) + 1]
            else:
                ii = xp.asarray(idx)
                xb = x[ii]
                yb = None if y_xp is None else y_xp[ii]
            loss, grad = net.loss_and_grad(xb, yb, grad_mask=mask)
            if opt is None:
                net.theta -= lr * grad
            else:
                grad_buf[...] = grad
                opt.step()
            total = total + loss
            nb += 1
        row = {"epoch": epoch + 1, "train_loss": float(total) / nb, "seconds": time.perf_counter() - t0}
        _end_epoch(history, row, net, evaluate, verbose, "minibatch")
        if stop is not None and stop(net, row):
            break
    return history


# ---------------------------------------------------------------------- baselines
def pca_squared_error(x_train, x_test, n_components: int = 30, seed: int = 0):
    """PCA baseline: ``(squared error per test image, fitted sklearn PCA)``."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=seed).fit(asnumpy(x_train))
    xt = asnumpy(x_test)
    rec = pca.inverse_transform(pca.transform(xt))
    return float(((xt - rec) ** 2).sum() / xt.shape[0]), pca


def mean_image_squared_error(x_train, x_test) -> float:
    """Squared error per test image of always answering the mean training image."""
    xt = asnumpy(x_test)
    return float(((xt - asnumpy(x_train).mean(axis=0)) ** 2).sum() / xt.shape[0])


def logistic_pca(n_in: int = 784, n_code: int = 30, *, seed: int = 0, scale: float = 0.01, xp=np, dtype="float32"):
    """A single-layer autoencoder ``n_in - n_code (linear) - n_in (logistic)`` trained on cross-entropy.

    With a linear code and logistic outputs this is a linear encoder fitted jointly with a logistic
    PCA decoder (a Bernoulli exponential-family PCA whose codes are constrained to be a linear
    function of the input); it is the one-layer counterpart of the deep autoencoder.
    """
    return DeepAutoencoder([n_in, n_code], linear_code=True, xp=xp, dtype=dtype).init_random(seed, scale)
