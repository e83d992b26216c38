"""The fused output layer + cross-entropy of training (s2s/loss.py) against the plain computation."""
from __future__ import annotations

import pytest
import torch

from s2s.loss import output_loss
from s2s.tokenizer import PAD, SOS


def plain_loss(x, weight, bias, gold, smoothing):
    """What the fused loss must equal: logits, log-softmax, the smoothed cross-entropy, averaged over rows."""
    return plain_loss_of_logits(torch.nn.functional.linear(x, weight, bias), gold, smoothing)


def plain_loss_of_logits(logits, gold, smoothing):
    logp = logits.log_softmax(-1)
    nll = -logp.gather(-1, gold.unsqueeze(-1)).squeeze(-1)
    emittable = torch.ones(logits.size(-1), dtype=torch.bool)
    emittable[[PAD, SOS]] = False
    uniform = -logp[:, emittable].mean(-1)
    return ((1.0 - smoothing) * nll + smoothing * uniform).mean()


def inputs(rows: int, bias: bool, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, 24, generator=gen).requires_grad_()
    weight = (torch.randn(50, 24, generator=gen) * 0.5).requires_grad_()
    b = (torch.randn(50, generator=gen) * 0.5).requires_grad_() if bias else None
    gold = torch.randint(3, 50, (rows,), generator=gen)
    return x, weight, b, gold


@pytest.mark.parametrize("rows, chunk", [(37, 8), (37, 64), (5, 1)])  # chunks that do not divide the rows, one chunk
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kernel", ["torch", pytest.param("onednn", marks=pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch build"))])
def test_fused_loss_and_gradients_equal_the_plain_ones(rows, chunk, smoothing, bias, kernel):
    x, weight, b, gold = inputs(rows, bias)
    params = [x, weight] + ([b] if bias else [])
    expected = plain_loss(x, weight, b, gold, smoothing)
    expected_grads = torch.autograd.grad(expected * 3.0, params)
    got = output_loss(x, weight, b, gold, smoothing, chunk=chunk, kernel=kernel)
    got_grads = torch.autograd.grad(got * 3.0, params)  # an outer factor, as the trainer's token weighting
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    for g, e in zip(got_grads, expected_grads):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-7)


def test_without_gradients_only_the_loss_is_computed():
    x, weight, b, gold = inputs(37, True)
    with torch.no_grad():
        got = output_loss(x, weight, b, gold, 0.0, chunk=8)
    assert not got.requires_grad
    torch.testing.assert_close(got, plain_loss(x, weight, b, gold, 0.0).detach(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("tied", [False, True])
def test_the_teacher_forced_loss_is_the_models_own_cross_entropy(tied):
    """teacher_forced_loss (fused) against the model's plain logits at every real target position."""
    from conftest import reverse_examples
    from s2s.config import ModelConfig
    from s2s.data import collate
    from s2s.model import Seq2Seq
    from s2s.train import teacher_forced_loss

    cfg = ModelConfig(src_vocab=14, tgt_vocab=14, emb=16, hidden=32, layers=2, dropout=0.0, attention="luong",
                      tie_embeddings=tied)
    model = Seq2Seq(cfg, seed=4).train()
    batch = collate(reverse_examples(16, 3, low=2, high=9))
    params = [p for p in model.parameters()]
    got = teacher_forced_loss(model, batch, 0.1)
    got_grads = torch.autograd.grad(got, params, allow_unused=True)
    gold = batch.tgt[:, 1:]
    logits = model(batch.src, batch.src_len, batch.tgt[:, :-1])[gold != PAD]
    expected = plain_loss_of_logits(logits, gold[gold != PAD], 0.1)
    expected_grads = torch.autograd.grad(expected, params, allow_unused=True)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    for g, e in zip(got_grads, expected_grads):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-7)
