"""The Train tab's plain functions: read an uploaded corpus, preview it, train in a background thread.

One job per browser session (keyed by the session id the tab passes in). The job's `threading.Event` is what
the Stop button sets. Training runs in chunks of at most CHUNK_SECONDS: each chunk is one call of `fit_chunk`
that carries the weights, the optimizer state and the trainer's Progress to the next one. On a ZeroGPU Space each
chunk is its own `spaces.GPU` call (every call stays far below ZeroGPU's cap; Stop acts between chunks there,
since the chunk runs in another process); elsewhere the chunk trains the model in place and Stop acts before the
next update. The weights reached so far are saved as a usable checkpoint. The app runs torch on one CPU thread
(app.py), so training leaves the other core to translations.

After fine-tuning, a few held-out sentences of the base model's original domain (Tatoeba) are translated before
and after: catastrophic forgetting, measured in the lesson itself."""
from __future__ import annotations

import dataclasses
import html
import math
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import pandas as pd
import torch
from sacrebleu.metrics import CHRF

from s2s import checkpoint
from s2s.config import ConfigError, DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import CorpusError, encode_pairs, parse_pairs, split_pairs
from s2s.evaluate import corpus_scores
from s2s.model import Seq2Seq
from s2s.train import Event, Progress, Trainer
from s2s.translator import Translator

from . import models, plots, session_files
from .errors import core_text, explain, language, message
from .handlers import get_model
from .i18n_train import CHUNK_SECONDS, GPU_CALL_SECONDS, TRAIN_DEFAULTS

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # per uploaded file
MAX_PAIRS = 20_000  # pairs used from one corpus
MAX_SECONDS = 300  # training time cap per job
MAX_VALID = 100  # held-out pairs for validation loss and BLEU
N_SAMPLES = 4  # held-out sentences translated after every epoch
TRAIN_THREADS = 1  # CPU threads torch uses in the app (app.py): the other core keeps serving translations
FORGET_PAIRS = 100  # held-out sentences of the base model's own domain, translated before and after fine-tuning
FORGET_SHOWN = 4  # of those, shown side by side (the ones the base model translated best)
EXAMPLE_CORPUS = models.EXAMPLES / "kitchen_zh_en.tsv"
FINE_TUNE, SCRATCH = "fine-tune", "scratch"

DEFAULTS = TRAIN_DEFAULTS  # chosen by scripts/pick_train_defaults.py (see demo/i18n_train.py)

try:  # on a ZeroGPU Space the GPU is attached only inside functions wrapped by spaces.GPU
    import spaces  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - the usual case off Spaces
    spaces = None
ZERO_GPU = spaces is not None and bool(os.environ.get("SPACES_ZERO_GPU"))


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


def _read_upload(path: Path, lang: str) -> bytes:
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise gr.Error(message("tr_err_too_big", lang, name=path.name, mb=f"{size / 1e6:.1f}",
                               limit=MAX_UPLOAD_BYTES // (1024 * 1024)))
    return path.read_bytes()


def _source_first(paths: list[Path]) -> list[Path]:
    """Two aligned files: English is the target side, so put an `.en` file second."""
    return sorted(paths, key=lambda p: p.suffix.lower() in (".en", ".eng"))


def load_corpus(files, use_example: bool = False, lang: str | None = None) -> Corpus:
    """The uploaded TSV / CSV / two aligned files, or the shipped example corpus; gr.Error on bad files."""
    lang = lang or language()
    paths = _paths(files)
    if use_example or not paths:
        if not use_example:
            raise gr.Error(message("tr_err_no_upload", lang))
        paths = [EXAMPLE_CORPUS]
    if len(paths) > 2:
        raise gr.Error(message("tr_err_many_files", lang, n=len(paths)))
    paths = _source_first(paths)
    try:
        data = [_read_upload(p, lang) for p in paths]
        tgt = (data[1], paths[1].name) if len(paths) == 2 else (None, "")
        pairs = parse_pairs(data[0], paths[0].name, *tgt)
    except CorpusError as err:
        raise gr.Error(message("tr_err_corpus", lang, err=err)) from None
    name = paths[0].stem if len(paths) == 1 else f"{paths[0].stem}+{paths[1].suffix.lstrip('.')}"
    notice = ""
    if len(pairs) > MAX_PAIRS:
        notice = message("tr_pair_cap", lang, n=f"{len(pairs):,}", cap=f"{MAX_PAIRS:,}")
        pairs = pairs[:MAX_PAIRS]
    return Corpus(name, pairs, notice)


def _lengths(texts: list[str], lang: str) -> str:
    n = [len(t) for t in texts]
    return message("tr_lengths", lang, mean=f"{sum(n) / len(n):.1f}", max=max(n))


def preview(files, use_example: bool = False, base_model: str | None = None, session_models: dict | None = None):
    """-> summary (markdown), first rows (DataFrame)."""
    lang = language()
    corpus = load_corpus(files, use_example, lang)
    src, tgt = [s for s, _ in corpus.pairs], [t for _, t in corpus.pairs]
    lines = [message("tr_summary", lang, name=corpus.name, n=f"{len(corpus.pairs):,}"),
             message("tr_source_len", lang, lengths=_lengths(src, lang)),
             message("tr_target_len", lang, lengths=_lengths(tgt, lang))]
    if base_model and base_model in models.model_choices(session_models):
        base = get_model(base_model, session_models)
        lines.append(message("tr_coverage", lang, model=base_model, src=f"{base.src_vocab.coverage(src):.1%}",
                             tgt=f"{base.tgt_vocab.coverage(tgt):.1%}"))
    if corpus.notice:
        lines.append(f"- **{corpus.notice}**")
    head = pd.DataFrame(corpus.pairs[:10], columns=[message("tr_col_source", lang), message("tr_col_target", lang)])
    return "\n".join(lines), head


# ---------------------------------------------------------------- one job per session


@dataclass
class Job:
    stop: threading.Event = field(default_factory=threading.Event)
    events: queue.Queue = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None
    calls: list[float] = field(default_factory=list)  # wall seconds of each chunk (GPU call on ZeroGPU)


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def claim_job(session_id: str, lang: str | None = None) -> Job:
    with _jobs_lock:
        if session_id in _jobs:
            raise gr.Error(message("tr_err_busy", lang))
        job = _jobs[session_id] = Job()
        return job


def release_job(session_id: str, job: Job) -> None:
    with _jobs_lock:
        if _jobs.get(session_id) is job:
            del _jobs[session_id]


def stop_training(session_id: str, lang: str | None = None) -> str:
    """Ask this session's running job to stop after the current update (the Stop button)."""
    with _jobs_lock:
        job = _jobs.get(session_id)
    if job is None:
        return message("tr_no_job", lang)
    job.stop.set()
    return message("tr_stopping_zerogpu" if ZERO_GPU else "tr_stopping", lang)


def is_training(session_id: str) -> bool:
    with _jobs_lock:
        return session_id in _jobs


# ---------------------------------------------------------------- building the model to train


def _has_cjk(texts: list[str]) -> bool:
    return any(re.search(r"[\u4e00-\u9fff]", t) for t in texts[:200])


def build_checkpoint(mode: str, base_model: str | None, pairs, attention: bool,
                     session_models: dict | None, lang: str | None = None) -> tuple[checkpoint.Checkpoint, str]:
    """A fresh copy of the base model (fine-tune keeps its vocabulary) or a small new model -> (ckpt, base name)."""
    if mode == FINE_TUNE:
        if not base_model:
            raise gr.Error(message("tr_err_pick_model", lang))
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
                           patience=0, eval_every=max(5, n_batches // 3), device="auto")
    except (ConfigError, TypeError, ValueError) as err:
        raise gr.Error(core_text(err)) from None


def translate_all(translator: Translator, sources: list[str]) -> list[str]:
    return [t.text for t in translator.translate(sources, DecodeConfig(strategy="greedy", max_len=60, record_top=0))]


def split_corpus(pairs):
    """(train, held-out) pairs: a seeded 10 % held out (at most MAX_VALID), as in every run of the tab."""
    train_pairs, valid_pairs = split_pairs(pairs, 0.1, seed=1, minimum=2)
    return train_pairs, valid_pairs[:MAX_VALID]


# ---------------------------------------------------------------- training in chunks


@dataclass
class TrainState:
    """What one chunk hands to the next. Plain data only: on ZeroGPU it crosses a process boundary (pickled)."""

    model_cfg: ModelConfig
    cfg: TrainConfig
    progress: Progress
    weights: dict | None = None  # CPU tensors; None when the caller's model is trained in place
    optimizer: dict | None = None  # Adam state per parameter index, CPU tensors
    events: list = field(default_factory=list)  # the chunk's trainer events, in order (the last is "done")


def _cpu(tensors: dict) -> dict:
    return {k: v.detach().to("cpu") for k, v in tensors.items()}


def fit_chunk(state: TrainState, train, valid, seconds: float, model: Seq2Seq | None = None,
              on_event=None, should_stop=None) -> TrainState:
    """Train for at most `seconds` from `state`; -> the state after it. Without `model` the model is rebuilt
    from `state.weights` and its weights are returned (a ZeroGPU call); with it, `model` is trained in place."""
    remote = model is None
    if remote:
        model = Seq2Seq(state.model_cfg, seed=0)
        model.load_state_dict(state.weights)
    trainer = Trainer(model, dataclasses.replace(state.cfg, time_limit=float(seconds)), state.progress)
    if state.optimizer:
        checkpoint.restore_optimizer(trainer.optimizer, state.optimizer, trainer.device)
    events: list[Event] = []

    def record(e: Event) -> None:
        events.append(e)
        if on_event is not None:
            on_event(e)

    trainer.fit(train, valid, record, should_stop or (lambda: False))
    optimizer = {i: _cpu(s) for i, s in trainer.optimizer.state_dict()["state"].items()}
    weights = _cpu(model.state_dict()) if remote else None
    return TrainState(state.model_cfg, state.cfg, trainer.progress, weights, optimizer, events)


_gpu_fit_chunk = fit_chunk
if ZERO_GPU:  # pragma: no cover - only on Hugging Face ZeroGPU: each chunk is one GPU call, far below the cap
    _gpu_fit_chunk = spaces.GPU(duration=GPU_CALL_SECONDS)(fit_chunk)


def _shifted(e: Event, offset: float) -> Event:
    """An event of a later chunk with its time counted from the start of the run."""
    return dataclasses.replace(e, elapsed=e.elapsed + offset)


def _one_chunk(job: Job, ckpt, state: TrainState, train_ex, valid_ex, seconds: float, offset: float,
               on_event) -> TrainState:
    forward = lambda e: e.kind != "done" and on_event(_shifted(e, offset))  # noqa: E731 - the run's end comes later
    if not ZERO_GPU:
        return fit_chunk(state, train_ex, valid_ex, seconds, ckpt.model, forward, job.stop.is_set)
    state.weights = _cpu(ckpt.model.state_dict())
    state = _gpu_fit_chunk(state, train_ex, valid_ex, seconds)
    ckpt.model.load_state_dict(state.weights)
    for e in state.events:  # the chunk ran in another process: its events arrive together, afterwards
        forward(e)
    return state


def run_chunks(job: Job, ckpt, cfg: TrainConfig, train_ex, valid_ex, on_event) -> Event:
    """Train `ckpt.model` chunk by chunk until the epochs are done, the time limit is used up or Stop is pressed;
    -> the run's "done" event (its elapsed time counts every chunk)."""
    state = TrainState(ckpt.model.cfg, cfg, Progress())
    used, last = 0.0, None
    while True:
        left = cfg.time_limit - used
        reason = "stopped" if job.stop.is_set() else ("time limit" if left <= 0 else "")
        if reason:
            break
        began = time.time()
        state = _one_chunk(job, ckpt, state, train_ex, valid_ex, min(CHUNK_SECONDS, left), used, on_event)
        job.calls.append(time.time() - began)
        used += job.calls[-1]
        last = state.events[-1] if state.events else last
        reason = last.reason if last is not None else "stopped"
        if reason != "time limit":  # "epochs done" or "stopped": the run is over; a chunk's time limit is not
            break
    last = last or Event("done", 0, 0)
    return dataclasses.replace(last, kind="done", reason=reason, elapsed=used)


# ---------------------------------------------------------------- what the page shows


@dataclass
class Live:
    """What the page shows while a job runs."""

    total_epochs: int
    time_limit: float
    lang: str = "en"
    steps: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid: list[float] = field(default_factory=list)
    samples: pd.DataFrame | None = None
    last: Event | None = None
    message: str = ""

    def add(self, e: Event) -> None:
        self.last = e
        if e.kind in ("step", "valid") and not math.isnan(e.loss):
            self.steps.append(e.step)
            self.train.append(e.loss)
        if e.kind == "valid" and e.valid_loss is not None and not math.isnan(e.valid_loss):
            self.valid_steps.append(e.step)
            self.valid.append(e.valid_loss)

    def fraction(self) -> float:
        """How far the run is towards its end (the epochs or the time limit, whichever comes first). A run that
        ran to its end shows 1; a stopped one keeps the fraction it had reached."""
        e = self.last
        if e is None:
            return 0.0
        if e.kind == "done" and e.reason in ("epochs done", "time limit"):
            return 1.0
        return min(1.0, max(e.fraction, e.elapsed / self.time_limit if self.time_limit else 0.0))

    def status(self) -> str:
        pct = math.floor(100 * self.fraction())
        e = self.last
        detail = "" if e is None else message(
            "tr_detail", self.lang, epoch=min(e.epoch + 1, self.total_epochs), epochs=self.total_epochs,
            step=e.step, tps=f"{e.tokens_per_sec:,.0f}", secs=f"{e.elapsed:.0f}")
        stopped = e is not None and e.kind == "done" and e.reason == "stopped"
        extra = ' s2s-stopped' if stopped else ""
        colour = "; background:#d97706" if stopped else ""  # amber: the bar stays where Stop left it
        return (f'<div class="s2s-progress{extra}"><div class="s2s-bar" style="width:{pct}%{colour}"></div></div>'
                f"<p><b>{pct}%</b> {detail}<br>{self.message}</p>")

    def figure(self):
        title = message("tr_loss_title", self.lang)
        return plots.loss_curve(self.steps, self.train, self.valid_steps, self.valid, title)


def _col(key: str, lang: str, **values) -> str:
    return message(key, lang, **values)


def _samples_table(valid, before: list[str], lang: str) -> pd.DataFrame:
    rows = valid[:N_SAMPLES]
    return pd.DataFrame({_col("tr_col_source", lang): [s for s, _ in rows],
                         _col("tr_col_reference", lang): [t for _, t in rows],
                         _col("tr_col_before", lang): before[:N_SAMPLES]})


def _make_on_event(job: Job, ckpt: checkpoint.Checkpoint, sample_sources: list[str]):
    """Runs in the training thread: forward events, and translate the sample sentences after each epoch (only
    when the model trains here: on ZeroGPU the events of a chunk arrive after it, with the chunk's final weights)."""

    def on_event(e: Event) -> None:
        extra = None
        if e.kind == "epoch" and not ZERO_GPU:
            extra = translate_all(Translator(ckpt), sample_sources)
        job.events.put((e, extra))

    return on_event


def _worker(job: Job, ckpt, cfg, train_ex, valid_ex, on_event) -> None:
    try:
        job.events.put((run_chunks(job, ckpt, cfg, train_ex, valid_ex, on_event), None))
    except Exception as err:  # surfaced to the page by the generator
        job.events.put((err, None))


def _session_file(name: str) -> Path:
    """An unguessable path in Gradio's file folder (served without a copy; see demo/session_files.py)."""
    return session_files.new_path(name)


# ---------------------------------------------------------------- forgetting (fine-tuning only)


@dataclass
class Forgetting:
    """The base model's own held-out domain, before fine-tuning."""

    pairs: list[tuple[str, str]]
    before: list[str]
    bleu_before: float
    shown: list[int]  # indices of the sentences shown side by side


def forgetting_before(ckpt, base_name: str, mode: str) -> Forgetting | None:
    """Translate held-out pairs of the base model's original domain (None when training from scratch)."""
    if mode != FINE_TUNE:
        return None
    pairs = models.heldout_pairs(models.language_pair(base_name), FORGET_PAIRS)
    if not pairs:
        return None
    before = translate_all(Translator(ckpt), [s for s, _ in pairs])
    chrf = CHRF()
    scores = [chrf.sentence_score(h, [r]).score for h, (_, r) in zip(before, pairs)]
    shown = sorted(sorted(range(len(pairs)), key=lambda i: -scores[i])[:FORGET_SHOWN])
    return Forgetting(pairs, before, corpus_scores(before, [r for _, r in pairs])["bleu"], shown)


def forgetting_after(ckpt, f: Forgetting | None, lang: str) -> str:
    """Markdown: BLEU on the original domain before -> after, and the shown sentences side by side."""
    if f is None:
        return ""
    after = translate_all(Translator(ckpt), [s for s, _ in f.pairs])
    bleu_after = corpus_scores(after, [r for _, r in f.pairs])["bleu"]
    head = [message(k, lang) for k in ("tr_col_source", "tr_col_reference", "tr_col_before", "tr_col_after")]
    cell = lambda text: html.escape(text).replace("|", "&#124;")  # noqa: E731
    rows = [f"| {cell(f.pairs[i][0])} | {cell(f.pairs[i][1])} | {cell(f.before[i])} | {cell(after[i])} |"
            for i in f.shown]
    return "\n".join([message("tr_forgetting", lang, n=len(f.pairs), before=f"{f.bleu_before:.1f}",
                              after=f"{bleu_after:.1f}"), "", "| " + " | ".join(head) + " |",
                      "|" + "---|" * len(head), *rows])


# ---------------------------------------------------------------- the training generator


def train(files, use_example: bool, mode: str, base_model: str | None, epochs: float, lr: float,
          batch_size: float, teacher_forcing: float, schedule: str, time_limit: float, attention: bool = True,
          session_models: dict | None = None, session_id: str = "default", lang: str | None = None):
    """Generator -> (status html, loss figure, sample translations, BLEU markdown, session models, download path).

    Yields while training; the last yield adds the new model to `session_models` and offers the file."""
    lang = lang or language()
    corpus = load_corpus(files, use_example, lang)
    session_models = dict(session_models or {})
    job = claim_job(session_id, lang)
    try:
        yield from _run(job, corpus, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule,
                        time_limit, attention, session_models, session_id, lang)
    finally:
        job.stop.set()  # also when the visitor leaves: the generator is closed and the thread must end
        if job.thread is not None:
            job.thread.join(timeout=30)
        release_job(session_id, job)


def _run(job, corpus, mode, base_model, epochs, lr, batch_size, teacher_forcing, schedule, time_limit, attention,
         session_models, session_id="default", lang="en"):
    train_pairs, valid_pairs = split_corpus(corpus.pairs)
    ckpt, base_name = build_checkpoint(mode, base_model, train_pairs, attention, session_models, lang)
    train_ex = encode_pairs(train_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    valid_ex = encode_pairs(valid_pairs, ckpt.src_vocab, ckpt.tgt_vocab)
    n_batches = math.ceil(len(train_ex) / max(1, int(batch_size)))
    cfg = train_config(epochs, lr, batch_size, teacher_forcing, schedule, time_limit, n_batches)
    live = Live(cfg.epochs, cfg.time_limit, lang, message=message("tr_translating_before", lang))
    yield live.status(), live.figure(), None, "", session_models, None
    sources, refs = [s for s, _ in valid_pairs], [t for _, t in valid_pairs]
    before = translate_all(Translator(ckpt), sources)
    bleu_before = corpus_scores(before, refs)["bleu"]
    forgetting = forgetting_before(ckpt, base_name, mode)
    live.samples = _samples_table(valid_pairs, before, lang)
    live.message = message("tr_training_on", lang, train=f"{len(train_pairs):,}", valid=len(valid_pairs))
    job.thread = threading.Thread(target=_worker, daemon=True, name="s2s-train",
                                  args=(job, ckpt, cfg, train_ex, valid_ex,
                                        _make_on_event(job, ckpt, sources[:N_SAMPLES])))
    job.thread.start()
    bleu_md = message("tr_bleu_before", lang, n=len(valid_pairs), before=f"{bleu_before:.1f}")
    yield live.status(), live.figure(), live.samples, bleu_md, session_models, None
    done = yield from _follow(job, live, bleu_md, session_models)
    job.thread.join()
    yield from _finish(job, ckpt, cfg, live, done, corpus, base_name, sources, refs, bleu_before, forgetting,
                       session_models, session_id)


def _follow(job: Job, live: Live, bleu_md: str, session_models: dict):
    """Drain the job's events, yielding about once a second; returns the run's 'done' event."""
    last_yield = 0.0
    while True:
        try:
            item, extra = job.events.get(timeout=0.5)
        except queue.Empty:
            if job.thread is not None and not job.thread.is_alive() and job.events.empty():
                raise gr.Error(message("tr_err_ended", live.lang))
            continue
        if isinstance(item, Exception):
            raise gr.Error(explain(item, "training"), print_exception=False)
        live.add(item)
        if extra is not None and live.samples is not None:
            live.samples[message("tr_col_after_epoch", live.lang, epoch=item.epoch)] = extra
        if item.kind == "done":
            return item
        if item.kind != "step" or time.time() - last_yield > 1.0:
            last_yield = time.time()
            if job.stop.is_set():
                live.message = message("tr_stopping", live.lang)
            yield live.status(), live.figure(), live.samples, bleu_md, session_models, None


def compute_used(job: Job, lang: str) -> str:
    """How much GPU time (ZeroGPU) or training time the run took."""
    seconds = f"{sum(job.calls):.0f}"
    if ZERO_GPU:
        return message("tr_gpu_used", lang, calls=len(job.calls), secs=seconds, cap=GPU_CALL_SECONDS)
    device = "GPU" if torch.cuda.is_available() else "CPU"
    return message("tr_time_used", lang, secs=seconds, device=device)


def _finish(job, ckpt, cfg, live, done: Event, corpus, base_name, sources, refs, bleu_before, forgetting,
            session_models, session_id="default"):
    """Save whatever was reached (also after Stop), score it, and hand it to this session only."""
    lang = live.lang
    ckpt.model.eval().to("cpu")
    ckpt.train = cfg
    ckpt.info = {**ckpt.info, "fine_tuned_from": base_name, "corpus": corpus.name, "pairs": len(corpus.pairs),
                 "stopped": done.reason, "steps": done.step}
    after = translate_all(Translator(ckpt), sources)
    bleu_after = corpus_scores(after, refs)["bleu"]
    if live.samples is not None:
        live.samples.insert(3, message("tr_col_after", lang), after[:N_SAMPLES])  # beside "before", in view
    name = f"my model {len(session_models) + 1} ({base_name} + {corpus.name})"
    path = _session_file(name)
    checkpoint.save(path, ckpt, half=True)  # half the download; loading converts back to float32
    session_files.register(session_id, path)  # deleted with the session, when idle, or when too many exist
    session_models = {**session_models, name: str(path)}
    live.last = done
    reason = message(f"tr_reason_{done.reason.replace(' ', '_')}", lang)
    live.message = message("tr_finished", lang, reason=reason, steps=done.step, name=html.escape(name),
                           used=compute_used(job, lang))
    bleu_md = message("tr_bleu_after", lang, n=len(refs), before=f"{bleu_before:.1f}", after=f"{bleu_after:.1f}")
    forgot = forgetting_after(ckpt, forgetting, lang)
    bleu_md = f"{bleu_md}\n\n{forgot}" if forgot else bleu_md
    yield live.status(), live.figure(), live.samples, bleu_md, session_models, str(path)
