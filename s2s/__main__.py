"""Command line: `python -m s2s train | translate | evaluate` (see README.md)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import checkpoint
from .config import ConfigError, DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig
from .data import CorpusError, decode_lines, encode_pairs, read_pairs, read_text, split_pairs
from .evaluate import evaluate
from .train import Event, Progress, Trainer, pick_device
from .translator import Translator


class UsageError(Exception):
    """Bad command-line usage: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}")


def _add_decode_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="checkpoint file")
    p.add_argument("--strategy", default="greedy", choices=["greedy", "beam", "sample"])
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--n-best", type=int, default=1)
    p.add_argument("--length-penalty", type=float, default=1.0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=64, help="sentences decoded together")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    add = p.add_argument
    add("--train", required=True, help="TSV/CSV parallel file, or the source side with --train-tgt")
    add("--train-tgt")
    add("--valid", help="validation pairs (default: a seeded 5%% split of --train)")
    add("--valid-tgt")
    add("--out", required=True, help="checkpoint to write (best by validation loss); <out>.last is resumable")
    add("--vocab-size", type=int, default=8000, help="pieces per side (a soft limit on tiny corpora)")
    add("--tgt-vocab-size", type=int, default=None, help="target side size (default: --vocab-size)")
    add("--joint-vocab", action="store_true", help="one vocabulary for both languages")
    add("--tie-embeddings", action="store_true", help="share target embeddings and output layer")
    add("--src-normalize", default="none", choices=["none", "zh-hans"])
    add("--tgt-normalize", default="none", choices=["none", "zh-hans"])
    add("--attention", default="none", choices=["none", "luong", "bahdanau"])
    add("--layers", type=int, default=2)
    add("--hidden", type=int, default=512)
    add("--emb", type=int, default=256)
    add("--dropout", type=float, default=0.2)
    add("--epochs", type=int, default=10)
    add("--max-steps", type=int, default=0)
    add("--batch-size", type=int, default=64)
    add("--lr", type=float, default=1e-3)
    add("--clip", type=float, default=1.0)
    add("--label-smoothing", type=float, default=0.0)
    add("--teacher-forcing", type=float, default=1.0, help="teacher-forcing ratio (floor of a decaying schedule)")
    add("--schedule", default="constant", choices=["constant", "linear", "exponential", "inverse-sigmoid"])
    add("--schedule-k", type=float, default=0.0)
    add("--patience", type=int, default=3)
    add("--eval-every", type=int, default=0)
    add("--time-limit", type=float, default=0.0, help="seconds")
    add("--init-from", help="fine-tune this checkpoint (keeps its vocabulary and model shape)")
    add("--resume", action="store_true", help="continue from <out>.last if it exists")
    add("--keep", default="best", choices=["best", "last"],
        help="what --out holds: the best model by (teacher-forced) validation loss, or the latest one "
             "(scheduled sampling trades teacher-forced loss for free-running quality)")
    add("--half", action="store_true", help="store the best checkpoint's weights in float16")
    add("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add("--threads", type=int, default=0)
    add("--seed", type=int, default=1)
    add("--note", default="", help="free text stored in the checkpoint (data, licence)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m s2s", description="Seq2Seq Playground: LSTM encoder-decoder")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train_flags(sub.add_parser("train", help="train or fine-tune a model"))
    _add_decode_flags(sub.add_parser("translate", help="translate stdin to stdout, one sentence per line"))
    ev = sub.add_parser("evaluate", help="BLEU and chrF on a test set")
    _add_decode_flags(ev)
    ev.add_argument("--src", required=True)
    ev.add_argument("--ref", required=True)
    ev.add_argument("--hyp-out", help="also write the translations here")
    return parser


def decode_config(args) -> DecodeConfig:
    return DecodeConfig(strategy=args.strategy, beam_size=args.beam_size, n_best=args.n_best,
                        length_penalty=args.length_penalty, temperature=args.temperature, top_k=args.top_k,
                        top_p=args.top_p, seed=args.seed, max_len=args.max_len,
                        record_top=0)  # text only: no visualization data


# ---------------------------------------------------------------- train

def train_config(args) -> TrainConfig:
    return TrainConfig(epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr,
                       clip=args.clip, label_smoothing=args.label_smoothing, teacher_forcing=args.teacher_forcing,
                       schedule=args.schedule, schedule_k=args.schedule_k, patience=args.patience,
                       eval_every=args.eval_every, time_limit=args.time_limit, device=args.device,
                       seed=args.seed, threads=args.threads)


def last_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".last" + out.suffix)


def _data(args) -> tuple[list, list]:
    train = read_pairs(args.train, args.train_tgt)
    if args.valid:
        return train, read_pairs(args.valid, args.valid_tgt)
    return split_pairs(train, 0.05, args.seed, minimum=1)


def _fresh(args, train_pairs) -> checkpoint.Checkpoint:
    tok = TokenizerConfig(src_vocab_size=args.vocab_size, tgt_vocab_size=args.tgt_vocab_size or args.vocab_size,
                          joint=args.joint_vocab, src_normalize=args.src_normalize, tgt_normalize=args.tgt_normalize)
    cfg = ModelConfig(emb=args.emb, hidden=args.hidden, layers=args.layers, dropout=args.dropout,
                      attention=args.attention, tie_embeddings=args.tie_embeddings)
    return checkpoint.fresh(train_pairs, tok, cfg)


def _starting_point(args, train_pairs) -> checkpoint.Checkpoint:
    if args.resume and last_path(args.out).exists():
        return checkpoint.load(last_path(args.out))
    if args.init_from:
        base = checkpoint.load(args.init_from)
        base.info = {**base.info, "fine_tuned_from": Path(args.init_from).name}
        base.progress, base.optimizer = None, None
        return base
    return _fresh(args, train_pairs)


class _Logger:
    """Prints progress to stderr, appends JSON lines to <out>.metrics.jsonl, saves checkpoints."""

    def __init__(self, args, ckpt: checkpoint.Checkpoint, trainer: Trainer):
        self.args, self.ckpt, self.trainer = args, ckpt, trainer
        self.metrics = Path(args.out).with_suffix(".metrics.jsonl")
        self.saved_best = Path(args.out).exists() and args.resume
        self.seconds_before, self.began = ckpt.info.get("train_seconds", 0.0), time.time()  # across resumes

    def save(self, best: bool) -> None:
        self.ckpt.progress = self.trainer.progress
        if best:
            checkpoint.save(self.args.out, self.ckpt, half=self.args.half)
            self.saved_best = True
        else:
            checkpoint.save(last_path(self.args.out), self.ckpt, optimizer=self.trainer.optimizer)

    def __call__(self, e: Event) -> None:
        self.ckpt.info["train_seconds"] = round(self.seconds_before + time.time() - self.began, 1)
        self.ckpt.info["device"] = str(self.trainer.device)
        row = {k: v for k, v in e.__dict__.items() if v is not None}
        with self.metrics.open("a") as f:
            f.write(json.dumps(row) + "\n")
        valid = f" valid {e.valid_loss:.4f}" if e.valid_loss is not None else ""
        print(f"[{e.kind}] epoch {e.epoch} step {e.step} loss {e.loss:.4f}{valid} "
              f"{e.tokens_per_sec:.0f} tok/s tf {e.teacher_forcing:.2f} {e.elapsed:.0f}s {e.reason}",
              file=sys.stderr, flush=True)
        if e.kind == "valid" and e.improved and self.args.keep == "best":
            self.save(best=True)
        if e.kind in ("epoch", "done"):
            self.save(best=False)
            if self.args.keep == "last":
                self.save(best=True)
        if e.kind == "done" and not self.saved_best:
            self.save(best=True)


def cmd_train(args) -> None:
    cfg = train_config(args)
    train_pairs, valid_pairs = _data(args)
    ckpt = _starting_point(args, train_pairs)
    ckpt.train = cfg
    ckpt.info.update({"note": args.note} if args.note else {})
    ckpt.info.update({"train_pairs": len(train_pairs), "valid_pairs": len(valid_pairs)})
    trainer = Trainer(ckpt.model, cfg, ckpt.progress or Progress())
    if ckpt.optimizer:
        checkpoint.restore_optimizer(trainer.optimizer, ckpt.optimizer, trainer.device)
    print(f"train {len(train_pairs)} pairs, valid {len(valid_pairs)}; vocab {len(ckpt.src_vocab)}/{len(ckpt.tgt_vocab)}; "
          f"{sum(p.numel() for p in ckpt.model.parameters()) / 1e6:.1f}M parameters on {trainer.device}",
          file=sys.stderr, flush=True)
    train = encode_pairs(train_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    valid = encode_pairs(valid_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    trainer.fit(train, valid, _Logger(args, ckpt, trainer))


# ---------------------------------------------------------------- translate / evaluate

def _translator(args) -> Translator:
    return Translator.load(args.model, device=str(pick_device(args.device)))


def cmd_translate(args) -> None:
    cfg = decode_config(args)
    translator = _translator(args)
    data = sys.stdin.buffer.read()
    lines = decode_lines(data, "<stdin>") if data.strip() else [""] * data.count(b"\n")
    results = translator.translate(lines, cfg, batch_size=args.batch_size)
    out = sys.stdout
    for i, t in enumerate(results):
        if args.n_best > 1:
            for hyp, text in zip(t.result.hypotheses, t.texts):
                out.write(f"{i}\t{hyp.score:.4f}\t{text}\n")
        else:
            out.write(t.text + "\n")
    out.flush()


def cmd_evaluate(args) -> None:
    cfg = decode_config(args)
    translator = _translator(args)
    src, ref = read_text(args.src), read_text(args.ref)
    if len(src) != len(ref):
        raise CorpusError(args.ref, f"has {len(ref)} lines but {args.src} has {len(src)}")
    began = time.time()
    scores, hyps = evaluate(translator, src, ref, cfg)
    if args.hyp_out:
        Path(args.hyp_out).write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
    print(json.dumps({"bleu": scores["bleu"], "chrf": scores["chrf"], "sentences": len(src),
                      "seconds": round(time.time() - began, 2), "by_length": scores["by_length"]}))


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command != "train":
            decode_config(args)  # reject nonsense flag values before loading anything
        {"train": cmd_train, "translate": cmd_translate, "evaluate": cmd_evaluate}[args.command](args)
    except (UsageError, CorpusError, checkpoint.CheckpointError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
