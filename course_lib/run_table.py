"""This run's claims beside the committed full run's and the published values, as a text table,
so a lesson's prose can point at the full profile's numbers without typing them."""

from __future__ import annotations

from course_lib import repro
from course_lib.claim_fields import is_number
from course_lib.claims import UnknownClaimError
from course_lib.lessons import lesson

MISSING = "—"


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:.4g}" if is_number(value) else MISSING


def _published(claim: str, *, strict: bool):
    try:
        return repro.published(claim)
    except UnknownClaimError:
        if strict:
            raise
        return None  # a claim the committed run recorded that the registry has since dropped


def beside_committed_run(number: str, ours: dict, *, profile: str = "quick") -> str:
    """One row per claim in ``ours`` (``{claim_id: value}``, e.g. :func:`repro.recorded`): its
    name, this run's value, the committed full run's (lesson ``number``'s
    :meth:`~course_lib.lessons.Lesson.committed_run`) and the published one; then a row for each
    claim the committed run recorded and this run did not (another route, say). "—" where a
    value is missing or not a number (a published sentence, say)."""
    if not ours:
        raise ValueError("no claims to show: record some first (repro.record)")
    full = lesson(number).committed_run()
    rows = [(c, v, _published(c, strict=True)) for c, v in ours.items()]
    rows += [(c, None, _published(c, strict=False)) for c in full if c not in ours]
    width = max(len(c.split(".", 1)[1]) for c, _, _ in rows)
    header = f"this run ({profile})"
    lines = [f"{'claim':{width}}  {header:>16}  {'full run':>9}  {'published':>9}"]
    for claim, value, published in rows:
        committed = full.get(claim, {}).get("value")
        lines.append(
            f"{claim.split('.', 1)[1]:{width}}  {_show(value):>16}  {_show(committed):>9}  "
            f"{_show(published):>9}"
        )
    return "\n".join(lines)
