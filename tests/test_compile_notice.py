"""A CUDA build of torch on a machine with no GPU but a CUDA toolkit logs "No CUDA runtime is
found" when torch.compile imports torch.utils.cpp_extension; in JupyterLab that is a red stderr
box in lessons 11 and 18.  ``fusion.torch_compile`` drops that one line
(:func:`course_lib.fusion.quiet_cuda_home_notice`).  The CUDA build is faked
in a subprocess (compiled-with-CUDA flags set, no device), so the notice shows on the CPU build."""

import subprocess
import sys

FAKE_CUDA_BUILD = """
import os, torch
os.environ["CUDA_HOME"] = {home!r}
torch.cuda._is_compiled = lambda: True
torch.version.cuda = "12.8"
torch.cuda.is_available = lambda: False
"""


def run(tmp_path, body: str) -> str:
    code = FAKE_CUDA_BUILD.format(home=str(tmp_path)) + body
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def test_the_fake_cuda_build_shows_the_notice(tmp_path):
    assert "No CUDA runtime is found" in run(tmp_path, "import torch.utils.cpp_extension")


def test_quiet_cuda_home_notice_drops_only_that_notice(tmp_path):
    body = """
import logging
from course_lib import fusion
fusion.quiet_cuda_home_notice()
logging.getLogger("torch.utils.cpp_extension").warning("another warning still shows")
"""
    out = run(tmp_path, body)
    assert "No CUDA runtime is found" not in out
    assert "another warning still shows" in out


def test_torch_compile_compiles(monkeypatch):
    import torch

    from course_lib import fusion

    calls = []
    monkeypatch.setattr(fusion, "quiet_cuda_home_notice", lambda: calls.append(1))
    f = fusion.torch_compile(lambda x: x + 1, backend="eager")
    assert calls == [1] and float(f(torch.ones(1))[0]) == 2.0
