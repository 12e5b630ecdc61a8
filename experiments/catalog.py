"""The lesson notebooks: ``NN_slug.ipynb`` files, their lesson number and title."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from experiments import UserError

NOTEBOOK_NAME = re.compile(r"^(\d{2})_([A-Za-z0-9_-]+)\.ipynb$")


@dataclass(frozen=True)
class Notebook:
    """One lesson notebook, e.g. ``04_autoencoders.ipynb``: lesson ``"04"``, slug
    ``"autoencoders"``."""

    path: Path
    lesson: str
    slug: str
    title: str

    @property
    def name(self) -> str:
        """``NN_slug``: the stem every file of this notebook in a run folder is named after."""
        return self.path.stem


def notebook_title(path: Path) -> str:
    """The text of the first markdown heading, or ``""`` when there is none (or the file is
    unreadable)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - a broken notebook is reported when it is run, not here
        return ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                return line.strip().lstrip("#").strip()
    return ""


def find_notebooks(folder: str | Path) -> list[Notebook]:
    """Every ``NN_slug.ipynb`` in ``folder``, in lesson order; two notebooks for one lesson is an
    error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"notebook folder {folder} does not exist")
    found: dict[str, Notebook] = {}
    for path in sorted(folder.glob("*.ipynb")):
        match = NOTEBOOK_NAME.match(path.name)
        if not match:
            continue
        lesson, slug = match.groups()
        if lesson in found:
            raise UserError(
                f"two notebooks for lesson {lesson}: {found[lesson].path.name} and {path.name}"
            )
        title = re.sub(rf"^{lesson}\s*[—–·:.-]?\s+", "", notebook_title(path)) or slug.replace(
            "_", " "
        )
        found[lesson] = Notebook(path.resolve(), lesson, slug, title)
    return list(found.values())


def select(notebooks: list[Notebook], only: list[str] | None) -> list[Notebook]:
    """The notebooks named in ``only`` (``"4"``, ``"04"`` or ``"04_slug"``); all when ``only`` is
    empty."""
    if not only:
        return notebooks
    by_lesson = {nb.lesson: nb for nb in notebooks}
    chosen = []
    for item in only:
        lesson = item.split("_", 1)[0].zfill(2)
        if lesson not in by_lesson:
            have = ", ".join(by_lesson) or "none"
            raise UserError(f"no notebook for lesson {item!r} (notebooks found: {have})")
        if by_lesson[lesson] not in chosen:
            chosen.append(by_lesson[lesson])
    return sorted(chosen, key=lambda nb: nb.lesson)
