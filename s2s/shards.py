"""Pre-tokenised corpora on disk, for corpora that do not fit in memory.

`python -m s2s prepare` streams a parallel corpus (TSV, two aligned files, or a Hugging Face dataset), trains or
reuses the sentencepiece models, encodes it in worker processes and writes token-id shards; `train --data DIR`
reads them through memory maps with a length-bucketed sampler whose state is a few numpy arrays (never one Python
object per sentence).

DIR holds:
    meta.json                   format, tokenizer config, sources, chunk size, pairs per split (written last)
    spm.src.model               sentencepiece models (spm.tgt.model too, unless the vocabulary is joint)
    {split}-{k:05d}.src.bin     uint16 token ids of every source sentence of chunk k, each ending with <eos>
    {split}-{k:05d}.tgt.bin     the same for the targets (y1 .. yn <eos>; <sos> is added when batching)
    {split}-{k:05d}.idx.npy     int64 (n + 1, 2): start of each sentence in the two .bin files, plus the end
A chunk is written to temporary names and renamed, its .idx.npy last, so an interrupted `prepare` resumes at the
first chunk without an index."""
from __future__ import annotations

import csv
import json
import multiprocessing
import os
import random
from dataclasses import dataclass
from pathlib import Path
from collections import deque
from typing import Iterable, Iterator

import numpy as np
import torch

from .config import TokenizerConfig
from .data import Batch, CorpusError, Example, bucket_bounds, decode_line, one_line, tsv_pair
from .tokenizer import EOS, PAD, SOS, Vocab, train_vocabs

FORMAT = "s2s-shards/1"
MAX_PIECES = 100  # per side, as encode_pairs
CHUNK_PAIRS = 100_000  # pairs per shard
VOCAB_SAMPLE = 300_000  # pairs the sentencepiece models are trained on (a seeded reservoir sample)


# ---------------------------------------------------------------- reading sources as a stream of pairs

@dataclass(frozen=True)
class Source:
    """Where the pairs come from: a TSV/CSV file, two aligned files, or a Hugging Face dataset."""

    path: str = ""
    tgt_path: str = ""
    hf_name: str = ""  # datasets.load_dataset(hf_name, hf_config, split=hf_split, streaming=True)
    hf_config: str = ""
    hf_split: str = "train"
    hf_src: str = ""  # field of the source text; dotted for nested fields ("translation.de")
    hf_tgt: str = ""

    def describe(self) -> dict:
        """What identifies this source for a resumed `prepare` (paths, sizes, modification times)."""
        files = {p: _stat(p) for p in (self.path, self.tgt_path) if p}
        return {"files": files, "hf": [self.hf_name, self.hf_config, self.hf_split, self.hf_src, self.hf_tgt]}

    def pairs(self) -> Iterator[tuple[int, str, str]]:
        """(line number, source, target); blank or one-sided pairs are skipped."""
        if self.hf_name:
            rows = _hf_pairs(self)
        elif self.tgt_path:
            rows = _two_files(self.path, self.tgt_path)
        elif self.path.lower().endswith(".csv"):
            rows = _csv_pairs(self.path)
        else:
            rows = _tsv_pairs(self.path)
        for number, src, tgt in rows:
            src, tgt = src.strip(), tgt.strip()
            if src and tgt:
                yield number, src, tgt


@dataclass(frozen=True)
class HeldOut:
    """Every `stride`-th pair of `source` (at most `limit` of them) as validation (`take`), or all the others."""

    source: Source
    stride: int
    limit: int
    take: bool

    def describe(self) -> dict:
        return {**self.source.describe(), "held_out": [self.stride, self.limit, self.take]}

    def pairs(self) -> Iterator[tuple[int, str, str]]:
        for i, row in enumerate(self.source.pairs()):
            held = i % self.stride == self.stride - 1 and i // self.stride < self.limit
            if held == self.take:
                yield row


def hold_out(source: Source, fraction: float = 0.05, limit: int = 2000) -> tuple[HeldOut, HeldOut]:
    """(train, valid) from one source, deterministically, in two streaming passes (one to count the pairs)."""
    total = sum(1 for _ in source.pairs())
    held = min(limit, max(1, round(total * fraction))) if total > 1 else 0
    stride = max(1, total // held) if held else total + 1
    return HeldOut(source, stride, held, False), HeldOut(source, stride, held, True)


def _stat(path: str) -> list:
    st = Path(path).stat()
    return [st.st_size, int(st.st_mtime)]


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """Numbered UTF-8 lines of a file of any size; CRLF, CR-only and LF endings; BOM dropped."""
    if not Path(path).is_file():
        raise CorpusError.of("corpus_not_found", file=path)
    with open(path, "rb") as f:
        number = 0
        for raw in f:
            for part in raw.replace(b"\r\n", b"\n").split(b"\r") if b"\r" in raw else [raw]:
                number += 1
                part = part.rstrip(b"\n")
                yield number, decode_line(part[3:] if number == 1 and part.startswith(b"\xef\xbb\xbf") else part,
                                          path, number)


def _tsv_pairs(path: str) -> Iterator[tuple[int, str, str]]:
    for number, line in _lines(path):
        pair = tsv_pair(line, path, number)
        if pair is not None:
            yield number, *pair


def _csv_pairs(path: str) -> Iterator[tuple[int, str, str]]:
    numbered = _lines(path)
    rows = csv.reader(line for _, line in numbered)
    try:
        header = next(rows, None)
        if header is None or len(header) < 2:
            raise CorpusError.of("corpus_csv_header", file=path, line=1)
        for row in rows:
            if len(row) >= 2:
                yield rows.line_num, one_line(row[0]), one_line(row[1])
            elif any(c.strip() for c in row):
                raise CorpusError.of("corpus_csv_row", file=path, line=rows.line_num)
    except csv.Error as err:
        raise CorpusError.of("corpus_csv_malformed", file=path, line=rows.line_num, reason=str(err)) from None


def _two_files(src: str, tgt: str) -> Iterator[tuple[int, str, str]]:
    a, b = _lines(src), _lines(tgt)
    for number, left in a:
        right = next(b, None)
        if right is None:
            raise CorpusError.of("corpus_fewer_lines", file=tgt, other=src, line=number)
        yield number, left, right[1]
    extra = next(b, None)
    if extra is not None:
        raise CorpusError.of("corpus_more_lines", file=tgt, line=extra[0], other=src)


def _field(row: dict, dotted: str):
    value = row
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(dotted)
        value = value[key]
    return value


def _hf_pairs(source: Source) -> Iterator[tuple[int, str, str]]:
    try:
        import datasets
    except ImportError:
        raise CorpusError.of("corpus_hf_missing", file=source.hf_name) from None
    name = source.hf_name
    try:
        stream = datasets.load_dataset(name, source.hf_config or None, split=source.hf_split, streaming=True)
    except Exception as err:  # the library raises many types (missing, offline, bad config)
        raise CorpusError.of("corpus_hf_open", file=name, reason=str(err).splitlines()[0][:200]) from None
    for number, row in enumerate(stream, 1):
        try:
            src, tgt = _field(row, source.hf_src), _field(row, source.hf_tgt)
        except KeyError as err:
            raise CorpusError.of("corpus_hf_no_field", file=name, line=number, field=repr(err.args[0]),
                                 fields=sorted(row)) from None
        if not isinstance(src, str) or not isinstance(tgt, str):
            raise CorpusError.of("corpus_hf_not_text", file=name, line=number)
        yield number, src, tgt


def chunks(pairs: Iterable[tuple[int, str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    part: list[tuple[str, str]] = []
    for _, src, tgt in pairs:
        part.append((src, tgt))
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def reservoir(pairs: Iterable[tuple[int, str, str]], size: int, seed: int) -> list[tuple[str, str]]:
    """A uniform random sample of at most `size` pairs from a stream, in one pass (Algorithm R)."""
    rng, sample = random.Random(seed), []
    for seen, (_, src, tgt) in enumerate(pairs):
        if seen < size:
            sample.append((src, tgt))
        else:
            j = rng.randint(0, seen)
            if j < size:
                sample[j] = (src, tgt)
    return sample


# ---------------------------------------------------------------- writing shards (in worker processes)

_worker_vocabs: tuple[Vocab, Vocab] | None = None


def _init_worker(src_model: bytes, tgt_model: bytes, src_norm: str, tgt_norm: str) -> None:
    global _worker_vocabs
    torch.set_num_threads(1)  # a worker process of our own: nothing else runs in it
    _worker_vocabs = (Vocab.from_bytes(src_model, src_norm), Vocab.from_bytes(tgt_model, tgt_norm))


def _encode_chunk(job: tuple[str, int, list[tuple[str, str]]]) -> tuple[int, int]:
    folder, index, pairs = job
    src_vocab, tgt_vocab = _worker_vocabs
    src = [src_vocab.encode(s)[:MAX_PIECES] + [EOS] for s, _ in pairs]
    tgt = [tgt_vocab.encode(t)[:MAX_PIECES] + [EOS] for _, t in pairs]
    write_shard(Path(folder), index, src, tgt)
    return index, len(pairs)


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}"


def write_shard(stem_folder: Path, index: int, src: list[list[int]], tgt: list[list[int]]) -> None:
    """Write one chunk atomically: the two token files, then the index (whose presence marks it done)."""
    folder, split = stem_folder.parent, stem_folder.name
    stem = folder / shard_name(split, index)
    offsets = np.zeros((len(src) + 1, 2), dtype=np.int64)
    offsets[1:, 0] = np.cumsum([len(s) for s in src])
    offsets[1:, 1] = np.cumsum([len(t) for t in tgt])
    for side, seqs in (("src", src), ("tgt", tgt)):
        flat = np.fromiter((i for s in seqs for i in s), dtype=np.uint16, count=int(offsets[-1, 0 if side == "src"
                                                                                             else 1]))
        tmp = stem.with_name(stem.name + f".{side}.bin.tmp")
        flat.tofile(tmp)
        os.replace(tmp, stem.with_name(stem.name + f".{side}.bin"))
    tmp = stem.with_name(stem.name + ".idx.tmp.npy")
    np.save(tmp, offsets)
    os.replace(tmp, stem.with_name(stem.name + ".idx.npy"))


def shard_done(folder: Path, split: str, index: int) -> bool:
    return (folder / f"{shard_name(split, index)}.idx.npy").exists()


# ---------------------------------------------------------------- prepare: the whole pipeline

@dataclass
class PrepareReport:
    pairs: dict  # split -> pairs written
    shards: dict  # split -> shards
    skipped: int  # shards already done (a resumed run)
    vocab: tuple[int, int]


def _vocabs(folder: Path, sources: dict[str, Source], tok: TokenizerConfig, vocab_from, seed: int):
    """Reuse DIR's models (a resumed run), take them from --vocab-from, or train them on a sample."""
    src_file, tgt_file = folder / "spm.src.model", folder / "spm.tgt.model"
    if src_file.exists():
        src = Vocab.from_bytes(src_file.read_bytes(), tok.src_normalize)
        tgt = Vocab.from_bytes(tgt_file.read_bytes(), tok.tgt_normalize) if tgt_file.exists() else src
        return src, tgt
    if vocab_from is not None:
        src, tgt = vocab_from
    else:
        src, tgt = train_vocabs(reservoir(sources["train"].pairs(), VOCAB_SAMPLE, seed), tok)
    _atomic_bytes(src_file, src.to_bytes())
    if tgt is not src:
        _atomic_bytes(tgt_file, tgt.to_bytes())
    return src, tgt


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _check_resumable(folder: Path, plan: dict) -> None:
    """A folder with an earlier plan must hold the same preparation; otherwise refuse (nothing is overwritten)."""
    plan_file = folder / "plan.json"
    if plan_file.exists():
        if json.loads(plan_file.read_text()) != plan:
            raise CorpusError.of("corpus_other_plan", file=folder)
    elif any(folder.iterdir()):
        raise CorpusError.of("corpus_not_empty", file=folder)
    else:
        plan_file.write_text(json.dumps(plan, indent=1))


def prepare(folder: str | Path, sources: dict[str, Source], tok: TokenizerConfig, workers: int = 2,
            vocab_from: tuple[Vocab, Vocab] | None = None, seed: int = 1, chunk_pairs: int = CHUNK_PAIRS,
            log=lambda msg: None) -> PrepareReport:
    """Write DIR (see the module docstring); `sources` maps "train" (and optionally "valid") to a Source."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plan = {"format": FORMAT, "tokenizer": tok.to_dict(), "chunk_pairs": chunk_pairs, "seed": seed,
            "sources": {split: s.describe() for split, s in sources.items()}}
    _check_resumable(folder, plan)
    src, tgt = _vocabs(folder, sources, tok, vocab_from, seed)
    log(f"vocabulary: {len(src)} source / {len(tgt)} target pieces")
    args = (src.to_bytes(), tgt.to_bytes(), tok.src_normalize, tok.tgt_normalize)
    ctx = multiprocessing.get_context("fork")
    shards, skipped = {}, 0
    with ctx.Pool(max(1, workers), initializer=_init_worker, initargs=args) as pool:
        for split, source in sources.items():
            shards[split] = 0
            pending: deque = deque()  # at most 2 chunks per worker in flight: memory stays bounded
            for index, part in enumerate(chunks(source.pairs(), chunk_pairs)):
                shards[split] += 1
                if shard_done(folder, split, index):
                    skipped += 1
                    continue
                pending.append(pool.apply_async(_encode_chunk, ((str(folder / split), index, part),)))
                while len(pending) >= 2 * max(1, workers):
                    log(f"{split}: chunk {pending.popleft().get()[0]} written")
            while pending:
                log(f"{split}: chunk {pending.popleft().get()[0]} written")
    counts = {split: _count(folder, split) for split in sources}
    if not counts.get("train"):
        raise CorpusError.of("corpus_no_train_pairs", file=folder)
    meta = {"format": FORMAT, "tokenizer": tok.to_dict(), "pairs": counts, "shards": shards,
            "src_vocab": len(src), "tgt_vocab": len(tgt), "joint": tgt is src}
    _atomic_bytes(folder / "meta.json", json.dumps(meta, indent=1).encode())
    return PrepareReport(counts, shards, skipped, (len(src), len(tgt)))


def _count(folder: Path, split: str) -> int:
    return sum(len(np.load(p, mmap_mode="r")) - 1 for p in sorted(folder.glob(f"{split}-*.idx.npy")))


# ---------------------------------------------------------------- reading shards for training

class ShardedCorpus:
    """One split of a prepared folder, through memory maps. `epoch_batches` gives the batches of an epoch as a lazy
    sequence: a batch's sentences are read from disk only when the batch is used."""

    def __init__(self, folder: str | Path, split: str = "train"):
        self.folder = Path(folder)
        meta = read_meta(self.folder)
        n = meta["shards"].get(split, 0)
        missing = [i for i in range(n) if not shard_done(self.folder, split, i)]
        if missing:
            raise CorpusError.of("corpus_shard_missing", file=self.folder, shard=shard_name(split, missing[0]))
        self.src, self.tgt, starts = [], [], [0]
        src_lens, tgt_lens = [], []
        for i in range(n):
            stem = self.folder / shard_name(split, i)
            idx = np.load(f"{stem}.idx.npy", mmap_mode="r")
            self.src.append(_memmap(f"{stem}.src.bin", int(idx[-1, 0])))
            self.tgt.append(_memmap(f"{stem}.tgt.bin", int(idx[-1, 1])))
            src_lens.append(np.diff(idx[:, 0]).astype(np.uint8))
            tgt_lens.append(np.diff(idx[:, 1]).astype(np.uint8))
            starts.append(starts[-1] + len(idx) - 1)
        self.offsets = [np.load(self.folder / f"{shard_name(split, i)}.idx.npy", mmap_mode="r") for i in range(n)]
        self.starts = np.array(starts, dtype=np.int64)  # first global index of each shard (+ the total)
        self.src_len = np.concatenate(src_lens) if src_lens else np.zeros(0, np.uint8)
        self.tgt_len = np.concatenate(tgt_lens) if tgt_lens else np.zeros(0, np.uint8)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def example(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        shard = int(np.searchsorted(self.starts, i, side="right")) - 1
        local = i - int(self.starts[shard])
        (s0, t0), (s1, t1) = self.offsets[shard][local], self.offsets[shard][local + 1]
        return self.src[shard][s0:s1], self.tgt[shard][t0:t1]

    def examples(self) -> list[Example]:
        """Every pair as Examples (for the small validation split)."""
        out = []
        for i in range(len(self)):
            src, tgt = self.example(i)
            out.append(Example(src.tolist(), [SOS] + tgt.tolist()))
        return out

    def epoch_batches(self, batch_size: int, seed: int) -> "LazyBatches":
        """The epoch's batches in length buckets of both languages (data.bucket_bounds), seeded."""
        order, bounds = bucket_bounds(self.src_len, self.tgt_len, batch_size, np.random.default_rng(seed))
        return LazyBatches(self, order, bounds)


def _memmap(path: str, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=np.uint16)
    if os.path.getsize(path) != 2 * count:
        raise CorpusError.of("corpus_shard_size", file=path, size=os.path.getsize(path), expected=2 * count)
    return np.memmap(path, dtype=np.uint16, mode="r", shape=(count,))


class LazyBatches:
    """The batches of one epoch: len(), and batch i built from the memory maps when asked for."""

    def __init__(self, corpus: ShardedCorpus, order: np.ndarray, bounds: np.ndarray):
        self.corpus, self.order, self.bounds = corpus, order, bounds

    def __len__(self) -> int:
        return len(self.bounds)

    def __getitem__(self, i: int) -> Batch:
        start, end = self.bounds[i]
        pairs = [self.corpus.example(int(j)) for j in self.order[start:end]]
        return _collate(pairs)


def _collate(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Batch:
    width = max(len(s) for s, _ in pairs)
    height = max(len(t) for _, t in pairs) + 1
    src = torch.full((len(pairs), width), PAD, dtype=torch.long)
    tgt = torch.full((len(pairs), height), PAD, dtype=torch.long)
    tgt[:, 0] = SOS
    for row, (s, t) in enumerate(pairs):
        src[row, :len(s)] = torch.from_numpy(s.astype(np.int64))
        tgt[row, 1:len(t) + 1] = torch.from_numpy(t.astype(np.int64))
    lengths = torch.tensor([len(s) for s, _ in pairs])
    return Batch(src, lengths, tgt, sum(len(t) for _, t in pairs))


def read_meta(folder: Path) -> dict:
    path = Path(folder) / "meta.json"
    if not path.is_file():
        raise CorpusError.of("corpus_not_prepared", file=folder)
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CorpusError.of("corpus_meta_json", file=path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("shards"), dict):
        raise CorpusError.of("corpus_meta_format", file=path, format=FORMAT)
    return meta


def read_vocabs(folder: str | Path) -> tuple[Vocab, Vocab, TokenizerConfig]:
    """The sentencepiece models and tokenizer config of a prepared folder."""
    folder = Path(folder)
    meta = read_meta(folder)
    tok = TokenizerConfig.from_dict(meta["tokenizer"])
    src = Vocab.from_bytes((folder / "spm.src.model").read_bytes(), tok.src_normalize)
    tgt_file = folder / "spm.tgt.model"
    tgt = Vocab.from_bytes(tgt_file.read_bytes(), tok.tgt_normalize) if tgt_file.exists() else src
    return src, tgt, tok

