"""Diagrams that explain a mechanism rather than plot data: a computational graph with its forward
values and backward gradients, and a CUDA grid of thread blocks covering a matrix product.
Imported through :mod:`course_lib.plot`."""

from __future__ import annotations

import math

import numpy as np

from course_lib.plot.charts import figure_axes


def computation_graph(
    nodes,
    edges,
    *,
    ops=(),
    ax=None,
    title: str | None = None,
    backward_color: str = "#c0392b",
    fontsize: float = 9,
    figsize=(10, 3.6),
):
    """Draw a small computational graph with its forward values and backward gradients.

    ``nodes`` is ``{name: (x, y, text)}`` or ``{name: (x, y, text, grad)}``: a box at ``(x, y)``
    (data units) holding ``text``, with ``grad`` (e.g. ``"dL/dx = 0.3"``) written under it in
    ``backward_color``.  Names listed in ``ops`` are operations (matmul, +, sigmoid, the loss),
    drawn in another colour, as circles when their text is one or two characters.
    ``edges`` is a list of ``(src, dst)``, ``(src, dst, forward)`` or ``(src, dst, forward,
    backward)``: an arrow from ``src`` to ``dst``, the value flowing forward written above its
    middle and the gradient flowing back written below.  Returns ``(fig, ax)``.
    """
    fig, ax = figure_axes(ax, figsize=figsize)
    unknown = {name for edge in edges for name in edge[:2]} - set(nodes)
    if unknown:
        raise ValueError(f"edges name nodes that do not exist: {', '.join(sorted(unknown))}")
    boxes = {}
    for name, (x, y, text, *grad) in nodes.items():
        boxes[name] = _node_box(ax, (x, y), text, name in ops, fontsize)
        if grad and grad[0]:  # under the box
            _label(ax, grad[0], (0.5, 0), -9, backward_color, fontsize, xycoords=boxes[name])
    for src, dst, *labels in edges:
        _arrow(ax, nodes[src][:2], nodes[dst][:2], boxes[src], boxes[dst])
        middle = np.mean([nodes[src][:2], nodes[dst][:2]], axis=0)
        # the value flowing forward above the arrow's middle, the gradient flowing back below
        for text, dy, color in zip(labels, (5, -5), ("black", backward_color)):
            if text:
                _label(ax, text, middle, dy, color, fontsize - 1)
    _frame(ax, np.array([node[:2] for node in nodes.values()], dtype=float), title)
    return fig, ax


# the white patch under a value or gradient, so that an arrow or a line behind it does not cut it
_LABEL_BOX = dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8)


def _node_box(ax, xy, text, is_op, fontsize):
    """A variable in a rounded blue box, an operation in orange (a circle for a short symbol)."""
    if is_op:
        style, face = ("circle,pad=0.25" if len(text) <= 2 else "round,pad=0.3"), "#fde9c9"
    else:
        style, face = "round,pad=0.4", "#dbe9f6"
    bbox = dict(boxstyle=style, fc=face, ec="0.3")
    return ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=3, bbox=bbox)


def _label(ax, text, xy, dy, color, fontsize, xycoords="data"):
    """``text`` centred ``dy`` points above (``dy > 0``) or below ``xy``."""
    va = "bottom" if dy > 0 else "top"
    ax.annotate(
        text,
        xy=xy,
        xycoords=xycoords,
        xytext=(0, dy),
        textcoords="offset points",
        ha="center",
        va=va,
        fontsize=fontsize,
        color=color,
        bbox=_LABEL_BOX,
        zorder=5,
    )


def _arrow(ax, start, end, box_start, box_end):
    """An arrow between two boxes' centres, clipped to the boxes (drawn above them, so the boxes
    must be placed first)."""
    arrow = dict(
        arrowstyle="-|>",
        color="0.2",
        shrinkA=1,
        shrinkB=1,
        patchA=box_start.get_bbox_patch(),
        patchB=box_end.get_bbox_patch(),
    )
    ax.annotate("", xy=end, xytext=start, zorder=4, arrowprops=arrow)


def _frame(ax, xy, title):
    """Limits that leave room around the boxes ``xy`` (n, 2) and their labels; no axes."""
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    ax.set_xlim(x0 - 0.6, x1 + 0.6)
    ax.set_ylim(y0 - 0.6, y1 + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title)


def cuda_tiles(m: int = 80, n: int = 96, k: int = 64, tile: int = 16, block=(1, 2)):
    """The execution model of a tiled matrix product, drawn: C (m x n) cut into a grid of
    tile x tile thread blocks (one thread per element of C), one block highlighted, and the
    strips of A (rows) and B (columns) it reads, tile by tile, through shared memory.

    ``block`` is the highlighted block's (row, column) in the grid.  Returns ``(fig, axes)``."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, 3, figsize=(11, 4.2), gridspec_kw={"width_ratios": [k, n, n]})
    by, bx = block
    shapes = {
        "A (m x k)": (m, k),
        "B (k x n)": (k, n),
        "C = A B (m x n)": (m, n),
    }
    for ax, (title, (rows, cols)) in zip(axes, shapes.items()):
        ax.set(xlim=(0, cols), ylim=(rows, 0), aspect="equal", title=title, xticks=[], yticks=[])
        for x in range(0, cols + 1, tile):
            ax.axvline(x, color="0.8", lw=0.6)
        for y in range(0, rows + 1, tile):
            ax.axhline(y, color="0.8", lw=0.6)
    a, b, c = axes
    for t in range(math.ceil(k / tile)):  # the tiles the block walks through, lighter first
        shade = 0.25 + 0.6 * t / max(1, math.ceil(k / tile) - 1)
        a.add_patch(Rectangle((t * tile, by * tile), tile, tile, color="tab:blue", alpha=shade))
        b.add_patch(Rectangle((bx * tile, t * tile), tile, tile, color="tab:orange", alpha=shade))
    c.add_patch(Rectangle((bx * tile, by * tile), tile, tile, color="tab:green"))
    c.text(
        bx * tile + tile / 2,
        by * tile + tile / 2,
        f"block\n({by}, {bx})",
        ha="center",
        va="center",
        fontsize=7,
        color="white",
    )
    a.set_xlabel(
        f"A's {tile}-row strip, a {tile}x{tile} tile\nat a time into shared memory", fontsize=8
    )
    b.set_xlabel("B's matching column strip", fontsize=8)
    grid = f"{math.ceil(m / tile)} x {math.ceil(n / tile)}"
    c.set_xlabel(f"a grid of {grid} blocks,\n{tile}x{tile} threads each", fontsize=8)
    fig.tight_layout()
    return fig, axes
