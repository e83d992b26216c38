"""Score every shipped checkpoint with the CLI (greedy and beam 5) on its fixed test split.

    python scripts/evaluate_shipped.py [--data data/raw] [--models zh-en-classic ...]

Writes checkpoints/results.json (read by the app's bottleneck view and the README tables) and prints a Markdown table.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_SETS = {  # model prefix -> (source file, reference file, split name)
    "zh-en": ("data/tatoeba-zh-en/test.zh", "data/tatoeba-zh-en/test.en", "Tatoeba zh-en held-out test (1,187 pairs)"),
    "de-en": ("{data}/multi30k/test_2016_flickr.de", "{data}/multi30k/test_2016_flickr.en", "Multi30k test_2016_flickr"),
}
DECODING = {"greedy": ["--strategy", "greedy"], "beam5": ["--strategy", "beam", "--beam-size", "5"]}


def score(model: Path, src: str, ref: str, flags: list[str]) -> dict:
    cmd = [sys.executable, "-m", "s2s", "evaluate", "--model", str(model), "--src", src, "--ref", ref, *flags]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/raw", help="corpora folder (python scripts/fetch_data.py makes data/raw)")
    ap.add_argument("--models", nargs="*")
    args = ap.parse_args()
    results_path = ROOT / "checkpoints/results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    names = args.models or sorted(p.stem for p in (ROOT / "checkpoints").glob("*.s2s"))
    for name in names:
        src, ref, split = (s.format(data=args.data) for s in TEST_SETS[name[:5]])
        row = {"split": split}
        for label, flags in DECODING.items():
            row[label] = score(ROOT / "checkpoints" / f"{name}.s2s", src, ref, flags)
            print(f"{name} {label}: {row[label]['bleu']} BLEU", file=sys.stderr, flush=True)
        results[name] = row
        results_path.write_text(json.dumps(results, indent=1) + "\n")
    print("| model | split | BLEU greedy | BLEU beam 5 | chrF beam 5 |\n|---|---|---|---|---|")
    for name, row in sorted(results.items()):
        print(f"| {name} | {row['split']} | {row['greedy']['bleu']} | {row['beam5']['bleu']} | {row['beam5']['chrf']} |")


if __name__ == "__main__":
    main()
