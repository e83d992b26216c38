"""Decoding-only copies of a trained model with prepacked weights: fast interactive decoding on CPUs.

At the batch sizes of interactive decoding (one sentence, K beams) every decoder step multiplies all the decoder's
weights (about 23 MB in fp32 for the shipped attention models) with a handful of vectors, and MKL's fp32 product of
a 5-row matrix runs at a fraction of the CPU's speed (measured: 0.6-1.0 ms for 5 x 1024 x 2048 at one thread). Faster
paths for the same products, each with its weights reordered once, when the model is loaded:

- fp32 through oneDNN (`PackedLinear`): the same arithmetic in fp32 (only the summation order differs, as between
  batch sizes), about 3 times faster at those shapes, and 2-2.5 times at batch decoding's 64-320 rows (AMD EPYC);
  used for fp32 decoding at each step size (a beam's few rows, a batch's many) where a measurement at load time
  finds it faster than the plain product (`fp32_kernel`).
- bf16 (`PackedLinear` on bf16 weights, `precision="bf16"`, CPUs with native bf16: AVX-512-BF16 or AMX): the
  encoder's LSTM and the decoder's gate and attention products on bf16 weights (fp32 accumulation, results back in
  fp32), the output layer (the logits every token choice is made from) on packed fp32. About 1.5 times faster than
  packed fp32 for one sentence; the tokens differ from fp32's on a few sentences (bench/quantized.py measures it).
  The app's choice where the CPU has it; the CLI's default is fp32.
- fp16 weights (`F16Linear`, `precision="fp16"`, x86 CPUs with AVX2: fbgemm's packed fp16 product): every decoder
  product (gates, attention, output layer) on weights rounded to fp16, with fp32 activations, sums and results, so
  a step reads half the bytes; the encoder and the teacher-forced pass stay the model's fp32. The app's choice where
  the CPU has no native bf16 and this is measured faster (`fp16_wins`): on the AMD EPYC family 25 model 1 (AVX2) one
  sentence takes about 0.7 times packed fp32's time, with the same tokens on 99.9-100% of test sentences.
- int8 (`QLinear`, PyTorch's fbgemm dynamic quantisation: weights int8 per output row, activations quantised per
  call, int32 accumulation): reads a quarter of the bytes, about ten times faster; the numbers change a little and
  so, on some sentences, do the tokens (bench/quantized.py measures both against fp32). Opt-in.

`PackedModel(model, linear)` offers what the search strategies and scoring use (`encode`, `init_state`, `step`,
`decode_all`, `decoder.logits`, `cfg`), so every strategy, the what-if, teacher-forced scoring and free running run on
the same weights. The decoder's LSTM runs step by step on one fused gate product per layer; embeddings, attention
scores and softmaxes are the model's own. The trained model is kept (`.model`) for anything that trains."""
from __future__ import annotations

import copy
import functools
import platform
import time
import warnings
from typing import Callable

import torch
from torch import nn

from .model import Encoded, Seq2Seq, State, StepOutput, attend
from .tokenizer import PAD

PRECISIONS = ("fp32", "fp16", "bf16", "int8", "auto")
CPU_ONLY = ("int8", "fp16", "bf16")  # the precisions with their own prepacked copy (PackedModel): CPU kernels
MAX_PACKED_ROWS = 16  # up to this many rows per step: "a beam" (interactive); more: batch decoding
BATCH_ROWS = 64  # the batch-decoding row count fp32_kernel measures at (the CLI's default batch)
Linear = Callable[[torch.Tensor], torch.Tensor]


def int8_available() -> bool:
    """True where PyTorch has a quantised CPU engine (fbgemm/x86, or qnnpack on ARM) for dynamic int8 products."""
    return any(e != "none" for e in torch.backends.quantized.supported_engines)


def _x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def bf16_available() -> bool:
    """True where oneDNN has native bf16 kernels on this CPU (AVX-512-BF16, AMX, or the ARM equivalents).

    oneDNN's own check also says yes on an AVX-512 CPU without bf16 instructions, where it emulates bf16 (slower
    than fp32: 30 vs 18 ms for one long sentence at 1 thread with ONEDNN_MAX_CPU_ISA=AVX512_CORE on the AMD EPYC), so
    on x86 the CPU's flags must show AVX-512-BF16 or AMX as well."""
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    return not _x86() or torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


@functools.lru_cache(maxsize=None)
def fp16_available() -> bool:
    """True where PyTorch has fbgemm's product on fp16 weights with fp32 activations and sums (x86 with AVX2)."""
    if "fbgemm" not in torch.backends.quantized.supported_engines:
        return False
    try:
        torch.ops.quantized.linear_prepack_fp16(torch.zeros(1, 1), None)
    except RuntimeError:  # a build or engine without it
        return False
    return True


def _auto(on_cpu: bool) -> str:
    if not on_cpu:
        return "fp32"
    if bf16_available():
        return "bf16"
    return "fp16" if fp16_wins() else "fp32"


def resolve(precision: str, device: str | torch.device = "cpu") -> str:
    """'auto' -> 'bf16' on a CPU with native bf16, else 'fp16' where fp16 weights are measured faster (`fp16_wins`),
    else 'fp32': the fastest kernel that keeps the quality goals (BLEU within 0.3 of fp32, the same tokens on >= 95%
    of test sentences); int8 misses the second, so it is asked for by name only. 'bf16' -> 'fp32' on a CPU without
    native bf16 (emulated bf16 is slower than fp32), 'fp16' -> 'fp32' without fbgemm's fp16 product; int8, fp16 and
    bf16 are CPU only."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    on_cpu = torch.device(device).type == "cpu"
    if precision == "auto":
        return _auto(on_cpu)
    if precision in CPU_ONLY and not on_cpu:
        raise ValueError(f"{precision} decoding runs on the CPU only")
    if precision == "bf16" and not bf16_available() or precision == "fp16" and not fp16_available():
        return "fp32"
    return precision


class PlainLinear:
    """y = x W^T + b with the weights as they are (torch's own product)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        self.weight, self.bias = weight.detach(), None if bias is None else bias.detach()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)


class PackedLinear:
    """y = x W^T + b in fp32 through oneDNN, W reordered once for products with a few rows."""

    ROWS = 5  # the reorder is tuned for this many rows (a beam of 5); other row counts work too
    DTYPE = torch.float32  # of the packed weights, the bias and the product's input and output

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        w = weight.detach().to(self.DTYPE).contiguous()
        self.packed = torch.ops.mkldnn._reorder_linear_weight(w, self.ROWS)
        self.bias = None if bias is None else bias.detach().to(self.DTYPE).contiguous()
        self.out_features = w.size(0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.size(-1)).contiguous()
        y = torch.ops.mkldnn._linear_pointwise(flat, self.packed, self.bias, "none", [], "")
        return y.reshape(*x.shape[:-1], self.out_features)


class BF16Linear(PackedLinear):
    """y = x W^T + b through oneDNN with W and x rounded to bf16 (fp32 accumulation); y comes back in fp32."""

    DTYPE = torch.bfloat16

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return super().__call__(x.bfloat16()).float()


class F16Linear:
    """y = x W^T + b with W stored in fp16 (fbgemm's packed fp16 product): x, the sums and y stay fp32, so the only
    change from fp32 is W rounded to 11 significant bits; half the bytes to read per decoder step."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        w = weight.detach().float().cpu().contiguous()
        b = None if bias is None else bias.detach().float().cpu().contiguous()
        self.packed = torch.ops.quantized.linear_prepack_fp16(w, b)
        self.out_features = w.size(0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.size(-1)).contiguous()
        y = torch.ops.quantized.linear_dynamic_fp16(flat, self.packed)
        return y.reshape(*x.shape[:-1], self.out_features)


def int8_full_range() -> bool:
    """Whether dynamic int8 products may quantise activations to all 8 bits here. fbgemm's x86 kernels without
    AVX-512-VNNI multiply u8 x s8 pairs into saturating int16 sums (vpmaddubsw), so full-range activations overflow
    there: on the AMD EPYC family 25 model 1 (AVX2 only) a 7 x 200 product was off by 0.85 where its largest value
    is 6.9. There activations get 7 bits (reduce_range), which cannot overflow."""
    return not _x86() or bool(torch.cpu.get_capabilities().get("avx512_vnni", False))


class QLinear:
    """y = x W^T + b with W int8 per output row (symmetric), x quantised per call (fbgemm dynamic linear)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None, full_range: bool | None = None):
        """`full_range`: 8-bit activations (default: where they cannot overflow, `int8_full_range`), else 7."""
        self.reduce_range = not (int8_full_range() if full_range is None else full_range)
        w = weight.detach().float().cpu().contiguous()
        scales = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12).double()
        zeros = torch.zeros(w.size(0), dtype=torch.long)
        with warnings.catch_warnings():  # the quantised tensor API warns of its future; torch is pinned
            warnings.simplefilter("ignore")
            qw = torch.quantize_per_channel(w, scales, zeros, 0, torch.qint8)
            self.packed = torch.ops.quantized.linear_prepack(qw, None if bias is None else bias.detach().float())
        self.out_features = w.size(0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # full 8-bit activations where the kernel allows: 7 bits lost 14 points of same-token agreement on the
        # shipped models (bench/quantized.py)
        flat = x.reshape(-1, x.size(-1)).contiguous()
        y = torch.ops.quantized.linear_dynamic(flat, self.packed, self.reduce_range)
        return y.reshape(*x.shape[:-1], self.out_features)


def best_seconds(linear, x: torch.Tensor, repeat: int) -> float:
    """The best of 3 timings of `repeat` calls of linear(x) (a kernel's speed, measured where it runs)."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(repeat):
            linear(x)
        best = min(best, time.perf_counter() - began)
    return best


FASTER = 1.1  # oneDNN is used where it is at least this much faster than the plain product


def onednn_wins(plain: float, onednn: float) -> bool:
    """The choice of fp32_kernel from two timings (seconds): oneDNN when it is FASTER times quicker or more."""
    return onednn * FASTER <= plain


@functools.lru_cache(maxsize=None)
def fp32_kernel(hidden: int = 512, threads: int | None = None, rows: int = PackedLinear.ROWS) -> str:
    """'onednn' when the packed oneDNN product of a decoder step of `rows` rows (rows x 2*hidden -> 4*hidden) is
    measurably faster here than torch's plain one (`onednn_wins`), else 'plain'. Measured once per process, thread
    count and row count (best of 3 timings of 10 or more calls each; both row counts took 0.15 s on the Intel Xeon); `threads` only keys the
    cache (the caller's current setting is what runs). Measured at 2 threads: oneDNN 2.5-3x MKL at 5, 64 and 320
    rows on the AMD EPYC; 1.35-1.5x at 5 rows and 1.1-1.3x at 64 on the Intel Xeon, where batch decoding is 9-12%
    faster with it."""
    if not torch.backends.mkldnn.is_available():
        return "plain"
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(4 * hidden, 2 * hidden, generator=gen) * 0.05
    x = torch.randn(rows, 2 * hidden, generator=gen)
    repeat = max(10, 100 // rows)
    try:
        packed = PackedLinear(w)
        with torch.inference_mode():
            plain, fast = best_seconds(PlainLinear(w), x, repeat), best_seconds(packed, x, repeat)
    except RuntimeError:  # a build without the op
        return "plain"
    return "onednn" if onednn_wins(plain, fast) else "plain"


@functools.lru_cache(maxsize=None)
def fp16_wins(hidden: int = 512, rows: int = PackedLinear.ROWS) -> bool:
    """Whether the fp16-weight product of a decoder step (rows x 2*hidden -> 4*hidden) is measurably faster here than
    the packed fp32 one (the rule of `onednn_wins`). Measured once per process (best of 3 timings of 20 calls each).
    On the AMD EPYC family 25 model 1 (AVX2): 0.44 vs 0.59 ms at 5 rows with the weights in cache, 0.47 vs 1.03 ms
    when four such weights take turns (as a decoder step's do)."""
    if not fp16_available() or not torch.backends.mkldnn.is_available():
        return False
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(4 * hidden, 2 * hidden, generator=gen) * 0.05
    x = torch.randn(rows, 2 * hidden, generator=gen)
    try:
        fp32, fp16 = PackedLinear(w), F16Linear(w)
        with torch.inference_mode():
            slow, fast = best_seconds(fp32, x, 20), best_seconds(fp16, x, 20)
    except RuntimeError:
        return False
    return onednn_wins(slow, fast)


KERNELS: dict[str, type] = {"plain": PlainLinear, "onednn": PackedLinear, "fp16": F16Linear, "bf16": BF16Linear,
                            "int8": QLinear}
OUTPUT_KERNELS: dict[str, type] = {"bf16": PackedLinear}  # the output layer's kernel where it is not the others'
# (bf16: the logits stay fp32)


def _tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) = 2 sigmoid(2x) - 1 (within 3e-7 of torch.tanh): torch's CPU sigmoid is several times faster than
    its tanh (measured on the AMD EPYC at 320 x 512: 44 vs 285 us)."""
    return x.mul(2).sigmoid_().mul_(2).sub_(1)


class PackedLSTM:
    """A stacked LSTM on one fused gate product per layer and step: [x, h] [W_ih | W_hh]^T + (b_ih + b_hh), the
    cell candidate's rows (g) doubled (exact in every dtype), so that one sigmoid over all four gates gives
    tanh(g) = 2 sigmoid(2g) - 1 as well."""

    def __init__(self, rnn: nn.LSTM, linear: type):
        self.layers = rnn.num_layers
        self.hidden = rnn.hidden_size
        self.gates = []
        double = torch.ones(4 * rnn.hidden_size, 1)
        double[2 * rnn.hidden_size:3 * rnn.hidden_size] = 2.0
        for layer in range(rnn.num_layers):
            w = torch.cat([getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")], dim=1)
            b = getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")
            self.gates.append(linear(w * double.to(w), b * double.to(b).squeeze(1)))

    def cell(self, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One LSTM cell step (the gate order and maths of torch.lstm_cell)."""
        i, f, g2, o = self.gates[layer](torch.cat([x, h], dim=1)).sigmoid_().chunk(4, dim=1)
        c = torch.addcmul(f * c, i, g2.mul(2).sub_(1))  # sigmoid(2g) * 2 - 1 = tanh(g)
        return o * _tanh(c), c

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x (batch, input) -> top output (batch, hidden), new (h, c) of every layer."""
        hs, cs = [], []
        for layer in range(self.layers):
            x, c = self.cell(layer, x, state[0][layer], state[1][layer])
            hs.append(x)
            cs.append(c)
        return x, (torch.stack(hs), torch.stack(cs))

    def run(self, x: torch.Tensor, state: State | None = None,
            lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """x (batch, T, input) -> outputs (batch, T, hidden), final (h, c). With `lengths`, each sentence's state
        stops at its own last position (padding never reaches it) and outputs at padding are zero."""
        if state is None:
            zeros = x.new_zeros(self.layers, x.size(0), self.hidden)
            state = (zeros, zeros)
        outputs = []
        for t in range(x.size(1)):
            out, new = self.step(x[:, t], state)
            if lengths is not None:
                live = (lengths > t).unsqueeze(1)
                out = out * live
                new = (torch.where(live, new[0], state[0]), torch.where(live, new[1], state[1]))
            outputs.append(out)
            state = new
        return torch.stack(outputs, dim=1), state


class PackedDecoder:
    """The decoder's step, teacher-forced pass and output layer on prepacked weights."""

    def __init__(self, decoder, linear: type, output: type | None = None):
        """`output`: the kernel of the output layer (and its tied projection); default `linear`."""
        output = output or linear
        self.embedding = decoder.embedding
        self.rnn = PackedLSTM(decoder.rnn, linear)
        self.attention = decoder.attention  # scores and softmax: the model's own (one query per step)
        self.combine = linear(decoder.combine.weight) if decoder.combine is not None else None
        self.project = output(decoder.project.weight) if decoder.tied else None
        self.out = output(decoder.embedding.weight, decoder.out_bias) if decoder.tied else \
            output(decoder.out.weight, decoder.out.bias)

    def attend(self, dec_out: torch.Tensor, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
        return attend(self.attention, self.combine, dec_out, enc)

    def logits(self, pre: torch.Tensor) -> torch.Tensor:
        return self.out(self.project(pre) if self.project is not None else pre)

    def step(self, prev: torch.Tensor, state: State, enc: Encoded) -> StepOutput:
        out, state = self.rnn.step(self.embedding(prev), state)
        pre, weights = self.attend(out.unsqueeze(1), enc)
        return StepOutput(self.logits(pre.squeeze(1)), state, None if weights is None else weights.squeeze(1))


class PackedModel:
    """A trained Seq2Seq for decoding and scoring only, its products on `kernel` ('onednn', 'fp16', 'bf16' or 'int8';
    see the module's docstring). fp32 and fp16 keep the model's own encoder and teacher-forced pass (fused fp32 LSTM
    calls; fp16's teacher-forced log-probs are within 1e-3 of its steps'); int8 runs
    them on int8 weights too, so that every number comes from the same weights; bf16 runs the encoder's fused LSTM
    on a bf16 copy of the encoder and keeps the model's fp32 teacher-forced pass: its log-probs are within 0.005 of
    the bf16 steps' (a fused bf16 LSTM, which also rounds h and c to bf16, drifted further: 0.007 on the tests'
    model)."""

    def __init__(self, model: Seq2Seq, kernel: str, whole: bool | None = None, small: bool = True,
                 large: bool = True):
        """`whole`: also the encoder and the teacher-forced pass on `kernel` (default: for int8 only).
        `small` / `large`: decoder steps of up to MAX_PACKED_ROWS rows (a beam) / more (batch decoding) run on
        `kernel`; the others on the model's own products (fp32 only: int8 runs every step on its weights)."""
        if next(model.parameters()).device.type != "cpu":
            raise ValueError("prepacked decoding runs on the CPU only")
        linear = KERNELS[kernel]
        self.model, self.kernel, self.cfg = model, kernel, model.cfg
        self.small, self.large = (True, True) if kernel == "int8" else (small, large)
        self.whole = kernel == "int8" if whole is None else whole
        with torch.no_grad():
            self.decoder = PackedDecoder(model.decoder, linear, OUTPUT_KERNELS.get(kernel))
            self.encoder = PackedLSTM(model.encoder.rnn, linear) if self.whole else None
            self.bf16_encoder = copy.deepcopy(model.encoder).bfloat16() if kernel == "bf16" else None
            attention = model.decoder.attention
            self.key = linear(attention.key.weight) if self.whole and attention is not None else None

    def parameters(self):
        return self.model.parameters()

    def eval(self) -> "PackedModel":
        return self

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> Encoded:
        if self.bf16_encoder is not None:
            return self._encode_bf16(src, src_len)
        if self.encoder is None:
            return self.model.encode(src, src_len)
        outputs, final = self.encoder.run(self.model.encoder.embedding(src), lengths=src_len.to(src.device))
        keys = self.key(outputs) if self.key is not None else None
        return Encoded(outputs, src != PAD, final, keys)

    def _encode_bf16(self, src: torch.Tensor, src_len: torch.Tensor) -> Encoded:
        """The model's own encoder (same length handling) on bf16 weights; outputs, state and keys in fp32."""
        outputs, (h, c) = self.bf16_encoder(src, src_len)
        outputs = outputs.float()
        attention = self.model.decoder.attention
        keys = attention.keys(outputs) if attention is not None else None
        return Encoded(outputs, src != PAD, (h.float(), c.float()), keys)

    def init_state(self, enc: Encoded) -> State:
        return enc.final

    def step(self, prev: torch.Tensor, state: State, enc: Encoded) -> StepOutput:
        if not (self.small if prev.size(0) <= MAX_PACKED_ROWS else self.large):
            return self.model.step(prev, state, enc)  # measured no faster here at this many rows
        return self.decoder.step(prev, state, enc)

    def decode_all(self, tgt_in: torch.Tensor, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.whole:
            return self.model.decode_all(tgt_in, enc)
        out, _ = self.decoder.rnn.run(self.decoder.embedding(tgt_in), self.init_state(enc))
        return self.decoder.attend(out, enc)


def for_decoding(model: Seq2Seq, precision: str = "fp32", kernel: str | None = None) -> Seq2Seq | PackedModel:
    """The model decoding should run on: int8 -> its int8 copy; fp16 / bf16 -> its fp16-weight / bf16 copy (fp32 where
    the CPU has no such kernel); fp32 -> a oneDNN-packed copy for the step sizes
    (a beam's few rows, batch decoding's many) where that is measured faster on this CPU (`fp32_kernel`), else the
    model itself. `kernel` forces one for every step ('plain', 'onednn', 'int8')."""
    device = next(model.parameters()).device
    if kernel is not None:
        return model if kernel == "plain" else PackedModel(model, kernel)
    precision = resolve(precision, device)
    if precision in CPU_ONLY:
        return PackedModel(model, precision)
    if device.type != "cpu":
        return model
    threads = torch.get_num_threads()
    small = fp32_kernel(model.cfg.hidden, threads) == "onednn"
    large = fp32_kernel(model.cfg.hidden, threads, BATCH_ROWS) == "onednn"
    return PackedModel(model, "onednn", small=small, large=large) if small or large else model
