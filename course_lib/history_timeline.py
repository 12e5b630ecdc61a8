"""A timeline as data: milestones (year, name, who, why it mattered, source) and the periods
between them (the winters), read from a TOML file such as ``lessons/00_history/milestones.toml``::

    [[milestone]]
    year = 1986
    name = "Backpropagation"                  # the label on the figure
    who = "Rumelhart, Hinton & Williams"
    why = "Gradients through hidden layers let a network learn its own features."
    source = "Rumelhart, Hinton & Williams 1986, Nature 323:533"
    seed = "004"                              # optional: the seed talk that tells it
    claim = "rumelhart1986.xor_hidden_layer_accuracy"   # optional: a claim with its number

    [[winter]]
    start = 1969
    end = 1980
    label = "first winter"
    why = "no one knew how to train more than one layer of weights"

:func:`load_timeline` checks the whole file before returning anything: every problem names the
file and the entry.  :func:`course_lib.plot.timeline.timeline` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, installed as tomli
    import tomli as tomllib

YEARS = (1900, 2100)  # a year outside this range is a typing error
MILESTONE_FIELDS = {"year": int, "name": str, "who": str, "why": str, "source": str}
MILESTONE_OPTIONAL = {"seed": str, "claim": str}
WINTER_FIELDS = {"start": int, "end": int, "label": str, "why": str}


class TimelineError(ValueError):
    """A timeline file that cannot be read, with every problem it has."""


@dataclass(frozen=True)
class Milestone:
    year: int
    name: str
    who: str
    why: str
    source: str
    seed: str = ""
    claim: str = ""


@dataclass(frozen=True)
class Winter:
    start: int
    end: int
    label: str
    why: str


@dataclass(frozen=True)
class Timeline:
    milestones: tuple[Milestone, ...]  # by year; the file's order within a year
    winters: tuple[Winter, ...]

    def claims(self) -> list[str]:
        """The claim ids the milestones name, in order."""
        return [m.claim for m in self.milestones if m.claim]


def _field_problems(entry, required: dict, optional: dict) -> list[str]:
    if not isinstance(entry, dict):
        return ["is not a table"]
    problems = [f"misses {key!r}" for key in required if key not in entry]
    for key, value in entry.items():
        kind = {**required, **optional}.get(key)
        if kind is None:
            problems.append(
                f"has an unknown field {key!r} (fields: {', '.join(required)}, "
                f"optional {', '.join(optional)})"
            )
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{key!r} must be a {kind.__name__}, not {value!r}")
        elif kind is str and not value.strip():
            problems.append(f"{key!r} is empty")
    for key in ("year", "start", "end"):
        year = entry.get(key)
        if isinstance(year, int) and not YEARS[0] <= year <= YEARS[1]:
            problems.append(f"{key} {year} is outside {YEARS[0]}-{YEARS[1]}")
    return problems


def _entries(raw: dict, key: str, required: dict, optional: dict) -> tuple[list, list[str]]:
    entries = raw.get(key, [])
    if not isinstance(entries, list):
        return [], [f"[[{key}]] must be an array of tables"]
    problems = []
    for i, entry in enumerate(entries, start=1):
        label = f"{key} {i}" + (
            f" ({entry['name']})"
            if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            else ""
        )
        problems += [f"{label} {p}" for p in _field_problems(entry, required, optional)]
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("end"), int)
            and isinstance(entry.get("start"), int)
            and entry["end"] <= entry["start"]
        ):
            problems.append(f"{label} ends ({entry['end']}) before it starts ({entry['start']})")
    return entries, problems


def parse_timeline(raw: dict, name: str = "timeline") -> Timeline:
    """A :class:`Timeline` from a parsed TOML document; :class:`TimelineError` lists every
    problem, each prefixed with ``name``."""
    milestones, problems = _entries(raw, "milestone", MILESTONE_FIELDS, MILESTONE_OPTIONAL)
    winters, more = _entries(raw, "winter", WINTER_FIELDS, {})
    problems += more + [f"unknown section {k!r}" for k in raw if k not in ("milestone", "winter")]
    if not milestones and not problems:
        problems.append("has no [[milestone]] tables")
    if problems:
        raise TimelineError("\n".join(f"{name}: {p}" for p in problems))
    ordered = sorted((Milestone(**m) for m in milestones), key=lambda m: m.year)
    return Timeline(tuple(ordered), tuple(Winter(**w) for w in winters))


def load_timeline(path) -> Timeline:
    """Read and check a timeline file (see the module docstring)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TimelineError(f"{path}: no such timeline file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TimelineError(f"{path}: not valid TOML ({err})") from None
    return parse_timeline(raw, str(path))
