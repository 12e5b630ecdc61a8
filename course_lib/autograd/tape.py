"""The cost of the tape: how many operations a graph recorded, and how many bytes of arrays it
keeps alive until the output is dropped (or backward is done with it).

Each node keeps its output array (a later rule may read it) and what it saved.  Arrays are
counted by the memory they own, so a reshape or a transpose, a view of its input, costs nothing;
the leaves (weights, the data batch) and constants are not counted: they live without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.autograd.tensor import Tensor, topological_order


@dataclass(frozen=True)
class TapeSize:
    nodes: int  # operations recorded
    bytes: int  # memory of the arrays they keep alive (leaves excluded)


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` is a view of (itself if it is no view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _arrays_in(saved):
    for item in saved:
        if isinstance(item, np.ndarray):
            yield item
        elif isinstance(item, tuple):
            yield from _arrays_in(item)


def tape_size(*outputs: Tensor) -> TapeSize:
    """Nodes and bytes of the tape behind ``outputs`` (0 and 0 under no_grad)."""
    order = topological_order(outputs)
    nodes = [t for t in order if not t.is_leaf]
    leaf_memory = {id(_owner(t.data)) for t in order if t.is_leaf}
    kept = {}
    for node in nodes:
        for array in (node.data, *_arrays_in(node._saved)):
            owner = _owner(array)
            if id(owner) not in leaf_memory:
                kept[id(owner)] = owner.nbytes
    return TapeSize(nodes=len(nodes), bytes=sum(kept.values()))
