"""The encoder-decoder's building blocks on tiny seeded models."""
from __future__ import annotations

import pytest
import torch

from s2s.config import ModelConfig
from s2s.model import MAX_LENGTH_GROUPS, Seq2Seq


@pytest.mark.parametrize("lengths", [1, 2, MAX_LENGTH_GROUPS, MAX_LENGTH_GROUPS + 2])  # distinct lengths per batch
def test_encoder_gives_each_sentence_its_own_final_state(lengths):
    """Equal lengths run together, a few lengths run one call each, many lengths are packed: all three give
    every sentence the outputs and context vector it gets alone, and zeros at padding."""
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(src_vocab=30, tgt_vocab=30, emb=8, hidden=16, layers=2, dropout=0.0)).eval()
    src_len = torch.tensor([3 + i % lengths for i in range(9)])
    src = torch.randint(4, 30, (9, int(src_len.max())))
    src = src.masked_fill(torch.arange(src.size(1)) >= src_len.unsqueeze(1), 0)
    outputs, (h, c) = model.encoder(src, src_len)
    for i, n in enumerate(src_len.tolist()):
        alone, (h1, c1) = model.encoder(src[i:i + 1, :n], torch.tensor([n]))
        assert torch.allclose(outputs[i, :n], alone[0], atol=1e-5)
        assert torch.allclose(h[:, i], h1[:, 0], atol=1e-5) and torch.allclose(c[:, i], c1[:, 0], atol=1e-5)
        assert not outputs[i, n:].any()


def test_encoder_keeps_the_batch_width_when_every_sentence_is_shorter():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(src_vocab=30, tgt_vocab=30, emb=8, hidden=16, layers=1, dropout=0.0)).eval()
    src = torch.tensor([[5, 6, 0, 0], [7, 8, 0, 0]])
    outputs, _ = model.encoder(src, torch.tensor([2, 2]))
    assert outputs.shape == (2, 4, 16) and not outputs[:, 2:].any()


def test_encoder_by_length_passes_gradients():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(src_vocab=30, tgt_vocab=30, emb=8, hidden=16, layers=1, dropout=0.0))
    src = torch.tensor([[5, 6, 7], [8, 9, 0]])
    outputs, (h, c) = model.encoder(src, torch.tensor([3, 2]))
    (outputs.sum() + h.sum() + c.sum()).backward()
    grad = model.encoder.embedding.weight.grad
    assert all(grad[t].abs().sum() > 0 for t in (5, 6, 7, 8, 9))
