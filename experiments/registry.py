"""The published claims: one TOML file per lesson, ``experiments/claims/NN.toml``.

A file holds an optional top-level ``title`` (the lesson's name) and ``[[claim]]`` tables::

    [[claim]]
    id = "hinton2006.ae30_test_sqerr"     # source.name, lower case
    lesson = "04"                         # must match the file name
    title = "Deep autoencoder 784-1000-500-250-30: MNIST test squared error per image"
    published = 3.00                      # a number, a bool, or a string
    unit = "squared error per image"      # optional
    source = "Hinton & Salakhutdinov 2006, Science 313:504, Fig. 2"
    setting = "..."                       # optional
    checked = true                        # false: still to be confirmed against the paper
    full = { max = 3.5 }                  # optional bound per profile: min, max and/or equals
    quick = { max = 20.0 }                # omitted: recorded, no bound

:func:`load_claims` merges the files and validates them; every problem names its file.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from experiments import PROFILES, UserError, check_profile

CLAIMS_DIR = Path(__file__).resolve().parent / "claims"
CLAIM_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
FILE_NAME = re.compile(r"^\d{2}$")
SCALAR = (bool, int, float, str)
REQUIRED = {"id": str, "lesson": str, "title": str, "published": SCALAR, "source": str, "checked": bool}
OPTIONAL = {"unit": str, "setting": str, **{p: dict for p in PROFILES}}
BOUND_KEYS = ("min", "max", "equals")


class ClaimsError(UserError):
    """The claims registry is invalid."""


@dataclass(frozen=True)
class Claim:
    """One published result and the bounds a reproduction must meet, per profile."""

    id: str
    lesson: str
    title: str
    published: bool | int | float | str
    source: str
    checked: bool
    unit: str = ""
    setting: str = ""
    quick: dict | None = None
    full: dict | None = None
    file: str = ""

    def bound(self, profile: str) -> dict | None:
        """The pass bound for ``profile`` (``None``: recorded, no bound)."""
        return getattr(self, check_profile(profile))


@dataclass
class Registry:
    """All claims, in lesson order, and the lesson titles the files give."""

    claims: list[Claim] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def lessons(self) -> list[str]:
        """Every lesson with a claims file, sorted."""
        return sorted(set(self.titles) | {c.lesson for c in self.claims})

    def for_lesson(self, lesson: str) -> list[Claim]:
        return [c for c in self.claims if c.lesson == lesson]

    def get(self, claim_id: str) -> Claim | None:
        return next((c for c in self.claims if c.id == claim_id), None)


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


def _claim_problems(raw: dict, lesson: str) -> list[str]:
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
        problems.append("id must look like 'source.name' in lower case (letters, digits, '_', '.')")
    if isinstance(raw.get("lesson"), str) and raw["lesson"] != lesson:
        problems.append(f"lesson is {raw['lesson']!r} but the file is {lesson}.toml")
    if isinstance(raw.get("published"), float) and not math.isfinite(raw["published"]):
        problems.append("published must be finite")
    for profile in PROFILES:
        if isinstance(raw.get(profile), dict):
            problems += [f"{profile} bound {p}" for p in bound_problems(raw[profile])]
    return problems


def load_claims(folder: str | Path | None = None) -> Registry:
    """Read and validate every ``NN.toml`` in ``folder`` (default: ``experiments/claims``)."""
    folder = Path(folder) if folder is not None else CLAIMS_DIR
    if not folder.is_dir():
        raise ClaimsError(f"claims folder {folder} does not exist")
    registry, problems, seen = Registry(), [], {}
    for path in sorted(folder.glob("*.toml")):
        lesson = path.stem
        if not FILE_NAME.match(lesson):
            problems.append(f"{path.name}: claims files are named by lesson number, e.g. 04.toml")
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            problems.append(f"{path.name}: not valid TOML: {err}")
            continue
        unknown = sorted(set(doc) - {"title", "claim"})
        if unknown:
            problems.append(f"{path.name}: unknown top-level key(s) {', '.join(unknown)}; use title and [[claim]]")
        if "title" in doc:
            if isinstance(doc["title"], str):
                registry.titles[lesson] = doc["title"]
            else:
                problems.append(f"{path.name}: title must be a string")
        raws = doc.get("claim", [])
        if not isinstance(raws, list):
            problems.append(f"{path.name}: write claims as [[claim]] tables")
            continue
        for n, raw in enumerate(raws, start=1):
            name = f"{path.name}: claim #{n}" + (f" ({raw['id']})" if isinstance(raw.get("id"), str) else "")
            found = _claim_problems(raw, lesson)
            claim_id = raw.get("id")
            if isinstance(claim_id, str) and claim_id in seen:
                found.append(f"duplicate id, already defined in {seen[claim_id]}")
            if found:
                problems += [f"{name}: {p}" for p in found]
                continue
            seen[claim_id] = path.name
            registry.claims.append(Claim(**raw, file=path.name))
    if problems:
        raise ClaimsError(f"invalid claims in {folder}:\n  " + "\n  ".join(problems))
    registry.claims.sort(key=lambda c: c.lesson)
    return registry


def format_value(value) -> str:
    """A claim value for people: ``true``, ``0.95``, ``60,000,000``, ``nan``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else str(value)


def format_bound(bound: dict | None) -> str:
    """A bound for people: ``≤ 3.5``, ``≥ 25``, ``0.9 – 1.1``, ``= true``, ``—`` for none."""
    if not bound:
        return "—"
    if "equals" in bound:
        return f"= {format_value(bound['equals'])}"
    if "min" in bound and "max" in bound:
        return f"{format_value(bound['min'])} – {format_value(bound['max'])}"
    if "min" in bound:
        return f"≥ {format_value(bound['min'])}"
    return f"≤ {format_value(bound['max'])}"
