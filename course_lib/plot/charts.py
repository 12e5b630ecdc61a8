"""The lessons' charts of data: a classifier's regions, learning curves, histograms, image grids,
maps of 2-D codes and the GPU kernels' rates.  Imported through :mod:`course_lib.plot`."""

from __future__ import annotations

import math

import numpy as np

from course_lib.backend import asnumpy


def figure_axes(ax, figsize=(4.5, 4)):
    """``(fig, ax)``: ``ax`` and its figure, or a new figure of ``figsize`` with one axes."""
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
    fig, ax = figure_axes(ax)
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
    fig, ax = figure_axes(ax, figsize=(5.5, 3.5))
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


def code_map(codes, labels, *, ax=None, title: str | None = None, size: float = 6, legend=True):
    """Scatter 2-D ``codes`` (N, 2) coloured by ``labels`` (N,: strings or integers), one legend
    entry per label in order of first appearance.  Returns ``(fig, ax)``."""
    codes, labels = asnumpy(codes), np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2 or len(codes) != len(labels):
        raise ValueError(
            f"code_map needs codes of shape (N, 2) and N labels, got {codes.shape} and "
            f"{len(labels)} labels"
        )
    fig, ax = figure_axes(ax, figsize=(5, 5))
    names = list(dict.fromkeys(labels.tolist()))
    colours = plt_colours(len(names))
    for name, colour in zip(names, colours):
        pick = labels == name
        ax.scatter(
            codes[pick, 0],
            codes[pick, 1],
            s=size,
            color=colour,
            label=str(name),
            alpha=0.8,
            linewidths=0,
        )
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
