"""Tiny zh-en checkpoints for the UI tests, trained for seconds with the real core (no shipped files needed)."""
from __future__ import annotations

from pathlib import Path

import torch

from s2s import checkpoint
from s2s.config import ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import encode_pairs
from s2s.train import Trainer

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "demo" / "examples" / "heldout_zh_en.tsv"
TINY = {  # name: (attention, teacher-forcing floor, schedule)
    "zh-en-classic": ("none", 1.0, "constant"),
    "zh-en-attention": ("luong", 1.0, "constant"),
    "zh-en-scheduled": ("none", 0.5, "linear"),
}


def tiny_pairs(n: int = 80) -> list[tuple[str, str]]:
    lines = HELDOUT.read_text(encoding="utf-8").splitlines()
    pairs = [tuple(line.split("\t")[:2]) for line in lines if "\t" in line]
    return [("我爱你。", "I love you.")] + pairs[:n]


def make_tiny_checkpoints(folder: Path, steps: int = 60) -> dict[str, Path]:
    """Write zh-en-classic/attention/scheduled.s2s (tiny LSTMs) into `folder`; seconds on one CPU thread."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = tiny_pairs()
    tok = TokenizerConfig(src_vocab_size=120, tgt_vocab_size=120, src_normalize="zh-hans")
    out = {}
    for name, (attention, tf, schedule) in TINY.items():
        torch.manual_seed(0)
        ckpt = checkpoint.fresh(pairs, tok, ModelConfig(emb=24, hidden=48, layers=1, dropout=0.0,
                                                        attention=attention))
        examples = encode_pairs(pairs, ckpt.src_vocab, ckpt.tgt_vocab)
        cfg = TrainConfig(epochs=100, max_steps=steps, batch_size=16, lr=1e-2, teacher_forcing=tf, schedule=schedule,
                          patience=0, device="cpu", threads=1)
        Trainer(ckpt.model, cfg).fit(examples, examples[:16])
        ckpt.model.eval()
        ckpt.train = cfg
        out[name] = folder / f"{name}.s2s"
        checkpoint.save(out[name], ckpt)
    return out
