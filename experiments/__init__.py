"""Batch reproduction of the course's published results.

``python -m experiments list | run | report | check | bench NAME`` (also installed as
``course-repro``): ``run`` executes the numbered notebooks with papermill into a run folder
(``--jobs N`` side by side, ``--shard I/N`` one slice of them), ``report`` joins what one or several
run folders recorded with the published claims in ``lessons/NN_slug/lesson.toml`` (read by
``course_lib.claims``), and ``check`` (or ``run --strict``) fails when a notebook failed or a claim
missed its bound for the profile.
"""

from pathlib import Path

from course_lib import claims

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
PROFILES = claims.PROFILES


class UserError(Exception):
    """A problem the user can fix (a bad option, a busy run folder); shown without a traceback."""


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise a :class:`UserError`."""
    try:
        return claims.check_profile(profile)
    except ValueError as err:
        raise UserError(str(err)) from None
