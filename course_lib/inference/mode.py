"""Training mode and inference mode: the switch that dropout and batch norm obey.

Training, dropout keeps each unit with probability 1 - p (y = x m / (1 - p), m random) and
batch norm normalises by the batch's own mean and variance.  At inference both must be fixed
functions: dropout the identity, batch norm its running averages.  A model left in training mode
answers differently on every call, and one image's answer depends on the images beside it.

    problems = inference_problems(model, x)     # [] when model(x) is a fixed function of each row
    check_inference(model, x)                  # raises ValueError naming the layers still training

``model`` is a course_lib model (``forward``, ``train``/``eval``) or a ``torch.nn.Module``.
"""

from __future__ import annotations

import sys

import numpy as np

from course_lib.backend import asnumpy

MODE_DEPENDENT = ("Dropout", "BatchNorm")  # class-name stems whose forward depends on the mode


def _is_torch(model) -> bool:
    torch = sys.modules.get("torch")  # a torch model means torch is loaded already
    return torch is not None and isinstance(model, torch.nn.Module)


def _forward(model, x) -> np.ndarray:
    if _is_torch(model):
        import torch

        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(x))).cpu().numpy()
    return asnumpy(model.forward(x))


def _sublayers(model, prefix=""):
    """(name, layer) for ``model`` and every layer nested in it (``.layers`` lists)."""
    if _is_torch(model):
        yield from model.named_modules()
        return
    yield prefix or type(model).__name__, model
    for i, layer in enumerate(getattr(model, "layers", ()) or ()):
        yield from _sublayers(layer, f"{prefix}{'.' if prefix else ''}{i}")


def training_layers(model) -> list[str]:
    """Names of the dropout and batch-norm layers of ``model`` that are in training mode."""
    return [
        f"{name or 'model'} ({type(layer).__name__})"
        for name, layer in _sublayers(model)
        if getattr(layer, "training", False)
        and any(stem in c.__name__ for c in type(layer).__mro__ for stem in MODE_DEPENDENT)
    ]


def inference_problems(model, x, *, rtol=1e-4, atol=1e-5) -> list[str]:
    """What keeps ``model`` from being a fixed function of each input row (empty: nothing).

    Two checks on ``x`` (at least two rows): two calls give the same output (no random masks),
    and row 0 alone gives the output it gets inside the batch (no batch statistics).  Outputs
    are compared with ``np.allclose(rtol, atol * max|y|)``: a BLAS may round a batch of one
    differently from a larger batch."""
    if len(x) < 2:
        raise ValueError(f"inference_problems needs at least 2 input rows, got {len(x)}")
    first, second = _forward(model, x), _forward(model, x)
    scale = atol * max(float(np.abs(first).max()), 1.0)
    problems = []
    if not np.allclose(first, second, rtol=rtol, atol=scale):
        worst = float(np.abs(first - second).max())
        problems.append(f"two calls on the same input differ (by up to {worst:.3g}): dropout on?")
    try:
        alone = _forward(model, x[:1])
    except (ValueError, RuntimeError) as err:  # batch norm refuses a batch of one when training
        problems.append(f"row 0 alone cannot be run ({err})")
    else:
        if not np.allclose(alone, first[:1], rtol=rtol, atol=scale):
            problems.append("row 0's output changes with the rest of its batch: batch statistics?")
    if problems and training_layers(model):
        problems.append(f"in training mode: {', '.join(training_layers(model))}; call model.eval()")
    return problems


def check_inference(model, x) -> None:
    """Raise ValueError if ``model`` is not a fixed function of each row of ``x``."""
    problems = inference_problems(model, x)
    if problems:
        raise ValueError("the model is not ready for inference: " + "; ".join(problems))
