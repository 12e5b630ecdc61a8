"""Toy sequence-to-sequence tasks, generated here: addition and date normalisation.

These are the two tasks of ゼロから作るDeep Learning 2 (chapters 7 and 8), written as
deterministic generators rather than copied files.

* **Addition** (``"16+75"`` -> ``"91"``).  The answer's first digit depends on the carries from
  the *last* digits of the problem, which an encoder reading left to right saw longest ago.
  Reversing the source (Sutskever et al., 2014) brings those digits close to the decoder's
  first steps, and learning gets much faster.
* **Dates** (``"september 27, 1994"`` -> ``"1994-09-27"``), in about a dozen human formats
  (:data:`DATE_FORMATS`, English and Japanese).  Each output character comes from one place of
  the input (the year from its end, the month from a name at its start), so the task needs
  *alignment*, which an attention decoder learns and its weights show.

Usage::

    from course_lib.data.toyseq import CharVocab, addition_pairs, fixed_split, seq2seq_arrays
    train, test = fixed_split(addition_pairs(50_000), test_fraction=0.1)
    src_vocab = CharVocab.build(s for s, _ in train + test)
    tgt_vocab = CharVocab.build(t for _, t in train + test)
    x, y = seq2seq_arrays(train, src_vocab, tgt_vocab, reverse_source=True)
    # the decoder reads y[:, :-1] and is trained to predict y[:, 1:]
    tgt_vocab.decode(y[0])        # -> the answer of train[0]

Special tokens: every :class:`CharVocab` starts with ``<pad>`` (id 0), ``<s>`` (id 1) and
``</s>`` (id 2), then the characters in sorted order.  Targets are ``<s> answer </s>``; padding
always goes at the end of a row, after the characters (reversed or not) and after ``</s>``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "DATE_FORMATS",
    "CharVocab",
    "addition_pairs",
    "date_pairs",
    "encode_batch",
    "fixed_split",
    "format_date",
    "seq2seq_arrays",
]

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The human side of the date task, as str.format templates over the fields of _date_fields:
# {d} {m} day and month numbers, {dd} {mm} zero-padded, {yyyy} {yy} the year;
# {month} {Month} {MONTH} the month's name in three cases, {mon} {Mon} {MON} its first three
# letters, {Weekday} {WEEKDAY} the day of the week.
DATE_FORMATS = (
    "{month} {d}, {yyyy}",  # september 27, 1994
    "{Month} {d}, {yyyy}",  # September 27, 1994
    "{MONTH} {d}, {yyyy}",  # SEPTEMBER 27, 1994
    "{mon} {d}, {yyyy}",  # sep 27, 1994
    "{Mon} {d}, {yyyy}",  # Sep 27, 1994
    "{MON} {d}, {yyyy}",  # SEP 27, 1994
    "{Weekday}, {Month} {d}, {yyyy}",  # Tuesday, September 27, 1994
    "{WEEKDAY}, {MONTH} {d}, {yyyy}",  # TUESDAY, SEPTEMBER 27, 1994
    "{m}/{d}/{yy}",  # 9/27/94
    "{mm}/{dd}/{yyyy}",  # 09/27/1994
    "{d} {Month} {yyyy}",  # 27 September 1994
    "{dd}.{mm}.{yyyy}",  # 27.09.1994
    "{yyyy}年{m}月{d}日",  # 1994年9月27日
)


# ---------------------------------------------------------------------------------------------
# Addition


def addition_pairs(n: int = 50_000, max_digits: int = 3, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct problems ``("a+b", str(a + b))``, ``a, b`` uniform in ``[0, 10**max_digits)``.

    No ``(a, b)`` occurs twice (sampling without replacement), so a split cannot leak; ``a+b``
    and ``b+a`` are different problems.  The same seed gives the same list on every machine.
    """
    if not 1 <= max_digits <= 9:
        raise ValueError(f"max_digits must be between 1 and 9, got {max_digits}")
    base = 10**max_digits
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if n > base * base:
        raise ValueError(
            f"n={n:,} is more than the {base * base:,} distinct problems a+b with a, b below "
            f"{base:,} (max_digits={max_digits})"
        )
    codes = np.random.default_rng(seed).choice(base * base, size=n, replace=False)
    a, b = np.divmod(codes, base)
    return [(f"{x}+{y}", str(x + y)) for x, y in zip(a.tolist(), b.tolist())]


# ---------------------------------------------------------------------------------------------
# Dates


def _as_date(d: str | datetime.date) -> datetime.date:
    return d if isinstance(d, datetime.date) else datetime.date.fromisoformat(d)


def _date_fields(d: datetime.date) -> dict[str, str]:
    """The fields of :data:`DATE_FORMATS`, locale-free (``strftime("%B")`` depends on it)."""
    month, weekday = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return {
        "d": str(d.day),
        "dd": f"{d.day:02d}",
        "m": str(d.month),
        "mm": f"{d.month:02d}",
        "yyyy": f"{d.year:04d}",
        "yy": f"{d.year % 100:02d}",
        "month": month.lower(),
        "Month": month,
        "MONTH": month.upper(),
        "mon": month[:3].lower(),
        "Mon": month[:3],
        "MON": month[:3].upper(),
        "Weekday": weekday,
        "WEEKDAY": weekday.upper(),
    }


def format_date(d: str | datetime.date, fmt: str) -> str:
    """``d`` written with one of :data:`DATE_FORMATS` (or any template over the same fields)."""
    return fmt.format(**_date_fields(_as_date(d)))


def date_pairs(
    n: int = 50_000,
    seed: int = 0,
    start: str | datetime.date = "1970-01-01",
    end: str | datetime.date = "2030-12-31",
) -> list[tuple[str, str]]:
    """``n`` pairs ``(human date, "YYYY-MM-DD")``: a uniform date in ``[start, end]`` in a format
    drawn uniformly from :data:`DATE_FORMATS`.

    Source strings are distinct (a duplicate is drawn again), so a split cannot leak.  Formats
    with a two-digit year are left out when the range spans 100 years or more, where they would
    be ambiguous.  Raises ValueError when ``n`` distinct strings cannot be found.
    """
    start, end = _as_date(start), _as_date(end)
    n_days = end.toordinal() - start.toordinal() + 1
    if n_days < 1:
        raise ValueError(f"start {start} is after end {end}")
    formats = DATE_FORMATS
    if end.year - start.year >= 100:
        formats = tuple(f for f in formats if "{yy}" not in f)
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if n > n_days * len(formats):
        raise ValueError(
            f"n={n:,} is more than the {n_days * len(formats):,} (date, format) combinations "
            f"between {start} and {end}"
        )
    rng = np.random.default_rng(seed)
    pairs, seen, draws = [], set(), 0
    while len(pairs) < n:
        if draws > 20 * n + 1000:  # a few formats coincide (may / May), so fewer exist
            raise ValueError(
                f"could not draw {n} distinct date strings between {start} and {end} "
                f"(found {len(pairs)}); lower n or widen the range"
            )
        size = n - len(pairs)
        days = rng.integers(0, n_days, size=size).tolist()
        which = rng.integers(0, len(formats), size=size).tolist()
        draws += size
        for k, f in zip(days, which):
            d = datetime.date.fromordinal(start.toordinal() + k)
            source = format_date(d, formats[f])
            if source not in seen:
                seen.add(source)
                pairs.append((source, d.isoformat()))
    return pairs


# ---------------------------------------------------------------------------------------------
# Splitting, vocabulary, arrays


def fixed_split(pairs: Sequence, test_fraction: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """``(train, test)``: a shuffled split, the same for the same seed; ``round(len(pairs) *
    test_fraction)`` items go to test.  Both parts come in the shuffled order."""
    if not 0 <= test_fraction <= 1:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(pairs)).tolist()
    n_test = round(len(pairs) * test_fraction)
    return [pairs[i] for i in order[n_test:]], [pairs[i] for i in order[:n_test]]


class CharVocab:
    """Characters <-> ids, with three special tokens first: padding, start and end.

    ``tokens[i]`` is the token of id ``i``; ``pad``, ``start`` and ``end`` are the special ids
    (0, 1, 2).  Build it with :meth:`build` from every string it will have to encode.
    """

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("tokens must be distinct")
        self.pad, self.start, self.end = 0, 1, 2

    @classmethod
    def build(
        cls, strings: Iterable[str], specials: Sequence[str] = ("<pad>", "<s>", "</s>")
    ) -> CharVocab:
        """The vocabulary of ``strings``: the three specials (pad, start, end) in that order,
        then every character that occurs, sorted."""
        if len(specials) != 3:
            raise ValueError(f"specials must name (pad, start, end), got {specials!r}")
        chars = set().union(*map(set, strings)) - set(specials)
        return cls([*specials, *sorted(chars)])

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} tokens: {''.join(self.tokens[3:])!r})"

    def encode(self, s: str) -> list[int]:
        """The ids of the characters of ``s`` (no special tokens added)."""
        try:
            return [self.index[c] for c in s]
        except KeyError as e:
            raise KeyError(
                f"character {e.args[0]!r} of {s!r} is not in the vocabulary, "
                "which was built from other strings"
            ) from None

    def decode(self, ids: Iterable[int], strip: bool = True) -> str:
        """The string of ``ids``.  With ``strip``, it stops at ``</s>`` and drops ``<pad>`` and
        ``<s>``; without, every token is written out, specials included."""
        out = []
        for i in map(int, ids):
            if not 0 <= i < len(self.tokens):
                raise IndexError(f"id {i} is outside the vocabulary of {len(self)} tokens")
            if strip and i == self.end:
                break
            if not (strip and i in (self.pad, self.start)):
                out.append(self.tokens[i])
        return "".join(out)


def encode_batch(
    strings: Sequence[str],
    vocab: CharVocab,
    width: int | None = None,
    *,
    start: bool = False,
    end: bool = False,
    reverse: bool = False,
) -> np.ndarray:
    """The strings as an int32 array (N, width) of ids, padded with ``<pad>`` at the end.

    Each row is ``[<s>] characters [</s>] <pad>...``; ``reverse`` reverses the characters only
    (not ``<s>``, ``</s>`` or the padding).  ``width`` defaults to the longest row; a string whose
    row does not fit raises ValueError.
    """
    rows = [
        [vocab.start] * start + vocab.encode(s[::-1] if reverse else s) + [vocab.end] * end
        for s in strings
    ]
    if width is None:
        width = max(map(len, rows), default=0)
    out = np.full((len(rows), width), vocab.pad, dtype=np.int32)
    for k, (s, row) in enumerate(zip(strings, rows)):
        if len(row) > width:
            raise ValueError(f"{s!r} needs {len(row)} positions, more than width={width}")
        out[k, : len(row)] = row
    return out


def seq2seq_arrays(
    pairs: Sequence[tuple[str, str]],
    src_vocab: CharVocab,
    tgt_vocab: CharVocab,
    *,
    reverse_source: bool = False,
    src_width: int | None = None,
    tgt_width: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(sources (N, S), targets (N, T))``, int32: sources padded (characters reversed if
    ``reverse_source``), targets ``<s> answer </s>`` padded.  The decoder reads
    ``targets[:, :-1]`` and predicts ``targets[:, 1:]``.  Widths default to the longest row;
    pass them to give train and test arrays the same shapes."""
    sources = encode_batch([s for s, _ in pairs], src_vocab, src_width, reverse=reverse_source)
    targets = encode_batch([t for _, t in pairs], tgt_vocab, tgt_width, start=True, end=True)
    return sources, targets
