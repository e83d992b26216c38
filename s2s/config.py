"""Frozen, validated configuration dataclasses for the model, decoding and training."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from .messages import Keyed

ATTENTION_KINDS = ("none", "luong", "bahdanau")
STRATEGIES = ("greedy", "beam", "sample")
SCHEDULES = ("constant", "linear", "exponential", "inverse-sigmoid")
DEVICES = ("auto", "cpu", "cuda")
NORMALIZERS = ("none", "zh-hans")
PRECISIONS = ("auto", "bf16", "fp32")


class ConfigError(Keyed, ValueError):
    """A configuration value is out of range; the message names the field (a key of s2s/messages.py)."""


# Upper bounds: a checkpoint or flag past these is refused before anything is allocated. They are far above
# what a playground model needs (the shipped ones: vocab 6000-8000, emb 256, hidden 512, 2 layers).
MAX_VOCAB = 64_000
MAX_EMB = 2048
MAX_HIDDEN = 4096
MAX_LAYERS = 8
MAX_BEAM = 64
MAX_N_BEST = 64
MAX_SAMPLES = 4096  # samples of one sentence drawn together (the library; the CLI and UI cap lower)
MAX_DECODE_LEN = 400
MAX_SEED = 2**63 - 1


def _require(ok: bool, key: str, **values) -> None:
    if not ok:
        raise ConfigError.of(key, **values)


class _Serializable:
    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class TokenizerConfig(_Serializable):
    src_vocab_size: int = 8000  # sentencepiece pieces on the source side (a soft limit on tiny corpora)
    tgt_vocab_size: int = 8000  # target side; ignored when joint
    joint: bool = False  # one vocabulary for both sides (allows tied embeddings)
    model_type: str = "bpe"  # sentencepiece algorithm: bpe or unigram
    src_normalize: str = "none"  # "zh-hans": convert traditional Chinese to simplified first
    tgt_normalize: str = "none"

    def __post_init__(self):
        _require(self.src_vocab_size >= 8, "cfg_src_vocab_size", value=self.src_vocab_size)
        _require(self.tgt_vocab_size >= 8, "cfg_tgt_vocab_size", value=self.tgt_vocab_size)
        _require(self.model_type in ("bpe", "unigram"), "cfg_model_type", value=repr(self.model_type))
        for name in ("src_normalize", "tgt_normalize"):
            value = getattr(self, name)
            _require(value in NORMALIZERS, "cfg_normalize", name=name, choices=NORMALIZERS, value=repr(value))


@dataclass(frozen=True)
class ModelConfig(_Serializable):
    src_vocab: int = 8000  # source vocabulary size (set from the tokenizer)
    tgt_vocab: int = 8000  # target vocabulary size (set from the tokenizer)
    emb: int = 256  # embedding size
    hidden: int = 512  # LSTM hidden size, encoder and decoder alike
    layers: int = 2  # LSTM layers, encoder and decoder alike
    dropout: float = 0.2  # dropout on embeddings, between LSTM layers and before the output layer
    attention: str = "none"  # none (the classic context-vector model) | luong | bahdanau
    tie_embeddings: bool = False  # share the target embedding with the output layer (and with the source
    # embedding too when joint_vocab: the two sides then use one vocabulary, the same ids for the same pieces)
    joint_vocab: bool = False  # source and target share one sentencepiece vocabulary

    def __post_init__(self):
        limits = {"src_vocab": MAX_VOCAB, "tgt_vocab": MAX_VOCAB, "emb": MAX_EMB, "hidden": MAX_HIDDEN,
                  "layers": MAX_LAYERS}
        for name, top in limits.items():
            value = getattr(self, name)
            _require(isinstance(value, int) and not isinstance(value, bool),
                     "cfg_integer", name=name, value=repr(value))
            _require(1 <= value <= top, "cfg_size_range", name=name, top=top, value=value)
        for name in ("tie_embeddings", "joint_vocab"):
            value = getattr(self, name)
            _require(isinstance(value, bool), "cfg_bool", name=name, value=repr(value))
        _require(isinstance(self.dropout, (int, float)) and not isinstance(self.dropout, bool),
                 "cfg_dropout_number", value=repr(self.dropout))
        _require(not self.joint_vocab or self.src_vocab == self.tgt_vocab,
                 "cfg_joint_sizes", src=self.src_vocab, tgt=self.tgt_vocab)
        _require(0.0 <= self.dropout < 1.0, "cfg_dropout", value=self.dropout)
        _require(self.attention in ATTENTION_KINDS,
                 "cfg_attention", choices=ATTENTION_KINDS, value=repr(self.attention))


@dataclass(frozen=True)
class DecodeConfig(_Serializable):
    strategy: str = "greedy"  # greedy | beam | sample
    beam_size: int = 5  # beam width K
    n_best: int = 1  # hypotheses returned per sentence (beam: <= K; sample: number of samples)
    length_penalty: float = 1.0  # GNMT alpha: score / ((5 + len) / 6) ** alpha; 0 = raw log-probability
    temperature: float = 1.0  # sampling temperature, > 0
    top_k: int = 0  # sample only among the k most likely tokens; 0 = all
    top_p: float = 1.0  # nucleus sampling mass in (0, 1]; 1 = all
    seed: int | None = None  # sampling seed; None = nondeterministic
    max_len: int = 50  # maximum target pieces before stopping
    min_len: int = 0  # <eos> is not allowed before this many target pieces (min_len = max_len: fixed length)
    record_top: int = 10  # candidates recorded per step for visualization; 0 = text only (no top-k, entropy,
    # attention or beam tree: the fast path for batch translation)
    min_p: float = 0.0  # sampling: keep tokens with p >= min_p * p_max (Nguyen et al. 2024); 0 = off
    repetition_penalty: float = 1.0  # every strategy: logits of tokens already in the hypothesis are divided by it
    # (multiplied when negative; Keskar et al. 2019); 1 = off
    no_repeat_ngram: int = 0  # every strategy: never produce an n-gram the hypothesis already holds; 0 = off
    beam_groups: int = 1  # diverse beam search (Vijayakumar et al. 2016): the K beams in this many groups of K/G
    diversity_penalty: float = 0.0  # subtracted from a token's log-probability once per earlier group that chose it
    # at the same step (Hamming diversity); only with beam_groups > 1

    def __post_init__(self):
        _require(self.strategy in STRATEGIES, "cfg_strategy", choices=STRATEGIES, value=repr(self.strategy))
        _require(1 <= self.beam_size <= MAX_BEAM, "cfg_beam_size", top=MAX_BEAM, value=self.beam_size)
        most = MAX_SAMPLES if self.strategy == "sample" else MAX_N_BEST
        _require(1 <= self.n_best <= most, "cfg_n_best", top=most, value=self.n_best)
        _require(self.seed is None or 0 <= self.seed <= MAX_SEED, "cfg_seed", top=MAX_SEED, value=self.seed)
        _require(math.isfinite(self.length_penalty) and math.isfinite(self.temperature), "cfg_finite")
        _require(self.strategy != "beam" or self.n_best <= self.beam_size,
                 "cfg_n_best_beam", n=self.n_best, k=self.beam_size)
        _require(self.length_penalty >= 0, "cfg_length_penalty", value=self.length_penalty)
        _require(self.temperature > 0, "cfg_temperature", value=self.temperature)
        _require(self.top_k >= 0, "cfg_top_k", value=self.top_k)
        _require(0 < self.top_p <= 1, "cfg_top_p", value=self.top_p)
        _require(0 <= self.min_len <= self.max_len, "cfg_min_len", value=self.min_len)
        _require(1 <= self.max_len <= MAX_DECODE_LEN, "cfg_max_len", top=MAX_DECODE_LEN, value=self.max_len)
        _require(self.record_top >= 0, "cfg_record_top", value=self.record_top)
        _require(0.0 <= self.min_p < 1.0, "cfg_min_p", value=self.min_p)
        _require(1.0 <= self.repetition_penalty <= 10.0, "cfg_repetition_penalty", value=self.repetition_penalty)
        _require(0 <= self.no_repeat_ngram <= 10, "cfg_no_repeat_ngram", value=self.no_repeat_ngram)
        _require(1 <= self.beam_groups <= self.beam_size and self.beam_size % self.beam_groups == 0,
                 "cfg_beam_groups", k=self.beam_size, value=self.beam_groups)
        _require(0.0 <= self.diversity_penalty <= 100.0, "cfg_diversity_penalty", value=self.diversity_penalty)


@dataclass(frozen=True)
class TrainConfig(_Serializable):
    epochs: int = 10  # passes over the training data
    max_steps: int = 0  # stop after this many updates; 0 = no limit
    batch_size: int = 64  # sentences per batch
    lr: float = 1e-3  # Adam learning rate
    clip: float = 1.0  # gradient norm clipping
    label_smoothing: float = 0.0  # cross-entropy label smoothing epsilon
    teacher_forcing: float = 1.0  # probability of feeding the gold token (final value for decaying schedules)
    schedule: str = "constant"  # teacher-forcing schedule: constant | linear | exponential | inverse-sigmoid
    schedule_k: float = 0.0  # decay speed; 0 picks a value that reaches the floor near the end of training
    patience: int = 3  # early stopping: epochs without validation improvement; 0 = never stop early
    eval_every: int = 0  # validate every N updates as well as every epoch; 0 = per epoch only
    time_limit: float = 0.0  # seconds; 0 = no limit
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 1  # random seed for init, batching and scheduled sampling
    threads: int = 0  # CPU threads; 0 = torch default
    precision: str = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU | bf16: also on CPUs with native bf16 (AMX or
    # AVX512-BF16; fp32 where there is none) | fp32

    def __post_init__(self):
        _require(self.epochs >= 1, "cfg_epochs", value=self.epochs)
        _require(self.max_steps >= 0, "cfg_max_steps", value=self.max_steps)
        _require(self.batch_size >= 1, "cfg_batch_size", value=self.batch_size)
        _require(self.lr > 0, "cfg_lr", value=self.lr)
        _require(self.clip > 0, "cfg_clip", value=self.clip)
        _require(0 <= self.label_smoothing < 1, "cfg_label_smoothing", value=self.label_smoothing)
        _require(0 <= self.teacher_forcing <= 1, "cfg_teacher_forcing", value=self.teacher_forcing)
        _require(self.schedule in SCHEDULES, "cfg_schedule", choices=SCHEDULES, value=repr(self.schedule))
        _require(self.schedule_k >= 0, "cfg_schedule_k", value=self.schedule_k)
        _require(self.schedule != "exponential" or self.schedule_k < 1, "cfg_exponential_k", value=self.schedule_k)
        _require(self.schedule != "inverse-sigmoid" or self.schedule_k == 0 or 1 <= self.schedule_k <= 1e6,
                 "cfg_inverse_sigmoid_k", value=self.schedule_k)
        _require(self.schedule in ("exponential", "inverse-sigmoid") or self.schedule_k == 0,
                 "cfg_schedule_k_unused", schedule=self.schedule)
        _require(math.isfinite(self.lr), "cfg_lr_finite", value=self.lr)
        _require(self.patience >= 0, "cfg_patience", value=self.patience)
        _require(self.time_limit >= 0, "cfg_time_limit", value=self.time_limit)
        _require(self.device in DEVICES, "cfg_device", choices=DEVICES, value=repr(self.device))
        _require(self.precision in PRECISIONS, "cfg_precision", choices=PRECISIONS, value=repr(self.precision))
