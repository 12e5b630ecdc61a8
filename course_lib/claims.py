"""The published claims: one TOML file per lesson, in its home ``lessons/NN_slug/lesson.toml``
(or ``NN.toml`` in a flat folder of claims files), and pass/fail.

A file holds an optional top-level ``title`` (the lesson's name), the lesson's ``benchmarks`` and
``results`` (see :mod:`course_lib.lessons`), and ``[[claim]]`` tables::

    [[claim]]
    id = "hinton2006.ae30_test_sqerr"     # source.name, lower case
    lesson = "04"                         # must match the file's (or its folder's) number
    title = "Deep autoencoder 784-1000-500-250-30: MNIST test squared error per image"
    published = 3.00                      # a number, a bool, or a string
    unit = "squared error per image"      # optional
    source = "Hinton & Salakhutdinov 2006, Science 313:504, Fig. 2"
    setting = "..."                       # optional
    checked = true                        # false: still to be confirmed against the paper
    full = { max = 3.5 }                  # optional bound per profile: min, max and/or equals
    quick = { max = 20.0 }                # omitted: recorded, no bound
    needs = "gpu"                         # optional: what recording it needs (see NEEDS)
    kind = "context"                      # optional: a published fact shown, never measured
    baseline = "hinton2006.pca30_test_sqerr"  # optional: the trivial baseline it must beat

A ``baseline`` names a claim of the same lesson (what a trivial method scores, recorded beside
it); the claim's bounds must then be one-sided, and the side says which way is better: ``max``
(lower is better) must lie below the baseline's value, ``min`` above it
(``tests/test_claim_baselines.py`` holds the bounds to the committed full run's values).

:func:`load_claims` merges the files and validates them (every problem names its file);
:func:`judge` decides whether a reproduced value meets a claim's bound.  The folder is
``$COURSE_CLAIMS`` if set, else the lessons' homes (``$COURSE_LESSONS`` or the repository's
``lessons/``; see :func:`claims_dir`).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.claim_fields import CLAIM_ID as CLAIM_ID  # the schema, re-exported here
from course_lib.claim_fields import ID_FORM as ID_FORM
from course_lib.claim_fields import KINDS as KINDS
from course_lib.claim_fields import NEEDS as NEEDS
from course_lib.claim_fields import PROFILES as PROFILES
from course_lib.claim_fields import as_needs, claim_problems
from course_lib.claim_fields import bound_problems as bound_problems
from course_lib.claim_fields import is_number as is_number
from course_lib.lessons import HOME_NAME, MANIFEST, lessons_dir

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, installed as tomli (see pyproject.toml)
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

CLAIMS_ENV = "COURSE_CLAIMS"
FILE_NAME = re.compile(r"^\d{2}$")
TOP_LEVEL = ("title", "benchmarks", "results", "claim")
PASS, FAIL, NOT_RUN, NO_BOUND = "pass", "fail", "not run", "recorded — no bound"
AWAIT_GPU, AWAIT_DATA, CONTEXT = "awaiting a GPU run", "awaiting a dataset", "context"
MISSING = object()  # "no value was recorded", as opposed to a recorded None


NO_TOML = (
    "reading the claims files needs Python 3.11 or later (the tomllib module), "
    "or the tomli package on Python 3.10: pip install tomli"
)


class ClaimsError(ValueError):
    """The claims registry is invalid or cannot be found."""


class UnknownClaimError(KeyError):
    """No registered claim has this id."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise a :class:`ValueError`."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    return profile


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
    needs: tuple[str, ...] = ()
    kind: str = "measured"
    baseline: str = ""
    file: str = ""

    def bound(self, profile: str) -> dict | None:
        """The pass bound for ``profile`` (``None``: recorded, no bound)."""
        return getattr(self, check_profile(profile))

    @property
    def unrecorded(self) -> str:
        """The status of this claim when no value was recorded: context, awaiting a dataset,
        awaiting a GPU run, or not run."""
        if self.kind == "context":
            return CONTEXT
        if any(need != "gpu" for need in self.needs):
            return AWAIT_DATA
        return AWAIT_GPU if self.needs else NOT_RUN


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

    def claim(self, claim_id: str) -> Claim:
        """The claim ``claim_id``; an :class:`UnknownClaimError` names the nearest registered
        ids."""
        found = self.get(claim_id)
        if found is None:
            raise UnknownClaimError(
                f"no claim {claim_id!r} is registered; {self._nearest(claim_id)}"
            )
        return found

    def _nearest(self, claim_id: str) -> str:
        prefix = claim_id.split(".", 1)[0]
        same = [c.id for c in self.claims if c.id.split(".", 1)[0] == prefix]
        if not same:
            sources = sorted({c.id.split(".", 1)[0] for c in self.claims})
            return f"no claim has the source {prefix!r} (sources: {', '.join(sources) or 'none'})"
        near = difflib.get_close_matches(claim_id, same, n=3, cutoff=0) or same[:3]
        return "nearest: " + ", ".join(near)


def claims_dir(folder: str | Path | None = None) -> Path:
    """``folder`` if given, else ``$COURSE_CLAIMS``, else the lessons' homes
    (:func:`course_lib.lessons.lessons_dir`)."""
    return Path(folder or os.environ.get(CLAIMS_ENV) or lessons_dir())


def claim_files(folder: Path) -> list[tuple[str, Path, str]]:
    """(lesson, path, name for messages) of every claims file in ``folder``: each lesson home's
    ``NN_slug/lesson.toml`` and each flat ``NN.toml``."""
    found = []
    for path in sorted(folder.iterdir()):
        match = HOME_NAME.match(path.name)
        if match and (path / MANIFEST).is_file():
            found.append((match.group(1), path / MANIFEST, f"{path.name}/{MANIFEST}"))
        elif path.suffix == ".toml" and path.is_file():
            found.append((path.stem, path, path.name))
    return found


def read_toml(path: Path) -> dict:
    """The TOML document at ``path``; a :class:`ClaimsError` names the file and the problem."""
    if tomllib is None:
        raise ClaimsError(NO_TOML)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ClaimsError(f"{path}: not valid TOML: {err}") from None


def _read_file(lesson: str, path: Path, name: str, registry: Registry, seen: dict) -> list[str]:
    """Add the valid claims of one claims file to ``registry``; return its problems."""
    if not FILE_NAME.match(lesson):
        return [f"{name}: claims files are named by lesson number, e.g. 04.toml"]
    try:
        doc = read_toml(path)
    except ClaimsError as err:
        return [f"{name}: {str(err).split(': ', 1)[1]}"]
    problems = []
    unknown = sorted(set(doc) - set(TOP_LEVEL))
    if unknown:
        problems.append(
            f"{name}: unknown top-level key(s) {', '.join(unknown)}; use "
            "title, benchmarks, results and [[claim]]"
        )
    for key in ("benchmarks", "results"):
        if key in doc and not (
            isinstance(doc[key], list) and all(isinstance(v, str) for v in doc[key])
        ):
            problems.append(f"{name}: {key} must be a list of strings")
    if isinstance(doc.get("title"), str):
        registry.titles[lesson] = doc["title"]
    elif "title" in doc:
        problems.append(f"{name}: title must be a string")
    raws = doc.get("claim", [])
    if not isinstance(raws, list):
        return problems + [f"{name}: write claims as [[claim]] tables"]
    for n, raw in enumerate(raws, start=1):
        where = f"{name}: claim #{n}" + (
            f" ({raw['id']})" if isinstance(raw.get("id"), str) else ""
        )
        found = claim_problems(raw, lesson)
        if isinstance(raw.get("id"), str) and raw["id"] in seen:
            found.append(f"duplicate id, already defined in {seen[raw['id']]}")
        if found:
            problems += [f"{where}: {p}" for p in found]
            continue
        seen[raw["id"]] = name
        needs = as_needs(raw.get("needs", ()))
        registry.claims.append(Claim(**{**raw, "needs": needs}, file=name))
    ids = {c.id for c in registry.claims if c.file == name}
    problems += [
        f"{name}: claim {c.id}: baseline {c.baseline!r} is not a claim of this lesson's file"
        for c in registry.claims
        if c.file == name and c.baseline and c.baseline not in ids
    ]
    return problems


def load_claims(folder: str | Path | None = None) -> Registry:
    """Read and validate every claims file in ``folder`` (default: :func:`claims_dir`)."""
    folder = claims_dir(folder)
    if tomllib is None:
        raise ClaimsError(NO_TOML)
    if not folder.is_dir():
        raise ClaimsError(
            f"claims folder {folder} does not exist: set {CLAIMS_ENV} (or pass --claims) to "
            "the lessons' homes (the repository's lessons/) or a folder of NN.toml claims files"
        )
    registry, problems, seen = Registry(), [], {}
    for lesson, path, name in claim_files(folder):
        problems += _read_file(lesson, path, name, registry, seen)
    if problems:
        raise ClaimsError(f"invalid claims in {folder}:\n  " + "\n  ".join(problems))
    registry.claims.sort(key=lambda c: c.lesson)
    return registry


def judge(bound: dict | None, value=MISSING) -> str:
    """Status of a reproduced ``value`` against a bound ``{min, max, equals}`` (``None``: no bound).

    Nothing recorded is ``not run``; a recorded None, NaN or infinity always fails; otherwise
    ``min``/``max`` are inclusive limits on a number and ``equals`` an exact match (bool, string,
    number).
    """
    if value is MISSING:
        return NOT_RUN
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return FAIL
    if not bound:
        return NO_BOUND
    if "equals" in bound:
        target = bound["equals"]
        same_kind = (is_number(target) and is_number(value)) or type(target) is type(value)
        return PASS if same_kind and value == target else FAIL
    if not is_number(value):
        return FAIL
    if "min" in bound and value < bound["min"]:
        return FAIL
    if "max" in bound and value > bound["max"]:
        return FAIL
    return PASS


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
