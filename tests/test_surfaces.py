"""Loss surfaces and optimizer paths: gradients against torch autograd and central differences,
every optimizer's path against torch.optim's, odd shapes, and the two ways of writing momentum."""

import numpy as np
import pytest
import torch

from course_lib import optim, surfaces
from course_lib.gradcheck import rel_error

PAIRS = {  # name: (ours, torch's, keyword arguments for both, torch-only extras)
    "SGD": (optim.SGD, torch.optim.SGD, dict(lr=1e-3), {}),
    "momentum": (optim.Momentum, torch.optim.SGD, dict(lr=1e-3, momentum=0.9), {}),
    "Nesterov": (optim.Nesterov, torch.optim.SGD, dict(lr=1e-3, momentum=0.9), {"nesterov": True}),
    "AdaGrad": (optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.3), {}),
    "RMSProp": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9), {}),
    "Adam": (optim.Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.9, 0.99)), {}),
}


def numeric_grad(f, w, h=1e-6):
    return np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(2)])


TORCH_LOSSES = [  # the same two surfaces written in torch, for autograd
    (surfaces.quadratic([1.0, 30.0]), lambda t: 0.5 * (t**2 * torch.tensor([1.0, 30.0])).sum()),
    (surfaces.rosenbrock(), lambda t: (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2),
]


@pytest.mark.parametrize("surface, torch_loss", TORCH_LOSSES, ids=["quadratic", "rosenbrock"])
def test_gradients_match_differences_and_autograd(surface, torch_loss):
    f, grad = surface
    for w in np.random.default_rng(0).uniform(-1.5, 1.5, (5, 2)):
        assert rel_error(grad(w), numeric_grad(f, w)) < 1e-6
        t = torch.tensor(w, requires_grad=True)
        torch_loss(t).backward()
        assert rel_error(grad(w), t.grad.numpy()) < 1e-12
        assert abs(f(w) - torch_loss(t).item()) < 1e-12


def test_surfaces_take_a_grid_of_points():
    f, _ = surfaces.rosenbrock()
    xs = np.stack(np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4)), axis=-1)
    assert f(xs).shape == (4, 5) and f([1.0, 1.0]) == 0.0


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_path_matches_torch_optim_on_rosenbrock(name, weight_decay):
    ours, theirs, kw, extra = PAIRS[name]
    _, grad = surfaces.rosenbrock()
    mine = surfaces.trajectory(
        lambda w, g: ours(w, g, weight_decay=weight_decay, **kw), grad, [-1.2, 1.0], 40
    )
    ref = surfaces.torch_trajectory(
        lambda p: theirs(p, weight_decay=weight_decay, **kw, **extra), grad, [-1.2, 1.0], 40
    )
    assert mine.shape == (41, 2) and np.abs(mine - ref).max() < 1e-10
    assert np.abs(mine[-1] - mine[0]).max() > 1e-3  # it moved


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("shape", [(), (1,), (7,), (2, 3, 5), (1, 1, 4, 1)])
def test_odd_shapes_and_many_steps_match_torch(name, shape):
    ours, theirs, kw, extra = PAIRS[name]
    rng = np.random.default_rng(len(shape))
    w = np.asarray(rng.standard_normal(shape))
    g = np.zeros_like(w)
    t = torch.tensor(w.copy(), requires_grad=True)
    opt, topt = (
        ours([w], [g], weight_decay=0.01, **kw),
        theirs([t], weight_decay=0.01, **kw, **extra),
    )
    for _ in range(25):
        g[...] = np.sin(3 * w) + 0.1 * rng.standard_normal(shape)
        t.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    assert np.abs(w - t.detach().numpy()).max() < 1e-12


def test_two_ways_of_writing_momentum_agree_while_lr_is_constant():
    """optim.Momentum: v <- mu v + g, w <- w - lr v;  the exercise: v <- mu v - lr g, w <- w + v.
    The second velocity is -lr times the first; after a change of lr they part."""
    f, grad = surfaces.quadratic([1.0, 10.0])
    lr, mu = 0.05, 0.9
    w_lib, g = np.array([1.0, 1.0]), np.zeros(2)
    opt = optim.Momentum([w_lib], [g], lr=lr, momentum=mu)
    w, v = np.array([1.0, 1.0]), np.zeros(2)
    for step in range(60):
        if step == 30:
            opt.lr = lr = 0.02
        g[...] = grad(w_lib)
        opt.step()
        v = mu * v - lr * grad(w)
        w = w + v
        if step < 30:
            assert np.abs(w - w_lib).max() < 1e-14
    assert np.abs(w - w_lib).max() > 1e-6


def test_bad_input_is_refused():
    f, grad = surfaces.quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        surfaces.quadratic([1.0, -1.0])
    with pytest.raises(ValueError, match="point"):
        surfaces.trajectory(lambda w, g: optim.SGD(w, g), grad, [1.0, 2.0, 3.0], 3)
    with pytest.raises(ValueError, match="steps"):
        surfaces.trajectory(lambda w, g: optim.SGD(w, g), grad, [1.0, 2.0], 0)


def test_gradient_descent_is_stable_only_below_two_over_the_largest_curvature():
    _, grad = surfaces.quadratic([1.0, 20.0])
    stable = surfaces.trajectory(lambda w, g: optim.SGD(w, g, lr=0.095), grad, [1.0, 1.0], 200)
    unstable = surfaces.trajectory(lambda w, g: optim.SGD(w, g, lr=0.101), grad, [1.0, 1.0], 200)
    assert np.abs(stable[-1]).max() < 1e-3 and np.abs(unstable[-1, 1]) > 1.0


def test_rotated_bowl_has_the_same_curvatures_and_mixes_the_axes():
    f, grad = surfaces.quadratic([1.0, 25.0], angle=np.pi / 6)
    hessian = np.array([grad(e) for e in np.eye(2)]).T
    assert np.allclose(np.linalg.eigvalsh(hessian), [1.0, 25.0])
    assert abs(hessian[0, 1]) > 1.0
    w = np.array([0.3, -0.7])
    assert rel_error(grad(w), numeric_grad(f, w)) < 1e-6


def test_best_trajectory_picks_the_lowest_end_and_skips_divergence():
    f, grad = surfaces.quadratic([1.0, 20.0])
    lr, path = surfaces.best_trajectory(
        lambda w, g, lr: optim.SGD(w, g, lr=lr), f, grad, [1.0, 1.0], 50, [1e-3, 0.09, 0.5]
    )
    assert lr == 0.09 and path.shape == (51, 2) and f(path[-1]) < 1e-3
    with pytest.raises(ValueError, match="diverged"):
        surfaces.best_trajectory(
            lambda w, g, lr: optim.SGD(w, g, lr=lr), f, grad, [1.0, 1.0], 400, [5.0]
        )
