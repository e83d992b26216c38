"""Property-based tests of the corpus reader (issue 12 §7): TSV, CSV and two aligned files, fed random bytes,
BOMs, CRLF/CR endings, NUL bytes, giant lines, CSV quoting and mixed encodings. Every input must end in a valid
parse or a CorpusError naming the file (and the line, for a fault in one line), never another exception.

Bounded: a few dozen examples per property (FUZZ_EXAMPLES to change), no example database, no deadline
(the machine is shared)."""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from s2s.data import CorpusError, parse_pairs, read_pairs

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))  # FUZZ_EXAMPLES=5000 for a deeper run by hand
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

WHOLE_FILE = ("file is empty", "no sentence pairs", "lines but")  # faults of a whole file: no line number
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252", "gb18030", "shift_jis")

# characters that matter to the parsers, plus anything else
special = st.sampled_from(["\t", ",", '"', "\r", "\n", "\r\n", "\x00", "\ufeff", " ", "\u2028", "\x85", "é", "我"])
text = st.lists(st.one_of(special, st.text(max_size=8)), max_size=12).map("".join)
ending = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def encoded(draw, lines=st.lists(text, max_size=8)):
    """Lines joined by random endings, each line in a random encoding (mixed encodings in one file)."""
    out = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    for line in draw(lines):
        out += (line + draw(ending)).encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    return out


giant = st.integers(100_000, 300_000).map(lambda n: b"a" * n + b"\t" + b"b" * (n // 2) + b"\n")
files = st.one_of(st.binary(max_size=400), encoded(), st.tuples(encoded(), giant, encoded()).map(b"".join))


def n_lines(data: bytes) -> int:
    return len(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n").split(b"\n"))


def check_error(err: CorpusError, files: dict[str, bytes]) -> None:
    """The message starts with one of the file names; a fault in one line names a line that exists."""
    message = str(err)
    (name,) = [n for n in files if message.startswith(n + ":")]
    line = re.match(re.escape(name) + r":(\d+): ", message)
    if line:
        assert 1 <= int(line.group(1)) <= n_lines(files[name]), message
    else:
        assert any(w in message for w in WHOLE_FILE), message


def check_pairs(pairs) -> None:
    assert pairs, "a valid parse has at least one pair"
    for pair in pairs:
        assert len(pair) == 2
        for side in pair:
            assert isinstance(side, str) and side == side.strip() and side
            assert not set(side) & {"\n", "\r", "\x00"}, repr(side)  # one sentence per line downstream


def outcome(data: bytes, name: str, tgt: bytes | None = None, tgt_name: str = "tgt.txt") -> list | None:
    try:
        pairs = parse_pairs(data, name, tgt, tgt_name)
    except CorpusError as err:
        check_error(err, {name: data, **({tgt_name: tgt} if tgt is not None else {})})
        return None
    check_pairs(pairs)
    return pairs


@FUZZ
@given(files)
def test_tsv_never_fails_otherwise(data):
    outcome(data, "up.tsv")


@FUZZ
@given(files)
def test_csv_never_fails_otherwise(data):
    outcome(data, "up.csv")


@FUZZ
@given(files, files)
def test_two_files_never_fail_otherwise(src, tgt):
    outcome(src, "src.txt", tgt)


clean = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=10) \
    .filter(lambda s: s.strip() and "\ufeff" not in s)


@FUZZ
@given(st.lists(st.tuples(clean, clean), min_size=1, max_size=6), ending, st.booleans())
def test_tsv_round_trip(pairs, end, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + "".join(f"{s}\t{t}{end}" for s, t in pairs).encode()
    assert parse_pairs(data, "c.tsv") == [(s.strip(), t.strip()) for s, t in pairs]


csv_field = st.lists(st.one_of(clean, st.sampled_from([",", '"', "\n", "\r\n", "\t", "'"])), min_size=1,
                     max_size=5).map("".join).filter(lambda s: s.strip())


@FUZZ
@given(st.lists(st.tuples(csv_field, csv_field), min_size=1, max_size=5), st.sampled_from(["\r\n", "\n"]))
def test_csv_round_trip_with_quoting(pairs, end):
    """Quoted fields may hold commas, quotes and line breaks; whitespace runs in a field become one space."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=end).writerows([("source", "target"), *pairs])
    got = parse_pairs(buffer.getvalue().encode(), "c.csv")
    assert got == [(" ".join(s.split()), " ".join(t.split())) for s, t in pairs]


@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
@given(files, st.one_of(st.none(), files), st.sampled_from(["c.tsv", "c.csv", "c.txt"]))
def test_files_on_disk(data, tgt, name):
    with tempfile.TemporaryDirectory() as folder:
        path, tgt_path = Path(folder) / name, Path(folder) / "t.txt"
        path.write_bytes(data)
        if tgt is not None:
            tgt_path.write_bytes(tgt)
        try:
            pairs = read_pairs(path, tgt_path if tgt is not None else None)
        except CorpusError as err:
            check_error(err, {str(path): data, str(tgt_path): tgt or b""})
            return
        check_pairs(pairs)
