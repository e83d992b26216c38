"""Training on a corpus that does not fit in memory: a synthetic corpus of millions of pairs made from Multi30k
(random word drops and local shuffles on each side), `prepare` into token shards, then `train --data`.

    python bench/scale.py [--pairs 5000000] [--steps 100] [--workers 2] [--out bench/out/scale]

Measures: prepare throughput (pairs/s) and its peak memory (the process tree's summed RSS), and for `train --data`
the peak RSS, the seconds from launch to the first update, and tokens/s. Writes
bench/results/<date>-scale-<pairs>-<cpu>.json. Goals (issue 13): peak RSS of train <= 2 GB whatever the corpus size,
first update within 30 s of start."""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from common import DATA, machine  # noqa: E402


def synthesize(path: Path, pairs: int, seed: int = 1) -> None:
    """`pairs` lines of `de<TAB>en`, each a Multi30k pair with words dropped (p 0.1) and neighbours swapped."""
    src = (DATA / "train.de").read_text(encoding="utf-8").splitlines()
    tgt = (DATA / "train.en").read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed)

    def noisy(sentence: str) -> str:
        words = [w for w in sentence.split() if rng.random() > 0.1] or sentence.split()[:1]
        for i in range(len(words) - 1):
            if rng.random() < 0.1:
                words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)

    with path.open("w", encoding="utf-8") as f:
        for _ in range(pairs):
            i = rng.randrange(len(src))
            f.write(f"{noisy(src[i])}\t{noisy(tgt[i])}\n")


def tree_rss(pid: int) -> int:
    """Summed resident memory (bytes) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run_measured(cmd: list[str], log: Path) -> dict:
    """Run `cmd`, sampling the process tree's RSS every 0.2 s; note when stderr first shows update 1."""
    began = time.time()
    peak, first_step = [0], [None]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def watch_stderr():
            for line in proc.stderr:
                out.write(line)
                out.flush()
                if first_step[0] is None and re.match(r"\[step\] epoch \d+ step 1 ", line):
                    first_step[0] = time.time() - began

        reader = threading.Thread(target=watch_stderr, daemon=True)
        reader.start()
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.2)
        stdout = proc.stdout.read()
        reader.join(timeout=5)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}); see {log}")
    return {"seconds": round(time.time() - began, 1), "peak_rss_mb": round(peak[0] / 2**20),
            "first_step_seconds": None if first_step[0] is None else round(first_step[0], 1), "stdout": stdout}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5_000_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/scale")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = args.out / f"synthetic-{args.pairs}.tsv"
    if not corpus.exists():
        began = time.time()
        synthesize(corpus.with_suffix(".tmp"), args.pairs)
        corpus.with_suffix(".tmp").replace(corpus)
        print(f"synthesized {args.pairs} pairs in {time.time() - began:.0f} s ({corpus.stat().st_size / 2**20:.0f} MiB)",
              flush=True)
    shards = args.out / f"shards-{args.pairs}"
    prep = run_measured([sys.executable, "-m", "s2s", "prepare", "--train", str(corpus), "--out", str(shards),
                         "--vocab-size", "8000", "--joint-vocab", "--workers", str(args.workers)],
                        args.out / "prepare.log")
    report = json.loads(prep.pop("stdout").strip().splitlines()[-1])
    print(f"prepare: {report}; peak RSS {prep['peak_rss_mb']} MB", flush=True)
    model = args.out / "model.s2s"
    for stale in (model, model.with_name("model.last.s2s"), model.with_suffix(".metrics.jsonl")):
        stale.unlink(missing_ok=True)
    train = run_measured([sys.executable, "-m", "s2s", "train", "--data", str(shards), "--out", str(model),
                          "--max-steps", str(args.steps), "--threads", str(args.threads), "--batch-size", "64",
                          "--emb", "256", "--hidden", "512", "--layers", "2", "--attention", "luong",
                          "--tie-embeddings", "--patience", "0"], args.out / "train.log")
    train.pop("stdout")
    rows = [json.loads(x) for x in model.with_suffix(".metrics.jsonl").read_text().splitlines()]
    train["tokens_per_sec"] = round(max(r["tokens_per_sec"] for r in rows if r["kind"] == "step"))
    print(f"train --data: {train}", flush=True)
    result = {"date": time.strftime("%Y-%m-%d"), **machine(), "load_average_at_end": os.getloadavg(),
              "pairs": args.pairs, "corpus_mib": round(corpus.stat().st_size / 2**20),
              "shards_mib": round(sum(p.stat().st_size for p in shards.iterdir()) / 2**20),
              "prepare": {**prep, "pairs_per_sec": report["pairs_per_sec"], "workers": args.workers,
                          "pairs_written": report["pairs"]},
              "train": {**train, "steps": args.steps, "threads": args.threads}}
    slug = re.sub(r"[^a-z0-9]+", "-", result["cpu"].lower()).strip("-")
    path = ROOT / "bench/results" / f"{result['date']}-scale-{args.pairs}-{slug}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
