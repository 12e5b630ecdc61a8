"""GPU kernels written by hand with ``numba.cuda``: the execution model, four kernels deep.

A CUDA kernel is one function run by many threads at once.  Threads come in *blocks* (up to
1,024 threads, which share fast on-chip *shared memory* and can wait for each other at a
``syncthreads`` barrier); blocks come in a *grid*, which the hardware spreads over its
streaming multiprocessors (SMs: 132 on the H100 SXM5, by NVIDIA's *H100 Tensor Core GPU
Architecture* whitepaper, 2022; the device's own count is
``numba.cuda.get_current_device().MULTIPROCESSOR_COUNT``).  A block runs as *warps* of 32
threads that execute one instruction together.  Each thread finds its work from its indices:

    i = blockIdx.x * blockDim.x + threadIdx.x        (cuda.grid(1))

the same thing seed 001 wrote as aparapi's ``getGlobalId()``.  The kernels here:

* :func:`vector_add` - ``out = x + y`` with a *grid-stride loop*: thread i handles elements
  i, i + G, i + 2G, ... (G threads in the grid), so any grid covers any length, and neighbouring
  threads touch neighbouring addresses (*coalesced* memory access: one warp, one transaction).
* :func:`matmul_naive` - C = A B with one thread per element of C, reading a row of A and a
  column of B from global memory: 2K loads per 2K flops (neighbouring threads take
  neighbouring columns, so a warp's loads of B are coalesced and of A one broadcast number).
* :func:`matmul_tiled` - the same with TILE x TILE blocks that first copy a tile of A and of B
  into shared memory, wait, and multiply from there: each number loaded from global memory is
  used TILE times, so the arithmetic intensity grows TILE-fold.
* :func:`block_sum` - a reduction: each block adds its part in shared memory by halving
  (256 -> 128 -> ... -> 1, a barrier between steps) and adds its partial sum into the result
  atomically.

Without an NVIDIA GPU, numba's CUDA *simulator* (``NUMBA_ENABLE_CUDASIM=1``, set by
:func:`use_simulator` before numba is imported) runs the same kernels on the CPU, one Python
thread per CUDA thread: slow, but exact, so small inputs check the indexing.  Each function
takes NumPy arrays (or, on a GPU, CuPy/numba device arrays) and returns a NumPy array.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from course_lib.backend import gpu_available

TILE = 16  # shared-memory tile side of matmul_tiled (TILE x TILE threads per block)
BLOCK = 256  # threads per block of the 1-D kernels (a power of two: block_sum halves it)


def use_simulator() -> bool:
    """Run kernels in numba's CUDA simulator unless a real GPU can be used; True if simulated.

    Must run before numba is first imported (the simulator is chosen at import time)."""
    if "numba" not in sys.modules and not gpu_available():
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    return simulated()


def simulated() -> bool:
    """True when numba.cuda is the CPU simulator."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _cuda():
    import numpy

    if not hasattr(numpy, "row_stack"):  # removed in NumPy 2.5; numba-cuda 0.2x still names it
        numpy.row_stack = numpy.vstack  # noqa: NPY201 - restoring the name numba-cuda uses
    from numba import cuda

    return cuda


_compiled: dict = {}
cuda = None  # numba.cuda, imported by _kernels (the simulator swaps this global in kernels)


def _kernels() -> dict:
    """The four kernels, compiled (lazily: importing this module needs no numba)."""
    global cuda
    if _compiled:
        return _compiled
    cuda = _cuda()
    from numba import float32 as f32

    _compiled.update(_vector_kernels(f32), **_matmul_kernels(f32))
    return _compiled


def _vector_kernels(f32) -> dict:
    """The 1-D kernels: the grid-stride add and the block sum (``cuda`` already imported)."""

    @cuda.jit
    def add_kernel(x, y, out):
        start, stride = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, x.shape[0], stride):  # grid-stride loop
            out[i] = x[i] + y[i]

    @cuda.jit
    def sum_kernel(x, total):
        part = cuda.shared.array(BLOCK, dtype=f32)
        tid = cuda.threadIdx.x
        acc = f32(0.0)
        for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
            acc += x[i]
        part[tid] = acc
        cuda.syncthreads()
        half = BLOCK // 2
        while half > 0:  # tree reduction in shared memory
            if tid < half:
                part[tid] += part[tid + half]
            cuda.syncthreads()
            half //= 2
        if tid == 0:
            cuda.atomic.add(total, 0, part[0])

    return {"add": add_kernel, "sum": sum_kernel}


def _matmul_kernels(f32) -> dict:
    """The two matrix products, C = A B: naive and tiled (``cuda`` already imported)."""

    @cuda.jit
    def naive_kernel(a, b, c):
        col, row = cuda.grid(2)  # x (the fastest-varying thread index) runs along a row of C
        if row < c.shape[0] and col < c.shape[1]:
            acc = f32(0.0)
            for k in range(a.shape[1]):
                acc += a[row, k] * b[k, col]
            c[row, col] = acc

    @cuda.jit
    def tiled_kernel(a, b, c):
        sa = cuda.shared.array((TILE, TILE), dtype=f32)
        sb = cuda.shared.array((TILE, TILE), dtype=f32)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        acc = f32(0.0)
        for t in range((a.shape[1] + TILE - 1) // TILE):
            k = t * TILE
            # each thread copies one number of each tile (zero beyond the matrix's edge)
            sa[ty, tx] = a[row, k + tx] if row < a.shape[0] and k + tx < a.shape[1] else 0.0
            sb[ty, tx] = b[k + ty, col] if k + ty < b.shape[0] and col < b.shape[1] else 0.0
            cuda.syncthreads()  # the whole tile is loaded before anyone reads it
            for j in range(TILE):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()  # everyone is done with the tile before it is overwritten
        if row < c.shape[0] and col < c.shape[1]:
            c[row, col] = acc

    return {"naive": naive_kernel, "tiled": tiled_kernel}


def _float32_matrix(a, name: str):
    if a.ndim != 2 or str(a.dtype) != "float32":
        raise ValueError(
            f"{name}: a 2-D float32 array is needed, got {a.ndim}-D {a.dtype}; "
            "use np.asarray(a, dtype=np.float32)"
        )
    return a


def _on_device(a):
    """``a`` as something a kernel can take: device arrays as they are, NumPy copied over."""
    cuda = _cuda()
    return a if hasattr(a, "__cuda_array_interface__") else cuda.to_device(np.ascontiguousarray(a))


def grid_1d(n: int, blocks: int | None = None) -> tuple[int, int]:
    """(blocks, threads per block) for n elements: enough blocks for one element per thread,
    or ``blocks`` (a grid-stride loop covers the rest)."""
    return (blocks or max(1, math.ceil(n / BLOCK))), BLOCK


def vector_add(x, y, *, blocks: int | None = None, sync=True):
    """x + y (1-D float32, same length) by :data:`BLOCK`-thread blocks; ``blocks`` smaller
    than n / BLOCK makes each thread loop over several elements."""
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"vector_add: two 1-D arrays of one length needed, got {x.shape}, {y.shape}"
        )
    k = _kernels()["add"]
    dx, dy = _on_device(x), _on_device(y)
    out = _cuda().device_array(x.shape, dtype=np.float32)
    k[grid_1d(x.shape[0], blocks)](dx, dy, out)
    return _finish(out, sync)


def matmul_naive(a, b, *, sync=True):
    """A @ B, one thread per element of the result, every operand read from global memory."""
    return _matmul("naive", a, b, sync)


def matmul_tiled(a, b, *, sync=True):
    """A @ B through TILE x TILE tiles in shared memory (each loaded number used TILE times)."""
    return _matmul("tiled", a, b, sync)


def _matmul(which: str, a, b, sync):
    a, b = _float32_matrix(a, "a"), _float32_matrix(b, "b")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: inner sizes differ, {a.shape} @ {b.shape}")
    m, n = a.shape[0], b.shape[1]
    c = _cuda().device_array((m, n), dtype=np.float32)
    grid = (math.ceil(n / TILE), math.ceil(m / TILE))  # x: columns of C, y: rows
    _kernels()[which][grid, (TILE, TILE)](_on_device(a), _on_device(b), c)
    return _finish(c, sync)


def block_sum(x, *, blocks: int | None = None, sync=True):
    """The sum of a 1-D float32 array: a tree reduction per block, then one atomic add per
    block (float32 accumulation, in an order that varies from run to run on a GPU)."""
    if x.ndim != 1 or str(x.dtype) != "float32":
        raise ValueError(f"block_sum: a 1-D float32 array is needed, got {x.ndim}-D {x.dtype}")
    total = _cuda().to_device(np.zeros(1, dtype=np.float32))
    _kernels()["sum"][grid_1d(x.shape[0], blocks)](_on_device(x), total)
    return _finish(total, sync)[0]


def _finish(out, sync):
    """The result on the host (``sync``), or left on the device for timing."""
    return out.copy_to_host() if sync else out
