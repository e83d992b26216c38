"""Corpus reading and validation, batching."""
from __future__ import annotations

import random

import pytest

from s2s.data import CorpusError, Example, bucketed_batches, parse_pairs, read_pairs, split_pairs
from s2s.tokenizer import PAD, train_vocab

from conftest import reverse_examples


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_tsv_extra_columns_ignored_and_blank_lines_skipped(tmp_path):
    path = write(tmp_path, "c.tsv", "我爱你。\tI love you.\tCC-BY\n\nHallo\tHello\n".encode())
    assert read_pairs(path) == [("我爱你。", "I love you."), ("Hallo", "Hello")]


def test_csv_with_header_and_quotes(tmp_path):
    path = write(tmp_path, "c.csv", b'source,target\n"a, b",c\nd,e\n')
    assert read_pairs(path) == [("a, b", "c"), ("d", "e")]


def test_two_aligned_files(tmp_path):
    src, tgt = write(tmp_path, "s.de", b"a\nb\n"), write(tmp_path, "t.en", b"x\ny\n")
    assert read_pairs(src, tgt) == [("a", "x"), ("b", "y")]


@pytest.mark.parametrize("content, message, line", [
    (b"ok\tfine\nno tab here\n", "no TAB", 2),
    (b"", "empty", None),
    (b"  \n\n", "empty", None),
    (b"ok\tfine\nbad \xff\xfe\tx\n", "UTF-8", 2),
    (b"a\tb\nc\x00\x01\x02\td\n", "binary", 2),
])
def test_bad_tsv_names_file_and_line(tmp_path, content, message, line):
    path = write(tmp_path, "bad.tsv", content)
    with pytest.raises(CorpusError) as err:
        read_pairs(path)
    text = str(err.value)
    assert message in text and str(path) in text
    if line:
        assert f"bad.tsv:{line}:" in text


def test_mismatched_line_counts(tmp_path):
    src, tgt = write(tmp_path, "s.txt", b"a\nb\nc\n"), write(tmp_path, "t.txt", b"x\ny\n")
    with pytest.raises(CorpusError, match="t.txt: has 2 lines but .*s.txt has 3"):
        read_pairs(src, tgt)


def test_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="nope.tsv: file not found"):
        read_pairs(tmp_path / "nope.tsv")


def test_in_memory_upload_errors_name_the_upload():
    with pytest.raises(CorpusError, match="upload.tsv:1: no TAB"):
        parse_pairs(b"just one column\n", "upload.tsv")
    with pytest.raises(CorpusError, match="b.txt: has 1 lines"):
        parse_pairs(b"a\nb\n", "a.txt", b"x\n", "b.txt")


def test_split_is_seeded_and_disjoint():
    pairs = [(str(i), str(i)) for i in range(100)]
    train, valid = split_pairs(pairs, 0.1, seed=3)
    assert len(valid) == 10 and len(train) == 90 and not set(train) & set(valid)
    assert split_pairs(pairs, 0.1, seed=3) == (train, valid)


def test_bucketed_batches_cover_everything_once_with_little_padding():
    examples = reverse_examples(500, 1, low=1, high=30)
    batches = bucketed_batches(examples, 16, random.Random(0))
    assert sum(b.src.size(0) for b in batches) == 500
    assert sum(b.n_tokens for b in batches) == sum(len(e.tgt) - 1 for e in examples)
    padding = sum((b.src == PAD).sum().item() for b in batches) / sum(b.src.numel() for b in batches)
    assert padding < 0.1


def varied_lengths(n: int, seed: int) -> list[Example]:
    """Sources of 5-30 pieces, each target up to 6 pieces longer or shorter than its source (as real pairs)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.randint(5, 30)
        t = max(1, s + rng.randint(-6, 6))
        out.append(Example([4] * s + [3], [2] + [4] * t + [3]))
    return out


def target_padding(batches) -> float:
    """Padded decoder positions (inputs <sos> y1 .. y(n-1) of each row, as the decoder runs) / all positions."""
    positions = sum(b.tgt.size(0) * (b.tgt.size(1) - 1) for b in batches)
    return 1 - sum(b.n_tokens for b in batches) / positions


def test_batches_are_bucketed_by_target_length_too():
    """The decoder runs over every padded target position, so batches must be narrow in target length as well as in
    source length (the encoder runs once per distinct source length of a batch: a few at most)."""
    batches = bucketed_batches(varied_lengths(20_000, 1), 64, random.Random(0))
    assert target_padding(batches) < 0.05
    assert max(len(set(b.src_len.tolist())) for b in batches) <= 2
    assert sum(b.src.size(0) for b in batches) == 20_000


def test_tiny_vocabulary_never_fails():
    vocab = train_vocab(["a b", "b c"], 8000)
    assert vocab.decode(vocab.encode("a b c")) == "a b c"
    assert vocab.coverage(["a b"]) == 1.0 and vocab.coverage(["zzz"]) < 1.0


def test_source_length_counts_chinese_characters_as_words():
    from s2s.evaluate import scores_by_length, source_length
    assert source_length("我爱你。") == 4 and source_length("Ein Mann fährt Fahrrad.") == 4
    rows = scores_by_length(["a b", "我爱你们大家好吗朋友"], ["x y", "p q"], ["x y", "p q"])
    assert [r["bucket"] for r in rows] == ["1-5", "6-10"] and [r["sentences"] for r in rows] == [1, 1]


@pytest.mark.parametrize("content", [b"a\tx\rb\ty\r", b"a\tx\r\nb\ty\r\n", b"a\tx\rb\ty", b"a\tx\nb\ty\r\n",
                                     b"\xef\xbb\xbfa\tx\rb\ty\r"])
def test_cr_crlf_and_lf_line_endings_alike(tmp_path, content):
    assert read_pairs(write(tmp_path, "c.tsv", content)) == [("a", "x"), ("b", "y")]


def test_cr_only_line_numbers_in_errors():
    with pytest.raises(CorpusError, match=r"up.tsv:3: no TAB"):
        parse_pairs(b"a\tx\rb\ty\rnone\r", "up.tsv")


def test_blank_input_allowed_only_when_asked():
    from s2s.data import decode_lines
    assert decode_lines(b" \r\r\n\n", "<stdin>", allow_empty=True) == [" ", "", ""]
    assert decode_lines(b"", "<stdin>", allow_empty=True) == []
    with pytest.raises(CorpusError, match="<stdin>: file is empty"):
        decode_lines(b" \r\r\n\n", "<stdin>")
