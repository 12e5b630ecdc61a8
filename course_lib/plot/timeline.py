"""A timeline figure drawn from data: one stem per milestone, the periods between (the winters)
shaded, each label on the first free level above or below the axis so that none overlap.

    from course_lib.history_timeline import load_timeline
    fig, ax = timeline(load_timeline("lessons/00_history/milestones.toml"))
"""

from __future__ import annotations

import matplotlib.pyplot as plt

LEVELS = (1, -1, 2, -2, 3, -3, 4, -4, 5, -5)  # label heights, tried in this order


def label_levels(spans: list[tuple[float, float]], levels=LEVELS) -> list[int]:
    """A level for each horizontal span (left, right), given in order of their left ends: the
    first of ``levels`` whose spans placed so far end before this one starts."""
    right_end = {level: float("-inf") for level in levels}
    chosen = []
    for left, right in spans:
        free = [level for level in levels if right_end[level] < left]
        level = free[0] if free else min(levels, key=lambda lv: right_end[lv])
        right_end[level] = right
        chosen.append(level)
    return chosen


def _label_spans(milestones, years_per_char: float) -> list[tuple[float, float]]:
    spans = []
    for m in milestones:
        half = 0.5 * years_per_char * max(len(m.name), 4) + 0.6
        spans.append((m.year - half, m.year + half))
    return spans


def timeline(data, *, ax=None, title="Neural networks: three booms, two winters"):
    """Draw ``data`` (a :class:`course_lib.history_timeline.Timeline`); returns (fig, ax)."""
    if not data.milestones:
        raise ValueError("a timeline needs at least one milestone")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(12, 5))
    first = min([m.year for m in data.milestones] + [w.start for w in data.winters])
    last = max([m.year for m in data.milestones] + [w.end for w in data.winters])
    span = max(last - first, 10) + 12
    levels = label_levels(_label_spans(data.milestones, years_per_char=span / 150))
    for winter in data.winters:
        ax.axvspan(winter.start, winter.end, color="tab:blue", alpha=0.12)
        ax.text(
            (winter.start + winter.end) / 2,
            min(LEVELS) * 1.0 - 0.6,
            winter.label,
            ha="center",
            color="tab:blue",
            fontsize=9,
        )
    ax.axhline(0, color="black", lw=1)
    for m, level in zip(data.milestones, levels):
        ax.plot([m.year, m.year], [0, level], color="gray", lw=0.7)
        ax.plot(m.year, 0, "o", color="black", ms=3.5)
        ax.text(
            m.year,
            level,
            f"{m.year}\n{m.name}",
            ha="center",
            fontsize=7.5,
            va="bottom" if level > 0 else "top",
            linespacing=1.0,
        )
    used = max(abs(level) for level in levels) + 1
    ax.set(
        xlim=(first - 6, last + 6),
        ylim=(-max(used, 5.5) - 0.5, used + 0.3),
        yticks=[],
        xlabel="year",
        title=title,
    )
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    return fig, ax
