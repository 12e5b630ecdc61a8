"""The house stays easy to read: no module over 400 lines, no function over 60, in the library and
the experiments (split a module by idea, a function by step, when one grows past these)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p for d in ("course_lib", "experiments") for p in (ROOT / d).rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def long_functions(source: str) -> list[str]:
    """'name (N lines)' for every function or method of ``source`` longer than the limit."""
    nodes = ast.walk(ast.parse(source))
    functions = [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lengths = [(f.name, f.end_lineno - f.lineno + 1) for f in functions]
    return [f"{name} ({n} lines)" for name, n in lengths if n > MAX_FUNCTION_LINES]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_sizes(path):
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split it by idea"
    assert not long_functions(source), f"over {MAX_FUNCTION_LINES} lines: {long_functions(source)}"


def test_the_measure_can_fail():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}\n") == ["f (61 lines)"]
    assert long_functions("def g():\n    return 1\n") == []
