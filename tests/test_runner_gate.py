"""The claims gate on a real run: `run --strict` and `check` fail on a claim whose quick bound it
misses, pass when the bound holds; claims without a bound and lessons not yet written never fail
it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_runner import CLAIM, make_notebook, read  # noqa: E402

from experiments.__main__ import main  # noqa: E402

BODY = """
from course_lib import repro
repro.start(results_path, notebook="01_gate", profile=profile, seed=seed)
repro.record("demo.x", 1.0)
repro.record("demo.free", float("nan"))  # no bound: judged, shown, never gated
"""

FREE = """
[[claim]]
id = "demo.free"
lesson = "01"
title = "A measurement without a bound"
published = "none"
source = "Demo 2024"
checked = true
"""


def claims_folder(path: Path, quick_bound: str) -> Path:
    path.mkdir()
    (path / "01.toml").write_text(
        CLAIM.format(id="demo.x", lesson="01", published=1.0, bound=quick_bound) + FREE
    )
    (path / "07.toml").write_text(
        CLAIM.format(id="demo.later", lesson="07", published=1.0, bound="{ max = 0.1 }")
    )
    return path


def test_strict_run_and_check_fail_on_a_missed_bound_and_pass_on_a_kept_one(tmp_path, capsys):
    nbs, out = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    make_notebook(nbs, "01_gate", BODY)
    broken = claims_folder(tmp_path / "broken", "{ max = 0.5 }")
    kept = claims_folder(tmp_path / "kept", "{ max = 2.0 }")

    def run(claims, *extra):
        return main(
            ["run", "--notebooks", str(nbs), "--claims", str(claims), "--out", str(out), *extra]
        )

    assert run(broken, "--strict") == 1
    shown = capsys.readouterr().out
    assert "claims gate failed (quick profile): 1 problem(s)" in shown
    assert "  claim demo.x (01_gate): reproduced 1, bound ≤ 0.5 (quick): fail" in shown
    assert "demo.free" not in shown and "demo.later" not in shown
    assert (
        "wall time per notebook (one at a time; budget 60 s a lesson):" in shown
        and "01_gate" in shown
        and "  total " in shown
    )
    meta = read(out / "meta" / "01_gate.json")
    assert (
        meta["jobs"] == 1
        and meta["threads_per_kernel"] is None
        and read(out / "run.json")["jobs"] == 1
    )

    assert main(["check", str(out)]) == 1  # the claims folder the run used, from run.json
    assert (
        "  claim demo.x (01_gate): reproduced 1, bound ≤ 0.5 (quick): fail"
        in capsys.readouterr().out
    )

    assert (
        run(broken) == 0
    )  # without --strict a missed bound is a finding (the notebook is not rerun)
    assert "skipped" in capsys.readouterr().out

    assert run(kept, "--strict") == 0
    assert (
        "claims gate passed: 1 notebook(s) ok, 1 claim(s) with a quick bound pass"
        in capsys.readouterr().out
    )
    assert main(["check", str(out)]) == 0
    assert "claims gate passed" in capsys.readouterr().out
    assert main(["check", str(out), "--claims", str(broken)]) == 1
    assert "demo.x (01_gate): reproduced 1, bound ≤ 0.5" in capsys.readouterr().out
