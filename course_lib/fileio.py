"""Atomic file writes: a save that is killed halfway leaves the previous file whole.

    with atomic_open("run.npz") as f:      # a temporary file beside run.npz
        np.savez(f, **arrays)              # flushed, fsync'ed, then renamed over run.npz
    write_bytes("model.dcmp", data)
    write_text("prep.json", text)

The data goes to a temporary file in the same folder (so the final rename stays on one file
system); only when it is complete and on disk does :func:`os.replace` swap it in, in one step.
If anything fails, the temporary file is removed and the old file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def _create_temporary(path: Path) -> tuple[Path, int]:
    """A new, empty file beside ``path`` with the permissions a plain open() would give it."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666  # umask applies
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:  # another writer's temporary file: draw another name
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", encoding: str | None = None):
    """Yield a file object; on a clean exit its contents replace ``path`` atomically.

    ``mode`` is "wb" or "w" (text, ``encoding`` applies).  Folders are created as needed."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode={mode!r}: atomic_open writes whole files, use 'wb' or 'w'")
    path = Path(path)
    path = path.resolve() if path.is_symlink() else path  # write through a link, as open() does
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary, fd = _create_temporary(path)
    try:
        with open(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:  # KeyboardInterrupt too: never leave a half-written temporary behind
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def write_bytes(path, data: bytes) -> Path:
    """Replace the file at ``path`` with ``data`` atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Replace the file at ``path`` with ``text`` atomically; returns the path."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)
