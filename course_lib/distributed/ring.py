"""Ring and tree all-reduce, simulated over N workers in one process, and their cost models.

Ring (Patarasuk & Yuan 2009; Baidu 2017; Horovod): cut each worker's vector of n numbers into N
chunks.  *Reduce-scatter*: in each of N-1 steps worker i sends one chunk to worker i+1, which adds
it to its own; afterwards worker i holds the full sum of chunk i+1.  *All-gather*: N-1 more steps
pass the finished chunks round the ring.  Every worker sends 2(N-1) chunks, 2(N-1)/N of the
vector, whatever N is:

    T_ring = 2(N-1) alpha + 2 (N-1)/N n beta        (alpha: latency of a message, beta: s/byte)

Tree (binomial): in round d = 0, 1, ... worker i with i mod 2^(d+1) = 2^d sends its whole
partial sum to worker i - 2^d; after ceil(log2 N) rounds worker 0 holds the sum and sends it back
down the same tree:

    T_tree = 2 ceil(log2 N) (alpha + n beta)

Both take ``vectors`` (one 1-D array per worker) and return ``(results, bytes_sent)``: what each
worker holds at the end (all equal to the sum) and the bytes each worker sent.
"""

from __future__ import annotations

import math

import numpy as np


def _check(vectors) -> list[np.ndarray]:
    """The workers' vectors as 1-D arrays of one length, else a ValueError saying what is wrong."""
    vectors = [np.asarray(v) for v in vectors]
    if not vectors:
        raise ValueError("no workers: pass one 1-D array per worker, e.g. [np.ones(5)] * 3")
    shapes = {v.shape for v in vectors}
    if len(shapes) > 1 or vectors[0].ndim != 1:
        raise ValueError(f"every worker needs a 1-D vector of one length; got shapes {shapes}")
    return vectors


def chunks(n: int, workers: int) -> list[slice]:
    """``workers`` contiguous slices covering range(n), sizes differing by at most one."""
    edges = np.linspace(0, n, workers + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def ring_allreduce(vectors) -> tuple[list[np.ndarray], np.ndarray]:
    """Sum by reduce-scatter then all-gather round a ring; every send of a step happens at once
    (each message is taken before any worker adds what it received)."""
    data = [v.copy() for v in _check(vectors)]
    world, parts = len(data), chunks(len(data[0]), len(data))
    sent = np.zeros(world, dtype=np.int64)
    for phase in ("reduce-scatter", "all-gather"):
        for step in range(world - 1):
            shift = step if phase == "reduce-scatter" else step - 1
            messages = []
            for i in range(world):  # worker i sends chunk i - shift to worker i + 1
                part = parts[(i - shift) % world]
                messages.append((part, data[i][part].copy()))
                sent[i] += data[i][part].nbytes
            for i, (part, values) in enumerate(messages):
                receiver = data[(i + 1) % world]
                if phase == "reduce-scatter":
                    receiver[part] += values
                else:
                    receiver[part] = values
    return data, sent


def tree_allreduce(vectors) -> tuple[list[np.ndarray], np.ndarray]:
    """Sum up a binomial tree to worker 0 (ceil(log2 N) rounds), then broadcast down it."""
    data = [v.copy() for v in _check(vectors)]
    world = len(data)
    sent = np.zeros(world, dtype=np.int64)
    rounds = [1 << d for d in range(math.ceil(math.log2(world)))] if world > 1 else []
    for gap in rounds:  # reduce: i -> i - gap
        for i in range(gap, world, 2 * gap):
            data[i - gap] += data[i]
            sent[i] += data[i].nbytes
    for gap in reversed(rounds):  # broadcast: i - gap -> i
        for i in range(gap, world, 2 * gap):
            data[i] = data[i - gap].copy()
            sent[i - gap] += data[i].nbytes
    return data, sent


def ring_time(n_bytes, workers, alpha: float, beta: float):
    """T_ring = 2(N-1) alpha + 2 (N-1)/N n beta (seconds; n in bytes, beta in s/byte)."""
    workers = np.asarray(workers, dtype=float)
    return 2 * (workers - 1) * alpha + 2 * (workers - 1) / workers * np.asarray(n_bytes) * beta


def tree_time(n_bytes, workers, alpha: float, beta: float):
    """T_tree = 2 ceil(log2 N) (alpha + n beta)."""
    depth = np.ceil(np.log2(np.asarray(workers, dtype=float)))
    return 2 * depth * (alpha + np.asarray(n_bytes) * beta)


def fit_alpha_beta(n_bytes, workers, seconds) -> tuple[float, float]:
    """(alpha, beta) of the ring model fitted to measured all-reduce times.  The model is linear
    in them, T = a alpha + b beta with a = 2(N-1), b = 2(N-1)/N n; least squares on the relative
    error (each row divided by its T), so small and large messages count alike; both >= 0."""
    n_bytes, workers = np.asarray(n_bytes, float), np.asarray(workers, float)
    seconds = np.asarray(seconds, float)
    if not (n_bytes.shape == workers.shape == seconds.shape) or n_bytes.size < 2:
        raise ValueError("give at least two measurements, n_bytes, workers, seconds of one length")
    if np.any(workers < 2) or np.any(seconds <= 0):
        raise ValueError(f"workers must be >= 2 and seconds > 0; got {workers}, {seconds}")
    design = np.stack([2 * (workers - 1), 2 * (workers - 1) / workers * n_bytes], axis=1)
    design = design / seconds[:, None]
    scale = design.max(axis=0)  # columns of very different sizes: solve in scaled units
    coef, *_ = np.linalg.lstsq(design / scale, np.ones_like(seconds), rcond=None)
    alpha, beta = np.maximum(coef / scale, 0.0)
    return float(alpha), float(beta)
