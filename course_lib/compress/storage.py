"""The compressed model file: pruned, shared, Huffman-coded weights, written and read back.

    info = storage.save("lenet.dcmp", model, shared, index_bits=5)   # {"bytes": ..., "layers": ...}
    storage.load("lenet.dcmp", model)      # decode every parameter into the model, all or nothing

A shared layer is stored as its codebook (k float32 centroids) and one entry per kept weight:
the weight's cluster index and the *gap* to the previous kept weight (flat order), each
Huffman-coded.  Entries run in torch's layout (out, in, ...): a 2-D weight, a Linear layer's
(n_in, n_out) here, is walked as its transpose, so each output unit's inputs come together and
the never-used border pixels of MNIST make a few long gaps instead of many short ones.  A gap is
written in ``index_bits`` bits (the fixed-width layout) as gap - 1; a longer gap is split by
*filler* entries that advance 2^index_bits places and carry the extra cluster symbol k (the
paper's "filler zero").  Biases and unshared parameters are raw float32.

Layout:  b"DCMP" | version (1 byte) | header length (uint32) | JSON header | blobs | CRC-32.
The header names every parameter, its shape, its blobs and their sizes; the CRC-32 covers all
bytes before it, so a corrupt or truncated file is refused with a message, never half-loaded.
Every header field is also checked against the blob sizes and sane limits before anything is
allocated (a crafted header with a valid CRC is refused too), and NaN or infinite values are
refused on save and on load.  Saving replaces the file atomically.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from course_lib.backend import asnumpy, get_array_module
from course_lib.compress import huffman
from course_lib.fileio import write_bytes
from course_lib.serialize import cast_problem

MAGIC, VERSION = b"DCMP", 1
MIN_BYTES = 13  # magic, version, header length, CRC-32
MAX_ELEMENTS = 1 << 28  # per parameter: far above any model here, far below a MemoryError
MAX_K, MAX_INDEX_BITS, MAX_NDIM = 1 << 16, 24, 8
SHARED_BLOBS = {"centroids", "clusters", "clusters_lengths", "gaps", "gaps_lengths"}


def entries(index, keep, k: int, index_bits: int):
    """(cluster symbols, gap symbols) of one layer, fillers included (cluster symbol ``k``)."""
    positions = np.flatnonzero(keep.ravel())
    gaps = np.diff(positions, prepend=-1)  # >= 1
    span = 1 << index_bits
    fillers = (gaps - 1) // span
    ends = np.cumsum(fillers + 1) - 1  # the real entry closes each run of fillers
    clusters = np.full(ends[-1] + 1, k, dtype=np.int64)
    gap_symbols = np.full(ends[-1] + 1, span - 1, dtype=np.int64)
    clusters[ends] = index.ravel()[positions]
    gap_symbols[ends] = gaps - fillers * span - 1
    return clusters, gap_symbols


def positions_of(gap_symbols):
    """Flat positions of the entries: each gap symbol g advances g + 1 places."""
    return np.cumsum(np.asarray(gap_symbols) + 1) - 1


def _lengths_blob(lengths: dict, alphabet: int) -> bytes:
    table = np.zeros(alphabet, dtype=np.uint8)
    for symbol, length in lengths.items():
        table[symbol] = length
    return table.tobytes()


def _lengths_of(blob: bytes) -> dict:
    table = np.frombuffer(blob, dtype=np.uint8)
    return {int(s): int(n) for s, n in enumerate(table) if n}


def encode_layer(s, index_bits: int) -> tuple[dict, dict]:
    """Header entry and blobs for one :class:`~course_lib.compress.share.SharedWeights`."""
    keep, index = asnumpy(s.keep), asnumpy(s.index)
    if keep.ndim == 2:  # (n_in, n_out) -> torch's (n_out, n_in)
        keep, index = np.ascontiguousarray(keep.T), np.ascontiguousarray(index.T)
    clusters, gaps = entries(index, keep, s.k, index_bits)
    blobs, header = {"centroids": asnumpy(s.centroids).astype("<f4").tobytes()}, {}
    for part, symbols, alphabet in (
        ("clusters", clusters, s.k + 1),
        ("gaps", gaps, 1 << index_bits),
    ):
        lengths = huffman.code_lengths(huffman.counts_of(symbols))
        blobs[part], header[part + "_bits"] = huffman.encode(symbols, lengths)
        blobs[part + "_lengths"] = _lengths_blob(lengths, alphabet)
    symbols = s.k + int(len(clusters) > keep.sum())  # the filler symbol, if a filler was needed
    fixed_bits = max(1, math.ceil(math.log2(symbols))) + index_bits
    header.update(kind="shared", k=s.k, index_bits=index_bits, entries=len(clusters))
    header.update(kept=int(keep.sum()), fixed_bytes=math.ceil(len(clusters) * fixed_bits / 8))
    return header, blobs


def _finite_f4(name: str, what: str, values) -> bytes:
    """``values`` as little-endian float32 bytes; a ValueError if any is NaN or infinite."""
    with np.errstate(over="ignore", invalid="ignore"):
        f4 = asnumpy(values).astype("<f4")
    if not np.isfinite(f4).all():
        raise ValueError(
            f"parameter {name!r}: its {what} hold NaN or infinite values (as float32); "
            "a diverged or overflowing model cannot be stored: fix it first (nothing was written)"
        )
    return f4.tobytes()


def save(path, model, shared: dict, index_bits: int = 5) -> dict:
    """Write ``model`` with the layers in ``shared`` (name -> SharedWeights) compressed; return
    {"path", "bytes" (the file's size), "dense_bytes" (every parameter as float32),
    "fixed_bytes" (the same data with fixed-width fields instead of Huffman codes, no header),
    "params": the header's entries, with each part's size}."""
    params = {**model.named_params()}
    unknown = sorted(set(shared) - set(params))
    if unknown:
        raise ValueError(f"{unknown} are not parameters of the model ({sorted(params)})")
    entries_, blobs = [], []
    for name, array in params.items():
        if name in shared:
            _finite_f4(name, "centroids", shared[name].centroids)
            entry, parts = encode_layer(shared[name], index_bits)
        else:
            entry, parts = {"kind": "raw"}, {"values": _finite_f4(name, "values", array)}
        entry.update(
            name=name, shape=list(array.shape), blobs={p: len(b) for p, b in parts.items()}
        )
        entries_.append(entry)
        blobs += list(parts.values())
    header = json.dumps({"format": "deep-compression", "params": entries_}).encode()
    body = MAGIC + bytes([VERSION]) + struct.pack("<I", len(header)) + header + b"".join(blobs)
    path = write_bytes(path, body + struct.pack("<I", zlib.crc32(body)))
    dense = sum(4 * int(np.prod(e["shape"])) for e in entries_)
    fixed = sum(
        e.get("fixed_bytes", 0) + sum(e["blobs"].get(p, 0) for p in ("centroids", "values"))
        for e in entries_
    )
    return {
        "path": str(path),
        "bytes": len(body) + 4,
        "dense_bytes": dense,
        "fixed_bytes": fixed,
        "params": entries_,
    }


def _is_count(value, low: int = 0, high: float = math.inf) -> bool:
    """True for an int (not a bool) with low <= value <= high."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _blob_total(header) -> int:
    """The number of blob bytes the header promises (ValueError if it cannot say)."""
    if not isinstance(header, dict) or not isinstance(header.get("params"), list):
        raise ValueError("no list of 'params'")
    total = 0
    for entry in header["params"]:
        sizes = entry.get("blobs") if isinstance(entry, dict) else None
        if not isinstance(sizes, dict) or not all(_is_count(n) for n in sizes.values()):
            raise ValueError(f"an entry without blob sizes: {str(entry)[:80]}")
        total += sum(sizes.values())
    return total


def _start(path: Path, data: bytes) -> int:
    """Check the magic, the version and the minimal length; return the header's length."""
    if data[:4] != MAGIC[: len(data)]:  # a shorter file that starts right is truncated
        raise ValueError(f"{path}: not a compressed model file (it does not start with {MAGIC!r})")
    if len(data) > 4 and data[4] != VERSION:
        raise ValueError(f"{path}: format version {data[4]}, this library reads version {VERSION}")
    if len(data) < MIN_BYTES:
        raise ValueError(
            f"{path}: truncated: {len(data)} bytes, but a compressed model file has at least "
            f"{MIN_BYTES} (magic, version, header length, checksum); write it again"
        )
    (n_header,) = struct.unpack("<I", data[5:9])
    if 9 + n_header + 4 > len(data):
        raise ValueError(
            f"{path}: truncated: the header alone needs {9 + n_header} bytes but the file has "
            f"{len(data)}; write it again"
        )
    return n_header


def _check(path: Path, data: bytes) -> dict:
    """The header of a complete, uncorrupted, consistent file, or a ValueError saying what is
    wrong."""
    n_header = _start(path, data)
    try:
        header = json.loads(data[9 : 9 + n_header])
        expected = 9 + n_header + _blob_total(header) + 4
    except (ValueError, RecursionError) as err:
        raise ValueError(
            f"{path}: the header is unreadable (truncated or corrupt): {err}"
        ) from None
    if len(data) != expected:
        raise ValueError(
            f"{path}: the header promises {expected} bytes but the file has {len(data)}: "
            f"it is {'truncated' if len(data) < expected else 'too long'}; write it again"
        )
    if zlib.crc32(data[:-4]) != struct.unpack("<I", data[-4:])[0]:
        raise ValueError(f"{path}: checksum mismatch, the file is corrupt; write it again")
    if header.get("format") != "deep-compression":
        raise ValueError(
            f"{path}: header field 'format' = {header.get('format')!r}, expected "
            "'deep-compression'; write the file with storage.save"
        )
    names = set()
    for entry in header["params"]:
        problem = _entry_problem(entry) or ("a second entry" if entry["name"] in names else None)
        if problem:
            raise ValueError(
                f"{path}: header entry {entry.get('name')!r}: {problem}; the file is damaged or "
                "was not written by storage.save: write it again"
            )
        names.add(entry["name"])
    return header


def _entry_problem(e: dict) -> str | None:
    """What is wrong with one header entry, checked before anything is allocated, or None."""
    shape = e.get("shape")
    if not isinstance(e.get("name"), str) or e.get("kind") not in ("raw", "shared"):
        return f"'name' = {e.get('name')!r} must be a string, 'kind' = {e.get('kind')!r} raw/shared"
    if not isinstance(shape, list) or len(shape) > MAX_NDIM or not all(map(_is_count, shape)):
        return f"'shape' = {shape!r} must be a list of at most {MAX_NDIM} integers >= 0"
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        return f"'shape' = {shape} holds {size} values, more than the limit {MAX_ELEMENTS}"
    if e["kind"] == "raw":
        wanted = {"values": 4 * size}
    else:
        wrong = _shared_problem(e, size)
        if wrong:
            return wrong
        wanted = {
            "centroids": 4 * e["k"],
            "clusters_lengths": e["k"] + 1,
            "gaps_lengths": 1 << e["index_bits"],
            "clusters": -(-e["clusters_bits"] // 8),
            "gaps": -(-e["gaps_bits"] // 8),
        }
    if e["blobs"] != wanted:
        return f"'blobs' = {e['blobs']} do not fit its fields, which need {wanted}"
    return None


def _shared_problem(e: dict, size: int) -> str | None:
    """The fields of a shared layer, each an integer in its range, or what is not."""
    ranges = {
        "k": (1, MAX_K),
        "index_bits": (0, MAX_INDEX_BITS),
        "entries": (1, size),  # each entry advances at least one place
        "kept": (1, None),  # at most 'entries', checked once 'entries' is known to be valid
        "clusters_bits": (0, math.inf),
        "gaps_bits": (0, math.inf),
        "fixed_bytes": (0, math.inf),
    }
    for field, (low, high) in ranges.items():
        high = e["entries"] if high is None else high
        if not _is_count(e.get(field), low, high):
            return f"'{field}' = {e.get(field)!r} must be an integer in [{low}, {high}]"
    return None


def _decode(entry: dict, blobs: dict) -> np.ndarray:
    """The dense float32 array of one checked header entry; a ValueError if the data does not
    agree with the header (counts, positions, fillers) or holds NaN or infinite values."""
    shape, size = tuple(entry["shape"]), math.prod(entry["shape"])
    if entry["kind"] == "raw":
        return _finite(np.frombuffer(blobs["values"], dtype="<f4"), "values").reshape(shape)
    k, span = entry["k"], 1 << entry["index_bits"]
    centroids = _finite(np.frombuffer(blobs["centroids"], dtype="<f4"), "centroids")
    parts = {}
    for part in ("clusters", "gaps"):
        lengths = _lengths_of(blobs[part + "_lengths"])
        if not lengths:
            raise ValueError(f"the {part} have no Huffman code lengths")
        parts[part] = huffman.decode(blobs[part], entry[part + "_bits"], lengths)
    clusters, gaps = parts["clusters"], parts["gaps"]
    real = clusters < k
    if not len(clusters) == len(gaps) == entry["entries"] or real.sum() != entry["kept"]:
        raise ValueError(
            f"{len(clusters)} cluster and {len(gaps)} gap symbols with {real.sum()} weights, "
            f"the header says {entry['entries']} entries and {entry['kept']} weights"
        )
    positions = positions_of(gaps)
    if not real[-1] or (gaps[~real] != span - 1).any() or positions[-1] >= size:
        raise ValueError(f"the entries do not describe weights in a {list(shape)} array")
    dense = np.zeros(size, dtype=np.float32)
    dense[positions[real]] = centroids[clusters[real]]
    return dense.reshape(shape[::-1]).T.copy() if len(shape) == 2 else dense.reshape(shape)


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    """A writable copy of ``values``, or a ValueError if any is NaN or infinite."""
    if not np.isfinite(values).all():
        raise ValueError(f"its {what} hold NaN or infinite values")
    return values.copy()


def _entries(path: Path) -> list:
    """(header entry, blobs) of every parameter in a checked file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such compressed model file (write one with save)")
    data = path.read_bytes()
    header, offset, out = _check(path, data), 9 + struct.unpack("<I", data[5:9])[0], []
    for entry in header["params"]:
        blobs = {}
        for part, size in entry["blobs"].items():
            blobs[part], offset = data[offset : offset + size], offset + size
        out.append((entry, blobs))
    return out


def _decoded(path, entries_: list) -> dict:
    """Name -> dense array of each entry, with errors that name the file and the parameter."""
    arrays = {}
    for entry, blobs in entries_:
        try:
            arrays[entry["name"]] = _decode(entry, blobs)
        except ValueError as err:
            raise ValueError(
                f"{path}: parameter {entry['name']!r}: {err}; the file is damaged or was not "
                "written by storage.save: write it again"
            ) from None
    return arrays


def read(path) -> dict:
    """Name -> dense float32 array of every parameter in a compressed file."""
    return _decoded(path, _entries(path))


def load(path, model) -> None:
    """Decode the file into ``model``'s parameters; nothing changes unless every name, shape
    and value fits (names and shapes are compared before anything is decoded)."""
    entries_, params = _entries(path), model.named_params()
    shapes = {e["name"]: tuple(e["shape"]) for e, _ in entries_}
    problems = [f"missing {n}" for n in params if n not in shapes]
    problems += [f"unexpected {n}" for n in shapes if n not in params]
    problems += [
        f"{n}: file {shapes[n]}, model {tuple(p.shape)}"
        for n, p in params.items()
        if n in shapes and shapes[n] != tuple(p.shape)
    ]
    if problems:
        raise ValueError(f"{path} does not fit this model: " + "; ".join(problems))
    arrays = _decoded(path, entries_)
    problems = [
        f"{n}: {why}" for n, p in params.items() if (why := cast_problem(arrays[n], p.dtype))
    ]
    if problems:
        raise ValueError(f"{path} does not fit this model: " + "; ".join(problems))
    for name, p in params.items():
        p[...] = get_array_module(p).asarray(arrays[name], dtype=p.dtype)
