"""Search strategies over `Seq2Seq.init_state` / `step`: greedy, beam, sampling, forced prefixes, scoring.

All are batched over sentences (and beams), run without gradients, and return `Hypothesis` objects that carry
what the UI draws: tokens, per-token log-probabilities, the top candidates of every step, attention, beam trees.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field

import torch

from .config import DecodeConfig
from .model import Encoded, Seq2Seq, State, StepOutput, select_state
from .tokenizer import EOS, PAD, SOS


@dataclass
class Step:
    """One decoding step of one hypothesis."""

    token: int  # the token chosen (or forced) at this step
    logprob: float  # its log-probability under the model (temperature 1)
    top_ids: list[int]  # most likely candidates at this step, best first
    top_probs: list[float]  # their probabilities (under the distribution the token was chosen from)
    entropy: float  # entropy of that distribution, in nats
    attention: list[float] | None = None  # weights over source positions, when the model attends


@dataclass
class Hypothesis:
    tokens: list[int]  # chosen ids, without <sos>; ends with <eos> unless cut at max_len
    score: float  # ranking score: sum of log-probabilities, length-normalized for beam search
    steps: list[Step]
    beam_path: list[int] = field(default_factory=list)  # beam slot at every step (beam search only)

    @property
    def logprob(self) -> float:
        return sum(s.logprob for s in self.steps)


@dataclass
class BeamStep:
    """The 2K candidates considered at one beam-search step of one sentence."""

    parents: list[int]  # beam slot each candidate extends
    tokens: list[int]
    scores: list[float]  # cumulative search score (the log-probability, unless a search option changes it)
    status: list[str]  # "kept" (becomes slot i of the next step, in order), "finished" (<eos>) or "pruned"
    groups: list[int] = field(default_factory=list)  # diverse beam search: the group of each candidate


@dataclass
class Result:
    """Everything decoded for one source sentence."""

    hypotheses: list[Hypothesis]  # best first
    beam_tree: list[BeamStep] | None = None


# ---------------------------------------------------------------- logits processors (pure functions)

def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return logits / temperature


def apply_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits per row (0 keeps all); logits (batch, vocab)."""
    if k <= 0 or k >= logits.size(-1):
        return logits
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def apply_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability mass reaches p (always at least one)."""
    if p >= 1.0:
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    mass_before = sorted_logits.softmax(-1).cumsum(-1) - sorted_logits.softmax(-1)
    drop_sorted = mass_before >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def apply_min_p(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Keep exactly the tokens whose probability is at least min_p times the most likely one's (0 keeps all)."""
    if min_p <= 0:
        return logits
    logp = logits.float().log_softmax(-1)
    keep = logp >= logp.max(-1, keepdim=True).values + math.log(min_p)
    return logits.masked_fill(~keep, float("-inf"))


def sampling_logits(logits: torch.Tensor, cfg: DecodeConfig) -> torch.Tensor:
    """Temperature, then top-k, top-p (on the renormalised top-k) and min-p."""
    logits = apply_top_p(apply_top_k(apply_temperature(logits, cfg.temperature), cfg.top_k), cfg.top_p)
    return apply_min_p(logits, cfg.min_p)


def apply_repetition_penalty(logits: torch.Tensor, history: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's penalty: the logit of every token already in a row's history (rows, t) is divided by `penalty`
    when positive and multiplied by it when negative (1 = off)."""
    if penalty == 1.0 or history.size(1) == 0:
        return logits
    seen = logits.gather(1, history)
    return logits.scatter(1, history, torch.where(seen > 0, seen / penalty, seen * penalty))


def banned_ngram_tokens(history: torch.Tensor, n: int, vocab: int) -> torch.Tensor:
    """(rows, vocab) True for each token that would complete an n-gram already in the row's history: the last
    n - 1 tokens followed by it occur earlier. <eos> is never banned (a hypothesis can always end)."""
    rows, length = history.shape
    banned = torch.zeros(rows, vocab, dtype=torch.bool, device=history.device)
    if n <= 0 or length < n:
        return banned
    grams = history.unfold(1, n, 1)  # (rows, length - n + 1, n)
    context = history[:, length - n + 1:] if n > 1 else history[:, :0]
    match = (grams[:, :, :-1] == context.unsqueeze(1)).all(-1)  # (rows, length - n + 1)
    row, pos = match.nonzero(as_tuple=True)
    banned[row, grams[row, pos, -1]] = True
    banned[:, EOS] = False
    return banned


def _has_processors(cfg: DecodeConfig) -> bool:
    """Options that change what the search sees beyond the model's own distribution."""
    return cfg.repetition_penalty != 1.0 or cfg.no_repeat_ngram > 0 or (
        cfg.strategy == "beam" and cfg.beam_groups > 1 and cfg.diversity_penalty > 0)


def forbid_early_eos_(logits: torch.Tensor, position: int, cfg: DecodeConfig) -> torch.Tensor:
    """<eos> is impossible at target position `position` (0-based) while position < cfg.min_len. In place: for a
    step's fresh logits, which the caller owns (a full-vocabulary copy per step less)."""
    return logits.index_fill_(-1, torch.tensor([EOS], device=logits.device), float("-inf")) \
        if position < cfg.min_len else logits


def process(logits: torch.Tensor, history: torch.Tensor | None, cfg: DecodeConfig) -> torch.Tensor:
    """Repetition penalty and n-gram blocking over (rows, vocab) logits, given each row's tokens so far."""
    if history is None:
        return logits
    logits = apply_repetition_penalty(logits, history, cfg.repetition_penalty)
    if cfg.no_repeat_ngram:
        logits = logits.masked_fill(banned_ngram_tokens(history, cfg.no_repeat_ngram, logits.size(-1)), float("-inf"))
    return logits


# ---------------------------------------------------------------- step records

def _spread(x: torch.Tensor, rows: torch.Tensor, total: int, fill) -> torch.Tensor:
    """x (n, ...) -> (total, ...) with x at `rows` and `fill` elsewhere."""
    return x.new_full((total, *x.shape[1:]), fill).index_copy_(0, rows, x)


@dataclass
class _Records:
    """Per-step tensors, kept until the end and converted to Python lists once."""

    tokens: list = field(default_factory=list)  # each (rows,)
    logprobs: list = field(default_factory=list)  # each (rows,)
    top_ids: list = field(default_factory=list)  # each (rows, k)
    top_probs: list = field(default_factory=list)  # each (rows, k)
    entropy: list = field(default_factory=list)  # each (rows,)
    attention: list = field(default_factory=list)  # each (rows, src_len) or None

    def add(self, dist_logp, model_logp, tokens, attention, k, rows: torch.Tensor | None = None, total: int = 0):
        """dist_logp: log of the distribution chosen from; model_logp: temperature-1 log-probs; (rows, vocab).

        `rows` (n,): when only some rows were computed, their places among `total` rows (the rest is filler).
        k = 0 keeps only tokens and their log-probabilities (no visualization data); tokens None (beam search,
        which keeps its own) keeps only the visualization data."""
        put = (lambda x, fill=0: x) if rows is None else (lambda x, fill=0: _spread(x, rows, total, fill))
        if tokens is not None:
            self.tokens.append(put(tokens, PAD))
            self.logprobs.append(put(model_logp.gather(1, tokens.clamp(min=0).unsqueeze(1)).squeeze(1)))
        if k == 0:
            return
        probs = dist_logp.exp()
        top = probs.topk(min(k, probs.size(-1)), dim=-1)
        plogp = dist_logp.nan_to_num(neginf=0.0).mul_(probs)  # in place: one full-vocabulary temporary less
        self.top_ids.append(put(top.indices))
        self.top_probs.append(put(top.values))
        self.entropy.append(put(-plogp.sum(-1)))
        self.attention.append(None if attention is None else put(attention))

    def as_lists(self) -> dict:
        """Stack into (rows, steps, ...) Python lists."""
        stack = lambda xs: torch.stack(xs, 1).tolist() if xs else []  # noqa: E731
        att = [] if not self.attention or self.attention[0] is None else stack(self.attention)
        return {"tokens": stack(self.tokens), "logprobs": stack(self.logprobs), "top_ids": stack(self.top_ids),
                "top_probs": stack(self.top_probs), "entropy": stack(self.entropy), "attention": att}

    def steps(self, lists: dict, row: int, indices: list[int]) -> list[Step]:
        return [Step(lists["tokens"][row][t], lists["logprobs"][row][t], *self.visual(lists, row, t)) for t in indices]

    @staticmethod
    def visual(lists: dict, row: int, t: int) -> tuple:
        """(top_ids, top_probs, entropy, attention) of step t of `row`; empty (NaN entropy) when not recorded."""
        if t >= len(lists["entropy"][row] if lists["entropy"] else []):
            return [], [], math.nan, None
        att = lists["attention"][row][t] if lists["attention"] else None
        return lists["top_ids"][row][t], lists["top_probs"][row][t], lists["entropy"][row][t], att


# ---------------------------------------------------------------- start: encode + forced prefix

@dataclass
class _Start:
    enc: Encoded
    state: State
    prev: torch.Tensor  # shape (batch,): the token to feed next
    records: _Records
    cfg: DecodeConfig


def _forced_steps(model: Seq2Seq, enc: Encoded, prefix: list[int], cfg: DecodeConfig) -> _Start:
    """Feed `<sos>` then the forced `prefix` tokens, recording what the model would have said."""
    batch = enc.outputs.size(0)
    prev = torch.full((batch,), SOS, dtype=torch.long, device=enc.outputs.device)
    state, records = model.init_state(enc), _Records()
    for token in prefix:
        out = model.step(prev, state, enc)
        logp = out.logits.float().log_softmax(-1)
        prev = torch.full_like(prev, token)
        records.add(logp, logp, prev, out.attention, cfg.record_top)
        state = out.state
    return _Start(enc, state, prev, records, cfg)


def start(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, cfg: DecodeConfig,
          prefix: list[int] | None = None, copies: int = 1) -> _Start:
    """Encode each source once, then give it `copies` consecutive rows (beams or samples)."""
    enc = model.encode(src, src_len)
    if copies > 1:
        enc = enc.select(torch.arange(src.size(0), device=src.device).repeat_interleave(copies))
    return _forced_steps(model, enc, list(prefix or []), cfg)


# ---------------------------------------------------------------- greedy and sampling

def mask_specials(scores: torch.Tensor) -> torch.Tensor:
    """Never generate <pad> or <sos>: (rows, vocab) logits or log-probs -> a copy with those columns at -inf.

    Applied to log-probabilities it leaves every other token's model log-probability unchanged."""
    out = scores.float()
    return _mask_specials_(out.clone() if out is scores else out)


def _mask_specials_(scores: torch.Tensor) -> torch.Tensor:
    """In-place mask_specials for a fresh tensor the caller owns (saves a full-vocabulary copy per step)."""
    return scores.index_fill_(-1, torch.tensor([PAD, SOS], device=scores.device), float("-inf"))


def greedy_tokens(scores: torch.Tensor) -> torch.Tensor:
    """The greedy choice: (rows, vocab) logits or log-probs -> (rows,) the most likely token that is not <pad> or
    <sos>. Greedy search, the Exposure tab's free running and scheduled-sampling training all choose with this."""
    return first_best(mask_specials(scores))


def first_best(scores: torch.Tensor) -> torch.Tensor:
    """(rows, vocab) -> (rows,) the index of each row's largest score, the first of ties (as argmax). Through
    max(-1), whose CPU kernel is about 3 times faster than argmax's (64 x 8000 at 2 threads on the Intel Xeon: 0.13-0.16
    vs 0.40-0.51 ms, once per greedy step)."""
    return scores.max(-1).indices


def draw(probs: torch.Tensor, generators: list[torch.Generator], copies: int) -> torch.Tensor:
    """One token per row of probs (rows, vocab), rows = len(generators) * copies: sentence i's `copies` rows
    use generators[i] alone (uniforms drawn on the CPU, inverse CDF), so a seeded sentence draws the same
    whatever other sentences share its batch, and on any device."""
    uniform = torch.cat([torch.rand(copies, generator=g, dtype=torch.float64) for g in generators])
    cdf = probs.double().cumsum(-1)
    target = (uniform.to(probs.device) * cdf[:, -1]).unsqueeze(1)  # < total mass: lands on a token with p > 0
    return torch.searchsorted(cdf, target, right=True).squeeze(1).clamp_(max=probs.size(-1) - 1)


def _choose(logits: torch.Tensor, cfg: DecodeConfig, generators, copies: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (rows,), log of the distribution they were chosen from (rows, vocab)); logits already processed."""
    if cfg.strategy == "sample":
        dist = sampling_logits(mask_specials(logits), cfg).log_softmax(-1)
        return draw(dist.exp(), generators, copies), dist
    dist = _mask_specials_(logits.log_softmax(-1))
    return first_best(dist), dist


def _history(begin: "_Start") -> torch.Tensor | None:
    """Each row's tokens so far (the forced prefix), when an option needs them; None otherwise."""
    if not _has_processors(begin.cfg):
        return None
    rows = begin.prev.size(0)
    if not begin.records.tokens:
        return begin.prev.new_zeros(rows, 0)
    return torch.stack(begin.records.tokens, 1)


def _run_free(model: Seq2Seq, begin: _Start, cfg: DecodeConfig, generators=None, copies: int = 1) -> list[Hypothesis]:
    """Greedy or sampling from `begin` until every row has produced <eos> or max_len is reached.
    Sampling: `generators` has one generator per sentence, each sentence has `copies` consecutive rows."""
    state, prev, records = begin.state, begin.prev, begin.records
    done, enc, live = prev == EOS, begin.enc, None  # live: the rows still computed (None: all)
    history = _history(begin)
    for position in range(len(records.tokens), cfg.max_len):
        out = model.step(prev, state, enc)
        logits = forbid_early_eos_(out.logits.float(), position, cfg)
        tokens, dist = _choose(process(logits, history, cfg), cfg, generators, copies)
        tokens = tokens.masked_fill(done if live is None else done.index_select(0, live), PAD)
        # greedy: dist is the model's log-softmax with <pad>/<sos> at -inf, which are never chosen, so it gives the
        # same token log-probabilities as a second log_softmax would (rows already done are cut off later)
        model_logp = logits.log_softmax(-1) if cfg.strategy == "sample" or history is not None else dist
        records.add(dist, model_logp, tokens, out.attention, cfg.record_top, live, done.size(0))
        done = done | ((tokens if live is None else _spread(tokens, live, done.size(0), PAD)) == EOS)
        if bool(done.all()):
            break
        prev, state = tokens, out.state
        history = None if history is None else torch.cat([history, tokens.unsqueeze(1)], 1)
        if cfg.strategy != "sample":  # sampling keeps every row so that a seed draws what it always drew
            prev, state, enc, live, history = _drop_done(prev, state, begin.enc, enc, done, live, history)
    return _free_hypotheses(records)


def _drop_done(prev, state: State, enc_all: Encoded, enc: Encoded, done: torch.Tensor, live, history):
    """Greedy: rows that produced <eos> leave the batch (their later steps are never read)."""
    current = done if live is None else done.index_select(0, live)
    if not bool(current.any()):
        return prev, state, enc, live, history
    pos = (~current).nonzero().squeeze(1)
    live = pos if live is None else live.index_select(0, pos)
    history = None if history is None else history.index_select(0, pos)
    return prev.index_select(0, pos), select_state(state, pos), enc_all.select(live), live, history


def _free_hypotheses(records: _Records) -> list[Hypothesis]:
    lists = records.as_lists()
    hyps = []
    for row, tokens in enumerate(lists["tokens"]):
        n = tokens.index(EOS) + 1 if EOS in tokens else len(tokens)
        steps = records.steps(lists, row, list(range(n)))
        hyps.append(Hypothesis(tokens[:n], sum(s.logprob for s in steps), steps))
    return hyps


def sentence_generators(seed: int | None, src: torch.Tensor, src_len: torch.Tensor) -> list[torch.Generator]:
    """One CPU generator per sentence, seeded from `seed` and the sentence's own source ids: its samples depend on
    the seed and the sentence only, never on the other sentences of the batch (different sentences get different
    streams, the same sentence the same one). Without a seed, fresh OS entropy (never the global random state)."""
    gens = []
    for ids, n in zip(src.tolist(), src_len.tolist()):
        if seed is None:
            value = secrets.randbits(63)
        else:
            digest = hashlib.sha256(f"{seed}:{ids[:n]}".encode()).digest()
            value = int.from_bytes(digest[:8], "little") >> 1
        gens.append(torch.Generator().manual_seed(value))
    return gens


def sample_many(model, src, src_len, cfg: DecodeConfig, prefix=None) -> list[Result]:
    """cfg.n_best samples per sentence, drawn in one batch; hypotheses sorted by log-probability."""
    n = cfg.n_best
    begin = start(model, src, src_len, cfg, prefix, copies=n)
    hyps = _run_free(model, begin, cfg, sentence_generators(cfg.seed, src, src_len), n)
    groups = [hyps[i * n:(i + 1) * n] for i in range(src.size(0))]
    return [Result(sorted(g, key=lambda h: -h.score)) for g in groups]


# ---------------------------------------------------------------- beam search: expand / select / finalize

def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ((5 + length) / 6) ** alpha. A hypothesis's score is its log-probability divided by
    this, where both count every target token it has: a forced prefix and the final <eos> included."""
    return ((5.0 + length) / 6.0) ** alpha


@dataclass
class _Beam:
    """Beam-search bookkeeping for a batch: `batch` sentences x `k` slots."""

    k: int
    scores: torch.Tensor  # shape (batch, k): cumulative log-probabilities
    parents: list = field(default_factory=list)  # per step, (batch, k) slot each kept beam extends
    tokens: list = field(default_factory=list)  # per step, (batch, k) token each kept beam appended
    logps: list = field(default_factory=list)  # per step, (batch, k) log-probability of that token
    finished: list = field(default_factory=list)  # per sentence: (norm score, raw score, step, parent slot)
    trees: list = field(default_factory=list)  # per sentence: list[BeamStep]
    n_prefix: int = 0  # forced tokens before the search: part of every hypothesis's score and length
    keys: torch.Tensor | None = None  # shape (batch, k): a rolling hash of each beam's tokens (equal beams of
    # different groups have equal keys)
    finished_keys: list = field(default_factory=list)  # per sentence: keys of its finished hypotheses


HASH_BASE, HASH_MOD = 1_000_003, 2**31 - 1  # keys stay below 2**51 in int64 arithmetic


def _extend_keys(keys: torch.Tensor, parents: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    return (keys.gather(1, parents) * HASH_BASE + tokens) % HASH_MOD


def _expand(beam: _Beam, logp: torch.Tensor, active: torch.Tensor | None, slots: slice):
    """logp (n, len(slots), vocab) for the beam slots `slots` of the n sentences `active` (None: all) -> the best
    2 * len(slots) candidates per sentence: scores, parent slots, tokens, each (batch, 2 * len(slots));
    sentences not searched get -inf / 0 / <pad>."""
    batch, vocab, width = beam.scores.size(0), logp.size(-1), slots.stop - slots.start
    scores = (beam.scores if active is None else beam.scores.index_select(0, active))[:, slots]
    total = (scores.unsqueeze(-1) + logp).view(scores.size(0), -1)
    top = total.topk(min(2 * width, total.size(1)), dim=-1)
    cand = top.values, torch.div(top.indices, vocab, rounding_mode="floor") + slots.start, top.indices % vocab
    if active is None:
        return cand
    return tuple(_spread(x, active, batch, fill) for x, fill in zip(cand, (float("-inf"), 0, PAD)))


def _slot_rows(sentences: torch.Tensor, k: int) -> torch.Tensor:
    """Row indices (n*k,) of the k beam slots of each sentence in `sentences` (n,)."""
    return (sentences.unsqueeze(1) * k + torch.arange(k, device=sentences.device)).view(-1)


def _advance(beam: _Beam, out: StepOutput, parents: torch.Tensor, done: list[bool], active, enc_all: Encoded, enc,
             history):
    """Inputs of the next step: each kept beam continues from its parent's row. Sentences that are done leave
    the batch, so the model computes only rows that still matter. Returns (state, prev, enc, active, history)."""
    batch, k = parents.shape
    current = list(range(batch)) if active is None else active.tolist()  # sentence of each block of k rows
    pos = [i for i, b in enumerate(current) if not done[b]]
    device = parents.device
    nxt = active if len(pos) == len(current) else torch.tensor([current[i] for i in pos], device=device)
    nxt = torch.arange(batch, device=device) if nxt is None else nxt
    rows = (parents.index_select(0, nxt) + torch.tensor(pos, device=device).unsqueeze(1) * k).view(-1)
    if len(pos) < len(current):
        enc = enc_all.select(_slot_rows(nxt, k))
    active = None if len(pos) == batch else nxt
    prev = beam.tokens[-1].index_select(0, nxt).view(-1)
    if history is not None:
        history = torch.cat([history.index_select(0, rows), prev.unsqueeze(1)], 1)
    return select_state(out.state, rows), prev, enc, active, history


def _search_step(beam: _Beam, logp: torch.Tensor, active, step: int, cfg: DecodeConfig, done: list[bool],
                 keep_tree: bool) -> torch.Tensor:
    """One step for all sentences: logp (n * k, vocab) -> parent slots (batch, k) of the kept beams.

    The k slots form cfg.beam_groups groups searched one after another (diverse beam search); group g's
    log-probabilities are lowered by diversity_penalty for each earlier group that kept the same token at this step.
    With one group this is plain beam search."""
    groups, k, vocab = cfg.beam_groups, beam.k, logp.size(-1)
    width = k // groups
    logp = logp.view(-1, k, vocab)
    chosen = torch.zeros(logp.size(0), vocab, device=logp.device) if groups > 1 else None
    parts = []
    for g in range(groups):
        slots = slice(g * width, (g + 1) * width)
        part_logp = logp[:, slots] if chosen is None else logp[:, slots] - cfg.diversity_penalty * chosen.unsqueeze(1)
        cand = _expand(beam, part_logp, active, slots)
        parts.append(_kept(cand, width))
        if chosen is not None:
            tokens = parts[-1][2] if active is None else parts[-1][2].index_select(0, active)
            chosen.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=chosen.dtype))
    return _record(beam, parts, step, cfg.length_penalty, done, keep_tree)


def _kept(cand: tuple, width: int) -> tuple:
    """The `width` best candidates that are not <eos> (they continue), plus everything needed to record the step."""
    scores, parents, tokens = cand
    is_eos = tokens == EOS
    live = scores.masked_fill(is_eos, float("-inf")).topk(width, dim=-1)
    return live.values, parents.gather(1, live.indices), tokens.gather(1, live.indices), live.indices, cand, is_eos


def _record(beam: _Beam, parts: list[tuple], step: int, alpha: float, done: list[bool], keep_tree: bool):
    """Append the step's kept beams (all groups, in slot order) and its finished <eos> candidates."""
    values, parents, tokens = (torch.cat([part[i] for part in parts], 1) for i in range(3))
    for part in parts:  # first, with the keys of the beams the candidates extend
        (scores, cand_parents, _), is_eos = part[4], part[5]
        _finish_eos(beam, scores, cand_parents, is_eos, step, alpha, part[0].size(1))
    beam.logps.append(values - beam.scores.gather(1, parents))
    beam.scores = values
    beam.parents.append(parents)
    beam.tokens.append(tokens)
    beam.keys = _extend_keys(beam.keys, parents, tokens)
    if keep_tree:
        for b in range(len(done)):
            if not done[b]:
                beam.trees[b].append(_merge_tree([_tree_step(*_tree_lists(part, b)) for part in parts]))
    return parents


def _tree_lists(part: tuple, b: int) -> tuple:
    (scores, parents, tokens), indices = part[4], part[3]
    return scores[b].tolist(), parents[b].tolist(), tokens[b].tolist(), indices[b].tolist()


def _merge_tree(steps: list[BeamStep]) -> BeamStep:
    """One BeamStep from the groups' own: every group's kept candidates first (slot order), then the rest."""
    if len(steps) == 1:
        return steps[0]
    order = [(g, i) for kept in (True, False) for g, st in enumerate(steps) for i, status in enumerate(st.status)
             if (status == "kept") == kept]
    pick = lambda name: [getattr(steps[g], name)[i] for g, i in order]  # noqa: E731
    return BeamStep(pick("parents"), pick("tokens"), pick("scores"), pick("status"), [g for g, _ in order])


def _finish_eos(beam: _Beam, scores, parents, is_eos, step: int, alpha: float, width: int) -> None:
    """Record the <eos> candidates ranked within the top `width` of their group (sentences not searched have -inf
    scores). A hypothesis already finished (by an earlier group, with the same tokens) is not recorded twice."""
    k = min(width, scores.size(1))
    found = (is_eos[:, :k] & (scores[:, :k] > float("-inf"))).nonzero().tolist()
    for b, rank in found:
        key = (int(beam.keys[b, int(parents[b, rank])]) * HASH_BASE + EOS) % HASH_MOD
        if key in beam.finished_keys[b]:
            continue
        beam.finished_keys[b].add(key)
        raw = scores[b, rank].item()
        length = beam.n_prefix + step + 1
        beam.finished[b].append((raw / length_penalty(length, alpha), raw, step, int(parents[b, rank])))


def _tree_step(scores, parents, tokens, kept) -> BeamStep:
    status = ["finished" if t == EOS and r < len(kept) else "pruned" for r, t in enumerate(tokens)]
    order = {r: i for i, r in enumerate(kept)}
    parents_out, tokens_out, scores_out, status_out = [], [], [], []
    for r in sorted(range(len(tokens)), key=lambda r: (r not in order, order.get(r, r))):
        if scores[r] == float("-inf"):
            continue
        parents_out.append(parents[r]), tokens_out.append(tokens[r]), scores_out.append(scores[r])
        status_out.append("kept" if r in order else status[r])
    return BeamStep(parents_out, tokens_out, scores_out, status_out)


def _backtrack(beam: _Beam, b: int, step: int, slot: int) -> tuple[list[int], list[int], list[float], list[int]]:
    """Walk back-pointers from kept slot `slot` at `step`: (tokens, rows read, logprobs, slots) oldest first."""
    tokens, rows, logps, slots = [], [], [], []
    for t in range(step, -1, -1):
        tokens.append(beam.tokens[t][b][slot])
        logps.append(beam.logps[t][b][slot])
        slots.append(slot)
        slot = beam.parents[t][b][slot]
        rows.append(slot)
    return tokens[::-1], rows[::-1], logps[::-1], slots[::-1]


def _hypothesis(beam, b, entry, records: _Records, lists: dict, n_prefix: int) -> Hypothesis:
    """Rebuild one finished (or cut) hypothesis of sentence b with its per-step records."""
    norm, raw, step, slot, final_token = entry
    tokens, rows, logps, slots = _backtrack(beam, b, step - 1, slot) if step > 0 else ([], [], [], [])
    if final_token is not None:  # an <eos> candidate extends `slot` at `step`
        tokens, rows, slots = tokens + [final_token], rows + [slot], slots + [slot]
        logps = logps + [raw - (sum(logps) if logps else 0.0) - lists["prefix_logp"][b]]
    k = beam.k
    steps = records.steps(lists, b * k, list(range(n_prefix)))  # forced prefix: identical in every slot
    for i, (tok, row, lp) in enumerate(zip(tokens, rows, logps)):
        steps.append(Step(tok, lp, *records.visual(lists, b * k + row, n_prefix + i)))
    prefix_tokens = [s.token for s in steps[:n_prefix]]
    return Hypothesis(prefix_tokens + tokens, norm, steps, slots)


def _first_step(model: Seq2Seq, prev: torch.Tensor, state: State, enc: Encoded, k: int) -> StepOutput:
    """The search's first step: the k rows of each sentence hold the same prefix, so the model steps once per
    sentence and each result is copied to that sentence's k rows (a k-th of the products)."""
    one = torch.arange(0, prev.size(0), k, device=prev.device)
    out = model.step(prev.index_select(0, one), select_state(state, one), enc.select(one))
    rows = torch.arange(one.size(0), device=prev.device).repeat_interleave(k)
    attention = None if out.attention is None else out.attention.index_select(0, rows)
    return StepOutput(out.logits.index_select(0, rows), select_state(out.state, rows), attention)


def beam_search(model: Seq2Seq, src, src_len, cfg: DecodeConfig, prefix=None, keep_tree: bool = True) -> list[Result]:
    """Beam search of width cfg.beam_size, batched as (sentences x beams) rows; returns cfg.n_best per sentence.

    The beam tree is kept when `keep_tree` and cfg.record_top > 0 (it is visualization data)."""
    batch, k, keep_tree = src.size(0), cfg.beam_size, keep_tree and cfg.record_top > 0
    begin = start(model, src, src_len, cfg, prefix, copies=k)
    n_prefix = len(begin.records.tokens)
    prefix_logp = torch.zeros(batch, device=src.device)
    if n_prefix:
        prefix_logp = torch.stack(begin.records.logprobs, 1).sum(1).view(batch, k)[:, 0]
    scores = torch.full((batch, k), float("-inf"), device=src.device)
    scores[:, ::k // cfg.beam_groups] = prefix_logp.unsqueeze(1)  # each group starts from one live slot
    beam = _Beam(k, scores, finished=[[] for _ in range(batch)], trees=[[] for _ in range(batch)], n_prefix=n_prefix,
                 keys=torch.zeros(batch, k, dtype=torch.long, device=src.device),
                 finished_keys=[set() for _ in range(batch)])
    state, prev, done = begin.state, begin.prev, [False] * batch
    enc, active, history = begin.enc, None, _history(begin)  # active: the sentences still searched (None: all)
    for step in range(cfg.max_len - n_prefix):
        out = _first_step(model, prev, state, enc, k) if step == 0 and k > 1 else model.step(prev, state, enc)
        logits = forbid_early_eos_(out.logits.float(), n_prefix + step, cfg)
        logp = _mask_specials_(process(logits, history, cfg).log_softmax(-1))
        if cfg.record_top:  # visualization data: top candidates, entropy and attention of every beam row
            rows = None if active is None else _slot_rows(active, k)
            begin.records.add(logp, logp, None, out.attention, cfg.record_top, rows, batch * k)
        parents = _search_step(beam, logp, active, step, cfg, done, keep_tree)
        done = [d or len(f) >= k for d, f in zip(done, beam.finished)]
        if all(done):
            break
        state, prev, enc, active, history = _advance(beam, out, parents, done, active, begin.enc, enc, history)
    results = _finalize(beam, begin.records, cfg, n_prefix, prefix_logp.tolist(), done, keep_tree)
    if _has_processors(cfg):
        _model_logprobs(model, src, src_len, results)
    return results


def _model_logprobs(model: Seq2Seq, src, src_len, results: list[Result]) -> None:
    """When a search option changed the scores, give every step of every hypothesis its model log-probability
    (temperature 1, teacher-forced rescoring): `Hypothesis.logprob` stays the model's, `score` the search's."""
    rows, seqs = [], []
    for b, result in enumerate(results):
        for hyp in result.hypotheses:
            rows.append(b)
            seqs.append([SOS] + hyp.tokens)
    if not seqs:
        return
    width = max(len(x) for x in seqs) + 1
    tgt = torch.full((len(seqs), width), PAD, dtype=torch.long, device=src.device)
    for i, x in enumerate(seqs):
        tgt[i, :len(x)] = torch.tensor(x, device=src.device)
    index = torch.tensor(rows, device=src.device)
    scored = score_reference(model, src.index_select(0, index), src_len.index_select(0, index.cpu()), tgt, 0)
    hyps = [h for result in results for h in result.hypotheses]
    for hyp, s in zip(hyps, scored):
        for step, lp in zip(hyp.steps, s.gold_logprobs):
            step.logprob = lp


def _finalize(beam: _Beam, records: _Records, cfg: DecodeConfig, n_prefix: int, prefix_logp, done, keep_tree):
    """Add unfinished beams of cut sentences, sort, and rebuild the n-best hypotheses."""
    beam.parents = [p.tolist() for p in beam.parents]
    beam.tokens = [t.tolist() for t in beam.tokens]
    beam.logps = [x.tolist() for x in beam.logps]
    last = len(beam.tokens) - 1
    final_scores = beam.scores.tolist()
    lists = records.as_lists()
    lists["prefix_logp"] = prefix_logp
    results = []
    for b in range(len(done)):
        entries = [(n, r, s, p, EOS) for n, r, s, p in beam.finished[b]]
        if not done[b]:
            penalty = length_penalty(n_prefix + last + 1, cfg.length_penalty)
            entries += [(final_scores[b][j] / penalty, final_scores[b][j],
                         last + 1, j, None) for j in range(beam.k) if final_scores[b][j] > float("-inf")]
        entries.sort(key=lambda e: -e[0])
        hyps = [_hypothesis(beam, b, e, records, lists, n_prefix) for e in entries[:cfg.n_best]]
        results.append(Result(hyps, beam.trees[b] if keep_tree else None))
    return results


# ---------------------------------------------------------------- the one entry point

@torch.inference_mode()
def decode(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, cfg: DecodeConfig,
           prefix: list[int] | None = None, keep_tree: bool = True) -> list[Result]:
    """Decode a batch of sources: src (batch, src_len) ids with <eos>, src_len (batch,).

    `prefix` forces the first target tokens (the same for every sentence) before the strategy takes over."""
    if cfg.strategy == "beam":
        return beam_search(model, src, src_len, cfg, prefix, keep_tree)
    if cfg.strategy == "sample":
        return sample_many(model, src, src_len, cfg, prefix)
    begin = start(model, src, src_len, cfg, prefix)
    return [Result([h]) for h in _run_free(model, begin, cfg)]


# ---------------------------------------------------------------- teacher-forced scoring and free running

@dataclass
class Scored:
    """A reference scored step by step."""

    gold: list[int]  # the reference tokens y1 .. yn <eos>
    gold_logprobs: list[float]  # log p(gold token) at every step
    choices: list[int]  # the model's own greedy choice at every step (never <pad> or <sos>)
    steps: list[Step]  # top candidates (token = gold)


@torch.inference_mode()
def score_reference(model: Seq2Seq, src, src_len, tgt: torch.Tensor, record_top: int = 10) -> list[Scored]:
    """Teacher forcing: every step is fed the gold prefix. tgt (batch, T) = <sos> y1 .. yn <eos>, padded."""
    enc = model.encode(src, src_len)
    pre, attention = model.decode_all(tgt[:, :-1], enc)
    logp = model.decoder.logits(pre).float().log_softmax(-1)
    return _scored(logp, tgt[:, 1:], attention, record_top)


@torch.inference_mode()
def free_running(model: Seq2Seq, src, src_len, tgt: torch.Tensor, record_top: int = 10) -> list[Scored]:
    """No teacher: the model is fed its own greedy choices (`greedy_tokens`, exactly as greedy search) for as many
    steps as the reference has, and at each step we read the probability it gives the gold token."""
    enc = model.encode(src, src_len)
    state, prev = model.init_state(enc), tgt[:, 0]
    logps, atts = [], []
    for _ in range(tgt.size(1) - 1):
        out = model.step(prev, state, enc)
        logps.append(out.logits.float().log_softmax(-1))
        atts.append(out.attention)
        prev, state = greedy_tokens(logps[-1]), out.state
    attention = None if atts[0] is None else torch.stack(atts, 1)
    return _scored(torch.stack(logps, 1), tgt[:, 1:], attention, record_top)


def _scored(logp: torch.Tensor, gold: torch.Tensor, attention, record_top: int) -> list[Scored]:
    """logp (batch, T, vocab), gold (batch, T) padded -> one Scored per row, cut at the padding."""
    records = _Records()
    for t in range(gold.size(1)):
        records.add(logp[:, t], logp[:, t], gold[:, t], None if attention is None else attention[:, t], record_top)
    lists = records.as_lists()
    choices = greedy_tokens(logp.flatten(0, 1)).view(logp.shape[:2]).tolist()
    out = []
    for row, tokens in enumerate(gold.tolist()):
        n = sum(1 for t in tokens if t != PAD)
        steps = records.steps(lists, row, list(range(n)))
        out.append(Scored(tokens[:n], [s.logprob for s in steps], choices[row][:n], steps))
    return out


def mean_nll(scored: list[Scored]) -> float:
    """Cross-entropy averaged over target tokens (what training minimizes without label smoothing)."""
    values = [-lp for s in scored for lp in s.gold_logprobs]
    return sum(values) / max(1, len(values))

