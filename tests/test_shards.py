"""Pre-tokenised shards: `prepare` writes exactly what encode_pairs would give, resumes after an interruption,
refuses to mix preparations; the memory-mapped sampler covers every pair once per epoch in length buckets."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from s2s.config import TokenizerConfig
from s2s.data import CorpusError, encode_pairs
from s2s.shards import ShardedCorpus, Source, hold_out, prepare, read_vocabs
from s2s.train import Trainer
from s2s.config import ModelConfig, TrainConfig
from s2s.model import Seq2Seq

WORDS = "the a red green blue cat dog bird sees likes runs house small big old new".split()
TOK = TokenizerConfig(src_vocab_size=60, tgt_vocab_size=60)


def _pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 9))]
        out.append((" ".join(words), " ".join(reversed(words)).upper()))
    return out


def _tsv(path: Path, pairs, newline: str = "\n") -> Path:
    path.write_bytes(("\ufeff" + "".join(f"{s}\t{t}{newline}" for s, t in pairs)).encode())
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "plan.json"}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_prepared_pairs_are_what_encode_pairs_gives(tmp_path, newline):
    pairs = _pairs(530)
    source = Source(str(_tsv(tmp_path / "c.tsv", pairs, newline)))
    report = prepare(tmp_path / "out", {"train": source}, TOK, workers=2, chunk_pairs=100)
    assert report.pairs == {"train": 530} and report.shards == {"train": 6}
    src, tgt, tok = read_vocabs(tmp_path / "out")
    assert tok == TOK
    expected = encode_pairs(pairs, src, tgt)
    got = ShardedCorpus(tmp_path / "out").examples()
    assert [(e.src, e.tgt) for e in got] == [(e.src, e.tgt) for e in expected]


def test_two_files_and_held_out_validation(tmp_path):
    pairs = _pairs(400, 1)
    (tmp_path / "a.src").write_text("".join(s + "\n" for s, _ in pairs))
    (tmp_path / "a.tgt").write_text("".join(t + "\n" for _, t in pairs))
    train, valid = hold_out(Source(str(tmp_path / "a.src"), str(tmp_path / "a.tgt")), fraction=0.05)
    report = prepare(tmp_path / "out", {"train": train, "valid": valid}, TOK, workers=1, chunk_pairs=64)
    assert report.pairs == {"train": 380, "valid": 20}
    src, tgt, _ = read_vocabs(tmp_path / "out")
    held = [pairs[i] for i in range(len(pairs)) if i % 20 == 19]
    assert [e.src for e in ShardedCorpus(tmp_path / "out", "valid").examples()] == \
        [e.src for e in encode_pairs(held, src, tgt)]


def test_an_interrupted_prepare_resumes_to_the_same_files(tmp_path):
    source = Source(str(_tsv(tmp_path / "c.tsv", _pairs(700, 2))))
    prepare(tmp_path / "clean", {"train": source}, TOK, workers=2, chunk_pairs=100)
    partial = tmp_path / "partial"
    prepare(partial, {"train": source}, TOK, workers=2, chunk_pairs=100)
    for name in ("train-00003.idx.npy", "train-00005.idx.npy", "meta.json"):  # as if killed before these
        (partial / name).unlink()
    (partial / "train-00005.src.bin").write_bytes(b"half")
    report = prepare(partial, {"train": source}, TOK, workers=2, chunk_pairs=100)
    assert report.skipped == 5
    assert _files(partial) == _files(tmp_path / "clean")


def test_a_folder_with_another_preparation_is_refused(tmp_path):
    source = Source(str(_tsv(tmp_path / "c.tsv", _pairs(50))))
    prepare(tmp_path / "out", {"train": source}, TOK, workers=1)
    with pytest.raises(CorpusError, match="different preparation"):
        prepare(tmp_path / "out", {"train": source}, TokenizerConfig(src_vocab_size=40), workers=1)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(CorpusError, match="not empty"):
        prepare(tmp_path / "other", {"train": source}, TOK, workers=1)


def test_bad_lines_name_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"a\tb\nc\td\nno tab here\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:3: no TAB"):
        prepare(tmp_path / "out", {"train": Source(str(path))}, TOK, workers=1)
    path.write_bytes(b"a\tb\n\xff\xfe\tx\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:2: not valid UTF-8"):
        prepare(tmp_path / "out2", {"train": Source(str(path))}, TOK, workers=1)


def test_a_missing_shard_is_reported(tmp_path):
    source = Source(str(_tsv(tmp_path / "c.tsv", _pairs(300))))
    prepare(tmp_path / "out", {"train": source}, TOK, workers=1, chunk_pairs=100)
    (tmp_path / "out" / "train-00001.idx.npy").unlink()
    with pytest.raises(CorpusError, match="train-00001 is missing"):
        ShardedCorpus(tmp_path / "out")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> ShardedCorpus:
    folder = tmp_path_factory.mktemp("shards")
    source = Source(str(_tsv(folder / "c.tsv", _pairs(2000, 3))))
    prepare(folder / "out", {"train": source}, TOK, workers=2, chunk_pairs=300)
    return ShardedCorpus(folder / "out")


def test_an_epoch_covers_every_pair_once_in_length_buckets(corpus):
    batches = corpus.epoch_batches(32, seed=5)
    seen = np.concatenate([batches.order[a:b] for a, b in batches.bounds])
    assert sorted(seen.tolist()) == list(range(len(corpus)))
    assert all(b - a <= 32 for a, b in batches.bounds)
    padding = sum(int((batches[i].src == 0).sum()) for i in range(len(batches)))
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(len(corpus))
    random_padding = sum(int(corpus.src_len[shuffled[i:i + 32]].max()) * len(shuffled[i:i + 32])
                         - int(corpus.src_len[shuffled[i:i + 32]].sum()) for i in range(0, len(corpus), 32))
    assert padding < random_padding / 3  # buckets: far less padding than random batches


def test_the_sampler_is_seeded(corpus):
    a, b, c = corpus.epoch_batches(32, 1), corpus.epoch_batches(32, 1), corpus.epoch_batches(32, 2)
    assert np.array_equal(a.order, b.order) and np.array_equal(a.bounds, b.bounds)
    assert not np.array_equal(a.order, c.order)


def test_batches_match_the_stored_pairs(corpus):
    batches = corpus.epoch_batches(16, 3)
    batch = batches[7]
    a, b = batches.bounds[7]
    for row, i in enumerate(batches.order[a:b]):
        src, tgt = corpus.example(int(i))
        assert batch.src[row, :len(src)].tolist() == src.tolist()
        assert batch.tgt[row, 1:len(tgt) + 1].tolist() == tgt.tolist() and batch.tgt[row, 0] == 2
    assert batch.n_tokens == int((batch.tgt[:, 1:] != 0).sum())


def test_training_reads_the_shards(corpus):
    model = Seq2Seq(ModelConfig(src_vocab=60, tgt_vocab=60, emb=16, hidden=32, layers=1), seed=0)
    trainer = Trainer(model, TrainConfig(epochs=1, max_steps=10, batch_size=32, patience=0, device="cpu"))
    trainer.fit(corpus, corpus.examples()[:20])
    assert trainer.progress.step == 10 and trainer.progress.batch == 10


def test_a_hugging_face_dataset_offline(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    pairs = _pairs(120, 4)
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps({"translation": {"de": s, "en": t}}) + "\n"
                                                for s, t in pairs))
    source = Source(hf_name=str(folder), hf_split="train", hf_src="translation.de", hf_tgt="translation.en")
    report = prepare(tmp_path / "out", {"train": source}, TOK, workers=1)
    assert report.pairs == {"train": 120}
    src, tgt, _ = read_vocabs(tmp_path / "out")
    assert [e.tgt for e in ShardedCorpus(tmp_path / "out").examples()] == [e.tgt for e in encode_pairs(pairs, src, tgt)]
    bad = Source(hf_name=str(folder), hf_split="train", hf_src="translation.fr", hf_tgt="translation.en")
    with pytest.raises(CorpusError, match="no field 'translation.fr'"):
        prepare(tmp_path / "out2", {"train": bad}, TOK, workers=1)


def _cli(*args: str) -> "subprocess.CompletedProcess":
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-m", "s2s", *args], cwd=root, capture_output=True, text=True, timeout=300)


def test_prepare_then_train_from_the_folder_through_the_cli(tmp_path):
    corpus = _tsv(tmp_path / "c.tsv", _pairs(400, 7))
    done = _cli("prepare", "--train", str(corpus), "--out", str(tmp_path / "d"), "--vocab-size", "60",
                "--workers", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pairs"] == {"train": 380, "valid": 20} and report["pairs_per_sec"] > 0
    out = tmp_path / "m.s2s"
    done = _cli("train", "--data", str(tmp_path / "d"), "--out", str(out), "--emb", "16", "--hidden", "32",
                "--layers", "1", "--batch-size", "16", "--max-steps", "12", "--patience", "0")
    assert done.returncode == 0, done.stderr
    from s2s import checkpoint
    ckpt = checkpoint.load(out)
    src, tgt, _ = read_vocabs(tmp_path / "d")
    assert ckpt.progress.step == 12 and ckpt.src_vocab.to_bytes() == src.to_bytes()
    assert "train 380 pairs, valid 20" in done.stderr


@pytest.mark.parametrize("args,message", [
    (("train", "--data", "NOPE", "--train", "x.tsv", "--out", "m.s2s"), "either --train"),
    (("train", "--data", "NOPE", "--out", "m.s2s"), "not a prepared corpus"),
    (("prepare", "--out", "d"), "either --train"),
    (("prepare", "--hf-dataset", "x", "--out", "d"), "--hf-src"),
])
def test_cli_misuse_is_one_line_and_exit_2(tmp_path, args, message):
    done = _cli(*[str(tmp_path / a) if a in ("NOPE", "m.s2s", "d", "x.tsv") else a for a in args])
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
