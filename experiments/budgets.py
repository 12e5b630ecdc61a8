"""The course's time budgets, as the runner prints them and the report flags them.

A lesson's quick profile should take about a minute on 2 CPU cores, and the whole quick run
(``make reproduce``) at most 12 minutes; the full profile is the published setting and has no
budget.  Budgets are judged on the wall time measured in the run itself, with the run's own
jobs and threads: a lesson that shares the cores with another takes longer than it would alone.
"""

from __future__ import annotations

LESSON_S = {"quick": 60.0}  # per lesson, by profile
RUN_S = {"quick": 12 * 60.0}  # every lesson of the course, by profile


def lesson_budget(profile: str | None) -> float | None:
    """Seconds one lesson may take in ``profile``; None when the profile has no budget."""
    return LESSON_S.get(profile or "")


def run_budget(profile: str | None) -> float | None:
    """Seconds the whole course may take in ``profile``; None when it has no budget."""
    return RUN_S.get(profile or "")


def over(wall_s: float | None, budget_s: float | None) -> bool:
    """Whether a measured wall time is past its budget (never when either is unknown)."""
    return wall_s is not None and budget_s is not None and wall_s > budget_s
