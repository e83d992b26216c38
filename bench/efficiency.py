"""Efficiency of one training step: useful floating-point work / time, as a share of the measured matmul peak.

FLOPs are counted from the shapes, for the real (non-pad) tokens only, so padding and overheads count as losses:
  - embedding lookups: free
  - LSTM layer, per token: 2 * 4H(I + H)  (I = input size: emb for layer 1, H above it)
  - attention keys, per source token: 2 H^2 (Luong and Bahdanau); Bahdanau query, per target token: 2 H^2
  - attention per (target, source) pair: scores 2H (Luong: dot; Bahdanau: v . tanh(..)) + context 2H
  - combine [h; context] -> H, per target token: 2 * 2H * H
  - output layer, per target token: 2 H V
  - forward + backward = 3 x forward; elementwise work (gates, softmax, Adam) is not counted.
Peak: the fastest fp32 kernel this machine runs with the same threads, of several kinds whose FLOPs are known:
torch.mm at 1024^2, 2048^2 and 4096^2 (BLAS, e.g. MKL), the model's output-layer shape through nn.Linear, and a
2-layer nn.LSTM forward (oneDNN's fused kernels, which on some CPUs run twice as fast as MKL's mm), and oneDNN's
fp32 matrix product with prepacked weights at the output layer's and an LSTM layer's shapes. Measured before,
between and after the models in the same run; every row is reported against the best peak seen, so a percentage
above 100 would mean the step beat every kernel measured (it cannot, as each step is made of such kernels).
Two kinds of batch: real Multi30k batches (length-bucketed, as trained) and equal-length random batches with the
data's mean lengths (no padding). Each configuration runs --rounds times, interleaved; the best round is reported
(and the median round's percentage), as the best matmul is the peak.

    python bench/efficiency.py --attention luong,none --steps 30 --warmup 5
"""
from __future__ import annotations

import random
import statistics
import time

import torch

from common import base_parser, emit, model_config, vocabs


def _best_gflops(run, flops: float, reps: int) -> float:
    run()
    best = float("inf")
    for _ in range(reps):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return flops / best / 1e9


@torch.no_grad()
def kernel_peaks(reps: int = 5) -> dict[str, float]:
    """GFLOP/s of each reference kernel (fp32, this process's threads): its best of `reps`."""
    peaks = {}
    for n in (1024, 2048, 4096):
        a, b = torch.randn(n, n), torch.randn(n, n)
        peaks[f"mm {n}"] = _best_gflops(lambda: torch.mm(a, b), 2 * n ** 3, reps if n < 4096 else 2)
    x, linear = torch.randn(64 * 16, 512), torch.nn.Linear(512, 8000)
    peaks["linear 1024x512x8000"] = _best_gflops(lambda: linear(x), 2 * 1024 * 512 * 8000, reps)
    lstm, seq = torch.nn.LSTM(512, 512, 2, batch_first=True), torch.randn(64, 16, 512)
    peaks["lstm 2x512 b64 t16"] = _best_gflops(lambda: lstm(seq), lstm_flops(64 * 16, 512, 512, 2), reps)
    peaks.update(onednn_peaks(reps))
    return peaks


def onednn_peaks(reps: int) -> dict[str, float]:
    """oneDNN's fp32 product with prepacked weights (s2s/packed.py), at the output layer's and an LSTM layer's
    shapes: on the AMD EPYC it runs at 2-2.5x MKL's torch.mm, so a peak without it would flatter every step."""
    from s2s.packed import PackedLinear

    if not torch.backends.mkldnn.is_available():
        return {}
    peaks = {}
    for rows, k, n in ((1024, 512, 8000), (1024, 1024, 2048)):
        x, w = torch.randn(rows, k), torch.randn(n, k)
        try:
            linear = PackedLinear(w)
        except RuntimeError:  # a build without the op
            return peaks
        peaks[f"onednn linear {rows}x{k}x{n}"] = _best_gflops(lambda: linear(x), 2 * rows * k * n, reps)
    return peaks


def lstm_flops(tokens: int, emb: int, hidden: int, layers: int) -> float:
    per = sum(2 * 4 * hidden * ((emb if l == 0 else hidden) + hidden) for l in range(layers))
    return tokens * per


def forward_flops(cfg, src_len: list[int], tgt_len: list[int]) -> float:
    """Useful forward FLOPs of one batch; src_len / tgt_len: real lengths (target: predicted tokens)."""
    H, S, T = cfg.hidden, sum(src_len), sum(tgt_len)
    f = lstm_flops(S, cfg.emb, H, cfg.layers) + lstm_flops(T, cfg.emb, H, cfg.layers)
    f += T * 2 * H * cfg.tgt_vocab
    if cfg.attention != "none":
        pairs = sum(s * t for s, t in zip(src_len, tgt_len))
        f += S * 2 * H * H + pairs * 4 * H + T * 2 * 2 * H * H
        if cfg.attention == "bahdanau":
            f += T * 2 * H * H
    return f


def batch_flops(cfg, batch) -> float:
    tgt_len = (batch.tgt[:, 1:] != 0).sum(1).tolist()
    return 3 * forward_flops(cfg, batch.src_len.tolist(), tgt_len)


def random_batches(real, vocab_src: int, vocab_tgt: int, n: int, seed: int = 1):
    """Equal-length batches of random tokens, with the batch size and mean lengths of `real`."""
    from s2s.data import Example, collate

    rng = random.Random(seed)
    bs = real[0].src.size(0)
    src_l = round(statistics.mean(l for b in real for l in b.src_len.tolist()))
    tgt_l = round(statistics.mean(l for b in real for l in (b.tgt[:, 1:] != 0).sum(1).tolist()))
    out = []
    for _ in range(n):
        ex = [Example([rng.randrange(4, vocab_src) for _ in range(src_l - 1)] + [3],
                      [2] + [rng.randrange(4, vocab_tgt) for _ in range(tgt_l - 1)] + [3]) for _ in range(bs)]
        out.append(collate(ex))
    return out


def measure(trainer, cfg, batches, warmup: int) -> tuple[float, float, int]:
    """(seconds, FLOPs, target tokens) of the updates after `warmup`."""
    for b in batches[:warmup]:
        trainer._update(b, 1.0)
    seconds, flops, tokens = 0.0, 0.0, 0
    for b in batches[warmup:]:
        began = time.perf_counter()
        trainer._update(b, 1.0)
        seconds += time.perf_counter() - began
        flops += batch_flops(cfg, b)
        tokens += b.n_tokens
    return seconds, flops, tokens


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--attention", default="luong,none", help="comma-separated model kinds")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3, help="each configuration is measured this many times, interleaved")
    args = p.parse_args()

    from s2s.config import TrainConfig
    from s2s.model import Seq2Seq
    from s2s.train import Trainer
    from train_speed import load_batches

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    src_vocab, tgt_vocab = vocabs()
    real = load_batches(src_vocab, tgt_vocab, args.batch_size, seed=1)[:args.warmup + args.steps]
    rand = random_batches(real, len(src_vocab), len(tgt_vocab), args.warmup + args.steps)
    kinds = [(a, kind) for a in args.attention.split(",") for kind in ("multi30k", "random-equal-length")]
    trainers = {(a, k): Trainer(Seq2Seq(model_config(src_vocab, tgt_vocab, a)),
                                TrainConfig(batch_size=args.batch_size, device="cpu", threads=args.threads))
                for a, k in kinds}
    seen, runs = [kernel_peaks()], {key: [] for key in kinds}
    for r in range(args.rounds):  # rounds interleave the configurations, so a slow spell hits all of them
        for attention, kind in kinds:
            batches = real if kind == "multi30k" else rand
            warmup = args.warmup if r == 0 else 0  # the first round warms up; every round times the same batches
            trainer = trainers[attention, kind]
            runs[attention, kind].append(measure(trainer, trainer.model.cfg, batches[args.warmup - warmup:], warmup))
            seen.append(kernel_peaks())
    best = {name: max(p[name] for p in seen) for name in seen[0]}
    peak_kernel = max(best, key=best.get)
    peak = best[peak_kernel]
    for (attention, kind), measured in runs.items():
        gflops = sorted(flops / seconds / 1e9 for seconds, flops, _ in measured)
        seconds, flops, tokens = min(measured)  # the best round, like the best matmul for the peak
        emit({"bench": "efficiency", "system": "ours", "attention": attention, "batches": kind,
              "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds, "threads": args.threads,
              "mflop_per_target_token": round(flops / tokens / 1e6, 1), "tokens_per_sec": round(tokens / seconds, 1),
              "gflops": round(flops / seconds / 1e9, 1), "peak_gflops": round(peak, 1), "peak_kernel": peak_kernel,
              "kernel_peaks": {name: round(value, 1) for name, value in best.items()},
              "percent_of_peak": round(100 * flops / seconds / 1e9 / peak, 1),
              "percent_of_peak_median_round": round(100 * gflops[len(gflops) // 2] / peak, 1)}, args.out)


if __name__ == "__main__":
    main()
