"""The training loop: teacher forcing (or scheduled sampling), Adam, clipping, early stopping.

The trainer knows nothing about files or UIs: progress leaves through `on_event`, `should_stop` cancels,
and the caller persists `Trainer` state (see checkpoint.py)."""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .config import TrainConfig
from .data import Batch, Example, bucketed_batches
from .model import Seq2Seq
from .tokenizer import PAD


@dataclass
class Event:
    kind: str  # "step" | "valid" | "epoch" | "done"
    epoch: int
    step: int
    loss: float = float("nan")  # training loss (mean over the last steps)
    valid_loss: float | None = None
    tokens_per_sec: float = 0.0  # target tokens per second of training steps
    teacher_forcing: float = 1.0  # the teacher-forcing ratio in use
    improved: bool = False  # this validation is the best so far
    elapsed: float = 0.0  # seconds since the run (or resume) started
    fraction: float = 0.0  # progress in [0, 1]
    reason: str = ""  # why training stopped ("done" events)


@dataclass
class Progress:
    """What a resume needs besides weights and optimizer state."""

    epoch: int = 0  # completed epochs
    batch: int = 0  # batches done in the current epoch
    step: int = 0  # total updates
    best_valid: float = math.inf
    bad_evals: int = 0  # validations since the last improvement
    history: list = field(default_factory=list)  # [step, train loss, valid loss] per validation


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but CUDA is not available")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def teacher_forcing_ratio(cfg: TrainConfig, step: int, total: int) -> float:
    """Probability of feeding the gold token at update `step` of `total` (Bengio et al. 2015 schedules).

    Decaying schedules start at 1 and fall towards the floor `cfg.teacher_forcing`."""
    floor, x = cfg.teacher_forcing, min(1.0, step / max(1, total))
    if cfg.schedule == "constant":
        return floor
    if cfg.schedule == "linear":
        return max(floor, 1.0 - (1.0 - floor) * x)
    if cfg.schedule == "exponential":
        k = cfg.schedule_k or 0.01 ** (1.0 / max(1, total))  # reaches 0.01 at the end by default
        return max(floor, k ** step)
    k = cfg.schedule_k or _inverse_sigmoid_k(total)
    return max(floor, k / (k + math.exp(min(step / k, 700.0))))


def _inverse_sigmoid_k(total: int) -> float:
    """k for k / (k + exp(i / k)) to cross 0.5 half way: solve k ln k = total / 2."""
    k = 2.0
    for _ in range(50):
        k = max(1.0001, (total / 2) / math.log(k))
    return k


def _loss(logits: torch.Tensor, gold: torch.Tensor, smoothing: float) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.float(), gold, label_smoothing=smoothing)


def teacher_forced_loss(model: Seq2Seq, batch: Batch, smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy over target tokens, pad ignored; logits computed only at real positions."""
    enc = model.encode(batch.src, batch.src_len)
    pre, _ = model.decode_all(batch.tgt[:, :-1], enc)
    gold = batch.tgt[:, 1:]
    mask = gold != PAD
    return _loss(model.decoder.logits(pre[mask]), gold[mask], smoothing)


def scheduled_sampling_loss(model: Seq2Seq, batch: Batch, ratio: float, smoothing: float,
                            gen: torch.Generator) -> torch.Tensor:
    """Step by step; each token (per step, per sentence) is the gold one with probability `ratio`,
    else the model's own previous argmax."""
    enc = model.encode(batch.src, batch.src_len)
    state, prev, logits = model.init_state(enc), batch.tgt[:, 0], []
    for t in range(1, batch.tgt.size(1)):
        out = model.step(prev, state, enc)
        logits.append(out.logits)
        gold = batch.tgt[:, t]
        use_gold = torch.rand(gold.shape, generator=gen).to(gold.device) < ratio
        prev, state = torch.where(use_gold, gold, out.logits.argmax(-1).detach()), out.state
    gold = batch.tgt[:, 1:]
    mask = gold != PAD
    return _loss(torch.stack(logits, 1)[mask], gold[mask], smoothing)


@torch.inference_mode()
def evaluate_loss(model: Seq2Seq, batches: list[Batch], device) -> float:
    """Teacher-forced cross-entropy per target token over `batches` (no label smoothing)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        batch = batch.to(device)
        total += teacher_forced_loss(model, batch).item() * batch.n_tokens
        count += batch.n_tokens
    model.train(was_training)
    return total / max(1, count)


class Trainer:
    def __init__(self, model: Seq2Seq, cfg: TrainConfig, progress: Progress | None = None):
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        self.model = model.to(self.device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)  # one kernel for all parameters
        self.progress = progress or Progress()
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.amp = self.device.type == "cuda"

    def _update(self, batch: Batch, ratio: float) -> float:
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            if ratio >= 1.0:
                loss = teacher_forced_loss(self.model, batch, self.cfg.label_smoothing)
            else:
                loss = scheduled_sampling_loss(self.model, batch, ratio, self.cfg.label_smoothing, self.gen)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip)
        self.optimizer.step()
        return loss.item()

    def total_steps(self, n_batches: int) -> int:
        total = self.cfg.epochs * n_batches
        return min(total, self.cfg.max_steps) if self.cfg.max_steps else total

    def fit(self, train: list[Example], valid: list[Example], on_event: Callable[[Event], None] = lambda e: None,
            should_stop: Callable[[], bool] = lambda: False) -> Progress:
        """Train until the epochs, step cap, time limit, early stopping or `should_stop` end it."""
        if self.cfg.threads:
            torch.set_num_threads(self.cfg.threads)
        valid_batches = bucketed_batches(valid, self.cfg.batch_size)
        run = _Run(self, train, valid_batches, on_event, should_stop)
        return run.go()


class _Run:
    """One call of `Trainer.fit`: the epoch loop and its bookkeeping."""

    def __init__(self, trainer: Trainer, train, valid_batches, on_event, should_stop):
        self.t, self.train, self.valid = trainer, train, valid_batches
        self.on_event, self.should_stop = on_event, should_stop
        self.start = time.time()
        self.losses: list[float] = []
        self.tokens, self.busy = 0, 0.0
        self.total = 0
        self.last_loss = float("nan")  # mean training loss of the last validation period

    def event(self, kind: str, **kw) -> Event:
        p = self.t.progress
        loss = sum(self.losses) / len(self.losses) if self.losses else self.last_loss
        e = Event(kind, p.epoch, p.step, loss, tokens_per_sec=self.tokens / max(self.busy, 1e-9),
                  teacher_forcing=teacher_forcing_ratio(self.t.cfg, p.step, self.total),
                  elapsed=time.time() - self.start, fraction=min(1.0, p.step / max(1, self.total)), **kw)
        self.on_event(e)
        return e

    def stop_reason(self) -> str:
        cfg, p = self.t.cfg, self.t.progress
        if self.should_stop():
            return "stopped"
        if cfg.max_steps and p.step >= cfg.max_steps:
            return "max steps"
        if cfg.time_limit and time.time() - self.start >= cfg.time_limit:
            return "time limit"
        if cfg.patience and p.bad_evals >= cfg.patience:
            return "early stopping"
        return ""

    def validate(self) -> None:
        p = self.t.progress
        valid_loss = evaluate_loss(self.t.model, self.valid, self.t.device) if self.valid else math.nan
        improved = valid_loss < p.best_valid or not self.valid
        p.best_valid = min(p.best_valid, valid_loss) if self.valid else p.best_valid
        p.bad_evals = 0 if improved else p.bad_evals + 1
        train_loss = sum(self.losses) / len(self.losses) if self.losses else math.nan
        p.history.append([p.step, train_loss, valid_loss])
        self.event("valid", valid_loss=valid_loss, improved=improved)
        self.losses, self.last_loss = [], train_loss

    def epoch(self, batches: list[Batch]) -> str:
        """Run the rest of the current epoch; returns a stop reason or ''."""
        cfg, p = self.t.cfg, self.t.progress
        for batch in batches[p.batch:]:
            reason = self.stop_reason()
            if reason:
                return reason
            began = time.time()
            ratio = teacher_forcing_ratio(cfg, p.step, self.total)
            self.losses.append(self.t._update(batch.to(self.t.device), ratio))
            self.busy += time.time() - began
            self.tokens += batch.n_tokens
            p.step, p.batch = p.step + 1, p.batch + 1
            if p.step % 20 == 0:
                self.event("step")
            if cfg.eval_every and p.step % cfg.eval_every == 0:
                self.validate()
        return ""

    def go(self) -> Progress:
        cfg, p = self.t.cfg, self.t.progress
        torch.manual_seed(cfg.seed + p.epoch)
        reason = ""
        while p.epoch < cfg.epochs and not reason:
            batches = bucketed_batches(self.train, cfg.batch_size, random.Random(cfg.seed + p.epoch))
            self.total = self.t.total_steps(len(batches))
            reason = self.epoch(batches)
            if not reason:
                p.epoch, p.batch = p.epoch + 1, 0
                self.validate()
                self.event("epoch")
                reason = self.stop_reason()
        self.event("done", reason=reason or "epochs done")
        return p
