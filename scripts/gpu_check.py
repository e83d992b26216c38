"""GPU checks, for a machine with CUDA (see scripts/gpu_check.sh, which runs this after the device tests).

    python scripts/gpu_check.py [--data data/raw] [--out gpu_report.md] [--sentences 200] [--skip-epoch]

1. Greedy tokens of an fp32 model (shipped de-en-attention, loaded as fp32) on CPU and GPU for the first N
   Multi30k test sentences: identical or not, and which sentences differ.
2. One Multi30k epoch of the de-en attention recipe (scripts/train_shipped.sh flags, bf16 autocast) on the GPU:
   seconds and target tokens per second.
Writes a short Markdown report with the GPU's name, torch and CUDA versions."""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from s2s import checkpoint  # noqa: E402
from s2s.config import DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig  # noqa: E402
from s2s.data import encode_pairs, read_pairs, read_text  # noqa: E402
from s2s.train import Trainer  # noqa: E402
from s2s.translator import Translator  # noqa: E402


def greedy_identity(data: Path, n: int) -> tuple[int, list[int]]:
    src = read_text(data / "multi30k/test_2016_flickr.de")[:n]
    cfg = DecodeConfig(record_top=0)
    cpu = Translator.load(ROOT / "checkpoints/de-en-attention.s2s", device="cpu")
    gpu = Translator.load(ROOT / "checkpoints/de-en-attention.s2s", device="cuda")
    a = [t.result.hypotheses[0].tokens for t in cpu.translate(src, cfg)]
    b = [t.result.hypotheses[0].tokens for t in gpu.translate(src, cfg)]
    return len(src), [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def one_epoch(data: Path) -> dict:
    """The de-en-attention recipe of scripts/train_shipped.sh, one epoch, on the GPU."""
    train = read_pairs(data / "multi30k/train.de", data / "multi30k/train.en")
    tok = TokenizerConfig(src_vocab_size=6000, tgt_vocab_size=6000, joint=True)
    cfg = ModelConfig(emb=256, hidden=512, layers=2, dropout=0.3, attention="luong", tie_embeddings=True)
    began = time.time()
    ckpt = checkpoint.fresh(train, tok, cfg, seed=1)
    examples = encode_pairs(train, ckpt.src_vocab, ckpt.tgt_vocab)
    prepared = time.time() - began
    trainer = Trainer(ckpt.model, TrainConfig(epochs=1, batch_size=64, lr=1e-3, label_smoothing=0.1, patience=0,
                                              device="cuda", seed=1))
    events = []
    began = time.time()
    trainer.fit(examples, [], events.append)
    torch.cuda.synchronize()
    seconds = time.time() - began
    tokens = sum(len(e.tgt) - 1 for e in examples)
    return {"pairs": len(examples), "updates": trainer.progress.step, "seconds": round(seconds, 1),
            "tokens_per_sec": round(tokens / seconds), "vocab_and_encoding_seconds": round(prepared, 1),
            "last_loss": round(events[-1].loss, 4) if events else None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data/raw"), help="made by scripts/fetch_data.py")
    ap.add_argument("--out", default="gpu_report.md")
    ap.add_argument("--sentences", type=int, default=200)
    ap.add_argument("--skip-epoch", action="store_true")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check", file=sys.stderr)
        return 2
    data = Path(args.data)
    lines = [f"# GPU check ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"- GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, CUDA {torch.version.cuda}; "
             f"host CPU {platform.processor() or platform.machine()}"]
    n, differ = greedy_identity(data, args.sentences)
    lines.append(f"- greedy tokens, fp32 de-en-attention, first {n} test_2016_flickr sentences: "
                 f"{n - len(differ)} of {n} identical on CPU and GPU" + (f" (differ: {differ[:20]})" if differ else ""))
    if not args.skip_epoch:
        epoch = one_epoch(data)
        lines.append(f"- one Multi30k epoch, de-en attention recipe, bf16 autocast: {epoch['seconds']} s, "
                     f"{epoch['updates']} updates, {epoch['tokens_per_sec']} target tokens/s ({epoch})")
    report = "\n".join(lines) + "\n"
    Path(args.out).write_text(report)
    print(report)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
