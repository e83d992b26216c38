"""Search against ground truth: brute-force enumeration, per-sentence decoding, hand-computed scores,
exact sampling distributions, and the one greedy choice shared by greedy search, free running and training."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from s2s.config import DecodeConfig, ModelConfig
from s2s.data import collate
from s2s.decoding import decode, free_running, length_penalty, score_reference
from s2s.model import Seq2Seq
from s2s.tokenizer import EOS, PAD, SOS

from conftest import reverse_examples

EMITTABLE = [1, EOS, 4, 5]  # a 6-token vocabulary: <pad> 0, <unk> 1, <sos> 2, <eos> 3, and two symbols


def _tiny(seed: int) -> Seq2Seq:
    cfg = ModelConfig(src_vocab=6, tgt_vocab=6, emb=4, hidden=8, layers=1, dropout=0.0, attention="luong")
    return Seq2Seq(cfg, seed=seed).eval()


def _sequence_logprob(model, src, src_len, tokens: list[int]) -> float:
    tgt = torch.tensor([[SOS] + tokens])
    return sum(score_reference(model, src, src_len, torch.cat([tgt, torch.tensor([[PAD]])], 1))[0].gold_logprobs)


def _brute_force_best(model, src, src_len, max_len: int, alpha: float) -> tuple[list[int], float]:
    """Every hypothesis beam search can return: <eos>-terminated up to max_len tokens, or cut at max_len."""
    candidates = []
    for n in range(max_len):
        candidates += [list(p) + [EOS] for p in itertools.product([1, 4, 5], repeat=n)]
    candidates += [list(p) for p in itertools.product([1, 4, 5], repeat=max_len)]
    scored = [(_sequence_logprob(model, src, src_len, c) / length_penalty(len(c), alpha), c) for c in candidates]
    score, best = max(scored)
    return best, score


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_finds_the_exact_best_sequence(seed, alpha):
    model = _tiny(seed)
    src, src_len = torch.tensor([[4, 5, 4, EOS]]), torch.tensor([4])
    best, score = _brute_force_best(model, src, src_len, max_len=4, alpha=alpha)
    cfg = DecodeConfig(strategy="beam", beam_size=40, max_len=4, length_penalty=alpha)
    hyp = decode(model, src, src_len, cfg)[0].hypotheses[0]
    assert hyp.tokens == best
    assert hyp.score == pytest.approx(score, abs=1e-4)
    greedy = decode(model, src, src_len, DecodeConfig(max_len=4))[0].hypotheses[0]
    assert hyp.score >= greedy.logprob / length_penalty(len(greedy.tokens), alpha) - 1e-5  # exact search >= greedy


@pytest.mark.parametrize("prefix", [None, [5, 4]])
def test_batched_beam_search_equals_one_sentence_at_a_time(random_model, prefix):
    batch = collate(reverse_examples(12, 21))
    src = batch.src % 30
    cfg = DecodeConfig(strategy="beam", beam_size=3, n_best=3, max_len=10)
    together = decode(random_model, src, batch.src_len, cfg, prefix=prefix)
    for i, result in enumerate(together):
        n = int(batch.src_len[i])
        alone = decode(random_model, src[i:i + 1, :n], batch.src_len[i:i + 1], cfg, prefix=prefix)[0]
        assert [h.tokens for h in result.hypotheses] == [h.tokens for h in alone.hypotheses]
        assert [h.score for h in result.hypotheses] == pytest.approx([h.score for h in alone.hypotheses], abs=1e-4)


@pytest.mark.parametrize("prefix", [None, [7], [7, 9]])
def test_length_penalty_counts_the_whole_hypothesis(random_model, prefix):
    """score = log p(all tokens, prefix and <eos> included) / ((5 + number of those tokens) / 6) ** alpha."""
    src, src_len = torch.tensor([[5, 6, 7, 8, EOS]]), torch.tensor([5])
    alpha = 1.0
    cfg = DecodeConfig(strategy="beam", beam_size=4, n_best=4, max_len=12, length_penalty=alpha)
    for hyp in decode(random_model, src, src_len, cfg, prefix=prefix)[0].hypotheses:
        assert hyp.tokens[:len(prefix or [])] == (prefix or [])
        by_hand = _sequence_logprob(random_model, src, src_len, hyp.tokens)
        assert hyp.logprob == pytest.approx(by_hand, abs=1e-4)
        assert hyp.score == pytest.approx(by_hand / ((5 + len(hyp.tokens)) / 6) ** alpha, abs=1e-4)


def _biased_towards_specials(model: Seq2Seq) -> Seq2Seq:
    """Make <pad> and <sos> the unmasked argmax everywhere: only a masked argmax avoids them."""
    with torch.no_grad():
        model.decoder.out.bias[PAD] += 40.0
        model.decoder.out.bias[SOS] += 30.0
    return model


@pytest.mark.parametrize("model_name", ["reverse_model", "random_model"])
def test_free_running_is_greedy_search(model_name, request):
    model = request.getfixturevalue(model_name)
    if model_name == "random_model":
        model = _biased_towards_specials(model)
    batch = collate(reverse_examples(16, 8))
    src = batch.src % model.cfg.src_vocab
    greedy = decode(model, src, batch.src_len, DecodeConfig(max_len=20))
    free = free_running(model, src, batch.src_len, batch.tgt)
    for g, f in zip(greedy, free):
        n = min(len(g.hypotheses[0].tokens), len(f.gold))
        assert f.choices[:n] == g.hypotheses[0].tokens[:n]
        assert PAD not in f.choices and SOS not in f.choices


def test_scoring_choices_never_pick_specials(random_model):
    model = _biased_towards_specials(random_model)
    batch = collate(reverse_examples(6, 4))
    scored = score_reference(model, batch.src % 30, batch.src_len, batch.tgt % 30)
    assert all(PAD not in s.choices and SOS not in s.choices for s in scored)


def test_a_seed_reproduces_a_sentence_whatever_its_batch(reverse_model):
    batch = collate(reverse_examples(5, 13))
    cfg = DecodeConfig(strategy="sample", temperature=1.5, n_best=4, seed=11, max_len=12)
    together = decode(reverse_model, batch.src, batch.src_len, cfg)
    for i in (0, 2, 4):
        n = int(batch.src_len[i])
        alone = decode(reverse_model, batch.src[i:i + 1, :n], batch.src_len[i:i + 1], cfg)[0]
        assert [h.tokens for h in together[i].hypotheses] == [h.tokens for h in alone.hypotheses]
    reordered = decode(reverse_model, batch.src.flip(0), batch.src_len.flip(0), cfg)
    assert [h.tokens for h in reordered[-1].hypotheses] == [h.tokens for h in together[0].hypotheses]


@pytest.mark.parametrize("top_k,top_p", [(3, 1.0), (0, 0.6), (5, 0.8)])
def test_top_k_top_p_sampling_frequencies(random_model, top_k, top_p):
    """First-token frequencies match the renormalised truncated distribution (total variation < 0.05;
    with 4,000 draws its expected value here is about 0.01)."""
    src, src_len = torch.tensor([[5, 6, 7, EOS]]), torch.tensor([4])
    n = 4000
    cfg = DecodeConfig(strategy="sample", n_best=n, seed=5, max_len=1, top_k=top_k, top_p=top_p, temperature=0.7)
    hyps = decode(random_model, src, src_len, cfg)[0].hypotheses
    counts = torch.bincount(torch.tensor([h.tokens[0] for h in hyps]), minlength=30).double()
    with torch.inference_mode():
        enc = random_model.encode(src, src_len)
        logits = random_model.step(torch.tensor([SOS]), random_model.init_state(enc), enc).logits[0].double()
    probs = torch.softmax(logits.index_fill(0, torch.tensor([PAD, SOS]), -math.inf) / 0.7, -1)
    order = probs.argsort(descending=True)[:top_k or 30]  # the definition, written out: first top-k ...
    in_k = probs[order] / probs[order].sum()  # ... then the nucleus of the renormalised top-k (as HF does)
    keep = torch.zeros(30, dtype=torch.bool)
    kept_mass = 0.0
    for token, p in zip(order.tolist(), in_k.tolist()):
        if kept_mass >= top_p:
            break
        keep[token], kept_mass = True, kept_mass + p
    expected = torch.where(keep, probs, 0.0)
    expected /= expected.sum()
    assert counts[~keep].sum() == 0
    assert 0.5 * (counts / n - expected).abs().sum().item() < 0.05
