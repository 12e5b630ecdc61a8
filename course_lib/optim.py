"""Optimizers.  Each updates ``params`` in place from ``grads`` (two parallel lists of arrays).

    opt = optim.Adam(model.params, model.grads, lr=1e-3)
    ...; model.backward(dout); opt.step()

The update rules are written exactly as torch.optim computes them (so the two agree step for
step); g is the gradient plus the weight-decay term when ``weight_decay > 0``:

    g = grad + weight_decay * w        (L2 regularisation, applied to every parameter given)

``lr`` is a plain attribute, so a schedule can change ``opt.lr`` between steps.
"""

from __future__ import annotations

from course_lib.backend import get_array_module


class Optimizer:
    """The shared loop: for each (w, grad) pair, form g and call ``update(i, w, g)``."""

    def __init__(self, params, grads, lr, weight_decay=0.0):
        self.params, self.grads = list(params), list(grads)
        if [p.shape for p in self.params] != [g.shape for g in self.grads]:
            raise ValueError("params and grads must be parallel lists of arrays of the same shapes")
        if len({id(p) for p in self.params}) < len(self.params):
            raise ValueError(
                "a parameter appears twice in params (a weight shared by two layers); "
                "train the model through its flat view, which adds up the gradients: "
                "flat = nn.FlatParams(model); optimizer([flat.theta], [flat.grad])"
            )
        self.lr, self.weight_decay = lr, weight_decay
        self.t = 0  # number of steps taken

    def zeros(self):
        """One zero array per parameter, for the optimizer's state."""
        return [get_array_module(p).zeros_like(p) for p in self.params]

    def step(self):
        self.t += 1
        for i, (w, grad) in enumerate(zip(self.params, self.grads)):
            g = grad + self.weight_decay * w if self.weight_decay else grad
            self.update(i, w, g)

    def update(self, i, w, g):
        raise NotImplementedError


class SGD(Optimizer):
    """w <- w - lr g."""

    def __init__(self, params, grads, lr=0.01, weight_decay=0.0):
        super().__init__(params, grads, lr, weight_decay)

    def update(self, i, w, g):
        w -= self.lr * g


class Momentum(Optimizer):
    """v <- mu v + g;  w <- w - lr v.

    The same as the textbook v <- mu v - lr g; w <- w + v while lr stays constant.
    """

    def __init__(self, params, grads, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, grads, lr, weight_decay)
        self.momentum, self.v = momentum, self.zeros()

    def update(self, i, w, g):
        v = self.v[i]
        v[...] = self.momentum * v + g
        w -= self.lr * v


class Nesterov(Momentum):
    """v <- mu v + g;  w <- w - lr (g + mu v).

    Nesterov's accelerated gradient (Sutskever et al. 2013) rewritten to need the gradient at
    the current weights only, not at the look-ahead point w - lr mu v.
    """

    def update(self, i, w, g):
        v = self.v[i]
        v[...] = self.momentum * v + g
        w -= self.lr * (g + self.momentum * v)


class AdaGrad(Optimizer):
    """h <- h + g^2;  w <- w - lr g / (sqrt(h) + eps)   (Duchi et al. 2011).

    Every weight gets its own step size, shrinking as its squared gradients add up.
    """

    def __init__(self, params, grads, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, grads, lr, weight_decay)
        self.eps, self.h = eps, self.zeros()

    def update(self, i, w, g):
        xp = get_array_module(w)
        h = self.h[i]
        h += g * g
        w -= self.lr * g / (xp.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """s <- alpha s + (1 - alpha) g^2;  w <- w - lr g / (sqrt(s) + eps)   (Tieleman & Hinton 2012).

    AdaGrad with a decaying average instead of a sum, so the step size does not go to zero.
    """

    def __init__(self, params, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, grads, lr, weight_decay)
        self.alpha, self.eps, self.s = alpha, eps, self.zeros()

    def update(self, i, w, g):
        xp = get_array_module(w)
        s = self.s[i]
        s[...] = self.alpha * s + (1 - self.alpha) * g * g
        w -= self.lr * g / (xp.sqrt(s) + self.eps)


class Adam(Optimizer):
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2   (Kingma & Ba 2015);

    w <- w - lr/(1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps),  the bias corrections undoing the
    zero start of m and v.  Weight decay here is L2 added to g, not AdamW's decoupled decay.
    """

    def __init__(self, params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, grads, lr, weight_decay)
        self.betas, self.eps = betas, eps
        self.m, self.v = self.zeros(), self.zeros()

    def update(self, i, w, g):
        xp = get_array_module(w)
        (b1, b2), m, v = self.betas, self.m[i], self.v[i]
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        w -= (self.lr / c1) * m / (xp.sqrt(v) / c2**0.5 + self.eps)


def clip_grad_norm(grads, max_norm: float) -> float:
    """Rescale ``grads`` in place so that their global norm is at most ``max_norm``.

    norm = sqrt(sum_i ||g_i||^2);  if norm > max_norm:  g_i <- g_i * max_norm / norm.
    Returns the norm before clipping (what torch.nn.utils.clip_grad_norm_ returns).  All the
    gradients shrink by the same factor, so the update keeps its direction; recurrent networks
    need it because one step of BPTT can now and then produce a gradient thousands of times
    larger than usual (Pascanu et al. 2013).
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = sum(float(g.ravel() @ g.ravel()) for g in grads) ** 0.5
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm
