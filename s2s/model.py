"""The LSTM encoder-decoder (Sutskever et al. 2014) with optional attention on top of the decoder.

Public surface used by training and every decoding strategy:
    enc = model.encode(src, src_len)        # the source, read once
    state = model.init_state(enc)           # the context vector: the encoder's final (h, c)
    out = model.step(prev, state, enc)      # one decoder step -> StepOutput
    logits = model(src, src_len, tgt_in)    # teacher-forced pass over a whole target
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .config import ModelConfig
from .tokenizer import PAD

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each shape (layers, batch, hidden)
MAX_LENGTH_GROUPS = 4  # the encoder runs sentences of each length together up to this many lengths per batch


@dataclass
class Encoded:
    """What the decoder needs from the source."""

    outputs: torch.Tensor  # shape (batch, src_len, hidden): top-layer encoder states
    mask: torch.Tensor  # shape (batch, src_len): True at real (non-pad) positions
    final: State  # the context vector: final (h, c) of every layer
    keys: torch.Tensor | None = None  # shape (batch, src_len, *): attention keys, precomputed once

    def select(self, index: torch.Tensor) -> "Encoded":
        """Rows `index` (shape (n,)), e.g. to expand sentences into beams."""
        keys = None if self.keys is None else self.keys.index_select(0, index)
        final = (self.final[0].index_select(1, index), self.final[1].index_select(1, index))
        return Encoded(self.outputs.index_select(0, index), self.mask.index_select(0, index), final, keys)


@dataclass
class StepOutput:
    logits: torch.Tensor  # shape (batch, tgt_vocab)
    state: State  # the decoder's new (h, c)
    attention: torch.Tensor | None  # shape (batch, src_len), or None without attention


def select_state(state: State, index: torch.Tensor) -> State:
    """Reorder/expand the batch dimension of (h, c) by `index` (beam back-pointers)."""
    return state[0].index_select(1, index), state[1].index_select(1, index)


def _lstm(cfg: ModelConfig) -> nn.LSTM:
    """The stacked LSTM of the encoder and of the decoder (same shape on both sides)."""
    return nn.LSTM(cfg.emb, cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0)


def dropout(x: torch.Tensor, p: float, training: bool, gen: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout; the mask is drawn from `gen` when given (reproducible training), else from the
    global random state (as nn.Dropout). The mask is uniform draws compared with 1 - p (in fp32, then in x's dtype):
    the same distribution as bernoulli_(1 - p), at under half its cost on the CPU (1.7 vs 3.8 ms for 64 x 15 x 512 on
    the README's Intel Xeon; torch's CPU bernoulli is the slower kernel)."""
    if not training or p == 0.0:
        return x
    if gen is None:
        return nn.functional.dropout(x, p, True)
    keep = 1.0 - p
    return x * torch.rand(x.shape, generator=gen, device=x.device).lt_(keep).to(x.dtype).div_(keep)


class _Recurrent(nn.Module):
    """What the encoder and decoder share: an embedding, dropout, a stacked LSTM, and the training-time
    dropout generator (set by the trainer through `Seq2Seq.dropout_generator`)."""

    def __init__(self, cfg: ModelConfig, embedding: nn.Embedding):
        super().__init__()
        self.embedding = embedding
        self.p = cfg.dropout
        self.rnn = _lstm(cfg)
        self.gen: torch.Generator | None = None

    def drop(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.gen)

    def lstm(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """The stacked LSTM over x (batch, T, emb). In training with a generator and several layers, the layers
        run one by one with dropout between them drawn from that generator (same weights, same maths)."""
        rnn = self.rnn
        if self.gen is None or not self.training or rnn.num_layers == 1 or rnn.dropout == 0:
            return rnn(x, state)
        if state is None:
            zeros = x.new_zeros(rnn.num_layers, x.size(0), rnn.hidden_size)
            state = (zeros, zeros)
        hs, cs = [], []
        for layer in range(rnn.num_layers):
            if layer:
                x = dropout(x, rnn.dropout, True, self.gen)
            weights = [getattr(rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            hx = (state[0][layer:layer + 1], state[1][layer:layer + 1])
            x, h, c = torch.lstm(x, hx, weights, True, 1, 0.0, True, False, True)
            hs.append(h)
            cs.append(c)
        return x, (torch.cat(hs), torch.cat(cs))


class Encoder(_Recurrent):

    def forward(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, State]:
        """src shape (batch, src_len) -> outputs (batch, src_len, hidden), final (h, c).

        The final state is each sentence's own, at its last token, never at padding: sentences of equal length
        run together in one fused call each (length-bucketed batches hold one or two lengths); batches with
        many lengths are packed instead (packed sequences run step by step, several times slower on CPU)."""
        x = self.drop(self.embedding(src))
        distinct = sorted(set(src_len.tolist()))
        if distinct == [src.size(1)]:  # no padding (e.g. one sentence)
            return self.lstm(x)
        if len(distinct) <= MAX_LENGTH_GROUPS or (self.training and self.gen is not None):
            return self._by_length(x, src_len, distinct)
        packed = pack_padded_sequence(x, src_len.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)  # h0 = c0 = 0
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        return out, state

    def _by_length(self, x: torch.Tensor, src_len: torch.Tensor, distinct: list[int]) -> tuple[torch.Tensor, State]:
        """One LSTM call per source length; the pieces are put back in batch order, zeros at padding."""
        batch, layers, hidden = x.size(0), self.rnn.num_layers, self.rnn.hidden_size
        out = x.new_zeros(batch, x.size(1), hidden)
        h, c = x.new_zeros(layers, batch, hidden), x.new_zeros(layers, batch, hidden)
        for length in distinct:
            rows = (src_len == length).nonzero().squeeze(1).to(x.device)  # src_len stays on the CPU
            part, (ph, pc) = self.lstm(x.index_select(0, rows)[:, :length])
            out = out.index_copy(0, rows, nn.functional.pad(part, (0, 0, 0, x.size(1) - length)))
            h, c = h.index_copy(1, rows, ph), c.index_copy(1, rows, pc)
        return out, (h, c)


class Attention(nn.Module):
    """Luong 'general' (h_t W s) or Bahdanau additive (v tanh(W1 s + W2 h_t)) scores over the source."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.kind = kind
        self.key = nn.Linear(hidden, hidden, bias=False)
        if kind == "bahdanau":
            self.query = nn.Linear(hidden, hidden, bias=True)
            self.v = nn.Linear(hidden, 1, bias=False)

    def keys(self, enc_out: torch.Tensor) -> torch.Tensor:
        return self.key(enc_out)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query (batch, T, hidden) -> context (batch, T, hidden), weights (batch, T, src_len)."""
        if self.kind == "luong":
            scores = torch.bmm(query, keys.transpose(1, 2))
        else:
            scores = self.v(torch.tanh(keys.unsqueeze(1) + self.query(query).unsqueeze(2))).squeeze(-1)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights, values), weights


def attend(attention: Attention | None, combine, dec_out: torch.Tensor,
           enc: Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Luong's attentional pre-output tanh(W [h_t; context]) and the weights; `combine` is W's product (the
    decoder's nn.Linear, or a prepacked copy: s2s/packed.py). Without attention: dec_out itself, None."""
    if attention is None:
        return dec_out, None
    context, weights = attention(dec_out, enc.keys, enc.outputs, enc.mask)
    return torch.tanh(combine(torch.cat([dec_out, context], dim=-1))), weights


class Decoder(_Recurrent):
    def __init__(self, cfg: ModelConfig, embedding: nn.Embedding):
        super().__init__(cfg, embedding)
        self.attention = Attention(cfg.attention, cfg.hidden) if cfg.attention != "none" else None
        self.combine = nn.Linear(2 * cfg.hidden, cfg.hidden, bias=False) if self.attention else None
        self.tied = cfg.tie_embeddings
        self.project = nn.Linear(cfg.hidden, cfg.emb, bias=False) if self.tied else None
        self.out = None if self.tied else nn.Linear(cfg.hidden, cfg.tgt_vocab)
        self.out_bias = nn.Parameter(torch.zeros(cfg.tgt_vocab)) if self.tied else None

    def attend(self, dec_out: torch.Tensor, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
        """dec_out (batch, T, hidden) -> pre-output (batch, T, hidden), attention (batch, T, src_len)."""
        return attend(self.attention, self.combine, dec_out, enc)

    def logits(self, pre: torch.Tensor) -> torch.Tensor:
        """pre-output (..., hidden) -> logits (..., tgt_vocab)."""
        return nn.functional.linear(*self.output_layer(pre))

    def output_layer(self, pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The output layer's input (..., in), weight (tgt_vocab, in) and bias: logits = linear(input, weight, bias).
        Training takes them apart to fuse the layer with its loss (s2s/loss.py)."""
        pre = self.drop(pre)
        if self.tied:
            return self.project(pre), self.embedding.weight, self.out_bias
        return pre, self.out.weight, self.out.bias

    def run(self, tgt_in: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """All steps in one LSTM call: tgt_in (batch, T) -> outputs (batch, T, hidden), final (h, c)."""
        return self.lstm(self.drop(self.embedding(tgt_in)), state)

    def cell_step(self, prev: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One step as per-layer LSTM cells on the same weights (2-5x less overhead than nn.LSTM at length 1).

        prev (batch,) -> output (batch, hidden). Dropout between layers as in nn.LSTM when training."""
        x = self.drop(self.embedding(prev))
        hs, cs = [], []
        for layer in range(self.rnn.num_layers):
            if layer:
                x = dropout(x, self.rnn.dropout, self.training, self.gen)
            weights = [getattr(self.rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h, c = torch.lstm_cell(x, (state[0][layer], state[1][layer]), *weights)
            hs.append(h)
            cs.append(c)
            x = h
        return x, (torch.stack(hs), torch.stack(cs))

    def step(self, prev: torch.Tensor, state: State, enc: Encoded) -> StepOutput:
        """prev (batch,) token ids -> StepOutput with logits (batch, tgt_vocab)."""
        out, state = self.cell_step(prev, state)
        pre, weights = self.attend(out.unsqueeze(1), enc)
        attn = None if weights is None else weights.squeeze(1)
        return StepOutput(self.logits(pre.squeeze(1)), state, attn)


def init_weights(model: nn.Module, seed: int) -> None:
    """Draw every parameter from a generator seeded with `seed` (PyTorch's default scales; the global random
    state is neither read nor changed): embeddings N(0, 1) with a zero <pad> row, LSTM and linear weights and
    biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the tied output bias zero."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embedding.weight"):
                value = torch.randn(p.shape, generator=gen)
                value[PAD] = 0.0
            elif name.endswith("out_bias"):
                value = torch.zeros(p.shape)
            else:
                fan_in = _fan_in(model, name, p)
                value = torch.empty(p.shape).uniform_(-fan_in ** -0.5, fan_in ** -0.5, generator=gen)
            p.copy_(value)


def _fan_in(model: nn.Module, name: str, p: torch.Tensor) -> int:
    """Inputs per output unit: a weight's second dimension; for a bias, its weight's (LSTM: the hidden size)."""
    if p.dim() > 1:
        return p.size(1)
    if ".rnn." in f".{name}":
        return model.cfg.hidden
    weight = dict(model.named_parameters()).get(name.rsplit(".", 1)[0] + ".weight")
    return weight.size(1) if weight is not None else p.size(0)


class Seq2Seq(nn.Module):
    def __init__(self, cfg: ModelConfig, seed: int | None = None):
        """`seed`: draw the initial weights from it alone (reproducible); None: PyTorch's global random state."""
        super().__init__()
        self.cfg = cfg
        if seed is None:
            self._build(cfg)
            return
        with torch.device("meta"):  # no default initialisation: it would draw from the global random state
            self._build(cfg)
        self.to_empty(device="cpu")
        init_weights(self, seed)

    def _build(self, cfg: ModelConfig) -> None:
        tgt_emb = nn.Embedding(cfg.tgt_vocab, cfg.emb, padding_idx=PAD)
        shared = cfg.tie_embeddings and cfg.joint_vocab  # one vocabulary: the same id is the same piece
        src_emb = tgt_emb if shared else nn.Embedding(cfg.src_vocab, cfg.emb, padding_idx=PAD)
        self.encoder = Encoder(cfg, src_emb)
        self.decoder = Decoder(cfg, tgt_emb)

    @property
    def dropout_generator(self) -> torch.Generator | None:
        """The generator dropout masks are drawn from in training (None: the global random state)."""
        return self.encoder.gen

    @dropout_generator.setter
    def dropout_generator(self, gen: torch.Generator | None) -> None:
        self.encoder.gen = self.decoder.gen = gen

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> Encoded:
        """src (batch, src_len) ids, src_len (batch,) -> Encoded."""
        outputs, final = self.encoder(src, src_len)
        keys = self.decoder.attention.keys(outputs) if self.decoder.attention else None
        return Encoded(outputs, src != PAD, final, keys)

    def init_state(self, enc: Encoded) -> State:
        """The decoder starts from the context vector: the encoder's final (h, c)."""
        return enc.final

    def step(self, prev: torch.Tensor, state: State, enc: Encoded) -> StepOutput:
        return self.decoder.step(prev, state, enc)

    def decode_all(self, tgt_in: torch.Tensor, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced pre-outputs (batch, T, hidden) and attention (batch, T, src_len) or None."""
        out, _ = self.decoder.run(tgt_in, self.init_state(enc))
        return self.decoder.attend(out, enc)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits: tgt_in (batch, T) = <sos> y1 .. y(T-1) -> (batch, T, tgt_vocab)."""
        pre, _ = self.decode_all(tgt_in, self.encode(src, src_len))
        return self.decoder.logits(pre)
