"""A lesson's plumbing: its settings per profile, published numbers, and recorded results.

In a batch run, papermill passes ``profile`` and ``results_path`` into the notebook's ``parameters``
cell and the notebook calls::

    cfg = repro.profile(profile, quick=dict(n_train=6000), full=dict(n_train=60000),
                        n_train=n_train)
    repro.start(results_path, notebook="04_autoencoders", profile=profile, seed=seed)
    target = repro.published("hinton2006.ae30_test_sqerr")  # 3.0, from lessons/04_.../lesson.toml
    repro.record("hinton2006.ae30_test_sqerr", err)         # joined with the published number
    repro.save_figure(fig, "reconstructions", caption="...")

Every dataset file the lesson located is recorded too, by its checksum (the data version).

Run interactively (``results_path=None``) the same calls only print, so a learner's notebook
never needs a batch run around it.  The JSON file is rewritten after every call, so results
recorded before a crash survive it.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import time
from pathlib import Path

from course_lib.backend import describe_machine, devices_used
from course_lib.claims import CLAIM_ID, ID_FORM, Registry, check_profile, claims_dir, load_claims

# JupyterLab on a 1440-px laptop screen shows a cell's output about 1008 px wide; a PNG wider than
# this is scaled below 75 % and its labels become hard to read (the claims gate says so)
WIDEST_FIGURE_PX = 1344


class Settings(dict):
    """A lesson's settings: a dict whose keys are also attributes (``cfg.n_train ==
    cfg["n_train"]``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"no setting {name!r}; the settings are {', '.join(self) or 'none'}"
            ) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __repr__(self) -> str:
        items = [f"{key}={value!r}" for key, value in self.items()]
        line = f"Settings({', '.join(items)})"
        return (
            line
            if len(line) <= 100
            else "Settings(\n" + "".join(f"    {i},\n" for i in items) + ")"
        )


def _number(value) -> int | float | None:
    """``value`` as an int or float (``"4000"`` -> 4000, ``"1e-3"`` -> 0.001); None if it is not
    one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    for parse in (int, float) if isinstance(value, str) else ():
        try:
            return parse(value)
        except ValueError:
            pass
    return None


def _like(current, name: str, value, positive: bool = False):
    """``value`` converted to the type of ``current`` when that is int or float (4000.0 -> 4000);
    a number must be finite, and above 0 where ``positive`` (both profiles' values are)."""
    kind = type(current)
    if kind not in (int, float):
        return value
    number = _number(value)
    if (
        number is None
        or not math.isfinite(number)
        or (kind is int and not float(number).is_integer())
    ):
        raise ValueError(
            f"parameter {name}={value!r}: expected {kind.__name__} like the profile's {current!r}"
        )
    if positive and number <= 0:
        raise ValueError(
            f"parameter {name}={value!r}: must be above 0, as in both profiles (this one uses "
            f"{current!r}); give a positive {kind.__name__}"
        )
    return kind(number)


def profile(name: str, *, quick: dict, full: dict, **overrides) -> Settings:
    """The settings of profile ``name`` (a copy of ``quick`` or ``full``), with overrides applied.

    Each override that is not None replaces the profile's value, converted to its type when that is
    int or float, so a notebook passes its parameters straight in::

        cfg = repro.profile(profile, quick=dict(n_train=6000), full=dict(n_train=60000),
        n_train=n_train)

    An unknown profile, an override the profiles do not have, a value that does not convert, or
    ``quick`` and ``full`` with different keys raise :class:`ValueError`.
    """
    if set(quick) != set(full):
        only = [
            f"only in {p}: {', '.join(sorted(set(a) - set(b)))}"
            for p, a, b in (("quick", quick, full), ("full", full, quick))
            if set(a) - set(b)
        ]
        raise ValueError(f"the quick and full profiles must have the same keys ({'; '.join(only)})")
    settings = Settings(copy.deepcopy({"quick": quick, "full": full}[check_profile(name)]))
    for key, value in overrides.items():
        if key not in settings:
            raise ValueError(
                f"unknown parameter {key!r}: the profile's settings are {', '.join(settings)}"
            )
        if value is not None:
            positive = all(_is_positive(p[key]) for p in (quick, full))
            settings[key] = _like(settings[key], key, value, positive)
    return settings


def _is_positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


@functools.cache
def _registry(folder: Path) -> Registry:
    return load_claims(folder)


def published(claim_id: str):
    """The published value (number, bool or string) of the registered claim ``claim_id``.

    Read from the claims folder (``$COURSE_CLAIMS``, else the lessons' homes in ``lessons/``),
    once per process; an unknown id raises :class:`course_lib.claims.UnknownClaimError` (a
    KeyError).
    """
    return _registry(claims_dir().resolve()).claim(claim_id).published


def _plain(value):
    """Turn numpy/cupy/torch scalars into plain Python numbers for JSON."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(
        f"cannot record a value of type {type(value).__name__}; record a number, bool or string"
    )


class Recorder:
    """Collects ``claim id -> value`` and figures for one notebook run."""

    def __init__(self, results_path=None, *, notebook=None, profile=None, seed=None):
        self.path = Path(results_path) if results_path else None
        self.data = {
            "notebook": notebook,
            "profile": profile,
            "seed": seed,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": describe_machine(),
            "claims": {},
            "figures": [],
            "files": {},
        }
        self._t0 = time.perf_counter()
        self._data_stamp = _dataset_stamp()  # datasets located from here on are this run's
        self._write()

    @property
    def figure_dir(self) -> Path | None:
        """Where figures go: ``<results stem>_figures/`` beside the results file."""
        return None if self.path is None else self.path.with_name(self.path.stem + "_figures")

    def record(self, claim_id: str, value, *, note: str = "", inputs=()) -> None:
        """Record the reproduced ``value`` of claim ``claim_id`` (e.g.
        ``"lecun1998.lenet5_test_error"``); ``inputs``: roles of files recorded with
        :meth:`record_file` that produced it, stored with their checksums."""
        if not CLAIM_ID.match(claim_id):
            raise ValueError(f"claim id {claim_id!r} is not of the form {ID_FORM}")
        unknown = [role for role in inputs if role not in self.data["files"]]
        if unknown:
            raise ValueError(
                f"claim {claim_id}: inputs {unknown} were not recorded; call record_file first "
                f"(recorded: {', '.join(self.data['files']) or 'none'})"
            )
        value = _plain(value)
        self.data["claims"][claim_id] = {"value": value, "note": note}
        if inputs:
            files = self.data["files"]
            self.data["claims"][claim_id]["inputs"] = {r: files[r]["checksum"] for r in inputs}
        shown = f"{value:.6g}" if isinstance(value, float) and math.isfinite(value) else value
        print(f"[record] {claim_id} = {shown}" + (f"  ({note})" if note else ""))
        self._write()

    def record_file(self, role: str, path, *, checksum: str | None = None, note="") -> str:
        """Record a file the run read or wrote, identified by its content: ``"sha256:<hex>"`` of
        its bytes, or the given ``checksum`` (a dataset's, from the registry).  Returns it."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", role):
            raise ValueError(f"file role {role!r} may hold only letters, digits, '_', '.', '-'")
        if checksum is None:
            from course_lib.data.store import file_digest

            checksum = "sha256:" + file_digest(path)
        self.data["files"][role] = {"path": str(path), "checksum": checksum, "note": note}
        self._write()
        return checksum

    def save_figure(self, fig, name: str, *, caption: str = "") -> Path | None:
        """Save a matplotlib figure for the report as ``<name>.png``; interactive runs save
        nothing."""
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ValueError(f"figure name {name!r} may hold only letters, digits, '_' and '-'")
        if self.figure_dir is None:
            return None
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        out = self.figure_dir / f"{name}.png"
        fig.savefig(out, dpi=100, bbox_inches="tight")
        rel = f"{self.figure_dir.name}/{out.name}"
        self.data["figures"] = [f for f in self.data["figures"] if f["path"] != rel]
        self.data["figures"].append({"path": rel, "caption": caption, "width_px": png_width(out)})
        self._write()
        return out

    def _write(self) -> None:
        if self.path is None:
            return
        self.data["elapsed_s"] = round(time.perf_counter() - self._t0, 3)
        # what the lesson ran on, not the "auto" it asked for; the CPU if it never chose
        self.data["devices"] = devices_used() or ["cpu"]
        self._note_datasets()
        # one name for every file behind this run's numbers: equal runs, equal data versions
        files = self.data["files"]
        self.data["data_version"] = version({role: f["checksum"] for role, f in files.items()})
        write_json(self.path, self.data)

    def _note_datasets(self) -> None:
        """Every dataset file the lesson read, under its own name, with its registry checksum
        (verified when it was located): the data version behind the numbers."""
        from course_lib.data.registry import entry
        from course_lib.data.store import datasets_used

        for name, path in datasets_used(since=self._data_stamp).items():
            e = entry(name)
            self.data["files"].setdefault(
                name, {"path": str(path), "checksum": e.checksum, "note": checksum_note(e)}
            )


def png_width(path) -> int:
    """Width in pixels of the PNG at ``path``, read from its header (bytes 16-20 of the IHDR)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(head[16:20], "big")


def write_json(path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    from course_lib.fileio import write_text

    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))


def read_json(path) -> dict | None:
    """The JSON object in ``path``, or ``None`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


_active: Recorder | None = None


def start(results_path=None, *, notebook=None, profile=None, seed=None) -> Recorder:
    """Begin recording for this notebook; ``results_path=None`` records to nothing (interactive
    use)."""
    global _active
    _active = Recorder(results_path, notebook=notebook, profile=profile, seed=seed)
    return _active


def _recorder() -> Recorder:
    global _active
    if _active is None:
        _active = Recorder(None)
    return _active


def record(claim_id: str, value, *, note: str = "", inputs=()) -> None:
    """Record a reproduced value by claim id on the active recorder (see :func:`start`)."""
    _recorder().record(claim_id, value, note=note, inputs=inputs)


def record_file(role: str, path, *, checksum: str | None = None, note: str = "") -> str:
    """Record a file by its content hash on the active recorder (:meth:`Recorder.record_file`)."""
    return _recorder().record_file(role, path, checksum=checksum, note=note)


def record_dataset(name: str, data_dir=None) -> str:
    """Record the registry's dataset file ``name``: found, verified against its checksum (so the
    checksum is the content's), and recorded under its own name.  Returns the checksum."""
    from course_lib.data.registry import entry
    from course_lib.data.store import locate

    e = entry(name)
    return record_file(name, locate(name, data_dir), checksum=e.checksum, note=checksum_note(e))


def _dataset_stamp() -> int:
    from course_lib.data.store import use_count

    return use_count()


def checksum_note(e) -> str:
    """What a registry entry's checksum is of: the file, or its decompressed content."""
    return "of the decompressed content" if e.covers == "decompressed" else "of the file"


def recorded_files() -> dict:
    """The files this run has recorded so far, ``{role: checksum}``."""
    return {role: f["checksum"] for role, f in _recorder().data["files"].items()}


def version(checksums) -> str:
    """One identifier for a set of files: sha256 of their sorted "role checksum" lines."""
    import hashlib

    lines = "\n".join(sorted(f"{role} {c}" for role, c in dict(checksums).items()))
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def recorded() -> dict:
    """What this run has recorded so far on the active recorder, ``{claim_id: value}``."""
    return {claim: entry["value"] for claim, entry in _recorder().data["claims"].items()}


def save_figure(fig, name: str, *, caption: str = "") -> Path | None:
    """Save a figure for the report on the active recorder (see :func:`start`)."""
    return _recorder().save_figure(fig, name, caption=caption)
