"""Training through the CLI end to end: kill -9 + --resume is bit-exact, early stopping, --time-limit,
--keep best|last. Each run is a real `python -m s2s train` process on a toy corpus."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from s2s import checkpoint

from conftest import TOY_PAIRS

ROOT = Path(__file__).resolve().parents[1]
MODEL = ["--vocab-size", "60", "--emb", "16", "--hidden", "48", "--layers", "2", "--dropout", "0.3",
         "--batch-size", "8", "--threads", "1", "--seed", "3", "--patience", "0"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    train, valid = folder / "train.tsv", folder / "valid.tsv"
    train.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS * 8), encoding="utf-8")
    valid.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS[::5]), encoding="utf-8")
    return train, valid


def _command(corpus, out: Path, *flags: str) -> list[str]:
    train, valid = corpus
    return [sys.executable, "-m", "s2s", "train", "--train", str(train), "--valid", str(valid), "--out", str(out),
            *MODEL, *flags]


def _run(corpus, out: Path, *flags: str) -> subprocess.CompletedProcess:
    done = subprocess.run(_command(corpus, out, *flags), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.with_suffix(".metrics.jsonl").read_text().splitlines()]


def _last(out: Path) -> Path:
    return out.with_name(out.stem + ".last" + out.suffix)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(path)).items() if k.startswith("model.")}


def test_kill_9_and_resume_ends_with_the_same_weights(corpus, tmp_path):
    flags = ("--epochs", "12", "--keep", "last", "--schedule", "linear", "--teacher-forcing", "0.5")
    whole = tmp_path / "whole" / "m.s2s"
    _run(corpus, whole, *flags)
    cut = tmp_path / "cut" / "m.s2s"
    cut.parent.mkdir()
    proc = subprocess.Popen(_command(corpus, cut, *flags), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not _last(cut).exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed, not finished: the run had 11 more epochs to go
    killed_at = checkpoint.load(_last(cut)).progress.step
    assert 0 < killed_at < _metrics(whole)[-1]["step"]
    _run(corpus, cut, *flags, "--resume")
    a, b = _weights(whole), _weights(cut)
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    steps = [(row["kind"], row["step"]) for row in _metrics(cut)]
    assert len(steps) == len(set(steps))  # no update logged twice by the resume
    assert steps == [(row["kind"], row["step"]) for row in _metrics(whole)]


def test_early_stopping_counts_validations(corpus, tmp_path):
    """With a learning rate too small to move any fp32 weight, the validation loss never improves after the first
    validation: patience 2 stops after the third."""
    out = tmp_path / "m.s2s"
    _run(corpus, out, "--epochs", "20", "--lr", "1e-30", "--patience", "2")
    rows = _metrics(out)
    valid = [r for r in rows if r["kind"] == "valid"]
    assert len(valid) == 3
    assert rows[-1]["kind"] == "done" and rows[-1]["reason"] == "early stopping"


def test_time_limit_validates_the_final_updates(corpus, tmp_path):
    out = tmp_path / "m.s2s"
    _run(corpus, out, "--epochs", "100000", "--time-limit", "2", "--keep", "last")
    rows = _metrics(out)
    assert rows[-1]["reason"] == "time limit"
    # the last updates are validated: right before "done" when the limit cut an epoch, or before that epoch's
    # "epoch" row when the limit was seen at an epoch's end
    last_valid = max(i for i, r in enumerate(rows) if r["kind"] == "valid")
    assert rows[last_valid]["step"] == rows[-1]["step"]
    assert all(r["kind"] in ("epoch", "done") for r in rows[last_valid + 1:])
    assert checkpoint.load(out).progress.step == rows[-1]["step"]


def test_keep_best_holds_the_best_validation_and_keep_last_the_final_weights(corpus, tmp_path):
    best, last = tmp_path / "best.s2s", tmp_path / "last.s2s"
    _run(corpus, best, "--epochs", "4", "--eval-every", "5", "--lr", "3e-2", "--keep", "best")
    rows = [r for r in _metrics(best) if r["kind"] == "valid"]
    winner = min(rows, key=lambda r: r["valid_loss"])
    assert checkpoint.load(best).progress.step == winner["step"]
    _run(corpus, last, "--epochs", "4", "--eval-every", "5", "--lr", "3e-2", "--keep", "last")
    final = _metrics(last)[-1]["step"]
    assert checkpoint.load(last).progress.step == final
    a, b = _weights(last), _weights(_last(last))
    assert all(torch.equal(a[k], b[k]) for k in a)
