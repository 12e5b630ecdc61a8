"""Two-dimensional loss surfaces, and the path an optimizer takes across one.

    f, grad = surfaces.quadratic([1.0, 20.0])      # an elongated bowl, condition number 20
    path = surfaces.trajectory(lambda w, g: optim.Adam(w, g, lr=0.1), grad, [-2.0, 1.0], 50)
    path.shape                                     # (51, 2): the start, then one row per step

The same function with a ``torch.optim`` class, :func:`torch_trajectory`, moves a torch tensor
by the same gradients, so a from-scratch optimizer can be held to torch's step for step.
``f`` takes points on the last axis (``f(np.stack([X, Y], -1))`` for a contour grid).
"""

from __future__ import annotations

import numpy as np


def quadratic(curvatures, angle: float = 0.0):
    """L(w) = 1/2 w^T A w,  dL/dw = A w,  A = R diag(a) R^T with R a rotation by ``angle`` radians.

    The condition number max(a) / min(a) says how elongated the bowl is: gradient descent must keep
    lr < 2 / max(a) to stay stable along the steep axis, and then crawls along the shallow one.
    With ``angle = 0`` the axes of the bowl are the coordinates, which per-weight step sizes
    (AdaGrad, RMSProp, Adam) can undo; a rotated bowl mixes them.
    """
    a = np.asarray(curvatures, dtype=float)
    if a.shape != (2,) or not np.all(a > 0):
        raise ValueError(f"curvatures must be two positive numbers, got {curvatures!r}")
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    hessian = rot @ np.diag(a) @ rot.T

    def f(w):
        w = np.asarray(w)
        return 0.5 * np.einsum("...i,ij,...j->...", w, hessian, w)

    return f, (lambda w: hessian @ w)


def rosenbrock(a: float = 1.0, b: float = 100.0):
    """L(x, y) = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2)   (Rosenbrock 1960).

    dL/dx = -2 (a - x) - 4 b x (y - x^2),  dL/dy = 2 b (y - x^2): a curved, narrow valley.
    """

    def f(w):
        w = np.asarray(w)
        x, y = w[..., 0], w[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(w):
        x, y = w[0], w[1]
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    return f, grad


def _start(w0) -> np.ndarray:
    w = np.array(w0, dtype=float)
    if w.shape != (2,):
        raise ValueError(f"the start must be a point (x, y), got {w0!r}")
    return w


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")


def trajectory(make_optimizer, grad, w0, steps: int) -> np.ndarray:
    """The points visited by ``make_optimizer([w], [g])`` (a :mod:`course_lib.optim` optimizer)
    in ``steps`` steps from ``w0``, the gradient written into ``g`` before each step."""
    _check_steps(steps)
    w = _start(w0)
    g = np.zeros_like(w)
    opt = make_optimizer([w], [g])
    path = [w.copy()]
    for _ in range(steps):
        g[...] = grad(w)
        opt.step()
        path.append(w.copy())
    return np.array(path)


def torch_trajectory(make_optimizer, grad, w0, steps: int) -> np.ndarray:
    """The same for ``make_optimizer([p])``, a ``torch.optim`` optimizer on a float64 tensor."""
    import torch

    _check_steps(steps)
    p = torch.tensor(_start(w0), requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def best_trajectory(make_optimizer, f, grad, w0, steps: int, lrs):
    """The path of ``make_optimizer(w, g, lr)`` that ends lowest on ``f`` over the learning rates
    ``lrs`` (a diverging one counts as infinitely bad); returns ``(lr, path)``."""
    best = (np.inf, None, None)
    with np.errstate(all="ignore"):  # a learning rate that diverges overflows on purpose
        for lr in lrs:
            path = trajectory(lambda w, g, lr=lr: make_optimizer(w, g, lr), grad, w0, steps)
            end = f(path[-1])
            if np.isfinite(end) and end < best[0]:
                best = (end, lr, path)
    if best[1] is None:
        raise ValueError(f"every learning rate in {list(lrs)} diverged")
    return best[1], best[2]
