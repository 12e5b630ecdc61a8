"""Fused kernels: one fusion group (a tree of element-wise operations) as one generated function.

Two ways to run a group, both generated as Python source (``FusedKernel.source``, to read):

* ``"numpy"``: one NumPy ufunc call per operation, each writing into a buffer (``out=``):
  the result array, plus a scratch array kept between calls when a tree needs a second one.
  No temporary array is allocated, but each operation is still one pass over memory.
* ``"numba"``: the group as one scalar expression, compiled by ``numba.vectorize`` into a
  ufunc: one loop, one pass over memory, every intermediate in a register.

Scalar constants (``0.5``, ``1.0``) are written into the code; other inputs are arguments.

One pass is not always faster: numba's loop calls the scalar ``math.tanh`` for each number,
while NumPy's ``np.tanh`` uses SIMD, so on a CPU a fused tanh chain can lose to the
NumPy kernel; a chain of + * and max (relu) wins clearly (measure both, as the lesson does).
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.autograd.graph.nodes import Node

_UFUNC = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}
_UFUNC |= {"neg": "negative", "exp": "exp", "log": "log", "tanh": "tanh"}
NUMPY_STEPS = {op: [f"np.{name}({{args}}, out={{r}})"] for op, name in _UFUNC.items()}
NUMPY_STEPS |= {
    "pow": ["np.power({args}, {p}, out={r})"],
    "relu": ["np.maximum({args}, 0.0, out={r})"],
    "step": ["np.greater({args}, 0.0, out={r})"],
    "sigmoid": [  # (tanh(x / 2) + 1) / 2, in place, as course_lib.nn.activations.sigmoid
        "np.multiply({args}, 0.5, out={r})",
        "np.tanh({r}, out={r})",
        "np.add({r}, 1.0, out={r})",
        "np.multiply({r}, 0.5, out={r})",
    ],
}
SCALAR = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}"}
SCALAR |= {"neg": "-{0}", "pow": "{0} ** {p}", "exp": "math.exp({0})", "log": "math.log({0})"}
SCALAR |= {
    "tanh": "math.tanh({0})",
    "sigmoid": "0.5 * (math.tanh(0.5 * {0}) + 1.0)",
    "relu": "max({0}, 0.0)",
    "step": "1.0 if {0} > 0.0 else 0.0",
}
# How the formula shows each op: (template, precedence); a lower-precedence operand gets ( ).
FORMULA = {"add": ("{0} + {1}", 1), "sub": ("{0} - {1}", 1), "mul": ("{0} * {1}", 2)}
FORMULA |= {"div": ("{0} / {1}", 2), "neg": ("-{0}", 3), "pow": ("{0}**{p}", 4)}

_NUMBA_CACHE: dict[str, object] = {}  # source -> compiled ufunc, shared by every Function


def _literal(node: Node):
    """A scalar constant written as a number in the code, or None."""
    if node.op != "const" or node.value.size != 1 or node.value.ndim:
        return None
    value = float(node.value)
    return repr(value) if math.isfinite(value) else None


class FusedKernel:
    """One fusion group (``nodes``, root last) compiled to ``fn(*args)`` -> the root's value;
    ``args`` are the outside nodes it reads, in order."""

    def __init__(self, nodes, mode="numpy"):
        self.nodes, self.root, self.mode = list(nodes), nodes[-1], mode
        members = {id(n) for n in nodes}
        outside = [i for n in nodes for i in n.inputs if id(i) not in members]
        literals = {id(i): _literal(i) for i in outside if _literal(i)}
        if len(literals) == len({id(i) for i in outside}):
            literals = {}  # a ufunc needs one argument at least: pass the constants
        self.args = list({id(i): i for i in outside if id(i) not in literals}.values())
        self.names = {id(a): f"v{k}" for k, a in enumerate(self.args)} | literals
        self.formula = self._formula()
        make = _numba_source if mode == "numba" else _numpy_source
        self.source = make(self.nodes, self.names, self.formula)
        self.fn = _compile_numba(self.source) if mode == "numba" else self._numpy_fn()

    def __call__(self, *values):
        out = self.fn(*values)
        return out if self.mode == "numpy" else np.asarray(out, dtype=self.root.dtype)

    def _formula(self) -> str:
        """The group as one readable expression, e.g. ``tanh(v0 * v1 + v2) * 0.5 + 1.0``."""
        text = {k: (name, 9) for k, name in self.names.items()}  # (text, precedence)
        for n in self.nodes:
            template, level = FORMULA.get(n.op, (n.op + "({0})", 9))
            operands = [
                f"({t})" if p < level or (k == 1 and p == level and n.op in ("sub", "div")) else t
                for k, (t, p) in enumerate(text[id(i)] for i in n.inputs)
            ]
            if level == 9:  # a function call: its argument needs no parentheses
                operands = [text[id(i)][0] for i in n.inputs]
            text[id(n)] = (template.format(*operands, **n.params), level)
        return text[id(self.root)][0]

    def _numpy_fn(self):
        scratch: dict[tuple, np.ndarray] = {}  # kept between calls: (shape, register) -> array

        def get_scratch(shape, register):
            key = (shape, register)
            if key not in scratch:
                scratch[key] = np.empty(shape, self.root.dtype)
            return scratch[key]

        namespace = {"np": np, "dtype": self.root.dtype, "scratch": get_scratch}
        exec(compile(self.source, f"<fused kernel: {self.formula}>", "exec"), namespace)
        return namespace["kernel"]


def _registers(nodes) -> dict[int, int]:
    """A buffer number for each node's result.  A node writes over the buffer of its first
    input from the group (that value has no other user), or takes a free one; a buffer is
    free again once its value has been read."""
    register, free, count = {}, [], 0
    for n in nodes:
        inner = list({id(i): i for i in n.inputs if id(i) in register})
        if inner:
            register[id(n)] = register[inner[0]]
            free.extend(register[i] for i in inner[1:] if register[i] != register[inner[0]])
        else:
            register[id(n)] = free.pop() if free else count
            count += 0 if register[id(n)] < count else 1
    return register


def _numpy_source(nodes, names, formula) -> str:
    register = _registers(nodes)
    root = register[id(nodes[-1])]
    buffer = {r: "out" if r == root else f"r{r}" for r in set(register.values())}
    arguments = [n for n in names.values() if n.startswith("v")]
    lines = [
        f"def kernel({', '.join(arguments)}):",
        f'    """{formula}"""',
        f"    shape = np.broadcast_shapes({', '.join(f'np.shape({a})' for a in arguments)})",
        "    out = np.empty(shape, dtype)",
    ]
    lines += [f"    {b} = scratch(shape, {r})" for r, b in sorted(buffer.items()) if b != "out"]
    for n in nodes:
        operands = [
            buffer[register[id(i)]] if id(i) in register else names[id(i)] for i in n.inputs
        ]
        for step in NUMPY_STEPS[n.op]:
            line = step.format(args=", ".join(operands), r=buffer[register[id(n)]], **n.params)
            lines.append(f"    {line}")
    return "\n".join([*lines, "    return out", ""])


def _numba_source(nodes, names, formula) -> str:
    arguments = [n for n in names.values() if n.startswith("v")]
    lines = [f"def kernel({', '.join(arguments)}):", f'    """{formula}"""']
    text = dict(names)
    for k, n in enumerate(nodes):
        expression = SCALAR[n.op].format(*(text[id(i)] for i in n.inputs), **n.params)
        text[id(n)] = f"t{k}"
        lines.append(f"    t{k} = {expression}")
    return "\n".join([*lines, f"    return t{len(nodes) - 1}", ""])


def _compile_numba(source: str):
    """The scalar function as a NumPy ufunc (broadcasting, one loop), compiled on first use
    for each dtype; the same source is compiled once per process."""
    if source not in _NUMBA_CACHE:
        try:
            import numba
        except ImportError:
            raise ImportError(
                "compile(..., fuse='numba') needs numba: pip install numba (or use fuse='numpy')"
            ) from None
        namespace = {"math": math}
        exec(compile(source, "<fused kernel>", "exec"), namespace)
        _NUMBA_CACHE[source] = numba.vectorize(nopython=True)(namespace["kernel"])
    return _NUMBA_CACHE[source]
