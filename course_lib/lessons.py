"""Where each lesson's parts live: its home folder ``lessons/NN_slug/`` and its notebook.

A lesson is the notebook a learner opens, ``notebooks/NN_slug.ipynb``, and a home holding
everything else that belongs to it::

    lessons/05_sae_speed/
        lesson.toml     its title, the benchmarks it runs, the committed results it reads,
                        and its [[claim]] tables (the published results it must reproduce)
        exercises.py    its exercises: reference answers, the inputs they are checked on,
                        and a typical mistake each check must catch

``lesson("05")`` finds all of it from the number.  The homes are ``$COURSE_LESSONS`` if set,
else the repository's ``lessons/``; the notebooks sit in ``notebooks/`` beside that folder.
``python -m experiments new-lesson NN slug "Title"`` makes both from ``lessons/_template/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import course_lib

LESSONS_ENV = "COURSE_LESSONS"
LESSONS_DIR = Path(course_lib.__file__).resolve().parents[1] / "lessons"
HOME_NAME = re.compile(r"^(\d{2})_([a-z0-9_]+)$")
MANIFEST, EXERCISES_FILE = "lesson.toml", "exercises.py"
COMMITTED_RUN = Path("experiments") / "results" / "full-cpu-2core"  # the full profile, merged


class LessonError(LookupError):
    """No such lesson, or its home is incomplete."""


@dataclass(frozen=True)
class Lesson:
    """Lesson ``number``: its home folder and, by the same name, its notebook."""

    number: str
    slug: str
    home: Path

    @property
    def name(self) -> str:
        return f"{self.number}_{self.slug}"

    @property
    def notebook(self) -> Path:
        return self.home.parent.parent / "notebooks" / f"{self.name}.ipynb"

    @property
    def manifest(self) -> Path:
        return self.home / MANIFEST

    @property
    def exercises_file(self) -> Path:
        return self.home / EXERCISES_FILE

    def exercises(self) -> list:
        """The lesson's :class:`~course_lib.exercises.Exercise` list (empty without a file)."""
        module = self.exercises_module()
        return list(getattr(module, "EXERCISES", [])) if module else []

    def exercises_module(self):
        """The lesson's ``exercises.py``, imported once (None when the lesson has none)."""
        if not self.exercises_file.is_file():
            return None
        key = f"course_lessons.l{self.number}_{abs(hash(str(self.home)))}"
        if key not in sys.modules:
            spec = importlib.util.spec_from_file_location(key, self.exercises_file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[key] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[key]
                raise
        return sys.modules[key]

    def benchmarks(self) -> list[str]:
        """The benchmark modules its manifest names, e.g. ``experiments.bench_sae``."""
        return list(_manifest(self).get("benchmarks", []))

    def result_patterns(self) -> list[str]:
        """Its manifest's ``results``: glob patterns from the repository's root, such as
        ``experiments/results/sae_speed_*.json``."""
        return list(_manifest(self).get("results", []))

    def results(self) -> list[Path]:
        """The committed result files its patterns match."""
        root = self.home.parent.parent
        return [p for pattern in self.result_patterns() for p in sorted(root.glob(pattern))]

    def committed_run(self) -> dict:
        """What the committed full-profile run recorded, ``{claim_id: {"value", "note"}}``, read
        from ``experiments/results/full-cpu-2core/results/NN_slug.json`` ({} when none is)."""
        path = self.home.parent.parent / COMMITTED_RUN / "results" / f"{self.name}.json"
        if not path.is_file():
            return {}
        try:
            claims = json.loads(path.read_text(encoding="utf-8"))["claims"]
            if not all("value" in c for c in claims.values()):
                raise KeyError("value")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise LessonError(
                f"{path} is not a run's results JSON (claims with values): "
                f"{err!r}; rewrite it with `python -m experiments run`"
            ) from err
        return claims


def lessons_dir(folder: str | Path | None = None) -> Path:
    """``folder`` if given, else ``$COURSE_LESSONS``, else the repository's ``lessons/``."""
    return Path(folder or os.environ.get(LESSONS_ENV) or LESSONS_DIR)


def all_lessons(folder: str | Path | None = None) -> list[Lesson]:
    """Every home ``NN_slug/`` in the lessons folder, in lesson order."""
    root = lessons_dir(folder)
    found = []
    for home in sorted(root.iterdir()) if root.is_dir() else []:
        match = HOME_NAME.match(home.name)
        if match and home.is_dir():
            found.append(Lesson(match.group(1), match.group(2), home))
    return found


def lesson(number: str, folder: str | Path | None = None) -> Lesson:
    """Lesson ``number`` ("05"); a :class:`LessonError` lists the ones there are."""
    homes = all_lessons(folder)
    for found in homes:
        if found.number == number:
            return found
    there = ", ".join(h.number for h in homes) or "none"
    raise LessonError(f"no lesson {number!r} in {lessons_dir(folder)} (lessons: {there})")


def _manifest(found: Lesson) -> dict:
    from course_lib.claims import read_toml

    return read_toml(found.manifest) if found.manifest.is_file() else {}
