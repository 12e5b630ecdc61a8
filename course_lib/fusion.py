"""Kernel fusion: a chain of elementwise operations done in one pass over memory instead of one
pass per operation.

    y = fusion.gelu_steps(x)                  # eager: 9 operations, 9 trips through memory
    fused = fusion.compiled(fusion.gelu_steps) # torch.compile: one generated loop (C++ or Triton)
    step = fusion.torch_compile(step)          # torch.compile, without a misleading CUDA notice
    fusion.bytes_moved(x.numel(), 4)          # {"eager_bytes": 21 x 4n, "fused_bytes": 2 x 4n}

The example is the tanh approximation of GELU, written one torch operation per line,

    gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))

Run eagerly, every line is its own kernel: it reads its inputs from memory and writes its result
back, so the chain moves 21 arrays of n numbers (:data:`EAGER_TRAFFIC`), while doing only nine
operations per number.  Fused, the chain reads x once and writes y once: 2 arrays.  Elementwise
work sits on the memory slope of the roofline, so fewer bytes is directly less time.
"""

from __future__ import annotations

import logging
import math

# (arrays read, arrays written) by each line of gelu_steps, in order (x * x reads one array)
EAGER_TRAFFIC = [(1, 1), (2, 1), (1, 1), (2, 1), (1, 1), (1, 1), (1, 1), (2, 1), (1, 1)]
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu_steps(x):
    """tanh-GELU, one elementwise torch operation per line."""
    import torch

    cube = x * x
    cube = cube * x
    inner = cube * 0.044715
    inner = inner + x
    inner = inner * SQRT_2_OVER_PI
    t = torch.tanh(inner)
    t = t + 1.0
    y = x * t
    return y * 0.5


def bytes_moved(n: int, itemsize: int) -> dict:
    """Bytes the chain moves eagerly (every operation's reads and writes) and fused (x in, y
    out)."""
    arrays = sum(r + w for r, w in EAGER_TRAFFIC)
    return {
        "eager_bytes": arrays * n * itemsize,
        "fused_bytes": 2 * n * itemsize,
        "operations": 9 * n,
    }


def compiled(f):
    """``torch.compile(f)``: TorchInductor generates one fused loop, C++/OpenMP on the CPU (this
    needs a C++ compiler) and Triton on a GPU.  The first call compiles (seconds); the length is
    left symbolic (``dynamic=True``), so one compiled kernel serves every array length."""
    return torch_compile(f, dynamic=True)


CUDA_HOME_NOTICE = "No CUDA runtime is found"


def _drop_cuda_home_notice(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(CUDA_HOME_NOTICE)


def quiet_cuda_home_notice() -> None:
    """Import ``torch.utils.cpp_extension`` with one log line dropped: a CUDA build of torch on a
    machine without a GPU, where a CUDA toolkit is installed, logs "No CUDA runtime is found,
    using CUDA_HOME=..." on that import (``torch.compile`` makes it).  Code for the CPU never
    uses that toolkit, so the line only alarms (in JupyterLab, a red stderr box); every other
    message of that logger still shows."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    if _drop_cuda_home_notice not in logger.filters:
        logger.addFilter(_drop_cuda_home_notice)
    import torch.utils.cpp_extension  # noqa: F401  (logs the notice, if at all, on import)


def torch_compile(f, **options):
    """``torch.compile(f, **options)`` after :func:`quiet_cuda_home_notice`."""
    import torch

    quiet_cuda_home_notice()
    return torch.compile(f, **options)
