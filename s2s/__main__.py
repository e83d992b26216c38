"""Command line: `python -m s2s prepare | train | translate | evaluate` (see README.md).

`train` also runs under torchrun (`torchrun --nproc_per_node N -m s2s train ...`): data-parallel over N processes."""
from __future__ import annotations

import argparse
import datetime
import functools
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import torch

from . import checkpoint
from . import shards
from .config import (MAX_BEAM, MAX_DECODE_LEN, MAX_EMB, MAX_HIDDEN, MAX_LAYERS, MAX_N_BEST, MAX_SEED, MAX_VOCAB,
                     ConfigError, DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig)
from .data import CorpusError, decode_lines, encode_pairs, read_pairs, read_text, split_pairs
from .evaluate import corpus_scores, scores_by_length
from .tokenizer import EOS, Vocab, normalize
from .train import Distributed, Event, NonFiniteLoss, Progress, Trainer, pick_device
from .packed import CPU_ONLY, PRECISIONS
from .translator import Translator

MAX_BATCH = 1024  # sentences per batch (train and translate)
MAX_DECODE_ROWS = 4096  # translate/evaluate: sentences x beam (or samples) decoded at once; bigger batches are cut
MAX_THREADS = 256
MAX_EPOCHS = 1_000_000
MAX_STEPS = 10**9
MIN_PAIRS = 2  # without --valid one pair is held out, so a corpus needs two
LANGUAGE_COVERAGE = 0.5  # --init-from: a corpus with fewer known pieces than this is another language pair


class UsageError(Exception):
    """Bad command-line usage: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}")


# ---------------------------------------------------------------- flag types: every value checked while parsing

def integer(low: int, high: int):
    """argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value
    return parse


def real(ok, rule: str):
    """argparse type: a finite number for which ok(value) holds; `rule` says which, e.g. 'in (0, 1]'."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"must be a finite number {rule}, got {text}")
        return value
    return parse


POSITIVE = real(lambda v: v > 0, "> 0")
NON_NEGATIVE = real(lambda v: v >= 0, ">= 0")
PROBABILITY = real(lambda v: 0 <= v <= 1, "in [0, 1]")
SEED = integer(0, MAX_SEED)


def _add_decode_flags(p: argparse.ArgumentParser) -> None:
    add = p.add_argument
    add("--model", required=True, help="checkpoint file")
    add("--strategy", default="greedy", choices=["greedy", "beam", "sample"])
    add("--beam-size", type=integer(1, MAX_BEAM), default=5, help=f"beam width K (1-{MAX_BEAM})")
    add("--n-best", type=integer(1, MAX_N_BEST), default=1,
        help=f"hypotheses per sentence: the best N of the beam (N <= K), or N samples (1-{MAX_N_BEST})")
    add("--length-penalty", type=real(lambda v: 0 <= v <= 10, "in [0, 10]"), default=1.0,
        help="GNMT length penalty alpha (0-10)")
    add("--temperature", type=real(lambda v: 0.01 <= v <= 100, "in [0.01, 100]"), default=1.0,
        help="sampling temperature (0.01-100)")
    add("--top-k", type=integer(0, MAX_VOCAB), default=0,
        help=f"sample among the k most likely (0 = all; 0-{MAX_VOCAB})")
    add("--top-p", type=real(lambda v: 0 < v <= 1, "in (0, 1]"), default=1.0, help="nucleus mass, in (0, 1]")
    add("--seed", type=SEED, default=None, help=f"sampling seed (0-{MAX_SEED})")
    add("--max-len", type=integer(1, MAX_DECODE_LEN), default=50,
        help=f"target pieces at most (1-{MAX_DECODE_LEN})")
    add("--batch-size", type=integer(1, MAX_BATCH), default=64,
        help=f"sentences decoded together (1-{MAX_BATCH}; cut so that sentences x beam or samples <= "
             f"{MAX_DECODE_ROWS})")
    add("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    add("--precision", default="fp32", choices=list(PRECISIONS),
        help="fp32: the checkpoint's weights; int8: every matrix product on int8 weights (CPU only; about 4 times "
             "faster for one sentence, BLEU the same, but the output differs from fp32's on some sentences: README); "
             "bf16: the encoder and the decoder's LSTM on bf16 weights, the output layer fp32 (CPU only; about 1.5 "
             "times faster for one sentence on a CPU with native bf16, fp32 on one without; README); "
             "fp16: the decoder's products on fp16 weights with fp32 arithmetic (CPU only, x86 with AVX2; it reads "
             "half the bytes per step: README); "
             "auto: bf16 where the CPU has native bf16, else fp16 where that is measured faster, else fp32 (never "
             "int8)")
    add("--min-p", type=real(lambda v: 0 <= v < 1, "in [0, 1)"), default=0.0,
        help="sampling: keep tokens with p >= min_p * p_max (0 = off)")
    add("--repetition-penalty", type=real(lambda v: 1 <= v <= 10, "in [1, 10]"), default=1.0,
        help="divide the logits of tokens already in the hypothesis by this (1 = off)")
    add("--no-repeat-ngram", type=integer(0, 10), default=0, help="never repeat an n-gram of this size (0 = off)")
    add("--beam-groups", type=integer(1, MAX_BEAM), default=1,
        help="diverse beam search: split the K beams into this many groups (must divide K)")
    add("--diversity-penalty", type=real(lambda v: 0 <= v <= 100, "in [0, 100]"), default=0.0,
        help="diverse beam search: subtracted from a token's log-probability per earlier group that chose it")


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    add = p.add_argument
    add("--train", help="TSV/CSV parallel file, or the source side with --train-tgt")
    add("--data", help="a folder made by `prepare` (instead of --train): read through memory maps, any size")
    add("--train-tgt")
    add("--valid", help="validation pairs (default: a seeded 5%% split of --train)")
    add("--valid-tgt")
    add("--out", required=True, help="checkpoint to write (best by validation loss); <out>.last is resumable; "
                                     "missing folders are created")
    # model and vocabulary flags default to None so that --init-from / --resume can tell which were given
    add("--vocab-size", type=integer(8, MAX_VOCAB), help=f"pieces per side, a soft limit on tiny corpora "
                                                         f"(8-{MAX_VOCAB}; default 8000)")
    add("--tgt-vocab-size", type=integer(8, MAX_VOCAB), help="target side size (default: --vocab-size)")
    add("--joint-vocab", action="store_true", default=None, help="one vocabulary for both languages")
    add("--tie-embeddings", action="store_true", default=None, help="share target embeddings and output layer")
    add("--src-normalize", choices=["none", "zh-hans"], help="default none")
    add("--tgt-normalize", choices=["none", "zh-hans"], help="default none")
    add("--attention", choices=["none", "luong", "bahdanau"], help="default none")
    add("--layers", type=integer(1, MAX_LAYERS), help=f"LSTM layers (1-{MAX_LAYERS}; default 2)")
    add("--hidden", type=integer(1, MAX_HIDDEN), help=f"LSTM size (1-{MAX_HIDDEN}; default 512)")
    add("--emb", type=integer(1, MAX_EMB), help=f"embedding size (1-{MAX_EMB}; default 256)")
    add("--dropout", type=real(lambda v: 0 <= v < 1, "in [0, 1)"), help="in [0, 1); default 0.2")
    add("--epochs", type=integer(1, MAX_EPOCHS), default=10, help=f"1-{MAX_EPOCHS}")
    add("--max-steps", type=integer(0, MAX_STEPS), default=0, help="stop after this many updates; 0 = no limit")
    add("--batch-size", type=integer(1, MAX_BATCH), default=64, help=f"1-{MAX_BATCH}")
    add("--lr", type=POSITIVE, default=1e-3, help="Adam learning rate (> 0)")
    add("--clip", type=POSITIVE, default=1.0, help="gradient norm clipping (> 0)")
    add("--label-smoothing", type=real(lambda v: 0 <= v < 1, "in [0, 1)"), default=0.0)
    add("--teacher-forcing", type=PROBABILITY, default=1.0,
        help="teacher-forcing ratio (floor of a decaying schedule), in [0, 1]")
    add("--schedule", default="constant", choices=["constant", "linear", "exponential", "inverse-sigmoid"])
    add("--schedule-k", type=NON_NEGATIVE, default=0.0)
    add("--patience", type=integer(0, MAX_STEPS), default=3,
        help="stop after this many validations in a row without improvement (one per epoch, plus one every "
             "--eval-every updates); 0 = never")
    add("--eval-every", type=integer(0, MAX_STEPS), default=0, help="also validate every N updates; 0 = per epoch")
    add("--time-limit", type=NON_NEGATIVE, default=0.0, help="seconds; 0 = no limit")
    add("--init-from", help="fine-tune this checkpoint (keeps its vocabulary and model shape: model and vocabulary "
                            "flags that disagree with it are refused)")
    add("--resume", action="store_true",
        help="continue from <out>.last; when there is none, say so and start a new run")
    add("--keep", default="best", choices=["best", "last"],
        help="what --out holds: the best model by (teacher-forced) validation loss, or the latest one "
             "(scheduled sampling trades teacher-forced loss for free-running quality)")
    add("--half", action="store_true", help="store the best checkpoint's weights in float16")
    add("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add("--threads", type=integer(0, MAX_THREADS), default=0, help=f"CPU threads; 0 = torch default (0-{MAX_THREADS})")
    add("--precision", default="auto", choices=["auto", "bf16", "fp32"],
        help="auto: bf16 autocast on CUDA, fp32 on CPU; bf16: also on CPUs with native bf16 (AMX, AVX512-BF16), "
             "fp32 on the others (said at start)")
    add("--seed", type=SEED, default=1, help=f"weights, data order, dropout (0-{MAX_SEED})")
    add("--note", default="", help="free text stored in the checkpoint (data, licence)")


def _add_prepare_flags(p: argparse.ArgumentParser) -> None:
    add = p.add_argument
    add("--train", help="TSV/CSV parallel file, or the source side with --train-tgt")
    add("--train-tgt")
    add("--valid", help="validation pairs (default: every n-th training pair, 5%%, at most 2,000)")
    add("--valid-tgt")
    add("--hf-dataset", help="a Hugging Face dataset name or local folder, read streaming (needs `datasets`)")
    add("--hf-config", default="")
    add("--hf-split", default="train")
    add("--hf-src", help="field of the source text, dotted when nested (translation.de)")
    add("--hf-tgt", help="field of the target text (translation.en)")
    add("--out", required=True, help="folder to write (empty, or an interrupted preparation of the same data)")
    add("--vocab-size", type=integer(8, MAX_VOCAB), default=8000, help=f"pieces per side (8-{MAX_VOCAB})")
    add("--tgt-vocab-size", type=integer(8, MAX_VOCAB), help="target side size (default: --vocab-size)")
    add("--joint-vocab", action="store_true", help="one vocabulary for both languages")
    add("--src-normalize", default="none", choices=["none", "zh-hans"])
    add("--tgt-normalize", default="none", choices=["none", "zh-hans"])
    add("--vocab-from", help="reuse the vocabularies of a checkpoint or of another prepared folder")
    add("--workers", type=integer(1, 256), default=os.cpu_count() or 1, help="encoding processes")
    add("--seed", type=SEED, default=1, help="the vocabulary's training sample")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m s2s", description="Seq2Seq Playground: LSTM encoder-decoder")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_prepare_flags(sub.add_parser("prepare", help="encode a large corpus into token shards for train --data"))
    _add_train_flags(sub.add_parser("train", help="train or fine-tune a model"))
    tr = sub.add_parser("translate", help="translate stdin to stdout, one sentence per line")
    _add_decode_flags(tr)
    tr.add_argument("--progress", action="store_true", help="a progress bar on stderr (when it is a terminal)")
    ev = sub.add_parser("evaluate", help="BLEU and chrF on a test set")
    _add_decode_flags(ev)
    ev.add_argument("--src", required=True)
    ev.add_argument("--ref", required=True)
    ev.add_argument("--hyp-out", help="also write the translations here")
    return parser


def decode_config(args) -> DecodeConfig:
    return DecodeConfig(strategy=args.strategy, beam_size=args.beam_size, n_best=args.n_best,
                        length_penalty=args.length_penalty, temperature=args.temperature, top_k=args.top_k,
                        top_p=args.top_p, seed=args.seed, max_len=args.max_len, min_p=args.min_p,
                        repetition_penalty=args.repetition_penalty, no_repeat_ngram=args.no_repeat_ngram,
                        beam_groups=args.beam_groups, diversity_penalty=args.diversity_penalty,
                        record_top=0)  # text only: no visualization data


def decode_batch_size(args) -> int:
    """--batch-size, cut so that sentences x (beam or samples) stays within MAX_DECODE_ROWS."""
    width = args.beam_size if args.strategy == "beam" else args.n_best if args.strategy == "sample" else 1
    return max(1, min(args.batch_size, MAX_DECODE_ROWS // width))


# ---------------------------------------------------------------- train: checks before anything is written

def train_config(args) -> TrainConfig:
    return TrainConfig(epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr,
                       clip=args.clip, label_smoothing=args.label_smoothing, teacher_forcing=args.teacher_forcing,
                       schedule=args.schedule, schedule_k=args.schedule_k, patience=args.patience,
                       eval_every=args.eval_every, time_limit=args.time_limit, device=args.device,
                       seed=args.seed, threads=args.threads, precision=args.precision)


def last_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".last" + out.suffix)


def metrics_path(out: str | Path) -> Path:
    return Path(out).with_suffix(".metrics.jsonl")


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_writable(path: Path, flag: str, also: tuple[Path, ...] = ()) -> None:
    """Refuse an output file (and its companions `also`) that cannot be written, before anything is read or
    written; folders that do not exist yet are fine (they are created)."""
    for p in (path, *also):
        if p.is_dir():
            raise UsageError(f"{flag} {path}: {p} is a folder; name a file in it, e.g. {p / 'name'}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # the folders to create
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: {folder} is a file, not a folder")
    if not _writable(folder):
        raise UsageError(f"{flag} {path}: cannot write in the folder {folder} (read-only or no permission)")


def check_out(out: Path) -> None:
    check_writable(out, "--out", (last_path(out), metrics_path(out)))


def resumable(out: Path) -> bool:
    """--resume: whether <out>.last exists; when it does not, say so and start a new run (scripts pass --resume
    on every start so that a rerun continues where the last one stopped)."""
    if last_path(out).exists():
        return True
    print(f"--resume: {last_path(out)} does not exist, nothing to resume: starting a new run", file=sys.stderr,
          flush=True)
    return False


def _data(args) -> tuple[list, list]:
    train = read_pairs(args.train, args.train_tgt)
    if args.valid:
        return train, read_pairs(args.valid, args.valid_tgt)
    if len(train) < MIN_PAIRS:
        raise CorpusError(args.train, f"only {len(train)} sentence pair: need at least {MIN_PAIRS} (one is held out "
                                      f"to validate), or give a separate --valid file")
    return split_pairs(train, 0.05, args.seed, minimum=1)


def _tokenizer_config(args) -> TokenizerConfig:
    size = args.vocab_size or 8000
    return TokenizerConfig(src_vocab_size=size, tgt_vocab_size=args.tgt_vocab_size or size,
                           joint=bool(args.joint_vocab), src_normalize=args.src_normalize or "none",
                           tgt_normalize=args.tgt_normalize or "none")


def _model_config(args) -> ModelConfig:
    pick = lambda value, default: default if value is None else value  # noqa: E731
    return ModelConfig(emb=pick(args.emb, 256), hidden=pick(args.hidden, 512), layers=pick(args.layers, 2),
                       dropout=pick(args.dropout, 0.2), attention=args.attention or "none",
                       tie_embeddings=bool(args.tie_embeddings))


def _fresh(args, train_pairs) -> checkpoint.Checkpoint:
    return checkpoint.fresh(train_pairs, _tokenizer_config(args), _model_config(args), seed=args.seed)


# flag -> (config the checkpoint keeps it in, field)
_KEPT_FLAGS = {"vocab_size": ("tokenizer", "src_vocab_size"), "tgt_vocab_size": ("tokenizer", "tgt_vocab_size"),
               "joint_vocab": ("tokenizer", "joint"), "src_normalize": ("tokenizer", "src_normalize"),
               "tgt_normalize": ("tokenizer", "tgt_normalize"), "attention": ("model", "attention"),
               "layers": ("model", "layers"), "hidden": ("model", "hidden"), "emb": ("model", "emb"),
               "dropout": ("model", "dropout"), "tie_embeddings": ("model", "tie_embeddings")}


def check_kept_flags(args, base: checkpoint.Checkpoint, name: str) -> None:
    """Refuse model/vocabulary flags, given explicitly, that disagree with the checkpoint a run continues."""
    configs = {"tokenizer": base.tokenizer, "model": base.model.cfg}
    conflicts = []
    for flag, (where, field) in _KEPT_FLAGS.items():
        given, kept = getattr(args, flag), getattr(configs[where], field)
        if given is not None and given != kept:
            option = "--" + flag.replace("_", "-")
            conflicts.append(f"{option}{'' if given is True else f' {given}'} (it has {kept})")
    if conflicts:
        raise UsageError(f"{name} keeps its model shape and vocabulary; these flags disagree with it: "
                         f"{', '.join(conflicts)}. Drop them, or train from scratch")


def char_coverage(vocab: Vocab, texts: list[str]) -> float:
    """Share of the (non-space) characters of `texts` that the vocabulary's pieces can spell."""
    known = {c for i in range(EOS + 1, len(vocab)) for c in vocab.id_to_piece(i)}
    chars = [c for t in texts for c in normalize(t, vocab.norm) if not c.isspace()]
    return sum(c in known for c in chars) / len(chars) if chars else 1.0


def check_language_pair(base: checkpoint.Checkpoint, pairs: list, name: str, corpus: str) -> None:
    """Refuse to fine-tune on a corpus that the checkpoint's vocabularies mostly cannot spell."""
    sample = pairs[:2000]
    for side, vocab, texts in (("source", base.src_vocab, [s for s, _ in sample]),
                               ("target", base.tgt_vocab, [t for _, t in sample])):
        known = char_coverage(vocab, texts)
        if known < LANGUAGE_COVERAGE:
            raise UsageError(f"--init-from {name}: its vocabulary knows only {known:.0%} of the {side} characters of "
                             f"{corpus}; it looks like a model of another language pair. Train from scratch "
                             f"(drop --init-from)")


def _starting_point(args, train_pairs) -> tuple[checkpoint.Checkpoint, bool]:
    """(the checkpoint to train, whether it resumes a run)."""
    if args.resume:
        last = last_path(args.out)
        ckpt = checkpoint.load(last)
        check_kept_flags(args, ckpt, str(last))
        return ckpt, True
    if args.init_from:
        base = checkpoint.load(args.init_from)
        check_kept_flags(args, base, f"--init-from {args.init_from}")
        if train_pairs is not None:  # (a prepared folder is checked by its vocabularies instead)
            check_language_pair(base, train_pairs, args.init_from, args.train)
        base.info = {**base.info, "fine_tuned_from": Path(args.init_from).name}
        base.progress, base.optimizer = None, None
        return base, False
    return _fresh(args, train_pairs), False


def trim_metrics(path: Path, step: int) -> None:
    """Keep only the rows of `path` up to `step` (a resume redoes the steps after it); unreadable rows go too."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            if json.loads(line)["step"] <= step:
                kept.append(line + "\n")
        except (ValueError, KeyError, TypeError):
            continue
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(kept), encoding="utf-8")
    tmp.replace(path)


class _Logger:
    """Prints progress to stderr, appends JSON lines to <out>.metrics.jsonl, saves checkpoints."""

    def __init__(self, args, ckpt: checkpoint.Checkpoint, trainer: Trainer):
        self.args, self.ckpt, self.trainer = args, ckpt, trainer
        self.metrics = metrics_path(args.out)
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


class TrainingInterrupted(Exception):
    """A data-parallel run lost a process (or was told to stop): one line, exit 1; `.last` resumes it."""


def init_distributed(args) -> Distributed | None:
    """Under torchrun (WORLD_SIZE > 1): join the process group (gloo on CPU, NCCL on GPU); None otherwise."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    device = pick_device(args.device)
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                         timeout=datetime.timedelta(minutes=10))
    signal.signal(signal.SIGTERM, functools.partial(_terminated, Path(args.out)))  # torchrun stops the others
    # when one process dies
    return Distributed.current()


def _terminated(out: Path, signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one interruption is enough: later SIGTERMs must not cut the report
    raise _interrupted(out, TrainingInterrupted("stopped by torchrun: another process failed or the job was cancelled"))


def _interrupted(out: Path, err: BaseException) -> TrainingInterrupted:
    last = last_path(out)
    where = f"{last} holds update {checkpoint.load(last).progress.step}" if last.exists() else "no .last was saved yet"
    first = re.sub(r"^\[[^\]]*\]\s*", "", str(err).splitlines()[0])[:120] if str(err) else type(err).__name__
    return TrainingInterrupted(f"training stopped, a training process was lost ({first}); {where}: rerun with "
                               f"--resume (with any number of processes)")


def _text_corpus(args) -> tuple:
    """--train: (train Examples, valid Examples, checkpoint, resumed, pair counts)."""
    train_pairs, valid_pairs = _data(args)
    ckpt, resumed = _starting_point(args, train_pairs)
    train = encode_pairs(train_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    valid = encode_pairs(valid_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    return train, valid, ckpt, resumed


def _same_vocabs(ckpt: checkpoint.Checkpoint, src: Vocab, tgt: Vocab) -> bool:
    return ckpt.src_vocab.to_bytes() == src.to_bytes() and ckpt.tgt_vocab.to_bytes() == tgt.to_bytes()


def _sharded_corpus(args) -> tuple:
    """--data DIR: the same, read from a prepared folder (the checkpoint's vocabularies must be the folder's)."""
    src, tgt, tok = shards.read_vocabs(args.data)
    train, valid = shards.ShardedCorpus(args.data, "train"), shards.ShardedCorpus(args.data, "valid")
    if args.resume or args.init_from:
        ckpt, resumed = _starting_point(args, None)
        if not _same_vocabs(ckpt, src, tgt):
            name = last_path(args.out) if resumed else args.init_from
            raise UsageError(f"{name} has other vocabularies than {args.data}: prepare the corpus with "
                             f"--vocab-from {name}")
        return train, valid.examples(), ckpt, resumed
    cfg = _model_config(args)
    cfg = ModelConfig(**{**cfg.to_dict(), "src_vocab": len(src), "tgt_vocab": len(tgt), "joint_vocab": tok.joint})
    from .model import Seq2Seq
    return train, valid.examples(), checkpoint.Checkpoint(Seq2Seq(cfg, seed=args.seed), src, tgt, tok), False


def cmd_train(args) -> None:
    cfg = train_config(args)
    out = Path(args.out)
    if bool(args.train) == bool(args.data):
        raise UsageError("train: give either --train (a corpus file) or --data (a folder made by prepare)")
    check_out(out)
    dist = init_distributed(args)
    first = dist is None or dist.rank == 0  # only the first process validates, logs and writes
    args.resume = args.resume and resumable(out)
    if args.threads:
        torch.set_num_threads(args.threads)
    train, valid, ckpt, resumed = _sharded_corpus(args) if args.data else _text_corpus(args)
    ckpt.train = cfg
    ckpt.info.update({"note": args.note} if args.note else {})
    ckpt.info.update({"train_pairs": len(train), "valid_pairs": len(valid)})
    trainer = Trainer(ckpt.model, cfg, ckpt.progress or Progress(), distributed=dist)
    if ckpt.optimizer:
        checkpoint.restore_optimizer(trainer.optimizer, ckpt.optimizer, trainer.device)
    if first:
        print(f"train {len(train)} pairs, valid {len(valid)}; vocab {len(ckpt.src_vocab)}/{len(ckpt.tgt_vocab)}; "
              f"{sum(p.numel() for p in ckpt.model.parameters()) / 1e6:.1f}M parameters on {trainer.device}"
              f" ({'bf16 autocast' if trainer.amp else 'fp32'}"
              + (", this CPU has no native bf16" if args.precision == "bf16" and not trainer.amp else "") + ")"
              + (f", {dist.world} processes" if dist else ""), file=sys.stderr, flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        if resumed:
            trim_metrics(metrics_path(out), trainer.progress.step)
        else:
            metrics_path(out).unlink(missing_ok=True)  # a new run: a new metrics file
    try:
        trainer.fit(train, valid, _Logger(args, ckpt, trainer) if first else lambda e: None)
        if dist is not None:  # tear down together: a process that leaves while rank 0 still writes its
            # checkpoint can abort at exit in gloo ("terminate called without an active exception")
            torch.distributed.barrier()
    except RuntimeError as err:  # a peer process died: gloo/NCCL raise RuntimeError subclasses
        if dist is None or isinstance(err, NonFiniteLoss):
            raise
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # torchrun's SIGTERM may follow: finish this report first
        raise _interrupted(out, err) from None
    finally:
        if dist is not None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a late SIGTERM from torchrun just ends the process
            if torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()


# ---------------------------------------------------------------- prepare

def _prepare_sources(args) -> dict:
    if bool(args.train) == bool(args.hf_dataset):
        raise UsageError("prepare: give either --train (files) or --hf-dataset (a Hugging Face dataset)")
    if args.hf_dataset and not (args.hf_src and args.hf_tgt):
        raise UsageError("prepare: --hf-dataset needs --hf-src and --hf-tgt (the fields of the two languages)")
    if args.valid_tgt and not args.valid:
        raise UsageError("prepare: --valid-tgt needs --valid")
    source = shards.Source(args.train or "", args.train_tgt or "", args.hf_dataset or "", args.hf_config,
                           args.hf_split, args.hf_src or "", args.hf_tgt or "")
    if args.valid:
        return {"train": source, "valid": shards.Source(args.valid, args.valid_tgt or "")}
    train, valid = shards.hold_out(source)
    return {"train": train, "valid": valid}


def _vocab_from(path: str) -> tuple[Vocab, Vocab, TokenizerConfig]:
    if Path(path).is_dir():
        return shards.read_vocabs(path)
    ckpt = checkpoint.load(path)
    return ckpt.src_vocab, ckpt.tgt_vocab, ckpt.tokenizer


def cmd_prepare(args) -> None:
    sources = _prepare_sources(args)
    if args.vocab_from:
        src, tgt, tok = _vocab_from(args.vocab_from)
        vocabs = (src, tgt)
    else:
        size = args.vocab_size
        tok = TokenizerConfig(src_vocab_size=size, tgt_vocab_size=args.tgt_vocab_size or size, joint=args.joint_vocab,
                              src_normalize=args.src_normalize, tgt_normalize=args.tgt_normalize)
        vocabs = None
    began = time.time()
    report = shards.prepare(args.out, sources, tok, args.workers, vocabs, args.seed,
                            log=lambda msg: print(msg, file=sys.stderr, flush=True))
    seconds = time.time() - began
    total = sum(report.pairs.values())
    print(json.dumps({"out": args.out, "pairs": report.pairs, "shards": report.shards, "skipped_shards": report.skipped,
                      "vocab": report.vocab, "seconds": round(seconds, 1),
                      "pairs_per_sec": round(total / max(seconds, 1e-9))}))


# ---------------------------------------------------------------- translate / evaluate

def _translator(args) -> Translator:
    device = str(pick_device(args.device))
    if args.precision in CPU_ONLY and torch.device(device).type != "cpu":
        raise UsageError(f"--precision {args.precision} runs on the CPU only, not on {device}")
    translator = Translator.load(args.model, device=device, precision=args.precision)
    if args.precision in FALLBACK_NOTES and translator.precision != args.precision:
        print(f"note: {FALLBACK_NOTES[args.precision]}; decoding in fp32", file=sys.stderr)
    return translator


FALLBACK_NOTES = {"bf16": "this CPU has no native bf16 (AVX-512-BF16 or AMX)",
                  "fp16": "this CPU or torch build has no fp16-weight product (fbgemm, x86 with AVX2)"}


class _Bar:
    """A progress bar redrawn in place on stderr; draws nothing when stderr is not a terminal."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.began = total, 0, time.time()
        self.enabled = enabled and sys.stderr.isatty()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            filled = 30 * self.done // max(1, self.total)
            rate = self.done / max(time.time() - self.began, 1e-9)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} lines "
                             f"{rate:.1f}/s")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def cmd_translate(args) -> None:
    cfg = decode_config(args)
    translator = _translator(args)
    lines = decode_lines(sys.stdin.buffer.read(), "<stdin>", allow_empty=True)
    bar, out = _Bar(len(lines), args.progress), sys.stdout
    for i, t in enumerate(translator.translate_iter(lines, cfg, batch_size=decode_batch_size(args))):
        if args.n_best > 1:
            out.write("".join(f"{i}\t{hyp.score:.4f}\t{text}\n" for hyp, text in zip(t.result.hypotheses, t.texts)))
        else:
            out.write(t.text + "\n")
        out.flush()  # a killed job keeps every line it finished
        bar.advance()


def cmd_evaluate(args) -> None:
    cfg = decode_config(args)
    if args.hyp_out:
        check_writable(Path(args.hyp_out), "--hyp-out")
    translator = _translator(args)
    src, ref = read_text(args.src), read_text(args.ref)
    if len(src) != len(ref):
        raise CorpusError(args.ref, f"has {len(ref)} lines but {args.src} has {len(src)}")
    began = time.time()
    hyps = [t.text for t in translator.translate(src, cfg, batch_size=decode_batch_size(args))]
    scores = {**corpus_scores(hyps, ref), "by_length": scores_by_length(src, hyps, ref)}
    if args.hyp_out:
        Path(args.hyp_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.hyp_out).write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
    print(json.dumps({"bleu": scores["bleu"], "chrf": scores["chrf"], "sentences": len(src),
                      "seconds": round(time.time() - began, 2), "by_length": scores["by_length"]}))


def check_flags(args) -> None:
    """Checks that need no file: the decoding flags together, and the device."""
    if args.command in ("translate", "evaluate"):
        decode_config(args)
    if args.command != "prepare":
        pick_device(args.device)  # cuda without CUDA: ConfigError


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        check_flags(args)  # before loading or allocating anything
        commands = {"prepare": cmd_prepare, "train": cmd_train, "translate": cmd_translate, "evaluate": cmd_evaluate}
        commands[args.command](args)
    except (UsageError, CorpusError, checkpoint.CheckpointError, ConfigError, NonFiniteLoss) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingInterrupted as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as err:  # the disk, not the input: still one line (e.g. disk full, a file removed meanwhile)
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
