"""The JoeyNMT 2.3.0 side of the benchmarks: writes its configs, runs its own CLI through
bench/joeynmt_launcher.py in .venv-joeynmt (made by bench/setup_joeynmt.sh), reads its logs, prints JSON.

    python bench/joeynmt_bench.py train --steps 300 --warmup 20     # "Tokens per Sec" log lines
    python bench/joeynmt_bench.py decode --beam 5 --batch-size 64   # `test` mode on test_2016_flickr

The model matches ours (see bench/README.md): 2-layer LSTM encoder (bidirectional 2 x 256: JoeyNMT 2.3.0 cannot run a
unidirectional one) and 2-layer LSTM decoder (512),
embeddings 256, Luong attention without input feeding, decoder initialised from the encoder's last state,
dropout 0.2, the same sentencepiece pieces and ids. `--variant default` instead uses JoeyNMT's usual recurrent
recipe (bidirectional encoder, Bahdanau attention, input feeding, bridge), which costs more FLOPs per token.
JSON (YAML's subset) is written as the config."""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

from common import EMB, HIDDEN, LAYERS, ROOT, SRC, TGT, WORK, base_parser, corpus, emit, read_lines

VENV_PY = ROOT / ".venv-joeynmt" / "bin" / "python"
LAUNCHER = ROOT / "bench" / "joeynmt_launcher.py"


def ensure_venv() -> None:
    if not VENV_PY.exists():
        subprocess.run(["bash", str(ROOT / "bench" / "setup_joeynmt.sh")], check=True)


def ensure_vocab() -> Path:
    spm_dir = WORK / "spm"
    if not (spm_dir / f"joey.{SRC}.model").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "prepare.py")], check=True)
    return spm_dir


def small_dev(n: int = 20) -> str:
    """JoeyNMT needs a dev set to start; validation never runs in the timed window (validation_freq is huge)."""
    prefix = WORK / "joey-dev"
    for lang, path in zip((SRC, TGT), corpus("val")):
        Path(f"{prefix}.{lang}").write_text("\n".join(read_lines(path)[:n]) + "\n", encoding="utf-8")
    return str(prefix)


def test_prefix(limit: int) -> str:
    """test_2016_flickr, or its first `limit` sentences (for short validation runs)."""
    full = corpus("test_2016_flickr")[0].with_suffix("")
    if not limit:
        return str(full)
    prefix = WORK / f"joey-test{limit}"
    for lang, path in zip((SRC, TGT), corpus("test_2016_flickr")):
        Path(f"{prefix}.{lang}").write_text("\n".join(read_lines(path)[:limit]) + "\n", encoding="utf-8")
    return str(prefix)


def side(lang: str, spm_dir: Path) -> dict:
    return {"lang": lang, "level": "bpe", "lowercase": False, "normalize": False, "max_length": 100,
            "min_length": 1, "voc_file": str(spm_dir / f"joey.{lang}.vocab.txt"),
            "tokenizer_type": "sentencepiece", "tokenizer_cfg": {"model_file": str(spm_dir / f"joey.{lang}.model")}}


def model_cfg(variant: str, dropout: float) -> dict:
    matched = variant == "matched"
    emb = {"embedding_dim": EMB, "scale": False, "dropout": dropout}
    return {
        "initializer": "xavier_uniform", "bias_initializer": "zeros", "init_gain": 1.0,
        "embed_initializer": "normal", "embed_init_weight": 0.1, "tied_embeddings": False, "tied_softmax": False,
        # JoeyNMT 2.3.0's recurrent encoder only runs bidirectional (unidirectional fails: IndexError at
        # encoders.py:151), so "matched" uses 2 x 256 per layer: its output (512) and everything downstream have
        # our shapes, at fewer encoder FLOPs than our 512 unidirectional encoder (conservative for us).
        "encoder": {"type": "recurrent", "rnn_type": "lstm", "embeddings": emb,
                    "hidden_size": HIDDEN // 2 if matched else HIDDEN,
                    "bidirectional": True, "dropout": dropout, "num_layers": LAYERS},
        "decoder": {"type": "recurrent", "rnn_type": "lstm", "embeddings": emb, "hidden_size": HIDDEN,
                    "dropout": dropout, "hidden_dropout": dropout, "num_layers": LAYERS,
                    "input_feeding": not matched, "init_hidden": "last" if matched else "bridge",
                    "attention": "luong" if matched else "bahdanau"},
    }


def config(args, model_dir: Path, mode: str) -> dict:
    spm_dir = ensure_vocab()
    data = {"src": side(SRC, spm_dir), "trg": side(TGT, spm_dir), "dataset_type": "plain"}
    if mode == "train":
        data["train"] = str(corpus("train")[0].with_suffix(""))
        data["dev"] = small_dev()
    else:
        data["test"] = test_prefix(args.limit)
    total = args.warmup + args.steps if mode == "train" else 1
    return {
        "name": f"bench-{args.variant}", "joeynmt_version": "2.3.0", "model_dir": str(model_dir),
        "use_cuda": args.device == "cuda", "fp16": args.device == "cuda", "random_seed": 1,
        "data": data,
        "testing": {"n_best": 1, "beam_size": getattr(args, "beam", 1), "beam_alpha": 1.0,
                    "batch_size": args.batch_size, "batch_type": "sentence", "max_output_length": 50,
                    "eval_metrics": ["bleu"], "sacrebleu_cfg": {"tokenize": "13a"}},
        "training": {"optimizer": "adam", "learning_rate": 1e-3, "learning_rate_min": 0.0001,
                     "scheduling": "exponential", "decrease_factor": 1.0,  # constant lr (plateau breaks on torch 2.13)
                     "clip_grad_norm": 1.0, "batch_size": args.batch_size, "batch_type": "sentence",
                     "normalization": "tokens", "epochs": 100, "updates": total,
                     "logging_freq": args.log_every, "validation_freq": args.log_every * 100000,
                     "early_stopping_metric": "ppl", "shuffle": True, "overwrite": True, "num_workers": 0,
                     "keep_best_ckpts": 1, "print_valid_sents": []},
        "model": model_cfg(args.variant, args.dropout),
    }


def run(mode: str, cfg: dict, cfg_path: Path, threads: int, extra: list[str], log: Path) -> str:
    ensure_venv()
    cfg_path.write_text(json.dumps(cfg, indent=1))
    cmd = [str(VENV_PY), str(LAUNCHER), "--threads", str(threads), mode, str(cfg_path), *extra]
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    text = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"JoeyNMT {mode} failed (exit {proc.returncode}); log {log}:\n{text[-3000:]}")
    return text


def cmd_train(args) -> None:
    model_dir = WORK / f"joey-{args.variant}"
    cfg = config(args, model_dir, "train")
    log = WORK / f"joey-{args.variant}.train.out"
    WORK.mkdir(parents=True, exist_ok=True)
    text = run("train", cfg, WORK / f"joey-{args.variant}.train.json", args.threads, ["--skip-test"], log)
    rates = [(int(s), float(r)) for s, r in re.findall(r"Step:\s+(\d+),.*Tokens per Sec:\s+([\d.]+)", text)]
    timed = [r for s, r in rates if s > args.warmup]  # log lines whose interval lies after the warm-up
    if not timed:
        raise SystemExit(f"no 'Tokens per Sec' lines after step {args.warmup} in {log}")
    emit({"bench": "train_speed", "system": "joeynmt", "variant": args.variant, "attention":
          "luong" if args.variant == "matched" else "bahdanau+input-feeding",
          "encoder": "bi-LSTM 2x256" if args.variant == "matched" else "bi-LSTM 2x512", "batch_size": args.batch_size,
          "steps": args.steps, "warmup": args.warmup, "threads": args.threads, "device": args.device,
          "tokens_per_sec": round(statistics.mean(timed), 1), "tokens_per_sec_median": round(statistics.median(timed), 1),
          "log_lines": len(timed), "log": str(log)}, args.out)


def avg_pieces(lines: list[str]) -> float:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(ensure_vocab() / f"joey.{TGT}.model"))
    return sum(len(sp.encode(t)) for t in lines) / max(1, len(lines))


def cmd_decode(args) -> None:
    model_dir = WORK / f"joey-{args.variant}"
    if not (model_dir / "latest.ckpt").exists():
        raise SystemExit(f"no JoeyNMT checkpoint in {model_dir}: run `python bench/joeynmt_bench.py train` first")
    cfg = config(args, model_dir, "test")
    cfg["testing"]["load_model"] = str(model_dir / "latest.ckpt")
    if args.fixed_len:  # length-controlled: JoeyNMT forbids <eos> while step < min_output_length
        cfg["testing"].update(min_output_length=args.fixed_len, max_output_length=args.fixed_len)
    name = f"joey-{args.variant}.test.b{args.beam}.bs{args.batch_size}" + (f".len{args.fixed_len}" if args.fixed_len
                                                                           else "")
    out = WORK / f"{name}.hyp"
    text = run("test", cfg, WORK / f"{name}.json", args.threads, ["--output-path", str(out)], WORK / f"{name}.out")
    seconds = [float(x) for x in re.findall(r"Generation took ([\d.]+)\[sec\]", text)]
    hyps = read_lines(Path(f"{out}.test"))
    n = len(hyps)
    emit({"bench": "decode_speed", "system": "joeynmt", "variant": args.variant,
          "strategy": "beam" if args.beam > 1 else "greedy", "beam_size": args.beam, "batch_size": args.batch_size,
          "threads": args.threads, "sentences": n, "seconds": seconds[-1], "fixed_len": args.fixed_len,
          "sentences_per_sec": round(n / seconds[-1], 2), "avg_output_pieces": round(avg_pieces(hyps), 2),
          "output_pieces_per_sec": round((args.fixed_len or avg_pieces(hyps)) * n / seconds[-1], 1),
          "timing": "JoeyNMT's own 'Generation took' (batching + search; model load excluded)"}, args.out)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("mode", choices=["train", "decode"])
    p.add_argument("--variant", default="matched", choices=["matched", "default"])
    p.add_argument("--steps", type=int, default=300, help="train: timed updates")
    p.add_argument("--warmup", type=int, default=20, help="train: updates before the timed window")
    p.add_argument("--log-every", type=int, default=10, help="train: logging_freq (must divide --warmup)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--beam", type=int, default=5, help="decode: beam size (1 = greedy)")
    p.add_argument("--limit", type=int, default=0, help="decode: only the first N test sentences (0 = all 1000)")
    p.add_argument("--fixed-len", type=int, default=0, help="decode: every output exactly N pieces (0 = free)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: JoeyNMT's use_cuda + fp16 (needs a CUDA build of torch in .venv-joeynmt)")
    args = p.parse_args()
    if args.mode == "train" and (args.warmup % args.log_every or args.steps % args.log_every):
        raise SystemExit("--log-every must divide --warmup and --steps")
    (cmd_train if args.mode == "train" else cmd_decode)(args)


if __name__ == "__main__":
    main()
