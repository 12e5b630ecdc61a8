"""The GPU machine's Python environment, as facts, and a guard that holds a command to it.

The device machine runs commands under its own image's ``python3`` (Python 3.12, torch 2.11,
CuPy 14, NumPy 2.5), not the course's lock, and nothing can be installed there.  ``packages.txt``
beside this file lists every distribution on that image (copied from the image's package list).

    python -m experiments.gpu_image -m experiments gpu-campaign --out gpu-run

runs a Python command with every import of a third-party module outside that list refused,
in the command and in every Python subprocess it starts (through ``site/sitecustomize.py`` on
``PYTHONPATH``).  A refused import raises ``ModuleNotFoundError`` naming the module, its
distribution and this list, exactly where the image would fail; code that catches
``ImportError`` for an optional package behaves as it would there.
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = HERE / "packages.txt"
SITE = HERE / "site"
OWN = frozenset({"course_lib", "experiments", "tests", "notebooks"})
ENV_FLAG = "COURSE_GPU_IMAGE_GUARD"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them: 'Foo_Bar' -> 'foo-bar'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def image_distributions(path: Path = PACKAGES) -> frozenset[str]:
    """The distribution names on the GPU image, normalised."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalise(n.strip()) for n in lines if n.strip() and not n.startswith("#"))


class ImageGuard(importlib.abc.MetaPathFinder):
    """Refuses a top-level module whose only distributions here are not on the GPU image."""

    def __init__(self, allowed: frozenset[str]):
        self.allowed = allowed
        self.owners = importlib.metadata.packages_distributions()

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if path is not None or top in sys.stdlib_module_names or top in OWN:
            return None  # submodules follow their package; the standard library is everywhere
        owners = self.owners.get(top, [])
        if not owners or any(normalise(d) in self.allowed for d in owners):
            return None
        raise ModuleNotFoundError(
            f"import {fullname!r} refused: its distribution {owners[0]!r} is not on the GPU image "
            f"(experiments/gpu_image/packages.txt); import it lazily where it is needed, or carry "
            f"it as a wheel (python -m experiments gpu-campaign --plan)",
            name=fullname,
        )


def install() -> None:
    """Put the guard first on ``sys.meta_path`` (once), and hide the metadata of distributions
    the image lacks."""
    if not any(isinstance(f, ImageGuard) for f in sys.meta_path):
        allowed = image_distributions()
        sys.meta_path.insert(0, ImageGuard(allowed))
        hide_missing_metadata(allowed | {normalise(n) for n in OWN})


def hide_missing_metadata(allowed: frozenset[str]) -> None:
    """``importlib.metadata`` finds no distribution the image lacks: torch, for one, asks
    ``importlib.metadata.version("optree")`` and then imports optree if it is installed, which
    on the image it is not."""
    from_name = importlib.metadata.Distribution.from_name.__func__

    def image_from_name(cls, name: str):
        if normalise(name) not in allowed:
            raise importlib.metadata.PackageNotFoundError(name)
        return from_name(cls, name)

    importlib.metadata.Distribution.from_name = classmethod(image_from_name)


def guarded_env(env: dict | None = None) -> dict:
    """``env`` with the guard switched on for every Python process started with it."""
    env = dict(os.environ if env is None else env)
    parts = [str(SITE), str(HERE.parents[1]), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env[ENV_FLAG] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # else pytest loads plugins the image lacks (nbval)
    return env


def main(argv: list[str]) -> int:
    """Run ``python argv`` under the guard; its exit status."""
    if not argv:
        print("usage: python -m experiments.gpu_image ARGS... (the arguments after python)")
        return 2
    return subprocess.call([sys.executable, *argv], env=guarded_env())
