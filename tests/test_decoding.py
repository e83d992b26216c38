"""Properties of the search strategies on tiny seeded models."""
from __future__ import annotations

import math

import pytest
import torch

from s2s.config import ConfigError, DecodeConfig
from s2s.decoding import apply_temperature, apply_top_k, apply_top_p, decode, mean_nll, score_reference
from s2s.data import collate
from s2s.tokenizer import EOS, PAD, SOS
from s2s.train import teacher_forced_loss

from conftest import reverse_examples


def _batch(n: int = 8, seed: int = 5):
    return collate(reverse_examples(n, seed))


def _tokens(results):
    return [r.hypotheses[0].tokens for r in results]


def test_reverse_model_has_learned(reverse_model):
    batch = _batch(32, 11)
    results = decode(reverse_model, batch.src, batch.src_len, DecodeConfig())
    gold = [[t for t in row if t not in (PAD, SOS)] for row in batch.tgt.tolist()]
    assert sum(h == g for h, g in zip(_tokens(results), gold)) / len(gold) >= 0.6


@pytest.mark.parametrize("model_name", ["reverse_model", "random_model"])
def test_beam_of_one_equals_greedy(model_name, request):
    model = request.getfixturevalue(model_name)
    batch = _batch()
    src, src_len = batch.src % model.cfg.src_vocab, batch.src_len
    greedy = decode(model, src, src_len, DecodeConfig(max_len=12))
    beam = decode(model, src, src_len, DecodeConfig(strategy="beam", beam_size=1, max_len=12, length_penalty=0))
    assert _tokens(greedy) == _tokens(beam)
    for g, b in zip(greedy, beam):
        assert b.hypotheses[0].logprob == pytest.approx(g.hypotheses[0].logprob, abs=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_scores_sorted_and_finished(reverse_model, alpha):
    """(A narrow beam is not guaranteed to beat greedy; exact search is, see test_search_properties.py.)"""
    batch = _batch(16, 3)
    cfg = DecodeConfig(strategy="beam", beam_size=5, n_best=5, length_penalty=alpha)
    beam = decode(reverse_model, batch.src, batch.src_len, cfg)
    for b in beam:
        scores = [h.score for h in b.hypotheses]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        assert b.hypotheses[0].tokens[-1] == EOS


def test_beam_hypothesis_records_are_consistent(reverse_model):
    batch = _batch(4, 9)
    results = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(strategy="beam", beam_size=4, n_best=4,
                                                                          length_penalty=0))
    for r in results:
        for h in r.hypotheses:
            assert [s.token for s in h.steps] == h.tokens
            assert h.score == pytest.approx(sum(s.logprob for s in h.steps), abs=1e-4)
            assert len(h.beam_path) == len(h.tokens)
            assert all(abs(sum(s.attention) - 1) < 1e-4 for s in h.steps)
        tree = r.beam_tree
        assert tree and all(st.status.count("kept") <= 4 for st in tree)
        assert {"kept", "pruned"} <= {s for st in tree for s in st.status}


def test_beam_tokens_rescore_to_their_logprobs(reverse_model):
    """Feeding a beam hypothesis back through teacher forcing gives the same per-token log-probabilities."""
    batch = _batch(1, 21)
    hyp = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(strategy="beam", beam_size=3))[0].hypotheses[0]
    tgt = torch.tensor([[SOS] + hyp.tokens])
    scored = score_reference(reverse_model, batch.src, batch.src_len, tgt)[0]
    assert scored.gold_logprobs == pytest.approx([s.logprob for s in hyp.steps], abs=1e-4)


@pytest.mark.parametrize("strategy,prefix", [("greedy", None), ("beam", None), ("beam", [7]), ("sample", None)])
def test_text_only_decoding_finds_the_same_hypotheses(reverse_model, strategy, prefix):
    batch = _batch(8, 6)
    cfg = dict(strategy=strategy, n_best=2, seed=3) if strategy != "greedy" else {}
    full = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(**cfg), prefix)
    fast = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(record_top=0, **cfg), prefix)
    for f, q in zip(full, fast):
        assert [h.tokens for h in q.hypotheses] == [h.tokens for h in f.hypotheses]
        assert [h.logprob for h in q.hypotheses] == pytest.approx([h.logprob for h in f.hypotheses], abs=1e-5)
        assert q.beam_tree is None
        for s in (s for h in q.hypotheses for s in h.steps):
            assert s.top_ids == [] and s.attention is None and math.isnan(s.entropy)


def test_sampling_at_low_temperature_equals_greedy(reverse_model):
    batch = _batch()
    greedy = decode(reverse_model, batch.src, batch.src_len, DecodeConfig())
    cold = decode(reverse_model, batch.src, batch.src_len,
                  DecodeConfig(strategy="sample", temperature=1e-4, n_best=3, seed=1))
    for g, c in zip(greedy, cold):
        assert all(h.tokens == g.hypotheses[0].tokens for h in c.hypotheses)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampled_frequencies_match_softmax(random_model, temperature):
    src, src_len = torch.tensor([[5, 6, 7, EOS]]), torch.tensor([4])
    n = 4000
    cfg = DecodeConfig(strategy="sample", temperature=temperature, n_best=n, seed=3, max_len=1)
    results = decode(random_model, src, src_len, cfg)
    counts = torch.bincount(torch.tensor([h.tokens[0] for h in results[0].hypotheses]), minlength=30).float()
    with torch.inference_mode():
        enc = random_model.encode(src, src_len)
        logits = random_model.step(torch.tensor([SOS]), random_model.init_state(enc), enc).logits[0].clone()
    logits = logits.index_fill(0, torch.tensor([PAD, SOS]), float("-inf"))
    expected = torch.softmax(logits / temperature, -1)
    assert 0.5 * (counts / n - expected).abs().sum().item() < 0.05  # total variation distance


def test_same_seed_same_sample(reverse_model):
    batch = _batch(4)
    cfg = DecodeConfig(strategy="sample", temperature=1.5, n_best=4, seed=7)
    a = decode(reverse_model, batch.src, batch.src_len, cfg)
    b = decode(reverse_model, batch.src, batch.src_len, cfg)
    assert [[h.tokens for h in r.hypotheses] for r in a] == [[h.tokens for h in r.hypotheses] for r in b]


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_forced_prefix_is_kept(reverse_model, strategy):
    batch = _batch(3)
    prefix = [9, 4]
    cfg = DecodeConfig(strategy=strategy, beam_size=3, n_best=2, seed=0)
    for r in decode(reverse_model, batch.src, batch.src_len, cfg, prefix=prefix):
        for h in r.hypotheses:
            assert h.tokens[:2] == prefix and [s.token for s in h.steps[:2]] == prefix
            assert len(h.steps) == len(h.tokens)


def test_teacher_forced_scoring_equals_training_loss(reverse_model):
    batch = _batch(16, 4)
    scored = score_reference(reverse_model, batch.src, batch.src_len, batch.tgt)
    with torch.no_grad():
        loss = teacher_forced_loss(reverse_model, batch).item()
    assert mean_nll(scored) == pytest.approx(loss, rel=1e-5)


def test_step_by_step_equals_whole_sequence(random_model):
    batch = _batch(4)
    src = batch.src % 30
    tgt = batch.tgt % 30
    with torch.no_grad():
        full = random_model(src, batch.src_len, tgt)
        enc = random_model.encode(src, batch.src_len)
        state, steps = random_model.init_state(enc), []
        for t in range(tgt.size(1)):
            out = random_model.step(tgt[:, t], state, enc)
            steps.append(out.logits)
            state = out.state
    assert torch.allclose(torch.stack(steps, 1), full, atol=1e-5)


def test_step_records_are_distributions(reverse_model):
    batch = _batch(2)
    h = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(record_top=5))[0].hypotheses[0]
    for s in h.steps:
        assert len(s.top_ids) == 5 and s.top_probs == sorted(s.top_probs, reverse=True)
        assert s.token == s.top_ids[0]  # greedy picks the most likely
        assert 0 <= s.entropy <= math.log(14) + 1e-4


def test_logits_processors_are_pure():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    before = logits.clone()
    assert torch.equal(apply_top_k(logits, 2).isfinite(), torch.tensor([[False, True, True, False]]))
    # softmax: [0.087, 0.644, 0.237, 0.032]; top-p keeps the smallest prefix whose mass reaches p
    assert torch.equal(apply_top_p(logits, 0.5).isfinite(), torch.tensor([[False, True, False, False]]))
    assert torch.equal(apply_top_p(logits, 0.7).isfinite(), torch.tensor([[False, True, True, False]]))
    assert apply_top_p(logits, 1.0) is logits
    assert torch.allclose(apply_temperature(logits, 2.0), logits / 2)
    assert torch.equal(logits, before)
    with pytest.raises(ValueError):
        apply_temperature(logits, 0.0)


@pytest.mark.parametrize("kwargs", [{"beam_size": 0}, {"temperature": 0}, {"temperature": -1}, {"top_p": 0},
                                    {"top_p": 1.5}, {"top_k": -1}, {"max_len": 0}, {"strategy": "nope"},
                                    {"strategy": "beam", "beam_size": 2, "n_best": 3}])
def test_decode_config_rejects_nonsense(kwargs):
    with pytest.raises(ConfigError):
        DecodeConfig(**kwargs)


def test_first_best_takes_the_first_of_tied_maxima_as_argmax_does():
    from s2s.decoding import first_best

    scores = torch.tensor([[0.0, 2.0, 2.0, 1.0], [3.0, 3.0, 3.0, 3.0], [-1.0, -5.0, -1.0, -2.0]])
    assert first_best(scores).tolist() == [1, 0, 0] == scores.argmax(-1).tolist()
    wide = torch.randn(64, 8000, generator=torch.Generator().manual_seed(0))
    wide[:, 7000] = wide[:, 100] = 10.0  # a tie far apart in every row
    assert first_best(wide).tolist() == [100] * 64


@pytest.mark.parametrize("groups,prefix", [(1, None), (2, None), (1, [5])])
def test_beam_first_step_runs_once_per_sentence(reverse_model, monkeypatch, groups, prefix):
    """At the first search step the k rows of a sentence hold the same prefix: the model steps once per sentence and
    the result serves all k rows; the hypotheses, their log-probs and the visualization records are those of
    stepping all k rows (diverse groups and forced prefixes too)."""
    from s2s import decoding

    b = collate(reverse_examples(3, 11, low=3, high=6))
    cfg = DecodeConfig(strategy="beam", beam_size=4, n_best=4, beam_groups=groups, diversity_penalty=0.5,
                       record_top=3)
    rows, step = [], reverse_model.step

    def counted(prev, state, enc):
        rows.append(prev.size(0))
        return step(prev, state, enc)

    monkeypatch.setattr(reverse_model, "step", counted)
    shared = decode(reverse_model, b.src, b.src_len, cfg, prefix=prefix)
    first = len(prefix or [])  # forced steps run on every row (before the search)
    assert rows[first] == 3 and rows[first + 1] == 12
    monkeypatch.setattr(decoding, "_first_step", lambda model, prev, state, enc, k: model.step(prev, state, enc))
    every = decode(reverse_model, b.src, b.src_len, cfg, prefix=prefix)
    for s, e in zip(shared, every, strict=True):
        assert [h.tokens for h in s.hypotheses] == [h.tokens for h in e.hypotheses]
        assert [h.logprob for h in s.hypotheses] == pytest.approx([h.logprob for h in e.hypotheses], abs=1e-5)
        assert [[st.top_ids for st in h.steps] for h in s.hypotheses] == \
            [[st.top_ids for st in h.steps] for h in e.hypotheses]
        for hs, he in zip(s.hypotheses, e.hypotheses):  # an attention model: every step has its weights
            assert [a for st in hs.steps for a in st.attention] == \
                pytest.approx([a for st in he.steps for a in st.attention], abs=1e-6)
