"""Training is reproducible and leaves the process alone: seeds, dropout generators, resume, tied embeddings,
the loss, and validation at the end of a run."""
from __future__ import annotations

import math

import pytest
import torch

from s2s import checkpoint
from s2s import model as model_module
from s2s.config import ModelConfig, TokenizerConfig, TrainConfig
from s2s.data import encode_pairs
from s2s.model import Seq2Seq
from s2s.tokenizer import PAD, SOS
from s2s.loss import logits_loss as _loss
from s2s.train import Event, NonFiniteLoss, Trainer

from conftest import TOY_PAIRS

PAIRS = TOY_PAIRS * 3


def _fresh(seed: int, **model_kw) -> checkpoint.Checkpoint:
    kw = dict(emb=16, hidden=32, layers=2, dropout=0.3, attention="bahdanau") | model_kw
    return checkpoint.fresh(PAIRS, TokenizerConfig(src_vocab_size=60, tgt_vocab_size=60), ModelConfig(**kw), seed=seed)


def _train(seed: int, progress=None, ckpt=None, stop_at: int = 0, **cfg_kw) -> checkpoint.Checkpoint:
    ckpt = ckpt or _fresh(seed)
    examples = encode_pairs(PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    cfg = TrainConfig(**(dict(epochs=3, batch_size=8, patience=0, seed=seed, device="cpu", lr=3e-3,
                              teacher_forcing=0.5, schedule="linear") | cfg_kw))
    trainer = Trainer(ckpt.model, cfg, progress)
    if ckpt.optimizer:
        checkpoint.restore_optimizer(trainer.optimizer, ckpt.optimizer, trainer.device)
    trainer.fit(examples, examples[:6], should_stop=lambda: bool(stop_at) and trainer.progress.step >= stop_at)
    ckpt.progress, ckpt.train = trainer.progress, cfg
    ckpt.optimizer_obj = trainer.optimizer
    return ckpt


def _weights(ckpt) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in ckpt.model.named_parameters()}


def _assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [n for n in a if not torch.equal(a[n], b[n])]
    assert not different, different[:3]


def test_same_seed_gives_bit_identical_weights_with_dropout_and_scheduled_sampling():
    _assert_identical(_weights(_train(4)), _weights(_train(4)))


def test_a_different_seed_gives_different_weights():
    a, b = _weights(_train(4)), _weights(_train(5))
    assert any(not torch.equal(a[n], b[n]) for n in a)


def test_training_leaves_global_random_state_and_threads_alone():
    torch.manual_seed(123)
    before, threads = torch.get_rng_state(), torch.get_num_threads()
    _train(2, threads=2)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.get_num_threads() == threads


def test_global_random_state_does_not_change_training():
    torch.manual_seed(1)
    a = _weights(_train(3))
    torch.manual_seed(999)
    torch.rand(1000)
    _assert_identical(a, _weights(_train(3)))


def test_resume_from_a_saved_checkpoint_is_bit_exact(tmp_path):
    """Stop after 7 updates (mid-epoch), save as the CLI's .last does, load, finish: same weights as one run."""
    whole = _weights(_train(6, max_steps=20))
    part = _train(6, max_steps=20, stop_at=7)
    checkpoint.save(tmp_path / "last.s2s", part, optimizer=part.optimizer_obj)
    back = checkpoint.load(tmp_path / "last.s2s")
    assert back.progress.step == 7
    _assert_identical(whole, _weights(_train(6, progress=back.progress, ckpt=back, max_steps=20)))


def test_per_layer_lstm_path_is_the_fused_lstm():
    """With a dropout generator the stacked LSTM runs layer by layer: with the dropout itself switched off it must
    compute exactly what nn.LSTM computes."""
    model = Seq2Seq(ModelConfig(src_vocab=20, tgt_vocab=20, emb=8, hidden=16, layers=3, dropout=0.5), seed=0)
    enc = model.encoder.train()
    enc.gen = torch.Generator().manual_seed(0)
    x, h0 = torch.randn(4, 7, 8), (torch.randn(3, 4, 16), torch.randn(3, 4, 16))
    original = model_module.dropout
    model_module.dropout = lambda x, p, training, gen: x
    try:
        out, (h, c) = enc.lstm(x, h0)
    finally:
        model_module.dropout = original
    enc.rnn.eval()
    ref_out, (ref_h, ref_c) = enc.rnn(x, h0)
    assert torch.allclose(out, ref_out, atol=1e-6) and torch.allclose(h, ref_h, atol=1e-6)
    assert torch.allclose(c, ref_c, atol=1e-6)


def test_dropout_is_drawn_from_the_generator_and_is_active():
    model = Seq2Seq(ModelConfig(src_vocab=20, tgt_vocab=20, emb=8, hidden=16, layers=2, dropout=0.5), seed=0).train()
    src, tgt = torch.randint(4, 20, (3, 6)), torch.randint(4, 20, (3, 5))
    outs = []
    for seed in (1, 1, 2):
        model.dropout_generator = torch.Generator().manual_seed(seed)
        outs.append(model(src, torch.tensor([6, 6, 6]), tgt))
    assert torch.equal(outs[0], outs[1]) and not torch.equal(outs[0], outs[2])


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_generator_dropout_zeroes_a_share_p_and_scales_the_rest(p):
    """Inverted dropout from a generator: about a share p of the entries become 0, the others are x / (1 - p)
    exactly, and the same generator state gives the same mask."""
    x = torch.full((200, 500), 3.0)
    out = model_module.dropout(x, p, True, torch.Generator().manual_seed(7))
    again = model_module.dropout(x, p, True, torch.Generator().manual_seed(7))
    kept = out != 0
    assert torch.equal(out, again)
    assert abs((~kept).float().mean().item() - p) < 0.01  # 100,000 draws: 0.01 is 6-8 standard deviations
    assert torch.equal(out[kept], torch.full_like(out[kept], 3.0 / (1.0 - p)))
    assert torch.equal(model_module.dropout(x, p, False, torch.Generator()), x)


# ------------------------------------------------------------------ tied embeddings

def test_tied_embeddings_share_the_source_only_with_a_joint_vocabulary():
    separate = Seq2Seq(ModelConfig(src_vocab=50, tgt_vocab=50, emb=8, hidden=16, tie_embeddings=True))
    assert separate.encoder.embedding is not separate.decoder.embedding  # same size, different vocabularies
    joint = Seq2Seq(ModelConfig(src_vocab=50, tgt_vocab=50, emb=8, hidden=16, tie_embeddings=True, joint_vocab=True))
    assert joint.encoder.embedding is joint.decoder.embedding


@pytest.mark.parametrize("joint,tie", [(True, True), (False, True), (True, False), (False, False)])
def test_tied_and_untied_models_round_trip(tmp_path, joint, tie):
    tok = TokenizerConfig(src_vocab_size=60, tgt_vocab_size=60, joint=joint)
    ckpt = checkpoint.fresh(PAIRS, tok, ModelConfig(emb=16, hidden=32, layers=1, tie_embeddings=tie), seed=3)
    assert ckpt.model.cfg.joint_vocab == joint
    shared = ckpt.model.encoder.embedding is ckpt.model.decoder.embedding
    assert shared == (joint and tie)
    _train(3, ckpt=ckpt, epochs=1)
    checkpoint.save(tmp_path / "m.s2s", ckpt)
    back = checkpoint.load(tmp_path / "m.s2s")
    assert back.model.cfg == ckpt.model.cfg
    assert (back.model.encoder.embedding is back.model.decoder.embedding) == shared
    _assert_identical(_weights(ckpt), _weights(back))


# ------------------------------------------------------------------ loss and validation

def test_label_smoothing_spreads_mass_over_emittable_tokens_only():
    torch.manual_seed(0)
    logits, gold, eps = torch.randn(5, 9), torch.tensor([4, 5, 3, 8, 6]), 0.2
    logp = logits.log_softmax(-1)
    emittable = [t for t in range(9) if t not in (PAD, SOS)]
    by_hand = sum((1 - eps) * -logp[i, g] + eps * -logp[i, emittable].mean() for i, g in enumerate(gold)) / 5
    assert _loss(logits, gold, eps).item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert _loss(logits, gold, 0.0).item() == pytest.approx(torch.nn.functional.cross_entropy(logits, gold).item())


@pytest.mark.parametrize("cut", [dict(max_steps=7), dict(stop_at=7)])
def test_the_last_updates_are_validated(cut):
    """A run cut mid-epoch (step cap or Stop) validates its final weights before it ends."""
    ckpt = _fresh(1)
    examples = encode_pairs(PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    trainer = Trainer(ckpt.model, TrainConfig(epochs=5, batch_size=8, patience=0, device="cpu",
                                              max_steps=cut.get("max_steps", 0)))
    events: list[Event] = []
    trainer.fit(examples, examples[:6], events.append, should_stop=lambda: trainer.progress.step >= cut.get("stop_at", 99))
    assert trainer.progress.step == 7
    assert trainer.progress.history[-1][0] == 7
    assert [e.kind for e in events][-2:] == ["valid", "done"]
    assert events[-2].step == 7 and math.isfinite(events[-2].valid_loss)


def test_a_diverging_run_stops_with_a_clear_error():
    ckpt = _fresh(1)
    examples = encode_pairs(PAIRS, ckpt.src_vocab, ckpt.tgt_vocab)
    trainer = Trainer(ckpt.model, TrainConfig(epochs=3, batch_size=8, patience=0, device="cpu", lr=1e300))
    events: list[Event] = []
    with pytest.raises(NonFiniteLoss, match="learning rate"):
        trainer.fit(examples, examples[:6], events.append)
    assert not any(e.kind in ("valid", "epoch", "done") for e in events)  # nothing that would save a checkpoint
