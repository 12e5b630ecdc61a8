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

MAGIC, VERSION = b"DCMP", 1


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
            entry, parts = encode_layer(shared[name], index_bits)
        else:
            entry, parts = {"kind": "raw"}, {"values": asnumpy(array).astype("<f4").tobytes()}
        entry.update(
            name=name, shape=list(array.shape), blobs={p: len(b) for p, b in parts.items()}
        )
        entries_.append(entry)
        blobs += list(parts.values())
    header = json.dumps({"format": "deep-compression", "params": entries_}).encode()
    body = MAGIC + bytes([VERSION]) + struct.pack("<I", len(header)) + header + b"".join(blobs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    dense = sum(4 * int(np.prod(e["shape"])) for e in entries_)
    fixed = sum(e.get("fixed_bytes", 0) + sum(e["blobs"].get(p, 0) for p in ("centroids", "values"))
                for e in entries_)  # fmt: skip
    return {"path": str(path), "bytes": len(body) + 4, "dense_bytes": dense,
            "fixed_bytes": fixed, "params": entries_}  # fmt: skip


def _check(path: Path, data: bytes) -> dict:
    """The header of a complete, uncorrupted file, or a ValueError saying what is wrong."""
    if len(data) < 9 or data[:4] != MAGIC:
        raise ValueError(f"{path}: not a compressed model file (it does not start with {MAGIC!r})")
    if data[4] != VERSION:
        raise ValueError(f"{path}: format version {data[4]}, this library reads version {VERSION}")
    (n_header,) = struct.unpack("<I", data[5:9])
    try:
        header = json.loads(data[9 : 9 + n_header])
        expected = 9 + n_header + sum(sum(e["blobs"].values()) for e in header["params"]) + 4
    except (ValueError, KeyError, TypeError, AttributeError) as err:
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
    return header


def _decode(entry: dict, blobs: dict) -> np.ndarray:
    shape = tuple(entry["shape"])
    if entry["kind"] == "raw":
        return np.frombuffer(blobs["values"], dtype="<f4").reshape(shape).copy()
    centroids = np.frombuffer(blobs["centroids"], dtype="<f4")
    parts = {}
    for part in ("clusters", "gaps"):
        lengths = _lengths_of(blobs[part + "_lengths"])
        parts[part] = huffman.decode(blobs[part], entry[part + "_bits"], lengths)
    real, positions = parts["clusters"] < entry["k"], positions_of(parts["gaps"])
    dense = np.zeros(int(np.prod(shape)), dtype=np.float32)
    dense[positions[real]] = centroids[parts["clusters"][real]]
    return dense.reshape(shape[::-1]).T.copy() if len(shape) == 2 else dense.reshape(shape)


def read(path) -> dict:
    """Name -> dense float32 array of every parameter in a compressed file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such compressed model file (write one with save)")
    data = path.read_bytes()
    header, offset, arrays = _check(path, data), 9 + struct.unpack("<I", data[5:9])[0], {}
    for entry in header["params"]:
        blobs = {}
        for part, size in entry["blobs"].items():
            blobs[part], offset = data[offset : offset + size], offset + size
        arrays[entry["name"]] = _decode(entry, blobs)
    return arrays


def load(path, model) -> None:
    """Decode the file into ``model``'s parameters; nothing changes unless every name and
    shape matches."""
    arrays, params = read(path), model.named_params()
    problems = [f"missing {n}" for n in params if n not in arrays]
    problems += [f"unexpected {n}" for n in arrays if n not in params]
    problems += [
        f"{n}: file {arrays[n].shape}, model {tuple(p.shape)}"
        for n, p in params.items()
        if n in arrays and arrays[n].shape != tuple(p.shape)
    ]
    if problems:
        raise ValueError(f"{path} does not fit this model: " + "; ".join(problems))
    for name, p in params.items():
        p[...] = get_array_module(p).asarray(arrays[name])
