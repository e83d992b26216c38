"""The device matrix: what matters runs on the CPU and, where CUDA is present, on the GPU (skipped otherwise).

scripts/gpu_check.sh runs this file on a GPU machine, plus CPU-vs-GPU token identity and a timed epoch."""
from __future__ import annotations

import pytest
import torch

from s2s import checkpoint
from s2s.config import DecodeConfig, ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import collate, encode_pairs
from s2s.decoding import decode, free_running, score_reference
from s2s.train import Trainer
from s2s.translator import Translator

from conftest import TOY_PAIRS

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]
PAIRS = TOY_PAIRS * 2


def _ckpt(attention: str, seed: int = 0) -> checkpoint.Checkpoint:
    cfg = ModelConfig(emb=16, hidden=32, layers=2, dropout=0.2, attention=attention)
    return checkpoint.fresh(PAIRS, TokenizerConfig(src_vocab_size=60, tgt_vocab_size=60), cfg, seed=seed)


def _fit(ckpt, device: str, **kw) -> Trainer:
    examples = encode_pairs(PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    cfg = TrainConfig(**(dict(epochs=1, max_steps=6, batch_size=8, patience=0, device=device, lr=1e-2) | kw))
    trainer = Trainer(ckpt.model, cfg)
    trainer.fit(examples, examples[:8])
    return trainer


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("attention,schedule", [("none", "constant"), ("luong", "constant"),
                                                ("bahdanau", "constant"), ("none", "linear")])
def test_training_steps(device, attention, schedule):
    ckpt = _ckpt(attention)
    before = [p.detach().cpu().clone() for p in ckpt.model.parameters()]
    trainer = _fit(ckpt, device, schedule=schedule, teacher_forcing=0.5 if schedule != "constant" else 1.0)
    assert trainer.progress.step == 6
    params = list(ckpt.model.parameters())
    assert all(p.device.type == device for p in params)
    assert all(bool(torch.isfinite(p).all()) for p in params)
    assert any(not torch.equal(b, p.detach().cpu()) for b, p in zip(before, params))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_decoding_with_every_strategy(device, strategy):
    ckpt = _ckpt("luong")
    _fit(ckpt, "cpu", max_steps=30, epochs=5)
    translator = Translator(ckpt)
    cpu = translator.translate([s for s, _ in TOY_PAIRS[:6]], DecodeConfig(strategy=strategy, n_best=2, seed=4))
    ckpt.model.to(device)
    on_device = Translator(ckpt).translate([s for s, _ in TOY_PAIRS[:6]], DecodeConfig(strategy=strategy, n_best=2,
                                                                                        seed=4))
    assert [t.texts for t in on_device] == [t.texts for t in cpu]
    assert all(t.result.hypotheses[0].steps[0].top_ids for t in on_device)  # visualisation records present


@pytest.mark.parametrize("device", DEVICES)
def test_scoring_and_free_running(device):
    ckpt = _ckpt("bahdanau")
    ckpt.model.to(device).eval()
    batch = collate(encode_pairs(PAIRS[:5], ckpt.src_vocab, ckpt.tgt_vocab)).to(device)
    scored = score_reference(ckpt.model, batch.src, batch.src_len, batch.tgt)
    free = free_running(ckpt.model, batch.src, batch.src_len, batch.tgt)
    greedy = decode(ckpt.model, batch.src, batch.src_len, DecodeConfig(max_len=30))
    assert [len(s.gold) for s in scored] == [len(f.gold) for f in free]
    for g, f in zip(greedy, free):
        n = min(len(g.hypotheses[0].tokens), len(f.gold))
        assert f.choices[:n] == g.hypotheses[0].tokens[:n]


@pytest.mark.parametrize("device", DEVICES)
def test_save_and_load_after_training_on_the_device(device, tmp_path):
    ckpt = _ckpt("luong")
    trainer = _fit(ckpt, device)
    ckpt.progress = trainer.progress
    checkpoint.save(tmp_path / "m.last.s2s", ckpt, optimizer=trainer.optimizer)
    back = checkpoint.load(tmp_path / "m.last.s2s")
    for (name, a), b in zip(ckpt.model.named_parameters(), back.model.parameters()):
        assert torch.equal(a.detach().cpu(), b), name
    resumed = Trainer(back.model, TrainConfig(epochs=1, max_steps=8, batch_size=8, patience=0, device=device),
                      back.progress)
    checkpoint.restore_optimizer(resumed.optimizer, back.optimizer, resumed.device)
    resumed.fit(encode_pairs(PAIRS, back.src_vocab, back.tgt_vocab), [])
    assert resumed.progress.step == 8


def test_bf16_is_used_only_where_it_is_native(monkeypatch):
    from s2s import train as train_module

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: False)
    assert not train_module.uses_bf16("bf16", cpu) and not train_module.uses_bf16("auto", cpu)
    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: True)
    assert train_module.uses_bf16("bf16", cpu) and not train_module.uses_bf16("auto", cpu)
    assert not train_module.uses_bf16("fp32", cpu)
    assert train_module.uses_bf16("auto", cuda) and not train_module.uses_bf16("fp32", cuda)


@pytest.mark.skipif(not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()),
                    reason="oneDNN has no bf16 LSTM on this CPU, native or emulated (AVX2 only: training runs fp32)")
def test_bf16_autocast_training_steps_on_the_cpu(monkeypatch):
    """The bf16 path runs (emulated where the CPU lacks native bf16 but has AVX-512) and moves the weights."""
    from s2s import train as train_module

    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: True)
    ckpt = _ckpt("luong")
    before = [p.detach().clone() for p in ckpt.model.parameters()]
    trainer = _fit(ckpt, "cpu", precision="bf16", schedule="linear", teacher_forcing=0.5)
    assert trainer.amp and trainer.progress.step == 6
    assert all(bool(torch.isfinite(p).all()) for p in ckpt.model.parameters())
    assert any(not torch.equal(b, p) for b, p in zip(before, ckpt.model.parameters()))
