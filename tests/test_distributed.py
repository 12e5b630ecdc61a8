"""Lesson 13's data parallelism: Strom's encoding and bookkeeping (exact), and real torchrun runs
with 2 gloo workers: all-reduce equals one process on the same global batch, a dying worker fails
the launch, a hung one is stopped by the time limit."""

import _thread
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import torch
from interrupts import ctrl_c_handled

from course_lib.distributed import launch, strom


def dyadic(rng, shape, scale=2**-6):
    """Random multiples of 2^-20 (times scale, a power of two): sums and differences of a few
    of them are exact in float64, so the bookkeeping can be checked with ==."""
    return torch.tensor(rng.integers(-(2**20), 2**20, shape) * 2.0**-20 * scale)


def test_encode_decode_round_trip_keeps_index_zero_and_signs():
    sent = strom.quantise(torch.tensor([-0.5, 0.1, 0.0, 0.3, -0.2, 0.7]), 0.25)
    np.testing.assert_array_equal(sent, [-0.25, 0, 0, 0.25, 0, 0.25])
    message = strom.encode(sent)
    assert message.dtype == torch.int32 and message.tolist() == [-1, 4, 6]
    np.testing.assert_array_equal(strom.decode(message, 0.25, 6, torch.float64), sent)
    padded = torch.cat([message, torch.zeros(3, dtype=torch.int32)])  # padding decodes to 0
    np.testing.assert_array_equal(strom.decode(padded, 0.25, 6, torch.float64), sent)


def test_what_is_sent_plus_the_residual_is_what_was_owed_exactly():
    rng = np.random.default_rng(0)
    params = [torch.zeros(3, 4), torch.zeros(5)]
    state = strom.StromState(tau=2**-7)
    owed = [torch.zeros(3, 4, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)]
    total_sent = torch.zeros(17, dtype=torch.float64)
    for _ in range(6):
        grads = [dyadic(rng, (3, 4)), dyadic(rng, (5,))]
        before = torch.cat(
            [state.residual.get(p, torch.zeros_like(g)).flatten() for p, g in zip(params, grads)]
        )
        sent = state.step(params, grads)
        after = torch.cat([state.residual[p].flatten() for p in params])
        assert torch.equal(sent + after, before + torch.cat([g.flatten() for g in grads]))
        assert set(sent.abs().unique().tolist()) <= {0.0, 2**-7}
        total_sent += sent
        owed = [o + g for o, g in zip(owed, grads)]
    residual = torch.cat([state.residual[p].flatten() for p in params])
    assert torch.equal(total_sent + residual, torch.cat([o.flatten() for o in owed]))


def test_a_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="tau must be > 0"):
        strom.StromState(0.0)


def test_two_gloo_workers_match_one_process_on_the_same_global_batch(tmp_path, data_dir):
    common = dict(steps=15, batch=32, eval_every=15, hidden=16, timeout_s=120)
    single = launch.run("single", save_params=tmp_path / "one.npz", **common)
    ddp = launch.run("allreduce", 2, save_params=tmp_path / "two.npz", **common)
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    for name in one.files:
        np.testing.assert_allclose(one[name], two[name], rtol=1e-5, atol=1e-6)
    assert ddp["world"] == 2 and ddp["bytes"][-1] == 15 * 4 * ddp["parameters"]
    assert single["bytes"][-1] == 0


def test_strom_and_averaging_runs_count_their_bytes(data_dir):
    common = dict(steps=12, batch=32, eval_every=6, hidden=16, timeout_s=120)
    s = launch.run("strom", 2, tau=0.01, **common)
    assert 0 < s["fraction_sent"] < 1 and 0 < s["bytes"][-1] < 12 * s["dense_bytes_per_step"]
    a = launch.run("average", 2, average_every=4, **common)
    assert a["bytes"] == [4 * a["parameters"], 12 * a["parameters"]]  # after steps 4 and 12: 1, 3


def test_a_dying_worker_fails_the_launch_quickly(data_dir):
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="failed"):
        # the limit leaves room for two workers starting on a loaded machine (18 s seen there)
        launch.run("allreduce", 2, steps=200, die_at_step=3, hidden=16, timeout_s=90)
    assert time.perf_counter() - t0 < 100


def test_a_run_past_its_time_limit_is_stopped():
    with pytest.raises(RuntimeError, match="did not finish within 1 s"):
        launch.run("allreduce", 2, steps=10**6, timeout_s=1)


def test_the_command_line():
    cmd = launch.command("strom", 4, tau=0.1, steps=None)
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--standalone"]
    assert "--nproc-per-node=4" in cmd and cmd[-2:] == ["--tau", "0.1"] and "--steps" not in cmd
    assert launch.command("single", 4)[1:3] == ["-m", "course_lib.distributed.worker"]


def test_the_launcher_shows_the_workers_steps_as_a_bar(capfd, data_dir):
    launch.run("single", steps=6, batch=16, eval_every=2, hidden=8, progress=True, timeout_s=120)
    out, _ = capfd.readouterr()
    assert "single, 1 process" in out and "6/6" in out  # the bar moved with the step lines


class CountingBar:
    def __init__(self):
        self.n, self.refreshes = 0, 0

    def refresh(self):
        self.refreshes += 1


def test_the_bar_is_redrawn_while_the_workers_print_nothing():
    # a learner must see the clock move during a silent start (importing torch, loading data)
    bar, quiet = CountingBar(), [sys.executable, "-c", "import time; time.sleep(1.3)"]
    code, _ = launch.supervise(quiet, dict(os.environ), timeout_s=30, bar=bar, every_s=0.25)
    assert code == 0 and bar.refreshes >= 3
    with pytest.raises(subprocess.TimeoutExpired):  # the clock does not stretch the time limit
        launch.supervise(quiet, dict(os.environ), timeout_s=0.6, bar=bar, every_s=0.25)


class Watcher(threading.Thread):
    """Notes, every 0.1 s, the process group of each process whose command line holds ``marker``
    (torchrun and its workers); calls ``then()`` once both workers run."""

    def __init__(self, psutil, marker: str, then=None):
        super().__init__(daemon=True)
        self.psutil, self.marker, self.then = psutil, marker, then
        self.done, self.groups, self.workers = threading.Event(), set(), set()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()

    def run(self):
        while not self.done.wait(0.1):
            for p in self.psutil.process_iter(["cmdline"]):
                cmdline = " ".join(p.info["cmdline"] or [])
                if self.marker in cmdline:
                    self.groups.add(_pgid(p.pid))
                    if "torch.distributed.run" not in cmdline:
                        self.workers.add(p.pid)
            if self.then is not None and len(self.workers) >= 2:
                self.then, then = None, self.then
                then()

    def alive(self) -> list[int]:
        """The processes, zombies aside, still in the groups seen."""
        zombie, groups = self.psutil.STATUS_ZOMBIE, self.groups - {None}
        found = self.psutil.process_iter(["status"])
        return [p.pid for p in found if p.info["status"] != zombie and _pgid(p.pid) in groups]


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_run_past_its_time_limit_leaves_no_worker_running(tmp_path, data_dir):
    """torchrun puts each worker in a session of its own: killing torchrun's group is not enough.
    Rank 1 hangs at step 2 (rank 0 then waits in the all-reduce, as a stuck run does, idle)."""
    psutil = pytest.importorskip("psutil", reason="psutil lists the processes")
    marker = str(tmp_path / "marker.npz")
    with Watcher(psutil, marker) as watcher, pytest.raises(RuntimeError, match="did not finish"):
        launch.run(
            "allreduce", 2, steps=10**6, hidden=8, hang_at_step=2, timeout_s=20, save_params=marker
        )
    # >= 2: a worker's child (a fork before its exec) briefly carries the worker's command line
    assert len(watcher.workers) >= 2, "the workers never started: the test proves nothing"
    assert watcher.alive() == []


def test_ctrl_c_stops_the_workers_too(tmp_path, data_dir):
    psutil = pytest.importorskip("psutil", reason="psutil lists the processes")
    marker = str(tmp_path / "marker.npz")
    with ctrl_c_handled(), Watcher(psutil, marker, then=_thread.interrupt_main) as watcher:
        with pytest.raises(KeyboardInterrupt):
            launch.run("allreduce", 2, steps=10**6, hidden=8, timeout_s=120, save_params=marker)
    assert len(watcher.workers) >= 2
    assert watcher.alive() == []


def test_a_workers_own_error_is_in_the_launchers_error(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match=r"ValueError: --batch 33 must divide evenly over 2"):
        launch.run("allreduce", 2, steps=2, batch=33, hidden=8, timeout_s=120)
    for name in ("COURSE_DATA", "COURSE_CACHE"):
        monkeypatch.setenv(name, str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(RuntimeError, match=r"DataError: dataset 'mnist-train-images'"):
        launch.run("allreduce", 2, steps=2, hidden=8, timeout_s=120)


def test_torchruns_temporary_folder_is_removed(tmp_path, monkeypatch):
    """torchrun made a torchelastic_* folder in the temp folder at each launch and left it."""
    base = tmp_path / "tmp"
    base.mkdir()
    monkeypatch.setenv("TMPDIR", str(base))  # the temp folder of the launcher and its children
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    with pytest.raises(RuntimeError, match="--batch 3 must divide"):
        launch.run("allreduce", 2, steps=2, batch=3, hidden=8, timeout_s=120)
    assert list(base.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(workers=0), r"workers=0: must be at least 1; pass the number of processes"),
        (dict(workers=-2), r"workers=-2: must be at least 1"),
        (dict(steps=0), r"steps=0: must be at least 1; pass the number of SGD steps"),
        (dict(steps=-1), r"steps=-1: must be at least 1"),
        (dict(nodes=2), r"endpoint=None with nodes=2: pass endpoint='HOST:PORT'"),
        (dict(nodes=2, node_rank=2, endpoint="h:1"), r"node_rank=2: must be 0 \.\. nodes-1 = 1"),
        (dict(endpoint="h"), r"endpoint='h': must be 'HOST:PORT'"),
        (dict(timeout_s=0), r"timeout_s=0: must be seconds > 0"),
    ],
)
def test_bad_counts_are_refused_before_anything_starts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        launch.run("allreduce", **kwargs)


def test_a_count_that_is_not_a_whole_number_is_refused():
    with pytest.raises(TypeError, match=r"workers=2.5: must be a whole number"):
        launch.run("allreduce", 2.5)


def test_the_worker_refuses_counts_below_one():
    from course_lib.distributed import worker

    with pytest.raises(ValueError, match="--steps 0: must be at least 1"):
        worker.parse_args(["--steps", "0"])


def test_a_rendezvous_nobody_answers_ends_after_its_timeout():
    with socket.socket() as s:  # a local port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    where = dict(nodes=2, node_rank=1, endpoint=f"127.0.0.1:{port}", rdzv_timeout_s=3)
    cmd = launch.command("allreduce", 1, **where)
    assert "--rdzv-conf=timeout=3" in cmd and "--standalone" not in cmd
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"DistNetworkError: [\s\S]*rendezvous at 127.0.0.1"):
        launch.run("allreduce", 1, **where, steps=2, timeout_s=120)
    assert time.perf_counter() - t0 < 60
