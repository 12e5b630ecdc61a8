"""Find, verify and download dataset files.

A file is looked for, in this order, in

1. the ``data_dir`` passed to a loader,
2. the folder named by the ``COURSE_DATA`` environment variable,
3. the user cache: ``COURSE_CACHE`` if set, else ``pooch.os_cache("course_lib")``;

the first folder that holds it wins, and it is checked against its checksum before use.  A file
found nowhere is downloaded with pooch into ``data_dir`` (when given) or the user cache, from its
upstream URLs or from ``COURSE_DATA_MIRROR`` (a server laid out like a data folder), unless
``COURSE_OFFLINE=1`` or ``download=False``.  Anything missing or wrong raises :class:`DataError`.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import os
import sys
import zipfile
import zlib
from pathlib import Path

from course_lib.data.registry import Entry, entry


class DataError(RuntimeError):
    """A dataset file is missing, corrupt, or could not be downloaded."""


def cache_dir() -> Path:
    """The user cache folder for datasets (the platform's cache folder, as pooch.os_cache gives).

    ``COURSE_CACHE`` wins; without platformdirs (the GPU machine's image has none) the XDG
    folder ``$XDG_CACHE_HOME/course_lib`` (default ``~/.cache/course_lib``), which is what
    platformdirs gives on Linux.
    """
    if os.environ.get("COURSE_CACHE"):
        return Path(os.environ["COURSE_CACHE"])
    try:
        import platformdirs
    except ImportError:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(xdg) / "course_lib"
    return Path(platformdirs.user_cache_dir("course_lib"))


def offline() -> bool:
    """True when ``COURSE_OFFLINE`` is set to anything but ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def search_path(data_dir=None) -> list[tuple[Path, str]]:
    """The folders searched for data, in order, each with where it came from."""
    roots = []
    if data_dir is not None:
        roots.append((Path(data_dir), "data_dir argument"))
    if os.environ.get("COURSE_DATA"):
        roots.append((Path(os.environ["COURSE_DATA"]), f"COURSE_DATA={os.environ['COURSE_DATA']}"))
    roots.append((cache_dir(), "user cache"))
    return roots


def find(name: str, data_dir=None) -> Path | None:
    """Where the file called ``name`` is, without checking or downloading it (``None``: nowhere)."""
    e = entry(name)
    for root, _ in search_path(data_dir):
        if (root / e.path).is_file():
            return root / e.path
    return None


def available(name: str, data_dir=None) -> bool:
    """True when the file called ``name`` is present locally (it is verified when loaded)."""
    return find(name, data_dir) is not None


def locate(name: str, data_dir=None, *, download=None, mirror=None) -> Path:
    """The verified path of the file called ``name``, downloading it first if needed and allowed.

    ``download``: ``None`` or ``True`` download a missing file, ``False`` never does, and
    ``COURSE_OFFLINE=1`` forbids downloads whatever ``download`` says.
    ``mirror``: a base URL to download from instead of upstream (default ``$COURSE_DATA_MIRROR``).
    """
    e = entry(name)
    path = find(name, data_dir)
    if path is not None:
        verify(e, path)
        _note_use(name, path)
        return path
    target = (Path(data_dir) if data_dir is not None else cache_dir()) / e.path
    mirror = mirror or os.environ.get("COURSE_DATA_MIRROR") or None
    reason = _why_not_download(e, download, mirror)
    if reason:
        raise DataError(_missing_message(e, search_path(data_dir), target, reason))
    try:
        return _note_use(name, _download(e, target, mirror))
    except DataError as exc:
        raise DataError(
            f"{exc}\n{_looked_in(e, search_path(data_dir))}\nTo fix it: set COURSE_DATA to "
            f"a folder that holds {e.path}, or put a good copy at {target}."
        ) from None


_USED: dict[str, tuple[int, Path]] = {}  # dataset name -> (its last use's number, its file)
_USES = itertools.count(1)


def _note_use(name: str, path: Path) -> Path:
    _USED[name] = (next(_USES), path)
    return path


def datasets_used(since: int = 0) -> dict[str, Path]:
    """The registry's files this process located (each verified against its checksum), by name,
    from the moment :func:`use_count` returned ``since``: the data version behind a run."""
    return {name: path for name, (when, path) in _USED.items() if when > since}


def use_count() -> int:
    """A stamp for :func:`datasets_used`: files located after it are newer."""
    return max((when for when, _ in _USED.values()), default=0)


# ---------------------------------------------------------------------------------- checking
_verified: dict[tuple[Path, str], tuple[int, int]] = {}  # (path, checksum) -> (size, mtime)


def file_digest(path, algorithm: str = "sha256", *, decompress: bool = False) -> str:
    """Hex digest of a file, or of a ``.gz`` file's content when ``decompress``."""
    h = hashlib.new(algorithm)
    with (gzip.open if decompress else open)(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(e: Entry, path) -> None:
    """Raise :class:`DataError` unless ``path`` matches the checksum of entry ``e``.

    A file that passed once is not hashed again while its size and modification time stay the same.
    """
    path = Path(path)
    stat = path.stat()
    key, stamp = (path.resolve(), e.checksum), (stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) == stamp:
        return
    try:
        found = file_digest(path, e.algorithm, decompress=e.covers == "decompressed")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"dataset {e.name!r}: {path} could not be read ({type(exc).__name__}: {exc}); it is "
            f"probably truncated or corrupt.\n  expected {_what(e)}: {e.digest}\n{_FIX_CORRUPT}"
        ) from exc
    if found != e.digest:
        raise DataError(
            f"dataset {e.name!r}: {path} does not match its checksum; it is truncated, corrupt or "
            f"another version.\n  expected {_what(e)}: {e.digest}\n"
            f"  {'found:'.ljust(len(_what(e)) + 11)}{found}\n{_FIX_CORRUPT}"
        )
    _verified[key] = stamp


def _what(e: Entry) -> str:
    return (
        f"{e.algorithm} of the {'decompressed content' if e.covers == 'decompressed' else 'file'}"
    )


_FIX_CORRUPT = (
    "Delete the file and run again to download a fresh copy (this needs the network, "
    "with COURSE_OFFLINE unset), or replace it with a good copy."
)


# ------------------------------------------------------------------------------- downloading
def _why_not_download(e: Entry, download, mirror) -> str | None:
    if download is False:
        return "download=False was passed"
    if offline():
        return "COURSE_OFFLINE is set, which forbids downloads"
    if not e.urls and not mirror:
        return "it has no public download address"
    return None


def _missing_message(e: Entry, roots, target: Path, reason: str) -> str:
    fixes = [f"set COURSE_DATA to a folder that holds {e.path}", f"put the file at {target}"]
    if reason.startswith("COURSE_OFFLINE") and e.urls:
        fixes.append(f"unset COURSE_OFFLINE so it is downloaded from {e.urls[0]}")
    if reason.startswith("download=False"):
        fixes.append("call again without download=False")
    return (
        f"dataset {e.name!r} ({e.path}) was not found, and it was not downloaded: {reason}.\n"
        f"{_looked_in(e, roots)}\nExpected {_what(e)}: {e.digest}\n"
        f"To fix it: {', or '.join(fixes)}."
    )


def _looked_in(e: Entry, roots) -> str:
    """The folders searched, as absolute paths (a relative COURSE_DATA is relative to the current
    folder)."""
    return "Looked in:\n" + "\n".join(
        f"  {os.path.abspath(root / e.path)}  ({origin})" for root, origin in roots
    )


def _download(e: Entry, target: Path, mirror) -> Path:
    """Fetch ``e`` into ``target`` from the mirror or each upstream URL in turn, and verify it."""
    urls = [mirror.rstrip("/") + "/" + e.path] if mirror else list(e.urls)
    convert = None if mirror else e.convert  # a mirror serves files already in the course's layout
    import pooch  # only when downloading: importing it loads tqdm.auto, which warns in a notebook

    failures = []
    for url in urls:
        print(f"course_lib.data: downloading {e.name} from {url}", file=sys.stderr)
        fetched = target.with_name(url.rsplit("/", 1)[-1] + ".part") if convert else target
        try:
            pooch.retrieve(
                url, None, fname=fetched.name, path=fetched.parent, progressbar=_progressbar()
            )
            if convert:
                CONVERTERS[convert](fetched, target)
                fetched.unlink()
            verify(e, target)
            return target
        except (
            OSError,
            ValueError,
            zipfile.BadZipFile,
            DataError,
        ) as exc:  # HTTP errors are OSErrors
            fetched.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
            failures.append(f"from {url}: {exc}")
    raise DataError(
        f"dataset {e.name!r} could not be downloaded into {target} (a bad download is "
        f"deleted, not kept):\n" + "\n".join(failures)
    )


def _progressbar():
    """A plain text tqdm bar for pooch (not tqdm.auto's widget), or False without tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:
        return False
    return tqdm(total=1, unit="B", unit_scale=True, file=sys.stderr)  # pooch sets the total


def _aozora_zip_to_utf8(zip_path: Path, target: Path) -> None:
    """Aozora Bunko's zip (one Shift_JIS text with CRLF line ends) -> UTF-8 with BOM, LF line
    ends."""
    with zipfile.ZipFile(zip_path) as z:
        (member,) = [n for n in z.namelist() if n.endswith(".txt")]
        text = z.read(member).decode("cp932").replace("\r\n", "\n")
    target.write_bytes(("\ufeff" + text).encode("utf-8"))


CONVERTERS = {"aozora": _aozora_zip_to_utf8}
