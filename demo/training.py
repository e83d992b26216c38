"""The Train tab's plain functions: read an uploaded corpus, preview it, train in a background thread.

One job per browser session (keyed by the session id the tab passes in). The job's `threading.Event` is what
the Stop button sets; the core trainer checks it before every update, so Stop really stops, and the weights
reached so far are saved as a usable checkpoint. Training uses one CPU thread so translation stays responsive."""
from __future__ import annotations

import html
import math
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import pandas as pd

from s2s import checkpoint
from s2s.config import ConfigError, DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import CorpusError, encode_pairs, parse_pairs, split_pairs
from s2s.evaluate import corpus_scores
from s2s.train import Event, Trainer
from s2s.translator import Translator

from . import models, plots, session_files
from .errors import explain
from .handlers import get_model

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # per uploaded file
MAX_PAIRS = 20_000  # pairs used from one corpus
MAX_SECONDS = 300  # training time cap per job
MAX_VALID = 100  # held-out pairs for validation loss and BLEU
N_SAMPLES = 4  # held-out sentences translated after every epoch
TRAIN_THREADS = 1  # CPU threads for training: the other core keeps serving translations
EXAMPLE_CORPUS = models.EXAMPLES / "kitchen_zh_en.tsv"
FINE_TUNE, SCRATCH = "fine-tune", "scratch"

try:  # on a ZeroGPU Space the GPU is attached only inside functions wrapped by spaces.GPU
    import spaces  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - the usual case off Spaces
    spaces = None


# ---------------------------------------------------------------- reading a corpus


@dataclass
class Corpus:
    name: str
    pairs: list[tuple[str, str]]
    notice: str = ""


def _paths(files) -> list[Path]:
    """gr.File gives paths (or objects with .name, in older versions); None or [] when nothing was uploaded."""
    if not files:
        return []
    files = files if isinstance(files, (list, tuple)) else [files]
    return [Path(getattr(f, "name", f)) for f in files]


def _read_upload(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise gr.Error(f"{path.name} is {size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB "
                       "per file here (train bigger corpora with the command line).")
    return path.read_bytes()


def _source_first(paths: list[Path]) -> list[Path]:
    """Two aligned files: English is the target side, so put an `.en` file second."""
    return sorted(paths, key=lambda p: p.suffix.lower() in (".en", ".eng"))


def load_corpus(files, use_example: bool = False) -> Corpus:
    """The uploaded TSV / CSV / two aligned files, or the shipped example corpus; gr.Error on bad files."""
    paths = _paths(files)
    if use_example or not paths:
        if not use_example:
            raise gr.Error("Upload a TSV / CSV file or two aligned text files, or load the example corpus.")
        paths = [EXAMPLE_CORPUS]
    if len(paths) > 2:
        raise gr.Error(f"{len(paths)} files uploaded: give one TSV/CSV file or two aligned text files.")
    paths = _source_first(paths)
    try:
        data = [_read_upload(p) for p in paths]
        tgt = (data[1], paths[1].name) if len(paths) == 2 else (None, "")
        pairs = parse_pairs(data[0], paths[0].name, *tgt)
    except CorpusError as err:
        raise gr.Error(f"Cannot use this corpus: {err}") from None
    name = paths[0].stem if len(paths) == 1 else f"{paths[0].stem}+{paths[1].suffix.lstrip('.')}"
    notice = ""
    if len(pairs) > MAX_PAIRS:
        notice = f"The corpus has {len(pairs):,} pairs; the first {MAX_PAIRS:,} are used here."
        pairs = pairs[:MAX_PAIRS]
    return Corpus(name, pairs, notice)


def _lengths(texts: list[str]) -> str:
    n = [len(t) for t in texts]
    return f"{sum(n) / len(n):.1f} characters on average (max {max(n)})"


def preview(files, use_example: bool = False, base_model: str | None = None, session_models: dict | None = None):
    """-> summary (markdown), first rows (DataFrame)."""
    corpus = load_corpus(files, use_example)
    src, tgt = [s for s, _ in corpus.pairs], [t for _, t in corpus.pairs]
    lines = [f"**{corpus.name}**: {len(corpus.pairs):,} sentence pairs.",
             f"- source: {_lengths(src)}", f"- target: {_lengths(tgt)}"]
    if base_model and base_model in models.model_choices(session_models):
        base = get_model(base_model, session_models)
        lines.append(f"- vocabulary of **{base_model}** covers {base.src_vocab.coverage(src):.1%} of the source "
                     f"pieces and {base.tgt_vocab.coverage(tgt):.1%} of the target pieces (the rest would be `<unk>`).")
    if corpus.notice:
        lines.append(f"- ⚠️ {corpus.notice}")
    head = pd.DataFrame(corpus.pairs[:10], columns=["source", "target"])
    return "\n".join(lines), head


# ---------------------------------------------------------------- one job per session


@dataclass
class Job:
    stop: threading.Event = field(default_factory=threading.Event)
    events: queue.Queue = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None
    finished: bool = False  # the trainer's "done" event was seen


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def claim_job(session_id: str) -> Job:
    with _jobs_lock:
        if session_id in _jobs:
            raise gr.Error("A training job is already running in this session: wait for it or press Stop.")
        job = _jobs[session_id] = Job()
        return job


def release_job(session_id: str, job: Job) -> None:
    with _jobs_lock:
        if _jobs.get(session_id) is job:
            del _jobs[session_id]


def stop_training(session_id: str) -> str:
    """Ask this session's running job to stop after the current update (the Stop button)."""
    with _jobs_lock:
        job = _jobs.get(session_id)
    if job is None:
        return "No training is running."
    job.stop.set()
    return "Stopping after the current update…"


def is_training(session_id: str) -> bool:
    with _jobs_lock:
        return session_id in _jobs


# ---------------------------------------------------------------- building the model to train


def _has_cjk(texts: list[str]) -> bool:
    return any(re.search(r"[\u4e00-\u9fff]", t) for t in texts[:200])


def build_checkpoint(mode: str, base_model: str | None, pairs, attention: bool,
                     session_models: dict | None) -> tuple[checkpoint.Checkpoint, str]:
    """A fresh copy of the base model (fine-tune keeps its vocabulary) or a small new model -> (ckpt, base name)."""
    if mode == FINE_TUNE:
        if not base_model:
            raise gr.Error("Pick the model to fine-tune.")
        get_model(base_model, session_models)  # clear error when unknown
        return checkpoint.load(models.model_path(base_model, session_models)), base_model
    norm = "zh-hans" if _has_cjk([s for s, _ in pairs]) else "none"
    tok = TokenizerConfig(src_vocab_size=2000, tgt_vocab_size=2000, src_normalize=norm)
    cfg = ModelConfig(emb=128, hidden=256, layers=1, dropout=0.1, attention="luong" if attention else "none")
    return checkpoint.fresh(pairs, tok, cfg), "scratch"


def train_config(epochs, lr, batch_size, teacher_forcing, schedule, time_limit, n_batches: int) -> TrainConfig:
    try:
        return TrainConfig(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
                           teacher_forcing=float(teacher_forcing), schedule=schedule,
                           time_limit=float(min(MAX_SECONDS, max(1, float(time_limit or MAX_SECONDS)))),
                           patience=0, eval_every=max(5, n_batches // 3), device="auto", threads=TRAIN_THREADS)
    except (ConfigError, TypeError, ValueError) as err:
        raise gr.Error(str(err)) from None


def translate_all(translator: Translator, sources: list[str]) -> list[str]:
    return [t.text for t in translator.translate(sources, DecodeConfig(strategy="greedy", max_len=60, record_top=0))]


def _fit(trainer: Trainer, train, valid, on_event, should_stop) -> dict:
    """Train; return the weights on the CPU (on ZeroGPU this runs in another process, so they must travel back)."""
    trainer.fit(train, valid, on_event, should_stop)
    return {k: v.detach().to("cpu") for k, v in trainer.model.state_dict().items()}


if spaces is not None:  # pragma: no cover - only on Hugging Face ZeroGPU
    _fit = spaces.GPU(duration=MAX_SECONDS + 60)(_fit)


# ---------------------------------------------------------------- the training generator


@dataclass
class Live:
    """What the page shows while a job runs."""

    total_epochs: int
    time_limit: float
    steps: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid: list[float] = field(default_factory=list)
    samples: pd.DataFrame | None = None
    last: Event | None = None
    message: str = "Preparing…"

    def add(self, e: Event) -> None:
        self.last = e
        if e.kind in ("step", "valid") and not math.isnan(e.loss):
            self.steps.append(e.step)
            self.train.append(e.loss)
        if e.kind == "valid" and e.valid_loss is not None and not math.isnan(e.valid_loss):
            self.valid_steps.append(e.step)
            self.valid.append(e.valid_loss)

    def fraction(self) -> float:
        e = self.last
        if e is None:
            return 0.0
        if e.kind == "done":
            return 1.0
        return min(1.0, max(e.fraction, e.elapsed / self.time_limit if self.time_limit else 0.0))

    def status(self) -> str:
        pct = round(100 * self.fraction())
        e = self.last
        detail = "" if e is None else (f"epoch {min(e.epoch + 1, self.total_epochs)}/{self.total_epochs} · "
                                       f"step {e.step} · {e.tokens_per_sec:,.0f} tokens/s · {e.elapsed:.0f}s")
        return (f'<div class="s2s-progress"><div class="s2s-bar" style="width:{pct}%"></div></div>'
                f"<p><b>{pct}%</b> {detail}<br>{self.message}</p>")

    def figure(self):
        return plots.loss_curve(self.steps, self.train, self.valid_steps, self.valid,
                                "Training and validation loss · 训练与验证损失")


def _samples_table(valid, before: list[str]) -> pd.DataFrame:
    rows = valid[:N_SAMPLES]
    return pd.DataFrame({"source": [s for s, _ in rows], "reference": [t for _, t in rows],
                         "before": before[:N_SAMPLES]})


def _make_on_event(job: Job, ckpt: checkpoint.Checkpoint, sample_sources: list[str]):
    """Runs in the training thread: forward events, and translate the sample sentences after each epoch."""

    def on_event(e: Event) -> None:
        extra = None
        if e.kind == "epoch":
            extra = translate_all(Translator(ckpt), sample_sources)
        job.finished = job.finished or e.kind == "done"
        job.events.put((e, extra))

    return on_event


def _worker(job: Job, trainer: Trainer, ckpt: checkpoint.Checkpoint, train_ex, valid_ex, on_event) -> None:
    try:
        weights = _fit(trainer, train_ex, valid_ex, on_event, job.stop.is_set)
        ckpt.model.load_state_dict(weights)
        if not job.finished:  # events did not cross a process boundary (ZeroGPU): report the end here
            job.events.put((Event("done", 0, 0, reason="finished"), None))
    except Exception as err:  # surfaced to the page by the generator
        job.events.put((err, None))


def _session_file(name: str) -> Path:
    """An unguessable path in Gradio's file folder (served without a copy; see demo/session_files.py)."""
    return session_files.new_path(name)


def train(files, use_example: bool, mode: str, base_model: str | None, epochs: float, lr: float,
          batch_size: float, teacher_forcing: float, schedule: str, time_limit: float, attention: bool = True,
          session_models: dict | None = None, session_id: str = "default"):
    """Generator -> (status html, loss figure, sample translations, BLEU markdown, session models, download path).

    Yields while training; the last yield adds the new model to `session_models` and offers the file."""
    corpus = load_corpus(files, use_example)
    session_models = dict(session_models or {})
    job = claim_job(session_id)
    try:
        yield from _run(job, corpus, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule,
                        time_limit, attention, session_models, session_id)
    finally:
        job.stop.set()  # also when the visitor leaves: the generator is closed and the thread must end
        if job.thread is not None:
            job.thread.join(timeout=30)
        release_job(session_id, job)


def _run(job, corpus, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule, time_limit, attention,
         session_models, session_id="default"):
    train_pairs, valid_pairs = split_pairs(corpus.pairs, 0.1, seed=1, minimum=2)
    valid_pairs = valid_pairs[:MAX_VALID]
    ckpt, base_name = build_checkpoint(mode, base_model, train_pairs, attention, session_models)
    train_ex = encode_pairs(train_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    valid_ex = encode_pairs(valid_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    n_batches = math.ceil(len(train_ex) / max(1, int(batch_size)))
    cfg = train_config(epochs, lr, batch_size, teacher_forcing, schedule, time_limit, n_batches)
    live = Live(cfg.epochs, cfg.time_limit, message="Translating the held-out sentences before training…")
    yield live.status(), live.figure(), None, "", session_models, None
    sources, refs = [s for s, _ in valid_pairs], [t for _, t in valid_pairs]
    before = translate_all(Translator(ckpt), sources)
    bleu_before = corpus_scores(before, refs)["bleu"]
    live.samples = _samples_table(valid_pairs, before)
    live.message = f"Training on {len(train_pairs):,} pairs, validating on {len(valid_pairs)}…"
    trainer = Trainer(ckpt.model, cfg)
    job.thread = threading.Thread(target=_worker, daemon=True, name="s2s-train",
                                  args=(job, trainer, ckpt, train_ex, valid_ex,
                                        _make_on_event(job, ckpt, sources[:N_SAMPLES])))
    job.thread.start()
    bleu_md = f"BLEU on {len(valid_pairs)} held-out pairs before training: **{bleu_before:.1f}**"
    yield live.status(), live.figure(), live.samples, bleu_md, session_models, None
    done = yield from _follow(job, live, bleu_md, session_models)
    job.thread.join()  # the worker copies the final weights back after the "done" event
    yield from _finish(ckpt, cfg, trainer, live, done, corpus, base_name, sources, refs, bleu_before,
                       session_models, session_id)


def _follow(job: Job, live: Live, bleu_md: str, session_models: dict):
    """Drain the job's events, yielding about once a second; returns the 'done' event."""
    last_yield = 0.0
    while True:
        try:
            item, extra = job.events.get(timeout=0.5)
        except queue.Empty:
            if job.thread is not None and not job.thread.is_alive() and job.events.empty():
                raise gr.Error("Training ended unexpectedly.")
            continue
        if isinstance(item, Exception):
            raise gr.Error(explain(item, "training"), print_exception=False)
        live.add(item)
        if extra is not None and live.samples is not None:
            live.samples[f"after epoch {item.epoch}"] = extra
        if item.kind == "done":
            return item
        if item.kind != "step" or time.time() - last_yield > 1.0:
            last_yield = time.time()
            if job.stop.is_set():
                live.message = "Stopping after the current update…"
            yield live.status(), live.figure(), live.samples, bleu_md, session_models, None


def _finish(ckpt, cfg, trainer, live, done: Event, corpus, base_name, sources, refs, bleu_before, session_models,
            session_id="default"):
    """Save whatever was reached (also after Stop), score it, and hand it to this session only."""
    ckpt.model.eval().to("cpu")
    ckpt.train = cfg
    ckpt.info = {**ckpt.info, "fine_tuned_from": base_name, "corpus": corpus.name, "pairs": len(corpus.pairs),
                 "stopped": done.reason, "steps": done.step}
    after = translate_all(Translator(ckpt), sources)
    bleu_after = corpus_scores(after, refs)["bleu"]
    if live.samples is not None:
        live.samples["after training"] = after[:N_SAMPLES]
    name = f"my model {len(session_models) + 1} ({base_name} + {corpus.name})"
    path = _session_file(name)
    checkpoint.save(path, ckpt, half=True)  # half the download; loading converts back to float32
    session_files.register(session_id, path)  # deleted with the session, when idle, or when too many exist
    session_models = {**session_models, name: str(path)}
    live.last = done
    live.message = (f"Finished ({done.reason}) after {done.step} updates. <b>{html.escape(name)}</b> is now in the "
                    "model pickers of this browser session; download it below.")
    bleu_md = (f"BLEU on {len(refs)} held-out pairs: before **{bleu_before:.1f}** → after **{bleu_after:.1f}**")
    yield live.status(), live.figure(), live.samples, bleu_md, session_models, str(path)
