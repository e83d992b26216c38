"""Data-parallel training with torchrun on 2 CPU processes (gloo): the same updates as one process, a lost process
ends the run with one line and a resumable .last, and a resume works with another number of processes."""
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
FLAGS = ["--vocab-size", "60", "--emb", "16", "--hidden", "48", "--layers", "2", "--batch-size", "16",
         "--threads", "1", "--seed", "3", "--patience", "0"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("ddp")
    (folder / "train.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS * 8), encoding="utf-8")
    (folder / "valid.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS[::5]), encoding="utf-8")
    return ["--train", str(folder / "train.tsv"), "--valid", str(folder / "valid.tsv")]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def _single(*args: str) -> list[str]:
    return [sys.executable, "-m", "s2s", "train", *args]


def _torchrun(n: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
            "-m", "s2s", "train", *args]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _metrics(out: Path) -> list[dict]:
    return [json.loads(x) for x in out.with_suffix(".metrics.jsonl").read_text().splitlines()]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(path)).items() if k.startswith("model.")}


def test_two_processes_make_the_same_updates_as_one(corpus, tmp_path):
    flags = [*corpus, *FLAGS, "--dropout", "0", "--max-steps", "20", "--epochs", "5", "--keep", "last"]
    one, two = tmp_path / "one" / "m.s2s", tmp_path / "two" / "m.s2s"
    _run(_single(*flags, "--out", str(one)))
    _run(_torchrun(2, *flags, "--out", str(two)))
    a, b = _metrics(one), _metrics(two)
    assert [(r["kind"], r["step"]) for r in a] == [(r["kind"], r["step"]) for r in b]
    assert a[-1]["step"] == 20
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5)
        assert x.get("valid_loss", 0) == pytest.approx(y.get("valid_loss", 0), rel=1e-5)
    wa, wb = _weights(one), _weights(two)
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-5


def _rank_pid(rank: int, parent: int) -> int | None:
    """The pid of the torchrun worker with RANK=rank (a descendant of `parent`)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == parent:
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and f"TORCHELASTIC_RUN_ID".encode() in b"\0".join(environ):
            return int(entry.name)
    return None


def test_a_killed_process_ends_the_run_and_another_world_size_resumes(corpus, tmp_path):
    out = tmp_path / "m.s2s"
    last = out.with_name("m.last.s2s")
    flags = [*corpus, *FLAGS, "--dropout", "0.2", "--epochs", "400", "--out", str(out)]  # far longer than the test
    log = (tmp_path / "torchrun.log").open("w")  # a file, not a pipe: nobody reads while it runs
    proc = subprocess.Popen(_torchrun(2, *flags), cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    victim = _rank_pid(1, proc.pid)
    assert victim is not None and proc.poll() is None  # running, past its first epoch
    os.kill(victim, signal.SIGKILL)
    assert proc.wait(timeout=120) != 0
    ours = [line for line in (tmp_path / "torchrun.log").read_text().splitlines() if line.startswith("error: ")]
    assert len(ours) == 1 and "rerun with --resume" in ours[0] and str(last) in ours[0]
    stopped_at = checkpoint.load(last).progress.step
    assert stopped_at > 0
    _run(_single(*flags, "--max-steps", str(stopped_at + 10), "--resume"))  # one process now
    assert checkpoint.load(last).progress.step == stopped_at + 10
    steps = [(r["kind"], r["step"]) for r in _metrics(out)]
    assert len(steps) == len(set(steps))
