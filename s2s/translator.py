"""The facade the CLI and the UI use: text in, translations and visualization data out."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch

from . import checkpoint
from .config import DecodeConfig
from .data import collate, Example
from .decoding import Result, Scored, decode, free_running, score_reference
from .packed import for_decoding, resolve
from .tokenizer import EOS, SOS, Vocab

MAX_SRC_PIECES = 100  # longer inputs are cut (and the caller is told)
STREAM_WINDOW = 16  # translate_iter: batches sorted by length together


@dataclass
class Source:
    text: str
    pieces: list[str]  # sentencepiece pieces actually fed (after truncation), without <eos>
    ids: list[int]  # ids fed, with the final <eos>
    truncated: bool  # True when the input was longer than MAX_SRC_PIECES


@dataclass
class Translation:
    source: Source
    result: Result  # hypotheses best first, with per-step data
    texts: list[str]  # detokenized text of each hypothesis

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""


class Translator:
    def __init__(self, ckpt: checkpoint.Checkpoint, name: str = "", precision: str = "fp32"):
        """`precision`: "fp32" (the checkpoint's own weights), "fp16" (x86 CPU with AVX2: the decoder's products on
        fp16 weights, fp32 arithmetic), "bf16" (CPU with native bf16: the encoder and the decoder's LSTM on bf16
        weights, the output layer fp32), "int8" (CPU: every matrix product on int8 weights; all in s2s/packed.py) or
        "auto" (bf16 on a CPU with native bf16, else fp16 where measured faster, else fp32). `ckpt.model` stays
        fp32."""
        self.ckpt = ckpt
        model = ckpt.model.eval()
        self.device = next(model.parameters()).device
        self.precision = resolve(precision, self.device)
        self.model = for_decoding(model, self.precision)
        self.src_vocab: Vocab = ckpt.src_vocab
        self.tgt_vocab: Vocab = ckpt.tgt_vocab
        self.name = name

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", precision: str = "fp32") -> "Translator":
        ckpt = checkpoint.load(path)
        ckpt.model.to(device)
        return cls(ckpt, Path(path).stem, precision)

    @property
    def has_attention(self) -> bool:
        return self.model.cfg.attention != "none"

    def source(self, text: str) -> Source:
        ids = self.src_vocab.encode(text)
        cut = ids[:MAX_SRC_PIECES]
        return Source(text, [self.src_vocab.id_to_piece(i) for i in cut], cut + [EOS], len(ids) > len(cut))

    def target_ids(self, text: str) -> list[int]:
        return [SOS] + self.tgt_vocab.encode(text)[:MAX_SRC_PIECES] + [EOS]

    def piece(self, token: int) -> str:
        return self.tgt_vocab.id_to_piece(token)

    def detok(self, tokens: list[int]) -> str:
        return self.tgt_vocab.decode(t for t in tokens if t != EOS)

    def _batch(self, sources: list[Source], targets: list[list[int]] | None = None):
        examples = [Example(s.ids, t) for s, t in zip(sources, targets or [[SOS, EOS]] * len(sources))]
        return collate(examples).to(self.device)

    def _decoded(self, sources: list[Source], cfg: DecodeConfig, prefix, batch_size: int):
        """Decode the non-empty `sources` in batches of similar length: yields {index: Translation} per batch."""
        todo = sorted((i for i, s in enumerate(sources) if s.pieces), key=lambda i: len(sources[i].ids))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            batch = self._batch([sources[i] for i in chunk])
            results = decode(self.model, batch.src, batch.src_len, cfg, prefix)
            yield {i: Translation(sources[i], r, [self.detok(h.tokens) for h in r.hypotheses])
                   for i, r in zip(chunk, results)}

    def translate(self, texts: list[str], cfg: DecodeConfig, prefix: list[int] | None = None,
                  batch_size: int = 64) -> list[Translation]:
        """Translate in batches of similar length, returning results in input order.

        Empty or whitespace-only lines give empty translations without touching the model."""
        sources = [self.source(t) for t in texts]
        done = {i: Translation(s, Result([]), []) for i, s in enumerate(sources) if not s.pieces}
        for results in self._decoded(sources, cfg, prefix, batch_size):
            done.update(results)
        return [done[i] for i in range(len(texts))]

    def translate_iter(self, texts: list[str], cfg: DecodeConfig, batch_size: int = 64,
                       window: int = STREAM_WINDOW) -> Iterator[Translation]:
        """`translate`, yielding each translation in input order as soon as it and all before it are done.

        Lines are taken `window` batches at a time and batched by length within each window, so output starts
        after the first window at the latest (a long job shows progress, a killed one keeps what it finished)."""
        step = batch_size * window
        for start in range(0, len(texts), step):
            sources = [self.source(t) for t in texts[start:start + step]]
            done = {i: Translation(s, Result([]), []) for i, s in enumerate(sources) if not s.pieces}
            following = 0  # the next index to yield
            for results in itertools.chain([{}], self._decoded(sources, cfg, None, batch_size)):
                done.update(results)
                while following in done:
                    yield done.pop(following)
                    following += 1

    def translate_one(self, text: str, cfg: DecodeConfig, prefix: list[int] | None = None) -> Translation:
        return self.translate([text], cfg, prefix)[0]

    def score(self, text: str, reference: str, teacher_forced: bool = True) -> Scored:
        """Step-by-step probabilities of the reference, teacher-forced or free-running."""
        source = self.source(text)
        batch = self._batch([source], [self.target_ids(reference)])
        fn = score_reference if teacher_forced else free_running
        with torch.inference_mode():
            return fn(self.model, batch.src, batch.src_len, batch.tgt)[0]
