"""Graph optimisations, run once by ``compile`` before any numbers flow.

* constant folding: an operation whose inputs are all constants is computed now, at compile
  time, and becomes a constant: it costs nothing per call.
* common-sub-expression elimination (CSE): two nodes doing the same operation on the same
  inputs become one node (``a*b + a*b`` computes ``a*b`` once).  Addition and multiplication
  commute, so ``a*b`` and ``b*a`` are the same expression.
* fusion groups: a tree of element-wise operations, each (but the root) used only by the next,
  is run as one kernel: one pass over memory instead of one per operation.

Each pass rebuilds the graph bottom-up with ``rewrite``; the user's nodes are never changed.
"""

from __future__ import annotations

from course_lib.autograd.graph.nodes import OPS, Node, constant, topological_order

COMMUTATIVE = {"add", "mul"}


def rewrite(outputs, visit) -> list[Node]:
    """The graph rebuilt from the leaves up: ``visit(node, new_inputs)`` gives each node's
    replacement, with its inputs already replaced."""
    new: dict[int, Node] = {}
    for node in topological_order(outputs):
        new[id(node)] = visit(node, tuple(new[id(i)] for i in node.inputs))
    return [new[id(o)] for o in outputs]


def evaluate(node: Node, values):
    """One operation's NumPy forward on input arrays."""
    return OPS[node.op].forward(*values, **node.params)


def fold_constants(outputs) -> list[Node]:
    """Compute every operation whose inputs are all constants; keep the result as a constant."""

    def visit(node, inputs):
        if inputs and all(i.op == "const" for i in inputs):
            return constant(evaluate(node, [i.value for i in inputs]), dtype=node.dtype)
        return node.with_inputs(inputs)

    return rewrite(outputs, visit)


def _key(node: Node, inputs) -> tuple:
    """What makes two nodes the same computation: op, settings and inputs (a constant: its
    numbers; a placeholder: itself)."""
    if node.op == "placeholder":
        return ("placeholder", id(node))
    if node.op == "const":
        return ("const", node.dtype.str, node.shape, node.value.tobytes())
    ids = [id(i) for i in inputs]
    if node.op in COMMUTATIVE:
        ids.sort()
    return (node.op, node.attrs, tuple(ids))


def eliminate_common_subexpressions(outputs) -> list[Node]:
    """One node per distinct computation (hash-consing: the first node with a key is kept)."""
    seen: dict[tuple, Node] = {}

    def visit(node, inputs):
        return seen.setdefault(_key(node, inputs), node.with_inputs(inputs))

    return rewrite(outputs, visit)


def users(order) -> dict[int, list[Node]]:
    """For each node id, the distinct nodes that take it as an input."""
    found: dict[int, list[Node]] = {id(n): [] for n in order}
    for node in order:
        for i in {id(i): i for i in node.inputs}.values():
            found[id(i)].append(node)
    return found


def fusion_groups(outputs) -> dict[int, list[Node]]:
    """Element-wise nodes grouped into kernels: {id of the group's root: its nodes, in order}.

    Visiting from the outputs back, an element-wise node joins its user's group when that user
    is its only one, is element-wise too, and the node is not an output (whose value must be
    kept).  Otherwise it is the root of a new group.
    """
    order = topological_order(outputs)
    used_by, kept = users(order), {id(o) for o in outputs}
    root_of: dict[int, int] = {}
    for node in reversed(order):
        if not OPS.get(node.op) or not OPS[node.op].elementwise:
            continue
        (only, *others) = used_by[id(node)] or [None]
        joins = only is not None and not others and id(node) not in kept
        root_of[id(node)] = root_of[id(only)] if joins and id(only) in root_of else id(node)
    groups: dict[int, list[Node]] = {}
    for node in order:
        if id(node) in root_of:
            groups.setdefault(root_of[id(node)], []).append(node)
    return groups
