"""One AlexNet training step on each backend: the from-scratch NumPy (or CuPy) layers with
:class:`course_lib.optim.Momentum`, or their torch twin with autograd and ``torch.optim.SGD``.

Timed by :mod:`experiments.bench_alexnet`; a step is forward, softmax cross-entropy, backward and a
momentum-SGD update (lr 0.01, momentum 0.9) of every parameter.
"""

from __future__ import annotations

import numpy as np

from course_lib.backend import gpu_missing

NETS = ("alexnet", "seed")
BACKENDS = ("numpy", "torch-cpu", "cupy", "torch-cuda")
GPU_BACKENDS = ("cupy", "torch-cuda")
DTYPES = ("float32", "float64")
LR, MOMENTUM = 0.01, 0.9


VARIANTS = ("tf32", "bf16", "cl", "compile")  # after "torch-...:", joined by "+"


def split_backend(backend: str) -> tuple[str, tuple[str, ...]]:
    """``"torch-cuda:bf16+cl"`` -> ("torch-cuda", ("bf16", "cl")): a torch backend's variants.

    ``tf32``: float32 products and convolutions on TF32 tensor cores (off otherwise: plain
    ``torch-cuda`` is IEEE float32); ``bf16``: autocast to bfloat16; ``cl``: channels-last
    memory format; ``compile``: ``torch.compile`` of the network."""
    base, _, flags = backend.partition(":")
    return base, tuple(f for f in flags.split("+") if f)


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or ``None`` when it can."""
    backend, variants = split_backend(backend)
    if backend not in BACKENDS:
        return f"unknown backend (choose from {', '.join(BACKENDS)})"
    if variants and (not backend.startswith("torch") or set(variants) - set(VARIANTS)):
        return f"variants {'+'.join(variants)}: torch backends only, from {', '.join(VARIANTS)}"
    return gpu_missing(backend)


def build_net(name: str, *, in_size=227, width=1.0, dtype="float32", seed=0, xp=np):
    """The network ``name`` ("alexnet" or "seed") for 3-channel ``in_size`` images, paper init."""
    from course_lib.models.alexnet import AlexNet, SeedNet

    if name == "alexnet":
        net = AlexNet(in_size=in_size, width=width, rng=seed, dtype=dtype, xp=xp)
    elif name == "seed":
        net = SeedNet(in_size=in_size, rng=seed, dtype=dtype, xp=xp)
    else:
        raise ValueError(f"unknown net {name!r}: choose from {', '.join(NETS)}")
    return net.init_paper(seed)


def random_batch(net, batch: int, dtype: str, seed: int):
    """Random images (standard normal) and labels for ``net``: the step time ignores the values."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, net.in_channels, net.in_size, net.in_size)).astype(dtype)
    return x, rng.integers(0, net.n_classes, batch)


def numpy_step(net, x, y):
    """A function running one training step of ``net`` on (x, y) with our layers and Momentum."""
    from course_lib import nn, optim

    loss = nn.SoftmaxCrossEntropy()
    opt = optim.Momentum(net.params, net.grads, lr=LR, momentum=MOMENTUM)
    net.train()

    def step():
        value = loss.forward(net.forward(x), y)
        net.backward(loss.backward())
        opt.step()
        return float(value)

    return step


def torch_step(net, x, y, device="cpu", variants=(), compile_backend="inductor"):
    """The same step on the torch twin of ``net`` (same weights and dtype), by autograd, with
    the ``variants`` of :func:`split_backend`; ``compile_backend`` is ``torch.compile``'s
    (``"aot_eager"`` traces the same graphs without generating code: a cheap smoke test)."""
    import torch
    import torch.nn.functional as F

    from course_lib.twins.layers import to_torch

    set_tf32("tf32" in variants)
    twin = to_torch(net, device=device).train()
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    if "cl" in variants:
        twin, xt = (
            twin.to(memory_format=torch.channels_last),
            xt.contiguous(memory_format=torch.channels_last),
        )
    opt = torch.optim.SGD(twin.parameters(), lr=LR, momentum=MOMENTUM)
    model = torch.compile(twin, backend=compile_backend) if "compile" in variants else twin
    autocast = torch.autocast(xt.device.type, torch.bfloat16, enabled="bf16" in variants)

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast:
            value = F.cross_entropy(model(xt), yt)
        value.backward()
        opt.step()
        return float(value.detach())

    return step


def set_tf32(on: bool) -> None:
    """TF32 tensor cores for float32 products and convolutions on or off (torch's default:
    off for products, on for cuDNN convolutions, which would make "float32" partly TF32)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
