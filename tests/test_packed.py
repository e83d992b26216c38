"""Prepacked decoding (s2s/packed.py): the same model with its products on oneDNN fp32 or int8 weights."""
from __future__ import annotations

import pytest
import torch

from s2s.config import DecodeConfig
from s2s.data import collate
from s2s.decoding import decode, score_reference
from s2s.model import Seq2Seq
from s2s import packed
from s2s.packed import PackedModel, QLinear, for_decoding, resolve
from s2s.tokenizer import PAD, SOS

from conftest import reverse_examples


def _batch(n: int = 24, seed: int = 5):
    return collate(reverse_examples(n, seed, low=2, high=7))


def _run(model, strategy: str, per_batch: int = 24):
    """Hypotheses of 24 sentences, decoded `per_batch` sentences at a time."""
    examples, results = reverse_examples(24, 5, low=2, high=7), []
    cfg = DecodeConfig(strategy=strategy, beam_size=4, n_best=4, record_top=5)
    for i in range(0, len(examples), per_batch):
        b = collate(examples[i:i + per_batch])
        results += decode(model, b.src, b.src_len, cfg)
    return [[(h.tokens, h.logprob) for h in r.hypotheses] for r in results]


def _product_case(inputs: int = 200):
    """A 300 x `inputs` weight, its bias, 7 input rows and their exact fp32 product (the kernel product tests)."""
    gen = torch.Generator().manual_seed(0)
    w, b = torch.randn(300, inputs, generator=gen) * 0.1, torch.randn(300, generator=gen)
    x = torch.randn(7, inputs, generator=gen)
    return w, b, x, torch.nn.functional.linear(x, w, b)


def _teacher_forced_gaps(model) -> list[float]:
    """|teacher-forced log-prob - the log-prob greedy search saw| at every step of greedy decoding's own outputs."""
    b = _batch()
    with torch.inference_mode():
        greedy = decode(model, b.src, b.src_len, DecodeConfig(strategy="greedy"))
        outputs = [r.hypotheses[0].tokens for r in greedy]
        tgt = torch.nn.utils.rnn.pad_sequence([torch.tensor([SOS] + t) for t in outputs], batch_first=True,
                                              padding_value=PAD)
        scored = score_reference(model, b.src, b.src_len, tgt)
    return [abs(a - s.logprob) for r, sc in zip(greedy, scored)
            for a, s in zip(sc.gold_logprobs, r.hypotheses[0].steps, strict=True)]


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_plain_products_reproduce_the_model(reverse_model, whole, strategy):
    """The packed structure itself (fused gates, step-by-step encoder with lengths, tied output) is the model's maths:
    with torch's own products it gives the model's hypotheses and log-probabilities."""
    ours, theirs = _run(PackedModel(reverse_model, "plain", whole=whole), strategy, 3), _run(reverse_model, strategy)
    assert [[t for t, _ in r] for r in ours] == [[t for t, _ in r] for r in theirs]
    for a, b in zip(ours, theirs):
        assert [lp for _, lp in a] == pytest.approx([lp for _, lp in b], abs=1e-4)


def test_step_by_step_encoder_stops_at_each_sentence_end(reverse_model):
    """Padding never reaches a sentence's final state: equal to the model's own encoder (one call per length)."""
    b = _batch()
    assert len(set(b.src_len.tolist())) > 1
    with torch.inference_mode():
        mine = PackedModel(reverse_model, "plain", whole=True).encode(b.src, b.src_len)
        ref = reverse_model.encode(b.src, b.src_len)
    for x, y in [(mine.outputs, ref.outputs), (mine.final[0], ref.final[0]), (mine.final[1], ref.final[1]),
                 (mine.keys, ref.keys)]:
        assert torch.allclose(x, y, atol=1e-5)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch build")
@pytest.mark.parametrize("per_batch", [3, 24])  # beam: 12 rows per step (a sentence's beam), 96 (batch decoding)
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_onednn_fp32_gives_the_same_hypotheses(reverse_model, strategy, per_batch, monkeypatch):
    model = PackedModel(reverse_model, "onednn")
    monkeypatch.setattr(reverse_model, "step", _refuse)  # every step runs on the packed weights
    ours = _run(model, strategy, per_batch)
    monkeypatch.undo()
    theirs = _run(reverse_model, strategy)
    assert [[t for t, _ in r] for r in ours] == [[t for t, _ in r] for r in theirs]
    for a, b in zip(ours, theirs):
        assert [lp for _, lp in a] == pytest.approx([lp for _, lp in b], abs=1e-4)


def _refuse(*args, **kwargs):
    raise AssertionError("the model's own step ran instead of the packed one")


def _kernels(monkeypatch, small: str, large: str):
    """fp32_kernel as if measured: `small` at a beam's rows, `large` at batch-decoding rows."""
    monkeypatch.setattr(packed, "fp32_kernel",
                        lambda hidden=512, threads=None, rows=packed.PackedLinear.ROWS:
                        small if rows <= packed.MAX_PACKED_ROWS else large)


def _steps_on(model, rows: int) -> str:
    """Which weights a decoder step of `rows` rows runs on: 'packed' or 'model'."""
    b = collate(reverse_examples(rows, 3, low=3, high=4))
    with torch.inference_mode(), pytest.MonkeyPatch.context() as patch:
        enc = model.encode(b.src, b.src_len)
        patch.setattr(model.model, "step", _refuse)
        try:
            model.step(b.tgt[:, 0], model.init_state(enc), enc)
        except AssertionError:  # _refuse: the model's own step ran
            return "model"
    return "packed"


@pytest.mark.parametrize("small,large", [("onednn", "onednn"), ("plain", "onednn"), ("onednn", "plain")])
def test_the_kernel_is_chosen_per_row_count(reverse_model, monkeypatch, small, large):
    """A beam's step (a few rows) and batch decoding's (64 rows and more) each run where they were measured faster
    (on the AMD EPYC oneDNN's fp32 product was 2.5x MKL's at 64 and 320 rows too, not only at 5)."""
    _kernels(monkeypatch, small, large)
    model = for_decoding(reverse_model, "fp32")
    assert isinstance(model, PackedModel)
    assert _steps_on(model, 3) == ("packed" if small == "onednn" else "model")
    assert _steps_on(model, 40) == ("packed" if large == "onednn" else "model")


def test_plain_everywhere_keeps_the_model(reverse_model, monkeypatch):
    _kernels(monkeypatch, "plain", "plain")
    assert for_decoding(reverse_model, "fp32") is reverse_model


@pytest.mark.parametrize("full_range", [None, False])
def test_int8_products_are_close_to_fp32(full_range):
    """The default activation range (8 bits where the CPU's kernel cannot overflow, 7 where it can: on an AVX2-only
    CPU 8 bits were off by 12% of the largest value) and 7 bits everywhere."""
    w, b, x, exact = _product_case()
    approx = QLinear(w, b, full_range=full_range)(x)
    assert approx.shape == exact.shape
    assert (approx - exact).abs().max() < 0.02 * exact.abs().max()  # 8-bit weights, 7- or 8-bit activations
    assert not torch.equal(approx, exact)  # it really is another product


def test_int8_model_scores_close_to_fp32_and_decodes_the_reverse_task(reverse_model):
    q = PackedModel(reverse_model, "int8")
    b = _batch()
    with torch.inference_mode():
        exact = score_reference(reverse_model, b.src, b.src_len, b.tgt)
        approx = score_reference(q, b.src, b.src_len, b.tgt)
    # 8-bit activations: within 0.05; 7-bit ones (CPUs whose int8 kernel would overflow, packed.int8_full_range):
    # twice the rounding step, within 0.15 (0.11 measured on the AMD EPYC family 25 model 1)
    tol = 0.05 if packed.int8_full_range() else 0.15
    for e, a in zip(exact, approx):
        assert a.gold_logprobs == pytest.approx(e.gold_logprobs, rel=tol, abs=tol)
    greedy = decode(q, b.src, b.src_len, DecodeConfig(strategy="greedy"))
    gold = [ex.tgt[1:] for ex in reverse_examples(24, 5, low=2, high=7)]
    right = sum(r.hypotheses[0].tokens == g for r, g in zip(greedy, gold))
    assert right >= 20  # the fp32 model reverses nearly all of them


def test_resolve_and_choice(monkeypatch):
    assert resolve("fp32") == "fp32"
    assert resolve("int8") == "int8"
    assert resolve("auto", "cuda") == "fp32"
    # auto: the fastest kernel that keeps the quality goals (bf16 where native, else packed fp32), never int8, which
    # changes 11-20% of the shipped models' test outputs
    monkeypatch.setattr(packed, "bf16_available", lambda: True)
    assert resolve("auto") == "bf16"
    monkeypatch.setattr(packed, "bf16_available", lambda: False)
    monkeypatch.setattr(packed, "fp16_wins", lambda: False)
    assert resolve("auto") == "fp32"
    with pytest.raises(ValueError, match="CPU only"):
        resolve("int8", "cuda")
    with pytest.raises(ValueError, match="precision"):
        resolve("fp8")


def test_fp32_falls_back_to_plain_without_onednn(reverse_model, monkeypatch):
    packed.fp32_kernel.cache_clear()
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    try:
        assert packed.fp32_kernel(64, 1) == "plain"
        assert for_decoding(reverse_model, "fp32") is reverse_model
        assert isinstance(for_decoding(reverse_model, "int8"), PackedModel)
    finally:
        packed.fp32_kernel.cache_clear()


def test_translator_keeps_the_trained_model_fp32(toy_checkpoint):
    from s2s.translator import Translator

    t = Translator.load(toy_checkpoint, precision="int8")
    assert t.precision == "int8" and isinstance(t.model, PackedModel)
    assert isinstance(t.ckpt.model, Seq2Seq) and t.model.model is t.ckpt.model
    assert t.translate_one("red cat", DecodeConfig()).text


def test_cli_translate_with_int8(toy_checkpoint):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "s2s", "translate", "--model", str(toy_checkpoint), "--precision",
                          "int8"], input="red cat\ngreen dog\n", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 2


needs_bf16 = pytest.mark.skipif(not packed.bf16_available(), reason="this CPU has no native bf16 oneDNN kernels")


@needs_bf16
def test_bf16_products_are_close_to_fp32_and_return_fp32():
    w, b, x, exact = _product_case()
    approx = packed.BF16Linear(w, b)(x)
    assert approx.dtype == torch.float32 and approx.shape == exact.shape
    assert (approx - exact).abs().max() < 0.02 * exact.abs().max()  # 8-bit mantissas
    assert not torch.equal(approx, exact)  # it really is another product


@needs_bf16
def test_bf16_model_keeps_the_output_layer_fp32_and_decodes_the_reverse_task(reverse_model):
    m = for_decoding(reverse_model, "bf16")
    assert isinstance(m, PackedModel) and m.kernel == "bf16"
    assert isinstance(m.decoder.rnn.gates[0], packed.BF16Linear)
    assert isinstance(m.decoder.out, packed.PackedLinear)  # the logits: fp32 products
    b = _batch()
    with torch.inference_mode():
        enc, ref = m.encode(b.src, b.src_len), reverse_model.encode(b.src, b.src_len)
    assert enc.outputs.dtype == torch.float32 and enc.final[0].dtype == torch.float32
    assert (enc.outputs - ref.outputs).abs().max() < 0.05
    assert not torch.equal(enc.outputs, ref.outputs)  # the encoder ran on bf16 weights
    assert torch.equal(enc.outputs[~enc.mask], torch.zeros_like(enc.outputs[~enc.mask]))  # padding stays out
    greedy = decode(m, b.src, b.src_len, DecodeConfig(strategy="greedy"))
    gold = [ex.tgt[1:] for ex in reverse_examples(24, 5, low=2, high=7)]
    assert sum(r.hypotheses[0].tokens == g for r, g in zip(greedy, gold)) >= 20


def test_bf16_resolves_on_the_cpu_only():
    assert resolve("bf16") == ("bf16" if packed.bf16_available() else "fp32")
    with pytest.raises(ValueError, match="CPU only"):
        resolve("bf16", "cuda")


@pytest.mark.parametrize("native", [True, False])
def test_bf16_is_available_only_where_the_cpu_has_bf16_instructions(monkeypatch, native):
    """oneDNN reports bf16 support on any AVX-512 CPU (it emulates bf16 there, slower than fp32): on x86 the app
    must also see AVX-512-BF16 or AMX among the CPU's own flags."""
    monkeypatch.setattr(packed, "_x86", lambda: True)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert packed.bf16_available() is native
    assert resolve("bf16") == ("bf16" if native else "fp32")


@needs_bf16
def test_cli_translate_with_bf16(toy_checkpoint):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "s2s", "translate", "--model", str(toy_checkpoint), "--precision",
                          "bf16"], input="red cat\ngreen dog\n", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 2


@needs_bf16
def test_bf16_teacher_forced_scores_match_its_own_steps(reverse_model):
    """What-if and scoring (the bf16 encoder, the decoder's fp32 LSTM) agree with bf16 decoding: scoring the greedy
    output teacher-forced gives back the log-probs greedy search saw, to within 0.005."""
    gaps = sorted(_teacher_forced_gaps(for_decoding(reverse_model, "bf16")))
    # bf16 keeps 8 significant bits (0.4%): with logits of a few units a step's log-prob can move by ~0.01. Measured:
    # the largest gap 0.002 on the AMD EPYC, 0.0084 on the Intel Xeon (one step of 118; the rest <= 0.001); a fused
    # bf16 LSTM for scoring (h, c rounded to bf16 too) drifted further on every step. Typical steps agree closely.
    assert gaps[-1] < 0.02
    assert gaps[len(gaps) // 2] < 1e-4


@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])  # small, ordinary and mostly saturated gates
def test_packed_lstm_steps_equal_torch_lstm(scale):
    """The fused cell (one sigmoid over all gates, tanh as 2 sigmoid(2x) - 1) is torch's LSTM to float precision."""
    gen = torch.Generator().manual_seed(3)
    rnn = torch.nn.LSTM(6, 16, num_layers=2, batch_first=True)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
    x = torch.randn(5, 7, 6, generator=gen)
    with torch.inference_mode():
        ref, (h, c) = rnn(x)
        ours, (h2, c2) = packed.PackedLSTM(rnn, packed.PlainLinear).run(x)
    for a, b in [(ours, ref), (h2, h), (c2, c)]:
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


def test_onednn_is_chosen_when_it_is_a_tenth_faster_or_more():
    """The decision rule of fp32_kernel: on the Intel Xeon oneDNN's batch step product is 1.08-1.29x MKL's and the
    whole batch decoding 9-12% faster with it, so a 1.3x bar let noise pick either; 1.1x is the bar."""
    assert packed.onednn_wins(plain=1.15, onednn=1.0)
    assert not packed.onednn_wins(plain=1.05, onednn=1.0)
    assert not packed.onednn_wins(plain=1.0, onednn=1.2)


@pytest.mark.parametrize("precision,note", [("bf16", "no native bf16"), ("fp16", "no fp16-weight product"),
                                            ("fp32", None)])
def test_cli_says_when_reduced_precision_decoding_runs_in_fp32(toy_checkpoint, monkeypatch, capsys, precision,
                                                               note):
    """`translate --precision bf16` on a CPU without native bf16 (or fp16 where there is no fbgemm fp16-weight
    product) decodes in fp32: stderr says so (stdout keeps only the translations); asking for fp32 says nothing."""
    import io

    from s2s.__main__ import main

    monkeypatch.setattr(packed, "bf16_available", lambda: False)
    monkeypatch.setattr(packed, "fp16_available", lambda: False)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"red cat\n")))
    assert main(["translate", "--model", str(toy_checkpoint), "--precision", precision]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1
    if note is None:
        assert err == ""
    else:
        assert note in err and "decoding in fp32" in err


needs_fp16 = pytest.mark.skipif(not packed.fp16_available(), reason="no fbgemm fp16-weight product on this CPU")


@needs_fp16
def test_fp16_products_are_fp32_products_on_fp16_rounded_weights():
    """fp16 weights, fp32 activations and sums: the product of the weights rounded to fp16, not of the fp32 ones."""
    w, b, x, exact = _product_case(1000)
    rounded = torch.nn.functional.linear(x, w.half().float(), b)
    approx = packed.F16Linear(w, b)(x)
    assert approx.dtype == torch.float32 and approx.shape == exact.shape
    off_rounded, off_exact = (approx - rounded).abs().max(), (approx - exact).abs().max()
    assert off_rounded < 1e-5 * exact.abs().max() * 10
    assert off_exact > 10 * off_rounded  # it really runs on fp16 weights
    assert off_exact < 1e-3 * exact.abs().max()  # 11 significant bits


@needs_fp16
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_fp16_model_decodes_as_fp32_does(reverse_model, strategy):
    """Every decoder product on fp16 weights (the encoder and teacher-forced scoring stay the model's fp32): the same
    hypotheses as fp32 on the reverse task, log-probs within 0.1% (n-best totals of unlikely hypotheses sum larger
    per-step gaps)."""
    m = for_decoding(reverse_model, "fp16")
    assert isinstance(m, PackedModel) and m.kernel == "fp16"
    assert isinstance(m.decoder.rnn.gates[0], packed.F16Linear) and isinstance(m.decoder.out, packed.F16Linear)
    ours, ref = _run(m, strategy, per_batch=3), _run(reverse_model, strategy, per_batch=3)
    assert [[t for t, _ in r] for r in ours] == [[t for t, _ in r] for r in ref]
    pairs = [(a, b) for o, r in zip(ours, ref) for (_, a), (_, b) in zip(o, r)]
    assert [a for a, _ in pairs] == pytest.approx([b for _, b in pairs], rel=1e-3, abs=1e-3)
    assert any(a != b for a, b in pairs)  # not fp32's own numbers


@needs_fp16
def test_fp16_teacher_forced_scores_match_its_own_steps(reverse_model):
    """What-if and scoring (the model's fp32 teacher-forced pass) agree with fp16 decoding to within 1e-3."""
    assert max(_teacher_forced_gaps(for_decoding(reverse_model, "fp16"))) < 1e-3


def test_auto_takes_fp16_where_there_is_no_native_bf16_and_fp16_is_faster(monkeypatch):
    """auto: bf16 where native; else fp16 weights where that product is measured faster here (AVX2 CPUs: 1.3-2x at a
    beam's 5 rows); else fp32. Asking for fp16 without the product gives fp32; fp16 is CPU only."""
    monkeypatch.setattr(packed, "bf16_available", lambda: False)
    monkeypatch.setattr(packed, "fp16_available", lambda: True)
    monkeypatch.setattr(packed, "fp16_wins", lambda: True)
    assert resolve("auto") == "fp16"
    assert resolve("auto", "cuda") == "fp32"
    monkeypatch.setattr(packed, "fp16_wins", lambda: False)
    assert resolve("auto") == "fp32"
    assert resolve("fp16") == "fp16"  # asked for by name: used where it exists, faster or not
    monkeypatch.setattr(packed, "bf16_available", lambda: True)
    monkeypatch.setattr(packed, "fp16_wins", lambda: True)
    assert resolve("auto") == "bf16"
    monkeypatch.setattr(packed, "fp16_available", lambda: False)
    assert resolve("fp16") == "fp32"
    with pytest.raises(ValueError, match="CPU only"):
        resolve("fp16", "cuda")


def test_fp16_wins_by_the_same_rule_as_onednn(monkeypatch):
    """fp16_wins compares the fp16-weight product with the packed fp32 one at a beam's rows: FASTER times or more."""
    monkeypatch.setattr(packed, "fp16_available", lambda: False)
    packed.fp16_wins.cache_clear()
    try:
        assert packed.fp16_wins() is False  # nothing to measure
    finally:
        packed.fp16_wins.cache_clear()
