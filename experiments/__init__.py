"""Batch reproduction of the course's published results.

``python -m experiments list | run | report | bench NAME`` (also installed as ``course-repro``):
``run`` executes the numbered notebooks with papermill into a run folder, ``report`` joins what
they recorded with the published claims in ``experiments/claims/NN.toml``.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
PROFILES = ("quick", "full")


class UserError(Exception):
    """A problem the user can fix (a bad option, an invalid claims file); shown without a traceback."""


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise a :class:`UserError`."""
    if profile not in PROFILES:
        raise UserError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    return profile
