"""Pick the Train tab's defaults (base model, epochs, learning rate) by measurement.

For each base model and learning rate of a small grid, fine-tune on the example kitchen corpus exactly as the Train
tab does (same split, same batch size, same trainer settings, one CPU thread) for up to the largest number of epochs,
and after the grid's epoch counts measure:
- BLEU (greedy) on the corpus's held-out part (the pairs the tab validates on), before and after;
- BLEU on held-out Tatoeba pairs (demo/examples/heldout_zh_en.tsv): how much of the original domain is forgotten;
- the time of the training so far (evaluation excluded): CPU seconds of the training thread (what one otherwise idle
  core would take: this machine is shared, so wall time depends on the neighbours), and wall seconds.

Criterion ("visibly better within about a minute"): among the settings whose training takes at most TIME_BUDGET
CPU seconds, take the highest held-out kitchen BLEU after training; settings within TIE_BLEU of it count as
equal, and the fastest of those wins. The result must also gain at least MIN_GAIN BLEU points (else the script
says no setting passes). Writes bench/results/<date>-train-defaults.json and prints a table.

    python scripts/pick_train_defaults.py [--models zh-en-classic,zh-en-attention] [--lrs 0.001,0.002,0.005]
        [--epochs 3,5,8]
    python scripts/pick_train_defaults.py --from-rows A.json[,B.json] --out OUT.json
        # merge measured rows (runs made in parallel) and re-apply the criterion
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo import models, training  # noqa: E402
from s2s.data import encode_pairs, parse_pairs  # noqa: E402
from s2s.evaluate import corpus_scores  # noqa: E402
from s2s.train import Trainer  # noqa: E402
from s2s.translator import Translator  # noqa: E402

TIME_BUDGET = 60.0  # seconds of training on this machine
TIE_BLEU = 1.0  # BLEU points within which two settings count as equally good
MIN_GAIN = 5.0  # BLEU points a default must add on the kitchen held-out pairs to be "visibly better"
BATCH_SIZE = 32  # the tab's default batch size
FORGET_PAIRS = 100  # held-out Tatoeba pairs for the forgetting measurement


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def bleu(ckpt, pairs) -> float:
    hyps = training.translate_all(Translator(ckpt), [s for s, _ in pairs])
    return round(corpus_scores(hyps, [t for _, t in pairs])["bleu"], 2)


def run(model: str, lr: float, epochs: list[int], kitchen_train, kitchen_valid, tatoeba) -> list[dict]:
    ckpt, _ = training.build_checkpoint(training.FINE_TUNE, model, kitchen_train, True, None)
    train_ex = encode_pairs(kitchen_train, ckpt.src_vocab, ckpt.tgt_vocab)
    valid_ex = encode_pairs(kitchen_valid, ckpt.src_vocab, ckpt.tgt_vocab)
    n_batches = math.ceil(len(train_ex) / BATCH_SIZE)
    cfg = training.train_config(max(epochs), lr, BATCH_SIZE, 1.0, "constant", training.MAX_SECONDS, n_batches)
    before, forget_before = bleu(ckpt, kitchen_valid), bleu(ckpt, tatoeba)
    rows, eval_wall, eval_cpu = [], 0.0, 0.0
    cpu_start = time.thread_time()  # torch runs on this thread (one intra-op thread)

    def on_event(e) -> None:
        nonlocal eval_wall, eval_cpu
        if e.kind != "epoch" or e.epoch not in epochs:
            return
        began, began_cpu = time.time(), time.thread_time()
        ckpt.model.eval()
        row = {"model": model, "lr": lr, "epochs": e.epoch,
               "train_seconds": round(began_cpu - cpu_start - eval_cpu, 1),
               "wall_seconds": round(e.elapsed - eval_wall, 1), "updates": e.step, "bleu_before": before,
               "bleu_after": bleu(ckpt, kitchen_valid),
               "tatoeba_bleu_before": forget_before, "tatoeba_bleu_after": bleu(ckpt, tatoeba)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        eval_wall += time.time() - began
        eval_cpu += time.thread_time() - began_cpu

    Trainer(ckpt.model, cfg).fit(train_ex, valid_ex, on_event)
    return rows


def choose(rows: list[dict]) -> dict | None:
    fast = [r for r in rows if r["train_seconds"] <= TIME_BUDGET and r["bleu_after"] - r["bleu_before"] >= MIN_GAIN]
    if not fast:
        return None
    best = max(r["bleu_after"] for r in fast)
    return min((r for r in fast if r["bleu_after"] >= best - TIE_BLEU), key=lambda r: r["train_seconds"])


def criterion() -> dict:
    return {"time_budget_cpu_s": TIME_BUDGET, "tie_bleu": TIE_BLEU, "min_gain_bleu": MIN_GAIN,
            "rule": "highest kitchen held-out BLEU after training among settings that train in <= time budget "
                    "(CPU seconds of one thread) and "
                    "gain >= min gain; within tie_bleu of the best, the fastest"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="zh-en-classic,zh-en-attention")
    ap.add_argument("--lrs", default="0.001,0.002,0.005")
    ap.add_argument("--epochs", default="3,5,8")
    ap.add_argument("--out", default="")
    ap.add_argument("--from-rows", default="", help="a results file of this script: choose again, train nothing")
    args = ap.parse_args()
    if args.from_rows:  # one file, or several (comma-separated, e.g. one per base model run in parallel): merged
        parts = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.from_rows.split(",")]
        report = {**parts[0], "rows": [r for part in parts for r in part["rows"]],
                  "load_average_end": parts[-1]["load_average_end"], "seconds": max(p["seconds"] for p in parts)}
        report["chosen"], report["criterion"] = choose(report["rows"]), criterion()
        out = Path(args.out or args.from_rows.split(",")[0])
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print("chosen:", json.dumps(report["chosen"]))
        return
    torch.set_num_threads(training.TRAIN_THREADS)  # as in the app (app.py)
    pairs = parse_pairs(training.EXAMPLE_CORPUS.read_bytes(), training.EXAMPLE_CORPUS.name)
    kitchen_train, kitchen_valid = training.split_corpus(pairs)
    tatoeba = models.heldout_pairs("zh-en", FORGET_PAIRS)
    epochs = sorted(int(x) for x in args.epochs.split(","))
    began, load = time.time(), Path("/proc/loadavg").read_text().split()[:3]
    rows = [r for m in args.models.split(",") for lr in args.lrs.split(",")
            for r in run(m, float(lr), epochs, kitchen_train, kitchen_valid, tatoeba)]
    chosen = choose(rows)
    report = {"date": dt.date.today().isoformat(), "cpu": cpu_model(), "threads": training.TRAIN_THREADS,
              "load_average_start": load, "load_average_end": Path("/proc/loadavg").read_text().split()[:3],
              "seconds": round(time.time() - began), "corpus": training.EXAMPLE_CORPUS.name,
              "train_pairs": len(kitchen_train), "valid_pairs": len(kitchen_valid), "batch_size": BATCH_SIZE,
              "tatoeba_pairs": len(tatoeba),
              "criterion": criterion(),
              "rows": rows, "chosen": chosen}
    out = Path(args.out or ROOT / "bench" / "results" / f"{report['date']}-train-defaults.json")
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{'model':<16} {'lr':>6} {'ep':>3} {'s':>6} {'BLEU':>13} {'Tatoeba':>13}")
    for r in rows:
        print(f"{r['model']:<16} {r['lr']:>6} {r['epochs']:>3} {r['train_seconds']:>6} "
              f"{r['bleu_before']:>5} -> {r['bleu_after']:<5} "
              f"{r['tatoeba_bleu_before']:>5} -> {r['tatoeba_bleu_after']}")
    print("chosen:", json.dumps(chosen), "->", out)


if __name__ == "__main__":
    main()
