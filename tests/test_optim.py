"""Each optimizer against torch.optim: same weights, same gradients, several steps."""

import numpy as np
import pytest
import torch

from course_lib import optim
from course_lib.gradcheck import rel_error

CASES = [  # (ours, torch's, shared keyword arguments, torch-only extras)
    (optim.SGD, torch.optim.SGD, dict(lr=0.1), {}),
    (optim.Momentum, torch.optim.SGD, dict(lr=0.05, momentum=0.9), {}),
    (optim.Nesterov, torch.optim.SGD, dict(lr=0.05, momentum=0.8), dict(nesterov=True)),
    (optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, eps=1e-10), {}),
    (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8), {}),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8), {}),
]


@pytest.mark.parametrize("ours, theirs, kwargs, extra", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_matches_torch_optim(ours, theirs, kwargs, extra, weight_decay):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 5)), rng.standard_normal(5)]
    grads = [np.zeros_like(p) for p in params]
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    opt = ours(params, grads, weight_decay=weight_decay, **kwargs)
    topt = theirs(tparams, weight_decay=weight_decay, **kwargs, **extra)
    for _ in range(6):
        for g, tp in zip(grads, tparams):
            g[...] = rng.standard_normal(g.shape)  # written in place, as backward() does
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            assert rel_error(p, tp.detach()) < 1e-12


def test_defaults_match_the_documented_api():
    w = [np.zeros(2)]
    g = [np.ones(2)]
    assert optim.Adam(w, g).lr == 1e-3 and optim.Adam(w, g).betas == (0.9, 0.999)
    assert optim.Momentum(w, g).momentum == 0.9 and optim.RMSProp(w, g).alpha == 0.99


def test_updates_in_place_and_keeps_dtype():
    w = np.ones(4, dtype="float32")
    opt = optim.Adam([w], [np.full(4, 0.5, dtype="float32")], lr=0.1, weight_decay=0.01)
    opt.step()
    assert w.dtype == np.float32 and np.allclose(w, 0.9)  # Adam's first step is lr * sign(g)
    assert opt.t == 1


def test_rejects_mismatched_lists():
    with pytest.raises(ValueError):
        optim.SGD([np.zeros(3)], [np.zeros(4)])


def test_sgd_minimises_a_quadratic():
    w = np.array([3.0, -2.0])
    grad = np.zeros(2)
    opt = optim.Nesterov([w], [grad], lr=0.1)
    for _ in range(200):
        grad[...] = w  # d/dw of |w|^2 / 2
        opt.step()
    assert np.abs(w).max() < 1e-6
