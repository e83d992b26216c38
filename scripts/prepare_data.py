"""Make the fixed Tatoeba zh->en splits from the corpora folder (deterministic, no randomness).

The folder is data/raw, made by scripts/fetch_data.py (a download, or --from a local copy).

Pairs are grouped so that sentences connected by a shared English or Chinese side (after normalizing
traditional to simplified) always land in the same split; a group's split is decided by an MD5 hash of
its smallest English sentence: 5% test, 5% valid, 90% train.

    python scripts/prepare_data.py [--data data/raw] [--out data]
"""
import argparse
import sys
import hashlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from s2s.tokenizer import normalize  # noqa: E402


def _find(parent: dict, x: str) -> str:
    while parent.setdefault(x, x) != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def group_pairs(pairs: list[tuple[str, str]]) -> dict[str, list[int]]:
    """Union-find over English sentences and normalized Chinese sentences."""
    parent: dict[str, str] = {}
    for en, zh in pairs:
        a, b = _find(parent, "en:" + en), _find(parent, "zh:" + normalize(zh, "zh-hans"))
        parent[max(a, b)] = min(a, b)
    groups: dict[str, list[int]] = {}
    for i, (en, _) in enumerate(pairs):
        groups.setdefault(_find(parent, "en:" + en), []).append(i)
    return groups


def split_of(key: str) -> str:
    bucket = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % 100
    return "test" if bucket < 5 else "valid" if bucket < 10 else "train"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/raw", help="corpora folder (python scripts/fetch_data.py makes data/raw)")
    ap.add_argument("--out", default="data")
    args = ap.parse_args()
    rows = [line.split("\t") for line in Path(args.data, "tatoeba-cmn-eng/cmn.txt").read_text("utf-8").splitlines()]
    pairs = [(r[0].strip(), r[1].strip()) for r in rows if len(r) >= 2]
    splits: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for key, members in group_pairs(pairs).items():
        splits[split_of(key)] += members
    out = Path(args.out, "tatoeba-zh-en")
    out.mkdir(parents=True, exist_ok=True)
    for name, idx in splits.items():
        idx.sort()
        (out / f"{name}.tsv").write_text("".join(f"{pairs[i][1]}\t{pairs[i][0]}\n" for i in idx), "utf-8")
        (out / f"{name}.zh").write_text("".join(pairs[i][1] + "\n" for i in idx), "utf-8")
        (out / f"{name}.en").write_text("".join(pairs[i][0] + "\n" for i in idx), "utf-8")
        print(f"{name}: {len(idx)} pairs -> {out}/{name}.tsv")


if __name__ == "__main__":
    main()
