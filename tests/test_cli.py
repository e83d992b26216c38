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
    (["--strategy", "beam", "--beam-size", "0"], "--beam-size: must be in [1, 64], got 0"),
    (["--temperature", "0"], "--temperature: must be a finite number in [0.01, 100], got 0"),
    (["--top-p", "1.5"], "--top-p: must be a finite number in (0, 1]"),
    (["--top-p", "0"], "--top-p: must be a finite number in (0, 1]"),
    (["--beam-size", "abc"], "--beam-size: expected an integer, got 'abc'"),
    (["--strategy", "beam", "--beam-size", "2", "--n-best", "3"], "n-best (3) cannot exceed the beam size (2)"),
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


# ---------------------------------------------------------------- issue 12 §4: every flag validated

from s2s.config import MAX_BEAM, MAX_DECODE_LEN, MAX_HIDDEN, MAX_N_BEST, MAX_SEED  # noqa: E402

TINY = ["--hidden", "16", "--emb", "8", "--layers", "1", "--batch-size", "8", "--threads", "1", "--vocab-size", "60",
        "--dropout", "0"]


def _flag_error(capsys, argv, flag) -> str:
    err = _error(capsys, argv)
    assert f"argument {flag}:" in err, err
    return err


@pytest.mark.parametrize("flags, flag", [
    (["--batch-size", "-1"], "--batch-size"),
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "100000"], "--batch-size"),
    (["--strategy", "sample", "--temperature", "inf"], "--temperature"),
    (["--strategy", "sample", "--temperature", "1e-45"], "--temperature"),
    (["--strategy", "sample", "--temperature", "nan"], "--temperature"),
    (["--seed", "1e23"], "--seed"),
    (["--seed", str(10**23)], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--strategy", "beam", "--beam-size", "1e6"], "--beam-size"),
    (["--strategy", "beam", "--beam-size", "1000000"], "--beam-size"),
    (["--strategy", "beam", "--beam-size", "5", "--n-best", "1000000"], "--n-best"),
    (["--strategy", "sample", "--n-best", str(MAX_N_BEST + 1)], "--n-best"),
    (["--strategy", "sample", "--max-len", "1000000"], "--max-len"),
    (["--top-k", "-1"], "--top-k"),
    (["--top-p", "nan"], "--top-p"),
    (["--length-penalty", "inf"], "--length-penalty"),
])
def test_translate_flags_are_checked_before_the_model_is_loaded(tmp_path, capsys, flags, flag):
    err = _flag_error(capsys, ["translate", "--model", str(tmp_path / "absent.s2s"), *flags], flag)
    assert "absent.s2s" not in err  # refused before anything is loaded or allocated


@pytest.mark.parametrize("flags, flag", [
    (["--threads", "-1"], "--threads"),
    (["--hidden", "100000"], "--hidden"),
    (["--emb", "100000"], "--emb"),
    (["--layers", "1000"], "--layers"),
    (["--vocab-size", "10000000"], "--vocab-size"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--dropout", "1"], "--dropout"),
    (["--seed", "1e23"], "--seed"),
    (["--batch-size", "0"], "--batch-size"),
    (["--epochs", "0"], "--epochs"),
    (["--time-limit", "inf"], "--time-limit"),
    (["--clip", "nan"], "--clip"),
])
def test_train_flags_are_checked_before_the_corpus_is_read(tmp_path, capsys, flags, flag):
    err = _flag_error(capsys, ["train", "--train", str(tmp_path / "absent.tsv"), "--out", str(tmp_path / "m.s2s"),
                               *flags], flag)
    assert "absent.tsv" not in err and not list(tmp_path.iterdir())


def test_help_documents_the_caps(capsys):
    with pytest.raises(SystemExit):
        main(["translate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"1-{MAX_BEAM}" in text and f"1-{MAX_N_BEST}" in text and f"1-{MAX_DECODE_LEN}" in text
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert f"1-{MAX_HIDDEN}" in " ".join(capsys.readouterr().out.split())


def test_decoding_at_the_caps_works(trained, capsys):
    argv = ["translate", "--model", str(trained), "--strategy", "sample", "--n-best", str(MAX_N_BEST),
            "--max-len", str(MAX_DECODE_LEN), "--temperature", "100", "--seed", str(MAX_SEED)]
    import io
    import sys as _sys
    old = _sys.stdin
    _sys.stdin = io.TextIOWrapper(io.BytesIO(b"red cat\n"))
    try:
        assert main(argv) == 0
    finally:
        _sys.stdin = old
    assert len(capsys.readouterr().out.splitlines()) == MAX_N_BEST


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_one_line(trained, tmp_path, capsys):
    assert "CUDA is not available" in _error(capsys, ["translate", "--model", str(trained), "--device", "cuda"])
    err = _error(capsys, ["train", "--train", str(tmp_path / "absent.tsv"), "--out", str(tmp_path / "m.s2s"),
                          "--device", "cuda"])
    assert "CUDA is not available" in err and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- train --out, --resume, --init-from, tiny corpora

@pytest.fixture()
def pairs_file(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS), "utf-8")
    return path


def _train(pairs_file, out, *flags) -> list[str]:
    return ["train", "--train", str(pairs_file), "--out", str(out), *TINY, "--epochs", "1", *flags]


def test_out_into_a_missing_folder_creates_it(pairs_file, tmp_path):
    out = tmp_path / "new" / "deeper" / "m.s2s"
    assert main(_train(pairs_file, out)) == 0
    assert out.is_file() and out.with_name("m.last.s2s").is_file()


def _readonly_folder(tmp_path):
    import os
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if Path("/sys").is_dir():  # root writes anywhere but where the kernel forbids it
        return Path("/sys")
    pytest.skip("no folder this user cannot write to")


@pytest.mark.parametrize("case", ["folder", "under a file", "read-only"])
def test_out_that_cannot_be_written_is_refused_before_training(pairs_file, tmp_path, capsys, case):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "runs").mkdir()
    out = {"folder": tmp_path / "runs", "under a file": tmp_path / "afile" / "m.s2s",
           "read-only": (_readonly_folder(tmp_path) if case == "read-only" else tmp_path) / "m.s2s"}[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    err = _error(capsys, _train(pairs_file, out))
    assert "--out" in err and str(out) in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written (no runs.last, no metrics)


def test_resume_without_last_checkpoint_says_so(pairs_file, tmp_path, capsys):
    assert main(_train(pairs_file, tmp_path / "m.s2s", "--resume")) == 0  # scripts pass --resume on every start
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"--resume: {tmp_path / 'm.last.s2s'} does not exist, nothing to resume: starting a new run"
    assert (tmp_path / "m.s2s").is_file()


@pytest.mark.parametrize("flags, named", [
    (["--hidden", "64"], "--hidden 64"),
    (["--attention", "bahdanau"], "--attention bahdanau"),
    (["--layers", "2", "--emb", "32"], "--layers 2"),
    (["--joint-vocab"], "--joint-vocab"),
])
def test_init_from_refuses_conflicting_model_flags(trained, pairs_file, tmp_path, capsys, flags, named):
    err = _error(capsys, ["train", "--train", str(pairs_file), "--out", str(tmp_path / "ft.s2s"),
                          "--init-from", str(trained), *flags])
    assert named in err and "toy.s2s" in err
    assert not (tmp_path / "ft.s2s").exists()


def test_init_from_accepts_flags_that_agree(trained, pairs_file, tmp_path):
    assert main(["train", "--train", str(pairs_file), "--out", str(tmp_path / "ft.s2s"), "--init-from", str(trained),
                 "--hidden", "32", "--attention", "luong", "--max-steps", "1", "--threads", "1"]) == 0


def test_init_from_another_language_pair_is_refused(trained, tmp_path, capsys):
    path = tmp_path / "zh.tsv"
    path.write_text("".join(f"{a}{b}\t{b}{a}\n" for a in "猫狗鸟鱼" for b in "红绿蓝白"), "utf-8")
    err = _error(capsys, ["train", "--train", str(path), "--out", str(tmp_path / "ft.s2s"),
                          "--init-from", str(trained)])
    assert "language" in err and "toy.s2s" in err


@pytest.mark.parametrize("content", [b"a b\tb a\n", b"a b\tb a\n\n\n"])
def test_corpus_too_small_to_validate(tmp_path, capsys, content):
    (tmp_path / "one.tsv").write_bytes(content)
    err = _error(capsys, ["train", "--train", str(tmp_path / "one.tsv"), "--out", str(tmp_path / "m.s2s")])
    assert "one.tsv" in err and "1 sentence pair" in err and "--valid" in err
    assert not (tmp_path / "m.s2s").exists()


def test_not_finite_training_never_overwrites_a_good_checkpoint(pairs_file, tmp_path, capsys):
    out = tmp_path / "m.s2s"
    assert main(_train(pairs_file, out)) == 0
    files = {p: p.read_bytes() for p in (out, out.with_name("m.last.s2s"))}
    for extra in (["--resume", "--epochs", "3"], []):
        capsys.readouterr()
        assert main(_train(pairs_file, out, "--lr", "1e38", *extra)) == 2  # float32 overflows at once
        err = capsys.readouterr().err  # the training log, then one error line
        assert "Traceback" not in err and [line for line in err.splitlines() if "error" in line] == \
            err.splitlines()[-1:]
        assert err.splitlines()[-1].startswith("error: ") and "learning rate" in err
        assert {p: p.read_bytes() for p in files} == files


# ---------------------------------------------------------------- issue 9: the CLI owns threads, seeds, metrics

def test_threads_are_set_by_the_cli(pairs_file, tmp_path, monkeypatch):
    import torch
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    assert main(_train(pairs_file, tmp_path / "m.s2s", "--max-steps", "1")) == 0
    assert calls == [1]


def test_fresh_weights_depend_on_the_seed_alone():
    import torch
    from s2s.__main__ import _fresh, build_parser

    def weights(seed):
        torch.manual_seed(seed * 7 + 5)  # a different global random state each time
        args = build_parser().parse_args(["train", "--train", "x", "--out", "y", *TINY, "--seed", str(seed)])
        return torch.cat([p.detach().flatten() for p in _fresh(args, TOY_PAIRS).model.parameters()])

    assert torch.equal(weights(3), weights(3)) and not torch.equal(weights(3), weights(4))


def test_resume_rewrites_metrics_without_the_steps_it_redoes(pairs_file, tmp_path):
    out = tmp_path / "m.s2s"
    assert main(_train(pairs_file, out)) == 0
    metrics = out.with_suffix(".metrics.jsonl")
    first = metrics.read_text().splitlines()
    resumed_at = max(json.loads(line)["step"] for line in first)
    with metrics.open("a") as f:  # rows a killed run wrote after its last save
        f.write(json.dumps({"kind": "step", "epoch": 1, "step": resumed_at + 2, "loss": 9.0}) + "\n")
    assert main(_train(pairs_file, out, "--resume", "--epochs", "2")) == 0
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert metrics.read_text().splitlines()[:len(first)] == first
    assert all(r["step"] > resumed_at for r in rows[len(first):]) and rows[-1]["kind"] == "done"
    assert len({(r["kind"], r["step"]) for r in rows}) == len(rows)  # no step written twice
    assert 9.0 not in [r.get("loss") for r in rows]


def test_patience_help_counts_validations(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "validations in a row without improvement" in " ".join(capsys.readouterr().out.split())


# ---------------------------------------------------------------- translate: streaming output, progress, CR

def test_cr_only_and_crlf_line_endings(trained):
    for data in ("red cat\rblue dog\r", "red cat\r\nblue dog\r\n", "red cat\rblue dog"):
        proc = run("translate", "--model", str(trained), stdin=data)
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stdout.decode().split("\n") == ["cat red", "dog blue", ""]
    proc = run("translate", "--model", str(trained), stdin="\r\r")
    assert proc.returncode == 0 and proc.stdout.decode() == "\n\n"


class _Out:
    """A stdout that records what had been flushed when each write came."""

    def __init__(self, tty=False):
        self.text, self.flushed, self.tty = "", "", tty

    def write(self, s):
        self.text += s

    def flush(self):
        self.flushed = self.text

    def isatty(self):
        return self.tty


def _stdin(monkeypatch, text):
    import io
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_translate_writes_and_flushes_each_batch(trained, monkeypatch):
    import s2s.translator as translator_module
    real, calls = translator_module.decode, []

    def dying_decode(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the job is killed while the third batch decodes
        return real(*args, **kw)

    monkeypatch.setattr(translator_module, "decode", dying_decode)
    _stdin(monkeypatch, "red cat\n" * 10)
    out = _Out()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(KeyboardInterrupt):
        main(["translate", "--model", str(trained), "--batch-size", "2"])
    assert out.flushed == "cat red\n" * 4  # the two finished batches reached the file


def test_progress_bar_on_a_terminal(trained, monkeypatch):
    _stdin(monkeypatch, "red cat\nblue dog\n\nsmall car\n")
    err, out = _Out(tty=True), _Out()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["translate", "--model", str(trained), "--batch-size", "1", "--progress"]) == 0
    assert out.text.count("\n") == 4 and "\r" in err.text and "4/4" in err.text
    err = _Out(tty=True)
    monkeypatch.setattr(sys, "stderr", err)
    _stdin(monkeypatch, "red cat\n")
    assert main(["translate", "--model", str(trained)]) == 0 and err.text == ""  # no bar unless asked


def test_evaluate_hyp_out(trained, corpus, tmp_path, capsys):
    argv = ["evaluate", "--model", str(trained), "--src", str(corpus / "src.txt"), "--ref", str(corpus / "ref.txt")]
    assert main([*argv, "--hyp-out", str(tmp_path / "new" / "hyp.txt")]) == 0  # missing folders are created
    assert len((tmp_path / "new" / "hyp.txt").read_text().splitlines()) == 8
    (tmp_path / "afile").write_text("x")
    for bad in (tmp_path / "new", tmp_path / "afile" / "hyp.txt"):
        assert "--hyp-out" in _error(capsys, [*argv, "--hyp-out", str(bad)])
