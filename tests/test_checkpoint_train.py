"""Checkpoints, the training loop, schedules, resume, and the learning test."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from s2s import checkpoint
from s2s.config import TrainConfig
from s2s.data import collate, encode_pairs
from s2s.decoding import decode, greedy_tokens
from s2s.config import DecodeConfig
from s2s.train import Trainer, scheduled_sampling_loss, teacher_forced_loss
from s2s.tokenizer import PAD

from conftest import TOY_PAIRS, reverse_examples, train_reverse


def _logits(ckpt):
    batch = collate(encode_pairs(TOY_PAIRS[:5], ckpt.src_vocab, ckpt.tgt_vocab))
    with torch.no_grad():
        return ckpt.model(batch.src, batch.src_len, batch.tgt[:, :-1])


def test_round_trip_gives_identical_logits(toy_checkpoint, tmp_path):
    ckpt = checkpoint.load(toy_checkpoint)
    copy = tmp_path / "copy.s2s"
    checkpoint.save(copy, ckpt)
    again = checkpoint.load(copy)
    assert torch.equal(_logits(ckpt), _logits(again))
    assert again.src_vocab.encode("red cat") == ckpt.src_vocab.encode("red cat")
    assert [p.name for p in tmp_path.iterdir()] == ["copy.s2s"]  # no temporary file left behind


def test_half_precision_checkpoint_is_close_and_smaller(toy_checkpoint, tmp_path):
    ckpt = checkpoint.load(toy_checkpoint)
    checkpoint.save(tmp_path / "half.s2s", ckpt, half=True)
    half = checkpoint.load(tmp_path / "half.s2s")
    assert torch.allclose(_logits(ckpt), _logits(half), atol=2e-2)
    assert (tmp_path / "half.s2s").stat().st_size < toy_checkpoint.stat().st_size


@pytest.mark.parametrize("content, message", [
    (b"", "not a safetensors checkpoint"),
    (b"\x80\x04\x95 a pickle is never loaded", "not a safetensors checkpoint"),
])
def test_corrupt_checkpoint(tmp_path, content, message):
    path = tmp_path / "bad.s2s"
    path.write_bytes(content)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        checkpoint.load(path)


def test_truncated_checkpoint(toy_checkpoint, tmp_path):
    path = tmp_path / "cut.s2s"
    path.write_bytes(toy_checkpoint.read_bytes()[:5000])
    with pytest.raises(checkpoint.CheckpointError, match="cut.s2s"):
        checkpoint.load(path)


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(checkpoint.CheckpointError, match="not a Seq2Seq Playground checkpoint"):
        checkpoint.load(path)


def test_learning_the_reverse_task_classic():
    """The classic context-vector model learns to reverse short sequences through the real training loop."""
    model = train_reverse("none", steps=400, seed=1)
    batch = collate(reverse_examples(100, 99))
    results = decode(model, batch.src, batch.src_len, DecodeConfig())
    gold = [[t for t in row[1:] if t != PAD] for row in batch.tgt.tolist()]
    exact = sum(r.hypotheses[0].tokens == g for r, g in zip(results, gold)) / len(gold)
    assert exact >= 0.8


def test_scheduled_sampling_at_ratio_one_is_teacher_forcing(random_model):
    batch = collate(reverse_examples(8, 2))
    random_model.train()
    gen = torch.Generator().manual_seed(0)
    a = scheduled_sampling_loss(random_model, batch, 1.0, 0.0, gen)
    b = teacher_forced_loss(random_model, batch)
    assert a.item() == pytest.approx(b.item(), rel=1e-5)
    # at ratio 0 every input is the model's own previous argmax: the loss of the gold tokens given that prefix
    own = scheduled_sampling_loss(random_model, batch, 0.0, 0.0, gen)
    with torch.no_grad():
        inputs = batch.tgt[:, :1]
        for _ in range(batch.tgt.size(1) - 2):
            logits = random_model(batch.src, batch.src_len, inputs)
            inputs = torch.cat([batch.tgt[:, :1], greedy_tokens(logits.flatten(0, 1)).view(logits.shape[:2])], 1)
        logits = random_model(batch.src, batch.src_len, inputs)
        gold = batch.tgt[:, 1:]
        expected = torch.nn.functional.cross_entropy(logits[gold != PAD], gold[gold != PAD])
    assert own.item() == pytest.approx(expected.item(), rel=1e-5)


def test_stop_hook_time_limit_and_events(random_model):
    events = []
    trainer = Trainer(random_model, TrainConfig(epochs=50, batch_size=8, patience=0, device="cpu"))
    examples = [e for e in reverse_examples(64, 3)]
    for e in examples:
        e.src = [t % 30 for t in e.src]
    trainer.fit(examples, examples[:8], events.append, should_stop=lambda: trainer.progress.step >= 12)
    assert trainer.progress.step == 12
    assert events[-1].kind == "done" and events[-1].reason == "stopped"
    assert any(e.kind == "valid" for e in events)


def test_resume_continues_where_it_stopped(toy_checkpoint, tmp_path):
    ckpt = checkpoint.load(toy_checkpoint)
    examples = encode_pairs(TOY_PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    trainer = Trainer(ckpt.model, TrainConfig(max_steps=5, epochs=10, batch_size=8, patience=0, device="cpu"))
    trainer.fit(examples, examples[:4])
    ckpt.progress = trainer.progress
    checkpoint.save(tmp_path / "last.s2s", ckpt, optimizer=trainer.optimizer)
    back = checkpoint.load(tmp_path / "last.s2s")
    assert back.progress.step == 5 and back.optimizer
    resumed = Trainer(back.model, TrainConfig(max_steps=9, epochs=10, batch_size=8, patience=0, device="cpu"),
                      back.progress)
    checkpoint.restore_optimizer(resumed.optimizer, back.optimizer, resumed.device)
    first = next(iter(resumed.optimizer.state.values()))
    assert float(first["step"]) == 5.0
    resumed.fit(examples, examples[:4])
    assert resumed.progress.step == 9


def test_core_imports_no_ui_library():
    code = ("import sys, s2s, s2s.__main__, s2s.translator, s2s.evaluate, s2s.train, s2s.decoding;"
            "bad = [m for m in ('gradio', 'plotly') if m in sys.modules]; print(json.dumps(bad))")
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
