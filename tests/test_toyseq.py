"""course_lib.data.toyseq: the addition and date tasks, the split, CharVocab and the arrays."""

import datetime
import re

import numpy as np
import pytest

from course_lib.data import (
    DATE_FORMATS,
    CharVocab,
    addition_pairs,
    date_pairs,
    encode_batch,
    fixed_split,
    format_date,
    seq2seq_arrays,
)

MON = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()


def parse_date(s: str) -> datetime.date:
    """An independent reader of the human formats (no locale, no format templates)."""
    if m := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s):
        y, mo, d = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", s):
        mo, d, y = map(int, m.groups())
        if len(m[3]) == 2:
            y += 1900 if y >= 70 else 2000
    elif m := re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", s):
        d, mo, y = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", s):
        d, mo, y = int(m[1]), MON.index(m[2][:3].lower()) + 1, int(m[3])
    elif m := re.fullmatch(r"(?:([A-Za-z]+), )?([A-Za-z]+) (\d{1,2}), (\d{4})", s):
        d, mo, y = int(m[3]), MON.index(m[2][:3].lower()) + 1, int(m[4])
        if m[1]:
            assert DAYS.index(m[1].lower()) == datetime.date(y, mo, d).weekday(), s
    else:
        raise AssertionError(f"unreadable date {s!r}")
    return datetime.date(y, mo, d)


# --- addition ---------------------------------------------------------------------------------


def test_addition_deterministic_and_correct():
    a = addition_pairs(2000, seed=3)
    assert a == addition_pairs(2000, seed=3)
    assert a != addition_pairs(2000, seed=4)
    for src, ans in a:
        x, y = src.split("+")
        assert 0 <= int(x) < 1000 and 0 <= int(y) < 1000
        assert str(x) == str(int(x)) and ans == str(int(x) + int(y))
    assert len(set(a)) == len(a)


def test_addition_distinct_up_to_the_whole_set():
    pairs = addition_pairs(100, max_digits=1)
    assert sorted(pairs) == sorted((f"{x}+{y}", str(x + y)) for x in range(10) for y in range(10))
    with pytest.raises(ValueError, match="100 distinct problems"):
        addition_pairs(101, max_digits=1)


def test_addition_operands_spread():
    ops = np.array([[int(v) for v in s.split("+")] for s, _ in addition_pairs(5000, seed=1)])
    assert ops.min() < 5
    assert ops.max() > 990 and 400 < ops.mean() < 600


# --- dates ------------------------------------------------------------------------------------


def test_dates_deterministic():
    assert date_pairs(300, seed=1) == date_pairs(300, seed=1)
    assert date_pairs(300, seed=1) != date_pairs(300, seed=2)


def test_dates_correct_in_range_every_format():
    pairs = date_pairs(2000, seed=0)
    lo, hi = datetime.date(1970, 1, 1), datetime.date(2030, 12, 31)
    seen_formats = set()
    for src, iso in pairs:
        d = datetime.date.fromisoformat(iso)
        assert lo <= d <= hi and iso == f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
        assert parse_date(src) == d, (src, iso)
        seen_formats |= {f for f in DATE_FORMATS if format_date(d, f) == src}
    assert seen_formats == set(DATE_FORMATS)
    assert len({s for s, _ in pairs}) == len(pairs)


def test_date_formats_examples():
    d = datetime.date(1994, 9, 27)  # a Tuesday
    written = {format_date(d, f) for f in DATE_FORMATS}
    for s in ("september 27, 1994", "TUESDAY, SEPTEMBER 27, 1994", "9/27/94", "27.09.1994"):
        assert s in written
    assert "1994年9月27日" in written and "Tuesday, September 27, 1994" in written


def test_dates_range_and_errors():
    pairs = date_pairs(50, start="2000-02-01", end="2000-02-29")
    assert all("2000-02-01" <= iso <= "2000-02-29" for _, iso in pairs)
    wide = date_pairs(500, start="1900-01-01", end="2030-12-31")
    assert all(not re.fullmatch(r"\d+/\d+/\d\d", s) for s, _ in wide)  # no two-digit years
    with pytest.raises(ValueError, match="after"):
        date_pairs(1, start="2000-01-02", end="2000-01-01")
    with pytest.raises(ValueError, match="combinations"):
        date_pairs(len(DATE_FORMATS) + 1, start="2000-01-01", end="2000-01-01")


# --- split --------------------------------------------------------------------------------------


def test_fixed_split():
    pairs = addition_pairs(1000)
    train, test = fixed_split(pairs, test_fraction=0.1, seed=0)
    assert (len(train), len(test)) == (900, 100)
    assert not set(train) & set(test) and sorted(train + test) == sorted(pairs)
    assert (train, test) == fixed_split(pairs, test_fraction=0.1, seed=0)
    assert test != fixed_split(pairs, test_fraction=0.1, seed=1)[1]
    assert fixed_split(pairs, 0.0)[1] == [] and len(fixed_split(pairs, 0.25)[1]) == 250
    with pytest.raises(ValueError):
        fixed_split(pairs, 1.5)


# --- vocabulary and arrays ------------------------------------------------------------------------


def test_charvocab_round_trip():
    strings = ["16+75", "91", "1994年9月27日"]
    v = CharVocab.build(strings)
    assert v.tokens[:3] == ["<pad>", "<s>", "</s>"] and (v.pad, v.start, v.end) == (0, 1, 2)
    assert v.tokens[3:] == sorted(set("".join(strings))) and len(v) == len(v.tokens)
    for s in ("16+75", "", "1994年9月27日"):
        assert v.decode(v.encode(s)) == s
    ids = [v.start, *v.encode("91"), v.end, v.pad, *v.encode("5")]
    assert v.decode(ids) == "91"
    assert v.decode(ids, strip=False) == "<s>91</s><pad>5"
    assert v.decode(np.array([v.pad, *v.encode("7")])) == "7"


def test_charvocab_errors():
    v = CharVocab.build(["123"])
    with pytest.raises(KeyError, match=r"'x'.*built from other strings"):
        v.encode("1x2")
    with pytest.raises(IndexError):
        v.decode([len(v)])
    with pytest.raises(ValueError):
        CharVocab.build(["a"], specials=("<pad>",))


def test_encode_batch():
    v = CharVocab.build(["abc"])
    a, b, c = v.encode("abc")
    x = encode_batch(["abc", "a"], v)
    assert x.dtype == np.int32 and x.tolist() == [[a, b, c], [a, v.pad, v.pad]]
    x = encode_batch(["ab", "c"], v, 5, start=True, end=True, reverse=True)
    assert x.tolist() == [[v.start, b, a, v.end, v.pad], [v.start, c, v.end, v.pad, v.pad]]
    assert encode_batch(["ab"], v, end=True).tolist() == [[a, b, v.end]]
    assert encode_batch([], v).shape == (0, 0)
    with pytest.raises(ValueError, match=r"'abc'.*width=3"):
        encode_batch(["abc"], v, 3, start=True)


def test_seq2seq_arrays():
    pairs = addition_pairs(200, seed=5)
    src_v = CharVocab.build(s for s, _ in pairs)
    tgt_v = CharVocab.build(t for _, t in pairs)
    x, y = seq2seq_arrays(pairs, src_v, tgt_v)
    assert x.shape == (200, max(len(s) for s, _ in pairs))
    assert y.shape == (200, max(len(t) for _, t in pairs) + 2)
    assert (y[:, 0] == tgt_v.start).all() and x.dtype == y.dtype == np.int32
    for (s, t), xs, ys in zip(pairs, x, y):
        assert src_v.decode(xs) == s and tgt_v.decode(ys) == t
        assert ys.tolist().count(tgt_v.end) == 1
    xr, _ = seq2seq_arrays(pairs, src_v, tgt_v, reverse_source=True, src_width=9, tgt_width=8)
    assert xr.shape == (200, 9) and src_v.decode(xr[0]) == pairs[0][0][::-1]
    assert seq2seq_arrays(pairs, src_v, tgt_v, tgt_width=8)[1].shape == (200, 8)
