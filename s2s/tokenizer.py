"""Sentencepiece vocabularies: training from text, encoding, decoding, serialised bytes."""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Iterable

import sentencepiece as spm

from .config import TokenizerConfig

PAD, UNK, SOS, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<sos>", "<eos>")


@functools.lru_cache(maxsize=1)
def _opencc():
    import opencc  # imported on first use: only Chinese models need it

    return opencc.OpenCC("t2s")


def normalize(text: str, kind: str) -> str:
    """Apply a text normalization (`none` or `zh-hans`: traditional -> simplified Chinese)."""
    text = text.strip()
    return _opencc().convert(text) if kind == "zh-hans" else text


@dataclass
class Vocab:
    """One sentencepiece model plus the normalization applied before it."""

    sp: spm.SentencePieceProcessor
    norm: str = "none"

    def __len__(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(normalize(text, self.norm))

    def pieces(self, text: str) -> list[str]:
        return self.sp.encode(normalize(text, self.norm), out_type=str)

    def decode(self, ids: Iterable[int]) -> str:
        return self.sp.decode([i for i in ids if i > EOS])

    def id_to_piece(self, i: int) -> str:
        return self.sp.id_to_piece(int(i))

    def coverage(self, texts: Iterable[str]) -> float:
        """Fraction of pieces in `texts` that are not `<unk>`."""
        ids = [i for t in texts for i in self.encode(t)]
        return 1.0 - ids.count(UNK) / len(ids) if ids else 1.0

    def to_bytes(self) -> bytes:
        return self.sp.serialized_model_proto()

    @classmethod
    def from_bytes(cls, data: bytes, norm: str = "none") -> "Vocab":
        sp = spm.SentencePieceProcessor()
        sp.LoadFromSerializedProto(data)
        return cls(sp, norm)


def _train_sp(texts: list[str], size: int, model_type: str) -> bytes:
    """Train a sentencepiece model; `size` is a soft limit so tiny corpora never fail."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=size, model_type=model_type,
        hard_vocab_limit=False, character_coverage=0.9995, pad_id=PAD, unk_id=UNK, bos_id=SOS, eos_id=EOS,
        pad_piece=SPECIALS[0], unk_piece=SPECIALS[1], bos_piece=SPECIALS[2], eos_piece=SPECIALS[3],
        input_sentence_size=2_000_000, shuffle_input_sentence=True, minloglevel=2,
        num_threads=1, train_extremely_large_corpus=False)
    return model.getvalue()


def _fit_size(texts: list[str], size: int) -> int:
    """Shrink the requested size on tiny corpora: BPE cannot make more pieces than the text allows."""
    chars = len({c for t in texts for c in t})
    words = len({w for t in texts for w in t.split()})
    return max(len(SPECIALS) + chars + 1, min(size, len(SPECIALS) + chars + 2 * words))


def train_vocab(texts: list[str], size: int, model_type: str = "bpe", norm: str = "none") -> Vocab:
    """Train one vocabulary of about `size` pieces on normalized `texts`."""
    texts = [normalize(t, norm) for t in texts if t.strip()]
    if not texts:
        raise ValueError("cannot train a vocabulary on empty text")
    size = _fit_size(texts, size)
    try:
        data = _train_sp(texts, size, model_type)
    except RuntimeError:  # sentencepiece still found the size too large: fall back to the smallest safe size
        data = _train_sp(texts, _fit_size(texts, 0), model_type)
    return Vocab.from_bytes(data, norm)


def train_vocabs(pairs: list[tuple[str, str]], cfg: TokenizerConfig) -> tuple[Vocab, Vocab]:
    """Train source and target vocabularies (one shared object when `cfg.joint`)."""
    src = [s for s, _ in pairs]
    tgt = [t for _, t in pairs]
    if cfg.joint:
        joint = train_vocab(src + tgt, cfg.src_vocab_size, cfg.model_type, cfg.src_normalize)
        return joint, joint
    return (train_vocab(src, cfg.src_vocab_size, cfg.model_type, cfg.src_normalize),
            train_vocab(tgt, cfg.tgt_vocab_size, cfg.model_type, cfg.tgt_normalize))
