"""Shared pieces of the benchmarks: paths, the vocabularies, the data, machine facts, JSON output.

Every benchmark prints one JSON object per measurement on stdout and, with --out, appends it to a JSONL file."""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as `python bench/x.py` from a fresh clone, no install needed

_FETCHED = ROOT / "data" / "raw"  # scripts/fetch_data.py; this machine's read-only copy is ../shared/data
DATA = Path(os.environ.get("DATA") or (_FETCHED if _FETCHED.is_dir() else ROOT.parent / "shared" / "data")) / "multi30k"
WORK = Path(os.environ.get("BENCH_WORK", ROOT / "bench" / "out" / "work"))  # vocabularies, configs, checkpoints
SRC, TGT = "de", "en"
EMB, HIDDEN, LAYERS = 256, 512, 2  # the model both systems train (see README)
VOCAB = 8000  # sentencepiece BPE pieces per side


def corpus(split: str) -> tuple[Path, Path]:
    """(source file, target file) of a Multi30k split: train | val | test_2016_flickr."""
    return DATA / f"{split}.{SRC}", DATA / f"{split}.{TGT}"


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # native bf16 products (the decoding and training bf16 paths need one)


def cpu_identity(cpuinfo: str) -> dict:
    """The first processor of /proc/cpuinfo's text: its name and, where given, family, model, stepping, clock (MHz)
    and bf16 flags. Two machines both named "AMD EPYC" measured 1.5x apart (README): family and model tell them
    apart."""
    fields = {}
    for line in cpuinfo.split("\n\n")[0].splitlines():
        key, sep, val = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), val.strip())
    out = {"cpu": fields.get("model name", "")}
    for key, name in (("cpu family", "family"), ("model", "model"), ("stepping", "stepping"), ("cpu MHz", "mhz")):
        if key in fields:
            out[name] = round(float(fields[key]))
    out["bf16"] = [f for f in BF16_FLAGS if f in fields.get("flags", "").split()]
    return out


def machine() -> dict:
    """nproc, the CPU (cpu_identity), torch version, load: printed next to every number."""
    import torch

    try:
        cpu = cpu_identity(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = {"cpu": platform.processor(), "bf16": []}
    return {"nproc": os.cpu_count(), **cpu, "torch": torch.__version__, "loadavg": round(os.getloadavg()[0], 2)}


def emit(row: dict, out: str | None) -> None:
    """Print one result as a JSON line (and append it to `out`)."""
    row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **row,
           "machine": machine(), "command": " ".join([Path(sys.executable).name] + sys.argv)}
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a") as f:
            f.write(line + "\n")


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (fit the cores)")
    p.add_argument("--out", default=None, help="append the JSON lines to this file")
    return p


def vocabs():
    """Our side's (source, target) s2s Vocab objects, from the models bench/prepare.py trained."""
    from s2s.tokenizer import Vocab

    spm_dir = WORK / "spm"
    if not (spm_dir / "ours.de.model").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "prepare.py")], check=True)
    return (Vocab.from_bytes((spm_dir / "ours.de.model").read_bytes()),
            Vocab.from_bytes((spm_dir / "ours.en.model").read_bytes()))


def model_config(src_vocab, tgt_vocab, attention: str, dropout: float = 0.2):
    from s2s.config import ModelConfig

    return ModelConfig(src_vocab=len(src_vocab), tgt_vocab=len(tgt_vocab), emb=EMB, hidden=HIDDEN, layers=LAYERS,
                       dropout=dropout, attention=attention)


def ckpt_path(attention: str) -> Path:
    """Where train_speed.py leaves our briefly trained model for decode_speed.py and latency.py."""
    return WORK / f"ours-{attention}.s2s"


def device_name(device) -> str:
    """'cpu' or the CUDA card's name, for the results table."""
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
