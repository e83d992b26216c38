"""Shared fixtures: tiny seeded models, trained for seconds through the real training loop."""
from __future__ import annotations

import os
import random

import pytest
import torch

from s2s import checkpoint
from s2s.config import ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import Example
from s2s.model import Seq2Seq
from s2s.tokenizer import EOS, SOS, train_vocab
from s2s.train import Trainer

torch.set_num_threads(1)

SYMBOLS = list(range(4, 14))  # ids of a toy 14-token vocabulary (0-3 are the specials)


def reverse_examples(n: int, seed: int, low: int = 2, high: int = 6) -> list[Example]:
    """The reverse task: source a b c -> target c b a."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        seq = [rng.choice(SYMBOLS) for _ in range(rng.randint(low, high))]
        out.append(Example(seq + [EOS], [SOS] + seq[::-1] + [EOS]))
    return out


def train_reverse(attention: str, steps: int, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    cfg = ModelConfig(src_vocab=14, tgt_vocab=14, emb=32, hidden=64, layers=1, dropout=0.0, attention=attention)
    model = Seq2Seq(cfg)
    trainer = Trainer(model, TrainConfig(epochs=100, max_steps=steps, batch_size=32, lr=1e-2, patience=0, seed=seed,
                                         device="cpu"))
    trainer.fit(reverse_examples(2000, seed), reverse_examples(64, seed + 1))
    return model.eval()


@pytest.fixture(scope="session")
def reverse_model() -> Seq2Seq:
    """A small attention model trained on the reverse task (a few seconds)."""
    return train_reverse("luong", steps=250)


@pytest.fixture()
def random_model() -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(ModelConfig(src_vocab=30, tgt_vocab=30, emb=8, hidden=16, layers=2, dropout=0.0,
                               attention="bahdanau")).eval()


TOY_PAIRS = [(f"{a} {b}", f"{b} {a}") for a in ("red", "green", "blue", "black", "white", "small")
             for b in ("cat", "dog", "bird", "fish", "house", "car")]


@pytest.fixture(scope="session")
def toy_checkpoint(tmp_path_factory):
    """A saved word-swap model with real sentencepiece vocabularies, trained briefly."""
    path = tmp_path_factory.mktemp("ckpt") / "toy.s2s"
    torch.manual_seed(0)
    ckpt = checkpoint.fresh(TOY_PAIRS, TokenizerConfig(src_vocab_size=60, tgt_vocab_size=60),
                            ModelConfig(emb=16, hidden=32, layers=1, dropout=0.0, attention="luong"))
    from s2s.data import encode_pairs
    examples = encode_pairs(TOY_PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    Trainer(ckpt.model, TrainConfig(max_steps=150, epochs=200, batch_size=12, lr=1e-2, patience=0, device="cpu")).fit(
        examples, examples[:6])
    ckpt.model.eval()
    checkpoint.save(path, ckpt)
    return path


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    """Tiny zh-en checkpoints (tests/ui_fixtures.py) as the app's shipped models, for one test module."""
    from ui_fixtures import make_tiny_checkpoints

    folder = tmp_path_factory.mktemp("ckpts")
    make_tiny_checkpoints(folder)
    old = os.environ.get("S2S_CHECKPOINTS_DIR")
    os.environ["S2S_CHECKPOINTS_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("S2S_CHECKPOINTS_DIR", None)
    else:
        os.environ["S2S_CHECKPOINTS_DIR"] = old


@pytest.fixture(scope="session")
def toy_vocab():
    return train_vocab([s for s, _ in TOY_PAIRS], 40)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium for one browser test module (tests/browser_harness.py)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from browser_harness import chromium

    with chromium(playwright_api) as b:
        yield b
