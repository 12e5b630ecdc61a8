"""Huffman coding (Huffman 1952): frequent symbols get short codes, and no code is the prefix
of another, so a stream of codes decodes without separators.

    lengths = huffman.code_lengths(counts)        # {symbol: code length in bits}
    data, n_bits = huffman.encode(symbols, lengths)
    symbols = huffman.decode(data, n_bits, lengths)

The code is *canonical*: codes are handed out in order of (length, symbol), so the lengths alone
fix every code and a file stores one small number per symbol instead of the code table.  The
average length L of a Huffman code satisfies H <= L < H + 1, with H the entropy of the counts.
"""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np


def code_lengths(counts: dict) -> dict:
    """Optimal code length per symbol for ``counts`` (symbol -> count > 0).

    Repeatedly merge the two rarest groups; every merge adds one bit to the codes of all the
    symbols in both groups.  A single symbol gets a 1-bit code."""
    if not counts:
        raise ValueError("there is nothing to code: counts is empty")
    if min(counts.values()) <= 0:
        raise ValueError("every symbol in counts needs a count > 0")
    lengths = dict.fromkeys(counts, 0)
    heap = [(n, i, [s]) for i, (s, n) in enumerate(sorted(counts.items()))]
    heapq.heapify(heap)
    tiebreak = len(heap)
    while len(heap) > 1:
        n1, _, group1 = heapq.heappop(heap)
        n2, _, group2 = heapq.heappop(heap)
        for s in group1 + group2:
            lengths[s] += 1
        heapq.heappush(heap, (n1 + n2, tiebreak, group1 + group2))
        tiebreak += 1
    return {s: max(n, 1) for s, n in lengths.items()}


def canonical_codes(lengths: dict) -> dict:
    """symbol -> code as a string of '0'/'1': in order of (length, symbol), each code is the
    previous one plus 1, shifted left when the length grows."""
    codes, code, previous = {}, 0, 0
    for symbol, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        code <<= length - previous
        codes[symbol] = format(code, f"0{length}b")
        code, previous = code + 1, length
    if code > 1 << previous:
        raise ValueError("these code lengths are not a prefix code (Kraft's sum exceeds 1)")
    return codes


def encode(symbols, lengths: dict) -> tuple[bytes, int]:
    """The concatenated codes of ``symbols`` as bytes (zero-padded), and the number of bits."""
    codes = canonical_codes(lengths)
    unknown = set(np.unique(np.asarray(symbols)).tolist()) - set(codes)
    if unknown:
        raise ValueError(f"symbols {sorted(unknown)[:5]} have no code length")
    bits = "".join(codes[s] for s in np.asarray(symbols).tolist())
    padded = bits + "0" * (-len(bits) % 8)
    return int(padded or "0", 2).to_bytes(len(padded) // 8, "big"), len(bits)


def decode(data: bytes, n_bits: int, lengths: dict) -> np.ndarray:
    """The symbols whose codes fill the first ``n_bits`` bits of ``data``."""
    if n_bits > 8 * len(data):
        raise ValueError(f"{n_bits} bits were promised but the data holds {8 * len(data)}")
    table = {code: s for s, code in canonical_codes(lengths).items()}
    bits = format(int.from_bytes(data, "big"), f"0{8 * len(data)}b")[:n_bits] if data else ""
    out, current, longest = [], "", max(lengths.values())
    for bit in bits:
        current += bit
        if current in table:
            out.append(table[current])
            current = ""
        elif len(current) >= longest:
            raise ValueError(f"the bits {current!r} are no code: the data is corrupt")
    if current:
        raise ValueError(f"the data ends inside a code ({current!r}): it is truncated")
    return np.asarray(out, dtype=np.int64)


def counts_of(symbols) -> dict:
    """symbol -> how often it occurs."""
    return dict(Counter(np.asarray(symbols).tolist()))


def average_length(lengths: dict, counts: dict) -> float:
    """Bits per symbol of the code on data with these counts."""
    return sum(lengths[s] * n for s, n in counts.items()) / sum(counts.values())


def entropy(counts: dict) -> float:
    """H = -sum p log2 p, the fewest bits per symbol any code can average."""
    p = np.array(list(counts.values()), dtype=float)
    p /= p.sum()
    return float(-(p * np.log2(p)).sum())
