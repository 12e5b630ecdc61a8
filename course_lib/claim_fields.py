"""The schema of one claim in a lesson's ``lesson.toml``: its fields and their types, its bounds,
what it may need before a run can record it, and its baseline; each ``*_problems`` function
returns what is wrong (empty: nothing), for :mod:`course_lib.claims` to report with the file's
name."""

from __future__ import annotations

import math
import re

PROFILES = ("quick", "full")
CLAIM_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
ID_FORM = (
    "'source.name' in lower case (letters, digits, '_', '.'), e.g. 'hinton2006.ae30_test_sqerr'"
)
SCALAR = (bool, int, float, str)
REQUIRED = {
    "id": str,
    "lesson": str,
    "title": str,
    "published": SCALAR,
    "source": str,
    "checked": bool,
}
OPTIONAL = {
    "unit": str,
    "setting": str,
    "needs": (str, list),
    "kind": str,
    "baseline": str,
    **{p: dict for p in PROFILES},
}
BOUND_KEYS = ("min", "max", "equals")
# what a claim may need before a run can record it: a GPU, or a dataset absent offline
NEEDS = {"gpu": "a GPU run", "cifar10": "the CIFAR-10 dataset", "text8": "the text8 corpus"}
KINDS = ("measured", "context")  # context: a published number shown beside ours, not measured


def is_number(value) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bound_problems(bound) -> list[str]:
    """What is wrong with a bound table such as ``{min = 0.9, max = 1.1}`` (empty: nothing)."""
    if not isinstance(bound, dict):
        return ["must be a table such as { max = 3.5 }"]
    problems = []
    unknown = sorted(set(bound) - set(BOUND_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}; use min, max or equals")
    if not bound:
        problems.append("is empty; leave it out for 'recorded, no bound'")
    if "equals" in bound and ("min" in bound or "max" in bound):
        problems.append("equals cannot be combined with min or max")
    if "equals" in bound and not isinstance(bound["equals"], SCALAR):
        problems.append("equals must be a number, a bool or a string")
    for key in ("min", "max"):
        if key in bound and not (is_number(bound[key]) and math.isfinite(bound[key])):
            problems.append(f"{key} must be a finite number")
    if is_number(bound.get("min")) and is_number(bound.get("max")) and bound["min"] > bound["max"]:
        problems.append(f"min {bound['min']} is above max {bound['max']}")
    return problems


def as_needs(value) -> tuple:
    """``needs`` as a tuple: ``"gpu"`` and ``["gpu"]`` both give ``("gpu",)``."""
    return (value,) if isinstance(value, str) else tuple(value)


def parking_problems(raw: dict) -> list[str]:
    """What is wrong with a claim's ``needs`` and ``kind`` (empty: nothing)."""
    problems, needs = [], raw.get("needs", ())
    if isinstance(needs, (str, list)):
        unknown = [n for n in as_needs(needs) if n not in list(NEEDS)]
        if unknown or not needs:
            problems.append(
                f"needs {needs!r} is not allowed: give one of {', '.join(NEEDS)} "
                "(or a list of them)"
            )
    kind = raw.get("kind", "measured")
    if isinstance(kind, str) and kind not in KINDS:
        problems.append(f"kind {kind!r} is not allowed: give one of {', '.join(KINDS)}")
    if kind == "context":
        problems += [
            f"a context claim is not measured: drop its {key}"
            for key in ("needs", *PROFILES)
            if key in raw
        ]
    return problems


def claim_problems(raw: dict, lesson: str) -> list[str]:
    problems = []
    for key, kind in REQUIRED.items():
        if key not in raw:
            problems.append(f"missing required field {key!r}")
        elif not isinstance(raw[key], kind):
            problems.append(f"{key!r} has the wrong type ({type(raw[key]).__name__})")
    for key, kind in OPTIONAL.items():
        if key in raw and not isinstance(raw[key], kind):
            problems.append(f"{key!r} has the wrong type ({type(raw[key]).__name__})")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}")
    if isinstance(raw.get("id"), str) and not CLAIM_ID.match(raw["id"]):
        problems.append(f"id must look like {ID_FORM}")
    if isinstance(raw.get("lesson"), str) and raw["lesson"] != lesson:
        problems.append(f"lesson is {raw['lesson']!r} but the file is lesson {lesson}'s")
    if isinstance(raw.get("published"), float) and not math.isfinite(raw["published"]):
        problems.append("published must be finite")
    for profile in PROFILES:
        if isinstance(raw.get(profile), dict):
            problems += [f"{profile} bound {p}" for p in bound_problems(raw[profile])]
    return problems + parking_problems(raw) + baseline_problems(raw)


def baseline_problems(raw: dict) -> list[str]:
    """What is wrong with a claim's ``baseline`` on its own (empty: nothing); that it names a
    claim of the same file is checked once the file is read."""
    if not isinstance(raw.get("baseline"), str):
        return []
    if raw["baseline"] == raw.get("id"):
        return ["baseline names the claim itself"]
    sides = [
        p
        for p in PROFILES
        if isinstance(raw.get(p), dict) and ("equals" in raw[p] or {"min", "max"} <= set(raw[p]))
    ]
    return [
        f"{p} bound must be one-sided (min or max) to say which side of its baseline is better"
        for p in sides
    ]
