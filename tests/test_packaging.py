"""pyproject.toml, environment.yml and constraints.txt describe the same dependencies."""

import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda package name -> PyPI name


def _name_and_spec(requirement: str) -> tuple[str, str]:
    """``"tomli>=1.1; python_version < '3.11'"`` -> ``("tomli", ">=1.1")`` (markers and comments
    dropped)."""
    requirement = requirement.split(";")[0].split("#")[0]
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["test"]
    return dict(_name_and_spec(r) for r in reqs)


def _conda_requirements() -> dict[str, str]:
    reqs = {}
    text = (REPO / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = re.match(r"^  - ([A-Za-z].*)$", line)  # top-level conda dependencies only
        if item:
            name, spec = _name_and_spec(item.group(1))
            reqs[CONDA_NAMES.get(name, name)] = spec
    reqs.pop("python", None)
    reqs.pop("pip", None)
    return reqs


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    assert _conda_requirements() == _pyproject_requirements()


def test_package_metadata_has_no_exact_pins():
    for name, spec in _pyproject_requirements().items():
        assert "==" not in spec, (
            f"{name}{spec}: pin exact versions in constraints.txt, not in pyproject.toml"
        )


def test_constraints_pin_every_direct_dependency_exactly():
    pinned = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, spec = _name_and_spec(line)
            pinned[name] = spec
    for name in _pyproject_requirements():
        assert pinned.get(name, "").startswith("=="), f"{name} is not pinned in constraints.txt"
    assert pinned["torch"] == "==2.13.0", (
        "CI takes the CPU torch 2.13.0; another pin may pull a CUDA build"
    )
