"""The state of every claim at a glance: reproduced / published on a log axis, grouped by lesson.

:func:`claims_overview` draws points made by the caller (``experiments.report_figure`` makes them
from a report): each a dict with ``lesson``, ``id``, ``status``, ``colour`` (see
:func:`status_colour`), ``ratio`` (reproduced / published, or ``None`` for a claim without one: a
bool, a text, a value not recorded) and ``bound`` (the bound as ratios ``(low, high)``, either
``None`` when open, or ``None`` for no bound).
"""

from __future__ import annotations

import math

# a colour per claim status (the report's status texts); any other status is drawn grey
COLOURS = {
    "pass": "#17692b",
    "fail": "#b3261e",
    "notebook failed": "#b3261e",
    "unconfirmed — notebook did not finish": "#e08a00",
    "recorded — no bound": "#7a5a00",
    "awaiting a GPU run": "#1f4e9c",
    "awaiting a dataset": "#7b3fa0",
    "not run": "#888888",
    "context": "#c8c8c8",
}
OTHER = "#555555"


def status_colour(status: str) -> str:
    """The colour a point of this status is drawn in."""
    return COLOURS.get(status, OTHER)


def _positions(points: list[dict]) -> tuple[list[float], list[tuple[str, float, float]]]:
    """An x for every point, lessons one after another with a gap, and each lesson's span."""
    xs, spans, x = [], [], 0.0
    for i, p in enumerate(points):
        if i and p["lesson"] != points[i - 1]["lesson"]:
            x += 1.5
        if not spans or spans[-1][0] != p["lesson"]:
            spans.append((p["lesson"], x, x))
        spans[-1] = (p["lesson"], spans[-1][1], x)
        xs.append(x)
        x += 1
    return xs, spans


def _limits(points: list[dict]) -> tuple[float, float]:
    """The ratio axis: every ratio and bound end, padded, and at least 0.1 to 10."""
    ends = [p["ratio"] for p in points if p["ratio"]]
    ends += [e for p in points if p["bound"] for e in p["bound"] if e and e > 0]
    logs = [math.log10(v) for v in ends if v > 0] + [-1.0, 1.0]
    return 10 ** (min(logs) - 0.3), 10 ** (max(logs) + 0.3)


def _draw_bound(ax, x: float, bound: tuple, limits: tuple[float, float]) -> None:
    """A bound as a thin bar over the ratios it allows, capped where it ends."""
    low, high = bound
    low = low if low and low > 0 else None
    ax.vlines(x, low or limits[0], high or limits[1], colors="#999999", lw=0.8, alpha=0.5, zorder=2)
    for end in (low, high):
        if end:
            ax.plot([x - 0.4, x + 0.4], [end, end], color="#444444", lw=1.2, zorder=2)


def claims_overview(points: list[dict], title: str = ""):
    """Draw ``points`` (see the module): ratios above on a log axis with their bounds, the claims
    without a ratio as markers in a strip below.  Returns ``(fig, (ax, strip))``."""
    import matplotlib.pyplot as plt

    xs, spans = _positions(points)
    width = max(8.0, 0.09 * (xs[-1] if xs else 0) + 2.5)
    fig, (ax, strip) = plt.subplots(
        2, 1, figsize=(width, 5.5), sharex=True, gridspec_kw={"height_ratios": [5, 1]}
    )
    limits = _limits(points)
    ax.axhline(1.0, color="#333333", lw=0.8, ls="--")
    for x, p in zip(xs, points):
        if p["bound"]:
            _draw_bound(ax, x, p["bound"], limits)
        if p["ratio"]:
            ax.scatter(x, p["ratio"], s=22, color=p["colour"], zorder=3)
        else:
            strip.scatter(x, 0, s=22, color=p["colour"], marker="s", zorder=3)
    ax.set(yscale="log", ylim=limits, ylabel="reproduced / published", title=title)
    strip.set(yticks=[], ylim=(-1, 1), ylabel="no ratio", xlabel="lesson")
    for i, (_, start, end) in enumerate(spans):
        for axis in (ax, strip):
            axis.axvspan(start - 0.5, end + 0.5, color="#f0f0f0" if i % 2 else "white", zorder=0)
    strip.set_xticks([(s + e) / 2 for _, s, e in spans], [lesson for lesson, _, _ in spans])
    shown = dict.fromkeys(p["status"] for p in points)
    handles = [plt.Line2D([], [], ls="", marker="o", color=status_colour(s)) for s in shown]
    ax.legend(handles, list(shown), fontsize=8, loc="upper left", ncol=min(len(shown), 5) or 1)
    fig.tight_layout()
    return fig, (ax, strip)
