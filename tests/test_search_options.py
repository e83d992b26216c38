"""The decoding lab's options: diverse beam search, n-gram blocking, repetition penalty, min-p."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from s2s.config import ConfigError, DecodeConfig
from s2s.data import collate
from s2s.decoding import (apply_min_p, apply_repetition_penalty, banned_ngram_tokens, decode, greedy_tokens,
                          score_reference)
from s2s.tokenizer import EOS, PAD, SOS

from conftest import reverse_examples


def _batch(n=6, seed=31):
    return collate(reverse_examples(n, seed))


def _ngrams(tokens: list[int], n: int) -> list[tuple]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def test_min_p_keeps_exactly_the_tokens_above_the_threshold():
    torch.manual_seed(0)
    logits = torch.randn(4, 50) * 3
    for min_p in (0.05, 0.2, 0.5):
        probs = logits.softmax(-1)
        kept = apply_min_p(logits, min_p).isfinite()
        assert torch.equal(kept, probs >= min_p * probs.max(-1, keepdim=True).values)
    assert apply_min_p(logits, 0.0) is logits


def test_min_p_sampling_draws_only_kept_tokens_in_proportion(random_model):
    src, src_len = torch.tensor([[5, 6, 7, EOS]]), torch.tensor([4])
    n, min_p = 3000, 0.9
    cfg = DecodeConfig(strategy="sample", n_best=n, seed=2, max_len=1, min_p=min_p)
    firsts = torch.tensor([h.tokens[0] for h in decode(random_model, src, src_len, cfg)[0].hypotheses])
    with torch.inference_mode():
        enc = random_model.encode(src, src_len)
        logits = random_model.step(torch.tensor([SOS]), random_model.init_state(enc), enc).logits[0].double()
    probs = logits.index_fill(0, torch.tensor([PAD, SOS]), -math.inf).softmax(-1)
    keep = probs >= min_p * probs.max()
    counts = torch.bincount(firsts, minlength=30).double()
    assert counts[~keep].sum() == 0
    expected = torch.where(keep, probs, 0.0) / probs[keep].sum()
    assert 0.5 * (counts / n - expected).abs().sum().item() < 0.05


def test_repetition_penalty_on_logits():
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0]])
    out = apply_repetition_penalty(logits, torch.tensor([[0, 1, 1]]), 2.0)
    assert out.tolist() == [[1.0, -2.0, 0.5, 3.0]]  # seen: 2 -> 1 (positive / 2), -1 -> -2 (negative * 2)


def test_greedy_with_repetition_penalty_is_the_penalised_argmax(random_model):
    batch = _batch()
    src = batch.src % 30
    cfg = DecodeConfig(max_len=12, repetition_penalty=3.0, record_top=0)
    got = [r.hypotheses[0].tokens for r in decode(random_model, src, batch.src_len, cfg)]
    for i, tokens in enumerate(got):  # by hand, one sentence at a time, with model.step
        n = int(batch.src_len[i])
        with torch.inference_mode():
            enc = random_model.encode(src[i:i + 1, :n], batch.src_len[i:i + 1])
            state, prev, history = random_model.init_state(enc), torch.tensor([SOS]), []
            for _ in range(12):
                out = random_model.step(prev, state, enc)
                logits = apply_repetition_penalty(out.logits.float(), torch.tensor([history], dtype=torch.long), 3.0)
                prev, state = greedy_tokens(logits), out.state
                history.append(int(prev))
                if history[-1] == EOS:
                    break
        assert tokens == history


def test_banned_ngrams():
    history = torch.tensor([[4, 5, 6, 4, 5], [7, 7, 7, 8, 9]])
    banned = banned_ngram_tokens(history, 3, 12)
    assert banned[0].nonzero().flatten().tolist() == [6]  # "4 5" was followed by 6
    assert banned[1].nonzero().flatten().tolist() == []  # "8 9" never occurred before
    assert banned_ngram_tokens(torch.tensor([[4, EOS, 4]]), 2, 12)[0, EOS].item() is False  # <eos> stays allowed


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_never_emits_a_repeated_ngram(random_model, strategy, n):
    with torch.no_grad():  # a model that likes two tokens: left alone it repeats n-grams of them
        random_model.decoder.out.bias[4:6] += 3.0
    batch = _batch(8, 5)
    cfg = DecodeConfig(strategy=strategy, max_len=20, no_repeat_ngram=n, beam_size=4, n_best=4 if strategy != "greedy"
                       else 1, seed=3, temperature=1.5)
    plain = decode(random_model, batch.src % 30, batch.src_len, dataclasses.replace(cfg, no_repeat_ngram=0))
    assert any(len(set(_ngrams(h.tokens, n))) < len(_ngrams(h.tokens, n))
               for r in plain for h in r.hypotheses)  # without blocking this model repeats itself
    for result in decode(random_model, batch.src % 30, batch.src_len, cfg):
        for hyp in result.hypotheses:
            grams = _ngrams(hyp.tokens, n)
            assert len(grams) == len(set(grams)), hyp.tokens


def test_diverse_beam_with_one_group_is_beam_search(reverse_model):
    batch = _batch(8, 2)
    plain = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(strategy="beam", beam_size=4, n_best=4))
    one = decode(reverse_model, batch.src, batch.src_len,
                 DecodeConfig(strategy="beam", beam_size=4, n_best=4, beam_groups=1, diversity_penalty=5.0))
    for a, b in zip(plain, one):
        assert [h.tokens for h in a.hypotheses] == [h.tokens for h in b.hypotheses]
        assert [h.score for h in a.hypotheses] == [h.score for h in b.hypotheses]


def _first_step_groups(result) -> dict[int, set[int]]:
    step = result.beam_tree[0]
    out: dict[int, set[int]] = {}
    for token, status, group in zip(step.tokens, step.status, step.groups):
        if status == "kept":
            out.setdefault(group, set()).add(token)
    return out


def test_diversity_penalty_makes_groups_choose_different_tokens(random_model):
    batch = _batch(4, 9)
    src = batch.src % 30
    diverse = DecodeConfig(strategy="beam", beam_size=6, n_best=6, beam_groups=3, diversity_penalty=50.0)
    for result in decode(random_model, src, batch.src_len, diverse):
        kept = _first_step_groups(result)
        assert sorted(kept) == [0, 1, 2]
        assert not (kept[0] & kept[1]) and not (kept[2] & (kept[0] | kept[1]))
    same = DecodeConfig(strategy="beam", beam_size=6, n_best=6, beam_groups=3, diversity_penalty=0.0)
    for result in decode(random_model, src, batch.src_len, same):
        kept = _first_step_groups(result)
        assert kept[0] == kept[1] == kept[2]  # without the penalty every group makes the same choice


@pytest.mark.parametrize("options", [dict(repetition_penalty=2.0), dict(no_repeat_ngram=2),
                                     dict(beam_groups=2, diversity_penalty=3.0)])
def test_beam_options_report_the_model_log_probability(random_model, options):
    src, src_len = torch.tensor([[5, 6, 7, 8, EOS]]), torch.tensor([5])
    cfg = DecodeConfig(strategy="beam", beam_size=4, n_best=4, max_len=10, **options)
    for hyp in decode(random_model, src, src_len, cfg)[0].hypotheses:
        tgt = torch.tensor([[SOS] + hyp.tokens + [PAD]])
        by_hand = sum(score_reference(random_model, src, src_len, tgt)[0].gold_logprobs)
        assert hyp.logprob == pytest.approx(by_hand, abs=1e-4)


@pytest.mark.parametrize("kwargs", [{"min_p": 1.0}, {"min_p": -0.1}, {"repetition_penalty": 0.5},
                                    {"no_repeat_ngram": -1}, {"beam_size": 5, "beam_groups": 2},
                                    {"diversity_penalty": -1.0}])
def test_option_ranges(kwargs):
    with pytest.raises(ConfigError):
        DecodeConfig(**kwargs)


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_min_len_fixes_the_output_length(reverse_model, strategy):
    """min_len = max_len = 9: every hypothesis has exactly 9 pieces and none of them is <eos> (the length-controlled
    decoding of the speed benchmark)."""
    batch = _batch(5, 4)
    cfg = DecodeConfig(strategy=strategy, min_len=9, max_len=9, beam_size=3, n_best=2, seed=1)
    for result in decode(reverse_model, batch.src, batch.src_len, cfg):
        for hyp in result.hypotheses:
            assert len(hyp.tokens) == 9 and EOS not in hyp.tokens
    free = decode(reverse_model, batch.src, batch.src_len, DecodeConfig(strategy=strategy, max_len=9, seed=1))
    assert any(len(r.hypotheses[0].tokens) < 9 for r in free)  # without it, the model ends sooner


@pytest.mark.parametrize("penalty", [0.0, 1.0])
def test_diverse_beam_returns_distinct_hypotheses(reverse_model, penalty):
    """Groups that make the same choices (penalty 0, or the shared first step) must not fill the n-best list with
    copies of one hypothesis (e.g. the empty one every group can finish at step 1)."""
    batch = _batch(6, 12)
    cfg = DecodeConfig(strategy="beam", beam_size=6, n_best=6, beam_groups=3, diversity_penalty=penalty, max_len=12)
    for result in decode(reverse_model, batch.src, batch.src_len, cfg):
        tokens = [tuple(h.tokens) for h in result.hypotheses]
        assert len(tokens) == len(set(tokens)) == 6
