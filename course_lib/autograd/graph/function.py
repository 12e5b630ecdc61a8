"""``compile(outputs, inputs)``: the graph optimised once, then run as a list of kernels.

    f = compile([loss, *gradients(loss, params)], [x, y, *params])
    loss_value, *grads = f(x_batch, y_batch, *param_arrays)      # as many times as needed
    print(f.stats)        # 41 ops as built -> 20 kernels per call (5 fused groups)
    print(f.describe())   # the program, and the source of every fused kernel

The program is a list of steps; each reads values from numbered slots and writes one slot.
A slot is emptied after its last reader, so memory holds only what is still needed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from course_lib.autograd.graph.checks import match_inputs
from course_lib.autograd.graph.kernels import FusedKernel
from course_lib.autograd.graph.nodes import OPS, Node, topological_order
from course_lib.autograd.graph.passes import (
    eliminate_common_subexpressions,
    fold_constants,
    fusion_groups,
)


@dataclass(frozen=True)
class CompileStats:
    """Graph sizes before and after compiling.  ``ops`` count operations (not placeholders or
    constants); a kernel is one step per call: an operation outside any fusion group, or a
    whole fused group."""

    nodes_built: int
    ops_built: int
    nodes_optimised: int
    ops_optimised: int
    kernels_per_call: int
    fused_groups: int
    ops_fused: int

    def __str__(self):
        return (
            f"{self.ops_built} ops as built -> {self.ops_optimised} after folding and CSE -> "
            f"{self.kernels_per_call} kernels per call ({self.fused_groups} fused groups "
            f"holding {self.ops_fused} ops)"
        )


@dataclass
class Step:
    fn: object
    args: tuple[int, ...]
    out: int
    label: str
    free: tuple[int, ...] = ()


def _count(order) -> tuple[int, int]:
    ops = sum(1 for n in order if n.op not in ("placeholder", "const"))
    return len(order), ops


def _check_graph(outputs, inputs):
    for node in [*outputs, *inputs]:
        if not isinstance(node, Node):
            raise TypeError(f"compile takes graph nodes, got {type(node).__name__}")
    for x in inputs:
        if x.op != "placeholder":
            raise TypeError(f"compile: the inputs must be placeholders, got {x!r}")
    if len({id(x) for x in inputs}) != len(inputs):
        raise ValueError("compile: a placeholder is listed twice among the inputs")
    if len({x.name for x in inputs}) != len(inputs):
        raise ValueError("compile: two inputs have the same name; give each placeholder its own")
    given = {id(x) for x in inputs}
    for node in topological_order(outputs):
        if node.op == "placeholder" and id(node) not in given:
            raise ValueError(
                f"compile: the outputs depend on placeholder {node.name!r}, which is not among "
                "the inputs; add it to inputs="
            )


def compile(outputs, inputs, *, fold_constants=True, fuse="numpy", cse=True):
    """A ``Function`` computing ``outputs`` (a node or a list of nodes) from ``inputs`` (the
    placeholders, in the order ``f`` takes their arrays).  ``fuse``: ``"numpy"`` (or True),
    ``"numba"`` or False."""
    single = isinstance(outputs, Node)
    outputs, inputs = ([outputs] if single else list(outputs)), list(inputs)
    _check_graph(outputs, inputs)
    fuse = "numpy" if fuse is True else fuse
    if fuse not in ("numpy", "numba", False, None):
        raise ValueError(f"fuse={fuse!r}: choose 'numpy', 'numba' or False")
    built = _count(topological_order(outputs))
    optimised = outputs
    if fold_constants:
        optimised = _fold(optimised)
    if cse:
        optimised = eliminate_common_subexpressions(optimised)
    return Function(optimised, inputs, built, fuse or None, single)


_fold = fold_constants  # the module function, shadowed by compile's keyword argument


class Function:
    """The compiled graph: ``f(*arrays)`` or ``f(x=..., w=...)`` -> list of NumPy arrays (one
    array when ``compile`` was given one output node)."""

    def __init__(self, outputs, inputs, built, fuse, single):
        self.inputs, self.outputs, self.single = inputs, outputs, single
        order = topological_order(outputs)
        groups = fusion_groups(outputs) if fuse else {}
        self.kernels = [FusedKernel(g, fuse) for g in groups.values() if len(g) > 1]
        self._build_program(order, {id(k.root): k for k in self.kernels})
        self.stats = CompileStats(
            *built,
            *_count(order),
            kernels_per_call=len(self.steps),
            fused_groups=len(self.kernels),
            ops_fused=sum(len(k.nodes) for k in self.kernels),
        )

    def _build_program(self, order, kernel_at):
        """One step per operation, in order; a fused group's nodes are one step, at its root."""
        slot = {id(n): k for k, n in enumerate(order)}
        fused = {id(n) for k in self.kernels for n in k.nodes[:-1]}
        self.constants = {slot[id(n)]: n.value for n in order if n.op == "const"}
        self.steps = []
        for n in order:
            if n.op in ("placeholder", "const") or id(n) in fused:
                continue
            if id(n) in kernel_at:
                k = kernel_at[id(n)]
                step = Step(k, tuple(slot[id(a)] for a in k.args), slot[id(n)], k.formula)
            else:
                fn = functools.partial(OPS[n.op].forward, **n.params) if n.params else None
                fn = fn or OPS[n.op].forward
                step = Step(fn, tuple(slot[id(i)] for i in n.inputs), slot[id(n)], n.op)
            self.steps.append(step)
        self._set_frees(slot)
        self.n_slots, self.input_slots = len(order), [slot.get(id(x)) for x in self.inputs]
        self.output_slots = [slot[id(o)] for o in self.outputs]

    def _set_frees(self, slot):
        """After each step, drop the values that no later step (and no output) reads."""
        last = {}
        for k, step in enumerate(self.steps):
            for a in step.args:
                last[a] = k
        keep = {slot[id(o)] for o in self.outputs} | set(self.constants)
        for a, k in last.items():
            if a not in keep:
                self.steps[k].free += (a,)

    def __call__(self, *arrays, **named):
        values = [None] * self.n_slots
        for s, v in self.constants.items():
            values[s] = v
        for s, array in zip(self.input_slots, match_inputs(self.inputs, arrays, named)):
            if s is not None:  # an input that no output needs has no slot
                values[s] = array
        for step in self.steps:
            values[step.out] = step.fn(*[values[a] for a in step.args])
            for a in step.free:
                values[a] = None
        results = [_result(values[s]) for s in self.output_slots]
        return results[0] if self.single else results

    @property
    def source(self) -> str:
        """The generated source of every fused kernel."""
        return "\n".join(k.source for k in self.kernels)

    def describe(self) -> str:
        """The program, one line per kernel, then the fused kernels' source."""
        lines = [str(self.stats)]
        lines += [f"  {k:3d}. {step.label}" for k, step in enumerate(self.steps, 1)]
        return "\n".join([*lines, "", self.source])


def _result(value):
    """An output as a fresh, writable array (never a constant or a read-only broadcast view)."""
    value = np.asarray(value)
    return value if value.flags.writeable and value.flags.owndata else np.array(value)
