"""`run --jobs N`: notebooks side by side, each kernel in its own folder with its share of the CPU
threads."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_runner import make_notebook, read  # noqa: E402

from experiments import UserError  # noqa: E402
from experiments.__main__ import main  # noqa: E402
from experiments.runner import THREAD_VARS, cpu_count, run_batch, thread_share  # noqa: E402

SLEEPER = """
import json, os, time
start = time.time()
time.sleep(2)
seen = {{"start": start, "end": time.time(), "cwd": os.getcwd(),
         "env": {{v: os.environ.get(v) for v in {vars!r}}}}}
{extra}
json.dump(seen, open("{name}.json", "w"))
"""


def test_two_jobs_run_side_by_side_with_their_share_of_threads(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # set by the user: kept
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    nbs, claims, out = tmp_path / "nbs", tmp_path / "claims", tmp_path / "run"
    nbs.mkdir()
    claims.mkdir()
    torch_threads = "import torch\nseen['torch_threads'] = torch.get_num_threads()"
    make_notebook(nbs, "01_one", SLEEPER.format(vars=THREAD_VARS, extra=torch_threads, name="one"))
    make_notebook(nbs, "02_two", SLEEPER.format(vars=THREAD_VARS, extra="", name="two"))
    here = os.getcwd()

    assert (
        main(
            [
                "run",
                "--notebooks",
                str(nbs),
                "--claims",
                str(claims),
                "--out",
                str(out),
                "--jobs",
                "2",
            ]
        )
        == 0
    )

    share = max(1, cpu_count() // 2)
    one, two = read(nbs / "one.json"), read(nbs / "two.json")
    assert one["start"] < two["end"] and two["start"] < one["end"]  # the two sleeps overlapped
    walls = [read(out / "meta" / f"{n}.json")["wall_s"] for n in ("01_one", "02_two")]
    assert read(out / "run.json")["wall_s"] < sum(walls) - 1.0
    expected = {
        "OMP_NUM_THREADS": str(share),
        "OPENBLAS_NUM_THREADS": "3",
        "MKL_NUM_THREADS": str(share),
        "VECLIB_MAXIMUM_THREADS": str(share),
    }
    assert one["env"] == two["env"] == expected
    assert (
        one["torch_threads"] == share
    )  # torch takes its pool size from OMP_NUM_THREADS at start-up
    assert (
        one["cwd"] == two["cwd"] == str(nbs) and os.getcwd() == here
    )  # only the kernels ran in nbs/
    assert "OMP_NUM_THREADS" not in os.environ  # set for the kernels, not for this process
    for info in (
        read(out / "run.json"),
        read(out / "meta" / "01_one.json"),
        read(out / "meta" / "02_two.json"),
    ):
        assert (
            info["jobs"] == 2
            and info["threads_per_kernel"] == share
            and info["thread_env"] == expected
        )

    shown = capsys.readouterr().out
    table = shown[shown.index("wall time per notebook") :]
    how = f"2 at a time, {share} thread(s) per kernel; budget 60 s a lesson"
    assert f"wall time per notebook ({how}):" in table
    assert (
        "01_one" in table and "02_two" in table and "  total " in table and "the run took" in table
    )


def test_thread_share():
    assert thread_share(1, {}) == (None, {})  # one at a time: the libraries keep their defaults
    share, env = thread_share(2, {"MKL_NUM_THREADS": "4"})
    assert share == max(1, cpu_count() // 2) and "MKL_NUM_THREADS" not in env
    assert env == {var: str(share) for var in THREAD_VARS if var != "MKL_NUM_THREADS"}
    assert thread_share(10_000, {})[0] == 1


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_positive_whole_number(tmp_path, jobs):
    with pytest.raises(UserError, match="--jobs"):
        run_batch("quick", notebooks_dir=tmp_path, out=tmp_path / "run", jobs=jobs)
    assert not (tmp_path / "run").exists()


def test_jobs_on_the_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--notebooks", str(tmp_path), "--jobs", "0"])
    assert "argument --jobs: '0' is not a number of notebooks" in capsys.readouterr().err
