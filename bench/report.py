"""Markdown table of one benchmark run: ours, JoeyNMT, ratio, goal, machine, command.

    python bench/report.py bench/out/results.jsonl
"""
from __future__ import annotations

import json
import sys


def load(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pick(rows, **kw) -> dict | None:
    found = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    return found[-1] if found else None


TRAIN_GOAL = 3.0  # × JoeyNMT's target tokens/s (issue 13; the first round asked 1.5×)
EFFICIENCY_GOAL = 55  # % of the best kernel's GFLOP/s, real batches (issue 13)
LATENCY_GOAL_MS = 25  # one sentence at 1 thread with the app's decoding kernel (issue 13)


def machine(r: dict | None) -> str:
    if not r:
        return ""
    m = r["machine"]
    kind = f" (family {m['family']}, model {m['model']})" if "family" in m else ""
    return f"{m['nproc']} × {m['cpu']}{kind}, torch {m['torch']}, load {m['loadavg']}"


def cmd(*rows) -> str:
    return "<br>".join(f"`{r['command']}`" for r in rows if r)


def fmt(x, unit="") -> str:
    return "–" if x is None else f"{x:,.1f}{unit}" if isinstance(x, float) else f"{x}{unit}"


def ratio_row(name, ours, joey, key, goal, extra=None) -> list[str]:
    o = ours.get(key) if ours else None
    j = joey.get(key) if joey else None
    r = o / j if o and j else None
    ok = "" if r is None else (" ✅" if r >= goal else " ❌")
    e = extra or (lambda row: "")
    return [name, fmt(o) + e(ours), fmt(j) + e(joey), "–" if r is None else f"{r:.2f}×{ok}", f"≥ {goal}×",
            machine(ours or joey), cmd(ours, joey)]


def rows_for(rows: list[dict]) -> list[list[str]]:
    out = []
    length = lambda r: (f" (avg {r['avg_output_pieces']} pieces out, "  # noqa: E731
                        f"{r.get('output_pieces_per_sec', '?')} pieces/s)") if r else ""
    gpu = [r for r in rows if r.get("device", "cpu") != "cpu"]  # GPU rows are shown apart
    controlled = [r for r in rows if r.get("fixed_len")]  # length-controlled decoding, shown apart
    rows = [r for r in rows if r.get("device", "cpu") == "cpu" and not r.get("fixed_len")]
    ours_att = next((r for r in rows if r["bench"] == "train_speed" and r["system"] == "ours"
                     and r["attention"] != "none"), None)
    joey = pick(rows, bench="train_speed", system="joeynmt", variant="matched")
    out.append(ratio_row(f"training, target tokens/s, attention ({ours_att and ours_att['attention']} vs "
                         "JoeyNMT luong, same shapes)", ours_att, joey, "tokens_per_sec", TRAIN_GOAL))
    joey_def = pick(rows, bench="train_speed", system="joeynmt", variant="default")
    if joey_def:
        out.append(ratio_row("training, tokens/s vs JoeyNMT default recipe (bi-512, Bahdanau, input feeding)",
                             ours_att, joey_def, "tokens_per_sec", TRAIN_GOAL))
    classic = pick(rows, bench="train_speed", system="ours", attention="none")
    if classic:
        out.append(["training, target tokens/s, classic (no attention; ours alone)", fmt(classic["tokens_per_sec"]),
                    "–", "–", "–", machine(classic), cmd(classic)])
    for strategy, beam in (("greedy", 1), ("beam", 5)):
        joey_d = pick(rows, bench="decode_speed", system="joeynmt", beam_size=beam)
        bs = joey_d["batch_size"] if joey_d else 64
        ours_d = pick(rows, bench="decode_speed", system="ours", strategy=strategy, batch_size=bs, record_top=0,
                      attention=ours_att["attention"] if ours_att else "luong")
        out.append(ratio_row(f"decoding, sentences/s, {strategy}{' 5' if beam > 1 else ''}, batch {bs}",
                             ours_d, joey_d, "sentences_per_sec", 2.0, length))
        ours_all = [r for r in rows if r["bench"] == "decode_speed" and r["system"] == "ours"
                    and r["strategy"] == strategy and r["attention"] != "none"
                    and r.get("record_top") == 0]
        if len(ours_all) > 1:
            best = max(ours_all, key=lambda r: r["sentences_per_sec"])
            out.append(ratio_row(f"decoding, {strategy}, ours at its fastest batch ({best['batch_size']})",
                                 best, joey_d, "sentences_per_sec", 2.0, length))
        ours_r = pick(rows, bench="decode_speed", system="ours", strategy=strategy, batch_size=bs, record_top=10)
        if ours_r:
            out.append(ratio_row(f"decoding, {strategy}, ours with the UI's per-step records (top-10, entropy, "
                                 f"attention{', beam tree' if beam > 1 else ''})", ours_r, joey_d,
                                 "sentences_per_sec", 2.0, length))
        ours_c = pick(rows, bench="decode_speed", system="ours", strategy=strategy, attention="none")
        if ours_c:
            out.append([f"decoding, sentences/s, {strategy}, classic (ours alone), batch {ours_c['batch_size']}",
                        fmt(ours_c["sentences_per_sec"]) + length(ours_c), "–", "–", "–", machine(ours_c), cmd(ours_c)])
    for strategy, beam in (("greedy", 1), ("beam", 5)):
        ours_f = pick(controlled, system="ours", strategy=strategy)
        joey_f = pick(controlled, system="joeynmt", beam_size=beam)
        if ours_f or joey_f:
            n = (ours_f or joey_f)["fixed_len"]
            out.append(ratio_row(f"decoding, length-controlled: every output {n} pieces, output pieces/s, "
                                 f"{strategy}{' 5' if beam > 1 else ''}", ours_f, joey_f, "output_pieces_per_sec",
                                 2.0))
    for lat in (r for r in rows if r["bench"] == "latency" and not r.get("profiled")):
        ok = " ✅" if lat["median_ms"] <= 50 else " ❌"
        out.append([f"interactive latency, beam 5 + all UI records, {len(lat['source'].split())}-word sentence, "
                    f"{lat['output_steps']} output steps, {lat['threads']} thread(s)",
                    f"median {lat['median_ms']} ms{ok}, p95 {lat['p95_ms']} ms",
                    "–", "–", "median ≤ 50 ms", machine(lat), cmd(lat)])
    for r in gpu:
        out.append([f"training on {r['device']} ({r.get('precision', 'fp16')}), target tokens/s, {r['system']}, "
                    f"{r.get('attention', '')}", fmt(r["tokens_per_sec"]), "–", "–", "–", machine(r), cmd(r)])
    for r in rows:
        if r["bench"] == "efficiency":
            ok = " ✅" if r["percent_of_peak"] >= EFFICIENCY_GOAL else " ❌"
            out.append([f"training-step efficiency, {r['attention']}, {r['batches']} batches of {r['batch_size']}",
                        f"{r['percent_of_peak']}% of {peak_of(r)} ({r['gflops']} GFLOP/s){ok}",
                        "–", "–", f"≥ {EFFICIENCY_GOAL}%", machine(r), cmd(r)])
    out += bf16_training_rows(rows, joey) + decoding_kernel_rows(rows)
    return out


def bf16_training_rows(rows: list[dict], joey: dict | None) -> list[list[str]]:
    """bench/bf16_train.py: bf16 autocast against fp32 in one process, and (for scale) against JoeyNMT's fp32."""
    r = pick(rows, bench="bf16_train")
    if not r:
        return []
    bf16 = r["bf16"]
    if not bf16["autocast"]:
        return [["training with --precision bf16", "fp32 (no native bf16 on this CPU)", "–", "–", "–", machine(r),
                 cmd(r)]]
    fp32 = r["fp32"]
    ok = " ✅" if r["bleu_change"] >= -0.5 and r["speedup"] > 1 else " ❌"
    out = [[f"training with --precision bf16 vs fp32, same batches, {r['steps']} updates each",
            f"{fmt(bf16['tokens_per_sec'])} vs {fmt(fp32['tokens_per_sec'])} tokens/s ({r['speedup']}×); "
            f"validation BLEU {bf16['bleu']} vs {fp32['bleu']} ({r['bleu_change']:+}){ok}", "–", "–",
            "faster, BLEU ≥ fp32 − 0.5", machine(r), cmd(r)]]
    if joey:
        ratio = bf16["tokens_per_sec"] / joey["tokens_per_sec"]
        out.append(["training, ours with bf16 autocast vs JoeyNMT in fp32 (it has no CPU bf16): for scale, not the "
                    "fp32 goal", fmt(bf16["tokens_per_sec"]), fmt(joey["tokens_per_sec"]), f"{ratio:.2f}×", "–",
                    machine(r), cmd(r, joey)])
    return out


def native_bf16(r: dict) -> bool:
    """Whether the row's CPU has native bf16, so that bf16 decoding ran in bf16 (older rows: no flags, assumed)."""
    return bool(r["machine"].get("bf16", True))


def app_precision(r: dict) -> str:
    """What the app decoded with on the row's CPU (older rows, before fp16: bf16 where native, else fp32)."""
    return r.get("app") or ("bf16" if native_bf16(r) else "fp32")


def ran_as_asked(r: dict, k: str) -> bool:
    """Whether `--precision k` ran as k on the row's CPU (not fp32 in its place)."""
    if "resolved" in r:
        return r["resolved"].get(k) == k
    return k != "bf16" or native_bf16(r)


FALLBACK = {"bf16": "no native bf16", "fp16": "no fp16-weight product"}
KERNEL_COLUMNS = ("plain", "fp32", "fp16", "bf16", "int8")


def decoding_kernel_rows(rows: list[dict]) -> list[list[str]]:
    """bench/quantized.py: one sentence's latency per kernel, and each kernel's BLEU and agreement with fp32."""
    out = []
    for r in (r for r in rows if r["bench"] == "quantized_latency"):
        app = app_precision(r)
        ok = " ✅" if r[app]["median_ms"] <= LATENCY_GOAL_MS else " ❌"
        times = " → ".join(f"{k} {r[k]['median_ms']}" for k in KERNEL_COLUMNS if k in r)
        out.append([f"one sentence, beam 5 + all UI records, {r['model']}, {r['threads']} thread(s), median ms",
                    f"{times}; the app's ({app}): {r[app]['median_ms']} / p95 {r[app]['p95_ms']}{ok}", "–", "–",
                    f"≤ {LATENCY_GOAL_MS} ms", machine(r), cmd(r)])
    for r in (r for r in rows if r["bench"] == "quantized_quality"):
        cells = []
        for k in (k for k in ("fp16", "bf16", "int8") if k in r):
            if not ran_as_asked(r, k):
                cells.append(f"{k}: runs fp32 here ({FALLBACK[k]})")
                continue
            good = r[k]["bleu_change"] >= -0.3 and r[k]["same_tokens"] >= 0.95
            cells.append(f"{k}: BLEU {r[k]['bleu']} ({r[k]['bleu_change']:+}), same tokens "
                         f"{100 * r[k]['same_tokens']:.1f}%{' ✅' if good else ' ❌'}")
        out.append([f"decoding kernels vs fp32, {r['model']}, {r['strategy']}, {r['sentences']} test sentences "
                    f"(fp32 BLEU {r['plain']['bleu']})", "; ".join(cells), "–", "–",
                    "BLEU within 0.3, same tokens ≥ 95%", machine(r), cmd(r)])
    return out


def peak_of(r: dict) -> str:
    """The peak a row is measured against: the fastest reference kernel (older rows: the best 2048^2 mm)."""
    if "peak_gflops" in r:
        return f"{r['peak_gflops']} GFLOP/s ({r['peak_kernel']})"
    return f"{r['matmul_peak_gflops']} GFLOP/s (mm 2048)"


def main() -> None:
    rows = load(sys.argv[1] if len(sys.argv) > 1 else "bench/out/results.jsonl")
    head = ["benchmark", "ours", "JoeyNMT 2.3.0", "ratio", "goal", "machine", "command"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows_for(rows):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
