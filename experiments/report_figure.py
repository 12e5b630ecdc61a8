"""The report's first figure: every claim's reproduced value against its published one, by lesson
(:func:`figure_points` makes the points from a report's data, :func:`write_figure` draws them with
:func:`course_lib.plot.claims_overview`)."""

from __future__ import annotations

from pathlib import Path

from course_lib.claims import is_number
from course_lib.plot.claims import status_colour

FIGURE = "report_claims.png"  # in the report's folder


def ratio(value, published) -> float | None:
    """``value / published`` for two positive numbers, else ``None`` (no ratio to draw)."""
    if is_number(value) and is_number(published) and value > 0 and published > 0:
        return value / published
    return None


def bound_ratios(bound: dict | None, published) -> tuple | None:
    """A numeric bound as ratios to the published number ``(low, high)``, ``None`` when open."""
    if not bound or not (is_number(published) and published > 0):
        return None
    if "equals" in bound:
        eq = bound["equals"]
        return (eq / published, eq / published) if is_number(eq) else None
    low, high = bound.get("min"), bound.get("max")
    return (
        None if low is None else low / published,
        None if high is None else high / published,
    )


def figure_points(data: dict) -> list[dict]:
    """One point per registered claim of the report, in lesson order: its status and colour, its
    ratio and its bound as ratios."""
    rows = [(nb["lesson"], r) for nb in data["notebooks"] for r in nb["rows"]]
    rows += [(a["lesson"], r) for a in data["awaiting"] for r in a["rows"]]
    points = []
    for lesson, row in sorted(rows, key=lambda lr: lr[0]):
        raw = row["raw"]
        if raw["published"] is None:
            continue  # a value no claim registers
        points.append(
            {
                "lesson": lesson,
                "id": row["id"],
                "status": row["status"],
                "colour": status_colour(row["status"]),
                "ratio": ratio(raw["value"], raw["published"]),
                "bound": bound_ratios(raw["bound"], raw["published"]),
            }
        )
    return points


def write_figure(data: dict, out: str | Path) -> Path:
    """Draw the overview of ``data``'s claims into ``out/report_claims.png``; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plot.claims import claims_overview

    path = Path(out) / FIGURE
    fig, _ = claims_overview(
        figure_points(data), title=f"Every claim, {data['profile']} profile: reproduced / published"
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
