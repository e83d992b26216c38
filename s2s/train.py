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
import torch.distributed as dist
from torch import nn

from .config import ConfigError, TrainConfig
from .data import Batch, Example, bucketed_batches
from .decoding import greedy_tokens
from .loss import logits_loss, output_loss
from .messages import Keyed
from .model import Seq2Seq
from .packed import bf16_available
from .tokenizer import PAD


class NonFiniteLoss(Keyed, RuntimeError):
    """The loss or the weights became NaN/Inf (e.g. a learning rate far too high): training stops before any
    update or checkpoint with broken weights."""


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
        raise ConfigError("device cuda requested but CUDA is not available on this machine (use --device cpu)")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def teacher_forcing_ratio(cfg: TrainConfig, step: int, total: int) -> float:
    """Probability of feeding the gold token at update `step` (0-based) of `total` (Bengio et al. 2015).

    Decaying schedules start at exactly 1.0 at the first update, never increase, and reach the floor
    `cfg.teacher_forcing` exactly at the last update (step total - 1); a run of one update has only its first.
    The exponential (k ** i) and inverse-sigmoid (k / (k + exp(i / k))) curves are rescaled to run from 1 to the
    floor over the run, so their shape, not their units, depends on `schedule_k`."""
    floor, last = cfg.teacher_forcing, max(0, total - 1)
    if cfg.schedule == "constant":
        return floor
    if step <= 0 or last == 0:
        return 1.0
    if step >= last:
        return floor
    decay = _decay(cfg.schedule, cfg.schedule_k, step, last)  # 1 at the first update, 0 at the last
    return min(1.0, max(floor, 1.0 - (1.0 - floor) * (1.0 - decay)))


def _decay(schedule: str, k: float, step: int, last: int) -> float:
    """The schedule's curve at `step` in (0, last), rescaled so that it is 1 at step 0 and 0 at `last`."""
    if schedule == "linear":
        return 1.0 - step / last
    if schedule == "exponential":
        k = k or 0.01 ** (1.0 / last)  # by default k ** last = 0.01
        curve = lambda i: k ** i  # noqa: E731
    else:
        k = k or _inverse_sigmoid_k(last)
        curve = lambda i: k / (k + math.exp(min(i / k, 700.0)))  # noqa: E731
    top, bottom = curve(0), curve(last)
    return (curve(step) - bottom) / (top - bottom) if top > bottom else 1.0 - step / last


def _inverse_sigmoid_k(last: int) -> float:
    """The default k: the unscaled curve k / (k + exp(i / k)) crosses 0.5 half way when k ln k = last / 2.
    Solved by bisection on [1, last + 2] (k ln k is increasing there, 0 at k = 1)."""
    low, high = 1.0, last + 2.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if mid * math.log(mid) < last / 2 else (low, mid)
    return low


def teacher_forced_loss(model: Seq2Seq, batch: Batch, smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy over target tokens, pad ignored; logits computed only at real positions."""
    enc = model.encode(batch.src, batch.src_len)
    pre, _ = model.decode_all(batch.tgt[:, :-1], enc)
    gold = batch.tgt[:, 1:]
    mask = gold != PAD
    x, weight, bias = model.decoder.output_layer(pre[mask])
    if torch.is_autocast_enabled(x.device.type):  # bf16 products: the plain path, as autocast casts them
        return logits_loss(nn.functional.linear(x, weight, bias), gold[mask], smoothing)
    return output_loss(x, weight, bias, gold[mask], smoothing)


def scheduled_sampling_loss(model: Seq2Seq, batch: Batch, ratio: float, smoothing: float,
                            gen: torch.Generator) -> torch.Tensor:
    """Step by step; each token (per step, per sentence) is the gold one with probability `ratio`,
    else the model's own previous choice, exactly as greedy search would make it (`greedy_tokens`).
    The coin flips come from `gen` (a CPU generator), so CPU and GPU runs flip the same coins."""
    enc = model.encode(batch.src, batch.src_len)
    state, prev, logits = model.init_state(enc), batch.tgt[:, 0], []
    for t in range(1, batch.tgt.size(1)):
        out = model.step(prev, state, enc)
        logits.append(out.logits)
        gold = batch.tgt[:, t]
        use_gold = torch.rand(gold.shape, generator=gen).to(gold.device) < ratio
        prev, state = torch.where(use_gold, gold, greedy_tokens(out.logits.detach())), out.state
    gold = batch.tgt[:, 1:]
    mask = gold != PAD
    return logits_loss(torch.stack(logits, 1)[mask], gold[mask], smoothing)


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


def epoch_batches(train, batch_size: int, seed: int):
    """The batches of one epoch, in order: bucketed_batches for a list of Examples, or the lazy batches of a
    corpus read from disk (`s2s.shards.ShardedCorpus`). Both are seeded by `seed` alone."""
    if isinstance(train, list):
        return bucketed_batches(train, batch_size, random.Random(seed))
    return train.epoch_batches(batch_size, seed)


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel job (torch.distributed is initialised by the entry point)."""

    rank: int
    world: int

    @classmethod
    def current(cls) -> "Distributed | None":
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            return cls(dist.get_rank(), dist.get_world_size())
        return None

    def rows(self, batch: Batch) -> tuple[Batch, bool]:
        """This rank's share of a global batch: rows rank, rank + world, ... (padding trimmed), and whether it has
        any. A rank with no rows (a batch smaller than the world) computes row 0 with weight 0: every rank must
        take part in every gradient average."""
        share = torch.arange(self.rank, batch.src.size(0), self.world)
        empty = len(share) == 0
        share = torch.zeros(1, dtype=torch.long) if empty else share
        src, tgt = batch.src.index_select(0, share.to(batch.src.device)), batch.tgt.index_select(0, share.to(
            batch.tgt.device))
        src_len = batch.src_len.index_select(0, share)
        width, height = int(src_len.max()), int((tgt != PAD).sum(1).max())
        return Batch(src[:, :width], src_len, tgt[:, :height], int((tgt[:, 1:] != PAD).sum())), not empty

    def broadcast(self, value: float, device) -> float:
        """Rank 0's value, on every rank."""
        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.broadcast(t, 0)
        return float(t.item())

    def total(self, value: float, device) -> float:
        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return float(t.item())


class _TokenLoss(nn.Module):
    """The loss of a batch as a module, so that DistributedDataParallel can wrap it: summed over this rank's target
    tokens and scaled by world / (tokens of the global batch), so that DDP's gradient average is the gradient of
    the global batch's mean loss, exactly as one process would compute it."""

    def __init__(self, model: Seq2Seq):
        super().__init__()
        self.model = model

    def forward(self, src, src_len, tgt, ratio: float, smoothing: float, scale: float, gen) -> torch.Tensor:
        batch = Batch(src, src_len, tgt, 0)
        if ratio >= 1.0:
            loss = teacher_forced_loss(self.model, batch, smoothing)
        else:
            loss = scheduled_sampling_loss(self.model, batch, ratio, smoothing, gen)
        return loss * (tgt[:, 1:] != PAD).sum() * scale


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AMX-BF16 or AVX512-BF16): the check decoding uses too."""
    return bf16_available()


def uses_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast for this run: on CUDA unless fp32 is asked for; on a CPU only when asked and native."""
    if device.type == "cuda":
        return precision != "fp32"
    return precision == "bf16" and cpu_has_bf16()


def update_seed(seed: int, step: int) -> int:
    """The seed of update `step`: dropout masks and scheduled-sampling coins of each update depend on
    (seed, step) alone, so a resumed run draws exactly what an uninterrupted one would."""
    return (seed * 1_000_003 + step) % (2**63 - 1)


class Trainer:
    """Trains `model` in place. Uses its own random generators (weights are drawn by the caller, see
    `Seq2Seq(cfg, seed=...)`; the data order comes from `random.Random(seed + epoch)`): it never reads or changes
    the global random state or the thread count, so it can run beside other work in one process."""

    def __init__(self, model: Seq2Seq, cfg: TrainConfig, progress: Progress | None = None,
                 distributed: Distributed | None = None):
        """`distributed`: this process is one rank of a torchrun job (see `Distributed.current()`): each rank
        computes its share of every global batch, gradients are averaged by DistributedDataParallel, rank 0's
        validation loss and stop decisions are broadcast, so every rank holds the same Progress."""
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        self.model = model.to(self.device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)  # one kernel for all parameters
        self.progress = progress or Progress()
        self.gen = torch.Generator()  # scheduled-sampling coins (CPU)
        self.dropout_gen = torch.Generator(device=self.device)  # dropout masks, on the model's device
        self.amp = uses_bf16(cfg.precision, self.device)
        self.dist = distributed
        self.loss = _TokenLoss(self.model)
        if distributed:
            self.loss = nn.parallel.DistributedDataParallel(self.loss)

    def _seed_update(self, step: int) -> None:
        seed = update_seed(self.cfg.seed, step)
        self.gen.manual_seed(seed)
        self.dropout_gen.manual_seed((seed + (self.dist.rank if self.dist else 0)) % (2**63 - 1))

    def _update(self, batch: Batch, ratio: float) -> float:
        self.model.train()
        self._seed_update(self.progress.step)
        tokens, weight = batch.n_tokens, 1.0
        if self.dist:
            batch, has_rows = self.dist.rows(batch)
            weight = self.dist.world if has_rows else 0.0
        self.model.dropout_generator = self.dropout_gen
        try:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                scale = weight / tokens
                loss = self.loss(batch.src, batch.src_len, batch.tgt, ratio, self.cfg.label_smoothing, scale,
                                 self.gen)
        finally:
            self.model.dropout_generator = None
        value = loss.item() / (self.dist.world if self.dist else 1)
        if self.dist:
            value = self.dist.total(value, self.device)
        if not math.isfinite(value):
            raise NonFiniteLoss.of("train_loss_not_finite", value=value, step=self.progress.step + 1,
                                   lr=f"{self.cfg.lr:g}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip)
        self.optimizer.step()
        return value

    def check_finite(self) -> None:
        """Raise NonFiniteLoss when any weight is NaN/Inf (checked before every validation, hence every save)."""
        with torch.no_grad():
            if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
                raise NonFiniteLoss.of("train_weights_not_finite", step=self.progress.step, lr=f"{self.cfg.lr:g}")

    def total_steps(self, n_batches: int) -> int:
        total = self.cfg.epochs * n_batches
        return min(total, self.cfg.max_steps) if self.cfg.max_steps else total

    def fit(self, train: list[Example], valid: list[Example], on_event: Callable[[Event], None] = lambda e: None,
            should_stop: Callable[[], bool] = lambda: False) -> Progress:
        """Train until the epochs, step cap, time limit, early stopping or `should_stop` end it.

        Validation runs after every epoch, every `eval_every` updates, and once more at the end when updates
        were made since the last one (so `keep best` sees them). Early stopping counts validations."""
        valid_batches = bucketed_batches(valid, self.cfg.batch_size)
        run = _Run(self, train, valid_batches, on_event, should_stop)
        return run.go()


STOP_REASONS = ("", "stopped", "max steps", "time limit", "early stopping")


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
        reason = self._local_stop_reason()
        if self.t.dist:  # rank 0 decides for everyone (clocks differ between processes)
            code = self.t.dist.broadcast(float(STOP_REASONS.index(reason)), self.t.device)
            reason = STOP_REASONS[int(code)]
        return reason

    def _local_stop_reason(self) -> str:
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
        self.t.check_finite()
        valid_loss = math.nan
        if self.valid and (not self.t.dist or self.t.dist.rank == 0):
            valid_loss = evaluate_loss(self.t.model, self.valid, self.t.device)
        if self.t.dist:
            valid_loss = self.t.dist.broadcast(valid_loss, self.t.device)  # rank 0 validates, all ranks agree
        if self.valid and not math.isfinite(valid_loss):
            raise NonFiniteLoss.of("valid_loss_not_finite", value=valid_loss, step=p.step, lr=f"{self.t.cfg.lr:g}")
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
        for index in range(p.batch, len(batches)):
            batch = batches[index]
            reason = self.stop_reason()
            if reason:
                return reason
            began = time.time()
            ratio = teacher_forcing_ratio(cfg, p.step, self.total)
            self.losses.append(self.t._update(batch.to(self.t.device), ratio))
            self.busy += time.time() - began
            self.tokens += batch.n_tokens
            p.step, p.batch = p.step + 1, p.batch + 1
            if p.step % 20 == 0 or p.step == 1:
                self.event("step")
            if cfg.eval_every and p.step % cfg.eval_every == 0:
                self.validate()
        return ""

    def go(self) -> Progress:
        cfg, p = self.t.cfg, self.t.progress
        reason = ""
        while p.epoch < cfg.epochs and not reason:
            batches = epoch_batches(self.train, cfg.batch_size, cfg.seed + p.epoch)
            self.total = self.t.total_steps(len(batches))
            reason = self.epoch(batches)
            if not reason:
                p.epoch, p.batch = p.epoch + 1, 0
                self.validate()
                self.event("epoch")
                reason = self.stop_reason()
        if not p.history or p.history[-1][0] != p.step:  # updates since the last validation (cut mid-epoch)
            self.validate()
        self.event("done", reason=reason or "epochs done")
        return p
