"""The facade the CLI and the UI use: text in, translations and visualization data out."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from . import checkpoint
from .config import DecodeConfig
from .data import collate, Example
from .decoding import Result, Scored, decode, free_running, score_reference
from .tokenizer import EOS, SOS, Vocab

MAX_SRC_PIECES = 100  # longer inputs are cut (and the caller is told)


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
    def __init__(self, ckpt: checkpoint.Checkpoint, name: str = ""):
        self.ckpt = ckpt
        self.model = ckpt.model.eval()
        self.src_vocab: Vocab = ckpt.src_vocab
        self.tgt_vocab: Vocab = ckpt.tgt_vocab
        self.name = name
        self.device = next(self.model.parameters()).device

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "Translator":
        ckpt = checkpoint.load(path)
        ckpt.model.to(device)
        return cls(ckpt, Path(path).stem)

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

    def translate(self, texts: list[str], cfg: DecodeConfig, prefix: list[int] | None = None,
                  batch_size: int = 64) -> list[Translation]:
        """Translate in batches of similar length, returning results in input order.

        Empty or whitespace-only lines give empty translations without touching the model."""
        sources = [self.source(t) for t in texts]
        out: list[Translation | None] = [None] * len(texts)
        todo = sorted((i for i, s in enumerate(sources) if s.pieces), key=lambda i: len(sources[i].ids))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            batch = self._batch([sources[i] for i in chunk])
            for i, result in zip(chunk, decode(self.model, batch.src, batch.src_len, cfg, prefix)):
                out[i] = Translation(sources[i], result, [self.detok(h.tokens) for h in result.hypotheses])
        for i, t in enumerate(out):
            if t is None:
                out[i] = Translation(sources[i], Result([]), [])
        return out  # type: ignore[return-value]

    def translate_one(self, text: str, cfg: DecodeConfig, prefix: list[int] | None = None) -> Translation:
        return self.translate([text], cfg, prefix)[0]

    def score(self, text: str, reference: str, teacher_forced: bool = True) -> Scored:
        """Step-by-step probabilities of the reference, teacher-forced or free-running."""
        source = self.source(text)
        batch = self._batch([source], [self.target_ids(reference)])
        fn = score_reference if teacher_forced else free_running
        with torch.inference_mode():
            return fn(self.model, batch.src, batch.src_len, batch.tgt)[0]
