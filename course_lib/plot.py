"""Small figure helpers shared by the lessons.

* :func:`decision_boundary` -- a 2-D classifier's regions, its boundary and the labelled points.
* :func:`learning_curves` -- one or more curves (loss, error, accuracy) against epochs or steps.
* :func:`histogram_grid` -- one histogram per named array (weights or activations per layer).
* :func:`image_grid` -- rows of small images (digits, reconstructions, filters), a label per row.
* :func:`computation_graph` -- a small computational graph, forward values and backward gradients.
* :func:`code_map` -- 2-D codes (a map of documents, digits, films), one colour per label.
* :func:`cuda_tiles` -- how a CUDA grid of thread blocks covers C = A B, tile by tile.
* :func:`kernel_rates` -- hand-written GPU kernels against the library (bench_kernels' rows).

Each returns the matplotlib objects it drew on, so a notebook can add titles or save the figure
with ``repro.save_figure``.  Arrays may be NumPy or CuPy (copied to the host).
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.backend import asnumpy

__all__ = [
    "decision_boundary",
    "learning_curves",
    "histogram_grid",
    "image_grid",
    "computation_graph",
    "code_map",
    "cuda_tiles",
    "kernel_rates",
]


def _axes(ax, figsize=(4.5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def decision_boundary(
    score_fn,
    x,
    y,
    *,
    ax=None,
    threshold: float = 0.0,
    padding: float = 0.5,
    resolution: int = 200,
    title: str | None = None,
):
    """Shade where ``score_fn(points) > threshold``, draw that boundary, scatter ``x`` by label.

    ``score_fn`` maps an ``(n, 2)`` array to ``n`` scores: a perceptron's ``decision_function``
    (threshold 0) or a network's output probability (threshold 0.5).  ``y`` may be {0, 1} or
    {-1, +1}.  Returns ``(fig, ax)``.
    """
    x, y = asnumpy(x), asnumpy(y).ravel()
    fig, ax = _axes(ax)
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    g0, g1 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    scores = asnumpy(score_fn(np.c_[g0.ravel(), g1.ravel()])).reshape(g0.shape)
    positive = (scores > threshold).astype(float)
    ax.contourf(g0, g1, positive, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
    if scores.min() < threshold < scores.max():
        ax.contour(g0, g1, scores, levels=[threshold], colors="k", linewidths=1.5)
    pos = y > (0 if y.min() < 0 else 0.5)
    ax.scatter(*x[~pos].T, marker="o", c="#c0392b", edgecolors="k", label="negative", zorder=3)
    ax.scatter(*x[pos].T, marker="s", c="#2166ac", edgecolors="k", label="positive", zorder=3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title)
    return fig, ax


def learning_curves(
    curves,
    *,
    ax=None,
    x=None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = False,
    title: str | None = None,
    **plot_kw,
):
    """Plot ``{label: values}`` (or one sequence) against ``x`` (default 1, 2, ...).

    ``x`` may be one sequence for all curves or a dict with a sequence per label.  Extra keyword
    arguments go to ``ax.plot``.  Returns ``(fig, ax)``.
    """
    fig, ax = _axes(ax, figsize=(5.5, 3.5))
    if not isinstance(curves, dict):
        curves = {None: curves}
    for label, values in curves.items():
        values = asnumpy(values).ravel()
        xs = x.get(label) if isinstance(x, dict) else x
        xs = np.arange(1, len(values) + 1) if xs is None else asnumpy(xs).ravel()
        ax.plot(xs, values, label=label, **plot_kw)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if any(label is not None for label in curves):
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return fig, ax


def histogram_grid(
    arrays,
    *,
    ncols: int | None = None,
    bins: int = 50,
    range=None,
    sharey: bool = False,
    panel_size=(2.6, 2.2),
    title: str | None = None,
    rows=None,
):
    """One histogram per ``{name: array}`` entry, in a grid (a row per ``rows`` group if given).

    ``rows`` may be ``{row_label: {name: array}}`` to compare settings side by side (e.g. naive
    vs Xavier initialisation, one panel per layer); then ``arrays`` is ignored.
    ``range`` fixes a common x-range, which makes saturation easy to compare.  Returns
    ``(fig, axes)`` with ``axes`` a 2-D array.
    """
    import matplotlib.pyplot as plt

    groups = rows if rows is not None else {None: arrays}
    n_panels = max(len(g) for g in groups.values())
    ncols = ncols or (n_panels if rows is not None else min(n_panels, 4))
    nrows = len(groups) if rows is not None else math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        squeeze=False,
        sharey=sharey,
        figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
    )
    for r, (row_label, group) in enumerate(groups.items()):
        for k, (name, values) in enumerate(group.items()):
            i, j = (r, k) if rows is not None else divmod(k, ncols)
            a = axes[i, j]
            a.hist(asnumpy(values).ravel(), bins=bins, range=range, color="#4477aa")
            a.set_title(str(name), fontsize="small")
            a.tick_params(labelsize="x-small")
        if row_label is not None:
            axes[r, 0].set_ylabel(str(row_label))
    for a in axes.ravel():
        if not a.has_data():
            a.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig, axes


def image_grid(
    rows, *, shape=(28, 28), cmap="gray", vrange=(0.0, 1.0), panel=1.0, title: str | None = None
):
    """Draw ``{row_label: images}`` as a grid, one row per entry, one image per column.

    ``images`` is an array (n, H*W) or (n, H, W), or a list of such images; each is reshaped to
    ``shape``.  ``vrange=(lo, hi)`` fixes the grey scale for every panel (pixels in [0, 1]);
    ``vrange=None`` scales each image to its own range (for weights and filters, whose sign and
    size vary).  Returns ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    rows = {label: [asnumpy(img) for img in images] for label, images in rows.items()}
    ncols = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(
        len(rows),
        ncols,
        squeeze=False,
        figsize=(panel * ncols + 0.8, panel * len(rows) + (0.4 if title else 0)),
    )
    for r, (label, images) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(images):
                ax.set_visible(False)
                continue
            lo, hi = vrange if vrange is not None else (None, None)
            ax.imshow(np.reshape(images[c], shape), cmap=cmap, vmin=lo, vmax=hi)
        axes[r, 0].set_ylabel(str(label), rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig, axes


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
    fig, ax = _axes(ax, figsize=figsize)
    unknown = {name for edge in edges for name in edge[:2]} - set(nodes)
    if unknown:
        raise ValueError(f"edges name nodes that do not exist: {', '.join(sorted(unknown))}")
    boxes, label_box = {}, dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8)
    for name, (x, y, text, *grad) in nodes.items():
        if name in ops:
            style, face = ("circle,pad=0.25" if len(text) <= 2 else "round,pad=0.3"), "#fde9c9"
        else:
            style, face = "round,pad=0.4", "#dbe9f6"
        boxes[name] = ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=fontsize,
            zorder=3,
            bbox=dict(boxstyle=style, fc=face, ec="0.3"),
        )
        if grad and grad[0]:
            ax.annotate(
                grad[0],
                xy=(0.5, 0),
                xycoords=boxes[name],
                xytext=(0, -9),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=fontsize,
                color=backward_color,
                bbox=label_box,
                zorder=5,
            )
    for src, dst, *labels in edges:
        # drawn above the boxes, so they are placed first and the arrow is clipped to them
        ax.annotate(
            "",
            xy=nodes[dst][:2],
            xytext=nodes[src][:2],
            zorder=4,
            arrowprops=dict(
                arrowstyle="-|>",
                color="0.2",
                shrinkA=1,
                shrinkB=1,
                patchA=boxes[src].get_bbox_patch(),
                patchB=boxes[dst].get_bbox_patch(),
            ),
        )
        middle = np.mean([nodes[src][:2], nodes[dst][:2]], axis=0)
        styles = zip((5, -5), ("bottom", "top"), ("black", backward_color))
        for text, (dy, va, color) in zip(labels, styles):
            if text:
                ax.annotate(
                    text,
                    xy=middle,
                    xytext=(0, dy),
                    textcoords="offset points",
                    ha="center",
                    va=va,
                    fontsize=fontsize - 1,
                    color=color,
                    bbox=label_box,
                    zorder=5,
                )
    xy = np.array([node[:2] for node in nodes.values()], dtype=float)
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    ax.set_xlim(x0 - 0.6, x1 + 0.6)
    ax.set_ylim(y0 - 0.6, y1 + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig, ax


def code_map(codes, labels, *, ax=None, title: str | None = None, size: float = 6, legend=True):
    """Scatter 2-D ``codes`` (N, 2) coloured by ``labels`` (N,: strings or integers), one legend
    entry per label in order of first appearance.  Returns ``(fig, ax)``."""
    codes, labels = asnumpy(codes), np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2 or len(codes) != len(labels):
        raise ValueError(
            f"code_map needs codes of shape (N, 2) and N labels, got {codes.shape} and "
            f"{len(labels)} labels"
        )
    fig, ax = _axes(ax, figsize=(5, 5))
    names = list(dict.fromkeys(labels.tolist()))
    colours = plt_colours(len(names))
    for name, colour in zip(names, colours):
        pick = labels == name
        ax.scatter(codes[pick, 0], codes[pick, 1], s=size, color=colour, label=str(name),
                   alpha=0.8, linewidths=0)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        ax.legend(fontsize="x-small", markerscale=2, loc="best", framealpha=0.8)
    if title:
        ax.set_title(title)
    return fig, ax


def plt_colours(n: int) -> list:
    """``n`` distinct colours: matplotlib's tab10, then tab20 for more labels."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


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


def kernel_rates(rows: list[dict], gpu: str = "the GPU"):
    """Two panels from ``experiments.bench_kernels``' rows: the matrix product's GFLOP/s by n
    (naive kernel, tiled kernel, cuBLAS) and the add's and sum's GB/s by length (kernel vs
    library).  Returns ``(fig, (ax1, ax2))``."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for way, style in [("naive", "o-"), ("tiled", "s-"), ("library", "^--")]:
        mm = [r for r in rows if r["op"] == "matmul" and r["way"] == way]
        label = "cuBLAS (CuPy)" if way == "library" else f"{way} kernel"
        ax1.plot([r["n"] for r in mm], [r["gflops"] for r in mm], style, label=label)
    for op, marker in [("add", "o"), ("sum", "s")]:
        for way, line in [("kernel", "-"), ("library", "--")]:
            rs = [r for r in rows if r["op"] == op and r["way"] == way]
            ax2.plot(
                [r["n"] for r in rs],
                [r["gb_per_s"] for r in rs],
                marker + line,
                label=f"{op}, {way}",
            )
    ax1.set(
        xscale="log",
        yscale="log",
        xlabel="n (n x n float32 product)",
        ylabel="GFLOP/s",
        title=f"Matrix product on {gpu}",
    )
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel="numbers (float32)",
        ylabel="GB/s",
        title="Add and sum: hand-written vs CuPy",
    )
    for ax in (ax1, ax2):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, (ax1, ax2)
