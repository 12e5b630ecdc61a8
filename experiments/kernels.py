"""The kernels of a run: each notebook's kernel manager (ipc sockets, its own folder and
environment) and the register of live kernels that Ctrl-C stops all at once."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import uuid
from pathlib import Path

from jupyter_client import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from experiments.environment import kernel_environment


class IpcKernelManager(AsyncKernelManager):
    """Kernels on local ipc sockets instead of TCP ports, so ipykernel has no TCP-without-encryption
    warning to print; the sockets are files in the temp folder (a fresh name per kernel), removed
    with the kernel.  :meth:`for_notebook` makes a subclass that also starts its kernel in a given
    folder with extra environment variables and reports the launched kernel, so nothing process-wide
    (``os.chdir``, ``os.environ``) has to change while other notebooks run."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
    kernel_cwd: str | None = None  # set by for_notebook
    kernel_env: dict | None = None
    on_launch = None

    @default("ip")
    def _ip_default(self) -> str:
        """A fresh socket-file prefix in the temp folder, or in /tmp when the temp folder's path
        is too long for a Unix socket (about 107 bytes with the port appended)."""
        name = f"course-kernel-{uuid.uuid4().hex[:12]}"
        folder = tempfile.gettempdir()
        if len(os.path.join(folder, name)) > 90 and os.path.isdir("/tmp"):
            folder = "/tmp"
        return os.path.join(folder, name)

    @classmethod
    def for_notebook(cls, cwd: str | Path, env: dict[str, str], on_launch=None) -> type:
        """A kernel manager class whose kernels run in ``cwd`` with ``env`` added to this process's
        environment; ``on_launch(manager)`` is called once the kernel process exists."""
        return type(
            "NotebookKernelManager",
            (cls,),
            {
                "kernel_cwd": str(cwd),
                "kernel_env": dict(env),
                "on_launch": staticmethod(on_launch) if on_launch else None,
            },
        )

    async def _async_pre_start_kernel(self, **kw):
        if self.kernel_cwd:
            kw.setdefault("cwd", self.kernel_cwd)
        kw["env"] = kernel_environment(kw.get("env", os.environ), self.kernel_env or {})
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.on_launch is not None:
            self.on_launch(self)


def kill_kernel(manager) -> None:
    """SIGKILL a kernel's process group (the kernel and whatever it started); one already gone is
    fine."""
    provisioner = getattr(manager, "provisioner", None)
    process, pgid = getattr(provisioner, "process", None), getattr(provisioner, "pgid", None)
    try:
        # kernels start in their own session, so their process group is theirs alone
        if pgid and hasattr(os, "killpg") and pgid != os.getpgrp():
            os.killpg(pgid, signal.SIGKILL)
        elif process is not None:
            process.kill()
    except OSError:  # ProcessLookupError: it ended by itself meanwhile
        pass
    for cleanup in ("cleanup_ipc_files", "cleanup_connection_file"):  # a killed kernel leaves them
        try:
            getattr(manager, cleanup, lambda: None)()
        except OSError:
            pass


class Kernels:
    """The kernels of a run that are alive, by notebook, so Ctrl-C (seen by the main thread only)
    can stop every one of them while worker threads wait on their replies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live: dict[str, object] = {}
        self.stopping = threading.Event()

    def launched(self, name: str, manager) -> None:
        with self._lock:
            self._live[name] = manager
        if self.stopping.is_set():  # launched while stop_all was at work: it must not run on
            kill_kernel(manager)

    def ended(self, name: str) -> None:
        with self._lock:
            self._live.pop(name, None)

    def quiet(self, record: logging.LogRecord) -> bool:
        """A logging filter: nothing from papermill's logger once stopping (each killed kernel would
        otherwise log 'Kernel died while waiting for execute reply')."""
        return not self.stopping.is_set()

    def stop_all(self) -> None:
        """Mark the run as stopping and kill every live kernel; their notebooks end as
        ``interrupted``."""
        self.stopping.set()
        with self._lock:
            live = list(self._live.values())
        for manager in live:
            kill_kernel(manager)
