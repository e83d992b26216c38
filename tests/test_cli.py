"""The command line: train -> translate -> evaluate on a tiny corpus, and every bad input's error."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from s2s.__main__ import main

from conftest import TOY_PAIRS

ROOT = Path(__file__).resolve().parents[1]


def run(*args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "s2s", *args], input=stdin.encode(), capture_output=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    (d / "pairs.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS), "utf-8")
    (d / "src.txt").write_text("".join(s + "\n" for s, _ in TOY_PAIRS[:8]), "utf-8")
    (d / "ref.txt").write_text("".join(t + "\n" for _, t in TOY_PAIRS[:8]), "utf-8")
    return d


@pytest.fixture(scope="module")
def trained(corpus):
    out = corpus / "toy.s2s"
    proc = run("train", "--train", str(corpus / "pairs.tsv"), "--out", str(out), "--hidden", "32", "--emb", "16",
               "--layers", "1", "--epochs", "60", "--batch-size", "8", "--lr", "0.01", "--patience", "0",
               "--attention", "luong", "--dropout", "0", "--threads", "1")
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return out


def test_train_logs_and_writes_metrics(trained):
    rows = [json.loads(line) for line in trained.with_suffix(".metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["kind"] == "done"
    valid = [r for r in rows if r["kind"] == "valid"]
    assert len(valid) == 60 and valid[-1]["valid_loss"] < valid[0]["valid_loss"]
    assert trained.with_name("toy.last.s2s").exists()


def test_translate_keeps_order_and_blank_lines(trained):
    proc = run("translate", "--model", str(trained), stdin="red cat\n\n   \nblue dog\n")
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().split("\n")
    assert len(lines) == 5 and lines[1] == "" and lines[2] == "" and lines[4] == ""
    assert lines[0] == "cat red" and lines[3] == "dog blue"


def test_translate_n_best_lines(trained):
    proc = run("translate", "--model", str(trained), "--strategy", "beam", "--beam-size", "4", "--n-best", "3",
               stdin="red cat\nblue dog\n")
    rows = [line.split("\t") for line in proc.stdout.decode().splitlines()]
    assert [r[0] for r in rows] == ["0", "0", "0", "1", "1", "1"]
    scores = [float(r[1]) for r in rows[:3]]
    assert scores == sorted(scores, reverse=True)


def test_sampling_with_seed_is_reproducible(trained):
    args = ("translate", "--model", str(trained), "--strategy", "sample", "--temperature", "1.5", "--seed", "4")
    assert run(*args, stdin="red cat\n").stdout == run(*args, stdin="red cat\n").stdout


def test_evaluate_prints_one_json_line(trained, corpus):
    proc = run("evaluate", "--model", str(trained), "--src", str(corpus / "src.txt"), "--ref", str(corpus / "ref.txt"),
               "--strategy", "beam")
    assert proc.returncode == 0, proc.stderr.decode()
    (line,) = proc.stdout.decode().splitlines()
    result = json.loads(line)
    assert result["sentences"] == 8 and result["chrf"] > 80 and 0 <= result["bleu"] <= 100 and "seconds" in result


def test_fine_tune_keeps_vocabulary(trained, corpus, tmp_path):
    out = tmp_path / "ft.s2s"
    proc = run("train", "--train", str(corpus / "pairs.tsv"), "--out", str(out), "--init-from", str(trained),
               "--max-steps", "3", "--threads", "1")
    assert proc.returncode == 0, proc.stderr.decode()[-1000:]
    from s2s import checkpoint
    a, b = checkpoint.load(trained), checkpoint.load(out)
    assert a.src_vocab.to_bytes() == b.src_vocab.to_bytes() and a.model.cfg == b.model.cfg


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("content, expected", [
    (b"a\tb\nno tab\n", "bad.tsv:2: no TAB"),
    (b"", "bad.tsv: file is empty"),
    (b"a\tb\n\xc3\x28\tx\n", "bad.tsv:2: not valid UTF-8"),
    (b"\x00\x01\x02\x03binary", "bad.tsv:1: binary data"),
])
def test_train_bad_corpus(tmp_path, capsys, content, expected):
    (tmp_path / "bad.tsv").write_bytes(content)
    err = _error(capsys, ["train", "--train", str(tmp_path / "bad.tsv"), "--out", str(tmp_path / "m.s2s")])
    assert expected in err
    assert not (tmp_path / "m.s2s").exists()


def test_train_mismatched_and_missing(tmp_path, capsys):
    (tmp_path / "s.txt").write_text("a\nb\n")
    (tmp_path / "t.txt").write_text("x\n")
    err = _error(capsys, ["train", "--train", str(tmp_path / "s.txt"), "--train-tgt", str(tmp_path / "t.txt"),
                          "--out", str(tmp_path / "m.s2s")])
    assert "t.txt: has 1 lines but" in err
    err = _error(capsys, ["train", "--train", str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "m.s2s")])
    assert "missing.tsv: file not found" in err


@pytest.mark.parametrize("flags, expected", [
    (["--strategy", "beam", "--beam-size", "0"], "beam size must be >= 1"),
    (["--temperature", "0"], "temperature must be > 0"),
    (["--top-p", "1.5"], "top-p must be in (0, 1]"),
    (["--top-p", "0"], "top-p must be in (0, 1]"),
    (["--beam-size", "abc"], "invalid int value"),
])
def test_translate_nonsense_flags(trained, capsys, flags, expected):
    assert expected in _error(capsys, ["translate", "--model", str(trained), *flags])


def test_corrupt_and_foreign_checkpoints(tmp_path, capsys):
    (tmp_path / "junk.s2s").write_bytes(b"\x00" * 100)
    assert "junk.s2s: not a safetensors checkpoint" in _error(capsys, ["translate", "--model", str(tmp_path / "junk.s2s")])
    assert "nope.s2s: checkpoint not found" in _error(capsys, ["translate", "--model", str(tmp_path / "nope.s2s")])


def test_evaluate_mismatched_files(trained, tmp_path, capsys):
    (tmp_path / "s.txt").write_text("red cat\nblue dog\n")
    (tmp_path / "r.txt").write_text("cat red\n")
    err = _error(capsys, ["evaluate", "--model", str(trained), "--src", str(tmp_path / "s.txt"),
                          "--ref", str(tmp_path / "r.txt")])
    assert "r.txt: has 1 lines but" in err


def test_cli_error_has_no_traceback(tmp_path):
    proc = run("translate", "--model", str(tmp_path / "missing.s2s"))
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr and b"missing.s2s" in proc.stderr
